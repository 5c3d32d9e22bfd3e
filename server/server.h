// The running DHCP server: the processor, the lease store and the lease file
// wired to the sockets on one event loop. Packets are handled in the batches
// the sockets deliver; every lease change of a batch is appended to the lease
// file, the file is committed once (group commit), and only then do the
// replies that depend on those changes leave. Start-up (reading the lease
// file, the compacting rewrite) and the periodic rewrite live here too. The
// process concerns (fork, pid file, privileges) are daemon.h's; failover
// reaches in only through FailoverPort.
#ifndef TANDEM_SERVER_SERVER_H
#define TANDEM_SERVER_SERVER_H

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/event.h"
#include "conf/config.h"
#include "server/commit_worker.h"
#include "server/dhcp4_processor.h"
#include "server/lease_file.h"
#include "server/lease_store.h"
#include "server/packet_io.h"
#include "server/ping.h"
#include "server/topology.h"

namespace tandem::server {

struct ServerOptions {
    std::string leaseFile;
    std::vector<std::string> interfaces;  ///< named on the command line
    uint16_t port = kDefaultServerPort;
    bool quiet = false;
};

/// The failover state blocks a rewrite writes (the failover engine owns them).
using SnapshotExtras = std::function<std::vector<conf::FailoverPeerState>()>;

class Server final : public LeaseSink {
public:
    Server(common::EventLoop& loop, const common::Clock& clock, conf::ConfigPtr config, ServerOptions options);
    ~Server() override;
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// @brief ISC's start-up in two steps: read the lease file into the store
    /// (readLeases), then, once failover has taken its saved states, expire what
    /// is due and rewrite the file compacted (compactLeases). False with a
    /// message on a fatal problem.
    bool readLeases(std::string& error);
    bool compactLeases(std::string& error);
    /// @brief -T: read the lease file as readLeases() does, write the rewrite to
    /// `<file>.<time>` and delete it, touching nothing else.
    bool testLeases(std::string& error);
    /// @brief Open sockets and timers. False with ISC's wording on failure.
    bool start(std::string& error);
    /// @brief Swap in a checked configuration: a new store holding every binding of
    /// the old one, new topology and policy, the sockets reopened only if the
    /// interfaces changed. False (the old configuration stays) when it cannot be served.
    /// The failover engine must be told next (FailoverEngine::reload).
    bool reload(conf::ConfigPtr config, std::string& error);
    /// @brief Commit whatever is pending, then stop the loop.
    void shutdown();

    /// @brief Let failover into the server (before readLeases).
    void setFailover(FailoverPort* port) { failover_ = port; }
    void setSnapshotExtras(SnapshotExtras extras) { extras_ = std::move(extras); }
    /// @brief The failover state blocks the lease file held at start (last one per peer).
    const std::vector<conf::FailoverPeerState>& savedFailoverStates() const { return failoverStates_; }

    LeaseStore& store() { return *store_; }
    const Topology& topology() const { return *topo_; }
    const conf::Config& config() const { return *config_; }
    LeaseFile& leaseFile() { return *leaseFile_; }
    PacketIo& packetIo() { return io_; }
    const ProcessorStats& stats() const { return processor_->stats(); }
    /// @brief Packets that did not decode as DHCP (dropped and logged, rate-limited).
    uint64_t badPackets() const { return badPackets_; }
    /// @brief Told the duration of every lease-file commit, in seconds (metrics).
    void setCommitObserver(std::function<void(double)> observer) { commitObserver_ = std::move(observer); }

    /// @brief Commit appended records now; run `then` once they are durable (or
    /// with false when the commit failed). Used by failover for BNDACKs too.
    void commitThen(std::function<void(bool durable)> then);
    /// @brief Commit now (and release what waited for it); false when the commit failed.
    bool commitNow();
    /// @brief A lease changed outside the processor (failover): file it and write it.
    void leaseUpdated(Lease& lease);

    // LeaseSink
    void leaseChanged(const Lease& lease) override;

private:
    struct PendingReply {
        int ifindex;
        Destination to;
        uint32_t source;
        std::vector<uint8_t> bytes;
        LeaseFile::Ticket ticket;  ///< sent once this record is durable
    };
    struct PendingPing {
        common::Packet4 packet;
        Ingress ingress;
        int ifindex;
    };
    /// What the lease file held besides leases, written back at every rewrite.
    struct Kept {
        std::vector<conf::LeaseFileHost> hosts;
        std::vector<conf::LeaseFileClass> classes;
        std::vector<conf::LeaseFileGroup> groups;
        std::optional<std::string> serverDuid;
    };

    void onPacket(const ReceivedPacket& rp);
    void onBatchEnd();
    void handle(Outcome&& o, const common::Packet4& request, const Ingress& in, int ifindex);
    bool selectServed(const conf::Config& config, std::vector<ServedInterface>& served, std::string& error) const;
    void queueReply(const Outcome& o, const common::Packet4& request, int ifindex, bool durable);
    void commitAndRelease();
    void appended();
    void onCommitDone(std::unique_ptr<LeaseFile::CommitJob> job);
    void release(LeaseFile::Ticket failedUpTo);
    void reportCommitFailure(const std::string& message);
    void onExpiryTimer();
    void armExpiry();
    void maybeRewrite();
    /// Writes the database in ISC's rewrite order to anything with the SnapshotWriter calls.
    template <typename Sink>
    void snapshotTo(Sink& w);
    void onPing(uint32_t address, bool answered);
    Ingress ingressFor(const ReceivedPacket& rp) const;

    common::EventLoop& loop_;
    const common::Clock& clock_;
    conf::ConfigPtr config_;
    ServerOptions options_;
    std::unique_ptr<LeaseStore> store_;
    std::unique_ptr<Topology> topo_;
    std::vector<ServedInterface> served_;
    FailoverPort* failover_ = nullptr;
    std::unique_ptr<Dhcp4Processor> processor_;
    std::unique_ptr<LeaseFile> leaseFile_;
    PacketIo io_;
    common::LoopTimerService timers_;
    PingService ping_;
    common::Timer expiryTimer_;
    common::Timer commitSoon_;  ///< records appended outside a packet batch (failover, timers)
    common::Time expiryArmedFor_ = 0;
    std::vector<PendingReply> durable_;
    std::vector<std::pair<LeaseFile::Ticket, std::function<void(bool)>>> afterCommit_;
    std::unordered_map<uint32_t, PendingPing> pings_;
    SnapshotExtras extras_;
    Kept kept_;
    std::vector<conf::FailoverPeerState> failoverStates_;
    bool inBatch_ = false;
    uint64_t badPackets_ = 0;
    common::RateLimiter badPacketLog_{10, 60};
    common::RateLimiter commitErrorLog_{5, 60};
    std::function<void(double)> commitObserver_;
    std::chrono::steady_clock::time_point commitStarted_;  ///< for the latency metric only
    std::unique_ptr<CommitWorker> worker_;  ///< last: it calls back into the members above
};

}  // namespace tandem::server

#endif
