#include "failover/listener.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <utility>

#include "common/ipv4.h"
#include "common/log.h"

namespace tandem::failover {

namespace {

// No exception may cross into libevent's C frames.
template <typename F>
void guarded(const char* what, F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        common::logError(std::string("internal error in failover ") + what + " callback: " + e.what());
    } catch (...) {
        common::logError(std::string("internal error in failover ") + what + " callback");
    }
}

sockaddr_in inet(uint32_t addr, uint16_t port) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(addr);
    sin.sin_port = htons(port);
    return sin;
}

std::string endpoint(uint32_t addr, uint16_t port) { return common::formatIpv4(addr) + ":" + std::to_string(port); }

constexpr uint64_t kAcceptPauseMs = 1000;  ///< after accept() fails, e.g. with EMFILE
constexpr int kBacklog = 16;               ///< a handful of peers at most

}  // namespace

// ---------------------------------------------------------------- PeerListener

PeerListener::PeerListener(common::EventLoop& loop, uint32_t address, uint16_t port, Classify classify,
                           Accepted accepted)
    : loop_(loop),
      address_(address),
      port_(port),
      classify_(std::move(classify)),
      accepted_(std::move(accepted)),
      resume_(loop, [this] {
          if (listener_) evconnlistener_enable(listener_);
      }) {}

PeerListener::~PeerListener() {
    stop();
}

bool PeerListener::start(std::string& error) {
    if (listener_) return true;
    sockaddr_in sin = inet(address_, port_);
    listener_ = evconnlistener_new_bind(loop_.base(), &PeerListener::acceptTrampoline, this,
                                        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, kBacklog,
                                        reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    if (!listener_) {
        const int err = errno;
        error = "cannot listen on " + endpoint(address_, port_) + ": " + std::strerror(err);
        return false;
    }
    evconnlistener_set_error_cb(listener_, &PeerListener::errorTrampoline);
    sockaddr_in bound{};
    socklen_t len = sizeof bound;
    if (::getsockname(evconnlistener_get_fd(listener_), reinterpret_cast<sockaddr*>(&bound), &len) == 0)
        port_ = ntohs(bound.sin_port);
    return true;
}

void PeerListener::stop() {
    resume_.stop();
    if (listener_) evconnlistener_free(listener_);
    listener_ = nullptr;
}

void PeerListener::acceptTrampoline(evconnlistener*, int fd, sockaddr* addr, int len, void* self) {
    auto* l = static_cast<PeerListener*>(self);
    guarded("listener", [l, fd, addr, len] { l->onAccept(fd, addr, len); });
}

void PeerListener::errorTrampoline(evconnlistener*, void* self) {
    auto* l = static_cast<PeerListener*>(self);
    guarded("listener", [l] { l->onAcceptError(); });
}

void PeerListener::onAccept(int fd, const sockaddr* addr, int len) {
    ConnectedSocket socket(fd, LinkOrigin::Accepted);  // owns fd from here: closed on any early return
    if (addr == nullptr || addr->sa_family != AF_INET || len < int(sizeof(sockaddr_in))) {
        counters_.refused++;
        return;
    }
    const uint32_t source = ntohl(reinterpret_cast<const sockaddr_in*>(addr)->sin_addr.s_addr);
    // failover.c (dhcp_failover_listener_signal): a connection whose source is
    // not a configured peer's address is dropped without a word.
    std::optional<RelationshipId> id = classify_ ? classify_(source) : std::nullopt;
    if (!id) {
        counters_.refused++;
        return;
    }
    counters_.accepted++;
    if (accepted_) accepted_(*id, std::move(socket));
}

void PeerListener::onAcceptError() {
    const int err = EVUTIL_SOCKET_ERROR();
    counters_.acceptErrors++;
    // The listening socket stays readable while accept() keeps failing: pause
    // instead of spinning, and log once per pause.
    common::logError("failover listener on " + endpoint(address_, port_) + ": accept failed: " + std::strerror(err) +
                     "; pausing for 1 s");
    if (listener_) evconnlistener_disable(listener_);
    resume_.startMs(kAcceptPauseMs);
}

// ---------------------------------------------------------------- PeerConnector

PeerConnector::PeerConnector(common::EventLoop& loop, Params params, Connected connected)
    : loop_(loop),
      params_(std::move(params)),
      connected_(std::move(connected)),
      retry_(loop, [this] { attempt(); }) {}

PeerConnector::~PeerConnector() {
    abandon();
}

void PeerConnector::abandon() {
    retry_.stop();
    if (connectEvent_) event_free(connectEvent_);
    connectEvent_ = nullptr;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void PeerConnector::start() {
    abandon();
    attempt();
}

void PeerConnector::startAfterRetryDelay() {
    abandon();
    phase_ = Phase::Waiting;
    waitMs_ = params_.retryMs;
    retry_.startMs(waitMs_);
}

void PeerConnector::stop() {
    abandon();
    phase_ = Phase::Idle;
}

void PeerConnector::fail(const std::string& why, uint64_t delayMs) {
    abandon();
    counters_.failures++;
    lastError_ = why;
    phase_ = Phase::Waiting;
    waitMs_ = delayMs;
    retry_.startMs(delayMs);
}

void PeerConnector::attempt() {
    abandon();
    phase_ = Phase::Connecting;
    counters_.attempts++;
    const std::string target = endpoint(params_.peerAddress, params_.peerPort);
    // A connect that cannot even be started (no socket, the local address is not
    // ours, ...) is retried after 90 s, as failover.c does when
    // dhcp_failover_link_initiate fails.
    auto unstartable = [this, &target](const char* step) {
        const int err = errno;
        const std::string why = std::string(step) + " failed: " + std::strerror(err);
        common::logError("failover peer " + params_.peerName + ": cannot connect from " +
                         common::formatIpv4(params_.localAddress) + " to " + target + ": " + why);
        fail(why, params_.unstartableRetryMs);
    };
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return unstartable("socket");
    if (params_.localAddress != 0) {
        // The peer's accept filter checks our source address: it must be `address`.
        sockaddr_in local = inet(params_.localAddress, 0);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) return unstartable("bind");
    }
    sockaddr_in remote = inet(params_.peerAddress, params_.peerPort);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0 && errno != EINPROGRESS) {
        const int err = errno;
        if (err == ECONNREFUSED || err == ETIMEDOUT || err == EHOSTUNREACH || err == ENETUNREACH) {
            common::logDebug("failover peer " + params_.peerName + ": connect to " + target + ": " +
                             std::strerror(err));
            return fail(std::string("connect failed: ") + std::strerror(err), params_.retryMs);
        }
        return unstartable("connect");
    }
    // Even an immediate success is reported from the loop, so start() never calls back.
    connectEvent_ = event_new(loop_.base(), fd_, EV_WRITE, &PeerConnector::connectTrampoline, this);
    if (!connectEvent_) return unstartable("event_new");
    timeval tv{};
    tv.tv_sec = time_t(params_.connectTimeoutMs / 1000);
    tv.tv_usec = suseconds_t(params_.connectTimeoutMs % 1000 * 1000);
    event_add(connectEvent_, params_.connectTimeoutMs > 0 ? &tv : nullptr);
}

void PeerConnector::connectTrampoline(int, short what, void* self) {
    auto* c = static_cast<PeerConnector*>(self);
    guarded("connector", [c, what] { c->onConnectEvent(what); });
}

void PeerConnector::onConnectEvent(short what) {
    const std::string target = endpoint(params_.peerAddress, params_.peerPort);
    if (what & EV_TIMEOUT) {
        common::logDebug("failover peer " + params_.peerName + ": connect to " + target + " timed out");
        return fail("connect timed out", params_.retryMs);
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
        common::logDebug("failover peer " + params_.peerName + ": connect to " + target + ": " + std::strerror(err));
        return fail(std::string("connect failed: ") + std::strerror(err), params_.retryMs);
    }
    event_free(connectEvent_);
    connectEvent_ = nullptr;
    ConnectedSocket socket(std::exchange(fd_, -1), LinkOrigin::Initiated);
    phase_ = Phase::Idle;
    waitMs_ = 0;
    counters_.connected++;
    lastError_.clear();
    // Last thing: the owner may destroy this connector.
    if (connected_) connected_(std::move(socket));
}

}  // namespace tandem::failover
