#include "server/option_assembler.h"

#include <algorithm>

namespace tandem::server {

namespace {

constexpr uint8_t kPad = 0, kEnd = 255;
constexpr uint8_t kMessageType = 53, kServerId = 54, kLeaseTime = 51, kRenewal = 58, kRebinding = 59,
                  kMessage = 56, kSubnetMask = 1, kPrl = 55, kAgent = 82, kVendorEncapsulated = 43;

// ISC's cons_options puts these first, in this order, whatever the client asked.
constexpr uint8_t kPriority[] = {kMessageType, kServerId, kLeaseTime, kMessage, kRenewal, kRebinding, kSubnetMask};

bool isDhcp(const std::string& space) { return space.empty() || space == "dhcp"; }

}  // namespace

void OptionAssembler::applyScope(const conf::Scope& scope) {
    for (const auto& o : scope.options) {
        if (o.expr) {
            std::vector<uint8_t> v;
            if (!eval_ || !eval_(o, v)) continue;
            apply(o.verb, o.space, o.code, v);
        } else {
            apply(o.verb, o.space, o.code, o.value.wire);
        }
    }
}

void OptionAssembler::apply(const std::string& verb, const std::string& space, uint32_t code,
                            const std::vector<uint8_t>& value) {
    if (!isDhcp(space)) {
        auto key = std::make_pair(space, code);
        if (verb == "append") other_[key].insert(other_[key].end(), value.begin(), value.end());
        else if (verb == "prepend") other_[key].insert(other_[key].begin(), value.begin(), value.end());
        else other_[key] = value;
        return;
    }
    if (code == 0 || code >= 255) return;
    uint8_t c = uint8_t(code);
    // dhcpd.conf(5): `default` yields to a value the client sent; prepend and
    // append combine with the client's value (ISC applies them to the option
    // as the client supplied it, or to what is configured when it did not).
    const common::DhcpOption* client = request_.find(c);
    if (verb == "default") {
        dhcp_[c] = client ? client->data : value;
    } else if (verb == "prepend" || verb == "append") {
        std::vector<uint8_t> base;
        if (auto it = dhcp_.find(c); it != dhcp_.end()) base = it->second;
        else if (client) base = client->data;
        if (verb == "prepend") base.insert(base.begin(), value.begin(), value.end());
        else base.insert(base.end(), value.begin(), value.end());
        dhcp_[c] = std::move(base);
    } else {
        dhcp_[c] = value;  // option, supersede, send
    }
}

const std::vector<uint8_t>* OptionAssembler::get(uint8_t code) const {
    auto it = dhcp_.find(code);
    return it == dhcp_.end() ? nullptr : &it->second;
}

const std::vector<uint8_t>* OptionAssembler::get(const std::string& space, uint32_t code) const {
    if (isDhcp(space)) return code < 255 ? get(uint8_t(code)) : nullptr;
    auto it = other_.find({space, code});
    return it == other_.end() ? nullptr : &it->second;
}

void OptionAssembler::build(common::Packet4& reply, const std::string& vendorSpace) const {
    std::map<uint8_t, std::vector<uint8_t>> all = dhcp_;
    // vendor-option-space: the options of that space, encapsulated into option 43
    // (RFC 2132 §8.4), unless option 43 itself was given.
    if (!vendorSpace.empty() && !all.count(kVendorEncapsulated)) {
        const common::OptionSpace* sp = config_.options.space(vendorSpace);
        std::vector<uint8_t> enc;
        for (const auto& [key, value] : other_) {
            if (key.first != vendorSpace || key.second > 254 || !sp) continue;
            std::size_t pos = 0;
            do {
                std::size_t n = std::min<std::size_t>(255, value.size() - pos);
                enc.push_back(uint8_t(key.second));
                enc.push_back(uint8_t(n));
                enc.insert(enc.end(), value.begin() + long(pos), value.begin() + long(pos + n));
                pos += n;
            } while (pos < value.size());
        }
        if (!enc.empty()) all[kVendorEncapsulated] = std::move(enc);
    }

    std::vector<uint8_t> order;
    auto add = [&](uint8_t c) {
        if (c == kPad || c == kEnd || c == kAgent || c == kPrl) return;
        if (!all.count(c) || std::find(order.begin(), order.end(), c) != order.end()) return;
        order.push_back(c);
    };
    for (uint8_t c : kPriority) add(c);
    const common::DhcpOption* prl = request_.find(kPrl);
    // A `dhcp-parameter-request-list` setting replaces the client's list (dhcpd.conf(5)).
    const std::vector<uint8_t>* configuredPrl = get(kPrl);
    const std::vector<uint8_t>* list = configuredPrl ? configuredPrl : prl ? &prl->data : nullptr;
    if (list) {
        for (uint8_t c : *list) add(c);
    } else {
        for (const auto& [c, v] : all) add(c);
    }
    for (uint8_t c : order) reply.options.push_back({c, all[c]});
    // RFC 3046 §2.2: the relay agent information goes back last, unchanged.
    if (auto it = all.find(kAgent); it != all.end()) reply.options.push_back({kAgent, it->second});
}

}  // namespace tandem::server
