// How a failover TCP connection comes to be, as ISC dhcpd 4.4 does it: both
// servers listen on their `address`:`port` (PeerListener) and both connect from
// that address to `peer address`:`peer port` (PeerConnector), retrying every 5 s
// after a refusal, timeout or loss and every 90 s when a connect cannot even be
// started. The result is a ConnectedSocket the engine turns into a PeerLink
// through a LinkFactory.
//
// It must NOT speak the protocol or decide which connection wins: one link per
// relationship, CONNECT and its rejections are the engine's. The listener only
// applies the accept filter (source address must be a configured peer's).
#ifndef TANDEM_FAILOVER_LISTENER_H
#define TANDEM_FAILOVER_LISTENER_H

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/event.h"
#include "failover/connection.h"

struct evconnlistener;
struct event;
struct sockaddr;

namespace tandem::failover {

/// The engine's handle for one `failover peer` relationship; opaque to the listener.
using RelationshipId = uint64_t;

/// @brief Listens on (address, port) for the peers of one or more relationships.
class PeerListener {
public:
    /// Which relationship a connection from `source` (host byte order) belongs to,
    /// or nothing to refuse it. ISC compares with what `peer address` resolves to.
    using Classify = std::function<std::optional<RelationshipId>(uint32_t source)>;
    /// A connection passed the filter. May destroy the listener.
    using Accepted = std::function<void(RelationshipId, ConnectedSocket)>;
    struct Counters {
        uint64_t accepted = 0;
        uint64_t refused = 0;       ///< closed silently by the accept filter
        uint64_t acceptErrors = 0;  ///< accept() failures (e.g. out of descriptors)
    };

    /// @param address local address in host byte order (0: any); ISC's `address`
    /// @param port ISC's `port`; 0 picks an ephemeral one (tests), see port()
    PeerListener(common::EventLoop& loop, uint32_t address, uint16_t port, Classify classify, Accepted accepted);
    ~PeerListener();
    PeerListener(const PeerListener&) = delete;
    PeerListener& operator=(const PeerListener&) = delete;

    /// @brief Bind (SO_REUSEADDR) and listen. False with `error` set when that fails;
    /// ISC tries again 90 s later, which is the caller's to schedule.
    bool start(std::string& error);
    void stop();
    bool listening() const { return listener_ != nullptr; }
    uint32_t address() const { return address_; }
    /// @brief The bound port (the ephemeral one when constructed with 0).
    uint16_t port() const { return port_; }
    const Counters& counters() const { return counters_; }

private:
    static void acceptTrampoline(evconnlistener*, int fd, ::sockaddr* addr, int len, void* self);
    static void errorTrampoline(evconnlistener*, void* self);
    void onAccept(int fd, const ::sockaddr* addr, int len);
    void onAcceptError();

    common::EventLoop& loop_;
    uint32_t address_;
    uint16_t port_;
    Classify classify_;
    Accepted accepted_;
    evconnlistener* listener_ = nullptr;
    common::Timer resume_;  ///< re-enables accepting after an accept() error
    Counters counters_;
};

/// @brief Connects to the peer, non-blocking, retrying until told to stop.
class PeerConnector {
public:
    struct Params {
        std::string peerName;                  ///< for logs
        uint32_t localAddress = 0;             ///< bound as source (ISC's `address`), host order; 0: any
        uint32_t peerAddress = 0;              ///< host byte order
        uint16_t peerPort = 647;
        uint64_t retryMs = 5000;               ///< after a refusal, a timeout or a loss (ISC)
        uint64_t unstartableRetryMs = 90000;   ///< when the connect cannot even start (ISC)
        uint64_t connectTimeoutMs = 0;         ///< 0: the kernel's own SYN timeout, as ISC
    };
    /// TCP is up (not the protocol). The connector is idle again. May destroy the connector.
    using Connected = std::function<void(ConnectedSocket)>;
    enum class Phase : uint8_t { Idle, Connecting, Waiting };
    struct Counters {
        uint64_t attempts = 0, failures = 0, connected = 0;
    };

    PeerConnector(common::EventLoop& loop, Params params, Connected connected);
    ~PeerConnector();
    PeerConnector(const PeerConnector&) = delete;
    PeerConnector& operator=(const PeerConnector&) = delete;

    /// @brief Attempt now (replacing any attempt or wait in progress). The result
    /// always comes from the loop, never from inside this call.
    void start();
    /// @brief Attempt after retryMs: what to do when a link is lost.
    void startAfterRetryDelay();
    /// @brief Abandon any attempt and wait; stays idle until started again.
    void stop();

    Phase phase() const { return phase_; }
    /// @brief The delay of the current wait (retryMs or unstartableRetryMs).
    uint64_t waitMs() const { return waitMs_; }
    const std::string& lastError() const { return lastError_; }
    const Counters& counters() const { return counters_; }
    const Params& params() const { return params_; }

private:
    static void connectTrampoline(int fd, short what, void* self);
    void attempt();
    void onConnectEvent(short what);
    void fail(const std::string& why, uint64_t delayMs);
    void abandon();

    common::EventLoop& loop_;
    Params params_;
    Connected connected_;
    Phase phase_ = Phase::Idle;
    int fd_ = -1;
    event* connectEvent_ = nullptr;
    common::Timer retry_;
    uint64_t waitMs_ = 0;
    std::string lastError_;
    Counters counters_;
};

}  // namespace tandem::failover

#endif
