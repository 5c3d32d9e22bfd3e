// The DHCPv4 packet codec: real-shaped messages, RFC 3396 long options, option
// overload both ways, relay agent information, and malformed input.
#include <cppunit/extensions/HelperMacros.h>

#include <random>

#include "common/dhcp_packet.h"

using namespace tandem::common;
using Bytes = std::vector<uint8_t>;

namespace {

/// A BOOTREQUEST header with the given xid and MAC, followed by `options` (after the cookie).
Bytes request(uint32_t xid, const Bytes& options, bool cookie = true) {
    Bytes b;
    b.reserve(240 + options.size());  // one allocation: GCC 12 misreads vector growth under -O2
    b.resize(236, 0);
    b[0] = 1;
    b[1] = 1;
    b[2] = 6;
    b[4] = uint8_t(xid >> 24);
    b[5] = uint8_t(xid >> 16);
    b[6] = uint8_t(xid >> 8);
    b[7] = uint8_t(xid);
    const uint8_t mac[6] = {0x00, 0x0b, 0xfd, 0x32, 0xe6, 0xfa};
    std::copy(mac, mac + 6, b.begin() + 28);
    if (cookie)
        for (uint8_t c : {99, 130, 83, 99}) b.push_back(c);
    for (uint8_t c : options) b.push_back(c);
    return b;
}

Packet4 decoded(const Bytes& b) {
    auto r = decodePacket(b.data(), b.size());
    CPPUNIT_ASSERT_MESSAGE(r.error, r.ok());
    return *r.packet;
}

Bytes encoded(const Packet4& p, std::size_t max = kDhcpDefaultMaxSize) {
    std::string err;
    auto b = encodePacket(p, max, err);
    CPPUNIT_ASSERT_MESSAGE(err, b.has_value());
    return *b;
}

}  // namespace

class DhcpPacketTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DhcpPacketTest);
    CPPUNIT_TEST(testDecodesDiscover);
    CPPUNIT_TEST(testDecodesRelayedRequestWithAgentInfo);
    CPPUNIT_TEST(testBootpWithoutCookie);
    CPPUNIT_TEST(testRoundTrip);
    CPPUNIT_TEST(testLongOptionsSplitAndJoin);
    CPPUNIT_TEST(testDecodesOverloadedFields);
    CPPUNIT_TEST(testEncodeOverflowsIntoFileThenSname);
    CPPUNIT_TEST(testEncodeRefusesWhatCannotFit);
    CPPUNIT_TEST(testOverloadInsideOverloadedFieldIsIgnored);
    CPPUNIT_TEST(testLargePacket);
    CPPUNIT_TEST(testMalformedPackets);
    CPPUNIT_TEST(testRandomBuffersNeverCrash);
    CPPUNIT_TEST(testMessageTypeNames);
    CPPUNIT_TEST_SUITE_END();

public:
    // A DISCOVER as dhclient sends it: type, requested address, hostname, PRL, END.
    void testDecodesDiscover() {
        Packet4 p = decoded(request(0x12345678, {53, 1, 1, 50, 4, 10, 0, 0, 5, 12, 3, 'p', 'c', '1', 55, 4, 1, 3, 6, 15, 255}));
        CPPUNIT_ASSERT_EQUAL(uint8_t(1), *p.messageType());
        CPPUNIT_ASSERT_EQUAL(0x12345678u, p.xid);
        CPPUNIT_ASSERT_EQUAL(0x0a000005u, *p.requestedAddress());
        CPPUNIT_ASSERT(Bytes({1, 3, 6, 15}) == p.parameterRequestList());
        CPPUNIT_ASSERT(Bytes({'p', 'c', '1'}) == p.find(12)->data);
        CPPUNIT_ASSERT_EQUAL(uint8_t(0xfa), p.chaddr[5]);
        CPPUNIT_ASSERT(!p.serverIdentifier());
    }

    // A relayed REQUEST carries giaddr and option 82 with circuit-id and remote-id.
    void testDecodesRelayedRequestWithAgentInfo() {
        Bytes b = request(7, {53, 1, 3, 54, 4, 10, 0, 0, 1, 82, 10, 1, 3, 'e', 't', 'h', 2, 3, 0xaa, 0xbb, 0xcc, 255});
        b[3] = 1;                                     // hops
        b[24] = 10; b[25] = 99; b[26] = 1; b[27] = 1;  // giaddr
        Packet4 p = decoded(b);
        CPPUNIT_ASSERT_EQUAL(0x0a630101u, p.giaddr);
        CPPUNIT_ASSERT_EQUAL(0x0a000001u, *p.serverIdentifier());
        auto ri = p.relayAgentInfo();
        CPPUNIT_ASSERT(ri);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), ri->size());
        CPPUNIT_ASSERT_EQUAL(uint8_t(1), (*ri)[0].code);
        CPPUNIT_ASSERT(Bytes({'e', 't', 'h'}) == (*ri)[0].data);
        CPPUNIT_ASSERT(Bytes({0xaa, 0xbb, 0xcc}) == (*ri)[1].data);
    }

    // RFC 951 BOOTP: no cookie, no options, and a 300-byte reply.
    void testBootpWithoutCookie() {
        Bytes b = request(9, Bytes(64, 0), false);
        Packet4 p = decoded(b);
        CPPUNIT_ASSERT(!p.cookie);
        CPPUNIT_ASSERT(p.options.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(300), encoded(p).size());
    }

    // decode(encode(p)) gives p back, and the reply is padded to 300 bytes.
    void testRoundTrip() {
        Packet4 p;
        p.op = 2;
        p.xid = 42;
        p.yiaddr = 0x0a630164;
        p.flags = 0x8000;
        p.set(53, {2});
        p.set(54, {10, 99, 0, 1});
        p.set(51, {0, 0, 0x0e, 0x10});
        p.set(3, {10, 99, 1, 1});
        Bytes b = encoded(p);
        CPPUNIT_ASSERT_EQUAL(std::size_t(300), b.size());
        Packet4 q = decoded(b);
        CPPUNIT_ASSERT(q.broadcastFlag());
        CPPUNIT_ASSERT_EQUAL(3600u, *q.leaseTime());
        CPPUNIT_ASSERT_EQUAL(p.options.size(), q.options.size());
        for (std::size_t i = 0; i < p.options.size(); ++i) {
            CPPUNIT_ASSERT_EQUAL(p.options[i].code, q.options[i].code);
            CPPUNIT_ASSERT(p.options[i].data == q.options[i].data);
        }
    }

    // An option over 255 bytes goes out as several instances and comes back as one.
    void testLongOptionsSplitAndJoin() {
        Packet4 p;
        p.op = 2;
        Bytes big(600);
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = uint8_t(i);
        p.set(43, big);
        Bytes b = encoded(p, 1500);
        // 600 bytes = 255 + 255 + 90: three instances of code 43.
        CPPUNIT_ASSERT_EQUAL(uint8_t(43), b[240]);
        CPPUNIT_ASSERT_EQUAL(uint8_t(255), b[241]);
        CPPUNIT_ASSERT_EQUAL(uint8_t(43), b[240 + 257]);
        CPPUNIT_ASSERT_EQUAL(uint8_t(90), b[240 + 2 * 257 + 1]);
        CPPUNIT_ASSERT(big == decoded(b).find(43)->data);
    }

    // Options continued in file and sname (overload 3) are read in that order and joined.
    void testDecodesOverloadedFields() {
        Bytes b = request(1, {53, 1, 1, 52, 1, 3, 12, 2, 'a', 'b', 255});
        const uint8_t inFile[] = {12, 2, 'c', 'd', 60, 1, 'v', 255};
        std::copy(std::begin(inFile), std::end(inFile), b.begin() + 108);
        const uint8_t inSname[] = {12, 1, 'e', 255};
        std::copy(std::begin(inSname), std::end(inSname), b.begin() + 44);
        Packet4 p = decoded(b);
        CPPUNIT_ASSERT(Bytes({'a', 'b', 'c', 'd', 'e'}) == p.find(12)->data);
        CPPUNIT_ASSERT(Bytes({'v'}) == p.find(60)->data);
        CPPUNIT_ASSERT(!p.find(52));
        CPPUNIT_ASSERT_EQUAL(uint8_t(0), p.file[0]);  // the field held options, not a file name
    }

    // Options that do not fit the client's maximum go to file, then sname, with option 52.
    void testEncodeOverflowsIntoFileThenSname() {
        Packet4 p;
        p.op = 2;
        p.set(53, {5});
        for (uint8_t code = 200; code < 205; ++code) p.set(code, Bytes(40, code));
        // 60 bytes of room: 52 and 53 and one option stay, three go to file, one to sname.
        Bytes b = encoded(p, 300);
        CPPUNIT_ASSERT_EQUAL(uint8_t(52), b[240]);
        CPPUNIT_ASSERT_EQUAL(uint8_t(3), b[242]);
        Packet4 q = decoded(b);
        for (uint8_t code = 200; code < 205; ++code) {
            CPPUNIT_ASSERT_MESSAGE(std::to_string(code), q.find(code));
            CPPUNIT_ASSERT(Bytes(40, code) == q.find(code)->data);
        }
        CPPUNIT_ASSERT_EQUAL(uint8_t(5), *q.messageType());
    }

    // When even file and sname are too small, or hold a file name, encoding refuses.
    void testEncodeRefusesWhatCannotFit() {
        Packet4 p;
        p.op = 2;
        for (uint8_t code = 200; code < 210; ++code) p.set(code, Bytes(60, code));
        std::string err;
        CPPUNIT_ASSERT(!encodePacket(p, 300, err));
        CPPUNIT_ASSERT(err.find("do not fit") != std::string::npos);
        Packet4 q;
        q.op = 2;
        q.file[0] = 'x';
        q.sname[0] = 'y';
        q.set(200, Bytes(100, 1));
        CPPUNIT_ASSERT(!encodePacket(q, 300, err));
    }

    // An option 52 found inside an overloaded field is ignored: no loops.
    void testOverloadInsideOverloadedFieldIsIgnored() {
        Bytes b = request(1, {53, 1, 1, 52, 1, 1, 255});
        const uint8_t inFile[] = {52, 1, 3, 12, 1, 'x', 255};
        std::copy(std::begin(inFile), std::end(inFile), b.begin() + 108);
        b[44] = 12;  // garbage in sname must not be read
        b[45] = 200;
        Packet4 p = decoded(b);
        CPPUNIT_ASSERT(Bytes({'x'}) == p.find(12)->data);
    }

    // A 1500-byte packet (jumbo options) decodes whole.
    void testLargePacket() {
        Bytes opts{53, 1, 1};
        for (int i = 0; i < 4; ++i) {
            opts.push_back(uint8_t(224 + i));
            opts.push_back(250);
            opts.insert(opts.end(), 250, uint8_t(i));
        }
        opts.push_back(255);
        Bytes b = request(3, opts);
        b.resize(1500, 0);
        Packet4 p = decoded(b);
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), p.options.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(250), p.find(227)->data.size());
    }

    // Each malformation is an error with the offset it concerns.
    void testMalformedPackets() {
        auto check = [](const Bytes& b, std::size_t offset, const std::string& needle) {
            auto r = decodePacket(b.data(), b.size());
            CPPUNIT_ASSERT_MESSAGE("accepted", !r.ok());
            CPPUNIT_ASSERT_MESSAGE(r.error, r.error.find(needle) != std::string::npos);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.error, offset, r.offset);
        };
        check(Bytes(100, 0), 0, "shorter than the 236-byte");
        Bytes badOp = request(1, {255});
        badOp[0] = 3;
        check(badOp, 0, "op 3");
        Bytes longHw = request(1, {255});
        longHw[2] = 17;
        check(longHw, 2, "over 16");
        check(request(1, {53, 1, 1, 12, 10, 'a'}), 243, "runs past the end");
        check(request(1, {53, 1, 1, 12}), 243, "no length byte");
        check(request(1, {52, 1, 7, 255}), 240, "overload (52)");
        check(request(1, {82, 4, 1, 9, 'a', 'b', 255}), 240, "relay agent information");
        check(request(1, {53, 2, 1, 1, 255}), 240, "message type (53)");
        // Option 82 repeated to 300 bytes: joined per RFC 3396, then refused as forged.
        std::vector<uint8_t> big;
        for (int i = 0; i < 2; ++i) {
            big.push_back(82);
            big.push_back(150);
            for (int j = 0; j < 50; ++j) big.insert(big.end(), {9, 1, 'x'});
        }
        big.push_back(255);
        check(request(1, big), 240, "longer than 255");
        Bytes overloaded = request(1, {52, 1, 1, 255});
        overloaded[108] = 12;
        overloaded[109] = 200;  // runs past the end of the file field
        check(overloaded, 108, "runs past the end");
    }

    // Random buffers (bounded: 20,000 of up to 600 bytes) give errors or packets, never a crash.
    void testRandomBuffersNeverCrash() {
        std::mt19937 rng(12345);
        std::size_t accepted = 0;
        for (int i = 0; i < 20000; ++i) {
            Bytes b = request(uint32_t(i), {});
            std::size_t extra = rng() % 360;
            for (std::size_t k = 0; k < extra; ++k) b.push_back(uint8_t(rng()));
            auto r = decodePacket(b.data(), b.size());
            if (!r.ok()) continue;
            ++accepted;
            std::string err;
            if (auto again = encodePacket(*r.packet, 1500, err)) {
                auto r2 = decodePacket(again->data(), again->size());
                CPPUNIT_ASSERT_MESSAGE(r2.error, r2.ok());
            }
        }
        CPPUNIT_ASSERT(accepted > 0);
    }

    // The names ISC's log lines use.
    void testMessageTypeNames() {
        CPPUNIT_ASSERT_EQUAL(std::string("DHCPDISCOVER"), messageTypeName(1));
        CPPUNIT_ASSERT_EQUAL(std::string("DHCPACK"), messageTypeName(5));
        CPPUNIT_ASSERT_EQUAL(std::string("DHCPINFORM"), messageTypeName(8));
        CPPUNIT_ASSERT_EQUAL(std::string("DHCP message type 99"), messageTypeName(99));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DhcpPacketTest);
