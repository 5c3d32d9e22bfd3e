#!/bin/bash
# Integration test of the packet path (server/packet_io, server/ping) in two
# network namespaces joined by a veth pair, 10.200.0.1/24 (server, veth "vs")
# and 10.200.0.2/24 (client, veth "vc"). tests/integration/netio_probe opens
# PacketIo in the server namespace; python3 plays client and relay in the other.
# Checks: reception exactly once (raw socket plus the UDP socket on port 67),
# fragments / other ports / bad checksums dropped, raw unicast to a MAC with
# checksums the client's kernel accepts, broadcast, relay and ciaddr replies by
# UDP, NAK broadcast, offload (CHECKSUM_PARTIAL) frames accepted, ping-check
# answered and unanswered, and the raw receive rate. TAP output; needs root.
#
# Run from the build tree:  make tests/integration/netio_probe && \
#   sudo top_srcdir=.. top_builddir=. bash ../tests/integration/netio.sh
# Traffic stays inside the two namespaces this script creates; both are
# deleted on exit, whatever happens.
set -u
export LC_ALL=C

top_builddir=${top_builddir:-.}
PROBE=${NETIO_PROBE:-$top_builddir/tests/integration/netio_probe}
BLAST_COUNT=${NETIO_BLAST_COUNT:-100000}
PLAN=17

if [ "$(id -u)" != 0 ]; then
    echo "1..0 # SKIP needs root (network namespaces, raw sockets)"
    exit 0
fi
for tool in ip python3 timeout; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "1..0 # SKIP $tool not found"
        exit 0
    fi
done
if [ ! -x "$PROBE" ]; then
    echo "1..0 # SKIP $PROBE not built (make tests/integration/netio_probe)"
    exit 0
fi
PYTHON=$(command -v python3)

NS_S="tnio$$-s"
NS_C="tnio$$-c"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tandem-netio.XXXXXX") || exit 1
PIDS=()

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    for ns in "$NS_S" "$NS_C"; do
        if ip netns list | grep -qw "$ns"; then
            for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
            ip netns del "$ns" 2>/dev/null
        fi
    done
    if [ -n "${NETIO_KEEP:-}" ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

N=0
FAILED=0
ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $1"; }
check() { # check DESCRIPTION COMMAND...
    local d=$1
    shift
    if "$@"; then ok "$d"; else not_ok "$d"; fi
}
diag_file() { sed 's/^/# /' "$1"; }

echo "1..$PLAN"

# ---- topology
ip netns add "$NS_S" && ip netns add "$NS_C" || { echo "Bail out! cannot create namespaces"; exit 1; }
ip link add vs netns "$NS_S" type veth peer name vc netns "$NS_C" || { echo "Bail out! cannot create veth"; exit 1; }
for ns in "$NS_S" "$NS_C"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 >/dev/null 2>&1
    ip -n "$ns" link set lo up
done
ip -n "$NS_S" addr add 10.200.0.1/24 dev vs
ip -n "$NS_C" addr add 10.200.0.2/24 dev vc
ip -n "$NS_S" link set vs up
ip -n "$NS_C" link set vc up
CLIENT_MAC=$(ip netns exec "$NS_C" cat /sys/class/net/vc/address)
SERVER_MAC=$(ip netns exec "$NS_S" cat /sys/class/net/vs/address)
# veth carrier comes up asynchronously: wait (bounded) until both ends are up.
for _ in $(seq 50); do
    ip -n "$NS_S" link show vs | grep -q 'state UP' && ip -n "$NS_C" link show vc | grep -q 'state UP' && break
    sleep 0.1
done

cat >"$WORK/dhcpd.conf" <<'EOF'
subnet 10.200.0.0 netmask 255.255.255.0 {
  range 10.200.0.100 10.200.0.200;
}
EOF

wait_for() { # wait_for FILE PATTERN SECONDS
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# ---- the functional run: the probe expects exactly the 5 packets it should see.
ip netns exec "$NS_S" "$PROBE" serve --iface vs --config "$WORK/dhcpd.conf" --expect 5 --seconds 20 \
    >"$WORK/serve.out" 2>"$WORK/serve.err" &
PIDS+=($!)
SERVE_PID=$!
if wait_for "$WORK/serve.err" READY 10; then
    ok "probe opens PacketIo on vs"
else
    not_ok "probe opens PacketIo on vs"
    diag_file "$WORK/serve.err"
fi
check "logs Listening on LPF/vs/MAC/10.200.0.0/24 as ISC" \
    grep -qx "Listening on LPF/vs/$SERVER_MAC/10.200.0.0/24" "$WORK/serve.err"
check "logs Sending on   LPF/... and the fallback socket" \
    bash -c "grep -qx 'Sending on   LPF/vs/$SERVER_MAC/10.200.0.0/24' '$WORK/serve.err' &&
             grep -qx 'Sending on   Socket/fallback/fallback-net' '$WORK/serve.err'"

cat >"$WORK/client.py" <<'EOF'
import socket, struct, sys, time, select

IFACE, MAC = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':', ''))
ME, SERVER = '10.200.0.2', '10.200.0.1'
IP_PKTINFO = 8

def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def dhcp(xid, mtype, flags=0, ciaddr='0.0.0.0', giaddr='0.0.0.0', opts=b'', size=300):
    h = struct.pack('!BBBBIHH4s4s4s4s16s64s128s', 1, 1, 6, 0, xid, 0, flags,
                    socket.inet_aton(ciaddr), b'\0' * 4, b'\0' * 4, socket.inet_aton(giaddr),
                    MAC + b'\0' * 10, b'', b'')
    o = b'\x63\x82\x53\x63' + bytes([53, 1, mtype]) + opts + b'\xff'
    p = h + o
    return p + b'\0' * max(0, size - len(p))

def frame(payload, src='0.0.0.0', dst='255.255.255.255', sport=68, dport=67, corrupt=False):
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    ulen = 8 + len(payload)
    u = struct.pack('!HHHH', sport, dport, ulen, 0) + payload
    c = csum(s + d + struct.pack('!BBH', 0, 17, ulen) + u) or 0xffff
    if corrupt: c ^= 0x5555
    u = u[:6] + struct.pack('!H', c) + u[8:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + ulen, 0, 0, 64, 17, 0, s, d)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return b'\xff' * 6 + MAC + b'\x08\x00' + ip + u

def udp(port, addr='0.0.0.0'):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, IFACE.encode())
    s.bind((addr, port))
    return s

def recv_reply(s, xid, timeout=2.0):
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([s], [], [], max(0, end - time.time()))
        if not r: break
        data, anc, _, src = s.recvmsg(2048, 256)
        dst = None
        for lvl, typ, val in anc:
            if lvl == socket.IPPROTO_IP and typ == IP_PKTINFO:
                dst = socket.inet_ntoa(val[8:12])
        if len(data) >= 240 and struct.unpack('!I', data[4:8])[0] == xid:
            mtype = None
            i = 240
            while i < len(data) and data[i] != 255:
                if data[i] == 0: i += 1; continue
                if data[i] == 53: mtype = data[i + 2]
                i += 2 + data[i + 1]
            return {'src': src, 'dst': dst, 'type': mtype, 'yiaddr': socket.inet_ntoa(data[16:20])}
    return None

def result(name, good, detail=''):
    print('RESULT %s %s %s' % (name, 'pass' if good else 'fail', detail), flush=True)

raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
raw.bind((IFACE, 0))
rx68 = udp(68)
relay = udp(67, ME)
opt50 = bytes([50, 4]) + socket.inet_aton(ME)

# What must NOT reach the probe goes first, so the probe's linger after the
# last expected packet covers it.
raw.send(frame(dhcp(0x1002, 1, opts=opt50), corrupt=True))              # bad UDP checksum
big = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
big.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
big.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, IFACE.encode())
big.setsockopt(socket.IPPROTO_IP, 10, 0)                                # IP_MTU_DISCOVER = DONT: fragment
big.sendto(dhcp(0x1007, 1, size=3000), ('255.255.255.255', 67))         # fragmented
big.sendto(dhcp(0x1008, 1), ('255.255.255.255', 1067))                  # another port
time.sleep(0.2)

# A: raw DISCOVER from 0.0.0.0 (checksum computed here, verified by the probe):
# OFFER as a raw frame to our MAC and yiaddr; our kernel checks its checksums.
raw.send(frame(dhcp(0x1001, 1, opts=opt50)))
r = recv_reply(rx68, 0x1001)
result('hw-unicast', r is not None and r['dst'] == ME and r['src'] == (SERVER, 67) and r['type'] == 2, r)

# C: broadcast flag, sent by the UDP stack (veth offload: CHECKSUM_PARTIAL).
rx68.sendto(dhcp(0x1003, 1, flags=0x8000, opts=opt50), ('255.255.255.255', 67))
r = recv_reply(rx68, 0x1003)
result('broadcast', r is not None and r['dst'] == '255.255.255.255' and r['type'] == 2, r)

# D: a relay (giaddr = our address) unicasts to the server from port 67.
relay.sendto(dhcp(0x1004, 3, giaddr=ME, opts=opt50), (SERVER, 67))
r = recv_reply(relay, 0x1004)
result('relay', r is not None and r['dst'] == ME and r['src'] == (SERVER, 67) and r['type'] == 5, r)

# E: a renewing client (ciaddr set, no server identifier): ACK by UDP to ciaddr:68.
rx68.sendto(dhcp(0x1005, 3, ciaddr=ME), (SERVER, 67))
r = recv_reply(rx68, 0x1005)
result('ciaddr-unicast', r is not None and r['dst'] == ME and r['src'] == (SERVER, 67) and r['type'] == 5, r)

# F: the probe NAKs when the hostname says "nak": broadcast although ciaddr is set.
rx68.sendto(dhcp(0x1006, 3, ciaddr=ME, opts=bytes([12, 3]) + b'nak'), ('255.255.255.255', 67))
r = recv_reply(rx68, 0x1006)
result('nak-broadcast', r is not None and r['dst'] == '255.255.255.255' and r['type'] == 6, r)

snmp = open('/proc/net/snmp').read().split('\n')
udp_rows = [l.split() for l in snmp if l.startswith('Udp:')]
stats = dict(zip(udp_rows[0][1:], udp_rows[1][1:]))
result('client-checksums', stats.get('InCsumErrors') == '0', 'InCsumErrors=%s' % stats.get('InCsumErrors'))
EOF

ip netns exec "$NS_C" timeout 30 "$PYTHON" "$WORK/client.py" vc "$CLIENT_MAC" >"$WORK/client.out" 2>"$WORK/client.err"
for _ in $(seq 100); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
wait "$SERVE_PID" 2>/dev/null

result() { # result NAME DESCRIPTION
    if grep -q "^RESULT $1 pass" "$WORK/client.out"; then
        ok "$2"
    else
        not_ok "$2"
        grep "^RESULT $1 " "$WORK/client.out" | sed 's/^/# /'
        [ -s "$WORK/client.err" ] && diag_file "$WORK/client.err"
    fi
}
result hw-unicast "OFFER as a raw frame to the client's MAC and yiaddr arrives (kernel accepted the checksums)"
result broadcast "broadcast flag: reply to 255.255.255.255 at ff:ff:ff:ff:ff:ff"
result relay "relayed request: reply by UDP to giaddr:67 from the server identifier"
result ciaddr-unicast "ciaddr set: ACK by UDP to ciaddr:68"
result nak-broadcast "NAK: broadcast although ciaddr is set"
result client-checksums "no UDP checksum errors in the client's kernel"

SUMMARY=$(grep '^SUMMARY' "$WORK/serve.out")
COUNTERS=$(grep '^COUNTERS' "$WORK/serve.out")
field() { echo "$COUNTERS $SUMMARY" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }
if [ "$(field received)" = 5 ] && [ "$(field unique)" = 5 ] && [ "$(field dups)" = 0 ]; then
    ok "each of the 5 packets delivered exactly once"
else
    not_ok "each of the 5 packets delivered exactly once"
    diag_file "$WORK/serve.out"
fi
check "fragmented, other-port and bad-checksum packets never delivered" \
    bash -c "! grep -Eq 'xid=0000100(2|7|8)' '$WORK/serve.out'"
if [ "$(field bad-udp-checksum)" = 1 ]; then ok "the corrupted UDP checksum was counted"; else
    not_ok "the corrupted UDP checksum was counted"
    echo "# $COUNTERS"
fi
# The UDP stack checksums lazily on veth: frames arrive as CHECKSUM_PARTIAL
# (TP_STATUS_CSUMNOTREADY) and must still be accepted.
NR=$(field csum_not_ready)
if [ -n "$NR" ] && [ "$NR" -ge 1 ]; then
    ok "offload: $NR frame(s) arrived with the checksum not ready and were accepted"
else
    not_ok "offload: frames with the checksum not ready were seen and accepted"
    echo "# $COUNTERS"
fi
# The probe's last look at its UDP socket: rx_queue (hex tx:rx) empty, and
# drops > 0: the drop-all filter refused the copies the kernel offered it.
UDPSOCK=$(grep '^UDPSOCK local=00000000:0043 ' "$WORK/serve.out")
DROPS=$(echo "$UDPSOCK" | sed -n 's/.*drops=\([0-9]*\).*/\1/p')
if grep -q 'queues=00000000:00000000' <<<"$UDPSOCK" && [ -n "$DROPS" ] && [ "$DROPS" -ge 1 ]; then
    ok "UDP socket on :67 queues nothing (its filter dropped $DROPS)"
else
    not_ok "UDP socket on :67 queues nothing"
    echo "# ${UDPSOCK:-no UDPSOCK line}"
fi

# ---- ping-check
ip netns exec "$NS_S" timeout 10 "$PROBE" ping --addr 10.200.0.2 --addr 10.200.0.77 --timeout 1000 \
    >"$WORK/ping.out" 2>&1
check "ping of a live address is answered" grep -q '^PING 10.200.0.2 answered' "$WORK/ping.out"
MS=$(sed -n 's/^PING 10.200.0.77 unanswered ms=\([0-9]*\)/\1/p' "$WORK/ping.out")
if [ -n "$MS" ] && [ "$MS" -ge 900 ] && [ "$MS" -le 2500 ]; then
    ok "ping of an absent address is unanswered after the timeout (${MS} ms)"
else
    not_ok "ping of an absent address is unanswered after the timeout"
    diag_file "$WORK/ping.out"
fi

# ---- receive rate: the probe counts a burst of raw broadcast DISCOVERs.
ip netns exec "$NS_S" "$PROBE" serve --iface vs --config "$WORK/dhcpd.conf" --stats --expect "$BLAST_COUNT" \
    --seconds 30 --linger 300 --idle 1000 >"$WORK/rate.out" 2>"$WORK/rate.err" &
PIDS+=($!)
RATE_PID=$!
wait_for "$WORK/rate.err" READY 10
ip netns exec "$NS_C" timeout 40 "$PROBE" blast --iface vc --count "$BLAST_COUNT" >"$WORK/blast.out" 2>&1
# The probe stops by itself: all frames in, or 1 s without one, or its time limit.
for _ in $(seq 350); do kill -0 "$RATE_PID" 2>/dev/null || break; sleep 0.1; done
wait "$RATE_PID" 2>/dev/null
RSUM=$(grep '^SUMMARY' "$WORK/rate.out")
RCNT=$(grep '^COUNTERS' "$WORK/rate.out")
echo "# $(cat "$WORK/blast.out")"
echo "# $RSUM"
echo "# $RCNT"
GOT=$(echo "$RSUM" | sed -n 's/.*received=\([0-9]*\).*/\1/p')
if [ -n "$GOT" ] && [ "$GOT" -gt 0 ] && grep -q 'dups=0' <<<"$RSUM"; then
    ok "receive rate measured ($GOT of $BLAST_COUNT frames, no duplicates)"
else
    not_ok "receive rate measured"
    diag_file "$WORK/rate.err"
fi

[ "$N" = "$PLAN" ] || echo "# ran $N of $PLAN cases"
[ "$FAILED" = 0 ] && [ "$N" = "$PLAN" ]
