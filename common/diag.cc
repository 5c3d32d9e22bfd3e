#include "common/diag.h"

#include <ostream>
#include <sstream>

namespace tandem::common {

const std::string& Location::fileName() const {
    static const std::string kUnknown = "<input>";
    return file ? *file : kUnknown;
}

std::string Location::str() const {
    std::ostringstream os;
    os << fileName();
    if (line) {
        os << ':' << line;
        if (col) os << ':' << col;
    }
    return os.str();
}

void DiagnosticSink::add(Diagnostic d) {
    if (d.severity == Severity::Error) {
        if (errors_ >= errorCap_) {
            ++suppressed_;
            return;
        }
        ++errors_;
    } else if (d.severity == Severity::Warning) {
        ++warnings_;
    }
    diags_.push_back(std::move(d));
}

void DiagnosticSink::error(const Location& where, std::string message) {
    add({Severity::Error, where, std::move(message)});
}
void DiagnosticSink::warning(const Location& where, std::string message) {
    add({Severity::Warning, where, std::move(message)});
}
void DiagnosticSink::note(const Location& where, std::string message) {
    add({Severity::Note, where, std::move(message)});
}

void DiagnosticSink::registerSource(const std::shared_ptr<const std::string>& file, std::string text) {
    Source s;
    s.file = file;
    std::string line;
    for (char c : text) {
        if (c == '\n') {
            s.lines.push_back(std::move(line));
            line.clear();
        } else {
            line += c;
        }
    }
    s.lines.push_back(std::move(line));
    sources_.push_back(std::move(s));
}

const std::string* DiagnosticSink::sourceLine(const Location& where) const {
    if (!where.file || where.line == 0) return nullptr;
    for (const auto& s : sources_) {
        if (s.file == where.file || (s.file && *s.file == *where.file)) {
            if (where.line <= s.lines.size()) return &s.lines[where.line - 1];
            return nullptr;
        }
    }
    return nullptr;
}

std::string DiagnosticSink::format(const Diagnostic& d) const {
    static const char* const kWords[] = {"note", "warning", "error"};
    std::ostringstream os;
    os << d.where.str() << ": " << kWords[static_cast<int>(d.severity)] << ": " << d.message << '\n';
    if (const std::string* line = sourceLine(d.where)) {
        // Show the line with control characters made visible, so a hostile file
        // cannot drive the terminal; the caret column stays aligned.
        std::string shown;
        for (unsigned char c : *line) shown += (c == '\t' || (c >= 0x20 && c < 0x7f)) ? char(c) : '?';
        if (shown.size() > 200) shown.resize(200);
        os << "  " << shown << '\n' << "  ";
        unsigned col = d.where.col ? d.where.col : 1;
        for (unsigned i = 1; i < col && i <= shown.size(); ++i) os << (shown[i - 1] == '\t' ? '\t' : ' ');
        os << "^\n";
    }
    return os.str();
}

void DiagnosticSink::print(std::ostream& out) const {
    for (const auto& d : diags_) out << format(d);
    if (capReached())
        out << "too many errors: stopped after " << errors_ << (suppressed_ ? "; later ones are not shown" : "") << '\n';
}

}  // namespace tandem::common
