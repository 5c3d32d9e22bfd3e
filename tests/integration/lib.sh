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
# server (td_server_start td_server_stop td_server_test_leases td_lease), failover
# pairs (td_fo_*: see "failover pairs" below) and, from clients.sh, the client
# wrappers.

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
TD_LAST_PORT=''  # the bridge-side name of the last td_link (p<N>)
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
    TD_LAST_PORT=$port # the bridge-side end, for tests that cut or isolate it
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

# ---- failover pairs ----------------------------------------------------------
#
# The failover tests (failover_*.sh) run two servers, each its own binary:
#   PRIMARY, SECONDARY     the binaries (default /usr/sbin/dhcpd for both): ISC's
#                          dhcpd or tandemd, any mix, each on ISC's command line
#   PRIMARY_ARGS, SECONDARY_ARGS   extra words for each one's command line
#                          (default SERVER_ARGS)
#   PRIMARY_KIND, SECONDARY_KIND   isc or tandem (default: from `BIN --version`)
#   ISC_DHCPD              ISC's dhcpd, for reference runs (default /usr/sbin/dhcpd)
#   TANDEMCTL              tandemd's control tool (default: tandemctl beside the
#                          tandemd binary, else on PATH); PRIMARY_CTL_ARGS and
#                          SECONDARY_CTL_ARGS are extra words before its command
#   FO_NAME                the relationship name (td-pair)
# Log lines are ISC's wording, which tandemd keeps:
#   failover peer NAME: I move from A to B / peer moves from A to B.

ISC_DHCPD=${ISC_DHCPD:-/usr/sbin/dhcpd}
PRIMARY=${PRIMARY:-$ISC_DHCPD}
SECONDARY=${SECONDARY:-$ISC_DHCPD}
case $PRIMARY in */*) ;; *) PRIMARY=$(command -v "$PRIMARY" || echo "$PRIMARY") ;; esac
case $SECONDARY in */*) ;; *) SECONDARY=$(command -v "$SECONDARY" || echo "$SECONDARY") ;; esac
PRIMARY_ARGS=${PRIMARY_ARGS-$SERVER_ARGS}
SECONDARY_ARGS=${SECONDARY_ARGS-$SERVER_ARGS}
PRIMARY_CTL_ARGS=${PRIMARY_CTL_ARGS:-}
SECONDARY_CTL_ARGS=${SECONDARY_CTL_ARGS:-}
FO_NAME=${FO_NAME:-td-pair}
FO_STATES='unknown-state|startup|normal|communications-interrupted|partner-down|potential-conflict|recover|paused|shutdown|recover-done|resolution-interrupted|conflict-done|recover-wait'

# td_binary_kind BIN: isc or tandem, from what `BIN --version` prints.
td_binary_kind() {
    if "$1" --version 2>&1 | grep -q 'isc-dhcpd'; then echo isc; else echo tandem; fi
}

# td_fo_bin ROLE / td_fo_kind ROLE (primary|secondary): that server's binary, kind.
td_fo_bin() {
    if [ "$1" = primary ]; then echo "$PRIMARY"; else echo "$SECONDARY"; fi
}
td_fo_kind() {
    local k
    if [ "$1" = primary ]; then k=${PRIMARY_KIND:-}; else k=${SECONDARY_KIND:-}; fi
    [ -n "$k" ] || k=$(td_binary_kind "$(td_fo_bin "$1")")
    echo "$k"
}
# "dhcpd/tandemd": the pair under test, for case names.
td_fo_pair() {
    echo "$(basename "$PRIMARY")/$(basename "$SECONDARY")"
}

# td_fo_require TOOL...: like td_require, for both servers of a pair.
td_fo_require() {
    # td_require checks SERVER: make it the one that is missing, if one is.
    SERVER=$PRIMARY
    if [ -x "$PRIMARY" ] && [ ! -x "$SECONDARY" ]; then SERVER=$SECONDARY; fi
    td_require "$@"
}

# td_fo_conf FILE ROLE ADDR PORT PEER-ADDR PEER-PORT MASTER [PEER-STATEMENT...]:
# one host's dhcpd.conf as ISC's own pair is set up (captures/configs): the
# `failover peer` block of this host, then `include` of the part both share.
# Each PEER-STATEMENT goes in the block (without its `;`). With FO_OMAPI=1 an
# ISC server also gets `omapi-port 7911;` for td_fo_partner_down.
td_fo_conf() {
    local file=$1 role=$2 addr=$3 port=$4 paddr=$5 pport=$6 master=$7 l
    shift 7
    {
        echo "# $role of the pair, written by tests/integration/$TD_TEST_NAME.sh"
        if [ "${FO_OMAPI:-0}" = 1 ] && [ "$(td_fo_kind "$role")" = isc ]; then
            echo "omapi-port 7911;"
        fi
        echo "failover peer \"$FO_NAME\" {"
        echo "  $role;"
        echo "  address $addr;"
        echo "  port $port;"
        echo "  peer address $paddr;"
        echo "  peer port $pport;"
        for l in "$@"; do echo "  $l;"; done
        echo "}"
        echo "include \"$master\";"
    } >"$file"
}

# td_fo_start NAME ROLE NS IFACE CONF LEASES: start that role's binary with its
# own extra arguments, as td_server_start does (TD_START_ERROR on failure). A
# tandemd also gets a control socket of its own, $TD_WORK/NAME.ctl (tandemd(8)
# --control; the default /run/tandemd.ctl would be shared by both servers).
td_fo_start() {
    local name=$1 role=$2 ns=$3 iface=$4 conf=$5 leases=$6
    local SERVER_ARGS # td_server_start reads it: this role's own words
    if [ "$role" = primary ]; then SERVER_ARGS=$PRIMARY_ARGS; else SERVER_ARGS=$SECONDARY_ARGS; fi
    if [ "$(td_fo_kind "$role")" = tandem ]; then
        SERVER_ARGS="--control $TD_WORK/$name.ctl $SERVER_ARGS"
    fi
    td_server_start "$name" "$ns" "$iface" "$conf" "$leases" "$(td_fo_bin "$role")"
}

td_now_ms() { echo $(($(date +%s%N) / 1000000)); }

# td_fo_mark NAME: how many lines NAME's log has now; the waits below look only
# at lines after such a mark.
td_fo_mark() {
    local n
    n=$(wc -l 2>/dev/null <"$(td_log "$1")") || n=0
    echo "${n:-0}"
}

# td_fo_after NAME MARK: NAME's log lines after MARK.
td_fo_after() {
    tail -n +"$(($2 + 1))" "$(td_log "$1")" 2>/dev/null
}

# td_fo_count NAME MARK REGEX: lines after MARK that match.
td_fo_count() {
    local n
    n=$(td_fo_after "$1" "$2" | grep -E -c -- "$3") || true
    echo "${n:-0}"
}

# td_fo_wait NAME MARK REGEX SECONDS: wait until a line after MARK matches; the
# server dying ends the wait. Status 0 found, 1 timed out, 2 the server died.
td_fo_wait() {
    local name=$1 mark=$2 re=$3 secs=$4 pid end
    pid=$(td_pid "$name")
    end=$(($(date +%s%N) + secs * 1000000000))
    while :; do
        td_fo_after "$name" "$mark" | grep -E -q -- "$re" && return 0
        if [ -n "$pid" ] && ! td_running "$pid"; then
            td_fo_after "$name" "$mark" | grep -E -q -- "$re" && return 0
            return 2
        fi
        [ "$(date +%s%N)" -lt "$end" ] || return 1
        sleep 0.05
    done
}

# td_fo_stamp KEY NAME MARK REGEX SECONDS: in the background, note the time (ms)
# at which a line after MARK of NAME's log first matches, for td_fo_stamp_get.
# ISC writes no times in its log: this measures to within 50 ms while the test
# does something else meanwhile.
td_fo_stamp() {
    local key=$1 name=$2 mark=$3 re=$4 secs=$5
    rm -f "$TD_WORK/stamp.$key"
    (
        end=$(($(date +%s%N) + secs * 1000000000))
        while [ "$(date +%s%N)" -lt "$end" ]; do
            if td_fo_after "$name" "$mark" | grep -E -q -- "$re"; then
                td_now_ms >"$TD_WORK/stamp.$key.tmp" && mv "$TD_WORK/stamp.$key.tmp" "$TD_WORK/stamp.$key"
                exit 0
            fi
            sleep 0.05
        done
    ) &
    TD_PIDS+=("$!")
}

# td_fo_stamp_get KEY SECONDS: wait up to SECONDS for the time td_fo_stamp
# noted, print it. Status 1 if there is none.
td_fo_stamp_get() {
    local end=$(($(date +%s%N) + $2 * 1000000000))
    while [ ! -s "$TD_WORK/stamp.$1" ]; do
        [ "$(date +%s%N)" -lt "$end" ] || return 1
        sleep 0.05
    done
    cat "$TD_WORK/stamp.$1"
}

# The regex of "I move from ... to STATE" (of the peer with `peer`).
td_fo_re_move() {
    local who='I move'
    [ "${2:-}" = peer ] && who='peer moves'
    echo "failover peer $FO_NAME: $who from ($FO_STATES) to $1( |\$)"
}

# td_fo_wait_state NAME STATE SECONDS [MARK]: NAME logs that it moves to STATE.
td_fo_wait_state() {
    td_fo_wait "$1" "${4:-0}" "$(td_fo_re_move "$2")" "$3"
}

# td_fo_state NAME: the last state NAME logged it moved to ("" if none).
td_fo_state() {
    grep -E -o "failover peer $FO_NAME: I move from [a-z-]+ to [a-z-]+" "$(td_log "$1")" 2>/dev/null |
        tail -n 1 | sed 's/.* to //'
}

# td_fo_moves NAME [MARK]: the states NAME moved to after MARK, one line
# ("startup recover recover-done normal"), for diagnostics.
td_fo_moves() {
    td_fo_after "$1" "${2:-0}" | grep -E -o "failover peer $FO_NAME: I move from [a-z-]+ to [a-z-]+" |
        sed 's/.* to //' | tr '\n' ' '
}

# td_fo_partner_down NAME ROLE NS: put the server into partner-down by hand:
# ISC through OMAPI (omshell; its config needs FO_OMAPI=1), tandemd through
# `tandemctl -s $TD_WORK/NAME.ctl [ROLE_CTL_ARGS] partner-down FO_NAME`. Run in
# the server's namespace. Output in $TD_WORK/NAME.admin.log.
td_fo_partner_down() {
    local name=$1 role=$2 ns=$3 out=$TD_WORK/$1.admin.log ctl ctlargs
    if [ "$(td_fo_kind "$role")" = isc ]; then
        printf '%s\n' 'server 127.0.0.1' 'port 7911' 'connect' 'new failover-state' \
            "set name = \"$FO_NAME\"" 'open' 'set local-state = 4' 'update' |
            td_bounded 20 ip netns exec "$(td_ns "$ns")" omshell >>"$out" 2>&1 || return 1
        # omshell exits 0 even when the server refuses: look for its errors.
        ! grep -E -q -i 'not found|can.t|error|invalid' "$out"
    else
        ctl=${TANDEMCTL:-}
        if [ -z "$ctl" ]; then
            ctl=$(dirname "$(td_fo_bin "$role")")/tandemctl
            [ -x "$ctl" ] || ctl=tandemctl
        fi
        if [ "$role" = primary ]; then ctlargs=$PRIMARY_CTL_ARGS; else ctlargs=$SECONDARY_CTL_ARGS; fi
        # shellcheck disable=SC2086
        td_bounded 20 ip netns exec "$(td_ns "$ns")" "$ctl" -s "$TD_WORK/$name.ctl" $ctlargs \
            partner-down "$FO_NAME" >>"$out" 2>&1
    fi
}

# td_fo_topology NET [PREFIXLEN]: bridge "lan" with the primary (namespace pri,
# NET.1/PREFIXLEN on eth0; 24 by default) and the secondary (sec, NET.2).
# FO_PRI_ADDR and FO_SEC_ADDR are set, and FO_PORT_pri / FO_PORT_sec name their
# ports in the bridge (to cut or isolate).
td_fo_topology() {
    local plen=${2:-24}
    td_bridge lan || return 1
    td_netns pri && td_netns sec || return 1
    FO_PRI_ADDR=$1.1
    FO_SEC_ADDR=$1.2
    td_link pri eth0 lan && td_addr pri eth0 "$FO_PRI_ADDR/$plen" || return 1
    FO_PORT_pri=$TD_LAST_PORT
    td_link sec eth0 lan && td_addr sec eth0 "$FO_SEC_ADDR/$plen" || return 1
    FO_PORT_sec=$TD_LAST_PORT
}

# td_fo_isolate on|off: bridge port isolation of both servers' ports: the two
# servers no longer reach each other (silently: no FIN, no RST, no ICMP) while
# every other port still reaches both.
td_fo_isolate() {
    bridge -n "$(td_ns br)" link set dev "$FO_PORT_pri" isolated "$1" &&
        bridge -n "$(td_ns br)" link set dev "$FO_PORT_sec" isolated "$1"
}

# td_fo_capture NAME NS FILE: tcpdump of DHCP on NS's eth0 into FILE; status 1
# if it does not start within 10 s.
td_fo_capture() {
    td_spawn "$1" "$2" tcpdump -i eth0 -n -U -s 0 -Z root -w "$3" 'udp and (port 67 or port 68)'
    td_wait_log "$(td_log "$1")" 'listening on eth0' 10 "$(td_pid "$1")"
}

# td_fo_clients NS ARGS...: failover_client.py in NS (see there); its lines are
# appended to $TD_WORK/clients.txt and printed.
td_fo_clients() {
    local ns=$1
    shift
    td_bounded 120 ip netns exec "$(td_ns "$ns")" python3 "$TD_LIB_DIR/failover_client.py" "$@" |
        tee -a "$TD_WORK/clients.txt"
    return "${PIPESTATUS[0]}"
}

# td_fo_lease_state LEASES ADDR: the binding state of ADDR's last record ("" if none).
td_fo_lease_state() {
    td_lease "$1" "$2" 2>/dev/null | sed -n 's/^state=\([^ ]*\).*/\1/p'
}

# td_fo_count_state LEASES STATE: how many addresses' last records are in STATE.
td_fo_count_state() {
    local n
    n=$(python3 "$TD_LIB_DIR/tdcheck.py" states "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p")
    echo "${n:-0}"
}

# td_fo_py ARGS...: tdcheck.py.
td_fo_py() {
    python3 "$TD_LIB_DIR/tdcheck.py" "$@"
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
