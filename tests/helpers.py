"""Helpers shared by test modules (tests/ is on sys.path under pytest's default import mode)."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from engine.data.datasets import DATASETS
from engine.data.loaders import IDX_FILES
from engine.results import read_table
from engine.results.schema import TABLES

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "configs" / "smoke.toml"  # the small study most integration and app tests run
TIMING_COLUMNS = {"seconds", "images_per_second", "train_seconds"}  # wall-clock figures differ between runs


def _sorted_rows(frame: pd.DataFrame) -> pd.DataFrame:
    columns = [column for column in frame.columns if column not in TIMING_COLUMNS]
    keys = [column for column in columns if frame[column].dtype == object] + \
        [column for column in ("eps", "epoch", "sample", "index") if column in columns]
    return frame[columns].sort_values(keys, kind="stable").reset_index(drop=True)


def assert_same_results(expected: Path, actual: Path, atol: float = 1e-6) -> int:
    """Every table of two study directories holds the same rows (timings aside, floats within ``atol``);
    returns the number of rows compared."""
    compared = 0
    for table in TABLES:
        left, right = _sorted_rows(read_table(expected, table)), _sorted_rows(read_table(actual, table))
        assert len(left) == len(right), f"{table}: {len(left)} rows, then {len(right)}"
        for column in left.columns:
            if left[column].dtype.kind == "f":
                assert np.allclose(left[column], right[column], atol=atol, equal_nan=True), f"{table}.{column}"
            else:
                assert left[column].astype(object).fillna("<null>").tolist() == \
                    right[column].astype(object).fillna("<null>").tolist(), f"{table}.{column}"
        compared += len(left)
    return compared


# Tiny generated datasets in each real layout: image colour/brightness tells the class (a learnable signal).

def class_images(dataset: str, labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """uint8 [N, C, H, W] images of ``dataset``'s shape whose mean brightness grows with the label."""
    rng = np.random.default_rng(seed)
    shape = (len(labels), *DATASETS[dataset].shape)
    return np.clip(rng.normal(25.0 * labels.reshape(-1, 1, 1, 1), 10.0, shape), 0, 255).astype(np.uint8)


def _labels(count: int) -> np.ndarray:
    return np.arange(count) % 10


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as stream:
        stream.write(header + array.astype(np.uint8).tobytes())


def write_idx_dataset(root: Path, dataset: str, counts: dict[str, int]) -> None:
    """MNIST-style idx.gz files under ``root/<dataset>/`` (the engine's first place to look)."""
    folder = root / dataset
    folder.mkdir(parents=True, exist_ok=True)
    for split, count in counts.items():
        labels = _labels(count)
        images_name, labels_name = IDX_FILES[split]
        _write_idx(folder / images_name, class_images(dataset, labels)[:, 0])
        _write_idx(folder / labels_name, labels)


def write_cifar_batches(root: Path, counts: dict[str, int]) -> None:
    """CIFAR-10's python layout, ``root/cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}``
    (pickles of {"data": uint8 [N, 3072], "labels": [N]}), as torchvision reads it."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    names = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
    for split, count in counts.items():
        labels = _labels(count * len(names[split]))
        images = class_images("cifar10", labels).reshape(len(labels), -1)
        for i, name in enumerate(names[split]):
            part = slice(i * count, (i + 1) * count)
            (folder / name).write_bytes(pickle.dumps({"data": images[part], "labels": labels[part].tolist()}))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": list(DATASETS["cifar10"].classes)}))


def write_image_folder(root: Path, dataset: str, counts: dict[str, int]) -> None:
    """CINIC-10's layout, ``root/<dataset>/<split>/<class name>/*.png``, ``count`` images per class."""
    for split, count in counts.items():
        labels = np.repeat(np.arange(10), count)
        for index, (label, pixels) in enumerate(zip(labels, class_images(dataset, labels), strict=True)):
            folder = root / dataset / split / DATASETS[dataset].classes[label]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels.transpose(1, 2, 0)).save(folder / f"{split}-{index}.png")


def readme_block(name: str) -> str:
    """The README's text between ``<!-- name -->`` and ``<!-- /name -->`` (a generated section)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return text.split(f"<!-- {name} -->\n", 1)[1].split(f"<!-- /{name} -->", 1)[0]
