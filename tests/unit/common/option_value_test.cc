// Typing values against ISC's format letters, their wire bytes, and rendering back.
#include <cppunit/extensions/HelperMacros.h>

#include "common/option_value.h"

using namespace tandem::common;

namespace {

Atom w(const std::string& t) { return {Atom::Kind::Word, t, {}}; }
Atom s(const std::string& t) { return {Atom::Kind::String, t, {}}; }
Atom comma() { return {Atom::Kind::Comma, ",", {}}; }

const OptionRegistry& reg() {
    static const OptionRegistry r = OptionRegistry::builtin();
    return r;
}

OptionDef def(const std::string& format) { return {"test", "t", 1, format}; }

std::vector<uint8_t> wire(const std::string& format, const Atoms& atoms) {
    auto v = typeValue(reg(), def(format), atoms);
    if (auto* e = std::get_if<ValueError>(&v)) CPPUNIT_FAIL("unexpected error: " + e->message);
    return std::get<TypedValue>(v).wire;
}

ValueError failure(const std::string& format, const Atoms& atoms) {
    auto v = typeValue(reg(), def(format), atoms);
    CPPUNIT_ASSERT_MESSAGE("expected an error", std::holds_alternative<ValueError>(v));
    return std::get<ValueError>(v);
}

using Bytes = std::vector<uint8_t>;

}  // namespace

class OptionValueTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(OptionValueTest);
    CPPUNIT_TEST(testAddresses);
    CPPUNIT_TEST(testIntegersAndTheirLimits);
    CPPUNIT_TEST(testLeaseTime);
    CPPUNIT_TEST(testTextAndStrings);
    CPPUNIT_TEST(testDomainNames);
    CPPUNIT_TEST(testBooleansAndEnumerations);
    CPPUNIT_TEST(testArraysAndRecords);
    CPPUNIT_TEST(testOptionalAndZeroLength);
    CPPUNIT_TEST(testErrorsNameTheAtom);
    CPPUNIT_TEST(testRenderRoundTrips);
    CPPUNIT_TEST_SUITE_END();

public:
    // Dotted quads become 4 bytes; names are kept for later resolution.
    void testAddresses() {
        CPPUNIT_ASSERT(Bytes({10, 0, 0, 1}) == wire("I", {w("10.0.0.1")}));
        auto v = std::get<TypedValue>(typeValue(reg(), def("IA"), {w("10.0.0.1"), comma(), w("gw.example.test")}));
        CPPUNIT_ASSERT(Bytes({10, 0, 0, 1, 0, 0, 0, 0}) == v.wire);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), v.hostnames.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), v.hostnames[0].first);
        CPPUNIT_ASSERT_EQUAL(std::string("gw.example.test"), v.hostnames[0].second);
        CPPUNIT_ASSERT_EQUAL(std::size_t(16), wire("6", {w("2001:db8::1")}).size());
    }

    // Each width and sign has its limits, both ends; 0x hex is read like ISC.
    void testIntegersAndTheirLimits() {
        CPPUNIT_ASSERT(Bytes({255}) == wire("B", {w("255")}));
        CPPUNIT_ASSERT(Bytes({0x80}) == wire("b", {w("-128")}));
        CPPUNIT_ASSERT(Bytes({0xff, 0xff}) == wire("S", {w("65535")}));
        CPPUNIT_ASSERT(Bytes({0xff, 0xff, 0xfb, 0x50}) == wire("l", {w("-1200")}));
        CPPUNIT_ASSERT(Bytes({0, 0, 0, 0x10}) == wire("L", {w("0x10")}));
        CPPUNIT_ASSERT_EQUAL(std::string("256 exceeds max (255) for precision."), failure("B", {w("256")}).message);
        CPPUNIT_ASSERT_EQUAL(std::string("100000 exceeds max (65535) for precision."), failure("S", {w("100000")}).message);
        CPPUNIT_ASSERT(failure("b", {w("-129")}).message.find("below min (-128)") != std::string::npos);
        CPPUNIT_ASSERT(failure("L", {w("-1")}).message.find("negative") != std::string::npos);
        CPPUNIT_ASSERT(Bytes({0xff, 0xff, 0xff, 0xff}) == wire("L", {w("4294967295")}));
        failure("L", {w("4294967296")});
        failure("S", {s("12")});
    }

    // Lease times take seconds or `infinite`.
    void testLeaseTime() {
        CPPUNIT_ASSERT(Bytes({0, 0, 0x0e, 0x10}) == wire("T", {w("3600")}));
        CPPUNIT_ASSERT(Bytes({0xff, 0xff, 0xff, 0xff}) == wire("T", {w("infinite")}));
    }

    // Text is a string; string (X) is text or colon-separated hex.
    void testTextAndStrings() {
        CPPUNIT_ASSERT(Bytes({'a', 'b'}) == wire("t", {s("ab")}));
        CPPUNIT_ASSERT(Bytes({1, 2, 0xaa}) == wire("X", {w("01:2:aa")}));
        CPPUNIT_ASSERT(Bytes({'x'}) == wire("X", {s("x")}));
        failure("X", {w("zz:01")});
    }

    // Domain names are unquoted; domain lists are quoted, RFC 1035-encoded, compressed for Dc.
    void testDomainNames() {
        Bytes d{3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0};
        CPPUNIT_ASSERT(d == wire("d", {w("www.example.com")}));
        CPPUNIT_ASSERT_EQUAL(std::string("not a valid domain name."), failure("d", {s("www.example.com")}).message);
        Bytes dc{1, 'a', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 1, 'b', 0xc0, 2};
        CPPUNIT_ASSERT(dc == wire("Dc", {s("a.example"), comma(), s("b.example")}));
        Bytes plain{1, 'a', 0, 1, 'b', 0};
        CPPUNIT_ASSERT(plain == wire("D", {s("a"), comma(), s("b")}));
    }

    // Booleans take true/false/on/off; N letters take their enumeration's words.
    void testBooleansAndEnumerations() {
        CPPUNIT_ASSERT(Bytes({1}) == wire("f", {w("on")}));
        CPPUNIT_ASSERT(Bytes({0}) == wire("f", {w("FALSE")}));
        failure("f", {w("maybe")});
        CPPUNIT_ASSERT(Bytes({3}) == wire("Nddns-styles.", {w("standard")}));
        CPPUNIT_ASSERT(failure("Nddns-styles.", {w("ad-hoc2")}).message.find("none, ad-hoc, interim, standard") !=
                       std::string::npos);
    }

    // A: the record repeats after commas; a: the last field repeats; records are space-separated.
    void testArraysAndRecords() {
        CPPUNIT_ASSERT(Bytes({10, 0, 0, 0, 10, 0, 0, 1, 10, 1, 0, 0, 10, 1, 0, 1}) ==
                       wire("IIA", {w("10.0.0.0"), w("10.0.0.1"), comma(), w("10.1.0.0"), w("10.1.0.1")}));
        CPPUNIT_ASSERT(Bytes({1, 10, 0, 0, 1, 10, 0, 0, 2}) ==
                       wire("fIa", {w("true"), w("10.0.0.1"), comma(), w("10.0.0.2")}));
        CPPUNIT_ASSERT(Bytes({0, 66}) == wire("fB", {w("off"), w("66")}));
        CPPUNIT_ASSERT(Bytes({1, 3, 6}) == wire("BA", {w("1"), comma(), w("3"), comma(), w("6")}));
    }

    // o: the last field may be left out; Z takes nothing.
    void testOptionalAndZeroLength() {
        CPPUNIT_ASSERT(Bytes({1}) == wire("fto", {w("true")}));
        CPPUNIT_ASSERT(Bytes({1, 's'}) == wire("fto", {w("true"), s("s")}));
        CPPUNIT_ASSERT(Bytes({}) == wire("Z", {}));
    }

    // An error names the atom it is about, or the end when something is missing.
    void testErrorsNameTheAtom() {
        ValueError e = failure("IA", {w("10.0.0.1"), comma(), s("10.0.0.2")});
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), e.atom);
        CPPUNIT_ASSERT(e.message.find("expecting IP address or hostname") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), failure("I", {w("10.0.0.1"), w("10.0.0.2")}).atom);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), failure("I", {w("10.0.0.1"), comma(), w("10.0.0.2")}).atom);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), failure("fB", {w("on")}).atom);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), failure("I", {}).atom);
    }

    // Rendering a typed value gives text that types back to the same bytes.
    void testRenderRoundTrips() {
        struct Case {
            const char* format;
            Atoms atoms;
            const char* text;
        };
        const Case cases[] = {
            {"IA", {w("10.0.0.1"), comma(), w("10.0.0.2")}, "10.0.0.1, 10.0.0.2"},
            {"l", {w("-1200")}, "-1200"},
            {"t", {s("a\"b")}, "\"a\\\"b\""},
            {"X", {w("01:02:aa")}, "01:02:aa"},
            {"Dc", {s("a.example"), comma(), s("b.example")}, "\"a.example\", \"b.example\""},
            {"d", {w("www.example.com")}, "www.example.com"},
            {"fB", {w("off"), w("66")}, "false 66"},
            {"T", {w("infinite")}, "infinite"},
            {"Nddns-styles.", {w("interim")}, "interim"},
            {"6", {w("2001:db8::1")}, "2001:db8::1"},
        };
        for (const auto& c : cases) {
            OptionDef d = def(c.format);
            Bytes b = wire(c.format, c.atoms);
            CPPUNIT_ASSERT_EQUAL(std::string(c.text), renderValue(d, b));
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(OptionValueTest);
