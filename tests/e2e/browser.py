"""browser.py — the one headless-Chromium driver of the browser tests (shared by the
dashboard's and the office app's suites, and by scripts/demo.sh for its phone
screenshot).

Debian's chromium driven by Debian's chromedriver through python3-selenium: no
download, nothing from outside. Import it from a test (with /usr/bin/python3, where
Debian installs selenium), or run it:

    /usr/bin/python3 tests/e2e/browser.py shot URL WIDTH HEIGHT OUT.png

What it offers:
  open_browser(width, height, profile)  a driver whose viewport is exactly width ×
                                        height CSS pixels (a phone: 390 × 844),
                                        fresh profile in the directory `profile`
  overflowing(driver)                   elements sticking out of the viewport
                                        sideways (a page that scrolls sideways);
                                        what sits inside a box that scrolls on
                                        its own (overflow-x auto) is allowed
  visible(driver, css)                  elements matching css that are on screen
                                        (size > 0, not hidden)
  full_screenshot(driver, path)         the whole page, not only the viewport

Environment: CHROMIUM (default /usr/bin/chromium), CHROMEDRIVER (default
/usr/bin/chromedriver). The caller quits the driver (driver.quit()), which stops
chromedriver and the browser it started; a shell test also runs the python process
under its PID bookkeeping (lib.sh e2e_track), so a hang is stopped with it.
"""
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common import utils

PAGE_MAX_HEIGHT = 20000  # a full-page screenshot taller than this is cut (memory)


class LoopbackService(Service):
    """chromedriver reached at 127.0.0.1: selenium names "localhost", which a machine
    without /etc/hosts (a minimal debootstrap tree) cannot resolve, and then fails with
    "Can not connect to the Service"."""

    @property
    def service_url(self):
        return "http://127.0.0.1:%d" % self.port

    def is_connectable(self):
        return utils.is_connectable(self.port, "127.0.0.1")


def open_browser(width, height, profile):
    opts = webdriver.ChromeOptions()
    opts.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-first-run", "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--disable-quic", "--hide-scrollbars",
              "--window-size=%d,%d" % (width, height), "--user-data-dir=%s" % profile):
        opts.add_argument(a)
    svc = LoopbackService(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    d = webdriver.Chrome(service=svc, options=opts)
    d.set_page_load_timeout(60)
    set_viewport(d, width, height)
    d._lk_size = (width, height)
    return d


def set_viewport(d, width, height):
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


# Runs in the page (through the DevTools protocol, so the page's CSP does not apply).
_OVERFLOW_JS = r"""
const vw = document.documentElement.clientWidth;
function scroller(e) {
  for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
    const ox = getComputedStyle(p).overflowX;
    if (ox === 'auto' || ox === 'scroll' || ox === 'hidden') return p;
  }
  return null;
}
function name(e) {
  let s = e.tagName.toLowerCase();
  if (e.id) s += '#' + e.id;
  if (e.className && typeof e.className === 'string') s += '.' + e.className.trim().split(/\s+/).join('.');
  return s;
}
const bad = [];
if (document.documentElement.scrollWidth > vw + 1)
  bad.push('the page is ' + document.documentElement.scrollWidth + ' px wide for ' + vw);
for (const e of document.querySelectorAll('body *')) {
  const r = e.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;
  if (r.right <= vw + 1 && r.left >= -1) continue;
  const s = scroller(e);
  if (s) { const sr = s.getBoundingClientRect(); if (sr.right <= vw + 1 && sr.left >= -1) continue; }
  bad.push(name(e) + ' spans ' + Math.round(r.left) + '..' + Math.round(r.right) + ' of ' + vw);
  if (bad.length > 20) break;
}
return bad;
"""


def overflowing(d):
    return d.execute_script(_OVERFLOW_JS)


_VISIBLE_JS = r"""
return Array.from(document.querySelectorAll(arguments[0])).filter(e => {
  const r = e.getBoundingClientRect(), cs = getComputedStyle(e);
  return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none';
});
"""


def visible(d, css):
    return d.execute_script(_VISIBLE_JS, css)


def full_screenshot(d, path):
    width, height = d._lk_size
    full = d.execute_script("return document.documentElement.scrollHeight")
    set_viewport(d, width, max(height, min(full, PAGE_MAX_HEIGHT)))
    try:
        return d.save_screenshot(path)
    finally:
        set_viewport(d, width, height)


def main(argv):
    if len(argv) != 6 or argv[1] != "shot":
        sys.stderr.write("usage: browser.py shot URL WIDTH HEIGHT OUT.png\n")
        return 64
    import tempfile
    with tempfile.TemporaryDirectory(prefix="lk-browser.") as prof:
        d = open_browser(int(argv[3]), int(argv[4]), prof)
        try:
            d.get(argv[2])
            return 0 if full_screenshot(d, argv[5]) else 1
        finally:
            d.quit()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
