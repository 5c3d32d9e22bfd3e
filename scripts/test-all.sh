#!/usr/bin/env bash
# Every test Tandem has, from a fresh clone on Debian 12, as root:
#
#   1. setup-deps           the packages (scripts/setup-deps.sh)
#   2. autoreconf -fi
#   3. build/               --enable-werror: make, make check, make
#                           check-integration (as root; INTEGRATION_SERVER,
#                           default /usr/sbin/dhcpd), make distcheck
#   4. build-asan/          --enable-sanitizers --enable-werror: make check
#   5. build-fuzz/          clang --enable-fuzzing: every fuzz/fuzz_* program
#                           for FUZZ_SECONDS (60) on a copy of its seeds
#   6. man pages            mandoc -Tlint; examples/ against ISC dhcpd -t
#   7. Debian package       scripts/check-deb.sh: build the .deb, lintian,
#                           install, check, purge (build-deb/)
#
# No stage stops the others. Every TAP line of a test suite counts as one case
# (the # PASS/# FAIL/# XPASS/# ERROR totals of each test-suite.log), every other
# stage as one case. The last line is "N passed, N failed"; the exit status is
# non-zero if anything failed. Under CI=true a missing tool fails its stage
# instead of skipping it. Logs go to build-logs/.
#
# Environment: TANDEM_SHARED (the shared/ folder; default ../shared beside the
# tree), FUZZ_SECONDS (60), TEST_ALL_BUDGET (seconds for the whole run, 3300),
# JOBS (make -j, 2).
set -u

cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
LOGS=$ROOT/build-logs
JOBS=${JOBS:-2}
export JOBS
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
BUDGET=${TEST_ALL_BUDGET:-3300}
START=$(date +%s)
CI=${CI:-}
export LC_ALL=C

rm -rf "$LOGS"
mkdir -p "$LOGS"

passed=0
failed=0
skipped=0
failures=()

shared=${TANDEM_SHARED:-$ROOT/../shared}
shared_flag=()
if [ -d "$shared" ]; then
    shared=$(cd "$shared" && pwd)
    shared_flag=(--with-shared="$shared")
fi

# ---- bookkeeping -----------------------------------------------------------

elapsed() { echo $(($(date +%s) - START)); }

# The stage's time limit: its own, cut to what is left of the whole budget.
limit() {
    local left=$((BUDGET - $(elapsed)))
    [ "$left" -lt "$1" ] && echo "$left" || echo "$1"
}

case_pass() {
    passed=$((passed + 1))
    echo "--- PASS: $1"
}

case_fail() {
    failed=$((failed + 1))
    failures+=("$1")
    echo "--- FAIL: $1${2:+ ($2)}"
}

# A tool that is missing: a failure on CI, a skip elsewhere.
case_missing() {
    if [ "$CI" = true ]; then
        case_fail "$1" "missing tool: $2"
    else
        skipped=$((skipped + 1))
        echo "--- SKIP: $1 (missing tool: $2)"
    fi
}

show_tail() {
    [ -s "$1" ] || return 0
    # Compiler and make errors first: with V=1 the tail alone is mostly command lines.
    if grep -q -E '(error|warning): |\*\*\* |undefined reference' "$1"; then
        echo "    first errors in ${1#"$ROOT"/}:"
        grep -E '(error|warning): |\*\*\* |undefined reference' "$1" | head -n 20 | cut -c1-300 | sed 's/^/    | /'
    fi
    echo "    last lines of ${1#"$ROOT"/}:"
    tail -n "${2:-30}" "$1" | cut -c1-300 | sed 's/^/    | /'
}

# stage NAME SECONDS LOG COMMAND...: run one bounded step; its status is returned.
stage() {
    local name=$1 secs log=$3 t0 status=0
    secs=$(limit "$2")
    shift 3
    echo
    echo "=== $name  (at $(elapsed) s, limit ${secs} s)"
    if [ "$secs" -lt 30 ]; then
        echo "out of time: not run" >"$log"
        return 125
    fi
    t0=$(date +%s)
    timeout -k 30 "$secs" "$@" >"$log" 2>&1 </dev/null || status=$?
    echo "    status $status after $(($(date +%s) - t0)) s; log: ${log#"$ROOT"/}"
    [ "$status" -eq 124 ] && echo "    timed out after $secs s"
    return "$status"
}

# step NAME SECONDS LOG COMMAND...: a stage that is one case.
step() {
    local name=$1 log=$3 status=0
    stage "$@" || status=$?
    if [ "$status" -eq 0 ]; then
        case_pass "$name"
    else
        case_fail "$name" "status $status"
        show_tail "$log"
    fi
    return "$status"
}

# suite NAME BUILDDIR SECONDS [MAKE ARGS...]: `make check` counted case by case.
suite() {
    local name=$1 dir=$2 secs=$3 log status=0 p f x e s xf
    shift 3
    log=$LOGS/$name.log
    rm -f "$dir/test-suite.log"
    stage "$name" "$secs" "$log" make -C "$dir" -j"$JOBS" check "$@" || status=$?
    read -r p f x e s xf < <(suite_totals "$dir/test-suite.log")
    passed=$((passed + p))
    failed=$((failed + f + x + e))
    skipped=$((skipped + s + xf))
    echo "    $name: $p passed, $((f + x + e)) failed, $((s + xf)) skipped or expected to fail"
    if [ "$((f + x + e))" -gt 0 ]; then
        failures+=("$name: $((f + x + e)) failing test case(s)")
        # Each failing case with the TAP comments under it, and whole programs
        # that errored (crashed, bailed out, or printed a wrong plan).
        awk '
            /^(not ok|Bail out)/ { p = 1; print; next }
            p && /^(#|FAIL:|XPASS:|ERROR:)/ { if ($0 !~ /^FAIL:/) print; next }
            { p = 0 }
            /^ERROR: / { print }
        ' "$dir/test-suite.log" | sed 's/^/    | /' | head -n 150
    fi
    if [ "$status" -ne 0 ] && [ "$((f + x + e))" -eq 0 ]; then
        # make failed before or around the tests (a test program that did not build).
        case_fail "$name: make check" "status $status"
        show_tail "$log"
    elif [ "$status" -eq 0 ] && [ "$((p + f + x + e + s + xf))" -eq 0 ]; then
        case_fail "$name: make check" "no test ran"
    fi
}

# The first totals of a test-suite.log: PASS FAIL XPASS ERROR SKIP XFAIL.
suite_totals() {
    [ -f "$1" ] || { echo "0 0 0 0 0 0"; return; }
    awk '
        /^# (PASS|FAIL|XPASS|ERROR|SKIP|XFAIL): *[0-9]+$/ {
            k = $2; sub(":", "", k); if (!(k in v)) v[k] = $3
        }
        /^# ERROR:/ { exit }
        END { printf "%d %d %d %d %d %d\n", v["PASS"], v["FAIL"], v["XPASS"], v["ERROR"], v["SKIP"], v["XFAIL"] }
    ' "$1"
}

# A fresh build tree: build_tree DIR CONFIGURE-ARGS... (run under `step`).
# shellcheck disable=SC2016
BUILD_TREE='set -e; dir=$1; shift
    cd "$ROOT"; rm -rf "$dir"; mkdir "$dir"; cd "$dir"
    ../configure "$@"
    make -j"$JOBS" V=1'
export ROOT

need() {
    local t
    for t in "$@"; do command -v "$t" >/dev/null 2>&1 || { echo "$t"; return 1; }; done
}

# ---- 1. packages -----------------------------------------------------------

echo "Tandem test-all: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) cores, budget ${BUDGET} s"
echo "shared folder: ${shared_flag[*]:-(not found: $shared)}"
step "setup-deps" 2400 "$LOGS/setup-deps.log" bash scripts/setup-deps.sh || true

# ---- 2. bootstrap ----------------------------------------------------------

if missing=$(need autoreconf make g++ pkg-config bison flex); then
    step "autoreconf -fi" 300 "$LOGS/autoreconf.log" autoreconf -fi || true
else
    case_missing "autoreconf -fi" "$missing"
fi

# ---- 3. the main build: werror, check, distcheck ---------------------------

if step "build (--enable-werror)" 1800 "$LOGS/build.log" \
        bash -c "$BUILD_TREE" _ build --enable-werror "${shared_flag[@]}"; then
    suite "check" "$ROOT/build" 1200
    # Integration tests (tests/integration/, namespaces and real clients), one
    # case per TAP line, against the tandemd just built (INTEGRATION_SERVER may
    # name another, e.g. /usr/sbin/dhcpd, to check the tests themselves).
    ilog=$LOGS/check-integration.log istatus=0
    # With the failover tests for every pair that has a tandemd in it (ISC with
    # ISC only proves the tests themselves) and TLS between two tandemd.
    stage "check-integration" 1800 "$ilog" make -C "$ROOT/build" check-integration \
        SERVER="${INTEGRATION_SERVER:-$ROOT/build/tandemd}" FAILOVER_TESTS=1 FAILOVER_TLS=1 \
        FAILOVER_PAIRS="${FAILOVER_PAIRS:-tandemd:dhcpd dhcpd:tandemd tandemd:tandemd}" || istatus=$?
    ipass=$(grep -E '^ok ' "$ilog" | grep -c -v -E '# (SKIP|skip)')
    iskip=$(grep -c -E '^ok .*# (SKIP|skip)' "$ilog")
    ifail=$(grep -c -E '^not ok ' "$ilog")
    passed=$((passed + ipass)) failed=$((failed + ifail)) skipped=$((skipped + iskip))
    echo "    check-integration: $ipass passed, $ifail failed, $iskip skipped"
    if [ "$ifail" -gt 0 ]; then
        failures+=("check-integration: $ifail failing test case(s)")
        awk '/^not ok/ { p = 1; print; next } p && /^#   / { print; next } { p = 0 }' "$ilog" |
            sed 's/^/    | /' | head -n 150
    elif [ "$istatus" -ne 0 ] || [ "$((ipass + iskip))" -eq 0 ]; then
        case_fail "check-integration" "status $istatus, $((ipass + iskip)) case(s)"
        show_tail "$ilog"
    fi
    step "distcheck" 2400 "$LOGS/distcheck.log" \
        make -C "$ROOT/build" -j"$JOBS" distcheck \
        DISTCHECK_CONFIGURE_FLAGS="--enable-werror ${shared_flag[*]}" || true
else
    case_fail "check" "not run: the build failed"
    case_fail "check-integration" "not run: the build failed"
    case_fail "distcheck" "not run: the build failed"
fi

# ---- 4. sanitizers ---------------------------------------------------------

# A sanitizer report must end the process with a signal, so that no script
# can take it for an ordinary exit status 1.
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1
if step "build-asan (--enable-sanitizers --enable-werror)" 1800 "$LOGS/build-asan.log" \
        bash -c "$BUILD_TREE" _ build-asan --enable-sanitizers --enable-werror "${shared_flag[@]}"; then
    suite "check-asan" "$ROOT/build-asan" 1500
else
    case_fail "check-asan" "not run: the build failed"
fi
unset ASAN_OPTIONS UBSAN_OPTIONS

# ---- 5. fuzzing ------------------------------------------------------------

targets=()
for src in "$ROOT"/fuzz/fuzz_*.cc; do
    [ -e "$src" ] || continue
    t=${src##*/}
    targets+=("${t%.cc}")
done
if [ "${#targets[@]}" -eq 0 ]; then
    echo
    echo "=== fuzz: no fuzz/fuzz_*.cc target in the tree"
elif ! missing=$(need clang clang++); then
    case_missing "build-fuzz" "$missing"
    for t in "${targets[@]}"; do case_missing "fuzz $t" "$missing"; done
else
    step "build-fuzz (clang --enable-fuzzing)" 1800 "$LOGS/build-fuzz.log" \
        bash -c "$BUILD_TREE" _ build-fuzz CC=clang CXX=clang++ --enable-fuzzing "${shared_flag[@]}" || true
    for t in "${targets[@]}"; do
        exe=$ROOT/build-fuzz/fuzz/$t
        if [ ! -x "$exe" ]; then
            case_fail "fuzz $t" "not built"
            continue
        fi
        work=$(mktemp -d "${TMPDIR:-/tmp}/tandem-fuzz-$t.XXXXXX")
        mkdir -p "$work/corpus" "$work/artifacts"
        seeds=$ROOT/fuzz/corpus/${t#fuzz_}
        [ -d "$seeds" ] || seeds=$ROOT/fuzz/corpus/$t
        [ -d "$seeds" ] && cp -R "$seeds"/. "$work/corpus/"
        dict=()
        for d in "$ROOT/fuzz/${t#fuzz_}.dict" "$ROOT/fuzz/$t.dict"; do
            [ -f "$d" ] && dict=(-dict="$d") && break
        done
        status=0
        stage "fuzz $t (${FUZZ_SECONDS} s)" $((FUZZ_SECONDS + 120)) "$LOGS/fuzz-$t.log" \
            "$exe" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
            -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
            "${dict[@]+"${dict[@]}"}" "$work/corpus" || status=$?
        artifacts=$(find "$work/artifacts" -type f | wc -l)
        if [ "$status" -eq 0 ] && [ "$artifacts" -eq 0 ]; then
            case_pass "fuzz $t"
        else
            mkdir -p "$LOGS/fuzz-artifacts/$t"
            cp -R "$work/artifacts/." "$LOGS/fuzz-artifacts/$t/" 2>/dev/null || true
            case_fail "fuzz $t" "status $status, $artifacts crash/leak/timeout input(s) in build-logs/fuzz-artifacts/$t"
            show_tail "$LOGS/fuzz-$t.log" 40
        fi
        rm -rf "$work"
    done
fi

# ---- 6. documents and examples ---------------------------------------------

mans=("$ROOT"/man/*.[1-8])
if [ ! -e "${mans[0]}" ]; then
    echo
    echo "=== man pages: none in man/"
elif missing=$(need mandoc); then
    # shellcheck disable=SC2016
    step "man pages (mandoc -Tlint)" 120 "$LOGS/mandoc.log" bash -c '
        status=0
        for m in "$@"; do
            out=$(mandoc -Tlint -Wwarning "$m" 2>&1) || status=1
            [ -z "$out" ] || { echo "$out"; status=1; }
        done
        exit $status' _ "${mans[@]}" || true
else
    case_missing "man pages (mandoc -Tlint)" "$missing"
fi

if [ -x /usr/sbin/dhcpd ]; then
    # shellcheck disable=SC2016
    step "examples accepted by ISC dhcpd -t" 120 "$LOGS/examples-isc.log" bash -c '
        set -e
        work=$(mktemp -d); trap "rm -rf \"$work\"" EXIT
        cp -R "$1/examples/." "$work/"
        cd "$work"
        for c in primary.conf secondary.conf; do
            echo "## dhcpd -4 -t -cf $c"
            /usr/sbin/dhcpd -4 -t -cf "$c"
        done' _ "$ROOT" || true
else
    case_missing "examples accepted by ISC dhcpd -t" "/usr/sbin/dhcpd (isc-dhcp-server)"
fi

# ---- 7. the Debian package -------------------------------------------------

# Builds the .deb from a copy of the tree, lints it, installs it, checks it
# (files, man pages, the unit and its sandbox in a network namespace) and
# purges it: one case here, one TAP line per check in its log.
if missing=$(need dpkg-buildpackage dh fakeroot lintian); then
    step "debian package (scripts/check-deb.sh)" 900 "$LOGS/check-deb.log" \
        env JOBS="$JOBS" bash scripts/check-deb.sh || true
else
    case_missing "debian package (scripts/check-deb.sh)" "$missing"
fi

# ---- summary ---------------------------------------------------------------

echo
echo "=== summary after $(elapsed) s"
if [ "${#failures[@]}" -gt 0 ]; then
    printf '    failed: %s\n' "${failures[@]}"
fi
[ "$skipped" -eq 0 ] || echo "    $skipped case(s) skipped or expected to fail"
echo "    logs: build-logs/"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
