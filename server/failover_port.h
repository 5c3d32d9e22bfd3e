// What the DHCP server asks of failover, and nothing more: the server defines
// this interface and the failover engine implements it, so server/ never
// includes failover/ (this replaces ISC's #ifdef FAILOVER_PROTOCOL blocks
// spread through dhcp.c and mdb.c). Pools without a `failover peer` never
// reach it. All calls come from the event loop thread.
#ifndef TANDEM_SERVER_FAILOVER_PORT_H
#define TANDEM_SERVER_FAILOVER_PORT_H

#include <cstdint>
#include <string>

#include "common/dhcp_packet.h"
#include "common/lease_record.h"

namespace tandem::server {

struct Lease;
struct PoolState;

class FailoverPort {
public:
    virtual ~FailoverPort() = default;

    /// @brief Whether the relationship lets this server answer clients at all
    /// (not in startup, recover, potential-conflict, ...). When not, `why` says so for the log.
    virtual bool responding(const PoolState& pool, std::string& why) const = 0;
    /// @brief DISCOVER load balancing (ISC: only while cooperating): true when this
    /// server should answer this client.
    virtual bool loadBalanceMine(const PoolState& pool, const common::Packet4& packet) const = 0;
    /// @brief Whether the peer holds free leases in this pool (ISC's peer_has_leases).
    virtual bool peerHasLeases(const PoolState& pool) const = 0;
    /// @brief Whether this server may give `lease` (free, backup, expired, ...) to a client now.
    virtual bool mayAllocate(const Lease& lease, common::Time now) const = 0;
    /// @brief Whether to allocate from the backup queue (secondary) instead of the free queue.
    virtual bool allocatesFromBackup(const PoolState& pool) const = 0;
    /// @brief In partner-down: whether the peer's free queue may be used too (after MCLT).
    virtual bool mayUsePeerFree(const PoolState& pool, common::Time now) const = 0;
    /// @brief The lease time to grant when the configuration would grant `desired`
    /// (the MCLT rule); `tstp` receives the potential expiration to tell the peer.
    virtual uint32_t grantLeaseTime(const Lease& lease, uint32_t desired, common::Time now, common::Time& tstp) const = 0;
    /// @brief Whether an authoritative server may NAK a request for `lease`
    /// (not when the peer may own it).
    virtual bool mayNak(const Lease& lease) const = 0;
    /// @brief Whether this server expires the pool's active leases now (ISC's
    /// secondary leaves that to the primary while both are normal).
    virtual bool runsExpiry(const PoolState& pool) const = 0;
    /// @brief The state an active lease takes when it ends (EXPIRED with a peer).
    virtual common::BindingState expiredState(const Lease& lease) const = 0;
    /// @brief A lease of a failover pool changed and was appended to the lease file;
    /// queue it for the peer. Called before the commit that makes it durable.
    virtual void leaseChanged(Lease& lease) = 0;
};

}  // namespace tandem::server

#endif
