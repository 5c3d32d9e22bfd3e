#!/usr/bin/env bash
# The model tandemd builds from a dozen accepted ISC corpus files, as printed by
# `tandemd -t -v`, against dumps written by hand in tests/data/dumps/. TAP: one
# case per expected dump. A difference is shown as a unified diff.
#
# Environment: TANDEM_SHARED (the shared/ folder), top_srcdir and top_builddir
# (exported by `make check`), CI=true (a missing corpus fails instead of skipping).
set -u

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$here/../..}"
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "${top_builddir:-.}" && pwd)
shared=${TANDEM_SHARED:-$top_srcdir/../shared}
corpus=$shared/corpus/isc-configs
tandemd=$top_builddir/tandemd
expected=$top_srcdir/tests/data/dumps

dumps=("$expected"/*.dump)
echo "1..${#dumps[@]}"
if [ ! -d "$corpus" ]; then
    n=0
    for d in "${dumps[@]}"; do
        n=$((n + 1))
        if [ "${CI:-}" = true ]; then
            echo "not ok $n - $(basename "$d" .dump): corpus missing at $corpus"
        else
            echo "ok $n # SKIP corpus not found at $corpus"
        fi
    done
    exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tandem-dumps.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
for d in "${dumps[@]}"; do
    n=$((n + 1))
    name=$(basename "$d" .dump)
    status=0
    (cd "$corpus" && exec timeout -k 5 30 "$tandemd" -t -v -cf "$name") >"$tmp/out" 2>"$tmp/err" </dev/null || status=$?
    if [ "$status" -ne 0 ]; then
        echo "not ok $n - $name: tandemd -t -v exited $status"
        sed 's/^/# /' "$tmp/err" | head -20
    elif diff -u "$d" "$tmp/out" >"$tmp/diff"; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name: the model differs from the expected dump"
        sed 's/^/# /' "$tmp/diff" | head -60
    fi
done
