"""Provenance of a study directory: what produced it, with which code, libraries and device."""

from __future__ import annotations

import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import engine
from engine.results.schema import SCHEMA_VERSION

LIBRARIES = ("torch", "torchvision", "torchattacks", "numpy", "pandas", "pyarrow", "scipy", "scikit-learn")


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(engine.__file__).parent,
                             capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def build_manifest(study: dict[str, Any], device: str, jobs: list[str]) -> dict[str, Any]:
    """The manifest of a run of ``study`` (its resolved config as a dict) on ``device``."""
    return {
        "study": study["name"],
        "config": study,
        "jobs": jobs,
        "schema_version": SCHEMA_VERSION,
        "engine_version": engine.__version__,
        "git_commit": _git_commit(),
        "libraries": {name: _version(name) for name in LIBRARIES},
        "python": platform.python_version(),
        "device": device,
        "seeds": sorted({m["training"]["seed"] for m in study["models"]}),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
