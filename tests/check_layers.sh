#!/usr/bin/env bash
# The layer rules of ARCHITECTURE.md §1, checked on the sources' #include lines.
# TAP: one case per rule. A quoted include with a folder names the layer it
# reaches into; one without a folder ("config.h", "parser.hh") stays in the
# including file's own folder or is the build's config.h, and is always allowed.
#
#   common/    -> common/
#   conf/      -> common/, conf/                 (and no libevent, no sockets)
#   server/    -> common/, conf/, server/        (server/main.cc may include anything)
#   failover/  -> common/, conf/, server/, failover/
#   OpenSSL is included by common/crypto.{h,cc} only.
set -u

srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$srcdir" || { echo "1..1"; echo "not ok 1 - cannot enter $srcdir"; exit 0; }

# Every C++ source a layer owns, generated parser and scanner included when present.
sources() {
    [ -d "$1" ] || return 0
    find "$1" -type f \( -name '*.h' -o -name '*.hh' -o -name '*.cc' -o -name '*.ll' -o -name '*.yy' \) | LC_ALL=C sort
}

# Print "file:line: include" for every quoted include of the files on stdin.
quoted_includes() {
    while IFS= read -r f; do
        awk -v f="$f" '
            match($0, /^[ \t]*#[ \t]*include[ \t]*"[^"]+"/) {
                s = substr($0, RSTART, RLENGTH); sub(/^[^"]*"/, "", s); sub(/"$/, "", s)
                print f ":" FNR ": " s
            }' "$f"
    done
}

n=0
# rule NAME LAYER ALLOWED-FOLDERS EXEMPT-FILES
rule() {
    local name=$1 layer=$2 allowed=" $3 " exempt=" ${4:-} " bad=() line file inc top
    while IFS= read -r line; do
        file=${line%%:*}
        inc=${line#*: }
        case "$exempt" in *" $file "*) continue ;; esac
        case "$inc" in */*) top=${inc%%/*} ;; *) continue ;; esac
        case "$allowed" in *" $top "*) ;; *) bad+=("$line") ;; esac
    done < <(sources "$layer" | quoted_includes)
    report "$name" "include against the layering" "${bad[@]+"${bad[@]}"}"
}

# report NAME WHY [OFFENDING-LINES...]
report() {
    local name=$1 why=$2
    shift 2
    n=$((n + 1))
    if [ $# -eq 0 ]; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name"
        printf "# $why: %s\n" "$@"
    fi
}

echo "1..6"
rule "common/ includes only common/" common "common"
rule "conf/ includes only common/ and conf/" conf "common conf"
rule "server/ includes only common/, conf/ and server/ (except server/main.cc)" server "common conf server" "server/main.cc"
rule "failover/ includes only common/, conf/, server/ and failover/" failover "common conf server failover"

# conf/ turns text into a model: no event loop and no sockets (ARCHITECTURE.md §1).
bad=()
while IFS= read -r f; do
    while IFS= read -r l; do bad+=("$f:$l"); done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(event2?/|event\.h|sys/socket\.h)' "$f")
done < <(sources conf)
report "conf/ includes no libevent and no socket header" "forbidden in conf/" "${bad[@]+"${bad[@]}"}"

# common/crypto is the one place that sees OpenSSL.
bad=()
while IFS= read -r f; do
    case "$f" in common/crypto.h | common/crypto.cc) continue ;; esac
    while IFS= read -r l; do bad+=("$f:$l"); done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<openssl/' "$f")
done < <(for d in common conf server failover; do sources "$d"; done)
report "only common/crypto.{h,cc} includes OpenSSL" "OpenSSL outside common/crypto" "${bad[@]+"${bad[@]}"}"

exit 0
