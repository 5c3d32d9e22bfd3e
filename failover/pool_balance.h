// Pool rebalancing between failover peers, computed as ISC dhcpd 4.4 does it
// (dhcp_failover_pool_dobalance and dhcp_failover_pool_check in failover.c):
// which of this server's allocatable leases to hand to the peer, whether the
// pool stays imbalanced, whether to send POOLREQ, and when to look again. Pure:
// the caller passes counts and the free (primary) or backup (secondary) queue
// in queue order, and applies the answer to its lease store. No timers, no
// sockets, no randomness (the jitter ISC draws from random() is an input).
#ifndef TANDEM_FAILOVER_POOL_BALANCE_H
#define TANDEM_FAILOVER_POOL_BALANCE_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/lease_record.h"
#include "failover/load_balance.h"
#include "failover/role.h"

namespace tandem::failover {

/// @brief The balancing knobs of a peer block, with ISC 4.4's defaults.
struct BalanceParams {
    uint32_t maxLeaseMisbalance = 15;  ///< percent
    uint32_t maxLeaseOwnership = 10;   ///< percent
    uint32_t minBalance = 60;          ///< seconds
    uint32_t maxBalance = 3600;        ///< seconds
};

/// @brief One lease of the queue this server allocates from.
struct QueuedLease {
    uint32_t address = 0;
    common::Time ends = 0;             ///< 0: never used
    std::optional<uint8_t> clientHash; ///< loadBalanceHash(leaseKey(lease)), if it has a key
};

/// @brief One pool as the balancer sees it.
struct PoolSnapshot {
    std::string name;         ///< shared-network name, for the log lines
    uint64_t id = 0;          ///< ISC logs the pool's address; any stable number does
    int leaseCount = 0;       ///< every lease of the pool (ISC's "total" in the log)
    int freeLeases = 0;       ///< FREE count
    int backupLeases = 0;     ///< BACKUP count
    /// FREE queue on the primary, BACKUP queue on the secondary, in queue order
    /// (ISC keeps these sorted oldest first).
    std::vector<QueuedLease> ownQueue;
};

struct PoolBalanceResult {
    /// Addresses to move to the peer's free state, in order; each gets
    /// tstp = starts = now and is queued as a BNDUPD.
    std::vector<uint32_t> give;
    int ltsBefore = 0;   ///< leases to send before giving
    int lts = 0;         ///< after giving
    int thresh = 0;      ///< round(total * misbalance%)
    int hold = 0;        ///< round(total * ownership%)
    int freeAfter = 0, backupAfter = 0;
    bool imbalanced = false;  ///< lts > thresh after giving (ISC logs IMBALANCED at error level)
    bool sendPoolReq = false; ///< only ever set when the caller allowed it (timer runs)
    std::string logBalancing; ///< "balancing pool ..." as ISC words it
    std::string logResult;    ///< "balanced pool ..." or "IMBALANCED pool ..."
};

/// @brief Rebalance one pool. Only call in normal state (ISC balances nowhere else).
/// @param role       this server's role (the primary gives FREE -> BACKUP, the secondary BACKUP -> FREE)
/// @param hba        the bitmap, for MAC affinity; nothing makes pass 1 give nothing
/// @param mayPoolReq true on the rebalance timer's run; entry to normal and POOLREQ pass false
PoolBalanceResult balancePool(const PoolSnapshot& pool, Role role, const std::optional<Hba>& hba,
                              const BalanceParams& params, bool mayPoolReq);

/// @brief ISC's secondary_not_hoarding(): may the primary send one more lease to
/// BACKUP for MAC affinity?
bool secondaryNotHoarding(int freeLeases, int backupLeases, uint32_t maxLeaseOwnership);

/// @brief What dhcp_failover_pool_check() needs to place the next rebalance.
struct ScheduleInput {
    Role role = Role::Primary;
    common::Time now = 0;
    std::optional<common::Time> oldestFreeEnds;    ///< ends of the FREE queue's head, if any
    std::optional<common::Time> oldestBackupEnds;  ///< ends of the BACKUP queue's head, if any
    common::Time lastBalance = 0;                  ///< when the last rebalance ran (0: never)
    common::Time scheduled = 0;                    ///< the rebalance already armed (0: none)
    unsigned jitter = 0;                           ///< ISC's random() % 5, injected
};

/// @brief The next rebalance time, or nothing when the armed one is already
/// earlier or equal (ISC only ever moves the timer earlier).
std::optional<common::Time> nextRebalance(const ScheduleInput& in, const BalanceParams& params);

/// @brief The log line for a POOLREQ that moved nothing.
std::string poolReqNegativeLog(const std::string& peerName);

}  // namespace tandem::failover

#endif
