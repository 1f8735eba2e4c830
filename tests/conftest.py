"""Shared fixtures (real Fashion-MNIST slices, a small trained LeNet5, a smoke study run) and the
lanes: every test is marked by its folder (unit, integration, hostile, app, e2e), and a test that uses a
real-data fixture is marked real_data, so ``make test-fast`` runs ``tests/unit -m "not real_data"``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from helpers import REPO, SMOKE

from engine.config.schema import ModelConfig, TrainingConfig
from engine.data.loaders import load_split
from engine.data.split import Split
from engine.models.classifier import Classifier
from engine.study.runner import run_study
from engine.study.validate import load_study
from engine.training.loop import train_model

LANES = ("unit", "integration", "hostile", "app", "e2e")  # the folders under tests/, one marker each
REAL_DATA_FIXTURES = {"fmnist_train", "fmnist_test", "lenet", "smoke_study"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        lane = item.path.relative_to(REPO / "tests").parts[0]
        if lane in LANES:
            item.add_marker(lane)
        if REAL_DATA_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker("real_data")


@pytest.fixture(scope="session")
def fmnist_train() -> Split:
    return load_split("fashion_mnist", "train")


@pytest.fixture(scope="session")
def fmnist_test() -> Split:
    return load_split("fashion_mnist", "test")


@pytest.fixture(scope="session")
def lenet(fmnist_train: Split, fmnist_test: Split) -> Classifier:
    """A LeNet5 trained for two epochs on 10,000 real Fashion-MNIST images (about 80 % accurate)."""
    spec = ModelConfig("lenet_test", "lenet5", TrainingConfig(epochs=2, lr=2e-3, seed=0))
    trained = train_model(spec, "fashion_mnist", fmnist_train.head(10000), fmnist_test.head(500),
                          torch.device("cpu"), progress=False)
    return trained.model.eval().requires_grad_(False)


@pytest.fixture(scope="session")
def smoke_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The smoke study run once on real data into a temporary directory."""
    out = tmp_path_factory.mktemp("smoke")
    run_study(load_study(SMOKE), out, progress=False)
    return out


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread() -> None:
    """One torch thread: the tests' batches are small, and on a two-core machine that also runs the
    app server of the browser tests, two threads per process were measured up to ten times slower."""
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def main_module_restored() -> Iterator[None]:
    """AppTest runs app.py as ``__main__`` and leaves it in ``sys.modules``; a process pool spawned by a later
    test (the bench's memory probe) would then rerun the app in its children, outside Streamlit, and break."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main
