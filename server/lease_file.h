// The on-disk lease journal, as ISC dhcpd keeps dhcpd.leases (server/db.c):
// records are appended to a memory buffer, commit() writes the buffer with as
// few write() calls as it can and syncs it (GROUP COMMIT: append many, commit
// once, and only then answer the clients and peers concerned), and rewrite()
// compacts the file the ISC way: `<path>.<unix-time>` is written and synced,
// `<path>~` is replaced by a hard link to the old file, the new file is renamed
// over `<path>` and the directory is synced.
//
// The ordering guarantee is in the API: every append returns a Ticket, and a
// record is durable (may be acknowledged: DHCPACK, BNDACK, a failover state
// transition) only once isDurable(ticket) holds, or inside a whenDurable()
// callback, which runs after the commit that wrote it.
//
// It knows nothing about which leases exist: a rewrite asks the caller's
// Snapshot to write the whole database (in ISC's order: classes, groups,
// hosts, failover states, leases), and reading the file at start-up is
// conf::readLeaseFile's job. No libevent, no timers: the server decides when to
// commit and calls needsRewrite() after each commit.
#ifndef TANDEM_SERVER_LEASE_FILE_H
#define TANDEM_SERVER_LEASE_FILE_H

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/lease_record.h"
#include "conf/config.h"
#include "conf/lease_reader.h"
#include "conf/lease_writer.h"

namespace tandem::server {

/// @brief The outcome of an operation on the lease file: success, or the errno
/// and a log line worded as ISC words it.
struct LeaseFileStatus {
    int error = 0;        ///< errno; 0 = success
    std::string message;  ///< empty on success

    bool ok() const { return error == 0 && message.empty(); }
    explicit operator bool() const { return ok(); }
    static LeaseFileStatus failure(int err, std::string message) { return {err ? err : -1, std::move(message)}; }
};

/// @brief System calls the lease file makes, replaceable so tests can make them fail.
struct LeaseFileIo {
    std::function<ssize_t(int fd, const void* data, std::size_t size)> write;
    std::function<int(int fd)> sync;     ///< of a file's data: fdatasync(2)
    std::function<int(int fd)> syncDir;  ///< of a directory, after a rename: fsync(2)
    /// The real calls.
    static LeaseFileIo system();
};

struct LeaseFileOptions {
    bool sync = true;  ///< false for `dont-use-fsync true;`: commits and rewrites skip every sync
    conf::LeaseWriterOptions format;   ///< lease-id-format, db-time-format
    common::Time rewriteInterval = 3600;  ///< ISC's LEASE_REWRITE_PERIOD
    /// Also rewrite once the file is this many times its compacted size (see
    /// needsRewrite), but never for a file below minGrowthRewrite bytes.
    std::size_t growthFactor = 4;
    std::size_t minGrowthRewrite = 1 << 20;
    LeaseFileIo io = LeaseFileIo::system();
};

class LeaseFile {
public:
    /// Position of a record in the journal: 1 for the first append, then +1 each.
    using Ticket = uint64_t;

    /// @brief What a Snapshot writes a rewrite through. Output goes to the new
    /// file in large chunks as it is produced.
    class SnapshotWriter {
    public:
        void lease(const common::LeaseRecord& r) { writer_.lease(buf_, r); flushIfBig(); }
        void failoverState(const conf::FailoverPeerState& s) { writer_.failoverState(buf_, s); flushIfBig(); }
        void host(const conf::LeaseFileHost& h) { writer_.host(buf_, h); flushIfBig(); }
        void leaseClass(const conf::LeaseFileClass& c) { writer_.leaseClass(buf_, c); flushIfBig(); }
        void group(const conf::LeaseFileGroup& g) { writer_.group(buf_, g); flushIfBig(); }
        void serverDuid(std::string_view duid) { writer_.serverDuid(buf_, duid); flushIfBig(); }
        void text(std::string_view t) { buf_.append(t); flushIfBig(); }
        conf::LeaseWriter& writer() { return writer_; }

    private:
        friend class LeaseFile;
        SnapshotWriter(conf::LeaseWriter& w, std::function<bool(std::string&)> flush)
            : writer_(w), flush_(std::move(flush)) {}
        void flushIfBig() {
            if (buf_.size() >= kChunk && ok_) ok_ = flush_(buf_);
        }
        static constexpr std::size_t kChunk = 1 << 20;
        conf::LeaseWriter& writer_;
        std::function<bool(std::string&)> flush_;
        std::string buf_;
        bool ok_ = true;
    };
    /// Writes the whole lease database, reflecting every record appended so far.
    using Snapshot = std::function<void(SnapshotWriter&)>;

    /// @brief Open an existing lease file for appending. ISC refuses to start
    /// without one, and so does this (with ISC's message). `now` starts the
    /// rewrite interval.
    static std::unique_ptr<LeaseFile> open(const std::string& path, common::Time now, LeaseFileOptions options,
                                           LeaseFileStatus& status);
    ~LeaseFile();
    LeaseFile(const LeaseFile&) = delete;
    LeaseFile& operator=(const LeaseFile&) = delete;

    /// @brief Read the file as it is now (conf::readLeaseFile).
    std::optional<conf::LeaseFileContents> load(common::DiagnosticSink& sink, const conf::LeaseReadOptions& options,
                                                std::string& ioError) const;

    /// @brief Buffer a record; nothing reaches the disk before commit(). Its
    /// `billing` line depends on the writer's `now` (writer().setNow(); each
    /// rewrite sets it too).
    Ticket append(const common::LeaseRecord& r);
    Ticket appendFailoverState(const conf::FailoverPeerState& s);
    /// @brief Buffer text as it is (a host or class block, server-duid, ...).
    Ticket appendText(std::string_view text);

    /// @brief Write everything buffered and sync it. On success every ticket
    /// issued so far is durable and the whenDurable callbacks run. On failure
    /// nothing new is durable, the buffer is kept, and the next commit first
    /// rewrites the whole file from the snapshot (ISC: lease_file_is_corrupt).
    LeaseFileStatus commit(common::Time now);

    /// @brief A commit in three steps, so that the write and the sync can run on
    /// another thread while the loop goes on appending: begin (loop thread) takes
    /// what is buffered; run (any thread) writes and syncs it, touching only the
    /// job and the file; finish (loop thread) makes its tickets durable or records
    /// the failure. Between begin and finish nothing else may write the file:
    /// commit() and rewrite() must wait for the job to finish first.
    struct CommitJob {
        int fd = -1;
        std::string data;
        Ticket upTo = 0;
        std::size_t sizeBefore = 0;
        bool sync = true;
        const LeaseFileIo* io = nullptr;
        int error = 0;
        std::string message;
    };
    /// @return nothing when there is nothing to write, or when a failed commit
    /// left a rewrite to do first (then call commit(), which does it).
    std::unique_ptr<CommitJob> beginCommit();
    static void runCommit(CommitJob& job);
    LeaseFileStatus finishCommit(CommitJob& job);

    Ticket lastTicket() const { return last_; }
    Ticket durableTicket() const { return durable_; }
    bool isDurable(Ticket t) const { return t <= durable_; }
    /// @brief Run `fn` once every record appended so far is durable: now if it
    /// already is, else after the commit (or rewrite) that makes it so.
    /// Callbacks run in the order given; they must not throw.
    void whenDurable(std::function<void()> fn);

    /// @brief The source of rewrites, including the one a failed commit forces.
    void setSnapshot(Snapshot snapshot) { snapshot_ = std::move(snapshot); }
    /// @brief Compact the file: header plus the snapshot, installed atomically
    /// with `<path>~` as the backup. Buffered records become durable with it
    /// (the snapshot reflects them). Appends continue in the new file.
    LeaseFileStatus rewrite(common::Time now);
    LeaseFileStatus rewrite(common::Time now, const Snapshot& snapshot);

    /// @brief Whether to rewrite now: ISC's rule (records appended since the last
    /// rewrite and more than rewriteInterval seconds since it), or the file has
    /// grown past growthFactor times its compacted size (so a busy server's
    /// file stays bounded, and each rewrite's cost is paid for by the appends
    /// that made it necessary), or a failed commit is waiting for one.
    bool needsRewrite(common::Time now) const;

    const std::string& path() const { return path_; }
    std::size_t fileSize() const { return size_; }
    std::size_t compactedSize() const { return compacted_; }
    std::size_t pendingBytes() const { return pending_.size(); }
    uint64_t appendedSinceRewrite() const { return appended_; }
    common::Time lastRewrite() const { return lastRewrite_; }
    bool rewritePending() const { return rewriteFirst_; }
    conf::LeaseWriter& writer() { return writer_; }

private:
    LeaseFile(std::string path, int fd, std::size_t size, common::Time now, LeaseFileOptions options);
    bool writeAll(int fd, const char* data, std::size_t size, int& err);
    LeaseFileStatus syncDirectory();
    void runDurable();
    Ticket issue() {
        ++appended_;
        return ++last_;
    }

    std::string path_;
    int fd_ = -1;
    LeaseFileOptions options_;
    conf::LeaseWriter writer_;
    std::string pending_;
    std::size_t size_ = 0;       ///< bytes in the file, as we wrote them
    std::size_t compacted_ = 0;  ///< the size after the last rewrite (or at open)
    common::Time lastRewrite_ = 0;
    uint64_t appended_ = 0;  ///< records appended since the last rewrite (ISC's `count`)
    Ticket last_ = 0, durable_ = 0;
    bool rewriteFirst_ = false;  ///< a write or sync failed: rewrite before appending again
    Snapshot snapshot_;
    std::deque<std::pair<Ticket, std::function<void()>>> waiting_;
};

}  // namespace tandem::server

#endif
