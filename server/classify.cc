// Client classification and lease-limit billing, after ISC dhcpd 4.4's
// server/class.c (check_collection) and server/dhcp.c (ack_lease billing).
#include "server/classify.h"

#include <algorithm>

namespace tandem::server {

bool ClassifyResult::memberOf(std::string_view className) const {
    return std::any_of(classes.begin(), classes.end(),
                       [&](const ClassMatch& m) { return m.cls && common::iequal(m.cls->name, className); });
}

bool ClassifyResult::add(const conf::Class& c, std::size_t maxClasses) {
    for (const auto& m : classes)
        if (m.cls == &c && !m.isSubclass()) return false;
    if (classes.size() >= maxClasses) {
        ++dropped;
        return false;
    }
    ClassMatch m;
    m.cls = &c;
    classes.push_back(std::move(m));
    return true;
}

std::vector<const conf::Scope*> scopeChain(const conf::Scope* inner, const conf::Scope* limit) {
    auto isLimitOrOuter = [&](const conf::Scope* s) {
        for (const conf::Scope* l = limit; l; l = l->parent.get())
            if (l == s) return true;
        return false;
    };
    std::vector<const conf::Scope*> chain;
    for (const conf::Scope* s = inner; s && !isLimitOrOuter(s); s = s->parent.get()) chain.push_back(s);
    std::reverse(chain.begin(), chain.end());
    return chain;
}

std::vector<const conf::Scope*> ClassifyResult::scopesInExecutionOrder(const conf::Scope* limit) const {
    std::vector<const conf::Scope*> out;
    for (std::size_t i = classes.size(); i > 0; --i)
        for (const conf::Scope* s : scopeChain(classes[i - 1].scope(), limit)) out.push_back(s);
    return out;
}

BillingDecision decideBilling(const ClassifyResult& r, const LeaseCounter& counter, const BillingRef* current) {
    BillingDecision d;
    auto sameBilling = [&](const ClassMatch& m) {
        if (!current || !m.cls || !common::iequal(m.cls->name, current->className)) return false;
        if (!current->subclassData) return !m.isSubclass();
        return m.isSubclass() && m.subclassData() == *current->subclassData;
    };
    if (current && !current->className.empty()) {
        if (std::any_of(r.classes.begin(), r.classes.end(), sameBilling)) {
            d.keepCurrent = true;
            return d;
        }
        d.unbillCurrent = true;
    }
    bool limited = false;
    for (std::size_t i = 0; i < r.classes.size(); ++i) {
        const ClassMatch& m = r.classes[i];
        if (!m.cls || !m.cls->leaseLimit || *m.cls->leaseLimit == 0) continue;  // limit 0: none (ISC)
        limited = true;
        if (counter.billed(*m.cls, m.subclassData()) < *m.cls->leaseLimit) {
            d.billTo = static_cast<int>(i);
            return d;
        }
        d.lastClass = m.cls->name;
    }
    if (limited) d.allowed = false;
    return d;
}

Classifier::Classifier(const Evaluator& evaluator, ClassifierOptions options) : ev_(evaluator), opt_(options) {
    for (const auto& c : ev_.config().classes) {
        PerClass pc;
        pc.cls = &c;
        for (const auto& sc : c.subclasses) {
            std::string_view key(reinterpret_cast<const char*>(sc.data.data()), sc.data.size());
            pc.subclasses.emplace(key, &sc);  // a repeated declaration: the first one answers
        }
        classes_.push_back(std::move(pc));
    }
}

void Classifier::classify(const EvalContext& ctx, ClassifyResult& out) {
    out.clear();
    EvalContext local = ctx;
    local.configOptions = nullptr;  // ISC classifies with no configured options
    local.classes = &out.classes;
    auto push = [&](ClassMatch&& m) {
        if (out.classes.size() >= opt_.maxClassesPerPacket) {
            ++out.dropped;
            return;
        }
        out.classes.push_back(std::move(m));
    };
    for (auto& pc : classes_) {
        const conf::Class& c = *pc.cls;
        const conf::ExprPtr& sub = c.match ? c.match : c.spawnWith;
        if (c.matchIf) {
            // `match if` decides; only when it holds is the subclass value looked at.
            if (!ev_.evalBoolean(*c.matchIf, local).value_or(false)) continue;
            if (!sub) {
                ClassMatch m;
                m.cls = &c;
                push(std::move(m));
                continue;
            }
        }
        if (!sub) continue;  // a class with no match at all is joined only by `add`
        if (!ev_.evalDataInto(*sub, local, buffer_) || buffer_.empty()) continue;
        auto it = pc.subclasses.find(buffer_);
        if (it != pc.subclasses.end()) {
            ClassMatch m;
            m.cls = &c;
            m.subclass = it->second;
            push(std::move(m));
            continue;
        }
        if (!c.spawnWith) continue;
        ClassMatch m;
        m.cls = &c;
        m.spawned = true;
        m.spawnedData = buffer_;
        if (!pc.spawned.count(buffer_)) {
            if (pc.spawned.size() < opt_.maxSpawnedPerClass) {
                pc.spawnedStore.push_back(buffer_);
                pc.spawned.insert(pc.spawnedStore.back());
                m.spawnedNew = true;
            } else {
                ++notRemembered_;
                uint64_t suppressed = 0;
                if (spawnLog_.allow(ctx.now, suppressed))
                    common::logWarning("class " + c.name + ": " + std::to_string(opt_.maxSpawnedPerClass) +
                                       " spawned subclasses already; not remembering more" +
                                       (suppressed ? " (" + std::to_string(suppressed) + " similar)" : ""));
            }
        }
        push(std::move(m));
    }
    if (out.dropped) {
        uint64_t suppressed = 0;
        if (tooManyLog_.allow(ctx.now, suppressed)) {
            std::string who = "a client";
            if (ctx.packet) {
                common::HwAddr hw;
                hw.htype = ctx.packet->htype;
                hw.len = static_cast<uint8_t>(std::min<std::size_t>(ctx.packet->hlen, hw.bytes.size()));
                std::copy_n(ctx.packet->chaddr.begin(), hw.len, hw.bytes.begin());
                who = hw.str();
            }
            common::logError("too many classes match " + who +
                             (suppressed ? " (" + std::to_string(suppressed) + " similar)" : ""));
        }
    }
}

ClassifyResult Classifier::classify(const EvalContext& ctx) {
    ClassifyResult r;
    classify(ctx, r);
    return r;
}

std::size_t Classifier::spawnedCount(const conf::Class& cls) const {
    for (const auto& pc : classes_)
        if (pc.cls == &cls) return pc.spawned.size();
    return 0;
}

}  // namespace tandem::server
