"""The overview explains its sanity-check count and shows no "None" for trainings without a norm or eps."""

from __future__ import annotations

from helpers import REPO
from streamlit.testing.v1 import AppTest

from engine.results import read_table

SHIPPED = REPO / "precomputed" / "fashion_mnist"


def test_failing_sanity_comparisons_are_listed_and_missing_training_details_read_as_dashes(monkeypatch) -> None:
    monkeypatch.delenv("ATLAS_RESULTS", raising=False)  # the shipped study
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    assert not at.exception and not at.error
    checks = read_table(SHIPPED, "sanity_checks")
    failed = checks[~checks.passed]
    tables = [frame.value for frame in at.dataframe]
    models = next(table for table in tables if "train_eps" in table.columns)
    assert not models[["train_norm", "train_eps", "train_attacks"]].isna().any().any()
    assert (models.loc[models.training_mode == "standard", "train_eps"] == "—").all()
    if failed.empty:
        assert not any("failing sanity" in expander.label for expander in at.expander)
    else:
        assert f"The {len(failed)} failing sanity comparisons" in [expander.label for expander in at.expander]
        listed = next(table for table in tables if list(table.columns) == ["check", "model_id", "detail"])
        assert listed["detail"].tolist() == failed["detail"].tolist()
