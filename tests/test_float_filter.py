"""Float filter vs exact signs; float forward pass vs exact folded signs."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
from hypothesis import assume, given, strategies as st

from geomcheck.io import load_model
from geomcheck.search.filter import filtered_signs_at_input
from geomcheck.search.floats import forward, preactivations

from strategies import blocks, vectors


@given(blocks(), st.data())
def test_filter_agrees_with_exact_everywhere(block, data):
    x = data.draw(vectors(block.d))
    assume(block.norm.eps > 0 or any(v != 0 for v in block.norm.center(x)))
    filtered = filtered_signs_at_input(block, x)
    assert filtered.signs == block.signs_at_input(x)
    # wherever the float alone decided, its sign is the exact one
    exact = block.signs_at_input(x)
    for i in np.flatnonzero(filtered.decided_by_float):
        assert np.sign(filtered.float_values[i]) == exact[i]


def test_filter_falls_back_on_exact_ties():
    # circle3-noln at t·(1,0,−1) with t = 1/2 lies exactly on neuron 0's plane
    block = load_model("toy:circle3-noln")
    x = (F(1, 2), F(0), F(-1, 2))
    filtered = filtered_signs_at_input(block, x)
    assert filtered.signs[0] == 0 and not filtered.decided_by_float[0]
    assert filtered.exact_fallbacks >= 1


def test_filter_on_layer_sized_model_decides_almost_everything():
    block = load_model("toy:random?d=64&n=256&seed=3")
    x = tuple(F(i % 7 - 3, 5) for i in range(64))
    filtered = filtered_signs_at_input(block, x)
    assert filtered.signs == block.signs_at_input(x)
    assert filtered.exact_fallbacks <= 2


@given(blocks(norm="layernorm", eps=F(0)), st.data())
def test_float_forward_signs_match_exact_when_clear(block, data):
    x = data.draw(vectors(block.d))
    assume(any(v != 0 for v in block.norm.center(x)))
    h = preactivations(block, np.array([float(v) for v in x]))
    exact = block.signs_at_input(x)
    scale = 1 + np.abs(h).max()
    for hi, s in zip(h, exact):
        if abs(hi) > 1e-9 * scale:  # a display-level comparison of two float routes, not a verdict
            assert np.sign(hi) == s


def test_forward_hand_case_noln():
    block = load_model("toy:circle3-noln")
    out = forward(block, np.array([2.0, 0.0, -2.0]))
    # h = (4−1, 2−2, 2+1, −2+2−1) = (3, 0, 3, −1) → relu (3, 0, 3, 0)
    np.testing.assert_array_equal(out, [6.0, -3.0, -3.0])
