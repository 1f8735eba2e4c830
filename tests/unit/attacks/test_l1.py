"""The L1 threat model: exact projections (checked against scipy's SLSQP), the exact steepest-ascent
step (against scipy's linprog), sparse steps, uniform random starts, and FGSM / PGD in L1 on a small
LeNet5 trained on real Fashion-MNIST.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import linprog, minimize

from engine.attacks import norms
from engine.attacks.norms import (
    L1Step,
    perturbation_norm,
    project_l1_ball,
    project_l1_box,
    project_l1_box_from,
    room_along,
    sparse_sign,
    steepest_l1_box,
)
from engine.attacks.registry import make_attack
from engine.config.schema import AttackConfig, ConfigError
from engine.evaluation.predict import predict

UNBOUNDED = 1e6  # a box so wide the reference solves the plain ball problem


def reference_projection(v: np.ndarray, eps: float, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """argmin ||d - v||^2 s.t. ||d||_1 <= eps, lower <= d <= upper, by SLSQP on d = p - n with p, n >= 0."""
    n = len(v)

    def residual(z: np.ndarray) -> np.ndarray:
        return z[:n] - z[n:] - v

    budget = {"type": "ineq", "fun": lambda z: eps - z.sum(), "jac": lambda z: -np.ones(2 * n)}
    result = minimize(lambda z: 0.5 * residual(z) @ residual(z), np.zeros(2 * n),
                      jac=lambda z: np.concatenate([residual(z), -residual(z)]),
                      bounds=[(0, u) for u in upper] + [(0, -lo) for lo in lower], constraints=[budget],
                      method="SLSQP", options={"ftol": 1e-15, "maxiter": 1000})
    return result.x[:n] - result.x[n:]


def small_problem(seed: int) -> tuple[np.ndarray, float, np.ndarray]:
    """A 3-6 dimensional vector, a radius and a pixel point x with some pixels at 0 or 1."""
    rng = np.random.default_rng(seed)
    d = int(rng.integers(3, 7))
    v = rng.normal(size=d) * rng.choice([0.3, 1.0, 3.0])
    x = rng.uniform(size=d)
    x[rng.random(d) < 0.3] = rng.choice([0.0, 1.0])
    return v, float(rng.uniform(0, 3)), x


def _row(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array)[None]


@pytest.mark.parametrize("seed", range(25))
def test_ball_projection_is_exact(seed: int) -> None:
    v, eps, _ = small_problem(seed)
    ours = project_l1_ball(_row(v), eps)[0].numpy()
    wide = np.full(len(v), UNBOUNDED)
    np.testing.assert_allclose(ours, reference_projection(v, eps, -wide, wide), atol=1e-7)


@pytest.mark.parametrize("seed", range(25))
def test_box_projection_is_exact(seed: int) -> None:
    v, eps, x = small_problem(seed)
    ours = project_l1_box(_row(v), eps, _row(-x), _row(1 - x))[0].numpy()
    np.testing.assert_allclose(ours, reference_projection(v, eps, -x, 1 - x), atol=1e-7)


@pytest.mark.parametrize("evaluations", [0, 1])
@pytest.mark.parametrize("seed", range(10))
def test_box_projection_is_exact_where_the_sort_takes_over(monkeypatch, seed: int, evaluations: int) -> None:
    """Rows the Newton steps leave unsettled take their threshold from the sorted breakpoints."""
    monkeypatch.setattr(norms, "NEWTON_EVALUATIONS", evaluations)
    v, eps, x = small_problem(seed)
    ours = project_l1_box(_row(v), eps, _row(-x), _row(1 - x))[0].numpy()
    np.testing.assert_allclose(ours, reference_projection(v, eps, -x, 1 - x), atol=1e-7)


@pytest.mark.parametrize("v, x, eps, expected", [
    ([0.5, -0.5, 0.25, -0.25], [0.5] * 4, 0.5, [0.25, -0.25, 0.0, 0.0]),  # the root is a tied breakpoint
    ([2.0, -2.0, 2.0], [0.5, 0.5, 0.9], 0.6, [0.25, -0.25, 0.1]),  # every coordinate starts beyond the box
    ([2.0, 0.3], [0.5, 0.0], 0.5, [0.5, 0.0]),  # g is flat at eps right of its smallest root 0.3
    ([0.7, -0.2, 0.1], [0.5, 0.5, 0.5], 0.0, [0.0, 0.0, 0.0]),
])
def test_box_projection_edge_cases(v: list, x: list, eps: float, expected: list) -> None:
    v_, x_ = np.array(v), np.array(x)
    ours = project_l1_box(_row(v_), eps, _row(-x_), _row(1 - x_))[0].numpy()
    np.testing.assert_allclose(ours, expected, atol=1e-12)
    np.testing.assert_allclose(ours, reference_projection(v_, eps, -x_, 1 - x_), atol=1e-7)


def test_newton_steps_match_the_sorted_breakpoints(monkeypatch) -> None:
    """Image-sized float32 batches (dense and sparse, tied, beyond the box, inside the ball): the Newton steps
    settle every row, on the projection the sorted breakpoints give, to the last bit."""
    generator = torch.Generator().manual_seed(3)
    x = torch.rand(64, 784, generator=generator)
    x[torch.rand(x.shape, generator=generator) < 0.3] = 1.0
    batches = []
    for density, scale, tied in [(1.0, 0.02, False), (0.05, 0.5, False), (0.3, 0.1, True), (1.0, 2.0, True)]:
        v = torch.randn(x.shape, generator=generator) * scale * (torch.rand(x.shape, generator=generator) < density)
        batches.append((v * 16).round() / 16 if tied else v)
    for v in batches:
        _, settled = norms._newton_box_threshold(v.abs(), torch.clamp(v, -x, 1 - x).abs(), 10.0)
        assert settled.all()
    ours = [project_l1_box(v, 10.0, -x, 1 - x) for v in batches]
    monkeypatch.setattr(norms, "NEWTON_EVALUATIONS", 0)
    for v, projected in zip(batches, ours, strict=True):
        assert torch.equal(projected, project_l1_box(v, 10.0, -x, 1 - x))


def test_a_guessed_threshold_changes_the_path_not_the_projection() -> None:
    """Started anywhere (0, below, at, above the root, beyond every magnitude), the search ends on the
    same projection and threshold, to the last bit, with every row settled by Newton steps."""
    generator = torch.Generator().manual_seed(5)
    x = torch.rand(64, 784, generator=generator)
    v = torch.randn(x.shape, generator=generator) * 0.3 * (torch.rand(x.shape, generator=generator) < 0.2)
    v[:4] *= 0.001  # rows inside the ball: lam 0 whatever the guess
    projected, lam = project_l1_box_from(v, 10.0, -x, 1 - x)
    assert (lam[:4] == 0).all() and (lam[4:] > 0).all()
    for guess in (torch.zeros_like(lam), 0.5 * lam, lam, 1.7 * lam + 1e-3, torch.full_like(lam, 10.0)):
        again, lam_again = project_l1_box_from(v, 10.0, -x, 1 - x, guess)
        assert torch.equal(again, projected) and torch.equal(lam_again, lam)


def test_feasible_points_are_left_alone() -> None:
    v = torch.tensor([[0.2, -0.1, 0.0, 0.3]], dtype=torch.float64)
    assert torch.equal(project_l1_ball(v, 1.0), v)
    assert torch.equal(project_l1_box(v, 1.0, torch.full_like(v, -0.5), torch.full_like(v, 0.5)), v)
    assert torch.equal(project_l1_ball(v, 0.0), torch.zeros_like(v))


@pytest.fixture(scope="module")
def batch(fmnist_test) -> tuple[torch.Tensor, torch.Tensor]:
    return fmnist_test.head(200).tensors()


def test_box_projection_on_images(batch) -> None:
    """Idempotent, inside both sets, and never farther from v than ball projection then clamping."""
    x = batch[0][:32]
    v = 0.3 * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
    once = project_l1_box(v, 10.0, -x, 1 - x)
    assert torch.allclose(project_l1_box(once, 10.0, -x, 1 - x), once, atol=1e-6)
    assert (perturbation_norm(once, "L1") <= 10.0 + 1e-5).all()
    assert (x + once).min() >= -1e-6 and (x + once).max() <= 1 + 1e-6
    clamped = (x + project_l1_ball(v, 10.0)).clamp(0, 1) - x
    ours, naive = (v - once).flatten(1).norm(dim=1), (v - clamped).flatten(1).norm(dim=1)
    assert (ours <= naive + 1e-5).all() and (ours < naive - 1e-3).any()


def test_sparse_sign_keeps_the_top_percent() -> None:
    grad = torch.randn(4, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    direction = sparse_sign(grad).flatten(1)
    assert torch.allclose(direction.abs().sum(dim=1), torch.ones(4))
    assert ((direction != 0).sum(dim=1) == round(784 * 0.01)).all()
    top = grad.flatten(1).abs().topk(8, dim=1).indices
    assert torch.equal(direction.gather(1, top).sign(), grad.flatten(1).gather(1, top).sign())


def test_ascent_direction_skips_blocked_pixels() -> None:
    """At a pixel of 0 the direction never goes down, at 1 never up, and it still has unit L1 norm."""
    generator = torch.Generator().manual_seed(2)
    x_adv = torch.randint(0, 2, (8, 1, 28, 28), generator=generator).float()
    grad = torch.randn(x_adv.shape, generator=generator)
    direction = L1Step().ascent_direction(grad, x_adv)
    assert not ((x_adv == 0) & (direction < 0)).any() and not ((x_adv == 1) & (direction > 0)).any()
    assert torch.allclose(direction.flatten(1).abs().sum(dim=1), torch.ones(8))


def test_random_start_is_uniform_in_the_ball() -> None:
    """In two dimensions, uniform on the L1 ball of radius 1 gives P(|d_1| <= 1/2) = 3/4 and P(||d||_1 <= r) = r^2."""
    delta = L1Step().random_init(torch.zeros(40000, 1, 1, 2), 1.0, torch.Generator().manual_seed(0)).flatten(1)
    norms = delta.abs().sum(dim=1)
    assert norms.max() <= 1 + 1e-6
    # tolerance: 4.5 standard errors; a Gaussian direction would give 0.768
    assert abs((delta[:, 0].abs() <= 0.5).float().mean() - 0.75) < 0.01
    assert abs((norms <= 0.5).float().mean() - 0.25) < 0.01


def attack(model: torch.nn.Module, name: str, eps: float, steps: int = 1) -> callable:
    cfg = AttackConfig(name, "L1", eps, steps=steps, random_start=name == "pgd")
    return make_attack(model, cfg, torch.Generator().manual_seed(0))


@pytest.mark.real_data
@pytest.mark.parametrize("name, eps", [(n, e) for n in ("fgsm", "pgd") for e in (0.0, 2.0, 10.0)])
def test_budget_box_and_accuracy(lenet, batch, name: str, eps: float) -> None:
    x, y = batch
    x_adv = attack(lenet, name, eps, steps=20 if name == "pgd" else 1)(x, y)
    assert x_adv.shape == x.shape and x_adv.min() >= 0 and x_adv.max() <= 1
    assert perturbation_norm(x_adv - x, "L1").max() <= eps + 1e-5
    assert (predict(lenet, x_adv) == y).float().mean() <= (predict(lenet, x) == y).float().mean()
    if eps == 0:
        assert torch.equal(x_adv, x)


@pytest.mark.real_data
def test_pgd_is_unchanged_by_the_newton_steps(lenet, batch, monkeypatch) -> None:
    """PGD-L1 gives the same images with the Newton-step threshold as with the sorted breakpoints."""
    x, y = batch
    ours = attack(lenet, "pgd", 10.0, steps=10)(x, y)
    monkeypatch.setattr(norms, "NEWTON_EVALUATIONS", 0)
    assert torch.equal(ours, attack(lenet, "pgd", 10.0, steps=10)(x, y))


@pytest.mark.real_data
def test_pgd_is_unchanged_by_starting_each_threshold_search_at_the_last(lenet, batch, monkeypatch) -> None:
    """The L1 step starts each projection's search at the last threshold; cold searches give the same images."""
    x, y = batch
    ours = attack(lenet, "pgd", 10.0, steps=10)(x, y)
    warm_search = norms.project_l1_box_from
    guesses = []

    def cold(v, eps, lower, upper, guess=None):
        guesses.append(guess)
        return warm_search(v, eps, lower, upper)

    monkeypatch.setattr(norms, "project_l1_box_from", cold)
    assert torch.equal(ours, attack(lenet, "pgd", 10.0, steps=10)(x, y))
    assert guesses[0] is None and all(g is not None for g in guesses[1:])


@pytest.mark.real_data
def test_pgd_is_strong(lenet, batch) -> None:
    """At eps = 10 (Tramèr & Boneh's MNIST radius) PGD beats FGSM and more than halves accuracy."""
    x, y = batch
    clean = (predict(lenet, x) == y).float().mean()
    fgsm = (predict(lenet, attack(lenet, "fgsm", 10.0)(x, y)) == y).float().mean()
    pgd = (predict(lenet, attack(lenet, "pgd", 10.0, steps=30)(x, y)) == y).float().mean()
    assert pgd < fgsm and pgd < 0.5 * clean


def reference_steepest(grad: np.ndarray, eps: float, lower: np.ndarray, upper: np.ndarray) -> float:
    """max <grad, d> s.t. ||d||_1 <= eps, lower <= d <= upper, by scipy's linprog on d = p - n, p, n >= 0."""
    n = len(grad)
    result = linprog(np.concatenate([-grad, grad]), A_ub=np.ones((1, 2 * n)), b_ub=[eps],
                     bounds=[(0, u) for u in upper] + [(0, -lo) for lo in lower], method="highs")
    assert result.status == 0
    return -result.fun


@pytest.mark.parametrize("seed", range(40))
def test_steepest_step_solves_the_linear_program(seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = int(rng.integers(2, 60))
    grad = rng.normal(size=d) * (rng.random(d) > 0.2)  # some zero gradients
    x = rng.uniform(size=d)
    x[rng.random(d) < 0.3] = rng.choice([0.0, 1.0])
    eps = float(rng.uniform(0, d / 2)) if seed % 4 else float(d)  # every fourth: more budget than room
    delta = steepest_l1_box(_row(grad), eps, _row(-x), _row(1 - x))[0].numpy()
    assert np.abs(delta).sum() <= eps + 1e-9 and np.all(delta >= -x - 1e-12) and np.all(delta <= 1 - x + 1e-12)
    assert grad @ delta == pytest.approx(reference_steepest(grad, eps, -x, 1 - x), rel=1e-9, abs=1e-12)


def test_steepest_step_spends_the_budget_on_the_largest_gradients() -> None:
    grad = torch.tensor([[0.1, -3.0, 2.0, 0.0, -0.5]])
    x = torch.tensor([[0.5, 0.8, 0.4, 0.5, 0.0]])
    delta = steepest_l1_box(grad, 1.2, -x, 1 - x)
    assert torch.allclose(delta, torch.tensor([[0.0, -0.8, 0.4, 0.0, 0.0]]))  # -0.5 is blocked at 0


@pytest.mark.real_data
def test_fgsm_l1_spends_its_whole_budget(lenet, batch) -> None:
    """Spends eps exactly (the earlier sparse sign step of size eps moved 8 pixels by at most 1: ||d||_1 <= 8)."""
    x, y = batch
    for eps in (5.0, 20.0, 50.0):
        spent = perturbation_norm(attack(lenet, "fgsm", eps)(x, y) - x, "L1")
        assert spent.min() >= eps * (1 - 1e-4) and spent.max() <= eps * (1 + 1e-4)
    weak = (predict(lenet, attack(lenet, "fgsm", 10.0)(x, y)) == y).float().mean()
    strong = (predict(lenet, attack(lenet, "fgsm", 50.0)(x, y)) == y).float().mean()
    assert strong < weak


@pytest.mark.parametrize("settings", [{"random_start": True}, {"restarts": 3}])
def test_fgsm_l1_takes_no_random_start(settings: dict) -> None:
    with pytest.raises(ConfigError, match="steepest-ascent step"):
        make_attack(torch.nn.Identity(), AttackConfig("fgsm", "L1", 10.0, **settings))


def test_room_along_matches_the_box_read_coordinate_by_coordinate() -> None:
    """upper where the gradient is positive, -lower where negative, 0 where zero, at and inside the box's faces."""
    generator = torch.Generator().manual_seed(5)
    x = torch.randint(0, 3, (4, 1, 6, 6), generator=generator).float() / 2  # 0, 0.5, 1: faces and inside
    grad = torch.randint(-1, 2, x.shape, generator=generator).float() * torch.rand(x.shape, generator=generator)
    expected = torch.where(grad > 0, 1 - x, torch.where(grad < 0, x, torch.zeros_like(x)))
    assert torch.equal(room_along(grad, -x, 1 - x), expected)


@pytest.mark.parametrize("eps", [0.5, 3.0, 40.0, 500.0])
def test_steepest_l1_step_ranks_more_coordinates_when_the_first_ones_hold_too_little(eps: float) -> None:
    """Rooms of 0.01-0.1 need hundreds of coordinates for eps 40 (the partial sort doubles its k up to all 784);
    the step still equals the greedy fill in float64 over a full sort, and spends min(eps, total room)."""
    generator = torch.Generator().manual_seed(6)
    grad = torch.randn(3, 1, 28, 28, generator=generator, dtype=torch.float64)
    x = 1 - torch.rand(grad.shape, generator=generator, dtype=torch.float64) * 0.09 - 0.01  # up-room 0.01-0.1
    d = steepest_l1_box(grad, eps, -x, 1 - x).flatten(1)
    for row, g, xs in zip(d, grad.flatten(1), x.flatten(1), strict=True):
        room = np.where(g.numpy() > 0, 1 - xs.numpy(), xs.numpy())
        order = np.argsort(-np.abs(g.numpy()), kind="stable")
        take = np.minimum(np.clip(eps - (np.cumsum(room[order]) - room[order]), 0, None), room[order])
        expected = np.zeros_like(take)
        expected[order] = take * np.sign(g.numpy()[order])
        np.testing.assert_allclose(row.numpy(), expected, atol=1e-12)
        assert abs(row.abs().sum().item() - min(eps, room.sum())) < 1e-9
