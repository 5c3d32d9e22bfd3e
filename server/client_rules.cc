#include "server/client_rules.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "server/option_assembler.h"

namespace tandem::server {

namespace {

const char* verbText(OptionVerb v) {
    switch (v) {
        case OptionVerb::Supersede: return "supersede";
        case OptionVerb::Default: return "default";
        case OptionVerb::Prepend: return "prepend";
        case OptionVerb::Append: return "append";
        case OptionVerb::Send: return "send";
    }
    return "supersede";
}

bool isServerSpace(const OptionAction& a) { return a.def && a.def->space == "server"; }

// A Config we do not own, for the Evaluator's shared pointer (the processor's owner keeps it alive).
conf::ConfigPtr borrowed(const conf::Config& c) { return conf::ConfigPtr(conf::ConfigPtr(), &c); }

}  // namespace

// ---------------------------------------------------------------- ScopeRun

std::optional<std::vector<uint8_t>> ScopeRun::param(const std::string& name) const {
    for (auto it = exec.options.rbegin(); it != exec.options.rend(); ++it) {
        if (!isServerSpace(*it) || !common::iequal(it->def->name, name)) continue;
        return executor_ ? executor_->value(*it, ctx) : std::nullopt;
    }
    return std::nullopt;
}

std::optional<uint32_t> ScopeRun::u32(const std::string& name) const {
    auto v = param(name);
    if (!v || v->empty()) return std::nullopt;
    uint32_t n = 0;
    for (uint8_t b : *v) n = n << 8 | b;
    return n;
}

std::optional<uint8_t> ScopeRun::raw8(const std::string& name) const {
    auto v = param(name);
    if (!v || v->empty()) return std::nullopt;
    return v->back();
}

std::optional<bool> ScopeRun::flag(const std::string& name) const {
    auto v = raw8(name);
    if (!v) return std::nullopt;
    return *v == 1;
}

std::optional<std::string> ScopeRun::text(const std::string& name) const {
    auto v = param(name);
    if (!v) return std::nullopt;
    return std::string(v->begin(), v->end());
}

std::optional<uint32_t> ScopeRun::ipv4(const std::string& name) const {
    auto v = param(name);
    if (!v || v->size() != 4) return std::nullopt;
    return uint32_t((*v)[0]) << 24 | uint32_t((*v)[1]) << 16 | uint32_t((*v)[2]) << 8 | (*v)[3];
}

void ScopeRun::applyOptions(OptionAssembler& out) const {
    for (const auto& a : exec.options) {
        if (!a.def || isServerSpace(a)) continue;
        auto bytes = executor_->value(a, ctx);
        if (!bytes) {
            // A null value means "no such option" for a supersede (ISC's evaluate_option_cache).
            if (a.verb == OptionVerb::Supersede && (a.def->space == "dhcp" || a.def->space.empty()) && a.def->code < 255)
                out.erase(uint8_t(a.def->code));
            continue;
        }
        out.apply(verbText(a.verb), a.def->space, a.def->code, *bytes);
    }
}

// ---------------------------------------------------------------- ClientRules

ClientRules::ClientRules(const conf::Config& config)
    : config_(config),
      evaluator_(std::make_unique<Evaluator>(borrowed(config))),
      executor_(std::make_unique<Executor>(*evaluator_)),
      classifier_(std::make_unique<Classifier>(*evaluator_)) {}

ClientRules::~ClientRules() = default;

void ClientRules::classify(const common::Packet4& packet, const conf::Host* host, common::Time now,
                           std::string_view ifname, Classes& out) {
    out.result.clear();
    if (config_.classes.empty()) return;
    EvalContext ctx;
    ctx.packet = &packet;
    ctx.host = host;
    ctx.now = now;
    ctx.interface = ifname;
    classifier_->classify(ctx, out.result);
}

bool ClientRules::poolPermits(const conf::Pool& pool, bool known, const Classes& classes, common::Time now,
                              bool bootp) const {
    bool anyAllow = false, allowed = false;
    for (const auto& p : pool.permits) {
        bool match = false;
        switch (p.kind) {
            case conf::Permit::Kind::KnownClients: match = known; break;
            case conf::Permit::Kind::UnknownClients: match = !known; break;
            case conf::Permit::Kind::MembersOf: match = classes.member(p.className); break;
            case conf::Permit::Kind::DynamicBootpClients: match = bootp; break;
            // Tandem, like ISC 4.4, authenticates no client.
            case conf::Permit::Kind::AuthenticatedClients: match = false; break;
            case conf::Permit::Kind::UnauthenticatedClients: match = true; break;
            case conf::Permit::Kind::AllClients: match = true; break;
            case conf::Permit::Kind::After: match = now > p.after; break;
        }
        if (p.allow) {
            anyAllow = true;
            if (match) allowed = true;
        } else if (match) {
            return false;
        }
    }
    return !anyAllow || allowed;
}

bool ClientRules::poolHasDynamicBootp(const conf::Pool& pool) const {
    return std::any_of(pool.ranges.begin(), pool.ranges.end(), [](const conf::Range& r) { return r.dynamicBootp; });
}

bool ClientRules::rangeIsDynamicBootp(const conf::Pool& pool, uint32_t address) const {
    for (const auto& r : pool.ranges)
        if (address >= r.low && address <= r.high) return r.dynamicBootp;
    return false;
}

void ClientRules::runScopes(ScopeRun& run, const std::vector<const conf::Scope*>& chain, const Classes& classes,
                            const conf::Scope* limit, const conf::Host* host) const {
    run.executor_ = executor_.get();
    run.ctx.classes = &classes.result.classes;
    for (const conf::Scope* s : chain) executor_->runScope(*s, run.ctx, run.exec, true);
    for (const conf::Scope* s : classes.result.scopesInExecutionOrder(limit))
        executor_->runScope(*s, run.ctx, run.exec, true);
    if (host) {
        // A host's scope sits under the global one (or a group): run only what the chain has not.
        std::vector<const conf::Scope*> up;
        for (const conf::Scope* s = host->scope.get(); s; s = s->parent.get()) up.push_back(s);
        for (auto it = up.rbegin(); it != up.rend(); ++it)
            if (std::find(chain.begin(), chain.end(), *it) == chain.end())
                executor_->runScope(**it, run.ctx, run.exec, true);
    }
    if (!run.exec.executes.empty()) runPrograms(run.exec.executes);
}

void ClientRules::runHandler(const conf::StmtList& body, common::LeaseRecord& lease, const common::Packet4* packet,
                             common::Time now) const {
    EvalContext ctx;
    ctx.packet = packet;
    ctx.lease = &lease;
    ctx.now = now;
    ExecResult r;
    executor_->run(body, ctx, r);
    if ((r.seeded || !r.changes.empty()) && (!r.bindings.vars.empty() || lease.extras))
        lease.ext().variables = r.bindings.vars;
    if (!r.executes.empty()) runPrograms(r.executes);
}

void ClientRules::commitHandlers(const ScopeRun& run, common::LeaseRecord& lease, const common::Packet4& packet,
                                 common::Time now) {
    // Variables the scopes set belong to the lease from now on (ISC's binding scope).
    if (run.exec.seeded || !run.exec.changes.empty()) {
        if (!run.exec.bindings.vars.empty() || lease.extras) lease.ext().variables = run.exec.bindings.vars;
    }
    const LeaseEvents& ev = run.exec.events;
    Handlers h;
    auto old = handlers_.find(lease.address);
    if (old != handlers_.end()) h = old->second;
    if (ev.release) h.release = *ev.release;
    if (ev.expiry) h.expiry = *ev.expiry;
    if (h.release || h.expiry) handlers_[lease.address] = h;
    else if (old != handlers_.end()) handlers_.erase(old);
    if (ev.commit && *ev.commit) runHandler(**ev.commit, lease, &packet, now);
}

void ClientRules::runEvent(common::LeaseRecord& lease, const std::string& event, common::Time now) {
    auto it = handlers_.find(lease.address);
    if (it == handlers_.end()) return;
    const conf::StmtList* body = event == "release" ? it->second.release : it->second.expiry;
    // ISC clears a lease's handlers once the binding ends, whichever event ended it.
    handlers_.erase(it);
    if (body) runHandler(*body, lease, nullptr, now);
}

void ClientRules::dropHandlers(uint32_t address) { handlers_.erase(address); }

void ClientRules::runPrograms(const std::vector<ExecRequest>& requests) const {
    for (const auto& r : requests) {
        // ISC waits for the program; a DHCP server that stops serving while a
        // hook script runs is worse, so the program runs detached: a double
        // fork leaves no zombie and needs no SIGCHLD handling.
        pid_t pid = ::fork();
        if (pid < 0) {
            common::logError("execute: cannot fork for " + r.program + ": " + std::strerror(errno));
            continue;
        }
        if (pid == 0) {
            if (::fork() != 0) ::_exit(0);
            std::vector<char*> argv;
            argv.push_back(const_cast<char*>(r.program.c_str()));
            for (const auto& a : r.args) argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            ::execv(r.program.c_str(), argv.data());
            ::_exit(127);
        }
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        common::logDebug("execute: started " + r.program);
    }
}

// ---------------------------------------------------------------- lease limits

std::string ClientRules::billingKey(const std::string& cls, const std::optional<std::string>& sub) {
    std::string k;
    for (char ch : cls) k += char(std::tolower(static_cast<unsigned char>(ch)));
    if (sub) {
        k += '\0';
        k += *sub;
    }
    return k;
}

uint32_t ClientRules::billed(const conf::Class& cls, std::string_view subclassData) const {
    auto it = billed_.find(billingKey(cls.name, subclassData.empty() ? std::nullopt
                                                                     : std::optional<std::string>(std::string(subclassData))));
    return it == billed_.end() ? 0 : it->second;
}

void ClientRules::billingChanged(const common::LeaseRecord* before, const common::LeaseRecord* after) {
    auto key = [](const common::LeaseRecord* r) -> std::optional<std::string> {
        if (!r || !r->extras || r->extras->billingClass.empty()) return std::nullopt;
        return billingKey(r->extras->billingClass, r->extras->billingSubclass);
    };
    auto a = key(before), b = key(after);
    if (a == b) return;
    if (a) {
        auto it = billed_.find(*a);
        if (it != billed_.end() && it->second > 0 && --it->second == 0) billed_.erase(it);
    }
    if (b) ++billed_[*b];
}

}  // namespace tandem::server
