// Tests of server/control (ControlServer and the request words) and of the
// tandemctl program (server/ctl_main.cc), on real Unix sockets in a temporary
// folder. The test drives the loop itself, always against a deadline.
#include "config.h"

#include <cppunit/extensions/HelperMacros.h>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/event.h"
#include "common/log.h"
#include "server/control.h"
#include "tests/unit/tap_skip.h"

#ifndef TANDEMCTL_PATH
#error "TANDEMCTL_PATH must name the tandemctl binary that was built"
#endif

extern char** environ;

using namespace tandem;
using server::ControlCommand;
using server::ControlDeferral;
using server::ControlReply;
using server::ControlServer;
using server::ControlServerOptions;

namespace {

using Clock = std::chrono::steady_clock;

/// A client socket read without blocking, so one thread can drive both ends.
struct RawClient {
    int fd = -1;
    std::string got;
    bool eof = false;
    int connectErrno = 0;

    explicit RawClient(const std::string& path) {
        fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) connectErrno = errno;
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    ~RawClient() { closeNow(); }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    void closeNow() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
    /// Sends everything (the payloads are far smaller than the socket buffer).
    bool send(const std::string& s) {
        std::size_t off = 0;
        while (off < s.size()) {
            ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (n < 0) return false;
            off += std::size_t(n);
        }
        return true;
    }
    /// Reads what is there; true once the server has closed its side.
    bool poll() {
        char buf[65536];
        for (;;) {
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0) {
                got.append(buf, std::size_t(n));
                continue;
            }
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) eof = true;
            return eof;
        }
    }
};

struct RunResult {
    int status = -1;  ///< exit status, or -1 if it did not exit normally
    std::string out, err;
};

}  // namespace

class ControlTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ControlTest);
    CPPUNIT_TEST(testSplitsWordsLikeAShell);
    CPPUNIT_TEST(testRejectsBadQuoting);
    CPPUNIT_TEST(testFormattedRequestsRoundTrip);
    CPPUNIT_TEST(testFormatRefusesControlCharactersAndLength);
    CPPUNIT_TEST(testValidatesUtf8);
    CPPUNIT_TEST(testReplyWireFormat);
    CPPUNIT_TEST(testRegistrationRules);
    CPPUNIT_TEST(testDispatchesCommandWithQuotedArguments);
    CPPUNIT_TEST(testAuditLogsCommandsWithCaller);
    CPPUNIT_TEST(testHelpListsCommands);
    CPPUNIT_TEST(testVersionIsBuiltIn);
    CPPUNIT_TEST(testUnknownCommand);
    CPPUNIT_TEST(testMalformedRequests);
    CPPUNIT_TEST(testRequestEndedByClose);
    CPPUNIT_TEST(testHandlerExceptionBecomesError);
    CPPUNIT_TEST(testOversizeRequestRefused);
    CPPUNIT_TEST(testLongestRequestAccepted);
    CPPUNIT_TEST(testSlowClientTimesOutWithoutBlocking);
    CPPUNIT_TEST(testClientThatNeverReadsIsDropped);
    CPPUNIT_TEST(testManyClientsAtOnce);
    CPPUNIT_TEST(testConnectionCap);
    CPPUNIT_TEST(testDeferredReplyCompletedLater);
    CPPUNIT_TEST(testDeferredReplyCompletedInsideHandler);
    CPPUNIT_TEST(testDeferredReplyTimesOut);
    CPPUNIT_TEST(testDeferredReplyToDepartedClient);
    CPPUNIT_TEST(testCloseAbandonsDeferredReplies);
    CPPUNIT_TEST(testSocketModeAndRemovalOnClose);
    CPPUNIT_TEST(testCloseLeavesAReplacedFileAlone);
    CPPUNIT_TEST(testReplacesStaleSocket);
    CPPUNIT_TEST(testRefusesToStealLiveSocket);
    CPPUNIT_TEST(testRefusesNonSocketPath);
    CPPUNIT_TEST(testRefusesTooLongPath);
    CPPUNIT_TEST(testPeerCredentialsRefuseOtherUsers);
    CPPUNIT_TEST(testFileModeKeepsOtherUsersOut);
    CPPUNIT_TEST(testCtlPrintsBodyAndExitsZero);
    CPPUNIT_TEST(testCtlErrorExitsOne);
    CPPUNIT_TEST(testCtlPutsForceAfterName);
    CPPUNIT_TEST(testCtlQuotesNamesWithSpaces);
    CPPUNIT_TEST(testCtlUsageErrorsExitTwo);
    CPPUNIT_TEST(testCtlHelpAndVersionOptions);
    CPPUNIT_TEST(testCtlCannotConnect);
    CPPUNIT_TEST(testCtlSocketFromEnvironment);
    CPPUNIT_TEST(testCtlPassesUnknownCommandsOn);
    CPPUNIT_TEST(testCtlReportsRefusalWhenBusy);
    CPPUNIT_TEST(testCtlWaitsForDeferredReply);
    CPPUNIT_TEST(testCtlMalformedAnswer);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override {
        char tmpl[] = "/tmp/tandem-control-XXXXXX";
        CPPUNIT_ASSERT(::mkdtemp(tmpl) != nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/ctl";
        common::LogConfig lc;
        lc.toSyslog = false;
        lc.toStderr = false;
        common::logInit(lc);
        logs_.clear();
        common::logCapture([this](common::LogLevel, std::string_view m) { logs_.emplace_back(m); });
        loop_ = std::make_unique<common::EventLoop>();
    }

    void tearDown() override {
        server_.reset();
        loop_.reset();
        common::logCapture(nullptr);
        std::string cmd = "rm -rf '" + dir_ + "'";
        if (std::system(cmd.c_str()) != 0) std::perror("rm");
    }

    // ------------------------------------------------------------ words

    // Blanks split; quotes, backslashes and adjacent parts work as in sh.
    void testSplitsWordsLikeAShell() {
        CPPUNIT_ASSERT(words("status") == (std::vector<std::string>{"status"}));
        CPPUNIT_ASSERT(words("  partner-down \t peer-a   --force ") ==
                       (std::vector<std::string>{"partner-down", "peer-a", "--force"}));
        CPPUNIT_ASSERT(words("resync 'my peer'") == (std::vector<std::string>{"resync", "my peer"}));
        CPPUNIT_ASSERT(words("resync \"my \\\"big\\\" peer\"") == (std::vector<std::string>{"resync", "my \"big\" peer"}));
        CPPUNIT_ASSERT(words("a\\ b") == (std::vector<std::string>{"a b"}));
        CPPUNIT_ASSERT(words("x'' '' \"\"") == (std::vector<std::string>{"x", "", ""}));
        CPPUNIT_ASSERT(words("a'b c'\"d\"e") == (std::vector<std::string>{"ab cde"}));
        CPPUNIT_ASSERT(words("'it'\\''s'") == (std::vector<std::string>{"it's"}));
        // In double quotes a backslash escapes only " and \ (as in sh).
        CPPUNIT_ASSERT(words("\"a\\b\\\\c\"") == (std::vector<std::string>{"a\\b\\c"}));
        CPPUNIT_ASSERT(words("").empty());
        CPPUNIT_ASSERT(words("   ").empty());
    }

    // Unterminated quotes and a trailing backslash are errors, not guesses.
    void testRejectsBadQuoting() {
        std::vector<std::string> w;
        std::string e;
        CPPUNIT_ASSERT(!server::splitControlWords("resync 'peer", w, e));
        CPPUNIT_ASSERT_EQUAL(std::string("unterminated single quote"), e);
        CPPUNIT_ASSERT(!server::splitControlWords("resync \"peer\\\"", w, e));
        CPPUNIT_ASSERT_EQUAL(std::string("unterminated double quote"), e);
        CPPUNIT_ASSERT(!server::splitControlWords("resync peer\\", w, e));
        CPPUNIT_ASSERT_EQUAL(std::string("trailing backslash"), e);
    }

    // Whatever words tandemctl formats, the server splits back unchanged.
    void testFormattedRequestsRoundTrip() {
        const std::vector<std::vector<std::string>> cases = {
            {"status"},
            {"partner-down", "dhcp-failover", "--force"},
            {"resync", "my peer"},
            {"resync", "it's \"quoted\" \\ here"},
            {"x", ""},
            {"resync", "p\xc3\xa9" "er \xe2\x82\xac"},
            {"a", "'", "\"", "\\", "$HOME", "*", ";", "#"},
            {"tab", "a\tb"},
        };
        for (const auto& c : cases) {
            std::string line, e;
            CPPUNIT_ASSERT_MESSAGE(c.front(), server::formatControlRequest(c, line, e));
            CPPUNIT_ASSERT_MESSAGE(line, words(line) == c);
        }
        CPPUNIT_ASSERT_EQUAL(std::string("dhcp-failover"), server::quoteControlWord("dhcp-failover"));
        CPPUNIT_ASSERT_EQUAL(std::string("'my peer'"), server::quoteControlWord("my peer"));
        CPPUNIT_ASSERT_EQUAL(std::string("''"), server::quoteControlWord(""));
    }

    // A word with a newline (or other control byte) or an over-long line is refused.
    void testFormatRefusesControlCharactersAndLength() {
        std::string line, e;
        CPPUNIT_ASSERT(!server::formatControlRequest({}, line, e));
        CPPUNIT_ASSERT(!server::formatControlRequest({"resync", "a\nstatus"}, line, e));
        CPPUNIT_ASSERT_EQUAL(std::string("argument 1 contains a control character"), e);
        CPPUNIT_ASSERT(!server::formatControlRequest({"resync", "\xff"}, line, e));
        CPPUNIT_ASSERT_EQUAL(std::string("argument 1 is not valid UTF-8"), e);
        CPPUNIT_ASSERT(server::formatControlRequest({"x", std::string(4094, 'a')}, line, e));
        CPPUNIT_ASSERT_EQUAL(std::size_t(4096), line.size());
        CPPUNIT_ASSERT(!server::formatControlRequest({"x", std::string(4095, 'a')}, line, e));
    }

    // Only well-formed UTF-8 without control characters passes.
    void testValidatesUtf8() {
        std::string e;
        for (const char* good : {"plain", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "a\tb"})
            CPPUNIT_ASSERT_MESSAGE(good, server::validControlText(good, e));
        for (const char* bad : {"\xc0\xaf",            // overlong '/'
                                "\xe0\x80\xaf",        // overlong, 3 bytes
                                "\xed\xa0\x80",        // a surrogate
                                "\xf4\x90\x80\x80",    // above U+10FFFF
                                "\xe2\x82",            // cut short
                                "\x80",                // a lone continuation byte
                                "\xc2\x85",            // NEL, a C1 control
                                "a\rb", "\x7f"})
            CPPUNIT_ASSERT_MESSAGE(bad, !server::validControlText(bad, e));
        CPPUNIT_ASSERT(!server::validControlText(std::string("a\0b", 3), e));
    }

    // OK/ERROR line, then the body ending in a newline; reasons stay on one line.
    void testReplyWireFormat() {
        CPPUNIT_ASSERT_EQUAL(std::string("OK\n"), ControlReply::ok().wire());
        CPPUNIT_ASSERT_EQUAL(std::string("OK\nline\n"), ControlReply::ok("line").wire());
        CPPUNIT_ASSERT_EQUAL(std::string("OK\na\nb\n"), ControlReply::ok("a\nb\n").wire());
        CPPUNIT_ASSERT_EQUAL(std::string("ERROR peer is up\nuse --force\n"),
                             ControlReply::error("peer is up", "use --force").wire());
        CPPUNIT_ASSERT_EQUAL(std::string("ERROR two lines\n"), ControlReply::error("two\nlines").wire());
        CPPUNIT_ASSERT_EQUAL(std::string("ERROR failed\n"), ControlReply::error("").wire());
        CPPUNIT_ASSERT(!ControlReply::error("x").isOk());
        ControlDeferral d;
        CPPUNIT_ASSERT(!d.waiting());
        CPPUNIT_ASSERT(!d.complete(ControlReply::ok()));  // not attached to any reply yet
        CPPUNIT_ASSERT(ControlReply::later(d).kind() == ControlReply::Kind::Deferred);
        CPPUNIT_ASSERT(d.waiting());
    }

    // Names are unique and handlers required; commands can be removed.
    void testRegistrationRules() {
        ControlServer s(*loop_, options());
        CPPUNIT_ASSERT(s.hasCommand("help"));
        CPPUNIT_ASSERT(s.hasCommand("version"));
        auto h = [](const std::vector<std::string>&) { return ControlReply::ok(); };
        s.addCommand("status", "", "show", h);
        CPPUNIT_ASSERT_THROW(s.addCommand("status", "", "again", h), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(s.addCommand("", "", "nameless", h), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(s.addCommand("x", "", "no handler", nullptr), std::invalid_argument);
        CPPUNIT_ASSERT(s.removeCommand("status"));
        CPPUNIT_ASSERT(!s.removeCommand("status"));
        s.addCommand("status", "", "show", h);
        CPPUNIT_ASSERT(s.hasCommand("status"));
    }

    // ------------------------------------------------------------ requests

    // The handler gets the words after the command, unquoted.
    void testDispatchesCommandWithQuotedArguments() {
        startServer();
        CPPUNIT_ASSERT_EQUAL(std::string("OK\n[a][b c][d\"e][]\n"), ask("echo a 'b c' \"d\\\"e\" ''"));
        CPPUNIT_ASSERT_EQUAL(std::string("OK\n\n"), ask("echo"));
        CPPUNIT_ASSERT_EQUAL(std::string("OK\n[x]\n"), ask("echo x\r"));  // CRLF from a telnet-like client
        CPPUNIT_ASSERT_EQUAL(uint64_t(3), server_->stats().requests);
        CPPUNIT_ASSERT(pump([&] { return server_->clientCount() == 0; }, 2000));
    }

    // Each use of an audited command is logged with the caller; help is not.
    void testAuditLogsCommandsWithCaller() {
        startServer();
        ask("echo hello");
        ask("help");
        std::string expect = "control: echo hello (uid " + std::to_string(::getuid()) + ", pid " +
                             std::to_string(::getpid()) + ")";
        CPPUNIT_ASSERT_EQUAL(1, countLogs("control: echo hello"));
        CPPUNIT_ASSERT_EQUAL(1, countLogs(expect));
        CPPUNIT_ASSERT_EQUAL(0, countLogs("control: help"));
    }

    // help lists every command with its arguments and summary, sorted.
    void testHelpListsCommands() {
        startServer();
        server_->addCommand("partner-down", "NAME [--force]", "declare the peer down",
                            [](const std::vector<std::string>&) { return ControlReply::ok(); });
        CPPUNIT_ASSERT_EQUAL(std::string("OK\n"
                                         "echo [WORD...]               print the words back\n"
                                         "fail                         always fails\n"
                                         "help                         list the commands\n"
                                         "partner-down NAME [--force]  declare the peer down\n"
                                         "version                      print the daemon's version\n"),
                             ask("help"));
        CPPUNIT_ASSERT_EQUAL(std::string("ERROR help takes no arguments\n"), ask("help me"));
    }

    // version answers with the package version.
    void testVersionIsBuiltIn() {
        startServer();
        CPPUNIT_ASSERT_EQUAL(std::string("OK\ntandemd " PACKAGE_VERSION "\n"), ask("version"));
    }

    // An unknown command is an ERROR that points at help.
    void testUnknownCommand() {
        startServer();
        CPPUNIT_ASSERT_EQUAL(std::string("ERROR unknown command: frobnicate\nSend \"help\" for the list of commands.\n"),
                             ask("frobnicate now"));
        CPPUNIT_ASSERT_EQUAL(std::string("ERROR unknown command: ECHO\nSend \"help\" for the list of commands.\n"),
                             ask("ECHO"));
        CPPUNIT_ASSERT_EQUAL(std::string("ERROR always fails\nbecause\n"), ask("fail"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(3), server_->stats().errors);
    }

    // Bad quoting, empty lines, bad UTF-8 and control bytes are answered, not crashed on.
    void testMalformedRequests() {
        startServer();
        CPPUNIT_ASSERT_EQUAL(std::string("ERROR bad quoting in the request: unterminated single quote\n"),
                             ask("echo 'oops"));
        CPPUNIT_ASSERT_EQUAL(std::string("ERROR empty request\n"), ask("   "));
        CPPUNIT_ASSERT_EQUAL(std::string("ERROR empty request\n"), ask(""));
        CPPUNIT_ASSERT_EQUAL(std::string("ERROR the request is not valid UTF-8\n"), ask("echo \xc3("));
        CPPUNIT_ASSERT_EQUAL(std::string("ERROR the request contains a control character\n"),
                             ask(std::string("echo a\0b", 8)));
        CPPUNIT_ASSERT_EQUAL(std::string("OK\n[fine]\n"), ask("echo fine"));
    }

    // A client may end its request by closing its sending side instead of a newline;
    // a connection that sends nothing is closed silently.
    void testRequestEndedByClose() {
        startServer();
        {
            RawClient c(path_);
            CPPUNIT_ASSERT(c.send("echo no-newline"));
            ::shutdown(c.fd, SHUT_WR);
            CPPUNIT_ASSERT(pump([&] { return c.poll(); }, 3000));
            CPPUNIT_ASSERT_EQUAL(std::string("OK\n[no-newline]\n"), c.got);
        }
        {
            RawClient c(path_);
            ::shutdown(c.fd, SHUT_WR);
            CPPUNIT_ASSERT(pump([&] { return c.poll(); }, 3000));
            CPPUNIT_ASSERT_EQUAL(std::string(), c.got);
        }
        CPPUNIT_ASSERT(pump([&] { return server_->clientCount() == 0; }, 2000));
    }

    // An exception in a handler becomes an ERROR; the server goes on.
    void testHandlerExceptionBecomesError() {
        startServer();
        server_->addCommand("boom", "", "throws", [](const std::vector<std::string>&) -> ControlReply {
            throw std::runtime_error("kaput");
        });
        CPPUNIT_ASSERT_EQUAL(std::string("ERROR internal error: kaput\n"), ask("boom"));
        CPPUNIT_ASSERT_EQUAL(std::string("OK\n[still]\n"), ask("echo still"));
    }

    // More than 4 KiB without a newline is answered ERROR and the connection closed;
    // the server reads no more than one byte past the limit into memory.
    void testOversizeRequestRefused() {
        startServer();
        RawClient c(path_);
        CPPUNIT_ASSERT(c.send("echo " + std::string(100000, 'x')));
        CPPUNIT_ASSERT(pump([&] { return c.poll(); }, 3000));
        CPPUNIT_ASSERT_EQUAL(std::string("ERROR request too long (the limit is 4096 bytes)\n"), c.got);
        CPPUNIT_ASSERT(pump([&] { return server_->clientCount() == 0; }, 3000));
        CPPUNIT_ASSERT_EQUAL(std::string("OK\n[after]\n"), ask("echo after"));
    }

    // A request line of exactly 4096 bytes is still served.
    void testLongestRequestAccepted() {
        startServer();
        const std::string arg(4096 - 5, 'y');
        CPPUNIT_ASSERT_EQUAL("OK\n[" + arg + "]\n", ask("echo " + arg));
        const std::string over(4096 - 4, 'y');
        CPPUNIT_ASSERT_EQUAL(std::string("ERROR request too long (the limit is 4096 bytes)\n"), ask("echo " + over));
    }

    // A client that never finishes its request is answered and dropped at the
    // timeout, and others are served meanwhile.
    void testSlowClientTimesOutWithoutBlocking() {
        auto o = options();
        o.requestTimeoutMs = 1000;
        startServer(o);
        const auto t0 = Clock::now();
        RawClient slow(path_);
        CPPUNIT_ASSERT(slow.send("ech"));
        CPPUNIT_ASSERT_EQUAL(std::string("OK\n[meanwhile]\n"), ask("echo meanwhile"));
        CPPUNIT_ASSERT(!slow.poll());
        CPPUNIT_ASSERT_EQUAL(std::string(), slow.got);
        CPPUNIT_ASSERT(pump([&] { return slow.poll(); }, 5000));
        // libevent reads a coarse clock: allow it a few milliseconds early.
        CPPUNIT_ASSERT(Clock::now() - t0 >= std::chrono::milliseconds(950));
        CPPUNIT_ASSERT_EQUAL(std::string("ERROR timed out waiting for the request\n"), slow.got);
        CPPUNIT_ASSERT(pump([&] { return server_->clientCount() == 0; }, 2000));
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), server_->stats().timedOut);
    }

    // A client that sends a request but never reads a large reply is dropped at
    // the write timeout instead of holding its slot.
    void testClientThatNeverReadsIsDropped() {
        auto o = options();
        o.replyTimeoutMs = 300;
        startServer(o);
        server_->addCommand("big", "", "a large reply", [](const std::vector<std::string>&) {
            return ControlReply::ok(std::string(3 << 20, 'z'));
        });
        RawClient c(path_);
        CPPUNIT_ASSERT(c.send("big\n"));
        CPPUNIT_ASSERT(pump([&] { return server_->clientCount() == 1 && server_->stats().requests == 1; }, 2000));
        CPPUNIT_ASSERT(pump([&] { return server_->clientCount() == 0; }, 3000));
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), server_->stats().timedOut);
        // A reader that keeps up gets the whole of it (with the default timeout).
        server_.reset();
        startServer();
        server_->addCommand("big", "", "a large reply", [](const std::vector<std::string>&) {
            return ControlReply::ok(std::string(3 << 20, 'z'));
        });
        RawClient r(path_);
        CPPUNIT_ASSERT(r.send("big\n"));
        CPPUNIT_ASSERT(pump([&] { return r.poll(); }, 5000));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3 + (3 << 20) + 1), r.got.size());
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), server_->stats().timedOut);
    }

    // Many clients with interleaved, partial requests all get their own answer.
    void testManyClientsAtOnce() {
        startServer();
        const int n = 12;
        std::vector<std::unique_ptr<RawClient>> cs;
        for (int i = 0; i < n; ++i) {
            cs.push_back(std::make_unique<RawClient>(path_));
            CPPUNIT_ASSERT(cs.back()->send("echo client"));
        }
        pump([] { return false; }, 20);
        for (int i = n - 1; i >= 0; --i) CPPUNIT_ASSERT(cs[i]->send("-" + std::to_string(i) + "\n"));
        CPPUNIT_ASSERT(pump(
            [&] {
                bool all = true;
                for (auto& c : cs) all = c->poll() && all;
                return all;
            },
            5000));
        for (int i = 0; i < n; ++i) CPPUNIT_ASSERT_EQUAL("OK\n[client-" + std::to_string(i) + "]\n", cs[i]->got);
        CPPUNIT_ASSERT(pump([&] { return server_->clientCount() == 0; }, 2000));
    }

    // Past maxClients a newcomer is told "busy" at once; a freed slot serves again.
    void testConnectionCap() {
        auto o = options();
        o.maxClients = 2;
        startServer(o);
        RawClient a(path_), b(path_);
        CPPUNIT_ASSERT(pump([&] { return server_->clientCount() == 2; }, 2000));
        RawClient c(path_);
        CPPUNIT_ASSERT(pump([&] { return c.poll(); }, 2000));
        CPPUNIT_ASSERT_EQUAL(std::string("ERROR busy: too many control connections, try again\n"), c.got);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), server_->stats().refusedBusy);
        CPPUNIT_ASSERT(a.send("echo a\n"));
        CPPUNIT_ASSERT(pump([&] { return a.poll(); }, 2000));
        CPPUNIT_ASSERT_EQUAL(std::string("OK\n[a]\n"), a.got);
        CPPUNIT_ASSERT(pump([&] { return server_->clientCount() == 1; }, 2000));
        CPPUNIT_ASSERT_EQUAL(std::string("OK\n[d]\n"), ask("echo d"));
    }

    // ------------------------------------------------------------ deferred replies

    // A handler answers later from a loop callback; the client waits for it.
    void testDeferredReplyCompletedLater() {
        startServer();
        ControlDeferral pending;
        server_->addCommand("resync", "NAME", "later", [&](const std::vector<std::string>& args) {
            ControlReply r = ControlReply::later(pending);
            CPPUNIT_ASSERT_EQUAL(std::size_t(1), args.size());
            return r;
        });
        RawClient c(path_);
        CPPUNIT_ASSERT(c.send("resync peer\n"));
        CPPUNIT_ASSERT(pump([&] { return pending.waiting(); }, 2000));
        pump([] { return false; }, 100);
        CPPUNIT_ASSERT(!c.poll());
        CPPUNIT_ASSERT_EQUAL(std::string(), c.got);
        bool delivered = false;
        common::Timer later(*loop_, [&] { delivered = pending.complete(ControlReply::ok("resync started")); });
        later.startMs(50);
        CPPUNIT_ASSERT(pump([&] { return c.poll(); }, 3000));
        CPPUNIT_ASSERT(delivered);
        CPPUNIT_ASSERT_EQUAL(std::string("OK\nresync started\n"), c.got);
        CPPUNIT_ASSERT(!pending.waiting());
        CPPUNIT_ASSERT(!pending.complete(ControlReply::error("again")));
    }

    // A deferral completed before the handler returns is sent at once.
    void testDeferredReplyCompletedInsideHandler() {
        startServer();
        server_->addCommand("quick", "", "", [](const std::vector<std::string>&) {
            ControlDeferral d;
            ControlReply r = ControlReply::later(d);
            CPPUNIT_ASSERT(d.complete(ControlReply::ok("already")));
            return r;
        });
        CPPUNIT_ASSERT_EQUAL(std::string("OK\nalready\n"), ask("quick"));
    }

    // A deferral nobody completes ends in an ERROR at deferredTimeoutMs; completing it later does nothing.
    void testDeferredReplyTimesOut() {
        auto o = options();
        o.deferredTimeoutMs = 200;
        startServer(o);
        ControlDeferral pending;
        server_->addCommand("stuck", "", "", [&](const std::vector<std::string>&) { return ControlReply::later(pending); });
        CPPUNIT_ASSERT_EQUAL(std::string("ERROR timed out waiting for stuck to answer\n"), ask("stuck"));
        CPPUNIT_ASSERT(!pending.waiting());
        CPPUNIT_ASSERT(!pending.complete(ControlReply::ok("too late")));
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), server_->stats().timedOut);
    }

    // If the client left while waiting, the late reply is dropped and the slot freed.
    void testDeferredReplyToDepartedClient() {
        startServer();
        ControlDeferral pending;
        server_->addCommand("resync", "NAME", "", [&](const std::vector<std::string>&) { return ControlReply::later(pending); });
        {
            RawClient c(path_);
            CPPUNIT_ASSERT(c.send("resync p\n"));
            CPPUNIT_ASSERT(pump([&] { return pending.waiting(); }, 2000));
        }
        pending.complete(ControlReply::ok(std::string(1 << 20, 'q')));
        CPPUNIT_ASSERT(pump([&] { return server_->clientCount() == 0; }, 3000));
        CPPUNIT_ASSERT_EQUAL(std::string("OK\n[next]\n"), ask("echo next"));
    }

    // close() drops waiting clients; their deferrals then report nobody waits.
    void testCloseAbandonsDeferredReplies() {
        startServer();
        ControlDeferral pending;
        server_->addCommand("resync", "NAME", "", [&](const std::vector<std::string>&) { return ControlReply::later(pending); });
        RawClient c(path_);
        CPPUNIT_ASSERT(c.send("resync p\n"));
        CPPUNIT_ASSERT(pump([&] { return pending.waiting(); }, 2000));
        server_->close();
        CPPUNIT_ASSERT(!pending.waiting());
        CPPUNIT_ASSERT(!pending.complete(ControlReply::ok()));
        CPPUNIT_ASSERT(pump([&] { return c.poll(); }, 2000));
        CPPUNIT_ASSERT_EQUAL(std::string(), c.got);
        CPPUNIT_ASSERT(!server_->listening());
    }

    // ------------------------------------------------------------ the socket file

    // The socket is created 0660 and removed by close().
    void testSocketModeAndRemovalOnClose() {
        startServer();
        struct stat st{};
        CPPUNIT_ASSERT_EQUAL(0, ::lstat(path_.c_str(), &st));
        CPPUNIT_ASSERT(S_ISSOCK(st.st_mode));
        CPPUNIT_ASSERT_EQUAL(0660u, unsigned(st.st_mode & 07777));
        server_->close();
        CPPUNIT_ASSERT_EQUAL(-1, ::lstat(path_.c_str(), &st));
        CPPUNIT_ASSERT_EQUAL(ENOENT, errno);
        // Another mode is honoured exactly, whatever the umask.
        auto o = options();
        o.mode = 0600;
        const mode_t old = ::umask(0);
        startServer(o);
        ::umask(old);
        CPPUNIT_ASSERT_EQUAL(0, ::lstat(path_.c_str(), &st));
        CPPUNIT_ASSERT_EQUAL(0600u, unsigned(st.st_mode & 07777));
    }

    // close() removes only the file it created, not one put there since.
    void testCloseLeavesAReplacedFileAlone() {
        startServer();
        CPPUNIT_ASSERT_EQUAL(0, ::unlink(path_.c_str()));
        writeFile(path_, "someone else's\n");
        server_->close();
        struct stat st{};
        CPPUNIT_ASSERT_EQUAL(0, ::lstat(path_.c_str(), &st));
        CPPUNIT_ASSERT(S_ISREG(st.st_mode));
    }

    // A socket file left by a dead daemon is replaced.
    void testReplacesStaleSocket() {
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
        CPPUNIT_ASSERT_EQUAL(0, ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a));
        ::close(fd);  // the file stays, nobody listens: stale
        startServer();
        CPPUNIT_ASSERT_EQUAL(1, countLogs("control: removed the stale socket " + path_));
        CPPUNIT_ASSERT_EQUAL(std::string("OK\n[fresh]\n"), ask("echo fresh"));
    }

    // A socket a live server answers on is not taken over, nor removed by the loser.
    void testRefusesToStealLiveSocket() {
        startServer();
        {
            ControlServer second(*loop_, options());
            std::string error;
            CPPUNIT_ASSERT(!second.start(error));
            CPPUNIT_ASSERT_EQUAL("another server answers on the control socket " + path_ +
                                     "; is tandemd already running?",
                                 error);
            CPPUNIT_ASSERT(!second.listening());
        }
        struct stat st{};
        CPPUNIT_ASSERT_EQUAL(0, ::lstat(path_.c_str(), &st));
        CPPUNIT_ASSERT_EQUAL(std::string("OK\n[first]\n"), ask("echo first"));
        std::string error;
        CPPUNIT_ASSERT(!server_->start(error));  // and not twice either
    }

    // A file that is not a socket is never deleted.
    void testRefusesNonSocketPath() {
        writeFile(path_, "precious\n");
        ControlServer s(*loop_, options());
        std::string error;
        CPPUNIT_ASSERT(!s.start(error));
        CPPUNIT_ASSERT_EQUAL("control socket " + path_ + " exists and is not a socket; not replacing it", error);
        struct stat st{};
        CPPUNIT_ASSERT_EQUAL(0, ::lstat(path_.c_str(), &st));
        CPPUNIT_ASSERT(S_ISREG(st.st_mode));
    }

    // A path that does not fit sun_path is an error, not a truncation.
    void testRefusesTooLongPath() {
        auto o = options();
        o.path = dir_ + "/" + std::string(200, 'p');
        ControlServer s(*loop_, o);
        std::string error;
        CPPUNIT_ASSERT(!s.start(error));
        CPPUNIT_ASSERT(error.find("longer than 107 bytes") != std::string::npos);
    }

    // SO_PEERCRED lets in root and the daemon's uid only, even when the file is open to all.
    void testPeerCredentialsRefuseOtherUsers() {
        if (::geteuid() != 0) TANDEM_SKIP("needs root to connect as another user");
        startServer();
        CPPUNIT_ASSERT_EQUAL(0, ::chmod(dir_.c_str(), 0755));
        CPPUNIT_ASSERT_EQUAL(0, ::chmod(path_.c_str(), 0666));
        std::string got;
        const int rc = asNobody([&](int out) {
            RawClient c(path_);
            if (c.connectErrno) return 10;
            ::fcntl(c.fd, F_SETFL, 0);
            c.send("echo hi\n");
            char buf[256];
            ssize_t n;
            while ((n = ::recv(c.fd, buf, sizeof buf, 0)) > 0)
                if (::write(out, buf, std::size_t(n)) != n) return 11;
            return 0;
        }, got);
        CPPUNIT_ASSERT_EQUAL(0, rc);
        CPPUNIT_ASSERT_EQUAL(std::string("ERROR permission denied\n"), got);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), server_->stats().refusedPeer);
        CPPUNIT_ASSERT_EQUAL(1, countLogs("control: refused a connection from uid 65534"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), server_->clientCount());
    }

    // With the default mode 0660 another user cannot even connect.
    void testFileModeKeepsOtherUsersOut() {
        if (::geteuid() != 0) TANDEM_SKIP("needs root to connect as another user");
        startServer();
        CPPUNIT_ASSERT_EQUAL(0, ::chmod(dir_.c_str(), 0755));
        std::string got;
        const int rc = asNobody([&](int) {
            RawClient c(path_);
            return c.connectErrno == EACCES ? 0 : 20;
        }, got);
        CPPUNIT_ASSERT_EQUAL(0, rc);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), server_->stats().accepted);
    }

    // ------------------------------------------------------------ tandemctl

    // OK: the body goes to stdout and the exit status is 0.
    void testCtlPrintsBodyAndExitsZero() {
        startServer();
        server_->addCommand("status", "", "", [](const std::vector<std::string>& args) {
            return args.empty() ? ControlReply::ok("failover peer \"fo\": normal\n") : ControlReply::error("args");
        });
        RunResult r = ctl({"-s", path_, "status"});
        CPPUNIT_ASSERT_EQUAL(0, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string("failover peer \"fo\": normal\n"), r.out);
        CPPUNIT_ASSERT_EQUAL(std::string(), r.err);
        r = ctl({"-s" + path_, "version"});
        CPPUNIT_ASSERT_EQUAL(0, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string("tandemd " PACKAGE_VERSION "\n"), r.out);
    }

    // ERROR: the reason and body go to stderr and the exit status is 1.
    void testCtlErrorExitsOne() {
        startServer();
        server_->addCommand("partner-down", "NAME [--force]", "", [](const std::vector<std::string>&) {
            return ControlReply::error("peer fo is connected", "Use --force to override.");
        });
        RunResult r = ctl({"-s", path_, "partner-down", "fo"});
        CPPUNIT_ASSERT_EQUAL(1, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string(), r.out);
        CPPUNIT_ASSERT_EQUAL(std::string("tandemctl: partner-down: peer fo is connected\nUse --force to override.\n"), r.err);
    }

    // --force may come before or after NAME; the daemon always gets NAME first.
    void testCtlPutsForceAfterName() {
        startServer();
        std::vector<std::vector<std::string>> seen;
        server_->addCommand("partner-down", "NAME [--force]", "", [&](const std::vector<std::string>& args) {
            seen.push_back(args);
            return ControlReply::ok();
        });
        CPPUNIT_ASSERT_EQUAL(0, ctl({"-s", path_, "partner-down", "--force", "fo"}).status);
        CPPUNIT_ASSERT_EQUAL(0, ctl({"-s", path_, "partner-down", "fo", "--force"}).status);
        CPPUNIT_ASSERT_EQUAL(0, ctl({"-s", path_, "partner-down", "fo"}).status);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), seen.size());
        CPPUNIT_ASSERT(seen[0] == (std::vector<std::string>{"fo", "--force"}));
        CPPUNIT_ASSERT(seen[1] == (std::vector<std::string>{"fo", "--force"}));
        CPPUNIT_ASSERT(seen[2] == (std::vector<std::string>{"fo"}));
    }

    // A relationship name with spaces and quotes arrives as one argument.
    void testCtlQuotesNamesWithSpaces() {
        startServer();
        for (const char* cmd : {"resync", "shutdown-peer"}) {
            std::string seen;
            server_->addCommand(cmd, "NAME", "", [&](const std::vector<std::string>& args) {
                seen = args.size() == 1 ? args[0] : "wrong count";
                return ControlReply::ok("done");
            });
            RunResult r = ctl({"-s", path_, cmd, "dhcp 'fail' \"over\""});
            CPPUNIT_ASSERT_EQUAL(0, r.status);
            CPPUNIT_ASSERT_EQUAL(std::string("dhcp 'fail' \"over\""), seen);
        }
    }

    // Wrong arguments exit 2 with the usage, before anything is sent.
    void testCtlUsageErrorsExitTwo() {
        startServer();
        const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
            {{"-s", path_}, "tandemctl: no command given\n"},
            {{"-s"}, "tandemctl: -s needs a socket path\n"},
            {{"-x", "status"}, "tandemctl: unknown option -x\n"},
            {{"-s", path_, "status", "extra"}, "tandemctl: status: too many arguments (status)\n"},
            {{"-s", path_, "partner-down"}, "tandemctl: partner-down: the relationship NAME is missing (partner-down NAME [--force])\n"},
            {{"-s", path_, "partner-down", "a", "b"}, "tandemctl: partner-down: too many arguments (partner-down NAME [--force])\n"},
            {{"-s", path_, "partner-down", "a", "--force", "--force"}, "tandemctl: partner-down: --force given twice\n"},
            {{"-s", path_, "partner-down", "a", "--froce"}, "tandemctl: partner-down: unknown option --froce\n"},
            {{"-s", path_, "resync"}, "tandemctl: resync: the relationship NAME is missing (resync NAME)\n"},
            {{"-s", path_, "resync", "a", "--force"}, "tandemctl: resync: unknown option --force\n"},
            {{"-s", path_, "shutdown-peer", "a", "b"}, "tandemctl: shutdown-peer: too many arguments (shutdown-peer NAME)\n"},
            {{"-s", path_, "reload", "now"}, "tandemctl: reload: too many arguments (reload)\n"},
            {{"-s", path_, "resync", "a\nb"}, "tandemctl: argument 1 contains a control character\n"},
        };
        for (const auto& [args, message] : cases) {
            RunResult r = ctl(args);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(message, 2, r.status);
            CPPUNIT_ASSERT_EQUAL(message, r.err.substr(0, message.size()));
            CPPUNIT_ASSERT_MESSAGE(message, r.err.find("Usage: tandemctl [-s SOCKET] COMMAND") != std::string::npos);
            CPPUNIT_ASSERT_EQUAL(std::string(), r.out);
        }
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), server_->stats().accepted);
    }

    // -h/--help print the usage to stdout and --version the version, exiting 0.
    void testCtlHelpAndVersionOptions() {
        for (const char* h : {"-h", "--help"}) {
            RunResult r = ctl({h});
            CPPUNIT_ASSERT_EQUAL(0, r.status);
            CPPUNIT_ASSERT(r.out.find("partner-down NAME [--force]") != std::string::npos);
        }
        RunResult r = ctl({"--version"});
        CPPUNIT_ASSERT_EQUAL(0, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string("tandemctl " PACKAGE_VERSION "\n"), r.out);
    }

    // No daemon: exit 2 and a message that says what to check.
    void testCtlCannotConnect() {
        RunResult r = ctl({"-s", path_, "status"});
        CPPUNIT_ASSERT_EQUAL(2, r.status);
        CPPUNIT_ASSERT_EQUAL("tandemctl: cannot connect to " + path_ +
                                 ": No such file or directory \u2014 is tandemd running?\n",
                             r.err);
        // A stale socket nobody listens on.
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
        CPPUNIT_ASSERT_EQUAL(0, ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a));
        ::close(fd);
        r = ctl({"-s", path_, "status"});
        CPPUNIT_ASSERT_EQUAL(2, r.status);
        CPPUNIT_ASSERT_EQUAL("tandemctl: cannot connect to " + path_ + ": Connection refused \u2014 is tandemd running?\n",
                             r.err);
    }

    // TANDEMCTL_SOCKET names the socket when -s is absent; -s wins over it.
    void testCtlSocketFromEnvironment() {
        startServer();
        RunResult r = ctl({"version"}, {"TANDEMCTL_SOCKET=" + path_});
        CPPUNIT_ASSERT_EQUAL(0, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string("tandemd " PACKAGE_VERSION "\n"), r.out);
        r = ctl({"-s", path_, "version"}, {"TANDEMCTL_SOCKET=" + dir_ + "/nothing"});
        CPPUNIT_ASSERT_EQUAL(0, r.status);
        r = ctl({"version"}, {"TANDEMCTL_SOCKET=" + dir_ + "/nothing"});
        CPPUNIT_ASSERT_EQUAL(2, r.status);
        CPPUNIT_ASSERT(r.err.find("cannot connect to " + dir_ + "/nothing") != std::string::npos);
        // Without either, the default path is tried.
        r = ctl({"version"});
        if (::access(server::kDefaultControlSocket, F_OK) != 0)
            CPPUNIT_ASSERT(r.err.find(std::string("cannot connect to ") + server::kDefaultControlSocket) != std::string::npos);
    }

    // Commands tandemctl does not know go to the daemon, which judges them.
    void testCtlPassesUnknownCommandsOn() {
        startServer();
        RunResult r = ctl({"-s", path_, "frob", "x"});
        CPPUNIT_ASSERT_EQUAL(1, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string("tandemctl: frob: unknown command: frob\nSend \"help\" for the list of commands.\n"),
                             r.err);
        r = ctl({"-s", path_, "echo", "a b", "c"});
        CPPUNIT_ASSERT_EQUAL(0, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string("[a b][c]\n"), r.out);
    }

    // A daemon that refuses at once (busy) still gets its reason through to the user.
    void testCtlReportsRefusalWhenBusy() {
        auto o = options();
        o.maxClients = 0;
        startServer(o);
        for (int i = 0; i < 5; ++i) {
            RunResult r = ctl({"-s", path_, "version"});
            CPPUNIT_ASSERT_EQUAL(1, r.status);
            CPPUNIT_ASSERT_EQUAL(std::string("tandemctl: version: busy: too many control connections, try again\n"), r.err);
        }
    }

    // tandemctl waits for a deferred reply.
    void testCtlWaitsForDeferredReply() {
        startServer();
        ControlDeferral pending;
        common::Timer later(*loop_, [&] { pending.complete(ControlReply::ok("resync of fo started")); });
        server_->addCommand("resync", "NAME", "", [&](const std::vector<std::string>&) {
            later.startMs(300);
            return ControlReply::later(pending);
        });
        const auto t0 = Clock::now();
        RunResult r = ctl({"-s", path_, "resync", "fo"});
        CPPUNIT_ASSERT(Clock::now() - t0 >= std::chrono::milliseconds(250));
        CPPUNIT_ASSERT_EQUAL(0, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string("resync of fo started\n"), r.out);
    }

    // Something that is not our protocol on the socket is exit 2, not a crash.
    void testCtlMalformedAnswer() {
        int lfd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
        CPPUNIT_ASSERT_EQUAL(0, ::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a));
        CPPUNIT_ASSERT_EQUAL(0, ::listen(lfd, 4));
        int served = 0;
        common::IoWatcher w(*loop_, lfd, common::IoWatcher::kRead, [&](short) {
            int c = ::accept(lfd, nullptr, nullptr);
            if (c < 0) return;
            const char* answer = served++ == 0 ? "HELLO\n" : "";
            ssize_t n = ::send(c, answer, std::strlen(answer), MSG_NOSIGNAL);
            (void)n;
            ::close(c);
        });
        w.start();
        RunResult r = ctl({"-s", path_, "status"});
        CPPUNIT_ASSERT_EQUAL(2, r.status);
        CPPUNIT_ASSERT_EQUAL("tandemctl: malformed answer from " + path_ + "\n", r.err);
        r = ctl({"-s", path_, "status"});
        CPPUNIT_ASSERT_EQUAL(2, r.status);
        CPPUNIT_ASSERT(r.err.find("without an answer") != std::string::npos || r.err.find("cannot read") != std::string::npos);
        w.stop();
        ::close(lfd);
    }

private:
    static std::vector<std::string> words(const std::string& line) {
        std::vector<std::string> w;
        std::string e;
        if (!server::splitControlWords(line, w, e)) throw std::runtime_error("split failed: " + e);
        return w;
    }

    ControlServerOptions options() const {
        ControlServerOptions o;
        o.path = path_;
        return o;
    }

    // A server with `echo` (prints its arguments in brackets) and `fail`.
    void startServer(ControlServerOptions o) {
        server_ = std::make_unique<ControlServer>(*loop_, o);
        server_->addCommand(ControlCommand{"echo", "[WORD...]", "print the words back",
                                           [](const std::vector<std::string>& args) {
                                               std::string body;
                                               for (const auto& a : args) body += "[" + a + "]";
                                               return ControlReply::ok(body + "\n");
                                           },
                                           true});
        server_->addCommand("fail", "", "always fails",
                            [](const std::vector<std::string>&) { return ControlReply::error("always fails", "because"); });
        std::string error;
        CPPUNIT_ASSERT_MESSAGE(error, server_->start(error));
        CPPUNIT_ASSERT(server_->listening());
    }
    void startServer() { startServer(options()); }

    /// Runs the loop until `done` or `ms` milliseconds have passed.
    bool pump(const std::function<bool()>& done, int ms) {
        const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
        while (!done()) {
            if (Clock::now() > deadline) return false;
            loop_->runOnce();
            ::poll(nullptr, 0, 1);
        }
        return true;
    }

    /// One request on a fresh connection; the whole answer once the server closes.
    std::string ask(const std::string& line) {
        RawClient c(path_);
        CPPUNIT_ASSERT_EQUAL(0, c.connectErrno);
        CPPUNIT_ASSERT(c.send(line + "\n"));
        CPPUNIT_ASSERT_MESSAGE("no answer to " + line, pump([&] { return c.poll(); }, 5000));
        return c.got;
    }

    int countLogs(const std::string& prefix) const {
        int n = 0;
        for (const auto& l : logs_)
            if (l.compare(0, prefix.size(), prefix) == 0) ++n;
        return n;
    }

    static void writeFile(const std::string& path, const std::string& text) {
        FILE* f = std::fopen(path.c_str(), "w");
        CPPUNIT_ASSERT(f != nullptr);
        std::fputs(text.c_str(), f);
        std::fclose(f);
    }

    /// Runs `body` in a child as uid/gid 65534 while this process serves the
    /// loop; what the child writes to its fd comes back in `out`.
    int asNobody(const std::function<int(int)>& body, std::string& out) {
        int p[2];
        CPPUNIT_ASSERT_EQUAL(0, ::pipe(p));
        pid_t pid = ::fork();
        CPPUNIT_ASSERT(pid >= 0);
        if (pid == 0) {
            ::close(p[0]);
            if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(30);
            ::_exit(body(p[1]));
        }
        ::close(p[1]);
        ::fcntl(p[0], F_SETFL, O_NONBLOCK);
        int status = -1;
        bool exited = false, closed = false;
        pump(
            [&] {
                drain(p[0], out, closed);
                if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) exited = true;
                return exited && closed;
            },
            10000);
        if (!exited) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
        }
        ::close(p[0]);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

    static void drain(int fd, std::string& into, bool& closed) {
        char buf[4096];
        for (;;) {
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n > 0) {
                into.append(buf, std::size_t(n));
                continue;
            }
            if (n == 0) closed = true;
            return;
        }
    }

    /// Runs the built tandemctl with `args` (and `env` added to an environment
    /// without TANDEMCTL_SOCKET) while this process serves the loop.
    RunResult ctl(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
        std::vector<std::string> argvS{TANDEMCTL_PATH};
        argvS.insert(argvS.end(), args.begin(), args.end());
        std::vector<std::string> envS;
        for (char** e = environ; *e; ++e)
            if (std::strncmp(*e, "TANDEMCTL_SOCKET=", 17) != 0) envS.emplace_back(*e);
        envS.insert(envS.end(), env.begin(), env.end());
        std::vector<char*> argv, envp;
        for (auto& s : argvS) argv.push_back(s.data());
        argv.push_back(nullptr);
        for (auto& s : envS) envp.push_back(s.data());
        envp.push_back(nullptr);

        int out[2], err[2];
        CPPUNIT_ASSERT_EQUAL(0, ::pipe(out));
        CPPUNIT_ASSERT_EQUAL(0, ::pipe(err));
        pid_t pid = ::fork();
        CPPUNIT_ASSERT(pid >= 0);
        if (pid == 0) {
            ::dup2(out[1], 1);
            ::dup2(err[1], 2);
            ::close(out[0]);
            ::close(err[0]);
            ::close(out[1]);
            ::close(err[1]);
            ::execve(argv[0], argv.data(), envp.data());
            ::_exit(127);
        }
        ::close(out[1]);
        ::close(err[1]);
        ::fcntl(out[0], F_SETFL, O_NONBLOCK);
        ::fcntl(err[0], F_SETFL, O_NONBLOCK);
        RunResult r;
        int status = 0;
        bool exited = false, outClosed = false, errClosed = false;
        const bool finished = pump(
            [&] {
                drain(out[0], r.out, outClosed);
                drain(err[0], r.err, errClosed);
                if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) exited = true;
                return exited && outClosed && errClosed;
            },
            20000);
        if (!exited) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
        }
        ::close(out[0]);
        ::close(err[0]);
        CPPUNIT_ASSERT_MESSAGE("tandemctl did not finish in time", finished);
        r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return r;
    }

    std::string dir_, path_;
    std::unique_ptr<common::EventLoop> loop_;
    std::unique_ptr<ControlServer> server_;
    std::vector<std::string> logs_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(ControlTest);
