"""A study config checked against the registries (architectures, attacks, norms, datasets, layers)
before any work; every error is a ``ConfigError`` naming the field by its dotted path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.attacks.norms import NORM_STEPS
from engine.attacks.registry import sweep_key, validate_attack
from engine.config.schema import StudyConfig, require
from engine.config.toml import parse_study, read_toml
from engine.data.datasets import DATASETS
from engine.models.registry import ARCHITECTURES


def load_study(path: str | Path) -> StudyConfig:
    """Read and validate a study TOML file; ``ConfigError`` naming the field on any bad value."""
    return study_from_dict(read_toml(path))


def study_from_dict(data: dict[str, Any]) -> StudyConfig:
    """Build and validate a study from a parsed TOML document."""
    study = parse_study(data)
    validate_study(study)
    return study


def validate_study(study: StudyConfig) -> None:
    """The registries' checks of a structurally valid ``study``."""
    _validate_dataset(study.data.dataset, "data.dataset")
    for i in range(len(study.models)):
        _validate_model(study, i)
    for i, sweep in enumerate(study.attacks):
        validate_attack(sweep, f"attacks[{i}]")
        if sweep.dataset:
            _validate_test_set(study, sweep.dataset, f"attacks[{i}].dataset")
    _validate_sweep_keys(study)
    for i, sweep in enumerate(study.epoch_evaluation.attacks):
        validate_attack(sweep, f"epoch_evaluation.attacks[{i}]")
    for i, attack in enumerate(study.pregenerated.attacks):
        validate_attack(attack, f"pregenerated.attacks[{i}]")
    _validate_analysis(study)


def _validate_dataset(dataset: str, path: str) -> None:
    require(dataset in DATASETS, path, f"one of {tuple(DATASETS)}, got {dataset!r}")


def _validate_model(study: StudyConfig, index: int) -> None:
    model, path = study.models[index], f"models[{index}]"
    require(model.arch in ARCHITECTURES, f"{path}.arch", f"one of {sorted(ARCHITECTURES)}, got {model.arch!r}")
    training = model.training
    if training.adversarial:
        norms = tuple(NORM_STEPS)
        require(training.norm in norms, f"{path}.training.norm",
                f"{training.mode} training takes one of {norms}, got {training.norm!r}")


def _validate_test_set(study: StudyConfig, dataset: str, path: str) -> None:
    """A sweep's other test set must share the study dataset's classes and image shape."""
    _validate_dataset(dataset, path)
    other, own = DATASETS[dataset], DATASETS[study.data.dataset]
    require(other.classes == own.classes and other.shape == own.shape, path,
            f"{dataset} does not share {study.data.dataset}'s classes and image shape")


def _validate_sweep_keys(study: StudyConfig) -> None:
    """Sweeps of the same name (attack, norm, steps, ...) must attack disjoint sets of models."""
    seen: dict[tuple[str, str], int] = {}
    for i, sweep in enumerate(study.attacks):
        key = sweep_key(sweep)
        for model in study.models:
            if sweep.attacks(model.id):
                first = seen.setdefault((key, model.id), i)
                require(first == i, f"attacks[{i}]", f"attacks {model.id!r} with the same name as "
                        f"attacks[{first}] ({key}): give one of them other models or settings")


def _validate_analysis(study: StudyConfig) -> None:
    settings = study.analysis
    white_box = [sweep_key(sweep) for sweep in study.attacks if not sweep.source]
    unknown = sorted(set(settings.sweeps) - set(white_box))
    require(not unknown, "analysis.sweeps", f"{unknown} are not white-box sweeps of this study {white_box}")
    known = {layer for model in study.models for layer in ARCHITECTURES[model.arch].layers}
    unknown = sorted(set(settings.layers) - known)
    require(not unknown, "analysis.layers", f"{unknown} are layers of none of the study's models {sorted(known)}")
