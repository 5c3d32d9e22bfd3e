// ISC dhcpd's command line, as tandemd accepts it: single-dash words (-cf,
// -lf, -pf, -user ...) and trailing interface names. Parsing only: no file is
// opened and nothing is started here.
#ifndef TANDEM_SERVER_CMDLINE_H
#define TANDEM_SERVER_CMDLINE_H

#include <optional>
#include <string>
#include <vector>

namespace tandem::server {

struct CommandLine {
    std::string configFile = "/etc/tandem/dhcpd.conf";
    std::string leaseFile = "/var/lib/tandem/dhcpd.leases";
    std::string pidFile = "/run/tandemd.pid";
    bool configGiven = false, leaseGiven = false, pidGiven = false;
    int port = 0;              ///< 0 = default (67)
    bool foreground = false;   ///< -f
    bool debug = false;        ///< -d: log to stderr too; implies -f
    bool quiet = false;        ///< -q
    bool testConfig = false;   ///< -t
    bool testLeases = false;   ///< -T
    bool verbose = false;      ///< -v (tandemd only): with -t, print the parsed model
    bool noPid = false;        ///< --no-pid
    std::string controlSocket = "/run/tandemd.ctl";  ///< --control PATH (tandemd only)
    bool controlGiven = false;
    bool noControl = false;    ///< --no-control (tandemd only)
    std::string user, group, chroot;
    std::vector<std::string> interfaces;
    bool help = false, version = false;
};

struct CommandLineError {
    std::string message;
};

/// @brief Parse argv (without argv[0]). Environment variables are not read here.
/// @return the options, or an error to print before the usage text (ISC exits 1 then).
std::optional<CommandLine> parseCommandLine(const std::vector<std::string>& args, CommandLineError& error);

/// @brief The usage text, ISC's flags plus ours.
std::string usage(const std::string& program);

}  // namespace tandem::server

#endif
