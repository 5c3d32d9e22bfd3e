// Tests of common/ipv4, common/lease_record, common/clock, common/log and common/event.
#include <cppunit/extensions/HelperMacros.h>

#include <unistd.h>

#include <csignal>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/event.h"
#include "common/ipv4.h"
#include "common/lease_record.h"
#include "common/log.h"

using namespace tandem::common;

class RuntimeTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RuntimeTest);
    CPPUNIT_TEST(testFormatsAndParsesIpv4);
    CPPUNIT_TEST(testRejectsMalformedIpv4);
    CPPUNIT_TEST(testPrefixLength);
    CPPUNIT_TEST(testBindingStateNamesAndCodes);
    CPPUNIT_TEST(testHwAddrText);
    CPPUNIT_TEST(testLeaseRecordCopiesExtras);
    CPPUNIT_TEST(testManualClockCarriesMilliseconds);
    CPPUNIT_TEST(testRateLimiterCountsRefusals);
    CPPUNIT_TEST(testLogCaptureSeesMessages);
    CPPUNIT_TEST(testTimerFiresAndLoopStops);
    CPPUNIT_TEST(testSignalWatcherRunsInLoop);
    CPPUNIT_TEST(testCallbackExceptionDoesNotEscape);
    CPPUNIT_TEST_SUITE_END();

public:
    // Dotted quads go both ways, including the extremes.
    void testFormatsAndParsesIpv4() {
        CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.1"), formatIpv4(0x0a000001));
        CPPUNIT_ASSERT_EQUAL(std::string("255.255.255.255"), formatIpv4(0xffffffff));
        CPPUNIT_ASSERT_EQUAL(std::string("0.0.0.0"), formatIpv4(0));
        CPPUNIT_ASSERT_EQUAL(std::string("192.168.100.9"), formatIpv4(*parseIpv4("192.168.100.9")));
    }

    // Anything but four decimal parts of 0..255 is refused.
    void testRejectsMalformedIpv4() {
        for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.", ".1.2.3", "1..2.3", "1.2.3.4x",
                                "1234.1.1.1", "a.b.c.d"})
            CPPUNIT_ASSERT_MESSAGE(bad, !parseIpv4(bad));
    }

    // Contiguous masks have a length; others have none.
    void testPrefixLength() {
        CPPUNIT_ASSERT_EQUAL(24u, *prefixLength(0xffffff00));
        CPPUNIT_ASSERT_EQUAL(0u, *prefixLength(0));
        CPPUNIT_ASSERT_EQUAL(32u, *prefixLength(0xffffffff));
        CPPUNIT_ASSERT(!prefixLength(0xff00ff00));
    }

    // States carry the failover codes and the lease-file words.
    void testBindingStateNamesAndCodes() {
        CPPUNIT_ASSERT_EQUAL(std::string("backup"), std::string(toString(BindingState::Backup)));
        CPPUNIT_ASSERT_EQUAL(uint8_t(7), uint8_t(BindingState::Backup));
        CPPUNIT_ASSERT(BindingState::Active == *bindingStateFromString("ACTIVE"));
        CPPUNIT_ASSERT(!bindingStateFromString("bootp"));
        CPPUNIT_ASSERT(BindingState::Reset == *bindingStateFromCode(6));
        CPPUNIT_ASSERT(!bindingStateFromCode(0));
        CPPUNIT_ASSERT(!bindingStateFromCode(8));
    }

    // Hardware addresses print as lower-case colon hex; the key leads with htype.
    void testHwAddrText() {
        HwAddr h;
        h.htype = 1;
        h.len = 3;
        h.bytes[0] = 0x00;
        h.bytes[1] = 0xAB;
        h.bytes[2] = 0x0c;
        CPPUNIT_ASSERT_EQUAL(std::string("00:ab:0c"), h.str());
        CPPUNIT_ASSERT_EQUAL(std::string("\x01\x00\xab\x0c", 4), h.key());
    }

    // A copy is deep: changing the copy's extras leaves the original alone.
    void testLeaseRecordCopiesExtras() {
        LeaseRecord a;
        a.address = 1;
        a.ext().billingClass = "c";
        LeaseRecord b = a;
        CPPUNIT_ASSERT(a == b);
        b.ext().billingClass = "d";
        CPPUNIT_ASSERT(a != b);
        CPPUNIT_ASSERT_EQUAL(std::string("c"), a.extras->billingClass);
        LeaseRecord c;
        c.address = 1;
        LeaseRecord d = c;
        d.ext();  // empty extras equal none
        CPPUNIT_ASSERT(c == d);
    }

    // Milliseconds add up to seconds on the wall clock.
    void testManualClockCarriesMilliseconds() {
        ManualClock c(1000);
        c.advance(600);
        CPPUNIT_ASSERT_EQUAL(Time(1000), c.now());
        c.advance(600);
        CPPUNIT_ASSERT_EQUAL(Time(1001), c.now());
        CPPUNIT_ASSERT_EQUAL(uint64_t(1200), c.monotonicMs());
    }

    // The limiter allows a burst per period and reports what it refused.
    void testRateLimiterCountsRefusals() {
        RateLimiter r(2, 10);
        uint64_t s = 0;
        CPPUNIT_ASSERT(r.allow(100, s));
        CPPUNIT_ASSERT(r.allow(100, s));
        CPPUNIT_ASSERT(!r.allow(101, s));
        CPPUNIT_ASSERT(!r.allow(102, s));
        CPPUNIT_ASSERT(r.allow(111, s));
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), s);
    }

    // A capture sink sees each message with its level.
    void testLogCaptureSeesMessages() {
        LogConfig cfg;
        cfg.toSyslog = false;
        logInit(cfg);
        std::vector<std::string> seen;
        logCapture([&](LogLevel l, std::string_view m) {
            seen.push_back(std::to_string(int(l)) + " " + std::string(m));
        });
        logInfo("DHCPDISCOVER from 00:11:22:33:44:55 via eth0");
        logError("bad");
        logCapture({});
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), seen.size());
        CPPUNIT_ASSERT_EQUAL(std::string("6 DHCPDISCOVER from 00:11:22:33:44:55 via eth0"), seen[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("3 bad"), seen[1]);
    }

    // A timer fires once and its callback can stop the loop.
    void testTimerFiresAndLoopStops() {
        EventLoop loop;
        int fired = 0;
        Timer t(loop, [&] {
            ++fired;
            loop.stop();
        });
        t.startMs(5);
        CPPUNIT_ASSERT(t.pending());
        loop.run();
        CPPUNIT_ASSERT_EQUAL(1, fired);
        CPPUNIT_ASSERT(!t.pending());
    }

    // A signal raised in the process is delivered as a loop callback.
    void testSignalWatcherRunsInLoop() {
        EventLoop loop;
        int got = 0;
        SignalWatcher w(loop, SIGUSR2, [&] {
            ++got;
            loop.stop();
        });
        Timer t(loop, [] { ::raise(SIGUSR2); });
        t.startMs(1);
        loop.run();
        CPPUNIT_ASSERT_EQUAL(1, got);
    }

    // An exception thrown by a callback is logged, and the loop goes on.
    void testCallbackExceptionDoesNotEscape() {
        EventLoop loop;
        std::vector<std::string> seen;
        logCapture([&](LogLevel, std::string_view m) { seen.emplace_back(m); });
        Timer bad(loop, [] { throw std::runtime_error("boom"); });
        Timer stop(loop, [&] { loop.stop(); });
        bad.startMs(1);
        stop.startMs(20);
        loop.run();
        logCapture({});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), seen.size());
        CPPUNIT_ASSERT(seen[0].find("boom") != std::string::npos);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RuntimeTest);
