"""Playground attacks from many threads on one shared cached model give the sequential results."""

from concurrent.futures import ThreadPoolExecutor

import torch
from torch import nn

from engine.config.schema import AttackConfig
from engine.data.split import Split
from engine.evaluation.playground import attack_image
from ui.models import SharedModel

CALLS = 24
SETTINGS = [AttackConfig("pgd", "Linf", 0.1, steps=5, random_start=True),
            AttackConfig("apgd", "L2", 1.0, steps=5),  # torchattacks: switches the model's train/eval mode
            AttackConfig("deepfool", "L2", float("inf"))]


def _attack(shared: SharedModel, x: torch.Tensor, label: int, cfg: AttackConfig) -> torch.Tensor:
    with shared.lock:  # as the playground page does
        return attack_image(shared.model, x, cfg, label, seed=label).x_adv


def test_threads_hammering_one_cached_model_match_sequential_calls(lenet: nn.Module, fmnist_test: Split) -> None:
    import threading

    shared = SharedModel(lenet, threading.Lock(), "fashion_mnist")
    x, y = fmnist_test.head(CALLS).tensors()
    calls = [(x[i:i + 1], int(y[i]), SETTINGS[i % len(SETTINGS)]) for i in range(CALLS)]
    sequential = [_attack(shared, *call) for call in calls]
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(lambda call: _attack(shared, *call), calls))
    assert all(torch.equal(a, b) for a, b in zip(sequential, concurrent, strict=True))
    assert not lenet.training  # every attack left the shared model in eval mode
