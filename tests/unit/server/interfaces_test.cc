// Tests of server/interfaces: ISC's choice of interfaces to serve, from a
// synthetic host interface list and a Config read from text, and a look at the
// real discovery on this host.
#include <cppunit/extensions/HelperMacros.h>

#include <net/if_arp.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/diag.h"
#include "conf/config_builder.h"
#include "server/interfaces.h"

using namespace tandem;
using namespace tandem::server;

namespace {

uint32_t ip(const char* text) {
    unsigned a, b, c, d;
    sscanf(text, "%u.%u.%u.%u", &a, &b, &c, &d);
    return a << 24 | b << 16 | c << 8 | d;
}

InterfaceInfo ether(const std::string& name, int index, std::vector<std::pair<const char*, const char*>> addrs) {
    InterfaceInfo i;
    i.name = name;
    i.index = index;
    i.hwType = ARPHRD_ETHER;
    i.mac = {0x02, 0, 0, 0, 0, uint8_t(index)};
    i.macLength = 6;
    i.up = i.broadcast = true;
    for (const auto& [a, m] : addrs) i.addresses.push_back({ip(a), ip(m)});
    return i;
}

InterfaceInfo loopback() {
    InterfaceInfo i;
    i.name = "lo";
    i.index = 1;
    i.hwType = ARPHRD_LOOPBACK;
    i.up = i.loopback = true;
    i.addresses.push_back({ip("127.0.0.1"), ip("255.0.0.0")});
    return i;
}

struct Fixture {
    common::DiagnosticSink sink;
    conf::ConfigPtr config;
    explicit Fixture(const std::string& text) {
        config = conf::loadConfigText(text, "test.conf", sink);
        CPPUNIT_ASSERT_EQUAL_MESSAGE("config errors", std::size_t(0), sink.errorCount());
    }
};

std::vector<std::string> texts(const InterfaceSelection& s) {
    std::vector<std::string> out;
    for (const auto& m : s.messages) out.push_back(m.text);
    return out;
}

bool hasText(const InterfaceSelection& s, const std::string& t) {
    auto all = texts(s);
    return std::find(all.begin(), all.end(), t) != all.end();
}

std::vector<std::string> servedNames(const InterfaceSelection& s) {
    std::vector<std::string> out;
    for (const auto& i : s.served) out.push_back(i.info.name);
    return out;
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
}

const char* kTwoSubnets =
    "subnet 10.200.0.0 netmask 255.255.255.0 { range 10.200.0.100 10.200.0.200; }\n"
    "shared-network campus {\n"
    "  subnet 192.0.2.0 netmask 255.255.255.0 { }\n"
    "  subnet 198.51.100.0 netmask 255.255.255.0 { }\n"
    "}\n";

}  // namespace

class InterfacesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(InterfacesTest);
    CPPUNIT_TEST(testAutomaticPicksBroadcastInterfacesInDeclaredSubnets);
    CPPUNIT_TEST(testLogsIscLinesForInterfaceWithoutSubnet);
    CPPUNIT_TEST(testNamedInterfacesOnly);
    CPPUNIT_TEST(testNamedInterfaceMissingHasNoAddresses);
    CPPUNIT_TEST(testNothingLeftIsFatal);
    CPPUNIT_TEST(testMostSpecificSubnetWins);
    CPPUNIT_TEST(testSharedNetworkNameAndAttachments);
    CPPUNIT_TEST(testTwoSharedNetworksOnOneInterfaceIsFatal);
    CPPUNIT_TEST(testMultipleInterfacesOnOneSubnet);
    CPPUNIT_TEST(testInterfaceStatementActsAsRequest);
    CPPUNIT_TEST(testNamedLoopbackIsUnsupported);
    CPPUNIT_TEST(testDownInterfaceIsSkipped);
    CPPUNIT_TEST(testDescribeMatchesIscLine);
    CPPUNIT_TEST(testDiscoverFindsLoopback);
    CPPUNIT_TEST_SUITE_END();

public:
    // With no names, broadcast interfaces with an address in a subnet are served; lo and
    // point-to-point links are not even considered.
    void testAutomaticPicksBroadcastInterfacesInDeclaredSubnets() {
        Fixture f(kTwoSubnets);
        InterfaceInfo ptp = ether("tun0", 5, {{"10.200.0.9", "255.255.255.255"}});
        ptp.broadcast = false;
        ptp.pointToPoint = true;
        std::vector<InterfaceInfo> host = {loopback(), ether("eth0", 2, {{"10.200.0.1", "255.255.255.0"}}),
                                           ether("eth1", 3, {{"192.0.2.1", "255.255.255.0"}}), ptp};
        InterfaceSelection s = selectInterfaces(host, *f.config, {});
        CPPUNIT_ASSERT_EQUAL(std::string(""), s.error);
        CPPUNIT_ASSERT_EQUAL(std::string("eth0,eth1"), join(servedNames(s)));
        CPPUNIT_ASSERT_EQUAL(std::string("10.200.0.0/24"), s.served[0].networkName);
        CPPUNIT_ASSERT_EQUAL(std::string("campus"), s.served[1].networkName);
        CPPUNIT_ASSERT(s.messages.empty());
    }

    // An interface outside every subnet gets ISC's lines, blank lines included, and is skipped.
    void testLogsIscLinesForInterfaceWithoutSubnet() {
        Fixture f(kTwoSubnets);
        std::vector<InterfaceInfo> host = {ether("eth0", 2, {{"10.200.0.1", "255.255.255.0"}}),
                                           ether("eth9", 9, {{"172.16.5.1", "255.255.0.0"}})};
        InterfaceSelection s = selectInterfaces(host, *f.config, {});
        CPPUNIT_ASSERT(s.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("eth0"), join(servedNames(s)));
        std::vector<std::string> want = {"",
                                         "No subnet declaration for eth9 (172.16.5.1).",
                                         "** Ignoring requests on eth9.  If this is not what",
                                         "   you want, please write a subnet declaration",
                                         "   in your dhcpd.conf file for the network segment",
                                         "   to which interface eth9 is attached. **",
                                         ""};
        CPPUNIT_ASSERT_EQUAL(join(want), join(texts(s)));
        for (const auto& m : s.messages) CPPUNIT_ASSERT(m.level == common::LogLevel::Error);
    }

    // Names on the command line restrict service to those interfaces, in their order.
    void testNamedInterfacesOnly() {
        Fixture f(kTwoSubnets);
        std::vector<InterfaceInfo> host = {ether("eth0", 2, {{"10.200.0.1", "255.255.255.0"}}),
                                           ether("eth1", 3, {{"192.0.2.1", "255.255.255.0"}})};
        InterfaceSelection s = selectInterfaces(host, *f.config, {"eth1"});
        CPPUNIT_ASSERT(s.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("eth1"), join(servedNames(s)));
        CPPUNIT_ASSERT(s.messages.empty());
    }

    // A named interface that does not exist is reported like one without a subnet (ISC 4.4).
    void testNamedInterfaceMissingHasNoAddresses() {
        Fixture f(kTwoSubnets);
        std::vector<InterfaceInfo> host = {ether("eth0", 2, {{"10.200.0.1", "255.255.255.0"}})};
        InterfaceSelection s = selectInterfaces(host, *f.config, {"eth0", "nosuch0"});
        CPPUNIT_ASSERT(s.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("eth0"), join(servedNames(s)));
        CPPUNIT_ASSERT(hasText(s, "No subnet declaration for nosuch0 (no IPv4 addresses)."));
        CPPUNIT_ASSERT(hasText(s, "** Ignoring requests on nosuch0.  If this is not what"));
    }

    // No interface left: ISC's fatal text, after a blank informational line.
    void testNothingLeftIsFatal() {
        Fixture f(kTwoSubnets);
        std::vector<InterfaceInfo> host = {loopback(), ether("eth9", 9, {{"172.16.5.1", "255.255.0.0"}})};
        InterfaceSelection s = selectInterfaces(host, *f.config, {});
        CPPUNIT_ASSERT(!s.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("Not configured to listen on any interfaces!"), s.error);
        CPPUNIT_ASSERT(s.messages.back().level == common::LogLevel::Info);
        CPPUNIT_ASSERT(s.served.empty());
    }

    // An address inside nested subnets belongs to the narrowest one (ISC keeps them narrowest-first).
    void testMostSpecificSubnetWins() {
        Fixture f("subnet 10.0.0.0 netmask 255.0.0.0 { }\n"
                  "shared-network inner { subnet 10.1.2.0 netmask 255.255.255.0 { } }\n");
        std::vector<InterfaceInfo> host = {ether("eth0", 2, {{"10.1.2.3", "255.255.255.0"}})};
        InterfaceSelection s = selectInterfaces(host, *f.config, {});
        CPPUNIT_ASSERT(s.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("inner"), s.served[0].networkName);
        CPPUNIT_ASSERT_EQUAL(ip("255.255.255.0"), s.served[0].attached[0].subnet->netmask);
    }

    // Two aliases in two subnets of one shared network: both attached, each source address right.
    void testSharedNetworkNameAndAttachments() {
        Fixture f(kTwoSubnets);
        std::vector<InterfaceInfo> host = {
            ether("eth1", 3, {{"192.0.2.1", "255.255.255.0"}, {"198.51.100.1", "255.255.255.0"}})};
        InterfaceSelection s = selectInterfaces(host, *f.config, {});
        CPPUNIT_ASSERT(s.ok());
        const ServedInterface& e = s.served[0];
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), e.attached.size());
        CPPUNIT_ASSERT_EQUAL(ip("192.0.2.1"), e.sourceAddressFor(ip("192.0.2.77")));
        CPPUNIT_ASSERT_EQUAL(ip("198.51.100.1"), e.sourceAddressFor(ip("198.51.100.77")));
        // A relay's network or the limited broadcast: the interface's first address.
        CPPUNIT_ASSERT_EQUAL(ip("192.0.2.1"), e.sourceAddressFor(0xffffffff));
        CPPUNIT_ASSERT_EQUAL(ip("192.0.2.1"), e.primaryAddress);
    }

    // One interface with addresses in two shared networks is ISC's fatal error.
    void testTwoSharedNetworksOnOneInterfaceIsFatal() {
        Fixture f(kTwoSubnets);
        std::vector<InterfaceInfo> host = {
            ether("eth0", 2, {{"10.200.0.1", "255.255.255.0"}, {"192.0.2.1", "255.255.255.0"}})};
        InterfaceSelection s = selectInterfaces(host, *f.config, {});
        CPPUNIT_ASSERT_EQUAL(std::string("Interface eth0 matches multiple shared networks"), s.error);
    }

    // Two interfaces on one subnet: both served, with ISC's two complaints.
    void testMultipleInterfacesOnOneSubnet() {
        Fixture f(kTwoSubnets);
        std::vector<InterfaceInfo> host = {ether("eth0", 2, {{"10.200.0.1", "255.255.255.0"}}),
                                           ether("br0", 4, {{"10.200.0.2", "255.255.255.0"}})};
        InterfaceSelection s = selectInterfaces(host, *f.config, {});
        CPPUNIT_ASSERT(s.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("eth0,br0"), join(servedNames(s)));
        CPPUNIT_ASSERT(hasText(s, "Multiple interfaces match the same subnet: eth0 br0"));
        CPPUNIT_ASSERT(hasText(s, "Multiple interfaces match the same shared network: eth0 br0"));
        CPPUNIT_ASSERT(s.served[1].attached.empty());
        CPPUNIT_ASSERT_EQUAL(ip("10.200.0.2"), s.served[1].sourceAddressFor(ip("10.200.0.50")));
    }

    // `interface eth2;` in a shared network serves eth2 there without a matching address,
    // and, being a request, turns automatic discovery off.
    void testInterfaceStatementActsAsRequest() {
        Fixture f("subnet 10.200.0.0 netmask 255.255.255.0 { }\n"
                  "shared-network wire { interface eth2; subnet 203.0.113.0 netmask 255.255.255.0 { } }\n");
        std::vector<InterfaceInfo> host = {ether("eth0", 2, {{"10.200.0.1", "255.255.255.0"}}),
                                           ether("eth2", 6, {{"172.16.0.1", "255.255.0.0"}})};
        InterfaceSelection s = selectInterfaces(host, *f.config, {});
        CPPUNIT_ASSERT(s.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("eth2"), join(servedNames(s)));
        CPPUNIT_ASSERT_EQUAL(std::string("wire"), s.served[0].networkName);
    }

    // Naming lo with a subnet for it fails as ISC's LPF does: not an Ethernet device.
    void testNamedLoopbackIsUnsupported() {
        Fixture f("subnet 127.0.0.0 netmask 255.0.0.0 { }\n");
        InterfaceSelection s = selectInterfaces({loopback()}, *f.config, {"lo"});
        CPPUNIT_ASSERT_EQUAL(std::string("Unsupported device type 772 for \"lo\""), s.error);
    }

    // A down interface is not served automatically, and a named one has no addresses.
    void testDownInterfaceIsSkipped() {
        Fixture f(kTwoSubnets);
        InterfaceInfo down = ether("eth0", 2, {{"10.200.0.1", "255.255.255.0"}});
        down.up = false;
        std::vector<InterfaceInfo> host = {down, ether("eth1", 3, {{"192.0.2.1", "255.255.255.0"}})};
        CPPUNIT_ASSERT_EQUAL(std::string("eth1"), join(servedNames(selectInterfaces(host, *f.config, {}))));
        InterfaceSelection s = selectInterfaces(host, *f.config, {"eth0"});
        CPPUNIT_ASSERT(hasText(s, "No subnet declaration for eth0 (no IPv4 addresses)."));
        CPPUNIT_ASSERT_EQUAL(std::string("Not configured to listen on any interfaces!"), s.error);
    }

    // The "Listening on" text is LPF/NAME/MAC/NETWORK as ISC prints it.
    void testDescribeMatchesIscLine() {
        Fixture f(kTwoSubnets);
        InterfaceInfo e = ether("eth0", 2, {{"10.200.0.1", "255.255.255.0"}});
        e.mac = {0x02, 0xfc, 0x00, 0x00, 0x0a, 0xBC};
        InterfaceSelection s = selectInterfaces({e}, *f.config, {});
        CPPUNIT_ASSERT_EQUAL(std::string("LPF/eth0/02:fc:00:00:0a:bc/10.200.0.0/24"), s.served[0].describe());
    }

    // Discovery on this host finds lo, flagged loopback, with 127.0.0.1 and an ifindex.
    void testDiscoverFindsLoopback() {
        std::string error;
        auto list = discoverInterfaces(error);
        CPPUNIT_ASSERT_MESSAGE(error, list.has_value());
        auto lo = std::find_if(list->begin(), list->end(), [](const InterfaceInfo& i) { return i.name == "lo"; });
        CPPUNIT_ASSERT(lo != list->end());
        CPPUNIT_ASSERT(lo->loopback);
        CPPUNIT_ASSERT(lo->index > 0);
        CPPUNIT_ASSERT(lo->mtu > 0);
        CPPUNIT_ASSERT_EQUAL(uint16_t(ARPHRD_LOOPBACK), lo->hwType);
        bool has127 = false;
        for (const auto& a : lo->addresses) has127 |= a.address == ip("127.0.0.1") && a.netmask == ip("255.0.0.0");
        CPPUNIT_ASSERT(has127);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(InterfacesTest);
