#!/bin/sh
# scope — an office whose scope grows receives everything in its new scope (issue 18
# item 5; PROTOCOL.md §6.3).
#
# Two communes' laptops sync with the real hub; commune A writes a meeting, commune B
# pulls past it (its cursor is beyond the meeting's hub position, which was outside
# its scope then). `lienket-hub units merge --unit A --into B` hands A's records to B:
# B's next sync must bring A's meeting, although B's cursor is past it, and B's
# checksums must then agree with the hub's. Prints one cmocka-style line per case;
# every process is tracked and stopped by PID. Run from the repository root; $LK_BIN
# is the build directory.
set -u
. tests/e2e/lib.sh

UNITS=tests/fixtures/units-small.csv
CODE_A=22915
CODE_B=22918
HDB="$E2E_DIR/hub.db"
ADB="$E2E_DIR/laptop-a.db"
BDB="$E2E_DIR/laptop-b.db"
AGENT_LANG=en_US.UTF-8
RC=0


# enroll CODE NAME — prints "TOKEN UNIT".
enroll() {
	"$HUB" enroll --db "$HDB" --unit "$1" --name "$2" >"$E2E_DIR/enroll-$2.out" 2>&1
	t=$(sed -n 's/^token: *\(lk_[A-Za-z0-9_-]*\).*/\1/p' "$E2E_DIR/enroll-$2.out" | head -n 1)
	u=$(sed -n 's/^unit: *//p' "$E2E_DIR/enroll-$2.out" | head -n 1)
	echo "$t $u"
}

# ---- set-up ----------------------------------------------------------------------
if ! "$HUB" init --db "$HDB" --units "$UNITS" >"$E2E_DIR/init.log" 2>&1; then
	fail scope__hub_init "$(tail -3 "$E2E_DIR/init.log" | tr '\n' ' ')"
	e2e_finish
fi
set -- $(enroll "$CODE_A" laptop-a); TOKEN_A=$1 UNIT_A=$2
set -- $(enroll "$CODE_B" laptop-b); TOKEN_B=$1 UNIT_B=$2
hub_start "$HDB" hub || { fail scope__hub_starts "no port"; e2e_finish; }
ag a-init "$ADB" init --unit "$UNIT_A" --hub "$HUB_URL" --token "$TOKEN_A"; i1=$RC
ag b-init "$BDB" init --unit "$UNIT_B" --hub "$HUB_URL" --token "$TOKEN_B"; i2=$RC
[ "$i1$i2" = 00 ] || { fail scope__laptops_init "exits $i1 $i2: $(say a-init) $(say b-init)"; e2e_finish; }

# ---- cases -------------------------------------------------------------------------
ag b1 "$BDB" sync; s1=$RC                       # B pulls the reference data
ag a1 "$ADB" add meeting kind=joint held_on=2025-03-14 commune_secretary_attended=1 attendees=23
M=$(cat "$E2E_DIR/a1.out")
ag a2 "$ADB" sync; s2=$RC                       # A's meeting reaches the hub
ag b2 "$BDB" add meeting kind=joint held_on=2025-04-01 commune_secretary_attended=0 attendees=9
ag b3 "$BDB" sync; s3=$RC                       # B's cursor moves past A's meeting
cursor_before=$(sqlite3 "$BDB" "SELECT value FROM lk_config WHERE key = 'pull_cursor'")
m_hs=$(sqlite3 "$HDB" "SELECT _hs FROM meeting WHERE id = '$M'")
before=$(sqlite3 "$BDB" "SELECT count(*) FROM meeting WHERE id = '$M'")
"$HUB" units merge --db "$HDB" --unit "$CODE_A" --into "$CODE_B" --on 2026-01-01 \
	>"$E2E_DIR/merge.out" 2>&1; h1=$?
ag b4 "$BDB" sync; s4=$RC
after=$(sqlite3 "$BDB" "SELECT attendees FROM meeting WHERE id = '$M'")
ag b-st "$BDB" status --json
agree=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("checksums_agree"))' \
	"$E2E_DIR/b-st.out" 2>/dev/null)
if [ "$s1$s2$s3$h1$s4" = 00000 ] && [ -n "$M" ] && [ "$before" = 0 ] &&
	[ "${cursor_before:-0}" -gt "${m_hs:-0}" ] && [ "$after" = 23 ]; then
	ok scope__after_a_merge_the_successor_receives_the_merged_units_older_rows
else
	fail scope__after_a_merge_the_successor_receives_the_merged_units_older_rows \
		"exits $s1 $s2 $s3 merge $h1 $s4; meeting '$M' at hub position '$m_hs', B's cursor was '$cursor_before'; B had $before, now attendees '$after'; $(say b4) $(tail -2 "$E2E_DIR/merge.out")"
fi
if [ "$agree" = True ] || [ "$agree" = true ] || [ "$agree" = 1 ]; then
	ok scope__the_successors_checksums_agree_after_the_merge
else
	fail scope__the_successors_checksums_agree_after_the_merge "checksums_agree '$agree': $(head -c 300 "$E2E_DIR/b-st.out")"
fi
# A later sync of B does not pull everything again (the scope is recorded).
ag b5 "$BDB" sync; s5=$RC
pulled=$(sed -n 's/.*received \([0-9]*\) records.*/\1/p' "$E2E_DIR/b5.out" | head -n 1)
if [ "$s5" = 0 ] && [ "${pulled:-x}" = 0 ]; then
	ok scope__an_unchanged_scope_pulls_nothing_again
else
	fail scope__an_unchanged_scope_pulls_nothing_again "exit $s5, pulled '${pulled:-?}': $(say b5)"
fi

e2e_finish
