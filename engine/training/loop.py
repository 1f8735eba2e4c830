"""Training: standard (optionally augmented), PGD adversarial training (Madry et al. 2018) and fast
FGSM with a random start (Wong, Rice & Kolter 2020), seeded, with a clean test evaluation after
every epoch recorded as training curves, and resumable from its last finished epoch.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.optim.lr_scheduler import LambdaLR, LRScheduler
from tqdm import tqdm

from engine.attacks.pgd import madry_alpha, pgd
from engine.config.schema import ModelConfig, TrainingConfig
from engine.core.tensors import per_example
from engine.data.augment import augment
from engine.data.split import Split
from engine.evaluation.predict import clean_accuracy, predict
from engine.models.classifier import Classifier
from engine.models.registry import create_model
from engine.training.state import TrainState, load_state, save_state

log = logging.getLogger(__name__)
EVAL_BATCH = 1000
GUARD_STEPS = 10  # PGD steps of the catastrophic-overfitting check
GUARD_DROP = 0.2  # a fall of PGD accuracy this large from the best epoch stops fast training


class TrainingDivergedError(RuntimeError):
    """The loss or the weights of a model in training stopped being finite numbers."""


@dataclass
class TrainedModel:
    model: Classifier
    curves: list[dict] = field(default_factory=list)  # rows of the training_curves table
    seconds: float = 0.0  # wall time of training, evaluation included (summed over resumed runs)
    clean_accuracy: float = 0.0  # on the whole test set with the returned weights
    epochs: int = 0  # epochs behind the returned weights (fewer than configured after an early stop)
    train_samples: int = 0  # images trained on (fast training holds some out)


def attack_step(cfg: TrainingConfig) -> float:
    """Absolute step of the training attack: the configured alpha, else Madry's 2.5 * eps / steps (pgd)
    or Wong et al.'s 1.25 * eps (fast)."""
    if cfg.alpha:
        return cfg.alpha
    return 1.25 * cfg.eps if cfg.mode == "fast" else madry_alpha(cfg.eps, max(cfg.steps, 1))


def _optimizer(model: Classifier, cfg: TrainingConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                               weight_decay=cfg.weight_decay, nesterov=cfg.momentum > 0)
    return torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)


STEP_DECAY = 0.1  # "step" schedule: lr x 0.1 after each third of training (MadryLab robustness: 150 epochs, every 50)


def _schedule(optimizer: torch.optim.Optimizer, cfg: TrainingConfig, total_steps: int) -> LambdaLR:
    factors = {"constant": lambda step: 1.0,
               "cosine": lambda step: 0.5 * (1 + math.cos(math.pi * step / total_steps)),
               "step": lambda step: STEP_DECAY ** (3 * step // total_steps)}
    return LambdaLR(optimizer, factors[cfg.schedule])


def _training_inputs(model: Classifier, x: torch.Tensor, y: torch.Tensor, clean: torch.Tensor,
                     cfg: TrainingConfig, generator: torch.Generator) -> torch.Tensor:
    """The batch the optimiser sees: (augmented) clean images, or adversarial examples made from them.

    ``clean`` (bool [B]) marks the images augmentation may touch: pre-generated adversarial
    examples are left as they are (Park & So). Adversarial examples are made in eval mode so the
    attack's forward passes do not move the batch-norm statistics. Fast training is PGD with one
    step of 1.25 * eps from a random start.
    """
    if cfg.augment:
        x = torch.where(per_example(clean.to(x.device), x), augment(x, generator), x)
    if not cfg.adversarial:
        return x
    steps = cfg.steps if cfg.mode == "pgd" else 1
    model.eval()
    x_adv = pgd(model, x, y, cfg.norm, cfg.eps, attack_step(cfg), steps, random_start=True, generator=generator)
    model.train()
    return x_adv


def _train_epoch(model: Classifier, train: Split, clean: int, cfg: TrainingConfig,
                 optimizer: torch.optim.Optimizer, scheduler: LRScheduler, generator: torch.Generator,
                 device: torch.device, bar: tqdm) -> tuple[float, float]:
    """One pass over ``train``, whose first ``clean`` images are clean ones; returns (accuracy, mean
    loss) on the inputs the optimiser saw."""
    model.train()
    correct, loss_sum = 0, 0.0
    for x, y, index in train.indexed_batches(cfg.batch_size, device, generator):
        x = x.contiguous(memory_format=torch.channels_last)
        x = _training_inputs(model, x, y, index < clean, cfg, generator)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        correct += (logits.argmax(1) == y).sum().item()
        loss_sum += loss.item() * len(y)
        bar.update(len(y))
    return correct / len(train), loss_sum / len(train)


def _guard_accuracy(model: Classifier, guard: Split, cfg: TrainingConfig, device: torch.device) -> float:
    """PGD accuracy on held-out training images: it collapses under catastrophic overfitting."""
    x, y = guard.tensors(device)
    x_adv = pgd(model, x, y, cfg.norm, cfg.eps, madry_alpha(cfg.eps, GUARD_STEPS), GUARD_STEPS,
                random_start=True, generator=torch.Generator().manual_seed(cfg.seed))
    return (predict(model, x_adv) == y).float().mean().item()


def _row(model_id: str, epoch: int, test_set: str, accuracy: float, loss: float = math.nan) -> dict:
    return {"model_id": model_id, "epoch": epoch, "test_set": test_set, "accuracy": accuracy, "loss": loss}


def _held_out(train: Split, cfg: TrainingConfig) -> tuple[Split, Split | None]:
    """Fast training holds out the last ``guard_samples`` training images for its overfitting check."""
    if cfg.mode != "fast":
        return train, None
    if cfg.guard_samples >= len(train):
        raise ValueError(f"guard_samples={cfg.guard_samples} leaves no training images of {len(train)}")
    return train.head(len(train) - cfg.guard_samples), train.tail(cfg.guard_samples)


def _new_state(spec: ModelConfig, dataset: str, device: torch.device, steps: int) -> TrainState:
    cfg = spec.training
    torch.manual_seed(cfg.seed)
    model = create_model(spec.arch, dataset).to(device).to(memory_format=torch.channels_last)
    optimizer = _optimizer(model, cfg)
    scheduler = _schedule(optimizer, cfg, steps)
    return TrainState(model, optimizer, scheduler, torch.Generator().manual_seed(cfg.seed))


def train_model(spec: ModelConfig, dataset: str, train: Split, test: Split, device: torch.device,
                progress: bool = True, resume: Path | None = None, tag: str = "",
                probes: dict[str, Callable[[Classifier], float]] | None = None,
                extra: list[Split] | None = None) -> TrainedModel:
    """Train ``spec`` on ``train`` plus the pre-generated adversarial examples in ``extra``,
    evaluating clean accuracy on ``test`` after every epoch.

    ``probes`` name further accuracies measured on the weights after every epoch (adversarial
    test sets). With ``resume``, the state after every epoch is saved there, and a run whose saved
    state carries the same ``tag`` continues from its last finished epoch.
    """
    cfg = spec.training
    train, guard = _held_out(train, cfg)
    clean, train = len(train), Split.join([train, *(extra or [])])
    state = _new_state(spec, dataset, device, cfg.epochs * math.ceil(len(train) / cfg.batch_size))
    if resume is not None:
        load_state(state, resume, tag)
    previous = copy.deepcopy(state.model.state_dict())
    while state.epoch < cfg.epochs and not state.stopped:
        start = time.perf_counter()
        epoch = state.epoch + 1
        with tqdm(total=len(train), desc=f"{spec.id} epoch {epoch}/{cfg.epochs}", unit="img",
                  leave=False, disable=not progress) as bar:
            stats = _train_epoch(state.model, train, clean, cfg, state.optimizer, state.scheduler,
                                 state.generator, device, bar)
        _require_finite(state.model, stats[1], spec, epoch)
        state.model.eval()
        state.curves.append(_row(spec.id, epoch, "train", *stats))
        state.curves.append(_row(spec.id, epoch, "clean", clean_accuracy(state.model, test, EVAL_BATCH, device)))
        state.curves += [_row(spec.id, epoch, name, probe(state.model)) for name, probe in (probes or {}).items()]
        if guard is not None:
            _check_guard(state, guard, cfg, device, spec.id, epoch, previous)
        if not state.stopped:
            state.epoch, previous = epoch, copy.deepcopy(state.model.state_dict())
        state.seconds += time.perf_counter() - start
        if resume is not None:
            save_state(state, resume, tag)
        log.info("%s epoch %d: %s", spec.id, epoch, state.curves[-1])
    return _finish(state, test, device, len(train))


def _require_finite(model: Classifier, loss: float, spec: ModelConfig, epoch: int) -> None:
    """``TrainingDivergedError`` when the epoch's mean loss or any weight or buffer is not finite: the
    run stops before the epoch's state is saved, so nothing of the diverged model is written."""
    broken = sum(int((~torch.isfinite(t)).sum()) for t in model.state_dict().values() if t.is_floating_point())
    if math.isfinite(loss) and not broken:
        return
    cfg = spec.training
    raise TrainingDivergedError(
        f"model {spec.id!r} diverged in epoch {epoch}: mean training loss {loss}, {broken} weights not finite "
        f"(optimizer {cfg.optimizer}, lr {cfg.lr}, momentum {cfg.momentum}, weight_decay {cfg.weight_decay}); "
        "lower models.training.lr or change the optimiser settings and rerun. Nothing of this model was "
        "written; finished jobs are kept")


def _check_guard(state: TrainState, guard: Split, cfg: TrainingConfig, device: torch.device, model_id: str,
                 epoch: int, previous: dict) -> None:
    """Record PGD accuracy on the held-out images; on a collapse, roll back to the last epoch and stop."""
    accuracy = _guard_accuracy(state.model, guard, cfg, device)
    state.curves.append(_row(model_id, epoch, "guard_pgd", accuracy))
    if accuracy < state.best_guard - GUARD_DROP:
        log.warning("%s: PGD accuracy fell from %.3f to %.3f at epoch %d (catastrophic overfitting); "
                    "keeping epoch %d", model_id, state.best_guard, accuracy, epoch, state.epoch)
        state.model.load_state_dict(previous)
        state.stopped = True
    state.best_guard = max(state.best_guard, accuracy)


def _finish(state: TrainState, test: Split, device: torch.device, train_samples: int) -> TrainedModel:
    state.model.eval()
    accuracy = clean_accuracy(state.model, test, EVAL_BATCH, device)
    return TrainedModel(state.model, state.curves, state.seconds, accuracy, state.epoch, train_samples)
