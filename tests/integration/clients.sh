# shellcheck shell=bash
# DHCP client wrappers for the integration tests, sourced by lib.sh: ISC
# dhclient, busybox udhcpc and dhcpcd, each run inside a test namespace with its
# own files and a hook script of ours that only records what the client got
# (and, for dhclient, puts the address on the interface as a /32).
#
# It must not let a client touch the host: no stock hook scripts (they rewrite
# resolv.conf, routes and the host name), no shared lease or pid files, every
# run bounded in time.
#
# Each wrapper is `td_<client> NAME NS IFACE [ARGS...]`. NAME picks the client's
# folder $TD_WORK/NAME (config, script, lease file, log, events), so calling it
# again with the same NAME reuses its lease file. On return the last event it
# recorded is in:
#   TD_REASON     BOUND, RENEW, REBIND, REBOOT (dhclient, dhcpcd) or bound, renew (udhcpc)
#   TD_ADDR TD_MASK TD_ROUTERS TD_DNS TD_DOMAIN TD_LEASE_TIME TD_SERVER_ID
# (lists space-separated). Status 0 when a lease was obtained. Every client run
# is bounded by td_bounded (TD_CLIENT_SECS, 30 s).

TD_CLIENT_SECS=${TD_CLIENT_SECS:-30}
declare -A TD_EVENTS_SEEN=()

td_client_dir() { echo "$TD_WORK/$1"; }

# td_hook_script FILE EVENTS ADD-ADDRESS(yes|no): the -sf / -c script for dhclient
# and dhcpcd, which share the reason and new_* variable names.
td_hook_script() {
    cat >"$1" <<EOF
#!/bin/bash
# Written by tests/integration/clients.sh: record the lease, configure no more
# than the address (dhclient) and a host route to the server for unicast renewals.
EVENTS='$2'
ADD='$3'
EOF
    cat >>"$1" <<'EOF'
ip2int() { local IFS=.; set -- $1; echo $((($1 << 24) + ($2 << 16) + ($3 << 8) + $4)); }
if [ "$ADD" = yes ]; then
    case "$reason" in
        PREINIT) ip link set dev "$interface" up ;;
        BOUND | RENEW | REBIND | REBOOT)
            if [ -n "${old_ip_address:-}" ] && [ "$old_ip_address" != "$new_ip_address" ]; then
                ip addr del "$old_ip_address/32" dev "$interface" 2>/dev/null
            fi
            ip addr replace "$new_ip_address/32" dev "$interface"
            sid=${new_dhcp_server_identifier:-}
            router=${new_routers%% *}
            if [ -n "$sid" ] && [ -n "${new_subnet_mask:-}" ]; then
                m=$(ip2int "$new_subnet_mask")
                if [ $(($(ip2int "$sid") & m)) -eq $(($(ip2int "$new_ip_address") & m)) ]; then
                    ip route replace "$sid/32" dev "$interface" src "$new_ip_address"
                elif [ -n "$router" ]; then
                    ip route replace "$router/32" dev "$interface" src "$new_ip_address"
                    ip route replace "$sid/32" via "$router" dev "$interface" src "$new_ip_address"
                fi
            fi
            ;;
        EXPIRE | FAIL | RELEASE | STOP)
            [ -n "${old_ip_address:-}" ] && ip addr del "$old_ip_address/32" dev "$interface" 2>/dev/null
            ;;
    esac
fi
printf 'reason=%s\taddress=%s\tmask=%s\trouters=%s\tdns=%s\tdomain=%s\tlease_time=%s\tserver=%s\n' \
    "${reason:-}" "${new_ip_address:-}" "${new_subnet_mask:-}" "${new_routers:-}" \
    "${new_domain_name_servers:-}" "${new_domain_name:-}" "${new_dhcp_lease_time:-}" \
    "${new_dhcp_server_identifier:-}" >>"$EVENTS"
exit 0
EOF
    chmod 755 "$1"
}

# td_client_result EVENTS [SKIP-LINES]: load the last lease event after the first
# SKIP-LINES lines into TD_*. Status 1 if there is none.
td_client_result() {
    local line f k v
    TD_REASON='' TD_ADDR='' TD_MASK='' TD_ROUTERS='' TD_DNS='' TD_DOMAIN='' TD_LEASE_TIME='' TD_SERVER_ID=''
    line=$(tail -n +"$((${2:-0} + 1))" "$1" 2>/dev/null |
        grep -E '^reason=(BOUND|RENEW|REBIND|REBOOT|bound|renew)'$'\t' | tail -n 1)
    [ -n "$line" ] || return 1
    local IFS=$'\t'
    for f in $line; do
        k=${f%%=*} v=${f#*=}
        case $k in
            reason) TD_REASON=$v ;;
            address) TD_ADDR=$v ;;
            mask) TD_MASK=$v ;;
            routers) TD_ROUTERS=$v ;;
            dns) TD_DNS=$v ;;
            domain) TD_DOMAIN=$v ;;
            lease_time) TD_LEASE_TIME=$v ;;
            server) TD_SERVER_ID=$v ;;
        esac
    done
    [ -n "$TD_ADDR" ]
}

# One line for diagnostics: what the last call got.
td_client_summary() {
    echo "reason=$TD_REASON address=$TD_ADDR mask=$TD_MASK routers=$TD_ROUTERS dns=[$TD_DNS] domain=$TD_DOMAIN lease_time=$TD_LEASE_TIME server=$TD_SERVER_ID"
}

td_lines() {
    local n
    n=$(wc -l 2>/dev/null <"$1") || n=0
    echo "${n:-0}"
}

# ---- ISC dhclient ----------------------------------------------------------

# td_dhclient NAME NS IFACE [DHCLIENT-ARGS...]: `dhclient -1`: one attempt; it
# returns once bound and leaves a daemon that renews (stopped at exit, or by
# td_dhclient_release / td_dhclient_stop).
td_dhclient() {
    local name=$1 ns=$2 iface=$3 dir status=0 before pid
    shift 3
    dir=$(td_client_dir "$name")
    mkdir -p "$dir"
    if [ ! -f "$dir/dhclient.conf" ]; then
        # Quick retransmissions; one attempt gives up after 15 s.
        cat >"$dir/dhclient.conf" <<'EOF'
timeout 15;
retry 60;
reboot 4;
initial-interval 1;
backoff-cutoff 2;
request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers,
        dhcp-lease-time, dhcp-renewal-time, dhcp-rebinding-time, dhcp-server-identifier;
EOF
    fi
    td_hook_script "$dir/script" "$dir/events" yes
    before=$(td_lines "$dir/events")
    echo "## $(date +%T) dhclient -1 $* $iface" >>"$dir/dhclient.log"
    td_bounded "$TD_CLIENT_SECS" ip netns exec "$(td_ns "$ns")" \
        dhclient -4 -1 -v -cf "$dir/dhclient.conf" -sf "$dir/script" \
        -lf "$dir/dhclient.leases" -pf "$dir/dhclient.pid" "$@" "$iface" \
        >>"$dir/dhclient.log" 2>&1 </dev/null || status=$?
    TD_EVENTS_SEEN[$name]=$(td_lines "$dir/events")
    pid=$(cat "$dir/dhclient.pid" 2>/dev/null)
    if [ -n "$pid" ] && td_running "$pid"; then
        td_adopt "$name" "$pid"
    fi
    td_client_result "$dir/events" "$before" || return 1
    return "$status"
}

# td_dhclient_wait_event NAME REGEX SECONDS: wait for a later event of the
# running dhclient (e.g. 'RENEW|REBIND') and load it into TD_*.
td_dhclient_wait_event() {
    local dir before end
    dir=$(td_client_dir "$1")
    # Only events after those td_dhclient returned count.
    before=${TD_EVENTS_SEEN[$1]:-0}
    end=$(($(date +%s%N) + $3 * 1000000000))
    while :; do
        if tail -n +"$((before + 1))" "$dir/events" 2>/dev/null | grep -E -q "^reason=($2)"$'\t'; then
            td_client_result "$dir/events" "$before"
            return
        fi
        [ "$(date +%s%N)" -lt "$end" ] || return 1
        sleep 0.1
    done
}

# td_dhclient_release NAME NS IFACE: `dhclient -r`: stop the running dhclient
# (through its pidfile) and send DHCPRELEASE for its lease.
td_dhclient_release() {
    local dir
    dir=$(td_client_dir "$1")
    echo "## $(date +%T) dhclient -r $3" >>"$dir/dhclient.log"
    td_bounded 20 ip netns exec "$(td_ns "$2")" \
        dhclient -4 -r -v -cf "$dir/dhclient.conf" -sf "$dir/script" \
        -lf "$dir/dhclient.leases" -pf "$dir/dhclient.pid" "$3" \
        >>"$dir/dhclient.log" 2>&1 </dev/null
}

# td_dhclient_stop NAME: stop the running dhclient without a release.
td_dhclient_stop() {
    local pid
    pid=$(cat "$(td_client_dir "$1")/dhclient.pid" 2>/dev/null)
    [ -n "$pid" ] && td_stop "$pid"
    return 0
}

# td_dhclient_stale_lease NAME ADDR IFACE: a dhclient lease file that holds one
# unexpired lease of ADDR, so that the next td_dhclient starts in INIT-REBOOT
# and asks for ADDR (RFC 2131 §3.2).
td_dhclient_stale_lease() {
    local dir t
    dir=$(td_client_dir "$1")
    mkdir -p "$dir"
    t=$(date -u -d '+1 day' '+%w %Y/%m/%d %H:%M:%S')
    cat >"$dir/dhclient.leases" <<EOF
lease {
  interface "$3";
  fixed-address $2;
  option subnet-mask 255.255.255.0;
  option dhcp-lease-time 86400;
  renew $t;
  rebind $t;
  expire $t;
}
EOF
}

# ---- busybox udhcpc --------------------------------------------------------

# td_udhcpc NAME NS IFACE [UDHCPC-ARGS...]: one lease, then exit (-n -q -f);
# e.g. `-r ADDR` asks for ADDR.
td_udhcpc() {
    local name=$1 ns=$2 iface=$3 dir status=0 before
    shift 3
    dir=$(td_client_dir "$name")
    mkdir -p "$dir"
    cat >"$dir/script" <<EOF
#!/bin/sh
# Written by tests/integration/clients.sh: print and record what udhcpc got.
line=\$(printf 'reason=%s\taddress=%s\tmask=%s\trouters=%s\tdns=%s\tdomain=%s\tlease_time=%s\tserver=%s' \\
    "\$1" "\${ip:-}" "\${subnet:-}" "\${router:-}" "\${dns:-}" "\${domain:-}" "\${lease:-}" "\${serverid:-}")
echo "udhcpc event: \$line"
echo "\$line" >>'$dir/events'
exit 0
EOF
    chmod 755 "$dir/script"
    before=$(td_lines "$dir/events")
    echo "## $(date +%T) udhcpc $* -i $iface" >>"$dir/udhcpc.log"
    td_bounded "$TD_CLIENT_SECS" ip netns exec "$(td_ns "$ns")" \
        busybox udhcpc -i "$iface" -n -q -f -t 8 -T 2 -s "$dir/script" "$@" \
        >>"$dir/udhcpc.log" 2>&1 </dev/null || status=$?
    td_client_result "$dir/events" "$before" || return 1
    return "$status"
}

# ---- dhcpcd ----------------------------------------------------------------

# td_dhcpcd NAME NS IFACE [DHCPCD-ARGS...]: dhcpcd in the foreground for one
# lease (-B -1), no ARP probe, no resolv.conf or hostname hooks, our own config
# and hook script. dhcpcd keeps its lease and pid files under /var/lib/dhcpcd and
# /run/dhcpcd by interface name: give IFACE a name unique to this run.
td_dhcpcd() {
    local name=$1 ns=$2 iface=$3 dir status=0 before
    shift 3
    dir=$(td_client_dir "$name")
    mkdir -p "$dir"
    cat >"$dir/dhcpcd.conf" <<'EOF'
# Written by tests/integration/clients.sh
ipv4only
noipv4ll
noarp
option subnet_mask, routers, domain_name_servers, domain_name
require dhcp_server_identifier
EOF
    td_hook_script "$dir/script" "$dir/events" no
    TD_CLEANUP_FILES+=("/var/lib/dhcpcd/$iface.lease" "/run/dhcpcd/$iface-4.pid"
        "/run/dhcpcd/$iface.pid" "/run/dhcpcd/$iface.sock" "/run/dhcpcd/$iface.unpriv.sock")
    before=$(td_lines "$dir/events")
    echo "## $(date +%T) dhcpcd $* $iface" >>"$dir/dhcpcd.log"
    td_bounded "$TD_CLIENT_SECS" ip netns exec "$(td_ns "$ns")" \
        dhcpcd -4 -B -1 -t 12 -d --noarp -C resolv.conf -C hostname \
        -f "$dir/dhcpcd.conf" -c "$dir/script" "$@" "$iface" \
        >>"$dir/dhcpcd.log" 2>&1 </dev/null || status=$?
    td_client_result "$dir/events" "$before" || return 1
    return "$status"
}
