#include "server/commit_worker.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace tandem::server {

CommitWorker::CommitWorker(common::EventLoop& loop, Done done) : done_(std::move(done)) {
    eventFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (eventFd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
    watcher_ = std::make_unique<common::IoWatcher>(loop, eventFd_, common::IoWatcher::kRead, [this](short) { deliver(); });
    watcher_->start();
    thread_ = std::thread([this] { run(); });
}

CommitWorker::~CommitWorker() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
    watcher_.reset();
    ::close(eventFd_);
}

void CommitWorker::submit(std::unique_ptr<LeaseFile::CommitJob> job) {
    busy_ = true;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        in_ = std::move(job);
    }
    cv_.notify_all();
}

void CommitWorker::run() {
    for (;;) {
        std::unique_ptr<LeaseFile::CommitJob> job;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            cv_.wait(lock, [this] { return stop_ || in_; });
            if (!in_) return;
            job = std::move(in_);
        }
        LeaseFile::runCommit(*job);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            out_ = std::move(job);
        }
        cv_.notify_all();
        uint64_t one = 1;
        ssize_t ignored = ::write(eventFd_, &one, sizeof one);
        (void)ignored;
    }
}

void CommitWorker::deliver() {
    uint64_t n = 0;
    ssize_t ignored = ::read(eventFd_, &n, sizeof n);
    (void)ignored;
    std::unique_ptr<LeaseFile::CommitJob> job;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        job = std::move(out_);
    }
    if (!job) return;
    busy_ = false;
    done_(std::move(job));
}

void CommitWorker::drain() {
    if (!busy_) return;
    {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [this] { return out_ != nullptr; });
    }
    deliver();
}

}  // namespace tandem::server
