#include "server/topology.h"

#include <algorithm>

#include "common/ipv4.h"

namespace tandem::server {

namespace {

// The scopes from the global one down to `s`, outermost first.
void lineage(const conf::Scope* s, ScopeChain& out) {
    ScopeChain up;
    for (; s; s = s->parent.get()) up.push_back(s);
    out.insert(out.end(), up.rbegin(), up.rend());
}

void appendNew(ScopeChain& chain, const ScopeChain& more) {
    for (const conf::Scope* s : more)
        if (std::find(chain.begin(), chain.end(), s) == chain.end()) chain.push_back(s);
}

std::string hwKey(uint8_t htype, const std::vector<uint8_t>& bytes) {
    std::string k(1, char(htype));
    k.append(bytes.begin(), bytes.end());
    return k;
}

}  // namespace

void Topology::build(const conf::Config& config, LeaseStore& store,
                     const std::vector<conf::LeaseFileHost>* leaseFileHosts) {
    config_ = &config;
    global_ = config.global.get();
    subnets_.clear();
    networks_.clear();
    hostsByUid_.clear();
    hostsByHw_.clear();
    hostsById_.clear();
    chains_.clear();

    for (const auto& net : config.networks)
        for (const auto& sn : net.subnets) subnets_.push_back({&sn, &net, sn.number, sn.netmask});
    // Longest mask first, so the first match is the most specific subnet.
    std::stable_sort(subnets_.begin(), subnets_.end(),
                     [](const SubnetInfo& a, const SubnetInfo& b) { return a.mask > b.mask; });
    networks_.reserve(config.networks.size());
    for (const auto& net : config.networks) {
        NetworkInfo ni;
        ni.network = &net;
        for (auto& p : store.pools())
            if (p->network == &net) ni.pools.push_back(p.get());
        for (const auto& s : subnets_)
            if (s.network == &net) ni.subnets.push_back(&s);
        networks_.push_back(std::move(ni));
    }
    std::vector<const conf::Host*> hosts;
    auto deleted = [&](const std::string& name) {
        if (!leaseFileHosts) return false;
        for (const auto& lh : *leaseFileHosts)
            if (lh.deleted && lh.name == name) return true;
        return false;
    };
    for (const auto& h : config.hosts)
        if (!deleted(h.name)) hosts.push_back(&h);
    dynamicHosts_.clear();
    if (leaseFileHosts)
        for (const auto& lh : *leaseFileHosts) {
            if (lh.deleted) continue;
            auto h = std::make_unique<conf::Host>();
            h->name = lh.name;
            h->where = lh.where;
            if (!lh.hw.empty()) {
                h->htype = lh.hw.htype;
                h->hwaddr.assign(lh.hw.bytes.begin(), lh.hw.bytes.begin() + lh.hw.len);
            }
            h->clientId.assign(lh.uid.begin(), lh.uid.end());
            for (const auto& a : lh.fixedAddresses) {
                conf::AddressRef ref;
                if (auto ip = common::parseIpv4(a)) ref.addr = *ip;
                else ref.hostname = a;  // names are not resolved while serving
                h->fixedAddresses.push_back(ref);
            }
            auto scope = std::make_shared<conf::Scope>();
            scope->parent = config.global;
            scope->kind = "host";
            h->scope = scope;
            hosts.push_back(h.get());
            dynamicHosts_.push_back(std::move(h));
        }
    for (const conf::Host* hp : hosts) {
        const conf::Host& h = *hp;
        if (!h.clientId.empty()) hostsByUid_[std::string(h.clientId.begin(), h.clientId.end())].push_back(&h);
        if (!h.hwaddr.empty()) hostsByHw_[hwKey(h.htype.value_or(1), h.hwaddr)].push_back(&h);
        if (!h.hostIdOption.empty()) hostsById_.push_back(&h);
    }
}

const SubnetInfo* Topology::subnetFor(uint32_t addr) const {
    for (const auto& s : subnets_)
        if ((addr & s.mask) == s.number) return &s;
    return nullptr;
}

const NetworkInfo* Topology::network(const conf::SharedNetwork* net) const {
    for (const auto& n : networks_)
        if (n.network == net) return &n;
    return nullptr;
}

const SubnetInfo* Topology::subnetIn(const conf::SharedNetwork* net, uint32_t addr) const {
    const NetworkInfo* n = network(net);
    if (!n) return nullptr;
    for (const SubnetInfo* s : n->subnets)
        if ((addr & s->mask) == s->number) return s;
    return nullptr;
}

void Topology::findHosts(const common::Packet4& p, std::vector<const conf::Host*>& out) const {
    out.clear();
    if (const auto* id = p.find(61)) {
        auto it = hostsByUid_.find(std::string(id->data.begin(), id->data.end()));
        if (it != hostsByUid_.end()) out.insert(out.end(), it->second.begin(), it->second.end());
    }
    if (p.hlen > 0 && p.hlen <= 16) {
        std::string k(1, char(p.htype));
        k.append(reinterpret_cast<const char*>(p.chaddr.data()), p.hlen);
        auto it = hostsByHw_.find(k);
        if (it != hostsByHw_.end())
            for (const auto* h : it->second)
                if (std::find(out.begin(), out.end(), h) == out.end()) out.push_back(h);
    }
    for (const conf::Host* h : hostsById_) {
        const conf::OptionSetting* def = nullptr;
        (void)def;
        const common::OptionDef* od = config_->options.find("dhcp", h->hostIdOption);
        if (!od || od->code > 255) continue;
        const auto* o = p.find(uint8_t(od->code));
        if (o && o->data == h->hostIdValue && std::find(out.begin(), out.end(), h) == out.end()) out.push_back(h);
    }
}

const conf::Host* Topology::findHostByHw(const common::HwAddr& hw) const {
    auto it = hostsByHw_.find(hw.key());
    return it == hostsByHw_.end() || it->second.empty() ? nullptr : it->second.front();
}

uint32_t Topology::fixedAddressIn(const conf::Host& host, const conf::SharedNetwork* net) const {
    for (const auto& a : host.fixedAddresses) {
        if (a.isName()) continue;
        if (subnetIn(net, a.addr)) return a.addr;
    }
    return 0;
}

const ScopeChain& Topology::chainFor(const PoolState* pool, const SubnetInfo* subnet) const {
    uint64_t key = uint64_t(reinterpret_cast<uintptr_t>(pool)) * 1000003u ^ reinterpret_cast<uintptr_t>(subnet);
    auto it = chains_.find(key);
    if (it != chains_.end()) return it->second;
    ScopeChain chain;
    if (subnet) lineage(subnet->subnet->scope.get(), chain);
    else if (pool && pool->network) lineage(pool->network->scope.get(), chain);
    else lineage(global_, chain);
    if (pool) {
        ScopeChain p;
        lineage(pool->config->scope.get(), p);
        appendNew(chain, p);
    }
    return chains_.emplace(key, std::move(chain)).first->second;
}

const ScopeChain& Topology::chainFor(const SubnetInfo* subnet) const { return chainFor(nullptr, subnet); }

// ---------------------------------------------------------------- Params

const conf::Parameter* Params::find(const std::string& name) const {
    for (auto it = extra_.rbegin(); it != extra_.rend(); ++it) {
        auto p = (*it)->params.find(name);
        if (p != (*it)->params.end()) return &p->second;
    }
    for (auto it = chain_.rbegin(); it != chain_.rend(); ++it) {
        auto p = (*it)->params.find(name);
        if (p != (*it)->params.end()) return &p->second;
    }
    return nullptr;
}

std::optional<uint32_t> Params::u32(const std::string& name) const {
    const conf::Parameter* p = find(name);
    if (!p || p->value.wire.empty()) return std::nullopt;
    uint32_t v = 0;
    for (uint8_t b : p->value.wire) v = v << 8 | b;
    return v;
}

std::optional<bool> Params::flag(const std::string& name) const {
    auto v = raw8(name);
    if (!v) return std::nullopt;
    return *v == 1;
}

std::optional<uint8_t> Params::raw8(const std::string& name) const {
    const conf::Parameter* p = find(name);
    if (!p || p->value.wire.empty()) return std::nullopt;
    return p->value.wire.back();
}

std::optional<std::string> Params::text(const std::string& name) const {
    const conf::Parameter* p = find(name);
    if (!p) return std::nullopt;
    return std::string(p->value.wire.begin(), p->value.wire.end());
}

std::optional<uint32_t> Params::ipv4(const std::string& name) const {
    const conf::Parameter* p = find(name);
    if (!p || p->value.wire.size() != 4) return std::nullopt;
    return uint32_t(p->value.wire[0]) << 24 | uint32_t(p->value.wire[1]) << 16 | uint32_t(p->value.wire[2]) << 8 |
           p->value.wire[3];
}

}  // namespace tandem::server
