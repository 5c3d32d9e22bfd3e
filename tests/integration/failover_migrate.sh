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

td_plan 13
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

# resumes NAME ROLE BINARY WHAT: start it, and one case: it reaches normal with
# no recover on the way (WHAT names it in the case).
resumes() {
    local name=$1 moves
    if start "$1" "$2" "$3" && td_wait_log "$(td_log "$name")" "$moves_re" 30; then
        moves=$(td_fo_moves "$name")
        case " $moves" in
            *" recover"*) td_fail "$4 without a recovery" "states: $moves" ;;
            *) td_ok "$4 without a recovery: $moves" ;;
        esac
    else
        td_fail "$4" "$TD_START_ERROR; states: $(td_fo_moves "$name")"
        td_diag_file "$(td_log "$name")" 30
    fi
}

# holds_all LEASES WHAT: one case: every address of a[] is active in LEASES.
holds_all() {
    local x missing=()
    for x in "${a[@]}"; do
        case $(td_lease "$1" "$x") in
            state=active*) ;;
            *) missing+=("$x: $(td_lease "$1" "$x")") ;;
        esac
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        td_ok "$2 (${a[*]})"
    else
        td_fail "$2" "${missing[@]}"
    fi
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
resumes sec2 sec "$TANDEMD" "tandemd (secondary) resumes from ISC's state"

# 5
if td_fo_wait pri "$markp" "peer moves from [a-z-]+ to normal" 30; then
    td_ok "the ISC primary sees its new peer in normal"
else
    td_fail "the ISC primary sees its new peer in normal"
    td_diag_file "$(td_log pri)" 20
fi

# 6: every binding, including the one made while the secondary was away.
sleep 3
if [ "${#a[@]}" -eq 3 ]; then
    holds_all "$TD_WORK/sec.leases" "tandemd's lease file holds all three bindings"
else
    td_fail "tandemd's lease file holds all three bindings" "only ${#a[@]} clients were bound: ${a[*]}"
fi

# 7, 8: then the primary, the same way.
td_server_stop pri
resumes pri2 pri "$TANDEMD" "tandemd (primary) resumes from ISC's state"
holds_all "$TD_WORK/pri.leases" "the new primary's lease file holds every binding"

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

# 11-13: and back, should an admin roll back: ISC dhcpd takes the secondary's
# place again, on the lease file tandemd wrote, and resumes without a recovery.
sleep 2 # the last BNDACK
td_server_stop sec2
markp=$(td_fo_mark pri2)
resumes sec3 sec "$ISC" "ISC dhcpd (secondary) resumes from tandemd's lease file"
if td_fo_wait pri2 "$markp" "peer moves from [a-z-]+ to normal" 30; then
    td_ok "tandemd (primary) sees ISC in normal again"
else
    td_fail "tandemd (primary) sees ISC in normal again" "$(td_fo_after pri2 "$markp" | tail -n 5)"
fi
# What ISC read back: its own rewrite at start-up holds every binding.
sleep 1
holds_all "$TD_WORK/sec.leases" "ISC's lease file holds every binding after the roll-back"
for c in 1 2 3 4; do td_dhclient_stop "d$c"; done
td_finish_plan
