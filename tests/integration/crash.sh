#!/usr/bin/env bash
# No acknowledged lease is lost when the server is killed: under perfdhcp load,
# every DHCPACK seen on the wire must be in the lease file the restarted server
# reads back, for the same client, active, and ending no earlier than the ACK
# promised (RFC 2131 §4.3.1: the server commits the binding before it ACKs).
# TAP. Run alone as root: SERVER=/usr/sbin/dhcpd bash crash.sh
#
#   bridge "lan" 198.18.0.0/16 (RFC 2544 benchmarking range):
#   srv 198.18.0.1 (eth0); load 198.18.0.2 (eth0: perfdhcp and tcpdump).
#
# perfdhcp without a server address sends relayed packets (giaddr 198.18.0.2)
# to 255.255.255.255:67; the replies come back unicast to giaddr:67, so the
# capture in the load namespace sees every ACK the server sent.
#
# Tunables: CRASH_RATE (exchanges per second, 200), CRASH_CLIENTS (400: some clients come back),
# CRASH_SECONDS (perfdhcp's run, 8), CRASH_ACKS (ACKs logged before the kill, 500).
. "$(dirname "$0")/lib.sh"

RATE=${CRASH_RATE:-200}
CLIENTS=${CRASH_CLIENTS:-400}
SECONDS_LOAD=${CRASH_SECONDS:-8}
ACKS_BEFORE_KILL=${CRASH_ACKS:-500}
LEASE_TIME=3600

td_plan 9
td_require ip timeout python3 perfdhcp tcpdump

conf=$TD_WORK/dhcpd.conf
leases=$TD_WORK/dhcpd.leases
cat >"$conf" <<EOF
# crash.sh: a pool large enough that perfdhcp's clients never exhaust it.
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time $LEASE_TIME;
max-lease-time $LEASE_TIME;
subnet 198.18.0.0 netmask 255.255.0.0 {
  range 198.18.1.0 198.18.15.255;
}
EOF

td_bridge lan
td_netns srv
td_netns load
td_link srv eth0 lan
td_addr srv eth0 198.18.0.1/16
td_link load eth0 lan 02:00:5e:40:ff:01
td_addr load eth0 198.18.0.2/16
srvlog=$TD_WORK/srv.log
pcap=$TD_WORK/acks.pcap

if td_server_start srv srv eth0 "$conf" "$leases"; then
    td_ok "server starts ($SERVER)"
else
    td_fail "server starts ($SERVER)" "$TD_START_ERROR"
    td_diag_file "$srvlog" 30
    exit 1
fi

# -U writes each packet as it comes, so nothing captured before the kill is
# lost in a buffer; -Z root because the work dir is not the tcpdump user's.
td_spawn tcpdump load tcpdump -i eth0 -n -U -s 0 -Z root -w "$pcap" 'udp and (port 67 or port 68)'
if td_wait_log "$(td_log tcpdump)" 'listening on eth0' 10 "$(td_pid tcpdump)"; then
    td_ok "tcpdump captures DHCP in the load namespace"
else
    td_fail "tcpdump captures DHCP in the load namespace" "no 'listening on eth0' within 10 s"
    td_diag_file "$(td_log tcpdump)"
    exit 1
fi

t0=$(date +%s)
td_spawn perfdhcp load timeout -k 5 $((SECONDS_LOAD + 15)) \
    perfdhcp -4 -l eth0 -r "$RATE" -R "$CLIENTS" -p "$SECONDS_LOAD" -d 2 -b mac=02:00:5e:41:00:00
# Kill once the server is well into the load, and before perfdhcp ends.
if td_wait_count "$srvlog" '^DHCPACK on ' "$ACKS_BEFORE_KILL" $((SECONDS_LOAD - 2)) &&
    td_running "$(td_pid perfdhcp)" && td_running "$(td_pid srv)"; then
    td_kill9 srv
    td_ok "kill -9 of the server after $(td_count "$srvlog" '^DHCPACK on ') logged DHCPACKs, $(($(date +%s) - t0)) s into the load"
else
    td_fail "the server ACKs $ACKS_BEFORE_KILL exchanges under load within $((SECONDS_LOAD - 2)) s" \
        "$(td_count "$srvlog" '^DHCPACK on ') DHCPACKs logged"
    td_diag_file "$srvlog"
    td_diag_file "$(td_log perfdhcp)"
    td_kill9 srv
fi

st=0
td_wait_exit perfdhcp $((SECONDS_LOAD + 25)) || st=$?
# 3: some exchanges did not complete, which is the point; 0 if all did.
case $st in
    0 | 3) td_ok "perfdhcp ends on its own (status $st)" ;;
    *) td_fail "perfdhcp ends on its own" "status $st"
       td_diag_file "$(td_log perfdhcp)" ;;
esac
td_stop tcpdump

acklist=$TD_WORK/acks.txt
python3 "$TD_LIB_DIR/tdcheck.py" acks "$pcap" >"$acklist" 2>&1
nacks=$(wc -l <"$acklist")
# A kill between the log line and the send may cost one; a capture that lost
# many would make the check below meaningless.
if [ "$nacks" -ge $((ACKS_BEFORE_KILL * 9 / 10)) ]; then
    td_ok "the capture holds $nacks DHCPACKs ($(td_count "$srvlog" '^DHCPACK on ') logged)"
else
    td_fail "the capture holds at least $((ACKS_BEFORE_KILL * 9 / 10)) DHCPACKs" "$nacks found, $(td_count "$srvlog" '^DHCPACK on ') logged"
    td_diag_file "$acklist"
    td_diag_file "$(td_log tcpdump)"
fi

cp "$leases" "$TD_WORK/leases.after-crash"
td_check "the lease file left by the killed server passes -T" td_server_test_leases "$conf" "$leases"

if td_server_start srv2 srv eth0 "$conf" "$leases"; then
    td_ok "server restarts on the lease file"
else
    td_fail "server restarts on the lease file" "$TD_START_ERROR"
    td_diag_file "$TD_WORK/srv2.log" 30
fi
# The lease file as the restarted server rewrote it: what it read back.
td_server_stop srv2

out=$(python3 "$TD_LIB_DIR/tdcheck.py" crash "$pcap" "$leases" 2>&1)
st=$?
if [ "$st" -eq 0 ] && [ "$nacks" -gt 0 ]; then
    td_ok "every captured DHCPACK is bound as acked in the reloaded lease file: ${out%%$'\n'*}"
else
    mapfile -t lines <<<"$out"
    td_fail "every captured DHCPACK is bound as acked in the reloaded lease file" "${lines[@]}"
fi

# The check itself can fail: the same file without one acked address must not pass.
victim=$(awk 'NR == 1 { print $2 }' "$acklist")
python3 "$TD_LIB_DIR/tdcheck.py" without "$leases" "${victim:-none}" >"$TD_WORK/leases.cut"
if [ -n "$victim" ] && ! out=$(python3 "$TD_LIB_DIR/tdcheck.py" crash "$pcap" "$TD_WORK/leases.cut" 2>&1) &&
    grep -q "^  $victim: .*not in the lease file" <<<"$out"; then
    td_ok "the check reports an acked lease ($victim) missing from a lease file"
else
    td_fail "the check reports an acked lease missing from a lease file" "victim ${victim:-none}" "$out"
fi
