"""The "robust dataset" of Ilyas et al. 2019 ("Adversarial Examples Are Not Bugs, They Are
Features", §3.1), as Garaev et al. 2024 replicate it: every training image x is re-drawn as the
image x_r whose penultimate representation g(x_r) under an adversarially trained model matches
g(x), starting from another training image (or from noise), and keeps x's label. A model trained
normally on the re-drawn set then inherits the robust features only.

The construction minimises ||g(x_r) - g(x)||_2 with normalised L2 gradient steps of length alpha
inside the pixel box; the search is otherwise unconstrained (Ilyas et al.'s eps is large).
"""

from __future__ import annotations

import torch

from engine.attacks.norms import L2Step
from engine.data.split import Split, to_uint8
from engine.models.classifier import Classifier


def _start(x: torch.Tensor, init: str, generator: torch.Generator) -> torch.Tensor:
    """Starting points [N, C, H, W]: the batch shuffled (another image each) or uniform noise."""
    if init == "noise":
        return torch.rand(x.shape, generator=generator).to(x.device)
    order = torch.randperm(len(x), generator=generator).to(x.device)
    return x[order].clone()


def match_features(model: Classifier, x: torch.Tensor, steps: int, alpha: float, init: str,
                   generator: torch.Generator) -> torch.Tensor:
    """Images x_r [N, C, H, W] in [0, 1] whose features g(x_r) approach g(x) for x [N, C, H, W]."""
    step = L2Step()
    with torch.no_grad():
        target = model.features(x)
    x_r = _start(x, init, generator)
    for _ in range(steps):
        x_r.requires_grad_(True)
        loss = (model.features(x_r) - target).norm(dim=1).sum()
        grad = torch.autograd.grad(loss, x_r)[0]
        x_r = (x_r.detach() - alpha * step.ascent_direction(grad)).clamp_(0, 1)
    return x_r.detach()


def robust_split(model: Classifier, split: Split, steps: int, alpha: float, init: str, seed: int,
                 batch_size: int, device: torch.device) -> Split:
    """The robust version of ``split`` (same labels), quantised to uint8 like the source images.

    With init "image", each image starts from another image of its batch.
    """
    model.eval().requires_grad_(False)
    generator = torch.Generator().manual_seed(seed)
    parts = [match_features(model, x, steps, alpha, init, generator) for x, _ in split.batches(batch_size, device)]
    return Split(to_uint8(torch.cat(parts)), split.labels.clone(), split.classes)
