// Client policy drawn from the configuration, and the server's one door to
// expression evaluation: which classes a packet belongs to, whether a pool's
// allow/deny lists admit a client, which ranges serve BOOTP, running a reply's
// scopes (global .. pool, classes, host) into option actions and parameters,
// `on commit/release/expiry` handlers, lease-limit billing counts, and the
// programs `execute` asks for. The processor never walks expression trees
// itself; nothing here touches sockets or the lease file.
#ifndef TANDEM_SERVER_CLIENT_RULES_H
#define TANDEM_SERVER_CLIENT_RULES_H

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/dhcp_packet.h"
#include "common/lease_record.h"
#include "conf/config.h"
#include "server/classify.h"
#include "server/eval.h"
#include "server/statements.h"

namespace tandem::server {

class OptionAssembler;

/// @brief What running a reply's scopes produced: option actions and server parameters.
class ScopeRun {
public:
    EvalContext ctx;
    ExecResult exec;

    /// @brief The value of server parameter `name` after every scope ran (innermost wins).
    std::optional<std::vector<uint8_t>> param(const std::string& name) const;
    std::optional<uint32_t> u32(const std::string& name) const;
    std::optional<bool> flag(const std::string& name) const;  ///< allow (1) is true; deny (0), ignore (2) false
    std::optional<uint8_t> raw8(const std::string& name) const;
    std::optional<std::string> text(const std::string& name) const;
    std::optional<uint32_t> ipv4(const std::string& name) const;
    /// @brief Apply the option actions, in order, to the reply's options.
    void applyOptions(OptionAssembler& out) const;

private:
    friend class ClientRules;
    const Executor* executor_ = nullptr;
};

class ClientRules final : public LeaseCounter {
public:
    struct Classes {
        ClassifyResult result;
        bool member(const std::string& name) const { return result.memberOf(name); }
    };

    explicit ClientRules(const conf::Config& config);
    ~ClientRules() override;

    /// @brief The classes the packet belongs to (ISC classifies once, before the lease is chosen).
    void classify(const common::Packet4& packet, const conf::Host* host, common::Time now, std::string_view ifname,
                  Classes& out);
    /// @brief ISC's permit_list_match over the pool's allow and deny lists.
    bool poolPermits(const conf::Pool& pool, bool known, const Classes& classes, common::Time now,
                     bool bootp = false) const;
    bool poolHasDynamicBootp(const conf::Pool& pool) const;
    bool rangeIsDynamicBootp(const conf::Pool& pool, uint32_t address) const;

    /// @brief Run the scopes that apply to a reply, outermost first: `chain`
    /// (global .. pool), the classes' scopes (below `limit`), the host's.
    void runScopes(ScopeRun& run, const std::vector<const conf::Scope*>& chain, const Classes& classes,
                   const conf::Scope* limit, const conf::Host* host) const;

    /// @brief Run a statement list (an `on` handler) against a lease; variable
    /// changes land in `lease`, programs are started.
    void runHandler(const conf::StmtList& body, common::LeaseRecord& lease, const common::Packet4* packet,
                    common::Time now) const;
    /// @brief Attach the `on release` / `on expiry` handlers a reply's scopes set, and run `on commit`.
    void commitHandlers(const ScopeRun& run, common::LeaseRecord& lease, const common::Packet4& packet,
                        common::Time now);
    /// @brief Run the lease's handler for `event` ("release" or "expiry"), if it has one.
    void runEvent(common::LeaseRecord& lease, const std::string& event, common::Time now);
    /// @brief Forget the handlers of a lease (it was reassigned).
    void dropHandlers(uint32_t address);

    /// @brief Start the programs `execute` statements asked for, without waiting.
    void runPrograms(const std::vector<ExecRequest>& requests) const;

    // ---- lease limits (LeaseCounter)
    uint32_t billed(const conf::Class& cls, std::string_view subclassData) const override;
    /// @brief Keep the billing counts in step: a lease's billing before and after a change.
    void billingChanged(const common::LeaseRecord* before, const common::LeaseRecord* after);

    const Evaluator& evaluator() const { return *evaluator_; }

private:
    struct Handlers {
        const conf::StmtList* release = nullptr;
        const conf::StmtList* expiry = nullptr;
    };
    static std::string billingKey(const std::string& cls, const std::optional<std::string>& sub);

    const conf::Config& config_;
    std::unique_ptr<Evaluator> evaluator_;
    std::unique_ptr<Executor> executor_;
    std::unique_ptr<Classifier> classifier_;
    std::unordered_map<uint32_t, Handlers> handlers_;
    std::unordered_map<std::string, uint32_t> billed_;
};

}  // namespace tandem::server

#endif
