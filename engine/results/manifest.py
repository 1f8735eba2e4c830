"""Provenance of a study directory: what produced it, with which code, libraries and device."""

from __future__ import annotations

import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

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


def in_config_order(models: pd.DataFrame, manifest: dict[str, Any]) -> pd.DataFrame:
    """``models`` rows sorted as the study config lists them (ids it does not list last, by id)."""
    ids = [spec.get("id") for spec in manifest.get("config", {}).get("models", [])]
    rank = {model_id: index for index, model_id in enumerate(ids)}
    order = models["model_id"].map(lambda model_id: rank.get(model_id, len(rank)))
    return models.assign(_rank=order).sort_values(["_rank", "model_id"], kind="stable").drop(columns="_rank")
