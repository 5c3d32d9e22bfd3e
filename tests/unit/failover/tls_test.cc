// The TLS link (failover/tls_link): over 127.0.0.1, with certificates made at
// test time (tests/unit/tls_pki.h), messages pass both ways byte-exact and the
// wire carries only TLS records; an untrusted or missing certificate, a wrong
// peer name, TLS 1.2, plain TCP on a TLS port and TLS towards a plain port all
// close the link with the reason logged, and nothing the refused side sent is
// delivered. Every wait is bounded.
#include <cppunit/extensions/HelperMacros.h>

#include <sys/socket.h>

#include <csignal>
#include <cstdlib>

#include "common/clock.h"
#include "common/crypto.h"
#include "conf/config_builder.h"
#include "failover/tls_link.h"
#include "tests/unit/failover/link_test_util.h"
#include "tests/unit/tls_pki.h"

using namespace tandem;
using namespace tandem::failover;
using namespace tandem::failover::testing;

namespace {

constexpr uint64_t kWaitMs = 3000;

LinkParams params() {
    LinkParams p;
    p.peerName = "tls-peer";
    p.maxResponseDelayMs = 10000;
    p.handshakeTimeoutMs = 10000;
    p.flushGraceMs = 1000;
    return p;
}

Message state(uint32_t xid) {
    Message m;
    m.type = MessageType::FTM_STATE;
    m.xid = xid;
    m.serverState = 1;
    m.serverFlags = 0;
    return m;
}

/// A listener on 127.0.0.1 (admitting anyone: openssl s_client connects from
/// 127.0.0.1) and a connector from 127.0.0.2, each side with its own factory.
struct Pair {
    common::EventLoop& loop;
    const common::Clock& clockInitiated;
    const common::Clock& clockAccepted;
    Recorder recInitiated, recAccepted;
    std::unique_ptr<PeerListener> listener;
    std::unique_ptr<PeerConnector> connector;
    std::unique_ptr<PeerLink> initiated, accepted;
    LinkFactory acceptFactory;

    Pair(common::EventLoop& l, const common::Clock& ci, const common::Clock& ca)
        : loop(l), clockInitiated(ci), clockAccepted(ca) {}

    /// Listen with `fa`; true once listening.
    bool listen(LinkFactory fa) {
        acceptFactory = std::move(fa);
        listener = std::make_unique<PeerListener>(
            loop, kLo1, 0, [](uint32_t) { return std::optional<RelationshipId>(1); },
            [this](RelationshipId, ConnectedSocket s) {
                accepted = acceptFactory(loop, clockAccepted, std::move(s), params());
                accepted->setCallbacks(recAccepted.callbacks());
            });
        std::string error;
        return listener->start(error);
    }

    /// Listen with `fa`, connect with `fi`; true once both TCP ends have a link.
    bool connect(LinkFactory fi, LinkFactory fa) {
        if (!listen(std::move(fa))) return false;
        PeerConnector::Params cp;
        cp.peerName = "tls-peer";
        cp.localAddress = kLo2;
        cp.peerAddress = kLo1;
        cp.peerPort = listener->port();
        connector = std::make_unique<PeerConnector>(loop, cp, [this, fi](ConnectedSocket s) {
            initiated = fi(loop, clockInitiated, std::move(s), params());
            initiated->setCallbacks(recInitiated.callbacks());
        });
        connector->start();
        return runUntil(loop, [this] { return initiated && accepted; }, kWaitMs);
    }

    bool bothClosed() const { return !recInitiated.closes.empty() && !recAccepted.closes.empty(); }
};

/// Run `cmd` in the background, bounded by `timeout`, output into `log`.
void spawn(const std::string& cmd, const std::string& log) {
    const std::string line = "( timeout 10 " + cmd + " ) </dev/null >'" + log + "' 2>&1 &";
    CPPUNIT_ASSERT_EQUAL_MESSAGE(line, 0, std::system(line.c_str()));
}

}  // namespace

class TlsLinkTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(TlsLinkTest);
    CPPUNIT_TEST(testCapturedMessagesPassBothWaysByteExact);
    CPPUNIT_TEST(testWireCarriesOnlyTlsRecords);
    CPPUNIT_TEST(testUntrustedClientCertificateRefused);
    CPPUNIT_TEST(testUntrustedServerCertificateRefused);
    CPPUNIT_TEST(testPeerNameChecked);
    CPPUNIT_TEST(testPlainTcpClientOnTlsListenerRefused);
    CPPUNIT_TEST(testPlainLinkOnTlsListenerRefused);
    CPPUNIT_TEST(testTlsClientToPlainListenerFailsCleanly);
    CPPUNIT_TEST(testClientWithoutCertificateRefused);
    CPPUNIT_TEST(testTls12Refused);
    CPPUNIT_TEST(testCloseAfterFlushIsAnOrdinaryClose);
    CPPUNIT_TEST(testMakeLinkFactoryFollowsTheConfig);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override {
        std::signal(SIGPIPE, SIG_IGN);  // as tandemd does
        pki_ = std::make_unique<test::TestPki>();
        pki_->makeStandard();
        loop_ = std::make_unique<common::EventLoop>();
    }
    void tearDown() override {
        pair_.reset();
        loop_.reset();
        pki_.reset();
    }

    // Every captured ISC message, sent each way over TLS, arrives decoded into the same bytes.
    void testCapturedMessagesPassBothWaysByteExact() {
        const auto& captured = capturedMessages();
        CPPUNIT_ASSERT_MESSAGE("no captured messages in tests/data/failover", !captured.empty());
        common::ManualClock clockI, clockA;  // the link stamps the time: make it each message's own
        LogTap log;
        pair_ = std::make_unique<Pair>(*loop_, clockI, clockA);
        CPPUNIT_ASSERT(pair_->connect(tls("secondary"), tls("primary")));
        uint64_t bytes = 0;
        for (const auto& b : captured) {
            const Message m = *decode(b.data(), b.size()).message;
            clockI.set(m.time);
            clockA.set(m.time);
            CPPUNIT_ASSERT(pair_->initiated->send(m));
            CPPUNIT_ASSERT(pair_->accepted->send(m));
            bytes += b.size();
        }
        const std::size_t n = captured.size();
        CPPUNIT_ASSERT_MESSAGE(log.all(), runUntil(*loop_, [&] {
            return pair_->recAccepted.messages.size() == n && pair_->recInitiated.messages.size() == n;
        }, kWaitMs));
        for (std::size_t i = 0; i < n; ++i) {
            CPPUNIT_ASSERT_MESSAGE("message " + std::to_string(i) + " initiated -> accepted",
                                   encode(pair_->recAccepted.messages[i]) == captured[i]);
            CPPUNIT_ASSERT_MESSAGE("message " + std::to_string(i) + " accepted -> initiated",
                                   encode(pair_->recInitiated.messages[i]) == captured[i]);
        }
        CPPUNIT_ASSERT_EQUAL(bytes, pair_->accepted->counters().bytesIn);
        CPPUNIT_ASSERT_EQUAL(bytes, pair_->initiated->counters().bytesIn);
        CPPUNIT_ASSERT(pair_->recAccepted.closes.empty() && pair_->recInitiated.closes.empty());
        // Both ends say so, with the version: TLS 1.3 and nothing else.
        CPPUNIT_ASSERT_MESSAGE(log.all(), log.has("failover peer tls-peer: TLS with 127.0.0.2 established (TLSv1.3 "));
        CPPUNIT_ASSERT_MESSAGE(log.all(), log.has("failover peer tls-peer: TLS with 127.0.0.1 established (TLSv1.3 "));
        CPPUNIT_ASSERT_MESSAGE(log.all(), log.has("peer CN=primary.example"));
        CPPUNIT_ASSERT_MESSAGE(log.all(), log.has("peer CN=secondary.example"));
    }

    // What goes over the wire is TLS records from the first byte (0x16 0x03), and no message in the clear.
    void testWireCarriesOnlyTlsRecords() {
        int a[2], b[2];
        CPPUNIT_ASSERT_EQUAL(0, ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a));
        CPPUNIT_ASSERT_EQUAL(0, ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b));
        // The test is the wire between a[1] and b[1]: it copies and keeps what passes.
        Bytes fromInitiated, fromAccepted;
        auto pump = [&](int from, int to, Bytes& seen) {
            uint8_t buf[4096];
            for (;;) {
                const long n = ::recv(from, buf, sizeof buf, 0);
                if (n <= 0) return;
                seen.insert(seen.end(), buf, buf + n);
                CPPUNIT_ASSERT_EQUAL(n, long(::send(to, buf, std::size_t(n), MSG_NOSIGNAL)));
            }
        };
        const common::Clock& clock = common::SystemClock::instance();
        auto initiated = tls("secondary")(*loop_, clock, ConnectedSocket(a[0], LinkOrigin::Initiated), params());
        auto accepted = tls("primary")(*loop_, clock, ConnectedSocket(b[0], LinkOrigin::Accepted), params());
        Recorder ri, ra;
        initiated->setCallbacks(ri.callbacks());
        accepted->setCallbacks(ra.callbacks());
        const Bytes bndupd = firstCaptured(MessageType::FTM_BNDUPD);
        CPPUNIT_ASSERT(!bndupd.empty());
        const Message m = *decode(bndupd.data(), bndupd.size()).message;
        CPPUNIT_ASSERT(initiated->send(m));
        CPPUNIT_ASSERT(accepted->send(state(0x01020304)));
        CPPUNIT_ASSERT(runUntil(*loop_, [&] {
            pump(a[1], b[1], fromInitiated);
            pump(b[1], a[1], fromAccepted);
            return ra.messages.size() == 1 && ri.messages.size() == 1;
        }, kWaitMs));
        CPPUNIT_ASSERT(ra.messages[0].type == MessageType::FTM_BNDUPD && ra.messages[0].xid == m.xid);
        for (const Bytes* wire : {&fromInitiated, &fromAccepted}) {
            CPPUNIT_ASSERT(wire->size() > 5);
            CPPUNIT_ASSERT_EQUAL(0x16, int((*wire)[0]));  // handshake record
            CPPUNIT_ASSERT_EQUAL(0x03, int((*wire)[1]));
            // Record after record to the last byte: type, version 3.x, length.
            std::size_t at = 0, records = 0;
            while (at + 5 <= wire->size()) {
                const uint8_t type = (*wire)[at];
                CPPUNIT_ASSERT_MESSAGE("record type " + std::to_string(type), type >= 0x14 && type <= 0x17);
                CPPUNIT_ASSERT_EQUAL(0x03, int((*wire)[at + 1]));
                at += 5 + (std::size_t((*wire)[at + 3]) << 8 | (*wire)[at + 4]);
                records++;
            }
            CPPUNIT_ASSERT_EQUAL(wire->size(), at);
            CPPUNIT_ASSERT(records >= 2);
        }
        // Neither the BNDUPD's body nor a failover header shows in the clear.
        const Bytes body(bndupd.begin() + 12, bndupd.end());
        CPPUNIT_ASSERT(std::search(fromInitiated.begin(), fromInitiated.end(), body.begin(), body.end()) ==
                       fromInitiated.end());
        const Bytes stateHead = {0x01, 0x02, 0x03, 0x04};  // the xid
        CPPUNIT_ASSERT(std::search(fromAccepted.begin(), fromAccepted.end(), stateHead.begin(), stateHead.end()) ==
                       fromAccepted.end());
        initiated.reset();
        accepted.reset();
        ::close(a[1]);
        ::close(b[1]);
    }

    // A client whose certificate another CA signed is refused by the server, which says why.
    void testUntrustedClientCertificateRefused() {
        LogTap log;
        pair_ = std::make_unique<Pair>(*loop_, common::SystemClock::instance(), common::SystemClock::instance());
        CPPUNIT_ASSERT(pair_->connect(tls("stranger", "ca"), tls("primary")));
        CPPUNIT_ASSERT(pair_->initiated->send(state(7)));
        CPPUNIT_ASSERT_MESSAGE(log.all(), runUntil(*loop_, [&] { return pair_->bothClosed(); }, kWaitMs));
        CPPUNIT_ASSERT_MESSAGE(log.all(),
                               log.has("failover peer tls-peer: TLS handshake with 127.0.0.2 failed: certificate "
                                       "verify failed (unable to get local issuer certificate)"));
        CPPUNIT_ASSERT(pair_->recAccepted.messages.empty());
        CPPUNIT_ASSERT(pair_->recAccepted.closes[0].first == CloseReason::IoError);
        // The client hears the server's alert (in TLS 1.3, after its own side finished).
        CPPUNIT_ASSERT_MESSAGE(log.all(), log.has("failover peer tls-peer: TLS handshake with 127.0.0.1 failed: "
                                                  "tlsv1 alert unknown ca"));
        CPPUNIT_ASSERT(pair_->recInitiated.closes[0].first == CloseReason::IoError);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), pair_->recInitiated.closes.size());
    }

    // A server whose certificate the client's CA did not sign is refused by the client.
    void testUntrustedServerCertificateRefused() {
        LogTap log;
        pair_ = std::make_unique<Pair>(*loop_, common::SystemClock::instance(), common::SystemClock::instance());
        CPPUNIT_ASSERT(pair_->connect(tls("secondary"), tls("stranger", "otherca")));
        CPPUNIT_ASSERT(pair_->accepted->send(state(7)));
        CPPUNIT_ASSERT_MESSAGE(log.all(), runUntil(*loop_, [&] { return pair_->bothClosed(); }, kWaitMs));
        // The server sends its CA along (OpenSSL builds the chain), which the client does not trust either.
        CPPUNIT_ASSERT_MESSAGE(log.all(), log.has("failover peer tls-peer: TLS handshake with 127.0.0.1 failed: "
                                                  "certificate verify failed (self-signed certificate in certificate "
                                                  "chain)"));
        CPPUNIT_ASSERT_MESSAGE(log.all(), log.has("failover peer tls-peer: TLS handshake with 127.0.0.2 failed: "
                                                  "tlsv1 alert unknown ca"));
        CPPUNIT_ASSERT(pair_->recInitiated.messages.empty());
        CPPUNIT_ASSERT(pair_->recAccepted.messages.empty());
    }

    // tls-peer-name: the right name passes, another is refused as a hostname mismatch.
    void testPeerNameChecked() {
        {
            LogTap log;
            pair_ = std::make_unique<Pair>(*loop_, common::SystemClock::instance(), common::SystemClock::instance());
            CPPUNIT_ASSERT(pair_->connect(tls("secondary", "ca", "primary.example"),
                                          tls("primary", "ca", "secondary.example")));
            CPPUNIT_ASSERT(pair_->initiated->send(state(1)));
            CPPUNIT_ASSERT(pair_->accepted->send(state(2)));
            CPPUNIT_ASSERT_MESSAGE(log.all(), runUntil(*loop_, [&] {
                return pair_->recAccepted.messages.size() == 1 && pair_->recInitiated.messages.size() == 1;
            }, kWaitMs));
        }
        LogTap log;
        pair_ = std::make_unique<Pair>(*loop_, common::SystemClock::instance(), common::SystemClock::instance());
        // A name the primary's certificate does not carry.
        CPPUNIT_ASSERT(pair_->connect(tls("secondary", "ca", "wrong.example"), tls("primary")));
        CPPUNIT_ASSERT(pair_->accepted->send(state(7)));
        CPPUNIT_ASSERT_MESSAGE(log.all(), runUntil(*loop_, [&] { return pair_->bothClosed(); }, kWaitMs));
        CPPUNIT_ASSERT_MESSAGE(log.all(), log.has("failover peer tls-peer: TLS handshake with 127.0.0.1 failed: "
                                                  "certificate verify failed (hostname mismatch)"));
        CPPUNIT_ASSERT(pair_->recInitiated.messages.empty());
    }

    // Plain TCP on a TLS port: the server logs a failed handshake and delivers nothing; the client is cut off.
    void testPlainTcpClientOnTlsListenerRefused() {
        LogTap log;
        pair_ = std::make_unique<Pair>(*loop_, common::SystemClock::instance(), common::SystemClock::instance());
        CPPUNIT_ASSERT(pair_->listen(tls("primary")));
        const int fd = rawConnect(kLo2, kLo1, pair_->listener->port());
        CPPUNIT_ASSERT(fd >= 0);
        const Bytes connect = firstCaptured(MessageType::FTM_CONNECT);
        CPPUNIT_ASSERT(!connect.empty());
        CPPUNIT_ASSERT(rawWrite(fd, connect));
        CPPUNIT_ASSERT_MESSAGE(log.all(), runUntil(*loop_, [&] { return !pair_->recAccepted.closes.empty(); }, kWaitMs));
        CPPUNIT_ASSERT_MESSAGE(log.all(), log.has("failover peer tls-peer: TLS handshake with 127.0.0.2 failed: "));
        CPPUNIT_ASSERT(pair_->recAccepted.messages.empty());
        CPPUNIT_ASSERT(pair_->recAccepted.closes[0].first == CloseReason::IoError);
        // The raw client reads at most an alert, then the end of the stream.
        Bytes got;
        long n = 1;
        CPPUNIT_ASSERT(runUntil(*loop_, [&] {
            n = rawRead(fd, got);
            return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
        }, kWaitMs));
        if (!got.empty()) CPPUNIT_ASSERT_EQUAL(0x15, int(got[0]));  // a TLS alert record, nothing else
        ::close(fd);
    }

    // A plain PeerLink connecting to a TLS listener: both ends close, nothing is delivered.
    void testPlainLinkOnTlsListenerRefused() {
        LogTap log;
        pair_ = std::make_unique<Pair>(*loop_, common::SystemClock::instance(), common::SystemClock::instance());
        CPPUNIT_ASSERT(pair_->connect(makeTcpLink, tls("primary")));
        CPPUNIT_ASSERT(pair_->initiated->send(state(7)));
        CPPUNIT_ASSERT_MESSAGE(log.all(), runUntil(*loop_, [&] { return pair_->bothClosed(); }, kWaitMs));
        CPPUNIT_ASSERT_MESSAGE(log.all(), log.has("failover peer tls-peer: TLS handshake with 127.0.0.2 failed: "));
        CPPUNIT_ASSERT(pair_->recAccepted.messages.empty());
        CPPUNIT_ASSERT(pair_->recInitiated.messages.empty());
    }

    // A TLS client to a plain listener: the plain side refuses the ClientHello as a
    // bad length, the TLS side logs a failed handshake; each closes once.
    void testTlsClientToPlainListenerFailsCleanly() {
        LogTap log;
        pair_ = std::make_unique<Pair>(*loop_, common::SystemClock::instance(), common::SystemClock::instance());
        CPPUNIT_ASSERT(pair_->connect(tls("secondary"), makeTcpLink));
        CPPUNIT_ASSERT(pair_->accepted->send(state(7)));  // plain bytes towards the TLS client
        CPPUNIT_ASSERT_MESSAGE(log.all(), runUntil(*loop_, [&] { return pair_->bothClosed(); }, kWaitMs));
        runFor(*loop_, 50);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), pair_->recAccepted.closes.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), pair_->recInitiated.closes.size());
        CPPUNIT_ASSERT(pair_->recAccepted.closes[0].first == CloseReason::ProtocolError ||
                       pair_->recAccepted.closes[0].first == CloseReason::PeerClosed);
        CPPUNIT_ASSERT(pair_->recInitiated.closes[0].first == CloseReason::IoError);
        CPPUNIT_ASSERT_MESSAGE(log.all(), log.has("failover peer tls-peer: TLS handshake with 127.0.0.1 failed: "));
        CPPUNIT_ASSERT(pair_->recInitiated.messages.empty());
        CPPUNIT_ASSERT(pair_->recAccepted.messages.empty());
    }

    // Mutual: a TLS 1.3 client that presents no certificate is refused.
    void testClientWithoutCertificateRefused() {
        LogTap log;
        pair_ = std::make_unique<Pair>(*loop_, common::SystemClock::instance(), common::SystemClock::instance());
        CPPUNIT_ASSERT(pair_->listen(tls("primary")));
        spawn("openssl s_client -connect 127.0.0.1:" + std::to_string(pair_->listener->port()) + " -tls1_3 -CAfile " +
                  pki_->path("ca.crt"),
              pki_->path("s_client.log"));
        CPPUNIT_ASSERT_MESSAGE(log.all(), runUntil(*loop_, [&] { return !pair_->recAccepted.closes.empty(); }, 8000));
        CPPUNIT_ASSERT_MESSAGE(log.all(), log.has("failover peer tls-peer: TLS handshake with 127.0.0.1 failed: peer "
                                                  "did not return a certificate"));
    }

    // TLS 1.3 only: a TLS 1.2 client, even with a good certificate, is refused.
    void testTls12Refused() {
        LogTap log;
        pair_ = std::make_unique<Pair>(*loop_, common::SystemClock::instance(), common::SystemClock::instance());
        CPPUNIT_ASSERT(pair_->listen(tls("primary")));
        spawn("openssl s_client -connect 127.0.0.1:" + std::to_string(pair_->listener->port()) + " -tls1_2 -CAfile " +
                  pki_->path("ca.crt") + " -cert " + pki_->path("secondary.crt") + " -key " +
                  pki_->path("secondary.key"),
              pki_->path("s_client.log"));
        CPPUNIT_ASSERT_MESSAGE(log.all(), runUntil(*loop_, [&] { return !pair_->recAccepted.closes.empty(); }, 8000));
        CPPUNIT_ASSERT_MESSAGE(log.all(),
                               log.has("failover peer tls-peer: TLS handshake with 127.0.0.1 failed: unsupported protocol"));
    }

    // closeAfterFlush over TLS: the peer gets what was queued and sees an ordinary close, not a TLS error.
    void testCloseAfterFlushIsAnOrdinaryClose() {
        LogTap log;
        pair_ = std::make_unique<Pair>(*loop_, common::SystemClock::instance(), common::SystemClock::instance());
        CPPUNIT_ASSERT(pair_->connect(tls("secondary"), tls("primary")));
        CPPUNIT_ASSERT(pair_->initiated->send(state(1)));
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return pair_->recAccepted.messages.size() == 1; }, kWaitMs));
        CPPUNIT_ASSERT(pair_->accepted->send(state(2)));
        CPPUNIT_ASSERT(pair_->accepted->send(state(3)));
        pair_->accepted->closeAfterFlush("shutting down");
        CPPUNIT_ASSERT_MESSAGE(log.all(), runUntil(*loop_, [&] { return pair_->bothClosed(); }, kWaitMs));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), pair_->recInitiated.messages.size());
        CPPUNIT_ASSERT(pair_->recInitiated.closes[0].first == CloseReason::PeerClosed);
        CPPUNIT_ASSERT(pair_->recAccepted.closes[0].first == CloseReason::LocalClose);
        CPPUNIT_ASSERT_MESSAGE(log.all(), !log.has("failed"));
    }

    // makeLinkFactory: plain TCP without TLS statements, TLS with them, an error at the statement when a file is bad.
    void testMakeLinkFactoryFollowsTheConfig() {
        const std::string base = "failover peer \"fo\" {\n secondary;\n address 10.0.0.2;\n peer address 10.0.0.1;\n";
        const std::string pools = "}\nsubnet 10.0.0.0 netmask 255.0.0.0 { pool { failover peer \"fo\"; range 10.0.0.5; } }\n";
        auto peerOf = [&](const std::string& text) {
            common::DiagnosticSink sink;
            auto c = conf::loadConfigText(text, "test.conf", sink);
            CPPUNIT_ASSERT_EQUAL(std::size_t(0), sink.errorCount());
            return c->failoverPeers.at(0);
        };
        std::string error;
        LinkFactory plain = makeLinkFactory(peerOf(base + pools), error);
        CPPUNIT_ASSERT(plain);
        CPPUNIT_ASSERT(plain.target<decltype(&makeTcpLink)>() && *plain.target<decltype(&makeTcpLink)>() == &makeTcpLink);

        const std::string files = " tls-certificate \"" + pki_->path("secondary.crt") + "\";\n tls-key \"" +
                                  pki_->path("secondary.key") + "\";\n tls-ca \"" + pki_->path("ca.crt") + "\";\n";
        LinkFactory secured = makeLinkFactory(peerOf(base + files + pools), error);
        CPPUNIT_ASSERT_MESSAGE(error, secured);
        CPPUNIT_ASSERT(!secured.target<decltype(&makeTcpLink)>());
        // It speaks TLS: it completes a handshake with a TLS peer.
        LogTap log;
        pair_ = std::make_unique<Pair>(*loop_, common::SystemClock::instance(), common::SystemClock::instance());
        CPPUNIT_ASSERT(pair_->connect(secured, tls("primary")));
        CPPUNIT_ASSERT(pair_->initiated->send(state(5)));
        CPPUNIT_ASSERT_MESSAGE(log.all(), runUntil(*loop_, [&] { return pair_->recAccepted.messages.size() == 1; },
                                                   kWaitMs));

        const std::string broken = " tls-certificate \"" + pki_->path("nothing.crt") + "\";\n tls-key \"" +
                                   pki_->path("secondary.key") + "\";\n tls-ca \"" + pki_->path("ca.crt") + "\";\n";
        error.clear();
        LinkFactory none = makeLinkFactory(peerOf(base + broken + pools), error);
        CPPUNIT_ASSERT(!none);
        CPPUNIT_ASSERT_EQUAL(std::string("test.conf:5:18: failover peer fo: TLS: " + pki_->path("nothing.crt") +
                                         ": cannot open: No such file or directory"),
                             error);
    }

private:
    /// A TLS factory with NAME.crt/NAME.key, trusting CA.crt, checking `peerName` if set.
    LinkFactory tls(const std::string& name, const std::string& ca = "ca", const std::string& peerName = "") {
        common::TlsSettings s;
        s.certificateFile = pki_->path(name + ".crt");
        s.keyFile = pki_->path(name + ".key");
        s.caFile = pki_->path(ca + ".crt");
        s.peerName = peerName;
        std::string error;
        auto ctx = common::TlsContext::create(s, error);
        CPPUNIT_ASSERT_MESSAGE(error, ctx != nullptr);
        return makeTlsLinkFactory(ctx);
    }

    std::unique_ptr<test::TestPki> pki_;
    std::unique_ptr<common::EventLoop> loop_;
    std::unique_ptr<Pair> pair_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(TlsLinkTest);
