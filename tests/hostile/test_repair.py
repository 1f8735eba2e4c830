"""A rerun repairs a damaged study by itself: every file a job owns (each table's part, the checkpoint
and its sidecar) is checked, and a job with a missing, truncated or foreign file is redone, giving the
same results as before; unreadable caches and resume files are rebuilt with a warning. ``engine check``
names each damaged file first."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
import torch
from helpers import SMOKE, assert_same_results
from safetensors.torch import load_file, save_file

from engine.cli import main
from engine.config.schema import ModelConfig, TrainingConfig
from engine.data.split import Split
from engine.study.integrity import FOREIGN, MISSING, audit
from engine.study.runner import run_study
from engine.study.validate import load_study
from engine.training.loop import train_model

STANDARD = "lenet5_standard"
TRANSFER = "lenet5_pgd_linf__pgd-Linf-5steps-rs-from-lenet5_standard"


@pytest.fixture()
def copy(smoke_study: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(smoke_study, tmp_path / "study"))


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_every_damaged_file_is_named_then_its_job_redone_to_the_same_results(
        smoke_study: Path, copy: Path, capsys: pytest.CaptureFixture) -> None:
    truncate(copy / "per_sample" / f"{STANDARD}__clean.parquet")  # not the last part its job writes
    (copy / "training_curves" / f"{STANDARD}.parquet").unlink()  # 'lost its rows for good' before
    truncate(copy / "checkpoints" / f"{STANDARD}.safetensors")
    (copy / "svcca" / f"{STANDARD}__fgsm-Linf-1steps__analysis.parquet").write_bytes(b"not parquet")

    damage = {(d.path.relative_to(copy).as_posix(), d.problem.split(":")[0]) for d in audit(copy)}
    assert damage == {(f"per_sample/{STANDARD}__clean.parquet", "unreadable"),
                      (f"training_curves/{STANDARD}.parquet", MISSING),
                      (f"checkpoints/{STANDARD}.safetensors", "unreadable"),
                      (f"svcca/{STANDARD}__fgsm-Linf-1steps__analysis.parquet", "unreadable")}
    assert main(["check", str(copy)]) == 1
    printed = capsys.readouterr().out
    assert f"training_curves/{STANDARD}.parquet: missing" in printed
    assert "4 damaged or missing files in 3 jobs" in printed

    ran = run_study(load_study(SMOKE), copy, progress=False).ran
    assert sorted(ran) == sorted([STANDARD, f"{STANDARD}__clean", f"{STANDARD}__fgsm-Linf-1steps__analysis"])
    assert audit(copy) == []
    assert_same_results(smoke_study, copy)
    before, after = (load_file(str(d / "checkpoints" / f"{STANDARD}.safetensors")) for d in (smoke_study, copy))
    assert all(torch.equal(before[key], after[key]) for key in before)


def test_a_deleted_sidecar_or_one_of_another_run_makes_the_training_redone(copy: Path) -> None:
    (copy / "checkpoints" / f"{STANDARD}.json").unlink()
    sidecar = copy / "checkpoints" / "lenet5_pgd_linf.json"
    sidecar.write_text(sidecar.read_text().replace('"job_hash": "', '"job_hash": "0'))
    problems = {d.path.name: d.problem for d in audit(copy)}
    assert problems == {f"{STANDARD}.json": MISSING, "lenet5_pgd_linf.json": FOREIGN}
    assert sorted(run_study(load_study(SMOKE), copy, progress=False).ran) == sorted([STANDARD, "lenet5_pgd_linf"])


def test_an_unreadable_transfer_cache_is_crafted_again(smoke_study: Path, copy: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    for cache in (copy / "cache").glob("transfer-*.safetensors"):
        cache.write_bytes(b"\x80\x04garbage")
    (copy / "robust_accuracy" / f"{TRANSFER}.parquet").unlink()
    with caplog.at_level(logging.WARNING):
        assert run_study(load_study(SMOKE), copy, progress=False).ran == [TRANSFER]
    assert "rebuilding" in caplog.text and "cannot be read" in caplog.text
    assert_same_results(smoke_study, copy)


def test_a_finished_study_audits_clean_and_a_not_yet_run_job_is_not_damage(copy: Path) -> None:
    assert audit(copy) == []
    (copy / "robust_accuracy" / f"{TRANSFER}.parquet").unlink()
    manifest = copy / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"finished": true', '"finished": false'))
    assert audit(copy) == []  # an unfinished run has jobs still to do: only started jobs can be damaged


def tiny_split(n: int = 64) -> Split:
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=generator)
    return Split(images, torch.arange(n) % 10, tuple(str(i) for i in range(10)))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign safetensors"])
def test_an_unreadable_resume_file_is_ignored_with_a_warning(tmp_path: Path, damage: str,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    spec = ModelConfig("m", "lenet5", TrainingConfig(epochs=2, batch_size=32))
    split = tiny_split()
    fresh = train_model(spec, "fashion_mnist", split, split, torch.device("cpu"), progress=False)
    resume = tmp_path / "m.resume.safetensors"
    if damage == "garbage":
        resume.write_bytes(b"\x00" * 100)
    else:
        train_model(spec, "fashion_mnist", split, split, torch.device("cpu"), False, resume, "tag")  # epoch 2
        if damage == "truncated":
            truncate(resume)
        else:
            save_file({"weights": torch.zeros(3)}, str(resume), metadata={"state": '{"tag": "tag"}'})
    with caplog.at_level(logging.WARNING):
        resumed = train_model(spec, "fashion_mnist", split, split, torch.device("cpu"), False, resume, "tag")
    assert "cannot be read" in caplog.text and resumed.epochs == 2
    assert all(torch.equal(a, b) for a, b in zip(fresh.model.state_dict().values(),
                                                 resumed.model.state_dict().values(), strict=True))
