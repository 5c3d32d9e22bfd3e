// Reads a dhcpd.leases file (ISC dhcpd 4.4's or ours) into plain values: the
// last lease entry per address, the last failover state block per peer, and
// the OMAPI-written host, group and class blocks (parsed fields plus their
// exact text, so a rewrite can reproduce them), server-duid and
// authoring-byte-order. Problems become Diagnostics at file:line:col and are
// never fatal: a bad lease is dropped, a torn last record (a crash in the middle
// of an append) is reported and skipped, top-level garbage is skipped to the
// next `;` or `}`.
//
// Where it differs from ISC 4.4.3 (confpars.c), on purpose:
//  - a torn last record is skipped (ISC enters the fields it read);
//  - a malformed lease is dropped whole and the rest of its block skipped (ISC
//    may keep a half-read lease, and reads what follows an unknown directive
//    as top-level statements, one "Corrupt lease file" each);
//  - dates use the exact calendar (ISC's formula is off before 1969), a month
//    outside 1-12 (which ISC indexes out of bounds) or a date before 1970 is an
//    error;
//  - `set` variables keep the file's order (ISC prepends each, so its every
//    rewrite reverses them; the order means nothing);
//  - `hardware TYPE;` without bytes is no hardware address;
//  - `set x = 12;` is hex data (ISC refuses a bare number there).
//
// It is a hand-written scanner over the file held in memory, because a lease
// file is large (200,000 leases are about 60 MB) and read at every start; it
// does no per-token allocation and uses no iostreams. It does not use the
// dhcpd.conf grammar, knows nothing of subnets or pools (ISC's "no subnet"
// check belongs to whoever loads the leases into the store) and does not
// expire anything.
#ifndef TANDEM_CONF_LEASE_READER_H
#define TANDEM_CONF_LEASE_READER_H

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/diag.h"
#include "common/lease_record.h"
#include "conf/config.h"

namespace tandem::conf {

/// @brief `host NAME { ... }` from a lease file (OMAPI-created, or a deletion rubout).
struct LeaseFileHost {
    std::string name;
    bool dynamic = false;  ///< `dynamic;`: created through OMAPI
    bool deleted = false;  ///< `deleted;`: a rubout for a host of dhcpd.conf
    common::HwAddr hw;
    std::string uid;                          ///< client identifier bytes
    std::vector<std::string> fixedAddresses;  ///< as written: dotted quads or host names
    std::string group;                        ///< `group "NAME";`
    std::vector<std::string> statements;      ///< any other statement, as written (one each, trimmed)
    std::string text;  ///< the block exactly as in the file, from `host` to `}`; empty when built in code
    Location where;
};

/// @brief A dynamic `class "NAME" { ... }` or `subclass "SUPER" DATA { ... }` block.
struct LeaseFileClass {
    bool subclass = false;
    std::string name;  ///< the class, or a subclass's superclass
    std::string data;  ///< a subclass's data bytes
    bool dynamic = false, deleted = false;
    std::optional<uint32_t> leaseLimit;
    std::vector<std::string> statements;  ///< other statements (match if, ...), as written
    std::string text;                     ///< the block exactly as in the file; empty when built in code
    Location where;
};

/// @brief `group NAME { ... }` written through OMAPI.
struct LeaseFileGroup {
    std::string name;
    bool dynamic = false, isStatic = false, deleted = false;
    std::string text;  ///< the block exactly as in the file
    Location where;
};

/// @brief Everything a lease file holds, after "last one wins".
struct LeaseFileContents {
    /// One record per address: the last entry wins; kept at the place of the
    /// address's first entry (the order carries no meaning).
    std::vector<common::LeaseRecord> leases;
    std::size_t leaseEntries = 0;  ///< lease blocks accepted, superseded ones included
    std::size_t superseded = 0;    ///< entries replaced by a later one for the same address
    std::size_t dropped = 0;       ///< lease blocks dropped because of an error
    bool torn = false;             ///< the file ended inside a record, which was skipped
    std::vector<FailoverPeerState> failoverStates;  ///< the last block per peer
    std::vector<LeaseFileHost> hosts;               ///< the last block per host name
    std::vector<LeaseFileClass> classes;            ///< the last block per class / (superclass, data)
    std::vector<LeaseFileGroup> groups;             ///< the last block per group name
    std::optional<std::string> serverDuid;          ///< the DUID's bytes
    std::string authoringByteOrder;                 ///< "little-endian", "big-endian", or empty

    /// @brief The lease for an address (host byte order), or nullptr. Linear: for tests and tools.
    const common::LeaseRecord* findLease(uint32_t address) const;
};

struct LeaseReadOptions {
    /// "Now", for ISC's defaults: a lease without `binding state` is active when
    /// `ends` > now, and a failover state without `at` was entered now.
    common::Time now = 0;
    /// Called for every accepted lease entry in file order, superseded ones
    /// included, with the entry's text from `lease` to `}`.
    std::function<void(const common::LeaseRecord&, std::string_view text)> onLease;
};

/// @brief Read lease-file text. `fileName` names it in diagnostics.
/// Diagnostics do not register the source with the sink (a lease file can be
/// tens of megabytes); call sink.registerSource yourself to get quoted lines.
LeaseFileContents readLeases(std::string_view text, const std::string& fileName, common::DiagnosticSink& sink,
                             const LeaseReadOptions& options = {});

/// @brief Read a lease file in one go (mapped whole from the page cache; it must
/// not be truncated by someone else meanwhile). Returns nullopt and sets
/// `ioError` (strerror text) when the file cannot be read; syntax problems go to `sink`.
std::optional<LeaseFileContents> readLeaseFile(const std::string& path, common::DiagnosticSink& sink,
                                               const LeaseReadOptions& options, std::string& ioError);

/// @brief ISC's failover state names as lease files write them ("normal", "partner-down", ...).
bool isFailoverStateName(std::string_view name);

}  // namespace tandem::conf

#endif
