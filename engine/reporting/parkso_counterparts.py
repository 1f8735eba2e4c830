"""Park & So 2020's tables and figures beside their counterparts in a study (``papers.PARK_*``).

Our models stand in for theirs by role and training: M (with their augmentation) is ``undefended_augmented``
and the models pre-generated-trained with augmentation, M' the ``undefended`` one and those without; the
attacker's surrogates A and A' are the roles ``attacker`` and ``attacker_plain``. Their test sets are FGSM
(Linf 0.2), JSMA (theta 1, gamma 0.2) and C&W-L2 (confidence 5) examples crafted on the surrogate
(``findings.PARK_SO_SETS``). Accuracies are in percent, as the paper prints them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from engine.reporting.findings import NO_PROTECTION, PARK_SO_SETS, MissingResult, Study, generation_seconds
from engine.reporting.papers import (
    PARK_F1,
    PARK_F2,
    PARK_F3,
    PARK_F4,
    PARK_SO_EXAMPLES,
    PARK_T1,
    PARK_T2,
    PARK_T3,
    PARK_T4,
    PARK_T5,
    TRAINED_ROWS,
    PaperFigure,
    PaperTable,
)
from engine.reporting.side_by_side import (
    FASHION,
    Builder,
    Check,
    Counterpart,
    View,
    beside,
    checked,
    guarded,
    not_here,
)

CONFIG = "configs/parkso2020_mnist.toml"
SETS = {"FGSM": PARK_SO_SETS[0], "JSMA": PARK_SO_SETS[1], "C&W": PARK_SO_SETS[2]}  # their column -> our test set
NAMES = {"FGSM": "fgsm", "JSMA": "jsma", "C&W": "cw"}
TEST_COLUMNS = ("Clean", *SETS)
WINDOW = 2 / 5  # the paper's epoch window, 20-50 of 50 (LeNet5): from two fifths of training on
MUCH_LOWER = 0.10  # "much lower than clean": at least 10 points below


def _setting(study: Study) -> str:
    """How our pre-generated models were trained, from the models table, next to the paper's."""
    pregen = study.models[study.models.training_mode == "pregenerated"]
    epochs = "/".join(f"{epochs:g}" for epochs in sorted(set(pregen.epochs)))
    low, high = int(pregen.train_samples.min()), int(pregen.train_samples.max())
    return (f"{FASHION}; our pre-generated models train {epochs} epochs on {low:,} to {high:,} images, clean and "
            "adversarial (theirs 50 epochs on MNIST's 60,000 clean images and their adversarial examples); "
            "surrogates are LeNet5s trained with another seed.")

Values = dict[tuple[str, str], float]  # (trained-model row, test column) -> accuracy in percent


def _model(study: Study, row: str, augment: bool) -> str:
    """Our model for one of the paper's trained-model rows ("Clean", "FGSM + JSMA", ...), M or M'."""
    if row == "Clean":
        return study.model("undefended_augmented" if augment else "undefended")
    return study.pregenerated(tuple(NAMES[name] for name in row.split(" + ")), augment)


def _pct(value: float) -> str:
    return f"{value:.2f}"


def _printed(paper: PaperTable, row: str, column: str) -> str:
    """The paper's cell in ``row`` and ``column`` as it prints it."""
    return paper.text(paper.row(row, column))


def _trained_on(row: str, column: str) -> bool:
    return column in row.split(" + ")


def _separation(values: Values, column: str) -> bool:
    """Every model trained on ``column``'s attack beats every model not trained on it, on its test set."""
    inside = [v for (row, c), v in values.items() if c == column and _trained_on(row, column)]
    outside = [v for (row, c), v in values.items() if c == column and not _trained_on(row, column)]
    return min(inside) > max(outside)


def _paper_values(paper: PaperTable, stat: str) -> Values:
    return {(row, column): float(paper.row(row, f"{stat} {column}")) for row in TRAINED_ROWS for column in TEST_COLUMNS}


def _transfer(study: Study, model: str, column: str, attacker: str) -> float:
    """Accuracy (percent) of ``model`` on one test set crafted on ``attacker``; "Clean" is its clean accuracy."""
    if column == "Clean":
        return 100 * float(study.models.loc[model, "clean_accuracy"])
    return 100 * study.transferred(model, SETS[column], attacker)


def _transfer_view(study: Study, models: list[str]) -> View:
    return View("accuracy", "White-box and transferred attacks (FGSM Linf 0.2)",
                (("models", ",".join(models)), ("transfer_attack", "fgsm Linf"), ("transfer_eps_fgsm_Linf", "0.2")))


# ---- Table 1: generation time


def _table1(study: Study) -> Counterpart:
    lenet, resnet = (generation_seconds(study, study.model(role)) for role in ("undefended", "resnet_undefended"))
    keys = list(SETS.values())
    if len(lenet) < len(keys):
        raise MissingResult("white-box FGSM, JSMA and C&W sweeps on the undefended LeNet5")
    rows = []
    for (label, params, on_lenet, on_resnet), (name, norm, _) in zip(PARK_T1.rows, keys, strict=True):
        ours_resnet = f"{resnet[name, norm][0]:,.0f}" if (name, norm) in resnet else "—"
        rows.append([label, params, beside(f"{on_lenet:,}", f"{lenet[name, norm][0]:,.0f}"),
                     beside(f"{on_resnet:,}", ours_resnet)])
    paper_lenet = [float(row[2]) for row in PARK_T1.rows]
    paper_resnet = [float(row[3]) for row in PARK_T1.rows]
    ours_lenet = [lenet[name, norm][0] for name, norm, _ in keys]
    both = [(i, resnet[name, norm][0]) for i, (name, norm, _) in enumerate(keys) if (name, norm) in resnet]
    if not both:
        raise MissingResult("white-box FGSM or C&W sweeps on the undefended ResNet")
    checks = [Check("LeNet5: FGSM cheapest, C&W dearest", sorted(paper_lenet) == paper_lenet,
                    sorted(ours_lenet) == ours_lenet),
              Check("the ResNet costs more than LeNet5 per attack", all(r > le for r, le in zip(
                  paper_resnet, paper_lenet, strict=True)), all(seconds > ours_lenet[i] for i, seconds in both))]
    device = study.device or "unrecorded device"
    text = (f"seconds for {PARK_SO_EXAMPLES:,} examples on {device}, from the white-box sweeps' images per second: "
            "LeNet5 " + ", ".join(f"{name} {lenet[name, norm][0]:,.0f}" for name, norm, _ in keys) + "; ResNet "
            + ", ".join(f"{keys[i][0]} {seconds:,.0f}" for i, seconds in both) + ".")
    models = [study.model("undefended"), study.model("resnet_undefended")]
    return checked(PARK_T1, "FGSM is by far the cheapest attack and C&W the dearest; the ResNet costs more than "
                   "LeNet5.", text, pd.DataFrame(rows, columns=["Attack Algorithm", "Parameters",
                                                                f"LeNet5 s / ours: {models[0]}",
                                                                f"ResNet s / ours: {models[1]}"]), checks,
                   f"`robust_accuracy`, white-box rows of model_id in ({', '.join(models)}): 60,000 / the fastest "
                   "sweep's images_per_second per attack (`findings.generation_seconds`).",
                   f"ours on {device}, theirs on an RTX 2080Ti; our white-box C&W is a 5 x 100-step search at "
                   "confidence 0, JSMA did not run on the ResNet; absolute seconds differ by hardware, the order "
                   "is what compares.",
                   [View("accuracy", "Attack costs (results table, images/s)", (("models", ",".join(models)),))])


# ---- Tables 2 and 4: accuracy of the eight trained models, with and without augmentation


def _window_values(study: Study, rows: dict[str, str]) -> tuple[Values, Values]:
    """Max and median (percent) of each model's per-epoch accuracy over the paper's window, per test column;
    ``rows`` maps the paper's row to our model."""
    curves = study.tables["training_curves"]
    suffix = f"-from-{study.model('attacker')}"
    names = {"Clean": "clean", **{c: next((s for s in curves.test_set.unique() if s.startswith(f"{NAMES[c]}-")
                                           and s.endswith(suffix)), "") for c in SETS}}
    maxima, medians = {}, {}
    for row, model in rows.items():
        mine = curves[curves.model_id == model]
        window = mine[mine.epoch >= mine.epoch.max() * WINDOW]
        for column, test_set in names.items():
            values = window[window.test_set == test_set].accuracy
            if values.empty:
                raise MissingResult(f"per-epoch accuracy of {model} on {test_set or column + suffix}")
            maxima[row, column], medians[row, column] = 100 * values.max(), 100 * values.median()
    return maxima, medians


def _table2(study: Study) -> Counterpart:
    models = {row: _model(study, row, augment=True) for row in TRAINED_ROWS}
    maxima, medians = _window_values(study, models)
    rows = [[row, models[row], *(beside(_printed(PARK_T2, row, f"{stat} {c}"), _pct(values[row, c]))
                                 for stat, values in (("Maximum", maxima), ("Median", medians)) for c in TEST_COLUMNS)]
            for row in TRAINED_ROWS]
    paper = _paper_values(PARK_T2, "Median")
    checks = _coverage(paper, medians)
    return checked(PARK_T2, "A model trained on one attack's examples classifies that attack's set but not the "
                   "others'; several attacks cover each of theirs (and only those), while clean accuracy stays.",
                   _coverage_text(medians, "median"), pd.DataFrame(rows, columns=["Trained model", "ours",
                                                                                  *PARK_T2.columns[1:]]), checks,
                   "`training_curves` of the models shown on the test sets clean and *-from-" + study.model("attacker")
                   + ", epochs from 2/5 of each model's training on: max and median of accuracy.",
                   _setting(study) + " Window: epochs >= 2/5 of training (theirs 20-50 of 50).",
                   [View("training", "Per-epoch curves of the pre-generated models",
                         (("models", ",".join(models.values())),))])


def _coverage(paper: Values, ours: Values) -> list[Check]:
    checks = [Check(f"{c}: every model trained on it beats every other on its set", _separation(paper, c),
                    _separation(ours, c)) for c in SETS]
    kept = "FGSM + JSMA + C&W"
    checks.append(Check("all three keep clean accuracy (within 1 point of Clean)",
                        paper[kept, "Clean"] >= paper["Clean", "Clean"] - 1,
                        ours[kept, "Clean"] >= ours["Clean", "Clean"] - 1))
    return checks


def _coverage_text(values: Values, stat: str) -> str:
    gaps = []
    for c in SETS:
        inside = min(v for (row, col), v in values.items() if col == c and _trained_on(row, c))
        outside = max(v for (row, col), v in values.items() if col == c and not _trained_on(row, c))
        gaps.append(f"{c}: worst trained {inside:.1f} against best untrained {outside:.1f}")
    return (f"{stat} accuracy (percent): " + "; ".join(gaps) + f"; clean: Clean {values['Clean', 'Clean']:.2f}, "
            f"all three {values['FGSM + JSMA + C&W', 'Clean']:.2f}.")


def _table4(study: Study) -> Counterpart:
    attacker = study.model("attacker_plain")
    models = {row: _model(study, row, augment=False) for row in TRAINED_ROWS}
    final = {(row, c): _transfer(study, model, c, attacker) for row, model in models.items() for c in TEST_COLUMNS}
    rows = [[row, models[row], *(f"{_printed(PARK_T4, row, f'Maximum {c}')} / "
                                 f"{_printed(PARK_T4, row, f'Median {c}')} / {_pct(final[row, c])}"
                                 for c in TEST_COLUMNS)] for row in TRAINED_ROWS]
    checks = _coverage(_paper_values(PARK_T4, "Median"), final)
    return checked(PARK_T4, "Without augmentation as with it: adversarial training is effective against the attack "
                   "it was trained on.", _coverage_text(final, "final-epoch"),
                   pd.DataFrame(rows, columns=["Trained model", "ours",
                                               *(f"{c}: max / median / ours" for c in TEST_COLUMNS)]), checks,
                   f"`robust_accuracy`, rows with source_model_id {attacker} (FGSM Linf 0.2, JSMA L0 inf, C&W L2 inf) "
                   "of the models shown; clean from `models`.",
                   _setting(study) + f" The study has no per-epoch test sets from {attacker}: ours is the final epoch "
                   "(clean: the full test set).", [_transfer_view(study, list(models.values()))])


# ---- Table 5: the augmentation mismatch M/M' x A/A'

MATCHED = {"M": "A", "M'": "A'"}


def _table5(study: Study) -> Counterpart:
    attackers = {"A": study.model("attacker"), "A'": study.model("attacker_plain")}
    cells, rows = {}, []
    for row in PARK_T5.rows[:-1]:
        trained, defender = str(row[0]), str(row[1])
        model = _model(study, trained, augment=defender == "M")
        mine = {(c, a): _transfer(study, model, c, attackers[a]) for c in SETS for a in attackers}
        cells.update({(trained, defender, c, a): v for (c, a), v in mine.items()})
        rows.append([trained, defender, model, *(beside(PARK_T5.text(p), _pct(mine[c, a])) for p, (c, a) in zip(
            row[2:8], mine, strict=True)), beside(PARK_T5.text(row[8]), _pct(float(np.mean(list(mine.values())))))])
    means = [float(np.mean([v for (_, _, c, a), v in cells.items() if (c, a) == key])) for key in
             ((c, a) for c in SETS for a in attackers)]
    rows.append(["Average", "", "", *(beside(PARK_T5.text(p), _pct(m))
                                      for p, m in zip(PARK_T5.rows[-1][2:8], means, strict=True)), ""])
    paper = {(str(r[0]), str(r[1]), c, a): float(r[2 + 2 * i + j]) for r in PARK_T5.rows[:-1]
             for i, c in enumerate(SETS) for j, a in enumerate(attackers)}
    checks = [Check(name, _mismatch(paper, row, sign), _mismatch(cells, row, sign)) for name, row, sign in (
        ("undefended: the attack succeeds more with matched augmentation (4+ of 6 cells)", "Clean", -1),
        ("all three attacks: matched augmentation defends better (4+ of 6 cells)", "FGSM + JSMA + C&W", 1))]
    text = "; ".join(f"{row}: {_count(cells, row, sign)} of 6 cells {'below' if sign < 0 else 'above'} their "
                     "mismatched counterpart" for row, sign in (("Clean", -1), ("FGSM + JSMA + C&W", 1))) + "."
    return checked(PARK_T5, "For an undefended model the attack is more successful when the augmentation matches; for "
                   "an adversarially trained one (all three attacks) robustness is higher when it matches.", text,
                   pd.DataFrame(rows, columns=[*PARK_T5.columns[:2], "ours", *(f"{c} / ours" for c in
                                                                               PARK_T5.columns[2:])]), checks,
                   f"`robust_accuracy`, rows with source_model_id in ({', '.join(attackers.values())}) at FGSM Linf "
                   "0.2, JSMA L0 inf, C&W L2 inf, of the 16 models shown.", _setting(study) + " Ours: the final epoch.",
                   [_transfer_view(study, [_model(study, "Clean", True), _model(study, "Clean", False)])])


def _count(cells: dict, row: str, sign: int) -> int:
    """Cells of ``row`` (both defenders, three sets) where matched minus mismatched accuracy has ``sign``."""
    count = 0
    for defender, matched in MATCHED.items():
        other = "A'" if matched == "A" else "A"
        count += sum(sign * (cells[row, defender, c, matched] - cells[row, defender, c, other]) > 0 for c in SETS)
    return count


def _mismatch(cells: dict, row: str, sign: int) -> bool:
    return _count(cells, row, sign) >= 4


# ---- Figures 3 and 4


def _figure3(study: Study) -> Counterpart:
    singles = TRAINED_ROWS[:4]
    models = {row: _model(study, row, augment=True) for row in singles}
    _, medians = _window_values(study, models)
    paper = _paper_values(PARK_T2, "Median")
    names, paper_checks, our_checks = [], [], []
    for name, test in _panel_tests():
        names.append(name)
        paper_checks.append(test(paper))
        our_checks.append(test(medians))
    checks = [Check(n, p, o) for n, p, o in zip(names, paper_checks, our_checks, strict=True)]
    rows = [[f"({'abcd'[i]}) {row}", models[row], *(beside(_pct(paper[row, c]), _pct(medians[row, c]))
                                                    for c in TEST_COLUMNS)] for i, row in enumerate(singles)]
    text = "median accuracy over the window (percent): " + "; ".join(
        f"{row} " + ", ".join(f"{c} {medians[row, c]:.1f}" for c in TEST_COLUMNS) for row in singles) + "."
    return checked(PARK_F3, PARK_F3.says, text, pd.DataFrame(rows, columns=["panel", "ours", *(
        f"{c}: Table 2 median / ours" for c in TEST_COLUMNS)]), checks,
        "`training_curves` of the models shown on clean and *-from-" + study.model("attacker") + " test sets; "
        "median over epochs from 2/5 of training on. The paper's numbers: Table 2's medians (the same runs).",
        _setting(study),
        [View("training", "Per-epoch curves, panels (a)-(d)", (("models", ",".join(models.values())),))])


def _panel_tests() -> list[tuple[str, Callable[[Values], bool]]]:
    def gain(values: Values, row: str, column: str) -> float:
        return values[row, column] - values["Clean", column]

    return [
        ("(a) every attack set at least 10 points below clean",
         lambda v: all(v["Clean", c] < v["Clean", "Clean"] - 100 * MUCH_LOWER for c in SETS)),
        ("(b) FGSM training: FGSM within 5 points of clean",
         lambda v: v["FGSM", "FGSM"] >= v["FGSM", "Clean"] - 100 * NO_PROTECTION),
        ("(b) FGSM training helps C&W more than JSMA", lambda v: gain(v, "FGSM", "C&W") > gain(v, "FGSM", "JSMA")),
        ("(c) JSMA training helps JSMA most", lambda v: max(SETS, key=lambda c: gain(v, "JSMA", c)) == "JSMA"),
        ("(d) C&W training helps C&W most", lambda v: max(SETS, key=lambda c: gain(v, "C&W", c)) == "C&W"),
    ]


def _figure4(study: Study) -> Counterpart:
    attackers = {True: study.model("attacker"), False: study.model("attacker_plain")}
    singles = TRAINED_ROWS[:4]
    ours = {(row, aug, c): _transfer(study, _model(study, row, aug), c, attackers[aug])
            for row in singles for aug in (True, False) for c in TEST_COLUMNS}
    theirs = {(row, aug, c): float((PARK_T2 if aug else PARK_T4).row(row, f"Median {c}"))
              for row in singles for aug in (True, False) for c in TEST_COLUMNS}

    def adversarial(values: dict, row: str, aug: bool) -> float:
        return float(np.mean([values[row, aug, c] for c in SETS]))

    checks = [Check("(a) augmentation keeps or improves clean accuracy", theirs["Clean", True, "Clean"] >=
                    theirs["Clean", False, "Clean"], ours["Clean", True, "Clean"] >= ours["Clean", False, "Clean"])]
    checks += [Check(f"({'abcd'[i]}) {row}: lower adversarial accuracy with augmentation",
                     adversarial(theirs, row, True) < adversarial(theirs, row, False),
                     adversarial(ours, row, True) < adversarial(ours, row, False)) for i, row in enumerate(singles)]
    rows = [[f"({'abcd'[i]}) {row}", f"{_model(study, row, True)} / {_model(study, row, False)}",
             beside(f"{theirs[row, True, 'Clean']:.2f} vs {theirs[row, False, 'Clean']:.2f}",
                    f"{ours[row, True, 'Clean']:.2f} vs {ours[row, False, 'Clean']:.2f}"),
             beside(f"{adversarial(theirs, row, True):.2f} vs {adversarial(theirs, row, False):.2f}",
                    f"{adversarial(ours, row, True):.2f} vs {adversarial(ours, row, False):.2f}")]
            for i, row in enumerate(singles)]
    text = "mean accuracy on the three attack sets, M (on A) vs M' (on A'): " + "; ".join(
        f"{row} {adversarial(ours, row, True):.1f} vs {adversarial(ours, row, False):.1f}" for row in singles) + "."
    return checked(PARK_F4, PARK_F4.says, text, pd.DataFrame(rows, columns=[
        "panel", "ours: M / M'", "clean, M vs M': paper / ours", "mean of FGSM, JSMA, C&W, M vs M': paper / ours"]),
        checks, "`robust_accuracy`, transfer rows from " + " and ".join(attackers.values()) + " of the models shown; "
        "clean from `models`. The paper's numbers: the medians of Tables 2 (M) and 4 (M').",
        _setting(study) + " Ours: the final epoch.", [_transfer_view(study, [_model(study, r, a) for r in singles
                                                                    for a in (True, False)])])


COUNTERPARTS: tuple[tuple[PaperTable | PaperFigure, Builder], ...] = (
    (PARK_T1, guarded(PARK_T1, _table1)),
    (PARK_T2, guarded(PARK_T2, _table2)),
    (PARK_T3, lambda study: not_here(PARK_T3, "The shipped ResNets are trained with PGD and on a robust dataset, not "
                                     "on pre-generated examples, and MNIST cannot be downloaded here", CONFIG)),
    (PARK_T4, guarded(PARK_T4, _table4)),
    (PARK_T5, guarded(PARK_T5, _table5)),
    (PARK_F1, lambda study: not_here(PARK_F1, "A figure of example images, no numbers; the app's Attack playground "
                                     "shows FGSM, JSMA and C&W examples of ours", "")),
    (PARK_F2, lambda study: not_here(PARK_F2, "A figure of one augmented training image, no numbers; "
                                     "`engine.data` applies the same rotation, translation and erasing", "")),
    (PARK_F3, guarded(PARK_F3, _figure3)),
    (PARK_F4, guarded(PARK_F4, _figure4)),
)
