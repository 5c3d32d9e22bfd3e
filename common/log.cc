#include "common/log.h"

#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <utility>

namespace tandem::common {

namespace {
LogConfig g_config;
bool g_syslogOpen = false;
std::function<void(LogLevel, std::string_view)> g_capture;

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
    if (g_syslogOpen) ::closelog();
    g_syslogOpen = false;
    if (config.toSyslog) {
        // openlog keeps the pointer: the ident lives in g_config.
        ::openlog(g_config.ident.c_str(), LOG_NDELAY | LOG_PID, config.facility);
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
    return int(level) <= int(g_config.maxLevel) || g_capture;
}

void logWrite(LogLevel level, std::string_view message) {
    if (g_capture) g_capture(level, message);
    if (int(level) > int(g_config.maxLevel)) return;
    if (g_config.toSyslog && g_syslogOpen)
        ::syslog(int(level), "%.*s", int(message.size()), message.data());
    if (g_config.toStderr) {
        // One write per line, so lines from a forked helper never interleave mid-line.
        char buf[2048];
        std::size_t n = message.size() < sizeof buf - 1 ? message.size() : sizeof buf - 1;
        std::memcpy(buf, message.data(), n);
        buf[n++] = '\n';
        ssize_t ignored = ::write(STDERR_FILENO, buf, n);
        (void)ignored;
    }
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
