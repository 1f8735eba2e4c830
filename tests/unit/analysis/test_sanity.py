"""Sanity checks (Carlini et al. 2019): each one passes on sound results and names the culprit on bad ones."""

import math

import pandas as pd
import pytest

from engine.reporting.sanity import CHECKS, report, sanity_checks

EMPTY_RATIOS = pd.DataFrame(columns=["model_id", "sweep", "eps", "c1", "c2", "sqrt_d"])
EMPTY_BOUNDARY = pd.DataFrame(columns=["model_id", "success", "distance_l2"])


def _rows(model: str, attack: str, norm: str, accuracies: dict[float, float], source: str | None = None,
          n: int = 500) -> list:
    sweep = f"{attack}-{norm}" + (f"-from-{source}" if source else "")
    return [{"model_id": model, "attack": attack, "sweep": sweep, "norm": norm, "eps": eps, "accuracy": acc,
             "source_model_id": source, "n": n} for eps, acc in accuracies.items()]


def _checks(*groups: list, ratios: pd.DataFrame = EMPTY_RATIOS, boundary: pd.DataFrame = EMPTY_BOUNDARY):
    accuracy = pd.DataFrame([row for group in groups for row in group])
    return sanity_checks(accuracy, ratios, boundary, {"m": 10, "src": 10})


def _only(checks: pd.DataFrame, name: str) -> pd.DataFrame:
    rows = checks[checks.check == name]
    assert not rows.empty, f"{name} did not run"
    return rows


def test_sound_results_pass_every_check() -> None:
    checks = _checks(
        _rows("m", "fgsm", "Linf", {0: 0.9, 0.1: 0.5, 0.5: 0.08}),
        _rows("m", "pgd", "Linf", {0: 0.9, 0.1: 0.3, 0.5: 0.0}),
        _rows("m", "pgd", "Linf", {0: 0.9, 0.1: 0.6}, source="src"),
        _rows("m", "noise", "Linf", {0.1: 0.88}),
        _rows("m", "deepfool", "L2", {1.0: 0.4, math.inf: 0.0}),
        _rows("m", "pgd", "L2", {0: 0.9, 1.0: 0.41}),
        ratios=pd.DataFrame([{"model_id": "m", "sweep": "pgd-Linf", "eps": 0.1, "c1": 12.0, "c2": 27.0,
                              "sqrt_d": 28.0}]),
        boundary=pd.DataFrame({"model_id": "m", "success": [True] * 100, "distance_l2": 1.0}),
    )
    assert set(checks.check) == set(CHECKS) and checks.passed.all()


def test_accuracy_rising_with_eps_fails_and_names_the_numbers() -> None:
    rows = _only(_checks(_rows("m", "pgd", "L2", {0: 0.9, 0.5: 0.4, 1.0: 0.45})), "monotone_in_eps")
    assert not rows.passed.iloc[0] and rows.model_id.iloc[0] == "m"
    assert rows.detail.iloc[0] == "pgd-L2: accuracy rises from 0.4000 at eps 0.5 to 0.4500 at eps 1"


def test_a_rise_within_the_tolerance_passes() -> None:
    checks = _checks(_rows("m", "pgd", "L2", {0: 0.9, 0.5: 0.400, 1.0: 0.405}))
    assert _only(checks, "monotone_in_eps").passed.all()


@pytest.mark.parametrize(("check", "groups"), [
    ("iterative_below_single_step", [_rows("m", "fgsm", "Linf", {0.1: 0.3}), _rows("m", "pgd", "Linf", {0.1: 0.5})]),
    ("whitebox_below_transfer", [_rows("m", "pgd", "Linf", {0.1: 0.5}), _rows("m", "pgd", "Linf", {0.1: 0.2}, "src")]),
    ("whitebox_below_noise", [_rows("m", "fgsm", "L2", {1.0: 0.7}), _rows("m", "noise", "L2", {1.0: 0.6})]),
    ("near_chance_at_large_linf", [_rows("m", "pgd", "Linf", {0.6: 0.3})]),
    ("unbounded_succeeds", [_rows("m", "cw", "L2", {math.inf: 0.05})]),
    ("minimal_below_fixed_budget", [_rows("m", "pgd", "L2", {1.0: 0.3}), _rows("m", "ddn", "L2", {1.0: 0.35})]),
])
def test_each_comparison_fails_on_its_symptom(check: str, groups: list) -> None:
    rows = _only(_checks(*groups), check)
    assert not rows.passed.any() and (rows.model_id == "m").all()
    assert any(char.isdigit() for char in rows.detail.iloc[0])


def test_boundary_and_norm_ratio_failures() -> None:
    checks = _checks(
        _rows("m", "fgsm", "Linf", {0.1: 0.5}),
        ratios=pd.DataFrame([{"model_id": "m", "sweep": "fgsm-Linf", "eps": 0.1, "c1": 0.5, "c2": 30.0,
                              "sqrt_d": 28.0}]),
        boundary=pd.DataFrame({"model_id": "m", "success": [True] * 90 + [False] * 10, "distance_l2": 1.0}),
    )
    assert not _only(checks, "norm_ratio_bounds").passed.any()
    boundary = _only(checks, "boundary_found")
    assert not boundary.passed.any() and "90.0%" in boundary.detail.iloc[0]


def test_report_lists_failures_and_checks_that_do_not_apply() -> None:
    text = report(_checks(_rows("m", "pgd", "L2", {0: 0.9, 0.5: 0.4, 1.0: 0.45})))
    assert "FAIL  monotone_in_eps: 0/1 passed" in text and "m: pgd-L2: accuracy rises" in text
    assert "--    whitebox_below_noise: not applicable" in text


def test_only_white_box_searches_without_a_budget_must_succeed_at_eps_inf() -> None:
    """Transferred sets and JSMA (which stops at gamma * d changed pixels) may leave images correct at eps inf."""
    checks = _checks(_rows("m", "jsma", "L0", {math.inf: 0.2}), _rows("m", "cw", "L2", {math.inf: 0.4}, "src"),
                     _rows("m", "deepfool", "L2", {math.inf: 0.0}))
    unbounded = _only(checks, "unbounded_succeeds")
    assert len(unbounded) == 1 and unbounded.passed.all() and "deepfool" in unbounded.detail.iloc[0]


def test_minimal_attacks_are_compared_with_fixed_budgets_on_the_same_images_only() -> None:
    """Another number of images, another test set or a transferred set is no paired comparison."""
    checks = _checks(
        _rows("m", "pgd", "L2", {0: 0.9, 1.0: 0.3, 2.0: 0.1}),
        _rows("m", "cw", "L2", {1.0: 0.5}, n=100),
        [{**row, "sweep": "deepfool-L2-on-cinic10"} for row in _rows("m", "deepfool", "L2", {1.0: 0.5})],
        _rows("m", "ddn", "L2", {1.0: 0.5}, source="src"),
        _rows("m", "ddn", "L2", {1.0: 0.305, 2.0: 0.1, math.inf: 0.0}),
    )
    rows = _only(checks, "minimal_below_fixed_budget")
    assert len(rows) == 1 and rows.passed.all()
    assert rows.detail.iloc[0] == "ddn-L2 0.3050 is at most pgd-L2 0.3000 at eps 1 (closest of 2 eps)"
