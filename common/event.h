// RAII wrappers around libevent for the single-threaded loop every daemon
// part runs on: the loop itself, timers, fd watchers and signal watchers. A
// callback may not let an exception escape into libevent: the trampolines
// catch, log and carry on. Timers are also offered behind the TimerService
// interface, so that policy code (failover timers, ping-check) can be driven
// by a fake in tests.
#ifndef TANDEM_COMMON_EVENT_H
#define TANDEM_COMMON_EVENT_H

#include <cstdint>
#include <functional>
#include <memory>

struct event_base;
struct event;

namespace tandem::common {

class EventLoop {
public:
    EventLoop();
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    event_base* base() const { return base_; }
    /// @brief Run until stop() is called or nothing is left to wait for.
    void run();
    /// @brief Run one iteration without blocking (tests).
    void runOnce();
    /// @brief Make run() return after the current callbacks.
    void stop();
    bool stopped() const { return stopped_; }

private:
    event_base* base_;
    bool stopped_ = false;
};

/// @brief A restartable one-shot (or repeating) timer.
class Timer {
public:
    using Callback = std::function<void()>;
    Timer(EventLoop& loop, Callback cb);
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    /// @brief Fire once after `ms` milliseconds; a pending start is replaced.
    void startMs(uint64_t ms);
    /// @brief Fire every `ms` milliseconds until stopped.
    void startRepeatingMs(uint64_t ms);
    void stop();
    bool pending() const;

private:
    static void trampoline(int, short, void* self);
    event* ev_ = nullptr;
    Callback cb_;
    EventLoop& loop_;
    bool repeating_ = false;
};

/// @brief Calls back when a file descriptor is readable (or writable).
class IoWatcher {
public:
    enum What : short { kRead = 0x02, kWrite = 0x04 };  // EV_READ, EV_WRITE
    using Callback = std::function<void(short what)>;
    IoWatcher(EventLoop& loop, int fd, short what, Callback cb);
    ~IoWatcher();
    IoWatcher(const IoWatcher&) = delete;
    IoWatcher& operator=(const IoWatcher&) = delete;
    void start();
    void stop();
    int fd() const { return fd_; }

private:
    static void trampoline(int, short what, void* self);
    event* ev_ = nullptr;
    int fd_;
    Callback cb_;
};

/// @brief Calls back, from the loop, when a signal arrives.
class SignalWatcher {
public:
    using Callback = std::function<void()>;
    SignalWatcher(EventLoop& loop, int signo, Callback cb);
    ~SignalWatcher();
    SignalWatcher(const SignalWatcher&) = delete;
    SignalWatcher& operator=(const SignalWatcher&) = delete;

private:
    static void trampoline(int, short, void* self);
    event* ev_ = nullptr;
    Callback cb_;
};

/// @brief A timer as policy code sees it.
class TimerHandle {
public:
    virtual ~TimerHandle() = default;
    virtual void startMs(uint64_t ms) = 0;
    virtual void stop() = 0;
    virtual bool pending() const = 0;
};

/// @brief Makes timers; the daemon's is libevent, tests use a fake driven by a ManualClock.
class TimerService {
public:
    virtual ~TimerService() = default;
    virtual std::unique_ptr<TimerHandle> createTimer(std::function<void()> cb) = 0;
};

/// @brief TimerService on an EventLoop.
class LoopTimerService final : public TimerService {
public:
    explicit LoopTimerService(EventLoop& loop) : loop_(loop) {}
    std::unique_ptr<TimerHandle> createTimer(std::function<void()> cb) override;

private:
    EventLoop& loop_;
};

}  // namespace tandem::common

#endif
