"""The runner writes only inside the study directory's own folders and never through a link: what a
user keeps beside the results survives, and paths it must not write are refused before any work."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import SMOKE

from engine.cli import main
from engine.results.lock import StudyPathError
from engine.study.runner import run_study
from engine.study.validate import load_study


@pytest.fixture()
def finished(smoke_study: Path, tmp_path: Path) -> Path:
    """A copy of the finished smoke study: a rerun there runs no job."""
    return Path(shutil.copytree(smoke_study, tmp_path / "study"))


def test_a_users_temp_named_files_outside_the_tables_survive_a_run(finished: Path) -> None:
    draft = finished / "docs" / ".tmp-draft.txt"
    draft.parent.mkdir()
    draft.write_text("my notes")
    own = finished / "robust_accuracy" / ".tmp-x1.parquet"
    own.write_bytes(b"half a part")
    assert run_study(load_study(SMOKE), finished, progress=False).ran == []
    assert draft.read_text() == "my notes" and not own.exists()


def test_a_directory_named_like_a_temp_file_is_left_alone(finished: Path) -> None:
    folder = finished / "robust_accuracy" / ".tmp-x"
    folder.mkdir()
    assert run_study(load_study(SMOKE), finished, progress=False).ran == []
    assert folder.is_dir()


def test_an_empty_out_is_refused_and_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(SMOKE), "--out", "", "-q"]) == 4
    assert "--out DIR" in capsys.readouterr().err and list(tmp_path.iterdir()) == []


def test_an_out_that_is_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    file = tmp_path / "results.txt"
    file.write_text("keep")
    assert main(["run", str(SMOKE), "--out", str(file), "-q"]) == 4
    assert "not a directory" in capsys.readouterr().err and file.read_text() == "keep"


@pytest.mark.parametrize("name", [".lock", "robust_accuracy", "checkpoints"])
def test_a_link_where_the_runner_writes_is_refused_and_its_target_untouched(finished: Path, tmp_path: Path,
                                                                            name: str) -> None:
    target = tmp_path / "elsewhere"
    if name == ".lock":
        target.write_text("precious")
        (finished / name).unlink()
    else:
        shutil.move(finished / name, target)
    (finished / name).symlink_to(target)
    before = sorted(p.name for p in target.iterdir()) if target.is_dir() else target.read_text()
    with pytest.raises(StudyPathError, match="symbolic link"):
        run_study(load_study(SMOKE), finished, progress=False)
    after = sorted(p.name for p in target.iterdir()) if target.is_dir() else target.read_text()
    assert after == before
