"""Trained models and test images for the attack playground, cached for every session.

A cached model is shared by all sessions, and some attacks (torchattacks') switch it between
train and eval mode while they run, so every use goes through the model's lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from torch import nn

from engine.data.loaders import load_split
from engine.data.split import Split
from engine.models.checkpoints import CheckpointError, load_checkpoint, sidecar
from ui.loaders import Signature, file_signature
from ui.study import damaged


@dataclass(frozen=True)
class SharedModel:
    model: nn.Module  # eval mode, CPU, frozen weights
    lock: threading.Lock  # hold it while the model runs
    dataset: str


@st.cache_resource(show_spinner="Loading the model...", max_entries=16)
def _cached_model(path: str, signature: Signature) -> SharedModel:
    model, meta = load_checkpoint(Path(path), "cpu")
    return SharedModel(model.requires_grad_(False), threading.Lock(), meta["dataset"])


def load_model(study_dir: Path, checkpoint: object, dataset: str) -> SharedModel:
    """The model for ``dataset`` a study's checkpoint (path relative to the study, from its models table)
    holds; ``StudyError`` naming the file when it lies outside the study, is missing or damaged, or its
    sidecar describes a model for another dataset."""
    path = _checkpoint_path(study_dir, checkpoint)
    try:
        shared = _cached_model(str(path), file_signature([path, sidecar(path)]))
    except CheckpointError as error:
        raise damaged(error.path, error.reason, study_dir) from None
    if shared.dataset != dataset:
        raise damaged(sidecar(path), f"it describes a {shared.dataset} model, the study is on {dataset}", study_dir)
    return shared


def _checkpoint_path(study_dir: Path, checkpoint: object) -> Path:
    """The checkpoint file a models-table entry names, inside ``study_dir``; ``StudyError`` otherwise. The path
    is the one the entry names, not where its links lead: its sidecar, and the file an error names, are the
    study's own (a dangling link is named, not its missing target)."""
    table = study_dir / "models"
    if not isinstance(checkpoint, str) or not checkpoint:
        raise damaged(table, f"a model's checkpoint is {checkpoint!r}, not a path", study_dir)
    path = study_dir / checkpoint
    try:
        resolved, root = path.resolve(), study_dir.resolve()
    except (OSError, RuntimeError) as error:  # RuntimeError: a symbolic link loop (Python < 3.13)
        raise damaged(path, f"its path cannot be resolved ({error})", study_dir) from None
    if root not in resolved.parents:
        raise damaged(table, f"checkpoint {checkpoint!r} lies outside the study directory", study_dir)
    return path


@st.cache_resource(show_spinner="Loading the test set...", max_entries=2)
def test_split(dataset: str) -> Split:
    """The dataset's test split (raises ``engine.data.DataNotFoundError`` when it is not on this machine)."""
    return load_split(dataset, "test")
