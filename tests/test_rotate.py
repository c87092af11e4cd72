"""geomcheck rotate: the output along a rotation (issue 13).

Hand cases (derived on paper below), exact-vs-sampled cross-checks on ReLU blocks, and
hypothesis properties (a full great circle returns to its start; reversing an arc mirrors the
intrinsic measures).
"""

from __future__ import annotations

import json
import math
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from geomcheck.cli import main
from geomcheck.errors import DegenerateInput, InvalidInput
from geomcheck.geometry.paths import PathSpec, analyse_path
from geomcheck.geometry.rotation import arc_frame, kinks, segment_maps
from geomcheck.model import MLPBlock, get_activation, make_normalization
from geomcheck.search.paths import analyse_path_fast
from geomcheck.search.rotation import rotation_measures, sample_rotation

from strategies import vectors


def block(w_in, b_in, w_out, b_out, norm="rmsnorm", act="relu", eps=F(0)):
    q = lambda rows: tuple(tuple(F(v) for v in r) for r in rows)  # noqa: E731
    return MLPBlock(q(w_in), tuple(map(F, b_in)), q(w_out), tuple(map(F, b_out)),
                    make_normalization(norm, eps), get_activation(act), name="hand")


# ----------------------------------------------------------------- angle ↔ λ, by hand
def test_angle_lambda_correspondence_orthogonal_layernorm():
    """LayerNorm d = 3, x = (1,−1,0), v = (1,1,−2) (both centred, orthogonal): A = 2, B = 0, C = 6, Δ = 12,
    tan θ = λ·√12/2 = √3·λ: λ = 1/3 → 30°, λ = 1/√3 → 45°, λ = 1 → 60°, λ → ∞ → 90°."""
    b = block([[1, 0, 0]], [0], [[1], [0], [0]], [0, 0, 0], norm="layernorm")
    frame = arc_frame(b, PathSpec.superposition((1, -1, 0), (1, 1, -2)))
    assert (frame.A, frame.B, frame.C, frame.Delta) == (2, 0, 6, 12)
    assert math.degrees(frame.total) == pytest.approx(90, abs=1e-12)
    assert math.degrees(frame.angle(F(1))) == pytest.approx(60, abs=1e-12)
    assert math.degrees(frame.angle(F(1, 3))) == pytest.approx(30, abs=1e-12)
    assert frame.cos_squared(F(1, 3)) == F(3, 4)
    assert math.degrees(frame.angle_float(1 / math.sqrt(3))) == pytest.approx(45, abs=1e-12)
    assert frame.cos_squared(F(1)) == F(1, 4)  # cos 60° = 1/2, exactly
    assert frame.lambda_of(math.radians(60)) == pytest.approx(1, rel=1e-12)
    assert frame.lambda_of(math.radians(90)) == math.inf


def test_angle_lambda_correspondence_oblique_and_arc():
    """v' = v + x: B = 2, C = 8, Δ = 12, tan θ = λ√12/(2 + 2λ): λ = 1 gives tan θ = √3/2; the arc x → x + v'
    (s = 1) ends there, and λ → ∞ is still 90° (z(v') direction: cos ψ = B/√(AC) = 1/2 → ψ = 60°)."""
    b = block([[1, 0, 0]], [0], [[1], [0], [0]], [0, 0, 0], norm="layernorm")
    x, v = (F(1), F(-1), F(0)), (F(2), F(0), F(-2))
    frame = arc_frame(b, PathSpec.superposition(x, v))
    assert (frame.A, frame.B, frame.C, frame.Delta) == (2, 2, 8, 12)
    assert math.degrees(frame.total) == pytest.approx(60, abs=1e-12)
    assert math.tan(frame.angle(F(1))) == pytest.approx(math.sqrt(3) / 2, rel=1e-14)
    assert frame.cos_squared(F(1)) == F(4, 7)  # (A+B)²/(A·(A+2B+C)) = 16/28 = 1/(1 + tan²θ)
    arc = arc_frame(b, PathSpec.arc(x, tuple(a + c for a, c in zip(x, v))))
    assert arc.total == pytest.approx(frame.angle(F(1)), abs=1e-15)


def test_no_normalization_and_parallel_refused_in_one_line(capsys):
    assert main(["rotate", "toy:circle3-noln", "--base", "1,0,0", "--toward", "0,1,0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "LayerNorm or RMSNorm" in err
    assert main(["rotate", "toy:circle3", "--base", "1,0,-1", "--toward", "2,1,0"]) == 2
    assert "parallel" in capsys.readouterr().err
    assert main(["rotate", "toy:circle3", "--base", "1,0,-1", "--to", "0,1,0", "--max", "3"]) == 2
    assert "--max" in capsys.readouterr().err


# ----------------------------------------------------------------- one region: exactly affine in (cos θ, sin θ)
def test_single_region_output_is_exactly_affine():
    """RMSNorm d = 2, both neurons always on (b'² > d‖w̃‖²: 25 > 2·1 and 16 > 2·4): f is one affine map of z,
    so along any arc it equals c₀ + c₁cos θ + c₂sin θ; the fit residual is 0 up to float rounding
    (the samples are float64), no flip, no kink, and the linearization in z is never off."""
    b = block([[1, 0], [1, 1]], [5, 4], [[2, -1], [1, 3]], [1, -1])
    spec = PathSpec.superposition((1, 0), (1, 3))
    m = rotation_measures(b, spec)
    assert m["flips"] == 0 and m["kinks"] == [] and len(m["segments"]) == 1
    assert m["affine_fit_residual"] < 1e-12
    assert m["linearization_error_angles"] == {"1%": None, "10%": None}
    frame = arc_frame(b, spec)
    [seg] = segment_maps(b, frame, analyse_path(b, spec))
    c0, c1, c2 = (np.array(c) for c in seg.coefficients_float())
    s = sample_rotation(b, frame, 257)
    exact = c0 + np.outer(np.cos(s.theta), c1) + np.outer(np.sin(s.theta), c2)
    np.testing.assert_allclose(s.f, exact, rtol=1e-12, atol=1e-12)
    # c₀ = W_out·b' + b_out exactly (all neurons on)
    assert seg.c0 == (F(2 * 5 - 4 + 1), F(5 + 12 - 1))


# ----------------------------------------------------------------- one known kink
def test_one_kink_with_known_jacobian_jump():
    """RMSNorm d = 2, x = (1, 0), v = (0, 1): A = C = Δ = 1, tan θ = λ, z = √2(cos θ, sin θ).
    One neuron h = z₂ − 1 = √2 sin θ − 1 vanishes at θ = 45°, i.e. λ = 1 exactly, and turns on.
    W_out[:, 0] = (3, 4), w̃ = (0, 1): the Jacobian in z jumps by (3,4)ᵀ(0,1), operator norm 5·1 = 5;
    along the arc f′ jumps by (3,4)·(w̃·z′(45°)) = (3,4)·√2·cos 45° = (3,4): norm 5."""
    b = block([[0, 1]], [-1], [[3], [4]], [0, 0])
    spec = PathSpec.superposition((1, 0), (0, 1))
    m = rotation_measures(b, spec)
    assert m["flips"] == 1 and m["angle_total"] == pytest.approx(90, abs=1e-12)
    [c] = m["crossings"]
    assert c["exact"] == "1" and c["angle"] == pytest.approx(45, abs=1e-12)
    [k] = m["kinks"]
    assert k["jacobian_jump"] == 5 and k["jacobian_jump_squared_frobenius"] == "25"
    assert k["turned_on"] == [0]
    assert k["derivative_jump"] == pytest.approx(5, rel=1e-12)
    # sampled f′ just before and after the kink agree with the exact jump
    frame = arc_frame(b, spec)
    maps = segment_maps(b, frame, analyse_path(b, spec))
    assert [mp.pattern for mp in maps] == ["-", "+"]
    assert maps[0].v1 == (0, 0) and maps[1].c0 == (F(-3), F(-4))


# ----------------------------------------------------------------- exact vs sampled on ReLU blocks
@st.composite
def relu_paths(draw):
    d = draw(st.integers(3, 5))
    n = draw(st.integers(1, 7))
    norm = draw(st.sampled_from(["layernorm", "rmsnorm"]))
    small = dict(max_num=9, max_den=3)
    w_in = [draw(vectors(d, **small)) for _ in range(n)]
    b_in = draw(vectors(n, **small))
    w_out = [draw(vectors(n, **small)) for _ in range(d)]
    blk = block(w_in, b_in, w_out, draw(vectors(d, **small)), norm=norm)
    x = draw(vectors(d, max_num=5, max_den=1))
    v = draw(vectors(d, max_num=5, max_den=1))
    return blk, x, v


def _frame_or_skip(blk, spec):
    try:
        return arc_frame(blk, spec)
    except (DegenerateInput, InvalidInput):
        assume(False)


@given(relu_paths())
@settings(max_examples=40)
def test_sampled_measures_agree_with_exact_piecewise_maps(case):
    blk, x, v = case
    spec = PathSpec.superposition(x, v)
    frame = _frame_or_skip(blk, spec)
    analysis = analyse_path(blk, spec)
    maps = segment_maps(blk, frame, analysis)
    s = sample_rotation(blk, frame, 401)
    scale = 1 + np.abs(s.f).max()
    bounds = [mp.theta_to for mp in maps[:-1]]
    which = np.searchsorted(bounds, s.theta)
    # at a zero of a neuron (a kink, a zero at an end of the arc, or at the limit point λ → ∞, which
    # the grid includes) f′ is one-sided: compare elsewhere
    zeros = bounds + [frame.angle(lam) for lam, _ in analysis.endpoint_zeros] + [frame.total]
    away = np.all(np.abs(s.theta[:, None] - np.array(zeros + [-1.0])[None, :]) > 1e-9, axis=1)
    for k, mp in enumerate(maps):
        sel = (which == k) & away
        if not sel.any():
            continue
        c0, c1, c2 = (np.array(c) for c in mp.coefficients_float())
        exact = c0 + np.outer(np.cos(s.theta[sel]), c1) + np.outer(np.sin(s.theta[sel]), c2)
        np.testing.assert_allclose(s.f[sel], exact, atol=1e-9 * scale)
        f1 = -np.outer(np.sin(s.theta[sel]), c1) + np.outer(np.cos(s.theta[sel]), c2)
        np.testing.assert_allclose(s.df[sel], f1, atol=1e-9 * (1 + np.abs(f1).max()))
    m = rotation_measures(blk, spec, analysis, samples=401)
    assert m["flips"] == len(analysis.crossings) == len(analyse_path_fast(blk, spec).crossings)
    for kk, kink in zip(m["kinks"], kinks(blk, frame, analysis)):
        # the jump of f′ from the exact segment maps on both sides, at the exact kink angle
        k = next(i for i, mp in enumerate(maps) if mp.theta_to >= kink.theta - 1e-12)
        t = kink.theta
        left, right = maps[k], maps[k + 1]
        jumps = [(-math.sin(t) * np.array(mp.coefficients_float()[1]) + math.cos(t) * np.array(mp.coefficients_float()[2]))
                 for mp in (left, right)]
        assert kk["derivative_jump"] == pytest.approx(float(np.linalg.norm(jumps[1] - jumps[0])), rel=1e-7, abs=1e-7)
        if kink.squared_operator is not None:
            assert kink.squared_operator == kink.squared_frobenius
            # operator norm of the exact jump vs float SVD of the difference of the two Jacobians
            from geomcheck.search.floats import float_arrays

            a = float_arrays(blk)
            Ds = [np.array([c == "+" for c in mp.pattern], dtype=float) for mp in (left, right)]
            J = a.w_out @ np.diag(Ds[1] - Ds[0]) @ a.folded_w
            assert kk["jacobian_jump"] == pytest.approx(float(np.linalg.norm(J, 2)), rel=1e-9)


# ----------------------------------------------------------------- properties
@given(relu_paths())
@settings(max_examples=30)
def test_full_great_circle_returns_to_start(case):
    """Arcs x → y → −x → −y → x sweep 360° and end where they began (output and pattern)."""
    blk, x, y = case
    mx, my = tuple(-a for a in x), tuple(-a for a in y)
    legs = [(x, y), (y, mx), (mx, my), (my, x)]
    frames = [_frame_or_skip(blk, PathSpec.arc(a, b)) for a, b in legs]
    total = sum(math.degrees(f.total) for f in frames)
    assert total == pytest.approx(360, abs=1e-9)
    first = sample_rotation(blk, frames[0], 17).f[0]
    last = sample_rotation(blk, frames[-1], 17).f[-1]
    np.testing.assert_allclose(last, first, atol=1e-9 * (1 + np.abs(first).max()))
    # a neuron crosses a great circle in 0 or 2 points (or touches it once): over the closed loop
    # every neuron changes sign an even number of times
    changes = [0] * blk.n
    for a, b in legs:
        an = analyse_path(blk, PathSpec.arc(a, b))
        assume(not an.endpoint_zeros)
        for c, (s0, s1) in zip(an.crossings, zip(an.segments, an.segments[1:])):
            for i in c.neurons:
                changes[i] += s0.pattern[i] != s1.pattern[i]
    assert all(c % 2 == 0 for c in changes)


@given(relu_paths())
@settings(max_examples=30)
def test_reversing_the_arc_mirrors_the_measures(case):
    blk, x, y = case
    fwd_spec, back_spec = PathSpec.arc(x, y), PathSpec.arc(y, x)
    _frame_or_skip(blk, fwd_spec)
    fwd = rotation_measures(blk, fwd_spec, samples=301)
    back = rotation_measures(blk, back_spec, samples=301)
    T = fwd["angle_total"]
    assert back["angle_total"] == pytest.approx(T, abs=1e-9)
    assert back["flips"] == fwd["flips"]
    mirrored = sorted(T - c["angle"] for c in fwd["crossings"])
    np.testing.assert_allclose(sorted(c["angle"] for c in back["crossings"]), mirrored, atol=1e-9)
    assert sorted(c["neurons"] for c in back["crossings"]) == sorted(c["neurons"] for c in fwd["crossings"])
    if fwd["affine_fit_residual"] is None:
        assert back["affine_fit_residual"] is None
    else:
        assert back["affine_fit_residual"] == pytest.approx(fwd["affine_fit_residual"], rel=1e-6, abs=1e-9)
    # a sample that falls exactly on a kink takes the one-sided value from the other side when the
    # arc is reversed: the two may differ there by at most the largest derivative jump
    slack = max([k["derivative_jump"] for k in fwd["kinks"]], default=0.0) + 1e-9
    # a neuron vanishing at an end of the arc makes f′ one-sided there, differently in the two directions
    ends = analyse_path(blk, fwd_spec).endpoint_zeros
    for key in (() if ends else ("max", "median", "min")):
        assert back["speed"][key] == pytest.approx(fwd["speed"][key], rel=1e-9, abs=slack)
    assert sorted(k["jacobian_jump"] for k in back["kinks"]) == pytest.approx(
        sorted(k["jacobian_jump"] for k in fwd["kinks"]), rel=1e-12)
    assert sorted(k["derivative_jump"] for k in back["kinks"]) == pytest.approx(
        sorted(k["derivative_jump"] for k in fwd["kinks"]), rel=1e-7, abs=1e-9)


# ----------------------------------------------------------------- GELU and ε > 0
def test_gelu_block_has_no_kinks_and_reports_transitions():
    b = block([[0, 1], [1, 0]], [-1, F(1, 2)], [[3, 1], [4, -2]], [0, 0], act="gelu")
    m = rotation_measures(b, PathSpec.superposition((1, 0), (0, 1)))
    assert m["kinks"] is None and m["flips"] == 1
    g = m["gate_transition"]
    # h = √2 sin θ − 1: |h| < 1 ⇔ 0 < sin θ < √2 — the band starts at θ = 0 and runs past 90° to 180°
    assert g["width_max"] == pytest.approx(180, abs=1e-9) and not g["kink_like"]
    assert 0 < m["affine_fit_residual"] < 1


def test_eps_positive_uses_the_radius_and_stays_exact_for_one_region():
    """ε > 0: z leaves the sphere (ρ < √d), but one region is still affine in ζ = (z·û, z·ê)/√d."""
    b = block([[1, 0], [1, 1]], [5, 4], [[2, -1], [1, 3]], [1, -1], eps=F(1, 10))
    m = rotation_measures(b, PathSpec.superposition((1, 0), (1, 3)))
    assert m["affine_fit_residual"] < 1e-12 and "ε = 1/10 > 0" in m["labels"]["eps"]
    s = sample_rotation(b, arc_frame(b, PathSpec.superposition((1, 0), (1, 3))), 2001)
    # derivative check against finite differences (ρ varies along the path)
    h = s.theta[1] - s.theta[0]
    fd = (s.f[2:] - s.f[:-2]) / (2 * h)
    np.testing.assert_allclose(s.df[1:-1], fd, rtol=0, atol=1e-5 * np.abs(s.df).max())
    fd2 = (s.df[2:] - s.df[:-2]) / (2 * h)
    np.testing.assert_allclose(s.d2f[1:-1], fd2, rtol=0, atol=1e-4 * np.abs(s.d2f).max())


# ----------------------------------------------------------------- the command
def test_cli_json_contract(tmp_path, capsys):
    plot = tmp_path / "r.png"
    rc = main(["rotate", "toy:random?d=8&n=32&seed=0", "--base", "1,0,-1,1,0,-1,1,0",
               "--toward", "-2,-1,2,2,-1,-2,-1,2", "--json", "--samples", "401", "--plot", str(plot)])
    assert rc == 0
    p = json.loads(capsys.readouterr().out)
    for key in ("angle_total", "flips", "crossings", "affine_fit_residual", "tangent_error_angles", "speed",
                "curvature", "kinks", "verdict"):
        assert key in p
    assert set(p["tangent_error_angles"]) == {"1%", "10%"}
    assert {"angle", "lambda"} <= set(p["crossings"][0]) and {"angle", "jacobian_jump"} <= set(p["kinks"][0])
    assert p["verdict"]["checked"] and p["verdict"]["status"] in ("proved", "refuted")
    assert p["flips"] == len(p["crossings"]) == 12
    assert plot.stat().st_size > 10_000


def test_summary_and_answer_follow_the_numbers():
    from geomcheck.search.rotation import answer_paragraph, summarize_rotations

    b = block([[0, 1]], [-1], [[3], [4]], [0, 0])
    one = rotation_measures(b, PathSpec.superposition((1, 0), (0, 1)), samples=201)
    flat = rotation_measures(block([[1, 0], [1, 1]], [5, 4], [[2, -1], [1, 3]], [1, -1]),
                             PathSpec.superposition((1, 0), (1, 3)), samples=201)
    s = summarize_rotations([one, flat])
    assert s["pairs"] == 2 and s["flips"]["min"] == 0 and s["flips"]["max"] == 1
    assert s["affine_fit_residual"]["min"] < 1e-12 < s["affine_fit_residual"]["max"]
    assert s["kink_jump_max"]["max"] == 5
    text = answer_paragraph(s, "relu")
    assert "0–1 gate boundaries" in text and "far from one affine map" in text
    assert "close to one affine map" in answer_paragraph(summarize_rotations([flat]), "relu")


def test_residual_stream_on_a_finite_arc():
    """RMSNorm d = 2, the one-kink block on the arc (1,0) → (0,1): x(s) = (1 − s, s), r = x + f. At the start the
    neuron is off (h = −1), f = 0, so the stream's change is x's change plus f(end) = W_out·(√2 − 1)."""
    b = block([[0, 1]], [-1], [[3], [4]], [0, 0])
    m = rotation_measures(b, PathSpec.arc((1, 0), (0, 1)), samples=401, residual_stream=True)
    rs = m["residual_stream"]
    f_end = (math.sqrt(2) - 1) * np.array([3.0, 4.0])
    dr = np.array([-1.0, 1.0]) + f_end
    assert rs["change"] == pytest.approx(float(np.linalg.norm(dr)), rel=1e-12)
    assert rs["change_from_block"] == pytest.approx(float(np.linalg.norm(f_end) / np.linalg.norm(dr)), rel=1e-12)
    assert "note" in rotation_measures(b, PathSpec.superposition((1, 0), (0, 1)), samples=101,
                                       residual_stream=True)["residual_stream"]
