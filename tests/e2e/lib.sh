# tests/e2e/lib.sh — shared helpers for end-to-end suites (sourced, POSIX sh).
#
# Every process a suite starts is recorded with e2e_track and stopped by PID on exit.
# Cases print cmocka-style lines, which scripts/run-tests.sh counts:
#   [       OK ] suite__case        /   [  FAILED  ] suite__case: reason
: "${LK_BIN:=build/asan}"
E2E_PIDS=""
E2E_FAILED=0
E2E_DIR=$(mktemp -d "${TMPDIR:-/tmp}/lk-e2e.XXXXXX")
HUB="$LK_BIN/lienket-hub"
AGENT="$LK_BIN/lienket-agent"
# LK_VALGRIND=1 (make valgrind, on the non-sanitized build): every hub and agent the
# suite starts runs under valgrind; a leak or memory error makes that command exit 99,
# which the suite's checks then report as a failure.
if [ -n "${LK_VALGRIND:-}" ]; then
	mkdir -p "$E2E_DIR/vg"
	case "$LK_BIN" in /*) vg_bin=$LK_BIN ;; *) vg_bin=$PWD/$LK_BIN ;; esac
	for prog in lienket-hub lienket-agent; do
		cat >"$E2E_DIR/vg/$prog" <<VG
#!/bin/sh
exec valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
	--log-file="$E2E_DIR/vg/$prog.%p.log" "$vg_bin/$prog" "\$@"
VG
		chmod +x "$E2E_DIR/vg/$prog"
	done
	HUB="$E2E_DIR/vg/lienket-hub"
	AGENT="$E2E_DIR/vg/lienket-agent"
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

# The hub's back end: LK_STORE=sqlite (the default) or LK_STORE=pg. Suites name their hub
# databases with hub_db, which gives a file in $E2E_DIR or a fresh database on the
# suite's own PostgreSQL server (scripts/pg-test-server.sh: started here, once per suite,
# as an unprivileged user in a folder of its own; stopped by PID on exit), and read them
# with hub_sql, which speaks to either. (scripts/run-tests.sh runs the suites that
# exercise the hub a second time as NAME@pg with LK_STORE=pg.)
LK_STORE=${LK_STORE:-sqlite}
E2E_PG_DIR=""
E2E_PG_SCRIPT=${LK_PG_SCRIPT:-scripts/pg-test-server.sh}
case "$LK_STORE" in
sqlite) ;;
pg)
	# the files a hub keeps beside its database (operations log, serving lock) go here,
	# not into the current folder (store_side_path)
	LK_HUB_STATE_DIR=$E2E_DIR
	export LK_HUB_STATE_DIR
	E2E_PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/lk-e2e-pg.XXXXXX")
	if ! E2E_PG_URL=$(sh "$E2E_PG_SCRIPT" start "$E2E_PG_DIR" $$ 2>"$E2E_DIR/pg-start.err"); then
		echo "[  FAILED  ] e2e__postgresql_test_server_starts: $(tail -5 "$E2E_DIR/pg-start.err" | tr '\n' ' ')"
		sh "$E2E_PG_SCRIPT" stop "$E2E_PG_DIR" 2>/dev/null
		rm -rf "$E2E_DIR" "$E2E_PG_DIR"
		exit 1
	fi
	;;
*) echo "lib.sh: LK_STORE=$LK_STORE: sqlite or pg" >&2; rm -rf "$E2E_DIR"; exit 64 ;;
esac

# hub_db NAME — the --db value for the suite's hub database NAME (a-z, 0-9, _): with
# LK_STORE=sqlite the file $E2E_DIR/NAME.db, with LK_STORE=pg the URL of a new, empty
# database NAME on the suite's server. Call it once per NAME.
hub_db() {
	if [ "$LK_STORE" = pg ]; then sh "$E2E_PG_SCRIPT" createdb "$E2E_PG_DIR" "$1"
	else echo "$E2E_DIR/$1.db"; fi
}
# hub_sql DB SQL — runs SQL on a hub database (a file or a postgresql:// URL) and prints
# what sqlite3 prints by default: one line a row, columns separated by |, no header.
hub_sql() {
	case "$1" in
	postgresql://*|postgres://*)
		psql -X -q -A -t -F '|' -v ON_ERROR_STOP=1 -d "$1" -c "$2" ;;
	*) sqlite3 "$1" "$2" ;;
	esac
}
# pg_backup URL FILE — PostgreSQL's own backup of a hub database (pg_dump, custom format),
# taken while hubs serve it. pg_restore_db URL FILE — the database dropped (its
# connections closed), made again empty and FILE restored into it (pg_restore), as an
# operator restores a hub (docs/operations.md). 0 or pg_dump's / pg_restore's failure.
E2E_PG_BIN=${LK_PG_BIN:-/usr/lib/postgresql/15/bin}
pg_backup() { "$E2E_PG_BIN/pg_dump" -Fc -f "$2" -d "$1"; }
pg_restore_db() {
	sh "$E2E_PG_SCRIPT" dropdb "$E2E_PG_DIR" "${1##*/}" &&
		sh "$E2E_PG_SCRIPT" createdb "$E2E_PG_DIR" "${1##*/}" >/dev/null &&
		"$E2E_PG_BIN/pg_restore" --no-owner -d "$1" "$2"
}
# hub_is_pg DB — whether DB names a PostgreSQL database.
hub_is_pg() { case "$1" in postgresql://*|postgres://*) return 0 ;; *) return 1 ;; esac; }

e2e_track() { E2E_PIDS="$E2E_PIDS $1"; }

e2e_cleanup() {
	for p in $E2E_PIDS; do kill "$p" 2>/dev/null; done
	for p in $E2E_PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null
	done
	if [ -n "$E2E_PG_DIR" ]; then
		sh "$E2E_PG_SCRIPT" stop "$E2E_PG_DIR"
		[ -n "${E2E_KEEP:-}" ] || rm -rf "$E2E_PG_DIR"
	fi
	[ -n "${E2E_KEEP:-}" ] || rm -rf "$E2E_DIR"
}
trap e2e_cleanup EXIT
# A suite told to stop must stop: clean up (the EXIT trap) and exit with the signal's code.
trap 'exit 130' INT
trap 'exit 143' TERM

ok() { echo "[       OK ] $1"; }
fail() { echo "[  FAILED  ] $1: $2"; E2E_FAILED=$((E2E_FAILED + 1)); }

# check NAME COMMAND... — passes when the command exits 0.
check() {
	name=$1; shift
	if "$@" >"$E2E_DIR/check.out" 2>&1; then ok "$name"; else
		fail "$name" "command failed: $* ($(tail -3 "$E2E_DIR/check.out" | tr '\n' ' '))"; fi
}

# wait_file FILE [TENTHS] — waits until FILE exists and is non-empty.
wait_file() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt "${2:-100}" ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$1" ]
}

# hub_start DB NAME — starts lienket-hub serve on a free loopback port; sets
# HUB_PID_<NAME>, HUB_URL; log in $E2E_DIR/NAME.log.
hub_start() {
	rm -f "$E2E_DIR/$2.port"
	"$HUB" serve --db "$1" --listen 127.0.0.1:0 --port-file "$E2E_DIR/$2.port" \
		>>"$E2E_DIR/$2.log" 2>&1 &
	pid=$!
	e2e_track $pid
	eval "HUB_PID_$2=$pid"
	if ! wait_file "$E2E_DIR/$2.port" 100; then
		echo "hub did not start; log:"; tail -20 "$E2E_DIR/$2.log"; return 1
	fi
	HUB_PORT=$(cat "$E2E_DIR/$2.port")
	HUB_URL="http://127.0.0.1:$HUB_PORT"
}

# stop PID — SIGTERM, wait, then SIGKILL.
stop() {
	kill "$1" 2>/dev/null
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# ag NAME DB COMMAND ARGS... — runs the agent with its texts in $AGENT_LANG (English by
# default, so that checks can read them); stdout in $E2E_DIR/NAME.out, stderr in
# NAME.err; sets RC. say NAME — its last lines, for a failure message. (Suites that
# need more define their own.)
ag() {
	n=$1 db=$2 cmd=$3
	shift 3
	LC_ALL=${AGENT_LANG:-en_US.UTF-8} "$AGENT" "$cmd" --db "$db" "$@" >"$E2E_DIR/$n.out" 2>"$E2E_DIR/$n.err"
	RC=$?
	return 0
}
say() { tail -3 "$E2E_DIR/$1.out" "$E2E_DIR/$1.err" 2>/dev/null | grep -v '^==>' | grep -v '^$' | tr '\n' ' ' | cut -c1-400; }

# proxy_bytes_up NAME — bytes the faultproxy $PROXY_PID (logging to $E2E_DIR/NAME.log) has
# relayed from laptop to hub so far (its counters, printed on SIGUSR1).
proxy_bytes_up() {
	n0=$(grep -c 'stats connections' "$E2E_DIR/$1.log")
	kill -USR1 "$PROXY_PID" 2>/dev/null
	j=0
	while [ "$(grep -c 'stats connections' "$E2E_DIR/$1.log")" -le "$n0" ] && [ $j -lt 50 ]; do
		sleep 0.02; j=$((j + 1))
	done
	v=$(grep 'stats connections' "$E2E_DIR/$1.log" | tail -1 | sed -n 's/.*bytes_client_to_server=\([0-9]*\).*/\1/p')
	echo "${v:-0}"
}

e2e_finish() { exit $E2E_FAILED; }
