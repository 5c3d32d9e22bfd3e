#include "failover/binding_rules.h"

#include "common/ipv4.h"

namespace tandem::failover {

using common::BindingState;
using common::LeaseRecord;
using common::Time;

namespace {

bool isTransitional(BindingState s) {
    return s == BindingState::Expired || s == BindingState::Released || s == BindingState::Reset;
}

bool validCode(uint8_t code) { return code >= 1 && code <= 7; }

uint32_t wireTime(Time t) {
    if (t <= 0) return 0;
    if (t > 0xffffffffLL) return 0xffffffffu;
    return static_cast<uint32_t>(t);
}

Time clampTime(Time t) { return t > common::kNever ? common::kNever : t; }

// The chaddr option is htype followed by the address, as ISC's hardware_addr holds it.
std::vector<uint8_t> chaddrOf(const common::HwAddr& hw) {
    std::vector<uint8_t> v;
    v.reserve(1 + hw.len);
    v.push_back(hw.htype);
    v.insert(v.end(), hw.bytes.begin(), hw.bytes.begin() + hw.len);
    return v;
}

// ISC's stored form: nothing at all for a lease without a hardware address.
std::vector<uint8_t> hwBytes(const common::HwAddr& hw) {
    if (hw.len == 0 && hw.htype == 0) return {};
    return chaddrOf(hw);
}

constexpr std::size_t kMaxChaddr = 17;  // ISC's hbuf: htype + 16 bytes

void dropVariables(LeaseRecord& l) {
    if (l.extras) l.extras->variables.clear();
}

BndupdOutcome reject(RejectReason r, std::string text) {
    BndupdOutcome o;
    o.accepted = false;
    o.reason = r;
    o.message = std::move(text);
    return o;
}

}  // namespace

std::string bindingStateText(uint8_t code) {
    auto s = common::bindingStateFromCode(code);
    return s ? std::string(common::toString(*s)) : std::string("unknown");
}

bool normalTransitionAllowed(Role role, BindingState current, BindingState proposed, Time leaseEnds, Time peerTsfp,
                             Time now) {
    if (proposed == current) return true;
    const bool toFreeish = proposed == BindingState::Free || proposed == BindingState::Backup;
    switch (current) {
        case BindingState::Free:
        case BindingState::Abandoned:
            // ISC's comment wants this only from the primary, but it lets either
            // peer through and merely complains; we must agree with what it does.
            return true;
        case BindingState::Active:
            if (role == Role::Primary) {
                // The secondary may not change an ACTIVE lease, except that the client
                // may have sent its DHCPRELEASE or DHCPDECLINE to the secondary.
                return proposed == BindingState::Released || proposed == BindingState::Abandoned;
            }
            if (toFreeish) return peerTsfp <= now;  // only once the peer agrees it is over
            if (proposed == BindingState::Expired) return leaseEnds - kExpiryAllowance <= now;
            return true;
        case BindingState::Expired:
        case BindingState::Reset:
            return toFreeish ? peerTsfp <= now : true;
        case BindingState::Released:
        case BindingState::Backup:
            return true;
    }
    return false;  // an out-of-range current state: refuse rather than guess
}

bool conflictTransitionAllowed(BindingState current, BindingState proposed, Time leaseEnds, Time now) {
    if (proposed == current) return true;
    if (current != BindingState::Active) return true;  // not in use here: the peer knows better
    switch (proposed) {
        case BindingState::Free:
        case BindingState::Backup:
            return false;
        case BindingState::Expired:
            return leaseEnds - kExpiryAllowance <= now;
        case BindingState::Released:
        case BindingState::Reset:
        case BindingState::Abandoned:
        case BindingState::Active:  // (same state: allowed above)
            // The peer saw something about this lease that we did not.
            return true;
    }
    return false;
}

bool transitionAllowed(FailoverState me, Role role, BindingState current, BindingState proposed, Time leaseEnds,
                       Time peerTsfp, Time now) {
    if (me == FailoverState::Normal) return normalTransitionAllowed(role, current, proposed, leaseEnds, peerTsfp, now);
    return conflictTransitionAllowed(current, proposed, leaseEnds, now);
}

bool ownUpdateWins(Role role, BindingState ours, Time ourCltt, BindingState peers, Time peerCltt) {
    if (ours == BindingState::Active) {
        if (peers == BindingState::Active) {
            if (peerCltt < ourCltt) return true;
            if (peerCltt > ourCltt) return false;
            return role == Role::Primary;
        }
        if (peers == BindingState::Expired) return false;
    }
    if (peers == BindingState::Active) return false;
    return role == Role::Primary;
}

LeaseRecord applyBindUpdate(const LeaseRecord& lease, const Message& m, BindingState newState, bool* identityChanged) {
    LeaseRecord lt = lease;
    const auto status = static_cast<BindingState>(m.bindingStatus.value_or(0));
    bool chaddrChanged = false, identChanged = false;

    if (m.chaddr) {
        const auto& c = *m.chaddr;
        common::HwAddr hw;
        if (!c.empty()) {
            hw.htype = c[0];
            hw.len = static_cast<uint8_t>(c.size() - 1);
            for (std::size_t i = 1; i < c.size() && i - 1 < hw.bytes.size(); ++i) hw.bytes[i - 1] = c[i];
        }
        chaddrChanged = hwBytes(lt.hw) != c;
        lt.hw = hw;
    } else if (status == BindingState::Abandoned) {
        chaddrChanged = true;
        lt.hw = common::HwAddr{};
        dropVariables(lt);
    }

    // No option says "the client sent no identifier"; its absence clears ours,
    // except for states that carry no client.
    if (m.clientIdentifier) {
        std::string uid(m.clientIdentifier->begin(), m.clientIdentifier->end());
        identChanged = uid != lt.uid;
        lt.uid = std::move(uid);
    } else if (!lt.uid.empty() && status != BindingState::Reset && status != BindingState::Free &&
               status != BindingState::Backup) {
        identChanged = true;
        lt.uid.clear();
    }

    // Variables set for the old client would be wrong for a new one (ISC drops the
    // whole binding scope, DDNS names included).
    bool changed = status == BindingState::Active && (chaddrChanged || identChanged);
    if (changed) dropVariables(lt);
    if (identityChanged) *identityChanged = changed;

    if (m.startTimeOfState) lt.starts = *m.startTimeOfState;
    if (m.leaseExpiry) lt.ends = *m.leaseExpiry;
    if (m.potentialExpiry) lt.tsfp = lt.atsfp = *m.potentialExpiry;
    // CLTT is deliberately not stored: ISC uses it only to settle crossing updates.
    uint16_t flags = m.ipFlags.value_or(0);
    lt.reserved = flags & kIpFlagReserved;
    lt.bootp = flags & kIpFlagBootp;

    lt.state = newState;
    lt.next = newState == BindingState::Active ? BindingState::Expired : newState;
    // Having accepted the peer's view, we may never rewind behind it.
    lt.rewind = newState;
    return lt;
}

BndupdOutcome processBindUpdate(const Message& m, const BndupdContext& ctx) {
    if (!m.assignedIpAddress || !m.bindingStatus)
        return reject(RejectReason::MissingBindInfo, "binding update lacks required options");
    if (!ctx.lease) return reject(RejectReason::IllegalAddress, "unknown IP address");
    if (!ctx.ourRelationship)
        return reject(RejectReason::IllegalAddress,
                      "IP address is covered by a different failover relationship state");
    const LeaseRecord& lease = *ctx.lease;
    const uint8_t code = *m.bindingStatus;
    const auto status = static_cast<BindingState>(code);

    // Crossing updates: only an update still awaiting its ACK counts; one merely
    // queued goes out after our ACK anyway.
    bool dropOwn = false;
    if (ctx.ownUpdateInFlight) {
        if (ownUpdateWins(ctx.role, ctx.ownUpdateState, lease.cltt, status, m.cltt.value_or(0)))
            return reject(RejectReason::LessCritical, "incoming update is less critical than outgoing update");
        dropOwn = true;  // ISC forgets its own update here, even if a later check rejects
    }
    auto fail = [&](RejectReason r, std::string text) {
        BndupdOutcome o = reject(r, std::move(text));
        o.dropOwnUpdate = dropOwn;
        return o;
    };

    if (m.chaddr) {
        if (status == BindingState::Abandoned) return fail(RejectReason::Misc, "BNDUPD to ABANDONED with a CHADDR");
        if (m.chaddr->size() > kMaxChaddr) return fail(RejectReason::Misc, "chaddr too long");
    } else if (status == BindingState::Active || status == BindingState::Expired ||
               status == BindingState::Released) {
        return fail(RejectReason::MissingBindInfo, "BNDUPD without CHADDR");
    }
    if (m.clientIdentifier && status == BindingState::Abandoned)
        return fail(RejectReason::Misc, "BNDUPD to ABANDONED with client-id");

    // The peer may only flag an address reserved (or BOOTP) that we already hold
    // that way while it is ours to allocate.
    const bool ours = lease.state == ownFreeState(ctx.role);
    const uint16_t flags = m.ipFlags.value_or(0);
    if ((flags & kIpFlagReserved) && ours && !lease.reserved)
        return fail(RejectReason::NotReserved, "Address is not reserved.");
    if ((flags & kIpFlagBootp) && ours && !lease.bootp)
        return fail(RejectReason::Misc, "Address is not allocated to BOOTP.");

    const Time peerTsfp = m.potentialExpiry.value_or(0);
    if (!validCode(code) ||
        !transitionAllowed(ctx.me, ctx.role, lease.state, status, lease.ends, peerTsfp, ctx.now)) {
        return fail(RejectReason::FatalConflict, common::formatIpv4(lease.address) + ": invalid state transition: " +
                                                     bindingStateText(static_cast<uint8_t>(lease.state)) + " to " +
                                                     bindingStateText(code));
    }

    BndupdOutcome o;
    o.accepted = true;
    o.dropOwnUpdate = dropOwn;
    // A lease the peer has let go of needs no ACK round trip here: it is free at once.
    BindingState newState = isTransitional(status) ? BindingState::Free : status;
    o.lease = applyBindUpdate(lease, m, newState, &o.identityChanged);
    if (isTransitional(status) && ctx.role == Role::Primary && !o.lease.reserved && !o.lease.bootp)
        o.macAffinityCandidate = peerWantsLease(o.lease, ctx.hba, ctx.role);
    return o;
}

AckOutcome applyPeerAck(const LeaseRecord& lease, BindingState sent, Role role, const std::optional<Hba>& hba) {
    AckOutcome o;
    o.lease = lease;
    LeaseRecord& l = o.lease;
    l.tsfp = l.atsfp = l.tstp;
    if (isTransitional(sent)) {
        BindingState next = role == Role::Secondary && l.reserved ? BindingState::Backup : BindingState::Free;
        l.state = l.next = l.rewind = next;
        o.freed = true;
        if (role == Role::Primary && !l.reserved && !l.bootp) o.macAffinityCandidate = peerWantsLease(l, hba, role);
    } else if (sent != l.state) {
        l.state = sent;
        l.next = sent == BindingState::Active ? BindingState::Expired : sent;
    }
    return o;
}

Message buildBindUpdate(const LeaseRecord& lease, BindingState state, Role role, uint32_t xid, Time now) {
    Message m;
    m.type = MessageType::FTM_BNDUPD;
    m.time = wireTime(now);
    m.xid = xid;
    BindingState transmit = state;
    uint16_t flags = 0;
    if (lease.reserved) {
        // A reserved lease that is ours to allocate goes out as the peer's free
        // state, which lets the peer allocate it to the named client.
        if (role == Role::Primary && transmit == BindingState::Free)
            transmit = BindingState::Backup;
        else if (role == Role::Secondary && transmit == BindingState::Backup)
            transmit = BindingState::Free;
        flags |= kIpFlagReserved;
    }
    if (lease.bootp) flags |= kIpFlagBootp;
    m.assignedIpAddress = lease.address;
    m.bindingStatus = static_cast<uint8_t>(transmit);
    if (!lease.uid.empty()) m.clientIdentifier = std::vector<uint8_t>(lease.uid.begin(), lease.uid.end());
    if (lease.hw.len > 0) m.chaddr = chaddrOf(lease.hw);
    m.leaseExpiry = wireTime(lease.ends);
    m.potentialExpiry = wireTime(lease.tstp);
    m.startTimeOfState = wireTime(lease.starts);
    if (lease.cltt != 0) m.cltt = wireTime(lease.cltt);
    if (flags) m.ipFlags = flags;
    return m;
}

Message buildBindAck(uint32_t address, uint32_t xid, Time now, RejectReason reason, const std::string& message) {
    Message m;
    m.type = MessageType::FTM_BNDACK;
    m.time = wireTime(now);
    m.xid = xid;
    m.assignedIpAddress = address;
    if (reason != RejectReason::None) {
        m.rejectReason = static_cast<uint8_t>(reason);
        if (!message.empty()) m.message = message;
    }
    return m;
}

LeaseTimeGrant mcltLimit(uint32_t desired, uint32_t mclt, Time tsfp, Time now) {
    LeaseTimeGrant g;
    const int64_t t = desired;
    int64_t granted = t;
    if (t > mclt) {
        if (tsfp <= now)
            granted = mclt;  // the peer has no potential expiration on record: MCLT only
        else if (now + t > tsfp + mclt)
            granted = tsfp + mclt - now;  // at most MCLT past what the peer knows
    }
    g.granted = static_cast<uint32_t>(granted);
    g.ends = desired == kInfiniteLeaseTime && granted == t ? common::kNever : clampTime(now + granted);
    // Ask the peer for the desired time plus half of what was granted, so that at
    // the client's renewal (half-way) the whole desired time is already covered.
    g.tstp = desired == kInfiniteLeaseTime ? common::kNever : clampTime(now + t + granted / 2);
    g.tsfp = g.tstp < tsfp ? g.tstp : tsfp;
    return g;
}

bool mayAllocate(const LeaseRecord& lease, Role role, bool partnerDownService, Time stos, uint32_t mclt, Time now) {
    // In partner-down the peer's leases become ours once the peer can no longer
    // have handed them out: MCLT after whichever is later, our entry into
    // partner-down or the last expiry time the peer told us.
    auto peerLeaseUsable = [&] {
        if (!partnerDownService) return false;
        return lease.tsfp < stos ? stos + mclt < now : lease.tsfp + mclt < now;
    };
    switch (lease.state) {
        case BindingState::Active:
            return false;
        case BindingState::Free:
        case BindingState::Abandoned:
            return role == Role::Primary || peerLeaseUsable();
        case BindingState::Backup:
            return role == Role::Secondary || peerLeaseUsable();
        case BindingState::Released:
        case BindingState::Expired:
            // Rewind: a lease the peer never saw leave our free state is still ours.
            if (lease.rewind == ownFreeState(role)) return true;
            [[fallthrough]];
        case BindingState::Reset:
            // partner-down moved these leases' tsfp to stos + MCLT on entry.
            return partnerDownService && lease.tsfp < now;
    }
    return false;
}

BindingState stateOnRelease(const LeaseRecord& lease, Role role) {
    return lease.rewind == ownFreeState(role) ? ownFreeState(role) : BindingState::Released;
}

std::optional<BindingState> rewindInCommInterrupted(const LeaseRecord& lease, Role role, FailoverState me) {
    if (me != FailoverState::CommunicationsInterrupted) return std::nullopt;
    if (lease.state != BindingState::Expired && lease.state != BindingState::Released) return std::nullopt;
    if (lease.rewind != ownFreeState(role)) return std::nullopt;
    return ownFreeState(role);
}

bool runsExpiry(Role role, FailoverState me) { return !(role == Role::Secondary && me == FailoverState::Normal); }

}  // namespace tandem::failover
