"""The invariances everything rests on (DESIGN §2), checked exactly."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from hypothesis import assume, given, strategies as st

from geomcheck.errors import DegenerateInput
from geomcheck.model import make_normalization
from geomcheck.model.norms import LayerNorm

from strategies import blocks, positive_rationals, vectors


def _direction_of(norm, x):
    """(u, N): z(x) = √d·u/√N; two inputs have the same z iff u/√N agree."""
    u = norm.center(x)
    return u, norm.squared_radius_denominator(u)


def _same_z(norm, x, y) -> bool:
    """z(x) = z(y) exactly: u_x/√N_x = u_y/√N_y ⇔ u_x·√N_y = u_y·√N_x
    ⇔ u_x ∥ u_y with positive ratio c and c² = N_x/N_y."""
    ux, nx = _direction_of(norm, x)
    uy, ny = _direction_of(norm, y)
    pivot = next(i for i, v in enumerate(uy) if v != 0)
    c = ux[pivot] / uy[pivot]
    return c > 0 and all(a == c * b for a, b in zip(ux, uy)) and c * c * ny == nx


@pytest.mark.parametrize("kind", ["layernorm", "rmsnorm"])
@given(data=st.data())
def test_scale_invariance_at_eps_zero(kind, data):
    d = data.draw(st.integers(2, 6))
    x = data.draw(vectors(d))
    norm = make_normalization(kind)
    assume(any(v != 0 for v in norm.center(x)))
    t = data.draw(positive_rationals(1000, 1000))
    assert norm.normalized_squared_norm(x) == d                      # on the sphere ‖z‖² = d
    assert _same_z(norm, x, [t * v for v in x])                     # z(t·x) = z(x)
    # z(−x) = −z(x): the centred vectors are opposite with the same radicand
    ux, nx = _direction_of(norm, x)
    um, nm = _direction_of(norm, [-v for v in x])
    assert um == tuple(-v for v in ux) and nm == nx
    if kind == "layernorm":
        assert sum(ux) == 0                                         # z ∈ 1⊥


@pytest.mark.parametrize("kind", ["layernorm", "rmsnorm"])
@given(data=st.data())
def test_positive_eps_inside_ball_and_breaks_scale_invariance(kind, data):
    d = data.draw(st.integers(2, 6))
    x = data.draw(vectors(d))
    eps = data.draw(positive_rationals(5, 1000))
    norm = make_normalization(kind, eps)
    assume(any(v != 0 for v in norm.center(x)))
    squared = norm.normalized_squared_norm(x)
    assert 0 < squared < d
    t = data.draw(positive_rationals(1000, 1000))
    assume(t != 1)
    # the squared norm d‖tu‖²/(‖tu‖² + dε) is strictly increasing in t
    scaled = norm.normalized_squared_norm([t * v for v in x])
    assert (scaled > squared) == (t > 1) and scaled != squared
    assert not _same_z(norm, x, [t * v for v in x])


def test_layernorm_undefined_on_constant_and_zero():
    ln = LayerNorm()
    with pytest.raises(DegenerateInput, match="constant"):
        ln.normalized_squared_norm([F(2), F(2), F(2)])
    with pytest.raises(DegenerateInput, match="zero vector"):
        ln.normalized_squared_norm([F(0), F(0), F(0)])
    # with ε > 0 a constant vector maps to z = 0, which is defined
    assert LayerNorm(F(1, 100)).normalized_squared_norm([F(2), F(2), F(2)]) == 0


def test_hand_computed_layernorm():
    # x = (3, 0, 0): u = (2, −1, −1), ‖u‖² = 6, z = √3·u/√6 = u/√2, ‖z‖² = 3
    ln = LayerNorm()
    assert ln.center([F(3), F(0), F(0)]) == (F(2), F(-1), F(-1))
    assert ln.normalized_squared_norm([F(3), F(0), F(0)]) == 3
    # ε = 1: ‖z‖² = 3·6/(6 + 3) = 2
    assert LayerNorm(F(1)).normalized_squared_norm([F(3), F(0), F(0)]) == 2


@given(blocks(norm="layernorm"), st.data())
def test_folded_and_unfolded_preactivations_agree(block, data):
    """h = W_in·(γ⊙z + β) + b_in equals w̃·z + b' for any rational z in 1⊥."""
    z = list(data.draw(vectors(block.d)))
    mean = sum(z, F(0)) / block.d
    z = [v - mean for v in z]  # a point of 1⊥ (the LayerNorm image lies there)
    unfolded = block.unfolded_preactivations(block.normalization_output(z))
    assert unfolded == block.folded.preactivations_at(z)


@given(blocks(norm="rmsnorm"), st.data())
def test_folded_and_unfolded_agree_rmsnorm(block, data):
    z = data.draw(vectors(block.d))
    assert block.unfolded_preactivations(block.normalization_output(z)) == block.folded.preactivations_at(z)


@given(blocks(), st.data())
def test_exact_signs_at_input_match_folded_signs_on_sphere_point(block, data):
    """At ε = 0, scaling x changes nothing; with no norm signs are of W x + b."""
    x = data.draw(vectors(block.d))
    assume(any(v != 0 for v in block.norm.center(x)))
    signs = block.signs_at_input(x)
    if block.norm.scale_invariant:
        t = data.draw(positive_rationals(100, 100))
        assert block.signs_at_input([t * v for v in x]) == signs
    if block.norm.kind == "none":
        assert signs == block.folded.signs_at(x)
