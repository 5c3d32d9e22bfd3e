#!/usr/bin/env python3
"""Extract the failover messages of a pcap (Ethernet, IPv4, TCP) as one hex line each.

Usage: extract.py CAPTURE.pcap PORT [PORT ...] > NAME.hex
Each TCP direction whose source or destination port is one of PORTS is reassembled
in sequence order and cut into messages by the 2-byte length prefix. Output lines:
"# <capture> frame <N> <src> -> <dst>" then the message in hex. Uses only the
standard library, so that the test data can be regenerated on any machine.
"""
import struct
import sys


def packets(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        sys.exit("only Ethernet captures are handled")
    off, frame = 24, 0
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        frame += 1
        yield frame, data[off:off + incl]
        off += incl


def main():
    path, ports = sys.argv[1], {int(p) for p in sys.argv[2:]}
    streams = {}
    for frame, pkt in packets(path):
        if len(pkt) < 14 or pkt[12:14] != b"\x08\x00":
            continue
        ip = pkt[14:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 6:
            continue
        total = struct.unpack(">H", ip[2:4])[0]
        src, dst = ip[12:16], ip[16:20]
        tcp = ip[ihl:total]
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        flags = tcp[13]
        doff = (tcp[12] >> 4) * 4
        payload = tcp[doff:]
        if sport not in ports and dport not in ports:
            continue
        key = (src, sport, dst, dport)
        st = streams.setdefault(key, {"next": None, "buf": b"", "frames": []})
        if flags & 0x02:  # SYN: the stream starts after it
            st["next"] = (seq + 1) & 0xFFFFFFFF
            st["buf"] = b""
            continue
        if payload and st["next"] is None:
            st["next"] = seq  # the capture began after the handshake: start at the first data
        if not payload or seq != st["next"]:
            continue  # retransmissions and out-of-window data are not expected here
        st["next"] = (seq + len(payload)) & 0xFFFFFFFF
        st["buf"] += payload
        while len(st["buf"]) >= 2:
            n = struct.unpack(">H", st["buf"][:2])[0]
            if n < 12 or len(st["buf"]) < n:
                break
            msg, st["buf"] = st["buf"][:n], st["buf"][n:]
            a = ".".join(map(str, src)) + ":" + str(sport)
            b = ".".join(map(str, dst)) + ":" + str(dport)
            print("# %s frame %d %s -> %s" % (path.split("/")[-1], frame, a, b))
            print(msg.hex())


if __name__ == "__main__":
    main()
