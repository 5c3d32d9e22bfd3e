#include "common/dhcp_packet.h"

#include <algorithm>
#include <iterator>

namespace tandem::common {

namespace {

constexpr uint8_t kPad = 0;
constexpr uint8_t kEnd = 255;
constexpr uint8_t kOverload = 52;
constexpr uint8_t kCookie[4] = {99, 130, 83, 99};  // RFC 2131 §3

uint32_t get32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
void put32(std::vector<uint8_t>& o, uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) o.push_back(uint8_t(v >> s));
}

/// Options of one area (options field, file or sname), appended to `opts`;
/// repeated codes are joined (RFC 3396 §5). `base` is the area's offset in the
/// packet, for errors. Returns the overload value seen, or an error.
struct AreaResult {
    bool ok = true;
    std::string error;
    std::size_t offset = 0;
    uint8_t overload = 0;
};

AreaResult readArea(const uint8_t* p, std::size_t size, std::size_t base, std::vector<DhcpOption>& opts,
                    bool mainArea) {
    AreaResult r;
    std::size_t i = 0;
    while (i < size) {
        uint8_t code = p[i];
        if (code == kPad) {
            ++i;
            continue;
        }
        if (code == kEnd) return r;
        if (i + 1 >= size) {
            r = {false, "option " + std::to_string(code) + " has no length byte", base + i, 0};
            return r;
        }
        std::size_t len = p[i + 1];
        if (i + 2 + len > size) {
            r = {false, "option " + std::to_string(code) + " of " + std::to_string(len) + " bytes runs past the end",
                 base + i, 0};
            return r;
        }
        const uint8_t* v = p + i + 2;
        if (code == kOverload) {
            // Only the options field may say that file and sname hold options;
            // one found inside them is ignored, so overload can never loop.
            if (mainArea) {
                if (len != 1 || v[0] < 1 || v[0] > 3) {
                    r = {false, "option overload (52) must be one byte 1, 2 or 3", base + i, 0};
                    return r;
                }
                r.overload = v[0];
            }
        } else {
            auto it = std::find_if(opts.begin(), opts.end(), [&](const DhcpOption& o) { return o.code == code; });
            if (it == opts.end()) opts.push_back({code, std::vector<uint8_t>(v, v + len)});
            else it->data.insert(it->data.end(), v, v + len);
        }
        i += 2 + len;
    }
    return r;  // an area may end without END; RFC 2131 asks for one, clients omit it
}

bool validRelayInfo(const std::vector<uint8_t>& d) {
    std::size_t i = 0;
    while (i < d.size()) {
        if (i + 1 >= d.size()) return false;
        std::size_t len = d[i + 1];
        if (i + 2 + len > d.size()) return false;
        i += 2 + len;
    }
    return true;
}

std::optional<uint32_t> addr(const DhcpOption* o) {
    if (!o || o->data.size() != 4) return std::nullopt;
    return get32(o->data.data());
}

/// Write `o` as one or more instances of at most 255 bytes (RFC 3396 §6).
void writeOption(std::vector<uint8_t>& out, const DhcpOption& o) {
    std::size_t pos = 0;
    do {
        std::size_t n = std::min<std::size_t>(255, o.data.size() - pos);
        out.push_back(o.code);
        out.push_back(uint8_t(n));
        out.insert(out.end(), o.data.begin() + long(pos), o.data.begin() + long(pos + n));
        pos += n;
    } while (pos < o.data.size());
}

std::size_t wireSize(const DhcpOption& o) {
    std::size_t n = o.data.size();
    std::size_t instances = n == 0 ? 1 : (n + 254) / 255;
    return n + 2 * instances;
}

bool allZero(const uint8_t* p, std::size_t n) { return std::all_of(p, p + n, [](uint8_t b) { return b == 0; }); }

}  // namespace

const DhcpOption* Packet4::find(uint8_t code) const {
    for (const auto& o : options)
        if (o.code == code) return &o;
    return nullptr;
}

void Packet4::set(uint8_t code, std::vector<uint8_t> data) {
    for (auto& o : options)
        if (o.code == code) {
            o.data = std::move(data);
            return;
        }
    options.push_back({code, std::move(data)});
}

std::optional<uint8_t> Packet4::messageType() const {
    const DhcpOption* o = find(53);
    if (!o || o->data.size() != 1) return std::nullopt;
    return o->data[0];
}
std::optional<uint32_t> Packet4::requestedAddress() const { return addr(find(50)); }
std::optional<uint32_t> Packet4::serverIdentifier() const { return addr(find(54)); }
std::optional<uint32_t> Packet4::leaseTime() const { return addr(find(51)); }
std::optional<uint16_t> Packet4::maxMessageSize() const {
    const DhcpOption* o = find(57);
    if (!o || o->data.size() != 2) return std::nullopt;
    return uint16_t(o->data[0] << 8 | o->data[1]);
}
std::vector<uint8_t> Packet4::parameterRequestList() const {
    const DhcpOption* o = find(55);
    return o ? o->data : std::vector<uint8_t>{};
}

std::optional<std::vector<DhcpOption>> Packet4::relayAgentInfo() const {
    const DhcpOption* o = find(82);
    if (!o) return std::nullopt;
    std::vector<DhcpOption> subs;
    std::size_t i = 0;
    while (i + 1 < o->data.size()) {
        std::size_t len = o->data[i + 1];
        if (i + 2 + len > o->data.size()) break;
        subs.push_back({o->data[i], std::vector<uint8_t>(o->data.begin() + long(i + 2), o->data.begin() + long(i + 2 + len))});
        i += 2 + len;
    }
    return subs;
}

PacketDecodeResult decodePacket(const uint8_t* d, std::size_t size) {
    PacketDecodeResult r;
    auto fail = [&](std::string e, std::size_t off) {
        r.error = std::move(e);
        r.offset = off;
        return r;
    };
    if (size < kDhcpHeaderSize)
        return fail("packet of " + std::to_string(size) + " bytes is shorter than the 236-byte BOOTP header", 0);
    Packet4 p;
    p.op = d[0];
    if (p.op != 1 && p.op != 2) return fail("op " + std::to_string(p.op) + " is neither BOOTREQUEST nor BOOTREPLY", 0);
    p.htype = d[1];
    p.hlen = d[2];
    if (p.hlen > 16) return fail("hardware address length " + std::to_string(p.hlen) + " is over 16", 2);
    p.hops = d[3];
    p.xid = get32(d + 4);
    p.secs = uint16_t(d[8] << 8 | d[9]);
    p.flags = uint16_t(d[10] << 8 | d[11]);
    p.ciaddr = get32(d + 12);
    p.yiaddr = get32(d + 16);
    p.siaddr = get32(d + 20);
    p.giaddr = get32(d + 24);
    std::copy(d + 28, d + 44, p.chaddr.begin());
    std::copy(d + 44, d + 108, p.sname.begin());
    std::copy(d + 108, d + 236, p.file.begin());
    if (size < kDhcpOptionsOffset || !std::equal(kCookie, kCookie + 4, d + kDhcpCookieOffset)) {
        // RFC 951 BOOTP: a vendor area without the cookie carries no options we read.
        p.cookie = false;
        r.packet = std::move(p);
        return r;
    }
    AreaResult main = readArea(d + kDhcpOptionsOffset, size - kDhcpOptionsOffset, kDhcpOptionsOffset, p.options, true);
    if (!main.ok) return fail(main.error, main.offset);
    // RFC 3396 §5: options, then file, then sname, joined in that order.
    if (main.overload & 1) {
        AreaResult a = readArea(d + 108, 128, 108, p.options, false);
        if (!a.ok) return fail(a.error, a.offset);
        p.file.fill(0);
    }
    if (main.overload & 2) {
        AreaResult a = readArea(d + 44, 64, 44, p.options, false);
        if (!a.ok) return fail(a.error, a.offset);
        p.sname.fill(0);
    }
    if (const DhcpOption* ri = p.find(82)) {
        // RFC 3046 §2.0: the option is one instance of at most 255 bytes; relays
        // may not split it, so a longer one is forged.
        if (ri->data.size() > 255)
            return fail("relay agent information (82) of " + std::to_string(ri->data.size()) +
                            " bytes is longer than 255",
                        kDhcpOptionsOffset);
        if (!validRelayInfo(ri->data))
            return fail("relay agent information (82) has a malformed sub-option", kDhcpOptionsOffset);
    }
    if (const DhcpOption* mt = p.find(53); mt && mt->data.size() != 1)
        return fail("DHCP message type (53) must be one byte", kDhcpOptionsOffset);
    r.packet = std::move(p);
    return r;
}

std::optional<std::vector<uint8_t>> encodePacket(const Packet4& p, std::size_t maxSize, std::string& error) {
    std::vector<uint8_t> out;
    out.reserve(std::max(maxSize, kBootpMinSize));
    out.push_back(p.op);
    out.push_back(p.htype);
    out.push_back(p.hlen);
    out.push_back(p.hops);
    put32(out, p.xid);
    out.push_back(uint8_t(p.secs >> 8));
    out.push_back(uint8_t(p.secs));
    out.push_back(uint8_t(p.flags >> 8));
    out.push_back(uint8_t(p.flags));
    put32(out, p.ciaddr);
    put32(out, p.yiaddr);
    put32(out, p.siaddr);
    put32(out, p.giaddr);
    out.insert(out.end(), p.chaddr.begin(), p.chaddr.end());
    std::size_t snameAt = out.size();
    out.insert(out.end(), p.sname.begin(), p.sname.end());
    std::size_t fileAt = out.size();
    out.insert(out.end(), p.file.begin(), p.file.end());
    if (!p.cookie) {
        out.resize(std::max(out.size(), kBootpMinSize), 0);
        return out;
    }
    out.insert(out.end(), kCookie, kCookie + 4);

    std::vector<const DhcpOption*> opts;
    for (const auto& o : p.options)
        if (o.code != kPad && o.code != kEnd && o.code != kOverload) opts.push_back(&o);
    std::size_t total = 0;
    for (const auto* o : opts) total += wireSize(*o);
    if (maxSize < kDhcpOptionsOffset + 1) maxSize = kDhcpOptionsOffset + 1;
    std::size_t room = maxSize - kDhcpOptionsOffset;

    if (total + 1 <= room) {
        for (const auto* o : opts) writeOption(out, *o);
        out.push_back(kEnd);
    } else {
        // Overload (RFC 2131 §4.1): the options field keeps option 52 and what fits,
        // the rest goes to file, then sname, each ended by END.
        bool fileFree = allZero(p.file.data(), p.file.size());
        bool snameFree = allZero(p.sname.data(), p.sname.size());
        std::vector<uint8_t> mainArea, fileArea, snameArea;
        std::size_t mainRoom = room >= 4 ? room - 4 : 0;  // option 52 (3 bytes) and END
        for (const auto* o : opts) {
            std::size_t n = wireSize(*o);
            if (mainArea.size() + n <= mainRoom) writeOption(mainArea, *o);
            else if (fileFree && fileArea.size() + n + 1 <= 128) writeOption(fileArea, *o);
            else if (snameFree && snameArea.size() + n + 1 <= 64) writeOption(snameArea, *o);
            else {
                error = "options do not fit in " + std::to_string(maxSize) + " bytes (option " + std::to_string(o->code) +
                        " of " + std::to_string(o->data.size()) + " bytes)";
                return std::nullopt;
            }
        }
        uint8_t overload = uint8_t((fileArea.empty() ? 0 : 1) | (snameArea.empty() ? 0 : 2));
        out.push_back(kOverload);
        out.push_back(1);
        out.push_back(overload);
        out.insert(out.end(), mainArea.begin(), mainArea.end());
        out.push_back(kEnd);
        if (!fileArea.empty()) {
            fileArea.push_back(kEnd);
            std::fill(out.begin() + long(fileAt), out.begin() + long(fileAt + 128), 0);
            std::copy(fileArea.begin(), fileArea.end(), out.begin() + long(fileAt));
        }
        if (!snameArea.empty()) {
            snameArea.push_back(kEnd);
            std::fill(out.begin() + long(snameAt), out.begin() + long(snameAt + 64), 0);
            std::copy(snameArea.begin(), snameArea.end(), out.begin() + long(snameAt));
        }
    }
    if (out.size() < kBootpMinSize) out.resize(kBootpMinSize, 0);
    return out;
}

std::string messageTypeName(uint8_t type) {
    static const char* const kNames[] = {"",          "DHCPDISCOVER", "DHCPOFFER",   "DHCPREQUEST",
                                         "DHCPDECLINE", "DHCPACK",    "DHCPNAK",     "DHCPRELEASE",
                                         "DHCPINFORM",  "DHCPFORCERENEW", "DHCPLEASEQUERY", "DHCPLEASEUNASSIGNED",
                                         "DHCPLEASEUNKNOWN", "DHCPLEASEACTIVE"};
    if (type >= 1 && type < std::size(kNames)) return kNames[type];
    return "DHCP message type " + std::to_string(type);
}

}  // namespace tandem::common
