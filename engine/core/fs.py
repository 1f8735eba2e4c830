"""Atomic file writes and JSON files: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

TEMP_PREFIX = ".tmp-"  # names of the temp files atomic writes leave behind when interrupted


FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
FULL_MESSAGES = ("No space left on device", "Disk quota exceeded")  # writers that raise without an errno


class DiskFullError(OSError):
    """A write ran out of space or quota; the message names the file and its file system's free space."""


def _is_disk_full(error: BaseException) -> bool:
    return getattr(error, "errno", None) in FULL_ERRNOS or any(text in str(error) for text in FULL_MESSAGES)


def _disk_full(target: Path, error: BaseException) -> DiskFullError:
    try:
        free = f"{shutil.disk_usage(target.parent).free / 2**20:.1f} MiB free"
    except OSError:
        free = "free space unknown"
    return DiskFullError(errno.ENOSPC, f"no space left to write {target} ({free} on that file system): "
                                       "free some space there and rerun the same command; finished jobs are kept")


def atomic_write(target: Path, write: Callable[[str], object]) -> None:
    """Call ``write(temp_path)`` on a temp file beside ``target``, fsync it, then rename it onto ``target``.

    ``DiskFullError`` when the file system runs out of space or quota (the temp file is removed, the
    old ``target``, if any, is kept)."""
    temp = ""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=target.suffix, dir=target.parent)
        os.close(fd)
        write(temp)
        with open(temp, "rb") as stream:
            os.fsync(stream.fileno())
        os.chmod(temp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(temp, target)
    except BaseException as error:
        if temp:
            Path(temp).unlink(missing_ok=True)
        if _is_disk_full(error):
            raise _disk_full(target, error) from error
        raise


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` as indented, key-sorted JSON, atomically."""
    text = json.dumps(payload, indent=2, sort_keys=True, default=str)
    atomic_write(Path(path), lambda temp: Path(temp).write_text(text, encoding="utf-8"))


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))
