#!/usr/bin/env bash
# Lease files both ways between the server under test and ISC dhcpd 4.4: one
# server serves real clients and stops, the other starts on its lease file
# (after `-T`) and rewrites it, and every binding field of every address must
# survive as dhcpd.leases(5) says a rewrite keeps it; then the clients come back
# to the second server and keep their addresses. Last, host blocks as OMAPI
# writes them, a host rubout, a failover state block and failover-pool leases,
# appended by hand, must survive the server's rewrite, and the hosts must be
# live. TAP. Run alone as root:
#   SERVER=build/tandemd bash tests/integration/interop.sh
# With SERVER=/usr/sbin/dhcpd it runs ISC against itself: the control that the
# rules below are ISC's own.
#
#   bridge "lan" 198.18.0.0/16: srv 198.18.0.1 (eth0, both servers in turn);
#   c1..c7 one client each; load 198.18.0.2 (perfdhcp, relayed)
#
# What a rewrite may change (shared/reference/dhcpd-leases-format.md): the
# reader expires an active lease whose `ends` has passed (it moves to its next
# binding state); never-used free leases are not written; a lease read without
# `tstp` gets tstp = ends (the reader's default, §2). Everything else of
# every lease (starts, ends, tstp, tsfp, atsfp, cltt, the three binding states,
# reserved, dynamic-bootp, hardware, the uid bytes, client-hostname, billing,
# set, option and on-event lines) must be the same. tdcheck.py interop and
# objects have the rules; the rewrite is the first block of each name in the
# new file (what comes after it was appended later).
#
# Environment: SERVER (the server under test), ISC_DHCPD (the reference,
# /usr/sbin/dhcpd), SERVER_ARGS (extra words for SERVER only), IX_LOAD_SECS (2).
. "$(dirname "$0")/lib.sh"

ISC=${ISC_DHCPD:-/usr/sbin/dhcpd}
LOAD_SECS=${IX_LOAD_SECS:-2}
LEASE_TIME=600
SHORT=5 # the lease time of the two clients whose leases expire

td_plan 21
td_require ip timeout python3 dhclient busybox perfdhcp "$ISC"

py() { python3 "$TD_LIB_DIR/tdcheck.py" "$@"; }

# ix_kind BIN: isc or tandem.
ix_kind() {
    if "$1" --version 2>&1 | grep -q 'isc-dhcpd'; then echo isc; else echo tandem; fi
}

# ix_start NAME BIN CONF LEASES: BIN in namespace srv, as td_server_start does.
# SERVER_ARGS go to SERVER only; a tandemd gets a control socket of its own
# (namespaces share the file system, tests may run side by side).
ix_start() {
    local name=$1 bin=$2 args=''
    [ "$bin" = "$SERVER" ] && args=$SERVER_ARGS
    [ "$(ix_kind "$bin")" = tandem ] && args="$args --control $TD_WORK/$name.ctl"
    SERVER_ARGS=$args td_server_start "$name" srv eth0 "$3" "$4" "$bin"
}

now() { date +%s; }

td_bridge lan
td_netns srv
td_link srv eth0 lan 02:00:5e:60:00:01
td_addr srv eth0 198.18.0.1/16
td_netns load
td_link load eth0 lan 02:00:5e:60:00:02
td_addr load eth0 198.18.0.2/16
for c in 1 2 3 4 5 6 7; do
    td_netns "c$c"
    td_link "c$c" eth0 lan
done

# mac D C: the MAC of client C in direction D (each direction has clients of its own).
mac() { printf '02:00:5e:6%d:00:%02x' "$1" "$2"; }
# The dhclient's client identifier: bytes that need every kind of escape
# (NUL, '"', '\', DEL, 8-bit, newline) in the octal-quoted uid.
CID_HEX=00:22:5c:7f:aa:ff:0a
cid() { echo "$CID_HEX:0$1"; }

# conf FILE D: the configuration both servers of direction D run.
write_conf() {
    cat >"$1" <<EOF
# interop.sh, direction $2
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time $LEASE_TIME;
max-lease-time $LEASE_TIME;
# dhclient renews 3 s after each ACK: the second server sees real RENEWs.
option dhcp-renewal-time 3;
subnet 198.18.0.0 netmask 255.255.0.0 {
  range 198.18.1.0 198.18.3.255;
  option routers 198.18.0.1;
}
host ix-reserved-$2 {
  hardware ethernet $(mac "$2" 3);
  fixed-address 198.18.0.1$2;
}
# Dynamic clients with a short lease: host scopes apply to them too.
host ix-short-$2 {
  hardware ethernet $(mac "$2" 5);
  default-lease-time $SHORT;
  max-lease-time $SHORT;
}
host ix-short2-$2 {
  hardware ethernet $(mac "$2" 7);
  default-lease-time $SHORT;
  max-lease-time $SHORT;
}
EOF
}

# direction D WRITER READER: the writer serves the client mix and stops; the
# reader starts on its lease file and rewrites it; the clients come back.
# 9 cases.
direction() {
    local d=$1 writer=$2 reader=$3 wname rname conf leases log errs=() c
    wname=$(basename "$writer") rname=$(basename "$reader")
    local label="$wname -> $rname"
    conf=$TD_WORK/d$d.conf leases=$TD_WORK/d$d.leases
    write_conf "$conf" "$d"
    for c in 1 2 3 4 5 6 7; do
        ip -n "$(td_ns "c$c")" link set eth0 address "$(mac "$d" "$c")"
    done
    log=$TD_WORK/w$d.log

    # 1: the writer starts.
    if ix_start "w$d" "$writer" "$conf" "$leases"; then
        td_ok "$label: $wname starts on an empty lease file"
    else
        td_fail "$label: $wname starts on an empty lease file" "$TD_START_ERROR"
        td_diag_file "$log" 30
        return 1
    fi

    # 2: the client mix.
    local s1='' a1='' a2='' a3='' a4='' a6='' s2='' t_s2=0 out
    if td_udhcpc "sh$d" c5 eth0; then s1=$TD_ADDR; else errs+=("udhcpc (short lease): $(td_client_summary)"); fi
    mkdir -p "$(td_client_dir "dh$d")"
    cat >"$(td_client_dir "dh$d")/dhclient.conf" <<EOF
timeout 15;
retry 60;
reboot 4;
initial-interval 1;
backoff-cutoff 2;
send dhcp-client-identifier $(cid "$d");
send host-name "ix-dhclient-$d";
request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers,
        dhcp-lease-time, dhcp-renewal-time, dhcp-rebinding-time, dhcp-server-identifier;
EOF
    if td_dhclient "dh$d" c1 eth0; then a1=$TD_ADDR; else errs+=("dhclient: $(td_client_summary)"); fi
    if td_udhcpc "ud$d" c2 eth0 -x "hostname:ix-udhcpc-$d"; then a2=$TD_ADDR; else errs+=("udhcpc: $(td_client_summary)"); fi
    if td_udhcpc "rs$d" c3 eth0 && [ "$TD_ADDR" = "198.18.0.1$d" ]; then a3=$TD_ADDR; else
        errs+=("reserved host: $(td_client_summary), want 198.18.0.1$d"); fi
    if td_dhclient "rl$d" c4 eth0; then
        a4=$TD_ADDR
        if ! td_dhclient_release "rl$d" c4 eth0 || ! td_wait_log "$log" "DHCPRELEASE of $a4 from $(mac "$d" 4)" 5; then
            errs+=("no 'DHCPRELEASE of $a4' logged")
            a4=''
        fi
    else
        errs+=("dhclient (to release): $(td_client_summary)")
    fi
    out=$(td_bounded 20 ip netns exec "$(td_ns c6)" python3 "$TD_LIB_DIR/dhcp_decline.py" eth0 "$(mac "$d" 6)" 2>&1)
    case $out in
        "declined "*)
            a6=${out#declined }
            a6=${a6%% *}
            td_wait_log "$log" "Abandoning IP address $a6: declined" 5 ||
                { errs+=("no 'Abandoning IP address $a6: declined.' logged"); a6=''; }
            ;;
        *) errs+=("decline: $out") ;;
    esac
    if [ "${#errs[@]}" -eq 0 ]; then
        td_ok "$label: $wname serves dhclient $a1, udhcpc $a2, the reserved host $a3, a released $a4, a declined $a6, a ${SHORT}-s lease $s1"
    else
        td_fail "$label: $wname serves the client mix" "${errs[@]}"
        td_diag_file "$log"
    fi

    # 3: volume: perfdhcp's relayed clients.
    local acks0 acks
    acks0=$(td_count "$log" '^DHCPACK on ')
    td_bounded $((LOAD_SECS + 15)) ip netns exec "$(td_ns load)" \
        perfdhcp -4 -l eth0 -r 100 -R 150 -p "$LOAD_SECS" -d 2 -b "mac=02:00:5e:6$d:10:00" \
        >"$TD_WORK/perfdhcp$d.log" 2>&1
    acks=$(($(td_count "$log" '^DHCPACK on ') - acks0))
    if [ "$acks" -ge 50 ]; then
        td_ok "$label: $wname ACKs $acks perfdhcp exchanges"
    else
        td_fail "$label: $wname ACKs at least 50 perfdhcp exchanges" "$acks DHCPACKs logged"
        td_diag_file "$TD_WORK/perfdhcp$d.log"
    fi

    # The first short lease has expired under the writer by now (it got it
    # before the rest); its expiry is written soon after.
    local st
    for _ in $(seq 80); do
        st=$(py lease "$leases" "${s1:-none}" 2>/dev/null)
        case $st in state=free* | state=expired*) break ;; esac
        sleep 0.1
    done
    # The second short lease, just before the stop: it expires while no server
    # runs, so the reader's own expiry at start-up meets it.
    td_dhclient_stop "dh$d"
    if td_udhcpc "sx$d" c7 eth0; then s2=$TD_ADDR t_s2=$(now); fi
    td_server_stop "w$d"

    # 4: what the writer's file says, before anyone rewrites it.
    cp "$leases" "$TD_WORK/d$d.before"
    if out=$(py expect "$leases" \
        "$a1:state=active,hw=ethernet $(mac "$d" 1),uid=hex:$(cid "$d"),hostname=ix-dhclient-$d" \
        "$a2:state=active,hw=ethernet $(mac "$d" 2),uid=hex:01:$(mac "$d" 2),hostname=ix-udhcpc-$d" \
        "$a4:state=free|released,hw=ethernet $(mac "$d" 4)" \
        "$a6:state=abandoned" \
        "$s1:state=free|expired,hw=ethernet $(mac "$d" 5)" \
        "$s2:state=active,hw=ethernet $(mac "$d" 7)" \
        "198.18.0.1$d:absent" 2>&1); then
        td_ok "$label: $wname's lease file binds each client as served (${out##*$'\n'})"
        # Not a binding field, so only a note: ISC 4.4 keeps the client's
        # vendor class in the lease (`set vendor-class-identifier`, dhcp.c).
        if [ -n "$a2" ] && ! py records "$leases" "$a2" | grep -q "vendor-class-identifier"; then
            td_diag "note: $wname stores no 'set vendor-class-identifier' in udhcpc's lease $a2 (ISC 4.4 does)"
        fi
    else
        mapfile -t lines <<<"$out"
        td_fail "$label: $wname's lease file binds each client as served" "${lines[@]}"
    fi

    # The second short lease must have ended before the reader reads the file.
    while [ "$(now)" -le $((t_s2 + SHORT + 1)) ]; do sleep 0.2; done

    # 5: the reader's own test of the file.
    td_check "$label: $rname -T accepts $wname's lease file" td_server_test_leases "$conf" "$leases" "$reader"

    # 6: the reader starts on it, which rewrites it.
    local t0 t1
    t0=$(now)
    if ix_start "r$d" "$reader" "$conf" "$leases"; then
        t1=$(now)
        cp "$leases" "$TD_WORK/d$d.after"
        td_ok "$label: $rname starts on $wname's lease file and rewrites it"
    else
        td_fail "$label: $rname starts on $wname's lease file" "$TD_START_ERROR"
        td_diag_file "$TD_WORK/r$d.log" 30
        return 1
    fi

    # 7: every binding field of every address.
    if out=$(py interop "$TD_WORK/d$d.before" "$TD_WORK/d$d.after" --read-from "$t0" --read-to "$t1" 2>&1); then
        td_ok "$label: every binding field of every address survives $rname's rewrite: ${out%%$'\n'*}"
    else
        mapfile -t lines <<<"$out"
        td_fail "$label: every binding field of every address survives $rname's rewrite" "${lines[@]}"
    fi

    # 8: the second short lease was expired by the reader, the released and the
    # declined ones stayed as they were.
    if out=$(py expect "$TD_WORK/d$d.after" \
        "$s2:state=free|expired,hw=ethernet $(mac "$d" 7)" \
        "$a4:state=free|released,hw=ethernet $(mac "$d" 4)" \
        "$a6:state=abandoned" 2>&1); then
        td_ok "$label: $rname expired $s2 (ended while no server ran) and kept the released $a4 and the declined $a6"
    else
        mapfile -t lines <<<"$out"
        td_fail "$label: $rname expired the lease that ended and kept the released and declined ones" "${lines[@]}"
    fi

    # 9: the clients come back to the reader and keep their addresses: dhclient
    # reboots (INIT-REBOOT, its lease file) and then renews (unicast RENEW), udhcpc
    # asks for nothing and gets its binding, the reserved host its address.
    errs=()
    if [ -z "$a1" ]; then
        errs+=("dhclient had no first lease")
    elif ! td_dhclient "dh$d" c1 eth0 || [ "$TD_ADDR" != "$a1" ]; then
        errs+=("dhclient reboot: $(td_client_summary), want $a1")
    elif ! td_dhclient_wait_event "dh$d" 'RENEW|REBIND' 10 || [ "$TD_ADDR" != "$a1" ]; then
        errs+=("dhclient renew: $(td_client_summary), want $a1")
    fi
    td_dhclient_stop "dh$d"
    if [ -z "$a2" ] || ! td_udhcpc "ud$d" c2 eth0 -x "hostname:ix-udhcpc-$d" || [ "$TD_ADDR" != "$a2" ]; then
        errs+=("udhcpc: $(td_client_summary), want ${a2:-its first address}")
    fi
    if ! td_udhcpc "rs$d" c3 eth0 || [ "$TD_ADDR" != "198.18.0.1$d" ]; then
        errs+=("reserved host: $(td_client_summary), want 198.18.0.1$d")
    fi
    if [ "${#errs[@]}" -eq 0 ]; then
        td_ok "$label: the clients renew against $rname and keep $a1, $a2 and 198.18.0.1$d"
    else
        td_fail "$label: the clients renew against $rname and keep their addresses" "${errs[@]}"
        td_diag_file "$TD_WORK/r$d.log"
    fi
    td_server_stop "r$d"
}

direction 1 "$SERVER" "$ISC"
while [ "$TD_N" -lt 9 ]; do td_fail "direction 1: not run (a server did not start)"; done
direction 2 "$ISC" "$SERVER"
while [ "$TD_N" -lt 18 ]; do td_fail "direction 2: not run (a server did not start)"; done

# ---- (c) what OMAPI and failover leave in the file -------------------------
# Host blocks as ISC writes them for omshell-created hosts (reference §5), the
# rubout of a host dhcpd.conf declares, a failover state block (this server is
# the secondary, so `mclt` is there: reference §3) and failover-pool leases with
# tstp, tsfp, atsfp and rewind states (§8), appended by hand to a file. They
# must all be in the server's rewrite, field for field, and the hosts must be
# live: their clients get their fixed addresses, the deleted host's does not.
conf=$TD_WORK/c.conf
leases=$TD_WORK/c.leases
cat >"$conf" <<EOF
# interop.sh (c): the secondary of a failover pair whose primary never comes.
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time $LEASE_TIME;
max-lease-time $LEASE_TIME;
failover peer "ix-peer" {
  secondary;
  address 198.18.0.1;
  port 16047;
  peer address 198.18.0.99;
  peer port 16047;
  max-response-delay 30;
  max-unacked-updates 10;
  load balance max seconds 3;
}
# The failover pool is on a subnet of no interface: its start-up state (no
# service until the peer is heard from or the start-up time passes) leaves
# the hosts and the pool of 198.18.0.0/16 alone.
subnet 198.51.100.0 netmask 255.255.255.0 {
  pool {
    failover peer "ix-peer";
    range 198.51.100.10 198.51.100.200;
  }
}
subnet 198.18.0.0 netmask 255.255.0.0 {
  range 198.18.5.0 198.18.5.255;
}
host ix-conf-host {
  hardware ethernet 02:00:5e:63:00:09;
  fixed-address 198.18.0.39;
}
EOF
# Dates: a day from now for the leases (still running when the file is read),
# the hour past for the failover states.
d() { date -u -d "@$1" '+%w %Y/%m/%d %H:%M:%S'; }
tn=$(now)
cat >"$leases" <<EOF
# appended by hand by interop.sh, as OMAPI and a failover secondary write them

host ix-omapi-1 {
  dynamic;
  hardware ethernet 02:00:5e:63:00:01;
  fixed-address 198.18.0.31;
}
host ix-omapi-2 {
  dynamic;
  hardware ethernet 02:00:5e:63:00:02;
  uid "client-2";
  fixed-address 198.18.0.32;
}
host ix-omapi-3 {
  dynamic;
  hardware ethernet 02:00:5e:63:00:03;
  uid 01:02:00:5e:63:00:03;
  fixed-address 198.18.0.33,198.18.0.34;
}
host ix-conf-host {
  dynamic;
  deleted;
}

failover peer "ix-peer" state {
  my state partner-down at $(d $((tn - 3600)));
  partner state communications-interrupted at $(d $((tn - 3700)));
  mclt 1800;
}
lease 198.51.100.10 {
  starts $(d $((tn - 60)));
  ends $(d $((tn + 86400)));
  tstp $(d $((tn + 86400 + 900)));
  tsfp $(d $((tn + 86400 + 900)));
  atsfp $(d $((tn + 86400 + 900)));
  cltt $(d $((tn - 60)));
  binding state active;
  next binding state expired;
  hardware ethernet 02:00:5e:63:00:10;
  uid "\\001\\002\\000^c\\000\\020";
  client-hostname "ix-fo-client";
}
lease 198.51.100.11 {
  starts $(d $((tn - 3600)));
  tstp $(d $((tn - 3600)));
  tsfp $(d $((tn - 3600)));
  atsfp $(d $((tn - 3600)));
  binding state backup;
}
lease 198.51.100.12 {
  starts $(d $((tn - 3600)));
  ends $(d $((tn + 86400)));
  tstp $(d $((tn + 86400)));
  tsfp $(d $((tn + 86400)));
  binding state active;
  next binding state expired;
  rewind binding state free;
  hardware ethernet 02:00:5e:63:00:12;
}
EOF
cp "$leases" "$TD_WORK/c.before"
sname=$(basename "$SERVER")

# 19
td_check "(c) $sname -T accepts the hand-appended host, rubout, failover state and lease blocks" \
    td_server_test_leases "$conf" "$leases"

# 20
if ix_start cs "$SERVER" "$conf" "$leases"; then
    cp "$leases" "$TD_WORK/c.after"
    t1=$(now)
    out=$(py objects "$TD_WORK/c.before" "$TD_WORK/c.after" 2>&1)
    st=$?
    out2=$(py interop "$TD_WORK/c.before" "$TD_WORK/c.after" --read-from "$tn" --read-to "$t1" 2>&1) || st=1
    if [ "$st" -eq 0 ]; then
        td_ok "(c) $sname's rewrite keeps them: ${out%%$'\n'*}; leases: ${out2%%$'\n'*}"
    else
        mapfile -t lines <<<"$out"$'\n'"$out2"
        td_fail "(c) $sname's rewrite keeps every host, rubout, failover state and lease field" "${lines[@]}"
    fi
else
    td_fail "(c) $sname starts on the hand-appended file" "$TD_START_ERROR"
    td_diag_file "$TD_WORK/cs.log" 30
fi

# 21: the hosts are live, and so is the rubout.
errs=()
for i in 1 2 3; do
    ip -n "$(td_ns "c$i")" link set eth0 address "02:00:5e:63:00:0$i"
done
ip -n "$(td_ns c4)" link set eth0 address 02:00:5e:63:00:09
if td_running "$(td_pid cs)"; then
    { td_udhcpc ch1 c1 eth0 -C && [ "$TD_ADDR" = 198.18.0.31 ]; } ||
        errs+=("ix-omapi-1 (hardware): $(td_client_summary), want 198.18.0.31")
    { td_udhcpc ch2 c2 eth0 -x 0x3d:636c69656e742d32 && [ "$TD_ADDR" = 198.18.0.32 ]; } ||
        errs+=("ix-omapi-2 (uid \"client-2\"): $(td_client_summary), want 198.18.0.32")
    { td_udhcpc ch3 c3 eth0 && [ "$TD_ADDR" = 198.18.0.33 ]; } ||
        errs+=("ix-omapi-3 (uid 01+MAC): $(td_client_summary), want 198.18.0.33")
    # Deleted, the host is an unknown client: an address of the pool.
    { td_udhcpc ch4 c4 eth0 && case $TD_ADDR in 198.18.5.*) true ;; *) false ;; esac; } ||
        errs+=("ix-conf-host (deleted in the lease file): $(td_client_summary), want an address of 198.18.5.0-255")
else
    errs+=("the server is not running")
fi
if [ "${#errs[@]}" -eq 0 ]; then
    td_ok "(c) the OMAPI hosts get their fixed addresses, the deleted host a pool address ($TD_ADDR)"
else
    td_fail "(c) the OMAPI hosts get their fixed addresses, the deleted host a pool address" "${errs[@]}"
    td_diag_file "$TD_WORK/cs.log"
fi
td_server_stop cs
