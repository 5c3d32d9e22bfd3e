#include "failover/protocol.h"

#include <iterator>

namespace tandem::failover {

std::string_view messageTypeName(uint8_t type) {
    switch (type) {
#define TANDEM_X(code, name, text) \
    case code:                     \
        return text;
        TANDEM_FTM(TANDEM_X)
#undef TANDEM_X
    }
    return "unknown";
}

std::string_view optionName(uint16_t code) {
    switch (code) {
#define TANDEM_X(code, name, field, kind, text) \
    case code:                                  \
        return text;
        TANDEM_FTO(TANDEM_X)
#undef TANDEM_X
    }
    return "unknown";
}

std::size_t optionFixedSize(uint16_t code) {
    auto size = [](OptionKind k) -> std::size_t {
        switch (k) {
            case OptionKind::U8: return 1;
            case OptionKind::U16: return 2;
            case OptionKind::U32:
            case OptionKind::Ipv4: return 4;
            case OptionKind::Bytes:
            case OptionKind::Text: return 0;
        }
        return 0;
    };
    switch (code) {
#define TANDEM_X(code, name, field, kind, text) \
    case code:                                  \
        return size(OptionKind::kind);
        TANDEM_FTO(TANDEM_X)
#undef TANDEM_X
    }
    return 0;
}

const uint16_t* sendOrder(MessageType type, std::size_t& count) {
    // ISC 4.4 server/failover.c: dhcp_failover_send_* build each message in this order.
    static const uint16_t kPoolresp[] = {1};
    static const uint16_t kBndupd[] = {2, 3, 4, 5, 13, 18, 25, 6, 12};
    static const uint16_t kBndack[] = {2, 21, 16};
    static const uint16_t kConnect[] = {22, 14, 19, 28, 20, 27, 15, 11};
    static const uint16_t kConnectack[] = {22, 14, 19, 28, 20, 26, 21, 16};
    static const uint16_t kState[] = {24, 23, 25};
    static const uint16_t kDisconnect[] = {21, 16};
    switch (type) {
        case MessageType::FTM_POOLRESP: count = std::size(kPoolresp); return kPoolresp;
        case MessageType::FTM_BNDUPD: count = std::size(kBndupd); return kBndupd;
        case MessageType::FTM_BNDACK: count = std::size(kBndack); return kBndack;
        case MessageType::FTM_CONNECT: count = std::size(kConnect); return kConnect;
        case MessageType::FTM_CONNECTACK: count = std::size(kConnectack); return kConnectack;
        case MessageType::FTM_STATE: count = std::size(kState); return kState;
        case MessageType::FTM_DISCONNECT: count = std::size(kDisconnect); return kDisconnect;
        case MessageType::FTM_POOLREQ:
        case MessageType::FTM_UPDREQALL:
        case MessageType::FTM_UPDDONE:
        case MessageType::FTM_UPDREQ:
        case MessageType::FTM_CONTACT:
            break;
    }
    count = 0;
    return nullptr;
}

}  // namespace tandem::failover
