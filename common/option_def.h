// Option spaces and option definitions: ISC dhcpd 4.4's built-in tables (the
// dhcp, agent, fqdn, nwip, vendor and server spaces and their enumerations) and
// the definitions a configuration adds. Formats use ISC's letters (I ip, L
// uint32, t text, X string, D domain list, A array, ...), so that conf, the
// server and the lease file read one table. Knows nothing of syntax or sockets.
#ifndef TANDEM_COMMON_OPTION_DEF_H
#define TANDEM_COMMON_OPTION_DEF_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tandem::common {

struct OptionDef {
    std::string space;
    std::string name;
    uint32_t code = 0;
    std::string format;  ///< ISC's format letters, e.g. "IA", "Dc", "fIa", "Eagent."
};

/// @brief A named space of options with its code and length widths.
class OptionSpace {
public:
    OptionSpace(std::string name, unsigned codeWidth, unsigned lengthWidth)
        : name_(std::move(name)), codeWidth_(codeWidth), lengthWidth_(lengthWidth) {}

    const std::string& name() const { return name_; }
    unsigned codeWidth() const { return codeWidth_; }
    unsigned lengthWidth() const { return lengthWidth_; }
    const std::vector<OptionDef>& definitions() const { return defs_; }

    /// @brief Add a definition; one with the same name or the same code is replaced, as in ISC.
    void define(OptionDef def);
    const OptionDef* find(std::string_view name) const;  ///< case-insensitive
    const OptionDef* findByCode(uint32_t code) const;

private:
    std::string name_;
    unsigned codeWidth_;
    unsigned lengthWidth_;
    std::vector<OptionDef> defs_;
};

/// @brief The values a format letter N names (ddns-update-style none|ad-hoc|interim|standard ...).
struct Enumeration {
    std::string name;
    std::vector<std::pair<std::string, int>> values;
    std::optional<int> valueOf(std::string_view word) const;
    const std::string* nameOf(int value) const;
};

class OptionRegistry {
public:
    /// @brief ISC 4.4's spaces, options and enumerations.
    static OptionRegistry builtin();

    OptionSpace* space(std::string_view name);
    const OptionSpace* space(std::string_view name) const;
    OptionSpace& addSpace(const std::string& name, unsigned codeWidth, unsigned lengthWidth);
    const OptionDef* find(std::string_view space, std::string_view name) const;
    const OptionDef* findByCode(std::string_view space, uint32_t code) const;
    static const Enumeration* enumeration(std::string_view name);

    /// @brief Why a format cannot be used, or nothing when it is well formed.
    static std::optional<std::string> checkFormat(std::string_view format);

private:
    std::vector<OptionSpace> spaces_;
};

bool iequal(std::string_view a, std::string_view b);

}  // namespace tandem::common

#endif
