"""``python -m engine bench``: our attacks next to torchattacks' on one model, one batch, one run.

Method: every setting of ``entries.BENCH`` runs on the same model (a standard LeNet5 on
Fashion-MNIST unless ``--model`` names a checkpoint) and the same N test images, in one process.
A warm-up run is counted (forward passes with autograd on) and its output judged by the engine
(``check_budget``, then prediction != label); the rate is N over the median of ``repeats`` timed
runs. A gradient attack's limit is its forward+backward passes times the measured time of one
input-gradient forward+backward of the model at batch size N; efficiency = limit / measured.
torchattacks' DeepFool and JSMA loop over single images: they are timed and judged on the first
``reference_images`` images. On a CPU read the ratios; absolute times count only as a GPU figure.

Modules: ``entries`` (the bench table), ``references`` (torchattacks' counterparts), ``measure``
(the timing harness), ``rows`` (one setting, ours against theirs), ``memory`` (peak memory in a
spawned process), ``report`` (the 60,000-example times, Markdown, the files) and ``run``.
"""

from engine.bench.report import markdown, write_report
from engine.bench.run import BenchOptions, run_bench

__all__ = ["BenchOptions", "markdown", "run_bench", "write_report"]
