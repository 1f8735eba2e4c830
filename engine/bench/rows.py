"""One row of the bench: our attack and every peer's counterpart on the same model and images, timed
interleaved and judged by the engine."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from torch import nn

from engine.attacks.registry import ATTACKS, make_attack
from engine.bench import peers
from engine.bench.entries import BenchSetting
from engine.bench.measure import Contestant, Measurement, efficiency, measure_together
from engine.bench.peers import Reference
from engine.config.schema import AttackConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeerResult:
    peer: str  # torchattacks, foolbox or art
    measurement: Measurement | None  # None: the peer is not installed
    efficiency: float | None  # quoted only for a run timed on the full batch
    ours_over_peer: float | None  # our images/s over the peer's
    note: str = ""  # how the peer's algorithm differs, a subset it ran on, or why it did not run
    same_work: bool = True  # runs as many iterations as ours may: only then can it be the fastest peer
    variant: str = ""  # tells two references of one peer apart ("1,000 steps")

    @property
    def name(self) -> str:
        """The peer, with its variant when it has one: "foolbox (1,000 steps)"."""
        return f"{self.peer} ({self.variant})" if self.variant else self.peer


@dataclass(frozen=True)
class BenchRow:
    attack: str
    norm: str
    eps: float | None  # None: unbounded (a minimal-perturbation attack)
    steps: int
    options: dict[str, float]
    ours: Measurement
    passes: float | None  # forward+backward passes of our run; None: no limit quoted
    limit_images_per_second: float | None  # N / (passes * forward+backward time at N)
    efficiency: float | None  # limit time / our time
    forward_backward_seconds: float  # one input-gradient forward+backward at N, measured just before
    peers: list[PeerResult]  # in the bench entry's order; empty: no peer has the attack
    fastest_peer: str | None  # the measured peer doing our work (same_work) with the most images/s
    ours_over_fastest: float | None  # our images/s over the fastest peer's


def _subset_note(fooled: torch.Tensor | None, theirs: Measurement, total: int) -> str:
    """Where a peer ran on fewer images: how many, and our success on those (fooled: bool [total])."""
    if theirs.images == total or fooled is None:
        return ""
    n = theirs.images
    return f"timed and judged on the first {n} images (ours there: {fooled[:n].float().mean():.1%})"


def _eps(cfg: AttackConfig) -> float | None:
    """The radius, or None for a minimal-perturbation attack (unbounded)."""
    return None if ATTACKS[cfg.name].minimal else cfg.eps


def _peer_result(setting: BenchSetting, reference: Reference, theirs: Measurement, ours: Measurement,
                 fooled: torch.Tensor | None, total: int, fb_seconds: float) -> PeerResult:
    """A measured peer: its efficiency on the full batch of ``total`` images, our speed over its, its notes."""
    full = theirs.images == total
    passes = setting.entry.run_passes(setting.config, theirs.gradient_forwards)
    notes = [note for note in (reference.note, _subset_note(fooled, theirs, total), theirs.note) if note]
    return PeerResult(reference.peer, theirs, efficiency(passes, fb_seconds, theirs) if full else None,
                      ours.images_per_second / theirs.images_per_second, "; ".join(notes), reference.same_work,
                      reference.variant)


def _fastest(results: list[PeerResult]) -> PeerResult | None:
    """The measured peer doing our work with the most images/s (the lowest ours / peer ratio), or None."""
    ratios = [(r.ours_over_peer, r) for r in results if r.ours_over_peer is not None and r.same_work]
    return min(ratios, key=lambda pair: pair[0])[1] if ratios else None


def bench_setting(setting: BenchSetting, model: nn.Module, x: torch.Tensor, y: torch.Tensor, repeats: int,
                  subset: int) -> BenchRow:
    """Our attack and every installed peer's on x [N, C, H, W], y [N], timed interleaved and judged.

    A peer marked ``subset`` runs on the first ``subset`` images. The forward+backward time is timed in
    the same rounds, so that a drifting load on a shared machine moves the limit and the attacks together.
    """
    cfg = setting.config
    log.info("bench %s %s %d steps", cfg.name, cfg.norm, cfg.steps)
    missing = {r.peer: peers.missing(r.peer) for r in setting.references}
    present = [r for r in setting.references if not missing[r.peer]]
    contestants = [Contestant(make_attack(model, cfg, torch.Generator().manual_seed(0)), len(x))]
    contestants += [Contestant(r.build(model, cfg, torch.Generator().manual_seed(0)),
                               min(subset, len(x)) if r.subset else len(x)) for r in present]
    [(ours, fooled), *theirs], fb_seconds = measure_together(contestants, model, x, y, cfg, repeats)
    measured = {id(r): m for r, (m, _) in zip(present, theirs, strict=True)}  # one peer may have two references
    results = [_peer_result(setting, r, measured[id(r)], ours, fooled, len(x), fb_seconds) if id(r) in measured
               else PeerResult(r.peer, None, None, None, missing[r.peer], r.same_work, r.variant)
               for r in setting.references]
    passes = setting.entry.run_passes(cfg, ours.gradient_forwards)
    fastest = _fastest(results)
    return BenchRow(cfg.name, cfg.norm, _eps(cfg), cfg.steps, cfg.options, ours, passes,
                    None if passes is None else len(x) / (passes * fb_seconds), efficiency(passes, fb_seconds, ours),
                    fb_seconds, results, None if fastest is None else fastest.name,
                    None if fastest is None else fastest.ours_over_peer)
