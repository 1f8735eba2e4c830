"""Dataset splits read from disk into uint8 ``Split`` tensors.

Fashion-MNIST and MNIST are read from the four standard idx ``.gz`` files; CIFAR-10 from its python
pickle batches (through torchvision, which checks the archive's hash). Files are looked for in the
data root (``--data-root``, ``$ATLAS_DATA_ROOT`` or the user cache dir) and, for Fashion-MNIST, in
Debian's ``dataset-fashion-mnist`` package. Missing files are downloaded through torchvision when
the network allows, otherwise ``DataNotFoundError`` says where they were expected.
"""

from __future__ import annotations

import gzip
import logging
import os
from pathlib import Path

import numpy as np
import torch

from engine.data.datasets import dataset_spec
from engine.data.split import Split

log = logging.getLogger(__name__)

ROOT_ENV = "ATLAS_DATA_ROOT"
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


class DataNotFoundError(FileNotFoundError):
    """The dataset's files are absent and could not be downloaded."""


class CorruptDataError(ValueError):
    """A dataset file is present but damaged: truncated, not in its format, or failing its checksum."""


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The data root: the argument, else ``$ATLAS_DATA_ROOT``, else ``~/.cache/robustness-atlas/data``."""
    if root:
        return Path(root).expanduser()
    if os.environ.get(ROOT_ENV):
        return Path(os.environ[ROOT_ENV]).expanduser()
    return cache_root() / "data"


def cache_root() -> Path:
    """The user cache of the project: ``$XDG_CACHE_HOME/robustness-atlas`` (default ``~/.cache/...``)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "robustness-atlas"


def read_idx(path: Path) -> np.ndarray:
    """Read one idx file (optionally gzipped) into a numpy array of its stored shape."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as stream:
        raw = stream.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte idx file")
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path} is truncated: {data.size} bytes for shape {shape}")
    return data.reshape(shape)


def _idx_dirs(dataset: str, root: Path) -> list[Path]:
    folder = dataset_spec(dataset).torchvision_folder
    dirs = [root / dataset, root / folder / "raw"]
    return dirs + [DEBIAN_FASHION_MNIST] if dataset == "fashion_mnist" else dirs


def _find_idx(dataset: str, split: str, root: Path) -> tuple[Path, Path] | None:
    for folder in _idx_dirs(dataset, root):
        paths = tuple(folder / name for name in IDX_FILES[split])
        if all(p.exists() for p in paths):
            return paths  # type: ignore[return-value]
    return None


def _download(dataset: str, root: Path) -> None:
    """Fetch a dataset through torchvision; raise ``DataNotFoundError`` with guidance on failure."""
    import torchvision.datasets as tvd

    builders = {"mnist": tvd.MNIST, "fashion_mnist": tvd.FashionMNIST, "cifar10": tvd.CIFAR10}
    log.info("downloading %s into %s", dataset, root)
    try:
        for train in (True, False):
            builders[dataset](str(root), train=train, download=True)
    except Exception as error:  # torchvision raises URLError, RuntimeError, OSError...
        hint = "apt-get install dataset-fashion-mnist, or " if dataset == "fashion_mnist" else ""
        raise DataNotFoundError(
            f"{dataset} is not in {root} and could not be downloaded ({error}). "
            f"Expected {' or '.join(str(d) for d in _expected_places(dataset, root))}. "
            f"To fix: {hint}copy the files there, or pass --data-root / set ${ROOT_ENV}."
        ) from None


def _expected_places(dataset: str, root: Path) -> list[Path]:
    if dataset == "cifar10":
        return [root / "cifar-10-batches-py"]
    return [d / name for d in _idx_dirs(dataset, root)[:1] for name in IDX_FILES["train"] + IDX_FILES["test"]]


def _load_idx_split(dataset: str, split: str, root: Path) -> Split:
    paths = _find_idx(dataset, split, root)
    if paths is None:
        _download(dataset, root)
        paths = _find_idx(dataset, split, root)
        if paths is None:
            raise DataNotFoundError(f"{dataset} download left no {split} idx files under {root}")
    try:
        images, labels = (read_idx(p) for p in paths)
    except (OSError, EOFError, ValueError) as error:
        raise CorruptDataError(f"{dataset} {split} files {', '.join(str(p) for p in paths)} cannot be read "
                               f"({error}); replace them with the original files (or delete them so they are "
                               "downloaded again)") from None
    images_t = torch.from_numpy(images.copy()).unsqueeze(1)
    return Split(images_t, torch.from_numpy(labels.astype(np.int64)), dataset_spec(dataset).classes)


def _load_cifar_split(split: str, root: Path) -> Split:
    import torchvision.datasets as tvd

    if not (root / "cifar-10-batches-py").exists():
        _download("cifar10", root)
    try:  # torchvision checks every batch file's MD5 before it unpickles one
        data = tvd.CIFAR10(str(root), train=split == "train", download=False)
    except RuntimeError as error:
        raise CorruptDataError(f"the CIFAR-10 files in {root / 'cifar-10-batches-py'} fail their checksums "
                               f"({error}): delete that folder to download them again, or unpack the original "
                               "cifar-10-python.tar.gz there") from None
    images = torch.from_numpy(data.data).permute(0, 3, 1, 2).contiguous()
    return Split(images, torch.tensor(data.targets, dtype=torch.int64), dataset_spec("cifar10").classes)


def _load_image_folder(dataset: str, split: str, root: Path) -> Split:
    """An ImageFolder split, ``root/<dataset>/<split>/<class name>/*.png`` (CINIC-10's layout), with the
    classes of its spec in that order; images must have the dataset's shape."""
    from PIL import Image

    folder = root / dataset / split
    if not folder.is_dir():
        raise DataNotFoundError(f"{dataset} {split} images are not in {folder}. Download CINIC-10 "
                                f"(https://github.com/BayesWatch/cinic-10) and unpack it so that "
                                f"{folder}/<class>/*.png exist, or pass --data-root / set ${ROOT_ENV}.")
    spec = dataset_spec(dataset)
    channels, height, width = spec.shape
    images, labels = [], []
    for label, name in enumerate(spec.classes):
        for path in sorted((folder / name).glob("*.png")):
            with Image.open(path) as image:
                pixels = np.asarray(image.convert("RGB" if channels == 3 else "L"), dtype=np.uint8)
            if pixels.shape[:2] != (height, width):
                raise DataNotFoundError(f"{path} is {pixels.shape[1]}x{pixels.shape[0]}, not {width}x{height}")
            images.append(pixels.reshape(height, width, channels))
            labels.append(label)
    if not images:
        raise DataNotFoundError(f"no PNG images under {folder}/<class>/ for classes {spec.classes}")
    tensor = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    return Split(tensor, torch.tensor(labels, dtype=torch.int64), spec.classes)


def load_split(dataset: str, split: str, root: str | os.PathLike[str] | None = None) -> Split:
    """Load ``split`` ("train" or "test"; also "valid" for CINIC-10) of ``dataset`` as a ``Split`` of
    uint8 images.

    Raises ``DataNotFoundError`` with the expected file locations when the data is absent offline.
    """
    spec = dataset_spec(dataset)
    if split not in spec.splits:
        raise ValueError(f"unknown split {split!r}; known: {', '.join(spec.splits)}")
    base = data_root(root)
    if spec.loader == "folder":
        return _load_image_folder(dataset, split, base)
    if spec.loader == "cifar":
        return _load_cifar_split(split, base)
    return _load_idx_split(dataset, split, base)
