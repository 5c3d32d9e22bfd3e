#!/usr/bin/env bash
# For every DHCPACK sent, the fsync of its lease came first (RFC 2131 §4.3.1:
# the server commits the binding before it answers; ISC: commit_leases before
# the ACK). The server runs under strace with its lease file on disk while
# perfdhcp loads it for a few seconds; tdcheck.py durable walks the trace: each
# DHCPACK a send call carried must come after a write of its lease block (that
# address, active, that client, ending no earlier than the ACK promises) to the
# lease file and after an fdatasync/fsync of that file which followed the
# write. A doctored trace, one sync taken out, must fail the same check. It
# also prints how many ACKs one sync covers on average (group commit), without
# asserting anything about it. TAP. Run alone as root:
#   SERVER=build/tandemd bash tests/integration/durability.sh
#
#   bridge "lan" 198.18.0.0/16: srv 198.18.0.1 (eth0); load 198.18.0.2 (eth0,
#   perfdhcp: relayed, so the replies are unicast UDP to 198.18.0.2:67)
#
# Tunables: DUR_RATE (exchanges per second, 800; ISC 100), DUR_CLIENTS (3000;
# ISC 400), DUR_SECONDS (perfdhcp's run, 3; ISC 4), DUR_MIN_ACKS (ACKs the
# check must cover, 101).
. "$(dirname "$0")/lib.sh"

# ISC commits (and fsyncs) once per ACK and under strace keeps up with far
# less: its defaults are lower, so that the check still sees enough ACKs.
if [ "$(td_server_kind)" = isc ]; then
    RATE=${DUR_RATE:-100} CLIENTS=${DUR_CLIENTS:-400} SECONDS_LOAD=${DUR_SECONDS:-4}
else
    RATE=${DUR_RATE:-800} CLIENTS=${DUR_CLIENTS:-3000} SECONDS_LOAD=${DUR_SECONDS:-3}
fi
MIN_ACKS=${DUR_MIN_ACKS:-101}
LEASE_TIME=3600

td_plan 6
td_require ip timeout python3 perfdhcp strace

conf=$TD_WORK/dhcpd.conf
leases=$TD_WORK/dhcpd.leases
trace=$TD_WORK/server.strace
cat >"$conf" <<EOF
# durability.sh
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time $LEASE_TIME;
max-lease-time $LEASE_TIME;
subnet 198.18.0.0 netmask 255.255.0.0 {
  range 198.18.1.0 198.18.15.255;
}
EOF
: >"$leases"

td_bridge lan
td_netns srv
td_netns load
td_link srv eth0 lan
td_addr srv eth0 198.18.0.1/16
td_link load eth0 lan 02:00:5e:70:ff:01
td_addr load eth0 198.18.0.2/16
srvlog=$(td_log srv)

args=()
if [ "$(td_server_kind)" = tandem ]; then args+=(--control "$TD_WORK/srv.ctl"); fi
# shellcheck disable=SC2206
args+=($SERVER_ARGS)

# 1. The server under strace: -ttt for epoch times (the checker compares them
# with the lease's ends), -xx -s so that every written and sent byte is in the
# trace, -yy so that each descriptor names its file or socket.
td_spawn srv srv strace -f -ttt -xx -s 1048576 -yy \
    -e trace=write,writev,pwrite64,fdatasync,fsync,sendmmsg,sendto,sendmsg \
    -o "$trace" "$SERVER" -4 -d -cf "$conf" -lf "$leases" -pf "$TD_WORK/srv.pid" "${args[@]}" eth0
st=0
td_wait_log "$srvlog" 'Server starting service\.' $((TD_START_SECS + 10)) "$(td_pid srv)" || st=$?
spid=$(cat "$TD_WORK/srv.pid" 2>/dev/null)
[ -n "$spid" ] && td_adopt server "$spid"
if [ "$st" -eq 0 ] && [ -n "$spid" ]; then
    td_ok "server starts under strace ($SERVER, pid $spid)"
else
    td_fail "server starts under strace ($SERVER)" "status $st, pid file: ${spid:-none}"
    td_diag_file "$srvlog" 30
    exit 1
fi

# 2. Bounded load.
acks0=$(td_count "$srvlog" '^DHCPACK on ')
st=0
td_bounded $((SECONDS_LOAD + 20)) ip netns exec "$(td_ns load)" \
    perfdhcp -4 -l eth0 -r "$RATE" -R "$CLIENTS" -p "$SECONDS_LOAD" -d 2 -b mac=02:00:5e:71:00:00 \
    >"$TD_WORK/perfdhcp.log" 2>&1 || st=$?
acks=$(($(td_count "$srvlog" '^DHCPACK on ') - acks0))
case $st in
    0 | 3) td_ok "perfdhcp: $acks DHCPACKs logged in $SECONDS_LOAD s at $RATE/s (status $st)" ;;
    *) td_fail "perfdhcp runs its $SECONDS_LOAD s" "status $st, $acks DHCPACKs logged"
       td_diag_file "$TD_WORK/perfdhcp.log" ;;
esac

# 3
if td_running "$spid"; then
    td_ok "the server under strace is still running after the load"
else
    td_fail "the server under strace is still running after the load" "it exited"
    td_diag_file "$srvlog"
fi
# Stop the server itself (strace would only detach on a signal), then let
# strace finish its output.
td_stop "$spid" "${TD_STOP_SECS:-10}"
td_wait_exit srv 10 >/dev/null 2>&1 || td_stop srv

# 4. The check.
out=$(python3 "$TD_LIB_DIR/tdcheck.py" durable "$trace" "$leases" --min-acks "$MIN_ACKS" 2>&1)
st=$?
mapfile -t lines <<<"$out"
if [ "$st" -eq 0 ]; then
    td_ok "every DHCPACK was sent after its lease was written and synced: ${lines[0]}"
else
    td_fail "every DHCPACK was sent after its lease was written and synced" "${lines[@]:0:40}"
fi
# Group commit, measured only.
gc=$(printf '%s\n' "$out" | grep -m1 '^group commit:')
td_diag "${gc:-group commit: not measured}"

# 5-6. The control: the same trace less the sync that made one ACK durable.
doctored=$TD_WORK/server.nosync.strace
if victim=$(python3 "$TD_LIB_DIR/tdcheck.py" nosync "$trace" "$leases" 2>&1 >"$doctored"); then
    td_ok "the control trace lacks one sync: $victim"
else
    td_fail "the control trace lacks one sync" "$victim"
fi
line=$(sed -n 's/.*sync at line \([0-9]*\).*/\1/p' <<<"$victim")
ackline=$(sed -n 's/.*DHCPACK at line \([0-9]*\).*/\1/p' <<<"$victim")
if out=$(python3 "$TD_LIB_DIR/tdcheck.py" durable "$doctored" "$leases" --min-acks "$MIN_ACKS" 2>&1); then
    td_fail "the check reports the ACK the removed sync covered" "it passed: ${out%%$'\n'*}"
elif [ -n "$ackline" ] && grep -q "line $ackline:" <<<"$out"; then
    td_ok "the check reports the ACK the removed sync (line $line) covered, at line $ackline"
else
    mapfile -t lines <<<"$out"
    td_fail "the check reports the ACK the removed sync covered (line ${ackline:-?})" "${lines[@]:0:20}"
fi
