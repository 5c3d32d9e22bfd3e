// Failover messages as values: decoding bytes into a typed Message and
// encoding one back, in ISC's option order. Pure: no sockets, no state, no
// policy. Errors are values that say what is wrong and at which byte.
#ifndef TANDEM_FAILOVER_MESSAGE_H
#define TANDEM_FAILOVER_MESSAGE_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "failover/protocol.h"

namespace tandem::failover {

namespace detail {
template <OptionKind K> struct KindType;
template <> struct KindType<OptionKind::U8> { using type = uint8_t; };
template <> struct KindType<OptionKind::U16> { using type = uint16_t; };
template <> struct KindType<OptionKind::U32> { using type = uint32_t; };
template <> struct KindType<OptionKind::Ipv4> { using type = uint32_t; };  ///< host byte order
template <> struct KindType<OptionKind::Bytes> { using type = std::vector<uint8_t>; };
template <> struct KindType<OptionKind::Text> { using type = std::string; };
}  // namespace detail

/// @brief An option this codec does not know (codes 0 and above 29), kept as it came.
struct RawOption {
    uint16_t code = 0;
    std::vector<uint8_t> data;
};

/// @brief One failover message. Each known option is a field that is set when present.
struct Message {
    MessageType type = MessageType::FTM_CONTACT;
    uint32_t time = 0;
    uint32_t xid = 0;
#define TANDEM_X(code, name, field, kind, text) std::optional<detail::KindType<OptionKind::kind>::type> field;
    TANDEM_FTO(TANDEM_X)
#undef TANDEM_X
    std::vector<RawOption> unknown;

    bool operator==(const Message& other) const;
};

struct DecodeResult {
    std::optional<Message> message;
    std::string error;      ///< empty on success
    std::size_t offset = 0; ///< the byte the error is about
    bool ok() const { return message.has_value(); }
};

/// @brief Decode one whole message (its length field must equal `size`).
DecodeResult decode(const uint8_t* data, std::size_t size);

/// @brief Encode a message: 12-byte header (payload offset 12), then its options,
/// first those ISC sends for this type in ISC's order, then any others by code,
/// then unknown ones as they came.
std::vector<uint8_t> encode(const Message& m);

}  // namespace tandem::failover

#endif
