#include "common/clock.h"

#include <ctime>

namespace tandem::common {

Time SystemClock::now() const { return Time(std::time(nullptr)); }

uint64_t SystemClock::monotonicMs() const {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000;
}

const SystemClock& SystemClock::instance() {
    static const SystemClock clock;
    return clock;
}

}  // namespace tandem::common
