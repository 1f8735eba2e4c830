"""Streamlit-side helpers that need no running app: cache keys, study checks and summaries."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from engine.results import write_part
from engine.results.schema import TABLES
from ui.loaders import load_manifest, load_table
from ui.study import StudyError, describe, libraries, load_study, partial_notice, provenance

MANIFEST = {
    "study": "tiny", "finished": True, "device": "cpu", "libraries": {"torch": "2.4", "torchattacks": None},
    "config": {
        "data": {"dataset": "fashion_mnist", "train_subset": 0},
        "evaluation": {"samples": 500},
        "models": [{"id": "b", "arch": "lenet5", "training": {"mode": "standard"}},
                   {"id": "a", "arch": "lenet5", "training": {"mode": "pgd"}}],
        "attacks": [{"name": "fgsm", "norm": "Linf"}, {"name": "pgd", "norm": "L2", "source": "b"}],
    },
}


def _models(*ids: str) -> pd.DataFrame:
    columns = TABLES["models"].names
    return pd.DataFrame([{column: model_id if column == "model_id" else None for column in columns}
                         for model_id in ids], columns=columns)


@pytest.fixture
def study_dir(tmp_path: Path) -> Path:
    (tmp_path / "manifest.json").write_text(json.dumps(MANIFEST))
    write_part(tmp_path, "models", "a", _models("a"))
    return tmp_path


def test_tables_are_read_again_when_their_files_change(study_dir: Path) -> None:
    assert list(load_table(study_dir, "models")["model_id"]) == ["a"]
    write_part(study_dir, "models", "b", _models("b"))
    assert sorted(load_table(study_dir, "models")["model_id"]) == ["a", "b"]


def test_manifest_is_read_again_when_rewritten(study_dir: Path) -> None:
    assert load_manifest(study_dir)["study"] == "tiny"
    (study_dir / "manifest.json").write_text(json.dumps({**MANIFEST, "study": "renamed!"}))
    assert load_manifest(study_dir)["study"] == "renamed!"


def test_study_lists_models_in_config_order(study_dir: Path) -> None:
    write_part(study_dir, "models", "b", _models("b"))
    study = load_study(study_dir)
    assert list(study.models["model_id"]) == ["b", "a"]
    assert study.empty_tables == ["robust_accuracy", "training_curves"]


def test_partial_notice_says_what_exists(study_dir: Path) -> None:
    (study_dir / "manifest.json").write_text(json.dumps({**MANIFEST, "finished": False}))
    notice = partial_notice(load_study(study_dir))
    assert "still running or was interrupted" in notice and "1 of 2 models trained" in notice
    assert "empty tables: robust_accuracy, training_curves" in notice
    assert f"--out {study_dir}" in notice


def test_finished_study_with_empty_tables_names_them(study_dir: Path) -> None:
    notice = partial_notice(load_study(study_dir))
    assert notice.endswith("is finished but these tables are empty: robust_accuracy, training_curves. "
                           "Showing what exists.")


def test_unreadable_manifest_is_a_study_error(study_dir: Path) -> None:
    (study_dir / "manifest.json").write_text("{not json")
    with pytest.raises(StudyError, match="cannot be read"):
        load_study(study_dir)


def test_describe_names_data_models_and_attacks() -> None:
    text = describe(MANIFEST)
    assert text.startswith("2 lenet5 models trained on fashion_mnist (all training images")
    assert "FGSM (Linf), PGD (L2, transfer from b)" in text
    assert "on 500 test images" in text


def test_provenance_marks_unknown_fields() -> None:
    fields = dict(provenance({"finished": False}).itertuples(index=False))
    assert fields["status"].startswith("not finished")
    assert fields["git commit"] == "unknown"
    versions = dict(libraries(MANIFEST).itertuples(index=False))
    assert versions == {"torch": "2.4", "torchattacks": "not installed"}
