// DHCPv4 messages as values: decoding a UDP payload into a Packet4 and encoding
// one back (RFC 2131 header, RFC 2132 options, RFC 3396 long options, option
// overload into file/sname, RFC 3046 relay agent information). Pure: no
// sockets and no policy; a malformed packet is an error value with its offset.
#ifndef TANDEM_COMMON_DHCP_PACKET_H
#define TANDEM_COMMON_DHCP_PACKET_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tandem::common {

/// @brief One option: its code and its whole value (instances joined per RFC 3396).
struct DhcpOption {
    uint8_t code = 0;
    std::vector<uint8_t> data;
};

/// RFC 2131 §2 fixed header sizes.
constexpr std::size_t kDhcpHeaderSize = 236;        ///< op .. file
constexpr std::size_t kDhcpCookieOffset = 236;
constexpr std::size_t kDhcpOptionsOffset = 240;
constexpr std::size_t kBootpMinSize = 300;          ///< RFC 951: replies are padded to this
constexpr std::size_t kDhcpDefaultMaxSize = 548;    ///< 576 - IP (20) - UDP (8), RFC 2131 §2

struct Packet4 {
    uint8_t op = 0, htype = 1, hlen = 6, hops = 0;
    uint32_t xid = 0;
    uint16_t secs = 0, flags = 0;
    uint32_t ciaddr = 0, yiaddr = 0, siaddr = 0, giaddr = 0;  ///< host byte order
    std::array<uint8_t, 16> chaddr{};
    std::array<uint8_t, 64> sname{};
    std::array<uint8_t, 128> file{};
    bool cookie = true;  ///< false for a BOOTP packet without the magic cookie (no options)
    std::vector<DhcpOption> options;  ///< in the order first seen; 0, 52 and 255 are not kept

    const DhcpOption* find(uint8_t code) const;
    /// @brief Set (or replace) an option, keeping the position of an existing one.
    void set(uint8_t code, std::vector<uint8_t> data);

    std::optional<uint8_t> messageType() const;         ///< option 53
    std::optional<uint32_t> requestedAddress() const;   ///< option 50
    std::optional<uint32_t> serverIdentifier() const;   ///< option 54
    std::optional<uint32_t> leaseTime() const;          ///< option 51
    std::optional<uint16_t> maxMessageSize() const;     ///< option 57
    std::vector<uint8_t> parameterRequestList() const;  ///< option 55 (empty when absent)
    /// The relay agent information sub-options (option 82), or nothing when absent.
    std::optional<std::vector<DhcpOption>> relayAgentInfo() const;
    bool broadcastFlag() const { return flags & 0x8000; }
};

struct PacketDecodeResult {
    std::optional<Packet4> packet;
    std::string error;
    std::size_t offset = 0;
    bool ok() const { return packet.has_value(); }
};

/// @brief Decode a DHCP or BOOTP message (the UDP payload).
PacketDecodeResult decodePacket(const uint8_t* data, std::size_t size);

/// @brief Encode: header, cookie, options in their order (each longer than 255
/// bytes split into instances, RFC 3396), END, padded to 300 bytes. When the options
/// do not fit in `maxSize` bytes, they overflow into file and then sname (option 52),
/// provided those fields are empty. Returns nothing and sets `error` when the
/// options cannot fit at all.
std::optional<std::vector<uint8_t>> encodePacket(const Packet4& p, std::size_t maxSize, std::string& error);

/// ISC's log names: DHCPDISCOVER, DHCPOFFER, ... ("DHCP message type N" for others).
std::string messageTypeName(uint8_t type);

}  // namespace tandem::common

#endif
