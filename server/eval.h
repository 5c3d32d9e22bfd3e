// Evaluation of dhcp-eval(5) expressions against one received DHCPv4 packet,
// with ISC dhcpd 4.4's semantics (common/tree.c): boolean, data and numeric
// expressions, "null" results, ISC's comparison rules, variables bound in the
// lease's scope. The Evaluator compiles every expression of a Config once
// (regular expressions included) into a compact node table, so that per-packet
// evaluation allocates nothing for the common cases (option tests, substring,
// comparisons): data results are views into the packet, the configuration or a
// reusable arena.
//
// It must not do I/O of any kind: no name resolution (a hostname is looked up
// only in a cache the caller provides and is "null" when absent, which is what
// ISC produces when its resolver fails), no files, no sockets. Logging goes
// through common/log.h only. It is not thread-safe: one Evaluator per thread.
//
// Usage (the lead's processor; statements.h and classify.h build on this):
//
//     server::Evaluator ev(config);                 // once per Config: compiles everything
//     server::Executor ex(ev);                      // once per Config: types option statements
//     server::Classifier cl(ev);                    // once per Config: subclass tables
//
//     server::EvalContext ctx;                      // per packet
//     ctx.packet = &pkt; ctx.rawPacket = datagram; ctx.now = clock.now();
//     ctx.host = matchedHost; ctx.lease = candidate; ctx.names = &nameCache;
//     server::ClassifyResult classes;               // (1) classify once
//     cl.classify(ctx, classes);
//     ctx.classes = &classes.classes;
//     server::ExecResult run;                       // (2) scopes, outermost first
//     for (const conf::Scope* s : {global, network, subnet, pool}) ex.runScope(*s, ctx, run);
//     for (const conf::Class* c : run.addedClasses) classes.add(*c);   // `add "C"`
//     for (const conf::Scope* s : classes.scopesInExecutionOrder(pool)) ex.runScope(*s, ctx, run);
//     if (host) ex.runScope(*host->scope, ctx, run);
//     for (const server::OptionAction& a : run.options)                // apply in order
//         if (auto bytes = ex.value(a, ctx)) { /* supersede/default/append/prepend */ }
//     ctx.bindings = &run.bindings;                 // (3) values on demand, seeing `set`s
//     auto t = ev.evalParameter(*scope.findParam("default-lease-time"), ctx);
//     auto o = ev.evalOption(someOptionSetting, ctx);
#ifndef TANDEM_SERVER_EVAL_H
#define TANDEM_SERVER_EVAL_H

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/dhcp_packet.h"
#include "common/lease_record.h"
#include "common/option_value.h"
#include "conf/config.h"

namespace tandem::server {

/// @brief One class a packet belongs to (see classify.h for how it is found).
struct ClassMatch {
    const conf::Class* cls = nullptr;         ///< the declared class; for a subclass, its superclass
    const conf::Subclass* subclass = nullptr; ///< the declared subclass that matched, if any
    std::string spawnedData;                  ///< the value of a subclass made by `spawn with`
    bool spawned = false;
    bool spawnedNew = false;                  ///< this packet created it (first time the value was seen)

    /// @brief The scope whose statements and options apply: the subclass's, else the class's.
    const conf::Scope* scope() const;
    /// @brief The subclass value (declared or spawned), empty for a plain class.
    std::string_view subclassData() const;
    bool isSubclass() const { return subclass != nullptr || spawned; }
};

/// @brief The lease's binding scope: the variables `set`, `define` and `unset` act on.
/// Names compare case-insensitively, as ISC's find_binding does.
struct Bindings {
    std::vector<common::LeaseVariable> vars;

    const common::LeaseVariable* find(std::string_view name) const;
    /// @brief Bind or rebind (keeps the position of an existing binding).
    void set(common::LeaseVariable v);
    /// @brief Remove a binding; false when there was none.
    bool unset(std::string_view name);
    static Bindings fromLease(const common::LeaseRecord* lease);
};

/// @brief What `config-option NAME` reads: the options the caller has configured for
/// the reply so far. ISC passes none while classifying, so neither need the caller.
class ConfigOptionSource {
public:
    virtual ~ConfigOptionSource() = default;
    /// @brief The option's value, or nothing when it is not configured (or is null).
    virtual std::optional<std::string_view> configOption(std::string_view space, uint32_t code) const = 0;
};

/// @brief A cache of hostname -> IPv4 address (host byte order) filled outside packet
/// handling. Must never block; a miss makes the value null, as a failed ISC lookup does.
class NameCache {
public:
    virtual ~NameCache() = default;
    virtual std::optional<uint32_t> lookup(std::string_view name) const = 0;
};

/// @brief Everything an expression may look at. All pointers may be null.
struct EvalContext {
    const common::Packet4* packet = nullptr;
    std::string_view rawPacket;  ///< the datagram as received, for packet(); its fixed header is rebuilt when empty
    const common::LeaseRecord* lease = nullptr;  ///< leased-address, lease-time, hardware fallback, variables
    bool staticLease = false;                    ///< `static`: the lease comes from a host's fixed-address
    const conf::Host* host = nullptr;            ///< the matched host: `known`, `host-decl-name`
    const std::vector<ClassMatch>* classes = nullptr;  ///< classes matched so far (`check "default"`)
    common::Time now = 0;
    std::string_view interface;  ///< receiving interface; no ISC DHCPv4 expression reads it, logs may
    const Bindings* bindings = nullptr;  ///< variables; when null, those of `lease`
    const ConfigOptionSource* configOptions = nullptr;
    const NameCache* names = nullptr;
};

/// @brief A value of any of ISC's binding types (what `set` stores, what `=` compares).
struct Value {
    enum class Kind { Null, Boolean, Number, Data };
    Kind kind = Kind::Null;
    bool boolean = false;
    uint64_t number = 0;  ///< ISC's unsigned long: arithmetic wraps modulo 2^64
    std::string data;
    bool isNull() const { return kind == Kind::Null; }
};

struct EvaluatorOptions {
    /// Longer intermediate data makes the expression null: a configuration cannot
    /// make a packet cost unbounded memory (nested binary-to-ascii grows 3x a level).
    std::size_t maxDataLength = 65536;
    /// Nesting deeper than this evaluates to null (conf already refuses deeper trees).
    int maxDepth = 256;
    /// What gethostname() returns; read once from the system when empty.
    std::string hostname;
};

class Evaluator {
public:
    /// @brief Compile every expression and option statement reachable from `config`.
    /// @throw nothing: a part that cannot be compiled evaluates to null (and is logged once).
    explicit Evaluator(conf::ConfigPtr config, EvaluatorOptions options = {});
    ~Evaluator();
    Evaluator(const Evaluator&) = delete;
    Evaluator& operator=(const Evaluator&) = delete;

    const conf::Config& config() const { return *config_; }
    const conf::ConfigPtr& configPtr() const { return config_; }

    /// @brief A boolean expression; nothing when it is null (an `if` treats that as false).
    std::optional<bool> evalBoolean(const conf::Expr& e, const EvalContext& ctx) const;
    /// @brief A data expression; nothing when it is null. A numeric one is encoded as 4 bytes.
    std::optional<std::vector<uint8_t>> evalData(const conf::Expr& e, const EvalContext& ctx) const;
    /// @brief The same into a caller's buffer (no allocation once it is large enough); false when null.
    bool evalDataInto(const conf::Expr& e, const EvalContext& ctx, std::string& out) const;
    /// @brief A numeric expression; nothing when it is null.
    std::optional<uint64_t> evalNumeric(const conf::Expr& e, const EvalContext& ctx) const;
    /// @brief Whatever type the expression has (variables take their binding's type).
    Value evalAny(const conf::Expr& e, const EvalContext& ctx) const;

    /// @brief `option NAME = EXPR;`: the value as the option carries it, a numeric result
    /// encoded with the width of the option's first integer field. Nothing when null.
    std::optional<std::vector<uint8_t>> evalOptionExpr(const common::OptionDef& def, const conf::Expr& e,
                                                       const EvalContext& ctx) const;
    /// @brief An OptionSetting's value: its constant (hostnames resolved through ctx.names) or its expression.
    std::optional<std::vector<uint8_t>> evalOption(const conf::OptionSetting& o, const EvalContext& ctx) const;
    /// @brief A Parameter's value (its constant or `NAME = EXPR`), typed by its server-space definition.
    std::optional<std::vector<uint8_t>> evalParameter(const conf::Parameter& p, const EvalContext& ctx) const;
    /// @brief A typed constant with its hostname fields filled from ctx.names; nothing if one is not cached.
    std::optional<std::vector<uint8_t>> resolveValue(const common::TypedValue& v, const EvalContext& ctx) const;

    /// @brief Data bytes of `option NAME` as the packet carries them (dhcp, agent and other
    /// encapsulated spaces; fqdn's virtual sub-options), or nothing.
    std::optional<std::string_view> packetOption(const common::Packet4& p, std::string_view space, uint32_t code) const;

    // ---- for statements.cc and classify.cc
    struct Impl;
    Impl& impl() const { return *impl_; }

private:
    conf::ConfigPtr config_;
    std::unique_ptr<Impl> impl_;
};

/// @brief dhcp-eval(5)'s "known": a host declaration matched the client.
inline bool isKnown(const EvalContext& ctx) { return ctx.host != nullptr; }

}  // namespace tandem::server

#endif
