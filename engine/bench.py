"""``python -m engine bench``: our attacks next to torchattacks' on one model, one batch, one run.

Method (DESIGN §6): every setting of ``BENCH`` runs on the same model (a standard LeNet5 on
Fashion-MNIST unless ``--model`` names a checkpoint) and the same N test images, in one process.
A warm-up run is counted (forward passes with autograd on) and its output judged by the engine
(``check_budget``, then prediction != label); the rate is N over the median of ``repeats`` timed
runs. A gradient attack's limit is its forward+backward passes times the measured time of one
input-gradient forward+backward of the model at batch size N; efficiency = limit / measured.
torchattacks' DeepFool and JSMA loop over single images: they are timed and judged on the first
``reference_images`` images. On a CPU read the ratios; absolute times count only as a GPU figure.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import statistics
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import torch
import torchattacks
from torch import nn

from engine.attacks import ATTACKS, make_attack, step_size
from engine.attacks.options import merged_options
from engine.attacks.pgd import input_gradient
from engine.attacks.torchattacks_wrappers import class_count, draw_seed, make_apgd, make_autoattack, preserved_state
from engine.checkpoints import load_checkpoint, save_checkpoint
from engine.config import AttackConfig, ConfigError, ModelConfig, TrainingConfig
from engine.data import cache_root, load_split
from engine.device import pick_device
from engine.evaluation import BudgetError, check_budget, predict
from engine.models import create_model
from engine.results.io import atomic_write
from engine.training import train_model
from engine.training_costs import EpochCost, epoch_costs

log = logging.getLogger(__name__)

Attack = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
RADII = {"Linf": 0.1, "L2": 1.5, "L1": 10.0}  # Fashion-MNIST radii that break most of a standard LeNet5
BENCH_MODEL = ModelConfig("bench_lenet5", "lenet5", TrainingConfig(epochs=5, lr=1e-3, seed=0))
SIXTY_THOUSAND = 60_000
# Park & So 2020: seconds to generate 60,000 examples against LeNet5 on an RTX 2080Ti.
PARK_SO_SECONDS = (("fgsm", "Linf", 48.0), ("jsma", "L0", 2226.0), ("cw", "L2", 8142.0))
MEMORY_ATTACKS = ("deepfool", "jsma")  # peak memory on a CIFAR-10-sized batch of an untrained resnet_small
PROC_STATUS = Path("/proc/self/status")
PROC_CLEAR_REFS = Path("/proc/self/clear_refs")  # Linux >= 4.0: writing 5 resets the peak resident memory


# --- the bench table ---------------------------------------------------------------------------

def _fgsm(model: nn.Module, cfg: AttackConfig, seed: int, classes: int) -> Any:
    return torchattacks.FGSM(model, eps=cfg.eps)


def _pgd(model: nn.Module, cfg: AttackConfig, seed: int, classes: int) -> Any:
    return torchattacks.PGD(model, eps=cfg.eps, alpha=step_size(cfg), steps=cfg.steps, random_start=True)


def _pgdl2(model: nn.Module, cfg: AttackConfig, seed: int, classes: int) -> Any:
    return torchattacks.PGDL2(model, eps=cfg.eps, alpha=step_size(cfg), steps=cfg.steps, random_start=True)


def _cw(model: nn.Module, cfg: AttackConfig, seed: int, classes: int) -> Any:
    """torchattacks' C&W has no search over c: one run at c = 1 with our confidence, steps and lr."""
    options = merged_options(cfg, ATTACKS["cw"].options)
    return torchattacks.CW(model, c=1.0, kappa=options["confidence"], steps=cfg.steps, lr=options["lr"])


def _deepfool(model: nn.Module, cfg: AttackConfig, seed: int, classes: int) -> Any:
    options = merged_options(cfg, ATTACKS["deepfool"].options)
    return torchattacks.DeepFool(model, steps=cfg.steps, overshoot=options["overshoot"])


def _jsma(model: nn.Module, cfg: AttackConfig, seed: int, classes: int) -> Any:
    options = merged_options(cfg, ATTACKS["jsma"].options)
    return torchattacks.JSMA(model, theta=options["theta"], gamma=options["gamma"])


def _apgd(model: nn.Module, cfg: AttackConfig, seed: int, classes: int) -> Any:
    return make_apgd(model, cfg, seed)


def _autoattack(model: nn.Module, cfg: AttackConfig, seed: int, classes: int) -> Any:
    return make_autoattack(model, cfg, classes, seed)


def steps_times_restarts(cfg: AttackConfig, counted: int) -> float:
    """Forward+backward passes of FGSM (1) and PGD (steps per restart)."""
    return float(cfg.steps * cfg.restarts)


def apgd_passes(cfg: AttackConfig, counted: int) -> float:
    """APGD takes one gradient at its random start and one per step, per restart."""
    return float((cfg.steps + 1) * cfg.restarts)


def counted_iterations(cfg: AttackConfig, counted: int) -> float:
    """C&W: the Adam iterations actually run (gradient forwards counted in the warm-up)."""
    return float(counted)


@dataclass(frozen=True)
class Reference:
    """torchattacks' counterpart of a setting: ``make(model, cfg, seed, classes)``."""

    make: Callable[[nn.Module, AttackConfig, int, int], Any]
    per_image: bool = False  # loops over single images: timed and judged on a subset


@dataclass(frozen=True)
class BenchEntry:
    """One attack of the bench, in one or more norms."""

    name: str  # attack registry name
    norms: tuple[str, ...] = ()  # () = every norm the registry offers that RADII covers
    steps: int = 1
    random_start: bool = False
    options: dict[str, float] = field(default_factory=dict)
    references: dict[str, Reference] = field(default_factory=dict)  # by norm
    passes: Callable[[AttackConfig, int], float] | None = None  # forward+backward passes; None: no limit


BENCH: tuple[BenchEntry, ...] = (
    BenchEntry("fgsm", references={"Linf": Reference(_fgsm)}, passes=steps_times_restarts),
    BenchEntry("pgd", steps=10, random_start=True, passes=steps_times_restarts,
               references={"Linf": Reference(_pgd), "L2": Reference(_pgdl2)}),
    # Park & So's confidence 5, at the engine's default Adam step (lr 0.05) for both implementations
    BenchEntry("cw", ("L2",), steps=100, options={"confidence": 5.0}, references={"L2": Reference(_cw)},
               passes=counted_iterations),
    BenchEntry("deepfool", ("L2",), steps=50, references={"L2": Reference(_deepfool, per_image=True)}),
    BenchEntry("jsma", ("L0",), options={"theta": 1.0, "gamma": 0.1},
               references={"L0": Reference(_jsma, per_image=True)}),
    BenchEntry("apgd", ("Linf", "L2"), steps=10, passes=apgd_passes,
               references={"Linf": Reference(_apgd), "L2": Reference(_apgd)}),
    BenchEntry("autoattack", ("Linf", "L2"), references={"Linf": Reference(_autoattack), "L2": Reference(_autoattack)}),
    BenchEntry("noise", options={"draws": 10.0}),
)


@dataclass(frozen=True)
class BenchSetting:
    entry: BenchEntry
    config: AttackConfig

    @property
    def reference(self) -> Reference | None:
        return self.entry.references.get(self.config.norm)


def _setting(entry: BenchEntry, norm: str) -> BenchSetting | str:
    """The setting of ``entry`` in ``norm``, or why there is none."""
    spec = ATTACKS[entry.name]
    if norm not in spec.norms:
        return f"{entry.name} {norm}: the registry does not offer this norm, skipped"
    if not spec.unbounded and norm not in RADII:
        return f"{entry.name} {norm}: no bench radius for this norm, skipped"
    eps = float("inf") if spec.unbounded else RADII[norm]
    cfg = AttackConfig(entry.name, norm, eps, steps=entry.steps, random_start=entry.random_start,
                       options=dict(entry.options))
    return BenchSetting(entry, cfg)


def expand(entries: tuple[BenchEntry, ...], names: tuple[str, ...]) -> tuple[list[BenchSetting], list[str]]:
    """The settings of the entries named in ``names`` (all when empty) and notes on what was skipped."""
    settings: list[BenchSetting] = []
    notes: list[str] = []
    for entry in (e for e in entries if not names or e.name in names):
        if entry.name not in ATTACKS:
            notes.append(f"{entry.name}: not registered, skipped")
            continue
        norms = entry.norms or tuple(n for n in ATTACKS[entry.name].norms if n in RADII)
        for result in (_setting(entry, norm) for norm in norms):
            (settings if isinstance(result, BenchSetting) else notes).append(result)
    return settings, notes


# --- measuring ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Measurement:
    images: int  # images timed and judged
    seconds: float  # median time of one run over them
    images_per_second: float
    success: float | None  # share misclassified after the attack; None when the output broke the budget
    gradient_forwards: int  # forward passes with autograd on in one run (counted in the warm-up)
    note: str = ""


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_seconds(run: Callable[[], object], repeats: int, device: torch.device) -> float:
    """Median wall time of ``repeats`` calls of ``run`` (the caller has warmed it up)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def gradient_seconds(model: nn.Module, x: torch.Tensor, y: torch.Tensor, repeats: int) -> float:
    """Median time of one input-gradient forward+backward of ``model`` on the batch x [N, C, H, W]."""
    run = partial(input_gradient, model, x, y)
    run()
    return median_seconds(run, max(repeats, 5), x.device)


@contextmanager
def counting_gradient_forwards(model: nn.Module) -> Iterator[list[int]]:
    """Yield a one-item list that counts ``model``'s forward calls made with autograd on."""
    counter = [0]

    def count(*_: Any) -> None:
        counter[0] += torch.is_grad_enabled()

    handle = model.register_forward_hook(count)
    try:
        yield counter
    finally:
        handle.remove()


def judge(model: nn.Module, x: torch.Tensor, x_adv: torch.Tensor, y: torch.Tensor,
          cfg: AttackConfig) -> tuple[torch.Tensor | None, str]:
    """Bool [N] misclassified after the attack, or None and the reason when x_adv breaks the budget."""
    try:
        check_budget(x, x_adv, cfg)
    except BudgetError as error:
        return None, str(error)
    return predict(model, x_adv) != y, ""


def measure(attack: Attack, model: nn.Module, x: torch.Tensor, y: torch.Tensor, cfg: AttackConfig,
            repeats: int) -> tuple[Measurement, torch.Tensor | None]:
    """Warm up (counted, judged), then time ``attack`` on x [N, C, H, W], y [N]; also the fooled mask [N]."""
    with counting_gradient_forwards(model) as counter:
        x_adv = attack(x, y)
    fooled, note = judge(model, x, x_adv, y, cfg)
    seconds = median_seconds(partial(attack, x, y), repeats, x.device)
    success = None if fooled is None else fooled.float().mean().item()
    return Measurement(len(x), seconds, len(x) / seconds, success, counter[0], note), fooled


def _run_reference(reference: Reference, model: nn.Module, cfg: AttackConfig, generator: torch.Generator,
                   classes: int, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """torchattacks' attack on x, y, seeded from ``generator``; model modes and global RNG preserved."""
    seed = draw_seed(generator)
    with preserved_state(model, x.device):
        torch.manual_seed(seed)
        return reference.make(model, cfg, seed, classes)(x, y).detach()


# --- one row -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class BenchRow:
    attack: str
    norm: str
    eps: float | None  # None: unbounded (a minimal-perturbation attack)
    steps: int
    options: dict[str, float]
    ours: Measurement
    torchattacks: Measurement | None  # None: torchattacks has no such attack
    passes: float | None  # forward+backward passes of our run; None: no limit quoted
    limit_images_per_second: float | None  # N / (passes * forward+backward time at N)
    efficiency: float | None  # limit time / our time
    torchattacks_efficiency: float | None
    speedup: float | None  # our images/s over torchattacks'
    forward_backward_seconds: float  # one input-gradient forward+backward at N, measured just before
    note: str = ""


def _efficiency(setting: BenchSetting, run: Measurement | None, fb_seconds: float) -> tuple[float | None, float]:
    """(passes, efficiency) of a run timed on the full batch; passes None when the setting quotes no limit."""
    if setting.entry.passes is None or run is None:
        return None, float("nan")
    passes = setting.entry.passes(setting.config, run.gradient_forwards)
    return passes, passes * fb_seconds / run.seconds


def _reference_measurement(setting: BenchSetting, model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                           repeats: int, subset: int) -> tuple[Measurement | None, int]:
    """torchattacks' run of ``setting`` (on the first ``subset`` images if it loops per image) and its size."""
    reference = setting.reference
    if reference is None:
        return None, len(x)
    n = min(subset, len(x)) if reference.per_image else len(x)
    attack = partial(_run_reference, reference, model, setting.config, torch.Generator().manual_seed(0),
                     class_count(model, x))
    return measure(attack, model, x[:n], y[:n], setting.config, repeats)[0], n


def _subset_note(fooled: torch.Tensor | None, n: int, total: int) -> str:
    if n == total or fooled is None:
        return ""
    return f"torchattacks timed and judged on the first {n} images (ours there: {fooled[:n].float().mean():.1%})"


def _finite(value: float) -> float | None:
    return value if value == value else None  # NaN -> None: JSON has no NaN


def bench_setting(setting: BenchSetting, model: nn.Module, x: torch.Tensor, y: torch.Tensor, repeats: int,
                  subset: int) -> BenchRow:
    """Our attack and torchattacks' on the same model and images, timed and judged.

    The forward+backward time is measured right before, so that a drifting load on a shared
    machine moves the limit and the attacks together.
    """
    cfg = setting.config
    log.info("bench %s %s", cfg.name, cfg.norm)
    fb_seconds = gradient_seconds(model, x, y, repeats)
    ours, fooled = measure(make_attack(model, cfg, torch.Generator().manual_seed(0)), model, x, y, cfg, repeats)
    theirs, n = _reference_measurement(setting, model, x, y, repeats, subset)
    passes, efficiency = _efficiency(setting, ours, fb_seconds)
    _, their_efficiency = _efficiency(setting, theirs if n == len(x) else None, fb_seconds)
    limit = None if passes is None else len(x) / (passes * fb_seconds)
    speedup = None if theirs is None else ours.images_per_second / theirs.images_per_second
    eps = None if cfg.unbounded else cfg.eps
    return BenchRow(cfg.name, cfg.norm, eps, cfg.steps, cfg.options, ours, theirs, passes, limit,
                    _finite(efficiency), _finite(their_efficiency), speedup, fb_seconds,
                    _subset_note(fooled, n, len(x)))


# --- peak memory in a fresh process --------------------------------------------------------------

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

    Images are uniform noise labelled with the model's own predictions, so every image is
    attacked. After building the model and one forward pass, the process's peak resident memory
    (VmHWM) is reset to its current one (writing 5 to /proc/self/clear_refs); the attack's figure
    is the peak after it minus that baseline. Resident memory counts every allocation, torch's
    included (tracemalloc sees only Python's). Not ru_maxrss: Linux keeps it across fork and
    execve, so a spawned child starts with its parent's peak and a smaller attack shows nothing.
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


def memory_rows(settings: list[BenchSetting], batch: int) -> list[MemoryRow]:
    chosen = [s.config for s in settings if s.config.name in MEMORY_ATTACKS]
    return [peak_memory(cfg, batch) for cfg in chosen] if batch else []


# --- the 60,000-example extrapolation ----------------------------------------------------------

@dataclass(frozen=True)
class SixtyThousandRow:
    attack: str
    norm: str
    ours_seconds: float
    torchattacks_seconds: float | None
    park_so_seconds: float  # LeNet5 on an RTX 2080Ti


def sixty_thousand(rows: list[BenchRow]) -> list[SixtyThousandRow]:
    """Time to generate 60,000 examples at the measured rates, next to Park & So's GPU figures."""
    found = {(r.attack, r.norm): r for r in rows}
    result = []
    for name, norm, paper in PARK_SO_SECONDS:
        if (row := found.get((name, norm))) is not None:
            theirs = None if row.torchattacks is None else SIXTY_THOUSAND / row.torchattacks.images_per_second
            result.append(SixtyThousandRow(name, norm, SIXTY_THOUSAND / row.ours.images_per_second, theirs, paper))
    return result


# --- the model, the run, the report --------------------------------------------------------------

@dataclass(frozen=True)
class BenchOptions:
    out: str | Path  # directory for bench.json and bench.md
    images: int = 1000  # test images attacked, as one batch
    repeats: int = 3  # timed runs per setting after a warm-up; the median counts
    attacks: tuple[str, ...] = ()  # attack names of BENCH to run; () = all
    model: str | None = None  # checkpoint (.safetensors); None = the cached standard LeNet5
    data_root: str | None = None
    device: str = "auto"
    reference_images: int = 32  # images for torchattacks' per-image loops
    memory_batch: int = 128  # batch of the memory measurement; 0 = skip it
    training_images: int = 10000  # training images of the epoch-cost measurement; 0 = skip it

    def validate(self) -> None:
        known = {entry.name for entry in BENCH}
        unknown = sorted(set(self.attacks) - known)
        if unknown:
            raise ConfigError(f"--attacks: unknown {unknown}; known: {sorted(known)}")
        if min(self.images, self.repeats, self.reference_images) < 1 or min(self.memory_batch,
                                                                            self.training_images) < 0:
            raise ConfigError("--images, --repeats and --reference-images must be >= 1, "
                              "--memory-batch and --training-images >= 0")
        if self.memory_batch and not PROC_CLEAR_REFS.exists():
            raise ConfigError("the peak-memory measurement needs Linux's /proc/self/clear_refs: pass --memory-batch 0")


def cached_model_path() -> Path:
    return cache_root() / "models" / "bench_lenet5_fashion_mnist.safetensors"


def _train_bench_model(path: Path, data_root: str | None, device: torch.device) -> None:
    log.warning("training the bench's standard LeNet5 on Fashion-MNIST (cached at %s)", path)
    train, test = load_split("fashion_mnist", "train", data_root), load_split("fashion_mnist", "test", data_root)
    trained = train_model(BENCH_MODEL, "fashion_mnist", train, test, device, progress=False)
    save_checkpoint(trained.model, path, {"arch": "lenet5", "dataset": "fashion_mnist", "epochs": 5,
                                          "clean_accuracy": trained.clean_accuracy})


def bench_model(options: BenchOptions, device: torch.device) -> tuple[nn.Module, dict[str, Any], Path]:
    """The model under test in eval mode and channels_last (as training uses it), its metadata and path."""
    path = Path(options.model) if options.model else cached_model_path()
    if not options.model and not path.exists():
        _train_bench_model(path, options.data_root, device)
    model, meta = load_checkpoint(path, device)
    return model.to(memory_format=torch.channels_last).requires_grad_(False), meta, path


@dataclass
class BenchReport:
    setup: dict[str, Any]
    rows: list[BenchRow]
    memory: list[MemoryRow]
    sixty_thousand: list[SixtyThousandRow]
    notes: list[str]
    training: list[EpochCost] = field(default_factory=list)


def _setup(options: BenchOptions, meta: dict[str, Any], path: Path, device: torch.device,
           clean: float) -> dict[str, Any]:
    return {"model": str(path), "arch": meta["arch"], "dataset": meta["dataset"], "images": options.images,
            "clean_accuracy": clean, "repeats": options.repeats, "device": str(device),
            "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "torchattacks": torchattacks.__version__, "memory_format": "channels_last",
            "reference_images": options.reference_images,
            "memory_batch": options.memory_batch, "training_images": options.training_images}


def run_bench(options: BenchOptions) -> BenchReport:
    """Every selected setting of ``BENCH`` on one model and one batch of test images."""
    options.validate()
    device = pick_device(options.device)
    model, meta, path = bench_model(options, device)
    x, y = load_split(meta["dataset"], "test", options.data_root).head(options.images).tensors(device)
    x = x.contiguous(memory_format=torch.channels_last)
    settings, notes = expand(BENCH, options.attacks)
    rows = [bench_setting(s, model, x, y, options.repeats, options.reference_images) for s in settings]
    clean = (predict(model, x) == y).float().mean().item()
    return BenchReport(_setup(options, meta, path, device, clean), rows,
                       memory_rows(settings, options.memory_batch), sixty_thousand(rows), notes,
                       _training_costs(options, meta, device))


def _training_costs(options: BenchOptions, meta: dict[str, Any], device: torch.device) -> list[EpochCost]:
    if not options.training_images:
        return []
    train = load_split(meta["dataset"], "train", options.data_root).head(options.training_images)
    test = load_split(meta["dataset"], "test", options.data_root)
    return epoch_costs(meta["arch"], meta["dataset"], train, test, device, options.repeats)


# --- writing -----------------------------------------------------------------------------------

def _number(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def _markdown_table(headers: tuple[str, ...], lines: list[tuple[str, ...]]) -> str:
    rows = [headers, tuple("---" for _ in headers), *lines]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in rows)


ROW_HEADERS = ("attack", "norm", "eps", "ours img/s", "torchattacks img/s", "speed-up", "passes",
               "limit img/s", "efficiency", "torchattacks efficiency", "ours success", "torchattacks success")


def _row_cells(row: BenchRow) -> tuple[str, ...]:
    theirs = row.torchattacks
    return (row.attack, row.norm, "∞" if row.eps is None else format(row.eps, "g"),
            _number(row.ours.images_per_second, ",.1f"), _number(theirs and theirs.images_per_second, ",.1f"),
            _number(row.speedup, ".2f"), _number(row.passes, "g"), _number(row.limit_images_per_second, ",.1f"),
            _number(row.efficiency, ".2f"), _number(row.torchattacks_efficiency, ".2f"),
            _number(row.ours.success, ".1%"), _number(theirs and theirs.success, ".1%"))


def _memory_section(memory: list[MemoryRow]) -> str:
    lines = [(m.attack, str(m.batch), f"{m.peak_mib:,.1f}", f"{m.seconds:,.1f}") for m in memory]
    return _markdown_table(("attack", "batch (3×32×32)", "peak RSS MiB", "seconds"), lines)


def _sixty_section(rows: list[SixtyThousandRow]) -> str:
    lines = [(r.attack, r.norm, f"{r.ours_seconds:,.0f}", _number(r.torchattacks_seconds, ",.0f"),
              f"{r.park_so_seconds:,.0f}") for r in rows]
    return _markdown_table(("attack", "norm", "ours s", "torchattacks s", "Park & So 2080Ti s"), lines)


def _notes(report: BenchReport) -> list[str]:
    setup = report.setup
    lines = [f"{setup['arch']} on {setup['dataset']}, {setup['images']} test images as one batch "
             f"(clean accuracy {setup['clean_accuracy']:.1%}), {setup['device']}, {setup['torch_threads']} "
             f"torch threads; median of {setup['repeats']} runs after a warm-up. passes x one input-gradient "
             "forward+backward (measured before each setting) is the limit; efficiency = limit time / our time.",
             "success: share of the images misclassified after the attack, judged by the engine "
             "(budget checked, then prediction != label). C&W: ours searches c (search_steps x steps "
             "iterations), torchattacks' runs once at c = 1; passes are the Adam iterations as run (early "
             "abort shrinks the batch), so compare C&W per iteration, by efficiency."]
    lines += [f"{r.attack} {r.norm}: {r.note}" for r in report.rows if r.note]
    lines += [f"{r.attack} {r.norm}: {m.note}" for r in report.rows for m in (r.ours, r.torchattacks) if m and m.note]
    return lines + report.notes


def markdown(report: BenchReport) -> str:
    """The report as Markdown: the attack table, notes, peak memory and the 60,000-example times."""
    parts = [_markdown_table(ROW_HEADERS, [_row_cells(r) for r in report.rows]), "",
             *(f"- {line}" for line in _notes(report))]
    if report.memory:
        parts += ["", "Peak memory (untrained resnet_small, CIFAR-10 shape):", "", _memory_section(report.memory)]
    if report.sixty_thousand:
        parts += ["", f"Time to generate 60,000 examples, extrapolated from this run's rates on "
                      f"{report.setup['device']} (Park & So's figures: LeNet5 on an RTX 2080Ti):", "",
                  _sixty_section(report.sixty_thousand)]
    if report.training:
        parts += ["", f"One training epoch on {report.setup['training_images']:,} images per mode, side by side "
                      f"(median of {report.setup['repeats']}):", "", _training_section(report.training)]
    return "\n".join(parts) + "\n"


def _training_section(costs: list[EpochCost]) -> str:
    lines = [(c.mode, f"{c.seconds:.2f}", f"{c.ratio:.2f}", f"{c.bound:g}") for c in costs]
    return _markdown_table(("training mode", "epoch s", "ratio to standard", "target ratio <="), lines)


def write_report(report: BenchReport, out: str | Path) -> None:
    """``out/bench.json`` (strict JSON: no NaN or infinity) and ``out/bench.md``, written atomically."""
    text = json.dumps(asdict(report), indent=2, allow_nan=False)
    atomic_write(Path(out) / "bench.json", lambda temp: Path(temp).write_text(text, encoding="utf-8"))
    atomic_write(Path(out) / "bench.md", lambda temp: Path(temp).write_text(markdown(report), encoding="utf-8"))
