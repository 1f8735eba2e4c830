"""CINIC-10 as an ImageFolder (train/valid/test/<class>/*.png), on a tiny generated copy of its layout."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers import write_image_folder
from PIL import Image

from engine.attacks.registry import sweep_key
from engine.config.schema import ConfigError
from engine.data.datasets import DATASETS
from engine.data.loaders import DataNotFoundError, load_split
from engine.results import read_table
from engine.study.runner import run_study
from engine.study.validate import study_from_dict

PER_CLASS = {"train": 6, "valid": 2, "test": 3}


@pytest.fixture(scope="module")
def cinic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root holding cinic10/<split>/<class>/*.png: 32x32 RGB images whose brightness tells the class."""
    root = tmp_path_factory.mktemp("data")
    write_image_folder(root, "cinic10", PER_CLASS)
    return root


def test_splits_load_with_cifar10_labels(cinic_root: Path) -> None:
    for split, count in PER_CLASS.items():
        data = load_split("cinic10", split, cinic_root)
        assert data.images.shape == (10 * count, 3, 32, 32) and data.images.dtype == torch.uint8
        assert torch.equal(data.labels.bincount(), torch.full((10,), count))
    assert DATASETS["cinic10"].classes == DATASETS["cifar10"].classes


def test_missing_or_malformed_folders_say_what_is_expected(cinic_root: Path, tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match=r"cinic10/test/<class>/\*\.png"):
        load_split("cinic10", "test", tmp_path)
    odd = cinic_root / "cinic10" / "valid" / "cat" / "big.png"
    Image.new("RGB", (40, 32)).save(odd)
    try:
        with pytest.raises(DataNotFoundError, match="not 32x32"):
            load_split("cinic10", "valid", cinic_root)
    finally:
        odd.unlink()


def _study(**sweep: object) -> dict:
    return {"name": "tiny_cinic", "data": {"dataset": "cinic10"}, "evaluation": {"samples": 0, "batch_size": 30},
            "models": [{"id": "small", "arch": "resnet_small", "training": {"epochs": 1, "batch_size": 20}}],
            "attacks": [{"name": "fgsm", "norm": "Linf", "eps": [0.0, 0.03], **sweep}],
            "analysis": {"samples": 0}}


def test_a_sweep_may_attack_another_test_set_of_the_same_label_space(cinic_root: Path, tmp_path: Path) -> None:
    study = study_from_dict(_study(dataset="cinic10"))
    assert sweep_key(study.attacks[0]) == "fgsm-Linf-1steps-on-cinic10"
    run_study(study, tmp_path / "study", data_root=str(cinic_root), progress=False)
    accuracy = read_table(tmp_path / "study", "robust_accuracy")
    assert (accuracy.n == 30).all() and set(accuracy.sweep) == {"fgsm-Linf-1steps-on-cinic10"}
    with pytest.raises(ConfigError, match=r"attacks\[0\]\.dataset: fashion_mnist does not share cinic10's"):
        study_from_dict(_study(dataset="fashion_mnist"))
