// TLS for the failover link between two Tandem servers, and the checks the
// configuration makes of the files it names: the one place that sees OpenSSL
// (tests/check_layers.sh enforces it). A TlsContext is TLS 1.3 only with
// mutual certificate authentication (each side presents its certificate and
// verifies the other's against the configured CA, optionally by name); it
// wraps a connected socket in a bufferevent_openssl, and the helpers below
// explain a failed session in words. Callers get libevent types and strings,
// never an OpenSSL type.
//
// It must NOT know the failover protocol, log, or decide what a failure means
// for the relationship: it reports, the link layer decides. ISC dhcpd 4.4
// never does TLS (it sends TLS-request 0), so this only ever runs between two
// Tandem peers that are both configured for it.
#ifndef TANDEM_COMMON_CRYPTO_H
#define TANDEM_COMMON_CRYPTO_H

#include <cstdint>
#include <memory>
#include <string>

struct bufferevent;
struct event_base;

namespace tandem::common {

/// The files (PEM) and the optional name a TLS endpoint is made of.
struct TlsSettings {
    std::string certificateFile;  ///< our certificate, then any intermediates
    std::string keyFile;          ///< its private key (unencrypted)
    std::string caFile;           ///< the CA certificate(s) the peer's certificate must chain to
    std::string peerName;         ///< "": any certificate the CA signed; else its DNS name must match
};

/// What a PEM file is expected to hold.
enum class PemKind : uint8_t {
    Certificate,     ///< at least one certificate (the first is ours)
    PrivateKey,      ///< a private key
    CaCertificates,  ///< at least one certificate, all of them usable as trust anchors
};

/// @brief Whether `path` is readable and parses as PEM of `kind`; `error` says why not
/// ("cannot open: Permission denied", "no certificate found (not PEM?)").
bool checkPemFile(const std::string& path, PemKind kind, std::string& error);

/// @brief Whether the private key in `keyFile` belongs to the first certificate of
/// `certificateFile`; both must already pass checkPemFile.
bool checkKeyMatchesCertificate(const std::string& certificateFile, const std::string& keyFile, std::string& error);

/// Which side of the TLS handshake a connection plays.
enum class TlsRole : uint8_t {
    Client,  ///< we opened the TCP connection
    Server,  ///< we accepted it
};

/// @brief One configured TLS endpoint (an SSL_CTX). Immutable once made; sessions made
/// from it keep what they need alive, so it may be destroyed before them.
class TlsContext {
public:
    /// @brief Load and check the files: TLS 1.3 only, our certificate and key (which
    /// must match), the CA, peer verification required on both sides (a peer
    /// without a certificate is refused), the name check when `peerName` is set.
    /// Nothing (and `error` set) on any failure.
    static std::shared_ptr<const TlsContext> create(const TlsSettings& settings, std::string& error);
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    /// @brief A bufferevent_openssl on the connected, non-blocking socket `fd`, in the
    /// handshake of `role`. It owns the fd from then on (BEV_OPT_CLOSE_ON_FREE),
    /// even when this fails (nullptr, `error` set): then the fd is closed here.
    bufferevent* wrapSocket(event_base* base, int fd, TlsRole role, std::string& error) const;

    const TlsSettings& settings() const { return settings_; }

private:
    struct Handle;
    TlsContext(TlsSettings settings, std::unique_ptr<Handle> handle);
    TlsSettings settings_;
    std::unique_ptr<Handle> handle_;
};

/// @brief Whether the TLS handshake of a bufferevent made by wrapSocket has completed.
bool tlsHandshakeDone(bufferevent* bev);

/// @brief Why the TLS layer of `bev` failed, in one line: the errors OpenSSL
/// reported for it (oldest first, "; " between them), then the certificate
/// verification result when that failed ("certificate verify failed (unable to get
/// local issuer certificate)"). Takes those errors, so a second call says less.
/// "" when nothing TLS-specific is known (a plain socket error or close).
std::string tlsFailure(bufferevent* bev);

/// @brief "TLSv1.3 TLS_AES_256_GCM_SHA384, peer CN=secondary.example": for logs, after the handshake.
std::string tlsSummary(bufferevent* bev);

}  // namespace tandem::common

#endif
