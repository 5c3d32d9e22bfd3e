// ISC dhcpd's command line as tandemd reads it.
#include <cppunit/extensions/HelperMacros.h>

#include "config.h"
#include "server/cmdline.h"

using namespace tandem::server;

class CommandLineTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CommandLineTest);
    CPPUNIT_TEST(testDefaults);
    CPPUNIT_TEST(testIscFlags);
    CPPUNIT_TEST(testMissingValue);
    CPPUNIT_TEST(testUnknownFlag);
    CPPUNIT_TEST(testBadPort);
    CPPUNIT_TEST_SUITE_END();

    static std::optional<CommandLine> parse(std::vector<std::string> args, std::string* err = nullptr) {
        CommandLineError e;
        auto cl = parseCommandLine(args, e);
        if (err) *err = e.message;
        return cl;
    }

public:
    // With no arguments, Tandem's own paths under configure's --sysconfdir and --localstatedir are used.
    void testDefaults() {
        auto cl = parse({});
        CPPUNIT_ASSERT(cl);
        CPPUNIT_ASSERT_EQUAL(std::string(TANDEM_SYSCONFDIR "/tandem/dhcpd.conf"), cl->configFile);
        CPPUNIT_ASSERT_EQUAL(std::string(TANDEM_LOCALSTATEDIR "/lib/tandem/dhcpd.leases"), cl->leaseFile);
        CPPUNIT_ASSERT_EQUAL(std::string("/run/tandemd.pid"), cl->pidFile);
        CPPUNIT_ASSERT(!cl->foreground && !cl->testConfig);
    }

    // Every ISC flag is understood; trailing words are interfaces.
    void testIscFlags() {
        auto cl = parse({"-4", "-d", "-q", "-t", "-cf", "a.conf", "-lf", "l", "-pf", "p", "--no-pid", "-p", "1067",
                         "-user", "dhcpd", "-group", "dhcpd", "eth0", "eth1"});
        CPPUNIT_ASSERT(cl);
        CPPUNIT_ASSERT(cl->debug && cl->foreground && cl->quiet && cl->testConfig && cl->noPid);
        CPPUNIT_ASSERT_EQUAL(std::string("a.conf"), cl->configFile);
        CPPUNIT_ASSERT_EQUAL(std::string("l"), cl->leaseFile);
        CPPUNIT_ASSERT_EQUAL(std::string("p"), cl->pidFile);
        CPPUNIT_ASSERT_EQUAL(1067, cl->port);
        CPPUNIT_ASSERT_EQUAL(std::string("dhcpd"), cl->user);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), cl->interfaces.size());
        CPPUNIT_ASSERT_EQUAL(std::string("eth1"), cl->interfaces[1]);
    }

    // A flag that needs a value and has none is an error naming the flag.
    void testMissingValue() {
        std::string err;
        CPPUNIT_ASSERT(!parse({"-cf"}, &err));
        CPPUNIT_ASSERT_EQUAL(std::string("-cf needs a value"), err);
    }

    // An unknown flag is an error, as in ISC.
    void testUnknownFlag() {
        std::string err;
        CPPUNIT_ASSERT(!parse({"-x"}, &err));
        CPPUNIT_ASSERT_EQUAL(std::string("unknown option -x"), err);
        CPPUNIT_ASSERT(!parse({"-6"}, &err));
    }

    // -p needs a real port.
    void testBadPort() {
        CPPUNIT_ASSERT(!parse({"-p", "0"}));
        CPPUNIT_ASSERT(!parse({"-p", "x"}));
        CPPUNIT_ASSERT(!parse({"-p", "70000"}));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CommandLineTest);
