// One established failover TCP connection to the peer (a "link"), whichever
// side opened it: it cuts the byte stream into messages (Framer), decodes them
// and hands each to its owner, encodes and queues what the owner sends, and
// runs the per-link timers of ISC dhcpd 4.4 (CONTACT keepalive, liveness
// timeout, 15 s handshake limit). It closes itself on a framing or decoding
// error, a timeout or the peer's close, and says why exactly once.
//
// It must NOT make protocol decisions: it does not know states, does not
// answer CONNECT, does not choose xids (the engine numbers every message,
// CONTACT included) and does not reconnect (PeerConnector does, when the
// engine asks). The transport sits behind one seam, LinkFactory, so a TLS
// variant (bufferevent_openssl) can replace makeTcpLink without touching the
// rest.
#ifndef TANDEM_FAILOVER_CONNECTION_H
#define TANDEM_FAILOVER_CONNECTION_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/event.h"
#include "failover/framer.h"
#include "failover/message.h"

struct bufferevent;

namespace tandem::failover {

/// How a connection came to be; a TLS transport needs it to pick client or server role.
enum class LinkOrigin : uint8_t { Accepted, Initiated };

/// @brief A connected, non-blocking TCP socket not yet wrapped in a link. Owns the fd.
class ConnectedSocket {
public:
    ConnectedSocket() = default;
    /// @brief Take ownership of `fd`; the addresses are read from the socket.
    ConnectedSocket(int fd, LinkOrigin origin);
    ~ConnectedSocket();
    ConnectedSocket(ConnectedSocket&& other) noexcept;
    ConnectedSocket& operator=(ConnectedSocket&& other) noexcept;
    ConnectedSocket(const ConnectedSocket&) = delete;
    ConnectedSocket& operator=(const ConnectedSocket&) = delete;

    int fd() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    /// @brief Give the fd away; this object no longer closes it.
    int release();
    LinkOrigin origin() const { return origin_; }
    uint32_t localAddress() const { return localAddr_; }  ///< host byte order
    uint16_t localPort() const { return localPort_; }
    uint32_t peerAddress() const { return peerAddr_; }    ///< host byte order
    uint16_t peerPort() const { return peerPort_; }

private:
    int fd_ = -1;
    LinkOrigin origin_ = LinkOrigin::Accepted;
    uint32_t localAddr_ = 0, peerAddr_ = 0;
    uint16_t localPort_ = 0, peerPort_ = 0;
};

/// Why a link closed. Reported once, through PeerLink::Callbacks::onClose.
enum class CloseReason : uint8_t {
    PeerClosed,        ///< the peer closed or reset the connection
    IoError,           ///< a socket error other than the peer's close
    Timeout,           ///< nothing received for max-response-delay
    HandshakeTimeout,  ///< markEstablished() not called within the handshake limit
    ProtocolError,     ///< a framing or decoding error in what the peer sent
    LocalClose,        ///< the owner called close() or closeAfterFlush()
};
std::string_view closeReasonName(CloseReason reason);

/// Per-link counters for metrics. Index messages by wire type (1..12); slot 0 counts others.
struct LinkCounters {
    static constexpr std::size_t kSlots = 13;
    std::array<uint64_t, kSlots> messagesIn{}, messagesOut{};
    uint64_t bytesIn = 0, bytesOut = 0;
    common::Time lastReceived = 0;  ///< wall-clock time of the last message received, 0 if none
    common::Time lastSent = 0;      ///< wall-clock time of the last message sent, 0 if none
};

/// What the owner (the engine) tells a link about the relationship.
struct LinkParams {
    std::string peerName;                ///< the `failover peer` name, for logs
    uint64_t maxResponseDelayMs = 20000; ///< OUR max-response-delay: the liveness limit
    uint64_t handshakeTimeoutMs = 15000; ///< ISC: CONNECT/CONNECTACK within 15 s
    uint64_t flushGraceMs = 5000;        ///< closeAfterFlush gives up after this
};

class PeerLink {
public:
    struct Callbacks {
        /// A decoded message. May call send(), close(), or destroy the link.
        std::function<void(const Message&)> onMessage;
        /// The link is closed (fd already closed). Called at most once; may destroy the link.
        std::function<void(CloseReason, const std::string& detail)> onClose;
        /// The engine's next xid, asked for each CONTACT the keepalive timer sends
        /// (ISC numbers CONTACT from the link's counter like any request). Without
        /// it no CONTACT is sent.
        std::function<uint32_t()> nextXid;
        /// Optional: the output queue has just become empty (resume after back-pressure).
        std::function<void()> onDrained;
    };

    /// @brief Wrap an already set-up bufferevent, which the link then owns and frees.
    /// Use a LinkFactory (makeTcpLink) rather than this directly. Starts reading and
    /// the handshake timer.
    PeerLink(common::EventLoop& loop, const common::Clock& clock, bufferevent* bev, LinkOrigin origin,
             uint32_t peerAddr, uint16_t peerPort, LinkParams params);
    /// @brief Closes the connection if still open, without calling back.
    ~PeerLink();
    PeerLink(const PeerLink&) = delete;
    PeerLink& operator=(const PeerLink&) = delete;

    void setCallbacks(Callbacks callbacks) { callbacks_ = std::move(callbacks); }

    /// A transport with failures of its own (TLS, failover/tls_link.h) sees each
    /// bufferevent event first: it returns the reason to log and close with
    /// (CloseReason::IoError), or "" to let the link treat the event as a socket's.
    using TransportCheck = std::function<std::string(bufferevent*, short what)>;
    /// @brief Set by the LinkFactory that made the bufferevent.
    void setTransportCheck(TransportCheck check) { transportCheck_ = std::move(check); }

    /// @brief The engine processed CONNECT (secondary) or CONNECTACK (primary): stop the
    /// handshake timer and start the liveness and keepalive timers.
    void markEstablished();
    bool established() const { return established_; }

    /// @brief The partner's receive-timer (option 19 of its CONNECT/CONNECTACK), in ms;
    /// a CONTACT goes out when nothing was sent for a third of it. 0 turns CONTACT off.
    void setPartnerReceiveTimerMs(uint64_t ms);
    /// @brief The same in whole seconds as option 19 carries them, with ISC's integer
    /// division (receive-timer 20 gives a CONTACT every 6 s), at least every second.
    void setPartnerReceiveTimer(uint32_t seconds);
    /// @brief Our own max-response-delay may change on reconfiguration.
    void setMaxResponseDelayMs(uint64_t ms);

    /// @brief Encode and queue `m`, stamping its header time with the clock's now.
    /// The xid is the engine's, as given. False (nothing queued) when the link is
    /// closed or closing, or when the encoded message exceeds 2048 bytes.
    bool send(const Message& m);
    /// @brief Bytes queued but not yet written to the socket: back-pressure.
    std::size_t pendingOutput() const;

    /// @brief Close now, dropping unsent output. Calls onClose(LocalClose) before returning.
    void close(const std::string& detail = "closed locally");
    /// @brief Stop delivering messages and timers, write out what is queued, half-close,
    /// then close when the peer does (or after flushGraceMs). onClose(LocalClose) comes
    /// then, from the loop; keep the link alive until it does or the output is lost.
    void closeAfterFlush(const std::string& detail = "closed locally");

    bool open() const { return state_ == State::Open; }
    const LinkCounters& counters() const { return counters_; }
    const LinkParams& params() const { return params_; }
    LinkOrigin origin() const { return origin_; }
    uint32_t peerAddress() const { return peerAddr_; }
    uint16_t peerPort() const { return peerPort_; }
    /// @brief "peer NAME (10.0.0.2:647)", for logs.
    std::string describe() const;

private:
    enum class State : uint8_t { Open, Flushing, Closed };

    static void readTrampoline(bufferevent*, void* self);
    static void writeTrampoline(bufferevent*, void* self);
    static void eventTrampoline(bufferevent*, short what, void* self);
    void onReadable();
    void onWritable();
    void onEvent(short what);
    void onContactTimer();
    void onLivenessTimer();
    void onHandshakeTimer();
    void onFlushTimer();
    void armContact();
    void armLiveness();
    void protocolError(const std::string& what, std::size_t streamOffset);
    /// Free the transport, stop timers, then report. Touches nothing after the report.
    void finish(CloseReason reason, const std::string& detail);
    void discardInput();

    const common::Clock& clock_;
    bufferevent* bev_;
    LinkOrigin origin_;
    uint32_t peerAddr_;
    uint16_t peerPort_;
    LinkParams params_;
    Callbacks callbacks_;
    TransportCheck transportCheck_;
    State state_ = State::Open;
    bool established_ = false;
    uint64_t contactIntervalMs_ = 0;
    std::string flushDetail_;
    Framer framer_;
    std::size_t consumed_ = 0;  ///< stream offset of the next message's length field
    LinkCounters counters_;
    common::Timer contactTimer_, livenessTimer_, handshakeTimer_, flushTimer_;
    std::shared_ptr<bool> alive_;  ///< false once destroyed: callbacks check it before touching members
};

/// @brief The transport seam: make a link from a connected socket. makeTcpLink is the
/// plain-TCP one; a TLS variant wraps the fd with bufferevent_openssl instead.
using LinkFactory = std::function<std::unique_ptr<PeerLink>(common::EventLoop&, const common::Clock&,
                                                            ConnectedSocket, const LinkParams&)>;

/// @brief Plain TCP (TCP_NODELAY set: messages are whole units, Nagle would only delay acks).
/// @throw std::runtime_error when libevent cannot allocate the bufferevent.
std::unique_ptr<PeerLink> makeTcpLink(common::EventLoop& loop, const common::Clock& clock, ConnectedSocket socket,
                                      const LinkParams& params);

}  // namespace tandem::failover

#endif
