// The configuration model: what dhcpd.conf says, typed and checked, immutable
// once built. Every object keeps the Location of its declaration so that the
// server, the failover engine and `tandemd -t -v` can point back at the text.
// Nothing here parses text or talks to the network.
#ifndef TANDEM_CONF_CONFIG_H
#define TANDEM_CONF_CONFIG_H

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/diag.h"
#include "common/option_def.h"
#include "common/option_value.h"
#include "conf/ast.h"

namespace tandem::conf {

using common::Location;

/// @brief An IPv4 address in host byte order, or a hostname kept for later lookup
/// (ISC resolves names when it first needs them; `-t` must work offline).
struct AddressRef {
    uint32_t addr = 0;
    std::string hostname;  ///< set when written as a name
    Location where;
    bool isName() const { return !hostname.empty(); }
};

/// @brief `option NAME value;` (or supersede/default/prepend/append/send) in some scope.
struct OptionSetting {
    std::string verb;   ///< option, supersede, default, prepend, append, send
    std::string space;  ///< "dhcp" unless qualified
    std::string name;
    uint32_t code = 0;
    common::TypedValue value;  ///< when given as a constant
    ExprPtr expr;              ///< when given as `= expression`
    Location where;
};

/// @brief A server parameter (ISC's "server" option space): default-lease-time, filename, ...
struct Parameter {
    std::string name;
    uint32_t code = 0;
    common::TypedValue value;
    ExprPtr expr;
    Location where;
};

/// @brief What a scope sets. Lookups walk outward through `parent`.
struct Scope {
    std::shared_ptr<const Scope> parent;
    std::string kind;                          ///< global, group, shared-network, subnet, pool, host, class
    std::vector<OptionSetting> options;
    std::map<std::string, Parameter> params;  ///< by lower-case name; a later one replaces an earlier one
    StmtList statements;  ///< executable statements (if, switch, set, log, execute, ...) kept for evaluation
    Location where;

    /// @brief The parameter as seen from this scope (innermost wins), or nullptr.
    const Parameter* findParam(const std::string& name) const;
};
using ScopePtr = std::shared_ptr<Scope>;

/// @brief allow/deny in a pool (ISC "permit list").
struct Permit {
    enum class Kind { KnownClients, UnknownClients, MembersOf, DynamicBootpClients,
                      AuthenticatedClients, UnauthenticatedClients, AllClients, After };
    Kind kind = Kind::AllClients;
    bool allow = true;
    std::string className;  ///< MembersOf
    int64_t after = 0;      ///< After: seconds since the epoch
    Location where;
};

struct Range {
    uint32_t low = 0, high = 0;
    bool dynamicBootp = false;
    Location where;
};

struct Pool {
    ScopePtr scope;
    std::vector<Range> ranges;
    std::vector<Permit> permits;
    std::string failoverPeer;  ///< empty when the pool has none
    bool implicit = false;     ///< made for ranges written directly in a subnet
    Location where;
};

struct Subnet {
    uint32_t number = 0, netmask = 0;
    std::string interface;
    ScopePtr scope;
    Location where;
};

struct SharedNetwork {
    std::string name;
    bool implicit = false;  ///< a subnet outside any shared-network forms its own
    std::string interface;
    ScopePtr scope;
    std::vector<Subnet> subnets;
    std::vector<Pool> pools;
    Location where;
};

struct Host {
    std::string name;
    std::optional<uint8_t> htype;
    std::vector<uint8_t> hwaddr;
    std::vector<uint8_t> clientId;                 ///< from option dhcp-client-identifier
    std::string hostIdOption;                      ///< host-identifier option NAME
    std::vector<uint8_t> hostIdValue;
    std::vector<AddressRef> fixedAddresses;
    ScopePtr scope;
    Location where;
};

struct Subclass {
    std::vector<uint8_t> data;
    ScopePtr scope;  ///< null when written without a block
    Location where;
};

struct Class {
    std::string name;
    ExprPtr matchIf;    ///< match if BOOLEAN
    ExprPtr match;      ///< match DATA (subclasses are looked up by its value)
    ExprPtr spawnWith;  ///< spawn with DATA
    std::optional<uint32_t> leaseLimit;
    ScopePtr scope;
    std::vector<Subclass> subclasses;
    Location where;
};

/// @brief A `failover peer "NAME" { ... }` declaration, with ISC 4.4's defaults.
/// @brief One Tandem-only TLS statement of a peer block: its value and where it was written.
struct TlsSetting {
    std::string value;  ///< a path, or the peer name; "" when not given
    Location where;     ///< of the value
    bool given() const { return !value.empty(); }
};

/// @brief TLS on the failover link (Tandem only; ISC dhcpd rejects these statements and
/// never does TLS). Certificate, key and CA come together or not at all.
struct FailoverTls {
    TlsSetting certificate;  ///< `tls-certificate "FILE";` our certificate (PEM)
    TlsSetting key;          ///< `tls-key "FILE";` its private key (PEM)
    TlsSetting ca;           ///< `tls-ca "FILE";` the CA the peer's certificate must chain to
    TlsSetting peerName;     ///< `tls-peer-name "NAME";` optional: the peer certificate's DNS name
    bool enabled() const { return certificate.given() && key.given() && ca.given(); }
};

struct FailoverPeer {
    enum class Role { Primary, Secondary };
    std::string name;
    Role role = Role::Primary;
    bool roleGiven = false;
    AddressRef address;             ///< local: listen here
    uint16_t port = 647;
    AddressRef peerAddress;
    uint16_t peerPort = 647;
    uint32_t maxResponseDelay = 20;
    uint32_t peerMaxResponseDelay = 0;  ///< 0 = not given
    uint32_t maxUnackedUpdates = 100;
    uint32_t mclt = 0;
    bool mcltGiven = false;
    std::optional<uint32_t> split;
    std::vector<uint8_t> hba;  ///< 32 bytes when given
    uint32_t loadBalanceMaxSeconds = 0;
    uint32_t autoPartnerDown = 0;
    uint32_t maxLeaseMisbalance = 15;
    uint32_t maxLeaseOwnership = 10;
    uint32_t minBalance = 60;
    uint32_t maxBalance = 3600;
    FailoverTls tls;  ///< not enabled(): plain TCP, as ISC
    Location where;
};

/// @brief `failover peer "NAME" state { ... }`: the form lease files use, legal in dhcpd.conf too.
struct FailoverPeerState {
    std::string name;
    std::string myState, partnerState;
    int64_t myStateTime = 0, partnerStateTime = 0;
    std::optional<uint32_t> mclt;
    Location where;
};

/// @brief A `group [NAME] { ... }`: only a scope, kept so its parameters can be shown.
struct Group {
    std::string name;
    ScopePtr scope;
    Location where;
};

struct Key {
    std::string name;
    std::string algorithm;
    std::string secret;
    Location where;
};

/// @brief `metrics-listen ADDRESS [port N];` (Tandem only, top level of the server's own
/// file): where the Prometheus endpoint listens. ISC dhcpd rejects the statement.
struct MetricsListen {
    uint32_t address = 0;  ///< IPv4, host byte order
    uint16_t port = 9167;
    Location where;        ///< of the statement
};

/// @brief A feature that is read but not acted on yet; `-t` and start-up warn about each.
struct Unsupported {
    std::string what;
    Location where;
};

class Config {
public:
    common::OptionRegistry options;  ///< ISC's built-in definitions plus this file's
    ScopePtr global;
    std::vector<SharedNetwork> networks;
    std::vector<Host> hosts;
    std::vector<Class> classes;
    std::vector<Group> groups;
    std::vector<FailoverPeer> failoverPeers;
    std::vector<FailoverPeerState> failoverStates;
    std::vector<Key> keys;
    std::vector<Unsupported> unsupported;
    std::optional<MetricsListen> metricsListen;  ///< none: no metrics endpoint (the default)
    std::vector<std::string> files;  ///< every file read, the main one first

    const FailoverPeer* findFailoverPeer(const std::string& name) const;
    const Class* findClass(const std::string& name) const;
};

using ConfigPtr = std::shared_ptr<const Config>;

/// @brief Check the files of every failover peer with TLS: readable, PEM of the right
/// kind, key matching certificate. Problems go to `sink` at the statement's value.
/// Unlike the rest of the model this reads files, so loadConfig (and with it `-t`)
/// calls it, and loadConfigText does not. Implemented in conf/failover.cc.
void checkFailoverTlsFiles(const Config& config, common::DiagnosticSink& sink);

}  // namespace tandem::conf

#endif
