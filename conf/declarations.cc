// Declarations and parameters of dhcpd.conf: where each may appear and what it
// means, following ISC dhcpd 4.4's parser (server/confpars.c) for what is
// accepted and refused, with messages that say what to do instead.
#include <algorithm>

#include "common/option_value.h"
#include "common/ipv4.h"
#include "conf/builder_impl.h"
#include "conf/config_builder.h"
#include "conf/driver.h"
#include "conf/words.h"

namespace tandem::conf {

using common::OptionDef;


Builder::Builder(common::DiagnosticSink& sink) : sink_(sink), config_(std::make_shared<Config>()) {
    config_->options = common::OptionRegistry::builtin();
    config_->global = std::make_shared<Scope>();
    config_->global->kind = "global";
}

std::shared_ptr<Config> Builder::build(const StmtList& list) {
    Frame root;
    root.scope = config_->global;
    statements(list, root);
    finish();
    return config_;
}

void Builder::unsupported(const Location& where, const std::string& what) {
    config_->unsupported.push_back({what, where});
    warning(where, what + " is read but not acted on by this version of tandemd");
}

const Location& Builder::endOf(const Stmt& s) const { return s.atoms.empty() ? s.head.where : s.atoms.back().where; }

ScopePtr Builder::childScope(const Frame& f, const char* kind, const Location& where) {
    auto s = std::make_shared<Scope>();
    s->parent = f.scope;
    s->kind = kind;
    s->where = where;
    return s;
}

bool Builder::insideNetwork(const Frame& f) const { return f.net != kNone; }

SharedNetwork* Builder::net(const Frame& f) { return f.net == kNone ? nullptr : &nets_[f.net]; }

std::optional<AddressRef> Builder::address(const Atom& a, const char* what) {
    AddressRef r;
    r.where = a.where;
    if (a.kind == Atom::Kind::Word) {
        if (auto ip = parseIpv4(a.text)) {
            r.addr = *ip;
            return r;
        }
        if (isHostname(a.text)) {
            r.hostname = a.text;  // resolved when first needed, never while checking
            return r;
        }
    }
    error(a.where, std::string("expecting ") + what + " (an IPv4 address or a hostname), not " + describe(a));
    return std::nullopt;
}

bool Builder::expectAtoms(const Stmt& s, std::size_t count, const char* what) {
    if (s.atoms.size() == count) return true;
    if (s.atoms.size() < count)
        error(endOf(s), std::string("missing ") + what + " after " + s.head.text);
    else
        error(s.atoms[count].where, "unexpected " + describe(s.atoms[count]) + " after " + what + "; expecting ';'");
    return false;
}

std::optional<uint32_t> Builder::number(const Stmt& s, std::size_t i, uint64_t max, const char* what) {
    if (i >= s.atoms.size()) {
        error(endOf(s), std::string("expecting ") + what + " after " + s.head.text);
        return std::nullopt;
    }
    const Atom& a = s.atoms[i];
    if (a.kind == Atom::Kind::Word) {
        if (auto v = parseUnsigned(a.text, max)) return static_cast<uint32_t>(*v);
        if (parseUnsigned(a.text, UINT64_MAX)) {
            error(a.where, a.text + " is out of range for " + what + " (at most " + std::to_string(max) + ")");
            return std::nullopt;
        }
    }
    error(a.where, std::string("expecting ") + what + ", not " + describe(a));
    return std::nullopt;
}

void Builder::statements(const StmtList& list, Frame& f) {
    for (const auto& s : list) {
        if (sink_.capReached()) return;
        if (s) statement(*s, f);
    }
}

void Builder::statement(const Stmt& s, Frame& f) {
    switch (s.kind) {
        case Stmt::Kind::Simple:
            if (f.ctx == Ctx::FailoverPeer || f.ctx == Ctx::FailoverState || f.ctx == Ctx::Key || f.ctx == Ctx::Zone)
                return;  // read by the block that owns them
            simple(s, f);
            return;
        case Stmt::Kind::Block:
            block(s, f);
            return;
        case Stmt::Kind::Option:
        case Stmt::Kind::OptionExpr:
            optionStatement(s, f);
            return;
        case Stmt::Kind::ParamExpr:
            parameter(s, f);
            return;
        case Stmt::Kind::NotWord:
            if (iequals(s.head.text, "authoritative")) {
                Parameter p;
                p.name = "authoritative";
                p.value.wire = {0};
                p.where = s.where;
                f.scope->params[p.name] = p;
            } else {
                error(s.head.where, "expecting `authoritative` after `not`");
            }
            return;
        case Stmt::Kind::NoFailover:
            if (!iequals(s.atoms[0].text, "failover") || !iequals(s.atoms[1].text, "peer")) {
                error(s.where, "expecting `no failover peer`");
            } else if (f.ctx != Ctx::Pool) {
                error(s.where, "`no failover peer` is allowed only in a pool");
            } else {
                nets_[f.net].pools[f.pool].failoverPeer.clear();
            }
            return;
        case Stmt::Kind::Directive:
            // A keama "%" status directive; ISC dhcpd skips it, so do we.
            warning(s.where, "ignoring a '%' directive (meant for ISC's keama translator)");
            return;
        case Stmt::Kind::Case:
            if (!f.inSwitch) {
                error(s.where, "case statement in inappropriate scope: `case` belongs inside a switch");
                return;
            }
            checkExpr(*s.expr);
            return;
        case Stmt::Kind::Default:
            if (!f.inSwitch) {
                error(s.where, "switch default statement in inappropriate scope: `default:` belongs inside a switch");
                return;
            }
            return;
        case Stmt::Kind::Match:
        case Stmt::Kind::MatchIf:
        case Stmt::Kind::Spawn: {
            if (f.ctx != Ctx::Class) {
                error(s.where, std::string("`match` and `spawn` are allowed only in a class, not in ") + ctxName(f.ctx));
                return;
            }
            Class& c = classes_[f.cls];
            if (s.kind == Stmt::Kind::MatchIf) {
                if (c.matchIf) {
                    error(s.where, "A class may only have one 'match if' clause (the first is at " +
                                       c.matchIf->where.str() + ")");
                    return;
                }
                if (expectExpr(*s.expr, ExprType::Boolean)) c.matchIf = s.expr;
            } else {
                if (c.match || c.spawnWith) {
                    error(s.where, "can't override existing submatch/spawn: this class already has one");
                    return;
                }
                if (expectExpr(*s.expr, ExprType::Data)) (s.kind == Stmt::Kind::Match ? c.match : c.spawnWith) = s.expr;
            }
            return;
        }
        case Stmt::Kind::If:
        case Stmt::Kind::Switch:
        case Stmt::Kind::On:
        case Stmt::Kind::Set:
        case Stmt::Kind::Unset:
        case Stmt::Kind::Define:
        case Stmt::Kind::Eval:
        case Stmt::Kind::Log:
        case Stmt::Kind::Execute:
        case Stmt::Kind::Return:
            executable(s, f);
            return;
    }
}

void Builder::executable(const Stmt& s, Frame& f) {
    if (f.ctx == Ctx::FailoverPeer || f.ctx == Ctx::Key || f.ctx == Ctx::Zone) {
        error(s.where, std::string("this statement is not allowed in ") + ctxName(f.ctx));
        return;
    }
    f.scope->statements.push_back(std::make_shared<Stmt>(s));
    auto nested = [&](const StmtList& body, Ctx ctx, bool inSwitch) {
        // Statements under a condition are checked like any other, but they
        // apply only when it holds: they go into a scope of their own.
        Frame inner = enter(f, ctx, childScope(f, "conditional", s.where));
        inner.inSwitch = inSwitch;
        statements(body, inner);
    };
    switch (s.kind) {
        case Stmt::Kind::If: {
            const Stmt* branch = &s;
            while (branch) {
                if (branch->expr) expectExpr(*branch->expr, ExprType::Boolean);
                nested(branch->body, Ctx::Conditional, f.inSwitch);
                branch = branch->elseBody.empty() ? nullptr : branch->elseBody.front().get();
            }
            return;
        }
        case Stmt::Kind::Switch: {
            auto t = checkExpr(*s.expr);
            if (t && *t == ExprType::Boolean) error(s.expr->where, "Expecting a data or numeric expression for switch");
            nested(s.body, Ctx::Switch, true);
            return;
        }
        case Stmt::Kind::On: {
            for (const auto& ev : s.atoms) {
                if (!iequals(ev.text, "commit") && !iequals(ev.text, "release") && !iequals(ev.text, "expiry"))
                    error(ev.where, "unknown event `" + ev.text + "`: expecting commit, release or expiry");
            }
            nested(s.body, Ctx::Event, false);
            return;
        }
        case Stmt::Kind::Set:
        case Stmt::Kind::Define:
        case Stmt::Kind::Eval:
        case Stmt::Kind::Return:
            checkExpr(*s.expr);
            return;
        case Stmt::Kind::Unset:
            return;
        case Stmt::Kind::Log: {
            if (s.args.size() > 2) {
                error(s.args[2]->where, "log takes at most two arguments: a priority and a message");
                return;
            }
            const Expr& msg = *s.args.back();
            if (s.args.size() == 2) {
                const Expr& prio = *s.args[0];
                static const char* const kPrio[] = {"fatal", "error", "info", "debug"};
                bool ok = prio.kind == Expr::Kind::Word &&
                          std::any_of(std::begin(kPrio), std::end(kPrio), [&](const char* p) { return iequals(prio.text, p); });
                if (!ok) error(prio.where, "expecting a log priority: fatal, error, info or debug");
            }
            expectExpr(msg, ExprType::Data);
            return;
        }
        case Stmt::Kind::Execute: {
            if (s.args.empty() || s.args[0]->kind != Expr::Kind::String) {
                error(s.where, "execute needs the program as a quoted string first");
                return;
            }
            for (std::size_t i = 1; i < s.args.size(); ++i) expectExpr(*s.args[i], ExprType::Data);
            return;
        }
        default:
            return;
    }
}

// ---------------------------------------------------------------- blocks

void Builder::block(const Stmt& s, Frame& f) {
    const std::string word = lower(s.head.text);
    if (!s.verb.empty() && word != "key") {
        error(s.bodyEnd, "unexpected ';' after '}': a " + word + " block takes none");
    }
    if (f.ctx == Ctx::FailoverPeer || f.ctx == Ctx::FailoverState || f.ctx == Ctx::Key || f.ctx == Ctx::Zone) {
        error(s.where, std::string("no block is allowed in ") + ctxName(f.ctx));
        return;
    }
    if (word == "subnet") return subnet(s, f);
    if (word == "shared-network") return sharedNetwork(s, f);
    if (word == "pool") return pool(s, f);
    if (word == "host") return host(s, f);
    if (word == "group") return group(s, f);
    if (word == "class") return classDecl(s, f);
    if (word == "subclass") return subclassDecl(s, f, nullptr);
    if (word == "vendor-class" || word == "user-class") {
        if (s.atoms.empty() || !classIndex_.count(lower(s.atoms[0].text))) {
            error(s.where, "no class named " + (s.atoms.empty() ? std::string("(none given)") : s.atoms[0].text));
            return;
        }
        return subclassDecl(s, f, &s.atoms[0]);
    }
    if (word == "failover") return failoverBlock(s, f);
    if (word == "key") return keyDecl(s, f);
    if (word == "zone") return zoneDecl(s, f);
    if (word == "subnet6" || word == "pool6" || word == "shared-network6") {
        error(s.where, word + " declaration not allowed here: tandemd serves DHCPv4 only");
        return;
    }
    error(s.head.where, "expecting a declaration: `" + s.head.text + "` does not take a block");
}

void Builder::subnet(const Stmt& s, Frame& f) {
    if (f.ctx != Ctx::Root && f.ctx != Ctx::Group && f.ctx != Ctx::SharedNetwork) {
        error(s.where, std::string("subnet declarations not allowed here: a subnet cannot be inside ") + ctxName(f.ctx));
        return;
    }
    if (f.ctx == Ctx::Group && f.net != kNone) {
        error(s.where, "subnet declarations not allowed here: a subnet cannot be inside a group within a network");
        return;
    }
    if (s.atoms.empty()) {
        error(endOf(s), "expecting the subnet number");
        return;
    }
    auto number = parseIpv4(s.atoms[0].text);
    if (s.atoms[0].kind != Atom::Kind::Word || !number) {
        error(s.atoms[0].where, "expecting a subnet number (an IPv4 address), not " + describe(s.atoms[0]));
        return;
    }
    if (s.atoms.size() < 2 || !iequals(s.atoms[1].text, "netmask")) {
        error(s.atoms.size() < 2 ? endOf(s) : s.atoms[1].where, "Expecting netmask");
        return;
    }
    if (s.atoms.size() < 3) {
        error(endOf(s), "expecting the netmask after `netmask`");
        return;
    }
    auto mask = parseIpv4(s.atoms[2].text);
    if (!mask) {
        error(s.atoms[2].where, "expecting a netmask (an IPv4 address), not " + describe(s.atoms[2]));
        return;
    }
    if (s.atoms.size() > 3) {
        error(s.atoms[3].where, "unexpected " + describe(s.atoms[3]) + "; expecting '{'");
        return;
    }
    if ((*number & *mask) != *number) {
        error(s.atoms[0].where, "subnet " + ipv4String(*number) + " netmask " + ipv4String(*mask) +
                                    ": bad subnet number/mask combination (host bits are set)");
        return;
    }
    uint32_t inv = ~*mask;
    if ((inv & (inv + 1)) != 0)
        warning(s.atoms[2].where, "netmask " + ipv4String(*mask) + " is not contiguous");

    Frame inner = enter(f, Ctx::Subnet, nullptr);
    if (f.net == kNone) {
        SharedNetwork n;
        n.implicit = true;
        // ISC names a subnet's own network "net/prefix" (piaddrmask), as its logs show.
        n.name = ipv4String(*number);
        if (auto len = common::prefixLength(*mask)) n.name += "/" + std::to_string(*len);
        n.scope = f.scope;
        n.where = s.where;
        nets_.push_back(n);
        inner.net = nets_.size() - 1;
    }
    Subnet sn;
    sn.number = *number;
    sn.netmask = *mask;
    sn.where = s.where;
    sn.scope = childScope(f, "subnet", s.where);
    nets_[inner.net].subnets.push_back(sn);
    inner.subnet = nets_[inner.net].subnets.size() - 1;
    inner.scope = sn.scope;
    statements(s.body, inner);
}

void Builder::sharedNetwork(const Stmt& s, Frame& f) {
    if (f.ctx != Ctx::Root && f.ctx != Ctx::Group) {
        error(s.where, std::string("shared-network parameters not allowed here: a shared-network cannot be inside ") +
                           ctxName(f.ctx));
        return;
    }
    if (f.net != kNone) {
        error(s.where, "shared-network parameters not allowed here: shared-networks do not nest");
        return;
    }
    if (s.atoms.empty()) {
        error(s.head.where, "expecting a name for shared-network");
        return;
    }
    if (s.atoms[0].kind == Atom::Kind::String && s.atoms[0].text.empty()) {
        error(s.atoms[0].where, "zero-length shared network name");
        return;
    }
    if (s.atoms[0].kind != Atom::Kind::String && s.atoms[0].kind != Atom::Kind::Word) {
        error(s.atoms[0].where, "expecting a name for shared-network");
        return;
    }
    if (s.atoms.size() > 1) {
        error(s.atoms[1].where, "unexpected " + describe(s.atoms[1]) + "; expecting '{'");
        return;
    }
    SharedNetwork n;
    n.name = s.atoms[0].text;
    n.where = s.where;
    n.scope = childScope(f, "shared-network", s.where);
    nets_.push_back(n);
    Frame inner = enter(f, Ctx::SharedNetwork, n.scope);
    inner.net = nets_.size() - 1;
    statements(s.body, inner);
    if (nets_[inner.net].subnets.empty()) error(s.bodyEnd, "empty shared-network decl: shared-network " + n.name + " has no subnet");
}

void Builder::pool(const Stmt& s, Frame& f) {
    if (f.ctx == Ctx::Pool) {
        error(s.where, "pool declared within pool: pools do not nest");
        return;
    }
    if (f.ctx != Ctx::Subnet && f.ctx != Ctx::SharedNetwork) {
        error(s.where, "pool declared outside of network: a pool belongs in a subnet or shared-network");
        return;
    }
    if (!s.atoms.empty()) {
        error(s.atoms[0].where, "unexpected " + describe(s.atoms[0]) + "; expecting '{' after pool");
        return;
    }
    Pool p;
    p.where = s.where;
    p.scope = childScope(f, "pool", s.where);
    p.failoverPeer = f.failoverPeer;
    nets_[f.net].pools.push_back(p);
    Frame inner = enter(f, Ctx::Pool, p.scope);
    inner.pool = nets_[f.net].pools.size() - 1;
    statements(s.body, inner);
    Pool& done = nets_[f.net].pools[inner.pool];
    if (done.ranges.empty()) warning(s.where, "pool has no range: it will hand out no address");
}

void Builder::host(const Stmt& s, Frame& f) {
    if (f.ctx == Ctx::Host || isClassLike(f.ctx) || f.ctx == Ctx::Conditional || f.ctx == Ctx::Switch ||
        f.ctx == Ctx::Event) {
        error(s.where, std::string("host declarations not allowed here: a host cannot be inside ") + ctxName(f.ctx));
        return;
    }
    if (s.atoms.size() != 1 || (s.atoms[0].kind != Atom::Kind::Word && s.atoms[0].kind != Atom::Kind::String)) {
        error(s.atoms.empty() ? s.head.where : s.atoms[0].where, "expecting a name for host");
        return;
    }
    Host h;
    h.name = s.atoms[0].text;
    h.where = s.where;
    h.scope = childScope(f, "host", s.where);
    hosts_.push_back(h);
    Frame inner = enter(f, Ctx::Host, h.scope);
    inner.host = hosts_.size() - 1;
    statements(s.body, inner);
    Host& done = hosts_[inner.host];
    for (const auto& o : done.scope->options)
        if (o.space == "dhcp" && o.code == 61) done.clientId = o.value.wire;
}

void Builder::group(const Stmt& s, Frame& f) {
    if (isClassLike(f.ctx) || f.ctx == Ctx::Host || f.ctx == Ctx::Conditional || f.ctx == Ctx::Switch ||
        f.ctx == Ctx::Event) {
        error(s.where, std::string("group declarations not allowed here: a group cannot be inside ") + ctxName(f.ctx));
        return;
    }
    if (s.atoms.size() > 1) {
        error(s.atoms[1].where, "unexpected " + describe(s.atoms[1]) + "; expecting '{'");
        return;
    }
    Frame inner = enter(f, Ctx::Group, childScope(f, "group", s.where));
    config_->groups.push_back({s.atoms.empty() ? std::string() : s.atoms[0].text, inner.scope, s.where});
    statements(s.body, inner);
}

void Builder::classDecl(const Stmt& s, Frame& f) {
    if (isClassLike(f.ctx)) {
        error(s.where, "class declarations not allowed here: classes do not nest");
        return;
    }
    if (s.atoms.size() != 1 || (s.atoms[0].kind != Atom::Kind::String && s.atoms[0].kind != Atom::Kind::Word)) {
        error(s.atoms.empty() ? s.head.where : s.atoms[0].where, "expecting a class name");
        return;
    }
    const std::string key = lower(s.atoms[0].text);
    if (classIndex_.count(key)) {
        error(s.atoms[0].where, "class " + s.atoms[0].text + " is already declared at " +
                                    classes_[classIndex_[key]].where.str());
        return;
    }
    Class c;
    c.name = s.atoms[0].text;
    c.where = s.where;
    c.scope = childScope(f, "class", s.where);
    classes_.push_back(c);
    classIndex_[key] = classes_.size() - 1;
    Frame inner = enter(f, Ctx::Class, c.scope);
    inner.cls = classes_.size() - 1;
    statements(s.body, inner);
}

void Builder::subclassDecl(const Stmt& s, Frame& f, const Atom* explicitClass) {
    if (isClassLike(f.ctx)) {
        error(s.where, "class declarations not allowed here: a subclass cannot be inside a class");
        return;
    }
    const Atom* nameAtom = explicitClass;
    std::size_t valueAt = explicitClass ? 1 : 1;
    if (!explicitClass) {
        if (s.atoms.empty() || (s.atoms[0].kind != Atom::Kind::String && s.atoms[0].kind != Atom::Kind::Word)) {
            error(s.atoms.empty() ? s.head.where : s.atoms[0].where, "expecting the name of the class");
            return;
        }
        nameAtom = &s.atoms[0];
    }
    auto it = classIndex_.find(lower(nameAtom->text));
    if (it == classIndex_.end()) {
        error(nameAtom->where, "no class named " + nameAtom->text);
        return;
    }
    Subclass sc;
    sc.where = s.where;
    if (explicitClass) {
        sc.data.assign(nameAtom->text.begin(), nameAtom->text.end());
    } else {
        if (s.atoms.size() <= valueAt) {
            error(endOf(s), "Expecting string or hex list.");
            return;
        }
        const Atom& v = s.atoms[valueAt];
        if (v.kind == Atom::Kind::String) {
            sc.data.assign(v.text.begin(), v.text.end());
        } else if (v.kind == Atom::Kind::Word && parseHexList(v.text)) {
            sc.data = *parseHexList(v.text);
        } else {
            error(v.where, "Expecting string or hex list.");
            return;
        }
        if (s.atoms.size() > valueAt + 1) {
            error(s.atoms[valueAt + 1].where, "unexpected " + describe(s.atoms[valueAt + 1]) + "; expecting ';' or '{'");
            return;
        }
    }
    Class& parent = classes_[it->second];
    if (!parent.match && !parent.spawnWith)
        warning(s.where, "class " + parent.name + " has no `match` expression, so this subclass can never match");
    if (s.kind == Stmt::Kind::Block) {
        sc.scope = std::make_shared<Scope>();
        sc.scope->parent = parent.scope;
        sc.scope->kind = "subclass";
        sc.scope->where = s.where;
        Frame inner = enter(f, Ctx::Subclass, sc.scope);
        statements(s.body, inner);
    }
    parent.subclasses.push_back(sc);
}

void Builder::keyDecl(const Stmt& s, Frame& /*f*/) {
    if (s.atoms.size() != 1) {
        error(s.atoms.empty() ? s.head.where : s.atoms[1].where, "expecting a key name");
        return;
    }
    Key k;
    k.name = s.atoms[0].text;
    k.where = s.where;
    for (const auto& st : s.body) {
        if (!st) continue;
        if (st->kind != Stmt::Kind::Simple) {
            error(st->where, "expecting `algorithm NAME;` or `secret \"BASE64\";` in a key");
            continue;
        }
        if (iequals(st->head.text, "algorithm") && st->atoms.size() == 1) {
            k.algorithm = st->atoms[0].text;
        } else if (iequals(st->head.text, "secret") && st->atoms.size() == 1) {
            k.secret = st->atoms[0].text;
        } else {
            error(st->where, "expecting `algorithm NAME;` or `secret \"BASE64\";` in a key");
        }
    }
    for (const auto& other : config_->keys)
        if (other.name == k.name) warning(s.where, "key " + k.name + " redeclared; the last one wins");
    config_->keys.push_back(k);
    unsupported(s.where, "key " + k.name + " (keys serve OMAPI and DDNS)");
}

void Builder::zoneDecl(const Stmt& s, Frame& /*f*/) {
    if (s.atoms.size() != 1) {
        error(s.atoms.empty() ? s.head.where : s.atoms[1].where, "expecting a zone name");
        return;
    }
    for (const auto& st : s.body) {
        if (!st) continue;
        static const char* const kWords[] = {"primary", "secondary", "primary6", "secondary6", "key"};
        bool ok = st->kind == Stmt::Kind::Simple &&
                  std::any_of(std::begin(kWords), std::end(kWords), [&](const char* w) { return iequals(st->head.text, w); });
        if (!ok) error(st->where, "expecting primary, secondary, primary6, secondary6 or key in a zone");
    }
    unsupported(s.where, "DDNS (zone " + s.atoms[0].text + ")");
}

void Builder::finish() {
    for (const auto& k : omapiKeys_) {
        bool found = std::any_of(config_->keys.begin(), config_->keys.end(), [&](const Key& key) { return key.name == k.name; });
        if (!found) error(k.where, "OMAPI key " + k.name + ": not found (declare it with `key " + k.name + " { ... }`)");
    }
    checkFailoverPeers();
    config_->networks.assign(nets_.begin(), nets_.end());
    config_->hosts.assign(hosts_.begin(), hosts_.end());
    config_->classes.assign(classes_.begin(), classes_.end());
}

// ---------------------------------------------------------------- entry points

ConfigPtr buildConfig(const StmtList& statements, common::DiagnosticSink& sink) {
    Builder b(sink);
    return b.build(statements);
}

ConfigPtr loadConfig(const std::string& path, common::DiagnosticSink& sink) {
    Driver drv(sink);
    StmtList stmts = drv.parseFile(path);
    auto cfg = Builder(sink).build(stmts);
    cfg->files.push_back(path);
    checkFailoverTlsFiles(*cfg, sink);  // reads files, so here and not in the builder
    checkMetricsListenFile(*cfg, path, sink);
    return cfg;
}

ConfigPtr loadConfigText(const std::string& text, const std::string& name, common::DiagnosticSink& sink) {
    Driver drv(sink);
    StmtList stmts = drv.parseString(text, name);
    auto cfg = Builder(sink).build(stmts);
    checkMetricsListenFile(*cfg, name, sink);
    return cfg;
}

const Parameter* Scope::findParam(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent.get()) {
        auto it = s->params.find(name);
        if (it != s->params.end()) return &it->second;
    }
    return nullptr;
}

const FailoverPeer* Config::findFailoverPeer(const std::string& name) const {
    for (const auto& p : failoverPeers)
        if (p.name == name) return &p;
    return nullptr;
}

const Class* Config::findClass(const std::string& name) const {
    for (const auto& c : classes)
        if (lower(c.name) == lower(name)) return &c;
    return nullptr;
}

}  // namespace tandem::conf
