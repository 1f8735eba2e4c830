"""Which study directories this server offers: the studies under its study roots, and ``$ATLAS_RESULTS``.

The app opens only these, whatever a link asks for, so a shared deployment does not show any directory
the server may read. A study root is a folder named in ``$ATLAS_STUDY_ROOTS`` (``os.pathsep``-separated;
default ``precomputed/``): it is a study itself when it holds ``manifest.json``, else each direct
sub-directory holding one is. Sub-directories are compared by real path, so a symlink (or ``..``) that
leads out of its root offers nothing. Relative paths are taken from the app's folder, ``APP_DIR``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent.parent
ROOTS_ENV = "ATLAS_STUDY_ROOTS"
RESULTS_ENV = "ATLAS_RESULTS"
DEFAULT_ROOT = "precomputed"
SHIPPED = "precomputed/fashion_mnist"  # the default study's label when no $ATLAS_RESULTS is set
MANIFEST = "manifest.json"


def from_app_dir(value: str) -> Path:
    """The absolute path ``value`` names, relative paths taken from ``APP_DIR`` (not resolved)."""
    path = Path(value.strip())
    return path if path.is_absolute() else APP_DIR / path


def real_path(path: Path) -> Path | None:
    """``path`` with symlinks and ``..`` resolved, or None when it cannot be (a NUL byte, a link loop)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return None


def label(path: Path) -> str:
    """How the sidebar names study directory ``path``: relative to ``APP_DIR`` when inside it, else absolute."""
    return str(path.relative_to(APP_DIR)) if path.is_relative_to(APP_DIR) else str(path)


def study_roots() -> list[Path]:
    """The folders named in ``$ATLAS_STUDY_ROOTS`` (relative ones from ``APP_DIR``), in that order; the
    default, ``APP_DIR / "precomputed"``, when the variable is unset or empty."""
    value = os.environ.get(ROOTS_ENV, "")
    named = [part for part in value.split(os.pathsep) if part.strip()]
    return [from_app_dir(part) for part in named] or [APP_DIR / DEFAULT_ROOT]


def results_study() -> tuple[str, Path] | None:
    """(label, directory) of ``$ATLAS_RESULTS`` when set, whatever the directory holds (or lacks)."""
    value = os.environ.get(RESULTS_ENV, "")
    if not value.strip():
        return None
    path = from_app_dir(value)
    return label(path), path


def _holds_manifest(directory: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(directory / MANIFEST).st_mode)
    except (OSError, ValueError):
        return False


def _studies_under(root: Path) -> list[Path]:
    """The real paths of the studies root ``root`` offers: itself, or its direct sub-directories that are
    studies and really lie inside it, sorted by name."""
    real_root = real_path(root)
    if real_root is None:
        return []
    if _holds_manifest(real_root):
        return [real_root]
    try:
        with os.scandir(real_root) as entries:
            names = sorted(entry.name for entry in entries)
    except OSError:  # missing, a file or unreadable: it offers nothing
        return []
    found = []
    for name in names:
        real = real_path(real_root / name)
        if real is not None and real.parent == real_root and _holds_manifest(real):
            found.append(real)
    return found


def offered_studies() -> dict[str, Path]:
    """Label -> directory of every study this server offers: ``$ATLAS_RESULTS`` first when set (even when
    missing or damaged: the page explains what is wrong), then the studies under each root in turn. A
    directory offered twice (by real path) is listed once, under its first label."""
    studies: dict[str, Path] = {}
    seen: set[Path] = set()
    results = results_study()
    if results is not None:
        studies[results[0]] = results[1]
        seen.add(real_path(results[1]) or results[1])
    for root in study_roots():
        for directory in _studies_under(root):
            if directory not in seen:
                seen.add(directory)
                studies.setdefault(label(directory), directory)
    return studies


def default_study(studies: dict[str, Path]) -> str | None:
    """The label a session opens on: ``$ATLAS_RESULTS``'s when set, else the shipped study's when offered,
    else the first study's; None when nothing is offered."""
    results = results_study()
    if results is not None and results[0] in studies:
        return results[0]
    if SHIPPED in studies:
        return SHIPPED
    return next(iter(studies), None)


def find_study(value: str, studies: dict[str, Path]) -> str | None:
    """The label of the offered study ``value`` names (its label, or any spelling of its real path), else
    None: a value outside the offered studies never resolves to a directory to open."""
    if value in studies:
        return value
    wanted = real_path(from_app_dir(value)) if value.strip() else None
    if wanted is None:
        return None
    return next((name for name, path in studies.items() if real_path(path) == wanted), None)
