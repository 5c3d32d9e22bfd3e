#!/usr/bin/env bash
# Run the integration tests as root, one after the other, as one TAP stream:
#
#   tests/integration/run.sh [TEST...]     TEST: basic, relay.sh, ... (default: all)
#
# Each test's cases are renumbered and prefixed with its name; after each test
# a comment line gives its counts and time, and a case checks that it left no
# namespace behind. A test that dies, times out or reports fewer cases than it
# planned fails here even if every case it printed passed. The last lines are
# the plan and "# integration: N passed, N failed, N skipped in S s"; the exit
# status is non-zero if anything failed.
#
# Environment: SERVER (the server under test, default /usr/sbin/dhcpd; `make
# check-integration` passes $(abs_top_builddir)/tandemd), SERVER_KIND,
# SERVER_ARGS, RESTART_SERVER (see lib.sh and restart.sh), CI (true: a missing
# tool fails instead of skipping), TD_TEST_TIMEOUT (seconds per test, 300),
# TD_KEEP=1 (keep each test's work dir), FAILOVER_TLS=1 (also run
# failover_tls: TLS between two tandemd, TLS_SERVER defaulting to SERVER).
#
# The failover tests (failover_pair, failover_down, failover_partition,
# failover_balance, failover_hostile) run a pair: PRIMARY and SECONDARY (see
# lib.sh; default ISC's dhcpd for both). They run only by name or with
# FAILOVER_TESTS=1 (all five, added to whichever list runs), once per pair
# of FAILOVER_PAIRS: words PRIMARY:SECONDARY, each dhcpd (ISC_DHCPD,
# /usr/sbin/dhcpd), tandemd (TANDEMD, default $top_builddir/tandemd, else
# SERVER if it is a tandemd, else tandemd on PATH) or a path; `all` is the four
# combinations below. A name may carry its own pair: failover_pair@tandemd:dhcpd.
# failover_migrate (ISC's pair, then tandemd in each peer's place) and
# failover_resend (ISC streams 20,000 bindings to tandemd) run once, by name or
# with FAILOVER_TESTS=1.
# Without FAILOVER_PAIRS a failover test named alone takes PRIMARY and SECONDARY
# from the environment, and FAILOVER_TESTS=1 runs dhcpd:dhcpd.
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
ALL_TESTS=(basic relay restart crash interop durability startup badinput reload metrics netio)
FAILOVER_ALL=(failover_pair failover_down failover_partition failover_balance failover_hostile)
FAILOVER_ONCE=(failover_migrate failover_resend) # tandemd with ISC, not per pair
FAILOVER_COMBOS="dhcpd:dhcpd tandemd:dhcpd dhcpd:tandemd tandemd:tandemd"
TIMEOUT=${TD_TEST_TIMEOUT:-300}
export SERVER=${SERVER:-/usr/sbin/dhcpd}
CI=${CI:-}

n=0 passed=0 failed=0 skipped=0
start=$(date +%s)

emit() { # STATUS(ok|not ok) DESC [DIRECTIVE]
    n=$((n + 1))
    echo "$1 $n - $2${3:+ # $3}"
    case "$1 ${3:-}" in
        "ok SKIP"*) skipped=$((skipped + 1)) ;;
        "ok "*) passed=$((passed + 1)) ;;
        *) failed=$((failed + 1)) ;;
    esac
}

finish() {
    echo "1..$n"
    echo "# integration: $passed passed, $failed failed, $skipped skipped in $(($(date +%s) - start)) s"
    [ "$failed" -eq 0 ]
    exit
}

echo "# integration tests: SERVER=$SERVER"
if [ "$(id -u)" -ne 0 ]; then
    if [ "$CI" = true ]; then
        emit "not ok" "integration: must run as root (network namespaces)"
    else
        emit ok "integration: not root" "SKIP network namespaces need root"
    fi
    finish
fi

tests=()
for t in "${@:-${ALL_TESTS[@]}}"; do
    pair=
    case $t in *@*) pair=@${t#*@} t=${t%%@*} ;; esac
    t=${t##*/}
    t=${t%.sh}
    if [ ! -f "$here/$t.sh" ]; then
        emit "not ok" "$t: no such test ($here/$t.sh)"
        continue
    fi
    tests+=("$t$pair")
done
# failover_tls needs two Tandem servers, so it runs only when asked for, by
# name or with FAILOVER_TLS=1 (added to whichever list runs).
if [ "${FAILOVER_TLS:-}" = 1 ] && [[ " ${tests[*]-} " != *" failover_tls "* ]]; then
    tests+=(failover_tls)
fi

# The failover tests: added with FAILOVER_TESTS=1, then one entry per pair;
# failover_migrate (an ISC pair replaced by tandemd one peer at a time, and
# back) and failover_resend (an ISC primary's full resend to tandemd) once,
# not per pair.
if [ "${FAILOVER_TESTS:-}" = 1 ]; then
    for t in "${FAILOVER_ALL[@]}" "${FAILOVER_ONCE[@]}"; do
        [[ " ${tests[*]-} " == *" $t "* ]] || tests+=("$t")
    done
fi
fo_pairs=${FAILOVER_PAIRS:-}
[ "$fo_pairs" = all ] && fo_pairs=$FAILOVER_COMBOS
[ -z "$fo_pairs" ] && [ "${FAILOVER_TESTS:-}" = 1 ] && fo_pairs=dhcpd:dhcpd
expanded=()
for t in "${tests[@]+"${tests[@]}"}"; do
    case $t in
        failover_tls | failover_migrate | failover_resend | *@*) expanded+=("$t") ;;
        failover_*)
            if [ -n "$fo_pairs" ]; then
                for p in $fo_pairs; do expanded+=("$t@$p"); done
            else
                expanded+=("$t")
            fi
            ;;
        *) expanded+=("$t") ;;
    esac
done
tests=("${expanded[@]+"${expanded[@]}"}")

# fo_bin WORD: the binary a pair word names.
fo_bin() {
    case $1 in
        dhcpd | isc) echo "${ISC_DHCPD:-/usr/sbin/dhcpd}" ;;
        tandemd | tandem)
            if [ -n "${TANDEMD:-}" ]; then
                echo "$TANDEMD"
            elif [ -n "${top_builddir:-}" ] && [ -x "$top_builddir/tandemd" ]; then
                echo "$top_builddir/tandemd"
            elif [ "$(basename "$SERVER")" = tandemd ]; then
                echo "$SERVER"
            else
                command -v tandemd || echo tandemd
            fi
            ;;
        *) echo "$1" ;;
    esac
}

# Ctrl-C and SIGTERM reach the running test as well (it shares our process
# group); we wait for its cleanup, then stop.
interrupted=
trap 'interrupted=INT' INT
trap 'interrupted=TERM' TERM

idx=0
for entry in "${tests[@]+"${tests[@]}"}"; do
    idx=$((idx + 1))
    # t names the test in the output: failover_pair[tandemd:dhcpd] for a pair.
    script=${entry%%@*} pair='' t=${entry%%@*}
    fo_env=()
    if [ "$entry" != "$script" ]; then
        pair=${entry#*@}
        t="${script}[$pair]"
        fo_env=("PRIMARY=$(fo_bin "${pair%%:*}")" "SECONDARY=$(fo_bin "${pair#*:}")")
    fi
    case " ${FAILOVER_ONCE[*]} " in *" $script "*) fo_env=("TANDEMD=$(fo_bin tandemd)") ;; esac
    # A run id of our own per test: the namespaces it makes are td<id>-*.
    run_id=$$$(printf '%02d' "$idx")
    t0=$(date +%s)
    err=$(mktemp "${TMPDIR:-/tmp}/tandem-it-stderr.XXXXXX")
    echo "# --- $script.sh${pair:+ (${fo_env[*]})}"
    plan='' cases=0 tfail=0 tpass=0 tskip=0 st=''
    while :; do
        rc=0
        IFS= read -r line || rc=$?
        # A signal (Ctrl-C reaches the test too) interrupts read: keep reading
        # what the test prints while it cleans up.
        [ "$rc" -gt 128 ] && continue
        [ "$rc" -eq 0 ] || break
        case $line in
            __status\ *) st=${line#__status } ;;
            1..*)
                plan=${line#1..}
                plan=${plan%% *}
                if [ "$plan" = 0 ]; then
                    why=${line#*# }
                    [ "$why" = "$line" ] && why="no case"
                    emit ok "$t: all cases" "SKIP ${why#SKIP }"
                    tskip=$((tskip + 1))
                fi
                ;;
            "ok "* | "not ok "*)
                cases=$((cases + 1))
                res=ok
                case $line in "not ok "*) res="not ok" ;; esac
                rest=${line#"$res" }
                rest=${rest#* }        # the number
                rest=${rest#- }
                desc=${rest%% # *}
                dir=
                [ "$desc" != "$rest" ] && dir=${rest#* # }
                emit "$res" "$t: $desc" "$dir"
                case "$res $dir" in
                    "ok SKIP"* | "ok skip"*) tskip=$((tskip + 1)) ;;
                    "ok "*) tpass=$((tpass + 1)) ;;
                    *) tfail=$((tfail + 1)) ;;
                esac
                ;;
            "Bail out!"*)
                emit "not ok" "$t: ${line}"
                tfail=$((tfail + 1))
                ;;
            "#"*) echo "$line" ;;
            *) echo "# $line" ;;
        esac
    done < <(
        env "${fo_env[@]+"${fo_env[@]}"}" TD_RUN_ID="$run_id" \
            timeout --foreground -k 60 "$TIMEOUT" bash "$here/$script.sh" 2>"$err" </dev/null
        echo "__status $?"
    )
    st=${st:-255}
    problems=()
    if [ "$st" -eq 124 ] || [ "$st" -eq 137 ]; then
        problems+=("timed out after $TIMEOUT s")
    fi
    if [ -z "$plan" ]; then
        problems+=("printed no plan")
    elif [ "$plan" != 0 ] && [ "$cases" -ne "$plan" ]; then
        problems+=("planned $plan cases, reported $cases")
    fi
    if [ "$st" -ne 0 ] && [ "$tfail" -eq 0 ] && [ "${#problems[@]}" -eq 0 ]; then
        problems+=("exited with status $st")
    fi
    if [ "${#problems[@]}" -gt 0 ]; then
        emit "not ok" "$t: the script ran to its end"
        printf '#   %s\n' "${problems[@]}"
        tfail=$((tfail + 1))
    fi
    if [ "$tfail" -gt 0 ] && [ -s "$err" ]; then
        echo "#   --- last lines of its stderr"
        tail -n 20 "$err" | cut -c1-240 | sed 's/^/#   | /'
    fi
    rm -f "$err"
    left=$(ip netns list 2>/dev/null | awk -v p="td${run_id}-" 'index($1, p) == 1 { print $1 }' | tr '\n' ' ')
    if [ -z "$left" ]; then
        emit ok "$t: left no network namespace behind"
    else
        emit "not ok" "$t: left no network namespace behind"
        echo "#   still there: $left"
        tfail=$((tfail + 1))
    fi
    echo "# $t.sh: $tpass passed, $tfail failed, $tskip skipped in $(($(date +%s) - t0)) s"
    if [ -n "$interrupted" ]; then
        emit "not ok" "integration: interrupted by SIG$interrupted after $t.sh"
        break
    fi
done
finish
