#include "config.h"

#include "server/control.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

namespace tandem::server {

// ---------------------------------------------------------------- request words

bool validControlText(std::string_view text, std::string& error) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    for (std::size_t i = 0; i < n;) {
        const unsigned char c = p[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                error = "contains a control character";
                return false;
            }
            ++i;
            continue;
        }
        // RFC 3629 §4: the shortest form only, no surrogates, nothing above U+10FFFF.
        std::size_t len;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) len = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef) len = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4) len = 4, cp = c & 0x07;
        else {
            error = "is not valid UTF-8";
            return false;
        }
        if (i + len > n) {
            error = "is not valid UTF-8";
            return false;
        }
        for (std::size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xc0) != 0x80) {
                error = "is not valid UTF-8";
                return false;
            }
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff)) {
            error = "is not valid UTF-8";
            return false;
        }
        // C1 controls are control characters too.
        if (cp >= 0x80 && cp < 0xa0) {
            error = "contains a control character";
            return false;
        }
        i += len;
    }
    return true;
}

bool splitControlWords(std::string_view line, std::vector<std::string>& words, std::string& error) {
    words.clear();
    std::string word;
    bool inWord = false;
    const std::size_t n = line.size();
    for (std::size_t i = 0; i < n; ++i) {
        const char ch = line[i];
        if (ch == ' ' || ch == '\t') {
            if (inWord) words.push_back(std::move(word));
            word.clear();
            inWord = false;
            continue;
        }
        inWord = true;
        if (ch == '\\') {
            if (i + 1 >= n) {
                error = "trailing backslash";
                return false;
            }
            word += line[++i];
        } else if (ch == '\'') {
            const std::size_t end = line.find('\'', i + 1);
            if (end == std::string_view::npos) {
                error = "unterminated single quote";
                return false;
            }
            word.append(line.substr(i + 1, end - i - 1));
            i = end;
        } else if (ch == '"') {
            for (++i;; ++i) {
                if (i >= n) {
                    error = "unterminated double quote";
                    return false;
                }
                const char q = line[i];
                if (q == '"') break;
                if (q == '\\' && i + 1 < n && (line[i + 1] == '"' || line[i + 1] == '\\')) {
                    word += line[++i];
                } else {
                    word += q;
                }
            }
        } else {
            word += ch;
        }
    }
    if (inWord) words.push_back(std::move(word));
    return true;
}

std::string quoteControlWord(std::string_view word) {
    auto safe = [](unsigned char c) {
        return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::strchr("-_.,:/@%+=", c) != nullptr;
    };
    if (!word.empty() && std::all_of(word.begin(), word.end(), [&](char c) { return safe(static_cast<unsigned char>(c)); }))
        return std::string(word);
    std::string out = "'";
    for (char c : word) {
        if (c == '\'') out += "'\\''";
        else out += c;
    }
    out += '\'';
    return out;
}

bool formatControlRequest(const std::vector<std::string>& words, std::string& line, std::string& error) {
    line.clear();
    if (words.empty()) {
        error = "no command given";
        return false;
    }
    for (std::size_t i = 0; i < words.size(); ++i) {
        std::string why;
        if (!validControlText(words[i], why)) {
            error = (i == 0 ? "the command " : "argument " + std::to_string(i) + " ") + why;
            return false;
        }
        if (i) line += ' ';
        line += quoteControlWord(words[i]);
    }
    if (line.size() > kMaxControlRequest) {
        error = "the request is longer than " + std::to_string(kMaxControlRequest) + " bytes";
        return false;
    }
    return true;
}

// ---------------------------------------------------------------- replies

namespace detail {
struct ControlDeferredState {
    bool done = false;                                  ///< answered, or nobody waits any more
    bool attached = false;                              ///< the server has taken it over
    std::optional<ControlReply> early;                  ///< completed inside the handler
    std::function<void(const ControlReply&)> deliver;   ///< set while a client waits
};
}  // namespace detail

namespace {
std::string oneLine(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
    return out;
}
}  // namespace

ControlReply ControlReply::ok(std::string body) {
    ControlReply r;
    r.kind_ = Kind::Ok;
    r.body_ = std::move(body);
    return r;
}

ControlReply ControlReply::error(std::string reason, std::string body) {
    ControlReply r;
    r.kind_ = Kind::Error;
    r.reason_ = oneLine(reason);
    if (r.reason_.empty()) r.reason_ = "failed";
    r.body_ = std::move(body);
    return r;
}

ControlReply ControlReply::later(ControlDeferral& deferral) {
    ControlReply r;
    r.kind_ = Kind::Deferred;
    r.state_ = std::make_shared<detail::ControlDeferredState>();
    deferral.state_ = r.state_;
    return r;
}

std::string ControlReply::wire() const {
    std::string s = kind_ == Kind::Ok ? std::string("OK\n") : "ERROR " + reason_ + "\n";
    s += body_;
    if (!body_.empty() && body_.back() != '\n') s += '\n';
    return s;
}

bool ControlDeferral::complete(ControlReply reply) const {
    if (!state_ || state_->done) return false;
    if (reply.kind_ == ControlReply::Kind::Deferred)
        reply = ControlReply::error("internal error: a deferred reply was completed with another deferred reply");
    state_->done = true;
    if (!state_->attached) {
        // Still inside the handler: the server sends it when the handler returns.
        state_->early = std::move(reply);
        return true;
    }
    if (!state_->deliver) return false;
    auto deliver = std::move(state_->deliver);
    state_->deliver = nullptr;
    deliver(reply);
    return true;
}

bool ControlDeferral::waiting() const { return state_ && !state_->done; }

// ---------------------------------------------------------------- clients

namespace {
constexpr uint64_t kLingerMs = 1000;           // waiting for the client to close after the reply
constexpr std::size_t kMaxDrain = 64 * 1024;   // bytes read and dropped after the request
constexpr int kAcceptsPerWakeup = 16;
constexpr uint64_t kAcceptPauseMs = 250;       // after EMFILE, so a full fd table cannot spin the loop

common::Time nowSeconds() { return static_cast<common::Time>(std::time(nullptr)); }

/// One send attempt, for refusals: the client gets the reason if it listens.
void sendBestEffort(int fd, const std::string& bytes) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)n;
}
}  // namespace

struct ControlServer::Client {
    enum class Phase { Reading, Waiting, Writing, Draining };

    Client(ControlServer& server, int fd_, uid_t uid_, pid_t pid_, uint64_t id_)
        : fd(fd_), uid(uid_), pid(pid_), id(id_),
          reader(server.loop_, fd_, common::IoWatcher::kRead, [&server, this](short) { server.onReadable(*this); }),
          writer(server.loop_, fd_, common::IoWatcher::kWrite, [&server, this](short) { server.onWritable(*this); }),
          timer(server.loop_, [&server, this] { server.onTimeout(*this); }) {}
    ~Client() {
        if (fd >= 0) ::close(fd);
    }

    int fd;
    uid_t uid;
    pid_t pid;
    uint64_t id;
    Phase phase = Phase::Reading;
    std::string in;
    std::string out;
    std::size_t sent = 0;
    std::size_t drained = 0;
    std::string command;  ///< the first word, for messages
    std::shared_ptr<detail::ControlDeferredState> deferred;
    common::IoWatcher reader;
    common::IoWatcher writer;
    common::Timer timer;
};

ControlServer::ControlServer(common::EventLoop& loop, ControlServerOptions options)
    : loop_(loop),
      options_(std::move(options)),
      resumeAccept_(loop, [this] {
          if (listenWatcher_) listenWatcher_->start();
      }),
      reaper_(loop, [this] { closed_.clear(); }) {
    addCommand({"help", "", "list the commands", [this](const std::vector<std::string>& args) {
                    if (!args.empty()) return ControlReply::error("help takes no arguments");
                    return help();
                },
                false});
    addCommand({"version", "", "print the daemon's version", [](const std::vector<std::string>& args) {
                    if (!args.empty()) return ControlReply::error("version takes no arguments");
                    return ControlReply::ok("tandemd " PACKAGE_VERSION "\n");
                },
                false});
}

ControlServer::~ControlServer() { close(); }

void ControlServer::addCommand(ControlCommand command) {
    if (command.name.empty()) throw std::invalid_argument("control command without a name");
    if (!command.handler) throw std::invalid_argument("control command " + command.name + " has no handler");
    if (commands_.count(command.name)) throw std::invalid_argument("control command " + command.name + " registered twice");
    std::string name = command.name;
    commands_.emplace(std::move(name), std::move(command));
}

void ControlServer::addCommand(std::string name, std::string args, std::string summary, ControlHandler handler) {
    addCommand(ControlCommand{std::move(name), std::move(args), std::move(summary), std::move(handler), true});
}

bool ControlServer::removeCommand(const std::string& name) { return commands_.erase(name) != 0; }

ControlReply ControlServer::help() const {
    std::size_t width = 0;
    for (const auto& [name, c] : commands_) width = std::max(width, name.size() + (c.args.empty() ? 0 : 1 + c.args.size()));
    std::string body;
    for (const auto& [name, c] : commands_) {
        std::string head = c.args.empty() ? name : name + " " + c.args;
        body += head;
        if (!c.summary.empty()) body += std::string(width - head.size() + 2, ' ') + c.summary;
        body += '\n';
    }
    return ControlReply::ok(body);
}

// ---------------------------------------------------------------- socket life

bool ControlServer::start(std::string& error) {
    if (listenFd_ >= 0) {
        error = "the control socket " + options_.path + " is already open";
        return false;
    }
    const std::string& path = options_.path;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path) {
        error = "control socket path \"" + path + "\" is empty or longer than " +
                std::to_string(sizeof addr.sun_path - 1) + " bytes";
        return false;
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            error = "control socket " + path + " exists and is not a socket; not replacing it";
            return false;
        }
        // A socket file outlives a daemon that crashed. Whether one is stale
        // is told by knocking: a live daemon accepts (or has a full backlog).
        int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (probe < 0) {
            error = std::string("cannot create a socket: ") + std::strerror(errno);
            return false;
        }
        int rc = ::connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
        int e = errno;
        ::close(probe);
        if (rc == 0 || e == EAGAIN || e == EINPROGRESS) {
            error = "another server answers on the control socket " + path + "; is tandemd already running?";
            return false;
        }
        if (e == ECONNREFUSED) {
            if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
                error = "cannot remove the stale control socket " + path + ": " + std::strerror(errno);
                return false;
            }
            common::logInfo("control: removed the stale socket " + path);
        } else if (e != ENOENT) {
            error = "cannot check the existing control socket " + path + ": " + std::strerror(e);
            return false;
        }
    } else if (errno != ENOENT) {
        error = "cannot check the control socket path " + path + ": " + std::strerror(errno);
        return false;
    }

    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = std::string("cannot create the control socket: ") + std::strerror(errno);
        return false;
    }
    // The umask makes bind create the file with the final mode, so there is
    // no moment at which it is more open than asked (the loop is single-threaded).
    const mode_t mode = static_cast<mode_t>(options_.mode & 0777);
    const mode_t oldMask = ::umask(static_cast<mode_t>(0777 & ~mode));
    int rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    int e = errno;
    ::umask(oldMask);
    auto fail = [&](const std::string& what, int err, bool unlinkIt) {
        error = what + " " + path + ": " + std::strerror(err);
        ::close(fd);
        if (unlinkIt) ::unlink(path.c_str());
        return false;
    };
    if (rc != 0) return fail("cannot bind the control socket", e, false);
    if (::chmod(path.c_str(), mode) != 0) return fail("cannot set the mode of the control socket", errno, true);
    if ((options_.owner != uid_t(-1) || options_.group != gid_t(-1)) &&
        ::chown(path.c_str(), options_.owner, options_.group) != 0)
        return fail("cannot set the owner of the control socket", errno, true);
    if (::stat(path.c_str(), &st) != 0) return fail("cannot stat the control socket", errno, true);
    if (::listen(fd, 16) != 0) return fail("cannot listen on the control socket", errno, true);
    socketDev_ = st.st_dev;
    socketIno_ = st.st_ino;
    listenFd_ = fd;
    listenWatcher_ = std::make_unique<common::IoWatcher>(loop_, fd, common::IoWatcher::kRead,
                                                         [this](short) { onAcceptable(); });
    listenWatcher_->start();
    common::logInfo("control: listening on " + path);
    return true;
}

void ControlServer::close() {
    resumeAccept_.stop();
    if (listenFd_ >= 0) {
        listenWatcher_.reset();
        ::close(listenFd_);
        listenFd_ = -1;
        // Only our own file: a newer daemon may have replaced it meanwhile.
        struct stat st{};
        if (::lstat(options_.path.c_str(), &st) == 0 && st.st_dev == socketDev_ && st.st_ino == socketIno_ &&
            ::unlink(options_.path.c_str()) != 0) {
            // After -user the daemon may not write root's run directory; the
            // service manager removes it, and the next start replaces the socket.
            common::logWrite(errno == EACCES || errno == EPERM ? common::LogLevel::Debug : common::LogLevel::Warning,
                             "control: cannot remove the socket " + options_.path + ": " + std::strerror(errno) +
                                 " (the next start replaces it)");
        }
    }
    while (!clients_.empty()) closeClient(*clients_.back());
}

bool ControlServer::peerAllowed(uid_t uid) const { return uid == 0 || uid == ::geteuid(); }

void ControlServer::refuse(int fd, const std::string& reason) {
    ++stats_.errors;
    sendBestEffort(fd, ControlReply::error(reason).wire());
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
}

void ControlServer::onAcceptable() {
    for (int i = 0; i < kAcceptsPerWakeup && listenFd_ >= 0; ++i) {
        int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            const int e = errno;
            if (e == EAGAIN || e == EWOULDBLOCK) return;
            if (e == EINTR || e == ECONNABORTED || e == EPROTO) continue;
            uint64_t suppressed = 0;
            if (errorLog_.allow(nowSeconds(), suppressed))
                common::logError("control: accept on " + options_.path + ": " + std::strerror(e) +
                                 (suppressed ? " (" + std::to_string(suppressed) + " similar messages suppressed)" : ""));
            // Out of descriptors (or memory): the socket stays readable, so
            // pause instead of spinning, and let clients wait in the backlog.
            listenWatcher_->stop();
            resumeAccept_.startMs(kAcceptPauseMs);
            return;
        }
        ++stats_.accepted;
        ucred cred{};
        socklen_t len = sizeof cred;
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred ||
            !peerAllowed(cred.uid)) {
            ++stats_.refusedPeer;
            uint64_t suppressed = 0;
            if (refusalLog_.allow(nowSeconds(), suppressed))
                common::logWarning("control: refused a connection from uid " + std::to_string(cred.uid) + " (pid " +
                                   std::to_string(cred.pid) + "): only root and uid " + std::to_string(::geteuid()) +
                                   " may use " + options_.path +
                                   (suppressed ? " (" + std::to_string(suppressed) + " similar messages suppressed)" : ""));
            refuse(fd, "permission denied");
            continue;
        }
        if (clients_.size() >= options_.maxClients) {
            ++stats_.refusedBusy;
            uint64_t suppressed = 0;
            if (refusalLog_.allow(nowSeconds(), suppressed))
                common::logWarning("control: " + std::to_string(clients_.size()) +
                                   " clients connected already; refusing one more");
            refuse(fd, "busy: too many control connections, try again");
            continue;
        }
        auto client = std::make_unique<Client>(*this, fd, cred.uid, cred.pid, nextClientId_++);
        client->reader.start();
        client->timer.startMs(options_.requestTimeoutMs);
        clients_.push_back(std::move(client));
    }
}

void ControlServer::closeClient(Client& c) {
    if (c.fd < 0) return;
    c.reader.stop();
    c.writer.stop();
    c.timer.stop();
    if (c.deferred) {
        c.deferred->done = true;
        c.deferred->deliver = nullptr;
        c.deferred.reset();
    }
    ::close(c.fd);
    c.fd = -1;
    auto it = std::find_if(clients_.begin(), clients_.end(), [&](const auto& p) { return p.get() == &c; });
    if (it != clients_.end()) {
        closed_.push_back(std::move(*it));
        clients_.erase(it);
        reaper_.startMs(0);
    }
}

// ---------------------------------------------------------------- one client

void ControlServer::onReadable(Client& c) {
    if (c.fd < 0) return;
    char buf[kMaxControlRequest + 1];
    if (c.phase == Client::Phase::Draining) {
        ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        if (n <= 0 || (c.drained += std::size_t(n)) > kMaxDrain) closeClient(c);
        return;
    }
    if (c.phase != Client::Phase::Reading) return;
    // Never more than one byte past the limit, so memory stays bounded.
    const std::size_t room = kMaxControlRequest + 1 - c.in.size();
    ssize_t n = ::recv(c.fd, buf, room, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        closeClient(c);
        return;
    }
    if (n == 0) {
        // A client may end its request by closing its side instead of a newline.
        if (c.in.empty()) closeClient(c);
        else dispatch(c, c.in);
        return;
    }
    const std::size_t from = c.in.size();
    c.in.append(buf, std::size_t(n));
    const std::size_t nl = c.in.find('\n', from);
    if (nl != std::string::npos && nl <= kMaxControlRequest) {
        std::string_view line(c.in.data(), nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        dispatch(c, line);
        return;
    }
    if (c.in.size() > kMaxControlRequest) {
        ++stats_.requests;
        c.command.clear();
        respond(c, ControlReply::error("request too long (the limit is " + std::to_string(kMaxControlRequest) +
                                       " bytes)"));
    }
}

void ControlServer::dispatch(Client& c, std::string_view line) {
    c.reader.stop();
    ++stats_.requests;
    std::string why;
    std::vector<std::string> words;
    if (!validControlText(line, why)) {
        respond(c, ControlReply::error("the request " + why));
        return;
    }
    if (!splitControlWords(line, words, why)) {
        respond(c, ControlReply::error("bad quoting in the request: " + why));
        return;
    }
    if (words.empty()) {
        respond(c, ControlReply::error("empty request"));
        return;
    }
    c.command = words.front();
    auto it = commands_.find(c.command);
    if (it == commands_.end()) {
        respond(c, ControlReply::error("unknown command: " + c.command, "Send \"help\" for the list of commands.\n"));
        return;
    }
    if (it->second.audit)
        common::logInfo("control: " + std::string(line) + " (uid " + std::to_string(c.uid) + ", pid " +
                        std::to_string(c.pid) + ")");
    // A copy: the handler may unregister its own command.
    ControlHandler handler = it->second.handler;
    const std::vector<std::string> args(words.begin() + 1, words.end());
    ControlReply reply;
    try {
        reply = handler(args);
    } catch (const std::exception& e) {
        common::logError("control: command " + c.command + " failed: " + e.what());
        reply = ControlReply::error(std::string("internal error: ") + e.what());
    } catch (...) {
        common::logError("control: command " + c.command + " failed with an unknown exception");
        reply = ControlReply::error("internal error");
    }
    if (c.fd < 0) return;  // the handler closed the server
    if (reply.kind() != ControlReply::Kind::Deferred) {
        respond(c, reply);
        return;
    }
    auto state = reply.state_;
    state->attached = true;
    if (state->early) {
        respond(c, *state->early);
        return;
    }
    if (state->done) {  // cannot happen: done without early means a client left
        respond(c, ControlReply::error("internal error: deferred reply lost"));
        return;
    }
    c.phase = Client::Phase::Waiting;
    c.deferred = state;
    Client* cp = &c;
    state->deliver = [this, cp](const ControlReply& r) {
        cp->deferred.reset();
        respond(*cp, r);
    };
    c.timer.startMs(options_.deferredTimeoutMs);
}

void ControlServer::respond(Client& c, const ControlReply& reply) {
    if (c.fd < 0) return;
    c.out = reply.wire();
    if (c.out.size() > kMaxControlReply) {
        common::logError("control: the reply to " + c.command + " is " + std::to_string(c.out.size()) +
                         " bytes; not sent");
        c.out = ControlReply::error("reply too large").wire();
    }
    if (c.out.compare(0, 3, "OK\n") != 0) ++stats_.errors;
    c.sent = 0;
    c.phase = Client::Phase::Writing;
    c.reader.stop();
    c.writer.start();
    c.timer.startMs(options_.replyTimeoutMs);
}

void ControlServer::onWritable(Client& c) {
    if (c.fd < 0 || c.phase != Client::Phase::Writing) return;
    // As much as the socket takes now; the rest when it is writable again.
    while (c.sent < c.out.size()) {
        ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            closeClient(c);  // the client left (EPIPE) or broke the connection
            return;
        }
        c.sent += std::size_t(n);
    }
    // Closing with unread input would reset the connection, which may cost the
    // client our reply; so say EOF, and read and drop until the client closes.
    c.writer.stop();
    ::shutdown(c.fd, SHUT_WR);
    c.phase = Client::Phase::Draining;
    c.out.clear();
    c.reader.start();
    c.timer.startMs(std::min(kLingerMs, options_.replyTimeoutMs));
}

void ControlServer::onTimeout(Client& c) {
    if (c.fd < 0) return;
    switch (c.phase) {
    case Client::Phase::Reading:
        ++stats_.timedOut;
        ++stats_.errors;
        sendBestEffort(c.fd, ControlReply::error("timed out waiting for the request").wire());
        closeClient(c);
        return;
    case Client::Phase::Waiting:
        ++stats_.timedOut;
        common::logWarning("control: " + c.command + " gave no answer within " +
                           std::to_string(options_.deferredTimeoutMs) + " ms");
        if (c.deferred) {
            c.deferred->done = true;
            c.deferred->deliver = nullptr;
            c.deferred.reset();
        }
        respond(c, ControlReply::error("timed out waiting for " + c.command + " to answer"));
        return;
    case Client::Phase::Writing:
        ++stats_.timedOut;
        closeClient(c);
        return;
    case Client::Phase::Draining:
        closeClient(c);
        return;
    }
}

}  // namespace tandem::server
