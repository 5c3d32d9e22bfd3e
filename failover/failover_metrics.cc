#include "failover/failover_metrics.h"

#include <string>

namespace tandem::failover {

namespace {
constexpr FailoverState kStates[] = {
#define TANDEM_X(name, code, text, serves) FailoverState::name,
    TANDEM_FAILOVER_STATES(TANDEM_X)
#undef TANDEM_X
};
}  // namespace

server::CollectorHandle registerFailoverMetrics(server::MetricsRegistry& registry, const FailoverEngine& engine) {
    return registry.addCollector("failover", [&engine](server::MetricWriter& w) {
        for (const RelationshipStatus& s : engine.status()) {
            for (FailoverState st : kStates) {
                std::string name(toString(st));
                w.gauge("tandem_failover_state", "This server's failover state (1 for the current one)",
                        {{"peer", s.name}, {"state", name}}, s.me == st ? 1 : 0);
                w.gauge("tandem_failover_partner_state", "The partner's failover state as last told (1 for it)",
                        {{"peer", s.name}, {"state", name}}, s.peer == st ? 1 : 0);
            }
            w.gauge("tandem_failover_state_start_time_seconds", "When this server entered its current state (Unix time)",
                    {{"peer", s.name}}, double(s.stos));
            if (s.clockSkew)
                w.gauge("tandem_failover_peer_clock_skew_seconds",
                        "The partner's clock minus ours, from the header of its last message", {{"peer", s.name}},
                        double(*s.clockSkew));
            w.gauge("tandem_failover_unacked_updates", "Binding updates sent and not yet acknowledged by the partner",
                    {{"peer", s.name}}, double(s.updatesUnacked));
        }
    });
}

}  // namespace tandem::failover
