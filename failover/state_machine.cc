#include "failover/state_machine.h"

#include <ctime>

namespace tandem::failover {

using common::LogLevel;
using common::Time;
using S = FailoverState;

namespace {

// ---- The peer-STATE table ----------------------------------------------------
//
// Rows: our state (the saved state while in startup). Columns: the state the
// peer's STATE message announces. ISC 4.4's dhcp_failover_peer_state_changed(),
// cell by cell; shared/reference/failover-protocol.md (e) prints the same table.
constexpr Cell go(S s) { return Cell{Reaction::Go, s}; }
constexpr Cell __{Reaction::Stay, S::UnknownState};
constexpr Cell N_ = go(S::Normal);
constexpr Cell CI = go(S::CommunicationsInterrupted);
constexpr Cell PD = go(S::PartnerDown);
constexpr Cell PC = go(S::PotentialConflict);
constexpr Cell RC = go(S::Recover);
constexpr Cell SD = go(S::Shutdown);
constexpr Cell CHK{Reaction::PoolCheck, S::UnknownState};
constexpr Cell RoC{Reaction::RecoverOrConflict, S::UnknownState};
constexpr Cell INV{Reaction::InvalidToShutdown, S::UnknownState};
constexpr Cell PNC{Reaction::PanicToShutdown, S::UnknownState};
constexpr Cell UPN{Reaction::SendUpdatesToNormal, S::UnknownState};
constexpr Cell ALL{Reaction::RequestAll, S::UnknownState};
constexpr Cell ALG{Reaction::RequestAllLogged, S::UnknownState};
constexpr Cell BTH{Reaction::BothRecoverDone, S::UnknownState};
constexpr Cell UPQ{Reaction::UpdReqIfPeerWasConflict, S::UnknownState};
// ISC exits the process on these (log_fatal). Exiting would leave the peer
// without a word from us and, under a supervisor, restart us straight back into
// conflict-done. Shutdown is the safe stop instead: it is persisted, we stop
// serving, the peer sees our shutdown and takes over in partner-down, and our
// lease database stays as it is until an administrator sets a state.
constexpr Cell FTL{Reaction::Fatal, S::UnknownState};

constexpr Cell kPeerStateTable[kStateCount][kStateCount] = {
    //                 peer: unknown startup normal comm-int partner-down potential-c recover paused shutdown recover-done resolution-i conflict-done recover-wait
    /* unknown-state  */ {__, __, __, __, __, __, __, __, __, __, __, __, __},
    /* startup        */ {__, __, __, __, __, __, __, __, __, __, __, __, __},
    /* normal         */ {__, __, CHK, __, RoC, INV, PD, CI, PD, __, INV, INV, __},
    /* comm-interrupt */ {__, __, UPN, UPN, PC, PC, PD, __, PD, UPN, PC, PC, UPN},
    /* partner-down   */ {__, __, PC, PC, PC, PC, __, __, __, N_, PC, PC, __},
    /* potential-conf */ {__, __, PNC, __, __, __, RC, __, PD, __, __, UPQ, __},
    /* recover        */ {__, __, PC, ALL, ALL, PC, ALG, __, PD, __, PC, PC, __},
    /* paused         */ {__, __, __, __, __, __, __, __, __, __, __, __, __},
    /* shutdown       */ {__, __, __, __, __, __, __, __, __, __, __, __, __},
    /* recover-done   */ {__, __, N_, __, __, __, __, __, PD, BTH, __, __, __},
    /* resolution-int */ {__, __, PC, PC, PC, PC, PC, __, PD, PC, PC, PC, PC},
    /* conflict-done  */ {FTL, FTL, N_, FTL, FTL, __, FTL, FTL, SD, FTL, __, FTL, FTL},
    /* recover-wait   */ {__, __, __, __, __, __, __, __, __, __, __, __, __},
};

// ---- Decision building --------------------------------------------------------

class Builder {
public:
    explicit Builder(const Facts& f) : f_(f) {}

    Decision finish() {
        Decision d;
        d.effects = std::move(effects_);
        d.after = f_;
        return d;
    }

    Facts& facts() { return f_; }
    const std::string& name() const { return f_.name; }

    void log(LogLevel level, std::string text) { effects_.push_back(Log{level, std::move(text)}); }
    void info(const std::string& text) { log(LogLevel::Info, "failover peer " + f_.name + ": " + text); }
    void task(TaskKind k, Time at = 0) { effects_.push_back(Task{k, at}); }

    void setPeer(S s, bool startup) {
        f_.peer = s;
        f_.peerStartup = startup;
        effects_.push_back(SetPeer{s, startup});
    }

    void sendUpdReqAll() {
        if (!f_.linked) return;  // ISC: no link, nothing to send it on
        effects_.push_back(Send{MessageType::FTM_UPDREQALL});
        log(LogLevel::Info, "Sent update request all message to " + f_.name);
        f_.outstanding = UpdateRequest::UpdReqAll;
    }

    void sendUpdReq() {
        if (!f_.linked) return;
        // An UPDREQALL that was cut short (the link dropped before UPDDONE) still
        // stands: asking for less now would lose the leases it did not bring.
        if (f_.outstanding == UpdateRequest::UpdReqAll) return sendUpdReqAll();
        effects_.push_back(Send{MessageType::FTM_UPDREQ});
        log(LogLevel::Info, "Sent update request message to " + f_.name);
        f_.outstanding = UpdateRequest::UpdReq;
    }

    void sendState() {
        if (f_.linked) effects_.push_back(Send{MessageType::FTM_STATE});
    }

    // ISC's dhcp_failover_set_state(): every change of our state goes through here.
    void move(S to) {
        const S from = f_.me;
        // Updates sent in these states may be lost with the state change: send them again.
        if (from == S::Normal || from == S::PotentialConflict || from == S::PartnerDown)
            task(TaskKind::RequeueUnacked);

        // stos marks the start of the state, except that recover-wait continues
        // recover's clock and startup is only a pause in the saved state.
        Time stos = f_.stos;
        if (to != S::RecoverWait && to != S::Startup && from != S::Startup) stos = f_.now;
        // An administrator shut us down while the peer took over in partner-down and
        // nothing is left to tell it: the MCLT wait has effectively been served.
        if (to == S::Recover && from == S::Shutdown && f_.peer == S::PartnerDown && !f_.updatesPending)
            stos = f_.now - static_cast<Time>(f_.mclt);

        effects_.push_back(Move{from, to, stos});
        if (to == S::Startup && from != S::Startup) f_.saved = from;
        f_.me = to;
        f_.stos = stos;
        info("I move from " + std::string(toString(from)) + " to " + std::string(toString(to)));
        if (to == S::Normal && f_.peer == S::Normal) info("Both servers normal");

        if (from == S::Startup && to != S::Startup) effects_.push_back(CancelTimer{TimerKind::Startup});
        if (from == S::CommunicationsInterrupted) effects_.push_back(CancelTimer{TimerKind::AutoPartnerDown});
        if (from == S::RecoverWait) effects_.push_back(CancelTimer{TimerKind::RecoverWait});

        sendState();
        onEnter(to);
    }

    void onEnter(S s) {
        switch (s) {
            case S::CommunicationsInterrupted:
                if (f_.autoPartnerDown > 0)
                    effects_.push_back(ArmTimer{TimerKind::AutoPartnerDown, f_.now + f_.autoPartnerDown});
                break;
            case S::Normal:
                // Entering normal retransmits what the peer may have missed; rebalancing
                // first lets the new BACKUP/FREE handovers ride along.
                task(TaskKind::BalancePools);
                task(TaskKind::QueueUpdates);
                task(TaskKind::SendUpdates);
                break;
            case S::PotentialConflict:
                // The primary drives resolution; the secondary asks only once the
                // primary has finished (conflict-done).
                if (f_.role == Role::Primary || f_.peer == S::ConflictDone) sendUpdReq();
                break;
            case S::Startup:
                effects_.push_back(ArmTimer{TimerKind::Startup, f_.now + kStartupSeconds});
                break;
            case S::RecoverWait:
                if (f_.stos + static_cast<Time>(f_.mclt) > f_.now)
                    effects_.push_back(ArmTimer{TimerKind::RecoverWait, f_.stos + static_cast<Time>(f_.mclt)});
                else
                    move(S::RecoverDone);  // back after a restart with the wait already over
                break;
            case S::Recover:
                // ISC always asks for everything: it cannot tell a lost database from a
                // short absence.
                sendUpdReqAll();
                break;
            case S::PartnerDown:
                // Leases the peer may still think in use become free once it cannot
                // have extended them: MCLT after we took over.
                task(TaskKind::ExpiredTsfp, f_.stos + static_cast<Time>(f_.mclt));
                break;
            case S::UnknownState:
            case S::Paused:
            case S::Shutdown:
            case S::RecoverDone:
            case S::ResolutionInterrupted:
            case S::ConflictDone:
                break;
        }
    }

private:
    Facts f_;
    std::vector<Effect> effects_;
};

std::string stateName(S s) { return std::string(toString(s)); }

// ISC's "disconnect" transition, shared by a lost link and the startup timer.
void lostContact(Builder& b, bool closeLink) {
    Facts& f = b.facts();
    if (f.linked) {
        b.log(LogLevel::Info, "peer " + f.name + ": disconnected");
        if (closeLink) b.task(TaskKind::CloseLink);
        f.linked = false;
    }
    const S row = f.me == S::Startup ? f.saved : f.me;
    switch (row) {
        case S::Normal:
            b.move(S::CommunicationsInterrupted);
            return;
        case S::PotentialConflict:
        case S::UnknownState:
            b.move(S::ResolutionInterrupted);
            return;
        case S::ConflictDone:
            // The ACKs of what we sent can no longer come on this link.
            b.task(TaskKind::RequeueUnacked);
            [[fallthrough]];
        case S::CommunicationsInterrupted:
        case S::PartnerDown:
        case S::Paused:
        case S::Recover:
        case S::RecoverDone:
        case S::RecoverWait:
        case S::ResolutionInterrupted:
        case S::Shutdown:
            if (f.me == S::Startup) b.move(f.saved);
            return;
        case S::Startup:
            return;
    }
}

void applyCell(Builder& b, const Cell& cell, S previousPeer, S newPeer) {
    Facts& f = b.facts();
    const std::string& name = f.name;
    switch (cell.reaction) {
        case Reaction::Stay:
            return;
        case Reaction::Go:
            b.move(cell.target);
            return;
        case Reaction::PoolCheck:
            b.task(TaskKind::PoolCheck);
            return;
        case Reaction::RecoverOrConflict:
            // A peer in partner-down while we were away: we recover from it. If we were
            // up all along, both may have allocated: resolve the conflict.
            b.move(f.me == S::Startup ? S::Recover : S::PotentialConflict);
            return;
        case Reaction::InvalidToShutdown:
            b.log(LogLevel::Error, "Peer " + name + ": Invalid state transition " + stateName(previousPeer) + " to " +
                                       stateName(newPeer) + ".");
            b.move(S::Shutdown);
            return;
        case Reaction::PanicToShutdown:
            b.log(LogLevel::Error,
                  "Peer " + name + " moves to normal during conflict resolution - panic, shutting down.");
            b.move(S::Shutdown);
            return;
        case Reaction::SendUpdatesToNormal:
            b.task(TaskKind::SendUpdates);
            b.move(S::Normal);
            return;
        case Reaction::RequestAllLogged:
            b.info("requesting full update from peer");
            [[fallthrough]];
        case Reaction::RequestAll:
            // In startup the move into recover sends it; a second would be redundant.
            if (f.me == S::Recover) b.sendUpdReqAll();
            return;
        case Reaction::BothRecoverDone:
            b.log(LogLevel::Error, "Both servers have entered recover-done!");
            b.move(S::Normal);
            return;
        case Reaction::UpdReqIfPeerWasConflict:
            if (previousPeer == S::PotentialConflict)
                b.sendUpdReq();
            else
                b.log(LogLevel::Error, "Peer " + name + ": Unexpected move to conflict-done.");
            return;
        case Reaction::Fatal:
            b.log(LogLevel::Error, "Peer " + name + ": Invalid attempt to move from " + stateName(previousPeer) +
                                       " to " + stateName(newPeer) + " while local state is conflict-done.");
            b.log(LogLevel::Error, "failover peer " + name +
                                       ": ISC dhcpd would exit here; moving to shutdown instead. The peer will take "
                                       "over in partner-down; set this server's state by hand once it is safe.");
            b.move(S::Shutdown);
            return;
    }
}

void onPeerState(Builder& b, const Event& e) {
    Facts& f = b.facts();
    const S previous = f.peer;
    const std::optional<S> known = stateFromCode(e.peerStateCode);

    // A repeated state changes nothing, except where we are waiting on the peer.
    if (known && *known == f.peer && f.me != S::UnknownState) {
        switch (f.me) {
            case S::Startup:
                b.move(f.saved);
                return;
            case S::Normal:
            case S::PotentialConflict:
            case S::RecoverDone:
            case S::Shutdown:
            case S::Paused:
            case S::RecoverWait:
            case S::UnknownState:
                return;
            case S::PartnerDown:
            case S::CommunicationsInterrupted:
            case S::ResolutionInterrupted:
            case S::Recover:
            case S::ConflictDone:
                break;
        }
    }

    const S now = known.value_or(S::UnknownState);
    b.setPeer(now, e.peerStartup);
    b.info("peer moves from " + stateName(previous) + " to " + stateName(now));
    if (f.me == S::Normal && now == S::Normal) b.info("Both servers normal");

    if (!known) {
        b.log(LogLevel::Error, "failover peer " + f.name + ": Invalid state: " + std::to_string(e.peerStateCode));
        b.move(S::Shutdown);
        return;
    }

    const S row = f.me == S::Startup ? f.saved : f.me;
    // A peer still starting up will tell us its real state in a moment; partner-down
    // must not react to the saved state it announces meanwhile.
    const bool ignore = row == S::PartnerDown && e.peerStartup;
    if (!ignore) applyCell(b, peerStateReaction(row, now), previous, now);

    // Hearing from the peer at all ends startup.
    if (f.me == S::Startup && f.saved != S::Startup) b.move(f.saved);
}

void onUpdDone(Builder& b) {
    Facts& f = b.facts();
    b.info("peer update completed.");
    f.outstanding = UpdateRequest::None;
    switch (f.me) {
        case S::PotentialConflict:
            if (f.peer == S::ConflictDone) {
                if (f.role == Role::Secondary) {
                    b.move(S::Normal);
                } else {
                    b.log(LogLevel::Error,
                          "Secondary is in conflict_done state after conflict resolution, this is illegal.");
                    b.move(S::Shutdown);
                }
            } else if (f.role == Role::Primary) {
                b.move(S::ConflictDone);
            } else {
                b.log(LogLevel::Error, "Spurious update-done message.");
            }
            return;
        case S::ConflictDone:
            b.log(LogLevel::Error, "Spurious update-done message.");
            return;
        case S::Recover:
            // Wait out MCLT so that no lease the peer gave while we were gone is
            // still in a client's hands; two peers recovering together (a new pair)
            // have nothing to wait for.
            if (f.stos + static_cast<Time>(f.mclt) > f.now && f.peer != S::Recover && f.peer != S::RecoverDone)
                b.move(S::RecoverWait);
            else
                b.move(S::RecoverDone);
            return;
        case S::UnknownState:
        case S::Startup:
        case S::Normal:
        case S::CommunicationsInterrupted:
        case S::PartnerDown:
        case S::Paused:
        case S::Shutdown:
        case S::RecoverDone:
        case S::ResolutionInterrupted:
        case S::RecoverWait:
            return;
    }
}

}  // namespace

std::size_t stateIndex(FailoverState s) {
    // Codes 0..11 are their own index; recover-wait's 254 takes the last row.
    if (s == S::RecoverWait) return kStateCount - 1;
    const auto code = static_cast<std::size_t>(s);
    return code < kStateCount - 1 ? code : 0;
}

FailoverState stateAt(std::size_t index) {
    return index == kStateCount - 1 ? S::RecoverWait : static_cast<S>(index);
}

const Cell& peerStateReaction(FailoverState me, FailoverState peer) {
    return kPeerStateTable[stateIndex(me)][stateIndex(peer)];
}

bool Decision::moved() const {
    for (const auto& e : effects)
        if (std::holds_alternative<Move>(e)) return true;
    return false;
}

std::optional<FailoverState> Decision::next() const {
    if (!moved()) return std::nullopt;
    return after.me;
}

Decision decide(const Facts& facts, const Event& event) {
    Builder b(facts);
    Facts& f = b.facts();
    switch (event.kind) {
        case EventKind::Start:
            b.move(S::Startup);
            break;
        case EventKind::LinkUp:
            f.linked = true;
            b.sendState();
            break;
        case EventKind::PeerState:
            onPeerState(b, event);
            break;
        case EventKind::ConnectionLost:
            lostContact(b, false);
            break;
        case EventKind::StartupTimer:
            if (f.me == S::Startup) lostContact(b, true);
            break;
        case EventKind::UpdDone:
            onUpdDone(b);
            break;
        case EventKind::RecoverWaitTimer:
            if (f.me == S::RecoverWait) b.move(S::RecoverDone);
            break;
        case EventKind::AutoPartnerDownTimer:
            if (f.me == S::CommunicationsInterrupted) b.move(S::PartnerDown);
            break;
        case EventKind::AdminSetState:
            // OMAPI applies any state without checks, and so do we: an administrator's call.
            b.move(event.target);
            break;
    }
    return b.finish();
}

std::string describe(const Effect& e) {
    struct V {
        std::string operator()(const Move& m) const {
            return "move " + stateName(m.from) + " -> " + stateName(m.to) + " stos " + std::to_string(m.stos);
        }
        std::string operator()(const SetPeer& p) const {
            return "peer " + stateName(p.state) + (p.startup ? " (startup)" : "");
        }
        std::string operator()(const Send& s) const {
            return "send " + std::string(messageTypeName(static_cast<uint8_t>(s.type)));
        }
        std::string operator()(const Log& l) const {
            const char* lv = l.level == LogLevel::Error ? "error" : l.level == LogLevel::Info ? "info" : "other";
            return std::string("log ") + lv + ": " + l.text;
        }
        std::string operator()(const ArmTimer& t) const {
            return "arm " + timerName(t.timer) + " at " + std::to_string(t.at);
        }
        std::string operator()(const CancelTimer& t) const { return "cancel " + timerName(t.timer); }
        std::string operator()(const Task& t) const {
            switch (t.kind) {
                case TaskKind::RequeueUnacked: return "task requeue-unacked";
                case TaskKind::SendUpdates: return "task send-updates";
                case TaskKind::BalancePools: return "task balance-pools";
                case TaskKind::PoolCheck: return "task pool-check";
                case TaskKind::QueueUpdates: return "task queue-updates";
                case TaskKind::ExpiredTsfp: return "task expired-tsfp " + std::to_string(t.at);
                case TaskKind::CloseLink: return "task close-link";
            }
            return "task ?";
        }
        static std::string timerName(TimerKind k) {
            switch (k) {
                case TimerKind::Startup: return "startup";
                case TimerKind::RecoverWait: return "recover-wait";
                case TimerKind::AutoPartnerDown: return "auto-partner-down";
            }
            return "?";
        }
    };
    return std::visit(V{}, e);
}

ServiceState serviceState(FailoverState me, FailoverState peer) {
    ServiceState s = ServiceState::NotResponding;
    switch (me) {
        case S::PartnerDown: s = ServiceState::PartnerDown; break;
        case S::Normal: s = ServiceState::Cooperating; break;
        case S::CommunicationsInterrupted: s = ServiceState::NotCooperating; break;
        case S::Startup: s = ServiceState::Startup; break;
        case S::UnknownState:
        case S::ResolutionInterrupted:
        case S::PotentialConflict:
        case S::ConflictDone:
        case S::Recover:
        case S::Shutdown:
        case S::Paused:
        case S::RecoverWait:
        case S::RecoverDone:
            s = ServiceState::NotResponding;
            break;
    }
    if (s != ServiceState::NotResponding &&
        (peer == S::PartnerDown || peer == S::PotentialConflict || peer == S::ConflictDone ||
         peer == S::ResolutionInterrupted))
        s = ServiceState::NotResponding;
    return s;
}

std::string formatLogTime(Time t) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y/%m/%d %H:%M:%S", &tm);
    return buf;
}

ServiceStatus serviceStatus(const Facts& f, Time startupDeadline) {
    ServiceStatus st;
    st.state = serviceState(f.me, f.peer);
    st.serves = st.state == ServiceState::Cooperating || st.state == ServiceState::NotCooperating ||
                st.state == ServiceState::PartnerDown;
    st.loadBalances = st.state == ServiceState::Cooperating;
    const Time mcltEnd = f.stos + static_cast<Time>(f.mclt);
    auto until = [&](Time t) { return t ? " until " + formatLogTime(t) + " UTC" : std::string(); };

    // Our own state first; the peer can only take service away, not give it.
    switch (f.me) {
        case S::Normal:
            st.explanation = "serving, load-balanced with the peer";
            break;
        case S::CommunicationsInterrupted:
            st.explanation = "serving without the peer: own free leases only, lease times limited to MCLT";
            if (f.autoPartnerDown) {
                st.until = f.stos + f.autoPartnerDown;
                st.explanation += "; partner-down automatically" + until(st.until);
            }
            break;
        case S::PartnerDown:
            st.explanation = "serving for both servers; the peer's free leases become usable" + until(mcltEnd);
            if (f.now < mcltEnd) st.until = mcltEnd;
            break;
        case S::Startup:
            st.nrr = " (startup)";
            st.until = startupDeadline;
            st.explanation = "not serving: starting up, waiting for the peer's state" +
                             (startupDeadline ? until(startupDeadline) + " (then " +
                                                    stateName(f.saved) + " rules apply)"
                                              : std::string());
            break;
        case S::Recover:
            st.nrr = " (recovering)";
            st.explanation = "not serving: recovering, waiting for the peer's updates (UPDDONE)";
            break;
        case S::RecoverWait:
            st.nrr = " (recover wait)";
            st.until = mcltEnd;
            st.explanation = "not serving: recovered, waiting out MCLT" + until(mcltEnd);
            break;
        case S::RecoverDone:
            st.nrr = " (recover done)";
            st.explanation = "not serving: recovered, waiting for the peer to move to normal";
            break;
        case S::PotentialConflict:
        case S::ResolutionInterrupted:
        case S::ConflictDone:
            st.nrr = " (resolving conflicts)";
            st.explanation = "not serving: resolving conflicts with the peer (" + stateName(f.me) + ")";
            break;
        case S::Shutdown:
            st.nrr = " (shut down)";
            st.explanation = "not serving: shut down; only an administrator's state change resumes service";
            break;
        case S::Paused:
            st.nrr = " (paused)";
            st.explanation = "not serving: paused";
            break;
        case S::UnknownState:
            st.nrr = " (my state unknown)";
            st.explanation = "not serving: own state unknown";
            break;
    }
    // ISC's second step: some peer states silence a server that would otherwise answer.
    if (st.state == ServiceState::NotResponding && serviceState(f.me, S::UnknownState) != ServiceState::NotResponding) {
        st.until = 0;
        if (f.peer == S::PartnerDown) {
            st.nrr = " (peer demands: recovering)";
            st.explanation = "not serving: the peer is in partner-down and serves our clients; we must recover from it";
        } else {
            st.nrr = " (peer demands: resolving conflicts)";
            st.explanation = "not serving: the peer is resolving conflicts (" + stateName(f.peer) + ")";
        }
    }
    return st;
}

}  // namespace tandem::failover
