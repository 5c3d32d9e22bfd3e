#!/usr/bin/env bash
# The Prometheus endpoint (`metrics-listen`) scraped around a perfdhcp run:
# the text parses as Prometheus's format, the packet counters moved by exactly
# what perfdhcp counted, and the pool gauges match the lease file. TAP. Run
# alone as root: SERVER=tandemd bash metrics.sh
. "$(dirname "$0")/lib.sh"

td_plan 6
td_require ip timeout python3 perfdhcp
if [ "$(td_server_kind)" != tandem ]; then
    for i in $(seq 1 6); do td_skip "metrics case $i" "metrics-listen is Tandem's own statement"; done
    td_finish_plan
    exit 0
fi

conf=$TD_WORK/dhcpd.conf
leases=$TD_WORK/dhcpd.leases
cat >"$conf" <<'CONF'
ping-check false;
default-lease-time 600;
metrics-listen 127.0.0.1 port 9167;
subnet 198.18.0.0 netmask 255.255.0.0 {
  pool { range 198.18.1.0 198.18.4.255; }
}
CONF

td_bridge lan
td_netns srv
td_link srv eth0 lan
td_addr srv eth0 198.18.0.1/16
td_netns load
td_link load eth0 lan
td_addr load eth0 198.18.0.2/16
srvlog=$TD_WORK/srv.log

if td_server_start srv srv eth0 "$conf" "$leases"; then
    td_ok "tandemd starts with metrics-listen"
else
    td_fail "tandemd starts with metrics-listen" "$TD_START_ERROR"
    td_diag_file "$srvlog" 30
    exit 1
fi

scrape() { # scrape FILE: the endpoint, from inside the server's namespace (its own loopback)
    td_exec srv python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:9167/metrics", timeout=5).read().decode())' >"$1"
}
value() { # value FILE SAMPLE LABELS: the sum of the samples named SAMPLE whose labels include LABELS (k=v,...)
    python3 -c '
import sys, os
sys.path.insert(0, os.environ["TD_LIB_DIR"])
import promcheck
families, _ = promcheck.parse(open(sys.argv[1]).read())
want = dict(kv.split("=", 1) for kv in sys.argv[3].split(",") if kv)
total = 0
for f in families.values():
    for name, labels, v in f.samples:
        if name == sys.argv[2] and all(labels.get(k) == x for k, x in want.items()):
            total += v
print(int(total))' "$1" "$2" "$3"
}
export TD_LIB_DIR

scrape "$TD_WORK/before.prom"
td_bounded 60 ip netns exec "$(td_ns load)" perfdhcp -4 -l eth0 -r 100 -R 400 -p 4 -d 2 \
    -b mac=02:00:60:00:00:00 >"$TD_WORK/perfdhcp.out" 2>&1
sleep 1
scrape "$TD_WORK/after.prom"

# 2
if out=$(python3 "$TD_LIB_DIR/promcheck.py" --prefix tandem_ "$TD_WORK/after.prom" 2>&1); then
    td_ok "the scrape parses as Prometheus text format"
else
    td_fail "the scrape parses as Prometheus text format" "$out"
fi

# perfdhcp's own counts: the first "sent packets" block is DISCOVER/OFFER, the second REQUEST/ACK.
read -r disc_sent req_sent < <(awk '/^sent packets:/ { n[++i] = $3 } END { print n[1], n[2] }' "$TD_WORK/perfdhcp.out")
read -r offers acks < <(awk '/^received packets:/ { n[++i] = $3 } END { print n[1], n[2] }' "$TD_WORK/perfdhcp.out")
delta() { echo $(($(value "$TD_WORK/after.prom" "$1" "$2") - $(value "$TD_WORK/before.prom" "$1" "$2"))); }
d_disc=$(delta tandem_dhcp_packets_received_total type=discover)
d_req=$(delta tandem_dhcp_packets_received_total type=request)
d_offer=$(delta tandem_dhcp_packets_sent_total type=offer)
d_ack=$(delta tandem_dhcp_packets_sent_total type=ack)

# 3, 4: what perfdhcp sent, the server received, exactly. What the server sent,
# perfdhcp received, but for the replies still in flight when perfdhcp stopped
# (at most a couple at 100 exchanges a second).
close() { [ "$1" -ge "$2" ] && [ $(($1 - $2)) -le 2 ]; }
if [ -n "$disc_sent" ] && [ "$d_disc" = "$disc_sent" ] && [ "$d_req" = "$req_sent" ]; then
    td_ok "DISCOVER and REQUEST counters moved as perfdhcp sent ($d_disc/$disc_sent, $d_req/$req_sent)"
else
    td_fail "DISCOVER and REQUEST counters moved as perfdhcp sent" "received $d_disc/$d_req, perfdhcp sent $disc_sent/$req_sent"
fi
if [ -n "$offers" ] && close "$d_offer" "$offers" && close "$d_ack" "$acks"; then
    td_ok "OFFER and ACK counters moved as perfdhcp received ($d_offer/$offers, $d_ack/$acks)"
else
    td_fail "OFFER and ACK counters moved as perfdhcp received" "sent $d_offer/$d_ack, perfdhcp received $offers/$acks"
fi

# 5: the pool gauges against the lease file.
active_file=$(python3 "$TD_LIB_DIR/tdcheck.py" records "$leases" 2>/dev/null | grep -c "state='active'" || true)
active_gauge=$(value "$TD_WORK/after.prom" tandem_pool_leases state=active)
if [ "$active_gauge" -gt 0 ] && [ "$active_gauge" = "$active_file" ]; then
    td_ok "the active-lease gauge matches the lease file ($active_gauge)"
else
    td_fail "the active-lease gauge matches the lease file" "gauge $active_gauge, $active_file active in the file"
fi

# 6: the commit latency histogram counted the commits.
commits=$(value "$TD_WORK/after.prom" tandem_lease_commit_duration_seconds_count "")
td_check "the lease-commit latency histogram has observations ($commits)" [ "$commits" -gt 0 ]
td_finish_plan
