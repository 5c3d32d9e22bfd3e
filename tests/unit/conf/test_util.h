// Helpers for the conf unit tests: parse a text, look at what was reported.
#ifndef TANDEM_TESTS_CONF_TEST_UTIL_H
#define TANDEM_TESTS_CONF_TEST_UTIL_H

#include <cppunit/extensions/HelperMacros.h>

#include <sstream>
#include <string>

#include "common/diag.h"
#include "conf/config_builder.h"

namespace tandem::test {

struct Parsed {
    common::DiagnosticSink sink;
    conf::ConfigPtr config;

    std::size_t errors() const { return sink.errorCount(); }
    /// The first error as "line:col: message", or "" when there is none.
    std::string firstError() const {
        for (const auto& d : sink.all())
            if (d.severity == common::Severity::Error)
                return std::to_string(d.where.line) + ":" + std::to_string(d.where.col) + ": " + d.message;
        return "";
    }
    std::string allText() const {
        std::ostringstream os;
        sink.print(os);
        return os.str();
    }
};

inline std::unique_ptr<Parsed> parse(const std::string& text) {
    auto p = std::make_unique<Parsed>();
    p->config = conf::loadConfigText(text, "test.conf", p->sink);
    return p;
}

/// Assert that `text` is accepted without errors.
#define TANDEM_ASSERT_ACCEPTS(text)                                                              \
    do {                                                                                         \
        auto p_ = ::tandem::test::parse(text);                                                   \
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p_->allText(), std::size_t(0), p_->errors());               \
    } while (0)

/// Assert that the first error of `text` is at `line` and its message contains `needle`.
#define TANDEM_ASSERT_REJECTS(text, line, needle)                                                \
    do {                                                                                         \
        auto p_ = ::tandem::test::parse(text);                                                   \
        std::string e_ = p_->firstError();                                                       \
        CPPUNIT_ASSERT_MESSAGE("expected an error, got none", p_->errors() > 0);                 \
        CPPUNIT_ASSERT_EQUAL_MESSAGE(e_, std::to_string(line), e_.substr(0, e_.find(':')));      \
        CPPUNIT_ASSERT_MESSAGE("message <" + e_ + "> lacks <" + std::string(needle) + ">",       \
                               e_.find(needle) != std::string::npos);                            \
    } while (0)

}  // namespace tandem::test

#endif
