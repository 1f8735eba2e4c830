"""The dataset registry: one record per dataset (label space, image shape, normalisation, loader)."""

from __future__ import annotations

from dataclasses import dataclass

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


@dataclass(frozen=True)
class DatasetSpec:
    classes: tuple[str, ...]  # class names in label order
    shape: tuple[int, int, int]  # image shape (C, H, W)
    mean: tuple[float, ...]  # per-channel mean of the training images in [0, 1], used by the model's Normalize
    std: tuple[float, ...]  # per-channel standard deviation, idem
    loader: str  # idx (four .gz files) | cifar (python pickle batches) | folder (ImageFolder of PNGs)
    splits: tuple[str, ...] = ("train", "test")  # split names load_split accepts
    sizes: tuple[int, ...] = ()  # images in each split, in ``splits`` order (the published datasets')
    torchvision_folder: str = ""  # idx datasets: torchvision's folder name under the data root


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(tuple(str(i) for i in range(10)), (1, 28, 28), (0.1307,), (0.3081,), "idx",
                         sizes=(60000, 10000), torchvision_folder="MNIST"),
    "fashion_mnist": DatasetSpec(("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
                                 (1, 28, 28), (0.2860,), (0.3530,), "idx", sizes=(60000, 10000),
                                 torchvision_folder="FashionMNIST"),
    "cifar10": DatasetSpec(CIFAR10_CLASSES, (3, 32, 32), (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616),
                           "cifar", sizes=(50000, 10000)),
    # CINIC-10 (Darlow et al. 2018) shares CIFAR-10's label space; its statistics are the paper's.
    "cinic10": DatasetSpec(CIFAR10_CLASSES, (3, 32, 32), (0.4789, 0.4723, 0.4305), (0.2421, 0.2383, 0.2587),
                           "folder", splits=("train", "test", "valid"), sizes=(90000, 90000, 90000)),
}


def split_size(name: str, split: str) -> int:
    """Images in split ``split`` of dataset ``name`` as published."""
    spec = DATASETS[name]
    return spec.sizes[spec.splits.index(split)]


def dataset_spec(name: str) -> DatasetSpec:
    """The spec of dataset ``name``; ``ValueError`` naming the known ones otherwise."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {sorted(DATASETS)}")
    return DATASETS[name]
