#!/usr/bin/env bash
# `tandemd -t` against ISC dhcpd 4.4.3 on the corpus of real dhcpd.conf files
# (shared/corpus/isc-configs, verdicts in its VERDICTS.tsv). TAP: one case per file.
#
# A file passes when
#   - tandemd neither crashes (exit >= 128), hangs, nor trips a sanitizer;
#   - its verdict agrees with ISC's: exit 0 where ISC exits 0, non-zero where ISC
#     rejects (where ISC itself crashed, either verdict is accepted);
#   - on a rejection, its first error names the file ISC names and, when ISC
#     gives a line N, a line within 1 of N.
# Each file is checked from the corpus folder, as ISC was: includes are relative
# to the working directory.
#
# Environment: TANDEM_SHARED (the shared/ folder), top_builddir (exported by
# `make check`), TANDEMD (another binary to test), CI=true (a missing corpus fails).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_builddir=$(cd "${top_builddir:-.}" && pwd)
: "${top_srcdir:=$here/../..}"
shared=${TANDEM_SHARED:-$top_srcdir/../shared}
corpus=$shared/corpus/isc-configs
verdicts=$corpus/VERDICTS.tsv
tandemd=${TANDEMD:-$top_builddir/tandemd}
case "$tandemd" in /*) ;; *) tandemd=$(pwd)/$tandemd ;; esac

if [ ! -r "$verdicts" ]; then
    echo "1..1"
    if [ "${CI:-}" = true ]; then
        echo "not ok 1 - corpus missing"
        echo "# no $verdicts (set TANDEM_SHARED or configure --with-shared=DIR)"
    else
        echo "ok 1 # SKIP corpus not found at $corpus"
    fi
    exit 0
fi
if [ ! -x "$tandemd" ]; then
    echo "1..1"
    echo "not ok 1 - $tandemd is not built"
    exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tandem-corpus.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# The entries: "file<TAB>ISC exit<TAB>ISC's first diagnostic", comments dropped.
grep -v -e '^#' -e '^[[:space:]]*$' "$verdicts" >"$tmp/list"
echo "1..$(wc -l <"$tmp/list" | tr -d ' ')"

n=0
while IFS=$'\t' read -r file isc_exit isc_diag; do
    n=$((n + 1))
    problems=()
    if [ ! -f "$corpus/$file" ]; then
        echo "not ok $n - $file: listed in VERDICTS.tsv but not in the corpus"
        continue
    fi

    status=0
    (cd "$corpus" && exec timeout -k 5 30 "$tandemd" -t -cf "$file") >/dev/null 2>"$tmp/err" </dev/null || status=$?

    # Our first error: "FILE[:LINE[:COL]]: error: MESSAGE" at the start of a line
    # (the quoted source lines under it are indented).
    first=$(grep -m1 -E '^[^[:space:]].*: error: ' "$tmp/err" || true)
    loc=${first%%: error: *}
    our_file=$loc our_line=
    if [[ $loc =~ ^(.*):([0-9]+):([0-9]+)$ ]] || [[ $loc =~ ^(.*):([0-9]+)$ ]]; then
        our_file=${BASH_REMATCH[1]}
        our_line=${BASH_REMATCH[2]}
    fi
    our_file=${our_file##*/}

    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        problems+=("timed out after 30 s")
    elif [ "$status" -ge 128 ]; then
        problems+=("crashed: exit status $status (signal $((status - 128)))")
    fi
    if grep -q -E 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error: ' "$tmp/err"; then
        problems+=("sanitizer report")
    fi

    if [ "$isc_exit" -ge 128 ] 2>/dev/null; then
        verdict="ISC crashed, tandemd exit $status"
    elif [ "$isc_exit" = 0 ]; then
        verdict="accepted by ISC, tandemd exit $status"
        [ "$status" -eq 0 ] || [ "$status" -ge 124 ] || problems+=("ISC accepts this file; tandemd rejects it")
    else
        verdict="rejected by ISC, tandemd exit $status"
        if [ "$status" -eq 0 ]; then
            problems+=("ISC rejects this file; tandemd accepts it")
        elif [ "$status" -lt 124 ]; then
            if [ -z "$first" ]; then
                problems+=("rejected without any ': error:' diagnostic")
            elif [[ $isc_diag =~ ^(.*)\ line\ ([0-9]+): ]]; then
                isc_file=${BASH_REMATCH[1]##*/}
                isc_line=${BASH_REMATCH[2]}
                if [ "$our_file" != "$isc_file" ]; then
                    problems+=("first error names file '$our_file', ISC names '$isc_file'")
                elif [ -z "$our_line" ]; then
                    problems+=("first error has no line; ISC names line $isc_line")
                elif [ $((our_line - isc_line)) -gt 1 ] || [ $((isc_line - our_line)) -gt 1 ]; then
                    problems+=("first error at line $our_line, ISC's at line $isc_line")
                fi
            elif [ "$our_file" != "$file" ]; then
                problems+=("first error names '$our_file', not $file")
            fi
        fi
    fi

    if [ "${#problems[@]}" -eq 0 ]; then
        echo "ok $n - $file: $verdict"
    else
        echo "not ok $n - $file: $verdict"
        printf '#   %s\n' "${problems[@]}"
        echo "#   tandemd: ${first:-$(head -n1 "$tmp/err")}"
        echo "#   ISC:     $isc_diag"
    fi
done <"$tmp/list"
exit 0
