// DHCPv4 message handling as RFC 2131 and ISC dhcpd 4.4 do it: DISCOVER to
// OFFER, REQUEST (selecting, init-reboot, renewing, rebinding) to ACK or NAK,
// RELEASE, DECLINE, INFORM and BOOTP. It decides and updates the lease store;
// it does no I/O. Replies that follow a lease change are marked so that the
// caller sends them only after the lease file commit that makes the change
// durable. Time comes from a Clock; failover policy through FailoverPort.
#ifndef TANDEM_SERVER_DHCP4_PROCESSOR_H
#define TANDEM_SERVER_DHCP4_PROCESSOR_H

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/dhcp_packet.h"
#include "common/log.h"
#include "conf/config.h"
#include "server/failover_port.h"
#include "server/lease_store.h"
#include "server/topology.h"

namespace tandem::server {

class ClientRules;

/// @brief Where a packet came in.
struct Ingress {
    std::string ifname;
    uint32_t ifaddr = 0;  ///< the receiving interface's address (the default server identifier)
    std::vector<std::pair<uint32_t, uint32_t>> ifnets;  ///< the interface's (address, netmask) pairs
    uint32_t srcIp = 0;
    uint16_t mtu = 1500;
};

/// @brief What to do with a received packet.
struct Outcome {
    enum class Kind {
        Drop,         ///< nothing to send
        Send,         ///< send `reply` now
        SendDurable,  ///< send `reply` once the lease file commit that follows has succeeded
        PingFirst,    ///< ping `pingAddress`, then call pingDone() with the same packet
    };
    Kind kind = Kind::Drop;
    common::Packet4 reply;
    uint32_t serverAddr = 0;    ///< source address for the reply
    std::size_t maxSize = common::kDhcpDefaultMaxSize;
    uint32_t pingAddress = 0;
};

/// @brief Told of every lease change, in order; appends it to the lease file.
class LeaseSink {
public:
    virtual ~LeaseSink() = default;
    virtual void leaseChanged(const Lease& lease) = 0;
};

struct ProcessorStats {
    uint64_t received[9] = {};  ///< by DHCP message type 1..8 (0: BOOTP)
    uint64_t sent[9] = {};
    uint64_t noFreeLeases = 0, naks = 0, ignored = 0, pingsAnswered = 0;
};

class Dhcp4Processor {
public:
    Dhcp4Processor(const conf::Config& config, const Topology& topology, LeaseStore& store,
                   const common::Clock& clock, LeaseSink& sink, FailoverPort* failover = nullptr);
    ~Dhcp4Processor();
    Dhcp4Processor(const Dhcp4Processor&) = delete;
    Dhcp4Processor& operator=(const Dhcp4Processor&) = delete;

    /// @brief Handle one decoded packet.
    Outcome process(const common::Packet4& packet, const Ingress& in);
    /// @brief The ping of a PingFirst outcome finished; `answered` when something replied.
    Outcome pingDone(const common::Packet4& packet, const Ingress& in, uint32_t address, bool answered);

    /// @brief Move leases whose time is up (active → free/expired, offers lapse). Returns how many changed.
    std::size_t expire();
    /// @brief The lease file has been read into the store: count lease-limit billings.
    void leasesLoaded();
    /// @brief When expire() next has work, or kNever.
    common::Time nextExpiry() const;

    const ProcessorStats& stats() const { return stats_; }
    /// @brief Whether ping-check applies at all (some scope may turn it on).
    bool pingCheckPossible() const { return pingPossible_; }

private:
    struct Client;
    Outcome discover(const common::Packet4& p, const Ingress& in, Client& c);
    Outcome request(const common::Packet4& p, const Ingress& in, Client& c);
    Outcome release(const common::Packet4& p, const Ingress& in, Client& c);
    Outcome decline(const common::Packet4& p, const Ingress& in, Client& c);
    Outcome inform(const common::Packet4& p, const Ingress& in, Client& c);
    Outcome bootp(const common::Packet4& p, const Ingress& in, Client& c);

    enum class Reply { Offer, Ack, Bootp };
    Outcome ackLease(const common::Packet4& p, const Ingress& in, Client& c, Lease* lease, uint32_t fixed, Reply kind,
                     const std::string& msg);
    Outcome nak(const common::Packet4& p, const Ingress& in, Client& c, uint32_t address, const std::string& msg);

    const SubnetInfo* locate(const common::Packet4& p, const Ingress& in) const;
    Lease* findClientLease(Client& c, const conf::SharedNetwork* net, BindingState* seen = nullptr);
    Lease* allocate(Client& c, const conf::SharedNetwork* net, bool bootp, bool& peerHasLeases);
    bool usable(const Client& c, const Lease& l, bool forClient) const;
    bool permitted(const Client& c, const PoolState& pool) const;
    bool leaseMatchesClient(const Client& c, const LeaseRecord& l) const;
    bool responding(const Lease* l, const std::string& msg);
    void abandon(Lease& l, const std::string& why);
    void changed(Lease& l);
    void unbill(LeaseRecord& r);
    void logUnknownSegment(const std::string& msg);
    uint32_t serverIdFor(const Client& c, const Ingress& in, const ScopeChain& chain) const;
    std::string via(const common::Packet4& p, const Ingress& in) const;
    std::string who(const common::Packet4& p, const Lease* l) const;

    const conf::Config& config_;
    const Topology& topo_;
    LeaseStore& store_;
    const common::Clock& clock_;
    LeaseSink& sink_;
    FailoverPort* failover_;
    std::unique_ptr<ClientRules> rules_;
    ProcessorStats stats_;
    bool pingPossible_ = false;
    /// Addresses that stayed silent to a ping lately: not pinged again for a while.
    std::unordered_map<uint32_t, common::Time> pingedClean_;
    std::vector<Lease*> scratch_;
    common::RateLimiter unknownSegmentLog_{20, 60};
};

}  // namespace tandem::server

#endif
