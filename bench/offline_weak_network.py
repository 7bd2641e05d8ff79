"""Weak networks, measured in Chromium with DevTools' "Slow 3G" (2 s round trip, 50 KB/s).

Prints, with gzip (the site as served) and without (the server ignoring `Accept-Encoding`, the site
before issue 17), alternated over a few rounds:
- the time from a first visit (empty cache) to a readable first lesson (`load`);
- the bytes on the wire for that visit;
- the bytes to save a whole course on the phone ("Save this course"), counted as the
  response bodies the server sends (the service worker's fetches are not the page's, so
  DevTools' per-page counter misses them).

Run: `PYTHONPATH=. .venv/bin/python bench/offline_weak_network.py [rounds]` (needs Chromium
and Playwright, like tests/browser). The app runs in-process on loopback with its own
temporary SQLite, set up by the real commands.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from werkzeug.serving import make_server

from lms import create_app
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, MOBILE, PASSWORD, BrowserConfig, _prepare_database

SLOW_3G = {"offline": False, "latency": 2000, "downloadThroughput": 50_000, "uploadThroughput": 50_000}
SLUG, LESSON = "scam-safety", "otp-and-bank-messages"


SERVED = {"bytes": 0}  # response bodies the server sent: the service worker's fetches are not the page's


def _counting(app):
    def middleware(environ, start_response):
        if SERVED.get("identity"):  # the site before issue 17: nothing compressed
            environ.pop("HTTP_ACCEPT_ENCODING", None)
        for chunk in app(environ, start_response):
            SERVED["bytes"] += len(chunk)
            yield chunk
    return middleware


def _serve():
    tmp = Path(tempfile.mkdtemp(prefix="lms-weak-"))
    app = create_app(BrowserConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp / 'weak.sqlite3'}")
    _prepare_database(app)
    httpd = make_server("127.0.0.1", 0, _counting(app), threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_port}", httpd


def _session(browser, compressed: bool):
    context = browser.new_context(viewport=MOBILE, locale="vi-VN")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
    SERVED["identity"] = not compressed
    wire = {"bytes": 0}
    cdp.on("Network.loadingFinished", lambda event: wire.__setitem__("bytes", wire["bytes"] + event["encodedDataLength"]))
    return context, page, cdp, wire


def _first_lesson(browser, url: str, compressed: bool) -> tuple[float, int]:
    context, page, cdp, wire = _session(browser, compressed)
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    start = time.perf_counter()
    page.goto(f"{url}/courses/{SLUG}/lessons/{LESSON}", wait_until="load", timeout=120_000)
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed, wire["bytes"]


def _saved_course(browser, url: str, compressed: bool) -> int:
    context, page, cdp, wire = _session(browser, compressed)
    page.goto(f"{url}/login")
    page.fill("#login", "demo-learner")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("main form[method=post] button")
    page.goto(f"{url}/courses/{SLUG}")
    page.wait_for_function("() => navigator.serviceWorker.ready.then(() => true)")
    page.locator(".offline-size").filter(has_text="KB").wait_for()
    before = SERVED["bytes"]
    page.click("[data-action=save]")
    page.locator(".offline-saved").wait_for(state="visible", timeout=120_000)
    context.close()
    return SERVED["bytes"] - before


def main(rounds: int = 3) -> None:
    from playwright.sync_api import sync_playwright

    url, httpd = _serve()
    results: dict[bool, dict[str, list]] = {True: {"t": [], "b": [], "s": []}, False: {"t": [], "b": [], "s": []}}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for _ in range(rounds):
            for compressed in (False, True):  # old and new alternated
                elapsed, size = _first_lesson(browser, url, compressed)
                results[compressed]["t"].append(elapsed)
                results[compressed]["b"].append(size)
                results[compressed]["s"].append(_saved_course(browser, url, compressed))
        browser.close()
    httpd.shutdown()
    for compressed, label in ((False, "uncompressed"), (True, "gzip")):
        r = results[compressed]
        print(f"{label:13} first lesson on Slow 3G: {min(r['t']):.2f}-{max(r['t']):.2f} s "
              f"(median {statistics.median(r['t']):.2f}), {statistics.median(r['b']) / 1000:.1f} KB on the wire; "
              f"whole course saved: {statistics.median(r['s']) / 1000:.1f} KB sent")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
