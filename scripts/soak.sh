#!/bin/sh
# soak — the long fault and crash run of issue 7 (`make soak`).
#
#   SOAK_ITERATIONS=N   iterations (default 500)
#   SOAK_AGENTS=N       offices syncing through the fault proxy (default 6, at most 8)
#   SOAK_SEED=N         seed of the run (faults, timings, victims); printed, so a run
#                       can be repeated
#   SOAK_CHECK_EVERY=N  converge and check every N iterations (default 50)
#   LK_BIN              build directory (default build/asan)
#
# Each iteration: a fault picked at random is set on tests/tools/faultproxy (every
# kind: drops before/during/after the request, during/after the answer, truncation,
# delays, random mixes, a throttled 32 kbit/s + 500 ms link, or none); some offices
# record; all sync through the proxy; one agent is killed with -9 at a random point
# of its sync and, every other iteration on average, the hub too (restarted on its
# port and database). Every SOAK_CHECK_EVERY iterations and at the end the faults are
# switched off, everything syncs to the end and tests/e2e/rel_lib.sh's check runs:
# every journal entry acknowledged, every entry counted once in the hub receipts, the
# hub's rows equal to the agents' rows and to every row recorded. Every 20 iterations
# an agent is also killed in the middle of a CSV import (power cut): all or nothing.
# The end prints what was tried and what was found, "N lost, N duplicated" included.
# Shares all of its machinery with tests/e2e/faults.sh (tests/e2e/rel_lib.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
: "${LK_BIN:=build/asan}"
. tests/e2e/lib.sh
. tests/e2e/rel_lib.sh

N=${SOAK_ITERATIONS:-500}
NA=${SOAK_AGENTS:-6}
EVERY=${SOAK_CHECK_EVERY:-50}
REL_SEED=${SOAK_SEED:-$(date +%s)}
SEED0=$REL_SEED
T0=$(date +%s)

for b in "$HUB" "$AGENT" "$LK_BIN/tools/faultproxy"; do
	if [ ! -x "$b" ]; then
		echo "soak: '$b' missing (make B=$LK_BIN all-tests)"
		exit 2
	fi
done
echo "soak: $N iterations, $NA offices, seed $SEED0, binaries in $LK_BIN, work in $E2E_DIR"

rel_hub_init || { echo "soak: hub init failed"; exit 2; }
rel_hub_up || { echo "soak: hub did not start"; exit 2; }
REL_PROXY_SEED=$SEED0
rel_proxy_up || { echo "soak: proxy did not start"; exit 2; }

OFFICES=""
k=0
for c in 22915 22918 22921 22924 22969 22972 22975 23272; do
	[ $k -ge "$NA" ] && break
	k=$((k + 1))
	rel_agent "s$k" "$c" "$REL_PROXY_URL" || { echo "soak: agent init failed"; exit 2; }
	OFFICES="$OFFICES s$k"
done
rel_agent pc 23275 "$REL_PROXY_URL" || { echo "soak: agent init failed"; exit 2; }
for a in $OFFICES; do rel_record "$a" 5; done

CHECKS=0
CHECKS_FAILED=0
LOST=0
DUPLICATED=0
EXTRA=0
PC_RUNS=0
PC_PRESENT=0
PC_ABSENT=0
PC_BROKEN=0
PC_ROWS=0
FAULT_LINES=""

# pick_fault — sets FAULT to control-file lines for this iteration.
pick_fault() {
	rel_rand 14
	case $REL_R in
	0) FAULT="fault=drop-before-request" ;;
	1) rel_rand 3000; FAULT="fault=drop-during-request:$REL_R" ;;
	2) FAULT="fault=drop-after-request" ;;
	3) rel_rand 3000; FAULT="fault=drop-during-answer:$REL_R" ;;
	4) FAULT="fault=drop-after-answer" ;;
	5) rel_rand 3000; FAULT="fault=truncate-answer:$REL_R" ;;
	6) rel_rand 1500; FAULT="fault=delay:$REL_R" ;;
	7) rel_rand 1500; FAULT="fault=delay-answer:$REL_R" ;;
	8 | 9) FAULT="fault=random:0.6:3000" ;;
	10) FAULT="fault=every:2:random:1:3000" ;;
	11) FAULT="fault=drop-after-answer
rate-bps=32000
latency-ms=500" ;;
	*) FAULT="fault=none" ;;
	esac
	case $FAULT in *rate-bps*) ;; *) FAULT="$FAULT
rate-bps=0
latency-ms=0" ;; esac
}

# checkpoint LABEL — no faults, converge, check; adds to the totals.
checkpoint() {
	rel_proxy_set "fault=none" "rate-bps=0" "latency-ms=0"
	CHECKS=$((CHECKS + 1))
	# shellcheck disable=SC2086
	if ! rel_converge $OFFICES pc; then
		CHECKS_FAILED=$((CHECKS_FAILED + 1))
		fail "soak__$1" "did not converge: $(for a in $OFFICES pc; do echo "$a:$(rel_pending "$a")"; done | tr '\n' ' ')"
		return
	fi
	# shellcheck disable=SC2086
	rel_check "$1" $OFFICES pc
	r=$?
	set -- "$1" $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["lost"], d["duplicated"], d["extra"], d["entries"], d["expected_rows"])' "$E2E_DIR/check.json" 2>/dev/null || echo 0 0 0 0 0)
	LOST=$2 DUPLICATED=$3 EXTRA=$4 ENTRIES=$5 ROWS=$6
	if [ $r = 0 ]; then
		ok "soak__$1"
	else
		CHECKS_FAILED=$((CHECKS_FAILED + 1))
		fail "soak__$1" "$REL_WHY"
	fi
	echo "    $(date -u +%H:%M:%S) $1: $ENTRIES entries, $ROWS rows expected, lost $LOST, duplicated $DUPLICATED, extra $EXTRA; agents killed $REL_AGENT_KILLS, hubs killed $REL_HUB_KILLS"
}

# power_cut — kill -9 during `import` of 300 rows: all there and journaled, or none.
power_cut() {
	PC_RUNS=$((PC_RUNS + 1))
	prefix="Soak$PC_RUNS"
	python3 "$REL_PY" csv "$E2E_DIR/pc.csv" 300 "$prefix"
	"$AGENT" import person "$E2E_DIR/pc.csv" --db "$E2E_DIR/pc.db" >"$E2E_DIR/pc.import.log" 2>&1 &
	p=$!
	e2e_track $p
	rel_rand 1500
	sleep "$((REL_R / 1000)).$(printf '%03d' $((REL_R % 1000)))"
	kill -9 $p 2>/dev/null && REL_AGENT_KILLS=$((REL_AGENT_KILLS + 1))
	wait $p 2>/dev/null
	set -- $(python3 "$REL_PY" powercut "$E2E_DIR/pc.db" "$prefix")
	if [ "$1" = "$2" ] && [ "$1" = 0 ]; then PC_ABSENT=$((PC_ABSENT + 1))
	elif [ "$1" = "$2" ] && [ "$1" = 300 ]; then PC_PRESENT=$((PC_PRESENT + 1)); PC_ROWS=$((PC_ROWS + 300))
	else
		PC_BROKEN=$((PC_BROKEN + 1))
		fail "soak__power_cut_$PC_RUNS" "$1 rows, $2 journal entries (want 0/0 or 300/300)"
	fi
}

it=0
while [ $it -lt "$N" ]; do
	it=$((it + 1))
	pick_fault
	# shellcheck disable=SC2086
	rel_proxy_set $(echo "$FAULT" | tr '\n' ' ')
	FAULT_LINES="$FAULT_LINES $(echo "$FAULT" | head -n 1 | sed 's/^fault=//; s/:.*//')"
	# shellcheck disable=SC2086
	if ! rel_crash_iteration $OFFICES; then
		fail soak__hub_restarts "iteration $it: the hub did not come back; $(tail -3 "$REL_HUB_LOG" | tr '\n' ' ')"
		break
	fi
	[ $((it % 20)) = 0 ] && power_cut
	[ $((it % EVERY)) = 0 ] && [ $it -lt "$N" ] && checkpoint "checkpoint_after_$it"
	[ $((it % 10)) = 0 ] && echo "    $(date -u +%H:%M:%S) iteration $it/$N"
done
checkpoint "final_after_$it"

# ---- the report -------------------------------------------------------------------------
# shellcheck disable=SC2046
set -- $(for key in connections faults bytes_client_to_server bytes_server_to_client drop-before-request \
	drop-during-request drop-after-request drop-during-answer drop-after-answer truncate-answer delay \
	delay-answer upstream_failures; do v=$(rel_proxy_stat "$key"); echo "${v:-0}"; done)
san=$(grep -l 'AddressSanitizer\|runtime error' "$REL_HUB_LOG" "$E2E_DIR"/*.sync.log 2>/dev/null | wc -l)
[ "$san" = 0 ] || fail soak__sanitizer_clean "$san logs with sanitizer reports"
# The proxy frames the first request of each connection; a hello or a pull is under
# 450 bytes, so a fault that fired after more than 450 request bytes hit a change set.
on_changes=$(grep 'injecting' "$REL_PROXY_LOG" | sed -n 's/.*(up \([0-9]*\) down.*/\1/p' | awk '$1 > 450' | wc -l)
dups=$(sqlite3 "$REL_HUB_DB" "SELECT count(*) FROM hub_receipt WHERE duplicate = 1")
secs=$(($(date +%s) - T0))
echo
echo "soak report (seed $SEED0, $secs s, binaries $LK_BIN)"
echo "  tried:"
echo "    iterations          $it (each: a fault set, records, every office syncing, kill -9 of one agent)"
echo "    fault settings      $REL_FAULTS_SET:$(echo "$FAULT_LINES" | tr ' ' '\n' | sed '/^$/d' | sort | uniq -c | awk '{ printf " %s=%s", $2, $1 }')"
echo "    faults injected     $2 (of $1 proxied connections): drop-before-request=$5 drop-during-request=$6 drop-after-request=$7 drop-during-answer=$8 drop-after-answer=$9 truncate-answer=${10} delay=${11} delay-answer=${12}"
echo "    on change sets      $on_changes of those faults fired on a change-set request (request over 450 bytes)"
echo "    crashes             agents killed with -9: $REL_AGENT_KILLS (power cuts during import: $PC_RUNS), hub killed with -9 and restarted: $REL_HUB_KILLS"
echo "    bytes               $3 agent->hub, $4 hub->agent through the proxy"
echo "    syncs               $REL_SYNCS ($REL_SYNC_FAILS ended with an error or were killed)"
echo "    records             $REL_RECORDS journaled writes + $PC_ROWS imported rows; $ENTRIES journal entries in all"
echo "  found:"
echo "    checks              $CHECKS ($CHECKS_FAILED failed)"
echo "    power cuts          $PC_PRESENT all there, $PC_ABSENT all absent, $PC_BROKEN half-written"
echo "    replays             $dups change sets the hub acknowledged again as duplicates (nothing applied)"
echo "    sanitizer reports   $san"
echo "    $LOST lost, $DUPLICATED duplicated$( [ "$EXTRA" = 0 ] || echo ", $EXTRA rows at the hub no office has")"
e2e_finish
