#!/usr/bin/env python3
"""Checks for the integration tests: read dhcpd.leases files and pcap captures.

Standard library only. Subcommands:
  lease LEASES ADDR          the last record of ADDR: "state=S hw=MAC starts=T ends=T"
                             (epoch seconds; ends=never for an infinite lease); status 1 if none
  leases LEASES              every address's last record, one a line
  acks PCAP                  every DHCPACK in a capture: "time yiaddr chaddr lease-time"
  crash PCAP LEASES          every address sent in a captured DHCPACK must be in LEASES,
                             bound to the same hardware address, active, and ending no
                             earlier than the ACK promised (capture time + lease time,
                             less --slack seconds); status 1 with the offenders listed
  without LEASES ADDR        LEASES minus every record of ADDR, on stdout (to prove
                             that `crash` notices a missing lease)

The lease-file reader follows dhcpd.leases(5) as ISC 4.4 writes it: the last
record of an address wins; times are "W YYYY/MM/DD HH:MM:SS" in UTC, "epoch N"
or "never". It must not need the server's configuration, and it only reads.
"""

import calendar
import socket
import struct
import sys

NEVER = float("inf")

# ---- dhcpd.leases -----------------------------------------------------------


def tokens(text):
    """Yield (token, start, end) for words, quoted strings and ; { }."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif c in ";{}":
            yield c, i, i + 1
            i += 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            yield text[i:j + 1], i, j + 1
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in ';{}"#':
                j += 1
            yield text[i:j], i, j
            i = j


def parse_time(words):
    """The value of a starts/ends/cltt statement, as epoch seconds."""
    if not words:
        return None
    if words[0] == "never":
        return NEVER
    if words[0] == "epoch" and len(words) > 1:
        return int(words[1])
    if len(words) >= 3:
        y, mo, d = (int(x) for x in words[1].split("/"))
        h, mi, s = (int(x) for x in words[2].split(":"))
        if y >= 2038:  # ISC reads these as never
            return NEVER
        return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))
    return None


def parse_leases(text):
    """Map address -> (record dict, start offset, end offset) for each lease
    block, in file order (a list, so that `without` can cut records out)."""
    toks = list(tokens(text))
    records = []
    i = 0
    while i < len(toks):
        tok, start, _ = toks[i]
        if tok == "lease" and i + 2 < len(toks) and toks[i + 2][0] == "{":
            addr = toks[i + 1][0]
            rec = {"state": None, "next": None, "hw": None, "starts": None,
                   "ends": None, "uid": None, "hostname": None}
            i += 3
            depth, stmt = 1, []
            while i < len(toks) and depth > 0:
                t = toks[i][0]
                if t == "{":
                    depth += 1
                    stmt = []
                elif t == "}":
                    depth -= 1
                    stmt = []
                elif t == ";":
                    if depth == 1 and stmt:
                        apply_statement(rec, stmt)
                    stmt = []
                else:
                    stmt.append(t)
                i += 1
            end = toks[i - 1][2] if i - 1 < len(toks) else len(text)
            records.append((addr, rec, start, end))
            continue
        i += 1
    return records


def apply_statement(rec, stmt):
    key = stmt[0]
    if key in ("starts", "ends", "cltt", "tstp", "tsfp"):
        rec[key] = parse_time(stmt[1:])
    elif stmt[:2] == ["binding", "state"] and len(stmt) > 2:
        rec["state"] = stmt[2]
    elif stmt[:3] == ["next", "binding", "state"] and len(stmt) > 3:
        rec["next"] = stmt[3]
    elif key == "hardware" and len(stmt) > 2:
        rec["hw"] = stmt[2].lower()
    elif key == "uid" and len(stmt) > 1:
        rec["uid"] = " ".join(stmt[1:])
    elif key == "client-hostname" and len(stmt) > 1:
        rec["hostname"] = stmt[1]
    elif key == "abandoned":
        rec["state"] = "abandoned"


def last_records(path):
    with open(path, encoding="latin-1") as f:
        records = parse_leases(f.read())
    last = {}
    for addr, rec, _, _ in records:
        last[addr] = rec
    return last


def fmt_time(t):
    if t is None:
        return "-"
    return "never" if t == NEVER else str(int(t))


def fmt_record(rec):
    return "state=%s hw=%s starts=%s ends=%s" % (
        rec["state"] or "-", rec["hw"] or "-", fmt_time(rec["starts"]), fmt_time(rec["ends"]))


# ---- pcap -------------------------------------------------------------------


def pcap_packets(path):
    """Yield (time, ip payload offset data) for each IPv4 packet of a pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError("%s: not a pcap file (pcapng is not read; use tcpdump -w)" % path)
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        pkt = data[off:off + incl]
        off += incl
        t = sec + frac / (1e9 if nano else 1e6)
        ip = link_payload(pkt, linktype)
        if ip is not None:
            yield t, ip


def link_payload(pkt, linktype):
    """The IPv4 packet inside a link-layer frame, or None."""
    if linktype == 1:  # Ethernet, with any 802.1Q tags
        off = 12
        while off + 2 <= len(pkt):
            et = struct.unpack("!H", pkt[off:off + 2])[0]
            if et in (0x8100, 0x88A8):
                off += 4
                continue
            return pkt[off + 2:] if et == 0x0800 else None
        return None
    if linktype == 113:  # Linux cooked v1
        return pkt[16:] if len(pkt) > 16 and pkt[14:16] == b"\x08\x00" else None
    if linktype == 276:  # Linux cooked v2
        return pkt[20:] if len(pkt) > 20 and pkt[0:2] == b"\x08\x00" else None
    if linktype in (12, 101, 228):  # raw IPv4
        return pkt
    return None


def dhcp_messages(path):
    """Yield (time, src ip, dst ip, bootp dict) for each DHCP packet."""
    for t, ip in pcap_packets(path):
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        udp = ip[ihl:]
        if len(udp) < 8:
            continue
        sport, dport = struct.unpack("!HH", udp[:4])
        if not ({sport, dport} & {67, 68}):
            continue
        msg = parse_bootp(udp[8:])
        if msg is not None:
            yield t, socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20]), msg


def parse_bootp(b):
    if len(b) < 240 or b[236:240] != b"\x63\x82\x53\x63":
        return None
    hlen = min(b[2], 16)
    msg = {
        "op": b[0],
        "xid": struct.unpack("!I", b[4:8])[0],
        "ciaddr": socket.inet_ntoa(b[12:16]),
        "yiaddr": socket.inet_ntoa(b[16:20]),
        "giaddr": socket.inet_ntoa(b[24:28]),
        "chaddr": ":".join("%02x" % x for x in b[28:28 + hlen]),
        "options": {},
    }
    opts = msg["options"]
    parse_options(b[240:], opts)
    # RFC 2131 §4.1 option overload: file (1), sname (2), both (3).
    overload = opts.get(52, b"\x00")[0] if opts.get(52) else 0
    if overload & 1:
        parse_options(b[108:236], opts)
    if overload & 2:
        parse_options(b[44:108], opts)
    mt = opts.get(53)
    msg["type"] = mt[0] if mt else None
    lt = opts.get(51)
    msg["lease_time"] = struct.unpack("!I", lt[:4])[0] if lt and len(lt) >= 4 else None
    return msg


def parse_options(b, opts):
    i = 0
    while i < len(b):
        code = b[i]
        if code == 0:
            i += 1
            continue
        if code == 255 or i + 1 >= len(b):
            break
        n = b[i + 1]
        # RFC 3396: repeated options are concatenated.
        opts[code] = opts.get(code, b"") + b[i + 2:i + 2 + n]
        i += 2 + n


DHCPACK = 5


def acks(path):
    return [(t, m) for t, _, _, m in dhcp_messages(path) if m["op"] == 2 and m["type"] == DHCPACK]


# ---- commands ---------------------------------------------------------------


def cmd_lease(args):
    last = last_records(args[0])
    rec = last.get(args[1])
    if rec is None:
        print("no lease for %s in %s" % (args[1], args[0]))
        return 1
    print(fmt_record(rec))
    return 0


def cmd_leases(args):
    for addr, rec in sorted(last_records(args[0]).items(), key=lambda x: socket.inet_aton(x[0])):
        print(addr, fmt_record(rec))
    return 0


def cmd_acks(args):
    for t, m in acks(args[0]):
        print("%.6f %s %s %s" % (t, m["yiaddr"], m["chaddr"], m["lease_time"]))
    return 0


def cmd_crash(args):
    slack = 2.0
    if "--slack" in args:
        k = args.index("--slack")
        slack = float(args[k + 1])
        del args[k:k + 2]
    pcap, leases = args[0], args[1]
    captured = acks(pcap)
    if not captured:
        print("no DHCPACK in %s" % pcap)
        return 1
    # The latest ACK of each address is the binding the server promised last.
    promised = {}
    for t, m in captured:
        if m["yiaddr"] == "0.0.0.0":
            continue  # a DHCPINFORM answer binds nothing
        promised[m["yiaddr"]] = (t, m)
    last = last_records(leases)
    bad = []
    for addr, (t, m) in sorted(promised.items(), key=lambda x: socket.inet_aton(x[0])):
        rec = last.get(addr)
        want_end = t + (m["lease_time"] or 0) - slack
        if rec is None:
            bad.append("%s: acked to %s at %.3f, not in the lease file" % (addr, m["chaddr"], t))
        elif rec["hw"] != m["chaddr"]:
            bad.append("%s: acked to %s, the lease file has hardware %s" % (addr, m["chaddr"], rec["hw"]))
        elif rec["state"] != "active":
            bad.append("%s: acked to %s, the lease file says binding state %s" % (addr, m["chaddr"], rec["state"]))
        elif m["lease_time"] is not None and (rec["ends"] is None or rec["ends"] < want_end):
            bad.append("%s: acked to %s at %.3f for %d s, the lease file ends at %s" % (
                addr, m["chaddr"], t, m["lease_time"], fmt_time(rec["ends"])))
    print("%d DHCPACKs captured for %d addresses; %d of them bound as acked in %s" % (
        len(captured), len(promised), len(promised) - len(bad), leases))
    for line in bad[:25]:
        print("  " + line)
    if len(bad) > 25:
        print("  ... and %d more" % (len(bad) - 25))
    return 1 if bad else 0


def cmd_without(args):
    with open(args[0], encoding="latin-1") as f:
        text = f.read()
    out, pos = [], 0
    for addr, _, start, end in parse_leases(text):
        if addr == args[1]:
            out.append(text[pos:start])
            pos = end
    out.append(text[pos:])
    sys.stdout.write("".join(out))
    return 0


COMMANDS = {"lease": (cmd_lease, 2), "leases": (cmd_leases, 1), "acks": (cmd_acks, 1),
            "crash": (cmd_crash, 2), "without": (cmd_without, 2)}


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS or len(argv) - 2 < COMMANDS[argv[1]][1]:
        sys.stderr.write(__doc__)
        return 2
    return COMMANDS[argv[1]][0](argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
