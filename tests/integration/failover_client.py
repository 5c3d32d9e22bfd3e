#!/usr/bin/env python3
"""A scripted DHCP client for the failover integration tests. Standard library only.

  failover_client.py IFACE dora MAC... [--cid] [--secs N] [--timeout S] [--wait-offers S]
  failover_client.py IFACE reboot MAC=ADDR... [--cid] [--timeout S]

`dora` runs DISCOVER/OFFER/REQUEST/ACK for each client in turn (chaddr MAC,
the broadcast flag set, so the replies come to 255.255.255.255:68 on IFACE
even though IFACE has no address). After the first OFFER it keeps listening
for --wait-offers seconds (0.4) so that a second server's OFFER is seen too,
then requests the first one. `reboot` sends the INIT-REBOOT DHCPREQUEST of
RFC 2131 §4.3.2 (requested address, no server identifier) a client sends for
the address it holds when it comes back.

--cid sends option 61 = 01 + MAC (what udhcpc and perfdhcp send); without it
the load-balancing key is chaddr. --secs fixes the `secs` field (default: the
seconds since the client began, as a real client sends them); `--secs 0`
keeps every DISCOVER inside `load balance max seconds`.

One line per client on stdout:
  MAC ADDR SERVER LEASE-TIME offers=SERVER[,SERVER] secs=N
or, when it got nothing, `MAC - - - offers=... why` (why: no-offer, nak,
no-ack). The exit status is 0 when every client got an ACK, 1 otherwise.

It must run inside a test namespace, as root, where no other process holds
UDP port 68 on IFACE (dhclient and udhcpc must not run there at the same time).
Every wait is bounded by --timeout per client (8 s).
"""

import os
import random
import select
import socket
import struct
import sys
import time

DISCOVER, OFFER, REQUEST, ACK, NAK = 1, 2, 3, 5, 6


def mac_bytes(text):
    b = bytes(int(x, 16) for x in text.split(":"))
    if len(b) != 6:
        raise ValueError("not a MAC address: " + text)
    return b


def build(msg_type, xid, mac, secs, cid, requested=None, server=None):
    chaddr = mac + b"\0" * (16 - len(mac))
    head = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, secs, 0x8000,
                       b"\0" * 4, b"\0" * 4, b"\0" * 4, b"\0" * 4, chaddr, b"\0" * 64, b"\0" * 128)
    opts = b"\x63\x82\x53\x63" + bytes([53, 1, msg_type])
    if cid:
        opts += bytes([61, 7, 1]) + mac
    if requested:
        opts += bytes([50, 4]) + socket.inet_aton(requested)
    if server:
        opts += bytes([54, 4]) + socket.inet_aton(server)
    opts += bytes([55, 4, 1, 3, 6, 51]) + b"\xff"
    return head + opts + b"\0" * max(0, 300 - len(head) - len(opts))


def parse(b):
    """(type, xid, chaddr bytes, yiaddr, server id, lease time) or None."""
    if len(b) < 240 or b[0] != 2 or b[236:240] != b"\x63\x82\x53\x63":
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
    lt = struct.unpack("!I", opts[51])[0] if len(opts.get(51, b"")) == 4 else None
    return mt, struct.unpack("!I", b[4:8])[0], b[28:34], socket.inet_ntoa(b[16:20]), sid, lt


class Client:
    def __init__(self, iface):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode() + b"\0")
        self.sock.bind(("0.0.0.0", 68))

    def send(self, pkt):
        self.sock.sendto(pkt, ("255.255.255.255", 67))

    def replies(self, xid, mac, until):
        """Yield parsed replies for xid/mac until the monotonic deadline."""
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return
            data = self.sock.recv(4096)
            p = parse(data)
            if p and p[1] == xid and p[2] == mac:
                yield p


def dora(c, mac_text, cid, fixed_secs, timeout, wait_offers):
    mac = mac_bytes(mac_text)
    xid = random.getrandbits(32)
    start = time.monotonic()
    deadline = start + timeout
    offers, first, secs = [], None, 0
    # DISCOVER once a second until an OFFER comes (RFC 2131 §4.1 retransmits).
    while first is None and time.monotonic() < deadline:
        secs = fixed_secs if fixed_secs is not None else int(time.monotonic() - start)
        c.send(build(DISCOVER, xid, mac, secs, cid))
        for p in c.replies(xid, mac, min(deadline, time.monotonic() + 1.0)):
            if p[0] == OFFER:
                first = p
                offers.append(p[4])
                break
    if first is None:
        return "%s - - - offers= no-offer" % mac_text, False
    for p in c.replies(xid, mac, time.monotonic() + wait_offers):
        if p[0] == OFFER and p[4] not in offers:
            offers.append(p[4])
    addr, server = first[3], first[4]
    tries = 0
    while time.monotonic() < deadline and tries < 4:
        tries += 1
        c.send(build(REQUEST, xid, mac, secs, cid, requested=addr, server=server))
        for p in c.replies(xid, mac, min(deadline, time.monotonic() + 1.5)):
            if p[0] == ACK and p[4] == server:
                return "%s %s %s %s offers=%s secs=%d" % (
                    mac_text, p[3], p[4], p[5], ",".join(offers), secs), True
            if p[0] == NAK and p[4] == server:
                return "%s - - - offers=%s nak" % (mac_text, ",".join(offers)), False
    return "%s - - - offers=%s no-ack" % (mac_text, ",".join(offers)), False


def reboot(c, spec, cid, timeout):
    mac_text, addr = spec.split("=", 1)
    mac = mac_bytes(mac_text)
    xid = random.getrandbits(32)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        c.send(build(REQUEST, xid, mac, 0, cid, requested=addr))
        for p in c.replies(xid, mac, min(deadline, time.monotonic() + 1.0)):
            if p[0] == ACK:
                return "%s %s %s %s offers= secs=0" % (mac_text, p[3], p[4], p[5]), p[3] == addr
            if p[0] == NAK:
                return "%s - %s - offers= nak" % (mac_text, p[4]), False
    return "%s - - - offers= no-ack" % mac_text, False


def main(argv):
    args = argv[1:]
    opts = {"--cid": False, "--secs": None, "--timeout": 8.0, "--wait-offers": 0.4}
    rest = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--cid":
            opts[a] = True
        elif a in ("--secs", "--timeout", "--wait-offers") and i + 1 < len(args):
            opts[a] = float(args[i + 1])
            i += 1
        else:
            rest.append(a)
        i += 1
    if len(rest) < 3 or rest[1] not in ("dora", "reboot"):
        sys.stderr.write(__doc__)
        return 2
    random.seed(os.getpid() ^ int(time.time() * 1000))
    c = Client(rest[0])
    secs = None if opts["--secs"] is None else int(opts["--secs"])
    ok = True
    for spec in rest[2:]:
        if rest[1] == "dora":
            line, good = dora(c, spec, opts["--cid"], secs, opts["--timeout"], opts["--wait-offers"])
        else:
            line, good = reboot(c, spec, opts["--cid"], opts["--timeout"])
        print(line, flush=True)
        ok = ok and good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
