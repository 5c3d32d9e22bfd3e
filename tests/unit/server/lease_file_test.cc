// The lease journal on real files in a temporary directory: group commit and
// its durability tickets, crash safety at every byte of the last record, the
// ISC rewrite with its `~` backup, and failing writes and syncs.
#include <cppunit/extensions/HelperMacros.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/diag.h"
#include "common/log.h"
#include "conf/lease_reader.h"
#include "server/lease_file.h"
#include "tests/unit/tap_skip.h"

using namespace tandem;
using common::BindingState;
using common::LeaseRecord;
using server::LeaseFile;
using server::LeaseFileOptions;
using server::LeaseFileStatus;

namespace {

constexpr common::Time kNow = 1795338494;  // Sun 2026/11/22 09:08:14 UTC

std::string readText(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

void writeText(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
}

LeaseRecord lease(uint32_t host, BindingState st = BindingState::Active) {
    LeaseRecord r;
    r.address = (192u << 24) | (2u << 8) | host;
    r.starts = kNow;
    r.ends = kNow + 3600;
    r.tstp = r.ends;
    r.cltt = kNow;
    r.state = st;
    r.next = BindingState::Free;
    r.rewind = st;
    r.hw.htype = 1;
    r.hw.len = 6;
    r.hw.bytes[5] = uint8_t(host);
    r.uid = std::string("\x01\x00\x00\x00\x00\x00", 6) + char(host);
    r.hostname = "client" + std::to_string(host);
    return r;
}

std::string formatted(const LeaseRecord& r) {
    conf::LeaseWriter w;
    std::string out;
    w.lease(out, r);
    return out;
}

}  // namespace

class LeaseFileTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(LeaseFileTest);
    CPPUNIT_TEST(testOpenNeedsAnExistingFile);
    CPPUNIT_TEST(testGroupCommitAndTickets);
    CPPUNIT_TEST(testCommitIsOneWriteAndOneSync);
    CPPUNIT_TEST(testNoSyncWhenDisabled);
    CPPUNIT_TEST(testCrashAtEveryByteOfTheLastRecord);
    CPPUNIT_TEST(testRewriteKeepsBackupAndIsAtomic);
    CPPUNIT_TEST(testRewriteWithoutOldFile);
    CPPUNIT_TEST(testFailedWriteForcesRewrite);
    CPPUNIT_TEST(testFailedWriteWithoutSnapshot);
    CPPUNIT_TEST(testFailedSyncIsNotDurable);
    CPPUNIT_TEST(testFailedRewriteKeepsOldFile);
    CPPUNIT_TEST(testDevFull);
    CPPUNIT_TEST(testRewritePolicy);
    CPPUNIT_TEST_SUITE_END();

    std::string dir_, path_;

    std::unique_ptr<LeaseFile> open(LeaseFileOptions o = {}) {
        LeaseFileStatus st;
        auto f = LeaseFile::open(path_, kNow, std::move(o), st);
        CPPUNIT_ASSERT_MESSAGE(st.message, f && st.ok());
        return f;
    }

    std::vector<std::string> dirEntries() {
        std::vector<std::string> out;
        if (DIR* d = opendir(dir_.c_str())) {
            while (dirent* e = readdir(d))
                if (e->d_name[0] != '.') out.push_back(e->d_name);
            closedir(d);
        }
        return out;
    }

public:
    void setUp() override {
        char tmpl[] = "/tmp/tandem-leasefile-XXXXXX";
        CPPUNIT_ASSERT(mkdtemp(tmpl));
        dir_ = tmpl;
        path_ = dir_ + "/dhcpd.leases";
    }
    void tearDown() override {
        for (const auto& n : dirEntries()) ::unlink((dir_ + "/" + n).c_str());
        ::rmdir(dir_.c_str());
    }

    // ISC refuses to start without a lease file, with this message; so does open().
    void testOpenNeedsAnExistingFile() {
        LeaseFileStatus st;
        auto f = LeaseFile::open(path_, kNow, {}, st);
        CPPUNIT_ASSERT(!f);
        CPPUNIT_ASSERT_EQUAL(ENOENT, st.error);
        CPPUNIT_ASSERT_EQUAL("Can't open lease database " + path_ +
                                 ": No such file or directory -- check for failed database rewrite attempt! Please "
                                 "read the dhcpd.leases manual page if you don't know what to do about this.",
                             st.message);
        writeText(path_, "");
        CPPUNIT_ASSERT(open());
    }

    // Appends stay in memory until commit; tickets and callbacks become durable only with it.
    void testGroupCommitAndTickets() {
        writeText(path_, "# existing\n");
        auto f = open();
        std::vector<int> order;
        f->whenDurable([&] { order.push_back(0); });  // nothing pending: runs at once
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), order.size());
        LeaseFile::Ticket t1 = f->append(lease(1));
        conf::FailoverPeerState s;
        s.name = "fo";
        s.myState = "normal";
        s.partnerState = "normal";
        s.myStateTime = s.partnerStateTime = kNow;
        LeaseFile::Ticket t2 = f->appendFailoverState(s);
        f->whenDurable([&] { order.push_back(2); });
        LeaseFile::Ticket t3 = f->appendText("host h {\n  dynamic;\n  deleted;\n}\n");
        f->whenDurable([&] { order.push_back(3); });
        CPPUNIT_ASSERT(t1 < t2 && t2 < t3);
        CPPUNIT_ASSERT(!f->isDurable(t1));
        CPPUNIT_ASSERT_EQUAL(std::string("# existing\n"), readText(path_));  // nothing written yet
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), order.size());
        LeaseFileStatus st = f->commit(kNow);
        CPPUNIT_ASSERT_MESSAGE(st.message, st.ok());
        CPPUNIT_ASSERT(f->isDurable(t3) && f->durableTicket() == t3);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), order.size());
        CPPUNIT_ASSERT_EQUAL(2, order[1]);
        CPPUNIT_ASSERT_EQUAL(3, order[2]);
        conf::LeaseWriter w;
        std::string stateText;
        w.failoverState(stateText, s);
        CPPUNIT_ASSERT_EQUAL("# existing\n" + formatted(lease(1)) + stateText + "host h {\n  dynamic;\n  deleted;\n}\n",
                             readText(path_));
        CPPUNIT_ASSERT_EQUAL(readText(path_).size(), f->fileSize());
        CPPUNIT_ASSERT_EQUAL(uint64_t(3), f->appendedSinceRewrite());
    }

    // A commit of many records is a single write() and a single fdatasync().
    void testCommitIsOneWriteAndOneSync() {
        writeText(path_, "");
        int writes = 0, syncs = 0;
        LeaseFileOptions o;
        auto real = o.io;
        o.io.write = [&](int fd, const void* d, std::size_t n) {
            ++writes;
            return real.write(fd, d, n);
        };
        o.io.sync = [&](int fd) {
            ++syncs;
            return real.sync(fd);
        };
        auto f = open(o);
        for (uint32_t i = 1; i <= 200; ++i) f->append(lease(i));
        CPPUNIT_ASSERT(f->commit(kNow).ok());
        CPPUNIT_ASSERT_EQUAL(1, writes);
        CPPUNIT_ASSERT_EQUAL(1, syncs);
        CPPUNIT_ASSERT(f->commit(kNow).ok());  // nothing new: no I/O
        CPPUNIT_ASSERT_EQUAL(1, writes);
        common::DiagnosticSink sink;
        std::string err;
        auto c = f->load(sink, {}, err);
        CPPUNIT_ASSERT(c && sink.all().empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(200), c->leases.size());
        CPPUNIT_ASSERT(c->leases[199] == lease(200));
    }

    // `dont-use-fsync`: neither commits nor rewrites sync.
    void testNoSyncWhenDisabled() {
        writeText(path_, "");
        int syncs = 0;
        LeaseFileOptions o;
        o.sync = false;
        o.io.sync = o.io.syncDir = [&](int) { return ++syncs, 0; };
        auto f = open(o);
        f->append(lease(1));
        CPPUNIT_ASSERT(f->commit(kNow).ok());
        f->setSnapshot([](LeaseFile::SnapshotWriter& w) { w.lease(lease(1)); });
        CPPUNIT_ASSERT(f->rewrite(kNow + 1).ok());
        CPPUNIT_ASSERT_EQUAL(0, syncs);
    }

    // A crash during an append leaves a prefix of the last record: every such
    // file reloads with all earlier records intact and the torn one reported.
    void testCrashAtEveryByteOfTheLastRecord() {
        writeText(path_, "");
        auto f = open();
        f->setSnapshot([](LeaseFile::SnapshotWriter& w) {
            for (uint32_t i = 1; i <= 3; ++i) w.lease(lease(i));
        });
        CPPUNIT_ASSERT(f->rewrite(kNow).ok());
        f->append(lease(4));
        LeaseRecord last = lease(2, BindingState::Expired);
        last.ext().variables.push_back({"note", common::LeaseVariable::Kind::Data, "a;b}", 0, false});
        f->append(last);
        CPPUNIT_ASSERT(f->commit(kNow).ok());
        const std::string full = readText(path_);
        const std::size_t lastStart = full.size() - formatted(last).size();
        f.reset();
        const std::string cut = dir_ + "/cut.leases";
        for (std::size_t n = lastStart; n <= full.size(); ++n) {
            writeText(cut, full.substr(0, n));
            common::DiagnosticSink sink;
            std::string err;
            auto c = conf::readLeaseFile(cut, sink, {}, err);
            std::string at = "cut at byte " + std::to_string(n) + " of " + std::to_string(full.size()) + ":";
            for (const auto& d : sink.all()) at += "\n" + sink.format(d);
            CPPUNIT_ASSERT_MESSAGE(at, c);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(at, std::size_t(0), sink.errorCount());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(at, std::size_t(4), c->leases.size());
            CPPUNIT_ASSERT_MESSAGE(at, c->leases[0] == lease(1));
            CPPUNIT_ASSERT_MESSAGE(at, c->leases[2] == lease(3));
            CPPUNIT_ASSERT_MESSAGE(at, c->leases[3] == lease(4));
            // Until the closing brace is there, the old record of 192.0.2.2 stands.
            bool whole = n >= full.size() - 1;
            CPPUNIT_ASSERT_MESSAGE(at, c->leases[1] == (whole ? last : lease(2)));
            bool torn = !whole && n > lastStart;
            CPPUNIT_ASSERT_EQUAL_MESSAGE(at, torn, c->torn);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(at, torn ? std::size_t(1) : std::size_t(0), sink.warningCount());
        }
    }

    // rewrite(): new file with header and snapshot, the old one kept as `~`,
    // no temporary left, mode 0664, and appends continue in the new file.
    void testRewriteKeepsBackupAndIsAtomic() {
        writeText(path_, "# old file\n");
        struct stat before;
        CPPUNIT_ASSERT_EQUAL(0, ::stat(path_.c_str(), &before));
        auto f = open();
        f->append(lease(9));
        std::vector<LeaseRecord> db = {lease(1), lease(2, BindingState::Free)};
        conf::FailoverPeerState s;
        s.name = "fo";
        s.myState = "normal";
        s.partnerState = "normal";
        s.myStateTime = s.partnerStateTime = kNow;
        f->setSnapshot([&](LeaseFile::SnapshotWriter& w) {
            w.host(conf::LeaseFileHost{"gone", true, true, {}, {}, {}, {}, {}, {}, {}});
            w.failoverState(s);
            for (const auto& r : db) w.lease(r);
        });
        bool acked = false;
        f->whenDurable([&] { acked = true; });
        LeaseFileStatus st = f->rewrite(kNow + 5);
        CPPUNIT_ASSERT_MESSAGE(st.message, st.ok());
        CPPUNIT_ASSERT(acked);  // the buffered record is covered by the snapshot
        CPPUNIT_ASSERT_EQUAL(std::string("# old file\n"), readText(path_ + "~"));
        struct stat backup, now;
        CPPUNIT_ASSERT_EQUAL(0, ::stat((path_ + "~").c_str(), &backup));
        CPPUNIT_ASSERT_EQUAL(before.st_ino, backup.st_ino);  // a hard link to the old file, not a copy
        CPPUNIT_ASSERT_EQUAL(0, ::stat(path_.c_str(), &now));
        CPPUNIT_ASSERT_EQUAL(mode_t(0664), now.st_mode & 0777);
        CPPUNIT_ASSERT(now.st_ino != before.st_ino);
        std::vector<std::string> names = dirEntries();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), names.size());  // no dhcpd.leases.<time> left behind

        conf::LeaseWriter w;
        std::string expect;
        w.header(expect);
        expect += "host gone {\n  dynamic;\n  deleted;\n}\n";
        w.failoverState(expect, s);
        for (const auto& r : db) w.lease(expect, r);
        CPPUNIT_ASSERT_EQUAL(expect, readText(path_));
        CPPUNIT_ASSERT_EQUAL(expect.size(), f->compactedSize());
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), f->appendedSinceRewrite());
        CPPUNIT_ASSERT_EQUAL(kNow + 5, f->lastRewrite());

        f->append(lease(3));
        CPPUNIT_ASSERT(f->commit(kNow + 6).ok());
        CPPUNIT_ASSERT_EQUAL(expect + formatted(lease(3)), readText(path_));
        CPPUNIT_ASSERT_EQUAL(std::string("# old file\n"), readText(path_ + "~"));

        // A second rewrite replaces the backup with the file it supersedes.
        CPPUNIT_ASSERT(f->rewrite(kNow + 7).ok());
        CPPUNIT_ASSERT_EQUAL(expect + formatted(lease(3)), readText(path_ + "~"));
        CPPUNIT_ASSERT_EQUAL(expect, readText(path_));
    }

    // A lease file removed under us: ISC's message, and the rewrite still succeeds.
    void testRewriteWithoutOldFile() {
        writeText(path_, "");
        auto f = open();
        ::unlink(path_.c_str());
        std::vector<std::string> logged;
        common::logCapture([&](common::LogLevel, std::string_view m) { logged.emplace_back(m); });
        LeaseFileStatus st = f->rewrite(kNow, [](LeaseFile::SnapshotWriter& w) { w.lease(lease(1)); });
        common::logCapture(nullptr);
        CPPUNIT_ASSERT_MESSAGE(st.message, st.ok());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), logged.size());
        CPPUNIT_ASSERT_EQUAL(path_ + " is missing - no lease db to backup.", logged[0]);
        CPPUNIT_ASSERT(readText(path_).find(formatted(lease(1))) != std::string::npos);
    }

    // A write that fails half-way is reported, nothing becomes durable, the
    // torn bytes are cut off, and the next commit rewrites from the snapshot.
    void testFailedWriteForcesRewrite() {
        writeText(path_, "");
        bool failNext = false;
        LeaseFileOptions o;
        auto real = o.io;
        o.io.write = [&](int fd, const void* d, std::size_t n) -> ssize_t {
            if (failNext) {
                failNext = false;
                real.write(fd, d, n / 2);  // part of it reached the file
                errno = ENOSPC;
                return -1;
            }
            return real.write(fd, d, n);
        };
        auto f = open(o);
        std::vector<LeaseRecord> db = {lease(1)};
        f->setSnapshot([&](LeaseFile::SnapshotWriter& w) {
            for (const auto& r : db) w.lease(r);
        });
        f->append(lease(1));
        CPPUNIT_ASSERT(f->commit(kNow).ok());
        const std::string good = readText(path_);

        db.push_back(lease(2));
        LeaseFile::Ticket t = f->append(lease(2));
        bool acked = false;
        f->whenDurable([&] { acked = true; });
        failNext = true;
        LeaseFileStatus st = f->commit(kNow);
        CPPUNIT_ASSERT(!st.ok());
        CPPUNIT_ASSERT_EQUAL(ENOSPC, st.error);
        CPPUNIT_ASSERT_EQUAL(std::string("commit_leases: unable to commit: No space left on device"), st.message);
        CPPUNIT_ASSERT(!f->isDurable(t) && !acked);
        CPPUNIT_ASSERT_EQUAL(good, readText(path_));  // the partial record was cut off
        CPPUNIT_ASSERT(f->rewritePending() && f->needsRewrite(kNow));

        st = f->commit(kNow + 1);
        CPPUNIT_ASSERT_MESSAGE(st.message, st.ok());
        CPPUNIT_ASSERT(f->isDurable(t) && acked);
        CPPUNIT_ASSERT(!f->rewritePending());
        CPPUNIT_ASSERT_EQUAL(good, readText(path_ + "~"));
        common::DiagnosticSink sink;
        std::string err;
        auto c = f->load(sink, {}, err);
        CPPUNIT_ASSERT(c && sink.all().empty());
        CPPUNIT_ASSERT(c->leases == db);
    }

    // Without a snapshot a failed file cannot be repaired: commits keep failing, nothing is acknowledged.
    void testFailedWriteWithoutSnapshot() {
        writeText(path_, "");
        LeaseFileOptions o;
        o.io.write = [](int, const void*, std::size_t) -> ssize_t {
            errno = EIO;
            return -1;
        };
        auto f = open(o);
        LeaseFile::Ticket t = f->append(lease(1));
        CPPUNIT_ASSERT_EQUAL(EIO, f->commit(kNow).error);
        LeaseFileStatus st = f->commit(kNow);
        CPPUNIT_ASSERT(!st.ok());
        CPPUNIT_ASSERT(st.message.find("needs a rewrite") != std::string::npos);
        CPPUNIT_ASSERT(!f->isDurable(t));
    }

    // A failed fdatasync means the records may not be on disk: not durable, and a rewrite follows.
    void testFailedSyncIsNotDurable() {
        writeText(path_, "");
        int syncFailures = 1;
        LeaseFileOptions o;
        auto real = o.io;
        o.io.sync = [&](int fd) {
            if (syncFailures > 0) {
                --syncFailures;
                errno = EIO;
                return -1;
            }
            return real.sync(fd);
        };
        auto f = open(o);
        f->setSnapshot([](LeaseFile::SnapshotWriter& w) { w.lease(lease(1)); });
        LeaseFile::Ticket t = f->append(lease(1));
        LeaseFileStatus st = f->commit(kNow);
        CPPUNIT_ASSERT_EQUAL(EIO, st.error);
        CPPUNIT_ASSERT_EQUAL(std::string("commit_leases: unable to commit, fsync(): Input/output error"), st.message);
        CPPUNIT_ASSERT(!f->isDurable(t));
        CPPUNIT_ASSERT(f->commit(kNow).ok());
        CPPUNIT_ASSERT(f->isDurable(t));
        CPPUNIT_ASSERT(readText(path_).find("# The format of this file") == 0);  // it was a rewrite
    }

    // A rewrite that cannot be written leaves the old file, no backup change and no temporary.
    void testFailedRewriteKeepsOldFile() {
        writeText(path_, "# old\n");
        writeText(path_ + "~", "# older\n");
        bool fail = true;
        LeaseFileOptions o;
        auto real = o.io;
        o.io.write = [&](int fd, const void* d, std::size_t n) -> ssize_t {
            if (fail) {
                errno = ENOSPC;
                return -1;
            }
            return real.write(fd, d, n);
        };
        auto f = open(o);
        LeaseFileStatus st = f->rewrite(kNow, [](LeaseFile::SnapshotWriter& w) { w.lease(lease(1)); });
        CPPUNIT_ASSERT_EQUAL(ENOSPC, st.error);
        CPPUNIT_ASSERT_EQUAL("new_lease_file: unable to write " + path_ + "." + std::to_string(kNow) +
                                 ": No space left on device",
                             st.message);
        CPPUNIT_ASSERT_EQUAL(std::string("# old\n"), readText(path_));
        CPPUNIT_ASSERT_EQUAL(std::string("# older\n"), readText(path_ + "~"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), dirEntries().size());
        fail = false;
        f->append(lease(2));
        CPPUNIT_ASSERT(f->commit(kNow).ok());  // appending to the old file still works
        CPPUNIT_ASSERT_EQUAL("# old\n" + formatted(lease(2)), readText(path_));
    }

    // /dev/full: the kernel's own ENOSPC reaches the caller.
    void testDevFull() {
        struct stat st;
        if (::stat("/dev/full", &st) != 0 || !S_ISCHR(st.st_mode)) TANDEM_SKIP("no /dev/full here");
        LeaseFileStatus status;
        auto f = LeaseFile::open("/dev/full", kNow, {}, status);
        if (!f) TANDEM_SKIP("cannot open /dev/full: " + status.message);
        LeaseFile::Ticket t = f->append(lease(1));
        LeaseFileStatus r = f->commit(kNow);
        CPPUNIT_ASSERT_EQUAL(ENOSPC, r.error);
        CPPUNIT_ASSERT(!f->isDurable(t));
    }

    // ISC's rule (appends and more than an hour), the growth rule, and a pending repair.
    void testRewritePolicy() {
        writeText(path_, "");
        LeaseFileOptions o;
        o.minGrowthRewrite = 4096;
        auto f = open(o);
        f->setSnapshot([](LeaseFile::SnapshotWriter& w) { w.lease(lease(1)); });
        CPPUNIT_ASSERT(f->rewrite(kNow).ok());
        CPPUNIT_ASSERT(!f->needsRewrite(kNow + 7200));  // idle: ISC does not rewrite
        f->append(lease(1));
        CPPUNIT_ASSERT(f->commit(kNow + 10).ok());
        CPPUNIT_ASSERT(!f->needsRewrite(kNow + 3600));
        CPPUNIT_ASSERT(f->needsRewrite(kNow + 3601));
        CPPUNIT_ASSERT(f->rewrite(kNow + 3601).ok());
        CPPUNIT_ASSERT(!f->needsRewrite(kNow + 3602));
        // Growth: past 4 x the compacted size (and the minimum), even within the hour.
        const std::size_t compacted = f->compactedSize();
        while (f->fileSize() <= 4 * compacted || f->fileSize() < 4096) {
            CPPUNIT_ASSERT(!f->needsRewrite(kNow + 3602));
            f->append(lease(1));
            CPPUNIT_ASSERT(f->commit(kNow + 3602).ok());
        }
        CPPUNIT_ASSERT(f->needsRewrite(kNow + 3602));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LeaseFileTest);
