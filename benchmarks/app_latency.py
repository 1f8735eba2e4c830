"""Page-load, widget-change and playground latency of the real app, and the server's memory, in Debian's chromium.

    python benchmarks/app_latency.py [--results precomputed/fashion_mnist] [--repeats 3]

Serves the app on loopback with `streamlit run`, opens every page (time until the script run has
finished and the page's first chart or table is visible; median of the repeats after a first,
cold visit), then on every page with a model selection times widget changes (median of the repeats,
each on a fresh visit): one model taken out of the default selection, the "Quick pick" of all models,
and one model taken out of all of them. A widget change counts from the click to the browser's first
frame painted, the app idle, after the last message of the server's run (``timed_change``).
It then attacks one test image in the playground on the models it selects at first (PGD-Linf,
10 steps, eps 0.1; the time the attack took inside the engine, and the time until the result is
drawn), and reads the server's resident memory and the load average before and after. Prints
Markdown tables.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from browser import CHROMIUM, CHROMIUM_ARGS, IDLE, resident_bytes  # benchmarks/browser.py, next to this script
from playwright.sync_api import sync_playwright

from ui.pages import PAGES

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_MS = 120_000
QUIET_S = 0.3  # a widget change's run is over when no message has come from the server for this long
POLL_MS = 10
NEXT_FRAME = "() => new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)))"


def serve(results: str, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.address",
               "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none"]
    server = subprocess.Popen(command, cwd=REPO, env={**os.environ, "ATLAS_RESULTS": results},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(180):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise RuntimeError("the app did not start")


def load_seconds(page, url: str) -> float:
    start = time.perf_counter()
    page.goto(url, timeout=TIMEOUT_MS)
    page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
    main = page.get_by_test_id("stMain")
    # visible=true: a table inside a collapsed expander (the overview's failing sanity checks) never shows
    main.locator(".js-plotly-plot, [data-testid=stDataFrame], button >> visible=true").first.wait_for(
        timeout=TIMEOUT_MS)
    return time.perf_counter() - start


class Messages:
    """The arrival times of the server's messages to a page. A change's run sends at least one (its script
    state); the app's script state is no clock, because a fast run flips it to running and back within a frame."""

    def __init__(self, page) -> None:
        self.times: list[float] = []
        page.on("websocket", lambda socket: socket.on("framereceived", self.arrived))

    def arrived(self, _frame: object) -> None:
        self.times.append(time.perf_counter())


def timed_change(page, messages: Messages, click: Callable[[], None]) -> float:
    """Seconds from ``click`` (one that reruns the app) to the browser's first frame painted, the app idle,
    after the run's last message: the one followed by QUIET_S without any."""
    messages.times.clear()
    start = time.perf_counter()
    click()
    end, seen = start, 0
    while True:
        if len(messages.times) > seen:
            seen = len(messages.times)
            page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
            page.evaluate(NEXT_FRAME)
            end = time.perf_counter()
        elif seen and time.perf_counter() - messages.times[-1] >= QUIET_S:
            return end - start
        elif time.perf_counter() - start > TIMEOUT_MS / 1000:
            raise TimeoutError("the click did not rerun the app")
        page.wait_for_timeout(POLL_MS)  # lets Playwright deliver the messages that came meanwhile


def open_fresh(page, url: str) -> None:
    """A new session on ``url`` (its default selection)."""
    page.goto(url, timeout=TIMEOUT_MS)
    page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)


def last_model(page):
    """The remove button of the last model of the page's model selection."""
    return page.get_by_test_id("stMultiSelect").first.locator("[data-tag] button").last


def all_models_option(page):
    """The option "all" of the page's quick pick of models, the list open."""
    pick = page.get_by_role("combobox", name="Quick pick").first
    pick.click()
    pick.press_sequentially("all")
    option = page.get_by_role("option", name="all", exact=True)
    option.wait_for(timeout=TIMEOUT_MS)
    return option


def widget_seconds(page, messages: Messages, url: str, repeats: int) -> tuple[float, float, float]:
    """Medians over ``repeats`` fresh visits of ``url``: one model dropped from the default selection, the quick
    pick of all models, one model dropped from all of them."""
    default, everything, dropped = [], [], []
    for _ in range(repeats):
        open_fresh(page, url)
        default.append(timed_change(page, messages, last_model(page).click))
        open_fresh(page, url)
        everything.append(timed_change(page, messages, all_models_option(page).click))
        dropped.append(timed_change(page, messages, last_model(page).click))
    return statistics.median(default), statistics.median(everything), statistics.median(dropped)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="precomputed/fashion_mnist")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--port", type=int, default=8599)
    parser.add_argument("--pages", help="comma-separated page names (script stems) to time; default: all")
    args = parser.parse_args()
    before = load_average()
    server = serve(args.results, args.port)
    url = f"http://127.0.0.1:{args.port}"
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()
            messages = Messages(page)
            rows = []
            for entry in [entry for entry in PAGES if not args.pages or entry.name in args.pages.split(",")]:
                cold = load_seconds(page, f"{url}/{entry.url_path}")
                warm = statistics.median(load_seconds(page, f"{url}/{entry.url_path}") for _ in range(args.repeats))
                changes = " | — | — | —"
                if page.get_by_role("combobox", name="Quick pick").count():
                    changes = "".join(f" | {seconds:.2f}" for seconds in
                                      widget_seconds(page, messages, f"{url}/{entry.url_path}", args.repeats))
                rows.append(f"| {entry.title} | {cold:.2f} | {warm:.2f}{changes} |")
            page.goto(f"{url}/playground", timeout=TIMEOUT_MS)
            page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
            page.get_by_label("Steps (0 = default)").fill("10")
            page.keyboard.press("Enter")
            page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
            start = time.perf_counter()
            page.get_by_role("button", name="Attack").click()
            page.get_by_test_id("stExpander").first.wait_for(timeout=TIMEOUT_MS)  # after the summary table
            page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
            shown = time.perf_counter() - start
            # the details sit in expanders, collapsed past 4 models: read their text, drawn or not
            took = [text.split("attack took ")[1] for text in page.get_by_text("attack took").all_text_contents()]
            browser.close()
        print("| page | first load (s) | median reload (s) | one model out (s) | all 28 models (s) "
              "| one out of 28 (s) |\n|---|---|---|---|---|---|\n" + "\n".join(rows))
        print(f"\nPlayground, PGD-Linf eps 0.1 with 10 steps on one test image, the models selected at first: "
              f"attack times inside the engine {', '.join(took)}; click to all results drawn {shown:.2f} s.")
        print(f"Server resident memory after all of this: {resident_bytes(server.pid) / 2**20:.0f} MiB.")
        print(f"Load average (1, 5, 15 min): {before} before the server started, {load_average()} at the end.")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
