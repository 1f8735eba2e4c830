"""The architecture registry: one record per architecture, its builder and its named layers.

``create_model(name, dataset)`` builds a ``Classifier`` for the dataset's image shape and
normalisation (``engine.data.datasets``); every model takes images in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from engine.data.datasets import dataset_spec
from engine.models import networks
from engine.models.classifier import Classifier, Normalize
from engine.models.external import build_network, external_layers, is_external, wrap


@dataclass(frozen=True)
class ArchSpec:
    build: Callable[[int, int], networks.Body]  # (in_channels, image_size) -> (body, features)
    # Layers compared by SVCCA, by the name used in the results -> module name inside the Classifier.
    # "penultimate" is the body's output, the features PCA reads; "logits" the head's.
    layers: dict[str, str]


def _body_layers(*names: str) -> dict[str, str]:
    """Layers named after the body's own stages, plus the body's and the head's outputs."""
    return {name: f"body.{name}" for name in names} | {"penultimate": "body", "logits": "head"}


RESNET_STAGES = ("stem", "stage1", "stage2", "stage3", "stage4")
ARCHITECTURES: dict[str, ArchSpec] = {
    "lenet5": ArchSpec(networks.lenet5, _body_layers("conv1", "conv2", "fc1")),
    "resnet18": ArchSpec(networks.resnet18, _body_layers(*RESNET_STAGES)),
    "resnet_small": ArchSpec(networks.resnet_small, _body_layers(*RESNET_STAGES)),
    "resnet50": ArchSpec(networks.resnet50, {
        "stem": "body.network.relu", "stage1": "body.network.layer1", "stage2": "body.network.layer2",
        "stage3": "body.network.layer3", "stage4": "body.network.layer4", "penultimate": "body", "logits": "head"}),
    "inception_v3": ArchSpec(networks.inception_v3, {
        "stem": "body.network.Conv2d_4a_3x3", "mixed_5d": "body.network.Mixed_5d", "mixed_6e": "body.network.Mixed_6e",
        "mixed_7c": "body.network.Mixed_7c", "penultimate": "body", "logits": "head"}),
}


def create_model(name: str, dataset: str, num_classes: int = 0) -> Classifier:
    """Build registry architecture ``name`` for ``dataset``'s image shape and normalisation, or the
    network of an external factory ``name`` ("package.module:factory", ``engine.models.external``), with
    ``num_classes`` outputs (0: the dataset's classes)."""
    spec = dataset_spec(dataset)
    num_classes = num_classes or len(spec.classes)
    if is_external(name):
        return wrap(build_network(name), name, dataset, num_classes)
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown model {name!r}; known: {sorted(ARCHITECTURES)}")
    channels, size, _ = spec.shape
    body, features = ARCHITECTURES[name].build(channels, size)
    return Classifier(body, nn.Linear(features, num_classes), Normalize(spec.mean, spec.std))


def layers_of(arch: str, model: Classifier, chosen: tuple[str, ...] = ()) -> dict[str, str]:
    """SVCCA layers of ``model`` (built from ``arch``), result name -> module path, only the ``chosen``
    names if any: the registry's named layers, or an external network's ``named_modules()``."""
    if is_external(arch):
        return external_layers(model, chosen)
    return {name: path for name, path in ARCHITECTURES[arch].layers.items() if not chosen or name in chosen}
