// The `tandemd -t -v` dump of a model, compared with text written by hand.
#include <cppunit/extensions/HelperMacros.h>

#include <sstream>

#include "conf/dump.h"
#include "test_util.h"

using namespace tandem;

class DumpTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DumpTest);
    CPPUNIT_TEST(testSecondaryWithPoolAndHost);
    CPPUNIT_TEST(testClassesGroupsAndSharedNetwork);
    CPPUNIT_TEST(testMetricsListenShown);
    CPPUNIT_TEST_SUITE_END();

    static std::string dump(const std::string& text) {
        auto p = test::parse(text);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        std::ostringstream os;
        conf::dumpConfig(*p->config, os);
        return os.str();
    }

public:
    // A secondary's peer block with defaults filled in, a failover pool and a host.
    void testSecondaryWithPoolAndHost() {
        std::string got = dump(
            "default-lease-time 600;\n"
            "option domain-name-servers 10.0.0.53, 10.0.0.54;\n"
            "failover peer \"pair\" {\n  secondary;\n  address 10.0.0.2;\n  peer address 10.0.0.1;\n"
            "  peer port 647;\n  max-response-delay 30;\n}\n"
            "subnet 10.0.1.0 netmask 255.255.255.0 {\n  option routers 10.0.1.1;\n  pool {\n"
            "    failover peer \"pair\";\n    range 10.0.1.10 10.0.1.99;\n    deny unknown-clients;\n  }\n}\n"
            "host printer {\n  hardware ethernet 00:11:22:33:44:55;\n  fixed-address 10.0.1.5;\n"
            "  option host-name \"printer\";\n}\n");
        const char* want =
            "global\n"
            "  param default-lease-time 600\n"
            "  option dhcp.domain-name-servers (6) 10.0.0.53, 10.0.0.54\n"
            "failover-peer pair secondary\n"
            "  address 10.0.0.2 port 647\n"
            "  peer-address 10.0.0.1 port 647\n"
            "  max-response-delay 30 max-unacked-updates 100\n"
            "  load-balance-max-seconds 0 auto-partner-down 0\n"
            "  balance misbalance 15 ownership 10 min 60 max 3600\n"
            "subnet 10.0.1.0 netmask 255.255.255.0\n"
            "  option dhcp.routers (3) 10.0.1.1\n"
            "pool failover pair\n"
            "  range 10.0.1.10 10.0.1.99\n"
            "  deny unknown-clients\n"
            "host printer\n"
            "  hardware 1 00:11:22:33:44:55\n"
            "  fixed-address 10.0.1.5\n"
            "  option dhcp.host-name (12) \"printer\"\n";
        CPPUNIT_ASSERT_EQUAL(std::string(want), got);
    }

    // Classes with subclasses, a named group, and a shared-network with two subnets.
    void testClassesGroupsAndSharedNetwork() {
        std::string got = dump(
            "class \"vendor\" {\n  match substring(option vendor-class-identifier, 0, 4);\n  lease limit 20;\n}\n"
            "subclass \"vendor\" \"MSFT\" {\n  option domain-name \"ms.test\";\n}\n"
            "group office {\n  max-lease-time 7200;\n  use-host-decl-names on;\n}\n"
            "shared-network floor1 {\n  authoritative;\n"
            "  subnet 10.1.0.0 netmask 255.255.255.0 { option routers 10.1.0.1; }\n"
            "  subnet 10.2.0.0 netmask 255.255.0.0 { }\n"
            "  pool {\n    allow members of \"vendor\";\n    range 10.2.0.10 10.2.0.20;\n  }\n}\n");
        const char* want =
            "global\n"
            "group office\n"
            "  param max-lease-time 7200\n"
            "  param use-host-decl-names true\n"
            "shared-network floor1\n"
            "  param authoritative true\n"
            "  subnet 10.1.0.0 netmask 255.255.255.0\n"
            "    option dhcp.routers (3) 10.1.0.1\n"
            "  subnet 10.2.0.0 netmask 255.255.0.0\n"
            "  pool\n"
            "    range 10.2.0.10 10.2.0.20\n"
            "    allow members of vendor\n"
            "class vendor\n"
            "  match <expression>\n"
            "  lease-limit 20\n"
            "  subclass \"MSFT\"\n"
            "    option dhcp.domain-name (15) \"ms.test\"\n";
        CPPUNIT_ASSERT_EQUAL(std::string(want), got);
    }

    // metrics-listen shows after the global scope, with the port it defaults to.
    void testMetricsListenShown() {
        CPPUNIT_ASSERT_EQUAL(std::string("global\n  param default-lease-time 600\nmetrics-listen 127.0.0.1 port 9167\n"),
                             dump("metrics-listen 127.0.0.1;\ndefault-lease-time 600;\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("global\nmetrics-listen 10.0.0.1 port 9100\n"),
                             dump("metrics-listen 10.0.0.1 port 9100;\n"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DumpTest);
