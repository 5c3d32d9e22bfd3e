// The daemon's control channel, as rndc and keactrl give theirs: a Unix
// stream socket on which a local client (tandemctl) sends one request line
// and reads one reply (`OK` or `ERROR <reason>`, then a body), after which
// the connection closes. Commands are registered by name; only `help` and
// `version` are built in, the failover engine registers the rest.
//
// Authorization has two gates. The socket file's permissions (mode 0660,
// owner and group as the daemon sets them) decide who may connect at all;
// then SO_PEERCRED lets in only uid 0 and the daemon's own (effective) uid,
// so that a socket left too open by mistake still gives nobody else control.
//
// This module must not know what any registered command means, and must
// never block the loop: every client is non-blocking, capped in size and
// bounded in time, and the number of clients is capped.
#ifndef TANDEM_SERVER_CONTROL_H
#define TANDEM_SERVER_CONTROL_H

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/event.h"
#include "common/log.h"

namespace tandem::server {

/// Where tandemd listens and tandemctl connects unless told otherwise.
inline constexpr const char* kDefaultControlSocket = "/run/tandemd.ctl";
/// The longest request line, in bytes, without its newline.
inline constexpr std::size_t kMaxControlRequest = 4096;
/// The longest reply the server sends and tandemctl accepts, in bytes.
inline constexpr std::size_t kMaxControlReply = std::size_t(4) << 20;

// ---------------------------------------------------------------- request words

/// @brief Split a request line into words as a POSIX shell would, without
/// expansions: blanks separate words, `\x` is x, '...' is literal, and in
/// "..." only \" and \\ are escapes. Adjacent parts join (a"b c" is `ab c`).
/// @return false with `error` set on an unterminated quote or a trailing backslash.
bool splitControlWords(std::string_view line, std::vector<std::string>& words, std::string& error);

/// @brief `word` quoted so that splitControlWords gives it back: as it is when
/// it has only safe characters, else in single quotes.
std::string quoteControlWord(std::string_view word);

/// @brief The request line (without newline) for `words`: each quoted, joined
/// by spaces. False with `error` when a word is not UTF-8 text or holds a
/// control character, or the line would exceed kMaxControlRequest.
bool formatControlRequest(const std::vector<std::string>& words, std::string& line, std::string& error);

/// @brief Whether `text` is valid UTF-8 with no control character but tab.
/// False with `error` saying which rule it breaks.
bool validControlText(std::string_view text, std::string& error);

// ---------------------------------------------------------------- replies

namespace detail {
struct ControlDeferredState;
}

class ControlReply;

/// @brief The handle of a reply that a handler gives later (ControlReply::later).
/// Copies share one reply. It may outlive the client and the server: a late
/// complete() then does nothing and says so.
class ControlDeferral {
public:
    /// @brief Send `reply` to the client that waits for it. Call it from the
    /// loop (any callback, or the handler itself). Only the first call counts.
    /// @return true when a client still waited; false when it had gone, timed
    /// out, the server closed, or a reply was already given.
    bool complete(ControlReply reply) const;
    /// @brief Whether a client still waits for this reply.
    bool waiting() const;

private:
    friend class ControlReply;
    std::shared_ptr<detail::ControlDeferredState> state_;
};

/// @brief A handler's answer: `OK` with a body, `ERROR <reason>` with an
/// optional body, or a promise to answer later through a ControlDeferral.
class ControlReply {
public:
    enum class Kind { Ok, Error, Deferred };

    /// @brief `OK`, then `body` (a newline is added if it lacks one).
    static ControlReply ok(std::string body = {});
    /// @brief `ERROR reason` (one line: line breaks become spaces), then `body`.
    static ControlReply error(std::string reason, std::string body = {});
    /// @brief Answer later: `deferral` is set to the handle to complete, and
    /// the client waits up to ControlServerOptions::deferredTimeoutMs.
    static ControlReply later(ControlDeferral& deferral);

    Kind kind() const { return kind_; }
    bool isOk() const { return kind_ == Kind::Ok; }
    const std::string& reason() const { return reason_; }
    const std::string& body() const { return body_; }
    /// @brief What goes on the socket: the status line, then the body.
    std::string wire() const;

private:
    friend class ControlServer;
    friend class ControlDeferral;
    Kind kind_ = Kind::Ok;
    std::string reason_;
    std::string body_;
    std::shared_ptr<detail::ControlDeferredState> state_;  ///< Deferred only
};

// ---------------------------------------------------------------- the server

/// A command's handler gets the words after the command name. It runs on the
/// loop and must not block; exceptions it throws become `ERROR internal error`.
using ControlHandler = std::function<ControlReply(const std::vector<std::string>& args)>;

struct ControlCommand {
    std::string name;     ///< the request's first word, matched exactly
    std::string args;     ///< argument synopsis for help, e.g. "NAME [--force]"
    std::string summary;  ///< one line for help
    ControlHandler handler;
    /// Log each use at info level with the caller's uid and pid. Turn it off
    /// for read-only commands that monitoring polls (status).
    bool audit = true;
};

struct ControlServerOptions {
    std::string path = kDefaultControlSocket;
    unsigned mode = 0660;  ///< permission bits of the socket file
    /// chown the socket to these after bind; -1 keeps the creator's. Set them
    /// to the -user/-group the daemon drops to, or it locks itself out.
    uid_t owner = uid_t(-1);
    gid_t group = gid_t(-1);
    std::size_t maxClients = 16;          ///< more are answered "ERROR busy" and closed
    uint64_t requestTimeoutMs = 5000;     ///< from accept until the request line is in
    uint64_t deferredTimeoutMs = 30000;   ///< how long a deferred reply may take
    uint64_t replyTimeoutMs = 5000;       ///< to write the reply out
};

/// @brief Listens on the control socket and answers requests, on the loop.
/// Not copyable. Must not be destroyed from inside one of its handlers
/// (close() may be called there).
class ControlServer {
public:
    struct Stats {
        uint64_t accepted = 0;      ///< connections accepted
        uint64_t requests = 0;      ///< request lines dispatched (or refused as malformed)
        uint64_t errors = 0;        ///< ERROR replies sent, refusals included
        uint64_t refusedPeer = 0;   ///< refused by the SO_PEERCRED check
        uint64_t refusedBusy = 0;   ///< refused because maxClients were connected
        uint64_t timedOut = 0;      ///< clients dropped or answered because a phase timed out
    };

    /// @brief Registers the built-in `help` and `version`; listens only at start().
    ControlServer(common::EventLoop& loop, ControlServerOptions options = {});
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    /// @brief Create the socket at options.path and listen. A socket file
    /// nobody answers on is replaced; one that a live server answers on, or a
    /// path that is not a socket, is left alone and makes start fail.
    /// @return false with `error` set (a full sentence naming the path).
    bool start(std::string& error);
    /// @brief Stop listening, drop every client (pending deferrals then return
    /// false) and remove the socket file if it is still the one we created.
    void close();
    bool listening() const { return listenFd_ >= 0; }
    const std::string& path() const { return options_.path; }

    /// @brief Register a command (before or after start()).
    /// @throw std::invalid_argument for an empty or taken name or no handler.
    void addCommand(ControlCommand command);
    /// @brief Shorthand for addCommand({name, args, summary, handler, true}).
    void addCommand(std::string name, std::string args, std::string summary, ControlHandler handler);
    /// @brief Unregister; false if there was no such command.
    bool removeCommand(const std::string& name);
    bool hasCommand(const std::string& name) const { return commands_.count(name) != 0; }

    std::size_t clientCount() const { return clients_.size(); }
    const Stats& stats() const { return stats_; }

private:
    struct Client;

    void onAcceptable();
    void refuse(int fd, const std::string& reason);
    void onReadable(Client& c);
    void onWritable(Client& c);
    void onTimeout(Client& c);
    void dispatch(Client& c, std::string_view line);
    void respond(Client& c, const ControlReply& reply);
    void closeClient(Client& c);
    bool peerAllowed(uid_t uid) const;
    ControlReply help() const;

    common::EventLoop& loop_;
    ControlServerOptions options_;
    std::map<std::string, ControlCommand> commands_;
    int listenFd_ = -1;
    dev_t socketDev_ = 0;
    ino_t socketIno_ = 0;
    std::unique_ptr<common::IoWatcher> listenWatcher_;
    common::Timer resumeAccept_;  ///< accept paused after EMFILE
    std::vector<std::unique_ptr<Client>> clients_;
    /// Closed clients wait here for the next loop turn: one may be closed from
    /// inside its own callback, which must not destroy the watcher it runs in.
    std::vector<std::unique_ptr<Client>> closed_;
    common::Timer reaper_;
    uint64_t nextClientId_ = 1;
    Stats stats_;
    common::RateLimiter refusalLog_{5, 60};
    common::RateLimiter errorLog_{5, 60};
};

}  // namespace tandem::server

#endif
