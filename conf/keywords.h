// The words the dhcpd.conf grammar treats as keywords. Everything else is a
// plain word whose meaning the ConfigBuilder decides by context, which keeps
// ISC's many statement names out of the grammar.
#ifndef TANDEM_CONF_KEYWORDS_H
#define TANDEM_CONF_KEYWORDS_H

#include <optional>
#include <string>

#include "conf/parser.hh"

namespace tandem::conf {

/// @brief The token for a keyword (matched case-insensitively, as ISC does), if `word` is one.
std::optional<Parser::token_kind_type> lookupKeyword(const std::string& word);

}  // namespace tandem::conf

#endif
