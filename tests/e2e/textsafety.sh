#!/bin/sh
# textsafety — what an office types reaches the province's terminals and spreadsheets
# harmless (issue 12, security 4 and 6), with the real binaries: a commune names two
# village branches, one with terminal escapes (retitle the window, bell) and one like a
# spreadsheet formula, and syncs. The hub's `units list`, `report` and `status` show the
# escapes as \x1b…, never raw; the report's CSV starts the formula with an apostrophe;
# the laptop's own `list` escapes too and its `export` marks the formula the same way.
#
# Every process started is stopped by PID on exit (lib.sh). Run from the repository
# root; $LK_BIN holds the binaries.
set -u
. tests/e2e/lib.sh

UNITS=tests/fixtures/units-small.csv
DB="$E2E_DIR/hub.db"
A1="$E2E_DIR/c1.db"
ESC=$(printf '\033')
BEL=$(printf '\007')
EVIL="Thôn ${ESC}]0;pwned${BEL}Bình${ESC}[2J"
SHOWN='Thôn \x1b]0;pwned\x07Bình\x1b[2J'
FORMULA='=HYPERLINK("http://x.example","Thôn Mới")'

agent() { "$AGENT" "$@" 2>>"$E2E_DIR/agent.err"; }

# raw_free NAME FILE — FILE holds no ESC and no BEL byte.
raw_free() { ! grep -q "[$ESC$BEL]" "$1"; }

setup() {
	"$HUB" init --db "$DB" --units "$UNITS" >"$E2E_DIR/init.out" 2>&1 || return 1
	"$HUB" enroll --db "$DB" --unit 22915 >"$E2E_DIR/c1.tok" 2>/dev/null || return 1
	TOKEN=$(sed -n 's/^token: //p' "$E2E_DIR/c1.tok")
	UNIT=$(sed -n 's/^unit: //p' "$E2E_DIR/c1.tok")
	hub_start "$DB" hub || return 1
	agent init --db "$A1" --unit "$UNIT" --hub "$HUB_URL" --token "$TOKEN" >/dev/null || return 1
	for name in "$EVIL" "$FORMULA"; do
		b=$(agent add --db "$A1" unit opened_on=2019-01-01 | head -n 1) || return 1
		agent add --db "$A1" unit_name of_unit="$b" name="$name" kind=branch valid_from=2019-01-01 >/dev/null || return 1
		agent add --db "$A1" unit_parent of_unit="$b" parent_id="$UNIT" valid_from=2019-01-01 >/dev/null || return 1
	done
	agent sync --db "$A1" >"$E2E_DIR/sync.out" || return 1
}

if ! setup; then
	fail textsafety__setup "$(tail -3 "$E2E_DIR/agent.err" "$E2E_DIR/init.out" 2>/dev/null | tr '\n' ' ')"
	e2e_finish
fi

"$HUB" enroll --db "$DB" --unit 22915 --name "$EVIL	Xã" >/dev/null 2>&1
"$HUB" agents list --db "$DB" >"$E2E_DIR/agents.out" 2>&1
if grep -qF "${SHOWN}\tXã" "$E2E_DIR/agents.out" && raw_free "$E2E_DIR/agents.out" &&
	[ "$(awk -F'\t' 'NF != 9' "$E2E_DIR/agents.out" | wc -l)" -eq 0 ]; then
	ok textsafety__hub_agents_list_escapes_a_token_name
else
	fail textsafety__hub_agents_list_escapes_a_token_name "agents list prints a raw control character or a tab inside the name"
fi

"$HUB" units list --db "$DB" >"$E2E_DIR/units.out" 2>&1
"$HUB" report --db "$DB" --unit 22915 --year 2021 >"$E2E_DIR/report.txt" 2>&1
"$HUB" status --db "$DB" >"$E2E_DIR/status.txt" 2>&1
if grep -qF "$SHOWN" "$E2E_DIR/units.out" && raw_free "$E2E_DIR/units.out" &&
	grep -qF "$SHOWN" "$E2E_DIR/report.txt" && raw_free "$E2E_DIR/report.txt" &&
	raw_free "$E2E_DIR/status.txt"; then
	ok textsafety__hub_text_output_shows_escapes_escaped
else
	fail textsafety__hub_text_output_shows_escapes_escaped "units list, report or status prints a raw control character or lacks '$SHOWN'"
fi

"$HUB" report --db "$DB" --unit 22915 --year 2021 --format csv >"$E2E_DIR/report.csv" 2>&1
if grep -qF ",\"'=HYPERLINK(\"\"http://x.example\"\",\"\"Thôn Mới\"\")\"," "$E2E_DIR/report.csv" &&
	! grep -qF ',"=HYPERLINK' "$E2E_DIR/report.csv"; then
	ok textsafety__hub_csv_starts_a_formula_with_an_apostrophe
else
	fail textsafety__hub_csv_starts_a_formula_with_an_apostrophe "$(grep -m1 HYPERLINK "$E2E_DIR/report.csv")"
fi

agent list --db "$A1" unit_name >"$E2E_DIR/list.out"
agent export --db "$A1" unit_name --out "$E2E_DIR/names.csv"
if grep -qF "$SHOWN" "$E2E_DIR/list.out" && raw_free "$E2E_DIR/list.out" &&
	grep -qF ",\"'=HYPERLINK(" "$E2E_DIR/names.csv"; then
	ok textsafety__laptop_list_escapes_and_export_marks_the_formula
else
	fail textsafety__laptop_list_escapes_and_export_marks_the_formula "list or export: $(grep -m1 HYPERLINK "$E2E_DIR/names.csv")"
fi

if grep -q 'ERROR: [A-Za-z]*Sanitizer\|runtime error' "$E2E_DIR/hub.log" "$E2E_DIR/agent.err"; then
	fail textsafety__clean_under_sanitizers "$(grep -m1 -h 'Sanitizer\|runtime error' "$E2E_DIR/hub.log" "$E2E_DIR/agent.err")"
else
	ok textsafety__clean_under_sanitizers
fi
e2e_finish
