"""Exact crossings of an MLP block's neuron boundaries along an affine path.

The one primitive (DESIGN §2 "Paths") is ``x(λ) = x₀ + λ·v`` for λ in an
interval. With ``u(λ) = P·x(λ) = u₀ + λ·w`` (``w = P·v``):

* ``A_i(λ) = w̃_i·u(λ) = α_i + λ·β_i`` (``α_i = w̃_i·u₀``, ``β_i = w̃_i·w``);
* ``N(λ) = ‖u(λ)‖² + dε = n₀ + 2·n₁·λ + n₂·λ²``.

Neuron i's pre-activation is ``h_i = (√d·A_i + b'_i·√N)/√N``, so its sign is
``sign(√d·A_i + b'_i·√N)`` and it vanishes exactly where

    q_i(λ) = d·A_i(λ)² − b'_i²·N(λ) = 0   and   sign(A_i(λ)) = −sign(b'_i)

(squaring admits the roots of ``√d·A − b'·√N``; the side condition throws
those out). ``q_i = a·λ² + b·λ + c`` with ``a = d·β² − b'²·n₂``,
``b = 2·(d·α·β − b'²·n₁)``, ``c = d·α² − b'²·n₀``: rational coefficients, so
every crossing is an exact :class:`~geomcheck.exact.quadratic.QuadraticRoot`.
Without normalization ``h_i(λ) = (w_i·x₀ + b_i) + λ·(w_i·v)`` is linear and
its polynomial is ``(0, w_i·v, w_i·x₀ + b_i)``.

Rays (``x₀ = 0``): ``α = n₀' = n₁ = 0`` so ``q_i = (d·β² − b'²·n₂)·λ² − b'²·dε``.
At ε = 0 that is ``c_i·λ²``: its only root is λ = 0, outside (0, ∞), so the ray
is region-constant — the cancellation the essay's claim rests on, visible in
:attr:`PathAnalysis.polynomials`. At ε > 0, ``λ*² = b'²·dε/(d·β² − b'²·n₂)``
is rational and the critical squared centred norm is ``r² = λ*²·n₂``.

**What a crossing is (the one definition, used by every front-end).** A
crossing is a λ in the open domain where at least one neuron's pre-activation
is exactly 0; its ``neurons`` are all neurons vanishing there. So a path is
region-constant (one sign pattern at every point, DESIGN §1) iff it has no
crossing. A double root without a sign change (a *touching* zero: the path
touches neuron i's boundary and comes back) is a crossing — the touching
point has a pattern with a 0 — but no neuron flips there:
:attr:`PathAnalysis.flips` lists, per crossing, the neurons whose sign
differs between the segments on either side, and ``map_changes`` is false
when the patterns on both sides agree. Counts of *sign changes* (the study's
"gate-sign changes") are ``sum(len(f) for f in analysis.flips)``, not the
number of crossings. Ordering is exact: equal crossings of different neurons
(simultaneous flips) are *one* crossing listing all of them. Between crossings the sign of each neuron is
constant (t_i is continuous and N > 0 on the domain), which is how patterns
are built: one exact sign evaluation per neuron and stretch between its own
zeros.

Degenerate inputs: with ε = 0 a normalized path that meets ``u = 0``
(``span(1)`` for LayerNorm, the origin for RMSNorm) leaves the domain of the
normalization; :func:`analyse_path` raises :class:`PathThroughUndefined` (a
``DegenerateInput``) whose ``lam`` attribute is the exact λ. An arc between
antipodal points (``z(x) = −z(y)``, ε = 0) has no unique great-circle arc and
raises the same error with the antipodal message. A zero of a neuron exactly
at a closed end of the interval is not a crossing (nothing lies beyond it):
that end is opened, and the zero is listed in ``endpoint_zeros``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import cached_property, cmp_to_key
from typing import Callable, Sequence

from geomcheck.errors import InvalidInput, PathThroughUndefined
from geomcheck.exact.backend import dot, matvec
from geomcheck.exact.quadratic import QuadraticRoot, real_roots
from geomcheck.exact.rationals import format_rational
from geomcheck.exact.signs import sign, sign_a_plus_b_sqrt_c, sign_sqrt_combination
from geomcheck.model.block import MLPBlock

__all__ = [
    "PathSpec",
    "Crossing",
    "Segment",
    "PathAnalysis",
    "PathCoefficients",
    "PathThroughUndefined",
    "analyse_path",
    "path_coefficients",
    "neuron_line",
    "crossing_polynomial",
    "neuron_zeros",
    "assemble_analysis",
]

Vector = tuple[Fraction, ...]
ZERO = Fraction(0)
ONE = Fraction(1)


@dataclass(frozen=True)
class PathSpec:
    """``x(λ) = base + λ·direction`` for λ from ``start`` to ``end`` (None = +∞).

    ``kind`` is descriptive (``ray``, ``superposition``, ``arc``, ``path``);
    arcs get the antipodal / identical-direction checks.
    """

    base: Vector
    direction: Vector
    start: Fraction
    end: Fraction | None
    start_closed: bool
    end_closed: bool
    kind: str = "path"

    def __post_init__(self) -> None:
        object.__setattr__(self, "base", tuple(Fraction(v) for v in self.base))
        object.__setattr__(self, "direction", tuple(Fraction(v) for v in self.direction))
        object.__setattr__(self, "start", Fraction(self.start))
        if self.end is not None:
            object.__setattr__(self, "end", Fraction(self.end))
        if len(self.base) != len(self.direction):
            raise InvalidInput(f"path: base has {len(self.base)} entries, direction has {len(self.direction)}")
        if self.end is None and self.end_closed:
            raise InvalidInput("path: an infinite end cannot be closed")
        if self.end is not None and not self.start < self.end:
            raise InvalidInput(f"path: the interval must have start < end (got {self.start} … {self.end})")

    @staticmethod
    def ray(v: Sequence[Fraction]) -> "PathSpec":
        """The open ray ``{λ·v : λ > 0}``."""
        v = tuple(Fraction(c) for c in v)
        return PathSpec((ZERO,) * len(v), v, ZERO, None, False, False, "ray")

    @staticmethod
    def superposition(x: Sequence[Fraction], d: Sequence[Fraction], maximum: Fraction | None = None) -> "PathSpec":
        """``x + λ·d`` for λ ∈ [0, ∞) or [0, maximum]."""
        if maximum is not None and not Fraction(maximum) > 0:
            raise InvalidInput(f"--max: must be > 0, got {maximum}")
        return PathSpec(tuple(x), tuple(d), ZERO, None if maximum is None else Fraction(maximum), True,
                        maximum is not None, "superposition")

    @staticmethod
    def arc(x: Sequence[Fraction], y: Sequence[Fraction]) -> "PathSpec":
        """``x + s·(y − x)``, s ∈ [0, 1]: the great-circle arc from z(x) to z(y) when ε = 0."""
        x = tuple(Fraction(c) for c in x)
        y = tuple(Fraction(c) for c in y)
        return PathSpec(x, tuple(b - a for a, b in zip(x, y, strict=True)), ZERO, ONE, True, True, "arc")

    def contains(self, lam: "QuadraticRoot | Fraction") -> bool:
        lower = lam >= self.start if self.start_closed else lam > self.start
        if not lower:
            return False
        if self.end is None:
            return True
        return lam <= self.end if self.end_closed else lam < self.end

    def point(self, lam: Fraction) -> Vector:
        return tuple(b + lam * v for b, v in zip(self.base, self.direction))

    def describe(self) -> str:
        left = "[" if self.start_closed else "("
        right = "]" if self.end_closed else ")"
        end = "∞" if self.end is None else format_rational(self.end)
        return f"λ ∈ {left}{format_rational(self.start)}, {end}{right}"

    def to_json(self) -> dict:
        return {
            "base": [format_rational(v) for v in self.base],
            "direction": [format_rational(v) for v in self.direction],
            "start": format_rational(self.start),
            "end": None if self.end is None else format_rational(self.end),
            "start_closed": self.start_closed,
            "end_closed": self.end_closed,
        }


@dataclass
class Crossing:
    """One point of the path where the listed neurons vanish (all at the same exact λ)."""

    at: QuadraticRoot
    neurons: tuple[int, ...]
    interval: tuple[Fraction, Fraction]  # open, rational, contains no other zero of any neuron
    map_changes: bool


@dataclass
class Segment:
    """A stretch between crossings: a rational witness λ and the exact sign pattern there."""

    witness: Fraction
    pattern: str


def _built_on_read(name: str) -> property:
    """A field that calls ``self._resolve()`` when read while still None (which fills it)."""
    private = "_" + name

    def read(self):
        if self.__dict__.get(private) is None:
            self._resolve()
        return self.__dict__[private]

    def write(self, value) -> None:
        self.__dict__[private] = value

    return property(read, write)


class LazyCrossing(Crossing):
    """A :class:`Crossing` whose exact ``at`` and ``interval`` are built on first read.

    The filtered engine can certify a path's order, neurons and patterns in rigorous float
    arithmetic (:mod:`geomcheck.search.pathorder`); ``resolve`` then builds the exact forms of
    *all* the path's crossings and witnesses at once, the first time any of them is read.
    Equality, ``repr`` and pickling read the exact forms: a lazy crossing behaves as an eager one.
    """

    at = _built_on_read("at")
    interval = _built_on_read("interval")

    def __init__(self, neurons: tuple[int, ...], map_changes: bool, resolve: Callable[[], None]):
        # Crossing.__init__'s assignments, without a property call per field (one per crossing adds up)
        self.__dict__.update(_resolve=resolve, _at=None, neurons=neurons, _interval=None, map_changes=map_changes)

    def _fields(self) -> tuple:
        return (self.at, self.neurons, self.interval, self.map_changes)

    def __eq__(self, other):
        if isinstance(other, Crossing):
            return self._fields() == (other.at, other.neurons, other.interval, other.map_changes)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(Crossing(*self._fields()))

    def __reduce__(self):
        return (Crossing, self._fields())


class LazySegment(Segment):
    """A :class:`Segment` whose rational ``witness`` is built on first read (see :class:`LazyCrossing`)."""

    witness = _built_on_read("witness")

    def __init__(self, pattern: str, resolve: Callable[[], None]):
        self.__dict__.update(_resolve=resolve, _witness=None, pattern=pattern)

    def __eq__(self, other):
        if isinstance(other, Segment):
            return (self.witness, self.pattern) == (other.witness, other.pattern)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(Segment(self.witness, self.pattern))

    def __reduce__(self):
        return (Segment, (self.witness, self.pattern))


@dataclass(frozen=True)
class PathCoefficients:
    """The exact λ-independent pieces of a path: ``u₀ = P·x₀``, ``w = P·v`` and ``N(λ)``.

    ``u₀ = u0_int/u0_den`` and ``w = w_int/w_den`` are kept as integer vectors over one
    denominator each (the sums below are then integer sums, much faster than Fractions).
    """

    scales: bool
    d: int
    u0_int: tuple[int, ...]
    u0_den: int
    w_int: tuple[int, ...]
    w_den: int
    n0: Fraction  # ‖u₀‖² + dε (0 without normalization)
    n1: Fraction  # u₀·w
    n2: Fraction  # ‖w‖²

    @cached_property
    def u0(self) -> Vector:
        return tuple(Fraction(a, self.u0_den) for a in self.u0_int)

    @cached_property
    def w(self) -> Vector:
        return tuple(Fraction(a, self.w_den) for a in self.w_int)

    def N(self, lam: Fraction) -> Fraction:
        return self.n0 + 2 * self.n1 * lam + self.n2 * lam * lam


def _integer_vector(v: Sequence[Fraction]) -> tuple[tuple[int, ...], int]:
    den = math.lcm(*(x.denominator for x in v))
    return tuple(x.numerator * (den // x.denominator) for x in v), den


def _centre_integers(ints: tuple[int, ...], den: int, centers: bool) -> tuple[tuple[int, ...], int]:
    """P·(ints/den) as integers over one denominator: (d·x − Σx)/(d·den)."""
    if not centers:
        return ints, den
    total = sum(ints)
    d = len(ints)
    return tuple(d * a - total for a in ints), d * den


def path_coefficients(block: MLPBlock, spec: PathSpec) -> PathCoefficients:
    block.check_vector(spec.base, "base")
    block.check_vector(spec.direction, "direction")
    if not block.norm.exact_signs:
        # DyT (tanh) crossings are transcendental: geomcheck.search.dyt isolates them with interval arithmetic
        raise InvalidInput(f"model: the exact path engine does not handle norm kind {block.norm.kind!r} "
                           "(use geomcheck counterexample MODEL --direction V for certified DyT rays)")
    d = block.d
    xi, xd = _integer_vector(spec.base)
    vi, vd = _integer_vector(spec.direction)
    if not block.norm.scales:
        return PathCoefficients(False, d, xi, xd, vi, vd, ZERO, ZERO, ZERO)
    ui, ud = _centre_integers(xi, xd, block.norm.centers)
    wi, wd = _centre_integers(vi, vd, block.norm.centers)
    n0 = Fraction(sum(a * a for a in ui), ud * ud) + d * block.norm.eps
    n1 = Fraction(sum(map(int.__mul__, ui, wi)), ud * wd)
    n2 = Fraction(sum(a * a for a in wi), wd * wd)
    return PathCoefficients(True, d, ui, ud, wi, wd, n0, n1, n2)


def neuron_line(block: MLPBlock, coef: PathCoefficients, i: int) -> tuple[Fraction, Fraction]:
    """``(α_i, β_i)``: ``A_i(λ) = α_i + λ·β_i`` (no norm: the pre-activation itself, bias included)."""
    f = block.folded
    alpha = dot(f.weights[i], coef.u0)
    beta = dot(f.weights[i], coef.w)
    if not coef.scales:
        alpha += f.bias[i]
    return alpha, beta


def all_neuron_lines(block: MLPBlock, coef: PathCoefficients) -> list[tuple[Fraction, Fraction]]:
    f = block.folded
    alphas = matvec(f.weights, coef.u0)
    betas = matvec(f.weights, coef.w)
    if not coef.scales:
        alphas = [a + b for a, b in zip(alphas, f.bias)]
    return list(zip(alphas, betas))


def crossing_polynomial(coef: PathCoefficients, alpha: Fraction, beta: Fraction, bias: Fraction) -> tuple[Fraction, Fraction, Fraction]:
    """``(a, b, c)`` of ``q_i(λ) = a·λ² + b·λ + c`` (module docstring)."""
    if not coef.scales:
        return (ZERO, beta, alpha)
    d = coef.d
    b2 = bias * bias
    return (d * beta * beta - b2 * coef.n2, 2 * (d * alpha * beta - b2 * coef.n1), d * alpha * alpha - b2 * coef.n0)


def neuron_zeros(spec: PathSpec, coef: PathCoefficients, alpha: Fraction, beta: Fraction, bias: Fraction) -> list[QuadraticRoot]:
    """The zeros of neuron i's pre-activation in the (closed hull of the) domain, increasing."""
    a, b, c = crossing_polynomial(coef, alpha, beta, bias)
    zeros = []
    for root in real_roots(a, b, c):
        if not _in_domain(spec, root):
            continue
        if coef.scales and bias != 0:
            # A(root) = α + β·(p + q√D) must have the sign opposite to b'
            if sign_a_plus_b_sqrt_c(alpha + beta * root.p, beta * root.q, root.D) != -sign(bias):
                continue
        zeros.append(root)
    return zeros


def _in_domain(spec: PathSpec, root: QuadraticRoot) -> bool:
    """spec.contains(root), deciding by a rational enclosure first."""
    lo, hi = root.enclosure(_BITS)
    if lo > spec.start and (spec.end is None or hi < spec.end):
        return True
    if hi < spec.start or (spec.end is not None and lo > spec.end):
        return False
    return spec.contains(root)


def exact_sign(coef: PathCoefficients, alpha: Fraction, beta: Fraction, bias: Fraction, lam: Fraction) -> int:
    """Exact sign of neuron i's pre-activation at the rational λ."""
    value = alpha + beta * lam
    if not coef.scales:
        return sign(value)
    return sign_sqrt_combination(value, Fraction(coef.d), bias, coef.N(lam))


def _compare_roots(x: tuple[QuadraticRoot, int], y: tuple[QuadraticRoot, int]) -> int:
    return x[0]._cmp(y[0])


def _check_defined(block: MLPBlock, spec: PathSpec, coef: PathCoefficients) -> None:
    """Raise PathThroughUndefined when N(λ) = ‖u(λ)‖² = 0 for some λ in the domain (ε = 0)."""
    if not coef.scales or block.norm.eps != 0:
        return
    where = "span(1) (a constant vector)" if block.norm.centers else "the origin"
    if coef.n2 == 0:
        if coef.n0 == 0:
            raise PathThroughUndefined(
                f"path: every point lies in {where}, where {block.norm.kind} with eps = 0 is undefined", spec.start)
        return
    lam = -coef.n1 / coef.n2
    if coef.N(lam) == 0 and spec.contains(lam):
        if spec.kind == "arc" and lam not in (ZERO, ONE):
            raise PathThroughUndefined(
                f"arc: the endpoints are antipodal, z(x) = −z(y), so there is no unique great-circle arc "
                f"(the chord passes through {where} at s = {format_rational(lam)})", lam)
        raise PathThroughUndefined(
            f"path: meets {where} at λ = {format_rational(lam)}, where {block.norm.kind} with eps = 0 is undefined "
            f"(the normalized point is not defined there)", lam)


def _arc_note(block: MLPBlock, coef: PathCoefficients) -> str | None:
    """At ε = 0, note when z(x) = z(y): the arc is a single point."""
    if not coef.scales or block.norm.eps != 0:
        return None
    ux = coef.u0
    uy = tuple(a + b for a, b in zip(coef.u0, coef.w))
    cross = dot(ux, uy)
    if cross > 0 and cross * cross == dot(ux, ux) * dot(uy, uy):
        return "identical directions: z(x) = z(y), so the arc is a single point of the sphere"
    return None


@dataclass
class PathAnalysis:
    """Everything :func:`analyse_path` finds along one path (exact)."""

    block: MLPBlock = field(repr=False)
    spec: PathSpec
    crossings: list[Crossing]
    segments: list[Segment]
    coefficients: PathCoefficients = field(repr=False)
    lines: dict[int, tuple[Fraction, Fraction]] = field(repr=False, default_factory=dict)  # exact (α, β) known
    endpoint_zeros: list[tuple[Fraction, tuple[int, ...]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requested_spec: PathSpec | None = None

    @property
    def verdict(self) -> str:
        return "constant" if not self.crossings else "not-constant"

    @property
    def flips(self) -> list[tuple[int, ...]]:
        """Per crossing, the neurons whose sign differs between the segments on either side.

        A touching zero (double root) is a crossing whose neuron does not flip; a
        neuron that goes + → 0 → − … is not possible between two segments, since
        segment patterns hold at interior points (no 0 unless the neuron is 0 on
        the whole segment).
        """
        out = []
        for k, crossing in enumerate(self.crossings):
            before, after = self.segments[k].pattern, self.segments[k + 1].pattern
            out.append(tuple(i for i in crossing.neurons if before[i] != after[i]))
        return out

    @property
    def is_ray(self) -> bool:
        return self.spec.kind == "ray" or (all(v == 0 for v in self.spec.base) and self.spec.start == 0
                                            and self.spec.end is None and not self.spec.start_closed)

    @property
    def piecewise_linear(self) -> bool:
        return self.block.activation.piecewise_linear

    def line(self, i: int) -> tuple[Fraction, Fraction]:
        if i not in self.lines:
            self.lines[i] = neuron_line(self.block, self.coefficients, i)
        return self.lines[i]

    @cached_property
    def polynomials(self) -> list[tuple[Fraction, Fraction, Fraction]]:
        """Per neuron, ``(a, b, c)`` of its crossing polynomial (exact; computed on first use)."""
        bias = self.block.folded.bias
        if len(self.lines) < self.block.n:
            for i, line in enumerate(all_neuron_lines(self.block, self.coefficients)):
                self.lines.setdefault(i, line)
        return [crossing_polynomial(self.coefficients, *self.lines[i], bias[i]) for i in range(self.block.n)]

    @cached_property
    def critical_norms(self) -> list[tuple[int, Fraction]]:
        """For a ray through a normalization with ε > 0: (neuron, r²) with r² = λ*²·‖P·v‖² the
        squared centred norm at which the neuron flips. Empty otherwise."""
        coef = self.coefficients
        if not (self.is_ray and coef.scales and self.block.norm.eps > 0):
            return []
        bias = self.block.folded.bias
        out = []
        for crossing in self.crossings:
            for i in crossing.neurons:
                a, _, c = crossing_polynomial(coef, *self.line(i), bias[i])
                out.append((i, (-c / a) * coef.n2))  # b = 0 for rays: λ*² = −c/a
        return sorted(out)

    @property
    def constant_above(self) -> Fraction | None:
        """The largest critical squared norm: above it the ray is region-constant."""
        norms = self.critical_norms
        return max(r for _, r in norms) if norms else None

    def to_json(self, digits: int = 17) -> dict:
        """The ``--json`` object (see README "geomcheck ray / path / arc")."""
        out = {
            "verdict": self.verdict,
            "model": self.block.name,
            "kind": self.spec.kind,
            "path": self.spec.to_json(),
            "domain": self.spec.describe(),
            "norm": {"kind": self.block.norm.kind, "eps": format_rational(self.block.norm.eps)},
            "activation": self.block.activation.name,
            "regions": "affine pieces (ReLU sign patterns)" if self.piecewise_linear else
            "gate patterns of a gated block (signs of W_gate·N(x) + b_gate; bilinear, never affine, on each)"
            if hasattr(self.block, "gate_flips_live") else
            "gate-sign patterns of a smooth activation; map_changes is the ReLU-gate surrogate",
            "crossings": [
                {"lambda": c.at.to_decimal(digits), "exact": c.at.exact_form(), "neurons": list(c.neurons),
                 "interval": [format_rational(c.interval[0]), format_rational(c.interval[1])],
                 "map_changes": c.map_changes}
                for c in self.crossings
            ],
            "segments": [{"pattern": s.pattern, "witness": format_rational(s.witness)} for s in self.segments],
            "notes": list(self.notes),
        }
        if self.endpoint_zeros:
            out["endpoint_zeros"] = [{"lambda": format_rational(lam), "neurons": list(ns)} for lam, ns in self.endpoint_zeros]
        if self.is_ray and self.coefficients.scales and self.block.norm.eps > 0:
            out["critical_norms"] = [{"neuron": i, "squared_norm": format_rational(r), "norm": f"{math.sqrt(r):.17g}"}
                                     for i, r in self.critical_norms]
            above = self.constant_above
            out["constant_above"] = None if above is None else format_rational(above)
            if above is not None:
                out["constant_above_norm"] = f"{math.sqrt(above):.17g}"  # display: √ of the exact r²
        return out


_BITS = 64


class _Enclosed:
    """An exact root with a rational enclosure ``lo ≤ root ≤ hi`` (refined on demand).

    Enclosures only *speed up* decisions: two roots whose enclosures are
    disjoint are ordered; otherwise the exact comparison decides.
    """

    __slots__ = ("root", "lo", "hi", "bits")

    def __init__(self, root: QuadraticRoot):
        self.root = root
        self.bits = _BITS
        self.lo, self.hi = root.enclosure(_BITS)

    def refine(self) -> None:
        self.bits *= 4
        self.lo, self.hi = self.root.enclosure(self.bits)


def _sorted_groups(items: list[tuple[QuadraticRoot, int]]) -> list[tuple[_Enclosed, list[int]]]:
    """Sort exactly and merge equal roots (simultaneous flips) into one group."""
    enclosed = [(_Enclosed(root), i) for root, i in items]
    enclosed.sort(key=lambda item: (item[0].lo, item[1]))
    groups: list[tuple[_Enclosed, list[int]]] = []
    for where, i in enclosed:
        if groups:
            last = groups[-1][0]
            order = -1 if last.hi < where.lo else last.root._cmp(where.root)
            if order == 0:
                groups[-1][1].append(i)
                continue
            if order > 0:  # the enclosure order was wrong (cannot happen with lo ≤ root): sort exactly
                return _sorted_groups_exactly(items)
        groups.append((where, [i]))
    return groups


def _sorted_groups_exactly(items):
    flat = sorted(items, key=cmp_to_key(_compare_roots))
    groups = []
    for root, i in flat:
        if groups and groups[-1][0].root == root:
            groups[-1][1].append(i)
        else:
            groups.append((_Enclosed(root), [i]))
    return groups


def _simplest(lo: Fraction, hi: Fraction) -> Fraction:
    """Same value as :func:`geomcheck.exact.quadratic.simplest_between` (the rational with the
    smallest denominator in the open interval (lo, hi)), by the same continued-fraction descent
    on plain integers: ``result = (p0·t + p1)/(q0·t + q1)`` while t descends."""
    if lo < 0 < hi:
        return ZERO
    if hi <= 0:
        return -_simplest(-hi, -lo)
    a, b, c, e = lo.numerator, lo.denominator, hi.numerator, hi.denominator
    p0, p1, q0, q1 = 1, 0, 0, 1
    while True:
        fl = a // b
        if (fl + 1) * e < c:
            t = fl + 1
            return Fraction(p0 * t + p1, q0 * t + q1)
        if a == fl * b:
            k = e // (c - fl * e) + 1
            return Fraction(p0 * (fl * k + 1) + p1 * k, q0 * (fl * k + 1) + q1 * k)
        p0, p1, q0, q1 = p0 * fl + p1, p0, q0 * fl + q1, q0
        a, b, c, e = e, c - fl * e, b, a - fl * b


def _between(left: "_Enclosed | Fraction", right: "_Enclosed | Fraction | None") -> Fraction:
    """The simplest rational strictly between left < right (right None = +∞), via enclosures."""
    while True:
        top = left.hi if isinstance(left, _Enclosed) else left
        if right is None:
            return Fraction(math.floor(top) + 1)
        bottom = right.lo if isinstance(right, _Enclosed) else right
        if top < bottom:
            return _simplest(top, bottom)
        if top == bottom and not isinstance(left, _Enclosed) and not isinstance(right, _Enclosed):
            raise ValueError("_between needs left < right")
        for side in (left, right):
            if isinstance(side, _Enclosed):
                side.refine()


def assemble_analysis(
    block: MLPBlock,
    spec: PathSpec,
    coef: PathCoefficients,
    zeros: dict[int, list[QuadraticRoot]],
    sign_on_domain: Callable[[int, Fraction], int],
    lines: dict[int, tuple[Fraction, Fraction]],
    notes: list[str] | None = None,
) -> PathAnalysis:
    """Order the zeros, group equal ones, pick witnesses, build patterns.

    ``zeros[i]`` must hold *every* zero of neuron i in the closed hull of the
    domain for every neuron that has one (neurons absent from ``zeros`` have
    none); ``sign_on_domain(i, λ)`` must return neuron i's exact sign at the
    rational λ of the domain. Shared by the exact engine and the filtered one,
    which is how they return identical results.
    """
    groups = _sorted_groups([(root, i) for i, roots in zeros.items() for root in roots])
    return assemble_from_groups(block, spec, coef, groups, sign_on_domain, lines, notes)


def assemble_from_groups(
    block: MLPBlock,
    spec: PathSpec,
    coef: PathCoefficients,
    groups: list[tuple[_Enclosed, list[int]]],
    sign_on_domain: Callable[[int, Fraction], int],
    lines: dict[int, tuple[Fraction, Fraction]],
    notes: list[str] | None = None,
) -> PathAnalysis:
    """The rest of :func:`assemble_analysis` once the zeros are sorted and grouped.

    ``groups`` must be what :func:`_sorted_groups` returns for the same zeros:
    distinct roots in increasing order, each with its 64-bit enclosure and the
    neurons vanishing there (the filtered engine builds it faster when it can
    certify that no two roots coincide).
    """
    notes = list(notes or [])
    requested = spec
    endpoint_zeros = []
    if groups and spec.start_closed and groups[0][0].root == spec.start:
        endpoint_zeros.append((spec.start, tuple(sorted(groups[0][1]))))
        groups = groups[1:]
        spec = replace(spec, start_closed=False)
    if groups and spec.end_closed and groups[-1][0].root == spec.end:
        endpoint_zeros.append((spec.end, tuple(sorted(groups[-1][1]))))
        groups = groups[:-1]
        spec = replace(spec, end_closed=False)
    if endpoint_zeros:
        notes.append("a neuron vanishes at a closed end of the interval; that end is opened (see endpoint_zeros)")

    located = [g[0] for g in groups]
    bounds: list = [spec.start] + located + [spec.end]
    witnesses = [_between(bounds[k], bounds[k + 1]) for k in range(len(located) + 1)]

    # patterns: a neuron's sign is constant between its own zeros
    n = block.n
    symbol = {1: ord("+"), -1: ord("-"), 0: ord("0")}
    current = bytearray(symbol[sign_on_domain(i, witnesses[0])] for i in range(n))
    patterns = [current.decode()]
    for k, (_, neurons) in enumerate(groups):
        for i in neurons:
            current[i] = symbol[sign_on_domain(i, witnesses[k + 1])]
        patterns.append(current.decode())
    segments = [Segment(w, p) for w, p in zip(witnesses, patterns)]

    crossings = []
    for k, (where, neurons) in enumerate(groups):
        lo = _between(witnesses[k], where)
        hi = _between(where, witnesses[k + 1])
        changes = _map_changes(block, patterns[k], patterns[k + 1], neurons)
        crossings.append(Crossing(where.root, tuple(sorted(neurons)), (lo, hi), changes))
    analysis = PathAnalysis(block, spec, crossings, segments, coef, dict(lines), endpoint_zeros, notes, requested)
    add_activation_notes(analysis)
    return analysis


def add_activation_notes(analysis: PathAnalysis) -> None:
    """The notes every path result of a gated or smooth block carries (both engines, lazy or not)."""
    block = analysis.block
    if hasattr(block, "gate_flips_live"):  # gated: the pattern wording is the result's note; add the bias-free fact
        analysis.notes.extend(block.path_notes(analysis.is_ray))
    elif not block.activation.piecewise_linear:
        analysis.notes.append(
            f"activation {block.activation.name} is smooth: regions are gate-sign patterns, and map_changes is the "
            "ReLU-gate surrogate (W_out·(D_s − D_t)·[w̃ | b'] ≠ 0), not a change of an affine map")


def one_flip_changes(block: MLPBlock, i: int) -> bool:
    """:func:`_map_changes` when neuron i alone flips (a gated block asks its own gate test)."""
    if hasattr(block, "gate_flips_live"):
        return block.gate_flips_live([i])
    return _single_neuron_changes(block, i)


def _single_neuron_changes(block: MLPBlock, i: int) -> bool:
    """``W_out[:, i] ≠ 0 and [w̃_i | b'_i] ≠ 0`` (exact; remembered in the block's derived data):
    one neuron's ``W_out[:, i]·[w̃_i | b'_i]`` is an outer product, zero iff a factor is zero."""
    cached = block.data.cached("paths.single_neuron_changes", dict)
    if i not in cached:
        f = block.folded
        cached[i] = not block.output_is_zero(i) and (f.bias[i] != 0 or not f.row_is_zero(i))
    return cached[i]


def _map_changes(block: MLPBlock, before: str, after: str, neurons: Sequence[int]) -> bool:
    """``W_out·(D_s − D_t)·[w̃ | b'] ≠ 0`` — only the crossing's neurons can differ."""
    flipped = [(i, 1 if before[i] == "+" else -1) for i in neurons if (before[i] == "+") != (after[i] == "+")]
    if not flipped:
        return False
    if hasattr(block, "gate_flips_live"):  # gated block (geomcheck.model.gated): no affine map to compare
        return block.gate_flips_live([i for i, _ in flipped])
    f = block.folded
    if len(flipped) == 1:
        return _single_neuron_changes(block, flipped[0][0])
    columns = {i: block.w_out_column(i) for i, _ in flipped}
    for r in range(block.d_out):
        active = [(i, s * columns[i][r]) for i, s in flipped if columns[i][r]]
        if not active:
            continue
        for k in range(block.d + 1):
            total = sum((c * (f.weights[i][k] if k < block.d else f.bias[i]) for i, c in active), ZERO)
            if total:
                return True
    return False


def prepare_path(block: MLPBlock, spec: PathSpec):
    """The path's exact coefficients and its notes, after refusing undefined paths.

    Shared by both engines: raises :class:`PathThroughUndefined` when the
    path meets ``u = 0`` at ε = 0; arcs get their note (identical directions...).
    """
    coef = path_coefficients(block, spec)
    _check_defined(block, spec, coef)
    notes = []
    if spec.kind == "arc":
        note = _arc_note(block, coef)
        if note:
            notes.append(note)
    return coef, notes


def analyse_path(block: MLPBlock, spec: PathSpec) -> PathAnalysis:
    """All crossings of the path with the neuron boundaries, exactly (the reference engine).

    Raises :class:`PathThroughUndefined` when the path meets ``u = 0`` at ε = 0.
    """
    coef, notes = prepare_path(block, spec)
    bias = block.folded.bias
    lines = dict(enumerate(all_neuron_lines(block, coef)))
    zeros = {}
    for i in range(block.n):
        found = neuron_zeros(spec, coef, *lines[i], bias[i])
        if found:
            zeros[i] = found
    if coef.scales and block.norm.eps == 0 and all(v == 0 for v in coef.u0) and spec.start >= 0:
        notes.append("ray at eps = 0: every crossing polynomial is q_i(λ) = a_i·λ² (its λ¹ and λ⁰ "
                     "coefficients vanish), whose only root λ = 0 lies outside λ > 0: the ray is region-constant")

    def sign_on_domain(i: int, lam: Fraction) -> int:
        return exact_sign(coef, *lines[i], bias[i], lam)

    return assemble_analysis(block, spec, coef, zeros, sign_on_domain, lines, notes)
