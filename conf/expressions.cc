// Type checking of dhcp-eval(5) expressions. ISC sorts expressions into
// boolean, data and numeric ones and refuses one kind where another is needed
// ("Expecting a boolean expression."); we do the same, at the expression's place.
#include <cstring>

#include "conf/builder_impl.h"
#include "conf/words.h"

namespace tandem::conf {

namespace {

struct Function {
    const char* name;
    ExprType result;
    std::vector<ExprType> args;  ///< the last one repeats when `variadic`
    bool variadic = false;
    std::size_t minArgs = 0;
};

const std::vector<Function>& functions() {
    using T = ExprType;
    static const std::vector<Function> kFunctions = {
        {"substring", T::Data, {T::Data, T::Numeric, T::Numeric}},
        {"suffix", T::Data, {T::Data, T::Numeric}},
        {"lcase", T::Data, {T::Data}},
        {"ucase", T::Data, {T::Data}},
        {"concat", T::Data, {T::Data}, true, 2},
        {"pick-first-value", T::Data, {T::Data}, true, 1},
        {"pick", T::Data, {T::Data}, true, 1},
        {"binary-to-ascii", T::Data, {T::Numeric, T::Numeric, T::Data, T::Data}},
        {"encode-int", T::Data, {T::Numeric, T::Numeric}},
        {"extract-int", T::Numeric, {T::Data, T::Numeric}},
        {"reverse", T::Data, {T::Numeric, T::Data}},
        {"packet", T::Data, {T::Numeric, T::Numeric}},
        {"defined", T::Boolean, {T::Any}},
        {"gethostname", T::Data, {}},
        {"v6relay", T::Data, {T::Numeric, T::Data}},
        {"ns-update", T::Numeric, {T::Any}, true, 0},
    };
    return kFunctions;
}

/// Words that are values of their own in an expression.
std::optional<ExprType> nullary(const std::string& w) {
    static const char* const kData[] = {"hardware", "leased-address", "host-decl-name", "filename",
                                        "server-name", "null", "client-hostname"};
    static const char* const kNumeric[] = {"lease-time", "client-state"};
    static const char* const kBoolean[] = {"known", "static"};
    for (const char* n : kData)
        if (iequals(w, n)) return ExprType::Data;
    for (const char* n : kNumeric)
        if (iequals(w, n)) return ExprType::Numeric;
    for (const char* n : kBoolean)
        if (iequals(w, n)) return ExprType::Boolean;
    return std::nullopt;
}

bool fits(ExprType have, ExprType want) { return have == want || have == ExprType::Any || want == ExprType::Any; }

}  // namespace

const char* exprTypeName(ExprType t) {
    switch (t) {
        case ExprType::Boolean: return "boolean";
        case ExprType::Data: return "data";
        case ExprType::Numeric: return "numeric";
        case ExprType::Any: return "any";
    }
    return "?";
}

bool Builder::expectExpr(const Expr& e, ExprType want) {
    auto t = checkExpr(e);
    if (!t) return false;
    if (fits(*t, want)) return true;
    // ISC lets a number stand where data is wanted (it is encoded), not the reverse.
    if (want == ExprType::Data && *t == ExprType::Numeric) return true;
    const char* w = want == ExprType::Boolean ? "Expecting a boolean expression."
                    : want == ExprType::Data  ? "Expecting a data expression."
                                              : "Expecting a numeric expression.";
    error(e.where, std::string(w) + " This one is " + exprTypeName(*t) + ".");
    return false;
}

std::optional<ExprType> Builder::checkExpr(const Expr& e) {
    using K = Expr::Kind;
    switch (e.kind) {
        case K::String:
            return ExprType::Data;
        case K::Word: {
            if (parseUnsigned(e.text, UINT32_MAX) || (e.text.size() > 1 && e.text[0] == '-' && parseUnsigned(e.text.substr(1), INT32_MAX)))
                return ExprType::Numeric;
            if (auto n = nullary(e.text)) return *n;
            if (e.text.find(':') != std::string::npos) {
                if (parseHexList(e.text)) return ExprType::Data;
                error(e.where, "expecting a colon-separated list of hex bytes, not " + e.text);
                return std::nullopt;
            }
            if (looksHex(e.text)) return ExprType::Data;  // ISC reads a lone hex word as one byte
            return ExprType::Any;                         // a variable
        }
        case K::Option:
        case K::ConfigOption:
        case K::Exists: {
            Atom name;
            name.text = e.text;
            name.where = e.where;
            std::string space;
            if (!resolveOption(name, space, true)) return std::nullopt;
            return e.kind == K::Exists ? ExprType::Boolean : ExprType::Data;
        }
        case K::Check:
            // ISC has one collection, "default"; any other name is refused.
            if (e.text != "default") {
                error(e.where, "unknown collection. `check` knows only \"default\", not \"" + e.text + "\"");
                return std::nullopt;
            }
            return ExprType::Boolean;
        case K::Not:
            if (!expectExpr(*e.args[0], ExprType::Boolean)) return std::nullopt;
            return ExprType::Boolean;
        case K::And:
        case K::Or:
            if (!expectExpr(*e.args[0], ExprType::Boolean) || !expectExpr(*e.args[1], ExprType::Boolean)) return std::nullopt;
            return ExprType::Boolean;
        case K::Equal:
        case K::NotEqual: {
            auto a = checkExpr(*e.args[0]);
            auto b = checkExpr(*e.args[1]);
            if (!a || !b) return std::nullopt;
            for (auto t : {*a, *b})
                if (t == ExprType::Boolean) {
                    error(e.where, "comparing boolean expressions: use `and`, `or` and `not` instead");
                    return std::nullopt;
                }
            return ExprType::Boolean;
        }
        case K::RegexMatch:
        case K::RegexIMatch:
            if (!expectExpr(*e.args[0], ExprType::Data)) return std::nullopt;
            if (e.args[1]->kind != K::String) {
                error(e.args[1]->where, "expecting a regular expression in quotes");
                return std::nullopt;
            }
            return ExprType::Boolean;
        case K::Arith:
            if (!expectExpr(*e.args[0], ExprType::Numeric) || !expectExpr(*e.args[1], ExprType::Numeric)) return std::nullopt;
            return ExprType::Numeric;
        case K::Call: {
            const Function* fn = nullptr;
            for (const auto& f : functions())
                if (iequals(e.text, f.name)) fn = &f;
            if (!fn) {
                error(e.where, "unknown function " + e.text + "()");
                return std::nullopt;
            }
            std::size_t n = e.args.size();
            bool countOk = fn->variadic ? n >= fn->minArgs : n == fn->args.size();
            if (!countOk) {
                error(e.where, std::string(fn->name) + "() takes " +
                                   (fn->variadic ? "at least " + std::to_string(fn->minArgs)
                                                 : std::to_string(fn->args.size())) +
                                   " argument(s), not " + std::to_string(n));
                return std::nullopt;
            }
            bool ok = true;
            for (std::size_t i = 0; i < n; ++i) {
                ExprType want = i < fn->args.size() ? fn->args[i] : fn->args.back();
                if (want == ExprType::Any) {
                    if (!checkExpr(*e.args[i])) ok = false;
                } else if (!expectExpr(*e.args[i], want)) {
                    ok = false;
                }
            }
            if (!ok) return std::nullopt;
            return fn->result;
        }
    }
    return std::nullopt;
}

}  // namespace tandem::conf
