"""Study configuration: frozen, typed dataclasses, pure data (this package imports nothing else of
the engine); ``validate`` methods check what needs no registry.

Every error names the offending field by its dotted path (``models[1].training.eps``) so that a
bad config stops the run before a single model is trained.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

TRAINING_MODES = ("standard", "pgd", "fast", "robust_dataset", "pregenerated")
ROBUST_INITS = ("image", "noise")
ROBUST_SCHEDULES = ("constant", "cosine")  # the robust-dataset step length over its steps
OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("constant", "cosine", "step")
# Bounds on sizes, so that a typo (epochs = 1e12) is refused when the config loads, not after days.
MAX_EPOCHS = 10_000
MAX_STEPS = 100_000  # attack iterations, and PGD or robust-dataset steps of training
MAX_BATCH = 65_536
MAX_SEED = 2**63 - 1


class ConfigError(ValueError):
    """A config value is missing, unknown or out of range; the message names the field."""


def require(condition: bool, path: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{path}: {message}")


@dataclass(frozen=True)
class DataConfig:
    dataset: str = "fashion_mnist"  # mnist | fashion_mnist | cifar10 | cinic10 (an ImageFolder under the data root)
    train_subset: int = 0  # first N training images; 0 = the full training set
    root: str = ""  # data root; "" = --data-root, $ATLAS_DATA_ROOT or the user cache dir

    def validate(self, path: str) -> None:
        require(self.train_subset >= 0, f"{path}.train_subset", "must be >= 0")


@dataclass(frozen=True)
class TrainingConfig:
    mode: str = "standard"  # standard | pgd (Madry et al. 2018) | fast (FGSM-RS, Wong et al. 2020)
    epochs: int = 10  # passes over the training set
    batch_size: int = 128  # images per optimiser step
    optimizer: str = "adam"  # sgd | adam
    lr: float = 1e-3  # peak learning rate
    momentum: float = 0.9  # SGD momentum (ignored by adam)
    weight_decay: float = 0.0  # L2 penalty on the weights
    schedule: str = "constant"  # constant | cosine (per step, to zero) | step (x 0.1 after each third)
    augment: bool = False  # Park & So's rotation ±20°, shift <= 6 px, erasing <= 30 %, on clean images
    norm: str = ""  # pgd/fast: threat model, Linf | L2 | L1
    eps: float = 0.0  # pgd/fast: training radius in pixel space
    steps: int = 0  # pgd: attack steps per training batch
    alpha: float = 0.0  # pgd/fast: absolute step; 0 = 2.5 * eps / steps (pgd), 1.25 * eps (fast)
    guard_samples: int = 1000  # fast: training images held out to detect catastrophic overfitting
    source: str = ""  # robust_dataset: model whose features are matched; pregenerated: model attacked
    train_attacks: tuple[str, ...] = ()  # pregenerated: names of [pregenerated] attacks whose examples are added
    robust_steps: int = 100  # robust_dataset: normalised L2 gradient steps per constructed image
    robust_alpha: float = 0.1  # robust_dataset: L2 length of each step in pixel space
    robust_init: str = "image"  # robust_dataset: start from another training image, or from uniform noise
    robust_schedule: str = "constant"  # robust_dataset: step length constant, or cosine-decayed to 0 over the steps
    robust_samples: int = 0  # robust_dataset: training images reconstructed; 0 = all
    seed: int = 0  # seed of initialisation, shuffling, augmentation and random starts
    samples: int = 0  # first N images of the study's training set this model learns from; 0 = all

    def validate(self, path: str) -> None:
        require(self.mode in TRAINING_MODES, f"{path}.mode", f"one of {TRAINING_MODES}, got {self.mode!r}")
        require(1 <= self.epochs <= MAX_EPOCHS, f"{path}.epochs", f"must be in [1, {MAX_EPOCHS}], got {self.epochs}")
        require(self.samples >= 0, f"{path}.samples", "must be >= 0")
        require(1 <= self.batch_size <= MAX_BATCH, f"{path}.batch_size",
                f"must be in [1, {MAX_BATCH}], got {self.batch_size}")
        require(self.optimizer in OPTIMIZERS, f"{path}.optimizer", f"one of {OPTIMIZERS}")
        require(self.schedule in SCHEDULES, f"{path}.schedule", f"one of {SCHEDULES}")
        require(math.isfinite(self.lr) and self.lr > 0, f"{path}.lr", f"must be a finite number > 0, got {self.lr}")
        require(math.isfinite(self.momentum) and 0 <= self.momentum < 1, f"{path}.momentum",
                f"must be a finite number in [0, 1), got {self.momentum}")
        require(math.isfinite(self.weight_decay) and self.weight_decay >= 0, f"{path}.weight_decay",
                f"must be a finite number >= 0, got {self.weight_decay}")
        require(0 <= self.seed <= MAX_SEED, f"{path}.seed", f"must be in [0, 2**63 - 1], got {self.seed}")
        if self.adversarial:
            self._validate_threat(path)
        require(self.mode not in ("robust_dataset", "pregenerated") or bool(self.source), f"{path}.source",
                 f"{self.mode} training needs a source model id")
        require((self.mode == "pregenerated") == bool(self.train_attacks), f"{path}.train_attacks",
                 "pregenerated training needs train_attacks, other modes take none")
        if self.mode == "robust_dataset":
            require(1 <= self.robust_steps <= MAX_STEPS, f"{path}.robust_steps",
                    f"must be in [1, {MAX_STEPS}], got {self.robust_steps}")
            require(math.isfinite(self.robust_alpha) and self.robust_alpha > 0, f"{path}.robust_alpha",
                    f"must be a finite number > 0, got {self.robust_alpha}")
            require(self.robust_init in ROBUST_INITS, f"{path}.robust_init", f"one of {ROBUST_INITS}")
            require(self.robust_schedule in ROBUST_SCHEDULES, f"{path}.robust_schedule", f"one of {ROBUST_SCHEDULES}")
            require(self.robust_samples >= 0, f"{path}.robust_samples", "must be >= 0")

    def _validate_threat(self, path: str) -> None:
        """The structural part; the norm is checked against the attack steps in ``engine.study.validate``."""
        mode = self.mode
        require(bool(self.norm), f"{path}.norm", f"{mode} training needs a threat model, e.g. norm = \"Linf\"")
        require(math.isfinite(self.eps) and self.eps > 0, f"{path}.eps", f"{mode} training needs a finite eps > 0")
        require(self.norm != "Linf" or self.eps <= 1, f"{path}.eps",
                f"Linf eps is in pixel units of [0, 1], got {self.eps} > 1")
        require(mode != "pgd" or 1 <= self.steps <= MAX_STEPS, f"{path}.steps",
                f"pgd training needs steps in [1, {MAX_STEPS}], got {self.steps}")
        require(math.isfinite(self.alpha) and self.alpha >= 0, f"{path}.alpha",
                f"must be a finite number >= 0, got {self.alpha}")
        require(mode != "fast" or self.guard_samples >= 1, f"{path}.guard_samples", "fast training needs >= 1")

    @property
    def adversarial(self) -> bool:
        return self.mode in ("pgd", "fast")


@dataclass(frozen=True)
class ModelConfig:
    id: str  # unique model id, used in every results table
    arch: str  # registry name (lenet5 | resnet18 | resnet_small | resnet50 | inception_v3) or "package.module:factory"
    training: TrainingConfig = field(default_factory=TrainingConfig)
    checkpoint: str = ""  # safetensors weights to import, not train (relative to the config file; no [training])

    def validate(self, path: str) -> None:
        require(bool(self.id) and self.id.replace("_", "").replace("-", "").isalnum(), f"{path}.id",
                 f"letters, digits, '-' and '_' only, got {self.id!r}")
        self.training.validate(f"{path}.training")
        require(bool(self.checkpoint) or ":" not in self.arch, f"{path}.checkpoint",
                f"an external architecture ({self.arch!r}) is not trained by the engine: give its weights")
        require(not self.checkpoint or self.training == TrainingConfig(), f"{path}.training",
                "a model with a checkpoint is imported, not trained: remove its [training] table")


@dataclass(frozen=True)
class AttackConfig:
    """One attack at one radius: what ``engine.attacks.make_attack`` builds."""

    name: str  # attack registry name, e.g. fgsm | pgd
    norm: str  # threat model: Linf | L2 | L1 | L0
    eps: float  # radius in pixel space; inf = unbounded, for minimal-perturbation attacks
    steps: int = 0  # iterations; 0 = the attack's default (fgsm 1, pgd 10, deepfool 50, cw 100 per search step)
    alpha: float = 0.0  # absolute step; 0 = the attack's default (fgsm: eps, pgd: 2.5 * eps / steps)
    random_start: bool = False  # start from a uniform point of the eps-ball
    restarts: int = 1  # random restarts; the worst case per example is kept
    options: dict[str, float] = field(default_factory=dict)  # attack-specific settings, e.g. confidence


@dataclass(frozen=True)
class AttackSweep(AttackConfig):
    """An attack over a list of radii: one result row per eps."""

    eps: tuple[float, ...] = ()  # type: ignore[assignment]
    source: str = ""  # transfer (black-box) attack: crafted on this model id, judged on every other model
    dataset: str = ""  # test set attacked: "" = the study's; another with its label space, e.g. cinic10 for cifar10
    models: tuple[str, ...] = ()  # ids of the models attacked; empty = every model (a transfer skips its source)
    samples: int = 0  # first N test images attacked; 0 = [evaluation] samples

    def validate(self, path: str) -> None:
        """The structural part; the attack's own settings are checked by ``engine.attacks.registry``."""
        require(self.samples >= 0, f"{path}.samples", "must be >= 0")

    def attacks(self, model_id: str) -> bool:
        """Whether this sweep runs on model ``model_id``."""
        return model_id != self.source and (not self.models or model_id in self._attacked)

    @functools.cached_property
    def _attacked(self) -> frozenset[str]:
        return frozenset(self.models)

    def at(self, eps: float) -> AttackConfig:
        """The single attack of this sweep at radius ``eps``."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(AttackConfig)}  # not source, dataset
        return AttackConfig(**{**fields, "eps": eps})


@dataclass(frozen=True)
class EvaluationConfig:
    samples: int = 10000  # first N test images attacked; 0 = the whole test set
    batch_size: int = 500  # images per attack batch

    def validate(self, path: str) -> None:
        require(self.samples >= 0, f"{path}.samples", "must be >= 0")
        require(self.batch_size >= 1, f"{path}.batch_size", "must be >= 1")


def _park_and_so_attacks() -> tuple[AttackConfig, ...]:
    """Park & So 2020's training-set attacks: FGSM Linf 0.2, JSMA theta 1 gamma 0.2, C&W-L2 kappa 5."""
    return (AttackConfig("fgsm", "Linf", 0.2),
            AttackConfig("jsma", "L0", math.inf, options={"theta": 1.0, "gamma": 0.2}),
            AttackConfig("cw", "L2", math.inf, steps=100, options={"confidence": 5.0}))


@dataclass(frozen=True)
class PregeneratedConfig:
    """Adversarial training sets crafted once per source model and reused by every combination."""

    samples: int = 0  # training images attacked per set; 0 = the whole training set
    attacks: tuple[AttackConfig, ...] = field(default_factory=_park_and_so_attacks)  # by name

    def validate(self, path: str) -> None:
        require(self.samples >= 0, f"{path}.samples", "must be >= 0")
        names = [attack.name for attack in self.attacks]
        require(len(set(names)) == len(names), f"{path}.attacks", f"names must be unique, got {names}")

    def attack(self, name: str) -> AttackConfig:
        return next(attack for attack in self.attacks if attack.name == name)


@dataclass(frozen=True)
class EpochEvaluation:
    """Adversarial test sets measured after every training epoch (Park & So's figures 3 and 4)."""

    samples: int = 1000  # first N test images of each per-epoch test set
    attacks: tuple[AttackSweep, ...] = ()  # one test set per eps; with a source, crafted once on it

    def validate(self, path: str, ids: list[str]) -> None:
        require(self.samples >= 0, f"{path}.samples", "must be >= 0")
        for i, sweep in enumerate(self.attacks):
            sweep.validate(f"{path}.attacks[{i}]")
            require(not sweep.source or sweep.source in ids, f"{path}.attacks[{i}].source",
                     f"names no model of this study: {sweep.source!r}")


@dataclass(frozen=True)
class AnalysisConfig:
    """Garaev et al. 2024's analyses, run on every model: per-sample losses and A-distance, norm
    ratios, SVCCA and PCA for each analysed sweep at each eps > 0; distance to the boundary."""

    samples: int = 2000  # first N test images analysed; 0 = no analyses
    batch_size: int = 500  # images per forward pass and per attack batch
    sweeps: tuple[str, ...] = ()  # keys of white-box [[attacks]] sweeps analysed (run --dry-run); empty = all
    layers: tuple[str, ...] = ()  # SVCCA layers by the architecture registry's names; empty = all of each model's
    svcca_points: int = 20000  # datapoints (image x position) kept per convolutional layer
    pca_samples: int = 1000  # first N analysed samples written to the pca table
    boundary_steps: int = 50  # DeepFool iterations for the distance to the decision boundary

    def validate(self, path: str) -> None:
        """The structural part; sweep keys and layer names are checked in ``engine.study.validate``."""
        for name in ("samples", "pca_samples"):
            require(getattr(self, name) >= 0, f"{path}.{name}", "must be >= 0")
        for name in ("batch_size", "svcca_points", "boundary_steps"):
            require(getattr(self, name) >= 1, f"{path}.{name}", "must be >= 1")


@dataclass(frozen=True)
class FindingsConfig:
    """Which models play the roles the papers' findings compare (``engine.reporting.findings``)."""

    roles: dict[str, str] = field(default_factory=dict)  # role -> model id, e.g. undefended = "standard"

    def validate(self, path: str, ids: list[str]) -> None:
        known = set(ids)
        unknown = sorted({model for model in self.roles.values() if model not in known})
        require(not unknown, f"{path}.roles", f"{unknown} are not models of this study")


@dataclass(frozen=True)
class StudyConfig:
    name: str  # study name, shown in the app
    models: tuple[ModelConfig, ...]  # models to train
    attacks: tuple[AttackSweep, ...] = ()  # attacks run on every model after training
    data: DataConfig = field(default_factory=DataConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    epoch_evaluation: EpochEvaluation = field(default_factory=EpochEvaluation)
    pregenerated: PregeneratedConfig = field(default_factory=PregeneratedConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    findings: FindingsConfig = field(default_factory=FindingsConfig)

    def validate(self) -> None:
        """Checks that need no registry: ranges, references between models, cycles. The registries'
        checks (architectures, attacks, datasets, layers) are ``engine.study.validate``'s."""
        require(bool(self.name), "name", "must not be empty")
        require(len(self.models) > 0, "models", "needs at least one model")
        self.data.validate("data")
        self.evaluation.validate("evaluation")
        for i, model in enumerate(self.models):
            model.validate(f"models[{i}]")
        ids = [m.id for m in self.models]
        duplicates = sorted(model_id for model_id, count in Counter(ids).items() if count > 1)
        require(not duplicates, "models", f"duplicate ids {duplicates}")
        known = set(ids)
        for i, sweep in enumerate(self.attacks):
            sweep.validate(f"attacks[{i}]")
        for i, sweep in enumerate(self.attacks):
            require(not sweep.source or sweep.source in known, f"attacks[{i}].source",
                     f"names no model of this study: {sweep.source!r}")
            unknown = sorted(set(sweep.models) - known)
            require(not unknown, f"attacks[{i}].models", f"{unknown} are not models of this study")
        self.epoch_evaluation.validate("epoch_evaluation", ids)
        self.pregenerated.validate("pregenerated")
        names = {attack.name for attack in self.pregenerated.attacks}
        for i, model in enumerate(self.models):
            unknown = sorted(set(model.training.train_attacks) - names)
            require(not unknown, f"models[{i}].training.train_attacks",
                     f"{unknown} are not [pregenerated] attacks {sorted(names)}")
        for i, model in enumerate(self.models):
            source = model.training.source
            require(not source or source in known, f"models[{i}].training.source",
                     f"names no model of this study: {source!r}")
            require(source != model.id, f"models[{i}].training.source",
                    f"a model cannot be its own source: {source!r}")
        self.training_order()
        self.analysis.validate("analysis")
        self.findings.validate("findings", ids)

    @property
    def epoch_sources(self) -> set[str]:
        """Models on which per-epoch transfer test sets are crafted (they get none themselves)."""
        return {sweep.source for sweep in self.epoch_evaluation.attacks} - {""}

    def dependencies(self, model: ModelConfig) -> set[str]:
        """Ids of the models that must be trained before ``model`` (none for an imported one)."""
        if model.checkpoint:
            return set()
        transfer = set() if model.id in self.epoch_sources else self.epoch_sources
        return (transfer | {model.training.source}) - {"", model.id}

    def training_order(self) -> list[ModelConfig]:
        """The models, each after the models it depends on; ``ConfigError`` on a cycle. Each round
        takes every model whose sources are trained: linear in the models for each level of sources."""
        ordered: list[ModelConfig] = []
        done: set[str] = set()
        pending = list(self.models)
        while pending:
            ready = [m for m in pending if self.dependencies(m) <= done]
            require(bool(ready), "models", f"circular sources among {[m.id for m in pending]}")
            ordered += ready
            done |= {m.id for m in ready}
            pending = [m for m in pending if m.id not in done]
        return ordered

    @functools.cached_property
    def _by_id(self) -> dict[str, ModelConfig]:
        return {m.id: m for m in self.models}

    def model(self, model_id: str) -> ModelConfig:
        """The model with id ``model_id`` (``KeyError`` if none)."""
        return self._by_id[model_id]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
