// The binding-update half of a Relationship: BNDUPD/BNDACK both ways with flow
// control, UPDREQ/UPDREQALL/UPDDONE, POOLREQ/POOLRESP and pool balancing, and
// the partner-down sweep. The rules themselves are binding_rules.h's and
// pool_balance.h's; this file moves leases and messages accordingly.
#include <algorithm>

#include "common/ipv4.h"
#include "common/log.h"
#include "failover/relationship.h"

namespace tandem::failover {

using common::BindingState;
using common::logError;
using common::logInfo;
using common::Time;

namespace {
bool transitional(BindingState s) {
    return s == BindingState::Expired || s == BindingState::Released || s == BindingState::Reset;
}
}  // namespace

// ---------------------------------------------------------------- our updates

void Relationship::leaseChanged(server::Lease& lease) {
    queueUpdate(lease.address);
    pump();
}

void Relationship::queueUpdate(uint32_t address) {
    if (queued_.insert(address).second) updates_.push_back(address);
}

void Relationship::queueAll() {
    host_.store().forEach([&](server::Lease& l) {
        if (ours(l)) queueUpdate(l.address);
    });
}

// ISC's UPDREQ answer and its entry into normal: what the peer has not acknowledged.
void Relationship::queueUnacknowledged() {
    host_.store().forEach([&](server::Lease& l) {
        if (!ours(l)) return;
        if (l.tstp > l.atsfp || transitional(l.state)) queueUpdate(l.address);
    });
}

void Relationship::requeueUnacked(bool linkLost) {
    // While the link is up the peer will still acknowledge what it has: those
    // updates stay in flight and in the window. Taking them out of it would let
    // the window overflow at the peer, which drops the link as a flood.
    if (!linkLost && link_ && linked_) return;
    // Back to the head of the queue, in address order (the order sent is lost).
    std::vector<uint32_t> again;
    for (const auto& [addr, p] : acks_) again.push_back(addr);
    std::sort(again.begin(), again.end());
    acks_.clear();
    for (auto it = again.rbegin(); it != again.rend(); ++it) {
        if (queued_.insert(*it).second) updates_.push_front(*it);
    }
}

void Relationship::pump() {
    if (!link_ || !linked_ || me_ == FailoverState::Startup) return;
    const Time now = host_.clock().now();
    const std::size_t window = std::max<uint32_t>(1, partnerMaxUnacked_);
    while (!updates_.empty() && acks_.size() < window) {
        uint32_t addr = updates_.front();
        updates_.pop_front();
        queued_.erase(addr);
        if (acks_.count(addr)) {
            // One update per address in flight: send it again after its ACK.
            queueUpdate(addr);
            break;
        }
        server::Lease* l = leaseOf(addr);
        if (!l || !ours(*l)) continue;
        uint32_t xid = nextXid(true);
        Message m = buildBindUpdate(*l, l->state, role_, xid, now);
        acks_[addr] = Pending{xid, l->state};
        // The peer will hold this state once it has the update (ISC writes the
        // rewind state just before sending).
        if (l->rewind != l->state) {
            host_.store().modify(*l, [&](common::LeaseRecord& r) { r.rewind = r.state; });
            host_.leaseWritten(*l);
        }
        send(std::move(m));
    }
    maybeUpdDone();
}

void Relationship::maybeUpdDone() {
    if (!servingRequest_ || !updates_.empty() || !acks_.empty() || !linked_) return;
    send(header(MessageType::FTM_UPDDONE, *servingRequest_));
    servingRequest_.reset();
}

void Relationship::onBindAck(const Message& m) {
    if (!m.assignedIpAddress) {
        disconnect(3, "BNDACK without assigned-IP-address");
        return;
    }
    uint32_t addr = *m.assignedIpAddress;
    auto it = acks_.find(addr);
    if (it == acks_.end()) {
        pump();  // an ACK for something no longer outstanding: ignored, as in ISC
        return;
    }
    if (it->second.xid != m.xid) {
        logError("failover peer " + config_->name + ": xid mismatch on BNDACK for " + common::formatIpv4(addr) +
                 " (sent " + std::to_string(it->second.xid) + ", got " + std::to_string(m.xid) + ")");
        return;
    }
    BindingState sent = it->second.sent;
    bool superseded = it->second.superseded;
    acks_.erase(it);
    if (superseded) {
        // ISC ignores the ACK of an update the peer's crossing one replaced.
    } else if (m.rejectReason) {
        // ISC's wording, logged where the rejection is received.
        logInfo("bind update on " + common::formatIpv4(addr) + " from " + config_->name + " rejected: " +
                (m.message ? *m.message : "reason " + std::to_string(*m.rejectReason)));
    } else if (server::Lease* l = leaseOf(addr)) {
        AckOutcome out = applyPeerAck(*l, sent, role_, hba_);
        if (out.lease != static_cast<const common::LeaseRecord&>(*l)) {
            host_.store().assign(*l, out.lease);
            host_.leaseWritten(*l);
        }
        if (out.macAffinityCandidate) {
            server::PoolState* p = l->pool;
            if (p && secondaryNotHoarding(int(p->count(BindingState::Free)), int(p->count(BindingState::Backup)),
                                          config_->maxLeaseOwnership)) {
                const Time now = host_.clock().now();
                host_.store().modify(*l, [&](common::LeaseRecord& r) {
                    r.state = r.next = peerFreeState(role_);
                    r.tstp = r.starts = now;
                });
                host_.leaseWritten(*l);
                queueUpdate(addr);
            }
        }
    }
    pump();
}

// ---------------------------------------------------------------- the peer's updates

void Relationship::onBindUpdate(const Message& m) {
    ++peerUnacked_;
    // Flow control is the sender's duty (draft-12 §8.3); a peer that ignores
    // the window we advertised is broken or hostile, and the link goes.
    if (peerUnacked_ > std::max<uint32_t>(1, config_->maxUnackedUpdates)) {
        disconnect(6, "peer sent more than " + std::to_string(config_->maxUnackedUpdates) +
                          " unacknowledged binding updates");
        return;
    }
    const Time now = host_.clock().now();
    server::Lease* lease = m.assignedIpAddress ? leaseOf(*m.assignedIpAddress) : nullptr;
    BndupdContext ctx;
    ctx.role = role_;
    ctx.me = me_ == FailoverState::Startup ? saved_ : me_;
    ctx.now = now;
    ctx.lease = lease;
    ctx.ourRelationship = lease && ours(*lease);
    ctx.hba = hba_;
    if (lease) {
        auto it = acks_.find(lease->address);
        if (it != acks_.end() && !it->second.superseded) {
            ctx.ownUpdateInFlight = true;
            ctx.ownUpdateState = it->second.sent;
        }
    }
    BndupdOutcome out = processBindUpdate(m, ctx);
    uint32_t addr = m.assignedIpAddress.value_or(0);
    if (out.dropOwnUpdate && lease)
        if (auto it = acks_.find(lease->address); it != acks_.end()) it->second.superseded = true;
    if (out.accepted && lease) {
        host_.store().assign(*lease, out.lease);
        host_.leaseWritten(*lease);
        if (out.macAffinityCandidate) {
            server::PoolState* p = lease->pool;
            if (p && secondaryNotHoarding(int(p->count(BindingState::Free)), int(p->count(BindingState::Backup)),
                                          config_->maxLeaseOwnership)) {
                host_.store().modify(*lease, [&](common::LeaseRecord& r) {
                    r.state = r.next = peerFreeState(role_);
                    r.tstp = r.starts = now;
                });
                host_.leaseWritten(*lease);
                queueUpdate(addr);
            }
        }
        queueAck(buildBindAck(addr, m.xid, now));
    } else {
        common::logDebug("failover peer " + config_->name + ": refusing the update of " + common::formatIpv4(addr) +
                         ": " + out.message);
        queueAck(buildBindAck(addr, m.xid, now, out.reason, out.message));
    }
}

// No BNDACK before the binding it answers is on disk: each waits for the
// commit that holds its record (many share one), then goes out in order.
void Relationship::queueAck(Message ack) {
    const uint64_t seq = ++ackSeq_;
    acksOut_.push_back({seq, std::move(ack)});
    std::weak_ptr<bool> alive = alive_;
    host_.whenDurable([this, alive, seq](bool ok) {
        if (alive.lock()) flushAcks(seq, ok);
    });
}

void Relationship::flushAcks(uint64_t upTo, bool durable) {
    bool sent = false;
    while (!acksOut_.empty() && acksOut_.front().seq <= upTo) {
        // Not durable (the commit failed): no ACK; the peer sends the update again.
        if (durable && link_ && linked_) {
            Message& a = acksOut_.front().message;
            a.time = uint32_t(host_.clock().now());
            send(std::move(a));
            sent = true;
        }
        acksOut_.pop_front();
        if (peerUnacked_) --peerUnacked_;
    }
    if (sent) pump();
}

void Relationship::onUpdateRequest(const Message& m, bool all) {
    // A new request replaces one still being answered: only the last gets UPDDONE.
    servingRequest_ = m.xid;
    if (all) {
        logInfo("failover peer " + config_->name + ": Update request all from " + config_->name + ": sending update");
        queueAll();
    } else {
        logInfo("failover peer " + config_->name + ": Update request from " + config_->name + ": sending update");
        queueUnacknowledged();
    }
    pump();
}

// ---------------------------------------------------------------- pool balance

std::size_t Relationship::balance(bool mayPoolReq) {
    if (me_ != FailoverState::Normal) return 0;
    std::size_t given = 0;
    const Time now = host_.clock().now();
    BalanceParams bp;
    bp.maxLeaseMisbalance = config_->maxLeaseMisbalance;
    bp.maxLeaseOwnership = config_->maxLeaseOwnership;
    bp.minBalance = config_->minBalance;
    bp.maxBalance = config_->maxBalance;
    bool poolReq = false;
    for (server::PoolState* pool : pools_) {
        PoolSnapshot snap;
        snap.name = pool->network ? pool->network->name : config_->name;
        snap.id = pool->index;
        snap.leaseCount = int(pool->size);
        snap.freeLeases = int(pool->count(BindingState::Free));
        snap.backupLeases = int(pool->count(BindingState::Backup));
        const server::LeaseList& own = role_ == Role::Primary ? pool->free : pool->backup;
        snap.ownQueue.reserve(own.size());
        own.forEach([&](const server::Lease& l) {
            QueuedLease q;
            q.address = l.address;
            q.ends = l.ends;
            if (auto key = leaseKey(l)) q.clientHash = loadBalanceHash(*key);
            snap.ownQueue.push_back(q);
        });
        PoolBalanceResult r = balancePool(snap, role_, hba_, bp, mayPoolReq);
        if (!r.logBalancing.empty()) logInfo(r.logBalancing);
        for (uint32_t addr : r.give) {
            server::Lease* l = leaseOf(addr);
            if (!l) continue;
            host_.store().modify(*l, [&](common::LeaseRecord& rec) {
                rec.state = rec.next = peerFreeState(role_);
                rec.tstp = rec.starts = now;
            });
            host_.leaseWritten(*l);
            queueUpdate(addr);
            ++given;
        }
        if (!r.logResult.empty()) {
            if (r.imbalanced) logError(r.logResult);
            else logInfo(r.logResult);
        }
        poolReq = poolReq || r.sendPoolReq;
    }
    lastBalance_ = now;
    if (poolReq && linked_) {
        logInfo("failover peer " + config_->name + ": Sending POOLREQ to " + config_->name);
        send(header(MessageType::FTM_POOLREQ, nextXid()));
    }
    pump();
    return given;
}

void Relationship::scheduleBalance() {
    if (me_ != FailoverState::Normal) return;
    const Time now = host_.clock().now();
    BalanceParams bp;
    bp.maxLeaseMisbalance = config_->maxLeaseMisbalance;
    bp.maxLeaseOwnership = config_->maxLeaseOwnership;
    bp.minBalance = config_->minBalance;
    bp.maxBalance = config_->maxBalance;
    std::optional<Time> next;
    for (server::PoolState* pool : pools_) {
        ScheduleInput in;
        in.role = role_;
        in.now = now;
        if (const server::Lease* f = pool->free.front()) in.oldestFreeEnds = f->ends;
        if (const server::Lease* b = pool->backup.front()) in.oldestBackupEnds = b->ends;
        in.lastBalance = lastBalance_;
        in.scheduled = balanceAt_;
        in.jitter = unsigned(now % 5);
        if (auto t = nextRebalance(in, bp); t && (!next || *t < *next)) next = *t;
    }
    if (!next) return;
    if (balanceAt_ && balanceAt_ <= *next) return;  // the timer only ever moves earlier
    balanceAt_ = *next;
    balanceTimer_->startMs(*next > now ? uint64_t(*next - now) * 1000 : 0);
}

void Relationship::onPoolReq(const Message& m) {
    uint32_t given = uint32_t(balance(false));
    if (given == 0) logInfo(poolReqNegativeLog(config_->name));
    Message r = header(MessageType::FTM_POOLRESP, m.xid);
    r.addressesTransferred = given;
    send(std::move(r));
}

// In partner-down, leases the peer can no longer be using (their tsfp, raised to
// stos + MCLT on entry, has passed) become ours to give again.
void Relationship::partnerDownSweep() {
    if (me_ != FailoverState::PartnerDown) return;
    const Time now = host_.clock().now();
    host_.store().forEach([&](server::Lease& l) {
        if (!ours(l) || !transitional(l.state) || l.tsfp > now) return;
        host_.store().modify(l, [&](common::LeaseRecord& r) {
            r.state = r.next = ownFreeState(role_);
            r.starts = now;
        });
        host_.leaseWritten(l);
        queueUpdate(l.address);
    });
    sweepTimer_->startMs(5000);
}

}  // namespace tandem::failover
