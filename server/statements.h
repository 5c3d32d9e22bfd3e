// Execution of dhcpd.conf's executable statements (ISC dhcpd 4.4's
// common/execute.c): if/elsif/else, switch/case/default with C-like fall-through
// and `break`, set/unset/define on the lease's binding scope, log, execute,
// `add "class"`, `on commit/release/expiry`, and the option and parameter
// statements written inside those bodies. Running a statement list produces a
// plain ExecResult: what the caller must apply (option actions in order,
// variable changes, programs to run, classes to add, event handlers to attach).
//
// It must not fork, exec, write files or touch the network: `execute` only
// reports the program and its evaluated arguments; `log` is the only output,
// through common/log.h. Option values are not assembled here either (the
// option assembler applies the actions); Executor::value gives an action's
// bytes on demand, as ISC evaluates an option cache when it builds the reply.
//
// Usage: see server/eval.h. In short, one Executor per Config:
//     server::Executor ex(evaluator);
//     server::ExecResult r;                       // seeded from ctx.bindings or ctx.lease
//     ex.runScope(*subnet.scope, ctx, r);         // each scope, outermost first
//     for (const auto& a : r.options) { auto bytes = ex.value(a, ctx); ... }
#ifndef TANDEM_SERVER_STATEMENTS_H
#define TANDEM_SERVER_STATEMENTS_H

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/eval.h"

namespace tandem::server {

/// How an option statement combines with what outer scopes set (dhcpd.conf(5)).
/// `option` inside a scope is ISC's supersede.
enum class OptionVerb { Supersede, Default, Prepend, Append, Send };

/// @brief One option (or server parameter, space "server") statement that ran.
/// Its pointers lead into the Config, the Executor and (for statements from elsewhere)
/// the ExecResult: valid while those live.
struct OptionAction {
    OptionVerb verb = OptionVerb::Supersede;
    const common::OptionDef* def = nullptr;        ///< space, name, code and format, from config().options
    const common::TypedValue* constant = nullptr;  ///< a written value, typed once (may hold hostnames)
    const conf::Expr* expr = nullptr;              ///< `= expression`: evaluated by Executor::value
    bool fromStatement = true;  ///< false for a scope's plain settings (runScope with includeSettings)
    common::Location where;
};

/// @brief A `set`, `define` or `unset` that ran. A set whose value is null removes the binding.
struct VariableChange {
    enum class Kind { Set, Unset };
    Kind kind = Kind::Set;
    std::string name;
    Value value;
    common::Location where;
};

/// @brief `execute("program", args...)`: for the caller to run (ISC waits for it).
struct ExecRequest {
    std::string program;
    std::vector<std::string> args;  ///< evaluated arguments, argv[1..]
    common::Location where;
};

/// @brief The `on` handlers set by the statements: untouched (nothing), cleared
/// (nullptr, from `on commit;` or an empty body) or the statements to attach to the lease.
struct LeaseEvents {
    std::optional<const conf::StmtList*> commit, release, expiry;
};

struct ExecResult {
    std::vector<OptionAction> options;  ///< in execution order; apply in this order
    Bindings bindings;                  ///< the working variable set, as it stands after the statements
    bool seeded = false;                ///< bindings were copied from the context on first use
    std::vector<VariableChange> changes;
    std::vector<ExecRequest> executes;
    std::vector<const conf::Class*> addedClasses;  ///< `add "C"`, for the caller's class list
    LeaseEvents events;
    bool fatal = false;  ///< `log(fatal, ...)` ran: ISC exits after logging; the caller decides
    std::size_t logged = 0;  ///< log statements that produced a message
    /// Values typed for statements from outside the Executor's Config (actions point here;
    /// a deque, so moving the result keeps them valid; do not copy a result that has them).
    std::deque<common::TypedValue> ownedValues;

    void clear();
};

class Executor {
public:
    /// @brief Types every option and parameter statement of the Config's statement
    /// bodies once (against config().options), so running them allocates no typing work.
    explicit Executor(const Evaluator& evaluator);
    ~Executor();
    Executor(const Executor&) = delete;
    Executor& operator=(const Executor&) = delete;

    /// @brief Run a statement list (a scope's statements, an `on` body, ...).
    /// Variables are read from and written to out.bindings (seeded from ctx.bindings,
    /// else from ctx.lease, the first time).
    void run(const conf::StmtList& list, const EvalContext& ctx, ExecResult& out) const;

    /// @brief Run a scope's statements. With includeSettings, its plain option and
    /// parameter settings are emitted as actions too, interleaved with the statements in
    /// source order as ISC executes them (a `break` then also skips the later settings).
    void runScope(const conf::Scope& scope, const EvalContext& ctx, ExecResult& out,
                  bool includeSettings = false) const;

    /// @brief The bytes of an action's value now (hostnames from ctx.names; nothing when null,
    /// which for supersede means "no such option", as in ISC).
    std::optional<std::vector<uint8_t>> value(const OptionAction& a, const EvalContext& ctx) const;

    const Evaluator& evaluator() const { return ev_; }

private:
    struct Impl;
    const Evaluator& ev_;
    std::unique_ptr<Impl> impl_;
};

/// @brief The verb of an OptionSetting ("option", "supersede", ...).
OptionVerb optionVerb(const std::string& verb);

}  // namespace tandem::server

#endif
