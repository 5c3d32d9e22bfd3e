#include "conf/keywords.h"

#include <strings.h>

namespace tandem::conf {

namespace {
using T = Parser::token;
struct Keyword {
    const char* text;
    Parser::token_kind_type token;
};
constexpr Keyword kKeywords[] = {
    {"include", T::INCLUDE}, {"option", T::OPTION},   {"supersede", T::SUPERSEDE},
    {"default", T::DEFAULT}, {"prepend", T::PREPEND}, {"append", T::APPEND},
    {"send", T::SEND},       {"if", T::IF},           {"elsif", T::ELSIF},
    {"else", T::ELSE},       {"switch", T::SWITCH},   {"case", T::CASE},
    {"on", T::ON},           {"or", T::OR},           {"and", T::AND},
    {"not", T::NOT},         {"set", T::SET},         {"unset", T::UNSET},
    {"define", T::DEFINE},   {"eval", T::EVAL},       {"log", T::LOG},
    {"execute", T::EXECUTE}, {"return", T::RETURN},   {"match", T::MATCH},
    {"spawn", T::SPAWN},     {"with", T::WITH},       {"exists", T::EXISTS},
    {"check", T::CHECK},     {"config-option", T::CONFIG_OPTION}, {"no", T::NO},
};
}  // namespace

std::optional<Parser::token_kind_type> lookupKeyword(const std::string& word) {
    for (const auto& k : kKeywords)
        if (::strcasecmp(k.text, word.c_str()) == 0) return k.token;
    return std::nullopt;
}

}  // namespace tandem::conf
