"""Pictures of the sphere partition (matplotlib, Agg backend, imported lazily).

* circle (LayerNorm d = 3, RMSNorm d = 2): the plane of the circle in an
  orthonormal basis, every neuron line ``w̃·z + b' = 0``, the circle of radius
  √d, its arcs coloured by region (the colour is the region's exact pattern;
  the arc ends are the exact boundary points, drawn at float precision).
* 2-sphere (LayerNorm d = 4, RMSNorm d = 3): the two hemispheres in orthographic
  projection, shaded, every pixel coloured by its region (distinct colours, a
  label R1… on each region and a legend with its sign pattern), the neurons'
  small circles drawn as boundaries.

Pictures are illustrations, never verdicts.
"""

from __future__ import annotations

import numpy as np

from geomcheck.errors import InvalidInput

__all__ = ["plot_sphere"]


def _orthonormal_basis(d: int, centers: bool) -> np.ndarray:
    """Rows: an orthonormal basis of 1⊥ (or ℝᵈ)."""
    if not centers:
        return np.eye(d)
    m = np.eye(d) - 1.0 / d
    q, _ = np.linalg.qr(m[:, : d - 1])
    return q.T


def distinct_colours(k: int) -> list[tuple[float, float, float]]:
    """``k`` well-separated colours: golden-ratio hue steps, alternating saturation and brightness."""
    import colorsys

    out = []
    for i in range(k):
        hue = (0.08 + i * 0.6180339887) % 1.0
        sat = (0.85, 0.55, 0.70)[i % 3]
        val = (0.95, 0.80, 0.65)[(i // 3) % 3]
        out.append(colorsys.hsv_to_rgb(hue, sat, val))
    return out


def _pattern_label(pattern: str, width: int = 28) -> str:
    return pattern if len(pattern) <= width else pattern[:width - 1] + "…"


def plot_sphere(block, path: str, count=None) -> None:
    from geomcheck.geometry.sphere import sphere_of
    from geomcheck.plots import pyplot, save

    plt = pyplot()
    sphere = sphere_of(block)
    if sphere.dimension not in (1, 2):
        raise InvalidInput(f"--plot: pictures exist for circles and 2-spheres; this sphere has dimension {sphere.dimension}")
    W = np.array([[float(v) for v in row] for row in sphere.weights])
    b = np.array([float(v) for v in sphere.bias])
    basis = _orthonormal_basis(sphere.d, sphere.centers)
    R = np.sqrt(sphere.d)
    known = sorted(count.patterns) if count is not None else []

    def patterns_of(Z):
        H = Z @ W.T + b
        return ["".join("+" if v > 0 else "-" if v < 0 else "0" for v in row) for row in H]

    def index_of(pattern: str) -> int:
        if pattern not in known:
            known.append(pattern)
        return known.index(pattern)

    norm_name = {"layernorm": "LayerNorm", "rmsnorm": "RMSNorm"}.get(block.norm.kind, block.norm.kind)
    where = "in the plane 1⊥ (orthonormal basis)" if sphere.centers else "in ℝᵈ"
    if sphere.dimension == 1:
        fig, ax = plt.subplots(figsize=(7.5, 7))
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
            ax.annotate(f"n{i}", label_at, fontsize=8, color="0.3")
        theta = np.linspace(0, 2 * np.pi, 3600, endpoint=False)
        plane = np.stack([R * np.cos(theta), R * np.sin(theta)], axis=1)
        pats = patterns_of(plane @ basis)
        segments = []
        start = 0
        for k in range(1, len(theta) + 1):
            if k == len(theta) or pats[k] != pats[start]:
                seg = plane[start:k + 1] if k < len(theta) else np.vstack([plane[start:], plane[:1]])
                segments.append((index_of(pats[start]), seg))
                start = k
        colours = distinct_colours(len(known))
        for j, seg in segments:
            ax.plot(seg[:, 0], seg[:, 1], color=colours[j], lw=6, solid_capstyle="butt", zorder=2)
        handles = [plt.Line2D([], [], color=colours[j], lw=6, label=f"R{j + 1}: {_pattern_label(p)}")
                   for j, p in enumerate(known)]
        ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  title="region: sign pattern", ncol=1 + len(handles) // 30)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_xlabel("first basis vector of the plane")
        ax.set_ylabel("second basis vector")
        ax.set_title(f"{block.name} ({norm_name}, d = {block.d}, n = {block.n}): regions of the circle ‖z‖² = {sphere.d} "
                     f"{where}" + (f"\n{count.regions} regions, {count.pieces} arcs; grey lines: neuron boundaries"
                                   if count is not None else ""), fontsize=10)
        save(fig, path)
        return

    # 2-sphere: two shaded hemispheres in orthographic projection, region colours, boundaries, labels
    res = 520
    xs = np.linspace(-R, R, res)
    X, Y = np.meshgrid(xs, xs[::-1])
    inside = X ** 2 + Y ** 2 <= R * R
    Zc = np.sqrt(np.clip(R * R - X ** 2 - Y ** 2, 0.0, None))
    hemis = []
    for sign in (1.0, -1.0):
        # the lower hemisphere is seen from below (x mirrored), so both are views from outside the sphere
        P = np.stack([X * sign, Y, sign * Zc], axis=-1)
        flat = P[inside]
        ids = np.full(X.shape, -1)
        ids[inside] = [index_of(p) for p in patterns_of(flat @ basis)]
        H = np.full(X.shape + (len(b),), np.nan)
        H[inside] = flat @ basis @ W.T + b
        hemis.append((sign, ids, H))
    colours = np.array(distinct_colours(max(1, len(known))))
    light = np.array([-0.45, 0.55, 0.70])
    light /= np.linalg.norm(light)
    normal = np.stack([X, Y, Zc], axis=-1) / R
    shade = 0.55 + 0.45 * np.clip(normal @ light, 0.0, 1.0)
    legend_cols = 1 + len(known) // 26
    fig, axes = plt.subplots(1, 2, figsize=(12 + 2.2 * legend_cols, 6.2))
    for ax, (sign, ids, H), name in zip(axes, hemis, ("upper hemisphere (seen from +z)",
                                                       "lower hemisphere (seen from −z)")):
        img = np.ones(X.shape + (4,))
        img[..., 3] = 0.0
        rgb = colours[np.clip(ids, 0, None)] * shade[..., None]
        img[inside, :3] = rgb[inside]
        img[inside, 3] = 1.0
        ax.imshow(img, extent=(-R, R, -R, R), interpolation="nearest")
        for i in range(H.shape[-1]):
            h = H[..., i]
            if np.nanmin(h) < 0 < np.nanmax(h):
                ax.contour(X, Y, h, levels=[0.0], colors="0.15", linewidths=0.7)
        ax.add_patch(plt.Circle((0, 0), R, fill=False, color="0.2", lw=1.0))
        for j in np.unique(ids[ids >= 0]):
            mask = ids == j
            if mask.sum() < res * res * 0.002:
                continue
            ax.annotate(f"R{j + 1}", (float(X[mask].mean()), float(Y[mask].mean())), ha="center", va="center",
                        fontsize=8, fontweight="bold", color="black",
                        bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.6))
        ax.set_title(name, fontsize=10)
        ax.set_xlim(-1.05 * R, 1.05 * R)
        ax.set_ylim(-1.05 * R, 1.05 * R)
        ax.set_aspect("equal")
        ax.axis("off")
    handles = [plt.matplotlib.patches.Patch(color=colours[j], label=f"R{j + 1}: {_pattern_label(p)}")
               for j, p in enumerate(known)]
    axes[1].legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                   title="region: sign pattern", ncol=legend_cols)
    fig.suptitle(f"{block.name} ({norm_name}, d = {block.d}, n = {block.n}): the 2-sphere ‖z‖² = {sphere.d} {where}, "
                 f"coloured by region" + (f": {count.regions} regions (exact count), {count.pieces} pieces"
                                          if count is not None else "")
                 + "\ndark lines: neuron boundaries (small circles); labels R1… match the legend", fontsize=10)
    save(fig, path)
