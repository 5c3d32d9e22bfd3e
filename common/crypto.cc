#include "common/crypto.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/util.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

namespace tandem::common {

namespace {

// One OpenSSL error as words. System errors carry errno in the reason field.
std::string describeError(unsigned long e) {
    if (ERR_SYSTEM_ERROR(e)) return std::strerror(int(ERR_GET_REASON(e)));
    if (const char* r = ERR_reason_error_string(e)) return r;
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

void append(std::string& out, const std::string& what) {
    if (what.empty() || out.find(what) != std::string::npos) return;  // OpenSSL often repeats itself
    if (!out.empty()) out += "; ";
    out += what;
}

/// This thread's OpenSSL error queue, oldest first, as one string; the queue is emptied.
std::string drainErrors() {
    std::string out;
    unsigned long e;
    while ((e = ERR_get_error()) != 0) append(out, describeError(e));
    return out;
}

std::string orUnknown(std::string s) { return s.empty() ? "unknown OpenSSL error" : s; }

// A key protected by a passphrase would make OpenSSL prompt on the terminal: a
// daemon cannot answer, so refuse it at once and say so.
int refusePassphrase(char*, int, int, void* asked) {
    if (asked) *static_cast<bool*>(asked) = true;
    return -1;
}

struct BioCloser {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Freer {
    void operator()(X509* x) const { X509_free(x); }
};
struct KeyFreer {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioCloser>;
using X509Ptr = std::unique_ptr<X509, X509Freer>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFreer>;

constexpr std::size_t kMaxPemBytes = 1 << 20;  ///< far more than any certificate chain

/// The text of `path` in a memory BIO (`text` keeps it alive), with errno's words when it cannot be read.
BioPtr openFile(const std::string& path, std::string& text, std::string& error) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        error = std::string("cannot open: ") + std::strerror(errno);
        return nullptr;
    }
    if (S_ISDIR(st.st_mode)) {
        error = "cannot open: is a directory";
        return nullptr;
    }
    std::FILE* f = std::fopen(path.c_str(), "r");
    if (!f) {
        error = std::string("cannot open: ") + std::strerror(errno);
        return nullptr;
    }
    text.assign(kMaxPemBytes + 1, '\0');
    const std::size_t n = std::fread(text.data(), 1, text.size(), f);
    const bool bad = std::ferror(f) != 0;
    const int err = errno;
    std::fclose(f);
    if (bad) {
        error = std::string("cannot read: ") + std::strerror(err);
        return nullptr;
    }
    if (n > kMaxPemBytes) {
        error = "larger than " + std::to_string(kMaxPemBytes) + " bytes: not a PEM file";
        return nullptr;
    }
    text.resize(n);
    BioPtr bio(BIO_new_mem_buf(text.data(), int(text.size())));
    if (!bio) error = "cannot read: " + orUnknown(drainErrors());
    return bio;
}

/// Every certificate of a PEM file, in order; empty with `error` set on any problem.
std::vector<X509Ptr> readCertificates(const std::string& path, std::string& error) {
    std::vector<X509Ptr> certs;
    ERR_clear_error();
    std::string text;
    BioPtr bio = openFile(path, text, error);
    if (!bio) return certs;
    if (text.find("-----BEGIN CERTIFICATE-----") == std::string::npos &&
        text.find("-----BEGIN TRUSTED CERTIFICATE-----") == std::string::npos) {
        error = "no PEM certificate found (expecting \"-----BEGIN CERTIFICATE-----\")";
        return certs;
    }
    for (;;) {
        X509Ptr x(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
        if (x) {
            certs.push_back(std::move(x));
            continue;
        }
        const unsigned long e = ERR_peek_last_error();
        // "no start line" after at least one certificate is the end of the file.
        if (!certs.empty() && ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
            ERR_clear_error();
            return certs;
        }
        const std::size_t good = certs.size();
        certs.clear();
        error = "not a valid PEM certificate" +
                (good == 0 ? std::string() : " after the first " + std::to_string(good)) + ": " +
                orUnknown(drainErrors());
        return certs;
    }
}

KeyPtr readKey(const std::string& path, std::string& error) {
    ERR_clear_error();
    std::string text;
    BioPtr bio = openFile(path, text, error);
    if (!bio) return nullptr;
    if (text.find("PRIVATE KEY-----") == std::string::npos) {
        error = "no PEM private key found (expecting \"-----BEGIN PRIVATE KEY-----\")";
        return nullptr;
    }
    bool asked = false;
    KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, &refusePassphrase, &asked));
    if (key) return key;
    const std::string why = orUnknown(drainErrors());
    if (asked || text.find("ENCRYPTED") != std::string::npos)
        error = "the private key is protected by a passphrase, which tandemd cannot ask for";
    else
        error = "not a valid PEM private key: " + why;
    return nullptr;
}

}  // namespace

// ---------------------------------------------------------------- file checks

bool checkPemFile(const std::string& path, PemKind kind, std::string& error) {
    switch (kind) {
    case PemKind::Certificate:
    case PemKind::CaCertificates: return !readCertificates(path, error).empty();
    case PemKind::PrivateKey: return readKey(path, error) != nullptr;
    }
    error = "unknown kind of PEM file";
    return false;
}

bool checkKeyMatchesCertificate(const std::string& certificateFile, const std::string& keyFile, std::string& error) {
    auto certs = readCertificates(certificateFile, error);
    if (certs.empty()) return false;
    KeyPtr key = readKey(keyFile, error);
    if (!key) return false;
    ERR_clear_error();
    if (X509_check_private_key(certs.front().get(), key.get()) != 1) {
        ERR_clear_error();
        error = "the private key does not belong to the certificate in " + certificateFile;
        return false;
    }
    return true;
}

// ---------------------------------------------------------------- TlsContext

struct TlsContext::Handle {
    SSL_CTX* ctx = nullptr;
    ~Handle() { SSL_CTX_free(ctx); }
};

TlsContext::TlsContext(TlsSettings settings, std::unique_ptr<Handle> handle)
    : settings_(std::move(settings)), handle_(std::move(handle)) {}

TlsContext::~TlsContext() = default;

std::shared_ptr<const TlsContext> TlsContext::create(const TlsSettings& s, std::string& error) {
    // The same checks as -t first, for their precise words.
    if (!checkPemFile(s.certificateFile, PemKind::Certificate, error)) {
        error = s.certificateFile + ": " + error;
        return nullptr;
    }
    if (!checkPemFile(s.keyFile, PemKind::PrivateKey, error)) {
        error = s.keyFile + ": " + error;
        return nullptr;
    }
    if (!checkPemFile(s.caFile, PemKind::CaCertificates, error)) {
        error = s.caFile + ": " + error;
        return nullptr;
    }
    if (!checkKeyMatchesCertificate(s.certificateFile, s.keyFile, error)) {
        error = s.keyFile + ": " + error;
        return nullptr;
    }
    ERR_clear_error();
    auto h = std::make_unique<Handle>();
    h->ctx = SSL_CTX_new(TLS_method());
    auto fail = [&error](const std::string& step) {
        error = step + ": " + orUnknown(drainErrors());
        return nullptr;
    };
    if (!h->ctx) return fail("cannot create a TLS context");
    SSL_CTX* ctx = h->ctx;
    // TLS 1.3 only: both ends are Tandem, so nothing older needs to be spoken,
    // and 1.3 encrypts the certificates exchanged (RFC 8446 §2).
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
        return fail("cannot restrict TLS to version 1.3");
    SSL_CTX_set_default_passwd_cb(ctx, &refusePassphrase);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);
    if (SSL_CTX_use_certificate_chain_file(ctx, s.certificateFile.c_str()) != 1)
        return fail(s.certificateFile + ": cannot use the certificate");
    if (SSL_CTX_use_PrivateKey_file(ctx, s.keyFile.c_str(), SSL_FILETYPE_PEM) != 1)
        return fail(s.keyFile + ": cannot use the private key");
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        error = s.keyFile + ": the private key does not belong to the certificate in " + s.certificateFile;
        return nullptr;
    }
    if (SSL_CTX_load_verify_locations(ctx, s.caFile.c_str(), nullptr) != 1)
        return fail(s.caFile + ": cannot use the CA certificates");
    // Mutual authentication: either side may be the one that connected, and each
    // must prove itself to the other; a peer without a certificate is refused.
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    if (!s.peerName.empty()) {
        X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (X509_VERIFY_PARAM_set1_host(param, s.peerName.c_str(), s.peerName.size()) != 1)
            return fail("cannot check the peer name " + s.peerName);
    }
    // One long-lived connection at a time: no session resumption to manage. The
    // failover framing makes a cut stream visible on its own (a partial message
    // is never delivered), so a TCP close without close_notify is an ordinary
    // end of stream, as PeerLink's half-close after a flush produces one.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    ERR_clear_error();
    return std::shared_ptr<const TlsContext>(new TlsContext(s, std::move(h)));
}

bufferevent* TlsContext::wrapSocket(event_base* base, int fd, TlsRole role, std::string& error) const {
    ERR_clear_error();
    SSL* ssl = SSL_new(handle_->ctx);  // holds its own reference to the context
    if (!ssl) {
        error = "cannot create a TLS session: " + orUnknown(drainErrors());
        evutil_closesocket(fd);
        return nullptr;
    }
    const auto state = role == TlsRole::Client ? BUFFEREVENT_SSL_CONNECTING : BUFFEREVENT_SSL_ACCEPTING;
    bufferevent* bev = bufferevent_openssl_socket_new(base, fd, ssl, state, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        // libevent has freed the session and closed the fd if it got far enough
        // to own them; closing again is harmless (nothing else runs in between).
        error = "cannot create a TLS bufferevent: " + orUnknown(drainErrors());
        evutil_closesocket(fd);
        return nullptr;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

// ---------------------------------------------------------------- sessions

bool tlsHandshakeDone(bufferevent* bev) {
    SSL* ssl = bev ? bufferevent_openssl_get_ssl(bev) : nullptr;
    return ssl && SSL_is_init_finished(ssl);
}

std::string tlsFailure(bufferevent* bev) {
    SSL* ssl = bev ? bufferevent_openssl_get_ssl(bev) : nullptr;
    if (!ssl) return "";
    // libevent keeps the errors of the failed call for us, newest on top.
    std::vector<unsigned long> kept;
    while (unsigned long e = bufferevent_get_openssl_error(bev)) kept.push_back(e);
    std::string out;
    for (auto it = kept.rbegin(); it != kept.rend(); ++it) {
        // libevent 2.1 also files SSL_get_error()'s code (1 for SSL_ERROR_SSL) among
        // them; a real OpenSSL error always names its library.
        if (ERR_GET_LIB(*it) == 0 && !ERR_SYSTEM_ERROR(*it)) continue;
        append(out, describeError(*it));
    }
    append(out, drainErrors());
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
        const std::string why = X509_verify_cert_error_string(verify);
        if (out.find("certificate verify failed") != std::string::npos)
            out.replace(out.find("certificate verify failed"), std::strlen("certificate verify failed"),
                        "certificate verify failed (" + why + ")");
        else
            append(out, "peer certificate: " + why);
    }
    return out;
}

std::string tlsSummary(bufferevent* bev) {
    SSL* ssl = bev ? bufferevent_openssl_get_ssl(bev) : nullptr;
    if (!ssl) return "";
    std::string out = std::string(SSL_get_version(ssl)) + " " + SSL_get_cipher_name(ssl);
    if (X509* peer = SSL_get0_peer_certificate(ssl)) {
        BioPtr mem(BIO_new(BIO_s_mem()));
        if (mem && X509_NAME_print_ex(mem.get(), X509_get_subject_name(peer), 0, XN_FLAG_RFC2253) >= 0) {
            char* data = nullptr;
            const long n = BIO_get_mem_data(mem.get(), &data);
            if (n > 0) out += ", peer " + std::string(data, std::size_t(n));
        }
    }
    ERR_clear_error();
    return out;
}

}  // namespace tandem::common
