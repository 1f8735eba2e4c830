"""The papers' own configs (configs/garaev2024_cifar10.toml, configs/parkso2020_mnist.toml) need data
and GPUs this machine lacks, so they are checked two ways: every job they expand into is validated
(a dry run), and every kind of job runs once on a tiny generated dataset in the real file layout."""

from __future__ import annotations

import math
import os
from dataclasses import replace
from itertools import combinations
from pathlib import Path

import pytest
import torch
import torchvision
from helpers import REPO, write_cifar_batches, write_idx_dataset, write_image_folder

from engine.attacks.registry import iterations, make_attack, sweep_key
from engine.config.schema import AttackConfig, AttackSweep, ModelConfig, StudyConfig
from engine.models.registry import ARCHITECTURES, create_model
from engine.results import read_table
from engine.study.jobs import expand
from engine.study.runner import run_study
from engine.study.validate import load_study

GARAEV = REPO / "configs" / "garaev2024_cifar10.toml"
PARK_SO = REPO / "configs" / "parkso2020_mnist.toml"
COMBINATIONS = {"+".join(c) for k in (1, 2, 3) for c in combinations(("fgsm", "jsma", "cw"), k)}


@pytest.mark.parametrize("path", [GARAEV, PARK_SO], ids=lambda p: p.stem)
def test_every_job_of_a_paper_config_is_valid(path: Path) -> None:
    """Dry run: each job has its prerequisites, a hash, a model its architecture can build, attacks
    that build on that model at every eps, and analysis layers the architecture has."""
    study = load_study(path)
    jobs = expand(study)
    ids = {job.id for job in jobs}
    models = {arch: create_model(arch, study.data.dataset) for arch in {m.arch for m in study.models}}
    for job in jobs:
        assert set(job.prerequisites(study)) <= ids and len(job.hash(study)) == 16, job.id
        if job.kind == "attack":
            for eps in job.sweep.eps:
                make_attack(models[job.model.arch], job.sweep.at(eps))
        assert set(study.analysis.layers) <= set(ARCHITECTURES[job.model.arch].layers)
    assert {job.kind for job in jobs} == {"train", "attack", "clean", "analysis"}


def test_garaev_config_holds_the_papers_models_attacks_and_cinic_evaluation() -> None:
    study = load_study(GARAEV)
    assert study.data.dataset == "cifar10"
    assert {m.arch for m in study.models} == {"resnet18", "resnet50", "inception_v3"}
    for arch in ("resnet18", "resnet50", "inception_v3"):
        modes = {(m.training.mode, m.training.norm, round(m.training.eps * 255, 4)) for m in study.models
                 if m.arch == arch}
        assert modes >= {("standard", "", 0.0), ("pgd", "L2", 127.5), ("pgd", "Linf", 8.0)}
        assert [m.training.source for m in study.models if m.arch == arch and m.training.mode == "robust_dataset"] \
            == [f"{arch}_pgd_l2", f"{arch}_pgd_linf"]
    attacks = {(s.name, s.norm, s.dataset) for s in study.attacks}
    for dataset in ("", "cinic10"):
        assert {(n, norm, dataset) for n in ("fgsm", "pgd") for norm in ("Linf", "L2", "L1")} <= attacks
        assert {("cw", "L2", dataset), ("deepfool", "L2", dataset)} <= attacks


def test_park_so_config_holds_every_combination_from_m_and_m_prime_and_transfers_from_a_and_a_prime() -> None:
    study = load_study(PARK_SO)
    assert study.data.dataset == "mnist" and {m.arch for m in study.models} == {"lenet5", "resnet18"}
    for arch in ("lenet5", "resnet18"):
        for source in (f"{arch}_m", f"{arch}_m_prime"):
            trained = {"+".join(m.training.train_attacks) for m in study.models if m.training.source == source}
            assert trained == COMBINATIONS
        assert study.model(f"{arch}_m").training.augment and not study.model(f"{arch}_m_prime").training.augment
    sources = {s.source for s in study.attacks}
    assert sources == {"", "lenet5_a", "lenet5_a_prime", "resnet18_a", "resnet18_a_prime"}
    settings = {a.name: a for a in study.pregenerated.attacks}
    assert settings["fgsm"].eps == 0.2 and settings["jsma"].options == {"theta": 1.0, "gamma": 0.2}
    assert settings["cw"].options["confidence"] == 5.0 and study.pregenerated.samples == 0


# --- each kind of job once, on a tiny dataset -------------------------------------------------------


def _tiny_attack(attack: AttackConfig) -> AttackConfig:
    """At most 2 steps (1 binary-search step for C&W); a sweep keeps its largest eps and attacks every model."""
    options = {**attack.options, **({"search_steps": 1.0} if attack.name == "cw" else {})}
    tiny = replace(attack, steps=min(iterations(attack), 2), options=options)
    return replace(tiny, eps=attack.eps[-1:], models=(), samples=0) if isinstance(attack, AttackSweep) else tiny


def _tiny_model(model: ModelConfig) -> ModelConfig:
    training = replace(model.training, epochs=1, batch_size=10, steps=min(model.training.steps, 1),
                       robust_steps=2, robust_samples=10, samples=20)
    return replace(model, training=training)


def _needed(study: StudyConfig, ids: set[str]) -> set[str]:
    """``ids`` and every model they build on."""
    while True:
        more = ids | {dep for i in ids for dep in study.dependencies(study.model(i))}
        if more == ids:
            return ids
        ids = more


def tiny(study: StudyConfig) -> StudyConfig:
    """``study`` cut down to run in seconds: a sweep per attack, transfer and test set; the first model
    of each training mode (with the models it builds on); 1 epoch, 1-2 steps, 10 images. (ResNet50's
    and InceptionV3's 224-px passes are tested in test_models.py.)"""
    kinds = {(s.name, bool(s.source), s.dataset): s for s in reversed(study.attacks)}
    sweeps = [_tiny_attack(s) for s in kinds.values()]
    first = {m.training.mode: m.id for m in reversed(study.models)}
    keep = _needed(study, set(first.values()) | {s.source for s in sweeps} - {""})
    return replace(
        study, models=tuple(_tiny_model(m) for m in study.models if m.id in keep), attacks=tuple(sweeps),
        evaluation=replace(study.evaluation, samples=10, batch_size=10),
        epoch_evaluation=replace(study.epoch_evaluation, samples=10,
                                 attacks=tuple(_tiny_attack(s) for s in study.epoch_evaluation.attacks)),
        pregenerated=replace(study.pregenerated, samples=10,
                             attacks=tuple(_tiny_attack(a) for a in study.pregenerated.attacks)),
        analysis=replace(study.analysis, samples=10, pca_samples=10, svcca_points=200, boundary_steps=2,
                         sweeps=tuple(sweep_key(s) for s in sweeps if s.name == "pgd")))


@pytest.fixture()
def tiny_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data root with tiny MNIST (idx), CIFAR-10 (python batches) and CINIC-10 (ImageFolder) copies."""
    write_idx_dataset(tmp_path, "mnist", {"train": 40, "test": 20})
    write_cifar_batches(tmp_path, {"train": 8, "test": 20})
    write_image_folder(tmp_path, "cinic10", {"train": 1, "valid": 1, "test": 2})
    # torchvision checks the real archive's md5 sums; the generated batches have the layout, not the bytes
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda path, md5=None: os.path.exists(path))
    return tmp_path


@pytest.mark.parametrize("path", [GARAEV, PARK_SO], ids=lambda p: p.stem)
def test_each_kind_of_job_of_a_paper_config_runs_on_a_tiny_dataset(path: Path, tiny_root: Path,
                                                                   tmp_path: Path) -> None:
    torch.manual_seed(0)
    study = tiny(load_study(path))
    summary = run_study(study, tmp_path / "out", data_root=str(tiny_root), device="cpu", progress=False)
    assert not summary.skipped and {job.kind for job in expand(study)} == {"train", "attack", "clean", "analysis"}
    models = read_table(tmp_path / "out", "models")
    assert set(models.model_id) == {m.id for m in study.models}
    assert set(models.training_mode) == {m.training.mode for m in load_study(path).models}
    accuracy = read_table(tmp_path / "out", "robust_accuracy")
    assert set(accuracy.sweep) == {sweep_key(s) for s in study.attacks}
    assert accuracy.accuracy.between(0, 1).all() and math.isclose(accuracy.n.max(), 10)
    assert set(read_table(tmp_path / "out", "svcca").model_id) == set(models.model_id)
