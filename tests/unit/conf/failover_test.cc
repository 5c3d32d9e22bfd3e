// The failover peer declarations: every parameter, ISC's defaults, ISC's checks.
#include <cppunit/extensions/HelperMacros.h>

#include <fstream>
#include <sstream>

#include "../tls_pki.h"
#include "conf/dump.h"
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
// A secondary with TLS; the paths go in with %C %K %A (certificate, key, CA).
const char* kTlsSecondary =
    "failover peer \"fo\" {\n"
    "  secondary;\n"
    "  address 10.99.0.2;\n"
    "  peer address 10.99.0.1;\n"
    "  tls-certificate \"%C\";\n"
    "  tls-key \"%K\";\n"
    "  tls-ca \"%A\";\n"
    "  tls-peer-name \"primary.example\";\n"
    "}\n";
const char* kPool =
    "subnet 10.99.1.0 netmask 255.255.255.0 {\n"
    "  pool {\n"
    "    failover peer \"fo\";\n"
    "    range 10.99.1.10 10.99.1.200;\n"
    "  }\n"
    "}\n";

std::string tlsConf(const std::string& cert, const std::string& key, const std::string& ca) {
    std::string t = kTlsSecondary;
    auto put = [&t](const std::string& mark, const std::string& v) { t.replace(t.find(mark), mark.size(), v); };
    put("%C", cert);
    put("%K", key);
    put("%A", ca);
    return t + kPool;
}

/// Every error of checkFailoverTlsFiles as "line:col: message", one per line.
std::string fileErrors(const conf::Config& c) {
    common::DiagnosticSink sink;
    conf::checkFailoverTlsFiles(c, sink);
    std::string out;
    for (const auto& d : sink.all())
        if (d.severity == common::Severity::Error)
            out += std::to_string(d.where.line) + ":" + std::to_string(d.where.col) + ": " + d.message + "\n";
    return out;
}
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
    CPPUNIT_TEST(testTlsStatementsWithLocations);
    CPPUNIT_TEST(testTlsNeedsCertificateKeyAndCa);
    CPPUNIT_TEST(testTlsPeerNameNeedsTheFiles);
    CPPUNIT_TEST(testTlsValuesAreCheckedWhereWritten);
    CPPUNIT_TEST(testTlsIsNotAPeerStatement);
    CPPUNIT_TEST(testTlsFilesAcceptedWhenValid);
    CPPUNIT_TEST(testTlsFilesRefusedAtTheirStatement);
    CPPUNIT_TEST(testTlsFilesCheckedByLoadConfig);
    CPPUNIT_TEST(testTlsInDump);
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

    // The Tandem-only TLS statements land in the model, each with the place of its value.
    void testTlsStatementsWithLocations() {
        auto p = test::parse(tlsConf("/etc/tandem/tls/s.crt", "/etc/tandem/tls/s.key", "/etc/tandem/tls/ca.crt"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        const auto& tls = p->config->failoverPeers.at(0).tls;
        CPPUNIT_ASSERT(tls.enabled());
        CPPUNIT_ASSERT_EQUAL(std::string("/etc/tandem/tls/s.crt"), tls.certificate.value);
        CPPUNIT_ASSERT_EQUAL(std::string("/etc/tandem/tls/s.key"), tls.key.value);
        CPPUNIT_ASSERT_EQUAL(std::string("/etc/tandem/tls/ca.crt"), tls.ca.value);
        CPPUNIT_ASSERT_EQUAL(std::string("primary.example"), tls.peerName.value);
        CPPUNIT_ASSERT_EQUAL(5, int(tls.certificate.where.line));
        CPPUNIT_ASSERT_EQUAL(19, int(tls.certificate.where.col));
        CPPUNIT_ASSERT_EQUAL(6, int(tls.key.where.line));
        CPPUNIT_ASSERT_EQUAL(7, int(tls.ca.where.line));
        CPPUNIT_ASSERT_EQUAL(8, int(tls.peerName.where.line));
        // Without them the link is plain TCP, as ISC speaks it.
        auto plain = test::parse(std::string(kPrimary) + kPool);
        CPPUNIT_ASSERT(!plain->config->failoverPeers.at(0).tls.enabled());
    }

    // Certificate, key and CA come together: one or two of them is an error at the block's end.
    void testTlsNeedsCertificateKeyAndCa() {
        TANDEM_ASSERT_REJECTS("failover peer x {\n secondary; address 10.0.0.2; peer address 10.0.0.1;\n"
                              " tls-certificate \"/a.crt\";\n}\n",
                              4, "tls-key and tls-ca missing");
        TANDEM_ASSERT_REJECTS("failover peer x {\n secondary; address 10.0.0.2; peer address 10.0.0.1;\n"
                              " tls-certificate \"/a.crt\"; tls-key \"/a.key\";\n}\n",
                              4, "failover peer x: tls-ca missing (tls-certificate, tls-key and tls-ca go together)");
        TANDEM_ASSERT_REJECTS("failover peer x {\n secondary; address 10.0.0.2; peer address 10.0.0.1;\n"
                              " tls-ca \"/ca.crt\";\n}\n",
                              4, "tls-certificate and tls-key missing");
    }

    // tls-peer-name alone would turn nothing on: an error where it is written.
    void testTlsPeerNameNeedsTheFiles() {
        TANDEM_ASSERT_REJECTS("failover peer x {\n secondary; address 10.0.0.2; peer address 10.0.0.1;\n"
                              " tls-peer-name \"a.example\";\n}\n",
                              3, "tls-peer-name needs tls-certificate, tls-key and tls-ca");
    }

    // Each value must be a quoted absolute path (or a DNS name), once, and is reported at its column.
    void testTlsValuesAreCheckedWhereWritten() {
        const std::string head = "failover peer x {\n secondary; address 10.0.0.2; peer address 10.0.0.1;\n";
        const std::string rest = " tls-key \"/k\"; tls-ca \"/c\";\n}\n";
        auto first = [&](const std::string& line) { return test::parse(head + line + rest)->firstError(); };
        CPPUNIT_ASSERT_EQUAL(std::string("3:18: expecting a file name in quotes after tls-certificate"),
                             first(" tls-certificate a.crt;\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("3:2: expecting a file name in quotes after tls-certificate"),
                             first(" tls-certificate;\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("3:18: failover peer x: tls-certificate must be an absolute path"),
                             first(" tls-certificate \"tls/a.crt\";\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("3:18: failover peer x: tls-certificate is empty"),
                             first(" tls-certificate \"\";\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("3:23: unexpected \"/b\" after a file name; expecting ';'"),
                             first(" tls-certificate \"/a\" \"/b\";\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("3:40: failover peer x: tls-certificate given twice (first at test.conf:3:18)"),
                             first(" tls-certificate \"/a\"; tls-certificate \"/b\";\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("3:16: failover peer x: tls-peer-name must be a DNS name, not \"a b\""),
                             first(" tls-peer-name \"a b\"; tls-certificate \"/a\";\n"));
    }

    // `peer tls-key` is not a thing: the TLS statements are about this server only.
    void testTlsIsNotAPeerStatement() {
        TANDEM_ASSERT_REJECTS("failover peer x {\n secondary; address 10.0.0.2; peer address 10.0.0.1;\n"
                              " peer tls-key \"/a.key\";\n}\n",
                              3, "expecting address, port, max-response-delay or max-unacked-updates after `peer`");
    }

    // Readable PEM files of the right kinds, a key that belongs to the certificate: no error.
    void testTlsFilesAcceptedWhenValid() {
        test::TestPki pki;
        pki.makeCa("ca");
        pki.makePeer("secondary", "secondary.example", "ca");
        auto p = test::parse(tlsConf(pki.path("secondary.crt"), pki.path("secondary.key"), pki.path("ca.crt")));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        CPPUNIT_ASSERT_EQUAL(std::string(), fileErrors(*p->config));
    }

    // A missing, unreadable, non-PEM or mismatched file is an error at the statement naming it.
    void testTlsFilesRefusedAtTheirStatement() {
        test::TestPki pki;
        pki.makeCa("ca");
        pki.makePeer("secondary", "secondary.example", "ca");
        pki.makePeer("other", "other.example", "ca");
        pki.write("garbage.pem", "this is not PEM\n");
        const std::string crt = pki.path("secondary.crt"), key = pki.path("secondary.key"), ca = pki.path("ca.crt");

        auto p = test::parse(tlsConf(pki.path("none.crt"), key, ca));
        CPPUNIT_ASSERT_EQUAL(std::string("5:19: failover peer fo: tls-certificate " + pki.path("none.crt") +
                                         ": cannot open: No such file or directory\n"),
                             fileErrors(*p->config));
        p = test::parse(tlsConf(crt, pki.path("garbage.pem"), ca));
        CPPUNIT_ASSERT_EQUAL(std::string("6:11: failover peer fo: tls-key " + pki.path("garbage.pem") +
                                         ": no PEM private key found (expecting \"-----BEGIN PRIVATE KEY-----\")\n"),
                             fileErrors(*p->config));
        p = test::parse(tlsConf(crt, key, pki.path("garbage.pem")));
        CPPUNIT_ASSERT_EQUAL(std::string("7:10: failover peer fo: tls-ca " + pki.path("garbage.pem") +
                                         ": no PEM certificate found (expecting \"-----BEGIN CERTIFICATE-----\")\n"),
                             fileErrors(*p->config));
        // A key where the certificate should be, and a directory as the CA.
        p = test::parse(tlsConf(key, key, pki.dir()));
        CPPUNIT_ASSERT_EQUAL(std::string("5:19: failover peer fo: tls-certificate " + key +
                                         ": no PEM certificate found (expecting \"-----BEGIN CERTIFICATE-----\")\n"
                                         "7:10: failover peer fo: tls-ca " + pki.dir() +
                                         ": cannot open: is a directory\n"),
                             fileErrors(*p->config));
        p = test::parse(tlsConf(crt, pki.path("other.key"), ca));
        CPPUNIT_ASSERT_EQUAL(std::string("6:11: failover peer fo: tls-key " + pki.path("other.key") +
                                         ": the private key does not belong to the certificate in " + crt + "\n"),
                             fileErrors(*p->config));
        if (::geteuid() != 0) {  // root reads a mode-000 file anyway
            pki.write("locked.key", "");
            ::chmod(pki.path("locked.key").c_str(), 0);
            p = test::parse(tlsConf(crt, pki.path("locked.key"), ca));
            CPPUNIT_ASSERT(fileErrors(*p->config).find("cannot open: Permission denied") != std::string::npos);
        }
    }

    // loadConfig, which -t uses, checks the files; loadConfigText (no files read) does not.
    void testTlsFilesCheckedByLoadConfig() {
        test::TestPki pki;
        pki.makeCa("ca");
        pki.makePeer("secondary", "secondary.example", "ca");
        const std::string text = tlsConf(pki.path("secondary.crt"), pki.path("missing.key"), pki.path("ca.crt"));
        pki.write("dhcpd.conf", text);
        common::DiagnosticSink sink;
        conf::loadConfig(pki.path("dhcpd.conf"), sink);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sink.errorCount());
        const auto& d = sink.all().at(0);
        CPPUNIT_ASSERT_EQUAL(pki.path("dhcpd.conf"), d.where.str().substr(0, d.where.str().find(':')));
        CPPUNIT_ASSERT_EQUAL(6, int(d.where.line));
        CPPUNIT_ASSERT(d.message.find("tls-key " + pki.path("missing.key") + ": cannot open") != std::string::npos);
        auto p = test::parse(text);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
    }

    // tandemd -t -v shows the TLS settings of a peer that has them, and nothing for one that has not.
    void testTlsInDump() {
        auto p = test::parse(tlsConf("/etc/t/s.crt", "/etc/t/s.key", "/etc/t/ca.crt"));
        std::ostringstream out;
        conf::dumpConfig(*p->config, out);
        const std::string d = out.str();
        CPPUNIT_ASSERT_MESSAGE(d, d.find("\n  tls-certificate \"/etc/t/s.crt\"\n  tls-key \"/etc/t/s.key\"\n"
                                         "  tls-ca \"/etc/t/ca.crt\"\n  tls-peer-name primary.example\n") !=
                                      std::string::npos);
        auto plain = test::parse(std::string(kPrimary) + kPool);
        std::ostringstream out2;
        conf::dumpConfig(*plain->config, out2);
        CPPUNIT_ASSERT_MESSAGE(out2.str(), out2.str().find("tls-") == std::string::npos);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(FailoverConfTest);
