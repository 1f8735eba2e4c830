"""A Markdown summary of a study directory, written from its files: the models, per attack sweep
accuracy against eps, and the analyses' headline figures (distance to the boundary, norm ratios,
sanity checks). ``precomputed/<study>/SUMMARY.md`` is this text (``make docs``), and a test keeps them equal.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from engine.analysis.boundary import boundary_summary
from engine.core.fs import read_json
from engine.reporting.markdown import table
from engine.reporting.sanity import report
from engine.results import read_table
from engine.results.io import require_study
from engine.results.manifest import in_config_order

MODEL_COLUMNS = {"model_id": "model", "training_mode": "training", "train_norm": "norm", "train_eps": "eps",
                 "epochs": "epochs", "clean_accuracy": "clean accuracy", "train_seconds": "train s"}


def _markdown(frame: pd.DataFrame) -> str:
    return table(frame.columns, frame.itertuples(index=False))


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
    cells = pivot.map(lambda accuracy: "" if pd.isna(accuracy) else f"{accuracy:.3f}")  # eps not run on that model
    return _markdown(cells.reset_index().rename(columns={"model_id": "model"}))


def _sweep_title(rows: pd.DataFrame) -> str:
    first = rows.iloc[0]
    steps = f"{first.steps} step" + ("s" if first.steps != 1 else "")
    source = f", transferred from {first.source_model_id}" if pd.notna(first.source_model_id) else ""
    images = " or ".join(f"{n:,}" for n in sorted(rows.n.unique(), reverse=True))
    return f"{first.attack} {first.norm} ({steps}{source}, {images} test images)"


def _config_rank(accuracy: pd.DataFrame, manifest: dict) -> pd.Series:
    """Per row, the position of its sweep's (attack, norm, source) in the study config."""
    sweeps = [(s.get("name"), s.get("norm"), s.get("source") or None) for s in manifest["config"].get("attacks", [])]
    rank = {sweep: index for index, sweep in enumerate(sweeps)}
    sources = [None if pd.isna(source) else source for source in accuracy.source_model_id]
    keys = zip(accuracy.attack, accuracy.norm, sources, strict=True)
    return pd.Series([rank.get(key, len(rank)) for key in keys], index=accuracy.index)


def _boundary_table(boundary: pd.DataFrame, order: list[str]) -> str:
    """Garaev et al.'s boundary table: DeepFool's distance to the boundary and its iterations, per model."""
    stats = boundary_summary(boundary).reindex(order).dropna(how="all")
    table = pd.DataFrame({"model": stats.index, "mean L2 distance": stats["mean"].map("{:.3f}".format),
                          "median": stats["median"].map("{:.3f}".format),
                          "mean steps": stats.steps.map("{:.2f}".format),
                          "boundary found": stats.found.map("{:.1%}".format)})
    return _markdown(table)


def _ratios_table(ratios: pd.DataFrame, order: list[str]) -> str:
    """C1 - C2 of each analysed sweep (rows) for each model (columns), over all its eps."""
    found = ratios.dropna(subset=["c1"])
    spans = found.groupby(["sweep", "model_id"]).agg(c1=("c1", "min"), c2=("c2", "max"))
    cells = (spans.c1.map("{:.2f}".format) + " - " + spans.c2.map("{:.2f}".format)).unstack("model_id")
    cells = cells[[model for model in order if model in cells.columns]].fillna("")
    return _markdown(cells.reset_index())


def _analysis_parts(study: Path, order: list[str]) -> list[str]:
    boundary, ratios = read_table(study, "boundary"), read_table(study, "norm_ratios")
    if boundary.empty:
        return []
    samples = boundary.groupby("model_id").size().max()
    sqrt_d = ratios.sqrt_d.iloc[0] if len(ratios) else float("nan")
    return [f"**Distance to the decision boundary (DeepFool L2, correctly classified among the first {samples:,} "
            "test images)**",
            _boundary_table(boundary, order),
            f"**Norm ratios ||d||_2 / ||d||_inf of successful perturbations, C1 - C2 over each sweep's eps "
            f"(bounds 1 and sqrt(d) = {sqrt_d:.1f})**",
            _ratios_table(ratios, order)]


def _checks_part(study: Path) -> list[str]:
    checks = read_table(study, "sanity_checks")
    if checks.empty:
        return []
    return ["**Sanity checks (`python -m engine check`)**", "```\n" + report(checks).rstrip("\n") + "\n```"]


def study_summary(study: str | Path) -> str:
    """Markdown: the models table, one accuracy table per attack sweep in config order, then the
    analyses' boundary and norm-ratio tables and the sanity-check report when the study has them."""
    study = require_study(study)
    manifest = read_json(study / "manifest.json")
    models = in_config_order(read_table(study, "models"), manifest)
    accuracy = read_table(study, "robust_accuracy")
    accuracy = accuracy.assign(_rank=_config_rank(accuracy, manifest)).sort_values(["_rank", "sweep"], kind="stable")
    parts = [_models_table(models)]
    for _, rows in accuracy.groupby(["_rank", "sweep"], sort=False):
        parts += [f"**{_sweep_title(rows)}**", _sweep_table(rows, list(models.model_id))]
    parts += _analysis_parts(study, list(models.model_id)) + _checks_part(study)
    return "\n\n".join(parts) + "\n"


def _reference_eps(rows: pd.DataFrame, models: pd.DataFrame) -> float:
    """The eps at which to compare models under one sweep: a training eps of this norm that the sweep
    reaches, else the sweep's middle positive eps."""
    trained = models[(models.train_norm == rows.norm.iloc[0]) & models.train_eps.isin(rows.eps)].train_eps
    positive = sorted(eps for eps in rows.eps.unique() if 0 < eps < float("inf"))
    if len(trained):
        return float(trained.min())
    return positive[len(positive) // 2] if positive else float(rows.eps.max())


def headlines(models: pd.DataFrame, accuracy: pd.DataFrame, checks: pd.DataFrame) -> list[str]:
    """Plain sentences for the app's overview, computed from a study's tables: clean accuracy range,
    the most and least robust model under each white-box iterative sweep, and the sanity checks."""
    lines = []
    if len(models) > 1:
        ranked = models.sort_values("clean_accuracy")
        low, high = ranked.iloc[0], ranked.iloc[-1]
        lines.append(f"Clean accuracy ranges from {low.clean_accuracy:.3f} ({low.model_id}) to "
                     f"{high.clean_accuracy:.3f} ({high.model_id}).")
    white = accuracy[accuracy.source_model_id.isna() & accuracy.attack.isin(["pgd", "apgd", "autoattack"])]
    for _, rows in white.groupby("sweep", sort=True):
        eps = _reference_eps(rows, models)
        at = rows[rows.eps == eps].sort_values("accuracy")
        if len(at) > 1:
            best, worst = at.iloc[-1], at.iloc[0]
            lines.append(f"Under {_sweep_title(rows)} at eps {eps:g}, the most robust model is {best.model_id} "
                         f"({best.accuracy:.3f}) and the least {worst.model_id} ({worst.accuracy:.3f}).")
    if len(checks):
        failed = checks[~checks.passed]
        lines.append(f"All {len(checks)} sanity comparisons pass (`python -m engine check`)." if failed.empty else
                     f"{len(failed)} of {len(checks)} sanity comparisons fail, e.g. {failed.iloc[0].model_id}: "
                     f"{failed.iloc[0].detail} (`python -m engine check`).")
    return lines
