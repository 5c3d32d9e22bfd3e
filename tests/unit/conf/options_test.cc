// Option statements: values of each type, spaces, definitions and their errors.
#include <cppunit/extensions/HelperMacros.h>

#include "test_util.h"

using namespace tandem;

class OptionsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(OptionsTest);
    CPPUNIT_TEST(testEachValueType);
    CPPUNIT_TEST(testValueIsEncodedForTheWire);
    CPPUNIT_TEST(testVerbsAreKept);
    CPPUNIT_TEST(testOptionExpression);
    CPPUNIT_TEST(testUnknownOptionAndSpace);
    CPPUNIT_TEST(testWrongTypeIsReportedAtTheValue);
    CPPUNIT_TEST(testIntegerRange);
    CPPUNIT_TEST(testOptionSpaceWidths);
    CPPUNIT_TEST(testDefinitionsOfEachType);
    CPPUNIT_TEST(testDefinitionErrors);
    CPPUNIT_TEST(testDefinitionOnlyAtTopLevel);
    CPPUNIT_TEST(testRedefinitionReplacesBuiltin);
    CPPUNIT_TEST_SUITE_END();

public:
    // One option of each built-in value type is accepted.
    void testEachValueType() {
        TANDEM_ASSERT_ACCEPTS(
            "option subnet-mask 255.255.255.0;\n"             // I
            "option time-offset -1200;\n"                     // l
            "option routers 10.0.0.1, 10.0.0.2;\n"            // IA
            "option host-name \"h\";\n"                       // t
            "option boot-size 16000;\n"                       // S
            "option ip-forwarding off;\n"                     // f
            "option default-ip-ttl 64;\n"                     // B
            "option static-routes 10.0.0.0 10.0.0.1;\n"       // IIA
            "option dhcp-client-identifier 01:02:aa:bb;\n"    // X hex
            "option vendor-class-identifier \"v\";\n"         // X text
            "option domain-search \"a.example\", \"b.example\";\n"  // Dc
            "option v4-lost lost.example.com;\n"              // d
            "option path-mtu-plateau-table 1500, 9000;\n"     // SA
            "option slp-service-scope true \"scope\";\n"      // fto
            "option pxe-client-id 0 \"x\";\n"                 // BX
            "option dhcp-parameter-request-list 1, 3, 6;\n"); // BA
    }

    // A typed value holds the wire bytes.
    void testValueIsEncodedForTheWire() {
        auto p = test::parse("option routers 10.0.0.1, 10.0.0.2;\n");
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), p->errors());
        const auto& o = p->config->global->options.at(0);
        CPPUNIT_ASSERT_EQUAL(3u, o.code);
        std::vector<uint8_t> want{10, 0, 0, 1, 10, 0, 0, 2};
        CPPUNIT_ASSERT(want == o.value.wire);
    }

    // supersede, default, prepend, append and send are all option statements.
    void testVerbsAreKept() {
        auto p = test::parse("supersede domain-name \"a\";\ndefault domain-name \"b\";\nprepend domain-name \"c\";\n"
                             "append domain-name \"d\";\nsend domain-name \"e\";\n");
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), p->errors());
        const auto& o = p->config->global->options;
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), o.size());
        CPPUNIT_ASSERT_EQUAL(std::string("supersede"), o[0].verb);
        CPPUNIT_ASSERT_EQUAL(std::string("send"), o[4].verb);
    }

    // `option NAME = expression;` keeps the expression for later evaluation.
    void testOptionExpression() {
        auto p = test::parse("option host-name = concat(\"h-\", binary-to-ascii(16, 8, \"-\", hardware));\n");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        CPPUNIT_ASSERT(p->config->global->options.at(0).expr);
        TANDEM_ASSERT_REJECTS("option host-name = exists routers;\n", 1, "Expecting a data expression");
    }

    // Unknown names and spaces are reported at the name.
    void testUnknownOptionAndSpace() {
        TANDEM_ASSERT_REJECTS("\noption this-option-does-not-exist off;\n", 2, "unknown option dhcp.this-option-does-not-exist");
        TANDEM_ASSERT_REJECTS("option nospace.foo 1;\n", 1, "no option space named nospace");
    }

    // A value of the wrong type is reported at the offending value.
    void testWrongTypeIsReportedAtTheValue() {
        auto p = test::parse("option swap-server\n  \"10.5.5.1\";\n");
        CPPUNIT_ASSERT_EQUAL(std::string("2:3"), p->firstError().substr(0, 3));
        TANDEM_ASSERT_REJECTS("option space s;\noption s.d code 1 = domain-name;\noption s.d \"www.example.com\";\n", 3,
                              "");
        TANDEM_ASSERT_REJECTS("option routers 10.0.0.1 10.0.0.2;\n", 1, "");
    }

    // Integers out of their width's range are refused, ISC's message included.
    void testIntegerRange() {
        TANDEM_ASSERT_REJECTS("option boot-size 100000;\n", 1, "exceeds max (65535)");
        TANDEM_ASSERT_REJECTS("option default-ip-ttl 256;\n", 1, "");
        TANDEM_ASSERT_ACCEPTS("option default-ip-ttl 255;\n");
    }

    // option space accepts code width 1/2/4 and length width 1/2.
    void testOptionSpaceWidths() {
        TANDEM_ASSERT_ACCEPTS("option space a;\noption space b code width 2 length width 2 hash size 111;\n");
        TANDEM_ASSERT_REJECTS("option space c code width 4 length width 4;\n", 1, "invalid length width (4) expecting 1 or 2.");
        TANDEM_ASSERT_REJECTS("option space d code width 3;\n", 1, "invalid code width");
    }

    // Each type of ISC's definition language gives the right format.
    void testDefinitionsOfEachType() {
        auto p = test::parse(
            "option space s;\n"
            "option s.a code 1 = boolean;\noption s.b code 2 = integer 8;\noption s.c code 3 = unsigned integer 16;\n"
            "option s.d code 4 = signed integer 32;\noption s.e code 5 = ip-address;\noption s.f code 6 = ip6-address;\n"
            "option s.g code 7 = text;\noption s.h code 8 = string;\noption s.i code 9 = domain-name;\n"
            "option s.j code 10 = domain-list compressed;\noption s.k code 11 = zerolen;\n"
            "option s.l code 12 = array of ip-address;\noption s.m code 13 = { boolean, unsigned integer 8 };\n"
            "option s.n code 14 = array of { ip-address, ip-address };\n"
            "option s.o code 15 = { unsigned integer 32, array of boolean };\noption s.p code 16 = encapsulate s;\n");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        const auto& reg = p->config->options;
        auto fmt = [&](const char* n) { return reg.find("s", n) ? reg.find("s", n)->format : std::string("?"); };
        CPPUNIT_ASSERT_EQUAL(std::string("f"), fmt("a"));
        CPPUNIT_ASSERT_EQUAL(std::string("b"), fmt("b"));
        CPPUNIT_ASSERT_EQUAL(std::string("S"), fmt("c"));
        CPPUNIT_ASSERT_EQUAL(std::string("l"), fmt("d"));
        CPPUNIT_ASSERT_EQUAL(std::string("I"), fmt("e"));
        CPPUNIT_ASSERT_EQUAL(std::string("6"), fmt("f"));
        CPPUNIT_ASSERT_EQUAL(std::string("t"), fmt("g"));
        CPPUNIT_ASSERT_EQUAL(std::string("X"), fmt("h"));
        CPPUNIT_ASSERT_EQUAL(std::string("d"), fmt("i"));
        CPPUNIT_ASSERT_EQUAL(std::string("Dc"), fmt("j"));
        CPPUNIT_ASSERT_EQUAL(std::string("Z"), fmt("k"));
        CPPUNIT_ASSERT_EQUAL(std::string("IA"), fmt("l"));
        CPPUNIT_ASSERT_EQUAL(std::string("fB"), fmt("m"));
        CPPUNIT_ASSERT_EQUAL(std::string("IIA"), fmt("n"));
        CPPUNIT_ASSERT_EQUAL(std::string("Lfa"), fmt("o"));
        CPPUNIT_ASSERT_EQUAL(std::string("Es."), fmt("p"));
        CPPUNIT_ASSERT_EQUAL(9u, reg.find("s", "i")->code);
    }

    // ISC's definition errors, at the offending word.
    void testDefinitionErrors() {
        TANDEM_ASSERT_REJECTS("option space s;\noption s.x code 1 = array of array of unsigned integer 8;\n", 2,
                              "no nested arrays.");
        TANDEM_ASSERT_REJECTS("option space s;\noption s.x code 1 = array of text;\n", 2,
                              "arrays of text strings not yet supported.");
        TANDEM_ASSERT_REJECTS("option space s;\noption s.x code 1 = { array of { unsigned integer 32 } };\n", 2,
                              "only uniform array inside record.");
        TANDEM_ASSERT_REJECTS("option space s;\noption s.x code 1 = unsigned integer 8, text;\n", 2,
                              "semicolon expected.");
        TANDEM_ASSERT_REJECTS("option space s;\noption s.x code 1 = { unsigned integer 8, { text } };\n", 2,
                              "unknown data type {");
        TANDEM_ASSERT_REJECTS("option x code 250 = integer 12;\n", 1, "8, 16 or 32");
        TANDEM_ASSERT_REJECTS("option x code 250 = flag;\n", 1, "unknown data type flag");
    }

    // Definitions belong at the top level.
    void testDefinitionOnlyAtTopLevel() {
        TANDEM_ASSERT_REJECTS("subnet 10.0.0.0 netmask 255.0.0.0 {\n option x code 250 = text;\n}\n", 2,
                              "top level");
    }

    // Defining a standard code again replaces the built-in definition, as ISC allows.
    void testRedefinitionReplacesBuiltin() {
        auto p = test::parse("option arch code 93 = unsigned integer 16;\noption arch 7;\n"
                             "option rfc3442-classless-static-routes code 121 = array of integer 8;\n");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        CPPUNIT_ASSERT_EQUAL(std::string("S"), p->config->options.findByCode("dhcp", 93)->format);
        CPPUNIT_ASSERT_EQUAL(std::string("arch"), p->config->options.findByCode("dhcp", 93)->name);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(OptionsTest);
