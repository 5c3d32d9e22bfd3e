#!/usr/bin/env python3
"""Helpers of bench/failover.sh: time log lines as they appear, count lease states.

Standard library only; it reads files and nothing else.

  fo_tools.py watch SECONDS [--pid PID | --pidfile FILE | --stall N | --stall-file FILE]...
                     LABEL FILE REGEX [LABEL FILE REGEX...]
      Print "ready 0" once set up; then follow each FILE (it may not exist yet)
      and print "LABEL EPOCH_NS" the first time a line of it matches REGEX
      (Python syntax), flushed at once. A --pidfile is read once it holds a
      number (for a process started after the watch). Ends with
      status 0 when every label has matched (a label written "?LABEL" is
      optional: printed as LABEL if it matches, not waited for), 1 after
      SECONDS, 2 when one of the PIDs is gone (each file is read once more first),
      3 when none of the --stall-files has changed size for N seconds (the
      servers are stuck: no need to wait for SECONDS). Lines written before the
      watch began count too: start it before the event, or give a regex that
      only the event writes. ISC dhcpd puts no times in its log, so the time a
      line is seen is the only clock there is; it polls every 5 ms and reads only
      what was added, so a 10 MB log costs it no more than a small one.

  fo_tools.py states LEASES [FIRST-LAST]
      The binding state of each address's last record (dhcpd.leases(5): the last
      record of an address wins), counted, within FIRST-LAST if given:
      "total=N active=N free=N backup=N ... active_current=N", where
      active_current counts active records whose `ends` is in the future (or
      never). A missing file prints total=0.
"""

import calendar
import ipaddress
import os
import re
import sys
import time


def cmd_watch(argv):
    if not argv:
        raise SystemExit("watch: SECONDS missing")
    deadline = time.monotonic() + float(argv[0])
    argv = argv[1:]
    pids = []
    pidfiles = []
    stall = None
    stall_files = []
    while len(argv) >= 2 and argv[0] in ("--pid", "--pidfile", "--stall", "--stall-file"):
        if argv[0] == "--pid":
            pids.append(int(argv[1]))
        elif argv[0] == "--pidfile":
            pidfiles.append(argv[1])
        elif argv[0] == "--stall":
            stall = float(argv[1])
        else:
            stall_files.append(argv[1])
        argv = argv[2:]
    if not argv or len(argv) % 3:
        raise SystemExit("watch: LABEL FILE REGEX triples expected")
    specs = []
    for i in range(0, len(argv), 3):
        label = argv[i]
        optional = label.startswith("?")
        specs.append({"label": label.lstrip("?"), "optional": optional, "file": argv[i + 1],
                      "re": re.compile(argv[i + 2]), "done": False})
    files = {}  # path -> [fd or None, partial line]
    for s in specs:
        files.setdefault(s["file"], [None, b""])

    def alive(pid):
        try:
            with open("/proc/%d/stat" % pid, "rb") as f:
                st = f.read()
        except OSError:
            return False
        return st[st.rindex(b")") + 2:st.rindex(b")") + 3] != b"Z"

    def poll():
        for path, ent in files.items():
            if ent[0] is None:
                try:
                    ent[0] = os.open(path, os.O_RDONLY)
                except OSError:
                    continue
            while True:
                data = os.read(ent[0], 1 << 20)
                if not data:
                    break
                now = time.time_ns()
                lines = (ent[1] + data).split(b"\n")
                ent[1] = lines.pop()
                for s in specs:
                    if s["done"] or s["file"] != path:
                        continue
                    for ln in lines:
                        if s["re"].search(ln.decode("utf-8", "replace")):
                            s["done"] = True
                            print("%s %d" % (s["label"], now), flush=True)
                            break

    def read_pidfiles():
        for path in list(pidfiles):
            try:
                with open(path) as f:
                    text = f.read().strip()
            except OSError:
                continue
            if text.isdigit():
                pids.append(int(text))
                pidfiles.remove(path)

    def sizes():
        out = []
        for path in stall_files:
            try:
                out.append(os.stat(path).st_size)
            except OSError:
                out.append(-1)
        return out

    last_sizes = sizes()
    last_change = time.monotonic()
    print("ready 0", flush=True)
    while True:
        poll()
        if all(s["done"] or s["optional"] for s in specs):
            return 0
        if pidfiles:
            read_pidfiles()
        dead = [p for p in pids if not alive(p)]
        if dead:
            time.sleep(0.05)
            poll()
            if all(s["done"] or s["optional"] for s in specs):
                return 0
            print("dead %s" % ",".join(str(p) for p in dead), flush=True)
            return 2
        now = time.monotonic()
        if stall is not None and stall_files:
            cur = sizes()
            if cur != last_sizes:
                last_sizes, last_change = cur, now
            elif now - last_change >= stall:
                print("stalled %d" % int(now - last_change), flush=True)
                return 3
        if now >= deadline:
            return 1
        time.sleep(0.005)


LEASE_RE = re.compile(r"^lease\s+(\d+\.\d+\.\d+\.\d+)\s*\{")
STATE_RE = re.compile(r"^\s*binding\s+state\s+([a-z-]+)\s*;")
ENDS_RE = re.compile(r"^\s*ends\s+(.*?)\s*;")


def isc_time(text):
    """Epoch seconds of a lease-file time ("W YYYY/MM/DD HH:MM:SS" UTC, "epoch N", "never")."""
    text = text.strip()
    if text == "never":
        return None
    if text.startswith("epoch "):
        return int(text.split()[1])
    parts = text.split()
    return calendar.timegm(time.strptime(parts[1] + " " + parts[2], "%Y/%m/%d %H:%M:%S"))


def cmd_states(argv):
    if not argv:
        raise SystemExit("states: LEASES missing")
    lo, hi = 0, 0xFFFFFFFF
    if len(argv) > 1:
        a, b = argv[1].split("-")
        lo, hi = int(ipaddress.IPv4Address(a)), int(ipaddress.IPv4Address(b))
    last = {}
    try:
        f = open(argv[0], encoding="utf-8", errors="replace")
    except OSError:
        print("total=0")
        return 0
    with f:
        addr = state = ends = None
        for line in f:
            if addr is None:
                m = LEASE_RE.match(line)
                if m:
                    addr, state, ends = m.group(1), None, None
                continue
            if line.startswith("}"):
                last[addr] = (state, ends)
                addr = None
                continue
            m = STATE_RE.match(line)
            if m:
                state = m.group(1)
                continue
            m = ENDS_RE.match(line)
            if m:
                ends = m.group(1)
    now = time.time()
    counts = {}
    current = 0
    for a, (state, ends) in last.items():
        if not lo <= int(ipaddress.IPv4Address(a)) <= hi:
            continue
        state = state or "none"
        counts[state] = counts.get(state, 0) + 1
        if state == "active":
            e = isc_time(ends) if ends else 0
            if e is None or e > now:
                current += 1
    total = sum(counts.values())
    print(" ".join(["total=%d" % total] + ["%s=%d" % (k, counts[k]) for k in sorted(counts)]
                   + ["active_current=%d" % current]))
    return 0


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("watch", "states"):
        sys.stderr.write(__doc__)
        return 2
    if sys.argv[1] == "watch":
        return cmd_watch(sys.argv[2:])
    return cmd_states(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
