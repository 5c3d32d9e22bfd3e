#include "common/event.h"

#include <event2/event.h>

#include <exception>
#include <stdexcept>
#include <string>

#include "common/log.h"

namespace tandem::common {

namespace {

// No exception may cross into libevent's C frames: log it and go on.
template <typename F>
void guarded(const char* what, F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        logError(std::string("internal error in ") + what + " callback: " + e.what());
    } catch (...) {
        logError(std::string("internal error in ") + what + " callback");
    }
}

timeval toTimeval(uint64_t ms) {
    timeval tv{};
    tv.tv_sec = time_t(ms / 1000);
    tv.tv_usec = suseconds_t(ms % 1000 * 1000);
    return tv;
}

}  // namespace

EventLoop::EventLoop() : base_(event_base_new()) {
    if (!base_) throw std::runtime_error("cannot create the event loop (event_base_new failed)");
}

EventLoop::~EventLoop() { event_base_free(base_); }

void EventLoop::run() {
    stopped_ = false;
    event_base_dispatch(base_);
}

void EventLoop::runOnce() { event_base_loop(base_, EVLOOP_NONBLOCK | EVLOOP_ONCE); }

void EventLoop::stop() {
    stopped_ = true;
    event_base_loopbreak(base_);
}

// ---------------------------------------------------------------- Timer

Timer::Timer(EventLoop& loop, Callback cb) : cb_(std::move(cb)), loop_(loop) {
    ev_ = event_new(loop.base(), -1, 0, &Timer::trampoline, this);
    if (!ev_) throw std::runtime_error("cannot create a timer (event_new failed)");
}

Timer::~Timer() { event_free(ev_); }

void Timer::startMs(uint64_t ms) {
    if (repeating_) {
        event_free(ev_);
        ev_ = event_new(loop_.base(), -1, 0, &Timer::trampoline, this);
        repeating_ = false;
    }
    timeval tv = toTimeval(ms);
    event_add(ev_, &tv);
}

void Timer::startRepeatingMs(uint64_t ms) {
    event_free(ev_);
    ev_ = event_new(loop_.base(), -1, EV_PERSIST, &Timer::trampoline, this);
    repeating_ = true;
    timeval tv = toTimeval(ms);
    event_add(ev_, &tv);
}

void Timer::stop() { event_del(ev_); }

bool Timer::pending() const { return event_pending(ev_, EV_TIMEOUT, nullptr) != 0; }

void Timer::trampoline(int, short, void* self) {
    auto* t = static_cast<Timer*>(self);
    guarded("timer", [t] { t->cb_(); });
}

// ---------------------------------------------------------------- IoWatcher

IoWatcher::IoWatcher(EventLoop& loop, int fd, short what, Callback cb) : fd_(fd), cb_(std::move(cb)) {
    ev_ = event_new(loop.base(), fd, short(what | EV_PERSIST), &IoWatcher::trampoline, this);
    if (!ev_) throw std::runtime_error("cannot watch fd " + std::to_string(fd) + " (event_new failed)");
}

IoWatcher::~IoWatcher() { event_free(ev_); }

void IoWatcher::start() { event_add(ev_, nullptr); }

void IoWatcher::stop() { event_del(ev_); }

void IoWatcher::trampoline(int, short what, void* self) {
    auto* w = static_cast<IoWatcher*>(self);
    guarded("I/O", [w, what] { w->cb_(what); });
}

// ---------------------------------------------------------------- SignalWatcher

SignalWatcher::SignalWatcher(EventLoop& loop, int signo, Callback cb) : cb_(std::move(cb)) {
    ev_ = evsignal_new(loop.base(), signo, &SignalWatcher::trampoline, this);
    if (!ev_ || event_add(ev_, nullptr) != 0)
        throw std::runtime_error("cannot watch signal " + std::to_string(signo));
}

SignalWatcher::~SignalWatcher() { event_free(ev_); }

void SignalWatcher::trampoline(int, short, void* self) {
    auto* w = static_cast<SignalWatcher*>(self);
    guarded("signal", [w] { w->cb_(); });
}

// ---------------------------------------------------------------- LoopTimerService

namespace {
class LoopTimer final : public TimerHandle {
public:
    LoopTimer(EventLoop& loop, std::function<void()> cb) : timer_(loop, std::move(cb)) {}
    void startMs(uint64_t ms) override { timer_.startMs(ms); }
    void stop() override { timer_.stop(); }
    bool pending() const override { return timer_.pending(); }

private:
    Timer timer_;
};
}  // namespace

std::unique_ptr<TimerHandle> LoopTimerService::createTimer(std::function<void()> cb) {
    return std::make_unique<LoopTimer>(loop_, std::move(cb));
}

}  // namespace tandem::common
