#!/usr/bin/env python3
"""What the failover connections of a capture carried: TLS, or the failover
protocol in the clear. Standard library only; reads classic pcap (tcpdump -w)
of Ethernet or Linux cooked frames, IPv4, TCP.

    tls_wire.py tls   PCAP PORT[,PORT] NEEDLE   every stream to or from PORT with data
                                                is TLS records from its first byte and
                                                NEEDLE (e.g. the relationship name, which
                                                CONNECT carries) appears in none;
                                                status 1 otherwise
    tls_wire.py plain PCAP PORT[,PORT] NEEDLE   some stream starts with a failover
                                                message header and carries NEEDLE in the
                                                clear: the control that the check above
                                                can see plaintext; status 1 if none does

One line per TCP direction is printed: endpoints, bytes, and what it starts with.
"""
import struct
import sys

TLS_TYPES = {20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data"}


def frames(path):
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return
        magic = struct.unpack("<I", head[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            endian = "<"
        elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
            endian = ">"
        else:
            raise SystemExit(f"{path}: not a classic pcap file (pcapng? use tcpdump -w)")
        linktype = struct.unpack(endian + "I", head[20:24])[0]
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            _, _, incl, _ = struct.unpack(endian + "IIII", rec)
            data = f.read(incl)
            if len(data) < incl:
                return
            yield linktype, data


def ipv4_of(linktype, data):
    if linktype == 1:  # Ethernet
        off = 12
        etype = struct.unpack("!H", data[off:off + 2])[0]
        while etype == 0x8100:  # VLAN tags
            off += 4
            etype = struct.unpack("!H", data[off:off + 2])[0]
        return data[off + 2:] if etype == 0x0800 else None
    if linktype == 113:  # Linux cooked
        return data[16:] if struct.unpack("!H", data[14:16])[0] == 0x0800 else None
    if linktype in (101, 228):  # raw IPv4
        return data
    return None


def streams(path, ports):
    """{(src, sport, dst, dport): bytes}, each direction reassembled by sequence number."""
    segs, isn = {}, {}
    for linktype, data in frames(path):
        ip = ipv4_of(linktype, data)
        if ip is None or len(ip) < 20 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        tcp = ip[ihl:total]
        if len(tcp) < 20:
            continue
        sport, dport, seq = struct.unpack("!HHI", tcp[:8])
        if sport not in ports and dport not in ports:
            continue
        flags = tcp[13]
        key = (".".join(map(str, ip[12:16])), sport, ".".join(map(str, ip[16:20])), dport)
        if flags & 0x02:  # SYN: data starts at ISN + 1
            isn[key] = (seq + 1) & 0xFFFFFFFF
        payload = tcp[(tcp[12] >> 4) * 4:]
        if payload:
            segs.setdefault(key, []).append((seq, payload))
    out = {}
    for key, parts in segs.items():
        base = isn.get(key, min(s for s, _ in parts))
        buf = bytearray()
        for seq, payload in sorted(parts, key=lambda p: (p[0] - base) & 0xFFFFFFFF):
            off = (seq - base) & 0xFFFFFFFF
            if off > len(buf) + (1 << 20):
                continue  # before the SYN we saw: another connection's leftovers
            if off > len(buf):
                buf.extend(b"\0" * (off - len(buf)))  # a gap the capture missed
            buf[off:off + len(payload)] = payload
        out[key] = bytes(buf)
    return out


def tls_records(b):
    """(records, why-not-TLS or None): the stream parsed as TLS records to its end."""
    pos, n = 0, 0
    while pos + 5 <= len(b):
        ctype, major, length = b[pos], b[pos + 1], struct.unpack("!H", b[pos + 3:pos + 5])[0]
        if ctype not in TLS_TYPES or major != 3 or length > (1 << 14) + 256:
            return n, f"byte {pos}: {b[pos:pos + 5].hex()} is not a TLS record header"
        pos += 5 + length
        n += 1
    return n, None  # a last record cut by the end of the capture is fine


def failover_header(b):
    """A failover message header at the start: length 12..2048, type 1..12, payload offset 12."""
    if len(b) < 12:
        return False
    length = struct.unpack("!H", b[:2])[0]
    return 12 <= length <= 2048 and 1 <= b[2] <= 12 and b[3] == 12


def main(argv):
    if len(argv) != 5 or argv[1] not in ("tls", "plain"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    mode, path, ports, needle = argv[1], argv[2], {int(p) for p in argv[3].split(",")}, argv[4].encode()
    found = streams(path, ports)
    if not found:
        print(f"no TCP data to or from port(s) {argv[3]} in {path}")
        return 1
    bad, plain = 0, 0
    for (src, sport, dst, dport), b in sorted(found.items()):
        n, why = tls_records(b)
        clear = needle in b
        if failover_header(b) and clear:
            plain += 1
            what = f"failover message in the clear (type {b[2]}, {needle.decode()!r} readable)"
        elif why is None and b[:2] == b"\x16\x03":
            what = f"TLS: {n} records from the first byte ({b[:3].hex()} ...)"
        else:
            what = f"neither TLS nor a failover stream: {why or b[:8].hex()}"
        if mode == "tls" and (why is not None or b[:2] != b"\x16\x03" or clear):
            bad += 1
            what += f"; {needle.decode()!r} readable" if clear and "readable" not in what else ""
        print(f"{src}:{sport} -> {dst}:{dport}: {len(b)} bytes, {what}")
    if mode == "tls":
        return 1 if bad else 0
    return 0 if plain else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
