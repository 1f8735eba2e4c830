"""Provenance of a study directory: what produced it, with which code, libraries and device."""

from __future__ import annotations

import json
import platform
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

import engine
from engine.results.schema import SCHEMA_VERSION

_TEXT = (str, type(None))
# The type of every manifest field a reader dereferences, by path: "a.b" is key b of object a, "a[]" each item
# of list a, "a.*" each value of object a. Fields may be absent; present, they must have these types.
FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "study": (str,), "config": (dict,), "finished": (bool,), "schema_version": (int,), "jobs": (list,),
    "seeds": (list,), "libraries": (dict,), "libraries.*": _TEXT, "created": _TEXT, "engine_version": _TEXT,
    "git_commit": _TEXT, "python": _TEXT, "device": _TEXT,
    "config.name": (str,), "config.data": (dict,), "config.data.dataset": (str,),
    "config.data.train_subset": (int, type(None)), "config.evaluation": (dict,),
    "config.evaluation.samples": (int, type(None)),
    "config.models": (list,), "config.models[]": (dict,), "config.models[].id": (str,),
    "config.models[].arch": (str,), "config.models[].training": (dict,), "config.models[].training.mode": (str,),
    "config.attacks": (list,), "config.attacks[]": (dict,), "config.attacks[].name": (str,),
    "config.attacks[].norm": (str,), "config.attacks[].source": _TEXT,
    "computed": (list,), "computed[]": (dict,), "computed[].model_id": (str,), "computed[].sweep": (str,),
    "computed[].eps": (int, float, str), "computed[].by": (str,),
    "added": (list,), "added[]": (dict,), "added[].id": (str,), "added[].arch": (str,), "added[].checkpoint": (str,),
    "config.findings": (dict,), "config.findings.roles": (dict,), "config.findings.roles.*": (str,),
}
_JSON_NAMES = {dict: "an object", list: "a list", str: "a string", int: "an integer", float: "a number",
               bool: "a boolean", type(None): "null"}


class ManifestError(ValueError):
    """A manifest that is not a JSON object or has a field of the wrong type; the message names the field."""


def check_manifest(manifest: object) -> dict[str, Any]:
    """``manifest`` (parsed JSON) if it is an object whose fields have the types of ``FIELD_TYPES``;
    ``ManifestError`` naming the first field that does not, with its value, otherwise."""
    if not isinstance(manifest, dict):
        raise ManifestError(f"it is {_described(manifest)}, not a JSON object")
    for path, types in FIELD_TYPES.items():
        for where, value in _found(manifest, re.findall(r"[^.\[\]]+|\[\]", path), ""):
            if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
                expected = " or ".join(_JSON_NAMES[kind] for kind in types)
                raise ManifestError(f"field `{where}` is {_described(value)}, not {expected}")
    return manifest


def _found(node: object, steps: list[str], where: str) -> Iterator[tuple[str, object]]:
    """(concrete path, value) of each value at ``steps`` below ``node`` (missing keys and items of
    other types are skipped: their parents' own checks report them)."""
    if not steps:
        yield where, node
        return
    step, rest = steps[0], steps[1:]
    if step == "[]" and isinstance(node, list):
        for index, item in enumerate(node):
            yield from _found(item, rest, f"{where}[{index}]")
    elif step == "*" and isinstance(node, dict):
        for key, item in node.items():
            yield from _found(item, rest, f"{where}.{key}")
    elif isinstance(node, dict) and step in node:
        yield from _found(node[step], rest, f"{where}.{step}" if where else step)


def _described(value: object) -> str:
    """``value`` as a message shows it: its JSON kind and its JSON text, shortened, e.g. 'a string "2"'."""
    if value is None:
        return "null"
    shown = json.dumps(value, default=str)
    return f"{_JSON_NAMES.get(type(value), type(value).__name__)} {shown[:60]}{'...' if len(shown) > 60 else ''}"


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
