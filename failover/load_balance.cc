#include "failover/load_balance.h"

namespace tandem::failover {

namespace {

// RFC 3074 §4's mixing table as ISC ships it (taken there from
// draft-ietf-dhc-loadb-01): a permutation of 0..255.
constexpr uint8_t kMix[256] = {
    251, 175, 119, 215, 81,  14,  79,  191, 103, 49,  181, 143, 186, 157, 0,   232, 31,  32,  55,  60,
    152, 58,  17,  237, 174, 70,  160, 144, 220, 90,  57,  223, 59,  3,   18,  140, 111, 166, 203, 196,
    134, 243, 124, 95,  222, 179, 197, 65,  180, 48,  36,  15,  107, 46,  233, 130, 165, 30,  123, 161,
    209, 23,  97,  16,  40,  91,  219, 61,  100, 10,  210, 109, 250, 127, 22,  138, 29,  108, 244, 67,
    207, 9,   178, 204, 74,  98,  126, 249, 167, 116, 34,  77,  193, 200, 121, 5,   20,  113, 71,  35,
    128, 13,  182, 94,  25,  226, 227, 199, 75,  27,  41,  245, 230, 224, 43,  225, 177, 26,  155, 150,
    212, 142, 218, 115, 241, 73,  88,  105, 39,  114, 62,  255, 192, 201, 145, 214, 168, 158, 221, 148,
    154, 122, 12,  84,  82,  163, 44,  139, 228, 236, 205, 242, 217, 11,  187, 146, 159, 64,  86,  239,
    195, 42,  106, 198, 118, 112, 184, 172, 87,  2,   173, 117, 176, 229, 247, 253, 137, 185, 99,  164,
    102, 147, 45,  66,  231, 52,  141, 211, 194, 206, 246, 238, 56,  110, 78,  248, 63,  240, 189, 93,
    92,  51,  53,  183, 19,  171, 72,  50,  33,  104, 101, 69,  8,   252, 83,  120, 76,  135, 85,  54,
    202, 125, 188, 213, 96,  235, 136, 208, 162, 129, 190, 132, 156, 38,  47,  1,   7,   254, 24,  4,
    216, 131, 89,  21,  28,  133, 37,  153, 149, 80,  170, 68,  6,   169, 234, 151};

constexpr uint8_t kClientIdentifier = 61;  // RFC 2132 §9.14
constexpr std::size_t kChaddrSize = 16;

}  // namespace

uint8_t loadBalanceHash(const uint8_t* key, std::size_t len) {
    // ISC seeds with the length truncated to a byte and walks backwards; RFC 3074
    // walks forwards. Only ISC's order matches what an ISC peer decides.
    uint8_t h = static_cast<uint8_t>(len & 0xff);
    for (std::size_t i = len; i > 0; --i) h = kMix[h ^ key[i - 1]];
    return h;
}

std::optional<Hba> hbaFromSplit(uint32_t split) {
    if (split > 256) return std::nullopt;
    Hba hba{};
    for (uint32_t b = 0; b < split; ++b) hba[b >> 3] |= static_cast<uint8_t>(1u << (b & 7));
    return hba;
}

std::optional<Hba> hbaFromBytes(const std::vector<uint8_t>& bytes) {
    if (bytes.size() != kHbaSize) return std::nullopt;
    Hba hba{};
    for (std::size_t i = 0; i < kHbaSize; ++i) hba[i] = bytes[i];
    return hba;
}

bool primaryServesBucket(const Hba& hba, uint8_t bucket) {
    return (hba[(bucket >> 3) & 0x1f] & (1u << (bucket & 7))) != 0;
}

bool roleServesBucket(const Hba& hba, Role role, uint8_t bucket) {
    bool primary = primaryServesBucket(hba, bucket);
    return role == Role::Primary ? primary : !primary;
}

bool peerWantsBucket(const Hba& hba, Role role, uint8_t bucket) { return !roleServesBucket(hba, role, bucket); }

std::vector<uint8_t> packetKey(const common::Packet4& p) {
    if (const common::DhcpOption* id = p.find(kClientIdentifier)) return id->data;
    std::size_t n = p.hlen > kChaddrSize ? kChaddrSize : p.hlen;
    return std::vector<uint8_t>(p.chaddr.begin(), p.chaddr.begin() + n);
}

std::optional<std::vector<uint8_t>> leaseKey(const common::LeaseRecord& lease) {
    if (!lease.uid.empty()) return std::vector<uint8_t>(lease.uid.begin(), lease.uid.end());
    // ISC stores htype + address and needs more than the htype byte to hash.
    if (lease.hw.len > 0) return std::vector<uint8_t>(lease.hw.bytes.begin(), lease.hw.bytes.begin() + lease.hw.len);
    return std::nullopt;
}

LoadBalanceVerdict loadBalanceMine(const common::Packet4& p, const LoadBalanceParams& lb) {
    LoadBalanceVerdict v;
    uint16_t secs = p.secs;
    if (lb.checkSecsByteOrder && secs > 255 && (secs & 0xff) == 0) secs = static_cast<uint16_t>((secs >> 8) | (secs << 8));
    v.secs = secs;
    if (lb.maxSeconds == 0) {
        v.mine = true;
        v.why = LoadBalanceVerdict::Why::Disabled;
        return v;
    }
    if (secs > lb.maxSeconds) {
        v.mine = true;
        v.why = LoadBalanceVerdict::Why::SecsOverLimit;
        return v;
    }
    if (!lb.hba) {
        v.mine = false;
        v.why = LoadBalanceVerdict::Why::NoHba;
        return v;
    }
    v.why = LoadBalanceVerdict::Why::Hash;
    v.bucket = loadBalanceHash(packetKey(p));
    v.mine = roleServesBucket(*lb.hba, lb.role, v.bucket);
    return v;
}

bool peerWantsLease(const common::LeaseRecord& lease, const std::optional<Hba>& hba, Role role) {
    if (!hba) return false;
    auto key = leaseKey(lease);
    if (!key) return false;
    return peerWantsBucket(*hba, role, loadBalanceHash(*key));
}

}  // namespace tandem::failover
