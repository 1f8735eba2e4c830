"""A study config checked against the registries (architectures, attacks, norms, datasets, layers)
before any work; every error is a ``ConfigError`` naming the field by its dotted path."""

from __future__ import annotations

import functools
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from engine.attacks.norms import NORM_STEPS
from engine.attacks.registry import sweep_key, validate_attack
from engine.config.schema import ConfigError, ModelConfig, StudyConfig, require
from engine.config.toml import parse_study, read_toml
from engine.data.datasets import DATASETS, split_size
from engine.models.checkpoints import CheckpointError, import_weights
from engine.models.external import ExternalModelError, external_layers, is_external
from engine.models.registry import ARCHITECTURES, create_model

log = logging.getLogger(__name__)
MAX_FILE_NAME = 255  # bytes in one file name: the limit of ext4, XFS, btrfs, ZFS and APFS


def load_study(path: str | Path) -> StudyConfig:
    """Read and validate a study TOML file; ``ConfigError`` naming the field on any bad value. A model's
    relative ``checkpoint`` path is taken from the config file's folder (and recorded absolute)."""
    study = study_from_dict(read_toml(path))
    folder = Path(path).resolve().parent
    models = tuple(replace(model, checkpoint=str(folder / model.checkpoint)) if model.checkpoint else model
                   for model in study.models)
    return replace(study, models=models)


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
    _validate_file_names(study)
    _validate_training_sizes(study)
    _warn_cut_samples(study)
    _warn_empty_transfers(study)


def _validate_dataset(dataset: str, path: str) -> None:
    require(dataset in DATASETS, path, f"one of {tuple(DATASETS)}, got {dataset!r}")


def validate_checkpoints(study: StudyConfig) -> None:
    """Every imported model's weights (``checkpoint``) exist, are safetensors and load strictly into its
    architecture; checked when a run starts, not when a finished study is read."""
    for i, model in enumerate(study.models):
        if model.checkpoint:
            try:
                import_weights(model.arch, study.data.dataset, Path(model.checkpoint))
            except (CheckpointError, ExternalModelError) as error:
                raise ConfigError(f"models[{i}].checkpoint: {error}") from None


def _validate_model(study: StudyConfig, index: int) -> None:
    model, path = study.models[index], f"models[{index}]"
    if is_external(model.arch):
        try:
            _external_layer_names(model.arch, study.data.dataset)
        except ExternalModelError as error:
            raise ConfigError(f"{path}.arch: {error}") from None
    else:
        require(model.arch in ARCHITECTURES, f"{path}.arch",
                f"one of {sorted(ARCHITECTURES)} or package.module:factory, got {model.arch!r}")
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
    known = {layer for model in study.models for layer in _layer_names(model.arch, study.data.dataset)}
    unknown = sorted(set(settings.layers) - known)
    require(not unknown, "analysis.layers", f"{unknown} are layers of none of the study's models {sorted(known)}")


@functools.cache
def _external_layer_names(arch: str, dataset: str) -> frozenset[str]:
    """Every ``named_modules()`` name of external architecture ``arch``'s network built for ``dataset``,
    with penultimate and logits; ``ExternalModelError`` when it cannot be imported or wrapped."""
    model = create_model(arch, dataset)
    return frozenset(external_layers(model, tuple(name for name, _ in model.body.named_modules() if name)))


def _layer_names(arch: str, dataset: str) -> frozenset[str]:
    return _external_layer_names(arch, dataset) if is_external(arch) else frozenset(ARCHITECTURES[arch].layers)


def _validate_file_names(study: StudyConfig) -> None:
    """Every file a model's jobs write must have a name the file system accepts: the longest are
    ``<id>.resume.safetensors`` and ``<id>__<sweep>__analysis.parquet``."""
    keys = [(sweep, sweep_key(sweep)) for sweep in study.attacks]
    for i, model in enumerate(study.models):
        names = [f"{model.id}.resume.safetensors"]
        names += [f"{model.id}__{key}" + (".parquet" if sweep.source else "__analysis.parquet")
                  for sweep, key in keys if sweep.attacks(model.id)]
        longest = max(names, key=lambda name: len(name.encode()))
        size = len(longest.encode())
        require(size <= MAX_FILE_NAME, f"models[{i}].id", f"the file name {longest!r} would be {size} bytes, "
                f"more than the {MAX_FILE_NAME} a file system allows; shorten the model id")


def _trained_on(model: ModelConfig, train: int) -> int:
    """Images model ``model`` learns from, of the ``train`` in the study's training set."""
    cfg = model.training
    images = min(cfg.samples or train, train)
    return min(cfg.robust_samples or images, images) if cfg.mode == "robust_dataset" else images


def _train_images(study: StudyConfig) -> int:
    published = split_size(study.data.dataset, "train")
    return min(study.data.train_subset or published, published)


def _validate_training_sizes(study: StudyConfig) -> None:
    """Fast training holds out ``guard_samples`` training images: some must be left to train on."""
    train = _train_images(study)
    for i, model in enumerate(study.models):
        images, guard = _trained_on(model, train), model.training.guard_samples
        require(model.training.mode != "fast" or guard < images, f"models[{i}].training.guard_samples",
                f"holding out {guard} images leaves none of the {images} this model learns from")


def _warn_cut(path: str, asked: int, dataset: str, split: str) -> None:
    available = split_size(dataset, split)
    if asked > available:
        log.warning("%s = %d is more than the %d images of %s's %s split; all %d are used", path, asked,
                    available, dataset, split, available)


def _warn_cut_samples(study: StudyConfig) -> None:
    """Sample counts above a split's size are cut down to it when the data loads: say so now."""
    dataset = study.data.dataset
    _warn_cut("data.train_subset", study.data.train_subset, dataset, "train")
    _warn_cut("pregenerated.samples", study.pregenerated.samples, dataset, "train")
    for i, model in enumerate(study.models):
        _warn_cut(f"models[{i}].training.samples", model.training.samples, dataset, "train")
    for path, asked in (("evaluation.samples", study.evaluation.samples), ("analysis.samples", study.analysis.samples),
                        ("epoch_evaluation.samples", study.epoch_evaluation.samples)):
        _warn_cut(path, asked, dataset, "test")
    for i, sweep in enumerate(study.attacks):
        _warn_cut(f"attacks[{i}].samples", sweep.samples, sweep.dataset or dataset, "test")


def _warn_empty_transfers(study: StudyConfig) -> None:
    """A transfer sweep skips its source model: one that names no other model writes no rows."""
    for i, sweep in enumerate(study.attacks):
        if sweep.source and not any(sweep.attacks(model.id) for model in study.models):
            log.warning("attacks[%d] (%s) attacks no model: its source %r is the only one it names, and a "
                        "transfer attack is judged on the other models; it writes no rows", i, sweep_key(sweep),
                        sweep.source)
