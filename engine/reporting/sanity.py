"""Sanity checks of a study's results after Carlini et al. 2019, "On Evaluating Adversarial
Robustness", section 5: signs that an attack was run wrongly or that a model masks its gradients.

Each check compares accuracies (or analysis figures) and yields one row per group it compares,
passed or not, with a detail naming the model, the attack sweeps and the numbers. ``tolerance``
is the accuracy margin allowed for sampling noise (random starts, restarts).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from engine.attacks.registry import ATTACKS
from engine.data.datasets import DATASETS
from engine.results import read_table
from engine.results.io import require_study

TOLERANCE = 0.01  # accuracy margin, one percentage point
UNBOUNDED_MAX_ACCURACY = 0.01  # a minimal-perturbation attack at eps = inf leaves at most 1 % correct
LARGE_LINF = 0.5  # at Linf eps >= 0.5 every image can be turned into the same grey one
SINGLE_STEP = {name for name, spec in ATTACKS.items() if spec.family == "single_step"}
GRADIENT_ITERATIVE = {name for name, spec in ATTACKS.items() if spec.family == "iterative"}
# searched until they cross the boundary (not JSMA, which stops at gamma * d pixels)
UNBOUNDED_SEARCH = {name for name, spec in ATTACKS.items() if spec.minimal and spec.reaches_boundary}
MINIMAL = {name for name, spec in ATTACKS.items() if spec.minimal}  # cut back to each eps by the engine

CHECKS = {
    "monotone_in_eps": "accuracy does not rise with eps, per model and attack sweep",
    "iterative_below_single_step": "PGD/APGD/AutoAttack accuracy <= FGSM accuracy at the same norm and eps",
    "unbounded_succeeds": "white-box C&W and DeepFool at eps = inf leave <= 1 % correct",
    "minimal_below_fixed_budget": "a white-box minimal attack (C&W, DeepFool, DDN) cut back to eps leaves accuracy "
                                  "<= white-box PGD/APGD/AutoAttack + tolerance, same norm, eps and test images",
    "boundary_found": "DeepFool reaches the decision boundary for >= 99 % of the analysed samples",
    "whitebox_below_transfer": "white-box accuracy <= transfer accuracy, same attack, norm and eps",
    "whitebox_below_noise": "white-box accuracy <= random-noise accuracy at the same norm and eps",
    "near_chance_at_large_linf": "accuracy <= chance + tolerance at Linf eps >= 0.5",
    "norm_ratio_bounds": "1 <= C1 <= C2 <= sqrt(d) for every analysed attack",
}

Row = dict[str, object]


def _row(check: str, model_id: str, passed: bool, detail: str) -> Row:
    return {"check": check, "model_id": model_id, "passed": bool(passed), "detail": detail}


def _monotone(accuracy: pd.DataFrame, tolerance: float) -> Iterator[Row]:
    for (model_id, sweep), rows in accuracy.groupby(["model_id", "sweep"]):
        if len(rows) < 2:
            continue
        ordered = rows.sort_values("eps")
        eps, acc = ordered.eps.tolist(), ordered.accuracy.tolist()
        rises = [i for i in range(1, len(acc)) if acc[i] > acc[i - 1] + tolerance]
        detail = (f"{sweep}: accuracy rises from {acc[rises[0] - 1]:.4f} at eps {eps[rises[0] - 1]:g} "
                  f"to {acc[rises[0]]:.4f} at eps {eps[rises[0]]:g}") if rises else \
            f"{sweep}: {acc[0]:.4f} at eps {eps[0]:g} down to {acc[-1]:.4f} at eps {eps[-1]:g}"
        yield _row("monotone_in_eps", model_id, not rises, detail)


def _pairs(accuracy: pd.DataFrame, check: str, stronger: pd.Series, weaker: pd.Series, same: list[str],
           tolerance: float) -> Iterator[Row]:
    """For each model and pair of sweeps (stronger, weaker) matched on the ``same`` columns and eps,
    a row saying whether the stronger sweep's accuracy stays <= the weaker one's + tolerance."""
    keys = ["model_id", *same, "eps"]
    pairs = accuracy[stronger].merge(accuracy[weaker], on=keys, suffixes=("", "_weak"))
    pairs = pairs[(pairs.sweep != pairs.sweep_weak) & (pairs.eps > 0)]
    for (model_id, sweep, weak), rows in pairs.groupby(["model_id", "sweep", "sweep_weak"]):
        worst = rows.loc[(rows.accuracy - rows.accuracy_weak).idxmax()]
        passed = worst.accuracy <= worst.accuracy_weak + tolerance
        verdict = "above" if not passed else "at most"
        yield _row(check, model_id, passed, f"{sweep} {worst.accuracy:.4f} is {verdict} {weak} "
                   f"{worst.accuracy_weak:.4f} at eps {worst.eps:g} (closest of {len(rows)} eps)")


def _minimal_below_fixed_budget(accuracy: pd.DataFrame, white: pd.Series, tolerance: float) -> Iterator[Row]:
    """A minimal attack's smallest perturbations, cut back to eps, break at least what a fixed-budget
    attack at eps breaks, up to tolerance. The comparison is paired (same n and test set, the ``-on-``
    suffix of the sweep), so the common tolerance only has to cover PGD's random start: DDN at its
    default steps stayed at or below PGD-20 at every eps of the shipped pgd_l2 and standard models."""
    images = accuracy.assign(test_set=accuracy.sweep.str.extract(r"-on-([^-]+)$", expand=False).fillna(""))
    yield from _pairs(images, "minimal_below_fixed_budget", white & accuracy.attack.isin(MINIMAL),
                      white & accuracy.attack.isin(GRADIENT_ITERATIVE), ["norm", "n", "test_set"], tolerance)


def _unbounded(accuracy: pd.DataFrame) -> Iterator[Row]:
    searched = accuracy[(accuracy.eps == math.inf) & accuracy.attack.isin(UNBOUNDED_SEARCH)
                        & accuracy.source_model_id.isna()]
    for _, row in searched.iterrows():
        yield _row("unbounded_succeeds", row.model_id, row.accuracy <= UNBOUNDED_MAX_ACCURACY,
                   f"{row.sweep}: accuracy {row.accuracy:.4f} at eps inf (at most {UNBOUNDED_MAX_ACCURACY} expected)")


def _near_chance(accuracy: pd.DataFrame, classes: dict[str, int], tolerance: float) -> Iterator[Row]:
    large = accuracy[(accuracy.norm == "Linf") & (accuracy.eps >= LARGE_LINF) & accuracy.source_model_id.isna()
                     & accuracy.attack.isin(SINGLE_STEP | GRADIENT_ITERATIVE)]
    for _, row in large.iterrows():
        chance = 1 / classes[row.model_id]
        yield _row("near_chance_at_large_linf", row.model_id, row.accuracy <= chance + tolerance,
                   f"{row.sweep}: accuracy {row.accuracy:.4f} at eps {row.eps:g} (chance {chance:.2f})")


def _boundary(boundary: pd.DataFrame) -> Iterator[Row]:
    for model_id, rows in boundary.groupby("model_id"):
        share = rows.success.mean()
        yield _row("boundary_found", model_id, share >= 0.99,
                   f"DeepFool reached the boundary for {share:.1%} of {len(rows)} samples, "
                   f"mean L2 distance {rows.distance_l2.mean():.4f}")


def _ratio_bounds(ratios: pd.DataFrame) -> Iterator[Row]:
    for _, row in ratios[ratios.c1.notna()].iterrows():
        passed = 1 - 1e-6 <= row.c1 <= row.c2 <= row.sqrt_d + 1e-6
        yield _row("norm_ratio_bounds", row.model_id, passed,
                   f"{row.sweep} eps {row.eps:g}: C1 {row.c1:.3f}, C2 {row.c2:.3f}, sqrt(d) {row.sqrt_d:.1f}")


def sanity_checks(accuracy: pd.DataFrame, ratios: pd.DataFrame, boundary: pd.DataFrame, classes: dict[str, int],
                  tolerance: float = TOLERANCE) -> pd.DataFrame:
    """Rows (check, model_id, passed, detail) from a study's robust_accuracy, norm_ratios and boundary
    tables; ``classes`` gives each model's number of classes (for chance)."""
    white = accuracy.source_model_id.isna()
    gradient = accuracy.attack.isin(GRADIENT_ITERATIVE)
    rows = [
        *_monotone(accuracy, tolerance),
        *_pairs(accuracy, "iterative_below_single_step", white & gradient,
                white & accuracy.attack.isin(SINGLE_STEP), ["norm"], tolerance),
        *_unbounded(accuracy),
        *_minimal_below_fixed_budget(accuracy, white, tolerance),
        *_boundary(boundary),
        *_pairs(accuracy, "whitebox_below_transfer", white, ~white, ["attack", "norm"], tolerance),
        *_pairs(accuracy, "whitebox_below_noise", white & (accuracy.attack != "noise"),
                white & (accuracy.attack == "noise"), ["norm"], tolerance),
        *_near_chance(accuracy, classes, tolerance),
        *_ratio_bounds(ratios),
    ]
    return pd.DataFrame(rows, columns=["check", "model_id", "passed", "detail"])


def classes_per_model(models: pd.DataFrame) -> dict[str, int]:
    """Number of classes of each model of a study's models table, from its dataset."""
    return {row.model_id: len(DATASETS[row.dataset].classes) for row in models.itertuples()}


def report(checks: pd.DataFrame) -> str:
    """A plain-text report: per check, its verdict counts and every failure; checks with no data named."""
    lines = []
    for check, description in CHECKS.items():
        rows = checks[checks.check == check]
        if rows.empty:
            lines.append(f"--    {check}: not applicable to this study ({description})")
            continue
        failed = rows[~rows.passed]
        status = "FAIL" if len(failed) else "ok"
        lines.append(f"{status:5s} {check}: {len(rows) - len(failed)}/{len(rows)} passed ({description})")
        lines += [f"        {row.model_id}: {row.detail}" for row in failed.itertuples()]
    return "\n".join(lines) + "\n"


def study_checks(study: str | Path, tolerance: float = TOLERANCE) -> pd.DataFrame:
    """``sanity_checks`` over the tables of the study directory ``study``."""
    study = require_study(study)
    tables = {name: read_table(study, name) for name in ("models", "robust_accuracy", "norm_ratios", "boundary")}
    return sanity_checks(tables["robust_accuracy"], tables["norm_ratios"], tables["boundary"],
                         classes_per_model(tables["models"]), tolerance)
