// The failover state table: ISC's wire codes and names.
#include <cppunit/extensions/HelperMacros.h>

#include "failover/state.h"

using namespace tandem::failover;

class StateTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(StateTest);
    CPPUNIT_TEST(testWireCodesAreIscs);
    CPPUNIT_TEST(testNamesRoundTrip);
    CPPUNIT_TEST(testServingStates);
    CPPUNIT_TEST_SUITE_END();

public:
    // Codes as ISC puts them in server-state; recover-wait is 254, not a draft number.
    void testWireCodesAreIscs() {
        CPPUNIT_ASSERT_EQUAL(2, int(FailoverState::Normal));
        CPPUNIT_ASSERT_EQUAL(3, int(FailoverState::CommunicationsInterrupted));
        CPPUNIT_ASSERT_EQUAL(4, int(FailoverState::PartnerDown));
        CPPUNIT_ASSERT_EQUAL(9, int(FailoverState::RecoverDone));
        CPPUNIT_ASSERT_EQUAL(254, int(FailoverState::RecoverWait));
        CPPUNIT_ASSERT(stateFromCode(6) == FailoverState::Recover);
        CPPUNIT_ASSERT(!stateFromCode(13));
        CPPUNIT_ASSERT(!stateFromCode(253));
    }

    // Every state's name reads back to it, case-insensitively.
    void testNamesRoundTrip() {
        for (int c = 0; c < 256; ++c) {
            auto s = stateFromCode(uint8_t(c));
            if (!s) continue;
            CPPUNIT_ASSERT(stateFromString(toString(*s)) == s);
        }
        CPPUNIT_ASSERT(stateFromString("Communications-Interrupted") == FailoverState::CommunicationsInterrupted);
        CPPUNIT_ASSERT_EQUAL(std::string("recover-wait"), std::string(toString(FailoverState::RecoverWait)));
        CPPUNIT_ASSERT(!stateFromString("sleeping"));
    }

    // Only normal, communications-interrupted and partner-down answer clients.
    void testServingStates() {
        CPPUNIT_ASSERT(servesClients(FailoverState::Normal));
        CPPUNIT_ASSERT(servesClients(FailoverState::PartnerDown));
        CPPUNIT_ASSERT(!servesClients(FailoverState::Recover));
        CPPUNIT_ASSERT(!servesClients(FailoverState::Startup));
        CPPUNIT_ASSERT(!servesClients(FailoverState::RecoverWait));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(StateTest);
