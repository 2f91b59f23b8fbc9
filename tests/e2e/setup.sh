#!/bin/sh
# setup — the set-up and the test machinery themselves (issue 12, items 12 and 13):
#   * every program the scripts run (scripts/, tests/e2e/, bench/, the Makefile's
#     recipes, .ci/run) is installed by scripts/deps.sh or is part of Debian's required
#     set (tests/e2e/commands.py);
#   * scripts/run-tests.sh counts a skipped case and a suite that runs no case as
#     failures, a failed case once, and stops a suite that outlives its time limit, with
#     every process it started, and counts it as a failure;
#   * scripts/demo.sh, when a phase fails, says which phase, why and where its log is,
#     and stops every process it started — by PID, with no `ps` on the machine.
# Run from the repository root; $LK_BIN is the build directory (make all-tests).
set -u
. tests/e2e/lib.sh

# ---- every command comes from deps.sh ----------------------------------------------------
if python3 tests/e2e/commands.py scripts/*.sh tests/e2e/*.sh tests/deb/*.sh bench/*.sh .ci/run Makefile win.mk \
	bench/*.mk >"$E2E_DIR/commands.out" 2>&1; then
	ok setup__every_command_the_scripts_run_is_installed_by_deps_sh
else
	fail setup__every_command_the_scripts_run_is_installed_by_deps_sh \
		"$(head -5 "$E2E_DIR/commands.out" | tr '\n' ' ')"
fi

# ---- the runner ------------------------------------------------------------------------
# A unit suite (a cmocka binary, here a script printing what cmocka prints) with a case
# passed, one skipped and one failed — cmocka prints both twice —, an end-to-end suite
# with a case passed and one skipped: 2 passed, 3 failed.
R="$E2E_DIR/runner"
mkdir -p "$R/unit" "$R/e2e" "$R/hang"
cat >"$R/unit/test_fake" <<'SUITE'
#!/bin/sh
echo "[==========] Running 3 test(s)."
echo "[       OK ] fake__passes"
echo "[  SKIPPED ] fake__is_skipped"
echo "[  FAILED  ] fake__fails"
echo "[  PASSED  ] 1 test(s)."
echo "[  SKIPPED ] 1 test(s), listed below:"
echo "[  SKIPPED ] fake__is_skipped"
echo "[  FAILED  ] 1 test(s), listed below:"
echo "[  FAILED  ] fake__fails"
exit 1
SUITE
chmod +x "$R/unit/test_fake"
cat >"$R/e2e/skipper.sh" <<'SUITE'
echo "[       OK ] skipper__passes"
echo "[  SKIPPED ] skipper__needs_a_tool: the tool is not installed"
exit 0
SUITE
# A suite that runs no case at all (it found nothing to do and said nothing) fails too.
: >"$R/e2e/silent.sh"
UNIT_SUITES="$R/unit" E2E_SUITES="$R/e2e" sh scripts/run-tests.sh >"$R/skip.out" 2>&1
rc=$?
last=$(tail -n 1 "$R/skip.out")
if [ $rc -ne 0 ] && [ "$last" = "2 passed, 4 failed" ] &&
	grep -q 'skipped, counted as a failure: skipper__needs_a_tool' "$R/skip.out"; then
	ok setup__runner_counts_a_skipped_case_as_a_failure
else
	fail setup__runner_counts_a_skipped_case_as_a_failure "exit $rc, last line '$last', want '2 passed, 4 failed'"
fi
if grep -q '^  suite silent ran no case: counted as one failure' "$R/skip.out"; then
	ok setup__runner_fails_a_suite_that_runs_no_case
else
	fail setup__runner_fails_a_suite_that_runs_no_case "$(grep -A1 '== e2e/silent' "$R/skip.out" | tr '\n' ' ')"
fi
if grep -q '^  1 passed, 2 failed' "$R/skip.out"; then
	ok setup__runner_counts_a_case_cmocka_prints_twice_once
else
	fail setup__runner_counts_a_case_cmocka_prints_twice_once "$(grep -A1 '== test_fake' "$R/skip.out" | tr '\n' ' ')"
fi

# A suite that hangs, with a process of its own in the background: past SUITE_TIMEOUT
# both are stopped and the suite counts as one failure, with a line saying so.
cat >"$R/hang/hang.sh" <<SUITE
sleep 300 &
echo \$! >"$R/hang.bg"
echo "[       OK ] hang__started"
sleep 300
SUITE
t0=$(date +%s)
UNIT_SUITES="$R/none" E2E_SUITES="$R/hang" SUITE_TIMEOUT=2 sh scripts/run-tests.sh >"$R/hang.out" 2>&1
rc=$?
t1=$(date +%s)
bg=$(cat "$R/hang.bg" 2>/dev/null)
last=$(tail -n 1 "$R/hang.out")
if [ $rc -ne 0 ] && [ "$last" = "1 passed, 1 failed" ] && [ $((t1 - t0)) -lt 60 ] &&
	grep -q 'suite hang TIMED OUT: still running after its limit of 2 s' "$R/hang.out"; then
	ok setup__runner_fails_a_suite_past_its_time_limit
else
	fail setup__runner_fails_a_suite_past_its_time_limit "exit $rc in $((t1 - t0)) s, last line '$last'; $(grep hang "$R/hang.out" | tr '\n' ' ')"
fi
i=0
while [ -n "$bg" ] && kill -0 "$bg" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ -n "$bg" ] && ! kill -0 "$bg" 2>/dev/null; then
	ok setup__runner_stops_the_processes_of_a_timed_out_suite
else
	fail setup__runner_stops_the_processes_of_a_timed_out_suite "its background process '$bg' still runs"
	[ -z "$bg" ] || kill "$bg" 2>/dev/null
fi

# ---- the PostgreSQL test server ----------------------------------------------------------
# scripts/pg-test-server.sh (the LK_STORE=pg suites' server): started in a folder of its
# own, as an unprivileged user when root, on 127.0.0.1 only; its URL answers; stop ends
# it by the PID in postmaster.pid and waits for it; lib.sh's hub_db and hub_sql use it.
PGD=$(mktemp -d "${TMPDIR:-/tmp}/lk-setup-pg.XXXXXX")
t0=$(date +%s)
pg_url=$(sh scripts/pg-test-server.sh start "$PGD" 2>"$E2E_DIR/pg.err")
t1=$(date +%s)
pg_pid=$(head -n 1 "$PGD/data/postmaster.pid" 2>/dev/null)
pg_uid=$(awk '/^Uid:/ { print $2 }' "/proc/${pg_pid:-none}/status" 2>/dev/null)
pg_listen=$(psql -X -A -t -d "$pg_url" -c "SELECT current_setting('listen_addresses') || ' ' || current_database()" 2>&1)
case "$pg_url" in postgresql://lienket@127.0.0.1:[0-9]*/lienket) url_ok=1 ;; *) url_ok=0 ;; esac
if [ "$url_ok" = 1 ] && [ "$pg_listen" = "127.0.0.1 lienket" ] && [ -n "$pg_uid" ] &&
	{ [ "$(id -u)" != 0 ] || [ "$pg_uid" != 0 ]; } && [ $((t1 - t0)) -le 20 ]; then
	ok setup__pg_test_server_starts_unprivileged_on_loopback
else
	fail setup__pg_test_server_starts_unprivileged_on_loopback "url '$pg_url', server uid '$pg_uid', \
'$pg_listen', $((t1 - t0)) s; $(tail -3 "$E2E_DIR/pg.err" | tr '\n' ' ')"
fi
sh scripts/pg-test-server.sh stop "$PGD" >"$E2E_DIR/pg-stop.out" 2>&1; rc=$?
if [ $rc -eq 0 ] && [ -n "$pg_pid" ] && ! kill -0 "$pg_pid" 2>/dev/null &&
	! psql -X -d "$pg_url" -c 'SELECT 1' >/dev/null 2>&1; then
	ok setup__pg_test_server_stops_by_its_pid
else
	fail setup__pg_test_server_stops_by_its_pid "exit $rc, pid '$pg_pid'; $(tr '\n' ' ' <"$E2E_DIR/pg-stop.out")"
	[ -z "$pg_pid" ] || kill -QUIT "$pg_pid" 2>/dev/null
fi
rm -rf "$PGD"
cat >"$E2E_DIR/pgsuite.sh" <<'SUITE'
. tests/e2e/lib.sh
D=$(hub_db first)
hub_sql "$D" "CREATE TABLE t(a int, b text)" && hub_sql "$D" "INSERT INTO t VALUES (1, 'một'), (2, NULL)"
echo "db $D rows $(hub_sql "$D" "SELECT a, b FROM t ORDER BY a" | tr '\n' ' ')server $E2E_PG_DIR"
SUITE
LK_STORE=pg sh "$E2E_DIR/pgsuite.sh" >"$E2E_DIR/pgsuite.out" 2>&1; rc=$?
pg_dir=$(sed -n 's/.* server //p' "$E2E_DIR/pgsuite.out")
if [ $rc -eq 0 ] && grep -q '^db postgresql://lienket@127.0.0.1:[0-9]*/first rows 1|một 2| server /' "$E2E_DIR/pgsuite.out" &&
	[ -n "$pg_dir" ] && [ ! -e "$pg_dir" ]; then
	ok setup__lk_store_pg_gives_each_suite_its_own_server_and_cleans_it_up
else
	fail setup__lk_store_pg_gives_each_suite_its_own_server_and_cleans_it_up "exit $rc: $(tr '\n' ' ' <"$E2E_DIR/pgsuite.out")"
fi

# ---- the demo --------------------------------------------------------------------------
# The demo on a copy of these binaries whose agent cannot import (as when the laptops'
# imports failed because a wrapper around the agent could not start), on a machine
# without `ps`: it must name the phase, the office whose import failed and that log, and
# leave none of its processes (the hub, the fault proxies) running.
D="$E2E_DIR/demo-bin"
mkdir -p "$D/tools" "$E2E_DIR/nops"
for d in protocol hub agent; do cp -a "$LK_BIN/$d" "$D/"; done
cp -a "$LK_BIN"/*.a "$LK_BIN/lienket-hub" "$LK_BIN/lienket-gen" "$D/"
cp -a "$LK_BIN/tools/faultproxy" "$D/tools/"
# Up to date, so that the demo's own make (its build phase) leaves the wrapper below alone.
make -s --no-print-directory B="$D" MODE="${MODE:-asan}" "$D/lienket-hub" "$D/lienket-agent" \
	"$D/lienket-gen" "$D/tools/faultproxy" >"$E2E_DIR/demo-make.log" 2>&1 ||
	fail setup__demo_binaries_copied "$(tail -3 "$E2E_DIR/demo-make.log" | tr '\n' ' ')"
cp -a "$D/lienket-agent" "$E2E_DIR/real-agent"
sleep 1 # the wrapper below is newer than everything make compares it with
cat >"$D/lienket-agent" <<AGENT
#!/bin/sh
case " \$* " in *" import "*) echo "cannot import: the agent did not start (tests/e2e/setup.sh)" >&2; exit 1 ;; esac
exec "$E2E_DIR/real-agent" "\$@"
AGENT
chmod +x "$D/lienket-agent"
printf '#!/bin/sh\necho "ps: not installed" >&2\nexit 127\n' >"$E2E_DIR/nops/ps"
chmod +x "$E2E_DIR/nops/ps"
OUT="$E2E_DIR/demo-out"
PATH="$E2E_DIR/nops:$PATH" B="$D" DEMO_OUT="$OUT" sh scripts/demo.sh >"$E2E_DIR/demo.out" 2>"$E2E_DIR/demo.err"
rc=$?
[ "$(head -c 2 "$D/lienket-agent")" = "#!" ] ||
	fail setup__demo_binaries_copied "the demo's build phase rebuilt the agent over the failing wrapper"
if [ $rc -ne 0 ] && grep -q "demo: FAILED in phase 'record offline: 131 laptops import their year': recording failed for: [0-9]" "$E2E_DIR/demo.err" &&
	grep -q "(log: $OUT/offices/[0-9]*/record.log)" "$E2E_DIR/demo.err" &&
	grep -q 'cannot import: the agent did not start' "$E2E_DIR/demo.err"; then
	ok setup__demo_failing_phase_says_what_failed_and_where_its_log_is
else
	fail setup__demo_failing_phase_says_what_failed_and_where_its_log_is \
		"exit $rc; stderr: $(tail -5 "$E2E_DIR/demo.err" | tr '\n' ' ')"
fi
left=""
n=0
if [ -f "$OUT/pids" ]; then
	n=$(wc -l <"$OUT/pids")
	while read -r p; do ! kill -0 "$p" 2>/dev/null || left="$left $p"; done <"$OUT/pids"
fi
for c in /proc/[0-9]*/cmdline; do
	if tr '\0' ' ' 2>/dev/null <"$c" | grep -qF -- "$OUT/"; then p=${c#/proc/}; left="$left ${p%/cmdline}"; fi
done
if [ "$n" -ge 4 ] && [ -z "$left" ]; then
	ok setup__demo_stops_every_process_it_started_without_ps
else
	fail setup__demo_stops_every_process_it_started_without_ps "$n processes recorded; still running:$left"
	for p in $left; do kill "$p" 2>/dev/null; done
fi

e2e_finish
