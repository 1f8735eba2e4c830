"""The overview's headline sentences name sweeps as a reader would, not by their internal keys."""

from __future__ import annotations

import pandas as pd

from engine.reporting.summary import headlines
from engine.results.schema import TABLES


def _table(name: str, rows: list[dict]) -> pd.DataFrame:
    columns = TABLES[name].names
    return pd.DataFrame([{column: row.get(column) for column in columns} for row in rows], columns=columns)


def test_headlines_name_the_attack_its_steps_and_images_and_count_failed_checks() -> None:
    models = _table("models", [{"model_id": "std", "training_mode": "standard", "clean_accuracy": 0.9},
                               {"model_id": "adv", "training_mode": "pgd", "train_norm": "Linf", "train_eps": 0.1,
                                "clean_accuracy": 0.8}])
    accuracy = _table("robust_accuracy", [
        {"model_id": model, "attack": "pgd", "norm": "Linf", "eps": 0.1, "accuracy": value, "steps": 20, "n": 500,
         "sweep": "pgd-Linf-20steps-rs"} for model, value in (("std", 0.01), ("adv", 0.6))])
    checks = _table("sanity_checks", [{"check": "monotone_in_eps", "model_id": "std", "passed": False,
                                       "detail": "accuracy rises"}, {"check": "x", "model_id": "adv", "passed": True}])
    lines = headlines(models, accuracy, checks)
    assert lines[1] == ("Under pgd Linf (20 steps, 500 test images) at eps 0.1, the most robust model is adv (0.600) "
                        "and the least std (0.010).")
    assert "pgd-Linf-20steps-rs" not in " ".join(lines)
    assert lines[2].startswith("1 of 2 sanity comparisons fail, e.g. std: accuracy rises")
