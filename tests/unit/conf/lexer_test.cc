// The scanner as seen through the driver: tokens, escapes, locations, includes.
#include <cppunit/extensions/HelperMacros.h>

#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "conf/driver.h"
#include "test_util.h"

using namespace tandem;

class LexerTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(LexerTest);
    CPPUNIT_TEST(testWordsKeepDotsAndColonsTogether);
    CPPUNIT_TEST(testKeywordsAreCaseInsensitive);
    CPPUNIT_TEST(testStringEscapes);
    CPPUNIT_TEST(testCommentsAndLocations);
    CPPUNIT_TEST(testUnterminatedStringReportsItsStart);
    CPPUNIT_TEST(testBinaryGarbageIsAnErrorNotACrash);
    CPPUNIT_TEST(testIncludeLocationsNameTheIncludedFile);
    CPPUNIT_TEST(testIncludeFallsBackToIncludersDirectoryWithWarning);
    CPPUNIT_TEST(testIncludeCycleIsAnError);
    CPPUNIT_TEST(testMissingIncludeIsAnError);
    CPPUNIT_TEST_SUITE_END();

public:
    static conf::StmtList parse(const std::string& text, common::DiagnosticSink& sink) {
        conf::Driver d(sink);
        return d.parseString(text, "t.conf");
    }

    // One word per address, hex list, qualified name, IPv6 address.
    void testWordsKeepDotsAndColonsTogether() {
        common::DiagnosticSink sink;
        auto s = parse("x 10.0.0.1 00:0b:fd:32:e6:fa foo.bar 2001::1 -7 a-b_c;", sink);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), sink.errorCount());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), s.size());
        const auto& a = s[0]->atoms;
        CPPUNIT_ASSERT_EQUAL(std::size_t(6), a.size());
        CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.1"), a[0].text);
        CPPUNIT_ASSERT_EQUAL(std::string("00:0b:fd:32:e6:fa"), a[1].text);
        CPPUNIT_ASSERT_EQUAL(std::string("foo.bar"), a[2].text);
        CPPUNIT_ASSERT_EQUAL(std::string("2001::1"), a[3].text);
        CPPUNIT_ASSERT_EQUAL(std::string("-7"), a[4].text);
        CPPUNIT_ASSERT_EQUAL(std::string("a-b_c"), a[5].text);
    }

    // `OPTION`, `Option` and `option` are the same keyword, as in ISC.
    void testKeywordsAreCaseInsensitive() {
        common::DiagnosticSink sink;
        auto s = parse("OPTION domain-name \"a\"; Option routers 1.2.3.4;", sink);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), sink.errorCount());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), s.size());
        CPPUNIT_ASSERT(s[0]->kind == conf::Stmt::Kind::Option);
        CPPUNIT_ASSERT(s[1]->kind == conf::Stmt::Kind::Option);
    }

    // C escapes, octal and hex bytes are decoded inside strings.
    void testStringEscapes() {
        common::DiagnosticSink sink;
        auto s = parse("x \"a\\tb\\\"c\\101\\x42\\\\\";", sink);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), sink.errorCount());
        CPPUNIT_ASSERT_EQUAL(std::string("a\tb\"cAB\\"), s[0]->atoms[0].text);
    }

    // Comments are skipped and lines and columns count from 1.
    void testCommentsAndLocations() {
        common::DiagnosticSink sink;
        auto s = parse("# comment\n\n   foo bar; # more\n  baz;\n", sink);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), s.size());
        CPPUNIT_ASSERT_EQUAL(3u, s[0]->where.line);
        CPPUNIT_ASSERT_EQUAL(4u, s[0]->where.col);
        CPPUNIT_ASSERT_EQUAL(8u, s[0]->atoms[0].where.col);
        CPPUNIT_ASSERT_EQUAL(4u, s[1]->where.line);
        CPPUNIT_ASSERT_EQUAL(std::string("t.conf"), s[1]->where.fileName());
    }

    // A string that never ends is reported where it starts.
    void testUnterminatedStringReportsItsStart() {
        common::DiagnosticSink sink;
        parse("a;\nb \"open\n\nmore;\n", sink);
        CPPUNIT_ASSERT(sink.errorCount() >= 1);
        CPPUNIT_ASSERT_EQUAL(2u, sink.all()[0].where.line);
        CPPUNIT_ASSERT_EQUAL(3u, sink.all()[0].where.col);
        CPPUNIT_ASSERT(sink.all()[0].message.find("eof in string") != std::string::npos);
    }

    // NUL bytes and other garbage give errors; nothing crashes.
    void testBinaryGarbageIsAnErrorNotACrash() {
        common::DiagnosticSink sink;
        const char raw[] = "subnet \0\x01\xff { @@ }}}; ;;\"";
        std::string text(raw, sizeof raw - 1);  // keeps the NUL byte
        parse(text, sink);
        CPPUNIT_ASSERT(sink.errorCount() >= 1);
    }

    static std::string tempDir() {
        char tmpl[] = "/tmp/tandem-lexer-XXXXXX";
        const char* d = ::mkdtemp(tmpl);
        CPPUNIT_ASSERT(d);
        return d;
    }
    static void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

    // Statements of an included file carry that file's name and their own lines.
    void testIncludeLocationsNameTheIncludedFile() {
        std::string dir = tempDir();
        write(dir + "/inc.conf", "\n\nfoo 1;\n");
        write(dir + "/main.conf", "include \"" + dir + "/inc.conf\";\nbar 2;\n");
        common::DiagnosticSink sink;
        conf::Driver d(sink);
        auto s = d.parseFile(dir + "/main.conf");
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), sink.errorCount());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), s.size());
        CPPUNIT_ASSERT_EQUAL(dir + "/inc.conf", s[0]->where.fileName());
        CPPUNIT_ASSERT_EQUAL(3u, s[0]->where.line);
        CPPUNIT_ASSERT_EQUAL(dir + "/main.conf", s[1]->where.fileName());
        CPPUNIT_ASSERT_EQUAL(2u, s[1]->where.line);
    }

    // A relative include is tried in the working directory, then beside the includer, with a warning.
    void testIncludeFallsBackToIncludersDirectoryWithWarning() {
        std::string dir = tempDir();
        write(dir + "/master.conf", "foo 1;\n");
        write(dir + "/host.conf", "include \"master.conf\";\n");
        common::DiagnosticSink sink;
        conf::Driver d(sink);
        auto s = d.parseFile(dir + "/host.conf");
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), sink.errorCount());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sink.warningCount());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), s.size());
    }

    // A file that includes itself is refused, not read forever.
    void testIncludeCycleIsAnError() {
        std::string dir = tempDir();
        write(dir + "/a.conf", "include \"" + dir + "/b.conf\";\n");
        write(dir + "/b.conf", "x;\ninclude \"" + dir + "/a.conf\";\n");
        common::DiagnosticSink sink;
        conf::Driver d(sink);
        d.parseFile(dir + "/a.conf");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sink.errorCount());
        CPPUNIT_ASSERT(sink.all()[0].message.find("cycle") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(2u, sink.all()[0].where.line);
    }

    // A missing include names the file at the include statement.
    void testMissingIncludeIsAnError() {
        common::DiagnosticSink sink;
        parse("\ninclude \"/nonexistent/x.conf\";\n", sink);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sink.errorCount());
        CPPUNIT_ASSERT_EQUAL(2u, sink.all()[0].where.line);
        CPPUNIT_ASSERT(sink.all()[0].message.find("can't open /nonexistent/x.conf") != std::string::npos);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LexerTest);
