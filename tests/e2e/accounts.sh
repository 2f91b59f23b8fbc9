#!/bin/sh
# accounts — named viewer accounts of the dashboard (issue 14): the real lienket-hub on
# loopback, driven with curl as a browser would post its forms (same-origin Origin).
#   - `viewer add` prints a one-time link: it shows a form, sets the password once
#     (a second use, a mismatch or a short password refused), and logs in;
#   - login by name and password: a session cookie that ends with the browser, or with
#     "remember me" a bounded Max-Age (30 days); a wrong password refused;
#   - failed logins throttled per account (5) and per address (20), with a Vietnamese
#     page saying so (429), even for the right password afterwards;
#   - `viewer passwd` and `viewer rm` end the account's sessions at once;
#   - an account limited to a district sees the district by default and its communes,
#     and gets 403 (a Vietnamese page) for the province's figures, spreadsheet and
#     digest;
#   - the operators' token login keeps working (docs promise it);
#   - in headless Chromium at 390×844 and 1366×768 (tests/e2e/accounts_browser.py): the
#     link's and the login's forms fit the screen, login by typing, logout, a district
#     account refused the province; screenshots in build/artifacts/.
# The hub runs with --trust-proxy so each case gets its own client address
# (X-Forwarded-For): the per-address counts of one case do not leak into the next.
set -u
. tests/e2e/lib.sh

UNITS=tests/fixtures/units-small.csv
DB="$E2E_DIR/hub.db"
PY=${PYTHON3:-/usr/bin/python3}

# post NAME ADDR BODY — a form post from client ADDR; prints the status.
post() {
	curl -s -o "$E2E_DIR/$1.body" -D "$E2E_DIR/$1.head" -w '%{http_code}' --max-time 30 \
		-H "Origin: $HUB_URL" -H "X-Forwarded-For: $2" --data "$3" "$HUB_URL/" 2>/dev/null
}
# get NAME ADDR PATH [COOKIE] — prints the status.
get() {
	curl -s -o "$E2E_DIR/$1.body" -D "$E2E_DIR/$1.head" -w '%{http_code}' --max-time 30 \
		-H "X-Forwarded-For: $2" ${4:+-H "Cookie: lk_session=$4"} "$HUB_URL$3" 2>/dev/null
}
# cookie NAME — the session id a login answer set.
cookie() { sed -n 's/^[Ss]et-[Cc]ookie: lk_session=\([^;]*\);.*/\1/p' "$E2E_DIR/$1.head" | tr -d '\r'; }
# link NAME — the secret of the one-time link `viewer add|passwd` printed into NAME.out.
link() { sed -n 's/.*?invite=\(li_[A-Za-z0-9_-]*\).*/\1/p' "$E2E_DIR/$1.out"; }
# account NAME [--unit U] — adds an account and sets its password through its link.
account() {
	n=$1; shift
	"$HUB" viewer add "$n" --db "$DB" "$@" >"$E2E_DIR/add-$n.out" 2>&1 || return 1
	inv=$(link "add-$n")
	[ "$(post "set-$n" 10.9.9.9 "invite=$inv&password=mat-khau-$n&password2=mat-khau-$n")" = 303 ]
}

"$HUB" init --db "$DB" --units "$UNITS" >"$E2E_DIR/init.out" 2>&1 || { echo "init failed"; exit 1; }
"$HUB" units list --db "$DB" >"$E2E_DIR/units.tsv" 2>/dev/null
DISTRICT=$(awk -F'\t' '$2 == "593" { print $1 }' "$E2E_DIR/units.tsv")
"$HUB" enroll --db "$DB" --viewer >"$E2E_DIR/viewer.tok" 2>/dev/null
TOKEN=$(sed -n 's/^token: //p' "$E2E_DIR/viewer.tok")
"$HUB" serve --db "$DB" --listen 127.0.0.1:0 --port-file "$E2E_DIR/hub.port" --trust-proxy \
	>>"$E2E_DIR/hub.log" 2>&1 &
e2e_track $!
wait_file "$E2E_DIR/hub.port" 100 || { echo "hub did not start"; tail "$E2E_DIR/hub.log"; exit 1; }
HUB_URL="http://127.0.0.1:$(cat "$E2E_DIR/hub.port")"
TODAY=$(TZ=Asia/Ho_Chi_Minh date +%F)

# ---- the one-time link ----
"$HUB" viewer add an --db "$DB" --url "$HUB_URL" >"$E2E_DIR/add.out" 2>&1
INV=$(link add)
s1=$(get inv-form 10.0.0.1 "/?invite=$INV")
s2=$(post inv-mismatch 10.0.0.1 "invite=$INV&password=mat-khau-dai-1&password2=mat-khau-dai-2")
s3=$(post inv-short 10.0.0.1 "invite=$INV&password=ngan&password2=ngan")
s4=$(post inv-set 10.0.0.1 "invite=$INV&password=mat-khau-cua-an&password2=mat-khau-cua-an")
C_AN=$(cookie inv-set)
s5=$(get inv-page 10.0.0.1 / "$C_AN")
s6=$(post inv-again 10.0.0.1 "invite=$INV&password=mat-khau-khac-1&password2=mat-khau-khac-1")
s7=$(get inv-form-again 10.0.0.1 "/?invite=$INV")
if grep -q "$HUB_URL/?invite=li_" "$E2E_DIR/add.out" && [ "$s1" = 200 ] &&
   grep -q 'Đặt mật khẩu' "$E2E_DIR/inv-form.body" && [ "$s2" = 400 ] &&
   grep -q 'không giống nhau' "$E2E_DIR/inv-mismatch.body" && [ "$s3" = 400 ] &&
   grep -q 'quá ngắn' "$E2E_DIR/inv-short.body" && [ "$s4" = 303 ] && [ -n "$C_AN" ] &&
   [ "$s5" = 200 ] && [ "$s6" = 410 ] && [ "$s7" = 410 ] &&
   grep -q 'đã được dùng' "$E2E_DIR/inv-again.body" &&
   ! grep -q "$INV" "$E2E_DIR/hub.log" "$DB.operations"; then
	ok accounts__one_time_link_sets_the_password_once_and_logs_in
else
	fail accounts__one_time_link_sets_the_password_once_and_logs_in \
		"form $s1 mismatch $s2 short $s3 set $s4 page $s5 again $s6/$s7"
fi

# ---- name and password; remember me ----
s1=$(post login 10.0.0.2 "name=an&password=mat-khau-cua-an")
C1=$(cookie login)
s2=$(get login-page 10.0.0.2 / "$C1")
s3=$(post login-rem 10.0.0.2 "name=an&password=mat-khau-cua-an&remember=1")
s4=$(post login-bad 10.0.0.2 "name=an&password=sai-mat-khau-roi")
s5=$(post login-unknown 10.0.0.2 "name=khong-co-ai&password=sai-mat-khau-roi")
s6=$(get login-form 10.0.0.2 /)
if [ "$s1" = 303 ] && [ -n "$C1" ] && ! grep -qi '^set-cookie:.*max-age' "$E2E_DIR/login.head" &&
   grep -qi '^set-cookie: lk_session=.*HttpOnly; SameSite=Strict' "$E2E_DIR/login.head" &&
   [ "$s2" = 200 ] && grep -q 'data-report-unit' "$E2E_DIR/login-page.body" &&
   [ "$s3" = 303 ] && grep -qi '^set-cookie: lk_session=.*; Max-Age=2592000;' "$E2E_DIR/login-rem.head" &&
   [ "$s4" = 401 ] && grep -q 'Tên đăng nhập hoặc mật khẩu không đúng' "$E2E_DIR/login-bad.body" &&
   [ "$s5" = 401 ] && ! grep -qi '^set-cookie' "$E2E_DIR/login-bad.head" &&
   [ "$s6" = 401 ] && grep -q 'name="password"' "$E2E_DIR/login-form.body" &&
   grep -q 'name="remember"' "$E2E_DIR/login-form.body" &&
   grep -q 'width=device-width' "$E2E_DIR/login-form.body"; then
	ok accounts__name_and_password_log_in_and_remember_me_is_bounded
else
	fail accounts__name_and_password_log_in_and_remember_me_is_bounded \
		"login $s1 page $s2 remember $s3 bad $s4 unknown $s5 form $s6"
fi

# ---- throttling per account ----
account binh || fail accounts__setup "cannot make the account binh"
codes=""
for i in 1 2 3 4 5; do codes="$codes $(post thr-$i 10.0.1.$i "name=binh&password=doan-sai-lan-$i")"; done
s1=$(post thr-right 10.0.1.9 "name=binh&password=mat-khau-binh")
s2=$(post thr-other 10.0.1.9 "name=an&password=mat-khau-cua-an")
if [ "$codes" = " 401 401 401 401 401" ] && [ "$s1" = 429 ] &&
   grep -q 'Đăng nhập sai quá nhiều lần' "$E2E_DIR/thr-right.body" &&
   grep -q 'thử lại sau 15 phút' "$E2E_DIR/thr-right.body" &&
   ! grep -qi '^set-cookie' "$E2E_DIR/thr-right.head" && [ "$s2" = 303 ]; then
	ok accounts__failed_logins_are_throttled_per_account
else
	fail accounts__failed_logins_are_throttled_per_account "five wrong:$codes, then right $s1, other $s2"
fi

# ---- throttling per address ----
account chi || fail accounts__setup "cannot make the account chi"
codes=""
i=1
while [ $i -le 20 ]; do
	codes="$codes$(post thra 10.0.2.1 "name=doan-$i&password=doan-sai-mat-khau")"
	i=$((i + 1))
done
s1=$(post thra-right 10.0.2.1 "name=chi&password=mat-khau-chi")
s2=$(post thra-elsewhere 10.0.2.2 "name=chi&password=mat-khau-chi")
s3=$(post thra-token 10.0.2.1 "token=$TOKEN")
if [ "$codes" = "$(printf '401%.0s' $(seq 20))" ] && [ "$s1" = 429 ] &&
   grep -q 'thử lại sau' "$E2E_DIR/thra-right.body" && [ "$s2" = 303 ] && [ "$s3" = 429 ]; then
	ok accounts__failed_logins_are_throttled_per_address
else
	fail accounts__failed_logins_are_throttled_per_address "20 wrong: $codes; then $s1, elsewhere $s2, token $s3"
fi

# ---- passwd and rm end sessions ----
account dung || fail accounts__setup "cannot make the account dung"
post pw-login 10.0.3.1 "name=dung&password=mat-khau-dung" >/dev/null
C_D=$(cookie pw-login)
s1=$(get pw-before 10.0.3.1 / "$C_D")
"$HUB" viewer passwd dung --db "$DB" >"$E2E_DIR/pw.out" 2>&1
s2=$(get pw-after 10.0.3.1 / "$C_D")
s3=$(post pw-old 10.0.3.1 "name=dung&password=mat-khau-dung")
INV2=$(link pw)
s4=$(post pw-set 10.0.3.1 "invite=$INV2&password=mat-khau-moi-dung&password2=mat-khau-moi-dung")
C_D2=$(cookie pw-set)
s5=$(get pw-new 10.0.3.1 / "$C_D2")
"$HUB" viewer rm dung --db "$DB" >"$E2E_DIR/rm.out" 2>&1
s6=$(get rm-after 10.0.3.1 / "$C_D2")
s7=$(post rm-login 10.0.3.1 "name=dung&password=mat-khau-moi-dung")
if [ "$s1" = 200 ] && [ "$s2" = 401 ] && grep -q 'hết hiệu lực' "$E2E_DIR/pw-after.body" &&
   [ "$s3" = 401 ] && [ "$s4" = 303 ] && [ "$s5" = 200 ] && [ "$s6" = 401 ] && [ "$s7" = 401 ]; then
	ok accounts__viewer_passwd_and_rm_end_the_accounts_sessions
else
	fail accounts__viewer_passwd_and_rm_end_the_accounts_sessions \
		"before $s1 after passwd $s2 old password $s3 new link $s4/$s5 after rm $s6 login $s7"
fi

# ---- an account limited to a district ----
account huyen --unit 593 || fail accounts__setup "cannot make the account huyen"
post d-login 10.0.4.1 "name=huyen&password=mat-khau-huyen" >/dev/null
C_H=$(cookie d-login)
s1=$(get d-home 10.0.4.1 / "$C_H")
s2=$(get d-commune 10.0.4.1 "/?unit=22915" "$C_H")
s3=$(get d-province 10.0.4.1 "/?unit=60" "$C_H")
s4=$(get d-other 10.0.4.1 "/?unit=23272" "$C_H")
s5=$(get d-xlsx 10.0.4.1 "/report.xlsx?unit=60" "$C_H")
s6=$(get d-xlsx-own 10.0.4.1 "/report.xlsx" "$C_H")
s7=$(get d-digest 10.0.4.1 "/digest/$TODAY?unit=60" "$C_H")
s8=$(get d-digest-own 10.0.4.1 "/digest/$TODAY" "$C_H")
OTHER=$(awk -F"\t" '$2 == "23272" { print $1 }' "$E2E_DIR/units.tsv")
if [ "$s1" = 200 ] && grep -q "data-report-unit=\"$DISTRICT\"" "$E2E_DIR/d-home.body" &&
   [ "$s2" = 200 ] && [ "$s3" = 403 ] && grep -q 'chỉ được xem số liệu của đơn vị mình' "$E2E_DIR/d-province.body" &&
   ! grep -q 'data-figure' "$E2E_DIR/d-province.body" && [ -n "$OTHER" ] &&
   [ "$s4" = 403 ] && [ "$s5" = 403 ] && [ "$s6" = 200 ] && [ "$s7" = 403 ] && [ "$s8" = 200 ] &&
   grep -q 'Thành phố Phan Thiết' "$E2E_DIR/d-digest-own.body"; then
	ok accounts__a_district_account_is_refused_the_provinces_figures
else
	fail accounts__a_district_account_is_refused_the_provinces_figures \
		"home $s1 commune $s2 province $s3 other district $s4 xlsx $s5/$s6 digest $s7/$s8"
fi

# ---- operators' token login ----
s1=$(post tok 10.0.5.1 "token=$TOKEN")
C_T=$(cookie tok)
s2=$(get tok-page 10.0.5.1 / "$C_T")
s3=$(get tok-unit 10.0.5.1 "/?unit=60" "$C_T")
if [ "$s1" = 303 ] && grep -qi '^set-cookie: lk_session=.*Max-Age=43200' "$E2E_DIR/tok.head" &&
   [ "$s2" = 200 ] && [ "$s3" = 200 ]; then
	ok accounts__viewer_token_login_still_works_for_operators
else
	fail accounts__viewer_token_login_still_works_for_operators "login $s1 page $s2 province $s3"
fi

# ---- list ----
"$HUB" viewer list --db "$DB" >"$E2E_DIR/list.out" 2>&1
if grep -q "^an	province	password set" "$E2E_DIR/list.out" &&
   grep -q "^huyen	$DISTRICT	password set" "$E2E_DIR/list.out" && ! grep -q '^dung' "$E2E_DIR/list.out" &&
   ! grep -q 'argon2' "$E2E_DIR/list.out" &&
   [ "$(sqlite3 "$DB" "SELECT count(*) FROM hub_viewer WHERE password LIKE '\$argon2id\$v=19\$m=19456,t=2,p=1\$%'")" = 4 ]; then
	ok accounts__viewer_list_shows_scopes_and_passwords_are_argon2id
else
	fail accounts__viewer_list_shows_scopes_and_passwords_are_argon2id "$(cat "$E2E_DIR/list.out" | tr '\n' '|')"
fi
# ---- in a browser, at 390 and 1366 px ----
ART=build/artifacts
mkdir -p "$ART"
"$HUB" viewer add trang --db "$DB" --url "$HUB_URL" >"$E2E_DIR/add-trang.out" 2>&1
account xa --unit 593 || fail accounts__setup "cannot make the account xa"
timeout 300 "$PY" tests/e2e/accounts_browser.py "$HUB_URL" "$HUB_URL/?invite=$(link add-trang)" \
	trang mat-khau-cua-trang xa mat-khau-xa "$ART" >"$E2E_DIR/browser.out" 2>"$E2E_DIR/browser.err" &
bpid=$!
e2e_track $bpid
wait $bpid
brc=$?
if [ $brc = 0 ] && ! grep -q '^fail' "$E2E_DIR/browser.out" && [ "$(grep -c '^ok' "$E2E_DIR/browser.out")" = 10 ] &&
   [ -s "$ART/login-390.png" ] && [ -s "$ART/refused-390.png" ]; then
	ok accounts__browser_login_logout_and_refusal_at_390_and_1366_px
else
	fail accounts__browser_login_logout_and_refusal_at_390_and_1366_px \
		"rc $brc: $(grep -v '^ok' "$E2E_DIR/browser.out" | head -5 | tr '\n' ' ') $(tail -3 "$E2E_DIR/browser.err" | tr '\n' ' ')"
fi
e2e_finish
