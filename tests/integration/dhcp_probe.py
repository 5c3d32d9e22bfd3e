#!/usr/bin/env python3
"""A one-packet DHCP client for the integration tests. Standard library only.

  dhcp_probe.py IFACE MAC request ADDR [TIMEOUT]

sends an INIT-REBOOT DHCPREQUEST (RFC 2131 §4.3.2: requested address ADDR,
no server identifier, ciaddr 0) from 0.0.0.0:68 to 255.255.255.255:67 on
IFACE, with chaddr MAC and the broadcast flag, once a second until a reply
with its xid comes or TIMEOUT (5) seconds pass. It prints the reply as
"DHCPNAK from SERVER" or "DHCPACK ADDR from SERVER" and exits 0, or prints
"no reply" and exits 1. Run it inside a test namespace, as root, where no
other client holds port 68.
"""

import os
import select
import socket
import struct
import sys
import time

TYPES = {1: "DHCPDISCOVER", 2: "DHCPOFFER", 3: "DHCPREQUEST", 4: "DHCPDECLINE",
         5: "DHCPACK", 6: "DHCPNAK", 7: "DHCPRELEASE", 8: "DHCPINFORM"}


def build_request(xid, mac, requested):
    chaddr = mac + b"\x00" * (16 - len(mac))
    head = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000,
                       b"\0" * 4, b"\0" * 4, b"\0" * 4, b"\0" * 4, chaddr, b"\0" * 64, b"\0" * 128)
    opts = b"\x63\x82\x53\x63"
    opts += bytes([53, 1, 3])                                  # DHCPREQUEST
    opts += bytes([61, 7, 1]) + mac                            # client identifier
    opts += bytes([50, 4]) + socket.inet_aton(requested)       # requested address
    opts += bytes([55, 4, 1, 3, 6, 51])                        # parameter request list
    opts += b"\xff"
    return head + opts + b"\0" * max(0, 300 - len(head) - len(opts))


def parse_reply(b, xid):
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
    sid = socket.inet_ntoa(opts[54]) if len(opts.get(54, b"")) == 4 else "?"
    return TYPES.get(mt, "type-%d" % mt), socket.inet_ntoa(b[16:20]), sid


def main(argv):
    if len(argv) < 5 or argv[3] != "request":
        sys.stderr.write(__doc__)
        return 2
    iface, mac, addr = argv[1], bytes.fromhex(argv[2].replace(":", "")), argv[4]
    timeout = float(argv[5]) if len(argv) > 5 else 5.0
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    s.bind(("0.0.0.0", 68))
    xid = struct.unpack("!I", os.urandom(4))[0]
    pkt = build_request(xid, mac, addr)
    deadline = time.monotonic() + timeout
    next_send = 0.0
    while True:
        now = time.monotonic()
        if now >= deadline:
            print("no reply")
            return 1
        if now >= next_send:
            s.sendto(pkt, ("255.255.255.255", 67))
            next_send = now + 1.0
        r, _, _ = select.select([s], [], [], max(0.0, min(deadline, next_send) - now))
        if not r:
            continue
        reply = parse_reply(s.recv(2048), xid)
        if reply is None:
            continue
        kind, yiaddr, sid = reply
        if kind == "DHCPNAK":
            print("DHCPNAK from %s" % sid)
        else:
            print("%s %s from %s" % (kind, yiaddr, sid))
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
