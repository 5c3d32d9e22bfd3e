// The failover metric families (tandemd.conf(5), METRICS): each
// relationship's own and partner state, the start of the current state, the
// partner's clock skew and the updates awaiting acknowledgement, read from the
// engine at scrape time.
#ifndef TANDEM_FAILOVER_FAILOVER_METRICS_H
#define TANDEM_FAILOVER_FAILOVER_METRICS_H

#include "failover/engine.h"
#include "server/metrics.h"

namespace tandem::failover {

/// @brief Keep the handle as long as `engine` lives.
server::CollectorHandle registerFailoverMetrics(server::MetricsRegistry& registry, const FailoverEngine& engine);

}  // namespace tandem::failover

#endif
