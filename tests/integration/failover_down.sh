#!/usr/bin/env bash
# One server of a failover pair goes away; the other carries on.
#
# Phase A, kill -9 (the kernel closes the socket): the survivor logs
# communications-interrupted at once, renews every client of the pair, gives
# new clients only its own share of the pool (free on the primary, backup on the
# secondary) until that runs out, moves to partner-down after auto-partner-down
# N s, and only MCLT after that hands out the dead peer's share (draft-ietf-dhc-
# failover-12 §5.2.1, failover-protocol.md (e)). The dead peer comes back on its
# lease file: recover, (recover-wait), recover-done, normal; when its recovery
# update is done it knows every lease the survivor gave meanwhile.
#
# Phase B, a silent cut (the other server's bridge port down: no FIN, no RST):
# the survivor notices only after max-response-delay and renews a client; the
# cut-off server goes partner-down (its auto-partner-down), and once the port is
# up the pair resolves the conflict (potential-conflict) and is normal again.
#
# TAP. Run alone as root:
#   PRIMARY=/usr/sbin/dhcpd SECONDARY=/usr/sbin/dhcpd bash failover_down.sh
# DOWN_VICTIM=secondary (default) or primary: the server killed in phase A; the
# other one is cut off in phase B.
#
#   bridge "lan" 192.0.2.0/24: pri 192.0.2.1, sec 192.0.2.2, cli (failover_client.py,
#   tcpdump), dhc (dhclient, tcpdump)
. "$(dirname "$0")/lib.sh"

MRD=5          # max-response-delay
MCLT=30
APD=5          # auto-partner-down, on phase A's survivor
LEASE=60       # default-lease-time: first grants are MCLT (30), renewals 60
POOL_FIRST=100 POOL_LAST=115
POOL=192.0.2.$POOL_FIRST-192.0.2.$POOL_LAST

VICTIM=${DOWN_VICTIM:-secondary}
case $VICTIM in
    secondary) V=sec S=pri SROLE=primary OWN=free PEERS=backup ;;
    primary) V=pri S=sec SROLE=secondary OWN=backup PEERS=free ;;
    *) echo "1..0 # SKIP DOWN_VICTIM must be primary or secondary" && exit 0 ;;
esac

td_plan 17
td_fo_require ip timeout python3 tcpdump dhclient

master=$TD_WORK/dhcpd.master
cat >"$master" <<EOF
# failover_down.sh: what both servers share. A small pool, so that the
# survivor's own share runs out.
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time $LEASE;
max-lease-time $LEASE;
subnet 192.0.2.0 netmask 255.255.255.0 {
  pool {
    failover peer "$FO_NAME";
    range 192.0.2.$POOL_FIRST 192.0.2.$POOL_LAST;
  }
}
EOF
peer=("max-response-delay $MRD" "max-unacked-updates 10" "load balance max seconds 3")
papd=() sapd=()
if [ "$S" = pri ]; then papd=("auto-partner-down $APD"); else sapd=("auto-partner-down $APD"); fi
td_fo_conf "$TD_WORK/pri.conf" primary 192.0.2.1 647 192.0.2.2 847 "$master" "${peer[@]}" \
    "mclt $MCLT" "split 128" "${papd[@]}"
td_fo_conf "$TD_WORK/sec.conf" secondary 192.0.2.2 847 192.0.2.1 647 "$master" "${peer[@]}" "${sapd[@]}"
declare -A LEASES=([pri]=$TD_WORK/pri.leases [sec]=$TD_WORK/sec.leases)
declare -A ADDR=([pri]=192.0.2.1 [sec]=192.0.2.2)
declare -A ROLE=([pri]=primary [sec]=secondary)

td_fo_topology 192.0.2
td_netns cli
td_link cli eth0 lan 02:00:5e:40:00:01
# dhclient renews at T1 by unicast to the server that gave the lease: make that
# the survivor (its hash bucket; dhclient sends no client identifier), so that
# the renewal falls within the outage.
dh_mac=
for i in 99 98 97 96 95 94 93 92; do
    read -r _ _ side < <(td_fo_py lbhash --split 128 "02:00:5e:40:00:$i")
    if [ "$side" = "$SROLE" ]; then dh_mac=02:00:5e:40:00:$i; break; fi
done
td_netns dhc
td_link dhc eth0 lan "${dh_mac:-02:00:5e:40:00:99}"
pair=$(td_fo_pair)
pcap=$TD_WORK/cli.pcap pcap2=$TD_WORK/dhc.pcap

diag_both() {
    td_diag_file "$(td_log pri)" "${1:-15}"
    td_diag_file "$(td_log sec)" "${1:-15}"
}

now_s() { date +%s.%N; }

# ---- phase A ------------------------------------------------------------------

if td_fo_start pri primary pri eth0 "$TD_WORK/pri.conf" "${LEASES[pri]}" &&
    td_fo_start sec secondary sec eth0 "$TD_WORK/sec.conf" "${LEASES[sec]}"; then
    td_ok "both servers start ($pair; the $VICTIM is killed in phase A)"
else
    td_fail "both servers start ($pair)" "$TD_START_ERROR"
    diag_both 20
    exit 1
fi

end=$(($(date +%s) + 30)) nb=0
if td_fo_wait_state pri normal 30 && td_fo_wait_state sec normal 30; then
    while [ "$(date +%s)" -lt "$end" ]; do
        nb=$(td_fo_count_state "${LEASES[sec]}" backup)
        [ "$nb" -gt 0 ] && [ "$nb" = "$(td_fo_count_state "${LEASES[pri]}" backup)" ] && break
        sleep 0.5
    done
fi
if [ "$(td_fo_state pri)" = normal ] && [ "$(td_fo_state sec)" = normal ] && [ "$nb" -gt 0 ]; then
    td_ok "both reach normal and the secondary holds $nb backup leases"
else
    td_fail "both reach normal and the secondary holds backup leases" \
        "primary: $(td_fo_moves pri)" "secondary: $(td_fo_moves sec)" "backup: $nb"
    diag_both
    exit 1
fi

td_fo_capture tcpdump cli "$pcap" || td_diag "tcpdump did not start in cli"
td_fo_capture tcpdump2 dhc "$pcap2" || td_diag "tcpdump did not start in dhc"

# Clients of both servers (the hash splits them; --secs 0 keeps load balancing
# on). Their first leases are MCLT long; once the peer has acknowledged them a
# renewal gets the whole lease time (failover-protocol.md (d)), and then no
# lease runs out in the dead server's stale view during the outage.
before=(02:00:5e:41:00:01 02:00:5e:41:00:02 02:00:5e:41:00:03 02:00:5e:41:00:04 02:00:5e:41:00:05 02:00:5e:41:00:06)
out=$TD_WORK/before.txt
st=0 problems=()
td_fo_clients cli eth0 dora "${before[@]}" --secs 0 >"$out" 2>&1 || st=$?
td_dhclient dhc1 dhc eth0 || st=$?
dh_addr=$TD_ADDR
t_first=$(date +%s)
wait_agree() {
    local end=$(($(date +%s) + 15))
    until td_fo_py agree "$pcap,$pcap2" "${LEASES[pri]}" "${LEASES[sec]}" --ends >/dev/null 2>&1 ||
        [ "$(date +%s)" -ge "$end" ]; do
        sleep 0.5
    done
    sleep 2.5 # the BNDACKs (ISC sends them up to 2 s late)
    td_fo_py agree "$pcap,$pcap2" "${LEASES[pri]}" "${LEASES[sec]}" --ends >/dev/null 2>&1
}
wait_agree || problems+=("the first leases are not in both lease files")
# ISC answers a renewal within the first 25 % of a lease with the lease as it
# is (dhcp-cache-threshold): renew only after that.
while [ "$(date +%s)" -lt $((t_first + MCLT / 4 + 2)) ]; do sleep 0.2; done
specs=()
while read -r mac addr _; do [ "$addr" != - ] && specs+=("$mac=$addr"); done <"$out"
outr=$TD_WORK/before-renew.txt
td_fo_clients cli eth0 reboot "${specs[@]}" >"$outr" 2>&1 || st=$?
# dhclient renews at its T1 by unicast to its server, the survivor-to-be (an
# INIT-REBOOT would be broadcast and answered by both).
td_dhclient_wait_event dhc1 'RENEW' 30 && [ "$TD_ADDR" = "$dh_addr" ] && [ "$TD_LEASE_TIME" = "$LEASE" ] &&
    [ "$TD_SERVER_ID" = "${ADDR[$S]}" ] || problems+=("dhclient's renewal: $(td_client_summary)")
short=$(awk '$2 != "-" && $4 != '"$LEASE"' { print }' "$outr")
[ -z "$short" ] || problems+=("renewals not of $LEASE s: $short")
wait_agree || problems+=("the renewed leases are not in both lease files")
if [ "$st" -eq 0 ] && [ "${#specs[@]}" -eq "${#before[@]}" ] && [ "${#problems[@]}" -eq 0 ]; then
    td_ok "${#before[@]} scripted clients and dhclient ($dh_addr) get leases ($(grep -c ' 192\.0\.2\.1 [0-9]* offers' "$out") from the primary) of MCLT, renewed for $LEASE s, in both lease files"
else
    mapfile -t lines < <(cat "$out" "$outr"; td_fo_py agree "$pcap,$pcap2" "${LEASES[pri]}" "${LEASES[sec]}" --ends)
    td_fail "clients get leases, renewed for $LEASE s, in both lease files" "${problems[@]}" "${lines[@]}" \
        "dhclient: $(td_client_summary)"
fi

# The kill.
snap=$TD_WORK/survivor-at-kill.leases
cp "${LEASES[$S]}" "$snap"
dh_events_at_kill=$(td_lines "$TD_WORK/dhc1/events")
ms=$(td_fo_mark "$S")
td_fo_stamp ci "$S" "$ms" "$(td_fo_re_move communications-interrupted)" 10
td_fo_stamp pd "$S" "$ms" "$(td_fo_re_move partner-down)" $((APD + 20))
t_kill_s=$(now_s)
t_kill=$(td_now_ms)
td_kill9 "$V"
if t_ci=$(td_fo_stamp_get ci 5); then
    dt=$((t_ci - t_kill))
    if [ "$dt" -le 1000 ]; then
        td_ok "kill -9 of the $VICTIM: the ${ROLE[$S]} logs communications-interrupted after $dt ms"
    else
        td_fail "kill -9 of the $VICTIM: the ${ROLE[$S]} logs communications-interrupted within 1 s" "after $dt ms"
    fi
else
    t_ci=$(td_now_ms)
    td_fail "kill -9 of the $VICTIM: the ${ROLE[$S]} logs communications-interrupted within 1 s" \
        "states since the kill: $(td_fo_moves "$S" "$ms")"
    td_diag_file "$(td_log "$S")"
fi

# New clients: only the survivor's own share, all of it, and no more.
own=$(td_fo_py states "$snap" "$POOL" --missing free | tr ' ' '\n' | sed -n "s/^$OWN=//p")
own=${own:-0}
newc=()
for i in $(seq 1 $((own + 1))); do newc+=("$(printf '02:00:5e:42:00:%02x' "$i")"); done
out3=$TD_WORK/new-ci.txt
td_fo_clients cli eth0 dora "${newc[@]}" --timeout 2 >"$out3" 2>&1
got=0 wrong=()
while read -r mac addr sid _; do
    [ "$addr" = - ] && continue
    got=$((got + 1))
    was=$(td_fo_lease_state "$snap" "$addr")
    was=${was:-free} # never written: never used
    [ "$sid" = "${ADDR[$S]}" ] && [ "$was" = "$OWN" ] || wrong+=("$mac got $addr from $sid, $was at the kill")
done <"$out3"
if [ "$got" -eq "$own" ] && [ "${#wrong[@]}" -eq 0 ]; then
    td_ok "communications-interrupted: the ${ROLE[$S]} gives new clients its $own $OWN leases and nothing else"
else
    mapfile -t lines <"$out3"
    td_fail "communications-interrupted: the ${ROLE[$S]} gives new clients exactly its $own $OWN leases" \
        "$got leases given" "${wrong[@]}" "${lines[@]}"
fi

# auto-partner-down N: N s after communications-interrupted.
if t_pd=$(td_fo_stamp_get pd $((APD + 10))); then
    dt=$((t_pd - t_ci))
    if [ "$dt" -ge $(((APD - 1) * 1000)) ] && [ "$dt" -le $(((APD + 3) * 1000)) ]; then
        td_ok "auto-partner-down $APD: partner-down $dt ms after communications-interrupted"
    else
        td_fail "auto-partner-down $APD: partner-down $((APD - 1))..$((APD + 3)) s after communications-interrupted" "after $dt ms"
    fi
else
    t_pd=$(td_now_ms)
    td_fail "auto-partner-down $APD: partner-down after communications-interrupted" \
        "states since the kill: $(td_fo_moves "$S" "$ms")"
    td_diag_file "$(td_log "$S")"
fi

# Before MCLT has passed in partner-down the dead peer's share stays untouched.
out4=$TD_WORK/new-pd-early.txt
td_fo_clients cli eth0 dora 02:00:5e:43:00:01 --timeout 3 >"$out4" 2>&1
early=$(($(td_now_ms) - t_pd))
if ! grep -q ' 192\.0\.2\.' "$out4" && [ "$early" -lt $((MCLT * 1000)) ]; then
    td_ok "partner-down, $((early / 1000)) s in (before MCLT $MCLT s): a new client gets nothing (own share used up)"
else
    td_fail "partner-down before MCLT: a new client gets nothing" "$(cat "$out4")" "checked $early ms after partner-down"
fi

# The clients of the communications-interrupted phase renew (INIT-REBOOT),
# so that their MCLT-long leases still run when MCLT has passed: the
# survivor's own share stays used up, and new clients can only get the dead
# peer's.
wait_ms=$((t_pd + (MCLT - 12) * 1000 - $(td_now_ms)))
[ "$wait_ms" -gt 0 ] && sleep "$((wait_ms / 1000)).$(printf '%03d' $((wait_ms % 1000)))"
ci_specs=()
while read -r mac addr _; do [ "$addr" != - ] && ci_specs+=("$mac=$addr"); done <"$out3"
ci_renew=ok
if [ "${#ci_specs[@]}" -gt 0 ]; then
    td_fo_clients cli eth0 reboot "${ci_specs[@]}" --timeout 3 >"$TD_WORK/renew-ci.txt" 2>&1 || ci_renew=failed
fi

# After MCLT: the whole pool, the dead peer's share included.
wait_ms=$((t_pd + (MCLT + 2) * 1000 - $(td_now_ms)))
[ "$wait_ms" -gt 0 ] && sleep "$((wait_ms / 1000)).$(printf '%03d' $((wait_ms % 1000)))"
out5=$TD_WORK/new-pd-late.txt
td_fo_clients cli eth0 dora 02:00:5e:44:00:01 02:00:5e:44:00:02 02:00:5e:44:00:03 --timeout 4 >"$out5" 2>&1
got=0 wrong=()
while read -r mac addr sid _; do
    [ "$addr" = - ] && continue
    got=$((got + 1))
    was=$(td_fo_lease_state "$snap" "$addr")
    was=${was:-free}
    [ "$sid" = "${ADDR[$S]}" ] && [ "$was" = "$PEERS" ] || wrong+=("$mac got $addr from $sid, $was at the kill")
done <"$out5"
if [ "$got" -gt 0 ] && [ "${#wrong[@]}" -eq 0 ]; then
    td_ok "partner-down past MCLT: $got new clients get the dead peer's $PEERS leases"
else
    mapfile -t lines <"$out5"
    td_fail "partner-down past MCLT: new clients get the dead peer's $PEERS leases" "${wrong[@]}" "${lines[@]}" \
        "renewal of the communications-interrupted clients: $ci_renew"
fi

# The survivor renews every client of the pair, its own and the dead one's
# (INIT-REBOOT, RFC 2131 §4.3.2: the address the client holds). Late in the
# outage, so that these are real renewals (past dhcp-cache-threshold) whose new
# end the returning peer must learn.
out2=$TD_WORK/renew.txt
st=0
td_fo_clients cli eth0 reboot "${specs[@]}" >"$out2" 2>&1 || st=$?
if [ "$st" -eq 0 ] && [ "${#specs[@]}" -gt 0 ] && ! grep -v " ${ADDR[$S]} " "$out2" | grep -q .; then
    td_ok "the ${ROLE[$S]} renews all ${#specs[@]} clients, the dead peer's too"
else
    mapfile -t lines <"$out2"
    td_fail "the ${ROLE[$S]} renews every client" "${lines[@]}"
fi

# The real client renewed with the survivor meanwhile (T1 of its 60 s lease
# comes 30 s after its renewal, within the outage).
if tail -n +"$((dh_events_at_kill + 1))" "$TD_WORK/dhc1/events" 2>/dev/null |
    grep -E -q "^reason=(RENEW|REBIND|REBOOT|BOUND)"$'\t'"address=$dh_addr"$'\t'".*server=${ADDR[$S]}\$"; then
    td_ok "dhclient keeps $dh_addr: renewed by the ${ROLE[$S]} during the outage"
else
    td_fail "dhclient keeps its address, renewed by the ${ROLE[$S]} during the outage" \
        "$(tail -n +"$((dh_events_at_kill + 1))" "$TD_WORK/dhc1/events" 2>/dev/null | tr '\t' ' ')"
    td_diag_file "$TD_WORK/dhc1/dhclient.log"
fi

# The dead peer comes back on its lease file.
t_back_s=$(now_s)
mr=0 msv=$ms
if td_fo_start "${V}2" "${ROLE[$V]}" "$V" eth0 "$TD_WORK/$V.conf" "${LEASES[$V]}"; then
    td_ok "the ${ROLE[$V]} restarts on its lease file"
else
    td_fail "the ${ROLE[$V]} restarts on its lease file" "$TD_START_ERROR"
    td_diag_file "$(td_log "${V}2")" 20
fi
# When its recovery update is over (UPDDONE: recover -> recover-wait or
# recover-done) it must know every lease the survivor gave that still runs.
leases_check=fail
if td_fo_wait "${V}2" "$mr" "failover peer $FO_NAME: I move from recover to (recover-wait|recover-done)" 30; then
    t_upd=$(python3 -c 'import time; print("%.3f" % (time.time() + 2))') # 2 s past now: still running when read
    if agree_out=$(td_fo_py agree "$pcap,$pcap2" "${LEASES[$V]}" --after "$t_kill_s" --before "$t_back_s" --alive-at "$t_upd" --ends 2>&1); then
        leases_check=ok
    fi
else
    agree_out="no 'I move from recover to recover-wait/recover-done' within 30 s"
fi
if td_fo_wait_state "${V}2" normal $((MCLT + 30)) "$mr" && td_fo_wait_state "$S" normal 10 "$msv"; then :; fi
moves=$(td_fo_moves "${V}2" "$mr")
case " $moves" in
    *" recover "*"recover-done normal"*)
        td_ok "the ${ROLE[$V]} recovers: $moves" ;;
    *) td_fail "the ${ROLE[$V]} goes recover, (recover-wait,) recover-done, normal within MCLT + 30 s" "states: $moves"
       td_diag_file "$(td_log "${V}2")" 20 ;;
esac
if [ "$(td_fo_state "$S")" = normal ]; then
    td_ok "the ${ROLE[$S]} returns to normal: $(td_fo_moves "$S" "$msv")"
else
    td_fail "the ${ROLE[$S]} returns to normal" "states: $(td_fo_moves "$S" "$msv")"
    td_diag_file "$(td_log "$S")"
fi
mapfile -t lines <<<"$agree_out"
if [ "$leases_check" = ok ]; then
    td_ok "after its recovery update the ${ROLE[$V]} has every running lease the ${ROLE[$S]} gave meanwhile: ${lines[0]}"
else
    td_fail "after its recovery update the ${ROLE[$V]} has every running lease given meanwhile" "${lines[@]}"
fi
td_dhclient_stop dhc1

# ---- phase B: a silent cut of phase A's survivor ----------------------------

# The roles swap: the server that was killed now stays, and the other one's
# bridge port goes down.
C=$S S=$V
td_fo_clients cli eth0 dora 02:00:5e:45:00:01 --timeout 5 >"$TD_WORK/before-cut.txt" 2>&1
read -r cmac caddr _ <"$TD_WORK/before-cut.txt"
sleep 2 # its BNDUPD and BNDACK
ms=$(td_fo_mark "${S}2") mc=$(td_fo_mark "$C")
port_var=FO_PORT_$C
td_fo_stamp cut "${S}2" "$ms" "$(td_fo_re_move communications-interrupted)" $((MRD + 15))
t_cut=$(td_now_ms)
ip -n "$(td_ns br)" link set "${!port_var}" down
if t_ci2=$(td_fo_stamp_get cut $((MRD + 10))); then
    dt=$((t_ci2 - t_cut))
    if [ "$dt" -ge $(((MRD - 1) * 1000)) ] && [ "$dt" -le $(((MRD + 5) * 1000)) ]; then
        td_ok "silent cut of the ${ROLE[$C]}: the ${ROLE[$S]} logs communications-interrupted after $dt ms (max-response-delay $MRD s)"
    else
        td_fail "silent cut: communications-interrupted $((MRD - 1))..$((MRD + 5)) s after the cut" "after $dt ms"
    fi
else
    td_fail "silent cut: the ${ROLE[$S]} logs communications-interrupted" "states since: $(td_fo_moves "${S}2" "$ms")"
    td_diag_file "$(td_log "${S}2")"
fi

if [ "${caddr:--}" != - ] && out6=$(td_fo_clients cli eth0 reboot "$cmac=$caddr" --timeout 5 2>&1) &&
    grep -q " ${ADDR[$S]} " <<<"$out6"; then
    td_ok "the cut-off pair: the ${ROLE[$S]} renews $caddr"
else
    td_fail "the cut-off pair: the ${ROLE[$S]} renews a client" "$(cat "$TD_WORK/before-cut.txt")" "${out6:-}"
fi

# The cut-off server has auto-partner-down too: let it get there before the
# port comes back, so that the pair does not reconnect just as that timer fires
# (ISC then meets its peer in normal during conflict resolution and shuts down).
td_fo_wait "$C" "$mc" "$(td_fo_re_move partner-down)" $((MRD + APD + 10)) ||
    td_diag "the cut-off ${ROLE[$C]} did not log partner-down: $(td_fo_moves "$C" "$mc")"
ip -n "$(td_ns br)" link set "${!port_var}" up
if td_fo_wait_state "${S}2" normal 40 "$ms" && td_fo_wait_state "$C" normal 20 "$mc"; then
    td_ok "port up again: both normal (${ROLE[$S]}: $(td_fo_moves "${S}2" "$ms"); ${ROLE[$C]}: $(td_fo_moves "$C" "$mc"))"
else
    td_fail "port up again: both normal within 40 s" "${ROLE[$S]}: $(td_fo_moves "${S}2" "$ms")" \
        "${ROLE[$C]}: $(td_fo_moves "$C" "$mc")"
    td_diag_file "$(td_log "${S}2")"
    td_diag_file "$(td_log "$C")"
fi
td_stop tcpdump
td_stop tcpdump2
