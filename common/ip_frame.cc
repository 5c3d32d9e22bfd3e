#include "common/ip_frame.h"

#include <cstring>

namespace tandem::common {

namespace {

inline uint16_t get16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t get32(const uint8_t* p) {
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}
inline void put16(uint8_t* p, uint16_t v) {
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}
inline void put32(uint8_t* p, uint32_t v) {
    p[0] = uint8_t(v >> 24);
    p[1] = uint8_t(v >> 16);
    p[2] = uint8_t(v >> 8);
    p[3] = uint8_t(v);
}

// RFC 768: the pseudo-header is source, destination, zero, protocol, UDP length.
uint32_t pseudoHeaderSum(uint32_t src, uint32_t dst, uint16_t udpLength) {
    uint32_t sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff);
    return sum + kIpProtoUdp + udpLength;
}

FrameParseResult fail(FrameError e, std::size_t offset) {
    FrameParseResult r;
    r.error = e;
    r.offset = offset;
    return r;
}

}  // namespace

uint32_t checksumAdd(const uint8_t* data, std::size_t size, uint32_t sum) {
    // 64-bit accumulator: no carry handling inside the loop, even for 64 KiB.
    uint64_t acc = sum;
    std::size_t i = 0;
    for (; i + 1 < size; i += 2) acc += uint32_t(data[i]) << 8 | data[i + 1];
    if (i < size) acc += uint32_t(data[i]) << 8;  // odd byte: the high half of a last word
    while (acc >> 32) acc = (acc & 0xffffffff) + (acc >> 32);
    // Keep the result small enough that callers may add a few more words.
    acc = (acc & 0xffff) + (acc >> 16);
    return uint32_t(acc);
}

uint16_t checksumFinish(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

uint16_t internetChecksum(const uint8_t* data, std::size_t size) { return checksumFinish(checksumAdd(data, size)); }

std::size_t buildUdpFrame(const UdpFrameHeader& h, const uint8_t* payload, std::size_t payloadSize, uint8_t* out,
                          std::size_t capacity) {
    const std::size_t udpLength = kUdpHeaderSize + payloadSize;
    const std::size_t ipLength = kIpv4HeaderSize + udpLength;
    if (ipLength > 0xffff || capacity < kEthernetHeaderSize + ipLength) return 0;

    uint8_t* eth = out;
    std::memcpy(eth, h.dstMac.data(), 6);
    std::memcpy(eth + 6, h.srcMac.data(), 6);
    put16(eth + 12, kEtherTypeIpv4);

    uint8_t* ip = eth + kEthernetHeaderSize;
    ip[0] = 0x45;  // version 4, IHL 5
    ip[1] = h.tos;
    put16(ip + 2, uint16_t(ipLength));
    put16(ip + 4, 0);  // identification: never fragmented, so 0 will do (RFC 6864 §4.1)
    put16(ip + 6, 0);  // flags and fragment offset
    ip[8] = h.ttl;
    ip[9] = kIpProtoUdp;
    put16(ip + 10, 0);
    put32(ip + 12, h.srcIp);
    put32(ip + 16, h.dstIp);
    put16(ip + 10, internetChecksum(ip, kIpv4HeaderSize));

    uint8_t* udp = ip + kIpv4HeaderSize;
    put16(udp, h.srcPort);
    put16(udp + 2, h.dstPort);
    put16(udp + 4, uint16_t(udpLength));
    put16(udp + 6, 0);
    if (payloadSize) std::memcpy(udp + kUdpHeaderSize, payload, payloadSize);
    uint32_t sum = pseudoHeaderSum(h.srcIp, h.dstIp, uint16_t(udpLength));
    uint16_t csum = checksumFinish(checksumAdd(udp, udpLength, sum));
    put16(udp + 6, csum == 0 ? 0xffff : csum);  // RFC 768: 0 would mean "no checksum"
    return kEthernetHeaderSize + ipLength;
}

std::vector<uint8_t> buildUdpFrame(const UdpFrameHeader& header, const uint8_t* payload, std::size_t payloadSize) {
    std::vector<uint8_t> out(kUdpFrameOverhead + payloadSize);
    std::size_t n = buildUdpFrame(header, payload, payloadSize, out.data(), out.size());
    out.resize(n);
    return out;
}

const char* toString(FrameError e) {
    switch (e) {
        case FrameError::None: return "ok";
        case FrameError::TooShort: return "too-short";
        case FrameError::NotIpv4: return "not-ipv4";
        case FrameError::BadIpVersion: return "bad-ip-version";
        case FrameError::BadHeaderLength: return "bad-ip-header-length";
        case FrameError::BadTotalLength: return "bad-ip-total-length";
        case FrameError::Fragment: return "fragment";
        case FrameError::NotUdp: return "not-udp";
        case FrameError::BadIpChecksum: return "bad-ip-checksum";
        case FrameError::BadUdpLength: return "bad-udp-length";
        case FrameError::BadUdpChecksum: return "bad-udp-checksum";
    }
    return "unknown";
}

FrameParseResult parseUdpFrame(const uint8_t* data, std::size_t size, bool checksumNotReady) {
    if (size < kUdpFrameOverhead) return fail(FrameError::TooShort, size);
    if (get16(data + 12) != kEtherTypeIpv4) return fail(FrameError::NotIpv4, 12);

    const uint8_t* ip = data + kEthernetHeaderSize;
    const std::size_t ipAvail = size - kEthernetHeaderSize;
    const std::size_t ipAt = kEthernetHeaderSize;
    if ((ip[0] >> 4) != 4) return fail(FrameError::BadIpVersion, ipAt);
    const std::size_t ihl = std::size_t(ip[0] & 0x0f) * 4;
    if (ihl < kIpv4HeaderSize || ihl + kUdpHeaderSize > ipAvail) return fail(FrameError::BadHeaderLength, ipAt);
    const std::size_t total = get16(ip + 2);
    if (total < ihl + kUdpHeaderSize || total > ipAvail) return fail(FrameError::BadTotalLength, ipAt + 2);
    if (get16(ip + 6) & 0x3fff) return fail(FrameError::Fragment, ipAt + 6);
    if (ip[9] != kIpProtoUdp) return fail(FrameError::NotUdp, ipAt + 9);
    // A header that sums (checksum field included) to all ones is intact.
    if (checksumFinish(checksumAdd(ip, ihl)) != 0) return fail(FrameError::BadIpChecksum, ipAt + 10);

    const uint8_t* udp = ip + ihl;
    const std::size_t udpAt = ipAt + ihl;
    const std::size_t udpLength = get16(udp + 4);
    if (udpLength < kUdpHeaderSize || udpLength > total - ihl) return fail(FrameError::BadUdpLength, udpAt + 4);

    FrameParseResult r;
    UdpFrame& f = r.frame;
    std::memcpy(f.dstMac.data(), data, 6);
    std::memcpy(f.srcMac.data(), data + 6, 6);
    f.srcIp = get32(ip + 12);
    f.dstIp = get32(ip + 16);
    f.ttl = ip[8];

    if (!checksumNotReady && get16(udp + 6) != 0) {
        uint32_t sum = pseudoHeaderSum(f.srcIp, f.dstIp, uint16_t(udpLength));
        if (checksumFinish(checksumAdd(udp, udpLength, sum)) != 0) return fail(FrameError::BadUdpChecksum, udpAt + 6);
    }
    f.srcPort = get16(udp);
    f.dstPort = get16(udp + 2);
    f.payload = udp + kUdpHeaderSize;
    f.payloadSize = udpLength - kUdpHeaderSize;
    return r;
}

}  // namespace tandem::common
