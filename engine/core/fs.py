"""Atomic file writes and JSON files: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

TEMP_PREFIX = ".tmp-"  # names of the temp files atomic writes leave behind when interrupted


def atomic_write(target: Path, write: Callable[[str], object]) -> None:
    """Call ``write(temp_path)`` on a temp file beside ``target``, fsync it, then rename it onto ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=target.suffix, dir=target.parent)
    os.close(fd)
    try:
        write(temp)
        with open(temp, "rb") as stream:
            os.fsync(stream.fileno())
        os.chmod(temp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` as indented, key-sorted JSON, atomically."""
    text = json.dumps(payload, indent=2, sort_keys=True, default=str)
    atomic_write(Path(path), lambda temp: Path(temp).write_text(text, encoding="utf-8"))


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))
