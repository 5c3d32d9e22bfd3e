#!/usr/bin/env python3
"""Write a dhcpd.leases with COUNT active leases, for bench/run.sh (start-up) and bench/failover.sh (recovery).

The file is what ISC dhcpd 4.4 itself writes for a server without failover
(see shared/reference/dhcpd-leases-format.md): the header, then one block per
lease with starts, ends, cltt, `binding state active`, `next binding state free`,
`rewind binding state free`, a hardware address, an octal-quoted uid (type 1 +
MAC, as clients send) and a client-hostname. Addresses are consecutive from
--first; every lease started within the last half lease time and ends in the
future, so a server reading it keeps all of them active. Deterministic for a
given --seed and --now. It writes a file and nothing else.

With --failover MCLT each lease is what a failover primary writes instead: a
`tstp` (ends + MCLT, what the peer was told) and `next binding state expired`.
There is still no failover state block, so a server reading the file starts
that relationship in recover (failover.sh's recovery benchmark).

    gen_leases.py --out FILE [--count 200000] [--first 10.64.0.10]
                  [--lease-time 604800] [--now EPOCH] [--seed 1]
                  [--failover MCLT]
"""

import argparse
import ipaddress
import random
import sys
import time

HEADER = (
    "# The format of this file is documented in the dhcpd.leases(5) manual page.\n"
    "# This lease file was written by isc-dhcp-4.4.3-P1\n"
    "\n"
    "# authoring-byte-order entry is generated, DO NOT DELETE\n"
    "authoring-byte-order little-endian;\n"
    "\n"
)


def isc_date(epoch):
    """ISC's default db-time-format: weekday digit, then UTC date and time."""
    t = time.gmtime(epoch)
    return time.strftime("%w %Y/%m/%d %H:%M:%S", t)


def quotify(data):
    """ISC's quotify_buf: printable ASCII as is (with \\" and \\\\), else three octal digits."""
    out = []
    for b in data:
        if b == 0x22:
            out.append('\\"')
        elif b == 0x5C:
            out.append("\\\\")
        elif 0x20 <= b <= 0x7E:
            out.append(chr(b))
        else:
            out.append("\\%03o" % b)
    return "".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="the file to write ('-' for stdout)")
    ap.add_argument("--count", type=int, default=200000)
    ap.add_argument("--first", default="10.64.0.10", help="the first lease's address")
    ap.add_argument("--lease-time", type=int, default=7 * 86400, help="seconds")
    ap.add_argument("--now", type=int, default=None, help="epoch seconds (default: now)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--failover", type=int, default=None, metavar="MCLT",
                    help="write leases of a failover pool (tstp = ends + MCLT, next state expired)")
    args = ap.parse_args()
    if args.count < 0 or args.lease_time < 2:
        ap.error("--count must be >= 0 and --lease-time >= 2")
    if args.failover is not None and args.failover < 0:
        ap.error("--failover MCLT must be >= 0")

    now = args.now if args.now is not None else int(time.time())
    rng = random.Random(args.seed)
    first = int(ipaddress.IPv4Address(args.first))
    if first + args.count - 1 > 0xFFFFFFFF:
        ap.error("the addresses run past 255.255.255.255")

    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="ascii")
    try:
        out.write(HEADER)
        chunk = []
        for i in range(args.count):
            addr = ipaddress.IPv4Address(first + i)
            # Locally administered MACs, one per lease, numbered from 02:10:00:00:00:00.
            mac = bytes([0x02, 0x10]) + (i).to_bytes(4, "big")
            # Ends rise with the address, one second apart at most: ISC writes each
            # pool's queue sorted by time, and its start-up depends on that order
            # (measured: with random ends, 200,000 leases were not loaded after 12
            # minutes; see bench/README.md). A tie or a one-second step back now
            # and then keeps the file from being perfectly regular.
            starts = now - args.lease_time // 2 + (i * (args.lease_time // 2)) // max(args.count, 1)
            starts -= rng.randrange(0, 2)
            ends = starts + args.lease_time
            if args.failover is None:
                tstp = ""
                next_state = "free"
            else:
                tstp = "  tstp %s;\n" % isc_date(ends + args.failover)
                next_state = "expired"
            chunk.append(
                "lease %s {\n"
                "  starts %s;\n"
                "  ends %s;\n"
                "%s"
                "  cltt %s;\n"
                "  binding state active;\n"
                "  next binding state %s;\n"
                "  rewind binding state free;\n"
                "  hardware ethernet %s;\n"
                '  uid "%s";\n'
                '  client-hostname "host-%d";\n'
                "}\n"
                % (
                    addr,
                    isc_date(starts),
                    isc_date(ends),
                    tstp,
                    isc_date(starts),
                    next_state,
                    ":".join("%02x" % b for b in mac),
                    quotify(b"\x01" + mac),
                    i,
                )
            )
            if len(chunk) >= 4096:
                out.write("".join(chunk))
                chunk = []
        out.write("".join(chunk))
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
