#include "failover/connection.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <utility>
#include <vector>

#include "common/ipv4.h"
#include "common/log.h"

namespace tandem::failover {

// ---------------------------------------------------------------- ConnectedSocket

ConnectedSocket::ConnectedSocket(int fd, LinkOrigin origin) : fd_(fd), origin_(origin) {
    sockaddr_in sin{};
    socklen_t len = sizeof sin;
    if (fd_ >= 0 && ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sin), &len) == 0 && sin.sin_family == AF_INET) {
        localAddr_ = ntohl(sin.sin_addr.s_addr);
        localPort_ = ntohs(sin.sin_port);
    }
    len = sizeof sin;
    sin = {};
    if (fd_ >= 0 && ::getpeername(fd_, reinterpret_cast<sockaddr*>(&sin), &len) == 0 && sin.sin_family == AF_INET) {
        peerAddr_ = ntohl(sin.sin_addr.s_addr);
        peerPort_ = ntohs(sin.sin_port);
    }
}

ConnectedSocket::~ConnectedSocket() {
    if (fd_ >= 0) ::close(fd_);
}

ConnectedSocket::ConnectedSocket(ConnectedSocket&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      origin_(o.origin_),
      localAddr_(o.localAddr_),
      peerAddr_(o.peerAddr_),
      localPort_(o.localPort_),
      peerPort_(o.peerPort_) {}

ConnectedSocket& ConnectedSocket::operator=(ConnectedSocket&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(o.fd_, -1);
        origin_ = o.origin_;
        localAddr_ = o.localAddr_;
        peerAddr_ = o.peerAddr_;
        localPort_ = o.localPort_;
        peerPort_ = o.peerPort_;
    }
    return *this;
}

int ConnectedSocket::release() { return std::exchange(fd_, -1); }

// ---------------------------------------------------------------- names

std::string_view closeReasonName(CloseReason reason) {
    switch (reason) {
    case CloseReason::PeerClosed: return "peer closed";
    case CloseReason::IoError: return "I/O error";
    case CloseReason::Timeout: return "timeout";
    case CloseReason::HandshakeTimeout: return "handshake timeout";
    case CloseReason::ProtocolError: return "protocol error";
    case CloseReason::LocalClose: return "local close";
    }
    return "unknown";
}

namespace {

std::size_t slotOf(uint8_t type) { return type < LinkCounters::kSlots ? type : 0; }

// No exception may cross into libevent's C frames (ARCHITECTURE §3). The link
// may be gone by the time one is caught, hence the liveness flag.
template <typename F>
void guarded(const std::shared_ptr<bool>& alive, PeerLink* link, F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        common::logError(std::string("internal error in failover link callback: ") + e.what());
        if (*alive) link->close("internal error");
    } catch (...) {
        common::logError("internal error in failover link callback");
        if (*alive) link->close("internal error");
    }
}

}  // namespace

// ---------------------------------------------------------------- PeerLink

PeerLink::PeerLink(common::EventLoop& loop, const common::Clock& clock, bufferevent* bev, LinkOrigin origin,
                   uint32_t peerAddr, uint16_t peerPort, LinkParams params)
    : clock_(clock),
      bev_(bev),
      origin_(origin),
      peerAddr_(peerAddr),
      peerPort_(peerPort),
      params_(std::move(params)),
      contactTimer_(loop, [this] { onContactTimer(); }),
      livenessTimer_(loop, [this] { onLivenessTimer(); }),
      handshakeTimer_(loop, [this] { onHandshakeTimer(); }),
      flushTimer_(loop, [this] { onFlushTimer(); }),
      alive_(std::make_shared<bool>(true)) {
    bufferevent_setcb(bev_, &PeerLink::readTrampoline, &PeerLink::writeTrampoline, &PeerLink::eventTrampoline, this);
    bufferevent_enable(bev_, EV_READ | EV_WRITE);
    // failover.c (link "connect" signal): the peer gets 15 s to complete CONNECT/CONNECTACK.
    if (params_.handshakeTimeoutMs > 0) handshakeTimer_.startMs(params_.handshakeTimeoutMs);
}

PeerLink::~PeerLink() {
    *alive_ = false;
    if (bev_) bufferevent_free(bev_);
}

std::string PeerLink::describe() const {
    return "peer " + params_.peerName + " (" + common::formatIpv4(peerAddr_) + ":" + std::to_string(peerPort_) + ")";
}

void PeerLink::markEstablished() {
    if (state_ != State::Open || established_) return;
    established_ = true;
    handshakeTimer_.stop();
    armLiveness();
    armContact();
}

void PeerLink::setPartnerReceiveTimerMs(uint64_t ms) {
    // draft-ietf-dhc-failover-12 §8.2 and ISC: send something at least every receive-timer/3.
    contactIntervalMs_ = ms == 0 ? 0 : (ms / 3 == 0 ? 1 : ms / 3);
    if (contactIntervalMs_ == 0) {
        contactTimer_.stop();
        return;
    }
    if (state_ == State::Open && established_) armContact();
}

void PeerLink::setPartnerReceiveTimer(uint32_t seconds) {
    if (seconds == 0) return setPartnerReceiveTimerMs(0);
    // failover.c arms the CONTACT timer for partner.max_response_delay / 3 whole seconds.
    const uint64_t third = seconds / 3 == 0 ? 1 : seconds / 3;
    setPartnerReceiveTimerMs(third * 3000);
}

void PeerLink::setMaxResponseDelayMs(uint64_t ms) {
    params_.maxResponseDelayMs = ms;
    if (state_ == State::Open && established_) armLiveness();
}

void PeerLink::armContact() {
    if (contactIntervalMs_ > 0 && callbacks_.nextXid) contactTimer_.startMs(contactIntervalMs_);
}

void PeerLink::armLiveness() {
    if (params_.maxResponseDelayMs > 0) livenessTimer_.startMs(params_.maxResponseDelayMs);
    else livenessTimer_.stop();
}

bool PeerLink::send(const Message& m) {
    if (state_ != State::Open) return false;
    std::vector<uint8_t> bytes = encode(m);
    if (bytes.size() > kMaxMessageSize) {
        common::logError("failover " + describe() + ": not sending a " + std::string(messageTypeName(uint8_t(m.type))) +
                         " of " + std::to_string(bytes.size()) + " bytes (more than " +
                         std::to_string(kMaxMessageSize) + ")");
        return false;
    }
    // The header time is the moment the message is built (failover.c put_message);
    // the link stamps it so the engine cannot forget or reuse a stale one.
    const auto now = clock_.now();
    const auto t = uint32_t(now);
    bytes[4] = uint8_t(t >> 24);
    bytes[5] = uint8_t(t >> 16);
    bytes[6] = uint8_t(t >> 8);
    bytes[7] = uint8_t(t);
    if (bufferevent_write(bev_, bytes.data(), bytes.size()) != 0) return false;
    counters_.bytesOut += bytes.size();
    counters_.messagesOut[slotOf(uint8_t(m.type))]++;
    counters_.lastSent = now;
    if (established_) armContact();
    return true;
}

std::size_t PeerLink::pendingOutput() const {
    return bev_ ? evbuffer_get_length(bufferevent_get_output(bev_)) : 0;
}

void PeerLink::close(const std::string& detail) {
    if (state_ == State::Closed) return;
    finish(CloseReason::LocalClose, detail);
}

void PeerLink::closeAfterFlush(const std::string& detail) {
    if (state_ != State::Open) return;
    state_ = State::Flushing;
    flushDetail_ = detail;
    contactTimer_.stop();
    livenessTimer_.stop();
    handshakeTimer_.stop();
    flushTimer_.startMs(params_.flushGraceMs > 0 ? params_.flushGraceMs : 1);
    discardInput();
    if (pendingOutput() == 0) onWritable();
}

void PeerLink::discardInput() {
    if (!bev_) return;
    evbuffer* in = bufferevent_get_input(bev_);
    evbuffer_drain(in, evbuffer_get_length(in));
}

void PeerLink::finish(CloseReason reason, const std::string& detail) {
    if (state_ == State::Closed) return;
    state_ = State::Closed;
    contactTimer_.stop();
    livenessTimer_.stop();
    handshakeTimer_.stop();
    flushTimer_.stop();
    // Safe inside this bufferevent's own callbacks: libevent holds a reference until they return.
    if (bev_) bufferevent_free(bev_);
    bev_ = nullptr;
    if (common::logEnabled(common::LogLevel::Debug))
        common::logDebug("failover " + describe() + ": link closed (" + std::string(closeReasonName(reason)) + ": " +
                         detail + ")");
    // Last thing: the owner may destroy this link in the callback.
    auto onClose = std::move(callbacks_.onClose);
    callbacks_.onClose = nullptr;
    if (onClose) onClose(reason, detail);
}

void PeerLink::protocolError(const std::string& what, std::size_t streamOffset) {
    const std::string detail = what + " at offset " + std::to_string(streamOffset);
    common::logError("failover peer " + params_.peerName + ": protocol error from " + common::formatIpv4(peerAddr_) +
                     ":" + std::to_string(peerPort_) + ": " + detail + "; closing the connection");
    finish(CloseReason::ProtocolError, detail);
}

void PeerLink::readTrampoline(bufferevent*, void* self) {
    auto* link = static_cast<PeerLink*>(self);
    auto alive = link->alive_;
    guarded(alive, link, [link] { link->onReadable(); });
}

void PeerLink::writeTrampoline(bufferevent*, void* self) {
    auto* link = static_cast<PeerLink*>(self);
    auto alive = link->alive_;
    guarded(alive, link, [link] { link->onWritable(); });
}

void PeerLink::eventTrampoline(bufferevent*, short what, void* self) {
    auto* link = static_cast<PeerLink*>(self);
    auto alive = link->alive_;
    guarded(alive, link, [link, what] { link->onEvent(what); });
}

void PeerLink::onReadable() {
    if (state_ == State::Flushing) {
        discardInput();
        return;
    }
    if (state_ != State::Open) return;
    const auto alive = alive_;
    evbuffer* in = bufferevent_get_input(bev_);
    uint8_t chunk[4096];
    std::vector<uint8_t> bytes;
    while (state_ == State::Open) {
        const int n = evbuffer_remove(in, chunk, sizeof chunk);
        if (n <= 0) break;
        counters_.bytesIn += uint64_t(n);
        framer_.feed(chunk, std::size_t(n));
        while (state_ == State::Open && framer_.next(bytes)) {
            const std::size_t at = consumed_;
            consumed_ += bytes.size();
            DecodeResult r = decode(bytes.data(), bytes.size());
            if (!r.ok()) {
                protocolError(r.error, at + r.offset);
                return;
            }
            counters_.messagesIn[slotOf(uint8_t(r.message->type))]++;
            counters_.lastReceived = clock_.now();
            // failover.c: every message received on the live link restarts the
            // max-response-delay timer; before the handshake the 15 s limit rules.
            if (established_) armLiveness();
            if (callbacks_.onMessage) {
                callbacks_.onMessage(*r.message);
                if (!*alive) return;
            }
        }
        if (state_ == State::Open && framer_.broken()) {
            // The framer stops at the bad length field, which starts where the last good message ended.
            protocolError(framer_.error(), consumed_);
            return;
        }
    }
}

void PeerLink::onWritable() {
    if (state_ == State::Flushing) {
        if (pendingOutput() != 0) return;
        // Everything is queued in the kernel: half-close so the peer sees our FIN after
        // the data, and keep reading until it closes too. Closing with unread input
        // would make the kernel reset the connection and discard what we sent.
        // (A TLS transport would send close_notify first; this is the TCP seam's half-close.)
        ::shutdown(bufferevent_getfd(bev_), SHUT_WR);
        return;
    }
    if (state_ == State::Open && callbacks_.onDrained && pendingOutput() == 0) callbacks_.onDrained();
}

void PeerLink::onEvent(short what) {
    if (state_ == State::Closed) return;
    if (state_ == State::Flushing) {
        if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) finish(CloseReason::LocalClose, flushDetail_);
        return;
    }
    if (transportCheck_) {
        const std::string detail = transportCheck_(bev_, what);
        if (!detail.empty()) {
            common::logError("failover peer " + params_.peerName + ": " + detail);
            finish(CloseReason::IoError, detail);
            return;
        }
    }
    if (what & BEV_EVENT_EOF) {
        finish(CloseReason::PeerClosed, "connection closed by the peer");
        return;
    }
    if (what & BEV_EVENT_ERROR) {
        const int err = EVUTIL_SOCKET_ERROR();
        if (err == ECONNRESET || err == EPIPE) {
            finish(CloseReason::PeerClosed, "connection reset by the peer");
            return;
        }
        const std::string detail = std::string(what & BEV_EVENT_WRITING ? "write" : "read") +
                                   " error: " + std::strerror(err);
        common::logError("failover " + describe() + ": " + detail);
        finish(CloseReason::IoError, detail);
    }
}

void PeerLink::onContactTimer() {
    if (state_ != State::Open || !established_ || !callbacks_.nextXid) return;
    const auto alive = alive_;
    Message contact;  // CONTACT carries no options (draft-ietf-dhc-failover-12 §6.10)
    contact.type = MessageType::FTM_CONTACT;
    contact.xid = callbacks_.nextXid();
    if (!*alive || state_ != State::Open) return;
    send(contact);
}

void PeerLink::onLivenessTimer() {
    if (state_ != State::Open) return;
    // ISC's wording (failover.c dhcp_failover_timeout); admins grep for it.
    common::logError("timeout waiting for failover peer " + params_.peerName);
    finish(CloseReason::Timeout,
           "nothing received for " + std::to_string(params_.maxResponseDelayMs) + " ms (max-response-delay)");
}

void PeerLink::onHandshakeTimer() {
    if (state_ != State::Open || established_) return;
    common::logInfo("failover peer " + params_.peerName + ": link startup timeout");
    finish(CloseReason::HandshakeTimeout, "no CONNECT/CONNECTACK exchanged within " +
                                              std::to_string(params_.handshakeTimeoutMs) + " ms");
}

void PeerLink::onFlushTimer() {
    if (state_ != State::Flushing) return;
    finish(CloseReason::LocalClose, flushDetail_ + " (flush timed out)");
}

// ---------------------------------------------------------------- factory

std::unique_ptr<PeerLink> makeTcpLink(common::EventLoop& loop, const common::Clock& clock, ConnectedSocket socket,
                                      const LinkParams& params) {
    const int one = 1;
    ::setsockopt(socket.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    evutil_make_socket_nonblocking(socket.fd());
    bufferevent* bev = bufferevent_socket_new(loop.base(), socket.fd(), BEV_OPT_CLOSE_ON_FREE);
    if (!bev) throw std::runtime_error("cannot create a bufferevent for the failover connection");
    const LinkOrigin origin = socket.origin();
    const uint32_t peerAddr = socket.peerAddress();
    const uint16_t peerPort = socket.peerPort();
    socket.release();  // the bufferevent closes it now
    try {
        return std::make_unique<PeerLink>(loop, clock, bev, origin, peerAddr, peerPort, params);
    } catch (...) {
        bufferevent_free(bev);
        throw;
    }
}

}  // namespace tandem::failover
