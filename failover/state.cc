#include "failover/state.h"

#include "common/option_def.h"

namespace tandem::failover {

namespace {
struct Row {
    FailoverState state;
    std::string_view name;
    bool serves;
};
constexpr Row kRows[] = {
#define TANDEM_X(name, code, text, serves) {FailoverState::name, text, serves},
    TANDEM_FAILOVER_STATES(TANDEM_X)
#undef TANDEM_X
};
}  // namespace

std::string_view toString(FailoverState s) {
    for (const auto& r : kRows)
        if (r.state == s) return r.name;
    return "unknown-state";
}

std::optional<FailoverState> stateFromString(std::string_view name) {
    for (const auto& r : kRows)
        if (common::iequal(r.name, name)) return r.state;
    return std::nullopt;
}

std::optional<FailoverState> stateFromCode(uint8_t code) {
    for (const auto& r : kRows)
        if (static_cast<uint8_t>(r.state) == code) return r.state;
    return std::nullopt;
}

bool servesClients(FailoverState s) {
    for (const auto& r : kRows)
        if (r.state == s) return r.serves;
    return false;
}

}  // namespace tandem::failover
