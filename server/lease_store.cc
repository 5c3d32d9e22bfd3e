#include "server/lease_store.h"

#include <algorithm>

#include "common/ipv4.h"

namespace tandem::server {

// ---------------------------------------------------------------- LeaseList

void LeaseList::pushBack(Lease* l) {
    l->qnext = nullptr;
    l->qprev = tail_;
    if (tail_) tail_->qnext = l;
    else head_ = l;
    tail_ = l;
    ++size_;
}

void LeaseList::pushFront(Lease* l) {
    l->qprev = nullptr;
    l->qnext = head_;
    if (head_) head_->qprev = l;
    else tail_ = l;
    head_ = l;
    ++size_;
}

void LeaseList::unlink(Lease* l) {
    if (l->qprev) l->qprev->qnext = l->qnext;
    else head_ = l->qnext;
    if (l->qnext) l->qnext->qprev = l->qprev;
    else tail_ = l->qprev;
    l->qprev = l->qnext = nullptr;
    --size_;
}

// ---------------------------------------------------------------- LeaseStore

namespace {
bool samePermit(const conf::Permit& a, const conf::Permit& b) {
    return a.kind == b.kind && a.allow == b.allow && a.className == b.className && a.after == b.after;
}
}  // namespace

bool mergeable(const conf::Pool& a, const conf::Pool& b) {
    auto plain = [](const conf::Pool& p) {
        return p.scope && p.scope->options.empty() && p.scope->params.empty() && p.scope->statements.empty();
    };
    if (!plain(a) || !plain(b) || a.scope->parent != b.scope->parent) return false;
    if (a.failoverPeer != b.failoverPeer || a.permits.size() != b.permits.size()) return false;
    for (std::size_t i = 0; i < a.permits.size(); ++i)
        if (!samePermit(a.permits[i], b.permits[i])) return false;
    return true;
}

LeaseQueue queueFor(BindingState state) {
    switch (state) {
        case BindingState::Free: return LeaseQueue::Free;
        case BindingState::Backup: return LeaseQueue::Backup;
        case BindingState::Abandoned: return LeaseQueue::Abandoned;
        case BindingState::Active:
        case BindingState::Expired:
        case BindingState::Released:
        case BindingState::Reset: return LeaseQueue::None;
    }
    return LeaseQueue::None;
}

void LeaseStore::build(const conf::Config& config, std::vector<std::string>* warnings) {
    blocks_.clear();
    pools_.clear();
    byUid_.clear();
    byHw_.clear();
    expiry_.clear();
    total_ = 0;

    struct Pending {
        uint32_t low, high;
        PoolState* pool;
    };
    std::vector<Pending> ranges;
    for (const auto& net : config.networks) {
        const std::size_t first = pools_.size();
        for (const auto& pool : net.pools) {
            // ISC merges a pool into an earlier one of the same network when they
            // differ in nothing but their ranges (confpars.c, parse_pool_statement),
            // and balances and counts them as one: so do we.
            PoolState* into = nullptr;
            for (std::size_t i = first; i < pools_.size() && !into; ++i)
                if (mergeable(*pools_[i]->config, pool)) into = pools_[i].get();
            if (!into) {
                auto ps = std::make_unique<PoolState>();
                ps->config = &pool;
                ps->network = &net;
                ps->index = pools_.size();
                into = ps.get();
                pools_.push_back(std::move(ps));
            }
            for (const auto& r : pool.ranges) ranges.push_back({r.low, r.high, into});
        }
    }
    std::stable_sort(ranges.begin(), ranges.end(), [](const Pending& a, const Pending& b) { return a.low < b.low; });

    // Cut overlaps: an address belongs to the first range that claimed it (in address order).
    uint32_t covered = 0;
    bool any = false;
    for (const auto& r : ranges) {
        uint32_t low = r.low;
        if (any && low <= covered) {
            if (r.high <= covered) {
                if (warnings)
                    warnings->push_back("range " + common::formatIpv4(r.low) + " " + common::formatIpv4(r.high) +
                                        " overlaps an earlier range entirely; its addresses stay in the first");
                continue;
            }
            if (warnings)
                warnings->push_back("range " + common::formatIpv4(r.low) + " " + common::formatIpv4(r.high) +
                                    " overlaps an earlier range; the shared addresses stay in the first");
            low = covered + 1;
        }
        Block b;
        b.low = low;
        b.high = r.high;
        std::size_t n = std::size_t(r.high - low) + 1;
        b.leases.reset(new Lease[n]);
        for (std::size_t i = 0; i < n; ++i) {
            Lease& l = b.leases[i];
            l.address = low + uint32_t(i);
            l.pool = r.pool;
            l.state = l.next = l.rewind = BindingState::Free;
            r.pool->size++;
            file(l);
        }
        total_ += n;
        covered = r.high;
        any = true;
        blocks_.push_back(std::move(b));
        if (r.high == 0xffffffffu) break;
    }
}

Lease* LeaseStore::find(uint32_t address) const {
    auto it = std::upper_bound(blocks_.begin(), blocks_.end(), address,
                               [](uint32_t a, const Block& b) { return a < b.low; });
    if (it == blocks_.begin()) return nullptr;
    --it;
    if (address > it->high) return nullptr;
    return &it->leases[address - it->low];
}

void LeaseStore::findByUid(std::string_view uid, std::vector<Lease*>& out) const {
    out.clear();
    if (uid.empty()) return;
    auto range = byUid_.equal_range(std::string(uid));
    for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
}

void LeaseStore::findByHw(const common::HwAddr& hw, std::vector<Lease*>& out) const {
    out.clear();
    if (hw.empty()) return;
    auto range = byHw_.equal_range(hw.key());
    for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
}

void LeaseStore::assign(Lease& lease, const LeaseRecord& record) {
    const bool sameKeys = lease.uid == record.uid && lease.hw == record.hw;
    unfile(lease);
    if (!sameKeys) unindex(lease, lease.uid, lease.hw);
    static_cast<LeaseRecord&>(lease) = record;
    lease.offerUntil = 0;
    file(lease);
    if (!sameKeys) index(lease);
}

void LeaseStore::hold(Lease& lease, Time until) {
    unfile(lease);
    lease.offerUntil = until;
    file(lease);
}

void LeaseStore::releaseLapsedOffers(Time now) {
    for (auto& p : pools_) {
        while (Lease* l = p->offered.front()) {
            if (l->offerUntil > now) break;
            unfile(*l);
            l->offerUntil = 0;
            file(*l);
        }
    }
}

void LeaseStore::deferExpiry(Lease& l, Time when) {
    if (!l.indexedExpiry) return;
    expiry_.erase({l.expiryKey, &l});
    l.expiryKey = when;
    expiry_.insert({l.expiryKey, &l});
}

Time LeaseStore::nextExpiry() const { return expiry_.empty() ? common::kNever : expiry_.begin()->first; }

void LeaseStore::dueForExpiry(Time now, std::vector<Lease*>& out) const {
    out.clear();
    for (const auto& e : expiry_) {
        if (e.first > now) break;
        out.push_back(e.second);
    }
}

void LeaseStore::forEach(const std::function<void(Lease&)>& f) {
    for (auto& b : blocks_)
        for (std::size_t i = 0, n = std::size_t(b.high - b.low) + 1; i < n; ++i) f(b.leases[i]);
}

void LeaseStore::forEach(const std::function<void(const Lease&)>& f) const {
    for (const auto& b : blocks_)
        for (std::size_t i = 0, n = std::size_t(b.high - b.low) + 1; i < n; ++i) f(b.leases[i]);
}

void LeaseStore::unfile(Lease& l) {
    switch (l.queue) {
        case LeaseQueue::Free: l.pool->free.unlink(&l); break;
        case LeaseQueue::Backup: l.pool->backup.unlink(&l); break;
        case LeaseQueue::Offered: l.pool->offered.unlink(&l); break;
        case LeaseQueue::Abandoned: l.pool->abandoned.unlink(&l); break;
        case LeaseQueue::None: break;
    }
    l.queue = LeaseQueue::None;
    l.pool->counts[std::size_t(l.state)]--;
    if (l.indexedExpiry) {
        expiry_.erase({l.expiryKey, &l});
        l.indexedExpiry = false;
    }
}

void LeaseStore::file(Lease& l) {
    l.pool->counts[std::size_t(l.state)]++;
    LeaseQueue q = queueFor(l.state);
    if ((q == LeaseQueue::Free || q == LeaseQueue::Backup) && l.offerUntil != 0) q = LeaseQueue::Offered;
    else l.offerUntil = 0;
    switch (q) {
        case LeaseQueue::Free: l.pool->free.pushBack(&l); break;
        case LeaseQueue::Backup: l.pool->backup.pushBack(&l); break;
        case LeaseQueue::Offered: l.pool->offered.pushBack(&l); break;
        case LeaseQueue::Abandoned: l.pool->abandoned.pushBack(&l); break;
        case LeaseQueue::None: break;
    }
    l.queue = q;
    // Active leases expire at `ends`. (Abandoned ones wait on their queue until
    // allocation runs short, as in ISC.)
    if (l.state == BindingState::Active && l.ends != 0 && l.ends != common::kNever) {
        l.expiryKey = l.ends;
        expiry_.insert({l.expiryKey, &l});
        l.indexedExpiry = true;
    }
}

void LeaseStore::unindex(Lease& l, std::string_view uid, const common::HwAddr& hw) {
    if (l.indexedUid) {
        auto range = byUid_.equal_range(std::string(uid));
        for (auto it = range.first; it != range.second; ++it)
            if (it->second == &l) {
                byUid_.erase(it);
                break;
            }
        l.indexedUid = false;
    }
    if (l.indexedHw) {
        auto range = byHw_.equal_range(hw.key());
        for (auto it = range.first; it != range.second; ++it)
            if (it->second == &l) {
                byHw_.erase(it);
                break;
            }
        l.indexedHw = false;
    }
}

void LeaseStore::index(Lease& l) {
    if (!l.uid.empty()) {
        byUid_.emplace(l.uid, &l);
        l.indexedUid = true;
    }
    if (!l.hw.empty()) {
        byHw_.emplace(l.hw.key(), &l);
        l.indexedHw = true;
    }
}

void LeaseStore::refile(Lease& l, std::string_view uid, const common::HwAddr& hw) {
    file(l);
    if (l.uid == uid && l.hw == hw) return;
    unindex(l, uid, hw);
    index(l);
}

}  // namespace tandem::server
