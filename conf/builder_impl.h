// Internal to the ConfigBuilder: the walker's state, shared by the files that
// handle each family of statements (declarations, options, failover,
// expressions). Not for use outside conf/.
#ifndef TANDEM_CONF_BUILDER_IMPL_H
#define TANDEM_CONF_BUILDER_IMPL_H

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/diag.h"
#include "conf/ast.h"
#include "conf/config.h"

namespace tandem::conf {

/// What kind of expression a context wants, or what one yields (dhcp-eval(5)).
enum class ExprType { Boolean, Data, Numeric, Any };

class Builder {
public:
    explicit Builder(common::DiagnosticSink& sink);
    std::shared_ptr<Config> build(const StmtList& statements);

    // ---- the context a statement is read in
    enum class Ctx { Root, Group, SharedNetwork, Subnet, Pool, Host, Class, Subclass,
                     Conditional, Switch, Event, Key, Zone, FailoverPeer, FailoverState };
    static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
    struct Frame {
        Ctx ctx = Ctx::Root;
        ScopePtr scope;
        const Frame* outer = nullptr;
        std::size_t net = kNone, subnet = kNone, pool = kNone, host = kNone, cls = kNone;
        std::string failoverPeer;  ///< inherited from a shared-network's `failover peer`
        bool inSwitch = false;     ///< a conditional nested in a switch still takes `case`
    };

    // declarations.cc
    void statements(const StmtList& list, Frame& f);
    void statement(const Stmt& s, Frame& f);
    void simple(const Stmt& s, Frame& f);
    void block(const Stmt& s, Frame& f);
    void subnet(const Stmt& s, Frame& f);
    void sharedNetwork(const Stmt& s, Frame& f);
    void pool(const Stmt& s, Frame& f);
    void host(const Stmt& s, Frame& f);
    void group(const Stmt& s, Frame& f);
    void classDecl(const Stmt& s, Frame& f);
    void subclassDecl(const Stmt& s, Frame& f, const Atom* explicitClass);
    void keyDecl(const Stmt& s, Frame& f);
    void zoneDecl(const Stmt& s, Frame& f);
    void range(const Stmt& s, Frame& f);
    void permit(const Stmt& s, Frame& f);
    void allowDeny(const Stmt& s, Frame& f);
    void hardware(const Stmt& s, Frame& f);
    void fixedAddress(const Stmt& s, Frame& f);
    void interfaceStmt(const Stmt& s, Frame& f);
    void serverDuid(const Stmt& s, Frame& f);
    void metricsListen(const Stmt& s, Frame& f);  // parameters.cc; Tandem only
    void parameter(const Stmt& s, Frame& f);
    void executable(const Stmt& s, Frame& f);
    void finish();

    // options.cc
    void optionStatement(const Stmt& s, Frame& f);
    void optionSpace(const Stmt& s, Frame& f);
    void optionDefinition(const Stmt& s, Frame& f);
    const common::OptionDef* resolveOption(const Atom& name, std::string& space, bool report);
    std::optional<std::string> readType(const Atoms& atoms, std::size_t& pos, bool inRecord, bool inArray);

    // failover.cc
    void failoverBlock(const Stmt& s, Frame& f);
    void failoverPeer(const Stmt& s, const Atom& name);
    void failoverState(const Stmt& s, const Atom& name);
    void failoverReference(const Stmt& s, Frame& f);
    void checkFailoverPeers();

    // expressions.cc
    std::optional<ExprType> checkExpr(const Expr& e);
    bool expectExpr(const Expr& e, ExprType want);

    // helpers
    void error(const Location& where, std::string message) { sink_.error(where, std::move(message)); }
    void warning(const Location& where, std::string message) { sink_.warning(where, std::move(message)); }
    void unsupported(const Location& where, const std::string& what);
    const Location& endOf(const Stmt& s) const;
    std::optional<AddressRef> address(const Atom& a, const char* what);
    std::optional<uint32_t> number(const Stmt& s, std::size_t index, uint64_t max, const char* what);
    bool expectAtoms(const Stmt& s, std::size_t count, const char* what);
    ScopePtr childScope(const Frame& f, const char* kind, const Location& where);
    /// The frame for the body of a declaration of kind `ctx` written in `f`.
    static Frame enter(const Frame& f, Ctx ctx, ScopePtr scope) {
        Frame inner = f;
        inner.outer = &f;
        inner.ctx = ctx;
        inner.scope = std::move(scope);
        return inner;
    }
    bool insideNetwork(const Frame& f) const;
    SharedNetwork* net(const Frame& f);

    common::DiagnosticSink& sink_;
    std::shared_ptr<Config> config_;
    std::deque<SharedNetwork> nets_;
    std::deque<Host> hosts_;
    std::deque<Class> classes_;
    std::map<std::string, std::size_t> classIndex_;  ///< lower-case name -> index
    struct KeyRef {
        std::string name;
        Location where;
    };
    std::vector<KeyRef> omapiKeys_;
    std::map<std::string, bool> peerReferenced_;
};

const char* exprTypeName(ExprType t);

/// `metrics-listen` must be written in the file tandemd was started with, not in
/// one it includes (parameters.cc; loadConfig and loadConfigText call it).
void checkMetricsListenFile(const Config& config, const std::string& mainFile, common::DiagnosticSink& sink);

// Small helpers shared by the builder's files.
inline const char* ctxName(Builder::Ctx c) {
    switch (c) {
        case Builder::Ctx::Root: return "the top level";
        case Builder::Ctx::Group: return "a group";
        case Builder::Ctx::SharedNetwork: return "a shared-network";
        case Builder::Ctx::Subnet: return "a subnet";
        case Builder::Ctx::Pool: return "a pool";
        case Builder::Ctx::Host: return "a host";
        case Builder::Ctx::Class: return "a class";
        case Builder::Ctx::Subclass: return "a subclass";
        case Builder::Ctx::Conditional: return "a conditional";
        case Builder::Ctx::Switch: return "a switch";
        case Builder::Ctx::Event: return "an event block";
        case Builder::Ctx::Key: return "a key";
        case Builder::Ctx::Zone: return "a zone";
        case Builder::Ctx::FailoverPeer: return "a failover peer";
        case Builder::Ctx::FailoverState: return "a failover peer state";
    }
    return "this scope";
}

inline bool isClassLike(Builder::Ctx c) { return c == Builder::Ctx::Class || c == Builder::Ctx::Subclass; }

/// The atom right after the last one of a statement, for "missing X" errors.
inline std::string describe(const Atom& a) {
    switch (a.kind) {
        case Atom::Kind::String: return "\"" + a.text + "\"";
        case Atom::Kind::Comma: return "','";
        default: return a.text;
    }
}


}  // namespace tandem::conf

#endif
