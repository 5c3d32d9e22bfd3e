#include "server/dhcp4_processor.h"

#include <algorithm>

#include "common/ipv4.h"
#include "common/log.h"
#include "server/dhcp4_client.h"
#include "server/option_assembler.h"

namespace tandem::server {

using common::formatIpv4;
using common::kNever;
using common::Packet4;

namespace {

constexpr uint8_t kDiscover = 1, kRequest = 3, kDecline = 4, kRelease = 7, kInform = 8;

bool printable(const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char ch) {
        auto c = static_cast<unsigned char>(ch);
        return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    });
}

}  // namespace


Dhcp4Processor::Dhcp4Processor(const conf::Config& config, const Topology& topology, LeaseStore& store,
                               const common::Clock& clock, LeaseSink& sink, FailoverPort* failover)
    : config_(config),
      topo_(topology),
      store_(store),
      clock_(clock),
      sink_(sink),
      failover_(failover),
      rules_(std::make_unique<ClientRules>(config)) {
    // ping-check is on by default (dhcpd.conf(5)); it is off only where every scope says so.
    pingPossible_ = true;
    if (const auto* p = config.global ? config.global->findParam("ping-check") : nullptr)
        pingPossible_ = !p->value.wire.empty() && p->value.wire.back() == 1;
    for (const auto& n : config.networks) {
        auto check = [&](const conf::Scope* s) {
            auto it = s->params.find("ping-check");
            if (it != s->params.end() && !it->second.value.wire.empty() && it->second.value.wire.back() == 1)
                pingPossible_ = true;
        };
        check(n.scope.get());
        for (const auto& sn : n.subnets) check(sn.scope.get());
        for (const auto& p : n.pools) check(p.scope.get());
    }
}

Dhcp4Processor::~Dhcp4Processor() = default;

// ---------------------------------------------------------------- helpers

std::string Dhcp4Processor::via(const Packet4& p, const Ingress& in) const {
    return p.giaddr ? formatIpv4(p.giaddr) : in.ifname;
}

// ISC's "MAC (hostname) " part of its log lines.
std::string Dhcp4Processor::who(const Packet4& p, const Lease* l) const {
    std::string s;
    if (p.htype && p.hlen) {
        common::HwAddr hw;
        hw.htype = p.htype;
        hw.len = std::min<uint8_t>(p.hlen, 16);
        std::copy(p.chaddr.begin(), p.chaddr.begin() + hw.len, hw.bytes.begin());
        s = hw.str();
    } else if (l && !l->uid.empty()) {
        static const char kHex[] = "0123456789abcdef";
        for (std::size_t i = 0; i < l->uid.size(); ++i) {
            if (i) s += ':';
            auto b = static_cast<unsigned char>(l->uid[i]);
            s += kHex[b >> 4];
            s += kHex[b & 15];
        }
    } else {
        s = "<no identifier>";
    }
    s += ' ';
    if (l && !l->hostname.empty()) {
        s += '(';
        s += l->hostname.size() <= 64 && printable(l->hostname) ? l->hostname : "Hostname Unsuitable for Printing";
        s += ") ";
    }
    return s;
}

const SubnetInfo* Dhcp4Processor::locate(const Packet4& p, const Ingress& in) const {
    // RFC 3527 link selection (option 82 sub-option 5) and RFC 3011 subnet
    // selection (option 118) name the client's link more precisely than giaddr.
    if (p.giaddr) {
        if (auto ri = p.relayAgentInfo()) {
            for (const auto& sub : *ri)
                if (sub.code == 5 && sub.data.size() == 4) {
                    uint32_t a = uint32_t(sub.data[0]) << 24 | uint32_t(sub.data[1]) << 16 |
                                 uint32_t(sub.data[2]) << 8 | sub.data[3];
                    if (const SubnetInfo* s = topo_.subnetFor(a)) return s;
                }
        }
    }
    if (const auto* o = p.find(118); o && o->data.size() == 4) {
        uint32_t a = uint32_t(o->data[0]) << 24 | uint32_t(o->data[1]) << 16 | uint32_t(o->data[2]) << 8 | o->data[3];
        if (const SubnetInfo* s = topo_.subnetFor(a)) return s;
    }
    if (p.giaddr) return topo_.subnetFor(p.giaddr);
    for (const auto& [addr, mask] : in.ifnets) {
        (void)mask;
        if (const SubnetInfo* s = topo_.subnetFor(addr)) return s;
    }
    return nullptr;
}

bool Dhcp4Processor::leaseMatchesClient(const Client& c, const LeaseRecord& l) const {
    if (!c.uid.empty() && !l.uid.empty()) return l.uid == c.uid;
    return !l.hw.empty() && l.hw == c.hw;
}

bool Dhcp4Processor::permitted(const Client& c, const PoolState& pool) const {
    return rules_->poolPermits(*pool.config, c.known, c.classes, clock_.now());
}

// Whether `l` may be given to this client now. `forClient`: the lease already
// carries the client's identity (its binding, or an offer made to it).
bool Dhcp4Processor::usable(const Client& c, const Lease& l, bool forClient) const {
    if (!l.pool || !permitted(c, *l.pool)) return false;
    Time now = clock_.now();
    switch (l.state) {
        case BindingState::Active:
            return forClient;
        case BindingState::Free:
        case BindingState::Backup:
            if (l.offerUntil > now && !forClient) return false;
            if (l.pool->failover && failover_) return failover_->mayAllocate(l, now);
            return l.state == BindingState::Free;
        case BindingState::Expired:
        case BindingState::Released:
        case BindingState::Reset:
            if (l.pool->failover && failover_) return failover_->mayAllocate(l, now);
            return true;
        case BindingState::Abandoned:
            return false;
    }
    return false;
}

Lease* Dhcp4Processor::findClientLease(Client& c, const conf::SharedNetwork* net, BindingState* seen) {
    Lease* best = nullptr;
    int bestRank = 0;
    Time now = clock_.now();
    auto consider = [&](Lease* l) {
        if (!l->pool || l->pool->network != net || !leaseMatchesClient(c, *l)) return;
        if (seen) *seen = l->state;
        int rank = 0;
        if (l->state == BindingState::Active && (l->ends > now || l->ends == 0)) rank = 4;
        else if (l->queue == LeaseQueue::Offered && l->offerUntil > now) rank = 3;
        else if (l->state != BindingState::Abandoned && l->state != BindingState::Active) rank = 2;
        if (rank > bestRank && usable(c, *l, true)) {
            best = l;
            bestRank = rank;
        }
    };
    if (!c.uid.empty()) {
        store_.findByUid(c.uid, scratch_);
        for (Lease* l : scratch_) consider(l);
    }
    if (bestRank < 4 && !c.hw.empty()) {
        store_.findByHw(c.hw, scratch_);
        for (Lease* l : scratch_) consider(l);
    }
    return best;
}

Lease* Dhcp4Processor::allocate(Client& c, const conf::SharedNetwork* net, bool bootp, bool& peerHasLeases) {
    const NetworkInfo* ni = topo_.network(net);
    if (!ni) return nullptr;
    Time now = clock_.now();
    Lease* best = nullptr;
    for (PoolState* pool : ni->pools) {
        if (!permitted(c, *pool)) continue;
        if (bootp && !rules_->poolHasDynamicBootp(*pool->config)) continue;
        bool fo = pool->failover && failover_;
        if (fo && failover_->peerHasLeases(*pool)) peerHasLeases = true;
        auto take = [&](LeaseList& list) {
            // The front is the least recently used lease of the queue (ISC's
            // free queues are kept in that order too), so the first one that
            // may be used is the best of its queue.
            for (Lease* l = list.front(); l; l = l->qnext) {
                if (fo && !failover_->mayAllocate(*l, now)) {
                    // Ordered by time: once one is too young, so are the rest.
                    break;
                }
                if (bootp && !rules_->rangeIsDynamicBootp(*pool->config, l->address)) continue;
                if (!best || l->ends < best->ends) best = l;
                return;
            }
        };
        if (fo) {
            take(failover_->allocatesFromBackup(*pool) ? pool->backup : pool->free);
            if (!best && failover_->mayUsePeerFree(*pool, now))
                take(failover_->allocatesFromBackup(*pool) ? pool->free : pool->backup);
        } else {
            take(pool->free);
        }
    }
    if (best) return best;
    // No free lease anywhere: reclaim the oldest abandoned one whose time is up (ISC).
    for (PoolState* pool : ni->pools) {
        if (!permitted(c, *pool)) continue;
        for (Lease* l = pool->abandoned.front(); l; l = l->qnext) {
            if (l->ends > now && l->ends != 0) continue;
            if (pool->failover && failover_ && !failover_->mayAllocate(*l, now)) continue;
            common::logInfo("Reclaiming abandoned lease " + formatIpv4(l->address) + ".");
            return l;
        }
    }
    return nullptr;
}

bool Dhcp4Processor::responding(const Lease* l, const std::string& msg) {
    if (!l || !l->pool || !l->pool->failover || !failover_) return true;
    std::string why;
    if (failover_->responding(*l->pool, why)) return true;
    common::logInfo(msg + ": not responding" + why);
    ++stats_.ignored;
    return false;
}

void Dhcp4Processor::unbill(LeaseRecord& r) {
    if (!r.extras || r.extras->billingClass.empty()) return;
    LeaseRecord before = r;
    r.extras->billingClass.clear();
    r.extras->billingSubclass.reset();
    rules_->billingChanged(&before, &r);
}

void Dhcp4Processor::leasesLoaded() {
    store_.forEach([this](const Lease& l) { rules_->billingChanged(nullptr, &l); });
}

// ISC's line, but rate-limited: forged giaddrs cost a log line each otherwise.
void Dhcp4Processor::logUnknownSegment(const std::string& msg) {
    uint64_t suppressed = 0;
    if (!unknownSegmentLog_.allow(clock_.now(), suppressed)) return;
    common::logInfo(msg + ": unknown network segment" +
                    (suppressed ? " (" + std::to_string(suppressed) + " more such packets not logged)" : ""));
}

void Dhcp4Processor::changed(Lease& l) {
    sink_.leaseChanged(l);
    if (l.pool && l.pool->failover && failover_) failover_->leaseChanged(l);
}

void Dhcp4Processor::abandon(Lease& l, const std::string& why) {
    Time now = clock_.now();
    Params params(topo_.chainFor(l.pool, topo_.subnetFor(l.address)));
    uint32_t hold = params.u32("abandon-lease-time").value_or(86400);
    rules_->dropHandlers(l.address);
    store_.modify(l, [&](LeaseRecord& r) {
        unbill(r);
        r.state = r.next = BindingState::Abandoned;
        r.starts = now;
        r.ends = hold ? now + Time(hold) : 0;
        r.hw = {};
        r.uid.clear();
        r.hostname.clear();
        r.cltt = now;
    });
    common::logError("Abandoning IP address " + formatIpv4(l.address) + ": " + why);
    changed(l);
}

uint32_t Dhcp4Processor::serverIdFor(const Client& c, const Ingress& in, const ScopeChain& chain) const {
    // `option dhcp-server-identifier` (or `server-identifier`) in scope wins.
    static const Packet4 kNoRequest;
    OptionAssembler probe(config_, kNoRequest);
    for (const conf::Scope* s : chain) probe.applyScope(*s);
    for (const conf::Scope* s : c.classes.result.scopesInExecutionOrder(nullptr)) probe.applyScope(*s);
    if (const auto* v = probe.get(54); v && v->size() == 4)
        return uint32_t((*v)[0]) << 24 | uint32_t((*v)[1]) << 16 | uint32_t((*v)[2]) << 8 | (*v)[3];
    return in.ifaddr;
}

// ---------------------------------------------------------------- dispatch

Outcome Dhcp4Processor::process(const Packet4& p, const Ingress& in) {
    if (p.op != 1) return {};  // BOOTREPLY: not for a server
    Client c;
    c.hw.htype = p.htype;
    c.hw.len = std::min<uint8_t>(p.hlen, 16);
    std::copy(p.chaddr.begin(), p.chaddr.begin() + c.hw.len, c.hw.bytes.begin());
    if (const auto* id = p.find(61); id && !id->data.empty()) c.uid.assign(id->data.begin(), id->data.end());
    topo_.findHosts(p, c.hosts);
    c.known = !c.hosts.empty();
    c.subnet = locate(p, in);
    c.net = c.subnet ? c.subnet->network : nullptr;
    rules_->classify(p, c.hosts.empty() ? nullptr : c.hosts.front(), clock_.now(), in.ifname, c.classes);

    auto type = p.messageType();
    if (!type) {
        ++stats_.received[0];
        return bootp(p, in, c);
    }
    if (*type < 9) ++stats_.received[*type];
    switch (*type) {
        case kDiscover: return discover(p, in, c);
        case kRequest: return request(p, in, c);
        case kRelease: return release(p, in, c);
        case kDecline: return decline(p, in, c);
        case kInform: return inform(p, in, c);
        default: break;
    }
    return {};
}

// ---------------------------------------------------------------- DISCOVER

Outcome Dhcp4Processor::discover(const Packet4& p, const Ingress& in, Client& c) {
    Lease* lease = c.net ? findClientLease(c, c.net) : nullptr;
    std::string msg = "DHCPDISCOVER from " + who(p, lease) + "via " + via(p, in);
    if (!c.net) {
        logUnknownSegment(msg);
        ++stats_.ignored;
        return {};
    }
    // A reserved address (host with fixed-address in this network) comes first.
    for (const conf::Host* h : c.hosts)
        if (uint32_t fixed = topo_.fixedAddressIn(*h, c.net)) {
            common::logInfo(msg);
            return ackLease(p, in, c, nullptr, fixed, Reply::Offer, msg);
        }
    // Then the address the client asks for, when it is free for it.
    if (!lease) {
        if (auto want = p.requestedAddress()) {
            Lease* l = store_.find(*want);
            if (l && l->pool && l->pool->network == c.net && (l->state != BindingState::Active || leaseMatchesClient(c, *l)) &&
                usable(c, *l, leaseMatchesClient(c, *l)))
                lease = l;
        }
    }
    bool peerHasLeases = false;
    if (!lease) {
        lease = allocate(c, c.net, false, peerHasLeases);
        if (!lease) {
            ++stats_.noFreeLeases;
            if (peerHasLeases)
                common::logError(msg + ": peer holds all free leases");
            else
                common::logError(msg + ": network " + c.net->name + ": no free leases");
            return {};
        }
    }
    if (!responding(lease, msg)) return {};
    if (lease->pool->failover && failover_ && !failover_->loadBalanceMine(*lease->pool, p)) {
        if (failover_->peerHasLeases(*lease->pool)) {
            common::logDebug(msg + ": load balance to peer");
            ++stats_.ignored;
            return {};
        }
        common::logDebug(msg + ": cancel load balance to peer - no free leases");
    }
    common::logInfo(msg);
    return ackLease(p, in, c, lease, 0, Reply::Offer, msg);
}

Outcome Dhcp4Processor::pingDone(const Packet4& p, const Ingress& in, uint32_t address, bool answered) {
    Lease* l = store_.find(address);
    if (answered) {
        ++stats_.pingsAnswered;
        // dhcpd.conf(5) ping-check: an address that answers is abandoned and the
        // client gets no reply; it will retry and be offered another address.
        if (l && l->state != BindingState::Active) abandon(*l, "pinged before offer");
        return {};
    }
    Time now = clock_.now();
    pingedClean_[address] = now;
    if (pingedClean_.size() > 4096)
        for (auto it = pingedClean_.begin(); it != pingedClean_.end();)
            it = now - it->second > 10 ? pingedClean_.erase(it) : std::next(it);
    return process(p, in);
}

// ---------------------------------------------------------------- REQUEST

Outcome Dhcp4Processor::request(const Packet4& p, const Ingress& in, Client& c) {
    auto requested = p.requestedAddress();
    uint32_t cip = requested ? *requested : p.ciaddr;
    auto sid = p.serverIdentifier();
    const SubnetInfo* subnet = topo_.subnetFor(cip);

    Lease* lease = nullptr;
    bool ours = false;  // the address is one we hand out, but not to this client
    if (subnet) {
        Lease* l = store_.find(cip);
        if (l && l->pool && l->pool->network == subnet->network) {
            bool mine = leaseMatchesClient(c, *l);
            if (usable(c, *l, mine) && (mine || l->state != BindingState::Active)) lease = l;
            else ours = true;
        }
    }
    std::string msg = "DHCPREQUEST for " + formatIpv4(cip) + (sid ? " (" + formatIpv4(*sid) + ")" : "") + " from " +
                      who(p, lease) + "via " + via(p, in);
    const bool authoritative = [&] {
        const ScopeChain& chain = topo_.chainFor(c.subnet ? c.subnet : subnet);
        return Params(chain).flag("authoritative").value_or(false);
    }();

    if (lease && !responding(lease, msg)) return {};

    // RFC 2131 §4.3.2: a REQUEST naming another server declines our offer.
    if (sid) {
        const ScopeChain& chain = lease ? topo_.chainFor(lease->pool, subnet) : topo_.chainFor(subnet);
        uint32_t mySid = serverIdFor(c, in, chain);
        bool forUs = *sid == mySid || *sid == in.ifaddr ||
                     std::any_of(in.ifnets.begin(), in.ifnets.end(), [&](const auto& n) { return n.first == *sid; });
        if (!forUs) {
            common::logInfo(msg + ": not our server identifier");
            if (lease && lease->queue == LeaseQueue::Offered && leaseMatchesClient(c, *lease)) store_.hold(*lease, 0);
            ++stats_.ignored;
            return {};
        }
    }

    // A request from one network for an address on another is NAKed (ISC's
    // dhcprequest: only when we know where it came from, or it says where).
    if (!c.net || (p.ciaddr && p.giaddr) || (requested && !p.ciaddr)) {
        if (!c.net) {
            if (subnet && Params(topo_.chainFor(subnet)).flag("authoritative").value_or(false)) {
                common::logInfo(msg + ": wrong network.");
                return nak(p, in, c, cip, msg);
            }
            common::logInfo(msg + ": ignored (" + (subnet ? "not authoritative" : "unknown subnet") + ").");
            ++stats_.ignored;
            return {};
        }
        if (!topo_.subnetIn(c.net, cip)) {
            if (authoritative) {
                common::logInfo(msg + ": wrong network.");
                return nak(p, in, c, cip, msg);
            }
            common::logInfo(msg + ": ignored (not authoritative).");
            ++stats_.ignored;
            return {};
        }
    }

    if (lease && lease->pool && lease->pool->failover && failover_) {
        // ISC 4.4: no load balancing for REQUEST; a free lease the peer owns is its to give.
        if ((lease->state == BindingState::Free || lease->state == BindingState::Backup) &&
            !failover_->mayAllocate(*lease, clock_.now())) {
            common::logDebug(msg + ": lease owned by peer");
            return {};
        }
    }

    if (!lease && ours) {
        Lease* l = store_.find(cip);
        if (authoritative && (!l || !failover_ || !l->pool || !l->pool->failover || failover_->mayNak(*l))) {
            common::logInfo(msg + ": lease " + formatIpv4(cip) + " unavailable.");
            return nak(p, in, c, cip, msg);
        }
        common::logInfo(msg + ": lease " + formatIpv4(cip) + " unavailable (not authoritative).");
        ++stats_.ignored;
        return {};
    }
    // A host with a fixed address in this network is always served that address.
    if (c.net)
        for (const conf::Host* h : c.hosts)
            if (uint32_t fixed = topo_.fixedAddressIn(*h, c.net)) {
                common::logInfo(msg);
                if (fixed != cip) {
                    if (authoritative) return nak(p, in, c, cip, msg);
                    return {};
                }
                return ackLease(p, in, c, nullptr, fixed, Reply::Ack, msg);
            }
    if (!lease) {
        common::logInfo(msg + ": unknown lease " + formatIpv4(cip) + ".");
        ++stats_.ignored;
        return {};
    }
    common::logInfo(msg);
    return ackLease(p, in, c, lease, 0, Reply::Ack, msg);
}

Outcome Dhcp4Processor::nak(const Packet4& p, const Ingress& in, Client& c, uint32_t address, const std::string&) {
    Outcome o;
    o.kind = Outcome::Kind::Send;
    o.reply = replyHeader(p);
    Packet4& r = o.reply;
    const ScopeChain& chain = topo_.chainFor(c.subnet ? c.subnet : topo_.subnetFor(address));
    o.serverAddr = serverIdFor(c, in, chain);
    uint32_t sid = o.serverAddr;
    r.options.push_back({53, {6}});
    r.options.push_back({54, {uint8_t(sid >> 24), uint8_t(sid >> 16), uint8_t(sid >> 8), uint8_t(sid)}});
    r.options.push_back({56, std::vector<uint8_t>{'r', 'e', 'q', 'u', 'e', 's', 't', 'e', 'd', ' ', 'a', 'd', 'd',
                                                  'r', 'e', 's', 's', ' ', 'n', 'o', 't', ' ', 'a', 'v', 'a', 'i',
                                                  'l', 'a', 'b', 'l', 'e'}});
    if (const auto* ri = p.find(82); ri && p.giaddr) r.options.push_back(*ri);
    if (const auto* id = p.find(61)) r.options.push_back(*id);  // RFC 6842
    common::logInfo("DHCPNAK on " + formatIpv4(address) + " to " + c.hw.str() + " via " + via(p, in));
    ++stats_.naks;
    ++stats_.sent[6];
    return o;
}

// ---------------------------------------------------------------- RELEASE, DECLINE, INFORM

Outcome Dhcp4Processor::release(const Packet4& p, const Ingress& in, Client& c) {
    if (p.find(50)) common::logInfo("DHCPRELEASE from " + c.hw.str() + " specified requested-address.");
    Lease* lease = nullptr;
    if (!c.uid.empty()) {
        store_.findByUid(c.uid, scratch_);
        for (Lease* l : scratch_)
            if (l->address == p.ciaddr) lease = l;
    }
    if (!lease) lease = store_.find(p.ciaddr);
    // ISC releases only when the hardware address matches too.
    if (lease && lease->hw != c.hw) lease = nullptr;
    std::string msg = "DHCPRELEASE of " + formatIpv4(p.ciaddr) + " from " + who(p, lease) + "via " + via(p, in) +
                      (lease ? " (found)" : " (not found)");
    if (lease && !responding(lease, msg)) return {};
    Time now = clock_.now();
    if (lease && lease->state == BindingState::Active && (lease->ends > now || lease->ends == kNever)) {
        bool fo = lease->pool->failover && failover_;
        store_.modify(*lease, [&](LeaseRecord& r) {
            rules_->runEvent(r, "release", now);
            unbill(r);
            // Without a peer the address is free at once; with one it is RELEASED
            // until the peer acknowledges (or straight back to our free state when
            // the peer never saw the binding: rewind, failover-protocol.md (d)).
            if (fo && r.rewind != BindingState::Free && r.rewind != BindingState::Backup) {
                r.state = BindingState::Released;
            } else if (fo) {
                r.state = r.rewind;
            } else {
                r.state = BindingState::Free;
            }
            r.next = r.state;
            r.starts = now;
            r.ends = now;
            r.cltt = now;
        });
        changed(*lease);
    }
    common::logInfo(msg);
    return {};
}

Outcome Dhcp4Processor::decline(const Packet4& p, const Ingress& in, Client& c) {
    auto addr = p.requestedAddress();
    if (!addr) return {};
    Lease* lease = store_.find(*addr);
    std::string msg = "DHCPDECLINE of " + formatIpv4(*addr) + " from " + who(p, lease) + "via " + via(p, in);
    const SubnetInfo* subnet = topo_.subnetFor(*addr);
    Params params(lease ? topo_.chainFor(lease->pool, subnet) : topo_.chainFor(subnet));
    for (const conf::Scope* s : c.classes.result.scopesInExecutionOrder(nullptr)) params.addOverride(s);
    auto declines = params.raw8("declines");
    if (declines && *declines != 1) {
        if (*declines == 0) common::logInfo(msg + ": ignored");
        return {};
    }
    if (!lease) {
        common::logInfo(msg + ": not found");
        return {};
    }
    if (!responding(lease, msg)) return {};
    abandon(*lease, "declined.");
    common::logInfo(msg + ": abandoned");
    return {};
}

Outcome Dhcp4Processor::inform(const Packet4& p, const Ingress& in, Client& c) {
    uint32_t cip = p.ciaddr ? p.ciaddr : in.srcIp;
    std::string msg = "DHCPINFORM from " + formatIpv4(cip) + " via " + via(p, in);
    if (!cip) {
        common::logInfo(msg + ": ignored (null source address).");
        return {};
    }
    const SubnetInfo* subnet = topo_.subnetFor(cip);
    if (!subnet) {
        common::logInfo(msg + ": unknown subnet for client address " + formatIpv4(cip));
        return {};
    }
    const ScopeChain& chain = topo_.chainFor(subnet);
    if (!Params(chain).flag("authoritative").value_or(false)) {
        common::logInfo(msg + ": not authoritative for subnet " + formatIpv4(subnet->number));
        return {};
    }
    common::logInfo(msg);
    c.subnet = subnet;
    c.net = subnet->network;
    return ackLease(p, in, c, nullptr, cip, Reply::Ack, msg);
}

// ---------------------------------------------------------------- BOOTP

Outcome Dhcp4Processor::bootp(const Packet4& p, const Ingress& in, Client& c) {
    std::string msg = "BOOTREQUEST from " + c.hw.str() + " via " + via(p, in);
    if (!c.net) {
        logUnknownSegment(msg);
        ++stats_.ignored;
        return {};
    }
    for (const conf::Host* h : c.hosts)
        if (uint32_t fixed = topo_.fixedAddressIn(*h, c.net)) {
            common::logInfo(msg);
            return ackLease(p, in, c, nullptr, fixed, Reply::Bootp, msg);
        }
    Lease* lease = findClientLease(c, c.net);
    if (lease && !(lease->bootp || lease->state != BindingState::Active)) lease = nullptr;
    if (!lease) {
        bool peerHas = false;
        lease = allocate(c, c.net, true, peerHas);
    }
    if (!lease) {
        common::logInfo(msg + ": BOOTP from dynamic client and no dynamic leases");
        return {};
    }
    Params params(topo_.chainFor(lease->pool, topo_.subnetFor(lease->address)));
    if (!params.flag("allow-bootp").value_or(true)) {
        common::logInfo(msg + ": BOOTP from dynamic client and no dynamic leases");
        return {};
    }
    if (!responding(lease, msg)) return {};
    common::logInfo(msg);
    return ackLease(p, in, c, lease, 0, Reply::Bootp, msg);
}

// ---------------------------------------------------------------- expiry

std::size_t Dhcp4Processor::expire() {
    Time now = clock_.now();
    store_.releaseLapsedOffers(now);
    std::vector<Lease*> due;
    store_.dueForExpiry(now, due);
    std::size_t changedCount = 0;
    for (Lease* l : due) {
        bool fo = l->pool && l->pool->failover && failover_;
        if (fo && !failover_->runsExpiry(*l->pool)) {
            // The peer expires it (and tells us); look again in a minute.
            store_.deferExpiry(*l, now + 60);
            continue;
        }
        ++changedCount;
        store_.modify(*l, [&](LeaseRecord& r) {
            rules_->runEvent(r, "expiry", now);
            unbill(r);
            // ISC keeps `starts` when a binding ends: it is when the client got it.
            r.state = fo ? failover_->expiredState(*l) : BindingState::Free;
            r.next = r.state;
        });
        changed(*l);
    }
    return changedCount;
}

Time Dhcp4Processor::nextExpiry() const {
    Time t = store_.nextExpiry();
    for (const auto& p : store_.pools())
        if (Lease* l = p->offered.front(); l && l->offerUntil < t) t = l->offerUntil;
    return t;
}

}  // namespace tandem::server
