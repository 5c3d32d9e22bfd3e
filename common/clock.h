// Time as the rest of Tandem sees it: wall-clock seconds for leases and the
// failover protocol, and a monotonic millisecond count for timers. Code that
// makes decisions takes a Clock, so tests can drive time with ManualClock
// instead of sleeping.
#ifndef TANDEM_COMMON_CLOCK_H
#define TANDEM_COMMON_CLOCK_H

#include <cstdint>

#include "common/lease_record.h"

namespace tandem::common {

class Clock {
public:
    virtual ~Clock() = default;
    /// @brief Seconds since the epoch (UTC).
    virtual Time now() const = 0;
    /// @brief Milliseconds on a clock that never jumps.
    virtual uint64_t monotonicMs() const = 0;
};

class SystemClock final : public Clock {
public:
    Time now() const override;
    uint64_t monotonicMs() const override;
    /// @brief The process-wide instance.
    static const SystemClock& instance();
};

/// @brief A clock that moves only when told; wall and monotonic time move together.
class ManualClock final : public Clock {
public:
    explicit ManualClock(Time start = 1795338455) : now_(start) {}
    Time now() const override { return now_; }
    uint64_t monotonicMs() const override { return mono_; }
    void advance(uint64_t ms) {
        mono_ += ms;
        carry_ += ms;
        now_ += Time(carry_ / 1000);
        carry_ %= 1000;
    }
    void set(Time t) { now_ = t; }

private:
    Time now_;
    uint64_t mono_ = 0;
    uint64_t carry_ = 0;
};

}  // namespace tandem::common

#endif
