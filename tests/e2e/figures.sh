#!/bin/sh
# figures — "what the province will see about us" (issue 13): the real lienket-hub on
# loopback and real lienket-agent laptops. An office records its year offline; what
# `lienket-agent figures` prints BEFORE the sync equals what the hub reports for that
# unit AFTER it (`lienket-hub report --format json` and GET /v1/report), figure by
# figure; for a commune and for its district (whose laptop pulled the commune's
# records). Also: a laptop that never synced is told to sync (exit 78, Vietnamese), the
# text form is Vietnamese and says how many changes wait, bad options exit 64.
#
# Every process started is stopped by PID on exit (lib.sh). Run from the repository
# root; $LK_BIN holds the binaries (make B=build/asan MODE=asan all-tests).
set -u
. tests/e2e/lib.sh

UNITS=tests/fixtures/units-small.csv
DB="$E2E_DIR/hub.db"
YEAR=2021
TODAY=2022-03-01

# agent DB CMD ARGS... — runs the agent quietly (Vietnamese texts); output appended to
# $E2E_DIR/agent.out; prints what the command printed on stdout (ids of `add`).
agent() {
	db=$1; cmd=$2; shift 2
	"$AGENT" "$cmd" --db "$db" "$@" 2>>"$E2E_DIR/agent.out" | tee -a "$E2E_DIR/agent.out"
}

# same A.json B.json — the two report documents are the same, and not empty of data.
same() {
	python3 - "$1" "$2" <<'PY'
import json, sys
a = json.load(open(sys.argv[1], encoding="utf-8"))
b = json.load(open(sys.argv[2], encoding="utf-8"))
if len(a["figures"]) != 13: raise SystemExit("%d figures" % len(a["figures"]))
diff = []
for fa, fb in zip(a["figures"], b["figures"]):
    rows_a = [("total", fa)] + [(r["unit"], r) for r in fa["unit_breakdown"]]
    rows_b = [("total", fb)] + [(r["unit"], r) for r in fb["unit_breakdown"]]
    if [u for u, _ in rows_a] != [u for u, _ in rows_b]:
        diff.append((fa["key"], "rows")); continue
    for (u, ra), (_, rb) in zip(rows_a, rows_b):
        for ma, mb in zip(ra["measures"], rb["measures"]):
            ka = [ma[k] for k in ("key", "value", "of", "target", "previous", "split")]
            kb = [mb[k] for k in ("key", "value", "of", "target", "previous", "split")]
            if ka != kb: diff.append((fa["key"], u, ka, kb))
if diff: raise SystemExit("differ: %r" % diff[:4])
if a != b: raise SystemExit("the documents differ outside the figures")
nonzero = sum(1 for f in a["figures"] for m in f["measures"] if m["value"])
print("13 figures equal, %d non-zero measures" % nonzero)
if nonzero < 8: raise SystemExit("too few non-zero measures (%d): the records did not count" % nonzero)
PY
}

setup() {
	"$HUB" init --db "$DB" --units "$UNITS" >"$E2E_DIR/init.out" 2>&1 || return 1
	"$HUB" enroll --db "$DB" --unit 22915 >"$E2E_DIR/c1.tok" 2>/dev/null || return 1
	"$HUB" enroll --db "$DB" --unit 593 >"$E2E_DIR/d.tok" 2>/dev/null || return 1
	"$HUB" enroll --db "$DB" --unit 22918 >"$E2E_DIR/c2.tok" 2>/dev/null || return 1
	"$HUB" enroll --db "$DB" --viewer >"$E2E_DIR/viewer.tok" 2>/dev/null || return 1
	C1_TOKEN=$(sed -n 's/^token: //p' "$E2E_DIR/c1.tok")
	C1_UNIT=$(sed -n 's/^unit: //p' "$E2E_DIR/c1.tok")
	D_TOKEN=$(sed -n 's/^token: //p' "$E2E_DIR/d.tok")
	D_UNIT=$(sed -n 's/^unit: //p' "$E2E_DIR/d.tok")
	C2_TOKEN=$(sed -n 's/^token: //p' "$E2E_DIR/c2.tok")
	C2_UNIT=$(sed -n 's/^unit: //p' "$E2E_DIR/c2.tok")
	VIEWER=$(sed -n 's/^token: //p' "$E2E_DIR/viewer.tok")
	[ -n "$C1_TOKEN" ] && [ -n "$D_TOKEN" ] && [ -n "$C2_TOKEN" ] && [ -n "$VIEWER" ] || return 1
	hub_start "$DB" hub || return 1
	A1="$E2E_DIR/c1.db"; AD="$E2E_DIR/d.db"; A2="$E2E_DIR/c2.db"
	agent "$A1" init --unit "$C1_UNIT" --hub "$HUB_URL" --token "$C1_TOKEN" >/dev/null || return 1
	agent "$AD" init --unit "$D_UNIT" --hub "$HUB_URL" --token "$D_TOKEN" >/dev/null || return 1
	agent "$A2" init --unit "$C2_UNIT" --hub "$HUB_URL" --token "$C2_TOKEN" >/dev/null || return 1
	agent "$A1" sync >/dev/null || return 1 # the unit tree arrives
	agent "$AD" sync >/dev/null || return 1
	return 0
}

# The commune's year, typed offline: two branches, meetings of every kind a commune
# holds, a participation, volunteer work, a secretary with card, loan and Party step,
# year-end records for both years.
commune_records() {
	B1=$(agent "$A1" add unit opened_on=2020-01-01) || return 1
	agent "$A1" add unit_name of_unit="$B1" "name=Chi đoàn khu phố 1" kind=branch valid_from=2020-01-01 >/dev/null || return 1
	agent "$A1" add unit_parent of_unit="$B1" parent_id="$C1_UNIT" valid_from=2020-01-01 >/dev/null || return 1
	B2=$(agent "$A1" add unit opened_on=2020-01-01) || return 1
	agent "$A1" add unit_name of_unit="$B2" "name=Chi đoàn khu phố 2" kind=branch valid_from=2020-01-01 >/dev/null || return 1
	agent "$A1" add unit_parent of_unit="$B2" parent_id="$C1_UNIT" valid_from=2020-01-01 >/dev/null || return 1
	for d in 2021-01-17 2021-02-14 2021-03-14; do
		agent "$A1" add meeting kind=joint held_on=$d host_branch_id="$B1" >/dev/null || return 1
	done
	agent "$A1" add meeting kind=joint held_on=2021-04-11 host_branch_id="$B2" >/dev/null || return 1
	agent "$A1" add meeting kind=joint held_on=2020-06-14 host_branch_id="$B2" >/dev/null || return 1
	M=$(agent "$A1" add meeting kind=branch held_on=2021-03-20 host_branch_id="$B1" commune_secretary_attended=1) || return 1
	agent "$A1" add meeting_branch meeting_id="$M" branch_id="$B2" >/dev/null || return 1
	agent "$A1" add meeting kind=branch held_on=2021-04-20 host_branch_id="$B1" commune_secretary_attended=0 >/dev/null || return 1
	agent "$A1" add volunteer kind=green_shipper started_on=2021-08-01 teams=3 participations=420 \
		"title=Shipper xanh đi chợ giúp dân" >/dev/null || return 1
	agent "$A1" add volunteer kind=vaccination started_on=2020-09-05 teams=2 participations=180 >/dev/null || return 1
	P=$(agent "$A1" add person "full_name=Nguyễn Thị Hoa" birth_year=1996) || return 1
	agent "$A1" add role person_id="$P" role=branch_secretary of_unit="$B1" term_from=2019-01-01 >/dev/null || return 1
	agent "$A1" add insurance_card person_id="$P" valid_from=2021-01-01 valid_until=2022-12-31 >/dev/null || return 1
	agent "$A1" add support person_id="$P" kind=loan on_date=2021-05-05 amount_vnd=30000000 >/dev/null || return 1
	agent "$A1" add party person_id="$P" step=introduced on_date=2021-07-07 >/dev/null || return 1
	agent "$A1" add year_record unit_id="$B1" year=2021 rating=xuat_sac youth_gathered=80 youth_in_area=100 >/dev/null || return 1
	agent "$A1" add year_record unit_id="$B2" year=2021 rating=hoan_thanh youth_gathered=40 youth_in_area=90 >/dev/null || return 1
	agent "$A1" add year_record unit_id="$B1" year=2020 rating=tot youth_gathered=70 youth_in_area=100 >/dev/null || return 1
	return 0
}

district_records() {
	agent "$AD" add meeting kind=giao_ban held_on=2021-03-01 >/dev/null || return 1
	agent "$AD" add meeting kind=giao_ban held_on=2021-09-01 >/dev/null || return 1
	agent "$AD" add meeting kind=giao_ban held_on=2020-03-01 >/dev/null || return 1
	T=$(agent "$AD" add meeting kind=giao_nhiem_vu held_on=2021-04-01) || return 1
	agent "$AD" add task meeting_id="$T" "title=Kiểm tra sinh hoạt chi đoàn" >/dev/null || return 1
	agent "$AD" add pilot branch_id="$B1" valid_from=2020-06-01 >/dev/null || return 1
	return 0
}

if ! setup; then
	fail figures__setup "cannot build the province: $(tail -5 "$E2E_DIR/agent.out" "$E2E_DIR/init.out" 2>/dev/null | tr '\n' ' ')"
	e2e_finish
fi

# ---- a laptop that never synced ----
LC_ALL=C.UTF-8 "$AGENT" figures --db "$A2" --year $YEAR >"$E2E_DIR/nosync.out" 2>"$E2E_DIR/nosync.err"
rc=$?
if [ $rc -eq 78 ] && grep -q "lienket-agent sync" "$E2E_DIR/nosync.err" && grep -q "đồng bộ" "$E2E_DIR/nosync.err" &&
	[ ! -s "$E2E_DIR/nosync.out" ]; then
	ok figures__before_the_first_sync_the_office_is_told_to_sync
else
	fail figures__before_the_first_sync_the_office_is_told_to_sync "exit $rc: $(cat "$E2E_DIR/nosync.err" "$E2E_DIR/nosync.out" | tr '\n' ' ')"
fi

# ---- the commune ----
if ! commune_records; then
	fail figures__setup "cannot record the commune's year: $(tail -5 "$E2E_DIR/agent.out" | tr '\n' ' ')"
	e2e_finish
fi
"$AGENT" figures --db "$A1" --year $YEAR --today $TODAY --format json >"$E2E_DIR/c1-office.json" 2>"$E2E_DIR/c1-office.err"
rc_json=$?
LC_ALL=C.UTF-8 "$AGENT" figures --db "$A1" --year $YEAR --today $TODAY >"$E2E_DIR/c1-office.txt" 2>>"$E2E_DIR/c1-office.err"
rc_text=$?
"$HUB" report --db "$DB" --unit "$C1_UNIT" --year $YEAR --today $TODAY --format json >"$E2E_DIR/c1-hub-before.json" 2>/dev/null
agent "$A1" sync >/dev/null
rc_sync=$?
"$HUB" report --db "$DB" --unit "$C1_UNIT" --year $YEAR --today $TODAY --format json >"$E2E_DIR/c1-hub.json" 2>"$E2E_DIR/c1-hub.err"
if [ $rc_json -ne 0 ] || [ $rc_sync -ne 0 ]; then
	fail figures__commune_before_sync_equals_hub_after_sync "figures exit $rc_json, sync exit $rc_sync: $(cat "$E2E_DIR/c1-office.err" | tr '\n' ' ')"
elif r=$(same "$E2E_DIR/c1-office.json" "$E2E_DIR/c1-hub.json" 2>&1); then
	ok figures__commune_before_sync_equals_hub_after_sync
	echo "    $r"
else
	fail figures__commune_before_sync_equals_hub_after_sync "$r"
fi
# the comparison can fail: before the sync the hub had none of it
if same "$E2E_DIR/c1-office.json" "$E2E_DIR/c1-hub-before.json" >/dev/null 2>&1; then
	fail figures__hub_before_the_sync_differs "the hub had the office's records before the sync"
else
	ok figures__hub_before_the_sync_differs
fi
# the route serves the same document
code=$(curl -s -o "$E2E_DIR/c1-route.json" -w '%{http_code}' --max-time 30 \
	-H "Authorization: Bearer $VIEWER" "$HUB_URL/v1/report?unit=$C1_UNIT&year=$YEAR" 2>/dev/null)
if [ "$code" = 200 ] && r=$(same "$E2E_DIR/c1-office.json" "$E2E_DIR/c1-route.json" 2>&1); then
	ok figures__route_serves_what_the_office_saw
else
	fail figures__route_serves_what_the_office_saw "status $code: ${r:-}"
fi
# the text: Vietnamese, with the changes still waiting counted
if [ $rc_text -eq 0 ] && grep -q "BÁO CÁO MÔ HÌNH" "$E2E_DIR/c1-office.txt" &&
	grep -q "chưa gửi" "$E2E_DIR/c1-office.txt" && grep -q "Sinh hoạt liên chi đoàn" "$E2E_DIR/c1-office.txt" &&
	grep -q "năm 2020" "$E2E_DIR/c1-office.txt"; then
	ok figures__text_is_vietnamese_and_counts_waiting_changes
else
	fail figures__text_is_vietnamese_and_counts_waiting_changes "exit $rc_text: $(head -4 "$E2E_DIR/c1-office.txt" | tr '\n' ' ')"
fi

# ---- the district: the commune's records pulled, its own typed offline ----
agent "$AD" sync >/dev/null
if ! district_records; then
	fail figures__setup "cannot record the district's year: $(tail -5 "$E2E_DIR/agent.out" | tr '\n' ' ')"
	e2e_finish
fi
"$AGENT" figures --db "$AD" --year $YEAR --today $TODAY --format json >"$E2E_DIR/d-office.json" 2>"$E2E_DIR/d-office.err"
rc_json=$?
agent "$AD" sync >/dev/null
rc_sync=$?
"$HUB" report --db "$DB" --unit 593 --year $YEAR --today $TODAY --format json >"$E2E_DIR/d-hub.json" 2>/dev/null
if [ $rc_json -ne 0 ] || [ $rc_sync -ne 0 ]; then
	fail figures__district_before_sync_equals_hub_after_sync "figures exit $rc_json, sync exit $rc_sync: $(cat "$E2E_DIR/d-office.err" | tr '\n' ' ')"
elif r=$(same "$E2E_DIR/d-office.json" "$E2E_DIR/d-hub.json" 2>&1); then
	ok figures__district_before_sync_equals_hub_after_sync
	echo "    $r"
else
	fail figures__district_before_sync_equals_hub_after_sync "$r"
fi

# ---- usage ----
"$AGENT" figures --db "$A1" --format pdf >/dev/null 2>"$E2E_DIR/bad1.err"; r1=$?
"$AGENT" figures --db "$A1" --year 1999 >/dev/null 2>"$E2E_DIR/bad2.err"; r2=$?
"$AGENT" figures --db "$A1" --today 2022-3-1 >/dev/null 2>"$E2E_DIR/bad3.err"; r3=$?
"$AGENT" figures --db "$E2E_DIR/none.db" >/dev/null 2>"$E2E_DIR/bad4.err"; r4=$?
if [ $r1 -eq 64 ] && [ $r2 -eq 64 ] && [ $r3 -eq 64 ] && [ $r4 -eq 66 ]; then
	ok figures__bad_options_exit_64_and_no_database_66
else
	fail figures__bad_options_exit_64_and_no_database_66 "exits $r1 $r2 $r3 $r4"
fi

eval "stop \$HUB_PID_hub"
if grep -q 'ERROR: [A-Za-z]*Sanitizer\|runtime error' "$E2E_DIR/hub.log" "$E2E_DIR/agent.out" \
	"$E2E_DIR"/*.err 2>/dev/null; then
	fail figures__clean_under_sanitizers "$(grep -h -m1 'Sanitizer\|runtime error' "$E2E_DIR/hub.log" "$E2E_DIR/agent.out" "$E2E_DIR"/*.err)"
else
	ok figures__clean_under_sanitizers
fi

e2e_finish
