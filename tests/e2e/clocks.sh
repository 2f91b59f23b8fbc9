#!/bin/sh
# clocks — end to end, issue 12 item A: a lowered clock never makes an office's later
# edit lose (PROTOCOL.md §4, floors), the hub takes a clock just above a row it holds
# ahead of its own time, and a disagreement the checksums reveal is repaired and shown.
#
# The laptop's clock is emulated with lk_state.offset_ms, as tests/e2e/faults.sh does:
# the recorded time is wall + offset_ms, so setting offset_ms before a command is exactly
# a clock that jumped for the entries that command records (every hub answer sets it
# back to the measured difference, about 0 on loopback). The hub's clock stepping back
# is emulated by its meta hub_clock: a province correction is written with a clock above
# it, so raising it one hour is what a hub whose clock ran an hour ahead had written.
#
# Cases (each fails without the floors: the hub keeps the older value in silence):
#   an edit 13 minutes ahead after the laptop's own insert 4 minutes ahead (accepted);
#   a delete 13 minutes ahead after such an insert;
#   an edit after pulling a correction the hub wrote an hour ahead of its time now;
#   a laptop row changed behind the journal's back (sqlite3 with the triggers off):
#   the checksums differ, the next sync takes the hub's rows and status says so.
# Prints one cmocka-style line per case; every process is stopped by PID.
set -u
. tests/e2e/lib.sh

UNITS=tests/fixtures/units-small.csv
COMMUNE_CODE=22915
HDB="$E2E_DIR/hub.db"
HLOG="$E2E_DIR/hub.log"
ADB="$E2E_DIR/laptop.db"
AGENT_LANG=en_US.UTF-8
MIN_MS=60000
RC=0

# ag NAME COMMAND ARGS... — the agent on the laptop; stdout NAME.out, stderr NAME.err; RC.
ag() {
	n=$1 cmd=$2
	shift 2
	LC_ALL=$AGENT_LANG "$AGENT" "$cmd" --db "$ADB" "$@" >"$E2E_DIR/$n.out" 2>"$E2E_DIR/$n.err"
	RC=$?
	return 0
}
# ahead MINUTES — the laptop's clock is that far ahead for what it records next.
ahead() { sqlite3 "$ADB" "UPDATE lk_state SET offset_ms = $1 * $MIN_MS WHERE one = 1"; }
hub_value() { sqlite3 "$HDB" "SELECT \"$3\" FROM \"$1\" WHERE id = '$2'" 2>/dev/null; }
laptop_value() { sqlite3 "$ADB" "SELECT \"$3\" FROM \"$1\" WHERE id = '$2'" 2>/dev/null; }
hub_exists() {
	sqlite3 "$HDB" "SELECT count(*) FROM \"$1\" WHERE id = '$2' AND _ins_writer <> '' AND (_del_writer = ''
		OR _ins_clock > _del_clock OR (_ins_clock = _del_clock AND _ins_writer > _del_writer))" 2>/dev/null
}
refusals() { grep -c 'POST /v1/changes 422' "$HLOG"; }
# status_get KEY — a top-level member of `status --json` (true/false/null/number/text).
status_get() {
	ag st status --json
	python3 -c 'import json,sys
v = json.load(open(sys.argv[1])).get(sys.argv[2])
print("null" if v is None else str(v).lower() if isinstance(v, bool) else v)' "$E2E_DIR/st.out" "$1" 2>/dev/null
}

for bin in "$HUB" "$AGENT"; do
	if [ ! -x "$bin" ]; then
		fail clocks__programs_are_built "'$bin' missing (make B=$LK_BIN all-tests)"
		e2e_finish
	fi
done
if ! "$HUB" init --db "$HDB" --units "$UNITS" >"$E2E_DIR/init.log" 2>&1; then
	fail clocks__hub_init "$(tail -3 "$E2E_DIR/init.log" | tr '\n' ' ')"
	e2e_finish
fi
UNIT=$("$HUB" units list --db "$HDB" 2>/dev/null | awk -F'\t' -v c="$COMMUNE_CODE" '$2 == c { print $1 }')
"$HUB" enroll --db "$HDB" --unit "$COMMUNE_CODE" --name laptop >"$E2E_DIR/enroll.out" 2>&1
TOKEN=$(sed -n 's/^token: *\(lk_[A-Za-z0-9_-]*\).*/\1/p' "$E2E_DIR/enroll.out" | head -n 1)
if [ -z "$UNIT" ] || [ -z "$TOKEN" ] || ! hub_start "$HDB" hub; then
	fail clocks__set_up "unit '$UNIT', token '${TOKEN:-none}'; $(tail -3 "$HLOG" 2>/dev/null | tr '\n' ' ')"
	e2e_finish
fi
ag init init --unit "$UNIT" --hub "$HUB_URL" --token "$TOKEN"
ag sync0 sync --verbose
[ "$RC" = 0 ] || { fail clocks__first_sync "exit $RC: $(say sync0)"; e2e_finish; }

# ---- an edit after the laptop's own acknowledged insert -------------------------------
ahead 4
ag add1 add meeting kind=joint held_on=2021-03-14 attendees=10; r1=$RC
M1=$(cat "$E2E_DIR/add1.out")
ag sync1 sync --verbose; s1=$RC
n0=$(refusals)
ahead 13
ag set1 set meeting "$M1" attendees=5; r2=$RC
ag sync2 sync --verbose; s2=$RC
n1=$(refusals)
agree=$(status_get checksums_agree)
pending=$(status_get pending)
if [ "$r1$s1$r2$s2" = 0000 ] && [ "$n1" -gt "$n0" ] && [ "$(hub_value meeting "$M1" attendees)" = 5 ] &&
	[ "$(laptop_value meeting "$M1" attendees)" = 5 ] && [ "$agree" = true ] && [ "$pending" = 0 ]; then
	ok clocks__edit_lowered_after_clock_ahead_still_wins_over_its_own_insert
else
	fail clocks__edit_lowered_after_clock_ahead_still_wins_over_its_own_insert \
		"exits add $r1 sync $s1 set $r2 sync $s2; 422s $n0 -> $n1; hub $(hub_value meeting "$M1" attendees), laptop $(laptop_value meeting "$M1" attendees) (want 5); checksums_agree $agree, pending $pending; $(say sync2)"
fi

# ---- a delete after the laptop's own acknowledged insert ------------------------------
ahead 4
ag add2 add meeting kind=joint held_on=2021-04-01 attendees=12; r1=$RC
M2=$(cat "$E2E_DIR/add2.out")
ag sync3 sync --verbose; s1=$RC
n0=$(refusals)
ahead 13
ag rm2 rm meeting "$M2"; r2=$RC
ag sync4 sync --verbose; s2=$RC
n1=$(refusals)
agree=$(status_get checksums_agree)
if [ "$r1$s1$r2$s2" = 0000 ] && [ "$n1" -gt "$n0" ] && [ "$(hub_exists meeting "$M2")" = 0 ] &&
	[ -z "$(laptop_value meeting "$M2" id)" ] && [ "$agree" = true ]; then
	ok clocks__delete_lowered_after_clock_ahead_still_wins_over_its_own_insert
else
	fail clocks__delete_lowered_after_clock_ahead_still_wins_over_its_own_insert \
		"exits add $r1 sync $s1 rm $r2 sync $s2; 422s $n0 -> $n1; hub exists $(hub_exists meeting "$M2") (want 0); checksums_agree $agree; $(say sync4)"
fi

# ---- the hub's clock stepped back: an edit after a row it wrote ahead -----------------
# The province corrects M1 while the hub's clock is an hour ahead (its hub_clock), the
# laptop pulls that correction, then edits the row with its clock right. Its clock
# follows the pulled one (an hour ahead of the hub now): the hub must take it.
ahead 0
far=$(python3 -c 'import time; print((int(time.time() * 1000) + 3600000) << 16)')
sqlite3 "$HDB" "INSERT INTO hub_meta(key, value) VALUES('hub_clock', '$far')
	ON CONFLICT(key) DO UPDATE SET value = excluded.value"; h1=$?
"$HUB" set meeting "$M1" attendees=30 --db "$HDB" >"$E2E_DIR/correct.out" 2>&1; h2=$?
ag sync5 sync --verbose; s1=$RC
pulled=$(laptop_value meeting "$M1" attendees)
n0=$(refusals)
ag set3 set meeting "$M1" attendees=7; r2=$RC
ag sync6 sync --verbose; s2=$RC
n1=$(refusals)
agree=$(status_get checksums_agree)
if [ "$h1$h2$s1$r2$s2" = 00000 ] && [ "$pulled" = 30 ] && [ "$(hub_value meeting "$M1" attendees)" = 7 ] &&
	[ "$(laptop_value meeting "$M1" attendees)" = 7 ] && [ "$agree" = true ]; then
	ok clocks__hub_clock_stepped_back_still_takes_an_edit_after_the_row_it_wrote_ahead
	echo "    422 answers during that sync: $((n1 - n0))"
else
	fail clocks__hub_clock_stepped_back_still_takes_an_edit_after_the_row_it_wrote_ahead \
		"meta $h1, correction $h2 ($(tail -1 "$E2E_DIR/correct.out")); pulled $pulled (want 30); set $r2 sync $s2; 422s $n0 -> $n1; hub $(hub_value meeting "$M1" attendees), laptop $(laptop_value meeting "$M1" attendees) (want 7); checksums_agree $agree; $(say sync6)"
fi

# ---- a disagreement the checksums reveal is repaired, and status says so ---------------
# The laptop's copy of M1 is changed behind the journal's back (the triggers skip a
# write while lk_state.applying = 1, as for pulled rows): nothing is pending, the hub
# keeps 7, the laptop shows 99. The next sync pulls every row again (the hub's merged
# row wins) and says so; status keeps what was repaired.
# repairs counts the engine's English log line, which `sync --verbose` prints.
repairs() { cat "$E2E_DIR"/*.err 2>/dev/null | grep -c 'pulling every row again from the hub'; }
sqlite3 "$ADB" "UPDATE lk_state SET applying = 1; UPDATE meeting SET attendees = 99 WHERE id = '$M1';
	UPDATE lk_state SET applying = 0"; e1=$?
n0=$(repairs)
ag sync7 sync --verbose; s1=$RC
n1=$(repairs)
agree=$(status_get checksums_agree)
when=$(status_get checksum_repaired_ms)
rows=$(status_get checksum_repaired_rows)
ag st-text status
if [ "$e1$s1" = 00 ] && [ "$(laptop_value meeting "$M1" attendees)" = 7 ] && [ "$agree" = true ] &&
	[ "$n1" = $((n0 + 1)) ] && [ "${when:-0}" -gt 0 ] && [ "${rows:-0}" -ge 1 ] &&
	grep -q 'repaired' "$E2E_DIR/sync7.out" && grep -q 'Last repair' "$E2E_DIR/st-text.out"; then
	ok clocks__checksums_that_differ_are_repaired_from_the_hub_and_status_says_so
	echo "    repair pulled $rows rows"
else
	fail clocks__checksums_that_differ_are_repaired_from_the_hub_and_status_says_so 		"edit $e1, sync $s1; laptop $(laptop_value meeting "$M1" attendees) (want 7); checksums_agree $agree; repairs $n0 -> $n1; repaired_ms $when rows $rows; $(say sync7); status: $(tr '\n' ' ' <"$E2E_DIR/st-text.out" | cut -c1-300)"
fi

# A row the hub never had (written behind the journal's back) cannot be repaired by a
# pull: the checksums still differ, status names the unit, and the next sync does not
# pull everything again for the same disagreement (a day later it does, once); once
# the row is gone they agree.
X=0190f3b0-0000-7000-8000-00000000abcd
sqlite3 "$ADB" "UPDATE lk_state SET applying = 1;
	INSERT INTO person(id, unit_id, full_name) VALUES('$X', '$UNIT', 'Ngoài nhật ký');
	UPDATE lk_state SET applying = 0"; e1=$?
n0=$(repairs)
ag sync8 sync --verbose; s1=$RC
still=$(status_get checksum_still_differs)
ag st-text2 status
ag sync9 sync --verbose; s2=$RC
n1=$(repairs)
# a day later the same disagreement is pulled again once
sqlite3 "$ADB" "UPDATE lk_config SET value = CAST(value AS INTEGER) - 25 * 3600000 WHERE key = 'checksum_repaired_ms'"
ag sync9b sync --verbose
n2=$(repairs)
sqlite3 "$ADB" "UPDATE lk_state SET applying = 1; DELETE FROM person WHERE id = '$X'; UPDATE lk_state SET applying = 0"
ag sync10 sync --verbose; s3=$RC
agree=$(status_get checksums_agree)
if [ "$e1$s1$s2$s3" = 0000 ] && [ "$still" = true ] && [ "$n1" = $((n0 + 1)) ] && [ "$n2" = $((n0 + 2)) ] &&
	grep -q "still differ: $UNIT" "$E2E_DIR/st-text2.out" && grep -q 'still does not match' "$E2E_DIR/sync8.out" &&
	grep -q 'still does not match' "$E2E_DIR/sync9.out" &&
	[ "$agree" = true ]; then
	ok clocks__checksums_that_still_differ_after_a_repair_are_shown_and_not_pulled_again
else
	fail clocks__checksums_that_still_differ_after_a_repair_are_shown_and_not_pulled_again 		"syncs $s1 $s2 $s3; still_differs $still; full pulls $n0 -> $n1 (want one) -> $n2 a day later (want two); agree at the end $agree; $(say sync8); status: $(tr '\n' ' ' <"$E2E_DIR/st-text2.out" | cut -c1-400)"
fi

e2e_finish
