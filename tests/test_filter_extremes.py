"""The float filters against exact arithmetic at the float64 limits.

The filtered path engine (:func:`geomcheck.search.paths.analyse_path_fast`) and the
filtered sign test (:func:`geomcheck.search.filter.filtered_signs_at_input`) round
their inputs to float64 and bound the rounding error. A bound relative to the
magnitudes fails where values underflow (subnormals, an ε below the smallest
float), overflow, or are beyond float range altogether; there the filters must hand
the neuron to exact arithmetic. These tests draw exponents across the whole float64
range (and beyond it) and demand the same answer as the exact engine.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from geomcheck.geometry.paths import PathSpec, PathThroughUndefined, analyse_path
from geomcheck.io import load_model
from geomcheck.model import MLPBlock, get_activation, make_normalization
from geomcheck.search.filter import filtered_signs_at_input
from geomcheck.search.paths import analyse_path_fast

from tests.test_paths_crosscheck import assert_identical

# exponents of 2 from below the smallest subnormal (2^-1074) to beyond the largest float (~2^1024)
EXPONENTS = st.integers(-1200, 1100)


@st.composite
def magnitudes(draw, exponents=EXPONENTS, zero: bool = True):
    """``±m·2^e`` with a small odd-or-even mantissa m and e anywhere in (and beyond) float64's range."""
    m = draw(st.integers(-7, 7) if zero else st.integers(1, 7).flatmap(lambda k: st.sampled_from([k, -k])))
    e = draw(exponents)
    return F(m) * F(2) ** e


def scaled_vectors(d: int, exponent: int):
    """A vector of small rationals times one shared power of two (cancellation stays possible)."""
    return st.lists(st.builds(F, st.integers(-5, 5), st.integers(1, 3)), min_size=d, max_size=d).map(
        lambda v: tuple(c * F(2) ** exponent for c in v))


@st.composite
def extreme_blocks(draw):
    d = draw(st.integers(2, 4))
    n = draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["layernorm", "rmsnorm", "none"]))
    # one scale for the rows, one for the biases (their ratio decides where the crossings lie),
    # and per-entry exponents when mixed magnitudes are drawn
    mixed = draw(st.booleans())
    row_e, bias_e = draw(EXPONENTS), draw(EXPONENTS)
    if mixed:
        w_in = tuple(tuple(draw(magnitudes()) for _ in range(d)) for _ in range(n))
        b_in = tuple(draw(magnitudes()) for _ in range(n))
    else:
        w_in = tuple(draw(scaled_vectors(d, row_e)) for _ in range(n))
        b_in = draw(scaled_vectors(n, bias_e))
    assume(all(any(w) for w in w_in) or kind == "none")
    w_out = tuple(tuple(F(1 + (i + j) % 3) for j in range(n)) for i in range(d))
    if kind == "none":
        norm = make_normalization("none")
    else:
        eps = draw(st.sampled_from([F(0), F(1, 10**5)]) | magnitudes(zero=False).map(abs))
        norm = make_normalization(kind, eps)
    return MLPBlock(w_in, b_in, w_out, (F(0),) * d, norm, get_activation("relu"), name="extreme")


def _paths(draw, d):
    x = draw(scaled_vectors(d, draw(EXPONENTS)))
    v = draw(scaled_vectors(d, draw(EXPONENTS)))
    kind = draw(st.sampled_from(["ray", "sup", "max", "arc"]))
    end = draw(magnitudes(zero=False).map(abs))
    return {"ray": lambda: PathSpec.ray(v), "sup": lambda: PathSpec.superposition(x, v),
            "max": lambda: PathSpec.superposition(x, v, end), "arc": lambda: PathSpec.arc(x, v)}[kind](), x


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(extreme_blocks(), st.data())
def test_filtered_path_engine_equals_exact_across_float_range(block, data):
    spec, _ = _paths(data.draw, block.d)
    assume(any(spec.direction))
    try:
        exact = analyse_path(block, spec)
    except PathThroughUndefined as exc:
        with pytest.raises(PathThroughUndefined) as again:
            analyse_path_fast(block, spec)
        assert again.value.lam == exc.lam
        return
    except Exception as exc:  # noqa: BLE001 — only the undefined-path refusal is expected of both
        pytest.skip(f"exact engine refuses: {exc}")
    assert_identical(exact, analyse_path_fast(block, spec))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(extreme_blocks(), st.data())
def test_filtered_signs_equal_exact_across_float_range(block, data):
    x = data.draw(scaled_vectors(block.d, data.draw(EXPONENTS)))
    assume(block.norm.eps > 0 or any(v != 0 for v in block.norm.center(x)))
    assert filtered_signs_at_input(block, x).signs == block.signs_at_input(x)


# ---------------------------------------------------------------------------
# regression cases: each was answered wrongly (or crashed) by the filter

def _toy_ray(spec: str, direction):
    block = load_model(spec)
    path = PathSpec.ray([F(c) for c in direction])
    return analyse_path(block, path), analyse_path_fast(block, path)


@pytest.mark.parametrize("eps", ["1e-400", "1e-330", "2e-324", "1e-5000"])
def test_eps_below_the_smallest_float_still_flips_the_ray(eps):
    """circle3 with ε > 0 whose float64 value is 0: the ray (1, 0, −1) flips neuron 0 near
    λ = √(dε·c²/(1 − c²))/‖P·v‖ (≈ 5.5e-201 for ε = 1e-400); the filter once called it constant."""
    exact, fast = _toy_ray(f"toy:circle3?eps={eps}", (1, 0, -1))
    assert [c.neurons for c in exact.crossings] == [(0,)]
    assert_identical(exact, fast)
    if eps == "1e-400":
        assert 5.47e-201 < float(exact.crossings[0].at) < 5.48e-201


def test_eps_1e_400_cli_reports_the_crossing(capsys):
    from geomcheck.cli import main

    main(["ray", "toy:circle3?eps=1e-400", "--direction", "1,0,-1", "--json"])
    import json

    out = json.loads(capsys.readouterr().out)
    assert len(out["crossings"]) == 1 and out["crossings"][0]["neurons"] == [0]


def _scaled_circle(weight_scale: F, bias_scale: F, eps: F) -> MLPBlock:
    base = load_model("toy:circle3")
    return MLPBlock(tuple(tuple(w * weight_scale for w in row) for row in base.w_in),
                    tuple(b * bias_scale for b in base.b_in), base.w_out, base.b_out,
                    make_normalization("layernorm", eps), base.activation, name="scaled circle3")


@pytest.mark.parametrize("weight_exp, bias_exp, eps", [
    (-1000, -1000, F(1, 10**5)), (1000, 1000, F(1, 10**5)), (-1060, 0, F(1, 10)), (0, -1070, F(1, 10)),
    (1020, -1020, F(1, 10)), (-1020, 1020, F(1, 10)), (1100, 1100, F(1)), (-1100, -1100, F(1)),
    (0, 0, F(2) ** -1100), (0, 600, F(2) ** 1300),
])
def test_scaled_weights_agree_with_exact(weight_exp, bias_exp, eps):
    block = _scaled_circle(F(2) ** weight_exp, F(2) ** bias_exp, eps)
    for v in [(1, 0, -1), (3, -1, 5), (-2, 7, 1)]:
        for spec in (PathSpec.ray([F(c) for c in v]),
                     PathSpec.superposition((F(1), F(2), F(-4)), [F(c) for c in v]),
                     PathSpec.arc((F(1), F(2), F(-4)), [F(c) * F(2) ** 900 for c in v])):
            assert_identical(analyse_path(block, spec), analyse_path_fast(block, spec))
        x = tuple(F(c) * F(2) ** -1060 for c in v)
        assert filtered_signs_at_input(block, x).signs == block.signs_at_input(x)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.integers(-1100, 1100), st.integers(-1100, 1100), st.integers(-1200, 1100), st.data())
def test_slope_sign_filter_equals_exact_across_float_range(weight_exp, bias_exp, direction_exp, data):
    """The ray-constancy filter behind --fraction (signs of w_i·v) at the float64 limits."""
    from geomcheck.search.counterexample import _slope_signs, ray_is_constant

    base = load_model("toy:random?d=4&n=12&seed=5&norm=none")
    block = MLPBlock(tuple(tuple(w * F(2) ** weight_exp for w in row) for row in base.w_in),
                     tuple(b * F(2) ** bias_exp for b in base.b_in), base.w_out, base.b_out,
                     make_normalization("none"), base.activation, name="scaled random")
    directions = [data.draw(scaled_vectors(4, direction_exp)) for _ in range(3)]
    directions = [v for v in directions if any(v)]
    assume(directions)
    signs = _slope_signs(block, directions)
    for k, v in enumerate(directions):
        exact = [(s > 0) - (s < 0) for s in (sum((w * c for w, c in zip(row, v)), F(0)) for row in block.w_in)]
        assert list(signs[:, k]) == exact
        crosses = any(e * ((b > 0) - (b < 0)) < 0 for e, b in zip(exact, block.b_in))
        assert ray_is_constant(block, v) == (not crosses)
