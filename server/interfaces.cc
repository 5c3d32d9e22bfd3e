#include "server/interfaces.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netpacket/packet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "common/ipv4.h"

namespace tandem::server {

namespace {

constexpr uint32_t kLoopbackAddress = 0x7f000001;

// "eth0:1" is an address label of eth0, not an interface (ISC folds them too).
std::string baseName(const char* name) {
    std::string n(name);
    auto colon = n.find(':');
    if (colon != std::string::npos) n.resize(colon);
    return n;
}

bool contains(const conf::Subnet& s, uint32_t addr) { return (addr & s.netmask) == s.number; }

struct SubnetHit {
    const conf::SharedNetwork* network = nullptr;
    const conf::Subnet* subnet = nullptr;
};

// ISC keeps its subnet list narrowest-first (confpars.c enter_subnet), so
// find_subnet answers with the most specific subnet holding the address.
SubnetHit findSubnet(const conf::Config& config, uint32_t addr) {
    SubnetHit best;
    for (const auto& net : config.networks)
        for (const auto& s : net.subnets)
            if (contains(s, addr) && (!best.subnet || uint32_t(s.netmask) > best.subnet->netmask)) {
                best.network = &net;
                best.subnet = &s;
            }
    return best;
}

// The shared network an `interface NAME;` statement ties to `name`, if any.
const conf::SharedNetwork* statementNetwork(const conf::Config& config, const std::string& name) {
    for (const auto& net : config.networks) {
        if (net.interface == name) return &net;
        for (const auto& s : net.subnets)
            if (s.interface == name) return &net;
    }
    return nullptr;
}

void addUnique(std::vector<std::string>& names, const std::string& n) {
    if (!n.empty() && std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
}

}  // namespace

std::string formatMac(const common::MacAddress& mac, uint8_t length) {
    static const char kHex[] = "0123456789abcdef";
    std::string s;
    for (uint8_t i = 0; i < length && i < mac.size(); ++i) {
        if (i) s += ':';
        s += kHex[mac[i] >> 4];
        s += kHex[mac[i] & 0xf];
    }
    return s;
}

std::string networkDisplayName(const conf::SharedNetwork& network) {
    if (!network.implicit || network.subnets.empty()) return network.name;
    const conf::Subnet& s = network.subnets.front();
    if (auto len = common::prefixLength(s.netmask)) return common::formatIpv4(s.number) + "/" + std::to_string(*len);
    return common::formatIpv4(s.number) + "/" + common::formatIpv4(s.netmask);
}

uint32_t ServedInterface::sourceAddressFor(uint32_t peer) const {
    for (const auto& a : attached)
        if (a.subnet && contains(*a.subnet, peer)) return a.address;
    // ISC gives every other subnet of the shared network the interface's first address.
    return primaryAddress;
}

std::string ServedInterface::describe() const {
    std::string s = "LPF/" + info.name + "/" + formatMac(info.mac, info.macLength);
    if (!networkName.empty()) s += "/" + networkName;
    return s;
}

std::optional<std::vector<InterfaceInfo>> discoverInterfaces(std::string& error) {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) {
        error = std::string("Can't get list of interfaces: ") + std::strerror(errno);
        return std::nullopt;
    }
    std::vector<InterfaceInfo> out;
    std::map<std::string, std::size_t> byName;
    auto entry = [&](const std::string& name) -> InterfaceInfo& {
        auto it = byName.find(name);
        if (it != byName.end()) return out[it->second];
        byName.emplace(name, out.size());
        out.emplace_back();
        out.back().name = name;
        return out.back();
    };
    for (ifaddrs* ifa = list; ifa; ifa = ifa->ifa_next) {
        if (!ifa->ifa_name) continue;
        InterfaceInfo& info = entry(baseName(ifa->ifa_name));
        unsigned flags = ifa->ifa_flags;
        info.up = flags & IFF_UP;
        info.broadcast = flags & IFF_BROADCAST;
        info.loopback = flags & IFF_LOOPBACK;
        info.pointToPoint = flags & IFF_POINTOPOINT;
        if (!ifa->ifa_addr) continue;
        if (ifa->ifa_addr->sa_family == AF_PACKET) {
            auto* ll = reinterpret_cast<const sockaddr_ll*>(ifa->ifa_addr);
            info.index = ll->sll_ifindex;
            info.hwType = ll->sll_hatype;
            info.macLength = uint8_t(std::min<std::size_t>(ll->sll_halen, info.mac.size()));
            std::memcpy(info.mac.data(), ll->sll_addr, info.macLength);
        } else if (ifa->ifa_addr->sa_family == AF_INET) {
            InterfaceAddress a;
            a.address = ntohl(reinterpret_cast<const sockaddr_in*>(ifa->ifa_addr)->sin_addr.s_addr);
            if (ifa->ifa_netmask) a.netmask = ntohl(reinterpret_cast<const sockaddr_in*>(ifa->ifa_netmask)->sin_addr.s_addr);
            info.addresses.push_back(a);
        }
    }
    freeifaddrs(list);

    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    for (auto& info : out) {
        if (info.index == 0) info.index = int(if_nametoindex(info.name.c_str()));
        if (fd < 0) continue;
        ifreq req{};
        std::strncpy(req.ifr_name, info.name.c_str(), IFNAMSIZ - 1);
        if (ioctl(fd, SIOCGIFMTU, &req) == 0 && req.ifr_mtu > 0) info.mtu = unsigned(req.ifr_mtu);
    }
    if (fd >= 0) close(fd);
    return out;
}

InterfaceSelection selectInterfaces(const std::vector<InterfaceInfo>& host, const conf::Config& config,
                                    const std::vector<std::string>& requested) {
    InterfaceSelection sel;
    auto say = [&](common::LogLevel level, std::string text) { sel.messages.push_back({level, std::move(text)}); };

    // Names from `interface` statements count as requested, as in ISC
    // (confpars.c new_shared_network_interface marks them INTERFACE_REQUESTED).
    std::vector<std::string> named;
    for (const auto& n : requested) addUnique(named, n);
    for (const auto& net : config.networks) {
        addUnique(named, net.interface);
        for (const auto& s : net.subnets) addUnique(named, s.interface);
    }

    auto lookup = [&](const std::string& name) -> const InterfaceInfo* {
        for (const auto& i : host)
            if (i.name == name) return &i;
        return nullptr;
    };

    struct Candidate {
        std::string name;
        const InterfaceInfo* info = nullptr;
        std::vector<InterfaceAddress> addresses;
    };
    std::vector<Candidate> candidates;
    if (!named.empty()) {
        for (const auto& n : named) {
            Candidate c;
            c.name = n;
            c.info = lookup(n);
            // ISC's scan skips a down interface, so it arrives with no address.
            if (c.info && c.info->up) c.addresses = c.info->addresses;
            candidates.push_back(std::move(c));
        }
    } else {
        for (const auto& i : host) {
            if (!i.up || !i.broadcast || i.loopback || i.pointToPoint) continue;
            Candidate c;
            c.name = i.name;
            c.info = &i;
            for (const auto& a : i.addresses)
                if (a.address != kLoopbackAddress) c.addresses.push_back(a);
            if (c.addresses.empty()) continue;  // not in ISC's IPv4 scan at all
            candidates.push_back(std::move(c));
        }
    }

    std::map<const conf::Subnet*, std::string> subnetOwner;
    std::map<const conf::SharedNetwork*, std::string> networkOwner;
    for (const Candidate& c : candidates) {
        ServedInterface served;
        const conf::SharedNetwork* net = statementNetwork(config, c.name);
        if (net) networkOwner.emplace(net, c.name);
        for (const auto& a : c.addresses) {
            SubnetHit hit = findSubnet(config, a.address);
            if (!hit.subnet) continue;
            auto [owner, fresh] = subnetOwner.emplace(hit.subnet, c.name);
            if (fresh) {
                served.attached.push_back({hit.subnet, a.address});
            } else if (owner->second != c.name) {
                say(common::LogLevel::Error, "Multiple interfaces match the same subnet: " + owner->second + " " + c.name);
            }
            if (net && net != hit.network) {
                sel.error = "Interface " + c.name + " matches multiple shared networks";
                return sel;
            }
            net = hit.network;
            auto [netOwner, netFresh] = networkOwner.emplace(net, c.name);
            if (!netFresh && netOwner->second != c.name)
                say(common::LogLevel::Error,
                    "Multiple interfaces match the same shared network: " + netOwner->second + " " + c.name);
        }
        if (!net) {
            // ISC's words and line breaks, blank lines included (discover.c).
            say(common::LogLevel::Error, "");
            say(common::LogLevel::Error,
                "No subnet declaration for " + c.name + " (" +
                    (c.addresses.empty() ? std::string("no IPv4 addresses") : common::formatIpv4(c.addresses[0].address)) +
                    ").");
            say(common::LogLevel::Error, "** Ignoring requests on " + c.name + ".  If this is not what");
            say(common::LogLevel::Error, "   you want, please write a subnet declaration");
            say(common::LogLevel::Error, "   in your dhcpd.conf file for the network segment");
            say(common::LogLevel::Error, "   to which interface " + c.name + " is attached. **");
            say(common::LogLevel::Error, "");
            continue;
        }
        if (!c.info) {
            sel.error = c.name + ": not found";
            return sel;
        }
        if (c.info->hwType != ARPHRD_ETHER || c.info->macLength != 6) {
            sel.error = "Unsupported device type " + std::to_string(c.info->hwType) + " for \"" + c.name + "\"";
            return sel;
        }
        served.info = *c.info;
        served.info.addresses = c.addresses;
        served.network = net;
        served.networkName = networkDisplayName(*net);
        served.primaryAddress = c.addresses.empty() ? 0 : c.addresses[0].address;
        sel.served.push_back(std::move(served));
    }
    if (sel.served.empty()) {
        say(common::LogLevel::Info, "");
        sel.error = "Not configured to listen on any interfaces!";
    }
    return sel;
}

void logSelectionMessages(const InterfaceSelection& selection) {
    for (const auto& m : selection.messages) common::logWrite(m.level, m.text);
}

}  // namespace tandem::server
