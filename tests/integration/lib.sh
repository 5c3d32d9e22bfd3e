# shellcheck shell=bash
# The integration-test library: network-namespace topologies, processes inside
# them, bounded waits, and TAP output. Sourced by every tests/integration/*.sh.
#
# It must not touch the host's interfaces: every link is a veth pair created
# inside namespaces of this run (named td<pid>-*), and every address lives there.
# It must not wait without a deadline, and it must leave nothing behind: one EXIT
# trap stops the processes it started, deletes the namespaces and the work dir,
# also after a failure, an early exit or Ctrl-C.
#
# Environment read here:
#   SERVER        the DHCP server under test (default /usr/sbin/dhcpd); it must
#                 accept ISC's `-4 -d -cf F -lf L -pf P IFACE` command line
#   SERVER_KIND   isc or tandem (default: guessed from `SERVER --version`)
#   SERVER_ARGS   extra words for the server's command line (word-split), for
#                 flags only one of the two servers has
#   CI            under CI=true a missing tool fails its cases instead of skipping
#   TD_KEEP       1: keep the work dir (logs, lease files, captures) and print it
#   TD_START_SECS how long a server may take to log "Server starting service." (20)
#   TD_STOP_SECS  how long a server may take to stop after SIGTERM (10)
#
# Public functions (td_ prefix): TAP (td_plan td_ok td_fail td_check td_skip
# td_missing td_diag td_diag_file td_require td_have), topology (td_netns
# td_bridge td_link td_addr td_exec td_ns), processes (td_spawn td_pid td_log
# td_running td_wait_log td_wait_count td_wait_exit td_stop td_kill9),
# server (td_server_start td_server_stop td_server_test_leases td_lease) and, from clients.sh, the
# client wrappers.

set -u
export LC_ALL=C

TD_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TD_TEST_NAME=$(basename "$0" .sh)
TD_RUN_ID=${TD_RUN_ID:-$$} # run.sh gives each test its own
TD_PREFIX="td${TD_RUN_ID}-"
TD_WORK=$(mktemp -d "${TMPDIR:-/tmp}/tandem-it-${TD_TEST_NAME}.XXXXXX") || {
    echo "1..0 # SKIP cannot create a work dir"
    exit 1
}
chmod 755 "$TD_WORK"

SERVER=${SERVER:-/usr/sbin/dhcpd}
case $SERVER in */*) ;; *) SERVER=$(command -v "$SERVER" || echo "$SERVER") ;; esac
SERVER_ARGS=${SERVER_ARGS:-}
TD_START_SECS=${TD_START_SECS:-20}
CI=${CI:-}

TD_PLANNED=0     # the plan, once printed
TD_N=0           # cases reported so far
TD_FAILED=0
TD_NETNS=()      # namespaces of this run, in creation order
TD_PIDS=()       # every process started, stopped at exit
TD_CLEANUP_FILES=()
TD_START_ERROR=''  # why td_server_start failed
export TD_START_ERROR
TD_PORTS=0       # veth ports made in the bridge namespace
declare -A TD_PID=() TD_LOG=()

# ---- TAP -------------------------------------------------------------------

td_plan() {
    TD_PLANNED=$1
    echo "1..$1"
}

td_ok() {
    TD_N=$((TD_N + 1))
    echo "ok $TD_N - $1"
}

# td_fail DESC [DIAGNOSTIC-LINE...]
td_fail() {
    local d=$1
    shift
    TD_N=$((TD_N + 1))
    TD_FAILED=$((TD_FAILED + 1))
    echo "not ok $TD_N - $d"
    local l
    for l in "$@"; do printf '#   %s\n' "$l"; done
}

td_skip() {
    TD_N=$((TD_N + 1))
    echo "ok $TD_N - $1 # SKIP $2"
}

# A case that cannot run for want of a tool: a failure under CI=true.
td_missing() {
    if [ "$CI" = true ]; then
        td_fail "$1" "missing: $2 (CI=true: a missing tool is a failure)"
    else
        td_skip "$1" "missing: $2"
    fi
}

td_diag() {
    local l
    for l in "$@"; do printf '# %s\n' "$l"; done
}

# td_diag_file FILE [LINES]: the file's last lines as TAP comments.
td_diag_file() {
    if [ -s "$1" ]; then
        printf '#   --- last lines of %s\n' "${1#"$TD_WORK"/}"
        tail -n "${2:-15}" "$1" | cut -c1-240 | sed 's/^/#   | /'
    else
        printf '#   --- %s is empty or missing\n' "${1#"$TD_WORK"/}"
    fi
}

# td_check DESC COMMAND...: one case, ok when COMMAND succeeds; its output is
# the diagnostic otherwise.
td_check() {
    local d=$1 out
    shift
    if out=$("$@" 2>&1); then
        td_ok "$d"
    else
        local lines=()
        mapfile -t lines < <(printf '%s\n' "$out" | tail -n 20)
        td_fail "$d" "${lines[@]}"
    fi
}

# td_have TOOL...: true when every tool is on PATH; else TD_MISSING names them.
td_have() {
    local t
    TD_MISSING=
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || TD_MISSING="$TD_MISSING $t"
    done
    TD_MISSING=${TD_MISSING# }
    [ -z "$TD_MISSING" ]
}

# td_require TOOL...: the whole script needs these (and root). If one is missing,
# every planned case is reported skipped (failed under CI=true) and the script ends.
td_require() {
    local why=
    [ "$(id -u)" -eq 0 ] || why="root (network namespaces)"
    if ! td_have "$@"; then
        why="${why:+$why, }$TD_MISSING"
    fi
    [ -x "$SERVER" ] || why="${why:+$why, }SERVER=$SERVER (not an executable)"
    [ -z "$why" ] && return 0
    if [ "$TD_PLANNED" -eq 0 ]; then
        if [ "$CI" = true ]; then
            td_plan 1
            td_fail "$TD_TEST_NAME: requirements" "missing: $why (CI=true: a missing tool is a failure)"
        else
            echo "1..0 # SKIP missing: $why"
        fi
    else
        while [ "$TD_N" -lt "$TD_PLANNED" ]; do td_missing "$TD_TEST_NAME: not run" "$why"; done
    fi
    exit 0
}

# The cases a script planned but never reached (it ended early) are failures.
td_finish_plan() {
    if [ "$TD_PLANNED" -gt 0 ] && [ "$TD_N" -lt "$TD_PLANNED" ]; then
        echo "# $TD_TEST_NAME ended after $TD_N of $TD_PLANNED cases"
        while [ "$TD_N" -lt "$TD_PLANNED" ]; do td_fail "not run: the script ended early"; done
    fi
}

# ---- processes -------------------------------------------------------------

# True while PID is alive and not a zombie (a child not yet reaped).
td_running() {
    local s
    [ -n "${1:-}" ] || return 1
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    [ "${s%% *}" != Z ]
}

# td_spawn NAME NS COMMAND...: start COMMAND in namespace NS (a short name given
# to td_netns), stdout and stderr to $TD_WORK/NAME.log. Sets TD_PID[NAME].
td_spawn() {
    local name=$1 ns=$2
    shift 2
    TD_LOG[$name]=$TD_WORK/$name.log
    # `ip netns exec` execs the command, so $! is the command's own PID.
    ip netns exec "$(td_ns "$ns")" "$@" >>"${TD_LOG[$name]}" 2>&1 </dev/null &
    TD_PID[$name]=$!
    TD_PIDS+=("$!")
}

# td_bounded SECONDS COMMAND...: run COMMAND under `timeout -k 5` and return its
# status. It runs as a job that the shell waits for with `wait`, which a signal
# interrupts: Ctrl-C or the runner's SIGTERM reach the cleanup at once instead
# of after the command.
td_bounded() {
    local secs=$1 pid st=0
    shift
    timeout -k 5 "$secs" "$@" &
    pid=$!
    TD_PIDS+=("$pid")
    wait "$pid" || st=$?
    return "$st"
}

td_pid() { echo "${TD_PID[$1]:-}"; }
td_log() { echo "${TD_LOG[$1]:-$TD_WORK/$1.log}"; }

# td_adopt NAME PID: stop PID at exit too (a daemon that forked, from its pidfile).
td_adopt() {
    TD_PID[$1]=$2
    TD_PIDS+=("$2")
}

# td_wait_log FILE REGEX SECONDS [PID]: wait until an extended regex matches a
# line of FILE. Status 0 found, 1 timed out, 2 PID died first.
td_wait_log() {
    local file=$1 re=$2 secs=$3 pid=${4:-} end
    end=$(($(date +%s%N) + secs * 1000000000))
    while :; do
        grep -E -q -- "$re" "$file" 2>/dev/null && return 0
        if [ -n "$pid" ] && ! td_running "$pid"; then
            grep -E -q -- "$re" "$file" 2>/dev/null && return 0
            return 2
        fi
        [ "$(date +%s%N)" -lt "$end" ] || return 1
        sleep 0.1
    done
}

# td_count FILE REGEX: lines of FILE that match.
td_count() {
    local n
    n=$(grep -E -c -- "$2" "$1" 2>/dev/null) || true
    echo "${n:-0}"
}

# td_wait_count FILE REGEX N SECONDS: wait until N lines match. Status 0 or 1.
td_wait_count() {
    local end
    end=$(($(date +%s%N) + $4 * 1000000000))
    while [ "$(td_count "$1" "$2")" -lt "$3" ]; do
        [ "$(date +%s%N)" -lt "$end" ] || return 1
        sleep 0.1
    done
}

# td_wait_exit NAME|PID SECONDS: wait for the process to end; its exit status is
# returned (124 if it is still running at the deadline).
td_wait_exit() {
    local pid=${TD_PID[$1]:-$1} end status=0
    end=$(($(date +%s%N) + $2 * 1000000000))
    while td_running "$pid"; do
        [ "$(date +%s%N)" -lt "$end" ] || return 124
        sleep 0.1
    done
    { wait "$pid"; } 2>/dev/null || status=$?
    [ "$status" -eq 127 ] && status=0 # not our child: its status is unknown
    return "$status"
}

# td_stop NAME|PID [GRACE]: SIGTERM, then SIGKILL after GRACE seconds (3).
td_stop() {
    local pid=${TD_PID[$1]:-$1} grace=${2:-3} end
    [ -n "$pid" ] || return 0
    # A disowned job dies without bash's "Terminated" notice on stderr.
    disown "$pid" 2>/dev/null
    if td_running "$pid"; then
        kill -TERM "$pid" 2>/dev/null
        end=$(($(date +%s%N) + grace * 1000000000))
        while td_running "$pid" && [ "$(date +%s%N)" -lt "$end" ]; do sleep 0.05; done
        td_running "$pid" && kill -KILL "$pid" 2>/dev/null
        end=$(($(date +%s%N) + 2000000000))
        while td_running "$pid" && [ "$(date +%s%N)" -lt "$end" ]; do sleep 0.05; done
    fi
    { wait "$pid"; } 2>/dev/null
    return 0
}

# td_kill9 NAME|PID: SIGKILL at once, and reap.
td_kill9() {
    local pid=${TD_PID[$1]:-$1} end
    disown "$pid" 2>/dev/null
    kill -KILL "$pid" 2>/dev/null
    end=$(($(date +%s%N) + 2000000000))
    while td_running "$pid" && [ "$(date +%s%N)" -lt "$end" ]; do sleep 0.02; done
    { wait "$pid"; } 2>/dev/null
    return 0
}

# ---- topology --------------------------------------------------------------

td_ns() { echo "${TD_PREFIX}$1"; }

td_exec() {
    local ns=$1
    shift
    ip netns exec "$(td_ns "$ns")" "$@"
}

# td_netns NAME: a namespace with lo up, IPv6 off, and ARP answered only on the
# interface that holds the address.
td_netns() {
    local ns
    ns=$(td_ns "$1")
    ip netns add "$ns" || return 1
    TD_NETNS+=("$ns")
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 \
        net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 >/dev/null
}

# td_bridge NAME: a Linux bridge in this run's bridge namespace ("br"), made on
# first use. No STP and no forwarding delay, so a port forwards at once.
td_bridge() {
    if [ ! -e "/run/netns/$(td_ns br)" ]; then
        td_netns br || return 1
    fi
    ip -n "$(td_ns br)" link add "$1" type bridge stp_state 0 forward_delay 0 mcast_snooping 0 &&
        ip -n "$(td_ns br)" link set "$1" up
}

# td_link NS IFNAME BRIDGE [MAC]: a veth from namespace NS (as IFNAME) into BRIDGE.
# Both ends are made inside namespaces: the host never sees them.
td_link() {
    local ns=$1 ifname=$2 br=$3 mac=${4:-} port
    TD_PORTS=$((TD_PORTS + 1))
    port=p$TD_PORTS
    ip -n "$(td_ns br)" link add "$port" type veth peer name "$ifname" netns "$(td_ns "$ns")" || return 1
    ip -n "$(td_ns br)" link set "$port" master "$br" up || return 1
    if [ -n "$mac" ]; then
        ip -n "$(td_ns "$ns")" link set "$ifname" address "$mac" || return 1
    fi
    ip -n "$(td_ns "$ns")" link set "$ifname" up
}

# td_addr NS IFNAME ADDR/PREFIX
td_addr() {
    ip -n "$(td_ns "$1")" addr add "$3" dev "$2"
}

# td_mac NS IFNAME: the interface's MAC address.
td_mac() {
    ip -n "$(td_ns "$1")" -o link show "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}

# td_ns_pids NS: what still runs in a namespace.
td_ns_pids() {
    ip netns pids "$(td_ns "$1")" 2>/dev/null
}

# ---- the server under test -------------------------------------------------

# isc or tandem: which server SERVER is. Lets a script say where they may differ.
td_server_kind() {
    if [ -n "${SERVER_KIND:-}" ]; then
        echo "$SERVER_KIND"
    elif "$SERVER" --version 2>&1 | grep -q 'isc-dhcpd'; then
        echo isc
    else
        echo tandem
    fi
}

# td_server_start NAME NS IFACE CONF LEASES [BINARY]: run the server in the
# foreground (-d) with its own pidfile, and wait for "Server starting service.".
# BINARY defaults to $SERVER. Status 1 (with the log as TAP comments in
# TD_START_ERROR) if it dies or is not ready in time.
td_server_start() {
    local name=$1 ns=$2 iface=$3 conf=$4 leases=$5 bin=${6:-$SERVER} st=0
    [ -e "$leases" ] || : >"$leases"
    # shellcheck disable=SC2086
    td_spawn "$name" "$ns" "$bin" -4 -d -cf "$conf" -lf "$leases" -pf "$TD_WORK/$name.pid" \
        $SERVER_ARGS "$iface"
    td_wait_log "$(td_log "$name")" 'Server starting service\.' "$TD_START_SECS" "$(td_pid "$name")" || st=$?
    TD_START_ERROR=
    case $st in
        0) return 0 ;;
        1) TD_START_ERROR="no 'Server starting service.' within $TD_START_SECS s" ;;
        *)
            st=0
            td_wait_exit "$name" 1 || st=$?
            TD_START_ERROR="the server exited (status $st) before it was ready"
            ;;
    esac
    return 1
}

# td_server_stop NAME: SIGTERM, SIGKILL after TD_STOP_SECS (10). ISC dies at
# once; a server that shuts down gently gets the time to finish its writes.
td_server_stop() {
    td_stop "$1" "${TD_STOP_SECS:-10}"
}

# td_server_test_leases CONF LEASES [BINARY]: `-T`, the server's own check of the
# configuration and the lease file. Run in no namespace: it opens no socket.
td_server_test_leases() {
    td_bounded 60 "${3:-$SERVER}" -4 -T -cf "$1" -lf "$2"
}

# td_lease LEASES ADDR: the last record for ADDR, as "state=S hw=MAC ends=EPOCH
# starts=EPOCH" (see tdcheck.py).
td_lease() {
    python3 "$TD_LIB_DIR/tdcheck.py" lease "$1" "$2"
}

# ---- cleanup ---------------------------------------------------------------

td_cleanup() {
    local status=$? pid ns pids
    # No signal may cut the cleanup short; a reader that went away (EPIPE)
    # must not either.
    trap '' INT TERM HUP PIPE
    td_finish_plan
    for pid in "${TD_PIDS[@]+"${TD_PIDS[@]}"}"; do
        td_running "$pid" && kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${TD_PIDS[@]+"${TD_PIDS[@]}"}"; do td_stop "$pid" 2; done
    # Daemons that forked (dhclient, dhcpcd helpers) are found by namespace.
    local i
    for ((i = ${#TD_NETNS[@]} - 1; i >= 0; i--)); do
        ns=${TD_NETNS[i]}
        pids=$(ip netns pids "$ns" 2>/dev/null)
        if [ -n "$pids" ]; then
            # shellcheck disable=SC2086
            kill -TERM $pids 2>/dev/null
            for pid in $pids; do td_stop "$pid" 2; done
        fi
        ip netns del "$ns" 2>/dev/null
    done
    local f
    for f in "${TD_CLEANUP_FILES[@]+"${TD_CLEANUP_FILES[@]}"}"; do rm -f -- "$f"; done
    if [ "${TD_KEEP:-0}" = 1 ]; then
        echo "# work dir kept: $TD_WORK"
    else
        rm -rf -- "$TD_WORK"
    fi
    if [ "$TD_FAILED" -gt 0 ] && [ "$status" -eq 0 ]; then
        status=1
    fi
    exit "$status"
}
trap td_cleanup EXIT
trap 'echo "# interrupted (SIGINT)"; exit 130' INT
trap 'echo "# terminated (SIGTERM)"; exit 143' TERM
trap 'exit 129' HUP

# shellcheck source=clients.sh
. "$TD_LIB_DIR/clients.sh"
