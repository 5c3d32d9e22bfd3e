// Runs the dhcpd.conf scanner and parser over a file and the files it
// includes, and hands back the syntax tree. It owns the include stack, the file
// names that locations point to, and the reporting of lexical and syntax errors
// to a DiagnosticSink. It gives nothing a meaning: see config_builder.h.
#ifndef TANDEM_CONF_DRIVER_H
#define TANDEM_CONF_DRIVER_H

#include <memory>
#include <string>
#include <vector>

#include "common/diag.h"
#include "conf/ast.h"
#include "conf/parser.hh"

namespace tandem::conf {

class Driver {
public:
    /// Includes nested deeper than this are refused (ISC has no limit; a loop would never end).
    static constexpr std::size_t kMaxIncludeDepth = 10;
    /// Files larger than this are refused rather than read into memory.
    static constexpr std::size_t kMaxFileSize = 64u << 20;

    explicit Driver(common::DiagnosticSink& sink);
    ~Driver();
    Driver(const Driver&) = delete;
    Driver& operator=(const Driver&) = delete;

    /// @brief Parse a file and everything it includes. Problems go to the sink.
    StmtList parseFile(const std::string& path);
    /// @brief Parse text held in memory, named `name` in diagnostics.
    StmtList parseString(const std::string& text, const std::string& name);

    // ---- used by the scanner and the parser
    Parser::location_type& loc() { return loc_; }
    Parser::symbol_type lex();
    Parser::symbol_type word(const char* text, std::size_t len);
    void beginString();
    void stringByte(char c) { str_ += c; }
    void stringText(const char* text, std::size_t len) { str_.append(text, len); }
    Parser::symbol_type endString();
    Parser::symbol_type unterminatedString();
    bool popInclude(void* scanner);
    /// @brief `include "path";` seen at `where`: start reading that file.
    void include(const std::string& path, const Parser::location_type& where);

    void error(const Parser::location_type& where, const std::string& message);
    void warning(const Parser::location_type& where, const std::string& message);
    common::Location toLocation(const Parser::location_type& where) const;
    common::Location toLocation(const tandem::conf::position& where) const;

    /// Flex calls this on internal failure (out of memory); we throw, the parse reports it.
    [[noreturn]] static void scannerFatal(const char* message);

    StmtList result;

private:
    struct Include {
        void* buffer = nullptr;             ///< the includer's flex buffer
        Parser::location_type resume;       ///< where to go on in the includer
    };

    StmtList run(const std::string& text, std::shared_ptr<const std::string> name);
    bool readFile(const std::string& path, std::string& text, std::string& why) const;
    const std::string* internName(const std::string& name);
    void startScanner(const std::string& text);
    void stopScanner();
    void switchToIncluded(const std::string& text);

    common::DiagnosticSink& sink_;
    void* scanner_ = nullptr;
    Parser::location_type loc_;
    std::string str_;
    Parser::location_type strStart_;
    std::vector<std::shared_ptr<const std::string>> names_;
    std::vector<Include> includes_;
    std::vector<std::string> openFiles_;  ///< canonical paths being read, to find include cycles
};

}  // namespace tandem::conf

#endif
