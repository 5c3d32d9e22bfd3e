#include "server/metrics.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <exception>
#include <list>
#include <stdexcept>

#include "common/ipv4.h"

namespace tandem::server {

const char* toString(MetricType t) {
    switch (t) {
        case MetricType::Counter: return "counter";
        case MetricType::Gauge: return "gauge";
        case MetricType::Histogram: return "histogram";
    }
    return "untyped";
}

// ---------------------------------------------------------------- text helpers

std::string formatMetricValue(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    // Integers below 2^53 are exact in a double: print them as integers, as
    // counts read best that way (Go's %g would give 1e+06).
    if (std::fabs(v) < 9007199254740992.0 && v == std::floor(v)) return std::to_string(static_cast<int64_t>(v));
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest form that reads back exactly
    return std::string(buf, r.ptr);
}

namespace {

/// Length of the valid UTF-8 sequence at s[i], or 0 (RFC 3629 §4: no overlongs,
/// no surrogates, nothing above U+10FFFF).
std::size_t utf8Length(std::string_view s, std::size_t i) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = b(i);
    if (c < 0x80) return 1;
    std::size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    if (b(i + 1) < lo || b(i + 1) > hi) return 0;
    for (std::size_t k = 2; k < n; ++k)
        if (b(i + k) < 0x80 || b(i + k) > 0xbf) return 0;
    return n;
}

std::string escape(std::string_view v, bool quotes) {
    std::string out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size();) {
        char c = v[i];
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && quotes) {
            out += "\\\"";
        } else {
            std::size_t n = utf8Length(v, i);
            if (n == 0) {
                out += "\xef\xbf\xbd";  // U+FFFD for a byte that starts no valid sequence
                ++i;
                continue;
            }
            out.append(v.substr(i, n));
            i += n;
            continue;
        }
        ++i;
    }
    return out;
}

bool nameChar(char c, bool first, bool colon) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
    if (colon && c == ':') return true;
    return !first && c >= '0' && c <= '9';
}

bool validName(std::string_view n, bool colon) {
    if (n.empty()) return false;
    for (std::size_t i = 0; i < n.size(); ++i)
        if (!nameChar(n[i], i == 0, colon)) return false;
    return true;
}

bool endsWith(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

[[noreturn]] void invalid(const std::string& what) { throw std::invalid_argument(what); }

}  // namespace

std::string escapeLabelValue(std::string_view v) { return escape(v, true); }
std::string escapeHelp(std::string_view v) { return escape(v, false); }
bool validMetricName(std::string_view name) { return validName(name, true); }
bool validLabelName(std::string_view name) { return validName(name, false) && name.substr(0, 2) != "__"; }

// ---------------------------------------------------------------- histogram

Histogram::Histogram(std::vector<double> upperBounds) : bounds_(std::move(upperBounds)) {
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        if (!std::isfinite(bounds_[i])) invalid("histogram bounds must be finite (+Inf is implied)");
        if (i && !(bounds_[i - 1] < bounds_[i])) invalid("histogram bounds must increase strictly");
    }
    buckets_.assign(bounds_.size() + 1, 0);
}

void Histogram::observe(double value) {
    if (std::isnan(value)) return;
    // The first bound >= value: a bucket counts what is less than or equal to its bound.
    auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
    ++buckets_[static_cast<std::size_t>(it - bounds_.begin())];
    ++count_;
    sum_ += value;
}

std::vector<double> Histogram::exponentialBounds(double start, double factor, std::size_t count) {
    if (!(start > 0) || !(factor > 1) || count == 0) invalid("exponential bounds need start > 0, factor > 1, count >= 1");
    std::vector<double> b;
    b.reserve(count);
    double v = start;
    for (std::size_t i = 0; i < count; ++i, v *= factor) b.push_back(v);
    return b;
}

std::vector<double> Histogram::commitLatencyBounds() {
    // fsync takes tens of microseconds on a battery-backed controller, a few
    // milliseconds on an SSD, tens on a disk; seconds mean trouble.
    return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
}

// ---------------------------------------------------------------- one scrape

bool MetricWriter::has(std::string_view name) const {
    return std::any_of(families_.begin(), families_.end(), [&](const Family& f) { return f.name == name; });
}

MetricWriter::Family* MetricWriter::find(std::string_view name) {
    for (auto& f : families_)
        if (f.name == name) return &f;
    return nullptr;
}

MetricWriter::Family& MetricWriter::family(std::string_view name, std::string_view help, MetricType type) {
    if (!validMetricName(name)) invalid("invalid metric name \"" + std::string(name) + "\"");
    if (type == MetricType::Counter && !endsWith(name, "_total"))
        invalid("counter " + std::string(name) + " must be named *_total");
    if (Family* f = find(name)) {
        if (f->type != type)
            invalid("metric " + std::string(name) + " is a " + toString(f->type) + ", not a " + toString(type));
        if (f->help != help) invalid("metric " + std::string(name) + " written with two different help texts");
        return *f;
    }
    Family f;
    f.name = std::string(name);
    f.help = std::string(help);
    f.type = type;
    families_.push_back(std::move(f));
    return families_.back();
}

std::string MetricWriter::renderLabels(const Labels& labels, bool histogram) {
    std::string out;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const auto& [name, value] = labels[i];
        if (!validLabelName(name)) invalid("invalid label name \"" + name + "\"");
        if (histogram && name == "le") invalid("a histogram may not have a label named le");
        for (std::size_t j = 0; j < i; ++j)
            if (labels[j].first == name) invalid("label " + name + " given twice");
        if (i) out += ',';
        out += name;
        out += "=\"";
        out += escapeLabelValue(value);
        out += '"';
    }
    return out;
}

void MetricWriter::add(Family& f, Series&& s) {
    if (!f.keys.insert(s.labels).second) invalid("metric " + f.name + "{" + s.labels + "} written twice");
    f.series.push_back(std::move(s));
}

void MetricWriter::counter(std::string_view name, std::string_view help, const Labels& labels, double value) {
    if (std::isnan(value) || value < 0) invalid("counter " + std::string(name) + " may not be negative or NaN");
    Series s;
    s.labels = renderLabels(labels, false);
    s.value = value;
    add(family(name, help, MetricType::Counter), std::move(s));
}

void MetricWriter::gauge(std::string_view name, std::string_view help, const Labels& labels, double value) {
    Series s;
    s.labels = renderLabels(labels, false);
    s.value = value;
    add(family(name, help, MetricType::Gauge), std::move(s));
}

void MetricWriter::histogram(std::string_view name, std::string_view help, const Labels& labels, const Histogram& h) {
    Series s;
    s.labels = renderLabels(labels, true);
    s.bounds = h.upperBounds();
    s.buckets.resize(s.bounds.size() + 1);
    for (std::size_t i = 0; i < s.buckets.size(); ++i) s.buckets[i] = h.bucket(i);
    s.sum = h.sum();
    s.count = h.count();
    add(family(name, help, MetricType::Histogram), std::move(s));
}

void MetricWriter::merge(MetricWriter&& other) {
    // Check everything first, so that a conflict leaves this writer untouched.
    for (const auto& of : other.families_) {
        const Family* f = find(of.name);
        if (!f) continue;
        if (f->type != of.type)
            invalid("metric " + of.name + " is a " + toString(f->type) + ", not a " + toString(of.type));
        if (f->help != of.help) invalid("metric " + of.name + " written with two different help texts");
        for (const auto& s : of.series)
            if (f->keys.count(s.labels)) invalid("metric " + of.name + "{" + s.labels + "} written twice");
    }
    for (auto& of : other.families_) {
        Family* f = find(of.name);
        if (!f) {
            families_.push_back(std::move(of));
            continue;
        }
        for (auto& s : of.series) {
            f->keys.insert(s.labels);
            f->series.push_back(std::move(s));
        }
    }
    other.families_.clear();
}

std::string MetricWriter::render() const {
    std::string out;
    auto sample = [&](const std::string& name, const char* suffix, const std::string& labels, const std::string& extra,
                      const std::string& value) {
        out += name;
        out += suffix;
        if (!labels.empty() || !extra.empty()) {
            out += '{';
            out += labels;
            if (!labels.empty() && !extra.empty()) out += ',';
            out += extra;
            out += '}';
        }
        out += ' ';
        out += value;
        out += '\n';
    };
    for (const auto& f : families_) {
        out += "# HELP " + f.name + " " + escapeHelp(f.help) + "\n";
        out += "# TYPE " + f.name + " " + toString(f.type) + "\n";
        for (const auto& s : f.series) {
            if (f.type != MetricType::Histogram) {
                sample(f.name, "", s.labels, "", formatMetricValue(s.value));
                continue;
            }
            uint64_t cumulative = 0;
            for (std::size_t i = 0; i < s.buckets.size(); ++i) {
                cumulative += s.buckets[i];
                std::string le = i < s.bounds.size() ? formatMetricValue(s.bounds[i]) : "+Inf";
                sample(f.name, "_bucket", s.labels, "le=\"" + le + "\"", std::to_string(cumulative));
            }
            sample(f.name, "_sum", s.labels, "", formatMetricValue(s.sum));
            sample(f.name, "_count", s.labels, "", std::to_string(s.count));
        }
    }
    return out;
}

// ---------------------------------------------------------------- registry

namespace {
constexpr const char* kErrorsName = "tandem_metrics_collector_errors_total";
constexpr const char* kErrorsHelp = "Collector runs that failed; their metrics were left out of that scrape.";
}  // namespace

struct CollectorHandle::State {
    struct Entry {
        uint64_t id;
        std::string name;
        MetricsRegistry::Collector fn;
    };
    std::list<Entry> collectors;
    uint64_t nextId = 1;
    uint64_t errors = 0;
};

CollectorHandle::CollectorHandle(CollectorHandle&& o) noexcept : state_(std::move(o.state_)), id_(o.id_) {
    o.state_.reset();
    o.id_ = 0;
}

CollectorHandle& CollectorHandle::operator=(CollectorHandle&& o) noexcept {
    if (this != &o) {
        reset();
        state_ = std::move(o.state_);
        id_ = o.id_;
        o.state_.reset();
        o.id_ = 0;
    }
    return *this;
}

void CollectorHandle::reset() {
    if (auto s = state_.lock())
        s->collectors.remove_if([&](const State::Entry& e) { return e.id == id_; });
    state_.reset();
    id_ = 0;
}

bool CollectorHandle::active() const {
    auto s = state_.lock();
    if (!s) return false;
    return std::any_of(s->collectors.begin(), s->collectors.end(), [&](const State::Entry& e) { return e.id == id_; });
}

MetricsRegistry::MetricsRegistry() : state_(std::make_shared<CollectorHandle::State>()) {}
MetricsRegistry::~MetricsRegistry() = default;

CollectorHandle MetricsRegistry::addCollector(std::string name, Collector collector) {
    uint64_t id = state_->nextId++;
    state_->collectors.push_back({id, std::move(name), std::move(collector)});
    return CollectorHandle(state_, id);
}

Histogram& MetricsRegistry::addHistogram(std::string name, std::string help, std::vector<double> upperBounds,
                                         Labels labels) {
    // Write it once into a scratch scrape, with what is registered already, so
    // that a mistake shows here and not at the first scrape.
    auto h = std::make_unique<Histogram>(std::move(upperBounds));
    MetricWriter check;
    check.counter(kErrorsName, kErrorsHelp, 0);
    for (const auto& o : histograms_) check.histogram(o.name, o.help, o.labels, *o.histogram);
    check.histogram(name, help, labels, *h);
    histograms_.push_back({std::move(name), std::move(help), std::move(labels), std::move(h)});
    return *histograms_.back().histogram;
}

std::string MetricsRegistry::scrape() {
    MetricWriter out;
    for (const auto& o : histograms_) out.histogram(o.name, o.help, o.labels, *o.histogram);
    // A collector may remove itself or another while it runs: iterate over a copy of the ids.
    std::vector<uint64_t> ids;
    for (const auto& e : state_->collectors) ids.push_back(e.id);
    for (uint64_t id : ids) {
        auto it = std::find_if(state_->collectors.begin(), state_->collectors.end(),
                               [&](const CollectorHandle::State::Entry& e) { return e.id == id; });
        if (it == state_->collectors.end()) continue;
        std::string name = it->name;
        MetricWriter part;
        std::string why;
        try {
            Collector fn = it->fn;  // a copy: the entry may go while it runs
            fn(part);
            if (part.has(kErrorsName)) throw std::invalid_argument(std::string(kErrorsName) + " is the registry's own");
            out.merge(std::move(part));
            continue;
        } catch (const std::exception& e) {
            why = e.what();
        } catch (...) {
            why = "unknown exception";
        }
        ++state_->errors;
        uint64_t suppressed = 0;
        if (errorLog_.allow(static_cast<common::Time>(std::time(nullptr)), suppressed))
            common::logError("metrics collector " + name + " failed, its metrics are left out of this scrape: " + why +
                             (suppressed ? " (" + std::to_string(suppressed) + " more since last report)" : ""));
    }
    // No collector could take the name (above), nor a histogram (addHistogram): this cannot conflict.
    out.counter(kErrorsName, kErrorsHelp, static_cast<double>(state_->errors));
    return out.render();
}

uint64_t MetricsRegistry::collectorErrors() const { return state_->errors; }
std::size_t MetricsRegistry::collectorCount() const { return state_->collectors.size(); }

// ---------------------------------------------------------------- HTTP

namespace {

uint64_t nowMs() {
    using namespace std::chrono;
    return static_cast<uint64_t>(duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

}  // namespace

/// One accepted connection, from the moment evhttp made it until evhttp tells
/// us it closed (evhttp_connection_set_closecb, called once, from
/// evhttp_connection_free: for a client's close, a timeout, an error, or
/// evhttp_free).
struct MetricsConnection {
    std::shared_ptr<MetricsServer::Shared> shared;
    evhttp_connection* evcon = nullptr;
    bufferevent* bev = nullptr;  ///< evhttp's socket bufferevent, with a reference of ours
    uint64_t openedMs = 0;
    bool cut = false;  ///< shut down for its lifetime already
    std::list<MetricsConnection*>::iterator self;
};

/// What connections need of the server. A connection holds it, so that a close
/// reported after the server went (it should not happen) touches no freed memory.
struct MetricsServer::Shared : std::enable_shared_from_this<MetricsServer::Shared> {
    MetricsServer* server = nullptr;  ///< null once the server has stopped
    std::list<MetricsConnection*> connections;
    /// Bufferevents made for connections evhttp has just accepted, each with a
    /// reference of ours, until adopt() finds their evhttp_connection.
    std::vector<bufferevent*> pending;
    event* adoptEvent = nullptr;
};

/// The C side: every entry point from libevent, each one guarded.
struct MetricsServerAccess {
    template <typename F>
    static void guarded(const char* what, F&& f) {
        try {
            f();
        } catch (const std::exception& e) {
            common::logError(std::string("metrics endpoint: internal error in ") + what + ": " + e.what());
        } catch (...) {
            common::logError(std::string("metrics endpoint: internal error in ") + what);
        }
    }

    static void onRequest(evhttp_request* req, void* arg) {
        auto* self = static_cast<MetricsServer*>(arg);
        bool replied = false;
        try {
            self->handle(req);
            replied = true;
        } catch (const std::exception& e) {
            common::logError(std::string("metrics endpoint: internal error serving a request: ") + e.what());
        } catch (...) {
            common::logError("metrics endpoint: internal error serving a request");
        }
        if (!replied) evhttp_send_error(req, 500, "Internal Server Error");
    }

    // libevent 2.1 has no connection limit and tells nobody of a new connection
    // but the bufferevent callback, which runs before the evhttp_connection
    // exists. So we make the bufferevent, keep a reference to it, and adopt the
    // connection from the loop right after: by then evhttp has set its own
    // callbacks on the bufferevent, with the evhttp_connection as their argument
    // (as http.c does for every connection), and no I/O has happened yet.
    static bufferevent* onConnection(event_base* base, void* arg) {
        auto* shared = static_cast<MetricsServer::Shared*>(arg);
        bufferevent* bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
        if (!bev) return nullptr;  // evhttp then makes its own, uncounted: only when memory is short
        try {
            shared->pending.push_back(bev);
        } catch (...) {
            return bev;
        }
        bufferevent_incref(bev);
        event_active(shared->adoptEvent, EV_TIMEOUT, 0);
        if (MetricsServer* s = shared->server) guarded("accept", [&] { s->connectionOpened(); });
        return bev;
    }

    static void onAdopt(evutil_socket_t, short, void* arg) {
        auto* shared = static_cast<MetricsServer::Shared*>(arg);
        guarded("accept", [&] { adopt(*shared); });
    }

    static void adopt(MetricsServer::Shared& shared) {
        while (!shared.pending.empty()) {
            bufferevent* bev = shared.pending.back();
            bufferevent_data_cb rd = nullptr, wr = nullptr;
            bufferevent_event_cb ev = nullptr;
            void* cbarg = nullptr;
            bufferevent_getcb(bev, &rd, &wr, &ev, &cbarg);
            // bufferevent_free clears the callbacks: none set means evhttp has
            // dropped the connection already.
            MetricsConnection* c = (rd || wr || ev) && cbarg ? new (std::nothrow) MetricsConnection : nullptr;
            if (c) {
                c->shared = shared.shared_from_this();
                c->evcon = static_cast<evhttp_connection*>(cbarg);
                c->bev = bev;
                c->openedMs = nowMs();
                c->self = shared.connections.insert(shared.connections.end(), c);
                evhttp_connection_set_closecb(c->evcon, &MetricsServerAccess::onClose, c);
            }
            shared.pending.pop_back();
            if (c) continue;  // our reference stays with the connection: see lost()
            // Gone already (or no memory to follow it): it counts no more.
            bufferevent_decref(bev);
            if (MetricsServer* s = shared.server) guarded("connection close", [&] { s->connectionClosed(); });
        }
    }

    /// Whether evhttp freed the connection without telling us. It always tells
    /// (the tests check each way a connection ends), but a count that leaked
    /// would stop the endpoint for good once it reached the limit, so the sweep
    /// looks: our reference keeps the bufferevent, whose callbacks evhttp
    /// cleared when it let go of it.
    static bool lost(const MetricsConnection& c) {
        bufferevent_data_cb rd = nullptr, wr = nullptr;
        bufferevent_event_cb ev = nullptr;
        bufferevent_getcb(c.bev, &rd, &wr, &ev, nullptr);
        return !rd && !wr && !ev;
    }

    /// Forget a connection (closed, or lost), dropping our reference to its bufferevent.
    static void forget(MetricsConnection* c) {
        std::shared_ptr<MetricsServer::Shared> shared = std::move(c->shared);
        shared->connections.erase(c->self);
        bufferevent_decref(c->bev);  // evhttp holds its own until it frees the connection
        delete c;
        if (MetricsServer* s = shared->server) guarded("connection close", [&] { s->connectionClosed(); });
    }

    static void onClose(evhttp_connection* evcon, void* arg) {
        auto* c = static_cast<MetricsConnection*>(arg);
        evhttp_connection_set_closecb(evcon, nullptr, nullptr);  // once
        forget(c);
    }

    static void onAcceptError(evconnlistener* /*listener*/, void* arg) {
        int err = EVUTIL_SOCKET_ERROR();
        auto* self = static_cast<MetricsServer*>(arg);
        guarded("accept", [&] { self->acceptError(err); });
    }
};

MetricsServer::MetricsServer(common::EventLoop& loop, MetricsRegistry& registry, MetricsServerLimits limits)
    : loop_(loop),
      registry_(registry),
      limits_(limits),
      sweepTimer_(loop, [this] { sweep(); }),
      retryTimer_(loop, [this] {
          acceptPaused_ = false;
          setAccepting(connections() < limits_.maxConnections);
      }) {
    if (limits_.maxConnections == 0) limits_.maxConnections = 1;
}

MetricsServer::~MetricsServer() { stop(); }

std::size_t MetricsServer::connections() const {
    return shared_ ? shared_->connections.size() + shared_->pending.size() : 0;
}

bool MetricsServer::start(const conf::MetricsListen& listen, std::string& error) {
    return start(listen.address, listen.port, error);
}

bool MetricsServer::start(uint32_t address, uint16_t port, std::string& error) {
    stop();
    const std::string where = common::formatIpv4(address) + " port " + std::to_string(port);
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = "cannot open a socket for " + where + ": " + std::strerror(errno);
        return false;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // a restart must not wait for TIME_WAIT
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(address);
    sa.sin_port = htons(port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, limits_.backlog) != 0) {
        error = "cannot listen on " + where + ": " + std::strerror(errno);
        ::close(fd);
        return false;
    }
    socklen_t len = sizeof sa;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);

    auto shared = std::make_shared<Shared>();
    shared->adoptEvent = event_new(loop_.base(), -1, 0, &MetricsServerAccess::onAdopt, shared.get());
    // Our own listener, so that accepted sockets are close-on-exec (tandemd runs
    // `execute` handlers) and accept errors reach us instead of spinning.
    evconnlistener* listener =
        shared->adoptEvent ? evconnlistener_new(loop_.base(), nullptr, nullptr,
                                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE, 0, fd)
                           : nullptr;
    evhttp* http = listener ? evhttp_new(loop_.base()) : nullptr;
    if (!http || !evhttp_bind_listener(http, listener)) {
        if (http) evhttp_free(http);
        if (listener) evconnlistener_free(listener);  // closes fd
        else ::close(fd);
        if (shared->adoptEvent) event_free(shared->adoptEvent);
        error = "cannot listen on " + where + ": out of memory";
        return false;
    }
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(limits_.idleTimeoutMs / 1000);
    tv.tv_usec = static_cast<suseconds_t>(limits_.idleTimeoutMs % 1000 * 1000);
    evhttp_set_timeout_tv(http, &tv);
    evhttp_set_max_headers_size(http, static_cast<ev_ssize_t>(limits_.maxHeaderBytes));
    evhttp_set_max_body_size(http, static_cast<ev_ssize_t>(limits_.maxBodyBytes));
    // Every method reaches our handler, which answers 405 itself (evhttp would say 501).
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                         EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                         EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_gencb(http, &MetricsServerAccess::onRequest, this);
    evhttp_set_bevcb(http, &MetricsServerAccess::onConnection, shared.get());
    evconnlistener_set_error_cb(listener, &MetricsServerAccess::onAcceptError);

    shared->server = this;
    shared_ = std::move(shared);
    http_ = http;
    listener_ = listener;
    accepting_ = true;
    acceptPaused_ = false;
    address_ = address;
    port_ = ntohs(sa.sin_port);
    common::logInfo("Metrics endpoint listening on http://" + common::formatIpv4(address_) + ":" +
                    std::to_string(port_) + kMetricsPath);
    return true;
}

void MetricsServer::stop() {
    sweepTimer_.stop();
    retryTimer_.stop();
    if (!shared_) return;
    // From here on a closing connection must not call back into us: evhttp_free
    // frees the listener first, then each connection (calling its close callback).
    shared_->server = nullptr;
    listener_ = nullptr;
    evhttp_free(http_);  // the listener too: it was bound with evhttp_bind_listener
    http_ = nullptr;
    // Connections accepted but not adopted yet: evhttp has freed them; drop our reference.
    for (bufferevent* bev : shared_->pending) bufferevent_decref(bev);
    shared_->pending.clear();
    // evhttp_free told every connection's close callback; any left were lost.
    while (!shared_->connections.empty()) MetricsServerAccess::forget(shared_->connections.front());
    event_free(shared_->adoptEvent);
    shared_->adoptEvent = nullptr;
    shared_.reset();
    accepting_ = false;
    port_ = 0;
}

void MetricsServer::setAccepting(bool on) {
    if (!listener_ || on == accepting_) return;
    if (on && acceptPaused_) return;
    if (on)
        evconnlistener_enable(listener_);
    else
        evconnlistener_disable(listener_);
    accepting_ = on;
}

void MetricsServer::connectionOpened() {
    ++stats_.accepted;
    if (connections() >= limits_.maxConnections) {
        // The kernel keeps further clients in the backlog until one of ours closes.
        ++stats_.busyPauses;
        setAccepting(false);
    }
    if (!sweepTimer_.pending())
        sweepTimer_.startRepeatingMs(std::max<uint64_t>(10, std::min<uint64_t>(1000, limits_.maxLifetimeMs / 4)));
}

void MetricsServer::connectionClosed() {
    if (connections() < limits_.maxConnections) setAccepting(true);
    if (connections() == 0) sweepTimer_.stop();
}

void MetricsServer::sweep() {
    if (!shared_) return;
    const uint64_t now = nowMs();
    for (auto it = shared_->connections.begin(); it != shared_->connections.end();) {
        MetricsConnection* c = *it++;
        if (MetricsServerAccess::lost(*c)) {
            ++stats_.lostConnections;
            MetricsServerAccess::forget(c);
            continue;
        }
        if (c->cut || now - c->openedMs < limits_.maxLifetimeMs) continue;
        int fd = bufferevent_getfd(c->bev);
        if (fd < 0) continue;
        // evhttp sees the end of the stream and frees the connection itself.
        ::shutdown(fd, SHUT_RDWR);
        c->cut = true;
        ++stats_.lifetimeCuts;
    }
}

void MetricsServer::acceptError(int err) {
    ++stats_.acceptErrors;
    uint64_t suppressed = 0;
    if (errorLog_.allow(static_cast<common::Time>(std::time(nullptr)), suppressed))
        common::logError(std::string("metrics endpoint: accept failed: ") + std::strerror(err) +
                         (suppressed ? " (" + std::to_string(suppressed) + " more since last report)" : ""));
    // Out of descriptors leaves the socket readable: without a pause the loop would spin.
    if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        setAccepting(false);
        acceptPaused_ = true;
        retryTimer_.startMs(1000);
    }
}

void MetricsServer::handle(evhttp_request* req) {
    const evhttp_cmd_type method = evhttp_request_get_command(req);
    const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
    const char* path = uri ? evhttp_uri_get_path(uri) : nullptr;
    evkeyvalq* headers = evhttp_request_get_output_headers(req);
    if (!path || std::strcmp(path, kMetricsPath) != 0) {
        ++stats_.notFound;
        evhttp_add_header(headers, "Content-Type", "text/plain; charset=utf-8");
        evbuffer* body = evbuffer_new();
        if (body) evbuffer_add_printf(body, "Not found: the metrics are at %s\n", kMetricsPath);
        evhttp_send_reply(req, 404, "Not Found", body);
        if (body) evbuffer_free(body);
        return;
    }
    if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
        // RFC 9110 §15.5.6: a 405 says which methods would do.
        ++stats_.badMethod;
        evhttp_add_header(headers, "Allow", "GET, HEAD");
        evhttp_send_reply(req, 405, "Method Not Allowed", nullptr);
        return;
    }
    std::string text = registry_.scrape();
    ++stats_.scrapes;
    evhttp_add_header(headers, "Content-Type", kMetricsContentType);
    evhttp_add_header(headers, "Cache-Control", "no-store");
    if (method == EVHTTP_REQ_HEAD) {
        // RFC 9110 §9.3.2: the GET's headers without its content. evhttp 2.1
        // would send a body given for HEAD, so give it none and say the length.
        evhttp_add_header(headers, "Content-Length", std::to_string(text.size()).c_str());
        evhttp_send_reply(req, 200, "OK", nullptr);
        return;
    }
    evbuffer* body = evbuffer_new();
    if (!body) throw std::bad_alloc();
    evbuffer_add(body, text.data(), text.size());
    evhttp_send_reply(req, 200, "OK", body);
    evbuffer_free(body);
}

}  // namespace tandem::server
