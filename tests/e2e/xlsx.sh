#!/bin/sh
# xlsx — the report as a spreadsheet leaders keep (issue 14): real offices record and
# sync to the real hub on loopback, then `lienket-hub report --format xlsx` and the
# dashboard's /report.xlsx are read back with openpyxl (tests/e2e/xlsx_check.py): one
# sheet per level with Vietnamese labels, every number a number and equal to the JSON
# report of its unit. Also /metrics: offices silent for over a day and the last
# backup's age. Every process started is stopped by PID (lib.sh).
set -u
. tests/e2e/lib.sh

UNITS=tests/fixtures/units-small.csv
DB="$E2E_DIR/hub.db"
PY=${PYTHON3:-/usr/bin/python3}
YEAR=2021

agent() { db=$1; cmd=$2; shift 2; "$AGENT" "$cmd" --db "$db" "$@" >>"$E2E_DIR/agent.out" 2>&1; }

setup() {
	"$HUB" init --db "$DB" --units "$UNITS" >"$E2E_DIR/init.out" 2>&1 || return 1
	"$HUB" enroll --db "$DB" --unit 22915 >"$E2E_DIR/c1.tok" 2>/dev/null || return 1
	"$HUB" enroll --db "$DB" --unit 593 >"$E2E_DIR/d.tok" 2>/dev/null || return 1
	"$HUB" enroll --db "$DB" --viewer >"$E2E_DIR/viewer.tok" 2>/dev/null || return 1
	TOKEN=$(sed -n 's/^token: //p' "$E2E_DIR/viewer.tok")
	hub_start "$DB" hub || return 1
	A1="$E2E_DIR/c1.db"
	AD="$E2E_DIR/d.db"
	agent "$A1" init --unit "$(sed -n 's/^unit: //p' "$E2E_DIR/c1.tok")" --hub "$HUB_URL" \
		--token "$(sed -n 's/^token: //p' "$E2E_DIR/c1.tok")" || return 1
	agent "$AD" init --unit "$(sed -n 's/^unit: //p' "$E2E_DIR/d.tok")" --hub "$HUB_URL" \
		--token "$(sed -n 's/^token: //p' "$E2E_DIR/d.tok")" || return 1
	for d in 2021-01-17 2021-02-14 2021-03-14 2020-05-16; do
		agent "$A1" add meeting kind=joint held_on=$d attendees=25 || return 1
	done
	agent "$A1" add meeting kind=branch held_on=2021-03-20 commune_secretary_attended=1 || return 1
	agent "$A1" add meeting kind=branch held_on=2021-04-20 commune_secretary_attended=0 || return 1
	agent "$A1" add volunteer kind=green_shipper started_on=2021-08-01 teams=3 participations=420 || return 1
	agent "$AD" add meeting kind=giao_ban held_on=2021-03-01 || return 1
	agent "$AD" add meeting kind=giao_nhiem_vu held_on=2021-04-01 || return 1
	agent "$A1" sync && agent "$AD" sync
}
setup || { echo "setup failed"; tail -5 "$E2E_DIR/agent.out"; exit 1; }

# report JSON of the province and of each of its children
"$HUB" report --db "$DB" --year $YEAR --format json >"$E2E_DIR/top.json" 2>"$E2E_DIR/top.err"
kids=""
for u in $("$PY" -c 'import json,sys; print(" ".join(u["unit"] for u in json.load(open(sys.argv[1]))["units"]))' "$E2E_DIR/top.json"); do
	"$HUB" report --db "$DB" --year $YEAR --unit "$u" --format json >"$E2E_DIR/kid-$u.json" 2>/dev/null
	kids="$kids $E2E_DIR/kid-$u.json"
done

# ---- the command ----
"$HUB" report --db "$DB" --year $YEAR --format xlsx --out "$E2E_DIR/cli.xlsx" >"$E2E_DIR/cli.out" 2>&1
rc=$?
# shellcheck disable=SC2086
if [ $rc = 0 ] && "$PY" tests/e2e/xlsx_check.py "$E2E_DIR/cli.xlsx" "$E2E_DIR/top.json" $kids >"$E2E_DIR/check-cli.out" 2>&1 &&
   grep -q 'sheets: Tổng hợp, Cấp huyện, Cấp xã' "$E2E_DIR/check-cli.out" &&
   grep -q '"value":420' "$E2E_DIR/top.json"; then
	ok xlsx__report_command_writes_every_number_of_the_json_report
else
	fail xlsx__report_command_writes_every_number_of_the_json_report "rc $rc: $(head -5 "$E2E_DIR/check-cli.out" "$E2E_DIR/cli.out" | tr '\n' ' ')"
fi

# ---- the dashboard's download, and a district's ----
curl -s -o /dev/null -D "$E2E_DIR/login.head" -H "Origin: $HUB_URL" --data "token=$TOKEN" "$HUB_URL/"
C=$(sed -n 's/^[Ss]et-[Cc]ookie: lk_session=\([^;]*\);.*/\1/p' "$E2E_DIR/login.head" | tr -d '\r')
code=$(curl -s -o "$E2E_DIR/web.xlsx" -D "$E2E_DIR/web.head" -w '%{http_code}' -H "Cookie: lk_session=$C" \
	"$HUB_URL/report.xlsx?year=$YEAR")
DISTRICT=$("$PY" -c 'import json,sys; print([u["unit"] for u in json.load(open(sys.argv[1]))["units"] if u["code"] == "593"][0])' "$E2E_DIR/top.json")
code2=$(curl -s -o "$E2E_DIR/web-d.xlsx" -w '%{http_code}' -H "Cookie: lk_session=$C" \
	"$HUB_URL/report.xlsx?year=$YEAR&unit=593")
code3=$(curl -s -o "$E2E_DIR/anon.body" -w '%{http_code}' "$HUB_URL/report.xlsx?year=$YEAR")
curl -s -o "$E2E_DIR/page.html" -H "Cookie: lk_session=$C" "$HUB_URL/?year=$YEAR"
dkids=""
for u in $("$PY" -c 'import json,sys; print(" ".join(u["unit"] for u in json.load(open(sys.argv[1]))["units"]))' "$E2E_DIR/kid-$DISTRICT.json"); do
	"$HUB" report --db "$DB" --year $YEAR --unit "$u" --format json >"$E2E_DIR/dkid-$u.json" 2>/dev/null
	dkids="$dkids $E2E_DIR/dkid-$u.json"
done
# shellcheck disable=SC2086
if [ "$code" = 200 ] && grep -qi '^content-type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' "$E2E_DIR/web.head" &&
   "$PY" tests/e2e/xlsx_check.py "$E2E_DIR/web.xlsx" "$E2E_DIR/top.json" $kids >"$E2E_DIR/check-web.out" 2>&1 &&
   [ "$code2" = 200 ] &&
   "$PY" tests/e2e/xlsx_check.py "$E2E_DIR/web-d.xlsx" "$E2E_DIR/kid-$DISTRICT.json" $dkids >"$E2E_DIR/check-d.out" 2>&1 &&
   [ "$code3" = 401 ] && grep -q "href=\"/report.xlsx?unit=[^\"]*&amp;year=$YEAR\"" "$E2E_DIR/page.html"; then
	ok xlsx__the_dashboard_serves_the_spreadsheet_of_the_unit_shown
else
	fail xlsx__the_dashboard_serves_the_spreadsheet_of_the_unit_shown \
		"province $code, district $code2, anonymous $code3: $(head -3 "$E2E_DIR/check-web.out" "$E2E_DIR/check-d.out" 2>/dev/null | tr '\n' ' ')"
fi

# ---- /metrics: silent offices, the backup's age ----
metrics() { curl -s -o "$E2E_DIR/$1" -H "Authorization: Bearer $TOKEN" "$HUB_URL/metrics"; }
metrics m1
two_days_ago=$(( $(date +%s) * 1000 - 2 * 86400000 ))
sqlite3 "$DB" "PRAGMA busy_timeout=5000; UPDATE hub_agent SET last_hello_ms = $two_days_ago WHERE unit_id = (SELECT unit_id FROM hub_token WHERE prefix = '$(sed -n 's/^token: \(.\{11\}\).*/\1/p' "$E2E_DIR/c1.tok")')" >/dev/null 2>"$E2E_DIR/sql.err"
"$HUB" backup --db "$DB" "$E2E_DIR/backup.db" >"$E2E_DIR/backup.out" 2>&1
metrics m2
if grep -q '^lienket_offices_silent 0$' "$E2E_DIR/m1" && grep -q '^lienket_backup_age_seconds -1$' "$E2E_DIR/m1" &&
   grep -q '^lienket_offices_silent 1$' "$E2E_DIR/m2" && grep -q '^lienket_backup_age_seconds [0-9]$' "$E2E_DIR/m2" &&
   grep -q '^lienket_digest_last_sent_timestamp_seconds 0$' "$E2E_DIR/m2"; then
	ok xlsx__metrics_show_silent_offices_and_the_last_backups_age
else
	fail xlsx__metrics_show_silent_offices_and_the_last_backups_age \
		"$(grep -E '^lienket_(offices|backup|digest)' "$E2E_DIR/m1" "$E2E_DIR/m2" | tr '\n' ' ') $(cat "$E2E_DIR/sql.err")"
fi
e2e_finish
