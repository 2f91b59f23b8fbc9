#!/bin/sh
# app_api — end to end: the office app's server (`lienket-agent app --no-open`, the real
# binary) driven with curl as a browser would, then synced to a real lienket-hub
# (issue 13, docs/app-api.md).
#
# Safety: without the start secret nothing answers (403), another Host is refused
# (421), the secret opens one session and only once, a cross-site form post (no CSRF
# header, Origin elsewhere) and a write without the CSRF token are refused with
# nothing written. Then records are created through the API as the page does (a
# branch as one form, people, a secretary's term, an insurance card, a joint meeting
# with three branches, a volunteer activity with its branches, a year-end rating), a
# wrong form is refused with nothing written, a CSV is imported and exported, the page
# starts a sync and follows it
# to the end, and the hub's rows equal the laptop's (tests/e2e/rows.py). The app
# stops on SIGTERM with exit 0 (no leak under ASan). Last, the first screen of a laptop
# with no database (issue 16): the same safety, a code another laptop used refused,
# the commune's code setting the laptop up, then the app served over the new database.
#
# Prints one cmocka-style line per case; every process it starts is tracked and
# stopped by PID. Run from the repository root; $LK_BIN is the build directory.
set -u
. tests/e2e/lib.sh

UNITS=tests/fixtures/units-small.csv
COMMUNE_CODE=22915
HDB="$E2E_DIR/hub.db"
ADB="$E2E_DIR/laptop.db"
JAR="$E2E_DIR/jar"
AGENT_LANG=en_US.UTF-8

for bin in "$HUB" "$AGENT"; do
	[ -x "$bin" ] || { fail app_api__binaries "$bin missing (make all)"; e2e_finish; }
done
command -v curl >/dev/null || { fail app_api__curl "curl missing (scripts/deps.sh test)"; e2e_finish; }

# ---- a hub, one commune laptop, its first sync ----
if ! "$HUB" init --db "$HDB" --units "$UNITS" >"$E2E_DIR/init.log" 2>&1; then
	fail app_api__hub_init "$(tail -3 "$E2E_DIR/init.log" | tr '\n' ' ')"
	e2e_finish
fi
hub_start "$HDB" hub || { fail app_api__hub_start "no hub"; e2e_finish; }
"$HUB" enroll --db "$HDB" --unit "$COMMUNE_CODE" --name laptop >"$E2E_DIR/enroll.out" 2>&1
TOKEN=$(sed -n 's/^token: *\(lk_[A-Za-z0-9_-]*\).*/\1/p' "$E2E_DIR/enroll.out" | head -n 1)
UNIT=$(sed -n 's/^unit: *//p' "$E2E_DIR/enroll.out" | head -n 1)
ag init "$ADB" init --unit "$UNIT" --hub "$HUB_URL" --token "$TOKEN"
ag sync0 "$ADB" sync
[ "$RC" = 0 ] || { fail app_api__first_sync "exit $RC: $(say sync0)"; e2e_finish; }

# ---- the app ----
LC_ALL=$AGENT_LANG "$AGENT" app --db "$ADB" --no-open --url-file "$E2E_DIR/url" \
	>"$E2E_DIR/app.out" 2>"$E2E_DIR/app.err" &
APP_PID=$!
e2e_track $APP_PID
if ! wait_file "$E2E_DIR/url" 100; then
	fail app_api__starts "no URL: $(tail -3 "$E2E_DIR/app.err" | tr '\n' ' ')"
	e2e_finish
fi
URL=$(cat "$E2E_DIR/url")
PORT=$(echo "$URL" | sed -n 's|^http://127\.0\.0\.1:\([0-9]*\)/?k=.*|\1|p')
BASE="http://127.0.0.1:$PORT"
if [ -n "$PORT" ] && grep -qF "$URL" "$E2E_DIR/app.out" &&
	[ "$(stat -c %a "$E2E_DIR/url")" = 600 ]; then
	ok app_api__prints_the_start_url_and_writes_it_for_its_owner_only
else
	fail app_api__prints_the_start_url_and_writes_it_for_its_owner_only "url '$URL', $(cat "$E2E_DIR/app.out")"
fi

# code CURL-ARGS... — the HTTP status of a request (body in $E2E_DIR/body).
code() { curl -s -o "$E2E_DIR/body" -w '%{http_code}' "$@"; }
rows() { sqlite3 "$ADB" "SELECT (SELECT count(*) FROM person) + (SELECT count(*) FROM lk_journal)"; }
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    d = d[int(k)] if isinstance(d, list) else d.get(k)
print("" if d is None else (str(d).lower() if isinstance(d, bool) else d))' "$E2E_DIR/body" "$1"; }

c=$(code "$BASE/api/meta")
[ "$c" = 403 ] && grep -q 'lienket-agent app' "$E2E_DIR/body" && ok app_api__without_the_secret_nothing_answers ||
	fail app_api__without_the_secret_nothing_answers "status $c"
c=$(code -H "Host: evil.example:$PORT" "$URL")
[ "$c" = 421 ] && ok app_api__another_host_is_refused || fail app_api__another_host_is_refused "status $c"

c=$(code -c "$JAR" -D "$E2E_DIR/headers" "$URL")
if [ "$c" = 303 ] && grep -qi '^Set-Cookie: lk_app=.*HttpOnly; SameSite=Strict; Path=/' "$E2E_DIR/headers" &&
	grep -qi "^Content-Security-Policy: default-src 'none'" "$E2E_DIR/headers"; then
	ok app_api__the_secret_opens_a_session
else
	fail app_api__the_secret_opens_a_session "status $c: $(tr '\r\n' '  ' <"$E2E_DIR/headers")"
fi
c=$(code -c "$E2E_DIR/jar2" "$URL")
[ "$c" = 403 ] && ok app_api__the_secret_works_once || fail app_api__the_secret_works_once "status $c"
SESSION=$(awk '$6 == "lk_app" { print $7 }' "$JAR")
c=$(code -H "Cookie: lk_app=$SESSION" -H "Host: localhost:$PORT" "$BASE/api/meta")
[ "$c" = 200 ] && ok app_api__localhost_is_ours_too || fail app_api__localhost_is_ours_too "status $c"

c=$(code -b "$JAR" "$BASE/api/meta")
CSRF=$(jget csrf)
OFFICE=$(jget office.unit_id)
[ "$c" = 200 ] && [ -n "$CSRF" ] && [ "$OFFICE" = "$UNIT" ] && ok app_api__meta_gives_the_csrf_token_and_the_office ||
	fail app_api__meta_gives_the_csrf_token_and_the_office "status $c office '$OFFICE'"

before=$(rows)
c=$(code -b "$JAR" -H 'Origin: http://evil.example' -H 'Content-Type: application/x-www-form-urlencoded' \
	--data 'values=1' "$BASE/api/forms/person")
[ "$c" = 403 ] && [ "$(rows)" = "$before" ] && ok app_api__a_cross_site_form_post_is_refused ||
	fail app_api__a_cross_site_form_post_is_refused "status $c"
c=$(code -b "$JAR" -H 'Content-Type: application/json' --data '{"values":{"full_name":"Trần Văn Ba"}}' \
	"$BASE/api/forms/person")
c2=$(code -b "$JAR" -H 'X-CSRF-Token: wrong' -H 'Content-Type: application/json' \
	--data '{"values":{"full_name":"Trần Văn Ba"}}' "$BASE/api/forms/person")
[ "$c" = 403 ] && [ "$c2" = 403 ] && [ "$(rows)" = "$before" ] && ok app_api__a_write_without_the_csrf_token_is_refused ||
	fail app_api__a_write_without_the_csrf_token_is_refused "status $c / $c2"

# post FORM JSON — creates a record as the page does; prints its id (status in $E2E_DIR/st).
post() {
	code -b "$JAR" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' \
		-H "Origin: $BASE" --data "{\"values\": $2}" "$BASE/api/forms/$1" >"$E2E_DIR/st"
	jget id
}
B1=$(post branch '{"name":"Thôn Đông Hải","opened_on":"14/03/2019"}')
B2=$(post branch '{"name":"Thôn Tây Sơn","opened_on":"2019-03-14"}')
B3=$(post branch '{"name":"Thôn Bắc Bình","opened_on":"1/1/2020"}')
P1=$(post person '{"full_name":"Nguyễn Thị Hoa","birth_year":1998,"gender":"nu"}')
P2=$(post person '{"full_name":"Đỗ Văn Nam","birth_year":1995,"gender":"nam"}')
R1=$(post role "{\"person_id\":\"$P1\",\"role\":\"branch_secretary\",\"of_unit\":\"$B1\",\"term_from\":\"01/01/2021\"}")
I1=$(post insurance_card "{\"person_id\":\"$P1\",\"card_no\":\"HS4010123456789\",\"valid_from\":\"01/01/2021\",\"valid_until\":\"31/12/2021\"}")
M1=$(post meeting "{\"kind\":\"joint\",\"held_on\":\"14/03/2021\",\"host_branch_id\":\"$B1\",\"attendees\":45,\"branches\":[\"$B1\",\"$B2\",\"$B3\"]}")
V1=$(post volunteer "{\"kind\":\"vaccination\",\"title\":\"Hỗ trợ tiêm chủng\",\"started_on\":\"02/08/2021\",\"teams\":3,\"participations\":120,\"branches\":[\"$B1\",\"$B2\"]}")
n=$(sqlite3 "$ADB" "SELECT (SELECT count(*) FROM unit_name WHERE kind = 'branch') || ' ' || (SELECT count(*) FROM meeting_branch) || ' ' || (SELECT count(*) FROM volunteer_branch) || ' ' || (SELECT count(*) FROM person)")
if [ -n "$B1" ] && [ -n "$B3" ] && [ -n "$R1" ] && [ -n "$I1" ] && [ -n "$M1" ] && [ -n "$V1" ] &&
	[ "$n" = "3 3 2 2" ]; then
	ok app_api__records_entered_as_the_page_does
else
	fail app_api__records_entered_as_the_page_does "counts '$n', last status $(cat "$E2E_DIR/st"): $(head -c 300 "$E2E_DIR/body")"
fi

before=$(rows)
c=$(code -b "$JAR" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' \
	--data "{\"values\":{\"person_id\":\"$P2\",\"kind\":\"loan\",\"on_date\":\"31/02/2021\"}}" "$BASE/api/forms/support")
e=$(jget errors.on_date)
[ "$c" = 422 ] && [ -n "$e" ] && [ "$(rows)" = "$before" ] && ok app_api__a_wrong_form_is_422_with_the_field_and_nothing_written ||
	fail app_api__a_wrong_form_is_422_with_the_field_and_nothing_written "status $c, '$e'"

c=$(code -b "$JAR" "$BASE/api/forms/person?q=nguyen%20thi%20hoa")
[ "$c" = 200 ] && [ "$(jget total)" = 1 ] && [ "$(jget rows.0.id)" = "$P1" ] && ok app_api__search_ignores_diacritics ||
	fail app_api__search_ignores_diacritics "status $c: $(head -c 200 "$E2E_DIR/body")"

# ---- CSV from the page ----
printf 'full_name;birth_year;gender\r\nLê Thị Lan;2000;Nữ\r\n' >"$E2E_DIR/people.csv"
c=$(code -b "$JAR" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: text/csv' --data-binary @"$E2E_DIR/people.csv" \
	"$BASE/api/import/person")
imported=$(jget imported)
c2=$(code -b "$JAR" -D "$E2E_DIR/h2" "$BASE/api/export/person.csv")
if [ "$c" = 200 ] && [ "$imported" = 1 ] && [ "$c2" = 200 ] && grep -q 'Lê Thị Lan' "$E2E_DIR/body" &&
	grep -qi '^Content-Disposition: attachment' "$E2E_DIR/h2" &&
	[ "$(head -c 3 "$E2E_DIR/body" | od -An -tx1 | tr -d ' ')" = efbbbf ]; then
	ok app_api__csv_import_and_export_from_the_page
else
	fail app_api__csv_import_and_export_from_the_page "import $c ($imported), export $c2"
fi

# ---- sync from the page ----
# page_sync — starts a sync as the page's button does and follows it to its end; the
# start's status in $c, the last GET /api/sync in $E2E_DIR/body.
page_sync() {
	c=$(code -b "$JAR" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' --data '{}' "$BASE/api/sync")
	i=0
	while [ $i -lt 300 ]; do
		code -b "$JAR" "$BASE/api/sync" >/dev/null
		[ "$(jget running)" = false ] && [ "$(jget phase)" != connecting ] && break
		sleep 0.1
		i=$((i + 1))
	done
}
page_sync
phase=$(jget phase) pending=$(jget pending) last=$(jget last_ok)
if [ "$c" = 202 ] && [ "$phase" = done ] && [ "$pending" = 0 ] && [ -n "$last" ]; then
	ok app_api__sync_from_the_page
else
	fail app_api__sync_from_the_page "start $c, phase $phase, pending $pending, $(head -c 300 "$E2E_DIR/body")"
fi
if out=$(python3 tests/e2e/rows.py same hub "$HDB" "$UNIT" "$ADB" 2>&1); then
	n=$(sqlite3 "$HDB" "SELECT count(*) FROM meeting_branch WHERE meeting_id = '$M1'")
	[ "$n" = 3 ] && ok app_api__the_hub_holds_the_apps_rows || fail app_api__the_hub_holds_the_apps_rows "hub has $n meeting branches"
else
	fail app_api__the_hub_holds_the_apps_rows "$out"
fi

# A year-end rating belongs to the branch rated (its owner is the branch, not the
# commune): compared on its own.
Y1=$(post year_record "{\"unit_id\":\"$B1\",\"year\":2021,\"rating\":\"xuat_sac\",\"youth_gathered\":80,\"youth_in_area\":100}")
page_sync
if [ -n "$Y1" ] && [ "$c" = 202 ] && [ "$(jget phase)" = done ] &&
	out=$(python3 tests/e2e/rows.py same hub "$HDB" "$B1" "$ADB" "$Y1" 2>&1) &&
	[ "$(sqlite3 "$HDB" "SELECT count(*) FROM year_record WHERE id = '$Y1'")" = 1 ]; then
	ok app_api__a_branchs_rating_reaches_the_hub
else
	fail app_api__a_branchs_rating_reaches_the_hub "id '$Y1', sync $c, ${out:-}"
fi

# ---- stop ----
kill "$APP_PID"
wait "$APP_PID"
rc=$?
[ "$rc" = 0 ] && ok app_api__stops_cleanly_on_sigterm || fail app_api__stops_cleanly_on_sigterm "exit $rc: $(tail -5 "$E2E_DIR/app.err" | tr '\n' ' ')"
# ---- the daemon serves the app too ----
rm -f "$ADB.app-url"
LC_ALL=$AGENT_LANG "$AGENT" daemon --db "$ADB" --app-port 0 --interval-min 60 \
	>"$E2E_DIR/daemon.out" 2>"$E2E_DIR/daemon.err" &
DAEMON_PID=$!
e2e_track $DAEMON_PID
if wait_file "$ADB.app-url" 100; then
	DURL=$(cat "$ADB.app-url")
	c=$(code -c "$E2E_DIR/jar3" "$DURL")
	DBASE=$(echo "$DURL" | sed 's|/?k=.*||')
	c2=$(code -b "$E2E_DIR/jar3" "$DBASE/api/forms/meeting")
	t=$(jget total)
	[ "$c" = 303 ] && [ "$c2" = 200 ] && [ "$t" = 1 ] && [ "$(stat -c %a "$ADB.app-url")" = 600 ] &&
		ok app_api__the_daemon_serves_the_app ||
		fail app_api__the_daemon_serves_the_app "start $c, list $c2 total '$t'"
else
	fail app_api__the_daemon_serves_the_app "no $ADB.app-url: $(tail -3 "$E2E_DIR/daemon.err" | tr '\n' ' ')"
fi
kill "$DAEMON_PID"
wait "$DAEMON_PID"
rc=$?
[ "$rc" = 0 ] && ok app_api__the_daemon_with_the_app_stops_cleanly ||
	fail app_api__the_daemon_with_the_app_stops_cleanly "exit $rc: $(tail -5 "$E2E_DIR/daemon.err" | tr '\n' ' ')"

# ---- the first screen: a laptop not set up yet (docs/app-api.md §9) ----
# Two codes from the province's sheets for the same commune: one for a new laptop, one
# that another laptop has used already (it synced: its token is bound).
NDB="$E2E_DIR/new.db"
printf 'unit,name\n%s,Máy mới\n%s,Máy đã dùng mã\n' "$COMMUNE_CODE" "$COMMUNE_CODE" >"$E2E_DIR/offices.csv"
"$HUB" enroll --db "$HDB" --csv "$E2E_DIR/offices.csv" --hub "$HUB_URL" --out "$E2E_DIR/sheets" \
	>"$E2E_DIR/sheets.out" 2>&1
code_of() { sed -n 's/.*<p class="code">\([^<]*\)<\/p>.*/\1/p' "$1"; }
NEWCODE=$(code_of "$E2E_DIR/sheets/001-$COMMUNE_CODE.html")
USED=$(code_of "$E2E_DIR/sheets/002-$COMMUNE_CODE.html")
ag used "$E2E_DIR/used.db" init --join "$USED"
ag usedsync "$E2E_DIR/used.db" sync
LC_ALL=$AGENT_LANG "$AGENT" app --db "$NDB" --no-open --url-file "$E2E_DIR/nurl" \
	>"$E2E_DIR/napp.out" 2>"$E2E_DIR/napp.err" &
NAPP_PID=$!
e2e_track $NAPP_PID
if [ -n "$NEWCODE" ] && [ "$RC" = 0 ] && wait_file "$E2E_DIR/nurl" 100; then
	NURL=$(cat "$E2E_DIR/nurl")
	NBASE=$(echo "$NURL" | sed 's|/?k=.*||')
	NPORT=$(echo "$NBASE" | sed 's|.*:||')
	body() { printf '{"code":"%s"}' "$1"; }
	# the same safety as the app: no session, another Host, no CSRF token
	c1=$(code -X POST -H 'Content-Type: application/json' -d "$(body "$NEWCODE")" "$NBASE/api/setup/join")
	c2=$(code -H "Host: evil.example:$NPORT" "$NBASE/api/meta")
	c3=$(code -c "$E2E_DIR/njar" "$NURL")
	c4=$(code -b "$E2E_DIR/njar" "$NBASE/api/meta")
	setup=$(jget setup)
	NCSRF=$(jget csrf)
	c5=$(code -b "$E2E_DIR/njar" -X POST -H 'Content-Type: application/json' -H "Origin: http://127.0.0.1:$NPORT" \
		-d "$(body "$NEWCODE")" "$NBASE/api/setup/join")
	if [ "$c1" = 403 ] && [ "$c2" = 421 ] && [ "$c3" = 303 ] && [ "$c4" = 200 ] && [ "$setup" = true ] &&
		[ "$c5" = 403 ] && [ ! -e "$NDB" ]; then
		ok app_api__first_screen_has_the_apps_safety
	else
		fail app_api__first_screen_has_the_apps_safety "no session $c1, Host $c2, secret $c3, meta $c4 setup '$setup', no CSRF $c5"
	fi
	npost() { code -b "$E2E_DIR/njar" -X POST -H 'Content-Type: application/json' -H "X-CSRF-Token: $NCSRF" -d "$2" "$NBASE$1"; }
	c=$(npost /api/setup/check "$(body "$USED")")
	if [ "$c" = 409 ] && grep -q 'đã được dùng để cài một máy khác' "$E2E_DIR/body" && [ ! -e "$NDB" ]; then
		ok app_api__first_screen_refuses_a_code_used_on_another_laptop
	else
		fail app_api__first_screen_refuses_a_code_used_on_another_laptop "check $c: $(cat "$E2E_DIR/body")"
	fi
	c=$(npost /api/setup/check "$(body "$NEWCODE")")
	name=$(jget unit_name)
	c2=$(npost /api/setup/join "$(body "$NEWCODE")")
	sleep 0.2
	c3=$(code -b "$E2E_DIR/njar" "$NBASE/api/meta")
	office=$(jget office.unit_id)
	c4=$(npost /api/setup/join "$(body "$NEWCODE")")
	if [ "$c" = 200 ] && [ "$name" = "Phường Mũi Né" ] && [ "$c2" = 201 ] && [ "$c3" = 200 ] && [ "$office" = "$UNIT" ] &&
		[ "$(sqlite3 "$NDB" "SELECT value FROM lk_config WHERE key = 'hub_url'")" = "$HUB_URL" ] && [ "$c4" = 404 ]; then
		ok app_api__first_screen_sets_the_laptop_up_and_serves_the_app
	else
		fail app_api__first_screen_sets_the_laptop_up_and_serves_the_app "check $c '$name', join $c2, meta $c3 '$office', again $c4: $(tail -3 "$E2E_DIR/napp.err" | tr '\n' ' ')"
	fi
	# the province's server stops: the page's sync says the laptop is offline (the code
	# the page words calmly), and nothing is lost
	stop "$HUB_PID_hub"
	JAR=$E2E_DIR/njar CSRF=$NCSRF BASE=$NBASE
	page_sync
	if [ "$c" = 202 ] && [ "$(jget phase)" = failed ] && [ "$(jget error_code)" = unreachable ] &&
		[ -n "$(jget error)" ]; then
		ok app_api__a_sync_without_the_hub_says_the_laptop_is_offline
	else
		fail app_api__a_sync_without_the_hub_says_the_laptop_is_offline "start $c: $(cat "$E2E_DIR/body")"
	fi
else
	fail app_api__first_screen_has_the_apps_safety "code '$NEWCODE', used sync $RC: $(say usedsync) $(tail -3 "$E2E_DIR/napp.err" | tr '\n' ' ')"
fi
stop "$NAPP_PID"
e2e_finish
