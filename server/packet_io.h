// DHCP packets in and out at the edge, the way ISC dhcpd does it on Linux
// (LPF receive and send, plus a "fallback" UDP socket), on the common::EventLoop:
//  - one AF_PACKET raw socket per served interface, with a classic BPF filter
//    that passes only unfragmented IPv4/UDP to the server port, read in batches
//    with recvmmsg; frames are validated by common/ip_frame;
//  - one UDP socket on 0.0.0.0:PORT that only sends (to relays, and to clients
//    that already have an address); its receive side is closed by a drop-all
//    filter so no packet is seen twice;
//  - replies queued per interface and written with sendmmsg on flush().
// Also the pure rule that picks where a reply goes (RFC 2131 §4.1 as ISC reads it).
// It does not decode DHCP, choose addresses or know about leases: the caller
// gets UDP payloads and hands back payloads with a Destination.
#ifndef TANDEM_SERVER_PACKET_IO_H
#define TANDEM_SERVER_PACKET_IO_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/dhcp_packet.h"
#include "common/event.h"
#include "common/ip_frame.h"
#include "server/interfaces.h"

namespace tandem::server {

constexpr uint16_t kDefaultServerPort = 67;
constexpr uint32_t kLimitedBroadcast = 0xffffffff;

/// @brief Where one reply goes.
struct Destination {
    enum class Kind : uint8_t {
        Relay,            ///< UDP (kernel routing) to giaddr, server port
        ClientUnicast,    ///< UDP (kernel routing, ARP) to ciaddr, client port
        Broadcast,        ///< raw frame to 255.255.255.255 / ff:ff:ff:ff:ff:ff, client port
        HardwareUnicast,  ///< raw frame to yiaddr at chaddr (no ARP: the client has no address yet)
    };
    Kind kind = Kind::Broadcast;
    uint32_t ip = kLimitedBroadcast;  ///< host byte order
    uint16_t port = 0;
    common::MacAddress mac = common::kBroadcastMac;  ///< raw kinds only

    bool viaUdpSocket() const { return kind == Kind::Relay || kind == Kind::ClientUnicast; }
    bool operator==(const Destination& o) const {
        return kind == o.kind && ip == o.ip && port == o.port && (viaUdpSocket() || mac == o.mac);
    }
};
const char* toString(Destination::Kind kind);

/// @brief The facts of a reply that decide its destination.
struct ReplyAddressing {
    uint8_t messageType = 0;  ///< option 53 of the reply; 0 for a BOOTP reply
    uint32_t giaddr = 0, ciaddr = 0, yiaddr = 0;
    bool broadcastFlag = false;
    uint8_t htype = 1, hlen = 6;
    std::array<uint8_t, 16> chaddr{};
    /// The request carried a server identifier (option 54): ISC's got_server_identifier.
    /// Leave false for a reply to DHCPINFORM.
    bool requestHadServerId = false;
};

/// @brief The addressing facts of a reply Packet4 (giaddr, ciaddr, flags and chaddr
/// copied from the request, as RFC 2131 Table 3 has it).
ReplyAddressing replyAddressing(const common::Packet4& reply, bool requestHadServerId = false);

/// @brief RFC 2131 §4.1 and ISC 4.4 (server/dhcp.c dhcp_reply, nak_lease, dhcpinform), in order:
///  1. giaddr != 0: Relay to giaddr:serverPort (127.0.0.1: to the client port, ISC's
///     debugging aid);
///  2. DHCPNAK: Broadcast;
///  3. DHCPACK with ciaddr != 0, broadcast flag clear and no server identifier in the
///     request: ClientUnicast to ciaddr:clientPort (ISC answers an RFC 1541 client that
///     sends both, or sets the broadcast bit, as if ciaddr were 0; an OFFER or BOOTP reply
///     never goes to ciaddr);
///  4. broadcast flag set: Broadcast;
///  5. yiaddr != 0 and an Ethernet chaddr (htype 1, hlen 6): HardwareUnicast;
///  6. otherwise Broadcast.
/// The client port is serverPort + 1 (ISC's -p rule).
Destination chooseDestination(const ReplyAddressing& reply, uint16_t serverPort);

/// @brief One classic BPF instruction, laid out as Linux's struct sock_filter.
struct BpfInstruction {
    uint16_t code;
    uint8_t jt, jf;
    uint32_t k;
};

/// @brief The raw-socket filter: IPv4, UDP, not a fragment (MF clear and offset 0),
/// destination port `port`, not a frame this host sent (PACKET_OUTGOING). Offsets
/// assume an Ethernet II header (SOCK_RAW).
std::vector<BpfInstruction> dhcpReceiveFilter(uint16_t port);
/// @brief A filter that refuses everything (the send-only UDP socket).
std::vector<BpfInstruction> dropAllFilter();

/// @brief One received packet as the server sees it. `data` points into PacketIo's
/// receive buffers and stays valid until the end-of-batch callback returns.
struct ReceivedPacket {
    int ifindex = 0;
    std::string_view ifname;
    const ServedInterface* iface = nullptr;
    uint32_t srcIp = 0, dstIp = 0;  ///< host byte order
    uint16_t srcPort = 0;
    common::MacAddress srcMac{};
    uint8_t ttl = 0;
    const uint8_t* data = nullptr;  ///< the UDP payload
    std::size_t size = 0;
    common::Time receivedAt = 0;  ///< wall clock, seconds (one stamp per batch)
    uint64_t receivedMs = 0;      ///< monotonic milliseconds (one stamp per batch)
};

/// @brief Counters of one interface, for metrics. Plain values; never reset.
struct InterfaceCounters {
    uint64_t received = 0;       ///< packets delivered to the callback
    uint64_t batches = 0;        ///< recvmmsg calls that returned packets
    uint64_t sentRaw = 0;        ///< frames the kernel accepted on the raw socket
    uint64_t sentUdp = 0;        ///< datagrams sent on the UDP socket for this interface
    uint64_t sendErrors = 0;     ///< replies the kernel refused (or too big to send)
    uint64_t checksumNotReady = 0;  ///< frames received with offload pending (not an error)
    // Drops, by reason:
    uint64_t kernelDrops = 0;  ///< the socket's queue overflowed (PACKET_STATISTICS)
    uint64_t truncated = 0;    ///< larger than the receive slot (MTU + headers)
    uint64_t outgoing = 0;     ///< our own transmissions, looped back by the kernel
    uint64_t vlan = 0;         ///< carried a VLAN tag (belongs to a VLAN interface)
    uint64_t wrongPort = 0;    ///< not for the server port (the filter should have said so)
    std::array<uint64_t, common::kFrameErrorCount> frameErrors{};  ///< by common::FrameError
    uint64_t dropped() const;
};

struct PacketIoOptions {
    uint16_t port = kDefaultServerPort;  ///< the server port (-p); clients get port + 1
    int receiveBufferBytes = 4 << 20;    ///< SO_RCVBUF(FORCE) of each raw socket
    unsigned batchSize = 64;             ///< packets per recvmmsg, replies per sendmmsg
    bool quiet = false;                  ///< no "Listening on" / "Sending on" lines
};

class PacketIo {
public:
    using PacketHandler = std::function<void(const ReceivedPacket&)>;
    using BatchHandler = std::function<void()>;

    PacketIo(common::EventLoop& loop, const common::Clock& clock, PacketIoOptions options = {});
    ~PacketIo();
    PacketIo(const PacketIo&) = delete;
    PacketIo& operator=(const PacketIo&) = delete;

    /// @brief `onPacket` runs once per valid packet; `onBatchEnd` once after each batch
    /// that delivered at least one (commit leases there, then send and flush()).
    void setHandlers(PacketHandler onPacket, BatchHandler onBatchEnd);

    /// @brief Open the raw socket of every interface and the UDP socket, and start
    /// watching. Logs ISC's "Listening on LPF/..." / "Sending on   LPF/..." lines and
    /// "Sending on   Socket/fallback/fallback-net".
    /// @return false with ISC's wording in `error` (nothing is left open) on failure.
    bool open(const std::vector<ServedInterface>& interfaces, std::string& error);
    void close();

    /// @brief Queue one reply. Raw kinds go out of `ifindex`'s raw socket, UDP kinds out
    /// of the UDP socket (counted on `ifindex`). `sourceIp` is the server identifier the
    /// processor chose; 0 means the interface's address in the destination's subnet.
    /// A queue that reaches batchSize is written at once; call flush() after a burst.
    /// @return false when the interface is unknown or the payload cannot be framed.
    bool send(int ifindex, const Destination& to, uint32_t sourceIp, const uint8_t* payload, std::size_t size);
    /// @brief Write every queued reply (sendmmsg per socket).
    void flush();

    uint16_t serverPort() const { return options_.port; }
    uint16_t clientPort() const { return uint16_t(options_.port + 1); }
    const ServedInterface* interface(int ifindex) const;
    /// @brief Counters of one interface (nullptr if not served). Kernel drops are as of
    /// the last refreshKernelCounters().
    const InterfaceCounters* counters(int ifindex) const;
    /// @brief Read each socket's PACKET_STATISTICS into kernelDrops.
    void refreshKernelCounters();
    /// @brief (interface name, counters) for every served interface, kernel drops refreshed.
    std::vector<std::pair<std::string, InterfaceCounters>> allCounters();

private:
    struct Link;
    struct UdpQueue;
    bool openLink(const ServedInterface& iface, std::string& error);
    bool openUdp(std::string& error);
    void onReadable(Link& link);
    void flushLink(Link& link);
    void flushUdp();
    Link* find(int ifindex) const;

    common::EventLoop& loop_;
    const common::Clock& clock_;
    PacketIoOptions options_;
    PacketHandler onPacket_;
    BatchHandler onBatchEnd_;
    std::vector<std::unique_ptr<Link>> links_;
    int udpFd_ = -1;
    std::unique_ptr<UdpQueue> udp_;
    common::RateLimiter errorLog_{10, 60};
};

}  // namespace tandem::server

#endif
