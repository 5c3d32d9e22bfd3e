// Cuts a TCP byte stream into failover messages by their 2-byte length prefix.
// Incremental: feed whatever recv() returned. It checks only the length; the
// message itself is decode()'s business. A bad length poisons the stream, since
// nothing after it can be trusted to start a message.
#ifndef TANDEM_FAILOVER_FRAMER_H
#define TANDEM_FAILOVER_FRAMER_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tandem::failover {

class Framer {
public:
    /// @brief Add bytes read from the connection.
    void feed(const uint8_t* data, std::size_t size);
    /// @brief Take the next whole message into `out`. False when none is complete
    /// yet, or when the stream is broken (then error() says why).
    bool next(std::vector<uint8_t>& out);
    const std::string& error() const { return error_; }
    bool broken() const { return !error_.empty(); }
    std::size_t buffered() const { return buf_.size() - start_; }

private:
    std::vector<uint8_t> buf_;
    std::size_t start_ = 0;
    std::string error_;
};

}  // namespace tandem::failover

#endif
