"""A quick pick replaces the model selection in one choice, and the choice is an action, not a state."""

from __future__ import annotations

from helpers import REPO
from streamlit.testing.v1 import AppTest

from engine.results import read_table

SHIPPED = REPO / "precomputed" / "fashion_mnist"


def test_quick_picks_select_all_models_or_one_training_mode(monkeypatch) -> None:
    monkeypatch.delenv("ATLAS_RESULTS", raising=False)  # the shipped study
    models = read_table(SHIPPED, "models")
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/accuracy.py").run()
    pick = next(box for box in at.main.selectbox if box.label == "Quick pick")
    assert len(at.multiselect[0].value) == models.training_mode.nunique()  # one per training mode at first
    pick.set_value("all").run()
    assert not at.exception and len(at.multiselect[0].value) == len(models)
    assert next(box for box in at.main.selectbox if box.label == "Quick pick").value is None
    pgd = models[models.training_mode == "pgd"].model_id.tolist()
    next(box for box in at.main.selectbox if box.label == "Quick pick").set_value(f"pgd: {len(pgd)}").run()
    chosen = at.multiselect[0].value
    assert sorted(chosen) == sorted(pgd) and at.query_params["models"] == ",".join(chosen)
