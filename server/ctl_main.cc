// tandemctl: the command-line client of tandemd's control socket. It checks
// the arguments of the commands it knows, sends one request line, prints the
// reply's body and exits 0 (OK), 1 (ERROR) or 2 (usage or connection
// problem). Words it does not know as commands go to the daemon unchanged,
// which answers for them; tandemctl holds no knowledge of failover itself.
#include "config.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "server/control.h"

namespace {

using tandem::server::kDefaultControlSocket;
using tandem::server::kMaxControlReply;

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
// Connecting and sending are quick on a local socket; the wait for the reply
// covers the daemon's longest deferred answer (30 s) with room to spare.
constexpr int kSendTimeoutSeconds = 5;
constexpr int kReplyTimeoutMs = 45000;

const char kUsage[] =
    "Usage: tandemctl [-s SOCKET] COMMAND [ARGUMENTS]\n"
    "Commands:\n"
    "  status                       failover relationships, their states and pools\n"
    "  partner-down NAME [--force]  declare the peer of relationship NAME down\n"
    "  resync NAME                  ask the peer of NAME for all its bindings again\n"
    "  shutdown-peer NAME           tell the peer of NAME we shut down, then stop serving\n"
    "  reload                       reload the configuration\n"
    "  version                      print the daemon's version\n"
    "  help                         list the commands the daemon knows\n"
    "Options:\n"
    "  -s SOCKET     the daemon's control socket (else $TANDEMCTL_SOCKET, else /run/tandemd.ctl)\n"
    "  -h, --help    print this help\n"
    "  --version     print tandemctl's version\n";

[[noreturn]] void usageError(const std::string& message) {
    std::cerr << "tandemctl: " << message << "\n" << kUsage;
    std::exit(kExitUsage);
}

[[noreturn]] void failure(const std::string& message) {
    std::cerr << "tandemctl: " << message << "\n";
    std::exit(kExitUsage);
}

struct Known {
    const char* name;
    std::size_t names;  ///< how many NAME arguments it takes (0 or 1)
    bool force;         ///< accepts --force
};

constexpr Known kKnown[] = {
    {"status", 0, false},       {"partner-down", 1, true}, {"resync", 1, false}, {"shutdown-peer", 1, false},
    {"reload", 0, false},       {"version", 0, false},     {"help", 0, false},
};

// The request for a command tandemctl knows, in its canonical order
// ("partner-down NAME --force"), or a usage error.
std::vector<std::string> checkKnown(const Known& k, const std::vector<std::string>& args) {
    std::vector<std::string> names;
    bool force = false;
    for (const auto& a : args) {
        if (k.force && a == "--force") {
            if (force) usageError(std::string(k.name) + ": --force given twice");
            force = true;
        } else if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
            usageError(std::string(k.name) + ": unknown option " + a);
        } else {
            names.push_back(a);
        }
    }
    const std::string synopsis = std::string(k.name) + (k.names ? " NAME" : "") + (k.force ? " [--force]" : "");
    if (names.size() != k.names) {
        if (names.size() < k.names) usageError(std::string(k.name) + ": the relationship NAME is missing (" + synopsis + ")");
        usageError(std::string(k.name) + ": too many arguments (" + synopsis + ")");
    }
    std::vector<std::string> request{k.name};
    request.insert(request.end(), names.begin(), names.end());
    if (force) request.push_back("--force");
    return request;
}

long long monotonicMs() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Connects, sends `line`, and returns everything the daemon answers.
std::string exchange(const std::string& path, const std::string& line) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path)
        failure("socket path \"" + path + "\" is empty or longer than " + std::to_string(sizeof addr.sun_path - 1) +
                " bytes");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) failure(std::string("cannot create a socket: ") + std::strerror(errno));
    // Bounds connect() too: a Unix connect waits for backlog room at most this long.
    timeval tv{kSendTimeoutSeconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        const int e = errno;
        std::string m = "cannot connect to " + path + ": " + std::strerror(e);
        if (e == ENOENT || e == ECONNREFUSED) m += " \u2014 is tandemd running?";
        else if (e == EACCES || e == EPERM) m += " \u2014 only root and tandemd's user may use it";
        else if (e == EAGAIN) m = "cannot connect to " + path + ": tandemd accepts no connections (timed out)";
        failure(m);
    }
    const std::string request = line + "\n";
    std::size_t sent = 0;
    while (sent < request.size()) {
        ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            // The daemon may have refused us before reading (permission, busy):
            // its reason is waiting to be read, so read before giving up.
            if (errno == EPIPE || errno == ECONNRESET) break;
            if (errno == EAGAIN) failure("cannot send to " + path + ": timed out");
            failure("cannot send to " + path + ": " + std::strerror(errno));
        }
        sent += std::size_t(n);
    }

    std::string reply;
    const long long deadline = monotonicMs() + kReplyTimeoutMs;
    char buf[16384];
    for (;;) {
        const long long left = deadline - monotonicMs();
        if (left <= 0) failure("no answer from " + path + " within " + std::to_string(kReplyTimeoutMs / 1000) + " s");
        pollfd p{fd, POLLIN, 0};
        int rc = ::poll(&p, 1, int(left));
        if (rc < 0 && errno == EINTR) continue;
        if (rc < 0) failure(std::string("poll: ") + std::strerror(errno));
        if (rc == 0) continue;
        ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
            // A refusing daemon closes without reading us: a reset after its reply is its end.
            if (errno == ECONNRESET && !reply.empty()) break;
            failure("cannot read the answer from " + path + ": " + std::strerror(errno));
        }
        if (n == 0) break;
        reply.append(buf, std::size_t(n));
        if (reply.size() > kMaxControlReply + 1024) failure("the answer from " + path + " is too large");
    }
    ::close(fd);
    return reply;
}

bool writeAll(std::FILE* f, const std::string& s) {
    return (s.empty() || std::fwrite(s.data(), 1, s.size(), f) == s.size()) && std::fflush(f) == 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    std::string socket;
    std::size_t i = 0;
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "-s") {
            if (i + 1 >= args.size()) usageError("-s needs a socket path");
            socket = args[++i];
        } else if (a.size() > 2 && a.compare(0, 2, "-s") == 0) {
            socket = a.substr(2);
        } else if (a == "-h" || a == "--help") {
            std::cout << kUsage;
            return kExitOk;
        } else if (a == "--version") {
            std::cout << "tandemctl " PACKAGE_VERSION "\n";
            return kExitOk;
        } else if (a == "--") {
            ++i;
            break;
        } else if (a.size() > 1 && a[0] == '-') {
            usageError("unknown option " + a);
        } else {
            break;
        }
    }
    if (i >= args.size()) usageError("no command given");
    if (socket.empty())
        if (const char* e = std::getenv("TANDEMCTL_SOCKET"); e && *e) socket = e;
    if (socket.empty()) socket = kDefaultControlSocket;

    std::vector<std::string> request(args.begin() + std::ptrdiff_t(i), args.end());
    for (const Known& k : kKnown)
        if (request.front() == k.name) {
            request = checkKnown(k, std::vector<std::string>(request.begin() + 1, request.end()));
            break;
        }
    std::string line, why;
    if (!tandem::server::formatControlRequest(request, line, why)) usageError(why);

    const std::string reply = exchange(socket, line);
    const std::size_t nl = reply.find('\n');
    if (nl == std::string::npos) {
        if (reply.empty()) failure(socket + " closed the connection without an answer");
        failure("malformed answer from " + socket);
    }
    const std::string status = reply.substr(0, nl);
    const std::string body = reply.substr(nl + 1);
    if (status == "OK") {
        if (!writeAll(stdout, body)) failure(std::string("cannot write the output: ") + std::strerror(errno));
        return kExitOk;
    }
    if (status == "ERROR" || status.compare(0, 6, "ERROR ") == 0) {
        const std::string reason = status.size() > 6 ? status.substr(6) : "failed";
        std::cerr << "tandemctl: " << request.front() << ": " << reason << "\n";
        std::cerr.flush();
        writeAll(stderr, body);
        return kExitError;
    }
    failure("malformed answer from " + socket);
}
