"""Carlini & Wagner's L2 attack (Carlini & Wagner 2017), batched, with a per-example search over c.

For each example it minimises ``||x' - x||_2^2 + c * f(x')`` over ``x' = (tanh(w) + 1) / 2``, which
keeps x' in [0, 1] without clipping, with Adam on w and the paper's objective f6:
``max(Z_y - max_{i != y} Z_i, -kappa)`` untargeted, ``max(max_{i != t} Z_i - Z_t, -kappa)`` targeted.
Per example, c is multiplied by 10 until the first success, then bisected between the largest
failing and the smallest succeeding value; the smallest successful L2 perturbation over all search
steps is returned (x itself where none succeeded). An example leaves the batch once its loss stops
improving (early abort) and is never attacked when it is already adversarial.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from engine.attacks.options import merged_options, option_defaults, reject_gradient_settings, whole_number
from engine.config.schema import AttackConfig

# lr: the paper's 0.01 reaches too little in 100 steps (Adam moves each w by about lr per step): on
# LeNet5 / Fashion-MNIST at 100 steps it fooled 93 % (kappa 0) and 39 % (kappa 5) against 100 % at
# 0.05; at 1000 steps 0.05 costs 1.6 % in mean L2.
TANH_SHRINK = 1 - 1e-6  # keeps atanh finite at pixels 0 and 1
NO_UPPER = 1e10  # upper bound of c before the first success
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
MAX_SEARCH_STEPS = 100  # binary-search steps over c: past ~40 the bisection is below float32 resolution
ABORT_TOLERANCE = 1e-4  # relative loss decrease per check below which an example stops


@dataclass(frozen=True)
class CWSettings:
    steps: int = 100  # Adam iterations per search step
    confidence: float = 0.0  # kappa: required logit margin of a success
    search_steps: int = 9  # binary-search steps over c
    initial_const: float = 1e-3  # first c of every example
    lr: float = 0.05  # Adam step size on w (see the comment above CWSettings)
    abort_early: bool = True  # drop examples whose loss stopped improving

    def validate(self) -> None:
        """Raise ``ValueError`` on a setting outside its range."""
        if self.steps < 1 or not 1 <= self.search_steps <= MAX_SEARCH_STEPS:
            raise ValueError(f"cw needs steps >= 1 and search_steps in [1, {MAX_SEARCH_STEPS}], "
                             f"got {self.steps}, {self.search_steps}")
        finite = all(math.isfinite(value) for value in (self.confidence, self.initial_const, self.lr))
        if not (finite and self.confidence >= 0 and self.initial_const > 0 and self.lr > 0):
            raise ValueError("cw needs finite confidence >= 0, initial_const > 0 and lr > 0, "
                             f"got {self.confidence}, {self.initial_const}, {self.lr}")

    @property
    def check_every(self) -> int:
        """Iterations between early-abort checks: a tenth of the run, as in the paper's code."""
        return max(self.steps // 10, 1)


OPTIONS = option_defaults(CWSettings, "steps")  # the settings cfg.options may set, with their defaults


def to_tanh_space(x: torch.Tensor) -> torch.Tensor:
    """Images in [0, 1] -> w with (tanh(w) + 1) / 2 within 5e-7 of x."""
    return torch.atanh((2 * x - 1) * TANH_SHRINK)


def from_tanh_space(w: torch.Tensor) -> torch.Tensor:
    """w -> images in [0, 1]."""
    return (torch.tanh(w) + 1) / 2


def signed_margin(logits: torch.Tensor, labels: torch.Tensor, targeted: bool) -> torch.Tensor:
    """[N, K], [N] -> [N]: Z_y - max_{i != y} Z_i, negated when ``labels`` are targets.

    An example succeeds with confidence kappa when its signed margin is below -kappa.
    """
    own = logits.gather(1, labels[:, None]).squeeze(1)
    others = logits.scatter(1, labels[:, None], -math.inf).amax(dim=1)
    return others - own if targeted else own - others


@dataclass
class _ConstSearch:
    """Per-example binary search over c: [N] tensors of the current value and its bounds."""

    const: torch.Tensor
    lower: torch.Tensor
    upper: torch.Tensor

    @classmethod
    def start(cls, n: int, initial: float, device: torch.device) -> _ConstSearch:
        full = partial(torch.full, (n,), device=device)
        return cls(full(initial), full(0.0), full(NO_UPPER))

    def update(self, rows: torch.Tensor, succeeded: torch.Tensor) -> None:
        """Examples ``rows`` [M] ran with their c; ``succeeded`` [M] bool says which found a success."""
        const, lower, upper = self.const[rows], self.lower[rows], self.upper[rows]
        upper = torch.where(succeeded, torch.minimum(upper, const), upper)
        lower = torch.where(succeeded, lower, torch.maximum(lower, const))
        bisect = upper < NO_UPPER
        self.const[rows] = torch.where(bisect, (lower + upper) / 2, const * 10)
        self.lower[rows], self.upper[rows] = lower, upper


@dataclass
class _Run:
    """The examples still optimised in one search step; every tensor has one row per example.

    rows: [M] their indices in the search step's batch; x, w, m, v: [M, C, H, W];
    labels: [M]; const: [M]; last_loss: [M] loss at the previous early-abort check.
    """

    rows: torch.Tensor
    x: torch.Tensor
    w: torch.Tensor
    m: torch.Tensor
    v: torch.Tensor
    labels: torch.Tensor
    const: torch.Tensor
    last_loss: torch.Tensor

    @classmethod
    def start(cls, x: torch.Tensor, labels: torch.Tensor, const: torch.Tensor) -> _Run:
        rows = torch.arange(len(x), device=x.device)
        zeros = torch.zeros_like(x)
        inf = torch.full((len(x),), math.inf, device=x.device)
        return cls(rows, x, to_tanh_space(x), zeros, zeros.clone(), labels, const, inf)

    def keep(self, mask: torch.Tensor) -> _Run:
        """The run restricted to the examples where ``mask`` [M] is true."""
        return _Run(**{f.name: getattr(self, f.name)[mask] for f in dataclasses.fields(self)})

    def adam_step(self, grad: torch.Tensor, step: int, lr: float) -> None:
        """One bias-corrected Adam update of w; ``step`` counts from 1."""
        beta1, beta2 = ADAM_BETAS
        self.m.mul_(beta1).add_(grad, alpha=1 - beta1)
        self.v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        m_hat = self.m / (1 - beta1**step)
        v_hat = self.v / (1 - beta2**step)
        self.w = self.w - lr * m_hat / (v_hat.sqrt() + ADAM_EPS)


def _objective(model: nn.Module, run: _Run, kappa: float,
               targeted: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """x' [M, C, H, W], its L2 distance [M], success [M] bool and the loss [M] (with a graph to w)."""
    run.w.requires_grad_(True)
    x_adv = from_tanh_space(run.w)
    l2_squared = (x_adv - run.x).flatten(1).pow(2).sum(dim=1)
    margin = signed_margin(model(x_adv), run.labels, targeted)
    loss = l2_squared + run.const * margin.clamp_min(-kappa)
    return x_adv.detach(), l2_squared.detach().sqrt(), (margin < -kappa).detach(), loss


def _drop_stalled(run: _Run, loss: torch.Tensor) -> _Run:
    """Early abort: keep the examples whose loss [M] fell by ABORT_TOLERANCE (relative) since the last check."""
    improving = loss < run.last_loss - ABORT_TOLERANCE * loss.abs()
    run.last_loss = loss
    return run.keep(improving)


def _descend(model: nn.Module, x: torch.Tensor, labels: torch.Tensor, const: torch.Tensor,
             settings: CWSettings, targeted: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """One search step on x [M, C, H, W] with constants ``const`` [M].

    Returns the smallest successful L2 [M] (inf where none) and those x' [M, C, H, W] (x where none).
    """
    best_l2 = torch.full((len(x),), math.inf, device=x.device)
    best_adv = x.clone()
    run = _Run.start(x, labels, const)
    for step in range(1, settings.steps + 1):
        x_adv, l2, success, loss = _objective(model, run, settings.confidence, targeted)
        better = success & (l2 < best_l2[run.rows])
        best_l2[run.rows[better]], best_adv[run.rows[better]] = l2[better], x_adv[better]
        grad = torch.autograd.grad(loss.sum(), run.w)[0]
        run.w = run.w.detach()
        run.adam_step(grad, step, settings.lr)
        if settings.abort_early and step % settings.check_every == 0:
            run = _drop_stalled(run, loss.detach())
            if len(run.rows) == 0:
                break
    return best_l2, best_adv


def cw_l2(model: nn.Module, x: torch.Tensor, y: torch.Tensor, settings: CWSettings = CWSettings(),
          target: torch.Tensor | None = None) -> torch.Tensor:
    """Carlini-Wagner L2 adversarial examples of x [N, C, H, W] in [0, 1] with labels y [N].

    With ``target`` [N], a targeted attack towards those classes. Returns x_adv [N, C, H, W] in
    [0, 1]: the smallest successful perturbation found per example, x itself where none was found.
    ``model`` should be in eval mode.
    """
    settings.validate()
    targeted = target is not None
    labels = y if target is None else target
    with torch.no_grad():
        rows = (signed_margin(model(x), labels, targeted) >= -settings.confidence).nonzero().squeeze(1)
    best_l2 = torch.full((len(x),), math.inf, device=x.device)
    best_adv = x.clone()
    search = _ConstSearch.start(len(x), settings.initial_const, x.device)
    for _ in range(settings.search_steps if len(rows) else 0):  # examples already adversarial stay x
        l2, adv = _descend(model, x[rows], labels[rows], search.const[rows], settings, targeted)
        better = l2 < best_l2[rows]
        best_l2[rows[better]], best_adv[rows[better]] = l2[better], adv[better]
        search.update(rows, torch.isfinite(l2))
    return best_adv


def settings_from_config(cfg: AttackConfig) -> CWSettings:
    """CWSettings from ``cfg.steps`` and ``cfg.options`` (defaults: CWSettings's)."""
    options = merged_options(cfg, OPTIONS)
    return CWSettings(cfg.steps, options["confidence"], whole_number(options, "search_steps"),
                      options["initial_const"], options["lr"], bool(options["abort_early"]))


def build_cw(model: nn.Module, cfg: AttackConfig,
             generator: torch.Generator | None = None) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The registry's builder: an untargeted ``attack(x, y) -> x_adv``; the engine applies eps."""
    reject_gradient_settings(cfg, "lr")
    settings = settings_from_config(cfg)
    settings.validate()
    return partial(cw_l2, model, settings=settings)
