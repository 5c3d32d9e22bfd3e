// The rules of binding updates as ISC dhcpd 4.4 applies them, as pure functions
// over lease records and decoded messages: whether a peer's BNDUPD is accepted
// (its required options, the two transition tables, crossing updates), what an
// accepted update does to our lease, what a BNDACK of our own update does, the
// BNDUPD we build from a lease, the MCLT limit on lease times, and which local
// lease states this server may allocate from. Nothing here sends, queues,
// stores or reads a clock: the caller passes `now` and applies the results.
#ifndef TANDEM_FAILOVER_BINDING_RULES_H
#define TANDEM_FAILOVER_BINDING_RULES_H

#include <cstdint>
#include <optional>
#include <string>

#include "common/lease_record.h"
#include "failover/load_balance.h"
#include "failover/message.h"
#include "failover/role.h"
#include "failover/state.h"

namespace tandem::failover {

/// draft-ietf-dhc-failover-12 §12.21 reject reasons, as far as ISC sends them.
enum class RejectReason : uint8_t {
    None = 0,
    IllegalAddress = 1,   ///< unknown address, or another relationship's pool
    FatalConflict = 2,    ///< a binding-state transition ISC does not allow
    MissingBindInfo = 3,  ///< options 2/3 absent, or no chaddr for ACTIVE/EXPIRED/RELEASED
    Misc = 6,             ///< ISC's default for other failures
    LessCritical = 16,    ///< our own crossing update wins
    NotReserved = 19,     ///< RESERVED flag for an address we hold free and unreserved
};

/// ISC's allowance for clock skew (60 s) plus a fudge, when a peer says an
/// ACTIVE lease has EXPIRED before our own `ends`.
constexpr common::Time kExpiryAllowance = 65;

/// IP-flags bits (draft-12 §12.12, 16 bits as ISC sends them).
constexpr uint16_t kIpFlagReserved = 0x0001;
constexpr uint16_t kIpFlagBootp = 0x0002;

/// @brief ISC's normal_binding_state_transition_check(), used when we are in
/// normal state: may our lease in `current` move to `proposed`?
/// @param leaseEnds our lease's ends; @param peerTsfp the BNDUPD's potential-expiration
bool normalTransitionAllowed(Role role, common::BindingState current, common::BindingState proposed,
                             common::Time leaseEnds, common::Time peerTsfp, common::Time now);
/// @brief ISC's conflict_binding_state_transition_check(), used in every other state.
bool conflictTransitionAllowed(common::BindingState current, common::BindingState proposed, common::Time leaseEnds,
                               common::Time now);
/// @brief The check for our failover state (normal uses the first table).
bool transitionAllowed(FailoverState me, Role role, common::BindingState current, common::BindingState proposed,
                       common::Time leaseEnds, common::Time peerTsfp, common::Time now);

/// @brief ISC's failover_lease_is_better(): when our own BNDUPD for the address
/// is still unacknowledged, whether ours wins over the peer's.
/// @param ours the state our pending update carries (ISC's desired binding state)
/// @param ourCltt our lease's cltt; @param peerCltt the BNDUPD's CLTT (0 if absent)
bool ownUpdateWins(Role role, common::BindingState ours, common::Time ourCltt, common::BindingState peers,
                   common::Time peerCltt);

/// @brief What we know locally about the address a BNDUPD names.
struct BndupdContext {
    Role role = Role::Primary;
    FailoverState me = FailoverState::Normal;
    common::Time now = 0;
    /// The lease; null when no lease has that address.
    const common::LeaseRecord* lease = nullptr;
    /// False when the lease's pool belongs to no relationship or another one.
    bool ourRelationship = true;
    /// Our own BNDUPD for this address is on the ack queue.
    bool ownUpdateInFlight = false;
    /// The state our in-flight update carries.
    common::BindingState ownUpdateState = common::BindingState::Free;
    /// The bitmap, for the MAC affinity hint only.
    std::optional<Hba> hba;
};

/// @brief The verdict on a received BNDUPD.
struct BndupdOutcome {
    bool accepted = false;
    RejectReason reason = RejectReason::None;
    std::string message;  ///< the BNDACK's message option when rejected
    /// The peer won a crossing: drop our in-flight update (a late ACK for it is ignored).
    bool dropOwnUpdate = false;
    /// The lease as it must be written before the ACK goes out (when accepted).
    common::LeaseRecord lease;
    /// ACTIVE with a new client identity: the engine removes the old client's DDNS
    /// records (the variables are already gone from `lease`).
    bool identityChanged = false;
    /// Primary only: the lease came back FREE and the peer's bucket holds its last
    /// client; if secondaryNotHoarding() agrees, hand it to BACKUP (tstp = starts = now).
    bool macAffinityCandidate = false;
};

/// @brief ISC's dhcp_failover_process_bind_update(), all checks in ISC's order,
/// then the field update.
BndupdOutcome processBindUpdate(const Message& m, const BndupdContext& ctx);

/// @brief The field update of an accepted BNDUPD alone (no checks): starts,
/// ends, tsfp = atsfp, uid, hw, flags; CLTT not stored; a changed ACTIVE identity
/// or an ABANDONED update drops the lease's variables. `newState` is what the
/// lease becomes (EXPIRED/RELEASED/RESET arrive as FREE).
common::LeaseRecord applyBindUpdate(const common::LeaseRecord& lease, const Message& m,
                                    common::BindingState newState, bool* identityChanged = nullptr);

/// @brief Our lease after the peer ACKed (without reject) the BNDUPD that
/// carried `sent`. tsfp = atsfp = tstp; a sent EXPIRED/RELEASED/RESET becomes
/// FREE, or BACKUP for a reserved lease on the secondary.
struct AckOutcome {
    common::LeaseRecord lease;
    bool freed = false;                ///< it left EXPIRED/RELEASED/RESET
    bool macAffinityCandidate = false; ///< primary: see BndupdOutcome
};
/// The ACK's own potential-expiration is never read: ISC sends none, and tests for
/// it with a wrong bitmask.
AckOutcome applyPeerAck(const common::LeaseRecord& lease, common::BindingState sent, Role role,
                        const std::optional<Hba>& hba = std::nullopt);

/// @brief The BNDUPD ISC sends for a lease in `state` (ISC's desired binding
/// state): address, status (a reserved lease's own free state is sent as the
/// peer's), uid and chaddr when known, ends (0 if none), potential-expiration =
/// tstp (also for EXPIRED, never ends), start-time-of-state = starts, CLTT and
/// IP-flags when non-zero. The codec puts them in ISC's order.
Message buildBindUpdate(const common::LeaseRecord& lease, common::BindingState state, Role role, uint32_t xid,
                        common::Time now);

/// @brief A BNDACK, in ISC's shape: the address alone, plus reason and message when rejecting.
Message buildBindAck(uint32_t address, uint32_t xid, common::Time now, RejectReason reason = RejectReason::None,
                     const std::string& message = {});

/// RFC 2132 §9.2: 0xffffffff is an infinite lease.
constexpr uint32_t kInfiniteLeaseTime = 0xffffffffu;

/// @brief ISC's MCLT limit in ack_lease().
struct LeaseTimeGrant {
    uint32_t granted = 0;     ///< seconds given to the client
    common::Time ends = 0;    ///< now + granted (kNever for an infinite grant)
    common::Time tstp = 0;    ///< potential expiration to tell the peer (DHCPACK only)
    common::Time tsfp = 0;    ///< the lease's tsfp afterwards (lowered to tstp if above it)
};
/// @param desired the lease time the configuration and the client agree on (T)
/// @param tsfp the lease's last potential expiration the peer acknowledged
LeaseTimeGrant mcltLimit(uint32_t desired, uint32_t mclt, common::Time tsfp, common::Time now);

/// @brief ISC's lease_mine_to_reallocate(): may this server hand the lease to a
/// new client? `partnerDownService` is the state machine's service state
/// (partner-down and not overruled by the peer's state); `stos` our state's start.
bool mayAllocate(const common::LeaseRecord& lease, Role role, bool partnerDownService, common::Time stos,
                 uint32_t mclt, common::Time now);

/// @brief The state a DHCPRELEASE puts an ACTIVE lease in: RELEASED, or straight
/// back to our free state when the peer never learned of the lease (rewind state
/// = our free state).
common::BindingState stateOnRelease(const common::LeaseRecord& lease, Role role);

/// @brief In communications-interrupted, an EXPIRED or RELEASED lease whose
/// rewind state is our own free state goes back to it without the peer; nothing
/// otherwise.
std::optional<common::BindingState> rewindInCommInterrupted(const common::LeaseRecord& lease, Role role,
                                                            FailoverState me);

/// @brief Whether this server expires its ACTIVE leases itself: the secondary
/// leaves that to the primary while both are normal.
bool runsExpiry(Role role, FailoverState me);

/// @brief ISC's binding-state names in its messages ("free", ..., "unknown").
std::string bindingStateText(uint8_t code);

}  // namespace tandem::failover

#endif
