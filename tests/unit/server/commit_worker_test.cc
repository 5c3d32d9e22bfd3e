// Tests of server/commit_worker: commits written and synced off the loop
// thread come back on the loop, in order, with their tickets durable.
#include <cppunit/extensions/HelperMacros.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "common/event.h"
#include "common/ipv4.h"
#include "server/commit_worker.h"
#include "server/lease_file.h"

using namespace tandem;

namespace {

struct TempLeaseFile {
    std::string dir, path;
    TempLeaseFile() {
        char tmpl[] = "/tmp/tandem-worker-XXXXXX";
        dir = ::mkdtemp(tmpl);
        path = dir + "/dhcpd.leases";
        std::ofstream(path).flush();
    }
    ~TempLeaseFile() {
        std::string cmd = "rm -rf '" + dir + "'";
        int ignored = std::system(cmd.c_str());
        (void)ignored;
    }
    std::string text() const {
        std::ifstream in(path);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
};

common::LeaseRecord record(const char* addr) {
    common::LeaseRecord r;
    r.address = *common::parseIpv4(addr);
    r.state = common::BindingState::Active;
    r.starts = 1795338455;
    r.ends = 1795339055;
    return r;
}

}  // namespace

class CommitWorkerTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CommitWorkerTest);
    CPPUNIT_TEST(testJobComesBackDurableOnTheLoop);
    CPPUNIT_TEST(testAppendsDuringAJobWaitForTheNext);
    CPPUNIT_TEST(testDrainDeliversAtOnce);
    CPPUNIT_TEST(testFailedWriteIsReportedNotDurable);
    CPPUNIT_TEST_SUITE_END();

public:
    // A submitted job is written, synced, and handed back on the loop; its tickets are durable then.
    void testJobComesBackDurableOnTheLoop() {
        TempLeaseFile tf;
        server::LeaseFileStatus st;
        auto lf = server::LeaseFile::open(tf.path, 1795338455, server::LeaseFileOptions{}, st);
        CPPUNIT_ASSERT(lf);
        common::EventLoop loop;
        int done = 0;
        server::CommitWorker w(loop, [&](std::unique_ptr<server::LeaseFile::CommitJob> job) {
            CPPUNIT_ASSERT(lf->finishCommit(*job).ok());
            ++done;
            loop.stop();
        });
        auto t = lf->append(record("192.0.2.10"));
        auto job = lf->beginCommit();
        CPPUNIT_ASSERT(job);
        w.submit(std::move(job));
        CPPUNIT_ASSERT(w.busy());
        CPPUNIT_ASSERT(!lf->isDurable(t));
        common::Timer guard(loop, [&] { loop.stop(); });
        guard.startMs(5000);
        loop.run();
        CPPUNIT_ASSERT_EQUAL(1, done);
        CPPUNIT_ASSERT(!w.busy());
        CPPUNIT_ASSERT(lf->isDurable(t));
        CPPUNIT_ASSERT(tf.text().find("lease 192.0.2.10 {") != std::string::npos);
    }

    // What is appended while a job is out belongs to the next job, not to the one in flight.
    void testAppendsDuringAJobWaitForTheNext() {
        TempLeaseFile tf;
        server::LeaseFileStatus st;
        auto lf = server::LeaseFile::open(tf.path, 1795338455, server::LeaseFileOptions{}, st);
        common::EventLoop loop;
        server::CommitWorker w(loop, [&](std::unique_ptr<server::LeaseFile::CommitJob> job) {
            lf->finishCommit(*job);
            loop.stop();
        });
        auto t1 = lf->append(record("192.0.2.10"));
        w.submit(lf->beginCommit());
        auto t2 = lf->append(record("192.0.2.11"));
        CPPUNIT_ASSERT(lf->pendingBytes() > 0);
        common::Timer guard(loop, [&] { loop.stop(); });
        guard.startMs(5000);
        loop.run();
        CPPUNIT_ASSERT(lf->isDurable(t1));
        CPPUNIT_ASSERT(!lf->isDurable(t2));
        CPPUNIT_ASSERT(tf.text().find("192.0.2.11") == std::string::npos);
        auto next = lf->beginCommit();
        CPPUNIT_ASSERT(next && next->upTo == t2);
    }

    // drain() waits for the job in flight and delivers it before returning.
    void testDrainDeliversAtOnce() {
        TempLeaseFile tf;
        server::LeaseFileStatus st;
        auto lf = server::LeaseFile::open(tf.path, 1795338455, server::LeaseFileOptions{}, st);
        common::EventLoop loop;
        int done = 0;
        server::CommitWorker w(loop, [&](std::unique_ptr<server::LeaseFile::CommitJob> job) {
            lf->finishCommit(*job);
            ++done;
        });
        auto t = lf->append(record("192.0.2.12"));
        w.submit(lf->beginCommit());
        w.drain();
        CPPUNIT_ASSERT_EQUAL(1, done);
        CPPUNIT_ASSERT(lf->isDurable(t));
        w.drain();  // nothing in flight: no second delivery
        CPPUNIT_ASSERT_EQUAL(1, done);
    }

    // A write the kernel refuses comes back as a failure; nothing becomes durable.
    void testFailedWriteIsReportedNotDurable() {
        TempLeaseFile tf;
        server::LeaseFileOptions o;
        o.io.write = [](int, const void*, std::size_t) -> ssize_t {
            errno = ENOSPC;
            return -1;
        };
        server::LeaseFileStatus st;
        auto lf = server::LeaseFile::open(tf.path, 1795338455, o, st);
        common::EventLoop loop;
        server::LeaseFileStatus result;
        server::CommitWorker w(loop, [&](std::unique_ptr<server::LeaseFile::CommitJob> job) {
            result = lf->finishCommit(*job);
        });
        auto t = lf->append(record("192.0.2.13"));
        w.submit(lf->beginCommit());
        w.drain();
        CPPUNIT_ASSERT(!result.ok());
        CPPUNIT_ASSERT(result.message.find("unable to commit") != std::string::npos);
        CPPUNIT_ASSERT(!lf->isDurable(t));
        CPPUNIT_ASSERT(lf->rewritePending());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CommitWorkerTest);
