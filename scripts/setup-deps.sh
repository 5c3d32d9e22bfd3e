#!/usr/bin/env bash
# Install what Tandem's build and tests need on Debian 12 (bookworm). Run as root.
#
#   scripts/setup-deps.sh           everything: build, unit tests, sanitizers,
#                                   fuzzing, man pages, and the ISC peers the
#                                   integration tests run against
#   scripts/setup-deps.sh --build   only what building tandemd needs
#   scripts/setup-deps.sh --demo    the build, plus what scripts/demo.sh runs
#
# Idempotent: when every package is already installed it touches nothing (and
# needs no network). It never leaves an ISC dhcpd running: Debian's
# isc-dhcp-server starts its service on install, so the install runs under a
# policy-rc.d that forbids starting services, and a freshly installed
# isc-dhcp-server service is then disabled.
set -u

BUILD_PKGS=(
    build-essential autoconf automake libtool pkg-config make
    flex bison libevent-dev libssl-dev libcppunit-dev
    git ca-certificates python3
)
TEST_PKGS=(
    clang libclang-rt-14-dev   # libFuzzer and the sanitizer runtimes for clang
    mandoc man-db              # mandoc -Tlint on the man pages
    iproute2                   # network namespaces for the integration tests
    isc-dhcp-server isc-dhcp-client   # real ISC peers and clients
    isc-dhcp-relay kea-admin   # integration: dhcrelay, perfdhcp
    dhcpcd-base busybox        # integration: dhcpcd without its service, udhcpc
    tcpdump                    # integration: DHCPACK capture (crash.sh)
    strace                     # integration: syscall order of commits and ACKs (durability.sh)
    debhelper devscripts dpkg-dev fakeroot lintian   # check-deb.sh: build and lint the .deb
    systemd                    # check-deb.sh: systemd-analyze, systemd-tmpfiles
)

# What scripts/demo.sh runs besides the build: namespaces, ISC's client and relay.
DEMO_PKGS=(iproute2 isc-dhcp-client isc-dhcp-relay)

pkgs=("${BUILD_PKGS[@]}")
case "${1:-}" in
    --build) ;;
    --demo) pkgs+=("${DEMO_PKGS[@]}") ;;
    "") pkgs+=("${TEST_PKGS[@]}") ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [--build]" >&2; exit 2 ;;
esac

installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

missing=()
for p in "${pkgs[@]}"; do
    installed "$p" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
    echo "setup-deps: all ${#pkgs[@]} packages already installed"
    exit 0
fi
echo "setup-deps: installing ${missing[*]}"

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        exec sudo -- "$0" "$@"
    fi
    echo "setup-deps: run me as root (apt-get install needs it)" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-deps: apt-get not found; this script is for Debian 12" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
dhcpd_was_installed=no
installed isc-dhcp-server && dhcpd_was_installed=yes

# Forbid service starts while installing (invoke-rc.d and deb-systemd-invoke
# both ask policy-rc.d). An existing policy (as in Docker images) is left alone.
policy=/usr/sbin/policy-rc.d
our_policy=no
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# written by tandem scripts/setup-deps.sh for the length of one install\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    our_policy=yes
    trap 'rm -f "$policy"' EXIT
fi

rc=0
timeout 600 apt-get update || rc=$?
if [ "$rc" -eq 0 ]; then
    timeout 1800 apt-get install -y --no-install-recommends "${missing[@]}" || rc=$?
fi
if [ "$our_policy" = yes ]; then
    rm -f "$policy"
    trap - EXIT
fi

# A fresh isc-dhcp-server must not serve this machine's networks: its service
# stays disabled and stopped. One that was installed before is the admin's
# business, and is not touched.
if [ "$dhcpd_was_installed" = no ] && installed isc-dhcp-server; then
    for unit in isc-dhcp-server isc-dhcp-server6; do
        if command -v systemctl >/dev/null 2>&1; then
            systemctl disable "$unit.service" >/dev/null 2>&1 || true
            if [ -d /run/systemd/system ]; then
                systemctl stop "$unit.service" >/dev/null 2>&1 || true
            fi
        fi
        if command -v update-rc.d >/dev/null 2>&1 && [ -e "/etc/init.d/$unit" ]; then
            update-rc.d "$unit" disable >/dev/null 2>&1 || true
        fi
    done
    # Without systemd, a service started despite the policy would have left its
    # pid file: stop that process, and only that one.
    for pidfile in /run/dhcpd.pid /var/run/dhcpd.pid /run/dhcp-server/dhcpd.pid; do
        [ -r "$pidfile" ] || continue
        pid=$(head -n1 "$pidfile" | tr -dc 0-9)
        if [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = /usr/sbin/dhcpd ]; then
            echo "setup-deps: stopping the ISC dhcpd (pid $pid) that the package started"
            kill "$pid" 2>/dev/null || true
        fi
    done
fi

if [ "$rc" -ne 0 ]; then
    echo "setup-deps: apt-get failed (status $rc)" >&2
    exit "$rc"
fi
still=()
for p in "${missing[@]}"; do
    installed "$p" || still+=("$p")
done
if [ "${#still[@]}" -ne 0 ]; then
    echo "setup-deps: still missing after install: ${still[*]}" >&2
    exit 1
fi
echo "setup-deps: done"
