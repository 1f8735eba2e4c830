"""Open the study the sidebar names, or explain on the page why it cannot be shown."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from engine.attacks.registry import sweep_key
from engine.config.schema import ConfigError
from engine.reporting.findings import Finding
from engine.results import SchemaError
from engine.results.io import DamagedFileError
from engine.results.manifest import ManifestError, check_manifest, in_config_order
from engine.results.schema import SCHEMA_VERSION
from engine.study.validate import study_from_dict
from ui.loaders import MANIFEST, load_findings, load_manifest, load_table
from ui.sidebar import STUDY_DIR_KEY

RUN_HINT = "python -m engine run CONFIG --out {dir}"


class StudyError(Exception):
    """A study directory cannot be shown; the message says what is wrong and what to do (Markdown)."""


CORE_TABLES = ("models", "robust_accuracy", "training_curves")  # read when the study opens; others on demand


@dataclass(frozen=True)
class Study:
    """A study directory's manifest and core tables (possibly empty); ``table`` reads any other one."""

    path: Path
    manifest: dict[str, Any]
    tables: dict[str, pd.DataFrame]

    def table(self, name: str) -> pd.DataFrame:
        """Table ``name`` (empty when the study has none); ``StudyError`` when it does not match the schema."""
        return self.tables[name] if name in self.tables else _read_table(self.path, name)

    def sweep_order(self, keys: Iterable[str]) -> list[str]:
        """Sweep keys with the config's white-box PGD sweeps first, then in config order (unknown keys last)."""
        try:
            sweeps = study_from_dict(self.manifest.get("config", {})).attacks
        except (ConfigError, TypeError, ValueError):
            sweeps = ()
        rank = {sweep_key(sweep): (sweep.name != "pgd" or bool(sweep.source), index)
                for index, sweep in enumerate(sweeps)}
        return sorted(set(keys), key=lambda key: (rank.get(key, (True, len(rank))), key))

    @property
    def dataset(self) -> str:
        return str(self.manifest.get("config", {}).get("data", {}).get("dataset", ""))

    @property
    def name(self) -> str:
        return str(self.manifest.get("study") or self.path.name)

    @property
    def finished(self) -> bool:
        return bool(self.manifest.get("finished"))

    @property
    def models(self) -> pd.DataFrame:
        return self.tables["models"]

    @property
    def robust_accuracy(self) -> pd.DataFrame:
        return self.tables["robust_accuracy"]

    @property
    def empty_tables(self) -> list[str]:
        return [name for name, table in self.tables.items() if table.empty]


def damaged(path: Path, reason: str, study_dir: Path) -> StudyError:
    """The error for a damaged file of a study: which file, what is wrong, and the commands that repair it."""
    return StudyError(f"`{path}` is damaged: {reason}. Rebuild it with `{RUN_HINT.format(dir=study_dir)}` "
                      f"(the jobs whose files are damaged are redone; finished ones are kept), or list every "
                      f"damaged file with `python -m engine check {study_dir}`.")


def _manifest_path(study_dir: Path) -> Path:
    """``study_dir``'s manifest.json, once the directory is found readable; the same ``StudyError`` for a
    directory that is missing and one that may not be read, so that the box does not tell which paths exist."""
    hint = RUN_HINT.format(dir=study_dir)
    unreadable = StudyError(f"There is no readable study directory at `{study_dir}`: it does not exist, or this "
                            f"app may not read it. Pick another study in the sidebar, or create one with "
                            f"`{hint}` (e.g. CONFIG = `configs/smoke.toml`).")
    try:
        is_dir = stat.S_ISDIR(os.stat(study_dir).st_mode)
        if is_dir:
            with os.scandir(study_dir) as entries:
                next(entries, None)
    except OSError:  # absent, no permission, a link loop, a name too long
        raise unreadable from None
    if not is_dir:
        raise StudyError(f"`{study_dir}` is a file, not a directory. Pick another study in the sidebar, "
                         f"or create one with `{hint}`.")
    manifest = study_dir / MANIFEST
    try:
        found = stat.S_ISREG(os.stat(manifest).st_mode)
    except FileNotFoundError:
        found = False
    except OSError:  # a directory that may be listed but not entered
        raise unreadable from None
    if not found:
        raise StudyError(f"`{study_dir}` has no `{MANIFEST}` file, so it is not a study directory (or its run has "
                         f"not started). Pick another study in the sidebar, or run `{hint}`.")
    return manifest


def _read_manifest(study_dir: Path) -> dict[str, Any]:
    path = _manifest_path(study_dir)
    try:
        return check_manifest(load_manifest(study_dir))
    except ManifestError as error:
        raise damaged(path, f"{error}", study_dir) from None
    except (OSError, ValueError) as error:
        raise damaged(path, f"it cannot be read as JSON ({error})", study_dir) from None


def _read_table(study_dir: Path, name: str) -> pd.DataFrame:
    try:
        return load_table(study_dir, name)
    except SchemaError as error:
        raise table_error(error, study_dir, f"Table `{name}`") from None


def table_error(error: SchemaError, study_dir: Path, what: str) -> StudyError:
    """The ``StudyError`` for ``error`` from reading ``what`` (e.g. "Table `svcca`") of the study."""
    if isinstance(error, DamagedFileError):
        return damaged(error.path, error.reason, study_dir)
    return StudyError(f"{what} in `{study_dir}` does not match this engine's results schema: {error}. It was "
                      f"probably written by another engine version: regenerate it with "
                      f"`{RUN_HINT.format(dir=study_dir)}` into a fresh directory.")


def _check_schema_version(study_dir: Path, manifest: dict[str, Any]) -> None:
    version = manifest.get("schema_version")
    if version is not None and version != SCHEMA_VERSION:
        raise StudyError(f"`{study_dir}` was written with results schema version {version!r}; this app reads "
                         f"version {SCHEMA_VERSION}. Regenerate it with `{RUN_HINT.format(dir=study_dir)}` "
                         f"(finished jobs whose results are unchanged are kept).")


def load_study(study_dir: Path) -> Study:
    """The study in ``study_dir``; raises ``StudyError`` with an explanation when it cannot be shown."""
    manifest = _read_manifest(study_dir)
    _check_schema_version(study_dir, manifest)
    tables = {name: _read_table(study_dir, name) for name in CORE_TABLES}
    tables["models"] = in_config_order(tables["models"], manifest)
    return Study(study_dir, manifest, tables)


def partial_notice(study: Study) -> str | None:
    """Why the study is incomplete and what it holds so far, or None when it is complete."""
    empty = ", ".join(study.empty_tables) or "none"
    if not study.finished:
        planned = len(study.manifest.get("config", {}).get("models", []))
        return (f"Study `{study.name}` is still running or was interrupted: {len(study.models)} of {planned} "
                f"models trained, {len(study.robust_accuracy)} robust-accuracy results so far (empty tables: "
                f"{empty}). Showing what exists. To complete it, rerun `{RUN_HINT.format(dir=study.path)}` "
                f"with its config: finished jobs are skipped.")
    if study.empty_tables:
        return f"Study `{study.name}` is finished but these tables are empty: {empty}. Showing what exists."
    return None


def run_page(page: Any) -> None:
    """Run ``page`` (an ``st.navigation`` page); a ``StudyError`` raised while it draws (a damaged study) ends
    it with the error's explanation in the page body, below what it drew until then."""
    try:
        page.run()
    except StudyError as error:
        st.error(str(error), icon=":material/error:")


def require_study() -> Study:
    """The study named in the sidebar, with a warning when partial; ``StudyError`` when it cannot be shown."""
    study = load_study(st.session_state[STUDY_DIR_KEY])  # set by the sidebar (``results_dir_input``) this run
    notice = partial_notice(study)
    if notice:
        st.warning(notice, icon=":material/hourglass_top:")
    return study


def require_table(study: Study, name: str, what: str) -> pd.DataFrame:
    """Table ``name`` of ``study``; when it is empty, an explanation of why and ``st.stop()``."""
    table = study.table(name)
    if table.empty:
        st.info(f"This study has no {what} yet. They are written by the study's analysis jobs (the config's "
                f"`[analysis]` section, on by default): run `{RUN_HINT.format(dir=study.path)}` with its config "
                f"to add them; finished jobs are kept.", icon=":material/info:")
        st.stop()
    return table


def describe(manifest: dict[str, Any]) -> str:
    """One sentence on what the study is, from its resolved config."""
    config = manifest.get("config", {})
    data, evaluation = config.get("data", {}), config.get("evaluation", {})
    archs = sorted({spec.get("arch", "?") for spec in config.get("models", [])})
    modes = sorted({spec.get("training", {}).get("mode", "?") for spec in config.get("models", [])})
    attacks = sorted({_attack_summary(sweep) for sweep in config.get("attacks", [])})
    train = data.get("train_subset") or "all"
    test = evaluation.get("samples") or "all"
    return (f"{len(config.get('models', []))} {'/'.join(archs)} models trained on {data.get('dataset', '?')} "
            f"({train} training images; training modes: {', '.join(modes)}), attacked by "
            f"{', '.join(attacks) or 'no attacks'} over an eps grid per norm on {test} test images.")


def _attack_summary(sweep: dict[str, Any]) -> str:
    """"PGD (Linf)" for a white-box sweep, "PGD (Linf, transfer from M)" for one crafted on model M."""
    source = sweep.get("source")
    origin = f", transfer from {source}" if source else ""
    return f"{str(sweep.get('name', '?')).upper()} ({sweep.get('norm', '?')}{origin})"


def provenance(manifest: dict[str, Any]) -> pd.DataFrame:
    """What produced the study: one row per manifest field worth showing (field, value)."""
    rows = {
        "status": "finished" if manifest.get("finished") else "not finished (running or interrupted)",
        "created": manifest.get("created"),
        "engine version": manifest.get("engine_version"),
        "git commit": manifest.get("git_commit"),
        "schema version": manifest.get("schema_version"),
        "device": manifest.get("device"),
        "python": manifest.get("python"),
        "seeds": ", ".join(str(seed) for seed in manifest.get("seeds", [])),
    }
    values = ["unknown" if value in (None, "") else str(value) for value in rows.values()]
    return pd.DataFrame({"field": list(rows), "value": values})


def libraries(manifest: dict[str, Any]) -> pd.DataFrame:
    """The library versions the study was produced with (library, version; "not installed" if absent)."""
    versions = manifest.get("libraries") or {}
    return pd.DataFrame({"library": list(versions),
                         "version": [version or "not installed" for version in versions.values()]})


def paper_findings(study: Study) -> list[Finding]:
    """The papers' claims tested on ``study`` (``engine.reporting.findings``); empty when it has none
    of their models."""
    try:
        found = load_findings(study.path)
    except SchemaError as error:
        raise table_error(error, study.path, "A table the findings read") from None
    return found if any(finding.agrees is not None for finding in found) else []
