#include "common/ipv4.h"

namespace tandem::common {

std::size_t formatIpv4(uint32_t addr, char* out) {
    std::size_t n = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        unsigned v = (addr >> shift) & 0xff;
        if (v >= 100) out[n++] = char('0' + v / 100);
        if (v >= 10) out[n++] = char('0' + v / 10 % 10);
        out[n++] = char('0' + v % 10);
        if (shift) out[n++] = '.';
    }
    out[n] = '\0';
    return n;
}

std::string formatIpv4(uint32_t addr) {
    char buf[16];
    return std::string(buf, formatIpv4(addr, buf));
}

std::optional<uint32_t> parseIpv4(std::string_view t) {
    uint32_t addr = 0;
    std::size_t i = 0;
    for (int part = 0; part < 4; ++part) {
        if (part) {
            if (i >= t.size() || t[i] != '.') return std::nullopt;
            ++i;
        }
        std::size_t start = i;
        unsigned v = 0;
        while (i < t.size() && t[i] >= '0' && t[i] <= '9' && i - start < 3) v = v * 10 + unsigned(t[i++] - '0');
        if (i == start || v > 255) return std::nullopt;
        addr = addr << 8 | v;
    }
    if (i != t.size()) return std::nullopt;
    return addr;
}

std::optional<unsigned> prefixLength(uint32_t mask) {
    unsigned n = 0;
    while (n < 32 && (mask & (0x80000000u >> n))) ++n;
    if (n < 32 && (mask << n) != 0) return std::nullopt;
    return n;
}

}  // namespace tandem::common
