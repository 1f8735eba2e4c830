"""Time from the Compute click to the updated chart, for one new eps of a sweep, in Debian's chromium.

    python benchmarks/compute_latency.py [--results precomputed/fashion_mnist] [--model standard]
        [--sweep pgd-Linf-20steps-rs] [--eps 0.08 0.12 0.25]

Copies the study to a temporary folder (the shipped one is never written), serves the app on it, opens Robust
accuracy, and for each eps fills the Compute panel, clicks Compute and waits until the page has redrawn with
the cell (the success message shown and the script run finished). Prints each time, the median, the engine's
own attack time for the cell and the load average.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
from pathlib import Path

from app_latency import REPO, TIMEOUT_MS, serve  # benchmarks/, next to this script
from browser import CHROMIUM, CHROMIUM_ARGS, IDLE, compute_in_page
from playwright.sync_api import sync_playwright

from engine.results import read_table

PORT = 8631


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(REPO / "precomputed" / "fashion_mnist"))
    parser.add_argument("--model", default="standard")
    parser.add_argument("--sweep", default="pgd-Linf-20steps-rs")
    parser.add_argument("--eps", type=float, nargs="+", default=[0.08, 0.12, 0.25])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        study = Path(folder) / Path(args.results).name
        shutil.copytree(args.results, study)
        server = serve(str(study), PORT)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 2400})
                page.goto(f"http://127.0.0.1:{PORT}/accuracy", timeout=TIMEOUT_MS)
                page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
                times = [compute_in_page(page, args.model, args.sweep, eps, TIMEOUT_MS) for eps in args.eps]
                browser.close()
        finally:
            server.terminate()
            server.wait()
        rows = read_table(study, "robust_accuracy")
        cells = rows[(rows.model_id == args.model) & (rows.sweep == args.sweep) & rows.eps.isin(args.eps)]
    print(f"{args.sweep} on {args.model}, {int(cells.n.iloc[0])} images, eps {', '.join(f'{e:g}' for e in args.eps)}")
    print("click to updated chart (s): " + ", ".join(f"{t:.1f}" for t in times)
          + f"; median {statistics.median(times):.1f}")
    print(f"attack time inside the engine (s): median {cells.seconds.median():.2f}")
    print(f"load average (1, 5, 15 min): {', '.join(f'{load:.2f}' for load in os.getloadavg())}")


if __name__ == "__main__":
    main()
