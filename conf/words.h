// Small readers for the words of dhcpd.conf values: addresses, numbers,
// colon-separated hex, hostnames and ISC's date form. Each one only says whether
// a word has that shape; it reports nothing and throws nothing.
#ifndef TANDEM_CONF_WORDS_H
#define TANDEM_CONF_WORDS_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/atom.h"

namespace tandem::conf {

/// @brief A dotted quad (exactly four decimal parts 0..255) in host byte order.
std::optional<uint32_t> parseIpv4(const std::string& text);
/// @brief Whether `text` can be a DNS name (letters, digits, '-', '_', dots).
bool isHostname(const std::string& text);
/// @brief An unsigned decimal number no larger than `max`.
std::optional<uint64_t> parseUnsigned(const std::string& text, uint64_t max);
/// @brief Colon-separated hex bytes, one or two digits each ("1:2:aa"); a lone byte too.
std::optional<std::vector<uint8_t>> parseHexList(const std::string& text);
/// @brief Whether the word has only hex digits and colons (a hex list to ISC).
bool looksHex(const std::string& text);
/// @brief A hardware type name as ISC knows it: ethernet 1, token-ring 6, fddi 8, infiniband 32.
std::optional<uint8_t> hardwareType(const std::string& name);
std::string lower(std::string text);
bool iequals(const std::string& a, const char* b);
/// @brief Print bytes as ISC does, "01:0a:ff".
std::string hexString(const std::vector<uint8_t>& bytes);
std::string ipv4String(uint32_t addr);

/// @brief ISC's date, as in leases files: `W YYYY/MM/DD HH:MM:SS [tz]`, `epoch N` or `never`
/// (never = -1). Reads from atoms[pos], advances pos. On failure returns nullopt and leaves
/// `error` and `pos` at the offending atom.
std::optional<int64_t> parseDate(const common::Atoms& atoms, std::size_t& pos, std::string& error);

}  // namespace tandem::conf

#endif
