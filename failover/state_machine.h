// The failover endpoint state machine of draft-ietf-dhc-failover-12 §9 as ISC
// dhcpd 4.4 runs it, as a pure decision core: plain facts and one event in, an
// ordered list of effects out (state moves to persist, messages to send,
// timers to arm or cancel, tasks for the lease store, log lines in ISC's
// wording). The reactions to a peer's STATE message are one table below
// (kPeerStateTable in the .cc, readable through peerStateReaction()).
//
// It must NOT do I/O: it opens no socket, arms no timer, writes no file and
// reads no clock. The engine applies the effects in order and owns the link,
// the timers and the lease store. Moves must be persisted (write + fsync of the
// `failover peer state` block) before they take effect; when that fails the
// engine logs "Unable to record current failover state for NAME" and drops the
// remaining effects of the decision, which is ISC's roll-back.
#ifndef TANDEM_FAILOVER_STATE_MACHINE_H
#define TANDEM_FAILOVER_STATE_MACHINE_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/lease_record.h"
#include "common/log.h"
#include "failover/protocol.h"
#include "failover/role.h"
#include "failover/state.h"

namespace tandem::failover {

/// ISC's startup timer: how long a server in startup waits for the peer's STATE.
constexpr common::Time kStartupSeconds = 15;

/// An update request sent and not yet answered by UPDDONE.
enum class UpdateRequest : uint8_t { None, UpdReq, UpdReqAll };

/// @brief Everything the decision depends on; the engine fills it from its own state.
struct Facts {
    std::string name;  ///< the relationship name, for ISC's log lines
    Role role = Role::Primary;
    FailoverState me = FailoverState::Recover;
    /// The state before startup (what the lease file held); meaningful while me == Startup.
    FailoverState saved = FailoverState::Recover;
    common::Time stos = 0;  ///< start time of our state
    FailoverState peer = FailoverState::UnknownState;  ///< last state the peer told us
    bool peerStartup = false;  ///< the STARTUP flag of the peer's last STATE
    bool linked = false;       ///< CONNECT/CONNECTACK done on a live connection
    common::Time now = 0;
    uint32_t mclt = 0;
    uint32_t autoPartnerDown = 0;  ///< seconds; 0 = off
    bool updatesPending = false;   ///< our update or ack queue is not empty
    /// Our last UPDREQ/UPDREQALL not yet answered by UPDDONE. Keep it across a lost
    /// link: an UPDREQALL cut short turns the next UPDREQ into an UPDREQALL.
    UpdateRequest outstanding = UpdateRequest::None;
};

enum class EventKind : uint8_t {
    Start,            ///< the daemon starts: Facts.me is the state from the lease file
                      ///< (recover when it has none)
    LinkUp,           ///< primary: CONNECTACK accepted; secondary: CONNECTACK sent
    PeerState,        ///< a STATE message arrived
    ConnectionLost,   ///< the live link closed or timed out, or a connect attempt
                      ///< failed as unreachable or timed out (ISC treats both alike)
    StartupTimer,     ///< kStartupSeconds after entering startup
    UpdDone,          ///< UPDDONE arrived
    RecoverWaitTimer, ///< stos + MCLT in recover-wait
    AutoPartnerDownTimer,  ///< auto-partner-down seconds after entering communications-interrupted
    AdminSetState,    ///< OMAPI's local-state or tandemctl: partner-down, shutdown announce, ...
};

struct Event {
    EventKind kind = EventKind::Start;
    uint8_t peerStateCode = 0;  ///< PeerState: server-state as received (may be unknown)
    bool peerStartup = false;   ///< PeerState: server-flags has STARTUP
    FailoverState target = FailoverState::UnknownState;  ///< AdminSetState

    static Event start() { return {EventKind::Start}; }
    static Event linkUp() { return {EventKind::LinkUp}; }
    static Event peerState(FailoverState s, bool startup = false) {
        return {EventKind::PeerState, static_cast<uint8_t>(s), startup};
    }
    static Event peerStateRaw(uint8_t code, bool startup = false) { return {EventKind::PeerState, code, startup}; }
    static Event connectionLost() { return {EventKind::ConnectionLost}; }
    static Event startupTimer() { return {EventKind::StartupTimer}; }
    static Event updDone() { return {EventKind::UpdDone}; }
    static Event recoverWaitTimer() { return {EventKind::RecoverWaitTimer}; }
    static Event autoPartnerDownTimer() { return {EventKind::AutoPartnerDownTimer}; }
    static Event admin(FailoverState s) { return {EventKind::AdminSetState, 0, false, s}; }
};

/// The timers this machine asks for (the connection's own timers are not here).
enum class TimerKind : uint8_t { Startup, RecoverWait, AutoPartnerDown };

/// Work on the lease store and update queues that a move or a STATE calls for.
enum class TaskKind : uint8_t {
    RequeueUnacked,   ///< put the ack queue back at the head of the update queue
                      ///< (ISC does this when leaving normal, potential-conflict or partner-down)
    SendUpdates,      ///< send the update queue (flow control applies)
    BalancePools,     ///< rebalance every pool now (pool_balance), no POOLREQ
    PoolCheck,        ///< recompute the next rebalance time (nextRebalance)
    QueueUpdates,     ///< queue every lease with tstp > atsfp or in the expired queue;
                      ///< then SendUpdates follows, and the engine logs
                      ///< "Sending updates to NAME." if anything is queued
    ExpiredTsfp,      ///< every EXPIRED/RELEASED/RESET lease: tsfp = `at` (stos + MCLT)
    CloseLink,        ///< drop the link (startup timer with a link that sent no STATE)
};

/// @brief Move to `to`, with the new start time of state. Persist, then apply.
/// A move to startup also records `from` as the saved state.
struct Move {
    FailoverState from, to;
    common::Time stos;
};
/// @brief The peer's state changed: record (and persist; a failure is only logged).
struct SetPeer {
    FailoverState state;
    bool startup;
};
/// @brief Send a message with no options but those the engine knows: STATE
/// (own state, or the saved one with STARTUP while in startup, and stos),
/// UPDREQ or UPDREQALL.
struct Send {
    MessageType type;
};
struct Log {
    common::LogLevel level;
    std::string text;
};
struct ArmTimer {
    TimerKind timer;
    common::Time at;  ///< absolute wall-clock second
};
struct CancelTimer {
    TimerKind timer;
};
struct Task {
    TaskKind kind;
    common::Time at = 0;  ///< ExpiredTsfp only
};
using Effect = std::variant<Move, SetPeer, Send, Log, ArmTimer, CancelTimer, Task>;

struct Decision {
    std::vector<Effect> effects;  ///< to apply in order
    Facts after;                  ///< the facts once every effect has been applied
    bool moved() const;           ///< any Move among the effects
    /// @brief The state we end in, when the decision moves at all.
    std::optional<FailoverState> next() const;
};

/// @brief The one entry point: what to do about `event` given `facts`.
Decision decide(const Facts& facts, const Event& event);

/// @brief One effect as text for logs and tests: "move normal -> partner-down",
/// "send STATE", "arm startup at 1795340991", "task balance-pools", "log info: ...".
std::string describe(const Effect& e);

// ---- The peer-STATE table (dhcp_failover_peer_state_changed) ----

/// What a cell of the table does.
enum class Reaction : uint8_t {
    Stay,                 ///< "—": nothing
    Go,                   ///< move to the cell's target
    PoolCheck,            ///< both normal: reschedule the pool rebalance
    RecoverOrConflict,    ///< in startup: recover (we were down, the peer took over); else potential-conflict
    InvalidToShutdown,    ///< a transition that cannot happen: log it, move to shutdown
    PanicToShutdown,      ///< the peer went normal mid-resolution: log the panic, move to shutdown
    SendUpdatesToNormal,  ///< send what we queued while apart, then normal
    RequestAll,           ///< UPDREQALL, unless still in startup (entering recover sends one)
    RequestAllLogged,     ///< the same, after logging "requesting full update from peer"
    BothRecoverDone,      ///< log "Both servers have entered recover-done!", then normal
    UpdReqIfPeerWasConflict,  ///< the primary reached conflict-done: UPDREQ if it came from potential-conflict
    Fatal,                ///< ISC calls log_fatal and exits; we move to shutdown (see the .cc)
};

struct Cell {
    Reaction reaction = Reaction::Stay;
    FailoverState target = FailoverState::UnknownState;  ///< Go only
};

constexpr std::size_t kStateCount = 13;  ///< the twelve draft states plus recover-wait
/// @brief Row/column index of a state in the table (recover-wait, code 254, is 12).
std::size_t stateIndex(FailoverState s);
/// @brief The state of a row/column index.
FailoverState stateAt(std::size_t index);
/// @brief The cell for our state (the saved state while in startup) and the peer's new state.
const Cell& peerStateReaction(FailoverState me, FailoverState peer);

// ---- Service ----

/// ISC's service states (dhcp_failover_set_service_state).
enum class ServiceState : uint8_t { NotResponding, Cooperating, NotCooperating, PartnerDown, Startup };

struct ServiceStatus {
    ServiceState state = ServiceState::NotResponding;
    bool serves = false;        ///< answers DHCP clients at all
    bool loadBalances = false;  ///< cooperating: DISCOVERs go through the hash
    std::string nrr;            ///< ISC's not-responding reason, e.g. " (recovering)"; empty when serving
    std::string explanation;    ///< a sentence for `tandemctl status`
    common::Time until = 0;     ///< when this is expected to change by itself (0: not by a timer)
};

/// @brief ISC's service state, from our state and the peer's. Even in normal or
/// communications-interrupted ISC stops answering while the peer is in
/// partner-down, potential-conflict, conflict-done or resolution-interrupted.
ServiceState serviceState(FailoverState me, FailoverState peer);
/// @brief The service state with the why and until-when for humans.
/// @param startupDeadline when the startup timer fires (0: unknown)
ServiceStatus serviceStatus(const Facts& facts, common::Time startupDeadline = 0);

/// @brief ISC's log wording of a time: "2026/11/22 09:49:51" (UTC).
std::string formatLogTime(common::Time t);

}  // namespace tandem::failover

#endif
