#!/usr/bin/env bash
# The example failover pair in examples/ passes `tandemd -t`, run from a copy of
# the folder (their `include "dhcpd.master";` is relative to the working
# directory, and distcheck's source tree is read-only). TAP: one case per file,
# plus one for the -v dump.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "${top_srcdir:-$here/../..}" && pwd)
top_builddir=$(cd "${top_builddir:-.}" && pwd)
tandemd=${TANDEMD:-$top_builddir/tandemd}
case "$tandemd" in /*) ;; *) tandemd=$(pwd)/$tandemd ;; esac

echo "1..3"
if [ ! -x "$tandemd" ]; then
    for i in 1 2 3; do echo "not ok $i - $tandemd is not built"; done
    exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tandem-examples.XXXXXX") || exit 1
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
cp -R "$top_srcdir/examples" "$tmp/examples"
chmod -R u+w "$tmp/examples"

n=0
for conf in primary.conf secondary.conf; do
    n=$((n + 1))
    status=0
    (cd "$tmp/examples" && exec timeout -k 5 30 "$tandemd" -t -cf "$conf") >/dev/null 2>"$tmp/err" </dev/null || status=$?
    if [ "$status" -eq 0 ] && ! grep -q ': error: ' "$tmp/err"; then
        echo "ok $n - tandemd -t accepts examples/$conf"
    else
        echo "not ok $n - tandemd -t accepts examples/$conf (exit $status)"
        sed 's/^/#   /' "$tmp/err" | head -n 20
    fi
done

# -v prints the model: it must name the failover peer the examples declare.
n=$((n + 1))
status=0
(cd "$tmp/examples" && exec timeout -k 5 30 "$tandemd" -t -v -cf primary.conf) >"$tmp/out" 2>"$tmp/err" </dev/null || status=$?
if [ "$status" -eq 0 ] && grep -q 'tandem-pair' "$tmp/out"; then
    echo "ok $n - tandemd -t -v dumps the model of examples/primary.conf"
else
    echo "not ok $n - tandemd -t -v dumps the model of examples/primary.conf (exit $status)"
    head -n 10 "$tmp/out" "$tmp/err" | sed 's/^/#   /'
fi
exit 0
