"""A path's crossings certified in rigorous float arithmetic; their exact forms built on first read.

The filtered engine (:func:`geomcheck.search.paths.analyse_path_fast`) first tries this.
It applies to a normalized path (N(λ) = n₀ + 2n₁λ + n₂λ² = ‖u(λ)‖² + dε ≥ 0 for every
real λ) when every candidate neuron has a folded bias b' certainly ≠ 0. For neuron i let

    t(λ) = √d·A(λ) + b'·√N(λ)   (the sign of h_i on the path),
    t̄(λ) = √d·A(λ) − b'·√N(λ),     so that   q(λ) = t·t̄ = d·A² − b'²·N

is the crossing quadratic of :mod:`geomcheck.geometry.paths`. t and t̄ are continuous on ℝ
(N ≥ 0), and every zero of t is a root of q.

**Roots.** From the float roots r of q (midpoints of α, β), each gets the interval
``[l, h] = [r − δ, r + δ]`` (l, h floats, δ = 2⁻³⁰·|r|, widened where a sign is unsure), and t, t̄ are evaluated at l and h in
midpoint-radius arithmetic (:mod:`geomcheck.search.intervals`: the filter's rigorous radii of
α and β, of b', of n₀, n₁, n₂ and of √d). The neuron is settled when all eight signs are
certain, q = t·t̄ changes sign across *both* intervals, and the intervals are disjoint: a
nonzero polynomial of degree ≤ 2 that changes sign on two disjoint intervals has exactly one
root in each and no other. In each interval exactly one of t, t̄ changes sign; a zero of t with
N > 0 there is a simple root of q at which t changes sign (t̄ = t − 2b'√N ≠ 0 there, so t̄
keeps its sign and q = t·t̄ changes sign only through t). So t's zeros on the domain are the
intervals where t changes sign — provided each interval lies strictly inside the domain or
strictly outside its closure (inside the domain N > 0: the engine refuses paths through u = 0).
Without a float root, a discriminant ``b² − 4ac`` certainly below 0 means q (and t) has none.

**Order and patterns.** Crossing intervals that are pairwise disjoint are distinct crossings of
one neuron each, in the order of the intervals. A neuron's sign is constant between its own
zeros and flips at each (opposite certain signs at l and h); the sign on its first stretch is the
certain sign of t at the l of its first crossing, or, without crossings, at one interior point
of the domain. With the filter's constant signs of the other neurons this gives every segment's
pattern, and each crossing's ``map_changes`` (one neuron flips).

**Exact forms on first read.** The exact roots, the rational intervals around them and the
segments' rational witnesses are what the exact pipeline computes; the result's crossings and
segments build them, for the whole path at once, the first time any is read
(:class:`geomcheck.geometry.paths.LazyCrossing`). The exact pipeline's order, neurons, patterns,
map changes and notes are then compared with the certified ones, and a difference raises
(an engine defect, never a silent change of answer). Any step left undecided above returns
None and the caller runs the exact pipeline directly.
"""

from __future__ import annotations

import math
import threading
from fractions import Fraction
from typing import Callable

import numpy as np

from geomcheck.errors import EngineDisagreement
from geomcheck.geometry.paths import LazyCrossing, LazySegment, PathAnalysis, PathSpec, add_activation_notes, one_flip_changes
from geomcheck.model.block import MLPBlock
from geomcheck.search.floats import float_arrays, to_float
from geomcheck.search.intervals import ETA, SAFETY, TINY, U, mr_add, mr_mul, mr_scalar

__all__ = ["certified_analysis"]

_DELTA = 2.0**-30  # first half-width of a root's interval relative to the root (grown where unsure)


def _float_bounds(q: Fraction) -> tuple[float, float] | None:
    """Floats ``lo ≤ q ≤ hi`` (None beyond the float range)."""
    f = to_float(q)
    if not math.isfinite(f):
        return None
    exact = Fraction(f)
    lo = f if exact <= q else math.nextafter(f, -math.inf)
    hi = f if exact >= q else math.nextafter(f, math.inf)
    return lo, hi


class _Line:
    """Midpoint-radius data of the candidates' ``t`` and ``t̄`` (arrays over the candidates)."""

    def __init__(self, block: MLPBlock, coef, idx: np.ndarray, lines: tuple) -> None:
        a = float_arrays(block)
        alpha, r_alpha, beta, r_beta = lines
        self.al, self.ral, self.be, self.rbe = alpha[idx], r_alpha[idx], beta[idx], r_beta[idx]
        self.fb = a.folded_b[idx]
        b_err = np.broadcast_to(np.asarray(a.folded_b_err, dtype=np.float64), a.folded_b.shape)[idx]
        self.rfb = U * np.abs(self.fb) + b_err + ETA
        self.n0, self.rn0 = mr_scalar(coef.n0)
        self.n1, self.rn1 = mr_scalar(coef.n1)
        self.n2, self.rn2 = mr_scalar(coef.n2)
        self.d = block.d
        self.rd = math.sqrt(block.d)  # correctly rounded: radius u·√d
        self.rrd = U * self.rd

    def signs(self, lam: np.ndarray, sub=slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """Certain signs (±1, or 0 when unsure) of t and t̄ at the floats ``lam`` (exact dyadics)."""
        A = mr_add(self.al[sub], self.ral[sub], *mr_mul(self.be[sub], self.rbe[sub], lam, 0.0))
        N = mr_add(self.n0, self.rn0, *mr_mul(lam, 0.0, *mr_add(2 * self.n1, 2 * self.rn1,
                                                                 *mr_mul(self.n2, self.rn2, lam, 0.0))))
        # √N enclosed in [lo, hi]: the subtraction or addition, the square root and the product each
        # round by at most u (relative); 4u covers all three
        lo = np.sqrt(np.maximum(N[0] - N[1], 0.0)) * (1 - 4 * U)
        hi = np.sqrt(N[0] + N[1]) * (1 + 4 * U) + ETA
        root_n = ((lo + hi) / 2, (hi - lo) + U * hi + ETA)
        x = mr_mul(self.rd, self.rrd, *A)
        y = mr_mul(self.fb[sub], self.rfb[sub], *root_n)
        t = mr_add(*x, *y)
        t_bar = mr_add(*x, -y[0], y[1])
        return _certain(*t), _certain(*t_bar)

    def discriminant_negative(self, sub) -> np.ndarray:
        """``b² − 4ac < 0`` certainly, for q's exact coefficients (midpoint-radius)."""
        al, ral, be, rbe, fb, rfb = self.al[sub], self.ral[sub], self.be[sub], self.rbe[sub], self.fb[sub], self.rfb[sub]
        d = float(self.d)  # d < 2^53: exact
        b2 = mr_mul(fb, rfb, fb, rfb)
        qa = mr_add(*mr_mul(d, 0.0, *mr_mul(be, rbe, be, rbe)), *_neg(mr_mul(*b2, self.n2, self.rn2)))
        qb = mr_add(*mr_mul(2 * d, 0.0, *mr_mul(al, ral, be, rbe)), *_neg(mr_mul(*b2, 2 * self.n1, 2 * self.rn1)))
        qc = mr_add(*mr_mul(d, 0.0, *mr_mul(al, ral, al, ral)), *_neg(mr_mul(*b2, self.n0, self.rn0)))
        disc = mr_add(*mr_mul(*qb, *qb), *_neg(mr_mul(4.0, 0.0, *mr_mul(*qa, *qc))))
        return disc[0] + SAFETY * disc[1] < 0  # NaN compares False: unsure


def _neg(x):
    return -x[0], x[1]


def _certain(m, r) -> np.ndarray:
    """±1 where ``|m| > 2r`` (NaN and inf never pass), else 0."""
    ok = np.abs(m) > SAFETY * r
    return np.where(ok, np.sign(m), 0).astype(np.int8)


def _bracket(line: _Line, roots: np.ndarray, sub: np.ndarray):
    """``(l, h, t(l), t̄(l), t(h), t̄(h))`` with q = t·t̄ certainly changing sign across each [l, h],
    or None. The half-width starts at 2⁻³⁰·|r| and grows by 2⁶ (twice at most) where a sign is unsure."""
    lo, hi = np.empty_like(roots), np.empty_like(roots)
    out = [np.zeros(roots.size, dtype=np.int8) for _ in range(4)]
    todo = np.arange(roots.size)
    delta = _DELTA
    for _ in range(3):
        r = roots[todo]
        width = delta * np.abs(r) + TINY
        l, h = r - width, r + width
        (t_l, b_l), (t_h, b_h) = line.signs(l, sub[todo]), line.signs(h, sub[todo])
        ok = (t_l != 0) & (b_l != 0) & (t_h != 0) & (b_h != 0) & (t_l * b_l != t_h * b_h)
        done = todo[ok]
        lo[done], hi[done] = l[ok], h[ok]
        for array, values in zip(out, (t_l, b_l, t_h, b_h)):
            array[done] = values[ok]
        todo = todo[~ok]
        if not todo.size:
            return (lo, hi, *out)
        delta *= 64.0
    return None


def _certify(block: MLPBlock, spec: PathSpec, coef, idx: np.ndarray, lines: tuple):
    """``(neurons in crossing order, first signs of the candidates)``, or None when unsure."""
    line = _Line(block, coef, idx, lines)
    if not np.all(np.abs(line.fb) > SAFETY * line.rfb):  # b' = 0 possible: t = √d·A, q = d·A² (double roots)
        return None
    start = _float_bounds(spec.start)
    end = None if spec.end is None else _float_bounds(spec.end)
    if start is None or (spec.end is not None and end is None):
        return None
    (s_lo, s_hi), (e_lo, e_hi) = start, (end if end is not None else (math.inf, math.inf))
    m = len(idx)
    d = float(block.d)
    al, be, fb = line.al, line.be, line.fb
    qa = d * be * be - fb * fb * line.n2
    qb = 2 * (d * al * be - fb * fb * line.n1)
    qc = d * al * al - fb * fb * line.n0
    disc = qb * qb - 4 * qa * qc
    real = disc > 0
    rootless = np.flatnonzero(~real)
    if rootless.size and not np.all(line.discriminant_negative(rootless)):
        return None
    both = np.flatnonzero(real)
    sq = np.sqrt(disc[both])
    half = -0.5 * (qb[both] + np.copysign(sq, qb[both]))
    roots = np.sort(np.stack([half / qa[both], qc[both] / half]), axis=0)  # (2, k): smaller root first
    if not np.all(np.isfinite(roots)):
        return None
    lo, hi, signs = np.empty_like(roots), np.empty_like(roots), []
    for k in range(2):
        found = _bracket(line, roots[k], both)
        if found is None:
            return None
        lo[k], hi[k], t_l, b_l, t_h, b_h = found
        signs.append(((t_l, b_l), (t_h, b_h)))
    if not np.all(hi[0] < lo[1]):
        return None
    crossing = []
    for k in range(2):
        (t_l, b_l), (t_h, b_h) = signs[k]
        inside = (lo[k] > s_hi) & (hi[k] < e_lo)
        outside = (hi[k] < s_lo) | (lo[k] > e_hi)
        if not np.all(inside | outside):
            return None
        crossing.append(inside & (t_l != t_h))
    first = np.zeros(m, dtype=np.int8)
    # first stretch: sign at l of the first crossing; else at one interior point p of the domain
    first[both] = np.where(crossing[0], signs[0][0][0], np.where(crossing[1], signs[1][0][0], 0))
    plain = np.flatnonzero(first == 0)
    if plain.size:
        p = s_hi + max(1.0, abs(s_hi)) if end is None else s_hi / 2 + e_lo / 2
        if not (s_hi < p < e_lo):
            return None
        t_p, _ = line.signs(np.full(plain.size, p), plain)
        if not np.all(t_p):
            return None
        first[plain] = t_p
    at_lo = np.concatenate([lo[k][crossing[k]] for k in range(2)])
    at_hi = np.concatenate([hi[k][crossing[k]] for k in range(2)])
    who = np.concatenate([idx[both][crossing[k]] for k in range(2)])
    order = np.argsort(at_lo, kind="stable")
    at_lo, at_hi, who = at_lo[order], at_hi[order], who[order]
    if not np.all(at_hi[:-1] < at_lo[1:]):
        return None  # two crossings not certainly distinct: the exact pipeline orders them
    return who, first


def certified_analysis(block: MLPBlock, spec: PathSpec, coef, candidate: np.ndarray, constant_sign: np.ndarray,
                       lines: tuple | None, notes: list[str], exact: Callable[[], PathAnalysis]) -> PathAnalysis | None:
    """The path's analysis with its order, neurons and patterns certified (module docstring), or None.

    ``exact()`` must return the exact pipeline's analysis of the same path; it runs once, when
    an exact form is first read."""
    if not coef.scales or lines is None:
        return None
    idx = np.flatnonzero(candidate)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        found = _certify(block, spec, coef, idx, lines) if idx.size else (np.zeros(0, dtype=np.intp), np.zeros(0))
    if found is None:
        return None
    who, first = found
    signs = np.asarray(constant_sign).copy()
    signs[idx] = first
    if not np.all(np.abs(signs) == 1):
        return None
    current = bytearray(np.where(signs > 0, ord("+"), ord("-")).astype(np.uint8).tobytes())
    patterns = [current.decode()]
    flip = ord("+") ^ ord("-")
    for i in who.tolist():
        current[i] ^= flip
        patterns.append(current.decode())
    lock, done = threading.Lock(), []

    def resolve() -> None:
        with lock:  # one build, and no reader sees a half-filled path (scans read from threads)
            if not done:
                _fill(exact(), analysis, patterns)
                done.append(True)

    neurons = who.tolist()
    crossings = [LazyCrossing((i,), one_flip_changes(block, i), resolve) for i in neurons]  # i flips
    segments = [LazySegment(p, resolve) for p in patterns]
    analysis = PathAnalysis(block, spec, crossings, segments, coef, {}, [], list(notes), spec)
    add_activation_notes(analysis)
    return analysis


def _fill(reference: PathAnalysis, analysis: PathAnalysis, patterns: list[str]) -> None:
    """Copy the exact pipeline's forms into the certified analysis, after checking they describe it."""
    crossings, segments = analysis.crossings, analysis.segments
    if ([c.neurons for c in reference.crossings] != [c.neurons for c in crossings]
            or [s.pattern for s in reference.segments] != patterns
            or [c.map_changes for c in reference.crossings] != [c.map_changes for c in crossings]
            or reference.endpoint_zeros or reference.spec != analysis.spec or reference.notes != analysis.notes):
        raise EngineDisagreement(f"the exact path engine contradicts the certified float order on "
                                 f"{analysis.spec.describe()}: a defect of geomcheck, please report it")
    for lazy, built in zip(crossings, reference.crossings):
        lazy.at, lazy.interval = built.at, built.interval
    for lazy, built in zip(segments, reference.segments):
        lazy.witness = built.witness
    for i, line in reference.lines.items():
        analysis.lines.setdefault(i, line)
