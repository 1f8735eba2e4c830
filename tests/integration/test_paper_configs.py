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
    analyses = {"clean", "analysis"} if study.analysis.samples else set()  # Park & So's paper has none
    assert {job.kind for job in jobs} == {"train", "attack"} | analyses


def _modes(study: StudyConfig, arch: str) -> set[tuple[str, str, float, int, str]]:
    """(mode, norm, eps in 1/255, PGD steps, source) of each of ``study``'s models of ``arch``."""
    return {(m.training.mode, m.training.norm, round(m.training.eps * 255, 4), m.training.steps, m.training.source)
            for m in study.models if m.arch == arch}


def test_garaev_config_holds_the_papers_models_attacks_and_cinic_evaluation() -> None:
    """§3.1: ResNet50s regular, PGD-trained (20 steps, §5) in L2 0.5 and Linf 8/255 and on the robust
    datasets drawn through those (Tables 1-2); one PGD-Linf InceptionV3 and its robust dataset (Table A1);
    ResNet18s regular and 5-step PGD-trained (Table 3); CINIC-10 test sets for Tables 3 and 6."""
    study = load_study(GARAEV)
    assert study.data.dataset == "cifar10"
    assert _modes(study, "resnet18") == {("standard", "", 0.0, 0, ""), ("pgd", "L2", 127.5, 5, ""),
                                         ("pgd", "Linf", 8.0, 5, "")}
    assert _modes(study, "resnet50") == {("standard", "", 0.0, 0, ""), ("pgd", "L2", 127.5, 20, ""),
                                         ("pgd", "Linf", 8.0, 20, ""),
                                         ("robust_dataset", "", 0.0, 0, "resnet50_pgd_l2"),
                                         ("robust_dataset", "", 0.0, 0, "resnet50_pgd_linf")}
    assert _modes(study, "inception_v3") == {("pgd", "Linf", 8.0, 20, ""),
                                             ("robust_dataset", "", 0.0, 0, "inception_v3_pgd_linf")}
    assert all(m.training.robust_init == "noise" for m in study.models if m.training.mode == "robust_dataset")
    attacks = {(s.name, s.norm, s.dataset) for s in study.attacks}
    assert {(n, norm, "") for n in ("fgsm", "pgd") for norm in ("Linf", "L2", "L1")} <= attacks
    assert {("cw", "L2", ""), ("deepfool", "L2", "")} <= attacks
    assert {(n, norm, d) for n, norm, d in attacks if d} == {("pgd", "Linf", "cinic10"), ("pgd", "L2", "cinic10"),
                                                             ("fgsm", "Linf", "cinic10")}
    rows = {(s.name, s.norm, eps, iterations(s)) for s in study.attacks if not s.dataset for eps in s.eps}
    assert {("fgsm", "L1", 0.5, 1), ("fgsm", "L2", 0.25, 1), ("fgsm", "Linf", 0.25, 1), ("fgsm", "Linf", 0.025, 1),
            ("pgd", "L1", 0.5, 100), ("pgd", "L2", 0.25, 1000), ("pgd", "L2", 0.5, 100), ("pgd", "Linf", 0.025, 5),
            ("pgd", "Linf", 0.25, 5), ("cw", "L2", 0.25, 10)} <= rows  # Tables 1-2: attack, norm, eps, steps
    assert study.findings.roles["robust_l2"] == "resnet50_robust_l2"
    assert study.findings.roles["resnet_pgd_linf"] == "resnet18_pgd_linf"


def test_park_so_config_holds_every_combination_from_m_and_m_prime_and_transfers_from_a_and_a_prime() -> None:
    """§3.1-§4: LeNet5 with (M) and without (M') augmentation and ResNet18 with it, every combination
    of pre-generated examples, transfers from the attacker's A and A' (LeNet5) and A (ResNet18)."""
    study = load_study(PARK_SO)
    assert study.data.dataset == "mnist" and {m.arch for m in study.models} == {"lenet5", "resnet18"}
    for source in ("lenet5_m", "lenet5_m_prime", "resnet18_m"):
        trained = {"+".join(m.training.train_attacks) for m in study.models if m.training.source == source}
        assert trained == COMBINATIONS
    assert study.model("lenet5_m").training.augment and not study.model("lenet5_m_prime").training.augment
    assert all(m.training.augment for m in study.models if m.arch == "resnet18")  # §3.3: no ResNet18 M'
    assert {(m.arch, m.training.epochs, m.training.optimizer, m.training.lr) for m in study.models} == {
        ("lenet5", 50, "adam", 1e-4), ("resnet18", 100, "adam", 1e-4)}
    sources = {s.source for s in study.attacks}
    assert sources == {"", "lenet5_a", "lenet5_a_prime", "resnet18_a"}
    assert study.epoch_sources == {"lenet5_a", "lenet5_a_prime", "resnet18_a"}
    settings = {a.name: a for a in study.pregenerated.attacks}
    assert settings["fgsm"].eps == 0.2 and settings["jsma"].options == {"theta": 1.0, "gamma": 0.2}
    assert settings["cw"].options["confidence"] == 5.0 and study.pregenerated.samples == 0


# --- each kind of job once, on a tiny dataset -------------------------------------------------------


def _tiny_attack(attack: AttackConfig) -> AttackConfig:
    """At most 2 steps (1 binary-search step for C&W); a sweep keeps its largest eps and attacks every model."""
    options = {**attack.options, **({"search_steps": 1.0} if attack.name == "cw" else {})}
    tiny = replace(attack, steps=min(iterations(attack), 2), options=options)
    return replace(tiny, eps=attack.eps[-1:], models=(), samples=0) if isinstance(attack, AttackSweep) else tiny


SMALL = {"resnet50": "resnet18", "inception_v3": "resnet18"}  # 224-px networks: their passes are test_models.py's


def _tiny_model(model: ModelConfig) -> ModelConfig:
    """1 epoch on 20 images, 1 PGD step, 2 robust-dataset steps on 10 images; a 224-px network (Garaev et
    al.'s robust datasets are drawn only through ResNet50s and InceptionV3s) becomes a ResNet18."""
    training = replace(model.training, epochs=1, batch_size=10, steps=min(model.training.steps, 1),
                       robust_steps=2, robust_samples=10, samples=20)
    return replace(model, arch=SMALL.get(model.arch, model.arch), training=training)


def _needed(study: StudyConfig, ids: set[str]) -> set[str]:
    """``ids`` and every model they build on."""
    while True:
        more = ids | {dep for i in ids for dep in study.dependencies(study.model(i))}
        if more == ids:
            return ids
        ids = more


def tiny(study: StudyConfig) -> StudyConfig:
    """``study`` cut down to run in seconds: a sweep per attack, transfer and test set; the first model
    of each training mode (with the models it builds on); 1 epoch, 1-2 steps, 10 images; ResNet18s for
    the 224-px ResNet50s and InceptionV3s (their passes are tested in test_models.py)."""
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
