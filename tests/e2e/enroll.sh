#!/bin/sh
# enroll — the province's enrolment tools, with the real lienket-hub and lienket-agent:
# `agents list` (a header, unit names, Vietnam times), `backup` refusing an existing
# file and `init` an existing database as a usage error (73), `enroll --csv` writing one
# printable sheet per office with a join code and its QR code, and `lienket-agent init
# --join CODE` setting a laptop up from that one string: a mistyped code is refused in
# Vietnamese, a hub whose key is not pinned is refused by a real HTTPS hub with a
# throw-away certificate, the pinned one syncs.
# Run from the repository root; $LK_BIN holds lienket-hub and lienket-agent.
set -u
. tests/e2e/lib.sh

UNITS=tests/fixtures/units-small.csv
DB="$E2E_DIR/hub.db"
if [ ! -x "$HUB" ] || [ ! -x "$AGENT" ]; then
	fail enroll__binaries_are_built "'$HUB' or '$AGENT' missing"
	e2e_finish
fi
"$HUB" init --db "$DB" --units "$UNITS" >"$E2E_DIR/init.log" 2>&1 ||
	{ fail enroll__hub_init "$(tail -3 "$E2E_DIR/init.log" | tr '\n' ' ')"; e2e_finish; }

# ---- agents list -----------------------------------------------------------------
"$HUB" enroll --db "$DB" --unit 22915 --name "Máy kế toán" >"$E2E_DIR/e1.out" 2>&1
"$HUB" agents list --db "$DB" >"$E2E_DIR/list.out" 2>"$E2E_DIR/list.err"; rc=$?
head1=$(head -n 1 "$E2E_DIR/list.out")
row=$(sed -n 2p "$E2E_DIR/list.out")
if [ $rc = 0 ] && [ "$head1" = "$(printf 'token\tkind\tunit id\tagent\tname\tstate\tacked\tlast contact\tunit')" ] &&
	[ "$(printf '%s' "$row" | awk -F'\t' '{ print $8 "|" $9 }')" = "never|22915 Phường Mũi Né" ]; then
	ok enroll__agents_list_has_a_header_unit_names_and_readable_times
else
	fail enroll__agents_list_has_a_header_unit_names_and_readable_times "rc $rc, '$head1' / '$row'"
fi

# ---- backup to an existing file ----------------------------------------------------
: >"$E2E_DIR/exists.db"
"$HUB" backup --db "$DB" "$E2E_DIR/exists.db" >"$E2E_DIR/bk.out" 2>"$E2E_DIR/bk.err"; rc=$?
if [ $rc = 73 ] && grep -q "exists" "$E2E_DIR/bk.err" && [ ! -s "$E2E_DIR/exists.db" ]; then
	ok enroll__backup_to_an_existing_file_is_a_usage_error_73
else
	fail enroll__backup_to_an_existing_file_is_a_usage_error_73 "rc $rc: $(cat "$E2E_DIR/bk.err" | tr '\n' ' ')"
fi

# ---- init over an existing database -------------------------------------------------
# The same usage error as backup's (73), with and without --units: the hub's database
# (its tokens, its hub id) is left as it was.
sum_before=$(sha256sum <"$DB")
"$HUB" init --db "$DB" >"$E2E_DIR/reinit.out" 2>"$E2E_DIR/reinit.err"; rc1=$?
"$HUB" init --db "$DB" --units "$UNITS" >"$E2E_DIR/reinit2.out" 2>"$E2E_DIR/reinit2.err"; rc2=$?
if [ $rc1 = 73 ] && [ $rc2 = 73 ] && grep -q "exists" "$E2E_DIR/reinit.err" &&
	[ "$(sha256sum <"$DB")" = "$sum_before" ] && [ ! -s "$E2E_DIR/reinit.out" ]; then
	ok enroll__hub_init_over_an_existing_database_is_a_usage_error_73
else
	fail enroll__hub_init_over_an_existing_database_is_a_usage_error_73 "rc $rc1 and $rc2 (want 73); $(cat "$E2E_DIR/reinit.err" "$E2E_DIR/reinit2.err" | tr '\n' ' ')"
fi

# ---- keys and certificates: the hub's, a backup key, and a key nobody pinned ---------
# cert_for NAME KEYFILE — a throw-away certificate for 127.0.0.1 with that key.
cert_for() {
	openssl req -x509 -key "$2" -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		-out "$E2E_DIR/$1" >>"$E2E_DIR/openssl.log" 2>&1
}
for k in hub backup other; do
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$E2E_DIR/$k.key" \
		>>"$E2E_DIR/openssl.log" 2>&1
done
if ! cert_for hub.pem "$E2E_DIR/hub.key" || ! cert_for renewed.pem "$E2E_DIR/backup.key" ||
	! cert_for other.pem "$E2E_DIR/other.key"; then
	fail enroll__test_certificates "$(tail -2 "$E2E_DIR/openssl.log" | tr '\n' ' ')"
	e2e_finish
fi
# The public half of the backup key only: the private key stays off the server.
openssl pkey -in "$E2E_DIR/backup.key" -pubout -out "$E2E_DIR/backup.pub" 2>>"$E2E_DIR/openssl.log"

# tls_hub NAME DB CERT KEY — an HTTPS hub; sets HUB_PID_<NAME>, PORT_<NAME>.
tls_hub() {
	rm -f "$E2E_DIR/$1.port"
	"$HUB" serve --db "$2" --listen 127.0.0.1:0 --port-file "$E2E_DIR/$1.port" --cert "$3" --key "$4" \
		>>"$E2E_DIR/$1.log" 2>&1 &
	e2e_track $!
	eval "HUB_PID_$1=$!"
	wait_file "$E2E_DIR/$1.port" 100 || return 1
	eval "PORT_$1=$(cat "$E2E_DIR/$1.port")"
}
tls_hub main "$DB" "$E2E_DIR/hub.pem" "$E2E_DIR/hub.key" ||
	{ fail enroll__https_hub_starts "$(tail -3 "$E2E_DIR/main.log" | tr '\n' ' ')"; e2e_finish; }
URL="https://127.0.0.1:$PORT_main"
ntokens() { "$HUB" agents list --db "$1" | tail -n +2 | wc -l; }

# ---- enroll --csv ------------------------------------------------------------------
printf 'unit,name\n22915,Văn phòng Đoàn phường Mũi Né\n22918,"Đoàn phường Hàm Tiến, máy 1"\n' >"$E2E_DIR/offices.csv"
before=$(ntokens "$DB")
"$HUB" enroll --db "$DB" --csv "$E2E_DIR/offices.csv" --hub "$URL" --pin "$E2E_DIR/hub.pem" \
	--pin "$E2E_DIR/backup.pub" --out "$E2E_DIR/sheets" >"$E2E_DIR/csv.out" 2>"$E2E_DIR/csv.err"; rc=$?
S1=$(ls "$E2E_DIR/sheets"/001-22915.html 2>/dev/null)
S2=$(ls "$E2E_DIR/sheets"/002-22918.html 2>/dev/null)
code_of() { sed -n 's/.*<p class="code">\([^<]*\)<\/p>.*/\1/p' "$1"; }
CODE1=$(code_of "$S1" 2>/dev/null); CODE2=$(code_of "$S2" 2>/dev/null)
if [ $rc = 0 ] && [ -n "$S1" ] && [ -n "$S2" ] && [ "$(ls "$E2E_DIR/sheets" | wc -l)" = 2 ] &&
	[ "$(ntokens "$DB")" = $((before + 2)) ] &&
	grep -q 'Phiếu kết nối Liên Kết' "$S1" && grep -q 'Văn phòng Đoàn phường Mũi Né' "$S1" &&
	grep -q '22915 Phường Mũi Né' "$S1" && grep -q '<svg xmlns="http://www.w3.org/2000/svg" class="qr"' "$S1" &&
	grep -q 'Đoàn phường Hàm Tiến, máy 1' "$S2" && grep -q '@page{size:A4' "$S2" &&
	case "$CODE1" in LK1.*) true ;; *) false ;; esac && [ "$CODE1" != "$CODE2" ] &&
	! grep -Eq 'lk_[A-Za-z0-9_-]{43}' "$E2E_DIR/csv.out" "$E2E_DIR/csv.err" &&
	"$HUB" agents list --db "$DB" | grep -q "Đoàn phường Hàm Tiến, máy 1"; then
	ok enroll__csv_writes_a_sheet_per_office_with_its_join_code_and_qr
else
	fail enroll__csv_writes_a_sheet_per_office_with_its_join_code_and_qr "rc $rc, sheets '$(ls "$E2E_DIR/sheets" 2>&1 | tr '\n' ' ')', code '$CODE1': $(cat "$E2E_DIR/csv.err" | tr '\n' ' ')"
fi
# The QR code holds the code printed under it: its module count is what the QR standard
# gives for a text of that length (the smallest version holding it at error correction M).
if command -v python3 >/dev/null && [ -n "$S1" ]; then
	w=$(python3 -c 'import re,sys; print(re.search(r"viewBox=\"0 0 (\d+)", open(sys.argv[1]).read()).group(1))' "$S1")
	n=${#CODE1}
	# byte mode, level M: version 10 holds 213 bytes, 11: 251, 12: 287, 13: 331, 14: 362, 15: 412
	if [ "$n" -le 213 ]; then v=10; elif [ "$n" -le 251 ]; then v=11; elif [ "$n" -le 287 ]; then v=12;
	elif [ "$n" -le 331 ]; then v=13; elif [ "$n" -le 362 ]; then v=14; else v=15; fi
	if [ "$w" = $((17 + 4 * v + 8)) ]; then ok enroll__sheet_qr_code_has_the_size_of_its_code
	else fail enroll__sheet_qr_code_has_the_size_of_its_code "code of $n characters, svg $w modules, expected version $v"; fi
fi

# A unit that does not exist: no token, no sheet.
printf 'unit,name\n22915,Một\n99999,Không có\n' >"$E2E_DIR/bad.csv"
before=$(ntokens "$DB")
"$HUB" enroll --db "$DB" --csv "$E2E_DIR/bad.csv" --hub "$URL" --pin "$E2E_DIR/hub.pem" \
	--pin "$E2E_DIR/backup.pub" --out "$E2E_DIR/bad-sheets" >"$E2E_DIR/bad.out" 2>"$E2E_DIR/bad.err"; rc=$?
if [ $rc = 65 ] && grep -q "line 3: unknown unit '99999'" "$E2E_DIR/bad.err" && [ "$(ntokens "$DB")" = "$before" ] &&
	[ -z "$(ls "$E2E_DIR/bad-sheets" 2>/dev/null)" ]; then
	ok enroll__csv_with_an_unknown_unit_makes_no_token_and_no_sheet
else
	fail enroll__csv_with_an_unknown_unit_makes_no_token_and_no_sheet "rc $rc, tokens $(ntokens "$DB") (were $before): $(cat "$E2E_DIR/bad.err" | tr '\n' ' ')"
fi
# Sheets are never replaced: the same folder again is refused before any token.
"$HUB" enroll --db "$DB" --csv "$E2E_DIR/offices.csv" --hub "$URL" --pin "$E2E_DIR/hub.pem" \
	--pin "$E2E_DIR/backup.pub" --out "$E2E_DIR/sheets" >"$E2E_DIR/again.out" 2>"$E2E_DIR/again.err"; rc=$?
if [ $rc = 73 ] && [ "$(ntokens "$DB")" = "$before" ] && [ "$(code_of "$S1")" = "$CODE1" ]; then
	ok enroll__csv_never_replaces_a_sheet
else
	fail enroll__csv_never_replaces_a_sheet "rc $rc: $(cat "$E2E_DIR/again.err" | tr '\n' ' ')"
fi
# One pin for https is no backup: refused as a usage error.
"$HUB" enroll --db "$DB" --csv "$E2E_DIR/offices.csv" --hub "$URL" --pin "$E2E_DIR/hub.pem" \
	--out "$E2E_DIR/one-pin" >"$E2E_DIR/onepin.out" 2>"$E2E_DIR/onepin.err"; rc=$?
if [ $rc = 64 ] && [ "$(ntokens "$DB")" = "$before" ]; then
	ok enroll__csv_wants_a_backup_key_pinned_for_https
else
	fail enroll__csv_wants_a_backup_key_pinned_for_https "rc $rc: $(cat "$E2E_DIR/onepin.err" | tr '\n' ' ')"
fi

# ---- init --join -------------------------------------------------------------------
# One character of the code mistyped: refused in Vietnamese, no database made.
pos=40
c=$(printf '%s' "$CODE1" | cut -c$pos)
if [ "$c" = A ]; then r=B; else r=A; fi
BAD=$(printf '%s' "$CODE1" | cut -c1-$((pos - 1)))$r$(printf '%s' "$CODE1" | cut -c$((pos + 1))-)
AGENT_LANG=vi_VN.UTF-8 ag mistyped "$E2E_DIR/mistyped.db" init --join "$BAD"
if [ "$RC" = 64 ] && grep -q 'Mã tham gia bị gõ sai' "$E2E_DIR/mistyped.err" && [ ! -e "$E2E_DIR/mistyped.db" ]; then
	ok join__a_mistyped_code_is_refused_in_vietnamese
else
	fail join__a_mistyped_code_is_refused_in_vietnamese "rc $RC: $(say mistyped)"
fi

# The code sets everything; the laptop then syncs with the hub whose key is pinned.
A1="$E2E_DIR/office1.db"
ag join1 "$A1" init --join "$CODE1"
rc_init=$RC
ag cfg1 "$A1" config
ag ca1 "$A1" config --ca-file "$E2E_DIR/hub.pem"
ag add1 "$A1" add member full_name="Nguyễn Văn An" birth_date=2001-02-03 gender=nam joined_on=2020-01-01
ag sync1 "$A1" sync
if [ $rc_init = 0 ] && [ "$RC" = 0 ] && grep -q "Hub: $URL" "$E2E_DIR/cfg1.out" &&
	grep -q 'Pinned hub keys: sha256//' "$E2E_DIR/cfg1.out" &&
	"$HUB" agents list --db "$DB" | grep 'Mũi Né' | awk -F'\t' '$4 != "-"' | grep -q '+07'; then
	ok join__init_sets_hub_unit_token_and_pins_and_syncs
else
	fail join__init_sets_hub_unit_token_and_pins_and_syncs "init $rc_init, sync $RC: $(say join1) $(say sync1)"
fi

# A second hub, with the same database copied: first with a certificate renewed with the
# backup key (accepted), then with a key nobody pinned (refused before any request).
stop "$HUB_PID_main"
cp "$DB" "$E2E_DIR/hub2.db"
A2="$E2E_DIR/office2.db"
ag join2 "$A2" init --join "$CODE2"
ag add2 "$A2" add member full_name="Trần Thị Bình" birth_date=2002-03-04 gender=nu joined_on=2021-01-01
tls_hub renewed "$DB" "$E2E_DIR/renewed.pem" "$E2E_DIR/backup.key"
# The code names the first hub's port: point the laptop at the renewed hub's.
ag url2 "$A2" config --hub "https://127.0.0.1:$PORT_renewed" --ca-file "$E2E_DIR/renewed.pem"
ag sync2 "$A2" sync
if [ "$RC" = 0 ]; then
	ok join__a_certificate_renewed_with_the_backup_key_is_accepted
else
	fail join__a_certificate_renewed_with_the_backup_key_is_accepted "sync $RC: $(say sync2)"
fi
stop "$HUB_PID_renewed"
tls_hub other "$E2E_DIR/hub2.db" "$E2E_DIR/other.pem" "$E2E_DIR/other.key"
ag url3 "$A1" config --hub "https://127.0.0.1:$PORT_other" --ca-file "$E2E_DIR/other.pem"
ag add3 "$A1" add member full_name="Lê Văn Cường" birth_date=2003-04-05 gender=nam joined_on=2022-01-01
ag sync3 "$A1" sync --verbose # the TLS library's words: only with --verbose
sleep 0.3
# exit 75 and the agent's "certificate could not be verified" (a key not pinned is a
# certificate refused), and the hub received no request.
if [ "$RC" = 75 ] && grep -qi 'certificate' "$E2E_DIR/sync3.err" && ! grep -q '/v1/' "$E2E_DIR/other.log"; then
	ok join__a_hub_whose_key_is_not_pinned_is_refused
else
	fail join__a_hub_whose_key_is_not_pinned_is_refused "sync $RC: $(say sync3) / hub log: $(tail -2 "$E2E_DIR/other.log" | tr '\n' ' ')"
fi

e2e_finish
