"""The normalization sphere, exactly: neuron classification, rational sphere points, caps.

Setting (DESIGN §2). After folding, neuron i reads ``h_i = w̃_i·z + b'_i`` on the
normalized point z. With ε = 0, z lies on

* LayerNorm: ``S = {z ∈ 1⊥ : ‖z‖² = d}`` (a sphere of dimension d − 2),
* RMSNorm:   ``S = {z ∈ ℝᵈ : ‖z‖² = d}``  (dimension d − 1).

With ε > 0 the image of the normalization is the open ball region inside S
(the ray through x meets radius √d only in the limit); everything here is
stated for the ε = 0 sphere, and callers say so.

Neuron i's boundary ``{w̃_i·z + b'_i = 0}`` meets S iff ``b'_i² ≤ d·‖w̃_i‖²``
(Cauchy–Schwarz: on S, ``w̃_i·z`` ranges over ``[−√d‖w̃_i‖, √d‖w̃_i‖]`` because
``w̃_i`` lies in the ambient space of S). Comparing the squares decides the
classification without a square root:

* ``w̃_i = 0``                  → *constant_zero* (h_i ≡ b'_i on the whole space),
* ``b'_i² < d‖w̃_i‖²``          → *cuts* (a small sphere of angular radius
  ``ρ_i = arccos(−b'_i/(√d‖w̃_i‖))`` around the direction ŵ_i),
* ``b'_i² = d‖w̃_i‖²``          → *tangent* (one point, ``z = −b'_i·w̃_i/‖w̃_i‖²``),
* ``b'_i² > d‖w̃_i‖²``, b' > 0 → *always_on*; b' < 0 → *always_off*.

Rational points on S. RMSNorm: ``(1, …, 1)``. LayerNorm: ``Σz = 0, ‖z‖² = d``
has a rational solution for every d ≥ 2 except d = 3 (:func:`base_point`);
near any real point of S there are rational points of S, obtained by
reflecting the base point (:func:`reflect_to`). For d = 3 there is *no*
rational point (proof in :func:`base_point`), and sphere points are written
exactly as ``√K·y`` with y rational in 1⊥ and ``K = d/‖y‖²`` rational.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from geomcheck.errors import DegenerateInput, InvalidInput
from geomcheck.exact.signs import sign, sign_sqrt_combination, sign_three_term
from geomcheck.exact.linalg import rref

__all__ = [
    "Sphere", "NeuronOnSphere", "sphere_of", "classify_neurons", "base_point", "reflect_to",
    "signs_on_sphere_direction", "cap_distances", "cap_is_region_constant", "dot", "project",
]

F = Fraction
ZERO = Fraction(0)


def dot(a: Sequence[Fraction], b: Sequence[Fraction]) -> Fraction:
    """Exact a·b on integers over common denominators (long rows of dyadic weights: ~30× faster than Fraction sums)."""
    if len(a) < 8:
        return sum((x * y for x, y in zip(a, b)), ZERO)
    da = math.lcm(*(x.denominator for x in a))
    db = math.lcm(*(y.denominator for y in b))
    total = sum((x.numerator * (da // x.denominator)) * (y.numerator * (db // y.denominator)) for x, y in zip(a, b))
    return F(total, da * db)


def squared_norm(row: Sequence[Fraction]) -> Fraction:
    """‖row‖² exactly, on integers over a common denominator (≈50× faster than Fraction sums for long rows)."""
    den = math.lcm(*(F(x).denominator for x in row)) if row else 1
    return F(sum((x.numerator * (den // x.denominator)) ** 2 for x in map(F, row)), den * den)


@dataclass(frozen=True)
class Sphere:
    """The ε = 0 sphere of a normalized block: ``‖z‖² = d`` inside the ambient space.

    ``centers``: the ambient space is ``1⊥`` (LayerNorm), else ℝᵈ (RMSNorm).
    ``weights``/``bias`` are the folded ``w̃_i`` (already in the ambient space) and ``b'_i``.
    """

    d: int
    centers: bool
    weights: tuple
    bias: tuple
    eps: Fraction

    @property
    def n(self) -> int:
        return len(self.bias)

    @property
    def ambient_dim(self) -> int:
        return self.d - 1 if self.centers else self.d

    @property
    def dimension(self) -> int:
        """Dimension of S itself (1 = a circle, 2 = a 2-sphere)."""
        return self.ambient_dim - 1

    def project(self, x: Sequence[Fraction]) -> tuple[Fraction, ...]:
        """Orthogonal projection onto the ambient space (P·x)."""
        return project(x, self.centers)

    def signs_at(self, z: Sequence[Fraction]) -> tuple[int, ...]:
        """Exact signs of ``w̃·z + b'`` at a rational point z."""
        return tuple(sign(dot(w, z) + b) for w, b in zip(self.weights, self.bias))

    def signs_along(self, y: Sequence[Fraction]) -> tuple[int, ...]:
        """Exact signs at the sphere point ``√d·y/‖y‖`` of a rational direction y ≠ 0 in the ambient space.

        ``h_i = (√d·(w̃_i·y) + b'_i·‖y‖)/‖y‖``, so sign(h_i) = sign(√d·(w̃_i·y) + b'_i·√‖y‖²).
        """
        n2 = dot(y, y)
        if n2 == 0:
            raise DegenerateInput("direction: the zero vector has no point on the sphere")
        d = F(self.d)
        ints = _integers(y)
        return tuple(sign_sqrt_combination(_row_dot(self.weights, i, y, ints), d, b, n2) for i, b in enumerate(self.bias))

    def on_sphere(self, z: Sequence[Fraction]) -> bool:
        """``‖z‖² = d`` and (LayerNorm) ``Σz = 0``, exactly."""
        return dot(z, z) == self.d and (not self.centers or sum(z, ZERO) == 0)


def project(x: Sequence[Fraction], centers: bool) -> tuple[Fraction, ...]:
    if not centers:
        return tuple(F(v) for v in x)
    mean = sum(x, ZERO) / len(x)
    return tuple(v - mean for v in x)


def sphere_of(block) -> Sphere:
    """The ε = 0 sphere of ``block``; a block without normalization has none."""
    if not block.norm.scales:
        raise InvalidInput(
            f"{block.name or 'model'}: has no normalization (norm = none), so there is no sphere; "
            "use 'geomcheck feasible --on space' for input-space questions"
        )
    f = block.folded
    return Sphere(block.d, f.centers, f.weights, f.bias, f.eps)


@dataclass(frozen=True)
class NeuronOnSphere:
    """How neuron i meets S, decided exactly.

    ``cos2`` = ``b'²/(d‖w̃‖²)`` is cos²ρ and ``cos_sign`` = sign(−b') its sign, so
    ``cos ρ = cos_sign·√cos2`` exactly (None for constant_zero).
    """

    index: int
    kind: str
    squared_norm: Fraction
    bias: Fraction
    cos2: Fraction | None
    cos_sign: int

    @property
    def radius(self) -> float | None:
        """ρ = arccos(−b'/(√d‖w̃‖)) in radians (a float: a display value only)."""
        if self.cos2 is None or self.cos2 > 1:
            return None
        return math.acos(max(-1.0, min(1.0, self.cos_sign * math.sqrt(float(self.cos2)))))


def _integers(v: Sequence[Fraction]) -> tuple[list[int], int]:
    """``v`` as integers over the lcm of its denominators."""
    v = [F(x) for x in v]
    den = math.lcm(*(x.denominator for x in v)) if v else 1
    return [x.numerator * (den // x.denominator) for x in v], den


def _row_squared_norm(weights, i: int) -> Fraction:
    """``‖w̃_i‖²``: lazily folded rows answer on integers without building the row's Fractions."""
    fast = getattr(weights, "squared_norm", None)
    return fast(i) if fast is not None else squared_norm(weights[i])


def _row_dot(weights, i: int, v: Sequence[Fraction], v_ints: tuple[list[int], int] | None) -> Fraction:
    """``w̃_i·v`` (``v_ints``: v as integers over one denominator, for lazily folded rows)."""
    fast = getattr(weights, "dot", None)
    if fast is not None and v_ints is not None:
        return fast(i, *v_ints)
    return dot(v, weights[i])


def classify_neurons(sphere: Sphere) -> list[NeuronOnSphere]:
    """Each neuron's kind on S: compare ``b'²`` with ``d·‖w̃‖²`` (module docstring)."""
    out = []
    for i, b in enumerate(sphere.bias):
        n2 = _row_squared_norm(sphere.weights, i)
        if n2 == 0:
            out.append(NeuronOnSphere(i, "constant_zero", n2, b, None, sign(-b)))
            continue
        gap = b * b - sphere.d * n2
        kind = "cuts" if gap < 0 else "tangent" if gap == 0 else ("always_on" if b > 0 else "always_off")
        out.append(NeuronOnSphere(i, kind, n2, b, b * b / (sphere.d * n2), sign(-b)))
    return out


def _three_squares(m: int) -> tuple[int, int, int] | None:
    """Integers a ≥ b ≥ c ≥ 0 with a² + b² + c² = m, by search (None if there are none)."""
    for a in range(math.isqrt(m), -1, -1):
        for b in range(min(a, math.isqrt(m - a * a)), -1, -1):
            c2 = m - a * a - b * b
            if c2 > b * b:
                break
            c = math.isqrt(c2)
            if c * c == c2:
                return a, b, c
    return None


def base_point(d: int, centers: bool) -> tuple[Fraction, ...] | None:
    """A rational point of S, or None when S has none (LayerNorm with d = 3).

    * RMSNorm: ``(1, …, 1)``.
    * LayerNorm, d even: ``(1, −1, 1, −1, …)``: Σ = 0, ‖·‖² = d.
    * LayerNorm, d odd ≥ 5: pairs ``(a/2, −a/2)`` contribute ``a²/2`` to ‖·‖² and
      0 to Σ, so we need ``2d = a² + b² + c²`` (3 pairs fit since d ≥ 7; for
      d = 5, 10 = 3² + 1² + 0²). A sum of three squares misses exactly the
      numbers ``4ᵃ(8b + 7)``; ``2d ≡ 2 (mod 4)`` is never one, so a, b, c exist.
    * LayerNorm, d = 3: z = (a, b, −a−b) needs ``a² + ab + b² = 3/2``, i.e.
      ``(2a + b)² + 3b² = 6``. Clearing denominators, ``X² + 3Y² = 6Z²`` with
      gcd(X, Y, Z) = 1. Mod 3: 3 | X; write X = 3X′: ``3X′² + Y² = 2Z²``, so
      ``Y² ≡ 2Z² (mod 3)``; 2 is not a square mod 3, hence 3 | Y and 3 | Z,
      contradicting gcd = 1. No rational point exists.
    """
    if not centers:
        return (F(1),) * d
    if d % 2 == 0:
        return tuple(F(1 if k % 2 == 0 else -1) for k in range(d))
    if d < 5:
        return None
    a, b, c = _three_squares(2 * d)  # type: ignore[misc]  # exists: see docstring
    point = [ZERO] * d
    for k, v in enumerate((a, b, c)):
        if v:  # d = 5 has room for two pairs only; there c = 0
            point[2 * k], point[2 * k + 1] = F(v, 2), F(-v, 2)
    return tuple(point)


def reflect_to(base: Sequence[Fraction], v: Sequence[Fraction]) -> tuple[Fraction, ...]:
    """``z = p₀ − 2(p₀·v)/‖v‖²·v``: the reflection of p₀ in the hyperplane v⊥.

    A reflection is an isometry fixing v⊥, so ‖z‖ = ‖p₀‖; and if p₀, v ∈ 1⊥ then
    z ∈ 1⊥. With v = p₀ − t for a target t of the same norm, z = t; rounding v
    to nearby rationals gives a rational z exactly on S, near t.
    """
    n2 = dot(v, v)
    if n2 == 0:
        return tuple(base)
    k = 2 * dot(base, v) / n2
    return tuple(p - k * x for p, x in zip(base, v))


def signs_on_sphere_direction(sphere: Sphere, y: Sequence[Fraction]) -> tuple[int, ...]:
    return sphere.signs_along(sphere.project(y))


# ----------------------------------------------------------------------------- caps
@dataclass(frozen=True)
class CapTerm:
    """For a boundary neuron i and the centre direction û = u/‖u‖ (u rational in the ambient space):

    ``cos α = (u·w̃)/(‖u‖‖w̃‖)``, ``cos ρ = −b'/(√d‖w̃‖)``, and the angular distance
    from û to neuron i's boundary is δ_i = |α − ρ| with
    ``cos δ_i = cos α cos ρ + sin α sin ρ = alpha/√M + √beta``, where
    ``M = d‖u‖²``, ``alpha = −(u·w̃)b'/‖w̃‖²`` and
    ``beta = (1 − cos²α)(1 − cos²ρ)`` (both sines are ≥ 0 on [0, π]).
    """

    index: int
    alpha: Fraction
    beta: Fraction
    distance: float  # radians, display only


def cap_distances(sphere: Sphere, u: Sequence[Fraction], neurons: list[NeuronOnSphere]) -> tuple[Fraction, list[CapTerm]]:
    """``(M, terms)`` for the cutting and tangent neurons (the ones with a boundary on S)."""
    u = sphere.project(u)
    u2 = dot(u, u)
    if u2 == 0:
        raise DegenerateInput("direction: projects to 0 in the normalization's space (no point on the sphere)")
    M = sphere.d * u2
    u_ints = _integers(u)
    terms = []
    for nb in neurons:
        if nb.kind not in ("cuts", "tangent"):
            continue
        b = sphere.bias[nb.index]
        uw = _row_dot(sphere.weights, nb.index, u, u_ints)
        cos2_alpha = uw * uw / (u2 * nb.squared_norm)
        alpha = -uw * b / nb.squared_norm
        beta = (1 - cos2_alpha) * (1 - nb.cos2)
        ca = max(-1.0, min(1.0, float(uw) / math.sqrt(float(u2) * float(nb.squared_norm))))
        distance = abs(math.acos(ca) - nb.radius)
        terms.append(CapTerm(nb.index, alpha, beta, distance))
    return M, terms


def compare_cap_terms(M: Fraction, s: CapTerm, t: CapTerm) -> int:
    """sign(δ_s − δ_t), exactly: δ smaller ⟺ cos δ larger, and √M·cos δ = alpha + √(beta·M)."""
    return -sign_three_term(s.alpha - t.alpha, F(1), s.beta * M, F(-1), t.beta * M)


def nearest_boundaries(M: Fraction, terms: list[CapTerm]) -> list[CapTerm]:
    """All terms with the minimal δ (ties decided exactly)."""
    if not terms:
        return []
    best = [terms[0]]
    for t in terms[1:]:
        c = compare_cap_terms(M, t, best[0])
        if c < 0:
            best = [t]
        elif c == 0:
            best.append(t)
    return best


def cap_is_region_constant(M: Fraction, terms: list[CapTerm], cos_delta: Fraction) -> tuple[bool, list[int]]:
    """Decide whether the closed cap ``{z ∈ S : angle(z, û) ≤ δ}``, ``cos δ = C``, is region-constant.

    The closed cap misses neuron i's boundary iff δ < δ_i (the nearest point of
    the boundary small sphere is at angle δ_i = |α_i − ρ_i|, along the great
    circle through û and ŵ_i), iff ``C > cos δ_i`` (cos decreasing on [0, π]),
    iff ``C·√M − alpha_i − √(beta_i·M) > 0`` — a three-term sign, no root taken.
    Neurons without a boundary on S keep their sign on all of S. Returns
    (constant?, the neurons whose boundary the cap meets).
    """
    if not -1 <= cos_delta <= 1:
        raise InvalidInput(f"--cos: must lie in [-1, 1], got {cos_delta}")
    hit = [t.index for t in terms if sign_three_term(-t.alpha, cos_delta, M, F(-1), t.beta * M) <= 0]
    return not hit, hit


# ----------------------------------------------------------------------------- regions inside the ball
def solve_exact(rows: Sequence[Sequence[Fraction]], rhs: Sequence[Fraction]) -> tuple[Fraction, ...] | None:
    """The unique solution of a square system, or None when it is singular."""
    n = len(rows)
    reduced, pivots = rref([list(r) + [v] for r, v in zip(rows, rhs)], columns=n)
    if len(pivots) < n:
        return None
    return tuple(reduced[i][n] for i in range(n))


def pattern_constraints(sphere: Sphere, pattern: str) -> list[tuple[int, tuple, Fraction]]:
    """``(i, a_i, g_i)`` with ``a_i = −s_i·w̃_i``, ``g_i = s_i·b'_i``: the region is ``a_i·z < g_i``."""
    out = []
    for i, c in enumerate(pattern):
        if c in "+-":
            s = 1 if c == "+" else -1
            out.append((i, tuple(-s * x for x in sphere.weights[i]), s * sphere.bias[i]))
    return out


def region_vertices(sphere: Sphere, pattern: str, limit: int = 50_000):
    """All vertices of the closed region ``{z ∈ A : a_i·z ≤ g_i}``, exactly (None past ``limit`` subsets).

    A vertex is a feasible point where m = dim A linearly independent
    constraints are active; with LayerNorm the equation Σz = 0 joins each system.
    """
    from itertools import combinations
    from math import comb

    cons = pattern_constraints(sphere, pattern)
    m = sphere.ambient_dim
    if comb(len(cons), m) > limit:
        return None
    extra = [((F(1),) * sphere.d, ZERO)] if sphere.centers else []
    found: list[tuple] = []
    for subset in combinations(cons, m):
        rows = [a for _, a, _ in subset] + [r for r, _ in extra]
        rhs = [g for _, _, g in subset] + [v for _, v in extra]
        z = solve_exact(rows, rhs)
        if z is None or any(dot(a, z) > g for _, a, g in cons):
            continue
        if z not in found:
            found.append(z)
    return found


def bounded_by(sphere: Sphere, pattern: str, certificates: list[tuple[tuple, dict]]) -> bool:
    """Check exactly that the closed region is bounded.

    Each entry ``(c, y)`` has y ≥ 0 and ``P·Σ y_i a_i = c``, so every recession
    direction r ∈ A (a_i·r ≤ 0) has ``c·r ≤ 0``. When the c's are closed under
    negation and span A, r is orthogonal to A, hence r = 0.
    """
    cons = {i: a for i, a, _ in pattern_constraints(sphere, pattern)}
    directions = []
    for c, y in certificates:
        if any(v < 0 or i not in cons for i, v in y.items()):
            return False
        total = sphere.project([sum((v * cons[i][k] for i, v in y.items()), ZERO) for k in range(sphere.d)])
        if total != tuple(c) or sphere.project(c) != tuple(c):
            return False
        directions.append(tuple(c))
    if any(tuple(-x for x in c) not in directions for c in directions):
        return False
    # rank of the directions must be dim A
    rows = [list(c) for c in directions]
    rank = 0
    for col in range(sphere.d):
        p = next((i for i in range(rank, len(rows)) if rows[i][col] != 0), None)
        if p is None:
            continue
        rows[rank], rows[p] = rows[p], rows[rank]
        for i in range(len(rows)):
            if i != rank and rows[i][col] != 0:
                f = rows[i][col] / rows[rank][col]
                rows[i] = [a - f * b for a, b in zip(rows[i], rows[rank])]
        rank += 1
    return rank == sphere.ambient_dim


def inside_ball(sphere: Sphere, pattern: str, certificates) -> bool | None:
    """True when the region is bounded (checked with ``certificates``) and every vertex has ‖z‖² ≤ d.

    Then the open region misses S: a point of its interior has ‖z‖² strictly
    below the maximum over the polytope (‖·‖² is strictly convex), which is
    attained at a vertex and is ≤ d. None when there are too many vertex systems.
    """
    if not bounded_by(sphere, pattern, certificates):
        return False
    verts = region_vertices(sphere, pattern)
    if verts is None:
        return None
    return all(dot(z, z) <= sphere.d for z in verts)
