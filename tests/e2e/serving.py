"""Serving the real app with `streamlit run` and driving it in Debian's chromium, for the browser tests.

The server listens on loopback only. The browser settings are the latency benchmark's (benchmarks/browser.py;
imported from the repository root, which ``python -m pytest`` puts on the path).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import REPO

from benchmarks.browser import IDLE

HOST = "127.0.0.1"
START_TIMEOUT_S = 90
PAGE_TIMEOUT_MS = 90_000
SCREENSHOTS = "ATLAS_SCREENSHOTS"  # set to a directory to keep the screenshots
STUDY_VARIABLES = ("ATLAS_RESULTS", "ATLAS_STUDY_ROOTS")  # which studies the server offers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    """Poll Streamlit's health endpoint until it answers "ok"; fail with the server log otherwise."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(f"streamlit not healthy after {START_TIMEOUT_S} s:\n{log.read_text()}")


@contextmanager
def served_app(log: Path, studies: Mapping[str, str]) -> Iterator[tuple[str, int]]:
    """(base URL, process id) of the app served in a subprocess with the study variables ``studies`` (the others
    unset: no variable serves the shipped study), stopped on exit."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.address", HOST, "--server.port", str(port), "--server.fileWatcherType", "none",
               "--browser.gatherUsageStats", "false"]
    env = {name: value for name, value in os.environ.items() if name not in STUDY_VARIABLES} | dict(studies)
    with log.open("w") as output:
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        url = f"http://{HOST}:{port}"
        wait_healthy(url, server, log)
        yield url, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def open_page(page, url: str) -> None:
    """Load ``url`` and wait until the app's script run has finished."""
    page.goto(url, timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(IDLE, timeout=PAGE_TIMEOUT_MS)


def screenshot(page, tmp_path: Path, name: str) -> None:
    folder = Path(os.environ.get(SCREENSHOTS) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / f"{name}.png", full_page=True)


def assert_no_error(page) -> None:
    assert page.get_by_test_id("stException").count() == 0
    assert page.get_by_test_id("stAlertContentError").count() == 0
