"""Cached readers of a study directory's manifest and tables.

Each cache entry is keyed by the study directory and a signature of the files read (name,
modification time, size), so a regenerated or growing study is read again while an unchanged one
is served from the cache.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from engine.core.fs import read_json
from engine.reporting.findings import ANALYSIS_TABLES, Finding, findings
from engine.reporting.findings import Study as FindingTables
from engine.results import read_table

MANIFEST = "manifest.json"
Signature = tuple[tuple[str, int, int], ...]


def file_signature(paths: list[Path]) -> Signature:
    """(name, mtime in ns, size) of each readable regular file in ``paths``, in name order (the others are
    left out: reading them raises the error that explains them)."""
    signature = []
    for path in sorted(paths):
        try:
            found = path.stat()
        except OSError:  # absent, a link loop, a name too long, no permission
            continue
        if stat.S_ISREG(found.st_mode):
            signature.append((path.name, found.st_mtime_ns, found.st_size))
    return tuple(signature)


def table_signature(study_dir: Path, table: str) -> Signature:
    """Signature of the part files of ``table`` (hidden temp files excluded, as the reader does)."""
    try:
        parts = list((study_dir / table).glob("[!.]*.parquet"))
    except OSError:
        parts = []
    return file_signature(parts)


@st.cache_data(show_spinner=False, max_entries=16)
def _cached_manifest(study_dir: str, signature: Signature) -> dict[str, Any]:
    return read_json(Path(study_dir) / MANIFEST)


@st.cache_data(show_spinner=False, max_entries=24)  # bounded: per_sample is tens of MB
def _cached_table(study_dir: str, table: str, signature: Signature) -> pd.DataFrame:
    return read_table(study_dir, table)


def load_manifest(study_dir: Path) -> dict[str, Any]:
    """The study's manifest.json; raises ``OSError`` or ``ValueError`` when absent or not JSON."""
    path = study_dir / MANIFEST
    return _cached_manifest(str(study_dir), file_signature([path]))


def load_table(study_dir: Path, table: str) -> pd.DataFrame:
    """All parts of ``table`` as one DataFrame; raises ``engine.results.SchemaError`` on a mismatch."""
    return _cached_table(str(study_dir), table, table_signature(study_dir, table))


@st.cache_data(show_spinner=False, max_entries=4)
def _cached_findings(study_dir: str, signature: tuple[Signature, ...]) -> list[Finding]:
    return findings(FindingTables.read(study_dir))


def load_findings(study_dir: Path) -> list[Finding]:
    """The papers' findings on the study, computed once per state of the tables they read and of the
    manifest (whose config names the models' roles)."""
    tables = ("robust_accuracy", "models", *ANALYSIS_TABLES)
    signatures = (file_signature([Path(study_dir) / MANIFEST]), *(table_signature(study_dir, t) for t in tables))
    return _cached_findings(str(study_dir), signatures)
