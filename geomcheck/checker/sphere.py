"""Checker kinds for the normalization sphere (standard library only; shares no code).

Conventions. The folded block is ``h_i = w̃_i·z + b'_i`` (w̃, b' folded by the
checker core). For a normalized model (ε is ignored: statements are about the
ε = 0 sphere) ``S = {z ∈ A : ‖z‖² = d}`` with A = 1⊥ (LayerNorm) or ℝᵈ
(RMSNorm). A pattern is a string over ``+ - *`` (``*``: no condition); it asks
for ``s_i·h_i(z) > 0`` for every non-``*`` symbol.

kind ``sphere-feasible``::

    "claim": {"pattern": "+-*+", "on": "sphere" | "space"},
    "witness": ["p/q", ...]                      # a point z, or
    "direction": ["p/q", ...]                    # on = sphere only: z = √d·y/‖y‖

  Checked: ``on = sphere``: the model is normalized; a witness z lies in A and
  ``‖z‖² = d`` exactly, a direction y lies in A and is nonzero; every signed
  neuron has ``s_i·h_i > 0`` — for a direction, ``sign(√d·(w̃_i·y) + b'_i·√‖y‖²)``
  by comparing squares. ``on = space``: z (in A when normalized) has the pattern.

kind ``sphere-infeasible``::

    "claim": {"pattern": "...", "on": "sphere" | "space"},
    "multipliers": {"i": "y_i", ...}

  With ``a_i = −s_i·w̃_i``, ``g_i = s_i·b'_i`` the pattern is ``a_i·z < g_i``.
  Checked: every y_i ≥ 0 on a signed neuron, some y_i > 0;
  ``r = P·Σ y_i a_i``, ``G = Σ y_i g_i``;
  ``on = space``: r = 0 and G ≤ 0 (then 0 = r·z < G ≤ 0 for a feasible z: Farkas);
  ``on = sphere``: G ≤ 0 and G² ≥ d·‖r‖² (then, for z ∈ S in the region,
  r·z < G ≤ −√d‖r‖ ≤ r·z by Cauchy–Schwarz, since P·z = z and ‖z‖ = √d).

  Or, for a region that lies *inside* the ball, evidence ``"inside_ball":
  [{"direction": c, "multipliers": {...}}, ...]`` (see :func:`_check_inside_ball`).

kind ``sphere-neurons``::

    "claim": {"kinds": ["cuts" | "tangent" | "always_on" | "always_off" | "constant_zero", ...]}

  Checked: for each neuron, w̃_i = 0 ⟺ constant_zero, else the sign of
  ``b'_i² − d·‖w̃_i‖²`` (< 0 cuts, = 0 tangent, > 0 always_on/off by sign b').

kind ``circle-regions`` (dim S = 1: LayerNorm d = 3 or RMSNorm d = 2)::

    "claim": {"regions": N, "pieces": P},
    "arcs": [{"direction": ["p/q", ...], "pattern": "+-+-"}, ...]   # in angular order

  Checked: each direction y is in A, nonzero, off every boundary, and has the
  stated pattern (exact signs at √d·y/‖y‖). The directions go once around the
  circle in strictly increasing angle (the number of wraps past angle 0 is
  exactly 1, from exact half-plane and cross-product signs). Boundary points:
  a cutting neuron (b'² < d‖w̃‖²) has two and changes sign at each, so it must
  change symbol between exactly two consecutive directions — one point in each
  of those gaps; a tangent neuron's point −b'·w̃/‖w̃‖² is rational and is located
  in its gap directly. Every gap must hold at least one point, and all points
  in one gap must be the same point (same line, or the two lines' rational
  intersection lies on S inside the gap). Then each gap holds exactly one
  boundary point, so the P directions lie one in each of the P arcs: P pieces,
  and N = the number of distinct patterns among them.
"""

from __future__ import annotations

from fractions import Fraction

from geomcheck.checker.core import (CheckedModel, Rejected, rational, rational_vector, register, require, sign,
                                    sign_sqrt_combination)

ZERO = Fraction(0)


def _dot(a, b):
    return sum((x * y for x, y in zip(a, b)), ZERO)


def _pattern(cert: dict, model: CheckedModel) -> str:
    pattern = cert["claim"]["pattern"]
    require(isinstance(pattern, str) and len(pattern) == model.n and set(pattern) <= set("+-*"),
            "claim.pattern", f"expected {model.n} symbols from '+-*'")
    return pattern


def _signed(pattern: str):
    return [(i, 1 if c == "+" else -1) for i, c in enumerate(pattern) if c != "*"]


def _in_ambient(model: CheckedModel, z) -> bool:
    return model.kind != "layernorm" or sum(z, ZERO) == 0


def _h(model: CheckedModel, i: int, z) -> Fraction:
    return _dot(model.folded_w[i], z) + model.folded_b[i]


def _signs_along(model: CheckedModel, y):
    """Exact signs at the sphere point √d·y/‖y‖."""
    n2 = _dot(y, y)
    return [sign_sqrt_combination(_dot(w, y), Fraction(model.d), b, n2) for w, b in zip(model.folded_w, model.folded_b)]


@register("sphere-feasible")
def check_feasible(cert: dict, model: CheckedModel) -> str:
    pattern = _pattern(cert, model)
    on = cert["claim"].get("on")
    require(on in ("sphere", "space"), "claim.on", "must be 'sphere' or 'space'")
    if on == "sphere":
        require(model.normalized, "claim.on", "the model has no normalization, hence no sphere")
    if "direction" in cert:
        require(on == "sphere", "direction", "a direction witness is for the sphere only")
        y = rational_vector(cert["direction"], "direction", model.d)
        require(_in_ambient(model, y), "direction", "does not sum to 0 (LayerNorm: must lie in 1⊥)")
        require(any(y), "direction", "is zero")
        signs = _signs_along(model, y)
        what = "√d·y/‖y‖"
    else:
        z = rational_vector(cert["witness"], "witness", model.d)
        require(_in_ambient(model, z) or not model.normalized, "witness", "does not sum to 0 (LayerNorm: must lie in 1⊥)")
        if on == "sphere":
            require(_dot(z, z) == model.d, "witness", f"‖z‖² = {_dot(z, z)} ≠ d = {model.d}: not on the sphere")
        signs = [sign(_h(model, i, z)) for i in range(model.n)]
        what = "z"
    for i, s in _signed(pattern):
        require(signs[i] == s, "witness", f"neuron {i} has sign {signs[i]} at {what}, the pattern says {pattern[i]}")
    return f"pattern {pattern} is realised on the {on} by an exact witness"


@register("sphere-infeasible")
def check_infeasible(cert: dict, model: CheckedModel) -> str:
    pattern = _pattern(cert, model)
    on = cert["claim"].get("on")
    require(on in ("sphere", "space"), "claim.on", "must be 'sphere' or 'space'")
    if on == "sphere":
        require(model.normalized, "claim.on", "the model has no normalization, hence no sphere")
    signs = dict(_signed(pattern))
    if "inside_ball" in cert:
        require(on == "sphere", "inside_ball", "is evidence for the sphere only")
        return _check_inside_ball(cert, model, pattern, signs)
    raw = cert["multipliers"]
    require(isinstance(raw, dict) and raw, "multipliers", "expected a non-empty object {neuron: y}")
    y = {}
    for key, value in raw.items():
        i = int(key)
        require(i in signs, "multipliers", f"neuron {i} is not signed in the pattern")
        y[i] = rational(value, f"multipliers[{key}]")
        require(y[i] >= 0, "multipliers", f"y_{i} < 0")
    require(any(v > 0 for v in y.values()), "multipliers", "all zero")
    r = [-sum((v * signs[i] * model.folded_w[i][k] for i, v in y.items()), ZERO) for k in range(model.d)]
    r = list(model.centre(r))
    G = sum((v * signs[i] * model.folded_b[i] for i, v in y.items()), ZERO)
    require(G <= 0, "multipliers", f"Σ y_i s_i b'_i = {G} > 0")
    if on == "space":
        require(not any(r), "multipliers", "Σ y_i s_i w̃_i ≠ 0")
        return f"pattern {pattern} is empty in the whole space (Farkas)"
    require(G * G >= model.d * _dot(r, r), "multipliers", "(yᵀg)² < d·‖r‖²: the ball certificate fails")
    return f"pattern {pattern} does not occur on the sphere (ball certificate)"


def _solve(rows, rhs):
    """Unique solution of a square system (Gauss–Jordan over ℚ), or None if singular."""
    n = len(rows)
    A = [list(r) + [v] for r, v in zip(rows, rhs)]
    for c in range(n):
        p = next((i for i in range(c, n) if A[i][c] != 0), None)
        if p is None:
            return None
        A[c], A[p] = A[p], A[c]
        A[c] = [v / A[c][c] for v in A[c]]
        for i in range(n):
            if i != c and A[i][c] != 0:
                f = A[i][c]
                A[i] = [a - f * b for a, b in zip(A[i], A[c])]
    return [A[i][n] for i in range(n)]


def _rank(vectors) -> int:
    rows = [list(v) for v in vectors]
    rank = 0
    for col in range(len(rows[0]) if rows else 0):
        p = next((i for i in range(rank, len(rows)) if rows[i][col] != 0), None)
        if p is None:
            continue
        rows[rank], rows[p] = rows[p], rows[rank]
        for i in range(len(rows)):
            if i != rank and rows[i][col] != 0:
                f = rows[i][col] / rows[rank][col]
                rows[i] = [a - f * b for a, b in zip(rows[i], rows[rank])]
        rank += 1
    return rank


def _combinations(items, k):
    """All k-subsets in order (itertools is not on the checker's import list)."""
    if k == 0:
        yield []
        return
    for j in range(len(items) - k + 1):
        for rest in _combinations(items[j + 1:], k - 1):
            yield [items[j]] + rest


def _check_inside_ball(cert: dict, model: CheckedModel, pattern: str, signs: dict) -> str:
    """Evidence ``inside_ball``: the closed region {a_i·z ≤ g_i} ∩ A is bounded and its vertices lie in the ball.

    Bounded: entries {"direction": c, "multipliers": y} with y ≥ 0 and
    P·Σ y_i a_i = c; the c's are closed under negation and span A. A recession
    direction r ∈ A (a_i·r ≤ 0 ∀i) then has c·r ≤ 0 for c and −c, so r ⊥ A, r = 0.
    Vertices: the checker enumerates every subset of dim A constraints (plus
    Σz = 0 for LayerNorm), solves it exactly, keeps the feasible solutions and
    requires ‖z‖² ≤ d for each. A bounded polyhedron is the hull of its
    vertices, and ‖·‖² is strictly convex, so the open region lies in the open
    ball and misses S.
    """
    a = {i: tuple(-s * x for x in model.folded_w[i]) for i, s in signs.items()}
    g = {i: s * model.folded_b[i] for i, s in signs.items()}
    dim = model.d - 1 if model.kind == "layernorm" else model.d
    entries = cert["inside_ball"]
    require(isinstance(entries, list) and entries, "inside_ball", "expected a non-empty list")
    directions = []
    for k, entry in enumerate(entries):
        c = rational_vector(entry["direction"], f"inside_ball[{k}].direction", model.d)
        require(_in_ambient(model, c), f"inside_ball[{k}].direction", "must lie in 1⊥")
        y = {}
        for key, value in entry["multipliers"].items():
            i = int(key)
            require(i in a, f"inside_ball[{k}]", f"neuron {i} is not signed in the pattern")
            y[i] = rational(value, f"inside_ball[{k}].multipliers[{key}]")
            require(y[i] >= 0, f"inside_ball[{k}]", f"y_{i} < 0")
        total = model.centre([sum((v * a[i][col] for i, v in y.items()), ZERO) for col in range(model.d)])
        require(tuple(total) == c, f"inside_ball[{k}]", "P·Σ y_i a_i differs from the direction")
        directions.append(c)
    require(all(tuple(-x for x in c) in directions for c in directions), "inside_ball", "directions not closed under negation")
    require(_rank(directions) == dim, "inside_ball", "the directions do not span the space: boundedness not shown")
    extra = [((Fraction(1),) * model.d, ZERO)] if model.kind == "layernorm" else []
    vertices = 0
    for subset in _combinations(sorted(a), dim):
        z = _solve([a[i] for i in subset] + [r for r, _ in extra], [g[i] for i in subset] + [v for _, v in extra])
        if z is None or any(_dot(a[i], z) > g[i] for i in a):
            continue
        vertices += 1
        require(_dot(z, z) <= model.d, "inside_ball", f"vertex {z} lies outside the ball")
    return f"pattern {pattern} lies inside the ball ({vertices} vertex systems feasible), so it misses the sphere"


@register("sphere-neurons")
def check_neurons(cert: dict, model: CheckedModel) -> str:
    require(model.normalized, "model", "the model has no normalization, hence no sphere")
    kinds = cert["claim"]["kinds"]
    require(isinstance(kinds, list) and len(kinds) == model.n, "claim.kinds", f"expected {model.n} entries")
    for i, (w, b) in enumerate(zip(model.folded_w, model.folded_b)):
        n2 = _dot(w, w)
        if n2 == 0:
            truth = "constant_zero"
        else:
            gap = b * b - model.d * n2
            truth = "cuts" if gap < 0 else "tangent" if gap == 0 else ("always_on" if b > 0 else "always_off")
        require(kinds[i] == truth, f"claim.kinds[{i}]", f"neuron {i} is {truth}, the claim says {kinds[i]!r}")
    return f"classification of {model.n} neurons on the sphere"


# ------------------------------------------------------------------ circle-regions
def _half(v) -> int:
    """Half-plane of a 2-vector (A, B): 0 for θ ∈ [0, π), 1 for [π, 2π)."""
    A, B = v
    return 0 if B > 0 or (B == 0 and A > 0) else 1


def _cross(a, b) -> Fraction:
    return a[0] * b[1] - a[1] * b[0]


def _angle_le(b, a) -> bool:
    """θ_b ≤ θ_a for angles in [0, 2π)."""
    if _half(b) != _half(a):
        return _half(b) < _half(a)
    return _cross(a, b) <= 0  # same half: b is counter-clockwise of a iff cross > 0


def _strictly_inside(a, c, t) -> bool:
    """t lies on the open counter-clockwise arc from a to c (a, c distinct directions; a = c: full turn)."""
    if _cross(a, c) == 0 and _half(a) == _half(c):
        return _cross(a, t) != 0 or _half(a) != _half(t)
    if _cross(a, c) > 0:
        return _cross(a, t) > 0 and _cross(t, c) > 0
    if _cross(a, c) < 0:  # more than half a turn: the complement is the closed short arc c → a
        return not (_cross(c, t) >= 0 and _cross(t, a) >= 0)
    return _cross(a, t) > 0  # antipodal endpoints: the half-plane to the left of a


@register("circle-regions")
def check_circle_regions(cert: dict, model: CheckedModel) -> str:
    require(model.normalized, "model", "the model has no normalization, hence no sphere")
    dim = model.d - 1 if model.kind == "layernorm" else model.d
    require(dim == 2, "model", "circle-regions needs a circle (LayerNorm d = 3 or RMSNorm d = 2)")
    if model.kind == "layernorm":  # an orthogonal basis e1, e2 of the plane A
        e1, e2 = (Fraction(1), Fraction(-1), ZERO), (Fraction(1), Fraction(1), Fraction(-2))
    else:
        e1, e2 = (Fraction(1), ZERO), (ZERO, Fraction(1))

    def coords(y):
        return (_dot(y, e1), _dot(y, e2))  # positive rescaling of each axis keeps the angular order

    arcs = cert["arcs"]
    require(isinstance(arcs, list) and arcs, "arcs", "expected a non-empty list")
    dirs, pats = [], []
    for k, arc in enumerate(arcs):
        y = rational_vector(arc["direction"], f"arcs[{k}].direction", model.d)
        require(_in_ambient(model, y) and any(y), f"arcs[{k}].direction", "must be nonzero and in the plane")
        signs = _signs_along(model, y)
        for i, sg in enumerate(signs):
            require(sg != 0 or (not any(model.folded_w[i]) and model.folded_b[i] == 0),
                    f"arcs[{k}]", f"the direction lies on neuron {i}'s boundary")
        pattern = "".join("+" if sg > 0 else "-" if sg < 0 else "0" for sg in signs)
        require(arc["pattern"] == pattern, f"arcs[{k}].pattern", f"the direction has pattern {pattern}")
        dirs.append(coords(y))
        pats.append(pattern)
    m = len(dirs)
    for k in range(m):
        a, b = dirs[k], dirs[(k + 1) % m]
        require(m == 1 or _cross(a, b) != 0 or _half(a) != _half(b), "arcs", f"arcs {k}, {(k + 1) % m} point the same way")
    wraps = sum(_angle_le(dirs[(k + 1) % m], dirs[k]) for k in range(m))
    require(wraps == 1, "arcs", "the directions do not go once around the circle in increasing angle")
    # boundary points on S: two per cutting neuron (its sign changes at each), one per tangent neuron
    d = Fraction(model.d)
    points_in_gap = [[] for _ in range(m)]  # (neuron, rational point or None when irrational)
    for i, (w, b) in enumerate(zip(model.folded_w, model.folded_b)):
        n2 = _dot(w, w)
        if n2 == 0 or b * b > d * n2:
            continue
        if b * b == d * n2:  # tangent: the rational point −b'·w̃/‖w̃‖²
            t = tuple(-b * x / n2 for x in w)
            gaps = [k for k in range(m) if _strictly_inside(dirs[k], dirs[(k + 1) % m], coords(t))]
            require(len(gaps) == 1, f"neuron {i}", "its tangent point is not inside exactly one arc gap")
            points_in_gap[gaps[0]].append((i, t))
            continue
        flips = [k for k in range(m) if pats[k][i] != pats[(k + 1) % m][i]]
        # the sign changes exactly at the 2 points, so 2 flips put one point in each of 2 gaps
        require(len(flips) == 2, f"neuron {i}", f"cuts the circle (2 points) but changes sign {len(flips)} times")
        for k in flips:
            points_in_gap[k].append((i, None))
    if m == 1:
        pts = points_in_gap[0]
        require(all(p is not None for _, p in pts) and len({p for _, p in pts}) <= 1, "arcs",
                "one arc listed but the boundary has several points")
    for k, pts in enumerate(points_in_gap if m > 1 else []):
        require(pts, "arcs", f"no boundary point between arcs {k} and {(k + 1) % m}: one piece listed twice")
        # all boundary points in one gap must be one point, else a piece between them is missing
        i0, p0 = pts[0]
        for j, pj in pts[1:]:
            wi, bi, wj, bj = model.folded_w[i0], model.folded_b[i0], model.folded_w[j], model.folded_b[j]
            lam = next((y / x for x, y in zip(wi, wj) if x != 0), None)
            if lam and all(y == lam * x for x, y in zip(wi, wj)) and bj == lam * bi:
                continue  # the same line
            point = p0 if p0 is not None else pj
            if point is None:  # the two lines meet at z = α·e1 + β·e2 with w·z = −b' for both
                A = ((_dot(wi, e1), _dot(wi, e2)), (_dot(wj, e1), _dot(wj, e2)))
                det = A[0][0] * A[1][1] - A[0][1] * A[1][0]
                require(det != 0, "arcs", f"neurons {i0}, {j} flip in one gap but their lines are parallel")
                al, be = (-bi * A[1][1] + bj * A[0][1]) / det, (-bj * A[0][0] + bi * A[1][0]) / det
                point = tuple(al * x + be * y for x, y in zip(e1, e2))
            require(_dot(point, point) == d and _h(model, i0, point) == 0 and _h(model, j, point) == 0
                    and _strictly_inside(dirs[k], dirs[(k + 1) % m], coords(point)), "arcs",
                    f"neurons {i0} and {j} change sign at different points between arcs {k} and {(k + 1) % m}")
    regions = len(set(pats))
    claim = cert["claim"]
    require(claim.get("pieces") == m, "claim.pieces", f"{m} arcs listed, the claim says {claim.get('pieces')}")
    require(claim.get("regions") == regions, "claim.regions", f"{regions} distinct patterns, the claim says {claim.get('regions')}")
    return f"{regions} regions in {m} pieces on the circle"


# ------------------------------------------------------------------ sphere-cap
def _sign_a_b_sqrt(a: Fraction, b: Fraction, c: Fraction) -> int:
    """sign(a + b·√c), c ≥ 0, by comparing squares."""
    sa, sb = sign(a), (sign(b) if c else 0)
    if sb == 0 or sa == sb:
        return sa or sb
    if sa == 0:
        return sb
    return sa * sign(a * a - b * b * c)


def _sign3(alpha: Fraction, beta: Fraction, d1: Fraction, gamma: Fraction, d2: Fraction) -> int:
    """sign(α + β√d1 + γ√d2): if α and S = β√d1 + γ√d2 disagree, compare α² with
    S² = β²d1 + γ²d2 + 2βγ√(d1·d2)."""
    s_rest = sign_sqrt_combination(beta, d1, gamma, d2)
    s_alpha = sign(alpha)
    if s_rest == 0 or s_alpha == s_rest:
        return s_alpha or s_rest
    if s_alpha == 0:
        return s_rest
    return s_alpha * _sign_a_b_sqrt(alpha * alpha - beta * beta * d1 - gamma * gamma * d2, -2 * beta * gamma, d1 * d2)


@register("sphere-cap")
def check_cap(cert: dict, model: CheckedModel) -> str:
    """kind ``sphere-cap``: ``claim = {"direction": v, "nearest": [i, …], "cos": C, "constant": bool}``.

    With u = P·v, M = d‖u‖², and for each neuron with a boundary on S
    (w̃_i ≠ 0, b'_i² ≤ d‖w̃_i‖²): ``alpha_i = −(u·w̃_i)b'_i/‖w̃_i‖²``,
    ``beta_i = (1 − cos²α_i)(1 − cos²ρ_i)`` with cos²α_i = (u·w̃_i)²/(‖u‖²‖w̃_i‖²),
    cos²ρ_i = b'_i²/(d‖w̃_i‖²). The angular distance δ_i from û to neuron i's
    boundary has ``√M·cos δ_i = alpha_i + √(beta_i·M)`` (cos(α − ρ), both sines ≥ 0).
    Checked: the ``nearest`` neurons have equal cos δ, every other boundary
    neuron a strictly smaller one (a larger δ); and ``constant`` is true iff
    ``C·√M − alpha_i − √(beta_i·M) > 0`` for every boundary neuron (the closed cap
    of angle arccos C misses every boundary) — optional when "cos" is absent.
    """
    require(model.normalized, "model", "the model has no normalization, hence no sphere")
    claim = cert["claim"]
    v = rational_vector(claim["direction"], "claim.direction", model.d)
    u = model.centre(v)
    u2 = _dot(u, u)
    require(u2 > 0, "claim.direction", "projects to 0: no point on the sphere")
    d = Fraction(model.d)
    M = d * u2
    terms = {}
    for i, (w, b) in enumerate(zip(model.folded_w, model.folded_b)):
        n2 = _dot(w, w)
        if n2 == 0 or b * b > d * n2:
            continue
        uw = _dot(u, w)
        terms[i] = (-uw * b / n2, (1 - uw * uw / (u2 * n2)) * (1 - b * b / (d * n2)))
    nearest = claim["nearest"]
    require(isinstance(nearest, list) and all(i in terms for i in nearest) and (nearest or not terms),
            "claim.nearest", "must list neurons with a boundary on the sphere")
    if nearest:
        a0, b0 = terms[nearest[0]]
        for i, (a, bb) in terms.items():
            c = _sign3(a - a0, Fraction(1), bb * M, Fraction(-1), b0 * M)  # sign(cos δ_i − cos δ_0)·√M
            if i in nearest:
                require(c == 0, "claim.nearest", f"neuron {i} is not at the same distance as neuron {nearest[0]}")
            else:
                require(c < 0, "claim.nearest", f"neuron {i} is at least as close as neuron {nearest[0]}")
    if "cos" in claim:
        C = rational(claim["cos"], "claim.cos")
        require(-1 <= C <= 1, "claim.cos", "must lie in [-1, 1]")
        constant = all(_sign3(-a, C, M, Fraction(-1), bb * M) > 0 for a, bb in terms.values())
        require(claim.get("constant") is constant, "claim.constant",
                f"the cap with cos = {C} is {'' if constant else 'not '}region-constant")
    return f"cap around the direction: nearest boundary neuron(s) {nearest}" + (
        f", cap with cos = {claim['cos']} {'is' if claim.get('constant') else 'is not'} region-constant" if "cos" in claim else "")


# ------------------------------------------------------------------ sphere-regions (by exhaustion)
def _covers(partial: str, full: str) -> bool:
    return all(p == "*" or p == f for p, f in zip(partial, full))


def _all_patterns(n: int):
    """Every pattern in {+, -}ⁿ, in lexicographic order ('+' < '-')."""
    if n == 0:
        yield ""
        return
    for rest in _all_patterns(n - 1):
        yield "+" + rest
        yield "-" + rest


@register("sphere-regions")
def check_regions(cert: dict, model: CheckedModel) -> str:
    """kind ``sphere-regions``: the number of sign patterns realised on S, by exhaustion (n ≤ 16).

    ``claim = {"regions": N}``; ``"feasible": [{"pattern": "+-+", "witness" | "direction": …}]``
    (full patterns, each checked as a ``sphere-feasible`` certificate on the sphere);
    ``"infeasible": [{"pattern": "+*-", "multipliers" | "inside_ball": …}]`` (patterns
    with ``*``, each checked as a ``sphere-infeasible`` certificate: every completion
    of it is then absent). Checked: every s ∈ {+,−}ⁿ is feasible-listed or covered
    by a refuted pattern, and N is the number of feasible ones. (A neuron that is
    identically 0 on S would make every pattern infeasible; such models count 0.)
    """
    require(model.normalized, "model", "the model has no normalization, hence no sphere")
    require(model.n <= 16, "model", "exhaustive region certificates are for n ≤ 16")
    feasible = set()
    for k, entry in enumerate(cert["feasible"]):
        sub = {"claim": {"pattern": entry["pattern"], "on": "sphere"}}
        for key in ("witness", "direction"):
            if key in entry:
                sub[key] = entry[key]
        require("*" not in entry["pattern"], f"feasible[{k}]", "feasible patterns must be full")
        try:
            check_feasible(sub, model)
        except Rejected as exc:
            raise Rejected(f"feasible[{k}].{exc.step}", exc.why) from None
        feasible.add(entry["pattern"])
    refuted = []
    for k, entry in enumerate(cert["infeasible"]):
        sub = {"claim": {"pattern": entry["pattern"], "on": "sphere"}}
        for key in ("multipliers", "inside_ball"):
            if key in entry:
                sub[key] = entry[key]
        try:
            check_infeasible(sub, model)
        except Rejected as exc:
            raise Rejected(f"infeasible[{k}].{exc.step}", exc.why) from None
        refuted.append(entry["pattern"])
    for full in _all_patterns(model.n):
        require(full in feasible or any(_covers(p, full) for p in refuted), "coverage",
                f"pattern {full} is neither witnessed nor refuted")
    require(cert["claim"].get("regions") == len(feasible), "claim.regions",
            f"{len(feasible)} patterns witnessed, the claim says {cert['claim'].get('regions')}")
    return f"{len(feasible)} sign patterns occur on the sphere ({len(refuted)} refutations cover the rest)"
