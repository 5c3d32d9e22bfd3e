#include "failover/links.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>

#include "common/ipv4.h"
#include "common/log.h"
#include "failover/tls_link.h"

namespace tandem::failover {

std::optional<uint32_t> resolveAddress(const conf::AddressRef& a, std::string& error) {
    if (!a.isName()) return a.addr;
    addrinfo hints{};
    hints.ai_family = AF_INET;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(a.hostname.c_str(), nullptr, &hints, &res);
    if (rc != 0 || !res) {
        error = a.where.str() + ": cannot resolve " + a.hostname + ": " + ::gai_strerror(rc);
        return std::nullopt;
    }
    uint32_t addr = ntohl(reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr.s_addr);
    ::freeaddrinfo(res);
    return addr;
}

// ---------------------------------------------------------------- Adapter

/// One PeerLink as a Relationship sees it.
class LinkManager::Adapter final : public LinkPort {
public:
    Adapter(LinkManager& mgr, Entry& e, std::unique_ptr<PeerLink> link) : mgr_(mgr), e_(e), link_(std::move(link)) {
        PeerLink::Callbacks cb;
        cb.onMessage = [this](const Message& m) {
            if (!dead_) e_.rel->message(this, m);
        };
        cb.onClose = [this](CloseReason why, const std::string& detail) {
            if (dead_) return;
            dead_ = true;
            std::string reason = std::string(closeReasonName(why)) + (detail.empty() ? "" : ": " + detail);
            e_.rel->linkClosed(this, reason);
            mgr_.closed(e_, this);
        };
        cb.nextXid = [this] { return dead_ ? 0u : e_.rel->contactXid(); };
        link_->setCallbacks(std::move(cb));
    }

    void send(const Message& m) override {
        if (!dead_) link_->send(m);
    }
    void markEstablished() override {
        link_->markEstablished();
        // One link is enough: a retry still pending (the peer connected to us
        // first) would open a second. Losing this link restarts the connector.
        e_.connector->stop();
    }
    void setPartnerReceiveTimer(uint32_t seconds) override { link_->setPartnerReceiveTimer(seconds); }
    void close(const std::string& reason) override {
        if (!dead_) link_->close(reason);
    }
    void closeAfterFlush(const std::string& reason) override {
        if (!dead_) link_->closeAfterFlush(reason);
    }
    std::size_t pendingOutput() const override { return link_->pendingOutput(); }
    const PeerLink& link() const { return *link_; }
    bool dead() const { return dead_; }
    /// @brief Its relationship is going away: no more callbacks into it.
    void detach() { dead_ = true; }

private:
    LinkManager& mgr_;
    Entry& e_;
    std::unique_ptr<PeerLink> link_;
    bool dead_ = false;
};

// ---------------------------------------------------------------- LinkManager

LinkManager::LinkManager(common::EventLoop& loop, const common::Clock& clock, LinkFactory factory)
    : loop_(loop), clock_(clock), factory_(std::move(factory)), reaper_(loop, [this] { reap(); }) {}

LinkManager::~LinkManager() {
    closing_ = true;
    listeners_.clear();
    for (auto& e : entries_) {
        e->connector.reset();
        e->links.clear();
    }
    graveyard_.clear();
}

bool LinkManager::add(Relationship& rel, std::string& error) {
    const conf::FailoverPeer& c = rel.config();
    auto local = resolveAddress(c.address, error);
    if (!local) return false;
    auto peer = resolveAddress(c.peerAddress, error);
    if (!peer) return false;
    auto e = std::make_unique<Entry>();
    e->rel = &rel;
    e->localAddress = *local;
    e->peerAddress = *peer;
    e->localPort = c.port;
    // Each relationship its own transport: an accepted socket gets the TLS
    // setting of the peer it belongs to, even on a shared listener. Key files
    // are read here, before privileges are dropped.
    e->factory = c.tls.enabled() ? makeLinkFactory(c, error) : factory_;
    if (!e->factory) return false;
    Entry* entry = e.get();

    ListenerKey key{*local, c.port};
    if (!listeners_.count(key)) {
        auto classify = [this, key](uint32_t source) -> std::optional<RelationshipId> {
            // ISC accepts a connection only from a configured peer's address.
            for (const auto& en : entries_)
                if (en->localAddress == key.address && en->localPort == key.port && en->peerAddress == source)
                    return RelationshipId(reinterpret_cast<uintptr_t>(en.get()));
            return std::nullopt;
        };
        auto accepted = [this](RelationshipId id, ConnectedSocket s) {
            for (auto& en : entries_)
                if (RelationshipId(reinterpret_cast<uintptr_t>(en.get())) == id) return adopt(*en, std::move(s));
        };
        auto listener = std::make_unique<PeerListener>(loop_, *local, c.port, classify, accepted);
        if (!listener->start(error)) {
            error = "failover peer " + c.name + ": cannot listen on " + common::formatIpv4(*local) + " port " +
                    std::to_string(c.port) + ": " + error;
            return false;
        }
        listeners_.emplace(key, std::move(listener));
    }

    PeerConnector::Params cp;
    cp.peerName = c.name;
    cp.localAddress = *local;
    cp.peerAddress = *peer;
    cp.peerPort = c.peerPort;
    e->connector = std::make_unique<PeerConnector>(loop_, cp, [this, entry](ConnectedSocket s) {
        adopt(*entry, std::move(s));
    });
    entries_.push_back(std::move(e));
    entry->connector->start();
    return true;
}

void LinkManager::adopt(Entry& e, ConnectedSocket socket) {
    if (closing_) return;
    LinkParams lp;
    lp.peerName = e.rel->name();
    lp.maxResponseDelayMs = uint64_t(e.rel->config().maxResponseDelay) * 1000;
    std::unique_ptr<PeerLink> link;
    try {
        link = e.factory(loop_, clock_, std::move(socket), lp);
    } catch (const std::exception& ex) {
        common::logError("failover peer " + e.rel->name() + ": cannot set up the connection: " + ex.what());
        return;
    }
    if (!link) return;
    common::logInfo("failover peer " + e.rel->name() + ": connected to " + link->describe());
    e.links.push_back(std::make_unique<Adapter>(*this, e, std::move(link)));
    Adapter* a = e.links.back().get();
    e.rel->linkUp(a);
}

void LinkManager::closed(Entry& e, Adapter* a) {
    for (auto it = e.links.begin(); it != e.links.end(); ++it) {
        if (it->get() != a) continue;
        // The adapter and its link are inside their own callback: free them later.
        graveyard_.push_back(std::move(*it));
        e.links.erase(it);
        if (!reaper_.pending()) reaper_.startMs(0);
        break;
    }
    if (closing_) return;
    bool live = false;
    for (const auto& l : e.links)
        if (!l->dead()) live = true;
    // Nothing left to talk on: try again after ISC's 5 s.
    if (!live && e.connector->phase() == PeerConnector::Phase::Idle) e.connector->startAfterRetryDelay();
}

void LinkManager::reap() { graveyard_.clear(); }

void LinkManager::remove(const Relationship& rel) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        Entry& e = **it;
        if (e.rel != &rel) continue;
        e.connector->stop();
        // The relationship is going away: its links go quietly (no callbacks into it).
        for (auto& l : e.links) {
            l->detach();
            graveyard_.push_back(std::move(l));
        }
        e.links.clear();
        if (!reaper_.pending()) reaper_.startMs(0);
        ListenerKey key{e.localAddress, e.localPort};
        entries_.erase(it);
        bool shared = false;
        for (const auto& other : entries_)
            if (other->localAddress == key.address && other->localPort == key.port) shared = true;
        if (!shared) listeners_.erase(key);
        return;
    }
}

void LinkManager::closeAll(const std::string& why) {
    closing_ = true;
    for (auto& e : entries_) {
        e->connector->stop();
        std::vector<Adapter*> open;
        for (auto& l : e->links)
            if (!l->dead()) open.push_back(l.get());
        for (Adapter* a : open) a->close(why);
    }
    listeners_.clear();
}

const LinkCounters* LinkManager::counters(const Relationship& rel) const {
    for (const auto& e : entries_) {
        if (e->rel != &rel) continue;
        for (const auto& l : e->links)
            if (rel.isLink(l.get())) return &l->link().counters();
    }
    return nullptr;
}

}  // namespace tandem::failover
