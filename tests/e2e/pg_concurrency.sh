#!/bin/sh
# pg_concurrency — several `lienket-hub serve` processes on one PostgreSQL database
# (issue 15, "Done when"): real hubs, real agents, the suite's own PostgreSQL server
# (tests/e2e/lib.sh with LK_STORE=pg: scripts/pg-test-server.sh). PostgreSQL only: it
# sets LK_STORE=pg itself.
#
# Three hub processes H1, H2, H3 serve one database. The cases:
#   same_agent_racing   one laptop's database copied, the two copies (same agent id, same
#                       journal) syncing at once through H1 and H2, round after round: each
#                       change set applied once, the other answer a duplicate (or a gap,
#                       resent), never both;
#   same_row            two laptops of one office editing the same person rows at once
#                       through H1 and H2 (the same column and different columns): the
#                       hub's rows are what the merge rule makes of every write;
#   pulls_in_flight     three laptops of two communes pushing through H1, H2 and H3 while
#                       their district's laptop pulls through H3 again and again: after one more pull it
#                       holds exactly the hub's rows of its scope (a row committed behind
#                       its pull cursor would be missing: skipped);
#   kill_mid_commit     kill -9 of H1 while laptops' change sets are being merged there,
#                       H1 restarted on its port, repeatedly; the laptops converge;
#   reports_the_same   the hub copied into SQLite (migrate): every level's report the same
#                       from PostgreSQL and from SQLite.
# After each case tests/e2e/pg_concurrency.py checks the end state (its top says what):
# 0 lost, 0 duplicated, every row as the merge rule says. Every process is stopped by PID.
set -u
LK_STORE=pg
export LK_STORE
. tests/e2e/lib.sh
# the serving locks of the hub processes (PostgreSQL: a file per database, store_files.c)
LK_HUB_STATE_DIR=$E2E_DIR
export LK_HUB_STATE_DIR

UNITS=tests/fixtures/units-small.csv
PY=tests/e2e/pg_concurrency.py
ARCH="$E2E_DIR/archive.jsonl"
SEED=${PG_CONCURRENCY_SEED:-$(($(date +%s) % 100000))}
echo "pg_concurrency: seed $SEED (PG_CONCURRENCY_SEED=$SEED to repeat)"
N=0 # records made so far (seeds)

# serve NAME [PORT] — a hub process on the suite's database (on PORT when given: a
# restart keeps its address); sets PID_<NAME>, PORT_<NAME>, URL_<NAME>.
serve() {
	rm -f "$E2E_DIR/$1.port"
	"$HUB" serve --db "$HDB" --listen "127.0.0.1:${2:-0}" --port-file "$E2E_DIR/$1.port" \
		>>"$E2E_DIR/$1.log" 2>&1 &
	_p=$!
	e2e_track $_p
	eval "PID_$1=$_p"
	if ! wait_file "$E2E_DIR/$1.port" 150; then
		echo "hub $1 did not start; log:"; tail -5 "$E2E_DIR/$1.log"; return 1
	fi
	eval "PORT_$1=$(cat "$E2E_DIR/$1.port")"
	eval "URL_$1=http://127.0.0.1:\$PORT_$1"
}

unit_of() { "$HUB" units list --db "$HDB" | awk -F '\t' -v c="$1" '$2 == c { print $1 }'; }

# laptop NAME CODE URL — `lienket-agent init` of a new laptop of unit CODE at URL.
laptop() {
	_t=$("$HUB" enroll --db "$HDB" --unit "$2" 2>>"$E2E_DIR/enroll.log" | sed -n 's/^token: *//p')
	"$AGENT" init --db "$E2E_DIR/$1.db" --unit "$(unit_of "$2")" --hub "$3" --token "$_t" \
		>"$E2E_DIR/$1.init.log" 2>&1
}

point() { "$AGENT" config --db "$E2E_DIR/$1.db" --hub "$2" >/dev/null 2>&1; }
sync_bg() { "$AGENT" sync --quiet --db "$E2E_DIR/$1.db" >>"$E2E_DIR/$1.sync.log" 2>&1 & }
sync_fg() { "$AGENT" sync --quiet --db "$E2E_DIR/$1.db" >>"$E2E_DIR/$1.sync.log" 2>&1; }
record() { N=$((N + 1)); python3 "$PY" record "$E2E_DIR/$1.db" "$2" $((SEED * 1000 + N)); }
archive() {
	_a=""
	for _n in "$@"; do _a="$_a $E2E_DIR/$_n.db"; done
	# shellcheck disable=SC2086
	python3 "$PY" archive "$ARCH" $_a
}
pending() {
	sqlite3 "$E2E_DIR/$1.db" "SELECT count(*) FROM lk_journal WHERE seq > (SELECT acked_seq FROM lk_state)"
}
# converge NAMES... — syncs each in turn until none has entries pending (6 rounds at most),
# then once more so that each pulls what the others sent last.
converge() {
	_r=0
	while [ $_r -lt 6 ]; do
		_left=0
		for _n in "$@"; do sync_fg "$_n"; done
		for _n in "$@"; do [ "$(pending "$_n")" = 0 ] || _left=1; done
		[ $_left = 0 ] && { for _n in "$@"; do sync_fg "$_n"; done; return 0; }
		_r=$((_r + 1))
	done
	return 1
}
# verify CASE SPEC — the end-state check; the case passes when it holds.
T_CASE=$(date +%s)
verify() {
	echo "    ($(( $(date +%s) - T_CASE )) s)"
	T_CASE=$(date +%s)
	if python3 "$PY" check "$HDB" "$ARCH" "$2" >"$E2E_DIR/$1.check" 2>&1; then
		ok "pg_concurrency__$1"
	else
		fail "pg_concurrency__$1" "$(tail -c 900 "$E2E_DIR/$1.check")"
	fi
	sed 's/^/    /' "$E2E_DIR/$1.check" | cut -c1-300
}
db() { echo "\"$E2E_DIR/$1.db\""; }
# mid_commit — waits (a few seconds at most) until a transaction on the hub's database
# has written and not yet committed (PostgreSQL gives it a transaction id only then).
mid_commit() {
	_i=0
	while [ $_i -lt 150 ]; do
		[ "$(hub_sql "$HDB" "SELECT count(*) FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()")" -gt 0 ] 2>/dev/null && return 0
		_i=$((_i + 1))
	done
	return 1
}

# ---- the database and three hub processes ----------------------------------------------

HDB=$(hub_db hub)
if ! "$HUB" init --db "$HDB" --units "$UNITS" >"$E2E_DIR/init.log" 2>&1; then
	fail pg_concurrency__hub_on_postgresql "lienket-hub init --db $HDB: $(tail -3 "$E2E_DIR/init.log" | tr '\n' ' ')"
	e2e_finish
fi
if ! serve h1 || ! serve h2 || ! serve h3; then
	fail pg_concurrency__three_hub_processes_serve_one_database "a hub process did not start"
	e2e_finish
fi
# shellcheck disable=SC2154 # URL_h1.. are set by serve
H1=$URL_h1 H2=$URL_h2 H3=$URL_h3
ok pg_concurrency__three_hub_processes_serve_one_database

# ---- the same agent's change sets through two processes -----------------------------------
# One laptop (a) and, each round, a byte copy of it (a2: same agent id, token and
# journal) pointed at the other process; both sync at once.
laptop a 22915 "$H1" || fail pg_concurrency__same_agent_racing "agent init failed: $(tail -2 "$E2E_DIR/a.init.log")"
for _ in 1 2 3 4; do
	record a 50
	archive a
	rm -f "$E2E_DIR/a2.db"
	sqlite3 "$E2E_DIR/a.db" ".backup '$E2E_DIR/a2.db'"
	point a2 "$H2"
	sync_bg a; p1=$!
	sync_bg a2; p2=$!
	wait $p1; wait $p2
done
sync_fg a
verify same_agent_racing "{\"offices\": [$(db a)]}"
dups=$(sed -n 's/.*"duplicate_receipts": \([0-9]*\).*/\1/p' "$E2E_DIR/same_agent_racing.check")
if [ "${dups:-0}" -gt 0 ]; then ok pg_concurrency__same_agent_racing_met_duplicates
else fail pg_concurrency__same_agent_racing_met_duplicates "no change set arrived twice: the race did not happen"; fi

# ---- two laptops of one office writing the same rows ------------------------------------
if ! laptop o1 22918 "$H1" || ! laptop o2 22918 "$H2"; then
	fail pg_concurrency__same_row "agent init failed"
fi
N=$((N + 1)); python3 "$PY" people "$E2E_DIR/o1.db" 150 $((SEED * 1000 + N))
archive o1
sync_fg o1; sync_fg o2
for _ in 1 2 3; do
	N=$((N + 1)); python3 "$PY" edit "$E2E_DIR/o1.db" $((SEED * 1000 + N)) phone,birth_year
	N=$((N + 1)); python3 "$PY" edit "$E2E_DIR/o2.db" $((SEED * 1000 + N)) phone,full_name
	archive o1 o2
	sync_bg o1; p1=$!
	sync_bg o2; p2=$!
	wait $p1; wait $p2
done
converge o1 o2 || fail pg_concurrency__same_row "the two laptops did not converge"
verify same_row "{\"offices\": [$(db o1), $(db o2)]}"

# ---- pulls while commits are in flight ---------------------------------------------------
# Three laptops of two communes push small change sets, often, through all three processes
# (commits of different processes overlapping), while their district's laptop pulls.
if ! laptop w1 22921 "$H1" || ! laptop w2 22924 "$H2" || ! laptop w3 22921 "$H3" ||
	! laptop d 593 "$H3"; then
	fail pg_concurrency__pulls_in_flight "agent init failed"
fi
pushers=""
for w in w1 w2 w3; do
	(
		for _ in 1 2 3 4 5; do
			record $w 20; archive $w; sync_fg $w
		done
	) &
	pushers="$pushers $!"
	e2e_track $!
done
pulls=0
running() { for _p in $pushers; do kill -0 "$_p" 2>/dev/null && return 0; done; return 1; }
while running; do
	sync_fg d; pulls=$((pulls + 1))
done
for _p in $pushers; do wait "$_p"; done
# one more pull each (a row committed behind a cursor is never pulled again)
for w in w1 w2 w3 d; do sync_fg $w; done
echo "    district laptop pulled $pulls times while the communes pushed"
scope=$(printf '"%s", ' "$(unit_of 593)" "$(unit_of 22915)" "$(unit_of 22918)" "$(unit_of 22921)" "$(unit_of 22924)")
verify pulls_in_flight "{\"offices\": [$(db w1), $(db w2), $(db w3)], \"pullers\": {$(db d): [${scope%, }]}}"

# ---- kill -9 of a hub process mid-commit ----------------------------------------------------
if ! laptop k1 22969 "$H1" || ! laptop k2 22972 "$H1" || ! laptop k3 22975 "$H1"; then
	fail pg_concurrency__kill_mid_commit "agent init failed"
fi
kills=0
mid=0
for _ in 1 2 3; do
	record k1 100; record k2 100; record k3 100
	archive k1 k2 k3
	sync_bg k1; q1=$!
	sync_bg k2; q2=$!
	sync_bg k3; q3=$!
	# kill H1 while a transaction of it has written and not committed (only H1 writes now)
	mid_commit && mid=$((mid + 1))
	# shellcheck disable=SC2154 # PID_h1 is set by serve
	kill -9 "$PID_h1" 2>/dev/null && kills=$((kills + 1))
	wait "$PID_h1" 2>/dev/null
	wait $q1; wait $q2; wait $q3
	# shellcheck disable=SC2154 # PORT_h1 is set by serve
	serve h1 "$PORT_h1" || { fail pg_concurrency__kill_mid_commit "H1 did not restart"; break; }
done
echo "    H1 killed $kills times, $mid of them with a write transaction open"
[ "$mid" -gt 0 ] || fail pg_concurrency__kill_mid_commit "H1 was never killed with a write transaction open"
converge k1 k2 k3 || fail pg_concurrency__kill_mid_commit "the laptops did not converge after the kills"
verify kill_mid_commit "{\"offices\": [$(db k1), $(db k2), $(db k3)]}"

# ---- everything, once more, from every laptop -------------------------------------------------
verify all_offices_at_the_end "{\"offices\": [$(db a), $(db o1), $(db o2), $(db w1), $(db w2), $(db w3), $(db k1), $(db k2), $(db k3)], \"pullers\": {$(db d): [${scope%, }]}}"
# ---- the same figures from both back ends ----------------------------------------------------
# The hub's rows copied into an SQLite file (lienket-hub migrate, the hubs stopped): the
# report of every level is the same, byte for byte, read from either.
for h in h1 h2 h3; do eval "stop \$PID_$h"; done
if "$HUB" migrate --from "$HDB" --to "$E2E_DIR/copy.db" >"$E2E_DIR/migrate.log" 2>&1; then
	differ="" n=0
	for u in 60 593 595 602 22915 22918 22921 22924 22969; do
		for f in json csv; do
			"$HUB" report --db "$HDB" --unit $u --year 2024 --today 2025-06-30 --format $f \
				>"$E2E_DIR/report-pg" 2>&1
			"$HUB" report --db "$E2E_DIR/copy.db" --unit $u --year 2024 --today 2025-06-30 \
				--format $f >"$E2E_DIR/report-sqlite" 2>&1
			n=$((n + 1))
			cmp -s "$E2E_DIR/report-pg" "$E2E_DIR/report-sqlite" || differ="$differ $u/$f"
			[ "$u/$f" != 60/json ] || cp "$E2E_DIR/report-pg" "$E2E_DIR/province.json"
		done
	done
	# (the province's report counts the meetings the offices recorded: not all zero)
	if [ -z "$differ" ] && grep -Eq '"value": ?[1-9]' "$E2E_DIR/province.json"; then
		ok pg_concurrency__reports_the_same_on_both_back_ends
		echo "    $n reports compared"
	else
		fail pg_concurrency__reports_the_same_on_both_back_ends "differ:${differ:- none, but no figures} ($(head -c 300 "$E2E_DIR/province.json"))"
	fi
else
	fail pg_concurrency__reports_the_same_on_both_back_ends "migrate failed: $(tail -3 "$E2E_DIR/migrate.log" | tr '\n' ' ')"
fi
e2e_finish
