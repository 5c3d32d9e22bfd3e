// PeerLink on real loopback sockets and a running event loop: messages cross
// byte-exact, bad input closes the link with the stream offset, the CONTACT,
// liveness and handshake timers fire when ISC's would, and the owner hears of
// a close exactly once and may destroy the link from any callback.
#include <cppunit/extensions/HelperMacros.h>

#include <csignal>

#include "common/clock.h"
#include "tests/unit/failover/link_test_util.h"

using namespace tandem;
using namespace tandem::failover;
using namespace tandem::failover::testing;

namespace {

LinkParams params(uint64_t maxResponseDelayMs = 10000, uint64_t handshakeMs = 10000) {
    LinkParams p;
    p.peerName = "test-peer";
    p.maxResponseDelayMs = maxResponseDelayMs;
    p.handshakeTimeoutMs = handshakeMs;
    p.flushGraceMs = 1000;
    return p;
}

Message state(uint32_t xid) {
    Message m;
    m.type = MessageType::FTM_STATE;
    m.xid = xid;
    m.serverState = 1;
    m.serverFlags = 0;
    m.startTimeOfState = 1700000000;
    return m;
}

Message contactBytesMessage() {
    Message m;
    m.type = MessageType::FTM_CONTACT;
    m.xid = 3;
    return m;
}

}  // namespace

class ConnectionTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ConnectionTest);
    CPPUNIT_TEST(testCapturedMessageArrivesByteExact);
    CPPUNIT_TEST(testSendStampsClockTimeAndKeepsXid);
    CPPUNIT_TEST(testGarbageLengthClosesWithReason);
    CPPUNIT_TEST(testBadLengthAfterGoodMessageReportsStreamOffset);
    CPPUNIT_TEST(testDecodeErrorReportsStreamOffset);
    CPPUNIT_TEST(testMessageSplitAcrossWritesIsReassembled);
    CPPUNIT_TEST(testContactSentAfterThirdOfReceiveTimer);
    CPPUNIT_TEST(testSendingPostponesContact);
    CPPUNIT_TEST(testNoContactBeforeEstablished);
    CPPUNIT_TEST(testReceiveTimerSecondsUseIscDivision);
    CPPUNIT_TEST(testLivenessTimeoutClosesAfterMaxResponseDelay);
    CPPUNIT_TEST(testContactKeepsIdleLinkUp);
    CPPUNIT_TEST(testHandshakeTimeoutCloses);
    CPPUNIT_TEST(testMarkEstablishedStopsHandshakeTimer);
    CPPUNIT_TEST(testCloseReportedExactlyOnce);
    CPPUNIT_TEST(testOwnerMayDestroyLinkInOnMessage);
    CPPUNIT_TEST(testOwnerMayDestroyLinkInOnClose);
    CPPUNIT_TEST(testCloseAfterFlushDeliversQueuedOutput);
    CPPUNIT_TEST(testPendingOutputAndDrained);
    CPPUNIT_TEST(testCountersByType);
    CPPUNIT_TEST(testSendRefusedWhenClosedOrOversized);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override {
        std::signal(SIGPIPE, SIG_IGN);  // as tandemd does: a write to a reset peer must not kill us
        loop_ = std::make_unique<common::EventLoop>();
        pair_ = std::make_unique<LinkPair>(*loop_, common::SystemClock::instance(), common::SystemClock::instance());
    }
    void tearDown() override {
        pair_.reset();
        loop_.reset();
    }

    // A captured ISC BNDUPD sent through one link is decoded by the other into the same bytes.
    void testCapturedMessageArrivesByteExact() {
        const Bytes bytes = firstCaptured(MessageType::FTM_BNDUPD);
        CPPUNIT_ASSERT_MESSAGE("no captured BNDUPD in tests/data/failover", !bytes.empty());
        const Message original = *decode(bytes.data(), bytes.size()).message;
        common::ManualClock clock(original.time);  // the link stamps the time: make it the captured one
        pair_ = std::make_unique<LinkPair>(*loop_, clock, common::SystemClock::instance());
        CPPUNIT_ASSERT(pair_->connect(params(), params()));
        CPPUNIT_ASSERT(pair_->initiated->send(original));
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return !pair_->recAccepted.messages.empty(); }, 1000));
        CPPUNIT_ASSERT(encode(pair_->recAccepted.messages[0]) == bytes);
        CPPUNIT_ASSERT(pair_->recAccepted.messages[0] == original);
        CPPUNIT_ASSERT_EQUAL(uint64_t(bytes.size()), pair_->accepted->counters().bytesIn);
        CPPUNIT_ASSERT_EQUAL(uint64_t(bytes.size()), pair_->initiated->counters().bytesOut);
    }

    // The header time is the sender's clock at send; the xid is exactly the engine's.
    void testSendStampsClockTimeAndKeepsXid() {
        common::ManualClock clock(1800000123);
        pair_ = std::make_unique<LinkPair>(*loop_, clock, common::SystemClock::instance());
        CPPUNIT_ASSERT(pair_->connect(params(), params()));
        Message m = state(0xdeadbeef);
        m.time = 42;  // stale: must be replaced
        CPPUNIT_ASSERT(pair_->initiated->send(m));
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return !pair_->recAccepted.messages.empty(); }, 1000));
        CPPUNIT_ASSERT_EQUAL(uint32_t(1800000123), pair_->recAccepted.messages[0].time);
        CPPUNIT_ASSERT_EQUAL(uint32_t(0xdeadbeef), pair_->recAccepted.messages[0].xid);
        CPPUNIT_ASSERT_EQUAL(common::Time(1800000123), pair_->initiated->counters().lastSent);
    }

    // A length field of 9 closes the link as a protocol error naming the length and offset 0.
    void testGarbageLengthClosesWithReason() {
        LogTap log;
        Recorder rec;
        std::unique_ptr<PeerLink> link;
        int raw = acceptRaw(rec, link);
        CPPUNIT_ASSERT(raw >= 0);
        CPPUNIT_ASSERT(rawWrite(raw, {0x00, 0x09, 0x0b, 0x0c, 0, 0, 0, 0, 0}));
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return !rec.closes.empty(); }, 1000));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), rec.closes.size());
        CPPUNIT_ASSERT(rec.closes[0].first == CloseReason::ProtocolError);
        const std::string& detail = rec.closes[0].second;
        CPPUNIT_ASSERT_MESSAGE(detail, detail.find("length 9") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(detail, detail.find("at offset 0") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(log.all(), log.has("failover peer test-peer: protocol error from 127.0.0.2:"));
        CPPUNIT_ASSERT_MESSAGE(log.all(), log.has("length 9 is outside 12..2048 at offset 0"));
        CPPUNIT_ASSERT(!link->open());
        CPPUNIT_ASSERT(expectEof(raw));
        ::close(raw);
    }

    // After one good 12-byte CONTACT, a bad length is reported at stream offset 12.
    void testBadLengthAfterGoodMessageReportsStreamOffset() {
        LogTap log;
        Recorder rec;
        std::unique_ptr<PeerLink> link;
        int raw = acceptRaw(rec, link);
        CPPUNIT_ASSERT(raw >= 0);
        Bytes b = encode(contactBytesMessage());
        b.insert(b.end(), {0x08, 0x01});  // 2049: one past ISC's maximum
        CPPUNIT_ASSERT(rawWrite(raw, b));
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return !rec.closes.empty(); }, 1000));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), rec.messages.size());
        CPPUNIT_ASSERT(rec.closes[0].first == CloseReason::ProtocolError);
        CPPUNIT_ASSERT_MESSAGE(rec.closes[0].second, rec.closes[0].second.find("length 2049") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(rec.closes[0].second, rec.closes[0].second.find("at offset 12") != std::string::npos);
        ::close(raw);
    }

    // A decoding error (wrong-size fixed option) is reported at its offset in the stream.
    void testDecodeErrorReportsStreamOffset() {
        LogTap log;
        Recorder rec;
        std::unique_ptr<PeerLink> link;
        int raw = acceptRaw(rec, link);
        CPPUNIT_ASSERT(raw >= 0);
        // STATE with server-state (24) given 2 bytes instead of 1.
        const Bytes bad = {0x00, 0x12, 0x0a, 0x0c, 0, 0, 0, 1, 0, 0, 0, 7, 0x00, 0x18, 0x00, 0x02, 0x01, 0x02};
        const DecodeResult expect = decode(bad.data(), bad.size());
        CPPUNIT_ASSERT(!expect.ok());
        Bytes b = encode(contactBytesMessage());
        b.insert(b.end(), bad.begin(), bad.end());
        CPPUNIT_ASSERT(rawWrite(raw, b));
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return !rec.closes.empty(); }, 1000));
        CPPUNIT_ASSERT(rec.closes[0].first == CloseReason::ProtocolError);
        const std::string want = expect.error + " at offset " + std::to_string(12 + expect.offset);
        CPPUNIT_ASSERT_EQUAL(want, rec.closes[0].second);
        CPPUNIT_ASSERT_MESSAGE(log.all(), log.has(want));
        ::close(raw);
    }

    // A message arriving one byte at a time is delivered once, whole.
    void testMessageSplitAcrossWritesIsReassembled() {
        Recorder rec;
        std::unique_ptr<PeerLink> link;
        int raw = acceptRaw(rec, link);
        CPPUNIT_ASSERT(raw >= 0);
        const Bytes b = encode(state(9));
        for (uint8_t c : b) {
            CPPUNIT_ASSERT(rawWrite(raw, {c}));
            runFor(*loop_, 2);
        }
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return !rec.messages.empty(); }, 1000));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), rec.messages.size());
        CPPUNIT_ASSERT(encode(rec.messages[0]) == b);
        CPPUNIT_ASSERT(rec.closes.empty());
        ::close(raw);
    }

    // With the partner's receive-timer at 0.9 s, an idle established link sends CONTACT after ~0.3 s.
    void testContactSentAfterThirdOfReceiveTimer() {
        CPPUNIT_ASSERT(pair_->connect(params(), params()));
        pair_->initiated->markEstablished();
        pair_->accepted->markEstablished();
        pair_->recInitiated.xid = 77;
        const auto t0 = SteadyClock::now();
        pair_->initiated->setPartnerReceiveTimerMs(900);
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return !pair_->recAccepted.messages.empty(); }, 1500));
        const uint64_t took = msSince(t0);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", took >= 280 && took < 440);
        const Message& c = pair_->recAccepted.messages[0];
        CPPUNIT_ASSERT(c.type == MessageType::FTM_CONTACT);
        CPPUNIT_ASSERT_EQUAL(uint32_t(77), c.xid);  // the engine's xid, asked for
        CPPUNIT_ASSERT(encode(c).size() == kHeaderSize);  // no options
        CPPUNIT_ASSERT_EQUAL(uint32_t(78), pair_->recInitiated.xid);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), pair_->initiated->counters().messagesOut[11]);
    }

    // Every message sent re-arms the CONTACT timer, so a busy link sends no CONTACT.
    void testSendingPostponesContact() {
        CPPUNIT_ASSERT(pair_->connect(params(), params()));
        pair_->initiated->markEstablished();
        pair_->initiated->setPartnerReceiveTimerMs(600);  // CONTACT after 200 ms idle
        for (int i = 0; i < 6; ++i) {
            CPPUNIT_ASSERT(pair_->initiated->send(state(uint32_t(i))));
            runFor(*loop_, 100);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), pair_->recAccepted.count(MessageType::FTM_CONTACT));
        CPPUNIT_ASSERT_EQUAL(std::size_t(6), pair_->recAccepted.count(MessageType::FTM_STATE));
        CPPUNIT_ASSERT(
            runUntil(*loop_, [&] { return pair_->recAccepted.count(MessageType::FTM_CONTACT) > 0; }, 1000));
    }

    // Before markEstablished() the link sends no CONTACT, as ISC does before link_to_peer is set.
    void testNoContactBeforeEstablished() {
        CPPUNIT_ASSERT(pair_->connect(params(), params()));
        pair_->initiated->setPartnerReceiveTimerMs(300);
        pair_->initiated->send(state(1));
        runFor(*loop_, 400);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), pair_->recAccepted.count(MessageType::FTM_CONTACT));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), pair_->recAccepted.count(MessageType::FTM_STATE));
    }

    // Option 19 in seconds: receive-timer 2 still gives a CONTACT after 1 s (ISC's 2/3 would be 0).
    void testReceiveTimerSecondsUseIscDivision() {
        CPPUNIT_ASSERT(pair_->connect(params(), params()));
        pair_->initiated->markEstablished();
        const auto t0 = SteadyClock::now();
        pair_->initiated->setPartnerReceiveTimer(2);
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return !pair_->recAccepted.messages.empty(); }, 1800));
        const uint64_t took = msSince(t0);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", took >= 950 && took < 1500);
    }

    // No message for max-response-delay (0.5 s): ISC's log line, the link closes with Timeout.
    void testLivenessTimeoutClosesAfterMaxResponseDelay() {
        LogTap log;
        CPPUNIT_ASSERT(pair_->connect(params(500), params()));
        const auto t0 = SteadyClock::now();
        pair_->initiated->markEstablished();
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return !pair_->recInitiated.closes.empty(); }, 1500));
        const uint64_t took = msSince(t0);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", took >= 480 && took < 900);
        CPPUNIT_ASSERT(pair_->recInitiated.closes[0].first == CloseReason::Timeout);
        CPPUNIT_ASSERT_MESSAGE(log.all(), log.has("timeout waiting for failover peer test-peer"));
        // The other side sees the loss.
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return !pair_->recAccepted.closes.empty(); }, 1000));
        CPPUNIT_ASSERT(pair_->recAccepted.closes[0].first == CloseReason::PeerClosed);
    }

    // A peer that sends only CONTACTs keeps an idle link up for several max-response-delays.
    void testContactKeepsIdleLinkUp() {
        CPPUNIT_ASSERT(pair_->connect(params(400), params()));
        pair_->initiated->markEstablished();
        pair_->accepted->markEstablished();
        pair_->accepted->setPartnerReceiveTimerMs(300);  // CONTACT every 100 ms
        runFor(*loop_, 1600);                            // four max-response-delays
        CPPUNIT_ASSERT(pair_->initiated->open());
        CPPUNIT_ASSERT(pair_->recInitiated.closes.empty());
        CPPUNIT_ASSERT(pair_->initiated->counters().messagesIn[11] >= 8);
        CPPUNIT_ASSERT(pair_->initiated->counters().lastReceived > 0);
    }

    // A link the engine never marks established is closed after the handshake limit.
    void testHandshakeTimeoutCloses() {
        LogTap log;
        CPPUNIT_ASSERT(pair_->connect(params(10000, 300), params()));
        const auto t0 = SteadyClock::now();
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return !pair_->recInitiated.closes.empty(); }, 1000));
        const uint64_t took = msSince(t0);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", took >= 250 && took < 700);
        CPPUNIT_ASSERT(pair_->recInitiated.closes[0].first == CloseReason::HandshakeTimeout);
        CPPUNIT_ASSERT_MESSAGE(log.all(), log.has("failover peer test-peer: link startup timeout"));
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return !pair_->recAccepted.closes.empty(); }, 1000));
        CPPUNIT_ASSERT(pair_->recAccepted.closes[0].first == CloseReason::PeerClosed);
    }

    // markEstablished() in time cancels the handshake limit.
    void testMarkEstablishedStopsHandshakeTimer() {
        CPPUNIT_ASSERT(pair_->connect(params(0, 300), params(0, 300)));
        pair_->initiated->markEstablished();
        pair_->accepted->markEstablished();
        runFor(*loop_, 600);
        CPPUNIT_ASSERT(pair_->initiated->open());
        CPPUNIT_ASSERT(pair_->accepted->open());
        CPPUNIT_ASSERT(pair_->recInitiated.closes.empty());
        CPPUNIT_ASSERT(pair_->initiated->established());
    }

    // close() reports LocalClose once, synchronously; the peer hears PeerClosed once; nothing after.
    void testCloseReportedExactlyOnce() {
        CPPUNIT_ASSERT(pair_->connect(params(), params()));
        pair_->accepted->close("engine said so");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), pair_->recAccepted.closes.size());
        CPPUNIT_ASSERT(pair_->recAccepted.closes[0].first == CloseReason::LocalClose);
        CPPUNIT_ASSERT_EQUAL(std::string("engine said so"), pair_->recAccepted.closes[0].second);
        pair_->accepted->close();
        pair_->accepted->closeAfterFlush();
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return !pair_->recInitiated.closes.empty(); }, 1000));
        pair_->initiated->close();
        runFor(*loop_, 100);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), pair_->recAccepted.closes.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), pair_->recInitiated.closes.size());
        CPPUNIT_ASSERT(pair_->recInitiated.closes[0].first == CloseReason::PeerClosed);
        CPPUNIT_ASSERT(pair_->recAccepted.messages.empty());
        CPPUNIT_ASSERT(!pair_->initiated->send(state(1)));
    }

    // The owner may destroy the link in onMessage: later messages of the same read are not delivered.
    void testOwnerMayDestroyLinkInOnMessage() {
        CPPUNIT_ASSERT(pair_->connect(params(), params()));
        int delivered = 0, closed = 0;
        PeerLink::Callbacks cb;
        cb.onMessage = [&](const Message&) {
            ++delivered;
            pair_->accepted.reset();
        };
        cb.onClose = [&](CloseReason, const std::string&) { ++closed; };
        pair_->accepted->setCallbacks(cb);
        for (uint32_t i = 0; i < 5; ++i) pair_->initiated->send(state(i));
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return delivered > 0; }, 1000));
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return !pair_->recInitiated.closes.empty(); }, 1000));
        CPPUNIT_ASSERT_EQUAL(1, delivered);
        CPPUNIT_ASSERT_EQUAL(0, closed);  // destroyed, not closed: no callback
        CPPUNIT_ASSERT(pair_->recInitiated.closes[0].first == CloseReason::PeerClosed);
    }

    // The owner may destroy the link in onClose, even when a timer closed it.
    void testOwnerMayDestroyLinkInOnClose() {
        LogTap log;
        CPPUNIT_ASSERT(pair_->connect(params(200), params()));
        int closed = 0;
        PeerLink::Callbacks cb = pair_->recInitiated.callbacks();
        cb.onClose = [&](CloseReason r, const std::string&) {
            ++closed;
            CPPUNIT_ASSERT(r == CloseReason::Timeout);
            pair_->initiated.reset();
        };
        pair_->initiated->setCallbacks(cb);
        pair_->initiated->markEstablished();
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return closed > 0; }, 1000));
        runFor(*loop_, 100);
        CPPUNIT_ASSERT_EQUAL(1, closed);
        CPPUNIT_ASSERT(!pair_->initiated);
    }

    // closeAfterFlush writes out what is queued, then closes; the peer gets all of it, then EOF.
    void testCloseAfterFlushDeliversQueuedOutput() {
        CPPUNIT_ASSERT(pair_->connect(params(), params()));
        for (uint32_t i = 0; i < 3; ++i) CPPUNIT_ASSERT(pair_->initiated->send(state(i)));
        pair_->initiated->closeAfterFlush("rejected");
        CPPUNIT_ASSERT(!pair_->initiated->open());
        CPPUNIT_ASSERT(!pair_->initiated->send(state(9)));
        CPPUNIT_ASSERT(pair_->recInitiated.closes.empty());  // not yet: the output is still going out
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return !pair_->recAccepted.closes.empty(); }, 1000));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), pair_->recAccepted.messages.size());
        CPPUNIT_ASSERT(pair_->recAccepted.closes[0].first == CloseReason::PeerClosed);
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return !pair_->recInitiated.closes.empty(); }, 1000));
        CPPUNIT_ASSERT(pair_->recInitiated.closes[0].first == CloseReason::LocalClose);
        CPPUNIT_ASSERT_EQUAL(std::string("rejected"), pair_->recInitiated.closes[0].second);
        runFor(*loop_, 50);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), pair_->recInitiated.closes.size());
    }

    // Output queues until the loop writes it (pendingOutput), then onDrained fires.
    void testPendingOutputAndDrained() {
        CPPUNIT_ASSERT(pair_->connect(params(), params()));
        std::size_t total = 0;
        for (uint32_t i = 0; i < 50; ++i) {
            CPPUNIT_ASSERT(pair_->initiated->send(state(i)));
            total += encode(state(i)).size();
        }
        CPPUNIT_ASSERT_EQUAL(total, pair_->initiated->pendingOutput());
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return pair_->recAccepted.messages.size() == 50; }, 1000));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), pair_->initiated->pendingOutput());
        CPPUNIT_ASSERT(pair_->recInitiated.drained >= 1);
        for (uint32_t i = 0; i < 50; ++i) CPPUNIT_ASSERT_EQUAL(i, pair_->recAccepted.messages[i].xid);
    }

    // Counters count messages by type in both directions, and bytes.
    void testCountersByType() {
        CPPUNIT_ASSERT(pair_->connect(params(), params()));
        pair_->initiated->send(state(1));
        pair_->initiated->send(state(2));
        pair_->initiated->send(contactBytesMessage());
        CPPUNIT_ASSERT(runUntil(*loop_, [&] { return pair_->recAccepted.messages.size() == 3; }, 1000));
        const LinkCounters& out = pair_->initiated->counters();
        const LinkCounters& in = pair_->accepted->counters();
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), out.messagesOut[10]);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), out.messagesOut[11]);
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), in.messagesIn[10]);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), in.messagesIn[11]);
        CPPUNIT_ASSERT_EQUAL(out.bytesOut, in.bytesIn);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), out.messagesIn[10]);
        CPPUNIT_ASSERT(in.lastReceived > 0);
    }

    // send() refuses after close and refuses a message longer than 2048 bytes.
    void testSendRefusedWhenClosedOrOversized() {
        LogTap log;
        CPPUNIT_ASSERT(pair_->connect(params(), params()));
        Message big = state(1);
        big.message = std::string(2100, 'x');
        CPPUNIT_ASSERT(!pair_->initiated->send(big));
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), pair_->initiated->counters().bytesOut);
        CPPUNIT_ASSERT(log.has("more than 2048"));
        CPPUNIT_ASSERT(pair_->initiated->open());
        pair_->initiated->close();
        CPPUNIT_ASSERT(!pair_->initiated->send(state(2)));
    }

private:
    /// A link on the listener's side of a raw client socket from 127.0.0.2; returns the raw fd.
    int acceptRaw(Recorder& rec, std::unique_ptr<PeerLink>& link) {
        PeerListener listener(
            *loop_, kLo1, 0, [](uint32_t src) { return src == kLo2 ? std::optional<RelationshipId>(5) : std::nullopt; },
            [&](RelationshipId, ConnectedSocket s) {
                link = makeTcpLink(*loop_, common::SystemClock::instance(), std::move(s), params());
                link->setCallbacks(rec.callbacks());
            });
        std::string error;
        if (!listener.start(error)) return -1;
        int raw = rawConnect(kLo2, kLo1, listener.port());
        if (raw < 0 || !runUntil(*loop_, [&] { return link != nullptr; }, 1000)) {
            if (raw >= 0) ::close(raw);
            return -1;
        }
        return raw;
    }

    bool expectEof(int raw) {
        Bytes ignored;
        const auto t0 = SteadyClock::now();
        while (msSince(t0) < 1000) {
            long n = rawRead(raw, ignored);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return true;
            pollfd p{raw, POLLIN, 0};
            ::poll(&p, 1, 50);
        }
        return false;
    }

    std::unique_ptr<common::EventLoop> loop_;
    std::unique_ptr<LinkPair> pair_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(ConnectionTest);
