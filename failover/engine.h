// The failover engine: every `failover peer` relationship of the configuration,
// their listeners, connectors and links, wired into the DHCP server through
// server::FailoverPort (the server asks; the engine answers for the pool's
// relationship) and RelationshipHost (the engine gives relationships the lease
// store, the lease file and the timers). It also answers tandemctl's failover
// commands. Protocol decisions stay in Relationship and the pure policy modules.
#ifndef TANDEM_FAILOVER_ENGINE_H
#define TANDEM_FAILOVER_ENGINE_H

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/event.h"
#include "failover/relationship.h"
#include "server/failover_port.h"
#include "server/server.h"

namespace tandem::failover {

class LinkManager;

class FailoverEngine final : public server::FailoverPort, public RelationshipHost {
public:
    FailoverEngine(common::EventLoop& loop, const common::Clock& clock, server::Server& server);
    ~FailoverEngine() override;
    FailoverEngine(const FailoverEngine&) = delete;
    FailoverEngine& operator=(const FailoverEngine&) = delete;

    /// @brief One relationship per `failover peer` with pools; pools are tied to theirs.
    /// Call before the server reads its lease file. False (ISC's sanity check) when a
    /// peer has no pool.
    bool configure(std::string& error);
    bool empty() const { return relationships_.empty(); }
    /// @brief After the lease file is read: take each relationship's saved state, so
    /// that the start-up rewrite writes it back (call before Server::compactLeases).
    void restore();
    /// @brief Enter startup from the restored states, listen, connect.
    bool start(std::string& error);
    /// @brief ISC's failover sanity check on a configuration: every peer has pools.
    static bool check(const conf::Config& config, std::string& error);
    /// @brief The server has swapped in a new configuration: keep every relationship
    /// whose definition is unchanged (same link, same state), restart the ones that
    /// changed, start new ones, stop removed ones, and tie the new pools to them.
    void reload();
    /// @brief Close every link (a plain stop: see tandemd(8) on what the peer then does).
    void stop();

    /// @brief The state blocks a lease-file rewrite writes.
    std::vector<conf::FailoverPeerState> stateBlocks() const;
    Relationship* find(const std::string& name) const;
    std::vector<RelationshipStatus> status() const;
    /// @brief `tandemctl status` text.
    std::string statusText() const;

    // ---- server::FailoverPort
    bool responding(const server::PoolState& pool, std::string& why) const override;
    bool loadBalanceMine(const server::PoolState& pool, const common::Packet4& packet) const override;
    bool peerHasLeases(const server::PoolState& pool) const override;
    bool mayAllocate(const server::Lease& lease, common::Time now) const override;
    bool allocatesFromBackup(const server::PoolState& pool) const override;
    bool mayUsePeerFree(const server::PoolState& pool, common::Time now) const override;
    uint32_t grantLeaseTime(const server::Lease& lease, uint32_t desired, common::Time now,
                            common::Time& tstp) const override;
    bool mayNak(const server::Lease& lease) const override;
    common::BindingState expiredState(const server::Lease& lease) const override;
    bool runsExpiry(const server::PoolState& pool) const override;
    void leaseChanged(server::Lease& lease) override;

    // ---- RelationshipHost
    server::LeaseStore& store() override { return server_.store(); }
    void leaseWritten(server::Lease& lease) override { server_.leaseUpdated(lease); }
    bool persistState(const conf::FailoverPeerState& block) override;
    void whenDurable(std::function<void(bool)> then) override { server_.commitThen(std::move(then)); }
    const common::Clock& clock() const override { return clock_; }
    common::TimerService& timers() override { return timers_; }

private:
    static Relationship* of(const server::PoolState& pool) { return static_cast<Relationship*>(pool.failover); }
    void attachPools();

    common::EventLoop& loop_;
    const common::Clock& clock_;
    server::Server& server_;
    common::LoopTimerService timers_;
    std::vector<std::unique_ptr<Relationship>> relationships_;
    std::unique_ptr<LinkManager> links_;
};

}  // namespace tandem::failover

#endif
