// A stable, human-readable text dump of a Config (`tandemd -t -v`). Tests
// compare it with expectations written by hand, so its format changes only on
// purpose. It prints; it does not judge.
#ifndef TANDEM_CONF_DUMP_H
#define TANDEM_CONF_DUMP_H

#include <iosfwd>

#include "conf/config.h"

namespace tandem::conf {

/// @brief Write the model: spaces and definitions added by the file, global
/// scope, networks, subnets, pools, hosts, classes, failover peers, keys.
void dumpConfig(const Config& config, std::ostream& out);

}  // namespace tandem::conf

#endif
