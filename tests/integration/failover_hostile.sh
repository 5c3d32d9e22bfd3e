#!/usr/bin/env bash
# A hostile failover peer: failover_peer.py (raw TCP) connects from the peer's
# address to a server under test and sends a wrong relationship name, bytes
# that are no message, a message over 2048 bytes, an option twice, and more
# BNDUPDs than the server's advertised max-unacked-updates. The server must drop
# the link where the message is bad, log why, go on serving DHCP (a dhclient
# gets a lease while the hostile connections go on, another one afterwards),
# and still link with a correct peer at the end. A correct exchange first
# proves that the fake peer speaks the protocol (failover-protocol.md (a)-(c)).
#
# Each role is tested: the primary (binary PRIMARY; the fake plays the
# secondary and answers its CONNECT) and the secondary (binary SECONDARY; the
# fake plays the primary and sends CONNECT). Each server starts on a lease file
# that says partner-down since yesterday, so that it serves clients alone.
#
# What ISC 4.4 does, which the ISC cases assert: it drops the link on each bad
# message and logs a line (not always naming the reason: "message length wait:
# unexpected error"), and it accepts and ACKs every BNDUPD past the window it
# advertised. For tandemd the reasons are asserted by these extended regexes
# (override to match its wording): HOSTILE_LOG_NAME ('relationship'),
# HOSTILE_LOG_GARBAGE ('length'), HOSTILE_LOG_OVERSIZED ('length|2049'),
# HOSTILE_LOG_DUPLICATE ('duplicate'), HOSTILE_LOG_FLOOD ('unack'); and
# HOSTILE_FLOOD=drop|accept (tandem default drop: the link goes, with a reason).
# TAP. Run alone as root:
#   PRIMARY=/usr/sbin/dhcpd SECONDARY=/usr/sbin/dhcpd bash failover_hostile.sh
# HOSTILE_ROLES="primary secondary" (default: both).
#
#   bridge "lanp" 192.0.2.0/24:     srvp 192.0.2.1 (primary under test),
#                                   fakep 192.0.2.2, clip (dhclient)
#   bridge "lans" 198.51.100.0/24:  srvs 198.51.100.2 (secondary under test),
#                                   fakes 198.51.100.1, clis (dhclient)
. "$(dirname "$0")/lib.sh"

ROLES=${HOSTILE_ROLES:-primary secondary}
PER_ROLE=10
nroles=$(wc -w <<<"$ROLES")
td_plan $((PER_ROLE * nroles))
td_fo_require ip timeout python3 dhclient

then_=$(date -u -d '-1 day' '+%w %Y/%m/%d %H:%M:%S')

# setup ROLE: topology, configuration, the saved partner-down state, the server.
declare -A NET SRV FAKE PORT KIND
setup() {
    local role=$1 r=${1:0:1} rn=1 net srv fake port pport master
    [ "$role" = secondary ] && rn=2
    if [ "$role" = primary ]; then
        net=192.0.2 srv=192.0.2.1 fake=192.0.2.2 port=647 pport=847
    else
        net=198.51.100 srv=198.51.100.2 fake=198.51.100.1 port=847 pport=647
    fi
    NET[$role]=$net SRV[$role]=$srv FAKE[$role]=$fake PORT[$role]=$port KIND[$role]=$(td_fo_kind "$role")
    td_bridge "lan$r"
    td_netns "srv$r" && td_netns "fake$r" && td_netns "cli$r"
    td_link "srv$r" eth0 "lan$r" && td_addr "srv$r" eth0 "$srv/24"
    td_link "fake$r" eth0 "lan$r" && td_addr "fake$r" eth0 "$fake/24"
    td_link "cli$r" eth0 "lan$r" "02:00:5e:60:0$rn:01"
    td_link "cli$r" eth1 "lan$r" "02:00:5e:60:0$rn:02"
    master=$TD_WORK/$role.master
    cat >"$master" <<EOF
# failover_hostile.sh: the $role's shared part.
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time 600;
max-lease-time 600;
subnet $net.0 netmask 255.255.255.0 {
  pool {
    failover peer "$FO_NAME";
    range $net.100 $net.199;
  }
}
EOF
    local extra=()
    [ "$role" = primary ] && extra=("mclt 30" "split 128")
    td_fo_conf "$TD_WORK/$role.conf" "$role" "$srv" "$port" "$fake" "$pport" "$master" \
        "max-response-delay 30" "max-unacked-updates 10" "load balance max seconds 3" "${extra[@]}"
    {
        echo "failover peer \"$FO_NAME\" state {"
        echo "  my state partner-down at $then_;"
        echo "  partner state communications-interrupted at $then_;"
        [ "$role" = secondary ] && echo "  mclt 30;"
        echo "}"
    } >"$TD_WORK/$role.leases"
    td_fo_start "srv$r" "$role" "srv$r" eth0 "$TD_WORK/$role.conf" "$TD_WORK/$role.leases"
}

# peer ROLE SCENARIO [ARGS...]: the fake peer against the server of ROLE; its
# RESULT line in $PEER, its stderr in $TD_WORK/peer.log.
peer() {
    local role=$1 as=primary
    shift
    [ "$role" = primary ] && as=secondary
    PEER=$(td_bounded 30 ip netns exec "$(td_ns "fake${role:0:1}")" python3 "$TD_LIB_DIR/failover_peer.py" \
        --as "$as" --local "${FAKE[$role]}" --server "${SRV[$role]}" --port "${PORT[$role]}" \
        --name "$FO_NAME" --timeout 4 "$@" 2>>"$TD_WORK/peer.log" | grep '^RESULT' | tail -n 1)
}
field() { sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p" <<<" ${PEER#RESULT}"; }

# The log line that names the reason: ISC's own wording where it has one.
log_re() {
    local role=$1 what=$2
    if [ "${KIND[$role]}" = isc ]; then
        case $what in
            name) echo 'relationship name' ;;
            garbage | oversized) echo 'message length wait' ;;
            duplicate) echo 'duplicate option relationship-name' ;;
            flood) echo '' ;;
        esac
    else
        case $what in
            name) echo "${HOSTILE_LOG_NAME:-relationship}" ;;
            garbage) echo "${HOSTILE_LOG_GARBAGE:-length}" ;;
            oversized) echo "${HOSTILE_LOG_OVERSIZED:-length|2049}" ;;
            duplicate) echo "${HOSTILE_LOG_DUPLICATE:-duplicate}" ;;
            flood) echo "${HOSTILE_LOG_FLOOD:-unack}" ;;
        esac
    fi
}

# dropped ROLE NAME WHAT DESC: one case: the link was closed, the server lives,
# and (where a reason is expected) its log names it after MARK.
dropped() {
    local role=$1 name=$2 what=$3 desc=$4 mark=$5 re
    re=$(log_re "$role" "$what")
    local problems=()
    [ "$(field closed)" = yes ] || problems+=("the link stayed up: $PEER")
    td_running "$(td_pid "$name")" || problems+=("the server died")
    if [ -n "$re" ] && ! td_fo_wait "$name" "$mark" "$re" 3; then
        problems+=("no log line matching /$re/; it logged: $(td_fo_after "$name" "$mark" | tail -n 3 | tr '\n' '|')")
    fi
    if [ "${#problems[@]}" -eq 0 ]; then
        td_ok "$role (${KIND[$role]}): $desc: link dropped${re:+, logged /$re/}"
    else
        td_fail "$role (${KIND[$role]}): $desc: link dropped, reason logged" "${problems[@]}"
    fi
}

for role in $ROLES; do setup "$role" || td_diag "$role: $TD_START_ERROR"; done

for role in $ROLES; do
    r=${role:0:1} name=srv${role:0:1} net=${NET[$role]} base=$TD_N rn=1
    [ "$role" = secondary ] && rn=2
    if td_running "$(td_pid "$name")"; then
        td_ok "$role ($(basename "$(td_fo_bin "$role")")) starts on a lease file saved in partner-down"
    else
        td_fail "$role starts on a lease file saved in partner-down" "$TD_START_ERROR"
        td_diag_file "$(td_log "$name")"
        while [ "$TD_N" -lt $((base + PER_ROLE)) ]; do td_fail "$role: not run: the server did not start"; done
        continue
    fi

    # A correct peer first: the fake must speak the protocol for the rest to mean anything.
    peer "$role" control --first "$net.190" --mac 02:00:5e:77:0$rn:00
    if [ "$(field acks)" = 1 ] && [ "$(field rejected)" = 0 ] && td_fo_wait_state "$name" partner-down 20; then
        td_ok "$role: a correct fake peer links (${PEER#RESULT }) and the server serves in partner-down"
    else
        td_fail "$role: a correct fake peer links and gets its BNDUPD acked" "${PEER:-no result}" \
            "states: $(td_fo_moves "$name")"
        td_diag_file "$TD_WORK/peer.log"
    fi

    m=$(td_fo_mark "$name")
    peer "$role" wrong-name
    if [ "$(field reject)" = 8 ]; then
        dropped "$role" "$name" name "relationship name \"$FO_NAME-x\" (reject reason 8)" "$m"
    else
        td_fail "$role: a wrong relationship name gets reject reason 8 (invalid partner)" "${PEER:-no result}"
    fi

    m=$(td_fo_mark "$name")
    peer "$role" garbage
    dropped "$role" "$name" garbage "bytes that are no message (length field 5)" "$m"

    m=$(td_fo_mark "$name")
    peer "$role" oversized
    dropped "$role" "$name" oversized "a message of 2049 bytes" "$m"

    m=$(td_fo_mark "$name")
    peer "$role" duplicate
    case ",$(field got)," in
        *,STATE,*) td_fail "$role: relationship-name twice: no link" "the server linked: $PEER" ;;
        *) dropped "$role" "$name" duplicate "relationship-name twice" "$m" ;;
    esac

    # DHCP goes on while hostile connections keep coming.
    as=primary
    [ "$role" = primary ] && as=secondary
    td_spawn "hostile$r" "fake$r" timeout -k 5 60 bash -c '
        for i in 1 2 3 4; do
            for s in garbage oversized duplicate wrong-name; do
                python3 "$0" --as "$1" --local "$2" --server "$3" --port "$4" --name "$5" --timeout 3 "$s"
            done
        done' "$TD_LIB_DIR/failover_peer.py" "$as" "${FAKE[$role]}" "${SRV[$role]}" "${PORT[$role]}" "$FO_NAME"
    if td_dhclient "dh$r" "cli$r" eth0 && [ "$TD_SERVER_ID" = "${SRV[$role]}" ]; then
        td_ok "$role: dhclient gets $TD_ADDR from it while hostile connections go on"
    else
        td_fail "$role: dhclient gets a lease while hostile connections go on" "$(td_client_summary)"
        td_diag_file "$TD_WORK/dh$r/dhclient.log"
    fi
    st=0
    td_wait_exit "hostile$r" 70 || st=$?
    [ "$st" -eq 0 ] || td_diag "the hostile loop ended with status $st"

    # More BNDUPDs than the server's own max-unacked-updates (10), at once.
    m=$(td_fo_mark "$name")
    peer "$role" flood --first "$net.170" --mac 02:00:5e:78:0$rn:00 --extra 5
    n=$(($(field max_unacked) + 5)) 2>/dev/null || n='?'
    policy=${HOSTILE_FLOOD:-drop}
    [ "${KIND[$role]}" = isc ] && policy=accept
    if [ "$policy" = accept ]; then
        if [ "$(field acks)" = "$n" ] && [ "$(field closed)" = no ] && td_running "$(td_pid "$name")"; then
            td_ok "$role (${KIND[$role]}): $n BNDUPDs against max-unacked $(field max_unacked): all acked, link kept (ISC's way)"
        else
            td_fail "$role (${KIND[$role]}): $n BNDUPDs past max-unacked: all acked" "${PEER:-no result}"
        fi
    else
        dropped "$role" "$name" flood "$n BNDUPDs against max-unacked $(field max_unacked)" "$m"
    fi

    td_dhclient_stop "dh$r" # one dhclient at a time holds port 68
    if td_running "$(td_pid "$name")" && td_dhclient "dh2$r" "cli$r" eth1 && [ "$TD_SERVER_ID" = "${SRV[$role]}" ]; then
        td_ok "$role: after all this a second dhclient gets $TD_ADDR"
    else
        td_fail "$role: after all this a second dhclient gets a lease" "$(td_client_summary)"
        td_diag_file "$(td_log "$name")"
    fi

    peer "$role" control --first "$net.195" --mac 02:00:5e:79:0$rn:00
    if [ "$(field acks)" = 1 ] && td_running "$(td_pid "$name")"; then
        td_ok "$role: a correct peer still links and gets its BNDUPD acked"
    else
        td_fail "$role: a correct peer still links at the end" "${PEER:-no result}"
        td_diag_file "$TD_WORK/peer.log"
    fi
    td_dhclient_stop "dh$r"
    td_dhclient_stop "dh2$r"
done
