#include "common/lease_record.h"

#include "common/option_def.h"

namespace tandem::common {

namespace {
struct StateRow {
    BindingState state;
    std::string_view name;
};
constexpr StateRow kStates[] = {
#define TANDEM_X(name, code, text) {BindingState::name, text},
    TANDEM_BINDING_STATES(TANDEM_X)
#undef TANDEM_X
};
}  // namespace

std::string_view toString(BindingState s) {
    for (const auto& r : kStates)
        if (r.state == s) return r.name;
    // ISC writes any value it does not know as abandoned (write_lease).
    return "abandoned";
}

std::optional<BindingState> bindingStateFromString(std::string_view word) {
    for (const auto& r : kStates)
        if (iequal(r.name, word)) return r.state;
    return std::nullopt;
}

std::optional<BindingState> bindingStateFromCode(uint8_t code) {
    if (code < 1 || code > 7) return std::nullopt;
    return static_cast<BindingState>(code);
}

std::string HwAddr::str() const {
    static const char kHex[] = "0123456789abcdef";
    std::string s;
    s.reserve(len * 3);
    for (unsigned i = 0; i < len; ++i) {
        if (i) s += ':';
        s += kHex[bytes[i] >> 4];
        s += kHex[bytes[i] & 15];
    }
    return s;
}

std::string HwAddr::key() const {
    std::string k(1, char(htype));
    k.append(view());
    return k;
}

LeaseRecord& LeaseRecord::operator=(const LeaseRecord& o) {
    if (this == &o) return *this;
    address = o.address;
    starts = o.starts;
    ends = o.ends;
    tstp = o.tstp;
    tsfp = o.tsfp;
    atsfp = o.atsfp;
    cltt = o.cltt;
    state = o.state;
    next = o.next;
    rewind = o.rewind;
    reserved = o.reserved;
    bootp = o.bootp;
    hw = o.hw;
    uid = o.uid;
    hostname = o.hostname;
    extras = o.extras ? std::make_unique<LeaseExtras>(*o.extras) : nullptr;
    return *this;
}

bool LeaseRecord::operator==(const LeaseRecord& o) const {
    static const LeaseExtras kNone;
    const LeaseExtras& a = extras ? *extras : kNone;
    const LeaseExtras& b = o.extras ? *o.extras : kNone;
    return address == o.address && starts == o.starts && ends == o.ends && tstp == o.tstp && tsfp == o.tsfp &&
           atsfp == o.atsfp && cltt == o.cltt && state == o.state && next == o.next && rewind == o.rewind &&
           reserved == o.reserved && bootp == o.bootp && hw == o.hw && uid == o.uid && hostname == o.hostname &&
           a == b;
}

LeaseExtras& LeaseRecord::ext() {
    if (!extras) extras = std::make_unique<LeaseExtras>();
    return *extras;
}

}  // namespace tandem::common
