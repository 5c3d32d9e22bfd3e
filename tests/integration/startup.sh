#!/usr/bin/env bash
# The server starts on a big lease file: 200,000 active leases (each with a
# uid, a hardware address and a host name) in a /14 range, generated in the
# format ISC writes. `-T` must count them all, the server must reach "Server
# starting service." having loaded them all, and its start-up rewrite must keep
# every field of every one. The times are printed, not judged: this is not a
# benchmark. TAP. Run alone as root:
#   SERVER=build/tandemd bash tests/integration/startup.sh
#
#   bridge "lan" 10.64.0.0/14: srv 10.64.0.1 (eth0)
#
# Tunables: STARTUP_LEASES (200000), STARTUP_SECS (how long the start may take, 60).
. "$(dirname "$0")/lib.sh"

N=${STARTUP_LEASES:-200000}
START_SECS=${STARTUP_SECS:-60}

td_plan 5
td_require ip timeout python3

conf=$TD_WORK/dhcpd.conf
leases=$TD_WORK/dhcpd.leases
cat >"$conf" <<EOF
# startup.sh: one /14 (262,144 addresses), most of it leased.
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time 86400;
max-lease-time 86400;
subnet 10.64.0.0 netmask 255.252.0.0 {
  range 10.64.0.10 10.67.255.250;
}
EOF

ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

# 1
t=$(ms)
if python3 "$TD_LIB_DIR/tdcheck.py" genleases 10.64.0.10 "$N" "$(date +%s)" >"$leases" &&
    [ "$(grep -c '^lease ' "$leases")" -eq "$N" ]; then
    td_ok "$N active leases generated ($(($(stat -c %s "$leases") / 1048576)) MiB) in $(secs $(($(ms) - t))) s"
else
    td_fail "$N active leases generated" "$(grep -c '^lease ' "$leases") lease blocks"
    exit 1
fi
cp "$leases" "$TD_WORK/dhcpd.leases.generated"

# 2: -T reads them all and says how many it would write.
t=$(ms)
out=$(td_server_test_leases "$conf" "$leases" 2>&1)
st=$?
tt=$(($(ms) - t))
if [ "$st" -eq 0 ] && grep -q "^Wrote $N leases to leases file\.$" <<<"$out"; then
    td_ok "-T counts $N leases in $(secs "$tt") s"
else
    mapfile -t lines < <(printf '%s\n' "$out" | tail -n 15)
    td_fail "-T counts $N leases" "status $st after $(secs "$tt") s" "${lines[@]}"
fi

td_bridge lan
td_netns srv
td_link srv eth0 lan
td_addr srv eth0 10.64.0.1/14
srvlog=$(td_log srv)

# 3: the server starts on the file.
args=$SERVER_ARGS
[ "$(td_server_kind)" = tandem ] && args="$args --control $TD_WORK/srv.ctl"
t=$(ms)
if SERVER_ARGS=$args TD_START_SECS=$START_SECS td_server_start srv srv eth0 "$conf" "$leases"; then
    ts=$(($(ms) - t))
    td_ok "the server starts on $N leases: 'Server starting service.' after $(secs "$ts") s"
    td_diag "startup: $(basename "$SERVER") reached 'Server starting service.' in $(secs "$ts") s with $N leases (-T took $(secs "$tt") s)"
else
    td_fail "the server starts on $N leases within $START_SECS s" "$TD_START_ERROR"
    td_diag_file "$srvlog" 20
    exit 1
fi

# 4
if grep -q "^Wrote $N leases to leases file\.$" "$srvlog"; then
    td_ok "its start-up rewrite wrote $N leases"
else
    td_fail "its start-up rewrite wrote $N leases" "$(grep -m1 '^Wrote [0-9]* leases' "$srvlog" || echo 'no "Wrote N leases" line')"
fi
td_server_stop srv

# 5: what it rewrote is what it read.
t=$(ms)
out=$(python3 "$TD_LIB_DIR/tdcheck.py" interop "$TD_WORK/dhcpd.leases.generated" "$leases" \
    --read-from "$(date +%s)" --read-to "$(date +%s)" 2>&1)
st=$?
if [ "$st" -eq 0 ] && grep -q "^$N addresses: $N with every field kept" <<<"$out"; then
    td_ok "every field of every lease survives the rewrite: ${out%%$'\n'*} (checked in $(secs $(($(ms) - t))) s)"
else
    mapfile -t lines < <(printf '%s\n' "$out" | head -n 40)
    td_fail "every field of every lease survives the rewrite" "${lines[@]}"
fi
