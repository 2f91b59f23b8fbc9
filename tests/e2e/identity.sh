#!/bin/sh
# identity — an office and the hub across restores, recover, reinstalls and two syncs
# at once, with the real lienket-hub and lienket-agent on loopback (issue 12 B and
# security 1, issue 18 items 1, 2, 3 and 6; PROTOCOL.md §6.1–§6.3, §9).
#
#   18.1  add (not sent), copy the database, set, sync, put the copy back, sync: the
#         hub refused nothing, so the laptop continues after it (no fork), `recover`
#         changes nothing, and the next edit arrives.
#   18.2/3 a copy with entries not yet sent, put back after the lost disk sent them and
#         more; new edits typed on the copy under the hub's numbers: the hub refuses the
#         fork, `recover` sends exactly the new edits (each applied once) and the
#         restored journal's duplicates are not applied again.
#   12 B  a sync held in a faultproxy (its answer delayed) keeps the database's sync
#         lock: a second sync waits, then says which process syncs (exit 75); killed
#         with SIGKILL, the holder's lock goes with it.
#   §9    a laptop reinstalled with its database gets a token enrolled with
#         `--agent ID`: it keeps its sequence, its old token is revoked; an id of
#         another commune is refused at enrolment.
#   18.6  the hub restored from a backup, the office that wrote after the backup
#         revoked meanwhile: the other laptop drops that office's lost row, and its
#         checksums agree.
#   §9    both restored in one history: (a) `recover` re-bound the token, then the hub
#         went back to a backup older than that binding (and than what the laptop
#         compacted); (b) a restored copy continued after the hub's acknowledgement,
#         then the hub went back to a backup older than it. The office is never locked
#         out: it takes a new id by itself, what it still holds reaches the hub once,
#         and it says how many entries neither side holds any more.
#
# Prints one cmocka-style line per case; every process it starts is stopped by PID.
# Run from the repository root; $LK_BIN is the build directory.
set -u
. tests/e2e/lib.sh

UNITS=tests/fixtures/units-small.csv
COMMUNE_CODE=22915
OTHER_CODE=22918
HDB="$E2E_DIR/hub.db"
ADB="$E2E_DIR/laptop-a.db"
BDB="$E2E_DIR/laptop-b.db"
PROXY="$LK_BIN/tools/faultproxy"
HUB_PID=""
RC=0
AGENT_LANG=en_US.UTF-8

hub_up() { hub_start "$HDB" hub && HUB_PID=$HUB_PID_hub; }
point() { LC_ALL=$AGENT_LANG "$AGENT" config --db "$1" --hub "$2" >/dev/null 2>&1; }
# jkey DB KEY — a top-level member of `status --json`.
jkey() {
	LC_ALL=$AGENT_LANG "$AGENT" status --db "$1" --json 2>/dev/null |
		python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print(str(v).lower() if isinstance(v,bool) else v)' "$2"
}
last_seq() { v=$(sqlite3 "$1" "SELECT seq FROM sqlite_sequence WHERE name = 'lk_journal'"); echo "${v:-0}"; }
hub_acked() { v=$(sqlite3 "$HDB" "SELECT acked FROM hub_agent WHERE id = '$1'"); echo "${v:-0}"; }
hub_has() { [ "$(sqlite3 "$HDB" "SELECT count(*) FROM \"$1\" WHERE id = '$2' AND _ins_writer <> ''")" = 1 ]; }
# copy_db FROM TO — a consistent copy of a laptop's database, as a backup tool makes it.
copy_db() { rm -f "$2"; sqlite3 "$1" ".backup '$2'"; }
# put_back COPY DB — the copy replaces the laptop's database (and its log files).
put_back() { rm -f "$2" "$2-wal" "$2-shm"; cp "$1" "$2"; }
# meeting DB NAME N — adds a meeting; prints its id.
meeting() {
	LC_ALL=$AGENT_LANG "$AGENT" add meeting --db "$1" kind=joint held_on=2021-03-14 attendees="$3" \
		"concerns=Họp $2 lần $3" 2>>"$E2E_DIR/add.err"
}
enroll() {
	"$HUB" enroll --db "$HDB" "$@" 2>>"$E2E_DIR/enroll.err" | sed -n 's/^token: *\(lk_[A-Za-z0-9_-]*\).*/\1/p'
}

for bin in "$HUB" "$AGENT" "$PROXY"; do
	[ -x "$bin" ] || { fail identity__programs_are_built "'$bin' missing"; e2e_finish; }
done
"$HUB" init --db "$HDB" --units "$UNITS" >"$E2E_DIR/init.log" 2>&1 ||
	{ fail identity__hub_init "$(tail -3 "$E2E_DIR/init.log" | tr '\n' ' ')"; e2e_finish; }
UNIT=$("$HUB" units list --db "$HDB" | awk -F'\t' -v c="$COMMUNE_CODE" '$2 == c { print $1 }')
TOKEN_A=$(enroll --unit "$COMMUNE_CODE" --name a)
TOKEN_B=$(enroll --unit "$COMMUNE_CODE" --name b)
[ -n "$UNIT" ] && [ -n "$TOKEN_A" ] && [ -n "$TOKEN_B" ] ||
	{ fail identity__enroll "$(tail -3 "$E2E_DIR/enroll.err" | tr '\n' ' ')"; e2e_finish; }
hub_up || { fail identity__hub_starts "no port"; e2e_finish; }
ag a-init "$ADB" init --unit "$UNIT" --hub "$HUB_URL" --token "$TOKEN_A"
ag b-init "$BDB" init --unit "$UNIT" --hub "$HUB_URL" --token "$TOKEN_B"
AGENT_A=$(jkey "$ADB" agent)

# ---- 18.1: a restored copy whose entries all reached the hub ---------------------
M1=$(meeting "$ADB" a 10)
copy_db "$ADB" "$E2E_DIR/a-copy.db"
ag a-set "$ADB" set meeting "$M1" attendees=12
ag a-s1 "$ADB" sync; s1=$RC
put_back "$E2E_DIR/a-copy.db" "$ADB"
ag a-s2 "$ADB" sync; s2=$RC
ag a-rec "$ADB" recover --force; s3=$RC
att=$(sqlite3 "$ADB" "SELECT attendees FROM meeting WHERE id = '$M1'")
M2=$(meeting "$ADB" a 11)
ag a-s3 "$ADB" sync; s4=$RC
if [ "$s1$s2$s3$s4" = 0000 ] && [ "$att" = 12 ] && [ "$(jkey "$ADB" agent)" = "$AGENT_A" ] &&
	grep -q 'No recovery needed' "$E2E_DIR/a-rec.out" && hub_has meeting "$M2" &&
	[ "$(hub_acked "$AGENT_A")" = "$(last_seq "$ADB")" ] && [ "$(jkey "$ADB" checksums_agree)" = true ]; then
	ok identity__a_restored_copy_continues_after_the_hub_and_recover_changes_nothing
else
	fail identity__a_restored_copy_continues_after_the_hub_and_recover_changes_nothing \
		"exits $s1 $s2 $s3 $s4 (want 0 0 0 0), attendees '$att' (want 12), hub acked $(hub_acked "$AGENT_A") of $(last_seq "$ADB"); $(say a-s2) $(say a-rec)"
fi

# ---- 18.2 and 18.3: new edits typed on a copy, under the hub's numbers -------------
ag b-batch "$BDB" config --batch-bytes 8192
for i in 1 2 3; do meeting "$BDB" b "$i" >/dev/null; done
ag b-s1 "$BDB" sync; t1=$RC
i=4
while [ $i -le 63 ]; do meeting "$BDB" b "$i" >/dev/null; i=$((i + 1)); done
copy_db "$BDB" "$E2E_DIR/b-copy.db"
ag b-s2 "$BDB" sync; t2=$RC
for i in 64 65 66 67 68; do meeting "$BDB" lost "$i" >/dev/null; done
ag b-s3 "$BDB" sync; t3=$RC
AGENT_B=$(jkey "$BDB" agent)
put_back "$E2E_DIR/b-copy.db" "$BDB"
NEW=""
for i in 1 2 3 4 5; do NEW="$NEW $(meeting "$BDB" new "$i")"; done
ag b-s4 "$BDB" sync; t4=$RC
ag b-rec "$BDB" recover; t5=$RC
AGENT_B2=$(jkey "$BDB" agent)
arrived=0
for m in $NEW; do hub_has meeting "$m" && arrived=$((arrived + 1)); done
applied=$(sqlite3 "$HDB" "SELECT coalesce(sum(applied), 0) FROM hub_receipt WHERE agent_id = '$AGENT_B2'")
if [ "$t1$t2$t3" = 000 ] && [ "$t4" = 76 ] && [ "$t5" = 0 ] && [ "$arrived" = 5 ] &&
	[ "$AGENT_B2" != "$AGENT_B" ] && [ "$applied" = 5 ] && [ "$(hub_acked "$AGENT_B2")" = 5 ] &&
	[ "$(jkey "$BDB" checksums_agree)" = true ]; then
	ok identity__edits_typed_on_a_restored_copy_reach_the_hub_once_through_recover
else
	fail identity__edits_typed_on_a_restored_copy_reach_the_hub_once_through_recover \
		"exits $t1 $t2 $t3 / $t4 (want 76) $t5; new edits at the hub $arrived of 5, applied under the new id $applied (want 5), acked $(hub_acked "$AGENT_B2"); $(say b-s4) $(say b-rec)"
fi

# ---- 12 B: one sync per database at a time ----------------------------------------
rm -f "$E2E_DIR/p.port"
"$PROXY" --listen 127.0.0.1:0 --port-file "$E2E_DIR/p.port" --target "127.0.0.1:$HUB_PORT" \
	--fault delay-answer:60000 --log "$E2E_DIR/proxy.log" 2>>"$E2E_DIR/proxy.err" &
PROXY_PID=$!
e2e_track $PROXY_PID
wait_file "$E2E_DIR/p.port" 100
point "$ADB" "http://127.0.0.1:$(cat "$E2E_DIR/p.port")"
meeting "$ADB" a 20 >/dev/null
hellos=$(grep -c 'POST /v1/hello' "$E2E_DIR/hub.log")
LC_ALL=$AGENT_LANG "$AGENT" sync --db "$ADB" >"$E2E_DIR/held.out" 2>&1 &
HELD=$!
e2e_track $HELD
# the held sync has its lock once the hub answered its hello (held in the proxy)
i=0
while [ "$(grep -c 'POST /v1/hello' "$E2E_DIR/hub.log")" -le "$hellos" ] && [ $i -lt 300 ]; do
	sleep 0.1; i=$((i + 1))
done
t0=$(date +%s)
ag a-second "$ADB" sync; w1=$RC
waited=$(($(date +%s) - t0))
kill -9 "$HELD" 2>/dev/null
wait "$HELD" 2>/dev/null
point "$ADB" "$HUB_URL"
ag a-third "$ADB" sync; w2=$RC
if [ "$w1" = 75 ] && grep -q "Another sync of this database is running (process $HELD)" "$E2E_DIR/a-second.err" &&
	[ "$waited" -ge 9 ] && [ "$w2" = 0 ] && [ "$(hub_acked "$AGENT_A")" = "$(last_seq "$ADB")" ]; then
	ok identity__a_second_sync_of_one_database_waits_then_names_the_one_running
else
	fail identity__a_second_sync_of_one_database_waits_then_names_the_one_running \
		"second sync exit $w1 after ${waited}s (want 75 after 10 s naming $HELD), after SIGKILL of the holder $w2; $(say a-second) $(say a-third)"
fi
stop "$PROXY_PID"

# ---- §9: a reinstalled laptop keeps its id and sequence ---------------------------
seq_before=$(last_seq "$ADB")
T_OTHER=$(enroll --unit "$OTHER_CODE" --agent "$AGENT_A")
NEW_TOKEN=$(enroll --unit "$COMMUNE_CODE" --agent "$AGENT_A" --name a-reinstalled)
ag a-token "$ADB" config --token "$NEW_TOKEN"
meeting "$ADB" a 30 >/dev/null
ag a-s4 "$ADB" sync; r1=$RC
ag old-init "$E2E_DIR/old-token.db" init --unit "$UNIT" --hub "$HUB_URL" --token "$TOKEN_A"
ag old-sync "$E2E_DIR/old-token.db" sync; r2=$RC
if [ -z "$T_OTHER" ] && [ -n "$NEW_TOKEN" ] && [ "$r1" = 0 ] && [ "$r2" = 77 ] &&
	[ "$(jkey "$ADB" agent)" = "$AGENT_A" ] && [ "$(last_seq "$ADB")" = $((seq_before + 1)) ] &&
	[ "$(hub_acked "$AGENT_A")" = "$(last_seq "$ADB")" ]; then
	ok identity__a_laptop_reinstalled_with_a_token_enrolled_for_its_id_keeps_its_sequence
else
	fail identity__a_laptop_reinstalled_with_a_token_enrolled_for_its_id_keeps_its_sequence \
		"other commune's token '$T_OTHER', new token '$NEW_TOKEN', sync $r1 (want 0), old token $r2 (want 77), hub acked $(hub_acked "$AGENT_A") of $(last_seq "$ADB"); $(tail -2 "$E2E_DIR/enroll.err" | tr '\n' ' ') $(say a-s4)"
fi

# ---- 18.6: rows a restored hub no longer holds ------------------------------------
"$HUB" backup --db "$HDB" "$E2E_DIR/backup.db" >"$E2E_DIR/backup.out" 2>&1; k1=$?
MB=$(meeting "$BDB" after-backup 40)
ag b-s5 "$BDB" sync; k2=$RC
ag a-s5 "$ADB" sync; k3=$RC
had=$(sqlite3 "$ADB" "SELECT count(*) FROM meeting WHERE id = '$MB'")
"$HUB" revoke --db "$HDB" "$(printf %.11s "$TOKEN_B")" >/dev/null 2>&1; k4=$?
stop "$HUB_PID"
"$HUB" restore --db "$HDB" "$E2E_DIR/backup.db" >"$E2E_DIR/restore.out" 2>&1; k5=$?
hub_up || { fail identity__hub_starts_after_restore "no port"; e2e_finish; }
point "$ADB" "$HUB_URL"
ag a-s6 "$ADB" sync; k6=$RC
kept=$(sqlite3 "$ADB" "SELECT count(*) FROM meeting WHERE id = '$MB'")
ag a-s7 "$ADB" sync; k7=$RC
if [ "$k1$k2$k3$k4$k5$k6$k7" = 0000000 ] && [ "$had" = 1 ] && [ "$kept" = 0 ] &&
	grep -q 'no longer holds' "$E2E_DIR/a-s6.out" && [ "$(jkey "$ADB" checksums_agree)" = true ] &&
	[ "$(hub_acked "$AGENT_A")" = "$(last_seq "$ADB")" ]; then
	ok identity__rows_a_restored_hub_no_longer_holds_leave_the_office
else
	fail identity__rows_a_restored_hub_no_longer_holds_leave_the_office \
		"exits $k1 $k2 $k3 $k4 $k5 $k6 $k7, row before $had after $kept (want 1 then 0), checksums $(jkey "$ADB" checksums_agree); $(say a-s6)"
fi

# ---- §9: laptop and hub both restored (merge soak histories 5150014, 5150001) ------
# hub_restore FILE [--force] — the hub goes back to the backup FILE (--force: older
# than the latest backup); every laptop points at it.
hub_restore() {
	stop "$HUB_PID"
	"$HUB" restore --db "$HDB" "$@" >>"$E2E_DIR/restore.out" 2>&1 || return 1
	hub_up || return 1
	for db in "$ADB" "$CDB" "$DDB"; do [ -f "$db" ] && point "$db" "$HUB_URL"; done
	return 0
}
applied_of() { sqlite3 "$HDB" "SELECT coalesce(sum(applied), 0) FROM hub_receipt WHERE agent_id = '$1'"; }
CDB="$E2E_DIR/laptop-c.db"
DDB="$E2E_DIR/laptop-d.db"

# (a) recover re-binds the token (X -> Y), the hub goes back before that binding.
TOKEN_C=$(enroll --unit "$COMMUNE_CODE" --name c)
ag c-init "$CDB" init --unit "$UNIT" --hub "$HUB_URL" --token "$TOKEN_C"
C1=$(meeting "$CDB" c 1)
ag c-s1 "$CDB" sync; a1=$RC
AGENT_X=$(jkey "$CDB" agent)
"$HUB" backup --db "$HDB" "$E2E_DIR/backup-a1.db" >>"$E2E_DIR/backup.out" 2>&1; a2=$?
copy_db "$CDB" "$E2E_DIR/c-copy.db"
meeting "$CDB" c-lost 2 >/dev/null
ag c-s2 "$CDB" sync
put_back "$E2E_DIR/c-copy.db" "$CDB"
C3=$(meeting "$CDB" c 3)
ag c-s3 "$CDB" sync; a3=$RC
ag c-rec "$CDB" recover; a4=$RC
AGENT_Y=$(jkey "$CDB" agent)
# a backup covering Y lets the laptop compact C3; the hub then goes back to backup-a1
"$HUB" backup --db "$HDB" "$E2E_DIR/backup-a2.db" >>"$E2E_DIR/backup.out" 2>&1
ag c-s4 "$CDB" sync
C5=$(meeting "$CDB" c 5)
ag c-s5 "$CDB" sync; a5=$RC
C6=$(meeting "$CDB" c 6)
hub_restore "$E2E_DIR/backup-a1.db" --force; a6=$?
ag c-s6 "$CDB" sync; a7=$RC
AGENT_Z=$(jkey "$CDB" agent)
C7=$(meeting "$CDB" c 7)
ag c-s7 "$CDB" sync; a8=$RC
at_hub=0
for m in $C1 $C5 $C6 $C7; do hub_has meeting "$m" && at_hub=$((at_hub + 1)); done
if [ "$a1$a2$a3$a4$a5$a6$a7$a8" = 007600000 ] && [ "$AGENT_Y" != "$AGENT_X" ] &&
	[ "$AGENT_Z" != "$AGENT_Y" ] && [ "$at_hub" = 4 ] && ! hub_has meeting "$C3" &&
	[ "$(applied_of "$AGENT_Z")" = 3 ] && [ "$(hub_acked "$AGENT_Z")" = "$(last_seq "$CDB")" ] &&
	grep -q 'changes sent earlier are held neither by the hub nor by this laptop' "$E2E_DIR/c-s6.out" &&
	[ "$(jkey "$CDB" checksums_agree)" = true ]; then
	ok identity__a_hub_restored_to_before_a_recover_rebinds_the_office_and_gets_what_it_still_holds_once
else
	fail identity__a_hub_restored_to_before_a_recover_rebinds_the_office_and_gets_what_it_still_holds_once \
		"exits $a1 $a2 $a3 $a4 $a5 $a6 $a7 $a8 (want 0 0 76 0 0 0 0 0), ids $AGENT_X $AGENT_Y $AGENT_Z, meetings at the hub $at_hub of 4, applied under the last id $(applied_of "$AGENT_Z") (want 3), hub acked $(hub_acked "$AGENT_Z") of $(last_seq "$CDB"), checksums $(jkey "$CDB" checksums_agree); $(say c-s6) $(say c-s7)"
fi

# (b) a restored copy continues after the hub's acknowledgement; the hub goes back
# before the entries it skipped.
TOKEN_D=$(enroll --unit "$COMMUNE_CODE" --name d)
ag d-init "$DDB" init --unit "$UNIT" --hub "$HUB_URL" --token "$TOKEN_D"
D1=$(meeting "$DDB" d 1)
ag d-s1 "$DDB" sync; b1=$RC
AGENT_D=$(jkey "$DDB" agent)
"$HUB" backup --db "$HDB" "$E2E_DIR/backup-b1.db" >>"$E2E_DIR/backup.out" 2>&1; b2=$?
copy_db "$DDB" "$E2E_DIR/d-copy.db"
meeting "$DDB" d-lost 2 >/dev/null
meeting "$DDB" d-lost 3 >/dev/null
ag d-s2 "$DDB" sync; b3=$RC
put_back "$E2E_DIR/d-copy.db" "$DDB"
ag d-s3 "$DDB" sync; b4=$RC
D4=$(meeting "$DDB" d 4)
ag d-s4 "$DDB" sync; b5=$RC
seq_d=$(last_seq "$DDB")
hub_restore "$E2E_DIR/backup-b1.db"; b6=$?
ag d-s5 "$DDB" sync; b7=$RC
AGENT_D2=$(jkey "$DDB" agent)
D6=$(meeting "$DDB" d 6)
ag d-s6 "$DDB" sync; b8=$RC
if [ "$b1$b2$b3$b4$b5$b6$b7$b8" = 00000000 ] && [ "$seq_d" = 4 ] && [ "$AGENT_D2" != "$AGENT_D" ] &&
	hub_has meeting "$D1" && hub_has meeting "$D4" && hub_has meeting "$D6" &&
	[ "$(applied_of "$AGENT_D2")" = 2 ] && [ "$(hub_acked "$AGENT_D2")" = "$(last_seq "$DDB")" ] &&
	grep -q '2 changes sent earlier are held neither' "$E2E_DIR/d-s5.out" && [ "$(jkey "$DDB" lost)" = 2 ] &&
	LC_ALL=vi_VN.UTF-8 "$AGENT" status --db "$DDB" | grep -q 'Thay đổi đã mất khi máy chủ tỉnh được khôi phục.*: 2$' &&
	[ "$(jkey "$DDB" checksums_agree)" = true ]; then
	ok identity__a_copy_that_continued_after_the_hub_and_a_hub_restored_before_that_are_never_locked_out
else
	fail identity__a_copy_that_continued_after_the_hub_and_a_hub_restored_before_that_are_never_locked_out \
		"exits $b1 $b2 $b3 $b4 $b5 $b6 $b7 $b8 (want all 0), journal at $seq_d (want 4), ids $AGENT_D $AGENT_D2, applied under the new id $(applied_of "$AGENT_D2") (want 2); $(say d-s5) $(say d-s6)"
fi

e2e_finish
