// Binding-update rules: both acceptance tables cell by cell, crossing updates,
// the required-option checks, the field update, BNDACK handling, the BNDUPD we
// build (byte-exact against ISC's captured messages), the MCLT rule and which
// leases may be allocated.
#include <cppunit/extensions/HelperMacros.h>

#include "common/ipv4.h"
#include "failover/binding_rules.h"

using namespace tandem::failover;
using tandem::common::BindingState;
using tandem::common::LeaseRecord;
using tandem::common::Time;
using B = BindingState;

namespace {

constexpr Time kNow = 1795340997;
const B kAll[] = {B::Free, B::Active, B::Expired, B::Released, B::Abandoned, B::Reset, B::Backup};

std::string name(B s) { return std::string(tandem::common::toString(s)); }

std::vector<uint8_t> hex(const std::string& s) {
    std::vector<uint8_t> v;
    std::string d;
    for (char c : s)
        if (std::isxdigit(static_cast<unsigned char>(c))) d += c;
    for (std::size_t i = 0; i + 1 < d.size(); i += 2) v.push_back(uint8_t(std::stoi(d.substr(i, 2), nullptr, 16)));
    return v;
}

LeaseRecord lease(const char* ip, B state) {
    LeaseRecord l;
    l.address = *tandem::common::parseIpv4(ip);
    l.state = l.next = l.rewind = state;
    return l;
}

void setMac(LeaseRecord& l, const std::string& mac) {
    auto b = hex(mac);
    l.hw.htype = 1;
    l.hw.len = uint8_t(b.size());
    std::copy(b.begin(), b.end(), l.hw.bytes.begin());
}

Message bndupd(const char* ip, B state) {
    Message m;
    m.type = MessageType::FTM_BNDUPD;
    m.xid = 7;
    m.assignedIpAddress = *tandem::common::parseIpv4(ip);
    m.bindingStatus = uint8_t(state);
    if (state == B::Active || state == B::Expired || state == B::Released) m.chaddr = hex("01 00 0c aa 00 00 00");
    return m;
}

BndupdContext context(const LeaseRecord& l, Role role = Role::Primary, FailoverState me = FailoverState::Normal) {
    BndupdContext c;
    c.role = role;
    c.me = me;
    c.now = kNow;
    c.lease = &l;
    return c;
}

// The reference's normal-state table, one string per row (ours), one word per
// column (theirs) in the order of kAll: ok, no, tsfp (ok once tsfp <= now),
// ends (ok once ends - 65 <= now).
const char* const kNormalPrimary[7][7] = {
    /* free      */ {"ok", "ok", "ok", "ok", "ok", "ok", "ok"},
    /* active    */ {"no", "ok", "no", "ok", "ok", "no", "no"},
    /* expired   */ {"tsfp", "ok", "ok", "ok", "ok", "ok", "tsfp"},
    /* released  */ {"ok", "ok", "ok", "ok", "ok", "ok", "ok"},
    /* abandoned */ {"ok", "ok", "ok", "ok", "ok", "ok", "ok"},
    /* reset     */ {"tsfp", "ok", "ok", "ok", "ok", "ok", "tsfp"},
    /* backup    */ {"ok", "ok", "ok", "ok", "ok", "ok", "ok"},
};
const char* const kNormalSecondary[7][7] = {
    /* free      */ {"ok", "ok", "ok", "ok", "ok", "ok", "ok"},
    /* active    */ {"tsfp", "ok", "ends", "ok", "ok", "ok", "tsfp"},
    /* expired   */ {"tsfp", "ok", "ok", "ok", "ok", "ok", "tsfp"},
    /* released  */ {"ok", "ok", "ok", "ok", "ok", "ok", "ok"},
    /* abandoned */ {"ok", "ok", "ok", "ok", "ok", "ok", "ok"},
    /* reset     */ {"tsfp", "ok", "ok", "ok", "ok", "ok", "tsfp"},
    /* backup    */ {"ok", "ok", "ok", "ok", "ok", "ok", "ok"},
};
// The conflict check (every state but normal): only an ACTIVE lease resists.
const char* const kConflict[7][7] = {
    /* free      */ {"ok", "ok", "ok", "ok", "ok", "ok", "ok"},
    /* active    */ {"no", "ok", "ends", "ok", "ok", "ok", "no"},
    /* expired   */ {"ok", "ok", "ok", "ok", "ok", "ok", "ok"},
    /* released  */ {"ok", "ok", "ok", "ok", "ok", "ok", "ok"},
    /* abandoned */ {"ok", "ok", "ok", "ok", "ok", "ok", "ok"},
    /* reset     */ {"ok", "ok", "ok", "ok", "ok", "ok", "ok"},
    /* backup    */ {"ok", "ok", "ok", "ok", "ok", "ok", "ok"},
};

// Checks one cell under conditions that make its rule pass and fail.
template <typename Check>
void expectCell(const std::string& where, const std::string& rule, Check allowed) {
    const Time past = kNow, future = kNow + 1;
    const Time endsOk = kNow + 65, endsNot = kNow + 66;
    if (rule == "ok") {
        CPPUNIT_ASSERT_MESSAGE(where + " ok (adverse times)", allowed(endsNot, future));
        CPPUNIT_ASSERT_MESSAGE(where + " ok", allowed(endsOk, past));
    } else if (rule == "no") {
        CPPUNIT_ASSERT_MESSAGE(where + " no", !allowed(endsOk, past));
        CPPUNIT_ASSERT_MESSAGE(where + " no (adverse times)", !allowed(endsNot, future));
    } else if (rule == "tsfp") {
        CPPUNIT_ASSERT_MESSAGE(where + " tsfp <= now", allowed(endsNot, past));
        CPPUNIT_ASSERT_MESSAGE(where + " tsfp > now", !allowed(endsOk, future));
    } else if (rule == "ends") {
        CPPUNIT_ASSERT_MESSAGE(where + " ends - 65 <= now", allowed(endsOk, future));
        CPPUNIT_ASSERT_MESSAGE(where + " ends - 65 > now", !allowed(endsNot, past));
    } else {
        CPPUNIT_FAIL("bad rule " + rule);
    }
}

}  // namespace

class BindingRulesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(BindingRulesTest);
    CPPUNIT_TEST(testNormalTableEveryCellPrimary);
    CPPUNIT_TEST(testNormalTableEveryCellSecondary);
    CPPUNIT_TEST(testConflictTableEveryCellInEveryOtherState);
    CPPUNIT_TEST(testCrossingUpdatesEveryPair);
    CPPUNIT_TEST(testRequiredOptions);
    CPPUNIT_TEST(testUnknownAndForeignAddresses);
    CPPUNIT_TEST(testCrossingRejectAndDrop);
    CPPUNIT_TEST(testChaddrRules);
    CPPUNIT_TEST(testAbandonedWithClientId);
    CPPUNIT_TEST(testReservedAndBootpFlagChecks);
    CPPUNIT_TEST(testInvalidTransitionMessage);
    CPPUNIT_TEST(testFieldUpdateOfAcceptedActive);
    CPPUNIT_TEST(testUidAbsentClearsOnlyForClientStates);
    CPPUNIT_TEST(testIdentityChangeDropsVariables);
    CPPUNIT_TEST(testAbandonedClearsHardware);
    CPPUNIT_TEST(testTransitionalStatesArriveFree);
    CPPUNIT_TEST(testPeerAckFreesTransitionalLeases);
    CPPUNIT_TEST(testPeerAckOfOtherStates);
    CPPUNIT_TEST(testBuildActiveBndupdMatchesIscBytes);
    CPPUNIT_TEST(testBuildBackupGiveawayMatchesIscBytes);
    CPPUNIT_TEST(testBuildExpiredSendsTstpAndOptionalFields);
    CPPUNIT_TEST(testReservedLeasesTravelAsPeersFreeState);
    CPPUNIT_TEST(testBndackMatchesIscBytes);
    CPPUNIT_TEST(testMcltRule);
    CPPUNIT_TEST(testInfiniteLeaseTime);
    CPPUNIT_TEST(testMayAllocate);
    CPPUNIT_TEST(testReleaseAndRewind);
    CPPUNIT_TEST(testExpiryOwnership);
    CPPUNIT_TEST(testOutOfRangeStatesAreRefused);
    CPPUNIT_TEST_SUITE_END();

public:
    // Every cell of the normal-state table as the primary receives updates from the secondary.
    void testNormalTableEveryCellPrimary() {
        for (int r = 0; r < 7; ++r)
            for (int c = 0; c < 7; ++c)
                expectCell("primary " + name(kAll[r]) + "->" + name(kAll[c]), kNormalPrimary[r][c],
                           [&](Time ends, Time tsfp) {
                               return normalTransitionAllowed(Role::Primary, kAll[r], kAll[c], ends, tsfp, kNow);
                           });
    }

    // Every cell of the normal-state table as the secondary receives updates from the primary.
    void testNormalTableEveryCellSecondary() {
        for (int r = 0; r < 7; ++r)
            for (int c = 0; c < 7; ++c)
                expectCell("secondary " + name(kAll[r]) + "->" + name(kAll[c]), kNormalSecondary[r][c],
                           [&](Time ends, Time tsfp) {
                               return normalTransitionAllowed(Role::Secondary, kAll[r], kAll[c], ends, tsfp, kNow);
                           });
    }

    // Every cell of the conflict table, and that every state but normal uses it.
    void testConflictTableEveryCellInEveryOtherState() {
        for (int code : {0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 254}) {
            auto me = static_cast<FailoverState>(code);
            for (Role role : {Role::Primary, Role::Secondary})
                for (int r = 0; r < 7; ++r)
                    for (int c = 0; c < 7; ++c)
                        expectCell(std::string(toString(me)) + " " + name(kAll[r]) + "->" + name(kAll[c]),
                                   kConflict[r][c], [&](Time ends, Time tsfp) {
                                       return transitionAllowed(me, role, kAll[r], kAll[c], ends, tsfp, kNow);
                                   });
        }
        // And normal uses the other table (ACTIVE -> RESET from the secondary is refused there).
        CPPUNIT_ASSERT(!transitionAllowed(FailoverState::Normal, Role::Primary, B::Active, B::Reset, 0, 0, kNow));
        CPPUNIT_ASSERT(transitionAllowed(FailoverState::Recover, Role::Primary, B::Active, B::Reset, 0, 0, kNow));
    }

    // ISC's crossing rule for every pair of states and both roles.
    void testCrossingUpdatesEveryPair() {
        for (Role role : {Role::Primary, Role::Secondary})
            for (B ours : kAll)
                for (B theirs : kAll) {
                    // The reference's four sentences, in order.
                    bool expected;
                    if (ours == B::Active && theirs == B::Active)
                        expected = role == Role::Primary;  // equal CLTTs here
                    else if (ours == B::Active && theirs == B::Expired)
                        expected = false;
                    else if (theirs == B::Active)
                        expected = false;
                    else
                        expected = role == Role::Primary;
                    CPPUNIT_ASSERT_EQUAL_MESSAGE(name(ours) + " vs " + name(theirs), expected,
                                                 ownUpdateWins(role, ours, 100, theirs, 100));
                }
        // ACTIVE against ACTIVE: the later CLTT wins whatever the role.
        CPPUNIT_ASSERT(ownUpdateWins(Role::Secondary, B::Active, 200, B::Active, 100));
        CPPUNIT_ASSERT(!ownUpdateWins(Role::Primary, B::Active, 100, B::Active, 200));
    }

    // Options 2 and 3 are required (reason 3).
    void testRequiredOptions() {
        LeaseRecord l = lease("10.77.1.60", B::Free);
        Message m = bndupd("10.77.1.60", B::Active);
        m.bindingStatus.reset();
        auto o = processBindUpdate(m, context(l));
        CPPUNIT_ASSERT(!o.accepted);
        CPPUNIT_ASSERT_EQUAL(3, int(o.reason));
        CPPUNIT_ASSERT_EQUAL(std::string("binding update lacks required options"), o.message);
        m = bndupd("10.77.1.60", B::Active);
        m.assignedIpAddress.reset();
        CPPUNIT_ASSERT_EQUAL(3, int(processBindUpdate(m, context(l)).reason));
    }

    // An address we do not have, or that another relationship owns, is reason 1.
    void testUnknownAndForeignAddresses() {
        BndupdContext c;
        c.now = kNow;
        auto o = processBindUpdate(bndupd("10.77.9.9", B::Active), c);
        CPPUNIT_ASSERT_EQUAL(1, int(o.reason));
        CPPUNIT_ASSERT_EQUAL(std::string("unknown IP address"), o.message);
        LeaseRecord l = lease("10.77.1.60", B::Free);
        c = context(l);
        c.ourRelationship = false;
        o = processBindUpdate(bndupd("10.77.1.60", B::Active), c);
        CPPUNIT_ASSERT_EQUAL(1, int(o.reason));
        CPPUNIT_ASSERT_EQUAL(std::string("IP address is covered by a different failover relationship state"),
                             o.message);
    }

    // Our in-flight update wins with reason 16, or is dropped when the peer's wins.
    void testCrossingRejectAndDrop() {
        LeaseRecord l = lease("10.77.1.60", B::Active);
        l.cltt = kNow;
        BndupdContext c = context(l, Role::Secondary, FailoverState::Recover);
        c.ownUpdateInFlight = true;
        c.ownUpdateState = B::Free;  // e.g. an UPDREQALL answer crossing the peer's
        Message m = bndupd("10.77.1.60", B::Free);
        auto lose = processBindUpdate(m, context(l, Role::Primary, FailoverState::Recover));
        CPPUNIT_ASSERT(!lose.accepted);  // (no crossing here: ACTIVE -> FREE is refused by the table)
        BndupdContext p = c;
        p.role = Role::Primary;
        auto o = processBindUpdate(m, p);
        CPPUNIT_ASSERT_EQUAL(16, int(o.reason));
        CPPUNIT_ASSERT_EQUAL(std::string("incoming update is less critical than outgoing update"), o.message);
        CPPUNIT_ASSERT(!o.dropOwnUpdate);
        // The secondary lets the primary's FREE win over its own FREE and drops its update.
        l.state = B::Free;
        o = processBindUpdate(m, c);
        CPPUNIT_ASSERT(o.accepted);
        CPPUNIT_ASSERT(o.dropOwnUpdate);
        // ACTIVE vs ACTIVE: a later CLTT from the peer wins even against the primary.
        l.state = B::Active;
        p.ownUpdateState = B::Active;
        Message a = bndupd("10.77.1.60", B::Active);
        a.cltt = uint32_t(kNow + 5);
        o = processBindUpdate(a, p);
        CPPUNIT_ASSERT(o.accepted);
        CPPUNIT_ASSERT(o.dropOwnUpdate);
        a.cltt = uint32_t(kNow - 5);
        CPPUNIT_ASSERT_EQUAL(16, int(processBindUpdate(a, p).reason));
    }

    // ACTIVE/EXPIRED/RELEASED need a chaddr (reason 3); ABANDONED must not have one; 17 bytes at most.
    void testChaddrRules() {
        LeaseRecord l = lease("10.77.1.60", B::Free);
        for (B s : {B::Active, B::Expired, B::Released}) {
            Message m = bndupd("10.77.1.60", s);
            m.chaddr.reset();
            auto o = processBindUpdate(m, context(l, Role::Secondary));
            CPPUNIT_ASSERT_EQUAL(3, int(o.reason));
            CPPUNIT_ASSERT_EQUAL(std::string("BNDUPD without CHADDR"), o.message);
        }
        for (B s : {B::Free, B::Backup, B::Reset}) CPPUNIT_ASSERT(processBindUpdate(bndupd("10.77.1.60", s), context(l)).accepted);
        Message ab = bndupd("10.77.1.60", B::Abandoned);
        ab.chaddr = hex("01 00 0c aa 00 00 00");
        auto o = processBindUpdate(ab, context(l));
        CPPUNIT_ASSERT_EQUAL(6, int(o.reason));
        CPPUNIT_ASSERT_EQUAL(std::string("BNDUPD to ABANDONED with a CHADDR"), o.message);
        Message big = bndupd("10.77.1.60", B::Active);
        big.chaddr = std::vector<uint8_t>(18, 1);
        o = processBindUpdate(big, context(l));
        CPPUNIT_ASSERT_EQUAL(6, int(o.reason));
        CPPUNIT_ASSERT_EQUAL(std::string("chaddr too long"), o.message);
        big.chaddr = std::vector<uint8_t>(17, 1);
        CPPUNIT_ASSERT(processBindUpdate(big, context(l)).accepted);
    }

    // ABANDONED with a client identifier is reason 6.
    void testAbandonedWithClientId() {
        LeaseRecord l = lease("10.77.1.60", B::Free);
        Message m = bndupd("10.77.1.60", B::Abandoned);
        m.clientIdentifier = hex("01 00 0c aa 00 00 00");
        auto o = processBindUpdate(m, context(l));
        CPPUNIT_ASSERT_EQUAL(6, int(o.reason));
        CPPUNIT_ASSERT_EQUAL(std::string("BNDUPD to ABANDONED with client-id"), o.message);
    }

    // RESERVED/BOOTP flags for an address we hold as our own free, unflagged lease are refused.
    void testReservedAndBootpFlagChecks() {
        LeaseRecord l = lease("10.77.1.60", B::Free);
        Message m = bndupd("10.77.1.60", B::Backup);
        m.ipFlags = kIpFlagReserved;
        auto o = processBindUpdate(m, context(l, Role::Primary));
        CPPUNIT_ASSERT_EQUAL(19, int(o.reason));
        CPPUNIT_ASSERT_EQUAL(std::string("Address is not reserved."), o.message);
        m.ipFlags = kIpFlagBootp;
        o = processBindUpdate(m, context(l, Role::Primary));
        CPPUNIT_ASSERT_EQUAL(6, int(o.reason));
        CPPUNIT_ASSERT_EQUAL(std::string("Address is not allocated to BOOTP."), o.message);
        // FREE is not the secondary's own free state: it accepts, and takes the flag.
        m.ipFlags = kIpFlagReserved;
        o = processBindUpdate(m, context(l, Role::Secondary));
        CPPUNIT_ASSERT(o.accepted);
        CPPUNIT_ASSERT(o.lease.reserved);
        // Already reserved here: fine for the primary too.
        l.reserved = true;
        CPPUNIT_ASSERT(processBindUpdate(m, context(l, Role::Primary)).accepted);
    }

    // A refused transition is reason 2 with ISC's text, address and both state names.
    void testInvalidTransitionMessage() {
        LeaseRecord l = lease("10.77.1.60", B::Active);
        auto o = processBindUpdate(bndupd("10.77.1.60", B::Free), context(l, Role::Primary));
        CPPUNIT_ASSERT(!o.accepted);
        CPPUNIT_ASSERT_EQUAL(2, int(o.reason));
        CPPUNIT_ASSERT_EQUAL(std::string("10.77.1.60: invalid state transition: active to free"), o.message);
        LeaseRecord f = lease("10.77.1.61", B::Free);
        Message bad = bndupd("10.77.1.61", B::Free);
        bad.bindingStatus = 9;
        o = processBindUpdate(bad, context(f));
        CPPUNIT_ASSERT_EQUAL(2, int(o.reason));
        CPPUNIT_ASSERT_EQUAL(std::string("10.77.1.61: invalid state transition: free to unknown"), o.message);
    }

    // The primary's 10.77.1.58 in the capture: times from the update, tstp and cltt kept, next expired.
    void testFieldUpdateOfAcceptedActive() {
        LeaseRecord l = lease("10.77.1.58", B::Backup);
        l.tstp = 1795340991;  // 09:49:51, from the pool giveaway
        l.starts = 1795340991;
        l.cltt = 1795340000;
        l.reserved = l.bootp = true;
        Message m = bndupd("10.77.1.58", B::Active);
        m.clientIdentifier = hex("01 00 0c aa 00 00 00");
        m.startTimeOfState = 1795340998;
        m.leaseExpiry = 1795344598;
        m.potentialExpiry = 1795346398;
        m.cltt = 1795340998;
        auto o = processBindUpdate(m, context(l, Role::Primary));
        CPPUNIT_ASSERT(o.accepted);
        const LeaseRecord& n = o.lease;
        CPPUNIT_ASSERT_EQUAL(Time(1795340998), n.starts);
        CPPUNIT_ASSERT_EQUAL(Time(1795344598), n.ends);
        CPPUNIT_ASSERT_EQUAL(Time(1795346398), n.tsfp);
        CPPUNIT_ASSERT_EQUAL(Time(1795346398), n.atsfp);
        CPPUNIT_ASSERT_EQUAL(Time(1795340991), n.tstp);
        CPPUNIT_ASSERT_EQUAL(Time(1795340000), n.cltt);  // CLTT is not stored
        CPPUNIT_ASSERT(n.state == B::Active);
        CPPUNIT_ASSERT(n.next == B::Expired);
        CPPUNIT_ASSERT(n.rewind == B::Active);
        CPPUNIT_ASSERT_EQUAL(std::string("00:0c:aa:00:00:00"), n.hw.str());
        CPPUNIT_ASSERT_EQUAL(1, int(n.hw.htype));
        CPPUNIT_ASSERT_EQUAL(std::string("\x01\x00\x0c\xaa\x00\x00\x00", 7), n.uid);
        CPPUNIT_ASSERT(!n.reserved && !n.bootp);  // an absent IP-flags clears both
        // Options absent: the times are left alone.
        Message bare = bndupd("10.77.1.58", B::Active);
        auto k = processBindUpdate(bare, context(n, Role::Primary));
        CPPUNIT_ASSERT(k.accepted);
        CPPUNIT_ASSERT_EQUAL(n.ends, k.lease.ends);
        CPPUNIT_ASSERT_EQUAL(n.tsfp, k.lease.tsfp);
    }

    // An absent client-identifier clears the uid, except for FREE, BACKUP and RESET.
    void testUidAbsentClearsOnlyForClientStates() {
        LeaseRecord l = lease("10.77.1.60", B::Free);
        l.uid = "abc";
        for (B s : {B::Free, B::Backup, B::Reset}) {
            auto o = processBindUpdate(bndupd("10.77.1.60", s), context(l, Role::Secondary));
            CPPUNIT_ASSERT(o.accepted);
            CPPUNIT_ASSERT_EQUAL(std::string("abc"), o.lease.uid);
        }
        auto o = processBindUpdate(bndupd("10.77.1.60", B::Active), context(l, Role::Secondary));
        CPPUNIT_ASSERT(o.lease.uid.empty());
    }

    // A new client in an ACTIVE update drops the lease's variables (and says so); the same client keeps them.
    void testIdentityChangeDropsVariables() {
        LeaseRecord l = lease("10.77.1.60", B::Active);
        setMac(l, "00 0c aa 00 00 00");
        l.uid = std::string("\x01\x00\x0c\xaa\x00\x00\x00", 7);
        l.ext().variables.push_back({"ddns-fwd-name", tandem::common::LeaseVariable::Kind::Data, "a.example", 0, false});
        Message same = bndupd("10.77.1.60", B::Active);
        same.clientIdentifier = hex("01 00 0c aa 00 00 00");
        auto o = processBindUpdate(same, context(l, Role::Secondary));
        CPPUNIT_ASSERT(o.accepted);
        CPPUNIT_ASSERT(!o.identityChanged);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), o.lease.extras->variables.size());
        Message other = same;
        other.chaddr = hex("01 00 0c aa 00 00 09");
        other.clientIdentifier = hex("01 00 0c aa 00 00 09");
        o = processBindUpdate(other, context(l, Role::Secondary));
        CPPUNIT_ASSERT(o.identityChanged);
        CPPUNIT_ASSERT(o.lease.extras->variables.empty());
    }

    // ABANDONED without chaddr clears the hardware address and the variables.
    void testAbandonedClearsHardware() {
        LeaseRecord l = lease("10.77.1.60", B::Active);
        setMac(l, "00 0c aa 00 00 00");
        l.ext().variables.push_back({"x", tandem::common::LeaseVariable::Kind::Number, "", 1, false});
        auto o = processBindUpdate(bndupd("10.77.1.60", B::Abandoned), context(l, Role::Primary));
        CPPUNIT_ASSERT(o.accepted);
        CPPUNIT_ASSERT(o.lease.hw.empty());
        CPPUNIT_ASSERT(o.lease.extras->variables.empty());
        CPPUNIT_ASSERT(o.lease.state == B::Abandoned);
    }

    // An accepted EXPIRED/RELEASED/RESET is stored as FREE; the primary flags MAC affinity.
    void testTransitionalStatesArriveFree() {
        for (B s : {B::Expired, B::Released, B::Reset}) {
            LeaseRecord l = lease("10.77.1.60", B::Active);
            l.ends = kNow - 100;
            Message m = bndupd("10.77.1.60", s);
            m.chaddr = hex("01 52 8d 3e ea fc 7e");  // bucket 195: the secondary's
            BndupdContext c = context(l, Role::Primary, FailoverState::Recover);
            c.hba = hbaFromSplit(128);
            auto o = processBindUpdate(m, c);
            CPPUNIT_ASSERT_MESSAGE(name(s), o.accepted);
            CPPUNIT_ASSERT(o.lease.state == B::Free);
            CPPUNIT_ASSERT(o.lease.rewind == B::Free);
            CPPUNIT_ASSERT(o.macAffinityCandidate);
            m.chaddr = hex("01 76 27 2c 4d c7 87");  // bucket 75: the primary's
            CPPUNIT_ASSERT(!processBindUpdate(m, c).macAffinityCandidate);
        }
    }

    // The peer's ACK turns our EXPIRED/RELEASED/RESET FREE (BACKUP if reserved on the secondary).
    void testPeerAckFreesTransitionalLeases() {
        for (B s : {B::Expired, B::Released, B::Reset}) {
            LeaseRecord l = lease("10.77.1.60", s);
            l.tstp = kNow + 100;
            auto o = applyPeerAck(l, s, Role::Primary);
            CPPUNIT_ASSERT(o.freed);
            CPPUNIT_ASSERT(o.lease.state == B::Free);
            CPPUNIT_ASSERT(o.lease.rewind == B::Free);
            CPPUNIT_ASSERT_EQUAL(kNow + 100, o.lease.tsfp);
            CPPUNIT_ASSERT_EQUAL(kNow + 100, o.lease.atsfp);
            l.reserved = true;
            CPPUNIT_ASSERT(applyPeerAck(l, s, Role::Secondary).lease.state == B::Backup);
            CPPUNIT_ASSERT(applyPeerAck(l, s, Role::Primary).lease.state == B::Free);
            CPPUNIT_ASSERT(!applyPeerAck(l, s, Role::Primary, hbaFromSplit(0)).macAffinityCandidate);  // reserved
        }
        LeaseRecord l = lease("10.77.1.60", B::Expired);
        setMac(l, "52 8d 3e ea fc 7e");
        CPPUNIT_ASSERT(applyPeerAck(l, B::Expired, Role::Primary, hbaFromSplit(128)).macAffinityCandidate);
    }

    // Other ACKs only record tsfp = atsfp = tstp (and the state the update carried).
    void testPeerAckOfOtherStates() {
        LeaseRecord l = lease("10.77.1.60", B::Active);
        l.tstp = kNow + 900;
        l.tsfp = kNow;
        auto o = applyPeerAck(l, B::Active, Role::Secondary);
        CPPUNIT_ASSERT(!o.freed);
        CPPUNIT_ASSERT(o.lease.state == B::Active);
        CPPUNIT_ASSERT_EQUAL(kNow + 900, o.lease.tsfp);
        CPPUNIT_ASSERT_EQUAL(kNow + 900, o.lease.atsfp);
        // A handover whose state differs from the lease's (ISC's desired state) takes it.
        LeaseRecord f = lease("10.77.1.61", B::Free);
        o = applyPeerAck(f, B::Backup, Role::Primary);
        CPPUNIT_ASSERT(o.lease.state == B::Backup);
        CPPUNIT_ASSERT(o.lease.next == B::Backup);
    }

    // The reference's BNDUPD ACTIVE (79 bytes), built from the lease it describes.
    void testBuildActiveBndupdMatchesIscBytes() {
        LeaseRecord l = lease("10.99.0.104", B::Active);
        setMac(l, "00 11 22 33 44 55");
        l.uid = std::string("\x01\x00\x11\x22\x33\x44\x55", 7);
        l.starts = l.cltt = 0x6b02b0f8;
        l.ends = 0x6b02b350;
        l.tstp = 0x6b02b47c;
        auto bytes = encode(buildBindUpdate(l, B::Active, Role::Secondary, 0x13, 0x6b02b0f8));
        auto want = hex(
            "00 4f 03 0c 6b 02 b0 f8 00 00 00 13"
            "00 02 00 04 0a 63 00 68  00 03 00 01 02  00 04 00 07 01 00 11 22 33 44 55"
            "00 05 00 07 01 00 11 22 33 44 55  00 0d 00 04 6b 02 b3 50  00 12 00 04 6b 02 b4 7c"
            "00 19 00 04 6b 02 b0 f8  00 06 00 04 6b 02 b0 f8");
        CPPUNIT_ASSERT_EQUAL(std::size_t(79), bytes.size());
        CPPUNIT_ASSERT(bytes == want);
    }

    // The reference's pool-balance BNDUPD giving a never-used lease to BACKUP (49 bytes).
    void testBuildBackupGiveawayMatchesIscBytes() {
        LeaseRecord l = lease("10.99.0.100", B::Free);
        l.tstp = l.starts = 0x6b02b0d7;  // the giveaway sets both to now
        auto bytes = encode(buildBindUpdate(l, B::Backup, Role::Primary, 0x11, 0x6b02b0d7));
        auto want = hex(
            "00 31 03 0c 6b 02 b0 d7 00 00 00 11  00 02 00 04 0a 63 00 64  00 03 00 01 07"
            "00 0d 00 04 00 00 00 00  00 12 00 04 6b 02 b0 d7  00 19 00 04 6b 02 b0 d7");
        CPPUNIT_ASSERT(bytes == want);
        // An UPDREQALL answer sends the same never-used lease as FREE with all times 0.
        LeaseRecord virgin = lease("10.99.0.100", B::Free);
        Message m = buildBindUpdate(virgin, B::Free, Role::Primary, 1, 0x6b02b0d7);
        CPPUNIT_ASSERT_EQUAL(1, int(*m.bindingStatus));
        CPPUNIT_ASSERT_EQUAL(0u, *m.leaseExpiry);
        CPPUNIT_ASSERT_EQUAL(0u, *m.potentialExpiry);
        CPPUNIT_ASSERT_EQUAL(0u, *m.startTimeOfState);
        CPPUNIT_ASSERT(!m.cltt && !m.ipFlags && !m.chaddr && !m.clientIdentifier);
    }

    // EXPIRED carries tstp as potential-expiration, not ends (mclt60/05, 10.77.1.59).
    void testBuildExpiredSendsTstpAndOptionalFields() {
        LeaseRecord l = lease("10.77.1.59", B::Expired);
        setMac(l, "52 8d 3e ea fc 7e");
        l.ends = 1795341179;  // 09:52:59
        l.tstp = 1795341113;  // 09:51:53
        l.cltt = 1795341000;
        Message m = buildBindUpdate(l, B::Expired, Role::Secondary, 2, kNow);
        CPPUNIT_ASSERT_EQUAL(uint32_t(1795341113), *m.potentialExpiry);
        CPPUNIT_ASSERT_EQUAL(uint32_t(1795341179), *m.leaseExpiry);
        CPPUNIT_ASSERT_EQUAL(uint32_t(1795341000), *m.cltt);
        CPPUNIT_ASSERT(*m.chaddr == hex("01 52 8d 3e ea fc 7e"));
        CPPUNIT_ASSERT(!m.clientIdentifier);
        l.tstp = 0;  // a lease the peer allocated: we never set a tstp, so 0 goes out
        CPPUNIT_ASSERT_EQUAL(0u, *buildBindUpdate(l, B::Expired, Role::Secondary, 2, kNow).potentialExpiry);
        l.bootp = true;
        CPPUNIT_ASSERT_EQUAL(int(kIpFlagBootp), int(*buildBindUpdate(l, B::Expired, Role::Secondary, 2, kNow).ipFlags));
    }

    // A reserved lease in our own free state goes out as the peer's, with the RESERVED flag.
    void testReservedLeasesTravelAsPeersFreeState() {
        LeaseRecord l = lease("10.77.1.60", B::Free);
        l.reserved = true;
        Message p = buildBindUpdate(l, B::Free, Role::Primary, 1, kNow);
        CPPUNIT_ASSERT_EQUAL(int(B::Backup), int(*p.bindingStatus));
        CPPUNIT_ASSERT_EQUAL(int(kIpFlagReserved), int(*p.ipFlags));
        Message s = buildBindUpdate(l, B::Backup, Role::Secondary, 1, kNow);
        CPPUNIT_ASSERT_EQUAL(int(B::Free), int(*s.bindingStatus));
        // Not our free state: unchanged.
        CPPUNIT_ASSERT_EQUAL(int(B::Backup), int(*buildBindUpdate(l, B::Backup, Role::Primary, 1, kNow).bindingStatus));
        CPPUNIT_ASSERT_EQUAL(int(B::Active), int(*buildBindUpdate(l, B::Active, Role::Primary, 1, kNow).bindingStatus));
    }

    // BNDACK carries the address only; a reject adds reason and message.
    void testBndackMatchesIscBytes() {
        auto bytes = encode(buildBindAck(*tandem::common::parseIpv4("10.99.0.104"), 0x13, 0x6b02b0fa));
        CPPUNIT_ASSERT(bytes == hex("00 14 04 0c 6b 02 b0 fa 00 00 00 13 00 02 00 04 0a 63 00 68"));
        Message r = buildBindAck(1, 2, 3, RejectReason::LessCritical, "incoming update is less critical than outgoing update");
        CPPUNIT_ASSERT_EQUAL(16, int(*r.rejectReason));
        CPPUNIT_ASSERT(r.message);
        CPPUNIT_ASSERT(!r.potentialExpiry && !r.clientIdentifier && !r.addressesTransferred);
    }

    // ack_lease's MCLT rule, with the capture's numbers (T=600 < MCLT 1800; T=3600 = MCLT 3600).
    void testMcltRule() {
        auto g = mcltLimit(600, 1800, 0, kNow);
        CPPUNIT_ASSERT_EQUAL(600u, g.granted);
        CPPUNIT_ASSERT_EQUAL(kNow + 600, g.ends);
        CPPUNIT_ASSERT_EQUAL(kNow + 900, g.tstp);
        g = mcltLimit(3600, 3600, 1795340991, 1795340997);  // 10.77.1.60: ends +3600, tstp +5400
        CPPUNIT_ASSERT_EQUAL(Time(1795340997 + 3600), g.ends);
        CPPUNIT_ASSERT_EQUAL(Time(1795340997 + 5400), g.tstp);
        // T > MCLT and the peer knows no expiry: MCLT.
        g = mcltLimit(7200, 3600, kNow, kNow);
        CPPUNIT_ASSERT_EQUAL(3600u, g.granted);
        CPPUNIT_ASSERT_EQUAL(kNow + 7200 + 1800, g.tstp);
        // T > MCLT beyond tsfp + MCLT: up to tsfp + MCLT.
        g = mcltLimit(7200, 3600, kNow + 1000, kNow);
        CPPUNIT_ASSERT_EQUAL(4600u, g.granted);
        CPPUNIT_ASSERT_EQUAL(kNow + 4600, g.ends);
        CPPUNIT_ASSERT_EQUAL(kNow + 7200 + 2300, g.tstp);
        // Within tsfp + MCLT: T.
        g = mcltLimit(7200, 3600, kNow + 5000, kNow);
        CPPUNIT_ASSERT_EQUAL(7200u, g.granted);
        // A tsfp above the new tstp comes down to it.
        g = mcltLimit(600, 1800, kNow + 10000, kNow);
        CPPUNIT_ASSERT_EQUAL(kNow + 900, g.tsfp);
        CPPUNIT_ASSERT_EQUAL(kNow + 900, mcltLimit(600, 1800, kNow + 900, kNow).tsfp);
        CPPUNIT_ASSERT_EQUAL(kNow + 100, mcltLimit(600, 1800, kNow + 100, kNow).tsfp);
    }

    // An infinite lease is granted MCLT at most and tells the peer "never".
    void testInfiniteLeaseTime() {
        auto g = mcltLimit(kInfiniteLeaseTime, 3600, 0, kNow);
        CPPUNIT_ASSERT_EQUAL(3600u, g.granted);
        CPPUNIT_ASSERT_EQUAL(kNow + 3600, g.ends);
        CPPUNIT_ASSERT_EQUAL(tandem::common::kNever, g.tstp);
        CPPUNIT_ASSERT_EQUAL(Time(0), g.tsfp);
    }

    // lease_mine_to_reallocate: own free state; the peer's only in partner-down after MCLT.
    void testMayAllocate() {
        const Time stos = kNow - 4000;
        const uint32_t mclt = 3600;
        LeaseRecord l = lease("10.77.1.60", B::Free);
        CPPUNIT_ASSERT(mayAllocate(l, Role::Primary, false, stos, mclt, kNow));
        CPPUNIT_ASSERT(!mayAllocate(l, Role::Secondary, false, stos, mclt, kNow));
        CPPUNIT_ASSERT(mayAllocate(l, Role::Secondary, true, stos, mclt, kNow));  // stos + mclt < now
        CPPUNIT_ASSERT(!mayAllocate(l, Role::Secondary, true, kNow - 3600, mclt, kNow));  // not yet (strict)
        l.tsfp = kNow - 100;  // later than stos: tsfp + mclt decides
        CPPUNIT_ASSERT(!mayAllocate(l, Role::Secondary, true, stos, mclt, kNow));
        l.tsfp = 0;
        l.state = B::Abandoned;
        CPPUNIT_ASSERT(mayAllocate(l, Role::Primary, false, stos, mclt, kNow));
        l.state = B::Backup;
        CPPUNIT_ASSERT(mayAllocate(l, Role::Secondary, false, stos, mclt, kNow));
        CPPUNIT_ASSERT(!mayAllocate(l, Role::Primary, false, stos, mclt, kNow));
        CPPUNIT_ASSERT(mayAllocate(l, Role::Primary, true, stos, mclt, kNow));
        l.state = B::Active;
        CPPUNIT_ASSERT(!mayAllocate(l, Role::Primary, true, stos, mclt, kNow));
        for (B s : {B::Expired, B::Released, B::Reset}) {
            LeaseRecord e = lease("10.77.1.61", s);
            e.rewind = B::Active;
            e.tsfp = kNow - 1;  // partner-down set it to stos + mclt, now passed
            CPPUNIT_ASSERT(!mayAllocate(e, Role::Primary, false, stos, mclt, kNow));
            CPPUNIT_ASSERT(mayAllocate(e, Role::Primary, true, stos, mclt, kNow));
            e.tsfp = kNow;
            CPPUNIT_ASSERT(!mayAllocate(e, Role::Primary, true, stos, mclt, kNow));
            e.rewind = B::Free;  // the peer never saw it leave our free state
            CPPUNIT_ASSERT_EQUAL(s != B::Reset, mayAllocate(e, Role::Primary, false, stos, mclt, kNow));
            e.rewind = B::Backup;
            CPPUNIT_ASSERT_EQUAL(s != B::Reset, mayAllocate(e, Role::Secondary, false, stos, mclt, kNow));
        }
    }

    // DHCPRELEASE and comm-interrupted expiry rewind to our free state when the peer never knew.
    void testReleaseAndRewind() {
        LeaseRecord l = lease("10.77.1.60", B::Active);
        l.rewind = B::Active;
        CPPUNIT_ASSERT(stateOnRelease(l, Role::Primary) == B::Released);
        l.rewind = B::Free;
        CPPUNIT_ASSERT(stateOnRelease(l, Role::Primary) == B::Free);
        CPPUNIT_ASSERT(stateOnRelease(l, Role::Secondary) == B::Released);
        l.rewind = B::Backup;
        CPPUNIT_ASSERT(stateOnRelease(l, Role::Secondary) == B::Backup);

        LeaseRecord e = lease("10.77.1.61", B::Expired);
        e.rewind = B::Free;
        CPPUNIT_ASSERT(*rewindInCommInterrupted(e, Role::Primary, FailoverState::CommunicationsInterrupted) == B::Free);
        CPPUNIT_ASSERT(!rewindInCommInterrupted(e, Role::Primary, FailoverState::Normal));
        CPPUNIT_ASSERT(!rewindInCommInterrupted(e, Role::Secondary, FailoverState::CommunicationsInterrupted));
        e.state = B::Released;
        CPPUNIT_ASSERT(rewindInCommInterrupted(e, Role::Primary, FailoverState::CommunicationsInterrupted));
        e.state = B::Reset;
        CPPUNIT_ASSERT(!rewindInCommInterrupted(e, Role::Primary, FailoverState::CommunicationsInterrupted));
        e.state = B::Expired;
        e.rewind = B::Active;
        CPPUNIT_ASSERT(!rewindInCommInterrupted(e, Role::Primary, FailoverState::CommunicationsInterrupted));
    }

    // The secondary leaves ACTIVE expiry to the primary only while both are normal.
    void testExpiryOwnership() {
        CPPUNIT_ASSERT(runsExpiry(Role::Primary, FailoverState::Normal));
        CPPUNIT_ASSERT(!runsExpiry(Role::Secondary, FailoverState::Normal));
        CPPUNIT_ASSERT(runsExpiry(Role::Secondary, FailoverState::CommunicationsInterrupted));
        CPPUNIT_ASSERT(runsExpiry(Role::Secondary, FailoverState::PartnerDown));
    }

    // A state code outside 1..7 (never from our store, perhaps from a peer) is refused everywhere.
    void testOutOfRangeStatesAreRefused() {
        const B bogus = static_cast<B>(9);
        CPPUNIT_ASSERT(!normalTransitionAllowed(Role::Primary, bogus, B::Free, 0, 0, kNow));
        CPPUNIT_ASSERT(!conflictTransitionAllowed(B::Active, bogus, 0, kNow));
        LeaseRecord l = lease("10.77.1.60", B::Free);
        l.state = bogus;
        CPPUNIT_ASSERT(!mayAllocate(l, Role::Primary, true, 0, 0, kNow));
        CPPUNIT_ASSERT_EQUAL(std::string("unknown"), bindingStateText(0));
        CPPUNIT_ASSERT_EQUAL(std::string("backup"), bindingStateText(7));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(BindingRulesTest);
