"""The Ray backend of the runner: a study's unfinished jobs as Ray tasks on a cluster.

Each job is one task asking for a CPU (and a GPU when the run uses one), retried if its worker
dies; a task starts after the tasks of the jobs it builds on (its object refs are passed as
arguments) and writes its results itself, with the same atomic parts as the local backend. Ray is
an optional extra (``pip install .[ray]``): the engine imports without it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import ModuleType

from tqdm import tqdm

from engine.config.schema import StudyConfig
from engine.study.executor import execute_alone
from engine.study.jobs import Job

log = logging.getLogger(__name__)
RETRIES = 2  # reruns of a task whose worker process died


class BackendError(RuntimeError):
    """The Ray backend cannot run the study (Ray missing, or the cluster lacks what the jobs ask for)."""


def _ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise BackendError("the Ray backend needs Ray: pip install '.[ray]' (or pip install ray)") from None
    return ray


def _connect(ray: ModuleType, address: str | None) -> None:
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)


def _gpus_per_task(resources: dict[str, float], device: str) -> int:
    """1 when the jobs should run on a GPU (asked for, or "auto" on a cluster that has one), else 0."""
    gpus = resources.get("GPU", 0)
    if device.startswith("cuda") and gpus < 1:
        raise BackendError(f"--device {device} asks for a GPU but the Ray cluster has none "
                           f"(resources: {resources}); use --device cpu or add a GPU node")
    return int(device.startswith("cuda") or (device == "auto" and gpus >= 1))


def run_on_ray(study: StudyConfig, todo: list[Job], out: Path, data_root: str | None, device: str,
               progress: bool, address: str | None) -> None:
    """Run the ``todo`` jobs (in an order where each follows its prerequisites) as Ray tasks; raise the
    first job's error after the others finish or fail."""
    ray = _ray()
    _connect(ray, address)
    resources = ray.cluster_resources()
    if resources.get("CPU", 0) < 1:
        raise BackendError(f"the Ray cluster has no CPU to run a job on (resources: {resources})")
    gpus = _gpus_per_task(resources, device)
    task = ray.remote(execute_alone).options(num_cpus=1, num_gpus=gpus, max_retries=RETRIES)
    refs: dict[str, object] = {}
    for job in todo:
        after = [refs[job_id] for job_id in job.prerequisites(study) if job_id in refs]
        refs[job.id] = task.remote(study, job, str(out), data_root, "cuda" if gpus else "cpu", *after)
    pending, errors = list(refs.values()), []
    with tqdm(total=len(pending), desc=f"{study.name} (ray)", unit="job", disable=not progress) as bar:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            try:
                log.info("finished %s", ray.get(done[0]))
            except Exception as error:  # noqa: BLE001 - reported below, after the other jobs
                errors.append(error)
            bar.update(1)
    if errors:
        raise errors[0]
