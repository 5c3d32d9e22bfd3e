// The evaluator: each dhcp-eval(5) expression kind against packets, leases and
// hosts, with ISC dhcpd 4.4's null rules, regexes, and bounded depth and size.
#include <cppunit/extensions/HelperMacros.h>

#include "eval_test_util.h"

using namespace tandem;
using test::Env;
using test::hex;
using test::sets;
using test::text;

class EvalTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(EvalTest);
    CPPUNIT_TEST(testOptionAndExists);
    CPPUNIT_TEST(testEncapsulatedSpaces);
    CPPUNIT_TEST(testFqdnSubOptions);
    CPPUNIT_TEST(testHardwareAndPacket);
    CPPUNIT_TEST(testSubstringSuffix);
    CPPUNIT_TEST(testCaseConcatPick);
    CPPUNIT_TEST(testBinaryToAscii);
    CPPUNIT_TEST(testEncodeExtractReverse);
    CPPUNIT_TEST(testLeaseAndHostValues);
    CPPUNIT_TEST(testFilenameServerNameHostname);
    CPPUNIT_TEST(testEqualityNullRules);
    CPPUNIT_TEST(testBareNumbersTakeTheirContext);
    CPPUNIT_TEST(testRegex);
    CPPUNIT_TEST(testBooleanNulls);
    CPPUNIT_TEST(testArithmetic);
    CPPUNIT_TEST(testVariables);
    CPPUNIT_TEST(testConfigOption);
    CPPUNIT_TEST(testRemainingKinds);
    CPPUNIT_TEST(testHostnamesNeverResolved);
    CPPUNIT_TEST(testOptionAndParameterExpressions);
    CPPUNIT_TEST(testDataSizeBound);
    CPPUNIT_TEST(testDeepExpressionFromConfig);
    CPPUNIT_TEST(testHostileDeepTreeDoesNotOverflow);
    CPPUNIT_TEST(testForeignExpressionCompiledOnDemand);
    CPPUNIT_TEST_SUITE_END();

    common::Packet4 pkt_ = test::packet();
    server::EvalContext ctx_;

public:
    void setUp() override {
        pkt_ = test::packet();
        pkt_.set(12, test::bytes("Client-One"));
        pkt_.set(60, test::bytes("PXEClient:Arch:00000"));
        ctx_ = server::EvalContext{};
        ctx_.packet = &pkt_;
        ctx_.now = 1000;
    }

    // `option NAME` gives the packet's bytes, null when absent; `exists` says which.
    void testOptionAndExists() {
        Env e(sets({"option host-name", "option domain-name", "exists host-name", "exists domain-name",
                    "option dhcp.host-name"}));
        CPPUNIT_ASSERT_EQUAL(std::string("Client-One"), text(e.ev->evalData(e.expr(0), ctx_)));
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(1), ctx_));
        CPPUNIT_ASSERT(*e.ev->evalBoolean(e.expr(2), ctx_));
        CPPUNIT_ASSERT(!*e.ev->evalBoolean(e.expr(3), ctx_));
        CPPUNIT_ASSERT_EQUAL(std::string("Client-One"), text(e.ev->evalData(e.expr(4), ctx_)));
        server::EvalContext none;
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(0), none));
        CPPUNIT_ASSERT(!*e.ev->evalBoolean(e.expr(2), none));
    }

    // agent.* reads relay agent sub-options (RFC 3046); repeated ones are joined; a
    // truncated sub-option is absent; a user space encapsulated by a defined option works too.
    void testEncapsulatedSpaces() {
        Env e("option space acme;\noption acme.tag code 7 = string;\noption acme-opts code 224 = encapsulate acme;\n" +
              sets({"option agent.circuit-id", "option agent.remote-id", "option acme.tag", "exists agent.agent-id"}));
        pkt_.set(82, {1, 3, 'e', 't', 'h', 2, 2, 'r', '1', 1, 1, '0', 3, 9, 'x'});
        pkt_.set(224, {7, 2, 'h', 'i'});
        CPPUNIT_ASSERT_EQUAL(std::string("eth0"), text(e.ev->evalData(e.expr(0), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::string("r1"), text(e.ev->evalData(e.expr(1), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::string("hi"), text(e.ev->evalData(e.expr(2), ctx_)));
        CPPUNIT_ASSERT(!*e.ev->evalBoolean(e.expr(3), ctx_));  // agent-id 3 claims 9 bytes: truncated
    }

    // fqdn.* are the virtual sub-options ISC derives from option 81, encoded or not.
    void testFqdnSubOptions() {
        Env e(sets({"option fqdn.hostname", "option fqdn.domainname", "option fqdn.fqdn", "option fqdn.rcode2"}));
        pkt_.set(81, {0x01, 0, 255, 'p', 'c', '.', 'e', 'x', '.', 'o', 'r', 'g'});
        CPPUNIT_ASSERT_EQUAL(std::string("pc"), text(e.ev->evalData(e.expr(0), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::string("ex.org"), text(e.ev->evalData(e.expr(1), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::string("ff"), hex(e.ev->evalData(e.expr(3), ctx_)));
        pkt_.set(81, {0x05, 0, 0, 2, 'p', 'c', 2, 'e', 'x', 0});
        CPPUNIT_ASSERT_EQUAL(std::string("pc.ex"), text(e.ev->evalData(e.expr(2), ctx_)));
    }

    // hardware is htype then chaddr (from the lease without a packet); packet() reads
    // the datagram, or the rebuilt header when none is given, and is null past the end.
    void testHardwareAndPacket() {
        Env e(sets({"hardware", "packet(24, 4)", "packet(0, 1)", "packet(2000, 1)", "packet(236, 100)"}));
        CPPUNIT_ASSERT_EQUAL(std::string("01:00:11:22:33:44:55"), hex(e.ev->evalData(e.expr(0), ctx_)));
        pkt_.giaddr = 0x0a000001;
        CPPUNIT_ASSERT_EQUAL(std::string("0a:00:00:01"), hex(e.ev->evalData(e.expr(1), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::string("01"), hex(e.ev->evalData(e.expr(2), ctx_)));
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(3), ctx_));
        CPPUNIT_ASSERT_EQUAL(std::string("63:82:53:63"), hex(e.ev->evalData(e.expr(4), ctx_)).substr(0, 11));
        std::string raw(300, '\x07');
        ctx_.rawPacket = raw;
        CPPUNIT_ASSERT_EQUAL(std::string("07:07:07:07"), hex(e.ev->evalData(e.expr(1), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::size_t(64), e.ev->evalData(e.expr(4), ctx_)->size());  // truncated to what is there
        pkt_.hlen = 17;
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(0), ctx_));
        common::LeaseRecord lease;
        lease.hw.htype = 1;
        lease.hw.len = 2;
        lease.hw.bytes[0] = 0xaa;
        lease.hw.bytes[1] = 0xbb;
        server::EvalContext leaseOnly;
        leaseOnly.lease = &lease;
        CPPUNIT_ASSERT_EQUAL(std::string("01:aa:bb"), hex(e.ev->evalData(e.expr(0), leaseOnly)));
    }

    // substring past the end is empty, not null; suffix takes the last bytes; a null operand is null.
    void testSubstringSuffix() {
        Env e(sets({"substring(option host-name, 0, 6)", "substring(option host-name, 7, 100)",
                    "substring(option host-name, 50, 2)", "suffix(option host-name, 3)", "suffix(option host-name, 99)",
                    "substring(option domain-name, 0, 1)", "substring(\"abc\", lease-time, 1)"}));
        CPPUNIT_ASSERT_EQUAL(std::string("Client"), text(e.ev->evalData(e.expr(0), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::string("One"), text(e.ev->evalData(e.expr(1), ctx_)));
        auto empty = e.ev->evalData(e.expr(2), ctx_);
        CPPUNIT_ASSERT(empty && empty->empty());
        CPPUNIT_ASSERT_EQUAL(std::string("One"), text(e.ev->evalData(e.expr(3), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::string("Client-One"), text(e.ev->evalData(e.expr(4), ctx_)));
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(5), ctx_));
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(6), ctx_));
    }

    // lcase/ucase change ASCII letters; concat is null when a part is (ISC 4.4);
    // pick-first-value takes the first part that is not null, even an empty one.
    void testCaseConcatPick() {
        Env e(sets({"lcase(option host-name)", "ucase(option host-name)", "concat(\"a\", option host-name, \"z\")",
                    "concat(\"a\", option domain-name)", "pick-first-value(option domain-name, \"\", \"x\")",
                    "pick-first-value(option domain-name, null)", "pick(option domain-name, option host-name)"}));
        CPPUNIT_ASSERT_EQUAL(std::string("client-one"), text(e.ev->evalData(e.expr(0), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::string("CLIENT-ONE"), text(e.ev->evalData(e.expr(1), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::string("aClient-Onez"), text(e.ev->evalData(e.expr(2), ctx_)));
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(3), ctx_));
        CPPUNIT_ASSERT_EQUAL(std::string(""), text(e.ev->evalData(e.expr(4), ctx_)));
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(5), ctx_));
        CPPUNIT_ASSERT_EQUAL(std::string("Client-One"), text(e.ev->evalData(e.expr(6), ctx_)));
    }

    // binary-to-ascii: no leading zeros, lower-case hex, separators between numbers;
    // null for a bad width or a length that is not a multiple of it; nothing for base > 16.
    void testBinaryToAscii() {
        Env e(sets({"binary-to-ascii(10, 8, \".\", leased-address)",
                    "binary-to-ascii(16, 8, \":\", substring(hardware, 1, 6))",
                    "binary-to-ascii(8, 16, \"-\", 01:00:00:08)", "binary-to-ascii(10, 12, \".\", leased-address)",
                    "binary-to-ascii(10, 16, \".\", 01:02:03)", "binary-to-ascii(17, 8, \",\", 01:02)",
                    "binary-to-ascii(2, 32, \"\", 00:00:00:05)"}));
        common::LeaseRecord lease;
        lease.address = 0x0a000205;  // 10.0.2.5
        ctx_.lease = &lease;
        pkt_.chaddr[0] = 0x0a;
        CPPUNIT_ASSERT_EQUAL(std::string("10.0.2.5"), text(e.ev->evalData(e.expr(0), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::string("a:11:22:33:44:55"), text(e.ev->evalData(e.expr(1), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::string("400-10"), text(e.ev->evalData(e.expr(2), ctx_)));
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(3), ctx_));
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(4), ctx_));
        CPPUNIT_ASSERT_EQUAL(std::string(","), text(e.ev->evalData(e.expr(5), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::string("101"), text(e.ev->evalData(e.expr(6), ctx_)));
    }

    // encode-int and extract-int in network order for widths 8/16/32 only; reverse
    // swaps chunks and is null when the width does not divide the length.
    void testEncodeExtractReverse() {
        Env e(sets({"encode-int(258, 16)", "encode-int(258, 8)", "encode-int(1, 32)", "encode-int(1, 24)",
                    "extract-int(01:02, 16)", "extract-int(01:02:03:04:05, 32)", "extract-int(01, 16)",
                    "extract-int(ff, 8)", "reverse(2, 01:02:03:04:05:06)", "reverse(4, 01:02:03:04:05:06)",
                    "reverse(0, 01:02)"}));
        CPPUNIT_ASSERT_EQUAL(std::string("01:02"), hex(e.ev->evalData(e.expr(0), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::string("02"), hex(e.ev->evalData(e.expr(1), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::string("00:00:00:01"), hex(e.ev->evalData(e.expr(2), ctx_)));
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(3), ctx_));
        CPPUNIT_ASSERT_EQUAL(uint64_t(258), *e.ev->evalNumeric(e.expr(4), ctx_));
        CPPUNIT_ASSERT_EQUAL(uint64_t(0x01020304), *e.ev->evalNumeric(e.expr(5), ctx_));
        CPPUNIT_ASSERT(!e.ev->evalNumeric(e.expr(6), ctx_));
        CPPUNIT_ASSERT_EQUAL(uint64_t(255), *e.ev->evalNumeric(e.expr(7), ctx_));
        CPPUNIT_ASSERT_EQUAL(std::string("05:06:03:04:01:02"), hex(e.ev->evalData(e.expr(8), ctx_)));
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(9), ctx_));
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(10), ctx_));
    }

    // leased-address, lease-time, host-decl-name, known, static and client-state.
    void testLeaseAndHostValues() {
        Env e("host pc { hardware ethernet 00:11:22:33:44:55; }\n" +
              sets({"leased-address", "lease-time", "host-decl-name", "known", "static", "client-state"}));
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(0), ctx_));
        CPPUNIT_ASSERT(!e.ev->evalNumeric(e.expr(1), ctx_));
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(2), ctx_));
        CPPUNIT_ASSERT(!*e.ev->evalBoolean(e.expr(3), ctx_));
        CPPUNIT_ASSERT(!*e.ev->evalBoolean(e.expr(4), ctx_));
        common::LeaseRecord lease;
        lease.address = 0xc0000207;
        lease.ends = 4600;
        ctx_.lease = &lease;
        ctx_.host = &e.cfg->hosts.at(0);
        ctx_.staticLease = true;
        CPPUNIT_ASSERT_EQUAL(std::string("c0:00:02:07"), hex(e.ev->evalData(e.expr(0), ctx_)));
        CPPUNIT_ASSERT_EQUAL(uint64_t(3600), *e.ev->evalNumeric(e.expr(1), ctx_));
        CPPUNIT_ASSERT_EQUAL(std::string("pc"), text(e.ev->evalData(e.expr(2), ctx_)));
        CPPUNIT_ASSERT(*e.ev->evalBoolean(e.expr(3), ctx_));
        CPPUNIT_ASSERT(*e.ev->evalBoolean(e.expr(4), ctx_));
        CPPUNIT_ASSERT(!e.ev->evalNumeric(e.expr(5), ctx_));  // client-state exists only in dhclient
        lease.ends = 999;  // already over: ISC gives null
        CPPUNIT_ASSERT(!e.ev->evalNumeric(e.expr(1), ctx_));
        server::EvalContext noPacket;
        CPPUNIT_ASSERT(!e.ev->evalBoolean(e.expr(3), noPacket));  // known without a packet is null
    }

    // filename/server-name read the BOOTP fields up to the NUL, null when empty; gethostname().
    void testFilenameServerNameHostname() {
        server::EvaluatorOptions o;
        o.hostname = "dhcp1.example";
        Env e(sets({"filename", "server-name", "gethostname()"}), o);
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(0), ctx_));
        std::string f = "pxelinux.0";
        std::copy(f.begin(), f.end(), pkt_.file.begin());
        std::fill(pkt_.sname.begin(), pkt_.sname.end(), 'x');  // no NUL at all: the whole field
        CPPUNIT_ASSERT_EQUAL(f, text(e.ev->evalData(e.expr(0), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::size_t(64), e.ev->evalData(e.expr(1), ctx_)->size());
        CPPUNIT_ASSERT_EQUAL(std::string("dhcp1.example"), text(e.ev->evalData(e.expr(2), ctx_)));
    }

    // ISC 4.4's = and !=: null = null holds, null = X does not, null != X holds,
    // values of different types are unequal, and the result is never null.
    void testEqualityNullRules() {
        Env e(sets({"option domain-name = option nis-domain", "option domain-name = \"x\"",
                    "option domain-name != \"x\"", "option host-name = \"Client-One\"", "option host-name != \"Client-One\"",
                    "extract-int(01:02, 16) = 258", "extract-int(01:02, 16) = \"258\"", "lease-time = lease-time"}));
        auto b = [&](std::size_t i) { return e.ev->evalBoolean(e.expr(i), ctx_); };
        CPPUNIT_ASSERT(*b(0));
        CPPUNIT_ASSERT(!*b(1));
        CPPUNIT_ASSERT(*b(2));
        CPPUNIT_ASSERT(*b(3));
        CPPUNIT_ASSERT(!*b(4));
        CPPUNIT_ASSERT(*b(5));
        CPPUNIT_ASSERT(!*b(6));
        CPPUNIT_ASSERT(*b(7));  // both null
    }

    // A bare number is a number in a numeric context and, as ISC's parse_cshl reads
    // it, a hex byte elsewhere: `= 41` after data compares with 0x41 ("A").
    void testBareNumbersTakeTheirContext() {
        Env e(sets({"substring(option host-name, 0, 1) = 43", "extract-int(substring(option host-name, 0, 1), 8) = 67",
                    "extract-int(substring(option host-name, 0, 1), 8) = 43", "12", "encode-int(12, 8)",
                    "concat(\"x\", 41)"}));
        CPPUNIT_ASSERT(*e.ev->evalBoolean(e.expr(0), ctx_));  // "C" is 0x43
        CPPUNIT_ASSERT(*e.ev->evalBoolean(e.expr(1), ctx_));  // and 67 in decimal
        CPPUNIT_ASSERT(!*e.ev->evalBoolean(e.expr(2), ctx_));
        server::Value v = e.ev->evalAny(e.expr(3), ctx_);
        CPPUNIT_ASSERT(v.kind == server::Value::Kind::Data);
        CPPUNIT_ASSERT_EQUAL(std::string("\x12"), v.data);
        CPPUNIT_ASSERT_EQUAL(std::string("0c"), hex(e.ev->evalData(e.expr(4), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::string("xA"), text(e.ev->evalData(e.expr(5), ctx_)));
    }

    // ~= and ~~ are POSIX extended regexes over the data up to its first NUL; a bad
    // pattern never matches; a null operand makes the test null.
    void testRegex() {
        Env e(sets({"option vendor-class-identifier ~= \"^PXEClient:Arch:0+$\"", "option host-name ~= \"^client\"",
                    "option host-name ~~ \"^client\"", "option domain-name ~= \".*\"", "option host-name ~= \"(\"",
                    "concat(\"ab\", 00, \"cd\") ~= \"cd\"", "concat(\"ab\", 00, \"cd\") ~= \"^ab$\""}));
        CPPUNIT_ASSERT(*e.ev->evalBoolean(e.expr(0), ctx_));
        CPPUNIT_ASSERT(!*e.ev->evalBoolean(e.expr(1), ctx_));
        CPPUNIT_ASSERT(*e.ev->evalBoolean(e.expr(2), ctx_));
        CPPUNIT_ASSERT(!e.ev->evalBoolean(e.expr(3), ctx_));
        CPPUNIT_ASSERT(!*e.ev->evalBoolean(e.expr(4), ctx_));
        CPPUNIT_ASSERT(!*e.ev->evalBoolean(e.expr(5), ctx_));
        CPPUNIT_ASSERT(*e.ev->evalBoolean(e.expr(6), ctx_));
    }

    // and/or/not follow ISC: `false and X` is null (ISC does not look right), `true or
    // null` and `null or true` are true, `not null` is null.
    void testBooleanNulls() {
        Env e(sets({"exists domain-name and exists host-name", "exists host-name and known",
                    "exists host-name or (option domain-name ~= \"x\")", "(option domain-name ~= \"x\") or exists host-name",
                    "not (option domain-name ~= \"x\")", "not exists domain-name", "exists host-name and exists host-name"}));
        CPPUNIT_ASSERT(!e.ev->evalBoolean(e.expr(0), ctx_));
        CPPUNIT_ASSERT(!*e.ev->evalBoolean(e.expr(1), ctx_));
        CPPUNIT_ASSERT(*e.ev->evalBoolean(e.expr(2), ctx_));
        CPPUNIT_ASSERT(*e.ev->evalBoolean(e.expr(3), ctx_));
        CPPUNIT_ASSERT(!e.ev->evalBoolean(e.expr(4), ctx_));
        CPPUNIT_ASSERT(*e.ev->evalBoolean(e.expr(5), ctx_));
        CPPUNIT_ASSERT(*e.ev->evalBoolean(e.expr(6), ctx_));
    }

    // + - * / % & | ^ on ISC's unsigned long; dividing by zero is null; null propagates.
    void testArithmetic() {
        Env e(sets({"7 + 5", "7 - 9", "6 * 7", "7 / 2", "7 % 4", "12 & 10", "12 | 3", "12 ^ 10", "1 / 0", "1 % 0",
                    "1 + lease-time", "2 + 3 * 4"}));
        uint64_t want[] = {12, uint64_t(0) - 2, 42, 3, 3, 8, 15, 6};
        for (std::size_t i = 0; i < 8; ++i)
            CPPUNIT_ASSERT_EQUAL_MESSAGE(std::to_string(i), want[i], *e.ev->evalNumeric(e.expr(i), ctx_));
        CPPUNIT_ASSERT(!e.ev->evalNumeric(e.expr(8), ctx_));
        CPPUNIT_ASSERT(!e.ev->evalNumeric(e.expr(9), ctx_));
        CPPUNIT_ASSERT(!e.ev->evalNumeric(e.expr(10), ctx_));
        uint64_t v = *e.ev->evalNumeric(e.expr(11), ctx_);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(v), v == 14 || v == 20);  // precedence is the parser's
    }

    // Variables come from the bindings (or the lease's), with their binding's type;
    // `defined` tests them; a binding of the wrong type is null, as in ISC.
    void testVariables() {
        Env e(sets({"name", "count", "flag", "defined(name)", "defined(nothing)", "nothing", "concat(count, \"x\")",
                    "count + 1", "NAME"}));
        server::Bindings b;
        b.set({"name", common::LeaseVariable::Kind::Data, "alice", 0, false});
        b.set({"count", common::LeaseVariable::Kind::Number, "", 41, false});
        b.set({"flag", common::LeaseVariable::Kind::Boolean, "", 0, true});
        ctx_.bindings = &b;
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), text(e.ev->evalData(e.expr(0), ctx_)));
        CPPUNIT_ASSERT_EQUAL(uint64_t(41), e.ev->evalAny(e.expr(1), ctx_).number);
        CPPUNIT_ASSERT(e.ev->evalAny(e.expr(2), ctx_).boolean);
        CPPUNIT_ASSERT(*e.ev->evalBoolean(e.expr(3), ctx_));
        CPPUNIT_ASSERT(!*e.ev->evalBoolean(e.expr(4), ctx_));
        CPPUNIT_ASSERT(e.ev->evalAny(e.expr(5), ctx_).isNull());
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(6), ctx_));
        CPPUNIT_ASSERT_EQUAL(uint64_t(42), *e.ev->evalNumeric(e.expr(7), ctx_));
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), text(e.ev->evalData(e.expr(8), ctx_)));  // case-insensitive
        common::LeaseRecord lease;
        lease.ext().variables.push_back({"name", common::LeaseVariable::Kind::Data, "bob", 0, false});
        ctx_.bindings = nullptr;
        ctx_.lease = &lease;
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), text(e.ev->evalData(e.expr(0), ctx_)));
    }

    // config-option reads what the caller has configured; null without a source.
    void testConfigOption() {
        Env e(sets({"config-option domain-name", "config-option server.filename"}));
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(0), ctx_));
        test::MapOptions opts;
        opts.values[{"dhcp", 15}] = "example.org";
        opts.values[{"server", 15}] = "boot.img";
        ctx_.configOptions = &opts;
        CPPUNIT_ASSERT_EQUAL(std::string("example.org"), text(e.ev->evalData(e.expr(0), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::string("boot.img"), text(e.ev->evalData(e.expr(1), ctx_)));
    }

    // null is null; v6relay(0, X) is X and any other relay null (no DHCPv6 container);
    // check "default" answers from the classes matched; client-hostname is the lease's.
    void testRemainingKinds() {
        Env e(sets({"null", "v6relay(0, option host-name)", "v6relay(1, option host-name)", "check \"default\"",
                    "client-hostname"}));
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(0), ctx_));
        CPPUNIT_ASSERT_EQUAL(std::string("Client-One"), text(e.ev->evalData(e.expr(1), ctx_)));
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(2), ctx_));
        CPPUNIT_ASSERT(!*e.ev->evalBoolean(e.expr(3), ctx_));
        std::vector<server::ClassMatch> classes(1);
        classes[0].cls = nullptr;
        ctx_.classes = &classes;
        CPPUNIT_ASSERT(*e.ev->evalBoolean(e.expr(3), ctx_));
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(4), ctx_));
        common::LeaseRecord lease;
        lease.hostname = "laptop";
        ctx_.lease = &lease;
        CPPUNIT_ASSERT_EQUAL(std::string("laptop"), text(e.ev->evalData(e.expr(4), ctx_)));
    }

    // A hostname in an option value is looked up only in the caller's cache: a miss
    // makes the whole value null, as a failed lookup does in ISC; nothing is resolved.
    void testHostnamesNeverResolved() {
        Env e("option domain-name-servers 10.0.0.1, ns1.invalid;\n");
        const conf::OptionSetting& o = e.cfg->global->options.at(0);
        CPPUNIT_ASSERT(!e.ev->evalOption(o, ctx_));
        test::MapNames names;
        ctx_.names = &names;
        CPPUNIT_ASSERT(!e.ev->evalOption(o, ctx_));
        names.names["ns1.invalid"] = 0x0a000002;
        CPPUNIT_ASSERT_EQUAL(std::string("0a:00:00:01:0a:00:00:02"), hex(e.ev->evalOption(o, ctx_)));
    }

    // `option X = expr` and `param = expr`: data as is; numbers take the width of the
    // option's integer field; a bare 2-digit number is ISC's hex byte.
    void testOptionAndParameterExpressions() {
        Env e("option foo code 224 = unsigned integer 16;\n"
              "option foo = extract-int(01:02, 16) + 1;\n"
              "option host-name = concat(\"pc-\", binary-to-ascii(16, 8, \"\", substring(hardware, 4, 3)));\n"
              "default-lease-time = 600;\n"
              "option bar code 225 = string;\n"
              "option bar = 12;\n");
        const auto& opts = e.cfg->global->options;
        CPPUNIT_ASSERT_EQUAL(std::string("01:03"), hex(e.ev->evalOption(opts.at(0), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::string("pc-334455"), text(e.ev->evalOption(opts.at(1), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::string("12"), hex(e.ev->evalOption(opts.at(2), ctx_)));
        const conf::Parameter* p = e.cfg->global->findParam("default-lease-time");
        CPPUNIT_ASSERT(p && p->expr);
        CPPUNIT_ASSERT_EQUAL(std::string("00:00:02:58"), hex(e.ev->evalParameter(*p, ctx_)));
    }

    // An intermediate result longer than the bound is null: nested binary-to-ascii
    // grows threefold a level and must not cost unbounded memory.
    void testDataSizeBound() {
        server::EvaluatorOptions o;
        o.maxDataLength = 64;
        std::string expr = "option host-name";
        for (int i = 0; i < 6; ++i) expr = "binary-to-ascii(16, 8, \":\", " + expr + ")";
        Env e(sets({expr, "binary-to-ascii(16, 8, \":\", option host-name)"}), o);
        CPPUNIT_ASSERT(!e.ev->evalData(e.expr(0), ctx_));
        CPPUNIT_ASSERT(e.ev->evalData(e.expr(1), ctx_));
    }

    // The deepest expression conf accepts evaluates fine (and the result is right).
    void testDeepExpressionFromConfig() {
        std::string expr = "exists host-name";
        for (int i = 0; i < 190; ++i) expr = "not " + expr;
        std::string data = "option host-name";
        for (int i = 0; i < 95; ++i) data = "concat(\"x\", " + data + ")";
        Env e(sets({expr, data}));
        CPPUNIT_ASSERT(*e.ev->evalBoolean(e.expr(0), ctx_));  // an even number of nots
        CPPUNIT_ASSERT_EQUAL(std::size_t(95 + 10), e.ev->evalData(e.expr(1), ctx_)->size());
    }

    // A tree far deeper than conf allows, built by hand, is null rather than a stack overflow.
    void testHostileDeepTreeDoesNotOverflow() {
        Env e("");
        std::vector<conf::ExprPtr> chain;
        auto leaf = std::make_shared<conf::Expr>();
        leaf->kind = conf::Expr::Kind::Word;
        leaf->text = "known";
        chain.push_back(leaf);
        for (int i = 0; i < 200000; ++i) {
            auto n = std::make_shared<conf::Expr>();
            n->kind = conf::Expr::Kind::Not;
            n->args.push_back(chain.back());
            chain.push_back(n);
        }
        CPPUNIT_ASSERT(!e.ev->evalBoolean(*chain.back(), ctx_));
        CPPUNIT_ASSERT(e.ev->evalAny(*chain.back(), ctx_).isNull());
        // Take the chain apart from the top, so destroying it does not recurse either.
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) (*it)->args.clear();
    }

    // An expression that did not come from the evaluator's Config is compiled on first use.
    void testForeignExpressionCompiledOnDemand() {
        Env e("");
        Env other(sets({"concat(ucase(substring(option host-name, 0, 1)), \"!\")"}));
        CPPUNIT_ASSERT_EQUAL(std::string("C!"), text(e.ev->evalData(other.expr(0), ctx_)));
        CPPUNIT_ASSERT_EQUAL(std::string("C!"), text(e.ev->evalData(other.expr(0), ctx_)));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(EvalTest);
