"""The timing harness: a counted and judged warm-up, then the median of timed runs; the
forward+backward limit a gradient attack's time is compared with."""

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

from engine.attacks.pgd import input_gradient
from engine.attacks.registry import Attack
from engine.config.schema import AttackConfig
from engine.evaluation.budget import BudgetError, check_budget
from engine.evaluation.predict import predict


@dataclass(frozen=True)
class Measurement:
    images: int  # images timed and judged
    seconds: float  # median time of one run over them
    images_per_second: float
    success: float | None  # share misclassified after the attack; None when the output broke the budget
    gradient_forwards: int  # forward passes with autograd on in one run (counted in the warm-up)
    note: str = ""


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_seconds(run: Callable[[], object], repeats: int, device: torch.device) -> float:
    """Median wall time of ``repeats`` calls of ``run`` (the caller has warmed it up)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def gradient_seconds(model: nn.Module, x: torch.Tensor, y: torch.Tensor, repeats: int) -> float:
    """Median time of one input-gradient forward+backward of ``model`` on the batch x [N, C, H, W]."""
    run = partial(input_gradient, model, x, y)
    run()
    return median_seconds(run, max(repeats, 5), x.device)


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


def measure(attack: Attack, model: nn.Module, x: torch.Tensor, y: torch.Tensor, cfg: AttackConfig,
            repeats: int) -> tuple[Measurement, torch.Tensor | None]:
    """Warm up (counted, judged), then time ``attack`` on x [N, C, H, W], y [N]; also the fooled mask [N]."""
    with counting_gradient_forwards(model) as counter:
        x_adv = attack(x, y)
    fooled, note = judge(model, x, x_adv, y, cfg)
    seconds = median_seconds(partial(attack, x, y), repeats, x.device)
    success = None if fooled is None else fooled.float().mean().item()
    return Measurement(len(x), seconds, len(x) / seconds, success, counter[0], note), fooled


def efficiency(passes: float | None, forward_backward_seconds: float, run: Measurement) -> float | None:
    """The limit's time (``passes`` forward+backward passes) over the run's time; None without a limit."""
    return None if passes is None else passes * forward_backward_seconds / run.seconds
