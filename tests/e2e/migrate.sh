#!/bin/sh
# migrate — end to end: `lienket-hub migrate --from tinh.db --to DB` (issue 15 item 4) on
# a hub that served real agents on loopback. The source is always an SQLite file; the
# destination is the suite's hub_db: another SQLite file, or with LK_STORE=pg a database
# on the suite's own PostgreSQL server (lib.sh).
#   - refused while the source is served (rows written after the copy would be lost);
#   - every table copied: the summary's row counts are the source's, read back from the
#     destination independently, the hub id and hub sequence kept;
#   - refused into a destination that already holds a hub (left as it was);
#   - `migrate --check` finds one value changed in the destination behind the hub's back;
#   - the offices (two laptops of one commune) sync on against the migrated hub without a fork, a gap or a resend of
#     what was acknowledged: the next change set starts right after what the hub had
#     acknowledged, the token is not refused, the other office pulls the two new rows and
#     only them (its pull position still valid, not started over) and both offices' checksums agree with the hub.
# Prints one cmocka-style line per case; every process it starts is stopped by PID. Run
# from the repository root; $LK_BIN is the build directory.
set -u
. tests/e2e/lib.sh

UNITS=tests/fixtures/binh-thuan-before-2025-07.csv
SRC="$E2E_DIR/tinh.db"
DST=$(hub_db migrated)
ADB="$E2E_DIR/a.db"
BDB="$E2E_DIR/b.db"
AGENT_LANG=en_US.UTF-8
HUB_PID=""

hub_up() { hub_start "$1" hub && HUB_PID=$(eval echo "\$HUB_PID_hub"); }
hub_down() { stop "$HUB_PID"; HUB_PID=""; }
enroll() {
	"$HUB" enroll --db "$SRC" --unit "$1" --name "$2" >"$E2E_DIR/enroll-$2.out" 2>&1
	sed -n 's/^token: *\(lk_[A-Za-z0-9_-]*\).*/\1/p' "$E2E_DIR/enroll-$2.out" | head -n 1
}
json() {
	python3 -c 'import json,sys
v = json.load(open(sys.argv[1])).get(sys.argv[2])
print("null" if v is None else str(v).lower() if isinstance(v, bool) else v)' "$1" "$2" 2>/dev/null
}
agrees() { ag st "$1" status --json && cp "$E2E_DIR/st.out" "$E2E_DIR/st.json" && [ "$(json "$E2E_DIR/st.json" checksums_agree)" = true ]; }
agent_id() { ag st "$1" status --json && json "$E2E_DIR/st.out" agent; }
last_seq() { v=$(sqlite3 "$1" "SELECT seq FROM sqlite_sequence WHERE name = 'lk_journal'" 2>/dev/null); echo "${v:-0}"; }
acked_on() { v=$("$HUB" agents list --db "$1" 2>/dev/null | awk -F'\t' -v a="$2" '$4 == a { print $7 }'); echo "${v:-0}"; }
# the hub's tables in the source, one a line
src_tables() { sqlite3 "$SRC" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name"; }
# dst_has_hub — whether the destination exists as a hub database (its hub_meta table).
dst_has_hub() {
	if hub_is_pg "$DST"; then
		[ "$(hub_sql "$DST" "SELECT count(*) FROM information_schema.tables WHERE table_name = 'hub_meta'")" = 1 ]
	else
		[ -e "$DST" ]
	fi
}

for bin in "$HUB" "$AGENT"; do
	[ -x "$bin" ] || { fail migrate__programs_are_built "'$bin' missing"; e2e_finish; }
done

# ---- a hub that served two offices ---------------------------------------------------
"$HUB" init --db "$SRC" --units "$UNITS" >"$E2E_DIR/init.log" 2>&1 ||
	{ fail migrate__hub_init "$(tail -3 "$E2E_DIR/init.log" | tr '\n' ' ')"; e2e_finish; }
TOKEN_A=$(enroll 22915 office-a)
TOKEN_B=$(enroll 22915 office-b)
TOKEN_C=$(enroll 22921 office-c)
"$HUB" viewer add tinh --db "$SRC" >"$E2E_DIR/viewer.out" 2>&1
"$HUB" revoke --db "$SRC" "$(printf '%s' "$TOKEN_C" | cut -c1-11)" >"$E2E_DIR/revoke.out" 2>&1
hub_up "$SRC" || { fail migrate__hub_starts "$(tail -5 "$E2E_DIR/hub.log" | tr '\n' ' ')"; e2e_finish; }
ag a-init "$ADB" init --unit 22915 --hub "$HUB_URL" --token "$TOKEN_A"; r1=$RC
ag b-init "$BDB" init --unit 22915 --hub "$HUB_URL" --token "$TOKEN_B"; r2=$RC
ag a0 "$ADB" sync; r0=$RC
ag b0 "$BDB" sync; r0=$r0$RC
ag a1 "$ADB" add person "full_name=Nguyễn Thị Ánh" phone=0901; r3=$RC
ag a2 "$ADB" add meeting kind=joint held_on=2025-03-14 commune_secretary_attended=1 attendees=12; r4=$RC
M=$(cat "$E2E_DIR/a2.out")
ag a3 "$ADB" sync; r5=$RC
ag b1 "$BDB" add person "full_name=Trần Văn Bình"; r6=$RC
ag b2 "$BDB" sync; r7=$RC
"$HUB" set --db "$SRC" meeting "$M" attendees=15 >"$E2E_DIR/set.out" 2>&1; r8=$?
ag a4 "$ADB" sync; r9=$RC
if [ "$r0$r1$r2$r3$r4$r5$r6$r7$r8$r9" != 00000000000 ]; then
	fail migrate__offices_set_up "exits $r0 $r1 $r2 $r3 $r4 $r5 $r6 $r7 $r8 $r9: $(say a3) $(say b2) $(cat "$E2E_DIR/set.out")"
	e2e_finish
fi
AGENT_A=$(agent_id "$ADB")
AGENT_B=$(agent_id "$BDB")

# ---- refused while served ----------------------------------------------------------
"$HUB" migrate --from "$SRC" --to "$DST" >"$E2E_DIR/m0.out" 2>"$E2E_DIR/m0.err"; m0=$?
if [ "$m0" = 66 ] && grep -q 'serves' "$E2E_DIR/m0.err" && ! dst_has_hub; then
	ok migrate__refused_while_the_source_is_served
else
	fail migrate__refused_while_the_source_is_served "exit $m0: $(cat "$E2E_DIR/m0.err")"
fi
hub_down

# ---- the copy ----------------------------------------------------------------------
HUB_ID=$(sqlite3 "$SRC" "SELECT value FROM hub_meta WHERE key = 'hub_id'")
HS=$(sqlite3 "$SRC" "SELECT value FROM hub_meta WHERE key = 'hs'")
ACKED_A=$(acked_on "$SRC" "$AGENT_A")
SEQ_A=$(last_seq "$ADB")
# Receipts after the migration: later than every receipt the source holds (a time in
# whole seconds also took the first sync's receipt when both fell in the same second).
T_MIGRATE=$(sqlite3 "$SRC" "SELECT coalesce(max(received_ms), 0) + 1 FROM hub_receipt")
"$HUB" migrate --from "$SRC" --to "$DST" >"$E2E_DIR/m1.out" 2>"$E2E_DIR/m1.err"; m1=$?
bad=""
for t in $(src_tables); do
	want=$(sqlite3 "$SRC" "SELECT count(*) FROM \"$t\"")
	got=$(hub_sql "$DST" "SELECT count(*) FROM \"$t\"" 2>&1)
	said=$(awk -v t="$t" '$1 == t { print $2 }' "$E2E_DIR/m1.out")
	# hub_meta: the destination may keep keys of its own beside the copied ones
	if [ "$t" = hub_meta ]; then [ "$got" -ge "$want" ] 2>/dev/null || bad="$bad $t:$want/$got"
	elif [ "$got" != "$want" ] || [ "$said" != "$want" ]; then bad="$bad $t:$want/$got/$said"; fi
done
dst_id=$(hub_sql "$DST" "SELECT value FROM hub_meta WHERE key = 'hub_id'")
dst_hs=$(hub_sql "$DST" "SELECT value FROM hub_meta WHERE key = 'hs'")
nonempty=$(for t in person meeting hub_token hub_agent hub_receipt hub_agent_chain hub_viewer; do
	[ "$(sqlite3 "$SRC" "SELECT count(*) > 0 FROM \"$t\"")" = 1 ] && printf 1; done)
if [ "$m1" = 0 ] && [ -z "$bad" ] && [ "$dst_id" = "$HUB_ID" ] && [ "$dst_hs" = "$HS" ] &&
	[ "$nonempty" = 1111111 ] && grep -q "^hub_id: $HUB_ID (kept)" "$E2E_DIR/m1.out" &&
	grep -q "	migrate	.*	$HUB_ID	$HS\$" "$SRC.operations" &&
	grep -q '^checked: row counts and checksums' "$E2E_DIR/m1.out"; then
	ok migrate__copies_every_table_keeping_the_hub_id_and_sequence
else
	fail migrate__copies_every_table_keeping_the_hub_id_and_sequence "exit $m1, differing (want/got/said):$bad; hub_id $dst_id (want $HUB_ID), hs $dst_hs (want $HS), tables with rows $nonempty; $(cat "$E2E_DIR/m1.err")"
fi

before=$(hub_sql "$DST" "SELECT count(*) FROM person")
"$HUB" migrate --from "$SRC" --to "$DST" >"$E2E_DIR/m2.out" 2>"$E2E_DIR/m2.err"; m2=$?
after=$(hub_sql "$DST" "SELECT count(*) FROM person")
if [ "$m1" = 0 ] && dst_has_hub && [ "$m2" = 73 ] && [ "$before" = "$after" ] &&
	grep -q 'destination' "$E2E_DIR/m2.err"; then
	ok migrate__refuses_a_destination_that_holds_a_hub
else
	fail migrate__refuses_a_destination_that_holds_a_hub "exit $m2, persons $before then $after: $(cat "$E2E_DIR/m2.err")"
fi

# ---- the check finds a difference -----------------------------------------------------
P_A=$(cat "$E2E_DIR/a1.out")
"$HUB" migrate --check --from "$SRC" --to "$DST" >"$E2E_DIR/c1.out" 2>"$E2E_DIR/c1.err"; c1=$?
hub_sql "$DST" "UPDATE person SET phone = '0999' WHERE id = '$P_A'" >/dev/null
"$HUB" migrate --check --from "$SRC" --to "$DST" >"$E2E_DIR/c2.out" 2>"$E2E_DIR/c2.err"; c2=$?
hub_sql "$DST" "UPDATE person SET phone = '0901' WHERE id = '$P_A'" >/dev/null
"$HUB" migrate --check --from "$SRC" --to "$DST" >"$E2E_DIR/c3.out" 2>"$E2E_DIR/c3.err"; c3=$?
if [ "$c1$c2$c3" = 0700 ] && grep -q 'table person: .* checksums differ' "$E2E_DIR/c2.err"; then
	ok migrate__check_finds_a_value_changed_in_the_destination
else
	fail migrate__check_finds_a_value_changed_in_the_destination "exits $c1 $c2 $c3 (want 0 70 0): $(cat "$E2E_DIR/c1.err" "$E2E_DIR/c2.err")"
fi

# ---- the offices sync on against the migrated hub ------------------------------------
hub_up "$DST" || { fail migrate__migrated_hub_starts "$(tail -5 "$E2E_DIR/hub.log" | tr '\n' ' ')"; e2e_finish; }
for db in "$ADB" "$BDB"; do LC_ALL=$AGENT_LANG "$AGENT" config --db "$db" --hub "$HUB_URL" >/dev/null 2>&1; done
ag a5 "$ADB" add person "full_name=Lê Văn Sau Chuyển" phone=0902; s1=$RC
P_NEW=$(cat "$E2E_DIR/a5.out")
ag a6 "$ADB" set meeting "$M" attendees=20; s2=$RC
ag a7 "$ADB" sync; s3=$RC
ag b3 "$BDB" sync; s4=$RC
ag b4 "$BDB" add person "full_name=Phạm Thị Sau"; s5=$RC
ag b5 "$BDB" sync; s6=$RC
ag a8 "$ADB" sync; s7=$RC
first_from=$(hub_sql "$DST" "SELECT min(seq_from) FROM hub_receipt WHERE agent_id = '$AGENT_A' AND received_ms >= $T_MIGRATE")
dups=$(hub_sql "$DST" "SELECT count(*) FROM hub_receipt WHERE agent_id IN ('$AGENT_A', '$AGENT_B') AND received_ms >= $T_MIGRATE AND duplicate <> 0")
refused=$(hub_sql "$DST" "SELECT count(*) FROM hub_token WHERE fork_refused <> 0")
a_hub=$(sqlite3 "$ADB" "SELECT value FROM lk_config WHERE key = 'hub_id'")
b_has=$(sqlite3 "$BDB" "SELECT count(*) FROM person WHERE id = '$P_NEW'")
b_att=$(sqlite3 "$BDB" "SELECT attendees FROM meeting WHERE id = '$M'")
acked_now=$(acked_on "$DST" "$AGENT_A")
if [ "$s1$s2$s3$s4$s5$s6$s7" = 0000000 ] && [ "$first_from" = $((ACKED_A + 1)) ] && [ "$dups" = 0 ] &&
	[ "$refused" = 0 ] && [ "$a_hub" = "$HUB_ID" ] && [ "$acked_now" = "$(last_seq "$ADB")" ] &&
	[ "$b_has" = 1 ] && [ "$b_att" = 20 ] && grep -q 'received 2 records' "$E2E_DIR/b3.out" &&
	agrees "$ADB" && agrees "$BDB"; then
	ok migrate__offices_sync_on_without_fork_gap_or_resend
else
	fail migrate__offices_sync_on_without_fork_gap_or_resend "exits $s1 $s2 $s3 $s4 $s5 $s6 $s7; first change set from $first_from (acked before $ACKED_A of $SEQ_A), duplicates $dups, refused forks $refused, office's hub id $a_hub (want $HUB_ID), acked $acked_now of $(last_seq "$ADB"), office b has the new person $b_has, attendees $b_att, pulled: $(head -1 "$E2E_DIR/b3.out"); $(say a7)"
fi
hub_down

e2e_finish
