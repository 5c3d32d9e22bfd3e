// Failover states with ISC's wire codes and the names ISC writes in logs and in
// dhcpd.leases (`failover peer "x" state { my state normal; }`). One table
// drives the enum, the names and the parser. No transition logic lives here.
#ifndef TANDEM_FAILOVER_STATE_H
#define TANDEM_FAILOVER_STATE_H

#include <cstdint>
#include <optional>
#include <string_view>

namespace tandem::failover {

// draft-ietf-dhc-failover-12 §5.9 and ISC's includes/failover.h.
#define TANDEM_FAILOVER_STATES(X)                                              \
    X(UnknownState, 0, "unknown-state", false)                                 \
    X(Startup, 1, "startup", false)                                            \
    X(Normal, 2, "normal", true)                                               \
    X(CommunicationsInterrupted, 3, "communications-interrupted", true)        \
    X(PartnerDown, 4, "partner-down", true)                                    \
    X(PotentialConflict, 5, "potential-conflict", false)                       \
    X(Recover, 6, "recover", false)                                            \
    X(Paused, 7, "paused", false)                                              \
    X(Shutdown, 8, "shutdown", false)                                          \
    X(RecoverDone, 9, "recover-done", false)                                   \
    X(ResolutionInterrupted, 10, "resolution-interrupted", false)              \
    X(ConflictDone, 11, "conflict-done", false)                                \
    /* The draft names recover-wait but gives it no code; ISC uses 254. */     \
    X(RecoverWait, 254, "recover-wait", false)

enum class FailoverState : uint8_t {
#define TANDEM_X(name, code, text, serves) name = code,
    TANDEM_FAILOVER_STATES(TANDEM_X)
#undef TANDEM_X
};

/// @brief ISC's name for the state ("communications-interrupted").
std::string_view toString(FailoverState s);
/// @brief The state of a name, case-insensitively, as ISC's lease-file parser reads it.
std::optional<FailoverState> stateFromString(std::string_view name);
/// @brief The state of a wire code; unknown codes give nothing (ISC then treats the peer as shut down).
std::optional<FailoverState> stateFromCode(uint8_t code);
/// @brief Whether ISC answers DHCP clients in this state (its own side only).
bool servesClients(FailoverState s);

}  // namespace tandem::failover

#endif
