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
from geomcheck.search.floats import float_arrays

__all__ = ["RotationSamples", "sample_rotation", "rotation_measures", "activation_derivatives", "DEFAULT_SAMPLES"]

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


def _frame_vectors(frame: ArcFrame) -> tuple[np.ndarray, np.ndarray]:
    u0 = np.array([float(v) for v in frame.u0])
    w = np.array([float(v) for v in frame.w])
    A, B, D = float(frame.A), float(frame.B), float(frame.Delta)
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
    f = phi @ Wo.T + arrays.b_out
    df = (dphi * h1) @ Wo.T
    d2f = (d2phi * h1 * h1 + dphi * h2) @ Wo.T
    zeta = np.stack([z @ u_hat, z @ e_hat], axis=1) / math.sqrt(frame.d)
    return RotationSamples(theta, zeta, z, h, f, df, d2f, u_hat, e_hat)


def affine_fit_residual(zeta: np.ndarray, f: np.ndarray) -> float | None:
    """``sqrt(Σ‖r‖²/Σ‖f − f̄‖²)`` of the least-squares fit ``c₀ + c₁ζ₁ + c₂ζ₂``; None when f is constant."""
    X = np.column_stack([np.ones(len(zeta)), zeta])
    coef, *_ = np.linalg.lstsq(X, f, rcond=None)
    r = f - X @ coef
    var = float(np.sum((f - f.mean(axis=0)) ** 2))
    if var == 0.0:
        return None
    return math.sqrt(float(np.sum(r * r)) / var)


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
        lo = np.arccos(np.clip((1.0 - b) / R, -1.0, 1.0))
        hi = np.arccos(np.clip((-1.0 - b) / R, -1.0, 1.0))
    return np.degrees(np.abs(hi - lo))


def rotation_measures(block: MLPBlock, spec, analysis=None, samples: int = DEFAULT_SAMPLES,
                      keep_samples: bool = False) -> dict:
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
    tangent = sampled.f[0] + theta[:, None] * sampled.df[0]
    rel_t = _relative_errors(sampled, tangent)
    arrays = float_arrays(block)
    _, dphi0, _ = activation_derivatives(block.activation.name, sampled.h[:1])
    lin = sampled.f[0] + ((sampled.z - sampled.z[0]) @ arrays.folded_w.T * dphi0) @ arrays.w_out.T
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
    exact_parts = ["flips", "crossings.lambda", "crossings.exact", "crossings.neurons", "map_changes"]
    if block.activation.piecewise_linear:
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
                "band": "|h_i| < 1 on the ε = 0 great circle, degrees",
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
        "estimate": ["affine_fit_residual", "tangent_error_angles", "linearization_error_angles", "speed",
                     "curvature", "gate_transition", "kinks.derivative_jump", "output_change",
                     "output_path_length"],
        "eps": ("ε = 0: z is on the sphere, z = √d(cos θ·û + sin θ·ê)" if block.norm.eps == 0 else
                f"ε = {block.norm.eps} > 0: z = ρ(θ)(cos θ·û + sin θ·ê) with ρ < √d; the fit uses ζ = (z·û, z·ê)/√d, "
                "exact for one region at any ε; gate transition widths use the ε = 0 circle"),
    }
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


def _segment_json(m, with_vectors: bool) -> dict:
    c0, c1, c2 = m.coefficients_float()
    out = {"from": math.degrees(m.theta_from), "to": math.degrees(m.theta_to),
           "norms": {"c0": float(np.linalg.norm(c0)), "c1": float(np.linalg.norm(c1)), "c2": float(np.linalg.norm(c2))}}
    if with_vectors:
        out.update(c0=c0, c1=c1, c2=c2)
    return out
