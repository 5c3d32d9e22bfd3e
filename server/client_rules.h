// Client policy drawn from the configuration: which classes a packet belongs
// to, whether a pool's allow/deny lists admit a client, which ranges serve
// BOOTP, and the event statements (`on commit/release/expiry`) to run. It is
// the server's one door to expression evaluation, so the processor never
// walks expression trees itself.
#ifndef TANDEM_SERVER_CLIENT_RULES_H
#define TANDEM_SERVER_CLIENT_RULES_H

#include <cstdint>
#include <string>
#include <vector>

#include "common/dhcp_packet.h"
#include "common/lease_record.h"
#include "conf/config.h"

namespace tandem::server {

class ClientRules {
public:
    struct Classes {
        std::vector<const conf::Class*> classes;   ///< in ISC's classification order
        std::vector<const conf::Scope*> scopes;    ///< their scopes (and matched subclasses'), same order
        bool member(const std::string& name) const;
    };

    explicit ClientRules(const conf::Config& config) : config_(config) {}

    /// @brief The classes `packet` belongs to.
    void classify(const common::Packet4& packet, bool known, Classes& out) const;
    /// @brief ISC's permit_list_match over the pool's allow and deny lists.
    bool poolPermits(const conf::Pool& pool, bool known, const Classes& classes, common::Time now,
                     bool bootp = false) const;
    bool poolHasDynamicBootp(const conf::Pool& pool) const;
    bool rangeIsDynamicBootp(const conf::Pool& pool, uint32_t address) const;
    /// @brief Run the lease's `on EVENT` statements (recorded at commit) for `event`.
    void runEvents(const common::LeaseRecord& lease, const std::string& event, const common::Packet4& packet) const;

private:
    const conf::Config& config_;
};

}  // namespace tandem::server

#endif
