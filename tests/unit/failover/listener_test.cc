// PeerListener and PeerConnector on loopback: the accept filter admits only a
// configured peer's source address and tells relationships apart by it; the
// connector binds its source, retries after refusals at the short delay and
// after an unstartable connect at the long one, and never calls back from
// inside start().
#include <cppunit/extensions/HelperMacros.h>

#include <csignal>

#include "tests/unit/failover/link_test_util.h"

using namespace tandem;
using namespace tandem::failover;
using namespace tandem::failover::testing;

namespace {

struct Accepts {
    std::vector<std::pair<RelationshipId, ConnectedSocket>> got;
    PeerListener::Accepted callback() {
        return [this](RelationshipId id, ConnectedSocket s) { got.emplace_back(id, std::move(s)); };
    }
};

std::optional<RelationshipId> twoPeers(uint32_t src) {
    if (src == kLo2) return 2;
    if (src == kLo3) return 3;
    return std::nullopt;
}

/// Whether the raw socket sees the connection closed (EOF or reset) within a second.
bool closedByPeer(int fd) {
    Bytes ignored;
    const auto t0 = SteadyClock::now();
    while (msSince(t0) < 1000) {
        long n = rawRead(fd, ignored);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return true;
        pollfd p{fd, POLLIN, 0};
        ::poll(&p, 1, 50);
    }
    return false;
}

}  // namespace

class ListenerTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ListenerTest);
    CPPUNIT_TEST(testAcceptsAllowedSourceAndDropsOthers);
    CPPUNIT_TEST(testSharedListenerClassifiesBySource);
    CPPUNIT_TEST(testStartFailsOnBusyPort);
    CPPUNIT_TEST(testConnectorRetriesUntilListenerAppears);
    CPPUNIT_TEST(testConnectorBindsLocalAddress);
    CPPUNIT_TEST(testConnectorUnstartableWaitsLonger);
    CPPUNIT_TEST(testConnectorStopCancelsRetries);
    CPPUNIT_TEST(testConnectorStartAfterRetryDelayWaits);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override {
        std::signal(SIGPIPE, SIG_IGN);  // as tandemd does: a write to a reset peer must not kill us
        loop_ = std::make_unique<common::EventLoop>();
    }
    void tearDown() override { loop_.reset(); }

    // Only 127.0.0.2 is a peer: its connection is handed over, one from 127.0.0.3 is closed and counted.
    void testAcceptsAllowedSourceAndDropsOthers() {
        Accepts acc;
        PeerListener listener(
            *loop_, kLo1, 0, [](uint32_t s) { return s == kLo2 ? std::optional<RelationshipId>(7) : std::nullopt; },
            acc.callback());
        std::string error;
        CPPUNIT_ASSERT_MESSAGE(error, listener.start(error));
        CPPUNIT_ASSERT(listener.port() != 0);

        int good = rawConnect(kLo2, kLo1, listener.port());
        CPPUNIT_ASSERT(good >= 0);
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return !acc.got.empty(); }, 1000));
        CPPUNIT_ASSERT_EQUAL(RelationshipId(7), acc.got[0].first);
        const ConnectedSocket& s = acc.got[0].second;
        CPPUNIT_ASSERT(s.valid());
        CPPUNIT_ASSERT(s.origin() == LinkOrigin::Accepted);
        CPPUNIT_ASSERT_EQUAL(kLo2, s.peerAddress());
        CPPUNIT_ASSERT_EQUAL(kLo1, s.localAddress());
        CPPUNIT_ASSERT_EQUAL(listener.port(), s.localPort());

        int bad = rawConnect(kLo3, kLo1, listener.port());
        CPPUNIT_ASSERT(bad >= 0);  // TCP completes in the kernel; the listener then drops it
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return listener.counters().refused == 1; }, 1000));
        CPPUNIT_ASSERT(closedByPeer(bad));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), acc.got.size());
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), listener.counters().accepted);
        CPPUNIT_ASSERT(!closedByPeerQuick(good));  // the accepted one stays open
        ::close(good);
        ::close(bad);
    }

    // Two relationships on one listener: each connection goes to the one its source names.
    void testSharedListenerClassifiesBySource() {
        Accepts acc;
        PeerListener listener(*loop_, kLo1, 0, twoPeers, acc.callback());
        std::string error;
        CPPUNIT_ASSERT_MESSAGE(error, listener.start(error));
        int a = rawConnect(kLo3, kLo1, listener.port());
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return acc.got.size() == 1; }, 1000));
        int b = rawConnect(kLo2, kLo1, listener.port());
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return acc.got.size() == 2; }, 1000));
        CPPUNIT_ASSERT_EQUAL(RelationshipId(3), acc.got[0].first);
        CPPUNIT_ASSERT_EQUAL(kLo3, acc.got[0].second.peerAddress());
        CPPUNIT_ASSERT_EQUAL(RelationshipId(2), acc.got[1].first);
        CPPUNIT_ASSERT_EQUAL(kLo2, acc.got[1].second.peerAddress());
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), listener.counters().refused);
        ::close(a);
        ::close(b);
    }

    // A second listener on a port in use fails to start and says why.
    void testStartFailsOnBusyPort() {
        Accepts acc;
        PeerListener first(*loop_, kLo1, 0, twoPeers, acc.callback());
        std::string error;
        CPPUNIT_ASSERT(first.start(error));
        PeerListener second(*loop_, kLo1, first.port(), twoPeers, acc.callback());
        CPPUNIT_ASSERT(!second.start(error));
        CPPUNIT_ASSERT(!second.listening());
        CPPUNIT_ASSERT_MESSAGE(error, error.find("cannot listen on 127.0.0.1:") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(error, error.find("in use") != std::string::npos);
        first.stop();
        CPPUNIT_ASSERT(second.start(error));  // SO_REUSEADDR: no wait for TIME_WAIT
    }

    // Refused connects are retried at the short delay until a listener appears, then TCP is handed over.
    void testConnectorRetriesUntilListenerAppears() {
        const uint16_t port = freePort();
        PeerConnector::Params p;
        p.peerName = "test-peer";
        p.localAddress = kLo2;
        p.peerAddress = kLo1;
        p.peerPort = port;
        p.retryMs = 150;
        std::vector<ConnectedSocket> connected;
        PeerConnector connector(*loop_, p, [&](ConnectedSocket s) { connected.push_back(std::move(s)); });
        connector.start();
        runFor(*loop_, 400);
        CPPUNIT_ASSERT(connected.empty());
        CPPUNIT_ASSERT_MESSAGE(std::to_string(connector.counters().attempts), connector.counters().attempts >= 2);
        CPPUNIT_ASSERT(connector.counters().attempts <= 4);
        CPPUNIT_ASSERT(connector.phase() == PeerConnector::Phase::Waiting);
        CPPUNIT_ASSERT_EQUAL(uint64_t(150), connector.waitMs());
        CPPUNIT_ASSERT_MESSAGE(connector.lastError(), connector.lastError().find("refused") != std::string::npos);

        Accepts acc;
        PeerListener listener(*loop_, kLo1, port, twoPeers, acc.callback());
        std::string error;
        CPPUNIT_ASSERT_MESSAGE(error, listener.start(error));
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return !connected.empty() && !acc.got.empty(); }, 1000));
        CPPUNIT_ASSERT(connector.phase() == PeerConnector::Phase::Idle);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), connector.counters().connected);
        CPPUNIT_ASSERT(connected[0].origin() == LinkOrigin::Initiated);
        CPPUNIT_ASSERT_EQUAL(kLo1, connected[0].peerAddress());
        CPPUNIT_ASSERT_EQUAL(port, connected[0].peerPort());
        CPPUNIT_ASSERT_EQUAL(connected[0].localPort(), acc.got[0].second.peerPort());
        // Idle after success: no further attempts.
        const uint64_t attempts = connector.counters().attempts;
        runFor(*loop_, 300);
        CPPUNIT_ASSERT_EQUAL(attempts, connector.counters().attempts);
    }

    // The outgoing connection comes from the configured local address (the peer's filter checks it).
    void testConnectorBindsLocalAddress() {
        Accepts acc;
        PeerListener listener(*loop_, kLo1, 0, twoPeers, acc.callback());
        std::string error;
        CPPUNIT_ASSERT(listener.start(error));
        PeerConnector::Params p;
        p.peerName = "test-peer";
        p.localAddress = kLo3;
        p.peerAddress = kLo1;
        p.peerPort = listener.port();
        std::vector<ConnectedSocket> connected;
        PeerConnector connector(*loop_, p, [&](ConnectedSocket s) { connected.push_back(std::move(s)); });
        connector.start();
        CPPUNIT_ASSERT(connected.empty());  // never from inside start()
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return !connected.empty() && !acc.got.empty(); }, 1000));
        CPPUNIT_ASSERT_EQUAL(kLo3, connected[0].localAddress());
        CPPUNIT_ASSERT_EQUAL(RelationshipId(3), acc.got[0].first);
    }

    // A source address that is not ours makes bind fail: logged, and retried at the long delay.
    void testConnectorUnstartableWaitsLonger() {
        LogTap log;
        PeerConnector::Params p;
        p.peerName = "test-peer";
        p.localAddress = 0xc0000201;  // 192.0.2.1 (TEST-NET-1), on no interface here: nothing is sent
        p.peerAddress = kLo1;
        p.peerPort = freePort();
        p.retryMs = 100;
        p.unstartableRetryMs = 5000;
        PeerConnector connector(*loop_, p, [](ConnectedSocket) {});
        connector.start();
        CPPUNIT_ASSERT(connector.phase() == PeerConnector::Phase::Waiting);
        CPPUNIT_ASSERT_EQUAL(uint64_t(5000), connector.waitMs());
        CPPUNIT_ASSERT_MESSAGE(connector.lastError(), connector.lastError().find("bind failed") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(log.all(), log.has("failover peer test-peer: cannot connect from 192.0.2.1"));
        runFor(*loop_, 300);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), connector.counters().attempts);
    }

    // stop() abandons the retry cycle.
    void testConnectorStopCancelsRetries() {
        PeerConnector::Params p;
        p.peerName = "test-peer";
        p.localAddress = kLo2;
        p.peerAddress = kLo1;
        p.peerPort = freePort();
        p.retryMs = 50;
        PeerConnector connector(*loop_, p, [](ConnectedSocket) {});
        connector.start();
        runFor(*loop_, 120);
        connector.stop();
        CPPUNIT_ASSERT(connector.phase() == PeerConnector::Phase::Idle);
        const uint64_t attempts = connector.counters().attempts;
        CPPUNIT_ASSERT(attempts >= 1);
        runFor(*loop_, 200);
        CPPUNIT_ASSERT_EQUAL(attempts, connector.counters().attempts);
    }

    // After a lost link the engine asks for the next attempt one retry delay later, not at once.
    void testConnectorStartAfterRetryDelayWaits() {
        Accepts acc;
        PeerListener listener(*loop_, kLo1, 0, twoPeers, acc.callback());
        std::string error;
        CPPUNIT_ASSERT(listener.start(error));
        PeerConnector::Params p;
        p.peerName = "test-peer";
        p.localAddress = kLo2;
        p.peerAddress = kLo1;
        p.peerPort = listener.port();
        p.retryMs = 300;
        std::vector<ConnectedSocket> connected;
        PeerConnector connector(*loop_, p, [&](ConnectedSocket s) { connected.push_back(std::move(s)); });
        const auto t0 = SteadyClock::now();
        connector.startAfterRetryDelay();
        CPPUNIT_ASSERT(connector.phase() == PeerConnector::Phase::Waiting);
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return !connected.empty(); }, 1000));
        const uint64_t took = msSince(t0);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", took >= 280 && took < 800);
    }

private:
    /// True if the socket reports EOF within 100 ms (used to check it does NOT).
    static bool closedByPeerQuick(int fd) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) return false;
        Bytes ignored;
        return rawRead(fd, ignored) == 0;
    }

    std::unique_ptr<common::EventLoop> loop_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(ListenerTest);
