// Executable statements with ISC dhcpd 4.4's semantics (common/execute.c).
#include "server/statements.h"

#include <algorithm>
#include <unordered_map>

#include "common/log.h"
#include "common/option_value.h"
#include "conf/words.h"

namespace tandem::server {

void ExecResult::clear() {
    options.clear();
    bindings.vars.clear();
    seeded = false;
    changes.clear();
    executes.clear();
    addedClasses.clear();
    events = LeaseEvents{};
    fatal = false;
    logged = 0;
    ownedValues.clear();
}

OptionVerb optionVerb(const std::string& verb) {
    if (common::iequal(verb, "default")) return OptionVerb::Default;
    if (common::iequal(verb, "prepend")) return OptionVerb::Prepend;
    if (common::iequal(verb, "append")) return OptionVerb::Append;
    if (common::iequal(verb, "send")) return OptionVerb::Send;
    return OptionVerb::Supersede;  // `option` and `supersede`
}

namespace {

using SK = conf::Stmt::Kind;

/// An option or parameter statement of a body, typed once.
struct Typed {
    const common::OptionDef* def = nullptr;
    common::TypedValue value;
    const conf::Expr* expr = nullptr;
    OptionVerb verb = OptionVerb::Supersede;
    bool usable = false;
};

/// allow/deny/ignore outside pools set these server flags (ISC: allow 1, deny 0, ignore 2).
const char* allowDenyParameter(const std::string& word) {
    struct Flag {
        const char* word;
        const char* param;
    };
    static const Flag kFlags[] = {
        {"unknown-clients", "boot-unknown-clients"}, {"bootp", "allow-bootp"},
        {"booting", "allow-booting"},                {"duplicates", "duplicates"},
        {"declines", "declines"},                    {"client-updates", "client-updates"},
        {"leasequery", "leasequery"},
    };
    for (const auto& f : kFlags)
        if (common::iequal(word, f.word)) return f.param;
    return nullptr;
}

}  // namespace

struct Executor::Impl {
    const Evaluator& ev;
    const conf::Config& cfg;
    int maxDepth = 256;
    /// The Config's option and parameter statements, typed at construction. Statements
    /// from elsewhere are typed each time they run and never cached: their address
    /// could be reused by another statement once they are freed.
    std::unordered_map<const conf::Stmt*, Typed> typed;

    explicit Impl(const Evaluator& e) : ev(e), cfg(e.config()) {}

    Typed typeStatement(const conf::Stmt& s) const {
        Typed t;
        auto typeAtoms = [&](const common::OptionDef* def, const common::Atoms& atoms) {
            if (!def) return;
            t.def = def;
            auto r = common::typeValue(cfg.options, *def, atoms);
            if (auto* v = std::get_if<common::TypedValue>(&r)) {
                t.value = std::move(*v);
                t.usable = true;
            }
        };
        auto resolve = [&](const std::string& fullName) -> const common::OptionDef* {
            auto dot = fullName.find('.');
            if (dot == std::string::npos) return cfg.options.find("dhcp", fullName);
            return cfg.options.find(fullName.substr(0, dot), fullName.substr(dot + 1));
        };
        switch (s.kind) {
            case SK::Option: {
                for (const auto& a : s.atoms)
                    if (a.kind == common::Atom::Kind::Punct && a.text == "=") return t;  // a definition
                t.verb = optionVerb(s.verb);
                typeAtoms(resolve(s.head.text), s.atoms);
                return t;
            }
            case SK::OptionExpr:
                t.verb = optionVerb(s.verb);
                t.def = resolve(s.head.text);
                t.expr = s.expr.get();
                t.usable = t.def && t.expr;
                return t;
            case SK::ParamExpr:
                t.def = cfg.options.find("server", s.head.text);
                t.expr = s.expr.get();
                t.usable = t.def && t.expr;
                return t;
            case SK::NotWord:
                if (common::iequal(s.head.text, "authoritative")) {
                    t.def = cfg.options.find("server", "authoritative");
                    t.value.wire = {0};
                    t.usable = t.def != nullptr;
                }
                return t;
            case SK::Simple: {
                const std::string& w = s.head.text;
                if (common::iequal(w, "allow") || common::iequal(w, "deny") || common::iequal(w, "ignore")) {
                    const char* p = s.atoms.size() == 1 ? allowDenyParameter(s.atoms[0].text) : nullptr;
                    if (!p) return t;
                    t.def = cfg.options.find("server", p);
                    t.value.wire = {static_cast<uint8_t>(common::iequal(w, "allow") ? 1 : common::iequal(w, "deny") ? 0 : 2)};
                    t.usable = t.def != nullptr;
                    return t;
                }
                if (common::iequal(w, "server-identifier")) {
                    typeAtoms(cfg.options.find("dhcp", "dhcp-server-identifier"), s.atoms);
                    return t;
                }
                // Any other word with a server-space definition is a parameter (ISC
                // makes it `supersede server.NAME`). Declarations are not.
                typeAtoms(cfg.options.find("server", w), s.atoms);
                return t;
            }
            default:
                return t;
        }
    }

    void typeAll(const conf::StmtList& list, int depth) {
        if (depth > maxDepth) return;
        for (const auto& s : list) {
            if (!s) continue;
            switch (s->kind) {
                case SK::Option: case SK::OptionExpr: case SK::ParamExpr: case SK::NotWord: case SK::Simple:
                    typed.emplace(s.get(), typeStatement(*s));
                    break;
                default:
                    break;
            }
            typeAll(s->body, depth + 1);
            typeAll(s->elseBody, depth + 1);
        }
    }

    void typeScope(const conf::ScopePtr& s) {
        if (s) typeAll(s->statements, 1);
    }


    // ---------------------------------------------------------- running

    enum class Flow { Next, Break };

    static void seed(const EvalContext& ctx, ExecResult& out) {
        if (out.seeded) return;
        out.bindings = ctx.bindings ? *ctx.bindings : Bindings::fromLease(ctx.lease);
        out.seeded = true;
    }

    void option(const conf::Stmt& s, ExecResult& out) const {
        auto it = typed.find(&s);
        Typed foreign;
        if (it == typed.end()) foreign = typeStatement(s);
        const Typed& t = it != typed.end() ? it->second : foreign;
        if (!t.usable) return;  // conf reported it; nothing to apply
        OptionAction a;
        a.verb = t.verb;
        a.def = t.def;
        if (!t.expr) {
            if (it != typed.end()) {
                a.constant = &t.value;
            } else {
                out.ownedValues.push_back(std::move(foreign.value));
                a.constant = &out.ownedValues.back();
            }
        }
        a.expr = t.expr;
        a.where = s.where;
        out.options.push_back(a);
    }

    void log(const conf::Stmt& s, const EvalContext& ctx, ExecResult& out) const {
        if (s.args.empty() || !s.args.back()) return;
        // ISC's default priority, when none is written, is debug.
        std::string prio = s.args.size() == 2 && s.args[0] ? s.args[0]->text : "debug";
        std::string msg;
        if (!ev.evalDataInto(*s.args.back(), ctx, msg)) return;  // a null message logs nothing
        ++out.logged;
        if (common::iequal(prio, "fatal")) {
            common::logError(msg);
            out.fatal = true;
        } else if (common::iequal(prio, "error")) {
            common::logError(msg);
        } else if (common::iequal(prio, "info")) {
            common::logInfo(msg);
        } else {
            common::logDebug(msg);
        }
    }

    void execute(const conf::Stmt& s, const EvalContext& ctx, ExecResult& out) const {
        if (s.args.empty() || !s.args[0] || s.args[0]->kind != conf::Expr::Kind::String) return;
        ExecRequest r;
        r.program = s.args[0]->text;
        r.where = s.where;
        for (std::size_t i = 1; i < s.args.size(); ++i) {
            std::string a;
            if (!s.args[i] || !ev.evalDataInto(*s.args[i], ctx, a)) {
                // ISC: "execute: bad arg N", and the program is not run at all.
                common::logDebug("execute: bad arg " + std::to_string(i) + " for " + r.program);
                return;
            }
            r.args.push_back(std::move(a));
        }
        out.executes.push_back(std::move(r));
    }

    void set(const conf::Stmt& s, const EvalContext& ctx, ExecResult& out) const {
        VariableChange c;
        c.kind = VariableChange::Kind::Set;
        c.name = s.head.text;
        c.where = s.where;
        if (s.expr) c.value = ev.evalAny(*s.expr, ctx);
        if (c.value.isNull()) {
            out.bindings.unset(c.name);  // ISC keeps a binding without a value: as good as unset
        } else {
            common::LeaseVariable v;
            v.name = c.name;
            switch (c.value.kind) {
                case Value::Kind::Boolean:
                    v.kind = common::LeaseVariable::Kind::Boolean;
                    v.boolean = c.value.boolean;
                    break;
                case Value::Kind::Number:
                    v.kind = common::LeaseVariable::Kind::Number;
                    v.number = static_cast<int64_t>(c.value.number);
                    break;
                default:
                    v.kind = common::LeaseVariable::Kind::Data;
                    v.data = c.value.data;
                    break;
            }
            out.bindings.set(std::move(v));
        }
        out.changes.push_back(std::move(c));
    }

    void on(const conf::Stmt& s, ExecResult& out) const {
        const conf::StmtList* body = s.body.empty() ? nullptr : &s.body;
        for (const auto& ev : s.atoms) {
            if (common::iequal(ev.text, "commit")) out.events.commit = body;
            else if (common::iequal(ev.text, "release")) out.events.release = body;
            else if (common::iequal(ev.text, "expiry")) out.events.expiry = body;
        }
    }

    /// The index in a switch body where execution starts, or npos. ISC's
    /// find_matching_case: the first `case` at the top of the body whose value
    /// equals the switch's, else the `default`; a null switch value goes to default.
    std::size_t matchCase(const conf::Stmt& sw, const EvalContext& ctx) const {
        Value v = sw.expr ? ev.evalAny(*sw.expr, ctx) : Value{};
        if (!v.isNull()) {
            for (std::size_t i = 0; i < sw.body.size(); ++i) {
                const auto& c = sw.body[i];
                if (!c || c->kind != SK::Case || !c->expr) continue;
                if (v.kind == Value::Kind::Number) {
                    auto n = ev.evalNumeric(*c->expr, ctx);
                    if (n && *n == v.number) return i;
                } else if (v.kind == Value::Kind::Data) {
                    std::string d;
                    if (ev.evalDataInto(*c->expr, ctx, d) && d == v.data) return i;
                }
            }
        }
        for (std::size_t i = 0; i < sw.body.size(); ++i)
            if (sw.body[i] && sw.body[i]->kind == SK::Default) return i;
        return std::string::npos;
    }

    /// One statement. Returns Break when it was a `break` (ISC: that ends the
    /// statement list being run, and only that one).
    Flow one(const conf::Stmt& s, const EvalContext& ctx, ExecResult& out, int depth) const {
        switch (s.kind) {
            case SK::If: {
                for (const conf::Stmt* b = &s; b; b = b->elseBody.empty() ? nullptr : b->elseBody.front().get()) {
                    // A plain else has no condition; a null condition counts as false.
                    bool take = !b->expr || ev.evalBoolean(*b->expr, ctx).value_or(false);
                    if (take) {
                        list(b->body, 0, ctx, out, depth + 1);
                        break;
                    }
                }
                return Flow::Next;
            }
            case SK::Switch: {
                std::size_t start = matchCase(s, ctx);
                if (start != std::string::npos) list(s.body, start, ctx, out, depth + 1);
                return Flow::Next;
            }
            case SK::Case:
            case SK::Default:
                return Flow::Next;  // labels do nothing when reached: execution falls through
            case SK::On:
                on(s, out);
                return Flow::Next;
            case SK::Set:
            case SK::Define:
                // Without function definitions in the grammar, define binds like set.
                set(s, ctx, out);
                return Flow::Next;
            case SK::Unset: {
                VariableChange c;
                c.kind = VariableChange::Kind::Unset;
                c.name = s.head.text;
                c.where = s.where;
                out.bindings.unset(c.name);
                out.changes.push_back(std::move(c));
                return Flow::Next;
            }
            case SK::Eval:
            case SK::Return:
                // Outside a function ISC evaluates `return`'s value and goes on.
                if (s.expr) ev.evalAny(*s.expr, ctx);
                return Flow::Next;
            case SK::Log:
                log(s, ctx, out);
                return Flow::Next;
            case SK::Execute:
                execute(s, ctx, out);
                return Flow::Next;
            case SK::Option:
            case SK::OptionExpr:
            case SK::ParamExpr:
            case SK::NotWord:
                option(s, out);
                return Flow::Next;
            case SK::Simple: {
                if (common::iequal(s.head.text, "break")) return Flow::Break;
                if (common::iequal(s.head.text, "add")) {
                    if (!s.atoms.empty())
                        if (const conf::Class* c = cfg.findClass(s.atoms[0].text)) out.addedClasses.push_back(c);
                    return Flow::Next;
                }
                option(s, out);
                return Flow::Next;
            }
            default:
                return Flow::Next;  // declarations (class, match, ...) were handled by conf
        }
    }

    Flow list(const conf::StmtList& l, std::size_t start, const EvalContext& ctx, ExecResult& out, int depth) const {
        if (depth > maxDepth) return Flow::Next;
        for (std::size_t i = start; i < l.size(); ++i)
            if (l[i] && one(*l[i], ctx, out, depth) == Flow::Break) return Flow::Break;
        return Flow::Next;
    }
};

Executor::Executor(const Evaluator& evaluator) : ev_(evaluator), impl_(std::make_unique<Impl>(evaluator)) {
    const conf::Config& c = evaluator.config();
    impl_->typeScope(c.global);
    for (const auto& n : c.networks) {
        impl_->typeScope(n.scope);
        for (const auto& sn : n.subnets) impl_->typeScope(sn.scope);
        for (const auto& p : n.pools) impl_->typeScope(p.scope);
    }
    for (const auto& h : c.hosts) impl_->typeScope(h.scope);
    for (const auto& g : c.groups) impl_->typeScope(g.scope);
    for (const auto& cl : c.classes) {
        impl_->typeScope(cl.scope);
        for (const auto& sc : cl.subclasses) impl_->typeScope(sc.scope);
    }
}

Executor::~Executor() = default;

void Executor::run(const conf::StmtList& list, const EvalContext& ctx, ExecResult& out) const {
    Impl::seed(ctx, out);
    EvalContext local = ctx;
    local.bindings = &out.bindings;  // later statements see earlier sets
    impl_->list(list, 0, local, out, 1);
}

void Executor::runScope(const conf::Scope& scope, const EvalContext& ctx, ExecResult& out, bool includeSettings) const {
    if (!includeSettings) return run(scope.statements, ctx, out);
    Impl::seed(ctx, out);
    EvalContext local = ctx;
    local.bindings = &out.bindings;

    // Settings and statements in the order they were written. Locations order them
    // within one file; across include files settings come first.
    struct Item {
        const common::Location* where;
        const conf::OptionSetting* option = nullptr;
        const conf::Parameter* param = nullptr;
        const conf::Stmt* stmt = nullptr;
    };
    std::vector<Item> items;
    items.reserve(scope.options.size() + scope.params.size() + scope.statements.size());
    for (const auto& o : scope.options) items.push_back({&o.where, &o, nullptr, nullptr});
    for (const auto& [name, p] : scope.params) items.push_back({&p.where, nullptr, &p, nullptr});
    for (const auto& s : scope.statements)
        if (s) items.push_back({&s->where, nullptr, nullptr, s.get()});
    bool oneFile = std::all_of(items.begin(), items.end(), [&](const Item& i) {
        return i.where->file == items.front().where->file && i.where->line != 0;
    });
    if (oneFile)
        std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
            return a.where->line != b.where->line ? a.where->line < b.where->line : a.where->col < b.where->col;
        });
    for (const auto& it : items) {
        if (it.stmt) {
            if (impl_->one(*it.stmt, local, out, 1) == Impl::Flow::Break) return;
            continue;
        }
        OptionAction a;
        a.fromStatement = false;
        if (it.option) {
            a.verb = optionVerb(it.option->verb);
            a.def = ev_.config().options.find(it.option->space, it.option->name);
            a.constant = it.option->expr ? nullptr : &it.option->value;
            a.expr = it.option->expr.get();
            a.where = it.option->where;
        } else {
            a.def = ev_.config().options.find("server", it.param->name);
            a.constant = it.param->expr ? nullptr : &it.param->value;
            a.expr = it.param->expr.get();
            a.where = it.param->where;
        }
        if (a.def) out.options.push_back(a);
    }
}

std::optional<std::vector<uint8_t>> Executor::value(const OptionAction& a, const EvalContext& ctx) const {
    if (a.expr && a.def) return ev_.evalOptionExpr(*a.def, *a.expr, ctx);
    if (a.constant) return ev_.resolveValue(*a.constant, ctx);
    return std::nullopt;
}

}  // namespace tandem::server
