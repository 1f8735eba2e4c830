"""The app's on-demand computations: one queue per server, one computation at a time.

Each request is a task on a study: a cell (``engine.study.cells.Cell``, computed by ``python -m engine compute``)
or a curve to extend (``Extension``, ``python -m engine extend``), run in a child process, so that it runs the
engine's own jobs, holds the study's lock like a runner, and can be cancelled by ending the process (a cell's
part is written atomically at its end: a cancelled cell leaves none). Two sessions asking for the same task
share one request. Plain Python, no Streamlit: the page polls it.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from engine.results.lock import remove_temp_files, study_lock
from engine.study.cells import Cell

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINAL = (DONE, FAILED, CANCELLED)


@dataclass(frozen=True)
class Extension:
    """New eps of sweep ``sweep`` (its key) on ``model_id``, picked by the engine, until the accuracy is at most
    ``level`` (``engine.study.extension``)."""

    model_id: str
    sweep: str
    level: float


Task = Cell | Extension


def describe(task: Task) -> str:
    """The task in a few words, e.g. "pgd-Linf-20steps-rs at eps 0.08 on standard"."""
    if isinstance(task, Cell):
        return ("the analyses of " if task.analysis else "") + f"{task.sweep} at eps {task.eps:g} on {task.model_id}"
    return f"{task.sweep} on {task.model_id}, extended until accuracy <= {task.level:.0%}"


@dataclass
class Request:
    """One task asked for; ``estimate`` is the expected seconds, from the sweep's measured rate."""

    study: Path
    task: Task
    estimate: float
    state: str = QUEUED
    message: str = ""
    started: float = 0.0
    finished: float = 0.0
    process: subprocess.Popen[str] | None = field(default=None, repr=False)

    @property
    def key(self) -> tuple[str, Task]:
        return str(self.study), self.task

    def elapsed(self) -> float:
        if not self.started:
            return 0.0
        return (self.finished or time.monotonic()) - self.started


class ComputeQueue:
    """Requests run one after another in a worker thread; each keeps its state for the pages to show."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, Task], Request] = {}
        self._waiting: deque[Request] = deque()
        self._worker: threading.Thread | None = None

    def submit(self, study: Path, task: Task, estimate: float) -> Request:
        """The request for ``task`` on ``study``: the one queued or running already, or a new one."""
        with self._lock:
            known = self._requests.get((str(study), task))
            if known is not None and known.state not in FINAL:
                return known
            request = Request(study, task, estimate)
            self._requests[request.key] = request
            self._waiting.append(request)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="atlas-compute", daemon=True)
                self._worker.start()
            return request

    def position(self, request: Request) -> int:
        """1 for the next request to run, 0 when it is not waiting."""
        with self._lock:
            return next((i + 1 for i, waiting in enumerate(self._waiting) if waiting is request), 0)

    def requests(self, study: Path) -> list[Request]:
        """The requests for ``study``, oldest first."""
        with self._lock:
            return [request for request in self._requests.values() if request.study == study]

    def cancel(self, request: Request) -> None:
        """Drop a waiting request, or end a running one's process (nothing of it is kept)."""
        with self._lock:
            if request in self._waiting:
                self._waiting.remove(request)
                request.state = CANCELLED
                return
            if request.state == RUNNING:
                request.state = CANCELLED
                if request.process is not None:
                    request.process.terminate()

    def _next(self) -> Request | None:
        with self._lock:
            if not self._waiting:
                self._worker = None
                return None
            request = self._waiting.popleft()
            request.state, request.started = RUNNING, time.monotonic()
            request.process = subprocess.Popen(_command(request), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                               text=True)
            return request

    def _work(self) -> None:
        while (request := self._next()) is not None:
            assert request.process is not None
            _, errors = request.process.communicate()
            with self._lock:
                request.finished = time.monotonic()
                if request.state == CANCELLED:
                    _tidy(request.study)
                elif request.process.returncode == 0:
                    request.state = DONE
                else:
                    request.state = FAILED
                    lines = [line for line in errors.splitlines() if line.strip()]
                    request.message = lines[-1] if lines else f"exit status {request.process.returncode}"


def _command(request: Request) -> list[str]:
    task = request.task
    start = [sys.executable, "-m", "engine"]
    where = [str(request.study), "--model", task.model_id, "--sweep", task.sweep, "--by", "app"]
    if isinstance(task, Cell):
        return [*start, "compute", *where, "--eps", repr(task.eps), *(["--analysis"] if task.analysis else [])]
    return [*start, "extend", *where, "--level", repr(task.level)]


def _tidy(study: Path) -> None:
    """Remove the temp file a cancelled computation may have left, once no one writes the study."""
    try:
        with study_lock(study):
            remove_temp_files(study)
    except (RuntimeError, ValueError):  # another runner holds the study: it tidies up when it starts
        pass
