// ISC dhcpd's ping-check as a non-blocking service: before offering an address
// the server sends one ICMP echo request to it and offers only if nothing
// answers within ping-timeout (server/dhcp.c, common/icmp.c). Many pings are in
// flight at once; each ends in exactly one callback, (address, answered).
// PingTracker is the bookkeeping (matching, deadlines, the bound) with no
// socket; PingService adds the raw ICMP socket and the timers. Neither decides
// what to do with an answer (abandoning the lease is the processor's job).
#ifndef TANDEM_SERVER_PING_H
#define TANDEM_SERVER_PING_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/event.h"
#include "common/log.h"
#include "server/packet_io.h"

namespace tandem::server {

/// ISC's default ping-timeout is 1 second.
constexpr uint64_t kDefaultPingTimeoutMs = 1000;
/// Enough for a burst of thousands of DISCOVERs per second with a 1 s timeout.
constexpr std::size_t kDefaultMaxOutstandingPings = 4096;

using PingCallback = std::function<void(uint32_t address, bool answered)>;

/// @brief Outstanding echo requests: which address was pinged with which sequence
/// number, until when, and who waits. Times are monotonic milliseconds.
class PingTracker {
public:
    explicit PingTracker(std::size_t maxOutstanding = kDefaultMaxOutstandingPings) : max_(maxOutstanding) {}

    enum class Start {
        Send,     ///< new: transmit an echo request with the returned sequence number
        Joined,   ///< a request to this address is already out; the callback waits for it too
        Refused,  ///< the table is full; nothing was recorded
    };
    /// @brief Record a ping of `address` that ends at `nowMs + timeoutMs`.
    Start start(uint32_t address, uint64_t nowMs, uint64_t timeoutMs, PingCallback cb, uint16_t& sequence);
    /// @brief An echo reply from `from` with `sequence`: the callbacks to call with
    /// answered = true (empty when it matches nothing outstanding).
    std::vector<PingCallback> reply(uint32_t from, uint16_t sequence);

    struct Expired {
        uint32_t address;
        std::vector<PingCallback> callbacks;
    };
    /// @brief Remove and return every ping whose deadline is <= nowMs, oldest first.
    std::vector<Expired> expire(uint64_t nowMs);
    /// @brief The earliest deadline, or 0 when nothing is outstanding.
    uint64_t nextDeadline() const;
    std::size_t outstanding() const { return entries_.size(); }
    std::size_t capacity() const { return max_; }

private:
    struct Entry {
        uint16_t sequence = 0;
        std::multimap<uint64_t, uint32_t>::iterator deadline;
        std::vector<PingCallback> callbacks;
    };
    std::size_t max_;
    uint16_t nextSequence_ = 1;
    std::map<uint32_t, Entry> entries_;
    std::multimap<uint64_t, uint32_t> deadlines_;
};

/// @brief ICMP echo header plus 8 bytes of data, with its checksum (RFC 792).
std::vector<uint8_t> buildEchoRequest(uint16_t identifier, uint16_t sequence);

/// @brief An echo reply taken from a raw ICMP socket's datagram (IP header first).
struct EchoReply {
    uint32_t source = 0;  ///< host byte order
    uint16_t identifier = 0, sequence = 0;
};
/// @brief Parse an IPv4 datagram holding an ICMP echo reply with a valid checksum.
/// @return false for anything else (other ICMP types, bad lengths or checksums).
bool parseEchoReply(const uint8_t* data, std::size_t size, EchoReply& out);

/// @brief The classic BPF filter of the ICMP socket: echo replies with our identifier only.
std::vector<BpfInstruction> echoReplyFilter(uint16_t identifier);

class PingService {
public:
    struct Options {
        uint64_t timeoutMs = kDefaultPingTimeoutMs;
        std::size_t maxOutstanding = kDefaultMaxOutstandingPings;
    };
    struct Counters {
        uint64_t sent = 0, answered = 0, timedOut = 0, joined = 0;
        uint64_t refused = 0;          ///< table full: reported "not answered" without a ping
        uint64_t sendErrors = 0;       ///< the kernel refused the echo; the ping still times out
        uint64_t strayReplies = 0;     ///< replies with our identifier that matched nothing
    };

    PingService(common::EventLoop& loop, common::TimerService& timers, const common::Clock& clock, Options options);
    PingService(common::EventLoop& loop, common::TimerService& timers, const common::Clock& clock)
        : PingService(loop, timers, clock, Options{}) {}
    ~PingService();
    PingService(const PingService&) = delete;
    PingService& operator=(const PingService&) = delete;

    /// @brief Open the raw ICMP socket (needs CAP_NET_RAW).
    /// @return false with the reason in `error`.
    bool open(std::string& error);
    void close();
    bool isOpen() const { return fd_ >= 0; }

    /// @brief Ping `address`; `cb(address, answered)` runs exactly once, from the loop,
    /// never before ping() returns: with true when an echo reply comes from `address`
    /// itself carrying our identifier and sequence, with false when the timeout
    /// (0 = the default) passes first.
    ///
    /// When `maxOutstanding` pings are already out, or the socket is not open, no echo is
    /// sent and the callback says "not answered" on the next loop pass: the caller then
    /// offers as ISC does with ping-check off. Refusing instead would let a DISCOVER flood
    /// stop all offers, and claiming "answered" would let it abandon the pool.
    void ping(uint32_t address, PingCallback cb, uint64_t timeoutMs = 0);

    std::size_t outstanding() const { return tracker_.outstanding(); }
    uint16_t identifier() const { return identifier_; }
    const Counters& counters() const { return counters_; }

private:
    void onReadable();
    void onTimer();
    void rearm();
    void runDeferred();

    common::EventLoop& loop_;
    const common::Clock& clock_;
    Options options_;
    PingTracker tracker_;
    int fd_ = -1;
    uint16_t identifier_ = 0;
    std::unique_ptr<common::IoWatcher> watcher_;
    std::unique_ptr<common::TimerHandle> timer_;
    std::unique_ptr<common::TimerHandle> deferredTimer_;
    std::vector<std::pair<uint32_t, PingCallback>> deferred_;
    Counters counters_;
    common::RateLimiter errorLog_{5, 60};
};

}  // namespace tandem::server

#endif
