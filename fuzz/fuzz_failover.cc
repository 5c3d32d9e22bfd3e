// libFuzzer target: any bytes as a failover TCP stream. The framer cuts it into
// messages; each must decode to an error or to a message that encodes back to
// a message that decodes the same (encode may reorder options into ISC's order).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "failover/framer.h"
#include "failover/message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tandem::failover;
    Framer framer;
    // Feed in two pieces so that reassembly across reads is exercised too.
    std::size_t half = size / 2;
    framer.feed(data, half);
    framer.feed(data + half, size - half);
    std::vector<uint8_t> msg;
    while (framer.next(msg)) {
        DecodeResult r = decode(msg.data(), msg.size());
        if (!r.ok()) continue;
        std::vector<uint8_t> again = encode(*r.message);
        DecodeResult r2 = decode(again.data(), again.size());
        if (!r2.ok() || !(*r2.message == *r.message)) std::abort();
    }
    return 0;
}
