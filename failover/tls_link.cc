#include "failover/tls_link.h"

#include <event2/bufferevent.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "common/ipv4.h"
#include "common/log.h"

namespace tandem::failover {

namespace {

/// What PeerLink asks before it handles a bufferevent event itself: TLS's own
/// failures become a reason in words; a clean close after the handshake, and a
/// socket error without anything from OpenSSL, stay the link's to handle.
std::string checkTlsEvent(bufferevent* bev, short what, const std::string& peerName, const std::string& peer) {
    const bool established = common::tlsHandshakeDone(bev);
    if (what & BEV_EVENT_CONNECTED) {
        common::logInfo("failover peer " + peerName + ": TLS with " + peer + " established (" +
                        common::tlsSummary(bev) + ")");
        return "";
    }
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) return "";
    const int err = EVUTIL_SOCKET_ERROR();
    std::string why = common::tlsFailure(bev);
    if (why.empty()) {
        if (established) return "";
        // The peer gave up on the handshake without a TLS alert: typically a
        // plain-TCP server that could not frame our ClientHello and closed.
        why = (what & BEV_EVENT_EOF) || err == ECONNRESET || err == EPIPE || err == 0
                  ? "connection closed by the peer during the handshake"
                  : std::strerror(err);
    }
    // In TLS 1.3 the client finishes its side of the handshake before the server
    // has checked the client's certificate, so a refusal reaches the client as an
    // alert on an "established" session.
    return std::string("TLS ") + (established ? "session" : "handshake") + " with " + peer + " failed: " + why;
}

std::unique_ptr<PeerLink> makeTlsLink(const std::shared_ptr<const common::TlsContext>& context,
                                      common::EventLoop& loop, const common::Clock& clock, ConnectedSocket socket,
                                      const LinkParams& params) {
    // As makeTcpLink: messages are whole units, Nagle would only delay them.
    const int one = 1;
    ::setsockopt(socket.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    evutil_make_socket_nonblocking(socket.fd());
    const LinkOrigin origin = socket.origin();
    const uint32_t peerAddr = socket.peerAddress();
    const uint16_t peerPort = socket.peerPort();
    // The side that accepted is the TLS server; both present a certificate anyway.
    const auto role = origin == LinkOrigin::Accepted ? common::TlsRole::Server : common::TlsRole::Client;
    std::string error;
    bufferevent* bev = context->wrapSocket(loop.base(), socket.release(), role, error);
    if (!bev) throw std::runtime_error(error);
    std::unique_ptr<PeerLink> link;
    try {
        link = std::make_unique<PeerLink>(loop, clock, bev, origin, peerAddr, peerPort, params);
    } catch (...) {
        bufferevent_free(bev);
        throw;
    }
    link->setTransportCheck([peerName = params.peerName, peer = common::formatIpv4(peerAddr)](
                                bufferevent* b, short what) { return checkTlsEvent(b, what, peerName, peer); });
    return link;
}

}  // namespace

LinkFactory makeTlsLinkFactory(std::shared_ptr<const common::TlsContext> context) {
    if (!context) throw std::invalid_argument("makeTlsLinkFactory: no TLS context");
    return [context = std::move(context)](common::EventLoop& loop, const common::Clock& clock,
                                          ConnectedSocket socket, const LinkParams& params) {
        return makeTlsLink(context, loop, clock, std::move(socket), params);
    };
}

LinkFactory makeLinkFactory(const conf::FailoverPeer& peer, std::string& error) {
    if (!peer.tls.enabled()) return makeTcpLink;
    common::TlsSettings s;
    s.certificateFile = peer.tls.certificate.value;
    s.keyFile = peer.tls.key.value;
    s.caFile = peer.tls.ca.value;
    s.peerName = peer.tls.peerName.value;
    std::string why;
    auto context = common::TlsContext::create(s, why);
    if (!context) {
        error = peer.tls.certificate.where.str() + ": failover peer " + peer.name + ": TLS: " + why;
        return nullptr;
    }
    return makeTlsLinkFactory(std::move(context));
}

}  // namespace tandem::failover
