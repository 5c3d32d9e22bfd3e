#!/usr/bin/env bash
# Pool balancing: once a pair from empty lease files is normal, how many leases
# of each pool are free (the primary's) and how many backup (the secondary's)
# must be what two ISC servers make of the same configuration
# (failover-protocol.md (g): lts = (free - backup) / 2 per pool, rounded ISC's
# way). An ISC pair runs first on the same config and its counts are the
# reference; then the pair under test runs on fresh lease files.
#
# Pools of 100, 37 and 1 addresses with different permit lists in one subnet;
# in another, two pools without permits (33, and 5+12 in two ranges) that ISC
# merges into one pool (the same permits in one shared network) and balances
# as one, so they are counted together; and one of 7 with its own permit.
# TAP. Run alone as root:
#   PRIMARY=/usr/sbin/dhcpd SECONDARY=/usr/sbin/dhcpd bash failover_balance.sh
#
#   bridge "lan" 192.0.2.0/24: pri 192.0.2.1, sec 192.0.2.2 (no clients)
. "$(dirname "$0")/lib.sh"

td_plan 8
td_fo_require ip timeout python3
[ -x "$ISC_DHCPD" ] || td_require "$ISC_DHCPD"

# The pools as ISC balances them, each counted on its own; the two merged ones
# as one group of three ranges (joined by commas for tdcheck.py states).
# shellcheck disable=SC2054
POOLS=(192.0.2.10-192.0.2.109 192.0.2.120-192.0.2.156 192.0.2.200-192.0.2.200
    198.51.100.10-198.51.100.42,198.51.100.100-198.51.100.104,198.51.100.110-198.51.100.121
    198.51.100.200-198.51.100.206)
master=$TD_WORK/dhcpd.master
cat >"$master" <<EOF
# failover_balance.sh: what both servers share.
authoritative;
ddns-update-style none;
default-lease-time 600;
max-lease-time 600;
subnet 192.0.2.0 netmask 255.255.255.0 {
  pool { failover peer "$FO_NAME"; range 192.0.2.10 192.0.2.109; }
  pool { failover peer "$FO_NAME"; allow unknown-clients; range 192.0.2.120 192.0.2.156; }
  pool { failover peer "$FO_NAME"; deny unknown-clients; range 192.0.2.200 192.0.2.200; }
}
# Not on any interface: its pools are balanced all the same.
subnet 198.51.100.0 netmask 255.255.255.0 {
  pool { failover peer "$FO_NAME"; range 198.51.100.10 198.51.100.42; }
  pool {
    failover peer "$FO_NAME";
    range 198.51.100.100 198.51.100.104;
    range 198.51.100.110 198.51.100.121;
  }
  pool { failover peer "$FO_NAME"; allow unknown-clients; range 198.51.100.200 198.51.100.206; }
}
EOF
peer=("max-response-delay 10" "max-unacked-updates 10" "load balance max seconds 3")

td_fo_topology 192.0.2

# counts LEASES: "RANGE free=N backup=N" for each pool, one line (an address
# the file does not mention is free: a server need not write unused leases).
counts() {
    td_fo_py states "$1" "${POOLS[@]}" --missing free | awk '{ printf "%s %s %s; ", $1, $3, $4 }'
}
# backups LEASES: the backup counts alone (the secondary's file and the
# primary's must agree on them once every BNDUPD is acked).
backups() {
    td_fo_py states "$1" "${POOLS[@]}" | awk '{ printf "%s ", $4 }'
}

# run_pair TAG PRIMARY-BIN SECONDARY-BIN: start a pair on fresh lease files,
# wait for normal on both and for the counts to settle; leaves RUN_PRI and
# RUN_SEC (the counts) and RUN_WHY (why it failed).
run_pair() {
    local tag=$1 p=$2 s=$3 end prev='' cur
    RUN_PRI='' RUN_SEC='' RUN_WHY=''
    td_fo_conf "$TD_WORK/$tag-pri.conf" primary 192.0.2.1 647 192.0.2.2 847 "$master" "${peer[@]}" "mclt 60" "split 128"
    td_fo_conf "$TD_WORK/$tag-sec.conf" secondary 192.0.2.2 847 192.0.2.1 647 "$master" "${peer[@]}"
    local PRIMARY=$p SECONDARY=$s
    if ! td_fo_start "$tag-pri" primary pri eth0 "$TD_WORK/$tag-pri.conf" "$TD_WORK/$tag-pri.leases" ||
        ! td_fo_start "$tag-sec" secondary sec eth0 "$TD_WORK/$tag-sec.conf" "$TD_WORK/$tag-sec.leases"; then
        RUN_WHY="start: $TD_START_ERROR"
        return 1
    fi
    if ! td_fo_wait_state "$tag-pri" normal 30 || ! td_fo_wait_state "$tag-sec" normal 30; then
        RUN_WHY="normal: primary $(td_fo_moves "$tag-pri"); secondary $(td_fo_moves "$tag-sec")"
        return 1
    fi
    end=$(($(date +%s) + 30))
    while [ "$(date +%s)" -lt "$end" ]; do
        cur="$(counts "$TD_WORK/$tag-pri.leases")|$(counts "$TD_WORK/$tag-sec.leases")"
        if [ "$cur" = "$prev" ] && [ "$(backups "$TD_WORK/$tag-pri.leases")" = "$(backups "$TD_WORK/$tag-sec.leases")" ]; then
            RUN_PRI=$(counts "$TD_WORK/$tag-pri.leases")
            RUN_SEC=$(counts "$TD_WORK/$tag-sec.leases")
            return 0
        fi
        prev=$cur
        sleep 1.5
    done
    RUN_WHY="the counts did not settle in 30 s: $cur"
    return 1
}

# The reference: ISC with ISC.
if run_pair isc "$ISC_DHCPD" "$ISC_DHCPD"; then
    td_ok "an ISC pair ($ISC_DHCPD) reaches normal on the configuration"
    ref_pri=$RUN_PRI ref_sec=$RUN_SEC
    td_ok "ISC's counts recorded: primary $ref_pri"
    td_diag "ISC secondary: $ref_sec"
else
    td_fail "an ISC pair reaches normal on the configuration" "$RUN_WHY"
    td_fail "ISC's counts recorded" "no reference"
    td_diag_file "$(td_log isc-pri)"
    ref_pri=none ref_sec=none
fi
td_diag "ISC, the merged pools one by one: $(td_fo_py states "$TD_WORK/isc-pri.leases" --missing free \
    198.51.100.10-198.51.100.42 198.51.100.100-198.51.100.104,198.51.100.110-198.51.100.121 | tr '\n' ';')"
td_server_stop isc-pri
td_server_stop isc-sec

# The pair under test, on fresh lease files, same addresses and ports.
pair=$(td_fo_pair)
if run_pair tst "$PRIMARY" "$SECONDARY"; then
    td_ok "the pair under test ($pair) reaches normal on the configuration"
    td_ok "its counts settle: primary $RUN_PRI"
else
    td_fail "the pair under test ($pair) reaches normal, counts settled" "$RUN_WHY"
    td_fail "its counts settle" "$RUN_WHY"
    td_diag_file "$(td_log tst-pri)"
    td_diag_file "$(td_log tst-sec)"
fi
if [ -n "$RUN_PRI" ] && [ "$RUN_PRI" = "$ref_pri" ]; then
    td_ok "the primary's free and backup counts per pool are ISC's"
else
    td_fail "the primary's free and backup counts per pool are ISC's" "ISC:   $ref_pri" "$pair: $RUN_PRI"
fi
if [ -n "$RUN_SEC" ] && [ "$RUN_SEC" = "$ref_sec" ]; then
    td_ok "the secondary's free and backup counts per pool are ISC's"
else
    td_fail "the secondary's free and backup counts per pool are ISC's" "ISC:   $ref_sec" "$pair: $RUN_SEC"
fi
# ISC itself can read what the pair under test wrote.
td_check "ISC's dhcpd -T reads both lease files of the pair under test" \
    bash -c "'$ISC_DHCPD' -4 -T -cf '$TD_WORK/tst-pri.conf' -lf '$TD_WORK/tst-pri.leases' &&
             '$ISC_DHCPD' -4 -T -cf '$TD_WORK/tst-sec.conf' -lf '$TD_WORK/tst-sec.leases'"
td_check "the two lease files of the pair under test agree on every pool's backup count" \
    test "$(backups "$TD_WORK/tst-pri.leases")" = "$(backups "$TD_WORK/tst-sec.leases")"
