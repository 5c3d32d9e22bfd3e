// Tests of server/packet_io: the destination rule row by row, the receive
// filter run by a BPF interpreter, and (as root, on loopback only) the raw
// receive path end to end: exactly-once delivery, offload, batching, sending.
#include <cppunit/extensions/HelperMacros.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/event.h"
#include "server/packet_io.h"
#include "tests/unit/server/bpf_interp.h"

using namespace tandem;
using namespace tandem::server;
using Kind = Destination::Kind;

namespace {

const uint32_t kGiaddr = 0xc0000201;   // 192.0.2.1
const uint32_t kCiaddr = 0x0ac80005;   // 10.200.0.5
const uint32_t kYiaddr = 0x0ac80063;   // 10.200.0.99
const common::MacAddress kChaddr{0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

ReplyAddressing reply(uint8_t type) {
    ReplyAddressing r;
    r.messageType = type;
    r.yiaddr = kYiaddr;
    std::copy(kChaddr.begin(), kChaddr.end(), r.chaddr.begin());
    return r;
}

std::string show(const Destination& d) {
    char buf[96];
    snprintf(buf, sizeof buf, "%s %08x:%u %02x:%02x:%02x:%02x:%02x:%02x", toString(d.kind), d.ip, d.port, d.mac[0],
             d.mac[1], d.mac[2], d.mac[3], d.mac[4], d.mac[5]);
    return buf;
}

Destination dest(Kind k, uint32_t ip, uint16_t port, common::MacAddress mac = common::kBroadcastMac) {
    Destination d;
    d.kind = k;
    d.ip = ip;
    d.port = port;
    d.mac = mac;
    return d;
}

void expect(const Destination& want, const ReplyAddressing& r, uint16_t port = 67) {
    CPPUNIT_ASSERT_EQUAL(show(want), show(chooseDestination(r, port)));
}

std::vector<uint8_t> frameTo(uint16_t port, std::size_t payload = 300) {
    common::UdpFrameHeader h;
    h.dstMac = common::kBroadcastMac;
    h.srcMac = kChaddr;
    h.srcIp = 0;
    h.dstIp = 0xffffffff;
    h.srcPort = 68;
    h.dstPort = port;
    std::vector<uint8_t> p(payload, 0);
    return common::buildUdpFrame(h, p.data(), p.size());
}

// A UDP port free on this host right now (for the loopback tests).
uint16_t freePort() {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    socklen_t len = sizeof sin;
    getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
    close(fd);
    return ntohs(sin.sin_port);
}

ServedInterface loopbackServed() {
    ServedInterface s;
    s.info.name = "lo";
    s.info.index = int(if_nametoindex("lo"));
    s.info.hwType = ARPHRD_LOOPBACK;
    s.info.macLength = 6;
    s.info.up = s.info.loopback = true;
    s.info.mtu = 65536;
    s.info.addresses.push_back({0x7f000001, 0xff000000});
    s.primaryAddress = 0x7f000001;
    s.networkName = "127.0.0.0/8";
    return s;
}

int udpSocket(uint16_t bindPort) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(bindPort);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void sendTo(int fd, uint16_t port, const std::string& payload) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
}

// Run the loop until `done` or `ms` pass.
template <typename F>
void runUntil(common::EventLoop& loop, uint64_t ms, F done) {
    common::Timer guard(loop, [&] { loop.stop(); });
    guard.startMs(ms);
    common::Timer poll(loop, [&] {
        if (done()) loop.stop();
    });
    poll.startRepeatingMs(5);
    loop.run();
}

}  // namespace

class PacketIoTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PacketIoTest);
    CPPUNIT_TEST(testRelayRowWinsOverEverything);
    CPPUNIT_TEST(testLoopbackRelayGetsClientPort);
    CPPUNIT_TEST(testNakIsBroadcast);
    CPPUNIT_TEST(testAckToCiaddrIsUnicastUdp);
    CPPUNIT_TEST(testCiaddrWithServerIdOrBroadcastFlag);
    CPPUNIT_TEST(testOfferNeverGoesToCiaddr);
    CPPUNIT_TEST(testBroadcastFlag);
    CPPUNIT_TEST(testHardwareUnicastToChaddr);
    CPPUNIT_TEST(testNoUsableChaddrOrYiaddrBroadcasts);
    CPPUNIT_TEST(testPortOptionMovesBothPorts);
    CPPUNIT_TEST(testReplyAddressingFromPacket);
    CPPUNIT_TEST(testFilterAcceptsDhcpToServerPort);
    CPPUNIT_TEST(testFilterRejectsWhatItMust);
    CPPUNIT_TEST(testFilterFollowsIpHeaderLength);
    CPPUNIT_TEST(testDropAllFilter);
    CPPUNIT_TEST(testCountersSumDrops);
    CPPUNIT_TEST(testLoopbackReceivesExactlyOnce);
    CPPUNIT_TEST(testLoopbackBatchAndSend);
    CPPUNIT_TEST(testSendToUnknownInterfaceFails);
    CPPUNIT_TEST_SUITE_END();

public:
    // Row 1: any giaddr means the relay gets it on the server port, whatever else is set.
    void testRelayRowWinsOverEverything() {
        for (uint8_t type : {2, 5, 6}) {
            ReplyAddressing r = reply(type);
            r.giaddr = kGiaddr;
            r.ciaddr = kCiaddr;
            r.broadcastFlag = true;
            expect(dest(Kind::Relay, kGiaddr, 67), r);
        }
    }

    // Row 1, ISC's debugging aid: a loopback giaddr is answered on the client port.
    void testLoopbackRelayGetsClientPort() {
        ReplyAddressing r = reply(2);
        r.giaddr = 0x7f000001;
        expect(dest(Kind::Relay, 0x7f000001, 68), r);
    }

    // Row 2: without a relay a NAK is broadcast, even to a client with ciaddr and a MAC.
    void testNakIsBroadcast() {
        ReplyAddressing r = reply(6);
        r.ciaddr = kCiaddr;
        r.yiaddr = 0;
        expect(dest(Kind::Broadcast, 0xffffffff, 68), r);
        r.yiaddr = kYiaddr;
        expect(dest(Kind::Broadcast, 0xffffffff, 68), r);
    }

    // Row 3: an ACK to a client with ciaddr (renewing, INFORM) is unicast by UDP to ciaddr:68.
    void testAckToCiaddrIsUnicastUdp() {
        ReplyAddressing r = reply(5);
        r.ciaddr = kCiaddr;
        Destination d = chooseDestination(r, 67);
        expect(dest(Kind::ClientUnicast, kCiaddr, 68), r);
        CPPUNIT_ASSERT(d.viaUdpSocket());
    }

    // Row 3's ISC exception: with a server identifier or the broadcast bit, ciaddr is not used.
    void testCiaddrWithServerIdOrBroadcastFlag() {
        ReplyAddressing r = reply(5);
        r.ciaddr = kCiaddr;
        r.requestHadServerId = true;
        expect(dest(Kind::HardwareUnicast, kYiaddr, 68, kChaddr), r);
        r.requestHadServerId = false;
        r.broadcastFlag = true;
        expect(dest(Kind::Broadcast, 0xffffffff, 68), r);
    }

    // An OFFER or a BOOTP reply never goes to ciaddr (ISC: only state->offer == DHCPACK).
    void testOfferNeverGoesToCiaddr() {
        for (uint8_t type : {2, 0}) {
            ReplyAddressing r = reply(type);
            r.ciaddr = kCiaddr;
            expect(dest(Kind::HardwareUnicast, kYiaddr, 68, kChaddr), r);
        }
    }

    // Row 4: the broadcast flag makes an OFFER or ACK a broadcast frame.
    void testBroadcastFlag() {
        for (uint8_t type : {2, 5, 0}) {
            ReplyAddressing r = reply(type);
            r.broadcastFlag = true;
            Destination d = chooseDestination(r, 67);
            expect(dest(Kind::Broadcast, 0xffffffff, 68), r);
            CPPUNIT_ASSERT(!d.viaUdpSocket());
        }
    }

    // Row 5: otherwise a raw frame to yiaddr at chaddr, no ARP needed.
    void testHardwareUnicastToChaddr() {
        for (uint8_t type : {2, 5, 0}) expect(dest(Kind::HardwareUnicast, kYiaddr, 68, kChaddr), reply(type));
    }

    // Row 6: no yiaddr, or a chaddr that is not a 6-byte Ethernet address: broadcast.
    void testNoUsableChaddrOrYiaddrBroadcasts() {
        ReplyAddressing r = reply(5);
        r.yiaddr = 0;
        expect(dest(Kind::Broadcast, 0xffffffff, 68), r);
        r = reply(2);
        r.htype = 6;
        expect(dest(Kind::Broadcast, 0xffffffff, 68), r);
        r = reply(2);
        r.hlen = 16;
        expect(dest(Kind::Broadcast, 0xffffffff, 68), r);
    }

    // -p 1067: relays are answered on 1067 and clients on 1068.
    void testPortOptionMovesBothPorts() {
        ReplyAddressing r = reply(2);
        expect(dest(Kind::HardwareUnicast, kYiaddr, 1068, kChaddr), r, 1067);
        r.giaddr = kGiaddr;
        expect(dest(Kind::Relay, kGiaddr, 1067), r, 1067);
    }

    // The facts come from a reply Packet4: option 53, addresses, flags and chaddr.
    void testReplyAddressingFromPacket() {
        common::Packet4 p;
        p.op = 2;
        p.ciaddr = kCiaddr;
        p.yiaddr = kYiaddr;
        p.giaddr = 0;
        p.flags = 0x8000;
        std::copy(kChaddr.begin(), kChaddr.end(), p.chaddr.begin());
        p.set(53, {5});
        ReplyAddressing r = replyAddressing(p, true);
        CPPUNIT_ASSERT_EQUAL(unsigned(5), unsigned(r.messageType));
        CPPUNIT_ASSERT_EQUAL(kCiaddr, r.ciaddr);
        CPPUNIT_ASSERT_EQUAL(kYiaddr, r.yiaddr);
        CPPUNIT_ASSERT(r.broadcastFlag);
        CPPUNIT_ASSERT(r.requestHadServerId);
        CPPUNIT_ASSERT(std::equal(kChaddr.begin(), kChaddr.end(), r.chaddr.begin()));
        common::Packet4 bootp;
        CPPUNIT_ASSERT_EQUAL(unsigned(0), unsigned(replyAddressing(bootp).messageType));
    }

    // The raw filter passes an unfragmented UDP frame to the server port, whole.
    void testFilterAcceptsDhcpToServerPort() {
        auto prog = dhcpReceiveFilter(67);
        auto r = test::runBpf(prog, frameTo(67), PACKET_BROADCAST);
        CPPUNIT_ASSERT(r.has_value());
        CPPUNIT_ASSERT(*r >= 342u);
        CPPUNIT_ASSERT(*test::runBpf(dhcpReceiveFilter(1067), frameTo(1067), PACKET_HOST) > 0);
    }

    // Other ports, our own frames, fragments, TCP, IPv6, ARP and runts are dropped in the kernel.
    void testFilterRejectsWhatItMust() {
        auto prog = dhcpReceiveFilter(67);
        auto zero = [&](const std::vector<uint8_t>& f, uint32_t type = PACKET_HOST) {
            auto r = test::runBpf(prog, f, type);
            CPPUNIT_ASSERT(r.has_value());
            CPPUNIT_ASSERT_EQUAL(0u, *r);
        };
        zero(frameTo(68));
        zero(frameTo(1067));
        zero(frameTo(67), PACKET_OUTGOING);
        auto f = frameTo(67);
        f[20] |= 0x20;  // MF
        zero(f);
        f = frameTo(67);
        f[21] = 0x10;  // offset
        zero(f);
        f = frameTo(67);
        f[23] = 6;  // TCP
        zero(f);
        f = frameTo(67);
        f[12] = 0x86;
        f[13] = 0xdd;
        zero(f);
        f = frameTo(67);
        f[12] = 0x08;
        f[13] = 0x06;  // ARP
        zero(f);
        f = frameTo(67);
        f.resize(30);  // the port load runs off the end
        zero(f);
    }

    // With IP options the port is found after the longer header, not at a fixed offset.
    void testFilterFollowsIpHeaderLength() {
        auto f = frameTo(68);
        // Make it IHL 6 with bytes 34..37 of options whose last two bytes read as port 67 at
        // the fixed offset 36: a filter that ignored IHL would accept this.
        f.insert(f.begin() + 34, {0x00, 0x44, 0x00, 0x43});
        f[14] = 0x46;
        CPPUNIT_ASSERT_EQUAL(0u, *test::runBpf(dhcpReceiveFilter(67), f, PACKET_HOST));
        CPPUNIT_ASSERT(*test::runBpf(dhcpReceiveFilter(68), f, PACKET_HOST) > 0);
    }

    // The UDP socket's filter refuses everything.
    void testDropAllFilter() {
        CPPUNIT_ASSERT_EQUAL(0u, *test::runBpf(dropAllFilter(), frameTo(67)));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), dropAllFilter().size());
    }

    // dropped() adds every drop reason, and nothing else.
    void testCountersSumDrops() {
        InterfaceCounters c;
        c.received = 100;
        c.sentRaw = 50;
        c.kernelDrops = 1;
        c.truncated = 2;
        c.outgoing = 3;
        c.vlan = 4;
        c.wrongPort = 5;
        c.frameErrors[std::size_t(common::FrameError::BadUdpChecksum)] = 6;
        CPPUNIT_ASSERT_EQUAL(uint64_t(21), c.dropped());
    }

    // On lo (root only): a datagram to the server port arrives once, though lo shows it
    // twice (outgoing and incoming) and the UDP socket is bound to the same port;
    // another port never arrives; the local sender's checksum is marked not ready.
    void testLoopbackReceivesExactlyOnce() {
        if (geteuid() != 0) {
            std::printf("# skipped: raw sockets need root\n");
            return;
        }
        common::EventLoop loop;
        PacketIoOptions o;
        o.port = freePort();
        o.quiet = true;
        PacketIo io(loop, common::SystemClock::instance(), o);
        std::vector<std::string> got;
        int batches = 0;
        ReceivedPacket last;
        io.setHandlers(
            [&](const ReceivedPacket& p) {
                got.emplace_back(reinterpret_cast<const char*>(p.data), p.size);
                last = p;
            },
            [&] { ++batches; });
        std::string error;
        CPPUNIT_ASSERT_MESSAGE(error, io.open({loopbackServed()}, error));

        int client = udpSocket(0);
        sendTo(client, uint16_t(o.port + 1), "wrong port");
        sendTo(client, o.port, "hello dhcp");
        runUntil(loop, 1000, [&] { return !got.empty(); });
        // Let anything duplicated arrive too.
        runUntil(loop, 50, [] { return false; });
        close(client);

        CPPUNIT_ASSERT_EQUAL(std::size_t(1), got.size());
        CPPUNIT_ASSERT_EQUAL(std::string("hello dhcp"), got[0]);
        CPPUNIT_ASSERT_EQUAL(uint32_t(0x7f000001), last.srcIp);
        CPPUNIT_ASSERT_EQUAL(uint32_t(0x7f000001), last.dstIp);
        CPPUNIT_ASSERT_EQUAL(std::string("lo"), std::string(last.ifname));
        CPPUNIT_ASSERT(last.receivedAt > 0);
        CPPUNIT_ASSERT_EQUAL(1, batches);
        const InterfaceCounters* c = io.counters(last.ifindex);
        CPPUNIT_ASSERT(c);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), c->received);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), c->checksumNotReady);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), c->dropped());
    }

    // On lo (root only): 40 datagrams sent at once come in few batches. A raw reply
    // (HardwareUnicast) to the server port loops back through lo into our own socket
    // with its checksums verified (lo would drop a raw frame for the UDP stack: the
    // kernel treats an unrouted 127/8 packet as martian), and a ClientUnicast reply
    // reaches a UDP socket.
    void testLoopbackBatchAndSend() {
        if (geteuid() != 0) {
            std::printf("# skipped: raw sockets need root\n");
            return;
        }
        common::EventLoop loop;
        PacketIoOptions o;
        o.port = freePort();
        o.quiet = true;
        PacketIo io(loop, common::SystemClock::instance(), o);
        std::vector<std::string> got;
        int batches = 0;
        io.setHandlers([&](const ReceivedPacket& p) { got.emplace_back(reinterpret_cast<const char*>(p.data), p.size); },
                       [&] { ++batches; });
        std::string error;
        CPPUNIT_ASSERT_MESSAGE(error, io.open({loopbackServed()}, error));
        int client = udpSocket(0);
        for (int i = 0; i < 40; ++i) sendTo(client, o.port, "packet " + std::to_string(i));
        runUntil(loop, 1000, [&] { return got.size() == 40; });
        close(client);
        CPPUNIT_ASSERT_EQUAL(std::size_t(40), got.size());
        CPPUNIT_ASSERT(batches >= 1 && batches < 40);
        const int lo = int(if_nametoindex("lo"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(40), io.counters(lo)->checksumNotReady);

        int sink = udpSocket(uint16_t(o.port + 1));
        CPPUNIT_ASSERT(sink >= 0);
        const std::string raw = "raw reply", viaUdp = "udp reply";
        Destination hw = dest(Kind::HardwareUnicast, 0x7f000001, o.port, common::MacAddress{});
        Destination uni = dest(Kind::ClientUnicast, 0x7f000001, uint16_t(o.port + 1));
        CPPUNIT_ASSERT(io.send(lo, hw, 0, reinterpret_cast<const uint8_t*>(raw.data()), raw.size()));
        CPPUNIT_ASSERT(io.send(lo, uni, 0x7f000001, reinterpret_cast<const uint8_t*>(viaUdp.data()), viaUdp.size()));
        io.flush();
        std::vector<std::string> replies;
        runUntil(loop, 1000, [&] {
            char buf[64];
            ssize_t n;
            while ((n = recv(sink, buf, sizeof buf, 0)) > 0) replies.emplace_back(buf, std::size_t(n));
            return replies.size() == 1 && got.size() == 41;
        });
        close(sink);
        CPPUNIT_ASSERT_EQUAL(std::size_t(41), got.size());
        CPPUNIT_ASSERT_EQUAL(raw, got.back());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), replies.size());
        CPPUNIT_ASSERT_EQUAL(viaUdp, replies[0]);
        const InterfaceCounters* c = io.counters(lo);
        CPPUNIT_ASSERT_EQUAL(uint64_t(40), c->checksumNotReady);  // ours came with a real checksum
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), c->sentRaw);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), c->sentUdp);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), c->sendErrors);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), c->dropped());
    }

    // send() names an interface that is not served: refused, nothing queued.
    void testSendToUnknownInterfaceFails() {
        common::EventLoop loop;
        PacketIo io(loop, common::SystemClock::instance());
        const uint8_t b[1] = {0};
        CPPUNIT_ASSERT(!io.send(12345, Destination{}, 0, b, 1));
        CPPUNIT_ASSERT(io.counters(12345) == nullptr);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PacketIoTest);
