#!/usr/bin/env bash
# A client behind ISC's relay agent (dhcrelay) gets an address of the relay's
# subnet, not of the server's own. TAP. Run alone as root:
#   SERVER=/usr/sbin/dhcpd bash relay.sh
#
#   bridge "srvnet" 192.0.2.0/24:     srv 192.0.2.1 (eth0), rly 192.0.2.254 (eth0)
#   bridge "clinet" 198.51.100.0/24:  rly 198.51.100.1 (eth1), c1 (dhclient), c2 (udhcpc)
. "$(dirname "$0")/lib.sh"

td_plan 7
td_require ip timeout python3 dhcrelay dhclient

conf=$TD_WORK/dhcpd.conf
leases=$TD_WORK/dhcpd.leases
cat >"$conf" <<'EOF'
# relay.sh: the server's own network, and the relayed client network.
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time 120;
max-lease-time 120;
option domain-name-servers 192.0.2.53;
subnet 192.0.2.0 netmask 255.255.255.0 {
  range 192.0.2.100 192.0.2.150;
  option routers 192.0.2.254;
}
subnet 198.51.100.0 netmask 255.255.255.0 {
  range 198.51.100.100 198.51.100.150;
  option routers 198.51.100.1;
}
EOF

td_bridge srvnet
td_bridge clinet
td_netns srv
td_netns rly
td_netns c1
td_netns c2
td_link srv eth0 srvnet
td_addr srv eth0 192.0.2.1/24
# Replies go to the relay's client-side address (giaddr).
td_exec srv ip route add 198.51.100.0/24 via 192.0.2.254
td_link rly eth0 srvnet
td_addr rly eth0 192.0.2.254/24
td_link rly eth1 clinet
td_addr rly eth1 198.51.100.1/24
td_link c1 eth0 clinet 02:00:5e:20:00:01
td_link c2 eth0 clinet 02:00:5e:20:00:02
srvlog=$TD_WORK/srv.log
rlylog=$TD_WORK/relay.log

if td_server_start srv srv eth0 "$conf" "$leases"; then
    td_ok "server starts with a subnet for its own network and one for the relayed clients"
else
    td_fail "server starts" "$TD_START_ERROR"
    td_diag_file "$srvlog" 30
    exit 1
fi

# dhcrelay -d logs its interfaces and then serves; no line says "ready", so the
# last interface line is the sign.
td_spawn relay rly dhcrelay -d -4 -i eth0 -i eth1 192.0.2.1
if td_wait_log "$rlylog" 'Sending on +Socket/fallback' 10 "$(td_pid relay)"; then
    td_ok "dhcrelay starts (-i eth0 -i eth1 192.0.2.1)"
else
    td_fail "dhcrelay starts" "no 'Sending on Socket/fallback' within 10 s"
    td_diag_file "$rlylog"
    exit 1
fi

in_relay_pool() {
    case $1 in 198.51.100.1[0-4][0-9] | 198.51.100.150) return 0 ;; *) return 1 ;; esac
}

mac1=02:00:5e:20:00:01
if td_dhclient dhc1 c1 eth0 && in_relay_pool "$TD_ADDR" && [ "$TD_ROUTERS" = 198.51.100.1 ] &&
    [ "$TD_SERVER_ID" = 192.0.2.1 ]; then
    a1=$TD_ADDR
    td_ok "dhclient behind the relay gets $a1 from the relay's subnet, router 198.51.100.1"
else
    a1=
    td_fail "dhclient behind the relay gets an address of 198.51.100.100-150 with router 198.51.100.1" \
        "$(td_client_summary)"
    td_diag_file "$(td_client_dir dhc1)/dhclient.log"
    td_diag_file "$srvlog"
    td_diag_file "$rlylog"
fi

# ISC names the relay (giaddr) where it would name the interface.
missing=()
for w in "DHCPDISCOVER from $mac1 via 198.51.100.1" "DHCPOFFER on $a1 to $mac1 via 198.51.100.1" \
    "DHCPACK on $a1 to $mac1 via 198.51.100.1"; do
    grep -F -q -- "$w" "$srvlog" || missing+=("no line: $w")
done
if [ -n "$a1" ] && [ "${#missing[@]}" -eq 0 ]; then
    td_ok "the server logs the exchange as relayed via 198.51.100.1"
else
    td_fail "the server logs the exchange as relayed via 198.51.100.1" "${missing[@]}"
    td_diag_file "$srvlog"
fi

if grep -q "Forwarded BOOTREQUEST for $mac1 to 192.0.2.1" "$rlylog" &&
    grep -q "Forwarded BOOTREPLY for $mac1 to" "$rlylog"; then
    td_ok "dhcrelay forwarded the requests to the server and the replies to the client"
else
    td_fail "dhcrelay forwarded the requests to the server and the replies to the client"
    td_diag_file "$rlylog"
fi

rec=$(td_lease "$leases" "${a1:-none}")
case $rec in
    "state=active hw=$mac1 "*) td_ok "the lease file holds $a1 active for $mac1" ;;
    *) td_fail "the lease file holds the relayed lease active for $mac1" "$rec" ;;
esac

if ! td_have busybox; then
    td_missing "udhcpc behind the relay gets an address of the relay's subnet" busybox
elif td_udhcpc udh2 c2 eth0 && in_relay_pool "$TD_ADDR" && [ "$TD_ADDR" != "$a1" ] &&
    [ "$TD_ROUTERS" = 198.51.100.1 ]; then
    td_ok "udhcpc behind the relay gets $TD_ADDR from the relay's subnet"
else
    td_fail "udhcpc behind the relay gets another address of the relay's subnet" "$(td_client_summary)"
    td_diag_file "$(td_client_dir udh2)/udhcpc.log"
    td_diag_file "$srvlog"
fi
