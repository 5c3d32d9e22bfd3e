// One binding as dhcpd.leases records it, and the vocabulary around it:
// binding states with their failover wire codes and lease-file names, times in
// ISC's convention (0 = not set, kNever = `never`), hardware addresses. The
// lease file reader and writer, the server's lease store and the failover
// binding updates all speak this type. It holds no policy and no indices.
#ifndef TANDEM_COMMON_LEASE_RECORD_H
#define TANDEM_COMMON_LEASE_RECORD_H

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::common {

// draft-ietf-dhc-failover-12 §7.1.1 binding-status codes, with the words
// ISC writes after `binding state` in dhcpd.leases.
#define TANDEM_BINDING_STATES(X) \
    X(Free, 1, "free")           \
    X(Active, 2, "active")       \
    X(Expired, 3, "expired")     \
    X(Released, 4, "released")   \
    X(Abandoned, 5, "abandoned") \
    X(Reset, 6, "reset")         \
    X(Backup, 7, "backup")

enum class BindingState : uint8_t {
#define TANDEM_X(name, code, text) name = code,
    TANDEM_BINDING_STATES(TANDEM_X)
#undef TANDEM_X
};

/// @brief The lease-file word of a state ("free", "active", ...).
std::string_view toString(BindingState s);
/// @brief A state from its lease-file word, case-insensitively (legacy words excluded).
std::optional<BindingState> bindingStateFromString(std::string_view word);
/// @brief A state from its failover wire code (1..7).
std::optional<BindingState> bindingStateFromCode(uint8_t code);

/// Seconds since the epoch, UTC. 0 means "not set", as in ISC's lease structure.
using Time = int64_t;
/// ISC's MAX_TIME: what `ends never;` and any date in 2038 or later read as.
constexpr Time kNever = 0x7fffffff;

/// @brief A hardware address as BOOTP carries it: htype and up to 16 bytes.
struct HwAddr {
    uint8_t htype = 0;
    uint8_t len = 0;
    std::array<uint8_t, 16> bytes{};

    bool empty() const { return len == 0; }
    std::string_view view() const { return {reinterpret_cast<const char*>(bytes.data()), len}; }
    /// "00:11:22:33:44:55" (lower-case, no htype).
    std::string str() const;
    /// htype followed by the bytes: the key of the hardware index, and failover's chaddr option.
    std::string key() const;
    bool operator==(const HwAddr& o) const { return htype == o.htype && view() == o.view(); }
    bool operator!=(const HwAddr& o) const { return !(*this == o); }
};

/// @brief `set NAME = VALUE;` in a lease: ISC's binding-scope variables.
struct LeaseVariable {
    enum class Kind { Data, Number, Boolean };
    std::string name;
    Kind kind = Kind::Data;
    std::string data;   ///< Data: the bytes
    int64_t number = 0; ///< Number
    bool boolean = false;
    bool operator==(const LeaseVariable& o) const {
        return name == o.name && kind == o.kind && data == o.data && number == o.number && boolean == o.boolean;
    }
};

/// @brief `on expiry { ... }` and its kin attached to a lease, kept as statement text.
struct LeaseEvent {
    std::string events;  ///< "expiry", "release", "commit", or e.g. "expiry or release"
    std::string body;    ///< the statements between the braces, one per line, without indentation
    bool operator==(const LeaseEvent& o) const { return events == o.events && body == o.body; }
};

/// @brief What few leases carry; kept out of line so the common lease stays small.
struct LeaseExtras {
    std::string billingClass;         ///< `billing class "C";` or the class of a billed subclass
    std::optional<std::string> billingSubclass;  ///< the subclass data of `billing subclass "C" DATA;`
    std::vector<LeaseVariable> variables;        ///< in the order they are written
    std::vector<std::pair<std::string, std::string>> agentOptions;  ///< ("agent.circuit-id", value as text)
    std::vector<LeaseEvent> events;
    bool operator==(const LeaseExtras& o) const {
        return billingClass == o.billingClass && billingSubclass == o.billingSubclass && variables == o.variables &&
               agentOptions == o.agentOptions && events == o.events;
    }
};

/// @brief One `lease A.B.C.D { ... }` entry. Fields hold 0 or empty when the file
/// does not write them, which is also ISC's in-memory meaning of "unset".
struct LeaseRecord {
    uint32_t address = 0;  ///< host byte order
    Time starts = 0, ends = 0;
    Time tstp = 0;   ///< failover: time sent to partner (the potential expiration we told it)
    Time tsfp = 0;   ///< failover: time sent from partner, as adjusted
    Time atsfp = 0;  ///< failover: actual tsfp last acknowledged by the partner
    Time cltt = 0;   ///< client last transaction time
    BindingState state = BindingState::Free;
    BindingState next = BindingState::Free;    ///< `next binding state`
    BindingState rewind = BindingState::Free;  ///< `rewind binding state`
    bool reserved = false;
    bool bootp = false;  ///< `dynamic-bootp;`
    HwAddr hw;
    std::string uid;       ///< the client identifier's bytes (option 61 value), binary
    std::string hostname;  ///< client-hostname
    std::unique_ptr<LeaseExtras> extras;

    LeaseRecord() = default;
    LeaseRecord(const LeaseRecord& o) { *this = o; }
    LeaseRecord(LeaseRecord&&) noexcept = default;
    LeaseRecord& operator=(const LeaseRecord& o);
    LeaseRecord& operator=(LeaseRecord&&) noexcept = default;
    bool operator==(const LeaseRecord& o) const;
    bool operator!=(const LeaseRecord& o) const { return !(*this == o); }

    /// @brief The extras, created on first use.
    LeaseExtras& ext();
};

}  // namespace tandem::common

#endif
