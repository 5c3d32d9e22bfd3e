#include "server/server_metrics.h"

#include <string>

#include "common/ipv4.h"
#include "common/ip_frame.h"
#include "server/interfaces.h"

namespace tandem::server {

namespace {

const char* const kTypes[9] = {"bootp", "discover", "offer", "request", "decline", "ack", "nak", "release", "inform"};
const char* const kReceived = "DHCP messages received, by type";
const char* const kSent = "DHCP messages sent, by type";
const char* const kDropped = "Packets dropped, by reason";
const char* const kLeases = "Leases of a pool, by binding state";

std::string poolName(const PoolState& p) {
    if (!p.config || p.config->ranges.empty()) return "";
    const auto& r = p.config->ranges.front();
    return common::formatIpv4(r.low) + "-" + common::formatIpv4(r.high);
}

}  // namespace

CollectorHandle registerServerMetrics(MetricsRegistry& registry, Server& server) {
    Histogram& commits = registry.addHistogram("tandem_lease_commit_duration_seconds",
                                               "Time to write and sync one lease-file commit (group commit)",
                                               Histogram::commitLatencyBounds());
    server.setCommitObserver([&commits](double seconds) { commits.observe(seconds); });
    return registry.addCollector("server", [&server](MetricWriter& w) {
        const ProcessorStats& st = server.stats();
        for (int t = 0; t < 9; ++t) {
            w.counter("tandem_dhcp_packets_received_total", kReceived, {{"type", kTypes[t]}}, double(st.received[t]));
            w.counter("tandem_dhcp_packets_sent_total", kSent, {{"type", kTypes[t]}}, double(st.sent[t]));
        }
        InterfaceCounters sum;
        for (const auto& [name, c] : server.packetIo().allCounters()) {
            (void)name;
            sum.kernelDrops += c.kernelDrops;
            sum.truncated += c.truncated;
            sum.outgoing += c.outgoing;
            sum.vlan += c.vlan;
            sum.wrongPort += c.wrongPort;
            sum.sendErrors += c.sendErrors;
            for (std::size_t i = 0; i < common::kFrameErrorCount; ++i) sum.frameErrors[i] += c.frameErrors[i];
        }
        auto drop = [&w](const char* reason, uint64_t n) {
            w.counter("tandem_dhcp_packets_dropped_total", kDropped, {{"reason", reason}}, double(n));
        };
        drop("kernel-queue-full", sum.kernelDrops);
        drop("truncated", sum.truncated);
        drop("own-packet", sum.outgoing);
        drop("vlan", sum.vlan);
        drop("wrong-port", sum.wrongPort);
        for (std::size_t i = 1; i < common::kFrameErrorCount; ++i)
            drop(common::toString(common::FrameError(i)), sum.frameErrors[i]);
        drop("malformed", server.badPackets());
        drop("not-served", st.ignored);
        drop("no-free-lease", st.noFreeLeases);
        drop("send-failed", sum.sendErrors);
        for (const auto& p : server.store().pools()) {
            std::string network = p->network ? networkDisplayName(*p->network) : "";
            std::string pool = poolName(*p);
            for (uint8_t code = 1; code <= 7; ++code) {
                auto state = static_cast<common::BindingState>(code);
                w.gauge("tandem_pool_leases", kLeases,
                        {{"network", network}, {"pool", pool}, {"state", std::string(common::toString(state))}},
                        double(p->count(state)));
            }
        }
    });
}

}  // namespace tandem::server
