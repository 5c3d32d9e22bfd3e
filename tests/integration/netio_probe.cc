// The probe tests/integration/netio.sh runs inside its network namespaces. It
// drives the real packet path (server/interfaces, server/packet_io, server/ping)
// with no DHCP logic: `serve` answers each request with a minimal reply whose
// fields are copied from the request, so the script can check where replies go
// and that they arrive intact; `blast` floods broadcast DISCOVER frames for the
// receive-rate measurement; `ping` runs ping-checks. Every mode stops by itself
// (a packet count and a time limit). Needs root; never run it outside a namespace.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/dhcp_packet.h"
#include "common/diag.h"
#include "common/event.h"
#include "common/ip_frame.h"
#include "common/ipv4.h"
#include "common/log.h"
#include "conf/config_builder.h"
#include "server/interfaces.h"
#include "server/packet_io.h"
#include "server/ping.h"

using namespace tandem;

namespace {

struct Args {
    std::string mode, iface, config;
    std::vector<uint32_t> addrs;
    unsigned port = 67;
    unsigned seconds = 10;
    unsigned long expect = 0;
    unsigned long count = 0;
    unsigned timeoutMs = 1000;
    unsigned lingerMs = 500;
    unsigned idleMs = 0;
    bool stats = false;
};

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: netio_probe serve --iface IF --config FILE [--port N] [--expect N] [--seconds S] [--linger MS]\n"
                 "                         [--idle MS] [--stats]\n"
                 "       netio_probe blast --iface IF --count N [--port N]\n"
                 "       netio_probe ping --addr A [--addr B ...] [--timeout MS]\n");
    std::exit(2);
}

Args parseArgs(int argc, char** argv) {
    Args a;
    if (argc < 2) usage();
    a.mode = argv[1];
    for (int i = 2; i < argc; ++i) {
        std::string k = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) usage();
            return argv[++i];
        };
        if (k == "--iface") a.iface = next();
        else if (k == "--config") a.config = next();
        else if (k == "--port") a.port = unsigned(std::stoul(next()));
        else if (k == "--seconds") a.seconds = unsigned(std::stoul(next()));
        else if (k == "--expect") a.expect = std::stoul(next());
        else if (k == "--count") a.count = std::stoul(next());
        else if (k == "--timeout") a.timeoutMs = unsigned(std::stoul(next()));
        else if (k == "--linger") a.lingerMs = unsigned(std::stoul(next()));
        else if (k == "--idle") a.idleMs = unsigned(std::stoul(next()));
        else if (k == "--stats") a.stats = true;
        else if (k == "--addr") {
            auto ip = common::parseIpv4(next());
            if (!ip) usage();
            a.addrs.push_back(*ip);
        } else usage();
    }
    return a;
}

double nowSeconds() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

std::string text(const common::DhcpOption* o) { return o ? std::string(o->data.begin(), o->data.end()) : ""; }

// ---------------------------------------------------------------- serve

int serve(const Args& a) {
    common::LogConfig lc;
    lc.toSyslog = false;
    lc.toStderr = true;
    lc.maxLevel = common::LogLevel::Debug;
    common::logInit(lc);

    common::DiagnosticSink sink;
    conf::ConfigPtr config = conf::loadConfig(a.config, sink);
    if (!config || sink.errorCount()) {
        sink.print(std::cerr);
        return 2;
    }
    std::string error;
    auto host = server::discoverInterfaces(error);
    if (!host) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 2;
    }
    std::vector<std::string> names;
    if (!a.iface.empty()) names.push_back(a.iface);
    server::InterfaceSelection sel = server::selectInterfaces(*host, *config, names);
    server::logSelectionMessages(sel);
    if (!sel.ok()) {
        std::fprintf(stderr, "%s\n", sel.error.c_str());
        return 2;
    }

    common::EventLoop loop;
    server::PacketIoOptions o;
    o.port = uint16_t(a.port);
    server::PacketIo io(loop, common::SystemClock::instance(), o);
    std::map<uint32_t, unsigned> seenXids;
    unsigned long received = 0;
    double first = 0, last = 0;
    common::Timer stopTimer(loop, [&] { loop.stop(); });
    bool lingering = false;

    io.setHandlers(
        [&](const server::ReceivedPacket& p) {
            ++received;
            last = nowSeconds();
            if (received == 1) first = last;
            common::PacketDecodeResult d = common::decodePacket(p.data, p.size);
            if (!d.ok()) {
                std::printf("BADPKT if=%s len=%zu error=%s\n", std::string(p.ifname).c_str(), p.size, d.error.c_str());
                return;
            }
            const common::Packet4& req = *d.packet;
            ++seenXids[req.xid];
            if (a.stats) return;
            std::printf("RECV xid=%08x if=%s src=%s:%u dst=%s mac=%s len=%zu ttl=%u\n", req.xid,
                        std::string(p.ifname).c_str(), common::formatIpv4(p.srcIp).c_str(), p.srcPort,
                        common::formatIpv4(p.dstIp).c_str(), server::formatMac(p.srcMac).c_str(), p.size, p.ttl);

            // A reply with the request's addressing fields (RFC 2131 Table 3), no policy.
            common::Packet4 rep;
            rep.op = 2;
            rep.htype = req.htype;
            rep.hlen = req.hlen;
            rep.xid = req.xid;
            rep.flags = req.flags;
            rep.ciaddr = req.ciaddr;
            rep.giaddr = req.giaddr;
            rep.chaddr = req.chaddr;
            rep.yiaddr = req.requestedAddress().value_or(req.ciaddr);
            uint8_t type = req.messageType().value_or(0);
            uint8_t replyType = type == 1 ? 2 : 5;  // DISCOVER -> OFFER, else ACK
            if (text(req.find(12)) == "nak") replyType = 6;
            rep.set(53, {replyType});
            uint32_t sid = p.iface->sourceAddressFor(rep.yiaddr);
            rep.set(54, {uint8_t(sid >> 24), uint8_t(sid >> 16), uint8_t(sid >> 8), uint8_t(sid)});
            std::string err;
            auto bytes = common::encodePacket(rep, common::kDhcpDefaultMaxSize, err);
            if (!bytes) {
                std::printf("ENCODE error=%s\n", err.c_str());
                return;
            }
            server::Destination to =
                server::chooseDestination(server::replyAddressing(rep, req.serverIdentifier().has_value()), o.port);
            std::printf("SEND xid=%08x kind=%s to=%s:%u mac=%s\n", rep.xid, server::toString(to.kind),
                        common::formatIpv4(to.ip).c_str(), to.port, server::formatMac(to.mac).c_str());
            if (!io.send(p.ifindex, to, sid, bytes->data(), bytes->size())) std::printf("SENDFAIL xid=%08x\n", rep.xid);
        },
        [&] {
            io.flush();
            std::fflush(stdout);
            if (a.expect && received >= a.expect && !lingering) {
                lingering = true;  // let duplicates, if any, arrive and be counted
                stopTimer.startMs(a.lingerMs);
            }
        });
    if (!io.open(sel.served, error)) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 2;
    }
    std::fprintf(stderr, "READY\n");
    common::Timer limit(loop, [&] { loop.stop(); });
    limit.startMs(uint64_t(a.seconds) * 1000);
    // --idle: stop once packets have come and then none for that long.
    common::Timer idle(loop, [&] {
        if (received && (nowSeconds() - last) * 1000 > a.idleMs) loop.stop();
    });
    if (a.idleMs) idle.startRepeatingMs(50);
    loop.run();

    unsigned dups = 0;
    for (const auto& [xid, n] : seenXids)
        if (n > 1) {
            ++dups;
            std::printf("DUP xid=%08x times=%u\n", xid, n);
        }
    for (const auto& [name, c] : io.allCounters()) {
        std::printf("COUNTERS if=%s received=%llu batches=%llu sent_raw=%llu sent_udp=%llu send_errors=%llu "
                    "csum_not_ready=%llu kernel_drops=%llu outgoing=%llu truncated=%llu vlan=%llu wrong_port=%llu",
                    name.c_str(), (unsigned long long)c.received, (unsigned long long)c.batches,
                    (unsigned long long)c.sentRaw, (unsigned long long)c.sentUdp, (unsigned long long)c.sendErrors,
                    (unsigned long long)c.checksumNotReady, (unsigned long long)c.kernelDrops,
                    (unsigned long long)c.outgoing, (unsigned long long)c.truncated, (unsigned long long)c.vlan,
                    (unsigned long long)c.wrongPort);
        for (std::size_t i = 1; i < common::kFrameErrorCount; ++i)
            std::printf(" %s=%llu", common::toString(common::FrameError(i)), (unsigned long long)c.frameErrors[i]);
        std::printf("\n");
    }
    // The send-only UDP socket, as the kernel sees it: its receive queue must be
    // empty, and its drops count what the drop-all filter refused.
    char portHex[8];
    std::snprintf(portHex, sizeof portHex, ":%04X", a.port);
    if (FILE* f = std::fopen("/proc/net/udp", "r")) {
        char line[512];
        while (std::fgets(line, sizeof line, f)) {
            char local[64], remote[64], st[8], queues[64];
            if (std::sscanf(line, "%*s %63s %63s %7s %63s", local, remote, st, queues) != 4) continue;
            std::string l(local);
            if (l.size() < 5 || l.compare(l.size() - 5, 5, portHex) != 0) continue;
            std::string rest(line);
            while (!rest.empty() && (rest.back() == '\n' || rest.back() == ' ')) rest.pop_back();
            std::printf("UDPSOCK local=%s queues=%s drops=%s\n", local, queues,
                        rest.substr(rest.find_last_of(' ') + 1).c_str());
        }
        std::fclose(f);
    }
    double span = last - first;
    std::printf("SUMMARY received=%lu unique=%zu dups=%u span_ms=%.1f pps=%.0f\n", received, seenXids.size(), dups,
                span * 1000, span > 0 ? double(received - 1) / span : 0.0);
    return 0;
}

// ---------------------------------------------------------------- blast

int blast(const Args& a) {
    int ifindex = int(if_nametoindex(a.iface.c_str()));
    if (!ifindex || !a.count || a.count > 10000000) usage();
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0) {
        std::perror("socket");
        return 2;
    }
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_IP);
    sll.sll_ifindex = ifindex;
    if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) {
        std::perror("bind");
        return 2;
    }
    FILE* f = std::fopen(("/sys/class/net/" + a.iface + "/address").c_str(), "r");
    unsigned m[6] = {0};
    if (!f || std::fscanf(f, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) return 2;
    std::fclose(f);

    constexpr unsigned kBatch = 64;
    std::vector<std::vector<uint8_t>> frames(kBatch);
    std::vector<iovec> iov(kBatch);
    std::vector<mmsghdr> msgs(kBatch);
    unsigned long sent = 0, errors = 0;
    double t0 = nowSeconds();
    while (sent + errors < a.count && nowSeconds() - t0 < 30) {
        unsigned n = unsigned(std::min<unsigned long>(kBatch, a.count - sent - errors));
        for (unsigned i = 0; i < n; ++i) {
            common::Packet4 p;
            p.op = 1;
            p.xid = uint32_t(sent + errors + i + 1);
            for (int j = 0; j < 6; ++j) p.chaddr[j] = uint8_t(m[j]);
            p.set(53, {1});
            std::string err;
            auto bytes = common::encodePacket(p, common::kDhcpDefaultMaxSize, err);
            common::UdpFrameHeader h;
            h.dstMac = common::kBroadcastMac;
            for (int j = 0; j < 6; ++j) h.srcMac[j] = uint8_t(m[j]);
            h.srcIp = 0;
            h.dstIp = 0xffffffff;
            h.srcPort = uint16_t(a.port + 1);
            h.dstPort = uint16_t(a.port);
            frames[i] = common::buildUdpFrame(h, bytes->data(), bytes->size());
            iov[i] = {frames[i].data(), frames[i].size()};
            msgs[i] = mmsghdr{};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int r = sendmmsg(fd, msgs.data(), n, 0);
        if (r < 0) {
            ++errors;
            continue;
        }
        sent += unsigned(r);
    }
    double t = nowSeconds() - t0;
    std::printf("BLAST sent=%lu errors=%lu seconds=%.3f pps=%.0f\n", sent, errors, t, t > 0 ? double(sent) / t : 0.0);
    close(fd);
    return 0;
}

// ---------------------------------------------------------------- ping

int ping(const Args& a) {
    if (a.addrs.empty()) usage();
    common::EventLoop loop;
    common::LoopTimerService timers(loop);
    server::PingService::Options o;
    o.timeoutMs = a.timeoutMs;
    server::PingService svc(loop, timers, common::SystemClock::instance(), o);
    std::string error;
    if (!svc.open(error)) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 2;
    }
    std::size_t done = 0;
    double t0 = nowSeconds();
    for (uint32_t addr : a.addrs)
        svc.ping(addr, [&](uint32_t address, bool answered) {
            std::printf("PING %s %s ms=%.0f\n", common::formatIpv4(address).c_str(),
                        answered ? "answered" : "unanswered", (nowSeconds() - t0) * 1000);
            std::fflush(stdout);
            if (++done == a.addrs.size()) loop.stop();
        });
    common::Timer limit(loop, [&] { loop.stop(); });
    limit.startMs(uint64_t(a.timeoutMs) * 3 + 1000);
    loop.run();
    std::printf("PINGS done=%zu sent=%llu answered=%llu timed_out=%llu\n", done,
                (unsigned long long)svc.counters().sent, (unsigned long long)svc.counters().answered,
                (unsigned long long)svc.counters().timedOut);
    return done == a.addrs.size() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Args a = parseArgs(argc, argv);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    if (a.mode == "serve") return serve(a);
    if (a.mode == "blast") return blast(a);
    if (a.mode == "ping") return ping(a);
    usage();
}
