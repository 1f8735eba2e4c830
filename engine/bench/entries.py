"""The bench table: which attacks run, in which norms and settings, against which peers' counterparts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from engine.attacks.registry import ATTACKS
from engine.bench import art_references as art
from engine.bench import foolbox_references as foolbox
from engine.bench import references as torchattacks
from engine.bench.peers import Reference
from engine.config.schema import AttackConfig

RADII = {"Linf": 0.1, "L2": 1.5, "L1": 10.0}  # Fashion-MNIST radii that break most of a standard LeNet5


def steps_times_restarts(cfg: AttackConfig) -> float:
    """Forward+backward passes of FGSM (1) and PGD (steps per restart)."""
    return float(cfg.steps * cfg.restarts)


def apgd_passes(cfg: AttackConfig) -> float:
    """APGD takes one gradient at its random start and one per step, per restart."""
    return float((cfg.steps + 1) * cfg.restarts)


@dataclass(frozen=True)
class BenchEntry:
    """One attack of the bench, in one or more norms."""

    name: str  # attack registry name
    norms: tuple[str, ...] = ()  # () = every norm the registry offers that RADII covers
    steps: int = 1
    random_start: bool = False
    options: dict[str, float] = field(default_factory=dict)
    references: dict[str, tuple[Reference, ...]] = field(default_factory=dict)  # by norm: the peers' counterparts
    passes: Callable[[AttackConfig], float] | None = None  # forward+backward passes of one run
    counted_passes: bool = False  # the passes are the gradient forwards counted in the warm-up run

    def run_passes(self, cfg: AttackConfig, counted: int) -> float | None:
        """Forward+backward passes of one run that made ``counted`` gradient forwards; None: no limit quoted."""
        if self.counted_passes:
            return float(counted)
        return None if self.passes is None else self.passes(cfg)


PGD_REFERENCES = {"Linf": (torchattacks.PGD, foolbox.PGD, art.PGD), "L2": (torchattacks.PGDL2, foolbox.PGD, art.PGD),
                  "L1": (foolbox.PGD_L1, art.PGD_L1)}

BENCH: tuple[BenchEntry, ...] = (
    BenchEntry("fgsm", passes=steps_times_restarts,
               references={"Linf": (torchattacks.FGSM, foolbox.FGM, art.FGM), "L2": (foolbox.FGM, art.FGM),
                           "L1": (foolbox.FGM_L1, art.FGM_L1)}),
    BenchEntry("pgd", steps=10, random_start=True, passes=steps_times_restarts, references=PGD_REFERENCES),
    BenchEntry("pgd", ("L2",), steps=20, random_start=True, passes=steps_times_restarts, references=PGD_REFERENCES),
    # Park & So's confidence 5, at the engine's default Adam step (lr 0.05) for every implementation.
    # C&W's passes are the Adam iterations actually run (early abort shrinks the batch).
    BenchEntry("cw", ("L2",), steps=100, options={"confidence": 5.0}, counted_passes=True,
               references={"L2": (torchattacks.CW, foolbox.CW, art.CW)}),
    BenchEntry("deepfool", ("L2",), steps=50,
               references={"L2": (torchattacks.DEEPFOOL, foolbox.DEEPFOOL, art.DEEPFOOL)}),
    # 100 steps, not the registry's 300, to keep the bench short; one gradient per step.
    BenchEntry("ddn", ("L2",), steps=100, passes=steps_times_restarts,
               references={"L2": (foolbox.DDN, foolbox.DDN_1000)}),
    BenchEntry("jsma", ("L0",), options={"theta": 1.0, "gamma": 0.1},
               references={"L0": (torchattacks.JSMA, art.JSMA)}),
    BenchEntry("apgd", ("Linf", "L2"), steps=10, passes=apgd_passes,
               references={"Linf": (torchattacks.APGD, art.APGD), "L2": (torchattacks.APGD, art.APGD)}),
    BenchEntry("autoattack", ("Linf", "L2"),
               references={"Linf": (torchattacks.AUTOATTACK,), "L2": (torchattacks.AUTOATTACK,)}),
    BenchEntry("noise", options={"draws": 10.0}),
)


@dataclass(frozen=True)
class BenchSetting:
    """One row of the bench: an entry in one norm, as the attack config it runs."""

    entry: BenchEntry
    config: AttackConfig

    @property
    def references(self) -> tuple[Reference, ...]:
        """The peers' counterparts of this setting, in the entry's order."""
        return self.entry.references.get(self.config.norm, ())


def _setting(entry: BenchEntry, norm: str) -> BenchSetting | str:
    """The setting of ``entry`` in ``norm``, or why there is none."""
    spec = ATTACKS[entry.name]
    if norm not in spec.norms:
        return f"{entry.name} {norm}: the registry does not offer this norm, skipped"
    if not spec.minimal and norm not in RADII:
        return f"{entry.name} {norm}: no bench radius for this norm, skipped"
    eps = float("inf") if spec.minimal else RADII[norm]
    cfg = AttackConfig(entry.name, norm, eps, steps=entry.steps, random_start=entry.random_start,
                       options=dict(entry.options))
    return BenchSetting(entry, cfg)


def expand(entries: tuple[BenchEntry, ...], names: tuple[str, ...]) -> tuple[list[BenchSetting], list[str]]:
    """The settings of the entries named in ``names`` (all when empty) and notes on what was skipped."""
    settings: list[BenchSetting] = []
    notes: list[str] = []
    for entry in (e for e in entries if not names or e.name in names):
        if entry.name not in ATTACKS:
            notes.append(f"{entry.name}: not registered, skipped")
            continue
        norms = entry.norms or tuple(n for n in ATTACKS[entry.name].norms if n in RADII)
        for result in (_setting(entry, norm) for norm in norms):
            if isinstance(result, BenchSetting):
                settings.append(result)
            else:
                notes.append(result)
    return settings, notes
