// The semantic pass: turns the syntax tree into the immutable Config, doing the
// checks ISC dhcpd makes while it parses (scopes, option types, ranges, failover
// peers, class references) and reporting each at the place it concerns. It reads
// no files (the Driver does) and never stops at the first problem.
#ifndef TANDEM_CONF_CONFIG_BUILDER_H
#define TANDEM_CONF_CONFIG_BUILDER_H

#include <string>

#include "common/diag.h"
#include "conf/ast.h"
#include "conf/config.h"

namespace tandem::conf {

/// @brief Build a Config from parsed statements; problems go to `sink`.
/// The result is complete as far as the input allows, even when errors were reported.
ConfigPtr buildConfig(const StmtList& statements, common::DiagnosticSink& sink);

/// @brief Read `path` and what it includes, and build the Config. The usual entry point.
ConfigPtr loadConfig(const std::string& path, common::DiagnosticSink& sink);

/// @brief The same for text in memory (tests, fuzzing).
ConfigPtr loadConfigText(const std::string& text, const std::string& name, common::DiagnosticSink& sink);

}  // namespace tandem::conf

#endif
