#!/usr/bin/env bash
# The Debian package end to end, as root on Debian 12 (a stage of
# scripts/test-all.sh; by hand: sudo scripts/check-deb.sh):
#
#   1. build: copy the source tree without its build trees to
#      build-deb/src/tandem-VERSION, then dpkg-buildpackage -b -us -uc there,
#      without tests (DEB_BUILD_OPTIONS=nocheck: CI runs them in other stages)
#   2. lintian on the .deb: an error fails, warnings are shown
#   3. install it (dpkg -i) and check what it installed: binaries, conffiles,
#      the _tandem user and /var/lib/tandem, `tandemd -t` and the compiled-in
#      paths on the shipped configuration, that this configuration serves
#      nothing, each manual page the package lists (man NAME), the unit
#      (systemd-analyze verify), and that nothing was started or enabled
#   4. run the unit's own ExecStart/ExecReload lines the way the unit runs
#      them (its capability bounding set, supplementary group, no new
#      privileges, a read-only file system but for its ReadWritePaths and
#      RuntimeDirectory, a private /tmp) inside a network namespace of its
#      own with a test configuration; under strace, also check that the
#      daemon's system calls and socket families pass the unit's
#      SystemCallFilter and RestrictAddressFamilies
#   5. reinstall over a changed configuration (kept), remove (configuration
#      and leases kept), purge (all gone), and check nothing is left running
#
# The package is never installed over one that is already there, nor over
# files of a tandem installed by other means: steps 3-5 are then skipped and
# nothing is touched. The install runs under a policy-rc.d that refuses (and
# records) every service start, unless the machine has its own policy.
#
# One TAP line per check; the last line is "N passed, N failed"; the status
# is non-zero on any failure. Under CI=true a missing tool fails its checks
# instead of skipping them. Environment: JOBS (make -j, 2), CI, KEEP_DEB=1
# (keep the source copy in build-deb/src), DEB=FILE (check that package
# instead of building one).
set -u
export LC_ALL=C

cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
OUT=$ROOT/build-deb
JOBS=${JOBS:-2}
CI=${CI:-}
UNIT=/lib/systemd/system/tandemd.service

n=0 passed=0 failed=0 skipped=0
failures=()
ok() { n=$((n + 1)) passed=$((passed + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)) failed=$((failed + 1))
    failures+=("$1")
    echo "not ok $n - $1"
    [ -z "${2:-}" ] || printf '%s\n' "$2" | head -n 60 | sed 's/^/#   /'
}
skip() { n=$((n + 1)) skipped=$((skipped + 1)); echo "ok $n - $1 # SKIP $2"; }
missing() {
    if [ "$CI" = true ]; then not_ok "$1" "missing tool: $2"; else skip "$1" "missing tool: $2"; fi
}
# check NAME COMMAND...: one check; the command's output is shown when it
# fails. The command runs in this shell (it may set variables).
check() {
    local name=$1 status=0
    shift
    "$@" >"$WORK/check.out" 2>&1 </dev/null || status=$?
    if [ "$status" -eq 0 ]; then ok "$name"; else not_ok "$name" "$(cat "$WORK/check.out")"; fi
    return "$status"
}
finish() {
    echo "# logs and the package: ${OUT#"$ROOT"/}/"
    [ "${#failures[@]}" -eq 0 ] || printf '# failed: %s\n' "${failures[@]}"
    [ "$skipped" -eq 0 ] || echo "# $skipped check(s) skipped"
    echo "1..$n"
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}
have() { command -v "$1" >/dev/null 2>&1; }

# The pids of processes running the installed daemon (also once its file is deleted).
installed_tandemd_pids() {
    local p exe
    for p in /proc/[0-9]*; do
        exe=$(readlink "$p/exe" 2>/dev/null) || continue
        case $exe in "/usr/sbin/tandemd" | "/usr/sbin/tandemd (deleted)") echo "${p#/proc/}" ;; esac
    done
}

# ---- cleanup: only what this run made -----------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tandem-check-deb.XXXXXX") || exit 1
INSTALLED_BY_US=no OUR_POLICY=no OUR_RUNDIR=no NETNS='' JOB_PID='' DAEMON_PID=''
# The unit's test configuration: under /run, which the sandbox keeps (read-only)
# where it replaces /tmp, wherever the checkout is.
UNITCONF=/run/tandem-check-deb.$$.conf
cleanup() {
    local p
    for p in $DAEMON_PID $JOB_PID; do
        kill -0 "$p" 2>/dev/null || continue
        kill -TERM "$p" 2>/dev/null
        sleep 2
        kill -KILL "$p" 2>/dev/null
    done
    [ -z "$NETNS" ] || ip netns del "$NETNS" 2>/dev/null
    [ "$OUR_RUNDIR" = no ] || rm -rf /run/tandem
    rm -f "$UNITCONF"
    if [ "$INSTALLED_BY_US" = yes ]; then
        echo "# cleanup: purging the package this run installed"
        dpkg --purge tandem >/dev/null 2>&1
    fi
    [ "$OUR_POLICY" = no ] || rm -f /usr/sbin/policy-rc.d
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$OUT"
echo "# check-deb: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"

# ---- 1. build -----------------------------------------------------------------

version=$(sed -n 's/^AC_INIT(\[tandem\], \[\([^]]*\)\].*/\1/p' configure.ac)
arch=$(dpkg --print-architecture 2>/dev/null || echo unknown)
deb=$OUT/tandem_${version}_${arch}.deb
tools=()
for t in dpkg-buildpackage dpkg-parsechangelog dh fakeroot lintian; do have "$t" || tools+=("$t"); done
if [ "${#tools[@]}" -ne 0 ]; then
    missing "build the .deb" "${tools[*]}"
    finish
fi

changelog_version=$(dpkg-parsechangelog -l debian/changelog -S Version)
if [ -n "$version" ] && [ "$changelog_version" = "$version" ]; then
    ok "debian/changelog version $changelog_version is configure.ac's"
else
    not_ok "debian/changelog version $changelog_version is configure.ac's ($version)" \
        "add a debian/changelog entry for the new version (dch -v $version)"
fi

build_deb() {
    local src=$OUT/src/tandem-$version e keep=()
    rm -rf "$OUT/src" "$OUT"/tandem_* "$OUT"/tandem-dbgsym_*
    mkdir -p "$src" || return 1
    # Everything but git, build trees (build, build-*), logs and package debris:
    # dh_autoreconf regenerates configure and friends in the copy.
    for e in * .ci .gitignore; do
        [ -e "$e" ] || continue
        case $e in
            build-aux) keep+=("$e") ;;
            build | build-* | autom4te.cache | tandem-*) ;;
            *) keep+=("$e") ;;
        esac
    done
    tar -cf - --exclude=./debian/tandem --exclude=./debian/.debhelper --exclude=./debian/files \
        --exclude='./debian/*.substvars' --exclude='./debian/*.log' --exclude=./debian/debhelper-build-stamp \
        "${keep[@]}" | tar -C "$src" -xf - || return 1
    (
        cd "$src" || exit 1
        unset MAKEFLAGS MFLAGS MAKELEVEL
        export DEB_BUILD_OPTIONS="nocheck parallel=$JOBS"
        dpkg-buildpackage -b -us -uc
    ) >"$OUT/build.log" 2>&1 || { tail -n 40 "$OUT/build.log"; return 1; }
    # dpkg-buildpackage writes beside the source folder.
    mv "$OUT"/src/tandem_* "$OUT"/src/tandem-dbgsym_* "$OUT/" 2>/dev/null
    [ "${KEEP_DEB:-}" = 1 ] || rm -rf "$OUT/src"
    [ -f "$deb" ] || { echo "no $deb after the build"; ls "$OUT"; return 1; }
}
t0=$(date +%s)
if [ -n "${DEB:-}" ]; then
    deb=$(cd "$(dirname "$DEB")" && pwd)/$(basename "$DEB")
    skip "dpkg-buildpackage -b -us -uc" "checking DEB=$DEB instead"
elif check "dpkg-buildpackage -b -us -uc builds ${deb#"$OUT"/}" build_deb; then
    echo "# package built in $(($(date +%s) - t0)) s"
else
    finish
fi
echo "# contents (dpkg -c):"
dpkg -c "$deb" | awk '{ printf "#   %s %s %8s %s\n", $1, $2, $3, $6 }'

# ---- 2. lintian ---------------------------------------------------------------

lstatus=0
lintian --display-info --fail-on error "$deb" >"$OUT/lintian.log" 2>&1 || lstatus=$?
lint=$(grep -v 'running with root privileges' "$OUT/lintian.log")
[ -z "$lint" ] || printf '%s\n' "$lint" | sed 's/^/#   lintian: /'
if [ "$lstatus" -eq 0 ]; then ok "lintian: no errors"; else not_ok "lintian: no errors" "$lint"; fi

# ---- 3. install ---------------------------------------------------------------

if [ "$(id -u)" -ne 0 ]; then
    skip "install, use, remove and purge the package" "not root"
    finish
fi
clobber=()
status=$(dpkg-query -W -f='${db:Status-Status}' tandem 2>/dev/null || true)
[ -z "$status" ] || [ "$status" = not-installed ] || clobber+=("package tandem is $status")
for p in /usr/sbin/tandemd /usr/sbin/tandemctl /etc/tandem /etc/default/tandemd /var/lib/tandem \
    "$UNIT" /etc/systemd/system/tandemd.service /run/tandem; do
    if [ -e "$p" ] || [ -L "$p" ]; then clobber+=("$p exists"); fi
done
if [ "${#clobber[@]}" -ne 0 ]; then
    skip "install, use, remove and purge the package" "tandem is already on this machine (${clobber[*]}): not touched"
    finish
fi

# Refuse, and record, every service action a maintainer script asks for.
policy_log=$WORK/policy-rc.d.log
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# written by tandem scripts/check-deb.sh for the length of one run\necho "$*" >>%s\nexit 101\n' \
        "$policy_log" >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    OUR_POLICY=yes
fi
# No --force-conf*: dpkg must have nothing to ask (stdin is /dev/null).
dpkg_i() { DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" </dev/null; }
INSTALLED_BY_US=yes
if ! check "dpkg -i ${deb##*/}" dpkg_i; then
    finish
fi

# Nothing may run the daemon, enable it or ask for a start.
nothing_started() {
    local pids problems=() wants
    pids=$(installed_tandemd_pids | tr '\n' ' ')
    [ -z "$pids" ] || problems+=("running: /usr/sbin/tandemd pid(s) $pids")
    for wants in /etc/systemd/system/*.wants/tandemd.service; do
        [ ! -e "$wants" ] && [ ! -L "$wants" ] || problems+=("enabled: $wants")
    done
    if [ -d /run/systemd/system ]; then
        [ "$(systemctl is-active tandemd.service 2>/dev/null)" != active ] || problems+=("systemctl: tandemd.service is active")
        case $(systemctl is-enabled tandemd.service 2>/dev/null) in
            disabled) ;;
            *) problems+=("systemctl is-enabled tandemd.service: $(systemctl is-enabled tandemd.service 2>&1)") ;;
        esac
    fi
    # try-restart (after an upgrade) starts nothing that was not running.
    if [ -f "$policy_log" ] && grep -E 'tandemd.* (start|restart|reload|force-reload)( |$)' "$policy_log" >/dev/null; then
        problems+=("a maintainer script asked policy-rc.d for: $(grep tandemd "$policy_log" | tr '\n' ';')")
    fi
    [ "${#problems[@]}" -eq 0 ] || { printf '%s\n' "${problems[@]}"; return 1; }
}
check "installing started nothing and enabled nothing" nothing_started

installed_files() {
    local f problems=()
    for f in /usr/sbin/tandemd /usr/sbin/tandemctl; do [ -x "$f" ] || problems+=("$f: not an executable"); done
    for f in /etc/tandem/dhcpd.conf /etc/tandem/dhcpd.master /etc/default/tandemd; do
        dpkg-query -W -f='${Conffiles}\n' tandem | grep -q "^ $f " || problems+=("$f: not a conffile")
    done
    [ -f "$UNIT" ] || problems+=("$UNIT: missing")
    grep -q '^INTERFACES=""$' /etc/default/tandemd || problems+=('/etc/default/tandemd: no INTERFACES=""')
    grep -q '^OPTIONS=""$' /etc/default/tandemd || problems+=('/etc/default/tandemd: no OPTIONS=""')
    local v
    v=$(/usr/sbin/tandemd --version 2>&1)
    [ "$v" = "tandemd-$version" ] || problems+=("tandemd --version: $v")
    [ "${#problems[@]}" -eq 0 ] || { printf '%s\n' "${problems[@]}"; return 1; }
}
check "binaries, conffiles, unit and /etc/default/tandemd installed" installed_files

user_and_leases() {
    local problems=() s
    getent passwd _tandem >/dev/null || problems+=("no user _tandem")
    getent group _tandem >/dev/null || problems+=("no group _tandem")
    s=$(stat -c '%U:%G %a' /var/lib/tandem 2>&1)
    [ "$s" = "_tandem:_tandem 2775" ] || problems+=("/var/lib/tandem: $s, not _tandem:_tandem 2775")
    s=$(stat -c '%U:%G %a %s' /var/lib/tandem/dhcpd.leases 2>&1)
    [ "$s" = "_tandem:_tandem 664 0" ] || problems+=("/var/lib/tandem/dhcpd.leases: $s, not an empty _tandem:_tandem 664 file")
    [ "${#problems[@]}" -eq 0 ] || { printf '%s\n' "${problems[@]}"; return 1; }
}
check "user _tandem owns /var/lib/tandem and an empty dhcpd.leases" user_and_leases

# From /, as systemd starts it: the include in the shipped file must be absolute.
check "tandemd -t accepts the shipped /etc/tandem/dhcpd.conf" \
    bash -c 'cd / && out=$(/usr/sbin/tandemd -t 2>&1) && [ -z "$out" ] || { echo "$out"; exit 1; }'
compiled_paths() {
    local out
    out=$(cd / && /usr/sbin/tandemd -T 2>&1) || { echo "$out"; return 1; }
    grep -qx 'Config file: /etc/tandem/dhcpd.conf' <<<"$out" &&
        grep -qx 'Database file: /var/lib/tandem/dhcpd.leases' <<<"$out" || { echo "$out"; return 1; }
}
check "tandemd -T: compiled-in paths /etc/tandem/dhcpd.conf and /var/lib/tandem/dhcpd.leases" compiled_paths

have_netns=yes
have ip && have setpriv && have unshare && have mount || have_netns=no

# The shipped configuration must not serve: started on an interface with an
# address, tandemd finds no subnet for it and exits.
serves_nothing() {
    local ns=tdpkg$$a out status=0
    NETNS=$ns
    ip netns add "$ns" && ip -n "$ns" link set lo up &&
        ip -n "$ns" link add tdsrv type veth peer name tdcli &&
        ip -n "$ns" addr add 10.213.7.1/24 dev tdsrv &&
        ip -n "$ns" link set tdsrv up && ip -n "$ns" link set tdcli up || return 1
    out=$(cd / && timeout -k 5 20 ip netns exec "$ns" /usr/sbin/tandemd -f -d -lf "$WORK/none.leases" \
        -pf "$WORK/none.pid" --no-control 2>&1 </dev/null) || status=$?
    ip netns del "$ns"
    NETNS=''
    rm -f "$WORK/none.leases"*
    if [ "$status" -eq 0 ] || [ "$status" -ge 124 ] || ! grep -q 'Not configured to listen on any interfaces' <<<"$out"; then
        echo "status $status:"
        echo "$out"
        return 1
    fi
}
if [ "$have_netns" = yes ]; then
    touch "$WORK/none.leases"
    check "the shipped configuration serves nothing (no subnet for any interface: tandemd exits)" serves_nothing
else
    missing "the shipped configuration serves nothing" "ip, setpriv, unshare or mount"
fi

# Every manual page the package lists, through man(1); tandemd(8) and
# tandemd.conf(5) at least.
mapfile -t pages < <(dpkg -L tandem | grep -E '^/usr/share/man/man[1-9]/[^/]+\.[1-9](\.gz)?$' | sort)
for need in man8/tandemd.8 man5/tandemd.conf.5; do
    check "the package has the manual page ${need#*/}" grep -q "/$need" <(printf '%s\n' "${pages[@]}")
done
if ! have man; then
    missing "manual pages through man(1)" "man (man-db)"
else
    for page in "${pages[@]}"; do
        base=${page##*/}
        base=${base%.gz}
        sect=${base##*.}
        name=${base%.*}
        check "man $sect $name" bash -c '
            page=$1 sect=$2 name=$3
            [ -f "$page" ] || { echo "$page: listed by dpkg but not on disk (a dpkg path-exclude?)"; exit 1; }
            where=$(man -w "$sect" "$name" 2>&1) || { echo "$where"; exit 1; }
            [ "$where" = "$page" ] || { echo "man -w $sect $name: $where, not $page"; exit 1; }
            text=$(MANWIDTH=80 man -P cat "$sect" "$name" 2>"$0.err") || { cat "$0.err"; exit 1; }
            upper=$(printf %s "$name" | tr a-z A-Z)
            printf %s "$text" | head -n 3 | grep -q "$upper" || { echo "no $upper header:"; printf %s "$text" | head -n 5; exit 1; }
            [ ! -s "$0.err" ] || { cat "$0.err"; exit 1; }' "$WORK/man" "$page" "$sect" "$name"
    done
fi

if have systemd-analyze; then
    check "systemd-analyze verify $UNIT" bash -c '
        out=$(systemd-analyze verify "$1" 2>&1) && [ -z "$out" ] || { echo "$out"; exit 1; }' _ "$UNIT"
    echo "# systemd-analyze security --offline=yes (for information):"
    systemd-analyze security --offline=yes "$UNIT" 2>&1 | grep 'Overall exposure' | sed 's/^/#   /'
else
    missing "systemd-analyze verify $UNIT" "systemd-analyze (systemd)"
fi

tmpfiles_links() {
    local l t
    [ -f /usr/lib/tmpfiles.d/tandem.conf ] || { echo "no /usr/lib/tmpfiles.d/tandem.conf"; return 1; }
    for l in /run/tandemd.ctl /run/tandemd.pid; do
        t=$(readlink "$l") || { echo "$l: not a symbolic link"; return 1; }
        [ "$t" = "tandem/${l#/run/}" ] || { echo "$l -> $t"; return 1; }
    done
}
if have systemd-tmpfiles; then
    check "tmpfiles.d links /run/tandemd.ctl and /run/tandemd.pid into /run/tandem" tmpfiles_links
else
    missing "tmpfiles.d links in /run" "systemd-tmpfiles (systemd)"
fi

# ---- 4. the unit's own command lines, sandboxed as the unit says --------------

# A unit setting's value (the last assignment wins, as in systemd).
unit_value() { sed -n "s/^$1=//p" "$UNIT" | tail -n 1; }

# A unit command line with $OPTIONS (a test configuration) and $INTERFACES
# (the namespace's interface) filled in, and without -q, so that the daemon's
# log goes to stderr here.
unit_command() {
    unit_value "$1" | sed "s#\\\$OPTIONS#-cf $UNITCONF#; s#\\\$INTERFACES#tdsrv#; s# -q # #"
}

# sandboxed COMMAND...: run COMMAND in the namespace NETNS the way the unit
# runs it, as far as that can be done without systemd: CapabilityBoundingSet,
# SupplementaryGroups, NoNewPrivileges, ProtectSystem=strict with
# ReadWritePaths and RuntimeDirectory writable, PrivateTmp, working folder /.
# (The seccomp filter, address families and the other Protect* settings are
# not applied; syscalls_allowed checks the first two from a trace.)
sandboxed() {
    local caps groups
    caps=$(unit_value CapabilityBoundingSet | tr 'A-Z' 'a-z' | sed 's/cap_//g; s/ \{1,\}/,+/g; s/^/-all,+/')
    groups=$(unit_value SupplementaryGroups | tr ' ' ',')
    # shellcheck disable=SC2016
    ${SANDBOX_EXEC:-} ip netns exec "$NETNS" unshare --mount --propagation private bash -c '
        set -e
        unit=$1
        shift
        rw="$(sed -n "s/^ReadWritePaths=//p" "$unit") /run/tandem"
        mount -t tmpfs -o mode=1777 tmpfs /tmp
        for d in $rw; do mount --bind "$d" "$d"; done
        for m in $(awk "{ print \$5 }" /proc/self/mountinfo | sort -u); do
            case $m in /proc | /proc/* | /sys | /sys/* | /dev | /dev/* | /tmp) continue ;; esac
            case " $rw " in *" $m "*) continue ;; esac
            mount -o remount,bind,ro "$m" 2>/dev/null || true
        done
        cd /
        exec "$@"' _ "$UNIT" setpriv --no-new-privs --inh-caps=-all --ambient-caps=-all \
        --bounding-set="$caps" ${groups:+--groups="$groups"} -- "$@"
}

# start_daemon LOG [strace]: ExecStart in the background. JOB_PID is the job
# (strace, when tracing), DAEMON_PID the daemon once wait_ready has seen it.
start_daemon() {
    local tracer=()
    [ "${2:-}" = strace ] && tracer=(strace -f -qq -o "$UNITDIR/strace.log")
    echo "# ExecStart as run: $(unit_command ExecStart)" >>"$1"
    # shellcheck disable=SC2046
    "${tracer[@]}" bash -c "$(declare -f sandboxed unit_value); UNIT=$UNIT NETNS=$NETNS SANDBOX_EXEC=exec; sandboxed \"\$@\"" _ \
        $(unit_command ExecStart) >>"$1" 2>&1 </dev/null &
    JOB_PID=$!
    DAEMON_PID=''
}

# wait_ready LOG: until tandemctl gets an answer through /run/tandemd.ctl
# (20 s); the daemon's pid is then the one in its pid file.
wait_ready() {
    local i
    for i in $(seq 1 40); do
        if /usr/sbin/tandemctl version >/dev/null 2>&1; then
            DAEMON_PID=$(cat /run/tandem/tandemd.pid 2>/dev/null)
            [ "$(readlink "/proc/$DAEMON_PID/exe" 2>/dev/null)" = /usr/sbin/tandemd ] && return 0
            echo "pid file /run/tandem/tandemd.pid: '$DAEMON_PID' is not /usr/sbin/tandemd"
            return 1
        fi
        kill -0 "$JOB_PID" 2>/dev/null || { echo "tandemd exited:"; tail -n 20 "$1"; return 1; }
        sleep 0.5
    done
    echo "no answer on /run/tandemd.ctl after 20 s:"
    tail -n 20 "$1"
    return 1
}

# stop_daemon: SIGTERM, as systemctl stop does; it must exit 0 within 10 s.
stop_daemon() {
    local i status=0
    kill -TERM "${DAEMON_PID:-$JOB_PID}" 2>/dev/null
    for i in $(seq 1 20); do
        kill -0 "$JOB_PID" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "$JOB_PID" 2>/dev/null; then
        [ -z "$DAEMON_PID" ] || kill -KILL "$DAEMON_PID" 2>/dev/null
        kill -KILL "$JOB_PID" 2>/dev/null
        wait "$JOB_PID" 2>/dev/null
        JOB_PID='' DAEMON_PID=''
        echo "still running 10 s after SIGTERM"
        return 1
    fi
    wait "$JOB_PID" || status=$?
    JOB_PID='' DAEMON_PID=''
    [ "$status" -eq 0 ] || { echo "exit status $status"; return 1; }
}

# The running daemon: _tandem, with only the capabilities it keeps.
daemon_identity() {
    local uid gid st want=0000000000002400 # CAP_NET_RAW (13), CAP_NET_BIND_SERVICE (10)
    uid=$(id -u _tandem) gid=$(id -g _tandem)
    [ "$DAEMON_PID" = "$JOB_PID" ] || { echo "the pid file names $DAEMON_PID, not the started $JOB_PID"; return 1; }
    st=$(cat "/proc/$DAEMON_PID/status") || return 1
    grep -Eq "^Uid:\s+$uid\s+$uid\s+$uid\s+$uid$" <<<"$st" &&
        grep -Eq "^Gid:\s+$gid\s+$gid\s+$gid\s+$gid$" <<<"$st" &&
        grep -q "^CapEff:\s*$want$" <<<"$st" &&
        grep -q "^CapPrm:\s*$want$" <<<"$st" || {
        grep -E '^(Uid|Gid|Groups|Cap)' <<<"$st"
        echo "want uid/gid $uid/$gid and CapEff $want"
        return 1
    }
}

# What _tandem does at a later rewrite (server/lease_file.cc): a new file
# (mode 0664) beside the old, the old linked to dhcpd.leases~, the new renamed
# over it.
tandem_rewrite() {
    setpriv --reuid=_tandem --regid=_tandem --clear-groups -- bash -c '
        set -e
        cd /var/lib/tandem
        cat dhcpd.leases >dhcpd.leases.1
        chmod 0664 dhcpd.leases.1
        rm -f dhcpd.leases~
        ln dhcpd.leases dhcpd.leases~
        mv dhcpd.leases.1 dhcpd.leases'
}

# The daemon's system calls and socket families, from strace, against the
# unit's SystemCallFilter (expanded with systemd-analyze) and RestrictAddressFamilies.
syscalls_allowed() {
    local filter allowed used bad families fam after
    [ -s "$UNITDIR/strace.log" ] || { echo "no strace log"; return 1; }
    filter=$(unit_value SystemCallFilter)
    allowed=$(systemd-analyze syscall-filter 2>/dev/null | awk -v want="$filter" '
        /^@/ { g = $1; next }
        NF && $1 !~ /^#/ { m[g] = m[g] " " $1 }
        END {
            n = split(want, todo, " ")
            while (n > 0) {
                x = todo[n--]
                if (x in seen) continue
                seen[x] = 1
                if (x ~ /^@/) { k = split(m[x], e, " "); for (i = 1; i <= k; i++) todo[++n] = e[i] }
                else print x
            }
        }' | sort -u)
    # From the exec of tandemd on: the sandbox set-up before it does not count.
    after=$(awk '/execve\("\/usr\/sbin\/tandemd"/ { on = 1 } on' "$UNITDIR/strace.log")
    used=$(sed -n 's/^[0-9]\{1,\} \{1,\}\([a-z_0-9]\{1,\}\)(.*/\1/p' <<<"$after" | sort -u)
    [ -n "$used" ] || { echo "no system call of tandemd traced"; return 1; }
    bad=$(comm -23 <(printf '%s\n' "$used") <(printf '%s\n' "$allowed"))
    [ -z "$bad" ] || { echo "outside SystemCallFilter=$filter:" $bad; return 1; }
    families=$(grep -o 'socket(AF_[A-Z0-9]*' <<<"$after" | sed 's/socket(//' | sort -u)
    for fam in $families; do
        case " $(unit_value RestrictAddressFamilies) " in
            *" $fam "*) ;;
            *) echo "socket($fam) outside RestrictAddressFamilies"; return 1 ;;
        esac
    done
    echo "tandemd made $(wc -l <<<"$used") distinct system calls; socket families:" $families >"$WORK/syscalls.txt"
}

run_unit() {
    local log=$OUT/unit/tandemd.log tracing=no
    NETNS=tdpkg$$b
    ip netns add "$NETNS" && ip -n "$NETNS" link set lo up &&
        ip -n "$NETNS" link add tdsrv type veth peer name tdcli &&
        ip -n "$NETNS" addr add 10.213.8.1/24 dev tdsrv &&
        ip -n "$NETNS" link set tdsrv up && ip -n "$NETNS" link set tdcli up ||
        { not_ok "a network namespace for the unit's run"; return; }
    mkdir -m 0755 /run/tandem && OUR_RUNDIR=yes || { not_ok "RuntimeDirectory /run/tandem"; return; }
    rm -rf "$UNITDIR"
    mkdir -p "$UNITDIR"
    printf 'ddns-update-style none;\nsubnet 10.213.8.0 netmask 255.255.255.0 {\n  range 10.213.8.100 10.213.8.110;\n}\n' \
        >"$UNITCONF"
    : >"$log"
    # shellcheck disable=SC2046
    check "ExecStartPre ($(unit_value ExecStartPre)) passes in the sandbox" sandboxed $(unit_command ExecStartPre)
    start_daemon "$log"
    if check "ExecStart runs in the sandbox and answers tandemctl on /run/tandemd.ctl" wait_ready "$log"; then
        check "the daemon runs as _tandem:_tandem with CAP_NET_RAW and CAP_NET_BIND_SERVICE only" daemon_identity
        # shellcheck disable=SC2046
        check "ExecReload ($(unit_value ExecReload)) succeeds" $(unit_value ExecReload)
        check "SIGTERM (systemctl stop) ends it with status 0" stop_daemon
        check "_tandem can rewrite the lease file root wrote at start-up" tandem_rewrite
        have strace && have systemd-analyze && tracing=yes
        start_daemon "$log" "$([ "$tracing" = yes ] && echo strace)"
        if check "ExecStart starts again on the lease file _tandem rewrote" wait_ready "$log"; then
            /usr/sbin/tandemctl -s /run/tandem/tandemd.ctl reload >/dev/null 2>&1
            stop_daemon >/dev/null
        else
            [ -z "$JOB_PID" ] || stop_daemon >/dev/null
        fi
        if [ "$tracing" = yes ]; then
            check "its system calls pass SystemCallFilter, its sockets RestrictAddressFamilies" syscalls_allowed &&
                sed 's/^/# /' "$WORK/syscalls.txt"
        else
            missing "system calls against SystemCallFilter" "strace or systemd-analyze"
        fi
    else
        [ -z "$JOB_PID" ] || stop_daemon >/dev/null
    fi
    ip netns del "$NETNS"
    NETNS=''
    rm -rf /run/tandem
    OUR_RUNDIR=no
}
UNITDIR=$OUT/unit
if [ "$have_netns" = yes ]; then
    run_unit
else
    missing "the unit's command lines in a network namespace" "ip, setpriv, unshare or mount"
fi

# ---- 5. reinstall, remove, purge ----------------------------------------------

echo "# local change" >>/etc/tandem/dhcpd.conf
echo "# a lease file with content" >>/var/lib/tandem/dhcpd.leases
leases_sum=$(md5sum </var/lib/tandem/dhcpd.leases)
reinstall_keeps() {
    dpkg_i || return 1
    tail -n 1 /etc/tandem/dhcpd.conf | grep -qx '# local change' || { echo "/etc/tandem/dhcpd.conf lost the local change"; return 1; }
    [ ! -e /etc/tandem/dhcpd.conf.dpkg-new ] || { echo "a dhcpd.conf.dpkg-new was left"; return 1; }
    [ "$(md5sum </var/lib/tandem/dhcpd.leases)" = "$leases_sum" ] || { echo "dhcpd.leases changed"; return 1; }
    nothing_started
}
check "reinstalling keeps a changed dhcpd.conf and the leases, and starts nothing" reinstall_keeps

remove_keeps() {
    dpkg -r tandem || return 1
    local p
    for p in /usr/sbin/tandemd /usr/sbin/tandemctl "$UNIT"; do [ ! -e "$p" ] || { echo "$p left after dpkg -r"; return 1; }; done
    for p in /etc/tandem/dhcpd.conf /etc/default/tandemd /var/lib/tandem/dhcpd.leases; do
        [ -e "$p" ] || { echo "$p removed by dpkg -r (only purge may)"; return 1; }
    done
    [ "$(dpkg-query -W -f='${db:Status-Status}' tandem)" = config-files ] || { echo "status $(dpkg-query -W -f='${db:Status-Status}' tandem)"; return 1; }
    [ -z "$(installed_tandemd_pids)" ] || { echo "tandemd running: $(installed_tandemd_pids)"; return 1; }
}
check "dpkg -r removes the programs, keeps configuration and leases" remove_keeps

purge_clean() {
    dpkg --purge tandem || return 1
    INSTALLED_BY_US=no
    local p left=()
    for p in /etc/tandem /etc/default/tandemd /var/lib/tandem "$UNIT" /usr/lib/tmpfiles.d/tandem.conf \
        /run/tandemd.ctl /run/tandemd.pid /run/tandem /etc/systemd/system/multi-user.target.wants/tandemd.service; do
        if [ -e "$p" ] || [ -L "$p" ]; then left+=("$p"); fi
    done
    [ "${#left[@]}" -eq 0 ] || { echo "left after purge: ${left[*]}"; return 1; }
    [ -z "$(dpkg-query -W -f='${db:Status-Status}' tandem 2>/dev/null | grep -v not-installed)" ] || return 1
    [ -z "$(installed_tandemd_pids)" ] || { echo "tandemd running: $(installed_tandemd_pids)"; return 1; }
    if [ -d /run/systemd/system ] && [ "$(systemctl is-active tandemd.service 2>/dev/null)" = active ]; then
        echo "tandemd.service active"
        return 1
    fi
}
check "dpkg --purge removes configuration, leases and links; nothing left running" purge_clean
echo "# the system user _tandem is kept after purge (Debian practice)"

finish
