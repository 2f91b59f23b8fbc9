#!/bin/sh
# digestmail — `lienket-hub digest --mail` against a real SMTP server started here on
# loopback (tests/e2e/smtp_sink.py, Debian's python3-aiosmtpd), with authentication:
#   - one message per scope (the province, a district) to that scope's recipients, a
#     Vietnamese subject encoded as RFC 2047, the HTML body byte for byte what
#     /digest/DATE serves, the three CSV attachments byte for byte the recorded ones and
#     the files `digest --out` writes (byte-order mark and CRLF intact);
#   - a relay that refuses (451) and then accepts within one run: received once;
#   - running `digest --mail` again sends nothing more;
#   - a relay that keeps refusing: exit 75, every try recorded, shown on the status page
#     and in /metrics; the next morning's run, with the relay accepting, sends it once
#     beside that morning's own.
#   - STARTTLS required on smtp:// (a relay without it gets nothing), SMTPS, and SMTP
#     without TLS only when asked for and only to this machine.
# Every process started is stopped by PID (lib.sh).
set -u
. tests/e2e/lib.sh

UNITS=tests/fixtures/units-small.csv
DB="$E2E_DIR/hub.db"
PY=${PYTHON3:-/usr/bin/python3}
D1=2026-11-20
D2=2026-11-21
D3=2026-11-22

# sink NAME [ARGS] — starts the SMTP sink into $E2E_DIR/NAME; sets SINK_PID, SINK_PORT.
sink() {
	mkdir -p "$E2E_DIR/$1"
	d="$E2E_DIR/$1"; shift
	"$PY" tests/e2e/smtp_sink.py "$d" "$d/port" --user lienket --password "mat khau thu" "$@" \
		>"$d/log" 2>&1 &
	SINK_PID=$!
	e2e_track $SINK_PID
	wait_file "$d/port" 100 || { echo "smtp sink did not start"; cat "$d/log"; return 1; }
	SINK_PORT=$(cat "$d/port")
}
# relay PORT [OPTIONS] — the relay at 127.0.0.1:PORT, plain SMTP unless OPTIONS say.
relay() {
	p=$1; shift
	[ $# -eq 0 ] && set -- --plain
	"$HUB" mail relay --db "$DB" --url "smtp://127.0.0.1:$p" --from "baocao@tinhdoan.vn" \
		--user lienket --password-file "$E2E_DIR/relay.pw" "$@" >"$E2E_DIR/relay.out" 2>&1
}
# mail DATE NAME — digest --mail; exit code in RC, output in NAME.out/.err.
mail() {
	"$HUB" digest --db "$DB" --mail --date "$1" --tries 3 --backoff-ms 100 \
		>"$E2E_DIR/$2.out" 2>"$E2E_DIR/$2.err"
	RC=$?
}
count() { ls "$1"/msg-*.eml 2>/dev/null | wc -l; }
# part EML WHAT OUT — writes a part of a message: html, subject, to, or an attachment name.
part() {
	"$PY" - "$1" "$2" "$3" <<'PY'
import email, email.header, email.policy, sys
msg = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.compat32)
what, out = sys.argv[2], sys.argv[3]
data = None
if what == "subject":
    raw = msg["Subject"]
    assert all(ord(c) < 128 for c in raw), "subject not encoded"
    data = str(email.header.make_header(email.header.decode_header(raw))).encode()
elif what == "to":
    data = msg["To"].encode()
else:
    for p in msg.walk():
        if p.is_multipart():
            continue
        if (what == "html" and p.get_content_type() == "text/html") or p.get_filename() == what:
            data = p.get_payload(decode=True)
if data is None:
    sys.exit("no part " + what)
open(out, "wb").write(data)
PY
}

"$HUB" init --db "$DB" --units "$UNITS" >"$E2E_DIR/init.out" 2>&1 || { echo "init failed"; exit 1; }
"$HUB" units list --db "$DB" >"$E2E_DIR/units.tsv" 2>/dev/null
DISTRICT=$(awk -F'\t' '$2 == "593" { print $1 }' "$E2E_DIR/units.tsv")
"$HUB" enroll --db "$DB" --viewer >"$E2E_DIR/viewer.tok" 2>/dev/null
TOKEN=$(sed -n 's/^token: //p' "$E2E_DIR/viewer.tok")
printf 'mat khau thu\n' >"$E2E_DIR/relay.pw"
"$HUB" mail add lanhdao@tinhdoan.vn --db "$DB" >/dev/null 2>&1
"$HUB" mail add vanphong@tinhdoan.vn --db "$DB" >/dev/null 2>&1
"$HUB" mail add bithu@phanthiet.vn --db "$DB" --unit 593 >/dev/null 2>&1
hub_start "$DB" hub || exit 1

# ---- refused once, then accepted, within one run ----
sink s1 --refuse 1 || exit 1
relay "$SINK_PORT"
mail $D1 run1
S1="$E2E_DIR/s1"
if [ $RC = 0 ] && [ "$(count "$S1")" = 2 ] && [ "$(wc -l <"$S1/tries")" = 3 ] &&
   grep -q 'try 1 of 3 failed: .*451' "$E2E_DIR/run1.err" &&
   [ "$(sqlite3 "$DB" "SELECT count(*) FROM hub_digest_mail WHERE date='$D1' AND sent_ms > 0")" = 2 ]; then
	ok digestmail__a_relay_that_refuses_then_accepts_gets_each_digest_once
else
	fail digestmail__a_relay_that_refuses_then_accepts_gets_each_digest_once \
		"rc $RC, $(count "$S1") messages, $(wc -l <"$S1/tries" 2>/dev/null) DATA; $(tail -3 "$E2E_DIR/run1.err" | tr '\n' ' ')"
fi

# which message is whose
for m in "$S1"/msg-*.eml; do
	if grep -q 'bithu@phanthiet.vn' "${m%.eml}.rcpt"; then M_D=$m; else M_P=$m; fi
done

# ---- the message: subject, recipients, body equal to /digest/DATE, attachments ----
curl -s -o /dev/null -D "$E2E_DIR/login.head" -H "Origin: $HUB_URL" --data "token=$TOKEN" "$HUB_URL/"
C=$(sed -n 's/^[Ss]et-[Cc]ookie: lk_session=\([^;]*\);.*/\1/p' "$E2E_DIR/login.head" | tr -d '\r')
curl -s -o "$E2E_DIR/web-p.html" -H "Cookie: lk_session=$C" "$HUB_URL/digest/$D1"
curl -s -o "$E2E_DIR/web-d.html" -H "Cookie: lk_session=$C" "$HUB_URL/digest/$D1?unit=593"
mkdir -p "$E2E_DIR/files"
"$HUB" digest --db "$DB" --date $D1 --out "$E2E_DIR/files" >/dev/null 2>&1
good=1; why=""
part "$M_P" subject "$E2E_DIR/subj-p" && part "$M_D" subject "$E2E_DIR/subj-d" &&
part "$M_P" to "$E2E_DIR/to-p" && part "$M_P" html "$E2E_DIR/mail-p.html" &&
part "$M_D" html "$E2E_DIR/mail-d.html" || { good=0; why="cannot read the messages"; }
[ "$(cat "$E2E_DIR/subj-p" 2>/dev/null)" = "Liên Kết — Báo cáo buổi sáng ngày 20/11/2026" ] ||
	{ good=0; why="$why subject '$(cat "$E2E_DIR/subj-p" 2>/dev/null)'"; }
[ "$(cat "$E2E_DIR/subj-d" 2>/dev/null)" = "Liên Kết — Báo cáo buổi sáng ngày 20/11/2026 — Thành phố Phan Thiết" ] ||
	{ good=0; why="$why district subject '$(cat "$E2E_DIR/subj-d" 2>/dev/null)'"; }
grep -q 'lanhdao@tinhdoan.vn' "${M_P%.eml}.rcpt" && grep -q 'vanphong@tinhdoan.vn' "${M_P%.eml}.rcpt" &&
	! grep -q 'bithu' "${M_P%.eml}.rcpt" && [ "$(wc -l <"${M_D%.eml}.rcpt")" = 1 ] ||
	{ good=0; why="$why recipients"; }
cmp -s "$E2E_DIR/mail-p.html" "$E2E_DIR/web-p.html" && cmp -s "$E2E_DIR/mail-d.html" "$E2E_DIR/web-d.html" ||
	{ good=0; why="$why html differs from /digest/$D1"; }
grep -q 'Thành phố Phan Thiết' "$E2E_DIR/mail-d.html" && ! cmp -s "$E2E_DIR/mail-p.html" "$E2E_DIR/mail-d.html" ||
	{ good=0; why="$why district digest not the district's"; }
for k in status arrivals report; do
	f="digest-$D1-$k.csv"
	col=$(case $k in status) echo status_csv ;; arrivals) echo arrivals_csv ;; *) echo report_csv ;; esac)
	part "$M_P" "$f" "$E2E_DIR/att-$k.csv" || { good=0; why="$why no $f"; continue; }
	sqlite3 "$DB" "SELECT writefile('$E2E_DIR/rec-$k.csv', $col) FROM hub_digest_mail WHERE date='$D1' AND unit_id=''" >/dev/null
	cmp -s "$E2E_DIR/att-$k.csv" "$E2E_DIR/rec-$k.csv" || { good=0; why="$why $f differs from the record"; }
	cmp -s "$E2E_DIR/att-$k.csv" "$E2E_DIR/files/$f" || { good=0; why="$why $f differs from digest --out"; }
	head -c 3 "$E2E_DIR/att-$k.csv" | od -An -tx1 | grep -q 'ef bb bf' && grep -q "$(printf '\r')\$" "$E2E_DIR/att-$k.csv" ||
		{ good=0; why="$why $f lost its BOM or CRLF"; }
done
if [ $good = 1 ]; then
	ok digestmail__the_mail_is_the_digest_of_its_scope_with_intact_attachments
else
	fail digestmail__the_mail_is_the_digest_of_its_scope_with_intact_attachments "$why"
fi

# ---- twice: sent once ----
mail $D1 run2
if [ $RC = 0 ] && [ "$(count "$S1")" = 2 ] && grep -q '0 sent now, 2 sent before, 0 not sent' "$E2E_DIR/run2.out"; then
	ok digestmail__running_it_twice_sends_once
else
	fail digestmail__running_it_twice_sends_once "rc $RC, $(count "$S1") messages: $(cat "$E2E_DIR/run2.out")"
fi
stop $SINK_PID

# ---- a relay that keeps refusing; the next run sends ----
sink s2 --refuse 1000 || exit 1
relay "$SINK_PORT"
mail $D2 run3
rc3=$RC
rec3=$(sqlite3 "$DB" "SELECT attempts || ' ' || (sent_ms = 0) || ' ' || (error LIKE '%451%') FROM hub_digest_mail WHERE date='$D2' AND unit_id=''")
curl -s -o "$E2E_DIR/metrics" -H "Authorization: Bearer $TOKEN" "$HUB_URL/metrics"
curl -s -o "$E2E_DIR/page.html" -H "Cookie: lk_session=$C" "$HUB_URL/"
stop $SINK_PID
sink s3 || exit 1
relay "$SINK_PORT"
mail $D3 run4   # the next morning's run: sends its own digests and D2's, still unsent
rc4=$RC
curl -s -o "$E2E_DIR/metrics2" -H "Authorization: Bearer $TOKEN" "$HUB_URL/metrics"
if [ $rc3 = 75 ] && [ "$(count "$E2E_DIR/s2")" = 0 ] && [ "$(wc -l <"$E2E_DIR/s2/tries")" = 6 ] &&
   [ "$rec3" = "3 1 1" ] &&
   grep -q '^lienket_digest_unsent 2$' "$E2E_DIR/metrics" &&
   grep -q '^lienket_digest_send_failures_total [1-9]' "$E2E_DIR/metrics" &&
   grep -q 'Thư báo cáo buổi sáng chưa gửi được' "$E2E_DIR/page.html" &&
   [ $rc4 = 0 ] && [ "$(count "$E2E_DIR/s3")" = 4 ] && [ "$(wc -l <"$E2E_DIR/s3/tries")" = 4 ] &&
   [ "$(grep -l 'Subject: .*' "$E2E_DIR"/s3/msg-*.eml | wc -l)" = 4 ] &&
   [ "$(sqlite3 "$DB" "SELECT count(*) FROM hub_digest_mail WHERE sent_ms > 0")" = 6 ] &&
   grep -q '^lienket_digest_unsent 0$' "$E2E_DIR/metrics2" &&
   grep -q '^lienket_digest_last_sent_timestamp_seconds [1-9]' "$E2E_DIR/metrics2"; then
	ok digestmail__a_failed_send_shows_and_is_sent_once_by_the_next_run
else
	fail digestmail__a_failed_send_shows_and_is_sent_once_by_the_next_run \
		"run3 rc $rc3 ($(count "$E2E_DIR/s2") received), run4 rc $rc4 ($(count "$E2E_DIR/s3") received); $(grep digest "$E2E_DIR/metrics" | grep -v '^#' | tr '\n' ' ')"
fi

# ---- TLS: STARTTLS required, SMTPS, and no plain text unless asked for ----
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
	-addext "subjectAltName=IP:127.0.0.1" -keyout "$E2E_DIR/key.pem" -out "$E2E_DIR/cert.pem" \
	>/dev/null 2>&1
D4=2026-11-23; D5=2026-11-24; D6=2026-11-25
sink s4 --tls starttls --cert "$E2E_DIR/cert.pem" --key "$E2E_DIR/key.pem" || exit 1
relay "$SINK_PORT" --ca-file "$E2E_DIR/cert.pem"
mail $D4 run5; rc5=$RC
stop $SINK_PID
sink s5 --tls smtps --cert "$E2E_DIR/cert.pem" --key "$E2E_DIR/key.pem" || exit 1
"$HUB" mail relay --db "$DB" --url "smtps://127.0.0.1:$SINK_PORT" --from "baocao@tinhdoan.vn" \
	--user lienket --password-file "$E2E_DIR/relay.pw" --ca-file "$E2E_DIR/cert.pem" >/dev/null 2>&1
mail $D5 run6; rc6=$RC
stop $SINK_PID
sink s6 || exit 1   # offers no STARTTLS
relay "$SINK_PORT" --ca-file "$E2E_DIR/cert.pem"
"$HUB" digest --db "$DB" --mail --date $D6 --tries 1 >"$E2E_DIR/run7.out" 2>"$E2E_DIR/run7.err"; rc7=$?
"$HUB" mail relay --db "$DB" --url "smtp://mail.example.vn:25" --from a@b.vn --plain \
	>"$E2E_DIR/plain-remote.out" 2>&1; rc8=$?
stop $SINK_PID
if [ $rc5 = 0 ] && [ "$(count "$E2E_DIR/s4")" = 2 ] && [ $rc6 = 0 ] && [ "$(count "$E2E_DIR/s5")" = 2 ] &&
   [ $rc7 = 75 ] && [ "$(count "$E2E_DIR/s6")" = 0 ] && [ ! -e "$E2E_DIR/s6/tries" ] && [ $rc8 = 65 ]; then
	ok digestmail__starttls_is_required_smtps_works_and_plain_only_to_this_machine
else
	fail digestmail__starttls_is_required_smtps_works_and_plain_only_to_this_machine \
		"starttls $rc5 ($(count "$E2E_DIR/s4")), smtps $rc6 ($(count "$E2E_DIR/s5")), no-tls relay $rc7 ($(count "$E2E_DIR/s6")), plain remote $rc8; $(tail -2 "$E2E_DIR/run5.err" "$E2E_DIR/run6.err" | tr '\n' ' ')"
fi

# ---- refused settings ----
"$HUB" mail relay --db "$DB" --url "http://127.0.0.1:1" --from a@b.vn >"$E2E_DIR/bad1.out" 2>&1; r1=$?
"$HUB" mail add "khong phai dia chi" --db "$DB" >"$E2E_DIR/bad2.out" 2>&1; r2=$?
"$HUB" mail relay --db "$DB" --url "smtp://127.0.0.1:1" --from "x" >"$E2E_DIR/bad3.out" 2>&1; r3=$?
if [ $r1 = 65 ] && [ $r2 = 65 ] && [ $r3 = 65 ] && "$HUB" mail list --db "$DB" >"$E2E_DIR/list.out" 2>&1 &&
   grep -q 'login lienket' "$E2E_DIR/list.out" && ! grep -q 'mat khau' "$E2E_DIR/list.out"; then
	ok digestmail__relay_settings_are_checked_and_the_password_never_shown
else
	fail digestmail__relay_settings_are_checked_and_the_password_never_shown "$r1 $r2 $r3 $(cat "$E2E_DIR/list.out")"
fi
e2e_finish
