"""Computing into a finished study refuses bad requests before any work and leaves the study as it was: a
locked study, a cell the study has, a model id that is taken, weights that are a pickle or missing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from helpers import REPO
from streamlit.testing.v1 import AppTest

from engine.config.schema import ConfigError, ModelConfig
from engine.models.registry import create_model
from engine.results.lock import StudyLockedError, study_lock
from engine.study.cells import Cell
from engine.study.on_demand import add_model, compute_cell

pytestmark = pytest.mark.real_data


@pytest.fixture
def study(smoke_study: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "smoke"
    shutil.copytree(smoke_study, copy)
    return copy


def _snapshot(study: Path) -> dict[str, bytes]:
    return {str(path.relative_to(study)): path.read_bytes() for path in sorted(study.rglob("*"))
            if path.is_file() and path.name != ".lock"}


def test_a_study_a_runner_holds_is_not_written(study: Path) -> None:
    before = _snapshot(study)
    with study_lock(study):
        with pytest.raises(StudyLockedError, match="being written by another runner"):
            compute_cell(study, Cell("lenet5_standard", "fgsm-Linf-1steps", 0.075), "test")
        weights = study / "checkpoints" / "lenet5_standard.safetensors"
        with pytest.raises(StudyLockedError):
            add_model(study, ModelConfig("copy", "lenet5", checkpoint=str(weights)), "test")
    assert _snapshot(study) == before


@pytest.mark.parametrize(("cell", "message"), [
    (Cell("nobody", "fgsm-Linf-1steps", 0.1), "'nobody' is not a model of this study"),
    (Cell("lenet5_standard", "fgsm-L2-1steps", 0.1), "is not an attack sweep of this study"),
    (Cell("lenet5_standard", "fgsm-Linf-1steps", 0.1), "the study's own run computes"),
    (Cell("lenet5_standard", "fgsm-Linf-1steps", -0.1), "eps must be a finite number >= 0"),
    (Cell("lenet5_standard", "pgd-Linf-5steps-rs-from-lenet5_standard", 0.2), "is the source of the transfer"),
])
def test_a_cell_that_cannot_be_computed_is_refused_before_any_work(study: Path, cell: Cell, message: str) -> None:
    before = _snapshot(study)
    with pytest.raises(ConfigError, match=message):
        compute_cell(study, cell, "test")
    assert _snapshot(study) == before


def test_an_added_model_needs_a_free_id_and_safe_weights(study: Path, tmp_path: Path) -> None:
    before = _snapshot(study)
    weights = study / "checkpoints" / "lenet5_standard.safetensors"
    with pytest.raises(ConfigError, match="'lenet5_standard' is a model of this study already"):
        add_model(study, ModelConfig("lenet5_standard", "lenet5", checkpoint=str(weights)), "test")
    pickled = tmp_path / "weights.pt"
    torch.save(create_model("lenet5", "fashion_mnist").state_dict(), pickled)
    with pytest.raises(ConfigError, match=r"never unpickled; .*safetensors\.torch\.save_file"):
        add_model(study, ModelConfig("pickled", "lenet5", checkpoint=str(pickled)), "test")
    with pytest.raises(ConfigError, match="not a complete safetensors file"):
        add_model(study, ModelConfig("absent", "lenet5", checkpoint=str(tmp_path / "absent.safetensors")), "test")
    with pytest.raises(ConfigError, match="resnet_small"):
        add_model(study, ModelConfig("misfit", "resnet_small", checkpoint=str(weights)), "test")
    assert _snapshot(study) == before
    add_model(study, ModelConfig("copy", "lenet5", checkpoint=str(weights)), "test")
    assert [record["id"] for record in json.loads((study / "manifest.json").read_text())["added"]] == ["copy"]


def test_the_page_says_the_study_is_read_only_while_a_runner_writes_it(study: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATLAS_STUDY_ROOTS", raising=False)
    monkeypatch.setenv("ATLAS_RESULTS", str(study))
    with study_lock(study):
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
        at.switch_page("app_pages/accuracy.py").run()
    assert not at.exception
    assert any("A runner is writing this study now" in box.value for box in at.info)
    assert not [button for button in at.button if button.key == "compute_go"]
