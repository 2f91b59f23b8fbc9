#!/bin/sh
# faults — the short fault and crash run of issue 7, with the real binaries.
#
#  1. Four offices (units 22915..22924) record through their journaling triggers and
#     sync through tests/tools/faultproxy, one fault kind at a time, then sync to the
#     end without faults; after each kind the invariant check (tests/e2e/rel_lib.sh,
#     rel.py check) must hold: every journal entry acknowledged (pending 0, hub acked =
#     last sequence), the hub receipts count every entry exactly once, and the hub's
#     existing rows of every synced data table equal the agents' rows (hashes of the
#     sorted contents) and every row the test recorded.
#  2. Crash loop: kill -9 of an agent at a random point of its sync, and of the hub at
#     a random point of the merges (restarted on its port and database), N times
#     (FAULTS_CRASH_ITERATIONS, 10 here); then converge and check.
#  3. Power cut during `lienket-agent import` of a CSV: rows and journal entries are
#     all there or all absent.
#  4. Clocks — emulated with the agent's lk_state.offset_ms (no faketime in the
#     Debian packages we install; the recorded time is wall + offset_ms, so shifting
#     offset_ms is what a wrong wall clock does to entries recorded before the next
#     hub contact): years behind, years ahead, 7 hours ahead, a jump back mid-session,
#     fixed after being wrong.
#  5. 200 agents syncing at once against one hub, 20 of them with interactive writes
#     (`lienket-agent add`) during their sync.
# Run from the repository root; $LK_BIN holds lienket-hub, lienket-agent, tools/faultproxy.
set -u
. tests/e2e/lib.sh
. tests/e2e/rel_lib.sh

T_START=$(date +%s)
CRASH_N=${FAULTS_CRASH_ITERATIONS:-10}
CONC_N=${FAULTS_CONCURRENT_AGENTS:-200}

for b in "$HUB" "$AGENT" "$LK_BIN/tools/faultproxy"; do
	if [ ! -x "$b" ]; then
		fail faults__binaries_are_built "'$b' missing (make B=$LK_BIN all-tests)"
		e2e_finish
	fi
done

rel_hub_init || { fail faults__hub_init "$(tail -3 "$E2E_DIR/hub-init.log" | tr '\n' ' ')"; e2e_finish; }
rel_hub_up || { fail faults__hub_starts "$(tail -3 "$REL_HUB_LOG" | tr '\n' ' ')"; e2e_finish; }
rel_proxy_up || { fail faults__proxy_starts "$(tail -3 "$REL_PROXY_LOG" | tr '\n' ' ')"; e2e_finish; }

OFFICES="o1 o2 o3 o4"
# The offices' own `status --json` must agree too (pending 0, checksums agree).
REL_STATUS_CHECK=1
n=0
for c in 22915 22918 22921 22924; do
	n=$((n + 1))
	rel_agent "o$n" "$c" "$REL_PROXY_URL" || fail faults__agent_init "o$n: $(tail -3 "$E2E_DIR/o$n.init.log" | tr '\n' ' ')"
done
for a in $OFFICES; do rel_record "$a" 6; done
# One real `add` per office as well.
for a in $OFFICES; do
	"$AGENT" add person full_name="Thêm bằng lệnh $a" --db "$E2E_DIR/$a.db" >/dev/null 2>&1 ||
		fail faults__agent_add "$a"
done
# shellcheck disable=SC2086
if rel_converge $OFFICES && rel_check start $OFFICES; then
	ok faults__offices_start_in_sync
else
	fail faults__offices_start_in_sync "$REL_WHY"
fi

# ---- 1. each fault kind in turn ---------------------------------------------------
# fault_case NAME CONTROL-LINES... — records, one sync of every office with the fault
# set, faults injected counted, then no fault, converge, check.
fault_case() {
	name=$1; shift
	for a in $OFFICES; do rel_record "$a" 4; done
	f0=$(rel_proxy_stat faults)
	rel_proxy_set "$@"
	t0=$(date +%s)
	# shellcheck disable=SC2086
	rel_sync_all_bg $OFFICES
	rel_wait_bg
	exits=$REL_CODES
	secs=$(($(date +%s) - t0))
	f1=$(rel_proxy_stat faults)
	injected=$((f1 - f0))
	pend=0
	for a in $OFFICES; do pend=$((pend + $(rel_pending "$a"))); done
	rel_proxy_set "fault=none"
	# shellcheck disable=SC2086
	if ! rel_converge $OFFICES; then
		fail "faults__$name" "did not converge without faults: $(for a in $OFFICES; do tail -1 "$E2E_DIR/$a.sync.log"; done | tr '\n' ' ')"
		return
	fi
	# shellcheck disable=SC2086
	if ! rel_check "$name" $OFFICES; then
		fail "faults__$name" "$REL_WHY"
	elif [ "${WANT_INJECTED:-1}" = 1 ] && [ "$injected" -lt 1 ]; then
		fail "faults__$name" "no fault was injected (proxy counter $f0 -> $f1)"
	else
		ok "faults__$name"
		echo "    $name: $injected faults injected, sync exits [$exits], $pend entries pending after the faulty syncs, faulty round ${secs}s, $(sed -n 's/.*"tables": \({[^}]*}\).*/\1/p' "$E2E_DIR/check.json")"
	fi
}

fault_case drop_before_request_then_converges_exactly "fault=drop-before-request"
fault_case drop_during_request_then_converges_exactly "fault=drop-during-request:150"
fault_case drop_after_request_then_converges_exactly "fault=drop-after-request"
fault_case drop_during_answer_then_converges_exactly "fault=drop-during-answer:100"
fault_case drop_after_answer_then_converges_exactly "fault=drop-after-answer"
fault_case truncate_answer_then_converges_exactly "fault=truncate-answer:120"
fault_case delay_then_converges_exactly "fault=delay:1500"
fault_case delay_answer_then_converges_exactly "fault=delay-answer:1500"
# drop-after-answer on one connection makes the agent reconnect for its next request,
# so a random mix reaches the changes and pull requests too (the proxy frames only the
# first request of a connection, and the agent keeps one connection per sync).
fault_case random_mix_reaching_changes_and_pull_then_converges_exactly "fault=random:0.7:2000"
fault_case every_third_connection_random_then_converges_exactly "fault=every:3:random:1:3000"

# Throttled link: 32 kbit/s each way and 500 ms latency, a small batch.
for a in $OFFICES; do rel_record "$a" 3; done
rel_proxy_set "fault=none" "rate-bps=32000" "latency-ms=500"
t0=$(date +%s)
rel_sync o1
rc=$?
secs=$(($(date +%s) - t0))
rel_proxy_set "fault=none" "rate-bps=0" "latency-ms=0"
# shellcheck disable=SC2086
if [ $rc = 0 ] && [ $secs -ge 2 ] && rel_converge $OFFICES && rel_check throttled $OFFICES; then
	ok faults__throttled_32kbit_500ms_small_batch_syncs
	echo "    throttled: one office synced in ${secs}s over 32 kbit/s + 500 ms"
else
	fail faults__throttled_32kbit_500ms_small_batch_syncs "exit $rc in ${secs}s (at least 2 s expected); $REL_WHY"
fi

# ---- 2. crash loop -------------------------------------------------------------------
# Agents talk to the hub directly here: the hub is killed and restarted on its port.
for a in $OFFICES; do
	sqlite3 "$E2E_DIR/$a.db" "UPDATE lk_config SET value = '$REL_HUB_URL' WHERE key = 'hub_url'"
done
k0=$REL_AGENT_KILLS
h0=$REL_HUB_KILLS
it=0
crash_ok=1
while [ $it -lt "$CRASH_N" ]; do
	# shellcheck disable=SC2086
	rel_crash_iteration $OFFICES || { crash_ok=0; break; }
	it=$((it + 1))
done
# shellcheck disable=SC2086
if [ $crash_ok = 1 ] && rel_converge $OFFICES && rel_check crash $OFFICES; then
	ok "faults__crash_loop_${CRASH_N}_iterations_kill9_agents_and_hub_converges_exactly"
	echo "    crash loop: $((REL_AGENT_KILLS - k0)) agents and $((REL_HUB_KILLS - h0)) hub processes killed with -9"
else
	fail "faults__crash_loop_${CRASH_N}_iterations_kill9_agents_and_hub_converges_exactly" \
		"hub up: $crash_ok; $REL_WHY"
fi
grep -q 'ERROR: AddressSanitizer\|runtime error' "$REL_HUB_LOG" &&
	fail faults__hub_sanitizer_clean "$(grep -m1 'AddressSanitizer\|runtime error' "$REL_HUB_LOG")"

# ---- 3. power cut during a write transaction --------------------------------------------
rel_agent pc 22969 "$REL_HUB_URL" || fail faults__agent_init "pc"
python3 "$REL_PY" csv "$E2E_DIR/probe.csv" 1000 "Probe"
t0=$(date +%s%N 2>/dev/null)
"$AGENT" import person "$E2E_DIR/probe.csv" --db "$E2E_DIR/pc.db" >"$E2E_DIR/pc.import.log" 2>&1
full_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
outcomes=""
pc_ok=1
for frac in 15 50 85 97; do
	prefix="Cut$frac"
	python3 "$REL_PY" csv "$E2E_DIR/cut.csv" 1000 "$prefix"
	"$AGENT" import person "$E2E_DIR/cut.csv" --db "$E2E_DIR/pc.db" >"$E2E_DIR/pc.import.log" 2>&1 &
	p=$!
	e2e_track $p
	ms=$((full_ms * frac / 100))
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
	kill -9 $p 2>/dev/null && killed=killed || killed=finished
	wait $p 2>/dev/null
	set -- $(python3 "$REL_PY" powercut "$E2E_DIR/pc.db" "$prefix")
	if [ "$1" = "$2" ] && { [ "$1" = 0 ] || [ "$1" = 1000 ]; }; then
		outcomes="$outcomes $frac%:$killed:$1"
	else
		pc_ok=0
		outcomes="$outcomes $frac%:$killed:rows=$1,journal=$2"
	fi
done
if [ $pc_ok = 1 ] && rel_converge pc && rel_check powercut pc; then
	ok faults__power_cut_during_import_leaves_all_or_nothing_journaled
	echo "    power cut (import of 1000 rows takes ${full_ms} ms):$outcomes"
else
	fail faults__power_cut_during_import_leaves_all_or_nothing_journaled "$outcomes; $REL_WHY"
fi

# ---- 4. clocks ------------------------------------------------------------------------------
rel_agent c1 22972 "$REL_HUB_URL" && rel_agent c2 22972 "$REL_HUB_URL" ||
	fail faults__agent_init "c1/c2"
YEAR_MS=31536000000
rel_sync c1
R=$("$AGENT" add person full_name="Đinh Văn Đồng Hồ" phone=0000 --db "$E2E_DIR/c1.db" 2>/dev/null)
rel_sync c1; rel_sync c2
offset() { sqlite3 "$E2E_DIR/$1.db" "UPDATE lk_state SET offset_ms = $2 WHERE one = 1"; }
# phone OFFICE VALUE (at most 20 bytes: the column's limit) — an edit by `set`.
phone() {
	"$AGENT" set person "$R" phone="$2" --db "$E2E_DIR/$1.db" >"$E2E_DIR/set.out" 2>&1 ||
		fail "faults__clock_edit_$2" "set on $1 failed: $(tail -2 "$E2E_DIR/set.out" | tr '\n' ' ')"
}
hub_phone() {
	hub_sql "$REL_HUB_DB" "SELECT phone FROM person WHERE id = '$R'"
}
agent_phone() { sqlite3 "$E2E_DIR/$1.db" "SELECT phone FROM person WHERE id = '$R'"; }
now_ms() { python3 -c 'import time; print(int(time.time() * 1000))'; }
# clock_case NAME WANT — both offices synced, the hub and both agree on WANT.
clock_case() {
	rel_sync c1; rel_sync c2; rel_sync c1
	h=$(hub_phone); a1=$(agent_phone c1); a2=$(agent_phone c2)
	hc=$(hub_sql "$REL_HUB_DB" "SELECT _clock >> 16 FROM person WHERE id = '$R'")
	lim=$(( $(now_ms) + 300000 ))
	if [ "$h" = "$2" ] && [ "$a1" = "$2" ] && [ "$a2" = "$2" ] && [ "$hc" -le "$lim" ]; then
		ok "faults__clock_$1"
	else
		fail "faults__clock_$1" "hub '$h', c1 '$a1', c2 '$a2', want '$2'; hub clock ms $hc (limit $lim)${3:+; $3}"
	fi
}
# Years behind, before any contact: its edit is old; the other office's later edit wins,
# and once it has talked to the hub its next edit wins again.
# Its edit was made after it had seen the row, so it follows the row's clock (pulled
# clocks raise the laptop's clock) and wins although the wall clock is 3 years behind.
offset c2 $((-3 * YEAR_MS))
phone c2 behind
rel_sync c2
if [ "$(hub_phone)" = behind ]; then ok faults__clock_years_behind_edit_after_seeing_the_row_wins; else
	fail faults__clock_years_behind_edit_after_seeing_the_row_wins "hub '$(hub_phone)', want 'behind'"; fi
phone c1 later-than-behind
clock_case years_behind_edit_loses_to_a_later_edit later-than-behind
phone c2 behind-synced
clock_case years_behind_laptop_not_locked_out_after_contact behind-synced

# Years ahead: the hub refuses the change set (422 clock_ahead) instead of letting it win
# forever; the agent lowers its clocks and resends; a later edit elsewhere wins.
ahead_case() {
	name=$1 off=$2 short=$3
	n422=$(grep -c 'POST /v1/changes 422' "$REL_HUB_LOG")
	offset c2 "$off"
	phone c2 "ahead-$short"
	rel_sync c2
	rc=$?
	m=$(grep -c 'POST /v1/changes 422' "$REL_HUB_LOG")
	st=$("$AGENT" status --db "$E2E_DIR/c2.db" 2>&1 | tr '\n' ' ')
	if [ $rc = 0 ] && [ "$m" -gt "$n422" ] && [ "$(hub_phone)" = "ahead-$short" ]; then
		ok "faults__clock_${name}_refused_422_then_lowered_and_accepted"
	else
		fail "faults__clock_${name}_refused_422_then_lowered_and_accepted" \
			"sync exit $rc, 422s $n422 -> $m, hub '$(hub_phone)'; status: $(echo "$st" | head -c 300)"
	fi
	phone c1 "after-$short"
	clock_case "${name}_does_not_win_forever" "after-$short"
	phone c2 "c2-after-$short"
	clock_case "${name}_laptop_not_locked_out" "c2-after-$short"
}
ahead_case years_ahead $((3 * YEAR_MS)) 3y
ahead_case seven_hours_ahead $((7 * 3600000)) 7h

# A jump back during a session: clocks keep increasing in sequence order, so the
# office's own later edit wins over its earlier one.
rel_sync c2
phone c2 before-jump
offset c2 $((-2 * 3600000))
phone c2 after-jump
inc=$(sqlite3 "$E2E_DIR/c2.db" "SELECT count(*) FROM lk_journal a JOIN lk_journal b ON b.seq = a.seq + 1 WHERE b.clock <= a.clock")
if [ "$inc" = 0 ]; then
	clock_case jump_back_mid_session_keeps_local_order after-jump
else
	fail faults__clock_jump_back_mid_session_keeps_local_order "$inc journal clocks not increasing"
fi

# Fixed after being wrong: a year ahead, an edit, the clock fixed, another edit: no
# lockout, the last edit wins; then the other office's later edit wins.
offset c2 "$YEAR_MS"
phone c2 while-wrong
offset c2 0
phone c2 after-fix
clock_case fixed_after_being_wrong_last_edit_wins after-fix
phone c1 c1-final
clock_case fixed_laptop_then_loses_to_a_later_edit c1-final
if rel_check clocks c1 c2; then ok faults__clock_offices_converge_exactly; else
	fail faults__clock_offices_converge_exactly "$REL_WHY"; fi

REL_STATUS_CHECK=0 # 200 more ASan processes would double this section's time

# ---- 5. 200 agents at once ------------------------------------------------------------------
# A hub of its own, so the check covers exactly these offices.
REL_HUB_DB=$(hub_db hub2)
REL_HUB_LOG="$E2E_DIR/hub2.log"
REL_HUB_PORT=""
H1_PID=$REL_HUB_PID
rel_hub_init && rel_hub_up || fail faults__concurrency_hub "$(tail -3 "$REL_HUB_LOG" | tr '\n' ' ')"
t0=$(date +%s)
codes="22915 22918 22921 22924 22969 22972 22975 23272 23275 23278"
: >"$E2E_DIR/tokens.txt"
i=0
while [ $i -lt "$CONC_N" ]; do
	set -- $codes
	shift $((i % 10))
	echo "$i $1" >>"$E2E_DIR/tokens.txt"
	i=$((i + 1))
done
# Tokens, 6 enrolments at a time (each is a short write transaction on the hub).
# shellcheck disable=SC2016
xargs -P 6 -L 1 sh -c '"$0" enroll --db "$1" --unit "$4" 2>/dev/null | sed -n "s/^token: *//p" >"$2/tok-$3"' \
	"$HUB" "$REL_HUB_DB" "$E2E_DIR" <"$E2E_DIR/tokens.txt" 2>/dev/null ||
	awk '{ print }' "$E2E_DIR/tokens.txt" | while read -r k code; do
		rel_enroll "$code" >"$E2E_DIR/tok-$k"; done
# One real `init` per unit, then copies under new agent ids and tokens.
: >"$E2E_DIR/clones.txt"
for code in $codes; do
	tok=$(rel_enroll "$code")
	"$AGENT" init --db "$E2E_DIR/tpl-$code.db" --unit "$(rel_unit "$code")" --hub "$REL_HUB_URL" \
		--token "$tok" >/dev/null 2>&1 || fail faults__concurrency_template "$code"
done
CONC=""
while read -r k code; do
	echo "$E2E_DIR/tpl-$code.db $E2E_DIR/m$k.db $(cat "$E2E_DIR/tok-$k") $((5000 + k))" >>"$E2E_DIR/clones.txt"
	CONC="$CONC m$k"
done <"$E2E_DIR/tokens.txt"
python3 "$REL_PY" clonemany "$E2E_DIR/clones.txt" 2 || fail faults__concurrency_clones "clone failed"
prep=$(($(date +%s) - t0))
t0=$(date +%s)
# shellcheck disable=SC2086
rel_sync_all_bg $CONC
ALL_BG=$REL_BG
# Interactive writes on 20 of them while they sync.
ADDS=""
k=0
for a in $CONC; do
	if [ $((k % 10)) = 3 ]; then
		"$AGENT" add person full_name="Nhập trong lúc đồng bộ $a" --db "$E2E_DIR/$a.db" >>"$E2E_DIR/$a.add.log" 2>&1 &
		ADDS="$ADDS $!"
		e2e_track $!
	fi
	k=$((k + 1))
done
REL_BG=$ALL_BG
rel_wait_bg
for p in $ADDS; do wait "$p"; done
first=$(($(date +%s) - t0))
added=$(cat "$E2E_DIR"/m*.add.log 2>/dev/null | grep -c '^[0-9a-f]\{8\}-')
# Converge: sync again only those with something pending.
round=0
while [ $round -lt 5 ]; do
	left=""
	for a in $CONC; do [ "$(rel_pending "$a")" = 0 ] || left="$left $a"; done
	[ -z "$left" ] && break
	# shellcheck disable=SC2086
	rel_sync_all_bg $left
	rel_wait_bg
	round=$((round + 1))
done
# shellcheck disable=SC2086
if [ -z "$left" ] && [ "$added" = $((CONC_N / 10)) ] && rel_check concurrency $CONC; then
	ok "faults__${CONC_N}_agents_syncing_at_once_with_interactive_writes_converge_exactly"
	echo "    concurrency: $CONC_N agents, $added interactive adds during sync, set-up ${prep}s, first round ${first}s, $round more rounds; $(sed -n 's/.*"tables": \({[^}]*}\).*/\1/p' "$E2E_DIR/check.json")"
else
	fail "faults__${CONC_N}_agents_syncing_at_once_with_interactive_writes_converge_exactly" \
		"pending on:$(echo "$left" | cut -c1-80); adds $added of $((CONC_N / 10)); $REL_WHY"
fi
: "$H1_PID"

for log in "$E2E_DIR/hub.log" "$E2E_DIR/hub2.log"; do
	if grep -q 'AddressSanitizer\|runtime error' "$log"; then
		fail faults__hub_sanitizer_clean "$(grep -m1 'AddressSanitizer\|runtime error' "$log")"
	fi
done
if grep -l 'AddressSanitizer\|runtime error' "$E2E_DIR"/*.sync.log >/dev/null 2>&1; then
	fail faults__agent_sanitizer_clean "$(grep -h -m1 'AddressSanitizer\|runtime error' "$E2E_DIR"/*.sync.log | head -1)"
else
	ok faults__agents_and_hubs_sanitizer_clean
fi
echo "    faults.sh: $(($(date +%s) - T_START)) s; syncs $REL_SYNCS ($REL_SYNC_FAILS failed), agents killed $REL_AGENT_KILLS, hubs killed $REL_HUB_KILLS, records $REL_RECORDS"
e2e_finish
