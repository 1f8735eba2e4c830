"""PGD's cost over its forward+backward limit, interleaved in one process.

Times, in each of ``--repeats`` rounds: ``--steps`` input-gradient passes on the batch (the limit), then
PGD-Linf and PGD-L1 with as many steps on it, and prints the medians and the efficiencies (limit time /
run time). On the cached bench LeNet5 and the first ``--images`` Fashion-MNIST test images.

    PYTHONPATH=. python benchmarks/pgd_efficiency.py [--threads 2] [--repeats 9]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from engine.attacks.pgd import input_gradient, madry_alpha, pgd
from engine.bench.run import cached_model_path
from engine.data.loaders import load_split
from engine.models.checkpoints import load_checkpoint

RADII = {"Linf": 0.1, "L2": 1.5, "L1": 10.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = load_checkpoint(cached_model_path())[0].eval()
    x, y = load_split("fashion_mnist", "test").head(args.images).tensors(torch.device("cpu"))
    x = x.contiguous(memory_format=torch.channels_last)

    def limit() -> None:
        for _ in range(args.steps):
            input_gradient(model, x, y)

    def attack(norm: str) -> Callable[[], object]:
        eps = RADII[norm]
        return lambda: pgd(model, x, y, norm, eps, madry_alpha(eps, args.steps), args.steps, random_start=True,
                           generator=torch.Generator().manual_seed(0))

    runs: dict[str, Callable[[], object]] = {"limit": limit} | {f"pgd-{norm}": attack(norm) for norm in RADII}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run()  # warm-up
    for _ in range(args.repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(spent) for name, spent in times.items()}
    print(f"{args.images} images, {args.steps} steps, {args.threads} threads, median of {args.repeats}")
    for name, seconds in medians.items():
        print(f"{name:10s} {seconds * 1000:8.1f} ms  efficiency {medians['limit'] / seconds:.2f}")


if __name__ == "__main__":
    main()
