// Tests of server/metrics: the exposition text byte for byte, escaping,
// histograms, collectors run at scrape time and their failures, and the HTTP
// server on 127.0.0.1 (ephemeral port) driven by the test's own loop, always
// against a deadline. The scrape is also fed to tests/integration/promcheck.py,
// which the integration suite uses, so the checker is tested here too.
#include <cppunit/extensions/HelperMacros.h>

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/event.h"
#include "common/log.h"
#include "server/metrics.h"
#include "tests/unit/tap_skip.h"

#ifndef TANDEM_PROMCHECK
#error "TANDEM_PROMCHECK must name tests/integration/promcheck.py"
#endif

using namespace tandem;
using server::Histogram;
using server::Labels;
using server::MetricsRegistry;
using server::MetricsServer;
using server::MetricsServerLimits;
using server::MetricWriter;

// ---------------------------------------------------------------- allocation counting

// Every allocation in this program goes through here, so that a test can tell
// that Histogram::observe() allocates nothing. The counting is always on; tests
// compare the count before and after.
namespace {
unsigned long g_allocations = 0;
}

void* operator new(std::size_t n) {
    ++g_allocations;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    ++g_allocations;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    ++g_allocations;
    return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    ++g_allocations;
    return std::malloc(n ? n : 1);
}
void* operator new(std::size_t n, std::align_val_t a) {
    ++g_allocations;
    std::size_t al = static_cast<std::size_t>(a);
    if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
// GCC sees free() on memory from operator new once these inline into callers;
// here that is the point: the replaced new above gets it from malloc.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kLoopback = 0x7f000001;

/// A TCP client read without blocking, so that one thread drives both ends.
struct Client {
    int fd = -1;
    std::string got;
    bool eof = false;
    int connectErrno = 0;

    explicit Client(uint16_t port) {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(kLoopback);
        a.sin_port = htons(port);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) connectErrno = errno;
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    ~Client() { closeNow(); }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    void closeNow() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
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

/// An HTTP/1.1 response as the test reads it.
struct Response {
    int status = 0;
    std::string statusLine;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool complete = false;

    std::string header(const std::string& name) const {
        for (const auto& [n, v] : headers)
            if (strcasecmp(n.c_str(), name.c_str()) == 0) return v;
        return "";
    }
    bool has(const std::string& name) const {
        for (const auto& h : headers)
            if (strcasecmp(h.first.c_str(), name.c_str()) == 0) return true;
        return false;
    }
};

/// Parses `raw` as one response; `complete` once the whole body (Content-Length) is there.
/// `head` says the body is absent whatever Content-Length says (a HEAD request).
Response parseResponse(const std::string& raw, bool head = false) {
    Response r;
    auto end = raw.find("\r\n\r\n");
    if (end == std::string::npos) return r;
    std::string top = raw.substr(0, end);
    std::size_t pos = top.find("\r\n");
    r.statusLine = top.substr(0, pos);
    if (r.statusLine.size() >= 12) r.status = std::atoi(r.statusLine.c_str() + 9);
    while (pos != std::string::npos) {
        std::size_t next = top.find("\r\n", pos + 2);
        std::string line = top.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
        auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::string v = line.substr(colon + 1);
            while (!v.empty() && v.front() == ' ') v.erase(0, 1);
            r.headers.emplace_back(line.substr(0, colon), v);
        }
        pos = next;
    }
    std::size_t length = std::size_t(std::atol(r.header("Content-Length").c_str()));
    r.body = raw.substr(end + 4);
    if (head) {
        r.complete = true;
    } else if (r.body.size() >= length) {
        r.body.resize(length);
        r.complete = true;
    }
    return r;
}

int openDescriptors() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d)) ++n;
        ::closedir(d);
    }
    return n;
}

/// Runs `python3 promcheck.py ARGS FILE...` once over `texts`, each in a file of
/// its own; returns the exit status, and in `lines[i]` what it said of texts[i].
int promcheck(const std::vector<std::string>& texts, std::vector<std::string>& lines, const std::string& args = "") {
    std::vector<std::string> paths;
    std::string cmd = std::string("python3 '") + TANDEM_PROMCHECK + "' " + args;
    for (const auto& text : texts) {
        char path[] = "/tmp/tandem-metrics-XXXXXX";
        int fd = ::mkstemp(path);
        if (fd < 0) return -1;
        ssize_t w = ::write(fd, text.data(), text.size());
        ::close(fd);
        paths.push_back(path);
        if (w != ssize_t(text.size())) return -1;
        cmd += std::string(" '") + path + "'";
    }
    std::string output;
    int status = -1;
    if (FILE* p = ::popen((cmd + " 2>&1").c_str(), "r")) {
        char buf[4096];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) output.append(buf, n);
        status = ::pclose(p);
    }
    for (const auto& path : paths) ::unlink(path.c_str());
    lines.assign(texts.size(), "");
    std::size_t pos = 0;
    while (pos < output.size()) {
        std::size_t nl = output.find('\n', pos);
        std::string line = output.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos + 1);
        pos = nl == std::string::npos ? output.size() : nl + 1;
        bool matched = false;
        for (std::size_t i = 0; i < paths.size() && paths.size() > 1; ++i)
            if (line.compare(0, paths[i].size() + 2, paths[i] + ": ") == 0) {
                lines[i] += line.substr(paths[i].size() + 2);
                matched = true;
            }
        if (!matched && !lines.empty()) lines[0] += line;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int promcheck(const std::string& text, std::string& output, const std::string& args = "") {
    std::vector<std::string> lines;
    int rc = promcheck(std::vector<std::string>{text}, lines, args);
    output = lines.empty() ? "" : lines[0];
    return rc;
}

bool havePython() { return std::system("python3 -c 'import sys' >/dev/null 2>&1") == 0; }

const std::string kSelf =
    "# HELP tandem_metrics_collector_errors_total Collector runs that failed; their metrics were left out of that scrape.\n"
    "# TYPE tandem_metrics_collector_errors_total counter\n";

}  // namespace

class MetricsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MetricsTest);
    CPPUNIT_TEST(testFormatsValues);
    CPPUNIT_TEST(testCounterAndGaugeExposition);
    CPPUNIT_TEST(testFamiliesGroupedAcrossCollectors);
    CPPUNIT_TEST(testEscapesLabelsAndHelp);
    CPPUNIT_TEST(testHistogramBucketsAreCumulative);
    CPPUNIT_TEST(testHistogramWithLabels);
    CPPUNIT_TEST(testHistogramRejectsBadBounds);
    CPPUNIT_TEST(testObserveDoesNotAllocate);
    CPPUNIT_TEST(testNamingRules);
    CPPUNIT_TEST(testCollectorsRunAtScrapeTime);
    CPPUNIT_TEST(testCollectorHandleRemoves);
    CPPUNIT_TEST(testFailingCollectorIsLeftOut);
    CPPUNIT_TEST(testConflictingFamilyIsLeftOut);
    CPPUNIT_TEST(testRegisteredHistogram);
    CPPUNIT_TEST(testServesMetrics);
    CPPUNIT_TEST(testHeadHasNoBody);
    CPPUNIT_TEST(testOtherPathsAreNotFound);
    CPPUNIT_TEST(testOtherMethodsAreNotAllowed);
    CPPUNIT_TEST(testKeepAliveServesSeveralScrapes);
    CPPUNIT_TEST(testSilentClientIsDropped);
    CPPUNIT_TEST(testLifetimeIsBounded);
    CPPUNIT_TEST(testOversizedRequestIsRefused);
    CPPUNIT_TEST(testConnectionsAreCapped);
    CPPUNIT_TEST(testCollectorExceptionGivesNoError500);
    CPPUNIT_TEST(testBindFailureIsReported);
    CPPUNIT_TEST(testStartsFromConfiguration);
    CPPUNIT_TEST(testStopReleasesEverything);
    CPPUNIT_TEST(testPromcheckAcceptsScrape);
    CPPUNIT_TEST(testPromcheckRejectsBrokenText);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override {
        logs_.clear();
        common::logCapture([this](common::LogLevel, std::string_view m) { logs_.emplace_back(m); });
        common::LogConfig lc;
        lc.toSyslog = false;
        lc.toStderr = false;
        common::logInit(lc);
        loop_ = std::make_unique<common::EventLoop>();
    }
    void tearDown() override {
        server_.reset();
        registry_.reset();
        loop_.reset();
        common::logCapture({});
    }

    // ---------------------------------------------------------------- text

    // Values print as Prometheus reads them: integers plainly, others shortest-exact, and the special words.
    void testFormatsValues() {
        using server::formatMetricValue;
        CPPUNIT_ASSERT_EQUAL(std::string("0"), formatMetricValue(0));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), formatMetricValue(-0.0));
        CPPUNIT_ASSERT_EQUAL(std::string("42"), formatMetricValue(42));
        CPPUNIT_ASSERT_EQUAL(std::string("-3"), formatMetricValue(-3));
        CPPUNIT_ASSERT_EQUAL(std::string("1000000"), formatMetricValue(1e6));
        // Past 2^53, whichever of the plain and the exponent form is shorter.
        CPPUNIT_ASSERT_EQUAL(std::string("18446744073709551616"), formatMetricValue(18446744073709551616.0));
        CPPUNIT_ASSERT_EQUAL(std::string("1e+300"), formatMetricValue(1e300));
        CPPUNIT_ASSERT_EQUAL(std::string("0.5"), formatMetricValue(0.5));
        CPPUNIT_ASSERT_EQUAL(std::string("0.0025"), formatMetricValue(0.0025));
        CPPUNIT_ASSERT_EQUAL(std::string("0.1"), formatMetricValue(0.1));
        CPPUNIT_ASSERT_EQUAL(std::string("1e-05"), formatMetricValue(0.00001));
        CPPUNIT_ASSERT_EQUAL(std::string("NaN"), formatMetricValue(std::nan("")));
        CPPUNIT_ASSERT_EQUAL(std::string("+Inf"), formatMetricValue(std::numeric_limits<double>::infinity()));
        CPPUNIT_ASSERT_EQUAL(std::string("-Inf"), formatMetricValue(-std::numeric_limits<double>::infinity()));
        // Every value reads back exactly.
        for (double v : {0.1, 1.0 / 3, 2.5e-7, 123456.789, 9007199254740993.0})
            CPPUNIT_ASSERT_EQUAL(v, std::strtod(formatMetricValue(v).c_str(), nullptr));
    }

    // A counter family with labels and a gauge without: HELP, TYPE, samples, exactly.
    void testCounterAndGaugeExposition() {
        MetricsRegistry reg;
        auto h = reg.addCollector("dhcp", [](MetricWriter& w) {
            w.counter("tandem_dhcp_packets_received_total", "DHCP messages received, by type.", {{"type", "discover"}}, 12);
            w.counter("tandem_dhcp_packets_received_total", "DHCP messages received, by type.", {{"type", "request"}}, 7);
            w.gauge("tandem_failover_unacked_updates", "Binding updates sent and not yet acknowledged.", 3);
        });
        const std::string want =
            "# HELP tandem_dhcp_packets_received_total DHCP messages received, by type.\n"
            "# TYPE tandem_dhcp_packets_received_total counter\n"
            "tandem_dhcp_packets_received_total{type=\"discover\"} 12\n"
            "tandem_dhcp_packets_received_total{type=\"request\"} 7\n"
            "# HELP tandem_failover_unacked_updates Binding updates sent and not yet acknowledged.\n"
            "# TYPE tandem_failover_unacked_updates gauge\n"
            "tandem_failover_unacked_updates 3\n" +
            kSelf + "tandem_metrics_collector_errors_total 0\n";
        CPPUNIT_ASSERT_EQUAL(want, reg.scrape());
    }

    // Samples of one family written by two collectors, interleaved with another family, print together once.
    void testFamiliesGroupedAcrossCollectors() {
        MetricsRegistry reg;
        auto a = reg.addCollector("a", [](MetricWriter& w) {
            w.gauge("tandem_a", "A.", {{"x", "1"}}, 1);
            w.gauge("tandem_b", "B.", 2);
            w.gauge("tandem_a", "A.", {{"x", "2"}}, 3);
        });
        auto b = reg.addCollector("b", [](MetricWriter& w) { w.gauge("tandem_a", "A.", {{"x", "3"}}, 4); });
        const std::string want =
            "# HELP tandem_a A.\n# TYPE tandem_a gauge\n"
            "tandem_a{x=\"1\"} 1\ntandem_a{x=\"2\"} 3\ntandem_a{x=\"3\"} 4\n"
            "# HELP tandem_b B.\n# TYPE tandem_b gauge\ntandem_b 2\n" +
            kSelf + "tandem_metrics_collector_errors_total 0\n";
        CPPUNIT_ASSERT_EQUAL(want, reg.scrape());
    }

    // Label values escape \ " and newline, HELP escapes \ and newline, and bytes that are not UTF-8 become U+FFFD.
    void testEscapesLabelsAndHelp() {
        using server::escapeHelp;
        using server::escapeLabelValue;
        CPPUNIT_ASSERT_EQUAL(std::string("a\\\\b\\\"c\\nd"), escapeLabelValue("a\\b\"c\nd"));
        CPPUNIT_ASSERT_EQUAL(std::string("a\\\\b\"c\\nd"), escapeHelp("a\\b\"c\nd"));
        CPPUNIT_ASSERT_EQUAL(std::string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
                             escapeLabelValue("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
        CPPUNIT_ASSERT_EQUAL(std::string("x\xef\xbf\xbdy"), escapeLabelValue("x\xffy"));
        CPPUNIT_ASSERT_EQUAL(std::string("\xef\xbf\xbd\xef\xbf\xbd"), escapeLabelValue("\xc0\xaf"));  // overlong '/'
        CPPUNIT_ASSERT_EQUAL(std::string("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"),
                             escapeLabelValue("\xed\xa0\x80"));  // a UTF-16 surrogate
        CPPUNIT_ASSERT_EQUAL(std::string("end\xef\xbf\xbd\xef\xbf\xbd"), escapeLabelValue("end\xe2\x82"));  // cut short: each byte

        MetricWriter w;
        w.gauge("tandem_failover_state", "State with a \\ and\na newline.", {{"peer", "we \"the\" pair\\1\n"}}, 1);
        CPPUNIT_ASSERT_EQUAL(std::string("# HELP tandem_failover_state State with a \\\\ and\\na newline.\n"
                                         "# TYPE tandem_failover_state gauge\n"
                                         "tandem_failover_state{peer=\"we \\\"the\\\" pair\\\\1\\n\"} 1\n"),
                             w.render());
    }

    // Buckets print cumulatively in bound order, then +Inf (== count), _sum and _count; a value on a bound counts in it.
    void testHistogramBucketsAreCumulative() {
        Histogram h({0.125, 0.5, 1});
        for (double v : {0.0625, 0.125, 0.25, 2.0, 0.75, 0.5}) h.observe(v);  // binary fractions: an exact sum
        h.observe(std::nan(""));  // ignored
        CPPUNIT_ASSERT_EQUAL(uint64_t(6), h.count());
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), h.bucket(0));
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), h.bucket(1));
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), h.bucket(2));
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), h.bucket(3));
        MetricWriter w;
        w.histogram("tandem_lease_commit_duration_seconds", "Lease file commits.", {}, h);
        CPPUNIT_ASSERT_EQUAL(std::string("# HELP tandem_lease_commit_duration_seconds Lease file commits.\n"
                                         "# TYPE tandem_lease_commit_duration_seconds histogram\n"
                                         "tandem_lease_commit_duration_seconds_bucket{le=\"0.125\"} 2\n"
                                         "tandem_lease_commit_duration_seconds_bucket{le=\"0.5\"} 4\n"
                                         "tandem_lease_commit_duration_seconds_bucket{le=\"1\"} 5\n"
                                         "tandem_lease_commit_duration_seconds_bucket{le=\"+Inf\"} 6\n"
                                         "tandem_lease_commit_duration_seconds_sum 3.6875\n"
                                         "tandem_lease_commit_duration_seconds_count 6\n"),
                             w.render());
    }

    // A labelled histogram puts le after its own labels, on buckets only; an empty one prints zeros.
    void testHistogramWithLabels() {
        Histogram h({0.001, 0.01});
        MetricWriter w;
        w.histogram("tandem_x_seconds", "X.", {{"file", "a"}}, h);
        h.observe(0.005);
        w.histogram("tandem_x_seconds", "X.", {{"file", "b"}}, h);
        CPPUNIT_ASSERT_EQUAL(std::string("# HELP tandem_x_seconds X.\n"
                                         "# TYPE tandem_x_seconds histogram\n"
                                         "tandem_x_seconds_bucket{file=\"a\",le=\"0.001\"} 0\n"
                                         "tandem_x_seconds_bucket{file=\"a\",le=\"0.01\"} 0\n"
                                         "tandem_x_seconds_bucket{file=\"a\",le=\"+Inf\"} 0\n"
                                         "tandem_x_seconds_sum{file=\"a\"} 0\n"
                                         "tandem_x_seconds_count{file=\"a\"} 0\n"
                                         "tandem_x_seconds_bucket{file=\"b\",le=\"0.001\"} 0\n"
                                         "tandem_x_seconds_bucket{file=\"b\",le=\"0.01\"} 1\n"
                                         "tandem_x_seconds_bucket{file=\"b\",le=\"+Inf\"} 1\n"
                                         "tandem_x_seconds_sum{file=\"b\"} 0.005\n"
                                         "tandem_x_seconds_count{file=\"b\"} 1\n"),
                             w.render());
    }

    // Bounds must be finite and strictly increasing; the helpers make valid ones.
    void testHistogramRejectsBadBounds() {
        CPPUNIT_ASSERT_THROW(Histogram({1, 0.5}), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(Histogram({1, 1}), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(Histogram({1, std::numeric_limits<double>::infinity()}), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(Histogram({std::nan("")}), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(Histogram::exponentialBounds(0, 2, 3), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(Histogram::exponentialBounds(1, 1, 3), std::invalid_argument);
        auto e = Histogram::exponentialBounds(0.001, 2, 4);
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), e.size());
        CPPUNIT_ASSERT_EQUAL(0.008, e[3]);
        Histogram ok(Histogram::commitLatencyBounds());
        CPPUNIT_ASSERT_EQUAL(std::size_t(14), ok.upperBounds().size());
        Histogram none({});  // only +Inf
        none.observe(5);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), none.bucket(0));
    }

    // observe() allocates nothing, whatever the value.
    void testObserveDoesNotAllocate() {
        Histogram h(Histogram::commitLatencyBounds());
        unsigned long before = g_allocations;
        for (int i = 0; i < 10000; ++i) h.observe(i * 0.0003);
        h.observe(-1);
        h.observe(std::numeric_limits<double>::infinity());
        const unsigned long after = g_allocations;  // read before the assertion allocates its message
        CPPUNIT_ASSERT_EQUAL(before, after);
        CPPUNIT_ASSERT_EQUAL(uint64_t(10002), h.count());
    }

    // Programming errors in names and values are refused with std::invalid_argument.
    void testNamingRules() {
        MetricWriter w;
        CPPUNIT_ASSERT_THROW(w.gauge("9lives", "x", 1), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(w.gauge("tandem-x", "x", 1), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(w.gauge("", "x", 1), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(w.counter("tandem_packets", "x", 1), std::invalid_argument);  // not *_total
        CPPUNIT_ASSERT_THROW(w.counter("tandem_packets_total", "x", -1), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(w.counter("tandem_packets_total", "x", std::nan("")), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(w.gauge("tandem_x", "x", {{"__name", "a"}}, 1), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(w.gauge("tandem_x", "x", {{"a-b", "a"}}, 1), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(w.gauge("tandem_x", "x", {{"a", "1"}, {"a", "2"}}, 1), std::invalid_argument);
        Histogram h({1});
        CPPUNIT_ASSERT_THROW(w.histogram("tandem_h_seconds", "x", {{"le", "1"}}, h), std::invalid_argument);
        w.gauge("tandem_x", "x", {{"a", "1"}}, 1);
        CPPUNIT_ASSERT_THROW(w.gauge("tandem_x", "x", {{"a", "1"}}, 2), std::invalid_argument);  // same series
        CPPUNIT_ASSERT_THROW(w.gauge("tandem_x", "other help", {{"a", "2"}}, 2), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(w.histogram("tandem_x", "x", {}, h), std::invalid_argument);  // another type
        w.gauge("tandem_ns:x", "colons are allowed in metric names", 1);
        w.gauge("tandem_x", "x", {{"a", "2"}}, 2);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), w.families());
        CPPUNIT_ASSERT(server::validLabelName("_a1"));
        CPPUNIT_ASSERT(!server::validLabelName("__a"));
        CPPUNIT_ASSERT(!server::validLabelName("a:b"));
    }

    // Collectors run at every scrape and see the state as it is then.
    void testCollectorsRunAtScrapeTime() {
        MetricsRegistry reg;
        uint64_t received = 0;
        int runs = 0;
        auto h = reg.addCollector("counter", [&](MetricWriter& w) {
            ++runs;
            w.counter("tandem_dhcp_packets_received_total", "Received.", {{"type", "discover"}}, double(received));
        });
        CPPUNIT_ASSERT_EQUAL(0, runs);
        CPPUNIT_ASSERT(reg.scrape().find("tandem_dhcp_packets_received_total{type=\"discover\"} 0\n") != std::string::npos);
        received = 41;
        ++received;
        CPPUNIT_ASSERT(reg.scrape().find("tandem_dhcp_packets_received_total{type=\"discover\"} 42\n") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(2, runs);
    }

    // A collector goes with its handle, even one moved or reset; a handle may outlive the registry.
    void testCollectorHandleRemoves() {
        auto reg = std::make_unique<MetricsRegistry>();
        int runs = 0;
        server::CollectorHandle kept;
        {
            auto h = reg->addCollector("x", [&](MetricWriter&) { ++runs; });
            CPPUNIT_ASSERT(h.active());
            kept = std::move(h);
            CPPUNIT_ASSERT(!h.active());
        }
        reg->scrape();
        CPPUNIT_ASSERT_EQUAL(1, runs);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), reg->collectorCount());
        kept.reset();
        reg->scrape();
        CPPUNIT_ASSERT_EQUAL(1, runs);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), reg->collectorCount());
        { auto gone = reg->addCollector("y", [&](MetricWriter&) { ++runs; }); }
        reg->scrape();
        CPPUNIT_ASSERT_EQUAL(1, runs);
        // A collector that removes another while the scrape runs.
        server::CollectorHandle second;
        auto first = reg->addCollector("first", [&](MetricWriter&) { second.reset(); });
        second = reg->addCollector("second", [&](MetricWriter&) { ++runs; });
        reg->scrape();
        CPPUNIT_ASSERT_EQUAL(1, runs);
        auto late = reg->addCollector("late", [&](MetricWriter&) { ++runs; });
        reg.reset();
        CPPUNIT_ASSERT(!late.active());
        late.reset();  // the registry is gone: nothing to do, and no crash
    }

    // A collector that throws, or writes an invalid sample, loses all of its samples; the others stay; it is counted and logged.
    void testFailingCollectorIsLeftOut() {
        MetricsRegistry reg;
        auto good = reg.addCollector("good", [](MetricWriter& w) { w.gauge("tandem_good", "Good.", 1); });
        auto thrower = reg.addCollector("thrower", [](MetricWriter& w) {
            w.gauge("tandem_partial", "Written before the throw.", 1);
            throw std::runtime_error("store gone");
        });
        auto invalid = reg.addCollector("invalid", [](MetricWriter& w) {
            w.gauge("tandem_partial2", "Written before the mistake.", 1);
            w.counter("tandem_not_a_counter", "No _total.", 1);
        });
        auto intThrower = reg.addCollector("int", [](MetricWriter&) { throw 42; });
        std::string s = reg.scrape();
        CPPUNIT_ASSERT_MESSAGE(s, s.find("tandem_good 1\n") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(s, s.find("tandem_partial") == std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(s, s.find("tandem_not_a_counter") == std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(s, s.find("tandem_metrics_collector_errors_total 3\n") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(uint64_t(3), reg.collectorErrors());
        CPPUNIT_ASSERT(logged("metrics collector thrower failed, its metrics are left out of this scrape: store gone"));
        CPPUNIT_ASSERT(logged("metrics collector invalid failed"));
        CPPUNIT_ASSERT(logged("metrics collector int failed, its metrics are left out of this scrape: unknown exception"));
    }

    // A family another collector already wrote with another type (or help), or a series written twice, drops the latecomer.
    void testConflictingFamilyIsLeftOut() {
        MetricsRegistry reg;
        auto a = reg.addCollector("a", [](MetricWriter& w) { w.gauge("tandem_x", "X.", {{"k", "1"}}, 1); });
        auto b = reg.addCollector("b", [](MetricWriter& w) {
            w.gauge("tandem_y", "Y.", 5);
            w.counter("tandem_x_total", "Fine.", 1);
            Histogram h({1});
            w.histogram("tandem_x", "X.", {}, h);
        });
        auto c = reg.addCollector("c", [](MetricWriter& w) { w.gauge("tandem_x", "X.", {{"k", "1"}}, 2); });
        auto d = reg.addCollector("d", [](MetricWriter& w) { w.gauge("tandem_x", "X!", {{"k", "2"}}, 2); });
        auto e = reg.addCollector("e", [](MetricWriter& w) { w.gauge("tandem_x", "X.", {{"k", "3"}}, 3); });
        // The registry's own counter is not a collector's to write, with any labels.
        auto f = reg.addCollector("f", [](MetricWriter& w) {
            w.counter("tandem_metrics_collector_errors_total", "Collector runs that failed; their metrics were left out "
                      "of that scrape.", {{"k", "1"}}, 7);
        });
        const std::string want = "# HELP tandem_x X.\n# TYPE tandem_x gauge\ntandem_x{k=\"1\"} 1\ntandem_x{k=\"3\"} 3\n" +
                                 kSelf + "tandem_metrics_collector_errors_total 4\n";
        CPPUNIT_ASSERT_EQUAL(want, reg.scrape());
    }

    // A registry-owned histogram prints at every scrape with what was observed; a second one of the same series is refused.
    void testRegisteredHistogram() {
        MetricsRegistry reg;
        Histogram& h = reg.addHistogram("tandem_lease_commit_duration_seconds", "Commits.", {0.001, 0.01});
        h.observe(0.0005);
        h.observe(0.02);
        std::string s = reg.scrape();
        CPPUNIT_ASSERT_MESSAGE(s, s.find("tandem_lease_commit_duration_seconds_bucket{le=\"0.001\"} 1\n"
                                         "tandem_lease_commit_duration_seconds_bucket{le=\"0.01\"} 1\n"
                                         "tandem_lease_commit_duration_seconds_bucket{le=\"+Inf\"} 2\n"
                                         "tandem_lease_commit_duration_seconds_sum 0.0205\n"
                                         "tandem_lease_commit_duration_seconds_count 2\n") != std::string::npos);
        CPPUNIT_ASSERT_THROW(reg.addHistogram("tandem_lease_commit_duration_seconds", "Commits.", {1}), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(reg.addHistogram("tandem_bad", "x", {2, 1}), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(reg.addHistogram("tandem_bad", "x", {1}, {{"le", "x"}}), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(reg.addHistogram("tandem_metrics_collector_errors_total", "x", {1}), std::invalid_argument);
        Histogram& other = reg.addHistogram("tandem_lease_commit_duration_seconds", "Commits.", {0.001, 0.01},
                                            {{"file", "b"}});
        other.observe(1);
        CPPUNIT_ASSERT(reg.scrape().find("tandem_lease_commit_duration_seconds_count{file=\"b\"} 1\n") != std::string::npos);
    }

    // ---------------------------------------------------------------- HTTP

    // GET /metrics: 200, the exact Content-Type, and the registry's scrape as the body.
    void testServesMetrics() {
        startServer();
        Response r = request("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
        CPPUNIT_ASSERT_EQUAL(200, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string("text/plain; version=0.0.4; charset=utf-8"), r.header("Content-Type"));
        CPPUNIT_ASSERT_EQUAL(std::to_string(r.body.size()), r.header("Content-Length"));
        CPPUNIT_ASSERT_EQUAL("# HELP tandem_test_scrapes_seen Scrapes this test has served.\n"
                             "# TYPE tandem_test_scrapes_seen gauge\n"
                             "tandem_test_scrapes_seen 1\n" +
                                 kSelf + "tandem_metrics_collector_errors_total 0\n",
                             r.body);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), server_->stats().scrapes);
        CPPUNIT_ASSERT(logged("Metrics endpoint listening on http://127.0.0.1:" + std::to_string(server_->port()) +
                              "/metrics"));
        // HTTP/1.0 and a query string are fine too.
        Response r10 = request("GET /metrics?debug=1 HTTP/1.0\r\n\r\n");
        CPPUNIT_ASSERT_EQUAL(200, r10.status);
    }

    // HEAD /metrics: the headers of a GET, no body.
    void testHeadHasNoBody() {
        startServer();
        Client c(server_->port());
        CPPUNIT_ASSERT(c.send("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
        CPPUNIT_ASSERT(pump([&] { c.poll(); return c.got.find("\r\n\r\n") != std::string::npos; }, 5000));
        pump([&] { c.poll(); return c.eof; }, 100);  // anything more would be a body
        CPPUNIT_ASSERT(!c.eof);  // and the connection stays open for the next request
        Response r = parseResponse(c.got, true);
        CPPUNIT_ASSERT_EQUAL(200, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string("text/plain; version=0.0.4; charset=utf-8"), r.header("Content-Type"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), r.body);
    }

    // Any other path is 404.
    void testOtherPathsAreNotFound() {
        startServer();
        for (const char* path : {"/", "/metric", "/metrics/", "/metricsx", "/x/metrics", "*"}) {
            Response r = request(std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
            CPPUNIT_ASSERT_EQUAL_MESSAGE(path, 404, r.status);
        }
        CPPUNIT_ASSERT_EQUAL(uint64_t(6), server_->stats().notFound);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), server_->stats().scrapes);
    }

    // POST, PUT, DELETE and the rest are 405 with `Allow: GET, HEAD`, and run no collector; unknown methods 501.
    void testOtherMethodsAreNotAllowed() {
        startServer();
        for (const char* m : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"}) {
            std::string body = std::string(m) == "POST" || std::string(m) == "PUT" ? "x=1" : "";
            Response r = request(std::string(m) + " /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\n\r\n" + body);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(m, 405, r.status);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(m, std::string("GET, HEAD"), r.header("Allow"));
        }
        // A method HTTP does not define is evhttp's to refuse: 501 (RFC 9110 §15.6.2).
        CPPUNIT_ASSERT_EQUAL(501, request("BREW /metrics HTTP/1.1\r\nHost: x\r\n\r\n").status);
        CPPUNIT_ASSERT_EQUAL(0, scrapesSeen_);
        CPPUNIT_ASSERT_EQUAL(uint64_t(6), server_->stats().badMethod);
    }

    // One keep-alive connection serves one scrape after another, each read afresh.
    void testKeepAliveServesSeveralScrapes() {
        startServer();
        Client c(server_->port());
        for (int i = 1; i <= 3; ++i) {
            c.got.clear();
            CPPUNIT_ASSERT(c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
            CPPUNIT_ASSERT(pump([&] { c.poll(); return parseResponse(c.got).complete; }, 5000));
            Response r = parseResponse(c.got);
            CPPUNIT_ASSERT_EQUAL(200, r.status);
            CPPUNIT_ASSERT(r.body.find("tandem_test_scrapes_seen " + std::to_string(i) + "\n") != std::string::npos);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), server_->connections());
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), server_->stats().accepted);
        c.closeNow();
        CPPUNIT_ASSERT(pump([&] { return server_->connections() == 0; }, 2000));
    }

    // A client that connects and never sends its request is dropped after the idle timeout.
    void testSilentClientIsDropped() {
        MetricsServerLimits l;
        l.idleTimeoutMs = 200;
        startServer(l);
        auto t0 = Clock::now();
        Client c(server_->port());
        CPPUNIT_ASSERT_EQUAL(0, c.connectErrno);
        CPPUNIT_ASSERT(pump([&] { return server_->connections() == 1; }, 2000));
        CPPUNIT_ASSERT_MESSAGE("not dropped", pump([&] { return c.poll(); }, 5000));
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
        CPPUNIT_ASSERT_MESSAGE(std::to_string(ms) + " ms", ms >= 150 && ms < 3000);
        CPPUNIT_ASSERT(pump([&] { return server_->connections() == 0; }, 2000));
        CPPUNIT_ASSERT_EQUAL(0, scrapesSeen_);
    }

    // A client that trickles its request, so that it is never idle, is cut at the lifetime limit.
    void testLifetimeIsBounded() {
        MetricsServerLimits l;
        l.idleTimeoutMs = 5000;
        l.maxLifetimeMs = 300;
        startServer(l);
        auto t0 = Clock::now();
        Client c(server_->port());
        CPPUNIT_ASSERT(c.send("GET /metrics HTTP/1.1\r\n"));
        int sent = 0;
        auto next = Clock::now();
        bool closed = pump([&] {
            if (Clock::now() >= next && sent < 200) {
                c.send("X-Slow: y\r\n");  // may fail once the server has shut the socket
                ++sent;
                next = Clock::now() + std::chrono::milliseconds(20);
            }
            return c.poll();
        }, 5000);
        CPPUNIT_ASSERT_MESSAGE("not cut", closed);
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
        CPPUNIT_ASSERT_MESSAGE(std::to_string(ms) + " ms", ms >= 250 && ms < 3000);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), server_->stats().lifetimeCuts);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), server_->stats().lostConnections);  // the sweeps saw it alive
        CPPUNIT_ASSERT(pump([&] { return server_->connections() == 0; }, 2000));
        CPPUNIT_ASSERT_EQUAL(0, scrapesSeen_);
    }

    // Headers past the limit get 400, a body past it 413 (evhttp's replies), and the connection closes; no scrape.
    void testOversizedRequestIsRefused() {
        MetricsServerLimits l;
        l.maxHeaderBytes = 1024;
        l.maxBodyBytes = 16;
        startServer(l);
        {
            Client c(server_->port());
            c.send("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
            CPPUNIT_ASSERT(pump([&] { return c.poll(); }, 5000));
            Response r = parseResponse(c.got);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(c.got.substr(0, 40), 400, r.status);
        }
        {
            Client c(server_->port());
            c.send("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'b'));
            CPPUNIT_ASSERT(pump([&] { return c.poll(); }, 5000));
            Response r = parseResponse(c.got);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(c.got.substr(0, 40), 413, r.status);
        }
        CPPUNIT_ASSERT_EQUAL(0, scrapesSeen_);
    }

    // No more than maxConnections are open: the next client waits in the backlog and is served when one closes.
    void testConnectionsAreCapped() {
        MetricsServerLimits l;
        l.maxConnections = 2;
        startServer(l);
        Client a(server_->port()), b(server_->port()), c(server_->port());
        CPPUNIT_ASSERT_EQUAL(0, c.connectErrno);  // the kernel completed the handshake: it waits in the backlog
        CPPUNIT_ASSERT(pump([&] { return server_->connections() == 2; }, 2000));
        pump([] { return false; }, 200);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), server_->connections());
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), server_->stats().accepted);
        CPPUNIT_ASSERT(c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
        pump([&] { c.poll(); return !c.got.empty(); }, 200);
        CPPUNIT_ASSERT_EQUAL(std::string(""), c.got);  // not accepted yet
        a.closeNow();
        CPPUNIT_ASSERT(pump([&] { c.poll(); return parseResponse(c.got).complete; }, 5000));
        CPPUNIT_ASSERT_EQUAL(200, parseResponse(c.got).status);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), server_->connections());
        CPPUNIT_ASSERT(server_->stats().busyPauses >= 1);
    }

    // A collector that throws still leaves a valid 200 scrape, without its samples.
    void testCollectorExceptionGivesNoError500() {
        startServer();
        auto bad = registry_->addCollector("bad", [](MetricWriter&) { throw std::logic_error("oops"); });
        Response r = request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        CPPUNIT_ASSERT_EQUAL(200, r.status);
        CPPUNIT_ASSERT(r.body.find("tandem_metrics_collector_errors_total 1\n") != std::string::npos);
        CPPUNIT_ASSERT(r.body.find("tandem_test_scrapes_seen 1\n") != std::string::npos);
    }

    // A port in use is reported with the address and the system's reason; the server is then not listening.
    void testBindFailureIsReported() {
        startServer();
        MetricsServer second(*loop_, *registry_);
        std::string error;
        CPPUNIT_ASSERT(!second.start(kLoopback, server_->port(), error));
        CPPUNIT_ASSERT_MESSAGE(error, error.find("cannot listen on 127.0.0.1 port " + std::to_string(server_->port()) +
                                                 ": Address already in use") != std::string::npos);
        CPPUNIT_ASSERT(!second.listening());
        // 192.0.2.1 (TEST-NET-1) is no address of this machine.
        CPPUNIT_ASSERT(!second.start(0xc0000201, 0, error));
        CPPUNIT_ASSERT_MESSAGE(error, error.find("Cannot assign requested address") != std::string::npos);
    }

    // start() takes the configuration's MetricsListen as it is.
    void testStartsFromConfiguration() {
        registry_ = std::make_unique<MetricsRegistry>();
        server_ = std::make_unique<MetricsServer>(*loop_, *registry_);
        conf::MetricsListen m;
        m.address = kLoopback;
        m.port = 0;
        std::string error;
        CPPUNIT_ASSERT_MESSAGE(error, server_->start(m, error));
        CPPUNIT_ASSERT(server_->port() != 0);
        CPPUNIT_ASSERT_EQUAL(kLoopback, server_->address());
        CPPUNIT_ASSERT_EQUAL(200, request("GET /metrics HTTP/1.0\r\n\r\n").status);
        // Starting again moves it.
        uint16_t first = server_->port();
        CPPUNIT_ASSERT_MESSAGE(error, server_->start(m, error));
        CPPUNIT_ASSERT(server_->listening());
        if (server_->port() != first) {
            Client old(first);
            CPPUNIT_ASSERT_EQUAL(ECONNREFUSED, old.connectErrno);
        }
        CPPUNIT_ASSERT_EQUAL(200, request("GET /metrics HTTP/1.0\r\n\r\n").status);
    }

    // stop() (and the destructor) close the listener and every connection: no descriptor is left behind.
    void testStopReleasesEverything() {
        loop_->runOnce();
        const int before = openDescriptors();
        startServer();
        uint16_t port = server_->port();
        {
            Client a(port), b(port);
            CPPUNIT_ASSERT(pump([&] { return server_->connections() == 2; }, 2000));
            server_->stop();
            CPPUNIT_ASSERT(!server_->listening());
            CPPUNIT_ASSERT_EQUAL(std::size_t(0), server_->connections());
            CPPUNIT_ASSERT(pump([&] { a.poll(); b.poll(); return a.eof && b.eof; }, 2000));
        }
        for (int i = 0; i < 10; ++i) loop_->runOnce();
        CPPUNIT_ASSERT_EQUAL(before, openDescriptors());
        {
            Client late(port);
            CPPUNIT_ASSERT_EQUAL(ECONNREFUSED, late.connectErrno);
        }
        // Destroying a server with open connections is just as clean.
        startServer();
        Client c(server_->port());
        CPPUNIT_ASSERT(pump([&] { return server_->connections() == 1; }, 2000));
        server_.reset();
        for (int i = 0; i < 10; ++i) loop_->runOnce();
        c.closeNow();
        CPPUNIT_ASSERT_EQUAL(before, openDescriptors());
    }

    // The integration suite's checker accepts a real scrape with histograms, labels and escapes.
    void testPromcheckAcceptsScrape() {
        if (!havePython()) TANDEM_SKIP("python3 is not installed");
        startServer();
        Histogram& h = registry_->addHistogram("tandem_lease_commit_duration_seconds", "Lease file commits.",
                                               Histogram::commitLatencyBounds());
        for (double v : {0.0001, 0.002, 0.004, 3.0}) h.observe(v);
        auto more = registry_->addCollector("more", [](MetricWriter& w) {
            w.gauge("tandem_failover_state", "State.", {{"peer", "a \"b\"\\\n"}, {"state", "normal"}}, 1);
            w.counter("tandem_dhcp_packets_received_total", "Received.", {{"type", "discover"}}, 5);
            w.gauge("tandem_failover_peer_clock_skew_seconds", "Skew.", {{"peer", "x"}}, -0.25);
        });
        Response r = request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        CPPUNIT_ASSERT_EQUAL(200, r.status);
        std::string out;
        CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 0, promcheck(r.body, out, "--prefix tandem_ --require tandem_failover_state"));
        CPPUNIT_ASSERT_EQUAL(std::string("ok: 6 families, 22 samples\n"), out);
    }

    // The checker refuses what Prometheus would refuse, and what tandemd promises never to write.
    void testPromcheckRejectsBrokenText() {
        if (!havePython()) TANDEM_SKIP("python3 is not installed");
        const std::string h = "# TYPE h histogram\n";
        const std::vector<std::pair<std::string, std::string>> cases = {
            {"x{a=\"1\" 1\n", "expecting ',' or '}'"},
            {"x{a=1} 1\n", "expecting '\"'"},
            {"x{a=\"\\q\"} 1\n", "invalid escape sequence"},
            {"x{__a=\"1\"} 1\n", "reserved"},
            {"x{a=\"1\",a=\"2\"} 1\n", "given twice"},
            {"x one\n", "invalid value"},
            {"x 1\nx 2\n", "appears twice"},
            {"x 1", "does not end with a newline"},
            {"# TYPE x gauge\n# TYPE x gauge\nx 1\n", "second TYPE"},
            {"# TYPE x foo\nx 1\n", "unknown type"},
            {"x 1\n# TYPE x gauge\n", "after its samples"},
            {"# TYPE c_total counter\nc_total -1\n", "never negative"},
            {"# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x=\"1\"} 2\n", "must be together"},
            {h + "h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", "buckets are cumulative"},
            {h + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n", "but _count is 3"},
            {h + "h_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "no le=\"+Inf\" bucket"},
            {h + "h_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
             "bounds must increase"},
            {h + "h_bucket 1\nh_sum 1\nh_count 1\n", "no le label"},
            {h + "h 1\n", "its samples are h_bucket"},
            {h + "h_bucket{le=\"+Inf\"} 1\nh_count 1\n", "no _sum"},
            {"x{a=\"\xff\"} 1\n", "not UTF-8"},
        };
        // One run of the checker over every case (Python starts slowly).
        std::vector<std::string> texts;
        for (const auto& c : cases) texts.push_back(c.first);
        texts.push_back("# a comment\n\nx{a=\"1\",} 1 1700000000000\ny -Inf\nz NaN\n");  // valid
        std::vector<std::string> said;
        CPPUNIT_ASSERT_EQUAL(1, promcheck(texts, said));
        for (std::size_t i = 0; i < cases.size(); ++i) {
            const auto& [text, needle] = cases[i];
            CPPUNIT_ASSERT_MESSAGE(text + " -> " + said[i] + " lacks " + needle, said[i].find(needle) != std::string::npos);
            CPPUNIT_ASSERT_MESSAGE(text + " -> " + said[i], said[i].find("ok:") == std::string::npos);
        }
        CPPUNIT_ASSERT_EQUAL(std::string("ok: 3 families, 3 samples\n"), said.back());
        std::string out;
        CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 1, promcheck("x 1\n", out, "--prefix tandem_"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 1, promcheck("x 1\n", out, "--require tandem_y"));
    }

private:
    void startServer(MetricsServerLimits limits = {}) {
        if (!registry_) registry_ = std::make_unique<MetricsRegistry>();
        scrapesSeen_ = 0;
        seen_ = registry_->addCollector("seen", [this](MetricWriter& w) {
            w.gauge("tandem_test_scrapes_seen", "Scrapes this test has served.", double(++scrapesSeen_));
        });
        server_ = std::make_unique<MetricsServer>(*loop_, *registry_, limits);
        std::string error;
        CPPUNIT_ASSERT_MESSAGE(error, server_->start(kLoopback, 0, error));
        CPPUNIT_ASSERT(server_->listening());
        CPPUNIT_ASSERT(server_->port() != 0);
    }

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

    /// One request on a fresh connection; the response once complete.
    Response request(const std::string& raw) {
        Client c(server_->port());
        CPPUNIT_ASSERT_EQUAL(0, c.connectErrno);
        CPPUNIT_ASSERT(c.send(raw));
        CPPUNIT_ASSERT_MESSAGE("no answer to " + raw.substr(0, raw.find('\r')),
                               pump([&] { c.poll(); return parseResponse(c.got).complete || c.eof; }, 5000));
        return parseResponse(c.got);
    }

    bool logged(const std::string& prefix) const {
        for (const auto& l : logs_)
            if (l.compare(0, prefix.size(), prefix) == 0) return true;
        return false;
    }

    std::unique_ptr<common::EventLoop> loop_;
    std::unique_ptr<MetricsRegistry> registry_;
    std::unique_ptr<MetricsServer> server_;
    server::CollectorHandle seen_;
    int scrapesSeen_ = 0;
    std::vector<std::string> logs_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(MetricsTest);
