"""docs/own-model.md as it stands: a model defined in a file of the user's, outside the project, goes from its
weights through a study config, `engine run`, `engine add-model` and `engine compute` to the app's pages and
the playground."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO
from streamlit.testing.v1 import AppTest

from engine.results import read_table
from engine.study.integrity import audit

pytestmark = pytest.mark.real_data
GUIDE = REPO / "docs" / "own-model.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)


def _commands() -> list[list[str]]:
    """The guide's `python ...` command lines, in order (the app is started by the test itself)."""
    lines = [line for block in _blocks("bash") for line in block.splitlines() if line.startswith("python ")]
    return [shlex.split(line) for line in lines if "streamlit" not in line]


@pytest.fixture(scope="module")
def user_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The guide's folder, built by its own files and commands: returns the folder."""
    folder = tmp_path_factory.mktemp("user")
    model_file, weights_script = _blocks("python")
    (config,) = _blocks("toml")
    (folder / "my_models.py").write_text(model_file, encoding="utf-8")
    (folder / "train_weights.py").write_text(weights_script, encoding="utf-8")
    (folder / "byo.toml").write_text(config, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(folder), "OMP_NUM_THREADS": "1"}
    for command in _commands():
        command[0] = sys.executable
        done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{shlex.join(command)}: {done.stderr[-2000:]}"
    return folder


def test_the_users_model_is_imported_attacked_added_and_audited(user_study: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(user_study))  # reading the study's config imports my_models, as PYTHONPATH does
    study = user_study / "studies" / "byo"
    models = read_table(study, "models").set_index("model_id")
    assert models.loc["small_cnn", "arch"] == "my_models:small_cnn"
    assert models.loc["small_cnn", "training_mode"] == "imported"
    assert models.loc["small_cnn", "clean_accuracy"] > 0.7  # the trained weights, not a fresh network
    assert set(models.index) == {"small_cnn", "lenet5", "small_cnn_2"}
    results = read_table(study, "robust_accuracy")
    ours = results[results.model_id == "small_cnn"]
    assert set(ours.sweep) == {"fgsm-Linf-1steps", "pgd-Linf-10steps-rs"}
    added = results[results.model_id == "small_cnn_2"]
    assert added[["sweep", "eps"]].values.tolist() == [["pgd-Linf-10steps-rs", 0.1]]  # the one cell computed
    pgd = ours[(ours.sweep == "pgd-Linf-10steps-rs") & (ours.eps == 0.1)]
    assert added.accuracy.item() == pgd.accuracy.item()  # the same weights, the same attack, the same seed
    assert set(read_table(study, "svcca").query("model_id == 'small_cnn'").layer) >= {"0", "3", "penultimate"}
    assert audit(study) == []


def test_the_app_shows_it_and_the_playground_attacks_it(user_study: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATLAS_STUDY_ROOTS", raising=False)
    monkeypatch.setenv("ATLAS_RESULTS", str(user_study / "studies" / "byo"))
    monkeypatch.syspath_prepend(str(user_study))  # the app imports my_models, as PYTHONPATH does
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/accuracy.py").run()
    assert not at.exception and any("small_cnn" in str(option) for option in at.multiselect[0].options)
    at.switch_page("app_pages/playground.py").run()
    [chosen] = [widget for widget in at.main.multiselect if widget.label == "Models to attack"]
    chosen.set_value(["small_cnn"]).run()
    at.selectbox(key="pg_attack").set_value("fgsm").run()
    [button] = [button for button in at.main.button if button.label == "Attack"]
    button.click().run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    [summary] = at.main.dataframe
    assert summary.value.model.tolist()[0].startswith("small_cnn")
    assert summary.value.verdict.iloc[0] in {"fooled", "not fooled", "already misclassified"}
