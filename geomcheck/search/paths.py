"""The filtered path engine and the batch API (numpy; untrusted, but exact in its answers).

:func:`analyse_path_fast` returns the same :class:`PathAnalysis` as the
reference :func:`geomcheck.geometry.paths.analyse_path` (tests compare them
field by field). It decides in float64, with a rigorous error bound, which
neurons certainly have *no* zero on the path; only the others (candidates)
get exact rational coefficients and exact roots.

The filter. With ``A(λ) = α + β·λ`` and ``N(λ) = n₀ + 2n₁λ + n₂λ²`` (exact),
neuron i vanishes where ``g(λ) = A(λ)/√N(λ)`` equals ``τ = −b'/√d`` (then
``√d·A + b'·√N = √(dN)·(g − τ) = 0``). ``g′(λ)`` has the sign of the linear
function ``D(λ) = (β·n₀ − α·n₁) + λ·(β·n₁ − α·n₂)``, so g is monotone on the
domain or has one interior extremum, whose absolute value is at most
``√G``, ``G = (α²n₂ − 2αβn₁ + β²n₀)/(n₀n₂ − n₁²)`` (the maximum of
``(a·(1,λ))²/((1,λ)M(1,λ)ᵀ)``). The range of g over the domain therefore
lies in the hull of g at the two ends and, when an interior extremum is
possible, ``±√G``. If that hull, widened by its rigorous float error, misses
τ, the neuron has no zero on the path and its sign there is ``sign(g − τ)``.
Without normalization the same holds with ``g = h`` linear and τ = 0.

Error bounds: midpoint-radius arithmetic (Rump) with every float operation
charged ``u = 2⁻⁵³`` relative error and Higham's ``γ_k`` for the dot products;
the radii are inflated by a factor 2 for safety. A looser bound only adds
candidates, never a wrong answer, since candidates are decided exactly.

Certified order first. On a normalized path :mod:`geomcheck.search.pathorder` brackets every
candidate's roots between floats where the signs of ``t`` and ``t̄`` are certain (the same
midpoint-radius data), which decides the crossings, their order and the patterns without exact
roots; the exact forms (roots, rational intervals, witnesses) are then built by the pipeline
below, for the whole path, when first read. When that certification is unsure anywhere, the
pipeline below runs at once.

Candidates, exactly but fast. Their ``(α_i, β_i)`` come from one float64 product
of base-2^k digits of the integer rows and vectors (every digit dot product is
an integer below 2^52, so float64 holds it exactly; :func:`_batched_numerators`).
On a normalized path each crossing quadratic is cleared to integers and its roots
are built with the very (p, q, D) that :func:`real_roots` returns
(:func:`_scaled_zeros`), each with a float value and a rigorous error bound.
Ordering: roots whose error intervals are disjoint are distinct and ordered by
their floats; only overlapping clusters are compared exactly
(:func:`_certified_groups`), and when equal roots carry different exact forms
the reference grouping decides. Witnesses, patterns and map changes then go
through the reference code (:func:`assemble_from_groups`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cmp_to_key
from typing import Sequence

import numpy as np

from geomcheck.exact.quadratic import QuadraticRoot, real_roots
from geomcheck.exact.signs import sign, sign_a_plus_b_sqrt_c
from geomcheck.geometry.paths import (
    PathAnalysis,
    PathSpec,
    _BITS,
    _Enclosed,
    assemble_analysis,
    assemble_from_groups,
    crossing_polynomial,
    exact_sign,
    prepare_path,
)
from geomcheck.model.block import MLPBlock
from geomcheck.search.exactrows import exact_folded_bias, row_form
from geomcheck.search.filter import gamma_bound
from geomcheck.search.floats import float_arrays, to_float
from geomcheck.search.intervals import ETA as _ETA, SAFETY as _SAFETY, TINY as _TINY, U as _U
from geomcheck.search.intervals import mr_add as _mr_add, mr_mul as _mr_mul, mr_scalar as _mr_scalar
from geomcheck.search.pathorder import certified_analysis

__all__ = ["analyse_path_fast", "analyse_paths_batch", "BatchResult", "candidate_neurons", "exact_lines"]


# ---------------------------------------------------------------------------
# exact lines of the candidates (geomcheck.search.exactrows: integer rows, bulk exact products)
# ---------------------------------------------------------------------------

def exact_lines(block: MLPBlock, coef, neurons: Sequence[int]) -> dict[int, tuple[Fraction, Fraction]]:
    """Exact ``(α_i, β_i)`` for the given neurons (no norm: α includes the bias)."""
    form = row_form(block)
    products = form.dots([(coef.u0_int, coef.u0_den), (coef.w_int, coef.w_den)], [int(i) for i in neurons])
    bias = exact_folded_bias(block) if not coef.scales else None
    out = {}
    for i, (alpha, beta) in products.items():
        if bias is not None:
            alpha += bias[i]
        out[i] = (alpha, beta)
    return out


# ---------------------------------------------------------------------------
# the filter
# ---------------------------------------------------------------------------

def _upper_norm(v: np.ndarray) -> float:
    """An upper bound of ‖v‖₂ for the rational vector that v rounds (inf when unsure).

    ``v`` holds the roundings of the rationals; each is within ``u·|v_j| + η``,
    and the squares and their sum may underflow by ``dη`` in all: both are added.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        square = float(np.dot(v, v))
    d = len(v)
    return math.sqrt(square * (1 + gamma_bound(d + 2)) + 4 * d * _ETA) * (1 + 4 * gamma_bound(d + 2)) + 2 * math.sqrt(d) * _ETA


def _row_norms(block: MLPBlock) -> np.ndarray:
    """Upper bounds of ‖w̃_i‖₂ (float64 rows; inflated for the rounding of the rows, the squares and the sum)."""
    return block.data.cached("search.row_norms", lambda: _compute_row_norms(block))


def _compute_row_norms(block: MLPBlock) -> np.ndarray:
    a = float_arrays(block)
    d = block.d
    with np.errstate(over="ignore", invalid="ignore"):
        square = np.einsum("ij,ij->i", a.folded_w, a.folded_w)
    return (np.sqrt(square * (1 + gamma_bound(d + 2)) + 4 * d * _ETA) * (1 + 4 * gamma_bound(d + 4))
            + 2 * math.sqrt(d) * _ETA)


def _rounded(ints: Sequence[int], den: int) -> np.ndarray:
    """``ints/den`` rounded to nearest float64 (``int / int`` is correctly rounded; ±inf beyond range)."""
    try:
        return np.array([v / den for v in ints], dtype=np.float64)
    except OverflowError:
        return np.array([to_float(Fraction(v, den)) for v in ints], dtype=np.float64)


_UNKNOWN = object()  # a value the float filter cannot enclose: every neuron goes to exact arithmetic


def candidate_neurons(block: MLPBlock, spec: PathSpec, coef) -> tuple[np.ndarray, np.ndarray]:
    """``(candidate mask, constant sign)`` per neuron; the sign is valid where the mask is False.

    Non-candidates provably have no zero in the closed hull of the domain
    (module docstring); their sign on the whole domain is the returned one.
    Every float quantity is a midpoint with a radius that covers relative
    rounding *and* the absolute error η of underflow; an overflow makes a
    radius or midpoint ±inf or NaN, and every test below is written so that
    such a neuron stays a candidate. So is every neuron when a quantity the
    whole path depends on (N at an end, ``det``) cannot be enclosed away from 0.
    """
    return _filter(block, spec, coef)[:2]


def _filter(block: MLPBlock, spec: PathSpec, coef) -> tuple[np.ndarray, np.ndarray, tuple | None]:
    """``(candidate mask, constant sign, lines)``: ``lines = (α, r_α, β, r_β)`` are the float
    midpoints and rigorous radii of every neuron's exact ``(α_i, β_i)`` (None when unknown)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        return _candidate_neurons(block, spec, coef)


def _candidate_neurons(block: MLPBlock, spec: PathSpec, coef) -> tuple[np.ndarray, np.ndarray, tuple | None]:
    a = float_arrays(block)
    d = block.d
    n = block.n
    everything = np.ones(n, dtype=bool), np.zeros(n, dtype=int), None
    k = gamma_bound(d + 4) * _SAFETY
    # Fraction → float is one correctly rounded division (error u·|x| + η); inf beyond range
    u0, w = _rounded(coef.u0_int, coef.u0_den), _rounded(coef.w_int, coef.w_den)
    # one product for α and β; the error bound γ·(|W̃|·|u|) ≤ γ·‖w̃_i‖·‖u‖ (Cauchy–Schwarz) needs no
    # second product: row norms are cached per block, both norms are inflated upper bounds.
    # Absolute parts: the rounded entries of u (η each, against |w̃_i|), of w̃_i (η each, against |u|)
    # and d products: 2η·(√d·(‖w̃_i‖ + ‖u‖) + d).
    both = a.folded_w @ np.stack([u0, w], axis=1)
    alpha, beta = both[:, 0], both[:, 1]
    rows = _row_norms(block)
    norm_u0, norm_w = _upper_norm(u0), _upper_norm(w)
    root_d = math.sqrt(d)
    # a fold done in float64 carries its own per-row error beyond one rounding per entry (folded_w_err)
    r_alpha = k * rows * norm_u0 + a.folded_w_err * norm_u0 + 2 * _ETA * (root_d * (rows + norm_u0) + d + 1) + _TINY
    r_beta = k * rows * norm_w + a.folded_w_err * norm_w + 2 * _ETA * (root_d * (rows + norm_w) + d + 1) + _TINY
    if not coef.scales:
        alpha, r_alpha = _mr_add(alpha, r_alpha, a.folded_b, k * np.abs(a.folded_b) + a.folded_b_err + _ETA)
        tau, r_tau = np.zeros(n), np.zeros(n)
    else:
        tau = -a.folded_b / root_d
        r_tau = 4 * _U * np.abs(tau) + a.folded_b_err / root_d * (1 + 4 * _U) + 2 * _ETA

    def divide_by_root(m, r, N: Fraction):
        """Enclosure of ``[m ± r]/√N`` for the exact N > 0 (_UNKNOWN when √N has no float lower bound)."""
        nf = to_float(N)
        n_lo = nf * (1 - 2 * _U) - 2 * _ETA
        if not (n_lo > 0 and math.isfinite(nf)):
            return _UNKNOWN
        s_lo = math.sqrt(n_lo) * (1 - 2 * _U)
        s_hi = math.sqrt(nf * (1 + 2 * _U) + 2 * _ETA) * (1 + 2 * _U)
        q = m / math.sqrt(nf)
        # |A/s − m/ŝ| ≤ |A − m|/s + |m|·|1/s − 1/ŝ| for s, ŝ in [s_lo, s_hi]; then the division's rounding
        return q, r / s_lo + np.abs(m) * (1 / s_lo - 1 / s_hi) + 2 * _U * np.abs(q) + 2 * _ETA

    def value_at(lam: Fraction | None):
        """Enclosure of g at λ (None = +∞); None where N(λ) = 0 exactly; _UNKNOWN when unsure."""
        if lam is None:
            if not coef.scales:
                return None
            if coef.n2 == 0:
                return value_at(spec.start)
            return divide_by_root(beta, r_beta, coef.n2)
        lf, rl = _mr_scalar(lam)
        m, r = _mr_mul(beta, r_beta, lf, rl)
        m, r = _mr_add(alpha, r_alpha, m, r)
        if not coef.scales:
            return m, r
        N = coef.N(lam)
        if N == 0:
            return None
        return divide_by_root(m, r, N)

    ends = [value_at(spec.start), value_at(spec.end)]
    if any(e is _UNKNOWN for e in ends):
        return everything
    if coef.scales:
        # N = 0 at an (open) end only when ε = 0 and u₀ ∥ w: then g is constant on the domain
        ends = [ends[0] or ends[1], ends[1] or ends[0]]
    if any(e is None for e in ends):
        if not coef.scales and spec.end is None:
            # linear h on [s, ∞): the range is h(s) … sign(β)·∞
            g_s, r_s = ends[0]
            lo = np.where(beta - r_beta < 0, -np.inf, g_s - r_s)
            hi = np.where(beta + r_beta > 0, np.inf, g_s + r_s)
            lo = np.minimum(lo, g_s - r_s)
            hi = np.maximum(hi, g_s + r_s)
            # NaN anywhere (an overflow): no decision for that neuron
            broken = ~(np.isfinite(g_s) & np.isfinite(r_s) & np.isfinite(beta) & np.isfinite(r_beta))
            lo = np.where(broken, np.nan, lo)
        else:
            return everything
    else:
        (g_s, r_s), (g_e, r_e) = ends
        lo = np.minimum(g_s - r_s, g_e - r_e)
        hi = np.maximum(g_s + r_s, g_e + r_e)
        if coef.scales:
            det = coef.n0 * coef.n2 - coef.n1 * coef.n1
            if det > 0:
                n0, rn0 = _mr_scalar(coef.n0)
                n1, rn1 = _mr_scalar(coef.n1)
                n2, rn2 = _mr_scalar(coef.n2)
                # D(λ) = (β n0 − α n1) + λ (β n1 − α n2): can it change sign inside the domain?
                k0, rk0 = _mr_add(*_mr_mul(beta, r_beta, n0, rn0), *_mr_mul(-alpha, r_alpha, n1, rn1))
                k1, rk1 = _mr_add(*_mr_mul(beta, r_beta, n1, rn1), *_mr_mul(-alpha, r_alpha, n2, rn2))
                d_s, rd_s = _mr_add(k0, rk0, *_mr_mul(k1, rk1, *_mr_scalar(spec.start)))
                if spec.end is None:
                    d_e, rd_e = k1, rk1
                else:
                    d_e, rd_e = _mr_add(k0, rk0, *_mr_mul(k1, rk1, *_mr_scalar(spec.end)))
                rd_s, rd_e = _SAFETY * rd_s, _SAFETY * rd_e
                # written as negations so that NaN (an overflow) counts as "may"
                may_max = ~((d_s + rd_s <= 0) | (d_e - rd_e >= 0))  # increasing then decreasing
                may_min = ~((d_s - rd_s >= 0) | (d_e + rd_e <= 0))
                # upper bound of G = (α² n2 − 2αβ n1 + β² n0)/det, in midpoint-radius arithmetic
                t2 = _mr_mul(*_mr_mul(alpha, r_alpha, alpha, r_alpha), n2, rn2)
                t1 = _mr_mul(*_mr_mul(alpha, r_alpha, beta, r_beta), 2 * n1, 2 * rn1)
                t0 = _mr_mul(*_mr_mul(beta, r_beta, beta, r_beta), n0, rn0)
                num, r_num = _mr_add(*_mr_add(t2[0], t2[1], -t1[0], t1[1]), *t0)
                det_f = to_float(det)
                det_lo = det_f * (1 - 2 * _U) - 2 * _ETA
                if det_lo > 0:
                    quotient = np.maximum(num + _SAFETY * r_num, 0.0) / det_lo
                    g_up = np.sqrt(quotient * (1 + 4 * _U) + 2 * _ETA) * (1 + 4 * _U)
                else:
                    g_up = np.full(n, np.inf)
                hi = np.where(may_max, np.maximum(hi, g_up), hi)
                lo = np.where(may_min, np.minimum(lo, -g_up), lo)
            else:
                # ε = 0 and u₀ ∥ w: g is constant on the domain (no interior extremum); the ends decide
                pass
    r_t = _SAFETY * r_tau
    # NaN compares False: such neurons are neither above nor below, so they stay candidates
    above = lo - np.abs(lo) * 4 * _U - _ETA > tau + r_t
    below = hi + np.abs(hi) * 4 * _U + _ETA < tau - r_t
    candidate = ~(above | below)
    constant_sign = np.where(above, 1, np.where(below, -1, 0))
    return candidate, constant_sign, (alpha, r_alpha, beta, r_beta)


def analyse_path_fast(block: MLPBlock, spec: PathSpec) -> PathAnalysis:
    """Same answer as :func:`geomcheck.geometry.paths.analyse_path`, float-filtered."""
    coef, notes = prepare_path(block, spec)
    if coef.scales and block.norm.eps == 0 and all(v == 0 for v in coef.u0) and spec.start >= 0:
        notes.append("ray at eps = 0: every crossing polynomial is q_i(λ) = a_i·λ² (its λ¹ and λ⁰ "
                     "coefficients vanish), whose only root λ = 0 lies outside λ > 0: the ray is region-constant")
    candidate, constant_sign, float_lines = _filter(block, spec, coef)

    def exact() -> PathAnalysis:
        return _exact_analysis(block, spec, coef, candidate, constant_sign, notes)

    certified = certified_analysis(block, spec, coef, candidate, constant_sign, float_lines, notes, exact)
    return certified if certified is not None else exact()


def _exact_analysis(block: MLPBlock, spec: PathSpec, coef, candidate, constant_sign, notes) -> PathAnalysis:
    """Exact roots of the candidates, ordered (certified float order, exact on doubt), then assembled."""
    cand = [int(i) for i in np.flatnonzero(candidate)]
    lines = exact_lines(block, coef, cand)
    bias = exact_folded_bias(block)
    zeros = {}
    located = []  # (float value, rigorous error, root, neuron)
    scaled = _ScaledPath(coef) if coef.scales else None
    for i in cand:
        found = None
        if scaled is not None and bias[i] != 0:
            found = _scaled_zeros(spec, scaled, *lines[i], bias[i])
        if found is None:
            found = [(root, *_root_float(root)) for root in _neuron_zeros_filtered(spec, coef, *lines[i], bias[i])]
        if found:
            zeros[i] = [root for root, _, _ in found]
            located.extend((value, err, root, i) for root, value, err in found)
    signs = constant_sign.tolist()
    root_d = math.sqrt(block.d)
    n0f, n1f, n2f = to_float(coef.n0), to_float(coef.n1), to_float(coef.n2)
    float_lines = {i: (to_float(al), to_float(be), to_float(bias[i])) for i, (al, be) in lines.items()}

    def sign_on_domain(i: int, lam: Fraction) -> int:
        if i not in lines:
            return signs[i]
        decided = _float_sign(*float_lines[i], to_float(lam))
        return decided if decided is not None else exact_sign(coef, *lines[i], bias[i], lam)

    def _float_sign(al: float, be: float, b: float, lf: float) -> int | None:
        """t = √d·(α + βλ) + b'·√N(λ) in float with a rigorous bound, or None (inf/NaN fail every test).

        Every input is correctly rounded (error u·|x| + η); a handful of operations. 32u relative to
        the sum of magnitudes covers the relative parts; the absolute parts (underflow, η per
        rounding, carried through the products) are bounded by 64η·(1 + the magnitudes involved)."""
        with np.errstate(over="ignore", invalid="ignore"):
            if coef.scales:
                # N(λ) in float: |error| ≤ 16u·(|n0| + 2|n1·λ| + n2·λ²) + 16η·(1 + |λ|)·(1 + |λ| + 2|n1| + n2)
                nf = n0f + lf * (2 * n1f + n2f * lf)
                e_n = (16 * _U * (abs(n0f) + 2 * abs(n1f * lf) + n2f * lf * lf)
                       + 16 * _ETA * (1 + abs(lf)) * (1 + abs(lf) + 2 * abs(n1f) + n2f))
                if not nf - e_n > 0 or not math.isfinite(nf):
                    return None
                root = math.sqrt(nf)
                e_root = e_n / math.sqrt(nf - e_n) + 2 * _U * root  # |√a − √b| = |a − b|/(√a + √b)
                x, y = root_d * (al + be * lf), b * root
                t = x + y
                bound = (32 * _U * (root_d * (abs(al) + abs(be * lf)) + abs(y)) + abs(b) * e_root
                         + 64 * _ETA * (1 + root_d * (1 + abs(be) + abs(lf)) + root + abs(b)) + _TINY)
            else:
                t = al + be * lf
                bound = 32 * _U * (abs(al) + abs(be * lf)) + 64 * _ETA * (1 + abs(be) + abs(lf)) + _TINY
        if abs(t) > bound:  # False for NaN and infinite bounds
            return 1 if t > 0 else -1
        return None

    groups = _certified_groups(located)
    if groups is None:  # two roots may coincide: the reference grouping decides
        return assemble_analysis(block, spec, coef, zeros, sign_on_domain, lines, notes)
    return assemble_from_groups(block, spec, coef, groups, sign_on_domain, lines, notes)


def _certified_groups(located: list) -> list | None:
    """The groups of :func:`geomcheck.geometry.paths._sorted_groups`, or None when unsure.

    The intervals ``[value − err, value + err]`` (each holds its root) fall into
    clusters of overlapping ones; roots in different clusters are distinct and
    ordered as the clusters. A one-root cluster is one group; a larger one is sorted and grouped
    by exact comparison. The reference may pick any member of a group as its
    representative (whose exact form and 64-bit enclosure are what the output
    shows), so a group whose members are not all written with the same (p, q, D)
    returns None and the caller uses the reference grouping.
    """
    # sweep by lower ends: a root joins the current cluster unless its interval starts strictly
    # above every interval so far, so clusters are the connected components of the overlaps.
    # (The bounds carry several u of slack, more than the rounding of value ± err.)
    located.sort(key=lambda item: item[0] - item[1])
    clusters: list[list] = []
    top = -math.inf
    for item in located:
        if clusters and not item[0] - item[1] > top:
            clusters[-1].append(item)
        else:
            clusters.append([item])
        top = max(top, item[0] + item[1])
    groups = []
    for cluster in clusters:
        if len(cluster) == 1:
            groups.append((_enclosed(cluster[0][2]), [cluster[0][3]]))
        elif not _exact_groups(cluster, groups):
            return None
    return groups


def _exact_groups(cluster: list, groups: list) -> bool:
    """Append the cluster's groups (exact order, equal roots merged); False if forms differ."""
    ordered = sorted(cluster, key=cmp_to_key(lambda x, y: x[2]._cmp(y[2])))
    run = [ordered[0]]
    for item in ordered[1:] + [None]:
        if item is not None and item[2]._cmp(run[0][2]) == 0:
            run.append(item)
            continue
        root = run[0][2]
        if any((other.p, other.q, other.D) != (root.p, root.q, root.D) for _, _, other, _ in run[1:]):
            return False
        groups.append((_enclosed(root), [i for _, _, _, i in run]))
        run = [item]
    return True


def _enclosed(root: QuadraticRoot) -> _Enclosed:
    """``_Enclosed(root)`` with its 64-bit enclosure from integer arithmetic (the same rationals)."""
    item = _Enclosed.__new__(_Enclosed)
    item.root = root
    item.bits = _BITS
    if root.q == 0:
        item.lo = item.hi = root.p
        return item
    p, q, D = root.p, root.q, root.D
    n, m = D.numerator, D.denominator
    s = math.isqrt(n * m << (2 * _BITS))
    # p + q·s/(m·2^b) over the common denominator pd·qd·m·2^b
    pn, pd, qn, qd = p.numerator, p.denominator, q.numerator, q.denominator
    common = pd if pd == qd else math.lcm(pd, qd)  # p and q often share their denominator
    den = common * (m << _BITS)
    base = pn * (common // pd) * (m << _BITS)
    step = qn * (common // qd)
    a = Fraction(base + step * s, den)
    b = Fraction(base + step * (s + 1), den)
    item.lo, item.hi = (a, b) if qn > 0 else (b, a)
    return item


class _LazyPolyRoot(QuadraticRoot):
    """A :class:`QuadraticRoot` whose ``poly`` Fractions are reduced only when read.

    ``poly`` is ``(ai/K, bi/K, ci/K)`` from the integers kept; nothing on the path
    engine's way reads it, and reducing three long fractions per neuron is a large
    share of the work on a path with many crossings.
    """

    @staticmethod
    def make(p: Fraction, q: Fraction, D: Fraction, ints: tuple[int, int, int, int]) -> "_LazyPolyRoot":
        root = object.__new__(_LazyPolyRoot)
        object.__setattr__(root, "p", p)
        object.__setattr__(root, "q", q)
        object.__setattr__(root, "D", D)
        object.__setattr__(root, "_poly_ints", ints)
        return root

    @property
    def poly(self) -> tuple[Fraction, Fraction, Fraction]:  # type: ignore[override]
        ai, bi, ci, K = self._poly_ints
        return (Fraction(ai, K), Fraction(bi, K), Fraction(ci, K))


class _ScaledPath:
    """Integer data of ``N(λ) = n0 + 2 n1 λ + n2 λ²`` over one denominator M (per path)."""

    def __init__(self, coef) -> None:
        self.d = coef.d
        self.M = math.lcm(coef.n0.denominator, coef.n1.denominator, coef.n2.denominator)
        self.N0 = coef.n0.numerator * (self.M // coef.n0.denominator)
        self.N1 = coef.n1.numerator * (self.M // coef.n1.denominator)
        self.N2 = coef.n2.numerator * (self.M // coef.n2.denominator)


def _scaled_zeros(spec: PathSpec, path: _ScaledPath, alpha: Fraction, beta: Fraction, bias: Fraction):
    """:func:`_neuron_zeros_filtered` for a normalized path and b' ≠ 0, on integers.

    ``q(λ) = d(α + βλ)² − b'²N(λ)`` times ``K = L²·bd²·M`` (α = A/L, β = B/L over
    L = lcm of their denominators, b' = bn/bd) has integer coefficients (ai, bi, ci) and the same roots; the
    roots ``−bi/(2ai) ∓ K/(2|ai|)·√(Di/K²)``, ``Di = bi² − 4ai·ci``, are built with
    exactly the (p, q, D, poly) that :func:`real_roots` gives for ``(ai, bi, ci)/K``.
    Returns ``[(root, float value, error bound)]``, or None for the cases left to the
    general code (a = 0, a double or rational root, float overflow).
    """
    A, Ea, B, Eb = alpha.numerator, alpha.denominator, beta.numerator, beta.denominator
    bn, bd = bias.numerator, bias.denominator
    L = Ea * Eb // math.gcd(Ea, Eb)  # K = L²·bd²·M clears every denominator (L² is a multiple of Ea·Eb)
    A, B = A * (L // Ea), B * (L // Eb)  # α = A/L, β = B/L
    s = path.d * bd * bd * path.M
    t = bn * bn * L * L
    ai = s * B * B - t * path.N2
    bi = 2 * (s * A * B - t * path.N1)
    ci = s * A * A - t * path.N0
    if ai == 0:
        return None
    Di = bi * bi - 4 * ai * ci
    if Di < 0:
        return []
    if Di == 0 or math.isqrt(Di) ** 2 == Di:
        return None
    try:
        centre = -bi / (2 * ai)  # int / int is correctly rounded
        square = Di / (4 * ai * ai)
    except OverflowError:
        return None
    if square < 2.0**-1000:  # subnormal range: the relative bound below would not hold
        return None
    half_width = math.sqrt(square)
    err = 16 * _U * (abs(centre) + half_width) + _TINY
    start, end, err = _float_domain(spec, err)
    K = L * L * bd * bd * path.M
    built = None
    out = []
    af, bf = to_float(alpha), to_float(beta)
    for index, value in ((0, centre - half_width), (1, centre + half_width)):
        if value + err < start or (end is not None and value - err > end):
            continue  # certainly outside the domain
        if built is None:
            p, q, D = Fraction(-bi, 2 * ai), Fraction(K, 2 * abs(ai)), Fraction(Di, K * K)
            poly = (ai, bi, ci, K)
            built = (_LazyPolyRoot.make(p, -q, D, poly), _LazyPolyRoot.make(p, q, D, poly))
        root = built[index]
        inside = value - err > start and (end is None or value + err < end)
        if not inside and not spec.contains(root):
            continue
        if not _side_condition_holds(root, value, err, alpha, beta, af, bf, bias):
            continue
        out.append((root, value, err))
    return out


def _root_float(root) -> tuple[float, float]:
    """A float approximation of ``p + q·√D`` and a rigorous bound on its error."""
    try:
        p, q, D = float(root.p), float(root.q), float(root.D)
        if root.q == 0 or 2.0**-1000 < D < math.inf:
            value = p + q * math.sqrt(D)
            # absolute parts: η for p, η·√D for q (D > 2⁻¹⁰⁰⁰ is normal: its rounding is relative)
            err = 16 * _U * (abs(p) + abs(q) * math.sqrt(D)) + 16 * _ETA * (1 + math.sqrt(D)) + _TINY
            if math.isfinite(err):
                return value, err
        # D subnormal (√ of a denormal has no relative bound) or non-finite: the exact enclosure
        lo, hi = root.enclosure(_BITS)
        value = float((lo + hi) / 2)
        err = float(hi - lo) + 2 * _U * abs(value) + _TINY  # |root − mid| ≤ (hi − lo)/2, two roundings
        if math.isfinite(err):
            return value, err
    except OverflowError:
        pass
    return 0.0, math.inf  # no float information: every decision falls to exact arithmetic


def _side_condition_holds(root, value: float, err: float, alpha: Fraction, beta: Fraction,
                           af: float, bf: float, bias: Fraction) -> bool:
    """``sign(A(root)) = −sign(b')`` with ``A(λ) = α + β·λ``: a root of q_i is a zero of h_i.

    Float first: ``fl(α) + fl(β)·value`` is within ``8u·(|α| + |β·value|) + |β|·err``
    of ``A(root)`` (|value − root| ≤ err); exact ``a + b·√D`` sign when that straddles 0.
    """
    side = af + bf * value
    # absolute parts: η for af, η·|value| for bf, η·|bf| for the product's underflow
    side_err = 8 * _U * (abs(af) + abs(bf * value)) + abs(bf) * err + 8 * _ETA * (1 + abs(value) + abs(bf)) + _TINY
    if abs(side) > side_err:  # False when an overflow made either side inf or NaN
        return (side > 0) - (side < 0) == -sign(bias)
    return sign_a_plus_b_sqrt_c(alpha + beta * root.p, beta * root.q, root.D) == -sign(bias)


def _float_domain(spec: PathSpec, err: float) -> tuple[float, float | None, float]:
    """The domain's ends in float and a root's error bound widened by their rounding."""
    start = to_float(spec.start)  # ±inf beyond range: the widened err is inf and every test is inconclusive
    end = None if spec.end is None else to_float(spec.end)
    return start, end, err + _U * (abs(start) + (0.0 if end is None else abs(end))) + _TINY


def _neuron_zeros_filtered(spec: PathSpec, coef, alpha: Fraction, beta: Fraction, bias: Fraction):
    """:func:`geomcheck.geometry.paths.neuron_zeros` with float pre-decisions (exact on doubt)."""
    a, b, c = crossing_polynomial(coef, alpha, beta, bias)
    zeros = []
    af, bf = to_float(alpha), to_float(beta)
    for root in real_roots(a, b, c):
        value, err = _root_float(root)
        start, end, err = _float_domain(spec, err)
        inside = value - err > start and (end is None or value + err < end)
        outside = value + err < start or (end is not None and value - err > end)
        if outside or (not inside and not spec.contains(root)):
            continue
        if coef.scales and bias != 0 and not _side_condition_holds(root, value, err, alpha, beta, af, bf, bias):
            continue
        zeros.append(root)
    return zeros


# ---------------------------------------------------------------------------
# many paths through one layer
# ---------------------------------------------------------------------------

@dataclass
class BatchResult:
    """Float estimates for m paths ``bases[k] + λ·directions[k]``, λ ∈ (start, end).

    ``counts[k]``: number of neuron zeros (with multiplicity over neurons, i.e. neuron
    flips) found on path k; ``first[k]``: the smallest such λ (``inf`` if none);
    ``first_neuron[k]``: its neuron (−1 if none). ``status`` is ``"estimate"``:
    these come from float64 roots with no error bound. Pass a path to
    :func:`analyse_path_fast` for the exact, proved answer.
    """

    counts: np.ndarray
    first: np.ndarray
    first_neuron: np.ndarray
    status: str = "estimate"


def analyse_paths_batch(block: MLPBlock, bases, directions, start: float = 0.0, end: float | None = None,
                        chunk: int = 128) -> BatchResult:
    """Many paths through one layer with one matrix product per chunk (float64 estimate).

    ``bases`` and ``directions`` are m × d arrays (rays: bases = 0, start = 0).
    For each path and neuron the crossing quadratic ``q = a·λ² + b·λ + c``
    (module :mod:`geomcheck.geometry.paths`) is formed from ``α = W̃·P·x₀``,
    ``β = W̃·P·v`` and the norms, its real roots in (start, end) that satisfy
    ``sign(α + βλ) = −sign(b')`` are counted, and the first is kept.
    """
    a = float_arrays(block)
    X = np.asarray(bases, dtype=np.float64)
    V = np.asarray(directions, dtype=np.float64)
    if X.ndim != 2 or X.shape != V.shape or X.shape[1] != block.d:
        from geomcheck.errors import InvalidInput

        raise InvalidInput(f"bases/directions: expected two m × {block.d} arrays of the same shape")
    m, d = X.shape
    hi = np.inf if end is None else float(end)
    counts = np.zeros(m, dtype=np.int64)
    first = np.full(m, np.inf)
    first_neuron = np.full(m, -1, dtype=np.int64)
    b = a.folded_b
    b2 = b * b
    b_zero = b == 0
    Wt = _transposed(block)
    eps = float(block.norm.eps)
    scales = block.norm.scales
    for lo_k in range(0, m, chunk):
        Xc, Vc = X[lo_k:lo_k + chunk], V[lo_k:lo_k + chunk]
        if block.norm.centers:
            Xc = Xc - Xc.mean(axis=1, keepdims=True)
            Vc = Vc - Vc.mean(axis=1, keepdims=True)
        k = Xc.shape[0]
        AB = np.concatenate([Xc, Vc]) @ Wt  # one product for α and β
        alpha, beta = AB[:k], AB[k:]
        if scales:
            n0 = np.einsum("ij,ij->i", Xc, Xc)[:, None] + d * eps
            n1 = np.einsum("ij,ij->i", Xc, Vc)[:, None]
            n2 = np.einsum("ij,ij->i", Vc, Vc)[:, None]
            # q/d with the b'² terms scaled by 1/d: same roots, fewer passes
            s = b2 / d
            qa = beta * beta
            qa -= s * n2
            qh = alpha * beta  # half of the linear coefficient
            qh -= s * n1
            qc = alpha * alpha
            qc -= s * n0
            disc = qh * qh
            disc -= qa * qc  # (b/2)² − a·c
            real = disc >= 0
            np.sqrt(np.maximum(disc, 0.0, out=disc), out=disc)
            # stable: t = −(h + sign(h)·√disc), roots t/a and c/t
            np.copysign(disc, qh, out=disc)
            disc += qh
            disc *= -1.0
            with np.errstate(divide="ignore", invalid="ignore"):
                roots = (disc / qa, qc / disc)
            sides = (beta * roots[0] + alpha, beta * roots[1] + alpha)
            best = np.full(alpha.shape, np.inf)
            total = np.zeros(k, dtype=np.int64)
            for r, side in zip(roots, sides):
                ok = real & (r > start) & (r < hi) & ((side * b < 0) | b_zero)
                total += np.count_nonzero(ok, axis=1)
                np.minimum(best, np.where(ok, r, np.inf), out=best)
        else:
            alpha += b
            with np.errstate(divide="ignore", invalid="ignore"):
                r = -alpha / beta
            ok = (r > start) & (r < hi)
            total = np.count_nonzero(ok, axis=1)
            best = np.where(ok, r, np.inf)
        counts[lo_k:lo_k + k] = total
        idx = best.argmin(axis=1)
        first[lo_k:lo_k + k] = best[np.arange(k), idx]
        first_neuron[lo_k:lo_k + k] = np.where(np.isfinite(first[lo_k:lo_k + k]), idx, -1)
    return BatchResult(counts, first, first_neuron)


def _transposed(block: MLPBlock) -> np.ndarray:
    return block.data.cached("search.folded_w_transposed",
                             lambda: np.ascontiguousarray(float_arrays(block).folded_w.T))
