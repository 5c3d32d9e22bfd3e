// Which end of a failover relationship this server is, and the binding states
// that follow from it (the state each role allocates from). A vocabulary header
// shared by the pure policy modules; it holds no behaviour beyond that mapping.
#ifndef TANDEM_FAILOVER_ROLE_H
#define TANDEM_FAILOVER_ROLE_H

#include <cstdint>
#include <string_view>

#include "common/lease_record.h"

namespace tandem::failover {

/// `primary;` or `secondary;` in the peer block.
enum class Role : uint8_t { Primary, Secondary };

/// @brief The state this role allocates from: FREE for the primary, BACKUP for the
/// secondary (draft-ietf-dhc-failover-12 §5.4, ISC `lease_mine_to_reallocate`).
constexpr common::BindingState ownFreeState(Role r) {
    return r == Role::Primary ? common::BindingState::Free : common::BindingState::Backup;
}

/// @brief The state the peer allocates from.
constexpr common::BindingState peerFreeState(Role r) {
    return r == Role::Primary ? common::BindingState::Backup : common::BindingState::Free;
}

constexpr std::string_view toString(Role r) { return r == Role::Primary ? "primary" : "secondary"; }

}  // namespace tandem::failover

#endif
