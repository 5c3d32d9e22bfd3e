#!/usr/bin/env python3
"""Checks that a scrape is valid Prometheus text exposition format (0.0.4).

Standard library only. Stricter than Prometheus itself where tandemd's output
promises more: families contiguous, histogram buckets in increasing `le` order.

    promcheck.py FILE...                check saved scrapes ("-" for stdin); with
                                        more than one, each line starts "FILE: "
    promcheck.py --url URL              fetch it (GET, 5 s timeout) and check the
                                        status (200) and the Content-Type too
    --prefix tandem_                    every family name must start with it
    --require NAME                      this family must be present (repeatable)
    --quiet                             print nothing on success

Exit status: 0 valid, 1 invalid (each problem printed as "line N: ..."), 2 the
input could not be had. As a module: `parse(text)` returns (families, errors),
where families maps a name to a Family with .type, .help and .samples, each
sample a (name, labels-dict, value) triple; the integration tests query those.
"""

import argparse
import math
import re
import sys
import urllib.error
import urllib.request

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# What Go's strconv.ParseFloat reads: decimal or hex floats, Inf and NaN in any case.
FLOAT = re.compile(
    r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|0[xX][0-9a-fA-F]+(?:\.[0-9a-fA-F]*)?(?:[pP][+-]?[0-9]+)?"
    r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])"
)
TIMESTAMP = re.compile(r"-?[0-9]+")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
BLANK = " \t"
COMMENT = re.compile(r"[ \t]*#[ \t]+(HELP|TYPE)[ \t]+([^ \t]+)(?:[ \t]+(.*))?$")


class Family:
    def __init__(self, name):
        self.name = name
        self.type = None  # None until a TYPE line: untyped
        self.help = None
        self.samples = []  # (sample name, labels dict, value)
        self.first_line = 0

    def kind(self):
        return self.type or "untyped"

    def value(self, sample_name=None, **labels):
        """The value of the sample with exactly these labels, or None."""
        for n, l, v in self.samples:
            if n == (sample_name or self.name) and l == labels:
                return v
        return None


def _unescape(text, allowed, lineno, errors):
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text) or text[i + 1] not in allowed:
                errors.append("line %d: invalid escape sequence %r" % (lineno, text[i:i + 2]))
                return None
            out.append({"\\": "\\", "n": "\n", '"': '"'}[text[i + 1]])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _skip_blank(s, i):
    while i < len(s) and s[i] in BLANK:
        i += 1
    return i


def _parse_labels(line, i, lineno, errors):
    """Parses {a="b",...} starting at line[i] == '{'. Returns (labels, next index) or (None, _)."""
    labels = {}
    i += 1
    while True:
        i = _skip_blank(line, i)
        if i < len(line) and line[i] == "}":
            return labels, i + 1
        m = LABEL_NAME.match(line, i)
        if not m:
            errors.append("line %d: invalid label name at column %d" % (lineno, i + 1))
            return None, i
        name = m.group(0)
        if name.startswith("__"):
            errors.append("line %d: label name %s is reserved (starts with __)" % (lineno, name))
        if name in labels:
            errors.append("line %d: label %s given twice" % (lineno, name))
        i = _skip_blank(line, m.end())
        if i >= len(line) or line[i] != "=":
            errors.append("line %d: expecting '=' after label %s" % (lineno, name))
            return None, i
        i = _skip_blank(line, i + 1)
        if i >= len(line) or line[i] != '"':
            errors.append("line %d: expecting '\"' to open the value of label %s" % (lineno, name))
            return None, i
        j = i + 1
        while j < len(line) and line[j] != '"':
            j += 2 if line[j] == "\\" else 1
        if j >= len(line):
            errors.append("line %d: unterminated value of label %s" % (lineno, name))
            return None, j
        value = _unescape(line[i + 1:j], '\\"n', lineno, errors)
        if value is None:
            return None, j
        labels[name] = value
        i = _skip_blank(line, j + 1)
        if i < len(line) and line[i] == ",":
            i += 1
            continue
        if i < len(line) and line[i] == "}":
            return labels, i + 1
        errors.append("line %d: expecting ',' or '}' after the value of label %s" % (lineno, name))
        return None, i


def _to_float(text):
    return float(text) if not text.lower().startswith(("0x", "+0x", "-0x")) else float.fromhex(text)


def _family_of(name, families):
    """The family a sample name belongs to: itself, or a histogram/summary it is a part of."""
    if name in families and families[name].type not in ("histogram", "summary"):
        return families[name], ""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            base = families.get(name[: -len(suffix)])
            if base and base.type in ("histogram", "summary") and not (suffix == "_bucket" and base.type == "summary"):
                return base, suffix
    if name in families:
        return families[name], ""
    return None, ""


def parse(text):
    """Returns (families: dict name -> Family, in order of appearance; errors: list of str)."""
    errors = []
    families = {}
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            return families, ["byte %d: the scrape is not UTF-8 (%s)" % (e.start, e.reason)]
    if text and not text.endswith("\n"):
        errors.append("line %d: the last line does not end with a newline" % (text.count("\n") + 1))
    current = None  # the family whose lines we are in, to check contiguity
    closed = set()  # families whose lines have ended
    seen_series = set()

    def enter(fam, lineno):
        nonlocal current
        if current is fam:
            return
        if fam.name in closed:
            errors.append("line %d: family %s continues after other families (its lines must be together)"
                          % (lineno, fam.name))
        if current is not None:
            closed.add(current.name)
        current = fam

    for lineno, line in enumerate(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"), 1):
        if line.strip(BLANK) == "":
            continue
        if line.lstrip(BLANK).startswith("#"):
            m = COMMENT.match(line)
            if not m:
                continue  # any other comment
            keyword, name, rest = m.group(1), m.group(2), m.group(3) or ""
            if not METRIC_NAME.fullmatch(name):
                errors.append("line %d: invalid metric name %r in %s" % (lineno, name, keyword))
                continue
            fam = families.get(name)
            if fam is None:
                fam = families[name] = Family(name)
                fam.first_line = lineno
            enter(fam, lineno)
            if keyword == "HELP":
                if fam.help is not None:
                    errors.append("line %d: second HELP line for %s" % (lineno, name))
                help_text = _unescape(rest, "\\n", lineno, errors)
                fam.help = help_text if help_text is not None else rest
            else:
                kind = rest.strip(BLANK)
                if kind not in TYPES:
                    errors.append("line %d: unknown type %r for %s" % (lineno, kind, name))
                    continue
                if fam.type is not None:
                    errors.append("line %d: second TYPE line for %s" % (lineno, name))
                if fam.samples:
                    errors.append("line %d: TYPE line for %s after its samples" % (lineno, name))
                fam.type = kind
            continue

        # A sample: name [labels] value [timestamp]
        i = _skip_blank(line, 0)
        m = METRIC_NAME.match(line, i)
        if not m:
            errors.append("line %d: invalid metric name at column %d" % (lineno, i + 1))
            continue
        name = m.group(0)
        i = _skip_blank(line, m.end())
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = _parse_labels(line, i, lineno, errors)
            if labels is None:
                continue
            i = _skip_blank(line, i)
        elif i == m.end():
            errors.append("line %d: expecting a blank or '{' after %s" % (lineno, name))
            continue
        fields = line[i:].split()
        if not fields or len(fields) > 2:
            errors.append("line %d: expecting a value (and an optional timestamp) after %s" % (lineno, name))
            continue
        if not FLOAT.fullmatch(fields[0]):
            errors.append("line %d: invalid value %r" % (lineno, fields[0]))
            continue
        value = _to_float(fields[0])
        if len(fields) == 2 and not TIMESTAMP.fullmatch(fields[1]):
            errors.append("line %d: invalid timestamp %r" % (lineno, fields[1]))
            continue

        fam, suffix = _family_of(name, families)
        if fam is None:
            fam = families[name] = Family(name)
            fam.first_line = lineno
        enter(fam, lineno)
        key = (name, tuple(sorted(labels.items())))
        if key in seen_series:
            errors.append("line %d: series %s%s appears twice" % (lineno, name, _fmt(labels)))
        seen_series.add(key)
        kind = fam.kind()
        if kind in ("histogram", "summary") and suffix == "":
            errors.append("line %d: %s is a %s: its samples are %s_bucket, _sum and _count"
                          % (lineno, name, kind, fam.name))
        if kind == "histogram":
            if suffix == "_bucket" and "le" not in labels:
                errors.append("line %d: bucket %s has no le label" % (lineno, name))
            if suffix != "_bucket" and "le" in labels:
                errors.append("line %d: %s may not have an le label" % (lineno, name))
            if suffix == "_bucket" and "le" in labels and not FLOAT.fullmatch(labels["le"]):
                errors.append("line %d: le=%r is not a number" % (lineno, labels["le"]))
        if kind == "summary" and suffix == "" and "quantile" not in labels:
            errors.append("line %d: summary %s sample has no quantile label" % (lineno, name))
        if kind == "counter" and (math.isnan(value) or value < 0):
            errors.append("line %d: counter %s has value %s (counters are never negative)" % (lineno, name, fields[0]))
        fam.samples.append((name, labels, value))

    for fam in families.values():
        if fam.kind() == "histogram":
            _check_histogram(fam, errors)
    return families, errors


def _fmt(labels):
    if not labels:
        return ""
    return "{" + ",".join('%s="%s"' % kv for kv in sorted(labels.items())) + "}"


def _check_histogram(fam, errors):
    series = {}
    for name, labels, value in fam.samples:
        rest = {k: v for k, v in labels.items() if k != "le"}
        entry = series.setdefault(tuple(sorted(rest.items())), {"buckets": [], "sum": None, "count": None})
        if name.endswith("_bucket") and "le" in labels and FLOAT.fullmatch(labels["le"]):
            entry["buckets"].append((_to_float(labels["le"]), value, labels["le"]))
        elif name.endswith("_sum"):
            entry["sum"] = value
        elif name.endswith("_count"):
            entry["count"] = value
    for key, e in series.items():
        where = "histogram %s%s" % (fam.name, _fmt(dict(key)))
        b = e["buckets"]
        if not b:
            errors.append("%s: no buckets" % where)
            continue
        for (le0, v0, t0), (le1, v1, t1) in zip(b, b[1:]):
            if not le0 < le1:
                errors.append("%s: bucket le=%s follows le=%s (bounds must increase)" % (where, t1, t0))
            if v1 < v0:
                errors.append("%s: bucket le=%s holds %s, less than le=%s's %s (buckets are cumulative)"
                              % (where, t1, _num(v1), t0, _num(v0)))
        if not math.isinf(b[-1][0]) or b[-1][0] < 0:
            errors.append("%s: no le=\"+Inf\" bucket last" % where)
        if e["count"] is None:
            errors.append("%s: no _count" % where)
        elif math.isinf(b[-1][0]) and b[-1][1] != e["count"]:
            errors.append("%s: le=\"+Inf\" holds %s but _count is %s" % (where, _num(b[-1][1]), _num(e["count"])))
        if e["sum"] is None:
            errors.append("%s: no _sum" % where)


def _num(v):
    return str(int(v)) if v == int(v) else repr(v)


def fetch(url, timeout=5.0):
    """GET url; returns (status, content type, body bytes)."""
    req = urllib.request.Request(url, headers={"Accept": "text/plain"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def check_data(data, prefix=None, require=()):
    """Returns (families, errors) for one scrape, with the --prefix and --require checks."""
    families, errors = parse(data)
    for name, fam in families.items():
        if prefix and not name.startswith(prefix):
            errors.append("line %d: family %s does not start with %s" % (fam.first_line, name, prefix))
    for name in require:
        if name not in families:
            errors.append("family %s is missing" % name)
    return families, errors


def main(argv=None):
    ap = argparse.ArgumentParser(description="Check a Prometheus text-format scrape.")
    ap.add_argument("files", nargs="*", metavar="FILE", help="a saved scrape, or - for standard input")
    ap.add_argument("--url", help="fetch the scrape from this URL")
    ap.add_argument("--prefix", help="every family name must start with this")
    ap.add_argument("--require", action="append", default=[], metavar="NAME", help="a family that must be present")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    if bool(args.files) == bool(args.url):
        ap.error("give FILEs or --url, not both")
    inputs = []  # (label, data, errors found before parsing)
    try:
        if args.url:
            status, ctype, data = fetch(args.url)
            if status != 200:
                print("%s: HTTP status %d" % (args.url, status), file=sys.stderr)
                return 1
            pre = [] if ctype == CONTENT_TYPE else ["Content-Type is %r, expecting %r" % (ctype, CONTENT_TYPE)]
            inputs.append((args.url, data, pre))
        for name in args.files:
            if name == "-":
                inputs.append((name, sys.stdin.buffer.read(), []))
            else:
                with open(name, "rb") as f:
                    inputs.append((name, f.read(), []))
    except (OSError, urllib.error.URLError) as e:
        print("cannot read the scrape: %s" % e, file=sys.stderr)
        return 2
    many = len(inputs) > 1
    failed = False
    for label, data, errors in inputs:
        families, problems = check_data(data, args.prefix, args.require)
        errors = errors + problems
        lead = label + ": " if many else ""
        for e in errors:
            print(lead + e)
        failed = failed or bool(errors)
        if not errors and not args.quiet:
            print("%sok: %d families, %d samples"
                  % (lead, len(families), sum(len(f.samples) for f in families.values())))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
