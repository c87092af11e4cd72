"""The 2-sphere through z(x), z(y), z(w): a slice of the normalization sphere (``rotate --slice W``).

``V = span(P·x, P·y, P·w)`` (3-D, inside 1⊥ for LayerNorm) meets the ε = 0 sphere in a round
2-sphere ``S_V``; neuron i meets it in a small circle, cutting it exactly when

    b'_i² < d·‖proj_V w̃_i‖²,   ‖proj_V w̃_i‖² = Σ_k (w̃_i·b_k)²/‖b_k‖²

(``b_k`` a rational orthogonal basis of V, Gram–Schmidt without normalizing): decided in rational
arithmetic here, as are the crossings of the three arcs x→y, y→w, w→x (the path engine). The
number of regions is exact when ``S_V`` is the whole sphere (LayerNorm d = 4, RMSNorm d = 3:
:func:`geomcheck.geometry.regions.count_two_sphere`); for a slice of a larger sphere it is the
number of distinct sign patterns on a sampling grid — an *estimate* (a lower bound up to
sampling: regions thinner than the grid are missed). The number of connected *pieces* of the slice
is exact whenever at most ``exact_limit`` circles cut it
(:func:`geomcheck.geometry.rotation.count_slice_pieces`, Euler's formula with the slice's own
Gram form — a 3-D subspace of ℚᵈ has no rational orthonormal basis in general).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from geomcheck.errors import DegenerateInput, InvalidInput
from geomcheck.exact.backend import dot, matvec
from geomcheck.model.block import MLPBlock
from geomcheck.search.floats import float_arrays

__all__ = ["slice_map"]


def _orthogonal_basis(vectors) -> list[tuple[Fraction, ...]]:
    basis: list[tuple[Fraction, ...]] = []
    for v in vectors:
        for b in basis:
            k = dot(v, b) / dot(b, b)
            v = tuple(a - k * c for a, c in zip(v, b))
        if not any(v):
            raise DegenerateInput("--slice: z(X), z(D|Y) and z(W) lie on one great circle (they span only a plane); "
                                  "pick a W outside their plane")
        basis.append(v)
    return basis


def _sphere_grid(resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Azimuthal-equidistant grid: (X, Y) in degrees from the centre, and the unit vectors (in the frame)."""
    t = np.linspace(-180.0, 180.0, resolution)
    X, Y = np.meshgrid(t, t)
    r = np.radians(np.hypot(X, Y))
    az = np.arctan2(Y, X)
    inside = r <= math.pi
    P = np.stack([np.cos(r), np.sin(r) * np.cos(az), np.sin(r) * np.sin(az)], axis=-1)
    return X, Y, np.where(inside[..., None], P, np.nan)


def _project(points: np.ndarray) -> np.ndarray:
    """Unit vectors (frame coordinates, centre = e₁) → azimuthal-equidistant (degrees)."""
    r = np.degrees(np.arccos(np.clip(points[..., 0], -1.0, 1.0)))
    az = np.arctan2(points[..., 2], points[..., 1])
    return np.stack([r * np.cos(az), r * np.sin(az)], axis=-1)


def slice_map(block: MLPBlock, x, y, w, resolution: int = 181, plot: str | None = None,
              exact_limit: int = 300) -> dict:
    """Region map of the slice sphere through z(x), z(y), z(w) (module docstring); optional picture."""
    from geomcheck.geometry.paths import PathSpec
    from geomcheck.geometry.rotation import arc_frame
    from geomcheck.search.paths import analyse_path_fast

    norm = block.norm
    if not norm.scales or not norm.exact_signs:
        raise InvalidInput("--slice: needs LayerNorm or RMSNorm (the slice is of the normalization sphere)")
    if resolution < 21 or resolution > 2001:
        raise InvalidInput(f"--slice-resolution: must be between 21 and 2001, got {resolution}")
    us = [norm.center(block.check_vector(v, what)) for v, what in ((x, "--base"), (y, "--toward/--to"), (w, "--slice"))]
    basis = _orthogonal_basis(us)
    f = block.folded
    d = Fraction(block.d)
    norms2 = [dot(b, b) for b in basis]
    coords = [matvec(f.weights, b) for b in basis]  # w̃_i·b_k
    kinds = {"cuts": 0, "tangent": 0, "always_on": 0, "always_off": 0, "constant_zero": 0}
    cutting = []
    for i in range(block.n):
        proj2 = sum(coords[k][i] ** 2 / norms2[k] for k in range(3))
        b2 = f.bias[i] ** 2
        if proj2 == 0 and f.bias[i] == 0:
            kinds["constant_zero"] += 1
        elif b2 < d * proj2:
            kinds["cuts"] += 1
            cutting.append(i)
        elif b2 == d * proj2:
            kinds["tangent"] += 1
        else:
            kinds["always_on" if f.bias[i] > 0 else "always_off"] += 1
    # the three arcs, exactly
    names = ("x", "y", "w")
    pts = (x, y, w)
    arcs = []
    for a, b in ((0, 1), (1, 2), (2, 0)):
        spec = PathSpec.arc(pts[a], pts[b])
        frame = arc_frame(block, spec)
        an = analyse_path_fast(block, spec)
        arcs.append({"from": names[a], "to": names[b], "angle_total": math.degrees(frame.total),
                     "crossings": len(an.crossings),
                     "map_changes": sum(1 for c in an.crossings if c.map_changes),
                     "crossing_angles": [math.degrees(frame.angle(c.at)) for c in an.crossings],
                     "_frame": frame})
    # float frame for the picture and the sampled count
    Q = np.array([[float(v) for v in b] for b in basis])
    Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    points3 = np.array([[float(dot(u, b)) / math.sqrt(float(dot(b, b))) for b in basis] for u in us])
    points3 /= np.linalg.norm(points3, axis=1, keepdims=True)
    centre = points3.sum(axis=0)
    centre = centre / np.linalg.norm(centre) if np.linalg.norm(centre) > 1e-12 else points3[0]
    # rotate the frame so that the centre of the three points is e₁
    m = np.linalg.qr(np.column_stack([centre, np.eye(3)]))[0]
    if m[:, 0] @ centre < 0:
        m = -m
    R = m.T  # frame coords → centred coords
    arrays = float_arrays(block)
    Wv = arrays.folded_w @ Q.T @ R.T * math.sqrt(block.d)  # neuron normals in centred coords (×√d)
    bv = arrays.folded_b
    X, Y, G = _sphere_grid(resolution)
    flat = G.reshape(-1, 3)
    ok = np.all(np.isfinite(flat), axis=1)
    H = flat[ok] @ Wv.T + bv
    bits = np.packbits(H > 0, axis=1)
    _, labels = np.unique(bits, axis=0, return_inverse=True)
    sampled_regions = int(labels.max()) + 1 if len(labels) else 0
    exact = None
    pieces = None
    if (block.d == 4 and norm.centers) or (block.d == 3 and not norm.centers):
        from geomcheck.geometry.regions import count_two_sphere
        from geomcheck.geometry.sphere import sphere_of

        count = count_two_sphere(sphere_of(block))
        exact = {"regions": count.regions, "pieces": count.pieces, "method": count.method}
    if len(cutting) <= exact_limit:
        from geomcheck.geometry.rotation import count_slice_pieces

        sp = count_slice_pieces([[coords[k][i] for k in range(3)] for i in cutting], [-f.bias[i] for i in cutting],
                                norms2, d)
        pieces = {"pieces": sp.pieces, "circles": sp.circles, "vertices": sp.vertices, "edges": sp.edges,
                  "components": sp.components,
                  "method": "Euler's formula on the exact circle arrangement of the slice (diagonal Gram form)"}
    out = {
        "dimension": 2,
        "neurons": kinds,
        "regions": exact["regions"] if exact else None,
        "regions_exact": exact,
        "regions_sampled": sampled_regions,
        "pieces": None if pieces is None else pieces["pieces"],
        "pieces_exact": pieces,
        "sampling": {"grid": f"{resolution}×{resolution} azimuthal-equidistant", "points": int(ok.sum())},
        "arcs": [{k: v for k, v in a.items() if k != "_frame"} for a in arcs],
        "labels": {"exact": ["neurons (cut/tangent/on/off, rational test)", "arcs.crossings", "arcs.map_changes",
                             "regions (only when the slice is the whole sphere)",
                             "pieces (connected pieces of the slice, up to exact_limit cutting circles)"],
                   "estimate": ["regions_sampled (distinct patterns on the grid)", "arcs.crossing_angles (float "
                                "angles of exact λ)"]},
    }
    if exact:
        region_text = f"{exact['regions']} regions ({exact['pieces']} pieces), exact"
    elif pieces:
        region_text = (f"{pieces['pieces']} connected pieces (exact); ≈{sampled_regions} sign patterns seen on a "
                       f"{resolution}² grid (estimate)")
    else:
        region_text = (f"≈{sampled_regions} regions seen on a {resolution}² grid (estimate; the exact count is "
                       f"computed up to {exact_limit} cutting circles)")
    out["summary"] = (f"2-sphere through z(x), z(y), z(w): {kinds['cuts']} of {block.n} neurons cut it (exact); "
                      f"{region_text}; arc crossings x→y {arcs[0]['crossings']}, y→w {arcs[1]['crossings']}, "
                      f"w→x {arcs[2]['crossings']} (exact)")
    if plot:
        _draw(block, plot, X, Y, ok, labels, Wv, bv, cutting, points3 @ R.T, arcs, out, resolution)
    return out


def _draw(block, filename, X, Y, ok, labels, Wv, bv, cutting, points, arcs, out, resolution) -> None:
    from geomcheck.plots import pyplot, save

    plt = pyplot()
    img = np.full(X.shape, np.nan)
    img.reshape(-1)[ok] = (labels * 2654435761 % 997) / 997.0  # scrambled colours, one per pattern
    fig, axes = plt.subplots(1, 2, figsize=(16, 8.3))
    tri = _project(points)
    span = max(np.ptp(tri[:, 0]), np.ptp(tri[:, 1]), 1.0)
    mid = tri.mean(axis=0)
    zoom = (mid[0] - 0.8 * span, mid[0] + 0.8 * span, mid[1] - 0.8 * span, mid[1] + 0.8 * span)
    many = len(cutting) > 60
    s = np.linspace(0, 2 * np.pi, 1441)
    circles = []
    for i in cutting:  # each cutting neuron's small circle: {p : a·p = −b}, |p| = 1
        a = Wv[i]
        na = np.linalg.norm(a)
        c = -bv[i] / na
        n = a / na
        e1 = np.cross(n, [1.0, 0, 0] if abs(n[0]) < 0.9 else [0, 1.0, 0])
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(n, e1)
        rr = math.sqrt(max(0.0, 1 - c * c))
        pr = _project(c * n + rr * (np.outer(np.cos(s), e1) + np.outer(np.sin(s), e2)))
        jump = np.hypot(*np.diff(pr, axis=0).T) > 60  # do not draw across the antipode's cut
        pr[1:][jump] = np.nan
        circles.append(pr)
    names = ("z(x)", "z(y)", "z(w)")
    colours = ("tab:red", "tab:blue", "tab:green")
    for which, ax in enumerate(axes):
        ax.imshow(img, extent=(-180, 180, -180, 180), origin="lower", cmap="tab20", alpha=0.45,
                  interpolation="nearest")
        for pr in circles:
            ax.plot(pr[:, 0], pr[:, 1], color="0.2", lw=(0.15 if which == 0 else 0.4) if many else 0.9,
                    alpha=0.35 if many else 0.7)
        for k, (a, b) in enumerate(((0, 1), (1, 2), (2, 0))):
            p, q = points[a], points[b]
            ang = math.acos(max(-1.0, min(1.0, float(p @ q))))
            e = q - (p @ q) * p
            e /= np.linalg.norm(e)
            t = np.linspace(0, ang, 400)
            pr = _project(np.outer(np.cos(t), p) + np.outer(np.sin(t), e))
            ax.plot(pr[:, 0], pr[:, 1], color=colours[k], lw=2.2,
                    label=f"{names[a]} → {names[b]}: {arcs[k]['crossings']} crossings (exact)")
            ca = np.radians(np.array(arcs[k]["crossing_angles"]))
            if len(ca) and which == 1:
                cp = _project(np.outer(np.cos(ca), p) + np.outer(np.sin(ca), e))
                ax.plot(cp[:, 0], cp[:, 1], "o", mfc="white", mec=colours[k], ms=4, mew=1.0, zorder=5)
        for k, pt in enumerate(points):
            pr = _project(pt[None, :])[0]
            ax.plot(*pr, "o", color="k", ms=6)
            ax.annotate(names[k], pr, textcoords="offset points", xytext=(6, 6), fontsize=10)
        ax.set_aspect("equal")
        if which == 0:
            ax.set_xlim(-180, 180)
            ax.set_ylim(-180, 180)
            ax.set_title("the whole slice sphere (azimuthal equidistant, degrees from the centre)", fontsize=9)
            ax.legend(fontsize=8, loc="lower left")
        else:
            ax.set_xlim(zoom[0], zoom[1])
            ax.set_ylim(zoom[2], zoom[3])
            ax.set_title("zoom on the three arcs (dots: exact crossings)", fontsize=9)
    import textwrap

    fig.suptitle(f"{block.name or 'model'}: the 2-sphere through z(x), z(y), z(w)\n"
                 + "\n".join(textwrap.wrap(out["summary"], 150)), fontsize=10)
    save(fig, filename, "--slice-plot")
