"""accounts_browser.py — the viewer accounts in headless Chromium (tests/e2e/accounts.sh),
at 390×844 (a phone) and 1366×768, through tests/e2e/browser.py:

    accounts_browser.py HUB_URL INVITE_LINK NAME PASSWORD DISTRICT_NAME DISTRICT_PASSWORD OUT_DIR

For each size: the one-time link's form (at 390 only: the link works once) and the
login form are readable without sideways scrolling; a person sets a password through the
link, logs out, logs in with name and password by typing into the form and reaches the
dashboard; the district account is refused the province's page (403 text); screenshots
OUT_DIR/login-WIDTH.png, invite-390.png, refused-WIDTH.png. Prints one line per check
"ok NAME" or "fail NAME: why"; exits 1 when any failed.
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser  # noqa: E402
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

FAILED = 0


def check(name, cond, why=""):
    global FAILED
    if cond:
        print("ok " + name)
    else:
        FAILED += 1
        print("fail %s: %s" % (name, why))


def login(d, hub, name, password):
    """Types and submits the login form, then waits until the browser has left it
    (the click returns before the answer to the POST is loaded)."""
    d.get(hub + "/")
    d.find_element(By.NAME, "name").send_keys(name)
    d.find_element(By.NAME, "password").send_keys(password)
    form = d.find_element(By.CSS_SELECTOR, "form button[type=submit]")
    form.click()
    try:
        WebDriverWait(d, 20).until(EC.staleness_of(form))
        WebDriverWait(d, 20).until(
            lambda drv: drv.execute_script("return document.readyState") == "complete")
    except TimeoutException:
        pass  # the check that follows says what the page shows


def main():
    hub, invite, name, password, dname, dpassword, out = sys.argv[1:8]
    for (w, h) in ((390, 844), (1366, 768)):
        with tempfile.TemporaryDirectory(prefix="lk-acct.") as prof:
            d = browser.open_browser(w, h, prof)
            try:
                if w == 390:
                    d.get(invite)
                    bad = browser.overflowing(d)
                    check("invite_form_fits_%d" % w, not bad and "Đặt mật khẩu" in d.page_source,
                          "; ".join(bad[:3]))
                    browser.full_screenshot(d, os.path.join(out, "invite-%d.png" % w))
                    d.find_element(By.NAME, "password").send_keys(password)
                    d.find_element(By.NAME, "password2").send_keys(password)
                    d.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
                    check("invite_sets_password_and_logs_in_%d" % w,
                          "data-report-unit" in d.page_source, d.current_url)
                    d.get(hub + "/?logout=1")
                d.get(hub + "/")
                bad = browser.overflowing(d)
                fields = browser.visible(d, "input[name=name], input[name=password], input[name=remember]")
                check("login_form_fits_%d" % w, not bad and len(fields) == 3,
                      "; ".join(bad[:3]) or "%d fields visible" % len(fields))
                browser.full_screenshot(d, os.path.join(out, "login-%d.png" % w))
                login(d, hub, name, password)
                check("login_with_name_and_password_%d" % w, "data-report-unit" in d.page_source,
                      d.current_url)
                d.get(hub + "/?logout=1")
                check("logout_shows_the_login_form_%d" % w,
                      'name="password"' in d.page_source and "data-report-unit" not in d.page_source)
                login(d, hub, dname, dpassword)
                own = "data-report-unit" in d.page_source
                d.get(hub + "/?unit=60")
                refused = "chỉ được xem số liệu của đơn vị mình" in d.page_source and \
                    "data-figure" not in d.page_source
                browser.full_screenshot(d, os.path.join(out, "refused-%d.png" % w))
                bad = browser.overflowing(d)
                check("district_account_refused_the_province_%d" % w, own and refused and not bad,
                      "own page %s, refused %s, %s" % (own, refused, "; ".join(bad[:3])))
            finally:
                d.quit()
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
