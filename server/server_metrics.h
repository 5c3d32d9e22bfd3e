// The DHCP server's metric families (tandemd.conf(5), METRICS): packets by
// type, drops by reason, leases per pool by binding state, and the lease-commit
// latency histogram. They are read from the live server at scrape time; this
// file only translates. Failover's families are failover/failover_metrics.h's.
#ifndef TANDEM_SERVER_SERVER_METRICS_H
#define TANDEM_SERVER_SERVER_METRICS_H

#include "server/metrics.h"
#include "server/server.h"

namespace tandem::server {

/// @brief Register the server's collectors and its commit histogram. Keep the
/// handle as long as `server` lives.
CollectorHandle registerServerMetrics(MetricsRegistry& registry, Server& server);

}  // namespace tandem::server

#endif
