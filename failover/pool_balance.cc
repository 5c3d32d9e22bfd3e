#include "failover/pool_balance.h"

#include <cstdio>

namespace tandem::failover {

namespace {

// ISC rounds percentages of a count as (x * p + 50) / 100.
int percentOf(int x, uint32_t pct) { return static_cast<int>((static_cast<int64_t>(x) * pct + 50) / 100); }

std::string format(const char* fmt, const std::string& name, uint64_t id, int total, int free, int backup, int lts,
                   int n, const char* tail) {
    char buf[256];
    std::snprintf(buf, sizeof buf, fmt, static_cast<unsigned long long>(id), name.c_str(), total, free, backup, lts, n,
                  tail);
    return buf;
}

}  // namespace

PoolBalanceResult balancePool(const PoolSnapshot& pool, Role role, const std::optional<Hba>& hba,
                              const BalanceParams& params, bool mayPoolReq) {
    PoolBalanceResult r;
    // Half the difference evens the two sides out.
    int lts = role == Role::Primary ? (pool.freeLeases - pool.backupLeases) / 2
                                    : (pool.backupLeases - pool.freeLeases) / 2;
    int total = pool.freeLeases + pool.backupLeases;
    r.thresh = percentOf(total, params.maxLeaseMisbalance);
    r.hold = percentOf(total, params.maxLeaseOwnership);
    r.ltsBefore = lts;

    // Needing more than twice the allowed misbalance means the peer is not giving
    // back on its own. A threshold of 0 becomes -1 so that one missing lease does
    // not already raise the alarm.
    int panic = r.thresh * -2;
    if (panic == 0) panic = -1;
    r.sendPoolReq = mayPoolReq && lts < panic;

    r.logBalancing = format("balancing pool %llx %s  total %d  free %d  backup %d  lts %d  max-own (+/-)%d%s",
                            pool.name, pool.id, pool.leaseCount, pool.freeLeases, pool.backupLeases, lts, r.hold,
                            r.sendPoolReq ? "  (requesting peer rebalance!)" : "");

    // Pass 1 keeps MAC affinity: give the leases whose last client the peer would
    // serve anyway, letting the peer run up to hold% ahead. Pass 2 gives the
    // oldest leases regardless: never-used ones until even, used ones only while
    // we hold more than hold% over even.
    std::vector<bool> given(pool.ownQueue.size(), false);
    for (int pass = 0; pass < 2; ++pass) {
        bool stop = false;
        for (std::size_t i = 0; i < pool.ownQueue.size() && !stop; ++i) {
            const QueuedLease& l = pool.ownQueue[i];
            if (given[i]) continue;  // ISC's pass 2 meets these in the peer's queue, not ours
            if (pass == 0) {
                if (lts <= -r.hold) stop = true;
            } else if (l.ends != 0) {
                if (lts <= r.hold) stop = true;
            } else if (lts <= 0) {
                stop = true;
            }
            if (stop) break;
            bool wants = pass == 1 || (hba && l.clientHash && peerWantsBucket(*hba, role, *l.clientHash));
            if (wants) {
                --lts;
                given[i] = true;
                r.give.push_back(l.address);
            }
        }
        if (stop && pass == 0) {
            // ISC leaves the walk entirely when pass 1 meets its bound.
            break;
        }
    }

    int moved = static_cast<int>(r.give.size());
    r.freeAfter = pool.freeLeases + (role == Role::Primary ? -moved : moved);
    r.backupAfter = pool.backupLeases + (role == Role::Primary ? moved : -moved);
    r.lts = lts;
    r.imbalanced = lts > r.thresh;
    r.logResult = format(r.imbalanced ? "IMBALANCED pool %llx %s  total %d  free %d  backup %d  lts %d  max-misbal %d%s"
                                      : "balanced pool %llx %s  total %d  free %d  backup %d  lts %d  max-misbal %d%s",
                         pool.name, pool.id, pool.leaseCount, r.freeAfter, r.backupAfter, lts, r.thresh, "");
    return r;
}

bool secondaryNotHoarding(int freeLeases, int backupLeases, uint32_t maxLeaseOwnership) {
    int total = freeLeases + backupLeases;
    int hold = percentOf(total, maxLeaseOwnership);
    int lts = (freeLeases - backupLeases) / 2;
    return lts > -hold;
}

std::optional<common::Time> nextRebalance(const ScheduleInput& in, const BalanceParams& params) {
    using common::Time;
    // The age of the oldest free lease guesses how long the pool takes to drain;
    // ISC schedules for when the misbalance would be worth acting on.
    Time estFree = in.oldestFreeEnds && *in.oldestFreeEnds < in.now ? in.now - *in.oldestFreeEnds : 0;
    Time estBackup = in.oldestBackupEnds && *in.oldestBackupEnds < in.now ? in.now - *in.oldestBackupEnds : 0;
    estFree = (estFree * params.maxLeaseMisbalance + 50) / 100;
    estBackup = (estBackup * params.maxLeaseMisbalance + 50) / 100;
    // Our own side is where we would start sending POOLREQs, at twice the misbalance.
    if (in.role == Role::Primary)
        estFree *= 2;
    else
        estBackup *= 2;
    Time est = estFree > estBackup ? estBackup : estFree;
    if (est > static_cast<Time>(params.maxBalance)) est = params.maxBalance;
    est += in.now;
    Time floor = in.lastBalance + params.minBalance;
    if (in.lastBalance && est < floor) est = floor;
    est += in.jitter;
    if (in.scheduled && est >= in.scheduled) return std::nullopt;
    return est;
}

std::string poolReqNegativeLog(const std::string& peerName) {
    return "peer " + peerName +
           ": Got POOLREQ, answering negatively!  Peer may be out of leases or database inconsistent.";
}

}  // namespace tandem::failover
