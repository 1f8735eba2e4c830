"""The bench's options, the model under test and the run of every selected setting on one batch."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.bench import peers
from engine.bench.entries import BENCH, expand
from engine.bench.memory import PROC_CLEAR_REFS, memory_rows
from engine.bench.report import BenchReport, sixty_thousand
from engine.bench.rows import bench_setting
from engine.config.schema import ConfigError, ModelConfig, TrainingConfig
from engine.core.device import pick_device
from engine.data.loaders import cache_root, load_split
from engine.evaluation.predict import predict
from engine.models.checkpoints import load_checkpoint, save_checkpoint
from engine.training.costs import EpochCost, epoch_costs
from engine.training.loop import train_model

log = logging.getLogger(__name__)

BENCH_MODEL = ModelConfig("bench_lenet5", "lenet5", TrainingConfig(epochs=5, lr=1e-3, seed=0))


@dataclass(frozen=True)
class BenchOptions:
    out: str | Path  # directory for bench.json and bench.md
    images: int = 1000  # test images attacked, as one batch
    repeats: int = 3  # timed runs per setting after a warm-up; the median counts
    attacks: tuple[str, ...] = ()  # attack names of BENCH to run; () = all
    model: str | None = None  # checkpoint (.safetensors); None = the cached standard LeNet5
    data_root: str | None = None
    device: str = "auto"
    reference_images: int = 32  # images for the slow peers (per-image loops), marked Reference.subset
    memory_batch: int = 128  # batch of the memory measurement; 0 = skip it
    training_images: int = 10000  # training images of the epoch-cost measurement; 0 = skip it

    def validate(self) -> None:
        """``ConfigError`` for unknown attack names, counts out of range, or a memory probe Linux cannot run."""
        known = {entry.name for entry in BENCH}
        unknown = sorted(set(self.attacks) - known)
        if unknown:
            raise ConfigError(f"--attacks: unknown {unknown}; known: {sorted(known)}")
        if min(self.images, self.repeats, self.reference_images) < 1 or min(self.memory_batch,
                                                                            self.training_images) < 0:
            raise ConfigError("--images, --repeats and --reference-images must be >= 1, "
                              "--memory-batch and --training-images >= 0")
        if self.memory_batch and not PROC_CLEAR_REFS.exists():
            raise ConfigError("the peak-memory measurement needs Linux's /proc/self/clear_refs: pass --memory-batch 0")


def cached_model_path() -> Path:
    return cache_root() / "models" / "bench_lenet5_fashion_mnist.safetensors"


def _train_bench_model(path: Path, data_root: str | None, device: torch.device) -> None:
    log.warning("training the bench's standard LeNet5 on Fashion-MNIST (cached at %s)", path)
    train, test = load_split("fashion_mnist", "train", data_root), load_split("fashion_mnist", "test", data_root)
    trained = train_model(BENCH_MODEL, "fashion_mnist", train, test, device, progress=False)
    save_checkpoint(trained.model, path, {"arch": "lenet5", "dataset": "fashion_mnist", "epochs": 5,
                                          "clean_accuracy": trained.clean_accuracy})


def bench_model(options: BenchOptions, device: torch.device) -> tuple[nn.Module, dict[str, Any], Path]:
    """The model under test in eval mode and channels_last (as training uses it), its metadata and path."""
    path = Path(options.model) if options.model else cached_model_path()
    if not options.model and not path.exists():
        _train_bench_model(path, options.data_root, device)
    model, meta = load_checkpoint(path, device)
    return model.to(memory_format=torch.channels_last).requires_grad_(False), meta, path


def _setup(options: BenchOptions, meta: dict[str, Any], path: Path, device: torch.device,
           clean: float) -> dict[str, Any]:
    return {"model": str(path), "arch": meta["arch"], "dataset": meta["dataset"], "images": options.images,
            "clean_accuracy": clean, "repeats": options.repeats, "device": str(device),
            "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "peers": peers.versions(), "memory_format": "channels_last",
            "reference_images": options.reference_images,
            "memory_batch": options.memory_batch, "training_images": options.training_images}


def _training_costs(options: BenchOptions, meta: dict[str, Any], device: torch.device) -> list[EpochCost]:
    if not options.training_images:
        return []
    train = load_split(meta["dataset"], "train", options.data_root).head(options.training_images)
    test = load_split(meta["dataset"], "test", options.data_root)
    return epoch_costs(meta["arch"], meta["dataset"], train, test, device, options.repeats)


def run_bench(options: BenchOptions) -> BenchReport:
    """Every selected setting of ``BENCH`` on one model and one batch of test images x [N, C, H, W]."""
    options.validate()
    device = pick_device(options.device)
    model, meta, path = bench_model(options, device)
    x, y = load_split(meta["dataset"], "test", options.data_root).head(options.images).tensors(device)
    x = x.contiguous(memory_format=torch.channels_last)
    settings, notes = expand(BENCH, options.attacks)
    rows = [bench_setting(s, model, x, y, options.repeats, options.reference_images) for s in settings]
    clean = (predict(model, x) == y).float().mean().item()
    return BenchReport(_setup(options, meta, path, device, clean), rows,
                       memory_rows([s.config for s in settings], options.memory_batch), sixty_thousand(rows),
                       notes, _training_costs(options, meta, device))
