"""app_browser.py — drives the office app (issue 13) in headless Chromium through
WebDriver (Debian's python3-selenium with chromium-driver), as a commune secretary
would: types into the forms and clicks. Run by tests/e2e/app_browser.sh, which starts
the real lienket-hub and `lienket-agent app --no-open` and checks the hub afterwards.

  /usr/bin/python3 tests/e2e/app_browser.py --url URL --dir DIR --art ART

URL is the start address with its one-time secret. Prints one cmocka-style line per
case ([       OK ] app_browser__… / [  FAILED  ] app_browser__…: reason), writes what
the shell needs (the figures shown on the page) to DIR/page.json and screenshots to
ART. Fields are found through their <label> (so a label not bound to its input fails
the test), choices by their Vietnamese text, linked records by typing part of a name.
"""
import argparse
import json
import os
import sys
import time
import traceback

from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser  # noqa: E402  (tests/e2e/browser.py: the one Chromium driver of the browser tests)

WAIT_S = 10          # one step of the page (a save, a search) answers well within this
SYNC_WAIT_S = 45     # a sync of a few dozen changes to a hub on loopback, under ASan
FAILED = []


def ok(name):
    print("[       OK ] app_browser__%s" % name, flush=True)


def fail(name, why):
    FAILED.append(name)
    print("[  FAILED  ] app_browser__%s: %s" % (name, str(why).replace("\n", " ")[:600]), flush=True)


class Case:
    """with Case("name"): … — OK when the block ends, FAILED with the exception."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is None:
            ok(self.name)
        else:
            where = traceback.extract_tb(tb)[-1]
            fail(self.name, "%s: %s (line %d)" % (et.__name__, ev, where.lineno))
        return True  # the next case still runs


class App:
    def __init__(self, url, profile):
        self.d = browser.open_browser(1366, 768, profile)
        self.url = url
        self.origin = url.split("/?")[0]

    def wait(self, cond, what, timeout=WAIT_S):
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.05).until(lambda d: cond())
        except TimeoutException:
            raise AssertionError("timed out waiting for " + what)

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def go(self, hash_):
        """Moves to a screen; a form left unsaved (a case that failed) is given up."""
        self.js("location.hash = arguments[0]", hash_)
        time.sleep(0.05)
        if self.js("return !!document.querySelector('dialog[open] [data-action=confirm]')"):
            self.click("dialog[open] [data-action=confirm]")
        self.wait(lambda: self.js("return document.querySelector('main h1') !== null && "
                                  "!/^Đang/.test(document.querySelector('main').textContent.trim())"), "screen " + hash_)

    def field(self, name):
        """The input of the form's field `name` (docs/app-api.md), which must have a
        <label> bound to it."""
        e = self.js("const e = document.getElementById('fld-' + arguments[0]); "
                    "return e && e.labels && e.labels.length ? e : null", name)
        assert e is not None, "no labelled input for the field '%s'" % name
        return e

    def type(self, label, text):
        e = self.field(label)
        e.clear()
        e.send_keys(text)
        return e

    def choose(self, label, visible):
        Select(self.field(label)).select_by_visible_text(visible)

    def error_at(self, name):
        """The error shown at the field `name` ('' when none); the input must point to
        it with aria-describedby and be marked aria-invalid."""
        return self.js("""
            const i = document.getElementById('fld-' + arguments[0]), p = document.getElementById('err-' + arguments[0]);
            if (!i || !p || p.hidden) return '';
            if (!(i.getAttribute('aria-describedby') || '').split(' ').includes(p.id)) return 'not described by its error';
            if (i.getAttribute('aria-invalid') !== 'true') return 'not marked invalid';
            return p.textContent;""", name)

    def options(self, inp):
        """Texts of the picker's options as shown (waits for the listbox to settle)."""
        lb = inp.get_attribute("aria-controls")
        self.wait(lambda: self.js("const l = document.getElementById(arguments[0]); return l && !l.hidden && "
                                  "l.children.length > 0", lb), "the picker's list")
        time.sleep(0.3)  # a later answer for the last keystroke may still replace it
        self.wait(lambda: self.js("const l = document.getElementById(arguments[0]); return l && !l.hidden", lb),
                  "the picker's list")
        return self.js("return Array.from(document.getElementById(arguments[0]).children).map(li => li.textContent)", lb)

    def pick(self, label, typed, want):
        """Types `typed` into a picker and chooses the entry whose label starts with `want`."""
        inp = self.field(label)
        inp.clear()
        inp.send_keys(typed)
        lb = inp.get_attribute("aria-controls")
        self.wait(lambda: self.js("""
            const l = document.getElementById(arguments[0]);
            return l && !l.hidden && Array.from(l.querySelectorAll('[role=option] .pick-label'))
              .some(s => s.textContent.startsWith(arguments[1]));""", lb, want), "'%s' in the list for '%s'" % (want, typed))
        opt = self.js("""
            return Array.from(document.getElementById(arguments[0]).querySelectorAll('[role=option]'))
              .find(li => li.querySelector('.pick-label').textContent.startsWith(arguments[1]));""", lb, want)
        opt.click()
        return inp

    def click(self, css):
        self.d.find_element(By.CSS_SELECTOR, css).click()

    def save(self):
        self.click("main [data-action=save]")

    def saved(self, key):
        """After Lưu: back on the list of `key`, nothing left to fix."""
        self.wait(lambda: self.js("return location.hash") == "#/ho-so/" + key and
                  self.js("return document.querySelector('table.list[data-form=\"%s\"] tbody') !== null" % key),
                  "the list of %s after saving (form errors: %s)" % (key, self.form_errors()))

    def form_errors(self):
        try:
            return self.js("return Array.from(document.querySelectorAll('.field-error:not([hidden])')).map(e => e.id + '=' + e.textContent).join('; ') + ' ' + (document.getElementById('form-summary') || {}).textContent")
        except WebDriverException:
            return "?"

    def new(self, key):
        self.go("#/ho-so/" + key)
        self.click("main [data-action=new]")
        self.wait(lambda: self.js("return document.querySelector('form.record[data-form=\"%s\"]') !== null" % key), "the form " + key)

    def api(self, path):
        """GET from the page's own origin with its session (what the page itself reads)."""
        return self.d.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.json()).then(done, e => done({error: String(e)}));""", path)

    def rows(self, key, q=""):
        return self.api("/api/forms/%s?limit=500&q=%s" % (key, q))

    def size(self, width, height):
        browser.set_viewport(self.d, width, height)
        self.d._lk_size = (width, height)

    def console_errors(self):
        """Script errors (an answer 4xx/5xx the page handled is logged by Chromium as a
        network error: not counted)."""
        return [e["message"] for e in self.d.get_log("browser") if e["level"] == "SEVERE" and e.get("source") != "network"]


def run(a):
    app = App(a.url, os.path.join(a.dir, "chromium-profile"))
    d = app.d
    year = a.year
    page = {}
    try:
        with Case("opens_with_the_start_secret_and_drops_it_from_the_address"):
            d.get(a.url)
            app.wait(lambda: app.js("return document.querySelectorAll('#nav-list a').length") > 5, "the navigation")
            assert "k=" not in d.current_url, "the secret stays in the address: " + d.current_url
            labels = app.js("return Array.from(document.querySelectorAll('#nav-list a')).map(a => a.textContent)")
            for want in ("Chi đoàn", "Cuộc họp, sinh hoạt", "Thẻ bảo hiểm y tế", "Đồng bộ với tỉnh"):
                assert any(want in t for t in labels), "no '%s' in the navigation %r" % (want, labels)
            app.wait(lambda: app.js("return !!document.getElementById('sync-pending')"), "the sync state on the home screen")

        # ---- a branch, with a required field left empty first
        with Case("missing_required_field_is_shown_at_the_field_and_nothing_saved"):
            before = app.rows("branch")["total"]
            app.new("branch")
            app.type("opened_on", "01/01/2021")
            app.save()
            app.wait(lambda: app.error_at("name") != "", "an error at 'name' (errors: %s)" % app.form_errors())
            assert "Chưa điền" in app.error_at("name"), app.error_at("name")
            time.sleep(0.3)
            assert app.rows("branch")["total"] == before, "a branch was saved while the form was wrong"
            assert app.js("return location.hash").startswith("#/ho-so/branch/"), "left the form"
            app.type("name", "Thôn Bình Hưng")
            app.save()
            app.saved("branch")
            r = app.rows("branch", "binh hung")
            assert r["total"] == 1 and r["rows"][0]["values"]["opened_on"] == "2021-01-01", r

        with Case("people_are_added_and_one_deleted_after_confirmation"):
            for name, born, gender in (("Nguyễn Thị Hoa", "1998", "Nữ"), ("Đỗ Văn Nam", "1995", "Nam"),
                                       ("Người Nhập Nhầm", "2000", "Nam"), ("Người Đã Chuyển Đi", "1990", "Nữ")):
                app.new("person")
                app.type("full_name", name)
                app.type("birth_year", born)
                app.choose("gender", gender)
                app.save()
                app.saved("person")
            app.go("#/ho-so/person")
            d.find_element(By.ID, "list-search").send_keys("nhap nham")
            app.wait(lambda: app.js("return document.querySelectorAll('table.list tbody tr').length") == 1,
                     "one row for 'nhap nham'")
            app.click("table.list tbody tr [data-action=delete]")
            app.wait(lambda: app.js("return !!document.querySelector('dialog[open]')"), "the confirmation dialog")
            d.find_element(By.XPATH, "//dialog[@open]//button[normalize-space()='Không']").click()
            time.sleep(0.3)
            assert app.rows("person", "nhap nham")["total"] == 1, "deleted without confirmation"
            app.click("table.list tbody tr [data-action=delete]")
            app.wait(lambda: app.js("return !!document.querySelector('dialog[open]')"), "the confirmation dialog")
            app.click("dialog[open] [data-action=confirm]")
            app.wait(lambda: app.rows("person", "nhap nham")["total"] == 0, "the row deleted")
            assert app.rows("person")["total"] == a.many + 3

        with Case("lists_sort_and_page_on_the_server"):
            total = a.many + 3
            app.go("#/ho-so/person")
            box = d.find_element(By.ID, "list-search")
            assert box.get_attribute("value") == "nhap nham", "the list forgot its search"
            box.send_keys(Keys.CONTROL, "a")
            box.send_keys(Keys.DELETE)
            app.wait(lambda: app.js("return document.querySelectorAll('table.list tbody tr').length") == 50, "a page of 50")
            count = app.js("return document.getElementById('list-count').textContent")
            assert count == "Có %d bản ghi; đang xem 1–50" % total, count
            pager = lambda: app.js("return document.querySelector('.pager .page-of').textContent")
            assert pager() == "Trang 1 / 3", pager()
            ids = lambda: app.js("return Array.from(document.querySelectorAll('table.list tbody tr')).map(r => r.dataset.id)")
            first = ids()
            app.click(".pager [data-action=next]")
            app.wait(lambda: pager() == "Trang 2 / 3", "page 2")
            second = ids()
            assert len(second) == 50 and not set(first) & set(second), "page 2 repeats page 1"
            app.click(".pager [data-action=next]")
            app.wait(lambda: pager() == "Trang 3 / 3", "page 3")
            assert len(ids()) == total - 100 and not (set(ids()) & (set(first) | set(second)))
            for want_dir, aria in (("asc", "ascending"), ("desc", "descending")):
                app.click("table.list th button[data-sort=full_name]")
                app.wait(lambda: app.js("return document.querySelector('table.list th[aria-sort=\"%s\"] [data-sort=full_name]') !== null" % aria),
                         "the column marked %s" % aria)
                api = [r["id"] for r in app.api("/api/forms/person?sort=full_name&dir=%s&limit=50&offset=0" % want_dir)["rows"]]
                app.wait(lambda: ids() == api, "page 1 in the server's %s order" % want_dir)
                assert pager() == "Trang 1 / 3", "sorting did not go back to page 1"
            app.js("document.getElementById('list-search').focus()")
            d.find_element(By.ID, "list-search").send_keys("THU 12")
            # every word somewhere, case and diacritics aside: Người Thứ 012, 112 and 120
            app.wait(lambda: len(ids()) == 3, "3 rows for 'THU 12' (%s)" % app.js("return document.getElementById('list-count').textContent"))
            names = app.js("return Array.from(document.querySelectorAll('table.list tbody tr td:first-child')).map(t => t.textContent)")
            assert sorted(n[:13] for n in names) == ["Người Thứ 012", "Người Thứ 112", "Người Thứ 120"], names

        # ---- the server's own refusal (422) at its field: the person picked is deleted
        # (as from another window) before Lưu; the agent refuses a record naming a
        # missing person at entry, and the page shows why at the picker
        with Case("server_refusal_is_shown_at_its_field_and_nothing_saved"):
            app.new("support")
            app.pick("person_id", "chuyen di", "Người Đã Chuyển Đi")
            app.choose("kind", "Vay vốn")
            app.type("on_date", "10/06/2021")
            app.type("amount_vnd", "20.000.000")
            gone = app.rows("person", "chuyen di")["rows"][0]["id"]
            st = app.d.execute_async_script("""
                const done = arguments[arguments.length - 1];
                fetch('/api/meta').then(r => r.json()).then(m => fetch('/api/forms/person/' + arguments[0],
                  {method: 'DELETE', headers: {'X-CSRF-Token': m.csrf}})).then(r => done(r.status), e => done(String(e)));""", gone)
            assert st == 200, "the other window's delete: %r" % st
            app.save()
            app.wait(lambda: app.error_at("person_id") != "", "the server's error at 'person_id' (%s)" % app.form_errors())
            assert app.js("return location.hash").startswith("#/ho-so/support/"), "left the form"
            assert app.rows("support")["total"] == 0, "a support record naming a deleted person was saved"
            assert app.rows("person")["total"] == a.many + 2

        # ---- the secretary's term: a folded search, an impossible date
        with Case("search_ignores_case_and_diacritics"):
            app.new("role")
            inp = app.field("person_id")
            inp.send_keys("nguyen thi hoa")
            opts = app.options(inp)
            assert any(o.startswith("Nguyễn Thị Hoa") for o in opts), opts
            inp.clear()
            inp.send_keys("do")
            app.wait(lambda: any(o.startswith("Đỗ Văn Nam") for o in app.options(inp)), "'Đỗ Văn Nam' for 'do'")

        with Case("impossible_date_is_shown_at_the_field_and_nothing_saved"):
            app.pick("person_id", "nguyen thi hoa", "Nguyễn Thị Hoa")
            app.choose("role", "Bí thư chi đoàn")
            app.pick("of_unit", "binh hung", "Thôn Bình Hưng")
            app.type("term_from", "31/02/2021")
            app.save()
            app.wait(lambda: "Ngày không tồn tại" in app.error_at("term_from"), "'Ngày không tồn tại' at 'term_from' (%s)" % app.form_errors())
            assert app.rows("role")["total"] == 0, "a role was saved with 31/02/2021"
            app.type("term_from", "1/1/2021")
            app.save()
            app.saved("role")
            r = app.rows("role")["rows"]
            assert len(r) == 1 and r[0]["values"]["term_from"] == "2021-01-01" and r[0]["values"]["role"] == "branch_secretary", r

        # ---- an insurance card: a misspelt name, then the calendar
        with Case("misspelt_name_is_shown_at_the_picker"):
            app.new("insurance_card")
            inp = app.field("person_id")
            inp.send_keys("Nguyen Thi Hao")
            app.options(inp)
            # nothing for the misspelt name; the people found without its last word offered
            app.wait(lambda: any(o.startswith("Nguyễn Thị Hoa") for o in app.options(inp)), "'Nguyễn Thị Hoa' offered")
            opts = app.options(inp)
            assert opts[0] == "Không tìm thấy “Nguyen Thi Hao”. Có phải là:", opts
            app.type("valid_from", "01/01/2021")
            app.save()
            app.wait(lambda: "Nguyen Thi Hao" in app.error_at("person_id"), "the misspelt name at 'person_id' (%s)" % app.form_errors())
            assert app.rows("insurance_card")["total"] == 0

        with Case("calendar_writes_the_chosen_day_as_dd_mm_yyyy"):
            app.pick("person_id", "nguyen thi hoa", "Nguyễn Thị Hoa")
            until = app.field("valid_until")
            btn = d.find_element(By.CSS_SELECTOR, "main [data-calendar=valid_until]")
            btn.click()
            app.wait(lambda: app.js("return !!document.querySelector('.calendar')"), "the calendar")
            today = app.js("return document.querySelector('.cal-day.today') && document.querySelector('.cal-day.today').dataset.date")
            assert today, "the calendar does not mark today"
            d.find_element(By.CSS_SELECTOR, ".calendar [aria-label='Năm sau']").click()
            nxt = str(int(today[:4]) + 1)
            app.wait(lambda: app.js("return !!document.querySelector('.calendar [data-date=\"%s-%s-01\"]')" % (nxt, today[5:7])), "next year's month")
            # keyboard: the focused day moves with the arrows; Enter chooses it
            focused = app.js("return document.activeElement.dataset.date")
            d.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
            d.switch_to.active_element.send_keys(Keys.ENTER)
            app.wait(lambda: until.get_attribute("value") != "", "the date written by the calendar")
            y, m, dd = focused.split("-")
            import datetime
            want = datetime.date(int(y), int(m), int(dd)) + datetime.timedelta(days=1)
            assert until.get_attribute("value") == want.strftime("%d/%m/%Y"), (until.get_attribute("value"), want)
            assert not app.js("return !!document.querySelector('.calendar')"), "the calendar stays open"
            # and with the mouse: 31 December of that year, month by month
            btn.click()
            app.wait(lambda: app.js("return !!document.querySelector('.calendar')"), "the calendar")
            for _ in range(12):
                if app.js("return !!document.querySelector('.calendar [data-date=\"%s-12-31\"]')" % want.year):
                    break
                d.find_element(By.CSS_SELECTOR, ".calendar [aria-label='Tháng sau']").click()
            app.click(".calendar [data-date='%s-12-31']" % want.year)
            assert until.get_attribute("value") == "31/12/%d" % want.year, until.get_attribute("value")
            app.type("card_no", "DN4601234567890")
            app.save()
            app.saved("insurance_card")
            r = app.rows("insurance_card")["rows"]
            assert len(r) == 1 and r[0]["values"]["valid_until"] == "%d-12-31" % want.year, r

        with Case("a_person_still_linked_is_not_deleted_and_the_list_says_why"):
            app.go("#/ho-so/person")
            box = d.find_element(By.ID, "list-search")
            box.send_keys(Keys.CONTROL, "a")
            box.send_keys("nguyen thi hoa")
            app.wait(lambda: app.js("return document.querySelectorAll('table.list tbody tr').length") == 1, "one row for Hoa")
            app.click("table.list tbody tr [data-action=delete]")
            app.wait(lambda: app.js("return !!document.querySelector('dialog[open]')"), "the confirmation dialog")
            app.click("dialog[open] [data-action=confirm]")
            app.wait(lambda: app.js("const m = document.getElementById('list-msg'); return m && !m.hidden"), "the reason on the list")
            msg = app.js("return document.getElementById('list-msg').textContent")
            assert msg.startswith("Chưa xóa “Nguyễn Thị Hoa") and "422" not in msg and len(msg) > 40, msg
            assert app.rows("person", "nguyen thi hoa")["total"] == 1, "a person with a role and a card was deleted"

        # ---- a joint meeting with three branches, a volunteer activity
        with Case("joint_meeting_with_three_branches"):
            app.new("meeting")
            app.choose("kind", "Sinh hoạt liên chi đoàn")
            app.type("held_on", "14/03/2021")
            app.pick("host_branch_id", "BINH HUNG", "Thôn Bình Hưng")
            for typed, want in (("binh hung", "Thôn Bình Hưng"), ("dong hai", "Thôn Đông Hải"), ("lac dao", "Khu phố Lạc Đạo")):
                inp = app.pick("branches", typed, want)
                app.wait(lambda: inp.get_attribute("value") == "", "the picker emptied after a choice")
            chips = app.js("return Array.from(document.querySelectorAll('main .field-refs .chip span')).map(s => s.textContent)")
            assert len(chips) == 3, chips
            app.type("attendees", "25")
            app.save()
            app.saved("meeting")
            r = app.rows("meeting")["rows"]
            assert len(r) == 1 and len(r[0]["values"]["branches"]) == 3 and r[0]["values"]["held_on"] == "2021-03-14", r

        with Case("a_record_opens_with_names_and_labels_and_is_edited"):
            app.click("table.list tbody tr a")
            app.wait(lambda: app.js("return !!document.querySelector('form.record[data-form=meeting] .chip')"), "the meeting's form")
            chips = app.js("return Array.from(document.querySelectorAll('main .field-refs .chip span')).map(s => s.textContent)")
            assert sorted(chips) == sorted(["Thôn Bình Hưng", "Thôn Đông Hải", "Khu phố Lạc Đạo"]), chips
            assert app.field("held_on").get_attribute("value") == "14/03/2021"
            assert Select(app.field("kind")).first_selected_option.text == "Sinh hoạt liên chi đoàn"
            assert app.field("host_branch_id").get_attribute("value") == "Thôn Bình Hưng"
            app.type("attendees", "31")
            app.field("commune_secretary_attended").click()
            app.save()
            app.saved("meeting")
            v = app.rows("meeting")["rows"][0]["values"]
            assert v["attendees"] == 31 and v["commune_secretary_attended"] in (True, 1) and len(v["branches"]) == 3, v

        with Case("volunteer_activity_with_its_branch"):
            app.new("volunteer")
            app.choose("kind", "Hỗ trợ tiêm vắc xin")
            app.type("title", "Hỗ trợ tiêm vắc xin đợt 3")
            app.type("started_on", "05/09/2021")
            app.type("teams", "2")
            app.type("participations", "180")
            app.pick("branches", "binh hung", "Thôn Bình Hưng")
            app.size(1366, 768)
            d.save_screenshot(os.path.join(a.art, "app-form-1366x768.png"))
            app.save()
            app.saved("volunteer")
            r = app.rows("volunteer")["rows"]
            assert len(r) == 1 and r[0]["values"]["participations"] == 180 and r[0]["values"]["teams"] == 2, r

        # ---- CSV as Excel writes it: BOM, ';', Vietnamese headers, dd/mm/yyyy, CRLF
        with Case("csv_import_lists_wrong_lines_and_imports_nothing_then_a_good_file"):
            bad = os.path.join(a.dir, "nhiem-vu-sai.csv")
            good = os.path.join(a.dir, "nhiem-vu.csv")
            with open(bad, "wb") as fh:
                fh.write("\ufeffNội dung nhiệm vụ;Hạn\r\nVận động thanh niên hiến máu;15/04/2021\r\n"
                         "Dọn vệ sinh bãi biển;31/02/2021\r\n".encode("utf-8"))
            with open(good, "wb") as fh:
                fh.write("\ufeffNội dung nhiệm vụ;Hạn\r\nVận động thanh niên hiến máu;15/04/2021\r\n"
                         "Dọn vệ sinh bãi biển;28/02/2021\r\n".encode("utf-8"))
            app.go("#/ho-so/task")
            d.find_element(By.ID, "import-file").send_keys(bad)
            app.wait(lambda: app.js("return !!document.getElementById('import-errors')"), "the import's line errors")
            text = app.js("return document.getElementById('import-errors').textContent")
            assert "Dòng 3" in text and "Chưa nhập dòng nào" in text, text
            assert app.rows("task")["total"] == 0, "a file with a wrong line was imported in part"
            d.find_element(By.ID, "import-file").send_keys(good)
            app.wait(lambda: app.js("return !!document.getElementById('import-ok')"), "the import's success (%s)" %
                     app.js("return (document.getElementById('import-result') || {}).textContent"))
            assert "Đã nhập 2 dòng" in app.js("return document.getElementById('import-ok').textContent")
            app.wait(lambda: app.js("return document.querySelectorAll('table.list tbody tr').length") == 2, "the two tasks listed")
            r = sorted((x["values"]["title"], x["values"]["due_on"]) for x in app.rows("task")["rows"])
            assert r == [("Dọn vệ sinh bãi biển", "2021-02-28"), ("Vận động thanh niên hiến máu", "2021-04-15")], r

        with Case("csv_export_opens_in_excel_and_imports_back_unchanged"):
            href = d.find_element(By.CSS_SELECTOR, "main [data-action=export]").get_attribute("href")
            assert href.endswith("/api/export/task.csv"), href
            got = app.d.execute_async_script("""
                const done = arguments[arguments.length - 1];
                fetch(arguments[0]).then(r => r.arrayBuffer()).then(b => done(Array.from(new Uint8Array(b))), e => done(String(e)));""", href)
            raw = bytes(got)
            assert raw[:3] == b"\xef\xbb\xbf", raw[:20]
            text = raw.decode("utf-8-sig")
            assert "Nội dung nhiệm vụ" in text.splitlines()[0] and "28/02/2021" in text and "Dọn vệ sinh bãi biển" in text, text[:300]
            back = os.path.join(a.dir, "nhiem-vu-xuat.csv")
            with open(back, "wb") as fh:
                fh.write(raw)
            before = sorted(json.dumps(x["values"], sort_keys=True) for x in app.rows("task")["rows"])
            d.find_element(By.ID, "import-file").send_keys(back)
            app.wait(lambda: app.js("return !!document.getElementById('import-ok') || !!document.getElementById('import-errors')"), "the import's answer")
            assert app.js("return !!document.getElementById('import-ok')"), app.js("return document.getElementById('import-result').textContent")
            after = sorted(json.dumps(x["values"], sort_keys=True) for x in app.rows("task")["rows"])
            assert after == before, (before, after)

        # ---- sync from the page
        with Case("sync_from_the_page_sends_everything"):
            app.go("#/dong-bo")
            app.wait(lambda: app.js("return !!document.getElementById('sync-pending')"), "the sync state")
            pending = int(app.js("return document.getElementById('sync-pending').dataset.value"))
            assert pending > 0, "nothing waits before the sync"
            app.click("main [data-action=sync]")
            app.wait(lambda: app.js("""const p = document.getElementById('sync-pending'), l = document.getElementById('sync-last-ok');
                return p && p.dataset.value === '0' && l && !/Chưa/.test(l.textContent) &&
                  !document.getElementById('sync-progress');"""), "the sync to finish with nothing waiting (%s)" %
                     app.js("return (document.getElementById('sync-summary') || {}).textContent"), SYNC_WAIT_S)

        with Case("refused_record_is_listed_with_a_link_and_what_to_do"):
            app.wait(lambda: app.js("return document.getElementById('sync-badge').textContent") == "Tỉnh từ chối 1",
                     "the badge 'Tỉnh từ chối 1' (%s)" % app.js("return document.getElementById('sync-badge').textContent"))
            items = app.js("""return Array.from(document.querySelectorAll('#sync-refused .refused-item')).map(li => ({
                form: li.dataset.form, id: li.dataset.id, href: (li.querySelector('a') || {}).hash || '',
                reason: (li.querySelector('.refused-reason') || {}).textContent || '',
                advice: (li.querySelector('.refused-advice') || {}).textContent || ''}))""")
            assert len(items) == 1, items
            it = items[0]
            assert it["form"] == "pilot" and it["id"] == a.refused and it["href"].startswith("#/ho-so/pilot/" + a.refused), it
            assert len(it["reason"]) > len("Lý do: ") + 5 and "không rõ" not in it["reason"], it
            assert it["advice"].startswith("Cần làm: ") and len(it["advice"]) > len("Cần làm: ") + 5, it
            d.save_screenshot(os.path.join(a.art, "app-sync-1366x768.png"))
            app.click("#sync-refused .refused-item a")
            app.wait(lambda: app.js("return !!document.querySelector('form.record[data-form=pilot]')"), "the refused record's form")

        with Case("figures_this_year_beside_last_year"):
            app.go("#/so-lieu/%d" % year)
            app.wait(lambda: app.js("return document.querySelectorAll('#figures tbody[data-figure]').length") == 13,
                     "13 figures (%s)" % app.js("return document.getElementById('figures') && document.getElementById('figures').textContent.slice(0, 200)"))
            page["figures"] = app.js("""
                const out = {};
                for (const tb of document.querySelectorAll('#figures tbody[data-figure]'))
                  for (const tr of tb.querySelectorAll('tr[data-measure]'))
                    for (const td of tr.querySelectorAll('td[data-column]'))
                      out[tb.dataset.figure + '/' + tr.dataset.measure + '/' + td.dataset.column] =
                        [td.dataset.value, td.dataset.of];
                return out;""")
            d.save_screenshot(os.path.join(a.art, "app-figures-1366x768.png"))

        # ---- narrow window
        with Case("nothing_wider_than_a_390_px_window"):
            app.size(390, 844)
            bad = []
            for h, extra in (("#/", None), ("#/ho-so/meeting", None), ("#/ho-so/meeting/moi", "cal"),
                             ("#/ho-so/role/moi", "pick"), ("#/so-lieu/%d" % year, None), ("#/dong-bo", None)):
                app.go(h)
                time.sleep(0.3)
                if extra == "cal":
                    d.find_element(By.CSS_SELECTOR, "main [data-calendar]").click()
                    app.wait(lambda: app.js("return !!document.querySelector('.calendar')"), "the calendar")
                    d.save_screenshot(os.path.join(a.art, "app-calendar-390x844.png"))
                if extra == "pick":
                    app.field("person_id").send_keys("nguyen")
                    app.options(app.field("person_id"))
                w = browser.overflowing(d)
                if w:
                    bad.append("%s: %r" % (h, w[:5]))
            d.find_element(By.ID, "menu-toggle").click()
            app.wait(lambda: app.js("return getComputedStyle(document.getElementById('nav')).display") != "none", "the menu")
            w = browser.overflowing(d)
            if w:
                bad.append("menu: %r" % (w[:5],))
            assert not bad, bad

        with Case("screenshots_kept"):
            app.size(390, 844)
            app.go("#/ho-so/meeting")
            time.sleep(0.3)
            d.save_screenshot(os.path.join(a.art, "app-390x844.png"))
            app.size(1366, 768)
            app.go("#/ho-so/meeting")
            time.sleep(0.3)
            d.save_screenshot(os.path.join(a.art, "app-1366x768.png"))
            app.go("#/")
            app.wait(lambda: app.js("return !!document.getElementById('sync-last-ok')"), "the home screen's sync state")
            d.save_screenshot(os.path.join(a.art, "app-home-1366x768.png"))
            for f in ("app-390x844.png", "app-1366x768.png", "app-form-1366x768.png", "app-home-1366x768.png"):
                with open(os.path.join(a.art, f), "rb") as fh:
                    assert fh.read(4) == b"\x89PNG", f

        with Case("keyboard_reaches_every_control_with_a_visible_focus"):
            app.go("#/ho-so/meeting/moi")
            seen, unlabelled, invisible = set(), [], []
            app.js("document.querySelector('main h1').focus()")
            for _ in range(60):
                d.switch_to.active_element.send_keys(Keys.TAB)
                info = app.js("""
                    const e = document.activeElement, s = getComputedStyle(e);
                    const name = e.getAttribute('aria-label') || (e.labels && e.labels[0] && e.labels[0].textContent) || e.textContent;
                    return {id: e.id, tag: e.tagName, name: (name || '').trim(),
                            outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2};""")
                key = info["id"] or info["tag"] + info["name"]
                seen.add(key)
                if info["tag"] in ("INPUT", "SELECT", "TEXTAREA", "BUTTON", "A") and not info["name"] and info["tag"] != "INPUT":
                    unlabelled.append(info)
                if info["tag"] != "BODY" and not info["outline"]:
                    invisible.append(key)
            fields = app.js("return Array.from(document.querySelectorAll('main form.record input, main form.record select, main form.record textarea')).map(e => e.id)")
            missing = [f for f in fields if f not in seen]
            no_label = app.js("return Array.from(document.querySelectorAll('main form.record input, main form.record select, main form.record textarea')).filter(e => !e.labels || !e.labels.length).map(e => e.id)")
            assert not missing and not unlabelled and not invisible and not no_label, \
                "not reached: %r, unnamed: %r, focus not visible: %r, no label: %r" % (missing, unlabelled[:3], invisible[:5], no_label)

        with Case("page_loads_nothing_from_outside"):
            urls = app.js("return performance.getEntriesByType('resource').map(e => e.name)")
            outside = [u for u in urls if not u.startswith(app.origin)]
            assert not outside, outside
            errs = app.console_errors()
            assert not errs, errs
    finally:
        with open(os.path.join(a.dir, "page.json"), "w", encoding="utf-8") as fh:
            json.dump(page, fh, ensure_ascii=False)
        d.quit()


def run_first_screen(a):
    """The first screen (docs/app-api.md §9): the app started on a laptop with no
    database asks for the join code; wrong codes are told at the field; the right one
    shows the office, and its confirmation lands in the app."""
    app = App(a.url, os.path.join(a.dir, "chromium-profile-first"))
    d = app.d

    def check(code):
        box = app.field("code")
        box.clear()
        box.send_keys(code)
        d.find_element(By.CSS_SELECTOR, "main [data-action=check]").click()
        app.wait(lambda: app.error_at("code") != "" or app.js("return !document.getElementById('setup-office').hidden"),
                 "an answer to the code")
        return app.error_at("code")

    def both_sizes(name):
        """Screenshots at 1366×768 and 390×844; nothing wider than the narrow window."""
        d.save_screenshot(os.path.join(a.art, name + "-1366x768.png"))
        app.size(390, 844)
        time.sleep(0.2)
        w = browser.overflowing(d)
        assert not w, w[:5]
        d.save_screenshot(os.path.join(a.art, name + "-390x844.png"))
        app.size(1366, 768)

    try:
        with Case("first_screen_asks_for_the_join_code"):
            d.get(a.url)
            app.wait(lambda: app.js("return !!document.getElementById('fld-code')"), "the join code's field")
            assert "k=" not in d.current_url, d.current_url
            assert app.js("return document.querySelector('main h1').textContent") == "Cài đặt Liên Kết cho văn phòng"
            assert not app.js("return document.getElementById('nav').offsetParent"), "the menu is shown before set-up"
            assert app.js("return document.activeElement.id") == "fld-code", "the field has no focus"
            both_sizes("app-first-screen")

        with Case("first_screen_an_empty_or_foreign_code_is_told_at_the_field"):
            d.find_element(By.CSS_SELECTOR, "main [data-action=check]").click()
            app.wait(lambda: app.error_at("code") != "", "an error for an empty code")
            assert "LK1." in app.error_at("code"), app.error_at("code")
            e = check("mã của tôi là 12345")
            assert "không phải mã tham gia" in e, e

        with Case("first_screen_a_mistyped_code_is_told_at_the_field"):
            e = check(a.mistyped)
            assert "gõ sai" in e and "gõ lại" in e, e

        with Case("first_screen_a_revoked_code_says_to_ask_for_a_new_sheet"):
            e = check(a.revoked)
            assert "thu hồi" in e and "phiếu mới" in e, e

        with Case("first_screen_an_unreachable_hub_says_what_to_do"):
            e = check(a.unreachable)
            assert "Không kết nối được máy chủ của Tỉnh" in e and "mạng Internet" in e, e

        with Case("first_screen_shows_the_office_before_setting_up"):
            # as copied from a printed sheet: the code wrapped over two lines
            e = check(a.code[:40] + "\n" + a.code[40:])
            assert e == "", e
            shown = app.js("return document.getElementById('setup-office').textContent")
            for want in (a.office, a.parent, "Cài đặt cho đơn vị này"):
                assert want in shown, "no '%s' in %r" % (want, shown)
            both_sizes("app-first-screen-office")

        with Case("first_screen_confirmed_lands_in_the_app"):
            d.find_element(By.CSS_SELECTOR, "main [data-action=join]").click()
            app.wait(lambda: app.js("return document.querySelectorAll('#nav-list a').length") > 5, "the app's menu",
                     timeout=SYNC_WAIT_S)
            app.wait(lambda: app.js("return !!document.getElementById('sync-pending')"), "the home screen")
            assert not app.js("return document.body.classList.contains('setup')")
            # the first sync (started by the set-up) brings the unit tree: the office's
            # name replaces "Đơn vị của máy này" at its end, without a reload
            app.wait(lambda: a.office in app.js("return document.getElementById('office').textContent || ''"),
                     "the office's name in the header", timeout=SYNC_WAIT_S)
            app.wait(lambda: a.office in app.js("return document.querySelector('main h1').textContent"),
                     "the office's name in the title", timeout=WAIT_S)
            d.save_screenshot(os.path.join(a.art, "app-first-screen-done-1366x768.png"))
            errs = app.console_errors()
            assert not errs, errs
    finally:
        d.quit()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--art", required=True)
    p.add_argument("--year", type=int, default=2021)
    p.add_argument("--many", type=int, help="members imported before the app started")
    p.add_argument("--refused", help="id of the pilot row the hub refuses")
    p.add_argument("--first-screen", action="store_true", help="the app on a laptop not set up yet")
    p.add_argument("--code", help="first screen: the office's join code")
    p.add_argument("--mistyped", help="first screen: that code with a typing mistake")
    p.add_argument("--revoked", help="first screen: a code the province revoked")
    p.add_argument("--unreachable", help="first screen: a code for a hub that does not answer")
    p.add_argument("--office", help="first screen: the office's name the hub gives")
    p.add_argument("--parent", help="first screen: the name of its district")
    a = p.parse_args()
    os.makedirs(a.art, exist_ok=True)
    try:
        if a.first_screen:
            run_first_screen(a)
        else:
            run(a)
    except Exception as e:  # the browser itself failed: every case not reported fails
        fail("driver", "%s: %s" % (type(e).__name__, e))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
