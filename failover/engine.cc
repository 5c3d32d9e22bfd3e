#include "failover/engine.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "common/ipv4.h"
#include "common/log.h"
#include "failover/links.h"

namespace tandem::failover {

using common::BindingState;

FailoverEngine::FailoverEngine(common::EventLoop& loop, const common::Clock& clock, server::Server& server)
    : loop_(loop), clock_(clock), server_(server), timers_(loop) {}

FailoverEngine::~FailoverEngine() {
    links_.reset();
    relationships_.clear();
}

namespace {

bool sameAddress(const conf::AddressRef& a, const conf::AddressRef& b) {
    return a.addr == b.addr && a.hostname == b.hostname;
}

// Whether a reload leaves a relationship's definition as it was (locations aside).
bool samePeer(const conf::FailoverPeer& a, const conf::FailoverPeer& b) {
    return a.name == b.name && a.role == b.role && sameAddress(a.address, b.address) && a.port == b.port &&
           sameAddress(a.peerAddress, b.peerAddress) && a.peerPort == b.peerPort &&
           a.maxResponseDelay == b.maxResponseDelay && a.maxUnackedUpdates == b.maxUnackedUpdates &&
           a.mclt == b.mclt && a.split == b.split && a.hba == b.hba &&
           a.loadBalanceMaxSeconds == b.loadBalanceMaxSeconds && a.autoPartnerDown == b.autoPartnerDown &&
           a.maxLeaseMisbalance == b.maxLeaseMisbalance && a.maxLeaseOwnership == b.maxLeaseOwnership &&
           a.minBalance == b.minBalance && a.maxBalance == b.maxBalance && a.tls.certificate.value == b.tls.certificate.value &&
           a.tls.key.value == b.tls.key.value && a.tls.ca.value == b.tls.ca.value &&
           a.tls.peerName.value == b.tls.peerName.value;
}

}  // namespace

bool FailoverEngine::check(const conf::Config& config, std::string& error) {
    for (const auto& peer : config.failoverPeers) {
        bool used = false;
        for (const auto& net : config.networks)
            for (const auto& pool : net.pools)
                if (pool.failoverPeer == peer.name) used = true;
        if (!used) {
            // ISC's failover sanity check.
            error = "Failover peer, " + peer.name + ", has no referring pools. You're missing a failover peer "
                    "statement in a pool, or the peer is declared but never used. Failover configuration sanity "
                    "check failed";
            return false;
        }
    }
    return true;
}

void FailoverEngine::attachPools() {
    for (auto& pool : server_.store().pools()) {
        pool->failover = nullptr;
        if (pool->config->failoverPeer.empty()) continue;
        if (Relationship* rel = find(pool->config->failoverPeer)) {
            pool->failover = rel;
            rel->addPool(pool.get());
        }
    }
}

bool FailoverEngine::configure(std::string& error) {
    const conf::Config& config = server_.config();
    if (!check(config, error)) return false;
    for (const auto& peer : config.failoverPeers) relationships_.push_back(std::make_unique<Relationship>(peer, *this));
    attachPools();
    if (relationships_.empty()) return true;
    server_.setFailover(this);
    server_.setSnapshotExtras([this] { return stateBlocks(); });
    links_ = std::make_unique<LinkManager>(loop_, clock_);
    return true;
}

void FailoverEngine::restore() {
    for (auto& rel : relationships_) {
        const conf::FailoverPeerState* saved = nullptr;
        for (const auto& s : server_.savedFailoverStates())
            if (s.name == rel->name()) saved = &s;
        rel->restore(saved);
    }
}

bool FailoverEngine::start(std::string& error) {
    for (auto& rel : relationships_) rel->start();
    if (links_) {
        for (auto& rel : relationships_)
            if (!links_->add(*rel, error)) return false;
    }
    return true;
}

void FailoverEngine::reload() {
    const conf::Config& config = server_.config();
    std::vector<std::unique_ptr<Relationship>> next;
    std::vector<std::pair<Relationship*, conf::FailoverPeerState>> fresh;
    for (const auto& peer : config.failoverPeers) {
        auto old = std::find_if(relationships_.begin(), relationships_.end(),
                                [&](const auto& r) { return r && r->name() == peer.name; });
        if (old != relationships_.end() && samePeer((*old)->config(), peer)) {
            (*old)->rebind(peer);
            next.push_back(std::move(*old));
            continue;
        }
        conf::FailoverPeerState saved;
        bool hadState = false;
        if (old != relationships_.end()) {
            // A changed definition restarts this relationship only, from the state it was in.
            common::logInfo("failover peer " + peer.name + ": definition changed; restarting the relationship");
            saved = (*old)->stateBlock();
            hadState = true;
            if (links_) links_->remove(**old);
            old->reset();
        } else {
            common::logInfo("failover peer " + peer.name + ": new relationship");
        }
        next.push_back(std::make_unique<Relationship>(peer, *this));
        if (hadState) fresh.push_back({next.back().get(), saved});
        else fresh.push_back({next.back().get(), conf::FailoverPeerState{}});
    }
    for (auto& old : relationships_) {
        if (!old) continue;
        common::logInfo("failover peer " + old->name() + ": removed from the configuration; relationship stopped");
        if (links_) links_->remove(*old);
    }
    relationships_ = std::move(next);
    attachPools();
    if (!relationships_.empty() && !links_) {
        server_.setFailover(this);
        server_.setSnapshotExtras([this] { return stateBlocks(); });
        links_ = std::make_unique<LinkManager>(loop_, clock_);
    }
    for (auto& [rel, saved] : fresh) {
        rel->start(saved.name.empty() ? nullptr : &saved);
        std::string error;
        if (links_ && !links_->add(*rel, error)) common::logError(error);
    }
}

void FailoverEngine::stop() {
    if (links_) links_->closeAll("shutting down");
}

std::vector<conf::FailoverPeerState> FailoverEngine::stateBlocks() const {
    std::vector<conf::FailoverPeerState> out;
    for (const auto& rel : relationships_) out.push_back(rel->stateBlock());
    return out;
}

Relationship* FailoverEngine::find(const std::string& name) const {
    for (const auto& rel : relationships_)
        if (rel->name() == name) return rel.get();
    return nullptr;
}

bool FailoverEngine::persistState(const conf::FailoverPeerState& block) {
    server_.leaseFile().appendFailoverState(block);
    return server_.commitNow();
}

// ---------------------------------------------------------------- FailoverPort

bool FailoverEngine::responding(const server::PoolState& pool, std::string& why) const {
    ServiceStatus s = of(pool)->service();
    if (!s.serves) why = s.nrr;
    return s.serves;
}

bool FailoverEngine::loadBalanceMine(const server::PoolState& pool, const common::Packet4& packet) const {
    return of(pool)->loadBalanceMine(packet);
}

bool FailoverEngine::peerHasLeases(const server::PoolState& pool) const { return of(pool)->peerHasLeases(pool); }

bool FailoverEngine::mayAllocate(const server::Lease& lease, common::Time now) const {
    return of(*lease.pool)->mayAllocate(lease, now);
}

bool FailoverEngine::allocatesFromBackup(const server::PoolState& pool) const {
    return of(pool)->role() == Role::Secondary;
}

bool FailoverEngine::mayUsePeerFree(const server::PoolState& pool, common::Time) const {
    return of(pool)->partnerDownService();
}

uint32_t FailoverEngine::grantLeaseTime(const server::Lease& lease, uint32_t desired, common::Time now,
                                        common::Time& tstp) const {
    return of(*lease.pool)->grantLeaseTime(lease, desired, now, tstp);
}

bool FailoverEngine::mayNak(const server::Lease& lease) const {
    // An address in the peer's free state may be the peer's to give right now.
    return lease.state != peerFreeState(of(*lease.pool)->role());
}

BindingState FailoverEngine::expiredState(const server::Lease& lease) const {
    return of(*lease.pool)->expiredState(lease);
}

bool FailoverEngine::runsExpiry(const server::PoolState& pool) const { return of(pool)->runsExpiry(); }

void FailoverEngine::leaseChanged(server::Lease& lease) { of(*lease.pool)->leaseChanged(lease); }

// ---------------------------------------------------------------- status

std::vector<RelationshipStatus> FailoverEngine::status() const {
    std::vector<RelationshipStatus> out;
    for (const auto& rel : relationships_) out.push_back(rel->status());
    return out;
}

std::string FailoverEngine::statusText() const {
    std::ostringstream o;
    const common::Time now = clock_.now();
    auto since = [&](common::Time t) {
        if (!t) return std::string("unknown");
        return formatLogTime(t) + " (" + std::to_string(now - t) + " s ago)";
    };
    for (const auto& s : status()) {
        o << "failover peer \"" << s.name << "\" (" << toString(s.role) << ")\n";
        o << "  my state:      " << toString(s.me);
        if (s.me == FailoverState::Startup) o << " (saved " << toString(s.saved) << ")";
        o << " since " << since(s.stos) << "\n";
        o << "  peer state:    " << toString(s.peer) << " since " << since(s.peerStos) << "\n";
        o << "  link:          " << (s.linked ? "connected" : "not connected") << "\n";
        o << "  serving:       " << (s.service.serves ? "yes" : "no");
        if (s.service.loadBalances) o << " (load balancing)";
        o << "\n";
        if (!s.service.serves || !s.service.explanation.empty()) {
            o << "  why:           " << s.service.explanation << "\n";
            if (s.service.until) o << "  until:         " << formatLogTime(s.service.until) << "\n";
        }
        o << "  mclt:          " << s.mclt << " s\n";
        o << "  updates:       " << s.updatesQueued << " queued, " << s.updatesUnacked << " awaiting ack, "
          << s.peerUnacked << " from the peer not yet acked\n";
        for (const auto& p : s.pools)
            o << "  pool " << p.network << ": " << p.size << " addresses, " << p.free << " free, " << p.backup
              << " backup, " << p.active << " active, " << p.expired << " expired/released, " << p.abandoned
              << " abandoned\n";
    }
    return o.str();
}

}  // namespace tandem::failover
