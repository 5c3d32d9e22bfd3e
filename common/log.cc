#include "common/log.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <utility>

namespace tandem::common {

namespace {
LogConfig g_config;
std::function<void(LogLevel, std::string_view)> g_capture;

// Our own syslog(3) client. glibc's reconnects to /dev/log for every message
// when no daemon listens (four system calls a line) and blocks when the daemon
// is slow; a DHCP server logs several lines per client, and must not stall on
// its log. This one keeps one non-blocking datagram socket, retries a missing
// /dev/log at most every few seconds, and drops (and later counts) a line the
// daemon has no room for.
class SyslogClient {
public:
    void open() {
        close();
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd_ < 0) return;
        connect();
    }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        connected_ = false;
    }
    void send(int priority, std::string_view ident, std::string_view message) {
        if (fd_ < 0) return;
        time_t now = ::time(nullptr);
        if (!connected_) {
            if (now < retryAt_) return;
            if (!connect()) return;
        }
        if (now != stampTime_) {
            struct tm tmv {};
            ::localtime_r(&now, &tmv);
            stampLen_ = std::strftime(stamp_, sizeof stamp_, "%b %e %H:%M:%S", &tmv);
            stampTime_ = now;
        }
        char buf[2048];
        int head = std::snprintf(buf, sizeof buf, "<%d>%.*s %.*s[%d]: ", priority, int(stampLen_), stamp_,
                                 int(ident.size()), ident.data(), int(::getpid()));
        if (head < 0) return;
        std::size_t n = std::size_t(head), room = sizeof buf - n;
        if (dropped_) {
            int k = std::snprintf(buf + n, room, "(%llu log lines dropped: syslog was busy) ",
                                  static_cast<unsigned long long>(dropped_));
            if (k > 0 && std::size_t(k) < room) n += std::size_t(k), room -= std::size_t(k);
        }
        std::size_t m = message.size() < room ? message.size() : room;
        std::memcpy(buf + n, message.data(), m);
        n += m;
        if (::send(fd_, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
            dropped_ = 0;
            return;
        }
        if (errno == EAGAIN || errno == ENOBUFS) {
            ++dropped_;
        } else {
            // The daemon went away (restarted): reconnect on a later line.
            connected_ = false;
            retryAt_ = now;
        }
    }

    /// Whether a line sent now could reach the daemon (or a reconnect is due).
    bool reachable() const { return fd_ >= 0 && (connected_ || ::time(nullptr) >= retryAt_); }

private:
    bool connect() {
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::strncpy(sa.sun_path, "/dev/log", sizeof sa.sun_path - 1);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
        if (!connected_) retryAt_ = ::time(nullptr) + 5;
        return connected_;
    }
    int fd_ = -1;
    bool connected_ = false;
    time_t retryAt_ = 0;
    time_t stampTime_ = 0;
    char stamp_[32] = {};
    std::size_t stampLen_ = 0;
    unsigned long long dropped_ = 0;
};
SyslogClient g_syslog;
bool g_syslogOpen = false;
bool g_buffered = false;

struct FacilityName {
    const char* name;
    int value;
};
constexpr FacilityName kFacilities[] = {
    {"kern", LOG_KERN},     {"user", LOG_USER},       {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON},
    {"auth", LOG_AUTH},     {"syslog", LOG_SYSLOG},   {"lpr", LOG_LPR},       {"news", LOG_NEWS},
    {"uucp", LOG_UUCP},     {"cron", LOG_CRON},       {"authpriv", LOG_AUTHPRIV}, {"ftp", LOG_FTP},
    {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},   {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
    {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},   {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};
}  // namespace

void logInit(const LogConfig& config) {
    g_config = config;
    if (g_syslogOpen) g_syslog.close();
    g_syslogOpen = false;
    if (config.toSyslog) {
        g_syslog.open();
        g_syslogOpen = true;
    }
}

const LogConfig& logConfig() { return g_config; }

int logFacilityFromName(std::string_view name) {
    for (const auto& f : kFacilities)
        if (name == f.name) return f.value;
    return -1;
}

bool logEnabled(LogLevel level) {
    if (g_capture) return true;
    if (int(level) > int(g_config.maxLevel)) return false;
    return g_config.toStderr || (g_config.toSyslog && g_syslogOpen && g_syslog.reachable());
}

namespace {
// Lines for stderr are gathered and written whole, a few per system call:
// the daemon flushes at the end of every batch of work (logFlush), errors go
// at once, and the buffer never holds more than kStderrBuffer bytes.
constexpr std::size_t kStderrBuffer = 32 << 10;
std::string g_stderr;

void writeStderr() {
    std::size_t done = 0;
    while (done < g_stderr.size()) {
        ssize_t n = ::write(STDERR_FILENO, g_stderr.data() + done, g_stderr.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += std::size_t(n);
    }
    g_stderr.clear();
}
}  // namespace

void logFlush() {
    if (!g_stderr.empty()) writeStderr();
}

void logWrite(LogLevel level, std::string_view message) {
    if (g_capture) g_capture(level, message);
    if (int(level) > int(g_config.maxLevel)) return;
    if (g_config.toSyslog && g_syslogOpen) g_syslog.send(g_config.facility | int(level), g_config.ident, message);
    if (g_config.toStderr) {
        g_stderr.append(message.data(), message.size() < 2047 ? message.size() : 2047);
        g_stderr += '\n';
        if (!g_buffered || int(level) <= int(LogLevel::Warning) || g_stderr.size() >= kStderrBuffer) writeStderr();
    }
}

void logBuffering(bool on) {
    g_buffered = on;
    if (!on) logFlush();
}

void logCapture(std::function<void(LogLevel, std::string_view)> sink) { g_capture = std::move(sink); }

bool RateLimiter::allow(Time now, uint64_t& suppressed) {
    suppressed = 0;
    if (now - windowStart_ >= Time(period_)) {
        windowStart_ = now;
        used_ = 0;
        suppressed = refused_;
        refused_ = 0;
    }
    if (used_ < burst_) {
        ++used_;
        return true;
    }
    ++refused_;
    return false;
}

}  // namespace tandem::common
