#include "server/lease_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace tandem::server {

namespace {

std::string errnoText(int e) { return std::strerror(e); }

std::string directoryOf(const std::string& path) {
    std::size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

}  // namespace

LeaseFileIo LeaseFileIo::system() {
    LeaseFileIo io;
    io.write = [](int fd, const void* data, std::size_t size) { return ::write(fd, data, size); };
    io.sync = [](int fd) { return ::fdatasync(fd); };
    io.syncDir = [](int fd) { return ::fsync(fd); };
    return io;
}

std::unique_ptr<LeaseFile> LeaseFile::open(const std::string& path, common::Time now, LeaseFileOptions options,
                                           LeaseFileStatus& status) {
    // ISC reads the file first and refuses to start when it cannot (db_startup,
    // confpars.c): administrators create it with `touch`.
    int rfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (rfd < 0) {
        int e = errno;
        status = LeaseFileStatus::failure(
            e, "Can't open lease database " + path + ": " + errnoText(e) +
                   " -- check for failed database rewrite attempt! Please read the dhcpd.leases manual page if you "
                   "don't know what to do about this.");
        return nullptr;
    }
    ::close(rfd);
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        status = LeaseFileStatus::failure(e, "Can't open " + path + " for append. (" + errnoText(e) + ")");
        return nullptr;
    }
    struct stat st;
    std::size_t size = 0;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) size = std::size_t(st.st_size);
    status = {};
    return std::unique_ptr<LeaseFile>(new LeaseFile(path, fd, size, now, std::move(options)));
}

LeaseFile::LeaseFile(std::string path, int fd, std::size_t size, common::Time now, LeaseFileOptions options)
    : path_(std::move(path)),
      fd_(fd),
      options_(std::move(options)),
      writer_(options_.format),
      size_(size),
      compacted_(size),
      lastRewrite_(now) {}

LeaseFile::~LeaseFile() {
    if (fd_ >= 0) ::close(fd_);
}

std::optional<conf::LeaseFileContents> LeaseFile::load(common::DiagnosticSink& sink,
                                                       const conf::LeaseReadOptions& options,
                                                       std::string& ioError) const {
    return conf::readLeaseFile(path_, sink, options, ioError);
}

LeaseFile::Ticket LeaseFile::append(const common::LeaseRecord& r) {
    writer_.lease(pending_, r);
    return issue();
}

LeaseFile::Ticket LeaseFile::appendFailoverState(const conf::FailoverPeerState& s) {
    writer_.failoverState(pending_, s);
    return issue();
}

LeaseFile::Ticket LeaseFile::appendText(std::string_view text) {
    pending_.append(text);
    return issue();
}

void LeaseFile::whenDurable(std::function<void()> fn) {
    if (durable_ == last_) {
        fn();
        return;
    }
    waiting_.emplace_back(last_, std::move(fn));
}

void LeaseFile::runDurable() {
    while (!waiting_.empty() && waiting_.front().first <= durable_) {
        std::function<void()> fn = std::move(waiting_.front().second);
        waiting_.pop_front();
        fn();
    }
}

bool LeaseFile::writeAll(int fd, const char* data, std::size_t size, int& err) {
    // One write() for the whole buffer; more only when the kernel takes less.
    while (size > 0) {
        ssize_t n = options_.io.write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            err = errno;
            return false;
        }
        if (n == 0) {
            err = ENOSPC;
            return false;
        }
        data += n;
        size -= std::size_t(n);
    }
    return true;
}

LeaseFileStatus LeaseFile::commit(common::Time now) {
    if (rewriteFirst_) {
        // ISC: once a write has failed the file is "corrupt", and the next write
        // starts with a whole new file (db.c, lease_file_is_corrupt).
        if (!snapshot_)
            return LeaseFileStatus::failure(EIO, "commit_leases: the lease file " + path_ +
                                                     " needs a rewrite after a failed write, and there is no "
                                                     "snapshot to write it from");
        return rewrite(now);
    }
    if (!pending_.empty()) {
        int err = 0;
        if (!writeAll(fd_, pending_.data(), pending_.size(), err)) {
            // Cut back a partly written record, so that the file on disk keeps
            // ending with a whole one whatever happens next.
            if (::ftruncate(fd_, off_t(size_)) != 0) {
                // nothing more to do: the rewrite the next commit starts replaces the file
            }
            rewriteFirst_ = true;
            return LeaseFileStatus::failure(err, "commit_leases: unable to commit: " + errnoText(err));
        }
        size_ += pending_.size();
        pending_.clear();
        if (pending_.capacity() > (std::size_t(8) << 20)) std::string().swap(pending_);
        if (options_.sync && options_.io.sync(fd_) != 0) {
            int e = errno;
            // After a failed sync the kernel may have dropped the data: only a
            // rewrite that syncs makes these records durable.
            rewriteFirst_ = true;
            return LeaseFileStatus::failure(e, "commit_leases: unable to commit, fsync(): " + errnoText(e));
        }
    }
    durable_ = last_;
    runDurable();
    return {};
}

std::unique_ptr<LeaseFile::CommitJob> LeaseFile::beginCommit() {
    if (rewriteFirst_ || pending_.empty()) return nullptr;
    auto job = std::make_unique<CommitJob>();
    job->fd = fd_;
    job->data.swap(pending_);
    job->upTo = last_;
    job->sizeBefore = size_;
    job->sync = options_.sync;
    job->io = &options_.io;
    return job;
}

void LeaseFile::runCommit(CommitJob& job) {
    const char* data = job.data.data();
    std::size_t size = job.data.size();
    while (size > 0) {
        ssize_t n = job.io->write(job.fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            job.error = n < 0 ? errno : ENOSPC;
            job.message = "commit_leases: unable to commit: " + errnoText(job.error);
            // Cut back a partly written record (see commit()).
            if (::ftruncate(job.fd, off_t(job.sizeBefore)) != 0) {
                // the rewrite the next commit starts replaces the file anyway
            }
            return;
        }
        data += n;
        size -= std::size_t(n);
    }
    if (job.sync && job.io->sync(job.fd) != 0) {
        job.error = errno;
        job.message = "commit_leases: unable to commit, fsync(): " + errnoText(job.error);
    }
}

LeaseFileStatus LeaseFile::finishCommit(CommitJob& job) {
    if (job.error) {
        // The job's records are lost to the file; a whole rewrite brings them back.
        rewriteFirst_ = true;
        return LeaseFileStatus::failure(job.error, job.message);
    }
    size_ += job.data.size();
    if (job.upTo > durable_) durable_ = job.upTo;
    runDurable();
    return {};
}

LeaseFileStatus LeaseFile::rewrite(common::Time now) {
    if (!snapshot_) return LeaseFileStatus::failure(EINVAL, "new_lease_file: no snapshot to write " + path_ + " from");
    return rewrite(now, snapshot_);
}

LeaseFileStatus LeaseFile::syncDirectory() {
    std::string dir = directoryOf(path_);
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        int e = errno;
        return LeaseFileStatus::failure(e, "Can't open " + dir + " to sync it: " + errnoText(e));
    }
    int rc = options_.io.syncDir(dfd);
    int e = errno;
    ::close(dfd);
    if (rc != 0) return LeaseFileStatus::failure(e, "Can't sync directory " + dir + ": " + errnoText(e));
    return {};
}

LeaseFileStatus LeaseFile::rewrite(common::Time now, const Snapshot& snapshot) {
    // server/db.c new_lease_file, plus the syncs ISC leaves out: the new file's
    // data before it replaces the old one, the directory after.
    const std::string temp = path_ + "." + std::to_string(now);
    int nfd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0664);
    if (nfd < 0) {
        int e = errno;
        return LeaseFileStatus::failure(e, "Can't create new lease file: " + errnoText(e));
    }
    auto abandon = [&](int e, std::string message) {
        ::close(nfd);
        ::unlink(temp.c_str());
        return LeaseFileStatus::failure(e, std::move(message));
    };
    if (::fchmod(nfd, 0664) != 0) return abandon(errno, "Can't set the mode of " + temp + ": " + errnoText(errno));

    std::size_t written = 0;
    int werr = 0;
    auto flush = [&](std::string& buf) {
        if (!writeAll(nfd, buf.data(), buf.size(), werr)) return false;
        written += buf.size();
        buf.clear();
        return true;
    };
    writer_.setNow(now);
    SnapshotWriter out(writer_, flush);
    writer_.header(out.buf_);
    if (snapshot) snapshot(out);
    if (!out.ok_ || !flush(out.buf_))
        return abandon(werr, "new_lease_file: unable to write " + temp + ": " + errnoText(werr));
    if (options_.sync && options_.io.sync(nfd) != 0)
        return abandon(errno, "new_lease_file: unable to sync " + temp + ": " + errnoText(errno));

    const std::string backup = path_ + "~";
    if (::unlink(backup.c_str()) < 0 && errno != ENOENT)
        return abandon(errno, "Can't remove old lease database backup " + backup + ": " + errnoText(errno));
    if (::link(path_.c_str(), backup.c_str()) < 0) {
        if (errno != ENOENT)
            return abandon(errno, "Can't backup lease database " + path_ + " to " + backup + ": " + errnoText(errno));
        common::logError(path_ + " is missing - no lease db to backup.");
    }
    if (::rename(temp.c_str(), path_.c_str()) < 0)
        return abandon(errno, "Can't install new lease database " + temp + " to " + path_ + ": " + errnoText(errno));

    // The new file is in place: appends go to it from now on.
    ::close(fd_);
    fd_ = nfd;
    size_ = compacted_ = written;
    lastRewrite_ = now;
    appended_ = 0;
    pending_.clear();  // the snapshot holds what they said
    rewriteFirst_ = false;
    if (options_.sync) {
        LeaseFileStatus st = syncDirectory();
        if (!st) {
            rewriteFirst_ = true;
            return st;
        }
    }
    durable_ = last_;
    runDurable();
    return {};
}

bool LeaseFile::needsRewrite(common::Time now) const {
    if (rewriteFirst_) return true;
    if (appended_ > 0 && now - lastRewrite_ > options_.rewriteInterval) return true;
    return size_ >= options_.minGrowthRewrite && size_ > options_.growthFactor * std::max<std::size_t>(compacted_, 1);
}

}  // namespace tandem::server
