#!/bin/sh
# soak-merge — the long run of the merge soak (`make soak`, after scripts/soak.sh).
#
# Random, seeded histories of real `lienket-agent` offices SHARING rows (communes
# 22915 and 22918 and their district 593) and a real `lienket-hub` behind
# tests/tools/faultproxy, with every dimension of tests/e2e/merge_soak.py: hub
# corrections, skewed and jumping clocks, kill -9 of agents and hub, cuts mid-request and
# mid-answer, two syncs of one database at once, laptops restored from copies of their
# database (then sync, and `recover` when asked), the hub restored from a backup, a
# reform (`units merge`) while both communes' laptops edit, and branches whose rows the
# district writes before they reach the hub. Each history's end state is compared
# row by row, field by field, at the hub and at every office, with
# tests/e2e/merge_oracle.py (an independent implementation of PROTOCOL.md's merge rule;
# its top says what the ground truth is), and the hub's receipts must show every entry
# applied once.
#
#   MERGE_SOAK_SEED=N        seed of the run (default: the clock); printed
#   MERGE_SOAK_HISTORIES=N   histories (default 100)
#   MERGE_SOAK_STEPS=N       steps per history (default 40)
#   MERGE_SOAK_SECONDS=N     start no history after N seconds (default 0: no limit)
#   MERGE_SOAK_DIMS=LIST     dimensions (default: all of them)
#   MERGE_SOAK_DIR=DIR       where histories run; failing ones are kept there
#                            (default build/soak-merge)
#   LK_BIN                   build directory (default build/asan)
#
# A laptop restored from a copy and the hub restored from a backup in one history (a
# `recover` then a hub restored to before it, history 5150014 of seed 5150; a copy that
# continued after the hub's acknowledgement then a hub restored below it, 5150001) no
# longer lock an office out (PROTOCOL.md §9); `make test`'s merge soak combines them too.
#
# The end prints, per failing history, its seed, what differed and the replay command,
# then the totals (histories, writes, syncs, kills, cuts, restores…) and how many
# histories failed per class of mismatch (merge_oracle.py lists the classes).
set -u
cd "$(dirname "$0")/.." || exit 1
: "${LK_BIN:=build/asan}"
dir=${MERGE_SOAK_DIR:-build/soak-merge}
rm -rf "$dir"
mkdir -p "$dir"
for b in "$LK_BIN/lienket-hub" "$LK_BIN/lienket-agent" "$LK_BIN/tools/faultproxy"; do
	if [ ! -x "$b" ]; then
		echo "soak-merge: '$b' missing (make B=$LK_BIN all-tests)"
		exit 2
	fi
done
exec python3 tests/e2e/merge_soak.py --seed "${MERGE_SOAK_SEED:-$(($(date +%s) % 100000))}" \
	--dir "$dir" --bin "$LK_BIN" --histories "${MERGE_SOAK_HISTORIES:-100}" \
	--steps "${MERGE_SOAK_STEPS:-40}" --seconds "${MERGE_SOAK_SECONDS:-0}" \
	--dims "${MERGE_SOAK_DIMS:-shared,corrections,clocks,kills,cuts,concurrent,laptop_restore,hub_restore,reform,branches}"
