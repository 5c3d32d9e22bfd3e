#include "server/daemon.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

namespace tandem::server {

namespace {
int g_readyFd = -1;
bool g_daemonized = false;

std::string errnoText(const char* what) { return std::string(what) + ": " + std::strerror(errno); }
}  // namespace

bool daemonize(std::string& error) {
    int fds[2];
    if (::pipe(fds) != 0) {
        error = errnoText("pipe");
        return false;
    }
    pid_t pid = ::fork();
    if (pid < 0) {
        error = errnoText("fork");
        ::close(fds[0]);
        ::close(fds[1]);
        return false;
    }
    if (pid > 0) {
        // The parent: exit with the byte the child sends, or 1 if it dies first.
        ::close(fds[1]);
        char status = 1;
        ssize_t n;
        do n = ::read(fds[0], &status, 1);
        while (n < 0 && errno == EINTR);
        ::_exit(n == 1 ? status : 1);
    }
    ::close(fds[0]);
    ::fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    g_readyFd = fds[1];
    g_daemonized = true;
    return true;
}

void notifyReady() {
    if (g_readyFd < 0) return;
    ::setsid();
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
        ::dup2(null, STDIN_FILENO);
        ::dup2(null, STDOUT_FILENO);
        ::dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO) ::close(null);
    }
    if (::chdir("/") != 0) {
        // Nothing useful to do: the server keeps working in its old directory.
    }
    char ok = 0;
    ssize_t ignored = ::write(g_readyFd, &ok, 1);
    (void)ignored;
    ::close(g_readyFd);
    g_readyFd = -1;
}

bool daemonized() { return g_daemonized; }

bool anotherServerRunning(const std::string& pidFile, std::string& detail) {
    FILE* f = std::fopen(pidFile.c_str(), "r");
    if (!f) return false;
    long pid = -1;
    int got = std::fscanf(f, "%ld", &pid);
    std::fclose(f);
    if (got != 1 || pid < 0) return false;
    if (pid == long(::getpid())) return false;
    // kill(0, 0) would signal our own process group: ISC counts pid 0 as running too.
    if (pid == 0 || ::kill(pid_t(pid), 0) == 0 || errno == EPERM) {
        detail = "pid " + std::to_string(pid) + " from " + pidFile;
        return true;
    }
    return false;
}

bool writePidFile(const std::string& pidFile, std::string& error) {
    int fd = ::open(pidFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        error = "Can't create PID file " + pidFile + ": " + std::strerror(errno);
        return false;
    }
    std::string text = std::to_string(::getpid()) + "\n";
    bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size());
    if (!ok) error = "Can't write PID file " + pidFile + ": " + std::strerror(errno);
    ::close(fd);
    return ok;
}

void removePidFile(const std::string& pidFile) { ::unlink(pidFile.c_str()); }

bool lookupUser(const std::string& user, const std::string& group, unsigned& uid, unsigned& gid, std::string& error) {
    if (!user.empty()) {
        struct passwd* pw = ::getpwnam(user.c_str());
        if (!pw) {
            error = "no such user: " + user;
            return false;
        }
        uid = pw->pw_uid;
        gid = pw->pw_gid;
    }
    if (!group.empty()) {
        struct group* gr = ::getgrnam(group.c_str());
        if (!gr) {
            error = "no such group: " + group;
            return false;
        }
        gid = gr->gr_gid;
    }
    return true;
}

bool dropPrivileges(const std::string& user, const std::string& group, std::string& error) {
    if (user.empty() && group.empty()) return true;
    if (::geteuid() != 0) {
        error = "you must be root to set user";
        return false;
    }
    unsigned uid = ::getuid(), gid = ::getgid();
    if (!lookupUser(user, group, uid, gid, error)) return false;
    // Keep the permitted capabilities across setuid, then narrow them to what
    // opening sockets needs: raw packets and ports below 1024.
    if (!user.empty() && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
        error = errnoText("prctl(PR_SET_KEEPCAPS)");
        return false;
    }
    if (::setgroups(0, nullptr) != 0 && !user.empty()) {
        error = errnoText("setgroups");
        return false;
    }
    if (::setgid(gid) != 0) {
        error = errnoText("setgid");
        return false;
    }
    if (!user.empty() && ::setuid(uid) != 0) {
        error = errnoText("setuid");
        return false;
    }
    if (!user.empty()) {
        __user_cap_header_struct header{};
        __user_cap_data_struct data[2]{};
        header.version = _LINUX_CAPABILITY_VERSION_3;
        header.pid = 0;
        const uint32_t keep = (1u << CAP_NET_RAW) | (1u << CAP_NET_BIND_SERVICE);
        data[0].permitted = keep;
        data[0].effective = keep;
        data[0].inheritable = 0;
        if (::syscall(SYS_capset, &header, data) != 0) {
            error = errnoText("capset");
            return false;
        }
        ::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    }
    return true;
}

}  // namespace tandem::server
