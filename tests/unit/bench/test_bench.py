"""``python -m engine bench`` end to end on a tiny setting: valid JSON, Markdown tables, every peer named,
a missing peer skipped with a note; no timing asserts."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from engine.bench import peers
from engine.bench.entries import BENCH, RADII, BenchEntry, expand
from engine.bench.rows import bench_setting
from engine.cli import main
from engine.models.checkpoints import save_checkpoint

pytestmark = pytest.mark.real_data

COLUMNS = ("attack", "norm", "eps", "steps", "ours img/s", "passes", "limit img/s", "efficiency", "ours success",
           "fastest peer", "peer img/s", "ours / fastest", "peer success")
PEER_COLUMNS = ("attack", "norm", "eps", "steps", "implementation", "images", "img/s", "ours / this", "efficiency",
                "success", "median norm of the fooled")


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


def _peers(row: dict) -> dict[str, dict]:
    return {peer["peer"]: peer for peer in row["peers"]}


def test_every_peer_is_compared_where_it_has_the_attack(bench_run) -> None:
    out, _ = bench_run
    report = json.loads((out / "bench.json").read_text())
    assert set(report["setup"]["peers"]) == {"torchattacks", "foolbox", "art"}
    rows = {(r["attack"], r["norm"]): r for r in report["rows"]}
    fgsm = rows["fgsm", "Linf"]
    assert list(_peers(fgsm)) == ["torchattacks", "foolbox", "art"]
    assert all(peer["measurement"]["images"] == 64 and 0 <= peer["measurement"]["success"] <= 1
               for peer in fgsm["peers"])
    assert fgsm["fastest_peer"] in _peers(fgsm) and fgsm["ours_over_fastest"] > 0
    assert fgsm["passes"] == 1 and fgsm["efficiency"] > 0
    fgsm_l1 = _peers(rows["fgsm", "L1"])
    assert list(fgsm_l1) == ["foolbox", "art"] and "dense" in fgsm_l1["art"]["note"]
    jsma = _peers(rows["jsma", "L0"])
    assert jsma["torchattacks"]["measurement"]["images"] == 2  # a per-image loop: timed on a subset
    assert "first 2 images" in jsma["torchattacks"]["note"] and jsma["art"]["measurement"]["images"] == 64
    noise = rows["noise", "L2"]
    assert noise["peers"] == [] and noise["fastest_peer"] is None and noise["passes"] is None


def _table(text: str, after: str) -> tuple[list[str], str, list[str]]:
    """The header cells, the rule and the body lines of the first Markdown table after the line ``after``."""
    block = text.split(after, 1)[1].strip().split("\n\n")[0] if after else text.split("\n\n")[0]
    header, rule, *body = block.splitlines()
    return [cell.strip() for cell in header.strip("|").split("|")], rule, body


def test_writes_markdown_tables_with_the_expected_columns(bench_run) -> None:
    _, text = bench_run
    header, rule, body = _table(text, "")
    assert header == list(COLUMNS) and set(rule.replace("|", "").split()) == {"---"}
    assert sum(line.startswith("| fgsm") for line in body) == len(RADII)
    header, _, body = _table(text, "Every implementation, per setting:")
    assert header == list(PEER_COLUMNS)
    fgsm_linf = [line.split("|")[5].strip() for line in body if line.startswith("| fgsm | Linf")]
    assert fgsm_linf == ["ours", "torchattacks", "foolbox", "art"]
    assert "Park & So 2080Ti s" in text and "peak RSS MiB" in text and "ratio to standard" in text


def test_a_missing_peer_is_skipped_with_a_note(lenet, fmnist_test, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "foolbox", None)  # ``import foolbox`` now raises ImportError
    x, y = fmnist_test.head(8).tensors(torch.device("cpu"))
    settings, _ = expand(BENCH, ("fgsm",))
    (l2,) = [s for s in settings if s.config.norm == "L2"]
    row = bench_setting(l2, lenet, x, y, repeats=1, subset=2)
    found = {peer.peer: peer for peer in row.peers}
    assert found["foolbox"].measurement is None and "foolbox is not installed" in found["foolbox"].note
    assert found["art"].measurement is not None and row.fastest_peer == "art"
    assert peers.versions()["foolbox"] is None


def test_two_references_of_one_peer_are_measured_and_named_apart(lenet, fmnist_test) -> None:
    """DDN against Foolbox's DDN at our steps (a speed peer) and at 1,000 steps (the strength reference only)."""
    x, y = fmnist_test.head(4).tensors(torch.device("cpu"))
    (ddn,) = expand(BENCH, ("ddn",))[0]
    quick = replace(ddn, config=replace(ddn.config, steps=3))  # keeps the test short; the reference keeps 1,000
    row = bench_setting(quick, lenet, x, y, repeats=1, subset=4)
    assert [peer.name for peer in row.peers] == ["foolbox", "foolbox (1,000 steps)"]
    assert row.fastest_peer == "foolbox"  # the 1,000-step run does not do our work
    assert all(peer.measurement is not None and peer.measurement.images == 4 for peer in row.peers)
    assert row.peers[1].measurement.gradient_forwards > 10 * row.peers[0].measurement.gradient_forwards


def test_unregistered_attacks_are_skipped_with_a_note() -> None:
    settings, notes = expand((*BENCH, BenchEntry("no_such_attack")), ("fgsm", "no_such_attack"))
    assert {s.config.norm for s in settings} == set(RADII)
    assert notes == ["no_such_attack: not registered, skipped"]


def test_unknown_attack_names_are_a_config_error(tmp_path, capsys) -> None:
    assert main(["bench", "--out", str(tmp_path), "--attacks", "fgsm,bogus"]) == 2
    assert "bogus" in capsys.readouterr().err
