#!/usr/bin/env bash
# bench/run.sh: DHCPv4 throughput of ISC dhcpd, Kea, tandemd and a stateless
# responder, measured by perfdhcp one server after another in the same run, and
# optionally the start-up time of ISC dhcpd and tandemd on a 200,000-lease file.
# See bench/README.md. A measurement, not a test: it asserts nothing and is not
# part of `make check` or CI. Needs root.
#
#   sudo bench/run.sh [options]
#     --only LIST       servers, run in this order (isc,kea,tandem,responder)
#     --seconds N       perfdhcp's test period, -p (10)
#     --rate N          exchanges perfdhcp starts per second, -r (30000)
#     --clients N       perfdhcp's client population, -R (50000; at most 65000)
#     --rounds N        repeat the servers N times, interleaved; median shown (1)
#     --tandemd PATH    the tandemd binary (build/tandemd of this source tree)
#     --responder PATH  the responder (default: bench/responder beside tandemd,
#                       else compiled from bench/responder.cc with g++)
#     --startup         also time ISC's and tandemd's start-up on a lease file
#     --leases N        leases in that file (200000)
#     --out FILE        also write the results as tab-separated values
#     --keep            keep the work dir (configs, logs, lease files, reports)
#     --no-install      do not install missing packages
#
# Topology: two network namespaces of this run (tbench<pid>-srv, -cli) joined by
# one veth pair created inside them (the host never sees it), addresses in
# 198.18.0.0/16 (RFC 2544 benchmarking range): the server on 198.18.0.1, perfdhcp
# on 198.18.0.2. perfdhcp without a server address sends relayed packets (giaddr
# 198.18.0.2) to 255.255.255.255:67 and gets the replies unicast on giaddr:67.
# It never touches the host's interfaces, and its EXIT trap stops every process
# it started and deletes its namespaces, also after an error or Ctrl-C.
set -u
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(dirname "$HERE")

ONLY=isc,kea,tandem,responder
SECS=10
RATE=30000
CLIENTS=50000
TANDEMD=$TOP/build/tandemd
RESPONDER=
STARTUP=0
NLEASES=200000
OUT=
KEEP=0
INSTALL=1
READY_SECS=60          # how long a server may take to be ready for the DORA runs
STARTUP_LIMIT=600      # ... and to start on the big lease file
MAC_BASE=02:00:5e:10:00:00
SEED=7
ROUNDS=1

usage() {
    sed -n '2,/^# Topology/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

while [ $# -gt 0 ]; do
    case $1 in
        --only) ONLY=$2; shift 2 ;;
        --seconds) SECS=$2; shift 2 ;;
        --rate) RATE=$2; shift 2 ;;
        --clients) CLIENTS=$2; shift 2 ;;
        --tandemd) TANDEMD=$2; shift 2 ;;
        --responder) RESPONDER=$2; shift 2 ;;
        --startup) STARTUP=1; shift ;;
        --leases) NLEASES=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --no-install) INSTALL=0; shift ;;
        -h|--help) usage 0 ;;
        *) echo "run.sh: unknown option $1" >&2; usage 2 ;;
    esac
done
for v in "$SECS" "$RATE" "$CLIENTS" "$NLEASES" "$ROUNDS"; do
    case $v in ''|*[!0-9]*) echo "run.sh: not a number: $v" >&2; exit 2 ;; esac
done
if [ "$ROUNDS" -lt 1 ] || [ "$SECS" -lt 1 ]; then
    echo "run.sh: --rounds and --seconds must be at least 1" >&2
    exit 2
fi
if [ "$CLIENTS" -gt 65000 ]; then
    echo "run.sh: --clients above 65000 does not fit the /16 pool" >&2
    exit 2
fi
IFS=, read -r -a SERVERS <<<"$ONLY"
for s in "${SERVERS[@]}"; do
    case $s in isc|kea|tandem|responder) ;; *) echo "run.sh: unknown server '$s' in --only" >&2; exit 2 ;; esac
done
case $TANDEMD in /*) ;; *) TANDEMD=$PWD/$TANDEMD ;; esac
selected() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }

if [ "$(id -u)" -ne 0 ]; then
    echo "run.sh: needs root (network namespaces); try: sudo $0 $*" >&2
    exit 1
fi

# ---- what it needs, installed in one place ---------------------------------
# perfdhcp is in kea-admin.
BENCH_NAME=run.sh
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
[ "$INSTALL" = 1 ] && install_deps kea-admin kea-dhcp4-server isc-dhcp-server iproute2 python3 procps

need_tools ip perfdhcp python3 timeout

# ---- work dir, processes, cleanup ------------------------------------------
# The lease files must be on disk (ISC fsyncs each one before its ACK): /var/tmp,
# not /tmp, which is a tmpfs on some systems.
WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/tandem-bench.XXXXXX") || exit 1
chmod 755 "$WORK"
WORK_FS=$(stat -f -c %T "$WORK" 2>/dev/null)
NS_SRV=tbench$$-srv
NS_CLI=tbench$$-cli
NSES=()
PIDS=()

bench_traps

# spawn NAME COMMAND...: run COMMAND in the server namespace, output to
# $WORK/NAME.log; SPAWNED is its PID (`ip netns exec` execs the command).
spawn() {
    local name=$1
    shift
    ip netns exec "$NS_SRV" "$@" >"$WORK/$name.log" 2>&1 </dev/null &
    SPAWNED=$!
    PIDS+=("$SPAWNED")
}

# wait_ready FILE REGEX SECONDS PID: 0 ready, 1 timed out, 2 the process died.
wait_ready() {
    local file=$1 re=$2 end=$(($(date +%s%N) + $3 * 1000000000)) pid=$4
    while :; do
        grep -E -q -- "$re" "$file" 2>/dev/null && return 0
        alive "$pid" || { grep -E -q -- "$re" "$file" 2>/dev/null && return 0; return 2; }
        [ "$(date +%s%N)" -lt "$end" ] || return 1
        sleep 0.01
    done
}

# ---- topology ---------------------------------------------------------------
mkns() {
    ip netns add "$1" || exit 1
    NSES+=("$1")
    ip -n "$1" link set lo up
    ip netns exec "$1" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null
}
mkns "$NS_SRV"
mkns "$NS_CLI"
ip -n "$NS_SRV" link add eth0 type veth peer name eth0 netns "$NS_CLI" || exit 1
ip -n "$NS_SRV" addr add 198.18.0.1/16 dev eth0
ip -n "$NS_CLI" addr add 198.18.0.2/16 dev eth0
ip -n "$NS_SRV" link set eth0 up
ip -n "$NS_CLI" link set eth0 up

# ---- configurations ---------------------------------------------------------
# Equivalent for every server: one /16, a 65,279-address pool, leases of an
# hour with T1/T2 at 50% and 87.5% (ISC's defaults, set explicitly for Kea), no
# ping-check, the lease database a file on disk, each server's default logging.
POOL_FIRST=198.18.1.0
POOL_LAST=198.18.255.254
cat >"$WORK/dhcpd.conf" <<EOF
# bench/run.sh: the DORA benchmark (ISC dhcpd and tandemd)
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time 3600;
max-lease-time 3600;
subnet 198.18.0.0 netmask 255.255.0.0 {
  range $POOL_FIRST $POOL_LAST;
}
EOF

# Kea: raw sockets, because a UDP socket is bound to the interface address and
# never sees perfdhcp's packets to 255.255.255.255; replies to a relay go out
# through Kea's UDP socket either way. Multi-threading with 2 threads, the
# fastest setting on 2 cores. memfile with persist: every lease is appended to
# the CSV file. No control socket, no LFC (lfc-interval 0: no child process).
# No "loggers": Kea's default, INFO to stdout, one line per OFFER and per ACK.
cat >"$WORK/kea-dhcp4.json" <<EOF
{
  "Dhcp4": {
    "interfaces-config": { "interfaces": [ "eth0" ], "dhcp-socket-type": "raw" },
    "lease-database": { "type": "memfile", "persist": true, "name": "$WORK/kea-leases4.csv", "lfc-interval": 0 },
    "multi-threading": { "enable-multi-threading": true, "thread-pool-size": 2, "packet-queue-size": 64 },
    "valid-lifetime": 3600,
    "renew-timer": 1800,
    "rebind-timer": 3150,
    "subnet4": [ { "id": 1, "subnet": "198.18.0.0/16", "pools": [ { "pool": "$POOL_FIRST - $POOL_LAST" } ] } ]
  }
}
EOF
export KEA_PIDFILE_DIR=$WORK KEA_LOCKFILE_DIR=$WORK

# ---- the responder ----------------------------------------------------------
find_responder() {
    if [ -n "$RESPONDER" ]; then
        [ -x "$RESPONDER" ] || { echo "run.sh: --responder $RESPONDER is not an executable" >&2; exit 1; }
        return
    fi
    local built
    built=$(dirname "$TANDEMD")/bench/responder
    if [ -x "$built" ] && [ "$built" -nt "$HERE/responder.cc" ]; then
        RESPONDER=$built
        return
    fi
    command -v g++ >/dev/null 2>&1 || { echo "run.sh: no built responder ($built) and no g++" >&2; exit 1; }
    echo "# compiling bench/responder.cc with g++ -O2"
    g++ -std=c++17 -O2 -Wall -Wextra -o "$WORK/responder" "$HERE/responder.cc" || exit 1
    RESPONDER=$WORK/responder
}
selected responder && find_responder

# ---- one DORA run ------------------------------------------------------------
declare -A R_RATE R_DOS R_DOR R_DOD R_RAS R_RAR R_RAD R_DOLAT R_RALAT R_RSS R_CPU R_LEASES R_NOTE

# start_server NAME LOG: start it with a fresh empty lease file, its output to
# $WORK/LOG.log; sets SPAWNED.
start_server() {
    local name=$1 log=$2 leases=$WORK/$1.leases
    rm -f "$leases" "$leases~" "$WORK/kea-leases4.csv"*
    case $name in
        isc)
            : >"$leases"
            spawn "$log" /usr/sbin/dhcpd -4 -f -d -cf "$WORK/dhcpd.conf" -lf "$leases" -pf "$WORK/isc.pid" eth0
            READY='Server starting service\.' ;;
        tandem)
            : >"$leases"
            spawn "$log" "$TANDEMD" -4 -f -d -cf "$WORK/dhcpd.conf" -lf "$leases" -pf "$WORK/tandem.pid" eth0
            READY='Server starting service\.' ;;
        kea)
            spawn "$log" kea-dhcp4 -c "$WORK/kea-dhcp4.json"
            READY='DHCP4_STARTED' ;;
        responder)
            spawn "$log" "$RESPONDER" --server-id 198.18.0.1 --first "$POOL_FIRST" --last "$POOL_LAST" \
                --mask 255.255.0.0 --lease-time 3600 --iface eth0 --max-seconds $((SECS + READY_SECS + 120))
            READY='^responder: ready' ;;
    esac
}

lease_records() {
    case $1 in
        kea) [ -f "$WORK/kea-leases4.csv" ] && echo $(($(wc -l <"$WORK/kea-leases4.csv") - 1)) ;;
        responder) echo - ;;
        *) grep -c '^lease ' "$WORK/$1.leases" 2>/dev/null ;;
    esac
}

# dora NAME ROUND: one perfdhcp run against a freshly started server; the
# results go to R_*[NAME.ROUND].
dora() {
    local name=$1 key=$1.$2 st=0 pid cpu0 cpu1 perf_pid
    echo "# $key: starting"
    if [ "$name" = tandem ] && [ ! -x "$TANDEMD" ]; then
        R_NOTE[$key]="not run: $TANDEMD is not an executable"
        echo "# $key: ${R_NOTE[$key]}"
        return
    fi
    start_server "$name" "$key"
    pid=$SPAWNED
    wait_ready "$WORK/$key.log" "$READY" "$READY_SECS" "$pid" || st=$?
    if [ "$st" -ne 0 ]; then
        if [ "$st" = 1 ]; then R_NOTE[$key]="not ready within $READY_SECS s"; else R_NOTE[$key]="exited before it was ready"; fi
        echo "# $key: ${R_NOTE[$key]}; last lines of its log:"
        tail -n 5 "$WORK/$key.log" | cut -c1-200 | sed 's/^/#   | /'
        stop_pid "$pid" 3
        return
    fi
    sleep 1  # let it finish opening its sockets after the ready line
    cpu0=$(cpu_secs "$pid")
    echo "# $key: perfdhcp -r $RATE -R $CLIENTS -p $SECS"
    timeout -k 5 $((SECS + 60)) ip netns exec "$NS_CLI" perfdhcp -4 -l eth0 -r "$RATE" -R "$CLIENTS" \
        -p "$SECS" -d 2 -s "$SEED" -b "mac=$MAC_BASE" >"$WORK/perfdhcp-$key.txt" 2>&1 </dev/null &
    perf_pid=$!
    PIDS+=("$perf_pid")
    st=0
    wait "$perf_pid" || st=$?
    if ! alive "$pid"; then
        R_NOTE[$key]="the server died during the run"
    fi
    R_RSS[$key]=$(rss_kb "$pid")
    cpu1=$(cpu_secs "$pid")
    [ -n "$cpu0" ] && [ -n "$cpu1" ] && R_CPU[$key]=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN {printf "%.1f", b - a}')
    stop_pid "$pid" 10
    R_LEASES[$key]=$(lease_records "$name")
    # Its own counters tell perfdhcp's losses from its own.
    [ "$name" = responder ] && echo "# $key: $(grep -m1 '^responder: received' "$WORK/$key.log")"
    # perfdhcp: 0 all exchanges done, 3 some were not; anything else is a failure.
    if [ "$st" -ne 0 ] && [ "$st" -ne 3 ]; then
        R_NOTE[$key]="${R_NOTE[$key]:+${R_NOTE[$key]}; }perfdhcp failed (status $st)"
        tail -n 5 "$WORK/perfdhcp-$key.txt" | sed 's/^/#   | /'
        return
    fi
    local line
    line=$(perfdhcp_summary "$WORK/perfdhcp-$key.txt")
    local rate dos dor dod ras rar rad dolat ralat
    read -r rate dos dor dod ras rar rad dolat ralat <<<"$line"
    R_RATE[$key]=$rate R_DOS[$key]=$dos R_DOR[$key]=$dor R_DOD[$key]=$dod
    R_RAS[$key]=$ras R_RAR[$key]=$rar R_RAD[$key]=$rad R_DOLAT[$key]=$dolat R_RALAT[$key]=$ralat
    echo "# $key: ${R_RATE[$key]} DORA/s"
}

# ---- the start-up benchmark --------------------------------------------------
declare -A S_MS S_RSS S_NOTE
startup() {
    local name=$1 bin pid st=0 t0 t1 leases=$WORK/startup-$1.leases
    case $name in
        isc) bin=/usr/sbin/dhcpd ;;
        tandem) bin=$TANDEMD ;;
    esac
    if [ ! -x "$bin" ]; then
        S_NOTE[$name]="not run: $bin is not an executable"
        return
    fi
    cp "$WORK/big.leases" "$leases"
    echo "# $name: start-up on $NLEASES leases"
    t0=$(date +%s%N)
    spawn "startup-$name" "$bin" -4 -f -d -cf "$WORK/startup.conf" -lf "$leases" -pf "$WORK/startup-$name.pid" eth0
    pid=$SPAWNED
    wait_ready "$WORK/startup-$name.log" 'Server starting service\.' "$STARTUP_LIMIT" "$pid" || st=$?
    t1=$(date +%s%N)
    if [ "$st" -eq 0 ]; then
        S_MS[$name]=$(((t1 - t0) / 1000000))
        S_RSS[$name]=$(rss_kb "$pid")
        echo "# $name: ready after ${S_MS[$name]} ms"
    else
        if [ "$st" = 1 ]; then S_NOTE[$name]="not ready within $STARTUP_LIMIT s"; else S_NOTE[$name]="exited before it was ready"; fi
        echo "# $name: ${S_NOTE[$name]}; last lines of its log:"
        tail -n 5 "$WORK/startup-$name.log" | cut -c1-200 | sed 's/^/#   | /'
    fi
    stop_pid "$pid" 10
    rm -f "$leases" "$leases~"
}

# ---- run ----------------------------------------------------------------------
T_START=$(date +%s)
echo "# tandem bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -r)"
echo "# work dir $WORK (file system: $WORK_FS)"
[ "$WORK_FS" = tmpfs ] && echo "# WARNING: the work dir is a tmpfs: lease files are not on disk (set TMPDIR)"
echo "# servers: $ONLY; perfdhcp -r $RATE -R $CLIENTS -p $SECS -d 2 -s $SEED; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# Rounds interleave the servers, so that a change in the machine's load (other
# work on its 2 CPUs) hits all of them alike; each server's median round is shown.
for ((round = 1; round <= ROUNDS; round++)); do
    for s in "${SERVERS[@]}"; do
        dora "$s" "$round"
        sleep 1
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# median NAME: the key of NAME's median round by DORA/s (the lower one of the two
# middle rounds for an even count), or of its last round when none has a result.
median() {
    local name=$1 r keys=()
    for ((r = 1; r <= ROUNDS; r++)); do
        [ -n "${R_RATE[$name.$r]:-}" ] && keys+=("${R_RATE[$name.$r]} $name.$r")
    done
    if [ "${#keys[@]}" -eq 0 ]; then
        echo "$name.$ROUNDS"
        return
    fi
    printf '%s\n' "${keys[@]}" | sort -g | sed -n "$(((${#keys[@]} + 1) / 2))p" | cut -d' ' -f2
}
declare -A R_ALL
for s in "${SERVERS[@]}"; do
    k=$(median "$s")
    for v in R_RATE R_DOS R_DOR R_DOD R_RAS R_RAR R_RAD R_DOLAT R_RALAT R_RSS R_CPU R_LEASES R_NOTE; do
        declare -n arr=$v
        # shellcheck disable=SC2004 # arr is an associative array (a nameref)
        [ -n "${arr[$k]:-}" ] && arr[$s]=${arr[$k]}
        unset -n arr
    done
    for ((round = 1; round <= ROUNDS; round++)); do
        if [ -n "${R_RATE[$s.$round]:-}" ]; then v=$(printf '%.0f' "${R_RATE[$s.$round]}"); else v=-; fi
        R_ALL[$s]="${R_ALL[$s]:+${R_ALL[$s]} }$v"
    done
done

if [ "$STARTUP" = 1 ]; then
    if selected isc || selected tandem; then
        # The interface's subnet has no range here: the only pool is the one the
        # file's leases are in, with room for 62,000 more (a /14 less the ends).
        cat >"$WORK/startup.conf" <<EOF
# bench/run.sh: the start-up benchmark
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time 3600;
max-lease-time 3600;
subnet 198.18.0.0 netmask 255.255.0.0 {
}
subnet 10.64.0.0 netmask 255.252.0.0 {
  range 10.64.0.10 10.67.255.254;
}
EOF
        echo "# generating $NLEASES active leases"
        python3 "$HERE/gen_leases.py" --count "$NLEASES" --first 10.64.0.10 --out "$WORK/big.leases" || exit 1
        for s in isc tandem; do selected "$s" && startup "$s"; done
    fi
fi

# ---- report -------------------------------------------------------------------
ratio3() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b + 0 > 0) printf "%.3g", a / b; else printf "n/a" }'; }

echo
echo "DORA benchmark: perfdhcp -r $RATE (offered exchanges/s) -R $CLIENTS (clients) -p $SECS (seconds), one server after another, $ROUNDS round(s)"
printf '%-10s %9s  %-27s %-27s %9s %7s %9s\n' server DORA/s "DISCOVER sent/recv (drops)" "REQUEST sent/recv (drops)" "RSS MiB" "CPU s" "leases"
for s in "${SERVERS[@]}"; do
    if [ -z "${R_RATE[$s]:-}" ]; then
        printf '%-10s %9s  %s\n' "$s" - "${R_NOTE[$s]:-no result}"
        continue
    fi
    printf '%-10s %9.0f  %-27s %-27s %9s %7s %9s\n' "$s" "${R_RATE[$s]}" \
        "${R_DOS[$s]}/${R_DOR[$s]} ($(pct "${R_DOD[$s]}" "${R_DOS[$s]}"))" \
        "${R_RAS[$s]}/${R_RAR[$s]} ($(pct "${R_RAD[$s]}" "${R_RAS[$s]}"))" \
        "$(mib "${R_RSS[$s]:-}")" "${R_CPU[$s]:--}" "${R_LEASES[$s]:--}"
    [ -n "${R_NOTE[$s]:-}" ] && printf '%-10s   note: %s\n' "" "${R_NOTE[$s]}"
done
if [ "$ROUNDS" -gt 1 ]; then
    echo
    echo "DORA/s of each round (the table shows each server's median round):"
    for s in "${SERVERS[@]}"; do printf '  %-10s %s\n' "$s" "${R_ALL[$s]}"; done
fi
echo
echo "Latency (ms, min/avg/max, perfdhcp):"
printf '%-10s %-28s %-28s\n' server "DISCOVER->OFFER" "REQUEST->ACK"
for s in "${SERVERS[@]}"; do
    [ -n "${R_RATE[$s]:-}" ] || continue
    printf '%-10s %-28s %-28s\n' "$s" "${R_DOLAT[$s]}" "${R_RALAT[$s]}"
done
if selected tandem; then
    echo
    echo "tandemd ratios (DORA/s; RSS):"
    for s in isc kea responder; do
        selected "$s" || continue
        printf '  tandemd / %-9s  DORA/s %6s   RSS %6s\n' "$s" \
            "$(ratio "${R_RATE[tandem]:-}" "${R_RATE[$s]:-}")" "$(ratio "${R_RSS[tandem]:-}" "${R_RSS[$s]:-}")"
    done
fi
if [ "$STARTUP" = 1 ] && { selected isc || selected tandem; }; then
    echo
    echo "Start-up on $NLEASES active leases (launch to 'Server starting service.'):"
    for s in isc tandem; do
        selected "$s" || continue
        if [ -n "${S_MS[$s]:-}" ]; then
            printf '  %-8s %8.2f s   RSS %s MiB\n' "$s" "$(awk -v m="${S_MS[$s]}" 'BEGIN {print m / 1000}')" "$(mib "${S_RSS[$s]:-}")"
        else
            printf '  %-8s %8s     %s\n' "$s" - "${S_NOTE[$s]:-no result}"
        fi
    done
    if selected isc && selected tandem; then
        echo "  tandemd / isc start-up time: $(ratio3 "${S_MS[tandem]:-}" "${S_MS[isc]:-}")" \
            "(isc / tandemd: $(ratio3 "${S_MS[isc]:-}" "${S_MS[tandem]:-}"))"
    fi
fi
echo
echo "# load average after the DORA runs: $LOAD_AFTER (2 CPUs: figures from a busy machine are low and noisy)"
echo "# total time: $(($(date +%s) - T_START)) s"

if [ -n "$OUT" ]; then
    {
        printf 'server\tdora_per_s\tdo_sent\tdo_recv\tdo_drops\tra_sent\tra_recv\tra_drops\tdo_lat_ms\tra_lat_ms\trss_kb\tcpu_s\tleases\tnote\n'
        for s in "${SERVERS[@]}"; do
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "${R_RATE[$s]:-}" \
                "${R_DOS[$s]:-}" "${R_DOR[$s]:-}" "${R_DOD[$s]:-}" "${R_RAS[$s]:-}" "${R_RAR[$s]:-}" \
                "${R_RAD[$s]:-}" "${R_DOLAT[$s]:-}" "${R_RALAT[$s]:-}" "${R_RSS[$s]:-}" "${R_CPU[$s]:-}" \
                "${R_LEASES[$s]:-}" "${R_NOTE[$s]:-}"
        done
        for s in isc tandem; do
            [ -n "${S_MS[$s]:-}${S_NOTE[$s]:-}" ] &&
                printf 'startup-%s\t%s ms\t\t\t\t\t\t\t\t\t%s\t\t\t%s\n' "$s" "${S_MS[$s]:-}" "${S_RSS[$s]:-}" "${S_NOTE[$s]:-}"
        done
    } >"$OUT"
    echo "# results written to $OUT"
fi
exit 0
