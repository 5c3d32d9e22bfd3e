#!/usr/bin/env bash
# Rolling migration of a running ISC pair to Tandem, one peer at a time, as an
# admin would do it: the ISC secondary is stopped and tandemd starts on the
# lease file ISC left (its bindings and its `failover peer ... state` block),
# going from startup straight to normal with the ISC primary (no recover, no
# MCLT wait); then the same for the primary; then back again for the secondary
# (a roll-back to ISC on tandemd's lease file). No lease is lost on the way and
# clients keep being served. TAP. Needs /usr/sbin/dhcpd and tandemd:
#   TANDEMD=build/tandemd bash failover_migrate.sh
#
#   bridge "lan" (192.0.2.0/24): pri 192.0.2.1, sec 192.0.2.2, clients.
. "$(dirname "$0")/lib.sh"

td_plan 12
ISC=${ISC_DHCPD:-/usr/sbin/dhcpd}
TANDEMD=${TANDEMD:-${top_builddir:-.}/tandemd}
SERVER=$TANDEMD
td_require ip timeout python3 dhclient "$ISC"
FO_NAME=mig
MCLT=600

cat >"$TD_WORK/dhcpd.master" <<'EOF'
ddns-update-style none;
ping-check false;
default-lease-time 300;
max-lease-time 300;
subnet 192.0.2.0 netmask 255.255.255.0 {
  option routers 192.0.2.1;
  pool { failover peer "mig"; range 192.0.2.100 192.0.2.199; }
}
EOF
peer=("max-response-delay 10" "max-unacked-updates 100" "load balance max seconds 3")
td_fo_conf "$TD_WORK/pri.conf" primary 192.0.2.1 647 192.0.2.2 847 "$TD_WORK/dhcpd.master" \
    "${peer[@]}" "mclt $MCLT" "split 128"
td_fo_conf "$TD_WORK/sec.conf" secondary 192.0.2.2 847 192.0.2.1 647 "$TD_WORK/dhcpd.master" "${peer[@]}"

td_bridge lan
td_netns pri
td_link pri eth0 lan
td_addr pri eth0 192.0.2.1/24
td_netns sec
td_link sec eth0 lan
td_addr sec eth0 192.0.2.2/24
for c in 1 2 3 4; do
    td_netns "c$c"
    td_link "c$c" eth0 lan "02:00:5e:70:00:0$c"
done
moves_re="failover peer $FO_NAME: I move from [a-z-]+ to normal"

# start NAME ROLE BINARY: a server of the pair (ROLE pri or sec: its namespace,
# configuration and lease file) logging to NAME.log; a new NAME for each start,
# so that what is waited for comes from this run.
start() {
    local name=$1 role=$2 bin=$3 SERVER_ARGS=
    [ "$bin" = "$TANDEMD" ] && SERVER_ARGS="--control $TD_WORK/$name.ctl"
    td_server_start "$name" "$role" eth0 "$TD_WORK/$role.conf" "$TD_WORK/$role.leases" "$bin"
}

# 1
if start pri pri "$ISC" && start sec sec "$ISC" && td_wait_log "$(td_log pri)" "$moves_re" 30 &&
    td_wait_log "$(td_log sec)" "$moves_re" 30; then
    td_ok "an ISC pair reaches normal"
else
    td_fail "an ISC pair reaches normal" "$TD_START_ERROR"
    td_diag_file "$(td_log pri)" 20
    td_diag_file "$(td_log sec)" 20
    exit 1
fi

# 2: two clients bound by the ISC pair.
a=()
for c in 1 2; do
    if td_dhclient "d$c" "c$c" eth0; then a+=("$TD_ADDR"); fi
done
td_check "two clients get leases from the ISC pair (${a[*]})" [ "${#a[@]}" -eq 2 ]
sleep 3 # the peer's BNDACK: both lease files hold the bindings

# 3: the ISC secondary stops; the primary serves alone meanwhile.
td_server_stop sec
if td_dhclient d3 c3 eth0; then
    a+=("$TD_ADDR")
    td_ok "with the secondary stopped the ISC primary serves a new client ($TD_ADDR)"
else
    td_fail "with the secondary stopped the ISC primary serves a new client" "$(td_client_summary)"
fi

# 4: tandemd takes the secondary's place on ISC's lease file.
markp=$(td_fo_mark pri)
if start sec2 sec "$TANDEMD" && td_wait_log "$(td_log sec2)" "$moves_re" 30; then
    moves=$(td_fo_moves sec2)
    case " $moves" in
        *" recover"*) td_fail "tandemd (secondary) resumes from ISC's state without a recovery" "states: $moves" ;;
        *) td_ok "tandemd (secondary) resumes from ISC's state without a recovery: $moves" ;;
    esac
else
    td_fail "tandemd (secondary) resumes from ISC's state" "$TD_START_ERROR; states: $(td_fo_moves sec2)"
    td_diag_file "$(td_log sec2)" 30
fi

# 5
if td_fo_wait pri "$markp" "peer moves from [a-z-]+ to normal" 30; then
    td_ok "the ISC primary sees its new peer in normal"
else
    td_fail "the ISC primary sees its new peer in normal"
    td_diag_file "$(td_log pri)" 20
fi

# 6: every binding, including the one made while the secondary was away.
sleep 3
missing=()
for x in "${a[@]}"; do
    case $(td_lease "$TD_WORK/sec.leases" "$x") in
        state=active*) ;;
        *) missing+=("$x: $(td_lease "$TD_WORK/sec.leases" "$x")") ;;
    esac
done
if [ "${#a[@]}" -eq 3 ] && [ "${#missing[@]}" -eq 0 ]; then
    td_ok "tandemd's lease file holds all three bindings (${a[*]})"
else
    td_fail "tandemd's lease file holds all three bindings" "${missing[@]}"
fi

# 7, 8: then the primary, the same way.
td_server_stop pri
if start pri2 pri "$TANDEMD" && td_wait_log "$(td_log pri2)" "$moves_re" 30; then
    moves=$(td_fo_moves pri2)
    case " $moves" in
        *" recover"*) td_fail "tandemd (primary) resumes from ISC's state without a recovery" "states: $moves" ;;
        *) td_ok "tandemd (primary) resumes from ISC's state without a recovery: $moves" ;;
    esac
else
    td_fail "tandemd (primary) resumes from ISC's state" "$TD_START_ERROR; states: $(td_fo_moves pri2)"
    td_diag_file "$(td_log pri2)" 30
fi
missing=()
for x in "${a[@]}"; do
    case $(td_lease "$TD_WORK/pri.leases" "$x") in
        state=active*) ;;
        *) missing+=("$x") ;;
    esac
done
td_check "the new primary's lease file holds all three bindings" [ "${#missing[@]}" -eq 0 ]

# 9, 10: the all-Tandem pair serves, and the first clients keep their addresses.
if td_dhclient d4 c4 eth0; then
    a+=("$TD_ADDR")
    td_ok "the Tandem pair serves a new client ($TD_ADDR)"
else
    td_fail "the Tandem pair serves a new client" "$(td_client_summary)"
fi
td_dhclient_stop d1
if td_dhclient d1 c1 eth0 && [ "$TD_ADDR" = "${a[0]}" ]; then
    td_ok "the first client gets its address ${a[0]} back"
else
    td_fail "the first client gets its address back" "want ${a[0]}; $(td_client_summary)"
fi

# 11, 12: and back, should an admin roll back: ISC dhcpd takes the secondary's
# place again, on the lease file tandemd wrote, and resumes without a recovery.
sleep 2 # the last BNDACK
td_server_stop sec2
markp=$(td_fo_mark pri2)
if start sec3 sec "$ISC" && td_wait_log "$(td_log sec3)" "$moves_re" 30 &&
    td_fo_wait pri2 "$markp" "peer moves from [a-z-]+ to normal" 30; then
    moves=$(td_fo_moves sec3)
    case " $moves" in
        *" recover"*) td_fail "ISC dhcpd (secondary) resumes from tandemd's lease file without a recovery" "states: $moves" ;;
        *) td_ok "ISC dhcpd (secondary) resumes from tandemd's lease file without a recovery: $moves" ;;
    esac
else
    td_fail "ISC dhcpd (secondary) resumes from tandemd's lease file" "$TD_START_ERROR; states: $(td_fo_moves sec3)"
    td_diag_file "$(td_log sec3)" 30
fi
# What ISC read back: its own rewrite at start-up holds every binding.
sleep 1
missing=()
for x in "${a[@]}"; do
    case $(td_lease "$TD_WORK/sec.leases" "$x") in
        state=active*) ;;
        *) missing+=("$x: $(td_lease "$TD_WORK/sec.leases" "$x")") ;;
    esac
done
if [ "${#missing[@]}" -eq 0 ]; then
    td_ok "ISC's lease file holds every binding after the roll-back (${a[*]})"
else
    td_fail "ISC's lease file holds every binding after the roll-back" "${missing[@]}"
fi
for c in 1 2 3 4; do td_dhclient_stop "d$c"; done
td_finish_plan
