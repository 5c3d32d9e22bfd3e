// The failover link over TLS 1.3 with mutual certificate authentication, for a
// relationship between two Tandem servers whose peer blocks name a
// certificate, a key and a CA (tandemd.conf(5), FAILOVER, TLS). It is a
// LinkFactory: the connected socket is wrapped in a bufferevent_openssl (the
// accepting side is the TLS server, the connecting side the client) and
// PeerLink runs on top unchanged, its 15 s handshake limit covering the TLS
// handshake too. A TLS failure (untrusted or missing certificate, wrong name,
// plain TCP on a TLS port, TLS towards a plain one) closes the link with the
// reason logged ("failover peer NAME: TLS handshake with 10.0.0.2 failed:
// certificate verify failed (...)"); the relationship sees a lost connection
// and retries as after any other.
//
// It must NOT decide anything about the protocol or the relationship, fall
// back to plain TCP when TLS fails (that would let anyone on the path strip
// it), or be used with an ISC peer (ISC dhcpd 4.4 implements no TLS). OpenSSL
// stays inside common/crypto.
#ifndef TANDEM_FAILOVER_TLS_LINK_H
#define TANDEM_FAILOVER_TLS_LINK_H

#include <memory>
#include <string>

#include "common/crypto.h"
#include "conf/config.h"
#include "failover/connection.h"

namespace tandem::failover {

/// @brief A LinkFactory that speaks TLS with `context` on every link it makes.
/// The factory throws std::runtime_error when libevent or OpenSSL cannot set a
/// link up (the socket is closed then), as makeTcpLink does.
LinkFactory makeTlsLinkFactory(std::shared_ptr<const common::TlsContext> context);

/// @brief The factory for the links of `peer`: makeTcpLink when its block has no TLS
/// statements, else a TLS factory with its files loaded now (so call it before
/// privileges are dropped). An empty function with `error` set ("FILE:LINE:COL:
/// failover peer NAME: TLS: ...") when the files cannot be used.
LinkFactory makeLinkFactory(const conf::FailoverPeer& peer, std::string& error);

}  // namespace tandem::failover

#endif
