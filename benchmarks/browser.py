"""How the latency benchmark (benchmarks/app_latency.py) and the browser tests (tests/e2e) drive the served app
in Debian's chromium: one launch configuration, one "script run finished" signal, one memory reading.

Plain constants and the standard library, so that the tests import it without Playwright or pytest. It lives
with the benchmark, not in ``ui/`` (it is no app code) nor in tests/ (a tool should not depend on the tests).
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = "/usr/bin/chromium"  # Debian's package (make system-deps)
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"  # the page's script run has finished


def resident_bytes(pid: int) -> int:
    """VmRSS of process ``pid`` (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
