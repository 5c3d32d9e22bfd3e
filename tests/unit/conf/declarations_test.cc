// Declarations and parameters: each kind builds its model object, and each
// misplaced or malformed one is reported at its line with ISC's meaning.
#include <cppunit/extensions/HelperMacros.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "test_util.h"

using namespace tandem;

class DeclarationsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DeclarationsTest);
    CPPUNIT_TEST(testSubnetWithRangeMakesImplicitPool);
    CPPUNIT_TEST(testSharedNetworkGroupsSubnetsAndPools);
    CPPUNIT_TEST(testPoolPermits);
    CPPUNIT_TEST(testHostByHardwareAndClientId);
    CPPUNIT_TEST(testHostFixedAddressMayBeAHostname);
    CPPUNIT_TEST(testGroupScopesInherit);
    CPPUNIT_TEST(testClassAndSubclass);
    CPPUNIT_TEST(testParametersAreTyped);
    CPPUNIT_TEST(testNotAuthoritative);
    CPPUNIT_TEST(testRangeOutsideSubnetIsAnError);
    CPPUNIT_TEST(testRangeNotAllowedAtTopLevel);
    CPPUNIT_TEST(testPoolOutsideNetworkIsAnError);
    CPPUNIT_TEST(testSubnetHostBitsSet);
    CPPUNIT_TEST(testSubnetWithoutNetmask);
    CPPUNIT_TEST(testHostInHostIsAnError);
    CPPUNIT_TEST(testHardwareOutsideHostIsAnError);
    CPPUNIT_TEST(testSharedNetworkChecks);
    CPPUNIT_TEST(testTwoInterfaces);
    CPPUNIT_TEST(testUnknownParameter);
    CPPUNIT_TEST(testStraySemicolonAfterBlock);
    CPPUNIT_TEST(testKeyMayTakeSemicolon);
    CPPUNIT_TEST(testServerDuidForms);
    CPPUNIT_TEST(testOmapiKeyMustBeDeclared);
    CPPUNIT_TEST(testUnsupportedFeaturesWarn);
    CPPUNIT_TEST(testErrorsAreAllReportedUpToCap);
    CPPUNIT_TEST(testIpv6DeclarationsRefused);
    CPPUNIT_TEST(testMetricsListen);
    CPPUNIT_TEST(testMetricsListenOnlyAtTopLevel);
    CPPUNIT_TEST(testMetricsListenMalformed);
    CPPUNIT_TEST(testMetricsListenOnlyInTheMainFile);
    CPPUNIT_TEST_SUITE_END();

public:
    // Ranges written directly in a subnet go into one implicit pool.
    void testSubnetWithRangeMakesImplicitPool() {
        auto p = test::parse("subnet 10.1.0.0 netmask 255.255.255.0 {\n range 10.1.0.10 10.1.0.20;\n"
                             " range 10.1.0.30;\n option routers 10.1.0.1;\n}\n");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        const auto& c = *p->config;
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), c.networks.size());
        CPPUNIT_ASSERT(c.networks[0].implicit);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), c.networks[0].subnets.size());
        CPPUNIT_ASSERT_EQUAL(0x0a010000u, c.networks[0].subnets[0].number);
        CPPUNIT_ASSERT_EQUAL(0xffffff00u, c.networks[0].subnets[0].netmask);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), c.networks[0].pools.size());
        CPPUNIT_ASSERT(c.networks[0].pools[0].implicit);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), c.networks[0].pools[0].ranges.size());
        CPPUNIT_ASSERT_EQUAL(0x0a01001eu, c.networks[0].pools[0].ranges[1].low);
        CPPUNIT_ASSERT_EQUAL(0x0a01001eu, c.networks[0].pools[0].ranges[1].high);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), c.networks[0].subnets[0].scope->options.size());
        CPPUNIT_ASSERT_EQUAL(1u, c.networks[0].subnets[0].where.line);
        CPPUNIT_ASSERT_EQUAL(2u, c.networks[0].pools[0].ranges[0].where.line);
    }

    // A shared-network holds its subnets and the pools written in it.
    void testSharedNetworkGroupsSubnetsAndPools() {
        auto p = test::parse("shared-network \"lan\" {\n subnet 10.1.0.0 netmask 255.255.255.0 { }\n"
                             " subnet 10.2.0.0 netmask 255.255.255.0 { }\n pool { range 10.2.0.5 10.2.0.9; }\n}\n");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        const auto& n = p->config->networks.at(0);
        CPPUNIT_ASSERT_EQUAL(std::string("lan"), n.name);
        CPPUNIT_ASSERT(!n.implicit);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), n.subnets.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), n.pools.size());
        CPPUNIT_ASSERT_EQUAL(4u, n.pools[0].where.line);
    }

    // allow/deny in a pool become its permit list, with class references checked.
    void testPoolPermits() {
        auto p = test::parse("class \"voip\" { match if substring(option vendor-class-identifier, 0, 4) = \"SIP-\"; }\n"
                             "subnet 10.1.0.0 netmask 255.255.255.0 {\n pool {\n  range 10.1.0.10 10.1.0.20;\n"
                             "  allow members of \"voip\";\n  deny unknown-clients;\n  allow known clients;\n"
                             "  deny dynamic bootp clients;\n  allow after 4 2030/01/01 00:00:00;\n }\n}\n");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        const auto& permits = p->config->networks.at(0).pools.at(0).permits;
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), permits.size());
        CPPUNIT_ASSERT(permits[0].kind == conf::Permit::Kind::MembersOf && permits[0].allow);
        CPPUNIT_ASSERT_EQUAL(std::string("voip"), permits[0].className);
        CPPUNIT_ASSERT(permits[1].kind == conf::Permit::Kind::UnknownClients && !permits[1].allow);
        CPPUNIT_ASSERT(permits[2].kind == conf::Permit::Kind::KnownClients);
        CPPUNIT_ASSERT(permits[3].kind == conf::Permit::Kind::DynamicBootpClients);
        CPPUNIT_ASSERT_EQUAL(int64_t(1893456000), permits[4].after);
        TANDEM_ASSERT_REJECTS("subnet 10.1.0.0 netmask 255.255.255.0 {\n pool {\n  allow members of \"nope\";\n }\n}\n",
                              3, "no class named nope");
        TANDEM_ASSERT_REJECTS("subnet 10.1.0.0 netmask 255.255.255.0 {\n pool {\n  allow everybody;\n }\n}\n", 3,
                              "expecting permit type");
    }

    // Hosts are identified by hardware address or client identifier.
    void testHostByHardwareAndClientId() {
        auto p = test::parse("host a {\n hardware ethernet 00:0B:FD:32:E6:FA;\n fixed-address 10.1.0.5;\n}\n"
                             "host b { option dhcp-client-identifier 01:02:03; }\n");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        const auto& h = p->config->hosts;
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), h.size());
        CPPUNIT_ASSERT_EQUAL(uint8_t(1), *h[0].htype);
        CPPUNIT_ASSERT_EQUAL(std::size_t(6), h[0].hwaddr.size());
        CPPUNIT_ASSERT_EQUAL(uint8_t(0xfa), h[0].hwaddr[5]);
        CPPUNIT_ASSERT_EQUAL(0x0a010005u, h[0].fixedAddresses.at(0).addr);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), h[1].clientId.size());
        TANDEM_ASSERT_REJECTS("host a {\n hardware wifi 00:01;\n}\n", 2, "hardware type");
        TANDEM_ASSERT_REJECTS("host a {\n hardware ethernet zz:01;\n}\n", 2, "hardware address");
    }

    // A hostname as fixed address is kept for later, not resolved while checking.
    void testHostFixedAddressMayBeAHostname() {
        auto p = test::parse("host a { hardware ethernet 0:1:2:3:4:5; fixed-address www.example.com, 10.0.0.1; }\n");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        const auto& fa = p->config->hosts.at(0).fixedAddresses;
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), fa.size());
        CPPUNIT_ASSERT_EQUAL(std::string("www.example.com"), fa[0].hostname);
        CPPUNIT_ASSERT(!fa[1].isName());
    }

    // Parameters set in a group are seen from the subnets inside it.
    void testGroupScopesInherit() {
        auto p = test::parse("default-lease-time 100;\ngroup {\n default-lease-time 200;\n"
                             " subnet 10.1.0.0 netmask 255.255.0.0 { max-lease-time 300; }\n}\n");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        const auto& sn = p->config->networks.at(0).subnets.at(0);
        const conf::Parameter* dlt = sn.scope->findParam("default-lease-time");
        CPPUNIT_ASSERT(dlt);
        CPPUNIT_ASSERT_EQUAL(3u, dlt->where.line);
        CPPUNIT_ASSERT(sn.scope->findParam("max-lease-time"));
        CPPUNIT_ASSERT(!p->config->global->findParam("max-lease-time"));
    }

    // A class keeps its match expressions; subclasses attach to their class.
    void testClassAndSubclass() {
        auto p = test::parse("class \"c\" {\n match hardware;\n lease limit 4;\n}\n"
                             "subclass \"c\" 1:00:11:22:33:44:55;\nsubclass \"c\" \"text\" { default-lease-time 60; }\n");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        const auto& c = p->config->classes.at(0);
        CPPUNIT_ASSERT(c.match);
        CPPUNIT_ASSERT_EQUAL(4u, *c.leaseLimit);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), c.subclasses.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(7), c.subclasses[0].data.size());
        CPPUNIT_ASSERT(c.subclasses[1].scope);
        TANDEM_ASSERT_REJECTS("subclass \"nope\" \"x\";\n", 1, "no class named nope");
        TANDEM_ASSERT_REJECTS("class \"c\" { match hardware; }\nsubclass \"c\" true;\n", 2, "string or hex list");
        TANDEM_ASSERT_REJECTS("class \"c\" {\n class \"d\" { }\n}\n", 2, "class declarations not allowed here");
    }

    // Server parameters are checked against ISC's server option space.
    void testParametersAreTyped() {
        TANDEM_ASSERT_ACCEPTS("default-lease-time 600; max-lease-time infinite; ping-check false;\n"
                              "ddns-update-style none; filename \"pxelinux.0\"; next-server 10.0.0.1;\n"
                              "log-facility local7; lease-file-name \"/tmp/x\"; pid-file-name = \"/tmp/pid\";\n"
                              "server-identifier 10.0.0.1; min-lease-time 60; one-lease-per-client true;\n");
        TANDEM_ASSERT_REJECTS("\ndefault-lease-time \"long\";\n", 2, "default-lease-time");
        TANDEM_ASSERT_REJECTS("ping-check maybe;\n", 1, "ping-check");
    }

    // `not authoritative;` is the explicit form of the default.
    void testNotAuthoritative() {
        auto p = test::parse("authoritative;\nsubnet 10.0.0.0 netmask 255.0.0.0 { not authoritative; }\n");
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), p->errors());
        CPPUNIT_ASSERT_EQUAL(uint8_t(1), p->config->global->findParam("authoritative")->value.wire.at(0));
        CPPUNIT_ASSERT_EQUAL(uint8_t(0),
                             p->config->networks.at(0).subnets.at(0).scope->findParam("authoritative")->value.wire.at(0));
        TANDEM_ASSERT_REJECTS("not fast;\n", 1, "authoritative");
    }

    // A range must lie inside its subnet.
    void testRangeOutsideSubnetIsAnError() {
        TANDEM_ASSERT_REJECTS("subnet 10.1.0.0 netmask 255.255.255.0 {\n\n range 10.1.0.10 10.1.1.20;\n}\n", 3,
                              "not inside subnet");
        TANDEM_ASSERT_REJECTS("subnet 10.1.0.0 netmask 255.255.255.0 {\n range 10.1.0.x;\n}\n", 2, "IPv4 address");
    }

    // range belongs in a subnet or a pool.
    void testRangeNotAllowedAtTopLevel() {
        TANDEM_ASSERT_REJECTS("\nrange 10.0.0.1 10.0.0.2;\n", 2, "range declaration not allowed here");
        TANDEM_ASSERT_REJECTS("shared-network x {\n range 10.0.0.1 10.0.0.2;\n subnet 10.0.0.0 netmask 255.0.0.0 {}\n}\n",
                              2, "range declaration not allowed here");
    }

    // A pool needs a network around it.
    void testPoolOutsideNetworkIsAnError() {
        TANDEM_ASSERT_REJECTS("pool {\n range 10.0.0.1 10.0.0.2;\n}\n", 1, "pool declared outside of network");
        TANDEM_ASSERT_REJECTS("subnet 10.0.0.0 netmask 255.0.0.0 {\n pool {\n  pool { }\n }\n}\n", 3,
                              "pool declared within pool");
    }

    // The subnet number may not have host bits set.
    void testSubnetHostBitsSet() {
        TANDEM_ASSERT_REJECTS("subnet 10.0.0.1 netmask 255.255.255.0 { }\n", 1, "bad subnet number/mask");
        TANDEM_ASSERT_ACCEPTS("subnet 10.5.5.0 netmask 255.255.255.96 { }\n");
    }

    // `subnet A/N` is not ISC syntax: the netmask keyword is required.
    void testSubnetWithoutNetmask() {
        TANDEM_ASSERT_REJECTS("subnet 10.5.5.0/27 { }\n", 1, "Expecting netmask");
        TANDEM_ASSERT_REJECTS("subnet 10.5.5.0 netmask 255.255.300.0 { }\n", 1, "netmask");
    }

    // Hosts cannot be nested in hosts or classes.
    void testHostInHostIsAnError() {
        TANDEM_ASSERT_REJECTS("host a {\n host b { }\n}\n", 2, "host declarations not allowed here");
        TANDEM_ASSERT_REJECTS("class \"c\" {\n host b { }\n}\n", 2, "host declarations not allowed here");
        TANDEM_ASSERT_REJECTS("class \"c\" {\n group { }\n}\n", 2, "group declarations not allowed here");
        TANDEM_ASSERT_REJECTS("host a {\n subnet 10.0.0.0 netmask 255.0.0.0 { }\n}\n", 2,
                              "subnet declarations not allowed here");
    }

    // hardware and fixed-address belong in a host.
    void testHardwareOutsideHostIsAnError() {
        TANDEM_ASSERT_REJECTS("\nhardware ethernet 0:1:2:3:4:5;\n", 2, "hardware address parameter not allowed here");
        TANDEM_ASSERT_REJECTS("fixed-address 10.0.0.1;\n", 1, "fixed-address parameter not allowed here");
    }

    // Shared-network names and contents are checked.
    void testSharedNetworkChecks() {
        TANDEM_ASSERT_REJECTS("shared-network \"\" {\n}\n", 1, "zero-length shared network name");
        TANDEM_ASSERT_REJECTS("shared-network {\n}\n", 1, "expecting a name for shared-network");
        TANDEM_ASSERT_REJECTS("shared-network x {\n\n}\n", 3, "empty shared-network decl");
        TANDEM_ASSERT_REJECTS("shared-network x {\n shared-network y { }\n}\n", 2,
                              "shared-network parameters not allowed here");
    }

    // A subnet or shared-network is tied to one interface at most.
    void testTwoInterfaces() {
        TANDEM_ASSERT_REJECTS("subnet 10.0.0.0 netmask 255.0.0.0 {\n interface \"a\";\n interface \"b\";\n}\n", 3,
                              "two interfaces");
        TANDEM_ASSERT_REJECTS("group {\n interface \"a\";\n}\n", 1, "interface");
    }

    // An unknown word at the head of a statement is an error at that word.
    void testUnknownParameter() {
        TANDEM_ASSERT_REJECTS("\n  frobnicate 1;\n", 2, "frobnicate");
    }

    // A ';' after a block is refused, as ISC refuses it.
    void testStraySemicolonAfterBlock() {
        TANDEM_ASSERT_REJECTS("subnet 10.0.0.0 netmask 255.0.0.0 {\n};\n", 2, "';'");
    }

    // key blocks may end with "};", and their contents are read.
    void testKeyMayTakeSemicolon() {
        auto p = test::parse("key k {\n algorithm hmac-md5;\n secret \"c2VjcmV0\";\n};\n");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        CPPUNIT_ASSERT_EQUAL(std::string("hmac-md5"), p->config->keys.at(0).algorithm);
    }

    // server-duid takes ISC's LLT, EN, LL and numeric forms.
    void testServerDuidForms() {
        TANDEM_ASSERT_ACCEPTS("server-duid llt;\nserver-duid llt ethernet 213982198 00:16:6F:49:7D:9B;\n"
                              "server-duid en 2495 \"id\";\nserver-duid ll ethernet 0:1:2:3:4:5;\nserver-duid 9 \"x\";\n");
        TANDEM_ASSERT_REJECTS("server-duid \"x\";\n", 1, "DUID type of LLT, EN, or LL expected");
        TANDEM_ASSERT_REJECTS("server-duid en 2495;\n", 1, "identifier expected");
        TANDEM_ASSERT_REJECTS("server-duid en \"x\";\n", 1, "enterprise number expected");
        TANDEM_ASSERT_REJECTS("server-duid ll foobar 0:1;\n", 1, "hardware type expected");
        TANDEM_ASSERT_REJECTS("server-duid llt fddi 0:1:2;\n", 1, "timestamp expected");
        TANDEM_ASSERT_REJECTS("server-duid ll fddi;\n", 1, "expecting hexadecimal number");
    }

    // omapi-key names a key declared somewhere in the file.
    void testOmapiKeyMustBeDeclared() {
        TANDEM_ASSERT_REJECTS("\nomapi-key my.key;\n", 2, "OMAPI key my.key: not found");
        auto p = test::parse("key k { algorithm hmac-md5; secret \"eA==\"; }\nomapi-key k;\n");
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), p->errors());
    }

    // What is parsed but not acted on is listed and warned about, with its place.
    void testUnsupportedFeaturesWarn() {
        auto p = test::parse("on commit {\n execute(\"/bin/true\");\n}\nddns-update-style standard;\n");
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), p->errors());
        // execute runs (server/client_rules.cc); DDNS does not.
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), p->config->unsupported.size());
        CPPUNIT_ASSERT(p->sink.warningCount() >= 1);
        CPPUNIT_ASSERT_EQUAL(4u, p->config->unsupported[0].where.line);
        auto quiet = test::parse("ddns-update-style none;\n");
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), quiet->config->unsupported.size());
    }

    // Every error is reported, not just the first, up to the cap.
    void testErrorsAreAllReportedUpToCap() {
        auto p = test::parse("a 1;\nb 2;\nc 3;\n");
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), p->errors());
        std::string many;
        for (int i = 0; i < 100; ++i) many += "bogus" + std::to_string(i) + " 1;\n";
        auto q = test::parse(many);
        CPPUNIT_ASSERT_EQUAL(common::DiagnosticSink::kDefaultErrorCap, q->errors());
        CPPUNIT_ASSERT(q->allText().find("too many errors") != std::string::npos);
    }

    // DHCPv6 declarations are refused with a reason.
    void testIpv6DeclarationsRefused() {
        TANDEM_ASSERT_REJECTS("range6 2001::/64;\n", 1, "DHCPv4 only");
        TANDEM_ASSERT_REJECTS("subnet6 2001::/64 { }\n", 1, "DHCPv4 only");
    }

    // metrics-listen (Tandem only) is off unless written; the port defaults to 9167.
    void testMetricsListen() {
        auto none = test::parse("authoritative;\n");
        CPPUNIT_ASSERT(!none->config->metricsListen);
        auto p = test::parse("authoritative;\n  metrics-listen 127.0.0.1 port 9100;\n");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        CPPUNIT_ASSERT(p->config->metricsListen);
        CPPUNIT_ASSERT_EQUAL(0x7f000001u, p->config->metricsListen->address);
        CPPUNIT_ASSERT_EQUAL(uint16_t(9100), p->config->metricsListen->port);
        CPPUNIT_ASSERT_EQUAL(std::string("test.conf:2:3"), p->config->metricsListen->where.str());
        auto d = test::parse("METRICS-LISTEN 0.0.0.0;\n");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(d->allText(), std::size_t(0), d->errors());
        CPPUNIT_ASSERT_EQUAL(0u, d->config->metricsListen->address);
        CPPUNIT_ASSERT_EQUAL(uint16_t(9167), d->config->metricsListen->port);
    }

    // Anywhere but the top level is an error at the statement's line and column.
    void testMetricsListenOnlyAtTopLevel() {
        const char* const bodies[] = {
            "subnet 10.0.0.0 netmask 255.0.0.0 {\n  metrics-listen 127.0.0.1;\n}\n",
            "shared-network n {\n  metrics-listen 127.0.0.1;\n}\n",
            "group {\n  metrics-listen 127.0.0.1;\n}\n",
            "host h {\n  metrics-listen 127.0.0.1;\n}\n",
            "class \"c\" {\n  metrics-listen 127.0.0.1;\n}\n",
            "if option host-name = \"x\" {\n  metrics-listen 127.0.0.1;\n}\n",
            "failover peer \"p\" {\n  metrics-listen 127.0.0.1;\n}\n",
        };
        for (const char* text : bodies) {
            auto p = test::parse(text);
            std::string e = p->firstError();
            CPPUNIT_ASSERT_MESSAGE(std::string(text) + " was accepted", p->errors() > 0);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(text, std::string("2:3"), e.substr(0, 3));
            CPPUNIT_ASSERT_MESSAGE(text, !p->config->metricsListen);
        }
        TANDEM_ASSERT_REJECTS("subnet 10.0.0.0 netmask 255.0.0.0 {\n  metrics-listen 127.0.0.1;\n}\n", 2,
                              "metrics-listen is allowed only at the top level, not in a subnet");
    }

    // A name, a bad port, port 0, stray words and a second statement are errors at the offending atom.
    void testMetricsListenMalformed() {
        auto at = [](const char* text) { return test::parse(text)->firstError(); };
        CPPUNIT_ASSERT_EQUAL(std::string("1:1: expecting an IPv4 address after metrics-listen"), at("metrics-listen;\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("1:16: metrics-listen needs an IPv4 address, not metrics.example"),
                             at("metrics-listen metrics.example port 9167;\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("1:16: metrics-listen needs an IPv4 address, not \"127.0.0.1\""),
                             at("metrics-listen \"127.0.0.1\";\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("1:16: metrics-listen needs an IPv4 address, not 127.0.0.256"),
                             at("metrics-listen 127.0.0.256;\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("1:26: unexpected 9167 after the address; expecting `port` or ';'"),
                             at("metrics-listen 127.0.0.1 9167;\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("1:26: expecting a port number after metrics-listen"),
                             at("metrics-listen 127.0.0.1 port;\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("1:31: 65536 is out of range for a port number (at most 65535)"),
                             at("metrics-listen 127.0.0.1 port 65536;\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("1:31: metrics-listen port 0 is not a port (1 to 65535)"),
                             at("metrics-listen 127.0.0.1 port 0;\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("1:31: expecting a port number, not http"),
                             at("metrics-listen 127.0.0.1 port http;\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("1:36: unexpected tls after the port number; expecting ';'"),
                             at("metrics-listen 127.0.0.1 port 9167 tls;\n"));
        auto twice = test::parse("metrics-listen 127.0.0.1;\nmetrics-listen 127.0.0.2 port 1;\n");
        CPPUNIT_ASSERT_EQUAL(std::string("2:1: metrics-listen given twice (first at test.conf:1:1)"), twice->firstError());
        CPPUNIT_ASSERT_EQUAL(0x7f000001u, twice->config->metricsListen->address);  // the first stays
    }

    // Written in a file that the main one includes (a master file an ISC peer may share), it is refused there.
    void testMetricsListenOnlyInTheMainFile() {
        char dir[] = "/tmp/tandem-conf-XXXXXX";
        CPPUNIT_ASSERT(::mkdtemp(dir));
        const std::string main = std::string(dir) + "/host.conf", master = std::string(dir) + "/master.conf";
        auto write = [](const std::string& path, const std::string& text) { std::ofstream(path) << text; };
        write(master, "ddns-update-style none;\nmetrics-listen 127.0.0.1;\n");
        write(main, "authoritative;\ninclude \"" + master + "\";\n");
        common::DiagnosticSink sink;
        auto cfg = conf::loadConfig(main, sink);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sink.errorCount());
        const auto& d = sink.all().back();
        CPPUNIT_ASSERT_EQUAL(master + ":2:1", d.where.str());
        CPPUNIT_ASSERT_EQUAL("metrics-listen is allowed only in the file tandemd reads first (" + main +
                                 "), not in one it includes: a file shared with an ISC dhcpd peer must not carry it",
                             d.message);
        // In the host's own file, before or after the include, it is fine.
        write(master, "ddns-update-style none;\n");
        for (const std::string& text : {"metrics-listen 127.0.0.1 port 9167;\ninclude \"" + master + "\";\n",
                                        "include \"" + master + "\";\nmetrics-listen 127.0.0.1 port 9167;\n"}) {
            write(main, text);
            common::DiagnosticSink ok;
            auto good = conf::loadConfig(main, ok);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(text, std::size_t(0), ok.errorCount());
            CPPUNIT_ASSERT(good->metricsListen);
        }
        std::remove(main.c_str());
        std::remove(master.c_str());
        ::rmdir(dir);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DeclarationsTest);
