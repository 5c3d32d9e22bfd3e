// Certificates for the TLS tests, made at test time with the openssl command
// line in a fresh temporary directory (removed afterwards): CAs, and peer
// certificates each CA signs, with the usages a failover peer needs (it is TLS
// client and server, whichever side connects). Nothing is checked in; nothing
// outside the directory is touched.
#ifndef TANDEM_TESTS_UNIT_TLS_PKI_H
#define TANDEM_TESTS_UNIT_TLS_PKI_H

#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "tap_skip.h"

namespace tandem::test {

class TestPki {
public:
    TestPki() {
        std::string tmpl = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/tandem-tls.XXXXXX";
        if (::mkdtemp(tmpl.data())) dir_ = tmpl;
    }
    ~TestPki() {
        if (!dir_.empty())
            ::nftw(
                dir_.c_str(), [](const char* p, const struct stat*, int, struct FTW*) { return ::remove(p); }, 8,
                FTW_DEPTH | FTW_PHYS);
    }
    TestPki(const TestPki&) = delete;
    TestPki& operator=(const TestPki&) = delete;

    const std::string& dir() const { return dir_; }
    std::string path(const std::string& file) const { return dir_ + "/" + file; }

    /// @brief A self-signed CA: NAME.crt and NAME.key. Skips the test without openssl.
    void makeCa(const std::string& name) {
        run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2"
            " -subj '/CN=Tandem test " + name + "' -keyout " + q(name + ".key") + " -out " + q(name + ".crt") +
            " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
    }

    /// @brief NAME.crt (CN and DNS name `dns`) and NAME.key, signed by CA `ca`.
    void makePeer(const std::string& name, const std::string& dns, const std::string& ca) {
        std::ofstream(path(name + ".ext")) << "basicConstraints=CA:FALSE\n"
                                              "keyUsage=critical,digitalSignature\n"
                                              "extendedKeyUsage=serverAuth,clientAuth\n"
                                              "subjectAltName=DNS:" << dns << "\n";
        run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/CN=" + dns + "' -keyout " +
            q(name + ".key") + " -out " + q(name + ".csr"));
        run("openssl x509 -req -days 2 -set_serial " + std::to_string(++serial_) + " -in " + q(name + ".csr") +
            " -CA " + q(ca + ".crt") + " -CAkey " + q(ca + ".key") + " -extfile " + q(name + ".ext") + " -out " +
            q(name + ".crt"));
    }

    /// @brief The usual set: CA "ca" signing "primary" and "secondary", and a
    /// "stranger" signed by another CA, "otherca".
    void makeStandard() {
        makeCa("ca");
        makePeer("primary", "primary.example", "ca");
        makePeer("secondary", "secondary.example", "ca");
        makeCa("otherca");
        makePeer("stranger", "secondary.example", "otherca");
    }

    void write(const std::string& file, const std::string& text) const { std::ofstream(path(file)) << text; }

private:
    std::string q(const std::string& file) const { return "'" + path(file) + "'"; }

    void run(const std::string& cmd) {
        if (dir_.empty()) TANDEM_SKIP("cannot make a temporary directory");
        if (std::system("command -v openssl >/dev/null 2>&1") != 0) TANDEM_SKIP("no openssl command line");
        const std::string log = path("openssl.log");
        if (std::system((cmd + " >" + log + " 2>&1").c_str()) != 0) {
            std::ifstream in(log);
            std::ostringstream text;
            text << in.rdbuf();
            throw std::runtime_error("openssl failed: " + cmd + "\n" + text.str());
        }
    }

    std::string dir_;
    int serial_ = 1000;
};

}  // namespace tandem::test

#endif
