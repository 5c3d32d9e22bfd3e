// common/crypto: the PEM checks say what is wrong with a file in words, a TLS
// context refuses what it cannot use, and the session helpers say nothing
// about a bufferevent that is not TLS. (The handshakes themselves are in
// tests/unit/failover/tls_test.cc; both run in unit_failover_tls, which has
// the openssl command line to make certificates with.)
#include <cppunit/extensions/HelperMacros.h>

#include <event2/bufferevent.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/event.h"
#include "tests/unit/tls_pki.h"

using namespace tandem;
using common::PemKind;

class CryptoTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CryptoTest);
    CPPUNIT_TEST(testPemFilesOfEachKind);
    CPPUNIT_TEST(testPemProblemsInWords);
    CPPUNIT_TEST(testEncryptedKeyRefused);
    CPPUNIT_TEST(testContextChecksItsFiles);
    CPPUNIT_TEST(testSessionHelpersOnPlainBufferevent);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override {
        pki_ = std::make_unique<test::TestPki>();
        pki_->makeCa("ca");
        pki_->makePeer("peer", "peer.example", "ca");
        pki_->makePeer("other", "other.example", "ca");
    }
    void tearDown() override { pki_.reset(); }

    // Certificates, keys and CA files made by openssl pass; a chain of two certificates passes too.
    void testPemFilesOfEachKind() {
        std::string e;
        CPPUNIT_ASSERT_MESSAGE(e, common::checkPemFile(pki_->path("peer.crt"), PemKind::Certificate, e));
        CPPUNIT_ASSERT_MESSAGE(e, common::checkPemFile(pki_->path("peer.key"), PemKind::PrivateKey, e));
        CPPUNIT_ASSERT_MESSAGE(e, common::checkPemFile(pki_->path("ca.crt"), PemKind::CaCertificates, e));
        pki_->write("chain.crt", read("peer.crt") + read("ca.crt"));
        CPPUNIT_ASSERT_MESSAGE(e, common::checkPemFile(pki_->path("chain.crt"), PemKind::Certificate, e));
        CPPUNIT_ASSERT_MESSAGE(e, common::checkKeyMatchesCertificate(pki_->path("chain.crt"), pki_->path("peer.key"), e));
    }

    // Missing, empty, wrong-kind, truncated and mismatched files each get their own reason.
    void testPemProblemsInWords() {
        std::string e;
        CPPUNIT_ASSERT(!common::checkPemFile(pki_->path("none"), PemKind::Certificate, e));
        CPPUNIT_ASSERT_EQUAL(std::string("cannot open: No such file or directory"), e);
        pki_->write("empty", "");
        CPPUNIT_ASSERT(!common::checkPemFile(pki_->path("empty"), PemKind::CaCertificates, e));
        CPPUNIT_ASSERT_EQUAL(std::string("no PEM certificate found (expecting \"-----BEGIN CERTIFICATE-----\")"), e);
        CPPUNIT_ASSERT(!common::checkPemFile(pki_->path("peer.crt"), PemKind::PrivateKey, e));
        CPPUNIT_ASSERT_EQUAL(std::string("no PEM private key found (expecting \"-----BEGIN PRIVATE KEY-----\")"), e);
        const std::string crt = read("peer.crt");
        pki_->write("cut.crt", crt.substr(0, crt.size() / 2) + "\n-----END CERTIFICATE-----\n");
        CPPUNIT_ASSERT(!common::checkPemFile(pki_->path("cut.crt"), PemKind::Certificate, e));
        CPPUNIT_ASSERT_MESSAGE(e, e.rfind("not a valid PEM certificate: ", 0) == 0);
        pki_->write("tail.crt", crt + crt.substr(0, crt.size() / 2) + "\n-----END CERTIFICATE-----\n");
        CPPUNIT_ASSERT(!common::checkPemFile(pki_->path("tail.crt"), PemKind::Certificate, e));
        CPPUNIT_ASSERT_MESSAGE(e, e.rfind("not a valid PEM certificate after the first 1: ", 0) == 0);
        CPPUNIT_ASSERT(!common::checkKeyMatchesCertificate(pki_->path("peer.crt"), pki_->path("other.key"), e));
        CPPUNIT_ASSERT_EQUAL("the private key does not belong to the certificate in " + pki_->path("peer.crt"), e);
    }

    // A passphrase-protected key is refused at once (a daemon cannot type the passphrase), never prompted for.
    void testEncryptedKeyRefused() {
        const std::string out = pki_->path("locked.key");
        const std::string cmd = "openssl pkey -in '" + pki_->path("peer.key") + "' -aes256 -passout pass:secret -out '" +
                                out + "' >/dev/null 2>&1 </dev/null";
        CPPUNIT_ASSERT_EQUAL(0, std::system(cmd.c_str()));
        std::string e;
        CPPUNIT_ASSERT(!common::checkPemFile(out, PemKind::PrivateKey, e));
        CPPUNIT_ASSERT_EQUAL(std::string("the private key is protected by a passphrase, which tandemd cannot ask for"), e);
        common::TlsSettings s{pki_->path("peer.crt"), out, pki_->path("ca.crt"), ""};
        CPPUNIT_ASSERT(!common::TlsContext::create(s, e));
        CPPUNIT_ASSERT_EQUAL(out + ": the private key is protected by a passphrase, which tandemd cannot ask for", e);
    }

    // A context needs a usable certificate, its own key and a CA; each failure names the file.
    void testContextChecksItsFiles() {
        std::string e;
        common::TlsSettings good{pki_->path("peer.crt"), pki_->path("peer.key"), pki_->path("ca.crt"), "other.example"};
        auto ctx = common::TlsContext::create(good, e);
        CPPUNIT_ASSERT_MESSAGE(e, ctx != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string("other.example"), ctx->settings().peerName);
        common::TlsSettings mismatched = good;
        mismatched.keyFile = pki_->path("other.key");
        CPPUNIT_ASSERT(!common::TlsContext::create(mismatched, e));
        CPPUNIT_ASSERT_EQUAL(pki_->path("other.key") + ": the private key does not belong to the certificate in " +
                                 pki_->path("peer.crt"),
                             e);
        common::TlsSettings noCa = good;
        noCa.caFile = pki_->path("peer.key");
        CPPUNIT_ASSERT(!common::TlsContext::create(noCa, e));
        CPPUNIT_ASSERT_EQUAL(pki_->path("peer.key") + ": no PEM certificate found (expecting \"-----BEGIN CERTIFICATE-----\")",
                             e);
    }

    // On a plain socket bufferevent the session helpers know nothing and say nothing.
    void testSessionHelpersOnPlainBufferevent() {
        common::EventLoop loop;
        int sv[2];
        CPPUNIT_ASSERT_EQUAL(0, ::socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
        bufferevent* bev = bufferevent_socket_new(loop.base(), sv[0], BEV_OPT_CLOSE_ON_FREE);
        CPPUNIT_ASSERT(bev);
        CPPUNIT_ASSERT(!common::tlsHandshakeDone(bev));
        CPPUNIT_ASSERT_EQUAL(std::string(), common::tlsFailure(bev));
        CPPUNIT_ASSERT_EQUAL(std::string(), common::tlsSummary(bev));
        CPPUNIT_ASSERT_EQUAL(std::string(), common::tlsFailure(nullptr));
        bufferevent_free(bev);
        ::close(sv[1]);
    }

private:
    std::string read(const std::string& file) {
        std::ifstream in(pki_->path(file));
        std::ostringstream s;
        s << in.rdbuf();
        return s.str();
    }

    std::unique_ptr<test::TestPki> pki_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(CryptoTest);
