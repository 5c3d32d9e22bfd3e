#include "conf/words.h"

#include <strings.h>

#include <cctype>
#include <cstdio>
#include <ctime>

namespace tandem::conf {

std::optional<uint32_t> parseIpv4(const std::string& text) {
    uint32_t addr = 0;
    int parts = 0;
    std::size_t i = 0;
    while (parts < 4) {
        if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
        unsigned v = 0;
        std::size_t digits = 0;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
            v = v * 10 + unsigned(text[i] - '0');
            if (++digits > 3 || v > 255) return std::nullopt;
            ++i;
        }
        addr = (addr << 8) | v;
        ++parts;
        if (parts < 4) {
            if (i >= text.size() || text[i] != '.') return std::nullopt;
            ++i;
        }
    }
    if (i != text.size()) return std::nullopt;
    return addr;
}

bool isHostname(const std::string& text) {
    if (text.empty() || text.size() > 253) return false;
    bool sawAlpha = false;
    char prev = '.';
    for (char c : text) {
        unsigned char u = static_cast<unsigned char>(c);
        if (c == '.') {
            if (prev == '.') return false;
        } else if (!(std::isalnum(u) || c == '-' || c == '_')) {
            return false;
        }
        if (std::isalpha(u)) sawAlpha = true;
        prev = c;
    }
    return sawAlpha;
}

std::optional<uint64_t> parseUnsigned(const std::string& text, uint64_t max) {
    if (text.empty() || text.size() > 20) return std::nullopt;
    uint64_t v = 0;
    for (char c : text) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
        uint64_t d = uint64_t(c - '0');
        if (v > (UINT64_MAX - d) / 10) return std::nullopt;
        v = v * 10 + d;
    }
    if (v > max) return std::nullopt;
    return v;
}

bool looksHex(const std::string& text) {
    if (text.empty()) return false;
    for (char c : text)
        if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':')) return false;
    return true;
}

std::optional<std::vector<uint8_t>> parseHexList(const std::string& text) {
    std::vector<uint8_t> out;
    std::size_t i = 0;
    if (text.empty()) return std::nullopt;
    while (true) {
        unsigned v = 0;
        std::size_t digits = 0;
        while (i < text.size() && text[i] != ':') {
            char c = text[i];
            if (!std::isxdigit(static_cast<unsigned char>(c)) || ++digits > 2) return std::nullopt;
            v = v * 16 + unsigned(std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10));
            ++i;
        }
        if (digits == 0) return std::nullopt;
        out.push_back(static_cast<uint8_t>(v));
        if (i == text.size()) break;
        ++i;  // ':'
    }
    return out;
}

std::optional<uint8_t> hardwareType(const std::string& name) {
    if (iequals(name, "ethernet")) return 1;
    if (iequals(name, "token-ring")) return 6;
    if (iequals(name, "fddi")) return 8;
    if (iequals(name, "infiniband")) return 32;
    return std::nullopt;
}

std::string lower(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

bool iequals(const std::string& a, const char* b) { return ::strcasecmp(a.c_str(), b) == 0; }

std::string hexString(const std::vector<uint8_t>& bytes) {
    std::string out;
    char buf[4];
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%02x", bytes[i]);
        if (i) out += ':';
        out += buf;
    }
    return out;
}

std::string ipv4String(uint32_t a) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
    return buf;
}

std::optional<int64_t> parseDate(const common::Atoms& atoms, std::size_t& pos, std::string& error) {
    using common::Atom;
    auto word = [&](std::size_t i) -> const std::string* {
        return i < atoms.size() && atoms[i].kind == Atom::Kind::Word ? &atoms[i].text : nullptr;
    };
    const std::string* w = word(pos);
    if (!w) {
        error = "expecting a date (W YYYY/MM/DD HH:MM:SS, epoch N or never)";
        return std::nullopt;
    }
    if (iequals(*w, "never")) {
        ++pos;
        return -1;
    }
    if (iequals(*w, "epoch")) {
        const std::string* n = word(pos + 1);
        auto v = n ? parseUnsigned(*n, INT64_MAX) : std::nullopt;
        if (!v) {
            pos += 1;
            error = "expecting seconds since the epoch";
            return std::nullopt;
        }
        pos += 2;
        return static_cast<int64_t>(*v);
    }
    // W YYYY / MM / DD HH:MM:SS: the weekday is ignored, as ISC does.
    if (!parseUnsigned(*w, 6)) {
        error = "expecting a day of the week (0-6)";
        return std::nullopt;
    }
    std::size_t p = pos + 1;
    auto num = [&](uint64_t max) -> std::optional<uint64_t> {
        const std::string* t = word(p);
        if (!t) return std::nullopt;
        auto v = parseUnsigned(*t, max);
        if (v) ++p;
        return v;
    };
    auto slash = [&]() {
        if (p < atoms.size() && atoms[p].kind == Atom::Kind::Punct && atoms[p].text == "/") {
            ++p;
            return true;
        }
        return false;
    };
    auto year = num(9999);
    if (!year || !slash()) { pos = p; error = "expecting a date YYYY/MM/DD"; return std::nullopt; }
    auto month = num(12);
    if (!month || *month == 0 || !slash()) { pos = p; error = "expecting a month 1-12"; return std::nullopt; }
    auto day = num(31);
    if (!day || *day == 0) { pos = p; error = "expecting a day 1-31"; return std::nullopt; }
    const std::string* hms = word(p);
    unsigned h = 0, m = 0, s = 0;
    char extra;
    if (!hms || std::sscanf(hms->c_str(), "%u:%u:%u%c", &h, &m, &s, &extra) != 3 || h > 23 || m > 59 || s > 60) {
        pos = p;
        error = "expecting a time HH:MM:SS";
        return std::nullopt;
    }
    ++p;
    std::tm tm{};
    tm.tm_year = int(*year) - 1900;
    tm.tm_mon = int(*month) - 1;
    tm.tm_mday = int(*day);
    tm.tm_hour = int(h);
    tm.tm_min = int(m);
    tm.tm_sec = int(s);
    int64_t t = static_cast<int64_t>(::timegm(&tm));
    // An optional time-zone offset in seconds may follow (db-time-format local).
    if (p < atoms.size() && atoms[p].kind == Atom::Kind::Word) {
        const std::string& tz = atoms[p].text;
        bool neg = !tz.empty() && tz[0] == '-';
        if (auto off = parseUnsigned(neg ? tz.substr(1) : tz, 86400)) {
            t -= neg ? -int64_t(*off) : int64_t(*off);
            ++p;
        }
    }
    pos = p;
    return t;
}

}  // namespace tandem::conf
