#!/usr/bin/env bash
# What Tandem does today, from a fresh clone on Debian 12 (as root):
# install the build dependencies, build tandemd in build/ (or use the binary
# that $TANDEMD names), and check the example failover pair in examples/ with
# `tandemd -t`, the way an admin checks an ISC dhcpd configuration.
set -u

cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
JOBS=${JOBS:-2}

if [ -t 1 ]; then
    say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
else
    say() { printf '\n== %s\n' "$*"; }
fi
run() {
    printf '$ %s\n' "$*"
    "$@"
}
fail() {
    echo "demo: $*" >&2
    exit 1
}

if [ -n "${TANDEMD:-}" ]; then
    # A binary built elsewhere: skip the build.
    tandemd=$(cd "$(dirname "$TANDEMD")" && pwd)/$(basename "$TANDEMD")
    say "1-2. Using $tandemd"
else
    say "1. Build dependencies (scripts/setup-deps.sh --build)"
    bash scripts/setup-deps.sh --build || fail "could not install the build dependencies"

    say "2. Build tandemd in build/ (log: build/demo-build.log)"
    mkdir -p build
    log=$ROOT/build/demo-build.log
    (
        set -e
        if [ ! -x configure ] || [ configure.ac -nt configure ]; then autoreconf -fi; fi
        if [ ! -f build/Makefile ]; then cd build && ../configure && cd ..; fi
        timeout 1800 make -C build -j"$JOBS" tandemd
    ) >"$log" 2>&1 </dev/null || {
        tail -n 30 "$log" >&2
        fail "the build failed; see $log"
    }
    tandemd=$ROOT/build/tandemd
    echo "built $tandemd"
fi
[ -x "$tandemd" ] || fail "no $tandemd"

# The examples include "dhcpd.master" with a relative path, which ISC dhcpd
# (and so Tandem) opens against the working directory: run from examples/.
cd "$ROOT/examples" || exit 1
status_all=0

say "3. Check the primary's configuration"
run "$tandemd" -t -cf primary.conf
st=$?
echo "exit status $st ($([ $st -eq 0 ] && echo valid || echo "has errors"))"
[ $st -eq 0 ] || status_all=1

say "4. Check the secondary's configuration"
run "$tandemd" -t -cf secondary.conf
st=$?
echo "exit status $st ($([ $st -eq 0 ] && echo valid || echo "has errors"))"
[ $st -eq 0 ] || status_all=1

if [ -x /usr/sbin/dhcpd ]; then
    say "   ISC dhcpd's verdict on the same files, for comparison"
    for c in primary.conf secondary.conf; do
        /usr/sbin/dhcpd -4 -t -q -cf "$c" >/dev/null 2>&1
        echo "dhcpd -t -cf $c: exit status $?"
    done
fi

say "5. What tandemd understood: tandemd -t -v -cf primary.conf"
run "$tandemd" -t -v -cf primary.conf 2>/dev/null || status_all=1

say "6. What tandemd understood: tandemd -t -v -cf secondary.conf"
run "$tandemd" -t -v -cf secondary.conf 2>/dev/null || status_all=1

say "7. A broken copy: the secondary with a split, which only a primary may have"
work=$(mktemp -d "${TMPDIR:-/tmp}/tandem-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp dhcpd.master "$work/"
sed 's/^\( *\)load balance max seconds 3;/&\n\1split 128;/' secondary.conf >"$work/secondary.conf"
cd "$work" || exit 1
grep -n '^ *split' secondary.conf
run "$tandemd" -t -cf secondary.conf
echo "exit status $? (1 is expected here: the error above names the file, line and column)"
if [ -x /usr/sbin/dhcpd ]; then
    echo "ISC dhcpd on the same file:"
    /usr/sbin/dhcpd -4 -t -cf secondary.conf 2>&1 | grep -m1 -A2 'line [0-9]*:'
fi

say "That is all this milestone does"
cat <<'EOF'
tandemd reads ISC dhcpd's configuration language and checks it as ISC dhcpd -t
does, with every error at file:line:col. The DHCP server itself, the lease file
and the failover protocol come in the next milestone: started without -t,
tandemd says so and exits.
Full test suite: sudo scripts/test-all.sh
EOF
exit "$status_all"
