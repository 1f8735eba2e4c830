"""External architectures ("package.module:factory"): wrapped as a Classifier that computes exactly what the
user's network did, validated before any work, with weights loaded strictly from safetensors only."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from engine.config.schema import ConfigError
from engine.models.checkpoints import CheckpointError, import_weights
from engine.models.external import ExternalModelError
from engine.models.registry import create_model, layers_of
from engine.study.validate import study_from_dict, validate_checkpoints

MODULE = textwrap.dedent("""
    import torch
    from torch import nn

    def build():
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 28 * 28, 10))

    def head_first():  # its last nn.Linear is not the output layer
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 10), nn.Tanh())

    def wrong_classes():
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 3))

    def not_a_module():
        return 42

    def broken():
        raise RuntimeError("no GPU here")
""")


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user's model file outside the project, importable as ``atlas_user_net``."""
    (tmp_path / "atlas_user_net.py").write_text(MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "atlas_user_net", raising=False)
    return tmp_path


def _study(arch: str, checkpoint: str) -> dict:
    return {"name": "byo", "data": {"dataset": "fashion_mnist"},
            "models": [{"id": "mine", "arch": arch, "checkpoint": checkpoint}]}


def test_the_wrapped_network_computes_what_the_users_network_computes(user_module: Path) -> None:
    import atlas_user_net  # type: ignore[import-not-found]

    torch.manual_seed(0)
    network = atlas_user_net.build().eval()
    save_file(network.state_dict(), str(user_module / "w.safetensors"))
    x = torch.rand(5, 1, 28, 28)
    expected = network(x)
    model = import_weights("atlas_user_net:build", "fashion_mnist", user_module / "w.safetensors")
    assert torch.allclose(model(x), expected, atol=1e-6)
    assert model.features(x).shape == (5, 4 * 28 * 28)  # the input of the final linear layer
    assert layers_of("atlas_user_net:build", model) == {"0": "body.0", "1": "body.1", "2": "body.2",
                                                        "penultimate": "body", "logits": "head"}
    assert layers_of("atlas_user_net:build", model, ("1", "logits")) == {"1": "body.1", "logits": "head"}


@pytest.mark.parametrize(("factory", "message"), [
    ("missing_function", "has no callable 'missing_function'"),
    ("head_first", "is not its output layer"),
    ("wrong_classes", "not logits of shape (2, 10)"),
    ("not_a_module", "returned int, not a torch.nn.Module"),
    ("broken", "failed when called: RuntimeError: no GPU here"),
])
def test_a_factory_that_cannot_serve_is_a_config_error_naming_the_field(user_module: Path, factory: str,
                                                                        message: str) -> None:
    with pytest.raises(ConfigError, match=r"models\[0\]\.arch") as caught:
        study_from_dict(_study(f"atlas_user_net:{factory}", "w.safetensors"))
    assert message in str(caught.value)


def test_an_unimportable_module_says_how_to_make_it_importable() -> None:
    with pytest.raises(ConfigError, match="PYTHONPATH"):
        study_from_dict(_study("no_such_atlas_module:build", "w.safetensors"))


def test_an_external_model_needs_weights_and_an_imported_model_no_training() -> None:
    with pytest.raises(ConfigError, match=r"models\[0\]\.checkpoint: an external architecture"):
        study_from_dict(_study("atlas_user_net:build", ""))
    data = _study("lenet5", "w.safetensors")
    data["models"][0]["training"] = {"epochs": 3}
    with pytest.raises(ConfigError, match=r"models\[0\]\.training: a model with a checkpoint is imported"):
        study_from_dict(data)


def test_weights_are_checked_before_any_work(user_module: Path) -> None:
    import atlas_user_net

    network = atlas_user_net.build()
    torch.save(network.state_dict(), user_module / "w.pt")
    study = study_from_dict(_study("atlas_user_net:build", str(user_module / "w.pt")))
    with pytest.raises(ConfigError, match=r"refused, never unpickled; .*safetensors\.torch\.save_file"):
        validate_checkpoints(study)
    save_file(create_model("lenet5", "fashion_mnist").state_dict(), str(user_module / "lenet.safetensors"))
    study = study_from_dict(_study("atlas_user_net:build", str(user_module / "lenet.safetensors")))
    with pytest.raises(ConfigError, match="the weights do not fit 'atlas_user_net:build'"):
        validate_checkpoints(study)
    save_file(network.state_dict(), str(user_module / "mine.safetensors"))
    with pytest.raises(CheckpointError, match="the weights do not fit 'lenet5'"):
        import_weights("lenet5", "fashion_mnist", user_module / "mine.safetensors")
    with pytest.raises(ExternalModelError):
        create_model("atlas_user_net:head_first", "fashion_mnist")
