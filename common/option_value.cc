#include "common/option_value.h"

#include <arpa/inet.h>

#include <cctype>
#include <cstdio>
#include <limits>

namespace tandem::common {

namespace {

/// One field of a format: its letter and, for E and N, the name that follows.
struct Field {
    char letter = 0;
    bool compressed = false;  ///< Dc
    std::string name;         ///< E<space>. and N<enumeration>.
};

struct Format {
    std::vector<Field> fields;
    bool arrayAll = false;   ///< A: the whole record repeats, elements separated by commas
    bool arrayLast = false;  ///< a: the last field repeats
    bool optionalLast = false;
};

Format parseFormat(const std::string& f) {
    Format out;
    for (std::size_t i = 0; i < f.size(); ++i) {
        char c = f[i];
        if (c == 'A') { out.arrayAll = true; continue; }
        if (c == 'a') { out.arrayLast = true; continue; }
        if (c == 'o') { out.optionalLast = true; continue; }
        Field fld;
        fld.letter = c;
        if (c == 'D' && i + 1 < f.size() && f[i + 1] == 'c') {
            fld.compressed = true;
            ++i;
        } else if (c == 'E' || c == 'N') {
            auto dot = f.find('.', i + 1);
            if (dot == std::string::npos) dot = f.size();
            fld.name = f.substr(i + 1, dot - i - 1);
            i = dot;
        }
        out.fields.push_back(fld);
    }
    return out;
}

std::string shown(const Atom& a) {
    if (a.kind == Atom::Kind::String) return "\"" + a.text + "\"";
    return a.text;
}

bool parseIpv4(const std::string& t, uint8_t out[4]) {
    unsigned a, b, c, d;
    char extra;
    if (std::sscanf(t.c_str(), "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &extra) != 4) return false;
    if (a > 255 || b > 255 || c > 255 || d > 255) return false;
    for (char ch : t)
        if (!std::isdigit(static_cast<unsigned char>(ch)) && ch != '.') return false;
    out[0] = uint8_t(a); out[1] = uint8_t(b); out[2] = uint8_t(c); out[3] = uint8_t(d);
    return true;
}

bool isHostname(const std::string& t) {
    if (t.empty() || t.size() > 253 || t.front() == '.' || t.front() == '-') return false;
    bool alpha = false;
    for (char c : t) {
        unsigned char u = static_cast<unsigned char>(c);
        if (!(std::isalnum(u) || c == '-' || c == '_' || c == '.')) return false;
        if (std::isalpha(u)) alpha = true;
    }
    return alpha && t.find("..") == std::string::npos;
}

std::optional<std::vector<uint8_t>> hexList(const std::string& t) {
    std::vector<uint8_t> out;
    std::size_t i = 0;
    while (i <= t.size()) {
        std::size_t j = t.find(':', i);
        if (j == std::string::npos) j = t.size();
        std::size_t len = j - i;
        if (len == 0 || len > 2) return std::nullopt;
        unsigned v = 0;
        for (std::size_t k = i; k < j; ++k) {
            char c = t[k];
            if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
            v = v * 16 + unsigned(std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10);
        }
        out.push_back(uint8_t(v));
        i = j + 1;
        if (j == t.size()) break;
    }
    return out;
}

/// A decimal (or 0x hex) integer, as ISC's convert_num reads it.
std::optional<long long> integer(const std::string& t) {
    if (t.empty() || t.size() > 20) return std::nullopt;
    std::size_t i = 0;
    bool neg = false;
    if (t[0] == '-') { neg = true; i = 1; }
    int base = 10;
    if (t.size() > i + 2 && t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'X')) { base = 16; i += 2; }
    if (i >= t.size()) return std::nullopt;
    unsigned long long v = 0;
    for (; i < t.size(); ++i) {
        char c = t[i];
        int d;
        if (std::isdigit(static_cast<unsigned char>(c))) d = c - '0';
        else if (base == 16 && std::isxdigit(static_cast<unsigned char>(c))) d = std::tolower(c) - 'a' + 10;
        else return std::nullopt;
        v = v * unsigned(base) + unsigned(d);
        if (v > (1ull << 40)) return std::nullopt;
    }
    return neg ? -static_cast<long long>(v) : static_cast<long long>(v);
}

void put(std::vector<uint8_t>& w, unsigned long long v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) w.push_back(uint8_t(v >> (8 * i)));
}

/// RFC 1035 §3.1 labels; with `names` set, suffixes already written are replaced
/// by a pointer (§4.1.4), as option 119 (RFC 3397) wants.
bool encodeName(const std::string& name, std::vector<uint8_t>& w, std::vector<std::pair<std::string, std::size_t>>* names,
                std::size_t base) {
    std::string n = name;
    if (!n.empty() && n.back() == '.') n.pop_back();
    std::vector<std::string> labels;
    std::size_t i = 0;
    while (i <= n.size() && !n.empty()) {
        std::size_t j = n.find('.', i);
        if (j == std::string::npos) j = n.size();
        if (j == i || j - i > 63) return false;
        labels.push_back(n.substr(i, j - i));
        i = j + 1;
        if (j == n.size()) break;
    }
    for (std::size_t k = 0; k < labels.size(); ++k) {
        std::string suffix;
        for (std::size_t m = k; m < labels.size(); ++m) suffix += (m > k ? "." : "") + labels[m];
        if (names) {
            bool done = false;
            for (const auto& [s, off] : *names)
                if (iequal(s, suffix) && off < 0x3fff) {
                    w.push_back(uint8_t(0xc0 | (off >> 8)));
                    w.push_back(uint8_t(off & 0xff));
                    done = true;
                    break;
                }
            if (done) return true;
            names->push_back({suffix, w.size() - base});
        }
        w.push_back(uint8_t(labels[k].size()));
        w.insert(w.end(), labels[k].begin(), labels[k].end());
    }
    w.push_back(0);
    return true;
}

class Typer {
public:
    explicit Typer(const Atoms& atoms) : a_(atoms) {}

    std::optional<ValueError> field(const Field& f, TypedValue& out) {
        if (f.letter == 'Z') return std::nullopt;
        if (pos_ >= a_.size() || a_[pos_].kind == Atom::Kind::Comma)
            return ValueError{std::string("expecting ") + what(f), pos_};
        const Atom& at = a_[pos_];
        auto& w = out.wire;
        auto fail = [&](const std::string& m) { return ValueError{m, pos_}; };
        switch (f.letter) {
            case 'I': {
                uint8_t b[4];
                if (at.kind == Atom::Kind::Word && parseIpv4(at.text, b)) {
                    w.insert(w.end(), b, b + 4);
                } else if (at.kind == Atom::Kind::Word && isHostname(at.text)) {
                    out.hostnames.push_back({w.size(), at.text});
                    w.insert(w.end(), 4, 0);
                } else {
                    return fail(shown(at) + ": expecting IP address or hostname");
                }
                break;
            }
            case '6': {
                in6_addr v6;
                if (at.kind != Atom::Kind::Word || ::inet_pton(AF_INET6, at.text.c_str(), &v6) != 1)
                    return fail(shown(at) + ": expecting an IPv6 address");
                w.insert(w.end(), v6.s6_addr, v6.s6_addr + 16);
                break;
            }
            case 'l': case 'L': case 's': case 'S': case 'b': case 'B': case 'T': {
                bool isSigned = std::islower(static_cast<unsigned char>(f.letter)) != 0;
                int bytes = (f.letter == 'l' || f.letter == 'L' || f.letter == 'T') ? 4
                            : (f.letter == 's' || f.letter == 'S') ? 2 : 1;
                if (f.letter == 'T' && at.kind == Atom::Kind::Word && iequal(at.text, "infinite")) {
                    put(w, 0xffffffffu, 4);
                    break;
                }
                auto v = at.kind == Atom::Kind::Word ? integer(at.text) : std::nullopt;
                if (!v) return fail(shown(at) + ": expecting " + (f.letter == 'T' ? "a number of seconds or infinite" : "a number"));
                long long max = isSigned ? (1ll << (8 * bytes - 1)) - 1 : (1ll << (8 * bytes)) - 1;
                long long min = isSigned ? -(1ll << (8 * bytes - 1)) : 0;
                if (*v > max) return fail(at.text + " exceeds max (" + std::to_string(max) + ") for precision.");
                if (*v < min)
                    return fail(at.text + (min == 0 ? " is negative; expecting an unsigned number"
                                                    : " is below min (" + std::to_string(min) + ") for precision."));
                put(w, static_cast<unsigned long long>(*v), bytes);
                break;
            }
            case 't':
            case 'U':
                if (at.kind != Atom::Kind::String && at.kind != Atom::Kind::Word) return fail("expecting a string");
                w.insert(w.end(), at.text.begin(), at.text.end());
                break;
            case 'X':
            case 'E': {
                if (at.kind == Atom::Kind::String) {
                    w.insert(w.end(), at.text.begin(), at.text.end());
                } else if (auto bytes = at.kind == Atom::Kind::Word ? hexList(at.text) : std::nullopt) {
                    w.insert(w.end(), bytes->begin(), bytes->end());
                } else {
                    return fail(shown(at) + ": expecting a quoted string or colon-separated hex bytes");
                }
                break;
            }
            case 'd':
                if (at.kind != Atom::Kind::Word || !isHostname(at.text) || !encodeName(at.text, w, nullptr, 0))
                    return fail("not a valid domain name.");
                break;
            case 'D': {
                std::vector<std::pair<std::string, std::size_t>> names;
                std::size_t base = w.size();
                while (true) {
                    const Atom& n = a_[pos_];
                    if (n.kind != Atom::Kind::String || !encodeName(n.text, w, f.compressed ? &names : nullptr, base))
                        return ValueError{shown(n) + ": expecting a domain name in quotes", pos_};
                    if (pos_ + 1 < a_.size() && a_[pos_ + 1].kind == Atom::Kind::Comma && pos_ + 2 < a_.size()) {
                        pos_ += 2;
                        continue;
                    }
                    break;
                }
                break;
            }
            case 'f':
                if (at.kind == Atom::Kind::Word && (iequal(at.text, "true") || iequal(at.text, "on"))) w.push_back(1);
                else if (at.kind == Atom::Kind::Word && (iequal(at.text, "false") || iequal(at.text, "off"))) w.push_back(0);
                else if (at.kind == Atom::Kind::Word && iequal(at.text, "ignore")) w.push_back(2);
                else return fail(shown(at) + ": expecting a boolean (true, false, on or off)");
                break;
            case 'N': {
                const Enumeration* e = OptionRegistry::enumeration(f.name);
                auto v = (e && at.kind == Atom::Kind::Word) ? e->valueOf(at.text) : std::nullopt;
                if (!v) {
                    std::string choices;
                    if (e)
                        for (const auto& [n, val] : e->values) choices += (choices.empty() ? "" : ", ") + n;
                    return fail(shown(at) + ": expecting one of " + choices);
                }
                w.push_back(uint8_t(*v));
                break;
            }
            default:
                return fail(std::string("option format letter ") + f.letter + " cannot be written in a configuration");
        }
        ++pos_;
        return std::nullopt;
    }

    std::variant<TypedValue, ValueError> run(const OptionDef& def) {
        Format fmt = parseFormat(def.format);
        TypedValue out;
        auto comma = [&]() {
            if (pos_ < a_.size() && a_[pos_].kind == Atom::Kind::Comma) {
                ++pos_;
                return true;
            }
            return false;
        };
        do {
            for (std::size_t i = 0; i < fmt.fields.size(); ++i) {
                bool last = i + 1 == fmt.fields.size();
                if (last && fmt.optionalLast && pos_ >= a_.size()) break;
                if (auto e = field(fmt.fields[i], out)) return *e;
                if (last && fmt.arrayLast)
                    while (comma())
                        if (auto e = field(fmt.fields[i], out)) return *e;
            }
        } while (fmt.arrayAll && comma());
        if (pos_ < a_.size()) {
            const Atom& extra = a_[pos_];
            if (extra.kind == Atom::Kind::Comma)
                return ValueError{"unexpected ','; option " + def.name + " takes a single value", pos_};
            return ValueError{"unexpected " + shown(extra) + "; expecting ';'", pos_};
        }
        return out;
    }

private:
    static std::string what(const Field& f) {
        switch (f.letter) {
            case 'I': return "an IP address or hostname";
            case '6': return "an IPv6 address";
            case 't': case 'U': return "a string";
            case 'X': case 'E': return "a string or hex bytes";
            case 'd': return "a domain name";
            case 'D': return "a domain name in quotes";
            case 'f': return "a boolean";
            case 'T': return "a number of seconds";
            case 'N': return "a keyword";
            default: return "a number";
        }
    }

    const Atoms& a_;
    std::size_t pos_ = 0;
};

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += char(c);
        } else if (c < 0x20 || c > 0x7e) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\%03o", c);
            out += buf;
        } else {
            out += char(c);
        }
    }
    return out + "\"";
}

std::string hex(const uint8_t* p, std::size_t n) {
    std::string out;
    char buf[4];
    for (std::size_t i = 0; i < n; ++i) {
        std::snprintf(buf, sizeof buf, "%02x", p[i]);
        if (i) out += ':';
        out += buf;
    }
    return out;
}

/// Decode RFC 1035 labels (with pointers into `all`) starting at `i`; advances `i`.
bool decodeName(const std::vector<uint8_t>& all, std::size_t& i, std::string& out) {
    std::size_t p = i;
    bool jumped = false;
    int hops = 0;
    out.clear();
    while (p < all.size()) {
        uint8_t len = all[p];
        if (len == 0) {
            if (!jumped) i = p + 1;
            return true;
        }
        if ((len & 0xc0) == 0xc0) {
            if (p + 1 >= all.size() || ++hops > 32) return false;
            std::size_t target = std::size_t(len & 0x3f) << 8 | all[p + 1];
            if (!jumped) i = p + 2;
            jumped = true;
            p = target;
            continue;
        }
        if (p + 1 + len > all.size()) return false;
        if (!out.empty()) out += '.';
        out.append(reinterpret_cast<const char*>(&all[p + 1]), len);
        p += 1 + len;
    }
    return false;
}

}  // namespace

std::variant<TypedValue, ValueError> typeValue(const OptionRegistry& registry, const OptionDef& def, const Atoms& atoms) {
    if (atoms.empty() && def.format != "Z" && def.format.find('o') == std::string::npos) {
        // `authoritative;`-style flags in the server space mean "true".
        if (def.format == "f" && def.space == "server") return TypedValue{{1}, {}};
        return ValueError{"expecting a value", 0};
    }
    (void)registry;  // user-defined spaces need no lookup to type a value
    return Typer(atoms).run(def);
}

std::string renderValue(const OptionDef& def, const std::vector<uint8_t>& w) {
    Format fmt = parseFormat(def.format);
    std::string out;
    std::size_t i = 0;
    auto sep = [&](const char* s) {
        if (!out.empty()) out += s;
    };
    auto one = [&](const Field& f) -> bool {
        char buf[64];
        switch (f.letter) {
            case 'I':
                if (i + 4 > w.size()) return false;
                std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", w[i], w[i + 1], w[i + 2], w[i + 3]);
                out += buf;
                i += 4;
                return true;
            case '6': {
                if (i + 16 > w.size()) return false;
                char b6[INET6_ADDRSTRLEN];
                ::inet_ntop(AF_INET6, &w[i], b6, sizeof b6);
                out += b6;
                i += 16;
                return true;
            }
            case 'l': case 'L': case 's': case 'S': case 'b': case 'B': case 'T': {
                int bytes = (f.letter == 'l' || f.letter == 'L' || f.letter == 'T') ? 4 : (f.letter == 's' || f.letter == 'S') ? 2 : 1;
                if (i + std::size_t(bytes) > w.size()) return false;
                unsigned long long v = 0;
                for (int k = 0; k < bytes; ++k) v = v << 8 | w[i + std::size_t(k)];
                i += std::size_t(bytes);
                if (f.letter == 'T' && v == 0xffffffffu) {
                    out += "infinite";
                } else if (std::islower(static_cast<unsigned char>(f.letter))) {
                    long long sv = static_cast<long long>(v);
                    if (v >> (8 * bytes - 1)) sv -= (1ll << (8 * bytes));
                    out += std::to_string(sv);
                } else {
                    out += std::to_string(v);
                }
                return true;
            }
            case 'f':
                if (i >= w.size()) return false;
                out += w[i] == 1 ? "true" : w[i] == 2 ? "ignore" : "false";
                ++i;
                return true;
            case 'N': {
                if (i >= w.size()) return false;
                const Enumeration* e = OptionRegistry::enumeration(f.name);
                const std::string* n = e ? e->nameOf(w[i]) : nullptr;
                out += n ? *n : std::to_string(w[i]);
                ++i;
                return true;
            }
            case 't':
            case 'U':
                out += quote(std::string(w.begin() + long(i), w.end()));
                i = w.size();
                return true;
            case 'X':
            case 'E': {
                std::string s(w.begin() + long(i), w.end());
                bool printable = !s.empty();
                for (unsigned char c : s)
                    if (c < 0x20 || c > 0x7e) printable = false;
                out += printable ? quote(s) : hex(w.data() + i, w.size() - i);
                i = w.size();
                return true;
            }
            case 'd': {
                std::string n;
                if (!decodeName(w, i, n)) return false;
                out += n;
                return true;
            }
            case 'D': {
                bool first = true;
                while (i < w.size()) {
                    std::string n;
                    if (!decodeName(w, i, n)) return false;
                    out += (first ? "" : ", ") + quote(n);
                    first = false;
                }
                return true;
            }
            case 'Z':
                return true;
            default:
                return false;
        }
    };
    bool ok = true;
    do {
        if (fmt.arrayAll && i > 0) sep(", ");
        for (std::size_t k = 0; k < fmt.fields.size() && ok; ++k) {
            bool last = k + 1 == fmt.fields.size();
            if (last && fmt.optionalLast && i >= w.size()) break;
            if (k > 0) out += ' ';
            ok = one(fmt.fields[k]);
            if (last && fmt.arrayLast)
                while (ok && i < w.size()) {
                    out += ", ";
                    ok = one(fmt.fields[k]);
                }
        }
    } while (ok && fmt.arrayAll && i < w.size());
    if (!ok) return hex(w.data(), w.size());
    return out;
}

}  // namespace tandem::common
