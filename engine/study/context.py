"""What the jobs of one run share: the study, the device, and the data splits (loaded on first use)."""

from __future__ import annotations

from pathlib import Path

import torch

from engine.config.schema import StudyConfig
from engine.data.loaders import load_split
from engine.data.split import Split
from engine.models.checkpoints import load_checkpoint
from engine.models.classifier import Classifier


def checkpoint_path(out: Path, model_id: str) -> Path:
    """Where model ``model_id`` of study directory ``out`` has its weights (safetensors, with a JSON sidecar)."""
    return out / "checkpoints" / f"{model_id}.safetensors"


class Context:
    """Data and device shared by the jobs of one run into study directory ``out``."""

    def __init__(self, study: StudyConfig, out: Path, data_root: str | None, device: torch.device) -> None:
        self.study, self.out, self.device = study, out, device
        self.root = study.data.root or data_root
        self._splits: dict[tuple[str, str], Split] = {}

    def split(self, name: str, dataset: str = "") -> Split:
        """Split ``name`` of ``dataset`` ("" = the study's; the training split is cut to train_subset)."""
        dataset = dataset or self.study.data.dataset
        if (dataset, name) not in self._splits:
            split = load_split(dataset, name, self.root)
            self._splits[dataset, name] = split.head(self.study.data.train_subset) if name == "train" else split
        return self._splits[dataset, name]

    def checkpoint(self, model_id: str) -> Path:
        """Where model ``model_id``'s weights are saved (``checkpoint_path``)."""
        return checkpoint_path(self.out, model_id)

    def frozen(self, model_id: str) -> Classifier:
        """A trained model of the study in eval mode with frozen weights (attacks need input gradients only)."""
        model, _ = load_checkpoint(self.checkpoint(model_id), self.device)
        return model.requires_grad_(False)

