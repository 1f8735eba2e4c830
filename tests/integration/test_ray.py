"""The Ray backend on a local cluster started by the test: the smoke study, row for row as the local run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import SMOKE, assert_same_results

from engine.cli import main
from engine.study.jobs import expand
from engine.study.ray_backend import BackendError
from engine.study.runner import run_study
from engine.study.validate import load_study

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    """A two-CPU Ray cluster on this machine; its workers run one torch thread each, as the tests do."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_smoke_study_on_ray_matches_the_local_backend(cluster: None, smoke_study: Path, tmp_path: Path) -> None:
    summary = run_study(load_study(SMOKE), tmp_path / "ray", progress=False, backend="ray")
    assert summary.skipped == [] and len(summary.ran) == len(expand(load_study(SMOKE)))
    assert assert_same_results(smoke_study, tmp_path / "ray") > 5_000
    again = run_study(load_study(SMOKE), tmp_path / "ray", progress=False, backend="ray")
    assert again.ran == []  # finished jobs are skipped on Ray too


def test_a_gpu_job_on_a_cluster_without_gpus_is_refused_not_queued(cluster: None, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture) -> None:
    code = main(["run", str(SMOKE), "--out", str(tmp_path / "gpu"), "--backend", "ray", "--device", "cuda", "-q"])
    assert code == 6 and "asks for a GPU but the Ray cluster has none" in capsys.readouterr().err


def test_without_ray_the_backend_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import builtins

    real_import = builtins.__import__

    def no_ray(name: str, *args, **kwargs):
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(BackendError, match=r"pip install '\.\[ray\]'"):
        run_study(load_study(SMOKE), tmp_path / "none", progress=False, backend="ray")
