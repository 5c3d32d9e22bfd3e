// Parameters and the one-line declarations of dhcpd.conf (range, hardware,
// fixed-address, allow/deny and pool permits, interface, server-duid): where
// each may appear and how its values are read, following ISC dhcpd 4.4.
#include <algorithm>

#include "common/option_value.h"
#include "conf/builder_impl.h"
#include "conf/words.h"

namespace tandem::conf {

using common::OptionDef;

// ---------------------------------------------------------------- simple statements

void Builder::simple(const Stmt& s, Frame& f) {
    const std::string word = lower(s.head.text);
    if (word == "range") return range(s, f);
    if (word == "range6" || word == "prefix6" || word == "fixed-address6" || word == "fixed-prefix6" ||
        word == "fixed-prefix6") {
        error(s.where, word + " declaration not allowed here: tandemd serves DHCPv4 only");
        return;
    }
    if (word == "allow" || word == "deny" || word == "ignore") {
        if (f.ctx == Ctx::Pool) return permit(s, f);
        return allowDeny(s, f);
    }
    if (word == "hardware") return hardware(s, f);
    if (word == "fixed-address") return fixedAddress(s, f);
    if (word == "interface") return interfaceStmt(s, f);
    if (word == "server-duid") return serverDuid(s, f);
    if (word == "metrics-listen") return metricsListen(s, f);
    if (word == "failover") return failoverReference(s, f);
    if (word == "subclass") return subclassDecl(s, f, nullptr);
    if (word == "host-identifier") {
        if (f.ctx != Ctx::Host) {
            error(s.where, "host-identifier parameter not allowed here: it belongs in a host");
            return;
        }
        if (s.atoms.size() < 3 || !iequals(s.atoms[0].text, "option")) {
            error(endOf(s), "expecting `host-identifier option NAME VALUE;`");
            return;
        }
        std::string space;
        const OptionDef* def = resolveOption(s.atoms[1], space, true);
        if (!def) return;
        Atoms value(s.atoms.begin() + 2, s.atoms.end());
        auto typed = common::typeValue(config_->options, *def, value);
        if (auto* err = std::get_if<common::ValueError>(&typed)) {
            error(err->atom < value.size() ? value[err->atom].where : endOf(s), err->message);
            return;
        }
        hosts_[f.host].hostIdOption = def->name;
        hosts_[f.host].hostIdValue = std::get<common::TypedValue>(typed).wire;
        return;
    }
    if (word == "lease") {
        if (f.ctx != Ctx::Class) {
            error(s.where, "`lease limit` is allowed only in a class");
            return;
        }
        if (s.atoms.empty() || !iequals(s.atoms[0].text, "limit")) {
            error(endOf(s), "expecting `lease limit N;`");
            return;
        }
        if (auto n = number(s, 1, UINT32_MAX, "a lease limit"))
            if (expectAtoms(s, 2, "the lease limit")) classes_[f.cls].leaseLimit = *n;
        return;
    }
    if (word == "add") {
        // add "CLASS": ISC looks the class up as it parses, so it must exist already.
        if (s.atoms.size() != 1 || s.atoms[0].kind != Atom::Kind::String) {
            error(endOf(s), "expecting `add \"CLASS\";`");
            return;
        }
        if (!classIndex_.count(lower(s.atoms[0].text))) {
            error(s.atoms[0].where, "class " + s.atoms[0].text + ": not found (declare the class before adding to it)");
            return;
        }
        f.scope->statements.push_back(std::make_shared<Stmt>(s));
        return;
    }
    if (word == "break") {
        if (!s.atoms.empty()) error(s.atoms[0].where, "expecting ';' after break");
        f.scope->statements.push_back(std::make_shared<Stmt>(s));
        return;
    }
    if (word == "authoritative") {
        if (!s.atoms.empty()) {
            error(s.atoms[0].where, "expecting ';' after authoritative");
            return;
        }
        Parameter p;
        p.name = "authoritative";
        p.value.wire = {1};
        p.where = s.where;
        f.scope->params[p.name] = p;
        return;
    }
    if (word == "group" && f.ctx == Ctx::Host) {
        // `group NAME;` in a host names the group the host belongs to.
        expectAtoms(s, 1, "the group name");
        return;
    }
    if (word == "server-identifier") {
        // ISC reads `server-identifier A;` as `option dhcp-server-identifier A;`.
        Stmt opt = s;
        opt.kind = Stmt::Kind::Option;
        opt.verb = "option";
        opt.head.text = "dhcp-server-identifier";
        return optionStatement(opt, f);
    }
    if (word == "omapi-key") {
        if (expectAtoms(s, 1, "the key name")) omapiKeys_.push_back({s.atoms[0].text, s.atoms[0].where});
        unsupported(s.where, "OMAPI (omapi-key)");
        return;
    }
    if (word == "subnet" || word == "subnet6" || word == "shared-network" || word == "pool" || word == "pool6" ||
        word == "host" || word == "class" || word == "key" || word == "zone" || word == "vendor-class" ||
        word == "user-class") {
        if (word == "subnet6" || word == "pool6") {
            error(s.where, word + " declaration not allowed here: tandemd serves DHCPv4 only");
            return;
        }
        if ((word == "vendor-class" || word == "user-class") && !s.atoms.empty() &&
            !classIndex_.count(lower(s.atoms[0].text))) {
            error(s.where, "no class named " + s.atoms[0].text);
            return;
        }
        error(endOf(s), "expecting '{' after " + word + " declaration");
        return;
    }
    parameter(s, f);
}

void Builder::parameter(const Stmt& s, Frame& f) {
    const OptionDef* def = config_->options.find("server", lower(s.head.text));
    if (!def) {
        error(s.head.where, "expecting a parameter or declaration: `" + s.head.text + "` is not one");
        return;
    }
    if (f.ctx == Ctx::Key || f.ctx == Ctx::Zone) return;
    Parameter p;
    p.name = def->name;
    p.code = def->code;
    p.where = s.where;
    if (s.kind == Stmt::Kind::ParamExpr) {
        checkExpr(*s.expr);
        p.expr = s.expr;
    } else {
        auto typed = common::typeValue(config_->options, *def, s.atoms);
        if (auto* err = std::get_if<common::ValueError>(&typed)) {
            error(err->atom < s.atoms.size() ? s.atoms[err->atom].where : endOf(s), s.head.text + ": " + err->message);
            return;
        }
        p.value = std::get<common::TypedValue>(typed);
    }
    const std::string& n = p.name;
    if (n.rfind("ddns-", 0) == 0 && !(n == "ddns-update-style" && !p.value.wire.empty() && p.value.wire[0] == 0) &&
        !(n == "ddns-updates" && !p.value.wire.empty() && p.value.wire[0] == 0))
        unsupported(s.where, "DDNS (" + n + ")");
    if (n == "omapi-port") unsupported(s.where, "OMAPI (omapi-port)");
    f.scope->params[n] = std::move(p);
}

void Builder::allowDeny(const Stmt& s, Frame& f) {
    // Outside pools, allow/deny/ignore set a server flag (ISC maps them onto
    // options of its server space).
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
    if (s.atoms.size() != 1 || s.atoms[0].kind != Atom::Kind::Word) {
        if (s.atoms.size() >= 1 && f.ctx != Ctx::Pool &&
            (iequals(s.atoms[0].text, "members") || iequals(s.atoms[0].text, "known") ||
             iequals(s.atoms[0].text, "unknown") || iequals(s.atoms[0].text, "dynamic") ||
             iequals(s.atoms[0].text, "all"))) {
            error(s.where, "this permit is allowed only in a pool");
            return;
        }
        error(s.atoms.empty() ? s.head.where : s.atoms[0].where, "expecting allow/deny key");
        return;
    }
    for (const auto& fl : kFlags) {
        if (iequals(s.atoms[0].text, fl.word)) {
            Parameter p;
            p.name = fl.param;
            p.where = s.where;
            // ISC: allow = 1, deny = 0, ignore = 2 (deny without logging).
            p.value.wire = {static_cast<uint8_t>(iequals(s.head.text, "allow") ? 1 : iequals(s.head.text, "deny") ? 0 : 2)};
            f.scope->params[p.name] = p;
            return;
        }
    }
    if (iequals(s.atoms[0].text, "known-clients") || iequals(s.atoms[0].text, "unknown")) {
        error(s.where, "this permit is allowed only in a pool");
        return;
    }
    error(s.atoms[0].where, "expecting allow/deny key: unknown-clients, bootp, booting, duplicates, declines, "
                            "client-updates or leasequery");
}

void Builder::permit(const Stmt& s, Frame& f) {
    Permit p;
    p.where = s.where;
    p.allow = iequals(s.head.text, "allow");
    if (iequals(s.head.text, "ignore")) {
        error(s.head.where, "`ignore` is not a pool permit; use deny");
        return;
    }
    auto at = [&](std::size_t i, const char* w) { return i < s.atoms.size() && iequals(s.atoms[i].text, w); };
    std::size_t used = 0;
    if (at(0, "known-clients")) { p.kind = Permit::Kind::KnownClients; used = 1; }
    else if (at(0, "unknown-clients")) { p.kind = Permit::Kind::UnknownClients; used = 1; }
    else if (at(0, "known") && at(1, "clients")) { p.kind = Permit::Kind::KnownClients; used = 2; }
    else if (at(0, "unknown") && at(1, "clients")) { p.kind = Permit::Kind::UnknownClients; used = 2; }
    else if (at(0, "authenticated") && at(1, "clients")) { p.kind = Permit::Kind::AuthenticatedClients; used = 2; }
    else if (at(0, "unauthenticated") && at(1, "clients")) { p.kind = Permit::Kind::UnauthenticatedClients; used = 2; }
    else if (at(0, "all") && at(1, "clients")) { p.kind = Permit::Kind::AllClients; used = 2; }
    else if (at(0, "dynamic") && at(1, "bootp") && at(2, "clients")) { p.kind = Permit::Kind::DynamicBootpClients; used = 3; }
    else if (at(0, "members") && at(1, "of")) {
        p.kind = Permit::Kind::MembersOf;
        if (s.atoms.size() < 3 || s.atoms[2].kind != Atom::Kind::String) {
            error(endOf(s), "expecting a class name in quotes after `members of`");
            return;
        }
        p.className = s.atoms[2].text;
        if (!classIndex_.count(lower(p.className))) {
            error(s.atoms[2].where, "no class named " + p.className + " (declare it before the pool)");
            return;
        }
        used = 3;
    } else if (at(0, "after")) {
        std::size_t pos = 1;
        std::string why;
        auto t = parseDate(s.atoms, pos, why);
        if (!t) {
            error(pos < s.atoms.size() ? s.atoms[pos].where : endOf(s), why);
            return;
        }
        p.kind = Permit::Kind::After;
        p.after = *t;
        used = pos;
    } else {
        error(s.atoms.empty() ? endOf(s) : s.atoms[0].where,
              "expecting permit type: known-clients, unknown-clients, members of \"CLASS\", dynamic bootp clients, "
              "authenticated clients, unauthenticated clients, all clients or after DATE");
        return;
    }
    if (used != s.atoms.size()) {
        error(s.atoms[used].where, "unexpected " + describe(s.atoms[used]) + "; expecting ';'");
        return;
    }
    nets_[f.net].pools[f.pool].permits.push_back(p);
}

void Builder::range(const Stmt& s, Frame& f) {
    if (f.ctx != Ctx::Subnet && f.ctx != Ctx::Pool) {
        error(s.where, std::string("range declaration not allowed here: a range belongs in a subnet or a pool, not in ") +
                           ctxName(f.ctx));
        return;
    }
    Range r;
    r.where = s.where;
    std::size_t i = 0;
    if (i < s.atoms.size() && iequals(s.atoms[i].text, "dynamic-bootp")) {
        r.dynamicBootp = true;
        ++i;
    }
    if (i >= s.atoms.size()) {
        error(endOf(s), "expecting the range's first address");
        return;
    }
    auto low = parseIpv4(s.atoms[i].text);
    if (s.atoms[i].kind != Atom::Kind::Word || !low) {
        error(s.atoms[i].where, "expecting an IPv4 address for the range, not " + describe(s.atoms[i]));
        return;
    }
    r.low = r.high = *low;
    ++i;
    if (i < s.atoms.size()) {
        auto high = parseIpv4(s.atoms[i].text);
        if (s.atoms[i].kind != Atom::Kind::Word || !high) {
            error(s.atoms[i].where, "expecting an IPv4 address for the end of the range, not " + describe(s.atoms[i]));
            return;
        }
        r.high = *high;
        ++i;
    }
    if (i < s.atoms.size()) {
        error(s.atoms[i].where, "unexpected " + describe(s.atoms[i]) + " after the range; expecting ';'");
        return;
    }
    if (r.low > r.high) std::swap(r.low, r.high);  // ISC accepts either order
    SharedNetwork& n = nets_[f.net];
    // The range must lie in a subnet: the subnet it is written in, or for a pool,
    // one subnet of its network.
    const Subnet* home = nullptr;
    if (f.subnet != kNone) {
        const Subnet& sn = n.subnets[f.subnet];
        if ((r.low & sn.netmask) == sn.number && (r.high & sn.netmask) == sn.number) home = &sn;
        else {
            error(s.where, "range " + ipv4String(r.low) + " - " + ipv4String(r.high) + " is not inside subnet " +
                               ipv4String(sn.number) + " netmask " + ipv4String(sn.netmask));
            return;
        }
    } else {
        for (const auto& sn : n.subnets)
            if ((r.low & sn.netmask) == sn.number && (r.high & sn.netmask) == sn.number) home = &sn;
        if (!home && !n.subnets.empty()) {
            error(s.where, "range " + ipv4String(r.low) + " - " + ipv4String(r.high) +
                               " is not inside any subnet of shared-network " + n.name);
            return;
        }
    }
    Pool* pl = nullptr;
    if (f.ctx == Ctx::Pool) {
        pl = &n.pools[f.pool];
    } else {
        // Ranges written directly in a subnet share one implicit pool per subnet declaration.
        for (auto& p : n.pools)
            if (p.implicit && p.where.line == n.subnets[f.subnet].where.line && p.where.file == n.subnets[f.subnet].where.file)
                pl = &p;
        if (!pl) {
            Pool p;
            p.implicit = true;
            p.scope = childScope(f, "pool", n.subnets[f.subnet].where);
            p.where = n.subnets[f.subnet].where;
            p.failoverPeer = f.failoverPeer;
            n.pools.push_back(p);
            pl = &n.pools.back();
        }
    }
    if (r.dynamicBootp && !pl->failoverPeer.empty()) {
        error(s.where, "dynamic-bootp flag is not permitted for address range declarations where there is a "
                       "failover peer in scope");
        return;
    }
    pl->ranges.push_back(r);
}

void Builder::hardware(const Stmt& s, Frame& f) {
    if (f.ctx != Ctx::Host) {
        error(s.where, "hardware address parameter not allowed here: it belongs in a host declaration");
        return;
    }
    if (s.atoms.size() != 2) {
        error(endOf(s), "expecting `hardware TYPE XX:XX:...;` (TYPE: ethernet, token-ring, fddi or infiniband)");
        return;
    }
    auto type = hardwareType(s.atoms[0].text);
    if (!type) {
        error(s.atoms[0].where, "expecting a hardware type: ethernet, token-ring, fddi or infiniband");
        return;
    }
    auto bytes = s.atoms[1].kind == Atom::Kind::Word ? parseHexList(s.atoms[1].text) : std::nullopt;
    if (!bytes || bytes->size() > 16) {
        error(s.atoms[1].where, "expecting a hardware address of up to 16 colon-separated hex bytes");
        return;
    }
    hosts_[f.host].htype = *type;
    hosts_[f.host].hwaddr = *bytes;
}

void Builder::fixedAddress(const Stmt& s, Frame& f) {
    if (f.ctx != Ctx::Host) {
        error(s.where, "fixed-address parameter not allowed here: it belongs in a host declaration");
        return;
    }
    bool wantAddr = true;
    for (const auto& a : s.atoms) {
        if (a.kind == Atom::Kind::Comma && !wantAddr) {
            wantAddr = true;
            continue;
        }
        if (!wantAddr) {
            error(a.where, "expecting ',' between fixed addresses");
            return;
        }
        auto r = address(a, "a fixed address");
        if (!r) return;
        hosts_[f.host].fixedAddresses.push_back(*r);
        wantAddr = false;
    }
    if (wantAddr) error(endOf(s), "expecting an address after fixed-address");
}

void Builder::interfaceStmt(const Stmt& s, Frame& f) {
    if (f.ctx != Ctx::Subnet && f.ctx != Ctx::SharedNetwork) {
        // ISC points at the enclosing declaration here, so we do too; the note says where.
        const Frame* decl = &f;
        while (decl && decl->scope && decl->scope->where.line == 0 && decl->outer) decl = decl->outer;
        Location at = (decl && decl->scope && decl->scope->where.line) ? decl->scope->where : s.where;
        error(at, std::string("expecting a parameter or declaration: ") + ctxName(f.ctx) +
                      " cannot hold an interface statement (at " + s.where.str() +
                      "); put it in a subnet or shared-network");
        return;
    }
    if (!expectAtoms(s, 1, "the interface name")) return;
    SharedNetwork& n = nets_[f.net];
    std::string& slot = f.ctx == Ctx::Subnet ? n.subnets[f.subnet].interface : n.interface;
    if (!slot.empty()) {
        error(s.where, "A subnet or shared network can't be connected to two interfaces (already " + slot + ")");
        return;
    }
    slot = s.atoms[0].text;
}

void Builder::serverDuid(const Stmt& s, Frame& /*f*/) {
    // ISC's forms: llt [HWTYPE TIME HWADDR], en NUMBER "ID", ll [HWTYPE HWADDR], NUMBER "ID".
    if (s.atoms.empty()) {
        error(endOf(s), "DUID type of LLT, EN, or LL expected");
        return;
    }
    const Atom& type = s.atoms[0];
    auto hwType = [&](std::size_t i) {
        if (i >= s.atoms.size() || !hardwareType(s.atoms[i].text)) {
            error(i < s.atoms.size() ? s.atoms[i].where : endOf(s), "hardware type expected");
            return false;
        }
        return true;
    };
    auto hwAddr = [&](std::size_t i) {
        if (i >= s.atoms.size() || s.atoms[i].kind != Atom::Kind::Word || !parseHexList(s.atoms[i].text)) {
            error(i < s.atoms.size() ? s.atoms[i].where : endOf(s), "expecting hexadecimal number.");
            return false;
        }
        return true;
    };
    auto done = [&](std::size_t n) {
        if (s.atoms.size() > n) error(s.atoms[n].where, "unexpected " + describe(s.atoms[n]) + "; expecting ';'");
    };
    if (type.kind == Atom::Kind::Word && iequals(type.text, "llt")) {
        if (s.atoms.size() == 1) return;
        if (!hwType(1)) return;
        if (s.atoms.size() < 3 || !parseUnsigned(s.atoms[2].text, UINT32_MAX) || s.atoms[2].kind != Atom::Kind::Word) {
            error(s.atoms.size() < 3 ? endOf(s) : s.atoms[2].where, "timestamp expected");
            return;
        }
        if (hwAddr(3)) done(4);
    } else if (type.kind == Atom::Kind::Word && iequals(type.text, "ll")) {
        if (s.atoms.size() == 1) return;
        if (hwType(1) && hwAddr(2)) done(3);
    } else if (type.kind == Atom::Kind::Word && iequals(type.text, "en")) {
        if (s.atoms.size() < 2 || s.atoms[1].kind != Atom::Kind::Word || !parseUnsigned(s.atoms[1].text, UINT32_MAX)) {
            error(s.atoms.size() < 2 ? endOf(s) : s.atoms[1].where, "enterprise number expected");
            return;
        }
        if (s.atoms.size() < 3 || s.atoms[2].kind != Atom::Kind::String) {
            error(s.atoms.size() < 3 ? endOf(s) : s.atoms[2].where, "identifier expected");
            return;
        }
        done(3);
    } else if (type.kind == Atom::Kind::Word && parseUnsigned(type.text, 65535)) {
        if (s.atoms.size() < 2 || s.atoms[1].kind != Atom::Kind::String) {
            error(s.atoms.size() < 2 ? endOf(s) : s.atoms[1].where, "identifier expected");
            return;
        }
        done(2);
    } else {
        error(type.where, "DUID type of LLT, EN, or LL expected");
    }
}

// ---------------------------------------------------------------- metrics-listen

// Tandem's own statement, unknown to ISC dhcpd: an ISC peer reading it refuses
// to start, so it belongs at the top level of the file only this server reads.
void Builder::metricsListen(const Stmt& s, Frame& f) {
    if (f.ctx != Ctx::Root) {
        error(s.where, std::string("metrics-listen is allowed only at the top level, not in ") + ctxName(f.ctx));
        return;
    }
    if (config_->metricsListen) {
        error(s.where, "metrics-listen given twice (first at " + config_->metricsListen->where.str() + ")");
        return;
    }
    if (s.atoms.empty()) {
        error(endOf(s), "expecting an IPv4 address after metrics-listen");
        return;
    }
    MetricsListen m;
    m.where = s.where;
    const Atom& a = s.atoms[0];
    auto ip = a.kind == Atom::Kind::Word ? parseIpv4(a.text) : std::nullopt;
    if (!ip) {
        // A name would have to be looked up before the socket can be bound, and
        // `-t` must work offline: an address only.
        error(a.where, "metrics-listen needs an IPv4 address, not " + describe(a));
        return;
    }
    m.address = *ip;
    if (s.atoms.size() > 1) {
        if (s.atoms[1].kind != Atom::Kind::Word || !iequals(s.atoms[1].text, "port")) {
            error(s.atoms[1].where, "unexpected " + describe(s.atoms[1]) + " after the address; expecting `port` or ';'");
            return;
        }
        auto port = number(s, 2, 65535, "a port number");
        if (!port) return;
        if (*port == 0) {
            error(s.atoms[2].where, "metrics-listen port 0 is not a port (1 to 65535)");
            return;
        }
        if (!expectAtoms(s, 3, "the port number")) return;
        m.port = static_cast<uint16_t>(*port);
    }
    config_->metricsListen = m;
}

void checkMetricsListenFile(const Config& config, const std::string& mainFile, common::DiagnosticSink& sink) {
    if (!config.metricsListen || config.metricsListen->where.fileName() == mainFile) return;
    sink.error(config.metricsListen->where,
               "metrics-listen is allowed only in the file tandemd reads first (" + mainFile +
                   "), not in one it includes: a file shared with an ISC dhcpd peer must not carry it");
}

}  // namespace tandem::conf
