"""One runner per study directory: an exclusive ``flock`` on ``<study>/.lock``.

The kernel drops the lock when its process ends, however it ends (SIGKILL included), so a killed
run never leaves a stale lock behind; a second runner on the same directory is refused at once.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = ".lock"


class StudyLockedError(RuntimeError):
    """Another runner is writing the study directory."""


@contextmanager
def study_lock(study: Path) -> Iterator[None]:
    """Hold the study directory's lock (creating the directory) or raise ``StudyLockedError``."""
    study.mkdir(parents=True, exist_ok=True)
    fd = os.open(study / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            raise StudyLockedError(f"{study} is being written by another runner (process {holder}); wait for it "
                                   f"to finish or stop it, then rerun: finished jobs are kept") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock


def remove_temp_files(study: Path) -> list[Path]:
    """Delete the ``.tmp-*`` files that interrupted atomic writes left in ``study``; call under the lock."""
    leftovers = sorted(study.rglob(".tmp-*"))
    for path in leftovers:
        path.unlink(missing_ok=True)
    return leftovers
