#!/bin/sh
# operations — end to end: the province operating its hub (issue 5) with real agents on
# loopback, on the real Bình Thuận units (tests/fixtures/binh-thuan-*.csv):
#   - a correction from the province (`lienket-hub set`) is pulled by the owning office,
#     and merges with a concurrent office edit by the rule (another field survives; on
#     the same field the later clock wins), receipted as the province's;
#   - `lienket-hub backup` runs while two offices sync in a loop; each backup is a whole
#     database and the offices are told how far it holds them (backup_seq);
#   - `restore` is refused while the hub serves; after a restore the offices converge
#     (status: checksums agree; the hub holds every entry) and a token revoked after the
#     backup stays revoked;
#   - the reform of 1 July 2025 applied while serving: offices pull the new tree, a
#     record for a closed commune is accepted and flagged with its successor, and the
#     new commune's office receives the merged commune's records; the merged commune's
#     2025 report is found by its old code and covers only its half year.
# Prints one cmocka-style line per case; every process it starts is tracked and stopped
# by PID. Run from the repository root; $LK_BIN is the build directory.
set -u
. tests/e2e/lib.sh

BEFORE=tests/fixtures/binh-thuan-before-2025-07.csv
REFORM=tests/fixtures/binh-thuan-reform-2025-07-01.csv
HDB=$(hub_db hub)
HLOG="$E2E_DIR/hub.log"
ADB="$E2E_DIR/a.db"
BDB="$E2E_DIR/b.db"
CDB="$E2E_DIR/c.db"
DDB="$E2E_DIR/d.db"
HUB_PID=""
RC=0
AGENT_LANG=en_US.UTF-8

hub() { "$HUB" "$@" >"$E2E_DIR/hubcmd.out" 2>&1; }
hub_up() { hub_start "$HDB" hub && HUB_PID=$(eval echo "\$HUB_PID_hub"); }
hub_down() { stop "$HUB_PID"; HUB_PID=""; }
point() { LC_ALL=$AGENT_LANG "$AGENT" config --db "$1" --hub "$2" >/dev/null 2>&1; }
json() {
	python3 -c 'import json,sys
v = json.load(open(sys.argv[1])).get(sys.argv[2])
print("null" if v is None else str(v).lower() if isinstance(v, bool) else v)' "$1" "$2" 2>/dev/null
}
# agrees DB — the laptop's status says its checksums agree with the hub's.
agrees() { ag st "$1" status --json && cp "$E2E_DIR/st.out" "$E2E_DIR/st.json" && [ "$(json "$E2E_DIR/st.json" checksums_agree)" = true ]; }
enroll() {
	"$HUB" enroll --db "$HDB" --unit "$1" --name "$2" >"$E2E_DIR/enroll-$2.out" 2>&1
	sed -n 's/^token: *\(lk_[A-Za-z0-9_-]*\).*/\1/p' "$E2E_DIR/enroll-$2.out" | head -n 1
}
unit_of() { "$HUB" units list --db "$HDB" --on "$2" 2>/dev/null | awk -F'\t' -v c="$1" '$2 == c { print $1 }' | head -n 1; }
hub_value() { hub_sql "$HDB" "SELECT \"$3\" FROM \"$1\" WHERE id = '$2'" 2>/dev/null; }
laptop_value() { sqlite3 "$1" "SELECT \"$4\" FROM \"$2\" WHERE id = '$3'" 2>/dev/null; }
last_seq() { v=$(sqlite3 "$1" "SELECT seq FROM sqlite_sequence WHERE name = 'lk_journal'" 2>/dev/null); echo "${v:-0}"; }
hub_acked() { v=$("$HUB" agents list --db "$HDB" 2>/dev/null | awk -F'\t' -v a="$1" '$4 == a { print $7 }'); echo "${v:-0}"; }
agent_id() { ag st "$1" status --json && json "$E2E_DIR/st.out" agent; }

# ---- set-up ------------------------------------------------------------------------
for bin in "$HUB" "$AGENT"; do
	[ -x "$bin" ] || { fail operations__programs_are_built "'$bin' missing"; e2e_finish; }
done
command -v sqlite3 >/dev/null || { fail operations__sqlite3_cli "sqlite3 not installed"; e2e_finish; }
if ! "$HUB" init --db "$HDB" --units "$BEFORE" >"$E2E_DIR/init.log" 2>&1; then
	fail operations__hub_init "$(tail -3 "$E2E_DIR/init.log" | tr '\n' ' ')"
	e2e_finish
fi
OLD_MUI_NE=$(unit_of 22915 2021-01-01)
TOKEN_A=$(enroll 22915 office-a)
TOKEN_B=$(enroll 22924 office-b)
TOKEN_C=$(enroll 22921 office-c)
hub_up || { fail operations__hub_starts "$(tail -5 "$HLOG" | tr '\n' ' ')"; e2e_finish; }
ag a-init "$ADB" init --unit 22915 --hub "$HUB_URL" --token "$TOKEN_A"; r1=$RC
ag b-init "$BDB" init --unit 22924 --hub "$HUB_URL" --token "$TOKEN_B"; r2=$RC
ag c-init "$CDB" init --unit 22921 --hub "$HUB_URL" --token "$TOKEN_C"; r3=$RC
ag a-s0 "$ADB" sync; r4=$RC
ag b-s0 "$BDB" sync; r5=$RC
ag c-s0 "$CDB" sync; r6=$RC
if [ "$r1$r2$r3$r4$r5$r6" != 000000 ] || [ -z "$OLD_MUI_NE" ]; then
	fail operations__offices_set_up "exits $r1 $r2 $r3 $r4 $r5 $r6: $(say a-s0) $(say c-s0)"
	e2e_finish
fi
AGENT_A=$(agent_id "$ADB")
AGENT_B=$(agent_id "$BDB")

# ---- a correction from the province ------------------------------------------------
ag a1 "$ADB" add meeting kind=joint held_on=2021-03-14 commune_secretary_attended=1 attendees=10
M=$(cat "$E2E_DIR/a1.out")
ag a2 "$ADB" sync; q1=$RC
HUB_ID=$(hub_sql "$HDB" "SELECT value FROM hub_meta WHERE key = 'hub_id'")
receipts0=$(hub_sql "$HDB" "SELECT count(*) FROM hub_receipt WHERE agent_id = '$HUB_ID'")
hub set --db "$HDB" meeting "$M" attendees=30; h1=$?
# the office edits another field before it has pulled the correction
ag a3 "$ADB" set meeting "$M" "concerns=Thiếu kinh phí"; q2=$RC
ag a4 "$ADB" sync; q3=$RC
receipts=$(($(hub_sql "$HDB" "SELECT count(*) FROM hub_receipt WHERE agent_id = '$HUB_ID'") - receipts0))
province_receipts=$("$HUB" receipts --db "$HDB" 2>/dev/null | cut -f2,3 | grep -c "^province	$HUB_ID\$")
if [ "$q1$h1$q2$q3" = 0000 ] && [ "$(hub_value meeting "$M" attendees)" = 30 ] &&
	[ "$(laptop_value "$ADB" meeting "$M" attendees)" = 30 ] &&
	[ "$(hub_value meeting "$M" concerns)" = "Thiếu kinh phí" ] &&
	[ "$(laptop_value "$ADB" meeting "$M" concerns)" = "Thiếu kinh phí" ] &&
	[ "$receipts" = 1 ] && [ "$province_receipts" -ge 2 ] && agrees "$ADB"; then
	ok operations__correction_pulled_by_the_office_beside_its_own_edit
else
	fail operations__correction_pulled_by_the_office_beside_its_own_edit "exits $q1 $h1 $q2 $q3; hub $(hub_value meeting "$M" attendees)/$(hub_value meeting "$M" concerns), laptop $(laptop_value "$ADB" meeting "$M" attendees)/$(laptop_value "$ADB" meeting "$M" concerns), receipts $receipts, listed as the province's $province_receipts; $(say a4) $(cat "$E2E_DIR/hubcmd.out")"
fi
# the same field: the later clock wins, on both sides
hub set --db "$HDB" meeting "$M" attendees=31; h2=$?
sleep 0.05
ag a5 "$ADB" set meeting "$M" attendees=40; q4=$RC
ag a6 "$ADB" sync; q5=$RC
w1_hub=$(hub_value meeting "$M" attendees); w1_lap=$(laptop_value "$ADB" meeting "$M" attendees)
ag a7 "$ADB" set meeting "$M" attendees=41; q6=$RC
sleep 0.05
hub set --db "$HDB" meeting "$M" attendees=50; h3=$?
ag a8 "$ADB" sync; q7=$RC
if [ "$h2$q4$q5$q6$h3$q7" = 000000 ] && [ "$w1_hub$w1_lap" = 4040 ] &&
	[ "$(hub_value meeting "$M" attendees)" = 50 ] && [ "$(laptop_value "$ADB" meeting "$M" attendees)" = 50 ] &&
	agrees "$ADB"; then
	ok operations__concurrent_edit_of_one_field_merges_by_the_later_clock
else
	fail operations__concurrent_edit_of_one_field_merges_by_the_later_clock "exits $h2 $q4 $q5 $q6 $h3 $q7; office later: hub $w1_hub laptop $w1_lap (want 40); hub later: hub $(hub_value meeting "$M" attendees) laptop $(laptop_value "$ADB" meeting "$M" attendees) (want 50)"
fi
hub add --db "$HDB" meeting kind=nope held_on=2021-01-01; h4=$?
if [ "$h4" = 65 ] && grep -q bad_enum "$E2E_DIR/hubcmd.out"; then
	ok operations__correction_validated_like_an_office_change
else
	fail operations__correction_validated_like_an_office_change "exit $h4: $(cat "$E2E_DIR/hubcmd.out")"
fi

# ---- backup while serving under load ---------------------------------------------
load() {
	db=$1 tag=$2
	i=0
	while [ $i -lt 12 ]; do
		LC_ALL=$AGENT_LANG "$AGENT" add --db "$db" meeting kind=joint held_on=2021-04-01 attendees=$i \
			>/dev/null 2>&1
		LC_ALL=$AGENT_LANG "$AGENT" sync --db "$db" >>"$E2E_DIR/load-$tag.log" 2>&1
		echo "$?" >>"$E2E_DIR/load-$tag.rc"
		i=$((i + 1))
	done
}
load "$ADB" a & LA=$!; e2e_track $LA
load "$BDB" b & LB=$!; e2e_track $LB
brc=""
for k in 1 2 3; do
	sleep 0.3
	# on PostgreSQL with its own tools (pg_dump: one snapshot while serving)
	if hub_is_pg "$HDB"; then pg_backup "$HDB" "$E2E_DIR/backup-$k.db" >"$E2E_DIR/backup-$k.out" 2>&1
	else "$HUB" backup --db "$HDB" "$E2E_DIR/backup-$k.db" >"$E2E_DIR/backup-$k.out" 2>&1; fi
	brc="$brc$?"
done
wait $LA; wait $LB
integrity=""
for k in 1 2 3; do
	if hub_is_pg "$HDB"; then
		"$E2E_PG_BIN/pg_restore" --list "$E2E_DIR/backup-$k.db" >/dev/null 2>&1 && integrity="${integrity}ok"
	else
		integrity="$integrity$(sqlite3 "$E2E_DIR/backup-$k.db" 'PRAGMA integrity_check' 2>&1)"
	fi
done
ag a9 "$ADB" sync; q8=$RC
ag b9 "$BDB" sync; q9=$RC
bseq_a=$(sqlite3 "$ADB" "SELECT value FROM lk_config WHERE key = 'backup_seq'")
# What the last backup holds of office A. On PostgreSQL the dump is loaded into a database
# of its own to read it; and PostgreSQL's tools do not tell the hub what a backup holds:
# backup_seq stays 0 there, so the office keeps its whole journal (docs/operations.md).
if hub_is_pg "$HDB"; then
	B3=$(hub_db backup3)
	"$E2E_PG_BIN/pg_restore" --no-owner -d "$B3" "$E2E_DIR/backup-3.db" >/dev/null 2>&1
	held3=$(hub_sql "$B3" "SELECT acked FROM hub_agent WHERE id = '$AGENT_A'")
	want_bseq=0
else
	held3=$(sqlite3 "$E2E_DIR/backup-3.db" "SELECT acked FROM hub_agent WHERE id = '$AGENT_A'")
	want_bseq=$held3
	grep -q 'agents covered: ' "$E2E_DIR/backup-3.out" || brc="$brc (no 'agents covered')"
fi
bad_rc=$(cat "$E2E_DIR/load-a.rc" "$E2E_DIR/load-b.rc" | grep -vc '^0$')
if [ "$brc" = 000 ] && [ "$integrity" = okokok ] && [ "$bad_rc" = 0 ] && [ "$q8$q9" = 00 ] &&
	[ -n "$held3" ] && [ "$held3" -gt 0 ] && [ "$bseq_a" = "$want_bseq" ]; then
	ok operations__backup_while_offices_sync_in_a_loop
else
	fail operations__backup_while_offices_sync_in_a_loop "backup exits $brc, integrity '$integrity', failed syncs $bad_rc, backup_seq of A $bseq_a (want $want_bseq), backup holds $held3; $(tail -2 "$E2E_DIR/backup-3.out" | tr '\n' ' ') $(tail -2 "$E2E_DIR/load-a.log" | tr '\n' ' ')"
fi

# ---- restore ---------------------------------------------------------------------
# After the last backup: more records, and office C's token revoked.
ag a10 "$ADB" add meeting kind=joint held_on=2021-05-01 attendees=7; q10=$RC
ag b10 "$BDB" add meeting kind=joint held_on=2021-05-02 attendees=8; q11=$RC
ag a11 "$ADB" sync; q12=$RC
ag b11 "$BDB" sync; q13=$RC
held_a=$(hub_acked "$AGENT_A")
hub revoke --db "$HDB" "$(printf %.11s "$TOKEN_C")"; h5=$?
"$HUB" restore --db "$HDB" "$E2E_DIR/backup-3.db" >"$E2E_DIR/restore-serving.out" 2>&1; r_serving=$?
if hub_is_pg "$HDB"; then
	# `restore` is SQLite's: on PostgreSQL it refuses and names PostgreSQL's own tools
	if [ "$r_serving" != 0 ] && grep -q "with PostgreSQL's tools" "$E2E_DIR/restore-serving.out"; then
		ok operations__restore_on_postgresql_points_to_its_tools
	else
		fail operations__restore_on_postgresql_points_to_its_tools "exit $r_serving: $(cat "$E2E_DIR/restore-serving.out")"
	fi
elif [ "$r_serving" = 65 ] && grep -q 'stop it first' "$E2E_DIR/restore-serving.out"; then
	ok operations__restore_refused_while_serving
else
	fail operations__restore_refused_while_serving "exit $r_serving: $(cat "$E2E_DIR/restore-serving.out")"
fi
hub_down
if hub_is_pg "$HDB"; then
	# the operator's restore on PostgreSQL (docs/operations.md): pg_restore into the
	# database made again, then the tokens the log says were revoked after the dump
	r_old=65; echo 'older than the latest backup (SQLite only)' >"$E2E_DIR/restore-old.out"
	pg_restore_db "$HDB" "$E2E_DIR/backup-3.db" >"$E2E_DIR/restore.out" 2>&1; r_new=$?
	hub revoke --db "$HDB" "$(printf %.11s "$TOKEN_C")" && echo 'revocations re-applied: 1' >>"$E2E_DIR/restore.out"
else
	"$HUB" restore --db "$HDB" "$E2E_DIR/backup-2.db" >"$E2E_DIR/restore-old.out" 2>&1; r_old=$?
	"$HUB" restore --db "$HDB" "$E2E_DIR/backup-3.db" >"$E2E_DIR/restore.out" 2>&1; r_new=$?
fi
lost_a=$(hub_acked "$AGENT_A")
hub_up || { fail operations__hub_starts_after_restore "$(tail -5 "$HLOG" | tr '\n' ' ')"; e2e_finish; }
point "$ADB" "$HUB_URL"; point "$BDB" "$HUB_URL"; point "$CDB" "$HUB_URL"
ag a12 "$ADB" sync; q14=$RC
ag b12 "$BDB" sync; q15=$RC
ag a13 "$ADB" sync; q16=$RC
ag c12 "$CDB" sync; q17=$RC
if [ "$r_old" = 65 ] && grep -q 'older than the latest backup' "$E2E_DIR/restore-old.out" &&
	[ "$r_new" = 0 ] && grep -q 'revocations re-applied: 1' "$E2E_DIR/restore.out" &&
	[ "$q10$q11$q12$q13$h5" = 00000 ] && [ "$lost_a" -lt "$held_a" ] &&
	[ "$q14$q15$q16" = 000 ] && [ "$(hub_acked "$AGENT_A")" = "$(last_seq "$ADB")" ] &&
	[ "$(hub_acked "$AGENT_B")" = "$(last_seq "$BDB")" ] && agrees "$ADB" && agrees "$BDB"; then
	ok operations__restore_then_offices_converge
else
	fail operations__restore_then_offices_converge "restore old $r_old, latest $r_new ($(tr '\n' ' ' <"$E2E_DIR/restore.out" | cut -c1-300)); exits $q10 $q11 $q12 $q13 $h5 / $q14 $q15 $q16; A held $held_a, after restore $lost_a, now $(hub_acked "$AGENT_A") of $(last_seq "$ADB"); $(say a13)"
fi
if [ "$q17" = 77 ]; then
	ok operations__revoked_token_stays_revoked_after_restore
else
	fail operations__revoked_token_stays_revoked_after_restore "office C sync exit $q17 (want 77): $(say c12)"
fi

# ---- the reform of 1 July 2025, applied while serving ---------------------------
hub units import --db "$HDB" --reform "$REFORM" --on 2025-07-01; h6=$?
NEW_MUI_NE=$(unit_of 22918 2025-07-01)
TOKEN_D=$(enroll 22918 office-d)
ag a14 "$ADB" sync; q18=$RC
lam_dong=$(sqlite3 "$ADB" "SELECT count(*) FROM unit_name WHERE name = 'Tỉnh Lâm Đồng' AND code = '68'")
ag a15 "$ADB" add meeting kind=joint held_on=2025-08-01 attendees=5
LATE=$(cat "$E2E_DIR/a15.out")
ag a16 "$ADB" sync; q19=$RC
flag=$(hub_sql "$HDB" "SELECT suggestion FROM hub_flag WHERE row_id = '$LATE' AND kind = 'closed_unit'")
ag d-init "$DDB" init --unit 22918 --hub "$HUB_URL" --token "$TOKEN_D"; q20=$RC
ag d1 "$DDB" sync; q21=$RC
inherited=$(sqlite3 "$DDB" "SELECT count(*) FROM meeting WHERE unit_id = '$OLD_MUI_NE'")
ag a17 "$ADB" sync; q24=$RC
if [ "$h6" = 0 ] && [ -n "$NEW_MUI_NE" ] && [ "$NEW_MUI_NE" != "$OLD_MUI_NE" ] && [ "$lam_dong" = 1 ] &&
	[ "$q18$q19" = 00 ] && [ "$flag" = "$NEW_MUI_NE" ]; then
	ok operations__reform_pulled_and_late_record_flagged_with_successor
else
	fail operations__reform_pulled_and_late_record_flagged_with_successor "import exit $h6 ($(tail -2 "$E2E_DIR/hubcmd.out" | tr '\n' ' ')); new unit '$NEW_MUI_NE'; laptop has Lâm Đồng: $lam_dong; exits $q18 $q19; flag '$flag'"
fi
# The new commune's office receives the merged commune's records (scope follows the
# merge, PROTOCOL.md §8), and its checksums agree. (Writing them from that laptop also
# needs the agent's own scope check to follow merge events; the hub accepts such
# writes: test_hub_ops.c.)
if [ "$q20$q21$q24" = 000 ] && [ "$inherited" -gt 0 ] &&
	[ "$(laptop_value "$DDB" meeting "$M" attendees)" = 50 ] && agrees "$DDB"; then
	ok operations__new_commune_office_receives_the_merged_communes_records
else
	fail operations__new_commune_office_receives_the_merged_communes_records "exits $q20 $q21 $q24; inherited $inherited; D sees attendees '$(laptop_value "$DDB" meeting "$M" attendees)'; $(say d1)"
fi

# ---- the merged commune's own report (issue 12, items 9 and 10) -----------------
# Old Phường Mũi Né (22915, merged on 2025-07-01, its name ended the day before) is
# found by its code in the 2025 report, which stops on 2025-06-30: its joint meeting of
# May counts, the late one of 2025-08-01 (above) only under the new commune 22918,
# and the province counts each once.
ag a18 "$ADB" add meeting kind=joint held_on=2025-05-05 attendees=6
ag a19 "$ADB" sync; q25=$RC
joint_of() { grep -o '"key":"joint"[^}]*' "$1" | grep -o '"value":[0-9]*' | head -n 1 | cut -d: -f2; }
"$HUB" report --db "$HDB" --unit 22915 --year 2025 --format json >"$E2E_DIR/r-old.json" 2>&1; r1=$?
"$HUB" report --db "$HDB" --unit 22918 --year 2025 --format json >"$E2E_DIR/r-new.json" 2>&1; r2=$?
"$HUB" report --db "$HDB" --year 2025 --format json >"$E2E_DIR/r-all.json" 2>&1; r3=$?
old_unit=$(grep -o '"unit":"[^"]*"' "$E2E_DIR/r-old.json" | head -n 1 | cut -d'"' -f4)
old_as_of=$(grep -o '"as_of":"[^"]*"' "$E2E_DIR/r-old.json" | head -n 1 | cut -d'"' -f4)
j_old=$(joint_of "$E2E_DIR/r-old.json") j_new=$(joint_of "$E2E_DIR/r-new.json") j_all=$(joint_of "$E2E_DIR/r-all.json")
if [ "$q25$r1$r2$r3" = 0000 ] && [ "$old_unit" = "$OLD_MUI_NE" ] && [ "$old_as_of" = 2025-06-30 ] &&
	[ "$j_old" = 1 ] && [ "$j_new" = 2 ] && [ "$j_all" = 2 ]; then
	ok operations__merged_commune_report_by_old_code_covers_its_half_year
else
	fail operations__merged_commune_report_by_old_code_covers_its_half_year "sync exit $q25; report exits $r1 $r2 $r3 (want 0); unit '$old_unit' (want $OLD_MUI_NE) as of '$old_as_of'; joint meetings old $j_old (want 1), new $j_new (want 2), province $j_all (want 2); $(head -c 300 "$E2E_DIR/r-old.json")"
fi

# ---- every reform command from the command line ----------------------------------
# On the new tree (after 2025-07-01), effective 2026-01-01: codes resolved as of that
# date, the new dated rows visible in `units list --on`, history as it was.
hub units open --db "$HDB" --name "Xã Thử Nghiệm" --kind commune --code 99001 --on 2026-01-01; c1=$?
hub units rename --db "$HDB" --unit 22918 --name "Phường Mũi Né Mới" --on 2026-01-01; c2=$?
hub units split --db "$HDB" --unit 22924 --into 22924,99001 --on 2026-01-01; c3=$?
hub units merge --db "$HDB" --unit 22933 --into 22945 --on 2026-01-01; c4=$?
hub units open --db "$HDB" --name "Thôn Mới" --kind branch --parent 22945 --on 2026-01-01; c5=$?
BRANCH=$(head -n 1 "$E2E_DIR/hubcmd.out")
hub units move --db "$HDB" --unit "$BRANCH" --to 22954 --on 2026-02-01; c6=$?
hub units close --db "$HDB" --unit 99001 --into 22924 --on 2026-03-01; c7=$?
hub units merge --db "$HDB" --unit 22933 --into 22945 --on 2026-04-01; c8=$?
"$HUB" units list --db "$HDB" --on 2026-02-15 >"$E2E_DIR/list-feb.tsv" 2>&1
"$HUB" units list --db "$HDB" --on 2025-12-31 >"$E2E_DIR/list-dec.tsv" 2>&1
"$HUB" units list --db "$HDB" --on 2026-03-15 --all >"$E2E_DIR/list-all.tsv" 2>&1
name_feb=$(awk -F'\t' '$2 == "22918" { print $3 }' "$E2E_DIR/list-feb.tsv")
name_dec=$(awk -F'\t' '$2 == "22918" { print $3 }' "$E2E_DIR/list-dec.tsv")
parent_feb=$(awk -F'\t' -v b="$BRANCH" '$1 == b { print $5 }' "$E2E_DIR/list-feb.tsv")
has_22933_feb=$(awk -F'\t' '$2 == "22933"' "$E2E_DIR/list-feb.tsv" | wc -l)
split_open=$(awk -F'\t' '$2 == "22924" { print $6 }' "$E2E_DIR/list-feb.tsv")
U99001=$(unit_of 99001 2026-02-15)
test_state=$(awk -F'\t' -v u="$U99001" '$1 == u { print $6 }' "$E2E_DIR/list-all.tsv")
U22924=$(unit_of 22924 2026-02-15)
U22954=$(unit_of 22954 2026-02-15)
if [ "$c1$c2$c3$c4$c5$c6$c7" = 0000000 ] && [ "$c8" = 65 ] && [ "$name_feb" = "Phường Mũi Né Mới" ] &&
	[ "$name_dec" = "Phường Mũi Né" ] && [ -n "$BRANCH" ] && [ "$parent_feb" = "$U22954" ] &&
	[ "$has_22933_feb" = 0 ] && [ "$split_open" = open ] && [ "$test_state" = "$U22924" ]; then
	ok operations__reform_commands_dated_from_the_command_line
else
	fail operations__reform_commands_dated_from_the_command_line "exits $c1 $c2 $c3 $c4 $c5 $c6 $c7 $c8 (want 0… and 65); 22918 named '$name_feb' in Feb, '$name_dec' in Dec; branch '$BRANCH' under '$parent_feb' (want $U22954); 22933 listed $has_22933_feb; 22924 '$split_open'; 99001 '$test_state' (want $U22924); $(tail -2 "$E2E_DIR/hubcmd.out" | tr '\n' ' ')"
fi
e2e_finish
