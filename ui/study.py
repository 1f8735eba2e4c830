"""Open the study the sidebar names, or explain on the page why it cannot be shown."""

from __future__ import annotations

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
from engine.results.manifest import in_config_order
from engine.results.schema import SCHEMA_VERSION
from engine.study.validate import study_from_dict
from ui.loaders import MANIFEST, load_findings, load_manifest, load_table
from ui.sidebar import RESULTS_KEY, default_results_dir, resolve

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


def _read_manifest(study_dir: Path) -> dict[str, Any]:
    hint = RUN_HINT.format(dir=study_dir)
    if not study_dir.is_dir():
        raise StudyError(f"The results directory `{study_dir}` does not exist. Enter a study directory in the "
                         f"sidebar, or create one with `{hint}` (e.g. CONFIG = `configs/smoke.toml`).")
    if not (study_dir / MANIFEST).is_file():
        raise StudyError(f"`{study_dir}` has no `{MANIFEST}`, so it is not a study directory (or its run has "
                         f"not started). Point the sidebar at a study directory, or run `{hint}`.")
    try:
        manifest = load_manifest(study_dir)
    except (OSError, ValueError) as error:
        raise StudyError(f"`{study_dir / MANIFEST}` cannot be read ({error}). Regenerate the study with "
                         f"`{hint}`.") from None
    if not isinstance(manifest, dict):
        raise StudyError(f"`{study_dir / MANIFEST}` is not a study manifest (a JSON object). Regenerate the "
                         f"study with `{hint}`.")
    return manifest


def _read_table(study_dir: Path, name: str) -> pd.DataFrame:
    try:
        return load_table(study_dir, name)
    except SchemaError as error:
        raise StudyError(f"Table `{name}` in `{study_dir}` does not match this engine's results schema: "
                         f"{error}. It was probably written by another engine version: regenerate it "
                         f"with `{RUN_HINT.format(dir=study_dir)}` into a fresh directory.") from None


def _check_schema_version(study_dir: Path, manifest: dict[str, Any]) -> None:
    version = manifest.get("schema_version")
    if version is not None and version != SCHEMA_VERSION:
        raise StudyError(f"`{study_dir}` was written with results schema version {version}; this app reads "
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


def require_study() -> Study:
    """The study named in the sidebar, with a warning when partial; otherwise an error and ``st.stop()``."""
    study_dir = resolve(st.session_state.get(RESULTS_KEY, default_results_dir()))
    try:
        study = load_study(study_dir)
    except StudyError as error:
        st.error(str(error), icon=":material/error:")
        st.stop()
    notice = partial_notice(study)
    if notice:
        st.warning(notice, icon=":material/hourglass_top:")
    return study


def require_table(study: Study, name: str, what: str) -> pd.DataFrame:
    """Table ``name`` of ``study``; when it is empty, an explanation of why and ``st.stop()``."""
    try:
        table = study.table(name)
    except StudyError as error:
        st.error(str(error), icon=":material/error:")
        st.stop()
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
    found = load_findings(study.path)
    return found if any(finding.agrees is not None for finding in found) else []
