// Expressions, conditionals and event blocks: parsed into trees and typed as
// ISC types them.
#include <cppunit/extensions/HelperMacros.h>

#include "test_util.h"

using namespace tandem;

class ExpressionsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ExpressionsTest);
    CPPUNIT_TEST(testMatchIfTree);
    CPPUNIT_TEST(testBooleanWanted);
    CPPUNIT_TEST(testDataWanted);
    CPPUNIT_TEST(testFunctionsAndArity);
    CPPUNIT_TEST(testOnlyOneMatchIf);
    CPPUNIT_TEST(testIfElsifElse);
    CPPUNIT_TEST(testSwitchCase);
    CPPUNIT_TEST(testCaseOutsideSwitch);
    CPPUNIT_TEST(testEventBlocks);
    CPPUNIT_TEST(testCheckAndAdd);
    CPPUNIT_TEST(testSetLogUnset);
    CPPUNIT_TEST_SUITE_END();

public:
    // `match if A = B and not C` becomes And(Equal(A,B), Not(C)).
    void testMatchIfTree() {
        auto p = test::parse("class \"c\" {\n match if option host-name = \"a\" and not exists routers;\n}\n");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        const auto& e = *p->config->classes.at(0).matchIf;
        CPPUNIT_ASSERT(e.kind == conf::Expr::Kind::And);
        CPPUNIT_ASSERT(e.args[0]->kind == conf::Expr::Kind::Equal);
        CPPUNIT_ASSERT(e.args[0]->args[0]->kind == conf::Expr::Kind::Option);
        CPPUNIT_ASSERT_EQUAL(std::string("host-name"), e.args[0]->args[0]->text);
        CPPUNIT_ASSERT(e.args[1]->kind == conf::Expr::Kind::Not);
        CPPUNIT_ASSERT(e.args[1]->args[0]->kind == conf::Expr::Kind::Exists);
    }

    // A data expression where a boolean one is needed is refused.
    void testBooleanWanted() {
        TANDEM_ASSERT_REJECTS("class \"c\" {\n  match if option host-name;\n}\n", 2, "Expecting a boolean expression.");
        TANDEM_ASSERT_ACCEPTS("class \"c\" { match if known and not static; }\n");
    }

    // A boolean expression where data is needed is refused.
    void testDataWanted() {
        TANDEM_ASSERT_REJECTS("class \"c\" {\n  match option host-name = \"x\";\n}\n", 2, "Expecting a data expression.");
        TANDEM_ASSERT_ACCEPTS("class \"c\" { match substring(hardware, 1, 6); }\n");
        TANDEM_ASSERT_ACCEPTS("class \"c\" { match if 12:34 = 56:78:9a; }\n");
    }

    // Functions are known by name and take their number of arguments.
    void testFunctionsAndArity() {
        TANDEM_ASSERT_ACCEPTS("class \"c\" { match concat(ucase(\"a\"), lcase(\"B\"), suffix(option host-name, 3)); }\n"
                              "class \"d\" { match if extract-int(substring(hardware, 0, 1), 8) = 1; }\n"
                              "class \"e\" { match pick-first-value(option dhcp-client-identifier, hardware); }\n"
                              "class \"f\" { match encode-int(1, 8); }\n");
        TANDEM_ASSERT_REJECTS("class \"c\" {\n match frob(1);\n}\n", 2, "unknown function frob");
        TANDEM_ASSERT_REJECTS("class \"c\" {\n match substring(hardware, 1);\n}\n", 2, "takes 3 argument");
    }

    // A class has at most one `match if`, and one `match` or `spawn`.
    void testOnlyOneMatchIf() {
        TANDEM_ASSERT_REJECTS("class \"c\" {\n match if known;\n match if static;\n}\n", 3,
                              "A class may only have one 'match if' clause");
        TANDEM_ASSERT_REJECTS("class \"c\" {\n match hardware;\n spawn with hardware;\n}\n", 3,
                              "can't override existing submatch/spawn");
        TANDEM_ASSERT_REJECTS("match hardware;\n", 1, "only in a class");
    }

    // if / elsif / else chains are kept, and their bodies are checked.
    void testIfElsifElse() {
        auto p = test::parse("if option user-class = \"a\" {\n option domain-name \"a\";\n} elsif known {\n"
                             " default-lease-time 60;\n} else {\n max-lease-time 60;\n}\n");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p->allText(), std::size_t(0), p->errors());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), p->config->global->statements.size());
        TANDEM_ASSERT_REJECTS("if known {\n option boot-size 100000;\n}\n", 2, "exceeds max (65535)");
        TANDEM_ASSERT_REJECTS("if option host-name {\n}\n", 1, "Expecting a boolean expression.");
    }

    // switch takes case and default labels.
    void testSwitchCase() {
        TANDEM_ASSERT_ACCEPTS("class \"a\" { match if known; }\nswitch (option user-class) {\n case \"a\":\n"
                              "  add \"a\";\n  break;\n default:\n  break;\n}\n");
    }

    // case and default outside a switch are errors.
    void testCaseOutsideSwitch() {
        TANDEM_ASSERT_REJECTS("\ncase \"foo\": break;\n", 2, "case statement in inappropriate scope");
        TANDEM_ASSERT_REJECTS("default: break;\n", 1, "switch default statement in inappropriate scope");
    }

    // on commit/release/expiry blocks, combined with `or`, or empty.
    void testEventBlocks() {
        TANDEM_ASSERT_ACCEPTS("on expiry;\non commit or release {\n set x = \"y\";\n}\n");
        TANDEM_ASSERT_REJECTS("on lunch {\n}\n", 1, "unknown event");
    }

    // `check` knows only the default collection; `add` needs a declared class.
    void testCheckAndAdd() {
        TANDEM_ASSERT_REJECTS("\nif not check \"foo\" { }\n", 2, "unknown collection");
        TANDEM_ASSERT_REJECTS("if known {\n add \"acct\";\n}\n", 2, "class acct: not found");
    }

    // set, unset, log and execute statements.
    void testSetLogUnset() {
        TANDEM_ASSERT_ACCEPTS("on commit {\n set a = \"b\";\n unset a;\n log(info, concat(\"x\", \"y\"));\n"
                              " log(\"plain\");\n}\n");
        TANDEM_ASSERT_REJECTS("log(loud, \"x\");\n", 1, "log priority");
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ExpressionsTest);
