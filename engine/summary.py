"""A Markdown summary of a study directory, written from its files: the models and, per attack
sweep, accuracy against eps. The README's shipped-study section is this text, and a test keeps
the two equal.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from engine.results import read_table
from engine.results.io import read_json, require_study
from engine.results.manifest import in_config_order

MODEL_COLUMNS = {"model_id": "model", "training_mode": "training", "train_norm": "norm", "train_eps": "eps",
                 "epochs": "epochs", "clean_accuracy": "clean accuracy", "train_seconds": "train s"}


def _markdown(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def _models_table(models: pd.DataFrame) -> str:
    table = models[list(MODEL_COLUMNS)].rename(columns=MODEL_COLUMNS).astype(object)
    table = table.where(table.notna(), "")
    table["clean accuracy"] = table["clean accuracy"].map("{:.4f}".format)
    table["train s"] = table["train s"].map("{:.0f}".format)
    return _markdown(table)


def _sweep_table(rows: pd.DataFrame, order: list[str]) -> str:
    """Models × eps accuracies of one sweep [rows of robust_accuracy]."""
    pivot = rows.pivot(index="model_id", columns="eps", values="accuracy").reindex(order).dropna(how="all")
    pivot.columns = [f"eps {eps:g}" for eps in pivot.columns]
    return _markdown(pivot.map("{:.3f}".format).reset_index().rename(columns={"model_id": "model"}))


def _sweep_title(rows: pd.DataFrame) -> str:
    first = rows.iloc[0]
    steps = f"{first.steps} step" + ("s" if first.steps != 1 else "")
    source = f", transferred from {first.source_model_id}" if pd.notna(first.source_model_id) else ""
    return f"{first.attack} {first.norm} ({steps}{source}, {first.n:,} test images)"


def _config_rank(accuracy: pd.DataFrame, manifest: dict) -> pd.Series:
    """Per row, the position of its sweep's (attack, norm, source) in the study config."""
    sweeps = [(s.get("name"), s.get("norm"), s.get("source") or None) for s in manifest["config"].get("attacks", [])]
    rank = {sweep: index for index, sweep in enumerate(sweeps)}
    sources = [None if pd.isna(source) else source for source in accuracy.source_model_id]
    keys = zip(accuracy.attack, accuracy.norm, sources, strict=True)
    return pd.Series([rank.get(key, len(rank)) for key in keys], index=accuracy.index)


def study_summary(study: str | Path) -> str:
    """Markdown: the models table, then one accuracy table per attack sweep, in config order."""
    study = require_study(study)
    manifest = read_json(study / "manifest.json")
    models = in_config_order(read_table(study, "models"), manifest)
    accuracy = read_table(study, "robust_accuracy")
    accuracy = accuracy.assign(_rank=_config_rank(accuracy, manifest)).sort_values(["_rank", "sweep"], kind="stable")
    parts = [_models_table(models)]
    for _, rows in accuracy.groupby(["_rank", "sweep"], sort=False):
        parts += [f"**{_sweep_title(rows)}**", _sweep_table(rows, list(models.model_id))]
    return "\n\n".join(parts) + "\n"
