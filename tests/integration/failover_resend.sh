#!/usr/bin/env bash
# A real ISC primary's full resend to a tandemd secondary: the primary starts
# on a lease file of RESEND_BINDINGS (20,000) active failover bindings and no
# state block, the secondary on an empty one; both start in recover and ask
# each other for everything (UPDREQALL), so ISC streams every binding in
# BNDUPDs, max-unacked-updates at a time. Tens of thousands of updates must
# not be mistaken for a flood: the link stays up, both reach normal, and the
# secondary's file holds every binding. TAP. Needs /usr/sbin/dhcpd and tandemd:
#   TANDEMD=build/tandemd bash failover_resend.sh
#
#   bridge "lan" (198.18.0.0/16, the benchmarking range): pri 198.18.0.1,
#   sec 198.18.0.2; the pool from 198.18.1.0.
. "$(dirname "$0")/lib.sh"

td_plan 5
ISC=${ISC_DHCPD:-/usr/sbin/dhcpd}
TANDEMD=${TANDEMD:-${top_builddir:-.}/tandemd}
SERVER=$TANDEMD
N=${RESEND_BINDINGS:-20000}
LIMIT=${RESEND_SECS:-180}
GEN=${top_srcdir:-$(dirname "$0")/../..}/bench/gen_leases.py
td_require ip timeout python3 "$ISC"
FO_NAME=resend
MCLT=600
MUU=${RESEND_MUU:-100}
FIRST=198.18.1.0
LAST=$(python3 -c 'import ipaddress, sys; print(ipaddress.IPv4Address(sys.argv[1]) + int(sys.argv[2]) - 1)' "$FIRST" "$N")

cat >"$TD_WORK/dhcpd.master" <<EOF
ddns-update-style none;
ping-check false;
default-lease-time 3600;
max-lease-time 3600;
subnet 198.18.0.0 netmask 255.255.0.0 {
  pool { failover peer "$FO_NAME"; range $FIRST $LAST; }
}
EOF
peer=("max-response-delay 30" "max-unacked-updates $MUU" "load balance max seconds 3")
td_fo_conf "$TD_WORK/pri.conf" primary 198.18.0.1 647 198.18.0.2 847 "$TD_WORK/dhcpd.master" \
    "${peer[@]}" "mclt $MCLT" "split 128"
td_fo_conf "$TD_WORK/sec.conf" secondary 198.18.0.2 847 198.18.0.1 647 "$TD_WORK/dhcpd.master" "${peer[@]}"

td_bridge lan
td_netns pri
td_link pri eth0 lan
td_addr pri eth0 198.18.0.1/16
td_netns sec
td_link sec eth0 lan
td_addr sec eth0 198.18.0.2/16
moves_re="failover peer $FO_NAME: I move from [a-z-]+ to normal"
now_s() { date +%s.%N; }

# 1: the primary's file, as an ISC primary writes it (tstp, next binding state
# expired), and no failover state block: it starts in recover.
if python3 "$GEN" --count "$N" --first "$FIRST" --lease-time 604800 --failover "$MCLT" \
    --out "$TD_WORK/pri.leases" >"$TD_WORK/gen.log" 2>&1 &&
    td_server_start pri pri eth0 "$TD_WORK/pri.conf" "$TD_WORK/pri.leases" "$ISC"; then
    td_ok "ISC primary starts on $N active bindings ($FIRST-$LAST)"
else
    td_fail "ISC primary starts on $N active bindings" "$TD_START_ERROR" "$(tail -n 3 "$TD_WORK/gen.log")"
    exit 1
fi

# 2
t0=$(now_s)
SERVER_ARGS="--control $TD_WORK/sec.ctl"
if td_server_start sec sec eth0 "$TD_WORK/sec.conf" "$TD_WORK/sec.leases" "$TANDEMD" &&
    td_wait_log "$(td_log sec)" "$moves_re" "$LIMIT" "$(td_pid sec)" &&
    td_wait_log "$(td_log pri)" "$moves_re" 30 "$(td_pid pri)"; then
    td_ok "both reach normal after the resend ($(awk -v a="$t0" -v b="$(now_s)" 'BEGIN {printf "%.1f", b - a}') s; secondary: $(td_fo_moves sec))"
else
    td_fail "both reach normal within $LIMIT s" "$TD_START_ERROR" "secondary: $(td_fo_moves sec)" \
        "primary: $(td_fo_moves pri)"
    td_diag_file "$(td_log sec)" 15
    td_diag_file "$(td_log pri)" 15
fi

# 3: one link from start to end: no flood verdict, no disconnect on either side.
drops=$(grep -E -c "unacknowledged|disconnect|link (closed|lost)|communications-interrupted" "$(td_log sec)") || true
isc_drops=$(grep -E -c "[Dd]isconnect|peer.*closed|communications-interrupted" "$(td_log pri)") || true
if [ "$drops" -eq 0 ] && [ "$isc_drops" -eq 0 ]; then
    td_ok "the resend is not taken for a flood: one link throughout, max-unacked-updates $MUU"
else
    td_fail "the resend is not taken for a flood" "tandemd: $drops line(s), ISC: $isc_drops line(s)" \
        "$(grep -E "unacknowledged|disconnect|link (closed|lost)|communications-interrupted" "$(td_log sec)" | head -n 3)" \
        "$(grep -E "[Dd]isconnect|peer.*closed|communications-interrupted" "$(td_log pri)" | head -n 3)"
fi

# 4, 5: every binding made it, and both files agree.
sleep 2
sec_states=$(td_fo_py states "$TD_WORK/sec.leases")
case " $sec_states " in
    *" active=$N "*) td_ok "the secondary's lease file holds all $N bindings active ($sec_states)" ;;
    *) td_fail "the secondary's lease file holds all $N bindings active" "$sec_states" ;;
esac
pri_states=$(td_fo_py states "$TD_WORK/pri.leases")
case " $pri_states " in
    *" active=$N "*) td_ok "the ISC primary still holds all $N active ($pri_states)" ;;
    *) td_fail "the ISC primary still holds all $N active" "$pri_states" ;;
esac
td_finish_plan
