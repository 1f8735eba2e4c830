"""Per-norm steps of the projected-gradient loop (after MadryLab robustness's ``AttackerStep``).

A step knows how to measure a perturbation, draw a random start in the eps-ball, turn a loss
gradient into an ascent direction of unit size in its norm, and project back onto the ball.
All tensors are batches [N, C, H, W]; radii are scalars in pixel units.
"""

from __future__ import annotations

import torch


def perturbation_norm(delta: torch.Tensor, norm: str) -> torch.Tensor:
    """[N, C, H, W] -> [N] norms; L0 counts the changed features (pixel channels)."""
    flat = delta.flatten(1)
    if norm == "Linf":
        return flat.abs().amax(dim=1)
    if norm == "L0":
        return (flat != 0).sum(dim=1).to(delta.dtype)
    if norm in ("L1", "L2"):
        return flat.norm(p=int(norm[1]), dim=1)
    raise ValueError(f"unknown norm {norm!r}; known: Linf, L2, L1, L0")


def _per_sample(values: torch.Tensor) -> torch.Tensor:
    """[N, ...] -> [N, 1, ..., 1] for broadcasting a per-sample scalar."""
    return values.view(-1, *([1] * 3))


class LinfStep:
    """Linf ball: sign-gradient ascent (FGSM / PGD of Madry et al. 2018), clamp projection."""

    def norm(self, delta: torch.Tensor) -> torch.Tensor:
        return perturbation_norm(delta, "Linf")

    def random_init(self, x: torch.Tensor, eps: float, generator: torch.Generator | None) -> torch.Tensor:
        noise = torch.rand(x.shape, generator=generator, device="cpu").to(x.device)
        return (2 * noise - 1) * eps

    def ascent_direction(self, grad: torch.Tensor) -> torch.Tensor:
        return grad.sign()

    def project(self, delta: torch.Tensor, eps: float) -> torch.Tensor:
        return delta.clamp(-eps, eps)


class L2Step:
    """L2 ball: normalised-gradient ascent, radial projection."""

    def norm(self, delta: torch.Tensor) -> torch.Tensor:
        return perturbation_norm(delta, "L2")

    def random_init(self, x: torch.Tensor, eps: float, generator: torch.Generator | None) -> torch.Tensor:
        """Uniform in the ball: a Gaussian direction scaled by eps * U^(1/d)."""
        direction = torch.randn(x.shape, generator=generator, device="cpu").to(x.device)
        radius = torch.rand(len(x), generator=generator, device="cpu").to(x.device) ** (1 / x[0].numel())
        return direction / _per_sample(self.norm(direction)) * _per_sample(radius) * eps

    def ascent_direction(self, grad: torch.Tensor) -> torch.Tensor:
        return grad / _per_sample(self.norm(grad).clamp_min(1e-12))

    def project(self, delta: torch.Tensor, eps: float) -> torch.Tensor:
        scale = (eps / self.norm(delta).clamp_min(1e-12)).clamp(max=1.0)
        return delta * _per_sample(scale)


NORM_STEPS = {"Linf": LinfStep, "L2": L2Step}
