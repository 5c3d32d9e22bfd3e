#include "conf/lease_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <utility>

#include "conf/lease_scanner.h"

namespace tandem::conf {

namespace {

using namespace leasescan;
using common::BindingState;
using common::kNever;
using common::LeaseRecord;
using common::Time;

constexpr int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

/// A decimal number, optionally negative; saturates far beyond any date field.
bool decimal(std::string_view w, int64_t& v) {
    std::size_t i = 0;
    bool neg = false;
    if (!w.empty() && w[0] == '-') neg = true, i = 1;
    if (i == w.size()) return false;
    int64_t x = 0;
    for (; i < w.size(); ++i) {
        if (!isDigit(w[i])) return false;
        if (x < 1000000000000LL) x = x * 10 + (w[i] - '0');
    }
    v = neg ? -x : x;
    return true;
}

/// ISC's parse_date_core arithmetic: the year may be written with or without
/// 1900, 2038 and later mean `never`, the time is UTC plus an optional offset.
/// Unlike ISC's formula, which counts leap days wrongly before 1969, this one
/// is the exact Gregorian calendar; the two agree for every year 1969..2037.
enum class DateStatus { Ok, BadMonth, BeforeEpoch };
DateStatus composeDate(int64_t year, int64_t mon, int64_t mday, int64_t hour, int64_t min, int64_t sec, int64_t tz,
                       Time& out) {
    if (year > 1900) year -= 1900;
    if (mon < 1 || mon > 12) return DateStatus::BadMonth;
    if (year >= 138) {
        out = kNever;
        return DateStatus::Ok;
    }
    // Most dates of a file fall in a few months: remember the last one.
    static thread_local int64_t cachedYear = -1, cachedMon = -1, cachedDays = 0;
    if (year != cachedYear || mon != cachedMon) {
        cachedDays = daysFromCivil(1900 + year, unsigned(mon), 1);
        cachedYear = year;
        cachedMon = mon;
    }
    int64_t days = cachedDays + (mday - 1);
    int64_t t = ((days * 24 + hour) * 60 + min) * 60 + sec + tz;
    if (t < 0) return DateStatus::BeforeEpoch;
    out = t >= kNever ? kNever : t;
    return DateStatus::Ok;
}

constexpr const char* kFailoverStates[] = {"unknown-state",  "startup",       "normal",
                                           "communications-interrupted",    "partner-down",
                                           "potential-conflict", "recover", "paused",
                                           "shutdown",       "recover-done",  "resolution-interrupted",
                                           "conflict-done",  "recover-wait"};

// Keywords, found by length and then by comparison, ignoring case.
enum class Kw {
    None,
    // top level
    Lease, Host, Group, Class, Subclass, Failover, ServerDuid, AuthoringByteOrder, IaNa, IaTa, IaPd,
    // in a lease
    Starts, Ends, Tstp, Tsfp, Atsfp, Cltt, Timestamp, Uid, Hardware, Reserved, DynamicBootp, Abandoned,
    Next, Rewind, Binding, ClientHostname, Billing, On, Option, Supersede, Set, DdnsFwdName, DdnsRevName,
};

Kw keyword(std::string_view w) {
    switch (w.size()) {
    case 2:
        if (ieq(w, "on")) return Kw::On;
        break;
    case 3:
        if (ieq(w, "uid")) return Kw::Uid;
        if (ieq(w, "set")) return Kw::Set;
        break;
    case 4:
        if (ieq(w, "ends")) return Kw::Ends;
        if (ieq(w, "tstp")) return Kw::Tstp;
        if (ieq(w, "tsfp")) return Kw::Tsfp;
        if (ieq(w, "cltt")) return Kw::Cltt;
        if (ieq(w, "next")) return Kw::Next;
        if (ieq(w, "host")) return Kw::Host;
        break;
    case 5:
        if (ieq(w, "lease")) return Kw::Lease;
        if (ieq(w, "atsfp")) return Kw::Atsfp;
        if (ieq(w, "class")) return Kw::Class;
        if (ieq(w, "group")) return Kw::Group;
        if (ieq(w, "ia-na")) return Kw::IaNa;
        if (ieq(w, "ia-ta")) return Kw::IaTa;
        if (ieq(w, "ia-pd")) return Kw::IaPd;
        break;
    case 6:
        if (ieq(w, "starts")) return Kw::Starts;
        if (ieq(w, "rewind")) return Kw::Rewind;
        if (ieq(w, "option")) return Kw::Option;
        break;
    case 7:
        if (ieq(w, "binding")) return Kw::Binding;
        if (ieq(w, "billing")) return Kw::Billing;
        break;
    case 8:
        if (ieq(w, "hardware")) return Kw::Hardware;
        if (ieq(w, "reserved")) return Kw::Reserved;
        if (ieq(w, "subclass")) return Kw::Subclass;
        if (ieq(w, "failover")) return Kw::Failover;
        break;
    case 9:
        if (ieq(w, "abandoned")) return Kw::Abandoned;
        if (ieq(w, "timestamp")) return Kw::Timestamp;
        if (ieq(w, "supersede")) return Kw::Supersede;
        break;
    case 11:
        if (ieq(w, "server-duid")) return Kw::ServerDuid;
        break;
    case 13:
        if (ieq(w, "dynamic-bootp")) return Kw::DynamicBootp;
        if (ieq(w, "ddns-fwd-name")) return Kw::DdnsFwdName;
        if (ieq(w, "ddns-rev-name")) return Kw::DdnsRevName;
        break;
    case 15:
        if (ieq(w, "client-hostname")) return Kw::ClientHostname;
        break;
    case 20:
        if (ieq(w, "authoring-byte-order")) return Kw::AuthoringByteOrder;
        break;
    default:
        break;
    }
    return Kw::None;
}

std::string dotted(uint32_t a) {
    return std::to_string(a >> 24) + '.' + std::to_string((a >> 16) & 255) + '.' + std::to_string((a >> 8) & 255) +
           '.' + std::to_string(a & 255);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is(s.front(), kSpace)) s.remove_prefix(1);
    while (!s.empty() && is(s.back(), kSpace)) s.remove_suffix(1);
    return s;
}

/// Statement text as kept for `on` bodies: each line trimmed, empty lines dropped.
std::string normalizeBody(std::string_view body) {
    std::string out;
    while (!body.empty()) {
        std::size_t nl = body.find('\n');
        std::string_view line = trim(body.substr(0, nl));
        if (!line.empty()) {
            if (!out.empty()) out += '\n';
            out.append(line);
        }
        if (nl == std::string_view::npos) break;
        body.remove_prefix(nl + 1);
    }
    return out;
}

// ---------------------------------------------------------------------------

class Reader {
public:
    Reader(std::string_view text, const std::string& fileName, common::DiagnosticSink& sink,
           const LeaseReadOptions& options)
        : lx_(text.data(), text.data() + text.size()),
          sink_(sink),
          options_(options),
          lines_(text.data(), std::make_shared<const std::string>(fileName)),
          index_(text.size() / 256) {
        out_.leases.reserve(text.size() / 256);
    }

    LeaseFileContents run() {
        for (;;) {
            const Tok& t = lx_.peek();
            if (t.kind == TokKind::End) break;
            if (t.kind == TokKind::BadString) {  // the file ends inside a string
                if (!out_.torn) torn(t, "a quoted string");
                break;
            }
            if (t.kind != TokKind::Word) {
                Tok bad = lx_.next();
                corrupt(bad);
                continue;
            }
            Tok kw = lx_.next();
            blockOpened_ = false;
            switch (keyword(kw.s)) {
            case Kw::Lease: lease(kw); break;
            case Kw::Failover: failover(kw); break;
            case Kw::Host: host(kw); break;
            case Kw::Group: group(kw); break;
            case Kw::Class: leaseClass(kw, false); break;
            case Kw::Subclass: leaseClass(kw, true); break;
            case Kw::ServerDuid: serverDuid(kw); break;
            case Kw::AuthoringByteOrder: byteOrder(kw); break;
            case Kw::IaNa:
            case Kw::IaTa:
            case Kw::IaPd: v6(kw); break;
            default: corrupt(kw); break;
            }
        }
        return std::move(out_);
    }

private:
    // ---- diagnostics and recovery ----------------------------------------

    Location at(const Tok& t) { return lines_.at(t.p); }
    Location at(const char* p) { return lines_.at(p); }
    void error(const Tok& t, std::string m) { sink_.error(at(t), std::move(m)); }
    void warning(const Tok& t, std::string m) { sink_.warning(at(t), std::move(m)); }

    /// Record why the construct being read failed. The token is left unconsumed
    /// unless it is a word, so a `}` there still closes the block when skipping.
    bool fail(const Tok& t, std::string message) {
        failTok_ = t;
        failMsg_ = std::move(message);
        return false;
    }
    bool failAtPeek(std::string message) { return fail(lx_.peek(), std::move(message)); }

    /// A warning for a statement ISC skips (to its `;`) but whose lease it keeps.
    /// False when the file ends first: then it is part of a torn record, not worth a warning.
    bool skipWithWarning(const Tok& at, const std::string& message) {
        Tok where = at;
        if (!skipStatement()) return false;
        warning(where, message);
        return true;
    }

    void torn(const Tok& start, const std::string& what) {
        out_.torn = true;
        sink_.warning(at(start), "unexpected end of file: the last record (" + what +
                                     ") is incomplete, probably cut short by a crash; it is skipped");
    }

    /// Consume tokens to the end of the block whose `{` has been read. False at end of file.
    bool skipBlock(int depth = 1) {
        for (;;) {
            Tok t = lx_.next();
            if (t.atEnd()) return false;
            if (t.isPunct('{')) {
                ++depth;
            } else if (t.isPunct('}')) {
                if (--depth == 0) return true;
            }
        }
    }

    /// ISC's skip_to_semi: past the next `;` or braced block. A `}` that
    /// closes the enclosing block stops it unconsumed; at top level (`top`) such
    /// a stray `}` is consumed instead. False at end of file.
    bool skipStatement(bool top = false) {
        int depth = 0;
        for (;;) {
            const Tok& t = lx_.peek();
            if (t.atEnd()) return false;
            if (t.isPunct('}')) {
                if (depth == 0 && !top) return true;
                lx_.next();
                if (depth == 0 || --depth == 0) return true;
                continue;
            }
            if (t.isPunct('{')) {
                ++depth;
            } else if (t.isPunct(';') && depth == 0) {
                lx_.next();
                return true;
            }
            lx_.next();
        }
    }

    /// Top-level garbage (`start`, consumed): skipped to the next `;` or `}`.
    void corrupt(const Tok& start) {
        if (start.atEnd()) {
            torn(start, "a quoted string");
            return;
        }
        // Skip first: a statement the file ends inside is a torn record, not garbage.
        if (!start.isPunct(';') && !start.isPunct('}') && !skipStatement(true)) {
            // (the raw text: a decoded string's bytes do not outlive further lexing)
            std::string raw(start.p, std::min<std::size_t>(40, std::size_t(start.e - start.p)));
            for (char& c : raw)
                if (c < 0x20 || c >= 0x7f) c = '?';  // a hostile file must not drive the terminal
            torn(start, raw + "...");
            return;
        }
        error(start, "Corrupt lease file - possible data loss!");
    }

    /// Consume the `{` that opens the block of the construct being read.
    bool openBrace() {
        if (!punct('{', "expecting left brace.")) return false;
        blockOpened_ = true;
        return true;
    }

    // ---- small syntax pieces (peek, then consume only what matches) ------

    bool semi() { return lx_.acceptPunct(';') || failAtPeek("semicolon expected."); }
    bool punct(char c, const char* message) { return lx_.acceptPunct(c) || failAtPeek(message); }
    bool word(Tok& out, const char* message) { return lx_.acceptWord(out) || failAtPeek(message); }
    bool keywordIs(const char* kw, const char* message) { return lx_.acceptKeyword(kw) || failAtPeek(message); }
    /// A name written as a string or as a word (with dots: a host name).
    bool name(std::string& out, const char* message) {
        Tok t;
        if (lx_.acceptString(t)) {
            out.assign(t.s);
            return true;
        }
        if (!lx_.acceptWord(t)) return failAtPeek(message);
        // ISC's parse_host_name: the words joined by dots, whatever was between them.
        out.assign(t.s);
        while (lx_.acceptPunct('.')) {
            Tok w;
            if (!word(w, "expecting a name after '.'")) return false;
            out += '.';
            out.append(w.s);
        }
        return true;
    }

    bool number(uint32_t& out, const char* message) {
        const Tok& t = lx_.peek();
        int64_t v;
        if (!t.isWord() || !decimal(t.s, v) || v < 0 || v > UINT32_MAX) return failAtPeek(message);
        lx_.next();
        out = uint32_t(v);
        return true;
    }

    bool dottedQuad(uint32_t& out) {
        static const char* const kMsg = "expecting an IPv4 address (four numbers separated by dots)";
        uint32_t a = 0;
        for (int i = 0; i < 4; ++i) {
            if (i && !punct('.', kMsg)) return false;
            Tok t;
            if (!lx_.acceptWord(t)) return failAtPeek(kMsg);
            unsigned v = 0;
            for (char c : t.s) {
                if (!isDigit(c) || (v = v * 10 + unsigned(c - '0')) > 255 || t.s.size() > 3) return fail(t, kMsg);
            }
            a = (a << 8) | v;
        }
        out = a;
        return true;
    }

    /// Colon-separated hexadecimal octets (ISC's parse_numeric_aggregate, base 16).
    bool hexList(std::string& out) {
        out.clear();
        if (lx_.acceptHexRun(out)) return true;
        Tok t;
        if (!lx_.acceptWord(t)) return failAtPeek("expecting numeric value.");
        for (;;) {
            int v = 0;
            for (char c : t.s) {
                int h = hexValue(c);
                if (h < 0) return fail(t, "Bogus number " + std::string(t.s) + ": not in base 16");
                v = v * 16 + h;
                if (v > 255) return fail(t, "Bogus number " + std::string(t.s) + ": too large for an octet");
            }
            out += char(v);
            if (!lx_.acceptPunct(':')) return true;
            if (!lx_.acceptWord(t)) return failAtPeek("expecting a hexadecimal octet after ':'");
        }
    }

    /// Bytes written as a quoted string or as colon-hex.
    bool dataValue(std::string& out) {
        Tok t;
        if (lx_.acceptString(t)) {
            out.assign(t.s);
            return true;
        }
        return hexList(out);
    }

    /// `hardware TYPE aa:bb:...;` after the keyword.
    bool hardware(common::HwAddr& hw) {
        Tok type;
        if (!word(type, "expecting a network hardware type")) return false;
        uint8_t htype;
        if (ieq(type.s, "ethernet")) {
            htype = 1;
        } else if (ieq(type.s, "token-ring")) {
            htype = 6;
        } else if (ieq(type.s, "fddi")) {
            htype = 8;
        } else if (ieq(type.s, "infiniband")) {
            htype = 32;
        } else {
            int64_t n;
            if (type.s.size() <= 8 || !ieq(type.s.substr(0, 8), "unknown-") || !decimal(type.s.substr(8), n) ||
                n < 0 || n > 255)
                return fail(type, "expecting a network hardware type");
            htype = uint8_t(n);
        }
        hw = common::HwAddr{};
        if (lx_.acceptPunct(';')) return true;  // no address bytes: kept as no hardware
        if (!hexList(scratch_) || !semi()) return false;
        if (scratch_.size() > hw.bytes.size()) {
            warning(type, "hardware address too long");
        } else {
            hw.htype = htype;
            hw.len = uint8_t(scratch_.size());
            std::memcpy(hw.bytes.data(), scratch_.data(), scratch_.size());
        }
        return true;
    }

    /// A date and its `;` (parse_date): `W Y/M/D H:M:S [tzoff]`, `epoch N` or `never`.
    bool date(Time& out) {
        if (const char* p = lx_.raw(); p && lx_.end() - p >= 22) {
            // The form every writer uses: "W YYYY/MM/DD HH:MM:SS;".
            auto d2 = [&](int i) { return isDigit(p[i]) && isDigit(p[i + 1]); };
            if (isDigit(p[0]) && p[1] == ' ' && d2(2) && d2(4) && p[6] == '/' && d2(7) && p[9] == '/' && d2(10) &&
                p[12] == ' ' && d2(13) && p[15] == ':' && d2(16) && p[18] == ':' && d2(19) && p[21] == ';') {
                auto n2 = [&](int i) { return (p[i] - '0') * 10 + (p[i + 1] - '0'); };
                int64_t year = n2(2) * 100 + n2(4);
                DateStatus st = composeDate(year, n2(7), n2(10), n2(13), n2(16), n2(19), 0, out);
                if (st == DateStatus::Ok) {
                    lx_.advanceRaw(p + 22);
                    return true;
                }
            }
        }
        Tok t = lx_.peek();
        if (t.isWord() && ieq(t.s, "never")) {
            lx_.next();
            out = kNever;
            return semi();
        }
        if (t.isWord() && ieq(t.s, "epoch")) {
            lx_.next();
            const Tok& n = lx_.peek();
            int64_t v;
            if (!n.isWord() || !decimal(n.s, v)) return failAtPeek("Seconds since epoch expected.");
            if (v < 0) return failAtPeek("date before 1970");
            lx_.next();
            out = v >= kNever ? kNever : v;
            return semi();
        }
        int64_t f[7] = {0, 0, 0, 0, 0, 0, 0};  // year mon mday hour min sec tz
        static const char* const kWhat[] = {"numeric year expected.", "numeric month expected.",
                                            "numeric day of month expected.", "numeric hour expected.",
                                            "numeric minute expected.", "numeric second expected."};
        static const char kSep[] = {'/', '/', 0, ':', ':', 0};
        int64_t wday;
        if (!t.isWord() || !decimal(t.s, wday)) return failAtPeek("numeric day of week expected.");
        lx_.next();
        Tok month;
        for (int i = 0; i < 6; ++i) {
            const Tok& n = lx_.peek();
            if (!n.isWord() || !decimal(n.s, f[i])) return failAtPeek(kWhat[i]);
            if (i == 1) month = n;
            lx_.next();
            if (kSep[i] && !punct(kSep[i], kSep[i] == '/' ? "expected slash in date." : "expected colon in time."))
                return false;
        }
        const Tok& tz = lx_.peek();
        if (tz.isWord()) {
            if (!decimal(tz.s, f[6])) return failAtPeek("Time zone offset or semicolon expected.");
            lx_.next();
        }
        switch (composeDate(f[0], f[1], f[2], f[3], f[4], f[5], f[6], out)) {
        case DateStatus::Ok: break;
        case DateStatus::BadMonth: return fail(month, "month out of range (1-12)");
        case DateStatus::BeforeEpoch: return fail(t, "date before 1970");
        }
        return semi();
    }

    bool bindingStateWord(BindingState& st, bool& reserved, bool& bootp) {
        Tok t;
        if (!word(t, "expecting a binding state.")) return false;
        static const std::pair<std::string_view, BindingState> kStates[] = {
            {"active", BindingState::Active},       {"free", BindingState::Free},
            {"expired", BindingState::Expired},     {"backup", BindingState::Backup},
            {"released", BindingState::Released},   {"abandoned", BindingState::Abandoned},
            {"reset", BindingState::Reset}};
        for (const auto& [text, state] : kStates) {
            if (ieq(t.s, text)) {
                st = state;
                return true;
            }
        }
        // Legacy words from before the failover states (ISC keeps accepting them).
        if (ieq(t.s, "reserved")) {
            st = BindingState::Active;
            reserved = true;
            return true;
        }
        if (ieq(t.s, "bootp")) {
            st = BindingState::Active;
            bootp = true;
            return true;
        }
        return fail(t, std::string(t.s) + ": expecting a binding state.");
    }

    /// The right side of `set NAME =` (ISC's parse_binding_value) and its `;`.
    bool bindingValue(common::LeaseVariable& v) {
        const Tok& t = lx_.peek();
        if (t.kind == TokKind::String) {
            v.kind = common::LeaseVariable::Kind::Data;
            v.data.assign(lx_.next().s);
        } else if (t.isPunct('%')) {
            lx_.next();
            const Tok& n = lx_.peek();
            int64_t x;
            if (!n.isWord() || !decimal(n.s, x)) return failAtPeek("expecting decimal number.");
            lx_.next();
            v.kind = common::LeaseVariable::Kind::Number;
            v.number = x;
        } else if (t.isWord() && (ieq(t.s, "true") || ieq(t.s, "false"))) {
            v.kind = common::LeaseVariable::Kind::Boolean;
            v.boolean = ieq(t.s, "true");
            lx_.next();
        } else if (t.isWord()) {
            v.kind = common::LeaseVariable::Kind::Data;
            bool hex = true;
            for (char c : t.s) hex = hex && hexValue(c) >= 0;
            if (!hex) return failAtPeek("expecting true or false");
            if (!hexList(v.data)) return false;
        } else {
            return failAtPeek("expecting a constant value.");
        }
        return semi();
    }

    // ---- lease -----------------------------------------------------------

    enum Seen : uint32_t {
        kSeenStarts = 1, kSeenEnds = 2, kSeenUid = 8, kSeenHardware = 64, kSeenNext = 128, kSeenBinding = 256,
        kSeenRewind = 512, kSeenHostname = 1024, kSeenBilling = 2048, kSeenFwd = 4096, kSeenRev = 8192,
        kSeenTstp = 65536, kSeenTsfp = 131072, kSeenAtsfp = 262144, kSeenCltt = 524288,
    };

    void lease(const Tok& kw) {
        uint32_t addr = 0;
        if (!dottedQuad(addr) || !openBrace()) {
            dropLease(kw, nullptr);
            return;
        }
        LeaseRecord& r = cur_;
        r = LeaseRecord();
        r.address = addr;
        uint32_t seen = 0;
        // `on` events: ISC keeps at most one statement list per event; "expiry
        // or release" is one list for both.
        std::string expiry, release;
        bool haveExpiry = false, haveRelease = false;
        int expiryFrom = -1, releaseFrom = -1, onCount = 0;

        for (;;) {
            Tok k;
            if (!lx_.acceptWord(k)) {
                if (lx_.acceptPunct('}')) break;
                const Tok& t = lx_.peek();
                if (t.atEnd()) {
                    torn(kw, "lease " + dotted(addr));
                    return;
                }
                fail(t, "Unexpected configuration directive.");
                dropLease(kw, &addr);
                return;
            }
            uint32_t bit = 0;
            bool good = true;
            Kw id = keyword(k.s);
            switch (id) {
            case Kw::Starts: bit = kSeenStarts; good = date(r.starts); break;
            case Kw::Ends: bit = kSeenEnds; good = date(r.ends); break;
            case Kw::Tstp: bit = kSeenTstp; good = date(r.tstp); break;
            case Kw::Tsfp: bit = kSeenTsfp; good = date(r.tsfp); break;
            case Kw::Atsfp: bit = kSeenAtsfp; good = date(r.atsfp); break;
            case Kw::Cltt: bit = kSeenCltt; good = date(r.cltt); break;
            case Kw::Timestamp:
                // ISC 4.4 lexes it as a time and then exits ("Impossible error").
                good = fail(k, "timestamp is not a lease parameter ISC dhcpd 4.4 can read.");
                break;
            case Kw::Uid:
                bit = kSeenUid;
                good = dataValue(r.uid) && semi();
                break;
            case Kw::Class: {
                // `class NAME;`: accepted and ignored, as ISC does.
                bit = 32;
                std::string ignored;
                good = name(ignored, "expecting a class name") && semi();
                break;
            }
            case Kw::Hardware: bit = kSeenHardware; good = hardware(r.hw); break;
            case Kw::Reserved: r.reserved = true; good = semi(); break;
            case Kw::DynamicBootp: r.bootp = true; good = semi(); break;
            case Kw::Abandoned:
                // Legacy: both states abandoned; with no rewind state ISC writes none.
                bit = kSeenBinding;
                r.state = r.next = BindingState::Abandoned;
                if (!(seen & kSeenRewind)) r.rewind = BindingState::Abandoned;
                good = semi();
                break;
            case Kw::Next:
            case Kw::Rewind:
                bit = id == Kw::Next ? kSeenNext : kSeenRewind;
                if (!lx_.acceptKeyword("binding")) {
                    bit = 0;
                    if (!skipWithWarning(lx_.peek(), "expecting 'binding'")) {
                        torn(kw, "lease " + dotted(addr));
                        return;
                    }
                    break;
                }
                [[fallthrough]];
            case Kw::Binding: {
                if (id == Kw::Binding) bit = kSeenBinding;
                if (!lx_.acceptKeyword("state")) {
                    bit = 0;
                    if (!skipWithWarning(lx_.peek(), "expecting 'state'")) {
                        torn(kw, "lease " + dotted(addr));
                        return;
                    }
                    break;
                }
                BindingState st = BindingState::Free;
                good = bindingStateWord(st, r.reserved, r.bootp) && semi();
                if (!good) break;
                if (bit == kSeenBinding) {
                    r.state = st;
                    if (!(seen & kSeenNext)) r.next = st;
                    if (!(seen & kSeenRewind)) r.rewind = st;
                } else if (bit == kSeenNext) {
                    r.next = st;
                } else {
                    r.rewind = st;
                }
                break;
            }
            case Kw::ClientHostname:
                bit = kSeenHostname;
                good = name(r.hostname, "expecting a hostname.") && semi();
                break;
            case Kw::Billing: {
                bit = kSeenBilling;
                const Tok& w = lx_.peek();
                if (w.isWord() && ieq(w.s, "class")) {
                    lx_.next();
                    if (lx_.peek().kind != TokKind::String) {
                        good = failAtPeek("expecting string");
                        break;
                    }
                    r.ext().billingClass.assign(lx_.next().s);
                    r.ext().billingSubclass.reset();
                    good = semi();
                } else if (w.isWord() && ieq(w.s, "subclass")) {
                    lx_.next();
                    std::string cls, data;
                    good = name(cls, "expecting the name of a class") && dataValue(data) && semi();
                    if (good) {
                        r.ext().billingClass = std::move(cls);
                        r.ext().billingSubclass = std::move(data);
                    }
                } else {
                    bit = 0;
                    if (!skipWithWarning(w, "expecting \"class\"")) {
                        torn(kw, "lease " + dotted(addr));
                        return;
                    }
                }
                break;
            }
            case Kw::On: {
                bool ex = false, rel = false;
                for (;;) {
                    Tok ev;
                    if (!word(ev, "expecting a lease event (commit, expiry or release)")) {
                        good = false;
                        break;
                    }
                    if (ieq(ev.s, "expiry")) {
                        ex = true;
                    } else if (ieq(ev.s, "release")) {
                        rel = true;
                    } else if (!ieq(ev.s, "commit")) {
                        good = fail(ev, "expecting a lease event (commit, expiry or release)");
                        break;
                    }
                    if (!lx_.acceptKeyword("or")) break;
                }
                if (!good || !punct('{', "expecting left brace.")) {
                    good = false;
                    break;
                }
                const char* bodyStart = lx_.lastEnd();
                if (!skipBlock()) {
                    torn(kw, "lease " + dotted(addr));
                    return;
                }
                std::string body = normalizeBody(std::string_view(bodyStart, std::size_t(lx_.lastEnd() - 1 - bodyStart)));
                // ISC stores nothing for an empty list, and never keeps `on commit` in a lease.
                if (body.empty()) break;
                ++onCount;
                if (ex) expiry = body, haveExpiry = true, expiryFrom = onCount;
                if (rel) release = std::move(body), haveRelease = true, releaseFrom = onCount;
                break;
            }
            case Kw::Option:
            case Kw::Supersede: good = agentOption(r); break;
            case Kw::Set: {
                Tok n;
                if (!lx_.peek().isWord()) {
                    good = failAtPeek("expecting a variable name");
                    break;
                }
                n = lx_.next();
                if (!punct('=', "expecting '=' in set statement.")) {
                    good = false;
                    break;
                }
                good = setVariable(r, std::string(n.s));
                break;
            }
            case Kw::DdnsFwdName:
            case Kw::DdnsRevName:
                bit = id == Kw::DdnsFwdName ? kSeenFwd : kSeenRev;
                good = setVariable(r, lowerCopy(k.s));
                break;
            default:
                good = fail(k, "Unexpected configuration directive.");
                break;
            }
            if (!good) {
                dropLease(kw, &addr);
                return;
            }
            if (bit) {
                if (seen & bit)
                    warning(k, "Too many " + std::string(k.s) + " parameters in lease " + dotted(addr));
                else
                    seen |= bit;
            }
        }

        if (haveExpiry || haveRelease) {
            auto& ev = r.ext().events;
            if (haveExpiry && haveRelease && expiryFrom == releaseFrom) {
                ev.push_back({"expiry or release", std::move(expiry)});
            } else {
                if (haveExpiry) ev.push_back({"expiry", std::move(expiry)});
                if (haveRelease) ev.push_back({"release", std::move(release)});
            }
        }
        // ISC's defaults (parse_lease_declaration). Its failover branches never
        // apply while reading: the lease is not attached to a pool yet.
        if (!(seen & kSeenBinding)) {
            r.state = (r.ends > options_.now || haveExpiry || haveRelease) ? BindingState::Active : BindingState::Free;
            r.next = r.state == BindingState::Active ? BindingState::Free : r.state;
            r.rewind = r.state;
        }
        if (!(seen & kSeenTstp)) r.tstp = r.ends;
        if (r.hw.len == 0) r.hw = common::HwAddr{};

        ++out_.leaseEntries;
        if (options_.onLease) options_.onLease(r, std::string_view(kw.p, std::size_t(lx_.lastEnd() - kw.p)));
        bool found;
        uint32_t* slot = index_.find(addr, found);
        if (found) {
            out_.leases[*slot] = std::move(r);
            ++out_.superseded;
        } else {
            index_.insertAtLast(uint32_t(out_.leases.size()));
            out_.leases.push_back(std::move(r));
        }
    }

    /// Drop the lease being read after the failure fail() recorded: report it,
    /// then skip what is left of the block (a failure at end of file is a torn record).
    void dropLease(const Tok& kw, const uint32_t* addr) {
        dropBlock(kw, addr ? "lease " + dotted(*addr) : std::string("lease"));
    }

    bool agentOption(LeaseRecord& r) {
        Tok space;
        if (!word(space, "expecting identifier after option keyword.")) return false;
        std::string optName(space.s);
        bool dotted = false;
        if (lx_.acceptPunct('.')) {
            Tok n;
            if (!word(n, "expecting identifier after '.'")) return false;
            optName += '.';
            optName.append(n.s);
            dotted = true;
        }
        if (!dotted || !ieq(space.s, "agent")) {
            // ISC drops the option and keeps the lease.
            if (!skipWithWarning(space, "agent option expected.")) return fail(lx_.peek(), "unexpected end of file");
            return true;
        }
        // The value as written, token by token: tokens that touched stay
        // together, any space or comment between two becomes one space.
        std::string value;
        for (;;) {
            const Tok& t = lx_.peek();
            if (t.atEnd()) return fail(t, "unexpected end of file");
            if (t.isPunct('{') || t.isPunct('}')) return failAtPeek("semicolon expected.");
            if (t.isPunct(';')) break;
            if (!value.empty() && t.p != lx_.lastEnd()) value += ' ';
            value.append(t.p, std::size_t(t.e - t.p));
            lx_.next();
        }
        if (value.empty()) return failAtPeek("expecting an option value");
        r.ext().agentOptions.emplace_back(std::move(optName), std::move(value));
        lx_.next();  // the ';'
        return true;
    }

    bool setVariable(LeaseRecord& r, std::string varName) {
        common::LeaseVariable v;
        v.name = std::move(varName);
        if (!bindingValue(v)) return false;
        auto& vars = r.ext().variables;
        for (auto& old : vars) {
            if (old.name == v.name) {  // ISC updates the binding in place
                old = std::move(v);
                return true;
            }
        }
        vars.push_back(std::move(v));
        return true;
    }

    // ---- failover state ---------------------------------------------------

    void failover(const Tok& kw) {
        FailoverPeerState st;
        st.where = at(kw);
        bool ok = keywordIs("peer", "expecting \"peer\"") && name(st.name, "expecting the failover peer's name") &&
                  keywordIs("state", "expecting \"state\"") && openBrace();
        while (ok) {
            const Tok& t = lx_.peek();
            if (t.isPunct('}')) {
                lx_.next();
                break;
            }
            if (t.atEnd()) {
                ok = fail(t, "unexpected end of file");
                break;
            }
            Tok k;
            if (!word(k, "expecting `my state`, `partner state` or `mclt`")) {
                ok = false;
                break;
            }
            bool mine = ieq(k.s, "my");
            if (mine || ieq(k.s, "partner")) {
                Tok s;
                ok = keywordIs("state", "expecting \"state\"") && word(s, "expecting a failover state");
                if (!ok) break;
                if (!isFailoverStateName(s.s)) {
                    ok = fail(s, "unknown failover state " + std::string(s.s));
                    break;
                }
                Time when = options_.now;
                if (lx_.acceptKeyword("at")) {
                    ok = date(when);
                } else {
                    ok = semi();
                }
                if (!ok) break;
                (mine ? st.myState : st.partnerState) = lowerCopy(s.s);
                (mine ? st.myStateTime : st.partnerStateTime) = when;
            } else if (ieq(k.s, "mclt")) {
                uint32_t v = 0;
                ok = number(v, "expecting a number of seconds") && semi();
                if (ok) st.mclt = v;
            } else {
                ok = fail(k, "expecting `my state`, `partner state` or `mclt`");
            }
        }
        if (!ok) {
            dropBlock(kw, "failover peer \"" + st.name + "\" state");
            return;
        }
        for (auto& old : out_.failoverStates) {
            if (old.name == st.name) {
                old = std::move(st);
                return;
            }
        }
        out_.failoverStates.push_back(std::move(st));
    }

    /// Drop the block being read after the failure fail() recorded. The
    /// offending token is unconsumed, so a `}` there still closes the block.
    void dropBlock(const Tok& kw, const std::string& what) {
        // Skip first: when the file ends before the block does, the failure is
        // only the cut of a torn record, reported as such.
        if (!failTok_.atEnd() && (blockOpened_ ? skipBlock(1) : skipStatement(true))) {
            error(failTok_, failMsg_ + " (" + what + " dropped)");
            if (keyword(kw.s) == Kw::Lease) ++out_.dropped;
            return;
        }
        torn(kw, what);
    }

    // ---- host, group, class ----------------------------------------------

    /// Body statements for host/class/group blocks; calls `handle` with each
    /// statement's keyword; `handle` returns 1 (consumed), 0 (error) or -1 (keep as text).
    template <typename F>
    bool blockBody(std::vector<std::string>* others, F&& handle) {
        for (;;) {
            const Tok& t = lx_.peek();
            if (t.isPunct('}')) {
                lx_.next();
                return true;
            }
            if (t.atEnd()) return fail(t, "unexpected end of file");
            Tok k = t;
            int r = t.isWord() ? handle(k) : -1;
            if (r == 0) return false;
            if (r < 0) {
                if (!skipStatement()) return fail(lx_.peek(), "unexpected end of file");
                if (others) others->emplace_back(trim(std::string_view(k.p, std::size_t(lx_.lastEnd() - k.p))));
            }
        }
    }

    void host(const Tok& kw) {
        LeaseFileHost h;
        h.where = at(kw);
        bool ok = name(h.name, "expecting a host name") && openBrace() &&
                  blockBody(&h.statements, [&](const Tok& k) -> int {
                      if (ieq(k.s, "dynamic")) return lx_.next(), semi() ? (h.dynamic = true, 1) : 0;
                      if (ieq(k.s, "deleted")) return lx_.next(), semi() ? (h.deleted = true, 1) : 0;
                      if (ieq(k.s, "hardware")) return lx_.next(), hardware(h.hw) ? 1 : 0;
                      if (ieq(k.s, "uid")) return lx_.next(), dataValue(h.uid) && semi() ? 1 : 0;
                      if (ieq(k.s, "group")) return lx_.next(), name(h.group, "expecting a group name") && semi();
                      if (ieq(k.s, "fixed-address")) {
                          lx_.next();
                          for (;;) {
                              std::string a;
                              if (!name(a, "expecting an address or a host name")) return 0;
                              h.fixedAddresses.push_back(std::move(a));
                              if (!lx_.acceptPunct(',')) break;
                          }
                          return semi() ? 1 : 0;
                      }
                      return -1;
                  });
        if (!ok) {
            dropBlock(kw, "host " + h.name);
            return;
        }
        h.text.assign(kw.p, std::size_t(lx_.lastEnd() - kw.p));
        keepLast(out_.hosts, std::move(h), [](const LeaseFileHost& a, const LeaseFileHost& b) {
            return a.name == b.name;
        });
    }

    void group(const Tok& kw) {
        LeaseFileGroup g;
        g.where = at(kw);
        bool ok = true;
        if (!lx_.peek().isPunct('{')) ok = name(g.name, "expecting a group name");
        ok = ok && openBrace() && blockBody(nullptr, [&](const Tok& k) -> int {
                 if (ieq(k.s, "dynamic")) return lx_.next(), semi() ? (g.dynamic = true, 1) : 0;
                 if (ieq(k.s, "static")) return lx_.next(), semi() ? (g.isStatic = true, 1) : 0;
                 if (ieq(k.s, "deleted")) return lx_.next(), semi() ? (g.deleted = true, 1) : 0;
                 return -1;
             });
        if (!ok) {
            dropBlock(kw, "group " + g.name);
            return;
        }
        g.text.assign(kw.p, std::size_t(lx_.lastEnd() - kw.p));
        keepLast(out_.groups, std::move(g),
                 [](const LeaseFileGroup& a, const LeaseFileGroup& b) { return a.name == b.name; });
    }

    void leaseClass(const Tok& kw, bool sub) {
        LeaseFileClass c;
        c.subclass = sub;
        c.where = at(kw);
        bool ok = name(c.name, "expecting a class name");
        if (ok && sub) ok = dataValue(c.data);
        if (ok && sub && lx_.acceptPunct(';')) {
            // `subclass "C" DATA;` has no body
        } else {
            ok = ok && openBrace() && blockBody(&c.statements, [&](const Tok& k) -> int {
                     if (ieq(k.s, "dynamic")) return lx_.next(), semi() ? (c.dynamic = true, 1) : 0;
                     if (ieq(k.s, "deleted")) return lx_.next(), semi() ? (c.deleted = true, 1) : 0;
                     if (ieq(k.s, "lease")) {
                         lx_.next();
                         uint32_t n = 0;
                         if (!keywordIs("limit", "expecting \"limit\"") || !number(n, "expecting a number")) return 0;
                         c.leaseLimit = n;
                         return semi() ? 1 : 0;
                     }
                     return -1;
                 });
        }
        if (!ok) {
            dropBlock(kw, std::string(sub ? "subclass " : "class ") + "\"" + c.name + "\"");
            return;
        }
        c.text.assign(kw.p, std::size_t(lx_.lastEnd() - kw.p));
        keepLast(out_.classes, std::move(c), [](const LeaseFileClass& a, const LeaseFileClass& b) {
            return a.subclass == b.subclass && a.name == b.name && a.data == b.data;
        });
    }

    template <typename T, typename Same>
    static void keepLast(std::vector<T>& v, T&& item, Same same) {
        for (auto& old : v) {
            if (same(old, item)) {
                old = std::move(item);
                return;
            }
        }
        v.push_back(std::move(item));
    }

    // ---- one-line statements -----------------------------------------------

    void serverDuid(const Tok& kw) {
        std::string duid;
        if (!dataValue(duid) || !semi()) {
            dropBlock(kw, "server-duid");
            return;
        }
        out_.serverDuid = std::move(duid);
    }

    void byteOrder(const Tok& kw) {
        Tok w;
        bool ok = word(w, "expecting byte order (little-endian or big-endian)");
        if (ok && !ieq(w.s, "little-endian") && !ieq(w.s, "big-endian"))
            ok = fail(w, "authoring-byte-order is little-endian or big-endian");
        if (!ok || !semi()) {
            dropBlock(kw, "authoring-byte-order");
            return;
        }
        if (!out_.authoringByteOrder.empty()) {
            warning(kw, "authoring-byte-order specified too late.");
            return;
        }
        out_.authoringByteOrder = lowerCopy(w.s);
    }

    void v6(const Tok& kw) {
        if (!skipStatement(true)) {
            torn(kw, std::string(kw.s));
            return;
        }
        warning(kw, std::string(kw.s) + ": DHCPv6 data is ignored by a DHCPv4 server");
    }

    Lexer lx_;
    common::DiagnosticSink& sink_;
    const LeaseReadOptions& options_;
    LineMap lines_;
    AddressIndex index_;
    LeaseFileContents out_;
    LeaseRecord cur_;
    std::string scratch_;
    Tok failTok_;
    std::string failMsg_;
    bool blockOpened_ = false;  ///< the construct being read has consumed its `{`
};

}  // namespace

const common::LeaseRecord* LeaseFileContents::findLease(uint32_t address) const {
    for (const auto& l : leases)
        if (l.address == address) return &l;
    return nullptr;
}

bool isFailoverStateName(std::string_view name) {
    for (const char* s : kFailoverStates)
        if (ieq(name, s)) return true;
    return false;
}

LeaseFileContents readLeases(std::string_view text, const std::string& fileName, common::DiagnosticSink& sink,
                             const LeaseReadOptions& options) {
    Reader r(text, fileName, sink, options);
    return r.run();
}

std::optional<LeaseFileContents> readLeaseFile(const std::string& path, common::DiagnosticSink& sink,
                                               const LeaseReadOptions& options, std::string& ioError) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ioError = std::strerror(errno);
        return std::nullopt;
    }
    struct stat st;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        // The whole file at once, straight from the page cache: no copy, and
        // MAP_POPULATE maps it in one go instead of a fault per page.
        std::size_t size = std::size_t(st.st_size);
        void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (m != MAP_FAILED) {
            ::close(fd);
            ::madvise(m, size, MADV_SEQUENTIAL);
            LeaseFileContents c = readLeases(std::string_view(static_cast<const char*>(m), size), path, sink, options);
            ::munmap(m, size);
            return c;
        }
    }
    // Not a regular file (or mmap refused): read it whole.
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            ioError = std::strerror(errno);
            ::close(fd);
            return std::nullopt;
        }
        if (n == 0) break;
        text.append(buf, std::size_t(n));
    }
    ::close(fd);
    return readLeases(text, path, sink, options);
}

}  // namespace tandem::conf
