"""The smoke study end to end on real Fashion-MNIST, the resumable rerun and the CLI."""

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch
from helpers import REPO, SMOKE

from engine.attacks.registry import sweep_key
from engine.cli import main
from engine.data.loaders import load_split
from engine.data.split import read_split
from engine.results import read_table, write_part
from engine.results.io import JOB_KEY
from engine.study.jobs import TrainJob, analysed_sweeps, expand
from engine.study.runner import run_study
from engine.study.validate import load_study


def test_smoke_study_writes_every_table(smoke_study: Path) -> None:
    study = load_study(SMOKE)
    models = read_table(smoke_study, "models")
    accuracy = read_table(smoke_study, "robust_accuracy")
    curves = read_table(smoke_study, "training_curves")
    assert sorted(models.model_id) == sorted(m.id for m in study.models)
    accuracy_of = models.set_index("model_id").clean_accuracy
    assert accuracy_of[["lenet5_standard", "lenet5_pgd_linf"]].between(0.5, 1).all()
    assert accuracy_of["lenet5_robust_dataset"] > 0.3  # chance is 0.1
    expected = sum(len(job.sweep.eps) for job in expand(study) if job.kind == "attack")
    images = {sweep_key(sweep): sweep.samples or study.evaluation.samples for sweep in study.attacks}
    assert len(accuracy) == expected and (accuracy.n == accuracy.sweep.map(images)).all()
    per_epoch = {"train", "clean", "fgsm-Linf-0.1", "pgd-Linf-0.1-from-lenet5_standard"}
    for model_id, rows in curves.groupby("model_id"):
        epochs = study.model(model_id).training.epochs
        expected_sets = per_epoch - {"pgd-Linf-0.1-from-lenet5_standard"} if model_id == "lenet5_standard" \
            else per_epoch
        assert set(rows.test_set) == expected_sets and len(rows) == epochs * len(expected_sets)
    for key, rows in accuracy.groupby(["model_id", "sweep"]):
        ordered = rows.sort_values("eps")
        assert ordered.accuracy.is_monotonic_decreasing, key
        assert (ordered.max_perturbation <= ordered.eps + 1e-5).all()
    for path in models.checkpoint:
        assert (smoke_study / path).exists()


def test_smoke_study_writes_every_analysis_table(smoke_study: Path) -> None:
    study = load_study(SMOKE)
    n, models = study.analysis.samples, len(study.models)
    assert len(analysed_sweeps(study)) == 3
    analysed = [job.sweep for job in expand(study) if job.kind == "analysis"]
    positive_eps = [sum(eps > 0 for eps in sweep.eps) for sweep in analysed]
    images = [min(n, sweep.samples or n) for sweep in analysed]  # a sweep on fewer images is analysed on those
    per_sample = read_table(smoke_study, "per_sample")
    assert len(per_sample) == models * n + sum(i * e for i, e in zip(images, positive_eps, strict=True))
    pca = models * study.analysis.pca_samples + sum(min(i, study.analysis.pca_samples) * e
                                                     for i, e in zip(images, positive_eps, strict=True))
    assert len(read_table(smoke_study, "pca")) == pca
    for table in ("norm_ratios", "a_distance"):
        assert len(read_table(smoke_study, table)) == sum(positive_eps)
    svcca = read_table(smoke_study, "svcca")
    assert set(svcca.layer) == {"conv1", "conv2", "fc1", "penultimate", "logits"}
    assert svcca["mean"].between(0, 1).all() and len(read_table(smoke_study, "boundary")) == models * n
    checks = read_table(smoke_study, "sanity_checks")
    assert len(set(checks.check)) == 8 and checks.passed.all(), checks[~checks.passed].detail.tolist()


def test_attack_rows_carry_their_cost(smoke_study: Path) -> None:
    accuracy = read_table(smoke_study, "robust_accuracy")
    assert (accuracy.seconds > 0).all()
    assert np.allclose(accuracy.images_per_second, accuracy.n / accuracy.seconds)


def test_check_command_reports_and_fails_strictly_on_a_bad_result(smoke_study: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    assert main(["check", str(smoke_study), "--strict"]) == 0
    assert "ok    monotone_in_eps" in capsys.readouterr().out
    doctored = tmp_path / "doctored"
    shutil.copytree(smoke_study, doctored)
    part = next((doctored / "robust_accuracy").glob("lenet5_standard__pgd-L2-*.parquet"))
    rows = pd.read_parquet(part)
    rows.loc[rows.eps == rows.eps.max(), "accuracy"] = 0.99
    job_hash = pq.read_schema(part).metadata[JOB_KEY].decode()  # a wrong result the job itself wrote, not damage
    write_part(doctored, "robust_accuracy", part.stem, rows, job_hash)
    assert main(["check", str(doctored)]) == 0
    assert main(["check", str(doctored), "--strict"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  monotone_in_eps" in out and "lenet5_standard: pgd-L2-5steps-rs: accuracy rises" in out
    assert main(["check", str(tmp_path)]) == 4


def test_transfer_attacks_are_crafted_on_the_source_and_judged_on_the_target(smoke_study: Path) -> None:
    accuracy = read_table(smoke_study, "robust_accuracy")
    transfer = accuracy[accuracy.source_model_id.notna()]
    assert set(transfer.source_model_id) == {"lenet5_standard"}
    assert set(transfer.model_id) == {m.id for m in load_study(SMOKE).models} - {"lenet5_standard"}
    white_box = accuracy[(accuracy.model_id == "lenet5_pgd_linf") & accuracy.source_model_id.isna()]
    clean = white_box[white_box.eps == 0].accuracy.iloc[0]
    assert transfer[transfer.eps == 0].accuracy.iloc[0] == clean
    assert transfer[transfer.eps == 0.1].accuracy.iloc[0] < clean


def test_transfer_sets_are_crafted_once_for_every_model_judged_on_them(smoke_study: Path) -> None:
    accuracy = read_table(smoke_study, "robust_accuracy")
    transfer = accuracy[accuracy.source_model_id.notna()]
    per_epoch = [eps for sweep in load_study(SMOKE).epoch_evaluation.attacks if sweep.source for eps in sweep.eps]
    cached = list((smoke_study / "cache").glob("transfer-lenet5_standard-pgd-*"))
    assert len(cached) == transfer.eps.nunique() + len(per_epoch)  # per-epoch sets are on fewer images
    assert (transfer.groupby("eps").seconds.nunique() == 1).all()  # one crafting time, reported for each model


def test_a_sweep_attacks_the_models_and_images_it_names(smoke_study: Path) -> None:
    accuracy = read_table(smoke_study, "robust_accuracy")
    l2 = accuracy[accuracy.sweep == "pgd-L2-5steps-rs"]
    assert set(l2.model_id) == {"lenet5_standard", "lenet5_pgd_linf"} and set(l2.n) == {100}
    assert set(accuracy[accuracy.sweep != "pgd-L2-5steps-rs"].n) == {200}
    analysed = read_table(smoke_study, "norm_ratios")
    assert set(analysed[analysed.attack == "pgd"].query("norm == 'L2'").model_id) == set(l2.model_id)


def test_a_model_learns_from_its_own_share_of_the_training_set(smoke_study: Path) -> None:
    models = read_table(smoke_study, "models").set_index("model_id")
    assert models.loc["lenet5_pgd_linf", "train_samples"] == 1500
    assert models.loc["lenet5_standard", "train_samples"] == 2000


def test_robust_dataset_model_trains_on_a_redrawn_set(smoke_study: Path) -> None:
    models = read_table(smoke_study, "models").set_index("model_id")
    assert models.loc["lenet5_robust_dataset", "train_samples"] == 1000
    preview = read_split(smoke_study / "robust_sets" / "lenet5_robust_dataset.safetensors", ())
    assert preview.images.shape == (100, 1, 28, 28) and preview.images.dtype == torch.uint8


def test_pregenerated_sets_are_crafted_once_per_source_and_attack(smoke_study: Path) -> None:
    models = read_table(smoke_study, "models").set_index("model_id")
    assert models.loc["lenet5_pregenerated", "train_attacks"] == "fgsm+cw"
    assert models.loc["lenet5_pregenerated", "train_samples"] == 2000 + 2 * 300
    cached = sorted(p.name.split("-")[2] for p in (smoke_study / "cache").glob("pregenerated-*"))
    assert cached == ["cw", "fgsm"]
    fgsm = read_split(next((smoke_study / "cache").glob("pregenerated-*-fgsm-*")), ())
    clean = load_split("fashion_mnist", "train").head(300)
    change = (fgsm.images.float() - clean.images.float()).abs().amax(dim=(1, 2, 3)) / 255
    assert torch.equal(fgsm.labels, clean.labels) and (change <= 0.2 + 1 / 255).all() and change.mean() > 0.15


def test_dependencies_train_first_and_change_the_hash_of_what_builds_on_them() -> None:
    study = load_study(SMOKE)
    order = [job.model.id for job in expand(study) if job.kind == "train"]
    assert order.index("lenet5_pgd_linf") < order.index("lenet5_robust_dataset")
    assert order[0] == "lenet5_standard"  # the source of the per-epoch transfer test set
    robust = study.model("lenet5_robust_dataset")
    source = study.model("lenet5_pgd_linf")
    retrained = dataclasses.replace(source, training=dataclasses.replace(source.training, epochs=3))
    changed = dataclasses.replace(study, models=tuple(retrained if m is source else m for m in study.models))
    assert TrainJob(robust).hash(changed) != TrainJob(robust).hash(study)
    standard = TrainJob(study.model("lenet5_standard"))
    assert standard.hash(changed) == standard.hash(study)


def test_job_hash_ignores_settings_left_at_their_default() -> None:
    study = load_study(SMOKE)
    job = expand(study)[0]
    explicit = dataclasses.replace(job.model, training=dataclasses.replace(job.model.training, momentum=0.9))
    assert TrainJob(explicit).hash(study) == job.hash(study)
    changed = dataclasses.replace(job.model, training=dataclasses.replace(job.model.training, momentum=0.5))
    assert TrainJob(changed).hash(study) != job.hash(study)


def test_manifest_records_provenance(smoke_study: Path) -> None:
    manifest = json.loads((smoke_study / "manifest.json").read_text())
    assert manifest["study"] == "smoke" and manifest["finished"] is True
    assert manifest["config"]["data"]["train_subset"] == 2000
    assert manifest["libraries"]["torch"] and manifest["device"] == "cpu"
    assert len(manifest["jobs"]) == len(expand(load_study(SMOKE)))


def test_rerun_skips_finished_jobs_and_redoes_changed_ones(smoke_study: Path, tmp_path: Path) -> None:
    study = load_study(SMOKE)
    before = read_table(smoke_study, "robust_accuracy")
    summary = run_study(study, smoke_study, progress=False)
    assert summary.ran == [] and len(summary.skipped) == len(expand(study))
    longer = dataclasses.replace(study.attacks[1], eps=(0.0, 0.5, 1.0, 2.0))
    changed = dataclasses.replace(study, attacks=(study.attacks[0], longer, *study.attacks[2:]))
    summary = run_study(changed, smoke_study, progress=False)
    attacked = [m.id for m in study.models if longer.attacks(m.id)]
    redone = [f"{model}__{sweep_key(longer)}{suffix}" for model in attacked for suffix in ("", "__analysis")]
    assert sorted(summary.ran) == sorted(redone)  # the sweep's attacks and its analyses, nothing else
    after = read_table(smoke_study, "robust_accuracy")
    assert len(after) == len(before) + len(attacked)
    run_study(study, smoke_study, progress=False)  # leave the shared fixture as it was


def test_cli_help_documents_every_command() -> None:
    out = subprocess.run([sys.executable, "-m", "engine", "--help"], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0 and "run" in out.stdout
    out = subprocess.run([sys.executable, "-m", "engine", "run", "--help"], capture_output=True, text=True,
                         cwd=REPO)
    assert "--out" in out.stdout and "--data-root" in out.stdout and "--dry-run" in out.stdout


def test_cli_stops_on_a_bad_config_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(SMOKE.read_text().replace('norm = "L2"', 'norm = "L3"'))
    assert main(["run", str(config), "--out", str(tmp_path / "out")]) == 2
    assert "attacks[1].norm" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_cli_dry_run_lists_jobs(smoke_study: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["run", str(SMOKE), "--out", str(smoke_study), "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(expand(load_study(SMOKE))) and all(line.startswith("done") for line in lines)


def test_summary_tables_come_from_the_files(smoke_study: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["summary", str(smoke_study)]) == 0
    text = capsys.readouterr().out
    models = read_table(smoke_study, "models")
    for row in models.itertuples():
        assert f"| {row.model_id} | {row.training_mode} |" in text and f"{row.clean_accuracy:.4f}" in text
    assert "**pgd Linf (5 steps, transferred from lenet5_standard, 200 test images)**" in text
    assert text.count("| model | eps ") == len(load_study(SMOKE).attacks)


def test_summary_of_a_directory_without_a_study(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["summary", str(tmp_path)]) == 4
    assert "not a study directory" in capsys.readouterr().err
