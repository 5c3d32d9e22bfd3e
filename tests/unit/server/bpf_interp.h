// A small classic-BPF interpreter for the tests: it runs the filters that
// packet_io and ping attach to their sockets against hand-made frames, so the
// jump offsets are checked without a socket. It covers only the instructions
// those filters use and fails the run on any other.
#ifndef TANDEM_TESTS_UNIT_SERVER_BPF_INTERP_H
#define TANDEM_TESTS_UNIT_SERVER_BPF_INTERP_H

#include <linux/filter.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "server/packet_io.h"

namespace tandem::test {

/// @brief Run `prog` over `pkt`; `pktType` is what the ancillary load of
/// SKF_AD_PKTTYPE sees. Returns the accepted length (0 = drop), or nothing when
/// the program does something this interpreter does not know (a test failure).
inline std::optional<uint32_t> runBpf(const std::vector<server::BpfInstruction>& prog, const std::vector<uint8_t>& pkt,
                                      uint32_t pktType = 0) {
    uint32_t a = 0, x = 0;
    auto load = [&](uint32_t at, unsigned size, bool& ok) -> uint32_t {
        if (at + size > pkt.size()) {
            ok = false;  // the kernel drops the packet when a load runs off its end
            return 0;
        }
        uint32_t v = 0;
        for (unsigned i = 0; i < size; ++i) v = v << 8 | pkt[at + i];
        return v;
    };
    for (std::size_t pc = 0, steps = 0; pc < prog.size() && steps < 4096; ++steps) {
        const server::BpfInstruction& in = prog[pc];
        bool ok = true;
        switch (in.code) {
            case BPF_LD | BPF_W | BPF_ABS:
                if (in.k == uint32_t(SKF_AD_OFF + SKF_AD_PKTTYPE)) a = pktType;
                else a = load(in.k, 4, ok);
                break;
            case BPF_LD | BPF_H | BPF_ABS: a = load(in.k, 2, ok); break;
            case BPF_LD | BPF_B | BPF_ABS: a = load(in.k, 1, ok); break;
            case BPF_LD | BPF_H | BPF_IND: a = load(x + in.k, 2, ok); break;
            case BPF_LD | BPF_B | BPF_IND: a = load(x + in.k, 1, ok); break;
            case BPF_LDX | BPF_B | BPF_MSH: x = (load(in.k, 1, ok) & 0x0f) * 4; break;
            case BPF_JMP | BPF_JEQ | BPF_K: pc += 1 + (a == in.k ? in.jt : in.jf); continue;
            case BPF_JMP | BPF_JSET | BPF_K: pc += 1 + ((a & in.k) ? in.jt : in.jf); continue;
            case BPF_RET | BPF_K: return in.k;
            default: return std::nullopt;
        }
        if (!ok) return 0u;
        ++pc;
    }
    return std::nullopt;  // fell off the end, or looped
}

}  // namespace tandem::test

#endif
