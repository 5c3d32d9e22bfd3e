#include "server/server.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>

#include "common/ipv4.h"
#include "common/log.h"
#include "conf/lease_reader.h"

namespace tandem::server {

using common::formatIpv4;
using common::Packet4;
using common::Time;

namespace {

PacketIoOptions ioOptions(const ServerOptions& o) {
    PacketIoOptions io;
    io.port = o.port;
    io.quiet = o.quiet;
    // Deep enough for bursts; shallow enough that overload sheds packets in the
    // kernel instead of answering seconds-old ones.
    io.receiveBufferBytes = 2 << 20;
    return io;
}

// ISC writes a lease at a rewrite when it is "interesting" (server/db.c).
bool interesting(const LeaseRecord& l) {
    return !l.hw.empty() || !l.uid.empty() || l.tsfp != 0 || l.state != BindingState::Free;
}

}  // namespace

Server::Server(common::EventLoop& loop, const common::Clock& clock, conf::ConfigPtr config, ServerOptions options)
    : loop_(loop),
      clock_(clock),
      config_(std::move(config)),
      options_(std::move(options)),
      store_(std::make_unique<LeaseStore>()),
      topo_(std::make_unique<Topology>()),
      io_(loop, clock, ioOptions(options_)),
      timers_(loop),
      ping_(loop, timers_, clock),
      expiryTimer_(loop, [this] { onExpiryTimer(); }),
      commitSoon_(loop, [this] { commitAndRelease(); }),
      worker_(std::make_unique<CommitWorker>(loop, [this](std::unique_ptr<LeaseFile::CommitJob> job) {
          onCommitDone(std::move(job));
      })) {
    std::vector<std::string> warnings;
    store_->build(*config_, &warnings);
    for (const auto& w : warnings) common::logWarning(w);
    topo_->build(*config_, *store_);
    io_.setHandlers([this](const ReceivedPacket& rp) { onPacket(rp); }, [this] { onBatchEnd(); });
}

Server::~Server() {
    // The worker may hold a job on our lease file: let it finish first.
    if (worker_) worker_->drain();
    worker_.reset();
}

// ---------------------------------------------------------------- start-up

bool Server::compactLeases(std::string& error) {
    // ISC expires what is due before the first rewrite.
    processor_->expire();
    auto st = leaseFile_->rewrite(clock_.now());
    if (!st) {
        error = st.message;
        return false;
    }
    return true;
}

bool Server::testLeases(std::string& error) {
    if (!readLeases(error)) return false;
    processor_->expire();
    // -T writes the file it would install, then throws it away (ISC's new_lease_file).
    std::string temp = options_.leaseFile + "." + std::to_string(clock_.now());
    conf::LeaseWriter writer(leaseFile_->writer().options());
    std::string text;
    writer.header(text);
    struct TextSink {
        conf::LeaseWriter& w;
        std::string& out;
        void lease(const LeaseRecord& r) { w.lease(out, r); }
        void failoverState(const conf::FailoverPeerState& s) { w.failoverState(out, s); }
        void host(const conf::LeaseFileHost& h) { w.host(out, h); }
        void leaseClass(const conf::LeaseFileClass& c) { w.leaseClass(out, c); }
        void group(const conf::LeaseFileGroup& g) { w.group(out, g); }
        void serverDuid(std::string_view d) { w.serverDuid(out, d); }
    } sink{writer, text};
    snapshotTo(sink);
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0664);
    if (fd < 0) {
        error = "Can't create new lease file " + temp + ": " + std::strerror(errno);
        return false;
    }
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += std::size_t(n);
    }
    int werr = done == text.size() ? 0 : errno;
    ::close(fd);
    ::unlink(temp.c_str());
    if (werr) {
        error = "Can't write new lease file " + temp + ": " + std::strerror(werr);
        return false;
    }
    common::logInfo("Lease file test successful, removing temp lease file: " + temp);
    return true;
}

bool Server::readLeases(std::string& error) {
    processor_ = std::make_unique<Dhcp4Processor>(*config_, *topo_, *store_, clock_, *this, failover_);
    const conf::Scope* g = config_->global.get();
    Params params(topo_->chainFor(nullptr));
    LeaseFileOptions lfo;
    lfo.sync = !params.flag("dont-use-fsync").value_or(false);
    lfo.format.hexLeaseIds = params.raw8("lease-id-format").value_or(0) == 1;
    lfo.format.localTime = params.raw8("db-time-format").value_or(0) == 1;
    lfo.format.now = clock_.now();
    (void)g;
    LeaseFileStatus status;
    leaseFile_ = LeaseFile::open(options_.leaseFile, clock_.now(), lfo, status);
    if (!leaseFile_) {
        error = status.message;
        return false;
    }

    common::DiagnosticSink sink(1000);
    conf::LeaseReadOptions ro;
    ro.now = clock_.now();
    std::string ioError;
    auto contents = leaseFile_->load(sink, ro, ioError);
    if (!contents) {
        error = "Can't open lease database " + options_.leaseFile + ": " + ioError;
        return false;
    }
    for (const auto& d : sink.all()) {
        std::string line = sink.format(d);
        if (!line.empty() && line.back() == '\n') line.pop_back();
        if (d.severity == common::Severity::Error) common::logError(line);
        else common::logWarning(line);
    }
    std::size_t loaded = 0;
    for (const auto& rec : contents->leases) {
        Lease* l = store_->find(rec.address);
        if (!l) {
            common::logInfo("lease " + formatIpv4(rec.address) + ": no subnet.");
            continue;
        }
        store_->assign(*l, rec);
        ++loaded;
    }
    processor_->leasesLoaded();
    kept_.hosts = std::move(contents->hosts);
    // Hosts written through OMAPI serve like declared ones; rubouts hide theirs.
    topo_->build(*config_, *store_, &kept_.hosts);
    kept_.classes = std::move(contents->classes);
    kept_.groups = std::move(contents->groups);
    kept_.serverDuid = std::move(contents->serverDuid);
    failoverStates_ = std::move(contents->failoverStates);
    common::logDebug("read " + std::to_string(loaded) + " leases from " + options_.leaseFile);
    leaseFile_->setSnapshot([this](LeaseFile::SnapshotWriter& w) { snapshotTo(w); });
    return true;
}

template <typename Sink>
void Server::snapshotTo(Sink& w) {
    for (const auto& c : kept_.classes) w.leaseClass(c);
    for (const auto& g : kept_.groups) w.group(g);
    for (const auto& h : kept_.hosts)
        if (h.deleted) w.host(h);
    for (const auto& h : kept_.hosts)
        if (!h.deleted) w.host(h);
    for (const auto& s : extras_ ? extras_() : failoverStates_) w.failoverState(s);
    std::size_t n = 0;
    store_->forEach([&](const Lease& l) {
        if (!interesting(l)) return;
        w.lease(l);
        ++n;
    });
    if (kept_.serverDuid) w.serverDuid(*kept_.serverDuid);
    if (!options_.quiet) common::logInfo("Wrote " + std::to_string(n) + " leases to leases file.");
}

bool Server::selectServed(const conf::Config& config, std::vector<ServedInterface>& served, std::string& error) const {
    std::string why;
    auto host = discoverInterfaces(why);
    if (!host) {
        error = why;
        return false;
    }
    InterfaceSelection sel = selectInterfaces(*host, config, options_.interfaces);
    logSelectionMessages(sel);
    if (!sel.ok()) {
        error = sel.error;
        return false;
    }
    served = std::move(sel.served);
    return true;
}

bool Server::start(std::string& error) {
    if (!selectServed(*config_, served_, error)) return false;
    if (!io_.open(served_, error)) return false;
    if (processor_->pingCheckPossible()) {
        std::string pingError;
        if (!ping_.open(pingError))
            common::logError("ping-check: cannot open the ICMP socket (" + pingError +
                             "); addresses are offered without a ping");
    }
    armExpiry();
    return true;
}

namespace {
// Two selections serve the same sockets when they name the same interfaces with the same addresses.
bool sameSockets(const std::vector<ServedInterface>& a, const std::vector<ServedInterface>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].info.name != b[i].info.name || a[i].info.index != b[i].info.index ||
            a[i].info.addresses.size() != b[i].info.addresses.size())
            return false;
        for (std::size_t j = 0; j < a[i].info.addresses.size(); ++j)
            if (a[i].info.addresses[j].address != b[i].info.addresses[j].address) return false;
    }
    return true;
}
}  // namespace

bool Server::reload(conf::ConfigPtr config, std::string& error) {
    commitNow();
    std::vector<ServedInterface> served;
    if (!selectServed(*config, served, error)) return false;

    // A new store for the new ranges; every binding the old one held moves
    // across (an address no range holds any more is dropped, as at a restart).
    auto store = std::make_unique<LeaseStore>();
    std::vector<std::string> warnings;
    store->build(*config, &warnings);
    for (const auto& w : warnings) common::logWarning(w);
    std::size_t moved = 0, dropped = 0;
    store_->forEach([&](const Lease& l) {
        if (!interesting(l)) return;
        Lease* n = store->find(l.address);
        if (!n) {
            common::logInfo("lease " + formatIpv4(l.address) + ": no subnet.");
            ++dropped;
            return;
        }
        store->assign(*n, l);
        ++moved;
    });
    auto topo = std::make_unique<Topology>();
    topo->build(*config, *store, &kept_.hosts);

    // The sockets change only when the interfaces do.
    bool reopen = !sameSockets(served, served_);
    if (reopen) {
        io_.close();
        if (!io_.open(served, error)) {
            // Back to the old sockets; the old configuration stays.
            std::string again;
            if (!io_.open(served_, again)) common::logError("cannot reopen the old interfaces: " + again);
            return false;
        }
        served_ = std::move(served);
    }

    pings_.clear();
    config_ = std::move(config);
    store_ = std::move(store);
    topo_ = std::move(topo);
    processor_ = std::make_unique<Dhcp4Processor>(*config_, *topo_, *store_, clock_, *this, failover_);
    processor_->leasesLoaded();
    common::logInfo("configuration reloaded: " + std::to_string(moved) + " leases kept" +
                    (dropped ? ", " + std::to_string(dropped) + " dropped (no subnet)" : "") +
                    (reopen ? "; interfaces reopened" : ""));
    armExpiry();
    return true;
}

void Server::shutdown() {
    commitNow();
    io_.flush();
    loop_.stop();
}

// ---------------------------------------------------------------- packets

Ingress Server::ingressFor(const ReceivedPacket& rp) const {
    Ingress in;
    in.ifname = std::string(rp.ifname);
    in.srcIp = rp.srcIp;
    if (const ServedInterface* s = rp.iface) {
        in.ifaddr = s->attached.empty() ? s->primaryAddress : s->attached.front().address;
        for (const auto& a : s->info.addresses) in.ifnets.push_back({a.address, a.netmask});
        in.mtu = uint16_t(std::min(s->info.mtu, 65535u));
    }
    return in;
}

void Server::onPacket(const ReceivedPacket& rp) {
    inBatch_ = true;
    auto decoded = common::decodePacket(rp.data, rp.size);
    if (!decoded.ok()) {
        uint64_t suppressed = 0;
        if (badPacketLog_.allow(rp.receivedAt, suppressed)) {
            std::string more = suppressed ? " (" + std::to_string(suppressed) + " more since last report)" : "";
            common::logInfo("Discarding bad packet from " + formatIpv4(rp.srcIp) + " via " + std::string(rp.ifname) +
                            ": " + decoded.error + " at offset " + std::to_string(decoded.offset) + more);
        }
        ++badPackets_;
        return;
    }
    Ingress in = ingressFor(rp);
    Outcome o = processor_->process(*decoded.packet, in);
    handle(std::move(o), *decoded.packet, in, rp.ifindex);
}

void Server::onBatchEnd() {
    if (processor_->nextExpiry() <= clock_.now()) processor_->expire();
    commitAndRelease();
    io_.flush();
    inBatch_ = false;
    armExpiry();
    common::logFlush();
}

void Server::handle(Outcome&& o, const Packet4& request, const Ingress& in, int ifindex) {
    switch (o.kind) {
        case Outcome::Kind::Drop: return;
        case Outcome::Kind::Send: queueReply(o, request, ifindex, false); return;
        case Outcome::Kind::SendDurable: queueReply(o, request, ifindex, true); return;
        case Outcome::Kind::PingFirst: {
            uint32_t addr = o.pingAddress;
            bool first = !pings_.count(addr);
            pings_[addr] = PendingPing{request, in, ifindex};
            if (!first) return;  // one echo per address; the latest request is answered
            Params params(topo_->chainFor(nullptr));
            uint64_t timeoutMs = uint64_t(params.u32("ping-timeout").value_or(1)) * 1000;
            if (auto ms = params.u32("ping-timeout-ms"); ms && *ms) timeoutMs = *ms;
            ping_.ping(addr, [this](uint32_t a, bool answered) { onPing(a, answered); }, timeoutMs);
            return;
        }
    }
}

void Server::queueReply(const Outcome& o, const Packet4& request, int ifindex, bool durable) {
    std::string error;
    auto bytes = common::encodePacket(o.reply, o.maxSize, error);
    if (!bytes) {
        common::logError("cannot encode the reply to " + formatIpv4(o.reply.yiaddr) + ": " + error);
        return;
    }
    bool isInformReply = request.messageType() == uint8_t(8);
    Destination to = chooseDestination(replyAddressing(o.reply, !isInformReply && request.find(54) != nullptr),
                                       io_.serverPort());
    if (durable) {
        durable_.push_back({ifindex, to, o.serverAddr, std::move(*bytes), leaseFile_->lastTicket()});
        return;
    }
    io_.send(ifindex, to, o.serverAddr, bytes->data(), bytes->size());
}

void Server::onPing(uint32_t address, bool answered) {
    auto it = pings_.find(address);
    if (it == pings_.end()) return;
    PendingPing pp = std::move(it->second);
    pings_.erase(it);
    Outcome o = processor_->pingDone(pp.packet, pp.ingress, address, answered);
    handle(std::move(o), pp.packet, pp.ingress, pp.ifindex);
    if (!inBatch_) {
        commitAndRelease();
        io_.flush();
    }
}

// ---------------------------------------------------------------- durability

void Server::leaseChanged(const Lease& lease) {
    leaseFile_->append(lease);
    appended();
}

void Server::leaseUpdated(Lease& lease) { leaseChanged(lease); }

// A batch commits at its end. What is appended outside one (a peer's BNDACK, a
// pool balance, a timer) is committed once the loop is back: otherwise it sat
// in memory until the next client packet.
void Server::appended() {
    if (!inBatch_ && !commitSoon_.pending()) commitSoon_.startMs(0);
}

void Server::commitThen(std::function<void(bool)> then) {
    afterCommit_.push_back({leaseFile_->lastTicket(), std::move(then)});
    if (!inBatch_) commitAndRelease();
}

// Synchronous, for what must be on disk before the caller goes on (a failover
// state change): wait for the commit in flight, then commit the rest here.
bool Server::commitNow() {
    if (!leaseFile_) return false;
    worker_->drain();
    bool ok = true;
    if (leaseFile_->pendingBytes() > 0 || leaseFile_->rewritePending()) {
        auto st = leaseFile_->commit(clock_.now());
        ok = st.ok();
        if (!ok) reportCommitFailure(st.message);
    }
    release(ok ? 0 : leaseFile_->lastTicket());
    return ok;
}

// Group commit, pipelined: one commit at a time is written and synced by the
// worker thread; what is appended meanwhile waits for the next one. Replies and
// callbacks are released by ticket once their records are durable.
void Server::commitAndRelease() {
    if (!leaseFile_ || worker_->busy()) return;
    if (leaseFile_->rewritePending()) {
        // A failed commit left the file to be rewritten whole: do it here.
        auto st = leaseFile_->commit(clock_.now());
        if (!st) reportCommitFailure(st.message);
        release(st.ok() ? 0 : leaseFile_->lastTicket());
        return;
    }
    if (auto job = leaseFile_->beginCommit()) {
        commitStarted_ = std::chrono::steady_clock::now();
        worker_->submit(std::move(job));
        return;
    }
    release(0);
}

void Server::onCommitDone(std::unique_ptr<LeaseFile::CommitJob> job) {
    if (commitObserver_)
        commitObserver_(std::chrono::duration<double>(std::chrono::steady_clock::now() - commitStarted_).count());
    auto st = leaseFile_->finishCommit(*job);
    if (!st) reportCommitFailure(st.message);
    release(st.ok() ? 0 : job->upTo);
    if (st.ok()) maybeRewrite();
    if (leaseFile_->pendingBytes() > 0 || leaseFile_->rewritePending()) commitAndRelease();
    if (!inBatch_) {
        io_.flush();
        common::logFlush();
    }
}

void Server::reportCommitFailure(const std::string& message) {
    uint64_t suppressed = 0;
    if (commitErrorLog_.allow(clock_.now(), suppressed))
        common::logError(message + " -- the replies that depended on it were not sent");
}

// Send what is durable now; what waited on records up to `failedUpTo` (a failed
// commit) is dropped: a client gets no ACK for a lease that is not on disk, and
// retries.
void Server::release(LeaseFile::Ticket failedUpTo) {
    const LeaseFile::Ticket durable = leaseFile_->durableTicket();
    std::size_t keep = 0;
    for (std::size_t i = 0; i < durable_.size(); ++i) {
        PendingReply& r = durable_[i];
        if (r.ticket <= durable) {
            io_.send(r.ifindex, r.to, r.source, r.bytes.data(), r.bytes.size());
        } else if (r.ticket > failedUpTo) {
            // Moving an element onto itself would empty its bytes.
            if (keep != i) durable_[keep] = std::move(r);
            ++keep;
        }
    }
    durable_.resize(keep);
    std::vector<std::function<void(bool)>> run, failed;
    std::size_t k = 0;
    for (auto& [ticket, fn] : afterCommit_) {
        if (ticket <= durable) run.push_back(std::move(fn));
        else if (ticket <= failedUpTo) failed.push_back(std::move(fn));
        else afterCommit_[k++] = {ticket, std::move(fn)};
    }
    afterCommit_.resize(k);
    for (auto& fn : run) fn(true);
    for (auto& fn : failed) fn(false);
}

void Server::maybeRewrite() {
    Time now = clock_.now();
    if (!leaseFile_->needsRewrite(now)) return;
    leaseFile_->writer().setNow(now);
    auto st = leaseFile_->rewrite(now);
    if (!st) {
        common::logError(st.message);
        return;
    }
    // The new file holds every record appended so far: what waited for them goes now.
    release(0);
}

// ---------------------------------------------------------------- expiry

void Server::armExpiry() {
    if (!processor_) return;
    Time next = processor_->nextExpiry();
    if (next >= common::kNever) return;
    if (expiryTimer_.pending() && expiryArmedFor_ <= next) return;
    Time now = clock_.now();
    uint64_t ms = next > now ? uint64_t(next - now) * 1000 : 0;
    // Wall-clock seconds may jump; never sleep longer than a minute without looking again.
    ms = std::min<uint64_t>(ms, 60000);
    expiryArmedFor_ = next;
    expiryTimer_.startMs(ms);
}

void Server::onExpiryTimer() {
    expiryArmedFor_ = 0;
    processor_->expire();
    commitAndRelease();
    io_.flush();
    armExpiry();
}

}  // namespace tandem::server
