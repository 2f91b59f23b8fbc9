#!/bin/sh
# dashboard_views — the dashboard as a province leader sees it on a phone (390×844) and
# on a laptop (1366×768), in headless Chromium driven by selenium (tests/e2e/browser.py,
# python3-selenium + chromium-driver from Debian) — issue 14:
#   - no element sticks out of the viewport sideways (tables scroll inside their own
#     box), also when printed on A4;
#   - the charts' legend and target line are on screen;
#   - every freshness tile links to its unit's figures (a click opens that unit);
#   - a caveat is shown when a commune has not synced;
#   - the page opens on the latest year with data (the records are of 2021; the
#     current year has none).
# Screenshots (full page) are kept as build/artifacts/dashboard-390.png,
# dashboard-1366.png, and the A4 print as build/artifacts/dashboard-a4.pdf.
#
# The real lienket-hub on loopback; real lienket-agent laptops: Mũi Né and the
# district of Phan Thiết record 2021 and sync, Hàm Tiến is enrolled and never syncs.
# Without chromium, chromedriver or selenium the browser cases FAIL (never skip).
# Every process started is stopped by PID on exit (lib.sh); selenium stops its
# chromedriver and browser itself, and the python process is tracked.
set -u
. tests/e2e/lib.sh

UNITS=tests/fixtures/units-small.csv
DB="$E2E_DIR/hub.db"
ART=build/artifacts
PY=${PYTHON_SELENIUM:-/usr/bin/python3} # Debian's python, where python3-selenium is
CASES="no_element_wider_than_the_viewport legend_and_target_visible tiles_link_to_their_unit
caveat_shown_for_a_commune_never_synced opens_on_the_latest_year_with_data screenshots_kept
prints_on_a4_without_overflow"

agent() { db=$1; cmd=$2; shift 2; "$AGENT" "$cmd" --db "$db" "$@" >>"$E2E_DIR/agent.out" 2>&1; }

setup() {
	"$HUB" init --db "$DB" --units "$UNITS" >"$E2E_DIR/init.out" 2>&1 || return 1
	"$HUB" enroll --db "$DB" --unit 22915 >"$E2E_DIR/c1.tok" 2>/dev/null || return 1
	"$HUB" enroll --db "$DB" --unit 593 >"$E2E_DIR/d.tok" 2>/dev/null || return 1
	"$HUB" enroll --db "$DB" --unit 22918 >"$E2E_DIR/silent.tok" 2>/dev/null || return 1
	"$HUB" enroll --db "$DB" --viewer >"$E2E_DIR/viewer.tok" 2>/dev/null || return 1
	C1_UNIT=$(sed -n 's/^unit: //p' "$E2E_DIR/c1.tok")
	D_UNIT=$(sed -n 's/^unit: //p' "$E2E_DIR/d.tok")
	SILENT_UNIT=$(sed -n 's/^unit: //p' "$E2E_DIR/silent.tok")
	VIEWER=$(sed -n 's/^token: //p' "$E2E_DIR/viewer.tok")
	[ -n "$C1_UNIT" ] && [ -n "$D_UNIT" ] && [ -n "$SILENT_UNIT" ] && [ -n "$VIEWER" ] || return 1
	hub_start "$DB" hub || return 1
	A1="$E2E_DIR/c1.db"
	AD="$E2E_DIR/d.db"
	agent "$A1" init --unit "$C1_UNIT" --hub "$HUB_URL" \
		--token "$(sed -n 's/^token: //p' "$E2E_DIR/c1.tok")" || return 1
	agent "$AD" init --unit "$D_UNIT" --hub "$HUB_URL" \
		--token "$(sed -n 's/^token: //p' "$E2E_DIR/d.tok")" || return 1
	for d in 2021-01-17 2021-02-14 2021-03-14 2021-04-11 2021-05-16 2021-06-13 2021-07-11; do
		agent "$A1" add meeting kind=joint held_on=$d attendees=25 || return 1
	done
	agent "$A1" add meeting kind=joint held_on=2020-06-14 || return 1
	agent "$A1" add volunteer kind=green_shipper started_on=2021-08-01 teams=3 participations=420 \
		"title=Shipper xanh đi chợ giúp dân" || return 1
	agent "$AD" add meeting kind=giao_ban held_on=2021-03-01 || return 1
	agent "$AD" add meeting kind=giao_ban held_on=2021-09-01 || return 1
	agent "$AD" add meeting kind=giao_nhiem_vu held_on=2021-04-01 || return 1
	agent "$A1" sync || return 1
	agent "$AD" sync || return 1
	return 0
}

browser_missing() {
	for c in $CASES; do fail "dashboard_views__$c" "$1"; done
	e2e_finish
}

if ! setup; then
	fail dashboard_views__setup "cannot build the province: $(tail -5 "$E2E_DIR/agent.out" "$E2E_DIR/init.out" 2>/dev/null | tr '\n' ' ')"
	e2e_finish
fi
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || browser_missing "chromium is not installed (scripts/deps.sh test)"
[ -x "${CHROMEDRIVER:-/usr/bin/chromedriver}" ] || browser_missing "chromedriver is not installed (chromium-driver)"
"$PY" -c 'import selenium' 2>/dev/null || browser_missing "python3-selenium is not installed"

mkdir -p "$ART"
timeout 300 "$PY" - "$HUB_URL" "$VIEWER" "$E2E_DIR" "$ART" "$SILENT_UNIT" "$C1_UNIT" "$D_UNIT" \
	>"$E2E_DIR/views.out" 2>"$E2E_DIR/views.err" <<'PY' &
import base64, os, re, sys
sys.path.insert(0, "tests/e2e")
import browser

url, token, tmp, art, silent, c1, district = sys.argv[1:8]
results = {}

def case(name, ok, why=""):
    # a case passes only if it passes at every size it is checked at
    prev = results.get(name, (True, ""))
    results[name] = (prev[0] and ok, prev[1] if prev[1] or ok else why)

def attr(e, a):
    return e.get_attribute(a) or ""

def check(name, w, fn):
    """Runs one check at one size; an exception (an element missing) fails that case only."""
    try:
        fn()
    except Exception as e:
        case(name, False, "%d px: %s: %s" % (w, type(e).__name__, str(e).splitlines()[0][:300]))

def year_case(d, w):
    year = attr(d.find_element("css selector", "[data-report-year]"), "data-report-year")
    case("opens_on_the_latest_year_with_data",
         year == "2021" and browser.visible(d, "[data-year-note]") != [],
         "%d px: the page opened on %r, not 2021 (the latest year with data), or did not say so" % (w, year))

def overflow_case(d, w):
    bad = browser.overflowing(d)
    case("no_element_wider_than_the_viewport", not bad, "%d px: %s" % (w, "; ".join(bad[:5])))

def legend_case(d, w):
    legends = browser.visible(d, "figure.lk-chart figcaption.lk-legend")
    targets = browser.visible(d, "figure.lk-chart .lk-tline")
    labels = [attr(f, "aria-label") for f in d.find_elements("css selector", "figure.lk-chart")]
    case("legend_and_target_visible",
         len(legends) == 13 and len(targets) > 0 and all(l.startswith("Biểu đồ cột:") for l in labels)
         and browser.visible(d, "figure[data-chart=joint] .lk-tline") != [],
         "%d px: %d legends (want 13), %d target lines, labels %r" % (w, len(legends), len(targets), labels[:2]))

def caveat_case(d, w):
    cav = browser.visible(d, "[data-caveat='1']")
    rows = d.find_elements("css selector", "[data-caveat-unit='%s']" % silent)
    tile = d.find_elements("css selector", "a.lk-tile[data-unit='%s']" % silent)
    case("caveat_shown_for_a_commune_never_synced",
         len(cav) >= 2 and any("Phường Hàm Tiến" in e.text for e in cav) and rows != []
         and tile != [] and attr(tile[0], "data-fresh") == "never",
         "%d px: %d caveats shown, list rows %d, tile %r" % (w, len(cav), len(rows),
                                                        [attr(t, "data-fresh") for t in tile]))

def print_case(d, w, h):
    # print: A4 portrait at 96 dpi less 12 mm margins is about 703 px wide
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    browser.set_viewport(d, 703, 1000)
    try:
        bad = browser.overflowing(d)
        hidden = browser.visible(d, "form.pick") == []
        case("prints_on_a4_without_overflow", not bad and hidden,
             "print: %s; picker hidden %s" % ("; ".join(bad[:5]), hidden))
        pdf = d.execute_cdp_cmd("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69,
                                                    "printBackground": True})
        with open(os.path.join(art, "dashboard-a4.pdf"), "wb") as f:
            f.write(base64.b64decode(pdf["data"]))
    finally:
        d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        browser.set_viewport(d, w, h)

def tiles_case(d, w):
    # every tile links to its unit's figures; follow a commune's, the silent commune's
    # and the district's
    tiles = d.find_elements("css selector", "a.lk-tile[data-unit]")
    hrefs = {attr(t, "data-unit"): attr(t, "href") for t in tiles}
    wrong = [u for u, hr in hrefs.items() if not re.search(r"/\?unit=%s&year=2021$" % re.escape(u), hr)]
    opened = []
    for u in (c1, silent, district):
        d.find_element("css selector", "a.lk-tile[data-unit='%s']" % u).click()
        opened.append((u, attr(d.find_element("css selector", "[data-report-unit]"), "data-report-unit")))
        d.back()
    case("tiles_link_to_their_unit",
         len(tiles) >= 10 and not wrong and all(u == g for u, g in opened),
         "%d px: %d tiles, wrong links %r, clicks opened %r" % (w, len(tiles), wrong[:3], opened))

for w, h in ((390, 844), (1366, 768)):
    d = browser.open_browser(w, h, os.path.join(tmp, "profile-%d" % w))
    try:
        # the login link, as pasted into the address bar (PROTOCOL.md §10); no year
        d.get(url + "/?token=" + token)
        check("opens_on_the_latest_year_with_data", w, lambda: year_case(d, w))
        check("no_element_wider_than_the_viewport", w, lambda: overflow_case(d, w))
        check("legend_and_target_visible", w, lambda: legend_case(d, w))
        check("caveat_shown_for_a_commune_never_synced", w, lambda: caveat_case(d, w))
        browser.full_screenshot(d, os.path.join(art, "dashboard-%d.png" % w))
        if w == 1366:
            check("prints_on_a4_without_overflow", w, lambda: print_case(d, w, h))
        check("tiles_link_to_their_unit", w, lambda: tiles_case(d, w))
    finally:
        d.quit()

for w in (390, 1366):
    p = os.path.join(art, "dashboard-%d.png" % w)
    case("screenshots_kept", os.path.exists(p) and os.path.getsize(p) > 10000, "%s missing or empty" % p)
p = os.path.join(art, "dashboard-a4.pdf")
case("screenshots_kept", os.path.exists(p) and open(p, "rb").read(5) == b"%PDF-", "no A4 PDF")

for name, (ok, why) in results.items():
    print(("[       OK ] dashboard_views__%s" % name) if ok else
          ("[  FAILED  ] dashboard_views__%s: %s" % (name, why)))
sys.exit(0 if all(ok for ok, _ in results.values()) else 1)
PY
pid=$!
e2e_track $pid
wait $pid
rc=$?
cat "$E2E_DIR/views.out"
for c in $CASES; do
	grep -q "dashboard_views__$c" "$E2E_DIR/views.out" ||
		fail "dashboard_views__$c" "the browser run ended early (exit $rc): $(tail -5 "$E2E_DIR/views.err" | tr '\n' ' ' | cut -c1-600)"
done
E2E_FAILED=$((E2E_FAILED + $(grep -c '^\[  FAILED  \]' "$E2E_DIR/views.out")))

# the hub ran clean under the sanitizers
if grep -q 'ERROR: AddressSanitizer\|runtime error:' "$E2E_DIR/hub.log"; then
	fail dashboard_views__hub_clean_under_sanitizers "$(grep -m2 'ERROR\|runtime error' "$E2E_DIR/hub.log")"
else
	ok dashboard_views__hub_clean_under_sanitizers
fi
e2e_finish
