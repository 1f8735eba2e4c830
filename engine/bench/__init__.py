"""``python -m engine bench``: our attacks next to their peers' (torchattacks, Foolbox, ART) on one model,
one batch, in one process.

Method: every setting of ``entries.BENCH`` runs on the same model (a standard LeNet5 on
Fashion-MNIST unless ``--model`` names a checkpoint) and the same N test images, with each installed
peer's counterpart at the same settings. Every attack is warmed up once, counted (forward passes with
autograd on) and judged by the engine (``check_budget``, then prediction != label); then each of
``repeats`` rounds times ours and every peer in turn, and the rate is N over the median time. A
gradient attack's limit is its forward+backward passes times the measured time of one input-gradient
forward+backward of the model at batch size N; efficiency = limit / measured. Slow peers (per-image
loops) are timed and judged on the first ``reference_images`` images. On a CPU read the ratios;
absolute times count only as a GPU figure.

Modules: ``entries`` (the bench table), ``peers`` (a peer's reference, seeding, install check),
``references``, ``foolbox_references`` and ``art_references`` (the peers' counterparts), ``measure``
(the interleaved timing harness), ``rows`` (one setting, ours against every peer), ``memory`` (peak
memory in a spawned process), ``report`` (the 60,000-example times, Markdown, the files) and ``run``.
"""

from engine.bench.report import markdown, write_report
from engine.bench.run import BenchOptions, run_bench

__all__ = ["BenchOptions", "markdown", "run_bench", "write_report"]
