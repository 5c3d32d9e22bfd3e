// The daemon's log: syslog (with the facility `log-facility` names) and, under
// -d, stderr, as ISC dhcpd does. Messages keep ISC's wording where admins grep
// for it; that is the callers' business. Also a rate limiter for logging about
// bad input, which an attacker must not be able to turn into a log flood.
#ifndef TANDEM_COMMON_LOG_H
#define TANDEM_COMMON_LOG_H

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/lease_record.h"

namespace tandem::common {

/// Severities with syslog's numbers.
enum class LogLevel : int { Error = 3, Warning = 4, Notice = 5, Info = 6, Debug = 7 };

struct LogConfig {
    std::string ident = "tandemd";
    int facility = 3 << 3;  ///< LOG_DAEMON
    bool toSyslog = true;
    bool toStderr = false;
    LogLevel maxLevel = LogLevel::Info;  ///< messages less severe than this are dropped
};

/// @brief (Re)configure the log; may be called again, e.g. when log-facility is read.
void logInit(const LogConfig& config);
const LogConfig& logConfig();
/// @brief The syslog facility for a `log-facility` word (local7, daemon, ...), or -1.
int logFacilityFromName(std::string_view name);

void logWrite(LogLevel level, std::string_view message);
/// @brief Gather stderr lines and write them a batch at a time (warnings and
/// errors still go at once); the daemon turns it on and calls logFlush() at the
/// end of every burst of work. Off (the default): every line is written at once.
void logBuffering(bool on);
void logFlush();
inline void logError(std::string_view m) { logWrite(LogLevel::Error, m); }
inline void logWarning(std::string_view m) { logWrite(LogLevel::Warning, m); }
inline void logNotice(std::string_view m) { logWrite(LogLevel::Notice, m); }
inline void logInfo(std::string_view m) { logWrite(LogLevel::Info, m); }
inline void logDebug(std::string_view m) { logWrite(LogLevel::Debug, m); }
/// @brief Whether a message of this level goes anywhere: callers skip building
/// expensive lines that nobody would read.
bool logEnabled(LogLevel level);

/// @brief Send every message to `sink` as well (tests); an empty function removes it.
void logCapture(std::function<void(LogLevel, std::string_view)> sink);

/// @brief At most `burst` events per `periodSeconds`; counts what it refuses.
class RateLimiter {
public:
    RateLimiter(unsigned burst, unsigned periodSeconds) : burst_(burst), period_(periodSeconds) {}
    /// @brief Whether to log this event. When a new period opens after refusals,
    /// `suppressed` is set to how many were refused, so the caller can say so.
    bool allow(Time now, uint64_t& suppressed);

private:
    unsigned burst_, period_;
    Time windowStart_ = 0;
    unsigned used_ = 0;
    uint64_t refused_ = 0;
};

}  // namespace tandem::common

#endif
