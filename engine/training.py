"""Training: standard and PGD adversarial training (Madry et al. 2018), seeded, with a clean
test evaluation after every epoch recorded as training curves.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from tqdm import tqdm

from engine.attacks.pgd import pgd
from engine.config import ModelConfig, TrainingConfig
from engine.data import Split
from engine.evaluation import clean_accuracy
from engine.models import Classifier, create_model

log = logging.getLogger(__name__)
EVAL_BATCH = 1000


@dataclass
class TrainedModel:
    model: Classifier
    curves: list[dict] = field(default_factory=list)  # rows of the training_curves table
    seconds: float = 0.0  # wall time of training, evaluation included
    clean_accuracy: float = 0.0  # on the whole test set after the last epoch


def _optimizer(model: Classifier, cfg: TrainingConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                               weight_decay=cfg.weight_decay, nesterov=cfg.momentum > 0)
    return torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)


def _schedule(optimizer: torch.optim.Optimizer, cfg: TrainingConfig, total_steps: int):
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * step / total_steps)))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)


def _training_inputs(model: Classifier, x: torch.Tensor, y: torch.Tensor, cfg: TrainingConfig,
                     generator: torch.Generator) -> torch.Tensor:
    """The batch the optimiser sees: clean images, or PGD examples with a random start.

    Adversarial examples are made in eval mode so the attack's forward passes do not move the
    batch-norm statistics.
    """
    if cfg.mode == "standard":
        return x
    model.eval()
    x_adv = pgd(model, x, y, cfg.norm, cfg.eps, cfg.step_size, cfg.steps, random_start=True, generator=generator)
    model.train()
    return x_adv


def _train_epoch(model: Classifier, train: Split, cfg: TrainingConfig, optimizer: torch.optim.Optimizer,
                 scheduler, generator: torch.Generator, device: torch.device, bar: tqdm) -> tuple[float, float]:
    """One pass over ``train``; returns (accuracy, mean loss) on the inputs the optimiser saw."""
    model.train()
    correct, loss_sum = 0, 0.0
    for x, y in train.batches(cfg.batch_size, device, generator):
        x = _training_inputs(model, x.contiguous(memory_format=torch.channels_last), y, cfg, generator)
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


def _curve_rows(model_id: str, epoch: int, train_stats: tuple[float, float], test_accuracy: float) -> list[dict]:
    return [
        {"model_id": model_id, "epoch": epoch, "test_set": "train", "accuracy": train_stats[0], "loss": train_stats[1]},
        {"model_id": model_id, "epoch": epoch, "test_set": "clean", "accuracy": test_accuracy, "loss": math.nan},
    ]


def train_model(spec: ModelConfig, dataset: str, train: Split, test: Split, device: torch.device,
                progress: bool = True) -> TrainedModel:
    """Train ``spec`` on ``train``, evaluating clean accuracy on ``test`` after every epoch."""
    cfg = spec.training
    torch.manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    model = create_model(spec.arch, dataset).to(device, memory_format=torch.channels_last)
    optimizer = _optimizer(model, cfg)
    scheduler = _schedule(optimizer, cfg, cfg.epochs * math.ceil(len(train) / cfg.batch_size))
    result = TrainedModel(model)
    start = time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        with tqdm(total=len(train), desc=f"{spec.id} epoch {epoch}/{cfg.epochs}", unit="img",
                  leave=False, disable=not progress) as bar:
            stats = _train_epoch(model, train, cfg, optimizer, scheduler, generator, device, bar)
        model.eval()
        result.clean_accuracy = clean_accuracy(model, test, EVAL_BATCH, device)
        result.curves += _curve_rows(spec.id, epoch, stats, result.clean_accuracy)
        log.info("%s epoch %d: train acc %.4f, test acc %.4f", spec.id, epoch, stats[0], result.clean_accuracy)
    result.seconds = time.perf_counter() - start
    return result
