// The process side of being a daemon, as ISC dhcpd does it on Linux: fork at
// start with the parent waiting for the child to say it is serving (so a failed
// start is a failed command), the pid file and its "already running" check,
// and dropping root for -user/-group once the sockets are open while keeping
// the capabilities a later reload needs to open sockets again. No DHCP here.
#ifndef TANDEM_SERVER_DAEMON_H
#define TANDEM_SERVER_DAEMON_H

#include <string>

namespace tandem::server {

/// @brief Fork into the background. Returns only in the child; the parent waits
/// until the child calls notifyReady() (it then exits 0) or dies (it exits 1).
/// Returns false (in the original process) when fork fails, with `error` set.
bool daemonize(std::string& error);
/// @brief Tell the waiting parent that start-up succeeded, and detach: setsid,
/// stdio on /dev/null, chdir("/"). Does nothing when not daemonized.
void notifyReady();
bool daemonized();

/// @brief ISC's check: a pid file holding the pid of a live process other than
/// ours (a zombie counts; so does pid 0) means a server is already running.
bool anotherServerRunning(const std::string& pidFile, std::string& detail);
/// @brief Write "PID\n" (mode 0644). Failure is reported, not fatal (as ISC).
bool writePidFile(const std::string& pidFile, std::string& error);
void removePidFile(const std::string& pidFile);

/// @brief setgid/setgroups/setuid to `user` (and `group`, else the user's group),
/// keeping CAP_NET_RAW and CAP_NET_BIND_SERVICE so that sockets can be opened
/// again after a reload. Must be called as root.
bool dropPrivileges(const std::string& user, const std::string& group, std::string& error);
/// @brief The uid/gid `user`/`group` name, or false when unknown.
bool lookupUser(const std::string& user, const std::string& group, unsigned& uid, unsigned& gid, std::string& error);

}  // namespace tandem::server

#endif
