#!/bin/sh
# app_bench.sh — the office app over a big office database (issue 13, "Benchmarks (not
# timed tests)"): 50,000 people, 50,000 meetings (each with a branch row) and 50,000
# roles (each of its own person, at one of the branches) of one commune with 40 branches, written straight into an agent database with sqlite3 (the
# journaling triggers fire as for any write), then `lienket-agent app --no-open` from
# $LK_BIN (a release build: make MODE=release) answering lists, searches, sorted pages
# and pickers. Prints per request the CPU time of the agent (from /proc) for the first
# request and averaged over the APP_BENCH_REPEAT that follow (a list sorted by a linked
# name ranks the names at its first request and keeps the ranks until the database
# changes: the first figure is the one after a change), the wall time (average), and
# the agent's peak resident size.
# This machine is shared: the CPU time is the figure to read; wall time grows with load.
#
#   LK_BIN=build/release sh bench/app_bench.sh
#
# Knobs: APP_BENCH_ROWS (default 50000), APP_BENCH_REPEAT (10), BENCH_KEEP=1 (keep the
# scratch directory). Every process it starts is stopped by its PID.
set -eu
: "${LK_BIN:=build/release}"
ROWS=${APP_BENCH_ROWS:-50000}
REPEAT=${APP_BENCH_REPEAT:-10}
AGENT="$LK_BIN/lienket-agent"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/lk-app-bench.XXXXXX")
APP_PID=""
cleanup() {
	[ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null && wait "$APP_PID" 2>/dev/null
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
[ -x "$AGENT" ] || { echo "no $AGENT (make MODE=release)"; exit 1; }

U=0190f3a2-0000-7000-8000-0000000000c1
DB="$DIR/office.db"
"$AGENT" init --db "$DB" --unit "$U" >/dev/null
sqlite3 "$DB" <<SQL
INSERT INTO unit(id, unit_id, opened_on) VALUES ('$U', '$U', '2019-01-01');
INSERT INTO unit_name(id, unit_id, of_unit, name, kind, valid_from)
  VALUES ('0190f3a2-0000-7000-8000-0000000000d1', '$U', '$U', 'Xã Quảng Thành', 'commune', '2019-01-01');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
INSERT INTO unit(id, unit_id, opened_on) SELECT printf('0190f3a2-0000-7000-8001-%012d', i), '$U', '2019-01-01' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
INSERT INTO unit_name(id, unit_id, of_unit, name, kind, valid_from)
  SELECT printf('0190f3a2-0000-7000-8002-%012d', i), '$U', printf('0190f3a2-0000-7000-8001-%012d', i),
         'Thôn Đông ' || i, 'branch', '2019-01-01' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
INSERT INTO unit_parent(id, unit_id, of_unit, parent_id, valid_from)
  SELECT printf('0190f3a2-0000-7000-8003-%012d', i), '$U', printf('0190f3a2-0000-7000-8001-%012d', i), '$U',
         '2019-01-01' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
INSERT INTO person(id, unit_id, full_name, birth_year, gender)
  SELECT printf('0190f3a2-0000-7000-8004-%012d', i), '$U',
         (CASE i % 5 WHEN 0 THEN 'Nguyễn Thị ' WHEN 1 THEN 'Đỗ Văn ' WHEN 2 THEN 'Trần Minh '
                     WHEN 3 THEN 'Lê Thị ' ELSE 'Phạm Đức ' END) ||
         (CASE i % 7 WHEN 0 THEN 'Hoa' WHEN 1 THEN 'Nam' WHEN 2 THEN 'An' WHEN 3 THEN 'Bình'
                     WHEN 4 THEN 'Lan' WHEN 5 THEN 'Hùng' ELSE 'Tâm' END) || ' ' || i,
         1980 + i % 25, CASE i % 2 WHEN 0 THEN 'nu' ELSE 'nam' END FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
INSERT INTO meeting(id, unit_id, kind, held_on, host_branch_id, attendees, concerns)
  SELECT printf('0190f3a2-0000-7000-8005-%012d', i), '$U',
         CASE i % 4 WHEN 0 THEN 'joint' WHEN 1 THEN 'branch' WHEN 2 THEN 'giao_ban' ELSE 'giao_nhiem_vu' END,
         date('2015-01-01', '+' || (i % 3000) || ' days'), printf('0190f3a2-0000-7000-8001-%012d', 1 + i % 40),
         i % 60, 'Thiếu kinh phí hoạt động ' || i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
INSERT INTO meeting_branch(id, unit_id, meeting_id, branch_id)
  SELECT printf('0190f3a2-0000-7000-8006-%012d', i), '$U', printf('0190f3a2-0000-7000-8005-%012d', i),
         printf('0190f3a2-0000-7000-8001-%012d', 1 + (i * 7) % 40) FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
INSERT INTO role(id, unit_id, person_id, role, of_unit, term_from)
  SELECT printf('0190f3a2-0000-7000-8007-%012d', i), '$U', printf('0190f3a2-0000-7000-8004-%012d', 1 + (i * 7919) % $ROWS),
         CASE i % 3 WHEN 0 THEN 'branch_secretary' WHEN 1 THEN 'branch_deputy' ELSE 'member' END,
         printf('0190f3a2-0000-7000-8001-%012d', 1 + i % 40), date('2015-01-01', '+' || (i % 3000) || ' days') FROM n;
SQL

"$AGENT" app --db "$DB" --no-open --url-file "$DIR/url" >"$DIR/app.out" 2>"$DIR/app.err" &
APP_PID=$!
i=0
while [ ! -s "$DIR/url" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
URL=$(cat "$DIR/url")
BASE=$(echo "$URL" | sed 's|/?k=.*||')
curl -s -o /dev/null -c "$DIR/jar" "$URL"
TCK=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$APP_PID/stat"; }
now_ms() { date +%s%3N; }
echo "office app over $ROWS people, $ROWS meetings and $ROWS roles ($(du -h "$DB" | cut -f1) database), 1 + $REPEAT requests each:"
printf '%9s %9s %9s  %s\n' "cpu first" "cpu avg" "wall avg" "request (ms)"
for path in "/api/forms/person" "/api/forms/person?q=nguyen%20thi%20hoa" "/api/forms/person?q=do" \
	"/api/forms/person?sort=full_name&dir=desc&offset=25000" "/api/forms/meeting" \
	"/api/forms/meeting?offset=40000" "/api/forms/meeting?q=dong%2017" "/api/forms/meeting?q=14/03/2021" \
	"/api/forms/meeting?q=zzzz" "/api/forms/meeting?sort=host_branch_id" \
	"/api/forms/meeting?sort=unit_id&dir=desc&offset=40000" "/api/forms/meeting?sort=host_branch_id&dir=desc&offset=40000" \
	"/api/forms/meeting?sort=host_branch_id&q=dong" "/api/forms/meeting?sort=kind&offset=40000" \
	"/api/forms/role?sort=person_id" "/api/forms/role?sort=of_unit&offset=25000" \
	"/api/forms/role?sort=person_id&dir=desc&offset=25000" "/api/forms/role?q=hoa" "/api/forms/role?sort=person_id&q=hoa" \
	"/api/pick/person?q=hoa" "/api/pick/unit?q=dong" "/api/forms/branch"; do
	c0=$(cpu)
	curl -s -o /dev/null -b "$DIR/jar" "$BASE$path"
	c1=$(cpu) w0=$(now_ms)
	k=0
	while [ $k -lt "$REPEAT" ]; do curl -s -o /dev/null -b "$DIR/jar" "$BASE$path"; k=$((k + 1)); done
	c2=$(cpu) w1=$(now_ms)
	printf '%9d %9d %9d  %s\n' $(((c1 - c0) * 1000 / TCK)) $(((c2 - c1) * 1000 / TCK / REPEAT)) $(((w1 - w0) / REPEAT)) "$path"
done
echo "peak resident size of the agent: $(awk '/VmHWM/ { print $2, $3 }' "/proc/$APP_PID/status") (limit 24 MB); load: $(cut -d' ' -f1-3 /proc/loadavg)"
