"""Page-load and playground latency of the real app, and the server's memory, in Debian's chromium.

    python benchmarks/app_latency.py [--results precomputed/fashion_mnist] [--repeats 3]

Serves the app on loopback with `streamlit run`, opens every page (time until the script run has
finished and the page's first chart or table is visible; median of the repeats after a first,
cold visit), attacks one test image in the playground on the models it selects at first (PGD-Linf,
10 steps, eps 0.1; the time the attack took inside the engine, and the time until the result is
drawn), and reads the server's resident memory afterwards. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from browser import CHROMIUM, CHROMIUM_ARGS, IDLE, resident_bytes  # benchmarks/browser.py, next to this script
from playwright.sync_api import sync_playwright

from ui.pages import PAGES

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_MS = 120_000


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="precomputed/fashion_mnist")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--port", type=int, default=8599)
    args = parser.parse_args()
    server = serve(args.results, args.port)
    url = f"http://127.0.0.1:{args.port}"
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()
            rows = []
            for entry in PAGES:
                cold = load_seconds(page, f"{url}/{entry.url_path}")
                warm = statistics.median(load_seconds(page, f"{url}/{entry.url_path}") for _ in range(args.repeats))
                rows.append(f"| {entry.title} | {cold:.2f} | {warm:.2f} |")
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
        print("| page | first load (s) | median reload (s) |\n|---|---|---|\n" + "\n".join(rows))
        print(f"\nPlayground, PGD-Linf eps 0.1 with 10 steps on one test image, the models selected at first: "
              f"attack times inside the engine {', '.join(took)}; click to all results drawn {shown:.2f} s.")
        print(f"Server resident memory after all of this: {resident_bytes(server.pid) / 2**20:.0f} MiB.")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
