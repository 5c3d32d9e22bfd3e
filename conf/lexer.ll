/* The dhcpd.conf scanner. It follows ISC's lexical rules (conflex.c): '#'
 * comments, case-insensitive keywords, quoted strings with C escapes, and
 * unquoted words made of letters, digits, '-' and '_'. Unlike ISC it keeps a
 * dotted or colon-joined run (10.0.0.1, 00:0b:fd:32:e6:fa, foo.bar, 2001::1)
 * as one word, so the grammar stays context-free and every value keeps one
 * location. It reports, never aborts: any byte sequence yields tokens. */
%{
#include <cerrno>
#include <cstdlib>
#include <string>

#include "conf/driver.h"
#include "conf/parser.hh"

using tandem::conf::Parser;

#define YY_DECL Parser::symbol_type tandem_conf_lex(tandem::conf::Driver& drv, yyscan_t yyscanner)
#define YY_USER_ACTION drv.loc().columns(yyleng);
#define YY_FATAL_ERROR(msg) tandem::conf::Driver::scannerFatal(msg)
%}

%option reentrant noyywrap nounput noinput batch nodefault warn 8bit never-interactive
%option prefix="tandem_conf_yy"

%x STR

WORDCH   [A-Za-z0-9_-]
WORD     {WORDCH}+([.:]+{WORDCH}+)*\.?

%%

%{
    drv.loc().step();
%}

<INITIAL>{
[ \t\r\f\v]+      { drv.loc().step(); }
\n                { drv.loc().lines(1); drv.loc().step(); }
"#"[^\n]*         { drv.loc().step(); }

\"                { drv.beginString(); BEGIN(STR); }

"!="              { return Parser::make_NE(drv.loc()); }
"~="              { return Parser::make_REQ(drv.loc()); }
"~~"              { return Parser::make_RIEQ(drv.loc()); }
[;{}(),=:+*/%&|^.-]  { return Parser::symbol_type(Parser::token_kind_type(yytext[0]), drv.loc()); }

{WORD}            { return drv.word(yytext, yyleng); }

.                 { return Parser::make_CHAR(std::string(yytext, yyleng), drv.loc()); }
}

<STR>{
\"                { BEGIN(INITIAL); return drv.endString(); }
\\[0-3][0-7]{0,2} { drv.stringByte(static_cast<char>(std::strtol(yytext + 1, nullptr, 8))); }
\\x[0-9A-Fa-f]{1,2} { drv.stringByte(static_cast<char>(std::strtol(yytext + 2, nullptr, 16))); }
\\t               { drv.stringByte('\t'); }
\\r               { drv.stringByte('\r'); }
\\n               { drv.stringByte('\n'); }
\\b               { drv.stringByte('\b'); }
\\\n              { drv.loc().lines(1); drv.stringByte('\n'); }
\\.               { drv.stringByte(yytext[1]); }
\\                { drv.stringByte('\\'); }
\n                { drv.loc().lines(1); drv.stringByte('\n'); }
[^\\\"\n]+        { drv.stringText(yytext, yyleng); }
<<EOF>>           { BEGIN(INITIAL); return drv.unterminatedString(); }
}

<<EOF>>           {
                    if (!drv.popInclude(yyscanner)) return Parser::make_END(drv.loc());
                  }

%%

// Buffer handling lives here because only this file sees flex's buffer type.
namespace tandem::conf {

void Driver::startScanner(const std::string& text) {
    tandem_conf_yylex_init(&scanner_);
    auto* buf = tandem_conf_yy_scan_bytes(text.data(), static_cast<int>(text.size()), scanner_);
    tandem_conf_yy_switch_to_buffer(buf, scanner_);
}

void Driver::stopScanner() {
    if (!scanner_) return;
    // Buffers of includes still open (after an abort) are freed with the scanner.
    while (!includes_.empty()) {
        tandem_conf_yy_delete_buffer(static_cast<YY_BUFFER_STATE>(includes_.back().buffer), scanner_);
        includes_.pop_back();
    }
    tandem_conf_yylex_destroy(scanner_);
    scanner_ = nullptr;
}

void Driver::switchToIncluded(const std::string& text) {
    struct yyguts_t* yyg = static_cast<struct yyguts_t*>(scanner_);
    includes_.back().buffer = YY_CURRENT_BUFFER;
    auto* buf = tandem_conf_yy_scan_bytes(text.data(), static_cast<int>(text.size()), scanner_);
    tandem_conf_yy_switch_to_buffer(buf, scanner_);
}

bool Driver::popInclude(void* scanner) {
    if (includes_.empty()) return false;
    struct yyguts_t* yyg = static_cast<struct yyguts_t*>(scanner);
    tandem_conf_yy_delete_buffer(YY_CURRENT_BUFFER, scanner);
    Include top = includes_.back();
    includes_.pop_back();
    tandem_conf_yy_switch_to_buffer(static_cast<YY_BUFFER_STATE>(top.buffer), scanner);
    loc_ = top.resume;
    openFiles_.pop_back();
    return true;
}

Parser::symbol_type Driver::lex() { return tandem_conf_lex(*this, scanner_); }

}  // namespace tandem::conf
