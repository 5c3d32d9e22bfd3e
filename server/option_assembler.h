// Assembles the options of a reply from the scopes that apply to a client,
// applied outermost first (global, shared-network, subnet, pool, classes,
// host) so that the innermost setting wins, as ISC does. Then orders them as
// ISC's cons_options does: the protocol options first, then the client's
// parameter request list, then (without a list) everything else, relay agent
// information last. Knows nothing of leases or sockets.
#ifndef TANDEM_SERVER_OPTION_ASSEMBLER_H
#define TANDEM_SERVER_OPTION_ASSEMBLER_H

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/dhcp_packet.h"
#include "conf/config.h"

namespace tandem::server {

class OptionAssembler {
public:
    /// Evaluates `option NAME = expression;` values; returns false when the expression has no value.
    using ExprEvaluator = std::function<bool(const conf::OptionSetting&, std::vector<uint8_t>& out)>;

    OptionAssembler(const conf::Config& config, const common::Packet4& request)
        : config_(config), request_(request) {}

    void setEvaluator(ExprEvaluator e) { eval_ = std::move(e); }

    /// @brief Apply the option statements of one scope (not its parents).
    void applyScope(const conf::Scope& scope);
    /// @brief Apply one statement: verb option|supersede|default|prepend|append|send.
    void apply(const std::string& verb, const std::string& space, uint32_t code, const std::vector<uint8_t>& value);
    /// @brief Set a dhcp-space option outright (protocol options the server computes).
    void set(uint8_t code, std::vector<uint8_t> value) { dhcp_[code] = std::move(value); }
    void erase(uint8_t code) { dhcp_.erase(code); }
    const std::vector<uint8_t>* get(uint8_t code) const;
    /// @brief The value of an option of another space (e.g. a vendor space), or nullptr.
    const std::vector<uint8_t>* get(const std::string& space, uint32_t code) const;

    /// @brief Put the options into `reply` in ISC's order. `vendorSpace` (vendor-option-space)
    /// names a space whose options are encapsulated into option 43.
    void build(common::Packet4& reply, const std::string& vendorSpace) const;

private:
    const conf::Config& config_;
    const common::Packet4& request_;
    ExprEvaluator eval_;
    std::map<uint8_t, std::vector<uint8_t>> dhcp_;
    std::map<std::pair<std::string, uint32_t>, std::vector<uint8_t>> other_;
};

}  // namespace tandem::server

#endif
