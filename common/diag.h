// Locations and diagnostics shared by every reader of user text (dhcpd.conf,
// dhcpd.leases). A Diagnostic says where (file:line:col), how bad, and what;
// a DiagnosticSink collects them and prints them GNU-style with the source line
// and a caret. It must not know anything about the grammar that produced them.
#ifndef TANDEM_COMMON_DIAG_H
#define TANDEM_COMMON_DIAG_H

#include <cstddef>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace tandem::common {

/// @brief A point in a named source. Lines and columns count from 1; 0 means unknown.
struct Location {
    std::shared_ptr<const std::string> file;  ///< shared so locations outlive the parse
    unsigned line = 0;
    unsigned col = 0;

    const std::string& fileName() const;
    /// "file:line:col", or less when parts are unknown.
    std::string str() const;
};

enum class Severity { Note, Warning, Error };

struct Diagnostic {
    Severity severity = Severity::Error;
    Location where;
    std::string message;
};

/// @brief Collects diagnostics up to a cap on errors; the source text of each
/// file can be registered so that printing shows the offending line and a caret.
class DiagnosticSink {
public:
    static constexpr std::size_t kDefaultErrorCap = 20;

    explicit DiagnosticSink(std::size_t errorCap = kDefaultErrorCap) : errorCap_(errorCap) {}

    void error(const Location& where, std::string message);
    void warning(const Location& where, std::string message);
    void note(const Location& where, std::string message);
    void add(Diagnostic d);

    /// @brief Remember a file's text so that print() can quote its lines.
    void registerSource(const std::shared_ptr<const std::string>& file, std::string text);

    std::size_t errorCount() const { return errors_; }
    std::size_t warningCount() const { return warnings_; }
    bool capReached() const { return errors_ >= errorCap_; }
    const std::vector<Diagnostic>& all() const { return diags_; }

    /// @brief Print every diagnostic: "file:line:col: error: message", the line, a caret.
    void print(std::ostream& out) const;
    /// @brief Format one diagnostic the way print() does.
    std::string format(const Diagnostic& d) const;

private:
    const std::string* sourceLine(const Location& where) const;

    std::size_t errorCap_;
    std::size_t errors_ = 0;
    std::size_t warnings_ = 0;
    std::size_t suppressed_ = 0;
    std::vector<Diagnostic> diags_;
    struct Source {
        std::shared_ptr<const std::string> file;
        std::vector<std::string> lines;
    };
    std::vector<Source> sources_;
};

}  // namespace tandem::common

#endif
