// Which network interfaces the server answers on, decided as ISC dhcpd 4.4
// decides it (common/discover.c discover_interfaces and server/dhcpd.c
// dhcpd_interface_setup_hook): discovery of the host's interfaces through
// getifaddrs and ioctl, and a pure selection that matches them against the
// declared subnets and the names given on the command line or by `interface`
// statements. It opens no packet socket (packet_io does) and never exits the
// process: the fatal case is an error value the caller reports.
#ifndef TANDEM_SERVER_INTERFACES_H
#define TANDEM_SERVER_INTERFACES_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ip_frame.h"
#include "common/log.h"
#include "conf/config.h"

namespace tandem::server {

struct InterfaceAddress {
    uint32_t address = 0;  ///< host byte order
    uint32_t netmask = 0;
};

/// @brief One interface of the host, as the kernel describes it.
struct InterfaceInfo {
    std::string name;        ///< without an alias label: "eth0:1"'s addresses belong to "eth0"
    int index = 0;           ///< ifindex
    uint16_t hwType = 0;     ///< ARPHRD_* (1 = Ethernet, 772 = loopback)
    common::MacAddress mac{};
    uint8_t macLength = 0;
    std::vector<InterfaceAddress> addresses;  ///< IPv4 only, in the kernel's order
    bool up = false, broadcast = false, loopback = false, pointToPoint = false;
    unsigned mtu = 1500;
};

/// @brief The host's interfaces (getifaddrs for names, flags, addresses and MACs;
/// SIOCGIFMTU for the MTU). Returns nothing and sets `error` when the list cannot be read.
std::optional<std::vector<InterfaceInfo>> discoverInterfaces(std::string& error);

/// @brief An interface the server will listen and send on.
struct ServedInterface {
    InterfaceInfo info;
    const conf::SharedNetwork* network = nullptr;  ///< the shared network it is attached to
    std::string networkName;                       ///< as ISC prints it: NAME, or NET/PREFIX for a bare subnet
    /// The declared subnets that hold one of the interface's addresses, with that address
    /// (ISC's subnet->interface_address: the first alias wins).
    struct Attachment {
        const conf::Subnet* subnet = nullptr;
        uint32_t address = 0;
    };
    std::vector<Attachment> attached;
    uint32_t primaryAddress = 0;  ///< first IPv4 address of the interface (0 if it has none)

    /// @brief The address to send from to a client at `peer`: the interface's
    /// address in the subnet of `peer` if it is attached there, else the address of the
    /// first attached subnet, else the primary address.
    uint32_t sourceAddressFor(uint32_t peer) const;
    /// @brief "Listening on LPF/eth0/02:00:00:00:00:01/192.0.2.0/24" without the verb.
    std::string describe() const;
};

/// @brief A log line the selection wants written (ISC's wording).
struct SelectionMessage {
    common::LogLevel level;
    std::string text;
};

struct InterfaceSelection {
    std::vector<ServedInterface> served;
    std::vector<SelectionMessage> messages;  ///< in ISC's order, including its blank lines
    std::string error;                       ///< fatal: e.g. "Not configured to listen on any interfaces!"
    bool ok() const { return error.empty(); }
};

/// @brief Decide the interfaces to serve.
///
/// As ISC: when any interface is named (on the command line, or by an `interface`
/// statement in a subnet or shared-network), only named ones are considered; otherwise
/// every interface that is up, broadcast-capable, not loopback and not point-to-point,
/// with an IPv4 address other than 127.0.0.1. Each considered interface is attached to
/// the shared network of the most specific declared subnet holding one of its addresses
/// (or to the one whose `interface` statement names it). One left without a subnet is
/// logged ("No subnet declaration for IF (ADDR)." and the "** Ignoring requests on IF. ..."
/// lines) and skipped. Fatal errors: an interface whose addresses fall in two shared
/// networks, a named interface that is not Ethernet, and no interface left at all.
/// The Config is borrowed: the result points into it.
InterfaceSelection selectInterfaces(const std::vector<InterfaceInfo>& host, const conf::Config& config,
                                    const std::vector<std::string>& requested);

/// @brief Write the selection's messages to the log.
void logSelectionMessages(const InterfaceSelection& selection);

/// @brief ISC's text for a shared network: its name, or NET/PREFIX for a subnet declared alone.
std::string networkDisplayName(const conf::SharedNetwork& network);

/// @brief "02:00:00:00:00:01" (lower-case hex, as ISC's print_hw_addr).
std::string formatMac(const common::MacAddress& mac, uint8_t length = 6);

}  // namespace tandem::server

#endif
