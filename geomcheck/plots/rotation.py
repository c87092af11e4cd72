"""Pictures against the rotation angle θ (degrees from z(x)).

* :func:`plot_rotation` — ``geomcheck rotate --plot``: the output's principal components with the
  single-region fit, its distance from that fit, the tangent/linearization errors, speed, and the
  exact flips as a rug with a density histogram (ReLU kinks as stems of height ‖ΔJ‖).
* :func:`plot_path_angles` — ``geomcheck path/arc --plot`` through a normalization: the crossings on
  an angle axis (rug + density), only the neurons that matter drawn (the largest output effect
  ``‖W_out[:, i]‖·‖w̃_i‖`` among those that flip), optional log-scaled angle axis.

Curves are float64 (display only); crossing positions are the exact λ's angles.
"""

from __future__ import annotations

import math

import numpy as np

from geomcheck.plots import pyplot, save

__all__ = ["plot_rotation", "plot_path_angles"]

_MAX_NEURONS = 8


def _rug_and_density(ax, angles, total, kinks=None):
    angles = np.asarray(angles, dtype=float)
    bins = max(10, min(200, int(math.ceil(total / max(total / 120, 1e-9)))))
    if len(angles):
        ax.hist(angles, bins=bins, range=(0, total), color="0.75", label=f"flips per {total / bins:.2g}°")
        ymax = ax.get_ylim()[1]
        ax.plot(angles, np.full(len(angles), -0.04 * ymax), "|", color="k", ms=8, label="exact flips (rug)")
    if kinks:
        ax2 = ax.twinx()
        ka = [k["angle"] for k in kinks]
        kj = [k["jacobian_jump"] for k in kinks]
        ax2.vlines(ka, 0, kj, color="tab:red", lw=1.0)
        ax2.plot(ka, kj, "o", color="tab:red", ms=3, label="ReLU kink: ‖ΔJ‖ (w.r.t. z)")
        ax2.set_ylabel("kink size ‖ΔJ‖", color="tab:red")
        ax2.set_ylim(bottom=0)
        ax2.legend(fontsize=7, loc="upper right")
    ax.set_ylabel("flips")
    ax.legend(fontsize=7, loc="upper left")


def plot_rotation(block, payload: dict, samples, frame, filename: str) -> None:
    plt = pyplot()
    deg = np.degrees(samples.theta)
    f = samples.f
    X = np.column_stack([np.ones(len(deg)), samples.zeta])
    coef, *_ = np.linalg.lstsq(X, f, rcond=None)
    fit = X @ coef
    mean = f.mean(axis=0)
    _, _, vt = np.linalg.svd(f - mean, full_matrices=False)
    comps = min(3, vt.shape[0])
    fig, axes = plt.subplots(4, 1, figsize=(10, 11), sharex=True,
                             gridspec_kw={"height_ratios": [3, 1.6, 1.6, 1.4]})
    ax = axes[0]
    for k in range(comps):
        ax.plot(deg, (f - mean) @ vt[k], lw=1.4, label=f"output, principal direction {k + 1}")
        ax.plot(deg, (fit - mean) @ vt[k], lw=1.0, ls="--", color="0.3")
    r = payload["affine_fit_residual"]
    gated = "gated" in payload.get("labels", {})
    ax.plot([], [], ls="--", color="0.3", label="best affine fit in z, c₀ + c₁cos θ + c₂sin θ (gated block: never exact, "
            "one gate region is quadratic)" if gated else "best single-region fit c₀ + c₁cos θ + c₂sin θ")
    ax.set_ylabel("f(θ) − mean")
    ax.legend(fontsize=7, loc="best")
    ax.set_title(f"{block.name or 'model'}: block output while z rotates {payload['angle_total']:.4g}° "
                 f"({payload['flips']} {'gate ' if gated else ''}flips; affine-fit residual {100 * r:.3g} %"
                 + (f", quadratic {100 * payload['quadratic_fit_residual']:.3g} %"
                    if gated and payload.get("quadratic_fit_residual") is not None else "") + ")"
                 if r is not None else
                 f"{block.name or 'model'}: block output (constant)")
    ax = axes[1]
    change = np.linalg.norm(f - f[0], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        tangent = np.linalg.norm(f - (f[0] + samples.theta[:, None] * samples.df[0]), axis=1) / change
    ax.semilogy(deg[1:], np.maximum(tangent[1:], 1e-17), lw=1.2, label="tangent line in θ: relative error")
    ax.semilogy(deg, np.maximum(np.linalg.norm(f - fit, axis=1) / max(np.linalg.norm(f - mean, axis=1).max(), 1e-300), 1e-17),
                lw=1.0, label="‖f − fit‖ / max‖f − mean‖")
    for level in (0.01, 0.1):
        ax.axhline(level, color="0.6", lw=0.6, ls=":")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_ylabel("error (estimate)")
    ax = axes[2]
    ax.plot(deg, np.linalg.norm(samples.df, axis=1), lw=1.2, label="speed ‖f′(θ)‖ per radian")
    ax.set_ylabel("speed")
    ax.legend(fontsize=7, loc="upper left")
    _rug_and_density(axes[3], [c["angle"] for c in payload["crossings"]], payload["angle_total"],
                     payload.get("kinks") or None)
    axes[3].set_xlabel(f"rotation angle θ from z(x), degrees (sampled: {len(deg)} points)")
    fig.tight_layout()
    save(fig, filename)


def plot_path_angles(block, analysis, frame, filename: str, log: bool = False, points: int = 1200) -> None:
    """The pre-activations of the neurons that matter against θ, crossings as rug + density."""
    from geomcheck.search.floats import float_arrays
    from geomcheck.search.rotation import sample_rotation

    plt = pyplot()
    total = math.degrees(frame.total)
    samples = sample_rotation(block, frame, points)
    deg = np.degrees(samples.theta)
    arrays = float_arrays(block)
    flipping = sorted({i for c in analysis.crossings for i in c.neurons})
    weight = np.linalg.norm(arrays.w_out, axis=0) * np.linalg.norm(arrays.folded_w, axis=1)
    chosen = sorted(flipping, key=lambda i: -weight[i])[:_MAX_NEURONS] if flipping else \
        list(np.argsort(-weight)[:_MAX_NEURONS])
    angles = [math.degrees(frame.angle(c.at)) for c in analysis.crossings]
    fig, axes = plt.subplots(2, 1, figsize=(10, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1.3]})
    ax = axes[0]
    for i in chosen:
        ax.plot(deg, samples.h[:, i], lw=1.1, label=f"neuron {i} (‖W_out[:, i]‖·‖w̃_i‖ = {weight[i]:.3g})")
    for c, a in zip(analysis.crossings, angles):
        if any(i in chosen for i in c.neurons):
            ax.axvline(a, color="k" if c.map_changes else "0.6", ls="--", lw=0.6)
    ax.axhline(0.0, color="0.3", lw=0.6)
    ax.set_ylabel("pre-activation h_i")
    ax.legend(fontsize=7, loc="best")
    ax.set_title(f"{block.name or 'model'}: {analysis.spec.kind}, {len(angles)} crossing(s) over {total:.4g}°; "
                 f"{len(chosen)} of {len(flipping) or block.n} neurons drawn (largest output effect)")
    _rug_and_density(axes[1], angles, total)
    axes[1].set_xlabel("rotation angle θ from z(x), degrees" + (" (log scale)" if log else ""))
    if log:
        axes[1].set_xscale("log")
        axes[1].set_xlim(left=max(min([a for a in angles if a > 0], default=total / 1000) / 2, total / 1e6))
    fig.tight_layout()
    save(fig, filename)
