// The failover codec against real ISC dhcpd 4.4.3 conversations: every captured
// message decodes and re-encodes to the same bytes, messages built from typed
// fields match ISC's, and malformed input gives a precise error.
#include <cppunit/extensions/HelperMacros.h>

#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>

#include "failover/framer.h"
#include "failover/message.h"

using namespace tandem::failover;
using Bytes = std::vector<uint8_t>;

namespace {

struct Captured {
    std::string where;  ///< the comment line naming capture and frame
    Bytes bytes;
};

Bytes fromHex(const std::string& hex) {
    Bytes out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(uint8_t(std::stoul(hex.substr(i, 2), nullptr, 16)));
    return out;
}

std::string toHex(const Bytes& b) {
    static const char* d = "0123456789abcdef";
    std::string s;
    for (uint8_t c : b) {
        s += d[c >> 4];
        s += d[c & 15];
    }
    return s;
}

std::string dataDir() {
    const char* top = std::getenv("top_srcdir");
    return std::string(top ? top : ".") + "/tests/data/failover";
}

/// Every message extracted from the captures (tests/data/failover/*.hex).
const std::vector<Captured>& captured() {
    static std::vector<Captured> all = [] {
        std::vector<Captured> v;
        std::vector<std::string> files;
        if (DIR* d = ::opendir(dataDir().c_str())) {
            while (dirent* e = ::readdir(d)) {
                std::string n = e->d_name;
                if (n.size() > 4 && n.substr(n.size() - 4) == ".hex") files.push_back(n);
            }
            ::closedir(d);
        }
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            std::ifstream in(dataDir() + "/" + f);
            std::string line, where;
            while (std::getline(in, line)) {
                if (line.empty()) continue;
                if (line[0] == '#') where = line;
                else v.push_back({where, fromHex(line)});
            }
        }
        return v;
    }();
    return all;
}

const Captured& firstOfType(MessageType t, bool (*extra)(const Message&) = nullptr) {
    for (const auto& c : captured()) {
        auto r = decode(c.bytes.data(), c.bytes.size());
        if (r.ok() && r.message->type == t && (!extra || extra(*r.message))) return c;
    }
    CPPUNIT_FAIL("no captured message of type " + std::string(messageTypeName(uint8_t(t))));
    static Captured none;
    return none;
}

Message decoded(const Captured& c) {
    auto r = decode(c.bytes.data(), c.bytes.size());
    CPPUNIT_ASSERT_MESSAGE(r.error, r.ok());
    return *r.message;
}

/// Build `m` from typed fields, give it the captured time and xid, and compare bytes.
void expectSameBytes(const Captured& c, Message m) {
    Message orig = decoded(c);
    m.time = orig.time;
    m.xid = orig.xid;
    CPPUNIT_ASSERT_EQUAL_MESSAGE(c.where, toHex(c.bytes), toHex(encode(m)));
}

}  // namespace

class CodecTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CodecTest);
    CPPUNIT_TEST(testEveryCapturedMessageRoundTrips);
    CPPUNIT_TEST(testCapturesHoldEveryExpectedType);
    CPPUNIT_TEST(testBuildsConnectLikeIsc);
    CPPUNIT_TEST(testBuildsConnectackLikeIsc);
    CPPUNIT_TEST(testBuildsStateLikeIsc);
    CPPUNIT_TEST(testBuildsBndupdLikeIsc);
    CPPUNIT_TEST(testBuildsRejectingBndackLikeIsc);
    CPPUNIT_TEST(testBuildsEmptyMessagesLikeIsc);
    CPPUNIT_TEST(testMalformedMessages);
    CPPUNIT_TEST(testUnknownOptionsAreKept);
    CPPUNIT_TEST(testDigestIsWrittenLast);
    CPPUNIT_TEST(testFramerByteAtATime);
    CPPUNIT_TEST(testFramerSeveralMessagesInOneChunk);
    CPPUNIT_TEST(testFramerRefusesBadLength);
    CPPUNIT_TEST_SUITE_END();

public:
    // All messages of all captures decode, and encoding the result gives the same bytes.
    void testEveryCapturedMessageRoundTrips() {
        CPPUNIT_ASSERT_MESSAGE("no captured messages found in " + dataDir(), captured().size() > 1000);
        for (const auto& c : captured()) {
            auto r = decode(c.bytes.data(), c.bytes.size());
            CPPUNIT_ASSERT_MESSAGE(c.where + ": " + r.error, r.ok());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(c.where, toHex(c.bytes), toHex(encode(*r.message)));
        }
    }

    // The captures cover every type ISC sent there (POOLREQ/POOLRESP do not occur).
    void testCapturesHoldEveryExpectedType() {
        std::map<int, int> count;
        for (const auto& c : captured()) count[c.bytes[2]]++;
        for (int t : {3, 4, 5, 6, 7, 8, 10, 11}) CPPUNIT_ASSERT_MESSAGE("type " + std::to_string(t), count[t] > 0);
    }

    // CONNECT from the primary's configuration.
    void testBuildsConnectLikeIsc() {
        Message m;
        m.type = MessageType::FTM_CONNECT;
        m.relationshipName = "dhcp-failover";
        m.maxUnacked = 10;
        m.receiveTimer = 60;
        m.vendorClass = Bytes{'i', 's', 'c', '-', '4', '.', '4', '.', '3', '-', 'P', '1'};
        m.protocolVersion = 1;
        m.tlsRequest = 0;
        m.mclt = 3600;
        Bytes hba(32, 0);
        std::fill(hba.begin(), hba.begin() + 16, 0xff);  // split 128: the primary's half
        m.hba = hba;
        expectSameBytes(firstOfType(MessageType::FTM_CONNECT), m);
    }

    // CONNECTACK accepting the connection.
    void testBuildsConnectackLikeIsc() {
        Message m;
        m.type = MessageType::FTM_CONNECTACK;
        m.relationshipName = "dhcp-failover";
        m.maxUnacked = 10;
        m.receiveTimer = 60;
        m.vendorClass = Bytes{'i', 's', 'c', '-', '4', '.', '4', '.', '3', '-', 'P', '1'};
        m.protocolVersion = 1;
        m.tlsReply = 0;
        expectSameBytes(firstOfType(MessageType::FTM_CONNECTACK), m);
    }

    // STATE with the saved state and the STARTUP flag, as ISC sends it on connecting.
    void testBuildsStateLikeIsc() {
        const Captured& c = firstOfType(MessageType::FTM_STATE);
        Message orig = decoded(c);
        Message m;
        m.type = MessageType::FTM_STATE;
        m.serverState = *orig.serverState;
        m.serverFlags = *orig.serverFlags;
        m.startTimeOfState = *orig.startTimeOfState;
        expectSameBytes(c, m);
    }

    // BNDUPD of an active lease with client identifier and hardware address.
    void testBuildsBndupdLikeIsc() {
        const Captured& c = firstOfType(MessageType::FTM_BNDUPD, [](const Message& m) {
            return m.clientIdentifier.has_value() && m.chaddr.has_value() && m.cltt.has_value();
        });
        Message orig = decoded(c);
        Message m;
        m.type = MessageType::FTM_BNDUPD;
        m.assignedIpAddress = *orig.assignedIpAddress;
        m.bindingStatus = *orig.bindingStatus;
        m.clientIdentifier = *orig.clientIdentifier;
        m.chaddr = *orig.chaddr;
        m.leaseExpiry = *orig.leaseExpiry;
        m.potentialExpiry = *orig.potentialExpiry;
        m.startTimeOfState = *orig.startTimeOfState;
        m.cltt = *orig.cltt;
        CPPUNIT_ASSERT_EQUAL(std::size_t(7), m.chaddr->size());  // htype byte + MAC
        expectSameBytes(c, m);
    }

    // BNDACK that refuses an update carries reject-reason and message after the address.
    void testBuildsRejectingBndackLikeIsc() {
        const Captured& c = firstOfType(MessageType::FTM_BNDACK, [](const Message& m) { return m.rejectReason.has_value(); });
        Message orig = decoded(c);
        Message m;
        m.type = MessageType::FTM_BNDACK;
        m.assignedIpAddress = *orig.assignedIpAddress;
        m.rejectReason = *orig.rejectReason;
        // emplace, not assignment from a literal: GCC 12 with ASan warns falsely
        // (-Wmaybe-uninitialized) on optional<string>::operator=(const char*).
        m.message.emplace("incoming update is less critical than outgoing update");
        CPPUNIT_ASSERT_EQUAL(uint8_t(16), *m.rejectReason);
        expectSameBytes(c, m);
    }

    // UPDREQALL, UPDDONE and CONTACT are bare headers.
    void testBuildsEmptyMessagesLikeIsc() {
        for (MessageType t : {MessageType::FTM_UPDREQALL, MessageType::FTM_UPDDONE, MessageType::FTM_CONTACT}) {
            Message m;
            m.type = t;
            expectSameBytes(firstOfType(t), m);
        }
    }

    // Each malformation is refused with its reason and the byte it concerns.
    void testMalformedMessages() {
        Bytes state = firstOfType(MessageType::FTM_STATE).bytes;  // 30 bytes: 24, 23, 25
        auto check = [](Bytes b, std::size_t offset, const std::string& needle) {
            auto r = decode(b.data(), b.size());
            CPPUNIT_ASSERT_MESSAGE("accepted: " + toHex(b), !r.ok());
            CPPUNIT_ASSERT_MESSAGE(r.error, r.error.find(needle) != std::string::npos);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.error, offset, r.offset);
        };
        check(Bytes(state.begin(), state.begin() + 8), 0, "shorter than the 12-byte header");
        Bytes wrongLength = state;
        wrongLength[1] = 40;
        check(wrongLength, 0, "length field says 40");
        Bytes badType = state;
        badType[2] = 13;
        check(badType, 2, "unknown message type 13");
        Bytes badOffset = state;
        badOffset[3] = 8;  // the draft's value: impossible with a 12-byte header
        check(badOffset, 3, "payload offset 8");
        Bytes truncated = state;
        truncated.resize(state.size() - 2);
        truncated[1] = uint8_t(truncated.size());
        check(truncated, 22, "runs past the end");
        Bytes wrongSize = state;  // server-state with 2 bytes: steal one from server-flags' header
        wrongSize[15] = 2;
        check(wrongSize, 12, "server-state (24) has 2 bytes, not 1");
        Bytes dup = state;  // turn server-flags into a second server-state
        dup[18] = 24;
        check(dup, 17, "duplicate option server-state");
        Bytes header = state;
        header.push_back(0);
        header.push_back(1);
        header[1] = uint8_t(header.size());
        check(header, 30, "truncated option header");
    }

    // An option code past 29 is kept, as read, and written back.
    void testUnknownOptionsAreKept() {
        Message m;
        m.type = MessageType::FTM_CONTACT;
        m.unknown.push_back({200, {1, 2, 3}});
        Bytes b = encode(m);
        auto r = decode(b.data(), b.size());
        CPPUNIT_ASSERT(r.ok());
        CPPUNIT_ASSERT(*r.message == m);
        CPPUNIT_ASSERT_EQUAL(std::size_t(19), b.size());
    }

    // The message digest goes after every other option, whatever its code (draft §12.17).
    void testDigestIsWrittenLast() {
        Message m;
        m.type = MessageType::FTM_CONNECT;
        m.messageDigest = Bytes{1, 0xaa};
        m.relationshipName = "x";
        m.unknown.push_back({300, {7}});
        Bytes b = encode(m);
        CPPUNIT_ASSERT_EQUAL(std::string("0011000201aa"), toHex(Bytes(b.end() - 6, b.end())));
        auto r = decode(b.data(), b.size());
        CPPUNIT_ASSERT_MESSAGE(r.error, r.ok());
        CPPUNIT_ASSERT(*r.message == m);
        Bytes early = b;  // a digest followed by anything is refused
        early.insert(early.end(), {0, 16, 0, 0});
        early[1] = uint8_t(early.size());
        auto bad = decode(early.data(), early.size());
        CPPUNIT_ASSERT(!bad.ok());
        CPPUNIT_ASSERT(bad.error.find("not the last option") != std::string::npos);
    }

    // A stream fed one byte at a time yields each message once it is whole.
    void testFramerByteAtATime() {
        Framer f;
        std::size_t got = 0;
        Bytes out;
        for (std::size_t i = 0; i < 200 && i < captured().size(); ++i) {
            const Bytes& b = captured()[i].bytes;
            for (std::size_t k = 0; k < b.size(); ++k) {
                f.feed(&b[k], 1);
                bool complete = f.next(out);
                CPPUNIT_ASSERT_EQUAL(k + 1 == b.size(), complete);
            }
            CPPUNIT_ASSERT(out == b);
            ++got;
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), f.buffered());
        CPPUNIT_ASSERT(got > 0);
    }

    // Several messages arriving in one read come out one by one, in order.
    void testFramerSeveralMessagesInOneChunk() {
        Bytes chunk;
        for (std::size_t i = 0; i < 50; ++i) chunk.insert(chunk.end(), captured()[i].bytes.begin(), captured()[i].bytes.end());
        Framer f;
        f.feed(chunk.data(), chunk.size());
        Bytes out;
        for (std::size_t i = 0; i < 50; ++i) {
            CPPUNIT_ASSERT(f.next(out));
            CPPUNIT_ASSERT(out == captured()[i].bytes);
        }
        CPPUNIT_ASSERT(!f.next(out));
        CPPUNIT_ASSERT(!f.broken());
    }

    // A length below 12 or above 2048 breaks the stream for good.
    void testFramerRefusesBadLength() {
        for (uint16_t len : {0, 11, 2049, 65535}) {
            Framer f;
            uint8_t b[2] = {uint8_t(len >> 8), uint8_t(len)};
            f.feed(b, 2);
            Bytes out;
            CPPUNIT_ASSERT(!f.next(out));
            CPPUNIT_ASSERT(f.broken());
            CPPUNIT_ASSERT(f.error().find(std::to_string(len)) != std::string::npos);
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CodecTest);
