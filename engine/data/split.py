"""A dataset split held in memory as uint8 tensors and served in float batches in [0, 1]."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from engine.core.fs import atomic_write


@dataclass(frozen=True)
class Split:
    """One split of a dataset held in memory.

    images: uint8 [N, C, H, W]; labels: int64 [N].
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)

    def head(self, n: int) -> Split:
        """The first ``n`` examples (all of them when ``n`` is 0 or too large)."""
        n = len(self) if n <= 0 else min(n, len(self))
        return Split(self.images[:n], self.labels[:n], self.classes)

    def tail(self, n: int) -> Split:
        """The last ``n`` examples."""
        return Split(self.images[len(self) - n:], self.labels[len(self) - n:], self.classes)

    def tensors(self, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        """All images as float [N, C, H, W] in [0, 1] and labels int64 [N] on ``device``."""
        return to_unit(self.images.to(device)), self.labels.to(device)

    def batches(self, batch_size: int, device: torch.device | str = "cpu",
                generator: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield (float images in [0, 1], labels) batches; shuffled when a generator is given."""
        for x, y, _ in self.indexed_batches(batch_size, device, generator):
            yield x, y

    def indexed_batches(self, batch_size: int, device: torch.device | str = "cpu",
                        generator: torch.Generator | None = None
                        ) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Like ``batches``, with each batch's positions in the split (int64 [B]) as a third item."""
        order = torch.randperm(len(self), generator=generator) if generator is not None else torch.arange(len(self))
        for start in range(0, len(self), batch_size):
            index = order[start:start + batch_size]
            yield to_unit(self.images[index].to(device)), self.labels[index].to(device), index

    @staticmethod
    def join(splits: list[Split]) -> Split:
        """The examples of ``splits`` one after another (classes of the first)."""
        return Split(torch.cat([s.images for s in splits]), torch.cat([s.labels for s in splits]), splits[0].classes)


def save_split(path: Path, split: Split) -> None:
    """Write a split's uint8 images and labels to ``path`` (safetensors, atomically)."""
    tensors = {"images": split.images.contiguous(), "labels": split.labels.contiguous()}
    atomic_write(Path(path), lambda temp: save_file(tensors, temp))


def read_split(path: Path, classes: tuple[str, ...]) -> Split:
    """A split written by ``save_split``."""
    tensors = load_file(str(path))
    return Split(tensors["images"], tensors["labels"], classes)


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 [..] -> float32 [..] in [0, 1]."""
    return images.float().div_(255.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [..] in [0, 1] -> uint8 [..] on the CPU, rounded to the nearest of the 256 levels."""
    return images.detach().mul(255).round_().clamp_(0, 255).to(torch.uint8).cpu()
