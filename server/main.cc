// tandemd: the daemon's entry point. It reads ISC dhcpd's command line, loads
// and checks the configuration (-t stops there), reads the lease file (-T
// stops there), then starts the DHCP server and the failover relationships on
// one event loop, as ISC dhcpd's main() does, in ISC's order.
#include "config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>

#include "common/clock.h"
#include "common/diag.h"
#include "common/event.h"
#include "common/log.h"
#include "conf/config_builder.h"
#include "conf/dump.h"
#include "failover/engine.h"
#include "failover/failover_metrics.h"
#include "server/cmdline.h"
#include "server/control.h"
#include "server/daemon.h"
#include "server/metrics.h"
#include "server/server_metrics.h"
#include "server/server.h"
#include "server/topology.h"

namespace {

using tandem::common::logError;
using tandem::common::logInfo;

std::string absolute(const std::string& path) {
    if (path.empty() || path[0] == '/') return path;
    char cwd[PATH_MAX];
    if (!::getcwd(cwd, sizeof cwd)) return path;
    return std::string(cwd) + "/" + path;
}

[[noreturn]] void fatal(const std::string& message) {
    logError(message);
    logError("exiting.");
    std::exit(1);
}

// Diagnostics of the configuration: to stderr in ISC's caret form (unless -q),
// and each as one line to the log (syslog only, so stderr shows it once).
void report(const tandem::common::DiagnosticSink& sink, const tandem::server::CommandLine& cl) {
    if (!cl.quiet) sink.print(std::cerr);
    if (tandem::common::logConfig().toSyslog) {
        tandem::common::LogConfig quietCopy = tandem::common::logConfig();
        quietCopy.toStderr = false;
        tandem::common::logInit(quietCopy);
        for (const auto& d : sink.all()) {
            std::string line = d.where.str() + ": " + d.message;
            if (d.severity == tandem::common::Severity::Error) logError(line);
            else tandem::common::logWarning(line);
        }
        quietCopy.toStderr = !cl.quiet;
        tandem::common::logInit(quietCopy);
    }
}

// SIGHUP and `tandemctl reload`: a new configuration is checked in full first;
// on any error the running one stays.
bool reloadConfig(const tandem::server::CommandLine& cl, const std::string& startDir, tandem::server::Server& srv,
                  tandem::failover::FailoverEngine& engine, tandem::server::MetricsServer& metrics,
                  tandem::common::LogConfig& lc, std::string& why) {
    using namespace tandem;
    char cwd[PATH_MAX];
    std::string here = ::getcwd(cwd, sizeof cwd) ? cwd : "/";
    if (::chdir(startDir.c_str()) != 0) {
        why = "cannot enter " + startDir + ": " + std::strerror(errno);
        return false;
    }
    common::DiagnosticSink sink;
    auto config = conf::loadConfig(cl.configFile, sink);
    if (::chdir(here.c_str()) != 0) {
        // Nothing depends on the working directory once the files are read.
    }
    for (const auto& d : sink.all()) {
        std::string line = d.where.str() + ": " + d.message;
        if (d.severity == common::Severity::Error) logError(line);
        else common::logWarning(line);
    }
    if (sink.errorCount()) {
        why = cl.configFile + ": " + std::to_string(sink.errorCount()) + " error(s)";
        return false;
    }
    if (!failover::FailoverEngine::check(*config, why)) return false;
    if (!srv.reload(config, why)) return false;
    engine.reload();
    // The endpoint follows the statement: moved, started or stopped.
    if (config->metricsListen) {
        std::string err;
        if (!metrics.start(*config->metricsListen, err)) logError("metrics-listen: " + err);
    } else {
        metrics.stop();
    }
    if (const auto* p = config->global ? config->global->findParam("log-facility") : nullptr; p && !p->value.wire.empty()) {
        lc.facility = p->value.wire.back();
        common::logInit(lc);
    }
    logInfo("Reloaded " + cl.configFile + ".");
    return true;
}

// tandemctl's commands on the failover engine and the server.
void registerCommands(tandem::server::ControlServer& control, tandem::server::Server& srv,
                      tandem::failover::FailoverEngine& engine) {
    using tandem::server::ControlReply;
    auto relationship = [&engine](const std::vector<std::string>& args, std::string& why)
        -> tandem::failover::Relationship* {
        if (args.empty()) {
            why = "which failover peer? (a name from `failover peer \"NAME\"`)";
            return nullptr;
        }
        auto* rel = engine.find(args[0]);
        if (!rel) why = "no failover peer named \"" + args[0] + "\"";
        return rel;
    };
    control.addCommand({"status", "", "failover relationships and pools", [&srv, &engine](const std::vector<std::string>&) {
                     std::string body = engine.statusText();
                     if (body.empty()) body = "no failover relationships\n";
                     for (const auto& p : srv.store().pools()) {
                         if (p->failover) continue;
                         body += "pool " + p->network->name + ": " + std::to_string(p->size) + " addresses, " +
                                 std::to_string(p->count(tandem::common::BindingState::Free)) + " free, " +
                                 std::to_string(p->count(tandem::common::BindingState::Active)) + " active, " +
                                 std::to_string(p->count(tandem::common::BindingState::Abandoned)) + " abandoned\n";
                     }
                     return ControlReply::ok(body);
                 }, false});
    control.addCommand({"partner-down", "NAME [--force]", "take over the peer's addresses (after MCLT)",
                 [relationship](const std::vector<std::string>& args) {
                     std::string why;
                     auto* rel = relationship(args, why);
                     if (!rel) return ControlReply::error(why);
                     bool force = args.size() > 1 && args[1] == "--force";
                     if (!rel->adminPartnerDown(force, why)) return ControlReply::error(why);
                     return ControlReply::ok("failover peer " + rel->name() + ": partner-down\n");
                 }});
    control.addCommand({"resync", "NAME", "ask the peer for every binding (UPDREQALL); service goes on",
                 [relationship](const std::vector<std::string>& args) {
                     std::string why;
                     auto* rel = relationship(args, why);
                     if (!rel) return ControlReply::error(why);
                     if (!rel->adminResync(why)) return ControlReply::error(why);
                     return ControlReply::ok("failover peer " + rel->name() + ": update request all sent\n");
                 }});
    control.addCommand({"shutdown-peer", "NAME", "announce our shutdown so the peer takes over at once",
                 [relationship](const std::vector<std::string>& args) {
                     std::string why;
                     auto* rel = relationship(args, why);
                     if (!rel) return ControlReply::error(why);
                     if (!rel->adminShutdown(why)) return ControlReply::error(why);
                     return ControlReply::ok("failover peer " + rel->name() + ": shutdown announced; this server "
                                             "no longer serves the relationship's pools\n");
                 }});
}

tandem::conf::ConfigPtr loadConfig(const tandem::server::CommandLine& cl) {
    tandem::common::DiagnosticSink sink;
    auto config = tandem::conf::loadConfig(cl.configFile, sink);
    report(sink, cl);
    if (sink.errorCount()) {
        if (!cl.quiet)
            std::cerr << cl.configFile << ": " << sink.errorCount()
                      << " error(s); configuration file errors encountered -- exiting\n";
        std::exit(1);
    }
    for (const auto& p : config->failoverPeers)
        if (p.loadBalanceMaxSeconds == 0)
            tandem::common::logWarning(p.where.str() + ": failover peer " + p.name +
                                       ": load balancing is disabled (load balance max seconds is 0)");
    return config;
}

const tandem::conf::Parameter* globalParam(const tandem::conf::Config& c, const char* name) {
    return c.global ? c.global->findParam(name) : nullptr;
}

std::string textParam(const tandem::conf::Config& c, const char* name) {
    const auto* p = globalParam(c, name);
    return p ? std::string(p->value.wire.begin(), p->value.wire.end()) : std::string();
}

}  // namespace

int main(int argc, char** argv) {
    using namespace tandem;
    std::vector<std::string> args(argv + 1, argv + argc);
    server::CommandLineError err;
    auto parsed = server::parseCommandLine(args, err);
    if (!parsed) {
        std::cerr << "tandemd: " << err.message << "\n" << server::usage("tandemd");
        return 1;
    }
    server::CommandLine cl = *parsed;
    if (cl.help) {
        std::cerr << server::usage("tandemd");
        return 0;
    }
    if (cl.version) {
        std::cerr << "tandemd-" PACKAGE_VERSION "\n";
        return 0;
    }
    // ISC's environment variables, used when the flag is absent.
    if (const char* e = std::getenv("PATH_DHCPD_CONF"); e && !cl.configGiven) cl.configFile = e;
    if (const char* e = std::getenv("PATH_DHCPD_DB"); e && !cl.leaseGiven) cl.leaseFile = e;
    if (const char* e = std::getenv("PATH_DHCPD_PID"); e && !cl.pidGiven) cl.pidFile = e;
    if (const char* e = std::getenv("DHCPD_PORT"); e && !cl.port) cl.port = std::atoi(e);
    // ISC makes the files absolute at start: it later changes directory to /.
    cl.configFile = absolute(cl.configFile);

    common::LogConfig lc;
    lc.toStderr = !cl.quiet;
    lc.toSyslog = !cl.testConfig && !cl.testLeases;
    common::logInit(lc);

    if (cl.testConfig) {
        tandem::common::DiagnosticSink sink;
        auto config = conf::loadConfig(cl.configFile, sink);
        if (!cl.quiet) sink.print(std::cerr);
        if (sink.errorCount()) {
            if (!cl.quiet)
                std::cerr << cl.configFile << ": " << sink.errorCount()
                          << " error(s); configuration file errors encountered -- exiting\n";
            return 1;
        }
        if (cl.verbose) conf::dumpConfig(*config, std::cout);
        for (const auto& p : config->failoverPeers)
            if (p.loadBalanceMaxSeconds == 0 && !cl.quiet)
                std::cerr << p.where.str() << ": warning: failover peer " << p.name
                          << ": load balancing is disabled (load balance max seconds is 0)\n";
        return 0;
    }

    if (!cl.quiet) {
        logInfo("Tandem DHCP Server " PACKAGE_VERSION);
        logInfo("Config file: " + cl.configFile);
    }
    auto config = loadConfig(cl);

    // Settings the configuration may make, which the command line overrides.
    if (const auto* p = globalParam(*config, "log-facility"); p && !p->value.wire.empty()) {
        lc.facility = p->value.wire.back();
        common::logInit(lc);
    }
    if (!cl.leaseGiven && std::getenv("PATH_DHCPD_DB") == nullptr) {
        std::string lf = textParam(*config, "lease-file-name");
        if (!lf.empty()) cl.leaseFile = lf;
    }
    if (!cl.pidGiven && std::getenv("PATH_DHCPD_PID") == nullptr) {
        std::string pf = textParam(*config, "pid-file-name");
        if (!pf.empty()) cl.pidFile = pf;
    }
    if (!cl.port)
        if (const auto* p = globalParam(*config, "local-port"); p && p->value.wire.size() == 2)
            cl.port = p->value.wire[0] << 8 | p->value.wire[1];
    cl.leaseFile = absolute(cl.leaseFile);
    cl.pidFile = absolute(cl.pidFile);
    if (!cl.quiet) {
        logInfo("Database file: " + cl.leaseFile);
        if (!cl.noPid) logInfo("PID file: " + cl.pidFile);
    }
    for (const auto& u : config->unsupported)
        common::logWarning(u.where.str() + ": " + u.what + " is read but not acted on by this version of tandemd");

    const common::SystemClock& clock = common::SystemClock::instance();
    server::ServerOptions so;
    so.leaseFile = cl.leaseFile;
    so.interfaces = cl.interfaces;
    so.port = uint16_t(cl.port ? cl.port : 67);
    so.quiet = cl.quiet;

    if (cl.testLeases) {
        common::EventLoop loop;
        server::Server srv(loop, clock, config, so);
        std::string error;
        if (!srv.testLeases(error)) fatal(error);
        return 0;
    }

    if (!cl.foreground && !cl.debug) {
        std::string error;
        if (!server::daemonize(error)) fatal("Can't fork daemon: " + error);
    }
    if (!cl.noPid) {
        std::string detail;
        if (server::anotherServerRunning(cl.pidFile, detail)) fatal("There's already a DHCP server running (" + detail + ").");
    }
    if (!cl.chroot.empty()) {
        if (::chroot(cl.chroot.c_str()) != 0) fatal("chroot(" + cl.chroot + "): " + std::strerror(errno));
        if (::chdir("/") != 0) fatal(std::string("chdir(\"/\"): ") + std::strerror(errno));
    }

    std::signal(SIGPIPE, SIG_IGN);
    // Relative includes are opened against the directory tandemd started in,
    // at every reload too (a daemon has moved to / by then).
    char cwd[PATH_MAX];
    const std::string startDir = ::getcwd(cwd, sizeof cwd) ? cwd : "/";
    common::EventLoop loop;
    server::Server srv(loop, clock, config, so);
    failover::FailoverEngine engine(loop, clock, srv);
    std::string error;
    if (!engine.configure(error)) fatal(error);
    if (!srv.readLeases(error)) fatal(error);
    engine.restore();
    if (!srv.compactLeases(error)) fatal(error);
    if (!srv.start(error)) fatal(error);
    if (!engine.start(error)) fatal(error);

    server::MetricsRegistry registry;
    auto serverMetrics = server::registerServerMetrics(registry, srv);
    auto failoverMetrics = failover::registerFailoverMetrics(registry, engine);
    server::MetricsServer metrics(loop, registry);
    if (config->metricsListen && !metrics.start(*config->metricsListen, error)) fatal("metrics-listen: " + error);

    std::unique_ptr<server::ControlServer> control;
    if (!cl.noControl) {
        server::ControlServerOptions co;
        co.path = cl.controlSocket;
        if (!cl.user.empty() || !cl.group.empty()) {
            unsigned uid = 0, gid = 0;
            if (server::lookupUser(cl.user, cl.group, uid, gid, error)) {
                if (!cl.user.empty()) co.owner = uid_t(uid);
                co.group = gid_t(gid);
            }
        }
        control = std::make_unique<server::ControlServer>(loop, co);
        registerCommands(*control, srv, engine);
        control->addCommand({"reload", "", "read and check the configuration again, and swap it in",
                             [&](const std::vector<std::string>&) {
                                 std::string why;
                                 if (!reloadConfig(cl, startDir, srv, engine, metrics, lc, why))
                                     return server::ControlReply::error("reload failed, the running configuration stays",
                                                                        why + "\n");
                                 return server::ControlReply::ok("configuration reloaded\n");
                             }});
        if (!control->start(error)) {
            logError("control socket " + cl.controlSocket + ": " + error + "; tandemctl will not reach this server");
            control.reset();
        }
    }
    if (!cl.noPid) {
        std::string why;
        if (!server::writePidFile(cl.pidFile, why)) logError(why);
    }
    if (!cl.user.empty() || !cl.group.empty()) {
        if (!server::dropPrivileges(cl.user, cl.group, error)) fatal(error);
    }

    // SIGTERM and SIGINT finish what is being written and exit cleanly (ISC's
    // Debian build dies at once; a clean exit loses nothing either way, since
    // every acknowledged lease is already on disk).
    auto stop = [&](const char* name) {
        logInfo(std::string("Received ") + name + ", shutting down.");
        engine.stop();
        if (control) control->close();
        srv.shutdown();
    };
    common::SignalWatcher onTerm(loop, SIGTERM, [&] { stop("SIGTERM"); });
    common::SignalWatcher onInt(loop, SIGINT, [&] { stop("SIGINT"); });
    common::SignalWatcher onHup(loop, SIGHUP, [&] {
        logInfo("Received SIGHUP, reloading " + cl.configFile);
        std::string why;
        if (!reloadConfig(cl, startDir, srv, engine, metrics, lc, why)) logError("reload failed, the running configuration stays: " + why);
    });

    logInfo("Server starting service.");
    server::notifyReady();
    // Log lines for stderr go out a batch at a time from here on (see common/log.h);
    // whatever the packet path did not flush goes within a fifth of a second.
    common::Timer logFlusher(loop, [] { common::logFlush(); });
    logFlusher.startRepeatingMs(200);
    common::logBuffering(true);
    loop.run();
    common::logBuffering(false);
    if (!cl.noPid) server::removePidFile(cl.pidFile);
    logInfo("tandemd: exiting.");
    return 0;
}
