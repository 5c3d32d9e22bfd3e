#!/usr/bin/env bash
# One server, real clients on one segment: leases with the configured options
# from dhclient, udhcpc and dhcpcd; renewal; release; a reserved host; a NAK for
# a wrong address. TAP. Run alone as root: SERVER=/usr/sbin/dhcpd bash basic.sh
#
#   bridge "lan" (192.0.2.0/24): srv 192.0.2.1 (eth0), one namespace per client.
. "$(dirname "$0")/lib.sh"

td_plan 14
td_require ip timeout python3 dhclient

LEASE_TIME=300
conf=$TD_WORK/dhcpd.conf
leases=$TD_WORK/dhcpd.leases
cat >"$conf" <<EOF
# basic.sh: one authoritative server for 192.0.2.0/24.
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time $LEASE_TIME;
max-lease-time $LEASE_TIME;
option domain-name "tandem.test";
option domain-name-servers 192.0.2.53, 192.0.2.54;
# A short T1, so that dhclient renews within seconds of a long lease.
option dhcp-renewal-time 3;
subnet 192.0.2.0 netmask 255.255.255.0 {
  range 192.0.2.100 192.0.2.199;
  option routers 192.0.2.1;
}
host reserved1 {
  hardware ethernet 02:00:5e:10:00:04;
  fixed-address 192.0.2.10;
}
EOF

td_bridge lan
td_netns srv
td_link srv eth0 lan
td_addr srv eth0 192.0.2.1/24
for c in 1 2 3 4 5 6; do
    td_netns "c$c"
done
td_link c1 eth0 lan 02:00:5e:10:00:01 # dhclient
td_link c2 eth0 lan 02:00:5e:10:00:02 # udhcpc
DHCPCD_IF=dc${TD_RUN_ID}              # dhcpcd keys its files by interface name
td_link c3 "$DHCPCD_IF" lan 02:00:5e:10:00:03
td_link c4 eth0 lan 02:00:5e:10:00:04 # the reserved host
td_link c5 eth0 lan 02:00:5e:10:00:05 # the NAK probe
td_link c6 eth0 lan 02:00:5e:10:00:06 # dhclient with a stale lease
srvlog=$TD_WORK/srv.log

# 1
if td_server_start srv srv eth0 "$conf" "$leases"; then
    td_ok "server starts ($SERVER, $(td_server_kind))"
else
    td_fail "server starts ($SERVER)" "$TD_START_ERROR"
    td_diag_file "$srvlog" 30
    exit 1
fi

in_pool() { # ADDR: inside the configured range 192.0.2.100-199?
    case $1 in 192.0.2.1[0-9][0-9]) return 0 ;; *) return 1 ;; esac
}

# expect_options CLIENT-LABEL: the options of the last lease, as configured.
expect_options() {
    local errs=()
    in_pool "$TD_ADDR" || errs+=("address $TD_ADDR is not in 192.0.2.100-192.0.2.199")
    [ "$TD_ROUTERS" = 192.0.2.1 ] || errs+=("routers '$TD_ROUTERS', want 192.0.2.1")
    [ "$TD_DNS" = "192.0.2.53 192.0.2.54" ] || errs+=("DNS '$TD_DNS', want '192.0.2.53 192.0.2.54'")
    [ "$TD_DOMAIN" = tandem.test ] || errs+=("domain '$TD_DOMAIN', want tandem.test")
    [ "$TD_LEASE_TIME" = "$LEASE_TIME" ] || errs+=("lease time '$TD_LEASE_TIME', want $LEASE_TIME")
    if [ "${#errs[@]}" -eq 0 ]; then
        td_ok "$1 gets a lease with the configured router, DNS, domain and lease time ($TD_ADDR)"
    else
        td_fail "$1 gets a lease with the configured router, DNS, domain and lease time" \
            "$(td_client_summary)" "${errs[@]}"
    fi
}

# 2-5: dhclient: DORA, the server's log and lease file, renewal.
mac1=02:00:5e:10:00:01
if td_dhclient dhc1 c1 eth0; then
    expect_options "dhclient"
    a1=$TD_ADDR
else
    td_fail "dhclient gets a lease" "$(td_client_summary)"
    td_diag_file "$(td_client_dir dhc1)/dhclient.log"
    td_diag_file "$srvlog"
    a1=
fi

want=("DHCPDISCOVER from $mac1 via eth0" "DHCPOFFER on $a1 to $mac1 via eth0"
    "DHCPREQUEST for $a1 .*from $mac1 via eth0" "DHCPACK on $a1 to $mac1 via eth0")
missing=()
for w in "${want[@]}"; do
    grep -E -q -- "$w" "$srvlog" || missing+=("no line matching: $w")
done
if [ -n "$a1" ] && [ "${#missing[@]}" -eq 0 ]; then
    td_ok "the server logs DISCOVER, OFFER, REQUEST and ACK in ISC's words"
else
    td_fail "the server logs DISCOVER, OFFER, REQUEST and ACK in ISC's words" "${missing[@]}"
    td_diag_file "$srvlog"
fi

# The lease is committed before the ACK goes out, so it is in the file already.
rec=$(td_lease "$leases" "${a1:-none}")
case $rec in
    "state=active hw=$mac1 "*) td_ok "the lease file holds $a1 active for $mac1" ;;
    *) td_fail "the lease file holds the dhclient lease active for $mac1" "$rec" ;;
esac

# dhcp-renewal-time 3: dhclient renews by unicast to the server id about 3 s in.
if [ -z "$a1" ]; then
    td_fail "dhclient renews and keeps its address" "no first lease"
elif td_dhclient_wait_event dhc1 'RENEW|REBIND' 15; then
    # After the first ACK: a REQUEST for the same address and its ACK. (A
    # renewal carries no server identifier, so ISC logs it without "(server)".)
    after=$(awk -v a="DHCPACK on $a1 to $mac1 " 'seen { print } index($0, a) == 1 { seen = 1 }' "$srvlog")
    if [ "$TD_ADDR" = "$a1" ] && grep -E -q "^DHCPREQUEST for $a1 (\([0-9.]+\) )?from $mac1 via eth0" <<<"$after" &&
        grep -q "^DHCPACK on $a1 to $mac1 " <<<"$after"; then
        td_ok "dhclient renews ($TD_REASON) and keeps $a1"
    else
        td_fail "dhclient renews and keeps its address" "$(td_client_summary)"
        td_diag_file "$srvlog"
    fi
else
    td_fail "dhclient renews and keeps its address" "no RENEW or REBIND within 15 s"
    td_diag_file "$(td_client_dir dhc1)/dhclient.log"
    td_diag_file "$srvlog"
fi

# 6: release.
if [ -z "$a1" ]; then
    td_fail "dhclient releases its lease" "no lease"
elif ! td_dhclient_release dhc1 c1 eth0; then
    td_fail "dhclient releases its lease" "dhclient -r failed"
    td_diag_file "$(td_client_dir dhc1)/dhclient.log"
elif ! td_wait_log "$srvlog" "DHCPRELEASE of $a1 from $mac1 via eth0" 5; then
    td_fail "dhclient releases its lease" "no 'DHCPRELEASE of $a1 from $mac1 via eth0' within 5 s"
    td_diag_file "$srvlog"
else
    # The release is written right after it is logged: allow a moment.
    for _ in $(seq 30); do
        rec=$(td_lease "$leases" "$a1")
        case $rec in state=free* | state=released*) break ;; esac
        sleep 0.1
    done
    case $rec in
        state=free* | state=released*) td_ok "dhclient releases $a1: DHCPRELEASE logged, lease file says ${rec%% *}" ;;
        *) td_fail "dhclient releases its lease: the lease file shows it free" "$rec" ;;
    esac
fi

# 7-8: udhcpc, then udhcpc asking for the same address again (-r).
if ! td_have busybox; then
    td_missing "udhcpc gets a lease" "busybox"
    td_missing "udhcpc asking for its address again keeps it" "busybox"
elif td_udhcpc udh2 c2 eth0; then
    expect_options "udhcpc"
    a2=$TD_ADDR
    if td_udhcpc udh2 c2 eth0 -r "$a2" && [ "$TD_ADDR" = "$a2" ]; then
        td_ok "udhcpc asking for $a2 again (-r) keeps it"
    else
        td_fail "udhcpc asking for its address again keeps it" "first $a2, then: $(td_client_summary)"
        td_diag_file "$(td_client_dir udh2)/udhcpc.log"
    fi
else
    td_fail "udhcpc gets a lease" "$(td_client_summary)"
    td_diag_file "$(td_client_dir udh2)/udhcpc.log"
    td_fail "udhcpc asking for its address again keeps it" "no first lease"
fi

# 9-10: dhcpcd, and nothing of it left afterwards.
if ! td_have dhcpcd; then
    td_missing "dhcpcd gets a lease" "dhcpcd (dhcpcd5)"
    td_missing "dhcpcd leaves no process behind" "dhcpcd (dhcpcd5)"
else
    if td_dhcpcd dcd3 c3 "$DHCPCD_IF"; then
        log3=$(td_client_dir dcd3)/dhcpcd.log
        if grep -E -q "leased $TD_ADDR for $LEASE_TIME seconds" "$log3"; then
            expect_options "dhcpcd"
        else
            td_fail "dhcpcd gets a lease" "no 'leased $TD_ADDR for $LEASE_TIME seconds' in its log"
            td_diag_file "$log3"
        fi
    else
        td_fail "dhcpcd gets a lease" "$(td_client_summary)"
        td_diag_file "$(td_client_dir dcd3)/dhcpcd.log"
    fi
    # Its privilege-separated helpers must have ended with it.
    left=
    for _ in $(seq 30); do
        left=$(td_ns_pids c3)
        [ -z "$left" ] && break
        sleep 0.1
    done
    if [ -z "$left" ]; then
        td_ok "dhcpcd leaves no process behind"
    else
        td_fail "dhcpcd leaves no process behind" "still running: $(ps -o pid=,args= -p "$(echo "$left" | tr ' ' ,)" | tr '\n' ';')"
    fi
fi

# 11: the reserved host.
mac4=02:00:5e:10:00:04
if td_dhclient dhc4 c4 eth0 && [ "$TD_ADDR" = 192.0.2.10 ] &&
    grep -E -q "DHCPACK on 192\.0\.2\.10 to $mac4 .*via eth0" "$srvlog"; then
    td_ok "the reserved host $mac4 gets its fixed address 192.0.2.10"
else
    td_fail "the reserved host $mac4 gets its fixed address 192.0.2.10" "$(td_client_summary)"
    td_diag_file "$srvlog"
fi
td_dhclient_stop dhc4

# 12-13: an INIT-REBOOT REQUEST for an address of another network is NAKed
# (RFC 2131 §4.3.2: the server is authoritative for the segment).
mac5=02:00:5e:10:00:05
out=$(td_exec c5 python3 "$TD_LIB_DIR/dhcp_probe.py" eth0 "$mac5" request 10.200.0.5 6 2>&1)
if [ "$out" = "DHCPNAK from 192.0.2.1" ] && td_wait_log "$srvlog" "DHCPNAK on 10\.200\.0\.5 to $mac5 via eth0" 3; then
    td_ok "a REQUEST for 10.200.0.5 (another network) is answered with a DHCPNAK"
else
    td_fail "a REQUEST for 10.200.0.5 (another network) is answered with a DHCPNAK" "probe: $out"
    td_diag_file "$srvlog"
fi

mac6=02:00:5e:10:00:06
td_dhclient_stale_lease dhc6 10.200.0.6 eth0
if td_dhclient dhc6 c6 eth0 && in_pool "$TD_ADDR" &&
    grep -E -q "DHCPNAK on 10\.200\.0\.6 to $mac6 via eth0" "$srvlog"; then
    td_ok "dhclient rebooting with a lease of 10.200.0.6 is NAKed, then gets $TD_ADDR"
else
    td_fail "dhclient rebooting with a lease of another network is NAKed, then gets an address" "$(td_client_summary)"
    td_diag_file "$(td_client_dir dhc6)/dhclient.log"
    td_diag_file "$srvlog"
fi
td_dhclient_stop dhc6

# 14: the server survived all of it.
if td_running "$(td_pid srv)"; then
    td_ok "the server is still running"
else
    td_fail "the server is still running" "it exited"
    td_diag_file "$srvlog"
fi
