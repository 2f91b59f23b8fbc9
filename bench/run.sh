#!/bin/sh
# bench/run.sh — the nine figures of issue 8 with the real binaries on loopback
# (bench/README.md explains each one; `make bench` / `make bench-smoke` run this).
#
#   sh bench/run.sh full|smoke
#
# Environment: LK_BIN (directory with lienket-hub, lienket-agent, lienket-gen,
# lienket-bench, tools/faultproxy), BENCH_DIR (scratch, removed first; BENCH_KEEP=1
# keeps it), BENCH_CACHE (keeps the pre-loaded report hub between runs), BENCH_ONLY
# (space-separated figure numbers to run, default all).
#
# Every figure prints "figure N: <value> | baseline: <value> | ratio: <r> | goal: …"; the
# baselines are measured in the same run on the same rows, since the machine is shared
# and noisy. In smoke mode the counts are tiny and each figure also prints one
# cmocka-style line, "[       OK ] bench_smoke__<name>_runs" or "[  FAILED  ] …: reason";
# the exit status is the number of failed figures. Every server, proxy and agent this
# script starts is recorded and stopped by its PID.
set -u
MODE=${1:-smoke}
: "${LK_BIN:=build/bench}"
: "${BENCH_DIR:=$LK_BIN/bench-run}"
: "${BENCH_CACHE:=$LK_BIN/bench-cache}"
: "${BENCH_ONLY:=1 2 3 4 5 6 7 8 9 10}"
ROOT_DIR=$(pwd)
UNITS_CSV=$ROOT_DIR/tests/fixtures/binh-thuan-before-2025-07.csv
HUB=$ROOT_DIR/$LK_BIN/lienket-hub
AGENT=$ROOT_DIR/$LK_BIN/lienket-agent
GEN=$ROOT_DIR/$LK_BIN/lienket-gen
BENCH=$ROOT_DIR/$LK_BIN/lienket-bench
PROXY=$ROOT_DIR/$LK_BIN/tools/faultproxy
REPLAY=$ROOT_DIR/$LK_BIN/lienket-bench-replay
case $LK_BIN in /*) HUB=$LK_BIN/lienket-hub; AGENT=$LK_BIN/lienket-agent; GEN=$LK_BIN/lienket-gen
	BENCH=$LK_BIN/lienket-bench; PROXY=$LK_BIN/tools/faultproxy; REPLAY=$LK_BIN/lienket-bench-replay ;; esac

if [ "$MODE" = full ]; then
	: "${PRELOAD:=1000000}"  # rows in the hub before figure 1
	: "${F1_AGENTS:=16}"; : "${F1_PER:=25000}"
	: "${F1PG_AGENTS:=4}"  # figure 1 on PostgreSQL replays the first 4 agents (100,000 changes)
	: "${F4_ONE:=2000}"; : "${F4_BULK:=100000}"; : "${F4_PAIRS:=5}"
	: "${F5_BACKLOG:=100000}"; : "${F5_IDLE:=20}"
	: "${F6_AGENTS:=500}"; : "${F6_PER:=2000}"; : "${F6_PAR:=64}"
	: "${F7_CHANGES:=10000}"
	: "${F8_ROWS:=10000000}"; : "${F8_YEARS:=10}"
else
	: "${PRELOAD:=5000}"
	: "${F1_AGENTS:=4}"; : "${F1_PER:=500}"
	: "${F4_ONE:=50}"; : "${F4_BULK:=1000}"; : "${F4_PAIRS:=1}"
	: "${F5_BACKLOG:=2000}"; : "${F5_IDLE:=2}"
	: "${F6_AGENTS:=8}"; : "${F6_PER:=100}"; : "${F6_PAR:=4}"
	: "${F7_CHANGES:=100}"
	: "${F8_ROWS:=20000}"; : "${F8_YEARS:=2}"
fi
F7_RATE=32000; F7_LAT=500     # figure 7: bits/s, one-way ms
F9_RATE=40000; F9_LAT=400     # figure 9: a 2G (EDGE) link

FAKE_TOKEN=lk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA # figure 4 never syncs
FAILED=0
PIDS=""
track() { PIDS="$PIDS $1"; echo "$1" >>"$W/pids"; } # $W/pids: background figures too
stop() {
	kill "$1" 2>/dev/null
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
cleanup() {
	[ -f "$W/pids" ] && PIDS="$PIDS $(cat "$W/pids")"
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do stop "$p"; done
	if [ -s "$W/pgdir" ]; then # figure 1 on PostgreSQL: its server, stopped by its PID
		sh "$ROOT_DIR/scripts/pg-test-server.sh" stop "$(cat "$W/pgdir")" >/dev/null 2>&1
		cp "$(cat "$W/pgdir")/server.log" "$W/pg-server.log" 2>/dev/null
		rm -rf "$(cat "$W/pgdir")"
	fi
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$BENCH_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR" "$BENCH_CACHE" || exit 1
W=$BENCH_DIR
LOG=$W/bench.log

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
kv() { tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; } # kv KEY < "k=v k=v" line
say() { echo "$*"; echo "$*" >>"$LOG"; }
result() { # result N NAME
	if [ "$MODE" = smoke ]; then
		if [ -n "${ERR:-}" ]; then echo "[  FAILED  ] bench_smoke__$2_runs: $ERR"; FAILED=$((FAILED + 1))
		else echo "[       OK ] bench_smoke__$2_runs"; fi
	elif [ -n "${ERR:-}" ]; then
		say "figure $1: FAILED: $ERR"; FAILED=$((FAILED + 1))
	fi
	ERR=""
}
want() { case " $BENCH_ONLY " in *" $1 "*) return 0 ;; esac; return 1; }
ERR=""

# wait_file FILE TENTHS
wait_file() {
	i=0
	while [ ! -s "$1" ] && [ "$i" -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$1" ]
}

# hub_start DB NAME [THREADS] — sets HUB_PID, HUB_PORT, HUB_URL; log in $W/NAME.log
hub_start() {
	rm -f "$W/$2.port"
	if [ -n "${3:-}" ]; then
		"$HUB" serve --db "$1" --listen 127.0.0.1:0 --port-file "$W/$2.port" --threads "$3" \
			>>"$W/$2.log" 2>&1 &
	else
		"$HUB" serve --db "$1" --listen 127.0.0.1:0 --port-file "$W/$2.port" >>"$W/$2.log" 2>&1 &
	fi
	HUB_PID=$!
	track $HUB_PID
	wait_file "$W/$2.port" 200 || { ERR="hub did not start"; return 1; }
	HUB_PORT=$(cat "$W/$2.port")
	HUB_URL="http://127.0.0.1:$HUB_PORT"
}

# proxy_start NAME RATE LATENCY — sets PROXY_PID, PROXY_URL (in front of HUB_PORT)
proxy_start() {
	rm -f "$W/$1.pport"
	"$PROXY" --listen 127.0.0.1:0 --port-file "$W/$1.pport" --target "127.0.0.1:$HUB_PORT" \
		--rate-bps "$2" --latency-ms "$3" --log "$W/$1.proxy.log" 2>>"$W/$1.proxy.log" &
	PROXY_PID=$!
	track $PROXY_PID
	wait_file "$W/$1.pport" 100 || { ERR="proxy did not start"; return 1; }
	PROXY_URL="http://127.0.0.1:$(cat "$W/$1.pport")"
}

gen_rows() { # gen_rows COUNT SEED YEAR OUT
	"$GEN" changes --units "$UNITS_CSV" --unit-ids "$W/units.tsv" --table meeting --count "$1" \
		--seed "$2" --year "$3" --rows-out "$4" 2>>"$LOG"
}

# split_rows IN OUTPREFIX PER BRANCHFILE FIRSTAGENT — row k goes to agent FIRST+(k-1)/PER,
# re-owned by (and hosted at) that agent's branch (line N of BRANCHFILE is agent N's).
split_rows() {
	awk -F, -v OFS=, -v per="$3" -v pre="$2" -v first="$5" -v bf="$4" '
		BEGIN { n = 0; while ((getline l < bf) > 0) br[n++] = l }
		NR == 1 { hdr = $0; next }
		{ a = first + int((NR - 2) / per); f = pre a ".csv"
		  if (f != cur) { if (cur != "") close(cur); cur = f; print hdr > cur }
		  $2 = br[a]; $5 = br[a]; print > cur }' "$1"
}

# The province: a hub with the real unit tree, and every branch of the generator's
# province written by one province-level agent (a commune office's first sync), so
# rows owned by branches are never held. Made once, copied for each figure.
setup_province() {
	"$HUB" init --db "$W/base.db" --units "$UNITS_CSV" >>"$LOG" 2>&1 || return 1
	"$HUB" units list --db "$W/base.db" >"$W/units.tsv" 2>>"$LOG" || return 1
	ROOT=$(awk -F'\t' '$4 == "province" { print $1 }' "$W/units.tsv")
	"$GEN" province --units "$UNITS_CSV" --unit-ids "$W/units.tsv" --out "$W/prov" >>"$LOG" 2>&1 || return 1
	for t in 01-unit 02-unit_name 03-unit_parent; do
		head -1 "$W/prov/22915/$t.csv" >"$W/all-$t.csv"
		for f in "$W"/prov/*/$t.csv; do tail -n +2 "$f" >>"$W/all-$t.csv"; done
	done
	awk -F, 'NR > 1 { print $1 }' "$W/all-01-unit.csv" >"$W/branches.txt"
	hub_start "$W/base.db" base || return 1
	tok=$("$HUB" enroll --db "$W/base.db" --unit "$ROOT" 2>>"$LOG" | sed -n 's/^token: //p')
	"$AGENT" init --db "$W/a0.db" --unit "$ROOT" --hub "$HUB_URL" --token "$tok" >>"$LOG" 2>&1 &&
	"$AGENT" sync --db "$W/a0.db" >>"$LOG" 2>&1 &&
	"$AGENT" import --db "$W/a0.db" unit "$W/all-01-unit.csv" >>"$LOG" 2>&1 &&
	"$AGENT" import --db "$W/a0.db" unit_name "$W/all-02-unit_name.csv" >>"$LOG" 2>&1 &&
	"$AGENT" import --db "$W/a0.db" unit_parent "$W/all-03-unit_parent.csv" >>"$LOG" 2>&1 &&
	"$AGENT" sync --db "$W/a0.db" >>"$LOG" 2>&1 || { stop $HUB_PID; return 1; }
	stop $HUB_PID
	rm -f "$W/base.db-wal" "$W/base.db-shm"
}

# new_hub NAME — a copy of the province hub at $W/NAME.db
new_hub() { cp "$W/base.db" "$W/$1.db"; }

# make_agents HUBDB URL PREFIX FIRST COUNT — agents PREFIX<i>.db for i in FIRST..FIRST+COUNT-1,
# agent i enrolled for branch number i (line i+1 of branches.txt)
make_agents() {
	i=$4; last=$(($4 + $5))
	while [ $i -lt $last ]; do
		br=$(sed -n "$((i + 1))p" "$W/branches.txt")
		tok=$("$HUB" enroll --db "$1" --unit "$br" 2>>"$LOG" | sed -n 's/^token: //p')
		[ -n "$tok" ] || { ERR="enroll failed"; return 1; }
		echo "$tok" >"$3$i.token"
		"$AGENT" init --db "$3$i.db" --unit "$br" --hub "$2" --token "$tok" >>"$LOG" 2>&1 ||
			{ ERR="agent init failed"; return 1; }
		i=$((i + 1))
	done
}

# fill_agents PREFIX FIRST COUNT — agentfill PREFIX<i>.db with PREFIX<i>.csv
fill_agents() {
	: >"$1.fill"
	i=$2; last=$(($2 + $3))
	while [ $i -lt $last ]; do echo "$1$i.db $1$i.csv" >>"$1.fill"; i=$((i + 1)); done
	"$BENCH" agentfill --list "$1.fill" --txn 5000 >>"$LOG" 2>&1 || { ERR="agentfill failed"; return 1; }
}

# sync_pool PREFIX FIRST COUNT PAR — COUNT agents synced, PAR at a time (PAR workers each
# taking every PAR-th agent); failures are appended to $W/sync.fail
sync_pool() {
	: >"$W/sync.fail"
	wpids=""
	w=0
	while [ $w -lt "$4" ]; do
		(
			i=$(($2 + w)); last=$(($2 + $3))
			while [ $i -lt $last ]; do
				"$AGENT" sync --db "$1$i.db" >>"$1$i.log" 2>&1 || echo "agent $i: exit $?" >>"$W/sync.fail"
				i=$((i + $4))
			done
		) &
		wpids="$wpids $!"
		track $!
		w=$((w + 1))
	done
	for p in $wpids; do wait "$p"; done
}

# changes_stats LOG — from the hub log's POST /v1/changes lines: sets CS_SETS CS_CHANGES
# CS_IN CS_P50 CS_P99 CS_ERR
changes_stats() {
	grep 'POST /v1/changes' "$1" >"$W/cs.lines" 2>/dev/null
	CS_SETS=$(wc -l <"$W/cs.lines" | tr -d ' ')
	CS_CHANGES=$(sed -n 's/.* applied=\([0-9]*\).*/\1/p' "$W/cs.lines" | awk '{ s += $1 } END { print s + 0 }')
	CS_IN=$(sed -n 's/.* in=\([0-9]*\) .*/\1/p' "$W/cs.lines" | awk '{ s += $1 } END { print s + 0 }')
	CS_ERR=$(awk '$5 != 200' "$W/cs.lines" | wc -l | tr -d ' ')
	sed -n 's/.* ms=\([0-9]*\).*/\1/p' "$W/cs.lines" | sort -n >"$W/cs.ms"
	CS_P50=$(awk '{ a[NR] = $1 } END { if (NR) print a[int((NR - 1) * 0.50) + 1]; else print 0 }' "$W/cs.ms")
	CS_P99=$(awk '{ a[NR] = $1 } END { if (NR) print a[int((NR - 1) * 0.99) + 1]; else print 0 }' "$W/cs.ms")
}

# body_bytes LOG — sum of in= and out= over every request in a hub log
body_bytes() {
	sed -n 's/.* in=\([0-9]*\) out=\([0-9]*\) .*/\1 \2/p' "$1" | awk '{ s += $1 + $2 } END { print s + 0 }'
}

vm_hwm_kb() { sed -n 's/^VmHWM:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$1/status" 2>/dev/null; }

T_START=$(now)
say "lienket bench ($MODE) — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores," \
	"$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), SQLite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1)"
setup_province || { echo "setup failed; see $LOG"; tail -5 "$LOG"; exit 1; }
PRE_ROWS=$W/preload.csv
gen_rows "$PRELOAD" 101 2020 "$PRE_ROWS" || exit 1

# link_sync NAME N RATE LATENCY — one office (agent N, rows in $W/NAMEa<N>.csv) syncs
# once straight to hub $W/NAME.db (the unit tree), journals its rows, then syncs them
# through faultproxy at RATE bit/s and LATENCY ms one way. Sets wall (s), BYTES (bodies
# both ways, from the hub log) and NREQ; ERR on failure. Stops its hub and proxy.
link_sync() {
	hub_start "$W/$1.db" "$1" && proxy_start "$1" "$3" "$4" &&
		make_agents "$W/$1.db" "$HUB_URL" "$W/$1a" "$2" 1 || return 1
	a="$W/$1a$2"
	"$AGENT" sync --db "$a.db" >>"$a.log" 2>&1 || ERR="first sync failed"
	fill_agents "$W/$1a" "$2" 1
	"$AGENT" config --db "$a.db" --hub "$PROXY_URL" >>"$LOG" 2>&1 || ERR="config failed"
	lines0=$(wc -l <"$W/$1.log")
	t0=$(now)
	"$AGENT" sync --db "$a.db" >>"$a.log" 2>&1 || ERR="sync failed: $(tail -1 "$a.log")"
	t1=$(now)
	tail -n +$((lines0 + 1)) "$W/$1.log" >"$W/$1.sync.log"
	BYTES=$(body_bytes "$W/$1.sync.log")
	NREQ=$(grep -c ' /v1/' "$W/$1.sync.log")
	stop $PROXY_PID; stop $HUB_PID
	wall=$(elapsed "$t0" "$t1")
}

# ---- 7: slow link (started in the background: it waits on the link, not the CPU) ----
fig7() {
	new_hub f7
	gen_rows "$F7_CHANGES" 107 2021 "$W/f7rows.csv"
	split_rows "$W/f7rows.csv" "$W/f7a" "$F7_CHANGES" "$W/branches.txt" 200
	if link_sync f7 200 "$F7_RATE" "$F7_LAT"; then
		IDEAL=$(awk -v b="$BYTES" -v r="$F7_RATE" 'BEGIN { printf "%.1f", b * 8 / r }')
		[ -z "$ERR" ] && say "figure 7: slow link ($F7_RATE bit/s, $F7_LAT ms one way): $F7_CHANGES changes" \
			"synced in $wall s ($NREQ requests, $BYTES body bytes both ways) | baseline: ideal = bytes / rate" \
			"= $IDEAL s | ratio: $(ratio "$IDEAL" "$wall") | goal: >= 0.8"
	fi
	result 7 slow_link
	rm -f "$W"/f7a* "$W/f7.db"*
}
F7_PID=""
if want 7; then
	fig7 >"$W/f7.out" 2>&1 &
	F7_PID=$!; track $F7_PID
fi

# ---- 1 on PostgreSQL (issue 15) ----
# pg_sql URL SQL — one statement, unaligned output without header
pg_sql() { "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2" 2>>"$LOG"; }
# pg_copy NAME — a fresh copy of the migrated figure-1 hub (database f1pg) as database
# NAME; its recorded identity dropped, as migrate leaves it, so that its first open
# records the copy's own (a copy keeps the hub id, like the SQLite twins)
pg_copy() {
	u=$(sh "$ROOT_DIR/scripts/pg-test-server.sh" createdb "$PGD" "$1" f1pg 2>>"$LOG") &&
		pg_sql "$u" "DELETE FROM hub_meta WHERE key = 'pg_identity'" && echo "$u"
}
# pg_replay NAME URL LIST... — one `serve --db URL` per LIST (its agents' change sets,
# replayed to it, all lists at once); sets PG_RATE, PG_APPLIED, PG_P50, PG_P99, PG_CPU
pg_replay() {
	name=$1 url=$2; shift 2
	k=0; hp=""; hu=""
	for l in "$@"; do
		hub_start "$url" "$name$k" || return 1
		hp="$hp $HUB_PID"; hu="$hu $HUB_URL"; k=$((k + 1))
	done
	# each process's connections opened before the clock starts (16 reads at once), as in
	# a hub that has served a while: a connection opened while another process commits
	# can deadlock on the open's DDL (NOTES-pg-core.md, 02:46)
	for u in $hu; do
		wp=""
		for l in "$@"; do
			while read -r _ tok; do
				curl -s -o /dev/null -H "Authorization: Bearer $tok" "$u/v1/whoami" &
				wp="$wp $!"
			done <"$l"
		done
		for p in $wp; do wait "$p"; done
	done
	c0=0; for p in $hp; do c0=$((c0 + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
	t0=$(now); rp=""; k=0
	for l in "$@"; do
		u=$(echo $hu | cut -d' ' -f$((k + 1)))
		n=$(wc -l <"$l" | tr -d ' ')
		"$REPLAY" replay --url "$u" --list "$l" --par "$n" >"$W/$name$k.rp" 2>>"$LOG" &
		rp="$rp $!"; track $!; k=$((k + 1))
	done
	for p in $rp; do wait "$p" || ERR="${ERR:-replay to PostgreSQL ($name) failed}"; done
	t1=$(now)
	c1=0; for p in $hp; do c1=$((c1 + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
	for p in $hp; do stop "$p"; done
	cat "$W/$name"[0-9].log >"$W/$name.all.log"
	changes_stats "$W/$name.all.log"
	PG_APPLIED=$CS_CHANGES; PG_P50=$CS_P50; PG_P99=$CS_P99
	[ "$CS_ERR" -eq 0 ] || ERR="${ERR:-$CS_ERR change sets refused by the PostgreSQL hub ($name)}"
	PG_WALL=$(elapsed "$t0" "$t1")
	PG_RATE=$(awk -v n="$CS_CHANGES" -v t="$PG_WALL" 'BEGIN { printf "%.0f", n / t }')
	PG_CPU=$(awk -v a="$c0" -v b="$c1" -v tk="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (b - a) / tk }')
}
# The same pre-replay hub as figure 1's (its twin f1p.db), moved into a PostgreSQL of
# this run's own with `lienket-hub migrate`; replayed to one `serve` and, on a second
# copy, to two `serve` processes on one database, each taking half the agents; beside
# them the plain LWW upsert of the same rows with libpq (pgupsert) and the hub's own
# row read + merge + row write in process on a third copy (hubmerge over store_pg).
# The server: scripts/pg-test-server.sh (the tests' throw-away server), loaded with
# fsync off, then fsync, synchronous_commit and full_page_writes ON for every
# measurement (durable commits, as SQLite's synchronous=FULL).
fig1_pg() {
	PG_BIN=${LK_PG_BIN:-/usr/lib/postgresql/15/bin}
	if [ ! -x "$PG_BIN/initdb" ] || ! "$HUB" migrate --help 2>&1 | grep -q postgresql; then
		say "figure 1 on PostgreSQL: not measured (no PostgreSQL 15 here: scripts/deps.sh --check-or-install test)"
		return 0
	fi
	PGD=$(mktemp -d /tmp/lk-bench-pg.XXXXXX)
	echo "$PGD" >"$W/pgdir"
	sh "$ROOT_DIR/scripts/pg-test-server.sh" start "$PGD" $$ >"$W/pg.url" 2>>"$LOG" ||
		{ ERR="the PostgreSQL server did not start"; return 1; }
	PGU=$(cat "$W/pg.url")
	u1=$(sh "$ROOT_DIR/scripts/pg-test-server.sh" createdb "$PGD" f1pg 2>>"$LOG") || { ERR="createdb failed"; return 1; }
	s0=$(now)
	# migrate copies row by row (~1,000 rows/s here): the hub without its pre-loaded
	# meeting rows goes through migrate, the meeting rows (as row_write left them, every
	# column, _hs included) through COPY — only the pre-load takes this short cut; the
	# counts and an order-independent sum of every meeting row are compared after
	cp "$W/f1p.db" "$W/f1pm.db"
	[ -f "$W/f1p.db-wal" ] && cp "$W/f1p.db-wal" "$W/f1pm.db-wal"
	sqlite3 "$W/f1pm.db" 'DELETE FROM meeting' 2>>"$LOG" || { ERR="cannot empty the copy"; return 1; }
	if ! LK_HUB_STATE_DIR=$W "$HUB" migrate --from "$W/f1pm.db" --to "$u1" >"$W/migrate.out" 2>&1; then
		cat "$W/migrate.out" >>"$LOG"
		# a build whose PostgreSQL back end still lacks some of its parts says so
		why=$(grep -o 'back end of this build is incomplete ([a-z_]* is missing)' "$W/migrate.out")
		if [ -n "$why" ]; then say "figure 1 on PostgreSQL: not measured: the PostgreSQL $why"; return 0; fi
		ERR="migrate to PostgreSQL failed: $(tail -1 "$W/migrate.out")"; return 1
	fi
	cat "$W/migrate.out" >>"$LOG"
	rm -f "$W"/f1pm.db*
	MCOLS=$(sqlite3 "$W/f1p.db" "SELECT group_concat('\"' || name || '\"', ',') FROM pragma_table_info('meeting')")
	# CSV both ways: NULL unquoted empty, an empty text quoted ("")
	sqlite3 -csv "$W/f1p.db" "SELECT $MCOLS FROM meeting" 2>>"$LOG" |
		"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$u1" \
			-c "\\copy meeting($MCOLS) FROM STDIN WITH (FORMAT csv)" >>"$LOG" 2>&1 ||
		{ ERR="copying the meeting rows into PostgreSQL failed"; return 1; }
	MSUM="SELECT count(*) || ' ' || sum(length(id || unit_id || coalesce(kind, '') || coalesce(held_on, '') ||
		coalesce(host_branch_id, '') || coalesce(concerns, '') || coalesce(follow_up, '') || _writer || _fc)) ||
		' ' || sum(_hs) || ' ' || sum(_clock % 1000003) FROM meeting"
	SS=$(sqlite3 "$W/f1p.db" "$MSUM"); PS=$(pg_sql "$u1" "$MSUM")
	[ -n "$SS" ] && [ "$SS" = "$PS" ] || { ERR="meeting rows differ after the copy: SQLite $SS, PostgreSQL $PS"; return 1; }
	MIG=$(elapsed "$s0" "$(now)")
	pg_sql "$u1" "VACUUM ANALYZE" >/dev/null || { ERR="vacuum failed"; return 1; }
	u2=$(pg_copy f1pg2) && us=$(pg_copy f1pgs) || { ERR="copying the PostgreSQL hub failed"; return 1; }
	pg_sql "$PGU" "ALTER SYSTEM SET fsync = on" && pg_sql "$PGU" "ALTER SYSTEM SET synchronous_commit = on" &&
		pg_sql "$PGU" "ALTER SYSTEM SET full_page_writes = on" && pg_sql "$PGU" "SELECT pg_reload_conf()" >/dev/null &&
		sleep 1 && pg_sql "$PGU" "CHECKPOINT" || { ERR="cannot turn fsync on"; return 1; }
	PG_SET=$(pg_sql "$PGU" "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings WHERE name
		IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'wal_level', 'server_version')")
	case " $PG_SET " in *" fsync=on "*" synchronous_commit=on "*) ;; *) ERR="fsync not on: $PG_SET"; return 1 ;; esac
	echo "postgresql: $PG_SET" >>"$LOG"
	# the first F1PG_AGENTS agents (whole: every change set of each): one process; then
	# two on one database, the agents split between them
	NPG=${F1PG_AGENTS:-$F1_AGENTS}; [ "$NPG" -le "$F1_AGENTS" ] || NPG=$F1_AGENTS
	head -n "$NPG" "$W/replay.list" >"$W/replay.pg"
	awk 'NR % 2 == 1' "$W/replay.pg" >"$W/replay.h1"; awk 'NR % 2 == 0' "$W/replay.pg" >"$W/replay.h2"
	i=0; : >"$W/f1pgrows.csv"
	while [ $i -lt "$NPG" ]; do
		if [ $i -eq 0 ]; then cat "$W/f1a$i.csv"; else tail -n +2 "$W/f1a$i.csv"; fi >>"$W/f1pgrows.csv"
		i=$((i + 1))
	done
	NP=$(sqlite3 "$W/f1p.db" 'SELECT count(*) FROM meeting' 2>>"$LOG")
	LK_HUB_STATE_DIR=$W; export LK_HUB_STATE_DIR
	pg_replay f1pg1_ "$u1" "$W/replay.pg" || return 1
	P1_RATE=$PG_RATE P1_APPLIED=$PG_APPLIED P1_P50=$PG_P50 P1_P99=$PG_P99 P1_CPU=$PG_CPU P1_WALL=$PG_WALL
	pg_replay f1pg2_ "$u2" "$W/replay.h1" "$W/replay.h2" || return 1
	P2_RATE=$PG_RATE P2_APPLIED=$PG_APPLIED P2_P50=$PG_P50 P2_P99=$PG_P99 P2_CPU=$PG_CPU P2_WALL=$PG_WALL
	unset LK_HUB_STATE_DIR
	want_n=$((NPG * F1_PER))
	[ "$P1_APPLIED" -eq "$want_n" ] || ERR="${ERR:-PostgreSQL hub (one process) applied $P1_APPLIED of $want_n}"
	[ "$P2_APPLIED" -eq "$want_n" ] || ERR="${ERR:-PostgreSQL hub (two processes) applied $P2_APPLIED of $want_n}"
	# every row there, once: the rows before the replay and one per change (new ids)
	NS=$((NP + want_n))
	N1=$(pg_sql "$u1" 'SELECT count(*) FROM meeting'); N2=$(pg_sql "$u2" 'SELECT count(*) FROM meeting')
	H2=$(pg_sql "$u2" 'SELECT count(DISTINCT _hs) FROM meeting')
	[ "$N1" = "$NS" ] && [ "$N2" = "$NS" ] && [ "$H2" = "$NS" ] ||
		ERR="${ERR:-rows after the replay: expected $NS, PostgreSQL one process $N1, two processes $N2 ($H2 distinct _hs)}"
	PBASE=$("$BENCH" pgupsert --db "$PGU" --rows "$W/f1pgrows.csv" --preload "$PRE_ROWS" --batch "${F1_BATCH:-150}" \
		2>>"$LOG") || ERR="${ERR:-PostgreSQL upsert baseline failed}"
	PSAME=$("$BENCH" hubmerge --db "$us" --rows "$W/f1pgrows.csv" --batch "${F1_BATCH:-150}" 2>>"$LOG") ||
		ERR="${ERR:-PostgreSQL same-storage baseline failed}"
	echo "$PBASE" >>"$LOG"; echo "$PSAME" >>"$LOG"
	PB_RATE=$(echo "$PBASE" | kv rows_per_s); PM_RATE=$(echo "$PSAME" | kv rows_per_s)
	sh "$ROOT_DIR/scripts/pg-test-server.sh" stop "$PGD" >>"$LOG" 2>&1
	cp "$PGD/server.log" "$W/pg-server.log" 2>/dev/null
	rm -rf "$PGD"; rm -f "$W/pgdir"
	[ -n "$P1_RATE$P2_RATE$PB_RATE" ] || return 1
	say "figure 1 on PostgreSQL ($(echo "$PG_SET" | tr ' ' ',' ); the hub moved in $MIG s): the same" \
		"replay of the first $NPG agents' change sets ($NPG at once, $want_n changes) to one \`serve --db postgresql://…\`: $P1_RATE changes/s" \
		"(p50 $P1_P50 ms, p99 $P1_P99 ms per set; hub CPU $P1_CPU s of $P1_WALL s wall); to two \`serve\` processes" \
		"on one database, half the agents each: $P2_RATE changes/s (p50 $P2_P50 ms, p99 $P2_P99 ms; CPU $P2_CPU s of" \
		"$P2_WALL s) | baseline: plain LWW upsert of the same rows with libpq (INSERT … ON CONFLICT (id) DO" \
		"UPDATE, the primary key its one index, transactions of $F1_BATCH): $PB_RATE rows/s | ratio: one process" \
		"$(ratio "$P1_RATE" "$PB_RATE"), two $(ratio "$P2_RATE" "$PB_RATE"); two / one $(ratio "$P2_RATE" "$P1_RATE")" \
		"| same-storage on PostgreSQL (hubmerge over store_pg): $PM_RATE rows/s, storage layout $(ratio "$PM_RATE" "$PB_RATE")," \
		"rest of the hub $(ratio "$P1_RATE" "$PM_RATE") | against SQLite in this run: one process $(ratio "$P1_RATE" "$F1_RATE")," \
		"plain upserts $(ratio "$PB_RATE" "$B_RATE") (16 agents there) | rows after: $N1 and $N2 (expected $NS), none lost or doubled"
}

# ---- 1, 2, 3: merge throughput, the session extension, bytes on the wire ----
F1_RATE=""; F1_SETS=0
if want 1 || want 2 || want 3; then
	new_hub f1
	"$BENCH" hubload --db "$W/f1.db" --rows "$PRE_ROWS" >>"$LOG" 2>&1 || ERR="hubload failed"
	gen_rows $((F1_AGENTS * F1_PER)) 102 2021 "$W/f1rows.csv"
	split_rows "$W/f1rows.csv" "$W/f1a" "$F1_PER" "$W/branches.txt" 0
	if [ -z "$ERR" ] && hub_start "$W/f1.db" f1 && make_agents "$W/f1.db" "$HUB_URL" "$W/f1a" 0 "$F1_AGENTS"; then
		# each office's first sync (hello binds its token; the unit tree comes down),
		# then its backlog, cut into change sets by the agent's own code
		sync_pool "$W/f1a" 0 "$F1_AGENTS" 2
		[ -s "$W/sync.fail" ] && ERR="first sync: $(head -1 "$W/sync.fail")"
		fill_agents "$W/f1a" 0 "$F1_AGENTS"
		: >"$W/prep.list"; : >"$W/replay.list"
		i=0
		while [ $i -lt "$F1_AGENTS" ]; do
			echo "$W/f1a$i.db $W/f1a$i.bodies" >>"$W/prep.list"
			echo "$W/f1a$i.bodies $(cat "$W/f1a$i.token")" >>"$W/replay.list"
			i=$((i + 1))
		done
		"$REPLAY" prepare --list "$W/prep.list" >>"$LOG" 2>&1 || ERR="${ERR:-prepare failed}"
		# the same journals in change-set shape 1 (what an agent of protocol 1 sends,
		# PROTOCOL.md §6.2): bytes only, for figure 3
		sed 's/\.bodies$/.bodies1/' "$W/prep.list" >"$W/prep1.list"
		PREP1=$("$REPLAY" prepare --list "$W/prep1.list" --shape 1 2>>"$LOG") || ERR="${ERR:-prepare (shape 1) failed}"
		echo "$PREP1" >>"$LOG"
		F1_BPC1=$(awk -v b="$(echo "$PREP1" | kv bytes)" -v n="$(echo "$PREP1" | kv changes)" \
			'BEGIN { printf "%.1f", n ? b / n : 0 }')
		F1_SETS1=$(echo "$PREP1" | kv sets)
		rm -f "$W"/f1a*.bodies1
		# a twin of the hub for the same replay with 16 server threads (1b below)
		stop $HUB_PID
		cp "$W/f1.db" "$W/f1b.db"
		[ -f "$W/f1.db-wal" ] && cp "$W/f1.db-wal" "$W/f1b.db-wal"
		# a third twin for the same-storage baseline (hubmerge, below)
		cp "$W/f1.db" "$W/f1s.db"
		[ -f "$W/f1.db-wal" ] && cp "$W/f1.db-wal" "$W/f1s.db-wal"
		# a twin for figure 1 on PostgreSQL (migrated into it, below)
		cp "$W/f1.db" "$W/f1p.db"
		[ -f "$W/f1.db-wal" ] && cp "$W/f1.db-wal" "$W/f1p.db-wal"
		# BENCH_KEEP: one more twin, never replayed, for replaying by hand afterwards
		if [ -n "${BENCH_KEEP:-}" ]; then
			cp "$W/f1.db" "$W/f1-pristine.db"
			[ -f "$W/f1.db-wal" ] && cp "$W/f1.db-wal" "$W/f1-pristine.db-wal"
		fi
		hub_start "$W/f1.db" f1 || ERR="${ERR:-hub restart failed}"
		lines0=$(wc -l <"$W/f1.log")
		hc0=$(awk '{ print $14 + $15 }' "/proc/$HUB_PID/stat")
		if [ -n "${BENCH_PROFILE:-}" ]; then
			perf record -g -e cpu-clock -p "$HUB_PID" -o "$W/hub.perf" >>"$LOG" 2>&1 &
			PERF_PID=$!; track $PERF_PID
			sleep 1
		fi
		t0=$(now)
		RP=$("$REPLAY" replay --url "$HUB_URL" --list "$W/replay.list" --par "$F1_AGENTS" 2>>"$LOG") ||
			ERR="${ERR:-replay: $RP}"
		t1=$(now)
		echo "$RP" >>"$LOG"
		hc1=$(awk '{ print $14 + $15 }' "/proc/$HUB_PID/stat")
		if [ -n "${BENCH_PROFILE:-}" ]; then
			kill -INT "$PERF_PID"; wait "$PERF_PID"
			{ perf report -i "$W/hub.perf" --no-children --stdio --sort comm 2>/dev/null | grep '%' | head -8
			  perf report -i "$W/hub.perf" --no-children --stdio --sort dso 2>/dev/null | grep '%' | head -12
			  perf report -i "$W/hub.perf" --no-children --stdio --sort dso,sym -g none 2>/dev/null |
				grep '%' | head -60
			  perf report -i "$W/hub.perf" --children --stdio --sort sym -g none 2>/dev/null |
				grep '%' | head -80; } >"$BENCH_CACHE/hub-profile.txt"
			perf report -i "$W/hub.perf" --no-children --stdio --sort comm,dso,sym -g none 2>/dev/null |
				awk -f "$ROOT_DIR/bench/profile_split.awk" >"$BENCH_CACHE/hub-profile-split.txt"
			say "hub profile (perf, cpu-clock, share of the hub's CPU during figure 1's replay):" \
				"$(tr '\n' ';' <"$BENCH_CACHE/hub-profile-split.txt")"
		fi
		HUB_CPU=$(awk -v a="$hc0" -v b="$hc1" -v tk="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (b - a) / tk }')
		tail -n +$((lines0 + 1)) "$W/f1.log" >"$W/f1.replay.log"
		stop $HUB_PID
		if [ -z "$ERR" ] && hub_start "$W/f1b.db" f1b 16; then
			s0=$(now)
			RPB=$("$REPLAY" replay --url "$HUB_URL" --list "$W/replay.list" --par "$F1_AGENTS" 2>>"$LOG") ||
				ERR="${ERR:-replay (16 threads): $RPB}"
			s1=$(now)
			echo "$RPB" >>"$LOG"
			stop $HUB_PID
			changes_stats "$W/f1b.log"
			F1B_RATE=$(awk -v n="$CS_CHANGES" -v t="$(elapsed "$s0" "$s1")" 'BEGIN { printf "%.0f", n / t }')
			F1B_P50=$CS_P50; F1B_P99=$CS_P99
		fi
		changes_stats "$W/f1.replay.log"
		[ -s "$W/sync.fail" ] && ERR="$(head -1 "$W/sync.fail")"
		[ "$CS_CHANGES" -eq $((F1_AGENTS * F1_PER)) ] || ERR="${ERR:-hub applied $CS_CHANGES of $((F1_AGENTS * F1_PER))}"
		F1_SETS=$CS_SETS
		F1_BATCH=$(awk -v c="$CS_CHANGES" -v s="$CS_SETS" 'BEGIN { printf "%d", s ? c / s + 0.5 : 1000 }')
		# the window of change sets only (first change set received .. last answered)
		first=$(head -1 "$W/cs.lines" | cut -c12-23); last=$(tail -1 "$W/cs.lines" | cut -c12-23)
		win=$(echo "$first $last" | awk '{ split($1, a, ":"); split($2, b, ":");
			print (b[1] * 3600 + b[2] * 60 + b[3]) - (a[1] * 3600 + a[2] * 60 + a[3]) }')
		wall=$(elapsed "$t0" "$t1")
		F1_RATE=$(awk -v n="$CS_CHANGES" -v t="$wall" 'BEGIN { printf "%.0f", n / t }')
		F1_WRATE=$(awk -v n="$CS_CHANGES" -v t="$win" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }')
		F1_BPC=$(awk -v b="$CS_IN" -v n="$CS_CHANGES" 'BEGIN { printf "%.1f", n ? b / n : 0 }')
		F1_P50=$CS_P50; F1_P99=$CS_P99
	fi
	# baselines, in process, on the rows the hub got (re-owned: each agent's rows by its
	# branch), same preload, transactions of one change set
	awk 'FNR == 1 && NR != 1 { next } { print }' "$W"/f1a[0-9]*.csv >"$W/f1own.csv"
	BASE=$("$BENCH" upsert --db "$W/plain.db" --rows "$W/f1own.csv" --preload "$PRE_ROWS" \
		--batch "${F1_BATCH:-150}" 2>>"$LOG") || ERR="${ERR:-upsert baseline failed}"
	rm -f "$W/plain.db" "$W/plain.db-wal" "$W/plain.db-shm"
	# the same storage work as the hub's writer, in process: the hub's own row read +
	# merge + row write on a twin of the replayed hub (same schema, indexes, rows, writer
	# settings), transactions of one change set
	SAME=$("$BENCH" hubmerge --db "$W/f1s.db" --rows "$W/f1own.csv" --batch "${F1_BATCH:-150}" 2>>"$LOG") ||
		ERR="${ERR:-same-storage baseline failed}"
	rm -f "$W/f1s.db" "$W/f1s.db-wal" "$W/f1s.db-shm"
	SES=$("$BENCH" session --db "$W/ses.db" --rows "$W/f1own.csv" --preload "$PRE_ROWS" \
		--batch "${F1_BATCH:-150}" 2>>"$LOG") || ERR="${ERR:-session baseline failed}"
	rm -f "$W/ses.db" "$W/ses.db-wal" "$W/ses.db-shm"
	# figure 3 in the other shape: the generator's rows as they are (a unit_id and a
	# host_branch_id of their own per row), on both sides. lienket: one province-level
	# agent journals them all and its own code cuts and deflates its change sets
	# (lienket-bench-replay prepare, as for the replay); session: the same rows.
	"$AGENT" init --db "$W/f3o.db" --unit "$ROOT" --hub http://127.0.0.1:9 --token "$FAKE_TOKEN" \
		>>"$LOG" 2>&1 || ERR="${ERR:-agent init (figure 3) failed}"
	"$BENCH" agentfill --db "$W/f3o.db" --rows "$W/f1rows.csv" --txn 5000 >>"$LOG" 2>&1 ||
		ERR="${ERR:-agentfill (figure 3) failed}"
	echo "$W/f3o.db $W/f3o.bodies" >"$W/f3o.list"
	PREPO=$("$REPLAY" prepare --list "$W/f3o.list" 2>>"$LOG") || ERR="${ERR:-prepare (figure 3) failed}"
	echo "$W/f3o.db $W/f3o.bodies1" >"$W/f3o1.list"
	PREPO1=$("$REPLAY" prepare --list "$W/f3o1.list" --shape 1 2>>"$LOG") || ERR="${ERR:-prepare (figure 3, shape 1) failed}"
	echo "$PREPO1" >>"$LOG"
	O_BPC1=$(awk -v b="$(echo "$PREPO1" | kv bytes)" -v n="$(echo "$PREPO1" | kv changes)" \
		'BEGIN { printf "%.1f", n ? b / n : 0 }')
	SESO=$("$BENCH" session --db "$W/seso.db" --rows "$W/f1rows.csv" --preload "$PRE_ROWS" \
		--batch "${F1_BATCH:-150}" 2>>"$LOG") || ERR="${ERR:-session baseline (original rows) failed}"
	rm -f "$W"/f3o.* "$W/seso.db" "$W/seso.db-wal" "$W/seso.db-shm"
	echo "$BASE" >>"$LOG"; echo "$SAME" >>"$LOG"; echo "$SES" >>"$LOG"; echo "$PREPO" >>"$LOG"
	echo "$SESO" >>"$LOG"
	B_RATE=$(echo "$BASE" | kv rows_per_s); S_RATE=$(echo "$SES" | kv rows_per_s)
	M_RATE=$(echo "$SAME" | kv rows_per_s)
	S_BPC=$(echo "$SES" | kv zlib6_bytes_per_change)
	SO_BPC=$(echo "$SESO" | kv zlib6_bytes_per_change)
	O_BPC=$(awk -v b="$(echo "$PREPO" | kv bytes)" -v n="$(echo "$PREPO" | kv changes)" \
		'BEGIN { printf "%.1f", n ? b / n : 0 }')
	O_SETS=$(echo "$PREPO" | kv sets)
	if [ -z "$ERR" ]; then
		say "figure 1: hub merge throughput, $F1_AGENTS agents' change sets sent at once over HTTP to a hub holding $PRELOAD rows:" \
			"$F1_RATE changes/s end to end ($F1_WRATE/s over the change-set window; $F1_SETS sets of ~$F1_BATCH;" \
			"p50 $F1_P50 ms, p99 $F1_P99 ms per set; hub CPU $HUB_CPU s of $(elapsed "$t0" "$t1") s wall) | baseline: plain LWW upsert, transactions of $F1_BATCH rows:" \
			"$B_RATE rows/s | ratio: $(ratio "$F1_RATE" "$B_RATE") (window $(ratio "$F1_WRATE" "$B_RATE"))" \
			"| goal: >= 50000/s and >= 0.9"
		say "figure 1 split: same-storage baseline (the hub's own row read + merge + row write in process," \
			"same schema, indexes, rows and writer settings, transactions of $F1_BATCH): $M_RATE rows/s |" \
			"storage layout: same-storage / plain upsert = $(ratio "$M_RATE" "$B_RATE") | rest of the hub" \
			"(HTTP, parsing, checks, group commit): hub / same-storage = $(ratio "$F1_RATE" "$M_RATE")" \
			"| goal: >= 0.9 of the same-storage baseline"
		say "figure 1b: the same replay to the same hub started with --threads 16 (one server thread per" \
			"agent, so 16 change sets can share a group commit instead of the default 8): ${F1B_RATE:-n/a} changes/s" \
			"(p50 ${F1B_P50:-?} ms, p99 ${F1B_P99:-?} ms per set) | ratio to the baseline:" \
			"$(ratio "${F1B_RATE:-0}" "$B_RATE"); to the default 8 threads: $(ratio "${F1B_RATE:-0}" "$F1_RATE")"
		say "figure 2: the same against sqlite3changeset_apply: hub $F1_RATE changes/s | session apply" \
			"$S_RATE rows/s (changesets of $F1_BATCH) | ratio: $(ratio "$F1_RATE" "$S_RATE")" \
			"(window $(ratio "$F1_WRATE" "$S_RATE"))"
		say "figure 3 (rows re-owned, one owner and host per agent): bytes on the wire per change: $F1_BPC" \
			"(change sets of shape 2, deflated, as the hub received them, batches of ~$F1_BATCH) | baseline:" \
			"session changeset of the same rows, batches of $F1_BATCH, zlib level 6: $S_BPC | ratio:" \
			"$(ratio "$F1_BPC" "$S_BPC") | goal: <= 0.8 (CouchDB replication: ~570) | shape 1 (protocol-1" \
			"agents): ${F1_BPC1:-n/a} in ${F1_SETS1:-?} sets, ratio $(ratio "${F1_BPC1:-0}" "$S_BPC")"
		say "figure 3 (the generator's rows, an owner and host of their own per row): $O_BPC (one" \
			"province-level agent's change sets of shape 2, $O_SETS of them, deflated by the agent's code) |" \
			"baseline: session changeset of the same rows, batches of $F1_BATCH, zlib level 6: $SO_BPC | ratio:" \
			"$(ratio "$O_BPC" "$SO_BPC") | goal: <= 0.8 | shape 1: ${O_BPC1:-n/a}, ratio $(ratio "${O_BPC1:-0}" "$SO_BPC")"
	fi
	E1=$ERR; result 1 hub_merge_throughput; ERR=$E1; result 2 session_extension; ERR=$E1; result 3 wire_bytes
	# on PostgreSQL: in `make bench`; in the smoke only with BENCH_PG=1 (its server, the
	# migration and two replays add ~25 s to a smoke of ~30 s)
	if want 1 && [ -z "$E1" ] && { [ "$MODE" = full ] || [ -n "${BENCH_PG:-}" ]; }; then
		fig1_pg
		result 1 hub_merge_pg
	fi
	rm -f "$W"/f1a*.csv "$W/f1own.csv" "$W"/f1p.db* "$W/f1pgrows.csv"
fi

# ---- 4: agent journaling cost ----
# Pairs of runs, each on a fresh copy of one agent database: with its journaling triggers
# (lk_meeting_ai/_au/_ad) and without; the order alternates from pair to pair; INSERT,
# UPDATE and DELETE, one per transaction (fsync on, as the agent runs; and fsync off, to
# show the CPU) and in bulk. Each ratio is journaled / plain of one pair; printed: the
# median and the range over F4_PAIRS pairs, of wall time and (bulk, fsync off) of the
# process's CPU time in the timed section, which other work on a shared machine moves
# far less.
if want 4; then
	gen_rows "$F4_BULK" 104 2021 "$W/f4rows.csv"
	split_rows "$W/f4rows.csv" "$W/f4r" "$F4_BULK" "$W/branches.txt" 0
	"$AGENT" init --db "$W/f4tj.db" --unit "$(head -1 "$W/branches.txt")" --hub http://127.0.0.1:9 \
		--token "$FAKE_TOKEN" >>"$LOG" 2>&1 || ERR="agent init failed"
	cp "$W/f4tj.db" "$W/f4tn.db"
	sqlite3 "$W/f4tn.db" 'DROP TRIGGER lk_meeting_ai; DROP TRIGGER lk_meeting_au; DROP TRIGGER lk_meeting_ad;' \
		2>>"$LOG" || ERR="${ERR:-cannot drop the triggers}"
	f4_run() { # f4_run j|n OP ROWS TXN SYNC — prints "rows/s rows/CPU-s"; fresh copy each time
		cp "$W/f4t$1.db" "$W/f4run.db"
		out=$("$BENCH" agentfill --db "$W/f4run.db" --rows "$W/f4r0.csv" --limit "$3" --txn "$4" --op "$2" \
			--sync "$5" 2>>"$LOG")
		echo "$1 $out" >>"$LOG"
		rm -f "$W/f4run.db" "$W/f4run.db-wal" "$W/f4run.db-shm"
		echo "$(echo "$out" | kv rows_per_s) $(echo "$out" | kv rows_per_cpu_s)"
	}
	f4_stats() { # values on stdin -> "median (min-max)"
		sort -g | awk '{ a[NR] = $1 } END { if (!NR) { print "n/a"; exit }
			m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
			printf "%.2f (%.2f-%.2f)", m, a[1], a[NR] }'
	}
	f4_median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) printf "%.0f", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
	[ -n "$ERR" ] || for op in insert update delete; do
		for mode in one bulk one-nofsync; do
			case $mode in
			one) rows=$F4_ONE; txn=1; sync=full ;;
			bulk) rows=$F4_BULK; txn=$F4_BULK; sync=full ;;
			*) rows=$F4_ONE; txn=1; sync=off ;;
			esac
			: >"$W/f4.j"; : >"$W/f4.n"; : >"$W/f4.r"; : >"$W/f4.c"
			p=1
			while [ $p -le "$F4_PAIRS" ]; do
				if [ $((p % 2)) -eq 1 ]; then
					j=$(f4_run j $op "$rows" "$txn" $sync); n=$(f4_run n $op "$rows" "$txn" $sync)
				else
					n=$(f4_run n $op "$rows" "$txn" $sync); j=$(f4_run j $op "$rows" "$txn" $sync)
				fi
				jc=${j#* }; j=${j%% *}; nc=${n#* }; n=${n%% *}
				[ -n "$j" ] && [ -n "$n" ] && [ -n "$jc" ] && [ -n "$nc" ] ||
					{ ERR="agentfill $op ($mode) failed"; break 3; }
				echo "$j" >>"$W/f4.j"; echo "$n" >>"$W/f4.n"; echo "$(ratio "$j" "$n")" >>"$W/f4.r"
				echo "$(ratio "$jc" "$nc")" >>"$W/f4.c"
				p=$((p + 1))
			done
			eval "F4_${op}_$(echo $mode | tr -d -)_J=\$(f4_median <\"\$W/f4.j\")"
			eval "F4_${op}_$(echo $mode | tr -d -)_N=\$(f4_median <\"\$W/f4.n\")"
			eval "F4_${op}_$(echo $mode | tr -d -)_R=\"\$(f4_stats <\"\$W/f4.r\")\""
			eval "F4_${op}_$(echo $mode | tr -d -)_C=\"\$(f4_stats <\"\$W/f4.c\")\""
		done
	done
	if [ -z "$ERR" ]; then
		for op in insert update delete; do
			eval "j1=\$F4_${op}_one_J n1=\$F4_${op}_one_N r1=\"\$F4_${op}_one_R\""
			eval "jb=\$F4_${op}_bulk_J nb=\$F4_${op}_bulk_N rb=\"\$F4_${op}_bulk_R\""
			eval "jo=\$F4_${op}_onenofsync_J no=\$F4_${op}_onenofsync_N ro=\"\$F4_${op}_onenofsync_R\""
			eval "cb=\"\$F4_${op}_bulk_C\" co=\"\$F4_${op}_onenofsync_C\""
			say "figure 4 ($op, $F4_PAIRS pairs, order alternating): journaled $j1 writes/s one per transaction," \
				"$jb/s in one transaction of $F4_BULK | baseline: the same writes without the journaling" \
				"triggers: $n1/s, $nb/s | ratio, median (range): $r1 one per transaction, $rb bulk |" \
				"without fsync, one per transaction: $jo/s against $no/s, ratio $ro; fsync is" \
				"$(awk -v a="$n1" -v b="$no" 'BEGIN { printf "%.0f", b ? (1 - a / b) * 100 : 0 }') % of a" \
				"plain write's time | by CPU time of the timed section (load-proof; leaves out fsync waits):" \
				"$cb bulk, $co one per transaction without fsync | goal: >= 0.6"
		done
	fi
	result 4 agent_journaling
	rm -f "$W"/f4*.db* "$W"/f4r*.csv
fi

# ---- 5: agent footprint ----
if want 5; then
	new_hub f5
	gen_rows "$F5_BACKLOG" 105 2021 "$W/f5rows.csv"
	split_rows "$W/f5rows.csv" "$W/f5a" "$F5_BACKLOG" "$W/branches.txt" 100
	if hub_start "$W/f5.db" f5 && make_agents "$W/f5.db" "$HUB_URL" "$W/f5a" 100 1 && fill_agents "$W/f5a" 100 1; then
		t0=$(now)
		/usr/bin/time -v "$AGENT" sync --db "$W/f5a100.db" >"$W/f5.out" 2>&1 || ERR="sync failed: $(tail -1 "$W/f5.out")"
		t1=$(now)
		RSS=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/f5.out")
		# the same process doing nothing but its own start and status: the floor
		/usr/bin/time -v "$AGENT" status --db "$W/f5a100.db" --json >"$W/f5s.out" 2>&1
		RSS0=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/f5s.out")
		strip -o "$W/agent.stripped" "$AGENT"; strip -o "$W/hub.stripped" "$HUB"
		SZA=$(wc -c <"$W/agent.stripped" | tr -d ' '); SZH=$(wc -c <"$W/hub.stripped" | tr -d ' ')
		"$AGENT" daemon --db "$W/f5a100.db" >>"$W/f5d.log" 2>&1 &
		DPID=$!; track $DPID
		sleep 3
		tk=$(getconf CLK_TCK)
		c0=$(awk '{ print $14 + $15 }' "/proc/$DPID/stat" 2>/dev/null); s0=$(now)
		sleep "$F5_IDLE"
		c1=$(awk '{ print $14 + $15 }' "/proc/$DPID/stat" 2>/dev/null); s1=$(now)
		DRSS=$(sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$DPID/status")
		stop $DPID
		stop $HUB_PID
		IDLE=$(awk -v a="$c0" -v b="$c1" -v t="$(elapsed "$s0" "$s1")" -v tk="$tk" \
			'BEGIN { printf "%.3f", (b - a) / tk / t * 100 }')
		[ -n "$c1" ] || ERR="${ERR:-daemon not running}"
		[ -n "$ERR" ] || say "figure 5: agent footprint: peak RSS $((RSS / 1024)).$(((RSS % 1024) * 10 / 1024)) MB syncing a" \
			"$F5_BACKLOG-change backlog in $(elapsed "$t0" "$t1") s | baseline: the same binary's peak RSS for" \
			"\`status\`: $((RSS0 / 1024)).$(((RSS0 % 1024) * 10 / 1024)) MB | ratio: $(ratio "$RSS" "$RSS0") |" \
			"goal: < 16 MB; stripped: agent $SZA B, hub $SZH B; daemon idle CPU $IDLE% over $F5_IDLE s (RSS $DRSS kB)"
	fi
	result 5 agent_footprint
	rm -f "$W"/f5a* "$W/f5.db"*
fi

# ---- 6: many agents ----
if want 6; then
	new_hub f6
	gen_rows $((F6_AGENTS * F6_PER)) 106 2021 "$W/f6rows.csv"
	split_rows "$W/f6rows.csv" "$W/f6a" "$F6_PER" "$W/branches.txt" 0
	if hub_start "$W/f6.db" f6 && make_agents "$W/f6.db" "$HUB_URL" "$W/f6a" 0 "$F6_AGENTS" &&
		fill_agents "$W/f6a" 0 "$F6_AGENTS"; then
		t0=$(now)
		sync_pool "$W/f6a" 0 "$F6_AGENTS" "$F6_PAR"
		t1=$(now)
		HWM=$(vm_hwm_kb $HUB_PID)
		stop $HUB_PID
		changes_stats "$W/f6.log"
		NFAIL=$(wc -l <"$W/sync.fail" | tr -d ' ')
		wall=$(elapsed "$t0" "$t1")
		RATE=$(awk -v n="$CS_CHANGES" -v t="$wall" 'BEGIN { printf "%.0f", n / t }')
		[ "$CS_CHANGES" -eq $((F6_AGENTS * F6_PER)) ] || ERR="hub applied $CS_CHANGES of $((F6_AGENTS * F6_PER))"
		[ -z "$ERR" ] && say "figure 6: many agents: $F6_AGENTS x $F6_PER changes, $F6_PAR at once: $wall s," \
			"$RATE changes/s, p50 $CS_P50 ms, p99 $CS_P99 ms per change set ($CS_SETS sets), hub peak" \
			"$((HWM / 1024)) MB, errors: $NFAIL agents failed, $CS_ERR change sets refused | baseline: figure 1" \
			"(16 at once) ${F1_RATE:-n/a} changes/s | ratio: $(ratio "$RATE" "${F1_RATE:-0}") | goal: hub < 100 MB," \
			"zero errors"
		[ "$NFAIL" -eq 0 ] && [ "$CS_ERR" -eq 0 ] || ERR="${ERR:-$NFAIL agents failed, $CS_ERR refused}"
	fi
	result 6 many_agents
	rm -f "$W"/f6a* "$W/f6.db"*
fi

if want 9; then
	new_hub f9
	# a commune's month: the province generator's rows per commune per year / 12
	C=$(ls "$W/prov" | grep -E '^[0-9]{5}$' | head -1)
	YR=$(cat "$W"/prov/"$C"/*.csv | wc -l)
	MONTH=$(( (YR + 11) / 12 ))
	gen_rows "$MONTH" 109 2021 "$W/f9rows.csv"
	split_rows "$W/f9rows.csv" "$W/f9a" "$MONTH" "$W/branches.txt" 300
	# a first sync while in town (the unit tree), then a month of records offline, then
	# back on the commune's 2G link
	if link_sync f9 300 "$F9_RATE" "$F9_LAT"; then
		IDEAL=$(awk -v b="$BYTES" -v r="$F9_RATE" -v n="$NREQ" -v l="$F9_LAT" \
			'BEGIN { printf "%.1f", b * 8 / r + n * 2 * l / 1000 }')
		[ -z "$ERR" ] && say "figure 9: a month offline ($MONTH changes: commune $C's year of $YR rows / 12)" \
			"on 2G ($F9_RATE bit/s, $F9_LAT ms one way): $wall s from connect to acknowledged ($NREQ" \
			"requests, $BYTES body bytes) | baseline: bytes / rate + one round trip per request = $IDEAL s" \
			"| ratio: $(ratio "$IDEAL" "$wall")"
	fi
	result 9 month_offline_2g
	rm -f "$W"/f9a* "$W/f9.db"*
fi

# ---- 8: report time over ten million rows ----
# The hub's own indexes (store_sqlite.c REPORT_DDL: meeting_year) against the previous
# index set (meeting(kind, held_on) in its place), same binary, same rows, same command.
if want 8; then
	RDB=$BENCH_CACHE/report-branches-$F8_ROWS.db
	if [ ! -s "$RDB" ] || [ ! -s "$RDB.ok" ]; then
		rm -f "$RDB" "$RDB-wal" "$RDB-shm" "$RDB.ok"
		cp "$W/base.db" "$RDB"
		cp "$W/units.tsv" "$RDB.units"
		# one year of meetings through the hub's merge (merge_apply + row_write), then
		# the same rows copied into each earlier year by SQL (new ids, dates moved back
		# k years, rows as row_write left them): only the pre-load takes this short cut,
		# never a measurement. The generator's own branch ids (units.tsv lists the
		# hub's units with codes, not its branches) are mapped one to one onto the hub's
		# branches (branches.txt, first seen first), so every meeting counts in the
		# report for a branch of the province (unit_id and host_branch_id: columns 2, 5).
		per=$((F8_ROWS / F8_YEARS))
		"$GEN" changes --units "$UNITS_CSV" --unit-ids "$W/units.tsv" --table meeting --count "$per" \
			--seed 800 --year 2021 --rows-out - 2>>"$LOG" |
			awk -F, -v OFS=, -v bf="$W/branches.txt" -v uf="$W/units.tsv" '
				BEGIN { n = 0; while ((getline l < bf) > 0) br[n++] = l; k = 0
					while ((getline l < uf) > 0) { split(l, f, "\t"); to[f[1]] = f[1] } }
				NR == 1 { print; next }
				{ if (!($2 in to)) to[$2] = br[k++ % n]
				  if ($5 != "" && !($5 in to)) to[$5] = br[k++ % n]
				  $2 = to[$2]; if ($5 != "") $5 = to[$5]; print }' |
			"$BENCH" hubload --db "$RDB" --rows - --commit-every 100000 >>"$LOG" 2>&1 || ERR="hubload failed"
		{
			# the report's meeting indexes are made after the copy (baseline below)
			echo "PRAGMA journal_mode=OFF; PRAGMA cache_size=-1000000; PRAGMA synchronous=OFF; BEGIN;"
			echo "DROP INDEX IF EXISTS meeting_year; DROP INDEX IF EXISTS meeting_kind;"
			y=1
			while [ $y -lt "$F8_YEARS" ]; do
				echo "INSERT INTO meeting SELECT printf('%08x', $y) || substr(id, 9), unit_id, kind,"
				echo " (CAST(substr(held_on, 1, 4) AS INTEGER) - $y) || substr(held_on, 5), host_branch_id,"
				echo " commune_secretary_attended, attendees, concerns, follow_up, _ins_clock, _ins_writer,"
				echo " _del_clock, _del_writer, _clock, _writer, _fc, _hs + $y * $per, _recv_ms FROM meeting"
				echo " WHERE id >= '01';"
				y=$((y + 1))
			done
			echo "COMMIT; PRAGMA journal_mode=WAL;"
		} >"$W/f8copy.sql"
		[ -n "$ERR" ] || sqlite3 "$RDB" <"$W/f8copy.sql" >>"$LOG" 2>&1 || ERR="copying years failed"
		[ -z "$ERR" ] && echo ok >"$RDB.ok"
	fi
	RROOT=$(awk -F'\t' '$4 == "province" { print $1 }' "$RDB.units" 2>/dev/null)
	report_time() { # report_time LABEL OUT — sets RT
		s0=$(now)
		"$HUB" report --db "$RDB" --unit "$RROOT" --year 2021 --format json >"$2" 2>>"$LOG" ||
			ERR="report failed"
		RT=$(elapsed "$s0" "$(now)")
		echo "report $1: $RT s" >>"$LOG"
	}
	if [ -z "$ERR" ]; then
		# baseline: the index set before meeting_year (`report` opens the database
		# without touching its schema, so it runs on what is there)
		s0=$(now)
		sqlite3 "$RDB" 'DROP INDEX IF EXISTS meeting_year; DROP INDEX IF EXISTS meeting_cover;
			CREATE INDEX IF NOT EXISTS meeting_kind ON meeting(kind, held_on);' 2>>"$LOG" ||
			ERR="making the previous index set failed"
		CI0=$(elapsed "$s0" "$(now)")
		report_time warm-up "$W/report0.json"; report_time "previous indexes" "$W/report0.json"; RT0=$RT
		# second baseline: the best ordinary index found for the report's meeting queries
		# (no expression, not partial): covering, in (kind, held_on) order
		s0=$(now)
		sqlite3 "$RDB" 'DROP INDEX IF EXISTS meeting_kind; CREATE INDEX meeting_cover ON meeting(kind,
			held_on, unit_id, host_branch_id, commune_secretary_attended, id);' 2>>"$LOG" ||
			ERR="${ERR:-making the covering index failed}"
		CIC=$(elapsed "$s0" "$(now)")
		report_time warm-up "$W/reportc.json"; report_time "covering index" "$W/reportc.json"; RTC=$RT
		cmp -s "$W/report0.json" "$W/reportc.json" || ERR="${ERR:-the report differs with the covering index}"
		sqlite3 "$RDB" 'DROP INDEX meeting_cover;' 2>>"$LOG" || ERR="${ERR:-dropping the covering index failed}"
		# the hub's first open of the database (any command that opens its store)
		# upgrades it: meeting_kind dropped, meeting_year built
		s0=$(now)
		"$HUB" units list --db "$RDB" >/dev/null 2>>"$LOG" || ERR="upgrade failed"
		CI=$(elapsed "$s0" "$(now)")
		report_time warm-up "$W/report.json"; report_time "hub indexes" "$W/report.json"; RT1=$RT
		cmp -s "$W/report0.json" "$W/report.json" || ERR="the report differs between index sets"
		NROWS=$(sqlite3 "$RDB" 'SELECT count(*) FROM meeting')
		NY=$(sqlite3 "$RDB" "SELECT count(*) FROM meeting WHERE held_on BETWEEN '2021-01-01' AND '2021-12-31'")
		[ -z "$ERR" ] && say "figure 8: report (province, 2021) over a hub holding $NROWS meeting rows" \
			"($F8_YEARS years, $NY in 2021): $RT1 s with the hub's indexes (meeting_year; the upgrade" \
			"built it in $CI s) | baseline: the previous index set (meeting(kind, held_on); built in" \
			"$CI0 s): $RT0 s | ratio: $(ratio "$RT1" "$RT0") | second baseline: the best ordinary index" \
			"(meeting(kind, held_on, unit_id, host_branch_id, commune_secretary_attended, id), covering; built" \
			"in $CIC s): $RTC s | ratio: $(ratio "$RT1" "$RTC") | goal: < 1 s; same JSON from all three"
	fi
	result 8 report_time
fi

# ---- 10: the office app's pages (issue 13; bench/app_bench.sh, the app lane's script) ----
if want 10; then
	if [ "$MODE" = full ]; then ar=${APP_ROWS:-50000}; rp=10; else ar=500; rp=1; fi
	APP_BENCH_ROWS=$ar APP_BENCH_REPEAT=$rp LK_BIN=$LK_BIN sh "$ROOT_DIR/bench/app_bench.sh" >"$W/app.out" 2>&1 ||
		ERR="app_bench.sh failed: $(tail -1 "$W/app.out")"
	cat "$W/app.out" >>"$LOG"
	if [ -z "$ERR" ]; then
		# the table: cpu first, cpu avg, wall avg (ms), request
		awk 'NF == 4 && $1 ~ /^[0-9]+$/' "$W/app.out" >"$W/app.rows"
		[ -s "$W/app.rows" ] || ERR="app_bench.sh printed no request"
		AW=$(sort -k2,2n "$W/app.rows" | tail -1)
		AS=$(awk '$4 ~ /sort=host_branch_id$/ { print $1 " first, " $2 " avg" }' "$W/app.rows")
		AR=$(sed -n 's/^peak resident size of the agent: \([0-9]*\) kB.*/\1/p' "$W/app.out")
		[ -z "$ERR" ] && say "figure 10: the office app over $ar people, $ar meetings, $ar roles ($(wc -l <"$W/app.rows" | tr -d ' ')" \
			"kinds of request, 1 + $rp each; agent CPU time): slowest on average $(echo "$AW" | awk '{ print $2 }') ms" \
			"($(echo "$AW" | awk '{ print $4 }')); the list sorted by the linked branch's name: $AS ms CPU;" \
			"peak RSS $((${AR:-0} / 1024)).$(((${AR:-0} % 1024) * 10 / 1024)) MB | goal: a list sorted by a linked name" \
			"< 100 ms over 50,000 rows, RSS < 24 MB — a goal, not a ratio"
		[ "$MODE" = full ] && sed 's/^/    /' "$W/app.out"
	fi
	result 10 office_app
fi

if [ -n "$F7_PID" ]; then
	wait "$F7_PID"
	cat "$W/f7.out"
	grep -q FAILED "$W/f7.out" && FAILED=$((FAILED + 1))
fi
say "bench ($MODE) finished in $(elapsed "$T_START" "$(now)") s"
[ "$MODE" = smoke ] && exit "$FAILED"
exit 0
