import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.data import loaders as data
from engine.data.loaders import DataNotFoundError, data_root, load_split, read_idx
from engine.data.split import Split


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    with gzip.open(path, "wb") as stream:
        stream.write(header + array.astype(np.uint8).tobytes())


def test_read_idx_round_trip(tmp_path: Path) -> None:
    array = np.random.default_rng(0).integers(0, 256, size=(7, 28, 28))
    write_idx(tmp_path / "x.gz", array)
    np.testing.assert_array_equal(read_idx(tmp_path / "x.gz"), array)


def test_truncated_and_foreign_idx_files_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.gz"
    write_idx(path, np.zeros((3, 4)))
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-2]))
    with pytest.raises(ValueError, match="truncated"):
        read_idx(path)
    path.write_bytes(gzip.compress(b"PNG not idx"))
    with pytest.raises(ValueError, match="not an unsigned-byte idx"):
        read_idx(path)


def test_data_root_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(data.ROOT_ENV, str(tmp_path / "env"))
    assert data_root(tmp_path / "flag") == tmp_path / "flag"
    assert data_root() == tmp_path / "env"
    monkeypatch.delenv(data.ROOT_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data_root() == tmp_path / "cache" / "robustness-atlas" / "data"


def test_missing_data_offline_says_where_and_how(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import torchvision.datasets as tvd

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(tvd, "MNIST", offline)
    with pytest.raises(DataNotFoundError) as error:
        load_split("mnist", "test", tmp_path)
    message = str(error.value)
    assert str(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz") in message
    assert "--data-root" in message and "network is unreachable" in message


def test_local_idx_files_in_the_root_are_used(tmp_path: Path) -> None:
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx(folder / "t10k-images-idx3-ubyte.gz", np.full((5, 28, 28), 255))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.arange(5))
    split = load_split("mnist", "test", tmp_path)
    images, labels = split.tensors()
    assert images.shape == (5, 1, 28, 28) and images.max() == 1.0
    assert labels.tolist() == [0, 1, 2, 3, 4]


def test_unknown_dataset_or_split() -> None:
    with pytest.raises(ValueError, match="unknown dataset"):
        load_split("imagenet", "train")
    with pytest.raises(ValueError, match="unknown split"):
        load_split("mnist", "valid")


def test_batches_cover_the_split_once_shuffled_or_not() -> None:
    split = Split(torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1), torch.arange(10), ("a",))
    ordered = torch.cat([y for _, y in split.batches(3)])
    shuffled = torch.cat([y for _, y in split.batches(3, generator=torch.Generator().manual_seed(0))])
    assert ordered.tolist() == list(range(10))
    assert sorted(shuffled.tolist()) == list(range(10)) and shuffled.tolist() != list(range(10))
    x, y = next(split.batches(4))
    assert x.dtype == torch.float32 and torch.equal(x.flatten() * 255, y.float())


@pytest.mark.real_data
def test_debian_fashion_mnist_loads_without_a_copy(fmnist_train: Split, fmnist_test: Split) -> None:
    assert fmnist_train.images.shape == (60000, 1, 28, 28)
    assert fmnist_test.images.shape == (10000, 1, 28, 28)
    assert fmnist_test.labels.bincount().tolist() == [1000] * 10
    assert fmnist_train.classes[9] == "Ankle boot"
