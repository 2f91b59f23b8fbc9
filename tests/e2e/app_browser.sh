#!/bin/sh
# app_browser — the office app in a real browser (issue 13, "Done when", first item):
# the real lienket-hub and `lienket-agent app --no-open` on loopback; headless Chromium
# driven through WebDriver (Debian's chromium-driver and python3-selenium, by
# tests/e2e/app_browser.py) opens the start address with its one-time secret and,
# typing and clicking like a commune secretary, creates a branch, three people (one
# deleted again after a confirmation), a branch secretary's term, an insurance card, a
# joint meeting with three branches and a volunteer activity; makes the usual mistakes
# (a required field left empty, 31/02/2021, a misspelt name to pick, a person deleted
# from another window before Lưu — refused by the agent, 422) and sees each error at
# its field with nothing saved; syncs from the page, which then lists the one record
# the province refused (written on the laptop's database for another commune), with a
# link to it and what to do. CSV from the page: a file as Excel writes it (BOM, ';',
# Vietnamese headers, dd/mm/yyyy) with a wrong line imports nothing and names the line;
# the good file imports; its export imports back unchanged. Then, here:
#   - the hub's rows equal the laptop's, table by table, field by field;
#   - the hub's report for the commune changed by exactly what those records feed
#     (joint meetings and their hosts, inactive branches, volunteer work, insured
#     secretaries) and nothing else;
#   - the figures the page showed ("what the province will see") equal the hub's;
#   - no element is wider than a 390 px window; screenshots at 1366×768 and 390×844
#     are kept in $ART (default build/artifacts, like the dashboard's).
# First (issue 16), the laptop has no database: the app's first screen is given a
# foreign text, a mistyped code, a revoked code and a code whose hub does not answer —
# each told at the field in Vietnamese with what to do — then the commune's code from
# its enrolment sheet (wrapped over two lines): it shows the office and its district,
# and its confirmation sets the laptop up and lands in the app, whose first sync names
# the office. Screenshots of the first screen at both sizes.
# Two branches exist before the app starts (typed at the command line), so the
# meeting's three branches are picked among records of both origins.
#
# Without chromium, chromium-driver or python3-selenium every case FAILS (never
# skips). Every process started is stopped by PID on exit (lib.sh). Run from the
# repository root; $LK_BIN holds the binaries.
set -u
. tests/e2e/lib.sh

ART=${ART:-build/artifacts}
UNITS=tests/fixtures/units-small.csv
HDB="$E2E_DIR/hub.db"
ADB="$E2E_DIR/xa.db"
YEAR=2021
PY=/usr/bin/python3   # Debian's, which sees python3-selenium
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ in the source tree
MANY=120              # members imported before the app starts: three pages of 50
REFUSED=01a21000-0000-7000-8000-00000000c0de   # the id of the record the hub refuses

CASES="first_screen_asks_for_the_join_code
first_screen_an_empty_or_foreign_code_is_told_at_the_field
first_screen_a_mistyped_code_is_told_at_the_field
first_screen_a_revoked_code_says_to_ask_for_a_new_sheet
first_screen_an_unreachable_hub_says_what_to_do
first_screen_shows_the_office_before_setting_up
first_screen_confirmed_lands_in_the_app
first_screen_the_laptop_is_set_up_from_the_code
opens_with_the_start_secret_and_drops_it_from_the_address
missing_required_field_is_shown_at_the_field_and_nothing_saved
people_are_added_and_one_deleted_after_confirmation
lists_sort_and_page_on_the_server
server_refusal_is_shown_at_its_field_and_nothing_saved
search_ignores_case_and_diacritics
impossible_date_is_shown_at_the_field_and_nothing_saved
misspelt_name_is_shown_at_the_picker
calendar_writes_the_chosen_day_as_dd_mm_yyyy
a_person_still_linked_is_not_deleted_and_the_list_says_why
joint_meeting_with_three_branches
a_record_opens_with_names_and_labels_and_is_edited
volunteer_activity_with_its_branch
csv_import_lists_wrong_lines_and_imports_nothing_then_a_good_file
csv_export_opens_in_excel_and_imports_back_unchanged
sync_from_the_page_sends_everything
refused_record_is_listed_with_a_link_and_what_to_do
figures_this_year_beside_last_year
nothing_wider_than_a_390_px_window
screenshots_kept
keyboard_reaches_every_control_with_a_visible_focus
page_loads_nothing_from_outside
hub_rows_equal_the_app_rows
figures_changed_by_the_expected_amounts
page_figures_equal_the_hub_report"

fail_all() {
	for c in $CASES; do fail "app_browser__$c" "$1"; done
	e2e_finish
}

for need in /usr/bin/chromium /usr/bin/chromedriver "$PY"; do
	[ -x "$need" ] || fail_all "$need not found (scripts/deps.sh --check-or-install test installs chromium, chromium-driver, python3-selenium)"
done
"$PY" -c 'import selenium' 2>/dev/null || fail_all "python3-selenium is not installed (scripts/deps.sh --check-or-install test)"

# agent NAME CMD ARGS… — the agent on the laptop's database; output in NAME.out/.err.
agent() { n=$1; cmd=$2; shift 2; "$AGENT" "$cmd" --db "$ADB" "$@" >"$E2E_DIR/$n.out" 2>"$E2E_DIR/$n.err"; }

# branch NAME — a village branch of the commune typed at the command line (three rows).
branch() {
	agent unit add unit opened_on=2020-01-01 || return 1
	b=$(tail -n 1 "$E2E_DIR/unit.out")
	agent uname add unit_name of_unit="$b" "name=$1" kind=branch valid_from=2020-01-01 || return 1
	agent uparent add unit_parent of_unit="$b" parent_id="$C_UNIT" valid_from=2020-01-01
}

# report NAME — the hub's report for the commune and $YEAR, as JSON in NAME.json.
report() { "$HUB" report --db "$HDB" --unit 22915 --year $YEAR --format json >"$E2E_DIR/$1.json" 2>"$E2E_DIR/$1.err"; }

# code_of SHEET — the join code printed on an enrolment sheet.
code_of() { sed -n 's/.*<p class="code">\([^<]*\)<\/p>.*/\1/p' "$1"; }

# The province's sheets (issue 16): the commune's join code; another commune's, revoked
# at once; and one whose hub address answers nothing. Then the app on a laptop with no
# database: its first screen takes the code (app_browser.py --first-screen).
first_setup() {
	"$HUB" init --db "$HDB" --units "$UNITS" >"$E2E_DIR/init.out" 2>&1 || return 1
	hub_start "$HDB" hub || return 1
	printf 'unit,name\n22915,Văn phòng Đoàn phường Mũi Né\n22918,Máy đã thu hồi\n' >"$E2E_DIR/offices.csv"
	"$HUB" enroll --db "$HDB" --csv "$E2E_DIR/offices.csv" --hub "$HUB_URL" --out "$E2E_DIR/sheets" \
		>"$E2E_DIR/enroll.out" 2>"$E2E_DIR/enroll.err" || return 1
	printf 'unit,name\n22921,Máy không tới được\n' >"$E2E_DIR/dead.csv"
	"$HUB" enroll --db "$HDB" --csv "$E2E_DIR/dead.csv" --hub "http://127.0.0.1:9" --out "$E2E_DIR/sheets-dead" \
		>"$E2E_DIR/enroll-dead.out" 2>>"$E2E_DIR/enroll.err" || return 1
	CODE=$(code_of "$E2E_DIR/sheets/001-22915.html")
	REVOKED=$(code_of "$E2E_DIR/sheets/002-22918.html")
	DEAD=$(code_of "$E2E_DIR/sheets-dead/001-22921.html")
	C_PREFIX=$(awk -F'\t' '$1 ~ /001-22915/ { print $4 }' "$E2E_DIR/enroll.out")
	R_PREFIX=$(awk -F'\t' '$1 ~ /002-22918/ { print $4 }' "$E2E_DIR/enroll.out")
	[ -n "$CODE" ] && [ -n "$REVOKED" ] && [ -n "$DEAD" ] && [ -n "$C_PREFIX" ] && [ -n "$R_PREFIX" ] || return 1
	"$HUB" revoke --db "$HDB" "$R_PREFIX" >"$E2E_DIR/revoke.out" 2>&1 || return 1
	# one character of the code changed, as a hurried typist would
	MISTYPED=$("$PY" -c 'import sys; c = sys.argv[1]; print(c[:12] + ("A" if c[12] != "A" else "B") + c[13:])' "$CODE")
	"$AGENT" app --db "$ADB" --no-open --url-file "$E2E_DIR/first.url" >"$E2E_DIR/first.out" 2>"$E2E_DIR/first.err" &
	FIRST_PID=$!
	e2e_track $FIRST_PID
	wait_file "$E2E_DIR/first.url" 150 || return 1
	FIRST_URL=$(head -n 1 "$E2E_DIR/first.url")
	case "$FIRST_URL" in http://127.0.0.1:*/?k=*) ;; *) return 1 ;; esac
}

if ! first_setup; then
	fail_all "set-up failed: $(tail -n 3 "$E2E_DIR/init.out" "$E2E_DIR/first.err" "$E2E_DIR"/*.err 2>/dev/null | tr '\n' ' ' | cut -c1-500)"
fi
mkdir -p "$ART"
timeout 150 "$PY" tests/e2e/app_browser.py --first-screen --url "$FIRST_URL" --dir "$E2E_DIR" --art "$ART" \
	--code "$CODE" --mistyped "$MISTYPED" --revoked "$REVOKED" --unreachable "$DEAD" \
	--office "Phường Mũi Né" --parent "Thành phố Phan Thiết" >"$E2E_DIR/first-browser.out" 2>"$E2E_DIR/first-browser.err"
rc=$?
cat "$E2E_DIR/first-browser.out"
if [ $rc -ne 0 ] && ! grep -q FAILED "$E2E_DIR/first-browser.out"; then
	fail app_browser__first_screen_driver "the WebDriver script exited $rc: $(tail -n 3 "$E2E_DIR/first-browser.err" | tr '\n' ' ')"
fi
stop "$FIRST_PID"
# The laptop holds what the code carries — the commune's unit, the hub, the token — and
# nothing was made for the wrong codes (one database, set up once).
C_UNIT=$(sqlite3 "$ADB" "SELECT unit_id FROM lk_state" 2>/dev/null)
W_UNIT=$("$HUB" units list --db "$HDB" 2>/dev/null | awk -F'\t' '$2 == "22915" { print $1 }')
if [ -n "$C_UNIT" ] && [ "$C_UNIT" = "$W_UNIT" ] &&
	[ "$(sqlite3 "$ADB" "SELECT value FROM lk_config WHERE key = 'hub_url'")" = "$HUB_URL" ] &&
	sqlite3 "$ADB" "SELECT value FROM lk_config WHERE key = 'token'" | grep -q "^$C_PREFIX" &&
	grep -q "set up $ADB for unit $C_UNIT" "$E2E_DIR/first.err" &&
	[ "$(grep -c 'set up ' "$E2E_DIR/first.err")" = 1 ]; then
	ok app_browser__first_screen_the_laptop_is_set_up_from_the_code
else
	fail app_browser__first_screen_the_laptop_is_set_up_from_the_code "unit '$C_UNIT' (want '$W_UNIT'): $(tail -n 3 "$E2E_DIR/first.err" | tr '\n' ' ')"
fi
[ -n "$C_UNIT" ] || fail_all "the first screen did not set the laptop up"

setup() {
	agent sync0 sync || return 1
	branch "Thôn Đông Hải" || return 1
	branch "Khu phố Lạc Đạo" || return 1
	# a list of several pages: 120 members imported at the command line
	{
		echo "full_name,birth_year"
		i=1
		while [ $i -le $MANY ]; do printf 'Người Thứ %03d,%d\n' $i $((1970 + i % 30)); i=$((i + 1)); done
	} >"$E2E_DIR/many.csv"
	agent many import person "$E2E_DIR/many.csv" || return 1
	agent sync1 sync || return 1
	# a record the province will refuse: a pilot designation of another commune, written
	# on the laptop's database by another program (journaled by the triggers like the
	# agent's own writes); the page's sync sends it with the rest and lists the refusal
	OTHER=$("$HUB" units list --db "$HDB" 2>/dev/null | awk -F'\t' '$2 == "22918" { print $1 }')
	[ -n "$OTHER" ] || return 1
	sqlite3 "$ADB" "INSERT INTO pilot(id, unit_id, branch_id, valid_from) VALUES('$REFUSED', '$OTHER', '$OTHER', '2021-01-01')" \
		>"$E2E_DIR/refused.out" 2>&1 || return 1
	report before || return 1
	# the app on a free port; the start address with its secret in app.url once listening
	"$AGENT" app --db "$ADB" --no-open --url-file "$E2E_DIR/app.url" >"$E2E_DIR/app.out" 2>"$E2E_DIR/app.err" &
	APP_PID=$!
	e2e_track $APP_PID
	wait_file "$E2E_DIR/app.url" 150 || return 1
	APP_URL=$(head -n 1 "$E2E_DIR/app.url")
	case "$APP_URL" in http://127.0.0.1:*/?k=*) ;; *) return 1 ;; esac
}

if ! setup; then
	fail_all "set-up failed: $(tail -n 3 "$E2E_DIR/init.out" "$E2E_DIR/app.err" "$E2E_DIR"/*.err 2>/dev/null | tr '\n' ' ' | cut -c1-500)"
fi

timeout 150 "$PY" tests/e2e/app_browser.py --url "$APP_URL" --dir "$E2E_DIR" --art "$ART" --year $YEAR --many $MANY --refused $REFUSED \
	>"$E2E_DIR/browser.out" 2>"$E2E_DIR/browser.err"
rc=$?
cat "$E2E_DIR/browser.out"
if [ $rc -ne 0 ] && ! grep -q FAILED "$E2E_DIR/browser.out"; then
	fail app_browser__driver "the WebDriver script exited $rc: $(tail -n 3 "$E2E_DIR/browser.err" | tr '\n' ' ')"
fi

# ---- the hub holds what the laptop holds ----------------------------------------------
# Every synced table: the laptop's rows and the hub's live rows, all schema columns,
# must be the same sets (the app wrote through the same journal as the command line).
if "$PY" - "$ADB" "$HDB" $MANY $REFUSED >"$E2E_DIR/rows.out" 2>&1 <<'PY'
import sqlite3, sys
a = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
h = sqlite3.connect("file:%s?mode=ro" % sys.argv[2], uri=True)
live = ("COALESCE(_ins_writer, '') <> '' AND (COALESCE(_del_writer, '') = '' OR _ins_clock > _del_clock"
        " OR (_ins_clock = _del_clock AND _ins_writer > _del_writer))")
tables = ["unit", "unit_name", "unit_parent", "pilot", "person", "role", "insurance_card", "support",
          "meeting", "meeting_branch", "task", "volunteer", "volunteer_branch"]
refused = sys.argv[4]
bad, counts = [], {}
for t in tables:
    cols = [r[1] for r in a.execute('PRAGMA table_info("%s")' % t)]
    sel = ", ".join('"%s"' % c for c in cols)
    # the laptop keeps the record the hub refused (and lists it); the hub has none
    ra = set(a.execute('SELECT %s FROM "%s" WHERE id <> ?' % (sel, t), (refused,)))
    rh = set(h.execute('SELECT %s FROM "%s" WHERE %s' % (sel, t, live)))
    counts[t] = len(ra)
    if ra != rh:
        bad.append("%s: laptop only %r, hub only %r" % (t, sorted(ra - rh)[:2], sorted(rh - ra)[:2]))
want = {"pilot": 0, "support": 0, "task": 2, "person": 2 + int(sys.argv[3]), "role": 1, "insurance_card": 1, "meeting": 1, "meeting_branch": 3, "volunteer": 1,
        "volunteer_branch": 1}
for t, n in want.items():
    if counts[t] != n:
        bad.append("%s: %d rows on the laptop, want %d" % (t, counts[t], n))
print(counts)
if bad:
    raise SystemExit("; ".join(bad))
PY
then
	ok app_browser__hub_rows_equal_the_app_rows
else
	fail app_browser__hub_rows_equal_the_app_rows "$(tail -n 3 "$E2E_DIR/rows.out" | tr '\n' ' ' | cut -c1-600)"
fi

# ---- the figures those records feed, and only those -----------------------------------
report after
if "$PY" - "$E2E_DIR/before.json" "$E2E_DIR/after.json" >"$E2E_DIR/delta.out" 2>&1 <<'PY'
import json, sys
def cells(path):
    out = {}
    for f in json.load(open(path, encoding="utf-8"))["figures"]:
        for m in f["measures"]:
            out[f["key"] + "/" + m["key"]] = (m["value"], m["of"] or 0)
    return out
b, a = cells(sys.argv[1]), cells(sys.argv[2])
# (value, of) added by the records the app entered, year 2021, commune 22915:
want = {
    "joint/meetings": (1, 0),             # one joint meeting on 14/03/2021
    "joint/hosts": (1, 0),                # hosted by Thôn Bình Hưng
    "inactive/branches": (-2, 1),         # the two older branches took part, the new one too
    "volunteer/participations": (180, 0), "volunteer/teams": (2, 0), "volunteer/activities": (1, 0),
    "volunteer/participations.vaccination": (180, 0), "volunteer/teams.vaccination": (2, 0),
    "insurance/secretaries": (1, 1),      # Nguyễn Thị Hoa, secretary from 01/01/2021, insured
}
bad = []
for k in sorted(set(a) | set(b)):
    got = (a.get(k, (0, 0))[0] - b.get(k, (0, 0))[0], a.get(k, (0, 0))[1] - b.get(k, (0, 0))[1])
    if got != want.get(k, (0, 0)):
        bad.append("%s changed by %r, want %r" % (k, got, want.get(k, (0, 0))))
if bad:
    raise SystemExit("; ".join(bad))
print("%d measures, %d changed as expected" % (len(a), len(want)))
PY
then
	ok app_browser__figures_changed_by_the_expected_amounts
else
	fail app_browser__figures_changed_by_the_expected_amounts "$(tail -n 3 "$E2E_DIR/delta.out" "$E2E_DIR/after.err" | tr '\n' ' ' | cut -c1-600)"
fi

# ---- what the page showed is what the province sees -----------------------------------
if "$PY" - "$E2E_DIR/page.json" "$E2E_DIR/after.json" >"$E2E_DIR/pagefig.out" 2>&1 <<'PY'
import json, sys
page = json.load(open(sys.argv[1], encoding="utf-8")).get("figures")
if not page:
    raise SystemExit("the page showed no figures")
def s(v):
    return "" if v is None else str(v)
want = {}
for f in json.load(open(sys.argv[2], encoding="utf-8"))["figures"]:
    for m in f["measures"]:
        want["%s/%s/value" % (f["key"], m["key"])] = [s(m["value"]), s(m["of"])]
        p = m.get("previous")
        want["%s/%s/previous" % (f["key"], m["key"])] = [s(p["value"]), s(p["of"])] if p else ["", ""]
bad = [(k, page.get(k), v) for k, v in want.items() if page.get(k) != v]
extra = [k for k in page if k not in want]
if bad or extra:
    raise SystemExit("page differs from the hub: %r extra %r" % (bad[:4], extra[:4]))
print("%d cells equal" % len(want))
PY
then
	ok app_browser__page_figures_equal_the_hub_report
else
	fail app_browser__page_figures_equal_the_hub_report "$(tail -n 3 "$E2E_DIR/pagefig.out" | tr '\n' ' ' | cut -c1-600)"
fi

stop "$APP_PID"
if grep -q 'ERROR: [A-Za-z]*Sanitizer\|runtime error' "$E2E_DIR/app.err" "$E2E_DIR/first.err" "$E2E_DIR/hub.log"; then
	fail app_browser__agent_and_hub_clean_under_sanitizers "$(grep -h -m1 'Sanitizer\|runtime error' "$E2E_DIR/app.err" "$E2E_DIR/first.err" "$E2E_DIR/hub.log")"
else
	ok app_browser__agent_and_hub_clean_under_sanitizers
fi
e2e_finish
