// Typing of option and parameter values: from the atoms written after a name
// in dhcpd.conf to the bytes the option carries on the wire, and back to text.
// Pure: errors are values naming the offending atom; hostnames are kept, never
// resolved here.
#ifndef TANDEM_COMMON_OPTION_VALUE_H
#define TANDEM_COMMON_OPTION_VALUE_H

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/atom.h"
#include "common/option_def.h"

namespace tandem::common {

struct TypedValue {
    std::vector<uint8_t> wire;  ///< the option's data as sent, without code and length
    /// IP fields written as hostnames: byte offset in `wire` (4 zero bytes held there) and name.
    std::vector<std::pair<std::size_t, std::string>> hostnames;
};

struct ValueError {
    std::string message;
    std::size_t atom = 0;  ///< index of the offending atom; atoms.size() when something is missing
};

/// @brief Type `atoms` against the definition's format.
std::variant<TypedValue, ValueError> typeValue(const OptionRegistry& registry, const OptionDef& def,
                                               const Atoms& atoms);

/// @brief The value as dhcpd.conf would write it (`10.0.0.1, 10.0.0.2`, `"text"`, `01:02`).
std::string renderValue(const OptionDef& def, const std::vector<uint8_t>& wire);

}  // namespace tandem::common

#endif
