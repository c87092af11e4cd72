"""The exact part of "rotating x toward d": angles, kinks and per-segment maps (DESIGN §2 "Rotation and output").

Along an affine path ``x(λ) = x₀ + λ·v`` through LayerNorm/RMSNorm, ``u(λ) = P·x(λ) = u₀ + λ·w``
stays in the plane ``span(u₀, w)`` and so does ``z(λ) = √d·u/√(‖u‖² + dε)``. With

    A = ‖u₀‖²,  B = u₀·w,  C = ‖w‖²,  Δ = A·C − B²       (rationals)

and the orthonormal frame ``û = u₀/√A``, ``ê = (A·w − B·u₀)/√(A·Δ)`` the point is
``z = ρ·(cos θ·û + sin θ·ê)`` with

    tan θ = λ·√Δ / (A + λ·B),        cos²θ = (A + λB)² / (A·‖u(λ)‖²)  (rational at rational λ),

and ``ρ = √d`` at ε = 0 (the great circle of DESIGN §2), ``ρ = √d·r/√(r² + dε)``, ``r = ‖u‖``, at ε > 0.
θ increases strictly with λ (the line u₀ + λ·w misses the origin when Δ > 0), so an exact
λ (a :class:`~geomcheck.exact.quadratic.QuadraticRoot`) has an exact angle; we *report* that
angle as the float64 ``atan2`` of the ends of a rational enclosure of λ, which is an estimate
of the last few ulps (math.atan2 is not correctly rounded), labelled as such. The inverse is
``λ = A·sin θ / (√Δ·cos θ − B·sin θ)``; the path ends (λ → ∞) at ``ψ = atan2(√Δ, B)``.

ReLU output on one stretch of constant pattern ``s`` (``D = diag(s_i = +)``):

    f = W_out·D·(W̃·z + b') + b_out = c₀ + (ρ/√d)·(c₁·cos θ + c₂·sin θ)

with ``c₀ = W_out·D·b' + b_out``, ``c₁ = √(d/A)·W_out·D·α``, ``c₂ = √(d/(AΔ))·W_out·D·(A·β − B·α)``,
``α_i = w̃_i·u₀``, ``β_i = w̃_i·w``. Each coefficient is a rational vector times the square root of a
rational: :class:`SegmentMap` keeps them exactly. At a crossing where neurons ``I`` flip, the
Jacobian of f *with respect to z* jumps by ``J = Σ_{i∈I} ±W_out[:, i]·w̃_iᵀ``; for one neuron
``‖J‖₂² = ‖W_out[:, i]‖²·‖w̃_i‖²`` exactly (a rank-one matrix), for several the exact squared
Frobenius norm is kept (the operator norm is left to the float side). The jump of the
derivative *along the arc*, ``Δf′(θ) = Σ ±W_out[:, i]·(w̃_i·z′(θ))``, depends on θ and is a float
estimate (:mod:`geomcheck.search.rotation`).

Standard library only (tests/test_layering.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from geomcheck.errors import DegenerateInput, InvalidInput
from geomcheck.exact.backend import dot, matvec
from geomcheck.exact.quadratic import QuadraticRoot
from geomcheck.geometry.paths import PathSpec
from geomcheck.geometry.regions import count_components
from geomcheck.model.block import MLPBlock

__all__ = ["ArcFrame", "arc_frame", "SegmentMap", "Kink", "segment_maps", "kinks", "angle_label", "SlicePieces",
           "count_slice_pieces"]

ZERO = Fraction(0)

#: what the reported angles are (they are floats of exact numbers)
angle_label = ("estimate of an exact angle: float64 atan2 at the ends of a 2^-80-wide rational "
               "enclosure of the exact λ; the λ itself is exact")


@dataclass(frozen=True)
class ArcFrame:
    """The exact plane of a path through a normalization: A, B, C, Δ and the λ-domain."""

    d: int
    eps: Fraction
    A: Fraction
    B: Fraction
    C: Fraction
    u0: tuple[Fraction, ...]
    w: tuple[Fraction, ...]
    start: Fraction
    end: Fraction | None

    @property
    def Delta(self) -> Fraction:
        return self.A * self.C - self.B * self.B

    def cos_squared(self, lam: Fraction) -> Fraction:
        """``cos²θ(λ)`` exactly (its sign is ``sign(A + λB)``)."""
        lam = Fraction(lam)
        r2 = self.A + 2 * self.B * lam + self.C * lam * lam
        return (self.A + lam * self.B) ** 2 / (self.A * r2)

    def angle_float(self, lam: float) -> float:
        """θ(λ) in radians (float64). ``lam = math.inf`` is the end ψ of an infinite path."""
        root = math.sqrt(float(self.Delta))
        if math.isinf(lam):
            return math.atan2(root, float(self.B))
        return math.atan2(lam * root, float(self.A) + lam * float(self.B))

    def angle(self, lam: "Fraction | QuadraticRoot | None") -> float:
        """θ in radians of an exact λ (None = λ → ∞), from a rational enclosure (see module docstring)."""
        if lam is None:
            return self.angle_float(math.inf)
        if isinstance(lam, QuadraticRoot):
            lo, hi = lam.enclosure(80)
        else:
            lo = hi = Fraction(lam)
        a, b = self.angle_float(float(lo)), self.angle_float(float(hi))
        return 0.5 * (a + b)

    def lambda_of(self, theta: float) -> float:
        """The inverse map λ(θ) (float); ``math.inf`` at θ = ψ."""
        if theta >= self.angle_float(math.inf):
            return math.inf
        s, c = math.sin(theta), math.cos(theta)
        den = math.sqrt(float(self.Delta)) * c - float(self.B) * s
        if den <= 0:
            return math.inf
        return float(self.A) * s / den

    @property
    def total(self) -> float:
        """The angle swept by the whole path, radians."""
        return self.angle(self.end)


def arc_frame(block: MLPBlock, spec: PathSpec) -> ArcFrame:
    """The frame of ``spec`` through ``block``'s normalization; one-line errors where no arc exists."""
    norm = block.norm
    if not norm.scales or not norm.exact_signs:
        raise InvalidInput(f"rotate: needs LayerNorm or RMSNorm in front of the MLP (this model has norm "
                           f"{norm.kind!r}): without a normalization sphere there is no rotation angle")
    if spec.start != 0 or not spec.start_closed:
        raise InvalidInput("rotate: the path must start at λ = 0 (the base point)")
    u0 = norm.center(block.check_vector(spec.base, "--base"))
    w = norm.center(block.check_vector(spec.direction, "--toward"))
    A, B, C = dot(u0, u0), dot(u0, w), dot(w, w)
    if A == 0:
        raise DegenerateInput("--base: its normalization is undefined (zero after centring), so it has no angle")
    frame = ArcFrame(block.d, norm.eps, A, B, C, tuple(u0), tuple(w), spec.start, spec.end)
    if frame.Delta == 0:
        raise DegenerateInput("rotate: the direction (--toward D, or Y − X for --to Y) is parallel to --base after "
                              "centring: the normalized point does not move (or passes through the undefined "
                              "point), so there is no rotation")
    if spec.end is not None and A + 2 * B * spec.end + C * spec.end ** 2 == 0:  # pragma: no cover - Δ > 0 excludes it
        raise DegenerateInput("--to: the arc ends where the normalization is undefined")
    return frame


@dataclass(frozen=True)
class SegmentMap:
    """``f = c₀ + (ρ/√d)·(√s₁·v₁·cos θ + √s₂·v₂·sin θ)`` on ``θ ∈ (theta_from, theta_to)`` (ReLU, exact)."""

    theta_from: float
    theta_to: float
    pattern: str
    c0: tuple[Fraction, ...]
    v1: tuple[Fraction, ...]
    s1: Fraction
    v2: tuple[Fraction, ...]
    s2: Fraction

    def coefficients_float(self) -> tuple[list[float], list[float], list[float]]:
        r1, r2 = math.sqrt(self.s1), math.sqrt(self.s2)
        return ([float(c) for c in self.c0], [r1 * float(v) for v in self.v1], [r2 * float(v) for v in self.v2])


@dataclass(frozen=True)
class Kink:
    """A crossing where the ReLU map changes: exact λ, flipped neurons, exact jump size w.r.t. z."""

    lam: QuadraticRoot
    theta: float
    neurons: tuple[int, ...]
    flipped: tuple[int, ...]      # neurons whose on/off state differs on the two sides
    turned_on: tuple[int, ...]
    squared_frobenius: Fraction   # ‖J‖_F², J = Σ ±W_out[:, i]·w̃_iᵀ (the jump of ∂f/∂z)
    squared_operator: Fraction | None  # ‖J‖₂², exact for a single flip (rank one), else None

    @property
    def jacobian_jump(self) -> float | None:
        return None if self.squared_operator is None else math.sqrt(self.squared_operator)


def _column(block: MLPBlock, i: int) -> tuple[Fraction, ...]:
    return tuple(row[i] for row in block.w_out)


def kinks(block: MLPBlock, frame: ArcFrame, analysis) -> list[Kink]:
    """The map-changing crossings of a ReLU analysis, with exact Jacobian-jump sizes (module docstring)."""
    if not block.activation.piecewise_linear:
        return []
    f = block.folded
    out = []
    for k, crossing in enumerate(analysis.crossings):
        if not crossing.map_changes:
            continue
        before, after = analysis.segments[k].pattern, analysis.segments[k + 1].pattern
        flipped = [i for i in crossing.neurons if (before[i] == "+") != (after[i] == "+")]
        sgn = {i: (1 if after[i] == "+" else -1) for i in flipped}
        # ‖Σ s_i a_i b_iᵀ‖_F² = Σ_ij s_i s_j (a_i·a_j)(b_i·b_j)
        cols = {i: _column(block, i) for i in flipped}
        fro = ZERO
        for i in flipped:
            for j in flipped:
                fro += sgn[i] * sgn[j] * dot(cols[i], cols[j]) * dot(f.weights[i], f.weights[j])
        op = fro if len(flipped) == 1 else None  # rank one: operator norm = Frobenius norm
        out.append(Kink(crossing.at, frame.angle(crossing.at), tuple(crossing.neurons), tuple(flipped),
                        tuple(i for i in flipped if sgn[i] > 0), fro, op))
    return out


def _w_out_times(block: MLPBlock, on: Sequence[bool], values: Sequence[Fraction]) -> list[Fraction]:
    masked = [v if s else ZERO for v, s in zip(values, on)]
    return matvec(block.w_out, masked)


def segment_maps(block: MLPBlock, frame: ArcFrame, analysis) -> list[SegmentMap]:
    """Exact per-segment maps ``c₀ + (ρ/√d)(c₁ cos θ + c₂ sin θ)`` of a ReLU block along the analysed path."""
    if not block.activation.piecewise_linear:
        raise InvalidInput("segment maps: only a ReLU block is affine between crossings")
    f = block.folded
    alpha = matvec(f.weights, frame.u0)
    beta = matvec(f.weights, frame.w)
    A, B, D = frame.A, frame.B, frame.Delta
    gamma = [A * b - B * a for a, b in zip(alpha, beta)]
    s1 = Fraction(frame.d) / A
    s2 = Fraction(frame.d) / (A * D)
    bounds = [0.0] + [frame.angle(c.at) for c in analysis.crossings] + [frame.total]
    out = []
    for k, seg in enumerate(analysis.segments):
        on = [c == "+" for c in seg.pattern]
        c0 = tuple(a + b for a, b in zip(_w_out_times(block, on, f.bias), block.b_out))
        out.append(SegmentMap(bounds[k], bounds[k + 1], seg.pattern, c0,
                              tuple(_w_out_times(block, on, alpha)), s1,
                              tuple(_w_out_times(block, on, gamma)), s2))
    return out


# --------------------------------------------------------------------- the slice sphere, exactly
@dataclass(frozen=True)
class SlicePieces:
    """Exact piece count of a 2-sphere cut by circles (Euler: V − E + F = 1 + C), with its ingredients."""

    pieces: int
    circles: int
    vertices: int
    edges: int
    components: int


def _outward(lo: Fraction, hi: Fraction) -> tuple[float, float]:
    """Floats ``a ≤ lo`` and ``b ≥ hi``: ``float(Fraction)`` rounds to nearest, so one step outward
    makes the bound safe; beyond float range the bound is infinite."""
    try:
        a = math.nextafter(float(lo), -math.inf)
    except OverflowError:
        a = -math.inf
    try:
        b = math.nextafter(float(hi), math.inf)
    except OverflowError:
        b = math.inf
    return a, b


def _point_box(z0, q, mu: Fraction, bits: int = 64) -> tuple[tuple[float, float], ...]:
    """A box of floats certainly containing the point ``z₀ + q·√μ`` (rational ``√μ`` bounds by isqrt)."""
    # root ≤ √(μ·4^bits) < root + 1, since ⌊μ·4^bits⌋ < (root + 1)²
    root = math.isqrt((mu.numerator << (2 * bits)) // mu.denominator)
    r_lo, r_hi = Fraction(root, 1 << bits), Fraction(root + 1, 1 << bits)
    box = []
    for a, b in zip(z0, q):
        ends = (a + b * r_lo, a + b * r_hi)
        box.append(_outward(min(ends), max(ends)))
    return tuple(box)


def count_slice_pieces(normals: Sequence[Sequence[Fraction]], offsets: Sequence[Fraction],
                       gram: Sequence[Fraction], radius2: Fraction) -> SlicePieces:
    """Connected pieces of ``S = {c ∈ ℚ³-coordinates : Σ g_k c_k² = radius2}`` minus the circles ``a_i·c = o_i``.

    The ambient inner product is ``⟨p, q⟩ = Σ g_k p_k q_k`` (a diagonal Gram matrix: coordinates in an
    orthogonal, not normalized, basis — the slice of the normalization sphere by a 3-D subspace has
    no rational orthonormal basis in general, so Euclidean tools cannot be reused). Only planes that
    cut S are passed in. With ``m_i = G⁻¹a_i`` the plane is ``⟨m_i, c⟩ = o_i``; two planes meet S in
    ``z₀ ± √μ·k``, ``k = a_a × a_b`` (orthogonal to both a's, so ⟨m, k⟩ = 0), ``z₀ ∈ span(m_a, m_b)``,
    ``μ = (radius2 − ⟨z₀, z₀⟩)/⟨k, k⟩``. Points of ℚ(√μ)³ are compared exactly; rigorous float
    enclosures (:func:`_point_box`) only rule out pairs that certainly differ. Every piece count is then Euler's formula for the graph drawn on S: vertices =
    distinct points, edges = Σ over circles of their distinct vertices (a circle without one adds
    a vertex and a loop), C = connected components of the circles.
    """
    from geomcheck.exact.signs import sign_three_term

    g = [Fraction(v) for v in gram]

    def gdot(p, q):
        return sum(gk * a * b for gk, a, b in zip(g, p, q))

    # one circle per distinct plane (proportional (a, o) are the same plane)
    planes: list[tuple[tuple[Fraction, ...], Fraction]] = []
    for a, o in zip(normals, offsets):
        a = tuple(Fraction(v) for v in a)
        piv = next(k for k, v in enumerate(a) if v != 0)
        scale = 1 / a[piv]
        key = (tuple(v * scale for v in a), Fraction(o) * scale)
        if key not in planes:
            planes.append(key)
    m = [tuple(v / gk for v, gk in zip(a, g)) for a, _ in planes]
    points: list[tuple[tuple, tuple, Fraction, tuple]] = []
    owners: list[set[int]] = []
    instances = []
    for i in range(len(planes)):
        for j in range(i + 1, len(planes)):
            (ai, oi), (aj, oj) = planes[i], planes[j]
            k = (ai[1] * aj[2] - ai[2] * aj[1], ai[2] * aj[0] - ai[0] * aj[2], ai[0] * aj[1] - ai[1] * aj[0])
            if not any(k):
                continue  # parallel planes: disjoint circles
            g11, g12, g22 = gdot(m[i], m[i]), gdot(m[i], m[j]), gdot(m[j], m[j])
            det = g11 * g22 - g12 * g12
            alpha = (oi * g22 - oj * g12) / det
            beta = (oj * g11 - oi * g12) / det
            z0 = tuple(alpha * p + beta * q for p, q in zip(m[i], m[j]))
            mu = (Fraction(radius2) - gdot(z0, z0)) / gdot(k, k)
            if mu < 0:
                continue
            for s in ((1,) if mu == 0 else (1, -1)):
                q = tuple(s * v for v in k) if mu else (Fraction(0),) * 3
                instances.append((z0, q, mu, _point_box(z0, q, mu), {i, j}))
    # sweep by the lower end of the first coordinate's enclosure: a point whose box is disjoint from
    # another's in some coordinate is a different point; only overlapping boxes are compared exactly
    instances.sort(key=lambda t: t[3][0][0])
    window: list[int] = []
    for z0, q, mu, box, on in instances:
        window = [v for v in window if points[v][3][0][1] >= box[0][0]]
        for v in window:
            pz, pq, pmu, pbox = points[v]
            if any(hi < plo or phi < lo for (lo, hi), (plo, phi) in zip(box, pbox)):
                continue
            if all(sign_three_term(a - c, b, mu, -e, pmu) == 0 for a, b, c, e in zip(z0, q, pz, pq)):
                owners[v].update(on)
                break
        else:
            points.append((z0, q, mu, box))
            owners.append(set(on))
            window.append(len(points) - 1)
    per_circle = [0] * len(planes)
    for on in owners:
        for c in on:
            per_circle[c] += 1
    V, E = len(points), sum(per_circle)
    for count in per_circle:
        if count == 0:
            V, E = V + 1, E + 1
    C = count_components(len(planes), owners)
    pieces = E - V + 1 + C if planes else 1
    return SlicePieces(pieces, len(planes), V, E, C)
