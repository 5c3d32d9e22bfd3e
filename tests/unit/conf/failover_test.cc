// The failover peer declarations: every parameter, ISC's defaults, ISC's checks.
#include <cppunit/extensions/HelperMacros.h>

#include "test_util.h"

using namespace tandem;

namespace {
const char* kPrimary =
    "failover peer \"fo\" {\n"
    "  primary;\n"
    "  address 10.99.0.1;\n"
    "  port 647;\n"
    "  peer address 10.99.0.2;\n"
    "  peer port 847;\n"
    "  max-response-delay 30;\n"
    "  max-unacked-updates 10;\n"
    "  mclt 1800;\n"
    "  split 128;\n"
    "  load balance max seconds 3;\n"
    "  auto-partner-down 600;\n"
    "}\n";
const char* kPool =
    "subnet 10.99.1.0 netmask 255.255.255.0 {\n"
    "  pool {\n"
    "    failover peer \"fo\";\n"
    "    range 10.99.1.10 10.99.1.200;\n"
    "  }\n"
    "}\n";
}  // namespace

class FailoverConfTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(FailoverConfTest);
    CPPUNIT_TEST(testPrimaryWithEveryParameter);
    CPPUNIT_TEST(testDefaults);
    CPPUNIT_TEST(testSecondaryWithHbaRefused);
    CPPUNIT_TEST(testPrimaryNeedsMcltAndSplit);
    CPPUNIT_TEST(testPeerAddressRequired);
    CPPUNIT_TEST(testHbaMustBe32Bytes);
    CPPUNIT_TEST(testUnknownPeerInPool);
    CPPUNIT_TEST(testPeerWithoutPools);
    CPPUNIT_TEST(testSharedNetworkReferenceIsInherited);
    CPPUNIT_TEST(testDynamicBootpRefusedWithPeer);
    CPPUNIT_TEST(testRedeclaration);
    CPPUNIT_TEST(testStateForm);
    CPPUNIT_TEST(testNoFailoverPeer);
    CPPUNIT_TEST_SUITE_END();

public:
    // Every statement of the peer block lands in the model.
    void testPrimaryWithEveryParameter() {
        auto p = test::parse(std::string(kPrimary) + kPool);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        const auto& fo = p->config->failoverPeers.at(0);
        CPPUNIT_ASSERT_EQUAL(std::string("fo"), fo.name);
        CPPUNIT_ASSERT(fo.role == conf::FailoverPeer::Role::Primary);
        CPPUNIT_ASSERT_EQUAL(0x0a630001u, fo.address.addr);
        CPPUNIT_ASSERT_EQUAL(0x0a630002u, fo.peerAddress.addr);
        CPPUNIT_ASSERT_EQUAL(uint16_t(647), fo.port);
        CPPUNIT_ASSERT_EQUAL(uint16_t(847), fo.peerPort);
        CPPUNIT_ASSERT_EQUAL(30u, fo.maxResponseDelay);
        CPPUNIT_ASSERT_EQUAL(10u, fo.maxUnackedUpdates);
        CPPUNIT_ASSERT_EQUAL(1800u, fo.mclt);
        CPPUNIT_ASSERT_EQUAL(128u, *fo.split);
        CPPUNIT_ASSERT_EQUAL(3u, fo.loadBalanceMaxSeconds);
        CPPUNIT_ASSERT_EQUAL(600u, fo.autoPartnerDown);
        CPPUNIT_ASSERT_EQUAL(std::string("fo"), p->config->networks.at(0).pools.at(0).failoverPeer);
    }

    // Unwritten parameters take ISC 4.4's defaults.
    void testDefaults() {
        auto p = test::parse("failover peer x { secondary; address 10.0.0.2; peer address 10.0.0.1; }\n"
                             "subnet 10.0.0.0 netmask 255.0.0.0 { pool { failover peer \"x\"; range 10.0.0.5; } }\n");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        const auto& fo = p->config->failoverPeers.at(0);
        CPPUNIT_ASSERT_EQUAL(uint16_t(647), fo.port);
        CPPUNIT_ASSERT_EQUAL(uint16_t(647), fo.peerPort);
        CPPUNIT_ASSERT_EQUAL(20u, fo.maxResponseDelay);
        CPPUNIT_ASSERT_EQUAL(100u, fo.maxUnackedUpdates);
        CPPUNIT_ASSERT_EQUAL(15u, fo.maxLeaseMisbalance);
        CPPUNIT_ASSERT_EQUAL(10u, fo.maxLeaseOwnership);
        CPPUNIT_ASSERT_EQUAL(60u, fo.minBalance);
        CPPUNIT_ASSERT_EQUAL(3600u, fo.maxBalance);
        CPPUNIT_ASSERT_EQUAL(0u, fo.loadBalanceMaxSeconds);
    }

    // A secondary may not carry split or hba (ISC: an error, -t exits 1).
    void testSecondaryWithHbaRefused() {
        TANDEM_ASSERT_REJECTS("failover peer x {\n secondary; address 10.0.0.2; peer address 10.0.0.1;\n split 128;\n}\n",
                              3, "secondary may not define load balance settings.");
    }

    // A primary needs mclt and one of split or hba.
    void testPrimaryNeedsMcltAndSplit() {
        TANDEM_ASSERT_REJECTS("failover peer x {\n primary; address 10.0.0.1; peer address 10.0.0.2; split 1;\n}\n", 3,
                              "primary failover server must have mclt.");
        TANDEM_ASSERT_REJECTS("failover peer x {\n primary; address 10.0.0.1; peer address 10.0.0.2; mclt 60;\n}\n", 3,
                              "split or hba");
    }

    // The partner's address cannot be left out.
    void testPeerAddressRequired() {
        TANDEM_ASSERT_REJECTS("failover peer x {\n secondary; address 10.0.0.2;\n}\n", 3, "peer address may not be omitted");
    }

    // hba is exactly 32 bytes.
    void testHbaMustBe32Bytes() {
        TANDEM_ASSERT_REJECTS("failover peer x {\n primary; mclt 1; address 10.0.0.1; peer address 10.0.0.2;\n hba ff:ff;\n}\n",
                              3, "32");
    }

    // A pool may name only a peer declared before it.
    void testUnknownPeerInPool() {
        TANDEM_ASSERT_REJECTS("subnet 10.0.0.0 netmask 255.0.0.0 {\n pool {\n  failover peer \"nope\";\n }\n}\n", 3,
                              "unknown failover peer: nope");
        TANDEM_ASSERT_REJECTS(std::string(kPrimary) + "subnet 10.0.0.0 netmask 255.0.0.0 {\n pool {\n  failover peer fo;\n }\n}\n",
                              16, "expecting string");
    }

    // A declared peer no pool refers to is an error (ISC: fatal at start).
    void testPeerWithoutPools() {
        TANDEM_ASSERT_REJECTS(kPrimary, 1, "Failover peer, fo, has no referring pools");
    }

    // A peer named in a shared-network applies to the pools after it, but does not count as a reference.
    void testSharedNetworkReferenceIsInherited() {
        auto p = test::parse(std::string(kPrimary) +
                             "shared-network n {\n failover peer \"fo\";\n subnet 10.99.1.0 netmask 255.255.255.0 { }\n"
                             " pool { range 10.99.1.5 10.99.1.9; }\n}\n");
        CPPUNIT_ASSERT_EQUAL(std::string("fo"), p->config->networks.at(0).pools.at(0).failoverPeer);
        CPPUNIT_ASSERT(p->firstError().find("has no referring pools") != std::string::npos);
    }

    // dynamic-bootp ranges cannot be shared with a failover peer.
    void testDynamicBootpRefusedWithPeer() {
        TANDEM_ASSERT_REJECTS(std::string(kPrimary) +
                                  "subnet 10.99.1.0 netmask 255.255.255.0 {\n pool {\n  failover peer \"fo\";\n"
                                  "  range dynamic-bootp 10.99.1.10 10.99.1.20;\n }\n}\n",
                              17, "dynamic-bootp flag is not permitted");
    }

    // The same name twice is an error.
    void testRedeclaration() {
        TANDEM_ASSERT_REJECTS(std::string(kPrimary) + "failover peer \"fo\" {\n secondary;\n}\n" + kPool, 14, "redeclared");
    }

    // The state form used by lease files is accepted in dhcpd.conf too.
    void testStateForm() {
        auto p = test::parse("failover peer \"fo\" state {\n my state normal at 4 2026/11/19 10:00:00;\n"
                             " partner state communications-interrupted at 4 2026/11/19 10:05:00;\n mclt 3600;\n}\n");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        const auto& st = p->config->failoverStates.at(0);
        CPPUNIT_ASSERT_EQUAL(std::string("normal"), st.myState);
        CPPUNIT_ASSERT_EQUAL(std::string("communications-interrupted"), st.partnerState);
        CPPUNIT_ASSERT_EQUAL(int64_t(1795082400), st.myStateTime);
        CPPUNIT_ASSERT_EQUAL(3600u, *st.mclt);
        TANDEM_ASSERT_REJECTS("failover peer \"fo\" state {\n my state sleepy;\n}\n", 2, "unknown failover state");
    }

    // `no failover peer` switches failover off for one pool; ISC takes no ';' after it.
    void testNoFailoverPeer() {
        auto p = test::parse(std::string(kPrimary) + kPool +
                             "shared-network n {\n failover peer \"fo\";\n subnet 10.99.2.0 netmask 255.255.255.0 { }\n"
                             " pool { no failover peer range 10.99.2.5 10.99.2.9; }\n}\n");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        CPPUNIT_ASSERT_EQUAL(std::string(""), p->config->networks.at(1).pools.at(0).failoverPeer);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(FailoverConfTest);
