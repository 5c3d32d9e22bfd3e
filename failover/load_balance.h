// Load balancing between failover peers as ISC dhcpd 4.4 applies it: the
// RFC 3074 Pearson hash over the client's key, the 256-bucket hash-bucket
// assignment (HBA) from `split N` or `hba`, and the DISCOVER test with
// `load balance max seconds`. Pure functions over packets and leases: no
// configuration objects, no state, no sockets. Whether the server is in a
// state that load-balances at all (cooperating) is the state machine's call.
#ifndef TANDEM_FAILOVER_LOAD_BALANCE_H
#define TANDEM_FAILOVER_LOAD_BALANCE_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/dhcp_packet.h"
#include "common/lease_record.h"
#include "failover/role.h"

namespace tandem::failover {

constexpr std::size_t kHbaSize = 32;  ///< 256 buckets, one bit each (draft-12 §12.11)
using Hba = std::array<uint8_t, kHbaSize>;

/// @brief RFC 3074 §4 hash as ISC's loadb_p_hash computes it: seed = len & 0xff,
/// then the key is walked from its LAST byte to its first through ISC's mixing table.
uint8_t loadBalanceHash(const uint8_t* key, std::size_t len);
inline uint8_t loadBalanceHash(const std::vector<uint8_t>& key) { return loadBalanceHash(key.data(), key.size()); }

/// @brief The bitmap of `split N`: buckets 0..N-1 set. Nothing when N > 256
/// (ISC reports it as a configuration error).
std::optional<Hba> hbaFromSplit(uint32_t split);
/// @brief A raw `hba` value or a received option 11; nothing unless exactly 32 bytes.
std::optional<Hba> hbaFromBytes(const std::vector<uint8_t>& bytes);

/// @brief Whether the PRIMARY serves a bucket. ISC departs from draft-12 §12.11
/// here: a set bit means the primary serves, not the secondary. Bucket b is bit
/// (1 << (b & 7)) of byte b >> 3, least significant bit first.
bool primaryServesBucket(const Hba& hba, uint8_t bucket);
/// @brief Whether this role serves a bucket (the secondary inverts the test).
bool roleServesBucket(const Hba& hba, Role role, uint8_t bucket);

/// @brief The key ISC hashes for a packet: the whole option 61 value (type byte
/// included) when present, else chaddr[0 .. hlen-1]. An hlen over 16 is cut to
/// 16: ISC discards such packets before they get here.
std::vector<uint8_t> packetKey(const common::Packet4& p);
/// @brief The key of a lease's last client (MAC affinity): its uid when it has
/// one, else its hardware address without the htype byte. Nothing when neither
/// exists, as ISC then cannot place the lease in a bucket.
std::optional<std::vector<uint8_t>> leaseKey(const common::LeaseRecord& lease);

/// @brief What the load-balancing test needs of a peer block.
struct LoadBalanceParams {
    Role role = Role::Primary;
    /// The primary's own bitmap; on the secondary, the one the last CONNECT carried
    /// (nothing before the first CONNECT).
    std::optional<Hba> hba;
    /// `load balance max seconds`: 0 (ISC's default) disables load balancing, so
    /// both servers answer every DISCOVER.
    uint32_t maxSeconds = 0;
    /// `check-secs-byte-order`: also read a secs field > 255 whose low byte is 0 as
    /// byte-swapped (clients that send it little-endian).
    bool checkSecsByteOrder = false;
};

struct LoadBalanceVerdict {
    enum class Why : uint8_t {
        Disabled,      ///< max seconds is 0: answer everything
        SecsOverLimit, ///< the client has waited longer than max seconds: answer regardless
        NoHba,         ///< no bitmap yet: not ours (ISC's rule; the secondary before CONNECT)
        Hash,          ///< decided by the bucket
    };
    bool mine = false;
    Why why = Why::Hash;
    uint8_t bucket = 0;  ///< the hash, when why == Hash
    uint16_t secs = 0;   ///< secs as read (after any byte-order fix)
};

/// @brief ISC's load_balance_mine() for a DHCPDISCOVER, plus the max-seconds-0 rule.
LoadBalanceVerdict loadBalanceMine(const common::Packet4& p, const LoadBalanceParams& lb);

/// @brief ISC's peer_wants_lease(): whether the peer's half of the buckets holds
/// the lease's last client. False without a bitmap or a key.
bool peerWantsLease(const common::LeaseRecord& lease, const std::optional<Hba>& hba, Role role);
/// @brief The same test from a precomputed key hash.
bool peerWantsBucket(const Hba& hba, Role role, uint8_t bucket);

}  // namespace tandem::failover

#endif
