#!/usr/bin/env bash
# A network partition: the two servers of a pair cannot reach each other, but
# the clients reach both. Under bounded perfdhcp load both serve; one side is put
# into partner-down by hand and held there past MCLT, with short leases, then the
# partition heals and the pair resolves the conflict back to normal. A checker
# reads both lease files and every DHCPACK captured at the clients and proves:
# no address was acked to two clients at overlapping times, no lease given
# without the peer's acknowledgement ran longer than the MCLT rule allows
# (option 51 vs mclt, failover-protocol.md (d)), and the two lease files never
# bind one address to two clients (draft-ietf-dhc-failover-12 §5.2.1).
#
# Partner-down on one side while its partner still serves is the operator error
# the protocol warns about; it stays safe here because a server in partner-down
# (ISC: allocate_lease) takes its own never-used leases before the peer's,
# and the pool is large enough that neither side runs out of its own share.
#
# TAP. Run alone as root:
#   PRIMARY=/usr/sbin/dhcpd SECONDARY=/usr/sbin/dhcpd bash failover_partition.sh
# PD_SIDE=primary|secondary: the side put into partner-down (default: the one
# tandemd runs, if only one does; else the primary).
#
#   bridge "lan" 198.18.0.0/16 (RFC 2544 benchmarking range): pri 198.18.0.1,
#   sec 198.18.0.2, load 198.18.0.3 (perfdhcp as a relay, tcpdump). The
#   partition is bridge port isolation of pri and sec: silent, and the load
#   port still reaches both.
. "$(dirname "$0")/lib.sh"

MRD=5
MCLT=20
LEASE=40              # above MCLT, so that the MCLT rule shows in option 51
RATE=${PARTITION_RATE:-10}
CLIENTS=${PARTITION_CLIENTS:-15}
LOAD_SECS=${PARTITION_LOAD_SECONDS:-4}
FO_OMAPI=1

if [ -n "${PD_SIDE:-}" ]; then
    PD=$PD_SIDE
elif [ "$(td_fo_kind secondary)" = tandem ] && [ "$(td_fo_kind primary)" = isc ]; then
    PD=secondary
else
    PD=primary
fi
case $PD in primary) PDN=pri ;; secondary) PDN=sec ;; *) echo "1..0 # SKIP PD_SIDE must be primary or secondary"; exit 0 ;; esac

td_plan 12
td_fo_require ip bridge timeout python3 perfdhcp tcpdump
[ "$(td_fo_kind "$PD")" = isc ] && td_fo_require omshell

master=$TD_WORK/dhcpd.master
cat >"$master" <<EOF
# failover_partition.sh: what both servers share.
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time $LEASE;
max-lease-time $LEASE;
subnet 198.18.0.0 netmask 255.255.0.0 {
  pool {
    failover peer "$FO_NAME";
    range 198.18.1.0 198.18.2.255;
  }
}
EOF
peer=("max-response-delay $MRD" "max-unacked-updates 10" "load balance max seconds 3")
td_fo_conf "$TD_WORK/pri.conf" primary 198.18.0.1 647 198.18.0.2 847 "$master" "${peer[@]}" "mclt $MCLT" "split 128"
td_fo_conf "$TD_WORK/sec.conf" secondary 198.18.0.2 847 198.18.0.1 647 "$master" "${peer[@]}"
pl=$TD_WORK/pri.leases sl=$TD_WORK/sec.leases

td_fo_topology 198.18.0 16
td_netns load
td_link load eth0 lan 02:00:5e:50:ff:01
td_addr load eth0 198.18.0.3/16
pcap=$TD_WORK/load.pcap
pair=$(td_fo_pair)
now_s() { date +%s.%N; }

if td_fo_start pri primary pri eth0 "$TD_WORK/pri.conf" "$pl" &&
    td_fo_start sec secondary sec eth0 "$TD_WORK/sec.conf" "$sl"; then
    td_ok "both servers start ($pair; the $PD will be put into partner-down)"
else
    td_fail "both servers start ($pair)" "$TD_START_ERROR"
    td_diag_file "$(td_log pri)" 20
    td_diag_file "$(td_log sec)" 20
    exit 1
fi

nb=0 prev=-1
if td_fo_wait_state pri normal 30 && td_fo_wait_state sec normal 30; then
    end=$(($(date +%s) + 20))
    while [ "$(date +%s)" -lt "$end" ]; do
        nb=$(td_fo_count_state "$sl" backup)
        [ "$nb" -gt 0 ] && [ "$nb" = "$(td_fo_count_state "$pl" backup)" ] && [ "$nb" = "$prev" ] && break
        prev=$nb
        sleep 1
    done
fi
if [ "$(td_fo_state pri)" = normal ] && [ "$(td_fo_state sec)" = normal ] && [ "$nb" -gt 0 ]; then
    td_ok "both reach normal; the secondary holds $nb backup leases"
else
    td_fail "both reach normal with backup leases on the secondary" "primary: $(td_fo_moves pri)" \
        "secondary: $(td_fo_moves sec)" "backup leases: $nb"
    exit 1
fi

if ! td_fo_capture tcpdump load "$pcap"; then
    td_fail "tcpdump captures DHCP in the load namespace" "no 'listening on eth0'"
    exit 1
fi

# load PHASE MACBYTE: perfdhcp for LOAD_SECS with CLIENTS clients of its own
# (MACs 02:00:5e:MACBYTE:xx:xx); the ACKs of the phase are counted per server.
load() {
    local phase=$1 st=0 t0 t1
    t0=$(now_s)
    td_bounded $((LOAD_SECS + 20)) ip netns exec "$(td_ns load)" perfdhcp -4 -l eth0 -r "$RATE" -R "$CLIENTS" \
        -p "$LOAD_SECS" -d 2 -b "mac=02:00:5e:$2:00:00" >>"$TD_WORK/perfdhcp.$phase.log" 2>&1 || st=$?
    t1=$(now_s)
    sleep 0.3
    LOAD_ACKS=$(td_fo_py acks "$pcap" | awk -v a="$t0" -v b="$t1" '$1 >= a && $1 <= b + 1' | wc -l)
    LOAD_STATUS=$st
    # Which servers acked, and which offered, in this phase (option 54).
    LOAD_SERVERS=$(replies_by_server 5 "$t0" "$t1")
    LOAD_OFFERS=$(replies_by_server 2 "$t0" "$t1")
    case $st in 0 | 3) return 0 ;; *) return 1 ;; esac
}
# replies_by_server TYPE T0 T1: "198.18.0.1=N 198.18.0.2=M", the DHCP messages of
# TYPE (2 offer, 5 ack) each server sent in [T0, T1 + 1].
replies_by_server() {
    python3 -B -c '
import sys
sys.path.insert(0, sys.argv[1])
import tdcheck
want, t0, t1 = int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
c = {}
for t, src, _, m in tdcheck.dhcp_messages(sys.argv[2]):
    if m["op"] == 2 and m["type"] == want and t0 <= t <= t1 + 1:
        sid = tdcheck.server_of(m, src)
        c[sid] = c.get(sid, 0) + 1
print(" ".join("%s=%d" % kv for kv in sorted(c.items())))
' "$TD_LIB_DIR" "$pcap" "$1" "$2" "$3"
}

if load normal 51 && [ "$LOAD_ACKS" -gt 0 ]; then
    td_ok "perfdhcp in normal: $LOAD_ACKS DHCPACKs ($LOAD_SERVERS)"
else
    td_fail "perfdhcp in normal: DHCPACKs" "status $LOAD_STATUS, $LOAD_ACKS ACKs"
    td_diag_file "$TD_WORK/perfdhcp.normal.log"
fi

# The partition.
mp=$(td_fo_mark pri) ms=$(td_fo_mark sec)
t_cut=$(now_s)
td_fo_isolate on
if td_fo_wait pri "$mp" "$(td_fo_re_move communications-interrupted)" $((MRD + 6)) &&
    td_fo_wait sec "$ms" "$(td_fo_re_move communications-interrupted)" $((MRD + 6)); then
    td_ok "partition: both servers move to communications-interrupted (max-response-delay $MRD s)"
else
    td_fail "partition: both servers move to communications-interrupted" "primary: $(td_fo_moves pri "$mp")" \
        "secondary: $(td_fo_moves sec "$ms")"
fi

# Out of touch, each server answers every client from its own free addresses
# (no load balancing): both offer. Which offer a client takes is a matter of
# speed, so only the ACKs' total is asserted.
if load comm-int 52 && [ "$LOAD_ACKS" -gt 0 ] && [ "$(wc -w <<<"$LOAD_OFFERS")" -eq 2 ]; then
    td_ok "perfdhcp in communications-interrupted: both servers offer ($LOAD_OFFERS); $LOAD_ACKS DHCPACKs ($LOAD_SERVERS)"
else
    td_fail "perfdhcp in communications-interrupted: both servers offer, DHCPACKs" \
        "status $LOAD_STATUS, offers ($LOAD_OFFERS), $LOAD_ACKS ACKs ($LOAD_SERVERS)"
fi

mpd=$(td_fo_mark "$PDN")
t_pd_s=$(now_s) # no later than the server's stos of partner-down
if td_fo_partner_down "$PDN" "$PD" "$PDN" && td_fo_wait "$PDN" "$mpd" "$(td_fo_re_move partner-down)" 10; then
    t_pd=$(td_now_ms)
    td_ok "the $PD goes partner-down by hand ($(td_fo_kind "$PD"): $([ "$(td_fo_kind "$PD")" = isc ] && echo omshell || echo tandemctl))"
else
    t_pd=$(td_now_ms)
    td_fail "the $PD goes partner-down by hand" "states: $(td_fo_moves "$PDN" "$mpd")"
    td_diag_file "$TD_WORK/$PDN.admin.log"
fi

if load pd-early 53 && [ "$LOAD_ACKS" -gt 0 ]; then
    td_ok "perfdhcp with the $PD in partner-down, before MCLT: $LOAD_ACKS DHCPACKs ($LOAD_SERVERS)"
else
    td_fail "perfdhcp with the $PD in partner-down, before MCLT" "status $LOAD_STATUS, $LOAD_ACKS ACKs"
fi

# Past MCLT: the partner-down side may now take over the peer's leases, and the
# short leases of the first phases have run out. The clients of the
# communications-interrupted phase come back: each server finds the lease it
# gave them, expired.
wait_ms=$((t_pd + (MCLT + 2) * 1000 - $(td_now_ms)))
[ "$wait_ms" -gt 0 ] && sleep "$((wait_ms / 1000)).$(printf '%03d' $((wait_ms % 1000)))"
if load pd-late 52 && [ "$LOAD_ACKS" -gt 0 ]; then
    td_ok "perfdhcp with the $PD in partner-down past MCLT: $LOAD_ACKS DHCPACKs ($LOAD_SERVERS)"
else
    td_fail "perfdhcp with the $PD in partner-down past MCLT" "status $LOAD_STATUS, $LOAD_ACKS ACKs"
fi

# Heal.
mp=$(td_fo_mark pri) ms=$(td_fo_mark sec)
td_fo_isolate off
if td_fo_wait_state pri normal 60 "$mp" && td_fo_wait_state sec normal 60 "$ms"; then
    td_ok "healed: both normal again (primary: $(td_fo_moves pri "$mp"); secondary: $(td_fo_moves sec "$ms"))"
else
    td_fail "healed: both normal again within 60 s" "primary: $(td_fo_moves pri "$mp")" "secondary: $(td_fo_moves sec "$ms")"
    td_diag_file "$(td_log pri)"
    td_diag_file "$(td_log sec)"
fi
t_normal=$(now_s)
sleep 3 # the updates of normal (BNDUPD/BNDACK) settle
td_stop tcpdump

pd_addr=198.18.0.1
[ "$PD" = secondary ] && pd_addr=198.18.0.2
out=$(td_fo_py partition "$pcap" "$pl" "$sl" --mclt "$MCLT" --lease-time "$LEASE" --cut "$t_cut" --heal "$t_normal" \
    --pd-server "$pd_addr" --pd-since "$t_pd_s" --self-test 2>&1)
st=$?
mapfile -t lines <<<"$out"
if [ "$st" -eq 0 ]; then
    td_ok "the checker on both lease files and every ACK: ${lines[0]}"
else
    td_fail "no overlapping bindings, the MCLT rule kept, no address active for two clients" "${lines[@]}"
fi
if grep -q 'self-test:' <<<"$out" && ! grep -q 'NOT REPORTED\|self-test: no ACK' <<<"$out"; then
    td_ok "the checker reports each kind of fault planted in a copy of the evidence"
else
    td_fail "the checker reports each kind of planted fault" "$(grep 'self-test' <<<"$out")"
fi

# Conflict resolution brought every binding of the partition that still runs
# (2 s past now) into both lease files: each client's last address, since a
# client acked a new address has left its old one, which its server may free
# (ISC does, on a second lease for the same uid). Not the lease's end: ISC's two
# servers both ACK a REQUEST that names one of them, each for its own time, and
# after the resolution both files keep one of the two ends.
alive=$(python3 -c 'import time; print("%.3f" % (time.time() + 2))')
td_check "after the heal every client's lease of the partition that still runs is in both lease files" \
    td_fo_py agree "$pcap" "$pl" "$sl" --after "$t_cut" --alive-at "$alive" --per-client
ends=$(td_fo_py agree "$pcap" "$pl" "$sl" --after "$t_cut" --alive-at "$alive" --per-client --ends | sed -n '1p')
td_diag "the same with the ends of the last ACKs: $ends"
