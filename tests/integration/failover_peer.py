#!/usr/bin/env python3
"""A fake failover peer for failover_hostile.sh: raw TCP, standard library only.

  failover_peer.py --as primary|secondary --local ADDR --server ADDR --port N
                   --name NAME [--mclt S] [--timeout S] SCENARIO [--extra N]
                   [--first ADDR] [--mac MAC]

It plays one server of the pair (--as) against the real server at
--server:--port, connecting from --local (the `peer address` the real server
expects: it accepts no other source). Messages follow
shared/reference/failover-protocol.md: 12-byte header, payload offset 12,
TLV options; as the primary it sends CONNECT, as the secondary it waits for
the real primary's CONNECT and answers CONNECTACK.

SCENARIO:
  control     a correct handshake, STATE recover, one BNDUPD (ACTIVE, --first,
              --mac): it must get CONNECTACK/STATE and a BNDACK without reject
  wrong-name  the relationship name with "-x" appended (in CONNECT or CONNECTACK)
  garbage     bytes that are no message: a length field of 5 (below 12)
  oversized   a message of 2049 bytes (ISC's limit is 2048)
  duplicate   relationship-name twice in CONNECT / CONNECTACK
  flood       a correct handshake, then the server's own max-unacked-bndupd
              (option 14) + --extra (5) BNDUPDs, without reading in between
  hold        a correct handshake, then keep the link up for --timeout seconds
              answering nothing but CONTACT, and close

Progress goes to stderr. The last line on stdout is the verdict:
  RESULT closed=yes|no reject=N|- got=TYPE,... acks=N rejected=N max_unacked=N|-
closed=yes when the server closed the connection within --timeout seconds of
the scenario's last message. Exit status 0 once the scenario ran (whatever the
server did), 2 when it could not even connect.

Never more than one connection, never more than --extra + max-unacked + 1
BNDUPDs, every read bounded by --timeout.
"""

import select
import socket
import struct
import sys
import time

# Message types (failover-protocol.md (b)).
POOLREQ, POOLRESP, BNDUPD, BNDACK, CONNECT, CONNECTACK = 1, 2, 3, 4, 5, 6
UPDREQALL, UPDDONE, UPDREQ, STATE, CONTACT, DISCONNECT = 7, 8, 9, 10, 11, 12
TYPE_NAMES = {1: "POOLREQ", 2: "POOLRESP", 3: "BNDUPD", 4: "BNDACK", 5: "CONNECT",
              6: "CONNECTACK", 7: "UPDREQALL", 8: "UPDDONE", 9: "UPDREQ", 10: "STATE",
              11: "CONTACT", 12: "DISCONNECT"}
# Option codes (failover-protocol.md (c)).
O_IP, O_STATUS, O_CHADDR, O_CLTT, O_HBA, O_LEASE_END = 2, 3, 5, 6, 11, 13
O_MAX_UNACKED, O_MCLT, O_MESSAGE, O_POTENTIAL_END, O_RECEIVE_TIMER = 14, 15, 16, 18, 19
O_VERSION, O_REJECT, O_NAME, O_FLAGS, O_STATE, O_STOS = 20, 21, 22, 23, 24, 25
O_TLS_REPLY, O_TLS_REQUEST, O_VENDOR = 26, 27, 28
STATE_RECOVER = 6
BS_ACTIVE = 2


def log(msg):
    sys.stderr.write("peer: %s\n" % msg)
    sys.stderr.flush()


def opt(code, data):
    return struct.pack("!HH", code, len(data)) + data


def u32(v):
    return struct.pack("!I", v)


def message(mtype, xid, options, now=None):
    body = b"".join(options)
    t = int(time.time()) if now is None else now
    return struct.pack("!HBBII", 12 + len(body), mtype, 12, t, xid) + body


def split_bitmap(n=128):
    bits = bytearray(32)
    for b in range(n):
        bits[b >> 3] |= 1 << (b & 7)
    return bytes(bits)


def parse_options(body):
    opts, i = {}, 0
    while i + 4 <= len(body):
        code, n = struct.unpack("!HH", body[i:i + 4])
        opts.setdefault(code, body[i + 4:i + 4 + n])
        i += 4 + n
    return opts


class Link:
    def __init__(self, args):
        self.timeout = args.timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.bind((args.local, 0))
        self.sock.settimeout(args.timeout)
        self.sock.connect((args.server, args.port))
        self.sock.settimeout(None)
        self.buf = b""
        self.closed = False
        self.got = []
        self.xid = 0
        self.reject = None  # the reject-reason of a CONNECTACK or DISCONNECT

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError as e:
            log("send: %s" % e)
            self.closed = True

    def next_xid(self):
        self.xid += 1
        return self.xid

    def recv_msg(self, deadline):
        """The next message (type, xid, options) or None at EOF or the deadline."""
        while True:
            if len(self.buf) >= 2:
                n = struct.unpack("!H", self.buf[:2])[0]
                if n < 12:
                    log("the server sent a length of %d" % n)
                    self.closed = True
                    return None
                if len(self.buf) >= n:
                    raw, self.buf = self.buf[:n], self.buf[n:]
                    _, mtype, payoff, _, xid = struct.unpack("!HBBII", raw[:12])
                    m = (mtype, xid, parse_options(raw[max(12, payoff):]))
                    self.got.append(TYPE_NAMES.get(mtype, str(mtype)))
                    if mtype in (CONNECTACK, DISCONNECT) and m[2].get(O_REJECT):
                        self.reject = m[2][O_REJECT][0]
                        log("%s reject-reason %d: %s" % (TYPE_NAMES[mtype], self.reject,
                                                        m[2].get(O_MESSAGE, b"").decode("latin-1")))
                    return m
            if self.closed:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return None
            try:
                data = self.sock.recv(65536)
            except OSError as e:
                log("recv: %s" % e)
                data = b""
            if not data:
                self.closed = True
                continue
            self.buf += data

    def wait_for(self, types, secs=None):
        deadline = time.monotonic() + (self.timeout if secs is None else secs)
        while True:
            m = self.recv_msg(deadline)
            if m is None:
                return None
            if m[0] in types:
                return m
            if m[0] == CONTACT:
                continue
            log("meanwhile %s" % TYPE_NAMES.get(m[0], m[0]))

    def wait_closed(self, secs=None):
        """Read (and count) until EOF or the deadline; True on EOF."""
        deadline = time.monotonic() + (self.timeout if secs is None else secs)
        while not self.closed:
            if self.recv_msg(deadline) is None and not self.closed:
                return False
        return True


class Peer:
    def __init__(self, args):
        self.args = args
        self.acks = 0
        self.rejected = 0
        self.max_unacked = None
        self.link = None

    def connect_msg(self, name, dup=False):
        a = self.args
        opts = [opt(O_NAME, name)]
        if dup:
            opts.append(opt(O_NAME, name))
        opts += [opt(O_MAX_UNACKED, u32(10)), opt(O_RECEIVE_TIMER, u32(30)),
                 opt(O_VENDOR, b"tandem-test-fake-peer"), opt(O_VERSION, b"\x01"),
                 opt(O_TLS_REQUEST, b"\x00"), opt(O_MCLT, u32(a.mclt)), opt(O_HBA, split_bitmap())]
        return message(CONNECT, 0, opts)

    def connectack_msg(self, xid, name, dup=False):
        opts = [opt(O_NAME, name)]
        if dup:
            opts.append(opt(O_NAME, name))
        opts += [opt(O_MAX_UNACKED, u32(10)), opt(O_RECEIVE_TIMER, u32(30)),
                 opt(O_VENDOR, b"tandem-test-fake-peer"), opt(O_VERSION, b"\x01"),
                 opt(O_TLS_REPLY, b"\x00")]
        return message(CONNECTACK, xid, opts)

    def note_reject(self, m):
        """A BNDACK's reject-reason (the link notes those of CONNECTACK and DISCONNECT)."""
        if m and m[0] == BNDACK and m[2].get(O_REJECT):
            log("BNDACK reject-reason %d: %s" % (m[2][O_REJECT][0],
                                                 m[2].get(O_MESSAGE, b"").decode("latin-1")))

    def open(self):
        self.link = Link(self.args)
        log("connected from %s to %s:%d as the %s" % (self.args.local, self.args.server,
                                                     self.args.port, self.args.role))

    def handshake(self, name=None, dup=False):
        """Exchange CONNECT/CONNECTACK (and STATE, if accepted). True when linked."""
        a, link = self.args, self.link
        name = a.name.encode() if name is None else name
        if a.role == "primary":
            link.send(self.connect_msg(name, dup))
            m = link.wait_for({CONNECTACK, DISCONNECT})
            if m is None or m[0] != CONNECTACK or link.reject is not None:
                return False
            if O_MAX_UNACKED in m[2]:
                self.max_unacked = struct.unpack("!I", m[2][O_MAX_UNACKED])[0]
        else:
            m = link.wait_for({CONNECT})
            if m is None:
                log("no CONNECT from the primary")
                return False
            if O_MAX_UNACKED in m[2]:
                self.max_unacked = struct.unpack("!I", m[2][O_MAX_UNACKED])[0]
            link.send(self.connectack_msg(m[1], name, dup))
        if name != a.name.encode() or dup:
            return False  # hostile: the caller waits for the server's reaction
        link.send(message(STATE, link.xid, [opt(O_STATE, bytes([STATE_RECOVER])), opt(O_FLAGS, b"\x00"),
                                            opt(O_STOS, u32(int(time.time())))]))
        m = link.wait_for({STATE, DISCONNECT})
        if m is None or m[0] != STATE:
            log("no STATE from the server")
            return False
        log("linked; the server is in state %d, max-unacked %s" % (m[2].get(O_STATE, b"\xff")[0],
                                                                   self.max_unacked))
        return True

    def bndupd(self, ip, mac):
        now = int(time.time())
        xid = self.link.next_xid()
        return xid, message(BNDUPD, xid, [
            opt(O_IP, socket.inet_aton(ip)), opt(O_STATUS, bytes([BS_ACTIVE])),
            opt(O_CHADDR, b"\x01" + bytes(int(x, 16) for x in mac.split(":"))),
            opt(O_LEASE_END, u32(now + 600)), opt(O_POTENTIAL_END, u32(now + 900)),
            opt(O_STOS, u32(now)), opt(O_CLTT, u32(now))])

    def count_acks(self, want, secs):
        deadline = time.monotonic() + secs
        while self.acks + self.rejected < want:
            m = self.link.recv_msg(deadline)
            if m is None:
                return
            if m[0] == BNDACK:
                if O_REJECT in m[2]:
                    self.rejected += 1
                    self.note_reject(m)
                else:
                    self.acks += 1
            elif m[0] == DISCONNECT:
                return

    def result(self):
        link = self.link
        print("RESULT closed=%s reject=%s got=%s acks=%d rejected=%d max_unacked=%s" % (
            "yes" if link and link.closed else "no", "-" if link is None or link.reject is None else link.reject,
            ",".join(link.got) if link and link.got else "-", self.acks, self.rejected,
            "-" if self.max_unacked is None else self.max_unacked))

    # ---- scenarios ----

    def control(self):
        if not self.handshake():
            return
        xid, msg = self.bndupd(self.args.first, self.args.mac)
        self.link.send(msg)
        self.count_acks(1, self.args.timeout)
        log("BNDUPD xid %d for %s: %d acked, %d rejected" % (xid, self.args.first, self.acks, self.rejected))
        self.link.wait_closed(0.5)

    def wrong_name(self):
        self.handshake(name=(self.args.name + "-x").encode())
        self.link.wait_closed()

    def duplicate(self):
        self.handshake(dup=True)
        self.link.wait_closed()

    def garbage(self):
        if self.args.role == "secondary":
            self.link.wait_for({CONNECT})
        self.link.send(b"\x00\x05" + b"\xde\xad\xbe\xef garbage" * 6)
        self.link.wait_closed()

    def oversized(self):
        if self.args.role == "secondary":
            self.link.wait_for({CONNECT})
        body = b"\x00" * (2049 - 12)
        self.link.send(struct.pack("!HBBII", 2049, CONNECT, 12, int(time.time()), 0) + body)
        self.link.wait_closed()

    def flood(self):
        if not self.handshake():
            return
        n = (self.max_unacked if self.max_unacked is not None else 100) + self.args.extra
        base = struct.unpack("!I", socket.inet_aton(self.args.first))[0]
        mac = [int(x, 16) for x in self.args.mac.split(":")]
        data = b""
        for i in range(n):
            ip = socket.inet_ntoa(struct.pack("!I", base + i))
            m = ":".join("%02x" % x for x in mac[:5] + [(mac[5] + i) & 0xFF])
            data += self.bndupd(ip, m)[1]
        log("sending %d BNDUPDs at once (the server advertised max-unacked %s)" % (n, self.max_unacked))
        self.link.send(data)
        self.count_acks(n, self.args.timeout)
        log("%d acked, %d rejected" % (self.acks, self.rejected))
        self.link.wait_closed(1.0)

    def hold(self):
        if not self.handshake():
            return
        end = time.monotonic() + self.args.timeout
        while time.monotonic() < end and not self.link.closed:
            m = self.link.recv_msg(min(end, time.monotonic() + 1.0))
            if m is not None and m[0] == CONTACT:
                self.link.send(message(CONTACT, self.link.next_xid(), []))


class Args:
    pass


def parse_args(argv):
    a = Args()
    a.role = a.local = a.server = a.name = a.scenario = None
    a.port, a.mclt, a.timeout, a.extra = 0, 30, 5.0, 5
    a.first, a.mac = "0.0.0.0", "02:00:5e:77:00:00"
    i = 0
    while i < len(argv):
        k = argv[i]
        v = argv[i + 1] if i + 1 < len(argv) else None
        if k == "--as":
            a.role = v
        elif k == "--local":
            a.local = v
        elif k == "--server":
            a.server = v
        elif k == "--port":
            a.port = int(v)
        elif k == "--name":
            a.name = v
        elif k == "--mclt":
            a.mclt = int(v)
        elif k == "--timeout":
            a.timeout = float(v)
        elif k == "--extra":
            a.extra = int(v)
        elif k == "--first":
            a.first = v
        elif k == "--mac":
            a.mac = v
        else:
            a.scenario = k
            i += 1
            continue
        i += 2
    return a


SCENARIOS = {"control": Peer.control, "wrong-name": Peer.wrong_name, "garbage": Peer.garbage,
             "oversized": Peer.oversized, "duplicate": Peer.duplicate, "flood": Peer.flood,
             "hold": Peer.hold}


def main(argv):
    a = parse_args(argv[1:])
    if (a.role not in ("primary", "secondary") or not a.local or not a.server or not a.port
            or not a.name or a.scenario not in SCENARIOS):
        sys.stderr.write(__doc__)
        return 2
    p = Peer(a)
    try:
        p.open()
    except OSError as e:
        log("cannot connect: %s" % e)
        print("RESULT closed=yes reject=- got=- acks=0 rejected=0 max_unacked=- connect=failed")
        return 2
    SCENARIOS[a.scenario](p)
    p.result()
    try:
        p.link.sock.close()
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
