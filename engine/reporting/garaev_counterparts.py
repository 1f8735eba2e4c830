"""Garaev et al. 2024's tables and figures beside their counterparts in a study (``papers.GARAEV_*``).

Our models stand in for theirs by role (the study config's ``[findings.roles]``): the LeNet5s ``undefended``,
``pgd_l2``, ``pgd_linf``, ``robust_l2`` and ``robust_linf`` for their ResNet50s (Tables 1, 2, 4, 7, A3, Figures
1-3), the small ResNets ``resnet_*`` for their ResNet18s (Tables 3 and 8, Figures 4-8). Budgets scale with the
field's standard radii: CIFAR-10's Linf 0.025 (8/255 ~ 0.03) and L2 0.25 are this study's Linf 0.1 and L2 1.0
(the same 10x ratio), so a paper eps k times the standard one becomes k times ours, up to the largest eps
of our grids (Linf 0.5 for their 0.25, ten times the standard).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.analysis.boundary import boundary_summary
from engine.reporting.findings import NO_PROTECTION, MissingResult, Study, cluster_share
from engine.reporting.papers import (
    GARAEV_A1,
    GARAEV_A2,
    GARAEV_A3,
    GARAEV_F1,
    GARAEV_F2,
    GARAEV_F3,
    GARAEV_F4,
    GARAEV_F5,
    GARAEV_F6,
    GARAEV_F7,
    GARAEV_F8,
    GARAEV_T1,
    GARAEV_T2,
    GARAEV_T3,
    GARAEV_T4,
    GARAEV_T5,
    GARAEV_T6,
    GARAEV_T7,
    GARAEV_T8,
    PaperFigure,
    PaperTable,
)
from engine.reporting.side_by_side import (
    FASHION,
    Builder,
    Check,
    Counterpart,
    View,
    accuracy,
    beside,
    checked,
    clean,
    guarded,
    not_here,
    share,
)

CONFIG = "configs/garaev2024_cifar10.toml"
ATTACKS = {"FGSM": "fgsm", "PGD": "pgd", "C-W": "cw", "DeepFool": "deepfool"}
# paper (norm, eps) -> ours, for the budgets of Tables 1-2; L1 0.5 leaves their models at clean accuracy,
# so it maps to our smallest L1 radius
BUDGET = {("L1", 0.5): 5.0, ("L2", 0.25): 1.0, ("L2", 0.5): 2.0, ("Linf", 0.025): 0.1, ("Linf", 0.25): 0.5}
STANDARD = {"Linf": 0.1, "L2": 1.0}  # the field's standard radii, in this study
LAYER = "penultimate"  # the representation Garaev et al. compare (their 512-d features)


def _sweep(study: Study, model: str, attack: str, norm: str) -> str:
    """The key of ``model``'s white-box sweep of ``attack`` in ``norm``."""
    rows = study.accuracy[(study.accuracy.model_id == model) & (study.accuracy.attack == attack)
                          & (study.accuracy.norm == norm) & study.accuracy.source_model_id.isna()]
    if rows.empty:
        raise MissingResult(f"{attack} {norm} on {model}")
    return str(rows.sweep.iloc[0])


def _compare(models: list[str], sweep: str, eps: float) -> View:
    return View("compare", f"Compare {', '.join(models)} under {sweep} at eps {eps:g}",
                (("models", ",".join(models)), ("sweep", sweep), (f"eps1_{sweep}", f"{eps:g}")))


# ---- Tables 1 and 2: the robust-dataset model against the adversarially trained model it was drawn through


def _robust_table(paper: PaperTable, robust_role: str, source_role: str) -> Builder:
    def build(study: Study) -> Counterpart:
        robust, source = study.models_for(robust_role, source_role)
        rows: list[list[str]] = []
        ours: Pairs = {}
        theirs: Pairs = {}
        for row in paper.rows:
            attack, norm, eps, _, robust_acc, adv_acc = row
            if attack == "No attack":
                rows.append([*map(str, row[:4]), share(float(robust_acc)), share(float(adv_acc)), "-", "-",
                             share(clean(study, robust)), share(clean(study, source))])
                continue
            key = (str(attack), str(norm), float(eps))
            mine = (ATTACKS[str(attack)], str(norm), BUDGET[str(norm), float(eps)])
            ours[key] = (study.accuracy_of(robust, *mine), study.accuracy_of(source, *mine))
            theirs[key] = (float(robust_acc), float(adv_acc))
            our_steps = study.accuracy[(study.accuracy.model_id == robust) & (study.accuracy.attack == mine[0])
                                       & (study.accuracy.norm == norm)].steps.iloc[0]
            rows.append([*map(str, row[:4]), share(float(robust_acc)), share(float(adv_acc)), f"{mine[2]:g}",
                         str(our_steps), accuracy(study, robust, *mine), accuracy(study, source, *mine)])
        checks = [_below(theirs, ours), *_linf_worst(theirs, ours)]
        frame = pd.DataFrame(rows, columns=[*paper.columns[:4], "paper: Robust acc.", "paper: Adv. acc.",
                                            "our eps", "our steps", f"ours: {robust}", f"ours: {source}"])
        below = sum(r < a for r, a in ours.values())
        standard = {(attack, norm): ours[attack, norm, 0.25 if norm == "L2" else 0.025][0]
                    for attack in ("FGSM", "PGD") for norm in ("L2", "Linf")}
        text = (f"{robust} keeps less accuracy than {source} on {below} of {len(ours)} attacked rows; at the standard "
                f"budgets it keeps {share(standard['FGSM', 'Linf'])} under FGSM-Linf 0.1 against "
                f"{share(standard['FGSM', 'L2'])} under FGSM-L2 1, {share(standard['PGD', 'Linf'])} under PGD-Linf "
                f"0.1 against {share(standard['PGD', 'L2'])} under PGD-L2 1." + study.convergence(robust))
        sweep = _sweep(study, robust, "pgd", "Linf")
        return checked(paper, "The model trained on the robust dataset keeps less accuracy than the adversarially "
                       "trained model it was drawn through, and Linf attacks hurt it most (\"all attacks with an "
                       "Linf-norm significantly undermined the accuracy\").", text, frame, checks,
                       f"`robust_accuracy`, white-box rows (source_model_id null) of model_id in ({robust}, "
                       f"{source}) at each row's attack, norm and our eps; clean accuracy from `models`.",
                       f"{FASHION}; LeNet5s for ResNet50s, {robust} re-drawn through {source}; eps scaled by the "
                       "standard radii (Linf 0.025 -> 0.1, L2 0.25 -> 1), L1 0.5 -> 5, Linf 0.25 -> 0.5 (our "
                       "largest); our PGD runs 20 steps, C&W 5 x 100 steps, DeepFool up to 50.",
                       [_compare([robust, source], sweep, 0.1),
                        View("accuracy", "Robust accuracy heatmaps of both", (("models", f"{robust},{source}"),)),
                        View("robust_datasets", f"The robust dataset of {robust}: convergence and samples",
                             (("models", robust), ("robust_model", robust)))])
    return guarded(paper, build)


Pairs = dict[tuple[str, str, float], tuple[float, float]]  # (attack, norm, paper eps) -> (robust, adversarial)


def _below(theirs: Pairs, ours: Pairs) -> Check:
    def holds(pairs: Pairs) -> bool:
        return sum(r < a for r, a in pairs.values()) > len(pairs) / 2

    return Check("robust model below its source on most attacked rows", holds(theirs), holds(ours))


def _linf_worst(theirs: Pairs, ours: Pairs) -> list[Check]:
    def holds(pairs: Pairs, attack: str) -> bool:
        return pairs[attack, "Linf", 0.025][0] < pairs[attack, "L2", 0.25][0]

    return [Check(f"{attack}: Linf below L2 at the standard budgets (robust model)", holds(theirs, attack),
                  holds(ours, attack)) for attack in ("FGSM", "PGD")]


# ---- Table 3: the ResNets, regular against adversarially trained

RESNETS = ("resnet_undefended", "resnet_pgd_linf", "resnet_pgd_l2")  # in Table 3's column order
T3_ROWS = {"Accuracy on CIFAR-10 (PGD attack, Linf)": ("pgd", "Linf", 0.1),
           "Accuracy on CIFAR-10 (PGD attack, L2)": ("pgd", "L2", 1.0),
           "Accuracy on CIFAR-10 (FGSM attack, Linf)": ("fgsm", "Linf", 0.1)}


def _table3(study: Study) -> Counterpart:
    models = study.models_for(*RESNETS)
    rows, checks = [], []
    for label, *paper in GARAEV_T3.rows:
        attack = T3_ROWS.get(str(label))
        if attack:
            mine = [accuracy(study, model, *attack) for model in models]
            values = [study.accuracy_of(model, *attack) for model in models]
            at = f"{attack[0].upper()} {attack[1]} {attack[2]:g}"
            checks += [Check(f"{models[i]} above {models[0]} under {at}", float(paper[i]) > float(paper[0]),
                             values[i] > values[0]) for i in (1, 2)]
        elif "CIFAR-10" in str(label):
            mine, at = [share(clean(study, model)) for model in models], "clean test set"
        else:
            mine, at = ["—"] * len(models), "— (no CINIC-10 here)"
        rows.append([label, at, *(beside(p, m) for p, m in zip(paper, mine, strict=True))])
    held = sum(check.ours for check in checks)
    frame = pd.DataFrame(rows, columns=["", "ours: Fashion-MNIST", *(f"{c} / ours: {m}" for c, m in
                                                                     zip(GARAEV_T3.columns[1:], models, strict=True))])
    sweep = _sweep(study, models[0], "pgd", "Linf")
    return checked(GARAEV_T3, "PGD adversarial training (5 steps, in Linf or in L2) lifts the ResNet18's accuracy "
                   "under PGD and FGSM well above the regular model's.",
                   f"{held} of {len(checks)} comparisons hold: each trained ResNet above {models[0]} under each "
                   "attack row.", frame, checks,
                   f"`robust_accuracy`, white-box rows of model_id in ({', '.join(models)}); clean from `models`.",
                   f"{FASHION}; our resnet_small (trained with 5-step PGD, like theirs) for ResNet18; the paper does "
                   "not give Table 3's eps, ours are the study's standard radii; CINIC-10 rows need CINIC-10.",
                   [_compare(models, sweep, 0.1)])


# ---- Table 4: the norm-equivalence coefficients C1 and C2

GARAEV_MODELS = ("undefended", "pgd_l2", "pgd_linf")  # their rows: regular, adv. trained L2, adv. trained Linf


def _ratio(study: Study, model: str, norm: str) -> tuple[float, float, float, float]:
    """(C1, C2, share misclassified, sqrt(d)) of ``model`` under PGD in ``norm`` at the standard radius."""
    row = study.analysed("norm_ratios", model, norm, STANDARD[norm]).iloc[0]
    return float(row.c1), float(row.c2), float(row.misclassified), float(row.sqrt_d)


def _table4(study: Study) -> Counterpart:
    models = study.models_for(*GARAEV_MODELS)
    ours = {(m, n): _ratio(study, m, n) for m in models for n in ("L2", "Linf")}
    theirs = {(i, n): (float(row[1 + 3 * k]), float(row[2 + 3 * k]), float(row[3 + 3 * k]) / 100)
              for i, row in enumerate(GARAEV_T4.rows) for k, n in enumerate(("L2", "Linf"))}
    sqrt_d = ours[models[0], "L2"][3]
    rows = [[label, our_id, *(beside(row[1 + 3 * k + j], f"{ours[our_id, n][j] * (100 if j == 2 else 1):.1f}")
                              for k, n in enumerate(("L2", "Linf")) for j in range(3))]
            for (label, *_), our_id, row in zip(GARAEV_T4.rows, models, GARAEV_T4.rows, strict=True)]
    mine = {(i, n): ours[m, n][:3] for i, m in enumerate(models) for n in ("L2", "Linf")}

    def spread(values: dict, bound: float) -> list[bool]:
        linf_above = all(values[i, "Linf"][0] > values[i, "L2"][1] for i in range(3))
        at_bound = all(values[i, "Linf"][1] >= 0.99 * bound for i in range(3))
        concentrated = all(values[2, "L2"][j] < min(values[0, "L2"][j], values[1, "L2"][j]) for j in (0, 1))
        more = all(values[i, "Linf"][2] > values[i, "L2"][2] for i in range(3))
        return [linf_above, at_bound, concentrated, more]

    names = ["Linf C1 above L2 C2 for every model", "Linf C2 reaches sqrt(d) for every model",
             "the Linf-trained model has the smallest L2 C1 and C2", "Linf misclassifies more than L2, every model"]
    checks = [Check(name, p, o) for name, p, o in zip(names, spread(theirs, np.sqrt(3 * 32 * 32)),
                                                       spread(mine, sqrt_d), strict=True)]
    text = (f"under PGD-Linf 0.1 C1-C2 span {min(ours[m, 'Linf'][0] for m in models):.1f}-"
            f"{max(ours[m, 'Linf'][1] for m in models):.1f} (sqrt(d) = {sqrt_d:.0f}), under PGD-L2 1 "
            f"{min(ours[m, 'L2'][0] for m in models):.1f}-{max(ours[m, 'L2'][1] for m in models):.1f}; misclassified "
            + ", ".join(f"{m} {share(ours[m, 'L2'][2])} (L2) / {share(ours[m, 'Linf'][2])} (Linf)" for m in models)
            + ".")
    header = ["Model", "ours", *(f"{n} {c}" for n in ("L2", "Linf") for c in ("C1", "C2", "% misclassified"))]
    return checked(GARAEV_T4, "Linf perturbations spread over every pixel (coefficients far above L2's, C2 at "
                   "sqrt(d)); L2 ones concentrate, most for the Linf-trained model; and the Linf attack misclassifies "
                   "more.", text, pd.DataFrame(rows, columns=header), checks,
                   "`norm_ratios` of model_id in (" + ", ".join(models) + ") for the PGD sweeps at L2 1 and Linf 0.1 "
                   "(c1, c2, misclassified, sqrt_d).",
                   f"{FASHION}: sqrt(d) = {sqrt_d:.0f}, theirs 55.4 (CIFAR-10); LeNet5s for ResNet50s; PGD-L2 1 and "
                   "PGD-Linf 0.1 (20 steps) for their PGD-L2 0.25 and PGD-Linf 0.03; a pixel at 0 (the background of "
                   "most Fashion-MNIST images) cannot move below it, so a Linf perturbation rarely fills all d pixels.",
                   [View("norms", "Norm ratios of the three models",
                         (("models", ",".join(models)), ("sweeps", ",".join(
                             _sweep(study, models[0], "pgd", n) for n in ("Linf", "L2")))))])


# ---- Tables 7 and A3: SVCCA between clean and adversarial representations


def _svcca(study: Study, model: str, norm: str, eps: float) -> float:
    rows = study.analysed("svcca", model, norm, eps)
    rows = rows[rows.layer == LAYER]
    if rows.empty:
        raise MissingResult(f"svcca of {LAYER} on {model}")
    return float(rows["mean"].iloc[0])


def _svcca_table(paper: PaperTable, budgets: tuple[tuple[str, float], tuple[str, float]], claim: str) -> Builder:
    """Rows 0 and 1 of ``paper`` are PGD with the two ``budgets`` (norm, our eps): the first is the better case."""
    def build(study: Study) -> Counterpart:
        models = study.models_for("undefended", "pgd_l2", "pgd_linf")
        ours = {(m, i): _svcca(study, m, *budgets[i]) for m in models for i in (0, 1)}
        rows = []
        for index, (attack, params, *paper_cells) in enumerate(paper.rows):
            mine = [f"{ours[m, index]:.3f}" if index < 2 else "—" for m in models]
            at = f"PGD {budgets[index][0]} {budgets[index][1]:g}, 20 steps" if index < 2 else "— (not analysed)"
            rows.append([attack, params, at, *(beside(p, m) for p, m in zip(paper_cells, mine, strict=True))])
        checks = [Check(f"{m}: PGD-{budgets[1][0]} {budgets[1][1]:g} below PGD-{budgets[0][0]} {budgets[0][1]:g}",
                        float(paper.rows[1][2 + i]) < float(paper.rows[0][2 + i]), ours[m, 1] < ours[m, 0])
                  for i, m in enumerate(models)]
        header = ["Attack", "Parameters", "ours", *(f"{c} / ours: {m}" for c, m in zip(paper.columns[2:], models,
                                                                                       strict=True))]
        text = "; ".join(f"{m} {ours[m, 0]:.3f} under PGD-{budgets[0][0]} {budgets[0][1]:g}, {ours[m, 1]:.3f} under "
                         f"PGD-{budgets[1][0]} {budgets[1][1]:g}" for m in models) + f" ({LAYER} layer)."
        sweeps = ",".join(_sweep(study, models[0], "pgd", n) for n, _ in budgets)
        return checked(paper, claim, text, pd.DataFrame(rows, columns=header), checks,
                       f"`svcca` rows of model_id in ({', '.join(models)}), layer {LAYER}, PGD sweeps at the eps "
                       "shown; column `mean`.",
                       f"{FASHION}; LeNet5s for ResNet50s; 500 images (theirs: a batch of 128); FGSM is not among "
                       "the shipped study's analysed sweeps ([analysis] sweeps).",
                       [View("svcca", f"SVCCA of {models[0]} per layer",
                             (("models", ",".join(models)), ("svcca_model", models[0]), ("layer", LAYER),
                              ("sweeps", sweeps)))])
    return guarded(paper, build)


# ---- Table 8: distance to the decision boundary

T8_ROLES = ("resnet_undefended", "resnet_pgd_l2", "resnet_pgd_linf", "undefended", "pgd_l2", "pgd_linf")


def _table8(study: Study) -> Counterpart:
    models = study.models_for(*T8_ROLES)
    stats = boundary_summary(study.tables["boundary"])
    missing = [m for m in models if m not in stats.index]
    if missing:
        raise MissingResult(f"boundary of {', '.join(missing)}")
    rows = [[label, model, beside(dist, f"{stats.loc[model, 'mean']:.3f}"),
             beside(steps, f"{stats.loc[model, 'steps']:.2f}")]
            for (label, dist, steps), model in zip(GARAEV_T8.rows, models, strict=True)]
    regular, _, linf = models[:3]
    paper = float(GARAEV_T8.rows[2][1]) < float(GARAEV_T8.rows[0][1])
    closer = bool(stats.loc[linf, "mean"] < stats.loc[regular, "mean"])
    text = (f"{linf} lies at {stats.loc[linf, 'mean']:.3f} from its boundary, {regular} at "
            f"{stats.loc[regular, 'mean']:.3f}: Linf training moved our ResNet {'closer' if closer else 'farther'}; "
            f"{models[1]} at {stats.loc[models[1], 'mean']:.3f}; LeNet5s: " + ", ".join(
                f"{m} {stats.loc[m, 'mean']:.3f}" for m in models[3:]) + ".")
    return checked(GARAEV_T8, "Linf adversarial training decreased the ResNet18's distance to the decision boundary "
                   "(0.1018 against the regular 0.1793), while L2 training increased it.", text,
                   pd.DataFrame(rows, columns=["Model", "ours", "Mean L2 Distance / ours", "Steps / ours"]),
                   [Check("Linf-trained ResNet closer to the boundary than the regular one", paper, closer)],
                   "`boundary` rows of model_id in (" + ", ".join(models) + "), over correctly classified samples "
                   "(steps > 0): mean distance_l2 and mean steps (`engine.analysis.boundary.boundary_summary`).",
                   f"{FASHION}; resnet_small (5-step PGD, like their ResNet18) and LeNet5 (for their pre-trained "
                   "ResNet50s); DeepFool up to 50 steps on the first 500 test images; distances grow with the "
                   "input's scale, so compare models, not absolute values.",
                   [View("norms", "Distance to the boundary", (("models", ",".join(models)),))])


# ---- Figures 1-3: loss distributions and the A-distance; paper budgets L2 0.5 and Linf 0.05 (twice standard)

LOSS_BUDGET = {"L2": 2.0, "Linf": 0.2}


def _a_distance(study: Study, model: str, norm: str) -> float:
    return float(study.analysed("a_distance", model, norm, LOSS_BUDGET[norm]).a_distance.iloc[0])


def _loss_figure(figure: PaperFigure, role: str) -> Builder:
    def build(study: Study) -> Counterpart:
        models = study.models_for("undefended", "pgd_l2", "pgd_linf")
        model = study.model(role)
        distance = {(m, n): _a_distance(study, m, n) for m in models for n in LOSS_BUDGET}
        regular = models[0]
        if model == regular:
            checks = [Check(f"{regular} has the largest A-distance under PGD-{n}", None,
                            all(distance[regular, n] >= distance[m, n] for m in models)) for n in LOSS_BUDGET]
        else:
            checks = [Check(f"{model} closer than {regular} under PGD-{n}", None,
                            distance[model, n] < distance[regular, n]) for n in LOSS_BUDGET]
            checks.append(Check(f"{model} farther apart under Linf than under L2", None,
                                distance[model, "Linf"] > distance[model, "L2"]))
        shown = models if model == regular else [model, regular]
        frame = pd.DataFrame([[m, *(f"{distance[m, n]:.2f}" for n in LOSS_BUDGET)] for m in shown],
                             columns=["model", *(f"A-distance PGD-{n} {eps:g}" for n, eps in LOSS_BUDGET.items())])
        text = "; ".join(f"{m}: " + ", ".join(f"{distance[m, n]:.2f} (PGD-{n})" for n in LOSS_BUDGET) for m in shown)
        sweep = _sweep(study, model, "pgd", "Linf")
        return checked(figure, figure.says, f"A-distance (0: same, 2: separable) {text}.", frame, checks,
                       f"`a_distance` of model_id in ({', '.join(shown)}) for the PGD sweeps at L2 2 and Linf 0.2; "
                       "the histograms from `per_sample` (column loss).",
                       f"{FASHION}; LeNet5 for ResNet50; PGD-L2 2 and PGD-Linf 0.2 (twice the standard radii, like "
                       "their L2 0.5 and Linf 0.05), 20 steps; the paper prints no A-distance values in its text.",
                       [View("losses", f"Loss distributions of {', '.join(shown)}",
                             (("models", ",".join(shown)), ("sweep", sweep), (f"eps_{sweep}", "0,0.1,0.2")))])
    return guarded(figure, build)


# ---- Figures 4-8: PCA of the ResNet's penultimate features


def _cluster(study: Study, model: str, norm: str | None) -> float:
    """Share of ``model``'s points (clean, or PGD in ``norm`` at the standard radius) nearest their own class's
    clean centre in the PCA plane (``findings.cluster_share``)."""
    pca = study.tables["pca"]
    rows = pca[pca.model_id == model]
    clean_rows = rows[rows.input == "clean"]
    if norm is None:
        return cluster_share(clean_rows, clean_rows)
    adversarial = rows[(rows.input == "pgd") & (rows.norm == norm) & np.isclose(rows.eps, STANDARD[norm])]
    if clean_rows.empty or adversarial.empty:
        raise MissingResult(f"pca of PGD-{norm} on {model}")
    return cluster_share(clean_rows, adversarial)


PCA_CASES = {  # figure: ((role, norm) it shows, (role, norm) it is compared with, the check; norm None: clean
    "Figure 4": (("resnet_undefended", None), None, "most clean points nearest their own class centre"),
    "Figure 5": (("resnet_undefended", "L2"), ("resnet_undefended", None), "PGD-L2 mixes the classes"),
    "Figure 6": (("resnet_undefended", "Linf"), ("resnet_undefended", "L2"), "PGD-Linf mixes them more than PGD-L2"),
    "Figure 7": (("resnet_pgd_linf", "L2"), ("resnet_undefended", "L2"), "Linf training keeps more clustered"),
    "Figure 8": (("resnet_pgd_l2", "Linf"), ("resnet_undefended", "Linf"), "L2 training keeps more clustered"),
}


def _holds(number: str, shown: float, other: float | None) -> bool:
    if other is None:
        return shown > 0.5
    if number == "Figure 5":
        return shown < other - NO_PROTECTION
    return shown < other if number == "Figure 6" else shown > other


def _pca_figure(figure: PaperFigure) -> Builder:
    def build(study: Study) -> Counterpart:
        shown, compared, name = PCA_CASES[figure.number]
        cases = [shown] + ([compared] if compared else [])
        values = [(study.model(role), norm, _cluster(study, study.model(role), norm)) for role, norm in cases]
        check = Check(name, None, _holds(figure.number, values[0][2], values[1][2] if compared else None))
        frame = pd.DataFrame([[m, f"PGD-{n} {STANDARD[n]:g}" if n else "clean", share(v)] for m, n, v in values],
                             columns=["model", "inputs", "nearest their own class centre"])
        text = "; ".join(f"{m} {'clean' if n is None else 'PGD-' + n}: {share(v)}" for m, n, v in values)
        text += f" (chance: {1 / study.tables['pca'].label.nunique():.0%})"
        model, norm, _ = values[0]
        sweep = _sweep(study, model, "pgd", norm or "Linf")
        return checked(figure, figure.says, f"points nearest their own class's clean centre: {text}.", frame,
                       [check], f"`pca` rows of model_id {model} (input clean, and pgd at the standard radius): "
                       "share of points nearest their class's clean centre (`findings.cluster_share`).",
                       f"{FASHION}; resnet_small for ResNet18, 20-step PGD like theirs at Linf 0.1 / L2 1 (the paper "
                       "gives no eps); a share of points stands in for looking at the scatter.",
                       [View("latent", f"PCA of {model}", (("models", model), ("sweep", sweep),
                                                           (f"eps1_{sweep}", f"{STANDARD[norm or 'Linf']:g}")))])
    return guarded(figure, build)


def _inception(study: Study) -> Counterpart:
    return not_here(GARAEV_A1, "InceptionV3 takes 224 x 224 inputs (CIFAR-10 upscaled): ImageNet-scale compute, "
                    "beyond this CPU study", CONFIG)


COUNTERPARTS: tuple[tuple[PaperTable | PaperFigure, Builder], ...] = (
    (GARAEV_T1, _robust_table(GARAEV_T1, "robust_l2", "pgd_l2")),
    (GARAEV_T2, _robust_table(GARAEV_T2, "robust_linf", "pgd_linf")),
    (GARAEV_T3, guarded(GARAEV_T3, _table3)),
    (GARAEV_T4, guarded(GARAEV_T4, _table4)),
    (GARAEV_T5, lambda study: not_here(GARAEV_T5, "The shipped study analyses only its two PGD sweeps "
                                       "(`[analysis] sweeps` of configs/fashion_mnist.toml), not FGSM", CONFIG)),
    (GARAEV_T6, lambda study: not_here(GARAEV_T6, "CINIC-10 cannot be obtained offline here", CONFIG)),
    (GARAEV_T7, _svcca_table(GARAEV_T7, (("L2", 1.0), ("Linf", 0.1)),
                             "Linf attacks have the most significant impact on the representations: each model's "
                             "lowest mean correlation is under Linf, even for the Linf-trained model.")),
    (GARAEV_T8, guarded(GARAEV_T8, _table8)),
    (GARAEV_A1, _inception),
    (GARAEV_A2, lambda study: not_here(GARAEV_A2, "CINIC-10 cannot be obtained offline here; the paper config "
                                       "evaluates on CINIC-10, training on it takes `[data] dataset = \"cinic10\"`",
                                       CONFIG)),
    (GARAEV_A3, _svcca_table(GARAEV_A3, (("L2", 1.0), ("Linf", 0.5)),
                             "The worst case of Tables 1-2 (Linf 0.25) moves the representations far more than the "
                             "best (L2 0.25), for every model.")),
    (GARAEV_F1, _loss_figure(GARAEV_F1, "pgd_linf")),
    (GARAEV_F2, _loss_figure(GARAEV_F2, "pgd_l2")),
    (GARAEV_F3, _loss_figure(GARAEV_F3, "undefended")),
    *((figure, _pca_figure(figure)) for figure in (GARAEV_F4, GARAEV_F5, GARAEV_F6, GARAEV_F7, GARAEV_F8)),
)
