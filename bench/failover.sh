#!/usr/bin/env bash
# bench/failover.sh: failover pairs of ISC dhcpd and tandemd, measured in one run:
# (1) the DHCP throughput of a pair in normal under perfdhcp, and (2) recovery:
# how long a pair takes from the secondary's start to both servers in normal
# when the primary streams it N active bindings (UPDREQALL, no MCLT wait).
# See bench/README.md. A measurement, not a test: it asserts nothing and is not
# part of `make check` or CI. Needs root.
#
#   sudo bench/failover.sh [options]
#     --only LIST         parts and pairs: throughput, recovery (default: both);
#                         isc, tandem, tandem-isc, isc-tandem (PRIMARY-SECONDARY;
#                         default: isc,tandem for throughput, all four for recovery)
#     --seconds N         perfdhcp's test period, -p (10)
#     --rate N            exchanges perfdhcp starts per second, -r (30000)
#     --clients N         perfdhcp's client population, -R (50000)
#     --pool N            throughput: addresses in the pair's pool (65279, as
#                         bench/run.sh; at least --clients, at most 130000)
#     --from empty|normal throughput: each pair starts on empty lease files, so both
#                         servers start in recover and send each other the pool
#                         (empty, the default); or on files holding only a failover
#                         state block "normal/normal" (a pair stopped cleanly in
#                         normal: no recovery at all, only the pool balance)
#     --bindings LIST     recovery: active bindings the primary streams (20000,100000;
#                         each at most 130000)
#     --max-unacked LIST  max-unacked-updates of both peers, each value a run of its
#                         own (default: the value in examples/primary.conf)
#     --rounds N          repeat every measurement N times, interleaved; median shown (1)
#     --tandemd PATH      the tandemd binary (build/tandemd of this source tree)
#     --isc PATH          ISC dhcpd (/usr/sbin/dhcpd)
#     --ready-secs N      limit for a pair to reach normal and finish its pool
#                         balance before the throughput run (120)
#     --recovery-limit N  limit for one recovery, secondary start to both normal (600)
#     --stall N           ... and for reaching normal, either part: given up early when
#                         no lease file or log of the pair has grown for N s (30)
#     --out FILE          also write every round's results as tab-separated values
#     --keep              keep the work dir (configs, logs, lease files, reports)
#     --capture           throughput: tcpdump of the DHCP traffic at perfdhcp's
#                         interface into the work dir (with --keep, to look at it)
#     --no-install        do not install missing packages
#
# Topology: four network namespaces of this run (tfo<pid>-br, -pri, -sec, -cli):
# a bridge in -br, and one veth from it to each of the others, made inside the
# namespaces (the host never sees them). Addresses in 198.18.0.0/15 (RFC 2544's
# benchmarking range): primary 198.18.0.1, secondary 198.18.0.2, perfdhcp
# 198.18.0.3. perfdhcp without a server address sends relayed packets (giaddr
# 198.18.0.3) to 255.255.255.255:67, so both servers of the pair see every packet,
# and each answers the clients its split names. The EXIT trap stops every process
# this script started and deletes its namespaces, also after an error or Ctrl-C.
set -u
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(dirname "$HERE")

# The pair as examples/ sets it up (primary.conf, secondary.conf).
ex_value() {
    sed -n "s/^[[:space:]]*$1[[:space:]]\{1,\}\([0-9]\{1,\}\);.*/\1/p" "$TOP/examples/primary.conf" 2>/dev/null | head -n1
}
MUU_DEFAULT=$(ex_value max-unacked-updates)
MCLT=$(ex_value mclt)
MRD=$(ex_value max-response-delay)
: "${MUU_DEFAULT:=10}" "${MCLT:=1800}" "${MRD:=30}"

ONLY=
SECS=10
RATE=30000
CLIENTS=50000
POOL=65279
FROM=empty
BINDINGS=20000,100000
MUUS=$MUU_DEFAULT
ROUNDS=1
TANDEMD=$TOP/build/tandemd
ISC=/usr/sbin/dhcpd
READY_SECS=120
RECOVERY_LIMIT=600
STALL_SECS=30
STARTUP_LIMIT=600      # a primary loading its lease file before a recovery
OUT=
KEEP=0
CAPTURE=0
INSTALL=1
MAC_BASE=02:00:5e:10:00:00
SEED=7
FO_NAME=bench-pair
QUIET_SECS=2           # lease files unchanged this long: the pool balance is over

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
        --pool) POOL=$2; shift 2 ;;
        --from) FROM=$2; shift 2 ;;
        --bindings) BINDINGS=$2; shift 2 ;;
        --max-unacked) MUUS=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --tandemd) TANDEMD=$2; shift 2 ;;
        --isc) ISC=$2; shift 2 ;;
        --ready-secs) READY_SECS=$2; shift 2 ;;
        --recovery-limit) RECOVERY_LIMIT=$2; shift 2 ;;
        --stall) STALL_SECS=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --capture) CAPTURE=1; shift ;;
        --no-install) INSTALL=0; shift ;;
        -h|--help) usage 0 ;;
        *) echo "failover.sh: unknown option $1" >&2; usage 2 ;;
    esac
done
num() { case $1 in ''|*[!0-9]*) echo "failover.sh: not a number: $1" >&2; exit 2 ;; esac; }
for v in "$SECS" "$RATE" "$CLIENTS" "$POOL" "$ROUNDS" "$READY_SECS" "$RECOVERY_LIMIT" "$STALL_SECS"; do num "$v"; done
case $FROM in empty|normal) ;; *) echo "failover.sh: --from is empty or normal" >&2; exit 2 ;; esac
IFS=, read -r -a NS_BIND <<<"$BINDINGS"
IFS=, read -r -a MUU_LIST <<<"$MUUS"
for v in "${NS_BIND[@]}" "${MUU_LIST[@]}"; do num "$v"; done
if [ "$ROUNDS" -lt 1 ] || [ "$SECS" -lt 1 ] || [ "$READY_SECS" -lt 1 ] || [ "$RECOVERY_LIMIT" -lt 1 ]; then
    echo "failover.sh: --rounds, --seconds and the limits must be at least 1" >&2
    exit 2
fi
if [ "$POOL" -gt 130000 ] || [ "$CLIENTS" -gt "$POOL" ]; then
    echo "failover.sh: --pool must hold --clients and be at most 130000 (a /15)" >&2
    exit 2
fi
for v in "${NS_BIND[@]}"; do
    if [ "$v" -lt 1 ] || [ "$v" -gt 130000 ]; then
        echo "failover.sh: --bindings must be 1 to 130000 each (the pool is in a /15)" >&2
        exit 2
    fi
done
for v in "${MUU_LIST[@]}"; do
    [ "$v" -ge 1 ] || { echo "failover.sh: --max-unacked must be at least 1" >&2; exit 2; }
done

PARTS=() PAIRS=()
IFS=, read -r -a words <<<"$ONLY"
for w in "${words[@]+"${words[@]}"}"; do
    case $w in
        throughput|recovery) PARTS+=("$w") ;;
        isc|tandem|tandem-isc|isc-tandem) PAIRS+=("$w") ;;
        *) echo "failover.sh: unknown word '$w' in --only" >&2; exit 2 ;;
    esac
done
[ "${#PARTS[@]}" -eq 0 ] && PARTS=(throughput recovery)
part_on() { case " ${PARTS[*]} " in *" $1 "*) return 0 ;; esac; return 1; }
if [ "${#PAIRS[@]}" -gt 0 ]; then
    TPUT_PAIRS=("${PAIRS[@]}") REC_PAIRS=("${PAIRS[@]}")
else
    TPUT_PAIRS=(isc tandem) REC_PAIRS=(isc tandem tandem-isc isc-tandem)
fi
part_on throughput || TPUT_PAIRS=()
part_on recovery || REC_PAIRS=()
case $TANDEMD in /*) ;; *) TANDEMD=$PWD/$TANDEMD ;; esac

if [ "$(id -u)" -ne 0 ]; then
    echo "failover.sh: needs root (network namespaces); try: sudo $0 $*" >&2
    exit 1
fi

# ---- what it needs, installed in one place ---------------------------------
# As bench/run.sh does (bench/lib.sh); perfdhcp is in kea-admin.
BENCH_NAME=failover.sh
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
[ "$INSTALL" = 1 ] && install_deps kea-admin isc-dhcp-server iproute2 python3 procps

need_tools ip perfdhcp python3 timeout

# ---- work dir, processes, cleanup ------------------------------------------
# Lease files on disk (both servers sync them): /var/tmp, not a tmpfs.
WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/tandem-fobench.XXXXXX") || exit 1
chmod 755 "$WORK"
WORK_FS=$(stat -f -c %T "$WORK" 2>/dev/null)
NS_BR=tfo$$-br NS_PRI=tfo$$-pri NS_SEC=tfo$$-sec NS_CLI=tfo$$-cli
NSES=()
PIDS=()
FO_TOOLS=$HERE/fo_tools.py

bench_traps

now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { [ -n "$1" ] && awk -v m="$1" 'BEGIN {printf "%.2f", m / 1000}' || echo -; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", a - b}'; }

# ---- the binaries -------------------------------------------------------------
# tandemd is copied into the work dir: the tree's build may be relinked by
# someone else while this runs.
TANDEM_BIN=
if [ -x "$TANDEMD" ]; then
    cp "$TANDEMD" "$WORK/tandemd" && TANDEM_BIN=$WORK/tandemd
fi
bin_of() { if [ "$1" = isc ]; then echo "$ISC"; else echo "$TANDEM_BIN"; fi; }
# ISC's command line for both; tandemd without its control socket (the
# namespaces share one file system).
args_of() { [ "$1" = tandem ] && echo --no-control; }
pri_kind() { case $1 in isc|isc-tandem) echo isc ;; *) echo tandem ;; esac; }
sec_kind() { case $1 in isc|tandem-isc) echo isc ;; *) echo tandem ;; esac; }
# pair_missing PAIR: why PAIR cannot run ("" if it can).
pair_missing() {
    local k
    for k in "$(pri_kind "$1")" "$(sec_kind "$1")"; do
        if [ "$k" = isc ] && [ ! -x "$ISC" ]; then echo "$ISC is not an executable"; return; fi
        if [ "$k" = tandem ] && [ -z "$TANDEM_BIN" ]; then echo "$TANDEMD is not an executable"; return; fi
    done
}

# ---- topology ---------------------------------------------------------------
mkns() {
    ip netns add "$1" || exit 1
    NSES+=("$1")
    ip -n "$1" link set lo up
    ip netns exec "$1" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null
}
PRI_ADDR=198.18.0.1 SEC_ADDR=198.18.0.2 CLI_ADDR=198.18.0.3
mkns "$NS_BR"
ip -n "$NS_BR" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0 || exit 1
ip -n "$NS_BR" link set br0 up
port=0
for pair in "$NS_PRI:$PRI_ADDR" "$NS_SEC:$SEC_ADDR" "$NS_CLI:$CLI_ADDR"; do
    ns=${pair%%:*} addr=${pair#*:}
    port=$((port + 1))
    mkns "$ns"
    ip -n "$NS_BR" link add "p$port" type veth peer name eth0 netns "$ns" || exit 1
    ip -n "$NS_BR" link set "p$port" master br0 up || exit 1
    ip -n "$ns" addr add "$addr/15" dev eth0
    ip -n "$ns" link set eth0 up
done

# ---- configurations ---------------------------------------------------------
# last_addr FIRST N: the Nth address from FIRST on.
last_addr() { python3 -c 'import ipaddress, sys; print(ipaddress.IPv4Address(sys.argv[1]) + int(sys.argv[2]) - 1)' "$1" "$2"; }
# examples/'s layout: primary.conf and secondary.conf hold each host's half of
# the `failover peer` block and include dhcpd.master, which both share. The
# examples' mclt, max-response-delay and split; max-unacked-updates as asked.
# write_confs DIR FIRST LAST MUU
write_confs() {
    local dir=$1 first=$2 last=$3 muu=$4
    cat >"$dir/dhcpd.master" <<EOF
# bench/failover.sh: what both servers of the pair share
ping-check false;
default-lease-time 3600;
max-lease-time 3600;
subnet 198.18.0.0 netmask 255.254.0.0 {
  pool {
    failover peer "$FO_NAME";
    range $first $last;
  }
}
EOF
    cat >"$dir/primary.conf" <<EOF
# bench/failover.sh: the primary
authoritative;
ddns-update-style none;
failover peer "$FO_NAME" {
  primary;
  address $PRI_ADDR;
  port 647;
  peer address $SEC_ADDR;
  peer port 847;
  max-response-delay $MRD;
  max-unacked-updates $muu;
  mclt $MCLT;
  split 128;
  load balance max seconds 3;
}
include "$dir/dhcpd.master";
EOF
    cat >"$dir/secondary.conf" <<EOF
# bench/failover.sh: the secondary
authoritative;
ddns-update-style none;
failover peer "$FO_NAME" {
  secondary;
  address $SEC_ADDR;
  port 847;
  peer address $PRI_ADDR;
  peer port 647;
  max-response-delay $MRD;
  max-unacked-updates $muu;
  load balance max seconds 3;
}
include "$dir/dhcpd.master";
EOF
}

# start ROLE KIND DIR: start that server in its namespace on DIR/ROLE.conf and
# DIR/ROLE.leases, output to DIR/ROLE.log; sets SPAWNED.
start() {
    local role=$1 kind=$2 dir=$3 ns
    if [ "$role" = primary ]; then ns=$NS_PRI; else ns=$NS_SEC; fi
    # shellcheck disable=SC2046 # args_of gives zero or one word
    ip netns exec "$ns" "$(bin_of "$kind")" -4 -f -d -cf "$dir/$role.conf" -lf "$dir/$role.leases" \
        -pf "$dir/$role.pid" $(args_of "$kind") eth0 >"$dir/$role.log" 2>&1 </dev/null &
    SPAWNED=$!
    PIDS+=("$SPAWNED")
}

# watch_bg OUT SECONDS [--pidfile FILE] LABEL FILE REGEX ...: fo_tools.py watch in
# the background with the PIDs of the servers already running (P_PID, S_PID),
# its lines to OUT; returns once it is ready, so that nothing it is to time can
# happen before it looks. watch_collect OUT waits for it and sets T_<label>
# (ms) for each stamp, WATCH_ST 0 (all required seen), 1 (timed out), 2 (a
# server died: WATCH_DEAD its PID). watch: both in one.
watch_bg() {
    local out=$1 limit=$2 pids=() end
    shift 2
    [ -n "${P_PID:-}" ] && pids+=(--pid "$P_PID")
    [ -n "${S_PID:-}" ] && pids+=(--pid "$S_PID")
    python3 "$FO_TOOLS" watch "$limit" "${pids[@]+"${pids[@]}"}" "$@" >"$out" 2>&1 </dev/null &
    WATCH_PID=$!
    PIDS+=("$WATCH_PID")
    end=$(($(date +%s) + 20))
    until grep -q '^ready ' "$out" 2>/dev/null; do
        if ! alive "$WATCH_PID" || [ "$(date +%s)" -ge "$end" ]; then break; fi
        sleep 0.01
    done
}
# stall_args DIR: the watch's --stall words for a pair working in DIR.
stall_args() {
    local f
    echo --stall "$STALL_SECS"
    for f in primary.leases secondary.leases primary.log secondary.log; do echo --stall-file "$1/$f"; done
}
watch_collect() {
    local out=$1 label ns st=0
    wait "$WATCH_PID" || st=$?
    WATCH_ST=$st WATCH_DEAD=
    while read -r label ns; do
        case $label in
            ready) ;;
            dead) WATCH_DEAD=$ns ;;
            stalled) ;;
            [a-z]*_*) [ -n "$ns" ] && printf -v "T_$label" '%s' $((ns / 1000000)) ;;
            *) echo "# watch: $label $ns" ;;
        esac
    done <"$out"
}
watch() {
    local out=$1
    shift
    watch_bg "$out" "$@"
    watch_collect "$out"
}
# The stamps watch sets (shellcheck cannot see printf -v or ${!name}).
# shellcheck disable=SC2034
T_pri_ready='' T_sec_ready='' T_pri_done='' T_sec_done='' T_pri_normal='' T_sec_normal=''
RE_READY='Server starting service\.'
re_move() { echo "failover peer $FO_NAME: I move from [a-z-]+ to $1( |\$)"; }

# moves LOG: the states LOG says it moved to, one line, for diagnostics.
moves() {
    grep -E -o "failover peer $FO_NAME: I move from [a-z-]+ to [a-z-]+" "$1" 2>/dev/null |
        sed 's/.* to //' | tr '\n' ' ' | sed 's/ $//'
}
# tail_log LOG: its last lines, for the output.
tail_log() {
    echo "#   $(basename "$1") (states: $(moves "$1")):"
    tail -n 6 "$1" 2>/dev/null | cut -c1-200 | sed 's/^/#   | /'
}
# state_count LEASES STATE [RANGE]: how many addresses' last records are STATE.
state_count() {
    python3 "$FO_TOOLS" states "$1" ${3:+"$3"} | tr ' ' '\n' | sed -n "s/^$2=//p"
}
# stop_pair: SIGTERM to both at once, then wait for each (tandemd finishes its
# writes; ISC dies at once).
stop_pair() {
    local p
    for p in "${P_PID:-}" "${S_PID:-}"; do [ -n "$p" ] && alive "$p" && kill -TERM "$p" 2>/dev/null; done
    for p in "${P_PID:-}" "${S_PID:-}"; do [ -n "$p" ] && stop_pid "$p" 10; done
    P_PID='' S_PID=''
}

# ---- part 1: throughput of a pair in normal ------------------------------------
TPUT_FIRST=198.18.1.0
declare -A TP_RATE TP_DOS TP_DOR TP_DOD TP_RAS TP_RAR TP_RAD TP_DOLAT TP_RALAT TP_NORMAL TP_BAL \
    TP_ACKP TP_ACKS TP_CPUP TP_CPUS TP_RSSP TP_RSSS TP_ACTP TP_ACTS TP_BACKUP TP_EMPTY TP_NOTE
note_tp() { TP_NOTE[$1]="${TP_NOTE[$1]:+${TP_NOTE[$1]}; }$2"; echo "# $1: $2"; }

# wait_quiet FILE... LIMIT: until none of the files has changed size for
# QUIET_SECS, at most LIMIT s; 0 quiet, 1 not.
wait_quiet() {
    local limit=${*: -1} files=("${@:1:$#-1}") end prev cur stable=0
    end=$(($(date +%s) + limit))
    prev=$(stat -c %s "${files[@]}" 2>/dev/null | tr '\n' ' ')
    while [ "$(date +%s)" -lt "$end" ]; do
        sleep 0.5
        cur=$(stat -c %s "${files[@]}" 2>/dev/null | tr '\n' ' ')
        if [ "$cur" = "$prev" ]; then
            stable=$((stable + 1))
            [ "$stable" -ge $((QUIET_SECS * 2)) ] && return 0
        else
            stable=0
        fi
        prev=$cur
    done
    return 1
}

# acks_after LOG LINE: DHCPACK lines after line LINE of LOG (both servers log
# "DHCPACK on ADDR to MAC via RELAY").
acks_after() { tail -n +"$(($2 + 1))" "$1" 2>/dev/null | grep -c '^DHCPACK on '; }

throughput() {
    local pair=$1 muu=$2 round=$3 key="$1|$2|$3" dir t0 cpu0p cpu0s markp marks st perf_pid line why
    local pk sk
    pk=$(pri_kind "$pair") sk=$(sec_kind "$pair")
    dir=$WORK/tput-$pair-m$muu-$round
    mkdir -p "$dir"
    echo "# throughput $pair (max-unacked-updates $muu, round $round): starting"
    why=$(pair_missing "$pair")
    if [ -n "$why" ]; then note_tp "$key" "not run: $why"; return; fi
    write_confs "$dir" "$TPUT_FIRST" "$(last_addr "$TPUT_FIRST" "$POOL")" "$muu"
    : >"$dir/primary.leases"
    : >"$dir/secondary.leases"
    if [ "$FROM" = normal ]; then
        # What a pair stopped in normal has written last (dhcpd.leases(5)): the
        # state block, the learned mclt in the secondary's only.
        local at
        at=$(date -u -d @$(($(date +%s) - 60)) '+%w %Y/%m/%d %H:%M:%S')
        printf '\nfailover peer "%s" state {\n  my state normal at %s;\n  partner state normal at %s;\n}\n' \
            "$FO_NAME" "$at" "$at" >"$dir/primary.leases"
        printf '\nfailover peer "%s" state {\n  my state normal at %s;\n  partner state normal at %s;\n  mclt %s;\n}\n' \
            "$FO_NAME" "$at" "$at" "$MCLT" >"$dir/secondary.leases"
    fi
    P_PID='' S_PID=''
    t0=$(now_ms)
    start primary "$pk" "$dir"; P_PID=$SPAWNED
    watch "$dir/watch-primary.txt" "$READY_SECS" pri_ready "$dir/primary.log" "$RE_READY"
    start secondary "$sk" "$dir"; S_PID=$SPAWNED
    unset T_pri_normal T_sec_normal
    # shellcheck disable=SC2046 # stall_args gives words without blanks
    watch "$dir/watch-pair.txt" "$READY_SECS" $(stall_args "$dir") pri_normal "$dir/primary.log" "$(re_move normal)" \
        sec_normal "$dir/secondary.log" "$(re_move normal)"
    if [ "$WATCH_ST" != 0 ]; then
        case $WATCH_ST in
            2) note_tp "$key" "a server exited before normal (pid $WATCH_DEAD)" ;;
            3) note_tp "$key" "not both in normal, stuck: no lease file or log changed for $STALL_SECS s" ;;
            *) note_tp "$key" "not both in normal within $READY_SECS s" ;;
        esac
        tail_log "$dir/primary.log"
        tail_log "$dir/secondary.log"
        stop_pair
        return
    fi
    TP_NORMAL[$key]=$(($(max "$T_pri_normal" "$T_sec_normal") - t0))
    # The primary's pool balance (half the free leases to BACKUP, failover-protocol
    # (g)) streams to the secondary after normal; the secondary has nothing to
    # offer until its BACKUP leases are there.
    if ! wait_quiet "$dir/primary.leases" "$dir/secondary.leases" "$READY_SECS"; then
        note_tp "$key" "lease files still changing after $READY_SECS s"
    fi
    TP_BAL[$key]=$(($(now_ms) - t0))
    TP_BACKUP[$key]=$(state_count "$dir/secondary.leases" backup)
    echo "# throughput $pair: both normal after $(secs "${TP_NORMAL[$key]}") s, lease files quiet after $(secs "${TP_BAL[$key]}") s; secondary has ${TP_BACKUP[$key]:-0} BACKUP leases"
    sleep 1
    if ! alive "$P_PID" || ! alive "$S_PID"; then
        note_tp "$key" "a server exited after normal"
        tail_log "$dir/primary.log"; tail_log "$dir/secondary.log"
        stop_pair
        return
    fi
    markp=$(wc -l <"$dir/primary.log") marks=$(wc -l <"$dir/secondary.log")
    cpu0p=$(cpu_secs "$P_PID") cpu0s=$(cpu_secs "$S_PID")
    local cap_pid=
    if [ "$CAPTURE" = 1 ] && command -v tcpdump >/dev/null 2>&1; then
        ip netns exec "$NS_CLI" tcpdump -i eth0 -n -U -s 400 -Z root -w "$dir/cli.pcap" 'udp port 67' \
            >"$dir/tcpdump.log" 2>&1 </dev/null &
        cap_pid=$!
        PIDS+=("$cap_pid")
        sleep 1
    fi
    echo "# throughput $pair: perfdhcp -r $RATE -R $CLIENTS -p $SECS"
    timeout -k 5 $((SECS + 60)) ip netns exec "$NS_CLI" perfdhcp -4 -l eth0 -r "$RATE" -R "$CLIENTS" \
        -p "$SECS" -d 2 -s "$SEED" -b "mac=$MAC_BASE" >"$dir/perfdhcp.txt" 2>&1 </dev/null &
    perf_pid=$!
    PIDS+=("$perf_pid")
    st=0
    wait "$perf_pid" || st=$?
    [ -n "$cap_pid" ] && { sleep 0.5; stop_pid "$cap_pid" 3; }
    alive "$P_PID" || note_tp "$key" "the primary died during the run"
    alive "$S_PID" || note_tp "$key" "the secondary died during the run"
    TP_RSSP[$key]=$(rss_kb "$P_PID") TP_RSSS[$key]=$(rss_kb "$S_PID")
    TP_CPUP[$key]=$(sub "$(cpu_secs "$P_PID")" "$cpu0p") TP_CPUS[$key]=$(sub "$(cpu_secs "$S_PID")" "$cpu0s")
    # Did either leave normal during the run?
    for f in primary secondary; do
        line=$(tail -n +"$(($([ $f = primary ] && echo "$markp" || echo "$marks") + 1))" "$dir/$f.log" |
            grep -E -o "I move from normal to [a-z-]+" | head -n1)
        [ -n "$line" ] && note_tp "$key" "$f: $line during the run"
    done
    TP_ACKP[$key]=$(acks_after "$dir/primary.log" "$markp")
    TP_ACKS[$key]=$(acks_after "$dir/secondary.log" "$marks")
    stop_pair
    TP_ACTP[$key]=$(state_count "$dir/primary.leases" active_current)
    TP_ACTS[$key]=$(state_count "$dir/secondary.leases" active_current)
    # perfdhcp: 0 all exchanges done, 3 some were not; anything else is a failure.
    if [ "$st" -ne 0 ] && [ "$st" -ne 3 ]; then
        note_tp "$key" "perfdhcp failed (status $st)"
        tail -n 5 "$dir/perfdhcp.txt" | sed 's/^/#   | /'
        return
    fi
    line=$(perfdhcp_summary "$dir/perfdhcp.txt")
    # A 0-byte datagram to perfdhcp's port counts as a drop; say how many came.
    TP_EMPTY[$key]=$(grep -c 'Truncated DHCPv4 packet (len=0)' "$dir/perfdhcp.txt")
    [ "${TP_EMPTY[$key]}" -gt 0 ] && note_tp "$key" "perfdhcp received ${TP_EMPTY[$key]} empty (0-byte) replies"
    read -r "TP_RATE[$key]" "TP_DOS[$key]" "TP_DOR[$key]" "TP_DOD[$key]" "TP_RAS[$key]" "TP_RAR[$key]" \
        "TP_RAD[$key]" "TP_DOLAT[$key]" "TP_RALAT[$key]" <<<"$line"
    echo "# throughput $pair: ${TP_RATE[$key]} DORA/s (ACKs logged: primary ${TP_ACKP[$key]}, secondary ${TP_ACKS[$key]})"
}
max() { if [ "$1" -gt "$2" ]; then echo "$1"; else echo "$2"; fi; }

# ---- part 2: recovery, the primary streams N bindings -------------------------
declare -A RC_MS RC_PSTART RC_SREADY RC_PDONE RC_SDONE RC_PNORM RC_SNORM RC_ACTS RC_ACTP RC_NOTE
note_rc() { RC_NOTE[$1]="${RC_NOTE[$1]:+${RC_NOTE[$1]}; }$2"; echo "# $1: $2"; }
REC_FIRST=198.18.1.0

recovery() {
    local pair=$1 n=$2 muu=$3 round=$4 key="$1|$2|$3|$4" dir last t0 ts pk sk why
    pk=$(pri_kind "$pair") sk=$(sec_kind "$pair")
    dir=$WORK/rec-$pair-$n-m$muu-$round
    mkdir -p "$dir"
    echo "# recovery $pair ($n bindings, max-unacked-updates $muu, round $round): starting"
    why=$(pair_missing "$pair")
    if [ -n "$why" ]; then note_rc "$key" "not run: $why"; return; fi
    last=$(last_addr "$REC_FIRST" "$n")
    write_confs "$dir" "$REC_FIRST" "$last" "$muu"
    cp "$WORK/gen-$n.leases" "$dir/primary.leases"
    : >"$dir/secondary.leases"
    P_PID='' S_PID=''
    ts=$(now_ms)
    start primary "$pk" "$dir"; P_PID=$SPAWNED
    unset T_pri_ready
    watch "$dir/watch-primary.txt" "$STARTUP_LIMIT" pri_ready "$dir/primary.log" "$RE_READY"
    if [ "$WATCH_ST" != 0 ]; then
        if [ "$WATCH_ST" = 2 ]; then note_rc "$key" "the primary exited before it was ready"
        else note_rc "$key" "the primary was not ready within $STARTUP_LIMIT s"; fi
        tail_log "$dir/primary.log"
        stop_pair
        return
    fi
    RC_PSTART[$key]=$((T_pri_ready - ts))
    # The primary is in startup (or recover): it waits for its peer. The clock
    # starts with the secondary.
    unset T_sec_ready T_pri_done T_sec_done T_pri_normal T_sec_normal
    # The watch is running before the secondary starts: a fast pair is done
    # in less time than Python takes to start.
    # shellcheck disable=SC2046 # stall_args gives words without blanks
    watch_bg "$dir/watch-recovery.txt" "$RECOVERY_LIMIT" $(stall_args "$dir") --pidfile "$dir/secondary.spawned" \
        '?sec_ready' "$dir/secondary.log" "$RE_READY" \
        '?pri_done' "$dir/primary.log" "$(re_move recover-done)" '?sec_done' "$dir/secondary.log" "$(re_move recover-done)" \
        pri_normal "$dir/primary.log" "$(re_move normal)" sec_normal "$dir/secondary.log" "$(re_move normal)"
    t0=$(now_ms)
    start secondary "$sk" "$dir"; S_PID=$SPAWNED
    echo "$S_PID" >"$dir/secondary.spawned"
    watch_collect "$dir/watch-recovery.txt"
    local v
    for v in sec_ready:RC_SREADY pri_done:RC_PDONE sec_done:RC_SDONE pri_normal:RC_PNORM sec_normal:RC_SNORM; do
        local tv="T_${v%%:*}"
        if [ -n "${!tv:-}" ]; then
            declare -n arr=${v#*:}
            # shellcheck disable=SC2004 # arr is an associative array (a nameref)
            arr[$key]=$((${!tv} - t0))
            unset -n arr
        fi
    done
    if [ "$WATCH_ST" = 0 ]; then
        RC_MS[$key]=$(($(max "$T_pri_normal" "$T_sec_normal") - t0))
        echo "# recovery $pair: both normal $(secs "${RC_MS[$key]}") s after the secondary's start"
    else
        case $WATCH_ST in
            2) note_rc "$key" "a server exited (pid $WATCH_DEAD) before both were normal" ;;
            3) note_rc "$key" "not both in normal, stuck: no lease file or log changed for $STALL_SECS s" ;;
            *) note_rc "$key" "not both in normal within $RECOVERY_LIMIT s" ;;
        esac
        tail_log "$dir/primary.log"
        tail_log "$dir/secondary.log"
    fi
    stop_pair
    # Every binding the primary had must be in the secondary's file, active.
    RC_ACTS[$key]=$(state_count "$dir/secondary.leases" active_current "$REC_FIRST-$last")
    RC_ACTP[$key]=$(state_count "$dir/primary.leases" active_current "$REC_FIRST-$last")
    : "${RC_ACTS[$key]:=0}" "${RC_ACTP[$key]:=0}"
    if [ "${RC_ACTS[$key]}" != "$n" ]; then
        note_rc "$key" "the secondary's lease file holds ${RC_ACTS[$key]} active bindings of $n ($(python3 "$FO_TOOLS" states "$dir/secondary.leases" "$REC_FIRST-$last"))"
    fi
}

# ---- run ----------------------------------------------------------------------
T_START=$(date +%s)
echo "# tandem failover bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -r)"
echo "# work dir $WORK (file system: $WORK_FS)"
[ "$WORK_FS" = tmpfs ] && echo "# WARNING: the work dir is a tmpfs: lease files are not on disk (set TMPDIR)"
echo "# ISC: $("$ISC" --version 2>&1 | head -n1); tandemd: $TANDEMD"
echo "# throughput pairs start from $FROM lease files"
echo "# pair: mclt $MCLT, max-response-delay $MRD, split 128, load balance max seconds 3, max-unacked-updates ${MUU_LIST[*]}"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "# load average before: $LOAD_BEFORE"

# Rounds interleave the pairs, so that a change in the machine's load hits all
# of them alike; the median round of each is shown.
if [ "${#TPUT_PAIRS[@]}" -gt 0 ]; then
    for ((round = 1; round <= ROUNDS; round++)); do
        for muu in "${MUU_LIST[@]}"; do
            for p in "${TPUT_PAIRS[@]}"; do throughput "$p" "$muu" "$round"; sleep 1; done
        done
    done
fi
LOAD_MID=$(cut -d' ' -f1-3 /proc/loadavg)
T_MID=$(date +%s)
if [ "${#REC_PAIRS[@]}" -gt 0 ]; then
    for n in "${NS_BIND[@]}"; do
        echo "# generating $n active bindings (failover leases, no state block)"
        python3 "$HERE/gen_leases.py" --count "$n" --first "$REC_FIRST" --lease-time 604800 \
            --failover "$MCLT" --out "$WORK/gen-$n.leases" || exit 1
    done
    for ((round = 1; round <= ROUNDS; round++)); do
        for n in "${NS_BIND[@]}"; do
            for muu in "${MUU_LIST[@]}"; do
                for p in "${REC_PAIRS[@]}"; do recovery "$p" "$n" "$muu" "$round"; sleep 1; done
            done
        done
    done
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# median_key ARRAY PREFIX: the key PREFIX|round of the median round by ARRAY's
# value (the lower of the two middle ones for an even count), or of the last
# round when none has a value.
median_key() {
    local -n a=$1
    local prefix=$2 r keys=()
    for ((r = 1; r <= ROUNDS; r++)); do
        [ -n "${a[$prefix|$r]:-}" ] && keys+=("${a[$prefix|$r]} $prefix|$r")
    done
    if [ "${#keys[@]}" -eq 0 ]; then echo "$prefix|$ROUNDS"; return; fi
    printf '%s\n' "${keys[@]}" | sort -g | sed -n "$(((${#keys[@]} + 1) / 2))p" | cut -d' ' -f2
}
all_rounds() {
    local -n a=$1
    local prefix=$2 r out=
    for ((r = 1; r <= ROUNDS; r++)); do out="$out ${a[$prefix|$r]:--}"; done
    echo "${out# }"
}
# ok_rounds ARRAY PREFIX: how many rounds have a value.
ok_rounds() {
    local -n a=$1
    local r c=0
    for ((r = 1; r <= ROUNDS; r++)); do [ -n "${a[$2|$r]:-}" ] && c=$((c + 1)); done
    echo "$c"
}
# all_notes ARRAY: every round's note (a failure or something seen), by key.
all_notes() {
    local -n a=$1
    local k
    [ -n "${a[*]+x}" ] || return 0  # (${#a[@]} of an empty array through a nameref trips set -u)
    echo "Notes (pair|[bindings|]max-unacked|round):"
    for k in "${!a[@]}"; do printf '  %s: %s\n' "$k" "${a[$k]}"; done | sort
}
in_list() {
    local w=$1 x
    shift
    for x in "$@"; do [ "$x" = "$w" ] && return 0; done
    return 1
}
label() {
    case $1 in
        isc) echo "ISC+ISC" ;; tandem) echo "Tandem+Tandem" ;;
        tandem-isc) echo "Tandem+ISC" ;; isc-tandem) echo "ISC+Tandem" ;;
    esac
}

if [ "${#TPUT_PAIRS[@]}" -gt 0 ]; then
    echo
    echo "Pair throughput: perfdhcp -r $RATE -R $CLIENTS -p $SECS against a pair in normal (split 128, $POOL addresses,"
    echo "started from $FROM lease files), $ROUNDS round(s)"
    printf '%-14s %4s %5s %9s  %-26s %-26s %-13s %-11s %-11s %-13s %s\n' pair muu ok DORA/s "DISCOVER sent/recv (drop)" \
        "REQUEST sent/recv (drop)" "ACKs pri/sec" "CPU s p/s" "RSS MiB p/s" "active p/s" "normal/quiet s"
    for muu in "${MUU_LIST[@]}"; do
        for p in "${TPUT_PAIRS[@]}"; do
            k=$(median_key TP_RATE "$p|$muu")
            if [ -z "${TP_RATE[$k]:-}" ]; then
                printf '%-14s %4s %5s %9s  %s\n' "$(label "$p")" "$muu" "0/$ROUNDS" - "${TP_NOTE[$k]:-no result}"
                continue
            fi
            printf '%-14s %4s %5s %9.0f  %-26s %-26s %-13s %-11s %-11s %-13s %s\n' "$(label "$p")" "$muu" \
                "$(ok_rounds TP_RATE "$p|$muu")/$ROUNDS" "${TP_RATE[$k]}" \
                "${TP_DOS[$k]}/${TP_DOR[$k]} ($(pct "${TP_DOD[$k]}" "${TP_DOS[$k]}"))" \
                "${TP_RAS[$k]}/${TP_RAR[$k]} ($(pct "${TP_RAD[$k]}" "${TP_RAS[$k]}"))" \
                "${TP_ACKP[$k]}/${TP_ACKS[$k]}" "${TP_CPUP[$k]}/${TP_CPUS[$k]}" \
                "$(mib "${TP_RSSP[$k]}")/$(mib "${TP_RSSS[$k]}")" "${TP_ACTP[$k]:--}/${TP_ACTS[$k]:--}" \
                "$(secs "${TP_NORMAL[$k]}")/$(secs "${TP_BAL[$k]}")"
        done
    done
    all_notes TP_NOTE
    echo
    echo "Latency (ms, min/avg/max, perfdhcp), median rounds:"
    for muu in "${MUU_LIST[@]}"; do
        for p in "${TPUT_PAIRS[@]}"; do
            k=$(median_key TP_RATE "$p|$muu")
            [ -n "${TP_RATE[$k]:-}" ] || continue
            printf '  %-14s muu %-4s DISCOVER->OFFER %-24s REQUEST->ACK %s\n' "$(label "$p")" "$muu" "${TP_DOLAT[$k]}" "${TP_RALAT[$k]}"
        done
    done
    if [ "$ROUNDS" -gt 1 ]; then
        echo
        echo "DORA/s of each round:"
        for muu in "${MUU_LIST[@]}"; do
            for p in "${TPUT_PAIRS[@]}"; do printf '  %-14s muu %-4s %s\n' "$(label "$p")" "$muu" "$(all_rounds TP_RATE "$p|$muu")"; done
        done
    fi
    if in_list isc "${TPUT_PAIRS[@]}" && in_list tandem "${TPUT_PAIRS[@]}"; then
        echo
        for muu in "${MUU_LIST[@]}"; do
            kt=$(median_key TP_RATE "tandem|$muu") ki=$(median_key TP_RATE "isc|$muu")
            echo "Tandem pair / ISC pair, DORA/s (muu $muu): $(ratio "${TP_RATE[$kt]:-}" "${TP_RATE[$ki]:-}") (target: at least 8)"
        done
    fi
fi

if [ "${#REC_PAIRS[@]}" -gt 0 ]; then
    echo
    echo "Recovery: secondary started on an empty lease file, the primary on N active bindings and no"
    echo "failover state (both in recover, no MCLT wait); time from the secondary's start, $ROUNDS round(s)"
    printf '%-14s %8s %4s %5s %9s %10s %-17s %-19s %-17s %s\n' pair bindings muu ok "normal s" "bindings/s" \
        "sec active/N" "recover-done p/s s" "normal p/s s" "primary start s"
    for n in "${NS_BIND[@]}"; do
        for muu in "${MUU_LIST[@]}"; do
            for p in "${REC_PAIRS[@]}"; do
                k=$(median_key RC_MS "$p|$n|$muu")
                if [ -n "${RC_MS[$k]:-}" ]; then
                    printf '%-14s %8s %4s %5s %9s %10s %-17s %-19s %-17s %s\n' "$(label "$p")" "$n" "$muu" \
                        "$(ok_rounds RC_MS "$p|$n|$muu")/$ROUNDS" \
                        "$(secs "${RC_MS[$k]}")" "$(awk -v n="$n" -v m="${RC_MS[$k]}" 'BEGIN {printf "%.0f", n * 1000 / (m > 0 ? m : 1)}')" \
                        "${RC_ACTS[$k]}/$n" "$(secs "${RC_PDONE[$k]:-}")/$(secs "${RC_SDONE[$k]:-}")" \
                        "$(secs "${RC_PNORM[$k]:-}")/$(secs "${RC_SNORM[$k]:-}")" "$(secs "${RC_PSTART[$k]:-}")"
                else
                    printf '%-14s %8s %4s %5s %9s %10s %-17s %s\n' "$(label "$p")" "$n" "$muu" "0/$ROUNDS" - - \
                        "${RC_ACTS[$k]:--}/$n" "see the notes"
                fi
            done
        done
    done
    all_notes RC_NOTE
    if [ "$ROUNDS" -gt 1 ]; then
        echo
        echo "Recovery ms of each round:"
        for n in "${NS_BIND[@]}"; do
            for muu in "${MUU_LIST[@]}"; do
                for p in "${REC_PAIRS[@]}"; do printf '  %-14s %7s muu %-4s %s\n' "$(label "$p")" "$n" "$muu" "$(all_rounds RC_MS "$p|$n|$muu")"; done
            done
        done
    fi
    if in_list isc "${REC_PAIRS[@]}" && in_list tandem "${REC_PAIRS[@]}"; then
        echo
        for n in "${NS_BIND[@]}"; do
            for muu in "${MUU_LIST[@]}"; do
                kt=$(median_key RC_MS "tandem|$n|$muu") ki=$(median_key RC_MS "isc|$n|$muu")
                echo "ISC pair time / Tandem pair time, $n bindings, muu $muu: $(ratio "${RC_MS[$ki]:-}" "${RC_MS[$kt]:-}") (target: at least 10)"
            done
        done
    fi
    if [ "${#MUU_LIST[@]}" -gt 1 ]; then
        echo
        echo "max-unacked-updates: time with ${MUU_LIST[0]} / time with each other value:"
        for n in "${NS_BIND[@]}"; do
            for p in "${REC_PAIRS[@]}"; do
                k0=$(median_key RC_MS "$p|$n|${MUU_LIST[0]}")
                line=
                for muu in "${MUU_LIST[@]:1}"; do
                    k=$(median_key RC_MS "$p|$n|$muu")
                    line="$line  muu $muu: $(ratio "${RC_MS[$k0]:-}" "${RC_MS[$k]:-}")"
                done
                printf '  %-14s %7s%s\n' "$(label "$p")" "$n" "$line"
            done
        done
    fi
fi
echo
echo "# load average: before $LOAD_BEFORE, after the throughput part $LOAD_MID, at the end $LOAD_AFTER (2 CPUs shared)"
echo "# total time: $(($(date +%s) - T_START)) s (throughput part $((T_MID - T_START)) s)"

if [ -n "$OUT" ]; then
    {
        printf 'part\tpair\tbindings\tmax_unacked\tround\tdora_per_s\tdo_sent\tdo_recv\tdo_drops\tra_sent\tra_recv\tra_drops\tdo_lat_ms\tra_lat_ms\tacks_pri\tacks_sec\tcpu_pri_s\tcpu_sec_s\trss_pri_kb\trss_sec_kb\tnormal_ms\tquiet_ms\tsec_backup\tactive_pri\tactive_sec\trecovery_ms\tpri_start_ms\tsec_ready_ms\tpri_done_ms\tsec_done_ms\tpri_normal_ms\tsec_normal_ms\tempty_replies\tnote\n'
        for ((round = 1; round <= ROUNDS; round++)); do
            for muu in "${MUU_LIST[@]}"; do
                for p in "${TPUT_PAIRS[@]+"${TPUT_PAIRS[@]}"}"; do
                    k="$p|$muu|$round"
                    printf 'throughput\t%s\t\t%s\t%s' "$p" "$muu" "$round"
                    for a in TP_RATE TP_DOS TP_DOR TP_DOD TP_RAS TP_RAR TP_RAD TP_DOLAT TP_RALAT TP_ACKP TP_ACKS \
                        TP_CPUP TP_CPUS TP_RSSP TP_RSSS TP_NORMAL TP_BAL TP_BACKUP TP_ACTP TP_ACTS; do
                        # shellcheck disable=SC2178 # a nameref to an associative array
                        declare -n arr=$a; printf '\t%s' "${arr[$k]:-}"; unset -n arr
                    done
                    printf '\t\t\t\t\t\t\t\t%s\t%s\n' "${TP_EMPTY[$k]:-}" "${TP_NOTE[$k]:-}"
                done
            done
            for n in "${NS_BIND[@]}"; do
                for muu in "${MUU_LIST[@]}"; do
                    for p in "${REC_PAIRS[@]+"${REC_PAIRS[@]}"}"; do
                        k="$p|$n|$muu|$round"
                        printf 'recovery\t%s\t%s\t%s\t%s' "$p" "$n" "$muu" "$round"
                        printf '\t%.0s' $(seq 19)
                        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\t%s\n' "${RC_ACTP[$k]:-}" "${RC_ACTS[$k]:-}" \
                            "${RC_MS[$k]:-}" "${RC_PSTART[$k]:-}" "${RC_SREADY[$k]:-}" "${RC_PDONE[$k]:-}" \
                            "${RC_SDONE[$k]:-}" "${RC_PNORM[$k]:-}" "${RC_SNORM[$k]:-}" "${RC_NOTE[$k]:-}"
                    done
                done
            done
        done
    } >"$OUT"
    echo "# results written to $OUT"
fi
exit 0
