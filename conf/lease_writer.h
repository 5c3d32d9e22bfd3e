// Formats dhcpd.leases records byte for byte as ISC dhcpd 4.4.3 writes them
// (server/db.c, common/print.c): the rewrite header, lease blocks with ISC's
// field order and omission rules, failover state blocks, host, group and class
// blocks, server-duid; dates in the default UTC form or `db-time-format local`,
// client identifiers octal-quoted or colon-hex (`lease-id-format`). It appends
// to a caller's std::string and caches date formatting, because a rewrite
// formats every lease of the server.
//
// Unlike ISC it never writes what it could not read back: a class name or
// subclass data with `"` or `\` in it is escaped or written as hex.
//
// It does no I/O and decides nothing about which records belong in a file or
// in which order (the lease file and the store do); it never writes `startup`
// for a failover state unless told to (ISC writes the saved state instead).
#ifndef TANDEM_CONF_LEASE_WRITER_H
#define TANDEM_CONF_LEASE_WRITER_H

#include <cstdint>
#include <string>
#include <string_view>

#include "common/lease_record.h"
#include "conf/config.h"
#include "conf/lease_reader.h"

namespace tandem::conf {

struct LeaseWriterOptions {
    bool hexLeaseIds = false;  ///< `lease-id-format hex;`: uid and server-duid as colon-hex, not octal-quoted
    bool localTime = false;    ///< `db-time-format local;`: `epoch N; # <local time>`
    /// `billing` lines are written only for leases whose `ends` is after this
    /// (ISC: a billed class is written while the lease is unexpired).
    common::Time now = 0;
};

class LeaseWriter {
public:
    explicit LeaseWriter(LeaseWriterOptions options = {}) : options_(options) {}

    const LeaseWriterOptions& options() const { return options_; }
    /// @brief Change `now` (for billing lines) between rewrites.
    void setNow(common::Time now) { options_.now = now; }

    /// @brief The header every rewrite starts with, naming `producer` (ours: producerName()).
    void header(std::string& out, std::string_view producer) const;
    void header(std::string& out) const;
    /// @brief One `lease A.B.C.D { ... }` block and its newline.
    void lease(std::string& out, const common::LeaseRecord& r);
    /// @brief An empty line, then `failover peer "NAME" state { ... }`; `mclt` only when set
    /// (ISC: only a secondary writes it). An empty state name is written `unknown-state`.
    void failoverState(std::string& out, const FailoverPeerState& s);
    /// @brief A host block: its text when it has one, else formatted from its fields.
    void host(std::string& out, const LeaseFileHost& h);
    /// @brief A class or subclass block and the blank line after it.
    void leaseClass(std::string& out, const LeaseFileClass& c);
    void group(std::string& out, const LeaseFileGroup& g);
    /// @brief `server-duid "...";` and a blank line.
    void serverDuid(std::string& out, std::string_view duid);
    /// @brief A date as ISC's print_time writes it, with its `;`: `W YYYY/MM/DD HH:MM:SS;`,
    /// `never;`, or `epoch N; # Day Mon DD HH:MM:SS YYYY`. Times before 1970 are written as 0.
    void time(std::string& out, common::Time t);

    /// @brief A whole file in ISC's rewrite order: header, classes, groups,
    /// deleted hosts, other hosts, failover states, leases, server-duid.
    void file(std::string& out, const LeaseFileContents& c);

private:
    void utcTime(std::string& out, common::Time t);
    void localTime(std::string& out, common::Time t);

    LeaseWriterOptions options_;
    // The "W YYYY/MM/DD " of the last day formatted: most dates in a file share a few days.
    int64_t cachedDay_ = INT64_MIN;
    char dayText_[32] = {};
    std::size_t dayLen_ = 0;
    // Local time: UTC offset per hour, checked at both ends of the hour.
    struct OffsetSlot {
        int64_t hour = INT64_MIN;
        long offset = 0;
    };
    OffsetSlot offsets_[64];
};

/// @brief "tandem-<version>": what our header says wrote the file.
std::string_view producerName();
/// @brief ISC's quotify_buf: printable ASCII as is, `"` and `\` escaped, other bytes `\ooo`.
void appendQuoted(std::string& out, std::string_view bytes);
/// @brief Two lower-case hex digits per byte, joined by ':'.
void appendColonHex(std::string& out, std::string_view bytes);
/// @brief ISC's db_printable: printable ASCII without `"` and `\`.
bool isDbPrintable(std::string_view s);

/// @brief The record that reading back what lease() writes yields: ISC's
/// omission rules applied (unprintable host names and expired billing dropped,
/// tstp defaulting to ends, unknown states written `abandoned`, ...).
common::LeaseRecord writtenForm(const common::LeaseRecord& r, const LeaseWriterOptions& options);

}  // namespace tandem::conf

#endif
