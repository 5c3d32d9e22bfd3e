// libFuzzer target: any bytes as a DHCP/BOOTP message. Decoding gives an error
// or a packet; a packet encodes (when its options fit) to bytes that decode
// again with the same options.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/dhcp_packet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tandem::common;
    PacketDecodeResult r = decodePacket(data, size);
    if (!r.ok()) return 0;
    std::string err;
    auto again = encodePacket(*r.packet, 1500, err);
    if (!again) return 0;
    PacketDecodeResult r2 = decodePacket(again->data(), again->size());
    if (!r2.ok()) std::abort();
    for (const auto& o : r.packet->options) {
        const DhcpOption* same = r2.packet->find(o.code);
        if (!same || same->data != o.data) std::abort();
    }
    return 0;
}
