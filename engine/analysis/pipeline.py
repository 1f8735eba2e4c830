"""The analyses of one model as result rows, ready for ``engine.results.write_part``:
``analyse_clean`` (clean losses and latent plane, distance to the boundary) and ``analyse_sweep``
(for each eps > 0 of a white-box attack sweep: per-sample losses, A-distance, norm ratios, SVCCA per
layer and the latent plane). Clean representations are computed once per job and shared by SVCCA
and PCA; each adversarial input set is represented once and read by every analysis.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.decomposition import PCA

from engine.analysis.boundary import boundary_distances
from engine.analysis.losses import a_distance, per_sample_loss
from engine.analysis.norm_ratios import norm_ratios
from engine.analysis.pca import fit_plane
from engine.analysis.representations import Representations, representations
from engine.analysis.svcca import svcca
from engine.attacks.norms import perturbation_norm
from engine.attacks.registry import sweep_key
from engine.config.schema import AnalysisConfig, AttackConfig, AttackSweep
from engine.data.split import Split
from engine.evaluation.sweep import craft_sets
from engine.models.classifier import Classifier
from engine.models.registry import layers_of

log = logging.getLogger(__name__)
Tables = dict[str, pd.DataFrame]


@dataclass(frozen=True)
class Subject:
    """A trained model (eval mode, frozen) and the test images it is analysed on."""

    model_id: str
    arch: str
    model: Classifier
    split: Split  # the first analysis.samples test images
    settings: AnalysisConfig
    device: torch.device

    @property
    def layers(self) -> dict[str, str]:
        """The SVCCA layers of this model: result name -> module path."""
        return layers_of(self.arch, self.model, self.settings.layers)

    def inputs(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All analysed images [N, C, H, W] in [0, 1] and labels [N], on the device."""
        return self.split.tensors(self.device)

    def represent(self, x: torch.Tensor) -> Representations:
        return representations(self.model, x, self.layers, self.settings.batch_size, self.settings.svcca_points)


def _pca_rows(subject: Subject, plane: PCA, features: np.ndarray, pred: torch.Tensor, key: dict) -> pd.DataFrame:
    """pca rows of the first pca_samples of features [N, F] projected on ``plane``, with their predictions [N]."""
    kept = min(subject.settings.pca_samples, len(features))
    coords = plane.transform(features[:kept].astype(np.float64))
    return pd.DataFrame({**key, "sample": np.arange(kept), "label": subject.split.labels[:kept].numpy(),
                         "pred": pred[:kept].cpu().numpy(), "pc1": coords[:, 0], "pc2": coords[:, 1]})


def analyse_clean(subject: Subject) -> Tables:
    """Clean per-sample losses, the clean latent plane and DeepFool's distance to the boundary."""
    x, y = subject.inputs()
    clean = subject.represent(x)
    pred = clean.logits.argmax(dim=1)
    n = len(y)
    per_sample = pd.DataFrame({"model_id": subject.model_id, "attack": "clean", "sweep": "clean", "norm": None,
                               "eps": 0.0, "sample": np.arange(n), "label": y.cpu().numpy(),
                               "pred": pred.cpu().numpy(), "loss": per_sample_loss(clean.logits, y),
                               "l2": 0.0, "linf": 0.0})
    key = {"model_id": subject.model_id, "input": "clean", "sweep": "clean", "norm": None, "eps": 0.0}
    pca = _pca_rows(subject, fit_plane(clean.penultimate), clean.penultimate, pred, key)
    found = boundary_distances(subject.model, subject.split, subject.settings.boundary_steps,
                               subject.settings.batch_size, subject.device)
    boundary = pd.DataFrame({"model_id": subject.model_id, "sample": np.arange(n), "label": y.cpu().numpy(),
                             "distance_l2": found.distance_l2, "steps": found.steps, "success": found.success})
    return {"per_sample": per_sample, "pca": pca, "boundary": boundary}


def _svcca_rows(subject: Subject, clean: Representations, adv: Representations, key: dict) -> pd.DataFrame:
    frames = []
    for layer in subject.layers:
        try:
            result = svcca(clean.layers[layer], adv.layers[layer])
        except ValueError as error:  # e.g. a layer whose outputs are constant on these inputs
            log.warning("%s %s layer %s: no SVCCA: %s", subject.model_id, key["sweep"], layer, error)
            continue
        frames.append(pd.DataFrame({**key, "layer": layer, "index": np.arange(len(result.coefficients)),
                                    "coefficient": result.coefficients, "mean": result.mean}))
    return pd.concat(frames, ignore_index=True)


def _attack_tables(subject: Subject, cfg: AttackConfig, sweep: str, x: torch.Tensor, x_adv: torch.Tensor,
                   y: torch.Tensor, clean: Representations, plane: PCA) -> Tables:
    """Every analysis of one adversarial input set x_adv [N, C, H, W] against the clean one."""
    adv = subject.represent(x_adv)
    where = {"model_id": subject.model_id, "sweep": sweep, "norm": cfg.norm, "eps": cfg.eps}
    key = {**where, "attack": cfg.name}
    pred, clean_pred = adv.logits.argmax(dim=1).cpu().numpy(), clean.logits.argmax(dim=1).cpu().numpy()
    delta = x_adv - x
    l2, linf = (perturbation_norm(delta, norm).cpu().numpy() for norm in ("L2", "Linf"))
    labels, loss, clean_loss = y.cpu().numpy(), per_sample_loss(adv.logits, y), per_sample_loss(clean.logits, y)
    per_sample = pd.DataFrame({**key, "sample": np.arange(len(y)), "label": labels, "pred": pred, "loss": loss,
                               "l2": l2, "linf": linf})
    shift = a_distance(clean_loss, loss)
    ratios = norm_ratios(l2, linf, labels, clean_pred, pred, x[0].numel())
    return {
        "per_sample": per_sample,
        "a_distance": pd.DataFrame([{**key, "n": len(y), "a_distance": shift.value, "domain_error": shift.error}]),
        "svcca": _svcca_rows(subject, clean, adv, key),
        "pca": _pca_rows(subject, plane, adv.penultimate, adv.logits.argmax(dim=1), {**where, "input": cfg.name}),
        "norm_ratios": pd.DataFrame([{**key, "n": len(y), "successful": ratios.successful,
                                      "misclassified": ratios.misclassified, "c1": ratios.c1, "c2": ratios.c2,
                                      "sqrt_d": ratios.sqrt_d}]),
    }


def analyse_sweep(subject: Subject, sweep: AttackSweep, seed: int) -> Tables:
    """The analyses of ``sweep`` (white-box, crafted on the subject's model) at each of its eps > 0."""
    x, y = subject.inputs()
    clean = subject.represent(x)
    plane = fit_plane(clean.penultimate)
    cfgs = [sweep.at(eps) for eps in sweep.eps if eps > 0]
    tables: dict[str, list[pd.DataFrame]] = defaultdict(list)
    for cfg, x_adv in craft_sets(subject.model, subject.split, cfgs, subject.settings.batch_size,
                                  subject.device, seed):
        for table, frame in _attack_tables(subject, cfg, sweep_key(sweep), x, x_adv, y, clean, plane).items():
            tables[table].append(frame)
    return {table: pd.concat(frames, ignore_index=True) for table, frames in tables.items()}
