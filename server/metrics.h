// The optional Prometheus endpoint: a small registry of metrics printed in the
// Prometheus text exposition format (version 0.0.4), and the HTTP server that
// serves it on the address `metrics-listen` names.
//
// The daemon does not copy its state into metrics as it runs. It registers
// collectors instead: callbacks that run at scrape time, on the loop, read the
// live state (packet counters, the lease store, each failover relationship)
// and write samples. Only what needs recording as it happens, such as the
// lease-commit latency, lives here as an owned Histogram, whose observe() is
// a few comparisons and an increment (fixed buckets, no allocation).
//
// This module must not know what any metric means, must never block the loop
// (every connection is non-blocking, bounded in size, count and time), and must
// never let an exception reach libevent: a collector that throws or writes an
// invalid sample loses its samples for that scrape, is logged and counted, and
// the other collectors are still served.
//
// Single-threaded by design, like the rest of tandemd: nothing here locks.
#ifndef TANDEM_SERVER_METRICS_H
#define TANDEM_SERVER_METRICS_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/event.h"
#include "common/log.h"
#include "conf/config.h"

struct evhttp;
struct evhttp_request;
struct evconnlistener;

namespace tandem::server {

/// The Content-Type of a scrape: the text format, version 0.0.4.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
/// The only path served.
inline constexpr const char* kMetricsPath = "/metrics";

/// A label set, printed in this order. Names follow [a-zA-Z_][a-zA-Z0-9_]*
/// and may not start with "__" (reserved by Prometheus); values are any text.
using Labels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { Counter, Gauge, Histogram };
const char* toString(MetricType t);

// ---------------------------------------------------------------- text helpers

/// @brief A sample value as Prometheus reads it: integers without exponent or
/// point ("42"), others in the shortest form that reads back exactly ("0.0025"),
/// and "+Inf", "-Inf", "NaN".
std::string formatMetricValue(double v);
/// @brief A label value escaped for the text format (\\ \" \n), with bytes that
/// are not UTF-8 replaced by U+FFFD, since Prometheus refuses a scrape that has any.
std::string escapeLabelValue(std::string_view v);
/// @brief HELP text escaped for the text format (\\ \n), UTF-8 made valid likewise.
std::string escapeHelp(std::string_view v);
bool validMetricName(std::string_view name);
bool validLabelName(std::string_view name);

// ---------------------------------------------------------------- histogram

/// @brief A histogram with fixed buckets. observe() never allocates.
class Histogram {
public:
    /// @param upperBounds finite, strictly increasing; the +Inf bucket is implied.
    /// @throw std::invalid_argument when they are not.
    explicit Histogram(std::vector<double> upperBounds);

    /// @brief Count one observation (seconds, for latencies). NaN is ignored.
    void observe(double value);

    const std::vector<double>& upperBounds() const { return bounds_; }
    /// @brief Observations in bucket `i` alone (not cumulative); i == upperBounds().size() is +Inf.
    uint64_t bucket(std::size_t i) const { return buckets_[i]; }
    uint64_t count() const { return count_; }
    double sum() const { return sum_; }

    /// @brief `count` bounds from `start`, each `factor` times the previous one.
    /// @throw std::invalid_argument unless start > 0, factor > 1, count >= 1.
    static std::vector<double> exponentialBounds(double start, double factor, std::size_t count);
    /// @brief Buckets for a lease-file commit (write + fsync): 100 µs to 2.5 s.
    static std::vector<double> commitLatencyBounds();

private:
    std::vector<double> bounds_;
    std::vector<uint64_t> buckets_;  ///< bounds_.size() + 1 entries
    uint64_t count_ = 0;
    double sum_ = 0;
};

// ---------------------------------------------------------------- one scrape

/// @brief What collectors write into during a scrape. Samples of one family are
/// printed together, with one HELP and one TYPE line, whichever collector wrote
/// them and in whatever order; families print in the order they first appear.
///
/// Every method checks what it is given and throws std::invalid_argument on a
/// programming error: a bad metric or label name, a counter not named `*_total`
/// or negative, a histogram with an `le` label, the same family with another
/// type or help, the same series twice. The registry catches it and drops that
/// collector's samples for the scrape.
class MetricWriter {
public:
    void counter(std::string_view name, std::string_view help, const Labels& labels, double value);
    void gauge(std::string_view name, std::string_view help, const Labels& labels, double value);
    void histogram(std::string_view name, std::string_view help, const Labels& labels, const Histogram& h);
    void counter(std::string_view name, std::string_view help, double value) { counter(name, help, {}, value); }
    void gauge(std::string_view name, std::string_view help, double value) { gauge(name, help, {}, value); }

    /// @brief Add everything `other` holds, or nothing: on a conflict this throws
    /// std::invalid_argument and leaves this writer as it was.
    void merge(MetricWriter&& other);
    /// @brief The exposition text.
    std::string render() const;
    std::size_t families() const { return families_.size(); }
    /// @brief Whether a family of this name has been written.
    bool has(std::string_view name) const;

private:
    struct Series {
        std::string labels;  ///< rendered, without braces: a="x",b="y"
        double value = 0;
        std::vector<double> bounds;     ///< histograms
        std::vector<uint64_t> buckets;  ///< histograms, not cumulative
        double sum = 0;
        uint64_t count = 0;
    };
    struct Family {
        std::string name, help;
        MetricType type = MetricType::Gauge;
        std::vector<Series> series;
        std::unordered_set<std::string> keys;
    };
    Family& family(std::string_view name, std::string_view help, MetricType type);
    Family* find(std::string_view name);
    static std::string renderLabels(const Labels& labels, bool histogram);
    void add(Family& f, Series&& s);

    std::vector<Family> families_;
};

// ---------------------------------------------------------------- registry

class MetricsRegistry;

/// @brief Keeps a collector registered; destroying (or reset()) removes it.
/// Safe to outlive the registry.
class CollectorHandle {
public:
    CollectorHandle() = default;
    CollectorHandle(CollectorHandle&& o) noexcept;
    CollectorHandle& operator=(CollectorHandle&& o) noexcept;
    CollectorHandle(const CollectorHandle&) = delete;
    CollectorHandle& operator=(const CollectorHandle&) = delete;
    ~CollectorHandle() { reset(); }
    void reset();
    bool active() const;

private:
    friend class MetricsRegistry;
    struct State;
    CollectorHandle(std::weak_ptr<State> state, uint64_t id) : state_(std::move(state)), id_(id) {}
    std::weak_ptr<State> state_;
    uint64_t id_ = 0;
};

/// @brief The daemon's metrics: owned histograms plus registered collectors.
class MetricsRegistry {
public:
    using Collector = std::function<void(MetricWriter&)>;

    MetricsRegistry();
    ~MetricsRegistry();
    MetricsRegistry(const MetricsRegistry&) = delete;
    MetricsRegistry& operator=(const MetricsRegistry&) = delete;

    /// @brief Run `collector` at every scrape until the handle goes. `name` is for logs.
    [[nodiscard]] CollectorHandle addCollector(std::string name, Collector collector);

    /// @brief A histogram owned by the registry, printed at every scrape; the
    /// reference stays valid as long as the registry.
    /// @throw std::invalid_argument on a bad name, labels or bounds, or a second
    /// registration of the same series.
    Histogram& addHistogram(std::string name, std::string help, std::vector<double> upperBounds, Labels labels = {});

    /// @brief Run the collectors and print the exposition. Never throws because
    /// of a collector: its samples are left out, it is logged, and counted in
    /// tandem_metrics_collector_errors_total, which every scrape carries.
    std::string scrape();

    uint64_t collectorErrors() const;
    std::size_t collectorCount() const;

private:
    struct Owned {
        std::string name, help;
        Labels labels;
        std::unique_ptr<Histogram> histogram;
    };
    std::shared_ptr<CollectorHandle::State> state_;
    std::vector<Owned> histograms_;
    common::RateLimiter errorLog_{5, 60};
};

// ---------------------------------------------------------------- HTTP

/// @brief How much the endpoint lets a client take.
struct MetricsServerLimits {
    std::size_t maxConnections = 16;  ///< more wait in the kernel's backlog until one closes
    /// evhttp's read and write timeout: no byte read or written for this long, closed.
    /// A client that connects and never sends its request goes after this.
    uint64_t idleTimeoutMs = 10000;
    uint64_t maxLifetimeMs = 60000;   ///< no connection stays open longer, busy or not (a slow client)
    std::size_t maxHeaderBytes = 8192;
    std::size_t maxBodyBytes = 1024;  ///< a GET needs none; anything larger is refused
    int backlog = 16;
};

/// @brief Serves GET and HEAD /metrics with libevent's evhttp: 200 with the
/// scrape, 404 for any other path, 405 (with Allow) for the other HTTP methods.
/// evhttp itself answers a method HTTP does not define with 501, headers past
/// the limit with 400 and a body past it with 413, and closes the connection.
/// Everything runs on the loop given; a scrape runs the collectors there.
class MetricsServer {
public:
    struct Stats {
        uint64_t accepted = 0;        ///< connections
        uint64_t scrapes = 0;         ///< 200 replies
        uint64_t notFound = 0;        ///< 404 replies
        uint64_t badMethod = 0;       ///< 405 replies
        uint64_t lifetimeCuts = 0;    ///< connections shut because maxLifetimeMs ran out
        uint64_t acceptErrors = 0;    ///< accept() failed (e.g. out of descriptors)
        uint64_t busyPauses = 0;      ///< times accepting paused at maxConnections
        uint64_t lostConnections = 0; ///< freed by evhttp without its close callback (never seen)
    };

    MetricsServer(common::EventLoop& loop, MetricsRegistry& registry, MetricsServerLimits limits = {});
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    /// @brief Listen on `address` (IPv4, host byte order) and `port` (0: any free
    /// port, see port()). A running listener is closed first.
    /// @return false with `error` set ("cannot listen on 127.0.0.1 port 9167:
    /// Address already in use") when the socket cannot be had.
    bool start(uint32_t address, uint16_t port, std::string& error);
    /// @brief The same, from the configuration's `metrics-listen` statement.
    bool start(const conf::MetricsListen& listen, std::string& error);
    /// @brief Stop listening and drop every connection.
    void stop();

    bool listening() const { return http_ != nullptr; }
    /// @brief The port listened on (the one chosen when start() was given 0).
    uint16_t port() const { return port_; }
    uint32_t address() const { return address_; }
    /// @brief Connections open now.
    std::size_t connections() const;
    const Stats& stats() const { return stats_; }

    struct Shared;  ///< what connections keep of the server (metrics.cc)

private:
    friend struct MetricsServerAccess;
    void handle(evhttp_request* req);
    void connectionOpened();
    void connectionClosed();
    void acceptError(int err);
    void sweep();
    void setAccepting(bool on);

    common::EventLoop& loop_;
    MetricsRegistry& registry_;
    MetricsServerLimits limits_;
    std::shared_ptr<Shared> shared_;
    evhttp* http_ = nullptr;
    evconnlistener* listener_ = nullptr;
    bool accepting_ = false;
    bool acceptPaused_ = false;  ///< after an accept error, until retryTimer_ fires
    uint32_t address_ = 0;
    uint16_t port_ = 0;
    common::Timer sweepTimer_;
    common::Timer retryTimer_;
    common::RateLimiter errorLog_{5, 60};
    Stats stats_;
};

}  // namespace tandem::server

#endif
