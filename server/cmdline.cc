#include "server/cmdline.h"

#include <cstdlib>

#include "config.h"

namespace tandem::server {

std::optional<CommandLine> parseCommandLine(const std::vector<std::string>& args, CommandLineError& error) {
    CommandLine cl;
    // The paths configure was given (--sysconfdir, --localstatedir); the
    // header's values are what a build for /etc and /var gets.
    cl.configFile = TANDEM_SYSCONFDIR "/tandem/dhcpd.conf";
    cl.leaseFile = TANDEM_LOCALSTATEDIR "/lib/tandem/dhcpd.leases";
    auto value = [&](std::size_t& i, std::string& out) {
        if (i + 1 >= args.size()) {
            error.message = args[i] + " needs a value";
            return false;
        }
        out = args[++i];
        return true;
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "-cf") {
            if (!value(i, cl.configFile)) return std::nullopt;
            cl.configGiven = true;
        } else if (a == "-lf") {
            if (!value(i, cl.leaseFile)) return std::nullopt;
            cl.leaseGiven = true;
        } else if (a == "-pf") {
            if (!value(i, cl.pidFile)) return std::nullopt;
            cl.pidGiven = true;
        } else if (a == "-p") {
            std::string p;
            if (!value(i, p)) return std::nullopt;
            char* end = nullptr;
            long v = std::strtol(p.c_str(), &end, 10);
            if (p.empty() || *end || v <= 0 || v > 65534) {
                error.message = "-p needs a UDP port number (1-65534), not " + p;
                return std::nullopt;
            }
            cl.port = static_cast<int>(v);
        } else if (a == "-f") {
            cl.foreground = true;
        } else if (a == "-d") {
            cl.debug = cl.foreground = true;
        } else if (a == "-q") {
            cl.quiet = true;
        } else if (a == "-t") {
            cl.testConfig = true;
        } else if (a == "-T") {
            cl.testLeases = true;
        } else if (a == "-v") {
            cl.verbose = true;
        } else if (a == "-4") {
            // IPv4 is all tandemd serves.
        } else if (a == "-6" || a == "-4o6") {
            error.message = "tandemd serves DHCPv4 only (" + a + ")";
            return std::nullopt;
        } else if (a == "--no-pid") {
            cl.noPid = true;
        } else if (a == "--control") {
            if (!value(i, cl.controlSocket)) return std::nullopt;
            cl.controlGiven = true;
        } else if (a == "--no-control") {
            cl.noControl = true;
        } else if (a == "-user") {
            if (!value(i, cl.user)) return std::nullopt;
        } else if (a == "-group") {
            if (!value(i, cl.group)) return std::nullopt;
        } else if (a == "-chroot") {
            if (!value(i, cl.chroot)) return std::nullopt;
        } else if (a == "--help" || a == "-h") {
            cl.help = true;
        } else if (a == "--version") {
            cl.version = true;
        } else if (!a.empty() && a[0] == '-') {
            error.message = "unknown option " + a;
            return std::nullopt;
        } else {
            cl.interfaces.push_back(a);
        }
    }
    if (cl.testConfig && cl.testLeases) {
        error.message = "-t and -T cannot be combined";
        return std::nullopt;
    }
    return cl;
}

std::string usage(const std::string& program) {
    return "Usage: " + program +
           " [-p <UDP port #>] [-f] [-d] [-q] [-t|-T] [-v]\n"
           "             [-4] [-cf config-file] [-lf lease-file]\n"
           "             [-user user] [-group group] [-chroot dir]\n"
           "             [-pf pid-file] [--no-pid]\n"
           "             [--control socket] [--no-control]\n"
           "             [if0 [...ifN]]\n"
           "       " + program + " {--version|--help|-h}\n";
}

}  // namespace tandem::server
