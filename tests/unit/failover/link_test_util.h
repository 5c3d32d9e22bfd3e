// Helpers for the failover transport tests: a bounded way to drive a real
// EventLoop, raw loopback sockets bound to a chosen source (127.0.0.1..3 all
// exist on Linux's lo), a recorder for link callbacks, and the captured ISC
// messages of tests/data/failover. Every wait here has a deadline.
#ifndef TANDEM_TESTS_UNIT_FAILOVER_LINK_TEST_UTIL_H
#define TANDEM_TESTS_UNIT_FAILOVER_LINK_TEST_UTIL_H

#include <arpa/inet.h>
#include <dirent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/event.h"
#include "common/log.h"
#include "failover/connection.h"
#include "failover/listener.h"
#include "failover/message.h"

namespace tandem::failover::testing {

using Bytes = std::vector<uint8_t>;
using SteadyClock = std::chrono::steady_clock;

constexpr uint32_t kLo1 = 0x7f000001;  // 127.0.0.1
constexpr uint32_t kLo2 = 0x7f000002;  // 127.0.0.2
constexpr uint32_t kLo3 = 0x7f000003;  // 127.0.0.3

inline uint64_t msSince(SteadyClock::time_point t0) {
    return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t0).count());
}

/// Run the loop until `done` holds or `timeoutMs` passed; returns `done()`.
inline bool runUntil(common::EventLoop& loop, const std::function<bool()>& done, uint64_t timeoutMs) {
    const auto t0 = SteadyClock::now();
    // A wake-up timer guarantees each loop pass returns, so the deadline is always checked.
    common::Timer wake(loop, [] {});
    while (!done()) {
        const uint64_t spent = msSince(t0);
        if (spent >= timeoutMs) return done();
        wake.startMs(std::min<uint64_t>(timeoutMs - spent, 20));
        event_base_loop(loop.base(), EVLOOP_ONCE);
    }
    return true;
}

/// Run the loop for `ms` milliseconds.
inline void runFor(common::EventLoop& loop, uint64_t ms) {
    runUntil(loop, [] { return false; }, ms);
}

inline sockaddr_in inetAddr(uint32_t addr, uint16_t port) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(addr);
    sin.sin_port = htons(port);
    return sin;
}

/// A blocking connect from `source` to `dest`:`port` (the kernel completes the
/// TCP handshake before accept(), so this does not need the loop). -1 on failure.
inline int rawConnect(uint32_t source, uint32_t dest, uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in src = inetAddr(source, 0);
    sockaddr_in dst = inetAddr(dest, port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

/// A port on 127.0.0.1 that nothing listens on now (bound, then released).
inline uint16_t freePort() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sin = inetAddr(kLo1, 0);
    ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    socklen_t len = sizeof sin;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
    ::close(fd);
    return ntohs(sin.sin_port);
}

/// What a raw peer socket sees: 0 bytes and EOF, bytes, or nothing yet (-1).
inline long rawRead(int fd, Bytes& out) {
    uint8_t buf[4096];
    long n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) out.insert(out.end(), buf, buf + n);
    return n;
}

inline bool rawWrite(int fd, const Bytes& b) {
    return ::send(fd, b.data(), b.size(), MSG_NOSIGNAL) == long(b.size());
}

/// Everything a link told its owner.
struct Recorder {
    std::vector<Message> messages;
    std::vector<std::pair<CloseReason, std::string>> closes;
    int drained = 0;
    uint32_t xid = 1000;  ///< the "engine's" counter, for CONTACT

    PeerLink::Callbacks callbacks() {
        PeerLink::Callbacks cb;
        cb.onMessage = [this](const Message& m) { messages.push_back(m); };
        cb.onClose = [this](CloseReason r, const std::string& d) { closes.emplace_back(r, d); };
        cb.nextXid = [this] { return xid++; };
        cb.onDrained = [this] { drained++; };
        return cb;
    }
    std::size_t count(MessageType t) const {
        return std::size_t(std::count_if(messages.begin(), messages.end(), [t](const Message& m) { return m.type == t; }));
    }
};

/// Log lines captured while alive.
struct LogTap {
    std::vector<std::string> lines;
    LogTap() {
        common::logCapture([this](common::LogLevel, std::string_view m) { lines.emplace_back(m); });
    }
    ~LogTap() { common::logCapture({}); }
    bool has(const std::string& needle) const {
        return std::any_of(lines.begin(), lines.end(),
                           [&](const std::string& l) { return l.find(needle) != std::string::npos; });
    }
    std::string all() const {
        std::string s;
        for (const auto& l : lines) s += l + "\n";
        return s;
    }
};

inline Bytes fromHex(const std::string& hex) {
    Bytes out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(uint8_t(std::stoul(hex.substr(i, 2), nullptr, 16)));
    return out;
}

/// Every message captured from ISC 4.4.3 (tests/data/failover/*.hex), in file order.
inline const std::vector<Bytes>& capturedMessages() {
    static const std::vector<Bytes> all = [] {
        const std::string dir = std::string(TANDEM_TEST_DATA) + "/failover";
        std::vector<std::string> files;
        if (DIR* d = ::opendir(dir.c_str())) {
            while (dirent* e = ::readdir(d)) {
                std::string n = e->d_name;
                if (n.size() > 4 && n.substr(n.size() - 4) == ".hex") files.push_back(n);
            }
            ::closedir(d);
        }
        std::sort(files.begin(), files.end());
        std::vector<Bytes> v;
        for (const auto& f : files) {
            std::ifstream in(dir + "/" + f);
            for (std::string line; std::getline(in, line);)
                if (!line.empty() && line[0] != '#') v.push_back(fromHex(line));
        }
        return v;
    }();
    return all;
}

/// The first captured message of type `t` (empty when none).
inline Bytes firstCaptured(MessageType t) {
    for (const auto& b : capturedMessages()) {
        auto r = decode(b.data(), b.size());
        if (r.ok() && r.message->type == t) return b;
    }
    return {};
}

/// Two links joined over loopback the way two servers are: a listener on
/// 127.0.0.1 that admits 127.0.0.2, and a connector from 127.0.0.2 to it.
/// `initiated` is the connector's side, `accepted` the listener's.
struct LinkPair {
    common::EventLoop& loop;
    const common::Clock& clockInitiated;
    const common::Clock& clockAccepted;
    Recorder recInitiated, recAccepted;
    std::unique_ptr<PeerListener> listener;
    std::unique_ptr<PeerConnector> connector;
    std::unique_ptr<PeerLink> initiated, accepted;

    LinkPair(common::EventLoop& l, const common::Clock& ci, const common::Clock& ca)
        : loop(l), clockInitiated(ci), clockAccepted(ca) {}

    /// Connect both ends; false if that did not happen within a second.
    bool connect(const LinkParams& pi, const LinkParams& pa) {
        listener = std::make_unique<PeerListener>(
            loop, kLo1, 0, [](uint32_t src) { return src == kLo2 ? std::optional<RelationshipId>(1) : std::nullopt; },
            [this, pa](RelationshipId, ConnectedSocket s) {
                accepted = makeTcpLink(loop, clockAccepted, std::move(s), pa);
                accepted->setCallbacks(recAccepted.callbacks());
            });
        std::string error;
        if (!listener->start(error)) return false;
        PeerConnector::Params cp;
        cp.peerName = pi.peerName;
        cp.localAddress = kLo2;
        cp.peerAddress = kLo1;
        cp.peerPort = listener->port();
        connector = std::make_unique<PeerConnector>(loop, cp, [this, pi](ConnectedSocket s) {
            initiated = makeTcpLink(loop, clockInitiated, std::move(s), pi);
            initiated->setCallbacks(recInitiated.callbacks());
        });
        connector->start();
        return runUntil(loop, [this] { return initiated && accepted; }, 1000);
    }
};

}  // namespace tandem::failover::testing

#endif
