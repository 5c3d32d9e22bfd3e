// Helpers for the evaluator, executor and classifier tests: a configuration
// built from text with its Evaluator, packets built field by field, bytes as text.
#ifndef TANDEM_TESTS_SERVER_EVAL_TEST_UTIL_H
#define TANDEM_TESTS_SERVER_EVAL_TEST_UTIL_H

#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/diag.h"
#include "common/dhcp_packet.h"
#include "conf/config_builder.h"
#include "server/eval.h"

namespace tandem::test {

/// A configuration read from text, checked to have no errors, and its Evaluator.
struct Env {
    common::DiagnosticSink sink;
    conf::ConfigPtr cfg;
    std::unique_ptr<server::Evaluator> ev;

    explicit Env(const std::string& text, server::EvaluatorOptions opt = {}) {
        cfg = conf::loadConfigText(text, "test.conf", sink);
        std::ostringstream os;
        sink.print(os);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(os.str(), std::size_t(0), sink.errorCount());
        ev = std::make_unique<server::Evaluator>(cfg, opt);
    }
    /// The expression of the i-th top-level executable statement (`set v = EXPR;`).
    const conf::Expr& expr(std::size_t i = 0) const { return *cfg->global->statements.at(i)->expr; }
    const conf::Class& cls(const std::string& name) const { return *cfg->findClass(name); }
};

/// "set v = EXPR;" for each expression, so Env::expr(i) is the i-th one.
inline std::string sets(const std::vector<std::string>& exprs) {
    std::string out;
    for (const auto& e : exprs) out += "set v = " + e + ";\n";
    return out;
}

inline common::Packet4 packet(std::vector<uint8_t> mac = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55}) {
    common::Packet4 p;
    p.op = 1;
    p.htype = 1;
    p.hlen = static_cast<uint8_t>(mac.size());
    p.xid = 0x01020304;
    std::copy(mac.begin(), mac.end(), p.chaddr.begin());
    p.set(53, {1});
    return p;
}

inline std::vector<uint8_t> bytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

/// Bytes as "01:0a" for messages; "<null>" for nothing.
inline std::string hex(const std::optional<std::vector<uint8_t>>& v) {
    if (!v) return "<null>";
    std::string out;
    char buf[4];
    for (std::size_t i = 0; i < v->size(); ++i) {
        std::snprintf(buf, sizeof buf, "%02x", (*v)[i]);
        if (i) out += ':';
        out += buf;
    }
    return out;
}

inline std::string text(const std::optional<std::vector<uint8_t>>& v) {
    return v ? std::string(v->begin(), v->end()) : std::string("<null>");
}

/// A ConfigOptionSource over a map, for config-option.
struct MapOptions : server::ConfigOptionSource {
    std::map<std::pair<std::string, uint32_t>, std::string> values;
    std::optional<std::string_view> configOption(std::string_view space, uint32_t code) const override {
        auto it = values.find({std::string(space), code});
        if (it == values.end()) return std::nullopt;
        return std::string_view(it->second);
    }
};

/// A NameCache over a map.
struct MapNames : server::NameCache {
    std::map<std::string, uint32_t> names;
    std::optional<uint32_t> lookup(std::string_view name) const override {
        auto it = names.find(std::string(name));
        if (it == names.end()) return std::nullopt;
        return it->second;
    }
};

}  // namespace tandem::test

#endif
