"""The one definition of a crossing (geomcheck.geometry.paths), checked on a hand-derived touching zero.

RMSNorm, ε = 0, d = 3: z = √3·x/‖x‖ lies on the sphere of radius √3. One neuron,
w = (0, 0, 1), b = −1, so h = z₃ − 1 vanishes on the circle z₃ = 1 of that sphere.
The path x₀ + λv with x₀ = (1, −1, 0), v = (−2, 0, 1) stays in the plane
x + y + 2z = 0, whose great circle reaches height √3·√(1 − 4/6) = 1 exactly at the
direction (−1, −1, 1) = x₀ + 1·v: the path touches the boundary at λ = 1 and
returns. So λ = 1 is a crossing (the point there has pattern "0"), with no sign
change (both sides "−") and no map change; the study counts no gate-sign change.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from geomcheck.geometry.paths import PathSpec, analyse_path
from geomcheck.model import MLPBlock, get_activation, make_normalization
from geomcheck.search.paths import analyse_path_fast


def _block(norm="rmsnorm"):
    return MLPBlock(((F(0), F(0), F(1)),), (F(-1),), ((F(1),), (F(0),), (F(0),)), (F(0),) * 3,
                    make_normalization(norm, F(0)), get_activation("relu"), name="touching")


@pytest.mark.parametrize("engine", [analyse_path, analyse_path_fast])
def test_a_touching_zero_is_a_crossing_without_a_flip(engine):
    block = _block()
    analysis = engine(block, PathSpec.superposition((F(1), F(-1), F(0)), (F(-2), F(0), F(1))))
    assert [(c.at.exact_form(), c.neurons, c.map_changes) for c in analysis.crossings] == [("1", (0,), False)]
    assert analysis.flips == [()]
    assert [s.pattern for s in analysis.segments] == ["-", "-"]
    assert block.signs_at_input((F(-1), F(-1), F(1))) == (0,)  # the touching point itself


def test_a_crossing_through_the_circle_flips():
    """Tilting the path past the tangent plane turns the touching zero into two sign changes."""
    block = _block()
    analysis = analyse_path_fast(block, PathSpec.superposition((F(1), F(-1), F(0)), (F(-2), F(0), F(11, 10))))
    assert len(analysis.crossings) == 2 and analysis.flips == [(0,), (0,)]
    assert [s.pattern for s in analysis.segments] == ["-", "+", "-"]
