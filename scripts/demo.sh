#!/bin/sh
# scripts/demo.sh — `make demo`: the main job of Liên Kết on loopback, in a few minutes.
#
# A province hub with the real unit tree of Bình Thuận (10 districts, 121 communes); every
# office enrolled; a year (2021) of activity made by lienket-gen and recorded by each
# office's own agent while offline (CSV import); offices brought online in waves, some
# syncs cut half-way by faultproxy, one laptop with its clock years ahead, one commune
# (Xã Tam Thanh, on Phú Quý island) that never syncs; then the province report beside the
# article's figures, the sync status, the dashboard page and the daily digest, in files
# named at the end. docs/demo.md describes each step.
#
#   sh scripts/demo.sh            (B=build dir, default build/release;
#                                  DEMO_OUT=work dir, default demo-out; DEMO_JOBS=4,
#                                  DEMO_RECORD_JOBS=8)
#
# Every process it starts is stopped by PID on exit (kill and /proc only: nothing beyond
# coreutils). Exit status 0 when every headline figure of the report equals the
# article's; otherwise the last lines say which phase failed, why, and where its log is.
set -eu

cd "$(dirname "$0")/.."
ROOT=$(pwd)
B=${B:-build/release}
OUT=${DEMO_OUT:-demo-out}
JOBS=${DEMO_JOBS:-4}           # syncs at once (the hub on 2 cores is the bound)
RECORD_JOBS=${DEMO_RECORD_JOBS:-8} # laptops importing at once (mostly waiting on fsync)
YEAR=2021
UNITS=tests/fixtures/binh-thuan-before-2025-07.csv
SILENT=23278                  # Xã Tam Thanh (Huyện Phú Quí): never syncs
CLOCK=23095                   # Xã Hàm Liêm: the laptop whose clock is two years ahead
AHEAD_DAYS=730
CUT_DURING=23188              # Xã Suối Kiết: cut after 6,000 bytes of a request
CUT_DURING2=23227             # Xã Trà Tân: cut after 1,500 bytes of a request
CUT_AFTER=23041               # Xã Hồng Thái: the hub gets the request, the answer is lost
case $B in /*) BIN=$B ;; *) BIN=$ROOT/$B ;; esac
HUB="$BIN/lienket-hub"
AGENT="$BIN/lienket-agent"
GEN="$BIN/lienket-gen"
PROXY="$BIN/tools/faultproxy"
export LC_ALL=C.UTF-8

# ---- helpers --------------------------------------------------------------------------

now_ms() { date +%s%3N; }
say() { for l in "$@"; do printf '%s\n' "$l"; done; }
# pad TEXT WIDTH — TEXT and spaces up to WIDTH characters (printf pads bytes, not letters).
pad() {
	n=$(printf '%s' "$1" | wc -m)
	printf '%s%*s' "$1" $(($2 > n ? $2 - n : 0)) ''
}
# The log file a failing phase shows the end of.
LOG=""

DIED=""
die() {
	DIED=1
	say "" "demo: FAILED in phase '$PHASE': $*${LOG:+ (log: $LOG)}" >&2
	if [ -n "$LOG" ] && [ -f "$LOG" ]; then
		say "--- last lines of $LOG ---" >&2
		tail -n 20 "$LOG" >&2
	fi
	exit 1
}

# phase NAME — closes the previous phase (prints its time) and starts the next.
PHASE="" PHASE_T0=0 DEMO_T0=$(now_ms) TIMINGS=""
phase() {
	phase_end
	PHASE=$1
	PHASE_T0=$(now_ms)
	say "" "== $PHASE"
}
phase_end() {
	[ -n "$PHASE" ] || return 0
	t=$(( $(now_ms) - PHASE_T0 ))
	TIMINGS="$TIMINGS$(printf '  %s %5d.%01d s' "$(pad "$PHASE" 62)" $((t / 1000)) $((t % 1000 / 100)))
"
	say "   ($PHASE: $((t / 1000)).$((t % 1000 / 100)) s)"
	PHASE=""
}

# Processes this script started (the hub, the faultproxies), stopped by PID on exit; their
# PIDs are also in $OUT/pids for the watchdog (below).
PIDS="" WATCHDOG=""
track() { PIDS="$PIDS $1"; echo "$1" >>"$OUT/pids"; }
# ours PID — the process is still one of ours (its arguments, in /proc, name our work
# directory), not another that got its number since (PIDs wrap at 32768 here). A process
# that has exited (gone, or a zombie with no arguments left) is not.
ours() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF -- "$OUT/"; }
stop_pid() {
	ours "$1" || return 0
	kill "$1" 2>/dev/null || return 0
	i=0
	while ours "$1" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	! ours "$1" || kill -9 "$1" 2>/dev/null || true
}
cleanup() {
	if [ -n "$WATCHDOG" ]; then
		kill "$WATCHDOG" 2>/dev/null || true
		wait "$WATCHDOG" 2>/dev/null || true
		WATCHDOG=""
	fi
	for p in $PIDS; do stop_pid "$p"; done
	PIDS=""
}
# on_exit — any failure that did not go through die (a command failing under set -e) still
# says which phase it was in and where that phase's log is.
on_exit() {
	rc=$?
	if [ "$rc" -ne 0 ] && [ -z "$DIED" ] && [ -n "${DEMO_MAIN:-}" ]; then
		say "" "demo: FAILED in phase '${PHASE:-(between phases)}': a command exited $rc${LOG:+ (log: $LOG)}" >&2
		if [ -n "$LOG" ] && [ -f "$LOG" ]; then
			say "--- last lines of $LOG ---" >&2
			tail -n 20 "$LOG" >&2
		fi
	fi
	cleanup
}
# The watchdog: should this script be killed before its trap runs (SIGKILL, or SIGTERM while
# it waits for a foreground job), it stops what the script started, within a second.
start_watchdog() {
	parent=$$
	(
		# Stopped by cleanup (SIGTERM), it stops its own sleep too: nothing is left behind.
		s=""
		trap - EXIT INT
		trap 'kill "$s" 2>/dev/null; exit 0' TERM
		while kill -0 "$parent" 2>/dev/null; do
			sleep 1 &
			s=$!
			wait "$s"
		done
		[ -f "$OUT/pids" ] || exit 0
		while read -r p; do ! ours "$p" || kill "$p" 2>/dev/null || true; done <"$OUT/pids"
	) </dev/null >/dev/null 2>&1 &
	WATCHDOG=$!
}
trap on_exit EXIT
trap 'DIED=1; cleanup; exit 130' INT
trap 'DIED=1; cleanup; exit 143' TERM

# wait_for FILE TENTHS — waits until FILE is non-empty, at most TENTHS tenths of a second.
wait_for() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$1" ]
}

# wait_log FILE TEXT TENTHS — waits until FILE holds TEXT.
wait_log() {
	i=0
	while ! grep -qF -- "$2" "$1" 2>/dev/null && [ $i -lt "$3" ]; do sleep 0.1; i=$((i + 1)); done
	grep -qF -- "$2" "$1" 2>/dev/null
}

# JSON through sqlite3's JSON functions (no jq on a bare Debian): sql QUERY, where the
# report's JSON is table r(j) and the status's s(j).
sql() {
	sqlite3 -batch -noheader -separator '	' :memory: \
		"CREATE TABLE r(j); CREATE TABLE s(j);
		 INSERT INTO r SELECT readfile('$OUT/report.json') WHERE readfile('$OUT/report.json') IS NOT NULL;
		 INSERT INTO s SELECT readfile('$OUT/status.json') WHERE readfile('$OUT/status.json') IS NOT NULL;
		 $1"
}

# measure FIGURE KEY FIELD — a field (value, of) of a measure of the report's total.
measure() {
	sql "SELECT json_extract(m.value, '\$.$3') FROM r, json_each(r.j, '\$.figures') f,
	       json_each(f.value, '\$.measures') m
	     WHERE json_extract(f.value, '\$.number') = $1 AND json_extract(m.value, '\$.key') = '$2';"
}
measure_prev() {
	sql "SELECT json_extract(m.value, '\$.previous.$3') FROM r, json_each(r.j, '\$.figures') f,
	       json_each(f.value, '\$.measures') m
	     WHERE json_extract(f.value, '\$.number') = $1 AND json_extract(m.value, '\$.key') = '$2';"
}

# Numbers as Vietnamese write them: 6.277
vn() { printf '%s' "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|\.\)/\1.\2\3/; ta'; }

# ---- internal: one office's work, run in parallel by xargs ---------------------------

# The laptop with the wrong clock (CLOCK): its clock is AHEAD_DAYS ahead while it records.
# The agent stamps each change with the laptop's time plus lk_state.offset_ms (the
# correction it learns from the hub at every sync, PROTOCOL.md §4), so setting that offset
# to AHEAD_DAYS after `init` makes the agent record exactly what a laptop whose clock is
# that far ahead records — as tests/e2e/faults.sh does — with no wrapper around the
# program. Its first sync then learns the hub's time, as such a laptop does.
AHEAD_MS=$((AHEAD_DAYS * 86400000))

# __record CODE: the office's laptop is set up and records its year, offline.
office_record() {
	code=$1 dir="$OUT/offices/$1"
	uid=$(awk -F, -v c="$code" '$1 == c { print $5 }' "$OUT/gen/index.csv")
	{
		"$AGENT" init --db "$dir/xa.db" --unit "$uid" --hub "$(cat "$dir/hub_url")" \
			--token "$(cat "$dir/token")" || return 1
		if [ "$code" = "$CLOCK" ]; then
			sqlite3 "$dir/xa.db" "UPDATE lk_state SET offset_ms = $AHEAD_MS WHERE one = 1" || return 1
			echo "laptop clock set $AHEAD_DAYS days ahead (lk_state.offset_ms = $AHEAD_MS)"
		fi
		for f in "$OUT/gen/$code"/[0-9][0-9]-*.csv; do
			t=$(basename "$f" .csv)
			"$AGENT" import "${t#[0-9][0-9]-}" "$f" --db "$dir/xa.db" || return 1
		done
	} >"$dir/record.log" 2>&1 && : >"$dir/record.ok"
}

# __sync CODE TRY: one sync; its exit code in sync-TRY.rc, its output in sync-TRY.log.
office_sync() {
	dir="$OUT/offices/$1"
	rc=0
	"$AGENT" sync --db "$dir/xa.db" >"$dir/sync-$2.log" 2>&1 || rc=$?
	echo "$rc" >"$dir/sync-$2.rc"
	return 0
}

case "${1:-}" in
__record) office_record "$2"; exit $? ;;
__sync) office_sync "$2" "$3"; exit $? ;;
esac
DEMO_OUT=$OUT
DEMO_MAIN=1
export B DEMO_OUT

# run_offices ACTION — ACTION (__record) for each office code on stdin, RECORD_JOBS at a time.
run_offices() {
	xargs -P "$RECORD_JOBS" -I{} sh "$ROOT/scripts/demo.sh" "$1" {}
}
# sync_wave TRY FILE [CODE...] — one sync of each office of FILE and of the CODEs, JOBS
# at a time.
sync_wave() {
	try=$1 file=$2
	shift 2
	{ cat "$file"; [ $# -eq 0 ] || printf '%s\n' "$@"; } |
		xargs -P "$JOBS" -I{} sh "$ROOT/scripts/demo.sh" __sync {} "$try"
}
# first WORDS — the first of a space-separated list.
first() { echo "$1" | awk "{ print \$1 }"; }
rc_of() { cat "$OUT/offices/$1/sync-$2.rc" 2>/dev/null || echo "?"; }
name_of() { awk -F, -v c="$1" '$3 == c { print $4 }' "$OUT/gen/index.csv"; }

# ---- 1. dependencies and build -------------------------------------------------------

say "Liên Kết — demo: tỉnh Bình Thuận, năm $YEAR, trên máy này (127.0.0.1)"
phase "dependencies (scripts/deps.sh demo)"
sh scripts/deps.sh --check-or-install demo || die "missing Debian packages (see above)"

phase "build (make $B, release)"
rm -rf "$OUT"
mkdir -p "$OUT/hub" "$OUT/offices" "$OUT/proxy"
start_watchdog
LOG="$OUT/build.log"
make -j"$(nproc 2>/dev/null || echo 2)" --no-print-directory B="$B" MODE=release \
	"$B/lienket-hub" "$B/lienket-agent" "$B/tools/faultproxy" "$B/lienket-gen" >"$LOG" 2>&1 ||
	die "the build failed"
say "   built $B/lienket-hub, lienket-agent, lienket-gen, tools/faultproxy"

# ---- 2. the province hub -------------------------------------------------------------

phase "province hub: init, enroll 131 offices, serve"
LOG="$OUT/hub/init.log"
DB="$OUT/hub/tinh.db"
"$HUB" init --db "$DB" --units "$UNITS" >"$LOG" 2>&1 || die "lienket-hub init"
"$HUB" units list --db "$DB" >"$OUT/hub/units.tsv" 2>>"$LOG" || die "lienket-hub units list"
nd=$(awk -F'\t' '$4 == "district"' "$OUT/hub/units.tsv" | wc -l)
nc=$(awk -F'\t' '$4 == "commune"' "$OUT/hub/units.tsv" | wc -l)
say "   $DB: $nd districts, $nc communes of $(sed -n 2p "$UNITS" | cut -d, -f1)"
if [ "$nd" -ne 10 ] || [ "$nc" -ne 121 ]; then die "expected 10 districts and 121 communes"; fi
LOG="$OUT/hub/serve.log"
"$HUB" serve --db "$DB" --listen 127.0.0.1:0 --port-file "$OUT/hub/port" >"$LOG" 2>&1 &
track $!
wait_for "$OUT/hub/port" 100 || die "the hub did not start within 10 s"
HUB_URL="http://127.0.0.1:$(cat "$OUT/hub/port")"
say "   hub serving on $HUB_URL (pid $!)"
LOG="$OUT/hub/enroll.log"
"$HUB" enroll --db "$DB" --viewer --name "Văn phòng Tỉnh đoàn" 2>>"$LOG" |
	sed -n 's/^token: //p' >"$OUT/hub/viewer.token"
[ -s "$OUT/hub/viewer.token" ] || die "enroll --viewer"
VIEWER=$(cat "$OUT/hub/viewer.token")
awk -F'\t' '$4 == "district" || $4 == "commune" { print $2 }' "$OUT/hub/units.tsv" >"$OUT/hub/codes"
while read -r code; do
	mkdir -p "$OUT/offices/$code"
	"$HUB" enroll --db "$DB" --unit "$code" 2>>"$LOG" | sed -n 's/^token: //p' >"$OUT/offices/$code/token"
	[ -s "$OUT/offices/$code/token" ] || die "enroll --unit $code"
	echo "$HUB_URL" >"$OUT/offices/$code/hub_url"
done <"$OUT/hub/codes"
say "   $(wc -l <"$OUT/hub/codes") office tokens and one viewer token issued"

# ---- 3. a year of activity -----------------------------------------------------------

phase "generate the year $YEAR (lienket-gen)"
LOG="$OUT/gen.log"
"$GEN" province --units "$UNITS" --unit-ids "$OUT/hub/units.tsv" --year "$YEAR" --seed 1 \
	--silent "$SILENT" --out "$OUT/gen" >"$LOG" 2>&1 || die "lienket-gen"
sed 's/^/   /' "$LOG"

# Offices whose link is cut: a faultproxy each, between the agent and the hub.
start_proxy() { # start_proxy CODE SPEC
	d="$OUT/proxy/$1"
	mkdir -p "$d"
	echo "fault=$2" >"$d/control"
	"$PROXY" --listen 127.0.0.1:0 --port-file "$d/port" --target "127.0.0.1:${HUB_URL##*:}" \
		--control-file "$d/control" --log "$d/log" 2>/dev/null &
	track $!
	echo $! >"$d/pid"
	wait_for "$d/port" 50 || { LOG="$d/log"; die "faultproxy for $1 did not start"; }
	echo "http://127.0.0.1:$(cat "$d/port")" >"$OUT/offices/$1/hub_url"
}
start_proxy "$CUT_DURING" drop-during-request:6000
start_proxy "$CUT_DURING2" drop-during-request:1500
start_proxy "$CUT_AFTER" drop-after-request

phase "record offline: 131 laptops import their year"
LOG=""
awk -F, 'NR > 1 { print $1 }' "$OUT/gen/index.csv" >"$OUT/offices.list"
# xargs exits 123 when an office failed: each office's outcome is checked just below.
run_offices __record <"$OUT/offices.list" || true
bad=""
while read -r code; do [ -f "$OUT/offices/$code/record.ok" ] || bad="$bad $code"; done <"$OUT/offices.list"
if [ -n "$bad" ]; then
	LOG="$OUT/offices/$(first "$bad")/record.log"
	die "recording failed for:$bad"
fi
rows=$(cat "$OUT"/gen/*/[0-9][0-9]-*.csv | grep -vc '^id,\|^unit_id,' || true)
say "   $(wc -l <"$OUT/offices.list") offices recorded $rows rows; nothing sent yet:"
"$AGENT" status --db "$OUT/offices/$SILENT/xa.db" 2>&1 |  grep -i 'chờ gửi\|thành công gần nhất' | sed "s/^/   [$SILENT $(name_of $SILENT)] /"

# The wrong clock: this laptop recorded with its date two years ahead (see AHEAD_MS).
say "   [$CLOCK $(name_of $CLOCK)] laptop clock $AHEAD_DAYS days ahead: it recorded its changes on $(date -u -d "@$(( $(date +%s) + AHEAD_MS / 1000 ))" +%F)"

# ---- 4. online, in waves -------------------------------------------------------------

# Districts first (their giao ban rows name branches the hub does not know yet), then
# communes in three waves; the silent commune never; the special ones in wave 2.
awk -F, '$2 == "district" { print $3 }' "$OUT/gen/index.csv" >"$OUT/wave1"
awk -F, -v s="$SILENT" -v a="$CLOCK" -v b="$CUT_DURING" -v c="$CUT_DURING2" -v d="$CUT_AFTER" \
	'$2 == "commune" && $3 != s && $3 != a && $3 != b && $3 != c && $3 != d { print $3 }' \
	"$OUT/gen/index.csv" >"$OUT/communes"
n=$(wc -l <"$OUT/communes")
head -n $((n / 2)) "$OUT/communes" >"$OUT/wave2"
tail -n $((n - n / 2)) "$OUT/communes" >"$OUT/wave3"

report_wave() { # report_wave TRY FILE
	ok=0 failed=""
	while read -r code; do
		if [ "$(rc_of "$code" "$1")" = 0 ]; then ok=$((ok + 1)); else failed="$failed $code"; fi
	done <"$2"
	say "   $ok of $(wc -l <"$2") synced${failed:+; failed:$failed}"
	[ -z "$failed" ] || { LOG="$OUT/offices/$(first "$failed")/sync-$1.log"; die "sync failed"; }
}

phase "wave 1: the 10 district offices sync"
sync_wave 1 "$OUT/wave1"
report_wave 1 "$OUT/wave1"
# Their giao ban rows name every branch of the district, which no commune has sent yet.
if curl -sf -o "$OUT/status.json" -H "Authorization: Bearer $VIEWER" "$HUB_URL/v1/status"; then
	say "   hub flags now: $(sql "SELECT json_extract(j, '\$.flags.dangling_ref') FROM s;") rows name a branch not yet synced (dangling_ref)"
fi

phase "wave 2: $(wc -l <"$OUT/wave2") communes + 3 links cut half-way + the wrong clock"
sync_wave 1 "$OUT/wave2" "$CUT_DURING" "$CUT_DURING2" "$CUT_AFTER" "$CLOCK"
report_wave 1 "$OUT/wave2"
for code in "$CUT_DURING" "$CUT_DURING2" "$CUT_AFTER"; do
	rc=$(rc_of "$code" 1)
	spec=$(sed -n 's/^fault=//p' "$OUT/proxy/$code/control")
	say "   [$code $(name_of "$code")] link cut ($spec): sync exit $rc — $(tail -n 1 "$OUT/offices/$code/sync-1.log")"
	[ "$rc" != 0 ] || say "   (the cut did not stop this sync: the agent rode through it)"
done
rc=$(rc_of "$CLOCK" 1)
say "   [$CLOCK $(name_of "$CLOCK")] sync exit $rc: $(grep -i 'clock' "$OUT/offices/$CLOCK/sync-1.log" | head -n 1)"
[ "$rc" = 0 ] || { LOG="$OUT/offices/$CLOCK/sync-1.log"; die "the laptop with the wrong clock did not sync"; }
"$AGENT" status --db "$OUT/offices/$CLOCK/xa.db" 2>&1 | grep -i 'đồng hồ' | sed 's/^/     /' || true

phase "wave 3: $(wc -l <"$OUT/wave3") communes + the 3 cut links, back"
for code in "$CUT_DURING" "$CUT_DURING2" "$CUT_AFTER"; do
	echo "fault=none" >"$OUT/proxy/$code/control.new"
	mv "$OUT/proxy/$code/control.new" "$OUT/proxy/$code/control"
	wait_log "$OUT/proxy/$code/log" "fault spec now 'none'" 50 ||
		{ LOG="$OUT/proxy/$code/log"; die "faultproxy for $code did not reload"; }
done
sync_wave 2 "$OUT/wave3" "$CUT_DURING" "$CUT_DURING2" "$CUT_AFTER"
report_wave 2 "$OUT/wave3"
for code in "$CUT_DURING" "$CUT_DURING2" "$CUT_AFTER"; do
	rc=$(rc_of "$code" 2)
	say "   [$code $(name_of "$code")] sync again: exit $rc — $(grep -v '^Xong' "$OUT/offices/$code/sync-2.log" | head -n 1)"
	[ "$rc" = 0 ] || { LOG="$OUT/offices/$code/sync-2.log"; die "the second sync of $code failed"; }
done
say "   [$SILENT $(name_of "$SILENT")] never syncs: $("$AGENT" status --db "$OUT/offices/$SILENT/xa.db" 2>&1 | grep 'chờ gửi')"

# ---- 5. what the province reads ------------------------------------------------------

# hub_has COMMAND — 1 when this lienket-hub has the command (another engineer may still be
# wiring it).
hub_has() { "$HUB" "$1" --help >/dev/null 2>&1; }
MISSING=""

phase "province report $YEAR"
LOG="$OUT/report.log"
: >"$LOG"
code=$(curl -s -o "$OUT/report.json" -w '%{http_code}' -H "Authorization: Bearer $VIEWER" \
	"$HUB_URL/v1/report?year=$YEAR" 2>>"$LOG" || true)
if [ "$code" != 200 ]; then
	rm -f "$OUT/report.json"
	MISSING="$MISSING GET/v1/report($code)"
fi
if hub_has report; then
	"$HUB" report --db "$DB" --year "$YEAR" >"$OUT/report.txt" 2>>"$LOG" || die "lienket-hub report"
	[ -f "$OUT/report.json" ] ||
		"$HUB" report --db "$DB" --year "$YEAR" --format json >"$OUT/report.json" 2>>"$LOG" ||
		die "lienket-hub report --format json"
	# The province's totals here; each district's line is in the file.
	grep -v '^     - ' "$OUT/report.txt"
	say "(từng huyện: $OUT/report.txt)"
else
	MISSING="$MISSING lienket-hub-report"
	if [ -f "$OUT/report.json" ]; then
		# The report as the hub's API gives it, one line a measure.
		sql "SELECT printf('%2d. %s', json_extract(f.value, '\$.number'), json_extract(f.value, '\$.label')),
		            group_concat(printf('      %s: %s%s%s', json_extract(m.value, '\$.label'),
		              json_extract(m.value, '\$.value'),
		              ifnull('/' || json_extract(m.value, '\$.of'), ''),
		              ifnull('   (năm trước: ' || json_extract(m.value, '\$.previous.value')
		                     || ifnull('/' || json_extract(m.value, '\$.previous.of'), '') || ')', '')),
		            char(10))
		     FROM r, json_each(r.j, '\$.figures') f, json_each(f.value, '\$.measures') m
		     WHERE m.key < 3 GROUP BY f.key ORDER BY f.key;" | tr '\t' '\n' >"$OUT/report.txt"
		say "Báo cáo tỉnh $(sql "SELECT json_extract(j, '\$.unit_name') FROM r;"), năm $YEAR (từ GET /v1/report)"
		cat "$OUT/report.txt"
	fi
fi
[ -f "$OUT/report.json" ] || die "no report: neither 'lienket-hub report' nor GET /v1/report in this build"

phase "the article beside the report"
secretaries=$(measure 11 secretaries of)
insured=$(measure 11 secretaries value)
introduced=$(measure 10 introduced value)
admitted=$(measure 10 admitted value)
parts=$(measure 9 participations value)
completed=$(measure 13 completed value)
rated=$(measure 13 completed of)
good=$(measure 13 excellent_good value)
good_prev=$(measure_prev 13 excellent_good value)
rated_prev=$(measure_prev 13 excellent_good of)
branches=$(measure 7 branches of)
BAD=0
line() { # line LABEL ARTICLE REPORT OK
	if [ "$4" = 1 ]; then mark="✓"; else mark="✗"; BAD=$((BAD + 1)); fi
	printf '  %s Bài báo: %s — Báo cáo: %s %s\n' "$(pad "$1" 42)" "$(pad "$2" 9)" "$(pad "$3" 17)" "$mark"
}
is() { [ "${1:-x}" = "$2" ] && echo 1 || echo 0; }
say "Số liệu chính — bài báo và báo cáo của máy chủ tỉnh (năm $YEAR):"
line "Chi đoàn thôn, khu phố (10 huyện)" "695" "${branches:-?}" "$(is "$branches" 695)"
line "Bí thư chi đoàn thôn, khu phố" "695" "${secretaries:-?}" "$(is "$secretaries" 695)"
line "Bí thư chi đoàn có thẻ bảo hiểm y tế" "667/695" "${insured:-?}/${secretaries:-?}" \
	"$(is "$insured/$secretaries" 667/695)"
line "Bí thư chi đoàn được giới thiệu cho Đảng" "245" "${introduced:-?}" "$(is "$introduced" 245)"
line "Bí thư chi đoàn được kết nạp Đảng" "93" "${admitted:-?}" "$(is "$admitted" 93)"
line "Lượt tham gia hoạt động tình nguyện" "hơn 6.000" "$(vn "${parts:-?}")" \
	"$([ "${parts:-0}" -gt 6000 ] && echo 1 || echo 0)"
line "Chi đoàn hoàn thành nhiệm vụ trở lên" "100%" "${completed:-?}/${rated:-?}" \
	"$([ -n "$completed" ] && [ "$completed" = "$rated" ] && [ "$rated" -gt 0 ] && echo 1 || echo 0)"
line "Xuất sắc + tốt cao hơn năm trước" "cao hơn" "${good:-?}/${rated:-?} > ${good_prev:-?}/${rated_prev:-?}" \
	"$([ -n "$good" ] && [ -n "$good_prev" ] && [ $((good * ${rated_prev:-0})) -gt $((good_prev * ${rated:-0})) ] && echo 1 || echo 0)"
exp_parts=$(sed -n 's/.*"key": "volunteer_participations".*"expected": \([0-9]*\).*/\1/p' "$OUT/gen/expected.json")
say "  (lienket-gen made $exp_parts participations; the report counts $parts.)"
silent_branches=$(sed -n 's/.*"silent": {"communes": \[.*"branches": \([0-9]*\)}.*/\1/p' "$OUT/gen/expected.json")
say "  $(name_of "$SILENT") (huyện đảo Phú Quý) chưa đồng bộ lần nào: những gì máy xã ghi (${silent_branches:-?} chi đoàn) chưa có trong báo cáo."

phase "sync status"
LOG="$OUT/status.log"
code=$(curl -s -o "$OUT/status.json" -w '%{http_code}' -H "Authorization: Bearer $VIEWER" \
	"$HUB_URL/v1/status" 2>>"$LOG" || true)
[ "$code" = 200 ] || { rm -f "$OUT/status.json"; MISSING="$MISSING GET/v1/status($code)"; }
if hub_has status; then
	"$HUB" status --db "$DB" >"$OUT/status.txt" 2>>"$LOG" || die "lienket-hub status"
	head -n 10 "$OUT/status.txt"
	[ "$(wc -l <"$OUT/status.txt")" -le 10 ] || say "   … ($(wc -l <"$OUT/status.txt") lines in $OUT/status.txt)"
elif [ -f "$OUT/status.json" ]; then
	MISSING="$MISSING lienket-hub-status"
	say "Tình trạng đồng bộ (GET /v1/status, lúc $(sql "SELECT json_extract(j, '\$.as_of') FROM s;")), việc cần gọi điện ở trên cùng:"
	sql "SELECT printf('  %-26s %-10s %-30s đồng bộ: %-16s chờ gửi: %s  lệch giờ: %s ms  gắn cờ: %s',
	            json_extract(o.value, '\$.state_vi'), json_extract(o.value, '\$.unit_code'),
	            json_extract(o.value, '\$.unit_name'), ifnull(json_extract(o.value, '\$.last_sync'), '—'),
	            json_extract(o.value, '\$.pending'), json_extract(o.value, '\$.clock_offset_ms'),
	            json_extract(o.value, '\$.flagged'))
	     FROM s, json_each(s.j, '\$.offices') o
	     WHERE json_extract(o.value, '\$.agent') IS NOT NULL OR NOT EXISTS (
	       SELECT 1 FROM json_each(s.j, '\$.offices') p WHERE json_extract(p.value, '\$.agent') IS NOT NULL
	         AND json_extract(p.value, '\$.unit') = json_extract(o.value, '\$.unit'))
	     ORDER BY o.key LIMIT 8;" >"$OUT/status.txt"
	cat "$OUT/status.txt"
else
	die "no status: neither 'lienket-hub status' nor GET /v1/status in this build"
fi
[ ! -f "$OUT/status.json" ] ||
	sql "SELECT printf('Tổng cộng %d văn phòng: %s.', sum(n), group_concat(n || ' ' || lower(st), ', '))
	     FROM (SELECT json_extract(o.value, '\$.state_vi') st, count(*) n
	           FROM s, json_each(s.j, '\$.offices') o GROUP BY st ORDER BY n DESC);"

phase "dashboard page and daily digest"
LOG="$OUT/dashboard.log"
DASH=""
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$OUT/cookies.txt" -H "Origin: $HUB_URL" --data-urlencode "token=$VIEWER" \
	"$HUB_URL/?year=$YEAR" 2>>"$LOG" || true)
if [ "$code" = 303 ] || [ "$code" = 302 ]; then
	code=$(curl -s -o "$OUT/dashboard.html" -w '%{http_code}' -b "$OUT/cookies.txt" \
		"$HUB_URL/?year=$YEAR" 2>>"$LOG" || true)
	[ "$code" = 200 ] && DASH="$OUT/dashboard.html (GET / after the viewer's login)"
fi
if [ -z "$DASH" ] && hub_has report && "$HUB" report --db "$DB" --year "$YEAR" --format html \
	>"$OUT/dashboard.html" 2>>"$LOG"; then
	DASH="$OUT/dashboard.html (lienket-hub report --format html)"
fi
[ -n "$DASH" ] || { rm -f "$OUT/dashboard.html"; MISSING="$MISSING dashboard(GET / $code)"; }
# The phone view: the same page at 390 px wide, whole (tests/e2e/browser.py; needs
# chromium, chromium-driver and python3-selenium: scripts/deps.sh browser).
PHONE=""
if [ -n "$DASH" ] && [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] &&
	/usr/bin/python3 -c 'import selenium' 2>/dev/null &&
	timeout 120 /usr/bin/python3 tests/e2e/browser.py shot "file://$(cd "$OUT" && pwd)/dashboard.html" \
		390 844 "$OUT/dashboard-phone.png" >>"$LOG" 2>&1; then
	PHONE="$OUT/dashboard-phone.png (the page at 390 px, as on a phone)"
fi
DIGEST=""
if hub_has digest; then
	day=$(TZ=Asia/Ho_Chi_Minh date -d tomorrow +%F)
	mkdir -p "$OUT/digest"
	"$HUB" digest --db "$DB" --date "$day" --out "$OUT/digest" >>"$LOG" 2>&1 || die "lienket-hub digest"
	DIGEST="$OUT/digest/ (lienket-hub digest --date $day: what arrived today)"
else
	MISSING="$MISSING lienket-hub-digest"
fi
# The digest where leaders read it: mailed (digest --mail) to an SMTP server on loopback
# (tests/e2e/smtp_sink.py, python3-aiosmtpd), the message kept as a .eml file.
MAILED=""
if [ -n "$DIGEST" ] && hub_has mail && /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
	mkdir -p "$OUT/mail"
	/usr/bin/python3 tests/e2e/smtp_sink.py "$OUT/mail" "$OUT/mail/port" >>"$LOG" 2>&1 &
	track $!
	i=0; while [ ! -s "$OUT/mail/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	if [ -s "$OUT/mail/port" ] &&
		"$HUB" mail relay --db "$DB" --url "smtp://127.0.0.1:$(cat "$OUT/mail/port")" --plain \
			--from baocao@tinhdoan.example.vn >>"$LOG" 2>&1 &&
		"$HUB" mail add lanhdao@tinhdoan.example.vn --db "$DB" >>"$LOG" 2>&1 &&
		"$HUB" digest --db "$DB" --mail --date "$day" --tries 1 >>"$LOG" 2>&1 &&
		[ -s "$OUT/mail/msg-1.eml" ]; then
		MAILED="$OUT/mail/msg-1.eml (digest --mail to lanhdao@…; on the dashboard: /digest/$day)"
	fi
fi
phase_end

# ---- the end -------------------------------------------------------------------------

t=$(( $(now_ms) - DEMO_T0 ))
say "" "Thời gian từng bước (this machine, $(nproc 2>/dev/null || echo ?) cores):"
printf '%s' "$TIMINGS"
printf '  %s %5d.%01d s\n' "$(pad total 62)" $((t / 1000)) $((t % 1000 / 100))
say "" "Tệp kết quả (in $OUT/):"
say "  báo cáo tỉnh:        $OUT/report.txt, $OUT/report.json"
say "  tình trạng đồng bộ:  $OUT/status.txt${MISSING:+}"
say "  trang tổng quan:     ${DASH:-chưa có (not in this build)}"
say "  trên điện thoại:     ${PHONE:-chưa có (chromium, chromium-driver, python3-selenium: scripts/deps.sh browser)}"
say "  bản tin hằng ngày:   ${DIGEST:-chưa có (not in this build)}"
say "  bản tin qua thư:     ${MAILED:-chưa có (python3-aiosmtpd: scripts/deps.sh test)}"
say "  máy chủ tỉnh:        $DB (log $OUT/hub/serve.log); máy các xã: $OUT/offices/<mã>/xa.db"
[ -z "$MISSING" ] || say "" "demo: not yet in this build:$MISSING"
if [ "$BAD" -ne 0 ]; then
	DIED=1
	say "demo: $BAD headline figure(s) differ from the article (report: $OUT/report.txt)" >&2
	exit 1
fi
say "" "demo: every headline figure equals the article's."
