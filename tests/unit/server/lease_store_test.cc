// Tests of server/lease_store: queues, indices and the expiry index stay in step with the records.
#include <cppunit/extensions/HelperMacros.h>

#include "common/diag.h"
#include "common/ipv4.h"
#include "conf/config_builder.h"
#include "server/lease_store.h"

using namespace tandem;
using common::BindingState;
using server::Lease;
using server::LeaseQueue;

namespace {
uint32_t ip(const char* s) { return *common::parseIpv4(s); }

conf::ConfigPtr load(const std::string& text) {
    common::DiagnosticSink diags;
    auto c = conf::loadConfigText(text, "t.conf", diags);
    CPPUNIT_ASSERT_EQUAL(std::size_t(0), diags.errorCount());
    return c;
}

// Two pools that differ in a permit: ISC keeps them apart (see testPlainPoolsMerge).
const char* kTwoPools = R"(
subnet 192.0.2.0 netmask 255.255.255.0 {
  pool { range 192.0.2.10 192.0.2.19; }
  pool { deny dynamic bootp clients; range 192.0.2.30 192.0.2.31; }
}
)";
}  // namespace

class LeaseStoreTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(LeaseStoreTest);
    CPPUNIT_TEST(testBuildCreatesFreeLeasePerAddress);
    CPPUNIT_TEST(testFindOutsideRangesIsNull);
    CPPUNIT_TEST(testModifyRefilesQueuesAndCounts);
    CPPUNIT_TEST(testIndicesFollowIdentity);
    CPPUNIT_TEST(testKeysKeptOrMovedOnRefile);
    CPPUNIT_TEST(testExpiryIndexOrdersByEnds);
    CPPUNIT_TEST(testHoldAndLapse);
    CPPUNIT_TEST(testOverlappingRangesKeptOnce);
    CPPUNIT_TEST(testFreeListIsFifo);
    CPPUNIT_TEST(testPlainPoolsMerge);
    CPPUNIT_TEST_SUITE_END();

public:
    // Every range address gets a free lease on its pool's free queue.
    void testBuildCreatesFreeLeasePerAddress() {
        auto c = load(kTwoPools);
        server::LeaseStore s;
        s.build(*c);
        CPPUNIT_ASSERT_EQUAL(std::size_t(12), s.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), s.pools().size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(10), s.pools()[0]->free.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(10), s.pools()[0]->count(BindingState::Free));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), s.pools()[1]->size);
        CPPUNIT_ASSERT_EQUAL(ip("192.0.2.31"), s.find(ip("192.0.2.31"))->address);
    }

    // Addresses outside every range have no lease.
    void testFindOutsideRangesIsNull() {
        auto c = load(kTwoPools);
        server::LeaseStore s;
        s.build(*c);
        CPPUNIT_ASSERT(!s.find(ip("192.0.2.9")));
        CPPUNIT_ASSERT(!s.find(ip("192.0.2.20")));
        CPPUNIT_ASSERT(!s.find(ip("192.0.2.32")));
        CPPUNIT_ASSERT(!s.find(0));
    }

    // Changing a state moves the lease between queues and counts.
    void testModifyRefilesQueuesAndCounts() {
        auto c = load(kTwoPools);
        server::LeaseStore s;
        s.build(*c);
        Lease* l = s.find(ip("192.0.2.10"));
        s.modify(*l, [](common::LeaseRecord& r) { r.state = BindingState::Abandoned; });
        auto& p = *s.pools()[0];
        CPPUNIT_ASSERT_EQUAL(std::size_t(9), p.free.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), p.abandoned.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), p.count(BindingState::Abandoned));
        CPPUNIT_ASSERT(l->queue == LeaseQueue::Abandoned);
        s.modify(*l, [](common::LeaseRecord& r) { r.state = BindingState::Backup; });
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), p.backup.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), p.abandoned.size());
    }

    // Leases are found by uid and hardware address, and no longer when those change.
    void testIndicesFollowIdentity() {
        auto c = load(kTwoPools);
        server::LeaseStore s;
        s.build(*c);
        Lease* l = s.find(ip("192.0.2.11"));
        common::HwAddr hw;
        hw.htype = 1;
        hw.len = 6;
        hw.bytes[5] = 7;
        s.modify(*l, [&](common::LeaseRecord& r) {
            r.uid = std::string("\x01\x00\x00\x00\x00\x00\x07", 7);
            r.hw = hw;
        });
        std::vector<Lease*> out;
        s.findByUid(l->uid, out);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), out.size());
        s.findByHw(hw, out);
        CPPUNIT_ASSERT(out.size() == 1 && out[0] == l);
        s.modify(*l, [&](common::LeaseRecord& r) { r.hw = {}; });
        s.findByHw(hw, out);
        CPPUNIT_ASSERT(out.empty());
    }

    // Changes that keep a lease's keys leave its index entries as they are;
    // changes of a key move them (modify and assign alike), never duplicate.
    void testKeysKeptOrMovedOnRefile() {
        auto c = load(kTwoPools);
        server::LeaseStore s;
        s.build(*c);
        Lease* l = s.find(ip("192.0.2.11"));
        common::HwAddr hw;
        hw.htype = 1;
        hw.len = 6;
        hw.bytes[5] = 9;
        const std::string a("\x01\x00\x00\x00\x00\x00\x09", 7), b("\x01\x00\x00\x00\x00\x00\x0a", 7);
        s.modify(*l, [&](common::LeaseRecord& r) {
            r.uid = a;
            r.hw = hw;
        });
        std::vector<Lease*> out;
        s.modify(*l, [&](common::LeaseRecord& r) { r.state = BindingState::Active; });
        s.hold(*l, 0);
        s.findByUid(a, out);
        CPPUNIT_ASSERT(out.size() == 1 && out[0] == l);
        s.findByHw(hw, out);
        CPPUNIT_ASSERT(out.size() == 1 && out[0] == l);

        s.modify(*l, [&](common::LeaseRecord& r) { r.uid = b; });
        s.findByUid(a, out);
        CPPUNIT_ASSERT(out.empty());
        s.findByUid(b, out);
        CPPUNIT_ASSERT(out.size() == 1 && out[0] == l);
        s.findByHw(hw, out);
        CPPUNIT_ASSERT(out.size() == 1 && out[0] == l);

        common::LeaseRecord same = *l;
        same.ends = 1234;
        s.assign(*l, same);
        s.findByUid(b, out);
        CPPUNIT_ASSERT(out.size() == 1 && out[0] == l);
        common::LeaseRecord other = *l;
        other.uid = a;
        other.hw = {};
        s.assign(*l, other);
        s.findByUid(b, out);
        CPPUNIT_ASSERT(out.empty());
        s.findByUid(a, out);
        CPPUNIT_ASSERT(out.size() == 1 && out[0] == l);
        s.findByHw(hw, out);
        CPPUNIT_ASSERT(out.empty());
    }

    // Active leases are due in order of their ends.
    void testExpiryIndexOrdersByEnds() {
        auto c = load(kTwoPools);
        server::LeaseStore s;
        s.build(*c);
        CPPUNIT_ASSERT_EQUAL(common::kNever, s.nextExpiry());
        s.modify(*s.find(ip("192.0.2.12")), [](common::LeaseRecord& r) { r.state = BindingState::Active; r.ends = 300; });
        s.modify(*s.find(ip("192.0.2.13")), [](common::LeaseRecord& r) { r.state = BindingState::Active; r.ends = 200; });
        CPPUNIT_ASSERT_EQUAL(common::Time(200), s.nextExpiry());
        std::vector<Lease*> due;
        s.dueForExpiry(250, due);
        CPPUNIT_ASSERT(due.size() == 1 && due[0]->address == ip("192.0.2.13"));
        s.modify(*due[0], [](common::LeaseRecord& r) { r.state = BindingState::Free; });
        CPPUNIT_ASSERT_EQUAL(common::Time(300), s.nextExpiry());
    }

    // A held lease leaves the free queue until its hold lapses.
    void testHoldAndLapse() {
        auto c = load(kTwoPools);
        server::LeaseStore s;
        s.build(*c);
        Lease* l = s.find(ip("192.0.2.30"));
        s.hold(*l, 100);
        CPPUNIT_ASSERT(l->queue == LeaseQueue::Offered);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), s.pools()[1]->free.size());
        s.releaseLapsedOffers(99);
        CPPUNIT_ASSERT(l->queue == LeaseQueue::Offered);
        s.releaseLapsedOffers(100);
        CPPUNIT_ASSERT(l->queue == LeaseQueue::Free);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), s.pools()[1]->free.size());
    }

    // An address in two ranges belongs to the first, and the overlap is reported.
    void testOverlappingRangesKeptOnce() {
        auto c = load(R"(
subnet 192.0.2.0 netmask 255.255.255.0 {
  pool { range 192.0.2.10 192.0.2.20; }
  pool { allow all clients; range 192.0.2.15 192.0.2.25; }
}
)");
        server::LeaseStore s;
        std::vector<std::string> warnings;
        s.build(*c, &warnings);
        CPPUNIT_ASSERT_EQUAL(std::size_t(16), s.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), warnings.size());
        CPPUNIT_ASSERT(s.find(ip("192.0.2.15"))->pool == s.pools()[0].get());
        CPPUNIT_ASSERT(s.find(ip("192.0.2.21"))->pool == s.pools()[1].get());
    }

    // A lease that becomes free goes to the back: the front is the least recently used.
    void testFreeListIsFifo() {
        auto c = load(kTwoPools);
        server::LeaseStore s;
        s.build(*c);
        auto& p = *s.pools()[1];
        Lease* first = p.free.front();
        s.modify(*first, [](common::LeaseRecord& r) { r.state = BindingState::Active; });
        s.modify(*first, [](common::LeaseRecord& r) { r.state = BindingState::Free; });
        CPPUNIT_ASSERT(p.free.front() != first);
        CPPUNIT_ASSERT_EQUAL(ip("192.0.2.31"), p.free.front()->address);
    }

    // Pools that set nothing of their own and share permits and peer are one pool, as in ISC.
    void testPlainPoolsMerge() {
        auto c = load(R"(
subnet 192.0.2.0 netmask 255.255.255.0 {
  pool { range 192.0.2.10 192.0.2.42; }
  pool { range 192.0.2.50 192.0.2.66; }
  pool { option routers 192.0.2.1; range 192.0.2.70 192.0.2.71; }
}
)");
        server::LeaseStore s;
        s.build(*c);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), s.pools().size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(50), s.pools()[0]->size);
        CPPUNIT_ASSERT(s.find(ip("192.0.2.66"))->pool == s.pools()[0].get());
        CPPUNIT_ASSERT(s.find(ip("192.0.2.70"))->pool == s.pools()[1].get());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LeaseStoreTest);
