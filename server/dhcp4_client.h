// Private to the processor's two source files: what is known about the
// client of the packet being handled.
#ifndef TANDEM_SERVER_DHCP4_CLIENT_H
#define TANDEM_SERVER_DHCP4_CLIENT_H

#include <string>
#include <vector>

#include "server/client_rules.h"
#include "server/dhcp4_processor.h"

namespace tandem::server {

/// ISC holds an offered lease for two minutes (dhcpdiscover).
constexpr common::Time kOfferHold = 120;

/// @brief The fixed header of a reply to `request` (RFC 2131 Table 3: op, the
/// hardware fields, xid, flags and giaddr copied; the rest is the reply's own).
inline common::Packet4 replyHeader(const common::Packet4& request) {
    common::Packet4 r;
    r.op = 2;
    r.htype = request.htype;
    r.hlen = request.hlen;
    r.xid = request.xid;
    r.flags = request.flags;
    r.giaddr = request.giaddr;
    r.chaddr = request.chaddr;
    return r;
}

struct Dhcp4Processor::Client {
    common::HwAddr hw;
    std::string uid;  ///< option 61, when sent
    std::vector<const conf::Host*> hosts;
    bool known = false;  ///< some host declaration matches
    ClientRules::Classes classes;
    const SubnetInfo* subnet = nullptr;  ///< where the packet came from
    const conf::SharedNetwork* net = nullptr;
};

}  // namespace tandem::server

#endif
