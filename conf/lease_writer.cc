#include "conf/lease_writer.h"

#include <config.h>  // the build's PACKAGE_VERSION, not conf/config.h

#include <ctime>

namespace tandem::conf {

namespace {

using common::BindingState;
using common::kNever;
using common::LeaseRecord;
using common::Time;

constexpr char kHexDigits[] = "0123456789abcdef";

/// Unix days to the proleptic Gregorian calendar (Howard Hinnant's algorithm).
void civilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = unsigned(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = int64_t(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += (m <= 2);
}

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

inline void put2(std::string& out, unsigned v) {
    char b[2] = {char('0' + v / 10), char('0' + v % 10)};
    out.append(b, 2);
}

void appendUnsigned(std::string& out, uint64_t v) {
    char b[24];
    char* e = b + sizeof b;
    char* p = e;
    do {
        *--p = char('0' + v % 10);
        v /= 10;
    } while (v);
    out.append(p, std::size_t(e - p));
}

void appendSigned(std::string& out, int64_t v) {
    if (v < 0) {
        out += '-';
        appendUnsigned(out, uint64_t(0) - uint64_t(v));
    } else {
        appendUnsigned(out, uint64_t(v));
    }
}

void appendDotted(std::string& out, uint32_t a) {
    for (int i = 3; i >= 0; --i) {
        appendUnsigned(out, (a >> (i * 8)) & 255);
        if (i) out += '.';
    }
}

bool validState(BindingState s) { return uint8_t(s) >= 1 && uint8_t(s) <= 7; }
/// What ISC writes for a state (anything out of range as abandoned).
BindingState shownState(BindingState s) { return validState(s) ? s : BindingState::Abandoned; }

void appendHardware(std::string& out, const common::HwAddr& hw) {
    // ISC's hardware_types[]: the four with names, every other ARP type unknown-N.
    switch (hw.htype) {
    case 1: out += "ethernet"; break;
    case 6: out += "token-ring"; break;
    case 8: out += "fddi"; break;
    case 32: out += "infiniband"; break;
    default:
        out += "unknown-";
        appendUnsigned(out, hw.htype);
    }
    out += ' ';
    appendColonHex(out, hw.view());
}

/// print_hash_string: subclass data as a quoted string when printable, else colon-hex.
/// ISC quotes any printable data, even with `"` or `\` in it (which it cannot
/// read back); those we write as hex, so the file stays readable.
void appendClassData(std::string& out, std::string_view data) {
    out += ' ';
    if (isDbPrintable(data)) {
        out += '"';
        out.append(data);
        out += '"';
    } else {
        appendColonHex(out, data);
    }
}

/// A name ISC writes with %s inside quotes; escaped only if it could not be read back.
void appendQuotedName(std::string& out, std::string_view name) {
    out += '"';
    if (isDbPrintable(name))
        out.append(name);
    else
        appendQuoted(out, name);
    out += '"';
}

}  // namespace

std::string_view producerName() { return "tandem-" PACKAGE_VERSION; }

void appendQuoted(std::string& out, std::string_view bytes) {
    for (unsigned char c : bytes) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += char(c);
        } else if (c >= 0x20 && c < 0x7f) {
            out += char(c);
        } else {
            char b[4] = {'\\', char('0' + (c >> 6)), char('0' + ((c >> 3) & 7)), char('0' + (c & 7))};
            out.append(b, 4);
        }
    }
}

void appendColonHex(std::string& out, std::string_view bytes) {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(bytes[i]);
        char b[3] = {':', kHexDigits[c >> 4], kHexDigits[c & 15]};
        if (i)
            out.append(b, 3);
        else
            out.append(b + 1, 2);
    }
}

bool isDbPrintable(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
    return true;
}

// ---------------------------------------------------------------------------

void LeaseWriter::header(std::string& out, std::string_view producer) const {
    out += "# The format of this file is documented in the dhcpd.leases(5) manual page.\n"
           "# This lease file was written by ";
    out.append(producer);
    out += "\n\n# authoring-byte-order entry is generated, DO NOT DELETE\nauthoring-byte-order ";
    const uint16_t probe = 1;
    out += *reinterpret_cast<const unsigned char*>(&probe) ? "little-endian" : "big-endian";
    out += ";\n\n";
}

void LeaseWriter::header(std::string& out) const { header(out, producerName()); }

void LeaseWriter::time(std::string& out, Time t) {
    if (t >= kNever) {
        out += "never;";
        return;
    }
    if (t < 0) t = 0;
    if (options_.localTime)
        localTime(out, t);
    else
        utcTime(out, t);
}

void LeaseWriter::utcTime(std::string& out, Time t) {
    int64_t day = floorDiv(t, 86400);
    unsigned secs = unsigned(t - day * 86400);
    if (day != cachedDay_) {
        int64_t y;
        unsigned m, d;
        civilFromDays(day, y, m, d);
        std::string s;
        s += char('0' + int(((day % 7) + 11) % 7));  // 1970-01-01 was a Thursday (4)
        s += ' ';
        appendSigned(s, y);
        s += '/';
        put2(s, m);
        s += '/';
        put2(s, d);
        s += ' ';
        dayLen_ = s.size() < sizeof dayText_ ? s.size() : sizeof dayText_;
        s.copy(dayText_, dayLen_);
        cachedDay_ = day;
    }
    out.append(dayText_, dayLen_);
    put2(out, secs / 3600);
    out += ':';
    put2(out, secs / 60 % 60);
    out += ':';
    put2(out, secs % 60);
    out += ';';
}

void LeaseWriter::localTime(std::string& out, Time t) {
    static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    // The offset from UTC, looked up once per hour of time; an hour whose two
    // ends differ holds a transition and is resolved second by second.
    auto offsetAt = [](Time when) -> long {
        std::time_t tt = std::time_t(when);
        std::tm tm{};
        if (!localtime_r(&tt, &tm)) return 0;
        return tm.tm_gmtoff;
    };
    int64_t hour = floorDiv(t, 3600);
    OffsetSlot& slot = offsets_[uint64_t(hour) % 64];
    long off;
    if (slot.hour == hour) {
        off = slot.offset;
    } else {
        long a = offsetAt(hour * 3600), b = offsetAt(hour * 3600 + 3599);
        if (a == b) {
            slot.hour = hour;
            slot.offset = a;
            off = a;
        } else {
            off = offsetAt(t);
        }
    }
    Time local = t + off;
    int64_t day = floorDiv(local, 86400);
    unsigned secs = unsigned(local - day * 86400);
    int64_t y;
    unsigned m, d;
    civilFromDays(day, y, m, d);
    out += "epoch ";
    appendSigned(out, t);
    out += "; # ";
    out += kDays[((day % 7) + 11) % 7];
    out += ' ';
    out += kMonths[m - 1];
    out += ' ';
    put2(out, d);
    out += ' ';
    put2(out, secs / 3600);
    out += ':';
    put2(out, secs / 60 % 60);
    out += ':';
    put2(out, secs % 60);
    out += ' ';
    appendSigned(out, y);
}

void LeaseWriter::lease(std::string& out, const LeaseRecord& r) {
    // server/db.c write_lease: fixed order, each line only when set.
    out += "lease ";
    appendDotted(out, r.address);
    out += " {";
    const struct {
        const char* label;
        std::size_t len;
        Time value;
    } times[] = {{"\n  starts ", 10, r.starts}, {"\n  ends ", 8, r.ends},   {"\n  tstp ", 8, r.tstp},
                 {"\n  tsfp ", 8, r.tsfp},      {"\n  atsfp ", 9, r.atsfp}, {"\n  cltt ", 8, r.cltt}};
    for (const auto& f : times) {
        if (f.value <= 0) continue;
        out.append(f.label, f.len);
        time(out, f.value);
    }
    out += "\n  binding state ";
    out += toString(r.state);
    out += ';';
    if (r.next != r.state) {
        out += "\n  next binding state ";
        out += toString(r.next);
        out += ';';
    }
    if (r.rewind != r.state && validState(r.rewind)) {
        out += "\n  rewind binding state ";
        out += toString(r.rewind);
        out += ';';
    }
    if (r.reserved) out += "\n  reserved;";
    if (r.bootp) out += "\n  dynamic-bootp;";
    const common::LeaseExtras* x = r.extras.get();
    if (x && !x->billingClass.empty() && r.ends > options_.now) {
        if (x->billingSubclass) {
            out += "\n  billing subclass ";
            appendQuotedName(out, x->billingClass);
            appendClassData(out, *x->billingSubclass);
            out += ';';
        } else {
            out += "\n  billing class ";
            appendQuotedName(out, x->billingClass);
            out += ';';
        }
    }
    if (!r.hw.empty()) {
        out += "\n  hardware ";
        appendHardware(out, r.hw);
        out += ';';
    }
    if (!r.uid.empty()) {
        // format_lease_id (lease-id-format)
        if (options_.hexLeaseIds) {
            out += "\n  uid ";
            appendColonHex(out, r.uid);
            out += ';';
        } else {
            out += "\n  uid \"";
            appendQuoted(out, r.uid);
            out += "\";";
        }
    }
    if (x) {
        for (const auto& v : x->variables) {
            out += "\n  set ";
            out += v.name;
            out += " = ";
            switch (v.kind) {
            case common::LeaseVariable::Kind::Data:
                out += '"';
                appendQuoted(out, v.data);
                out += '"';
                break;
            case common::LeaseVariable::Kind::Number:
                out += '%';
                appendSigned(out, v.number);
                break;
            case common::LeaseVariable::Kind::Boolean: out += v.boolean ? "true" : "false"; break;
            }
            out += ';';
        }
        for (const auto& o : x->agentOptions) {
            out += "\n  option ";
            out += o.first;
            out += ' ';
            out += o.second;
            out += ';';
        }
    }
    if (!r.hostname.empty() && isDbPrintable(r.hostname)) {
        out += "\n  client-hostname \"";
        out += r.hostname;
        out += "\";";
    }
    if (x) {
        for (const auto& e : x->events) {
            if (e.body.empty()) continue;
            out += "\n  on ";
            out += e.events;
            out += " {";
            std::string_view body = e.body;
            while (!body.empty()) {
                std::size_t nl = body.find('\n');
                out += "\n    ";
                out.append(body.substr(0, nl));
                if (nl == std::string_view::npos) break;
                body.remove_prefix(nl + 1);
            }
            out += "\n  }";
        }
    }
    out += "\n}\n";
}

void LeaseWriter::failoverState(std::string& out, const FailoverPeerState& s) {
    // write_failover_state: a leading newline, `at` plus print_time's date.
    out += "\nfailover peer ";
    appendQuotedName(out, s.name);
    out += " state {\n  my state ";
    out += s.myState.empty() ? std::string_view("unknown-state") : std::string_view(s.myState);
    out += " at ";
    time(out, s.myStateTime);
    out += "\n  partner state ";
    out += s.partnerState.empty() ? std::string_view("unknown-state") : std::string_view(s.partnerState);
    out += " at ";
    time(out, s.partnerStateTime);
    if (s.mclt) {
        out += "\n  mclt ";
        appendUnsigned(out, *s.mclt);
        out += ';';
    }
    out += "\n}\n";
}

void LeaseWriter::host(std::string& out, const LeaseFileHost& h) {
    if (!h.text.empty()) {
        out += h.text;
        out += '\n';
        return;
    }
    // write_host
    out += "host ";
    out += h.name;
    out += " {";
    if (h.dynamic) out += "\n  dynamic;";
    if (h.deleted) {
        out += "\n  deleted;";
    } else {
        if (!h.hw.empty()) {
            out += "\n  hardware ";
            appendHardware(out, h.hw);
            out += ';';
        }
        if (!h.uid.empty()) {
            // Hosts keep ISC's older rule: raw text when printable, else colon-hex.
            out += "\n  uid ";
            if (isDbPrintable(h.uid)) {
                out += '"';
                out += h.uid;
                out += '"';
            } else {
                appendColonHex(out, h.uid);
            }
            out += ';';
        }
        if (!h.fixedAddresses.empty()) {
            out += "\n  fixed-address ";
            for (std::size_t i = 0; i < h.fixedAddresses.size(); ++i) {
                if (i) out += ',';
                out += h.fixedAddresses[i];
            }
            out += ';';
        }
        if (!h.group.empty()) {
            out += "\n  group ";
            appendQuotedName(out, h.group);
            out += ';';
        }
        for (const auto& s : h.statements) {
            out += "\n  ";
            out += s;
        }
    }
    out += "\n}\n";
}

void LeaseWriter::leaseClass(std::string& out, const LeaseFileClass& c) {
    if (!c.text.empty()) {
        out += c.text;
        out += "\n\n";
        return;
    }
    // write_named_billing_class
    if (c.subclass) {
        out += "subclass ";
        appendQuotedName(out, c.name);
        appendClassData(out, c.data);
        out += " {\n";
    } else {
        out += "class ";
        appendQuotedName(out, c.name);
        out += " {\n";
    }
    out += c.deleted ? "  deleted;\n" : "  dynamic;\n";
    if (c.leaseLimit) {
        out += "  lease limit ";
        appendUnsigned(out, *c.leaseLimit);
        out += ";\n";
    }
    for (const auto& s : c.statements) {
        out += "  ";
        out += s;
        out += '\n';
    }
    out += "}\n\n";
}

void LeaseWriter::group(std::string& out, const LeaseFileGroup& g) {
    if (!g.text.empty()) {
        out += g.text;
        out += '\n';
        return;
    }
    out += "group ";
    out += g.name;
    out += " {";
    if (g.dynamic) out += "\n  dynamic;";
    if (g.isStatic) out += "\n  static;";
    if (g.deleted) out += "\n  deleted;";
    out += "\n}\n";
}

void LeaseWriter::serverDuid(std::string& out, std::string_view duid) {
    if (options_.hexLeaseIds && !duid.empty()) {  // no hex digits would not read back
        out += "server-duid ";
        appendColonHex(out, duid);
        out += ";\n\n";
    } else {
        out += "server-duid \"";
        appendQuoted(out, duid);
        out += "\";\n\n";
    }
}

void LeaseWriter::file(std::string& out, const LeaseFileContents& c) {
    header(out);
    for (const auto& cl : c.classes) leaseClass(out, cl);
    for (const auto& g : c.groups) group(out, g);
    for (const auto& h : c.hosts)
        if (h.deleted) host(out, h);
    for (const auto& h : c.hosts)
        if (!h.deleted) host(out, h);
    for (const auto& s : c.failoverStates) failoverState(out, s);
    for (const auto& l : c.leases) lease(out, l);
    if (c.serverDuid) serverDuid(out, *c.serverDuid);
}

LeaseRecord writtenForm(const LeaseRecord& in, const LeaseWriterOptions& options) {
    LeaseRecord r = in;
    for (Time* t : {&r.starts, &r.ends, &r.tstp, &r.tsfp, &r.atsfp, &r.cltt}) {
        if (*t < 0) *t = 0;
        if (*t > kNever) *t = kNever;
    }
    BindingState state = shownState(in.state);
    r.next = in.next == in.state ? state : shownState(in.next);
    r.rewind = (in.rewind != in.state && validState(in.rewind)) ? in.rewind : state;
    r.state = state;
    if (r.tstp == 0) r.tstp = r.ends;  // the reader's default
    if (r.hw.empty()) r.hw = common::HwAddr{};
    if (!isDbPrintable(r.hostname)) r.hostname.clear();
    if (r.extras) {
        common::LeaseExtras& x = *r.extras;
        if (x.billingClass.empty() || r.ends <= options.now) {
            x.billingClass.clear();
            x.billingSubclass.reset();
        }
        std::vector<common::LeaseEvent> events;
        for (auto& e : x.events)
            if (!e.body.empty()) events.push_back(std::move(e));
        x.events = std::move(events);
    }
    return r;
}

}  // namespace tandem::conf
