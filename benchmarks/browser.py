"""How the latency benchmark (benchmarks/app_latency.py) and the browser tests (tests/e2e) drive the served app
in Debian's chromium: one launch configuration, one "script run finished" signal, one memory reading.

Plain constants and the standard library, so that the tests import it without Playwright or pytest. It lives
with the benchmark, not in ``ui/`` (it is no app code) nor in tests/ (a tool should not depend on the tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"  # Debian's package (make system-deps)
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"  # the page's script run has finished
POLL_MS = 100  # how often a waiting benchmark or test looks at the page


def resident_bytes(pid: int) -> int:
    """VmRSS of process ``pid`` (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def compute_in_page(page: Any, model: str, sweep: str, eps: float, timeout_ms: int) -> float:
    """On the Robust accuracy page (a Playwright page), ask the Compute panel for ``sweep`` at ``eps`` on
    ``model``; the seconds from the click on Compute until the page shows the cell and has finished its run."""
    panel = page.get_by_test_id("stExpander").filter(has_text="Compute a missing cell")
    if not panel.get_by_role("combobox", name="Model").is_visible():
        panel.get_by_text("Compute a missing cell or a new eps").click()
    for label, value in (("Model", model), ("Attack sweep", sweep)):
        panel.get_by_role("combobox", name=label).click()
        page.get_by_role("option", name=value, exact=True).click()
        page.wait_for_selector(IDLE, timeout=timeout_ms)
    field = panel.get_by_label("Eps")
    _wait(page, lambda: field.count() == 1, timeout_ms)  # a changed model or sweep redraws the input under a new key
    field.fill(f"{eps:g}")
    field.press("Enter")
    page.wait_for_selector(IDLE, timeout=timeout_ms)
    start = time.perf_counter()
    panel.get_by_role("button", name="Compute", exact=True).click()
    done = page.get_by_text(f"{sweep} at eps {eps:g} on {model}: computed in")
    _wait(page, lambda: done.count() > 0, timeout_ms)  # polled: the panel redraws itself every second meanwhile
    page.wait_for_selector(IDLE, timeout=timeout_ms)
    return time.perf_counter() - start


def _wait(page: Any, condition: Callable[[], bool], timeout_ms: int) -> None:
    """Look at the page every POLL_MS until ``condition`` holds; ``TimeoutError`` after ``timeout_ms``."""
    deadline = time.perf_counter() + timeout_ms / 1000
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the page did not reach the awaited state in {timeout_ms / 1000:.0f} s")
        page.wait_for_timeout(POLL_MS)
