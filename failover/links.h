// Connections for the failover engine: a listener per local (address, port),
// a connector per relationship, and the links each relationship has up at a
// moment (more than one while a handshake race is being settled). It turns
// PeerLink callbacks into Relationship calls and keeps dead links alive until
// the callbacks that killed them have returned. No protocol decisions here.
#ifndef TANDEM_FAILOVER_LINKS_H
#define TANDEM_FAILOVER_LINKS_H

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/event.h"
#include "failover/connection.h"
#include "failover/listener.h"
#include "failover/relationship.h"

namespace tandem::failover {

class LinkManager {
public:
    LinkManager(common::EventLoop& loop, const common::Clock& clock, LinkFactory factory = makeTcpLink);
    ~LinkManager();
    LinkManager(const LinkManager&) = delete;
    LinkManager& operator=(const LinkManager&) = delete;

    /// @brief Listen for and connect to the peer of `rel`. Addresses written as
    /// names are resolved now (start-up may block; packet handling never does).
    bool add(Relationship& rel, std::string& error);
    /// @brief Stop listening for, connecting to and talking with the peer of `rel`.
    void remove(const Relationship& rel);
    /// @brief Close every link and stop connecting.
    void closeAll(const std::string& why);
    /// @brief Counters of the established link of `rel`, or nullptr.
    const LinkCounters* counters(const Relationship& rel) const;

private:
    class Adapter;
    struct Entry {
        Relationship* rel = nullptr;
        uint32_t localAddress = 0, peerAddress = 0;
        uint16_t localPort = 0;
        LinkFactory factory;  ///< plain TCP, or TLS when the peer block asks for it
        std::unique_ptr<PeerConnector> connector;
        std::list<std::unique_ptr<Adapter>> links;
    };
    struct ListenerKey {
        uint32_t address;
        uint16_t port;
        bool operator<(const ListenerKey& o) const { return address != o.address ? address < o.address : port < o.port; }
    };

    void adopt(Entry& e, ConnectedSocket socket);
    void closed(Entry& e, Adapter* a);
    void reap();

    common::EventLoop& loop_;
    const common::Clock& clock_;
    LinkFactory factory_;
    std::vector<std::unique_ptr<Entry>> entries_;
    std::map<ListenerKey, std::unique_ptr<PeerListener>> listeners_;
    std::vector<std::unique_ptr<Adapter>> graveyard_;
    common::Timer reaper_;
    bool closing_ = false;
};

/// @brief An IPv4 address from a config AddressRef: the literal, or the name
/// resolved (blocking: only at start-up). Nothing when it cannot be resolved.
std::optional<uint32_t> resolveAddress(const conf::AddressRef& a, std::string& error);

}  // namespace tandem::failover

#endif
