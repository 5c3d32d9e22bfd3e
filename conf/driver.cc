#include "conf/driver.h"

#include <climits>
#include <cstdlib>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "conf/keywords.h"

namespace tandem::conf {

namespace {

struct ScannerFailure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string dirName(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::string canonical(const std::string& path) {
    char buf[PATH_MAX];
    if (::realpath(path.c_str(), buf)) return buf;
    return path;
}

bool isNumber(const char* text, std::size_t len) {
    std::size_t i = (len > 1 && text[0] == '-') ? 1 : 0;
    if (i == len) return false;
    for (; i < len; ++i)
        if (text[i] < '0' || text[i] > '9') return false;
    return true;
}

}  // namespace

Driver::Driver(common::DiagnosticSink& sink) : sink_(sink) {}

Driver::~Driver() { stopScanner(); }

void Driver::scannerFatal(const char* message) { throw ScannerFailure(message); }

const std::string* Driver::internName(const std::string& name) {
    for (const auto& n : names_)
        if (*n == name) return n.get();
    names_.push_back(std::make_shared<const std::string>(name));
    return names_.back().get();
}

common::Location Driver::toLocation(const tandem::conf::position& p) const {
    common::Location l;
    for (const auto& n : names_)
        if (n.get() == p.filename) l.file = n;
    l.line = static_cast<unsigned>(p.line);
    l.col = static_cast<unsigned>(p.column);
    return l;
}

common::Location Driver::toLocation(const Parser::location_type& where) const { return toLocation(where.begin); }

void Driver::error(const Parser::location_type& where, const std::string& message) {
    std::string m = message;
    static const std::string kPrefix = "syntax error, ";
    if (m.compare(0, kPrefix.size(), kPrefix) == 0) m = m.substr(kPrefix.size());
    sink_.error(toLocation(where), m);
}

void Driver::warning(const Parser::location_type& where, const std::string& message) {
    sink_.warning(toLocation(where), message);
}

bool Driver::readFile(const std::string& path, std::string& text, std::string& why) const {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
        why = std::strerror(errno);
        return false;
    }
    if (S_ISDIR(st.st_mode)) {
        why = "is a directory";
        return false;
    }
    if (S_ISREG(st.st_mode) && static_cast<std::size_t>(st.st_size) > kMaxFileSize) {
        why = "file is larger than " + std::to_string(kMaxFileSize >> 20) + " MiB";
        return false;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        why = std::strerror(errno);
        return false;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
    if (text.size() > kMaxFileSize) {
        why = "file is too large";
        return false;
    }
    return true;
}

StmtList Driver::parseFile(const std::string& path) {
    std::string text, why;
    auto name = std::make_shared<const std::string>(path);
    names_.push_back(name);
    if (!readFile(path, text, why)) {
        common::Location l;
        l.file = name;
        sink_.error(l, "can't open " + path + ": " + why);
        return {};
    }
    openFiles_.push_back(canonical(path));
    return run(text, name);
}

StmtList Driver::parseString(const std::string& text, const std::string& name) {
    auto n = std::make_shared<const std::string>(name);
    names_.push_back(n);
    openFiles_.push_back(name);
    return run(text, n);
}

StmtList Driver::run(const std::string& text, std::shared_ptr<const std::string> name) {
    sink_.registerSource(name, text);
    loc_.initialize(name.get());
    result.clear();
    try {
        startScanner(text);
        Parser parser(*this);
        parser.parse();
    } catch (const ScannerFailure& e) {
        sink_.error(toLocation(loc_), std::string("scanner failure: ") + e.what());
    } catch (const std::bad_alloc&) {
        sink_.error(toLocation(loc_), "out of memory while parsing");
    }
    stopScanner();
    openFiles_.clear();
    return std::move(result);
}

void Driver::include(const std::string& path, const Parser::location_type& where) {
    if (path.empty()) {
        error(where, "include needs a file name");
        return;
    }
    if (includes_.size() >= kMaxIncludeDepth) {
        error(where, "includes nested more than " + std::to_string(kMaxIncludeDepth) + " deep");
        return;
    }
    // ISC opens a relative path as given, against the working directory. When
    // that fails we also try the including file's directory, and say so, since
    // ISC itself would not find the file.
    std::string text, why, used = path;
    if (!readFile(path, text, why)) {
        std::string alt;
        const std::string& includer = where.begin.filename ? *where.begin.filename : std::string();
        if (!path.empty() && path[0] != '/' && !includer.empty())
            alt = dirName(includer) + "/" + path;
        std::string why2;
        if (!alt.empty() && readFile(alt, text, why2)) {
            warning(where, "can't open " + path + " in the working directory; using " + alt +
                               " next to the including file (ISC dhcpd would not find it)");
            used = alt;
        } else {
            error(where, "can't open " + path + ": " + why);
            return;
        }
    }
    std::string canon = canonical(used);
    for (const auto& open : openFiles_) {
        if (open == canon) {
            error(where, "include cycle: " + used + " is already being read");
            return;
        }
    }
    const std::string* name = internName(used);
    for (const auto& n : names_)
        if (n.get() == name) sink_.registerSource(n, text);
    openFiles_.push_back(canon);
    Include inc;
    inc.resume = loc_;
    includes_.push_back(inc);
    switchToIncluded(text);
    loc_.initialize(name);
}

Parser::symbol_type Driver::word(const char* text, std::size_t len) {
    std::string w(text, len);
    if (w == "-") return Parser::symbol_type(Parser::token_kind_type('-'), loc_);
    if (auto kw = lookupKeyword(w)) return Parser::symbol_type(*kw, w, loc_);
    if (isNumber(text, len)) return Parser::make_NUMBER(std::move(w), loc_);
    return Parser::make_NAME(std::move(w), loc_);
}

void Driver::beginString() {
    str_.clear();
    strStart_ = loc_;
}

Parser::symbol_type Driver::endString() {
    Parser::location_type l = strStart_;
    l.end = loc_.end;
    return Parser::make_STRING(std::move(str_), l);
}

Parser::symbol_type Driver::unterminatedString() {
    error(strStart_, "eof in string constant: the string that starts here is never closed");
    return endString();
}

}  // namespace tandem::conf
