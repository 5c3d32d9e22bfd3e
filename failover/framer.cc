#include "failover/framer.h"

#include "failover/protocol.h"

namespace tandem::failover {

void Framer::feed(const uint8_t* data, std::size_t size) {
    if (broken()) return;
    // Drop what was consumed before growing, so a long-lived link keeps a small buffer.
    if (start_ > 0 && start_ == buf_.size()) {
        buf_.clear();
        start_ = 0;
    } else if (start_ > 4096) {
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<long>(start_));
        start_ = 0;
    }
    buf_.insert(buf_.end(), data, data + size);
}

bool Framer::next(std::vector<uint8_t>& out) {
    if (broken() || buffered() < 2) return false;
    std::size_t length = std::size_t(buf_[start_]) << 8 | buf_[start_ + 1];
    if (length < kMinMessageSize || length > kMaxMessageSize) {
        error_ = "message length " + std::to_string(length) + " is outside " + std::to_string(kMinMessageSize) + ".." +
                 std::to_string(kMaxMessageSize);
        return false;
    }
    if (buffered() < length) return false;
    out.assign(buf_.begin() + static_cast<long>(start_), buf_.begin() + static_cast<long>(start_ + length));
    start_ += length;
    return true;
}

}  // namespace tandem::failover
