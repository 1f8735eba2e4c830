import tomllib
from pathlib import Path

import pytest
from helpers import REPO

from engine.attacks.registry import sweep_key
from engine.config.schema import AttackConfig, ConfigError
from engine.study.validate import load_study, study_from_dict
from engine.training.loop import attack_step


def smoke() -> dict:
    return tomllib.loads((REPO / "configs" / "smoke.toml").read_text())


@pytest.mark.parametrize("path", sorted((REPO / "configs").glob("*.toml")), ids=lambda p: p.name)
def test_shipped_configs_are_valid(path: Path) -> None:
    study = load_study(path)
    assert study.models and study.name


def edit(change) -> dict:
    data = smoke()
    change(data)
    return data


@pytest.mark.parametrize("change, field", [
    (lambda d: d["attacks"][0].update(name="foolbox"), "attacks[0].name"),
    (lambda d: d["attacks"][0].update(norm="L7"), "attacks[0].norm"),
    (lambda d: d["attacks"][0].update(models=["nobody"]), "attacks[0].models"),
    (lambda d: d["attacks"][0].update(samples=-1), "attacks[0].samples"),
    (lambda d: d["models"][0]["training"].update(samples=-5), "models[0].training.samples"),
    (lambda d: d["attacks"][1].update(eps=[0.5, -1.0]), "attacks[1].eps[1]"),
    (lambda d: d["attacks"][0].update(eps=[1.5]), "attacks[0].eps[0]"),
    (lambda d: d["attacks"][0].update(eps=[float("inf")]), "attacks[0].eps[0]"),
    (lambda d: d["attacks"][0].update(eps=[]), "attacks[0].eps"),
    (lambda d: d["attacks"][0].update(steps=5), "attacks[0].steps"),
    (lambda d: d["attacks"][1].update(steps=-1), "attacks[1].steps"),
    (lambda d: d["attacks"][0].update(options={"kappa": 1.0}), "attacks[0].options"),
    (lambda d: d["attacks"][0].update(eps="0.1"), "attacks[0].eps"),
    (lambda d: d["attacks"].append(dict(d["attacks"][0])), f"attacks[{len(smoke()['attacks'])}]"),
    (lambda d: d["attacks"][2].update(source="resnet_unknown"), "attacks[2].source"),
    (lambda d: d["analysis"].update(sweeps=["pgd-L3-5steps"]), "analysis.sweeps"),
    (lambda d: d["analysis"].update(sweeps=["pgd-Linf-5steps-rs-from-lenet5_standard"]), "analysis.sweeps"),
    (lambda d: d["analysis"].update(layers=["stage9"]), "analysis.layers"),
    (lambda d: d["analysis"].update(samples=-1), "analysis.samples"),
    (lambda d: d["analysis"].update(boundary_steps=0), "analysis.boundary_steps"),
    (lambda d: d["models"][2]["training"].update(source="nobody"), "models[2].training.source"),
    (lambda d: d["models"][2]["training"].pop("source"), "models[2].training.source"),
    (lambda d: d["models"][2]["training"].update(robust_init="zeros"), "models[2].training.robust_init"),
    (lambda d: d["models"][1]["training"].update(mode="robust_dataset", source="lenet5_robust_dataset"), "models"),
    (lambda d: d["epoch_evaluation"]["attacks"][1].update(source="nobody"), "epoch_evaluation.attacks[1].source"),
    (lambda d: d["epoch_evaluation"]["attacks"][0].update(eps=[2.0]), "epoch_evaluation.attacks[0].eps[0]"),
    (lambda d: d["models"][3]["training"].update(train_attacks=["deepfool"]), "models[3].training.train_attacks"),
    (lambda d: d["models"][3]["training"].update(train_attacks=[]), "models[3].training.train_attacks"),
    (lambda d: d["models"][0]["training"].update(train_attacks=["fgsm"]), "models[0].training.train_attacks"),
    (lambda d: d["pregenerated"]["attacks"][1].update(norm="Linf"), "pregenerated.attacks[1].norm"),
    (lambda d: d["pregenerated"]["attacks"].append(d["pregenerated"]["attacks"][0]), "pregenerated.attacks"),
    (lambda d: d["models"][0].pop("arch"), "models[0].arch"),
    (lambda d: d["models"][0].update(arch="vgg99"), "models[0].arch"),
    (lambda d: d["models"][0].update(id="a b"), "models[0].id"),
    (lambda d: d["models"][1].update(id="lenet5_standard"), "models"),
    (lambda d: d["models"][1]["training"].update(eps=-0.1), "models[1].training.eps"),
    (lambda d: d["models"][1]["training"].update(norm="L0"), "models[1].training.norm"),
    (lambda d: d["models"][0]["training"].update(mode="fast"), "models[0].training.norm"),
    (lambda d: d["models"][1]["training"].update(mode="fast", guard_samples=0), "models[1].training.guard_samples"),
    (lambda d: d["models"][1]["training"].update(steps=0), "models[1].training.steps"),
    (lambda d: d["models"][0]["training"].update(epochs=0), "models[0].training.epochs"),
    (lambda d: d["models"][0]["training"].update(epochs=True), "models[0].training.epochs"),
    (lambda d: d["models"][0]["training"].update(optimiser="sgd"), "models[0].training.optimiser"),
    (lambda d: d["data"].update(dataset="imagenet"), "data.dataset"),
    (lambda d: d.pop("name"), "name"),
    (lambda d: d.update(models=[]), "models"),
])
def test_bad_values_name_the_field(change, field: str) -> None:
    with pytest.raises(ConfigError) as error:
        study_from_dict(edit(change))
    assert str(error.value).startswith(f"{field}:")


def test_missing_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_study(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [unclosed")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_study(bad)


def test_sweep_expands_to_single_attacks() -> None:
    study = study_from_dict(smoke())
    sweep = study.attacks[1]
    single = sweep.at(0.5)
    assert isinstance(single, AttackConfig) and single.eps == 0.5
    assert (single.name, single.norm, single.steps, single.random_start) == ("pgd", "L2", 5, True)
    assert sweep_key(sweep) == "pgd-L2-5steps-rs"


def test_madry_step_is_the_default_training_alpha() -> None:
    training = study_from_dict(smoke()).models[1].training
    assert attack_step(training) == pytest.approx(2.5 * training.eps / training.steps)


def test_sweeps_of_one_name_may_split_the_models_between_them() -> None:
    data = smoke()
    ids = [model["id"] for model in data["models"]]
    data["attacks"][0]["models"] = ids[:1]
    data["attacks"].append(dict(data["attacks"][0], models=ids[1:], samples=50))
    study = study_from_dict(data)
    first, second = study.attacks[0], study.attacks[-1]
    assert sweep_key(first) == sweep_key(second) and first.attacks(ids[0]) and not first.attacks(ids[1])
    assert [second.attacks(i) for i in ids] == [False] + [True] * (len(ids) - 1)
