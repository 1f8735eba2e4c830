"""The bench's peers: other libraries' counterparts of a setting, each imported on first use.

A ``Reference`` is one peer's attack for one setting, built with the registry's protocol
``build(model, cfg, generator) -> attack(x, y) -> x_adv``. ``seeded`` runs a peer's attack the way the
engine runs torchattacks: every module's train/eval mode and torch's and NumPy's global random states
are restored afterwards, and each call draws one seed from ``generator`` for both global generators
(no peer takes a generator of its own: torchattacks and Foolbox draw from torch's, ART from NumPy's).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
from torch import nn

from engine.attacks.registry import Attack
from engine.attacks.torchattacks_wrappers import draw_seed, preserved_state
from engine.config.schema import AttackConfig

Build = Callable[[nn.Module, AttackConfig, torch.Generator | None], Attack]
PEERS = {"torchattacks": "torchattacks", "foolbox": "foolbox", "art": "art"}  # peer -> module (ART's is art)


@dataclass(frozen=True)
class Reference:
    """One peer's counterpart of a setting."""

    peer: str  # a key of PEERS
    build: Build
    subset: bool = False  # slow (e.g. a loop over single images): timed and judged on the first images only
    note: str = ""  # where the peer's algorithm or settings differ from ours
    same_work: bool = True  # runs as many iterations as ours may: only then can it be the row's fastest peer
    variant: str = ""  # tells two references of one peer apart in the tables ("1,000 steps")


def missing(peer: str) -> str:
    """Why ``peer`` cannot run (it is not installed), or "" when it imports."""
    try:
        importlib.import_module(PEERS[peer])
    except ImportError as error:
        return f"{peer} is not installed ({error}): its column stays empty"
    return ""


def versions() -> dict[str, str | None]:
    """Each peer's version; None for one that is not installed."""
    found: dict[str, str | None] = {}
    for peer, module in PEERS.items():
        try:
            found[peer] = str(importlib.import_module(module).__version__)
        except ImportError:
            found[peer] = None
    return found


@contextmanager
def _numpy_random_preserved() -> Iterator[None]:
    """Restore NumPy's global random state on exit."""
    state = np.random.get_state()
    try:
        yield
    finally:
        np.random.set_state(state)


def _seeded_call(model: nn.Module, run: Attack, generator: torch.Generator | None, x: torch.Tensor,
                 y: torch.Tensor) -> torch.Tensor:
    """``run(x, y)`` on x [N, C, H, W], y [N] with torch and NumPy seeded from ``generator``; state restored."""
    seed = draw_seed(generator)
    with preserved_state(model, x.device), _numpy_random_preserved():
        torch.manual_seed(seed)
        np.random.seed(seed)
        return run(x, y).detach()


def seeded(model: nn.Module, run: Attack, generator: torch.Generator | None) -> Attack:
    """``run`` as an engine attack: one seed per call from ``generator``, the model's modes and random states kept."""
    return partial(_seeded_call, model, run, generator)
