// The scanner under the lease-file reader: ISC's token classes over bytes
// held in memory (names and numbers, quoted strings with ISC's escapes,
// single-character punctuation, `#` comments), with accept-if-matching calls
// that build no token on the hot path; line and column of a byte, computed
// only when a diagnostic needs them; and an allocation-free address index.
// Internal to conf/lease_reader.cc: it knows no lease-file keyword and reports
// nothing itself.
#ifndef TANDEM_CONF_LEASE_SCANNER_H
#define TANDEM_CONF_LEASE_SCANNER_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/diag.h"

namespace tandem::conf::leasescan {

using common::Location;

// ---------------------------------------------------------------------------
// Character classes, as ISC's lexer (conflex.c) splits its input: names and
// numbers are runs of letters, digits, '-' and '_'; every other printable
// character is a token of its own; `#` starts a comment to the end of the line.

enum : uint8_t { kSpace = 1, kWordChar = 2, kDigitChar = 4, kHexChar = 8 };

struct CharTable {
    uint8_t c[256] = {};
    constexpr CharTable() {
        for (int i = 0; i < 256; ++i) {
            uint8_t v = 0;
            if (i == ' ' || i == '\t' || i == '\n' || i == '\r' || i == '\v' || i == '\f') v |= kSpace;
            if ((i >= 'a' && i <= 'z') || (i >= 'A' && i <= 'Z') || (i >= '0' && i <= '9') || i == '-' || i == '_')
                v |= kWordChar;
            if (i >= '0' && i <= '9') v |= kDigitChar | kHexChar;
            if ((i >= 'a' && i <= 'f') || (i >= 'A' && i <= 'F')) v |= kHexChar;
            c[i] = v;
        }
    }
};
inline constexpr CharTable kChars;

inline bool is(char ch, uint8_t cls) { return kChars.c[static_cast<unsigned char>(ch)] & cls; }
inline bool isDigit(char ch) { return static_cast<unsigned>(ch - '0') < 10; }

inline int hexValue(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/// `word` equals the lower-case keyword `kw`, ignoring case (keywords are [a-z-]).
inline bool ieq(std::string_view word, std::string_view kw) {
    if (word.size() != kw.size()) return false;
    for (std::size_t i = 0; i < kw.size(); ++i)
        if ((word[i] | 0x20) != kw[i]) return false;
    return true;
}

inline std::string lowerCopy(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = char(c + 32);
    return out;
}

// ---------------------------------------------------------------------------
// Tokens. A token points into the file buffer; a string with escapes is
// decoded into one of two scratch buffers, enough for one token of lookahead.

enum class TokKind : uint8_t { End, Word, String, Punct, BadString };

struct Tok {
    TokKind kind = TokKind::End;
    char ch = 0;              ///< the character of a Punct
    const char* p = nullptr;  ///< start of the token's text in the file
    const char* e = nullptr;  ///< end of the token's text in the file
    std::string_view s;       ///< a Word's text; a String's decoded bytes (valid until two more tokens are lexed)

    bool isPunct(char c) const { return kind == TokKind::Punct && ch == c; }
    bool isWord() const { return kind == TokKind::Word; }
    bool atEnd() const { return kind == TokKind::End || kind == TokKind::BadString; }
};

class Lexer {
public:
    Lexer(const char* b, const char* e) : end_(e), p_(b), lastEnd_(b) {}

    const Tok& peek() {
        if (!havePeek_) {
            lex(peek_);
            havePeek_ = true;
        }
        return peek_;
    }
    /// Consume the next token (the peeked one, if any) and return it.
    const Tok& next() {
        if (havePeek_) {
            havePeek_ = false;
            last_ = peek_;
        } else {
            lex(last_);
        }
        lastEnd_ = last_.e;
        return last_;
    }

    // The accept* calls consume the next token only when it matches. Without a
    // peeked token they work on the raw bytes and build no token at all: they
    // are the hot path of a lease file.

    bool acceptPunct(char c) {
        if (havePeek_) {
            if (!peek_.isPunct(c)) return false;
            next();
            return true;
        }
        skip();
        if (p_ == end_ || *p_ != c) return false;
        lastEnd_ = ++p_;
        return true;
    }
    bool acceptWord(Tok& out) {
        if (havePeek_) {
            if (!peek_.isWord()) return false;
            out = next();
            return true;
        }
        skip();
        if (p_ == end_ || !is(*p_, kWordChar)) return false;
        const char* start = p_++;
        while (p_ < end_ && is(*p_, kWordChar)) ++p_;
        out.kind = TokKind::Word;
        out.p = start;
        out.e = lastEnd_ = p_;
        out.s = std::string_view(start, std::size_t(p_ - start));
        return true;
    }
    /// A word equal to the lower-case keyword `kw`, ignoring case.
    bool acceptKeyword(std::string_view kw) {
        if (havePeek_) {
            if (!peek_.isWord() || !ieq(peek_.s, kw)) return false;
            next();
            return true;
        }
        skip();
        const char* q = p_;
        while (q < end_ && is(*q, kWordChar)) ++q;
        if (!ieq(std::string_view(p_, std::size_t(q - p_)), kw)) return false;
        lastEnd_ = p_ = q;
        return true;
    }
    bool acceptString(Tok& out) {
        if (havePeek_) {
            if (peek_.kind != TokKind::String) return false;
            out = next();
            return true;
        }
        skip();
        if (p_ == end_ || *p_ != '"') return false;
        out.p = p_;
        lexString(out);
        if (out.kind != TokKind::String) {  // unterminated: leave it for peek() to report
            peek_ = out;
            havePeek_ = true;
            return false;
        }
        lastEnd_ = out.e;
        return true;
    }

    /// Colon-separated hex octets written without spaces ("00:0c:29"), appended
    /// to `out`. False, with nothing consumed, for any other form: the caller
    /// then reads token by token.
    bool acceptHexRun(std::string& out) {
        if (havePeek_) return false;
        skip();
        const std::size_t start = out.size();
        const char* q = p_;
        for (;;) {
            int v = 0, n = 0;
            while (q < end_ && n < 3 && is(*q, kHexChar)) v = v * 16 + hexValue(*q++), ++n;
            if (n == 0 || n > 2 || (q < end_ && is(*q, kWordChar))) {
                out.resize(start);
                return false;
            }
            out += char(v);
            if (q < end_ && *q == ':') {
                ++q;
                continue;
            }
            break;
        }
        // A ':' after a space or a comment would continue the list: not this form.
        const char* r = q;
        while (r < end_ && is(*r, kSpace)) ++r;
        if (r < end_ && (*r == ':' || *r == '#')) {
            out.resize(start);
            return false;
        }
        lastEnd_ = p_ = q;
        return true;
    }

    /// The end of the last consumed token.
    const char* lastEnd() const { return lastEnd_; }
    /// The raw input position, whitespace and comments skipped, or nullptr
    /// when a token is peeked; for fast paths.
    const char* raw() {
        if (havePeek_) return nullptr;
        skip();
        return p_;
    }
    const char* end() const { return end_; }
    /// Consume raw bytes up to `to` after a fast path has matched them.
    void advanceRaw(const char* to) { lastEnd_ = p_ = to; }

private:
    void skip() {
        for (;;) {
            while (p_ < end_ && is(*p_, kSpace)) ++p_;
            if (p_ == end_ || *p_ != '#') return;
            const void* nl = std::memchr(p_, '\n', std::size_t(end_ - p_));
            p_ = nl ? static_cast<const char*>(nl) : end_;
        }
    }

    void lex(Tok& t) {
        skip();
        if (p_ == end_) {
            t.kind = TokKind::End;
            t.p = t.e = end_;
            t.s = {};
            return;
        }
        const char* start = p_;
        char c = *p_;
        t.p = start;
        if (is(c, kWordChar)) {
            ++p_;
            while (p_ < end_ && is(*p_, kWordChar)) ++p_;
            t.kind = TokKind::Word;
            t.e = p_;
            t.s = std::string_view(start, std::size_t(p_ - start));
            return;
        }
        if (c == '"') {
            lexString(t);
            return;
        }
        ++p_;
        t.kind = TokKind::Punct;
        t.ch = c;
        t.e = p_;
        t.s = std::string_view(start, 1);
    }

    // ISC's read_string: \t \r \n \b, up to three octal digits, \x and up to
    // two hex digits; any other escaped character stands for itself.
    void lexString(Tok& t) {
        const char* body = p_ + 1;
        const char* q = body;
        while (q < end_ && *q != '"' && *q != '\\') ++q;
        if (q < end_ && *q == '"') {
            t.kind = TokKind::String;
            t.s = std::string_view(body, std::size_t(q - body));
            p_ = q + 1;
            t.e = p_;
            return;
        }
        std::string& buf = scratch_[which_];
        which_ ^= 1;
        buf.assign(body, std::size_t(q - body));
        q = body + buf.size();
        while (q < end_) {
            char c = *q++;
            if (c == '"') {
                t.kind = TokKind::String;
                t.s = buf;
                p_ = q;
                t.e = q;
                return;
            }
            if (c != '\\') {
                buf += c;
                continue;
            }
            if (q == end_) break;
            c = *q++;
            switch (c) {
            case 't': buf += '\t'; break;
            case 'r': buf += '\r'; break;
            case 'n': buf += '\n'; break;
            case 'b': buf += '\b'; break;
            case 'x':
            case 'X': {
                int v = 0, n = 0;
                while (n < 2 && q < end_ && hexValue(*q) >= 0) v = v * 16 + hexValue(*q++), ++n;
                if (n == 0)
                    buf += c;
                else
                    buf += char(v);
                break;
            }
            default:
                if (c >= '0' && c <= '7') {
                    int v = c - '0', n = 1;
                    while (n < 3 && q < end_ && *q >= '0' && *q <= '7') v = v * 8 + (*q++ - '0'), ++n;
                    buf += char(v & 0xff);
                } else {
                    buf += c;
                }
            }
        }
        t.kind = TokKind::BadString;  // the file ends inside the string
        t.s = buf;
        p_ = end_;
        t.e = end_;
    }

    const char* end_;
    const char* p_;
    const char* lastEnd_;
    bool havePeek_ = false;
    Tok peek_, last_;
    std::string scratch_[2];
    int which_ = 0;
};

// ---------------------------------------------------------------------------
// Line and column of a byte offset, computed only when a diagnostic needs it.
// Diagnostics come mostly in file order, so the count moves forward.

class LineMap {
public:
    LineMap(const char* base, std::shared_ptr<const std::string> file)
        : base_(base), cur_(base), lineStart_(base), file_(std::move(file)) {}

    Location at(const char* p) {
        if (p < cur_) {
            cur_ = lineStart_ = base_;
            line_ = 1;
        }
        while (cur_ < p) {
            const void* nl = std::memchr(cur_, '\n', std::size_t(p - cur_));
            if (!nl) {
                cur_ = p;
                break;
            }
            ++line_;
            cur_ = static_cast<const char*>(nl) + 1;
            lineStart_ = cur_;
        }
        Location l;
        l.file = file_;
        l.line = line_;
        l.col = unsigned(p - lineStart_) + 1;
        return l;
    }

private:
    const char* base_;
    const char* cur_;
    const char* lineStart_;
    unsigned line_ = 1;
    std::shared_ptr<const std::string> file_;
};

// ---------------------------------------------------------------------------
// Address -> index into the lease vector: open addressing, no allocation per insert.

class AddressIndex {
public:
    explicit AddressIndex(std::size_t expected) {
        std::size_t cap = 1024;
        while (cap < expected * 2) cap <<= 1;
        resize(cap);
    }
    /// The slot value for `addr`: an index, or kEmpty (then `insert` may follow).
    uint32_t* find(uint32_t addr, bool& found) {
        std::size_t i = hash(addr);
        for (;;) {
            Slot& s = slots_[i];
            if (s.index == kEmpty) {
                found = false;
                last_ = &s;
                lastKey_ = addr;
                return &s.index;
            }
            if (s.key == addr) {
                found = true;
                return &s.index;
            }
            i = (i + 1) & mask_;
        }
    }
    /// Fill the slot `find` returned empty.
    void insertAtLast(uint32_t index) {
        last_->key = lastKey_;
        last_->index = index;
        if (++size_ * 2 > slots_.size()) grow();
    }

private:
    static constexpr uint32_t kEmpty = UINT32_MAX;
    struct Slot {
        uint32_t key = 0;
        uint32_t index = kEmpty;
    };
    // Each /24 gets a run of 256 slots placed by a multiplicative hash, so the
    // mostly consecutive addresses of a lease file probe consecutive memory.
    std::size_t hash(uint32_t a) const {
        return (((uint64_t(a >> 8) * 0x9E3779B97F4A7C15ull) >> 24) << 8 | (a & 0xff)) & mask_;
    }
    void resize(std::size_t cap) {
        slots_.assign(cap, Slot{});
        mask_ = cap - 1;
    }
    void grow() {
        std::vector<Slot> old;
        old.swap(slots_);
        resize(old.size() * 2);
        for (const Slot& s : old) {
            if (s.index == kEmpty) continue;
            std::size_t i = hash(s.key);
            while (slots_[i].index != kEmpty) i = (i + 1) & mask_;
            slots_[i] = s;
        }
    }
    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
    std::size_t size_ = 0;
    Slot* last_ = nullptr;
    uint32_t lastKey_ = 0;
};

}  // namespace tandem::conf::leasescan

#endif
