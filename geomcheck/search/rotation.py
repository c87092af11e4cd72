"""How the block's *output* changes while x rotates toward d: sampled measures (float64, *estimates*).

:func:`rotation_measures` is the one entry point (``geomcheck rotate`` and the study call it per
token pair). The exact parts — the crossings (path engine), angles of exact λ, ReLU kinks with
exact Jacobian-jump sizes, per-segment maps — come from :mod:`geomcheck.geometry.rotation`;
everything here is float64 on a uniform grid in the rotation angle θ and is labelled *estimate*.

Along the path ``z(θ) = ρ(θ)·e(θ)``, ``e = cos θ·û + sin θ·ê`` (geometry.rotation). With ψ the
angle of ``w`` from ``û`` the path's ``r = ‖u‖`` is ``r(θ) = √A·sin ψ / sin(ψ − θ)`` (law of sines
in the triangle 0, u₀, u), so ``ρ = √d·r/√(r² + dε)`` and its derivatives are analytic; at ε = 0,
``ρ ≡ √d``. The output ``f(θ) = W_out·φ(W̃·z + b') + b_out`` and its derivatives
``f′ = W_out·(φ′(h) ⊙ W̃z′)``, ``f″ = W_out·(φ″(h) ⊙ (W̃z′)² + φ′(h) ⊙ W̃z″)`` are evaluated in closed
form at every sample (no finite differences). For ReLU, φ″ = 0 away from the kinks: the kinks'
contribution is reported exactly, not sampled.

Gated blocks (:mod:`geomcheck.model.gated`): ``f = W_down·(a(g) ⊙ u) + b_down`` with the gate
``g = W̃_gate·z + b'_gate`` (the folded first layer above) and ``u = (W_up ⊙ γ)·z + W_up·β + b_up`` both
affine in z(θ); ``f′``/``f″`` by the product rule (:func:`sample_rotation`). A gated block is never
affine in z (bilinear on one ReLU gate region), so ``quadratic_fit_residual`` (the fit with ζ₁², ζ₂²,
ζ₁ζ₂ added, exact for one ReLU gate region) is reported beside ``affine_fit_residual``; ReLU gates get
``kinks`` at the exact flip angles with the rank-one jump ``±W_down[:, i]·u_i(z*)·g̃_iᵀ`` (float64).

Measures (keys are a contract, README "geomcheck rotate"):

* ``affine_fit_residual`` — least-squares fit of f by ``c₀ + c₁·ζ₁ + c₂·ζ₂`` where ``ζ = (z·û, z·ê)/√d``
  (``= (cos θ, sin θ)`` at ε = 0): what one affine region would give *exactly*, at any ε.
  Reported as ``sqrt(Σ‖r‖² / Σ‖f − f̄‖²)`` over the samples.
* ``tangent_error_angles`` — first sampled θ where ``‖f(θ) − f(0) − θ·f′(0)‖ ≥ p·‖f(θ) − f(0)‖`` (p = 1 %,
  10 %). A single region is not a line in θ either (an ellipse), so ``linearization_error_angles``
  gives the same for the block's linearization at z(0) in z, ``f(0) + J(z(0))·(z(θ) − z(0))``, which a
  single region reproduces exactly (never reached).
* ``speed`` — ``‖f′(θ)‖`` (output units per radian), ``curvature`` — the curve's
  ``κ = √(‖f′‖²‖f″‖² − (f′·f″)²)/‖f′‖³`` (1/output units).
* ``gate_transition`` (smooth activations) — for each flipping neuron, the angular width of its
  transition band ``|h_i| < 1`` on the ε = 0 great circle (``h_i = b'_i + R_i·cos(θ − φ_i)``, closed
  form), against the spacing of consecutive flips and the sampling step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from geomcheck.geometry.rotation import ArcFrame, angle_label, arc_frame, kinks, segment_maps
from geomcheck.model.block import MLPBlock
from geomcheck.model.gated import GATED_PATTERN_NOTE, is_gated
from geomcheck.search.floats import float_arrays

__all__ = ["RotationSamples", "sample_rotation", "rotation_measures", "summarize_rotations", "answer_paragraph",
           "activation_derivatives", "DEFAULT_SAMPLES"]

DEFAULT_SAMPLES = 2001
_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


def activation_derivatives(name: str, h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """φ, φ′, φ″ elementwise (float64)."""
    if name == "relu":
        on = (h > 0).astype(float)
        return h * on, on, np.zeros_like(h)
    if name == "gelu":
        from scipy.special import erf

        Phi = 0.5 * (1.0 + erf(h / _SQRT2))
        pdf = np.exp(-0.5 * h * h) / _SQRT2PI
        return h * Phi, Phi + h * pdf, 2.0 * pdf - h * h * pdf
    if name == "gelu_tanh":
        k, a = math.sqrt(2.0 / math.pi), 0.044715
        inner = k * (h + a * h ** 3)
        dinner = k * (1.0 + 3.0 * a * h * h)
        t = np.tanh(inner)
        sech2 = 1.0 - t * t
        phi = 0.5 * h * (1.0 + t)
        d1 = 0.5 * (1.0 + t) + 0.5 * h * sech2 * dinner
        d2 = sech2 * dinner + 0.5 * h * (-2.0 * t * sech2 * dinner ** 2 + sech2 * k * 6.0 * a * h)
        return phi, d1, d2
    if name == "silu":
        s = 1.0 / (1.0 + np.exp(-h))
        return h * s, s + h * s * (1 - s), s * (1 - s) * (2.0 + h * (1.0 - 2.0 * s))
    raise ValueError(f"rotate: no derivatives for activation {name!r}")


@dataclass
class RotationSamples:
    """The output and its θ-derivatives on a uniform grid (rows = samples)."""

    theta: np.ndarray      # radians, from 0 to the path's total angle
    zeta: np.ndarray       # (z·û, z·ê)/√d: (cos θ, sin θ) at ε = 0
    z: np.ndarray
    h: np.ndarray          # pre-activations W̃z + b'
    f: np.ndarray
    df: np.ndarray
    d2f: np.ndarray
    frame_u: np.ndarray    # û
    frame_e: np.ndarray    # ê
    up: np.ndarray | None = None   # gated blocks: the up values u = W_up·N(x) + b_up


def _frame_vectors(frame: ArcFrame) -> tuple[np.ndarray, np.ndarray]:
    u0 = np.array([float(v) for v in frame.u0])
    w = np.array([float(v) for v in frame.w])
    A, B = float(frame.A), float(frame.B)
    u_hat = u0 / math.sqrt(A)
    e_vec = A * w - B * u0
    return u_hat, e_vec / np.linalg.norm(e_vec)


def _radius(frame: ArcFrame, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ρ(θ), ρ′(θ), ρ″(θ) (module docstring); ρ ≡ √d at ε = 0."""
    d = frame.d
    sd = math.sqrt(d)
    if frame.eps == 0:
        return np.full_like(theta, sd), np.zeros_like(theta), np.zeros_like(theta)
    de = d * float(frame.eps)
    psi = frame.angle_float(math.inf)
    gap = psi - theta
    with np.errstate(divide="ignore", invalid="ignore"):
        r = math.sqrt(float(frame.A)) * math.sin(psi) / np.sin(gap)
        cot = np.cos(gap) / np.sin(gap)
        r1 = r * cot
        r2 = r * (cot * cot + 1.0 / np.sin(gap) ** 2)
        q = r * r + de
        rho = sd * r / np.sqrt(q)
        g1 = sd * de / q ** 1.5
        g2 = -3.0 * sd * de * r / q ** 2.5
        rho1 = g1 * r1
        rho2 = g2 * r1 * r1 + g1 * r2
    at_end = ~np.isfinite(r) | (gap <= 0)
    rho[at_end], rho1[at_end], rho2[at_end] = sd, 0.0, 0.0
    return rho, np.nan_to_num(rho1), np.nan_to_num(rho2)


def sample_rotation(block: MLPBlock, frame: ArcFrame, samples: int = DEFAULT_SAMPLES) -> RotationSamples:
    """Evaluate f, f′, f″ at ``samples`` equally spaced angles on [0, total]."""
    arrays = float_arrays(block)
    u_hat, e_hat = _frame_vectors(frame)
    theta = np.linspace(0.0, frame.total, samples)
    rho, rho1, rho2 = _radius(frame, theta)
    c, s = np.cos(theta)[:, None], np.sin(theta)[:, None]
    e = c * u_hat + s * e_hat
    e1 = -s * u_hat + c * e_hat
    z = rho[:, None] * e
    z1 = rho1[:, None] * e + rho[:, None] * e1
    z2 = rho2[:, None] * e + 2.0 * rho1[:, None] * e1 - rho[:, None] * e
    W, b = arrays.folded_w, arrays.folded_b
    h = z @ W.T + b
    h1 = z1 @ W.T
    h2 = z2 @ W.T
    phi, dphi, d2phi = activation_derivatives(block.activation.name, h)
    Wo = arrays.w_out
    if is_gated(block):
        # out = W_down·(a(g) ⊙ u) + b_down with g = h and u = U·(γ⊙z + β) + b_up both affine in z(θ):
        # (a(g)⊙u)′ = a′(g)g′⊙u + a(g)⊙u′, (a(g)⊙u)″ = a″(g)g′²⊙u + 2a′(g)g′⊙u′ + a′(g)g″⊙u + a(g)⊙u″
        u, u1, u2 = up_along(block, z, z1, z2)
        f = (phi * u) @ Wo.T + arrays.b_out
        df = (dphi * h1 * u + phi * u1) @ Wo.T
        d2f = (d2phi * h1 * h1 * u + 2.0 * dphi * h1 * u1 + dphi * h2 * u + phi * u2) @ Wo.T
    else:
        u = None
        f = phi @ Wo.T + arrays.b_out
        df = (dphi * h1) @ Wo.T
        d2f = (d2phi * h1 * h1 + dphi * h2) @ Wo.T
    zeta = np.stack([z @ u_hat, z @ e_hat], axis=1) / math.sqrt(frame.d)
    return RotationSamples(theta, zeta, z, h, f, df, d2f, u_hat, e_hat, u)


def _up_arrays(block) -> tuple[np.ndarray, np.ndarray]:
    """A gated block's ``(U ⊙ γ, U·β + b_up)`` in float64 (the up projection on the normalized point z)."""
    def build():
        from geomcheck.model.lazy import DyadicRows

        arrays = float_arrays(block)
        U = np.asarray(block.w_up.source if isinstance(block.w_up, DyadicRows)
                       else [[float(v) for v in row] for row in block.w_up], dtype=np.float64)
        b_up = np.array([float(v) for v in block.b_up], dtype=np.float64)
        return U * arrays.gamma, U @ arrays.beta + b_up
    return block.data.cached("rotation.up_float", build)


def up_along(block, z: np.ndarray, *tangents: np.ndarray) -> tuple[np.ndarray, ...]:
    """A gated block's up values ``u = (U⊙γ)·z + U·β + b_up`` at the rows of z, and the linear part at each
    of ``tangents`` (z′, z″, …). z lies in 1⊥ for LayerNorm, so ``(γ⊙z)·u_i = z·P(u_i⊙γ)`` (no fold needed)."""
    Ug, bu = _up_arrays(block)
    return (z @ Ug.T + bu,) + tuple(t @ Ug.T for t in tangents)


def affine_fit_residual(zeta: np.ndarray, f: np.ndarray) -> float | None:
    """``sqrt(Σ‖r‖²/Σ‖f − f̄‖²)`` of the least-squares fit ``c₀ + c₁ζ₁ + c₂ζ₂``; None when f is constant
    (to float precision: RMS variation ≤ 1e-13·(1 + max|f|))."""
    X = np.column_stack([np.ones(len(zeta)), zeta])
    coef, *_ = np.linalg.lstsq(X, f, rcond=None)
    r = f - X @ coef
    var = float(np.sum((f - f.mean(axis=0)) ** 2))
    # the ratio is meaningless when the variation is rounding noise (an estimate, not a decision)
    if var <= len(f) * (1e-13 * (1.0 + float(np.abs(f).max()))) ** 2:
        return None
    return math.sqrt(float(np.sum(r * r)) / var)


def quadratic_fit_residual(zeta: np.ndarray, f: np.ndarray) -> float | None:
    """As :func:`affine_fit_residual` with the quadratic terms ζ₁², ζ₂², ζ₁ζ₂ added: exact (0 up to rounding)
    for an output quadratic in z, e.g. a ReLU-gated block on one gate region (bilinear in z)."""
    quad = np.column_stack([zeta[:, 0] ** 2, zeta[:, 1] ** 2, zeta[:, 0] * zeta[:, 1]])
    return affine_fit_residual(np.column_stack([zeta, quad]), f)


def _first_reaching(theta: np.ndarray, err: np.ndarray, level: float) -> float | None:
    hit = np.nonzero(err >= level)[0]
    hit = hit[hit > 0]
    return None if len(hit) == 0 else math.degrees(float(theta[hit[0]]))


def _relative_errors(sampled: RotationSamples, prediction: np.ndarray) -> np.ndarray:
    change = np.linalg.norm(sampled.f - sampled.f[0], axis=1)
    miss = np.linalg.norm(sampled.f - prediction, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(change > 0, miss / change, 0.0)
    return rel


def _stats(values: np.ndarray) -> dict:
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return {"max": None, "median": None, "min": None}
    return {"max": float(values.max()), "median": float(np.median(values)), "min": float(values.min())}


def _transition_widths(block: MLPBlock, frame: ArcFrame, neurons: list[int]) -> np.ndarray:
    """Angular width (degrees) of the band |h_i| < 1 around neuron i's zero on the ε = 0 great circle."""
    arrays = float_arrays(block)
    u_hat, e_hat = _frame_vectors(frame)
    W, b = arrays.folded_w[neurons], arrays.folded_b[neurons]
    R = math.sqrt(frame.d) * np.hypot(W @ u_hat, W @ e_hat)
    with np.errstate(divide="ignore", invalid="ignore"):
        # |h| < 1 ⇔ cos(θ − φ) ∈ (p, q): the two intervals ±(a, c) of θ − φ, a = arccos q ≤ c = arccos p;
        # they join across 0 when q ≥ 1 (a = 0) and across π when p ≤ −1 (c = π)
        a = np.arccos(np.clip((1.0 - b) / R, -1.0, 1.0))
        c = np.arccos(np.clip((-1.0 - b) / R, -1.0, 1.0))
    width = c - a
    joined0, joinedpi = a == 0.0, c == np.pi
    width = np.where(joined0 | joinedpi, 2.0 * width, width)
    width = np.where(joined0 & joinedpi, 2.0 * np.pi, width)
    return np.degrees(width)


def residual_stream_measures(spec, frame: ArcFrame, sampled: RotationSamples) -> dict:
    """The residual stream after the block, ``r(θ) = x(λ(θ)) + f(θ)`` (float; finite paths only).

    ``block_share``: ``‖f‖/‖r‖`` along the path (median, max); ``change_from_block``: how much of the
    stream's change from start to end the block contributes, ``‖Δf‖/‖Δr‖``.
    """
    if spec.end is None:
        return {"note": "x(λ) grows without bound as λ → ∞: give --max L or use --to Y for residual-stream numbers"}
    lam = np.array([0.0] + [frame.lambda_of(t) for t in sampled.theta[1:-1]] + [float(spec.end)])
    base = np.array([float(v) for v in spec.base])
    direction = np.array([float(v) for v in spec.direction])
    x = base + lam[:, None] * direction
    r = x + sampled.f if sampled.f.shape[1] == x.shape[1] else None
    if r is None:
        return {"note": "the block's output width differs from its input width: no residual stream"}
    share = np.linalg.norm(sampled.f, axis=1) / np.maximum(np.linalg.norm(r, axis=1), 1e-300)
    dr = float(np.linalg.norm(r[-1] - r[0]))
    return {"block_share": {"median": float(np.median(share)), "max": float(share.max())},
            "change_from_block": None if dr == 0 else float(np.linalg.norm(sampled.f[-1] - sampled.f[0])) / dr,
            "change": dr}


def rotation_measures(block: MLPBlock, spec, analysis=None, samples: int = DEFAULT_SAMPLES,
                      keep_samples: bool = False, residual_stream: bool = False) -> dict:
    """Every output measure along ``spec`` (a superposition or arc PathSpec), as a JSON-able dict.

    ``analysis`` is the path engine's result for ``spec`` (computed with the filtered engine when
    omitted). Exact entries are marked in ``labels``; sampled ones say how densely (``sampling``).
    With ``keep_samples`` the :class:`RotationSamples` are returned under ``"_samples"`` (not JSON).
    """
    if samples < 16:
        raise ValueError("samples must be ≥ 16")
    frame = arc_frame(block, spec)
    if analysis is None:
        from geomcheck.search.paths import analyse_path_fast

        analysis = analyse_path_fast(block, spec)
    sampled = sample_rotation(block, frame, samples)
    gated = is_gated(block)
    theta = sampled.theta
    total = frame.total
    crossings = []
    for c in analysis.crossings:
        crossings.append({"angle": math.degrees(frame.angle(c.at)), "lambda": c.at.to_decimal(17),
                          "exact": c.at.exact_form(), "neurons": list(c.neurons), "map_changes": c.map_changes})
    out: dict = {
        "model": block.name,
        "activation": block.activation.name,
        "norm": {"kind": block.norm.kind, "eps": str(block.norm.eps)},
        "kind": spec.kind,
        "angle_total": math.degrees(total),
        "lambda_end": None if spec.end is None else str(spec.end),
        "flips": len(analysis.crossings),
        "map_changes": sum(1 for c in analysis.crossings if c.map_changes),
        "crossings": crossings,
    }
    angles = np.array([c["angle"] for c in crossings])
    if len(angles) > 1:
        gaps = np.diff(angles)
        out["flip_spacing"] = {"median": float(np.median(gaps)), "min": float(gaps.min()), "max": float(gaps.max())}
    else:
        out["flip_spacing"] = None
    out["affine_fit_residual"] = affine_fit_residual(sampled.zeta, sampled.f)
    if gated:
        out["quadratic_fit_residual"] = quadratic_fit_residual(sampled.zeta, sampled.f)
        out["affine_fit_note"] = (
            "gated block: never affine in z — on one gate region with a ReLU gate the output is bilinear, i.e. "
            "quadratic in ζ = (cos θ, sin θ) (at ε = 0), so affine_fit_residual is > 0 even without a gate flip; "
            "quadratic_fit_residual fits c₀ + c₁ζ₁ + c₂ζ₂ + c₃ζ₁² + c₄ζ₂² + c₅ζ₁ζ₂, exact (0) for one ReLU gate region")
    tangent = sampled.f[0] + theta[:, None] * sampled.df[0]
    rel_t = _relative_errors(sampled, tangent)
    arrays = float_arrays(block)
    phi0, dphi0, _ = activation_derivatives(block.activation.name, sampled.h[:1])
    dz = sampled.z - sampled.z[0]
    if gated:  # J(z₀)·Δz = W_down·(a′(g₀)⊙u₀⊙(W̃Δz) + a(g₀)⊙(U⊙γ)Δz)
        du = up_along(block, sampled.z[:1], dz)[1]
        lin = sampled.f[0] + ((dz @ arrays.folded_w.T) * dphi0 * sampled.up[:1] + phi0 * du) @ arrays.w_out.T
    else:
        lin = sampled.f[0] + (dz @ arrays.folded_w.T * dphi0) @ arrays.w_out.T
    rel_l = _relative_errors(sampled, lin)
    out["tangent_error_angles"] = {"1%": _first_reaching(theta, rel_t, 0.01), "10%": _first_reaching(theta, rel_t, 0.10)}
    out["linearization_error_angles"] = {"1%": _first_reaching(theta, rel_l, 0.01),
                                         "10%": _first_reaching(theta, rel_l, 0.10)}
    speed = np.linalg.norm(sampled.df, axis=1)
    out["speed"] = dict(_stats(speed), units="output units per radian")
    with np.errstate(divide="ignore", invalid="ignore"):
        dot12 = np.sum(sampled.df * sampled.d2f, axis=1)
        n2 = np.sum(sampled.d2f ** 2, axis=1)
        kappa = np.sqrt(np.maximum(speed ** 2 * n2 - dot12 ** 2, 0.0)) / speed ** 3
    curv = _stats(kappa)
    out["curvature"] = {"max": curv["max"], "median": curv["median"], "units": "1/output units (curve κ)"}
    out["output_change"] = float(np.linalg.norm(sampled.f[-1] - sampled.f[0]))
    out["output_path_length"] = float(np.trapezoid(speed, theta)) if hasattr(np, "trapezoid") else float(np.trapz(speed, theta))
    step = math.degrees(total) / (samples - 1)
    out["sampling"] = {"samples": samples, "step_degrees": step, "grid": "uniform in θ, endpoints included",
                       "derivatives": "closed form (no finite differences)"}
    if residual_stream:
        out["residual_stream"] = residual_stream_measures(spec, frame, sampled)
    exact_parts = ["flips", "crossings.lambda", "crossings.exact", "crossings.neurons", "map_changes"]
    if gated and block.activation.name == "relu":
        out["kinks"] = [_gated_kink_json(block, frame, analysis, k, sampled)
                        for k, c in enumerate(analysis.crossings) if c.map_changes]
        exact_parts += ["kinks.lambda", "kinks.neurons", "kinks.turned_on"]
        out["kink_note"] = ("ReLU-gated block: at a gate flip of neuron i the jump of ∂f/∂z is "
                            "±W_down[:, i]·u_i(z*)·g̃_iᵀ (rank one, operator norm ‖W_down[:, i]‖·|u_i(z*)|·‖g̃_i‖, "
                            "summed over neurons flipping together); the angle and λ are exact, the jump is float64 "
                            "at the exact flip point (u_i(z*) involves a square root); derivative_jump = ‖Δf′(θ)‖ "
                            "per radian along this arc (float)")
    elif block.activation.piecewise_linear:
        ks = kinks(block, frame, analysis)
        out["kinks"] = [_kink_json(block, frame, k, sampled) for k in ks]
        exact_parts += ["kinks.lambda", "kinks.neurons", "kinks.jacobian_jump (single flip: √ of an exact rational)",
                        "kinks.jacobian_jump_squared"]
        out["kink_note"] = ("jacobian_jump = operator norm of the jump of ∂f/∂z (z the normalized point, ‖z‖ = √d), "
                            "exact for one flipping neuron (‖W_out[:, i]‖·‖w̃_i‖); derivative_jump = ‖Δf′(θ)‖ per radian "
                            "along this arc (float)")
        if block.d_out * block.n <= 400_000:
            maps = segment_maps(block, frame, analysis)
            out["segments"] = [_segment_json(m, block.d_out <= 16) for m in maps]
            exact_parts.append("segments.c0/c1/c2 (exact rational × √rational; printed as floats)")
    else:
        out["kinks"] = None
        widths = _transition_widths(block, frame, sorted({i for c in analysis.crossings for i in c.neurons}))
        widths = widths[np.isfinite(widths)]
        if len(widths):
            spacing = out["flip_spacing"]["median"] if out["flip_spacing"] else None
            out["gate_transition"] = {
                "band": ("|g_i| < 1 around the flip (g = the GATE pre-activation), on the ε = 0 great circle "
                         "(closed form), degrees" if gated else
                         "|h_i| < 1 around the flip, on the ε = 0 great circle (closed form), degrees"),
                "width_median": float(np.median(widths)), "width_min": float(widths.min()),
                "width_max": float(widths.max()),
                "flip_spacing_median": spacing,
                "ratio_width_to_spacing": None if not spacing else float(np.median(widths)) / spacing,
                "min_width_in_samples": float(widths.min()) / step,
                "kink_like": bool(widths.min() < 4 * step),
            }
        else:
            out["gate_transition"] = None
    out["labels"] = {
        "exact": exact_parts,
        "angles": angle_label,
        "estimate": ["affine_fit_residual"] + (["quadratic_fit_residual", "kinks.jacobian_jump"] if gated else []) + [
                     "tangent_error_angles", "linearization_error_angles", "speed",
                     "curvature", "gate_transition", "kinks.derivative_jump", "output_change",
                     "output_path_length", "residual_stream"],
        "eps": ("ε = 0: z is on the sphere, z = √d(cos θ·û + sin θ·ê)" if block.norm.eps == 0 else
                f"ε = {block.norm.eps} > 0: z = ρ(θ)(cos θ·û + sin θ·ê) with ρ < √d; the fit uses ζ = (z·û, z·ê)/√d, "
                "exact for one region at any ε; gate transition widths use the ε = 0 circle"),
    }
    if gated:
        out["labels"]["gated"] = GATED_PATTERN_NOTE
        if block.norm.eps != 0:
            out["labels"]["eps"] = out["labels"]["eps"].replace(
                "exact for one region at any ε", "exact for an affine map of z at any ε (a gated block is none; "
                "quadratic_fit_residual is exact for one ReLU gate region at any ε, since z stays in span(û, ê))")
        out["labels"]["regions"] = ("gate patterns of a gated block (the output is not affine in z on any of them); map_changes counts flips "
                                    "whose neuron has a live output term")
    if keep_samples:
        out["_samples"] = sampled
        out["_frame"] = frame
    return out


def _kink_json(block: MLPBlock, frame: ArcFrame, k, sampled: RotationSamples) -> dict:
    arrays = float_arrays(block)
    theta = k.theta
    rho, rho1, _ = _radius(frame, np.array([theta]))
    e = math.cos(theta) * sampled.frame_u + math.sin(theta) * sampled.frame_e
    e1 = -math.sin(theta) * sampled.frame_u + math.cos(theta) * sampled.frame_e
    z1 = rho1[0] * e + rho[0] * e1
    on = set(k.turned_on)
    signed = [(1.0 if i in on else -1.0, i) for i in k.flipped]
    jump = np.zeros(block.d_out)
    for s, i in signed:
        jump += s * arrays.w_out[:, i] * float(arrays.folded_w[i] @ z1)
    if k.squared_operator is None:
        J = sum(s * np.outer(arrays.w_out[:, i], arrays.folded_w[i]) for s, i in signed)
        op = float(np.linalg.norm(J, 2))
        label = "float (several neurons flip together)"
    else:
        op = k.jacobian_jump
        label = "exact: √ of an exact rational"
    return {"angle": math.degrees(theta), "lambda": k.lam.to_decimal(17), "exact": k.lam.exact_form(),
            "neurons": list(k.neurons), "turned_on": list(k.turned_on),
            "jacobian_jump": op, "jacobian_jump_label": label,
            "jacobian_jump_squared_frobenius": str(k.squared_frobenius),
            "derivative_jump": float(np.linalg.norm(jump))}


def _gated_kink_json(block, frame: ArcFrame, analysis, k: int, sampled: RotationSamples) -> dict:
    """A ReLU gate flip as a kink: ΔJ = Σ ±W_down[:, i]·u_i(z*)·g̃_iᵀ at the flip point z* (float64); the
    sign is + for a gate that turns on (exact, from the segments' patterns)."""
    arrays = float_arrays(block)
    crossing = analysis.crossings[k]
    before, after = analysis.segments[k].pattern, analysis.segments[k + 1].pattern
    theta = frame.angle(crossing.at)
    rho, rho1, _ = _radius(frame, np.array([theta]))
    e = math.cos(theta) * sampled.frame_u + math.sin(theta) * sampled.frame_e
    e1 = -math.sin(theta) * sampled.frame_u + math.cos(theta) * sampled.frame_e
    z, z1 = rho[0] * e, rho1[0] * e + rho[0] * e1
    (u,) = up_along(block, z[None, :])
    u = u[0]
    signed = [(1.0 if after[i] == "+" else -1.0, i, float(arrays.folded_w[i] @ z1))
              for i in crossing.neurons if (before[i] == "+") != (after[i] == "+")]
    if not signed:  # pragma: no cover - a map-changing crossing flips some live neuron
        op = 0.0
    elif len(signed) == 1:
        i = signed[0][1]
        op = float(np.linalg.norm(arrays.w_out[:, i]) * abs(u[i]) * np.linalg.norm(arrays.folded_w[i]))
    else:
        G = np.array([s * u[i] * arrays.folded_w[i] for s, i, _ in signed])
        op = float(np.linalg.norm(arrays.w_out[:, [i for _, i, _ in signed]] @ G, 2))
    jump = sum((s * arrays.w_out[:, i] * u[i] * slope for s, i, slope in signed), np.zeros(block.d_out))
    return {"angle": math.degrees(theta), "lambda": crossing.at.to_decimal(17), "exact": crossing.at.exact_form(),
            "neurons": list(crossing.neurons), "turned_on": [i for s, i, _ in signed if s > 0],
            "jacobian_jump": op,
            "jacobian_jump_label": "float64 at the exact flip point: ‖W_down[:, i]‖·|u_i(z*)|·‖g̃_i‖ (rank one)"
            if len(signed) == 1 else "float64 (several gates flip together)",
            "derivative_jump": float(np.linalg.norm(jump))}


def _segment_json(m, with_vectors: bool) -> dict:
    c0, c1, c2 = m.coefficients_float()
    out = {"from": math.degrees(m.theta_from), "to": math.degrees(m.theta_to),
           "norms": {"c0": float(np.linalg.norm(c0)), "c1": float(np.linalg.norm(c1)), "c2": float(np.linalg.norm(c2))}}
    if with_vectors:
        out.update(c0=c0, c1=c1, c2=c2)
    return out


def _range(values) -> dict | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": float(np.median(values)), "min": float(min(values)), "max": float(max(values)), "count": len(values)}


def summarize_rotations(measures: list[dict]) -> dict:
    """Medians and ranges over many :func:`rotation_measures` results (e.g. a layer's token pairs)."""
    trans = [m.get("gate_transition") or {} for m in measures]
    return {
        "pairs": len(measures),
        "angle_total": _range([m["angle_total"] for m in measures]),
        "flips": _range([m["flips"] for m in measures]),
        "flip_spacing": _range([(m.get("flip_spacing") or {}).get("median") for m in measures]),
        "affine_fit_residual": _range([m["affine_fit_residual"] for m in measures]),
        "quadratic_fit_residual": _range([m.get("quadratic_fit_residual") for m in measures]),
        "tangent_error_1%": _range([m["tangent_error_angles"]["1%"] for m in measures]),
        "tangent_error_10%": _range([m["tangent_error_angles"]["10%"] for m in measures]),
        "linearization_error_10%": _range([m["linearization_error_angles"]["10%"] for m in measures]),
        "speed_median": _range([m["speed"]["median"] for m in measures]),
        "curvature_max": _range([m["curvature"]["max"] for m in measures]),
        "kinks": _range([None if m.get("kinks") is None else len(m["kinks"]) for m in measures]),
        "kink_jump_max": _range([max((k["jacobian_jump"] for k in m["kinks"]), default=None)
                                 if m.get("kinks") else None for m in measures]),
        "transition_ratio": _range([t.get("ratio_width_to_spacing") for t in trans]),
        "kink_like_pairs": sum(1 for t in trans if t.get("kink_like")),
    }


def answer_paragraph(summary: dict, activation: str) -> str:
    """A plain-language answer to "how smoothly does rotating x toward d change the output?", from the numbers."""
    r, f, sp = summary["affine_fit_residual"], summary["flips"], summary["flip_spacing"]
    if not r or not f:
        return "No rotation was measured."
    pct = lambda v: f"{100 * v:.0f} %"  # noqa: E731
    parts = [f"Over {summary['pairs']} rotations of {summary['angle_total']['min']:.0f}–{summary['angle_total']['max']:.0f}°, "
             f"the normalized point crosses {f['min']:.0f}–{f['max']:.0f} gate boundaries (exact count)"
             + (f", one every {sp['median']:.2g}° (median)" if sp else "") + "."]
    if activation == "relu":
        k = summary["kinks"]
        parts.append(f"With ReLU each crossing is a kink ({k['median']:.0f} per rotation, median), so the output is "
                     "piecewise affine with many small pieces." if k else "")
    else:
        t = summary["transition_ratio"]
        if t:
            smooth = summary["kink_like_pairs"] == 0
            parts.append(f"With {activation} each gate turns over a band {t['median']:.0f}× wider than the spacing of "
                         f"the flips, so {'no flip looks like a kink' if smooth else 'some flips look like kinks'}: "
                         "the boundaries blur into one smooth curve.")
    q = summary.get("quadratic_fit_residual")
    if q:  # gated: one gate region is already quadratic in z, so the single-region model is the quadratic fit
        parts.append(f"This is a gated block, never affine in z: the best affine fit leaves {pct(r['min'])}–"
                     f"{pct(r['max'])} of the output's variation, the best fit quadratic in (cos θ, sin θ) — exact "
                     f"for one ReLU gate region — leaves {100 * q['min']:.2g}–{100 * q['max']:.2g} % (median "
                     f"{100 * q['median']:.2g} %): " + (
                         "the gate flips barely show; the output is close to what one gate region would give."
                         if q["max"] < 0.01 else
                         "the gate nonlinearity is spread over the rotation, beyond what one gate region gives."))
        return " ".join(p for p in parts if p)
    spread = "close to" if r["max"] < 0.05 else "far from"
    parts.append(f"The best single-region fit leaves {pct(r['min'])}–{pct(r['max'])} of the output's variation "
                 f"(median {pct(r['median'])}), so along these rotations the block is {spread} one affine map: "
                 + ("the change is smooth and nearly what one region would give."
                    if r["max"] < 0.05 else
                    "the output changes smoothly but not like a single region — the nonlinearity is spread over "
                    "the whole rotation rather than concentrated at a few boundaries."))
    return " ".join(p for p in parts if p)
