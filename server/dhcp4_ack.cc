// The reply half of the processor (ISC's ack_lease): lease time, ping-check,
// the lease update, and the reply's header fields and options.
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

constexpr uint32_t kDefaultLeaseTime = 43200;  // dhcpd.conf(5): default-lease-time
constexpr uint32_t kDefaultMaxLeaseTime = 86400;
constexpr uint32_t kInfinite = 0xffffffffu;

std::vector<uint8_t> be32(uint32_t v) { return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)}; }

void putText(std::array<uint8_t, 64>& field, const std::string& s) {
    field.fill(0);
    std::copy_n(s.begin(), std::min(s.size(), field.size() - 1), field.begin());
}
void putText(std::array<uint8_t, 128>& field, const std::string& s) {
    field.fill(0);
    std::copy_n(s.begin(), std::min(s.size(), field.size() - 1), field.begin());
}

// The host name a client gives in option 12, without the NULs some clients append.
std::string clientHostname(const Packet4& p) {
    const auto* o = p.find(12);
    if (!o) return {};
    std::string s(o->data.begin(), o->data.end());
    while (!s.empty() && s.back() == '\0') s.pop_back();
    return s;
}

}  // namespace

Outcome Dhcp4Processor::ackLease(const Packet4& p, const Ingress& in, Client& c, Lease* lease, uint32_t fixed,
                                 Reply kind, const std::string& msg) {
    const Time now = clock_.now();
    const bool isInform = p.messageType() == uint8_t(8);
    const uint32_t addr = lease ? lease->address : fixed;
    const SubnetInfo* subnet = lease ? topo_.subnetFor(addr) : (c.net ? topo_.subnetIn(c.net, addr) : nullptr);
    if (!subnet) subnet = topo_.subnetFor(addr);
    const ScopeChain& chain = lease ? topo_.chainFor(lease->pool, subnet) : topo_.chainFor(subnet);

    const conf::Host* host = nullptr;
    for (const conf::Host* h : c.hosts)
        if (!lease && topo_.fixedAddressIn(*h, c.net) == addr) host = h;
    if (!host && !c.hosts.empty()) host = c.hosts.front();

    // Every scope that applies, outermost first, with its statements (ISC's
    // execute_statements_in_scope): options and parameters come out of this run.
    ScopeRun params;
    params.ctx.packet = &p;
    params.ctx.lease = lease;
    params.ctx.staticLease = lease == nullptr;
    params.ctx.host = host;
    params.ctx.now = now;
    params.ctx.interface = in.ifname;
    const conf::Scope* limit = lease && lease->pool ? lease->pool->config->scope.get()
                                                    : (subnet ? subnet->subnet->scope.get() : nullptr);
    rules_->runScopes(params, chain, c.classes, limit, host);

    // Booting permissions (dhcpd.conf(5) allow/deny booting, unknown-clients, bootp).
    if (!params.flag("allow-booting").value_or(true)) {
        common::logInfo(msg + ": booting disallowed");
        return {};
    }
    if (!c.known && params.raw8("boot-unknown-clients").value_or(1) != 1) {
        common::logInfo(msg + ": unknown client");
        return {};
    }
    if (kind == Reply::Bootp && !params.flag("allow-bootp").value_or(true)) {
        common::logInfo(msg + ": bootp disallowed");
        return {};
    }

    // ---- lease time (ISC: the request, bounded by max-lease-time and min-lease-time)
    uint32_t leaseTime = 0;
    Time tstp = 0;
    if (kind == Reply::Bootp) {
        leaseTime = params.u32("dynamic-bootp-lease-length").value_or(0);
        if (leaseTime == 0) leaseTime = kInfinite;
        if (auto cutoff = params.u32("dynamic-bootp-lease-cutoff"); cutoff && Time(*cutoff) > now &&
                                                                     (leaseTime == kInfinite || now + leaseTime > Time(*cutoff)))
            leaseTime = uint32_t(Time(*cutoff) - now);
    } else if (!isInform) {
        uint32_t def = params.u32("default-lease-time").value_or(kDefaultLeaseTime);
        uint32_t max = params.u32("max-lease-time").value_or(std::max(def, kDefaultMaxLeaseTime));
        uint32_t min = params.u32("min-lease-time").value_or(0);
        if (auto want = p.leaseTime()) {
            leaseTime = std::min(*want, max);
            if (leaseTime < min) leaseTime = min;
        } else {
            leaseTime = def;
        }
        if (leaseTime == kInfinite && params.flag("infinite-is-reserved").value_or(false) && lease)
            lease->reserved = true;
    }
    if (lease && lease->pool && lease->pool->failover && failover_ && kind != Reply::Bootp)
        leaseTime = failover_->grantLeaseTime(*lease, leaseTime, now, tstp);

    // ---- ping-check (ISC: before offering an address not already the client's)
    if (kind == Reply::Offer && lease && lease->state != BindingState::Active &&
        params.flag("ping-check").value_or(true)) {
        auto clean = pingedClean_.find(addr);
        bool recent = clean != pingedClean_.end() && now - clean->second <= 10;
        uint32_t clttSecs = params.u32("ping-cltt-secs").value_or(60);
        bool justUsedByClient = leaseMatchesClient(c, *lease) && lease->cltt && now - lease->cltt < Time(clttSecs);
        if (!recent && !justUsedByClient) {
            uint32_t timeout = params.u32("ping-timeout").value_or(1);
            store_.modify(*lease, [&](LeaseRecord& r) {
                r.hw = c.hw;
                r.uid = c.uid;
            });
            store_.hold(*lease, now + Time(timeout) + kOfferHold);
            Outcome o;
            o.kind = Outcome::Kind::PingFirst;
            o.pingAddress = addr;
            return o;
        }
    }

    Outcome o;
    o.reply = replyHeader(p);
    Packet4& r = o.reply;
    r.ciaddr = p.ciaddr;
    r.yiaddr = isInform ? 0 : addr;
    r.cookie = p.cookie;
    if (auto ns = params.ipv4("next-server")) r.siaddr = *ns;
    if (auto fn = params.text("filename")) putText(r.file, *fn);
    if (auto sn = params.text("server-name")) putText(r.sname, *sn);
    if (params.flag("always-broadcast").value_or(false)) r.flags |= 0x8000;

    // ---- options, outermost scope first so the innermost wins
    OptionAssembler opts(config_, p);
    params.applyOptions(opts);
    o.serverAddr = in.ifaddr;
    if (const auto* v = opts.get(54); v && v->size() == 4)
        o.serverAddr = uint32_t((*v)[0]) << 24 | uint32_t((*v)[1]) << 16 | uint32_t((*v)[2]) << 8 | (*v)[3];
    if (kind != Reply::Bootp || p.cookie) {
        if (kind != Reply::Bootp) {
            opts.set(53, {uint8_t(kind == Reply::Offer ? 2 : 5)});
            opts.set(54, be32(o.serverAddr));
            if (!isInform) opts.set(51, be32(leaseTime));
        }
        if (!opts.get(1) && subnet) opts.set(1, be32(subnet->mask));
        if (host && params.flag("use-host-decl-names").value_or(false) && !opts.get(12))
            opts.set(12, std::vector<uint8_t>(host->name.begin(), host->name.end()));
        if (params.flag("echo-client-id").value_or(false))
            if (const auto* id = p.find(61)) opts.set(61, id->data);
        if (isInform) {
            opts.erase(51);
            opts.erase(58);
            opts.erase(59);
        }
        // RFC 3046 §2.2: echo the relay agent information to the relay.
        if (const auto* ri = p.find(82); ri && p.giaddr) opts.set(82, ri->data);
        std::string vendorSpace;
        if (auto vs = params.text("vendor-option-space")) vendorSpace = *vs;
        opts.build(r, vendorSpace);
    }
    if (auto mms = p.maxMessageSize(); mms && *mms >= 576)
        o.maxSize = std::min<std::size_t>(std::size_t(*mms) - 28, std::size_t(in.mtu) - 28);

    // ---- lease limits (ISC's billing in ack_lease): a dynamic lease is billed to
    // the first matching class that has room; with none, the client gets nothing.
    BillingDecision billing;
    if (lease && kind != Reply::Offer) {
        BillingRef current;
        const BillingRef* cur = nullptr;
        if (lease->extras && !lease->extras->billingClass.empty() && leaseMatchesClient(c, *lease)) {
            current.className = lease->extras->billingClass;
            current.subclassData = lease->extras->billingSubclass;
            cur = &current;
        }
        billing = decideBilling(c.classes.result, *rules_, cur);
        if (!billing.allowed) {
            common::logError(msg + ": no available billing: lease limit reached in all matching classes (last: '" +
                             billing.lastClass + "')");
            return {};
        }
    }

    // ---- the lease itself
    std::string hostname = clientHostname(p);
    if (lease) {
        bool fo = lease->pool && lease->pool->failover && failover_;
        if (kind == Reply::Offer) {
            // A soft promise, not written to disk (ISC): the lease carries the
            // client's identity in memory and is held for it for two minutes.
            if (lease->state != BindingState::Active) {
                store_.modify(*lease, [&](LeaseRecord& rec) {
                    rec.hw = c.hw;
                    rec.uid = c.uid;
                });
                store_.hold(*lease, now + kOfferHold);
            }
            o.kind = Outcome::Kind::Send;
        } else {
            bool ignoreUid = params.flag("ignore-client-uids").value_or(false);
            store_.modify(*lease, [&](LeaseRecord& rec) {
                rec.state = BindingState::Active;
                rec.next = fo ? BindingState::Expired : BindingState::Free;
                rec.starts = now;
                rec.ends = leaseTime == kInfinite ? kNever : now + Time(leaseTime);
                rec.cltt = now;
                rec.hw = c.hw;
                rec.uid = ignoreUid ? std::string() : c.uid;
                if (!hostname.empty()) rec.hostname = hostname;
                rec.bootp = kind == Reply::Bootp;
                if (fo && tstp) rec.tstp = tstp;
                if (fo && rec.tsfp > rec.tstp && rec.tstp) rec.tsfp = rec.tstp;
                LeaseRecord before = rec;
                if (billing.unbillCurrent && rec.extras) {
                    rec.extras->billingClass.clear();
                    rec.extras->billingSubclass.reset();
                }
                if (billing.billTo >= 0) {
                    const ClassMatch& m = c.classes.result.classes[std::size_t(billing.billTo)];
                    rec.ext().billingClass = m.cls->name;
                    if (m.isSubclass()) rec.ext().billingSubclass = std::string(m.subclassData());
                    else rec.ext().billingSubclass.reset();
                }
                rules_->billingChanged(&before, &rec);
                rules_->commitHandlers(params, rec, p, now);
                // ISC's ack_lease keeps the client's vendor class with the binding.
                if (const auto* vc = p.find(60)) {
                    common::LeaseVariable v;
                    v.name = "vendor-class-identifier";
                    v.data.assign(vc->data.begin(), vc->data.end());
                    auto& vars = rec.ext().variables;
                    auto it = std::find_if(vars.begin(), vars.end(), [](const common::LeaseVariable& x) {
                        return x.name == "vendor-class-identifier";
                    });
                    if (it != vars.end()) *it = v;
                    else vars.push_back(v);
                }
            });
            changed(*lease);
            o.kind = Outcome::Kind::SendDurable;
        }
    } else {
        o.kind = Outcome::Kind::Send;
    }

    // ---- ISC's log line
    std::string hw = c.hw.str();
    if (isInform) {
        common::logInfo("DHCPACK to " + formatIpv4(p.ciaddr ? p.ciaddr : in.srcIp) + " (" + hw + ") via " + via(p, in));
    } else if (kind == Reply::Bootp) {
        common::logInfo("BOOTREPLY for " + formatIpv4(addr) + " to " + (host ? host->name : hostname) + " (" + hw +
                        ") via " + via(p, in));
    } else {
        std::string shown = lease && !lease->hostname.empty() ? lease->hostname : (host ? host->name : hostname);
        common::logInfo(std::string(kind == Reply::Offer ? "DHCPOFFER" : "DHCPACK") + " on " + formatIpv4(addr) +
                        " to " + hw + " " + (shown.empty() ? "" : "(" + shown + ") ") + "via " + via(p, in));
    }
    ++stats_.sent[kind == Reply::Offer ? 2 : kind == Reply::Ack ? 5 : 0];
    return o;
}

}  // namespace tandem::server
