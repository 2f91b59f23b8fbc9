#!/bin/sh
# merge_soak — the short seeded run of the merge soak, in `make test` (issue 12 and 18,
# "Done when"): random histories of real agents sharing rows (a commune office, a
# second commune, and the district office whose scope holds both) against a real hub
# behind tests/tools/faultproxy; the end state of the hub and of every office is
# compared row by row, field by field with an independent oracle of PROTOCOL.md's merge
# rule (tests/e2e/merge_oracle.py, whose top says what the ground truth is), and the
# hub's receipts must show each entry applied once. The driver is
# tests/e2e/merge_soak.py (its top lists the dimensions).
#
#   MERGE_SOAK_SEED=N      the run's seed (default: the clock; printed, so a failure can be
#                          replayed: each history prints its own --history-seed too)
#   MERGE_SOAK_DIMS=LIST   dimensions, comma-separated; "a|b": one of the two per history
#                          (default: those whose fixes are on main, MERGE_SOAK_DEFAULT_DIMS
#                          below; README's test section)
#   MERGE_SOAK_SECONDS=N   start no history after N seconds (default 70)
#   MERGE_SOAK_HISTORIES=N at most N histories (default 12); MERGE_SOAK_STEPS=N steps each (24)
#
# Replay one history:  python3 tests/e2e/merge_soak.py --dir /tmp/x --keep \
#     --history-seed H --steps K --dims LIST        (the FAILED line prints all three)
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

# The dimensions whose bugs are fixed on main: all of them, together (issue 12 A, B;
# 18.1-18.6), a laptop restored from a copy and the hub restored from a backup in one
# history included (PROTOCOL.md §9: a binding older than the hub's restore re-binds).
MERGE_SOAK_DEFAULT_DIMS="shared,corrections,clocks,kills,cuts,concurrent,laptop_restore,hub_restore,reform,branches"
seed=${MERGE_SOAK_SEED:-$(($(date +%s) % 100000))}
for b in "$HUB" "$AGENT" "$LK_BIN/tools/faultproxy"; do
	if [ ! -x "$b" ]; then
		fail merge_soak__binaries "'$b' missing (make B=$LK_BIN all-tests)"
		e2e_finish
	fi
done
python3 tests/e2e/merge_oracle.py selftest || E2E_FAILED=$((E2E_FAILED + 1))
python3 tests/e2e/merge_soak.py --tamper-check --seed "$seed" --dir "$E2E_DIR/soak" --bin "$LK_BIN" \
	--histories "${MERGE_SOAK_HISTORIES:-12}" --steps "${MERGE_SOAK_STEPS:-24}" \
	--seconds "${MERGE_SOAK_SECONDS:-70}" --dims "${MERGE_SOAK_DIMS:-$MERGE_SOAK_DEFAULT_DIMS}" \
	>"$E2E_DIR/soak.out" 2>&1 &
pid=$!
e2e_track $pid
wait $pid
rc=$?
cat "$E2E_DIR/soak.out"
n=$(grep -c '^\[  FAILED  \]' "$E2E_DIR/soak.out")
grep -q '^\[       OK \] merge_soak__oracle_finds' "$E2E_DIR/soak.out" || [ "$n" != 0 ] ||
	fail merge_soak__oracle_finds_a_hub_and_an_office_value_changed_in_silence "no history passed to try it on"
if [ $rc -ne 0 ] && [ "$n" = 0 ]; then
	fail merge_soak__driver "exited $rc without a verdict (seed $seed)"
fi
E2E_FAILED=$((E2E_FAILED + n))
e2e_finish
