// Ethernet II + IPv4 + UDP framing for the raw-socket path: building a frame
// around a UDP payload (IP header and UDP checksums included) and taking a
// received frame apart with the validation a kernel stack would do (version,
// header length, total length, fragments, UDP length, checksums). Pure: no
// sockets, no policy about which packets to serve; malformed input is an error
// value with the offset where it went wrong, never an exception.
#ifndef TANDEM_COMMON_IP_FRAME_H
#define TANDEM_COMMON_IP_FRAME_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tandem::common {

using MacAddress = std::array<uint8_t, 6>;

constexpr MacAddress kBroadcastMac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr std::size_t kEthernetHeaderSize = 14;
constexpr std::size_t kIpv4HeaderSize = 20;  ///< without options; what we send
constexpr std::size_t kUdpHeaderSize = 8;
constexpr std::size_t kUdpFrameOverhead = kEthernetHeaderSize + kIpv4HeaderSize + kUdpHeaderSize;
constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint8_t kIpProtoIcmp = 1;
constexpr uint8_t kIpProtoUdp = 17;
/// ISC dhcpd 4.x sends its raw frames with TTL 128 and TOS "low delay".
constexpr uint8_t kDefaultTtl = 128;
constexpr uint8_t kTosLowDelay = 0x10;

/// @brief RFC 1071 one's-complement sum of `size` bytes, added to `sum` (not folded).
uint32_t checksumAdd(const uint8_t* data, std::size_t size, uint32_t sum = 0);
/// @brief Fold a checksumAdd() result to 16 bits and complement it (host order).
uint16_t checksumFinish(uint32_t sum);
/// @brief The Internet checksum of a buffer: checksumFinish(checksumAdd(...)).
uint16_t internetChecksum(const uint8_t* data, std::size_t size);

/// @brief The addresses of a frame to build. IPs are host byte order.
struct UdpFrameHeader {
    MacAddress dstMac{};
    MacAddress srcMac{};
    uint32_t srcIp = 0, dstIp = 0;
    uint16_t srcPort = 0, dstPort = 0;
    uint8_t ttl = kDefaultTtl;
    uint8_t tos = kTosLowDelay;
};

/// @brief Write an Ethernet II / IPv4 (no options, DF clear, id 0) / UDP frame
/// carrying `payload` into `out`. Both checksums are computed; a UDP checksum
/// that computes to 0 is sent as 0xffff (RFC 768).
/// @return the frame size, or 0 when `capacity` is too small or the payload
/// does not fit in one IPv4 datagram.
std::size_t buildUdpFrame(const UdpFrameHeader& header, const uint8_t* payload, std::size_t payloadSize,
                          uint8_t* out, std::size_t capacity);
/// @brief The same into a new vector (tests, tools).
std::vector<uint8_t> buildUdpFrame(const UdpFrameHeader& header, const uint8_t* payload, std::size_t payloadSize);

/// Why a received frame was refused. The values index counters (kFrameErrorCount).
enum class FrameError : uint8_t {
    None = 0,
    TooShort,        ///< shorter than Ethernet + minimal IPv4 + UDP headers
    NotIpv4,         ///< EtherType is not 0x0800 (VLAN-tagged frames land here too)
    BadIpVersion,    ///< version nibble is not 4
    BadHeaderLength, ///< IHL < 5, or the header runs past the frame
    BadTotalLength,  ///< total length < header, or more than the frame holds
    Fragment,        ///< MF set or fragment offset != 0: we never reassemble
    NotUdp,          ///< protocol is not 17
    BadIpChecksum,
    BadUdpLength,    ///< UDP length < 8 or past the IP payload
    BadUdpChecksum,
};
constexpr std::size_t kFrameErrorCount = 11;
/// @brief A short, stable name for logs and metrics ("bad-udp-checksum", ...).
const char* toString(FrameError e);

/// @brief A received UDP/IPv4 frame taken apart. `payload` points into the input buffer.
struct UdpFrame {
    MacAddress dstMac{}, srcMac{};
    uint32_t srcIp = 0, dstIp = 0;  ///< host byte order
    uint8_t ttl = 0;
    uint16_t srcPort = 0, dstPort = 0;
    const uint8_t* payload = nullptr;
    std::size_t payloadSize = 0;
};

struct FrameParseResult {
    FrameError error = FrameError::None;
    std::size_t offset = 0;  ///< where the problem is, from the start of the frame
    UdpFrame frame;
    bool ok() const { return error == FrameError::None; }
};

/// @brief Parse and validate an Ethernet II frame carrying IPv4/UDP. Trailing
/// bytes past the IP total length (Ethernet padding) are ignored.
/// @param checksumNotReady the kernel says the frame was sent from this host with
/// checksum offload pending (TP_STATUS_CSUMNOTREADY): its UDP checksum field then
/// holds only the pseudo-header sum, so it is not verified. The IP header
/// checksum is always verified; a UDP checksum of 0 means "none" (RFC 768).
FrameParseResult parseUdpFrame(const uint8_t* data, std::size_t size, bool checksumNotReady);

}  // namespace tandem::common

#endif
