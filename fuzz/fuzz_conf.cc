// libFuzzer target: any bytes as a dhcpd.conf. The scanner, the parser and the
// builder must neither crash nor hang nor read outside their buffers.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/diag.h"
#include "conf/config_builder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    tandem::common::DiagnosticSink sink;
    auto config = tandem::conf::loadConfigText(text, "fuzz.conf", sink);
    // Formatting every diagnostic exercises the source-line and caret code too.
    for (const auto& d : sink.all()) (void)sink.format(d);
    return 0;
}
