"""Pictures of the sphere partition (matplotlib, Agg backend, imported lazily).

* circle (LayerNorm d = 3, RMSNorm d = 2): the plane of the circle in an
  orthonormal basis, every neuron line ``w̃·z + b' = 0``, the circle of radius
  √d, its arcs coloured by region (the colour is the region's exact pattern;
  the arc ends are the exact boundary points, drawn at float precision).
* 2-sphere (LayerNorm d = 4, RMSNorm d = 3): the two hemispheres in orthographic
  projection, sampled points coloured by pattern.

Pictures are illustrations, never verdicts.
"""

from __future__ import annotations

import numpy as np

from geomcheck.errors import InvalidInput, MissingDependency

__all__ = ["plot_sphere"]


def _orthonormal_basis(d: int, centers: bool) -> np.ndarray:
    """Rows: an orthonormal basis of 1⊥ (or ℝᵈ)."""
    if not centers:
        return np.eye(d)
    m = np.eye(d) - 1.0 / d
    q, _ = np.linalg.qr(m[:, : d - 1])
    return q.T


def plot_sphere(block, path: str, count=None) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise MissingDependency("--plot needs matplotlib (pip install 'geomcheck[plot]')") from exc
    from geomcheck.geometry.sphere import sphere_of

    sphere = sphere_of(block)
    if sphere.dimension not in (1, 2):
        raise InvalidInput(f"--plot: pictures exist for circles and 2-spheres; this sphere has dimension {sphere.dimension}")
    W = np.array([[float(v) for v in row] for row in sphere.weights])
    b = np.array([float(v) for v in sphere.bias])
    basis = _orthonormal_basis(sphere.d, sphere.centers)
    R = np.sqrt(sphere.d)
    known = sorted(count.patterns) if count is not None else []
    cmap = plt.get_cmap("tab20")

    def colour(pattern: str):
        if pattern not in known:
            known.append(pattern)
        return cmap(known.index(pattern) % 20)

    def patterns_of(Z):
        H = Z @ W.T + b
        return ["".join("+" if v > 0 else "-" if v < 0 else "0" for v in row) for row in H]

    if sphere.dimension == 1:
        fig, ax = plt.subplots(figsize=(7, 7))
        Wc = W @ basis.T  # neuron normals in plane coordinates
        lim = 2.2 * R
        t = np.linspace(-lim, lim, 2)
        for i, (w, bi) in enumerate(zip(Wc, b)):
            if not w.any():
                continue
            # points with w·p = −b: p0 + s·w⊥
            p0 = -bi * w / (w @ w)
            perp = np.array([-w[1], w[0]]) / np.linalg.norm(w)
            pts = p0[None, :] + np.outer(t * 3, perp)
            ax.plot(pts[:, 0], pts[:, 1], color="0.45", lw=0.8, zorder=1)
            label_at = p0 + perp * (R * 1.15) if (p0 @ p0) < (1.5 * R) ** 2 else p0
            ax.annotate(f"{i}", label_at, fontsize=8, color="0.3")
        theta = np.linspace(0, 2 * np.pi, 3600, endpoint=False)
        plane = np.stack([R * np.cos(theta), R * np.sin(theta)], axis=1)
        pats = patterns_of(plane @ basis)
        start = 0
        for k in range(1, len(theta) + 1):
            if k == len(theta) or pats[k] != pats[start]:
                seg = plane[start:k + 1] if k < len(theta) else np.vstack([plane[start:], plane[:1]])
                ax.plot(seg[:, 0], seg[:, 1], color=colour(pats[start]), lw=5, solid_capstyle="butt", zorder=2)
                start = k
        handles = [plt.Line2D([], [], color=colour(p), lw=5, label=p) for p in known]
        ax.legend(handles=handles, fontsize=7, loc="upper right", title="region (pattern)")
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        where = "the plane 1⊥ (orthonormal basis)" if sphere.centers else "R²"
        ax.set_title(f"{block.name}: {len(Wc)} neuron lines in {where},\ncircle ‖z‖² = {sphere.d}"
                     + (f": {count.regions} regions, {count.pieces} arcs" if count is not None else ""))
    else:
        n_pts = 40000
        k = np.arange(n_pts) + 0.5
        phi = np.arccos(1 - 2 * k / n_pts)
        th = np.pi * (1 + 5 ** 0.5) * k
        P = np.stack([np.cos(th) * np.sin(phi), np.sin(th) * np.sin(phi), np.cos(phi)], axis=1) * R
        pats = patterns_of(P @ basis)
        cols = np.array([colour(p) for p in pats])
        fig, axes = plt.subplots(1, 2, figsize=(11, 5.5))
        for ax, hemi, name in ((axes[0], P[:, 2] >= 0, "upper"), (axes[1], P[:, 2] < 0, "lower")):
            ax.scatter(P[hemi, 0], P[hemi, 1], c=cols[hemi], s=3, linewidths=0)
            ax.set_aspect("equal")
            ax.set_title(f"{name} hemisphere (orthographic)")
            ax.axis("off")
        fig.suptitle(f"{block.name}: the 2-sphere ‖z‖² = {sphere.d}, coloured by region"
                     + (f" ({count.regions} regions, {count.pieces} pieces)" if count is not None else ""))
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
