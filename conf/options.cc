// Option statements of dhcpd.conf: setting values (option, supersede, default,
// prepend, append, send), declaring option spaces and defining new options with
// ISC's type language (dhcpd.conf(5), "DEFINING NEW OPTIONS").
#include "common/option_value.h"
#include "conf/builder_impl.h"
#include "conf/words.h"

namespace tandem::conf {

using common::OptionDef;

const OptionDef* Builder::resolveOption(const Atom& name, std::string& space, bool report) {
    std::string opt = name.text;
    auto dot = opt.find('.');
    if (dot != std::string::npos) {
        space = opt.substr(0, dot);
        opt = opt.substr(dot + 1);
        if (!config_->options.space(space)) {
            if (report) error(name.where, "no option space named " + space + ".");
            return nullptr;
        }
    } else {
        space = "dhcp";
    }
    const OptionDef* def = config_->options.find(space, opt);
    if (!def && report) error(name.where, "unknown option " + space + "." + opt);
    return def;
}

void Builder::optionStatement(const Stmt& s, Frame& f) {
    if (s.kind == Stmt::Kind::Option && s.verb == "option" && iequals(s.head.text, "space"))
        return optionSpace(s, f);
    bool isDefinition = false;
    for (const auto& a : s.atoms)
        if (a.kind == Atom::Kind::Punct && a.text == "=") isDefinition = true;
    if (isDefinition) return optionDefinition(s, f);
    if (f.ctx == Ctx::FailoverPeer || f.ctx == Ctx::FailoverState || f.ctx == Ctx::Key || f.ctx == Ctx::Zone) {
        error(s.where, "option statements are not allowed here");
        return;
    }

    std::string space;
    const OptionDef* def = resolveOption(s.head, space, true);
    if (!def) return;
    OptionSetting o;
    o.verb = s.verb;
    o.space = def->space;
    o.name = def->name;
    o.code = def->code;
    o.where = s.where;
    if (s.kind == Stmt::Kind::OptionExpr) {
        if (!expectExpr(*s.expr, ExprType::Data)) return;
        o.expr = s.expr;
    } else {
        auto typed = common::typeValue(config_->options, *def, s.atoms);
        if (auto* err = std::get_if<common::ValueError>(&typed)) {
            const Location& at = err->atom < s.atoms.size() ? s.atoms[err->atom].where : endOf(s);
            error(at, "option " + def->space + "." + def->name + ": " + err->message);
            return;
        }
        o.value = std::get<common::TypedValue>(typed);
    }
    f.scope->options.push_back(std::move(o));
}

void Builder::optionSpace(const Stmt& s, Frame& f) {
    if (f.ctx != Ctx::Root) {
        error(s.where, "option space declarations are allowed only at the top level");
        return;
    }
    if (s.atoms.empty() || s.atoms[0].kind != Atom::Kind::Word) {
        error(s.atoms.empty() ? s.head.where : s.atoms[0].where, "expecting a name for the option space");
        return;
    }
    const std::string name = s.atoms[0].text;
    unsigned codeWidth = 1, lengthWidth = 1;
    std::size_t i = 1;
    auto word = [&](std::size_t k, const char* w) { return k < s.atoms.size() && iequals(s.atoms[k].text, w); };
    while (i < s.atoms.size()) {
        if (word(i, "code") && word(i + 1, "width")) {
            auto v = number(s, i + 2, 255, "a code width");
            if (!v) return;
            if (*v != 1 && *v != 2 && *v != 4) {
                error(s.atoms[i + 2].where, "invalid code width (" + std::to_string(*v) + ") expecting 1, 2 or 4.");
                return;
            }
            codeWidth = *v;
            i += 3;
        } else if (word(i, "length") && word(i + 1, "width")) {
            auto v = number(s, i + 2, 255, "a length width");
            if (!v) return;
            if (*v != 1 && *v != 2) {
                error(s.atoms[i + 2].where, "invalid length width (" + std::to_string(*v) + ") expecting 1 or 2.");
                return;
            }
            lengthWidth = *v;
            i += 3;
        } else if (word(i, "hash") && word(i + 1, "size")) {
            if (!number(s, i + 2, 65535, "a hash size")) return;
            i += 3;
        } else {
            error(s.atoms[i].where, "expecting `code width N`, `length width N` or `hash size N`, not " + s.atoms[i].text);
            return;
        }
    }
    if (config_->options.space(name)) {
        warning(s.atoms[0].where, "option space " + name + " already exists; declaration ignored");
        return;
    }
    config_->options.addSpace(name, codeWidth, lengthWidth);
}

void Builder::optionDefinition(const Stmt& s, Frame& f) {
    if (f.ctx != Ctx::Root) {
        error(s.where, "option definitions are allowed only at the top level, not in " +
                           std::string(f.ctx == Ctx::Group ? "a group" : "this scope"));
        return;
    }
    // atoms: code N = TYPE...
    if (s.atoms.size() < 3 || !iequals(s.atoms[0].text, "code")) {
        error(s.atoms.empty() ? s.head.where : s.atoms[0].where, "expecting `code N = TYPE` in an option definition");
        return;
    }
    auto code = number(s, 1, UINT32_MAX, "an option code");
    if (!code) return;
    if (s.atoms[2].kind != Atom::Kind::Punct || s.atoms[2].text != "=") {
        error(s.atoms[2].where, "expecting '=' after the option code");
        return;
    }
    std::string space = "dhcp", name = s.head.text;
    auto dot = name.find('.');
    if (dot != std::string::npos) {
        space = name.substr(0, dot);
        name = name.substr(dot + 1);
    }
    common::OptionSpace* sp = config_->options.space(space);
    if (!sp) {
        error(s.head.where, "no option space named " + space + ".");
        return;
    }
    std::size_t pos = 3;
    auto format = readType(s.atoms, pos, false, false);
    if (!format) return;
    if (pos < s.atoms.size()) {
        error(s.atoms[pos].where, "semicolon expected. The type is complete before `" + s.atoms[pos].text + "`");
        return;
    }
    if (auto bad = common::OptionRegistry::checkFormat(*format)) {
        error(s.atoms[3].where, *bad);
        return;
    }
    OptionDef def;
    def.space = space;
    def.name = name;
    def.code = *code;
    def.format = *format;
    sp->define(def);
}

std::optional<std::string> Builder::readType(const Atoms& atoms, std::size_t& pos, bool inRecord, bool inArray) {
    auto at = [&](std::size_t k, const char* w) {
        return k < atoms.size() && atoms[k].kind == Atom::Kind::Word && iequals(atoms[k].text, w);
    };
    auto punct = [&](std::size_t k, const char* p) {
        return k < atoms.size() && atoms[k].kind == Atom::Kind::Punct && atoms[k].text == p;
    };
    auto fail = [&](std::size_t k, const std::string& m) -> std::optional<std::string> {
        error(k < atoms.size() ? atoms[k].where : atoms.back().where, m);
        return std::nullopt;
    };
    if (pos >= atoms.size()) return fail(pos, "expecting a data type");
    if (at(pos, "array")) {
        if (!at(pos + 1, "of")) return fail(pos + 1, "expecting `of` after `array`");
        if (inArray) return fail(pos, "no nested arrays.");
        pos += 2;
        if (at(pos, "array")) return fail(pos, "no nested arrays.");
        if (punct(pos, "{")) {
            if (inRecord) return fail(pos, "only uniform array inside record.");
            auto rec = readType(atoms, pos, false, true);
            if (!rec) return std::nullopt;
            return *rec + "A";
        }
        std::size_t start = pos;
        auto elem = readType(atoms, pos, inRecord, true);
        if (!elem) return std::nullopt;
        char c = (*elem)[0];
        if (c == 't' || c == 'X' || c == 'D')
            return fail(start, "arrays of text strings not yet supported.");
        return *elem + (inRecord ? "a" : "A");
    }
    if (punct(pos, "{")) {
        if (inRecord) return fail(pos, "unknown data type {: records do not nest");
        std::size_t open = pos;
        ++pos;
        std::string fmt;
        bool last = false;
        while (true) {
            if (last) return fail(pos, "text and string may be only the last field of a record");
            std::size_t fieldStart = pos;
            auto field = readType(atoms, pos, true, inArray);
            if (!field) return std::nullopt;
            char c = (*field)[0];
            if (c == 't' || c == 'X') last = true;
            (void)fieldStart;
            fmt += *field;
            if (pos < atoms.size() && atoms[pos].kind == Atom::Kind::Comma) {
                ++pos;
                continue;
            }
            if (punct(pos, "}")) {
                ++pos;
                break;
            }
            return fail(pos, "expecting ',' or '}' in the record type opened at " + atoms[open].where.str());
        }
        return fmt;
    }
    if (at(pos, "boolean")) { ++pos; return std::string("f"); }
    if (at(pos, "ip-address")) { ++pos; return std::string("I"); }
    if (at(pos, "ip6-address")) { ++pos; return std::string("6"); }
    if (at(pos, "text")) { ++pos; return std::string("t"); }
    if (at(pos, "string")) { ++pos; return std::string("X"); }
    if (at(pos, "domain-name")) { ++pos; return std::string("d"); }
    if (at(pos, "zerolen")) { ++pos; return std::string("Z"); }
    if (at(pos, "domain-list")) {
        ++pos;
        if (at(pos, "compressed")) {
            ++pos;
            return std::string("Dc");
        }
        return std::string("D");
    }
    if (at(pos, "encapsulate")) {
        if (pos + 1 >= atoms.size() || atoms[pos + 1].kind != Atom::Kind::Word)
            return fail(pos + 1, "expecting an option space name after encapsulate");
        const std::string sp = atoms[pos + 1].text;
        if (!config_->options.space(sp)) return fail(pos + 1, "no option space named " + sp + ".");
        pos += 2;
        return "E" + sp + ".";
    }
    bool isSigned = true;
    bool sawSign = false;
    if (at(pos, "signed") || at(pos, "unsigned")) {
        isSigned = at(pos, "signed");
        sawSign = true;
        ++pos;
    }
    if (at(pos, "integer")) {
        ++pos;
        if (pos >= atoms.size()) return fail(pos, "expecting an integer width: 8, 16 or 32");
        const std::string& w = atoms[pos].text;
        char letter;
        if (w == "8") letter = isSigned ? 'b' : 'B';
        else if (w == "16") letter = isSigned ? 's' : 'S';
        else if (w == "32") letter = isSigned ? 'l' : 'L';
        else return fail(pos, "integer width must be 8, 16 or 32, not " + w);
        ++pos;
        return std::string(1, letter);
    }
    if (sawSign) return fail(pos, "expecting `integer` after signed/unsigned");
    return fail(pos, "unknown data type " + atoms[pos].text);
}

}  // namespace tandem::conf
