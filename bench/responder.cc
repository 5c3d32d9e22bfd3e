// The benchmark's ceiling: a stateless DHCPv4 responder. Every DISCOVER gets an
// OFFER and every REQUEST an ACK computed from the packet alone (yiaddr from the
// low bytes of chaddr, inside the pool given on the command line), so what
// bench/run.sh measures against it is the cost of perfdhcp, the kernel and the
// veth path, not of any DHCP logic. It keeps no state, writes no file, does no
// ping-check and no allocation: it is NOT a DHCP server and must never face a
// real network. A plain UDP socket on port 67, batched with recvmmsg/sendmmsg.
//
//   responder --server-id A.B.C.D --first A.B.C.D --last A.B.C.D
//             [--mask A.B.C.D] [--lease-time S] [--iface IF] [--port N]
//             [--max-seconds S]
//
// It prints "responder: ready" once the socket is bound, and its counters on
// SIGTERM/SIGINT or after --max-seconds (default 3600: it never runs unbounded).
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// RFC 2131 §2 and §3: the fixed header and the options that matter here.
constexpr std::size_t kHeaderSize = 236;
constexpr std::size_t kOptionsOffset = 240;
constexpr std::size_t kMinReplySize = 300;  // RFC 951 padding, as ISC and Kea do
constexpr std::size_t kMaxPacket = 1500;
constexpr uint8_t kCookie[4] = {99, 130, 83, 99};

constexpr uint8_t kOptPad = 0, kOptEnd = 255, kOptMask = 1, kOptLeaseTime = 51, kOptMsgType = 53,
                  kOptServerId = 54, kOptRenewal = 58, kOptRebinding = 59, kOptAgentInfo = 82;
constexpr uint8_t kDiscover = 1, kOffer = 2, kRequest = 3, kAck = 5, kInform = 8;

constexpr unsigned kBatch = 64;  // datagrams per recvmmsg/sendmmsg call

volatile std::sig_atomic_t gStop = 0;
void onSignal(int) { gStop = 1; }

struct Settings {
    uint32_t serverId = 0, first = 0, last = 0, mask = 0xffff0000;  // host byte order
    uint32_t leaseTime = 3600;
    std::string iface;
    uint16_t port = 67;
    unsigned maxSeconds = 3600;
};

struct Counters {
    unsigned long received = 0, offers = 0, acks = 0, ignored = 0, malformed = 0, sendErrors = 0;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "responder: %s\n"
                 "usage: responder --server-id A.B.C.D --first A.B.C.D --last A.B.C.D [--mask A.B.C.D]\n"
                 "                 [--lease-time S] [--iface IF] [--port N] [--max-seconds S]\n",
                 why);
    std::exit(2);
}

uint32_t parseAddr(const char* text) {
    in_addr a{};
    if (inet_pton(AF_INET, text, &a) != 1) usage("not an IPv4 address");
    return ntohl(a.s_addr);
}

unsigned long parseNumber(const char* text, unsigned long max) {
    char* end = nullptr;
    errno = 0;
    unsigned long v = std::strtoul(text, &end, 10);
    if (errno || end == text || *end || v > max) usage("bad number");
    return v;
}

Settings parseArgs(int argc, char** argv) {
    Settings s;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            std::printf("responder: a stateless DHCPv4 responder for bench/run.sh (see bench/README.md)\n");
            std::exit(0);
        }
        if (i + 1 >= argc) usage("missing value");
        const char* v = argv[++i];
        if (a == "--server-id") s.serverId = parseAddr(v);
        else if (a == "--first") s.first = parseAddr(v);
        else if (a == "--last") s.last = parseAddr(v);
        else if (a == "--mask") s.mask = parseAddr(v);
        else if (a == "--lease-time") s.leaseTime = static_cast<uint32_t>(parseNumber(v, 0xffffffffUL));
        else if (a == "--iface") s.iface = v;
        else if (a == "--port") s.port = static_cast<uint16_t>(parseNumber(v, 65535));
        else if (a == "--max-seconds") s.maxSeconds = static_cast<unsigned>(parseNumber(v, 86400 * 7));
        else usage("unknown option");
    }
    if (!s.serverId || !s.first || s.last < s.first) usage("--server-id, --first and --last are required");
    return s;
}

uint32_t load32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

uint8_t* put32(uint8_t* p, uint8_t code, uint32_t v) {
    p[0] = code;
    p[1] = 4;
    p[2] = static_cast<uint8_t>(v >> 24);
    p[3] = static_cast<uint8_t>(v >> 16);
    p[4] = static_cast<uint8_t>(v >> 8);
    p[5] = static_cast<uint8_t>(v);
    return p + 6;
}

// What the reply needs from a request's options (RFC 2132 §9.6 and §9.7, RFC 3046).
struct RequestView {
    int msgType = -1;
    bool hasServerId = false;
    uint32_t serverId = 0;
    const uint8_t* agentInfo = nullptr;  // the whole option 82 TLV, echoed per RFC 3046 §2.2
    std::size_t agentInfoLen = 0;
};

// Walks the options area; false when it runs past the datagram. Overloaded
// file/sname fields are not read: perfdhcp, ISC and Kea clients put the message
// type in the options area, and a request without one is ignored anyway.
bool scanOptions(const uint8_t* pkt, std::size_t len, RequestView& view) {
    std::size_t i = kOptionsOffset;
    while (i < len) {
        uint8_t code = pkt[i];
        if (code == kOptPad) {
            ++i;
            continue;
        }
        if (code == kOptEnd) return true;
        if (i + 1 >= len) return false;
        std::size_t olen = pkt[i + 1];
        if (i + 2 + olen > len) return false;
        const uint8_t* val = pkt + i + 2;
        if (code == kOptMsgType && olen == 1 && view.msgType < 0) view.msgType = val[0];
        if (code == kOptServerId && olen == 4 && !view.hasServerId) {
            view.hasServerId = true;
            view.serverId = load32(val);
        }
        if (code == kOptAgentInfo && !view.agentInfo) {
            view.agentInfo = pkt + i;
            view.agentInfoLen = olen + 2;
        }
        i += 2 + olen;
    }
    return true;  // no END: tolerated, as most servers do
}

// The address for a client: the low four bytes of its hardware address, folded
// into the pool. perfdhcp numbers its clients upwards from the base MAC, so a
// population no larger than the pool gets distinct addresses.
uint32_t addressFor(const Settings& s, const uint8_t* pkt) {
    std::size_t hlen = pkt[2] > 16 ? 16 : pkt[2];
    uint32_t low = 0;
    std::size_t from = hlen > 4 ? hlen - 4 : 0;
    for (std::size_t k = from; k < hlen; ++k) low = (low << 8) | pkt[28 + k];
    uint32_t size = s.last - s.first + 1;
    return s.first + low % size;
}

// Builds the reply into `out`; returns its length, 0 when there is none. `to`
// is where it goes (RFC 2131 §4.1: a relay's giaddr on port 67, else ciaddr,
// else broadcast on port 68).
std::size_t buildReply(const Settings& s, const uint8_t* pkt, std::size_t len, uint8_t* out, sockaddr_in& to,
                       Counters& c) {
    if (len < kOptionsOffset || pkt[0] != 1 || std::memcmp(pkt + kHeaderSize, kCookie, 4) != 0) {
        ++c.malformed;
        return 0;
    }
    RequestView view;
    if (!scanOptions(pkt, len, view)) {
        ++c.malformed;
        return 0;
    }
    uint8_t type;
    if (view.msgType == kDiscover) {
        type = kOffer;
    } else if (view.msgType == kRequest || view.msgType == kInform) {
        // A REQUEST naming another server is that server's (RFC 2131 §4.3.2).
        if (view.hasServerId && view.serverId != s.serverId) {
            ++c.ignored;
            return 0;
        }
        type = kAck;
    } else {
        ++c.ignored;
        return 0;
    }

    std::memset(out, 0, kMinReplySize);
    out[0] = 2;  // BOOTREPLY
    out[1] = pkt[1];
    out[2] = pkt[2];
    std::memcpy(out + 4, pkt + 4, 4);    // xid
    std::memcpy(out + 10, pkt + 10, 2);  // flags
    std::memcpy(out + 12, pkt + 12, 4);  // ciaddr
    uint32_t yiaddr = view.msgType == kInform ? 0 : addressFor(s, pkt);
    uint32_t ny = htonl(yiaddr);
    std::memcpy(out + 16, &ny, 4);
    std::memcpy(out + 24, pkt + 24, 4);  // giaddr
    std::memcpy(out + 28, pkt + 28, 16); // chaddr
    std::memcpy(out + kHeaderSize, kCookie, 4);

    uint8_t* p = out + kOptionsOffset;
    *p++ = kOptMsgType;
    *p++ = 1;
    *p++ = type;
    p = put32(p, kOptServerId, s.serverId);
    if (view.msgType != kInform) {
        p = put32(p, kOptLeaseTime, s.leaseTime);
        p = put32(p, kOptRenewal, s.leaseTime / 2);
        p = put32(p, kOptRebinding, s.leaseTime / 8 * 7);
    }
    p = put32(p, kOptMask, s.mask);
    // Room for option 82 is certain: the request held it in at most 255 + 2 bytes.
    if (view.agentInfo) {
        std::memcpy(p, view.agentInfo, view.agentInfoLen);
        p += view.agentInfoLen;
    }
    *p++ = kOptEnd;
    std::size_t size = static_cast<std::size_t>(p - out);
    if (size < kMinReplySize) size = kMinReplySize;

    uint32_t giaddr = load32(pkt + 24), ciaddr = load32(pkt + 12);
    to = sockaddr_in{};
    to.sin_family = AF_INET;
    if (giaddr) {
        to.sin_addr.s_addr = htonl(giaddr);
        to.sin_port = htons(67);
    } else if (ciaddr) {
        to.sin_addr.s_addr = htonl(ciaddr);
        to.sin_port = htons(68);
    } else {
        to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
        to.sin_port = htons(68);
    }
    if (type == kOffer) ++c.offers;
    else ++c.acks;
    return size;
}

int openSocket(const Settings& s) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        std::perror("responder: socket");
        std::exit(1);
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
    // A deep queue absorbs perfdhcp's bursts; as root the limit may be exceeded.
    int buf = 8 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf) != 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (!s.iface.empty() &&
        setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, s.iface.c_str(), static_cast<socklen_t>(s.iface.size())) != 0) {
        std::perror("responder: SO_BINDTODEVICE");
        std::exit(1);
    }
    // The receive timeout lets the loop see a signal or the deadline when idle.
    timeval tv{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons(s.port);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::perror("responder: bind");
        std::exit(1);
    }
    return fd;
}

// Sends replies [0, n); a datagram the kernel refuses is counted and skipped.
void sendAll(int fd, mmsghdr* msgs, unsigned n, Counters& c) {
    unsigned done = 0;
    while (done < n && !gStop) {
        int r = sendmmsg(fd, msgs + done, n - done, 0);
        if (r > 0) {
            done += static_cast<unsigned>(r);
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else {
            ++c.sendErrors;
            ++done;
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    Settings s = parseArgs(argc, argv);
    struct sigaction sa {};
    sa.sa_handler = onSignal;  // no SA_RESTART: recvmmsg must return on a signal
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);

    int fd = openSocket(s);
    std::printf("responder: ready on UDP port %u, pool %u addresses\n", s.port, s.last - s.first + 1);
    std::fflush(stdout);

    static uint8_t inBuf[kBatch][kMaxPacket];
    static uint8_t outBuf[kBatch][kMaxPacket];
    static iovec inIov[kBatch], outIov[kBatch];
    static mmsghdr inMsg[kBatch], outMsg[kBatch];
    static sockaddr_in dest[kBatch];
    for (unsigned k = 0; k < kBatch; ++k) {
        inIov[k] = iovec{inBuf[k], kMaxPacket};
        inMsg[k].msg_hdr.msg_iov = &inIov[k];
        inMsg[k].msg_hdr.msg_iovlen = 1;
        outIov[k] = iovec{outBuf[k], 0};
        outMsg[k].msg_hdr.msg_iov = &outIov[k];
        outMsg[k].msg_hdr.msg_iovlen = 1;
        outMsg[k].msg_hdr.msg_name = &dest[k];
        outMsg[k].msg_hdr.msg_namelen = sizeof dest[k];
    }

    Counters c;
    timespec start{}, now{};
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (!gStop) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= static_cast<time_t>(s.maxSeconds)) break;
        int n = recvmmsg(fd, inMsg, kBatch, MSG_WAITFORONE, nullptr);
        if (n <= 0) continue;  // timeout, signal, or a transient error
        unsigned out = 0;
        for (int k = 0; k < n; ++k) {
            ++c.received;
            if (inMsg[k].msg_hdr.msg_flags & MSG_TRUNC) {  // longer than any request perfdhcp sends
                ++c.malformed;
                continue;
            }
            std::size_t len = buildReply(s, inBuf[k], inMsg[k].msg_len, outBuf[out], dest[out], c);
            if (len) {
                outIov[out].iov_len = len;
                ++out;
            }
        }
        sendAll(fd, outMsg, out, c);
    }
    close(fd);
    std::printf("responder: received %lu, offers %lu, acks %lu, ignored %lu, malformed %lu, send errors %lu\n",
                c.received, c.offers, c.acks, c.ignored, c.malformed, c.sendErrors);
    return 0;
}
