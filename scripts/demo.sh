#!/usr/bin/env bash
# Tandem's main job, from a fresh clone on Debian 12 (as root): install what it
# needs, build tandemd and tandemctl, check the example failover pair in
# examples/ with `tandemd -t`, then run that pair in network namespaces (a
# primary and a secondary on one link, a relay in front of the clients' link),
# watch both reach normal, and let a real dhclient lease an address through
# ISC's relay. Everything runs inside namespaces this script creates and
# removes again; nothing touches the machine's own interfaces.
#
#   TANDEMD=path   use an already built tandemd (tandemctl beside it)
#   KEEP=1         leave the namespaces and servers running at the end
set -u

cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
JOBS=${JOBS:-2}

if [ -t 1 ]; then
    say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
else
    say() { printf '\n== %s\n' "$*"; }
fi
run() {
    printf '$ %s\n' "$*"
    "$@"
}
fail() {
    echo "demo: $*" >&2
    exit 1
}
[ "$(id -u)" -eq 0 ] || fail "run me as root: network namespaces need it"

# ---- 1. packages and build --------------------------------------------------

if [ -n "${TANDEMD:-}" ]; then
    tandemd=$(cd "$(dirname "$TANDEMD")" && pwd)/$(basename "$TANDEMD")
    say "1-2. Using $tandemd"
else
    say "1. Packages (scripts/setup-deps.sh --demo)"
    bash scripts/setup-deps.sh --demo || fail "could not install the packages"

    say "2. Build tandemd and tandemctl in build/ (log: build/demo-build.log)"
    mkdir -p build
    log=$ROOT/build/demo-build.log
    (
        set -e
        if [ ! -x configure ] || [ configure.ac -nt configure ]; then autoreconf -fi; fi
        if [ ! -f build/Makefile ]; then cd build && ../configure && cd ..; fi
        timeout 1800 make -C build -j"$JOBS" tandemd tandemctl
    ) >"$log" 2>&1 </dev/null || {
        tail -n 30 "$log" >&2
        fail "the build failed; see $log"
    }
    tandemd=$ROOT/build/tandemd
    echo "built $tandemd"
fi
tandemctl=$(dirname "$tandemd")/tandemctl
[ -x "$tandemd" ] || fail "no $tandemd"
[ -x "$tandemctl" ] || fail "no $tandemctl"
for t in ip dhclient dhcrelay; do
    command -v "$t" >/dev/null || fail "$t is missing (scripts/setup-deps.sh --demo installs it)"
done

# ---- 2. the configuration ----------------------------------------------------

work=$(mktemp -d /tmp/tandem-demo.XXXXXX)
cp "$ROOT"/examples/primary.conf "$ROOT"/examples/secondary.conf "$ROOT"/examples/dhcpd.master "$work"/
# Short lease times and no ping wait, so the demo is quick; everything else is the example.
sed -i 's/^default-lease-time .*/default-lease-time 600;/' "$work/dhcpd.master"
cd "$work" || exit 1

say "3. Check the pair the way an admin checks ISC dhcpd's configuration"
run "$tandemd" -t -cf primary.conf || fail "primary.conf does not check"
run "$tandemd" -t -cf secondary.conf || fail "secondary.conf does not check"

# ---- 3. the network ------------------------------------------------------------

p=tdemo-prim s=tdemo-sec r=tdemo-relay c=tdemo-client b=tdemo-br
pids=()
cleanup() {
    [ "${KEEP:-}" = 1 ] && { echo "demo: left running (KEEP=1); namespaces $p $s $r $c $b"; return; }
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    sleep 0.5
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
    for ns in $c $r $s $p $b; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "4. Namespaces: primary 10.99.0.1 and secondary 10.99.0.2 on a bridge with the relay (10.99.0.3);"
echo "   the client's link 10.99.1.0/24 is behind the relay (10.99.1.1), as in examples/dhcpd.master"
for ns in $b $p $s $r $c; do
    ip netns del "$ns" 2>/dev/null
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1
done
ip -n $b link add br0 type bridge stp_state 0 forward_delay 0
ip -n $b link set br0 up
attach() {  # attach NS TAG ADDR: a veth from NS into the bridge
    ip link add "td-$2" type veth peer name "td-$2-br" &&
        ip link set "td-$2" netns "$1" &&
        ip link set "td-$2-br" netns $b &&
        ip -n $b link set "td-$2-br" master br0 up &&
        ip -n "$1" link set "td-$2" name eth0 &&
        ip -n "$1" addr add "$3" dev eth0 &&
        ip -n "$1" link set eth0 up || fail "cannot set up the link of $1"
}
attach $p p 10.99.0.1/24
attach $s s 10.99.0.2/24
attach $r r 10.99.0.3/24
ip link add td-cl type veth peer name td-cl-r
ip link set td-cl netns $c
ip link set td-cl-r netns $r
ip -n $r link set td-cl-r name eth1
ip -n $r addr add 10.99.1.1/24 dev eth1
ip -n $r link set eth1 up
ip -n $c link set td-cl name eth0
ip -n $c link set eth0 up
ip netns exec $r sysctl -q -w net.ipv4.ip_forward=1
ip -n $p route add 10.99.1.0/24 via 10.99.0.3
ip -n $s route add 10.99.1.0/24 via 10.99.0.3

# ---- 4. the pair -----------------------------------------------------------------

touch primary.leases secondary.leases
say "5. Start the primary and the secondary"
ip netns exec $p "$tandemd" -4 -f -cf primary.conf -lf primary.leases -pf primary.pid \
    --control "$work/primary.ctl" eth0 >primary.log 2>&1 &
pids+=($!)
ip netns exec $s "$tandemd" -4 -f -cf secondary.conf -lf secondary.leases -pf secondary.pid \
    --control "$work/secondary.ctl" eth0 >secondary.log 2>&1 &
pids+=($!)

wait_log() {  # wait_log FILE PATTERN SECONDS
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
wait_log primary.log "I move from .* to normal" 30 || { cat primary.log; fail "the primary did not reach normal"; }
wait_log secondary.log "I move from .* to normal" 30 || { cat secondary.log; fail "the secondary did not reach normal"; }
echo "--- primary's log (failover lines)"
grep -E "I move|peer moves|balanc|Both servers" primary.log
echo "--- secondary's log (failover lines)"
grep -E "I move|peer moves|balanc|Both servers" secondary.log

say "6. tandemctl status on both"
run "$tandemctl" -s "$work/primary.ctl" status
run "$tandemctl" -s "$work/secondary.ctl" status

# ---- 5. a real client ------------------------------------------------------------

say "7. ISC's relay in front of the client, forwarding to both servers"
ip netns exec $r dhcrelay -d -4 -i eth0 -i eth1 10.99.0.1 10.99.0.2 >relay.log 2>&1 &
pids+=($!)
sleep 1

say "8. dhclient on the client's link"
cat >client-script <<'EOF'
#!/bin/sh
case "$reason" in
BOUND|RENEW|REBIND|REBOOT)
    ip addr add "$new_ip_address/32" dev "$interface" 2>/dev/null
    echo "dhclient: $reason $new_ip_address routers=$new_routers dns=$new_domain_name_servers lease=$new_dhcp_lease_time" ;;
esac
exit 0
EOF
chmod +x client-script
run timeout 30 ip netns exec $c dhclient -4 -1 -v -sf "$work/client-script" -lf "$work/client.leases" \
    -pf "$work/client.pid" eth0 || fail "dhclient got no lease"
[ -f client.pid ] && pids+=("$(cat client.pid)")
addr=$(sed -n 's/^ *fixed-address \(.*\);/\1/p' client.leases | tail -n 1)
echo "the client holds $addr"

say "9. Who answered, and both lease files know it"
grep -hE "DHCPACK on $addr" primary.log secondary.log | sed 's/^/    /'
sleep 2.5   # the peer's BNDACK, then the lease is on disk on both
for f in primary.leases secondary.leases; do
    if awk -v a="$addr" '$1 == "lease" && $2 == a { p = 1 } p { print } /^}/ { p = 0 }' "$f" | grep -q "binding state active"; then
        echo "    $f: lease $addr is active"
    else
        fail "$f does not show $addr as active"
    fi
done
say "Done: a Tandem failover pair in normal served a real client through ISC's relay."
