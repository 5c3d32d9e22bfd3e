// The failover state machine: every cell of the peer-STATE table, the local
// events, the timers (driven by ManualClock, never by sleeping), the service
// states, and a replay of both real ISC servers' logged state sequences.
#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <sstream>

#include "common/clock.h"
#include "failover/state_machine.h"
#include "tests/unit/failover/shared_data.h"
#include "tests/unit/tap_skip.h"

using namespace tandem::failover;
using tandem::common::LogLevel;
using tandem::common::ManualClock;
using tandem::common::Time;
using Me = FailoverState;
using Peer = FailoverState;

namespace {

constexpr Time kT0 = 1795340991;

Facts facts(Me me, Peer peer = Peer::UnknownState, Role role = Role::Primary) {
    Facts f;
    f.name = "dhcp-failover";
    f.role = role;
    f.me = me;
    f.saved = me;
    f.peer = peer;
    f.linked = true;
    f.now = kT0;
    f.stos = kT0 - 100;
    f.mclt = 3600;
    return f;
}

std::vector<std::string> describeAll(const Decision& d) {
    std::vector<std::string> v;
    for (const auto& e : d.effects) v.push_back(describe(e));
    return v;
}

std::string joined(const Decision& d) {
    std::string s;
    for (const auto& e : describeAll(d)) s += "  " + e + "\n";
    return s;
}

bool has(const Decision& d, const std::string& what) {
    auto v = describeAll(d);
    return std::any_of(v.begin(), v.end(), [&](const std::string& e) { return e.find(what) != std::string::npos; });
}

int count(const Decision& d, const std::string& what) {
    auto v = describeAll(d);
    return int(std::count_if(v.begin(), v.end(), [&](const std::string& e) { return e.find(what) != std::string::npos; }));
}

std::vector<std::string> logs(const Decision& d) {
    std::vector<std::string> v;
    for (const auto& e : d.effects)
        if (auto* l = std::get_if<Log>(&e)) v.push_back(l->text);
    return v;
}

// What a cell of the peer-STATE table is expected to do (transcribed from the
// reference's table in section (e), independently of the implementation's table).
enum class Then {
    Stay, Normal, CommInt, PartnerDown, PotentialConflict, Recover, Shutdown,
    InvalidShutdown, PanicShutdown, FatalShutdown, RequestAll, RequestAllLogged,
    PoolCheck, UpdatesThenNormal, BothDoneNormal, UpdReqIfWasConflict,
};

// Rows: own state; columns: the peer's new state; both in FailoverState code order
// (unknown, startup, normal, comm-int, partner-down, potential-conflict, recover,
// paused, shutdown, recover-done, resolution-interrupted, conflict-done, recover-wait).
using T = Then;
const Then kExpected[13][13] = {
    /* unknown   */ {T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay},
    /* startup   */ {T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay},
    /* normal    */ {T::Stay, T::Stay, T::PoolCheck, T::Stay, T::PotentialConflict, T::InvalidShutdown, T::PartnerDown, T::CommInt, T::PartnerDown, T::Stay, T::InvalidShutdown, T::InvalidShutdown, T::Stay},
    /* comm-int  */ {T::Stay, T::Stay, T::UpdatesThenNormal, T::UpdatesThenNormal, T::PotentialConflict, T::PotentialConflict, T::PartnerDown, T::Stay, T::PartnerDown, T::UpdatesThenNormal, T::PotentialConflict, T::PotentialConflict, T::UpdatesThenNormal},
    /* p-down    */ {T::Stay, T::Stay, T::PotentialConflict, T::PotentialConflict, T::PotentialConflict, T::PotentialConflict, T::Stay, T::Stay, T::Stay, T::Normal, T::PotentialConflict, T::PotentialConflict, T::Stay},
    /* pot-confl */ {T::Stay, T::Stay, T::PanicShutdown, T::Stay, T::Stay, T::Stay, T::Recover, T::Stay, T::PartnerDown, T::Stay, T::Stay, T::UpdReqIfWasConflict, T::Stay},
    /* recover   */ {T::Stay, T::Stay, T::PotentialConflict, T::RequestAll, T::RequestAll, T::PotentialConflict, T::RequestAllLogged, T::Stay, T::PartnerDown, T::Stay, T::PotentialConflict, T::PotentialConflict, T::Stay},
    /* paused    */ {T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay},
    /* shutdown  */ {T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay},
    /* rec-done  */ {T::Stay, T::Stay, T::Normal, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::PartnerDown, T::BothDoneNormal, T::Stay, T::Stay, T::Stay},
    /* res-int   */ {T::Stay, T::Stay, T::PotentialConflict, T::PotentialConflict, T::PotentialConflict, T::PotentialConflict, T::PotentialConflict, T::Stay, T::PartnerDown, T::PotentialConflict, T::PotentialConflict, T::PotentialConflict, T::PotentialConflict},
    /* conf-done */ {T::FatalShutdown, T::FatalShutdown, T::Normal, T::FatalShutdown, T::FatalShutdown, T::Stay, T::FatalShutdown, T::FatalShutdown, T::Shutdown, T::FatalShutdown, T::Stay, T::FatalShutdown, T::FatalShutdown},
    /* rec-wait  */ {T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay, T::Stay},
};

int gCellsChecked = 0;
std::set<std::pair<int, int>> gCellsSeen;

// Feeds `peer` as a STATE to a server in `me` (the peer previously in some other
// state, so the repeated-state rule does not apply) and checks the outcome.
void expectTransition(Me me, Peer peer, Then then) {
    Facts f = facts(me);
    f.saved = me == Me::Startup ? Me::Startup : me;
    f.peer = peer == Peer::PotentialConflict ? Peer::UnknownState : Peer::PotentialConflict;
    if (me == Me::PotentialConflict && peer == Peer::ConflictDone) f.peer = Peer::PotentialConflict;
    if (peer == f.peer) f.peer = Peer::Paused;
    Decision d = decide(f, Event::peerState(peer));
    const std::string where = std::string(toString(me)) + " / peer " + std::string(toString(peer)) + ":\n" + joined(d);
    gCellsSeen.insert({int(stateIndex(me)), int(stateIndex(peer))});
    ++gCellsChecked;

    auto movesTo = [&](Me s) {
        CPPUNIT_ASSERT_MESSAGE(where, d.next() == s);
        CPPUNIT_ASSERT_MESSAGE(where, has(d, "-> " + std::string(toString(s)) + " "));
    };
    CPPUNIT_ASSERT_MESSAGE(where, has(d, "log info: failover peer dhcp-failover: peer moves from"));
    switch (then) {
        case Then::Stay:
            CPPUNIT_ASSERT_MESSAGE(where, !d.next());
            CPPUNIT_ASSERT_MESSAGE(where, !has(d, "send"));
            CPPUNIT_ASSERT_MESSAGE(where, !has(d, "task"));
            break;
        case Then::Normal: movesTo(Me::Normal); break;
        case Then::CommInt: movesTo(Me::CommunicationsInterrupted); break;
        case Then::PartnerDown: movesTo(Me::PartnerDown); break;
        case Then::PotentialConflict: movesTo(Me::PotentialConflict); break;
        case Then::Recover: movesTo(Me::Recover); break;
        case Then::Shutdown:
            movesTo(Me::Shutdown);
            CPPUNIT_ASSERT_MESSAGE(where, !has(d, "log error"));
            break;
        case Then::InvalidShutdown:
            movesTo(Me::Shutdown);
            CPPUNIT_ASSERT_MESSAGE(where, has(d, "log error: Peer dhcp-failover: Invalid state transition"));
            break;
        case Then::PanicShutdown:
            movesTo(Me::Shutdown);
            CPPUNIT_ASSERT_MESSAGE(where, has(d, "log error: Peer dhcp-failover moves to normal during conflict "
                                                 "resolution - panic, shutting down."));
            break;
        case Then::FatalShutdown:
            // ISC exits here; we must stay alive, persist shutdown and say why.
            movesTo(Me::Shutdown);
            CPPUNIT_ASSERT_MESSAGE(where, has(d, "while local state is conflict-done."));
            CPPUNIT_ASSERT_MESSAGE(where, has(d, "moving to shutdown instead"));
            break;
        case Then::RequestAll:
            CPPUNIT_ASSERT_MESSAGE(where, !d.moved());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(where, 1, count(d, "send UPDREQALL"));
            CPPUNIT_ASSERT_MESSAGE(where, !has(d, "requesting full update"));
            break;
        case Then::RequestAllLogged:
            CPPUNIT_ASSERT_MESSAGE(where, !d.moved());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(where, 1, count(d, "send UPDREQALL"));
            CPPUNIT_ASSERT_MESSAGE(where, has(d, "log info: failover peer dhcp-failover: requesting full update from peer"));
            break;
        case Then::PoolCheck:
            CPPUNIT_ASSERT_MESSAGE(where, !d.moved());
            CPPUNIT_ASSERT_MESSAGE(where, has(d, "task pool-check"));
            break;
        case Then::UpdatesThenNormal: {
            movesTo(Me::Normal);
            auto v = describeAll(d);
            auto upd = std::find(v.begin(), v.end(), "task send-updates");
            auto mv = std::find_if(v.begin(), v.end(), [](const std::string& e) { return e.rfind("move", 0) == 0; });
            CPPUNIT_ASSERT_MESSAGE(where, upd != v.end() && upd < mv);
            break;
        }
        case Then::BothDoneNormal:
            movesTo(Me::Normal);
            CPPUNIT_ASSERT_MESSAGE(where, has(d, "log error: Both servers have entered recover-done!"));
            break;
        case Then::UpdReqIfWasConflict:
            CPPUNIT_ASSERT_MESSAGE(where, !d.moved());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(where, 1, count(d, "send UPDREQ"));
            break;
    }
}

// ---- A tiny timer service over ManualClock, for the timing tests ----
struct Harness {
    ManualClock clock{kT0};
    Facts f;
    std::map<TimerKind, Time> timers;
    std::vector<Decision> history;

    Decision feed(const Event& e) {
        f.now = clock.now();
        Decision d = decide(f, e);
        for (const auto& eff : d.effects) {
            if (auto* a = std::get_if<ArmTimer>(&eff)) timers[a->timer] = a->at;
            if (auto* c = std::get_if<CancelTimer>(&eff)) timers.erase(c->timer);
        }
        f = d.after;
        history.push_back(d);
        return d;
    }
    // Advance one second at a time, firing whatever is due.
    void runUntil(Time t) {
        while (clock.now() < t) {
            clock.advance(1000);
            for (auto it = timers.begin(); it != timers.end();) {
                if (it->second <= clock.now()) {
                    TimerKind k = it->first;
                    it = timers.erase(it);
                    feed(k == TimerKind::Startup       ? Event::startupTimer()
                         : k == TimerKind::RecoverWait ? Event::recoverWaitTimer()
                                                       : Event::autoPartnerDownTimer());
                    it = timers.begin();
                } else {
                    ++it;
                }
            }
        }
    }
};

// ---- Replay of the captured ISC logs ----

struct Wire {
    MessageType type;
    Me state = Me::UnknownState;
    bool startup = false;
};

bool keepLine(const std::string& text) {
    static const char* const kKeep[] = {
        "failover peer dhcp-failover: I move from",
        "failover peer dhcp-failover: peer moves from",
        "failover peer dhcp-failover: Both servers normal",
        "Both servers have entered recover-done!",
        "failover peer dhcp-failover: requesting full update from peer",
        "failover peer dhcp-failover: peer update completed.",
        "Sent update request all message to dhcp-failover",
        "Sent update request message to dhcp-failover",
        "peer dhcp-failover: disconnected",
    };
    for (const char* k : kKeep)
        if (text.rfind(k, 0) == 0) return true;
    return false;
}

struct LogLine {
    Time t;
    std::string text;
};

std::vector<LogLine> readLog(const std::string& path) {
    std::vector<LogLine> v;
    std::istringstream in(tandem::testdata::readFile(path));
    for (std::string line; std::getline(in, line);) {
        auto sp = line.find(' ');
        if (sp == std::string::npos) continue;
        LogLine l;
        l.t = Time(std::stod(line.substr(0, sp)));  // whole seconds, as ISC's cur_time
        l.text = line.substr(sp + 1);
        v.push_back(l);
    }
    return v;
}

// The time of the n-th (from 0) line starting with `text`.
Time timeOf(const std::vector<LogLine>& log, const std::string& text, int n = 0) {
    for (const auto& l : log)
        if (l.text.rfind(text, 0) == 0 && n-- == 0) return l.t;
    CPPUNIT_FAIL("log line not found: " + text);
    return 0;
}

struct Server {
    std::string label;
    Facts f;
    std::deque<Wire> outbox;  // to the other server
    int requestsToAnswer = 0;
    std::map<TimerKind, Time> timers;
    std::vector<std::string> produced;
    bool alive = false;
};

class Pair {
public:
    Pair(uint32_t mclt) : mclt_(mclt) {
        a_.label = "A";
        a_.f.name = b_.f.name = "dhcp-failover";
        a_.f.role = Role::Primary;
        b_.f.role = Role::Secondary;
    }
    Server& a() { return a_; }
    Server& b() { return b_; }
    Server& other(Server& s) { return &s == &a_ ? b_ : a_; }

    // Starts a server; a fresh one has an empty lease file: recover, with stos the
    // time ISC read its configuration (it logs "Wrote 0 leases" then).
    void start(Server& s, Time t, bool fresh, Time configRead = 0) {
        if (fresh) {
            s.f.me = Me::Recover;
            s.f.peer = Peer::UnknownState;
            s.f.stos = configRead;
            s.f.outstanding = UpdateRequest::None;
            // The primary has MCLT from its config; the secondary learns it from CONNECT.
            s.f.mclt = s.f.role == Role::Primary ? mclt_ : 0;
        }
        s.alive = true;
        s.f.linked = false;
        s.outbox.clear();
        s.timers.clear();
        s.requestsToAnswer = 0;
        feed(s, t, Event::start());
    }
    void kill(Server& s) {
        s.alive = false;
        s.f.linked = false;
        s.outbox.clear();
        other(s).outbox.clear();
    }
    void link(Time t) {
        b_.f.mclt = mclt_;  // CONNECT carries it
        feed(b_, t, Event::linkUp());  // the secondary sends STATE after its CONNECTACK
        feed(a_, t, Event::linkUp());  // the primary on receiving it
    }
    // Delivers the next message `to` has waiting from the other server.
    void deliver(Server& to, Time t) {
        Server& from = other(to);
        CPPUNIT_ASSERT_MESSAGE("nothing in flight to " + to.label, !from.outbox.empty());
        Wire w = from.outbox.front();
        from.outbox.pop_front();
        switch (w.type) {
            case MessageType::FTM_STATE: feed(to, t, Event::peerState(w.state, w.startup)); break;
            case MessageType::FTM_UPDREQ:
            case MessageType::FTM_UPDREQALL: ++to.requestsToAnswer; break;
            case MessageType::FTM_UPDDONE: feed(to, t, Event::updDone()); break;
            default: CPPUNIT_FAIL("unexpected message");
        }
    }
    // `s` has sent all the BNDUPDs its peer asked for and had them ACKed: one UPDDONE.
    void answer(Server& s) {
        CPPUNIT_ASSERT_MESSAGE(s.label + " has no request to answer", s.requestsToAnswer > 0);
        s.requestsToAnswer = 0;
        s.outbox.push_back({MessageType::FTM_UPDDONE});
    }
    void lose(Server& s, Time t) {
        s.outbox.clear();
        other(s).outbox.clear();
        feed(s, t, Event::connectionLost());
    }
    // Fires `s`'s timers due by t; returns the times they fired at.
    std::vector<Time> advance(Server& s, Time t) {
        std::vector<Time> fired;
        for (bool again = true; again;) {
            again = false;
            for (auto it = s.timers.begin(); it != s.timers.end(); ++it) {
                if (it->second > t) continue;
                TimerKind k = it->first;
                Time at = it->second;
                s.timers.erase(it);
                fired.push_back(at);
                feed(s, at, k == TimerKind::Startup       ? Event::startupTimer()
                            : k == TimerKind::RecoverWait ? Event::recoverWaitTimer()
                                                          : Event::autoPartnerDownTimer());
                again = true;
                break;
            }
        }
        return fired;
    }

private:
    void feed(Server& s, Time t, const Event& e) {
        s.f.now = t;
        Decision d = decide(s.f, e);
        Facts mine = s.f;
        for (const auto& eff : d.effects) {
            if (auto* m = std::get_if<Move>(&eff)) {
                if (m->to == Me::Startup && m->from != Me::Startup) mine.saved = m->from;
                mine.me = m->to;
                mine.stos = m->stos;
            } else if (auto* p = std::get_if<SetPeer>(&eff)) {
                mine.peer = p->state;
            } else if (auto* snd = std::get_if<Send>(&eff)) {
                if (snd->type == MessageType::FTM_STATE)
                    s.outbox.push_back({snd->type, mine.me == Me::Startup ? mine.saved : mine.me, mine.me == Me::Startup});
                else
                    s.outbox.push_back({snd->type});
            } else if (auto* l = std::get_if<Log>(&eff)) {
                if (keepLine(l->text)) s.produced.push_back(l->text);
            } else if (auto* a = std::get_if<ArmTimer>(&eff)) {
                s.timers[a->timer] = a->at;
            } else if (auto* c = std::get_if<CancelTimer>(&eff)) {
                s.timers.erase(c->timer);
            }
        }
        // Decision.after must be what applying the effects gives.
        CPPUNIT_ASSERT(mine.me == d.after.me);
        CPPUNIT_ASSERT_EQUAL(mine.stos, d.after.stos);
        CPPUNIT_ASSERT(mine.peer == d.after.peer);
        CPPUNIT_ASSERT(mine.saved == d.after.saved || d.after.me != Me::Startup);
        s.f = d.after;
    }

    uint32_t mclt_;
    Server a_, b_;
};

void compareLogs(const std::string& label, const std::vector<LogLine>& file, const std::vector<std::string>& produced) {
    std::vector<std::string> expected;
    for (const auto& l : file)
        if (keepLine(l.text)) expected.push_back(l.text);
    CPPUNIT_ASSERT_MESSAGE(label + ": no failover lines in the log", expected.size() > 10);
    for (std::size_t i = 0; i < std::max(expected.size(), produced.size()); ++i) {
        std::string e = i < expected.size() ? expected[i] : "(end)";
        std::string p = i < produced.size() ? produced[i] : "(end)";
        CPPUNIT_ASSERT_EQUAL_MESSAGE(label + " line " + std::to_string(i), e, p);
    }
}

// Replays the six phases of one capture run (canonical: mclt 3600; mclt60: 60).
void replay(const std::string& dir, uint32_t mclt) {
    std::string pa = tandem::testdata::capturePath(dir + "capture-A-dhcpd.log");
    std::string pb = tandem::testdata::capturePath(dir + "capture-B-dhcpd.log");
    if (pa.empty() || pb.empty()) TANDEM_SKIP("shared/captures/" + dir + "capture-{A,B}-dhcpd.log not found");
    auto logA = readLog(pa), logB = readLog(pb);
    Pair p(mclt);
    Server &A = p.a(), &B = p.b();

    // Phase 01: both start with empty lease files; recover -> recover-done -> normal.
    const std::string wrote = "Wrote 0 leases to leases file.";
    p.start(B, timeOf(logB, "failover peer dhcp-failover: I move from recover to startup"), true, timeOf(logB, wrote));
    p.start(A, timeOf(logA, "failover peer dhcp-failover: I move from recover to startup"), true, timeOf(logA, wrote));
    Time t = timeOf(logA, "failover peer dhcp-failover: peer moves from unknown-state to recover");
    p.link(t);
    p.deliver(A, t);  // B's STATE recover (startup)
    p.deliver(B, t);  // A's STATE recover (startup)
    p.deliver(B, t);  // A's STATE recover
    p.deliver(A, t);  // B's STATE recover
    p.deliver(B, t);  // A's two UPDREQALLs
    p.deliver(B, t);
    p.deliver(A, t);  // B's two UPDREQALLs
    p.deliver(A, t);
    p.answer(B);      // the BNDUPDs are ACKed: UPDDONE
    p.answer(A);
    p.deliver(A, t);  // UPDDONE: peer still recover -> recover-done
    p.deliver(B, t);
    p.deliver(A, t);  // STATE recover-done: both -> normal
    p.deliver(B, t);
    p.deliver(B, t);  // STATE normal
    p.deliver(A, t);
    CPPUNIT_ASSERT(A.f.me == Me::Normal && B.f.me == Me::Normal);

    // Phase 04: kill -9 of the primary; the secondary sees the socket close.
    p.kill(A);
    p.lose(B, timeOf(logB, "peer dhcp-failover: disconnected"));

    // Phase 05: the primary restarts with its lease file (saved normal).
    t = timeOf(logA, "failover peer dhcp-failover: I move from normal to startup");
    p.start(A, t, false);
    p.link(t);
    p.deliver(A, t);  // B's STATE communications-interrupted
    p.deliver(B, t);  // A's STATE normal (startup): B goes normal
    p.deliver(B, t);  // A's STATE normal: a repeat, ignored
    p.deliver(A, t);  // B's STATE normal
    CPPUNIT_ASSERT(A.f.me == Me::Normal && B.f.me == Me::Normal);

    // Phase 06: the secondary stops, restarts with an empty lease file.
    p.kill(B);
    p.lose(A, timeOf(logA, "peer dhcp-failover: disconnected"));
    t = timeOf(logB, "failover peer dhcp-failover: I move from recover to startup", 1);
    const Time bStos = timeOf(logB, wrote, 1);
    p.start(B, t, true, bStos);
    p.link(t);
    p.deliver(A, t);  // B's STATE recover (startup): A -> partner-down
    p.deliver(B, t);  // A's STATE communications-interrupted: B -> recover, UPDREQALL
    p.deliver(B, t);  // A's STATE partner-down: UPDREQALL again
    p.deliver(A, t);  // B's STATE recover
    p.deliver(A, t);  // two UPDREQALLs
    p.deliver(A, t);
    p.answer(A);
    p.deliver(B, t);  // UPDDONE: stos + MCLT is ahead, peer partner-down -> recover-wait
    p.deliver(A, t);  // STATE recover-wait
    CPPUNIT_ASSERT(B.f.me == Me::RecoverWait);
    CPPUNIT_ASSERT(A.f.me == Me::PartnerDown);
    // The wait ends at the secondary's stos (when it read its configuration) + MCLT.
    CPPUNIT_ASSERT_EQUAL(bStos + Time(mclt), B.timers.at(TimerKind::RecoverWait));

    Time end = logB.back().t;
    if (mclt == 60) {
        Time done = timeOf(logB, "failover peer dhcp-failover: I move from recover-wait to recover-done");
        CPPUNIT_ASSERT(p.advance(B, done - 1).empty());
        auto fired = p.advance(B, done);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), fired.size());
        CPPUNIT_ASSERT_EQUAL(done, fired[0]);  // exactly when ISC logged it
        p.deliver(A, done);  // STATE recover-done: A partner-down -> normal
        p.deliver(B, done);  // STATE normal: B -> normal
        p.deliver(A, done);  // STATE normal
        CPPUNIT_ASSERT(A.f.me == Me::Normal && B.f.me == Me::Normal);
    } else {
        CPPUNIT_ASSERT(p.advance(B, end).empty());  // MCLT 3600 outlasts the capture
    }
    p.kill(A);
    p.lose(B, timeOf(logB, "peer dhcp-failover: disconnected", 1));

    // No startup timer may be left over from any start.
    CPPUNIT_ASSERT(!A.timers.count(TimerKind::Startup));
    CPPUNIT_ASSERT(!B.timers.count(TimerKind::Startup));
    compareLogs(dir + "A (primary)", logA, A.produced);
    compareLogs(dir + "B (secondary)", logB, B.produced);
}

}  // namespace

class StateMachineTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(StateMachineTest);
    CPPUNIT_TEST(testEveryCellOfThePeerStateTable);
    CPPUNIT_TEST(testTableAccessors);
    CPPUNIT_TEST(testStartupUsesTheSavedStateRow);
    CPPUNIT_TEST(testStartupWithRecoverSendsOneUpdReqAll);
    CPPUNIT_TEST(testPartnerDownIgnoresAStartingPeer);
    CPPUNIT_TEST(testRepeatedPeerState);
    CPPUNIT_TEST(testInvalidPeerStateCode);
    CPPUNIT_TEST(testPeerConflictDoneAfterPotentialConflict);
    CPPUNIT_TEST(testStartEntersStartupKeepingStos);
    CPPUNIT_TEST(testLinkUpSendsState);
    CPPUNIT_TEST(testConnectionLostEveryState);
    CPPUNIT_TEST(testConnectionLostFromStartup);
    CPPUNIT_TEST(testStartupTimerAfterFifteenSeconds);
    CPPUNIT_TEST(testUpdDoneInRecover);
    CPPUNIT_TEST(testRecoverWaitUntilStosPlusMclt);
    CPPUNIT_TEST(testRecoverWaitAlreadyOverAfterRestart);
    CPPUNIT_TEST(testUpdDoneInConflictResolution);
    CPPUNIT_TEST(testEnteringPotentialConflictByRole);
    CPPUNIT_TEST(testUpdReqIsUpgradedAfterInterruptedUpdReqAll);
    CPPUNIT_TEST(testAutoPartnerDownAfterNSeconds);
    CPPUNIT_TEST(testAutoPartnerDownCancelledOnReconnect);
    CPPUNIT_TEST(testEnteringNormalRebalancesAndSends);
    CPPUNIT_TEST(testEnteringPartnerDownSetsExpiredTsfp);
    CPPUNIT_TEST(testAdminStateChanges);
    CPPUNIT_TEST(testShutdownToRecoverSkipsMcltWait);
    CPPUNIT_TEST(testFatalCellsDoNotExit);
    CPPUNIT_TEST(testServiceStates);
    CPPUNIT_TEST(testServiceExplanations);
    CPPUNIT_TEST(testReplayCanonicalCapture);
    CPPUNIT_TEST(testReplayMclt60Capture);
    CPPUNIT_TEST_SUITE_END();

public:
    // All 13 x 13 cells of the reference's peer-STATE table, one expectTransition each.
    void testEveryCellOfThePeerStateTable() {
        gCellsChecked = 0;
        gCellsSeen.clear();
        for (std::size_t r = 0; r < kStateCount; ++r) {
            Me me = stateAt(r);
            for (std::size_t c = 0; c < kStateCount; ++c) {
                if (me == Me::Startup) {
                    // Startup is only a row through a saved state of startup; it reacts to nothing.
                    Facts f = facts(Me::Startup);
                    f.saved = Me::Startup;
                    f.peer = stateAt(c) == Peer::Paused ? Peer::Normal : Peer::Paused;
                    Decision d = decide(f, Event::peerState(stateAt(c)));
                    CPPUNIT_ASSERT(!d.moved());
                    CPPUNIT_ASSERT(kExpected[r][c] == Then::Stay);
                    gCellsSeen.insert({int(r), int(c)});
                    ++gCellsChecked;
                    continue;
                }
                expectTransition(me, stateAt(c), kExpected[r][c]);
            }
        }
        CPPUNIT_ASSERT_EQUAL(169, gCellsChecked);
        CPPUNIT_ASSERT_EQUAL(std::size_t(169), gCellsSeen.size());
        // Spot checks in the form the architecture guide asks for.
        expectTransition(Me::Normal, Peer::Shutdown, Then::PartnerDown);
        expectTransition(Me::CommunicationsInterrupted, Peer::Recover, Then::PartnerDown);
        expectTransition(Me::PartnerDown, Peer::RecoverDone, Then::Normal);
    }

    // Indexing maps recover-wait (254) to the last row and back.
    void testTableAccessors() {
        CPPUNIT_ASSERT_EQUAL(std::size_t(12), stateIndex(Me::RecoverWait));
        CPPUNIT_ASSERT(stateAt(12) == Me::RecoverWait);
        for (std::size_t i = 0; i < kStateCount; ++i) CPPUNIT_ASSERT_EQUAL(i, stateIndex(stateAt(i)));
        CPPUNIT_ASSERT(peerStateReaction(Me::Normal, Peer::Recover).reaction == Reaction::Go);
        CPPUNIT_ASSERT(peerStateReaction(Me::Normal, Peer::Recover).target == Me::PartnerDown);
        CPPUNIT_ASSERT(peerStateReaction(Me::ConflictDone, Peer::Recover).reaction == Reaction::Fatal);
    }

    // In startup the saved state's row applies; normal + partner-down then means recover.
    void testStartupUsesTheSavedStateRow() {
        Facts f = facts(Me::Startup, Peer::Normal);
        f.saved = Me::Normal;
        Decision d = decide(f, Event::peerState(Peer::PartnerDown));
        CPPUNIT_ASSERT(d.after.me == Me::Recover);
        CPPUNIT_ASSERT(has(d, "move startup -> recover stos " + std::to_string(f.stos)));  // stos kept
        CPPUNIT_ASSERT_EQUAL(1, count(d, "send UPDREQALL"));
        CPPUNIT_ASSERT(has(d, "cancel startup"));
        // A cell that does nothing: startup still ends, into the saved state.
        d = decide(f, Event::peerState(Peer::CommunicationsInterrupted));
        CPPUNIT_ASSERT(d.after.me == Me::Normal);
        CPPUNIT_ASSERT(logs(d).back().find("I move from startup to normal") != std::string::npos ||
                       has(d, "I move from startup to normal"));
    }

    // Saved recover and a recovering peer: the table only logs; leaving startup sends the one UPDREQALL.
    void testStartupWithRecoverSendsOneUpdReqAll() {
        Facts f = facts(Me::Startup);
        f.saved = Me::Recover;
        Decision d = decide(f, Event::peerState(Peer::Recover, true));
        std::vector<std::string> want = {
            "failover peer dhcp-failover: peer moves from unknown-state to recover",
            "failover peer dhcp-failover: requesting full update from peer",
            "failover peer dhcp-failover: I move from startup to recover",
            "Sent update request all message to dhcp-failover",
        };
        CPPUNIT_ASSERT(logs(d) == want);
        CPPUNIT_ASSERT_EQUAL(1, count(d, "send UPDREQALL"));
        CPPUNIT_ASSERT(d.after.outstanding == UpdateRequest::UpdReqAll);
        CPPUNIT_ASSERT(d.after.peerStartup);
    }

    // partner-down takes no action on a STATE with the STARTUP flag.
    void testPartnerDownIgnoresAStartingPeer() {
        Decision d = decide(facts(Me::PartnerDown), Event::peerState(Peer::Normal, true));
        CPPUNIT_ASSERT(!d.moved());
        CPPUNIT_ASSERT(d.after.peer == Peer::Normal);
        d = decide(facts(Me::PartnerDown), Event::peerState(Peer::Normal, false));
        CPPUNIT_ASSERT(d.after.me == Me::PotentialConflict);
        // In startup with saved partner-down the same rule holds, then startup ends.
        Facts f = facts(Me::Startup);
        f.saved = Me::PartnerDown;
        d = decide(f, Event::peerState(Peer::Normal, true));
        CPPUNIT_ASSERT(d.after.me == Me::PartnerDown);
        CPPUNIT_ASSERT_EQUAL(1, count(d, "move startup ->"));
        CPPUNIT_ASSERT(!has(d, "potential-conflict"));
    }

    // A repeated state is ignored, except in startup (ends it) and where we wait on the peer.
    void testRepeatedPeerState() {
        Decision d = decide(facts(Me::Normal, Peer::Normal), Event::peerState(Peer::Normal));
        CPPUNIT_ASSERT(d.effects.empty());
        Facts s = facts(Me::Startup, Peer::Normal);
        s.saved = Me::CommunicationsInterrupted;
        d = decide(s, Event::peerState(Peer::Normal));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), logs(d).size());  // just "I move", no "peer moves"
        CPPUNIT_ASSERT(d.after.me == Me::CommunicationsInterrupted);
        d = decide(facts(Me::CommunicationsInterrupted, Peer::Normal), Event::peerState(Peer::Normal));
        CPPUNIT_ASSERT(has(d, "peer moves from normal to normal"));
        CPPUNIT_ASSERT(d.after.me == Me::Normal);
        for (Me quiet : {Me::PotentialConflict, Me::RecoverDone, Me::Shutdown, Me::Paused, Me::RecoverWait})
            CPPUNIT_ASSERT(decide(facts(quiet, Peer::Recover), Event::peerState(Peer::Recover)).effects.empty());
        for (Me loud : {Me::PartnerDown, Me::ResolutionInterrupted, Me::Recover, Me::ConflictDone})
            CPPUNIT_ASSERT(has(decide(facts(loud, Peer::Recover), Event::peerState(Peer::Recover)), "peer moves"));
        // unknown-state as our own state processes everything.
        CPPUNIT_ASSERT(has(decide(facts(Me::UnknownState, Peer::Normal), Event::peerState(Peer::Normal)), "peer moves"));
    }

    // A state code ISC does not know: logged, and we shut down.
    void testInvalidPeerStateCode() {
        Decision d = decide(facts(Me::Normal, Peer::Normal), Event::peerStateRaw(13));
        CPPUNIT_ASSERT(has(d, "log error: failover peer dhcp-failover: Invalid state: 13"));
        CPPUNIT_ASSERT(d.after.me == Me::Shutdown);
    }

    // potential-conflict and the peer reaching conflict-done: UPDREQ only from potential-conflict.
    void testPeerConflictDoneAfterPotentialConflict() {
        Decision d = decide(facts(Me::PotentialConflict, Peer::PotentialConflict, Role::Secondary),
                            Event::peerState(Peer::ConflictDone));
        CPPUNIT_ASSERT_EQUAL(1, count(d, "send UPDREQ"));
        CPPUNIT_ASSERT(has(d, "Sent update request message to dhcp-failover"));
        d = decide(facts(Me::PotentialConflict, Peer::Normal, Role::Secondary), Event::peerState(Peer::ConflictDone));
        CPPUNIT_ASSERT(!has(d, "send"));
        CPPUNIT_ASSERT(has(d, "log error: Peer dhcp-failover: Unexpected move to conflict-done."));
    }

    // Start: move to startup, the saved state remembered, stos kept, a 15 s timer.
    void testStartEntersStartupKeepingStos() {
        Facts f = facts(Me::Normal, Peer::Normal);
        f.linked = false;
        Decision d = decide(f, Event::start());
        CPPUNIT_ASSERT(d.after.me == Me::Startup);
        CPPUNIT_ASSERT(d.after.saved == Me::Normal);
        CPPUNIT_ASSERT_EQUAL(f.stos, d.after.stos);
        CPPUNIT_ASSERT(has(d, "arm startup at " + std::to_string(kT0 + 15)));
        CPPUNIT_ASSERT(!has(d, "send"));  // no link yet
        CPPUNIT_ASSERT_EQUAL(std::string("failover peer dhcp-failover: I move from normal to startup"), logs(d)[0]);
    }

    // A new link: tell the peer our state.
    void testLinkUpSendsState() {
        Facts f = facts(Me::Startup);
        f.linked = false;
        Decision d = decide(f, Event::linkUp());
        CPPUNIT_ASSERT(d.after.linked);
        CPPUNIT_ASSERT(describeAll(d) == std::vector<std::string>{"send STATE"});
    }

    // The lost-connection table for every own state.
    void testConnectionLostEveryState() {
        std::map<Me, Me> moves = {{Me::Normal, Me::CommunicationsInterrupted},
                                  {Me::PotentialConflict, Me::ResolutionInterrupted},
                                  {Me::UnknownState, Me::ResolutionInterrupted}};
        for (std::size_t i = 0; i < kStateCount; ++i) {
            Me me = stateAt(i);
            if (me == Me::Startup) continue;
            Decision d = decide(facts(me, Peer::Normal), Event::connectionLost());
            CPPUNIT_ASSERT_EQUAL(std::string("peer dhcp-failover: disconnected"), logs(d).at(0));
            CPPUNIT_ASSERT(!d.after.linked);
            Me want = moves.count(me) ? moves[me] : me;
            CPPUNIT_ASSERT_MESSAGE(std::string(toString(me)) + "\n" + joined(d), d.after.me == want);
            CPPUNIT_ASSERT_EQUAL(moves.count(me) != 0, d.moved());
            CPPUNIT_ASSERT(!has(d, "send"));  // no link to send on
        }
        // conflict-done stays and re-queues what was never ACKed.
        CPPUNIT_ASSERT(has(decide(facts(Me::ConflictDone), Event::connectionLost()), "task requeue-unacked"));
        // normal also re-queues on its way out.
        CPPUNIT_ASSERT(has(decide(facts(Me::Normal), Event::connectionLost()), "task requeue-unacked"));
        // Without a link there is nothing to report as disconnected.
        Facts f = facts(Me::Normal);
        f.linked = false;
        CPPUNIT_ASSERT(!has(decide(f, Event::connectionLost()), "disconnected"));
    }

    // From startup the rule uses the saved state, and a staying state just ends startup.
    void testConnectionLostFromStartup() {
        Facts f = facts(Me::Startup);
        f.saved = Me::Normal;
        Decision d = decide(f, Event::connectionLost());
        CPPUNIT_ASSERT(d.after.me == Me::CommunicationsInterrupted);
        CPPUNIT_ASSERT(has(d, "move startup -> communications-interrupted"));
        f.saved = Me::PartnerDown;
        CPPUNIT_ASSERT(decide(f, Event::connectionLost()).after.me == Me::PartnerDown);
        f.saved = Me::PotentialConflict;
        CPPUNIT_ASSERT(decide(f, Event::connectionLost()).after.me == Me::ResolutionInterrupted);
        f.saved = Me::Startup;  // nothing to go back to: stay
        CPPUNIT_ASSERT(!decide(f, Event::connectionLost()).moved());
    }

    // Saved normal, no STATE within 15 s: communications-interrupted at exactly start + 15.
    void testStartupTimerAfterFifteenSeconds() {
        Harness h;
        h.f = facts(Me::Normal, Peer::Normal);
        h.f.linked = false;
        h.feed(Event::start());
        h.runUntil(kT0 + 14);
        CPPUNIT_ASSERT(h.f.me == Me::Startup);
        h.runUntil(kT0 + 15);
        CPPUNIT_ASSERT(h.f.me == Me::CommunicationsInterrupted);
        CPPUNIT_ASSERT(has(h.history.back(), "I move from startup to communications-interrupted"));
        // Coming out of startup keeps the saved state's stos (ISC's rule).
        CPPUNIT_ASSERT_EQUAL(kT0 - 100, h.f.stos);
        // With a link that never sent STATE, the link is dropped too.
        Harness l;
        l.f = facts(Me::Recover);
        l.feed(Event::start());
        l.feed(Event::linkUp());
        l.runUntil(kT0 + 15);
        CPPUNIT_ASSERT(l.f.me == Me::Recover);
        CPPUNIT_ASSERT(has(l.history.back(), "task close-link"));
        CPPUNIT_ASSERT(!l.f.linked);
        // A timer firing outside startup changes nothing.
        CPPUNIT_ASSERT(decide(facts(Me::Normal), Event::startupTimer()).effects.empty());
    }

    // UPDDONE in recover: recover-done at once with a recovering peer (a new pair), else wait.
    void testUpdDoneInRecover() {
        Decision d = decide(facts(Me::Recover, Peer::Recover), Event::updDone());
        CPPUNIT_ASSERT_EQUAL(std::string("failover peer dhcp-failover: peer update completed."), logs(d).at(0));
        CPPUNIT_ASSERT(d.after.me == Me::RecoverDone);
        CPPUNIT_ASSERT(decide(facts(Me::Recover, Peer::RecoverDone), Event::updDone()).after.me == Me::RecoverDone);
        Facts f = facts(Me::Recover, Peer::PartnerDown);
        d = decide(f, Event::updDone());
        CPPUNIT_ASSERT(d.after.me == Me::RecoverWait);
        CPPUNIT_ASSERT_EQUAL(f.stos, d.after.stos);  // recover-wait keeps recover's clock
        CPPUNIT_ASSERT(has(d, "arm recover-wait at " + std::to_string(f.stos + 3600)));
        f.stos = kT0 - 3600;  // MCLT already over
        CPPUNIT_ASSERT(decide(f, Event::updDone()).after.me == Me::RecoverDone);
        f.outstanding = UpdateRequest::UpdReqAll;
        CPPUNIT_ASSERT(decide(f, Event::updDone()).after.outstanding == UpdateRequest::None);
        // Elsewhere UPDDONE only logs.
        for (Me me : {Me::Normal, Me::PartnerDown, Me::CommunicationsInterrupted, Me::RecoverWait})
            CPPUNIT_ASSERT(!decide(facts(me), Event::updDone()).moved());
    }

    // recover-wait lasts until stos + MCLT (ManualClock, one-second steps).
    void testRecoverWaitUntilStosPlusMclt() {
        Harness h;
        h.f = facts(Me::Recover, Peer::PartnerDown);
        h.f.mclt = 60;
        h.f.stos = kT0 - 2;
        h.feed(Event::updDone());
        CPPUNIT_ASSERT(h.f.me == Me::RecoverWait);
        h.runUntil(kT0 + 57);
        CPPUNIT_ASSERT(h.f.me == Me::RecoverWait);
        h.runUntil(kT0 + 58);
        CPPUNIT_ASSERT(h.f.me == Me::RecoverDone);
        CPPUNIT_ASSERT_EQUAL(kT0 + 58, h.f.stos);
        CPPUNIT_ASSERT(has(h.history.back(), "I move from recover-wait to recover-done"));
        // The peer, in partner-down, then sees recover-done and goes normal; so do we.
        h.feed(Event::peerState(Peer::Normal));
        CPPUNIT_ASSERT(h.f.me == Me::Normal);
        // A stray timer outside recover-wait does nothing.
        CPPUNIT_ASSERT(decide(facts(Me::Normal), Event::recoverWaitTimer()).effects.empty());
    }

    // Restarted in recover-wait after the wait is over: recover-done at once.
    void testRecoverWaitAlreadyOverAfterRestart() {
        Facts f = facts(Me::Startup, Peer::PartnerDown);
        f.saved = Me::RecoverWait;
        f.stos = kT0 - 4000;
        f.mclt = 3600;
        Decision d = decide(f, Event::peerState(Peer::PartnerDown));  // a repeat: ends startup
        CPPUNIT_ASSERT(d.after.me == Me::RecoverDone);
        CPPUNIT_ASSERT(has(d, "move startup -> recover-wait"));
        CPPUNIT_ASSERT(has(d, "move recover-wait -> recover-done"));
        CPPUNIT_ASSERT(!has(d, "arm"));
        f.stos = kT0 - 10;  // still waiting: a timer instead
        d = decide(f, Event::peerState(Peer::PartnerDown));
        CPPUNIT_ASSERT(d.after.me == Me::RecoverWait);
        CPPUNIT_ASSERT(has(d, "arm recover-wait at " + std::to_string(kT0 - 10 + 3600)));
    }

    // UPDDONE during conflict resolution, by role and the peer's state.
    void testUpdDoneInConflictResolution() {
        CPPUNIT_ASSERT(decide(facts(Me::PotentialConflict, Peer::PotentialConflict, Role::Primary), Event::updDone())
                           .after.me == Me::ConflictDone);
        Decision d = decide(facts(Me::PotentialConflict, Peer::PotentialConflict, Role::Secondary), Event::updDone());
        CPPUNIT_ASSERT(!d.moved());
        CPPUNIT_ASSERT(has(d, "log error: Spurious update-done message."));
        CPPUNIT_ASSERT(decide(facts(Me::PotentialConflict, Peer::ConflictDone, Role::Secondary), Event::updDone())
                           .after.me == Me::Normal);
        d = decide(facts(Me::PotentialConflict, Peer::ConflictDone, Role::Primary), Event::updDone());
        CPPUNIT_ASSERT(d.after.me == Me::Shutdown);
        CPPUNIT_ASSERT(has(d, "Secondary is in conflict_done state after conflict resolution, this is illegal."));
        d = decide(facts(Me::ConflictDone), Event::updDone());
        CPPUNIT_ASSERT(!d.moved());
        CPPUNIT_ASSERT(has(d, "Spurious update-done message."));
        // The primary then waits in conflict-done for the secondary's normal.
        CPPUNIT_ASSERT(decide(facts(Me::ConflictDone, Peer::PotentialConflict), Event::peerState(Peer::Normal))
                           .after.me == Me::Normal);
    }

    // Entering potential-conflict: the primary asks at once, the secondary only after conflict-done.
    void testEnteringPotentialConflictByRole() {
        Decision d = decide(facts(Me::PartnerDown, Peer::CommunicationsInterrupted, Role::Primary),
                            Event::peerState(Peer::Normal));
        CPPUNIT_ASSERT(d.after.me == Me::PotentialConflict);
        CPPUNIT_ASSERT_EQUAL(1, count(d, "send UPDREQ"));
        CPPUNIT_ASSERT(d.after.outstanding == UpdateRequest::UpdReq);
        d = decide(facts(Me::PartnerDown, Peer::CommunicationsInterrupted, Role::Secondary),
                   Event::peerState(Peer::Normal));
        CPPUNIT_ASSERT(d.after.me == Me::PotentialConflict);
        CPPUNIT_ASSERT(!has(d, "send UPDREQ"));
        d = decide(facts(Me::ResolutionInterrupted, Peer::Normal, Role::Secondary), Event::peerState(Peer::ConflictDone));
        CPPUNIT_ASSERT(d.after.me == Me::PotentialConflict);
        CPPUNIT_ASSERT_EQUAL(1, count(d, "send UPDREQ"));
        // No link, no request (admin moves while apart).
        Facts f = facts(Me::Normal);
        f.linked = false;
        CPPUNIT_ASSERT(!has(decide(f, Event::admin(Me::PotentialConflict)), "send"));
    }

    // An UPDREQALL cut short by a lost link turns a later UPDREQ into UPDREQALL.
    void testUpdReqIsUpgradedAfterInterruptedUpdReqAll() {
        Facts f = facts(Me::PartnerDown, Peer::CommunicationsInterrupted, Role::Primary);
        f.outstanding = UpdateRequest::UpdReqAll;
        Decision d = decide(f, Event::peerState(Peer::Normal));
        CPPUNIT_ASSERT_EQUAL(1, count(d, "send UPDREQALL"));
        CPPUNIT_ASSERT(!has(d, "send UPDREQ\n") && count(d, "send UPDREQ") == 1);
        CPPUNIT_ASSERT(has(d, "Sent update request all message to dhcp-failover"));
    }

    // auto-partner-down N: partner-down N seconds after communications-interrupted.
    void testAutoPartnerDownAfterNSeconds() {
        Harness h;
        h.f = facts(Me::Normal, Peer::Normal);
        h.f.autoPartnerDown = 30;
        h.feed(Event::connectionLost());
        CPPUNIT_ASSERT(h.f.me == Me::CommunicationsInterrupted);
        CPPUNIT_ASSERT_EQUAL(kT0 + 30, h.timers.at(TimerKind::AutoPartnerDown));
        h.runUntil(kT0 + 29);
        CPPUNIT_ASSERT(h.f.me == Me::CommunicationsInterrupted);
        h.runUntil(kT0 + 30);
        CPPUNIT_ASSERT(h.f.me == Me::PartnerDown);
        CPPUNIT_ASSERT_EQUAL(kT0 + 30, h.f.stos);
        CPPUNIT_ASSERT(has(h.history.back(), "task expired-tsfp " + std::to_string(kT0 + 30 + 3600)));
        // Off by default: no timer.
        CPPUNIT_ASSERT(!has(decide(facts(Me::Normal), Event::connectionLost()), "arm"));
        CPPUNIT_ASSERT(decide(facts(Me::Normal), Event::autoPartnerDownTimer()).effects.empty());
    }

    // Any state change cancels the auto-partner-down timer.
    void testAutoPartnerDownCancelledOnReconnect() {
        Harness h;
        h.f = facts(Me::Normal, Peer::Normal);
        h.f.autoPartnerDown = 30;
        h.feed(Event::connectionLost());
        h.runUntil(kT0 + 10);
        h.feed(Event::linkUp());
        h.feed(Event::peerState(Peer::CommunicationsInterrupted));
        CPPUNIT_ASSERT(h.f.me == Me::Normal);
        CPPUNIT_ASSERT(!h.timers.count(TimerKind::AutoPartnerDown));
        h.runUntil(kT0 + 60);
        CPPUNIT_ASSERT(h.f.me == Me::Normal);
    }

    // Entering normal: STATE, then rebalance, queue and send the updates; "Both servers normal".
    void testEnteringNormalRebalancesAndSends() {
        Decision d = decide(facts(Me::RecoverDone, Peer::RecoverDone), Event::peerState(Peer::Normal));
        auto v = describeAll(d);
        auto at = [&](const std::string& s) { return std::find(v.begin(), v.end(), s) - v.begin(); };
        CPPUNIT_ASSERT(at("send STATE") < at("task balance-pools"));
        CPPUNIT_ASSERT(at("task balance-pools") < at("task queue-updates"));
        CPPUNIT_ASSERT(at("task queue-updates") < at("task send-updates"));
        CPPUNIT_ASSERT(at("task send-updates") < long(v.size()));
        CPPUNIT_ASSERT(has(d, "log info: failover peer dhcp-failover: Both servers normal"));
        // Not yet both normal: no such line.
        CPPUNIT_ASSERT(!has(decide(facts(Me::RecoverDone, Peer::Recover), Event::peerState(Peer::RecoverDone)),
                            "Both servers normal"));
    }

    // Entering partner-down: EXPIRED/RELEASED/RESET leases get tsfp = stos + MCLT.
    void testEnteringPartnerDownSetsExpiredTsfp() {
        Decision d = decide(facts(Me::CommunicationsInterrupted), Event::admin(Me::PartnerDown));
        CPPUNIT_ASSERT(d.after.me == Me::PartnerDown);
        CPPUNIT_ASSERT(has(d, "task expired-tsfp " + std::to_string(kT0 + 3600)));
    }

    // The administrator sets any state; shutdown is announced to the peer.
    void testAdminStateChanges() {
        Decision d = decide(facts(Me::Normal, Peer::Normal), Event::admin(Me::Shutdown));
        CPPUNIT_ASSERT(d.after.me == Me::Shutdown);
        CPPUNIT_ASSERT(has(d, "send STATE"));
        CPPUNIT_ASSERT(has(d, "task requeue-unacked"));
        d = decide(facts(Me::Normal), Event::admin(Me::Normal));  // even the same state
        CPPUNIT_ASSERT(has(d, "I move from normal to normal"));
        CPPUNIT_ASSERT_EQUAL(kT0, d.after.stos);
        // The peer announcing shutdown puts a normal server in partner-down.
        CPPUNIT_ASSERT(decide(facts(Me::Normal, Peer::Normal), Event::peerState(Peer::Shutdown)).after.me ==
                       Me::PartnerDown);
    }

    // shutdown -> recover while the peer is in partner-down with nothing pending skips the MCLT wait.
    void testShutdownToRecoverSkipsMcltWait() {
        Facts f = facts(Me::Shutdown, Peer::PartnerDown);
        Decision d = decide(f, Event::admin(Me::Recover));
        CPPUNIT_ASSERT_EQUAL(kT0 - 3600, d.after.stos);
        CPPUNIT_ASSERT(decide(d.after, Event::updDone()).after.me == Me::RecoverDone);
        f.updatesPending = true;
        CPPUNIT_ASSERT_EQUAL(kT0, decide(f, Event::admin(Me::Recover)).after.stos);
        f.updatesPending = false;
        f.peer = Peer::Normal;
        CPPUNIT_ASSERT_EQUAL(kT0, decide(f, Event::admin(Me::Recover)).after.stos);
    }

    // ISC's log_fatal cells: logged with ISC's text, then shutdown, persisted and announced.
    void testFatalCellsDoNotExit() {
        Decision d = decide(facts(Me::ConflictDone, Peer::PotentialConflict), Event::peerState(Peer::Recover));
        auto l = logs(d);
        CPPUNIT_ASSERT(std::find(l.begin(), l.end(),
                                 "Peer dhcp-failover: Invalid attempt to move from potential-conflict to recover while "
                                 "local state is conflict-done.") != l.end());
        CPPUNIT_ASSERT(d.after.me == Me::Shutdown);
        CPPUNIT_ASSERT(has(d, "send STATE"));
    }

    // ISC's service states, including the peer states that silence us.
    void testServiceStates() {
        CPPUNIT_ASSERT(serviceState(Me::Normal, Peer::Normal) == ServiceState::Cooperating);
        CPPUNIT_ASSERT(serviceState(Me::CommunicationsInterrupted, Peer::Normal) == ServiceState::NotCooperating);
        CPPUNIT_ASSERT(serviceState(Me::PartnerDown, Peer::Recover) == ServiceState::PartnerDown);
        CPPUNIT_ASSERT(serviceState(Me::Startup, Peer::Normal) == ServiceState::Startup);
        for (Me me : {Me::UnknownState, Me::PotentialConflict, Me::Recover, Me::Paused, Me::Shutdown, Me::RecoverDone,
                      Me::ResolutionInterrupted, Me::ConflictDone, Me::RecoverWait})
            CPPUNIT_ASSERT(serviceState(me, Peer::Normal) == ServiceState::NotResponding);
        for (Me me : {Me::Normal, Me::CommunicationsInterrupted, Me::PartnerDown, Me::Startup})
            for (Peer p : {Peer::PartnerDown, Peer::PotentialConflict, Peer::ConflictDone, Peer::ResolutionInterrupted})
                CPPUNIT_ASSERT(serviceState(me, p) == ServiceState::NotResponding);
        for (Peer p : {Peer::Recover, Peer::RecoverWait, Peer::Shutdown, Peer::CommunicationsInterrupted})
            CPPUNIT_ASSERT(serviceState(Me::Normal, p) == ServiceState::Cooperating);
        ServiceStatus s = serviceStatus(facts(Me::Normal, Peer::Normal));
        CPPUNIT_ASSERT(s.serves && s.loadBalances);
        s = serviceStatus(facts(Me::CommunicationsInterrupted, Peer::Normal));
        CPPUNIT_ASSERT(s.serves && !s.loadBalances);
        s = serviceStatus(facts(Me::Startup));
        CPPUNIT_ASSERT(!s.serves);
        CPPUNIT_ASSERT_EQUAL(std::string(" (startup)"), s.nrr);
    }

    // The why and until-when for tandemctl status.
    void testServiceExplanations() {
        Facts f = facts(Me::RecoverWait, Peer::PartnerDown);
        ServiceStatus s = serviceStatus(f);
        CPPUNIT_ASSERT(!s.serves);
        CPPUNIT_ASSERT_EQUAL(std::string(" (recover wait)"), s.nrr);
        CPPUNIT_ASSERT_EQUAL(f.stos + 3600, s.until);
        CPPUNIT_ASSERT(s.explanation.find("until " + formatLogTime(f.stos + 3600)) != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::string("2026/11/22 09:49:51"), formatLogTime(kT0));
        s = serviceStatus(facts(Me::Normal, Peer::PartnerDown));
        CPPUNIT_ASSERT(!s.serves);
        CPPUNIT_ASSERT_EQUAL(std::string(" (peer demands: recovering)"), s.nrr);
        s = serviceStatus(facts(Me::CommunicationsInterrupted, Peer::ConflictDone));
        CPPUNIT_ASSERT_EQUAL(std::string(" (peer demands: resolving conflicts)"), s.nrr);
        CPPUNIT_ASSERT(s.explanation.find("conflict-done") != std::string::npos);
        Facts st = facts(Me::Startup);
        st.saved = Me::Normal;
        s = serviceStatus(st, kT0 + 15);
        CPPUNIT_ASSERT_EQUAL(kT0 + 15, s.until);
        CPPUNIT_ASSERT(s.explanation.find("normal") != std::string::npos);
        Facts ci = facts(Me::CommunicationsInterrupted, Peer::Normal);
        ci.autoPartnerDown = 600;
        s = serviceStatus(ci);
        CPPUNIT_ASSERT(s.serves);
        CPPUNIT_ASSERT_EQUAL(ci.stos + 600, s.until);
        CPPUNIT_ASSERT_EQUAL(std::string(" (resolving conflicts)"), serviceStatus(facts(Me::PotentialConflict)).nrr);
        CPPUNIT_ASSERT_EQUAL(std::string(" (shut down)"), serviceStatus(facts(Me::Shutdown)).nrr);
        CPPUNIT_ASSERT_EQUAL(std::string(" (recovering)"), serviceStatus(facts(Me::Recover)).nrr);
        CPPUNIT_ASSERT_EQUAL(std::string(" (recover done)"), serviceStatus(facts(Me::RecoverDone)).nrr);
        CPPUNIT_ASSERT_EQUAL(std::string(" (paused)"), serviceStatus(facts(Me::Paused)).nrr);
        CPPUNIT_ASSERT_EQUAL(std::string(" (my state unknown)"), serviceStatus(facts(Me::UnknownState)).nrr);
        // partner-down serves, and says when the peer's leases become usable.
        Facts pd = facts(Me::PartnerDown, Peer::Recover);
        pd.stos = kT0 - 60;
        s = serviceStatus(pd);
        CPPUNIT_ASSERT(s.serves && !s.loadBalances);
        CPPUNIT_ASSERT_EQUAL(kT0 - 60 + 3600, s.until);
        pd.stos = kT0 - 4000;
        CPPUNIT_ASSERT_EQUAL(Time(0), serviceStatus(pd).until);  // already usable
        // A starting server silenced by a peer in partner-down says so, as ISC's nrr does.
        CPPUNIT_ASSERT_EQUAL(std::string(" (peer demands: recovering)"), serviceStatus(facts(Me::Startup, Peer::PartnerDown)).nrr);
    }

    // Both ISC servers' logged state sequences (mclt 3600 run), all six phases.
    void testReplayCanonicalCapture() { replay("", 3600); }

    // The mclt 60 run, where recover-wait runs out on time.
    void testReplayMclt60Capture() { replay("mclt60/", 60); }
};

CPPUNIT_TEST_SUITE_REGISTRATION(StateMachineTest);
