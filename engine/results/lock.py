"""One runner per study directory: an exclusive ``flock`` on ``<study>/.lock``.

The kernel drops the lock when its process ends, however it ends (SIGKILL included), so a killed
run never leaves a stale lock behind; a second runner on the same directory is refused at once.
The runner writes only inside the folders it owns (``OWNED``), never through a symbolic link, and
on start-up removes only its own leftovers there.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.core.fs import TEMP_PREFIX
from engine.results.schema import TABLES

LOCK_FILE = ".lock"
OWNED = (*TABLES, "checkpoints", "cache", "robust_sets")  # the folders a runner writes in a study directory


class StudyLockedError(RuntimeError):
    """Another runner is writing the study directory."""


class StudyPathError(ValueError):
    """The study directory cannot be written safely: not a directory, or a link where the runner writes."""


def check_study_path(study: str | os.PathLike[str]) -> Path:
    """``study`` as a Path; ``StudyPathError`` unless it names a directory (or nothing yet) whose lock
    file and owned folders are not symbolic links: the runner must not write through a link to a place
    outside it. An empty name is refused (``Path("")`` would silently mean the current directory)."""
    if not os.fspath(study).strip():
        raise StudyPathError("the study directory is empty; pass --out DIR naming a directory for the study")
    study = Path(study)
    if study.exists() and not study.is_dir():
        raise StudyPathError(f"{study} is not a directory; pass --out a directory (it is created if missing)")
    links = [name for name in (LOCK_FILE, *OWNED) if (study / name).is_symlink()]
    if links:
        raise StudyPathError(f"{study}: {', '.join(links)} is a symbolic link; the runner writes only inside the "
                             f"study directory: replace it with a real folder (or file) or choose another --out")
    return study


@contextmanager
def study_lock(study: Path) -> Iterator[None]:
    """Hold the study directory's lock (creating the directory) or raise ``StudyLockedError``;
    ``StudyPathError`` for a path the runner must not write (``check_study_path``)."""
    check_study_path(study)
    try:
        study.mkdir(parents=True, exist_ok=True)
        fd = os.open(study / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as error:
        raise StudyPathError(f"cannot write the study directory {study}: {error.strerror or error}; "
                             "pass --out a directory you can write (it is created if missing)") from None
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


def is_locked(study: Path) -> bool:
    """Whether a runner (or an on-demand computation) holds ``study``'s lock now: a lock probe that takes and
    drops a shared lock at once, opening the lock file read-only."""
    try:
        fd = os.open(study / LOCK_FILE, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def remove_temp_files(study: Path) -> list[Path]:
    """Delete the temp files that interrupted atomic writes of a runner left: ``.tmp-*`` regular files
    directly in ``study`` or in one of its ``OWNED`` folders, nothing else; call under the lock."""
    folders = [study, *(study / name for name in OWNED if (study / name).is_dir())]
    leftovers = sorted(path for folder in folders for path in folder.glob(f"{TEMP_PREFIX}*")
                       if path.is_file() and not path.is_symlink())
    for path in leftovers:
        path.unlink(missing_ok=True)
    return leftovers
