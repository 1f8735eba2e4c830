"""The timing harness: a counted and judged warm-up of every attack of a row, then the median of
interleaved timed runs; the forward+backward limit a gradient attack's time is compared with."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from torch import nn

from engine.attacks.norms import perturbation_norm
from engine.attacks.pgd import input_gradient
from engine.attacks.registry import Attack
from engine.config.schema import AttackConfig
from engine.evaluation.budget import BudgetError, check_budget
from engine.evaluation.predict import predict

GRADIENTS_PER_ROUND = 10  # forward+backward passes timed in each round of ``measure_together``


@dataclass(frozen=True)
class Measurement:
    images: int  # images timed and judged
    seconds: float  # median time of one run over them
    images_per_second: float
    success: float | None  # share misclassified after the attack; None when the output broke the budget
    gradient_forwards: int  # forward passes with autograd on in one run (counted in the warm-up)
    median_norm: float | None = None  # median ||x_adv - x|| in the setting's norm over the fooled images
    note: str = ""


@dataclass(frozen=True)
class Contestant:
    """One attack of a row, run on the first ``images`` images of the batch."""

    attack: Attack
    images: int


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _seconds(run: Callable[[], object], device: torch.device) -> float:
    """Wall time of one call of ``run``."""
    start = time.perf_counter()
    run()
    _sync(device)
    return time.perf_counter() - start


def _gradients(model: nn.Module, x: torch.Tensor, y: torch.Tensor, count: int) -> None:
    """``count`` input-gradient forward+backward passes of ``model`` on the batch x [N, C, H, W]."""
    for _ in range(count):
        input_gradient(model, x, y)


@contextmanager
def counting_gradient_forwards(model: nn.Module) -> Iterator[list[int]]:
    """Yield a one-item list that counts ``model``'s forward calls made with autograd on."""
    counter = [0]

    def count(*_: Any) -> None:
        counter[0] += torch.is_grad_enabled()

    handle = model.register_forward_hook(count)
    try:
        yield counter
    finally:
        handle.remove()


def judge(model: nn.Module, x: torch.Tensor, x_adv: torch.Tensor, y: torch.Tensor,
          cfg: AttackConfig) -> tuple[torch.Tensor | None, str]:
    """Bool [N] misclassified after the attack, or None and the reason when x_adv breaks the budget."""
    try:
        check_budget(x, x_adv, cfg)
    except BudgetError as error:
        return None, str(error)
    return predict(model, x_adv) != y, ""


def _median_norm(x: torch.Tensor, x_adv: torch.Tensor, fooled: torch.Tensor | None, norm: str) -> float | None:
    """Median ||x_adv - x|| over the fooled images (x, x_adv [N, C, H, W], fooled bool [N]); None if none."""
    if fooled is None or not fooled.any():
        return None
    return perturbation_norm(x_adv[fooled] - x[fooled], norm).median().item()


@dataclass(frozen=True)
class _WarmUp:
    """What the counted and judged warm-up run of an attack on ``images`` images found."""

    images: int
    fooled: torch.Tensor | None  # bool [images]; None when the output broke the budget
    gradient_forwards: int
    median_norm: float | None
    note: str

    def measurement(self, seconds: float) -> Measurement:
        """The warm-up's findings with the median time of one run."""
        success = None if self.fooled is None else self.fooled.float().mean().item()
        return Measurement(self.images, seconds, self.images / seconds, success, self.gradient_forwards,
                           self.median_norm, self.note)


def _warm_up(attack: Attack, model: nn.Module, x: torch.Tensor, y: torch.Tensor, cfg: AttackConfig) -> _WarmUp:
    """One counted and judged run of ``attack`` on x [N, C, H, W], y [N]."""
    with counting_gradient_forwards(model) as counter:
        x_adv = attack(x, y)
    fooled, note = judge(model, x, x_adv, y, cfg)
    return _WarmUp(len(x), fooled, counter[0], _median_norm(x, x_adv, fooled, cfg.norm), note)


def measure_together(contestants: list[Contestant], model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                     cfg: AttackConfig,
                     repeats: int) -> tuple[list[tuple[Measurement, torch.Tensor | None]], float]:
    """Each contestant's measurement and fooled mask [images] on x [N, C, H, W], y [N], timed interleaved,
    and the median time of one input-gradient forward+backward on the whole batch.

    Every contestant is warmed up (counted, judged) first; then each of the ``repeats`` rounds times
    ``GRADIENTS_PER_ROUND`` forward+backward passes and every contestant once, in order, so that a load
    drifting on a shared machine hits the limit and the attacks alike (timed once before a setting, the
    limit moved by up to 50 % between settings on a busy 2-core machine).
    """
    batches = [(c.attack, x[:c.images], y[:c.images]) for c in contestants]
    warm = [_warm_up(attack, model, xs, ys, cfg) for attack, xs, ys in batches]
    gradients = partial(_gradients, model, x, y, GRADIENTS_PER_ROUND)
    gradients()
    gradient_times: list[float] = []
    times: list[list[float]] = [[] for _ in batches]
    for _ in range(repeats):
        gradient_times.append(_seconds(gradients, x.device) / GRADIENTS_PER_ROUND)
        for (attack, xs, ys), spent in zip(batches, times, strict=True):
            spent.append(_seconds(partial(attack, xs, ys), x.device))
    measured = [(w.measurement(statistics.median(spent)), w.fooled) for w, spent in zip(warm, times, strict=True)]
    return measured, statistics.median(gradient_times)


def efficiency(passes: float | None, forward_backward_seconds: float, run: Measurement) -> float | None:
    """The limit's time (``passes`` forward+backward passes) over the run's time; None without a limit."""
    return None if passes is None else passes * forward_backward_seconds / run.seconds
