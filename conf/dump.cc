#include "conf/dump.h"

#include <cctype>
#include <ostream>

#include "common/option_value.h"
#include "conf/words.h"

namespace tandem::conf {

namespace {

std::string quoteIfNeeded(const std::string& s) {
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return "\"" + s + "\"";
    return s.empty() ? "\"\"" : s;
}

/// Printable bytes as a quoted string, others as ISC's colon-separated hex.
std::string data(const std::vector<uint8_t>& bytes) {
    bool printable = !bytes.empty();
    for (uint8_t b : bytes)
        if (b < 0x20 || b > 0x7e || b == '"' || b == '\\') printable = false;
    return printable ? "\"" + std::string(bytes.begin(), bytes.end()) + "\"" : hexString(bytes);
}

std::string addr(const AddressRef& a) { return a.isName() ? a.hostname : ipv4String(a.addr); }

class Dumper {
public:
    Dumper(const Config& c, std::ostream& out) : c_(c), out_(out) {}

    void line(int depth, const std::string& text) { out_ << std::string(std::size_t(depth) * 2, ' ') << text << '\n'; }

    void scope(const Scope& s, int depth) {
        for (const auto& [name, p] : s.params) {
            std::string v;
            if (p.expr) {
                v = "= <expression>";
            } else if (const common::OptionDef* def = c_.options.find("server", name)) {
                v = common::renderValue(*def, p.value.wire);
            } else {
                v = p.value.wire.empty() ? "" : std::to_string(p.value.wire[0]);
            }
            line(depth, "param " + name + (v.empty() ? "" : " " + v));
        }
        for (const auto& o : s.options) {
            std::string v;
            if (o.expr) {
                v = "= <expression>";
            } else if (const common::OptionDef* def = c_.options.find(o.space, o.name)) {
                v = common::renderValue(*def, o.value.wire);
            }
            line(depth, o.verb + " " + o.space + "." + o.name + " (" + std::to_string(o.code) + ")" +
                            (v.empty() ? "" : " " + v));
        }
        if (!s.statements.empty()) line(depth, "statements " + std::to_string(s.statements.size()));
    }

    void run() {
        line(0, "global");
        scope(*c_.global, 1);
        if (const auto& m = c_.metricsListen)
            line(0, "metrics-listen " + ipv4String(m->address) + " port " + std::to_string(m->port));
        for (const auto& p : c_.failoverPeers) peer(p);
        for (const auto& st : c_.failoverStates) {
            line(0, "failover-state " + quoteIfNeeded(st.name));
            if (!st.myState.empty()) line(1, "my-state " + st.myState + " at " + std::to_string(st.myStateTime));
            if (!st.partnerState.empty())
                line(1, "partner-state " + st.partnerState + " at " + std::to_string(st.partnerStateTime));
            if (st.mclt) line(1, "mclt " + std::to_string(*st.mclt));
        }
        for (const auto& g : c_.groups) {
            line(0, "group" + (g.name.empty() ? std::string() : " " + quoteIfNeeded(g.name)));
            scope(*g.scope, 1);
        }
        for (const auto& n : c_.networks) network(n);
        for (const auto& h : c_.hosts) host(h);
        for (const auto& cl : c_.classes) klass(cl);
        for (const auto& k : c_.keys) line(0, "key " + quoteIfNeeded(k.name) + " algorithm " + k.algorithm);
        for (const auto& u : c_.unsupported) line(0, "not-acted-on " + u.what);
    }

    void peer(const FailoverPeer& p) {
        line(0, "failover-peer " + quoteIfNeeded(p.name) +
                    (p.role == FailoverPeer::Role::Primary ? " primary" : " secondary"));
        line(1, "address " + addr(p.address) + " port " + std::to_string(p.port));
        line(1, "peer-address " + addr(p.peerAddress) + " port " + std::to_string(p.peerPort));
        line(1, "max-response-delay " + std::to_string(p.maxResponseDelay) + " max-unacked-updates " +
                    std::to_string(p.maxUnackedUpdates));
        if (p.mcltGiven) line(1, "mclt " + std::to_string(p.mclt));
        if (p.split) line(1, "split " + std::to_string(*p.split));
        if (!p.hba.empty()) line(1, "hba " + hexString(p.hba));
        line(1, "load-balance-max-seconds " + std::to_string(p.loadBalanceMaxSeconds) + " auto-partner-down " +
                    std::to_string(p.autoPartnerDown));
        line(1, "balance misbalance " + std::to_string(p.maxLeaseMisbalance) + " ownership " +
                    std::to_string(p.maxLeaseOwnership) + " min " + std::to_string(p.minBalance) + " max " +
                    std::to_string(p.maxBalance));
        // Tandem only: the failover link's TLS, when configured.
        if (p.tls.enabled()) {
            line(1, "tls-certificate " + quoteIfNeeded(p.tls.certificate.value));
            line(1, "tls-key " + quoteIfNeeded(p.tls.key.value));
            line(1, "tls-ca " + quoteIfNeeded(p.tls.ca.value));
            if (p.tls.peerName.given()) line(1, "tls-peer-name " + quoteIfNeeded(p.tls.peerName.value));
        }
    }

    void network(const SharedNetwork& n) {
        int d = 0;
        if (!n.implicit) {
            line(0, "shared-network " + quoteIfNeeded(n.name) + (n.interface.empty() ? "" : " interface " + n.interface));
            scope(*n.scope, 1);
            d = 1;
        }
        for (const auto& s : n.subnets) {
            line(d, "subnet " + ipv4String(s.number) + " netmask " + ipv4String(s.netmask) +
                        (s.interface.empty() ? "" : " interface " + s.interface));
            scope(*s.scope, d + 1);
        }
        for (const auto& p : n.pools) {
            line(d, std::string(p.implicit ? "pool (implicit)" : "pool") +
                        (p.failoverPeer.empty() ? "" : " failover " + quoteIfNeeded(p.failoverPeer)));
            for (const auto& r : p.ranges)
                line(d + 1, std::string("range ") + (r.dynamicBootp ? "dynamic-bootp " : "") + ipv4String(r.low) + " " +
                                ipv4String(r.high));
            for (const auto& pm : p.permits) line(d + 1, permit(pm));
            if (!p.implicit) scope(*p.scope, d + 1);
        }
    }

    static std::string permit(const Permit& p) {
        std::string w = p.allow ? "allow " : "deny ";
        switch (p.kind) {
            case Permit::Kind::KnownClients: return w + "known-clients";
            case Permit::Kind::UnknownClients: return w + "unknown-clients";
            case Permit::Kind::MembersOf: return w + "members of " + quoteIfNeeded(p.className);
            case Permit::Kind::DynamicBootpClients: return w + "dynamic bootp clients";
            case Permit::Kind::AuthenticatedClients: return w + "authenticated clients";
            case Permit::Kind::UnauthenticatedClients: return w + "unauthenticated clients";
            case Permit::Kind::AllClients: return w + "all clients";
            case Permit::Kind::After: return w + "after " + std::to_string(p.after);
        }
        return w;
    }

    void host(const Host& h) {
        line(0, "host " + quoteIfNeeded(h.name));
        if (h.htype) line(1, "hardware " + std::to_string(*h.htype) + " " + hexString(h.hwaddr));
        if (!h.clientId.empty()) line(1, "client-id " + hexString(h.clientId));
        for (const auto& a : h.fixedAddresses) line(1, "fixed-address " + addr(a));
        scope(*h.scope, 1);
    }

    void klass(const Class& c) {
        line(0, "class " + quoteIfNeeded(c.name));
        if (c.matchIf) line(1, "match-if <expression>");
        if (c.match) line(1, "match <expression>");
        if (c.spawnWith) line(1, "spawn-with <expression>");
        if (c.leaseLimit) line(1, "lease-limit " + std::to_string(*c.leaseLimit));
        scope(*c.scope, 1);
        for (const auto& s : c.subclasses) {
            line(1, "subclass " + data(s.data));
            if (s.scope) scope(*s.scope, 2);
        }
    }

private:
    const Config& c_;
    std::ostream& out_;
};

}  // namespace

void dumpConfig(const Config& config, std::ostream& out) { Dumper(config, out).run(); }

}  // namespace tandem::conf
