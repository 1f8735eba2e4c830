"""The numbered tables and figures of the two papers the study reproduces, transcribed from their full
texts (``shared/papers/``): Garaev, Rasheed & Khan 2024, "Not So Robust after All" (Algorithms 17:162) and
Park & So 2020, "On the Effectiveness of Adversarial Training..." (Applied Sciences 10:8079).

A table keeps the paper's rows and columns, its numbers as printed (Garaev et al.'s accuracies as shares,
Park & So's as percents). Where the paper packs two numbers into one cell (Garaev et al.'s Tables 3 and A2:
"7 %—Linf attack, 11 %—L2 attack"), the row is split in two, one per attack norm. A figure is its caption and
what the text says it shows, with the numbers the text gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

GARAEV, PARK_SO = "Garaev et al. 2024", "Park & So 2020"

Cell = str | float | int


@dataclass(frozen=True)
class PaperTable:
    """One numbered table of a paper: its caption, column headers and rows as printed."""

    paper: str
    number: str  # as the paper numbers it, e.g. "Table 1", "Table A3"
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    digits: int = 0  # decimals the paper prints its floats with (0: as transcribed)

    def text(self, value: Cell) -> str:
        """A cell as the paper prints it, e.g. 99.40 rather than 99.4."""
        return f"{value:.{self.digits}f}" if self.digits and isinstance(value, float) else str(value)

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame [rows x columns] of text cells, as the paper prints them."""
        return pd.DataFrame([[self.text(cell) for cell in row] for row in self.rows], columns=list(self.columns))

    def row(self, label: Cell, column: str) -> Cell:
        """The cell of the row whose first cell is ``label`` (the first such row) in ``column``."""
        index = self.columns.index(column)
        return next(row[index] for row in self.rows if row[0] == label)


@dataclass(frozen=True)
class PaperFigure:
    """One numbered figure of a paper: its caption and what the paper's text says it shows."""

    paper: str
    number: str
    caption: str
    says: str


Source = PaperTable | PaperFigure

# ---- Garaev, Rasheed & Khan 2024 -----------------------------------------------------------------

ROBUST_COLUMNS = ("Attack", "Norm", "Epsilon", "Steps", "Robust acc.", "Adv. acc.")

GARAEV_T1 = PaperTable(GARAEV, "Table 1", "Robust ResNet50 trained on L2 data set and related adversarial model.",
                       ROBUST_COLUMNS, (
                           ("No attack", "-", "-", "-", 0.813, 0.91),
                           ("FGSM", "L1", 0.5, 1, 0.81, 0.91),
                           ("FGSM", "L2", 0.25, 1, 0.59, 0.87),
                           ("FGSM", "Linf", 0.25, 1, 0.1, 0.13),
                           ("FGSM", "Linf", 0.025, 1, 0.22, 0.62),
                           ("PGD", "L1", 0.5, 100, 0.81, 0.91),
                           ("PGD", "L2", 0.25, 1000, 0.483, 0.82),
                           ("PGD", "L2", 0.5, 100, 0.202, 0.75),
                           ("PGD", "Linf", 0.025, 5, 0.168, 0.54),
                           ("PGD", "Linf", 0.25, 5, 0.08, 0.06),
                           ("C-W", "L2", 0.25, 10, 0.219, 0.86),
                           ("DeepFool", "L2", 0.25, "-", 0.124, 0.127)))

GARAEV_T2 = PaperTable(GARAEV, "Table 2", "Robust ResNet50 trained on Linf data set and related adversarial model.",
                       ROBUST_COLUMNS, (
                           ("No attack", "-", "-", "-", 0.73, 0.87),
                           ("FGSM", "L1", 0.5, 1, 0.73, 0.87),
                           ("FGSM", "L2", 0.25, 1, 0.504, 0.826),
                           ("FGSM", "Linf", 0.25, 1, 0.07, 0.19),
                           ("FGSM", "Linf", 0.025, 1, 0.2, 0.724),
                           ("PGD", "L1", 0.5, 100, 0.731, 0.87),
                           ("PGD", "L2", 0.25, 1000, 0.414, 0.813),
                           ("PGD", "L2", 0.5, 100, 0.195, 0.663),
                           ("PGD", "Linf", 0.025, 5, 0.155, 0.683),
                           ("PGD", "Linf", 0.25, 5, 0.11, 0.052),
                           ("C-W", "L2", 0.25, 10, 0.51, 0.81),
                           ("DeepFool", "L2", 0.25, "-", 0.13, 0.111)))

RESNET18_COLUMNS = ("", "Regular Model", "Adv. Trained, Linf-Norm", "Adv. Trained, L2-Norm")

GARAEV_T3 = PaperTable(GARAEV, "Table 3", "Accuracy of ResNet18-s, trained on CIFAR-10 data set (percent).",
                       RESNET18_COLUMNS, (
                           ("Accuracy on CINIC-10 (no attack)", 76, 75, 72),
                           ("Accuracy on CIFAR-10 (no attack)", 95, 94, 91),
                           ("Accuracy on CINIC-10 (PGD attack, Linf)", 7, 37, 40),
                           ("Accuracy on CINIC-10 (PGD attack, L2)", 11, 36, 43),
                           ("Accuracy on CIFAR-10 (PGD attack, Linf)", 7, 57, 61),
                           ("Accuracy on CIFAR-10 (PGD attack, L2)", 27, 55, 64),
                           ("Accuracy on CINIC-10 (FGSM attack, Linf)", 49, 67, 66),
                           ("Accuracy on CIFAR-10 (FGSM attack, Linf)", 72, 89, 87)))

RATIO_COLUMNS = ("Model", "L2 C1", "L2 C2", "L2 % of Misclassified", "Linf C1", "Linf C2", "Linf % of Misclassified")

GARAEV_T4 = PaperTable(GARAEV, "Table 4", "Coefficients for Equation (5). Testing attacks are PGD with L2 and Linf "
                       "perturbation norms; testing data set is CIFAR-10.", RATIO_COLUMNS, (
                           ("Regular ResNet-50", 4.6, 14.4, 86, 43.6, 55.4, 96),
                           ("Adv. trained ResNet-50 (L2)", 3.3, 14.3, 8, 45.8, 55.4, 52),
                           ("Adv. trained ResNet-50 (Linf)", 1.6, 7.3, 10, 45.4, 55.4, 44)))

GARAEV_T5 = PaperTable(GARAEV, "Table 5", "Coefficients for Equation (5). Testing attack is FGSM (Linf, eps 0.03); "
                       "the testing data set is CIFAR-10.", ("Model", "C1", "C2", "% of Misclassified"), (
                           ("Regular ResNet-50", 41.9, 55.4, 36),
                           ("Adv. trained ResNet-50 (L2)", 40, 55.4, 22),
                           ("Adv. trained ResNet-50 (Linf)", 45.6, 55.4, 13)))

GARAEV_T6 = PaperTable(GARAEV, "Table 6", "Coefficients for Equation (5). Testing attacks are PGD with L2 and Linf "
                       "perturbation norms, the testing data set is CINIC.", RATIO_COLUMNS, (
                           ("Regular ResNet-50", 4.5, 14.8, 70, 39.7, 55.4, 82),
                           ("Adv. trained ResNet-50 (L2)", 4.1, 15.2, 12, 43.3, 55.4, 52),
                           ("Adv. trained ResNet-50 (Linf)", 1.2, 7.3, 15, 43.5, 55.4, 37)))

SVCCA_COLUMNS = ("Attack", "Parameters", "Regular Model", "Adv. Trained, L2", "Adv. Trained, Linf")

GARAEV_T7 = PaperTable(GARAEV, "Table 7", "Mean correlation coefficient for different models. The values of the "
                       "lowest mean correlation coefficients for each model are bold.", SVCCA_COLUMNS, (
                           ("PGD", "L2, eps = 0.25, steps = 100", 0.686, 0.981, 0.989),
                           ("PGD", "Linf, eps = 0.025, steps = 100", 0.587, 0.751, 0.822),
                           ("FGSM", "L2, eps = 0.25", 0.833, 0.982, 0.991),
                           ("FGSM", "Linf, eps = 0.025", 0.618, 0.78, 0.837)))

GARAEV_T8 = PaperTable(GARAEV, "Table 8", "Mean distance of samples to decision boundary.",
                       ("Model", "Mean L2 Distance", "Steps"), (
                           ("Regularly trained ResNet18", 0.1793, 1.92),
                           ("Adversarially trained ResNet18 (L2-norm)", 0.659, 1.98),
                           ("Adversarially trained ResNet18 (Linf-norm)", 0.1018, 2.5),
                           ("Regularly trained ResNet50", 0.17, 2.58),
                           ("Adversarially trained ResNet50 (L2-norm)", 1.3728, 1.77),
                           ("Adversarially trained ResNet50 (Linf-norm)", 1.18, 2.66)))

GARAEV_A1 = PaperTable(GARAEV, "Table A1", "Robust InceptionV3 trained on Linf data set.", ROBUST_COLUMNS, (
    ("No attack", "-", "-", "-", 0.89, 0.94),
    ("FGSM", "L2", 0.25, 1, 0.49, 0.83),
    ("FGSM", "Linf", 0.25, 1, 0.10, 0.415),
    ("FGSM", "Linf", 0.025, 1, 0.63, 0.79),
    ("PGD", "L2", 100, 5, 0.87, 0.912),
    ("PGD", "L2", 45, 100, 0.88, 0.903),
    ("PGD", "L2", 0.5, 100, 0.89, 0.94),
    ("PGD", "Linf", 0.5, 5, 0.06, 0.378),
    ("PGD", "Linf", 1.0, 5, 0.04, 0.281),
    ("C-W", "L2", 0.25, 10, 0.51, 0.85),
    ("DeepFool", "L2", 0.25, "-", 0.48, 0.784)))

GARAEV_A2 = PaperTable(GARAEV, "Table A2", "Accuracy of ResNet18-s, trained on CINIC-10 data set (percent).",
                       RESNET18_COLUMNS, (
                           ("Accuracy on CINIC-10 (no attack)", 86, 84, 80),
                           ("Accuracy on CIFAR-10 (no attack)", 94, 93, 90),
                           ("Accuracy on CINIC-10 (PGD attack, Linf)", 3, 33, 42),
                           ("Accuracy on CINIC-10 (PGD attack, L2)", 6, 30, 46),
                           ("Accuracy on CIFAR-10 (PGD attack, Linf)", 4, 45, 55),
                           ("Accuracy on CIFAR-10 (PGD attack, L2)", 7, 41, 59),
                           ("Accuracy on CINIC-10 (FGSM attack, Linf)", 50, 75, 73),
                           ("Accuracy on CIFAR-10 (FGSM attack, Linf)", 63, 87, 85)))

GARAEV_A3 = PaperTable(GARAEV, "Table A3", "Mean correlation coefficient for the best and worst cases in Tables 1 "
                       "and 2.", SVCCA_COLUMNS, (
                           ("PGD, best", "L2, eps = 0.25, steps = 1000", 0.682, 0.989, 0.99),
                           ("PGD, worst", "Linf, eps = 0.25, steps = 5", 0.46, 0.532, 0.598),
                           ("FGSM, best", "L2, eps = 0.25", 0.833, 0.982, 0.991),
                           ("FGSM, worst", "Linf, eps = 0.25", 0.422, 0.346, 0.411)))

LOSS_SAYS = ("Histograms and KDE of per-sample cross-entropy on the 10,000 CIFAR-10 test images, clean and under PGD "
             "L2 (eps 0.5, 10 steps) and PGD Linf (eps 0.05, 5 steps), with the A-distance between clean and "
             "adversarial losses. Linf distributions peak near the maximum loss; for the regular model almost every "
             "sample lies there, adversarially trained models keep smaller peaks on the left. Adversarial training "
             "brings adversarial and clean distributions closer but not to convergence, particularly under Linf.")
GARAEV_F1 = PaperFigure(GARAEV, "Figure 1", "Distributions of samples for adversarially trained ResNet50. Training "
                        "attack: PGD with Linf-norm, eps 0.03.", LOSS_SAYS)
GARAEV_F2 = PaperFigure(GARAEV, "Figure 2", "Distributions of samples for adversarially trained ResNet50. Training "
                        "attack: PGD with L2-norm, eps 0.5.", LOSS_SAYS)
GARAEV_F3 = PaperFigure(GARAEV, "Figure 3", "Distributions of samples for regularly trained ResNet50.", LOSS_SAYS)
GARAEV_F4 = PaperFigure(GARAEV, "Figure 4", "Representations of regularly trained ResNet18 on clean data set "
                        "(CIFAR-10).", "The 512-d representations, reduced to 2 by PCA, are clustered by class.")
GARAEV_F5 = PaperFigure(GARAEV, "Figure 5", "Representations of regularly trained ResNet18 on adversarial data set "
                        "(CIFAR-10), PGD with L2-norm and 20 steps.",
                        "Under attack, the representations of the classes become heavily mixed.")
GARAEV_F6 = PaperFigure(GARAEV, "Figure 6", "Representations of regularly trained ResNet18 on adversarial data set "
                        "(CIFAR-10), PGD with Linf-norm and 20 steps.",
                        "The most mixed representations: the regular network under the Linf-norm PGD attack.")
GARAEV_F7 = PaperFigure(GARAEV, "Figure 7", "Representations of adversarially trained ResNet18 (PGD, Linf-norm) on "
                        "adversarial data set (CIFAR-10), PGD with L2-norm and 20 steps.",
                        "Adversarial training keeps some classes (e.g. Automobile, Truck) clustered, closer to each "
                        "other than without attack.")
GARAEV_F8 = PaperFigure(GARAEV, "Figure 8", "Representations of adversarially trained ResNet18 (PGD, L2-norm) on "
                        "adversarial data set (CIFAR-10), PGD with Linf-norm and 20 steps.",
                        "As Figure 7: some classes stay clustered under the attack in the other norm.")

# ---- Park & So 2020 --------------------------------------------------------------------------------

PARK_T1 = PaperTable(PARK_SO, "Table 1", "Parameters for the attack algorithms and time for generating adversarial "
                     "examples (seconds for 60,000 adversarial samples, RTX 2080Ti).",
                     ("Attack Algorithm", "Parameters", "LeNet5", "ResNet"), (
                         ("FGSM (Linf)", "eps = 0.2", 48, 66),
                         ("JSMA (L0)", "theta = 1.0, gamma = 0.2", 2226, 9180),
                         ("C&W (L2)", "confidence: 5", 8142, 49542)))

EPOCH_COLUMNS = ("Trained model", *(f"{stat} {test}" for stat in ("Maximum", "Median")
                                    for test in ("Clean", "FGSM", "JSMA", "C&W")))
TRAINED_ROWS = ("Clean", "FGSM", "JSMA", "C&W", "FGSM + JSMA", "FGSM + C&W", "JSMA + C&W", "FGSM + JSMA + C&W")


def _epoch_table(number: str, caption: str, cells: tuple[tuple[float, ...], ...]) -> PaperTable:
    return PaperTable(PARK_SO, number, caption, EPOCH_COLUMNS,
                      tuple((name, *row) for name, row in zip(TRAINED_ROWS, cells, strict=True)), digits=2)


PARK_T2 = _epoch_table("Table 2", "Test accuracy of LeNet5 measured between 20 and 50 epochs. The network is trained "
                       "with data augmentation including random rotation, random translation and random erasing.", (
                           (99.42, 50.23, 64.07, 55.28, 99.23, 42.01, 61.06, 46.07),
                           (99.40, 99.31, 63.90, 75.67, 99.24, 99.27, 60.34, 65.08),
                           (99.42, 50.35, 96.75, 81.20, 99.30, 48.46, 96.35, 75.02),
                           (99.37, 74.12, 69.00, 99.57, 99.22, 61.17, 63.30, 99.31),
                           (99.40, 99.32, 96.29, 90.05, 99.28, 99.26, 95.15, 84.94),
                           (99.43, 99.32, 65.27, 99.65, 99.24, 99.26, 62.96, 99.42),
                           (99.43, 73.98, 96.70, 98.99, 99.35, 70.71, 95.83, 98.58),
                           (99.36, 99.30, 95.82, 98.81, 99.27, 99.21, 94.92, 98.39)))

PARK_T3 = _epoch_table("Table 3", "Test accuracy of ResNet18 measured between 40 and 100 epochs. The network is "
                       "trained with data augmentation including random rotation, random translation and random "
                       "erasing.", (
                           (99.68, 70.69, 80.70, 93.27, 99.50, 65.30, 76.82, 91.54),
                           (99.65, 95.92, 78.40, 97.51, 99.56, 92.24, 73.53, 96.69),
                           (99.66, 78.71, 97.78, 96.13, 99.56, 73.85, 96.80, 95.42),
                           (99.62, 88.99, 81.37, 98.60, 99.52, 85.71, 76.29, 98.11),
                           (99.65, 95.34, 96.34, 98.05, 99.54, 93.80, 95.34, 97.53),
                           (99.67, 97.54, 77.87, 98.79, 99.57, 96.59, 75.14, 98.38),
                           (99.69, 89.80, 97.00, 98.63, 99.56, 86.57, 95.57, 98.25),
                           (99.63, 97.57, 96.68, 98.84, 99.51, 96.58, 95.37, 98.44)))

PARK_T4 = _epoch_table("Table 4", "Test accuracy of LeNet5 measured between 20 and 50 epochs. The network is trained "
                       "without data augmentation techniques such as random rotation and random translation.", (
                           (99.16, 66.58, 70.03, 88.22, 99.02, 63.27, 66.99, 83.02),
                           (99.11, 99.11, 74.41, 95.66, 99.00, 99.01, 73.05, 94.19),
                           (99.15, 72.97, 98.24, 95.80, 99.03, 69.45, 98.09, 94.06),
                           (99.19, 85.58, 75.11, 99.38, 99.08, 79.18, 72.93, 99.21),
                           (99.16, 99.00, 98.15, 98.02, 99.05, 98.89, 97.88, 97.52),
                           (99.14, 99.12, 78.55, 99.37, 99.01, 99.03, 77.06, 99.16),
                           (99.25, 86.68, 98.36, 99.23, 99.15, 81.08, 98.12, 99.03),
                           (99.20, 99.03, 98.17, 99.22, 99.10, 98.94, 97.82, 99.09)))

MISMATCH_COLUMNS = ("Trained model", "Model", "FGSM A", "FGSM A'", "JSMA A", "JSMA A'", "C&W A", "C&W A'", "Average")
_MISMATCH = (
    (41.74, 71.05, 56.80, 65.61, 38.17, 92.20, 60.93), (70.28, 62.67, 72.29, 65.12, 81.23, 83.27, 72.48),
    (99.25, 81.65, 57.71, 66.03, 59.80, 92.41, 76.14), (81.05, 99.10, 73.72, 72.32, 84.38, 93.35, 83.99),
    (48.60, 69.61, 96.37, 95.95, 72.71, 94.92, 79.69), (70.88, 72.25, 95.87, 98.20, 92.06, 95.27, 87.42),
    (66.96, 70.38, 63.05, 68.56, 99.40, 98.94, 77.88), (55.09, 71.68, 71.74, 72.00, 93.09, 99.31, 77.15),
    (99.27, 82.25, 95.24, 94.09, 81.75, 91.67, 90.71), (82.29, 99.00, 95.79, 98.15, 95.57, 98.03, 94.81),
    (99.32, 88.34, 63.17, 69.91, 99.63, 98.52, 86.48), (85.78, 99.12, 76.29, 77.69, 94.86, 99.32, 88.84),
    (69.31, 76.85, 96.25, 95.52, 98.71, 98.78, 89.24), (68.94, 84.26, 95.75, 98.29, 96.89, 99.16, 90.55),
    (99.21, 86.66, 95.33, 94.86, 98.59, 97.25, 95.32), (85.12, 98.96, 95.15, 97.84, 97.30, 99.19, 95.59))
PARK_T5 = PaperTable(PARK_SO, "Table 5", "Test accuracy of LeNet5 networks on adversarial examples. M: a network "
                     "trained using data augmentation, M': without. A: adversarial examples generated from a target "
                     "network trained with data augmentation, A': without.", MISMATCH_COLUMNS,
                     tuple((trained, model, *cells) for (trained, model), cells in zip(
                         ((name, model) for name in TRAINED_ROWS for model in ("M", "M'")), _MISMATCH, strict=True))
                     + (("Average", "", 76.41, 82.11, 81.28, 83.13, 86.51, 95.72, ""),), digits=2)

PARK_F1 = PaperFigure(PARK_SO, "Figure 1", "Image of original MNIST and adversarial attacked examples generated by "
                      "FGSM, JSMA and C&W L2 attacks.", "Example images, no numbers.")
PARK_F2 = PaperFigure(PARK_SO, "Figure 2", "Random translation, random rotation and random erasing applied to a "
                      "sample in the training set.", "Example images, no numbers.")
PARK_F3 = PaperFigure(PARK_SO, "Figure 3", "Accuracy of adversarially trained LeNet5 network on the test set with "
                      "adversarial examples. Each models are trained with: (a) Clean; (b) FGSM; (c) JSMA; and (d) C&W.",
                      "(a) the FGSM, JSMA and C&W sets stay between 40 % and 60 %, far below clean; (b) FGSM training "
                      "classifies FGSM samples about as well as clean ones, does not improve JSMA and lifts C&W by "
                      "about 20 %; (c) JSMA training helps JSMA most, others little; (d) C&W training classifies C&W "
                      "samples, 60-70 % on FGSM and JSMA.")
PARK_F4 = PaperFigure(PARK_SO, "Figure 4", "Test accuracy of LeNet5 model on each adversarial example attack. Each "
                      "model is trained with: (a) Clean; (b) FGSM; (c) JSMA; and (d) C&W.",
                      "With data augmentation, accuracy on the clean test set improves slightly (a: 99.42 against "
                      "99.16 %), but (b-d) accuracy on adversarial examples is significantly lower than without.")

# Park & So time the generation of 60,000 adversarial examples, one per training image (their Table 1).
PARK_SO_EXAMPLES = 60_000
# Table 1: seconds to generate PARK_SO_EXAMPLES adversarial examples against LeNet5, by attack and norm.
PARK_SO_SECONDS: dict[tuple[str, str], int] = {
    ("fgsm", "Linf"): int(PARK_T1.row("FGSM (Linf)", "LeNet5")),
    ("jsma", "L0"): int(PARK_T1.row("JSMA (L0)", "LeNet5")),
    ("cw", "L2"): int(PARK_T1.row("C&W (L2)", "LeNet5"))}
