#!/bin/sh
# sync — end to end: the real lienket-hub on loopback and two real lienket-agent laptops
# of one commune (issue 3, "Done when"). Records entered offline, the hub down then up,
# a sync cut half-way (push, then pull), the answer of a batch lost, two laptops editing
# the same record, the hub restored from a backup, a schema upgrade with entries
# pending (and a pending edit that loses the race meanwhile), a rejected record (65), a
# revoked token (77), a laptop clock ahead; at the end the hub and both laptops hold the
# same rows, the unit checksums agree and `status` says so.
#
# Faults on the link come from tests/tools/faultproxy placed between a laptop and the
# hub. The agent keeps one HTTP connection for a whole sync, and the proxy frames only
# the first request of a connection, so its per-request faults would hit the hello
# only. Instead the cuts here stop the proxy by PID at a point read from the hub's
# request log: a throttled link (--rate-bps) cut while the next change set is on the
# wire (cut half-way), and a slow link (--latency-ms) cut after the hub has logged a
# change set but before its answer, held in the proxy, reached the laptop (answer lost).
#
# "Same rows" is checked outside the programs: a small Python reader dumps every synced
# table of the hub (rows that exist by the hub's rule, hub/store/store_sqlite.c EXISTS_SQL:
# insert stamp beats delete stamp; rows of the commune, all unit* reference rows) and
# of a laptop, values with their SQLite types, and compares them; it also computes the
# PROTOCOL.md §8 unit checksum itself on each side.
#
# Prints one cmocka-style line per case; every process it starts is tracked and stopped
# by PID. Run from the repository root; $LK_BIN is the build directory.
set -u
. tests/e2e/lib.sh

UNITS=tests/fixtures/units-small.csv
COMMUNE_CODE=22915
HDB=$(hub_db hub)
HLOG="$E2E_DIR/hub.log"
ADB="$E2E_DIR/laptop-a.db"
BDB="$E2E_DIR/laptop-b.db"
PROXY="$LK_BIN/tools/faultproxy"
PROXY_PID=""
PROXY_URL=""
HUB_PID=""
RC=0
# The office's texts in English, so that checks can read them (msg.c reads LC_ALL).
AGENT_LANG=en_US.UTF-8

# ---- helpers -----------------------------------------------------------------------

# ag NAME DB COMMAND ARGS... — runs the agent; stdout in $E2E_DIR/NAME.out, stderr in
# NAME.err; sets RC.

# say NAME — the last lines an agent command printed, for a failure message.

# hub_up — starts the hub on a new free port (HUB_PID, HUB_URL).
hub_up() {
	hub_start "$HDB" hub || return 1
	# shellcheck disable=SC2154 # HUB_PID_hub is set by hub_start (lib.sh)
	HUB_PID=$HUB_PID_hub
}

hub_down() { stop "$HUB_PID"; HUB_PID=""; }

# point DB URL — the laptop's hub address (the hub comes back on a new free port).
point() { LC_ALL=$AGENT_LANG "$AGENT" config --db "$1" --hub "$2" >/dev/null 2>&1; }

# proxy_up NAME FAULTPROXY-ARGS... — a faultproxy in front of the hub (PROXY_PID, PROXY_URL).
proxy_up() {
	pn=$1
	shift
	rm -f "$E2E_DIR/$pn.port"
	"$PROXY" --listen 127.0.0.1:0 --port-file "$E2E_DIR/$pn.port" --target "127.0.0.1:$HUB_PORT" \
		--log "$E2E_DIR/$pn.log" "$@" 2>>"$E2E_DIR/$pn.stderr" &
	PROXY_PID=$!
	e2e_track "$PROXY_PID"
	wait_file "$E2E_DIR/$pn.port" 100 || return 1
	PROXY_URL="http://127.0.0.1:$(cat "$E2E_DIR/$pn.port")"
}

# status_json DB — status --json of a laptop into $E2E_DIR/st.json, and its top-level
# members as KEY=VALUE lines into st.json.kv (one Python start, not one per member);
# 0 when status ran.
status_json() {
	ag st "$1" status --json
	cp "$E2E_DIR/st.out" "$E2E_DIR/st.json"
	python3 -c 'import json,sys
for k, v in json.load(open(sys.argv[1])).items():
    if not isinstance(v, (list, dict)):
        print("%s=%s" % (k, "null" if v is None else str(v).lower() if isinstance(v, bool) else v))' \
		"$E2E_DIR/st.json" >"$E2E_DIR/st.json.kv" 2>/dev/null
	[ "$RC" = 0 ]
}

# json FILE KEY — a top-level member of the status read by status_json, as text.
json() { sed -n "s/^$2=//p" "$1.kv" | head -n 1; }

# last_seq DB — the highest sequence the laptop ever journaled.
last_seq() {
	v=$(sqlite3 "$1" "SELECT seq FROM sqlite_sequence WHERE name = 'lk_journal'" 2>/dev/null)
	echo "${v:-0}"
}

# hub_acked AGENT_ID — the highest sequence of that agent the hub holds.
hub_acked() {
	v=$("$HUB" agents list --db "$HDB" 2>/dev/null | awk -F'\t' -v a="$1" '$4 == a { print $7 }')
	echo "${v:-0}"
}

# agent_id DB — the laptop's agent id, as status --json gives it.
agent_id() { status_json "$1" && json "$E2E_DIR/st.json" agent; }

# changes_lines AGENT_ID — the hub's log lines of accepted change sets of that agent.
changes_lines() { grep "POST /v1/changes 200 .*agent=$1 " "$HLOG"; }

# applied_sum AGENT_ID — entries of that agent the hub says it merged, over all syncs.
applied_sum() { changes_lines "$1" | sed -n 's/.* applied=\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }'; }

# wait_changes AGENT_ID N — waits (at most 30 s) until the hub has logged more than N
# accepted change sets of that agent.
wait_changes() {
	i=0
	while [ "$(changes_lines "$1" | wc -l)" -le "$2" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
	[ "$(changes_lines "$1" | wc -l)" -gt "$2" ]
}

# rows.py (tests/e2e/rows.py, shared with app_api.sh): the hub's rows against a laptop's.
cp tests/e2e/rows.py "$E2E_DIR/rows.py"

# dump_rows SIDE DB OUT — see rows.py.
dump_rows() { python3 "$E2E_DIR/rows.py" dump "$1" "$2" "$UNIT" "$ADB" >"$3" 2>&1; }

# checksum SIDE DB — the §8 checksum of the commune, computed by rows.py.
checksum() { python3 "$E2E_DIR/rows.py" checksum "$1" "$2" "$UNIT" "$ADB" 2>&1; }

# same_rows DB — the hub and the laptop hold the same rows; otherwise DIFF says how.
DIFF=""
same_rows() {
	DIFF=$(python3 "$E2E_DIR/rows.py" same hub "$HDB" "$UNIT" "$1" 2>&1)
}

# same_row DB ID — the hub and the laptop hold the same row ID (both, or neither).
same_row() {
	DIFF=$(python3 "$E2E_DIR/rows.py" same hub "$HDB" "$UNIT" "$1" "$2" 2>&1)
}

# hub_value TABLE ID COLUMN — a value on the hub ('' when null or absent).
hub_value() { hub_sql "$HDB" "SELECT \"$3\" FROM \"$1\" WHERE id = '$2'" 2>/dev/null; }
hub_exists() {
	[ "$(hub_sql "$HDB" "SELECT count(*) FROM \"$1\" WHERE id = '$2' AND _ins_writer <> '' AND (_del_writer = '' OR _ins_clock > _del_clock OR (_ins_clock = _del_clock AND _ins_writer > _del_writer))" 2>/dev/null)" = 1 ]
}

# ---- set-up ------------------------------------------------------------------------
for bin in "$HUB" "$AGENT" "$PROXY"; do
	if [ ! -x "$bin" ]; then
		fail sync__programs_are_built "'$bin' missing (make B=$LK_BIN all-tests)"
		e2e_finish
	fi
done
if ! "$HUB" init --db "$HDB" --units "$UNITS" >"$E2E_DIR/init.log" 2>&1; then
	fail sync__hub_init "$(tail -3 "$E2E_DIR/init.log" | tr '\n' ' ')"
	e2e_finish
fi
UNIT=$("$HUB" units list --db "$HDB" 2>/dev/null | awk -F'\t' -v c="$COMMUNE_CODE" '$2 == c { print $1 }')
enroll() {
	"$HUB" enroll --db "$HDB" --unit "$COMMUNE_CODE" --name "$1" >"$E2E_DIR/enroll-$1.out" 2>&1
	sed -n 's/^token: *\(lk_[A-Za-z0-9_-]*\).*/\1/p' "$E2E_DIR/enroll-$1.out" | head -n 1
}
TOKEN_A=$(enroll laptop-a)
TOKEN_B=$(enroll laptop-b)
if [ -z "$UNIT" ] || [ -z "$TOKEN_A" ] || [ -z "$TOKEN_B" ] ||
	! grep -q "^unit: $UNIT\$" "$E2E_DIR/enroll-laptop-a.out"; then
	fail sync__enroll_two_laptops "unit '$UNIT'; $(tr '\n' ' ' <"$E2E_DIR/enroll-laptop-a.out")"
	e2e_finish
fi
# The hub's address, then the hub goes down before the laptop ever reaches it.
if ! hub_up; then
	fail sync__hub_starts "$(tail -5 "$HLOG" | tr '\n' ' ')"
	e2e_finish
fi
DEAD_URL=$HUB_URL
hub_down

# ---- records entered offline; the hub down, then up ------------------------------
# Laptop A is set up and used before it has ever reached the hub: every operation
# (add, set, rm, import with Vietnamese text, quoting and a natural-key row).
ag a-init "$ADB" init --unit "$UNIT" --hub "$DEAD_URL" --token "$TOKEN_A"
[ "$RC" = 0 ] || { fail sync__laptop_init_offline "exit $RC: $(say a-init)"; e2e_finish; }
AGENT_A=$(agent_id "$ADB")
ag a1 "$ADB" add person "full_name=Nguyễn Thị Hoa" birth_year=1998 gender=nu phone=0901234567
P1=$(cat "$E2E_DIR/a1.out"); rc1=$RC
ag a2 "$ADB" add person "full_name=Trần Văn Bình" birth_year=1995 gender=nam
P2=$(cat "$E2E_DIR/a2.out"); rc2=$RC
ag a3 "$ADB" set person "$P2" phone=0987654321; rc3=$RC
ag a4 "$ADB" rm person "$P2"; rc4=$RC
ag a5 "$ADB" add meeting kind=joint held_on=2021-03-14 commune_secretary_attended=1 attendees=23 \
	"concerns=Thiếu kinh phí, \"sân chơi\"" 
M1=$(cat "$E2E_DIR/a5.out"); rc5=$RC
ag a6 "$ADB" add year_record year=2024 rating=tot youth_gathered=120 youth_in_area=300; rc6=$RC
printf '\357\273\277full_name,birth_year,gender,phone\r\n"Lê Thị Mai, con",2001,nu,\r\nPhạm Quốc Việt,1999,nam,0912000111\r\n"Võ ""Út"" Ba",2003,khac,\r\n' \
	>"$E2E_DIR/people.csv"
ag a7 "$ADB" import person "$E2E_DIR/people.csv"; rc7=$RC
if [ "$rc1$rc2$rc3$rc4$rc5$rc6$rc7" != 0000000 ] || [ -z "$P1" ] || [ -z "$M1" ]; then
	fail sync__records_entered_offline "exit codes $rc1 $rc2 $rc3 $rc4 $rc5 $rc6 $rc7: $(say a7)"
fi
dump_rows agent "$ADB" "$E2E_DIR/a-before.rows"
status_json "$ADB"
pending_before=$(json "$E2E_DIR/st.json" pending)
ag a-down "$ADB" sync
rc_down=$RC
dump_rows agent "$ADB" "$E2E_DIR/a-after.rows"
status_json "$ADB"
if [ "$rc_down" = 75 ] && [ "$pending_before" = 9 ] &&
	[ "$(json "$E2E_DIR/st.json" pending)" = "$pending_before" ] &&
	[ "$(json "$E2E_DIR/st.json" last_error)" = unreachable ] &&
	cmp -s "$E2E_DIR/a-before.rows" "$E2E_DIR/a-after.rows" &&
	[ "$(wc -l <"$E2E_DIR/a-after.rows")" -ge 6 ] && [ "$(hub_acked "$AGENT_A")" = 0 ]; then
	ok sync__hub_down_exits_75_and_loses_nothing
else
	fail sync__hub_down_exits_75_and_loses_nothing "exit $rc_down (want 75), pending $pending_before -> $(json "$E2E_DIR/st.json" pending) (want 9 kept), last_error $(json "$E2E_DIR/st.json" last_error); $(say a-down)"
fi

# The hub comes back (on a new port: the laptop is told its address).
if ! hub_up; then
	fail sync__hub_starts_again "$(tail -5 "$HLOG" | tr '\n' ' ')"
	e2e_finish
fi
point "$ADB" "$HUB_URL"
ag a-up "$ADB" sync
if [ "$RC" = 0 ] && same_rows "$ADB" && status_json "$ADB" &&
	[ "$(json "$E2E_DIR/st.json" pending)" = 0 ] &&
	[ "$(hub_acked "$AGENT_A")" = "$(last_seq "$ADB")" ] &&
	hub_exists person "$P1" && ! hub_exists person "$P2" &&
	[ "$(hub_value meeting "$M1" concerns)" = 'Thiếu kinh phí, "sân chơi"' ] &&
	[ "$(hub_sql "$HDB" "SELECT count(*) FROM person WHERE full_name IN ('Lê Thị Mai, con', 'Võ \"Út\" Ba')")" = 2 ]; then
	ok sync__records_entered_offline_reach_the_hub
else
	fail sync__records_entered_offline_reach_the_hub "exit $RC; $DIFF; hub acked $(hub_acked "$AGENT_A") of $(last_seq "$ADB"); $(say a-up)"
fi

# ---- a sync cut half-way -----------------------------------------------------------
# 300 records in change sets of at most 16 KiB over a 16 kbit/s link (about 2 s a change
# set). Once the hub has accepted the first change set and 600 bytes of the next one
# have gone through the proxy (its counters), the link is cut: the proxy is stopped.
awk 'BEGIN { print "full_name,birth_year,gender,phone";
	for (i = 1; i <= 300; i++)
		printf "Đoàn viên số %d thôn Hòa Thắng %d,%d,%s,09%08d\n", i, i * 7919 % 1000, 1960 + i % 40, (i % 2 ? "nam" : "nu"), i * 7919 }' \
	>"$E2E_DIR/many.csv"
ag a-many "$ADB" import person "$E2E_DIR/many.csv"
rc_import=$RC
LC_ALL=$AGENT_LANG "$AGENT" config --db "$ADB" --batch-bytes 16384 >/dev/null 2>&1
acked0=$(hub_acked "$AGENT_A")
seen=$(changes_lines "$AGENT_A" | wc -l)
torn0=$(grep -c ' /v1/changes .*closed=read_error' "$HLOG")
if [ "$rc_import" = 0 ] && proxy_up cut --rate-bps 16000; then
	point "$ADB" "$PROXY_URL"
	LC_ALL=$AGENT_LANG "$AGENT" sync --db "$ADB" >"$E2E_DIR/a-cut.out" 2>"$E2E_DIR/a-cut.err" &
	sync_pid=$!
	e2e_track $sync_pid
	wait_changes "$AGENT_A" "$seen"
	up0=$(proxy_bytes_up cut)
	i=0
	while [ "$(proxy_bytes_up cut)" -lt $((up0 + 600)) ] && [ $i -lt 200 ]; do
		sleep 0.05; i=$((i + 1))
	done
	stop "$PROXY_PID"
	wait $sync_pid
	rc_cut=$?
	acked_cut=$(hub_acked "$AGENT_A")
	# the hub saw a change set begin and the connection break (hub/http/server.c logs it)
	i=0
	while [ "$(grep -c ' /v1/changes .*closed=read_error' "$HLOG")" -le "$torn0" ] && [ $i -lt 40 ]; do
		sleep 0.05; i=$((i + 1))
	done
	torn=$(($(grep -c ' /v1/changes .*closed=read_error' "$HLOG") - torn0))
	status_json "$ADB"
	mine_cut=$(json "$E2E_DIR/st.json" acked)
	pending_cut=$(json "$E2E_DIR/st.json" pending)
	total=$(last_seq "$ADB")
	point "$ADB" "$HUB_URL"
	ag a-resume "$ADB" sync
	rc_resume=$RC
	first_after=$(changes_lines "$AGENT_A" | sed -n "$((seen + 2))p" | sed -n 's/.* seq=\([0-9]*\)-.*/\1/p')
	if [ "$rc_cut" = 75 ] && [ "$acked_cut" -gt "$acked0" ] && [ "$acked_cut" -lt "$total" ] &&
		[ "$pending_cut" -gt 0 ] && [ "$mine_cut" = "$acked_cut" ] && [ "$torn" = 1 ] &&
		[ "$rc_resume" = 0 ] && [ "$first_after" = $((acked_cut + 1)) ] &&
		[ "$(hub_acked "$AGENT_A")" = "$total" ] && [ "$(applied_sum "$AGENT_A")" = "$total" ] &&
		same_rows "$ADB"; then
		ok sync__cut_half_way_resumes
	else
		fail sync__cut_half_way_resumes "cut: exit $rc_cut (want 75), hub acked $acked0 -> $acked_cut of $total, laptop acked $mine_cut (want the same: cut during a request) pending $pending_cut, torn requests in the hub log $torn (want 1); resume: exit $rc_resume, first change set from ${first_after:-none} (want $((acked_cut + 1))), hub acked $(hub_acked "$AGENT_A"), applied $(applied_sum "$AGENT_A"); $DIFF $(say a-resume)"
	fi
else
	fail sync__cut_half_way_resumes "import exit $rc_import: $(say a-many); proxy: $(tail -2 "$E2E_DIR/cut.stderr" 2>/dev/null)"
fi

# ---- the answer of a batch lost ----------------------------------------------------
# A link with 1.5 s of latency each way: the hub merges the change set and logs it,
# and the link is cut while the answer is still held in the proxy.
ag a-l1 "$ADB" set person "$P1" phone=0903333333; rcl1=$RC
ag a-l2 "$ADB" set meeting "$M1" attendees=31 "follow_up=Đã xin kinh phí huyện"; rcl2=$RC
ag a-l3 "$ADB" add support person_id="$P1" kind=loan on_date=2024-05-02 amount_vnd=50000000; rcl3=$RC
S1=$(cat "$E2E_DIR/a-l3.out")
seen=$(changes_lines "$AGENT_A" | wc -l)
total=$(last_seq "$ADB")
if [ "$rcl1$rcl2$rcl3" = 000 ] && proxy_up lost --latency-ms 1500; then
	point "$ADB" "$PROXY_URL"
	LC_ALL=$AGENT_LANG "$AGENT" sync --db "$ADB" >"$E2E_DIR/a-lost.out" 2>"$E2E_DIR/a-lost.err" &
	sync_pid=$!
	e2e_track $sync_pid
	wait_changes "$AGENT_A" "$seen"
	stop "$PROXY_PID"
	wait $sync_pid
	rc_lost=$?
	acked_lost=$(hub_acked "$AGENT_A")
	status_json "$ADB"
	mine_lost=$(json "$E2E_DIR/st.json" acked)
	point "$ADB" "$HUB_URL"
	ag a-again "$ADB" sync
	rc_again=$RC
	status_json "$ADB"
	if [ "$rc_lost" = 75 ] && [ "$acked_lost" = "$total" ] && [ "$mine_lost" -lt "$acked_lost" ] &&
		[ "$rc_again" = 0 ] && [ "$(json "$E2E_DIR/st.json" acked)" = "$total" ] &&
		[ "$(json "$E2E_DIR/st.json" pending)" = 0 ] &&
		[ "$(applied_sum "$AGENT_A")" = "$total" ] &&
		[ "$(hub_value support "$S1" amount_vnd)" = 50000000 ] && same_rows "$ADB"; then
		ok sync__lost_answer_is_not_applied_twice
	else
		fail sync__lost_answer_is_not_applied_twice "cut: exit $rc_lost (want 75), hub acked $acked_lost (want $total), laptop acked $mine_lost (want less); again: exit $rc_again, laptop acked $(json "$E2E_DIR/st.json" acked), hub applied $(applied_sum "$AGENT_A") entries of $total; $DIFF $(say a-again)"
	fi
else
	fail sync__lost_answer_is_not_applied_twice "set-up: exit codes $rcl1 $rcl2 $rcl3; $(tail -2 "$E2E_DIR/lost.stderr" 2>/dev/null)"
fi

# ---- two laptops of one commune editing the same record ----------------------------
ag b-init "$BDB" init --unit "$UNIT" --hub "$HUB_URL" --token "$TOKEN_B"
AGENT_B=$(agent_id "$BDB")
# Laptop B's first sync pulls the commune in pages (the agent asks 200 rows a page)
# over a 64 kbit/s link, cut once the first page is applied (B's pull cursor moved);
# the next sync goes on from that cursor.
dump_rows hub "$HDB" "$E2E_DIR/b-hub.rows"
nrows=$(wc -l <"$E2E_DIR/b-hub.rows")
if proxy_up pull --rate-bps 64000; then
	point "$BDB" "$PROXY_URL"
	LC_ALL=$AGENT_LANG "$AGENT" sync --db "$BDB" >"$E2E_DIR/b-cut.out" 2>"$E2E_DIR/b-cut.err" &
	sync_pid=$!
	e2e_track $sync_pid
	i=0
	while [ "$(sqlite3 "$BDB" "SELECT value FROM lk_config WHERE key = 'pull_cursor'" 2>/dev/null)" = "" ] &&
		kill -0 $sync_pid 2>/dev/null && [ $i -lt 400 ]; do
		sleep 0.05; i=$((i + 1))
	done
	stop "$PROXY_PID"
	wait $sync_pid
	rc_pcut=$?
	cursor_cut=$(sqlite3 "$BDB" "SELECT value FROM lk_config WHERE key = 'pull_cursor'")
	have_cut=$(dump_rows agent "$BDB" "$E2E_DIR/b-cut.rows"; wc -l <"$E2E_DIR/b-cut.rows")
	point "$BDB" "$HUB_URL"
	ag b-first "$BDB" sync
	got=$(sed -n 's/.*received \([0-9]*\) records.*/\1/p' "$E2E_DIR/b-first.out")
	if [ "$rc_pcut" = 75 ] && [ -n "$cursor_cut" ] && [ "$have_cut" -gt 0 ] && [ "$have_cut" -lt "$nrows" ] &&
		[ "$RC" = 0 ] && [ "$got" = $((nrows - have_cut)) ]; then
		ok sync__pull_cut_half_way_resumes_from_its_cursor
	else
		fail sync__pull_cut_half_way_resumes_from_its_cursor "cut: exit $rc_pcut (want 75), cursor '$cursor_cut', rows $have_cut of $nrows; resume: exit $RC, received ${got:-?} rows (want $((nrows - have_cut))); $(say b-first)"
	fi
else
	fail sync__pull_cut_half_way_resumes_from_its_cursor "proxy: $(tail -2 "$E2E_DIR/pull.stderr" 2>/dev/null)"
	point "$BDB" "$HUB_URL"
	ag b-first "$BDB" sync
fi
if [ "$RC" = 0 ] && same_rows "$BDB" && [ "$(last_seq "$BDB")" = 0 ]; then
	ok sync__second_laptop_receives_the_commune_and_journals_none_of_it
else
	fail sync__second_laptop_receives_the_commune_and_journals_none_of_it "exit $RC; journal of B ends at $(last_seq "$BDB") (want 0: pulled rows are not journaled); $DIFF $(say b-first)"
fi
# Offline on both, A first then B (B's clocks are later): the same field of one
# record, other fields of it, a delete on A against an edit on B, and the same
# natural-key fact entered on both.
ag e1 "$ADB" set person "$P1" "full_name=Nguyễn Thị Hoa (A)" phone=0911111111; r1=$RC
ag e2 "$ADB" rm meeting "$M1"; r2=$RC
ag e3 "$ADB" add year_record year=2025 rating=tot youth_gathered=100; r3=$RC
Y_A=$(cat "$E2E_DIR/e3.out")
ag e4 "$BDB" set person "$P1" "full_name=Nguyễn Thị Hoa (B)" birth_year=1985; r4=$RC
ag e5 "$BDB" set meeting "$M1" attendees=40; r5=$RC
ag e6 "$BDB" add year_record year=2025 rating=xuat_sac youth_in_area=500; r6=$RC
Y_B=$(cat "$E2E_DIR/e6.out")
ag e7 "$ADB" sync; s1=$RC
ag e8 "$BDB" sync; s2=$RC
ag e9 "$ADB" sync; s3=$RC
# B's write of full_name is later: it wins; A's phone and B's birth_year both stay;
# A's delete stands (an update does not bring a row back); B's later insert of the
# year record wins field by field, its nulls included.
if [ "$r1$r2$r3$r4$r5$r6" = 000000 ] && [ "$s1$s2$s3" = 000 ] && [ -n "$Y_A" ] && [ "$Y_A" = "$Y_B" ] &&
	[ "$(hub_value person "$P1" full_name)" = "Nguyễn Thị Hoa (B)" ] &&
	[ "$(hub_value person "$P1" phone)" = 0911111111 ] &&
	[ "$(hub_value person "$P1" birth_year)" = 1985 ] &&
	! hub_exists meeting "$M1" &&
	[ "$(hub_value year_record "$Y_A" rating)|$(hub_value year_record "$Y_A" youth_in_area)|$(hub_value year_record "$Y_A" youth_gathered)" = "xuat_sac|500|" ] &&
	same_rows "$ADB" && same_rows "$BDB"; then
	ok sync__two_laptops_same_record_converge
else
	fail sync__two_laptops_same_record_converge "edits $r1 $r2 $r3 $r4 $r5 $r6, syncs $s1 $s2 $s3; year ids '$Y_A' '$Y_B'; hub person: $(hub_sql "$HDB" "SELECT full_name, phone, birth_year FROM person WHERE id = '$P1'"); year: $(hub_sql "$HDB" "SELECT rating, youth_gathered, youth_in_area FROM year_record WHERE id = '$Y_A'"); $DIFF $(say e9)"
fi

# ---- the hub restored from a backup ------------------------------------------------
# issue 5: `lienket-hub backup --db DB OUT` while serving, `lienket-hub restore --db DB
# BACKUP` with the hub stopped (new database id) — on PostgreSQL pg_dump while serving and
# pg_restore into a re-created database, which the hub notices at its next start (new
# OIDs: a new hub id, PROTOCOL.md §6.1); the laptops notice it at hello
# ("hub database changed"), send again what the hub lacks and pull from the start.
if ! "$HUB" --help 2>&1 | grep -q 'backup'; then
	fail sync__hub_restored_from_backup_converges "lienket-hub backup not available (lienket-hub --help lists no backup command)"
else
	# while serving; on PostgreSQL with its own tools (docs/operations.md)
	if hub_is_pg "$HDB"; then pg_backup "$HDB" "$E2E_DIR/hub.backup" >"$E2E_DIR/backup.out" 2>&1
	else "$HUB" backup --db "$HDB" "$E2E_DIR/hub.backup" >"$E2E_DIR/backup.out" 2>&1; fi
	rc_b=$?
	hub_id_before=$(sqlite3 "$ADB" "SELECT value FROM lk_config WHERE key = 'hub_id'")
	ag r1 "$ADB" add person "full_name=Đặng Văn Sau Sao Lưu" birth_year=1990; q1=$RC
	PR=$(cat "$E2E_DIR/r1.out")
	ag r2 "$ADB" set person "$P1" phone=0922222222; q2=$RC
	ag r3 "$BDB" add person "full_name=Bùi Thị Sau Sao Lưu" birth_year=1992; q3=$RC
	ag r4 "$ADB" sync; q4=$RC
	ag r5 "$BDB" sync; q5=$RC
	held_a=$(hub_acked "$AGENT_A")
	hub_down
	if hub_is_pg "$HDB"; then pg_restore_db "$HDB" "$E2E_DIR/hub.backup" >"$E2E_DIR/restore.out" 2>&1
	else "$HUB" restore --db "$HDB" "$E2E_DIR/hub.backup" >"$E2E_DIR/restore.out" 2>&1; fi
	rc_r=$?
	lost_a=$(hub_acked "$AGENT_A")
	hub_up && started=yes || started=no
	point "$ADB" "$HUB_URL"
	point "$BDB" "$HUB_URL"
	ag r6 "$ADB" sync --verbose; q6=$RC # the engine's English log: only with --verbose
	ag r7 "$BDB" sync; q7=$RC
	ag r8 "$ADB" sync; q8=$RC
	hub_id_after=$(sqlite3 "$ADB" "SELECT value FROM lk_config WHERE key = 'hub_id'")
	if [ "$rc_b$rc_r" = 00 ] && [ "$q1$q2$q3$q4$q5$q6$q7$q8" = 00000000 ] &&
		[ "$lost_a" -lt "$held_a" ] && [ "$hub_id_after" != "$hub_id_before" ] &&
		grep -q 'hub database changed' "$E2E_DIR/r6.err" &&
		[ "$(hub_acked "$AGENT_A")" = "$(last_seq "$ADB")" ] &&
		[ "$(hub_acked "$AGENT_B")" = "$(last_seq "$BDB")" ] &&
		hub_exists person "$PR" && [ "$(hub_value person "$P1" phone)" = 0922222222 ] &&
		same_rows "$ADB" && same_rows "$BDB"; then
		ok sync__hub_restored_from_backup_converges
	else
		fail sync__hub_restored_from_backup_converges "backup exit $rc_b ($(tail -1 "$E2E_DIR/backup.out")), restore exit $rc_r ($(tail -1 "$E2E_DIR/restore.out")); agent exits $q1 $q2 $q3 $q4 $q5 $q6 $q7 $q8; hub held A to $held_a, after restore $lost_a, now $(hub_acked "$AGENT_A") of $(last_seq "$ADB"); hub id $hub_id_before -> $hub_id_after; hub started: $started, running: $(kill -0 "$HUB_PID" 2>/dev/null && echo yes || echo no), log: $(grep -v ' 200 ' "$HLOG" | tail -3 | tr '\n' ' ' | cut -c1-300); $DIFF"
	fi
fi
[ -n "$HUB_PID" ] || hub_up || { fail sync__hub_starts_again "$(tail -5 "$HLOG" | tr '\n' ' ')"; e2e_finish; }

# ---- a schema upgrade with entries pending -----------------------------------------
# This emulates a laptop upgraded to the next schema version before the hub: its
# pending entries are rewritten (sqlite3) as written under SCHEMA_VERSION + 1. The hub
# refuses the change set (422 schema_newer): sync says the hub must be upgraded, exits
# 76 (protocol problem, README), and the entries stay pending while the pull goes on.
# Setting the version back emulates the hub's upgrade; the next sync sends them.
# Meanwhile laptop B, still on the hub's schema, writes the phone of another person
# after A did: A keeps its pending value through the pulls (PROTOCOL.md §6.3), A's
# older write then loses at the hub (on every field it wrote, so the hub's row does
# not change), and the hub's verdict must still come back to A.
ag u1 "$ADB" add person "full_name=Hồ Thị Lược Đồ" birth_year=2004 gender=nu; k1=$RC
PU=$(cat "$E2E_DIR/u1.out")
ag u2 "$ADB" set person "$P1" birth_year=1986; k2=$RC
P3=$(sqlite3 "$ADB" "SELECT id FROM person WHERE full_name = 'Phạm Quốc Việt'")
ag u2b "$ADB" set person "$P3" phone=0933333333; k2=$k2$RC
acked=$(sqlite3 "$ADB" "SELECT acked_seq FROM lk_state")
version=$(sqlite3 "$ADB" "SELECT max(schema_version) FROM lk_journal WHERE seq > $acked")
sqlite3 "$ADB" "UPDATE lk_journal SET schema_version = schema_version + 1 WHERE seq > $acked"
ag u3 "$BDB" set person "$P3" phone=0944444444; k3=$RC
ag u4 "$BDB" sync; k4=$RC
dump_rows agent "$ADB" "$E2E_DIR/u-before.rows"
ag u-newer "$ADB" sync
rc_newer=$RC
dump_rows agent "$ADB" "$E2E_DIR/u-after.rows"
ag u-status "$ADB" status
status_json "$ADB"
pending_newer=$(json "$E2E_DIR/st.json" pending)
hub_schema=$(json "$E2E_DIR/st.json" hub_schema)
err_newer=$(json "$E2E_DIR/st.json" last_error)
hub_exists person "$PU" && on_hub_early=yes || on_hub_early=no
sqlite3 "$ADB" "UPDATE lk_journal SET schema_version = $version WHERE seq > $acked"
ag u-upgraded "$ADB" sync
rc_upgraded=$RC
ag u-b "$BDB" sync
rc_b=$RC
ag u-a "$ADB" sync
rc_a=$RC
if [ "$k1$k2$k3$k4" = 00000 ] && [ "$rc_newer" = 76 ] && [ "$pending_newer" = 3 ] &&
	[ "$hub_schema" = "$version" ] && [ "$err_newer" = schema_newer ] &&
	grep -q 'upgraded' "$E2E_DIR/u-newer.err" && grep -q 'must be upgraded' "$E2E_DIR/u-status.out" &&
	cmp -s "$E2E_DIR/u-before.rows" "$E2E_DIR/u-after.rows" && [ "$on_hub_early" = no ] &&
	[ "$rc_upgraded" = 0 ] && hub_exists person "$PU" &&
	[ "$(hub_value person "$P1" birth_year)" = 1986 ]; then
	ok sync__schema_newer_stays_pending_then_syncs
else
	fail sync__schema_newer_stays_pending_then_syncs "exit codes $k1 $k2 $k3 $k4; refused: exit $rc_newer (want 76), pending $pending_newer (want 3), hub_schema $hub_schema (want $version), last_error $err_newer, record on the hub before the upgrade: $on_hub_early; $(say u-newer); after the upgrade: exit $rc_upgraded, record on the hub: $(hub_value person "$PU" full_name), birth_year $(hub_value person "$P1" birth_year)"
fi
a_phone=$(sqlite3 "$ADB" "SELECT phone FROM person WHERE id = '$P3'")
if [ "$rc_b$rc_a" = 00 ] && [ -n "$P3" ] && [ "$(hub_value person "$P3" phone)" = 0944444444 ] &&
	[ "$a_phone" = 0944444444 ] && same_rows "$ADB" && same_rows "$BDB"; then
	ok sync__pending_edit_that_lost_the_race_comes_back_right
else
	fail sync__pending_edit_that_lost_the_race_comes_back_right "syncs $rc_b $rc_a; phone on the hub $(hub_value person "$P3" phone) (B's later 0944444444 wins), on laptop A $a_phone (A's older 0933333333 lost); $DIFF"
fi

# ---- a record the hub rejects; a revoked token -------------------------------------
# A third laptop of the commune. Another program writes on its database (journaled by
# the triggers like the agent's own writes, issue 3) a person owned by another commune:
# the hub quarantines it (out_of_scope), acknowledges the rest, sync exits 65 and
# status lists it. Then its token is revoked: sync exits 77 and the new record stays.
CDB="$E2E_DIR/laptop-c.db"
TOKEN_C=$(enroll laptop-c)
OTHER=$("$HUB" units list --db "$HDB" 2>/dev/null | awk -F'\t' '$2 == "22918" { print $1 }')
ag c-init "$CDB" init --unit "$UNIT" --hub "$HUB_URL" --token "$TOKEN_C"; c1=$RC
ag c-add "$CDB" add person "full_name=Lý Thị Hợp Lệ" birth_year=2000; c2=$RC
PC=$(cat "$E2E_DIR/c-add.out")
PX=01a21000-0000-7000-8000-00000000c0de
sqlite3 "$CDB" "INSERT INTO person(id, unit_id, full_name) VALUES('$PX', '$OTHER', 'Ngoài Phạm Vi')"; c3=$?
ag c-sync "$CDB" sync; rc_q=$RC
status_json "$CDB"
if [ "$c1$c2$c3" = 000 ] && [ -n "$OTHER" ] && [ "$rc_q" = 65 ] &&
	[ "$(json "$E2E_DIR/st.json" pending)" = 0 ] && [ "$(json "$E2E_DIR/st.json" quarantined_count)" = 1 ] &&
	grep -q '"code":"out_of_scope","table":"person","id":"'"$PX"'"' "$E2E_DIR/st.json" &&
	hub_exists person "$PC" && ! hub_exists person "$PX"; then
	ok sync__rejected_record_exits_65_and_status_lists_it
else
	fail sync__rejected_record_exits_65_and_status_lists_it "set-up $c1 $c2 $c3; sync exit $rc_q (want 65); status: $(cut -c1-300 "$E2E_DIR/st.json"); $(say c-sync)"
fi
AGENT_C=$(json "$E2E_DIR/st.json" agent)
"$HUB" revoke --db "$HDB" "$AGENT_C" >"$E2E_DIR/revoke.out" 2>&1; c4=$?
ag c-add2 "$CDB" add person "full_name=Sau Thu Hồi" birth_year=2001; c5=$RC
PC2=$(cat "$E2E_DIR/c-add2.out")
ag c-sync2 "$CDB" sync; rc_r=$RC
status_json "$CDB"
if [ "$c4$c5" = 00 ] && [ "$rc_r" = 77 ] && [ "$(json "$E2E_DIR/st.json" pending)" = 1 ] &&
	[ "$(json "$E2E_DIR/st.json" last_error)" = revoked ] &&
	[ "$(sqlite3 "$CDB" "SELECT full_name FROM person WHERE id = '$PC2'")" = "Sau Thu Hồi" ] &&
	! hub_exists person "$PC2"; then
	ok sync__revoked_token_exits_77_and_loses_nothing
else
	fail sync__revoked_token_exits_77_and_loses_nothing "revoke exit $c4 ($(tail -1 "$E2E_DIR/revoke.out")); sync exit $rc_r (want 77), pending $(json "$E2E_DIR/st.json" pending) (want 1), last_error $(json "$E2E_DIR/st.json" last_error); $(say c-sync2)"
fi

# ---- a laptop clock ahead of the hub -----------------------------------------------
# Emulated: laptop A's pending entries (and its last clock) are moved 10 minutes ahead,
# as if its clock had been ahead when they were recorded. The hub refuses the change
# set (422 clock_ahead, limit 5 minutes); the agent lowers the clocks, sends again, and
# status advises fixing the clock (PROTOCOL.md §4).
ag k1 "$ADB" add person "full_name=Đồng Hồ Chạy Nhanh" birth_year=1991; t1=$RC
PK=$(cat "$E2E_DIR/k1.out")
ag k2 "$ADB" set person "$PK" phone=0955555555; t2=$RC
acked=$(sqlite3 "$ADB" "SELECT acked_seq FROM lk_state")
sqlite3 "$ADB" "UPDATE lk_journal SET clock = clock + (600000 << 16) WHERE seq > $acked;
	UPDATE lk_state SET last_clock = (SELECT max(clock) FROM lk_journal)"; t3=$?
ag k-sync "$ADB" sync --verbose; rc_k=$RC # the engine's English log: only with --verbose
status_json "$ADB"
hub_ms=$(($(date +%s) * 1000 + 1000))
fc=$(hub_sql "$HDB" "SELECT _ins_clock >> 16 FROM person WHERE id = '$PK'")
if [ "$t1$t2$t3" = 000 ] && [ "$rc_k" = 0 ] && grep -q 'clock ahead' "$E2E_DIR/k-sync.err" &&
	[ "$(json "$E2E_DIR/st.json" clock_advice)" = true ] && [ "$(json "$E2E_DIR/st.json" pending)" = 0 ] &&
	[ "$(hub_value person "$PK" phone)" = 0955555555 ] && [ -n "$fc" ] && [ "$fc" -le "$hub_ms" ] &&
	same_row "$ADB" "$PK"; then
	ok sync__clock_ahead_is_lowered_and_status_advises
else
	fail sync__clock_ahead_is_lowered_and_status_advises "set-up $t1 $t2 $t3; sync exit $rc_k; clock_advice $(json "$E2E_DIR/st.json" clock_advice); insert clock on the hub ${fc:-none} ms, now $hub_ms; $(say k-sync); $DIFF"
fi

# ---- the end: the same rows everywhere, and status says so --------------------------
ag f1 "$ADB" sync; f1=$RC
ag f2 "$BDB" sync; f2=$RC
sum_hub=$(checksum hub "$HDB")
sum_a=$(checksum agent "$ADB")
sum_b=$(checksum agent "$BDB")
ag f-sa "$ADB" status
ag f-sb "$BDB" status
why=""
for l in A B; do
	db=$ADB; [ $l = B ] && db=$BDB
	status_json "$db" || why="$why status $l exit $RC;"
	for kv in checksums_agree=true pending=0 last_error=null; do
		[ "$(json "$E2E_DIR/st.json" "${kv%%=*}")" = "${kv#*=}" ] ||
			why="$why $l ${kv%%=*} $(json "$E2E_DIR/st.json" "${kv%%=*}");"
	done
	same_rows "$db" || why="$why $l rows: $DIFF;"
done
grep -q 'The data matches the province hub' "$E2E_DIR/f-sa.out" || why="$why status A says: $(tail -1 "$E2E_DIR/f-sa.out");"
grep -q 'The data matches the province hub' "$E2E_DIR/f-sb.out" || why="$why status B says: $(tail -1 "$E2E_DIR/f-sb.out");"
# and in Vietnamese, the office's default language
LC_ALL=C.UTF-8 "$AGENT" status --db "$BDB" >"$E2E_DIR/f-vi.out" 2>&1
grep -q 'Dữ liệu khớp với máy chủ tỉnh' "$E2E_DIR/f-vi.out" || why="$why status B in Vietnamese says: $(tail -1 "$E2E_DIR/f-vi.out");"
if [ "$f1$f2" = 00 ] && [ -z "$why" ] && [ "$sum_hub" = "$sum_a" ] && [ "$sum_hub" = "$sum_b" ] &&
	[ "${sum_hub%%:*}" -gt 300 ]; then
	ok sync__status_says_checksums_agree
	echo "# commune $UNIT: $sum_hub on the hub and both laptops"
else
	fail sync__status_says_checksums_agree "syncs $f1 $f2; checksums hub $sum_hub A $sum_a B $sum_b;$why"
fi

[ -n "$HUB_PID" ] && hub_down
e2e_finish
