// What the server derives once from a Config for fast packet handling: which
// subnet and shared network an address belongs to, the pools of each network,
// the host declarations indexed by hardware address and client identifier, and
// for each (subnet, pool) the chain of scopes options are drawn from. Built at
// start (and on reload); read-only while packets are handled.
#ifndef TANDEM_SERVER_TOPOLOGY_H
#define TANDEM_SERVER_TOPOLOGY_H

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/dhcp_packet.h"
#include "common/lease_record.h"
#include "conf/config.h"
#include "conf/lease_reader.h"
#include "server/lease_store.h"

namespace tandem::server {

/// Scopes in the order options and parameters are applied: outermost first.
using ScopeChain = std::vector<const conf::Scope*>;

struct SubnetInfo {
    const conf::Subnet* subnet = nullptr;
    const conf::SharedNetwork* network = nullptr;
    uint32_t number = 0, mask = 0;
};

struct NetworkInfo {
    const conf::SharedNetwork* network = nullptr;
    std::vector<PoolState*> pools;  ///< in declaration order
    std::vector<const SubnetInfo*> subnets;
};

class Topology {
public:
    /// @brief Index `config`; pools come from `store`, which must be built from the same config.
    /// `leaseFileHosts` (OMAPI's host blocks from the lease file) add dynamic hosts, and
    /// their `deleted;` rubouts hide declared hosts of the same name, as in ISC.
    void build(const conf::Config& config, LeaseStore& store,
               const std::vector<conf::LeaseFileHost>* leaseFileHosts = nullptr);

    /// @brief The most specific subnet containing `addr`, or nullptr.
    const SubnetInfo* subnetFor(uint32_t addr) const;
    const NetworkInfo* network(const conf::SharedNetwork* net) const;
    /// @brief Whether `addr` lies in a subnet of `net`.
    const SubnetInfo* subnetIn(const conf::SharedNetwork* net, uint32_t addr) const;

    /// @brief Host declarations matching the client: by client identifier, then hardware address,
    /// then host-identifier options; in declaration order.
    void findHosts(const common::Packet4& packet, std::vector<const conf::Host*>& out) const;
    const conf::Host* findHostByHw(const common::HwAddr& hw) const;
    /// @brief The fixed address of `host` inside `net`, or 0 (names are not resolved).
    uint32_t fixedAddressIn(const conf::Host& host, const conf::SharedNetwork* net) const;

    /// @brief Scopes for a lease in `pool` at `addr`: global .. shared-network, subnet, pool.
    const ScopeChain& chainFor(const PoolState* pool, const SubnetInfo* subnet) const;
    /// @brief Scopes for a packet with no lease (INFORM, NAK): global .. subnet.
    const ScopeChain& chainFor(const SubnetInfo* subnet) const;
    const conf::Scope* global() const { return global_; }

private:
    const conf::Scope* global_ = nullptr;
    std::vector<SubnetInfo> subnets_;  ///< sorted by mask length, longest first
    std::vector<NetworkInfo> networks_;
    std::unordered_map<std::string, std::vector<const conf::Host*>> hostsByUid_;
    std::unordered_map<std::string, std::vector<const conf::Host*>> hostsByHw_;
    std::vector<const conf::Host*> hostsById_;  ///< hosts with host-identifier option
    const conf::Config* config_ = nullptr;
    std::vector<std::unique_ptr<conf::Host>> dynamicHosts_;
    mutable std::unordered_map<uint64_t, ScopeChain> chains_;
};

/// @brief Read a typed server parameter through a chain, innermost scope first.
/// Values given by expressions are not evaluated here (the caller does that).
class Params {
public:
    explicit Params(const ScopeChain& chain) : chain_(chain) {}
    /// Extra scopes that override the chain (classes, then host), innermost last.
    void addOverride(const conf::Scope* s) { if (s) extra_.push_back(s); }

    const conf::Parameter* find(const std::string& name) const;
    std::optional<uint32_t> u32(const std::string& name) const;
    std::optional<bool> flag(const std::string& name) const;  ///< true for allow (1), false for deny/ignore
    std::optional<uint8_t> raw8(const std::string& name) const;
    std::optional<std::string> text(const std::string& name) const;
    std::optional<uint32_t> ipv4(const std::string& name) const;

private:
    const ScopeChain& chain_;
    std::vector<const conf::Scope*> extra_;
};

}  // namespace tandem::server

#endif
