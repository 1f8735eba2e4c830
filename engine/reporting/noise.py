"""Which checks of the papers' counterparts rest on sampling noise (a parametric bootstrap of the study).

Every accuracy in a study was measured on a finite sample of test images: the attacks' on ``n`` images
(500 for most sweeps), the per-epoch test sets' on the config's ``epoch_evaluation`` samples, clean accuracy
on the whole test set. A check such as "pgd_l2 above standard under PGD-Linf 0.1" is only as firm as the gap
between its accuracies is wide against that noise. ``holding_shares`` redraws every accuracy of the study
from its binomial distribution, Binomial(n, measured) / n (Efron & Tibshirani 1993, the parametric
bootstrap), rebuilds every counterpart on each redrawn study and counts, per check, the share of redraws in
which it still holds on ours. A check that holds in fewer than ``FIRM`` of them (or fails in fewer than
``FIRM``) is decided by differences inside the 95 % intervals, and so is a verdict that rests on it.

What is redrawn: white-box and transfer accuracies (``robust_accuracy``), clean accuracies (``models``) and
the per-epoch test accuracies (``training_curves``, not its training rows). Analysis figures (SVCCA, C1/C2,
A-distances, distances to the boundary) are kept as measured. Each accuracy is redrawn on its own; models
judged on the same images are correlated, so for a difference between two models this overstates the noise
(a conservative test).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from engine.data.datasets import split_size
from engine.reporting.findings import Study
from engine.reporting.side_by_side import Counterpart

DRAWS = 100  # redraws of the study: the share of a check that holds in 95 % of them is known to about 2 points
FIRM = 0.95  # a check that holds (or fails) in at least this share of redraws does not rest on noise
SEED = 0


def _redraw(rng: np.random.Generator, accuracy: pd.Series, images: np.ndarray) -> np.ndarray:
    """Binomial(images, accuracy) / images per row; rows without a measured accuracy stay NaN."""
    values = accuracy.to_numpy(dtype="float64", copy=True)
    measured = ~np.isnan(values)
    n = np.broadcast_to(np.asarray(images, dtype="int64"), values.shape)[measured]
    values[measured] = rng.binomial(n, np.clip(values[measured], 0, 1)) / n
    return values


def redrawn(study: Study, rng: np.random.Generator) -> Study:
    """A copy of ``study`` whose accuracies are redrawn from their binomial distributions (module docstring)."""
    accuracy = study.accuracy.copy()
    accuracy["accuracy"] = _redraw(rng, accuracy.accuracy, accuracy.n.to_numpy())
    models = study.models.copy()
    test_images = models.dataset.map(lambda name: split_size(str(name), "test"))
    models["clean_accuracy"] = _redraw(rng, models.clean_accuracy, test_images.to_numpy())
    tables = dict(study.tables)
    curves = tables.get("training_curves")
    if curves is not None and not curves.empty:
        clean = test_images.reindex(curves.model_id).to_numpy()
        attack_sets = np.minimum(clean, study.epoch_samples) if study.epoch_samples > 0 else clean  # 0: all of them
        tested = (curves.test_set != "train").to_numpy()
        images = np.where(curves.test_set == "clean", clean, attack_sets)
        curves = curves.copy()
        curves.loc[tested, "accuracy"] = _redraw(rng, curves.accuracy[tested], images[tested])
        tables["training_curves"] = curves
    return replace(study, accuracy=accuracy, models=models, tables=tables)


Builder = Callable[[Study], Counterpart]


def holding_shares(study: Study, builders: Sequence[Builder], draws: int = DRAWS,
                   seed: int = SEED) -> list[tuple[float, ...]]:
    """Per builder, per check of its counterpart on ``study``: the share of ``draws`` redrawn studies in which
    the check holds on ours. A redraw whose counterpart lacks a check (it found no result) does not count."""
    found = [build(study) for build in builders]
    held = [np.zeros(len(c.checks)) for c in found]
    counted = [np.zeros(len(c.checks)) for c in found]
    rng = np.random.default_rng(seed)
    for _ in range(draws):
        sample = redrawn(study, rng)
        for i, build in enumerate(builders):
            if not found[i].checks:
                continue
            again = build(sample)
            for j, check in enumerate(found[i].checks):
                if j < len(again.checks) and again.checks[j].name == check.name:
                    held[i][j] += again.checks[j].ours
                    counted[i][j] += 1
    return [tuple(float(h / c) if c else float("nan") for h, c in zip(hs, cs, strict=True))
            for hs, cs in zip(held, counted, strict=True)]


def rests_on_noise(share: float) -> bool:
    """Whether a check that holds in ``share`` of the redraws is decided by noise: neither it nor its negation
    holds in at least ``FIRM`` of them."""
    return bool(1 - FIRM < share < FIRM)
