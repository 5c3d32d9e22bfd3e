#include "server/packet_io.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>

#include "common/ipv4.h"
#include "common/log.h"

namespace tandem::server {

static_assert(sizeof(BpfInstruction) == sizeof(sock_filter), "BpfInstruction must match struct sock_filter");

namespace {

constexpr uint8_t kDhcpAck = 5;
constexpr uint8_t kDhcpNak = 6;
constexpr uint32_t kLoopbackAddress = 0x7f000001;

constexpr std::size_t kAuxSpace = CMSG_SPACE(sizeof(tpacket_auxdata));
constexpr std::size_t kPktinfoSpace = CMSG_SPACE(sizeof(in_pktinfo));
struct alignas(cmsghdr) AuxSlot {
    uint8_t bytes[kAuxSpace];
};
struct alignas(cmsghdr) PktinfoSlot {
    uint8_t bytes[kPktinfoSpace];
};

std::string errnoText(int err) { return std::strerror(err); }

sock_fprog program(const std::vector<BpfInstruction>& code) {
    sock_fprog p{};
    p.len = static_cast<unsigned short>(code.size());
    p.filter = reinterpret_cast<sock_filter*>(const_cast<BpfInstruction*>(code.data()));
    return p;
}

// Frame slots hold the largest frame the interface can carry, plus a VLAN tag
// the kernel did not strip, rounded to a cache line.
std::size_t slotSizeFor(unsigned mtu) {
    std::size_t n = std::max<std::size_t>(mtu, 576) + common::kEthernetHeaderSize + 4;
    n = (n + 63) & ~std::size_t(63);
    return std::min<std::size_t>(n, 65536 + 64);
}

}  // namespace

// ---------------------------------------------------------------- the pure parts

const char* toString(Destination::Kind kind) {
    switch (kind) {
        case Destination::Kind::Relay: return "relay";
        case Destination::Kind::ClientUnicast: return "client-unicast";
        case Destination::Kind::Broadcast: return "broadcast";
        case Destination::Kind::HardwareUnicast: return "hardware-unicast";
    }
    return "unknown";
}

ReplyAddressing replyAddressing(const common::Packet4& reply, bool requestHadServerId) {
    ReplyAddressing r;
    r.messageType = reply.messageType().value_or(0);
    r.giaddr = reply.giaddr;
    r.ciaddr = reply.ciaddr;
    r.yiaddr = reply.yiaddr;
    r.broadcastFlag = reply.broadcastFlag();
    r.htype = reply.htype;
    r.hlen = reply.hlen;
    r.chaddr = reply.chaddr;
    r.requestHadServerId = requestHadServerId;
    return r;
}

Destination chooseDestination(const ReplyAddressing& r, uint16_t serverPort) {
    const uint16_t clientPort = uint16_t(serverPort + 1);
    Destination d;
    if (r.giaddr != 0) {
        d.kind = Destination::Kind::Relay;
        d.ip = r.giaddr;
        // ISC sends to the client port when giaddr is loopback, so a test client can pose as a relay.
        d.port = r.giaddr == kLoopbackAddress ? clientPort : serverPort;
        return d;
    }
    d.port = clientPort;
    if (r.messageType == kDhcpNak) return d;  // RFC 2131 §4.1: always broadcast when giaddr is 0
    if (r.ciaddr != 0 && r.messageType == kDhcpAck && !r.broadcastFlag && !r.requestHadServerId) {
        d.kind = Destination::Kind::ClientUnicast;
        d.ip = r.ciaddr;
        return d;
    }
    if (r.broadcastFlag) return d;
    if (r.yiaddr != 0 && r.htype == 1 && r.hlen == 6) {
        d.kind = Destination::Kind::HardwareUnicast;
        d.ip = r.yiaddr;
        std::copy(r.chaddr.begin(), r.chaddr.begin() + 6, d.mac.begin());
        return d;
    }
    return d;
}

std::vector<BpfInstruction> dhcpReceiveFilter(uint16_t port) {
    // Offsets: EtherType 12, IP protocol 14+9, flags/fragment 14+6, IHL 14,
    // UDP destination port 14+IHL+2. Every failed test jumps to the last
    // instruction (drop); the comments give the absolute targets.
    return {
        {BPF_LD | BPF_H | BPF_ABS, 0, 0, 12},                            // 0: A = EtherType
        {BPF_JMP | BPF_JEQ | BPF_K, 0, 10, common::kEtherTypeIpv4},      // 1: IPv4? else 12
        {BPF_LD | BPF_B | BPF_ABS, 0, 0, 23},                            // 2: A = protocol
        {BPF_JMP | BPF_JEQ | BPF_K, 0, 8, common::kIpProtoUdp},          // 3: UDP? else 12
        {BPF_LD | BPF_H | BPF_ABS, 0, 0, 20},                            // 4: A = flags + offset
        {BPF_JMP | BPF_JSET | BPF_K, 6, 0, 0x3fff},                      // 5: MF or offset: 12
        {BPF_LDX | BPF_B | BPF_MSH, 0, 0, 14},                           // 6: X = IHL * 4
        {BPF_LD | BPF_H | BPF_IND, 0, 0, 16},                            // 7: A = UDP dst port
        {BPF_JMP | BPF_JEQ | BPF_K, 0, 3, port},                         // 8: our port? else 12
        {BPF_LD | BPF_W | BPF_ABS, 0, 0, uint32_t(SKF_AD_OFF + SKF_AD_PKTTYPE)},  // 9: A = pkttype
        {BPF_JMP | BPF_JEQ | BPF_K, 1, 0, PACKET_OUTGOING},              // 10: sent by us: 12
        {BPF_RET | BPF_K, 0, 0, 0x40000},                                // 11: accept, whole frame
        {BPF_RET | BPF_K, 0, 0, 0},                                      // 12: drop
    };
}

std::vector<BpfInstruction> dropAllFilter() { return {{BPF_RET | BPF_K, 0, 0, 0}}; }

uint64_t InterfaceCounters::dropped() const {
    uint64_t n = kernelDrops + truncated + outgoing + vlan + wrongPort;
    for (uint64_t e : frameErrors) n += e;
    return n;
}

// ---------------------------------------------------------------- sockets

struct PacketIo::Link {
    ServedInterface iface;
    int fd = -1;
    std::unique_ptr<common::IoWatcher> watcher;
    InterfaceCounters counters;
    std::size_t slot = 0;
    // Receive side: one slot per message of a recvmmsg batch.
    std::vector<uint8_t> rxData;
    std::vector<sockaddr_ll> rxAddr;
    std::vector<AuxSlot> rxAux;
    std::vector<iovec> rxIov;
    std::vector<mmsghdr> rxMsg;
    // Send side: frames waiting for flush().
    std::vector<uint8_t> txData;
    std::vector<iovec> txIov;
    std::vector<mmsghdr> txMsg;
    unsigned txCount = 0;

    ~Link() {
        watcher.reset();
        if (fd >= 0) ::close(fd);
    }
};

struct PacketIo::UdpQueue {
    std::size_t slot = 0;
    std::vector<uint8_t> data;
    std::vector<sockaddr_in> dest;
    std::vector<PktinfoSlot> ctl;
    std::vector<iovec> iov;
    std::vector<mmsghdr> msg;
    std::vector<Link*> owner;
    unsigned count = 0;
};

PacketIo::PacketIo(common::EventLoop& loop, const common::Clock& clock, PacketIoOptions options)
    : loop_(loop), clock_(clock), options_(options) {
    if (options_.batchSize == 0) options_.batchSize = 1;
    if (options_.batchSize > 1024) options_.batchSize = 1024;  // the kernel's UIO_MAXIOV for *mmsg
}

PacketIo::~PacketIo() { close(); }

void PacketIo::setHandlers(PacketHandler onPacket, BatchHandler onBatchEnd) {
    onPacket_ = std::move(onPacket);
    onBatchEnd_ = std::move(onBatchEnd);
}

void PacketIo::close() {
    links_.clear();
    if (udpFd_ >= 0) ::close(udpFd_);
    udpFd_ = -1;
    udp_.reset();
}

PacketIo::Link* PacketIo::find(int ifindex) const {
    for (const auto& l : links_)
        if (l->iface.info.index == ifindex) return l.get();
    return nullptr;
}

const ServedInterface* PacketIo::interface(int ifindex) const {
    const Link* l = find(ifindex);
    return l ? &l->iface : nullptr;
}

const InterfaceCounters* PacketIo::counters(int ifindex) const {
    const Link* l = find(ifindex);
    return l ? &l->counters : nullptr;
}

bool PacketIo::open(const std::vector<ServedInterface>& interfaces, std::string& error) {
    close();
    for (const auto& iface : interfaces) {
        if (!openLink(iface, error)) {
            close();
            return false;
        }
    }
    if (!openUdp(error)) {
        close();
        return false;
    }
    for (auto& l : links_) l->watcher->start();
    return true;
}

bool PacketIo::openLink(const ServedInterface& iface, std::string& error) {
    auto link = std::make_unique<Link>();
    link->iface = iface;
    // Protocol 0: the socket receives nothing until bind(), so no frame can slip
    // in before the filter is attached.
    link->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (link->fd < 0) {
        error = "Open a socket for LPF: " + errnoText(errno);
        return false;
    }
    std::vector<BpfInstruction> code = dhcpReceiveFilter(options_.port);
    sock_fprog prog = program(code);
    if (setsockopt(link->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
        error = "Can't install packet filter program: " + errnoText(errno);
        return false;
    }
    int one = 1;
    if (setsockopt(link->fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) < 0) {
        error = "Can't enable PACKET_AUXDATA on " + iface.info.name + ": " + errnoText(errno);
        return false;
    }
#ifdef PACKET_IGNORE_OUTGOING
    // Linux 4.20+: outgoing frames are not even cloned to us. The filter and the
    // sll_pkttype check cover older kernels.
    (void)setsockopt(link->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
#endif
    int rcvbuf = options_.receiveBufferBytes;
    if (rcvbuf > 0 && setsockopt(link->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
        (void)setsockopt(link->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);  // capped by rmem_max

    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_IP);
    sll.sll_ifindex = iface.info.index;
    if (bind(link->fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) {
        error = "Bind socket to interface: " + errnoText(errno) + " (" + iface.info.name + ")";
        return false;
    }

    const unsigned n = options_.batchSize;
    link->slot = slotSizeFor(iface.info.mtu);
    link->rxData.assign(n * link->slot, 0);
    link->rxAddr.assign(n, sockaddr_ll{});
    link->rxAux.assign(n, AuxSlot{});
    link->rxIov.assign(n, iovec{});
    link->rxMsg.assign(n, mmsghdr{});
    link->txData.assign(n * link->slot, 0);
    link->txIov.assign(n, iovec{});
    link->txMsg.assign(n, mmsghdr{});
    for (unsigned i = 0; i < n; ++i) {
        link->rxIov[i] = {link->rxData.data() + i * link->slot, link->slot};
        link->txIov[i] = {link->txData.data() + i * link->slot, 0};
        link->txMsg[i].msg_hdr.msg_iov = &link->txIov[i];
        link->txMsg[i].msg_hdr.msg_iovlen = 1;
    }

    Link* raw = link.get();
    link->watcher = std::make_unique<common::IoWatcher>(loop_, link->fd, common::IoWatcher::kRead,
                                                        [this, raw](short) { onReadable(*raw); });
    if (!options_.quiet) {
        common::logInfo("Listening on " + iface.describe());
        common::logInfo("Sending on   " + iface.describe());
    }
    links_.push_back(std::move(link));
    return true;
}

bool PacketIo::openUdp(std::string& error) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = "Can't create dhcp socket: " + errnoText(errno);
        return false;
    }
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
        error = "Can't set SO_REUSEADDR option on dhcp socket: " + errnoText(errno);
        ::close(fd);
        return false;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0) {
        error = "Can't set SO_BROADCAST option on dhcp socket: " + errnoText(errno);
        ::close(fd);
        return false;
    }
    // This socket exists to send (from port PORT, through the kernel's routing
    // and ARP) and so that the kernel does not answer unicast DHCP traffic to this
    // host with ICMP port-unreachable. But a bound UDP socket also gets a copy of
    // every DHCP datagram addressed to the host, which the raw sockets already
    // deliver: reading it would process packets twice, not reading it would pin
    // memory in a full queue. A filter that refuses everything drops them in the
    // kernel before they are queued. It goes on before bind(), so nothing is
    // ever queued at all.
    std::vector<BpfInstruction> code = dropAllFilter();
    sock_fprog prog = program(code);
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
        error = "Can't install packet filter program on dhcp socket: " + errnoText(errno);
        ::close(fd);
        return false;
    }
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(options_.port);
    sin.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) < 0) {
        error = "Can't bind to dhcp address: " + errnoText(errno) +
                " (is another DHCP server or a bootp entry in inetd using port " + std::to_string(options_.port) + "?)";
        ::close(fd);
        return false;
    }
    udpFd_ = fd;

    udp_ = std::make_unique<UdpQueue>();
    unsigned mtu = 1500;
    for (const auto& l : links_) mtu = std::max(mtu, l->iface.info.mtu);
    const unsigned n = options_.batchSize;
    udp_->slot = std::min<std::size_t>(mtu, 65507);
    udp_->data.assign(n * udp_->slot, 0);
    udp_->dest.assign(n, sockaddr_in{});
    udp_->ctl.assign(n, PktinfoSlot{});
    udp_->iov.assign(n, iovec{});
    udp_->msg.assign(n, mmsghdr{});
    udp_->owner.assign(n, nullptr);
    if (!options_.quiet) common::logInfo("Sending on   Socket/fallback/fallback-net");
    return true;
}

void PacketIo::onReadable(Link& link) {
    const unsigned n = options_.batchSize;
    for (unsigned i = 0; i < n; ++i) {
        msghdr& h = link.rxMsg[i].msg_hdr;
        h.msg_name = &link.rxAddr[i];
        h.msg_namelen = sizeof(sockaddr_ll);
        h.msg_iov = &link.rxIov[i];
        h.msg_iovlen = 1;
        h.msg_control = link.rxAux[i].bytes;
        h.msg_controllen = kAuxSpace;
        h.msg_flags = 0;
        link.rxMsg[i].msg_len = 0;
    }
    int got = recvmmsg(link.fd, link.rxMsg.data(), n, MSG_DONTWAIT, nullptr);
    if (got < 0) {
        int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) return;
        uint64_t suppressed = 0;
        if (errorLog_.allow(clock_.now(), suppressed))
            common::logError("receive_packet failed on " + link.iface.info.name + ": " + errnoText(err));
        return;
    }
    if (got == 0) return;

    ReceivedPacket pkt;
    pkt.ifindex = link.iface.info.index;
    pkt.ifname = link.iface.info.name;
    pkt.iface = &link.iface;
    pkt.receivedAt = clock_.now();
    pkt.receivedMs = clock_.monotonicMs();
    InterfaceCounters& c = link.counters;
    ++c.batches;
    unsigned delivered = 0;
    for (int i = 0; i < got; ++i) {
        const msghdr& h = link.rxMsg[i].msg_hdr;
        if (link.rxAddr[i].sll_pkttype == PACKET_OUTGOING) {
            ++c.outgoing;
            continue;
        }
        if (h.msg_flags & MSG_TRUNC) {
            ++c.truncated;
            continue;
        }
        bool skipChecksum = false;
        bool tagged = false;
        for (cmsghdr* cm = CMSG_FIRSTHDR(&h); cm; cm = CMSG_NXTHDR(const_cast<msghdr*>(&h), cm)) {
            if (cm->cmsg_level != SOL_PACKET || cm->cmsg_type != PACKET_AUXDATA) continue;
            tpacket_auxdata aux;
            std::memcpy(&aux, CMSG_DATA(cm), sizeof aux);
            // Sent from this host with offload pending: the UDP checksum field holds
            // only the pseudo-header sum. CSUM_VALID: the NIC already checked it.
            if (aux.tp_status & TP_STATUS_CSUMNOTREADY) {
                skipChecksum = true;
                ++c.checksumNotReady;
            }
            if (aux.tp_status & TP_STATUS_CSUM_VALID) skipChecksum = true;
            // A stripped tag with a VLAN id belongs to the VLAN's own interface (as ISC 4.4 lpf.c).
            if ((aux.tp_status & TP_STATUS_VLAN_VALID) && (aux.tp_vlan_tci & 0x0fff)) tagged = true;
        }
        if (tagged) {
            ++c.vlan;
            continue;
        }
        common::FrameParseResult r =
            common::parseUdpFrame(link.rxData.data() + std::size_t(i) * link.slot, link.rxMsg[i].msg_len, skipChecksum);
        if (!r.ok()) {
            ++c.frameErrors[std::size_t(r.error)];
            continue;
        }
        if (r.frame.dstPort != options_.port) {
            ++c.wrongPort;
            continue;
        }
        pkt.srcIp = r.frame.srcIp;
        pkt.dstIp = r.frame.dstIp;
        pkt.srcPort = r.frame.srcPort;
        pkt.srcMac = r.frame.srcMac;
        pkt.ttl = r.frame.ttl;
        pkt.data = r.frame.payload;
        pkt.size = r.frame.payloadSize;
        ++c.received;
        ++delivered;
        if (!onPacket_) continue;
        // One packet that trips an internal error must not cost the rest of the batch.
        try {
            onPacket_(pkt);
        } catch (const std::exception& e) {
            common::logError("internal error handling a packet from " + link.iface.info.name + ": " + e.what());
        } catch (...) {
            common::logError("internal error handling a packet from " + link.iface.info.name);
        }
    }
    if (delivered && onBatchEnd_) onBatchEnd_();
}

bool PacketIo::send(int ifindex, const Destination& to, uint32_t sourceIp, const uint8_t* payload, std::size_t size) {
    Link* link = find(ifindex);
    if (!link) return false;
    uint64_t suppressed = 0;
    if (to.viaUdpSocket()) {
        if (!udp_ || udpFd_ < 0) return false;
        if (size > udp_->slot) {
            ++link->counters.sendErrors;
            if (errorLog_.allow(clock_.now(), suppressed))
                common::logError("send_packet: a reply of " + std::to_string(size) + " bytes is too large");
            return false;
        }
        if (udp_->count == options_.batchSize) flushUdp();
        UdpQueue& q = *udp_;
        const unsigned i = q.count;
        uint8_t* buf = q.data.data() + i * q.slot;
        std::memcpy(buf, payload, size);
        q.iov[i] = {buf, size};
        q.dest[i] = sockaddr_in{};
        q.dest[i].sin_family = AF_INET;
        q.dest[i].sin_port = htons(to.port);
        q.dest[i].sin_addr.s_addr = htonl(to.ip);
        msghdr& h = q.msg[i].msg_hdr;
        h = msghdr{};
        h.msg_name = &q.dest[i];
        h.msg_namelen = sizeof(sockaddr_in);
        h.msg_iov = &q.iov[i];
        h.msg_iovlen = 1;
        if (sourceIp != 0) {
            // IP_PKTINFO's ipi_spec_dst sets the source address of this one datagram,
            // so relays see the server identifier, not whatever routing picks.
            std::memset(q.ctl[i].bytes, 0, kPktinfoSpace);
            h.msg_control = q.ctl[i].bytes;
            h.msg_controllen = kPktinfoSpace;
            cmsghdr* cm = CMSG_FIRSTHDR(&h);
            cm->cmsg_level = IPPROTO_IP;
            cm->cmsg_type = IP_PKTINFO;
            cm->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
            in_pktinfo info{};
            info.ipi_spec_dst.s_addr = htonl(sourceIp);
            std::memcpy(CMSG_DATA(cm), &info, sizeof info);
        }
        q.owner[i] = link;
        if (++q.count == options_.batchSize) flushUdp();
        return true;
    }

    if (size + common::kIpv4HeaderSize + common::kUdpHeaderSize > link->iface.info.mtu) {
        ++link->counters.sendErrors;
        if (errorLog_.allow(clock_.now(), suppressed))
            common::logError("send_packet: a reply of " + std::to_string(size) + " bytes does not fit the MTU of " +
                             link->iface.info.name);
        return false;
    }
    if (link->txCount == options_.batchSize) flushLink(*link);
    common::UdpFrameHeader h;
    h.dstMac = to.mac;
    h.srcMac = link->iface.info.mac;
    h.srcIp = sourceIp ? sourceIp : link->iface.sourceAddressFor(to.ip);
    h.dstIp = to.ip;
    h.srcPort = options_.port;
    h.dstPort = to.port;
    const unsigned i = link->txCount;
    uint8_t* buf = link->txData.data() + i * link->slot;
    std::size_t len = common::buildUdpFrame(h, payload, size, buf, link->slot);
    if (len == 0) {
        ++link->counters.sendErrors;
        return false;
    }
    link->txIov[i].iov_len = len;
    if (++link->txCount == options_.batchSize) flushLink(*link);
    return true;
}

void PacketIo::flush() {
    for (auto& l : links_)
        if (l->txCount) flushLink(*l);
    if (udp_ && udp_->count) flushUdp();
}

void PacketIo::flushLink(Link& link) {
    unsigned i = 0;
    unsigned guard = 2 * link.txCount + 2;  // each pass sends, skips one, or was interrupted
    while (i < link.txCount && guard--) {
        int n = sendmmsg(link.fd, &link.txMsg[i], link.txCount - i, MSG_DONTWAIT);
        if (n > 0) {
            link.counters.sentRaw += unsigned(n);
            i += unsigned(n);
            continue;
        }
        int err = errno;
        if (n < 0 && err == EINTR) continue;
        // The frame at i was refused (queue full, interface down...): DHCP clients
        // retransmit, so count it and go on with the rest.
        ++link.counters.sendErrors;
        uint64_t suppressed = 0;
        if (errorLog_.allow(clock_.now(), suppressed))
            common::logError("send_packet: " + link.iface.info.name + ": " + errnoText(err));
        ++i;
    }
    link.counters.sendErrors += link.txCount - std::min(i, link.txCount);
    link.txCount = 0;
}

void PacketIo::flushUdp() {
    UdpQueue& q = *udp_;
    unsigned i = 0;
    unsigned guard = 3 * q.count + 2;
    while (i < q.count && guard--) {
        int n = sendmmsg(udpFd_, &q.msg[i], q.count - i, MSG_DONTWAIT);
        if (n > 0) {
            for (unsigned j = i; j < i + unsigned(n); ++j) ++q.owner[j]->counters.sentUdp;
            i += unsigned(n);
            continue;
        }
        int err = errno;
        if (n < 0 && err == EINTR) continue;
        msghdr& h = q.msg[i].msg_hdr;
        if (err == EINVAL && h.msg_controllen) {
            // The server identifier is not an address of this host (a configured
            // server-identifier): let the kernel choose the source instead.
            h.msg_control = nullptr;
            h.msg_controllen = 0;
            continue;
        }
        ++q.owner[i]->counters.sendErrors;
        uint64_t suppressed = 0;
        if (errorLog_.allow(clock_.now(), suppressed))
            common::logError("send_packet: " + common::formatIpv4(ntohl(q.dest[i].sin_addr.s_addr)) + ": " +
                             errnoText(err));
        ++i;
    }
    for (unsigned j = i; j < q.count; ++j) ++q.owner[j]->counters.sendErrors;
    q.count = 0;
}

void PacketIo::refreshKernelCounters() {
    for (auto& l : links_) {
        tpacket_stats st{};
        socklen_t len = sizeof st;
        // Reading the statistics resets them in the kernel, so they are added up here.
        if (getsockopt(l->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) l->counters.kernelDrops += st.tp_drops;
    }
}

std::vector<std::pair<std::string, InterfaceCounters>> PacketIo::allCounters() {
    refreshKernelCounters();
    std::vector<std::pair<std::string, InterfaceCounters>> out;
    for (const auto& l : links_) out.emplace_back(l->iface.info.name, l->counters);
    return out;
}

}  // namespace tandem::server
