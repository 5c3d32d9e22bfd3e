// Tests of common/ip_frame: checksums against hand-computed values, frame
// building byte for byte, and every validation a received frame goes through.
#include <cppunit/extensions/HelperMacros.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/ip_frame.h"

using namespace tandem::common;

namespace {

const MacAddress kClientMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
const MacAddress kServerMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

UdpFrameHeader header() {
    UdpFrameHeader h;
    h.dstMac = kClientMac;
    h.srcMac = kServerMac;
    h.srcIp = 0x0a000001;  // 10.0.0.1
    h.dstIp = 0x0a000002;  // 10.0.0.2
    h.srcPort = 67;
    h.dstPort = 68;
    return h;
}

std::vector<uint8_t> abcFrame() {
    const uint8_t abc[] = {'a', 'b', 'c'};
    return buildUdpFrame(header(), abc, sizeof abc);
}

uint16_t at16(const std::vector<uint8_t>& f, std::size_t i) { return uint16_t(f[i] << 8 | f[i + 1]); }

// Recompute the IP header checksum after a test edited the header.
void fixIpChecksum(std::vector<uint8_t>& f) {
    std::size_t ihl = std::size_t(f[14] & 0x0f) * 4;
    f[24] = f[25] = 0;
    uint16_t c = internetChecksum(f.data() + 14, ihl);
    f[24] = uint8_t(c >> 8);
    f[25] = uint8_t(c);
}

FrameError parse(const std::vector<uint8_t>& f, bool notReady = false) {
    return parseUdpFrame(f.data(), f.size(), notReady).error;
}

std::string name(FrameError e) { return toString(e); }

}  // namespace

class IpFrameTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(IpFrameTest);
    CPPUNIT_TEST(testChecksumOfKnownHeader);
    CPPUNIT_TEST(testBuildsFrameByteForByte);
    CPPUNIT_TEST(testZeroUdpChecksumIsSentAsOnes);
    CPPUNIT_TEST(testBuildRefusesSmallBuffer);
    CPPUNIT_TEST(testParsesWhatItBuilds);
    CPPUNIT_TEST(testIgnoresEthernetPadding);
    CPPUNIT_TEST(testAcceptsIpOptions);
    CPPUNIT_TEST(testRejectsBadUdpChecksumUnlessNotReady);
    CPPUNIT_TEST(testAcceptsAbsentUdpChecksum);
    CPPUNIT_TEST(testRejectsBadIpChecksumEvenWhenNotReady);
    CPPUNIT_TEST(testRejectsFragments);
    CPPUNIT_TEST(testRejectsOtherEtherTypesAndProtocols);
    CPPUNIT_TEST(testRejectsBadLengths);
    CPPUNIT_TEST(testErrorNamesAreDistinct);
    CPPUNIT_TEST_SUITE_END();

public:
    // RFC 1071 sum over the textbook header 45 00 00 73 00 00 40 00 40 11 .. c0a80001 c0a800c7 is b861.
    void testChecksumOfKnownHeader() {
        const uint8_t h[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                             0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
        CPPUNIT_ASSERT_EQUAL(uint16_t(0xb861), internetChecksum(h, sizeof h));
        // An odd byte counts as the high half of a last word: 0x0102 + 0x0300 = 0x0402.
        const uint8_t odd[] = {0x01, 0x02, 0x03};
        CPPUNIT_ASSERT_EQUAL(uint16_t(~0x0402 & 0xffff), internetChecksum(odd, sizeof odd));
    }

    // 10.0.0.1:67 -> 10.0.0.2:68 "abc": IP checksum 26bc and UDP checksum 26ec, computed by hand.
    void testBuildsFrameByteForByte() {
        std::vector<uint8_t> f = abcFrame();
        const std::vector<uint8_t> want = {
            0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,  // Ethernet
            0x45, 0x10, 0x00, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x80, 0x11, 0x26, 0xbc,              // IPv4
            0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,                                      //
            0x00, 0x43, 0x00, 0x44, 0x00, 0x0b, 0x26, 0xec,                                      // UDP
            'a',  'b',  'c'};
        CPPUNIT_ASSERT_EQUAL(want.size(), f.size());
        for (std::size_t i = 0; i < want.size(); ++i)
            CPPUNIT_ASSERT_EQUAL_MESSAGE("byte " + std::to_string(i), unsigned(want[i]), unsigned(f[i]));
    }

    // A UDP sum that complements to 0 goes out as ffff (RFC 768): payload eb50 makes it so here.
    void testZeroUdpChecksumIsSentAsOnes() {
        const uint8_t p[] = {0xeb, 0x50};
        std::vector<uint8_t> f = buildUdpFrame(header(), p, sizeof p);
        CPPUNIT_ASSERT_EQUAL(uint16_t(0xffff), at16(f, 40));
        CPPUNIT_ASSERT(parseUdpFrame(f.data(), f.size(), false).ok());
    }

    // A buffer one byte short yields 0, not a partial frame.
    void testBuildRefusesSmallBuffer() {
        uint8_t out[45];
        const uint8_t abc[] = {'a', 'b', 'c'};
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), buildUdpFrame(header(), abc, 3, out, 44));
        CPPUNIT_ASSERT_EQUAL(std::size_t(45), buildUdpFrame(header(), abc, 3, out, sizeof out));
    }

    // Parsing a built frame gives back every address, port, the TTL and the payload.
    void testParsesWhatItBuilds() {
        std::vector<uint8_t> f = abcFrame();
        FrameParseResult r = parseUdpFrame(f.data(), f.size(), false);
        CPPUNIT_ASSERT_EQUAL(name(FrameError::None), name(r.error));
        CPPUNIT_ASSERT(r.frame.srcMac == kServerMac);
        CPPUNIT_ASSERT(r.frame.dstMac == kClientMac);
        CPPUNIT_ASSERT_EQUAL(uint32_t(0x0a000001), r.frame.srcIp);
        CPPUNIT_ASSERT_EQUAL(uint32_t(0x0a000002), r.frame.dstIp);
        CPPUNIT_ASSERT_EQUAL(uint16_t(67), r.frame.srcPort);
        CPPUNIT_ASSERT_EQUAL(uint16_t(68), r.frame.dstPort);
        CPPUNIT_ASSERT_EQUAL(unsigned(kDefaultTtl), unsigned(r.frame.ttl));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), r.frame.payloadSize);
        CPPUNIT_ASSERT_EQUAL(std::string("abc"), std::string(reinterpret_cast<const char*>(r.frame.payload), 3));
        CPPUNIT_ASSERT(r.frame.payload == f.data() + 42);
    }

    // Bytes past the IP total length (Ethernet's 60-byte minimum) are not payload.
    void testIgnoresEthernetPadding() {
        std::vector<uint8_t> f = abcFrame();
        f.resize(60, 0);
        FrameParseResult r = parseUdpFrame(f.data(), f.size(), false);
        CPPUNIT_ASSERT(r.ok());
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), r.frame.payloadSize);
    }

    // A header with 4 bytes of options (IHL 6) puts the UDP header at 14 + 24.
    void testAcceptsIpOptions() {
        std::vector<uint8_t> f = abcFrame();
        f.insert(f.begin() + 34, {0x01, 0x01, 0x01, 0x00});  // NOP NOP NOP END
        f[14] = 0x46;
        f[17] = 0x1f + 4;
        fixIpChecksum(f);
        FrameParseResult r = parseUdpFrame(f.data(), f.size(), false);
        CPPUNIT_ASSERT_EQUAL(name(FrameError::None), name(r.error));
        CPPUNIT_ASSERT_EQUAL(uint16_t(68), r.frame.dstPort);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), r.frame.payloadSize);
    }

    // A changed payload byte fails the UDP checksum, unless the kernel says it is not computed yet.
    void testRejectsBadUdpChecksumUnlessNotReady() {
        std::vector<uint8_t> f = abcFrame();
        f[42] = 'x';
        FrameParseResult r = parseUdpFrame(f.data(), f.size(), false);
        CPPUNIT_ASSERT_EQUAL(name(FrameError::BadUdpChecksum), name(r.error));
        CPPUNIT_ASSERT_EQUAL(std::size_t(40), r.offset);
        CPPUNIT_ASSERT_EQUAL(name(FrameError::None), name(parse(f, true)));
    }

    // A UDP checksum field of 0 means the sender computed none (RFC 768).
    void testAcceptsAbsentUdpChecksum() {
        std::vector<uint8_t> f = abcFrame();
        f[40] = f[41] = 0;
        f[42] = 'x';
        CPPUNIT_ASSERT_EQUAL(name(FrameError::None), name(parse(f)));
    }

    // The IP header checksum is the kernel's even with offload, so it is always checked.
    void testRejectsBadIpChecksumEvenWhenNotReady() {
        std::vector<uint8_t> f = abcFrame();
        f[22] = 0x40;  // TTL changed, checksum not
        CPPUNIT_ASSERT_EQUAL(name(FrameError::BadIpChecksum), name(parse(f)));
        CPPUNIT_ASSERT_EQUAL(name(FrameError::BadIpChecksum), name(parse(f, true)));
    }

    // More-fragments or a fragment offset means a fragment: never reassembled, dropped.
    void testRejectsFragments() {
        std::vector<uint8_t> f = abcFrame();
        f[20] = 0x20;  // MF
        fixIpChecksum(f);
        CPPUNIT_ASSERT_EQUAL(name(FrameError::Fragment), name(parse(f)));
        f = abcFrame();
        f[21] = 0x01;  // offset 8
        fixIpChecksum(f);
        CPPUNIT_ASSERT_EQUAL(name(FrameError::Fragment), name(parse(f)));
        f = abcFrame();
        f[20] = 0x40;  // DF alone is fine
        fixIpChecksum(f);
        CPPUNIT_ASSERT_EQUAL(name(FrameError::None), name(parse(f)));
    }

    // IPv6, VLAN-tagged frames, IP version 6 in an IPv4 frame, and TCP are refused.
    void testRejectsOtherEtherTypesAndProtocols() {
        std::vector<uint8_t> f = abcFrame();
        f[12] = 0x86;
        f[13] = 0xdd;
        CPPUNIT_ASSERT_EQUAL(name(FrameError::NotIpv4), name(parse(f)));
        f[12] = 0x81;
        f[13] = 0x00;
        CPPUNIT_ASSERT_EQUAL(name(FrameError::NotIpv4), name(parse(f)));
        f = abcFrame();
        f[14] = 0x65;
        CPPUNIT_ASSERT_EQUAL(name(FrameError::BadIpVersion), name(parse(f)));
        f = abcFrame();
        f[23] = 6;
        fixIpChecksum(f);
        CPPUNIT_ASSERT_EQUAL(name(FrameError::NotUdp), name(parse(f)));
    }

    // Short frames, IHL < 5 or past the end, total length too long or too short, and bad UDP lengths.
    void testRejectsBadLengths() {
        std::vector<uint8_t> f = abcFrame();
        CPPUNIT_ASSERT_EQUAL(name(FrameError::TooShort), name(parseUdpFrame(f.data(), 41, false).error));

        f = abcFrame();
        f[14] = 0x44;
        CPPUNIT_ASSERT_EQUAL(name(FrameError::BadHeaderLength), name(parse(f)));
        f[14] = 0x4f;  // 60-byte header in a 31-byte datagram
        CPPUNIT_ASSERT_EQUAL(name(FrameError::BadHeaderLength), name(parse(f)));

        f = abcFrame();
        f[17] = 0x20;  // one byte more than the frame holds
        fixIpChecksum(f);
        CPPUNIT_ASSERT_EQUAL(name(FrameError::BadTotalLength), name(parse(f)));
        f[17] = 27;  // shorter than IP + UDP headers
        fixIpChecksum(f);
        CPPUNIT_ASSERT_EQUAL(name(FrameError::BadTotalLength), name(parse(f)));

        f = abcFrame();
        f[39] = 12;  // UDP length past the IP payload
        CPPUNIT_ASSERT_EQUAL(name(FrameError::BadUdpLength), name(parse(f)));
        f[39] = 7;
        CPPUNIT_ASSERT_EQUAL(name(FrameError::BadUdpLength), name(parse(f)));
        // A UDP length shorter than the IP payload is legal; the rest is not payload.
        f = abcFrame();
        f[39] = 10;
        f[40] = f[41] = 0;
        FrameParseResult r = parseUdpFrame(f.data(), f.size(), false);
        CPPUNIT_ASSERT(r.ok());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), r.frame.payloadSize);
    }

    // Each error has its own metric name.
    void testErrorNamesAreDistinct() {
        std::vector<std::string> seen;
        for (std::size_t i = 0; i < kFrameErrorCount; ++i) {
            std::string n = toString(FrameError(i));
            for (const auto& s : seen) CPPUNIT_ASSERT(s != n);
            CPPUNIT_ASSERT(n != "unknown");
            seen.push_back(n);
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(IpFrameTest);
