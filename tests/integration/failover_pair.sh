#!/usr/bin/env bash
# A failover pair from empty lease files: both servers reach normal, the
# primary hands the secondary its share of the pool (binding state backup),
# DISCOVERs are answered by the server that the RFC 3074 hash of the client
# names (split 128, load balance max seconds 3), every lease is in both lease
# files, and an idle pair stays normal over 3 x max-response-delay.
# TAP. Run alone as root:
#   PRIMARY=/usr/sbin/dhcpd SECONDARY=/usr/sbin/dhcpd bash failover_pair.sh
#
#   bridge "lan" 192.0.2.0/24: pri 192.0.2.1 (port 647), sec 192.0.2.2 (port 847),
#   cli (failover_client.py, tcpdump), dhc (dhclient, tcpdump)
. "$(dirname "$0")/lib.sh"

MRD=5            # max-response-delay: CONTACT every second, idle check 3 x MRD
MCLT=60
POOL_FIRST=100 POOL_LAST=199
NCLIENTS=16      # scripted clients: half with a client identifier, half without

td_plan 11
td_fo_require ip timeout python3 tcpdump dhclient

master=$TD_WORK/dhcpd.master
cat >"$master" <<EOF
# failover_pair.sh: what both servers share.
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time 600;
max-lease-time 600;
subnet 192.0.2.0 netmask 255.255.255.0 {
  pool {
    failover peer "$FO_NAME";
    range 192.0.2.$POOL_FIRST 192.0.2.$POOL_LAST;
  }
}
EOF
peer=("max-response-delay $MRD" "max-unacked-updates 10" "load balance max seconds 3")
td_fo_conf "$TD_WORK/pri.conf" primary 192.0.2.1 647 192.0.2.2 847 "$master" "${peer[@]}" "mclt $MCLT" "split 128"
td_fo_conf "$TD_WORK/sec.conf" secondary 192.0.2.2 847 192.0.2.1 647 "$master" "${peer[@]}"
pl=$TD_WORK/pri.leases sl=$TD_WORK/sec.leases

td_fo_topology 192.0.2
td_netns cli
td_link cli eth0 lan 02:00:5e:30:00:01
td_netns dhc
td_link dhc eth0 lan 02:00:5e:30:00:99
pair=$(td_fo_pair)

t0=$(td_now_ms)
if td_fo_start pri primary pri eth0 "$TD_WORK/pri.conf" "$pl" &&
    td_fo_start sec secondary sec eth0 "$TD_WORK/sec.conf" "$sl"; then
    td_ok "both servers start with empty lease files ($pair)"
else
    td_fail "both servers start with empty lease files ($pair)" "$TD_START_ERROR"
    td_diag_file "$(td_log pri)" 20
    td_diag_file "$(td_log sec)" 20
    exit 1
fi

for s in pri sec; do
    if td_fo_wait_state "$s" normal 30; then
        td_ok "$s reaches normal in $(($(td_now_ms) - t0)) ms (states: $(td_fo_moves "$s"))"
    else
        td_fail "$s reaches normal within 30 s" "states: $(td_fo_moves "$s")"
        td_diag_file "$(td_log "$s")" 25
    fi
done

# The pool balance moves about half of the FREE leases to BACKUP (ISC: (free -
# backup) / 2, failover-protocol.md (g)); the secondary has them once their
# BNDUPDs arrived. Wait until both files agree and stop changing.
total=$((POOL_LAST - POOL_FIRST + 1))
hold=$(((total * 10 + 50) / 100)) # max-lease-ownership 10 %
end=$(($(date +%s) + 20)) prev=-1 nb=0 np=0
while [ "$(date +%s)" -lt "$end" ]; do
    nb=$(td_fo_count_state "$sl" backup)
    np=$(td_fo_count_state "$pl" backup)
    [ "$nb" -gt 0 ] && [ "$nb" = "$np" ] && [ "$nb" = "$prev" ] && break
    prev=$nb
    sleep 1
done
if [ "$nb" -gt 0 ] && [ "$nb" = "$np" ] && [ $((nb - total / 2)) -le "$hold" ] && [ $((total / 2 - nb)) -le "$hold" ]; then
    td_ok "the secondary holds $nb of $total leases as backup, as the primary's file says (half, within $hold)"
else
    td_fail "the secondary holds about half of the pool as backup leases" \
        "secondary: $(td_fo_py states "$sl")" "primary:   $(td_fo_py states "$pl")"
fi

pcap=$TD_WORK/cli.pcap pcap2=$TD_WORK/dhc.pcap
if ! td_fo_capture tcpdump cli "$pcap" || ! td_fo_capture tcpdump2 dhc "$pcap2"; then
    td_diag "tcpdump did not start: the load-balancing checks below will fail"
fi

macs=() cids=()
for i in $(seq 1 $((NCLIENTS / 2))); do macs+=("$(printf '02:00:5e:31:00:%02x' "$i")"); done
for i in $(seq 1 $((NCLIENTS / 2))); do cids+=("$(printf '02:00:5e:32:00:%02x' "$i")"); done
lbout=$TD_WORK/lb.txt
st=0
{ td_fo_clients cli eth0 dora "${macs[@]}" --secs 0 && td_fo_clients cli eth0 dora "${cids[@]}" --secs 0 --cid; } >"$lbout" 2>&1 || st=$?
if [ "$st" -eq 0 ] && [ "$(grep -c ' 192\.0\.2\.' "$lbout")" -eq "$NCLIENTS" ]; then
    td_ok "$NCLIENTS scripted clients get a lease ($(grep -c ' 192\.0\.2\.1 [0-9]* offers' "$lbout") from the primary, $(grep -c ' 192\.0\.2\.2 [0-9]* offers' "$lbout") from the secondary)"
else
    mapfile -t lines <"$lbout"
    td_fail "$NCLIENTS scripted clients get a lease" "${lines[@]}"
fi

# The MCLT rule (failover-protocol.md (d)): a lease the peer has never
# acknowledged is granted at most MCLT, here 60 s of the 600 asked for.
long=$(awk '$2 != "-" && $4 != '"$MCLT"' { print }' "$lbout")
if [ -z "$long" ] && grep -q ' 192\.0\.2\.' "$lbout"; then
    td_ok "every first lease is granted MCLT ($MCLT s), not default-lease-time (600 s)"
else
    td_fail "every first lease is granted MCLT ($MCLT s)" "$long"
fi

if td_dhclient dhc1 dhc eth0; then
    td_ok "dhclient gets $TD_ADDR from $TD_SERVER_ID"
else
    td_fail "dhclient gets a lease" "$(td_client_summary)"
    td_diag_file "$TD_WORK/dhc1/dhclient.log"
fi
sleep 0.5
td_stop tcpdump
td_stop tcpdump2

td_check "every DISCOVER is offered and acked by the server its RFC 3074 bucket names (split 128)" \
    td_fo_py lbcheck "$pcap,$pcap2" --primary 192.0.2.1 --secondary 192.0.2.2 --split 128 --max-secs 3

# The same, from the servers' own logs: each DHCPACK line is in the log of the
# server the hash names, and not in the other's.
check_logs() {
    local mac addr want other bad=0 key h side
    while read -r mac addr _; do
        [ "$addr" = - ] && continue
        key=$mac
        printf '%s\n' "${cids[@]}" | grep -q -x "$mac" && key="01:$mac"
        read -r _ h side < <(td_fo_py lbhash --split 128 "$key")
        if [ "$side" = primary ]; then want=pri other=sec; else want=sec other=pri; fi
        if ! grep -q "DHCPACK on $addr to $mac" "$(td_log "$want")" ||
            grep -q "DHCPACK on $addr to $mac" "$(td_log "$other")"; then
            echo "$mac (hash $h, $side): DHCPACK on $addr logged by $(grep -l "DHCPACK on $addr to $mac" "$(td_log pri)" "$(td_log sec)" | xargs -r -n1 basename | tr '\n' ' ')"
            bad=1
        fi
    done <"$lbout"
    [ "$bad" -eq 0 ]
}
td_check "each DHCPACK is logged by the server the hash names, and only by it" check_logs

# Every binding reaches the peer: BNDUPD, BNDACK (ISC flushes ACKs after 2 s).
end=$(($(date +%s) + 15))
while ! td_fo_py agree "$pcap,$pcap2" "$pl" "$sl" >/dev/null 2>&1 && [ "$(date +%s)" -lt "$end" ]; do sleep 1; done
td_check "every acked lease is active for the same client in both lease files" \
    td_fo_py agree "$pcap,$pcap2" "$pl" "$sl"

# Idle: no client, 3 x max-response-delay. CONTACTs keep the link up; nothing
# may time out or change state.
td_dhclient_stop dhc1
mp=$(td_fo_mark pri) ms=$(td_fo_mark sec)
sleep $((3 * MRD))
re="timeout waiting|I move from|peer moves from|disconnected|lost connection"
np=$(td_fo_count pri "$mp" "$re") ns=$(td_fo_count sec "$ms" "$re")
if [ "$np" -eq 0 ] && [ "$ns" -eq 0 ] && [ "$(td_fo_state pri)" = normal ] && [ "$(td_fo_state sec)" = normal ] &&
    td_running "$(td_pid pri)" && td_running "$(td_pid sec)"; then
    td_ok "an idle pair stays normal for $((3 * MRD)) s (3 x max-response-delay)"
else
    td_fail "an idle pair stays normal for $((3 * MRD)) s" \
        "primary: $(td_fo_after pri "$mp" | grep -E "$re" | head -3 | tr '\n' '|')" \
        "secondary: $(td_fo_after sec "$ms" | grep -E "$re" | head -3 | tr '\n' '|')"
fi
