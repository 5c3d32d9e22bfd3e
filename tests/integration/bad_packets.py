#!/usr/bin/env python3
"""Malformed DHCP packets for the bad-input test. Standard library only.

  bad_packets.py IFACE COUNT

broadcasts from 0.0.0.0:68 to 255.255.255.255:67 on IFACE: a truncated
header, an option running past the end, an option without its length byte,
overload (52) pointing at fields that hold another option 52, a 300-byte
relay agent information option (two instances joined), a two-byte message
type, a hardware address length of 17, then COUNT random buffers. It prints
how many it sent. Run it as root inside a test namespace.
"""

import random
import socket
import struct
import sys


def header(xid, hlen=6, giaddr=b"\0\0\0\0"):
    chaddr = bytes([0x02, 0x00, 0x5E, 0x20, 0x00, xid & 0xFF]) + b"\0" * 10
    return struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, hlen, 0, xid, 0, 0x8000,
                       b"\0" * 4, b"\0" * 4, b"\0" * 4, giaddr, chaddr, b"\0" * 64, b"\0" * 128)


COOKIE = b"\x63\x82\x53\x63"


def crafted():
    out = []
    out.append(header(1)[:100])                                       # truncated header
    out.append(header(2) + COOKIE + bytes([53, 1, 1, 12, 40]) + b"ab")  # runs past the end
    out.append(header(3) + COOKIE + bytes([53, 1, 1, 12]))              # no length byte
    h = bytearray(header(4))
    h[44:47] = bytes([52, 1, 3])       # sname: another overload option
    h[108:111] = bytes([52, 1, 3])     # file: and another
    out.append(bytes(h) + COOKIE + bytes([52, 1, 3, 53, 1, 1, 255]))  # overload loop
    big = b""
    for _ in range(2):
        big += bytes([82, 150]) + bytes([9, 1, ord("x")]) * 50
    out.append(header(5, giaddr=socket.inet_aton("192.0.2.1")) + COOKIE + bytes([53, 1, 1]) + big + b"\xff")
    out.append(header(6) + COOKIE + bytes([53, 2, 1, 1, 255]))            # message type of two bytes
    out.append(header(7, hlen=17) + COOKIE + bytes([53, 1, 1, 255]))      # hlen 17
    return out


def main():
    iface, count = sys.argv[1], int(sys.argv[2])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    s.bind(("0.0.0.0", 68))
    rng = random.Random(2026)
    sent = 0
    for p in crafted():
        s.sendto(p, ("255.255.255.255", 67))
        sent += 1
    for _ in range(count):
        n = rng.randint(0, 700)
        body = bytearray(rng.getrandbits(8) for _ in range(n))
        if n > 240 and rng.random() < 0.7:
            body[0] = 1
            body[236:240] = COOKIE   # mostly plausible packets, so the option parser is reached
        s.sendto(bytes(body), ("255.255.255.255", 67))
        sent += 1
    print(f"sent {sent}")


if __name__ == "__main__":
    main()
