"""Carlini & Wagner's L2 attack (Carlini & Wagner 2017), batched, with a per-example search over c.

For each example it minimises ``||x' - x||_2^2 + c * f(x')`` over ``x' = (tanh(w) + 1) / 2``, which
keeps x' in [0, 1] without clipping, with Adam on w and the paper's objective f6:
``max(Z_y - max_{i != y} Z_i, -kappa)`` untargeted, ``max(max_{i != t} Z_i - Z_t, -kappa)`` targeted.
Per example, c is multiplied by 10 until the first success, then bisected between the largest
failing and the smallest succeeding value; the smallest successful L2 perturbation over all search
steps is returned (x itself where none succeeded). An example that is already adversarial is never
attacked.

Early abort (issue 18). Carlini & Wagner 2017's code, and Foolbox, end a search step when the loss
summed over the batch has not fallen by 0.01 % since the last check, every tenth of the steps. On the
study's batches of 500 that never fired (results equal to no abort, no iteration saved), and it makes an
image's result depend on its batch: alone (the playground) it is the per-example rule we had before,
which dropped an example at the first check where its own loss had not fallen by 0.01 %. Adam's iterates
swing around the decision boundary and the loss has plateaus it later leaves, so one stalled check ended
many examples whose best L2 was still shrinking: on the shipped LeNet5s (first 500 Fashion-MNIST test
images; 100 steps, 5 search steps, c from 0.1, the study's setting) the median L2 ended 5.8 % (standard)
and 5.0 % (pgd_l2) above the attack without abort, 32 % and 29 % of the images more than 1 % farther
(worst 1.34x, 1.88x), pgd_l2's accuracy at L2 2 at 47.2 % instead of 45.6 %.

An example now leaves only after ABORT_PATIENCE checks in a row in which neither the lowest loss it
reached in this search step fell by ABORT_TOLERANCE (relative) nor its best successful L2 shrank, and
checks are at least MIN_CHECK_EVERY iterations apart. Same models and images: median L2 and accuracy at
L2 0.5 / 1 / 2 equal to no abort; 1.8 % (standard) and 0 % (pgd_l2) of the images more than 1 % farther
(worst 1.25x). It ran 98.6 % and 94.8 % of the iterations of no abort (the former rule 80.2 % and
88.1 %: what it skipped was mostly still improving); with the defaults (c from 1e-3, 9 search steps;
first 200 images), where small c's searches settle early, 87.4 % and 83.6 % (former 79.5 % and 81.0 %,
with 18 % and 14 % of the images more than 1 % farther; now none). With checks every tenth of the run
and no floor, short runs judged noise: 30 steps (lr 0.1, c from 0.01, 200 images) left 9 % and 11 % of
the images more than 1 % farther, 50 steps 1.6 % and 3.8 %; with the floor of 10, none.
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
ABORT_TOLERANCE = 1e-4  # relative fall of an example's lowest loss per check that counts as progress
MIN_CHECK_EVERY = 10  # fewest iterations between early-abort checks (see the module docstring)
ABORT_PATIENCE = 3  # checks in a row without progress after which an example stops (see the module docstring)


@dataclass(frozen=True)
class CWSettings:
    """Settings of ``cw_l2``.

    ``abort_early`` lets an example leave a search step after ABORT_PATIENCE checks (every
    ``check_every`` steps) without progress: neither its lowest loss fell by ABORT_TOLERANCE (relative)
    nor its best successful L2 shrank. Per image this stays within a hair of ``abort_early=False``
    (shipped LeNet5s, 500 test images, ``CWSettings(100, search_steps=5, initial_const=0.1)``: median
    L2 equal, at most 1.8 % of the images more than 1 % farther, against 32 % with the former rule that
    dropped an example at its first stalled check), whatever the batch, unlike Carlini & Wagner 2017's
    abort on the whole batch's loss; see the module docstring for the figures.
    """

    steps: int = 100  # Adam iterations per search step
    confidence: float = 0.0  # kappa: required logit margin of a success
    search_steps: int = 9  # binary-search steps over c
    initial_const: float = 1e-3  # first c of every example
    lr: float = 0.05  # Adam step size on w (see the comment above CWSettings)
    abort_early: bool = True  # drop examples that stopped progressing (see the class docstring)

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
        """Iterations between early-abort checks: a tenth of the run, as in the paper's code, but at least
        MIN_CHECK_EVERY."""
        return max(self.steps // 10, MIN_CHECK_EVERY)


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

    rows: [M] their indices in the search step's batch; x, w, m, v: [M, C, H, W]; labels: [M];
    const: [M]; for the early abort, all [M]: lowest, the lowest loss reached so far; lowest_then and
    best_then, the lowest loss and the best successful L2 (inf where none) at the previous check;
    stalls, the number of checks in a row without progress.
    """

    rows: torch.Tensor
    x: torch.Tensor
    w: torch.Tensor
    m: torch.Tensor
    v: torch.Tensor
    labels: torch.Tensor
    const: torch.Tensor
    lowest: torch.Tensor
    lowest_then: torch.Tensor
    best_then: torch.Tensor
    stalls: torch.Tensor

    @classmethod
    def start(cls, x: torch.Tensor, labels: torch.Tensor, const: torch.Tensor) -> _Run:
        rows = torch.arange(len(x), device=x.device)
        zeros = torch.zeros_like(x)
        inf = torch.full((len(x),), math.inf, device=x.device)
        return cls(rows, x, to_tanh_space(x), zeros, zeros.clone(), labels, const, inf, inf.clone(), inf.clone(),
                   torch.zeros_like(rows))

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


def _drop_stalled(run: _Run, best_l2: torch.Tensor) -> _Run:
    """Early abort at a check: the run without the examples that made no progress at ABORT_PATIENCE checks in a row.

    An example progressed when its lowest loss fell by ABORT_TOLERANCE (relative) since the previous check or its
    best successful L2 ``best_l2`` [M] (inf where none) shrank.
    """
    progressed = (run.lowest < run.lowest_then - ABORT_TOLERANCE * run.lowest.abs()) | (best_l2 < run.best_then)
    run.stalls = torch.where(progressed, 0, run.stalls + 1)
    run.lowest_then, run.best_then = run.lowest, best_l2
    return run.keep(run.stalls < ABORT_PATIENCE)


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
        run.lowest = torch.minimum(run.lowest, loss.detach())
        if settings.abort_early and step % settings.check_every == 0:
            run = _drop_stalled(run, best_l2[run.rows])
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
