"""Rays through DyT (``γ·tanh(α·x) + β``): crossings by certified interval arithmetic.

After folding, neuron i's pre-activation along the ray ``t·v`` (t > 0) is

    h_i(t) = Σ_j w'_ij·tanh(α·v_j·t) + b'_i = Σ_c a_c·tanh(c·t) + b'_i,

grouping the terms by ``c = |α·v_j| > 0`` with ``a_c = Σ_{|αv_j| = c}
w'_ij·sign(α·v_j)`` (tanh is odd) and dropping ``a_c = 0``. This grouping is
exact (rationals), and it matters:

* if no term is left, ``h_i ≡ b'_i`` on the ray (exact sign);
* otherwise h_i is not constant (1 and the tanh(c·t) for distinct c > 0 are
  linearly independent: the pole of tanh(c_max·t) at iπ/(2c_max) is shared by
  no other term), and **h_i(t) ≠ 0 at every rational t > 0**: with L a common
  denominator of the c·L ∈ ℤ, h_i is a rational function R(q) of
  ``q = e^{2t/L}`` with rational coefficients, not identically zero, and q is
  transcendental (Lindemann), so R(q) ≠ 0. Hence raising the precision of
  the ball arithmetic always certifies the sign at a rational point (we stop
  at 4096 bits and report "undecided" rather than loop).

Zeros are isolated with python-flint's ``arb`` balls (rigorous enclosures):

* range of h on [a, b]: tanh is increasing, so each term's range is the hull
  of its endpoint values; if the enclosure excludes 0 there is no zero;
* ``h'(t) = Σ a_c·c·sech²(c·t)`` (sech² decreasing on t ≥ 0, hull of the
  endpoint values): if its enclosure excludes 0, h is strictly monotone on
  [a, b], so it has a zero there iff h(a), h(b) have strictly opposite
  certified signs — and then exactly one (a **certified root**, isolated in
  [a, b]); otherwise bisect, down to a minimum width (then "undecided");
* tail ``t ≥ T``: ``|h(t) − h(∞)| ≤ Σ |a_c|·(1 − tanh(c·T))`` with
  ``h(∞) = Σ a_c + b'_i`` exact; if ``|h(∞)|`` exceeds that bound no zero lies
  beyond T. T doubles from 1 until every neuron's tail is certified.

The crossing list is **complete** when every neuron's [0, T] was fully
decided and its tail certified. A counterexample needs less: two rational
scales whose certified patterns differ and give different affine maps of
``z = tanh(α·x)`` (exact :meth:`MLPBlock.map_changes`); the sign change in
between follows from continuity. Such results are labelled
"certified (interval arithmetic)"; anything short of that is an estimate.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Sequence

from geomcheck.errors import InvalidInput
from geomcheck.exact.quadratic import simplest_between
from geomcheck.exact.rationals import format_rational
from geomcheck.model.block import MLPBlock

__all__ = ["neuron_ray_terms", "certified_sign", "certified_pattern", "isolate_roots", "DyTRay", "analyse_dyt_ray",
           "find_dyt_counterexample", "DyTFeasibility", "dyt_feasibility"]

METHOD = "certified (interval arithmetic)"
_PRECISIONS = (64, 128, 256, 512, 1024, 4096)


def _flint():
    import flint

    return flint


def neuron_ray_terms(block: MLPBlock, v: Sequence[Fraction]) -> list[tuple[list[tuple[Fraction, Fraction]], Fraction]]:
    """Per neuron ``([(c, a_c), …], b')`` with ``h_i(t) = Σ a_c·tanh(c·t) + b'`` (exact grouping)."""
    if block.norm.kind != "dyt":
        raise InvalidInput(f"model: DyT ray analysis needs norm kind 'dyt', not {block.norm.kind!r}")
    v = block.check_direction(v)
    alpha = block.norm.alpha
    f = block.folded
    out = []
    for w, b in zip(f.weights, f.bias):
        grouped: dict[Fraction, Fraction] = {}
        for wj, vj in zip(w, v):
            if wj and vj:
                c = alpha * vj
                grouped[abs(c)] = grouped.get(abs(c), Fraction(0)) + wj * (1 if c > 0 else -1)
        out.append(([(c, a) for c, a in sorted(grouped.items()) if a], b))
    return out


def _ball(q: Fraction):
    fl = _flint()
    return fl.arb(fl.fmpq(q.numerator, q.denominator))


def _sign(x) -> int | None:
    if x > 0:
        return 1
    if x < 0:
        return -1
    return None


def _limit(terms, b: Fraction) -> Fraction:
    """h(∞) = Σ a_c + b', exactly."""
    return sum((a for _, a in terms), Fraction(0)) + b


def _m(x):
    """m(x) = 1 − tanh(x) = 2/(e^{2x} + 1), decreasing, with *relative* accuracy even when tiny."""
    return 2 / ((2 * x).exp() + 1)


def _value(terms, b: Fraction, t: Fraction):
    """h(t) = h(∞) − Σ a_c·m(c·t): accurate for large t, where tanh(c·t) rounds to 1."""
    total = _ball(_limit(terms, b))
    for c, a in terms:
        total -= _ball(a) * _m(_ball(c) * _ball(t))
    return total


def certified_sign(terms, b: Fraction, t: Fraction) -> int | None:
    """Sign of h(t) at a rational t ≥ 0: exact when h is constant or t = 0, else by arb balls."""
    if not terms or t == 0:
        return (b > 0) - (b < 0)
    fl = _flint()
    old = fl.ctx.prec
    try:
        for prec in _PRECISIONS:
            fl.ctx.prec = prec
            s = _sign(_value(terms, b, t))
            if s is not None:
                return s
    finally:
        fl.ctx.prec = old
    return None


def certified_pattern(block: MLPBlock, v: Sequence[Fraction], t: Fraction, terms=None) -> str | None:
    """The pattern at t·v with every sign certified, or None if one could not be."""
    terms = neuron_ray_terms(block, v) if terms is None else terms
    symbols = []
    for ts, b in terms:
        s = certified_sign(ts, b, t)
        if s is None:
            return None
        symbols.append("+" if s > 0 else "-" if s < 0 else "0")
    return "".join(symbols)


def _range(terms, b, lo: Fraction, hi: Fraction):
    """Enclosures of h([lo, hi]) and h'([lo, hi])."""
    value = _ball(_limit(terms, b))
    slope = _ball(Fraction(0))
    for c, a in terms:
        ca, cb = _ball(c) * _ball(lo), _ball(c) * _ball(hi)
        value -= _ball(a) * _m(ca).union(_m(cb))
        slope += _ball(a * c) * (ca.sech() ** 2).union(cb.sech() ** 2)
    return value, slope


def _tail_certified(terms, b: Fraction, big_t: Fraction) -> bool:
    """No zero of h on [T, ∞).

    h(∞) ≠ 0: ``|h(t) − h(∞)| ≤ Σ |a_c|·m(c·T)`` for t ≥ T (m decreasing).
    h(∞) = 0: ``h(t) = −Σ a_c·m(c·t)``; with c₀ the smallest c,
    ``m(x) ≥ e^{−2x}`` and ``m(x) ≤ 2e^{−2x}`` give
    ``|a_{c₀}|·m(c₀t) > Σ_{c>c₀} |a_c|·m(c·t)`` for all t ≥ T as soon as
    ``|a_{c₀}| > Σ_{c>c₀} 2|a_c|·e^{−2(c−c₀)·T}`` (the right side decreases in T).
    """
    limit = _limit(terms, b)
    if limit != 0:
        bound = _ball(Fraction(0))
        for c, a in terms:
            bound += _ball(abs(a)) * _m(_ball(c) * _ball(big_t))
        return bool(_ball(abs(limit)) > bound)
    (c0, a0), rest = terms[0], terms[1:]
    bound = _ball(Fraction(0))
    for c, a in rest:
        bound += _ball(2 * abs(a)) * (-2 * _ball(c - c0) * _ball(big_t)).exp()
    return bool(_ball(abs(a0)) > bound)


@dataclass
class Isolation:
    roots: list[tuple[Fraction, Fraction]] = field(default_factory=list)    # unique sign-changing zero inside
    undecided: list[tuple[Fraction, Fraction]] = field(default_factory=list)


def isolate_roots(terms, b: Fraction, big_t: Fraction, min_width: Fraction, budget: int = 4000) -> Isolation:
    """Zeros of h on (0, big_t] (module docstring): certified isolating intervals and undecided ones."""
    result = Isolation()
    if not terms:
        return result
    fl = _flint()
    old = fl.ctx.prec
    fl.ctx.prec = 128
    try:
        stack = [(Fraction(0), big_t)]
        while stack:
            lo, hi = stack.pop()
            budget -= 1
            value, slope = _range(terms, b, lo, hi)
            if _sign(value) is not None:
                continue
            if _sign(slope) is not None:
                s_lo, s_hi = certified_sign(terms, b, lo), certified_sign(terms, b, hi)
                if s_lo is not None and s_hi is not None:
                    if s_lo * s_hi < 0:
                        result.roots.append((lo, hi))
                    elif s_hi == 0:   # only at a constant-free zero; cannot happen for t > 0 (docstring)
                        result.undecided.append((lo, hi))
                    continue
            if hi - lo < min_width or budget <= 0:
                result.undecided.append((lo, hi))
                continue
            mid = (lo + hi) / 2
            stack.extend([(mid, hi), (lo, mid)])
    finally:
        fl.ctx.prec = old
    result.roots.sort()
    merged: list[tuple[Fraction, Fraction]] = []
    for lo, hi in sorted(result.undecided):
        if merged and merged[-1][1] >= lo:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    result.undecided = merged
    return result


@dataclass
class DyTRay:
    direction: tuple[Fraction, ...]
    horizon: Fraction                                  # T: tails beyond it certified (where "tail_certified")
    roots: list[tuple[int, Fraction, Fraction]]        # (neuron, lo, hi), sorted
    undecided: list[tuple[int, Fraction, Fraction]]
    tail_uncertified: list[int]
    segments: list[tuple[Fraction, str | None]]        # witness scale and certified pattern
    counterexample: dict | None = None

    @property
    def complete(self) -> bool:
        return not self.undecided and not self.tail_uncertified and all(p is not None for _, p in self.segments)

    def to_json(self) -> dict:
        ce = self.counterexample
        return {
            "direction": [format_rational(c) for c in self.direction],
            "method": METHOD,
            "horizon": format_rational(self.horizon),
            "crossings": [{"neuron": i, "interval": [format_rational(lo), format_rational(hi)]} for i, lo, hi in self.roots],
            "undecided": [{"neuron": i, "interval": [format_rational(lo), format_rational(hi)]} for i, lo, hi in self.undecided],
            "tail_uncertified": self.tail_uncertified,
            "complete": self.complete,
            "segments": [{"witness": format_rational(t), "pattern": p} for t, p in self.segments],
            **({"scales": ce["scales"], "patterns": ce["patterns"], "neurons": ce["neurons"]} if ce else {}),
        }


def _separate(roots: list[tuple[int, Fraction, Fraction]], terms, rounds: int = 60) -> list[list[tuple[int, Fraction, Fraction]]]:
    """Shrink overlapping isolating intervals by bisection; return clusters of still-overlapping ones."""
    roots = sorted(roots, key=lambda r: r[1])
    for _ in range(rounds):
        # an interval starting at 0 leaves no room for a witness before the root: shrink it too
        overlap = {k for k in range(len(roots) - 1) if roots[k + 1][1] <= roots[k][2]}
        overlap |= {k for k, r in enumerate(roots) if r[1] == 0}
        if not overlap:
            break
        touched = overlap | {k + 1 for k in overlap if k + 1 < len(roots)}
        for k in touched:
            i, lo, hi = roots[k]
            mid = (lo + hi) / 2
            s_lo, s_mid = certified_sign(*terms[i], lo), certified_sign(*terms[i], mid)
            if s_lo is None or s_mid is None:
                continue
            roots[k] = (i, lo, mid) if s_lo * s_mid < 0 else (i, mid, hi)
        roots.sort(key=lambda r: r[1])
    clusters: list[list] = []
    for r in roots:
        if clusters and r[1] <= max(x[2] for x in clusters[-1]):
            clusters[-1].append(r)
        else:
            clusters.append([r])
    return clusters


def analyse_dyt_ray(block: MLPBlock, v: Sequence[Fraction], max_horizon: Fraction = Fraction(2**20)) -> DyTRay:
    """Certified crossing analysis of the ray through v for a DyT block (module docstring)."""
    v = tuple(Fraction(c) for c in v)
    terms = neuron_ray_terms(block, v)
    fl = _flint()
    old = fl.ctx.prec
    fl.ctx.prec = 128
    try:
        horizon = Fraction(1)
        while horizon < max_horizon and not all(_tail_certified(ts, b, horizon) for ts, b in terms if ts):
            horizon *= 2
        tail_bad = [i for i, (ts, b) in enumerate(terms) if ts and not _tail_certified(ts, b, horizon)]
    finally:
        fl.ctx.prec = old
    roots, undecided = [], []
    for i, (ts, b) in enumerate(terms):
        iso = isolate_roots(ts, b, horizon, horizon / 2**40)
        roots += [(i, lo, hi) for lo, hi in iso.roots]
        undecided += [(i, lo, hi) for lo, hi in iso.undecided]
    clusters = _separate(roots, terms)
    bounds = [(min(r[1] for r in cl), max(r[2] for r in cl)) for cl in clusters]
    witnesses = []
    previous = Fraction(0)
    for lo, hi in bounds:
        witnesses.append(simplest_between(previous, lo) if previous < lo else None)
        previous = hi
    witnesses.append(Fraction(int(previous) + 1))
    segments = [(t, certified_pattern(block, v, t, terms)) for t in witnesses if t is not None and t > 0]
    ray = DyTRay(v, horizon, [r for cl in clusters for r in cl], undecided, tail_bad, segments)
    for (t1, p1), (t2, p2) in zip(segments, segments[1:]):
        if p1 is not None and p2 is not None and block.map_changes(p1, p2):
            flipped = [i for i, (a, b) in enumerate(zip(p1, p2)) if (a == "+") != (b == "+")]
            ray.counterexample = {"scales": [format_rational(t1), format_rational(t2)], "patterns": [p1, p2],
                                  "neurons": flipped, "t1": t1, "t2": t2}
            break
    return ray


def find_dyt_counterexample(block: MLPBlock, directions=None, budget: int = 200) -> DyTRay | None:
    """The first ray (small-integer directions first) with a certified counterexample, or None."""
    from geomcheck.search.counterexample import small_integer_directions

    candidates = directions if directions is not None else itertools.islice(small_integer_directions(block.d), budget)
    for v in candidates:
        ray = analyse_dyt_ray(block, v)
        if ray.counterexample is not None:
            return ray
    return None


# --------------------------------------------------------------------------- feasibility
@dataclass
class DyTFeasibility:
    """A sign pattern over the image of DyT. ``feasible`` None: undecided.

    ``witness`` is a rational y in the open box (−1, 1)ᵈ with the pattern exactly
    (then x = atanh(y)/α realises it: tanh is a bijection ℝ → (−1, 1)).
    """

    feasible: bool | None
    witness: tuple | None = None
    how: str = ""


def dyt_feasibility(block: MLPBlock, pattern: str) -> DyTFeasibility:
    """Is ``{y ∈ (−1, 1)ᵈ : s_i(w'_i·y + b'_i) > 0}`` nonempty (y = tanh(α·x), γ and β folded)?

    The image of DyT's tanh is the open box, not ℝᵈ: feasibility over the whole
    space would accept witnesses no input produces. Decided by the margin LP
    ``max t : s_i(w'_i·y + b'_i) ≥ t, −1 ≤ y ≤ 1`` (HiGHS): t* > 0 gives a point
    pulled strictly inside the box and checked exactly; t* ≤ 0 means no point of
    the closed box — so none of the open one — has all strict signs (a float
    LP verdict, hence only an estimate: no certificate kind covers it).
    """
    import numpy as np

    from geomcheck.exact.signs import sign
    from geomcheck.search.sphere import _highs_lp

    f = block.folded
    idx = [(i, 1 if c == "+" else -1) for i, c in enumerate(pattern) if c in "+-"]
    d = block.d
    if not idx:
        return DyTFeasibility(True, tuple(Fraction(0) for _ in range(d)), "no constrained neuron")
    W = np.array([[float(f.weights[i][j]) for j in range(d)] for i, _ in idx])
    b = np.array([float(f.bias[i]) for i, _ in idx])
    s = np.array([float(si) for _, si in idx])
    A = np.hstack([-(s[:, None] * W), np.ones((len(idx), 1))])
    status, x, _ = _highs_lp(np.r_[np.zeros(d), 1.0], A, s * b, [-1.0] * d + [None], [1.0] * d + [1.0], maximize=True)
    if status != "Optimal":
        return DyTFeasibility(None, None, f"margin LP over the box failed ({status})")
    t, y = float(x[-1]), x[:d]
    if t > 0:
        for shrink in (1 - 2.0 ** -10, 1 - 2.0 ** -20, 1 - 2.0 ** -40, 0.5):
            for den in (10, 1000, 10 ** 6, 10 ** 9, 10 ** 12):
                cand = tuple(Fraction(float(v) * shrink).limit_denominator(den) for v in y)
                if all(-1 < c < 1 for c in cand) and all(
                        si * sign(sum((f.weights[i][j] * cand[j] for j in range(d)), Fraction(0)) + f.bias[i]) > 0
                        for i, si in idx):
                    return DyTFeasibility(True, cand, "margin LP over the box (-1, 1)^d (HiGHS); "
                                                      "witness strictly inside the box, its pattern checked exactly")
        return DyTFeasibility(None, None, f"margin {t:.3g} > 0 but no exact witness inside the open box verified")
    return DyTFeasibility(False, None, f"margin LP over the closed box: best margin {t:.3g} ≤ 0 "
                                       "(float LP; no DyT certificate kind, so an estimate)")
