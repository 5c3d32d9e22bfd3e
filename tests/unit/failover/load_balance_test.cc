// Load balancing: ISC's RFC 3074 hash, the HBA bitmap, the DISCOVER test, MAC
// affinity; checked on the reference's vectors and on every captured decision.
#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <set>
#include <sstream>

#include "failover/load_balance.h"
#include "tests/unit/failover/shared_data.h"
#include "tests/unit/tap_skip.h"

using namespace tandem::failover;
using tandem::common::LeaseRecord;
using tandem::common::Packet4;

namespace {

std::vector<uint8_t> hex(const std::string& s) {
    std::vector<uint8_t> v;
    std::string digits;
    for (char c : s)
        if (std::isxdigit(static_cast<unsigned char>(c))) digits += c;
    for (std::size_t i = 0; i + 1 < digits.size(); i += 2) v.push_back(uint8_t(std::stoi(digits.substr(i, 2), nullptr, 16)));
    return v;
}

// The text after `prefix` when `line` starts with it.
bool after(const std::string& line, const std::string& prefix, std::string& rest) {
    if (line.rfind(prefix, 0) != 0) return false;
    rest = line.substr(prefix.size());
    return true;
}

// "CubicTra_00:00:00 (00:0c:aa:00:00:00)" -> "00:0c:aa:00:00:00"
std::string parenthesised(const std::string& s) {
    auto open = s.rfind('('), close = s.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) return s;
    return s.substr(open + 1, close - open - 1);
}

int hashOf(const std::string& h) { return loadBalanceHash(hex(h)); }

Packet4 discover(const std::vector<uint8_t>& mac, const std::vector<uint8_t>* clientId = nullptr, uint16_t secs = 0) {
    Packet4 p;
    p.op = 1;
    p.hlen = uint8_t(mac.size());
    for (std::size_t i = 0; i < mac.size() && i < 16; ++i) p.chaddr[i] = mac[i];
    p.secs = secs;
    p.set(53, {1});
    if (clientId) p.set(61, *clientId);
    return p;
}

LoadBalanceParams params(Role role, uint32_t split = 128, uint32_t maxSecs = 3) {
    LoadBalanceParams lb;
    lb.role = role;
    lb.hba = hbaFromSplit(split);
    lb.maxSeconds = maxSecs;
    return lb;
}

}  // namespace

class LoadBalanceTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(LoadBalanceTest);
    CPPUNIT_TEST(testReferenceVectors);
    CPPUNIT_TEST(testHashWalksKeyBackwardsFromLengthSeed);
    CPPUNIT_TEST(testMixingTableIsAPermutation);
    CPPUNIT_TEST(testSplitBitmap);
    CPPUNIT_TEST(testRawHba);
    CPPUNIT_TEST(testBitOrderIsLsbFirstAndSetMeansPrimary);
    CPPUNIT_TEST(testKeyIsClientIdElseChaddr);
    CPPUNIT_TEST(testLeaseKeyIsUidElseHardwareWithoutHtype);
    CPPUNIT_TEST(testMaxSecondsZeroAnswersEverything);
    CPPUNIT_TEST(testSecsOverLimitAnswersRegardless);
    CPPUNIT_TEST(testCheckSecsByteOrder);
    CPPUNIT_TEST(testNoHbaIsNotMine);
    CPPUNIT_TEST(testPeerWantsLease);
    CPPUNIT_TEST(testEveryCapturedDiscoverGoesToTheServerThatOffered);
    CPPUNIT_TEST(testEveryLoggedDiscoverDecision);
    CPPUNIT_TEST_SUITE_END();

public:
    // The hashes the reference lists (section f), client-ids and bare MACs.
    void testReferenceVectors() {
        CPPUNIT_ASSERT_EQUAL(223, hashOf("01 00 11 22 33 44 55"));
        CPPUNIT_ASSERT_EQUAL(31, hashOf("01 00 11 22 33 aa 01"));
        CPPUNIT_ASSERT_EQUAL(19, hashOf("01 00 11 22 33 aa 03"));
        CPPUNIT_ASSERT_EQUAL(167, hashOf("01 00 11 22 33 aa 02"));
        CPPUNIT_ASSERT_EQUAL(135, hashOf("00 11 22 33 44 55"));
        CPPUNIT_ASSERT_EQUAL(75, hashOf("76 27 2c 4d c7 87"));
        CPPUNIT_ASSERT_EQUAL(195, hashOf("52 8d 3e ea fc 7e"));
        CPPUNIT_ASSERT_EQUAL(192, hashOf("01 00 0c aa 00 00 00"));
        CPPUNIT_ASSERT_EQUAL(105, hashOf("01 00 0c aa 00 00 03"));
        // With split 128: bucket < 128 is the primary's.
        auto hba = *hbaFromSplit(128);
        CPPUNIT_ASSERT(!primaryServesBucket(hba, 223));
        CPPUNIT_ASSERT(primaryServesBucket(hba, 31));
        CPPUNIT_ASSERT(primaryServesBucket(hba, 19));
        CPPUNIT_ASSERT(!primaryServesBucket(hba, 167));
    }

    // The seed is the length and the key is consumed from its last byte.
    void testHashWalksKeyBackwardsFromLengthSeed() {
        // A one-byte key k hashes to T[1 ^ k]: recover the table through it.
        uint8_t t[256];
        for (int v = 0; v < 256; ++v) {
            uint8_t k = uint8_t(v ^ 1);
            t[v] = loadBalanceHash(&k, 1);
        }
        const uint8_t key[3] = {0x10, 0x20, 0x30};
        uint8_t backwards = 3;
        for (int i = 2; i >= 0; --i) backwards = t[backwards ^ key[i]];
        uint8_t forwards = 3;
        for (int i = 0; i < 3; ++i) forwards = t[forwards ^ key[i]];
        CPPUNIT_ASSERT_EQUAL(int(backwards), int(loadBalanceHash(key, 3)));
        CPPUNIT_ASSERT(backwards != forwards);
        CPPUNIT_ASSERT_EQUAL(0, int(loadBalanceHash(nullptr, 0)));  // seed 0, nothing mixed
        CPPUNIT_ASSERT_EQUAL(251, int(t[0]));                      // the table's first entry
        CPPUNIT_ASSERT_EQUAL(151, int(t[255]));                    // and its last
    }

    // Distinct one-byte keys give distinct hashes: the mixing table is a permutation.
    void testMixingTableIsAPermutation() {
        std::set<int> seen;
        for (int k = 0; k < 256; ++k) {
            uint8_t b = uint8_t(k);
            seen.insert(loadBalanceHash(&b, 1));
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(256), seen.size());
    }

    // split N sets buckets 0..N-1, whole bytes first, LSB-first in the last one; > 256 is refused.
    void testSplitBitmap() {
        Hba h128 = *hbaFromSplit(128);
        for (std::size_t i = 0; i < 16; ++i) CPPUNIT_ASSERT_EQUAL(0xff, int(h128[i]));
        for (std::size_t i = 16; i < 32; ++i) CPPUNIT_ASSERT_EQUAL(0x00, int(h128[i]));
        Hba h0 = *hbaFromSplit(0), h256 = *hbaFromSplit(256);
        for (std::size_t i = 0; i < 32; ++i) {
            CPPUNIT_ASSERT_EQUAL(0x00, int(h0[i]));
            CPPUNIT_ASSERT_EQUAL(0xff, int(h256[i]));
        }
        CPPUNIT_ASSERT_EQUAL(0x07, int((*hbaFromSplit(3))[0]));
        Hba h9 = *hbaFromSplit(9);
        CPPUNIT_ASSERT_EQUAL(0xff, int(h9[0]));
        CPPUNIT_ASSERT_EQUAL(0x01, int(h9[1]));
        CPPUNIT_ASSERT_EQUAL(0x00, int(h9[2]));
        CPPUNIT_ASSERT(!hbaFromSplit(257));
    }

    // A raw hba must be exactly 32 bytes.
    void testRawHba() {
        std::vector<uint8_t> b(32, 0xaa);
        auto h = hbaFromBytes(b);
        CPPUNIT_ASSERT(h);
        CPPUNIT_ASSERT_EQUAL(0xaa, int((*h)[31]));
        CPPUNIT_ASSERT(!hbaFromBytes(std::vector<uint8_t>(31, 0)));
        CPPUNIT_ASSERT(!hbaFromBytes(std::vector<uint8_t>(33, 0)));
        // 0xaa = 10101010: odd buckets are the primary's.
        CPPUNIT_ASSERT(!primaryServesBucket(*h, 0));
        CPPUNIT_ASSERT(primaryServesBucket(*h, 1));
    }

    // Bucket b is bit 1 << (b & 7) of byte b >> 3; a set bit means the primary, the secondary inverts.
    void testBitOrderIsLsbFirstAndSetMeansPrimary() {
        Hba h{};
        h[0] = 0x01;
        h[31] = 0x80;
        CPPUNIT_ASSERT(primaryServesBucket(h, 0));
        CPPUNIT_ASSERT(!primaryServesBucket(h, 7));
        CPPUNIT_ASSERT(primaryServesBucket(h, 255));
        CPPUNIT_ASSERT(!primaryServesBucket(h, 248));
        CPPUNIT_ASSERT(roleServesBucket(h, Role::Primary, 0));
        CPPUNIT_ASSERT(!roleServesBucket(h, Role::Secondary, 0));
        CPPUNIT_ASSERT(roleServesBucket(h, Role::Secondary, 7));
        CPPUNIT_ASSERT(peerWantsBucket(h, Role::Primary, 7));
        CPPUNIT_ASSERT(!peerWantsBucket(h, Role::Secondary, 7));
    }

    // Option 61's whole value wins; else chaddr cut to hlen (at most 16 bytes).
    void testKeyIsClientIdElseChaddr() {
        std::vector<uint8_t> mac = hex("00 0c aa 00 00 00"), id = hex("01 00 0c aa 00 00 00");
        CPPUNIT_ASSERT(packetKey(discover(mac)) == mac);
        CPPUNIT_ASSERT(packetKey(discover(mac, &id)) == id);
        Packet4 p = discover(mac);
        p.hlen = 0;
        CPPUNIT_ASSERT(packetKey(p).empty());
        p.hlen = 40;
        CPPUNIT_ASSERT_EQUAL(std::size_t(16), packetKey(p).size());
        std::vector<uint8_t> empty;
        CPPUNIT_ASSERT(packetKey(discover(mac, &empty)).empty());  // an empty option 61 is still the key
    }

    // A lease's key is its uid, else its MAC without the htype byte, else nothing.
    void testLeaseKeyIsUidElseHardwareWithoutHtype() {
        LeaseRecord l;
        CPPUNIT_ASSERT(!leaseKey(l));
        l.hw.htype = 1;
        CPPUNIT_ASSERT(!leaseKey(l));  // htype alone cannot be hashed
        l.hw.len = 6;
        std::vector<uint8_t> mac = hex("00 11 22 33 44 55");
        std::copy(mac.begin(), mac.end(), l.hw.bytes.begin());
        CPPUNIT_ASSERT(*leaseKey(l) == mac);
        l.uid = std::string("\x01\x00\x11\x22\x33\x44\x55", 7);
        CPPUNIT_ASSERT(*leaseKey(l) == hex("01 00 11 22 33 44 55"));
    }

    // max seconds 0 disables load balancing: both roles answer every DISCOVER.
    void testMaxSecondsZeroAnswersEverything() {
        std::vector<uint8_t> mac = hex("52 8d 3e ea fc 7e");  // bucket 195: the secondary's
        auto v = loadBalanceMine(discover(mac), params(Role::Primary, 128, 0));
        CPPUNIT_ASSERT(v.mine);
        CPPUNIT_ASSERT(v.why == LoadBalanceVerdict::Why::Disabled);
        CPPUNIT_ASSERT(loadBalanceMine(discover(mac), params(Role::Secondary, 128, 0)).mine);
    }

    // secs > S answers regardless of the hash; secs == S still goes by the hash.
    void testSecsOverLimitAnswersRegardless() {
        std::vector<uint8_t> mac = hex("52 8d 3e ea fc 7e");
        auto over = loadBalanceMine(discover(mac, nullptr, 4), params(Role::Primary));
        CPPUNIT_ASSERT(over.mine);
        CPPUNIT_ASSERT(over.why == LoadBalanceVerdict::Why::SecsOverLimit);
        auto at = loadBalanceMine(discover(mac, nullptr, 3), params(Role::Primary));
        CPPUNIT_ASSERT(!at.mine);
        CPPUNIT_ASSERT(at.why == LoadBalanceVerdict::Why::Hash);
        CPPUNIT_ASSERT_EQUAL(195, int(at.bucket));
        CPPUNIT_ASSERT(loadBalanceMine(discover(mac, nullptr, 3), params(Role::Secondary)).mine);
    }

    // check-secs-byte-order reads 0x0100 as 1 (little-endian client), so the hash decides again.
    void testCheckSecsByteOrder() {
        std::vector<uint8_t> mac = hex("52 8d 3e ea fc 7e");
        LoadBalanceParams lb = params(Role::Primary);
        CPPUNIT_ASSERT(loadBalanceMine(discover(mac, nullptr, 0x0100), lb).mine);  // 256 > 3
        lb.checkSecsByteOrder = true;
        auto v = loadBalanceMine(discover(mac, nullptr, 0x0100), lb);
        CPPUNIT_ASSERT_EQUAL(1, int(v.secs));
        CPPUNIT_ASSERT(!v.mine);
        // A low byte that is not zero is taken as it is.
        CPPUNIT_ASSERT_EQUAL(0x0101, int(loadBalanceMine(discover(mac, nullptr, 0x0101), lb).secs));
    }

    // Without a bitmap (a secondary before CONNECT) nothing is ours, and the peer wants nothing.
    void testNoHbaIsNotMine() {
        LoadBalanceParams lb;
        lb.role = Role::Secondary;
        lb.maxSeconds = 3;
        auto v = loadBalanceMine(discover(hex("76 27 2c 4d c7 87")), lb);
        CPPUNIT_ASSERT(!v.mine);
        CPPUNIT_ASSERT(v.why == LoadBalanceVerdict::Why::NoHba);
        LeaseRecord l;
        l.uid = "x";
        CPPUNIT_ASSERT(!peerWantsLease(l, std::nullopt, Role::Primary));
    }

    // MAC affinity: the peer wants a lease whose last client hashes into its half.
    void testPeerWantsLease() {
        auto hba = hbaFromSplit(128);
        LeaseRecord l;
        l.uid = std::string("\x01\x00\x0c\xaa\x00\x00\x00", 7);  // bucket 192: secondary's
        CPPUNIT_ASSERT(peerWantsLease(l, hba, Role::Primary));
        CPPUNIT_ASSERT(!peerWantsLease(l, hba, Role::Secondary));
        l.uid = std::string("\x01\x00\x0c\xaa\x00\x00\x03", 7);  // bucket 105: primary's
        CPPUNIT_ASSERT(!peerWantsLease(l, hba, Role::Primary));
        CPPUNIT_ASSERT(peerWantsLease(l, hba, Role::Secondary));
        LeaseRecord none;
        CPPUNIT_ASSERT(!peerWantsLease(none, hba, Role::Primary));
    }

    // Every DISCOVER of 02-client-leases was offered by exactly the server the test says is its own.
    void testEveryCapturedDiscoverGoesToTheServerThatOffered() {
        std::string path = tandem::testdata::capturePath("02-client-leases.txt");
        if (path.empty()) TANDEM_SKIP("shared/captures/02-client-leases.txt not found");
        std::string text = tandem::testdata::readFile(path);

        std::map<uint32_t, Packet4> discovers;
        std::map<uint32_t, std::string> offeredBy;
        std::istringstream in(text);
        std::string line, src, kind, rest;
        Packet4 cur;
        bool inDhcp = false, inClientId = false;
        std::vector<uint8_t> clientId;
        auto flush = [&] {
            if (!inDhcp) return;
            if (!clientId.empty()) cur.set(61, clientId);
            if (kind == "Discover") discovers[cur.xid] = cur;
            if (kind == "Offer") offeredBy[cur.xid] = src;
            inDhcp = false;
        };
        while (std::getline(in, line)) {
            if (line.rfind("Frame ", 0) == 0) {
                flush();
                inClientId = false;
                continue;
            }
            if (after(line, "Internet Protocol Version 4, Src: ", rest)) src = rest.substr(0, rest.find(','));
            if (after(line, "Dynamic Host Configuration Protocol (", rest)) {
                inDhcp = true;
                kind = rest.substr(0, rest.find(')'));
                cur = Packet4{};
                clientId.clear();
                continue;
            }
            if (!inDhcp) continue;
            if (after(line, "    Transaction ID: 0x", rest))
                cur.xid = uint32_t(std::stoul(rest, nullptr, 16));
            else if (after(line, "    Seconds elapsed: ", rest))
                cur.secs = uint16_t(std::stoi(rest));
            else if (after(line, "    Hardware address length: ", rest))
                cur.hlen = uint8_t(std::stoi(rest));
            else if (after(line, "    Client MAC address: ", rest)) {
                auto mac = hex(parenthesised(rest));
                std::copy(mac.begin(), mac.end(), cur.chaddr.begin());
            } else if (after(line, "    Option: (", rest)) {
                inClientId = rest.rfind("61)", 0) == 0;
            } else if (inClientId) {
                if (after(line, "        Hardware type: ", rest))
                    clientId.push_back(hex(parenthesised(rest).substr(2))[0]);
                else if (after(line, "        Client MAC address: ", rest)) {
                    auto mac = hex(parenthesised(rest));
                    clientId.insert(clientId.end(), mac.begin(), mac.end());
                } else if (after(line, "        Client Identifier: ", rest)) {
                    auto raw = hex(rest);
                    clientId.insert(clientId.end(), raw.begin(), raw.end());
                }
            }
        }
        flush();

        // The two servers' addresses, from the captured configurations.
        std::string primary = "10.77.0.1", secondary = "10.77.0.2";
        CPPUNIT_ASSERT_EQUAL(std::size_t(8), discovers.size());
        int withClientId = 0;
        for (const auto& [xid, p] : discovers) {
            CPPUNIT_ASSERT_MESSAGE("no offer for a discover", offeredBy.count(xid));
            if (p.find(61)) ++withClientId;
            bool primaryMine = loadBalanceMine(p, params(Role::Primary)).mine;
            bool secondaryMine = loadBalanceMine(p, params(Role::Secondary)).mine;
            CPPUNIT_ASSERT(primaryMine != secondaryMine);
            CPPUNIT_ASSERT_EQUAL_MESSAGE("xid " + std::to_string(xid), primaryMine ? primary : secondary,
                                         offeredBy[xid]);
        }
        CPPUNIT_ASSERT_EQUAL(5, withClientId);  // the perfdhcp clients send option 61
    }

    // Each "DHCPDISCOVER ... [load balance to peer]" line of both logs (phases 02, 03) is predicted.
    void testEveryLoggedDiscoverDecision() {
        int checked = 0, toPeer = 0;
        for (const char* file : {"capture-A-dhcpd.log", "capture-B-dhcpd.log"}) {
            std::string path = tandem::testdata::capturePath(file);
            if (path.empty()) TANDEM_SKIP(std::string("shared/captures/") + file + " not found");
            Role role = std::string(file).find("-A-") != std::string::npos ? Role::Primary : Role::Secondary;
            std::istringstream in(tandem::testdata::readFile(path));
            for (std::string line; std::getline(in, line);) {
                std::string rest;
                auto at = line.find("DHCPDISCOVER from ");
                if (at == std::string::npos) continue;
                after(line.substr(at), "DHCPDISCOVER from ", rest);
                std::string macText = rest.substr(0, rest.find(' '));
                std::string via = rest.substr(rest.find(" via ") + 5);
                std::string relay = via.substr(0, via.find_first_of(": "));
                std::vector<uint8_t> mac = hex(macText);
                // dhclient (on eth0) sends no option 61; perfdhcp (relayed by
                // 10.77.0.100) sends 01 + MAC, as the 02 capture shows.
                std::vector<uint8_t> id = mac;
                id.insert(id.begin(), 1);
                Packet4 p = discover(mac, relay == "eth0" ? nullptr : &id);
                bool logsToPeer = line.find(": load balance to peer") != std::string::npos;
                CPPUNIT_ASSERT_EQUAL_MESSAGE(line, !logsToPeer, loadBalanceMine(p, params(role)).mine);
                ++checked;
                toPeer += logsToPeer;
            }
        }
        CPPUNIT_ASSERT_EQUAL(156, checked);
        CPPUNIT_ASSERT_EQUAL(78, toPeer);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LoadBalanceTest);
