"""Findings compared with the papers: each claim of Garaev et al. 2024 and Park & So 2020 that the
shipped study reproduces, tested on a study directory's files. The README's findings section is
``findings_markdown`` of ``precomputed/fashion_mnist`` and a test keeps the two equal, so every
number and verdict there is computed from the shipped parquet files.

Model ids are those of ``configs/fashion_mnist.toml``; a study without them yields "not in this
study" instead of a verdict.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine.analysis.boundary import boundary_summary
from engine.results import read_table
from engine.results.io import require_study

GARAEV, PARK_SO = "Garaev et al. 2024", "Park & So 2020"
PGD = {"Linf": 0.1, "L2": 1.0, "L1": 10.0}  # reference radius per norm: the training eps of the PGD models
PARK_SO_SETS = (("fgsm", "Linf", 0.2), ("jsma", "L0", math.inf), ("cw", "L2", math.inf))  # their three test sets
COMBINATIONS = ("fgsm", "jsma", "cw", "fgsm_jsma", "fgsm_cw", "jsma_cw", "fgsm_jsma_cw")
PAPER_SECONDS = {"fgsm": 48, "jsma": 2226, "cw": 8142}  # Park & So: 60,000 LeNet5 examples on an RTX 2080Ti


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
    """A result a finding needs is not in the study."""


ANALYSIS_TABLES = ("boundary", "norm_ratios", "a_distance", "svcca", "pca", "training_curves")


@dataclass(frozen=True)
class Study:
    """A study's tables, with lookups by model, attack and eps."""

    accuracy: pd.DataFrame  # robust_accuracy
    models: pd.DataFrame  # models, indexed by model_id
    tables: dict[str, pd.DataFrame]  # the ANALYSIS_TABLES

    @classmethod
    def read(cls, path: str | Path) -> Study:
        path = require_study(path)
        return cls(read_table(path, "robust_accuracy"), read_table(path, "models").set_index("model_id"),
                   {name: read_table(path, name) for name in ANALYSIS_TABLES})

    def has(self, *models: str) -> bool:
        return set(models) <= set(self.models.index)

    def accuracy_of(self, model: str, attack: str, norm: str, eps: float, source: str | None = None) -> float:
        """Accuracy of ``model`` under one attack at one eps (white-box, or crafted on ``source``);
        ``MissingResult`` when the study has no such row."""
        rows = self.accuracy[(self.accuracy.model_id == model) & (self.accuracy.attack == attack)
                             & (self.accuracy.norm == norm) & np.isclose(self.accuracy.eps, eps)]
        rows = rows[rows.source_model_id == source] if source else rows[rows.source_model_id.isna()]
        if rows.empty:
            raise MissingResult(f"{attack} {norm} eps {eps:g} on {model}" + (f" from {source}" if source else ""))
        return float(rows.accuracy.iloc[0])

    def pgd(self, model: str, norm: str) -> float:
        return self.accuracy_of(model, "pgd", norm, PGD[norm])

    def transferred(self, model: str, test_set: tuple[str, str, float], source: str) -> float:
        """Accuracy of ``model`` on one of Park & So's test sets (attack, norm, eps) crafted on ``source``."""
        return self.accuracy_of(model, *test_set, source)

    def analysed(self, table: str, model: str, norm: str) -> pd.DataFrame:
        """Rows of an analysis table for ``model``'s PGD sweep in ``norm`` at the reference eps."""
        rows = self.tables[table]
        rows = rows[(rows.model_id == model) & (rows.attack == "pgd") & (rows.norm == norm)
                    & np.isclose(rows.eps, PGD[norm])]
        if rows.empty:
            raise MissingResult(f"{table} of PGD-{norm} on {model}")
        return rows


def _markdown(rows: list[list[str]], header: Sequence[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _pct(value: float) -> str:
    return f"{value:.1%}"


Check = Callable[["Study"], tuple[str, bool, str]]  # -> (ours, agrees, table)
FINDINGS: list[Callable[[Study], Finding]] = []  # in the order of the README


def finding(paper: str, item: str, view: str, claim: str, needs: Sequence[str] = (),
            tables: Sequence[str] = ()) -> Callable[[Check], Callable[[Study], Finding]]:
    """Register a check of one claim; a study lacking the models ``needs`` names, or with an empty
    analysis table of ``tables``, gets "not in this study" instead of a verdict."""
    def register(check: Check) -> Callable[[Study], Finding]:
        def run(study: Study) -> Finding:
            missing = [m for m in needs if not study.has(m)] + [t for t in tables if study.tables[t].empty]
            try:
                if missing:
                    raise MissingResult(", ".join(missing))
                return Finding(paper, item, view, claim, *check(study))
            except MissingResult as error:
                return Finding(paper, item, view, claim, f"not in this study (needs {error})", None)
        FINDINGS.append(run)
        return run
    return register


def not_reproduced(paper: str, item: str, view: str, claim: str, why: str) -> None:
    """Register a claim the shipped study cannot test, saying ``why``."""
    FINDINGS.append(lambda study: Finding(paper, item, view, claim, f"not in this study: {why}", None))


ROBUST_COLUMNS = (("clean", "", "", 0.0), ("FGSM Linf 0.1", "fgsm", "Linf", 0.1), ("PGD Linf 0.1", "pgd", "Linf", 0.1),
                  ("PGD L2 1", "pgd", "L2", 1.0), ("PGD L1 10", "pgd", "L1", 10.0), ("C&W L2 1", "cw", "L2", 1.0),
                  ("DeepFool L2 1", "deepfool", "L2", 1.0), ("AutoAttack Linf 0.1", "autoattack", "Linf", 0.1))
GARAEV_MODELS = ("standard", "pgd_linf", "pgd_l2", "pgd_l1", "fast_linf", "robust_l2", "robust_linf",
                 "resnet_standard", "resnet_pgd_linf", "resnet_pgd_l2", "resnet_robust_l2")


def _cell(study: Study, model: str, attack: str, norm: str, eps: float) -> str:
    try:
        return _pct(study.accuracy_of(model, attack, norm, eps))
    except MissingResult:
        return "—"  # the attack did not run on this model


def _accuracy_table(study: Study, models: Sequence[str]) -> str:
    rows = []
    for model in (m for m in models if study.has(m)):
        cells = [_pct(study.models.loc[model, "clean_accuracy"]) if not attack else
                 _cell(study, model, attack, norm, eps) for _, attack, norm, eps in ROBUST_COLUMNS]
        rows.append([model, *cells])
    return _markdown(rows, ["model", *(name for name, *_ in ROBUST_COLUMNS)])


@finding(GARAEV, "robust accuracy of robust-dataset models (the main accuracy tables)", "Robust accuracy, Compare",
         "Training on Ilyas et al.'s robust dataset does not make a model robust in general: the robust-feature "
         "hypothesis is \"not universally true\".", needs=("standard", "pgd_l2", "robust_l2", "robust_linf"))
def robust_dataset(study: Study) -> tuple[str, bool, str]:
    gains = {norm: study.pgd("robust_l2", norm) - study.pgd("standard", norm) for norm in PGD}
    kept = gains["L2"] / (study.pgd("pgd_l2", "L2") - study.pgd("standard", "L2"))
    weakest = min(gains, key=lambda norm: gains[norm])
    unprotected = gains[weakest] < 0.05
    linf_gain = study.pgd("robust_linf", "Linf") - study.pgd("standard", "Linf")
    ours = (f"robust_l2 (re-drawn through pgd_l2) gains {gains['L2']:+.1%} over standard under PGD-L2 1 "
            f"({kept:.0%} of its source's gain), {gains['Linf']:+.1%} under PGD-Linf 0.1 and {gains['L1']:+.1%} "
            f"under PGD-L1 10; robust_linf gains {linf_gain:+.1%} under PGD-Linf 0.1. robust_l2's smallest gain, "
            f"under PGD-{weakest}, is {'below' if unprotected else 'above'} 5 points.")
    return ours, unprotected, _accuracy_table(study, GARAEV_MODELS)


TRAINED = {"Linf": "pgd_linf", "L2": "pgd_l2", "L1": "pgd_l1"}


@finding(GARAEV, "PGD adversarial training against attacks in other norms", "Robust accuracy (heatmap)",
         "A model adversarially trained in one norm is robust mainly against that norm; unseen attacks break it.",
         needs=tuple(TRAINED.values()))
def unseen_norms(study: Study) -> tuple[str, bool, str]:
    grid = {(trained, attacked): study.pgd(model, attacked) for trained, model in TRAINED.items() for attacked in PGD}
    best = {attacked: max(TRAINED, key=lambda trained: grid[trained, attacked]) for attacked in PGD}
    rows = [[TRAINED[t], *(_pct(grid[t, a]) for a in PGD)] for t in TRAINED]
    ours = "; ".join(f"under PGD-{a} {PGD[a]:g} the best is {TRAINED[best[a]]}" for a in PGD) + "."
    return ours, all(best[a] == a for a in PGD), _markdown(rows, ["trained", *(f"PGD {a} {PGD[a]:g}" for a in PGD)])


RESNETS = ("resnet_standard", "resnet_pgd_linf", "resnet_pgd_l2", "resnet_robust_l2")


@finding(GARAEV, "the architecture comparison (ResNets)", "Compare",
         "On their ResNets (ResNet18/50, InceptionV3) as well: PGD training protects in its norm, training on a "
         "robust dataset does not protect in general.", needs=RESNETS)
def architectures(study: Study) -> tuple[str, bool, str]:
    base = {norm: study.pgd("resnet_standard", norm) for norm in ("Linf", "L2")}
    trained = all(study.pgd(f"resnet_pgd_{norm.lower()}", norm) > base[norm] for norm in base)
    gains = {norm: study.pgd("resnet_robust_l2", norm) - base[norm] for norm in base}
    ours = (f"resnet_pgd_linf/resnet_pgd_l2 beat resnet_standard in their norm: {'yes' if trained else 'no'}; "
            f"resnet_robust_l2 gains {gains['L2']:+.1%} under PGD-L2 1 and {gains['Linf']:+.1%} under PGD-Linf 0.1 "
            f"(compare robust_l2 on LeNet5 above).")
    return ours, trained and min(gains.values()) < 0.05, _accuracy_table(study, RESNETS)


@finding(GARAEV, "L2/Linf norm-equivalence coefficients C1, C2", "Norms and boundary",
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
    return ours, bool(apart.all()), _markdown(rows, ["model", "PGD-Linf C1 - C2", "PGD-L2 C1 - C2"])


ANALYSED = ("standard", "pgd_linf", "pgd_l2", "robust_l2", "robust_linf")


@finding(GARAEV, "per-sample loss histograms, KDE and A-distance", "Loss distributions",
         "Adversarial inputs move the per-sample loss distribution away from the clean one (a large A-distance) "
         "for standard models, much less for adversarially trained ones.", needs=ANALYSED, tables=("a_distance",))
def loss_separation(study: Study) -> tuple[str, bool, str]:
    def distance(model: str, norm: str) -> float:
        return float(study.analysed("a_distance", model, norm).a_distance.iloc[0])

    rows = [[m, *(f"{distance(m, norm):.2f}" for norm in ("Linf", "L2"))] for m in ANALYSED]
    lower = all(distance(m, norm) < distance("standard", norm) for m in ("pgd_linf", "pgd_l2")
                for norm in ("Linf", "L2"))
    ours = (f"A-distance (0 = same distribution, 2 = separable) for standard: {distance('standard', 'Linf'):.2f} "
            f"(PGD-Linf 0.1) and {distance('standard', 'L2'):.2f} (PGD-L2 1); the PGD models' are "
            + ("lower under both." if lower else "not lower under both."))
    return ours, lower, _markdown(rows, ["model", "PGD-Linf 0.1", "PGD-L2 1"])


@finding(GARAEV, "SVCCA between clean and adversarial representations per layer", "SVCCA",
         "Adversarial inputs change a standard model's representations more the deeper the layer; adversarial "
         "training keeps them closer to the clean ones.", needs=("standard", "pgd_linf"), tables=("svcca",))
def svcca_depth(study: Study) -> tuple[str, bool, str]:
    def means(model: str) -> pd.Series:
        return study.analysed("svcca", model, "Linf").groupby("layer", sort=False)["mean"].first()

    standard, robust = means("standard"), means("pgd_linf")
    layers = [layer for layer in standard.index if layer in robust.index]
    first, last = layers[0], layers[-1]
    rows = [[layer, f"{standard[layer]:.3f}", f"{robust[layer]:.3f}"] for layer in layers]
    agrees = bool(standard[last] < standard[first] and robust[last] > standard[last])
    ours = (f"under PGD-Linf 0.1, standard's mean SVCCA falls from {standard[first]:.3f} ({first}) to "
            f"{standard[last]:.3f} ({last}); pgd_linf's {last} keeps {robust[last]:.3f}.")
    return ours, agrees, _markdown(rows, ["layer", "standard", "pgd_linf"])


def _cluster_share(clean: pd.DataFrame, adversarial: pd.DataFrame) -> float:
    """Share of the adversarial points [pca rows] whose nearest class centre of the clean points [pca
    rows of the same model] in the PCA plane is their true class."""
    centres = clean.groupby("label")[["pc1", "pc2"]].mean()
    gaps = ((adversarial[["pc1", "pc2"]].to_numpy()[:, None, :] - centres.to_numpy()[None]) ** 2).sum(-1)
    return float((centres.index.to_numpy()[gaps.argmin(1)] == adversarial.label.to_numpy()).mean())


@finding(GARAEV, "PCA scatterplots of the penultimate features", "Latent space",
         "In a standard model adversarial inputs leave their class's cluster; in a robust one they stay closer.",
         needs=ANALYSED, tables=("pca",))
def latent_clusters(study: Study) -> tuple[str, bool, str]:
    pca = study.tables["pca"]

    def share(model: str, norm: str) -> float:
        rows = pca[pca.model_id == model]
        adversarial = rows[(rows.input == "pgd") & (rows.norm == norm) & np.isclose(rows.eps, PGD[norm])]
        if adversarial.empty:
            raise MissingResult(f"pca of PGD-{norm} on {model}")
        return _cluster_share(rows[rows.input == "clean"], adversarial)

    shares = {m: {norm: share(m, norm) for norm in ("Linf", "L2")} for m in ANALYSED}
    rows = [[m, _pct(shares[m]["Linf"]), _pct(shares[m]["L2"])] for m in ANALYSED]
    agrees = all(shares[m][norm] > shares["standard"][norm] for m in ("pgd_linf", "pgd_l2") for norm in ("Linf", "L2"))
    ours = (f"adversarial points nearest their own class centre: standard {_pct(shares['standard']['Linf'])} "
            f"(PGD-Linf 0.1), pgd_linf {_pct(shares['pgd_linf']['Linf'])}.")
    return ours, agrees, _markdown(rows, ["model", "PGD-Linf 0.1", "PGD-L2 1"])


@finding(GARAEV, "mean DeepFool L2 distance to the decision boundary and DeepFool steps", "Norms and boundary",
         "Robust models lie farther from their decision boundary than standard ones.", needs=("standard",),
         tables=("boundary",))
def boundary_distance(study: Study) -> tuple[str, bool, str]:
    stats = boundary_summary(study.tables["boundary"])
    models = [m for m in GARAEV_MODELS if m in stats.index]
    rows = [[m, f"{stats.loc[m, 'mean']:.3f}", f"{stats.loc[m, 'steps']:.2f}"] for m in models]
    robust = [m for m in models if m.startswith(("pgd", "robust", "fast"))]
    farther = [m for m in robust if stats.loc[m, "mean"] > stats.loc["standard", "mean"]]
    ours = (f"{len(farther)} of {len(robust)} robust LeNet5s lie farther than standard "
            f"({stats.loc['standard', 'mean']:.3f}).")
    return ours, len(farther) == len(robust), _markdown(rows, ["model", "mean L2 distance", "mean steps"])


not_reproduced(GARAEV, "cross-dataset evaluation on CINIC-10", "Robust accuracy (sweeps `-on-cinic10`)",
               "Models trained on CIFAR-10 are also evaluated on CINIC-10's test set.",
               "Fashion-MNIST has no second dataset with its labels here; configs/garaev2024_cifar10.toml runs it")


@finding(PARK_SO, "adversarial training with one attack, black-box test sets (A' -> M')", "Robust accuracy (transfer)",
         "Adversarial training with one attack helps against that attack and has limited effect against others.",
         needs=("standard", "attacker_a_prime", "pregen_fgsm", "pregen_jsma", "pregen_cw"))
def single_attack_training(study: Study) -> tuple[str, bool, str]:
    names = [test[0] for test in PARK_SO_SETS]
    base = {test[0]: study.transferred("standard", test, "attacker_a_prime") for test in PARK_SO_SETS}
    gain = {(t, test[0]): study.transferred(f"pregen_{t}", test, "attacker_a_prime") - base[test[0]]
            for t in names for test in PARK_SO_SETS}
    # per test set, which single-attack model defends best (gains on different sets have different headroom)
    best = {n: max(names, key=lambda t: gain[t, n]) for n in names}
    across = max((gain[t, n], t, n) for t in names for n in names if t != n)
    rows = [[f"pregen_{t}", *(f"{gain[t, n]:+.1%}" for n in names)] for t in names]
    ours = (f"on {sum(best[n] == n for n in names)} of 3 test sets the model trained on that attack defends best; "
            f"training on another attack still helps by up to {across[0]:+.1%} (pregen_{across[1]} on {across[2]}).")
    table = _markdown(rows, ["trained on (gain over M')", *(f"{n} from A'" for n in names)])
    return ours, all(best[n] == n for n in names), table


PREGENERATED = tuple(f"pregen_{c}" for c in COMBINATIONS)


@finding(PARK_SO, "all seven combinations of FGSM, JSMA and C&W examples", "Compare, Robust accuracy",
         "Training with several attacks covers each of them, but only those.",
         needs=("standard", "attacker_a_prime", *PREGENERATED))
def combinations(study: Study) -> tuple[str, bool, str]:
    names = [test[0] for test in PARK_SO_SETS]
    acc = {(model, test[0]): study.transferred(model, test, "attacker_a_prime")
           for model in ("standard", *PREGENERATED) for test in PARK_SO_SETS}
    covered = {n: np.mean([acc[f"pregen_{c}", n] for c in COMBINATIONS if n in c.split("_")])
               - np.mean([acc[f"pregen_{c}", n] for c in COMBINATIONS if n not in c.split("_")]) for n in names}
    rows = [[model, _pct(study.models.loc[model, "clean_accuracy"]), *(_pct(acc[model, n]) for n in names)]
            for model in ("standard", *PREGENERATED)]
    ours = "combinations containing an attack beat those without it on its test set by " + ", ".join(
        f"{covered[n]:+.1%} ({n})" for n in names) + "."
    table = _markdown(rows, ["model", "clean", *(f"{n} from A'" for n in names)])
    return ours, all(v > 0 for v in covered.values()), table


DEFENDERS = {"M'": "pregen_fgsm_jsma_cw", "M": "pregen_aug_fgsm_jsma_cw"}
ATTACKERS = {"A'": "attacker_a_prime", "A": "attacker_a"}


@finding(PARK_SO, "the M/M' x A/A' augmentation mismatch", "Robust accuracy (transfer)",
         "A defender trained with all three attacks loses accuracy when the attacker's surrogate was trained with a "
         "different augmentation strategy than the defender's model.",
         needs=(*DEFENDERS.values(), *ATTACKERS.values()))
def augmentation_mismatch(study: Study) -> tuple[str, bool, str]:
    mean = {(d, a): float(np.mean([study.transferred(DEFENDERS[d], test, ATTACKERS[a]) for test in PARK_SO_SETS]))
            for d in DEFENDERS for a in ATTACKERS}
    matched = (mean["M'", "A'"] + mean["M", "A"]) / 2
    mismatched = (mean["M'", "A"] + mean["M", "A'"]) / 2
    rows = [[f"{d} ({DEFENDERS[d]})", *(_pct(mean[d, a]) for a in ATTACKERS)] for d in DEFENDERS]
    ours = f"mean accuracy over the three test sets: matched augmentation {matched:.1%}, mismatched {mismatched:.1%}."
    return ours, bool(mismatched < matched), _markdown(rows, ["defender", *(f"sets from {a}" for a in ATTACKERS)])


@finding(PARK_SO, "pre-generated adversarial training against white-box attacks", "Robust accuracy",
         "Training on pre-generated examples of several attacks still fails against white-box attacks.",
         needs=("standard", "pgd_linf", *DEFENDERS.values()))
def white_box(study: Study) -> tuple[str, bool, str]:
    acc = {m: study.pgd(m, "Linf") for m in ("standard", "pgd_linf", *DEFENDERS.values())}
    fails = max(acc[m] for m in DEFENDERS.values()) < acc["pgd_linf"] / 2
    return "white-box PGD-Linf 0.1: " + ", ".join(f"{m} {_pct(a)}" for m, a in acc.items()) + ".", fails, ""


@finding(PARK_SO, "accuracy per epoch, max and median over an epoch window (figures 3-4)", "Training curves",
         "Per-epoch accuracy on the transferred FGSM, JSMA and C&W test sets fluctuates, so it is reported as the max "
         "and the median over an epoch window; adversarial training lifts it on all three.",
         needs=("standard_augmented", DEFENDERS["M"]), tables=("training_curves",))
def epoch_window(study: Study) -> tuple[str, bool, str]:
    curves, models = study.tables["training_curves"], ("standard_augmented", DEFENDERS["M"])
    sets = sorted(s for s in curves.test_set.unique() if s.endswith("-from-attacker_a"))
    last = curves.groupby("model_id").epoch.transform("max")  # each model's own second half
    window = curves[(curves.epoch > last / 2) & curves.model_id.isin(models) & curves.test_set.isin(sets)]
    stats = window.groupby(["model_id", "test_set"]).accuracy.agg(["max", "median"])
    rows = [[m, s.removesuffix("-from-attacker_a"), _pct(stats.loc[(m, s), "max"]), _pct(stats.loc[(m, s), "median"])]
            for m in models for s in sets]
    lifted = all(stats.loc[(models[1], s), "median"] > stats.loc[(models[0], s), "median"] for s in sets)
    spread = (stats["max"] - stats["median"]).max()
    ours = (f"over the second half of training, the median accuracy of {models[1]} is above M's on "
            f"{'all' if lifted else 'not all'} {len(sets)} sets from A; max and median differ by at most "
            f"{spread:.1%} (a cosine schedule settles).")
    return ours, lifted, _markdown(rows, ["model", "test set", "max", "median"])


@finding(PARK_SO, "time to generate 60,000 adversarial examples per attack (LeNet5)", "Robust accuracy (cost)",
         "On an RTX 2080Ti: FGSM 48 s, JSMA 2,226 s, C&W 8,142 s, so FGSM is by far the cheapest and C&W the dearest.",
         needs=("standard",))
def generation_time(study: Study) -> tuple[str, bool, str]:
    white = study.accuracy[(study.accuracy.model_id == "standard") & study.accuracy.source_model_id.isna()]
    sweeps = {name: white[(white.attack == name) & (white.norm == norm)] for name, norm, _ in PARK_SO_SETS}
    if any(rows.empty for rows in sweeps.values()):
        raise MissingResult("white-box fgsm, jsma and cw sweeps on standard")
    fastest = {name: rows.loc[rows.images_per_second.idxmax()] for name, rows in sweeps.items()}
    seconds = {name: 60000 / row.images_per_second for name, row in fastest.items()}
    rows = [[name, f"{PAPER_SECONDS[name]:,}", f"{seconds[name]:,.0f}", f"`{fastest[name].sweep}`"] for name in seconds]
    ours = ("on this 2-core CPU, extrapolated from the white-box sweeps' images per second on standard: "
            + ", ".join(f"{name} {seconds[name]:,.0f} s" for name in seconds) + ".")
    table = _markdown(rows, ["attack", "paper s (GPU)", "ours s (CPU)", "our sweep"])
    return ours, seconds["fgsm"] < seconds["jsma"] < seconds["cw"], table


not_reproduced(PARK_SO, "LeNet5 against ResNet18 under pre-generated training", "—",
               "The conclusions hold for both architectures.",
               "the shipped ResNets' budget goes to PGD and robust-dataset training; configs/parkso2020_mnist.toml "
               "trains both architectures on pre-generated examples")


def findings(study: Study) -> list[Finding]:
    """Every finding, tested on ``study``'s tables."""
    return [check(study) for check in FINDINGS]


def _verdict(agrees: bool | None) -> str:
    return {True: "agrees", False: "**disagrees**", None: "not reproduced"}[agrees]


def render(found: list[Finding]) -> str:
    """Markdown: an overview table, then each finding with the paper's claim, ours and our numbers."""
    overview = _markdown([[f.paper, f.item, f.view, _verdict(f.agrees)] for f in found],
                         ["paper", "what", "our view", "verdict"])
    parts = [overview]
    for f in found:
        parts.append(f"**{f.paper}: {f.item}** ({_verdict(f.agrees)}; app: {f.view})\n\n"
                     f"- Paper: {f.claim}\n- Ours: {f.ours}")
        if f.table:
            parts.append(f.table)
    return "\n\n".join(parts) + "\n"


def findings_markdown(study_dir: str | Path) -> str:
    """The README's findings section for the study in ``study_dir``."""
    return render(findings(Study.read(study_dir)))
