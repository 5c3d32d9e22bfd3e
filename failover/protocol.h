// The failover protocol's tables, written once: message types and option codes
// of draft-ietf-dhc-failover-12 as ISC dhcpd 4.4 uses them, with each option's
// wire shape, and for each message the options ISC sends and their order. The
// enums, the names, the codec and the checks all draw from these X-macros.
#ifndef TANDEM_FAILOVER_PROTOCOL_H
#define TANDEM_FAILOVER_PROTOCOL_H

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tandem::failover {

// X(code, enumerator, tshark-style name)
#define TANDEM_FTM(X)               \
    X(1, POOLREQ, "POOLREQ")        \
    X(2, POOLRESP, "POOLRESP")      \
    X(3, BNDUPD, "BNDUPD")          \
    X(4, BNDACK, "BNDACK")          \
    X(5, CONNECT, "CONNECT")        \
    X(6, CONNECTACK, "CONNECTACK")  \
    X(7, UPDREQALL, "UPDREQALL")    \
    X(8, UPDDONE, "UPDDONE")        \
    X(9, UPDREQ, "UPDREQ")          \
    X(10, STATE, "STATE")           \
    X(11, CONTACT, "CONTACT")       \
    X(12, DISCONNECT, "DISCONNECT")

enum class MessageType : uint8_t {
#define TANDEM_X(code, name, text) FTM_##name = code,
    TANDEM_FTM(TANDEM_X)
#undef TANDEM_X
};

/// How an option's value is laid out. Fixed kinds have one exact size.
enum class OptionKind : uint8_t { U8, U16, U32, Ipv4, Bytes, Text };

// X(code, enumerator, field in Message, kind, name). draft-ietf-dhc-failover-12 §12,
// with ISC's sizes: IP-flags is 2 bytes, TLS-request 1 byte.
#define TANDEM_FTO(X)                                                                         \
    X(1, ADDRESSES_TRANSFERRED, addressesTransferred, U32, "addresses-transferred")           \
    X(2, ASSIGNED_IP_ADDRESS, assignedIpAddress, Ipv4, "assigned-IP-address")                 \
    X(3, BINDING_STATUS, bindingStatus, U8, "binding-status")                                 \
    X(4, CLIENT_IDENTIFIER, clientIdentifier, Bytes, "client-identifier")                     \
    X(5, CHADDR, chaddr, Bytes, "client-hardware-address")                                    \
    X(6, CLTT, cltt, U32, "client-last-transaction-time")                                     \
    X(7, REPLY_OPTIONS, replyOptions, Bytes, "client-reply-options")                          \
    X(8, REQUEST_OPTIONS, requestOptions, Bytes, "client-request-options")                    \
    X(9, DDNS, ddns, Bytes, "DDNS")                                                           \
    X(10, DELAYED_SERVICE, delayedService, U8, "delayed-service-parameter")                   \
    X(11, HBA, hba, Bytes, "hash-bucket-assignment")                                          \
    X(12, IP_FLAGS, ipFlags, U16, "IP-flags")                                                 \
    X(13, LEASE_EXPIRY, leaseExpiry, U32, "lease-expiration-time")                            \
    X(14, MAX_UNACKED, maxUnacked, U32, "max-unacked-bndupd")                                 \
    X(15, MCLT, mclt, U32, "MCLT")                                                            \
    X(16, MESSAGE, message, Text, "message")                                                  \
    X(17, MESSAGE_DIGEST, messageDigest, Bytes, "message-digest")                             \
    X(18, POTENTIAL_EXPIRY, potentialExpiry, U32, "potential-expiration-time")                \
    X(19, RECEIVE_TIMER, receiveTimer, U32, "receive-timer")                                  \
    X(20, PROTOCOL_VERSION, protocolVersion, U8, "protocol-version")                          \
    X(21, REJECT_REASON, rejectReason, U8, "reject-reason")                                   \
    X(22, RELATIONSHIP_NAME, relationshipName, Text, "relationship-name")                     \
    X(23, SERVER_FLAGS, serverFlags, U8, "server-flags")                                      \
    X(24, SERVER_STATE, serverState, U8, "server-state")                                      \
    X(25, STOS, startTimeOfState, U32, "start-time-of-state")                                 \
    X(26, TLS_REPLY, tlsReply, U8, "TLS-reply")                                               \
    X(27, TLS_REQUEST, tlsRequest, U8, "TLS-request")                                         \
    X(28, VENDOR_CLASS, vendorClass, Bytes, "vendor-class-identifier")                        \
    X(29, VENDOR_OPTIONS, vendorOptions, Bytes, "vendor-specific-options")

enum class OptionCode : uint16_t {
#define TANDEM_X(code, name, field, kind, text) FTO_##name = code,
    TANDEM_FTO(TANDEM_X)
#undef TANDEM_X
};

constexpr std::size_t kHeaderSize = 12;       ///< length, type, payload offset, time, xid
constexpr std::size_t kMinMessageSize = 12;   ///< ISC's DHCP_FAILOVER_MIN_MESSAGE_SIZE
constexpr std::size_t kMaxMessageSize = 2048; ///< ISC's DHCP_FAILOVER_MAX_MESSAGE_SIZE
constexpr uint16_t kMaxOptionCode = 29;

std::string_view messageTypeName(uint8_t type);   ///< "BNDUPD", or "unknown"
std::string_view optionName(uint16_t code);       ///< "binding-status", or "unknown"
/// The fixed size of an option's value, or 0 when it is variable.
std::size_t optionFixedSize(uint16_t code);

/// The options ISC sends in a message of this type, in its order (failover.c).
/// Returns a pointer to `count` codes.
const uint16_t* sendOrder(MessageType type, std::size_t& count);

}  // namespace tandem::failover

#endif
