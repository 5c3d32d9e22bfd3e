#include "failover/relationship.h"

#include <algorithm>

#include "common/ipv4.h"
#include "common/log.h"

#include "config.h"

namespace tandem::failover {

using common::BindingState;
using common::logError;
using common::logInfo;
using common::Time;

namespace {

constexpr Time kClockSkewLimit = 60;     // ISC rejects CONNECT/CONNECTACK more than 60 s off
constexpr uint64_t kSweepMs = 5000;      // partner-down: how often freed-up leases are looked for

// What we send as vendor-class-identifier (ISC sends "isc-" and its version).
std::vector<uint8_t> vendorClass() {
    static const std::string kName = "tandem-" PACKAGE_VERSION;
    return std::vector<uint8_t>(kName.begin(), kName.end());
}

uint32_t wire(Time t) { return t <= 0 ? 0 : t >= common::kNever ? 0xffffffffu : uint32_t(t); }

}  // namespace

Relationship::Relationship(const conf::FailoverPeer& config, RelationshipHost& host)
    : config_(&config), host_(host), role_(config.role == conf::FailoverPeer::Role::Primary ? Role::Primary : Role::Secondary) {
    if (role_ == Role::Primary) {
        mclt_ = config.mclt;
        if (!config.hba.empty()) hba_ = hbaFromBytes(config.hba);
        else if (config.split) hba_ = hbaFromSplit(*config.split);
    }
    std::weak_ptr<bool> alive = alive_;
    auto guard = [alive](std::function<void()> f) {
        return [alive, f] {
            if (alive.lock()) f();
        };
    };
    startupTimer_ = host_.timers().createTimer(guard([this] { decideAndApply(Event::startupTimer()); }));
    recoverWaitTimer_ = host_.timers().createTimer(guard([this] { decideAndApply(Event::recoverWaitTimer()); }));
    autoPartnerDownTimer_ =
        host_.timers().createTimer(guard([this] { decideAndApply(Event::autoPartnerDownTimer()); }));
    balanceTimer_ = host_.timers().createTimer(guard([this] {
        balanceAt_ = 0;
        if (me_ == FailoverState::Normal) balance(true);
        scheduleBalance();
    }));
    sweepTimer_ = host_.timers().createTimer(guard([this] { partnerDownSweep(); }));
}

Relationship::~Relationship() { *alive_ = false; }

// ---------------------------------------------------------------- facts and decisions

Facts Relationship::facts() const {
    Facts f;
    f.name = config_->name;
    f.role = role_;
    f.me = me_;
    f.saved = saved_;
    f.stos = stos_;
    f.peer = peer_;
    f.peerStartup = peerStartup_;
    f.linked = linked_;
    f.now = host_.clock().now();
    f.mclt = mclt_;
    f.autoPartnerDown = config_->autoPartnerDown;
    f.updatesPending = !updates_.empty() || !acks_.empty();
    f.outstanding = outstanding_;
    return f;
}

void Relationship::decideAndApply(const Event& e) { apply(decide(facts(), e)); }

bool Relationship::persistMe(FailoverState me, FailoverState saved, Time stos) {
    conf::FailoverPeerState b = stateBlock();
    // While in startup ISC records the state it came from, never startup itself.
    FailoverState shown = me == FailoverState::Startup ? saved : me;
    b.myState = std::string(toString(shown));
    b.myStateTime = stos;
    if (!host_.persistState(b)) {
        logError("Unable to record current failover state for " + config_->name);
        return false;
    }
    return true;
}

void Relationship::persistPeer() {
    if (!host_.persistState(stateBlock())) logError("Unable to record current failover state for " + config_->name);
}

bool Relationship::apply(const Decision& d) {
    const Time now = host_.clock().now();
    bool moved = false;
    for (const Effect& e : d.effects) {
        if (const auto* m = std::get_if<Move>(&e)) {
            FailoverState saved = m->to == FailoverState::Startup && m->from != FailoverState::Startup ? m->from : saved_;
            // The new state is on disk before it takes effect; if it cannot be, nothing of it happens.
            if (!persistMe(m->to, saved, m->stos)) return false;
            saved_ = saved;
            me_ = m->to;
            stos_ = m->stos;
            if (me_ == FailoverState::Startup) startupDeadline_ = now + kStartupSeconds;
            moved = true;
        } else if (const auto* p = std::get_if<SetPeer>(&e)) {
            peer_ = p->state;
            peerStartup_ = p->startup;
            persistPeer();
        } else if (const auto* s = std::get_if<Send>(&e)) {
            if (s->type == MessageType::FTM_STATE) sendState();
            else sendRequest(s->type);
        } else if (const auto* l = std::get_if<Log>(&e)) {
            common::logWrite(l->level, l->text);
        } else if (const auto* a = std::get_if<ArmTimer>(&e)) {
            uint64_t ms = a->at > now ? uint64_t(a->at - now) * 1000 : 0;
            switch (a->timer) {
                case TimerKind::Startup: startupTimer_->startMs(ms); break;
                case TimerKind::RecoverWait: recoverWaitTimer_->startMs(ms); break;
                case TimerKind::AutoPartnerDown: autoPartnerDownTimer_->startMs(ms); break;
            }
        } else if (const auto* c = std::get_if<CancelTimer>(&e)) {
            switch (c->timer) {
                case TimerKind::Startup: startupTimer_->stop(); break;
                case TimerKind::RecoverWait: recoverWaitTimer_->stop(); break;
                case TimerKind::AutoPartnerDown: autoPartnerDownTimer_->stop(); break;
            }
        } else if (const auto* t = std::get_if<Task>(&e)) {
            switch (t->kind) {
                case TaskKind::RequeueUnacked: requeueUnacked(false); break;
                case TaskKind::SendUpdates: pump(); break;
                case TaskKind::BalancePools: balance(false); break;
                case TaskKind::PoolCheck: scheduleBalance(); break;
                case TaskKind::QueueUpdates: {
                    bool before = updates_.empty();
                    queueUnacknowledged();
                    if (before && !updates_.empty()) logInfo("Sending updates to " + config_->name + ".");
                    break;
                }
                case TaskKind::ExpiredTsfp:
                    host_.store().forEach([&](server::Lease& l) {
                        if (!ours(l)) return;
                        if (l.state == BindingState::Expired || l.state == BindingState::Released ||
                            l.state == BindingState::Reset) {
                            host_.store().modify(l, [&](common::LeaseRecord& r) { r.tsfp = t->at; });
                            host_.leaseWritten(l);
                        }
                    });
                    break;
                case TaskKind::CloseLink:
                    if (link_) link_->close("no STATE from the peer within the startup time");
                    break;
            }
        }
    }
    outstanding_ = d.after.outstanding;
    if (moved) {
        logService();
        if (me_ == FailoverState::PartnerDown) sweepTimer_->startMs(kSweepMs);
        else sweepTimer_->stop();
        if (me_ != FailoverState::Normal) {
            balanceTimer_->stop();
            balanceAt_ = 0;
        }
    }
    return true;
}

void Relationship::logService() {
    ServiceStatus s = serviceStatus(facts(), startupDeadline_);
    if (s.serves) return;
    logInfo("failover peer " + config_->name + ": " + s.explanation);
}

// ---------------------------------------------------------------- start and links

void Relationship::restore(const conf::FailoverPeerState* saved) {
    const Time now = host_.clock().now();
    if (saved) {
        me_ = stateFromString(saved->myState).value_or(FailoverState::Recover);
        if (me_ == FailoverState::Startup) me_ = FailoverState::Recover;
        stos_ = saved->myStateTime ? saved->myStateTime : now;
        peer_ = stateFromString(saved->partnerState).value_or(FailoverState::UnknownState);
        peerStos_ = saved->partnerStateTime;
        // A secondary learns the MCLT from the primary and keeps it (ISC writes `mclt N;`).
        if (role_ == Role::Secondary && saved->mclt) mclt_ = *saved->mclt;
        else if (role_ == Role::Primary && saved->mclt)
            logError("failover peer " + config_->name + ": mclt not valid for primary (in the lease file); ignored");
    } else {
        // No stable storage: ISC starts in recover (failover-protocol.md (e)).
        me_ = FailoverState::Recover;
        stos_ = now;
    }
    saved_ = me_;
}

void Relationship::start(const conf::FailoverPeerState* saved) {
    restore(saved);
    decideAndApply(Event::start());
}

void Relationship::start() { decideAndApply(Event::start()); }

void Relationship::linkUp(LinkPort* link) {
    // Several connections may be up at once (both servers connect to each other);
    // the handshake picks one, as in ISC: the secondary answers the first CONNECT
    // and refuses later ones with reason 7, the primary takes the first CONNECTACK.
    if (role_ == Role::Primary) {
        // ISC's primary sends CONNECT on every connection, whoever opened it; a
        // new link's numbering starts at 0.
        Message m = header(MessageType::FTM_CONNECT, 0);
        m.relationshipName = config_->name;
        m.maxUnacked = config_->maxUnackedUpdates;
        m.receiveTimer = config_->maxResponseDelay;
        m.vendorClass = vendorClass();
        m.protocolVersion = 1;
        m.tlsRequest = 0;
        m.mclt = mclt_;
        if (hba_) m.hba = std::vector<uint8_t>(hba_->begin(), hba_->end());
        link->send(m);
    }
}

void Relationship::linkClosed(LinkPort* link, const std::string& reason) {
    if (link != link_) return;  // a connection that lost the handshake race
    link_ = nullptr;
    logInfo("failover peer " + config_->name + ": link closed: " + reason);
    // The peer's updates we had not yet acknowledged will come again; our own are
    // requeued by the state machine's rules.
    acksOut_.clear();
    peerUnacked_ = 0;
    servingRequest_.reset();
    // What was in flight may be lost with the link: it goes again on the next one.
    requeueUnacked(true);
    decideAndApply(Event::connectionLost());
    linked_ = false;
}

// ---------------------------------------------------------------- messages

Message Relationship::header(MessageType type, uint32_t xid) const {
    Message m;
    m.type = type;
    m.time = wire(host_.clock().now());
    m.xid = xid;
    return m;
}

uint32_t Relationship::nextXid(bool forUpdate) {
    // ISC skips xid 0 for BNDUPD: 0 means "no update outstanding" to it.
    if (forUpdate && xid_ == 0) xid_ = 1;
    return xid_++;
}

void Relationship::send(Message m) {
    if (!link_) return;
    link_->send(m);
}

void Relationship::sendState() {
    if (!link_ || !linked_) return;
    Message m = header(MessageType::FTM_STATE, nextXid());
    bool startup = me_ == FailoverState::Startup;
    m.serverState = uint8_t(startup ? saved_ : me_);
    m.serverFlags = startup ? 1 : 0;
    m.startTimeOfState = wire(stos_);
    send(std::move(m));
}

void Relationship::sendRequest(MessageType type) {
    if (!link_ || !linked_) return;
    send(header(type, nextXid()));
}

void Relationship::message(LinkPort* link, const Message& m) {
    if (link == link_ || m.type == MessageType::FTM_CONNECT || m.type == MessageType::FTM_CONNECTACK)
        clockSkew_ = int64_t(m.time) - int64_t(host_.clock().now());
    switch (m.type) {
        case MessageType::FTM_CONNECT: onConnect(link, m); return;
        case MessageType::FTM_CONNECTACK: onConnectAck(link, m); return;
        default: break;
    }
    if (link != link_ || !linked_) {
        Message d = header(MessageType::FTM_DISCONNECT, 0);
        d.rejectReason = 6;
        d.message = std::string(messageTypeName(uint8_t(m.type))) + " before CONNECT";
        link->send(d);
        logError("failover peer " + config_->name + ": " + *d.message);
        link->closeAfterFlush(*d.message);
        return;
    }
    switch (m.type) {
        case MessageType::FTM_STATE: {
            if (!m.serverState) {
                disconnect(3, "STATE without server-state");
                return;
            }
            peerStos_ = m.startTimeOfState.value_or(0);
            bool startup = m.serverFlags && (*m.serverFlags & 1);
            decideAndApply(Event::peerStateRaw(*m.serverState, startup));
            return;
        }
        case MessageType::FTM_BNDUPD: onBindUpdate(m); return;
        case MessageType::FTM_BNDACK: onBindAck(m); return;
        case MessageType::FTM_UPDREQALL: onUpdateRequest(m, true); return;
        case MessageType::FTM_UPDREQ: onUpdateRequest(m, false); return;
        case MessageType::FTM_UPDDONE:
            decideAndApply(Event::updDone());
            return;
        case MessageType::FTM_POOLREQ: onPoolReq(m); return;
        case MessageType::FTM_POOLRESP:
            logInfo("failover peer " + config_->name + ": pool response: " +
                    std::to_string(m.addressesTransferred.value_or(0)) + " leases");
            return;
        case MessageType::FTM_CONTACT: return;
        case MessageType::FTM_DISCONNECT:
            logError("failover peer " + config_->name + ": disconnect: " +
                     (m.message ? *m.message : std::string("reason ") + std::to_string(m.rejectReason.value_or(0))));
            if (link_) link_->close("peer sent DISCONNECT");
            return;
        case MessageType::FTM_CONNECT:
        case MessageType::FTM_CONNECTACK: return;
    }
}

void Relationship::reject(LinkPort* link, MessageType type, uint32_t xid, uint8_t reason, const std::string& text) {
    Message r = header(type, xid);
    if (type == MessageType::FTM_CONNECTACK) {
        r.relationshipName = config_->name;
        r.vendorClass = vendorClass();
        r.protocolVersion = 1;
    }
    r.rejectReason = reason;
    r.message = text;
    link->send(r);
    logError("failover peer " + config_->name + ": " +
             (type == MessageType::FTM_CONNECTACK ? "CONNECT rejected: " : "link dropped: ") + text);
    link->closeAfterFlush("rejected: " + text);
}

void Relationship::disconnect(uint8_t reason, const std::string& text) {
    if (!link_) return;
    Message d = header(MessageType::FTM_DISCONNECT, nextXid());
    d.rejectReason = reason;
    d.message = text;
    LinkPort* l = link_;
    l->send(d);
    logError("failover peer " + config_->name + ": " + text);
    l->closeAfterFlush(text);
}

// The secondary's side of the handshake (failover-protocol.md (h)), ISC's checks in ISC's order.
void Relationship::onConnect(LinkPort* link, const Message& m) {
    if (role_ != Role::Secondary) {
        return reject(link, MessageType::FTM_DISCONNECT, 0, 8, "CONNECT received by the primary");
    }
    const Time now = host_.clock().now();
    if (!m.relationshipName) return reject(link, MessageType::FTM_CONNECTACK, m.xid, 8, "missing relationship-name");
    if (*m.relationshipName != config_->name)
        return reject(link, MessageType::FTM_CONNECTACK, m.xid, 8, "unknown failover relationship name");
    if (std::llabs(int64_t(m.time) - int64_t(now)) > kClockSkewLimit)
        return reject(link, MessageType::FTM_CONNECTACK, m.xid, 4, "time offset too large");
    if (!m.hba || m.hba->size() != kHbaSize) return reject(link, MessageType::FTM_CONNECTACK, m.xid, 18, "invalid HBA");
    if (linked_) return reject(link, MessageType::FTM_CONNECTACK, m.xid, 7, "already connected");
    if (!m.mclt) return reject(link, MessageType::FTM_CONNECTACK, m.xid, 5, "no MCLT provided");

    hba_ = hbaFromBytes(*m.hba);
    if (mclt_ != *m.mclt) {
        mclt_ = *m.mclt;
        persistPeer();  // the secondary keeps the primary's MCLT (`mclt N;`)
    }
    partnerMaxUnacked_ = m.maxUnacked.value_or(partnerMaxUnacked_);
    partnerReceiveTimer_ = m.receiveTimer.value_or(0);
    Message ack = header(MessageType::FTM_CONNECTACK, m.xid);
    ack.relationshipName = config_->name;
    ack.maxUnacked = config_->maxUnackedUpdates;
    ack.receiveTimer = config_->maxResponseDelay;
    ack.vendorClass = vendorClass();
    ack.protocolVersion = 1;
    if (m.tlsRequest) ack.tlsReply = 0;
    link->send(ack);
    link->markEstablished();
    if (partnerReceiveTimer_) link->setPartnerReceiveTimer(partnerReceiveTimer_);
    link_ = link;
    linked_ = true;
    xid_ = 0;  // the secondary's first STATE carries xid 0 (captured)
    decideAndApply(Event::linkUp());
}

void Relationship::onConnectAck(LinkPort* link, const Message& m) {
    if (role_ != Role::Primary) return reject(link, MessageType::FTM_DISCONNECT, 0, 8, "CONNECTACK received by the secondary");
    if (!m.relationshipName || *m.relationshipName != config_->name)
        return reject(link, MessageType::FTM_DISCONNECT, 0, 8, "CONNECTACK for an unknown relationship");
    if (m.rejectReason) {
        logError("Failover CONNECT to " + config_->name + " rejected: " +
                 (m.message ? *m.message : "reason " + std::to_string(*m.rejectReason)));
        link->close("CONNECT rejected");
        return;
    }
    if (linked_) return reject(link, MessageType::FTM_DISCONNECT, 0, 7, "already connected");
    const Time now = host_.clock().now();
    if (std::llabs(int64_t(m.time) - int64_t(now)) > kClockSkewLimit)
        return reject(link, MessageType::FTM_DISCONNECT, 0, 4, "time offset too large");
    partnerMaxUnacked_ = m.maxUnacked.value_or(partnerMaxUnacked_);
    partnerReceiveTimer_ = m.receiveTimer.value_or(0);
    link->markEstablished();
    if (partnerReceiveTimer_) link->setPartnerReceiveTimer(partnerReceiveTimer_);
    link_ = link;
    linked_ = true;
    xid_ = 1;  // CONNECT was 0 (captured: the primary's first STATE is xid 1)
    decideAndApply(Event::linkUp());
}

// ---------------------------------------------------------------- administration

bool Relationship::adminPartnerDown(bool force, std::string& why) {
    if (linked_ && !force) {
        why = "the peer is connected (state " + std::string(toString(peer_)) +
              "); partner-down now could give one address to two clients. Use --force if the peer is really down.";
        return false;
    }
    if (me_ == FailoverState::PartnerDown) {
        why = "already in partner-down";
        return false;
    }
    decideAndApply(Event::admin(FailoverState::PartnerDown));
    return true;
}

bool Relationship::adminResync(std::string& why) {
    if (!linked_) {
        why = "the peer is not connected";
        return false;
    }
    sendRequest(MessageType::FTM_UPDREQALL);
    outstanding_ = UpdateRequest::UpdReqAll;
    logInfo("failover peer " + config_->name + ": Sent update request all message to " + config_->name);
    return true;
}

bool Relationship::adminShutdown(std::string& why) {
    if (me_ == FailoverState::Shutdown) {
        why = "already in shutdown";
        return false;
    }
    decideAndApply(Event::admin(FailoverState::Shutdown));
    return true;
}

// ---------------------------------------------------------------- status

conf::FailoverPeerState Relationship::stateBlock() const {
    conf::FailoverPeerState b;
    b.name = config_->name;
    FailoverState shown = me_ == FailoverState::Startup ? saved_ : me_;
    b.myState = std::string(toString(shown));
    b.myStateTime = stos_;
    b.partnerState = std::string(toString(peer_));
    b.partnerStateTime = peerStos_ ? peerStos_ : stos_;
    if (role_ == Role::Secondary) b.mclt = mclt_;
    return b;
}

ServiceStatus Relationship::service() const { return serviceStatus(facts(), startupDeadline_); }

RelationshipStatus Relationship::status() const {
    RelationshipStatus s;
    s.name = config_->name;
    s.role = role_;
    s.me = me_;
    s.saved = saved_;
    s.peer = peer_;
    s.stos = stos_;
    s.peerStos = peerStos_;
    s.linked = linked_;
    s.service = service();
    s.mclt = mclt_;
    s.updatesQueued = updates_.size();
    s.updatesUnacked = acks_.size();
    s.peerUnacked = peerUnacked_;
    s.clockSkew = clockSkew_;
    for (const server::PoolState* p : pools_) {
        RelationshipStatus::Pool ps;
        ps.network = p->network ? p->network->name : "";
        ps.size = p->size;
        ps.free = p->count(BindingState::Free);
        ps.backup = p->count(BindingState::Backup);
        ps.active = p->count(BindingState::Active);
        ps.expired = p->count(BindingState::Expired) + p->count(BindingState::Released) + p->count(BindingState::Reset);
        ps.abandoned = p->count(BindingState::Abandoned);
        s.pools.push_back(ps);
    }
    return s;
}

// ---------------------------------------------------------------- the server's questions

bool Relationship::partnerDownService() const { return serviceState(me_, peer_) == ServiceState::PartnerDown; }

bool Relationship::loadBalanceMine(const common::Packet4& p) const {
    ServiceStatus s = service();
    if (!s.loadBalances) return true;
    LoadBalanceParams lb;
    lb.role = role_;
    lb.hba = hba_;
    lb.maxSeconds = config_->loadBalanceMaxSeconds;
    return failover::loadBalanceMine(p, lb).mine;
}

bool Relationship::peerHasLeases(const server::PoolState& pool) const {
    return pool.count(peerFreeState(role_)) > 0;
}

bool Relationship::mayAllocate(const common::LeaseRecord& lease, Time now) const {
    return failover::mayAllocate(lease, role_, partnerDownService(), stos_, mclt_, now);
}

uint32_t Relationship::grantLeaseTime(const common::LeaseRecord& lease, uint32_t desired, Time now, Time& tstp) const {
    LeaseTimeGrant g = mcltLimit(desired, mclt_, lease.tsfp, now);
    tstp = g.tstp;
    return g.granted;
}

BindingState Relationship::expiredState(const common::LeaseRecord& lease) const {
    common::LeaseRecord expired = lease;
    expired.state = BindingState::Expired;
    if (auto back = rewindInCommInterrupted(expired, role_, me_)) return *back;
    return BindingState::Expired;
}

server::Lease* Relationship::leaseOf(uint32_t address) const { return host_.store().find(address); }

bool Relationship::ours(const server::Lease& l) const { return l.pool && l.pool->failover == this; }

}  // namespace tandem::failover
