// One CppUnit runner for every unit-test binary. It reports each test case as a
// TAP line, so `make check` (automake's TAP driver) counts cases, not binaries.
#include <cppunit/TestFailure.h>
#include <cppunit/TestListener.h>
#include <cppunit/TestResult.h>
#include <cppunit/TestResultCollector.h>
#include <cppunit/extensions/TestFactoryRegistry.h>
#include <cppunit/ui/text/TestRunner.h>
#include <cppunit/Exception.h>
#include <cppunit/SourceLine.h>

#include "tests/unit/tap_skip.h"

#include <iostream>
#include <sstream>
#include <vector>

namespace {

class TapListener : public CppUnit::TestListener {
public:
    void startTest(CppUnit::Test*) override { failed_ = false; skipped_ = false; detail_.clear(); }
    void addFailure(const CppUnit::TestFailure& f) override {
        // TANDEM_SKIP() arrives as a failure carrying the marker: report a skip.
        const std::string what = f.thrownException() ? f.thrownException()->what() : "";
        const std::string marker = TANDEM_SKIP_MARKER;
        const auto at = what.find(marker);
        if (!failed_ && at != std::string::npos) {
            skipped_ = true;
            detail_ = what.substr(at + marker.size());
            while (!detail_.empty() && (detail_.back() == '\n' || detail_.back() == ' ')) detail_.pop_back();
            return;
        }
        skipped_ = false;
        failed_ = true;
        std::ostringstream os;
        const CppUnit::SourceLine& where = f.sourceLine();
        if (where.isValid()) os << where.fileName() << ':' << where.lineNumber() << ": ";
        os << (f.isError() ? "error: " : "failure: ");
        if (f.thrownException()) os << f.thrownException()->what();
        detail_ = os.str();
    }
    void endTest(CppUnit::Test* test) override {
        ++count_;
        if (failed_) {
            ++failures_;
            std::cout << "not ok " << count_ << " - " << test->getName() << '\n';
            std::istringstream lines(detail_);
            for (std::string l; std::getline(lines, l);) std::cout << "# " << l << '\n';
        } else if (skipped_) {
            std::cout << "ok " << count_ << " - " << test->getName() << " # SKIP " << detail_ << '\n';
        } else {
            std::cout << "ok " << count_ << " - " << test->getName() << '\n';
        }
        std::cout.flush();
    }
    int count() const { return count_; }
    int failures() const { return failures_; }

private:
    bool failed_ = false;
    bool skipped_ = false;
    std::string detail_;
    int count_ = 0;
    int failures_ = 0;
};

}  // namespace

int main() {
    CppUnit::Test* suite = CppUnit::TestFactoryRegistry::getRegistry().makeTest();
    std::cout << "1.." << suite->countTestCases() << '\n';
    CppUnit::TestResult result;
    TapListener tap;
    result.addListener(&tap);
    suite->run(&result);
    delete suite;
    return tap.failures() == 0 ? 0 : 1;
}
