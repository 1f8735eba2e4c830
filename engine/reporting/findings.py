"""Findings compared with the papers: each claim of Garaev et al. 2024 and Park & So 2020 that the
shipped study reproduces, tested on a study directory's files. ``docs/findings.md`` (and the README's
verdict table) is ``findings_markdown`` of ``precomputed/fashion_mnist``, written by ``make docs`` and
kept equal by a test, so every number and verdict there is computed from the shipped parquet files.

Which model plays which part in a claim (the undefended model, the PGD-trained ones, the attacker's
surrogates, ...) is the study config's ``[findings.roles]`` table, read from the study's manifest.
Park & So's pre-generated models are found in the models table by their training attacks and
augmentation. A claim whose roles or results the study lacks gets "not in this study" instead of a
verdict.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from engine.analysis.boundary import boundary_summary
from engine.config.schema import EpochEvaluation
from engine.core.fs import read_json
from engine.evaluation.intervals import interval_text
from engine.reporting.markdown import table
from engine.reporting.papers import PARK_SO_EXAMPLES, PARK_SO_SECONDS
from engine.reporting.robust_datasets import robust_dataset_summary
from engine.results import read_table
from engine.results.io import require_study

GARAEV, PARK_SO = "Garaev et al. 2024", "Park & So 2020"
PGD = {"Linf": 0.1, "L2": 1.0, "L1": 10.0}  # reference radius per norm: the training eps of the PGD models
PARK_SO_SETS = (("fgsm", "Linf", 0.2), ("jsma", "L0", math.inf), ("cw", "L2", math.inf))  # their three test sets
PARK_SO_ATTACKS = tuple(name for name, *_ in PARK_SO_SETS)
COMBINATIONS = tuple(combination for size in range(1, len(PARK_SO_ATTACKS) + 1)
                     for combination in itertools.combinations(PARK_SO_ATTACKS, size))  # their seven

# A gain in robust accuracy below 5 points is no protection: it is barely twice the largest binomial
# standard error (2.2 points) of an accuracy measured on the 500 test images the shipped study attacks.
NO_PROTECTION = 0.05
# Park & So's pre-generated training "fails" against white-box attacks when its models keep less
# than half the white-box PGD-Linf accuracy of a model adversarially trained with PGD-Linf itself.
WHITE_BOX_SHARE = 0.5

# the tables read besides robust_accuracy and models (robust_datasets: how well robust datasets converged)
ANALYSIS_TABLES = ("boundary", "norm_ratios", "a_distance", "svcca", "pca", "training_curves", "robust_datasets")


@dataclass(frozen=True)
class Finding:
    paper: str
    item: str  # what of the paper is reproduced (a table's or figure's content)
    view: str  # where the app shows ours
    claim: str  # the paper's claim or numbers
    ours: str  # our numbers, in words
    agrees: bool | None  # None: not reproduced by this study
    table: str = ""  # our numbers as a Markdown table


class MissingResult(LookupError):
    """A role, model or result a finding needs is not in the study."""


@dataclass(frozen=True)
class Study:
    """A study's tables, with lookups by model, attack and eps, and the models its config casts in
    the findings' roles. The lookups index the tables once, so the tables are never changed in place:
    a changed study is a copy (``dataclasses.replace``)."""

    accuracy: pd.DataFrame  # robust_accuracy
    models: pd.DataFrame  # models, indexed by model_id
    tables: dict[str, pd.DataFrame]  # the ANALYSIS_TABLES
    roles: dict[str, str] = field(default_factory=dict)  # role -> model id: the config's [findings.roles]
    device: str = ""  # where the study ran, as its manifest records it
    epoch_samples: int = 0  # test images of each per-epoch attack set (the config's epoch_evaluation.samples)

    @classmethod
    def read(cls, path: str | Path) -> Study:
        path = require_study(path)
        manifest = read_json(path / "manifest.json")
        config = manifest.get("config", {})
        return cls(read_table(path, "robust_accuracy"), read_table(path, "models").set_index("model_id"),
                   {name: read_table(path, name) for name in ANALYSIS_TABLES}, dict(config.get("findings", {}).get(
                       "roles", {})), str(manifest.get("device") or ""),
                   int(config.get("epoch_evaluation", {}).get("samples", EpochEvaluation.samples)))

    def model(self, role: str) -> str:
        """The id of the model playing ``role``; ``MissingResult`` when the config casts none or the
        study has no such model."""
        if role not in self.roles:
            raise MissingResult(f"role {role}")
        if self.roles[role] not in self.models.index:
            raise MissingResult(self.roles[role])
        return self.roles[role]

    def models_for(self, *roles: str) -> list[str]:
        """The ids of the models playing ``roles``, each as ``model`` finds it."""
        return [self.model(role) for role in roles]

    def present(self, roles: Sequence[str]) -> list[str]:
        """The ids of the models playing those of ``roles`` that the study has, in order."""
        return [self.roles[role] for role in roles if self.roles.get(role) in self.models.index]

    def convergence(self, model: str) -> str:
        """How closely ``model``'s robust dataset matched its targets' features, as a sentence after a space (""
        when the study has not measured it)."""
        summary = robust_dataset_summary(self.tables.get("robust_datasets", pd.DataFrame()))
        row = summary[summary.model_id == model]
        if row.empty:
            return ""
        found = row.iloc[0]
        return (f" The {found.images:,} images re-drawn for {model} end at a median {found.median_relative:.3f} of "
                f"||g(x)|| from their targets' features (90th percentile {found.p90_relative:.3f}; the searches "
                f"started at {found.median_start_relative:.2f}), and {found.source_model_id} gives "
                f"{found.source_agrees:.0%} of them their label.")

    @cached_property
    def _pregenerated(self) -> dict[tuple[frozenset[str], bool], list[str]]:
        """The pre-generated models by (their training attacks, whether augmented), in the models table's order."""
        found: dict[tuple[frozenset[str], bool], list[str]] = {}
        rows = self.models[self.models.training_mode == "pregenerated"]
        for model, attacks, augment in zip(rows.index, rows.train_attacks, rows.augment, strict=True):
            found.setdefault((frozenset(str(attacks).split("+")), bool(augment)), []).append(str(model))
        return found

    def pregenerated(self, attacks: Sequence[str], augment: bool) -> str:
        """The one model trained on Park & So's pre-generated examples of exactly ``attacks``, with or
        without their augmentation; ``MissingResult`` when the study has none or several."""
        found = self._pregenerated.get((frozenset(attacks), augment), [])
        if len(found) != 1:
            raise MissingResult(f"one model pre-generated-trained on {'+'.join(attacks)} "
                                f"{'with' if augment else 'without'} augmentation, found {len(found)}")
        return found[0]

    @cached_property
    def _cells(self) -> dict[tuple[str, str, str, float, str | None], tuple[float, int]]:
        """Each accuracy row as (model, attack, norm, eps to 6 decimals, source or None) -> (accuracy, images);
        of rows with the same key the first wins. Built once: the counterparts look up hundreds of cells."""
        cells: dict[tuple[str, str, str, float, str | None], tuple[float, int]] = {}
        columns = ("model_id", "attack", "norm", "eps", "source_model_id", "accuracy", "n")
        for model, attack, norm, eps, source, value, n in self.accuracy[list(columns)].itertuples(index=False):
            key = (str(model), str(attack), str(norm), _eps_key(eps), None if pd.isna(source) else str(source))
            cells.setdefault(key, (float(value), int(n)))
        return cells

    def measured(self, model: str, attack: str, norm: str, eps: float,
                 source: str | None = None) -> tuple[float, int]:
        """Accuracy of ``model`` under one attack at one eps (white-box, or crafted on ``source``) and the
        number of images it was judged on; ``MissingResult`` when the study has no such row."""
        found = self._cells.get((model, attack, norm, _eps_key(eps), source or None))
        if found is None:
            raise MissingResult(f"{attack} {norm} eps {eps:g} on {model}" + (f" from {source}" if source else ""))
        return found

    def accuracy_of(self, model: str, attack: str, norm: str, eps: float, source: str | None = None) -> float:
        """Accuracy of ``model`` under one attack at one eps (``measured`` without the image count)."""
        return self.measured(model, attack, norm, eps, source)[0]

    def pgd(self, model: str, norm: str) -> float:
        return self.accuracy_of(model, "pgd", norm, PGD[norm])

    def transferred(self, model: str, test_set: tuple[str, str, float], source: str) -> float:
        """Accuracy of ``model`` on one of Park & So's test sets (attack, norm, eps) crafted on ``source``."""
        return self.accuracy_of(model, *test_set, source)

    def analysed(self, table: str, model: str, norm: str, eps: float | None = None) -> pd.DataFrame:
        """Rows of an analysis table for ``model``'s PGD sweep in ``norm`` at ``eps`` (default: the reference eps)."""
        eps = PGD[norm] if eps is None else eps
        rows = self.tables[table]
        rows = rows[(rows.model_id == model) & (rows.attack == "pgd") & (rows.norm == norm) & np.isclose(rows.eps, eps)]
        if rows.empty:
            raise MissingResult(f"{table} of PGD-{norm} {eps:g} on {model}")
        return rows


def _eps_key(eps: float) -> float:
    """A radius as the accuracy lookups key it: to 6 decimals (the grids' radii differ far more)."""
    return round(float(eps), 6)


def _pct(value: float) -> str:
    return f"{value:.1%}"


def _points(value: float) -> str:
    return f"{value * 100:g} points"


Check = Callable[[Study], tuple[str, bool, str]]  # -> (ours, agrees, table)


@dataclass(frozen=True)
class Claim:
    """One claim of a paper; called on a study, the finding that tests it there."""

    paper: str
    item: str
    view: str
    claim: str
    check: Check | None = None  # None: the study's design cannot test the claim
    tables: tuple[str, ...] = ()  # analysis tables the check reads; an empty one means "not in this study"
    why: str = ""  # with no check: why not

    def __call__(self, study: Study) -> Finding:
        if self.check is None:
            return self._found(f"not in this study: {self.why}", None)
        try:
            empty = [name for name in self.tables if study.tables[name].empty]
            if empty:
                raise MissingResult(", ".join(empty))
            return self._found(*self.check(study))
        except MissingResult as error:
            return self._found(f"not in this study (needs {error})", None)

    def _found(self, ours: str, agrees: bool | None, table: str = "") -> Finding:
        return Finding(self.paper, self.item, self.view, self.claim, ours, agrees, table)


def finding(paper: str, item: str, view: str, claim: str, tables: Sequence[str] = ()) -> Callable[[Check], Claim]:
    """The ``Claim`` of a paper that the decorated check tests (listed in ``FINDINGS``)."""
    return lambda check: Claim(paper, item, view, claim, check, tuple(tables))


ROBUST_COLUMNS = (("clean", "", "", 0.0), ("FGSM Linf 0.1", "fgsm", "Linf", 0.1), ("PGD Linf 0.1", "pgd", "Linf", 0.1),
                  ("PGD L2 1", "pgd", "L2", 1.0), ("PGD L1 10", "pgd", "L1", 10.0), ("C&W L2 1", "cw", "L2", 1.0),
                  ("DeepFool L2 1", "deepfool", "L2", 1.0), ("AutoAttack Linf 0.1", "autoattack", "Linf", 0.1))
TRAINED = {"Linf": "pgd_linf", "L2": "pgd_l2", "L1": "pgd_l1"}  # the role PGD-trained in each norm
ROBUST_LENETS = (*TRAINED.values(), "fast_linf", "robust_l2", "robust_linf")
RESNETS = ("resnet_undefended", "resnet_pgd_linf", "resnet_pgd_l2", "resnet_robust_l2")
GARAEV_ROLES = ("undefended", *ROBUST_LENETS, *RESNETS)  # the roles of Garaev et al.'s comparison
ANALYSED = ("undefended", "pgd_linf", "pgd_l2", "robust_l2", "robust_linf")


def _cell(study: Study, model: str, attack: str, norm: str, eps: float) -> str:
    """The accuracy with its 95 % Wilson interval, or a dash where the attack did not run."""
    try:
        return interval_text(*study.measured(model, attack, norm, eps))
    except MissingResult:
        return "—"  # the attack did not run on this model


def _accuracy_table(study: Study, roles: Sequence[str]) -> str:
    rows = []
    for model in study.present(roles):
        cells = [_pct(study.models.loc[model, "clean_accuracy"]) if not attack else
                 _cell(study, model, attack, norm, eps) for _, attack, norm, eps in ROBUST_COLUMNS]
        rows.append([model, *cells])
    return table(["model", *(name for name, *_ in ROBUST_COLUMNS)], rows)


@finding(GARAEV, "robust accuracy of robust-dataset models (Tables 1-2, A1)", "Robust accuracy, Compare",
         "Training on Ilyas et al.'s robust dataset does not make a model robust in general: the robust-feature "
         "hypothesis is \"not universally true\".")
def robust_dataset(study: Study) -> tuple[str, bool, str]:
    standard, source, robust, robust_linf = study.models_for("undefended", "pgd_l2", "robust_l2", "robust_linf")
    gains = {norm: study.pgd(robust, norm) - study.pgd(standard, norm) for norm in PGD}
    kept = gains["L2"] / (study.pgd(source, "L2") - study.pgd(standard, "L2"))
    weakest = min(gains, key=lambda norm: gains[norm])
    unprotected = gains[weakest] < NO_PROTECTION
    linf_gain = study.pgd(robust_linf, "Linf") - study.pgd(standard, "Linf")
    ours = (f"{robust} (re-drawn through {source}) gains {gains['L2']:+.1%} over {standard} under PGD-L2 1 "
            f"({kept:.0%} of its source's gain), {gains['Linf']:+.1%} under PGD-Linf 0.1 and {gains['L1']:+.1%} "
            f"under PGD-L1 10; {robust_linf} gains {linf_gain:+.1%} under PGD-Linf 0.1. {robust}'s smallest gain, "
            f"under PGD-{weakest}, is {'below' if unprotected else 'above'} {_points(NO_PROTECTION)}."
            + study.convergence(robust))
    return ours, unprotected, _accuracy_table(study, GARAEV_ROLES)


@finding(GARAEV, "PGD adversarial training against attacks in other norms (Tables 1-3)", "Robust accuracy (heatmap)",
         "A model adversarially trained in one norm is robust mainly against that norm; unseen attacks break it.")
def unseen_norms(study: Study) -> tuple[str, bool, str]:
    trained = dict(zip(TRAINED, study.models_for(*TRAINED.values()), strict=True))
    grid = {(norm, attacked): study.pgd(model, attacked) for norm, model in trained.items() for attacked in PGD}
    best = {attacked: max(trained, key=lambda norm: grid[norm, attacked]) for attacked in PGD}
    rows = [[model, *(_pct(grid[norm, a]) for a in PGD)] for norm, model in trained.items()]
    ours = "; ".join(f"under PGD-{a} {PGD[a]:g} the best is {trained[best[a]]}" for a in PGD) + "."
    return ours, all(best[a] == a for a in PGD), table(["trained", *(f"PGD {a} {PGD[a]:g}" for a in PGD)], rows)


@finding(GARAEV, "the architecture comparison (ResNets; Tables 1-3, A1)", "Compare",
         "On their ResNets (ResNet18/50, InceptionV3) as well: PGD training protects in its norm, training on a "
         "robust dataset does not protect in general.")
def architectures(study: Study) -> tuple[str, bool, str]:
    standard, pgd_linf, pgd_l2, robust = study.models_for(*RESNETS)
    base = {norm: study.pgd(standard, norm) for norm in ("Linf", "L2")}
    trained = all(study.pgd(model, norm) > base[norm] for norm, model in (("Linf", pgd_linf), ("L2", pgd_l2)))
    gains = {norm: study.pgd(robust, norm) - base[norm] for norm in base}
    lenet = study.roles.get("robust_l2")
    ours = (f"{pgd_linf}/{pgd_l2} beat {standard} in their norm: {'yes' if trained else 'no'}; "
            f"{robust} gains {gains['L2']:+.1%} under PGD-L2 1 and {gains['Linf']:+.1%} under PGD-Linf 0.1"
            + (f" (compare {lenet} on LeNet5 above)." if lenet else ".") + study.convergence(robust))
    return ours, trained and min(gains.values()) < NO_PROTECTION, _accuracy_table(study, RESNETS)


@finding(GARAEV, "L2/Linf norm-equivalence coefficients C1, C2 (Tables 4-6)", "Norms and boundary",
         "L2 and Linf attacks differ significantly: Linf perturbations spread over every pixel (||d||_2/||d||_inf "
         "near its bound sqrt(d)), L2 ones concentrate; Linf attacks have been underestimated.",
         tables=("norm_ratios",))
def norm_ratios(study: Study) -> tuple[str, bool, str]:
    ratios = study.tables["norm_ratios"].dropna(subset=["c1"])
    ratios = ratios[(ratios.attack == "pgd") & ratios.norm.isin(["Linf", "L2"])]
    spans = ratios.groupby(["model_id", "norm"]).agg(c1=("c1", "min"), c2=("c2", "max")).unstack("norm").dropna()
    if spans.empty or ("c1", "Linf") not in spans or ("c2", "L2") not in spans:
        raise MissingResult("norm ratios of PGD-Linf and PGD-L2 on one model")
    apart = spans[("c1", "Linf")] > spans[("c2", "L2")]
    rows = [[m, *(f"{spans.loc[m, ('c1', norm)]:.1f} - {spans.loc[m, ('c2', norm)]:.1f}" for norm in ("Linf", "L2"))]
            for m in study.models.index if m in spans.index]
    ours = (f"over every eps, PGD-Linf's ratios lie above PGD-L2's for {int(apart.sum())} of the {len(apart)} models "
            f"analysed under both (sqrt(d) = {ratios.sqrt_d.iloc[0]:.0f}).")
    return ours, bool(apart.all()), table(["model", "PGD-Linf C1 - C2", "PGD-L2 C1 - C2"], rows)


@finding(GARAEV, "per-sample loss histograms, KDE and A-distance (Figures 1-3)", "Loss distributions",
         "Adversarial inputs move the per-sample loss distribution away from the clean one (a large A-distance) "
         "for standard models, much less for adversarially trained ones.", tables=("a_distance",))
def loss_separation(study: Study) -> tuple[str, bool, str]:
    def distance(model: str, norm: str) -> float:
        return float(study.analysed("a_distance", model, norm).a_distance.iloc[0])

    standard, pgd_linf, pgd_l2 = study.models_for("undefended", "pgd_linf", "pgd_l2")
    rows = [[m, *(f"{distance(m, norm):.2f}" for norm in ("Linf", "L2"))] for m in study.models_for(*ANALYSED)]
    lower = all(distance(m, norm) < distance(standard, norm) for m in (pgd_linf, pgd_l2) for norm in ("Linf", "L2"))
    ours = (f"A-distance (0 = same distribution, 2 = separable) for {standard}: {distance(standard, 'Linf'):.2f} "
            f"(PGD-Linf 0.1) and {distance(standard, 'L2'):.2f} (PGD-L2 1); the PGD models' are "
            + ("lower under both." if lower else "not lower under both."))
    return ours, lower, table(["model", "PGD-Linf 0.1", "PGD-L2 1"], rows)


@finding(GARAEV, "SVCCA between clean and adversarial representations per layer (Tables 7, A3)", "SVCCA",
         "Adversarial inputs change a standard model's representations more the deeper the layer; adversarial "
         "training keeps them closer to the clean ones.", tables=("svcca",))
def svcca_depth(study: Study) -> tuple[str, bool, str]:
    def means(model: str) -> pd.Series:
        return study.analysed("svcca", model, "Linf").groupby("layer", sort=False)["mean"].first()

    standard_id, robust_id = study.models_for("undefended", "pgd_linf")
    standard, robust = means(standard_id), means(robust_id)
    layers = [layer for layer in standard.index if layer in robust.index]
    first, last = layers[0], layers[-1]
    rows = [[layer, f"{standard[layer]:.3f}", f"{robust[layer]:.3f}"] for layer in layers]
    agrees = bool(standard[last] < standard[first] and robust[last] > standard[last])
    ours = (f"under PGD-Linf 0.1, {standard_id}'s mean SVCCA falls from {standard[first]:.3f} ({first}) to "
            f"{standard[last]:.3f} ({last}); {robust_id}'s {last} keeps {robust[last]:.3f}.")
    return ours, agrees, table(["layer", standard_id, robust_id], rows)


def cluster_share(clean: pd.DataFrame, adversarial: pd.DataFrame) -> float:
    """Share of the adversarial points [pca rows] whose nearest class centre of the clean points [pca
    rows of the same model] in the PCA plane is their true class."""
    centres = clean.groupby("label")[["pc1", "pc2"]].mean()
    gaps = ((adversarial[["pc1", "pc2"]].to_numpy()[:, None, :] - centres.to_numpy()[None]) ** 2).sum(-1)
    return float((centres.index.to_numpy()[gaps.argmin(1)] == adversarial.label.to_numpy()).mean())


@finding(GARAEV, "PCA scatterplots of the penultimate features (Figures 4-8)", "Latent space",
         "In a standard model adversarial inputs leave their class's cluster; in a robust one they stay closer.",
         tables=("pca",))
def latent_clusters(study: Study) -> tuple[str, bool, str]:
    pca = study.tables["pca"]

    def share(model: str, norm: str) -> float:
        rows = pca[pca.model_id == model]
        adversarial = rows[(rows.input == "pgd") & (rows.norm == norm) & np.isclose(rows.eps, PGD[norm])]
        if adversarial.empty:
            raise MissingResult(f"pca of PGD-{norm} on {model}")
        return cluster_share(rows[rows.input == "clean"], adversarial)

    standard, pgd_linf, pgd_l2 = study.models_for("undefended", "pgd_linf", "pgd_l2")
    shares = {m: {norm: share(m, norm) for norm in ("Linf", "L2")} for m in study.models_for(*ANALYSED)}
    rows = [[m, _pct(by_norm["Linf"]), _pct(by_norm["L2"])] for m, by_norm in shares.items()]
    agrees = all(shares[m][norm] > shares[standard][norm] for m in (pgd_linf, pgd_l2) for norm in ("Linf", "L2"))
    ours = (f"adversarial points nearest their own class centre: {standard} {_pct(shares[standard]['Linf'])} "
            f"(PGD-Linf 0.1), {pgd_linf} {_pct(shares[pgd_linf]['Linf'])}.")
    return ours, agrees, table(["model", "PGD-Linf 0.1", "PGD-L2 1"], rows)


@finding(GARAEV, "mean DeepFool L2 distance to the decision boundary and DeepFool steps (Table 8)",
         "Norms and boundary",
         "Robust models lie farther from their decision boundary than standard ones.", tables=("boundary",))
def boundary_distance(study: Study) -> tuple[str, bool, str]:
    standard = study.model("undefended")
    stats = boundary_summary(study.tables["boundary"])
    if standard not in stats.index:
        raise MissingResult(f"boundary of {standard}")
    models = [m for m in study.present(GARAEV_ROLES) if m in stats.index]
    rows = [[m, f"{stats.loc[m, 'mean']:.3f}", f"{stats.loc[m, 'steps']:.2f}"] for m in models]
    robust = [m for m in study.present(ROBUST_LENETS) if m in stats.index]
    farther = [m for m in robust if stats.loc[m, "mean"] > stats.loc[standard, "mean"]]
    ours = (f"{len(farther)} of {len(robust)} robust LeNet5s lie farther than {standard} "
            f"({stats.loc[standard, 'mean']:.3f}).")
    return ours, len(farther) == len(robust), table(["model", "mean L2 distance", "mean steps"], rows)


CINIC10 = Claim(GARAEV, "cross-dataset evaluation on CINIC-10 (Tables 3, 6, A2)",
                "Robust accuracy (sweeps `-on-cinic10`)",
                "Models trained on CIFAR-10 are also evaluated on CINIC-10's test set.",
                why="Fashion-MNIST has no second dataset with its labels here; configs/garaev2024_cifar10.toml runs it")


@finding(PARK_SO, "adversarial training with one attack, black-box test sets (A' -> M'; Table 4)",
         "Robust accuracy (transfer)",
         "Adversarial training with one attack helps against that attack and has limited effect against others.")
def single_attack_training(study: Study) -> tuple[str, bool, str]:
    standard, attacker = study.models_for("undefended", "attacker_plain")
    trained = {name: study.pregenerated((name,), augment=False) for name in PARK_SO_ATTACKS}
    base = {test[0]: study.transferred(standard, test, attacker) for test in PARK_SO_SETS}
    gain = {(t, test[0]): study.transferred(trained[t], test, attacker) - base[test[0]]
            for t in PARK_SO_ATTACKS for test in PARK_SO_SETS}
    # per test set, which single-attack model defends best (gains on different sets have different headroom)
    best = {n: max(PARK_SO_ATTACKS, key=lambda t: gain[t, n]) for n in PARK_SO_ATTACKS}
    across = max((gain[t, n], t, n) for t in PARK_SO_ATTACKS for n in PARK_SO_ATTACKS if t != n)
    rows = [[trained[t], *(f"{gain[t, n]:+.1%}" for n in PARK_SO_ATTACKS)] for t in PARK_SO_ATTACKS]
    agreeing = sum(best[n] == n for n in PARK_SO_ATTACKS)
    ours = (f"on {agreeing} of {len(PARK_SO_ATTACKS)} test sets the model trained on that attack defends best; "
            f"training on another attack still helps by up to {across[0]:+.1%} ({trained[across[1]]} on {across[2]}).")
    header = ["trained on (gain over M')", *(f"{n} from A'" for n in PARK_SO_ATTACKS)]
    return ours, agreeing == len(PARK_SO_ATTACKS), table(header, rows)


@finding(PARK_SO, "all seven combinations of FGSM, JSMA and C&W examples (Tables 2, 4)", "Compare, Robust accuracy",
         "Training with several attacks covers each of them, but only those.")
def combinations(study: Study) -> tuple[str, bool, str]:
    standard, attacker = study.models_for("undefended", "attacker_plain")
    trained = {c: study.pregenerated(c, augment=False) for c in COMBINATIONS}
    models = (standard, *trained.values())
    acc = {(model, test[0]): study.transferred(model, test, attacker) for model in models for test in PARK_SO_SETS}
    covered = {n: np.mean([acc[trained[c], n] for c in COMBINATIONS if n in c])
               - np.mean([acc[trained[c], n] for c in COMBINATIONS if n not in c]) for n in PARK_SO_ATTACKS}
    rows = [[model, _pct(study.models.loc[model, "clean_accuracy"]), *(_pct(acc[model, n]) for n in PARK_SO_ATTACKS)]
            for model in models]
    ours = "combinations containing an attack beat those without it on its test set by " + ", ".join(
        f"{covered[n]:+.1%} ({n})" for n in PARK_SO_ATTACKS) + "."
    header = ["model", "clean", *(f"{n} from A'" for n in PARK_SO_ATTACKS)]
    return ours, all(v > 0 for v in covered.values()), table(header, rows)


def _defenders(study: Study) -> dict[str, str]:
    """Park & So's defenders, trained on all three attacks: M' without augmentation, M with it."""
    return {"M'": study.pregenerated(PARK_SO_ATTACKS, augment=False),
            "M": study.pregenerated(PARK_SO_ATTACKS, augment=True)}


@finding(PARK_SO, "the M/M' x A/A' augmentation mismatch (Table 5)", "Robust accuracy (transfer)",
         "A defender trained with all three attacks loses accuracy when the attacker's surrogate was trained with a "
         "different augmentation strategy than the defender's model.")
def augmentation_mismatch(study: Study) -> tuple[str, bool, str]:
    defenders = _defenders(study)
    attackers = {"A'": study.model("attacker_plain"), "A": study.model("attacker")}
    mean = {(d, a): float(np.mean([study.transferred(defenders[d], test, attackers[a]) for test in PARK_SO_SETS]))
            for d in defenders for a in attackers}
    matched = (mean["M'", "A'"] + mean["M", "A"]) / 2
    mismatched = (mean["M'", "A"] + mean["M", "A'"]) / 2
    rows = [[f"{d} ({defenders[d]})", *(_pct(mean[d, a]) for a in attackers)] for d in defenders]
    ours = f"mean accuracy over the three test sets: matched augmentation {matched:.1%}, mismatched {mismatched:.1%}."
    return ours, bool(mismatched < matched), table(["defender", *(f"sets from {a}" for a in attackers)], rows)


@finding(PARK_SO, "pre-generated adversarial training against white-box attacks (Section 5)", "Robust accuracy",
         "Training on pre-generated examples of several attacks still fails against white-box attacks.")
def white_box(study: Study) -> tuple[str, bool, str]:
    standard, pgd_linf = study.models_for("undefended", "pgd_linf")
    defenders = _defenders(study).values()
    acc = {m: study.pgd(m, "Linf") for m in (standard, pgd_linf, *defenders)}
    fails = max(acc[m] for m in defenders) < acc[pgd_linf] * WHITE_BOX_SHARE
    return "white-box PGD-Linf 0.1: " + ", ".join(f"{m} {_pct(a)}" for m, a in acc.items()) + ".", fails, ""


@finding(PARK_SO, "accuracy per epoch, max and median over an epoch window (Figures 3-4, Table 2)", "Training curves",
         "Per-epoch accuracy on the transferred FGSM, JSMA and C&W test sets fluctuates, so it is reported as the max "
         "and the median over an epoch window; adversarial training lifts it on all three.",
         tables=("training_curves",))
def epoch_window(study: Study) -> tuple[str, bool, str]:
    curves, models = study.tables["training_curves"], (study.model("undefended_augmented"), _defenders(study)["M"])
    suffix = f"-from-{study.model('attacker')}"
    sets = sorted(s for s in curves.test_set.unique() if s.endswith(suffix))
    if not sets:
        raise MissingResult(f"per-epoch test sets{suffix}")
    last = curves.groupby("model_id").epoch.transform("max")  # each model's own second half
    window = curves[(curves.epoch > last / 2) & curves.model_id.isin(models) & curves.test_set.isin(sets)]
    stats = window.groupby(["model_id", "test_set"]).accuracy.agg(["max", "median"])
    rows = [[m, s.removesuffix(suffix), _pct(stats.loc[(m, s), "max"]), _pct(stats.loc[(m, s), "median"])]
            for m in models for s in sets]
    lifted = all(stats.loc[(models[1], s), "median"] > stats.loc[(models[0], s), "median"] for s in sets)
    spread = (stats["max"] - stats["median"]).max()
    ours = (f"over the second half of training, the median accuracy of {models[1]} is above M's on "
            f"{'all' if lifted else 'not all'} {len(sets)} sets from A; max and median differ by at most "
            f"{spread:.1%} (a cosine schedule settles).")
    return ours, lifted, table(["model", "test set", "max", "median"], rows)


def generation_seconds(study: Study, model: str) -> dict[tuple[str, str], tuple[float, str]]:
    """Per (attack, norm) of Park & So's Table 1 that ran white-box on ``model``: the seconds to generate
    PARK_SO_EXAMPLES examples at its fastest sweep's images per second, and that sweep's key."""
    white = study.accuracy[(study.accuracy.model_id == model) & study.accuracy.source_model_id.isna()]
    timed = {}
    for name, norm in PARK_SO_SECONDS:
        rows = white[(white.attack == name) & (white.norm == norm)]
        if not rows.empty:
            fastest = rows.loc[rows.images_per_second.idxmax()]
            timed[name, norm] = (PARK_SO_EXAMPLES / float(fastest.images_per_second), str(fastest.sweep))
    return timed


@finding(PARK_SO, f"time to generate {PARK_SO_EXAMPLES:,} adversarial examples per attack (LeNet5; Table 1)",
         "Robust accuracy (cost)",
         "On an RTX 2080Ti: FGSM 48 s, JSMA 2,226 s, C&W 8,142 s, so FGSM is by far the cheapest and C&W the dearest.")
def generation_time(study: Study) -> tuple[str, bool, str]:
    standard = study.model("undefended")
    timed = generation_seconds(study, standard)
    if len(timed) < len(PARK_SO_SECONDS):
        raise MissingResult(f"white-box {', '.join(name for name, _ in PARK_SO_SECONDS)} sweeps on {standard}")
    seconds = {key: value for key, (value, _) in timed.items()}
    rows = [[name, f"{PARK_SO_SECONDS[name, norm]:,}", f"{seconds[name, norm]:,.0f}", f"`{timed[name, norm][1]}`"]
            for name, norm in seconds]
    device = study.device or "unrecorded"
    ours = (f"on the study's device ({device}), extrapolated from the white-box sweeps' images per second on "
            f"{standard}: " + ", ".join(f"{name} {s:,.0f} s" for (name, _), s in seconds.items()) + ".")
    same_order = sorted(seconds, key=seconds.__getitem__) == sorted(PARK_SO_SECONDS, key=PARK_SO_SECONDS.__getitem__)
    return ours, same_order, table(["attack", "paper s (GPU)", f"ours s ({device})", "our sweep"], rows)


PREGENERATED_RESNETS = Claim(
    PARK_SO, "LeNet5 against ResNet18 under pre-generated training (Table 3)", "—",
    "The conclusions hold for both architectures.",
    why="the shipped ResNets' budget goes to PGD and robust-dataset training; configs/parkso2020_mnist.toml "
        "trains both architectures on pre-generated examples")

FINDINGS: tuple[Claim, ...] = (  # in the order of the documents
    robust_dataset, unseen_norms, architectures, norm_ratios, loss_separation, svcca_depth, latent_clusters,
    boundary_distance, CINIC10, single_attack_training, combinations, augmentation_mismatch, white_box,
    epoch_window, generation_time, PREGENERATED_RESNETS)


def findings(study: Study) -> list[Finding]:
    """Every finding, tested on ``study``'s tables."""
    return [claim(study) for claim in FINDINGS]


def _verdict(agrees: bool | None) -> str:
    return {True: "agrees", False: "**disagrees**", None: "not reproduced"}[agrees]


def render(found: list[Finding]) -> str:
    """Markdown: an overview table, then each finding with the paper's claim, ours and our numbers."""
    overview = table(["paper", "what", "our view", "verdict"],
                     [[f.paper, f.item, f.view, _verdict(f.agrees)] for f in found])
    parts = [overview]
    for f in found:
        parts.append(f"**{f.paper}: {f.item}** ({_verdict(f.agrees)}; app: {f.view})\n\n"
                     f"- Paper: {f.claim}\n- Ours: {f.ours}")
        if f.table:
            parts.append(f.table)
    return "\n\n".join(parts) + "\n"


def findings_markdown(study_dir: str | Path) -> str:
    """The findings document (``docs/findings.md``) for the study in ``study_dir``."""
    return render(findings(Study.read(study_dir)))
