#!/bin/sh
# windows — the agent built for Windows (make win: build/win, mingw-w64) run under Wine
# against the real Linux lienket-hub on loopback (issue 16, "The agent on Windows").
#
#   - the Windows builds of the unit suites (win.mk WIN_UNIT: the protocol's and the
#     agent's, the same cases as on Debian) run under Wine; their cmocka lines are
#     printed here, so scripts/run-tests.sh counts them in the closing line;
#   - `init --join` with the office's join code (PROTOCOL.md §12, from `enroll --csv`)
#     in a folder and a database file with Vietnamese letters (the wide-character
#     edge, agent/plat_win.c), records added with Vietnamese text from the command line
#     and from a CSV file, and printed back through the console;
#   - the office app (`app`: libmicrohttpd built for Windows) serving its page and API;
#   - sync to the hub (plain HTTP is allowed on loopback only: agent/transport_curl.c),
#     and to an HTTPS hub through Schannel with the join code's pinned keys: a certificate
#     renewed with the backup key accepted, a key not pinned refused;
#   - a sync cut in the middle of a change set (the faultproxy in front of the hub is
#     stopped once the hub has taken one change set and the next is on the wire), a
#     second sync meanwhile refused by the lock (LockFileEx, agent/synclock_win.c), and
#     the resumed sync: every entry applied by the hub exactly once, the same rows on
#     both sides;
#   - the installer (NSIS) run silently with a join code: per user, the office joined,
#     shortcuts, the logon entry; the
#     background sync it registers (lienket-sync.exe daemon) syncs a new record; the
#     uninstaller removes the program and keeps the office's data.
#
# Wine: Debian's wine64, headless (DISPLAY empty), a private prefix under this run's
# temporary folder, Mono, Gecko and the desktop-menu builder disabled (they cannot be
# downloaded and are not needed), `wineserver -k` at the end. HOME points into the
# temporary folder too, so Wine touches nothing of the user's.
# Prints one cmocka-style line per case; every process started is stopped by PID (and
# the Windows ones by wineserver -k). Run from the repository root.
set -u
. tests/e2e/lib.sh

WIN_B=${WIN_B:-build/win}
WAGENT="$WIN_B/lienket-agent.exe"
SETUP=$(ls "$WIN_B"/lienket-setup-*.exe 2>/dev/null | head -n 1)
PROXY="$LK_BIN/tools/faultproxy"
WINE=${WINE:-/usr/lib/wine/wine64}
WINESERVER=${WINESERVER:-/usr/lib/wine/wineserver}
UNITS=tests/fixtures/units-small.csv
COMMUNE_CODE=22915
HDB="$E2E_DIR/hub.db"
HLOG="$E2E_DIR/hub.log"
export WINEPREFIX="$E2E_DIR/wine"
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
export WINEDEBUG=-all
export DISPLAY=
mkdir -p "$E2E_DIR/home"

win_cleanup() {
	[ -d "$WINEPREFIX" ] && "$WINESERVER" -k >/dev/null 2>&1
	e2e_cleanup
}
trap win_cleanup EXIT

# w PROGRAM ARGS... — runs a Windows program under Wine. C.UTF-8: Wine converts the
# arguments from UTF-8 (the agent then reads them as UTF-16, plat_win.c); the agent
# speaks Vietnamese (its default on Windows, where LC_ALL means nothing).
w() { HOME="$E2E_DIR/home" LC_ALL=C.UTF-8 "$WINE" "$@"; }

# wa NAME COMMAND ARGS... — the Windows agent; stdout in $E2E_DIR/NAME.out, stderr in
# NAME.err; sets RC.
wa() {
	n=$1
	shift
	w "$WAGENT" "$@" >"$E2E_DIR/$n.out" 2>"$E2E_DIR/$n.err"
	RC=$?
	return 0
}

# st KEY — a top-level member of the Windows agent's `status --json` of the laptop.
st() {
	wa st status --db "$WDB" --json
	python3 -c 'import json, sys
v = json.load(open(sys.argv[1])).get(sys.argv[2])
print("null" if v is None else v)' "$E2E_DIR/st.out" "$1" 2>/dev/null
}

# winpath PATH — the Windows name of an absolute Unix path (Wine's drive Z: is /).
winpath() { printf 'Z:%s' "$1" | tr / '\\'; }

for bin in "$HUB" "$PROXY" "$WAGENT" "$WINE" "$WINESERVER"; do
	if [ ! -x "$bin" ] && [ ! -f "$bin" ]; then
		fail windows__programs_are_built "'$bin' missing (make win; scripts/deps.sh --check-or-install test)"
		e2e_finish
	fi
done

# ---- the unit suites built for Windows -------------------------------------------
# The first Wine start creates the prefix (about 10 s); later starts take a fraction.
w wineboot -i >"$E2E_DIR/wineboot.log" 2>&1
# All at once: most of their time is Wine's start and the wineserver round trips.
nunit=0
upids=""
for t in "$WIN_B"/tests/test_*.exe; do
	[ -f "$t" ] || continue
	nunit=$((nunit + 1))
	name=$(basename "$t" .exe)
	(w "$t" >"$E2E_DIR/$name.log" 2>&1; echo $? >"$E2E_DIR/$name.rc") &
	upids="$upids $!"
	e2e_track $!
done
for p in $upids; do wait "$p"; done
for t in "$WIN_B"/tests/test_*.exe; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .exe)
	rc=$(cat "$E2E_DIR/$name.rc" 2>/dev/null || echo none)
	# cmocka's own lines, counted by scripts/run-tests.sh like the Debian suites'
	tr -d '\r' <"$E2E_DIR/$name.log" | grep -E '^\[ *(OK|FAILED|SKIPPED) *\]'
	if [ "$rc" != 0 ] && ! grep -q '^\[  FAILED  \]' "$E2E_DIR/$name.log"; then
		fail "windows__${name}_runs" "exit $rc: $(tail -3 "$E2E_DIR/$name.log" | tr '\n' ' ')"
	fi
done
[ "$nunit" -gt 0 ] || fail windows__unit_suites_are_built "no $WIN_B/tests/test_*.exe (make win)"

# ---- the hub (Linux), the office's join code ---------------------------------------
if ! "$HUB" init --db "$HDB" --units "$UNITS" >"$E2E_DIR/init.log" 2>&1 || ! hub_start "$HDB" hub; then
	fail windows__hub_starts "$(tail -3 "$E2E_DIR/init.log" "$HLOG" | tr '\n' ' ')"
	e2e_finish
fi
UNIT=$("$HUB" units list --db "$HDB" 2>/dev/null | awk -F'\t' -v c="$COMMUNE_CODE" '$2 == c { print $1 }')
enroll() {
	"$HUB" enroll --db "$HDB" --unit "$COMMUNE_CODE" --name "$1" >"$E2E_DIR/enroll-$1.out" 2>&1
	sed -n 's/^token: *\(lk_[A-Za-z0-9_-]*\).*/\1/p' "$E2E_DIR/enroll-$1.out" | head -n 1
}
printf 'unit,name\n%s,Văn phòng Đoàn xã trên Windows\n' "$COMMUNE_CODE" >"$E2E_DIR/offices.csv"
"$HUB" enroll --db "$HDB" --csv "$E2E_DIR/offices.csv" --hub "$HUB_URL" --out "$E2E_DIR/sheets" \
	>"$E2E_DIR/enroll.out" 2>&1
CODE=$(sed -n 's/.*<p class="code">\([^<]*\)<\/p>.*/\1/p' "$E2E_DIR/sheets"/*.html 2>/dev/null | head -n 1)
if [ -z "$UNIT" ] || [ -z "$CODE" ]; then
	fail windows__enroll "unit '$UNIT', join code '$CODE'; $(tr '\n' ' ' <"$E2E_DIR/enroll.out")"
	e2e_finish
fi

# ---- init in a folder with Vietnamese letters ------------------------------------
FOLDER="$E2E_DIR/Văn phòng Đoàn xã Hòa Thắng"
mkdir -p "$FOLDER"
LDB="$FOLDER/dữ liệu.db"
WDB=$(winpath "$LDB")
wa init init --db "$WDB" --join "$CODE"
if [ "$RC" = 0 ] && [ -s "$LDB" ] && [ "$(ls "$FOLDER" | grep -c -v '^dữ liệu\.db')" = 0 ] &&
	[ "$(st unit)" = "$UNIT" ] && [ "$(st hub)" = "$HUB_URL" ]; then
	ok windows__init_join_in_a_folder_with_vietnamese_letters
else
	fail windows__init_join_in_a_folder_with_vietnamese_letters "exit $RC; folder holds: $(ls "$FOLDER" | tr '\n' '|'); $(say init)"
	e2e_finish
fi

# ---- records added: Vietnamese from the command line, a CSV file, the console ------
wa a1 add --db "$WDB" person "full_name=Nguyễn Thị Hoa" birth_year=1998 gender=nu; rc1=$RC
wa a2 add --db "$WDB" meeting kind=joint held_on=2021-03-14 commune_secretary_attended=1 \
	attendees=23 "concerns=Thiếu kinh phí, \"sân chơi\""; rc2=$RC
printf '\357\273\277full_name,birth_year,gender\r\n"Lê Thị Mai, con",2001,nu\r\nPhạm Quốc Việt,1999,nam\r\n' \
	>"$FOLDER/đoàn viên.csv"
wa a3 import --db "$WDB" person "$(winpath "$FOLDER/đoàn viên.csv")"; rc3=$RC
wa list list --db "$WDB" person
if [ "$rc1$rc2$rc3$RC" = 0000 ] && grep -q 'Nguyễn Thị Hoa' "$E2E_DIR/list.out" &&
	grep -q 'Lê Thị Mai, con' "$E2E_DIR/list.out" &&
	[ "$(sqlite3 "$LDB" "SELECT count(*) FROM person WHERE full_name IN ('Nguyễn Thị Hoa', 'Phạm Quốc Việt')")" = 2 ] &&
	[ "$(sqlite3 "$LDB" "SELECT concerns FROM meeting")" = 'Thiếu kinh phí, "sân chơi"' ]; then
	ok windows__records_added_with_vietnamese_text
else
	fail windows__records_added_with_vietnamese_text "exits $rc1 $rc2 $rc3 $RC; list: $(head -c 300 "$E2E_DIR/list.out"); $(say a3)"
fi

# ---- the office app (libmicrohttpd built for Windows) -----------------------------
# `app` serves the page on loopback and tells its one-time start address (--url-file);
# a browser (curl here) opens it, gets the session cookie, the page and the API.
rm -f "$E2E_DIR/app.url"
w "$WAGENT" app --db "$WDB" --no-open --url-file "$(winpath "$E2E_DIR/app.url")" \
	>"$E2E_DIR/app.out" 2>"$E2E_DIR/app.err" &
app_pid=$!
e2e_track $app_pid
if wait_file "$E2E_DIR/app.url" 300; then
	APP_URL=$(tr -d '\r\n' <"$E2E_DIR/app.url")
	APP_BASE=$(printf '%s' "$APP_URL" | sed 's|^\(http://127\.0\.0\.1:[0-9]*\)/.*|\1|')
	page=$(curl -s -c "$E2E_DIR/app.cookies" -b "$E2E_DIR/app.cookies" -L -o "$E2E_DIR/app.html" \
		-w '%{http_code}' "$APP_URL")
	curl -s -b "$E2E_DIR/app.cookies" -o "$E2E_DIR/app.meta" "$APP_BASE/api/meta"
fi
if [ "${page:-}" = 200 ] && grep -q '<html lang="vi">' "$E2E_DIR/app.html" &&
	grep -q '"csrf"' "$E2E_DIR/app.meta" && grep -q '"Chi đoàn"' "$E2E_DIR/app.meta"; then
	ok windows__office_app_serves_its_page
else
	fail windows__office_app_serves_its_page "start address '${APP_URL:-}', page ${page:-none}; meta: $(head -c 200 "$E2E_DIR/app.meta" 2>/dev/null); $(say app)"
fi
stop $app_pid

# ---- sync to the Linux hub -----------------------------------------------------------
# same_people — the person rows (id, name, year) of the laptop and of the hub agree.
same_people() {
	sqlite3 "$LDB" "SELECT id, full_name, birth_year FROM person ORDER BY id" >"$E2E_DIR/people.laptop"
	sqlite3 "$HDB" "SELECT id, full_name, birth_year FROM person ORDER BY id" >"$E2E_DIR/people.hub"
	cmp -s "$E2E_DIR/people.laptop" "$E2E_DIR/people.hub"
}
changes_lines() { grep "POST /v1/changes 200 .*agent=$1 " "$HLOG"; }
applied_sum() { changes_lines "$1" | sed -n 's/.* applied=\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }'; }
last_seq() { sqlite3 "$LDB" "SELECT seq FROM sqlite_sequence WHERE name = 'lk_journal'"; }
pending() { st pending; }
AGENT_ID=$(st agent)

wa sync sync --db "$WDB"
if [ "$RC" = 0 ] && same_people && [ "$(wc -l <"$E2E_DIR/people.hub")" = 3 ] &&
	[ "$(applied_sum "$AGENT_ID")" = "$(last_seq)" ] && [ "$(pending)" = 0 ]; then
	ok windows__sync_reaches_the_linux_hub
else
	fail windows__sync_reaches_the_linux_hub "exit $RC; hub applied $(applied_sum "$AGENT_ID") of $(last_seq); hub people $(wc -l <"$E2E_DIR/people.hub"); $(say sync)"
fi

# ---- a sync cut in the middle of a change set, then resumed -----------------------
# 600 records (names and phones that deflate little) in change sets of at most 16 KiB
# over an 8 kbit/s link (change sets of shape 2, PROTOCOL.md §6.2a, hold ~150 of these
# records). Once the hub has taken the first change set of the sync and 600 bytes of the
# next one have gone through the proxy (its counters), the proxy is frozen (SIGSTOP): the
# next change set is held half-way on the wire, however small the change-set shape makes
# it and however long Wine takes to start the second sync, which meanwhile waits its 10 s
# for the lock and must be refused (75). Then the link is cut (the proxy stopped) and the
# hub's log must show that change set torn (closed=read_error): cut mid change set.
awk 'BEGIN { srand(7); print "full_name,birth_year,gender,phone";
	for (i = 1; i <= 600; i++) {
		n = ""
		for (k = 0; k < 24; k++) n = n substr("abcdeghiklmnopqrstuvxy", int(rand() * 22) + 1, 1)
		printf "Đoàn viên %s %d,%d,%s,09%08d\n", n, i, 1960 + i % 40, (i % 2 ? "nam" : "nu"), int(rand() * 1e8)
	} }' >"$E2E_DIR/many.csv"
wa many import --db "$WDB" person "$(winpath "$E2E_DIR/many.csv")"; rc_import=$RC
wa batch config --db "$WDB" --batch-bytes 16384
rm -f "$E2E_DIR/cut.port"
"$PROXY" --listen 127.0.0.1:0 --port-file "$E2E_DIR/cut.port" --target "127.0.0.1:$HUB_PORT" \
	--log "$E2E_DIR/cut.log" --rate-bps 8000 2>>"$E2E_DIR/cut.stderr" &
PROXY_PID=$!
e2e_track "$PROXY_PID"
if [ "$rc_import" = 0 ] && wait_file "$E2E_DIR/cut.port" 100; then
	wa point config --db "$WDB" --hub "http://127.0.0.1:$(cat "$E2E_DIR/cut.port")"
	seen=$(changes_lines "$AGENT_ID" | wc -l)
	torn0=$(grep -c ' /v1/changes .*closed=read_error' "$HLOG")
	w "$WAGENT" sync --db "$WDB" >"$E2E_DIR/cut.out" 2>"$E2E_DIR/cut.err" &
	sync_pid=$!
	e2e_track $sync_pid
	i=0 # the hub has taken a change set of this sync: the next one is on the wire
	while [ "$(changes_lines "$AGENT_ID" | wc -l)" -le "$seen" ] && [ $i -lt 600 ]; do
		sleep 0.05; i=$((i + 1))
	done
	up0=$(proxy_bytes_up cut)
	i=0
	while [ "$(proxy_bytes_up cut)" -lt $((up0 + 600)) ] && [ $i -lt 200 ]; do
		sleep 0.05; i=$((i + 1))
	done
	kill -STOP "$PROXY_PID"
	# Meanwhile a second sync of the same database is refused by the lock (75).
	wa second sync --db "$WDB"
	rc_second=$RC
	kill -TERM "$PROXY_PID"
	kill -CONT "$PROXY_PID"
	stop "$PROXY_PID"
	wait $sync_pid
	rc_cut=$?
	# the hub saw a change set begin and the connection break (hub/http/server.c logs it)
	i=0
	while [ "$(grep -c ' /v1/changes .*closed=read_error' "$HLOG")" -le "$torn0" ] && [ $i -lt 40 ]; do
		sleep 0.05; i=$((i + 1))
	done
	torn=$(($(grep -c ' /v1/changes .*closed=read_error' "$HLOG") - torn0))
	applied_cut=$(applied_sum "$AGENT_ID")
	total=$(last_seq)
	pending_cut=$(pending)
	wa back config --db "$WDB" --hub "$HUB_URL"
	wa resume sync --db "$WDB"
	rc_resume=$RC
	same_people
	rc_same=$?
	if [ "$rc_second" = 75 ] && [ "$rc_cut" = 75 ] && [ "$torn" = 1 ] &&
		[ "$applied_cut" -lt "$total" ] && [ "$pending_cut" -gt 0 ] && [ "$rc_resume" = 0 ] &&
		[ "$(pending)" = 0 ] && [ "$(applied_sum "$AGENT_ID")" = "$total" ] && [ "$rc_same" = 0 ] &&
		[ "$(wc -l <"$E2E_DIR/people.hub")" = 603 ]; then
		ok windows__sync_cut_mid_change_set_resumes_with_nothing_lost_or_doubled
	else
		fail windows__sync_cut_mid_change_set_resumes_with_nothing_lost_or_doubled "second sync exit $rc_second (want 75: locked); cut: exit $rc_cut (want 75), torn change sets in the hub log $torn (want 1: cut mid change set), hub applied $applied_cut of $total, pending $pending_cut; resume: exit $rc_resume, pending $(pending), hub applied $(applied_sum "$AGENT_ID") (want $total: each entry once), hub people $(wc -l <"$E2E_DIR/people.hub") (want 603), laptop and hub rows $([ "$rc_same" = 0 ] && echo alike || echo differ); $(say cut) $(say second) $(say resume)"
	fi
else
	fail windows__sync_cut_mid_change_set_resumes_with_nothing_lost_or_doubled "import exit $rc_import: $(say many); proxy: $(tail -2 "$E2E_DIR/cut.stderr" 2>/dev/null)"
fi

# ---- HTTPS through Schannel, with the join code's pinned keys ---------------------
# A second hub serving HTTPS on loopback with a throw-away certificate for "localhost"
# (curl 7.88's Schannel matches a certificate against its DNS names only, never an IP
# address: docs/windows.md), trusted through `config --ca-file`. The join code pins the
# hub's key and a backup key: the Windows agent syncs with the hub; with a certificate
# renewed with the backup key too; a hub whose key is not pinned, though its certificate
# is trusted, is refused before any request (Schannel gives curl the key it checks).
# tls_cert NAME KEY — a certificate for localhost with that key, in $E2E_DIR/NAME.pem.
tls_cert() {
	openssl req -x509 -key "$E2E_DIR/$2.key" -days 1 -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost -out "$E2E_DIR/$1.pem" >>"$E2E_DIR/openssl.log" 2>&1
}
# tls_hub NAME CERT KEY — the HTTPS hub on $TDB; sets TLS_PID, TLS_PORT; log NAME.log.
tls_hub() {
	rm -f "$E2E_DIR/$1.port"
	"$HUB" serve --db "$TDB" --listen 127.0.0.1:0 --port-file "$E2E_DIR/$1.port" \
		--cert "$E2E_DIR/$2.pem" --key "$E2E_DIR/$3.key" >>"$E2E_DIR/$1.log" 2>&1 &
	TLS_PID=$!
	e2e_track $TLS_PID
	wait_file "$E2E_DIR/$1.port" 100 && TLS_PORT=$(cat "$E2E_DIR/$1.port")
}
TDB="$E2E_DIR/tls-hub.db"
TLDB="$E2E_DIR/tls-laptop.db"
WTDB=$(winpath "$TLDB")
tls_ok=1
for k in hub backup other; do
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$E2E_DIR/$k.key" \
		>>"$E2E_DIR/openssl.log" 2>&1 || tls_ok=0
done
openssl pkey -in "$E2E_DIR/backup.key" -pubout -out "$E2E_DIR/backup.pub" >>"$E2E_DIR/openssl.log" 2>&1 || tls_ok=0
tls_cert hub hub && tls_cert renewed backup && tls_cert other other || tls_ok=0
if [ $tls_ok = 1 ] && "$HUB" init --db "$TDB" --units "$UNITS" >>"$E2E_DIR/tls-init.log" 2>&1 &&
	tls_hub tls-main hub hub; then
	printf 'unit,name\n%s,Văn phòng qua HTTPS\n' "$COMMUNE_CODE" >"$E2E_DIR/tls-offices.csv"
	"$HUB" enroll --db "$TDB" --csv "$E2E_DIR/tls-offices.csv" --hub "https://localhost:$TLS_PORT" \
		--pin "$E2E_DIR/hub.pem" --pin "$E2E_DIR/backup.pub" --out "$E2E_DIR/tls-sheets" \
		>"$E2E_DIR/tls-enroll.out" 2>&1
	TCODE=$(sed -n 's/.*<p class="code">\([^<]*\)<\/p>.*/\1/p' "$E2E_DIR/tls-sheets"/*.html 2>/dev/null | head -n 1)
	wa tinit init --db "$WTDB" --join "$TCODE"; rc_tinit=$RC
	wa tcfg config --db "$WTDB" --ca-file "$(winpath "$E2E_DIR/hub.pem")"; rc_tcfg=$RC
	wa tadd add --db "$WTDB" person "full_name=Hồ Thị Hương" birth_year=2001 gender=nu; rc_tadd=$RC
	wa tsync sync --db "$WTDB" --verbose
	if [ "$rc_tinit$rc_tcfg$rc_tadd$RC" = 0000 ] && [ -n "$TCODE" ] &&
		[ "$(sqlite3 "$TLDB" "SELECT value FROM lk_config WHERE key = 'pinned_keys'" | grep -o 'sha256//' | wc -l)" = 2 ] &&
		[ "$(sqlite3 "$TDB" "SELECT count(*) FROM person WHERE full_name = 'Hồ Thị Hương'")" = 1 ]; then
		ok windows__https_sync_through_schannel_with_the_pinned_key
	else
		fail windows__https_sync_through_schannel_with_the_pinned_key "init $rc_tinit, config $rc_tcfg, add $rc_tadd, sync $RC; code '$(printf '%.12s' "$TCODE")…'; $(say tinit) $(say tsync)"
	fi
	stop "$TLS_PID"
	# The certificate renewed with the backup key (the same hub database).
	wa tadd2 add --db "$WTDB" person "full_name=Hồ Văn Hải" birth_year=2000 gender=nam
	if tls_hub tls-renewed renewed backup; then
		wa tcfg2 config --db "$WTDB" --hub "https://localhost:$TLS_PORT" --ca-file "$(winpath "$E2E_DIR/renewed.pem")"
		wa tsync2 sync --db "$WTDB" --verbose
		if [ "$RC" = 0 ] && [ "$(sqlite3 "$TDB" "SELECT count(*) FROM person WHERE full_name = 'Hồ Văn Hải'")" = 1 ]; then
			ok windows__https_certificate_renewed_with_the_backup_key_is_accepted
		else
			fail windows__https_certificate_renewed_with_the_backup_key_is_accepted "sync $RC: $(say tsync2)"
		fi
		stop "$TLS_PID"
	else
		fail windows__https_certificate_renewed_with_the_backup_key_is_accepted "hub: $(tail -2 "$E2E_DIR/tls-renewed.log" | tr '\n' ' ')"
	fi
	# A key nobody pinned, in a certificate the agent's CA file trusts: only the pin refuses it.
	wa tadd3 add --db "$WTDB" person "full_name=Hồ Văn Hùng" birth_year=1999 gender=nam
	if tls_hub tls-other other other; then
		wa tcfg3 config --db "$WTDB" --hub "https://localhost:$TLS_PORT" --ca-file "$(winpath "$E2E_DIR/other.pem")"
		wa tsync3 sync --db "$WTDB" --verbose
		sleep 0.3
		if [ "$RC" = 75 ] && grep -q 'pinned public key' "$E2E_DIR/tsync3.err" &&
			! grep -q '/v1/' "$E2E_DIR/tls-other.log" &&
			[ "$(sqlite3 "$TDB" "SELECT count(*) FROM person WHERE full_name = 'Hồ Văn Hùng'")" = 0 ]; then
			ok windows__https_hub_whose_key_is_not_pinned_is_refused
		else
			fail windows__https_hub_whose_key_is_not_pinned_is_refused "sync $RC (want 75): $(say tsync3); hub log: $(tail -2 "$E2E_DIR/tls-other.log" | tr '\n' ' ')"
		fi
		stop "$TLS_PID"
	else
		fail windows__https_hub_whose_key_is_not_pinned_is_refused "hub: $(tail -2 "$E2E_DIR/tls-other.log" | tr '\n' ' ')"
	fi
else
	fail windows__https_sync_through_schannel_with_the_pinned_key "certificates or HTTPS hub: $(tail -3 "$E2E_DIR/openssl.log" "$E2E_DIR/tls-init.log" "$E2E_DIR/tls-main.log" 2>/dev/null | tr '\n' ' ')"
fi

# ---- the installer, the background sync at logon, the uninstaller -----------------
if [ -z "$SETUP" ]; then
	fail windows__installer_installs_for_the_user_and_joins "no $WIN_B/lienket-setup-*.exe (make win)"
	e2e_finish
fi
USERS="$WINEPREFIX/drive_c/users"
# Wine 8's prefixes say Windows 7 (6.1.7601): the installer refuses it, installs nothing.
w "$SETUP" /S >"$E2E_DIR/setup7.log" 2>&1
rc_setup7=$?
if [ "$rc_setup7" != 0 ] && [ -z "$(find "$USERS" -name 'lienket*.exe' 2>/dev/null)" ]; then
	ok windows__installer_refuses_windows_7
else
	fail windows__installer_refuses_windows_7 "exit $rc_setup7 (want non-zero); installed: $(find "$USERS" -name 'lienket*.exe' 2>/dev/null | tr '\n' ' ')"
fi
w winecfg -v win10 >"$E2E_DIR/winecfg.log" 2>&1
# A second office's sheet: its join code given to the installer (/JOIN= on a silent
# install; the page asks for it otherwise).
printf 'unit,name\n%s,Máy thứ hai của văn phòng\n' "$COMMUNE_CODE" >"$E2E_DIR/offices2.csv"
"$HUB" enroll --db "$HDB" --csv "$E2E_DIR/offices2.csv" --hub "$HUB_URL" --out "$E2E_DIR/sheets2" \
	>"$E2E_DIR/enroll2.out" 2>&1
CODE2=$(sed -n 's/.*<p class="code">\([^<]*\)<\/p>.*/\1/p' "$E2E_DIR/sheets2"/*.html 2>/dev/null | head -n 1)
w "$SETUP" /S "/JOIN=$CODE2" >"$E2E_DIR/setup.log" 2>&1
rc_setup=$?
PROG=$(find "$USERS" -path '*/AppData/Local/Programs/LienKet' -type d 2>/dev/null | head -n 1)
DATA=$(find "$USERS" -path '*/AppData/Local/LienKet' -type d 2>/dev/null | head -n 1)
w reg query 'HKCU\Software\Microsoft\Windows\CurrentVersion\Run' /v LienKet >"$E2E_DIR/run.reg" 2>&1
if [ "$rc_setup" = 0 ] && [ -n "$PROG" ] && [ -f "$PROG/lienket-agent.exe" ] &&
	[ -f "$PROG/lienket-sync.exe" ] && [ -f "$PROG/uninstall.exe" ] && [ -n "$DATA" ] &&
	[ -n "$(find "$USERS" -path '*Start Menu/Programs/Liên Kết.lnk' 2>/dev/null)" ] &&
	ls "$USERS"/*/Desktop/"Liên Kết.lnk" >/dev/null 2>&1 &&
	grep -q 'lienket-sync.exe" daemon --db ".*\\LienKet\\lienket.db"' "$E2E_DIR/run.reg" &&
	[ -s "$DATA/lienket.db" ]; then
	ok windows__installer_installs_for_the_user_and_joins
else
	fail windows__installer_installs_for_the_user_and_joins "exit $rc_setup; program folder '$PROG' ($(ls "$PROG" 2>/dev/null | tr '\n' ' ')), data folder '$DATA' ($(ls "$DATA" 2>/dev/null | tr '\n' ' ')), join code '$CODE2'; shortcuts: $(find -L "$USERS" -name '*.lnk' 2>/dev/null | tr '\n' ' '); run key: $(tr -d '\r' <"$E2E_DIR/run.reg" | tr '\n' ' ')"
	e2e_finish
fi

# The logon entry's command, as Windows would start it: the background sync of the
# office's database (the one the installer joined and the shortcuts use) takes a record
# added before logon to the hub without a manual sync. (The sync the installer started
# is stopped first, so that the one started here is the one that sends it.)
IDB="$DATA/lienket.db"
w taskkill /F /IM lienket-sync.exe >"$E2E_DIR/taskkill.log" 2>&1
rc_iinit=0
w "$PROG/lienket-agent.exe" add --db "$(winpath "$IDB")" person "full_name=Đặng Thu Thảo" \
	birth_year=2000 gender=nu >"$E2E_DIR/iadd.out" 2>&1
rc_iadd=$?
RUNCMD=$(tr -d '\r' <"$E2E_DIR/run.reg" | sed -n 's/.*REG_SZ *//p')
eval "set -- $(printf '%s' "$RUNCMD" | sed 's/\\/\\\\/g')"
HOME="$E2E_DIR/home" LC_ALL=C.UTF-8 "$WINE" "$@" >"$E2E_DIR/daemon.out" 2>&1 &
daemon_pid=$!
e2e_track $daemon_pid
i=0
while [ "$(sqlite3 "$HDB" "SELECT count(*) FROM person WHERE full_name = 'Đặng Thu Thảo'")" != 1 ] && [ $i -lt 300 ]; do
	sleep 0.1; i=$((i + 1))
done
if [ "$rc_iinit$rc_iadd" = 00 ] &&
	[ "$(sqlite3 "$HDB" "SELECT count(*) FROM person WHERE full_name = 'Đặng Thu Thảo'")" = 1 ]; then
	ok windows__background_sync_at_logon_syncs
else
	fail windows__background_sync_at_logon_syncs "init exit $rc_iinit, add exit $rc_iadd; run entry '$RUNCMD'; daemon: $(tail -3 "$E2E_DIR/daemon.out" | tr '\n' ' ')"
fi

# The uninstaller (silent, run in place so that it finishes before we look) stops the
# background sync and removes the program, shortcuts and logon entry; the data stays.
w "$PROG/uninstall.exe" /S "_?=$(printf '%s' "$PROG" | sed "s|^$WINEPREFIX/drive_c|C:|" | tr / '\\')" \
	>"$E2E_DIR/uninstall.log" 2>&1
rc_un=$?
w reg query 'HKCU\Software\Microsoft\Windows\CurrentVersion\Run' /v LienKet >"$E2E_DIR/run2.reg" 2>&1
rc_reg=$?
if [ "$rc_un" = 0 ] && [ ! -f "$PROG/lienket-agent.exe" ] && [ ! -f "$PROG/lienket-sync.exe" ] &&
	[ -z "$(find -L "$USERS" -name 'Liên Kết.lnk' 2>/dev/null)" ] && [ "$rc_reg" != 0 ] &&
	[ -s "$IDB" ] && [ "$(sqlite3 "$IDB" "SELECT count(*) FROM person WHERE full_name = 'Đặng Thu Thảo'")" = 1 ]; then
	ok windows__uninstaller_keeps_the_office_data
else
	fail windows__uninstaller_keeps_the_office_data "exit $rc_un; program folder: $(ls "$PROG" 2>/dev/null | tr '\n' ' '); shortcuts: $(find -L "$USERS" -name '*.lnk' 2>/dev/null | tr '\n' ' '); run key query exit $rc_reg; data: $(ls "$DATA" 2>/dev/null | tr '\n' ' ')"
fi
e2e_finish
