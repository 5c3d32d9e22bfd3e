// The one thread besides the event loop: it writes and syncs lease-file
// commits (LeaseFile::runCommit), so that the loop goes on receiving and
// answering while the disk flushes. The loop hands over one job at a time and
// hears of its completion through an eventfd watched on the loop; nothing
// else crosses threads. Syncing on the loop thread would stall every client
// for the length of each fdatasync, which measured as a quarter of the
// server's time under load.
#ifndef TANDEM_SERVER_COMMIT_WORKER_H
#define TANDEM_SERVER_COMMIT_WORKER_H

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "common/event.h"
#include "server/lease_file.h"

namespace tandem::server {

class CommitWorker {
public:
    using Done = std::function<void(std::unique_ptr<LeaseFile::CommitJob>)>;
    CommitWorker(common::EventLoop& loop, Done done);
    ~CommitWorker();
    CommitWorker(const CommitWorker&) = delete;
    CommitWorker& operator=(const CommitWorker&) = delete;

    /// @brief Whether a job is being written (or finished and not yet delivered).
    bool busy() const { return busy_; }
    /// @brief Start writing `job`; `done` gets it back on the loop thread. Not while busy.
    void submit(std::unique_ptr<LeaseFile::CommitJob> job);
    /// @brief Wait for the job in flight, if any, and deliver it now.
    void drain();

private:
    void run();
    void deliver();

    Done done_;
    bool busy_ = false;
    int eventFd_ = -1;
    std::unique_ptr<common::IoWatcher> watcher_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::unique_ptr<LeaseFile::CommitJob> in_, out_;  // guarded by mutex_
    bool stop_ = false;                               // guarded by mutex_
    std::thread thread_;
};

}  // namespace tandem::server

#endif
