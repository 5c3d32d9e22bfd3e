// The executor: conditionals, switch fall-through, bindings, log, execute, option
// statements in bodies (typed once or at run time), add/break and event handlers.
#include <cppunit/extensions/HelperMacros.h>

#include "common/log.h"
#include "eval_test_util.h"
#include "server/statements.h"

using namespace tandem;
using test::Env;
using test::hex;
using test::text;

namespace {

/// The actions' option names and values, "name=value;" each, for compact asserts.
std::string describe(const server::Executor& ex, const server::ExecResult& r, const server::EvalContext& ctx) {
    std::string out;
    for (const auto& a : r.options) {
        out += a.def->name + "=";
        auto v = ex.value(a, ctx);
        bool printable = v && std::all_of(v->begin(), v->end(), [](uint8_t c) { return c >= 0x20 && c < 0x7f; });
        out += printable ? text(v) : hex(v);
        out += ";";
    }
    return out;
}

/// Collects what goes to the log while it lives.
struct LogTap {
    std::vector<std::pair<common::LogLevel, std::string>> lines;
    LogTap() {
        common::logCapture([this](common::LogLevel l, std::string_view m) { lines.emplace_back(l, std::string(m)); });
    }
    ~LogTap() { common::logCapture({}); }
};

}  // namespace

class StatementsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(StatementsTest);
    CPPUNIT_TEST(testIfElsifElse);
    CPPUNIT_TEST(testNullConditionIsFalse);
    CPPUNIT_TEST(testSwitchFallsThroughUntilBreak);
    CPPUNIT_TEST(testSwitchDefaultAndNumeric);
    CPPUNIT_TEST(testBreakEndsOnlyItsOwnList);
    CPPUNIT_TEST(testSetUnsetDefine);
    CPPUNIT_TEST(testBindingsSeededFromLease);
    CPPUNIT_TEST(testLogPriorities);
    CPPUNIT_TEST(testExecuteArguments);
    CPPUNIT_TEST(testOptionStatementsInBodies);
    CPPUNIT_TEST(testParametersInBodies);
    CPPUNIT_TEST(testStatementsTypedAtRunTime);
    CPPUNIT_TEST(testAddClass);
    CPPUNIT_TEST(testOnEvents);
    CPPUNIT_TEST(testRunScopeInterleavesSettings);
    CPPUNIT_TEST(testDeeplyNestedStatements);
    CPPUNIT_TEST_SUITE_END();

    common::Packet4 pkt_;
    server::EvalContext ctx_;

public:
    void setUp() override {
        pkt_ = test::packet();
        pkt_.set(60, test::bytes("PXEClient:Arch:00007"));
        ctx_ = server::EvalContext{};
        ctx_.packet = &pkt_;
        ctx_.now = 1000;
    }

    server::ExecResult runGlobal(const Env& e, const server::EvalContext& ctx) {
        server::Executor ex(*e.ev);
        server::ExecResult r;
        ex.run(e.cfg->global->statements, ctx, r);
        return r;
    }

    // The first true branch of if/elsif/else runs, and only it.
    void testIfElsifElse() {
        Env e("if option vendor-class-identifier = \"x\" { option domain-name \"a\"; }\n"
              "elsif substring(option vendor-class-identifier, 0, 9) = \"PXEClient\" { option domain-name \"b\"; }\n"
              "elsif exists vendor-class-identifier { option domain-name \"c\"; }\n"
              "else { option domain-name \"d\"; }\n");
        server::Executor ex(*e.ev);
        server::ExecResult r;
        ex.run(e.cfg->global->statements, ctx_, r);
        CPPUNIT_ASSERT_EQUAL(std::string("domain-name=b;"), describe(ex, r, ctx_));
        pkt_.options.clear();
        r.clear();
        ex.run(e.cfg->global->statements, ctx_, r);
        CPPUNIT_ASSERT_EQUAL(std::string("domain-name=d;"), describe(ex, r, ctx_));
    }

    // A null condition takes the else branch (ISC: "treat NULL as false").
    void testNullConditionIsFalse() {
        Env e("if option host-name ~= \"x\" { option domain-name \"yes\"; } else { option domain-name \"no\"; }\n");
        server::Executor ex(*e.ev);
        server::ExecResult r;
        ex.run(e.cfg->global->statements, ctx_, r);
        CPPUNIT_ASSERT_EQUAL(std::string("domain-name=no;"), describe(ex, r, ctx_));
    }

    // Execution starts at the matching case and falls through later labels until a break.
    void testSwitchFallsThroughUntilBreak() {
        Env e("switch (substring(option vendor-class-identifier, 0, 3)) {\n"
              "  case \"abc\": option domain-name \"abc\"; break;\n"
              "  case \"PXE\": option domain-name \"pxe\";\n"
              "  case \"zzz\": option host-name \"zzz\"; break;\n"
              "  default: option nis-domain \"dflt\";\n"
              "}\n");
        server::Executor ex(*e.ev);
        server::ExecResult r;
        ex.run(e.cfg->global->statements, ctx_, r);
        CPPUNIT_ASSERT_EQUAL(std::string("domain-name=pxe;host-name=zzz;"), describe(ex, r, ctx_));
        pkt_.set(60, test::bytes("abcdef"));
        r.clear();
        ex.run(e.cfg->global->statements, ctx_, r);
        CPPUNIT_ASSERT_EQUAL(std::string("domain-name=abc;"), describe(ex, r, ctx_));
    }

    // No match (or a null switch value) goes to default; a numeric switch compares numbers.
    void testSwitchDefaultAndNumeric() {
        Env e("switch (option vendor-class-identifier) { case \"q\": option domain-name \"q\"; break;\n"
              "  default: option domain-name \"default\"; }\n"
              "switch (extract-int(substring(option vendor-class-identifier, 19, 1), 8)) {\n"
              "  case 55: option host-name \"fifty-five\"; break;\n  case 7: option host-name \"seven\"; }\n"
              "switch (option nis-domain) { case \"x\": option nis-domain \"x\"; default: option nis-domain \"none\"; }\n");
        server::Executor ex(*e.ev);
        server::ExecResult r;
        ex.run(e.cfg->global->statements, ctx_, r);
        // The last byte of "...00007" is '7', 0x37 = 55.
        CPPUNIT_ASSERT_EQUAL(std::string("domain-name=default;host-name=fifty-five;nis-domain=none;"),
                             describe(ex, r, ctx_));
    }

    // break ends the statement list it is in: in an if body, what follows the if still
    // runs (ISC's break_statement returns from that list only); at scope level it stops the scope.
    void testBreakEndsOnlyItsOwnList() {
        Env e("switch (01) {\n"
              "  case 01:\n"
              "    if exists vendor-class-identifier { break; option host-name \"never\"; }\n"
              "    option domain-name \"after-if\";\n"
              "    break;\n"
              "    option nis-domain \"never\";\n"
              "  case 02:\n"
              "    option nis-domain \"two\";\n"
              "}\n"
              "if exists vendor-class-identifier { option root-path \"scope-goes-on\"; }\n"
              "break;\n"
              "if exists vendor-class-identifier { option merit-dump \"never\"; }\n");
        server::Executor ex(*e.ev);  // actions point into the Executor: it must outlive them
        server::ExecResult r;
        ex.run(e.cfg->global->statements, ctx_, r);
        CPPUNIT_ASSERT_EQUAL(std::string("domain-name=after-if;root-path=scope-goes-on;"), describe(ex, r, ctx_));
    }

    // set binds data, numbers and booleans that later statements see; unset removes;
    // define binds like set; a null value removes the binding. (Names like `a` or `f`
    // would be hex bytes to ISC, so the variables here have other names.)
    void testSetUnsetDefine() {
        Env e("set va = \"x\";\nset vb = concat(va, \"y\");\nset n = extract-int(01:02, 16) + 1;\n"
              "set flag = exists vendor-class-identifier;\ndefine dv = vb;\nunset va;\nset gone = option host-name;\n"
              "if vb = \"xy\" { option domain-name = concat(vb, \"!\"); }\n");
        server::Executor ex(*e.ev);
        server::ExecResult r;
        ex.run(e.cfg->global->statements, ctx_, r);
        CPPUNIT_ASSERT(!r.bindings.find("va"));
        CPPUNIT_ASSERT_EQUAL(std::string("xy"), r.bindings.find("vb")->data);
        CPPUNIT_ASSERT_EQUAL(int64_t(259), r.bindings.find("n")->number);
        CPPUNIT_ASSERT(r.bindings.find("flag")->kind == common::LeaseVariable::Kind::Boolean);
        CPPUNIT_ASSERT(r.bindings.find("flag")->boolean);
        CPPUNIT_ASSERT_EQUAL(std::string("xy"), r.bindings.find("dv")->data);
        CPPUNIT_ASSERT(!r.bindings.find("gone"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(7), r.changes.size());
        CPPUNIT_ASSERT(r.changes[5].kind == server::VariableChange::Kind::Unset);
        CPPUNIT_ASSERT(r.changes[6].value.isNull());
        server::EvalContext after = ctx_;
        after.bindings = &r.bindings;  // an action's expression sees the bindings it was set with
        CPPUNIT_ASSERT_EQUAL(std::string("domain-name=xy!;"), describe(ex, r, after));
    }

    // The working bindings start from the lease's variables, which are never changed.
    void testBindingsSeededFromLease() {
        Env e("set hits = concat(old, \"+\");\nunset old;\n");
        common::LeaseRecord lease;
        lease.ext().variables.push_back({"old", common::LeaseVariable::Kind::Data, "v1", 0, false});
        ctx_.lease = &lease;
        server::ExecResult r = runGlobal(e, ctx_);
        CPPUNIT_ASSERT_EQUAL(std::string("v1+"), r.bindings.find("hits")->data);
        CPPUNIT_ASSERT(!r.bindings.find("old"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), lease.extras->variables.size());
    }

    // log's priorities map to the log's levels; no priority means debug (ISC); fatal is
    // reported for the caller; a null message logs nothing.
    void testLogPriorities() {
        Env e("log(info, concat(\"hello \", option vendor-class-identifier));\nlog(\"plain\");\nlog(error, \"bad\");\n"
              "log(fatal, \"dead\");\nlog(info, option host-name);\n");
        LogTap tap;
        server::ExecResult r = runGlobal(e, ctx_);
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), tap.lines.size());
        CPPUNIT_ASSERT(tap.lines[0].first == common::LogLevel::Info);
        CPPUNIT_ASSERT_EQUAL(std::string("hello PXEClient:Arch:00007"), tap.lines[0].second);
        CPPUNIT_ASSERT(tap.lines[1].first == common::LogLevel::Debug);
        CPPUNIT_ASSERT(tap.lines[2].first == common::LogLevel::Error);
        CPPUNIT_ASSERT(tap.lines[3].first == common::LogLevel::Error);
        CPPUNIT_ASSERT(r.fatal);
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), r.logged);
    }

    // execute's arguments are evaluated; one null argument cancels the whole call (ISC).
    void testExecuteArguments() {
        Env e("execute(\"/usr/local/bin/notify\", \"commit\", binary-to-ascii(10, 8, \".\", leased-address), "
              "ucase(\"x\"));\nexecute(\"/bin/never\", option host-name);\nexecute(\"/bin/noargs\");\n");
        common::LeaseRecord lease;
        lease.address = 0x0a000009;
        ctx_.lease = &lease;
        server::ExecResult r = runGlobal(e, ctx_);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), r.executes.size());
        CPPUNIT_ASSERT_EQUAL(std::string("/usr/local/bin/notify"), r.executes[0].program);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), r.executes[0].args.size());
        CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.9"), r.executes[0].args[1]);
        CPPUNIT_ASSERT_EQUAL(std::string("X"), r.executes[0].args[2]);
        CPPUNIT_ASSERT_EQUAL(std::string("/bin/noargs"), r.executes[1].program);
    }

    // Option statements in bodies become actions with their verbs, typed against the
    // registry (user-defined options included), hostnames looked up in the cache only.
    void testOptionStatementsInBodies() {
        Env e("option arch code 93 = unsigned integer 16;\noption space pxe;\noption pxe.menu code 9 = text;\n"
              "if exists vendor-class-identifier {\n"
              "  option routers 10.0.0.1, gw.invalid;\n  supersede arch 7;\n  default domain-name \"d\";\n"
              "  append domain-name-servers 10.0.0.53;\n  prepend domain-search \"a.example\";\n"
              "  send pxe.menu \"boot\";\n  option host-name = concat(\"h-\", substring(option vendor-class-identifier, 15, 5));\n"
              "}\n");
        server::Executor ex(*e.ev);
        server::ExecResult r;
        ex.run(e.cfg->global->statements, ctx_, r);
        CPPUNIT_ASSERT_EQUAL(std::size_t(7), r.options.size());
        CPPUNIT_ASSERT(r.options[0].verb == server::OptionVerb::Supersede);
        CPPUNIT_ASSERT(r.options[1].verb == server::OptionVerb::Supersede);
        CPPUNIT_ASSERT(r.options[2].verb == server::OptionVerb::Default);
        CPPUNIT_ASSERT(r.options[3].verb == server::OptionVerb::Append);
        CPPUNIT_ASSERT(r.options[4].verb == server::OptionVerb::Prepend);
        CPPUNIT_ASSERT(r.options[5].verb == server::OptionVerb::Send);
        CPPUNIT_ASSERT_EQUAL(std::string("pxe"), r.options[5].def->space);
        CPPUNIT_ASSERT_EQUAL(std::string("routers=<null>;arch=00:07;domain-name=d;domain-name-servers=0a:00:00:35;"
                                         "domain-search=01:61:07:65:78:61:6d:70:6c:65:00;menu=boot;host-name=h-00007;"),
                             describe(ex, r, ctx_));
        test::MapNames names;
        names.names["gw.invalid"] = 0x0a0000fe;
        ctx_.names = &names;
        CPPUNIT_ASSERT_EQUAL(std::string("0a:00:00:01:0a:00:00:fe"), hex(ex.value(r.options[0], ctx_)));
    }

    // Parameters in bodies are server-space supersedes: plain words, `NAME = expr`,
    // allow/deny/ignore flags, authoritative and not authoritative.
    void testParametersInBodies() {
        Env e("if known { default-lease-time 60; filename = concat(\"pxe/\", \"a.0\"); deny unknown-clients;\n"
              "  ignore bootp; authoritative; } else { not authoritative; allow booting; max-lease-time 120; }\n");
        server::Executor ex(*e.ev);
        server::ExecResult r;
        ex.run(e.cfg->global->statements, ctx_, r);
        CPPUNIT_ASSERT_EQUAL(std::string("authoritative=00;allow-booting=01;max-lease-time=00:00:00:78;"),
                             describe(ex, r, ctx_));
        Env h("host pc { hardware ethernet 00:11:22:33:44:55; }\n"
              "if known { default-lease-time 60; filename = concat(\"pxe/\", \"a.0\"); deny unknown-clients;\n"
              "  ignore bootp; authoritative; }\n");
        server::Executor hx(*h.ev);
        server::ExecResult hr;
        ctx_.host = &h.cfg->hosts.at(0);
        hx.run(h.cfg->global->statements, ctx_, hr);
        CPPUNIT_ASSERT_EQUAL(std::string("default-lease-time=00:00:00:3c;filename=pxe/a.0;boot-unknown-clients=00;"
                                         "allow-bootp=02;authoritative=01;"),
                             describe(hx, hr, ctx_));
        for (const auto& a : hr.options) CPPUNIT_ASSERT_EQUAL(std::string("server"), a.def->space);
    }

    // Statements that are not part of the Executor's Config are typed when first run.
    void testStatementsTypedAtRunTime() {
        Env base("option arch code 93 = unsigned integer 16;\n");
        Env other("option arch code 93 = unsigned integer 16;\nif 1 = 1 { option arch 258; default-lease-time 5; }\n");
        server::Executor ex(*base.ev);
        server::ExecResult r;
        ex.run(other.cfg->global->statements, ctx_, r);
        CPPUNIT_ASSERT_EQUAL(std::string("arch=01:02;default-lease-time=00:00:00:05;"), describe(ex, r, ctx_));
    }

    // `add "C"` reports the class for the caller's class list.
    void testAddClass() {
        Env e("class \"extra\" { }\nif exists vendor-class-identifier { add \"extra\"; }\n");
        server::ExecResult r = runGlobal(e, ctx_);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), r.addedClasses.size());
        CPPUNIT_ASSERT_EQUAL(std::string("extra"), r.addedClasses[0]->name);
    }

    // on commit/release/expiry hand back the bodies to attach; a later one replaces an
    // earlier one for its events; `on X;` clears.
    void testOnEvents() {
        Env e("on commit { set c = \"1\"; }\non expiry or release { log(info, \"bye\"); }\non release;\n");
        server::ExecResult r = runGlobal(e, ctx_);
        CPPUNIT_ASSERT(r.events.commit && *r.events.commit);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), (*r.events.commit)->size());
        CPPUNIT_ASSERT(r.events.expiry && *r.events.expiry);
        CPPUNIT_ASSERT(r.events.release && *r.events.release == nullptr);
        // The handler runs later, through the same executor.
        server::Executor ex(*e.ev);
        server::ExecResult later;
        ex.run(**r.events.commit, ctx_, later);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), later.bindings.find("c")->data);
    }

    // runScope with settings emits the scope's plain options and parameters in source
    // order among its statements, as ISC executes a scope; a break stops the rest.
    void testRunScopeInterleavesSettings() {
        Env e("option domain-name \"first\";\nif exists vendor-class-identifier { option domain-name \"cond\"; }\n"
              "default-lease-time 30;\nbreak;\noption host-name \"after-break\";\n");
        server::Executor ex(*e.ev);
        server::ExecResult r;
        ex.runScope(*e.cfg->global, ctx_, r, true);
        CPPUNIT_ASSERT_EQUAL(std::string("domain-name=first;domain-name=cond;default-lease-time=00:00:00:1e;"),
                             describe(ex, r, ctx_));
        CPPUNIT_ASSERT(!r.options[0].fromStatement);
        CPPUNIT_ASSERT(r.options[1].fromStatement);
        server::ExecResult plain;
        ex.runScope(*e.cfg->global, ctx_, plain);
        CPPUNIT_ASSERT_EQUAL(std::string("domain-name=cond;"), describe(ex, plain, ctx_));
    }

    // Nested conditionals as deep as conf accepts run without trouble.
    void testDeeplyNestedStatements() {
        std::string text = "option domain-name \"deep\";";
        for (int i = 0; i < 195; ++i) text = "if exists vendor-class-identifier { " + text + " }";
        Env e(text + "\n");
        server::Executor ex(*e.ev);
        server::ExecResult r;
        ex.run(e.cfg->global->statements, ctx_, r);
        CPPUNIT_ASSERT_EQUAL(std::string("domain-name=deep;"), describe(ex, r, ctx_));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(StatementsTest);
