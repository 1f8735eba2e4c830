"""``python -m engine bench`` end to end on a tiny setting: valid JSON, a Markdown table; no timing asserts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.bench.entries import BENCH, RADII, BenchEntry, expand
from engine.cli import main
from engine.models.checkpoints import save_checkpoint

pytestmark = pytest.mark.real_data

COLUMNS = ("attack", "norm", "eps", "ours img/s", "torchattacks img/s", "speed-up", "passes", "limit img/s",
           "efficiency", "torchattacks efficiency", "ours success", "torchattacks success")


def _strict(constant: str) -> float:
    raise ValueError(f"bench.json holds {constant}, which is not JSON")


@pytest.fixture(scope="module")
def bench_run(lenet, tmp_path_factory) -> tuple[Path, str]:
    """The bench on 64 images, one repeat, three attacks, against the session's small LeNet5."""
    root = tmp_path_factory.mktemp("bench")
    model = root / "lenet.safetensors"
    save_checkpoint(lenet, model, {"arch": "lenet5", "dataset": "fashion_mnist"})
    out = root / "out"
    argv = ["bench", "--out", str(out), "--images", "64", "--repeats", "1", "--attacks", "fgsm,noise,jsma",
            "--model", str(model), "--reference-images", "2", "--memory-batch", "2", "--training-images", "300"]
    assert main(argv) == 0
    return out, (out / "bench.md").read_text(encoding="utf-8")


def test_writes_strict_json_with_every_selected_setting(bench_run) -> None:
    out, _ = bench_run
    report = json.loads((out / "bench.json").read_text(encoding="utf-8"), parse_constant=_strict)
    settings = {(row["attack"], row["norm"]) for row in report["rows"]}
    assert settings == {("fgsm", n) for n in RADII} | {("noise", n) for n in RADII} | {("jsma", "L0")}
    assert report["setup"]["images"] == 64 and report["setup"]["dataset"] == "fashion_mnist"
    for row in report["rows"]:
        assert 0 <= row["ours"]["success"] <= 1 and row["ours"]["images_per_second"] > 0
    assert [m["attack"] for m in report["memory"]] == ["jsma"]
    assert [r["attack"] for r in report["sixty_thousand"]] == ["fgsm", "jsma"]
    costs = {c["mode"]: c for c in report["training"]}
    assert list(costs) == ["standard", "pgd-7", "fast"] and costs["standard"]["ratio"] == 1.0
    assert costs["pgd-7"]["bound"] == 8 and all(c["seconds"] > 0 for c in costs.values())


def test_torchattacks_is_compared_where_it_has_the_attack(bench_run) -> None:
    out, _ = bench_run
    rows = {(r["attack"], r["norm"]): r for r in json.loads((out / "bench.json").read_text())["rows"]}
    assert rows["fgsm", "Linf"]["torchattacks"]["images"] == 64
    assert rows["fgsm", "Linf"]["passes"] == 1 and rows["fgsm", "Linf"]["efficiency"] > 0
    assert rows["jsma", "L0"]["torchattacks"]["images"] == 2  # per-image loop: a subset
    assert rows["noise", "L2"]["torchattacks"] is None and rows["noise", "L2"]["passes"] is None


def test_writes_a_markdown_table_with_the_expected_columns(bench_run) -> None:
    _, text = bench_run
    header, rule, *body = text.split("\n\n")[0].splitlines()
    assert [cell.strip() for cell in header.strip("|").split("|")] == list(COLUMNS)
    assert set(rule.replace("|", "").split()) == {"---"}
    assert sum(line.startswith("| fgsm") for line in body) == len(RADII)
    assert "Park & So 2080Ti s" in text and "peak RSS MiB" in text and "ratio to standard" in text


def test_unregistered_attacks_are_skipped_with_a_note() -> None:
    settings, notes = expand((*BENCH, BenchEntry("no_such_attack")), ("fgsm", "no_such_attack"))
    assert {s.config.norm for s in settings} == set(RADII)
    assert notes == ["no_such_attack: not registered, skipped"]


def test_unknown_attack_names_are_a_config_error(tmp_path, capsys) -> None:
    assert main(["bench", "--out", str(tmp_path), "--attacks", "fgsm,bogus"]) == 2
    assert "bogus" in capsys.readouterr().err
