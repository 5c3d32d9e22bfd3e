// Tests of failover/relationship (with updates.cc): two relationships talk
// through in-memory links (every message goes through the real codec), on a
// ManualClock with fake timers, so whole conversations run without sockets.
#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/diag.h"
#include "common/ipv4.h"
#include "common/log.h"
#include "conf/config_builder.h"
#include "failover/message.h"
#include "failover/relationship.h"
#include "server/lease_store.h"

using namespace tandem;
using common::BindingState;
using failover::FailoverState;
using failover::Message;
using failover::MessageType;

namespace {

// ---------------------------------------------------------------- fake time

class FakeTimers : public common::TimerService {
public:
    explicit FakeTimers(common::ManualClock& clock) : clock_(clock) {}
    struct Slot {
        bool armed = false;
        uint64_t due = 0;
        std::function<void()> cb;
    };
    class Handle : public common::TimerHandle {
    public:
        Handle(FakeTimers& t, std::shared_ptr<Slot> s) : t_(t), s_(std::move(s)) {}
        ~Handle() override { s_->armed = false; }
        void startMs(uint64_t ms) override {
            s_->armed = true;
            s_->due = t_.clock_.monotonicMs() + ms;
        }
        void stop() override { s_->armed = false; }
        bool pending() const override { return s_->armed; }

    private:
        FakeTimers& t_;
        std::shared_ptr<Slot> s_;
    };
    std::unique_ptr<common::TimerHandle> createTimer(std::function<void()> cb) override {
        auto s = std::make_shared<Slot>();
        s->cb = std::move(cb);
        slots_.push_back(s);
        return std::make_unique<Handle>(*this, s);
    }
    /// Fire every armed timer that is due, earliest first; returns whether one fired.
    bool fireDue() {
        std::shared_ptr<Slot> next;
        for (auto& s : slots_)
            if (s->armed && s->due <= clock_.monotonicMs() && (!next || s->due < next->due)) next = s;
        if (!next) return false;
        next->armed = false;
        next->cb();
        return true;
    }

private:
    common::ManualClock& clock_;
    std::vector<std::shared_ptr<Slot>> slots_;
};

// ---------------------------------------------------------------- one server

struct Side : failover::RelationshipHost {
    conf::ConfigPtr config;
    server::LeaseStore leases;
    common::ManualClock& clk;
    FakeTimers fakeTimers;
    std::vector<conf::FailoverPeerState> persisted;
    std::vector<std::function<void(bool)>> durable;
    std::size_t written = 0;
    bool failPersist = false;
    std::unique_ptr<failover::Relationship> rel;

    Side(const std::string& text, common::ManualClock& c) : clk(c), fakeTimers(c) {
        common::DiagnosticSink diags;
        config = conf::loadConfigText(text, "t.conf", diags);
        if (diags.errorCount()) {
            std::string all;
            for (const auto& d : diags.all()) all += diags.format(d);
            CPPUNIT_FAIL(all);
        }
        leases.build(*config);
        rel = std::make_unique<failover::Relationship>(config->failoverPeers.at(0), *this);
        for (auto& p : leases.pools()) {
            p->failover = rel.get();
            rel->addPool(p.get());
        }
    }
    server::LeaseStore& store() override { return leases; }
    void leaseWritten(server::Lease&) override { ++written; }
    bool persistState(const conf::FailoverPeerState& b) override {
        if (failPersist) return false;
        persisted.push_back(b);
        return true;
    }
    void whenDurable(std::function<void(bool)> then) override { durable.push_back(std::move(then)); }
    const common::Clock& clock() const override { return clk; }
    common::TimerService& timers() override { return fakeTimers; }
    void commit() {
        auto cbs = std::move(durable);
        durable.clear();
        for (auto& cb : cbs) cb(true);
    }
    std::size_t count(BindingState s) const {
        std::size_t n = 0;
        for (const auto& p : leases.pools()) n += p->count(s);
        return n;
    }
};

// ---------------------------------------------------------------- the wire between them

struct Wire;
struct FakeLink : failover::LinkPort {
    Wire* wire = nullptr;
    FakeLink* other = nullptr;
    failover::Relationship* owner = nullptr;
    std::deque<std::vector<uint8_t>> inbox;  // bytes sent TO this end
    bool open = true, established = false;
    uint32_t receiveTimer = 0;
    std::vector<MessageType> sentTypes;

    void send(const Message& m) override;
    void markEstablished() override { established = true; }
    void setPartnerReceiveTimer(uint32_t s) override { receiveTimer = s; }
    void close(const std::string& reason) override;
    // The fake wire delivers everything already sent, so closing after a flush is a close.
    void closeAfterFlush(const std::string& reason) override { close(reason); }
    std::size_t pendingOutput() const override { return 0; }
};

struct Wire {
    FakeLink a, b;
    std::vector<std::pair<char, Message>> log;  // 'a' = sent by a
    Wire(failover::Relationship& ra, failover::Relationship& rb) {
        a.wire = b.wire = this;
        a.other = &b;
        b.other = &a;
        a.owner = &ra;
        b.owner = &rb;
    }
    bool deliverOne() {
        for (FakeLink* end : {&a, &b}) {
            if (end->inbox.empty()) continue;
            auto bytes = std::move(end->inbox.front());
            end->inbox.pop_front();
            if (!end->open) continue;
            auto d = failover::decode(bytes.data(), bytes.size());
            CPPUNIT_ASSERT_MESSAGE(d.error, d.ok());
            end->owner->message(end, *d.message);
            return true;
        }
        return false;
    }
};

void FakeLink::send(const Message& m) {
    if (!open) return;
    sentTypes.push_back(m.type);
    wire->log.push_back({this == &wire->a ? 'a' : 'b', m});
    other->inbox.push_back(failover::encode(m));
}

void FakeLink::close(const std::string& reason) {
    if (!open) return;
    open = false;
    other->open = false;
    owner->linkClosed(this, reason);
    other->owner->linkClosed(other, "peer closed: " + reason);
}

const char* kMaster = R"(
subnet 192.0.2.0 netmask 255.255.255.0 {
  pool { failover peer "fo"; range 192.0.2.10 192.0.2.19; }
}
)";

std::string primaryConf(const std::string& extra = "") {
    return R"(failover peer "fo" { primary; address 192.0.2.1; port 647; peer address 192.0.2.2; peer port 847;
  max-response-delay 30; max-unacked-updates 10; mclt 60; split 128; load balance max seconds 3; )" +
           extra + "}\n" + kMaster;
}
std::string secondaryConf(const std::string& extra = "") {
    return R"(failover peer "fo" { secondary; address 192.0.2.2; port 847; peer address 192.0.2.1; peer port 647;
  max-response-delay 30; max-unacked-updates 10; load balance max seconds 3; )" +
           extra + "}\n" + kMaster;
}

struct Pair {
    common::ManualClock clock{1795338455};
    std::unique_ptr<Side> p, s;
    std::unique_ptr<Wire> wire;
    std::vector<std::string> log;

    Pair(const std::string& pc = primaryConf(), const std::string& sc = secondaryConf()) {
        common::logCapture([this](common::LogLevel, std::string_view m) { log.emplace_back(m); });
        p = std::make_unique<Side>(pc, clock);
        s = std::make_unique<Side>(sc, clock);
    }
    ~Pair() { common::logCapture({}); }
    void connect() {
        wire = std::make_unique<Wire>(*p->rel, *s->rel);
        s->rel->linkUp(&wire->b);
        p->rel->linkUp(&wire->a);
    }
    /// Deliver messages and run commits until quiet (bounded).
    void settle() {
        for (int i = 0; i < 100000; ++i) {
            bool any = wire && wire->deliverOne();
            if (!any) {
                if (!p->durable.empty() || !s->durable.empty()) {
                    p->commit();
                    s->commit();
                    continue;
                }
                return;
            }
        }
        CPPUNIT_FAIL("conversation did not settle");
    }
    /// Let time pass in 100 ms steps, firing timers and delivering messages.
    void run(uint64_t ms) {
        for (uint64_t t = 0; t < ms; t += 100) {
            clock.advance(100);
            while (p->fakeTimers.fireDue() || s->fakeTimers.fireDue()) settle();
            settle();
        }
    }
    bool logged(const std::string& part) const {
        return std::any_of(log.begin(), log.end(), [&](const std::string& l) { return l.find(part) != std::string::npos; });
    }
};

}  // namespace

class RelationshipTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RelationshipTest);
    CPPUNIT_TEST(testFreshPairReachesNormalAndBalances);
    CPPUNIT_TEST(testConnectCarriesIscFields);
    CPPUNIT_TEST(testBindingUpdateReachesPeer);
    CPPUNIT_TEST(testLostLinkGoesCommunicationsInterrupted);
    CPPUNIT_TEST(testAutoPartnerDownAfterDelay);
    CPPUNIT_TEST(testRestartFromNormalReturnsToNormal);
    CPPUNIT_TEST(testWrongRelationshipNameRejected);
    CPPUNIT_TEST(testFloodOfUnackedUpdatesDropsLink);
    CPPUNIT_TEST(testPersistFailureRefusesMove);
    CPPUNIT_TEST(testPartnerDownRefusedWhileLinked);
    CPPUNIT_TEST(testStartupTimerWithoutPeer);
    CPPUNIT_TEST(testCrossingUpdatesKeepTheWindow);
    CPPUNIT_TEST_SUITE_END();

public:
    // Two servers with no saved state: recover, recover-done, normal; the primary gives
    // half the free leases to the secondary as BACKUP (the capture's 5 of 10).
    void testFreshPairReachesNormalAndBalances() {
        Pair t;
        t.p->rel->start(nullptr);
        t.s->rel->start(nullptr);
        t.connect();
        t.settle();
        t.run(2000);
        CPPUNIT_ASSERT_EQUAL(std::string("normal"), std::string(failover::toString(t.p->rel->status().me)));
        CPPUNIT_ASSERT_EQUAL(std::string("normal"), std::string(failover::toString(t.s->rel->status().me)));
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), t.p->count(BindingState::Backup));
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), t.p->count(BindingState::Free));
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), t.s->count(BindingState::Backup));
        CPPUNIT_ASSERT(t.logged("failover peer fo: I move from recover to recover-done"));
        CPPUNIT_ASSERT(t.logged("I move from recover-done to normal"));
        // Every state the secondary recorded for the primary's sake carries the MCLT.
        CPPUNIT_ASSERT(t.s->persisted.back().mclt && *t.s->persisted.back().mclt == 60);
        CPPUNIT_ASSERT(!t.p->persisted.back().mclt);
    }

    // The primary's CONNECT and the secondary's CONNECTACK carry ISC's options.
    void testConnectCarriesIscFields() {
        Pair t;
        t.p->rel->start(nullptr);
        t.s->rel->start(nullptr);
        t.connect();
        t.settle();
        const Message& c = t.wire->log.at(0).second;
        CPPUNIT_ASSERT(c.type == MessageType::FTM_CONNECT);
        CPPUNIT_ASSERT_EQUAL(uint32_t(0), c.xid);
        CPPUNIT_ASSERT_EQUAL(std::string("fo"), *c.relationshipName);
        CPPUNIT_ASSERT_EQUAL(uint32_t(10), *c.maxUnacked);
        CPPUNIT_ASSERT_EQUAL(uint32_t(30), *c.receiveTimer);
        CPPUNIT_ASSERT_EQUAL(uint32_t(60), *c.mclt);
        CPPUNIT_ASSERT_EQUAL(std::size_t(32), c.hba->size());
        CPPUNIT_ASSERT_EQUAL(uint8_t(0xff), (*c.hba)[15]);
        CPPUNIT_ASSERT_EQUAL(uint8_t(0x00), (*c.hba)[16]);
        const Message& a = t.wire->log.at(1).second;
        CPPUNIT_ASSERT(a.type == MessageType::FTM_CONNECTACK);
        CPPUNIT_ASSERT(!a.rejectReason);
        CPPUNIT_ASSERT_EQUAL(uint32_t(30), t.wire->a.receiveTimer);
        CPPUNIT_ASSERT(t.wire->a.established && t.wire->b.established);
    }

    // A lease the primary binds reaches the secondary, acknowledged, with ISC's fields.
    void testBindingUpdateReachesPeer() {
        Pair t;
        t.p->rel->start(nullptr);
        t.s->rel->start(nullptr);
        t.connect();
        t.settle();
        t.run(2000);
        // Bind the oldest free lease on the primary, as its DHCP processor would.
        server::Lease* l = t.p->leases.pools()[0]->free.front();
        CPPUNIT_ASSERT(l);
        const common::Time now = t.clock.now();
        common::Time tstp = 0;
        uint32_t granted = t.p->rel->grantLeaseTime(*l, 600, now, tstp);
        CPPUNIT_ASSERT_EQUAL(uint32_t(60), granted);  // unacked by the peer: MCLT
        t.p->leases.modify(*l, [&](common::LeaseRecord& r) {
            r.state = BindingState::Active;
            r.next = BindingState::Expired;
            r.starts = r.cltt = now;
            r.ends = now + granted;
            r.tstp = tstp;
            r.hw.htype = 1;
            r.hw.len = 6;
            r.hw.bytes = {0, 0x11, 0x22, 0x33, 0x44, 0x55};
        });
        t.p->rel->leaseChanged(*l);
        t.settle();
        const server::Lease* peerCopy = t.s->leases.find(l->address);
        CPPUNIT_ASSERT(peerCopy->state == BindingState::Active);
        CPPUNIT_ASSERT_EQUAL(std::string("00:11:22:33:44:55"), peerCopy->hw.str());
        CPPUNIT_ASSERT_EQUAL(now + 60, peerCopy->ends);
        CPPUNIT_ASSERT_EQUAL(tstp, peerCopy->tsfp);
        // The ACK came back: the primary knows the peer has it.
        CPPUNIT_ASSERT_EQUAL(tstp, l->tsfp);
        CPPUNIT_ASSERT_EQUAL(tstp, l->atsfp);
        CPPUNIT_ASSERT(l->rewind == BindingState::Active);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), t.p->rel->status().updatesUnacked);
    }

    // A link lost in normal: both sides move to communications-interrupted.
    void testLostLinkGoesCommunicationsInterrupted() {
        Pair t;
        t.p->rel->start(nullptr);
        t.s->rel->start(nullptr);
        t.connect();
        t.settle();
        t.run(2000);
        t.wire->a.close("test cut");
        t.settle();
        CPPUNIT_ASSERT(t.p->rel->status().me == FailoverState::CommunicationsInterrupted);
        CPPUNIT_ASSERT(t.s->rel->status().me == FailoverState::CommunicationsInterrupted);
        CPPUNIT_ASSERT(t.p->rel->service().serves);
        CPPUNIT_ASSERT(!t.p->rel->service().loadBalances);
    }

    // auto-partner-down N fires N seconds after communications-interrupted, not before.
    void testAutoPartnerDownAfterDelay() {
        Pair t(primaryConf("auto-partner-down 10;"), secondaryConf());
        t.p->rel->start(nullptr);
        t.s->rel->start(nullptr);
        t.connect();
        t.settle();
        t.run(2000);
        t.wire->a.close("test cut");
        t.settle();
        t.run(9800);
        CPPUNIT_ASSERT(t.p->rel->status().me == FailoverState::CommunicationsInterrupted);
        t.run(400);
        CPPUNIT_ASSERT(t.p->rel->status().me == FailoverState::PartnerDown);
        CPPUNIT_ASSERT(t.s->rel->status().me == FailoverState::CommunicationsInterrupted);
    }

    // A server restarted with `my state normal` saved goes startup, then normal, with no recover.
    void testRestartFromNormalReturnsToNormal() {
        Pair t;
        conf::FailoverPeerState savedP{"fo", "normal", "normal", t.clock.now() - 100, t.clock.now() - 100, {}, {}};
        conf::FailoverPeerState savedS{"fo", "normal", "normal", t.clock.now() - 100, t.clock.now() - 100, 60u, {}};
        t.p->rel->start(&savedP);
        t.s->rel->start(&savedS);
        CPPUNIT_ASSERT(t.p->rel->status().me == FailoverState::Startup);
        t.connect();
        t.settle();
        t.run(500);
        CPPUNIT_ASSERT(t.p->rel->status().me == FailoverState::Normal);
        CPPUNIT_ASSERT(t.s->rel->status().me == FailoverState::Normal);
        CPPUNIT_ASSERT(!t.logged("to recover"));
    }

    // A CONNECT naming another relationship is refused with reason 8 and the link closes.
    void testWrongRelationshipNameRejected() {
        std::string pc = primaryConf();
        pc.replace(pc.find("\"fo\""), 4, "\"other\"");
        pc.replace(pc.find("\"fo\""), 4, "\"other\"");
        Pair t(pc, secondaryConf());
        t.p->rel->start(nullptr);
        t.s->rel->start(nullptr);
        t.connect();
        t.settle();
        CPPUNIT_ASSERT(!t.wire->a.open);
        const Message& ack = t.wire->log.at(1).second;
        CPPUNIT_ASSERT(ack.type == MessageType::FTM_CONNECTACK);
        CPPUNIT_ASSERT_EQUAL(uint8_t(8), *ack.rejectReason);
        CPPUNIT_ASSERT(t.logged("unknown failover relationship name"));
    }

    // A peer that sends more BNDUPDs than our advertised window loses the link.
    void testFloodOfUnackedUpdatesDropsLink() {
        Pair t;
        t.p->rel->start(nullptr);
        t.s->rel->start(nullptr);
        t.connect();
        t.settle();
        t.run(2000);
        // Play a hostile primary: eleven BNDUPDs without waiting (max-unacked-updates 10).
        for (uint32_t i = 0; i < 11 && t.wire->b.open; ++i) {
            Message m;
            m.type = MessageType::FTM_BNDUPD;
            m.time = uint32_t(t.clock.now());
            m.xid = 1000 + i;
            m.assignedIpAddress = *common::parseIpv4("192.0.2.10") + (i % 10);
            m.bindingStatus = uint8_t(BindingState::Free);
            t.s->rel->message(&t.wire->b, m);
        }
        CPPUNIT_ASSERT(!t.wire->b.open);
        CPPUNIT_ASSERT(t.logged("unacknowledged binding updates"));
    }

    // When the state cannot be written, the move does not happen (ISC's roll-back).
    void testPersistFailureRefusesMove() {
        Pair t;
        t.p->failPersist = true;
        t.p->rel->start(nullptr);
        CPPUNIT_ASSERT(t.p->rel->status().me == FailoverState::Recover);
        CPPUNIT_ASSERT(t.logged("Unable to record current failover state for fo"));
    }

    // tandemctl partner-down is refused while the peer is connected, unless forced.
    void testPartnerDownRefusedWhileLinked() {
        Pair t;
        t.p->rel->start(nullptr);
        t.s->rel->start(nullptr);
        t.connect();
        t.settle();
        t.run(2000);
        std::string why;
        CPPUNIT_ASSERT(!t.p->rel->adminPartnerDown(false, why));
        CPPUNIT_ASSERT(why.find("--force") != std::string::npos);
        CPPUNIT_ASSERT(t.p->rel->adminPartnerDown(true, why));
        CPPUNIT_ASSERT(t.p->rel->status().me == FailoverState::PartnerDown);
    }

    // Alone with `my state normal` saved: startup for 15 s, then communications-interrupted.
    void testStartupTimerWithoutPeer() {
        Pair t;
        conf::FailoverPeerState savedP{"fo", "normal", "normal", t.clock.now() - 100, t.clock.now() - 100, {}, {}};
        t.p->rel->start(&savedP);
        t.run(14800);
        CPPUNIT_ASSERT(t.p->rel->status().me == FailoverState::Startup);
        t.run(400);
        CPPUNIT_ASSERT(t.p->rel->status().me == FailoverState::CommunicationsInterrupted);
        CPPUNIT_ASSERT(t.p->rel->service().serves);
    }

    // Both servers update the same addresses at once, more of them than the window:
    // the crossings are settled (ISC's rules), nothing is left in flight or queued,
    // and neither side takes the other for a flood. (The fake wire's delivery order
    // does not reproduce every interleaving; failover_partition.sh covers the one
    // where a voided update's slot was given away.)
    void testCrossingUpdatesKeepTheWindow() {
        std::string pc = primaryConf(), sc = secondaryConf();
        for (std::string* c : {&pc, &sc}) c->replace(c->find("192.0.2.19"), 10, "192.0.2.60");
        Pair t(pc, sc);
        t.p->rel->start(nullptr);
        t.s->rel->start(nullptr);
        t.connect();
        t.settle();
        t.run(2000);
        CPPUNIT_ASSERT(t.p->rel->status().me == FailoverState::Normal);
        const common::Time now = t.clock.now();
        auto bind = [&](Side& side, uint32_t addr, uint8_t mac) {
            server::Lease* l = side.leases.find(addr);
            side.leases.modify(*l, [&](common::LeaseRecord& r) {
                r.state = BindingState::Active;
                r.starts = r.cltt = now;
                r.ends = now + 60;
                r.tstp = now + 90;
                r.hw.htype = 1;
                r.hw.len = 6;
                r.hw.bytes = {0, 0x11, 0x22, 0x33, mac, uint8_t(addr)};
            });
            side.rel->leaseChanged(*l);
        };
        const uint32_t base = *common::parseIpv4("192.0.2.10");
        for (uint32_t i = 0; i < 30; ++i) {
            bind(*t.s, base + i, 0xbb);  // the secondary's clients
            bind(*t.p, base + i, 0xaa);  // the same addresses, the primary's clients (the primary wins)
        }
        t.settle();
        std::size_t rejected = 0;
        for (const auto& [who, m] : t.wire->log)
            if (m.type == MessageType::FTM_BNDACK && m.rejectReason && *m.rejectReason == 16) ++rejected;
        CPPUNIT_ASSERT(rejected > 0);  // the updates did cross
        CPPUNIT_ASSERT(t.wire->a.open && t.wire->b.open);
        CPPUNIT_ASSERT(!t.logged("unacknowledged binding updates"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), t.p->rel->status().updatesUnacked);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), t.s->rel->status().updatesUnacked);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), t.p->rel->status().updatesQueued);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RelationshipTest);
