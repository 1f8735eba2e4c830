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
from engine.models.checkpoints import load_checkpoint
from ui.loaders import Signature, file_signature


@dataclass(frozen=True)
class SharedModel:
    model: nn.Module  # eval mode, CPU, frozen weights
    lock: threading.Lock  # hold it while the model runs
    dataset: str


@st.cache_resource(show_spinner="Loading the model...", max_entries=16)
def _cached_model(path: str, signature: Signature) -> SharedModel:
    model, meta = load_checkpoint(Path(path), "cpu")
    return SharedModel(model.requires_grad_(False), threading.Lock(), meta["dataset"])


def load_model(study_dir: Path, checkpoint: str) -> SharedModel:
    """The model a study's checkpoint (path relative to the study) holds; ``OSError``/``ValueError``
    (missing, unreadable or foreign file) pass through for the page to explain."""
    path = (study_dir / checkpoint).resolve()
    if study_dir.resolve() not in path.parents:
        raise ValueError(f"checkpoint {checkpoint!r} lies outside the study directory")
    return _cached_model(str(path), file_signature([path, path.with_suffix(".json")]))


@st.cache_resource(show_spinner="Loading the test set...", max_entries=2)
def test_split(dataset: str) -> Split:
    """The dataset's test split (raises ``engine.data.DataNotFoundError`` when it is not on this machine)."""
    return load_split(dataset, "test")
