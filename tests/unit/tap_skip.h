// Lets a CppUnit test report itself as skipped (TAP "ok N - name # SKIP why")
// instead of passed, when what it needs is absent (e.g. shared/ captures).
// tests/unit/main.cc recognises the marker in the thrown message.
#ifndef TANDEM_TESTS_UNIT_TAP_SKIP_H
#define TANDEM_TESTS_UNIT_TAP_SKIP_H

#include <cppunit/Exception.h>
#include <cppunit/Message.h>

#include <string>

#define TANDEM_SKIP_MARKER "TANDEM-SKIP: "

/// Stop the current test and report it as skipped, with the reason.
#define TANDEM_SKIP(reason) throw CppUnit::Exception(CppUnit::Message(std::string(TANDEM_SKIP_MARKER) + (reason)))

#endif
