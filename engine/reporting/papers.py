"""Figures quoted from the papers the study reproduces, for the reports that set ours beside them."""

from __future__ import annotations

# Park & So 2020 time the generation of 60,000 adversarial examples, one per training image.
PARK_SO_EXAMPLES = 60_000

# Park & So 2020: seconds to generate PARK_SO_EXAMPLES adversarial examples against LeNet5 on an
# RTX 2080Ti, by attack and the norm of its test set.
PARK_SO_SECONDS: dict[tuple[str, str], int] = {("fgsm", "Linf"): 48, ("jsma", "L0"): 2226, ("cw", "L2"): 8142}
