// One failover relationship (`failover peer "NAME" { ... }`) at run time: our
// state and the peer's, the link to the peer, the binding-update queues, and
// the timers, driven by the pure state machine (state_machine.h) and the pure
// binding rules (binding_rules.h). It applies their decisions: persists every
// state move to the lease file before it takes effect, sends messages, moves
// leases in the store through the server. Transport is PeerLink's business;
// which relationship a pool belongs to is the engine's.
#ifndef TANDEM_FAILOVER_RELATIONSHIP_H
#define TANDEM_FAILOVER_RELATIONSHIP_H

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/event.h"
#include "conf/config.h"
#include "failover/binding_rules.h"
#include "failover/load_balance.h"
#include "failover/message.h"
#include "failover/pool_balance.h"
#include "failover/role.h"
#include "failover/state.h"
#include "failover/state_machine.h"
#include "server/lease_store.h"

namespace tandem::failover {

/// @brief What a relationship needs from the rest of the daemon.
class RelationshipHost {
public:
    virtual ~RelationshipHost() = default;
    virtual server::LeaseStore& store() = 0;
    /// @brief Append a changed lease to the lease file (not yet durable).
    virtual void leaseWritten(server::Lease& lease) = 0;
    /// @brief Append a failover state block and make it durable now. False when it could not.
    virtual bool persistState(const conf::FailoverPeerState& block) = 0;
    /// @brief Run `then` once everything appended so far is durable (false: the commit failed).
    virtual void whenDurable(std::function<void(bool)> then) = 0;
    virtual const common::Clock& clock() const = 0;
    virtual common::TimerService& timers() = 0;
};

/// @brief The link as a relationship drives it (PeerLink implements it; tests fake it).
class LinkPort {
public:
    virtual ~LinkPort() = default;
    virtual void send(const Message& m) = 0;
    /// @brief The handshake is done: stop the 15-s handshake timer.
    virtual void markEstablished() = 0;
    /// @brief The peer's receive-timer (seconds): CONTACT every third of it.
    virtual void setPartnerReceiveTimer(uint32_t seconds) = 0;
    /// @brief Close; the relationship is told through linkClosed().
    virtual void close(const std::string& reason) = 0;
    /// @brief Write out what is queued (a reject, a DISCONNECT), then close.
    virtual void closeAfterFlush(const std::string& reason) = 0;
    virtual std::size_t pendingOutput() const = 0;
};

struct RelationshipStatus {
    std::string name;
    Role role = Role::Primary;
    FailoverState me = FailoverState::Recover, saved = FailoverState::Recover, peer = FailoverState::UnknownState;
    common::Time stos = 0, peerStos = 0;
    bool linked = false;
    ServiceStatus service;
    uint32_t mclt = 0;
    std::size_t updatesQueued = 0, updatesUnacked = 0, peerUnacked = 0;
    std::optional<int64_t> clockSkew;  ///< the peer's clock minus ours, from its last message
    struct Pool {
        std::string network;
        std::size_t size = 0, free = 0, backup = 0, active = 0, expired = 0, abandoned = 0;
    };
    std::vector<Pool> pools;
};

class Relationship {
public:
    Relationship(const conf::FailoverPeer& config, RelationshipHost& host);
    ~Relationship();
    Relationship(const Relationship&) = delete;
    Relationship& operator=(const Relationship&) = delete;

    const std::string& name() const { return config_->name; }
    Role role() const { return role_; }
    const conf::FailoverPeer& config() const { return *config_; }
    void addPool(server::PoolState* pool) { pools_.push_back(pool); }
    /// @brief A reload kept this relationship's definition: point at the new
    /// configuration's copy and forget the old pools (the engine adds the new ones).
    void rebind(const conf::FailoverPeer& config) {
        config_ = &config;
        pools_.clear();
    }
    const std::vector<server::PoolState*>& pools() const { return pools_; }

    /// @brief Take the state the lease file recorded (none: recover), without acting on it yet.
    void restore(const conf::FailoverPeerState* saved);
    /// @brief Enter startup from the restored state.
    void start();
    /// @brief restore() then start().
    void start(const conf::FailoverPeerState* saved);
    /// @brief A TCP connection to the peer is up (either direction). The handshake on it
    /// decides whether it becomes the link; the loser is refused as ISC refuses it.
    void linkUp(LinkPort* link);
    /// @brief The xid of a CONTACT the link's keepalive sends (ISC numbers it like any request).
    uint32_t contactXid() { return nextXid(); }
    /// @brief Whether `link` is the relationship's established link.
    bool isLink(const LinkPort* link) const { return link == link_ && linked_; }
    void linkClosed(LinkPort* link, const std::string& reason);
    void message(LinkPort* link, const Message& m);

    // ---- what the DHCP server asks (through the engine)
    ServiceStatus service() const;
    bool loadBalanceMine(const common::Packet4& p) const;
    bool peerHasLeases(const server::PoolState& pool) const;
    bool mayAllocate(const common::LeaseRecord& lease, common::Time now) const;
    bool partnerDownService() const;
    uint32_t grantLeaseTime(const common::LeaseRecord& lease, uint32_t desired, common::Time now,
                            common::Time& tstp) const;
    common::BindingState expiredState(const common::LeaseRecord& lease) const;
    bool runsExpiry() const { return failover::runsExpiry(role_, me_); }
    /// @brief A lease of ours changed (a client's binding): queue it for the peer.
    void leaseChanged(server::Lease& lease);

    // ---- administration (tandemctl)
    /// @brief partner-down by hand. Refused while linked unless `force`.
    bool adminPartnerDown(bool force, std::string& why);
    /// @brief Ask the peer for every binding (UPDREQALL) and keep serving.
    bool adminResync(std::string& why);
    /// @brief Announce our shutdown (STATE shutdown), so the peer may take over at once.
    bool adminShutdown(std::string& why);

    RelationshipStatus status() const;
    /// @brief The block a lease-file rewrite writes for this relationship.
    conf::FailoverPeerState stateBlock() const;

private:
    struct Pending {
        uint32_t xid = 0;
        common::BindingState sent = common::BindingState::Free;
        /// The peer's crossing update won: ours is void, but it stays in the window
        /// until the peer's ACK for it comes, or the window would overflow at the peer.
        bool superseded = false;
    };

    Facts facts() const;
    void decideAndApply(const Event& e);
    bool apply(const Decision& d);
    void sendState();
    void sendRequest(MessageType type);
    void send(Message m);
    Message header(MessageType type, uint32_t xid) const;
    uint32_t nextXid(bool forUpdate = false);

    void onConnect(LinkPort* link, const Message& m);
    void onConnectAck(LinkPort* link, const Message& m);
    void onBindUpdate(const Message& m);
    void onBindAck(const Message& m);
    void onUpdateRequest(const Message& m, bool all);
    void onPoolReq(const Message& m);
    void reject(LinkPort* link, MessageType type, uint32_t xid, uint8_t reason, const std::string& text);
    void disconnect(uint8_t reason, const std::string& text);

    void queueUpdate(uint32_t address);
    void queueAll();
    void queueUnacknowledged();
    void requeueUnacked(bool linkLost);
    void pump();
    void queueAck(Message ack);
    void flushAcks(uint64_t upTo, bool durable);
    void maybeUpdDone();
    std::size_t balance(bool mayPoolReq);  ///< returns how many leases were given to the peer
    void scheduleBalance();
    void partnerDownSweep();
    void persistPeer();
    bool persistMe(FailoverState me, FailoverState saved, common::Time stos);
    void logService();
    server::Lease* leaseOf(uint32_t address) const;
    bool ours(const server::Lease& l) const;

    const conf::FailoverPeer* config_;
    RelationshipHost& host_;
    Role role_;

    FailoverState me_ = FailoverState::Recover;
    FailoverState saved_ = FailoverState::Recover;
    common::Time stos_ = 0;
    FailoverState peer_ = FailoverState::UnknownState;
    common::Time peerStos_ = 0;
    bool peerStartup_ = false;
    uint32_t mclt_ = 0;
    std::optional<Hba> hba_;
    common::Time startupDeadline_ = 0;
    std::optional<int64_t> clockSkew_;

    LinkPort* link_ = nullptr;  ///< the live link (handshake done or in progress)
    bool linked_ = false;       ///< CONNECT/CONNECTACK done
    uint32_t xid_ = 0;
    uint32_t partnerMaxUnacked_ = 100;
    uint32_t partnerReceiveTimer_ = 0;

    std::deque<uint32_t> updates_;
    std::unordered_set<uint32_t> queued_;
    std::unordered_map<uint32_t, Pending> acks_;  ///< our BNDUPDs awaiting BNDACK, by address
    struct PendingAck {
        uint64_t seq;
        Message message;
    };
    std::deque<PendingAck> acksOut_;              ///< our BNDACKs waiting for their commit, in order
    uint64_t ackSeq_ = 0;
    std::size_t peerUnacked_ = 0;                 ///< the peer's BNDUPDs we have not acknowledged
    std::optional<uint32_t> servingRequest_;      ///< xid of the UPDREQ(ALL) we answer
    UpdateRequest outstanding_ = UpdateRequest::None;

    std::unique_ptr<common::TimerHandle> startupTimer_, recoverWaitTimer_, autoPartnerDownTimer_, balanceTimer_,
        sweepTimer_;
    common::Time balanceAt_ = 0, lastBalance_ = 0;
    std::vector<server::PoolState*> pools_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace tandem::failover

#endif
