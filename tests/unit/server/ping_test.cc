// Tests of server/ping: the tracker's matching, joining, bound and deadlines;
// the ICMP codec and socket filter; and (as root, on loopback only) real pings.
#include <cppunit/extensions/HelperMacros.h>

#include <unistd.h>

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/event.h"
#include "common/ip_frame.h"
#include "server/ping.h"
#include "tests/unit/server/bpf_interp.h"

using namespace tandem;
using namespace tandem::server;

namespace {

struct Outcome {
    uint32_t address;
    bool answered;
};

PingCallback record(std::vector<Outcome>& out) {
    return [&out](uint32_t a, bool answered) { out.push_back({a, answered}); };
}

// An IPv4 datagram from `src` carrying an ICMP message of `type` (checksums right).
std::vector<uint8_t> icmpDatagram(uint32_t src, uint8_t type, uint16_t id, uint16_t seq, std::size_t ipOptions = 0) {
    std::vector<uint8_t> icmp = buildEchoRequest(id, seq);
    icmp[0] = type;
    icmp[2] = icmp[3] = 0;
    uint16_t c = common::internetChecksum(icmp.data(), icmp.size());
    icmp[2] = uint8_t(c >> 8);
    icmp[3] = uint8_t(c);
    std::size_t ihl = 20 + ipOptions;
    std::vector<uint8_t> d(ihl, 0);
    d[0] = uint8_t(0x40 | (ihl / 4));
    d[2] = uint8_t((ihl + icmp.size()) >> 8);
    d[3] = uint8_t(ihl + icmp.size());
    d[8] = 64;
    d[9] = 1;
    d[12] = uint8_t(src >> 24);
    d[13] = uint8_t(src >> 16);
    d[14] = uint8_t(src >> 8);
    d[15] = uint8_t(src);
    d[19] = 1;  // to 0.0.0.1: not looked at
    d.insert(d.end(), icmp.begin(), icmp.end());
    return d;
}

// Run the loop until `done` or `ms` pass.
template <typename F>
void runUntil(common::EventLoop& loop, uint64_t ms, F done) {
    common::Timer guard(loop, [&] { loop.stop(); });
    guard.startMs(ms);
    common::Timer poll(loop, [&] {
        if (done()) loop.stop();
    });
    poll.startRepeatingMs(2);
    loop.run();
}

}  // namespace

class PingTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PingTest);
    CPPUNIT_TEST(testTrackerMatchesAddressAndSequence);
    CPPUNIT_TEST(testTrackerJoinsPingsToOneAddress);
    CPPUNIT_TEST(testTrackerRefusesBeyondCapacity);
    CPPUNIT_TEST(testTrackerExpiresInDeadlineOrder);
    CPPUNIT_TEST(testEchoRequestBytes);
    CPPUNIT_TEST(testParseEchoReply);
    CPPUNIT_TEST(testEchoReplyFilter);
    CPPUNIT_TEST(testClosedServiceReportsNotAnsweredLater);
    CPPUNIT_TEST(testLoopbackPingsAreAnswered);
    CPPUNIT_TEST_SUITE_END();

public:
    // A reply counts only from the pinged address with the sequence sent to it, once.
    void testTrackerMatchesAddressAndSequence() {
        PingTracker t(8);
        std::vector<Outcome> out;
        uint16_t seqA = 0, seqB = 0;
        CPPUNIT_ASSERT(PingTracker::Start::Send == t.start(0x0a000001, 0, 1000, record(out), seqA));
        CPPUNIT_ASSERT(PingTracker::Start::Send == t.start(0x0a000002, 0, 1000, record(out), seqB));
        CPPUNIT_ASSERT(seqA != seqB);
        CPPUNIT_ASSERT(t.reply(0x0a000003, seqA).empty());        // another host
        CPPUNIT_ASSERT(t.reply(0x0a000001, seqB).empty());        // right host, wrong sequence
        CPPUNIT_ASSERT(t.reply(0x0a000001, uint16_t(seqA + 7)).empty());
        auto cbs = t.reply(0x0a000001, seqA);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), cbs.size());
        CPPUNIT_ASSERT(t.reply(0x0a000001, seqA).empty());        // a duplicate reply
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), t.outstanding());
        CPPUNIT_ASSERT(t.expire(999).empty());
        auto done = t.expire(1000);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), done.size());
        CPPUNIT_ASSERT_EQUAL(uint32_t(0x0a000002), done[0].address);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), t.outstanding());
    }

    // A second ping of an address in flight sends nothing and hears the same answer.
    void testTrackerJoinsPingsToOneAddress() {
        PingTracker t(8);
        std::vector<Outcome> out;
        uint16_t s1 = 0, s2 = 0;
        CPPUNIT_ASSERT(PingTracker::Start::Send == t.start(7, 0, 1000, record(out), s1));
        CPPUNIT_ASSERT(PingTracker::Start::Joined == t.start(7, 10, 1000, record(out), s2));
        CPPUNIT_ASSERT_EQUAL(s1, s2);
        auto cbs = t.reply(7, s1);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), cbs.size());
        for (auto& cb : cbs) cb(7, true);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), out.size());
    }

    // At capacity a new address is refused (and not recorded); a joined one is not.
    void testTrackerRefusesBeyondCapacity() {
        PingTracker t(2);
        std::vector<Outcome> out;
        uint16_t s = 0;
        CPPUNIT_ASSERT(PingTracker::Start::Send == t.start(1, 0, 100, record(out), s));
        CPPUNIT_ASSERT(PingTracker::Start::Send == t.start(2, 0, 100, record(out), s));
        CPPUNIT_ASSERT(PingTracker::Start::Refused == t.start(3, 0, 100, record(out), s));
        CPPUNIT_ASSERT(PingTracker::Start::Joined == t.start(2, 0, 100, record(out), s));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), t.outstanding());
        t.expire(100);
        CPPUNIT_ASSERT(PingTracker::Start::Send == t.start(3, 100, 100, record(out), s));
    }

    // Pings with different timeouts expire by deadline, and nextDeadline follows.
    void testTrackerExpiresInDeadlineOrder() {
        PingTracker t(8);
        std::vector<Outcome> out;
        uint16_t s = 0;
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), t.nextDeadline());
        t.start(1, 0, 3000, record(out), s);
        t.start(2, 0, 1000, record(out), s);
        t.start(3, 500, 1000, record(out), s);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1000), t.nextDeadline());
        auto done = t.expire(1500);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), done.size());
        CPPUNIT_ASSERT_EQUAL(uint32_t(2), done[0].address);
        CPPUNIT_ASSERT_EQUAL(uint32_t(3), done[1].address);
        CPPUNIT_ASSERT_EQUAL(uint64_t(3000), t.nextDeadline());
    }

    // An echo request: type 8, code 0, identifier and sequence in network order, valid checksum.
    void testEchoRequestBytes() {
        std::vector<uint8_t> p = buildEchoRequest(0x1234, 0xabcd);
        CPPUNIT_ASSERT_EQUAL(std::size_t(16), p.size());
        CPPUNIT_ASSERT_EQUAL(unsigned(8), unsigned(p[0]));
        CPPUNIT_ASSERT_EQUAL(unsigned(0), unsigned(p[1]));
        CPPUNIT_ASSERT_EQUAL(unsigned(0x12), unsigned(p[4]));
        CPPUNIT_ASSERT_EQUAL(unsigned(0x34), unsigned(p[5]));
        CPPUNIT_ASSERT_EQUAL(unsigned(0xab), unsigned(p[6]));
        CPPUNIT_ASSERT_EQUAL(unsigned(0xcd), unsigned(p[7]));
        CPPUNIT_ASSERT_EQUAL(uint16_t(0), common::internetChecksum(p.data(), p.size()));
    }

    // Echo replies parse (with or without IP options); requests, bad checksums and runts do not.
    void testParseEchoReply() {
        EchoReply r;
        auto d = icmpDatagram(0x0ac80002, 0, 0x4242, 9);
        CPPUNIT_ASSERT(parseEchoReply(d.data(), d.size(), r));
        CPPUNIT_ASSERT_EQUAL(uint32_t(0x0ac80002), r.source);
        CPPUNIT_ASSERT_EQUAL(uint16_t(0x4242), r.identifier);
        CPPUNIT_ASSERT_EQUAL(uint16_t(9), r.sequence);
        d = icmpDatagram(0x0ac80002, 0, 0x4242, 9, 8);
        CPPUNIT_ASSERT(parseEchoReply(d.data(), d.size(), r));
        d = icmpDatagram(0x0ac80002, 8, 0x4242, 9);
        CPPUNIT_ASSERT(!parseEchoReply(d.data(), d.size(), r));
        d = icmpDatagram(0x0ac80002, 0, 0x4242, 9);
        d.back() ^= 1;
        CPPUNIT_ASSERT(!parseEchoReply(d.data(), d.size(), r));
        CPPUNIT_ASSERT(!parseEchoReply(d.data(), 24, r));
    }

    // The ICMP socket filter keeps echo replies with our identifier, also after IP options.
    void testEchoReplyFilter() {
        auto prog = echoReplyFilter(0x4242);
        CPPUNIT_ASSERT(*test::runBpf(prog, icmpDatagram(1, 0, 0x4242, 1)) > 0);
        CPPUNIT_ASSERT(*test::runBpf(prog, icmpDatagram(1, 0, 0x4242, 1, 12)) > 0);
        CPPUNIT_ASSERT_EQUAL(0u, *test::runBpf(prog, icmpDatagram(1, 0, 0x4243, 1)));
        CPPUNIT_ASSERT_EQUAL(0u, *test::runBpf(prog, icmpDatagram(1, 8, 0x4242, 1)));
        CPPUNIT_ASSERT_EQUAL(0u, *test::runBpf(prog, icmpDatagram(1, 3, 0x4242, 1)));
    }

    // Without a socket every ping is "not answered", delivered from the loop, not inside ping().
    void testClosedServiceReportsNotAnsweredLater() {
        common::EventLoop loop;
        common::LoopTimerService timers(loop);
        PingService svc(loop, timers, common::SystemClock::instance());
        std::vector<Outcome> out;
        svc.ping(0x0a000001, record(out));
        svc.ping(0x0a000002, record(out));
        CPPUNIT_ASSERT(out.empty());
        runUntil(loop, 500, [&] { return out.size() == 2; });
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), out.size());
        CPPUNIT_ASSERT(!out[0].answered && !out[1].answered);
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), svc.counters().refused);
    }

    // On lo (root only): three addresses pinged at once all answer; with room for only
    // one, the second is reported not answered at once and the first still answers.
    void testLoopbackPingsAreAnswered() {
        if (geteuid() != 0) {
            std::printf("# skipped: raw ICMP sockets need root\n");
            return;
        }
        common::EventLoop loop;
        common::LoopTimerService timers(loop);
        PingService svc(loop, timers, common::SystemClock::instance());
        std::string error;
        CPPUNIT_ASSERT_MESSAGE(error, svc.open(error));
        std::vector<Outcome> out;
        for (uint32_t a : {0x7f000001u, 0x7f000002u, 0x7f000003u}) svc.ping(a, record(out));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), svc.outstanding());
        runUntil(loop, 2000, [&] { return out.size() == 3; });
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), out.size());
        for (const auto& o : out) CPPUNIT_ASSERT(o.answered);
        CPPUNIT_ASSERT_EQUAL(uint64_t(3), svc.counters().answered);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), svc.outstanding());

        PingService::Options one;
        one.maxOutstanding = 1;
        PingService small(loop, timers, common::SystemClock::instance(), one);
        CPPUNIT_ASSERT_MESSAGE(error, small.open(error));
        std::vector<Outcome> out2;
        small.ping(0x7f000001, record(out2));
        small.ping(0x7f000002, record(out2));
        runUntil(loop, 2000, [&] { return out2.size() == 2; });
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), out2.size());
        bool firstAnswered = false, secondRefused = false;
        for (const auto& o : out2) {
            if (o.address == 0x7f000001) firstAnswered = o.answered;
            if (o.address == 0x7f000002) secondRefused = !o.answered;
        }
        CPPUNIT_ASSERT(firstAnswered);
        CPPUNIT_ASSERT(secondRefused);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), small.counters().refused);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PingTest);
