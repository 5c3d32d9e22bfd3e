#include "server/client_rules.h"

#include <algorithm>

namespace tandem::server {

bool ClientRules::Classes::member(const std::string& name) const {
    return std::any_of(classes.begin(), classes.end(), [&](const conf::Class* c) { return c->name == name; });
}

void ClientRules::classify(const common::Packet4&, bool, Classes& out) const {
    out.classes.clear();
    out.scopes.clear();
}

bool ClientRules::poolPermits(const conf::Pool& pool, bool known, const Classes& classes, common::Time now,
                              bool bootp) const {
    bool anyAllow = false, allowed = false;
    for (const auto& p : pool.permits) {
        bool match = false;
        switch (p.kind) {
            case conf::Permit::Kind::KnownClients: match = known; break;
            case conf::Permit::Kind::UnknownClients: match = !known; break;
            case conf::Permit::Kind::MembersOf: match = classes.member(p.className); break;
            case conf::Permit::Kind::DynamicBootpClients: match = bootp; break;
            // Tandem, like ISC 4.4, authenticates no client.
            case conf::Permit::Kind::AuthenticatedClients: match = false; break;
            case conf::Permit::Kind::UnauthenticatedClients: match = true; break;
            case conf::Permit::Kind::AllClients: match = true; break;
            case conf::Permit::Kind::After: match = now > p.after; break;
        }
        if (p.allow) {
            anyAllow = true;
            if (match) allowed = true;
        } else if (match) {
            return false;
        }
    }
    return !anyAllow || allowed;
}

bool ClientRules::poolHasDynamicBootp(const conf::Pool& pool) const {
    return std::any_of(pool.ranges.begin(), pool.ranges.end(), [](const conf::Range& r) { return r.dynamicBootp; });
}

bool ClientRules::rangeIsDynamicBootp(const conf::Pool& pool, uint32_t address) const {
    for (const auto& r : pool.ranges)
        if (address >= r.low && address <= r.high) return r.dynamicBootp;
    return false;
}

void ClientRules::runEvents(const common::LeaseRecord&, const std::string&, const common::Packet4&) const {}

}  // namespace tandem::server
