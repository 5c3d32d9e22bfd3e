// Client classification as ISC dhcpd 4.4 does it (server/class.c,
// check_collection): every class in declaration order; a class with `match if`
// is a member when the expression is true; a class with `match DATA` (or `match
// if` and `match DATA` together) puts the packet in the subclass declared with
// that data; a class with `spawn with DATA` creates that subclass when it is new.
// Also the lease-limit billing decision of ISC's ack_lease, from lease counts
// the caller supplies.
//
// It must not keep per-client state without a bound: spawned subclasses are
// remembered per class up to ClassifierOptions::maxSpawnedPerClass values (a
// hostile client can make a value per packet); past that a packet is still
// classified into its subclass, which is simply not remembered (membership and
// billing depend only on the class and the value, so nothing else changes).
// No I/O except rate-limited logging.
//
// There are no implicit classes to add: ISC 4.4's `vendor-class NAME` and
// `user-class NAME` declarations are subclasses of the class called NAME (conf
// models them so), and known/unknown clients are pool permits, not classes.
//
// Usage: see server/eval.h.
#ifndef TANDEM_SERVER_CLASSIFY_H
#define TANDEM_SERVER_CLASSIFY_H

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/log.h"
#include "server/eval.h"

namespace tandem::server {

struct ClassifierOptions {
    /// ISC's PACKET_MAX_CLASSES: further matches are dropped ("too many classes match").
    std::size_t maxClassesPerPacket = 5;
    /// Spawned subclass values remembered per class (memory bound against hostile clients).
    std::size_t maxSpawnedPerClass = 4096;
};

struct ClassifyResult {
    std::vector<ClassMatch> classes;  ///< in ISC's order: declaration order of the classes
    std::size_t dropped = 0;          ///< matches refused beyond maxClassesPerPacket

    /// @brief `allow members of "NAME"`: the class itself or a subclass of it (case-insensitive).
    bool memberOf(std::string_view className) const;
    /// @brief Add a class as `add "C"` does (ISC classify()); false when full or already there.
    bool add(const conf::Class& c, std::size_t maxClasses = ClassifierOptions{}.maxClassesPerPacket);
    /// @brief The class scopes in the order ISC's ack_lease executes them: last matched
    /// first, so that the first matched class's statements run last and win. Each entry
    /// is expanded to its chain of scopes below `limit` (the pool's, or the subnet's when
    /// there is no pool), outermost first: a subclass runs its class's statements, then its own.
    std::vector<const conf::Scope*> scopesInExecutionOrder(const conf::Scope* limit) const;
    void clear() {
        classes.clear();
        dropped = 0;
    }
};

/// @brief The scopes from `inner` outward that are not `limit` or an ancestor of it,
/// outermost first (ISC's execute_statements_in_scope with a limiting group).
std::vector<const conf::Scope*> scopeChain(const conf::Scope* inner, const conf::Scope* limit);

/// @brief How many leases are billed to a class now (the caller's lease store knows).
class LeaseCounter {
public:
    virtual ~LeaseCounter() = default;
    /// @param subclassData empty for the class itself, else the subclass's value
    /// (a lease file's `billing subclass "CLASS" DATA;`).
    virtual uint32_t billed(const conf::Class& cls, std::string_view subclassData) const = 0;
};

/// @brief A lease's current billing (LeaseExtras::billingClass / billingSubclass).
struct BillingRef {
    std::string className;
    std::optional<std::string> subclassData;
};

struct BillingDecision {
    bool allowed = true;         ///< false: ISC drops the request (no available billing)
    int billTo = -1;             ///< index into ClassifyResult::classes to bill a new lease to, or -1
    bool keepCurrent = false;    ///< the current billing still matches one of the packet's classes
    bool unbillCurrent = false;  ///< the current billing no longer matches: release it first
    std::string lastClass;       ///< for ISC's log line when refused: "...(last: '%s')"
};

/// @brief ISC's billing rule (dhcp.c ack_lease): keep a current billing whose class
/// still matches; otherwise bill the first matched class that has a `lease limit`
/// (not 0) and room; when some class has a limit but none has room, refuse. Static
/// (fixed-address) leases are never billed: do not call this for them.
BillingDecision decideBilling(const ClassifyResult& classes, const LeaseCounter& counter,
                              const BillingRef* current = nullptr);

class Classifier {
public:
    explicit Classifier(const Evaluator& evaluator, ClassifierOptions options = {});
    Classifier(const Classifier&) = delete;
    Classifier& operator=(const Classifier&) = delete;

    /// @brief Classify one packet (ctx.packet, ctx.lease, ctx.host...). `out` is cleared
    /// first; its storage is reused, so steady state allocates nothing for plain classes.
    /// As in ISC, config-option is null while classifying.
    void classify(const EvalContext& ctx, ClassifyResult& out);
    ClassifyResult classify(const EvalContext& ctx);

    /// @brief Spawned subclass values remembered for `cls`.
    std::size_t spawnedCount(const conf::Class& cls) const;
    /// @brief Spawns not remembered because their class was full.
    uint64_t spawnsNotRemembered() const { return notRemembered_; }
    const ClassifierOptions& options() const { return opt_; }

private:
    struct PerClass {
        const conf::Class* cls = nullptr;
        std::unordered_map<std::string_view, const conf::Subclass*> subclasses;  ///< views into the Config
        std::deque<std::string> spawnedStore;                                    ///< stable storage for views
        std::unordered_set<std::string_view> spawned;
    };

    const Evaluator& ev_;
    ClassifierOptions opt_;
    std::vector<PerClass> classes_;
    std::string buffer_;
    uint64_t notRemembered_ = 0;
    common::RateLimiter tooManyLog_{5, 60};
    common::RateLimiter spawnLog_{5, 60};
};

}  // namespace tandem::server

#endif
