import math

import pytest
import torch

from engine.config.schema import AttackConfig
from engine.evaluation.budget import BudgetError, check_budget, within_budget
from engine.evaluation.predict import clean_accuracy
from engine.evaluation.sweep import craft_run, evaluate_attack, evaluate_sweep, judge_crafted


def test_check_budget_rejects_what_the_attack_should_not_return() -> None:
    x = torch.full((2, 1, 4, 4), 0.5)
    cfg = AttackConfig("pgd", "Linf", 0.1, steps=2)
    assert check_budget(x, x + 0.1, cfg) == pytest.approx(0.1)
    with pytest.raises(BudgetError, match="exceeds eps"):
        check_budget(x, x + 0.2, cfg)
    with pytest.raises(BudgetError, match="outside"):
        check_budget(x, x + 0.6, AttackConfig("pgd", "Linf", 1.0, steps=2))
    with pytest.raises(BudgetError, match="non-finite"):
        check_budget(x, x * math.nan, cfg)


def test_check_budget_allows_float32_rounding_at_a_large_l1_eps() -> None:
    """An L1 ball of radius 50 over 784 pixels: float32 sums land within 1e-4 relative of the radius."""
    x = torch.zeros(1, 1, 28, 28)
    cfg = AttackConfig("pgd", "L1", 50.0, steps=2)
    assert check_budget(x, x + 50.0 * (1 + 2e-5) / 784, cfg) == pytest.approx(50.0, rel=1e-4)
    with pytest.raises(BudgetError, match="exceeds eps"):
        check_budget(x, x + 50.0 * (1 + 1e-3) / 784, cfg)


def test_within_budget_falls_back_to_the_clean_input() -> None:
    x = torch.zeros(2, 1, 2, 2)
    x_adv = torch.stack([torch.full((1, 2, 2), 0.1), torch.full((1, 2, 2), 0.9)])
    kept = within_budget(x, x_adv, AttackConfig("pgd", "L2", 1.0))
    assert torch.equal(kept[0], x_adv[0]) and torch.equal(kept[1], x[1])


@pytest.mark.real_data
def test_engine_judges_accuracy_itself(lenet, fmnist_test) -> None:
    split = fmnist_test.head(300)
    clean = clean_accuracy(lenet, split, 100, torch.device("cpu"))
    at_zero = evaluate_attack(lenet, split, AttackConfig("fgsm", "Linf", 0.0), 100, torch.device("cpu"))
    strong = evaluate_attack(lenet, split, AttackConfig("pgd", "Linf", 0.2, steps=10, random_start=True), 100,
                             torch.device("cpu"))
    assert at_zero.accuracy == pytest.approx(clean) and at_zero.n == 300
    assert strong.accuracy < 0.2 * clean and strong.max_perturbation <= 0.2 + 1e-5


@pytest.mark.real_data
def test_a_minimal_perturbation_sweep_runs_once_and_matches_separate_runs(lenet, fmnist_test, monkeypatch) -> None:
    from engine.evaluation import sweep as evaluation

    split, cpu = fmnist_test.head(64), torch.device("cpu")
    cfgs = [AttackConfig("deepfool", "L2", eps, steps=30) for eps in (0.25, 0.5, 1.0, math.inf)]
    separate = [evaluate_attack(lenet, split, cfg, 64, cpu).accuracy for cfg in cfgs]
    calls = []
    real = evaluation.make_attack
    monkeypatch.setattr(evaluation, "make_attack", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    outcomes = evaluate_sweep(lenet, split, cfgs, 64, cpu)
    assert [o.accuracy for o in outcomes] == separate and len(calls) == 1 and calls[0].eps == math.inf
    assert separate == sorted(separate, reverse=True) and separate[-1] == 0.0


@pytest.mark.real_data
def test_a_set_crafted_once_and_judged_later_matches_the_attack_judged_at_once(lenet, fmnist_test) -> None:
    """Transfer sets are crafted once (craft_run) and judged per model (judge_crafted), cut back per eps."""
    split, cpu = fmnist_test.head(64), torch.device("cpu")
    unbounded = AttackConfig("deepfool", "L2", math.inf, steps=30)
    x_adv, seconds = craft_run(lenet, split, unbounded, 32, cpu)
    assert x_adv.shape == (64, 1, 28, 28) and seconds > 0
    for eps in (0.5, math.inf):
        cfg = AttackConfig("deepfool", "L2", eps, steps=30)
        judged = judge_crafted(lenet, split, cfg, x_adv, seconds, 32, cpu)
        assert judged.accuracy == evaluate_attack(lenet, split, cfg, 32, cpu).accuracy and judged.seconds == seconds
