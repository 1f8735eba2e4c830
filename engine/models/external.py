"""Models the engine did not define: ``arch = "package.module:factory"`` names a callable that returns an
``nn.Module`` mapping images [N, C, H, W] in [0, 1] to logits [N, classes].

The network is wrapped as a ``Classifier`` so that every attack and analysis treats it like a registry
model: its last ``nn.Linear`` becomes the head and the rest the body, whose output is the penultimate
feature vector PCA reads. Its own layers keep their ``named_modules()`` names (inside ``body.``) for SVCCA.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import torch
from torch import nn

from engine.data.datasets import dataset_spec
from engine.models.classifier import Classifier, Normalize

SEPARATOR = ":"
PENULTIMATE, LOGITS = "penultimate", "logits"


class ExternalModelError(ValueError):
    """An external architecture that cannot be imported, built or wrapped; the message says why."""


def is_external(arch: str) -> bool:
    """Whether ``arch`` names a factory ("package.module:factory") rather than a registry architecture."""
    return SEPARATOR in arch


def import_factory(arch: str) -> Callable[[], nn.Module]:
    """The callable ``arch`` ("package.module:factory") names, imported from ``sys.path``."""
    module_name, _, name = arch.partition(SEPARATOR)
    if not module_name or not name.isidentifier():
        raise ExternalModelError(f"{arch!r} is not of the form package.module:factory")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ExternalModelError(f"cannot import {module_name!r} for {arch!r} ({error}); put its folder on "
                                 "PYTHONPATH or install its package") from None
    factory = getattr(module, name, None)
    if not callable(factory):
        raise ExternalModelError(f"{module_name!r} has no callable {name!r} (named by {arch!r})")
    return factory


def build_network(arch: str) -> nn.Module:
    """A fresh network from ``arch``'s factory, called without arguments."""
    factory = import_factory(arch)
    try:
        network = factory()
    except Exception as error:  # the user's code: any failure is a configuration error
        raise ExternalModelError(f"{arch!r} failed when called: {type(error).__name__}: {error}") from None
    if not isinstance(network, nn.Module):
        raise ExternalModelError(f"{arch!r} returned {type(network).__name__}, not a torch.nn.Module")
    return network


def wrap(network: nn.Module, arch: str, dataset: str, num_classes: int) -> Classifier:
    """``network`` as a ``Classifier`` for ``dataset``'s images: its last ``nn.Linear`` (in
    ``named_modules()`` order) is taken out as the head and replaced by an identity, so the body outputs
    the penultimate features [N, F]. ``ExternalModelError`` unless the network maps a batch of the
    dataset's shape to [N, num_classes] and the split computes exactly what the network did."""
    channels, size, _ = dataset_spec(dataset).shape
    probe = torch.rand(2, channels, size, size, generator=torch.Generator().manual_seed(0))
    network.eval()
    with torch.no_grad():
        try:
            logits = network(probe)
        except Exception as error:  # the user's forward: any failure is a configuration error
            raise ExternalModelError(f"{arch!r} fails on a batch of {dataset} images {tuple(probe.shape)}: "
                                     f"{type(error).__name__}: {error}") from None
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (2, num_classes):
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ExternalModelError(f"{arch!r} maps {dataset} images {tuple(probe.shape)} to {shape}, not logits "
                                 f"of shape (2, {num_classes})")
    name, head = _last_linear(network, arch)
    _replace(network, name, nn.Identity())
    model = Classifier(network, head, Normalize([0.0] * channels, [1.0] * channels)).eval()
    with torch.no_grad():
        if not torch.allclose(model(probe), logits, rtol=1e-4, atol=1e-5):
            raise ExternalModelError(f"{arch!r}: its last nn.Linear ({name!r}) is not its output layer; the engine "
                                     "reads the penultimate features at the input of the final linear layer")
    return model


def external_layers(model: Classifier, chosen: tuple[str, ...] = ()) -> dict[str, str]:
    """SVCCA layers of a wrapped network, result name -> module path: the ``chosen`` ``named_modules()``
    names of the network (default: its top-level children but the head), then penultimate and logits."""
    names = chosen or tuple(name for name, child in model.body.named_children() if not isinstance(child, nn.Identity))
    known = {name for name, _ in model.body.named_modules() if name}
    layers = {name: f"body.{name}" for name in names if name in known} | {PENULTIMATE: "body", LOGITS: "head"}
    return {name: path for name, path in layers.items() if not chosen or name in chosen}


def _last_linear(network: nn.Module, arch: str) -> tuple[str, nn.Linear]:
    linears = [(name, module) for name, module in network.named_modules() if isinstance(module, nn.Linear)]
    if not linears or not linears[-1][0]:
        raise ExternalModelError(f"{arch!r} has no nn.Linear output layer inside it; the engine reads the "
                                 "penultimate features at the input of the final linear layer")
    return linears[-1]


def _replace(network: nn.Module, name: str, module: nn.Module) -> None:
    """Set the submodule at dotted path ``name`` of ``network`` to ``module``."""
    parent, _, leaf = name.rpartition(".")
    setattr(network.get_submodule(parent) if parent else network, leaf, module)
