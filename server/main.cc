// tandemd: the daemon's entry point. It reads the command line, loads the
// configuration and, for now, checks it (-t). The DHCP service itself is built
// in server/ and failover/ and wired in here as those layers grow.
#include "config.h"

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <iostream>

#include "common/diag.h"
#include "conf/config_builder.h"
#include "conf/dump.h"
#include "server/cmdline.h"


namespace {

std::string absolute(const std::string& path) {
    if (path.empty() || path[0] == '/') return path;
    char cwd[PATH_MAX];
    if (!::getcwd(cwd, sizeof cwd)) return path;
    return std::string(cwd) + "/" + path;
}

int checkConfig(const tandem::server::CommandLine& cl) {
    tandem::common::DiagnosticSink sink;
    // ISC makes -cf absolute at start; includes stay relative to the working directory.
    auto config = tandem::conf::loadConfig(cl.configFile, sink);
    if (!cl.quiet) sink.print(std::cerr);
    if (sink.errorCount()) {
        if (!cl.quiet)
            std::cerr << cl.configFile << ": " << sink.errorCount() << " error(s); configuration file errors "
                      << "encountered -- exiting\n";
        return 1;
    }
    if (cl.verbose) tandem::conf::dumpConfig(*config, std::cout);
    for (const auto& p : config->failoverPeers)
        if (p.loadBalanceMaxSeconds == 0 && !cl.quiet)
            std::cerr << p.where.str() << ": warning: failover peer " << p.name
                      << ": load balancing is disabled (load balance max seconds is 0)\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    tandem::server::CommandLineError err;
    auto cl = tandem::server::parseCommandLine(args, err);
    if (!cl) {
        std::cerr << "tandemd: " << err.message << "\n" << tandem::server::usage("tandemd");
        return 1;
    }
    if (cl->help) {
        std::cerr << tandem::server::usage("tandemd");
        return 0;
    }
    if (cl->version) {
        std::cerr << "tandemd-" PACKAGE_VERSION "\n";
        return 0;
    }
    if (const char* env = std::getenv("PATH_DHCPD_CONF"); env && !cl->configGiven) cl->configFile = env;
    cl->configFile = absolute(cl->configFile);
    if (cl->testConfig) return checkConfig(*cl);
    // Start-up reads the configuration first, so its errors and its warnings
    // (features read but not acted on) are shown as they will be at every start.
    tandem::server::CommandLine quietless = *cl;
    quietless.verbose = false;
    if (checkConfig(quietless) != 0) return 1;
    std::cerr << "tandemd " PACKAGE_VERSION ": the DHCP service is not part of this version yet; "
                 "only -t (check a configuration) works.\n";
    return 1;
}
