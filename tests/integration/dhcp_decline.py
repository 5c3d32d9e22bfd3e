#!/usr/bin/env python3
"""A client that takes a lease and then declines it, for the integration tests.
Standard library only.

  dhcp_decline.py IFACE MAC [TIMEOUT]

does a DISCOVER, OFFER, REQUEST, ACK exchange from 0.0.0.0:68 on IFACE (chaddr
MAC, client identifier 01+MAC, the broadcast flag, so that the replies come
back broadcast to a client without an address), then sends the DHCPDECLINE a
client sends when its ARP probe finds the address in use (RFC 2131 §3.1 step
5, §4.4.1 table 5: requested address and server identifier, ciaddr 0). The
server marks the address abandoned (ISC: "Abandoning IP address A: declined.").
Prints "declined ADDR from SERVER" and exits 0, or says what was missing and
exits 1. Every wait is bounded by TIMEOUT (5 s per step). Run it as root inside
a test namespace where no other client holds port 68.
"""

import os
import select
import socket
import struct
import sys
import time

DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK = 1, 2, 3, 4, 5, 6


def build(msgtype, xid, mac, extra):
    chaddr = mac + b"\x00" * (16 - len(mac))
    head = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000,
                       b"\0" * 4, b"\0" * 4, b"\0" * 4, b"\0" * 4, chaddr, b"\0" * 64, b"\0" * 128)
    opts = b"\x63\x82\x53\x63" + bytes([53, 1, msgtype]) + bytes([61, 7, 1]) + mac
    for code, value in extra:
        opts += bytes([code, len(value)]) + value
    opts += b"\xff"
    return head + opts + b"\0" * max(0, 300 - len(head) - len(opts))


def parse(b, xid):
    """(message type, yiaddr, options) of a reply to xid, or None."""
    if len(b) < 240 or b[0] != 2 or struct.unpack("!I", b[4:8])[0] != xid:
        return None
    if b[236:240] != b"\x63\x82\x53\x63":
        return None
    opts, i = {}, 240
    while i < len(b) and b[i] != 255:
        if b[i] == 0:
            i += 1
            continue
        if i + 1 >= len(b):
            break
        opts[b[i]] = b[i + 2:i + 2 + b[i + 1]]
        i += 2 + b[i + 1]
    mt = opts.get(53, b"\0")[0]
    return mt, b[16:20], opts


def exchange(s, pkt, xid, want, timeout):
    """Send pkt once a second until a reply of a type in `want` comes."""
    deadline = time.monotonic() + timeout
    next_send = 0.0
    while True:
        now = time.monotonic()
        if now >= deadline:
            return None
        if now >= next_send:
            s.sendto(pkt, ("255.255.255.255", 67))
            next_send = now + 1.0
        r, _, _ = select.select([s], [], [], min(deadline, next_send) - now)
        if not r:
            continue
        data, _ = s.recvfrom(4096)
        reply = parse(data, xid)
        if reply is not None and reply[0] in want:
            return reply


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    iface, mac = argv[1], bytes.fromhex(argv[2].replace(":", ""))
    timeout = float(argv[3]) if len(argv) > 3 else 5.0
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    s.bind(("0.0.0.0", 68))
    xid = struct.unpack("!I", os.urandom(4))[0]
    prl = (55, bytes([1, 3, 6, 51, 54]))
    offer = exchange(s, build(DISCOVER, xid, mac, [prl]), xid, (OFFER,), timeout)
    if offer is None:
        print("no DHCPOFFER")
        return 1
    addr, sid = offer[1], offer[2].get(54, b"")
    if len(sid) != 4:
        print("DHCPOFFER of %s without a server identifier" % socket.inet_ntoa(addr))
        return 1
    ack = exchange(s, build(REQUEST, xid, mac, [(50, addr), (54, sid), prl]), xid, (ACK, NAK), timeout)
    if ack is None or ack[0] != ACK:
        print("no DHCPACK for %s (%s)" % (socket.inet_ntoa(addr), "NAK" if ack else "no reply"))
        return 1
    # A DECLINE gets no answer (RFC 2131 §4.3.3): the caller looks for the
    # server's log line.
    s.sendto(build(DECLINE, xid, mac, [(50, addr), (54, sid)]), ("255.255.255.255", 67))
    print("declined %s from %s" % (socket.inet_ntoa(addr), socket.inet_ntoa(sid)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
