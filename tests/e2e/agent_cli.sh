#!/bin/sh
# agent_cli — what the office reads from `sync` and `status` (issue 13, "the command
# line learns the same"), with the real binaries: `status` never says the laptop
# matches the hub while changes wait; the library's English (curl's errors, HTTP lines)
# only with --verbose; a CA file that is missing, or not the one the hub's certificate
# comes from, is a set-up error (exit 78, "ask the province for the certificate"), not
# "try later" — against a real hub serving HTTPS.
#
# Every process started is stopped by PID on exit (lib.sh). Run from the repository
# root; $LK_BIN holds the binaries.
set -u
. tests/e2e/lib.sh

UNITS=tests/fixtures/units-small.csv
DB="$E2E_DIR/hub.db"
A1="$E2E_DIR/c1.db"

setup() {
	"$HUB" init --db "$DB" --units "$UNITS" >"$E2E_DIR/init.out" 2>&1 || return 1
	"$HUB" enroll --db "$DB" --unit 22915 >"$E2E_DIR/c1.tok" 2>/dev/null || return 1
	TOKEN=$(sed -n 's/^token: //p' "$E2E_DIR/c1.tok")
	UNIT=$(sed -n 's/^unit: //p' "$E2E_DIR/c1.tok")
	hub_start "$DB" hub || return 1
	ag init "$A1" init --unit "$UNIT" --hub "$HUB_URL" --token "$TOKEN"
	[ "$RC" = 0 ] || return 1
	ag add1 "$A1" add person "full_name=Nguyễn Thị Hoa"
	[ "$RC" = 0 ] || return 1
	ag sync1 "$A1" sync
	[ "$RC" = 0 ]
}

if ! setup; then
	fail agent_cli__setup "$(say init) $(say sync1) $(tail -3 "$E2E_DIR/init.out" 2>/dev/null | tr '\n' ' ')"
	e2e_finish
fi

# 1. In step after a sync; one more record and status no longer says so.
ag st1 "$A1" status
ag st1j "$A1" status --json
ag add2 "$A1" add person "full_name=Đỗ Văn Nam"
ag st2 "$A1" status
if grep -q "The data matches the province hub" "$E2E_DIR/st1.out" &&
	! grep -q "The data matches the province hub" "$E2E_DIR/st2.out" &&
	grep -q "1 changes wait to be sent" "$E2E_DIR/st2.out"; then
	ok agent_cli__status_never_matches_the_hub_while_changes_wait
else
	fail agent_cli__status_never_matches_the_hub_while_changes_wait "before: $(say st1) after: $(say st2)"
fi
ag st2j "$A1" status --json
if grep -q '"matches_hub":true' "$E2E_DIR/st1j.out" && grep -q '"matches_hub":false' "$E2E_DIR/st2j.out"; then
	ok agent_cli__status_json_says_matches_hub_false_while_changes_wait
else
	fail agent_cli__status_json_says_matches_hub_false_while_changes_wait "$(say st2j)"
fi

# 2. The hub gone: the office reads Vietnamese (or English by locale) advice, never
# curl's words; --verbose adds them. A refused token: no HTTP status line either.
stop "$HUB_PID_hub"
ag down "$A1" sync
ag downv "$A1" sync --verbose
if [ "$RC" = 75 ] && ! grep -qi "curl\|couldn't\|connect to\|lienket-agent:" "$E2E_DIR/down.err" &&
	grep -q "Cannot reach the province hub" "$E2E_DIR/down.err" &&
	grep -qi "couldn't connect\|connection refused\|failed to connect" "$E2E_DIR/downv.err"; then
	ok agent_cli__library_text_only_with_verbose
else
	fail agent_cli__library_text_only_with_verbose "plain: $(say down) verbose: $(say downv)"
fi
hub_start "$DB" hub2 || fail agent_cli__hub_restart "$(tail -3 "$E2E_DIR/hub2.log")"
ag cfgtok "$A1" config --token "lk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" --hub "$HUB_URL"
ag badtok "$A1" sync
ag badtokv "$A1" sync --verbose
if [ "$RC" = 77 ] && ! grep -q "HTTP\|POST\|GET /" "$E2E_DIR/badtok.err" && grep -q "HTTP 401" "$E2E_DIR/badtokv.err"; then
	ok agent_cli__http_lines_only_with_verbose
else
	fail agent_cli__http_lines_only_with_verbose "rc $RC plain: $(say badtok) verbose: $(say badtokv)"
fi
ag cfgtok2 "$A1" config --token "$TOKEN"
stop "$HUB_PID_hub2"

# 3. HTTPS: the hub's own certificate, and another one the hub was not issued by.
cert() { # cert NAME — a throw-away self-signed certificate for 127.0.0.1
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$E2E_DIR/$1.key" \
		-out "$E2E_DIR/$1.pem" >>"$E2E_DIR/openssl.log" 2>&1
}
if cert hubcert && cert other; then
	rm -f "$E2E_DIR/tls.port"
	"$HUB" serve --db "$DB" --listen 127.0.0.1:0 --port-file "$E2E_DIR/tls.port" \
		--cert "$E2E_DIR/hubcert.pem" --key "$E2E_DIR/hubcert.key" >>"$E2E_DIR/tls.log" 2>&1 &
	TLS_PID=$!
	e2e_track $TLS_PID
	if wait_file "$E2E_DIR/tls.port" 100; then
		TLS_URL="https://127.0.0.1:$(cat "$E2E_DIR/tls.port")"
		ag cfgok "$A1" config --hub "$TLS_URL" --ca-file "$E2E_DIR/hubcert.pem"
		ag tlsok "$A1" sync
		rc_ok=$RC
		ag cfgwrong "$A1" config --ca-file "$E2E_DIR/other.pem"
		AGENT_LANG=vi_VN.UTF-8 ag wrong "$A1" sync
		rc_wrong=$RC
		ag wrongst "$A1" status
		if [ "$rc_ok" = 0 ] && [ "$rc_wrong" = 78 ] && grep -q "hãy xin Tỉnh đoàn tệp chứng chỉ" "$E2E_DIR/wrong.err" &&
			grep -q "(ca_file)" "$E2E_DIR/wrongst.out"; then
			ok agent_cli__wrong_ca_file_is_a_setup_error
		else
			fail agent_cli__wrong_ca_file_is_a_setup_error "right CA: $rc_ok $(say tlsok); other CA: $rc_wrong $(say wrong)"
		fi
		cp "$E2E_DIR/hubcert.pem" "$E2E_DIR/gone.pem"
		ag cfggone "$A1" config --ca-file "$E2E_DIR/gone.pem"
		rm -f "$E2E_DIR/gone.pem"
		AGENT_LANG=vi_VN.UTF-8 ag gone "$A1" sync
		if [ "$RC" = 78 ] && grep -q "hãy xin Tỉnh đoàn tệp chứng chỉ" "$E2E_DIR/gone.err" &&
			! grep -q "thử lại sau" "$E2E_DIR/gone.err"; then
			ok agent_cli__missing_ca_file_is_a_setup_error
		else
			fail agent_cli__missing_ca_file_is_a_setup_error "rc $RC $(say gone)"
		fi
	else
		fail agent_cli__tls_hub "did not start: $(tail -3 "$E2E_DIR/tls.log" | tr '\n' ' ')"
	fi
	stop "$TLS_PID"
else
	fail agent_cli__tls_hub "openssl cannot make a test certificate: $(tail -1 "$E2E_DIR/openssl.log")"
fi

# 4. Nothing the sanitizers complained about.
if grep -q "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$E2E_DIR"/*.err "$E2E_DIR"/*.log 2>/dev/null; then
	fail agent_cli__clean_under_sanitizers "$(grep -l "Sanitizer\|runtime error" "$E2E_DIR"/*.err "$E2E_DIR"/*.log | head -3)"
else
	ok agent_cli__clean_under_sanitizers
fi
e2e_finish
