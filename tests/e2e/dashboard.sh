#!/bin/sh
# dashboard — the browser test of the province dashboard (issue 6): the real
# lienket-hub on loopback, real lienket-agent laptops that record meetings and
# volunteer work and sync, then headless Chromium (Debian's `chromium`) logs in with
# the link form /?token=… and loads the page. Checks that the figures shown (the cells
# marked data-figure/data-measure/data-value/data-of) equal GET /v1/report, that the
# login sets an HttpOnly SameSite=Strict cookie and redirects to an address without
# the token, that agent tokens are refused, that the page loads nothing from outside,
# and keeps a screenshot as build/artifacts/dashboard.png. Also: `lienket-hub report`
# prints the same JSON as the route, and `lienket-hub digest` writes its files.
#
# Without chromium the browser cases FAIL (never skip). Every process started is
# stopped by PID on exit (lib.sh). Run from the repository root; $LK_BIN holds the
# binaries (make B=build/dash MODE=asan all-tests; LK_BIN=build/dash).
set -u
. tests/e2e/lib.sh

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
UNITS=tests/fixtures/units-small.csv
DB=$(hub_db hub)
ART=build/artifacts
YEAR=2021

# agent DB CMD ARGS... — runs the agent quietly; output in $E2E_DIR/agent.out.
agent() { db=$1; cmd=$2; shift 2; "$AGENT" "$cmd" --db "$db" "$@" >>"$E2E_DIR/agent.out" 2>&1; }

# Builds the province: hub, units, three offices and a viewer; two laptops record.
setup() {
	"$HUB" init --db "$DB" --units "$UNITS" >"$E2E_DIR/init.out" 2>&1 || return 1
	"$HUB" units list --db "$DB" >"$E2E_DIR/units.tsv" 2>/dev/null || return 1
	DISTRICT=$(awk -F'\t' '$2 == "593" { print $1 }' "$E2E_DIR/units.tsv")
	"$HUB" enroll --db "$DB" --unit 22915 >"$E2E_DIR/c1.tok" 2>/dev/null || return 1
	"$HUB" enroll --db "$DB" --unit 593 >"$E2E_DIR/d.tok" 2>/dev/null || return 1
	"$HUB" enroll --db "$DB" --unit 22918 >"$E2E_DIR/silent.tok" 2>/dev/null || return 1
	"$HUB" enroll --db "$DB" --viewer >"$E2E_DIR/viewer.tok" 2>/dev/null || return 1
	C1_TOKEN=$(sed -n 's/^token: //p' "$E2E_DIR/c1.tok")
	C1_UNIT=$(sed -n 's/^unit: //p' "$E2E_DIR/c1.tok")
	D_TOKEN=$(sed -n 's/^token: //p' "$E2E_DIR/d.tok")
	D_UNIT=$(sed -n 's/^unit: //p' "$E2E_DIR/d.tok")
	SILENT_UNIT=$(sed -n 's/^unit: //p' "$E2E_DIR/silent.tok")
	VIEWER=$(sed -n 's/^token: //p' "$E2E_DIR/viewer.tok")
	[ -n "$C1_TOKEN" ] && [ -n "$D_TOKEN" ] && [ -n "$VIEWER" ] && [ -n "$DISTRICT" ] || return 1
	hub_start "$DB" hub || return 1
	A1="$E2E_DIR/c1.db"
	AD="$E2E_DIR/d.db"
	agent "$A1" init --unit "$C1_UNIT" --hub "$HUB_URL" --token "$C1_TOKEN" || return 1
	agent "$AD" init --unit "$D_UNIT" --hub "$HUB_URL" --token "$D_TOKEN" || return 1
	for d in 2021-01-17 2021-02-14 2021-03-14 2021-04-11 2021-05-16; do
		agent "$A1" add meeting kind=joint held_on=$d attendees=25 || return 1
	done
	agent "$A1" add meeting kind=joint held_on=2020-06-14 || return 1
	agent "$A1" add meeting kind=branch held_on=2021-03-20 commune_secretary_attended=1 || return 1
	agent "$A1" add meeting kind=branch held_on=2021-04-20 commune_secretary_attended=0 || return 1
	agent "$A1" add volunteer kind=green_shipper started_on=2021-08-01 teams=3 participations=420 \
		"title=Shipper xanh đi chợ giúp dân" || return 1
	agent "$A1" add volunteer kind=vaccination started_on=2021-09-05 teams=2 participations=180 || return 1
	agent "$AD" add meeting kind=giao_ban held_on=2021-03-01 "concerns=<script>alert(1)</script>" || return 1
	agent "$AD" add meeting kind=giao_ban held_on=2021-09-01 || return 1
	agent "$AD" add meeting kind=giao_nhiem_vu held_on=2021-04-01 || return 1
	agent "$A1" sync || return 1
	agent "$AD" sync || return 1
	return 0
}

# req NAME CURL-ARGS... — body in NAME.body, headers in NAME.head; prints the status.
req() {
	name=$1; shift
	curl -s -o "$E2E_DIR/$name.body" -D "$E2E_DIR/$name.head" -w '%{http_code}' --max-time 30 "$@" \
		2>/dev/null
}

# browse NAME URL [EXTRA CHROMIUM ARGS] — headless Chromium in a fresh profile;
# NAME.dom (with --dump-dom) or the screenshot, NAME.net (net log), NAME.err.
browse() {
	name=$1; url=$2; shift 2
	prof="$E2E_DIR/profile-$name"
	rm -rf "$prof"; mkdir -p "$prof"
	(cd "$E2E_DIR" && timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$prof" --log-net-log="$E2E_DIR/$name.net" "$@" "$url") \
		>"$E2E_DIR/$name.dom" 2>"$E2E_DIR/$name.err" &
	pid=$!
	e2e_track $pid
	wait $pid
}

# compare_figures DOM JSON — every figure cell of the page equals the report JSON,
# and every measure of the JSON is on the page.
compare_figures() {
	python3 - "$1" "$2" <<'PY'
import json, sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.cells = {}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-figure" in a:
            k = (a["data-figure"], a["data-measure"], a["data-column"])
            if k in self.cells: raise SystemExit("cell shown twice: %r" % (k,))
            self.cells[k] = (int(a["data-value"]), int(a["data-of"]) if "data-of" in a else None)
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read())
rep = json.load(open(sys.argv[2], encoding="utf-8"))
if len(rep["figures"]) != 13: raise SystemExit("report has %d figures" % len(rep["figures"]))
want = {}
for f in rep["figures"]:
    for m in f["measures"]:
        want[(f["key"], m["key"], "value")] = (m["value"], m["of"])
        if m.get("previous") is not None:
            want[(f["key"], m["key"], "previous")] = (m["previous"]["value"], m["previous"]["of"])
if not p.cells: raise SystemExit("no figure cells on the page")
bad = [(k, p.cells.get(k), v) for k, v in want.items() if p.cells.get(k) != v]
extra = [k for k in p.cells if k not in want]
if bad or extra: raise SystemExit("page differs from /v1/report: %r extra %r" % (bad[:5], extra[:5]))
nonzero = sum(1 for k, v in want.items() if k[2] == "value" and v[0])
print("%d cells equal, %d non-zero" % (len(want), nonzero))
if nonzero < 5: raise SystemExit("too few non-zero figures (%d): the data did not arrive" % nonzero)
PY
}

# urls NET — the loopback URLs Chromium requested, in order (token values masked).
urls() {
	python3 - "$1" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
# Requests only (URL_REQUEST_START_JOB carries the method); a socket or stream job
# logs its origin ("…/") and may log a URL again out of order, so each request URL is
# listed once, where it was first asked for.
seen = []
for e in d.get("events", []):
    p = e.get("params", {})
    u = p.get("url")
    if u and "method" in p and u.startswith("http://127.0.0.1") and u not in seen:
        seen.append(u)
for u in seen: print(re.sub(r"token=[^&]*", "token=<T>", u))
PY
}

if ! setup; then
	fail dashboard__setup "cannot build the province: $(tail -5 "$E2E_DIR/agent.out" "$E2E_DIR/init.out" 2>/dev/null | tr '\n' ' ')"
	e2e_finish
fi

# ---- login by HTTP ----
code=$(req nolog "$HUB_URL/")
if [ "$code" = 401 ] && grep -q 'name="token"' "$E2E_DIR/nolog.body" && grep -q 'Đăng nhập' "$E2E_DIR/nolog.body"; then
	ok dashboard__without_cookie_the_login_form_is_shown
else
	fail dashboard__without_cookie_the_login_form_is_shown "status $code"
fi

# A link pasted into the address bar (what a browser says with Sec-Fetch-Site: none).
code=$(req link -H 'Sec-Fetch-Site: none' "$HUB_URL/?token=$VIEWER&year=$YEAR")
loc=$(sed -n 's/^[Ll]ocation: *//p' "$E2E_DIR/link.head" | tr -d '\r')
cookie=$(sed -n 's/^[Ss]et-[Cc]ookie: *//p' "$E2E_DIR/link.head" | tr -d '\r')
SESSION=$(echo "$cookie" | sed -n 's/^lk_session=\(ls_[A-Za-z0-9_-]\{43\}\);.*/\1/p')
if [ "$code" = 303 ] && [ "$loc" = "/?year=$YEAR" ] && [ -n "$SESSION" ] &&
	[ "$(echo "$cookie" | sed 's/lk_session=[^;]*/lk_session=…/')" = "lk_session=…; Max-Age=43200; HttpOnly; SameSite=Strict; Path=/" ]; then
	ok dashboard__login_link_sets_a_session_cookie_and_redirects_without_the_token
else
	fail dashboard__login_link_sets_a_session_cookie_and_redirects_without_the_token "status $code, location '$loc', cookie attributes '$(echo "$cookie" | sed 's/lk_session=[^;]*/lk_session=…/')'"
fi

code=$(req form -H "Origin: $HUB_URL" --data-urlencode "token=$VIEWER" "$HUB_URL/")
if [ "$code" = 303 ] && grep -qi "^set-cookie: lk_session=ls_[^;]*; Max-Age=43200; HttpOnly; SameSite=Strict; Path=/" "$E2E_DIR/form.head" &&
	! grep -q "$VIEWER" "$E2E_DIR/form.head" &&
	grep -qi '^location: /' "$E2E_DIR/form.head" && ! grep -qi "^location:.*token" "$E2E_DIR/form.head"; then
	ok dashboard__login_form_post_sets_a_session_cookie
else
	fail dashboard__login_form_post_sets_a_session_cookie "status $code"
fi

# Login CSRF: another site's form post or link logs nobody in.
c1=$(req csrf_form -H 'Origin: http://evil.example' --data-urlencode "token=$VIEWER" "$HUB_URL/")
c2=$(req csrf_bare --data-urlencode "token=$VIEWER" "$HUB_URL/")
c3=$(req csrf_link -H 'Sec-Fetch-Site: cross-site' -H 'Referer: http://evil.example/' "$HUB_URL/?token=$VIEWER")
if [ "$c1" = 403 ] && [ "$c2" = 403 ] && [ "$c3" = 403 ] &&
	! grep -qi '^set-cookie' "$E2E_DIR/csrf_form.head" "$E2E_DIR/csrf_bare.head" "$E2E_DIR/csrf_link.head"; then
	ok dashboard__a_login_from_another_site_is_refused
else
	fail dashboard__a_login_from_another_site_is_refused "cross-site form $c1, form without Origin/Referer $c2, cross-site link $c3 (want 403 each, no cookie)"
fi

c1=$(req agentlink -H 'Sec-Fetch-Site: none' "$HUB_URL/?token=$C1_TOKEN")
c2=$(req agentcookie -b "lk_session=$C1_TOKEN" "$HUB_URL/")
c3=$(req badcookie -b "lk_session=lk_notavalidtoken" "$HUB_URL/")
c4=$(req tokencookie -b "lk_session=$VIEWER" "$HUB_URL/")
if [ "$c1" = 403 ] && [ "$c2" = 401 ] && [ "$c3" = 401 ] && [ "$c4" = 401 ] && ! grep -qi '^set-cookie' "$E2E_DIR/agentlink.head"; then
	ok dashboard__agent_tokens_get_403_and_a_token_is_no_cookie
else
	fail dashboard__agent_tokens_get_403_and_a_token_is_no_cookie "agent link $c1, agent token cookie $c2, unknown cookie $c3, viewer token cookie $c4 (want 403 401 401 401)"
fi

# The page's headers: never framed, no script, no Referer; nosniff.
code=$(req headers -b "lk_session=$SESSION" "$HUB_URL/?year=$YEAR")
if [ "$code" = 200 ] && grep -qi "^content-security-policy: .*frame-ancestors 'none'" "$E2E_DIR/headers.head" &&
	grep -qi '^x-content-type-options: nosniff' "$E2E_DIR/headers.head" &&
	grep -qi '^referrer-policy: no-referrer' "$E2E_DIR/headers.head"; then
	ok dashboard__html_answers_carry_csp_nosniff_and_no_referrer
else
	fail dashboard__html_answers_carry_csp_nosniff_and_no_referrer "status $code; headers: $(grep -i 'policy\|options' "$E2E_DIR/headers.head" | tr -d '\r' | tr '\n' ' ')"
fi

if grep -q "$VIEWER" "$E2E_DIR/hub.log" || grep -q "$C1_TOKEN" "$E2E_DIR/hub.log"; then
	fail dashboard__tokens_never_logged "a token is in the hub's log"
else
	ok dashboard__tokens_never_logged
fi

# ---- the report as JSON ----
code=$(req report -H "Authorization: Bearer $VIEWER" "$HUB_URL/v1/report?year=$YEAR")
"$HUB" report --db "$DB" --year $YEAR --format json >"$E2E_DIR/cli-report.json" 2>"$E2E_DIR/cli-report.err"
if [ "$code" = 200 ] && python3 -c "
import json,sys
a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
assert a==b and a['year']==$YEAR and len(a['figures'])==13
" "$E2E_DIR/report.body" "$E2E_DIR/cli-report.json" 2>"$E2E_DIR/cmp.err"; then
	ok dashboard__cli_report_json_equals_the_route
else
	fail dashboard__cli_report_json_equals_the_route "status $code; $(tail -2 "$E2E_DIR/cmp.err" "$E2E_DIR/cli-report.err" | tr '\n' ' ')"
fi
code=$(req report_agent -H "Authorization: Bearer $C1_TOKEN" "$HUB_URL/v1/report")
code2=$(req report_bad -H "Authorization: Bearer $VIEWER" "$HUB_URL/v1/report?unit=nosuchunit")
if [ "$code" = 403 ] && [ "$code2" = 404 ]; then
	ok dashboard__report_route_refuses_agents_and_unknown_units
else
	fail dashboard__report_route_refuses_agents_and_unknown_units "agent $code (want 403), unknown unit $code2 (want 404)"
fi

# ---- the status command ----
"$HUB" status --db "$DB" >"$E2E_DIR/status.txt" 2>&1
"$HUB" status --db "$DB" --format json >"$E2E_DIR/status.json" 2>&1
"$HUB" status --db "$DB" --format csv >"$E2E_DIR/status.csv" 2>&1
if grep -q 'TÌNH TRẠNG ĐỒNG BỘ' "$E2E_DIR/status.txt" && grep -q 'Chưa kết nối lần nào' "$E2E_DIR/status.txt" &&
	python3 -c "
import json,sys
d=json.load(open(sys.argv[1]))
o=d['offices']
assert len(o)==3 and o[0]['unit']==sys.argv[2] and o[0]['state']=='never', o[0]
assert all(x['state']=='ok' for x in o[1:]), [x['state'] for x in o]
" "$E2E_DIR/status.json" "$SILENT_UNIT" 2>"$E2E_DIR/status.err" &&
	[ "$(head -c 3 "$E2E_DIR/status.csv" | od -An -tx1 | tr -d ' ')" = efbbbf ]; then
	ok dashboard__status_command_in_text_json_and_csv
else
	fail dashboard__status_command_in_text_json_and_csv "$(tail -2 "$E2E_DIR/status.err" "$E2E_DIR/status.txt" | tr '\n' ' ')"
fi

# ---- the browser ----
if [ ! -x "$CHROMIUM" ]; then
	for c in browser_shows_the_figures_of_the_report browser_final_address_has_no_token \
		browser_cross_site_form_post_does_not_log_in \
		page_loads_nothing_from_outside status_puts_the_silent_office_on_top screenshot_kept; do
		fail "dashboard__$c" "chromium not found at $CHROMIUM (apt-get install chromium); the browser test cannot run"
	done
	e2e_finish
fi

browse login "$HUB_URL/?token=$VIEWER&year=$YEAR" --dump-dom
if [ -s "$E2E_DIR/login.dom" ] && compare_figures "$E2E_DIR/login.dom" "$E2E_DIR/report.body" >"$E2E_DIR/cmp.out" 2>&1; then
	ok dashboard__browser_shows_the_figures_of_the_report
else
	fail dashboard__browser_shows_the_figures_of_the_report "$(tail -2 "$E2E_DIR/cmp.out" | tr '\n' ' ') $(grep -v dbus "$E2E_DIR/login.err" | tail -2 | tr '\n' ' ')"
fi

urls "$E2E_DIR/login.net" >"$E2E_DIR/login.urls" 2>&1
first=$(head -n 1 "$E2E_DIR/login.urls")
after=$(sed 1d "$E2E_DIR/login.urls")
if [ "$first" = "$HUB_URL/?token=<T>&year=$YEAR" ] && echo "$after" | grep -qx "$HUB_URL/?year=$YEAR" &&
	! echo "$after" | grep -q 'token='; then
	ok dashboard__browser_final_address_has_no_token
else
	fail dashboard__browser_final_address_has_no_token "requests: $(tr '\n' ' ' <"$E2E_DIR/login.urls")"
fi

if [ -s "$E2E_DIR/login.dom" ] && ! grep -Eiq '<script|(src|href)="(https?:)?//' "$E2E_DIR/login.dom" &&
	! grep -v "^$HUB_URL" "$E2E_DIR/login.urls" | grep -q . && grep -q 'class="lk-chart"' "$E2E_DIR/login.dom" &&
	grep -q 'Tình trạng đồng bộ' "$E2E_DIR/login.dom"; then
	ok dashboard__page_loads_nothing_from_outside
else
	fail dashboard__page_loads_nothing_from_outside "a script or an outside address in the page, or no chart"
fi

if python3 - "$E2E_DIR/login.dom" "$SILENT_UNIT" "$DISTRICT" <<'PY' >"$E2E_DIR/st.out" 2>&1
import re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
sec = dom[dom.index('class="lk-status"'):]
# the offices to call first: the never-connected one heads the list
calls = sec[sec.index('<ol class="lk-calls">'):]
rows = re.findall(r'<li class="(\w+)" data-unit="([^"]+)"', calls)
assert rows and rows[0][1] == sys.argv[2], rows
assert "Chưa kết nối lần nào" in sec
assert 'value="%s"' % sys.argv[3] in dom, "district missing from the unit picker"
PY
then
	ok dashboard__status_puts_the_silent_office_on_top
else
	fail dashboard__status_puts_the_silent_office_on_top "$(tail -2 "$E2E_DIR/st.out" | tr '\n' ' ')"
fi

# A chosen unit: the district, by code.
code=$(req district -b "lk_session=$SESSION" "$HUB_URL/?unit=593&year=$YEAR")
code2=$(req district_json -H "Authorization: Bearer $VIEWER" "$HUB_URL/v1/report?unit=593&year=$YEAR")
if [ "$code" = 200 ] && [ "$code2" = 200 ] && grep -q "data-report-unit=\"$DISTRICT\"" "$E2E_DIR/district.body" &&
	compare_figures "$E2E_DIR/district.body" "$E2E_DIR/district_json.body" >"$E2E_DIR/cmpd.out" 2>&1; then
	ok dashboard__chosen_unit_and_year_show_that_report
else
	fail dashboard__chosen_unit_and_year_show_that_report "page $code, json $code2; $(tail -1 "$E2E_DIR/cmpd.out")"
fi

# Login CSRF in a real browser: a page of another origin (a local file) posts the login
# form to the hub by script. Chromium sends Origin: null and no Referer; the hub must
# answer the login form, not the dashboard, and set no cookie.
cat >"$E2E_DIR/csrf.html" <<HTML
<!DOCTYPE html><html><body><form method="post" action="$HUB_URL/">
<input name="token" value="$VIEWER"></form><script>document.forms[0].submit()</script></body></html>
HTML
browse csrf "file://$E2E_DIR/csrf.html" --dump-dom --virtual-time-budget=10000
if grep -q 'chỉ nhận mã nhập từ chính trang này' "$E2E_DIR/csrf.dom" && ! grep -q 'data-figure' "$E2E_DIR/csrf.dom" &&
	grep -q 'POST / 403' "$E2E_DIR/hub.log"; then
	ok dashboard__browser_cross_site_form_post_does_not_log_in
else
	fail dashboard__browser_cross_site_form_post_does_not_log_in "page: $(head -c 300 "$E2E_DIR/csrf.dom" | tr '\n' ' ') log: $(grep 'POST / ' "$E2E_DIR/hub.log" | tail -2 | tr '\n' ' ')"
fi

browse shot "$HUB_URL/?token=$VIEWER&year=$YEAR" --screenshot="$E2E_DIR/dashboard.png" --window-size=1280,2000 \
	--hide-scrollbars
mkdir -p "$ART"
if [ -s "$E2E_DIR/dashboard.png" ] && [ "$(head -c 4 "$E2E_DIR/dashboard.png" | od -An -c | tr -d ' ')" = '211PNG' ] &&
	cp "$E2E_DIR/dashboard.png" "$ART/dashboard.png"; then
	ok dashboard__screenshot_kept
else
	fail dashboard__screenshot_kept "no PNG from chromium: $(grep -v dbus "$E2E_DIR/shot.err" | tail -2 | tr '\n' ' ')"
fi

# ---- the page written to a file (for the demo, or to mail) ----
if "$HUB" dashboard --db "$DB" --out "$E2E_DIR/page.html" --year $YEAR >"$E2E_DIR/page.out" 2>&1 &&
	compare_figures "$E2E_DIR/page.html" "$E2E_DIR/report.body" >"$E2E_DIR/cmpf.out" 2>&1; then
	ok dashboard__page_written_to_a_file_shows_the_same_figures
else
	fail dashboard__page_written_to_a_file_shows_the_same_figures "$(tail -2 "$E2E_DIR/page.out" "$E2E_DIR/cmpf.out" | tr '\n' ' ')"
fi

# ---- the morning digest ----
mkdir -p "$E2E_DIR/digest"
today=$(TZ=Asia/Ho_Chi_Minh date +%Y-%m-%d)
if "$HUB" digest --db "$DB" --date "$today" --out "$E2E_DIR/digest" --cutoff 23:59 >"$E2E_DIR/digest.out" 2>&1 &&
	[ "$(head -c 3 "$E2E_DIR/digest/digest-$today-status.csv" | od -An -tx1 | tr -d ' ')" = efbbbf ] &&
	[ "$(head -c 3 "$E2E_DIR/digest/digest-$today-report.csv" | od -An -tx1 | tr -d ' ')" = efbbbf ] &&
	grep -q "$(printf '\r')$" "$E2E_DIR/digest/digest-$today-arrivals.csv" &&
	grep -q 'báo cáo buổi sáng' "$E2E_DIR/digest/digest-$today.html"; then
	ok dashboard__digest_writes_html_and_excel_csv
else
	fail dashboard__digest_writes_html_and_excel_csv "$(tail -2 "$E2E_DIR/digest.out" | tr '\n' ' ')"
fi

stop "$HUB_PID_hub"

# ---- over HTTPS the cookie is Secure ----
if openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$E2E_DIR/key.pem" \
	-out "$E2E_DIR/cert.pem" >"$E2E_DIR/openssl.log" 2>&1; then
	"$HUB" serve --db "$DB" --listen 127.0.0.1:0 --port-file "$E2E_DIR/tls.port" \
		--cert "$E2E_DIR/cert.pem" --key "$E2E_DIR/key.pem" >>"$E2E_DIR/hub.log" 2>&1 &
	TLS_PID=$!
	e2e_track $TLS_PID
	if wait_file "$E2E_DIR/tls.port" 100; then
		code=$(req tlslink --cacert "$E2E_DIR/cert.pem" -H 'Sec-Fetch-Site: none' \
			"https://127.0.0.1:$(cat "$E2E_DIR/tls.port")/?token=$VIEWER")
		if [ "$code" = 303 ] && grep -qi "^set-cookie: lk_session=ls_[^;]*; Max-Age=43200; HttpOnly; SameSite=Strict; Path=/; Secure" "$E2E_DIR/tlslink.head"; then
			ok dashboard__over_https_the_cookie_is_secure
		else
			fail dashboard__over_https_the_cookie_is_secure "status $code, $(grep -ci '^set-cookie:.*Secure' "$E2E_DIR/tlslink.head") Secure cookies"
		fi
	else
		fail dashboard__over_https_the_cookie_is_secure "the HTTPS hub did not start"
	fi
	stop $TLS_PID
else
	fail dashboard__over_https_the_cookie_is_secure "openssl cannot make a test certificate: $(tail -1 "$E2E_DIR/openssl.log")"
fi

if grep -q 'ERROR: [A-Za-z]*Sanitizer\|runtime error' "$E2E_DIR/hub.log"; then
	fail dashboard__hub_clean_under_sanitizers "$(grep -m1 'Sanitizer\|runtime error' "$E2E_DIR/hub.log")"
else
	ok dashboard__hub_clean_under_sanitizers
fi
e2e_finish
