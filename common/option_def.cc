#include "common/option_def.h"

#include <strings.h>

#include <cctype>

namespace tandem::common {

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

void OptionSpace::define(OptionDef def) {
    def.space = name_;
    // ISC lets a definition replace a built-in one, by name or by code; drop both matches.
    std::vector<OptionDef> kept;
    kept.reserve(defs_.size() + 1);
    for (auto& d : defs_)
        if (!iequal(d.name, def.name) && d.code != def.code) kept.push_back(std::move(d));
    kept.push_back(std::move(def));
    defs_ = std::move(kept);
}

const OptionDef* OptionSpace::find(std::string_view name) const {
    for (const auto& d : defs_)
        if (iequal(d.name, name)) return &d;
    return nullptr;
}

const OptionDef* OptionSpace::findByCode(uint32_t code) const {
    for (const auto& d : defs_)
        if (d.code == code) return &d;
    return nullptr;
}

std::optional<int> Enumeration::valueOf(std::string_view word) const {
    for (const auto& [n, v] : values)
        if (iequal(n, word)) return v;
    return std::nullopt;
}

const std::string* Enumeration::nameOf(int value) const {
    for (const auto& [n, v] : values)
        if (v == value) return &n;
    return nullptr;
}

namespace {

struct Row {
    const char* name;
    uint32_t code;
    const char* format;
};

// draft / RFC 2132 and successors, named and typed as ISC 4.4's common/tables.c does.
constexpr Row kDhcp[] = {
    {"subnet-mask", 1, "I"}, {"time-offset", 2, "l"}, {"routers", 3, "IA"}, {"time-servers", 4, "IA"},
    {"ien116-name-servers", 5, "IA"}, {"domain-name-servers", 6, "IA"}, {"log-servers", 7, "IA"},
    {"cookie-servers", 8, "IA"}, {"lpr-servers", 9, "IA"}, {"impress-servers", 10, "IA"},
    {"resource-location-servers", 11, "IA"}, {"host-name", 12, "t"}, {"boot-size", 13, "S"},
    {"merit-dump", 14, "t"}, {"domain-name", 15, "t"}, {"swap-server", 16, "I"}, {"root-path", 17, "t"},
    {"extensions-path", 18, "t"}, {"ip-forwarding", 19, "f"}, {"non-local-source-routing", 20, "f"},
    {"policy-filter", 21, "IIA"}, {"max-dgram-reassembly", 22, "S"}, {"default-ip-ttl", 23, "B"},
    {"path-mtu-aging-timeout", 24, "L"}, {"path-mtu-plateau-table", 25, "SA"}, {"interface-mtu", 26, "S"},
    {"all-subnets-local", 27, "f"}, {"broadcast-address", 28, "I"}, {"perform-mask-discovery", 29, "f"},
    {"mask-supplier", 30, "f"}, {"router-discovery", 31, "f"}, {"router-solicitation-address", 32, "I"},
    {"static-routes", 33, "IIA"}, {"trailer-encapsulation", 34, "f"}, {"arp-cache-timeout", 35, "L"},
    {"ieee802-3-encapsulation", 36, "f"}, {"default-tcp-ttl", 37, "B"}, {"tcp-keepalive-interval", 38, "L"},
    {"tcp-keepalive-garbage", 39, "f"}, {"nis-domain", 40, "t"}, {"nis-servers", 41, "IA"},
    {"ntp-servers", 42, "IA"}, {"vendor-encapsulated-options", 43, "E."}, {"netbios-name-servers", 44, "IA"},
    {"netbios-dd-server", 45, "IA"}, {"netbios-node-type", 46, "B"}, {"netbios-scope", 47, "t"},
    {"font-servers", 48, "IA"}, {"x-display-manager", 49, "IA"}, {"dhcp-requested-address", 50, "I"},
    {"dhcp-lease-time", 51, "L"}, {"dhcp-option-overload", 52, "B"}, {"dhcp-message-type", 53, "B"},
    {"dhcp-server-identifier", 54, "I"}, {"dhcp-parameter-request-list", 55, "BA"}, {"dhcp-message", 56, "t"},
    {"dhcp-max-message-size", 57, "S"}, {"dhcp-renewal-time", 58, "L"}, {"dhcp-rebinding-time", 59, "L"},
    {"vendor-class-identifier", 60, "X"}, {"dhcp-client-identifier", 61, "X"}, {"nwip-domain", 62, "t"},
    {"nwip-suboptions", 63, "Enwip."}, {"nisplus-domain", 64, "t"}, {"nisplus-servers", 65, "IA"},
    {"tftp-server-name", 66, "t"}, {"bootfile-name", 67, "t"}, {"mobile-ip-home-agent", 68, "IA"},
    {"smtp-server", 69, "IA"}, {"pop-server", 70, "IA"}, {"nntp-server", 71, "IA"}, {"www-server", 72, "IA"},
    {"finger-server", 73, "IA"}, {"irc-server", 74, "IA"}, {"streettalk-server", 75, "IA"},
    {"streettalk-directory-assistance-server", 76, "IA"}, {"user-class", 77, "t"},
    {"slp-directory-agent", 78, "fIa"}, {"slp-service-scope", 79, "fto"}, {"fqdn", 81, "Efqdn."},
    {"relay-agent-information", 82, "Eagent."}, {"nds-servers", 85, "IA"}, {"nds-tree-name", 86, "t"},
    {"nds-context", 87, "t"}, {"bcms-controller-names", 88, "D"}, {"bcms-controller-address", 89, "Ia"},
    {"client-last-transaction-time", 91, "L"}, {"associated-ip", 92, "Ia"}, {"pxe-system-type", 93, "Sa"},
    {"pxe-interface-id", 94, "BBB"}, {"pxe-client-id", 97, "BX"}, {"uap-servers", 98, "t"},
    {"geoconf-civic", 99, "X"}, {"pcode", 100, "t"}, {"tcode", 101, "t"}, {"v6-only-preferred", 108, "L"},
    {"netinfo-server-address", 112, "Ia"}, {"netinfo-server-tag", 113, "t"}, {"default-url", 114, "t"},
    {"auto-config", 116, "B"}, {"name-service-search", 117, "Sa"}, {"subnet-selection", 118, "I"},
    {"domain-search", 119, "Dc"}, {"vivco", 124, "Evendor-class."}, {"vivso", 125, "Evendor."},
    {"pana-agent", 136, "Ia"}, {"v4-lost", 137, "d"}, {"capwap-ac-v4", 138, "Ia"},
    {"sip-ua-cs-domains", 141, "Dc"}, {"ipv4-address-andsf", 142, "IA"}, {"rdnss-selection", 146, "BIID"},
    {"tftp-server-address", 150, "Ia"}, {"v4-portparams", 159, "BBS"}, {"v4-captive-portal", 160, "t"},
    {"loader-configfile", 209, "t"}, {"loader-pathprefix", 210, "t"}, {"loader-reboottime", 211, "L"},
    {"option-6rd", 212, "BB6Ia"}, {"v4-access-domain", 213, "d"},
};

// RFC 3046 and successors.
constexpr Row kAgent[] = {
    {"circuit-id", 1, "X"}, {"remote-id", 2, "X"}, {"agent-id", 3, "I"}, {"DOCSIS-device-class", 4, "L"},
    {"link-selection", 5, "I"}, {"relay-port", 19, "Z"},
};

// RFC 4702 option 81, as ISC splits it into fields.
constexpr Row kFqdn[] = {
    {"no-client-update", 1, "f"}, {"server-update", 2, "f"}, {"encoded", 3, "f"}, {"rcode1", 4, "B"},
    {"rcode2", 5, "B"}, {"hostname", 6, "t"}, {"domainname", 7, "t"}, {"fqdn", 8, "t"},
};

// RFC 2242.
constexpr Row kNwip[] = {
    {"nsq-broadcast", 5, "f"}, {"preferred-dss", 6, "IA"}, {"nearest-nwip-server", 7, "IA"},
    {"autoretries", 8, "B"}, {"autoretry-secs", 9, "B"}, {"nwip-1-1", 10, "f"}, {"primary-dss", 11, "I"},
};

// ISC's "server" space: the parameters of dhcpd.conf. These codes stay inside
// the server (they never go on the wire or into a lease file).
constexpr Row kServer[] = {
    {"default-lease-time", 1, "T"}, {"max-lease-time", 2, "T"}, {"min-lease-time", 3, "T"},
    {"dynamic-bootp-lease-cutoff", 4, "T"}, {"dynamic-bootp-lease-length", 5, "L"},
    {"boot-unknown-clients", 6, "f"}, {"dynamic-bootp", 7, "f"}, {"allow-bootp", 8, "f"},
    {"allow-booting", 9, "f"}, {"one-lease-per-client", 10, "f"}, {"get-lease-hostnames", 11, "f"},
    {"use-host-decl-names", 12, "f"}, {"use-lease-addr-for-default-route", 13, "f"}, {"min-secs", 14, "B"},
    {"filename", 15, "t"}, {"server-name", 16, "t"}, {"next-server", 17, "I"}, {"authoritative", 18, "f"},
    {"vendor-option-space", 19, "U"}, {"always-reply-rfc1048", 20, "f"}, {"site-option-space", 21, "X"},
    {"always-broadcast", 22, "f"}, {"ddns-domainname", 23, "t"}, {"ddns-hostname", 24, "t"},
    {"ddns-rev-domainname", 25, "t"}, {"lease-file-name", 26, "t"}, {"pid-file-name", 27, "t"},
    {"duplicates", 28, "f"}, {"declines", 29, "f"}, {"ddns-updates", 30, "f"}, {"omapi-port", 31, "S"},
    {"local-port", 32, "S"}, {"limited-broadcast-address", 33, "I"}, {"remote-port", 34, "S"},
    {"local-address", 35, "I"}, {"omapi-key", 36, "d"}, {"stash-agent-options", 37, "f"},
    {"ddns-ttl", 38, "T"}, {"ddns-update-style", 39, "Nddns-styles."}, {"client-updates", 40, "f"},
    {"update-optimization", 41, "f"}, {"ping-check", 42, "f"}, {"update-static-leases", 43, "f"},
    {"log-facility", 44, "Nsyslog-facilities."}, {"do-forward-updates", 45, "f"}, {"ping-timeout", 46, "T"},
    {"infinite-is-reserved", 47, "f"}, {"update-conflict-detection", 48, "f"}, {"leasequery", 49, "f"},
    {"adaptive-lease-time-threshold", 50, "B"}, {"do-reverse-updates", 51, "f"}, {"fqdn-reply", 52, "f"},
    {"preferred-lifetime", 53, "T"}, {"dhcpv6-lease-file-name", 54, "t"}, {"dhcpv6-pid-file-name", 55, "t"},
    {"limit-addrs-per-ia", 56, "L"}, {"limit-prefs-per-ia", 57, "L"}, {"delayed-ack", 58, "S"},
    {"max-ack-delay", 59, "L"}, {"dhcpv6-set-tee-times", 60, "f"}, {"ddns-local-address4", 61, "I"},
    {"ddns-local-address6", 62, "6"}, {"ignore-client-uids", 63, "f"}, {"log-threshold-low", 64, "B"},
    {"log-threshold-high", 65, "B"}, {"echo-client-id", 66, "f"}, {"server-id-check", 67, "f"},
    {"prefix-length-mode", 68, "Nprefix_length_modes."}, {"dhcp-cache-threshold", 69, "B"},
    {"dont-use-fsync", 70, "f"}, {"ddns-dual-stack-mixed-mode", 71, "f"}, {"ddns-guard-id-must-match", 72, "f"},
    {"ddns-other-guard-is-dynamic", 73, "f"}, {"release-on-roam", 74, "f"}, {"local-address6", 75, "6"},
    {"bind-local-address6", 76, "f"}, {"ping-cltt-secs", 77, "T"}, {"ping-timeout-ms", 78, "T"},
    {"abandon-lease-time", 79, "T"}, {"use-eui-64", 80, "f"}, {"persist-eui-64-leases", 81, "f"},
    {"db-time-format", 82, "Ndb-time-format."}, {"lease-id-format", 83, "Nkey-formats."},
    {"check-secs-byte-order", 84, "f"},
};

const std::vector<Enumeration>& enumerations() {
    static const std::vector<Enumeration> kEnums = {
        {"ddns-styles", {{"none", 0}, {"ad-hoc", 1}, {"interim", 2}, {"standard", 3}}},
        {"db-time-format", {{"default", 0}, {"local", 1}}},
        {"key-formats", {{"octal", 0}, {"hex", 1}}},
        {"prefix_length_modes", {{"ignore", 0}, {"prefer", 1}, {"exact", 2}, {"minimum", 3}, {"maximum", 4}}},
        // syslog(3) facility codes (facility << 3), as <syslog.h> has them on Linux.
        {"syslog-facilities",
         {{"kern", 0},       {"user", 8},        {"mail", 16},      {"daemon", 24},   {"auth", 32},
          {"syslog", 40},    {"lpr", 48},        {"news", 56},      {"uucp", 64},     {"cron", 72},
          {"authpriv", 80},  {"ftp", 88},        {"local0", 128},   {"local1", 136},  {"local2", 144},
          {"local3", 152},   {"local4", 160},    {"local5", 168},   {"local6", 176},  {"local7", 184}}},
    };
    return kEnums;
}

template <std::size_t N>
void load(OptionSpace& space, const Row (&rows)[N]) {
    for (const auto& r : rows) space.define({space.name(), r.name, r.code, r.format});
}

}  // namespace

OptionRegistry OptionRegistry::builtin() {
    OptionRegistry r;
    load(r.addSpace("dhcp", 1, 1), kDhcp);
    load(r.addSpace("agent", 1, 1), kAgent);
    load(r.addSpace("fqdn", 1, 1), kFqdn);
    load(r.addSpace("nwip", 1, 1), kNwip);
    load(r.addSpace("server", 1, 1), kServer);
    r.addSpace("vendor-class", 4, 1);  // RFC 3925 option 124: enterprise numbers
    r.addSpace("vendor", 4, 1);        // RFC 3925 option 125
    return r;
}

OptionSpace* OptionRegistry::space(std::string_view name) {
    for (auto& s : spaces_)
        if (iequal(s.name(), name)) return &s;
    return nullptr;
}

const OptionSpace* OptionRegistry::space(std::string_view name) const {
    for (const auto& s : spaces_)
        if (iequal(s.name(), name)) return &s;
    return nullptr;
}

OptionSpace& OptionRegistry::addSpace(const std::string& name, unsigned codeWidth, unsigned lengthWidth) {
    if (OptionSpace* s = space(name)) return *s;
    spaces_.emplace_back(name, codeWidth, lengthWidth);
    return spaces_.back();
}

const OptionDef* OptionRegistry::find(std::string_view sp, std::string_view name) const {
    const OptionSpace* s = space(sp);
    return s ? s->find(name) : nullptr;
}

const OptionDef* OptionRegistry::findByCode(std::string_view sp, uint32_t code) const {
    const OptionSpace* s = space(sp);
    return s ? s->findByCode(code) : nullptr;
}

const Enumeration* OptionRegistry::enumeration(std::string_view name) {
    for (const auto& e : enumerations())
        if (e.name == name) return &e;
    return nullptr;
}

std::optional<std::string> OptionRegistry::checkFormat(std::string_view f) {
    if (f.empty()) return std::string("empty option format");
    for (std::size_t i = 0; i < f.size(); ++i) {
        char c = f[i];
        switch (c) {
            case 'I': case '6': case 'l': case 'L': case 's': case 'S': case 'b': case 'B': case 't':
            case 'X': case 'd': case 'f': case 'T': case 'U': case 'Z':
                break;
            case 'D':
                if (i + 1 < f.size() && f[i + 1] == 'c') ++i;
                break;
            case 'E':
            case 'N': {
                auto dot = f.find('.', i + 1);
                if (dot == std::string_view::npos) return std::string("format letter ") + c + " lacks its name";
                i = dot;
                break;
            }
            case 'A':
                if (i == 0) return std::string("format starts with A");
                if (i + 1 != f.size()) return std::string("format letter A must come last");
                break;
            case 'a':
            case 'o':
                // ISC accepts these before further fields too ({ array of X, text }).
                if (i == 0) return std::string("format starts with ") + c;
                break;
            default:
                return std::string("unknown format letter ") + c;
        }
    }
    return std::nullopt;
}

}  // namespace tandem::common
