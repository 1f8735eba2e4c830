"""Peak memory of an attack, read from /proc in a freshly spawned process so earlier peaks cannot hide it."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import torch

from engine.attacks.registry import make_attack
from engine.config.schema import AttackConfig
from engine.models.registry import create_model

MEMORY_ATTACKS = ("deepfool", "jsma")  # peak memory on a CIFAR-10-sized batch of an untrained resnet_small
PROC_STATUS = Path("/proc/self/status")
PROC_CLEAR_REFS = Path("/proc/self/clear_refs")  # Linux >= 4.0: writing 5 resets the peak resident memory


@dataclass(frozen=True)
class MemoryRow:
    attack: str
    batch: int  # images of 3 x 32 x 32 attacked at once
    peak_mib: float  # peak resident memory during the attack over the resident memory before it
    seconds: float


def _status_mib(field: str) -> float:
    """A memory field of /proc/self/status in MiB: VmRSS (resident now) or VmHWM (peak resident)."""
    for line in PROC_STATUS.read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise OSError(f"{PROC_STATUS} has no {field}")


def _memory_child(cfg: AttackConfig, batch: int, threads: int) -> tuple[float, float]:
    """In a fresh process: (extra peak RSS in MiB, seconds) of ``cfg`` on an untrained CIFAR-10 resnet_small.

    Images are uniform noise [batch, 3, 32, 32] labelled with the model's own predictions, so every
    image is attacked. After building the model and one forward pass, the process's peak resident
    memory (VmHWM) is reset to its current one (writing 5 to /proc/self/clear_refs); the attack's
    figure is the peak after it minus that baseline. Resident memory counts every allocation, torch's
    included (tracemalloc sees only Python's). Not ru_maxrss: Linux keeps it across fork and execve,
    so a spawned child starts with its parent's peak and a smaller attack shows nothing.
    """
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = create_model("resnet_small", "cifar10").eval()
    x = torch.rand(batch, 3, 32, 32)
    with torch.no_grad():
        y = model(x).argmax(dim=1)
    attack = make_attack(model, cfg, torch.Generator().manual_seed(0))
    baseline = _status_mib("VmRSS")
    PROC_CLEAR_REFS.write_text("5")
    start = time.perf_counter()
    attack(x, y)
    seconds = time.perf_counter() - start
    return _status_mib("VmHWM") - baseline, seconds


def peak_memory(cfg: AttackConfig, batch: int) -> MemoryRow:
    """Run ``_memory_child`` in a spawned process, so that earlier peaks do not hide this one."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        peak, seconds = pool.submit(_memory_child, cfg, batch, torch.get_num_threads()).result()
    return MemoryRow(cfg.name, batch, peak, seconds)


def memory_rows(configs: list[AttackConfig], batch: int) -> list[MemoryRow]:
    """Peak memory of the configs of ``MEMORY_ATTACKS`` on ``batch`` images; none when ``batch`` is 0."""
    chosen = [cfg for cfg in configs if cfg.name in MEMORY_ATTACKS]
    return [peak_memory(cfg, batch) for cfg in chosen] if batch else []
