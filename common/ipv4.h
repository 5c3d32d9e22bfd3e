// IPv4 addresses as host-order uint32_t values: text conversions and the few
// subnet helpers every layer needs. Pure; no resolver.
#ifndef TANDEM_COMMON_IPV4_H
#define TANDEM_COMMON_IPV4_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tandem::common {

/// @brief Dotted quad, e.g. "10.0.0.1".
std::string formatIpv4(uint32_t addr);
/// @brief Write a dotted quad into `out` (at least 16 bytes); returns its length.
std::size_t formatIpv4(uint32_t addr, char* out);
/// @brief Parse a strict dotted quad (four decimal parts 0..255); nothing otherwise.
std::optional<uint32_t> parseIpv4(std::string_view text);
/// @brief Number of leading one bits when `mask` is contiguous, nothing otherwise.
std::optional<unsigned> prefixLength(uint32_t mask);

}  // namespace tandem::common

#endif
