"""How the engine picks the next eps of a curve it extends: doubling until the attack succeeds, then bisection."""

from __future__ import annotations

import math

from engine.study.extension import TOLERANCE, next_eps, norm_cap


def test_the_cap_is_the_diameter_of_the_image_box() -> None:
    assert norm_cap("Linf", (1, 28, 28)) == 1.0
    assert norm_cap("L2", (1, 28, 28)) == 28.0
    assert norm_cap("L1", (3, 32, 32)) == norm_cap("L0", (3, 32, 32)) == 3072.0


def test_it_doubles_until_the_level_then_bisects_to_the_tolerance() -> None:
    points = {0.0: 0.9, 0.05: 0.6, 0.1: 0.3}
    assert next_eps(points, 0.01, 1.0) == 0.2
    points[0.2] = 0.05
    assert next_eps(points, 0.01, 1.0) == 0.4
    points[0.4] = 0.0
    assert next_eps(points, 0.01, 1.0) == 0.3  # between the last eps above the level and the first at or below
    points[0.3] = 0.0
    assert next_eps(points, 0.01, 1.0) == 0.25
    points |= {0.25: 0.02, 0.275: 0.0}
    assert 0.275 - 0.25 <= TOLERANCE * 0.275 and next_eps(points, 0.01, 1.0) is None


def test_it_stops_at_the_cap_and_starts_from_nothing() -> None:
    assert next_eps({0.0: 0.9, 0.6: 0.5}, 0.01, 1.0) == 1.0
    assert next_eps({0.0: 0.9, 0.6: 0.5, 1.0: 0.4}, 0.01, 1.0) is None  # a model the attack cannot break
    assert next_eps({0.0: 0.9}, 0.01, 28.0) == 0.438  # cap / 64, three significant digits
    assert next_eps({}, 0.01, 1.0) == 0.0156


def test_an_eps_already_measured_is_never_proposed_again() -> None:
    points = {0.0: 0.9, 0.1: 0.5, 0.2: 0.0, 0.15: math.nan}  # 0.15 measured, but neither above nor at the level
    assert next_eps(points, 0.01, 1.0) is None  # the midpoint is 0.15 again: the extension stops, it does not loop
