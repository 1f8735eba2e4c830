from pathlib import Path

import pytest
import torch

from engine.models.checkpoints import load_checkpoint, save_checkpoint, sidecar
from engine.models.registry import create_model


def test_round_trip_gives_the_same_function(tmp_path: Path) -> None:
    model = create_model("resnet_small", "cifar10").eval()
    path = tmp_path / "m.safetensors"
    save_checkpoint(model, path, {"arch": "resnet_small", "dataset": "cifar10", "model_id": "m"})
    loaded, meta = load_checkpoint(path)
    x = torch.rand(2, 3, 32, 32)
    assert torch.allclose(model(x), loaded(x)) and not loaded.training
    assert meta["model_id"] == "m" and sidecar(path).exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []


def test_metadata_must_say_how_to_rebuild(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lacks"):
        save_checkpoint(create_model("lenet5", "mnist"), tmp_path / "m.safetensors", {"arch": "lenet5"})


def test_a_pickle_is_never_loaded(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    torch.save(create_model("lenet5", "mnist").state_dict(), path)
    sidecar(path).write_text('{"arch": "lenet5", "dataset": "mnist"}')
    with pytest.raises(Exception, match="(?i)header|safetensor|invalid"):
        load_checkpoint(path)
