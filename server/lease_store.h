// The in-memory lease database: one Lease per address of every configured
// range, indexed by address, client identifier and hardware address, with
// per-pool queues (free, backup, offered) so that allocation never scans, and
// an expiry index ordered by `ends`. It enforces the store's invariants (each
// lease in exactly the queue its state names, indices matching the fields) and
// nothing else: who may get which lease is the allocator's business, when a
// lease changes state is the processor's and the failover engine's, and
// durability is the lease file's.
#ifndef TANDEM_SERVER_LEASE_STORE_H
#define TANDEM_SERVER_LEASE_STORE_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/lease_record.h"
#include "conf/config.h"

namespace tandem::server {

using common::BindingState;
using common::LeaseRecord;
using common::Time;

struct PoolState;

/// Which list of its pool a lease sits on.
enum class LeaseQueue : uint8_t { None, Free, Backup, Offered, Abandoned };

/// @brief A lease as the server holds it: the record plus its place in the store.
struct Lease : LeaseRecord {
    PoolState* pool = nullptr;
    Time offerUntil = 0;  ///< while > now, a DHCPOFFER holds this free lease for hw/uid

    // Store-private links; only LeaseStore touches them.
    Lease* qprev = nullptr;
    Lease* qnext = nullptr;
    LeaseQueue queue = LeaseQueue::None;
    bool indexedUid = false, indexedHw = false, indexedExpiry = false;
    Time expiryKey = 0;
};

/// @brief An intrusive FIFO list of leases: O(1) push, pop and unlink.
class LeaseList {
public:
    void pushBack(Lease* l);
    void pushFront(Lease* l);
    void unlink(Lease* l);
    Lease* front() const { return head_; }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    /// @brief Calls f for each lease from the front; f may not change the list.
    template <typename F>
    void forEach(F&& f) const {
        for (Lease* l = head_; l; l = l->qnext) f(*l);
    }

private:
    Lease* head_ = nullptr;
    Lease* tail_ = nullptr;
    std::size_t size_ = 0;
};

/// @brief A configured pool at run time: its leases' queues and counts.
struct PoolState {
    const conf::Pool* config = nullptr;
    const conf::SharedNetwork* network = nullptr;
    std::size_t index = 0;  ///< in LeaseStore::pools()
    LeaseList free, backup, offered, abandoned;
    std::size_t size = 0;  ///< addresses in the pool
    std::size_t counts[8] = {};  ///< leases per BindingState code (index 1..7)
    void* failover = nullptr;    ///< the failover relationship's handle, set by the engine

    std::size_t count(BindingState s) const { return counts[std::size_t(s)]; }
};

class LeaseStore {
public:
    LeaseStore() = default;
    LeaseStore(const LeaseStore&) = delete;
    LeaseStore& operator=(const LeaseStore&) = delete;

    /// @brief Create one free lease per address of every range of `config`.
    /// Addresses declared twice are reported and kept in their first pool.
    void build(const conf::Config& config, std::vector<std::string>* warnings = nullptr);

    /// @brief The lease for an address, or nullptr when no range holds it.
    Lease* find(uint32_t address) const;
    /// @brief Leases carrying this client identifier / hardware address.
    void findByUid(std::string_view uid, std::vector<Lease*>& out) const;
    void findByHw(const common::HwAddr& hw, std::vector<Lease*>& out) const;

    /// @brief Replace a lease's record (from the lease file, or a failover update), re-filing it.
    void assign(Lease& lease, const LeaseRecord& record);
    /// @brief Apply `change` to the lease, then re-file it (queues, indices, counts).
    template <typename F>
    void modify(Lease& lease, F&& change) {
        const std::string uid = lease.uid;
        const common::HwAddr hw = lease.hw;
        unfile(lease);
        change(static_cast<LeaseRecord&>(lease));
        refile(lease, uid, hw);
    }
    /// @brief Hold a free lease for a client's DHCPOFFER until `until`.
    void hold(Lease& lease, Time until);
    /// @brief Return held leases whose offer has lapsed to their free queue.
    void releaseLapsedOffers(Time now);

    /// @brief Look at an active lease again at `when` instead of at its `ends` (its record is unchanged).
    void deferExpiry(Lease& lease, Time when);
    /// @brief The earliest `ends` among active leases (kNever when none), and the leases due by `now`.
    Time nextExpiry() const;
    void dueForExpiry(Time now, std::vector<Lease*>& out) const;

    std::vector<std::unique_ptr<PoolState>>& pools() { return pools_; }
    const std::vector<std::unique_ptr<PoolState>>& pools() const { return pools_; }
    std::size_t size() const { return total_; }
    /// @brief Calls f(lease) for every lease, in address order within each range.
    void forEach(const std::function<void(Lease&)>& f);
    void forEach(const std::function<void(const Lease&)>& f) const;

private:
    struct Block {
        uint32_t low = 0, high = 0;
        std::unique_ptr<Lease[]> leases;
    };
    // A lease is filed (its queue, its pool's counts, the expiry index) and
    // indexed by its keys (client id, hardware address). Most changes leave the
    // keys alone, and re-indexing costs two hash-map erasures and insertions.
    void unfile(Lease& l);
    void file(Lease& l);
    void unindex(Lease& l, std::string_view uid, const common::HwAddr& hw);
    void index(Lease& l);
    /// @brief file() a lease unfiled while its keys were `uid` and `hw`, re-indexing it if they changed.
    void refile(Lease& l, std::string_view uid, const common::HwAddr& hw);

    std::vector<Block> blocks_;  ///< sorted by low, disjoint
    std::vector<std::unique_ptr<PoolState>> pools_;
    std::unordered_multimap<std::string, Lease*> byUid_;
    std::unordered_multimap<std::string, Lease*> byHw_;
    std::set<std::pair<Time, Lease*>> expiry_;
    std::size_t total_ = 0;
};

/// @brief Whether ISC would merge pool `b` into the earlier pool `a` of the same
/// network: neither sets anything of its own, and both have the same parent scope,
/// failover peer and permit lists.
bool mergeable(const conf::Pool& a, const conf::Pool& b);

/// @brief Which queue a lease in `state` belongs to.
LeaseQueue queueFor(BindingState state);

}  // namespace tandem::server

#endif
