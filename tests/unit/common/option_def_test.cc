// ISC's option tables and the rules for adding definitions.
#include <cppunit/extensions/HelperMacros.h>

#include "common/option_def.h"

using namespace tandem::common;

class OptionDefTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(OptionDefTest);
    CPPUNIT_TEST(testBuiltinSpotChecks);
    CPPUNIT_TEST(testLookupIsCaseInsensitive);
    CPPUNIT_TEST(testDefineReplacesByNameOrCode);
    CPPUNIT_TEST(testEnumerations);
    CPPUNIT_TEST(testCheckFormat);
    CPPUNIT_TEST(testRegistryCopiesAreIndependent);
    CPPUNIT_TEST_SUITE_END();

public:
    // A few rows of each built-in space, with ISC's codes and formats.
    void testBuiltinSpotChecks() {
        OptionRegistry r = OptionRegistry::builtin();
        CPPUNIT_ASSERT_EQUAL(std::string("IA"), r.find("dhcp", "routers")->format);
        CPPUNIT_ASSERT_EQUAL(3u, r.find("dhcp", "routers")->code);
        CPPUNIT_ASSERT_EQUAL(std::string("Dc"), r.find("dhcp", "domain-search")->format);
        CPPUNIT_ASSERT_EQUAL(119u, r.find("dhcp", "domain-search")->code);
        CPPUNIT_ASSERT_EQUAL(std::string("Eagent."), r.findByCode("dhcp", 82)->format);
        CPPUNIT_ASSERT_EQUAL(std::string("circuit-id"), r.findByCode("agent", 1)->name);
        CPPUNIT_ASSERT_EQUAL(std::string("I"), r.find("agent", "link-selection")->format);
        CPPUNIT_ASSERT_EQUAL(std::string("T"), r.find("server", "default-lease-time")->format);
        CPPUNIT_ASSERT_EQUAL(std::string("f"), r.find("server", "ping-check")->format);
        CPPUNIT_ASSERT(!r.findByCode("dhcp", 121));  // ISC 4.4 has no built-in 121
        CPPUNIT_ASSERT(!r.find("dhcp", "pxelinux-magic"));
    }

    // Names are matched without regard to case, as in dhcpd.conf.
    void testLookupIsCaseInsensitive() {
        OptionRegistry r = OptionRegistry::builtin();
        CPPUNIT_ASSERT(r.find("DHCP", "Domain-Name-Servers"));
        CPPUNIT_ASSERT(r.space("Agent"));
    }

    // A new definition replaces one with the same name and one with the same code.
    void testDefineReplacesByNameOrCode() {
        OptionRegistry r = OptionRegistry::builtin();
        r.space("dhcp")->define({"dhcp", "arch", 93, "S"});
        CPPUNIT_ASSERT(!r.find("dhcp", "pxe-system-type"));
        CPPUNIT_ASSERT_EQUAL(std::string("arch"), r.findByCode("dhcp", 93)->name);
        r.space("dhcp")->define({"dhcp", "arch", 250, "t"});
        CPPUNIT_ASSERT(!r.findByCode("dhcp", 93));
        CPPUNIT_ASSERT_EQUAL(250u, r.find("dhcp", "arch")->code);
    }

    // Enumerations map ISC's keywords to their values and back.
    void testEnumerations() {
        const Enumeration* e = OptionRegistry::enumeration("ddns-styles");
        CPPUNIT_ASSERT(e);
        CPPUNIT_ASSERT_EQUAL(0, *e->valueOf("none"));
        CPPUNIT_ASSERT_EQUAL(3, *e->valueOf("Standard"));
        CPPUNIT_ASSERT_EQUAL(std::string("interim"), *e->nameOf(2));
        CPPUNIT_ASSERT(!e->valueOf("bogus"));
        CPPUNIT_ASSERT_EQUAL(184, *OptionRegistry::enumeration("syslog-facilities")->valueOf("local7"));
    }

    // Malformed formats are refused with a reason.
    void testCheckFormat() {
        CPPUNIT_ASSERT(!OptionRegistry::checkFormat("IA"));
        CPPUNIT_ASSERT(!OptionRegistry::checkFormat("fIa"));
        CPPUNIT_ASSERT(!OptionRegistry::checkFormat("Eagent."));
        CPPUNIT_ASSERT(OptionRegistry::checkFormat(""));
        CPPUNIT_ASSERT(OptionRegistry::checkFormat("A"));
        CPPUNIT_ASSERT(OptionRegistry::checkFormat("IAI"));
        CPPUNIT_ASSERT(OptionRegistry::checkFormat("Eagent"));
        CPPUNIT_ASSERT(OptionRegistry::checkFormat("Q"));
    }

    // A config's registry is its own copy: changing it leaves the built-in one alone.
    void testRegistryCopiesAreIndependent() {
        OptionRegistry a = OptionRegistry::builtin();
        OptionRegistry b = a;
        b.addSpace("mine", 2, 2).define({"mine", "x", 1, "B"});
        CPPUNIT_ASSERT(b.find("mine", "x"));
        CPPUNIT_ASSERT(!a.space("mine"));
        CPPUNIT_ASSERT_EQUAL(2u, b.space("mine")->codeWidth());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(OptionDefTest);
