// dhcp-eval(5) evaluation with ISC dhcpd 4.4's semantics (common/tree.c). The
// comments name the ISC rule each case follows where it is not obvious.
#include "server/eval.h"

#include <regex.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <deque>

#include "common/log.h"
#include "conf/words.h"

namespace tandem::server {

// ---------------------------------------------------------------- small types

const conf::Scope* ClassMatch::scope() const {
    if (subclass && subclass->scope) return subclass->scope.get();
    return cls ? cls->scope.get() : nullptr;
}

std::string_view ClassMatch::subclassData() const {
    if (subclass) return {reinterpret_cast<const char*>(subclass->data.data()), subclass->data.size()};
    if (spawned) return spawnedData;
    return {};
}

const common::LeaseVariable* Bindings::find(std::string_view name) const {
    for (const auto& v : vars)
        if (common::iequal(v.name, name)) return &v;
    return nullptr;
}

void Bindings::set(common::LeaseVariable v) {
    for (auto& old : vars)
        if (common::iequal(old.name, v.name)) {
            old = std::move(v);
            return;
        }
    vars.push_back(std::move(v));
}

bool Bindings::unset(std::string_view name) {
    for (auto it = vars.begin(); it != vars.end(); ++it)
        if (common::iequal(it->name, name)) {
            vars.erase(it);
            return true;
        }
    return false;
}

Bindings Bindings::fromLease(const common::LeaseRecord* lease) {
    Bindings b;
    if (lease && lease->extras) b.vars = lease->extras->variables;
    return b;
}

// ---------------------------------------------------------------- compiled form

namespace {

constexpr uint32_t kNo = UINT32_MAX;

/// Static types, as ISC's is_boolean/is_data/is_numeric_expression sort them.
enum class Ty : uint8_t { Boolean, Data, Numeric, Any };

/// The parse context ISC reads an operand in. It matters for bare numbers: in a
/// numeric context `12` is the number 12, elsewhere ISC reads it as the hex byte
/// 0x12 (parse_non_binary falls through to parse_cshl), so `substring(x,0,1) = 12`
/// compares with 0x12 and `extract-int(x, 8) = 12` with twelve.
enum class Hint : uint8_t { Boolean, Data, Numeric, DataOrNumeric, Any };

enum class Op : uint8_t {
    Null, ConstData, ConstNum,
    And, Or, Not, Equal, NotEqual, Regex, Exists, Known, Static, Check, Defined,
    Option, ConfigOption, Hardware, Packet, Substring, Suffix, Lcase, Ucase, Concat, Pick,
    BinToAscii, EncodeInt, Reverse, LeasedAddress, HostDeclName, Filename, ServerName,
    GetHostname, ClientHostname, V6Relay,
    ExtractInt, LeaseTime, ClientState, Arith,
    Variable,
};

struct Node {
    Op op = Op::Null;
    Ty type = Ty::Data;
    char arith = 0;
    uint32_t a = kNo, b = kNo, c = kNo, d = kNo;
    uint32_t aux = 0;  ///< index into consts, regexes, options or names
    uint32_t argBegin = 0, argCount = 0;
    uint64_t num = 0;
};

/// Where `option SPACE.NAME` is found in a packet.
struct OptRef {
    enum class How : uint8_t { Dhcp, Encapsulated, Fqdn, Unknown };
    How how = How::Unknown;
    std::string space;
    uint32_t code = 0;
    uint8_t carrier = 0;  ///< the dhcp option holding an encapsulated space
    unsigned codeWidth = 1, lengthWidth = 1;
};

struct Regex {
    regex_t re{};
    bool ok = false;
    Regex() = default;
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;
    ~Regex() {
        if (ok) ::regfree(&re);
    }
};

/// Per-evaluation scratch memory: blocks kept between packets, so that steady
/// state allocates nothing. Pointers stay valid until the next reset.
class Arena {
public:
    char* alloc(std::size_t n) {
        if (n == 0) n = 1;
        if (n > kBlock / 4) {
            big_.emplace_back(new char[n]);
            return big_.back().get();
        }
        if (n > left_) {
            if (next_ == blocks_.size()) blocks_.emplace_back(new char[kBlock]);
            cur_ = blocks_[next_++].get();
            left_ = kBlock;
        }
        char* p = cur_;
        cur_ += n;
        left_ -= n;
        return p;
    }
    void reset() {
        next_ = 0;
        left_ = 0;
        cur_ = nullptr;
        big_.clear();
    }

private:
    static constexpr std::size_t kBlock = 16384;
    std::vector<std::unique_ptr<char[]>> blocks_;
    std::vector<std::unique_ptr<char[]>> big_;
    std::size_t next_ = 0;
    std::size_t left_ = 0;
    char* cur_ = nullptr;
};

std::string_view view(const std::vector<uint8_t>& v) { return {reinterpret_cast<const char*>(v.data()), v.size()}; }

bool isNumberWord(const std::string& t) {
    if (conf::parseUnsigned(t, UINT64_MAX)) return true;
    return t.size() > 1 && t[0] == '-' && conf::parseUnsigned(t.substr(1), UINT64_MAX);
}

uint64_t numberOf(const std::string& t) {
    if (t[0] == '-') return uint64_t(0) - *conf::parseUnsigned(t.substr(1), UINT64_MAX);
    return *conf::parseUnsigned(t, UINT64_MAX);
}

void putBE(char* out, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
        out[i] = static_cast<char>(v & 0xff);
        v >>= 8;
    }
}

uint64_t getBE(const char* p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = v << 8 | static_cast<unsigned char>(p[i]);
    return v;
}

/// The width ISC's format gives the first integer field, for numbers stored into an option.
int integerWidth(const std::string& format) {
    for (char c : format) {
        switch (c) {
            case 'b': case 'B': case 'f': return 1;
            case 's': case 'S': return 2;
            case 'l': case 'L': case 'T': return 4;
            default: break;
        }
    }
    return 4;
}

}  // namespace

// ---------------------------------------------------------------- implementation

struct Evaluator::Impl {
    const conf::Config& cfg;
    EvaluatorOptions opt;
    std::deque<Node> nodes;  ///< a deque: compiling on the fly never moves a node being evaluated
    std::vector<uint32_t> args;
    std::deque<std::string> consts;
    std::deque<Regex> regexes;
    std::vector<OptRef> options;
    std::vector<std::string> names;
    std::unordered_map<uint64_t, uint32_t> roots;  ///< (Expr*, Hint) -> node
    Arena arena;
    int active = 0;
    /// After construction nothing more is cached: an expression from elsewhere could be
    /// freed and its address reused. It is compiled into a temporary tail of the tables,
    /// dropped when the outermost call returns.
    bool sealed = false;
    struct Mark {
        bool set = false;
        std::size_t nodes = 0, args = 0, consts = 0, regexes = 0, options = 0, names = 0;
    } temp;
    std::string regexBuffer;
    common::RateLimiter tooLong{5, 60};

    Impl(const conf::Config& c, EvaluatorOptions o) : cfg(c), opt(std::move(o)) {
        if (opt.hostname.empty()) {
            char buf[256] = {0};
            if (::gethostname(buf, sizeof buf - 1) == 0) opt.hostname = buf;
        }
    }

    // ---------------------------------------------------------- compiling

    uint32_t add(Node n) {
        nodes.push_back(n);
        return static_cast<uint32_t>(nodes.size() - 1);
    }

    uint32_t nullNode(Ty t) {
        Node n;
        n.op = Op::Null;
        n.type = t;
        return add(n);
    }

    uint32_t constData(std::string bytes) {
        consts.push_back(std::move(bytes));
        Node n;
        n.op = Op::ConstData;
        n.type = Ty::Data;
        n.aux = static_cast<uint32_t>(consts.size() - 1);
        return add(n);
    }

    uint32_t option(const std::string& fullName) {
        std::string space = "dhcp", name = fullName;
        auto dot = fullName.find('.');
        if (dot != std::string::npos) {
            space = fullName.substr(0, dot);
            name = fullName.substr(dot + 1);
        }
        const common::OptionDef* def = cfg.options.find(space, name);
        if (!def) return kNo;
        options.push_back(resolveSpace(def->space, def->code));
        return static_cast<uint32_t>(options.size() - 1);
    }

    OptRef resolveSpace(const std::string& space, uint32_t code) const {
        OptRef r;
        r.space = space;
        r.code = code;
        if (common::iequal(space, "dhcp")) {
            r.how = OptRef::How::Dhcp;
            return r;
        }
        if (common::iequal(space, "fqdn")) {
            r.how = OptRef::How::Fqdn;
            return r;
        }
        // Another space is found inside the dhcp option that encapsulates it (format "E<space>.").
        const common::OptionSpace* dhcp = cfg.options.space("dhcp");
        const common::OptionSpace* sp = cfg.options.space(space);
        if (!dhcp || !sp) return r;
        const std::string want = "E" + sp->name() + ".";
        for (const auto& d : dhcp->definitions()) {
            if (d.format == want && d.code < 255) {
                r.how = OptRef::How::Encapsulated;
                r.carrier = static_cast<uint8_t>(d.code);
                r.codeWidth = sp->codeWidth();
                r.lengthWidth = sp->lengthWidth();
                return r;
            }
        }
        return r;
    }

    uint32_t compile(const conf::Expr& e, Hint hint, int depth) {
        using K = conf::Expr::Kind;
        if (depth > opt.maxDepth) return nullNode(hint == Hint::Boolean ? Ty::Boolean : Ty::Data);
        auto sub = [&](std::size_t i, Hint h) {
            return i < e.args.size() && e.args[i] ? compile(*e.args[i], h, depth + 1) : nullNode(Ty::Data);
        };
        Node n;
        switch (e.kind) {
            case K::String:
                return constData(e.text);
            case K::Word:
                return word(e.text, hint);
            case K::Option:
            case K::ConfigOption:
            case K::Exists: {
                uint32_t ref = option(e.text);
                Ty t = e.kind == K::Exists ? Ty::Boolean : Ty::Data;
                if (ref == kNo) return nullNode(t);
                n.op = e.kind == K::Option ? Op::Option : e.kind == K::ConfigOption ? Op::ConfigOption : Op::Exists;
                n.type = t;
                n.aux = ref;
                return add(n);
            }
            case K::Check:
                n.op = Op::Check;
                n.type = Ty::Boolean;
                return add(n);
            case K::Not:
                n.op = Op::Not;
                n.type = Ty::Boolean;
                n.a = sub(0, Hint::Boolean);
                return add(n);
            case K::And:
            case K::Or:
                n.op = e.kind == K::And ? Op::And : Op::Or;
                n.type = Ty::Boolean;
                n.a = sub(0, Hint::Boolean);
                n.b = sub(1, Hint::Boolean);
                return add(n);
            case K::Equal:
            case K::NotEqual: {
                // ISC reads the right side in the context of the left side's type
                // (parse_expression: expression_context(lhs)); a variable counts as data.
                n.op = e.kind == K::Equal ? Op::Equal : Op::NotEqual;
                n.type = Ty::Boolean;
                n.a = sub(0, Hint::Boolean);
                Ty lt = nodes[n.a].type;
                n.b = sub(1, lt == Ty::Numeric ? Hint::Numeric : lt == Ty::Boolean ? Hint::Boolean : Hint::Data);
                return add(n);
            }
            case K::RegexMatch:
            case K::RegexIMatch: {
                n.op = Op::Regex;
                n.type = Ty::Boolean;
                n.a = sub(0, Hint::Data);
                regexes.emplace_back();
                Regex& rx = regexes.back();
                n.aux = static_cast<uint32_t>(regexes.size() - 1);
                if (e.args.size() > 1 && e.args[1] && e.args[1]->kind == K::String) {
                    // The pattern is a C string to ISC: it ends at the first NUL.
                    std::string pattern(e.args[1]->text.c_str());
                    int flags = REG_EXTENDED | REG_NOSUB | (e.kind == K::RegexIMatch ? REG_ICASE : 0);
                    rx.ok = ::regcomp(&rx.re, pattern.c_str(), flags) == 0;
                    if (!rx.ok)
                        common::logError(e.args[1]->where.str() + ": invalid regular expression \"" + pattern +
                                         "\"; it never matches");
                }
                return add(n);
            }
            case K::Arith:
                n.op = Op::Arith;
                n.type = Ty::Numeric;
                n.arith = e.op;
                n.a = sub(0, Hint::Numeric);
                n.b = sub(1, Hint::Numeric);
                return add(n);
            case K::Call:
                return call(e, depth);
        }
        return nullNode(Ty::Data);
    }

    uint32_t word(const std::string& t, Hint hint) {
        Node n;
        if (isNumberWord(t)) {
            if (hint == Hint::Numeric || hint == Hint::DataOrNumeric) {
                n.op = Op::ConstNum;
                n.type = Ty::Numeric;
                n.num = numberOf(t);
                return add(n);
            }
            if (auto bytes = conf::parseHexList(t)) return constData(std::string(bytes->begin(), bytes->end()));
            // Not a valid hex byte (ISC would refuse it); keep it a number, conf typed it so.
            n.op = Op::ConstNum;
            n.type = Ty::Numeric;
            n.num = numberOf(t);
            return add(n);
        }
        struct Nullary {
            const char* word;
            Op op;
            Ty type;
        };
        static const Nullary kNullary[] = {
            {"hardware", Op::Hardware, Ty::Data},         {"leased-address", Op::LeasedAddress, Ty::Data},
            {"host-decl-name", Op::HostDeclName, Ty::Data}, {"filename", Op::Filename, Ty::Data},
            {"server-name", Op::ServerName, Ty::Data},    {"null", Op::Null, Ty::Data},
            {"client-hostname", Op::ClientHostname, Ty::Data}, {"lease-time", Op::LeaseTime, Ty::Numeric},
            {"client-state", Op::ClientState, Ty::Numeric}, {"known", Op::Known, Ty::Boolean},
            {"static", Op::Static, Ty::Boolean},
        };
        for (const auto& k : kNullary)
            if (common::iequal(t, k.word)) {
                n.op = k.op;
                n.type = k.type;
                return add(n);
            }
        if (t.find(':') != std::string::npos || conf::looksHex(t)) {
            if (auto bytes = conf::parseHexList(t)) return constData(std::string(bytes->begin(), bytes->end()));
            return nullNode(Ty::Data);
        }
        names.push_back(t);
        n.op = Op::Variable;
        n.type = Ty::Any;
        n.aux = static_cast<uint32_t>(names.size() - 1);
        return add(n);
    }

    uint32_t call(const conf::Expr& e, int depth) {
        auto sub = [&](std::size_t i, Hint h) {
            return i < e.args.size() && e.args[i] ? compile(*e.args[i], h, depth + 1) : nullNode(Ty::Data);
        };
        const std::string& f = e.text;
        auto is = [&](const char* name) { return common::iequal(f, name); };
        Node n;
        n.type = Ty::Data;
        if (is("substring")) {
            n.op = Op::Substring;
            n.a = sub(0, Hint::Data);
            n.b = sub(1, Hint::Numeric);
            n.c = sub(2, Hint::Numeric);
        } else if (is("suffix")) {
            n.op = Op::Suffix;
            n.a = sub(0, Hint::Data);
            n.b = sub(1, Hint::Numeric);
        } else if (is("lcase") || is("ucase")) {
            n.op = is("lcase") ? Op::Lcase : Op::Ucase;
            n.a = sub(0, Hint::Data);
        } else if (is("concat") || is("pick-first-value") || is("pick")) {
            n.op = is("concat") ? Op::Concat : Op::Pick;
            std::vector<uint32_t> list;
            for (std::size_t i = 0; i < e.args.size(); ++i) list.push_back(sub(i, Hint::Data));
            n.argBegin = static_cast<uint32_t>(args.size());
            n.argCount = static_cast<uint32_t>(list.size());
            args.insert(args.end(), list.begin(), list.end());
        } else if (is("binary-to-ascii")) {
            n.op = Op::BinToAscii;
            n.a = sub(0, Hint::Numeric);
            n.b = sub(1, Hint::Numeric);
            n.c = sub(2, Hint::Data);
            n.d = sub(3, Hint::Data);
        } else if (is("encode-int")) {
            n.op = Op::EncodeInt;
            n.a = sub(0, Hint::Numeric);
            n.b = sub(1, Hint::Numeric);
        } else if (is("extract-int")) {
            n.op = Op::ExtractInt;
            n.type = Ty::Numeric;
            n.a = sub(0, Hint::Data);
            n.b = sub(1, Hint::Numeric);
        } else if (is("reverse")) {
            n.op = Op::Reverse;
            n.a = sub(0, Hint::Numeric);
            n.b = sub(1, Hint::Data);
        } else if (is("packet")) {
            n.op = Op::Packet;
            n.a = sub(0, Hint::Numeric);
            n.b = sub(1, Hint::Numeric);
        } else if (is("defined")) {
            // defined(NAME) asks whether the variable is bound (ISC's expr_variable_exists).
            n.op = Op::Defined;
            n.type = Ty::Boolean;
            if (e.args.size() != 1 || !e.args[0] || e.args[0]->kind != conf::Expr::Kind::Word) return nullNode(Ty::Boolean);
            names.push_back(e.args[0]->text);
            n.aux = static_cast<uint32_t>(names.size() - 1);
        } else if (is("gethostname")) {
            n.op = Op::GetHostname;
        } else if (is("v6relay")) {
            n.op = Op::V6Relay;
            n.a = sub(0, Hint::Numeric);
            n.b = sub(1, Hint::Data);
        } else {
            // ns-update (DNS updates are not supported) and anything unknown: null.
            return nullNode(is("ns-update") ? Ty::Numeric : Ty::Data);
        }
        return add(n);
    }

    static uint64_t key(const conf::Expr* e, Hint h) {
        return (static_cast<uint64_t>(reinterpret_cast<uintptr_t>(e)) << 3) | static_cast<uint64_t>(h);
    }

    uint32_t root(const conf::Expr& e, Hint h) {
        auto k = key(&e, h);
        auto it = roots.find(k);
        if (it != roots.end()) return it->second;
        if (!sealed) {
            uint32_t n = compile(e, h, 1);
            roots.emplace(k, n);
            return n;
        }
        // Not from the Config (or not in this context): compile into the temporary
        // tail. The deques keep nodes being evaluated by an outer call in place.
        if (!temp.set) temp = {true, nodes.size(), args.size(), consts.size(), regexes.size(), options.size(), names.size()};
        return compile(e, h, 1);
    }

    void dropTemporary() {
        while (nodes.size() > temp.nodes) nodes.pop_back();
        args.resize(temp.args);
        while (consts.size() > temp.consts) consts.pop_back();
        while (regexes.size() > temp.regexes) regexes.pop_back();
        options.resize(temp.options);
        names.resize(temp.names);
        temp = Mark{};
    }

    void precompile(const conf::ExprPtr& e, Hint h) {
        if (e) root(*e, h);
    }

    void precompileStatements(const conf::StmtList& list, int depth) {
        if (depth > opt.maxDepth) return;
        for (const auto& s : list) {
            if (!s) continue;
            using SK = conf::Stmt::Kind;
            switch (s->kind) {
                case SK::If:
                    precompile(s->expr, Hint::Boolean);
                    precompileStatements(s->body, depth + 1);
                    precompileStatements(s->elseBody, depth + 1);
                    break;
                case SK::Switch: {
                    if (!s->expr) break;
                    uint32_t sw = root(*s->expr, Hint::Any);  // the executor evaluates it with evalAny
                    Hint caseHint = nodes[sw].type == Ty::Numeric ? Hint::Numeric : Hint::Data;
                    for (const auto& c : s->body)
                        if (c && c->kind == SK::Case) precompile(c->expr, caseHint);
                    precompileStatements(s->body, depth + 1);
                    break;
                }
                case SK::On:
                    precompileStatements(s->body, depth + 1);
                    break;
                case SK::Set:
                case SK::Define:
                case SK::Eval:
                case SK::Return:
                    precompile(s->expr, Hint::Any);
                    break;
                case SK::Log:
                    if (!s->args.empty()) precompile(s->args.back(), Hint::Data);
                    break;
                case SK::Execute:
                    for (std::size_t i = 1; i < s->args.size(); ++i) precompile(s->args[i], Hint::Data);
                    break;
                case SK::OptionExpr:
                case SK::ParamExpr:
                    precompile(s->expr, Hint::Data);
                    break;
                default:
                    break;
            }
        }
    }

    void precompileScope(const conf::ScopePtr& s) {
        if (!s) return;
        for (const auto& o : s->options) precompile(o.expr, Hint::Data);
        for (const auto& [name, p] : s->params) precompile(p.expr, Hint::Data);
        precompileStatements(s->statements, 1);
    }

    void precompileAll() {
        precompileScope(cfg.global);
        for (const auto& n : cfg.networks) {
            precompileScope(n.scope);
            for (const auto& sn : n.subnets) precompileScope(sn.scope);
            for (const auto& p : n.pools) precompileScope(p.scope);
        }
        for (const auto& h : cfg.hosts) precompileScope(h.scope);
        for (const auto& g : cfg.groups) precompileScope(g.scope);
        for (const auto& c : cfg.classes) {
            precompile(c.matchIf, Hint::Boolean);
            precompile(c.match, Hint::Data);
            precompile(c.spawnWith, Hint::Data);
            precompileScope(c.scope);
            for (const auto& sc : c.subclasses) precompileScope(sc.scope);
        }
    }

    // ---------------------------------------------------------- evaluating

    struct Any {
        Value::Kind kind = Value::Kind::Null;
        bool b = false;
        uint64_t n = 0;
        std::string_view d;
    };

    const common::LeaseVariable* variable(const EvalContext& c, const std::string& name) const {
        if (c.bindings) return c.bindings->find(name);
        if (c.lease && c.lease->extras)
            for (const auto& v : c.lease->extras->variables)
                if (common::iequal(v.name, name)) return &v;
        return nullptr;
    }

    bool tooBig(std::size_t n, const EvalContext& c) {
        if (n <= opt.maxDataLength) return false;
        uint64_t suppressed = 0;
        if (tooLong.allow(c.now, suppressed))
            common::logWarning("expression result of " + std::to_string(n) + " bytes exceeds the limit of " +
                               std::to_string(opt.maxDataLength) + "; treating it as null");
        return true;
    }

    std::optional<std::string_view> suboption(std::string_view data, const OptRef& r) {
        const std::size_t hdr = r.codeWidth + r.lengthWidth;
        std::string_view first;
        std::size_t found = 0, total = 0;
        for (int pass = 0; pass < 2; ++pass) {
            char* out = nullptr;
            if (pass == 1) {
                if (found <= 1) break;
                out = arena.alloc(total);  // bounded by the option's own size
            }
            std::size_t i = 0, at = 0;
            while (i + hdr <= data.size()) {
                uint64_t code = getBE(data.data() + i, int(r.codeWidth));
                uint64_t len = getBE(data.data() + i + r.codeWidth, int(r.lengthWidth));
                if (i + hdr + len > data.size()) break;  // truncated: what follows is not there
                std::string_view v = data.substr(i + hdr, len);
                if (code == r.code) {
                    if (pass == 0) {
                        if (found++ == 0) first = v;
                        total += v.size();
                    } else {
                        std::memcpy(out + at, v.data(), v.size());
                        at += v.size();
                    }
                }
                i += hdr + len;
            }
            if (pass == 1) return std::string_view(out, total);
        }
        if (found == 0) return std::nullopt;
        return first;
    }

    std::optional<std::string_view> fqdnOption(std::string_view d, uint32_t code) {
        // Option 81 (RFC 4702): flags, rcode1, rcode2, name. ISC presents it as the
        // virtual fqdn space; the flag sub-options other than these are not decoded here.
        if (d.size() < 3) return std::nullopt;
        uint8_t flags = static_cast<uint8_t>(d[0]);
        auto byte = [&](uint8_t v) {
            char* p = arena.alloc(1);
            *p = static_cast<char>(v);
            return std::string_view(p, 1);
        };
        switch (code) {
            case 2: return byte((flags & 0x01) ? 1 : 0);  // server-update (S)
            case 3: return byte((flags & 0x04) ? 1 : 0);  // encoded (E)
            case 4: return d.substr(1, 1);
            case 5: return d.substr(2, 1);
            case 6: case 7: case 8: break;
            default: return std::nullopt;
        }
        std::string_view name = d.substr(3);
        if (flags & 0x04) {  // RFC 1035 labels, no compression in this option
            char* out = arena.alloc(name.size() + 1);
            std::size_t n = 0, i = 0;
            while (i < name.size()) {
                uint8_t len = static_cast<uint8_t>(name[i]);
                if (len == 0 || (len & 0xc0) || i + 1 + len > name.size()) break;
                if (n) out[n++] = '.';
                std::memcpy(out + n, name.data() + i + 1, len);
                n += len;
                i += 1 + len;
            }
            name = std::string_view(out, n);
        }
        if (code == 8) return name;
        auto dot = name.find('.');
        if (code == 6) return name.substr(0, dot);
        if (dot == std::string_view::npos) return std::nullopt;
        return name.substr(dot + 1);
    }

    std::optional<std::string_view> packetOption(const common::Packet4& p, const OptRef& r) {
        switch (r.how) {
            case OptRef::How::Dhcp: {
                if (r.code > 255) return std::nullopt;
                const common::DhcpOption* o = p.find(static_cast<uint8_t>(r.code));
                if (!o) return std::nullopt;
                return view(o->data);
            }
            case OptRef::How::Encapsulated: {
                const common::DhcpOption* o = p.find(r.carrier);
                if (!o) return std::nullopt;
                return suboption(view(o->data), r);
            }
            case OptRef::How::Fqdn: {
                const common::DhcpOption* o = p.find(81);
                if (!o) return std::nullopt;
                return fqdnOption(view(o->data), r.code);
            }
            case OptRef::How::Unknown:
                return std::nullopt;
        }
        return std::nullopt;
    }

    std::string_view rawPacket(const EvalContext& c) {
        if (!c.rawPacket.empty()) return c.rawPacket;
        // No datagram given: rebuild the fixed header, cookie and options (RFC 2131 §2),
        // enough for packet() on header fields; option offsets may differ from the wire.
        const common::Packet4& p = *c.packet;
        std::size_t size = common::kDhcpHeaderSize + (p.cookie ? 4 : 0);
        for (const auto& o : p.options) size += o.data.size() + 2 * (o.data.size() / 255 + 1);
        size += 1;
        char* b = arena.alloc(size);
        std::memset(b, 0, common::kDhcpHeaderSize);
        b[0] = char(p.op); b[1] = char(p.htype); b[2] = char(p.hlen); b[3] = char(p.hops);
        putBE(b + 4, p.xid, 4);
        putBE(b + 8, p.secs, 2);
        putBE(b + 10, p.flags, 2);
        putBE(b + 12, p.ciaddr, 4);
        putBE(b + 16, p.yiaddr, 4);
        putBE(b + 20, p.siaddr, 4);
        putBE(b + 24, p.giaddr, 4);
        std::memcpy(b + 28, p.chaddr.data(), 16);
        std::memcpy(b + 44, p.sname.data(), 64);
        std::memcpy(b + 108, p.file.data(), 128);
        std::size_t at = common::kDhcpHeaderSize;
        if (!p.cookie) return std::string_view(b, at);
        const unsigned char cookie[4] = {99, 130, 83, 99};
        std::memcpy(b + at, cookie, 4);
        at += 4;
        for (const auto& o : p.options) {
            std::size_t off = 0;
            do {
                std::size_t chunk = std::min<std::size_t>(255, o.data.size() - off);
                b[at++] = char(o.code);
                b[at++] = char(chunk);
                if (chunk) std::memcpy(b + at, o.data.data() + off, chunk);
                at += chunk;
                off += chunk;
            } while (off < o.data.size());
        }
        b[at++] = char(255);
        return std::string_view(b, at);
    }

    bool evalB(uint32_t id, const EvalContext& c, bool& out) {
        const Node& n = nodes[id];
        switch (n.op) {
            case Op::And: {
                // ISC: the right side is evaluated only when the left is true; a null
                // on either side makes the result null.
                bool l = false, r = false;
                if (!evalB(n.a, c, l)) return false;
                if (!l) {
                    // false and X: ISC still returns null here (sright = 0).
                    return false;
                }
                if (!evalB(n.b, c, r)) return false;
                out = r;
                return true;
            }
            case Op::Or: {
                bool l = false, r = false;
                bool sl = evalB(n.a, c, l);
                if (sl && l) {
                    out = true;
                    return true;
                }
                bool sr = evalB(n.b, c, r);
                if (!sl && !sr) return false;
                out = (sl && l) || (sr && r);
                return true;
            }
            case Op::Not: {
                bool v = false;
                if (!evalB(n.a, c, v)) return false;
                out = !v;
                return true;
            }
            case Op::Equal:
            case Op::NotEqual: {
                // ISC 4.4: both null -> equal; one null -> not equal; different
                // binding types -> not equal. The result is never null.
                Any l, r;
                evalA(n.a, c, l);
                evalA(n.b, c, r);
                bool same;
                if (l.kind == Value::Kind::Null || r.kind == Value::Kind::Null)
                    same = l.kind == r.kind;
                else if (l.kind != r.kind)
                    same = false;
                else if (l.kind == Value::Kind::Boolean)
                    same = l.b == r.b;
                else if (l.kind == Value::Kind::Number)
                    same = l.n == r.n;
                else
                    same = l.d == r.d;
                out = (n.op == Op::Equal) == same;
                return true;
            }
            case Op::Regex: {
                // Matched as C strings (up to the first NUL), like ISC's regexec call.
                // A pattern that did not compile never matches; a null operand is null.
                std::string_view d;
                if (!evalD(n.a, c, d)) return false;
                const Regex& rx = regexes[n.aux];
                if (!rx.ok) {
                    out = false;
                    return true;
                }
                // Copied into a reused buffer: regexec wants a terminated string (and
                // REG_STARTEND is neither portable nor understood by sanitizers).
                std::size_t len = std::find(d.begin(), d.end(), '\0') - d.begin();
                regexBuffer.assign(d.data(), len);
                out = ::regexec(&rx.re, regexBuffer.c_str(), 0, nullptr, 0) == 0;
                return true;
            }
            case Op::Exists:
                out = c.packet && packetOption(*c.packet, options[n.aux]).has_value();
                return true;
            case Op::Known:
                if (!c.packet) return false;
                out = c.host != nullptr;
                return true;
            case Op::Static:
                out = c.lease && c.staticLease;
                return true;
            case Op::Check:
                // ISC re-runs the class collection here; we answer from the classes
                // already matched (classification has run once for this packet).
                out = c.classes && !c.classes->empty();
                return true;
            case Op::Defined:
                out = variable(c, names[n.aux]) != nullptr;
                return true;
            case Op::Variable: {
                const common::LeaseVariable* v = variable(c, names[n.aux]);
                if (!v || v->kind != common::LeaseVariable::Kind::Boolean) return false;
                out = v->boolean;
                return true;
            }
            default:
                return false;  // a data or numeric expression where a boolean is needed: null
        }
    }

    bool evalN(uint32_t id, const EvalContext& c, uint64_t& out) {
        const Node& n = nodes[id];
        switch (n.op) {
            case Op::ConstNum:
                out = n.num;
                return true;
            case Op::ExtractInt: {
                std::string_view d;
                uint64_t w = 0;
                bool sd = evalD(n.a, c, d);
                if (!evalN(n.b, c, w) || !sd) return false;
                int bytes = w == 8 ? 1 : w == 16 ? 2 : w == 32 ? 4 : 0;
                if (!bytes || d.size() < std::size_t(bytes)) return false;
                out = getBE(d.data(), bytes);
                return true;
            }
            case Op::LeaseTime:
                // ISC: null without a lease, or when it has already ended.
                if (!c.lease || c.lease->ends < c.now) return false;
                out = static_cast<uint64_t>(c.lease->ends - c.now);
                return true;
            case Op::ClientState:
                return false;  // a dhclient-only value: always null in the server
            case Op::Arith: {
                uint64_t l = 0, r = 0;
                bool sl = evalN(n.a, c, l);
                bool sr = evalN(n.b, c, r);
                if (!sl || !sr) return false;
                switch (n.arith) {
                    case '+': out = l + r; return true;
                    case '-': out = l - r; return true;
                    case '*': out = l * r; return true;
                    case '/': if (!r) return false; out = l / r; return true;
                    case '%': if (!r) return false; out = l % r; return true;
                    case '&': out = l & r; return true;
                    case '|': out = l | r; return true;
                    case '^': out = l ^ r; return true;
                    default: return false;
                }
            }
            case Op::Variable: {
                const common::LeaseVariable* v = variable(c, names[n.aux]);
                if (!v || v->kind != common::LeaseVariable::Kind::Number) return false;
                out = static_cast<uint64_t>(v->number);
                return true;
            }
            default:
                return false;
        }
    }

    bool evalD(uint32_t id, const EvalContext& c, std::string_view& out) {
        const Node& n = nodes[id];
        switch (n.op) {
            case Op::Null:
                return false;
            case Op::ConstData:
                out = consts[n.aux];
                return true;
            case Op::Option:
                if (!c.packet) return false;
                if (auto v = packetOption(*c.packet, options[n.aux])) {
                    out = *v;
                    return true;
                }
                return false;
            case Op::ConfigOption: {
                if (!c.configOptions) return false;
                const OptRef& r = options[n.aux];
                if (auto v = c.configOptions->configOption(r.space, r.code)) {
                    out = *v;
                    return true;
                }
                return false;
            }
            case Op::Hardware: {
                // htype followed by chaddr[0..hlen); from the lease when there is no packet (ISC 4.x).
                if (c.packet) {
                    const common::Packet4& p = *c.packet;
                    if (p.hlen > p.chaddr.size()) return false;
                    char* b = arena.alloc(1u + p.hlen);
                    b[0] = char(p.htype);
                    std::memcpy(b + 1, p.chaddr.data(), p.hlen);
                    out = std::string_view(b, 1u + p.hlen);
                    return true;
                }
                if (c.lease && !c.lease->hw.empty()) {
                    char* b = arena.alloc(1u + c.lease->hw.len);
                    b[0] = char(c.lease->hw.htype);
                    std::memcpy(b + 1, c.lease->hw.bytes.data(), c.lease->hw.len);
                    out = std::string_view(b, 1u + c.lease->hw.len);
                    return true;
                }
                return false;
            }
            case Op::Packet: {
                if (!c.packet && c.rawPacket.empty()) return false;
                uint64_t off = 0, len = 0;
                bool so = evalN(n.a, c, off);
                bool sl = evalN(n.b, c, len);
                if (!so || !sl) return false;
                std::string_view raw = rawPacket(c);
                if (off >= raw.size()) return false;
                out = raw.substr(off, std::min<uint64_t>(len, raw.size() - off));
                return true;
            }
            case Op::Substring: {
                std::string_view d;
                uint64_t off = 0, len = 0;
                bool sd = evalD(n.a, c, d);
                bool so = evalN(n.b, c, off);
                bool sl = evalN(n.c, c, len);
                if (!sd || !so || !sl) return false;
                // An offset past the end gives an empty string, not null.
                out = off < d.size() ? d.substr(off, std::min<uint64_t>(len, d.size() - off)) : std::string_view();
                return true;
            }
            case Op::Suffix: {
                std::string_view d;
                uint64_t len = 0;
                bool sd = evalD(n.a, c, d);
                if (!evalN(n.b, c, len) || !sd) return false;
                out = d.size() > len ? d.substr(d.size() - len) : d;
                return true;
            }
            case Op::Lcase:
            case Op::Ucase: {
                std::string_view d;
                if (!evalD(n.a, c, d)) return false;
                char* b = arena.alloc(d.size());
                for (std::size_t i = 0; i < d.size(); ++i) {
                    unsigned char ch = static_cast<unsigned char>(d[i]);
                    b[i] = static_cast<char>(n.op == Op::Lcase ? std::tolower(ch) : std::toupper(ch));
                }
                out = std::string_view(b, d.size());
                return true;
            }
            case Op::Concat: {
                // ISC 4.4: null as soon as one part is null.
                std::string_view parts[8];
                std::vector<std::string_view> more;
                std::string_view* ps = parts;
                if (n.argCount > 8) {
                    more.resize(n.argCount);
                    ps = more.data();
                }
                std::size_t total = 0;
                bool ok = true;
                for (uint32_t i = 0; i < n.argCount; ++i) {
                    if (!evalD(args[n.argBegin + i], c, ps[i])) ok = false;
                    total += ps[i].size();
                }
                if (!ok || tooBig(total, c)) return false;
                char* b = arena.alloc(total);
                std::size_t at = 0;
                for (uint32_t i = 0; i < n.argCount; ++i) {
                    if (!ps[i].empty()) std::memcpy(b + at, ps[i].data(), ps[i].size());
                    at += ps[i].size();
                }
                out = std::string_view(b, total);
                return true;
            }
            case Op::Pick:
                for (uint32_t i = 0; i < n.argCount; ++i)
                    if (evalD(args[n.argBegin + i], c, out)) return true;
                return false;
            case Op::BinToAscii:
                return binaryToAscii(n, c, out);
            case Op::EncodeInt: {
                uint64_t v = 0, w = 0;
                bool sv = evalN(n.a, c, v);
                if (!evalN(n.b, c, w) || !sv) return false;
                int bytes = w == 8 ? 1 : w == 16 ? 2 : w == 32 ? 4 : 0;
                if (!bytes) return false;
                char* b = arena.alloc(std::size_t(bytes));
                putBE(b, v, bytes);
                out = std::string_view(b, std::size_t(bytes));
                return true;
            }
            case Op::Reverse: {
                uint64_t w = 0;
                std::string_view d;
                bool sw = evalN(n.a, c, w);
                if (!evalD(n.b, c, d) || !sw) return false;
                if (w == 0 || d.size() % w) return false;  // ISC: not a multiple of the width
                char* b = arena.alloc(d.size());
                for (std::size_t i = 0; i < d.size(); i += w) std::memcpy(b + i, d.data() + d.size() - i - w, w);
                out = std::string_view(b, d.size());
                return true;
            }
            case Op::LeasedAddress: {
                if (!c.lease) return false;
                char* b = arena.alloc(4);
                putBE(b, c.lease->address, 4);
                out = std::string_view(b, 4);
                return true;
            }
            case Op::HostDeclName:
                if (!c.host) return false;
                out = c.host->name;
                return true;
            case Op::Filename:
            case Op::ServerName: {
                if (!c.packet) return false;
                const char* f = reinterpret_cast<const char*>(n.op == Op::Filename ? c.packet->file.data()
                                                                                    : c.packet->sname.data());
                std::size_t cap = n.op == Op::Filename ? c.packet->file.size() : c.packet->sname.size();
                if (f[0] == 0) return false;  // ISC: an empty field is null
                out = std::string_view(f, std::find(f, f + cap, '\0') - f);
                return true;
            }
            case Op::GetHostname:
                if (opt.hostname.empty()) return false;
                out = opt.hostname;
                return true;
            case Op::ClientHostname:
                // The client-hostname the lease recorded (a tandem extension that conf accepts).
                if (!c.lease || c.lease->hostname.empty()) return false;
                out = c.lease->hostname;
                return true;
            case Op::V6Relay: {
                // A DHCPv4 packet has no DHCPv6 relay container: v6relay(0, X) is X, others null.
                uint64_t r = 0;
                if (!evalN(n.a, c, r) || r != 0) return false;
                return evalD(n.b, c, out);
            }
            case Op::Variable: {
                const common::LeaseVariable* v = variable(c, names[n.aux]);
                if (!v || v->kind != common::LeaseVariable::Kind::Data) return false;
                out = v->data;
                return true;
            }
            default: {
                // A number where data is wanted (conf allows it): four bytes, network order.
                if (n.type != Ty::Numeric) return false;
                uint64_t v = 0;
                if (!evalN(id, c, v)) return false;
                char* b = arena.alloc(4);
                putBE(b, v, 4);
                out = std::string_view(b, 4);
                return true;
            }
        }
    }

    bool binaryToAscii(const Node& n, const EvalContext& c, std::string_view& out) {
        uint64_t base = 0, width = 0;
        std::string_view sep, d;
        bool s0 = evalN(n.a, c, base);
        bool s1 = evalN(n.b, c, width);
        bool s2 = evalD(n.c, c, sep);
        bool s3 = evalD(n.d, c, d);
        if (!s0 || !s1 || !s2 || !s3) return false;
        if (width != 8 && width != 16 && width != 32) return false;
        const std::size_t w = width / 8;
        if (d.size() % w) return false;
        // ISC writes numbers without leading zeros, lower-case digits, and nothing
        // for a base above 16 (converted_length returns 0); we do the same below 2.
        auto digits = [&](uint64_t v) -> std::size_t {
            if (base < 2 || base > 16) return 0;
            std::size_t k = 1;
            while (v >= base) {
                v /= base;
                ++k;
            }
            return k;
        };
        std::size_t total = 0;
        for (std::size_t i = 0; i < d.size(); i += w) {
            total += digits(getBE(d.data() + i, int(w)));
            if (i + w != d.size()) total += sep.size();
        }
        if (tooBig(total, c)) return false;
        char* b = arena.alloc(total);
        std::size_t at = 0;
        static const char kHex[] = "0123456789abcdef";
        for (std::size_t i = 0; i < d.size(); i += w) {
            uint64_t v = getBE(d.data() + i, int(w));
            std::size_t k = digits(v);
            for (std::size_t j = k; j > 0; --j) {
                b[at + j - 1] = kHex[v % base];
                v /= base;
            }
            at += k;
            if (i + w != d.size()) {
                if (!sep.empty()) std::memcpy(b + at, sep.data(), sep.size());
                at += sep.size();
            }
        }
        out = std::string_view(b, total);
        return true;
    }

    void evalA(uint32_t id, const EvalContext& c, Any& out) {
        const Node& n = nodes[id];
        out = Any{};
        switch (n.type) {
            case Ty::Boolean:
                if (evalB(id, c, out.b)) out.kind = Value::Kind::Boolean;
                return;
            case Ty::Numeric:
                if (evalN(id, c, out.n)) out.kind = Value::Kind::Number;
                return;
            case Ty::Data:
                if (evalD(id, c, out.d)) out.kind = Value::Kind::Data;
                return;
            case Ty::Any: {
                const common::LeaseVariable* v = n.op == Op::Variable ? variable(c, names[n.aux]) : nullptr;
                if (!v) return;
                switch (v->kind) {
                    case common::LeaseVariable::Kind::Data: out.kind = Value::Kind::Data; out.d = v->data; return;
                    case common::LeaseVariable::Kind::Number:
                        out.kind = Value::Kind::Number;
                        out.n = static_cast<uint64_t>(v->number);
                        return;
                    case common::LeaseVariable::Kind::Boolean: out.kind = Value::Kind::Boolean; out.b = v->boolean; return;
                }
                return;
            }
        }
    }

    /// Entering from outside: the arena is reset only by the outermost call, so a
    /// nested call (a ConfigOptionSource evaluating) keeps the outer views valid.
    struct Enter {
        Impl& i;
        explicit Enter(Impl& impl) : i(impl) {
            if (i.active++ == 0) i.arena.reset();
        }
        ~Enter() {
            if (--i.active == 0 && i.temp.set) i.dropTemporary();
        }
    };
};

// ---------------------------------------------------------------- public API

Evaluator::Evaluator(conf::ConfigPtr config, EvaluatorOptions options)
    : config_(std::move(config)), impl_(std::make_unique<Impl>(*config_, std::move(options))) {
    impl_->precompileAll();
    impl_->sealed = true;
}

Evaluator::~Evaluator() = default;

std::optional<bool> Evaluator::evalBoolean(const conf::Expr& e, const EvalContext& ctx) const {
    Impl::Enter in(*impl_);
    bool v = false;
    if (!impl_->evalB(impl_->root(e, Hint::Boolean), ctx, v)) return std::nullopt;
    return v;
}

bool Evaluator::evalDataInto(const conf::Expr& e, const EvalContext& ctx, std::string& out) const {
    Impl::Enter in(*impl_);
    std::string_view v;
    if (!impl_->evalD(impl_->root(e, Hint::Data), ctx, v)) return false;
    out.assign(v.data(), v.size());
    return true;
}

std::optional<std::vector<uint8_t>> Evaluator::evalData(const conf::Expr& e, const EvalContext& ctx) const {
    Impl::Enter in(*impl_);
    std::string_view v;
    if (!impl_->evalD(impl_->root(e, Hint::Data), ctx, v)) return std::nullopt;
    return std::vector<uint8_t>(v.begin(), v.end());
}

std::optional<uint64_t> Evaluator::evalNumeric(const conf::Expr& e, const EvalContext& ctx) const {
    Impl::Enter in(*impl_);
    uint64_t v = 0;
    if (!impl_->evalN(impl_->root(e, Hint::Numeric), ctx, v)) return std::nullopt;
    return v;
}

Value Evaluator::evalAny(const conf::Expr& e, const EvalContext& ctx) const {
    Impl::Enter in(*impl_);
    Impl::Any a;
    impl_->evalA(impl_->root(e, Hint::Any), ctx, a);
    Value v;
    v.kind = a.kind;
    v.boolean = a.b;
    v.number = a.n;
    if (a.kind == Value::Kind::Data) v.data.assign(a.d.data(), a.d.size());
    return v;
}

std::optional<std::vector<uint8_t>> Evaluator::evalOptionExpr(const common::OptionDef& def, const conf::Expr& e,
                                                              const EvalContext& ctx) const {
    Impl::Enter in(*impl_);
    uint32_t id = impl_->root(e, Hint::Data);
    const Node& n = impl_->nodes[id];
    if (n.type == Ty::Numeric) {
        uint64_t v = 0;
        if (!impl_->evalN(id, ctx, v)) return std::nullopt;
        int w = integerWidth(def.format);
        std::vector<uint8_t> out(static_cast<std::size_t>(w));
        putBE(reinterpret_cast<char*>(out.data()), v, w);
        return out;
    }
    if (n.type == Ty::Boolean) {
        // Only `= expr` flags in the server space could want this; ISC refuses it. Store 1/0.
        bool b = false;
        if (!impl_->evalB(id, ctx, b)) return std::nullopt;
        return std::vector<uint8_t>{static_cast<uint8_t>(b ? 1 : 0)};
    }
    std::string_view v;
    if (!impl_->evalD(id, ctx, v)) return std::nullopt;
    return std::vector<uint8_t>(v.begin(), v.end());
}

std::optional<std::vector<uint8_t>> Evaluator::resolveValue(const common::TypedValue& v, const EvalContext& ctx) const {
    if (v.hostnames.empty()) return v.wire;
    std::vector<uint8_t> out = v.wire;
    for (const auto& [offset, name] : v.hostnames) {
        // ISC resolves these when it evaluates the option; a failed lookup makes the
        // whole option null (its concatenation with the failed part is null).
        std::optional<uint32_t> addr = ctx.names ? ctx.names->lookup(name) : std::nullopt;
        if (!addr || offset + 4 > out.size()) return std::nullopt;
        putBE(reinterpret_cast<char*>(out.data() + offset), *addr, 4);
    }
    return out;
}

std::optional<std::vector<uint8_t>> Evaluator::evalOption(const conf::OptionSetting& o, const EvalContext& ctx) const {
    if (!o.expr) return resolveValue(o.value, ctx);
    const common::OptionDef* def = config_->options.find(o.space, o.name);
    if (!def) return std::nullopt;
    return evalOptionExpr(*def, *o.expr, ctx);
}

std::optional<std::vector<uint8_t>> Evaluator::evalParameter(const conf::Parameter& p, const EvalContext& ctx) const {
    if (!p.expr) return resolveValue(p.value, ctx);
    const common::OptionDef* def = config_->options.find("server", p.name);
    common::OptionDef fallback;
    if (!def) {
        fallback.space = "server";
        fallback.name = p.name;
        fallback.format = "X";
        def = &fallback;
    }
    return evalOptionExpr(*def, *p.expr, ctx);
}

std::optional<std::string_view> Evaluator::packetOption(const common::Packet4& p, std::string_view space,
                                                        uint32_t code) const {
    Impl::Enter in(*impl_);
    OptRef r = impl_->resolveSpace(std::string(space), code);
    return impl_->packetOption(p, r);
}

}  // namespace tandem::server
