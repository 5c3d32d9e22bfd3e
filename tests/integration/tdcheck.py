#!/usr/bin/env python3
"""Checks for the integration tests: read dhcpd.leases files, pcap captures
and strace output.

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

Every field of a lease file (interop.sh, startup.sh; read_lease_file):
  records LEASES [ADDR...]   every field of each address's last lease, one a line
  expect LEASES ADDR:KEY=V[|V...],...  or  ADDR:absent ...
                             the last lease of each ADDR has these fields (state,
                             next, rewind, hw "ethernet MAC", uid hex:01:02..,
                             hostname); status 1 with what differs
  interop BEFORE AFTER --read-from T0 --read-to T1
                             AFTER is the file a server rewrote at start-up from
                             BEFORE, read between T0 and T1: every lease keeps
                             every field, but for what a rewrite may change (an
                             active lease past its end moves to its next state; a
                             missing tstp may come back as ends; never-used free
                             leases may go); status 1 with both blocks of each
                             change
  objects BEFORE AFTER       the same for host blocks (a rubout: its `deleted;`)
                             and failover state blocks
  genleases FIRST COUNT NOW  COUNT active leases from FIRST on, on stdout
Strace (durability.sh): `strace -f -ttt -xx -s N -yy`, with write, fdatasync,
fsync and the send calls traced:
  durable TRACE LEASES [--min-acks N]
                             every DHCPACK sent came after a write of its lease
                             block (active, that client, ending no earlier than
                             the ACK promises) to LEASES and a sync of LEASES
                             after that write; prints the ACKs per sync
  nosync TRACE LEASES        TRACE less the one sync between some ACK's lease
                             write and its send (the control), on stdout

Failover (failover_*.sh):
  lbhash [--split N|--hba HEX] KEYHEX...
                             RFC 3074 hash of each key (hex bytes, ':' or ' ' allowed)
                             and the server that serves its bucket: "KEY HASH primary"
  (PCAP below may be several captures joined by commas)
  lbcheck PCAP --primary IP --secondary IP [--split N|--hba HEX] [--max-secs S]
                             every captured DISCOVER (secs <= S, default 3) was offered
                             only by the server its hash bucket names, and every ACK
                             for that client came from it
  states LEASES [FIRST-LAST[,FIRST-LAST...]...] [--missing STATE]
                             the last record's binding state counted per address range
                             (or union of ranges, joined by commas):
                             "FIRST-LAST total=N free=N backup=N active=N ..."; with
                             --missing, the range's addresses without a record count
                             as STATE (free: never written, never used)
  agree PCAP LEASES... [--after T] [--before T] [--alive-at T] [--ends] [--per-client]
                             every captured DHCPACK (the last of each address, sent in
                             [after, before), and with --alive-at only those whose lease
                             runs past T) is bound, active, to the same hardware address
                             in each LEASES file (with --ends: ending no earlier than the
                             ACK said, less 2 s; with --per-client: only each client's
                             last acked address)
  partition PCAP LEASES-A LEASES-B --mclt M --lease-time T --cut T0 --heal T1
            [--slack S] [--pd-server IP --pd-since T] [--self-test]
                             the partition checks: no address ACKed to two clients at
                             overlapping times; every ACK sent in [cut, heal] grants no
                             more than the MCLT rule allows without the peer's
                             acknowledgement; no address is active for two different
                             clients in the two lease files (the server IP in partner-down
                             since T may grant up to T + 2 MCLT - now); --self-test plants one
                             fault of each kind in a copy and fails unless each is reported

The lease-file reader follows dhcpd.leases(5) as ISC 4.4 writes it: the last
record of an address wins; times are "W YYYY/MM/DD HH:MM:SS" in UTC, "epoch N"
or "never". It must not need the server's configuration, and it only reads.
"""

import calendar
import os
import re
import socket
import struct
import sys
import time

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
    """Yield (time, src ip, dst ip, bootp dict) for each DHCP packet. PATH may
    name several captures separated by commas: their packets in time order."""
    if "," in path:
        merged = []
        for p in path.split(","):
            merged.extend(dhcp_messages(p))
        merged.sort(key=lambda x: x[0])
        yield from merged
        return
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
        "secs": struct.unpack("!H", b[8:10])[0],
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


# ---- every field of a lease file (interop.sh, startup.sh) --------------------
#
# A second reader, for comparing the file one server wrote with the file the
# other rewrote from it: it keeps every field of every lease, host and failover
# state block, with the block's text and line. It reads the files as ISC dhcpd
# and tandemd print them (dhcpd.leases(5), db.c write_lease): one statement a
# line, every top-level block closed by a "}" in the first column, nested ones
# (on expiry { ... }) indented. That keeps it fast enough for a 200,000-lease
# file; parse_leases above stays the tolerant one.

TIME_FIELDS = ("starts", "ends", "tstp", "tsfp", "atsfp", "cltt")
BINDING_FIELDS = TIME_FIELDS + ("state", "next", "rewind", "reserved", "bootp", "hw", "uid",
                                "hostname", "billing", "sets", "options", "events", "unknown")


def unquote(tok):
    """The bytes of a quoted dhcpd.leases string (ISC's lexer: \\ooo octal,
    \\xHH, \\t \\r \\n \\b, any other escaped character as itself)."""
    if len(tok) < 2 or tok[0] != '"' or tok[-1] != '"':
        return tok.encode("latin-1")
    body, out, i = tok[1:-1], bytearray(), 0
    if "\\" not in body:
        return body.encode("latin-1")
    while i < len(body):
        c = body[i]
        if c != "\\" or i + 1 >= len(body):
            out.append(ord(c) & 0xFF)
            i += 1
            continue
        d = body[i + 1]
        if d in "01234567":
            j = i + 1
            while j < len(body) and j < i + 4 and body[j] in "01234567":
                j += 1
            out.append(int(body[i + 1:j], 8) & 0xFF)
            i = j
        elif d == "x" and i + 2 < len(body) and body[i + 2] in "0123456789abcdefABCDEF":
            j = i + 2
            while j < len(body) and j < i + 4 and body[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(body[i + 2:j], 16))
            i = j
        else:
            out.append({"t": 9, "r": 13, "n": 10, "b": 8}.get(d, ord(d) & 0xFF))
            i += 2
    return bytes(out)


def id_bytes(words):
    """A uid (or host uid) value: a quoted string, or colon-separated hex."""
    if not words:
        return None
    if words[0].startswith('"'):
        return unquote(words[0])
    return bytes(int(x, 16) for x in "".join(words).split(":") if x)


# The tokens of tokens() above, as one regular expression: quoted strings
# (with their escapes), ; { }, comments, words.
STMT_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|[;{}]|#.*|[^\s;{}"#]+')


def stmt_words(line):
    """The words of a one-statement line `... ;` (quoted strings whole, with
    their quotes; a trailing comment dropped), or None if it is not one."""
    s = line.strip()
    if '"' not in s and "#" not in s:
        return s[:-1].split() if s.endswith(";") else None
    words = []
    for tok in STMT_TOKEN.findall(s):
        if tok == ";":
            return words
        if tok in "{}":
            return None
        if tok[0] != "#":
            words.append(tok)
    return None


DATE_CACHE = {}


def new_binding():
    rec = {k: None for k in BINDING_FIELDS}
    rec.update(reserved=False, bootp=False, sets={}, options={}, events=[], unknown=[])
    return rec


def parse_lease_body(lines):
    rec = new_binding()
    i = 0
    while i < len(lines):
        s = lines[i].strip()
        i += 1
        if not s or s[0] == "#":
            continue
        if s.endswith("{"):  # on commit|expiry|release { ... }, kept as text
            depth, ev = 1, [s]
            while i < len(lines) and depth:
                t = lines[i].strip()
                depth += t.endswith("{") - (t == "}")
                ev.append(t)
                i += 1
            rec["events"].append(" ".join(ev))
            continue
        w = stmt_words(s)
        if not w:
            rec["unknown"].append(s)
            continue
        key = w[0]
        if key in TIME_FIELDS:
            # Many leases share a date: parse each one once.
            d = " ".join(w[1:])
            t = DATE_CACHE.get(d, DATE_CACHE)
            if t is DATE_CACHE:
                t = DATE_CACHE[d] = parse_time(w[1:])
            rec[key] = t
        elif w[:2] == ["binding", "state"] and len(w) > 2:
            rec["state"] = w[2]
        elif w[:3] == ["next", "binding", "state"] and len(w) > 3:
            rec["next"] = w[3]
        elif w[:3] == ["rewind", "binding", "state"] and len(w) > 3:
            rec["rewind"] = w[3]
        elif key == "reserved" and len(w) == 1:
            rec["reserved"] = True
        elif key == "dynamic-bootp" and len(w) == 1:
            rec["bootp"] = True
        elif key == "hardware" and len(w) > 2:
            rec["hw"] = "%s %s" % (w[1], w[2].lower())
        elif key == "uid":
            rec["uid"] = id_bytes(w[1:])
        elif key == "client-hostname" and len(w) > 1:
            rec["hostname"] = unquote(w[1])
        elif key == "billing":
            rec["billing"] = " ".join(w[1:])
        elif key == "set" and len(w) > 3 and w[2] == "=":
            rec["sets"][w[1]] = " ".join(w[3:])
        elif key == "option" and len(w) > 2:
            rec["options"][w[1]] = " ".join(w[2:])
        else:
            rec["unknown"].append(" ".join(w))
    return rec


def parse_host_body(lines):
    rec = {"dynamic": False, "deleted": False, "hw": None, "uid": None, "fixed": None,
           "group": None, "statements": []}
    for line in lines:
        s = line.strip()
        if not s or s[0] == "#":
            continue
        w = stmt_words(s)
        if not w:
            rec["statements"].append(s)
        elif w == ["dynamic"]:
            rec["dynamic"] = True
        elif w == ["deleted"]:
            rec["deleted"] = True
        elif w[0] == "hardware" and len(w) > 2:
            rec["hw"] = "%s %s" % (w[1], w[2].lower())
        elif w[0] == "uid":
            rec["uid"] = id_bytes(w[1:])
        elif w[0] == "fixed-address":
            rec["fixed"] = "".join(w[1:]).replace(" ", "")
        elif w[0] == "group" and len(w) > 1:
            rec["group"] = unquote(w[1])
        else:
            rec["statements"].append(" ".join(w))
    return rec


def parse_state_body(lines):
    rec = {"my": None, "my_at": None, "partner": None, "partner_at": None, "mclt": None, "unknown": []}
    for line in lines:
        w = stmt_words(line)
        if w is None:
            if line.strip():
                rec["unknown"].append(line.strip())
            continue
        if len(w) >= 3 and w[0] in ("my", "partner") and w[1] == "state":
            who = w[0]
            rec[who] = w[2]
            rec[who + "_at"] = parse_time(w[4:]) if len(w) > 4 and w[3] == "at" else None
        elif w[:1] == ["mclt"] and len(w) == 2:
            rec["mclt"] = int(w[1])
        elif w:
            rec["unknown"].append(" ".join(w))
    return rec


# A top-level block: its opening line ends in "{", its closing line is a "}"
# in the first column (nested on-event blocks are indented).
LEASE_FILE_BLOCK = re.compile(r"^([^\s#{}][^\n{]*)\{[ \t]*\n(.*?)^\}[ \t]*$", re.M | re.S)


def read_lease_file(path, lazy=False):
    """Every block of a lease file, in file order: {"lease": [(addr, rec, text,
    line)], "host": [(name, rec, text, line)], "failover": [(peer, rec, text,
    line)], "other": [(text, line)]} (other: class, subclass and group blocks
    and top-level statements). With lazy, a lease's rec is None: lease_rec(text)
    parses it when needed."""
    with open(path, encoding="latin-1") as f:
        text = f.read()
    out = {"lease": [], "host": [], "failover": [], "other": []}

    def statements(gap, line):
        for k, s in enumerate(gap.split("\n")):
            s = s.strip()
            if s and s[0] != "#":
                out["other"].append((s, line + k))

    def block(head_line, body, blk, line):
        head = head_line.split()
        if head[0] == "lease" and len(head) == 2:
            out["lease"].append((head[1], None if lazy else parse_lease_body(body.split("\n")), blk, line))
        elif head[0] == "host" and len(head) == 2:
            out["host"].append((head[1], parse_host_body(body.split("\n")), blk, line))
        elif head[:2] == ["failover", "peer"] and head[-1] == "state" and len(head) == 4:
            out["failover"].append((unquote(head[2]).decode("latin-1"), parse_state_body(body.split("\n")),
                                    blk, line))
        else:
            out["other"].append((blk, line))

    pos, line = 0, 1
    for m in LEASE_FILE_BLOCK.finditer(text):
        gap = text[pos:m.start()]
        statements(gap, line)
        line += gap.count("\n")
        block(m.group(1), m.group(2), m.group(0), line)
        line += m.group(0).count("\n")
        pos = m.end()
    tail = text[pos:]
    # A torn last block (no closing line) keeps what was read, as ISC does.
    k = next((i for i, s in enumerate(tail.split("\n")) if s.rstrip().endswith("{") and s[:1].strip()), None)
    if k is None:
        statements(tail, line)
    else:
        rows = tail.split("\n")
        statements("\n".join(rows[:k]), line)
        block(rows[k].rstrip()[:-1], "\n".join(rows[k + 1:]), "\n".join(rows[k:]), line + k)
    return out


def lease_rec(text):
    """The record of one lease block's text."""
    return parse_lease_body(text.split("\n")[1:-1])


def last_of(blocks):
    """name -> (rec, text, line) of the last block of each name (the last one wins)."""
    return {name: (rec, text, line) for name, rec, text, line in blocks}


def first_of(blocks):
    """name -> (rec, text, line) of the first block of each name: in a file a
    server has just rewritten, the rewrite's own, which writes every object
    once; what follows it was appended afterwards."""
    out = {}
    for name, rec, text, line in blocks:
        out.setdefault(name, (rec, text, line))
    return out


def fmt_value(v):
    if isinstance(v, bytes):
        return '"%s"' % "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else "\\%03o" % b for b in v)
    if isinstance(v, float) or isinstance(v, int) and not isinstance(v, bool):
        return fmt_time(v)
    return repr(v)


def flag_value(args, name, default=None):
    """Take `name VALUE` out of args; VALUE (or default)."""
    if name in args:
        k = args.index(name)
        v = args[k + 1]
        del args[k:k + 2]
        return v
    return default


def interesting(rec):
    """Written at a rewrite (reference §1): a hardware address, a uid, a tsfp,
    or a state other than free. ISC drops the others (mdb.c write_leases)."""
    return bool(rec["hw"] or rec["uid"] or rec["tsfp"] or rec["state"] != "free")


def field_diffs(want, got, skip=()):
    """What changed from want to got, but for the fields in skip and for the
    reader's default of a missing tstp, which is `ends` (confpars.c; reference
    §2): a rewrite may add that line."""
    return ["%s: %s -> %s" % (k, fmt_value(want[k]), fmt_value(got[k]))
            for k in BINDING_FIELDS if k not in skip and want[k] != got[k]
            and not (k == "tstp" and want[k] is None and got[k] == want["ends"])]


def cmd_interop(args):
    """interop BEFORE AFTER --read-from T0 --read-to T1: AFTER is the file a
    server rewrote at start-up from BEFORE, reading it between T0 and T1."""
    t0 = float(flag_value(args, "--read-from"))
    t1 = float(flag_value(args, "--read-to"))
    before, after = read_lease_file(args[0], lazy=True), read_lease_file(args[1], lazy=True)
    b_last, a_last = last_of(before["lease"]), first_of(after["lease"])
    ends_re = re.compile(r"\n  ends ([^;\n]*);")
    ends_cache = {}

    def rec(blk):
        return lease_rec(blk[1])

    def may_expire(text):
        # Only an active lease whose end has come can change at the read.
        if "binding state active;" not in text:
            return False
        m = ends_re.search(text)
        if not m:
            return False
        e = ends_cache.get(m.group(1))
        if e is None:
            e = ends_cache[m.group(1)] = parse_time(m.group(1).split())
        return e is not None and e != NEVER and e <= t1

    kept, expired, dropped, bad = [], [], [], []
    for addr in sorted(set(b_last) | set(a_last), key=socket.inet_aton):
        b = b_last.get(addr)
        a = a_last.get(addr)
        if b is not None and a is not None and b[1] == a[1] and not may_expire(b[1]):
            kept.append(addr)  # the same text: every field the same
            continue
        if b is None:
            if interesting(rec(a)):
                bad.append(("%s: in the rewrite, not in the file read" % addr, None, a))
            continue
        if a is None:
            if interesting(rec(b)):
                bad.append(("%s: lost" % addr, b, None))
            else:
                dropped.append(addr)
            continue
        want, got = rec(b), rec(a)
        ends = want["ends"]
        if (want["state"] == "active" and ends is not None and ends != NEVER and ends <= t1
                and (ends <= t0 or got["state"] != "active")):
            # The reader's expiry (reference §2, after the whole file is read):
            # the lease moves to its next binding state.
            nxt = want["next"] or "free"
            diffs = field_diffs(want, got, skip=("state", "next", "rewind"))
            if got["state"] != nxt:
                diffs.insert(0, "state: active past its end (%s) -> %s, want %s" % (
                    fmt_time(ends), got["state"], nxt))
            if diffs:
                bad.append(("%s: expired at the read: %s" % (addr, "; ".join(diffs)), b, a))
            else:
                expired.append(addr)
            continue
        diffs = field_diffs(want, got)
        if diffs:
            bad.append(("%s: %s" % (addr, "; ".join(diffs)), b, a))
        else:
            kept.append(addr)
    print("%d addresses: %d with every field kept, %d expired at the read (%s), %d never-used "
          "free ones dropped; %d changed" % (
              len(kept) + len(expired) + len(dropped) + len(bad), len(kept), len(expired),
              " ".join(expired) or "none", len(dropped), len(bad)))
    for why, b, a in bad[:20]:
        print("  " + why)
        for tag, blk in (("read   ", b), ("written", a)):
            if blk is not None:
                print("    %s (line %d):" % (tag, blk[2]))
                for line in blk[1].split("\n"):
                    print("      " + line)
    if len(bad) > 20:
        print("  ... and %d more" % (len(bad) - 20))
    return 1 if bad or not kept else 0


def cmd_objects(args):
    """objects BEFORE AFTER: every host block (OMAPI's dynamic hosts and
    rubouts) and every failover state block of BEFORE (the last of each name)
    is in AFTER's rewrite (the first of each name) with every field the same."""
    before, after = read_lease_file(args[0]), read_lease_file(args[1])
    bad, good = [], []
    for kind in ("host", "failover"):
        b_last, a_first = last_of(before[kind]), first_of(after[kind])
        for name in sorted(b_last):
            b = b_last[name]
            a = a_first.get(name)
            label = "%s %s" % (kind, name)
            if a is None:
                bad.append(("%s: lost" % label, b, None))
                continue
            # A rubout is only its `deleted;`: ISC 4.4.3 reads `{ dynamic;
            # deleted; }` for a host of dhcpd.conf and rewrites `{ deleted; }`
            # (measured: interop.sh with SERVER=/usr/sbin/dhcpd).
            keys = ["deleted"] if kind == "host" and b[0]["deleted"] else list(b[0])
            diffs = ["%s: %s -> %s" % (k, fmt_value(b[0][k]), fmt_value(a[0][k]))
                     for k in keys if b[0][k] != a[0][k]]
            if diffs:
                bad.append(("%s: %s" % (label, "; ".join(diffs)), b, a))
            else:
                good.append(label)
    print("%d host and failover state blocks: %d kept every field (%s); %d changed or lost" % (
        len(good) + len(bad), len(good), ", ".join(good) or "none", len(bad)))
    for why, b, a in bad:
        print("  " + why)
        for tag, blk in (("read   ", b), ("written", a)):
            if blk is not None:
                print("    %s (line %d):" % (tag, blk[2]))
                for line in blk[1].split("\n"):
                    print("      " + line)
    return 1 if bad or not good else 0


def parse_spec_value(key, v):
    if key == "uid" and v.startswith("hex:"):
        return bytes(int(x, 16) for x in v[4:].split(":"))
    if key in ("uid", "hostname"):
        return v.encode("latin-1")
    return v


def cmd_expect(args):
    """expect LEASES ADDR:KEY=VALUE[|VALUE...],...|ADDR:absent ...: the last
    record of each ADDR has these fields (state hw uid hostname next rewind;
    uid=hex:01:02 for bytes); "absent": no lease block for ADDR."""
    last = last_of(read_lease_file(args[0])["lease"])
    bad, good = [], 0
    for spec in args[1:]:
        addr, _, fields = spec.partition(":")
        if not addr:
            bad.append("%s: no address (the client got none)" % spec)
            continue
        blk = last.get(addr)
        if fields == "absent":
            if blk is None:
                good += 1
            else:
                bad.append("%s: a lease block at line %d, want none" % (addr, blk[2]))
            continue
        if blk is None:
            bad.append("%s: no lease block" % addr)
            continue
        errs = []
        for f in fields.split(","):
            key, _, v = f.partition("=")
            alts = [parse_spec_value(key, x) for x in v.split("|")]
            if blk[0].get(key) not in alts:
                errs.append("%s is %s, want %s" % (key, fmt_value(blk[0].get(key)), v))
        if errs:
            bad.append("%s (line %d): %s" % (addr, blk[2], "; ".join(errs)))
        else:
            good += 1
    for line in bad:
        print("  " + line)
    print("%d of %d addresses as expected" % (good, len(args) - 1))
    return 1 if bad else 0


def octal_quote(b):
    """A uid as ISC's writer quotes it (quotify_buf): printable ASCII as is
    but for '"' and '\\', every other byte as a backslash and three octal digits."""
    return '"%s"' % "".join(chr(x) if 32 <= x < 127 and x not in (34, 92) else "\\%03o" % x for x in b)


def cmd_genleases(args):
    """genleases FIRST COUNT NOW: COUNT active leases from address FIRST on, as
    ISC rewrites them (with the tstp its reader sets to ends), each with its own
    hardware address, uid and host name, started a minute before NOW and ending
    a day after it; on stdout."""
    first = struct.unpack("!I", socket.inet_aton(args[0]))[0]
    count, now = int(args[1]), int(args[2])
    fmt = lambda t: time.strftime("%w %Y/%m/%d %H:%M:%S", time.gmtime(t))
    starts, ends = fmt(now - 60), fmt(now + 86400)
    out = sys.stdout
    out.write("# The format of this file is documented in the dhcpd.leases(5) manual page.\n"
              "# Generated by tests/integration/tdcheck.py genleases\n\n"
              "# authoring-byte-order entry is generated, DO NOT DELETE\n"
              "authoring-byte-order little-endian;\n\n")
    for i in range(count):
        mac = b"\x02\x00" + struct.pack("!I", i)
        out.write("lease %s {\n  starts %s;\n  ends %s;\n  tstp %s;\n  cltt %s;\n  binding state active;\n"
                  "  next binding state free;\n  rewind binding state free;\n"
                  "  hardware ethernet %s;\n  uid %s;\n  client-hostname \"gen-%d\";\n}\n" % (
                      socket.inet_ntoa(struct.pack("!I", first + i)), starts, ends, ends, starts,
                      ":".join("%02x" % x for x in mac), octal_quote(b"\x01" + mac), i))
    return 0


def cmd_records(args):
    """records LEASES [ADDR...]: every field of each address's last lease."""
    last = last_of(read_lease_file(args[0])["lease"])
    for addr in args[1:] or sorted(last, key=socket.inet_aton):
        if addr in last:
            rec = last[addr][0]
            print(addr, " ".join("%s=%s" % (k, fmt_value(rec[k])) for k in BINDING_FIELDS
                                 if rec[k] not in (None, False, [], {})))
        else:
            print(addr, "none")
    return 0


# ---- strace: the lease is durable before its DHCPACK (durability.sh) --------
#
# Reads `strace -f -ttt -xx -s N -yy` output: every descriptor is followed by
# its file's path or socket in <...>, every string is \xNN escaped.

STRACE_LINE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(.*)$")
STRACE_CALL = re.compile(r"^([a-z_0-9]+)\((.*)\)\s+=\s+(-?\d+|\?)(?:\s.*)?$")
STRACE_FD = re.compile(r"^(\d+)<((?:[^<>]|<[^<>]*>)*)>")
STRACE_STR = re.compile(r'"((?:\\x[0-9a-f]{2}|\\.|[^"\\])*)"(\.\.\.)?')
STRACE_MSG = re.compile(r"\{msg_hdr=")


def strace_bytes(s):
    """The bytes of one strace string literal (its body, escaped)."""
    out, i = bytearray(), 0
    simple = {"n": 10, "t": 9, "r": 13, "v": 11, "f": 12, "\\": 92, '"': 34}
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            d = s[i + 1]
            if d == "x":
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
                continue
            if d in "01234567":
                j = i + 1
                while j < len(s) and j < i + 4 and s[j] in "01234567":
                    j += 1
                out.append(int(s[i + 1:j], 8))
                i = j
                continue
            out.append(simple.get(d, ord(d)))
            i += 2
            continue
        out.append(ord(c) & 0xFF)
        i += 1
    return bytes(out)


def strace_calls(path):
    """Yield (line, time, name, args, ret) for each completed system call, in
    the order they completed; an <unfinished ...> call is joined with its
    resumption and gets the line it started on (its `line`) and ended on (the
    position used for ordering is the end; see cmd_durable)."""
    pending = {}
    with open(path, encoding="latin-1") as f:
        for no, raw in enumerate(f, 1):
            m = STRACE_LINE.match(raw.rstrip("\n"))
            if not m:
                continue
            pid, t, rest = m.group(1), float(m.group(2)), m.group(3)
            if rest.endswith("<unfinished ...>"):
                pending[pid] = (no, t, rest[:-len("<unfinished ...>")].rstrip())
                continue
            start = no
            if rest.startswith("<... "):
                k = rest.find(" resumed>")
                if k < 0 or pid not in pending:
                    continue
                start, t, head = pending.pop(pid)
                rest = head + rest[k + len(" resumed>"):]
            c = STRACE_CALL.match(rest)
            if c:
                yield start, no, t, c.group(1), c.group(2), c.group(3)


def strace_fd(args):
    """(fd, path or socket) of a call's first argument."""
    m = STRACE_FD.match(args)
    if not m:
        return None, None
    return int(m.group(1)), strace_bytes(m.group(2)).decode("latin-1")


def payload_bootp(buf):
    """The BOOTP message in a sent buffer: a UDP payload, an IPv4 packet or an
    Ethernet frame (a packet socket). None if it is none of these."""
    if len(buf) >= 240 and buf[236:240] == b"\x63\x82\x53\x63" and buf[0] in (1, 2):
        return buf
    ip = None
    if len(buf) >= 14 + 20 and buf[12:14] == b"\x08\x00":
        ip = buf[14:]
    elif len(buf) >= 20 and buf[0] >> 4 == 4:
        ip = buf
    if ip is None or ip[9] != 17:
        return None
    udp = ip[(ip[0] & 15) * 4:]
    return udp[8:] if len(udp) > 8 else None


def sent_buffers(name, args, ret):
    """The buffers a successful send call put on the wire."""
    if name == "sendmmsg":
        # One {msg_hdr=...} per message; only the first `ret` were sent.
        starts = [m.start() for m in STRACE_MSG.finditer(args)]
        bufs = []
        for k, s in enumerate(starts[:max(0, int(ret))]):
            part = args[s:starts[k + 1] if k + 1 < len(starts) else len(args)]
            bufs.append(b"".join(strace_bytes(m.group(1)) for m in
                                 re.finditer(r'iov_base="((?:\\x[0-9a-f]{2}|\\.|[^"\\])*)"', part)))
        return bufs
    if name == "sendmsg":
        return [b"".join(strace_bytes(m.group(1)) for m in
                         re.finditer(r'iov_base="((?:\\x[0-9a-f]{2}|\\.|[^"\\])*)"', args))]
    m = STRACE_STR.search(args)
    return [strace_bytes(m.group(1))] if m else []


def trace_events(trace, leases):
    """The lease-file writes, syncs and DHCPACK sends of a trace, in order:
    ("block", line, path, addr, rec), ("sync", start line, end line, path),
    ("ack", line, time, yiaddr, chaddr, lease time, how), ("cut", line, path)."""
    lease_path = os.path.realpath(leases)
    is_lease_file = re.compile(re.escape(lease_path) + r"(\.\d+)?$").match
    streams = {}
    events = []
    for start, end, t, name, args, ret in strace_calls(trace):
        if ret == "?" or ret.startswith("-"):
            continue
        fd, what = strace_fd(args)
        if what is None:
            continue
        if name in ("fdatasync", "fsync"):
            if is_lease_file(what):
                events.append(("sync", start, end, what))
            continue
        if name in ("write", "writev", "pwrite64") and is_lease_file(what):
            strs = list(STRACE_STR.finditer(args))
            if name == "writev":
                data = b"".join(strace_bytes(m.group(1)) for m in strs)
            else:
                data = strace_bytes(strs[0].group(1)) if strs else b""
            if any(m.group(2) for m in strs) or len(data) != int(ret):
                # Cut short by -s, or a short write: what follows is unreadable.
                events.append(("cut", end, what))
                streams[what] = ""
                continue
            buf = streams.get(what, "") + data.decode("latin-1")
            # Complete lease blocks: from "lease A {" to a "}" line of its own.
            pos = 0
            for m in re.finditer(r"(?m)^lease ([0-9.]+) \{\n(.*?)^\}\n", buf, re.S):
                events.append(("block", end, what, m.group(1), parse_lease_body(m.group(2).split("\n"))))
                pos = m.end()
            rest = buf[pos:]
            k = rest.rfind("\nlease ")
            streams[what] = rest if rest.startswith("lease ") else (rest[k + 1:] if k >= 0 else "")
            continue
        if name in ("sendmmsg", "sendto", "sendmsg", "write") and not what.startswith("/"):
            for buf in sent_buffers(name, args, ret):
                b = payload_bootp(buf)
                msg = parse_bootp(b) if b is not None else None
                if msg and msg["op"] == 2 and msg["type"] == DHCPACK and msg["yiaddr"] != "0.0.0.0":
                    events.append(("ack", start, t, msg["yiaddr"], msg["chaddr"], msg["lease_time"],
                                   "%s on %s" % (name, what)))
    return events


def check_durable(events, slack=2.0):
    """(checked, violations): checked holds (ACK line, address, (block line,
    path, sync line)) for each ACK covered by the first sync of a lease-file
    path begun after a write of a block of its address to that path (active,
    for its client, ending no earlier than the ACK promised, less slack) had
    returned, when that sync returned before the send began. Threads may
    interleave: a write returns, a sync begins and returns, a send begins, in
    the order strace saw them, which is the order they happened in (a traced
    thread stops at each system call until strace has printed it). One send
    call may carry several ACKs."""
    blocks = {}      # addr -> [(line, path, rec)]
    syncs = {}       # path -> [(start line, end line), ...] in order
    checked, bad = [], []
    for ev in events:
        if ev[0] == "block":
            blocks.setdefault(ev[3], []).append((ev[1], ev[2], ev[4]))
        elif ev[0] == "sync":
            syncs.setdefault(ev[3], []).append((ev[1], ev[2]))
        elif ev[0] == "cut":
            bad.append("line %d: a write to %s cut short in the trace (raise strace -s)" % (ev[1], ev[2]))
        elif ev[0] == "ack":
            _, line, t, addr, hw, lt, how = ev
            want_end = t + (lt or 0) - slack
            cands = [(bl, p, r) for bl, p, r in blocks.get(addr, [])
                     if r["state"] == "active" and r["hw"] == "ethernet " + hw
                     and (lt is None or r["ends"] == NEVER or (r["ends"] or 0) >= want_end)]
            label = "line %d: DHCPACK of %s to %s at %.6f (%s s, %s)" % (line, addr, hw, t, lt, how)
            if not cands:
                others = blocks.get(addr, [])
                why = ("the last block of it before, at line %d, is %s" % (others[-1][0], fmt_record(others[-1][2]))
                       if others else "no lease block of it was written before")
                bad.append("%s: no block binding it as acked was written to the lease file before it; %s" % (label, why))
                continue
            found = None
            for bl, p, _ in cands:
                s = next((s for s in syncs.get(p, []) if s[0] > bl), None)
                if s is not None and s[1] < line:
                    found = (bl, p, s[1])
                    break
            if found is None:
                bl, p, _ = cands[-1]
                bad.append("%s: its lease block was written at line %d, and %s was not synced between "
                           "that write and the send" % (label, bl, p))
                continue
            checked.append((line, addr, found))
    return checked, bad


def cmd_durable(args):
    """durable TRACE LEASES [--min-acks N]: every DHCPACK sent in TRACE came
    after its lease block was written to LEASES and LEASES was synced."""
    min_acks = int(flag_value(args, "--min-acks", "1"))
    events = trace_events(args[0], args[1])
    acks = [e for e in events if e[0] == "ack"]
    nsync = sum(1 for e in events if e[0] == "sync")
    checked, bad = check_durable(events)
    print("%d DHCPACKs sent, %d checked: each sent after its lease block was written and synced; "
          "%d lease-file syncs in the trace; %d violations" % (len(acks), len(checked), nsync, len(bad)))
    if checked:
        per_sync = {}
        for _, _, (_, _, s) in checked:
            per_sync[s] = per_sync.get(s, 0) + 1
        print("group commit: %d checked DHCPACKs were made durable by %d syncs, %.2f ACKs per sync "
              "on average (at most %d)" % (
                  len(checked), len(per_sync), len(checked) / len(per_sync), max(per_sync.values())))
    for line in bad[:40]:
        print("  " + line)
    if len(bad) > 40:
        print("  ... and %d more" % (len(bad) - 40))
    if len(checked) < min_acks:
        print("  only %d DHCPACKs checked, want at least %d" % (len(checked), min_acks))
        return 1
    return 1 if bad else 0


def cmd_nosync(args):
    """nosync TRACE LEASES: TRACE on stdout less one sync: the only one between
    the lease write and the send of a DHCPACK in the middle of the trace (its
    lines blanked, so the others keep their numbers). Says which on stderr."""
    events = trace_events(args[0], args[1])
    checked, _ = check_durable(events)
    sync_lines = {}
    for e in events:
        if e[0] == "sync":
            sync_lines.setdefault(e[3], []).append((e[1], e[2]))
    victim = None
    middle = checked[len(checked) // 2][0] if checked else 0
    for line, _, (bl, p, s) in sorted(checked, key=lambda x: abs(x[0] - middle)):
        between = [x for x in sync_lines[p] if bl < x[0] and x[1] < line]
        if len(between) == 1:
            victim = (line, bl, p, between[0])
            break
    if victim is None:
        sys.stderr.write("no DHCPACK with exactly one sync between its lease write and its send\n")
        return 1
    line, bl, p, (s0, s) = victim
    # The sync's line, or both halves of it if strace cut it in two
    # (<unfinished ...> and <... resumed>).
    drop = {s0, s}
    with open(args[0], encoding="latin-1") as f:
        lines = f.readlines()
    for k, text in enumerate(lines, 1):
        sys.stdout.write("\n" if k in drop else text)
    sys.stderr.write("removed the sync at line %d (of %s), the only one between the lease write at line %d "
                     "and the DHCPACK at line %d\n" % (s, p, bl, line))
    return 0


# ---- failover ---------------------------------------------------------------

# RFC 3074 §5 mixing table, as ISC 4.4 uses it (loadb_mx_tbl); see
# shared/reference/failover-protocol.md (f).
LB_TABLE = [
    251, 175, 119, 215, 81, 14, 79, 191, 103, 49, 181, 143, 186, 157, 0, 232, 31, 32, 55, 60,
    152, 58, 17, 237, 174, 70, 160, 144, 220, 90, 57, 223, 59, 3, 18, 140, 111, 166, 203, 196,
    134, 243, 124, 95, 222, 179, 197, 65, 180, 48, 36, 15, 107, 46, 233, 130, 165, 30, 123, 161,
    209, 23, 97, 16, 40, 91, 219, 61, 100, 10, 210, 109, 250, 127, 22, 138, 29, 108, 244, 67,
    207, 9, 178, 204, 74, 98, 126, 249, 167, 116, 34, 77, 193, 200, 121, 5, 20, 113, 71, 35,
    128, 13, 182, 94, 25, 226, 227, 199, 75, 27, 41, 245, 230, 224, 43, 225, 177, 26, 155, 150,
    212, 142, 218, 115, 241, 73, 88, 105, 39, 114, 62, 255, 192, 201, 145, 214, 168, 158, 221, 148,
    154, 122, 12, 84, 82, 163, 44, 139, 228, 236, 205, 242, 217, 11, 187, 146, 159, 64, 86, 239,
    195, 42, 106, 198, 118, 112, 184, 172, 87, 2, 173, 117, 176, 229, 247, 253, 137, 185, 99, 164,
    102, 147, 45, 66, 231, 52, 141, 211, 194, 206, 246, 238, 56, 110, 78, 248, 63, 240, 189, 93,
    92, 51, 53, 183, 19, 171, 72, 50, 33, 104, 101, 69, 8, 252, 83, 120, 76, 135, 85, 54,
    202, 125, 188, 213, 96, 235, 136, 208, 162, 129, 190, 132, 156, 38, 47, 1, 7, 254, 24, 4,
    216, 131, 89, 21, 28, 133, 37, 153, 149, 80, 170, 68, 6, 169, 234, 151,
]
assert sorted(LB_TABLE) == list(range(256))


def lb_hash(key):
    """RFC 3074 Pearson hash; ISC walks the key from its last byte to its first."""
    h = len(key) & 0xFF
    for b in reversed(key):
        h = LB_TABLE[h ^ b]
    return h


def lb_bitmap(split=None, hba=None):
    """The 32-byte hash-bucket bitmap: `split N` sets buckets 0..N-1; a set
    bit means the primary serves the bucket (ISC, unlike draft-12 §12.11)."""
    if hba is not None:
        b = bytes.fromhex(hba.replace(":", "").replace(" ", ""))
        if len(b) != 32:
            raise ValueError("an hba has 32 bytes, not %d" % len(b))
        return b
    n = 128 if split is None else split
    bits = bytearray(32)
    for bucket in range(n):
        bits[bucket >> 3] |= 1 << (bucket & 7)
    return bytes(bits)


def lb_server(bitmap, h):
    return "primary" if bitmap[h >> 3] & (1 << (h & 7)) else "secondary"


def lb_key(msg):
    """The load-balancing key of a client packet: option 61 whole, else chaddr."""
    cid = msg["options"].get(61)
    if cid:
        return cid
    return bytes(int(x, 16) for x in msg["chaddr"].split(":")) if msg["chaddr"] else b""


def take_opt(args, name, default=None, conv=str):
    if name in args:
        k = args.index(name)
        v = conv(args[k + 1])
        del args[k:k + 2]
        return v
    return default


def server_of(msg, src):
    sid = msg["options"].get(54)
    return socket.inet_ntoa(sid[:4]) if sid and len(sid) >= 4 else src


def cmd_lbhash(args):
    split = take_opt(args, "--split", None, int)
    hba = take_opt(args, "--hba")
    bitmap = lb_bitmap(split, hba)
    for k in args:
        key = bytes.fromhex(k.replace(":", "").replace(" ", ""))
        h = lb_hash(key)
        print("%s %d %s" % (k, h, lb_server(bitmap, h)))
    return 0


def cmd_lbcheck(args):
    split = take_opt(args, "--split", None, int)
    hba = take_opt(args, "--hba")
    primary = take_opt(args, "--primary")
    secondary = take_opt(args, "--secondary")
    max_secs = take_opt(args, "--max-secs", 3, int)
    bitmap = lb_bitmap(split, hba)
    addr_of = {"primary": primary, "secondary": secondary}
    discovers, offers, acks_by = {}, {}, {}
    for t, src, _, m in dhcp_messages(args[0]):
        if m["op"] == 1 and m["type"] == 1:
            discovers.setdefault(m["xid"], m)
        elif m["op"] == 2 and m["type"] == 2:
            offers.setdefault(m["xid"], set()).add(server_of(m, src))
        elif m["op"] == 2 and m["type"] == DHCPACK:
            acks_by.setdefault(m["chaddr"], set()).add(server_of(m, src))
    bad, checked, skipped, per = [], 0, 0, {"primary": 0, "secondary": 0}
    for xid, m in sorted(discovers.items()):
        secs = m.get("secs", 0)
        if secs > max_secs:
            skipped += 1
            continue
        h = lb_hash(lb_key(m))
        want = lb_server(bitmap, h)
        got = offers.get(xid, set())
        checked += 1
        per[want] += 1
        line = "%s key=%s hash=%d %s (%s): offered by %s, acked by %s" % (
            m["chaddr"], lb_key(m).hex(), h, want, addr_of[want], ",".join(sorted(got)) or "nobody",
            ",".join(sorted(acks_by.get(m["chaddr"], set()))) or "nobody")
        if got != {addr_of[want]} or not acks_by.get(m["chaddr"], set()) <= {addr_of[want]}:
            bad.append(line)
        else:
            print("  " + line)
    print("%d DISCOVERs checked (%d for the primary's buckets, %d for the secondary's), "
          "%d past %d secs not checked; %d answered by the wrong server or by none" % (
              checked, per["primary"], per["secondary"], skipped, max_secs, len(bad)))
    for line in bad:
        print("  WRONG: " + line)
    return 1 if bad or checked == 0 else 0


def ip_int(a):
    return struct.unpack("!I", socket.inet_aton(a))[0]


def cmd_states(args):
    missing = take_opt(args, "--missing")
    last = last_records(args[0])
    groups = []
    for g in args[1:]:
        spans = []
        for r in g.split(","):
            a, b = r.split("-")
            spans.append((ip_int(a), ip_int(b)))
        groups.append((g, spans))
    if not groups:
        groups = [("all", [(0, 0xFFFFFFFF)])]
        missing = None
    for name, spans in groups:
        counts = {}
        for addr, rec in last.items():
            a = ip_int(addr)
            if any(lo <= a <= hi for lo, hi in spans):
                st = rec["state"] or "-"
                counts[st] = counts.get(st, 0) + 1
        if missing:
            # An address of a range that the file never mentions is in the
            # range's initial state (dhcpd.leases(5): a server need not write
            # never-used leases; ISC does, others may not).
            size = sum(hi - lo + 1 for lo, hi in spans)
            seen = sum(counts.values())
            if size > seen:
                counts[missing] = counts.get(missing, 0) + (size - seen)
        total = sum(counts.values())
        rest = " ".join("%s=%d" % (k, counts[k]) for k in sorted(counts) if k not in ("free", "backup"))
        print(("%s total=%d free=%d backup=%d %s" % (
            name, total, counts.get("free", 0), counts.get("backup", 0), rest)).rstrip())
    return 0


def dhcp_acks(path):
    """(time, yiaddr, chaddr, lease time, server) of each DHCPACK that binds."""
    out = []
    for t, src, _, m in dhcp_messages(path):
        if m["op"] == 2 and m["type"] == DHCPACK and m["yiaddr"] != "0.0.0.0":
            out.append((t, m["yiaddr"], m["chaddr"], m["lease_time"], server_of(m, src)))
    return out


def cmd_agree(args):
    after = take_opt(args, "--after", float("-inf"), float)
    before = take_opt(args, "--before", float("inf"), float)
    alive = take_opt(args, "--alive-at", None, float)
    ends = "--ends" in args
    if ends:
        args.remove("--ends")
    per_client = "--per-client" in args
    if per_client:
        args.remove("--per-client")
    pcap, files = args[0], args[1:]
    last_ack = {}
    for t, addr, hw, lt, sid in dhcp_acks(pcap):
        if after <= t < before:
            last_ack[addr] = (t, hw, lt, sid)
    if per_client:
        # A client that was acked another address later has moved on (a new
        # DORA); the server may free what it held before.
        latest = {}
        for addr, v in last_ack.items():
            if v[1] not in latest or v[0] > latest[v[1]][0]:
                latest[v[1]] = (v[0], addr)
        last_ack = {a: v for a, v in last_ack.items() if latest[v[1]][1] == a}
    if alive is not None:
        last_ack = {a: v for a, v in last_ack.items() if v[2] is None or v[0] + v[2] > alive}
    bad = []
    for f in files:
        recs = last_records(f)
        for addr, (t, hw, lt, sid) in sorted(last_ack.items(), key=lambda x: ip_int(x[0])):
            rec = recs.get(addr)
            if rec is None:
                bad.append("%s: acked to %s by %s at %.3f; not in %s" % (addr, hw, sid, t, f))
            elif rec["state"] != "active" or rec["hw"] != hw:
                bad.append("%s: acked to %s by %s at %.3f; %s has %s" % (addr, hw, sid, t, f, fmt_record(rec)))
            elif ends and lt is not None and (rec["ends"] is None or rec["ends"] < t + lt - 2):
                bad.append("%s: acked to %s by %s at %.3f for %d s; %s ends it at %s" % (
                    addr, hw, sid, t, lt, f, fmt_time(rec["ends"])))
    print("%d addresses acked in the window; %d problems in %d lease files" % (len(last_ack), len(bad), len(files)))
    for line in bad[:30]:
        print("  " + line)
    return 1 if bad or not last_ack else 0


def partition_problems(acks_, ra, rb, mclt, T, cut, heal, slack, pd=None):
    """The partition checks on a list of ACKs and two lease files' records.
    pd: (server address, time) of the server put into partner-down, if any."""
    bad = []
    # 1. No address bound to two clients at overlapping times (RFC 2131 §4.3.1;
    #    draft-ietf-dhc-failover-12 §5.2.1: what the whole protocol is for).
    by_addr = {}
    for t, addr, hw, lt, sid in acks_:
        by_addr.setdefault(addr, []).append((t, t + (lt or 0), hw, sid))
    overlaps = 0
    for addr, ivs in by_addr.items():
        for i, (s1, e1, h1, sid1) in enumerate(ivs):
            for s2, e2, h2, sid2 in ivs[i + 1:]:
                if h1 != h2 and s2 < e1 - slack and s1 < e2 - slack:
                    overlaps += 1
                    bad.append("%s: acked to %s by %s for [%.1f, %.1f] and to %s by %s for [%.1f, %.1f]" % (
                        addr, h1, sid1, s1, e1, h2, sid2, s2, e2))
    # 2. The MCLT rule (failover-protocol.md (d), draft-12 §5.2.1): without the
    #    peer's acknowledgement a server grants at most MCLT past what the peer
    #    last acknowledged. The last acknowledged potential expiration of an
    #    address is at most t0 + T + granted/2 of its last ACK before the cut.
    #    A server entering partner-down at S takes tsfp = S + MCLT for the
    #    leases that are expired, released or reset then (ISC; (e) "Entering
    #    partner-down"), so from S on it may grant up to S + 2 MCLT - now.
    tsfp = {}
    window = clamped = longest = 0
    for t, addr, hw, lt, sid in acks_:
        if t < cut:
            tsfp[addr] = max(tsfp.get(addr, 0), t + T + (lt or 0) / 2.0)
            continue
        if t > heal:
            continue
        window += 1
        allowed = max(mclt, tsfp.get(addr, 0) + mclt - t)
        if pd is not None and sid == pd[0] and t >= pd[1]:
            allowed = max(allowed, pd[1] + 2 * mclt - t)
        longest = max(longest, lt or 0)
        if lt is not None and lt <= mclt:
            clamped += 1
        if lt is None or lt > allowed + slack:
            bad.append("%s: acked to %s by %s at %.1f (%.1f s into the partition) for %s s; "
                       "the MCLT rule allows %.0f s" % (addr, hw, sid, t, t - cut, lt, allowed))
    # 3. The two lease files do not bind one address to two clients.
    split_brain = 0
    for addr in sorted(set(ra) & set(rb), key=ip_int):
        a, b = ra[addr], rb[addr]
        if a["state"] == "active" and b["state"] == "active" and a["hw"] != b["hw"]:
            split_brain += 1
            bad.append("%s: active for %s in one lease file and for %s in the other" % (addr, a["hw"], b["hw"]))
    stats = "%d DHCPACKs for %d addresses; %d overlapping bindings; %d ACKs in the partition " \
        "window, %d of them at most MCLT (%d s), longest %d s; %d addresses active for " \
        "different clients in the two lease files" % (
            len(acks_), len(by_addr), overlaps, window, clamped, mclt, longest, split_brain)
    return bad, window, stats


def cmd_partition(args):
    mclt = take_opt(args, "--mclt", None, float)
    T = take_opt(args, "--lease-time", None, float)
    cut = take_opt(args, "--cut", None, float)
    heal = take_opt(args, "--heal", None, float)
    slack = take_opt(args, "--slack", 2.0, float)
    pd_server = take_opt(args, "--pd-server")
    pd_since = take_opt(args, "--pd-since", None, float)
    pd = (pd_server, pd_since) if pd_server and pd_since is not None else None
    self_test = "--self-test" in args
    if self_test:
        args.remove("--self-test")
    pcap, la, lb = args[0], args[1], args[2]
    acks_ = sorted(dhcp_acks(pcap))
    ra, rb = last_records(la), last_records(lb)
    bad, window, stats = partition_problems(acks_, ra, rb, mclt, T, cut, heal, slack, pd)
    print(stats)
    for line in bad[:30]:
        print("  " + line)
    if len(bad) > 30:
        print("  ... and %d more" % (len(bad) - 30))
    failed = bool(bad) or window == 0
    if self_test:
        # The checks must be able to fail: plant one fault of each kind in a
        # copy of the evidence and see each one reported.
        inside = [a for a in acks_ if cut <= a[0] <= heal]
        both = [x for x in sorted(set(ra) & set(rb)) if ra[x]["state"] == "active"]
        if not inside or not both:
            print("self-test: no ACK in the window or no shared active lease to plant a fault on")
            return 1
        t, addr, hw, lt, sid = inside[0]
        planted = {
            "an address acked to two clients": sorted(acks_ + [(t + 1, addr, "02:de:ad:00:00:01", lt, sid)]),
            "a lease longer than MCLT allows": sorted(acks_ + [(t + 1, addr, hw, mclt * 10 + 1000, sid)]),
        }
        results = []
        for what, a2 in planted.items():
            b2, _, _ = partition_problems(a2, ra, rb, mclt, T, cut, heal, slack, pd)
            results.append((what, len(b2) > len(bad)))
        rb2 = dict(rb)
        rb2[both[0]] = dict(rb[both[0]], hw="02:de:ad:00:00:02")
        b2, _, _ = partition_problems(acks_, ra, rb2, mclt, T, cut, heal, slack, pd)
        results.append(("an address active for two clients in the lease files", len(b2) > len(bad)))
        for what, caught in results:
            print("self-test: %s: %s" % (what, "reported" if caught else "NOT REPORTED"))
        if not all(c for _, c in results):
            return 1
    return 1 if failed else 0


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
            "crash": (cmd_crash, 2), "without": (cmd_without, 2),
            "lbhash": (cmd_lbhash, 1), "lbcheck": (cmd_lbcheck, 1), "states": (cmd_states, 1),
            "agree": (cmd_agree, 2), "partition": (cmd_partition, 3)}

# Every field of a lease file, and strace (interop.sh, durability.sh, startup.sh).
COMMANDS.update({"records": (cmd_records, 1), "expect": (cmd_expect, 1), "interop": (cmd_interop, 2),
                 "objects": (cmd_objects, 2), "genleases": (cmd_genleases, 3),
                 "durable": (cmd_durable, 2), "nosync": (cmd_nosync, 2)})


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS or len(argv) - 2 < COMMANDS[argv[1]][1]:
        sys.stderr.write(__doc__)
        return 2
    return COMMANDS[argv[1]][0](argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
