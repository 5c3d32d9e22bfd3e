#!/usr/bin/env bash
# Bad input is normal input: malformed DHCP packets (truncated, options past the
# end, overload loops, an oversized relay agent option, random bytes) are
# dropped with a rate-limited log line, the server keeps running, and a real
# client still gets its lease. TAP. Run alone as root: SERVER=... bash badinput.sh
. "$(dirname "$0")/lib.sh"

td_plan 5
td_require ip timeout python3 dhclient

conf=$TD_WORK/dhcpd.conf
leases=$TD_WORK/dhcpd.leases
cat >"$conf" <<'CONF'
authoritative;
ping-check false;
default-lease-time 300;
subnet 192.0.2.0 netmask 255.255.255.0 {
  range 192.0.2.100 192.0.2.199;
  option routers 192.0.2.1;
}
CONF

td_bridge lan
td_netns srv
td_link srv eth0 lan
td_addr srv eth0 192.0.2.1/24
td_netns bad
td_link bad eth0 lan 02:00:5e:20:00:01
td_netns c1
td_link c1 eth0 lan 02:00:5e:20:00:02
srvlog=$TD_WORK/srv.log

if td_server_start srv srv eth0 "$conf" "$leases"; then
    td_ok "server starts"
else
    td_fail "server starts" "$TD_START_ERROR"
    td_diag_file "$srvlog" 30
    exit 1
fi

out=$(td_exec bad timeout 60 python3 "$TD_LIB_DIR/bad_packets.py" eth0 3000 2>&1)
td_check "3,007 malformed packets sent ($out)" [ "${out#sent }" = 3007 ]
sleep 1

if td_running "$(td_pid srv)"; then
    td_ok "the server is still running after the malformed packets"
else
    td_fail "the server is still running after the malformed packets"
    td_diag_file "$srvlog" 40
fi

# ISC dhcpd logs some of these its own way (or not at all); Tandem's lines are
# rate-limited: a burst a minute, with a count of the rest in the next one.
if [ "$(td_server_kind)" = tandem ]; then
    n=$(grep -c "Discarding bad packet" "$srvlog")
    if [ "$n" -ge 1 ] && [ "$n" -le 20 ]; then
        td_ok "bad packets are logged, rate-limited ($n lines for 3,007 packets)"
    else
        td_fail "bad packets are logged, rate-limited" "$n 'Discarding bad packet' lines for 3,007 packets"
        td_diag_file "$srvlog" 20
    fi
else
    td_skip "bad packets are logged, rate-limited" "Tandem's own log line; $(td_server_kind) logs its way"
fi

if td_dhclient dhc1 c1 eth0 && [ -n "$TD_ADDR" ]; then
    td_ok "dhclient still gets a lease ($TD_ADDR)"
else
    td_fail "dhclient still gets a lease" "$(td_client_summary)"
    td_diag_file "$srvlog" 20
fi
td_dhclient_stop dhc1
td_finish_plan
