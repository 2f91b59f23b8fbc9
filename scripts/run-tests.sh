#!/bin/sh
# Runs every suite against the binaries in $BUILD and prints "N passed, N failed".
# Unit suites are cmocka binaries (build/<mode>/tests/test_*); end-to-end suites are
# tests/e2e/*.sh, which print cmocka-style "[ PASSED ]"/"[ FAILED ]" lines per case.
# VALGRIND=1 runs the unit suites under valgrind --leak-check=full.
#
# A case that is skipped ("[  SKIPPED ] name") counts as a failure: on a machine set up
# with scripts/deps.sh nothing may be skipped, and a skip must not pass in silence; so
# does a suite that runs no case at all.
# Each suite has a time limit, SUITE_TIMEOUT seconds (default 1200, four times that under
# valgrind): a suite still running then is stopped (SIGTERM to it and every process it
# started, SIGKILL 30 s later) and counted as a failure, so a hang fails CI instead of
# hanging it. The slowest suite takes about 2 minutes alone on 2 cores.
# The end-to-end suites named in PG_E2E exercise the hub and run a second time with the
# hub on PostgreSQL, as suites of their own named NAME@pg (LK_STORE=pg: tests/e2e/lib.sh
# gives each its own throw-away server, scripts/pg-test-server.sh). PG_ENV_NAME holds
# settings for NAME@pg only: the slowest suite runs there with fewer rounds, so that
# `make test` stays well under 15 minutes on 2 cores (faults: 3 crash-loop rounds and 40
# agents at once instead of 10 and 200; the SQLite run keeps the full set).
# UNIT_SUITES and E2E_SUITES (directories) replace build/<mode>/tests and tests/e2e;
# tests/e2e/setup.sh uses them to test this runner.
set -u
BUILD=${BUILD:-build/asan}
export BUILD
export LK_BIN="$BUILD"
UNIT_SUITES=${UNIT_SUITES:-$BUILD/tests}
E2E_SUITES=${E2E_SUITES:-tests/e2e}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-1200}
PG_E2E=${PG_E2E-sync faults badinput operations dashboard migrate}
PG_ENV_faults=${PG_ENV_faults-FAULTS_CRASH_ITERATIONS=3 FAULTS_CONCURRENT_AGENTS=40}
[ "${VALGRIND:-0}" = 1 ] && SUITE_TIMEOUT=$((SUITE_TIMEOUT * 4))
passed=0; failed=0
log=$(mktemp -d)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# names PATTERN FILE — the distinct case names on lines "PATTERN name…" (cmocka prints a
# failed or skipped case twice: when it happens and in its summary).
names() { sed -n "s/^$1 \([A-Za-z_][^ :]*\).*/\1/p" "$2" | sort -u; }
FAILED_RE='\[  FAILED  \]'
SKIPPED_RE='\[  SKIPPED \]'
# run_suite NAME COMMAND... — runs one suite under the time limit, its output in
# $log/NAME, and adds its cases to passed/failed.
run_suite() {
	name=$1; shift
	out="$log/$name"
	t0=$(date +%s)
	# stdin from /dev/null: timeout runs the suite in a process group of its own, which
	# must never wait on a terminal.
	timeout -k 30 "$SUITE_TIMEOUT" "$@" </dev/null >"$out" 2>&1
	rc=$?
	secs=$(( $(date +%s) - t0 ))
	p=$(grep -c '^\[       OK \]' "$out")
	f=$(names "$FAILED_RE" "$out" | wc -l)
	s=$(names "$SKIPPED_RE" "$out" | wc -l)
	passed=$((passed + p)); failed=$((failed + f + s))
	echo "  $p passed, $((f + s)) failed ($secs s)"
	if [ "$s" -gt 0 ]; then
		names "$SKIPPED_RE" "$out" | sed 's/^/  skipped, counted as a failure: /'
	fi
	if [ $rc -eq 124 ] || [ $rc -eq 137 ] && [ "$secs" -ge "$SUITE_TIMEOUT" ]; then
		echo "  suite $name TIMED OUT: still running after its limit of $SUITE_TIMEOUT s; stopped and counted as one failure"
		failed=$((failed + 1))
	elif [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "  suite $name exited $rc without a failed case: counted as one failure"
		failed=$((failed + 1))
	elif [ $((p + f + s)) -eq 0 ]; then
		echo "  suite $name ran no case: counted as one failure"
		failed=$((failed + 1))
	fi
	if [ $rc -ne 0 ] || [ "$s" -gt 0 ]; then sed 's/^/    /' "$out" | tail -60; fi
}
for t in "$UNIT_SUITES"/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	echo "== $name"
	if [ "${VALGRIND:-0}" = 1 ]; then
		run_suite "$name" valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 "$t"
	else
		run_suite "$name" "$t"
	fi
done
# Under valgrind (make valgrind) the end-to-end suites named in VALGRIND_E2E run with
# every hub and agent process under valgrind (tests/e2e/lib.sh, LK_VALGRIND).
if [ "${VALGRIND:-0}" = 1 ]; then export LK_VALGRIND=1; fi
for t in "$E2E_SUITES"/*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	if [ "${VALGRIND:-0}" = 1 ]; then
		case " ${VALGRIND_E2E:-sync} " in *" $name "*) ;; *) continue ;; esac
	fi
	case "$name" in lib|*_lib) continue ;; esac  # sourced helpers, not suites
	echo "== e2e/$name"
	run_suite "$name" sh "$t"
	case " $PG_E2E " in *" $name "*)
		echo "== e2e/$name@pg"
		# shellcheck disable=SC2046 # the settings are words: NAME=VALUE …
		run_suite "$name@pg" env LK_STORE=pg $(eval echo "\${PG_ENV_$name:-}") sh "$t" ;;
	esac
done
rm -rf "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
