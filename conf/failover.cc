// The `failover peer` declarations of dhcpd.conf: the peer block with ISC
// 4.4's defaults and checks, the `state` form that lease files also use, and
// the references to a peer from pools and shared-networks. Also Tandem's own
// TLS statements of the peer block (tls-certificate, tls-key, tls-ca,
// tls-peer-name), which ISC dhcpd rejects, and the check of their files.
#include <cctype>
#include <utility>

#include "common/crypto.h"
#include "conf/builder_impl.h"
#include "conf/words.h"

namespace tandem::conf {

namespace {

const char* const kStates[] = {"unknown-state", "partner-down", "normal", "communications-interrupted",
                               "conflict-done", "resolution-interrupted", "potential-conflict", "recover",
                               "recover-wait", "recover-done", "shutdown", "paused", "startup"};

bool isState(const std::string& w) {
    for (const char* s : kStates)
        if (iequals(w, s)) return true;
    return false;
}

/// The TLS setting a peer-block word names, or nullptr when it is none of them.
TlsSetting* tlsSlot(FailoverTls& tls, const std::string& w) {
    if (w == "tls-certificate") return &tls.certificate;
    if (w == "tls-key") return &tls.key;
    if (w == "tls-ca") return &tls.ca;
    if (w == "tls-peer-name") return &tls.peerName;
    return nullptr;
}

}  // namespace

void Builder::failoverBlock(const Stmt& s, Frame& f) {
    // failover peer NAME { ... }   or   failover peer NAME state { ... }
    if (s.atoms.size() < 2 || !iequals(s.atoms[0].text, "peer")) {
        error(s.atoms.empty() ? s.head.where : s.atoms[0].where, "expecting \"failover peer\".");
        return;
    }
    const Atom& name = s.atoms[1];
    if (name.kind != Atom::Kind::String && name.kind != Atom::Kind::Word) {
        error(name.where, "expecting the failover peer's name");
        return;
    }
    bool state = s.atoms.size() == 3 && iequals(s.atoms[2].text, "state");
    if (s.atoms.size() > 2 && !state) {
        error(s.atoms[2].where, "expecting '{' or `state` after the failover peer's name");
        return;
    }
    if (state) return failoverState(s, name);
    if (f.ctx != Ctx::Root && f.ctx != Ctx::SharedNetwork && f.ctx != Ctx::Group) {
        error(s.where, "failover peer declarations are allowed only at the top level or in a shared-network");
        return;
    }
    failoverPeer(s, name);
}

void Builder::failoverPeer(const Stmt& s, const Atom& nameAtom) {
    FailoverPeer p;
    p.name = nameAtom.text;
    p.where = s.where;
    if (config_->findFailoverPeer(p.name)) {
        error(nameAtom.where, "failover peer " + p.name + ": redeclared (first at " +
                                  config_->findFailoverPeer(p.name)->where.str() + ")");
        return;
    }
    bool addressGiven = false, peerAddressGiven = false;
    Location balanceAt;  // where split or hba was written, for ISC's complaint about a secondary
    // Tandem-only TLS statements: `tls-certificate "FILE";` and its kin.
    auto tlsStatement = [&](const Stmt& st, const std::string& w, TlsSetting& slot) {
        const bool isName = w == "tls-peer-name";
        const std::string what = isName ? "the peer's certificate name" : "a file name";
        if (st.atoms.empty()) {
            error(endOf(st), "expecting " + what + " in quotes after " + w);
            return;
        }
        const Atom& v = st.atoms[0];
        if (v.kind != Atom::Kind::String) {
            error(v.where, "expecting " + what + " in quotes after " + w);
            return;
        }
        if (st.atoms.size() > 1) {
            error(st.atoms[1].where, "unexpected " + describe(st.atoms[1]) + " after " + what + "; expecting ';'");
            return;
        }
        if (slot.given()) {
            error(v.where, "failover peer " + p.name + ": " + w + " given twice (first at " + slot.where.str() + ")");
            return;
        }
        if (v.text.empty()) {
            error(v.where, "failover peer " + p.name + ": " + w + " is empty");
            return;
        }
        if (isName) {
            // A DNS name as X509_check_host compares it: letters, digits, '-' and '.'.
            for (char c : v.text)
                if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) {
                    error(v.where, "failover peer " + p.name + ": " + w + " must be a DNS name, not \"" + v.text +
                                       "\"");
                    return;
                }
        } else if (v.text[0] != '/') {
            // tandemd changes directory to / before it reads them (daemon start-up).
            error(v.where, "failover peer " + p.name + ": " + w + " must be an absolute path");
            return;
        }
        slot.value = v.text;
        slot.where = v.where;
    };
    for (const auto& sp : s.body) {
        if (!sp) continue;
        const Stmt& st = *sp;
        if (st.kind != Stmt::Kind::Simple) {
            error(st.where, "expecting a failover peer parameter");
            continue;
        }
        // `peer` makes the next word apply to the partner, as in ISC.
        bool peer = iequals(st.head.text, "peer");
        Stmt rest = st;
        if (peer) {
            if (st.atoms.empty()) {
                error(st.where, "expecting address, port, max-response-delay or max-unacked-updates after `peer`");
                continue;
            }
            rest.head = st.atoms[0];
            rest.atoms.assign(st.atoms.begin() + 1, st.atoms.end());
        }
        const std::string w = lower(rest.head.text);
        auto num = [&](uint64_t max, const char* what) -> std::optional<uint32_t> {
            auto v = number(rest, 0, max, what);
            if (v && !expectAtoms(rest, 1, what)) return std::nullopt;
            return v;
        };
        if (!peer && (w == "primary" || w == "secondary")) {
            if (!rest.atoms.empty()) error(rest.atoms[0].where, "expecting ';' after " + w);
            if (p.roleGiven) warning(st.where, "failover peer " + p.name + ": role given twice; the last one wins");
            p.role = w == "primary" ? FailoverPeer::Role::Primary : FailoverPeer::Role::Secondary;
            p.roleGiven = true;
        } else if (w == "address") {
            if (!expectAtoms(rest, 1, "the address")) continue;
            auto a = address(rest.atoms[0], peer ? "the peer's address" : "the local address");
            if (!a) continue;
            (peer ? p.peerAddress : p.address) = *a;
            (peer ? peerAddressGiven : addressGiven) = true;
        } else if (w == "port") {
            if (auto v = num(65535, "a TCP port")) (peer ? p.peerPort : p.port) = static_cast<uint16_t>(*v);
        } else if (w == "max-response-delay") {
            if (auto v = num(UINT32_MAX, "a number of seconds")) (peer ? p.peerMaxResponseDelay : p.maxResponseDelay) = *v;
        } else if (w == "max-unacked-updates") {
            if (auto v = num(UINT32_MAX, "a number of updates")) p.maxUnackedUpdates = *v;
        } else if (peer) {
            error(rest.head.where, "expecting address, port, max-response-delay or max-unacked-updates after `peer`");
        } else if (w == "mclt") {
            if (auto v = num(UINT32_MAX, "a number of seconds")) {
                p.mclt = *v;
                p.mcltGiven = true;
            }
        } else if (w == "split") {
            if (auto v = num(256, "a split value (0-256)")) p.split = *v;
            balanceAt = st.where;
        } else if (w == "hba") {
            if (!expectAtoms(rest, 1, "the hash bucket assignment")) continue;
            auto bytes = parseHexList(rest.atoms[0].text);
            if (!bytes || bytes->size() != 32) {
                error(rest.atoms[0].where, "HBA must be exactly 32 colon-separated hex bytes (256 bits)");
                continue;
            }
            p.hba = *bytes;
            balanceAt = st.where;
        } else if (w == "load") {
            // load balance max seconds N
            bool ok = rest.atoms.size() == 4 && iequals(rest.atoms[0].text, "balance") &&
                      iequals(rest.atoms[1].text, "max") && iequals(rest.atoms[2].text, "seconds");
            if (!ok) {
                error(rest.head.where, "expecting `load balance max seconds N;`");
                continue;
            }
            if (auto v = number(rest, 3, UINT32_MAX, "a number of seconds")) p.loadBalanceMaxSeconds = *v;
        } else if (w == "auto-partner-down") {
            if (auto v = num(UINT32_MAX, "a number of seconds")) p.autoPartnerDown = *v;
        } else if (w == "max-lease-misbalance") {
            if (auto v = num(100, "a percentage")) p.maxLeaseMisbalance = *v;
        } else if (w == "max-lease-ownership") {
            if (auto v = num(100, "a percentage")) p.maxLeaseOwnership = *v;
        } else if (w == "min-balance") {
            if (auto v = num(UINT32_MAX, "a number of seconds")) p.minBalance = *v;
        } else if (w == "max-balance") {
            if (auto v = num(UINT32_MAX, "a number of seconds")) p.maxBalance = *v;
        } else if (TlsSetting* slot = tlsSlot(p.tls, w)) {
            tlsStatement(rest, w, *slot);
        } else {
            error(rest.head.where, "unknown failover peer parameter `" + rest.head.text + "`");
        }
    }
    if (!peerAddressGiven) error(s.bodyEnd, "failover peer " + p.name + ": peer address may not be omitted");
    if (!addressGiven) error(s.bodyEnd, "failover peer " + p.name + ": local address may not be omitted");
    if (p.role == FailoverPeer::Role::Primary) {
        if (!p.mcltGiven) error(s.bodyEnd, "failover peer " + p.name + ": primary failover server must have mclt.");
        if (!p.split && p.hba.empty())
            error(s.bodyEnd, "failover peer " + p.name + ": primary failover server must have split or hba.");
        if (p.split && !p.hba.empty())
            error(s.bodyEnd, "failover peer " + p.name + ": split and hba are mutually exclusive");
    } else if (p.split || !p.hba.empty()) {
        error(balanceAt, "failover peer " + p.name + ": secondary may not define load balance settings.");
    }
    // Certificate, key and CA only make TLS together; one or two alone are a
    // mistake to point out, not a link to run half-secured or silently plain.
    {
        const std::pair<const TlsSetting*, const char*> parts[] = {
            {&p.tls.certificate, "tls-certificate"}, {&p.tls.key, "tls-key"}, {&p.tls.ca, "tls-ca"}};
        std::string missing;
        int given = 0;
        for (const auto& [setting, word] : parts) {
            if (setting->given()) {
                given++;
                continue;
            }
            missing += (missing.empty() ? "" : " and ") + std::string(word);
        }
        if (given > 0 && given < 3)
            error(s.bodyEnd, "failover peer " + p.name + ": " + missing + " missing (tls-certificate, tls-key and " +
                                 "tls-ca go together)");
        if (given == 0 && p.tls.peerName.given())
            error(p.tls.peerName.where,
                  "failover peer " + p.name + ": tls-peer-name needs tls-certificate, tls-key and tls-ca");
    }
    config_->failoverPeers.push_back(p);
}

void Builder::failoverState(const Stmt& s, const Atom& nameAtom) {
    FailoverPeerState st;
    st.name = nameAtom.text;
    st.where = s.where;
    for (const auto& sp : s.body) {
        if (!sp) continue;
        const Stmt& l = *sp;
        if (l.kind != Stmt::Kind::Simple) {
            error(l.where, "expecting `my state`, `partner state` or `mclt`");
            continue;
        }
        bool mine = iequals(l.head.text, "my");
        if (mine || iequals(l.head.text, "partner")) {
            if (l.atoms.size() < 2 || !iequals(l.atoms[0].text, "state")) {
                error(l.where, "expecting `" + l.head.text + " state STATE [at DATE];`");
                continue;
            }
            if (!isState(l.atoms[1].text)) {
                error(l.atoms[1].where, "unknown failover state " + l.atoms[1].text);
                continue;
            }
            int64_t when = 0;
            if (l.atoms.size() > 2) {
                if (!iequals(l.atoms[2].text, "at")) {
                    error(l.atoms[2].where, "expecting `at DATE` or ';'");
                    continue;
                }
                std::size_t pos = 3;
                std::string why;
                auto t = parseDate(l.atoms, pos, why);
                if (!t) {
                    error(pos < l.atoms.size() ? l.atoms[pos].where : endOf(l), why);
                    continue;
                }
                if (pos < l.atoms.size()) {
                    error(l.atoms[pos].where, "unexpected " + l.atoms[pos].text + "; expecting ';'");
                    continue;
                }
                when = *t;
            }
            (mine ? st.myState : st.partnerState) = lower(l.atoms[1].text);
            (mine ? st.myStateTime : st.partnerStateTime) = when;
        } else if (iequals(l.head.text, "mclt")) {
            auto v = number(l, 0, UINT32_MAX, "a number of seconds");
            if (v && expectAtoms(l, 1, "the mclt")) st.mclt = *v;
        } else {
            error(l.head.where, "expecting `my state`, `partner state` or `mclt`");
        }
    }
    config_->failoverStates.push_back(st);
}

void Builder::failoverReference(const Stmt& s, Frame& f) {
    // failover peer "NAME";  in a pool, or in a shared-network for the pools after it.
    if (s.atoms.size() != 2 || !iequals(s.atoms[0].text, "peer")) {
        error(s.atoms.empty() ? s.head.where : s.atoms[0].where, "expecting \"failover peer\".");
        return;
    }
    if (s.atoms[1].kind != Atom::Kind::String) {
        error(s.atoms[1].where, "expecting string: the peer's name goes in quotes");
        return;
    }
    const std::string& name = s.atoms[1].text;
    if (f.ctx != Ctx::Pool && f.ctx != Ctx::SharedNetwork) {
        error(s.where, "failover peer references are allowed only in a pool or a shared-network");
        return;
    }
    if (!config_->findFailoverPeer(name)) {
        error(s.atoms[1].where, "unknown failover peer: " + name + " (declare it before the pools that use it)");
        return;
    }
    if (f.ctx == Ctx::Pool) {
        Pool& p = nets_[f.net].pools[f.pool];
        for (const auto& r : p.ranges)
            if (r.dynamicBootp)
                error(r.where, "dynamic-bootp flag is not permitted for address range declarations where there is "
                               "a failover peer in scope");
        p.failoverPeer = name;
        // Only a pool's own statement counts as referring (ISC 4.4, measured).
        peerReferenced_[name] = true;
    } else {
        f.failoverPeer = name;
    }
}

void Builder::checkFailoverPeers() {
    for (const auto& p : config_->failoverPeers)
        if (!peerReferenced_.count(p.name))
            error(p.where, "Failover peer, " + p.name + ", has no referring pools");
    for (const auto& st : config_->failoverStates) {
        const FailoverPeer* p = config_->findFailoverPeer(st.name);
        if (p && st.mclt && p->role == FailoverPeer::Role::Primary)
            error(st.where, "failover peer " + st.name + " state: mclt not valid for primary");
    }
}

// ---------------------------------------------------------------- TLS files

void checkFailoverTlsFiles(const Config& config, common::DiagnosticSink& sink) {
    for (const auto& p : config.failoverPeers) {
        if (!p.tls.enabled()) continue;
        const std::string who = "failover peer " + p.name + ": ";
        auto check = [&](const TlsSetting& t, const char* word, common::PemKind kind) {
            std::string why;
            if (common::checkPemFile(t.value, kind, why)) return true;
            sink.error(t.where, who + word + " " + t.value + ": " + why);
            return false;
        };
        const bool cert = check(p.tls.certificate, "tls-certificate", common::PemKind::Certificate);
        const bool key = check(p.tls.key, "tls-key", common::PemKind::PrivateKey);
        check(p.tls.ca, "tls-ca", common::PemKind::CaCertificates);
        std::string why;
        if (cert && key && !common::checkKeyMatchesCertificate(p.tls.certificate.value, p.tls.key.value, why))
            sink.error(p.tls.key.where, who + "tls-key " + p.tls.key.value + ": " + why);
    }
}

}  // namespace tandem::conf
