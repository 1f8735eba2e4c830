"""Artefacts that jobs share, built once and cached under ``<study>/cache`` by a content hash of what
they depend on: transfer sets crafted on a source model, robust datasets re-drawn through one, and
Park & So's pre-generated adversarial training sets.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from engine.attacks.registry import attack_settings
from engine.config.schema import AttackConfig, ModelConfig
from engine.core.fs import atomic_write
from engine.core.hashing import content_hash
from engine.data.split import Split, read_split, save_split, to_uint8
from engine.evaluation.sweep import craft_run, craft_sets
from engine.study.context import Context
from engine.study.jobs import TrainJob
from engine.training.robust_dataset import RobustRecipe, robust_split

log = logging.getLogger(__name__)
T = TypeVar("T")
ROBUST_PREVIEW = 100  # robust-set images kept in the study directory for the app


def _cache_path(ctx: Context, name: str, source: str, inputs: dict[str, Any]) -> Path:
    """``<study>/cache/<name>-<key>.safetensors``, keyed by the trained source and ``inputs``."""
    key = content_hash({"source": TrainJob(ctx.study.model(source)).hash(ctx.study), **inputs})
    return ctx.out / "cache" / f"{name}-{key}.safetensors"


def _cached(path: Path, read: Callable[[Path], T], build: Callable[[], T], save: Callable[[Path, T], None]) -> T:
    """The artefact cached at ``path`` (whose name carries a content hash of its inputs); built and
    saved first when absent, and built again, with a warning, when the file cannot be read."""
    if path.exists():
        try:
            return read(path)
        except (SafetensorError, OSError, ValueError, KeyError) as error:
            log.warning("rebuilding %s, which cannot be read (%s)", path, error)
    value = build()
    save(path, value)
    return value


def _read_transfer(path: Path) -> tuple[torch.Tensor, float]:
    with safe_open(str(path), "pt") as stored:
        return stored.get_tensor("x_adv"), float(stored.metadata()["seconds"])


def _save_transfer(path: Path, crafted: tuple[torch.Tensor, float]) -> None:
    x_adv, seconds = crafted
    atomic_write(path, lambda temp: save_file({"x_adv": x_adv.contiguous()}, temp, {"seconds": repr(seconds)}))


def transfer_set(ctx: Context, source: str, run: AttackConfig, test: Split, seed: int,
                 dataset: str = "") -> tuple[torch.Tensor, float]:
    """One run (``attack_runs``) crafted from ``test`` on model ``source``: (x_adv [N, C, H, W] on the CPU,
    not yet cut back; seconds), crafted once and cached for every model judged on it."""
    inputs = {"attack": attack_settings(run), "images": len(test), "dataset": dataset, "seed": seed}
    path = _cache_path(ctx, f"transfer-{source}-{run.name}", source, inputs)

    def craft() -> tuple[torch.Tensor, float]:
        return craft_run(ctx.frozen(source), test, run, ctx.study.evaluation.batch_size, ctx.device, seed)

    return _cached(path, _read_transfer, craft, _save_transfer)


def _cached_split(path: Path, classes: tuple[str, ...], build: Callable[[], Split]) -> Split:
    """The split saved at ``path`` (``_cached``)."""
    return _cached(path, partial(read_split, classes=classes), build, save_split)


def robust_preview_path(out: Path, model_id: str, original: bool = False) -> Path:
    """Where the first ``ROBUST_PREVIEW`` images of a robust_dataset model's training set are kept (or,
    with ``original``, the training images they were re-drawn for)."""
    return out / "robust_sets" / f"{model_id}{'.original' if original else ''}.safetensors"


def robust_recipe(spec: ModelConfig, ctx: Context) -> RobustRecipe:
    """How ``spec``'s robust dataset is drawn (a robust_dataset model)."""
    cfg = spec.training
    return RobustRecipe(cfg.robust_steps, cfg.robust_alpha, cfg.robust_schedule, cfg.robust_init, cfg.seed,
                        ctx.study.evaluation.batch_size)


def robust_originals(spec: ModelConfig, ctx: Context) -> Split:
    """The training images a robust_dataset model's set re-draws."""
    return ctx.split("train").head(spec.training.samples).head(spec.training.robust_samples)


def training_split(spec: ModelConfig, ctx: Context) -> Split:
    """The training set: the dataset's, or for robust_dataset the one re-drawn through the source model."""
    cfg = spec.training
    if cfg.mode != "robust_dataset":
        return ctx.split("train").head(cfg.samples)
    originals, recipe = robust_originals(spec, ctx), robust_recipe(spec, ctx)
    inputs = {"seed": cfg.seed, "steps": cfg.robust_steps, "alpha": cfg.robust_alpha, "init": cfg.robust_init,
              "samples": cfg.robust_samples, "schedule": cfg.robust_schedule}

    def build() -> Split:
        return robust_split(ctx.frozen(cfg.source), originals, recipe, ctx.device)

    robust = _cached_split(_cache_path(ctx, f"robust-{cfg.source}", cfg.source, inputs), originals.classes, build)
    save_split(robust_preview_path(ctx.out, spec.id), robust.head(ROBUST_PREVIEW))
    save_split(robust_preview_path(ctx.out, spec.id, original=True), originals.head(ROBUST_PREVIEW))
    return robust


def pregenerated_sets(spec: ModelConfig, ctx: Context) -> list[Split]:
    """Park & So's adversarial training sets, crafted once on the source model and cached for every
    model that uses them; images are stored as uint8 like the data they come from."""
    settings, cfg = ctx.study.pregenerated, spec.training
    if cfg.mode != "pregenerated":
        return []
    train = ctx.split("train").head(settings.samples)

    def build(attack: AttackConfig) -> Split:
        crafted = craft_sets(ctx.frozen(cfg.source), train, [attack], ctx.study.evaluation.batch_size, ctx.device,
                             cfg.seed)
        return Split(to_uint8(next(crafted)[1]), train.labels, train.classes)

    sets = []
    for name in cfg.train_attacks:
        attack = settings.attack(name)
        inputs = {"attack": attack_settings(attack), "samples": settings.samples}
        path = _cache_path(ctx, f"pregenerated-{cfg.source}-{name}", cfg.source, inputs)
        sets.append(_cached_split(path, train.classes, partial(build, attack)))
    return sets
