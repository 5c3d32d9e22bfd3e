// The syntax tree the parser builds from dhcpd.conf text. It mirrors what was
// written, with a location on every node, and gives nothing a meaning: the
// ConfigBuilder types values, checks scopes and builds the Config model. Keeping
// the grammar this thin lets one parser serve ISC's many statement forms, and
// puts every semantic check (and its message) in one place.
#ifndef TANDEM_CONF_AST_H
#define TANDEM_CONF_AST_H

#include <memory>
#include <string>
#include <vector>

#include "common/atom.h"
#include "common/diag.h"

namespace tandem::conf {

using common::Atom;
using common::Atoms;
using common::Location;

struct Expr;
using ExprPtr = std::shared_ptr<Expr>;
using ExprList = std::vector<ExprPtr>;

/// @brief An expression of dhcp-eval(5), untyped; the builder checks its kind.
struct Expr {
    enum class Kind {
        String,        ///< "text" (text = decoded bytes)
        Word,          ///< 42, aa:bb:cc, a variable or a nullary function (hardware, known, ...)
        Option,        ///< option NAME
        ConfigOption,  ///< config-option NAME
        Exists,        ///< exists NAME
        Check,         ///< check "collection"
        Call,          ///< NAME(args)
        Not,           ///< not E
        And,
        Or,
        Equal,       ///< =
        NotEqual,    ///< !=
        RegexMatch,  ///< ~=
        RegexIMatch, ///< ~~
        Arith,       ///< + - * / % & | ^ (op holds the character)
    };
    Kind kind = Kind::Word;
    std::string text;  ///< literal text, option or function name
    char op = 0;
    ExprList args;
    Location where;
    int depth = 1;  ///< height of this tree; bounded so hostile input cannot exhaust the stack
};

struct Stmt;
using StmtPtr = std::shared_ptr<Stmt>;
using StmtList = std::vector<StmtPtr>;

/// @brief One statement or declaration as written.
struct Stmt {
    enum class Kind {
        Simple,      ///< WORD atoms ;               (parameters: range, hardware, allow, ...)
        Block,       ///< WORD atoms { body }        (subnet, pool, host, group, class, ...)
        Option,      ///< VERB NAME atoms ;          (verb: option supersede default prepend append send)
        OptionExpr,  ///< VERB NAME = expr ;
        ParamExpr,   ///< NAME = expr ;              (a server parameter given by an expression)
        If,          ///< if expr { body } [elsif ... | else { elseBody }]
        Switch,      ///< switch (expr) { body }
        Case,        ///< case expr :
        Default,     ///< default :
        On,          ///< on EVENT [or EVENT ...] { body } | ;   (events in atoms)
        Match,       ///< match expr ;
        MatchIf,     ///< match if expr ;
        Spawn,       ///< spawn with expr ;
        Set,         ///< set NAME = expr ;
        Unset,       ///< unset NAME ;
        Define,      ///< define NAME = expr ;   (ISC's `define` of a variable)
        Eval,        ///< eval expr ;
        Log,         ///< log (args) ;
        Execute,     ///< execute (args) ;
        Return,      ///< return expr ;
        NotWord,     ///< not WORD ;    (`not authoritative;`)
        NoFailover,  ///< no failover peer   (ISC takes no `;` after it)
        Directive,   ///< % ... ;       (a keama status directive that dhcpd skips)
    };
    Kind kind = Kind::Simple;
    Atom head;        ///< the leading word (Simple, Block, NotWord), or the option name, or the variable
    std::string verb; ///< option verbs
    Atoms atoms;      ///< what follows the head, up to ';' or '{'
    ExprPtr expr;
    ExprList args;
    StmtList body;
    StmtList elseBody;
    Location where;   ///< where the statement starts
    Location bodyEnd; ///< the closing brace of a block
    int depth = 1;    ///< nesting height (blocks, else-if chains), bounded like Expr::depth
};

/// Deeper trees than this are refused: no real configuration comes close, and the
/// recursive passes over the tree must not be driven into a stack overflow.
constexpr int kMaxNesting = 200;

}  // namespace tandem::conf

#endif
