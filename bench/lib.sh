# shellcheck shell=bash disable=SC2153 # PIDS, NSES, WORK, KEEP: set by the script
# bench/lib.sh: what bench/run.sh and bench/failover.sh share: installing their
# packages, processes by PID, the EXIT trap, perfdhcp's report and a few number formats.
# Sourced, after the script has set BENCH_NAME (for messages), KEEP and INSTALL.
# The script sets WORK, NSES and PIDS before it installs the trap
# (bench_traps), which stops what it started and deletes its namespaces.

pkg_installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }

# install_deps PACKAGE...: apt-get install those not installed yet. Debian's kea
# and isc-dhcp-server packages start their services on install: a policy-rc.d
# forbids that for the length of the install, and the units of a package
# installed here are disabled afterwards (as scripts/setup-deps.sh does).
# Packages already present are not touched.
install_deps() {
    local missing=() p
    command -v dpkg-query >/dev/null 2>&1 || return 0
    for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
    [ "${#missing[@]}" -eq 0 ] && return 0
    echo "# installing ${missing[*]}"
    local policy=/usr/sbin/policy-rc.d ours=no rc=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\n# written by tandem bench/%s for the length of one install\nexit 101\n' "$BENCH_NAME" >"$policy"
        chmod 755 "$policy"
        ours=yes
    fi
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get update || rc=$?
    if [ "$rc" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive timeout 1800 apt-get install -y --no-install-recommends "${missing[@]}" || rc=$?
    fi
    [ "$ours" = yes ] && rm -f "$policy"
    local unit units pidfile pid
    for p in "${missing[@]}"; do
        case $p in
            kea-dhcp4-server) units="kea-dhcp4-server" ;;
            isc-dhcp-server) units="isc-dhcp-server isc-dhcp-server6" ;;
            *) continue ;;
        esac
        for unit in $units; do
            if command -v systemctl >/dev/null 2>&1; then
                systemctl disable "$unit.service" >/dev/null 2>&1 || true
                [ -d /run/systemd/system ] && systemctl stop "$unit.service" >/dev/null 2>&1
            fi
            if command -v update-rc.d >/dev/null 2>&1 && [ -e "/etc/init.d/$unit" ]; then
                update-rc.d "$unit" disable >/dev/null 2>&1 || true
            fi
        done
    done
    # Without systemd, a service started despite the policy left its pid file:
    # stop that process, and only that one.
    for pidfile in /run/dhcpd.pid /var/run/dhcpd.pid /run/kea/kea-dhcp4.kea-dhcp4.pid; do
        [ -r "$pidfile" ] || continue
        pid=$(head -n1 "$pidfile" | tr -dc 0-9)
        case $(readlink "/proc/$pid/exe" 2>/dev/null) in
            /usr/sbin/dhcpd | /usr/sbin/kea-dhcp4) echo "# stopping the service (pid $pid) the package started"; kill "$pid" ;;
        esac
    done
    if [ "$rc" -ne 0 ]; then
        echo "$BENCH_NAME: apt-get failed (status $rc)" >&2
        exit 1
    fi
}

# need_tools TOOL...: exit with a message naming the first one missing.
need_tools() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || { echo "$BENCH_NAME: $t not found" >&2; exit 1; }
    done
}

alive() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    [ "${s%% *}" != Z ]
}

# stop_pid PID [GRACE]: SIGTERM, SIGKILL after GRACE seconds, then reap.
stop_pid() {
    local pid=$1 grace=${2:-10} end
    disown "$pid" 2>/dev/null
    if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null
        end=$(($(date +%s) + grace))
        while alive "$pid" && [ "$(date +%s)" -lt "$end" ]; do sleep 0.05; done
        alive "$pid" && kill -KILL "$pid" 2>/dev/null
        end=$(($(date +%s) + 3))
        while alive "$pid" && [ "$(date +%s)" -lt "$end" ]; do sleep 0.05; done
    fi
    { wait "$pid"; } 2>/dev/null
    return 0
}

# shellcheck disable=SC2317 # run by the EXIT trap
bench_cleanup() {
    local st=$? pid ns pids
    trap '' INT TERM HUP PIPE
    # All at once first: the peers of a pair stop together, not one by one.
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do alive "$pid" && kill -TERM "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do stop_pid "$pid" 3; done
    for ns in "${NSES[@]+"${NSES[@]}"}"; do
        pids=$(ip netns pids "$ns" 2>/dev/null)
        for pid in $pids; do stop_pid "$pid" 2; done
        ip netns del "$ns" 2>/dev/null
    done
    if [ "$KEEP" = 1 ]; then
        echo "# work dir kept: $WORK"
    else
        rm -rf -- "$WORK"
    fi
    exit "$st"
}

bench_traps() {
    trap bench_cleanup EXIT
    trap 'echo "# interrupted"; exit 130' INT
    trap 'echo "# terminated"; exit 143' TERM
    trap 'exit 129' HUP
}

# perfdhcp_summary FILE: perfdhcp's report as one line: "RATE DISCOVERS-SENT
# RECEIVED DROPS REQUESTS-SENT RECEIVED DROPS MIN/AVG/MAX(offer) MIN/AVG/MAX(ack)".
perfdhcp_summary() {
    awk '
        /^Rate:/ { rate = $2 }
        /Statistics for: DISCOVER-OFFER/ { s = "do" }
        /Statistics for: REQUEST-ACK/ { s = "ra" }
        s != "" && /^sent packets:/ { v[s, "sent"] = $3 }
        s != "" && /^received packets:/ { v[s, "recv"] = $3 }
        s != "" && /^drops:/ { v[s, "drops"] = $2 }
        s != "" && /^min delay:/ { v[s, "min"] = $3 }
        s != "" && /^avg delay:/ { v[s, "avg"] = $3 }
        s != "" && /^max delay:/ { v[s, "max"] = $3 }
        END {
            printf "%s %s %s %s %s %s %s %s/%s/%s %s/%s/%s\n", (rate == "" ? "0" : rate),
                v["do", "sent"] + 0, v["do", "recv"] + 0, v["do", "drops"] + 0,
                v["ra", "sent"] + 0, v["ra", "recv"] + 0, v["ra", "drops"] + 0,
                v["do", "min"], v["do", "avg"], v["do", "max"], v["ra", "min"], v["ra", "avg"], v["ra", "max"]
        }' "$1"
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
# CPU seconds (user + system, all threads) the process has used.
cpu_secs() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    awk -v u="${12}" -v k="${13}" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", (u + k) / hz}'
}

pct() { awk -v d="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f%%", 100 * d / s; else printf "-" }'; }
mib() { [ -n "$1" ] && awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}' || echo -; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b + 0 > 0) printf "%.2f", a / b; else printf "n/a" }'; }
