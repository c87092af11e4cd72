"""Exact region counts on the normalization sphere (dimension 1 and 2) and in the whole space.

A *region* is a sign pattern realised on an open set; a *piece* is a connected
component of S minus every neuron boundary. A region may meet S in several
pieces (two parallel lines cut a circle into four arcs; the two arcs outside the
band share one pattern). Counted here, exactly, with rational arithmetic and
numbers of the form ``p + q·√D``:

* dim S = 1 (LayerNorm d = 3, RMSNorm d = 2) — :func:`count_circle`. Every
  boundary point (two per cutting neuron, one per tangent neuron) is written
  ``z₀ ± √μ²·t`` and sorted by angle exactly; the pieces are the arcs between
  consecutive distinct points, each with a rational direction strictly inside.
* dim S = 2 (LayerNorm d = 4, RMSNorm d = 3) — :func:`count_two_sphere`. The
  boundaries are small circles; pieces by Euler's formula for a graph drawn on
  the sphere with C connected components, ``V − E + F = 1 + C``, from the exact
  pairwise circle intersections. The regions are read off the edges: every
  face borders some arc, and the faces on the two sides of an arc have the arc
  point's pattern with the circle's neurons set to + and to −.
* the whole ambient space — :func:`count_space_regions`: cells of the affine
  arrangement by deletion–restriction, ``r(A) = 1 + Σ_i r(A_{<i} restricted to H_i)``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cmp_to_key

from geomcheck.exact.quadratic import QuadraticRoot, rational_between
from geomcheck.exact.signs import sign, sign_a_plus_b_sqrt_c, sign_three_term
from geomcheck.geometry.sphere import Sphere, classify_neurons, dot
from geomcheck.model.block import pattern_string

__all__ = ["RegionCount", "count_circle", "count_two_sphere", "count_space_regions", "space_regions_upper_bound",
           "ambient_basis", "surd"]

F = Fraction
ZERO = Fraction(0)


def surd(p: Fraction, q: Fraction, D: Fraction) -> QuadraticRoot:
    """``p + q·√D`` as an exact ordered number (rational when √D is)."""
    if q == 0 or D == 0:
        return QuadraticRoot.rational(p)
    r = _rational_sqrt(D)
    if r is not None:
        return QuadraticRoot.rational(p + q * r)
    return QuadraticRoot(p, q, D, (F(1), -2 * p, p * p - q * q * D))


def _rational_sqrt(x: Fraction) -> Fraction | None:
    if x < 0:
        return None
    n, m = math.isqrt(x.numerator), math.isqrt(x.denominator)
    return F(n, m) if n * n == x.numerator and m * m == x.denominator else None


def _scale(v, k):
    return tuple(k * x for x in v)


def _sub(a, b):
    return tuple(x - y for x, y in zip(a, b))


def _add(a, b):
    return tuple(x + y for x, y in zip(a, b))


def _orthogonalize(vectors, against=()) -> list[tuple]:
    """Gram–Schmidt without normalizing (stays rational): nonzero, pairwise orthogonal, orthogonal to ``against``."""
    basis = list(against)
    out = []
    for v in vectors:
        for b in basis:
            v = _sub(v, _scale(b, dot(v, b) / dot(b, b)))
        if any(v):
            basis.append(v)
            out.append(v)
    return out


def ambient_basis(sphere: Sphere) -> list[tuple]:
    """An orthogonal rational basis of the ambient space (1⊥ or ℝᵈ)."""
    d = sphere.d
    units = [tuple(F(int(j == k)) for j in range(d)) for k in range(d)]
    return _orthogonalize([sphere.project(e) for e in units])


@dataclass
class RegionCount:
    """Regions (distinct patterns) and pieces (connected components) on S, with witnesses.

    ``witnesses`` maps pattern → a witness: a rational direction y (the sphere
    point is √d·y/‖y‖) for circles, or the exact point ``p + √K·q`` for 2-spheres.
    """

    regions: int
    pieces: int
    patterns: dict = field(default_factory=dict)
    method: str = ""
    arcs: list = field(default_factory=list)  # circles: (pattern, direction) per piece, in angular order


# --------------------------------------------------------------------- angular order
@dataclass(frozen=True)
class _Point:
    """The point ``p + √D·q`` of the ambient space (coordinates in ℚ(√D))."""

    p: tuple
    q: tuple
    D: Fraction

    def floats(self) -> tuple[float, ...]:
        r = math.sqrt(float(self.D))
        return tuple(float(a) + float(b) * r for a, b in zip(self.p, self.q))

    def scale(self) -> float:
        r = math.sqrt(float(self.D))
        return max(abs(float(a)) + abs(float(b)) * r for a, b in zip(self.p, self.q))

    def equals(self, other: "_Point") -> bool:
        return all(sign_three_term(a - c, b, self.D, -e, other.D) == 0
                   for a, b, c, e in zip(self.p, self.q, other.p, other.q))


def _normalized_point(p, q, D) -> _Point:
    if D == 0 or not any(q):
        return _Point(tuple(p), tuple(ZERO for _ in p), ZERO)
    r = _rational_sqrt(D)
    if r is not None:
        return _Point(tuple(a + b * r for a, b in zip(p, q)), tuple(ZERO for _ in p), ZERO)
    return _Point(tuple(p), tuple(q), D)


@dataclass(frozen=True)
class _Key:
    """Angular position in a plane: half 0 is θ ∈ [0, π), half 1 is [π, 2π).

    Inside a half the angle increases with ``value = −A/B`` (cot θ decreases);
    the point with B = 0 opens its half (``special``).
    """

    half: int
    special: bool
    value: QuadraticRoot | None


def _key_of(A: tuple[Fraction, Fraction], B: tuple[Fraction, Fraction], D: Fraction) -> _Key:
    sB = sign_a_plus_b_sqrt_c(B[0], B[1], D)
    if sB == 0:
        sA = sign_a_plus_b_sqrt_c(A[0], A[1], D)
        if sA == 0:
            raise ValueError("the centre has no angle")
        return _Key(0 if sA > 0 else 1, True, None)
    # −A/B = −(A0 + A1√D)(B0 − B1√D)/(B0² − B1²D)
    den = B[0] * B[0] - B[1] * B[1] * D
    v0 = -(A[0] * B[0] - A[1] * B[1] * D) / den
    v1 = -(A[1] * B[0] - A[0] * B[1]) / den
    return _Key(0 if sB > 0 else 1, False, surd(v0, v1, D))


def _cmp_keys(a: _Key, b: _Key) -> int:
    if a.half != b.half:
        return -1 if a.half < b.half else 1
    if a.special or b.special:
        return (b.special - a.special) if a.special != b.special else 0
    return (a.value > b.value) - (a.value < b.value)


def _direction_between(a: _Key, b: _Key, single: bool) -> tuple[Fraction, Fraction]:
    """(A, B) of a rational direction strictly after ``a`` and strictly before the next key ``b`` (cyclic)."""
    if single:
        b = None  # only one breakpoint: anything after it in its half will do
    if b is not None and b.half == a.half and not b.special and not (a.half == b.half and _cmp_keys(b, a) <= 0):
        lo = a.value
        if lo is None:
            hi = b.value.enclosure(8)[0]
            m = F(math.floor(hi)) - 1
        else:
            m = rational_between(lo, b.value)
    else:
        if a.value is None:
            m = F(0)
        else:
            m = F(math.floor(a.value.enclosure(8)[1])) + 1
    return ((-m, F(1)) if a.half == 0 else (m, F(-1)))


class _PlaneCircle:
    """A circle of centre c₀ and squared radius R² in the 2-plane c₀ + span(e1, e2), e1 ⊥ e2."""

    def __init__(self, c0, e1, e2, R2):
        self.c0, self.e1, self.e2, self.R2 = c0, e1, e2, R2

    def key(self, pt: _Point) -> _Key:
        rel = _sub(pt.p, self.c0)
        A = (dot(rel, self.e1), dot(pt.q, self.e1))
        B = (dot(rel, self.e2), dot(pt.q, self.e2))
        return _key_of(A, B, pt.D)

    def direction(self, AB) -> tuple:
        """The in-plane vector y with (y·e1, y·e2) = (A, B)."""
        A, B = AB
        return _add(_scale(self.e1, A / dot(self.e1, self.e1)), _scale(self.e2, B / dot(self.e2, self.e2)))

    def arc_directions(self, points: list[_Point], tags: list | None = None) -> tuple[list[_Point], list[tuple], list[set]]:
        """Distinct points in angular order, for each a direction strictly inside the arc after it,
        and for each the set of tags of the input points equal to it."""
        tags = tags if tags is not None else [None] * len(points)
        keyed = [(self.key(p), p, t) for p, t in zip(points, tags)]
        keyed.sort(key=cmp_to_key(lambda s, t: _cmp_keys(s[0], t[0])))
        distinct: list[tuple[_Key, _Point, set]] = []
        for k, p, t in keyed:
            if not distinct or _cmp_keys(distinct[-1][0], k) != 0:
                distinct.append((k, p, {t}))
            else:
                distinct[-1][2].add(t)
        if not distinct:
            return [], [self.direction((F(1), F(0)))], []
        dirs = []
        for j, (k, _, _) in enumerate(distinct):
            nxt = distinct[(j + 1) % len(distinct)][0]
            dirs.append(self.direction(_direction_between(k, nxt, len(distinct) == 1)))
        return [p for _, p, _ in distinct], dirs, [t for _, _, t in distinct]


# --------------------------------------------------------------------- dim 1: the circle
def _line_circle_points(sphere: Sphere, w, c, plane_vectors) -> list[_Point]:
    """Points of ``{w·z = c} ∩ S`` in a 2-dimensional ambient space: ``z₀ ± √μ²·t``."""
    w2 = dot(w, w)
    z0 = _scale(w, c / w2)
    t = _orthogonalize(plane_vectors, [w])[0]
    mu2 = (sphere.d - c * c / w2) / dot(t, t)
    if mu2 < 0:
        return []
    if mu2 == 0:
        return [_normalized_point(z0, t, ZERO)]
    return [_normalized_point(z0, t, mu2), _normalized_point(z0, _scale(t, -1), mu2)]


def count_circle(sphere: Sphere) -> RegionCount:
    """Exact regions and pieces on S when S is a circle (module docstring).

    The first arc's pattern is evaluated exactly at its witness direction; the
    next arc's pattern is the previous one with the cutting neurons whose
    boundary point separates them flipped (a cutting neuron changes sign at
    each of its two points, a tangent one never). Going once around must
    reproduce the first pattern, which is asserted.
    """
    if sphere.dimension != 1:
        raise ValueError("count_circle needs a 1-dimensional sphere")
    e1, e2 = ambient_basis(sphere)
    points, tags = [], []
    for nb in classify_neurons(sphere):
        if nb.kind in ("cuts", "tangent"):
            found = _line_circle_points(sphere, sphere.weights[nb.index], -sphere.bias[nb.index], [e1, e2])
            points += found
            tags += [(nb.index, nb.kind == "cuts")] * len(found)
    circle = _PlaneCircle(tuple(ZERO for _ in e1), e1, e2, F(sphere.d))
    distinct, dirs, tag_sets = circle.arc_directions(points, tags)
    patterns: dict[str, tuple] = {}
    arcs = []
    signs = list(sphere.signs_along(dirs[0]))
    for k, y in enumerate(dirs):
        if k > 0:
            for index, cuts in tag_sets[k]:
                if cuts:
                    signs[index] = -signs[index]
        pattern = pattern_string(signs)
        patterns.setdefault(pattern, y)
        arcs.append((pattern, y))
    if tag_sets:
        for index, cuts in tag_sets[0]:
            if cuts:
                signs[index] = -signs[index]
        if tuple(signs) != sphere.signs_along(dirs[0]):
            raise AssertionError("count_circle: the flips around the circle do not close up")
    return RegionCount(len(patterns), max(1, len(distinct)), patterns, "circle: exact angular sort", arcs)


# --------------------------------------------------------------------- dim 2: the 2-sphere
def _same_plane(w1, c1, w2, c2) -> Fraction | None:
    """λ with (w2, c2) = λ·(w1, c1), or None."""
    k = next(j for j, x in enumerate(w1) if x != 0)
    lam = w2[k] / w1[k]
    if lam != 0 and all(b == lam * a for a, b in zip(w1, w2)) and c2 == lam * c1:
        return lam
    return None


def count_two_sphere(sphere: Sphere) -> RegionCount:
    """Exact regions and pieces on S when S is a 2-sphere (module docstring)."""
    if sphere.dimension != 2:
        raise ValueError("count_two_sphere needs a 2-dimensional sphere")
    basis = ambient_basis(sphere)
    neurons = classify_neurons(sphere)
    d = F(sphere.d)
    # circles: cutting neurons grouped by their plane {w·z = c}, c = −b'
    groups: list[dict] = []
    for nb in neurons:
        if nb.kind != "cuts":
            continue
        w, c = sphere.weights[nb.index], -sphere.bias[nb.index]
        for g in groups:
            lam = _same_plane(g["w"], g["c"], w, c)
            if lam is not None:
                g["members"].append((nb.index, lam))
                break
        else:
            groups.append({"w": w, "c": c, "members": [(nb.index, F(1))], "vertices": []})
    # vertices: pairwise intersections, plus tangent points lying on a circle
    instances: list[tuple[_Point, set]] = []
    for a in range(len(groups)):
        for b in range(a + 1, len(groups)):
            ga, gb = groups[a], groups[b]
            wa, wb = ga["w"], gb["w"]
            gram = (dot(wa, wa), dot(wa, wb), dot(wb, wb))
            det = gram[0] * gram[2] - gram[1] * gram[1]
            if det == 0:
                continue  # parallel, distinct planes: disjoint circles
            alpha = (ga["c"] * gram[2] - gb["c"] * gram[1]) / det
            beta = (gb["c"] * gram[0] - ga["c"] * gram[1]) / det
            z0 = _add(_scale(wa, alpha), _scale(wb, beta))
            k = _orthogonalize(basis, _orthogonalize([wa, wb]))[0]
            mu2 = (d - dot(z0, z0)) / dot(k, k)
            if mu2 < 0:
                continue
            pts = [_normalized_point(z0, k, mu2)] + ([_normalized_point(z0, _scale(k, -1), mu2)] if mu2 > 0 else [])
            instances += [(p, {a, b}) for p in pts]
    for nb in neurons:
        if nb.kind == "tangent":
            w, c = sphere.weights[nb.index], -sphere.bias[nb.index]
            pt = _scale(w, c / nb.squared_norm)
            on = {g_id for g_id, g in enumerate(groups) if dot(g["w"], pt) == g["c"]}
            if on:
                instances.append((_normalized_point(pt, pt, ZERO), on))
    # merge equal vertices: floats only pick candidates, equality is exact
    order = sorted(range(len(instances)), key=lambda j: instances[j][0].floats()[0])
    vertices: list[tuple[_Point, set]] = []
    window: list[int] = []
    for j in order:
        pt, on = instances[j]
        x = pt.floats()[0]
        # Floats only choose which pairs get the exact test. Each float coordinate a + b·√D is
        # three roundings of exact inputs plus a product and a sum: |fl − exact| ≤ 6u·(|a| + |b|√D)
        # (u = 2⁻⁵³), so two EQUAL points differ in float by ≤ 6u·(scale₁ + scale₂) ≈ 1.3e-15·(…),
        # far inside this window; a pair outside it cannot be equal, so no merge is missed.
        window = [v for v in window if vertices[v][0].floats()[0] >= x - 1e-6 * (1 + pt.scale() + vertices[v][0].scale())]
        for v in window:
            if vertices[v][0].equals(pt):
                vertices[v][1].update(on)
                break
        else:
            vertices.append((pt, set(on)))
            window.append(len(vertices) - 1)
    # Euler: V − E + F = 1 + C on the sphere
    for pt, on in vertices:
        for g_id in on:
            groups[g_id]["vertices"].append(pt)
    V = len(vertices)
    E = 0
    patterns: dict[str, tuple] = {}
    for g in groups:
        w, c = g["w"], g["c"]
        w2 = dot(w, w)
        c0 = _scale(w, c / w2)
        R2 = d - c * c / w2
        e1, e2 = _orthogonalize(basis, [w])[:2]
        circle = _PlaneCircle(c0, e1, e2, R2)
        distinct, dirs, _ = circle.arc_directions(g["vertices"])
        if distinct:
            E += len(distinct)
        else:
            V, E = V + 1, E + 1  # a circle meeting nothing: one vertex, one loop edge
        for y in dirs:
            K = R2 / dot(y, y)
            point = (c0, y, K)  # the arc point c₀ + √K·y
            base = [sign_a_plus_b_sqrt_c(dot(wj, c0) + bj, dot(wj, y), K)
                    for wj, bj in zip(sphere.weights, sphere.bias)]
            for side in (1, -1):
                signs = list(base)
                for idx, lam in g["members"]:
                    signs[idx] = side * sign(lam)
                patterns.setdefault(pattern_string(signs), point)
    components = count_components(len(groups), (on for _, on in vertices))
    faces = E - V + 1 + components
    if not groups:
        y = next(b for b in basis)
        for attempt in range(1, 50):
            y_try = _add(y, _scale(basis[-1], F(attempt, 7)))
            signs = sphere.signs_along(y_try)
            if all(s != 0 or nb.kind == "constant_zero" for s, nb in zip(signs, neurons)):
                patterns[pattern_string(signs)] = (tuple(ZERO for _ in y_try), y_try, d / dot(y_try, y_try))
                break
    return RegionCount(len(patterns), faces, patterns, "2-sphere: Euler's formula on the exact circle arrangement")


def count_components(size: int, links) -> int:
    """Connected components of ``0 … size−1`` when each set in ``links`` joins its members
    (circles meeting at a vertex are one component of the arrangement); union–find."""
    parent = list(range(size))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for members in links:
        first = find(min(members))
        for m in members:
            parent[find(m)] = first
    return len({find(x) for x in range(size)})


# --------------------------------------------------------------------- the whole space
class _Budget(Exception):
    pass


def _normalize_hyperplane(a: tuple, beta: Fraction) -> tuple | None:
    """Scale so the first nonzero coefficient of a is 1; None if a = 0 (no hyperplane)."""
    lead = next((x for x in a if x != 0), None)
    if lead is None:
        return None
    return tuple(x / lead for x in a) + (beta / lead,)


def _regions(hyperplanes: list[tuple], dim: int, budget: list) -> int:
    """Cells of an affine arrangement in ℚ^dim (rows ``(a…, β)`` meaning a·t + β = 0), distinct rows."""
    budget[0] -= len(hyperplanes) + 1
    if budget[0] < 0 or (budget[0] % 1024 < len(hyperplanes) + 1 and time.monotonic() > budget[1]):
        raise _Budget
    if not hyperplanes:
        return 1
    if dim == 1:
        return 1 + len(hyperplanes)
    total = 1
    for i, h in enumerate(hyperplanes):
        p = next(k for k in range(dim) if h[k] != 0)
        restricted = set()
        for g in hyperplanes[:i]:
            factor = g[p] / h[p]
            a = tuple(g[k] - factor * h[k] for k in range(dim) if k != p)
            row = _normalize_hyperplane(a, g[dim] - factor * h[dim])
            if row is not None:
                restricted.add(row)
        total += _regions(sorted(restricted), dim - 1, budget)
    return total


def count_space_regions(sphere: Sphere, budget: int = 2_000_000, seconds: float = 3.0) -> int | None:
    """Number of cells of ``{w̃_i·z + b'_i = 0}`` in the ambient space, or None past ``budget`` steps / ``seconds``.

    Parameter coordinates t w.r.t. an orthogonal basis g_k of the ambient
    space: neuron i is ``Σ_k (w̃_i·g_k)·t_k + b'_i = 0``. Adding hyperplanes one
    at a time, H_i splits exactly as many cells as the earlier ones cut H_i
    into, which is the recursion in :func:`_regions`.
    """
    basis = ambient_basis(sphere)
    rows = set()
    for w, b in zip(sphere.weights, sphere.bias):
        row = _normalize_hyperplane(tuple(dot(w, g) for g in basis), b)
        if row is not None:
            rows.add(row)
    try:
        return _regions(sorted(rows), len(basis), [budget, time.monotonic() + seconds])
    except _Budget:
        return None


def space_regions_upper_bound(sphere: Sphere) -> int:
    """``Σ_{k ≤ m} C(h, k)`` for h distinct hyperplanes in dimension m: the most cells any such arrangement has
    (attained exactly in general position; by deletion–restriction, r(A) ≤ r(A∖H) + r(A^H))."""
    basis = ambient_basis(sphere)
    rows = {_normalize_hyperplane(tuple(dot(w, g) for g in basis), b) for w, b in zip(sphere.weights, sphere.bias)}
    h = len(rows - {None})
    return sum(math.comb(h, k) for k in range(len(basis) + 1))
