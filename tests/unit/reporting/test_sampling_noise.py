"""The parametric bootstrap of a study: accuracies redrawn from their binomials, everything else kept, and a check
that rests on a gap inside the intervals told apart from one that does not."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from engine.reporting.findings import Study
from engine.reporting.noise import FIRM, holding_shares, redrawn, rests_on_noise
from engine.reporting.paper_report import render
from engine.reporting.papers import GARAEV_T3
from engine.reporting.side_by_side import Check, Counterpart, checked

IMAGES = 500


def _study(accuracies: dict[str, float]) -> Study:
    """A study of one PGD-Linf 0.1 row per model, judged on IMAGES images, plus per-epoch curves."""
    accuracy = pd.DataFrame({"model_id": list(accuracies), "attack": "pgd", "norm": "Linf", "eps": 0.1,
                             "source_model_id": None, "accuracy": list(accuracies.values()), "n": IMAGES})
    models = pd.DataFrame({"dataset": "fashion_mnist", "clean_accuracy": 0.9}, index=pd.Index(list(accuracies)))
    first = next(iter(accuracies))
    curves = pd.DataFrame({"model_id": first, "epoch": [1, 1, 1], "test_set": ["train", "clean", "fgsm-from-x"],
                           "accuracy": [0.7, 0.8, 0.6], "loss": [0.5, np.nan, np.nan]})
    svcca = pd.DataFrame({"model_id": [first], "mean": [0.75]})
    return Study(accuracy, models, {"training_curves": curves, "svcca": svcca}, epoch_samples=1000)


def _above(first: str, second: str):
    def build(study: Study) -> Counterpart:
        holds = study.accuracy_of(first, "pgd", "Linf", 0.1) > study.accuracy_of(second, "pgd", "Linf", 0.1)
        return checked(GARAEV_T3, "", "", pd.DataFrame(), [Check(f"{first} above {second}", True, holds)], "", "", [])
    return build


def test_a_redraw_draws_every_accuracy_from_its_binomial_and_keeps_the_rest() -> None:
    study = _study({"a": 0.5, "b": 0.0, "c": 1.0})
    draws = [redrawn(study, np.random.default_rng(seed)) for seed in range(200)]
    first = np.array([d.accuracy.accuracy.iloc[0] for d in draws])
    assert np.allclose(first * IMAGES, np.round(first * IMAGES))  # successes out of the row's n
    assert abs(first.mean() - 0.5) < 0.01 and abs(first.std() - np.sqrt(0.25 / IMAGES)) < 0.005
    assert all(d.accuracy.accuracy.iloc[1] == 0.0 and d.accuracy.accuracy.iloc[2] == 1.0 for d in draws)
    clean = np.array([d.models.clean_accuracy.iloc[0] for d in draws])  # on the 10,000 test images
    assert abs(clean.std() - np.sqrt(0.09 / 10_000)) < 0.001
    curves = [d.tables["training_curves"].set_index("test_set").accuracy for d in draws]
    assert all(c["train"] == 0.7 for c in curves)  # training accuracy is not a test sample
    assert abs(np.std([c["fgsm-from-x"] for c in curves]) - np.sqrt(0.24 / 1000)) < 0.005
    assert all(d.tables["svcca"] is study.tables["svcca"] for d in draws)  # analyses as measured
    assert study.accuracy.accuracy.tolist() == [0.5, 0.0, 1.0]  # the study itself is untouched


def test_redraws_repeat_with_the_seed() -> None:
    study = _study({"a": 0.5, "b": 0.4})
    once, again = (redrawn(study, np.random.default_rng(7)) for _ in range(2))
    pd.testing.assert_frame_equal(once.accuracy, again.accuracy)


def test_a_gap_inside_the_intervals_rests_on_noise_and_a_wide_one_does_not() -> None:
    study = _study({"wide": 0.60, "close": 0.51, "base": 0.50})
    (wide,), (close,) = holding_shares(study, [_above("wide", "base"), _above("close", "base")], draws=200)
    assert wide >= FIRM and not rests_on_noise(wide)
    assert 0.5 < close < 0.9 and rests_on_noise(close)


def test_a_counterpart_without_checks_is_not_redrawn() -> None:
    calls = []

    def build(study: Study) -> Counterpart:
        calls.append(study)
        return Counterpart(GARAEV_T3, "not reproducible here", "", "why")

    assert holding_shares(_study({"a": 0.5}), [build], draws=5) == [()]
    assert len(calls) == 1


@pytest.mark.parametrize("share, noise", [(1.0, False), (0.95, False), (0.94, True), (0.5, True), (0.06, True),
                                          (0.05, False), (0.0, False)])
def test_firm_either_way(share: float, noise: bool) -> None:
    assert rests_on_noise(share) == noise


def test_the_document_names_the_checks_that_rest_on_noise() -> None:
    study = _study({"close": 0.51, "base": 0.50})
    found = _above("close", "base")(study)
    shaky = dataclasses.replace(found, checks=(dataclasses.replace(found.checks[0], holds_in=0.61),))
    firm = dataclasses.replace(found, checks=(dataclasses.replace(found.checks[0], holds_in=1.0),))
    assert "| close above base | yes | yes (holds in 61% of redraws) |" in render([shaky])
    assert "- Noise: 1 of 1 checks rest on differences inside the 95 % intervals" in render([shaky])
    assert "Noise" not in render([firm]) and "| close above base | yes | yes |" in render([firm])
