// Pool rebalancing (ISC 4.4 dobalance and pool_check), with the numbers and log
// lines the captured ISC servers produced.
#include <cppunit/extensions/HelperMacros.h>

#include "failover/pool_balance.h"

using namespace tandem::failover;
using tandem::common::Time;

namespace {

constexpr Time kNow = 1795340991;

// A queue of `n` leases starting at 10.77.1.10: never used unless `ends` is given.
std::vector<QueuedLease> queue(int n, Time ends = 0, std::optional<uint8_t> hash = std::nullopt) {
    std::vector<QueuedLease> q;
    for (int i = 0; i < n; ++i) q.push_back({0x0a4d010a + uint32_t(i), ends, hash});
    return q;
}

PoolSnapshot pool(uint64_t id, int free, int backup, std::vector<QueuedLease> q, int total = 100) {
    PoolSnapshot p;
    p.name = "10.77.0.0/16";
    p.id = id;
    p.leaseCount = total;
    p.freeLeases = free;
    p.backupLeases = backup;
    p.ownQueue = std::move(q);
    return p;
}

const std::optional<Hba> kSplit128 = hbaFromSplit(128);
constexpr uint8_t kPrimaryBucket = 5;      // < 128: the primary's
constexpr uint8_t kSecondaryBucket = 200;  // >= 128: the secondary's

}  // namespace

class PoolBalanceTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PoolBalanceTest);
    CPPUNIT_TEST(testPrimaryGivesHalfOfHundredOnEnteringNormal);
    CPPUNIT_TEST(testPrimaryGivesHalfOfTen);
    CPPUNIT_TEST(testSecondaryWithEmptyBackupGivesNothing);
    CPPUNIT_TEST(testSecondaryTimerRunWithinHold);
    CPPUNIT_TEST(testPrimaryRestartEvensSixteenAndEight);
    CPPUNIT_TEST(testMacAffinityPassOnPartnerDownReturn);
    CPPUNIT_TEST(testPassOneStopsAtMinusHold);
    CPPUNIT_TEST(testUsedLeasesStopAtHold);
    CPPUNIT_TEST(testImbalancedIsReported);
    CPPUNIT_TEST(testPoolReqOnlyOnTimerAndBeyondTwiceThreshold);
    CPPUNIT_TEST(testSecondaryNotHoarding);
    CPPUNIT_TEST(testScheduleAfterSecondaryEntersNormal);
    CPPUNIT_TEST(testScheduleCapsAtMaxBalance);
    CPPUNIT_TEST(testScheduleUsesOldestLeaseAges);
    CPPUNIT_TEST(testScheduleOnlyMovesEarlier);
    CPPUNIT_TEST(testNegativePoolResponseLog);
    CPPUNIT_TEST_SUITE_END();

public:
    // Capture phase 01, primary: 100 never-used FREE leases, 50 go to BACKUP; ISC's two log lines.
    void testPrimaryGivesHalfOfHundredOnEnteringNormal() {
        auto r = balancePool(pool(0x564156ebebc0, 100, 0, queue(100)), Role::Primary, kSplit128, {}, false);
        CPPUNIT_ASSERT_EQUAL(std::size_t(50), r.give.size());
        CPPUNIT_ASSERT_EQUAL(0x0a4d010au, r.give.front());  // oldest first
        CPPUNIT_ASSERT_EQUAL(0x0a4d010au + 49, r.give.back());
        CPPUNIT_ASSERT_EQUAL(std::string("balancing pool 564156ebebc0 10.77.0.0/16  total 100  free 100  backup 0  "
                                         "lts 50  max-own (+/-)10"),
                             r.logBalancing);
        CPPUNIT_ASSERT_EQUAL(std::string("balanced pool 564156ebebc0 10.77.0.0/16  total 100  free 50  backup 50  "
                                         "lts 0  max-misbal 15"),
                             r.logResult);
        CPPUNIT_ASSERT(!r.imbalanced);
        CPPUNIT_ASSERT(!r.sendPoolReq);
    }

    // The reference's 10-address pool: 5 BNDUPD(BACKUP) right after normal.
    void testPrimaryGivesHalfOfTen() {
        auto r = balancePool(pool(1, 10, 0, queue(10), 10), Role::Primary, kSplit128, {}, false);
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), r.give.size());
        CPPUNIT_ASSERT_EQUAL(5, r.freeAfter);
        CPPUNIT_ASSERT_EQUAL(5, r.backupAfter);
        CPPUNIT_ASSERT_EQUAL(1, r.hold);    // (10*10+50)/100
        CPPUNIT_ASSERT_EQUAL(2, r.thresh);  // (10*15+50)/100
    }

    // Capture phase 01, secondary: lts -50, nothing of its own to give, not IMBALANCED.
    void testSecondaryWithEmptyBackupGivesNothing() {
        auto r = balancePool(pool(0x55ce1ed65b10, 100, 0, {}), Role::Secondary, kSplit128, {}, false);
        CPPUNIT_ASSERT(r.give.empty());
        CPPUNIT_ASSERT_EQUAL(std::string("balancing pool 55ce1ed65b10 10.77.0.0/16  total 100  free 100  backup 0  "
                                         "lts -50  max-own (+/-)10"),
                             r.logBalancing);
        CPPUNIT_ASSERT_EQUAL(std::string("balanced pool 55ce1ed65b10 10.77.0.0/16  total 100  free 100  backup 0  "
                                         "lts -50  max-misbal 15"),
                             r.logResult);
        CPPUNIT_ASSERT(!r.sendPoolReq);  // entry into normal never asks
    }

    // Capture phase 03, secondary's timer run: free 16 backup 8 is within hold, nothing moves.
    void testSecondaryTimerRunWithinHold() {
        auto r = balancePool(pool(0x55ce1ed65b10, 16, 8, queue(8, kNow - 100, kPrimaryBucket)), Role::Secondary,
                             kSplit128, {}, true);
        CPPUNIT_ASSERT(r.give.empty());
        CPPUNIT_ASSERT_EQUAL(std::string("balancing pool 55ce1ed65b10 10.77.0.0/16  total 100  free 16  backup 8  "
                                         "lts -4  max-own (+/-)2"),
                             r.logBalancing);
        CPPUNIT_ASSERT_EQUAL(std::string("balanced pool 55ce1ed65b10 10.77.0.0/16  total 100  free 16  backup 8  "
                                         "lts -4  max-misbal 4"),
                             r.logResult);
        CPPUNIT_ASSERT(!r.sendPoolReq);  // -4 is not below -2 * 4
    }

    // Capture phase 05, restarted primary: free 16 backup 8 becomes 12/12 (lts 4 -> 0).
    void testPrimaryRestartEvensSixteenAndEight() {
        auto r = balancePool(pool(0x561093d30bc0, 16, 8, queue(16)), Role::Primary, kSplit128, {}, false);
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), r.give.size());
        CPPUNIT_ASSERT_EQUAL(std::string("balancing pool 561093d30bc0 10.77.0.0/16  total 100  free 16  backup 8  "
                                         "lts 4  max-own (+/-)2"),
                             r.logBalancing);
        CPPUNIT_ASSERT_EQUAL(std::string("balanced pool 561093d30bc0 10.77.0.0/16  total 100  free 12  backup 12  "
                                         "lts 0  max-misbal 4"),
                             r.logResult);
    }

    // mclt60 phase 06: partner-down -> normal; each side hands over only what the peer's bucket holds.
    void testMacAffinityPassOnPartnerDownReturn() {
        // Primary, free 47 backup 53 (lts -3): one lease whose client the secondary serves.
        auto q = queue(47, kNow - 30, kPrimaryBucket);
        q[20].clientHash = kSecondaryBucket;
        auto r = balancePool(pool(0x556bbcd15bc0, 47, 53, q), Role::Primary, kSplit128, {}, false);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), r.give.size());
        CPPUNIT_ASSERT_EQUAL(q[20].address, r.give[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("balanced pool 556bbcd15bc0 10.77.0.0/16  total 100  free 46  backup 54  "
                                         "lts -4  max-misbal 15"),
                             r.logResult);
        // Secondary, free 47 backup 53 (lts 3): three leases the primary serves, the rest its own.
        auto qs = queue(53, kNow - 30, kSecondaryBucket);
        qs[1].clientHash = qs[7].clientHash = qs[40].clientHash = kPrimaryBucket;
        auto s = balancePool(pool(0x563f648e2b10, 47, 53, qs), Role::Secondary, kSplit128, {}, false);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), s.give.size());
        CPPUNIT_ASSERT_EQUAL(std::string("balancing pool 563f648e2b10 10.77.0.0/16  total 100  free 47  backup 53  "
                                         "lts 3  max-own (+/-)10"),
                             s.logBalancing);
        CPPUNIT_ASSERT_EQUAL(std::string("balanced pool 563f648e2b10 10.77.0.0/16  total 100  free 50  backup 50  "
                                         "lts 0  max-misbal 15"),
                             s.logResult);
    }

    // Pass 1 lets the peer run ahead only up to hold: it stops once lts reaches -hold.
    void testPassOneStopsAtMinusHold() {
        // free 12 backup 8: lts 2, total 20, hold 2. All 12 leases are wanted by the peer.
        auto r = balancePool(pool(1, 12, 8, queue(12, kNow - 10, kSecondaryBucket), 20), Role::Primary, kSplit128,
                             {}, false);
        CPPUNIT_ASSERT_EQUAL(2, r.hold);
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), r.give.size());  // 2 -> -2
        CPPUNIT_ASSERT_EQUAL(-2, r.lts);
        // Without a bitmap pass 1 gives nothing; pass 2 stops at hold for used leases.
        auto n = balancePool(pool(1, 12, 8, queue(12, kNow - 10, kSecondaryBucket), 20), Role::Primary, std::nullopt,
                             {}, false);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), n.give.size());  // lts 2 <= hold 2 already
    }

    // Pass 2: used leases go only while lts > hold, never-used ones while lts > 0.
    void testUsedLeasesStopAtHold() {
        // free 60 backup 0: lts 30, hold 6.
        auto used = balancePool(pool(1, 60, 0, queue(60, kNow - 10), 60), Role::Primary, kSplit128, {}, false);
        CPPUNIT_ASSERT_EQUAL(6, used.hold);
        CPPUNIT_ASSERT_EQUAL(std::size_t(24), used.give.size());
        CPPUNIT_ASSERT_EQUAL(6, used.lts);
        // Oldest used leases first, then a never-used one: the walk stops at the first
        // used lease once lts <= hold, whatever follows.
        auto q = queue(30, kNow - 10);
        auto mixed = q;
        mixed.insert(mixed.begin() + 28, QueuedLease{0x0a4d0200, 0, std::nullopt});
        auto r = balancePool(pool(1, 31, 0, mixed, 31), Role::Primary, kSplit128, {}, false);
        CPPUNIT_ASSERT_EQUAL(3, r.hold);       // (31*10+50)/100
        CPPUNIT_ASSERT_EQUAL(15, r.ltsBefore);  // 31/2
        CPPUNIT_ASSERT_EQUAL(std::size_t(12), r.give.size());
        CPPUNIT_ASSERT_EQUAL(3, r.lts);
    }

    // lts above max-misbal after giving is IMBALANCED (ISC logs it as an error).
    void testImbalancedIsReported() {
        BalanceParams p;
        p.maxLeaseMisbalance = 5;
        p.maxLeaseOwnership = 10;
        auto r = balancePool(pool(0xab, 100, 0, queue(100, kNow - 10)), Role::Primary, kSplit128, p, false);
        CPPUNIT_ASSERT_EQUAL(10, r.lts);  // stopped at hold
        CPPUNIT_ASSERT(r.imbalanced);
        CPPUNIT_ASSERT_EQUAL(std::string("IMBALANCED pool ab 10.77.0.0/16  total 100  free 60  backup 40  lts 10  "
                                         "max-misbal 5"),
                             r.logResult);
    }

    // POOLREQ when lts < -2*thresh (-1 when thresh is 0), and only on a timer run.
    void testPoolReqOnlyOnTimerAndBeyondTwiceThreshold() {
        auto timer = balancePool(pool(0x55, 100, 0, {}), Role::Secondary, kSplit128, {}, true);
        CPPUNIT_ASSERT(timer.sendPoolReq);  // -50 < -30
        CPPUNIT_ASSERT_EQUAL(std::string("balancing pool 55 10.77.0.0/16  total 100  free 100  backup 0  lts -50  "
                                         "max-own (+/-)10  (requesting peer rebalance!)"),
                             timer.logBalancing);
        CPPUNIT_ASSERT(!balancePool(pool(0x55, 100, 0, {}), Role::Secondary, kSplit128, {}, false).sendPoolReq);
        // At exactly -2*thresh: no request.
        CPPUNIT_ASSERT(!balancePool(pool(1, 20, 80, {}), Role::Primary, kSplit128, {}, true).sendPoolReq);  // lts -30, thresh 15
        CPPUNIT_ASSERT(balancePool(pool(1, 18, 82, {}), Role::Primary, kSplit128, {}, true).sendPoolReq);   // lts -32
        BalanceParams zero;
        zero.maxLeaseMisbalance = 0;
        CPPUNIT_ASSERT(!balancePool(pool(1, 0, 2, {}, 2), Role::Primary, kSplit128, zero, true).sendPoolReq);  // lts -1
        CPPUNIT_ASSERT(balancePool(pool(1, 0, 4, {}, 4), Role::Primary, kSplit128, zero, true).sendPoolReq);   // lts -2
    }

    // MAC affinity may send one more lease only while the secondary holds less than hold% extra.
    void testSecondaryNotHoarding() {
        CPPUNIT_ASSERT(secondaryNotHoarding(50, 50, 10));
        CPPUNIT_ASSERT(secondaryNotHoarding(40, 58, 10));   // lts -9 > -10
        CPPUNIT_ASSERT(!secondaryNotHoarding(30, 70, 10));  // lts -20
        CPPUNIT_ASSERT(!secondaryNotHoarding(0, 0, 10));    // 0 > -0 is false, as in ISC
    }

    // Capture phase 01/03: the secondary rebalanced at 1795341052 = entry + min-balance 60 + jitter 1.
    void testScheduleAfterSecondaryEntersNormal() {
        ScheduleInput in;
        in.role = Role::Secondary;
        in.now = kNow;
        in.oldestFreeEnds = 0;  // never-used FREE leases; no BACKUP yet
        in.lastBalance = kNow;
        in.jitter = 1;
        CPPUNIT_ASSERT_EQUAL(Time(1795341052), *nextRebalance(in, {}));
    }

    // Never-used leases on both lists look infinitely old: the wait is capped at max-balance.
    void testScheduleCapsAtMaxBalance() {
        ScheduleInput in;
        in.role = Role::Primary;
        in.now = kNow;
        in.oldestFreeEnds = 0;
        in.oldestBackupEnds = 0;
        in.lastBalance = kNow;
        in.jitter = 4;
        CPPUNIT_ASSERT_EQUAL(kNow + 3600 + 4, *nextRebalance(in, {}));
        BalanceParams p;
        p.maxBalance = 100;
        CPPUNIT_ASSERT_EQUAL(kNow + 100 + 4, *nextRebalance(in, p));
    }

    // est = age * misbalance%, doubled on our own side, the smaller one wins; min-balance is a floor.
    void testScheduleUsesOldestLeaseAges() {
        ScheduleInput in;
        in.role = Role::Primary;
        in.now = kNow;
        in.oldestFreeEnds = kNow - 1000;   // 150, doubled (own side): 300
        in.oldestBackupEnds = kNow - 400;  // 60
        CPPUNIT_ASSERT_EQUAL(kNow + 60, *nextRebalance(in, {}));
        in.role = Role::Secondary;  // now the BACKUP side is doubled: 120 vs 150
        CPPUNIT_ASSERT_EQUAL(kNow + 120, *nextRebalance(in, {}));
        in.lastBalance = kNow - 10;  // floor: last + 60 = now + 50 < now + 120: no effect
        CPPUNIT_ASSERT_EQUAL(kNow + 120, *nextRebalance(in, {}));
        in.oldestFreeEnds = kNow + 500;  // not yet expired: age 0
        in.lastBalance = kNow;
        CPPUNIT_ASSERT_EQUAL(kNow + 60, *nextRebalance(in, {}));  // raised to the floor
        in.oldestFreeEnds.reset();
        in.oldestBackupEnds.reset();
        in.lastBalance = 0;
        CPPUNIT_ASSERT_EQUAL(kNow, *nextRebalance(in, {}));  // no floor without a last balance
    }

    // An armed rebalance is only ever moved earlier, never later or to the same time.
    void testScheduleOnlyMovesEarlier() {
        ScheduleInput in;
        in.role = Role::Primary;
        in.now = kNow;
        in.oldestFreeEnds = kNow - 1000;
        in.oldestBackupEnds = kNow - 400;  // -> now + 60
        in.scheduled = kNow + 60;
        CPPUNIT_ASSERT(!nextRebalance(in, {}));
        in.scheduled = kNow + 30;
        CPPUNIT_ASSERT(!nextRebalance(in, {}));
        in.scheduled = kNow + 61;
        CPPUNIT_ASSERT_EQUAL(kNow + 60, *nextRebalance(in, {}));
    }

    // A POOLREQ that moved nothing is logged in ISC's words.
    void testNegativePoolResponseLog() {
        CPPUNIT_ASSERT_EQUAL(std::string("peer dhcp-failover: Got POOLREQ, answering negatively!  Peer may be out of "
                                         "leases or database inconsistent."),
                             poolReqNegativeLog("dhcp-failover"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PoolBalanceTest);
