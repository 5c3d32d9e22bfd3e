#include "server/ping.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <random>

#include "common/ip_frame.h"
#include "common/ipv4.h"

namespace tandem::server {

namespace {

constexpr uint8_t kIcmpEchoReply = 0;
constexpr uint8_t kIcmpEcho = 8;
constexpr std::size_t kEchoSize = 16;  // 8 header bytes and 8 of data
constexpr unsigned kReadsPerWakeup = 64;

void invoke(const PingCallback& cb, uint32_t address, bool answered) {
    if (!cb) return;
    // One failing waiter must not keep the others from hearing about their ping.
    try {
        cb(address, answered);
    } catch (const std::exception& e) {
        common::logError(std::string("internal error in a ping callback: ") + e.what());
    } catch (...) {
        common::logError("internal error in a ping callback");
    }
}

}  // namespace

// ---------------------------------------------------------------- PingTracker

PingTracker::Start PingTracker::start(uint32_t address, uint64_t nowMs, uint64_t timeoutMs, PingCallback cb,
                                      uint16_t& sequence) {
    auto it = entries_.find(address);
    if (it != entries_.end()) {
        it->second.callbacks.push_back(std::move(cb));
        sequence = it->second.sequence;
        return Start::Joined;
    }
    if (entries_.size() >= max_) return Start::Refused;
    Entry e;
    e.sequence = nextSequence_++;
    if (nextSequence_ == 0) nextSequence_ = 1;
    e.deadline = deadlines_.emplace(nowMs + timeoutMs, address);
    e.callbacks.push_back(std::move(cb));
    sequence = e.sequence;
    entries_.emplace(address, std::move(e));
    return Start::Send;
}

std::vector<PingCallback> PingTracker::reply(uint32_t from, uint16_t sequence) {
    auto it = entries_.find(from);
    if (it == entries_.end() || it->second.sequence != sequence) return {};
    std::vector<PingCallback> cbs = std::move(it->second.callbacks);
    deadlines_.erase(it->second.deadline);
    entries_.erase(it);
    return cbs;
}

std::vector<PingTracker::Expired> PingTracker::expire(uint64_t nowMs) {
    std::vector<Expired> out;
    while (!deadlines_.empty() && deadlines_.begin()->first <= nowMs) {
        uint32_t address = deadlines_.begin()->second;
        deadlines_.erase(deadlines_.begin());
        auto it = entries_.find(address);
        if (it == entries_.end()) continue;
        out.push_back({address, std::move(it->second.callbacks)});
        entries_.erase(it);
    }
    return out;
}

uint64_t PingTracker::nextDeadline() const { return deadlines_.empty() ? 0 : deadlines_.begin()->first; }

// ---------------------------------------------------------------- ICMP codec

std::vector<uint8_t> buildEchoRequest(uint16_t identifier, uint16_t sequence) {
    std::vector<uint8_t> p(kEchoSize, 0);
    p[0] = kIcmpEcho;
    p[1] = 0;
    p[4] = uint8_t(identifier >> 8);
    p[5] = uint8_t(identifier);
    p[6] = uint8_t(sequence >> 8);
    p[7] = uint8_t(sequence);
    static const char kData[8] = {'t', 'a', 'n', 'd', 'e', 'm', 'd', 0};
    std::memcpy(p.data() + 8, kData, sizeof kData);
    uint16_t sum = common::internetChecksum(p.data(), p.size());
    p[2] = uint8_t(sum >> 8);
    p[3] = uint8_t(sum);
    return p;
}

bool parseEchoReply(const uint8_t* data, std::size_t size, EchoReply& out) {
    if (size < common::kIpv4HeaderSize + 8 || (data[0] >> 4) != 4) return false;
    std::size_t ihl = std::size_t(data[0] & 0x0f) * 4;
    std::size_t total = std::size_t(data[2]) << 8 | data[3];
    if (ihl < common::kIpv4HeaderSize || total > size || total < ihl + 8) return false;
    if (data[9] != common::kIpProtoIcmp) return false;
    const uint8_t* icmp = data + ihl;
    std::size_t len = total - ihl;
    if (icmp[0] != kIcmpEchoReply || icmp[1] != 0) return false;
    if (common::internetChecksum(icmp, len) != 0) return false;
    out.source = uint32_t(data[12]) << 24 | uint32_t(data[13]) << 16 | uint32_t(data[14]) << 8 | data[15];
    out.identifier = uint16_t(icmp[4] << 8 | icmp[5]);
    out.sequence = uint16_t(icmp[6] << 8 | icmp[7]);
    return true;
}

std::vector<BpfInstruction> echoReplyFilter(uint16_t identifier) {
    // A raw IPv4 socket's filter sees the IP header at offset 0.
    return {
        {BPF_LDX | BPF_B | BPF_MSH, 0, 0, 0},            // 0: X = IHL * 4
        {BPF_LD | BPF_B | BPF_IND, 0, 0, 0},             // 1: A = ICMP type
        {BPF_JMP | BPF_JEQ | BPF_K, 0, 3, kIcmpEchoReply},  // 2: echo reply? else 6
        {BPF_LD | BPF_H | BPF_IND, 0, 0, 4},             // 3: A = identifier
        {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, identifier},   // 4: ours? else 6
        {BPF_RET | BPF_K, 0, 0, 0x10000},                // 5: accept
        {BPF_RET | BPF_K, 0, 0, 0},                      // 6: drop
    };
}

// ---------------------------------------------------------------- PingService

PingService::PingService(common::EventLoop& loop, common::TimerService& timers, const common::Clock& clock,
                         Options options)
    : loop_(loop), clock_(clock), options_(options), tracker_(options.maxOutstanding) {
    if (options_.timeoutMs == 0) options_.timeoutMs = kDefaultPingTimeoutMs;
    // Another pinger on the host (ping(8), a second server) must not answer for us.
    std::random_device rd;
    identifier_ = uint16_t(rd() ^ uint32_t(getpid()));
    timer_ = timers.createTimer([this] { onTimer(); });
    deferredTimer_ = timers.createTimer([this] { runDeferred(); });
}

PingService::~PingService() { close(); }

bool PingService::open(std::string& error) {
    close();
    int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (fd < 0) {
        error = std::string("unable to create icmp socket: ") + std::strerror(errno);
        return false;
    }
    // Every ICMP datagram to the host reaches a raw ICMP socket; the filter keeps
    // only replies to our own echoes so a busy host costs us nothing.
    std::vector<BpfInstruction> code = echoReplyFilter(identifier_);
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(code.size());
    prog.filter = reinterpret_cast<sock_filter*>(code.data());
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
        error = std::string("Can't install packet filter program on icmp socket: ") + std::strerror(errno);
        ::close(fd);
        return false;
    }
    // Drain what arrived before the filter was attached.
    uint8_t junk[64];
    for (int i = 0; i < 1024 && recv(fd, junk, sizeof junk, MSG_DONTWAIT) >= 0; ++i) {
    }
    fd_ = fd;
    watcher_ = std::make_unique<common::IoWatcher>(loop_, fd_, common::IoWatcher::kRead, [this](short) { onReadable(); });
    watcher_->start();
    return true;
}

void PingService::close() {
    watcher_.reset();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void PingService::ping(uint32_t address, PingCallback cb, uint64_t timeoutMs) {
    if (timeoutMs == 0) timeoutMs = options_.timeoutMs;
    uint16_t sequence = 0;
    PingTracker::Start s =
        fd_ < 0 ? PingTracker::Start::Refused : tracker_.start(address, clock_.monotonicMs(), timeoutMs, cb, sequence);
    if (s == PingTracker::Start::Refused) {
        ++counters_.refused;
        uint64_t suppressed = 0;
        if (errorLog_.allow(clock_.now(), suppressed))
            common::logError("ping-check of " + common::formatIpv4(address) + " skipped: " +
                             (fd_ < 0 ? std::string("no icmp socket")
                                      : std::to_string(tracker_.capacity()) + " pings already outstanding"));
        deferred_.emplace_back(address, std::move(cb));
        if (!deferredTimer_->pending()) deferredTimer_->startMs(0);
        return;
    }
    if (s == PingTracker::Start::Joined) {
        ++counters_.joined;
        return;
    }
    std::vector<uint8_t> echo = buildEchoRequest(identifier_, sequence);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(address);
    if (sendto(fd_, echo.data(), echo.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) !=
        ssize_t(echo.size())) {
        // As ISC: the ping still runs to its timeout, and the address is then offered.
        ++counters_.sendErrors;
        uint64_t suppressed = 0;
        if (errorLog_.allow(clock_.now(), suppressed))
            common::logError("icmp_echorequest " + common::formatIpv4(address) + ": " + std::strerror(errno));
    } else {
        ++counters_.sent;
    }
    rearm();
}

void PingService::onReadable() {
    uint8_t buf[1500];
    for (unsigned n = 0; n < kReadsPerWakeup; ++n) {
        ssize_t got = recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
        if (got < 0) break;
        EchoReply r;
        if (!parseEchoReply(buf, std::size_t(got), r) || r.identifier != identifier_) continue;
        // Only the pinged address itself counts: the tracker is keyed by it.
        std::vector<PingCallback> cbs = tracker_.reply(r.source, r.sequence);
        if (cbs.empty()) {
            ++counters_.strayReplies;
            continue;
        }
        ++counters_.answered;
        for (const auto& cb : cbs) invoke(cb, r.source, true);
    }
    rearm();
}

void PingService::onTimer() {
    std::vector<PingTracker::Expired> done = tracker_.expire(clock_.monotonicMs());
    counters_.timedOut += done.size();
    rearm();
    for (const auto& e : done)
        for (const auto& cb : e.callbacks) invoke(cb, e.address, false);
}

void PingService::rearm() {
    uint64_t next = tracker_.nextDeadline();
    if (next == 0) {
        timer_->stop();
        return;
    }
    uint64_t now = clock_.monotonicMs();
    timer_->startMs(next > now ? next - now : 0);
}

void PingService::runDeferred() {
    std::vector<std::pair<uint32_t, PingCallback>> todo;
    todo.swap(deferred_);
    for (const auto& [address, cb] : todo) invoke(cb, address, false);
}

}  // namespace tandem::server
