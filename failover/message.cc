#include "failover/message.h"

namespace tandem::failover {

namespace {

uint32_t get32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
uint16_t get16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
void put32(std::vector<uint8_t>& o, uint32_t v) {
    o.push_back(uint8_t(v >> 24));
    o.push_back(uint8_t(v >> 16));
    o.push_back(uint8_t(v >> 8));
    o.push_back(uint8_t(v));
}
void put16(std::vector<uint8_t>& o, uint16_t v) {
    o.push_back(uint8_t(v >> 8));
    o.push_back(uint8_t(v));
}

// One overload per value type: read exactly `n` bytes, or refuse.
bool read(const uint8_t* p, std::size_t n, uint8_t& out) { return n == 1 ? (out = p[0], true) : false; }
bool read(const uint8_t* p, std::size_t n, uint16_t& out) { return n == 2 ? (out = get16(p), true) : false; }
bool read(const uint8_t* p, std::size_t n, uint32_t& out) { return n == 4 ? (out = get32(p), true) : false; }
bool read(const uint8_t* p, std::size_t n, std::vector<uint8_t>& out) { return out.assign(p, p + n), true; }
bool read(const uint8_t* p, std::size_t n, std::string& out) {
    return out.assign(reinterpret_cast<const char*>(p), n), true;
}

void write(std::vector<uint8_t>& o, uint8_t v) { o.push_back(v); }
void write(std::vector<uint8_t>& o, uint16_t v) { put16(o, v); }
void write(std::vector<uint8_t>& o, uint32_t v) { put32(o, v); }
void write(std::vector<uint8_t>& o, const std::vector<uint8_t>& v) { o.insert(o.end(), v.begin(), v.end()); }
void write(std::vector<uint8_t>& o, const std::string& v) { o.insert(o.end(), v.begin(), v.end()); }

template <typename T>
std::size_t sizeOf(const T&) { return sizeof(T); }
std::size_t sizeOf(const std::vector<uint8_t>& v) { return v.size(); }
std::size_t sizeOf(const std::string& v) { return v.size(); }

/// Set the field for `code` from the option's bytes. -1: unknown code; 0: wrong size; 1: set.
int setField(Message& m, uint16_t code, const uint8_t* p, std::size_t n) {
    switch (code) {
#define TANDEM_X(c, name, field, kind, text)              \
    case c: {                                             \
        detail::KindType<OptionKind::kind>::type v{};     \
        if (!read(p, n, v)) return 0;                     \
        m.field = std::move(v);                           \
        return 1;                                         \
    }
        TANDEM_FTO(TANDEM_X)
#undef TANDEM_X
    }
    return -1;
}

bool hasField(const Message& m, uint16_t code) {
    switch (code) {
#define TANDEM_X(c, name, field, kind, text) \
    case c:                                  \
        return m.field.has_value();
        TANDEM_FTO(TANDEM_X)
#undef TANDEM_X
    }
    return false;
}

void writeField(std::vector<uint8_t>& o, const Message& m, uint16_t code) {
    switch (code) {
#define TANDEM_X(c, name, field, kind, text)                                    \
    case c:                                                                     \
        if (m.field) {                                                          \
            put16(o, c);                                                        \
            put16(o, static_cast<uint16_t>(sizeOf(*m.field)));                  \
            write(o, *m.field);                                                 \
        }                                                                       \
        return;
        TANDEM_FTO(TANDEM_X)
#undef TANDEM_X
    }
}

DecodeResult fail(std::string error, std::size_t offset) {
    DecodeResult r;
    r.error = std::move(error);
    r.offset = offset;
    return r;
}

std::string name(uint16_t code) { return std::string(optionName(code)) + " (" + std::to_string(code) + ")"; }

}  // namespace

bool Message::operator==(const Message& o) const {
    bool same = type == o.type && time == o.time && xid == o.xid;
#define TANDEM_X(c, name, field, kind, text) same = same && field == o.field;
    TANDEM_FTO(TANDEM_X)
#undef TANDEM_X
    if (!same || unknown.size() != o.unknown.size()) return false;
    for (std::size_t i = 0; i < unknown.size(); ++i)
        if (unknown[i].code != o.unknown[i].code || unknown[i].data != o.unknown[i].data) return false;
    return true;
}

DecodeResult decode(const uint8_t* data, std::size_t size) {
    if (size < kHeaderSize) return fail("message of " + std::to_string(size) + " bytes is shorter than the 12-byte header", 0);
    std::size_t length = get16(data);
    if (length != size)
        return fail("length field says " + std::to_string(length) + " bytes but the message has " + std::to_string(size), 0);
    if (length > kMaxMessageSize) return fail("message of " + std::to_string(length) + " bytes is over 2048", 0);
    uint8_t type = data[2];
    if (type < 1 || type > 12) return fail("unknown message type " + std::to_string(type), 2);
    std::size_t payoff = data[3];
    // draft-ietf-dhc-failover-12 says 8, but the header is 12 bytes; ISC sends 12.
    if (payoff < kHeaderSize || payoff > length)
        return fail("payload offset " + std::to_string(payoff) + " is outside 12.." + std::to_string(length), 3);
    Message m;
    m.type = static_cast<MessageType>(type);
    m.time = get32(data + 4);
    m.xid = get32(data + 8);
    bool seen[kMaxOptionCode + 1] = {};
    std::size_t pos = payoff;
    while (pos < length) {
        if (length - pos < 4) return fail("truncated option header", pos);
        uint16_t code = get16(data + pos);
        std::size_t olen = get16(data + pos + 2);
        if (olen > length - pos - 4)
            return fail("option " + name(code) + " of " + std::to_string(olen) + " bytes runs past the end", pos);
        const uint8_t* value = data + pos + 4;
        if (code >= 1 && code <= kMaxOptionCode) {
            if (seen[code]) return fail("duplicate option " + name(code), pos);
            seen[code] = true;
            if (setField(m, code, value, olen) == 0)
                return fail("option " + name(code) + " has " + std::to_string(olen) + " bytes, not " +
                                std::to_string(optionFixedSize(code)),
                            pos);
            if (code == uint16_t(OptionCode::FTO_MESSAGE_DIGEST) && pos + 4 + olen != length)
                return fail("message-digest (17) is not the last option", pos);
        } else {
            m.unknown.push_back({code, std::vector<uint8_t>(value, value + olen)});
        }
        pos += 4 + olen;
    }
    DecodeResult r;
    r.message = std::move(m);
    return r;
}

std::vector<uint8_t> encode(const Message& m) {
    std::vector<uint8_t> out;
    out.reserve(64);
    put16(out, 0);  // length, patched below
    out.push_back(static_cast<uint8_t>(m.type));
    out.push_back(static_cast<uint8_t>(kHeaderSize));
    put32(out, m.time);
    put32(out, m.xid);
    std::size_t count = 0;
    const uint16_t* order = sendOrder(m.type, count);
    bool done[kMaxOptionCode + 1] = {};
    // draft-ietf-dhc-failover-12 §12.17: the message digest is always the last option.
    const uint16_t digest = uint16_t(OptionCode::FTO_MESSAGE_DIGEST);
    done[digest] = true;
    for (std::size_t i = 0; i < count; ++i) {
        writeField(out, m, order[i]);
        done[order[i]] = true;
    }
    for (uint16_t code = 1; code <= kMaxOptionCode; ++code)
        if (!done[code] && hasField(m, code)) writeField(out, m, code);
    for (const auto& u : m.unknown) {
        put16(out, u.code);
        put16(out, static_cast<uint16_t>(u.data.size()));
        out.insert(out.end(), u.data.begin(), u.data.end());
    }
    writeField(out, m, digest);
    out[0] = uint8_t(out.size() >> 8);
    out[1] = uint8_t(out.size());
    return out;
}

}  // namespace tandem::failover
