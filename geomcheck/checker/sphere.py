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

import itertools
import math
from fractions import Fraction

from geomcheck.checker.arith import dot as _dot, rank, show, sign, solve, sign_surd, sign_surds
from geomcheck.checker.core import CheckedModel, Rejected, fields, register, require

ZERO = Fraction(0)


def _pattern(claim, model: CheckedModel, keys=("pattern", "on")) -> str:
    fields(claim, "claim", keys)
    pattern = claim["pattern"]
    require(type(pattern) is str and len(pattern) == model.n and set(pattern) <= set("+-*"),
            "claim.pattern", f"expected {model.n} symbols from '+-*'")
    require(claim.get("on", "sphere") in ("sphere", "space"), "claim.on", "must be 'sphere' or 'space'")
    require(claim.get("on") != "sphere" or model.normalized, "claim.on", "the model has no normalization, hence no sphere")
    return pattern


def _multipliers(raw, where: str, model: CheckedModel, signs: dict) -> dict:
    """{neuron: y_i ≥ 0}; keys are decimal neuron indices signed in the pattern."""
    require(type(raw) is dict and raw, where, "expected a non-empty object {neuron: y}")
    y = {}
    for key, value in raw.items():
        require(key.isascii() and key.isdigit() and str(int(key)) == key and int(key) in signs, where,
                f"{key[:20]!r} is not a neuron signed in the pattern")
        y[int(key)] = model.number(value, f"{where}[{key}]")
        require(y[int(key)] >= 0, where, f"y_{key} < 0")
    return y


def _signed(pattern: str):
    return [(i, 1 if c == "+" else -1) for i, c in enumerate(pattern) if c != "*"]


def _in_ambient(model: CheckedModel, z) -> bool:
    return model.kind != "layernorm" or sum(z, ZERO) == 0


def _h(model: CheckedModel, i: int, z) -> Fraction:
    return _dot(model.folded_w[i], z) + model.folded_b[i]


def _signs_along(model: CheckedModel, y):
    """Exact signs at the sphere point √d·y/‖y‖: sign(√d·w̃·y + b'·√‖y‖²) = sign(w̃·y + b'·√(‖y‖²/d))."""
    n2 = _dot(y, y) / model.d
    return [sign_surd(_dot(w, y), b, n2) for w, b in zip(model.folded_w, model.folded_b)]


@register("sphere-feasible", ("claim", "witness?", "direction?"))
def check_feasible(cert: dict, model: CheckedModel) -> str:
    pattern = _pattern(cert["claim"], model)
    on = cert["claim"]["on"]
    require(("direction" in cert) != ("witness" in cert), "witness", "expected exactly one of witness, direction")
    if "direction" in cert:
        require(on == "sphere", "direction", "a direction witness is for the sphere only")
        y = model.vector(cert["direction"], "direction", model.d)
        require(_in_ambient(model, y), "direction", "does not sum to 0 (LayerNorm: must lie in 1⊥)")
        require(any(y), "direction", "is zero")
        signs = _signs_along(model, y)
        what = "√d·y/‖y‖"
    else:
        z = model.vector(cert["witness"], "witness", model.d)
        require(_in_ambient(model, z) or not model.normalized, "witness", "does not sum to 0 (LayerNorm: must lie in 1⊥)")
        if on == "sphere":
            require(_dot(z, z) == model.d, "witness", f"‖z‖² ≠ d = {model.d}: not on the sphere")
        signs = [sign(_h(model, i, z)) for i in range(model.n)]
        what = "z"
    for i, s in _signed(pattern):
        require(signs[i] == s, "witness", f"neuron {i} has sign {signs[i]} at {what}, the pattern says {pattern[i]}")
    return f"pattern {pattern} is realised on the {on} by an exact witness"


@register("sphere-infeasible", ("claim", "multipliers?", "inside_ball?"))
def check_infeasible(cert: dict, model: CheckedModel) -> str:
    pattern = _pattern(cert["claim"], model)
    on = cert["claim"]["on"]
    signs = dict(_signed(pattern))
    require(("inside_ball" in cert) != ("multipliers" in cert), "multipliers", "expected exactly one of multipliers, inside_ball")
    if "inside_ball" in cert:
        require(on == "sphere", "inside_ball", "is evidence for the sphere only")
        return _check_inside_ball(cert, model, pattern, signs)
    y = _multipliers(cert["multipliers"], "multipliers", model, signs)
    require(any(v > 0 for v in y.values()), "multipliers", "all zero")
    r = [-sum((v * signs[i] * model.folded_w[i][k] for i, v in y.items()), ZERO) for k in range(model.d)]
    r = list(model.centre(r))
    G = sum((v * signs[i] * model.folded_b[i] for i, v in y.items()), ZERO)
    require(G <= 0, "multipliers", "Σ y_i s_i b'_i > 0")
    if on == "space":
        require(not any(r), "multipliers", "Σ y_i s_i w̃_i ≠ 0")
        return f"pattern {pattern} is empty in the whole space (Farkas)"
    require(G * G >= model.d * _dot(r, r), "multipliers", "(yᵀg)² < d·‖r‖²: the ball certificate fails")
    return f"pattern {pattern} does not occur on the sphere (ball certificate)"


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
    require(type(entries) is list and entries and len(entries) <= 2 * model.d + 2, "inside_ball", "expected 1 to 2d + 2 entries")
    model.spend(math.comb(len(a), dim), "the inside_ball vertex enumeration")
    directions = []
    for k, entry in enumerate(entries):
        fields(entry, f"inside_ball[{k}]", ("direction", "multipliers"))
        c = model.vector(entry["direction"], f"inside_ball[{k}].direction", model.d)
        require(_in_ambient(model, c), f"inside_ball[{k}].direction", "must lie in 1⊥")
        y = _multipliers(entry["multipliers"], f"inside_ball[{k}].multipliers", model, a)
        total = model.centre([sum((v * a[i][col] for i, v in y.items()), ZERO) for col in range(model.d)])
        require(tuple(total) == c, f"inside_ball[{k}]", "P·Σ y_i a_i differs from the direction")
        directions.append(c)
    require(all(tuple(-x for x in c) in directions for c in directions), "inside_ball", "directions not closed under negation")
    require(rank(directions, model.d) == dim, "inside_ball", "the directions do not span the space: boundedness not shown")
    extra = [((Fraction(1),) * model.d, ZERO)] if model.kind == "layernorm" else []
    vertices = 0
    for subset in itertools.combinations(sorted(a), dim):
        z = solve([a[i] for i in subset] + [r for r, _ in extra], [g[i] for i in subset] + [v for _, v in extra])
        if z is None or any(_dot(a[i], z) > g[i] for i in a):
            continue
        vertices += 1
        require(_dot(z, z) <= model.d, "inside_ball", f"vertex {[show(x) for x in z][:8]} lies outside the ball")
    return f"pattern {pattern} lies inside the ball ({vertices} vertex systems feasible), so it misses the sphere"


@register("sphere-neurons", ("claim",))
def check_neurons(cert: dict, model: CheckedModel) -> str:
    require(model.normalized, "model", "the model has no normalization, hence no sphere")
    kinds = fields(cert["claim"], "claim", ("kinds",))["kinds"]
    require(isinstance(kinds, list) and len(kinds) == model.n, "claim.kinds", f"expected {model.n} entries")
    for i, row in enumerate(model.rows):  # den_i·[w̃ | b']: the scale cancels in the sign of b'² − d‖w̃‖²
        w, b = row[:-1], row[-1]
        n2 = _dot(w, w)
        if n2 == 0:
            truth = "constant_zero"
        else:
            gap = b * b - model.d * n2
            truth = "cuts" if gap < 0 else "tangent" if gap == 0 else ("always_on" if b > 0 else "always_off")
        require(kinds[i] == truth, f"claim.kinds[{i}]", f"neuron {i} is {truth}")
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


@register("circle-regions", ("claim", "arcs"))
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
    require(type(arcs) is list and arcs and len(arcs) <= 2 * model.n + 1, "arcs", "expected 1 to 2n + 1 arcs")
    claim = fields(cert["claim"], "claim", ("regions", "pieces"))
    dirs, pats = [], []
    for k, arc in enumerate(arcs):
        fields(arc, f"arcs[{k}]", ("direction", "pattern"))
        y = model.vector(arc["direction"], f"arcs[{k}].direction", model.d)
        require(_in_ambient(model, y) and any(y), f"arcs[{k}].direction", "must be nonzero and in the plane")
        signs = _signs_along(model, y)
        for i, sg in enumerate(signs):
            require(sg != 0 or (not any(model.folded_w[i]) and model.folded_b[i] == 0),
                    f"arcs[{k}]", f"the direction lies on neuron {i}'s boundary")
        pattern = "".join("+" if sg > 0 else "-" if sg < 0 else "0" for sg in signs)
        require(arc["pattern"] == pattern, f"arcs[{k}].pattern", f"the direction has pattern {pattern[:200]}")
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
    require(claim["pieces"] == m and type(m) is type(claim["pieces"]), "claim.pieces", f"{m} arcs are listed")
    require(claim["regions"] == regions and type(claim["regions"]) is int, "claim.regions", f"{regions} distinct patterns")
    return f"{regions} regions in {m} pieces on the circle"


# ------------------------------------------------------------------ sphere-cap
@register("sphere-cap", ("claim",))
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
    claim = fields(cert["claim"], "claim", ("direction", "nearest"), ("cos", "constant"))
    v = model.vector(claim["direction"], "claim.direction", model.d)
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
    require(type(nearest) is list and all(type(i) is int and i in terms for i in nearest) and (nearest or not terms)
            and len(set(nearest)) == len(nearest),
            "claim.nearest", "must list neurons with a boundary on the sphere")
    if nearest:
        a0, b0 = terms[nearest[0]]
        for i, (a, bb) in terms.items():
            c = sign_surds(a - a0, Fraction(1), bb * M, Fraction(-1), b0 * M)  # sign(cos δ_i − cos δ_0)·√M
            if i in nearest:
                require(c == 0, "claim.nearest", f"neuron {i} is not at the same distance as neuron {nearest[0]}")
            else:
                require(c < 0, "claim.nearest", f"neuron {i} is at least as close as neuron {nearest[0]}")
    if "cos" in claim:
        C = model.number(claim["cos"], "claim.cos")
        require(-1 <= C <= 1, "claim.cos", "must lie in [-1, 1]")
        constant = all(sign_surds(-a, C, M, Fraction(-1), bb * M) > 0 for a, bb in terms.values())
        require(claim.get("constant") is constant, "claim.constant",
                f"the cap with cos = {C} is {'' if constant else 'not '}region-constant")
    return f"cap around the direction: nearest boundary neuron(s) {nearest[:20]}" + (
        f", cap with cos = {show(claim['cos'])} {'is' if claim.get('constant') else 'is not'} region-constant" if "cos" in claim else "")


# ------------------------------------------------------------------ sphere-regions (by exhaustion)
MAX_REGIONS_N = 12


@register("sphere-regions", ("claim", "feasible", "infeasible"))
def check_regions(cert: dict, model: CheckedModel) -> str:
    """kind ``sphere-regions``: the number of sign patterns realised on S, by exhaustion (n ≤ 12).

    ``claim = {"regions": N}``; ``"feasible": [{"pattern": "+-+", "witness" | "direction": …}]``
    (full patterns, each checked as a ``sphere-feasible`` certificate on the sphere);
    ``"infeasible": [{"pattern": "+*-", "multipliers" | "inside_ball": …}]`` (each checked as a
    ``sphere-infeasible`` certificate: every completion of it is then absent). Checked: every
    s ∈ {+,−}ⁿ is feasible-listed or covered by a refuted pattern, and N is the number of
    feasible ones. Coverage costs 2ⁿ × (distinct supports of the refutations) work units.
    """
    require(model.normalized, "model", "the model has no normalization, hence no sphere")
    require(model.n <= MAX_REGIONS_N, "limit", f"exhaustive region certificates are for n ≤ {MAX_REGIONS_N}")
    claim = fields(cert["claim"], "claim", ("regions",))
    lists = cert["feasible"], cert["infeasible"]
    require(all(type(x) is list and len(x) <= 2 ** model.n for x in lists), "feasible", "expected lists of at most 2ⁿ entries")
    feasible, refuted = set(), {}  # refuted: support mask → set of sign bits on it
    for key, entries, check, evidence in (("feasible", lists[0], check_feasible, ("witness", "direction")),
                                          ("infeasible", lists[1], check_infeasible, ("multipliers", "inside_ball"))):
        for k, entry in enumerate(entries):
            fields(entry, f"{key}[{k}]", ("pattern",), evidence)
            pattern = entry["pattern"]
            sub = {"claim": {"pattern": pattern, "on": "sphere"}, **{e: entry[e] for e in evidence if e in entry}}
            try:
                check(sub, model)
            except Rejected as exc:
                raise Rejected(f"{key}[{k}].{exc.step}", exc.why) from None
            mask = sum(1 << i for i, c in enumerate(pattern) if c != "*")
            bits = sum(1 << i for i, c in enumerate(pattern) if c == "-")
            if key == "feasible":
                require(mask == 2 ** model.n - 1, f"feasible[{k}]", "feasible patterns must be full")
                feasible.add(bits)
            else:
                refuted.setdefault(mask, set()).add(bits)
    model.spend(2 ** model.n * len(refuted), "the coverage test")
    for full in range(2 ** model.n):
        require(full in feasible or any(full & mask in bits for mask, bits in refuted.items()), "coverage",
                f"pattern {''.join('-' if full >> i & 1 else '+' for i in range(model.n))} is neither witnessed nor refuted")
    require(claim["regions"] == len(feasible) and type(claim["regions"]) is int, "claim.regions",
            f"{len(feasible)} patterns are witnessed")
    return f"{len(feasible)} sign patterns occur on the sphere ({sum(map(len, refuted.values()))} refutations cover the rest)"
