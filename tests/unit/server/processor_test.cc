// Tests of server/dhcp4_processor (with the lease store, topology and option
// assembler beneath it): RFC 2131 exchanges driven without a network.
#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/diag.h"
#include "common/ipv4.h"
#include "common/log.h"
#include "conf/config_builder.h"
#include "server/dhcp4_processor.h"
#include "server/lease_store.h"
#include "server/topology.h"

using namespace tandem;
using common::Packet4;
using server::Outcome;

namespace {

uint32_t ip(const char* s) { return *common::parseIpv4(s); }

struct Sink : server::LeaseSink {
    std::vector<common::LeaseRecord> changes;
    void leaseChanged(const server::Lease& l) override { changes.push_back(l); }
};

// A server with one config, the way the daemon assembles it.
struct Rig {
    conf::ConfigPtr config;
    server::LeaseStore store;
    server::Topology topo;
    common::ManualClock clock{1795338455};
    Sink sink;
    std::unique_ptr<server::Dhcp4Processor> proc;
    server::Ingress in;
    std::vector<std::string> log;

    explicit Rig(const std::string& text) {
        common::DiagnosticSink diags;
        config = conf::loadConfigText(text, "test.conf", diags);
        if (diags.errorCount()) {
            std::string all;
            for (const auto& d : diags.all()) all += diags.format(d);
            CPPUNIT_FAIL("config did not load: " + all);
        }
        store.build(*config);
        topo.build(*config, store);
        proc = std::make_unique<server::Dhcp4Processor>(*config, topo, store, clock, sink);
        in.ifname = "eth0";
        in.ifaddr = ip("192.0.2.1");
        in.ifnets = {{ip("192.0.2.1"), ip("255.255.255.0")}};
        common::logCapture([this](common::LogLevel, std::string_view m) { log.emplace_back(m); });
    }
    ~Rig() { common::logCapture({}); }

    bool logged(const std::string& part) const {
        for (const auto& l : log)
            if (l.find(part) != std::string::npos) return true;
        return false;
    }
};

Packet4 packet(uint8_t type, uint8_t macLast, uint32_t xid = 1) {
    Packet4 p;
    p.op = 1;
    p.htype = 1;
    p.hlen = 6;
    p.xid = xid;
    uint8_t mac[6] = {0x00, 0x11, 0x22, 0x33, 0x44, macLast};
    std::copy(mac, mac + 6, p.chaddr.begin());
    p.options.push_back({53, {type}});
    p.options.push_back({55, {1, 3, 6, 15, 51, 54}});
    return p;
}

void addAddr(Packet4& p, uint8_t code, uint32_t a) {
    p.options.push_back({code, {uint8_t(a >> 24), uint8_t(a >> 16), uint8_t(a >> 8), uint8_t(a)}});
}

uint32_t optAddr(const Packet4& p, uint8_t code) {
    const auto* o = p.find(code);
    if (!o || o->data.size() != 4) return 0;
    return uint32_t(o->data[0]) << 24 | uint32_t(o->data[1]) << 16 | uint32_t(o->data[2]) << 8 | o->data[3];
}

const char* kBasic = R"(
authoritative;
ping-check false;
default-lease-time 600;
max-lease-time 7200;
option domain-name "example.test";
option domain-name-servers 192.0.2.53;
subnet 192.0.2.0 netmask 255.255.255.0 {
  option routers 192.0.2.1;
  range 192.0.2.10 192.0.2.12;
}
host fixed { hardware ethernet 00:11:22:33:44:99; fixed-address 192.0.2.200; }
)";

}  // namespace

class ProcessorTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ProcessorTest);
    CPPUNIT_TEST(testDiscoverGetsOfferWithOptions);
    CPPUNIT_TEST(testFullExchangeCommitsBeforeAck);
    CPPUNIT_TEST(testRediscoverOffersSameAddress);
    CPPUNIT_TEST(testRenewKeepsAddress);
    CPPUNIT_TEST(testRequestedAddressHonoured);
    CPPUNIT_TEST(testWrongNetworkIsNaked);
    CPPUNIT_TEST(testOtherClientsAddressIsNaked);
    CPPUNIT_TEST(testNotAuthoritativeIgnores);
    CPPUNIT_TEST(testOtherServerIdentifierIgnored);
    CPPUNIT_TEST(testReleaseFreesLease);
    CPPUNIT_TEST(testDeclineAbandons);
    CPPUNIT_TEST(testFixedHostGetsReservedAddress);
    CPPUNIT_TEST(testPoolExhaustionLogsNoFreeLeases);
    CPPUNIT_TEST(testRelayedPacketUsesGiaddrSubnet);
    CPPUNIT_TEST(testUnknownSegmentIgnored);
    CPPUNIT_TEST(testLeaseTimeBoundedByMax);
    CPPUNIT_TEST(testExpiryFreesLease);
    CPPUNIT_TEST(testInformAnswersWithoutLease);
    CPPUNIT_TEST(testPingCheckDefersOffer);
    CPPUNIT_TEST(testPingAnsweredAbandons);
    CPPUNIT_TEST(testUnknownClientsDeniedPool);
    CPPUNIT_TEST(testOfferHoldLapses);
    CPPUNIT_TEST(testClassOptionsApply);
    CPPUNIT_TEST(testConditionalStatementsInScope);
    CPPUNIT_TEST(testMembersOfPermit);
    CPPUNIT_TEST(testLeaseLimitRefusesBeyondLimit);
    CPPUNIT_TEST(testOnCommitSetsLeaseVariable);
    CPPUNIT_TEST(testHostOptionsWin);
    CPPUNIT_TEST_SUITE_END();

public:
    // A DISCOVER is answered with an OFFER from the range, carrying the scope's options.
    void testDiscoverGetsOfferWithOptions() {
        Rig r(kBasic);
        Outcome o = r.proc->process(packet(1, 1), r.in);
        CPPUNIT_ASSERT(o.kind == Outcome::Kind::Send);
        CPPUNIT_ASSERT_EQUAL(uint8_t(2), *o.reply.messageType());
        CPPUNIT_ASSERT(o.reply.yiaddr >= ip("192.0.2.10") && o.reply.yiaddr <= ip("192.0.2.12"));
        CPPUNIT_ASSERT_EQUAL(ip("192.0.2.1"), optAddr(o.reply, 3));
        CPPUNIT_ASSERT_EQUAL(ip("192.0.2.1"), optAddr(o.reply, 54));
        CPPUNIT_ASSERT_EQUAL(ip("255.255.255.0"), optAddr(o.reply, 1));
        CPPUNIT_ASSERT_EQUAL(uint32_t(600), *o.reply.leaseTime());
        CPPUNIT_ASSERT(o.reply.find(15));
        CPPUNIT_ASSERT(r.sink.changes.empty());  // an offer is not written to disk
        CPPUNIT_ASSERT(r.logged("DHCPDISCOVER from 00:11:22:33:44:01 via eth0"));
        CPPUNIT_ASSERT(r.logged("DHCPOFFER on " + common::formatIpv4(o.reply.yiaddr) + " to 00:11:22:33:44:01 via eth0"));
    }

    // DISCOVER, OFFER, REQUEST, ACK: the ACK waits for the commit of an active lease.
    void testFullExchangeCommitsBeforeAck() {
        Rig r(kBasic);
        Outcome offer = r.proc->process(packet(1, 1), r.in);
        Packet4 req = packet(3, 1);
        addAddr(req, 50, offer.reply.yiaddr);
        addAddr(req, 54, ip("192.0.2.1"));
        Outcome ack = r.proc->process(req, r.in);
        CPPUNIT_ASSERT(ack.kind == Outcome::Kind::SendDurable);
        CPPUNIT_ASSERT_EQUAL(uint8_t(5), *ack.reply.messageType());
        CPPUNIT_ASSERT_EQUAL(offer.reply.yiaddr, ack.reply.yiaddr);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), r.sink.changes.size());
        const auto& l = r.sink.changes[0];
        CPPUNIT_ASSERT(l.state == common::BindingState::Active);
        CPPUNIT_ASSERT(l.next == common::BindingState::Free);
        CPPUNIT_ASSERT_EQUAL(r.clock.now() + 600, l.ends);
        CPPUNIT_ASSERT_EQUAL(r.clock.now(), l.cltt);
        CPPUNIT_ASSERT_EQUAL(std::string("00:11:22:33:44:01"), l.hw.str());
        CPPUNIT_ASSERT(r.logged("DHCPACK on " + common::formatIpv4(ack.reply.yiaddr) + " to 00:11:22:33:44:01 via eth0"));
    }

    // A client that discovers again before requesting is offered the same address.
    void testRediscoverOffersSameAddress() {
        Rig r(kBasic);
        uint32_t a = r.proc->process(packet(1, 1), r.in).reply.yiaddr;
        uint32_t b = r.proc->process(packet(1, 2), r.in).reply.yiaddr;
        CPPUNIT_ASSERT(a != b);
        CPPUNIT_ASSERT_EQUAL(a, r.proc->process(packet(1, 1), r.in).reply.yiaddr);
    }

    // RENEWING: ciaddr set, no requested address: the same lease is extended.
    void testRenewKeepsAddress() {
        Rig r(kBasic);
        uint32_t a = r.proc->process(packet(1, 1), r.in).reply.yiaddr;
        Packet4 req = packet(3, 1);
        addAddr(req, 50, a);
        r.proc->process(req, r.in);
        r.clock.advance(300 * 1000);
        Packet4 renew = packet(3, 1, 2);
        renew.ciaddr = a;
        Outcome o = r.proc->process(renew, r.in);
        CPPUNIT_ASSERT(o.kind == Outcome::Kind::SendDurable);
        CPPUNIT_ASSERT_EQUAL(a, o.reply.yiaddr);
        CPPUNIT_ASSERT_EQUAL(r.clock.now() + 600, r.sink.changes.back().ends);
    }

    // A DISCOVER asking for a free address gets it.
    void testRequestedAddressHonoured() {
        Rig r(kBasic);
        Packet4 d = packet(1, 1);
        addAddr(d, 50, ip("192.0.2.12"));
        CPPUNIT_ASSERT_EQUAL(ip("192.0.2.12"), r.proc->process(d, r.in).reply.yiaddr);
    }

    // INIT-REBOOT for an address of another network: an authoritative server NAKs.
    void testWrongNetworkIsNaked() {
        Rig r(kBasic);
        Packet4 req = packet(3, 1);
        addAddr(req, 50, ip("10.9.9.9"));
        Outcome o = r.proc->process(req, r.in);
        CPPUNIT_ASSERT(o.kind == Outcome::Kind::Send);
        CPPUNIT_ASSERT_EQUAL(uint8_t(6), *o.reply.messageType());
        CPPUNIT_ASSERT(r.logged("wrong network."));
        CPPUNIT_ASSERT(r.logged("DHCPNAK on 10.9.9.9 to 00:11:22:33:44:01 via eth0"));
    }

    // INIT-REBOOT for an address bound to another client: NAK ("unavailable").
    void testOtherClientsAddressIsNaked() {
        Rig r(kBasic);
        uint32_t a = r.proc->process(packet(1, 1), r.in).reply.yiaddr;
        Packet4 req = packet(3, 1);
        addAddr(req, 50, a);
        r.proc->process(req, r.in);
        Packet4 other = packet(3, 2);
        addAddr(other, 50, a);
        Outcome o = r.proc->process(other, r.in);
        CPPUNIT_ASSERT_EQUAL(uint8_t(6), *o.reply.messageType());
        CPPUNIT_ASSERT(r.logged("unavailable."));
    }

    // Without `authoritative`, a wrong request is ignored, not NAKed.
    void testNotAuthoritativeIgnores() {
        std::string text = kBasic;
        text.replace(text.find("authoritative;"), 14, "");
        Rig r(text);
        Packet4 req = packet(3, 1);
        addAddr(req, 50, ip("10.9.9.9"));
        CPPUNIT_ASSERT(r.proc->process(req, r.in).kind == Outcome::Kind::Drop);
        CPPUNIT_ASSERT(r.logged("ignored (not authoritative)."));
    }

    // SELECTING a different server's offer: this server stays silent and frees its hold.
    void testOtherServerIdentifierIgnored() {
        Rig r(kBasic);
        uint32_t a = r.proc->process(packet(1, 1), r.in).reply.yiaddr;
        Packet4 req = packet(3, 1);
        addAddr(req, 50, a);
        addAddr(req, 54, ip("192.0.2.250"));
        CPPUNIT_ASSERT(r.proc->process(req, r.in).kind == Outcome::Kind::Drop);
        CPPUNIT_ASSERT(r.store.find(a)->queue == server::LeaseQueue::Free);
    }

    // RELEASE of a bound lease frees it at once (no failover peer).
    void testReleaseFreesLease() {
        Rig r(kBasic);
        uint32_t a = r.proc->process(packet(1, 1), r.in).reply.yiaddr;
        Packet4 req = packet(3, 1);
        addAddr(req, 50, a);
        r.proc->process(req, r.in);
        Packet4 rel = packet(7, 1);
        rel.ciaddr = a;
        r.proc->process(rel, r.in);
        CPPUNIT_ASSERT(r.store.find(a)->state == common::BindingState::Free);
        CPPUNIT_ASSERT(r.sink.changes.back().state == common::BindingState::Free);
        CPPUNIT_ASSERT(r.logged("DHCPRELEASE of " + common::formatIpv4(a) + " from 00:11:22:33:44:01 via eth0 (found)"));
    }

    // DECLINE abandons the address and it is not offered again.
    void testDeclineAbandons() {
        Rig r(kBasic);
        uint32_t a = r.proc->process(packet(1, 1), r.in).reply.yiaddr;
        Packet4 dec = packet(4, 1);
        addAddr(dec, 50, a);
        r.proc->process(dec, r.in);
        CPPUNIT_ASSERT(r.store.find(a)->state == common::BindingState::Abandoned);
        CPPUNIT_ASSERT(r.logged("Abandoning IP address " + common::formatIpv4(a) + ": declined."));
        for (uint8_t m = 2; m < 5; ++m) CPPUNIT_ASSERT(r.proc->process(packet(1, m), r.in).reply.yiaddr != a);
    }

    // A host declaration with fixed-address gets exactly that address, with no lease written.
    void testFixedHostGetsReservedAddress() {
        Rig r(kBasic);
        Outcome o = r.proc->process(packet(1, 0x99), r.in);
        CPPUNIT_ASSERT_EQUAL(ip("192.0.2.200"), o.reply.yiaddr);
        Packet4 req = packet(3, 0x99);
        addAddr(req, 50, ip("192.0.2.200"));
        Outcome ack = r.proc->process(req, r.in);
        CPPUNIT_ASSERT_EQUAL(uint8_t(5), *ack.reply.messageType());
        CPPUNIT_ASSERT(ack.kind == Outcome::Kind::Send);
        CPPUNIT_ASSERT(r.sink.changes.empty());
        CPPUNIT_ASSERT(r.logged("DHCPACK on 192.0.2.200 to 00:11:22:33:44:99 (fixed) via eth0"));
    }

    // With every address held, a new client gets nothing and ISC's log line.
    void testPoolExhaustionLogsNoFreeLeases() {
        Rig r(kBasic);
        for (uint8_t m = 1; m <= 3; ++m) CPPUNIT_ASSERT(r.proc->process(packet(1, m), r.in).kind == Outcome::Kind::Send);
        CPPUNIT_ASSERT(r.proc->process(packet(1, 4), r.in).kind == Outcome::Kind::Drop);
        CPPUNIT_ASSERT(r.logged("DHCPDISCOVER from 00:11:22:33:44:04 via eth0: network 192.0.2.0/24: no free leases"));
    }

    // A relayed DISCOVER is served from the giaddr's subnet, with option 82 echoed.
    void testRelayedPacketUsesGiaddrSubnet() {
        Rig r(std::string(kBasic) + "subnet 198.51.100.0 netmask 255.255.255.0 { range 198.51.100.5 198.51.100.5; }\n");
        Packet4 d = packet(1, 1);
        d.giaddr = ip("198.51.100.1");
        d.options.push_back({82, {1, 3, 'a', 'b', 'c'}});
        Outcome o = r.proc->process(d, r.in);
        CPPUNIT_ASSERT_EQUAL(ip("198.51.100.5"), o.reply.yiaddr);
        CPPUNIT_ASSERT_EQUAL(d.giaddr, o.reply.giaddr);
        CPPUNIT_ASSERT(o.reply.find(82));
        CPPUNIT_ASSERT(o.reply.options.back().code == 82);
        CPPUNIT_ASSERT(r.logged("via 198.51.100.1"));
    }

    // A packet from a link with no subnet declaration is not answered.
    void testUnknownSegmentIgnored() {
        Rig r(kBasic);
        r.in.ifnets = {{ip("203.0.113.1"), ip("255.255.255.0")}};
        CPPUNIT_ASSERT(r.proc->process(packet(1, 1), r.in).kind == Outcome::Kind::Drop);
        CPPUNIT_ASSERT(r.logged("unknown network segment"));
    }

    // A client asking for a long lease gets max-lease-time; a short request is honoured.
    void testLeaseTimeBoundedByMax() {
        Rig r(kBasic);
        Packet4 d = packet(1, 1);
        d.options.push_back({51, {0, 1, 0, 0}});
        CPPUNIT_ASSERT_EQUAL(uint32_t(7200), *r.proc->process(d, r.in).reply.leaseTime());
        Packet4 e = packet(1, 2);
        e.options.push_back({51, {0, 0, 0, 60}});
        CPPUNIT_ASSERT_EQUAL(uint32_t(60), *r.proc->process(e, r.in).reply.leaseTime());
    }

    // An active lease past its end becomes free again and is written.
    void testExpiryFreesLease() {
        Rig r(kBasic);
        uint32_t a = r.proc->process(packet(1, 1), r.in).reply.yiaddr;
        Packet4 req = packet(3, 1);
        addAddr(req, 50, a);
        r.proc->process(req, r.in);
        CPPUNIT_ASSERT_EQUAL(r.clock.now() + 600, r.proc->nextExpiry());
        r.clock.advance(599 * 1000);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), r.proc->expire());
        r.clock.advance(1000);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), r.proc->expire());
        CPPUNIT_ASSERT(r.store.find(a)->state == common::BindingState::Free);
        CPPUNIT_ASSERT(r.sink.changes.back().state == common::BindingState::Free);
    }

    // INFORM gets an ACK with options, no lease time and no yiaddr.
    void testInformAnswersWithoutLease() {
        Rig r(kBasic);
        Packet4 inf = packet(8, 1);
        inf.ciaddr = ip("192.0.2.77");
        Outcome o = r.proc->process(inf, r.in);
        CPPUNIT_ASSERT_EQUAL(uint8_t(5), *o.reply.messageType());
        CPPUNIT_ASSERT_EQUAL(uint32_t(0), o.reply.yiaddr);
        CPPUNIT_ASSERT(!o.reply.find(51));
        CPPUNIT_ASSERT(o.reply.find(3));
        CPPUNIT_ASSERT(r.logged("DHCPINFORM from 192.0.2.77 via eth0"));
    }

    // With ping-check on, the offer waits for the ping; silence lets it go out.
    void testPingCheckDefersOffer() {
        std::string text = kBasic;
        text.replace(text.find("ping-check false;"), 17, "");
        Rig r(text);
        Packet4 d = packet(1, 1);
        Outcome o = r.proc->process(d, r.in);
        CPPUNIT_ASSERT(o.kind == Outcome::Kind::PingFirst);
        // Another client is not given the address being pinged.
        Outcome other = r.proc->process(packet(1, 2), r.in);
        CPPUNIT_ASSERT(other.kind == Outcome::Kind::PingFirst);
        CPPUNIT_ASSERT(other.pingAddress != o.pingAddress);
        Outcome after = r.proc->pingDone(d, r.in, o.pingAddress, false);
        CPPUNIT_ASSERT(after.kind == Outcome::Kind::Send);
        CPPUNIT_ASSERT_EQUAL(o.pingAddress, after.reply.yiaddr);
    }

    // An address that answers the ping is abandoned and the client gets no reply.
    void testPingAnsweredAbandons() {
        std::string text = kBasic;
        text.replace(text.find("ping-check false;"), 17, "");
        Rig r(text);
        Packet4 d = packet(1, 1);
        Outcome o = r.proc->process(d, r.in);
        Outcome after = r.proc->pingDone(d, r.in, o.pingAddress, true);
        CPPUNIT_ASSERT(after.kind == Outcome::Kind::Drop);
        CPPUNIT_ASSERT(r.store.find(o.pingAddress)->state == common::BindingState::Abandoned);
        CPPUNIT_ASSERT(r.logged("pinged before offer"));
    }

    // A pool that denies unknown clients serves only clients with a host declaration.
    void testUnknownClientsDeniedPool() {
        Rig r(R"(
ping-check false;
subnet 192.0.2.0 netmask 255.255.255.0 {
  pool { deny unknown-clients; range 192.0.2.10 192.0.2.10; }
  pool { allow unknown-clients; range 192.0.2.20 192.0.2.20; }
}
host known { hardware ethernet 00:11:22:33:44:07; }
)");
        CPPUNIT_ASSERT_EQUAL(ip("192.0.2.20"), r.proc->process(packet(1, 1), r.in).reply.yiaddr);
        CPPUNIT_ASSERT_EQUAL(ip("192.0.2.10"), r.proc->process(packet(1, 7), r.in).reply.yiaddr);
    }

    // An offer not taken up within two minutes lets the address go to another client.
    void testOfferHoldLapses() {
        Rig r(R"(
ping-check false;
subnet 192.0.2.0 netmask 255.255.255.0 { range 192.0.2.10 192.0.2.10; }
)");
        CPPUNIT_ASSERT_EQUAL(ip("192.0.2.10"), r.proc->process(packet(1, 1), r.in).reply.yiaddr);
        CPPUNIT_ASSERT(r.proc->process(packet(1, 2), r.in).kind == Outcome::Kind::Drop);
        r.clock.advance(121 * 1000);
        r.proc->expire();
        CPPUNIT_ASSERT_EQUAL(ip("192.0.2.10"), r.proc->process(packet(1, 2), r.in).reply.yiaddr);
    }

    // A class's options reach members only, and beat the subnet's.
    void testClassOptionsApply() {
        Rig r(R"(
ping-check false;
option domain-name "plain.test";
class "lab" { match if substring(option vendor-class-identifier, 0, 3) = "lab"; option domain-name "lab.test"; }
subnet 192.0.2.0 netmask 255.255.255.0 { range 192.0.2.10 192.0.2.20; }
)");
        Packet4 member = packet(1, 1);
        member.options.push_back({60, {'l', 'a', 'b', 'x'}});
        Outcome a = r.proc->process(member, r.in);
        Outcome b = r.proc->process(packet(1, 2), r.in);
        auto text = [](const Packet4& p) {
            const auto* o = p.find(15);
            return o ? std::string(o->data.begin(), o->data.end()) : std::string();
        };
        CPPUNIT_ASSERT_EQUAL(std::string("lab.test"), text(a.reply));
        CPPUNIT_ASSERT_EQUAL(std::string("plain.test"), text(b.reply));
    }

    // `if` in a subnet chooses options and parameters per packet.
    void testConditionalStatementsInScope() {
        Rig r(R"(
ping-check false;
subnet 192.0.2.0 netmask 255.255.255.0 {
  range 192.0.2.10 192.0.2.20;
  if option host-name = "printer" { option routers 192.0.2.254; default-lease-time 77; }
  else { option routers 192.0.2.1; }
}
)");
        Packet4 pr = packet(1, 1);
        pr.options.push_back({12, {'p', 'r', 'i', 'n', 't', 'e', 'r'}});
        Outcome a = r.proc->process(pr, r.in);
        CPPUNIT_ASSERT_EQUAL(ip("192.0.2.254"), optAddr(a.reply, 3));
        CPPUNIT_ASSERT_EQUAL(uint32_t(77), *a.reply.leaseTime());
        Outcome b = r.proc->process(packet(1, 2), r.in);
        CPPUNIT_ASSERT_EQUAL(ip("192.0.2.1"), optAddr(b.reply, 3));
        CPPUNIT_ASSERT_EQUAL(uint32_t(43200), *b.reply.leaseTime());
    }

    // `allow members of` admits only the class's members to the pool.
    void testMembersOfPermit() {
        Rig r(R"(
ping-check false;
class "phones" { match if substring(hardware, 1, 3) = 00:11:22; }
subnet 192.0.2.0 netmask 255.255.255.0 {
  pool { allow members of "phones"; range 192.0.2.10 192.0.2.10; }
  pool { deny members of "phones"; range 192.0.2.20 192.0.2.20; }
}
)");
        CPPUNIT_ASSERT_EQUAL(ip("192.0.2.10"), r.proc->process(packet(1, 1), r.in).reply.yiaddr);
        Packet4 other = packet(1, 2);
        other.chaddr[0] = 0xaa;
        CPPUNIT_ASSERT_EQUAL(ip("192.0.2.20"), r.proc->process(other, r.in).reply.yiaddr);
    }

    // A class with `lease limit 1` bills one lease; a second member gets no ACK.
    void testLeaseLimitRefusesBeyondLimit() {
        Rig r(R"(
ping-check false;
class "one" { match if substring(hardware, 1, 3) = 00:11:22; lease limit 1; }
subnet 192.0.2.0 netmask 255.255.255.0 { range 192.0.2.10 192.0.2.20; }
)");
        auto bind = [&](uint8_t m) {
            uint32_t a = r.proc->process(packet(1, m), r.in).reply.yiaddr;
            Packet4 req = packet(3, m);
            addAddr(req, 50, a);
            return r.proc->process(req, r.in);
        };
        Outcome first = bind(1);
        CPPUNIT_ASSERT(first.kind == Outcome::Kind::SendDurable);
        CPPUNIT_ASSERT(r.sink.changes.back().extras && r.sink.changes.back().extras->billingClass == "one");
        CPPUNIT_ASSERT(bind(2).kind == Outcome::Kind::Drop);
        CPPUNIT_ASSERT(r.logged("lease limit reached in all matching classes"));
        // The first client renews: its billing is kept.
        Packet4 renew = packet(3, 1, 9);
        renew.ciaddr = first.reply.yiaddr;
        CPPUNIT_ASSERT(r.proc->process(renew, r.in).kind == Outcome::Kind::SendDurable);
    }

    // `on commit { set ... }` stores a variable with the lease.
    void testOnCommitSetsLeaseVariable() {
        Rig r(R"(
ping-check false;
subnet 192.0.2.0 netmask 255.255.255.0 {
  range 192.0.2.10 192.0.2.20;
  on commit { set seen = "yes"; }
}
)");
        uint32_t a = r.proc->process(packet(1, 1), r.in).reply.yiaddr;
        Packet4 req = packet(3, 1);
        addAddr(req, 50, a);
        r.proc->process(req, r.in);
        const auto& l = r.sink.changes.back();
        CPPUNIT_ASSERT(l.extras);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), l.extras->variables.size());
        CPPUNIT_ASSERT_EQUAL(std::string("seen"), l.extras->variables[0].name);
        CPPUNIT_ASSERT_EQUAL(std::string("yes"), l.extras->variables[0].data);
    }

    // A host's own options win over the subnet's.
    void testHostOptionsWin() {
        Rig r(R"(
ping-check false;
subnet 192.0.2.0 netmask 255.255.255.0 { option routers 192.0.2.1; range 192.0.2.10 192.0.2.20; }
host special { hardware ethernet 00:11:22:33:44:05; option routers 192.0.2.99; }
)");
        CPPUNIT_ASSERT_EQUAL(ip("192.0.2.99"), optAddr(r.proc->process(packet(1, 5), r.in).reply, 3));
        CPPUNIT_ASSERT_EQUAL(ip("192.0.2.1"), optAddr(r.proc->process(packet(1, 6), r.in).reply, 3));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ProcessorTest);
