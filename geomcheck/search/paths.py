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
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from geomcheck.exact.backend import dot
from geomcheck.geometry.paths import (
    PathAnalysis,
    PathSpec,
    _arc_note,
    _check_defined,
    assemble_analysis,
    exact_sign,
    neuron_zeros,
    path_coefficients,
)
from geomcheck.model.block import MLPBlock
from geomcheck.search.filter import gamma_bound
from geomcheck.search.floats import float_arrays

__all__ = ["analyse_path_fast", "analyse_paths_batch", "BatchResult", "candidate_neurons", "exact_lines"]

_U = 2.0**-53
_TINY = 2.0**-1000
_SAFETY = 2.0


def _float(q: Fraction) -> float:
    return float(q)


def _vec(values: Sequence[Fraction]) -> np.ndarray:
    return np.array([float(v) for v in values], dtype=np.float64)


# ---------------------------------------------------------------------------
# exact rows, cached per block: integer rows with one denominator per row
# ---------------------------------------------------------------------------

@dataclass
class _IntegerRows:
    rows: list  # per row: Python ints (numerators on the common denominator) or None until built
    dens: list
    flint_matrix: object = None


_INT_CACHE: "weakref.WeakKeyDictionary[MLPBlock, _IntegerRows]" = weakref.WeakKeyDictionary()


def _integer_rows(block: MLPBlock) -> _IntegerRows:
    cached = _INT_CACHE.get(block)
    if cached is None:
        cached = _IntegerRows([None] * block.n, [None] * block.n)
        _INT_CACHE[block] = cached
    return cached


def _row(cache: _IntegerRows, block: MLPBlock, i: int) -> tuple[list[int], int]:
    if cache.rows[i] is None:
        row = block.folded.weights[i]
        den = math.lcm(*(w.denominator for w in row))
        cache.rows[i] = [w.numerator * (den // w.denominator) for w in row]
        cache.dens[i] = den
    return cache.rows[i], cache.dens[i]


def _integer_vector(v: Sequence[Fraction]) -> tuple[list[int], int]:
    den = math.lcm(*(x.denominator for x in v))
    return [x.numerator * (den // x.denominator) for x in v], den


def exact_lines(block: MLPBlock, coef, neurons: Sequence[int]) -> dict[int, tuple[Fraction, Fraction]]:
    """Exact ``(α_i, β_i)`` for the given neurons (integer dot products on cached rows)."""
    cache = _integer_rows(block)
    ui, ud = _integer_vector(coef.u0)
    wi, wd = _integer_vector(coef.w)
    bias = block.folded.bias
    out = {}
    for i in neurons:
        row, den = _row(cache, block, i)
        alpha = Fraction(sum(map(int.__mul__, row, ui)), den * ud)
        beta = Fraction(sum(map(int.__mul__, row, wi)), den * wd)
        if not coef.scales:
            alpha += bias[i]
        out[int(i)] = (alpha, beta)
    return out


# ---------------------------------------------------------------------------
# the filter
# ---------------------------------------------------------------------------

def _mr_add(x, rx, y, ry):
    m = x + y
    return m, rx + ry + _U * np.abs(m)


def _mr_mul(x, rx, y, ry):
    m = x * y
    return m, np.abs(x) * ry + np.abs(y) * rx + rx * ry + _U * np.abs(m)


def _mr_div(x, rx, y, ry):
    """x/y for y > ry ≥ 0 (elementwise)."""
    m = x / y
    return m, (rx + np.abs(m) * ry) / (y - ry) + 2 * _U * np.abs(m)


def candidate_neurons(block: MLPBlock, spec: PathSpec, coef) -> tuple[np.ndarray, np.ndarray]:
    """``(candidate mask, constant sign)`` per neuron; the sign is valid where the mask is False.

    Non-candidates provably have no zero in the closed hull of the domain
    (module docstring); their sign on the whole domain is the returned one.
    """
    a = float_arrays(block)
    d = block.d
    n = block.n
    k = gamma_bound(d + 4) * _SAFETY
    u0 = _vec(coef.u0)
    w = _vec(coef.w)
    alpha = a.folded_w @ u0
    beta = a.folded_w @ w
    r_alpha = k * (a.abs_folded_w @ np.abs(u0)) + _TINY
    r_beta = k * (a.abs_folded_w @ np.abs(w)) + _TINY
    if not coef.scales:
        alpha, r_alpha = _mr_add(alpha, r_alpha, a.folded_b, k * np.abs(a.folded_b))
        tau, r_tau = np.zeros(n), np.zeros(n)
    else:
        tau = -a.folded_b / math.sqrt(d)
        r_tau = 4 * _U * np.abs(tau)

    def value_at(lam: Fraction | None):
        """Enclosure of g at λ (None = +∞)."""
        if lam is None:
            if not coef.scales:
                return None
            if coef.n2 == 0:
                return value_at(spec.start)
            root = math.sqrt(_float(coef.n2))
            return beta / root, r_beta / root + 4 * _U * np.abs(beta / root)
        lf = _float(lam)
        rl = _U * abs(lf)
        m, r = _mr_mul(beta, r_beta, lf, rl)
        m, r = _mr_add(alpha, r_alpha, m, r)
        if not coef.scales:
            return m, r
        nf = _float(coef.N(lam))
        if nf <= 0:
            return None
        root = math.sqrt(nf)
        return m / root, r / root + 4 * _U * (np.abs(m) / root)

    ends = [value_at(spec.start), value_at(spec.end)]
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
            mid = g_s
        else:
            return np.ones(n, dtype=bool), np.zeros(n, dtype=int)
    else:
        (g_s, r_s), (g_e, r_e) = ends
        lo = np.minimum(g_s - r_s, g_e - r_e)
        hi = np.maximum(g_s + r_s, g_e + r_e)
        mid = g_s
        if coef.scales:
            det = coef.n0 * coef.n2 - coef.n1 * coef.n1
            if det > 0:
                n0, n1, n2 = _float(coef.n0), _float(coef.n1), _float(coef.n2)
                # D(λ) = (β n0 − α n1) + λ (β n1 − α n2): can it change sign inside the domain?
                k0, rk0 = _mr_add(*_mr_mul(beta, r_beta, n0, _U * n0), *_mr_mul(-alpha, r_alpha, n1, _U * abs(n1)))
                k1, rk1 = _mr_add(*_mr_mul(beta, r_beta, n1, _U * abs(n1)), *_mr_mul(-alpha, r_alpha, n2, _U * n2))
                s = _float(spec.start)
                d_s, rd_s = _mr_add(k0, rk0, *_mr_mul(k1, rk1, s, _U * abs(s)))
                if spec.end is None:
                    d_e, rd_e = k1, rk1
                else:
                    e = _float(spec.end)
                    d_e, rd_e = _mr_add(k0, rk0, *_mr_mul(k1, rk1, e, _U * abs(e)))
                rd_s, rd_e = _SAFETY * rd_s, _SAFETY * rd_e
                may_max = (d_s + rd_s > 0) & (d_e - rd_e < 0)  # increasing then decreasing
                may_min = (d_s - rd_s < 0) & (d_e + rd_e > 0)
                # upper bound of G = (α² n2 − 2αβ n1 + β² n0)/det
                num = alpha * alpha * n2 - 2 * alpha * beta * n1 + beta * beta * n0
                r_num = (2 * (np.abs(alpha) * n2 + np.abs(beta) * abs(n1)) * r_alpha
                         + 2 * (np.abs(beta) * n0 + np.abs(alpha) * abs(n1)) * r_beta
                         + n2 * r_alpha**2 + 2 * abs(n1) * r_alpha * r_beta + n0 * r_beta**2
                         + 8 * _U * (alpha * alpha * n2 + 2 * np.abs(alpha * beta * n1) + beta * beta * n0))
                g_up = np.sqrt(np.maximum(num + _SAFETY * r_num, 0.0) / (_float(det) * (1 - 8 * _U))) * (1 + 8 * _U)
                hi = np.where(may_max, np.maximum(hi, g_up), hi)
                lo = np.where(may_min, np.minimum(lo, -g_up), lo)
            else:
                # ε = 0 and u₀ ∥ w: g is constant on the domain (no interior extremum); the ends decide
                pass
    r_t = _SAFETY * r_tau
    above = lo - np.abs(lo) * 4 * _U > tau + r_t
    below = hi + np.abs(hi) * 4 * _U < tau - r_t
    candidate = ~(above | below)
    constant_sign = np.where(above, 1, np.where(below, -1, 0))
    del mid
    return candidate, constant_sign


def analyse_path_fast(block: MLPBlock, spec: PathSpec) -> PathAnalysis:
    """Same answer as :func:`geomcheck.geometry.paths.analyse_path`, float-filtered."""
    coef = path_coefficients(block, spec)
    _check_defined(block, spec, coef)
    notes = []
    if spec.kind == "arc":
        note = _arc_note(block, coef)
        if note:
            notes.append(note)
    ray_at_zero = coef.scales and block.norm.eps == 0 and all(v == 0 for v in coef.u0) and spec.start >= 0
    candidate, constant_sign = candidate_neurons(block, spec, coef)
    cand = [int(i) for i in np.flatnonzero(candidate)]
    lines = {i: _line_by_dot(block, coef, i) for i in cand} if len(cand) <= 8 else exact_lines(block, coef, cand)
    bias = block.folded.bias
    zeros = {}
    for i in cand:
        found = neuron_zeros(spec, coef, *lines[i], bias[i])
        if found:
            zeros[i] = found
    if ray_at_zero:
        notes.append("ray at eps = 0: every crossing polynomial is q_i(λ) = a_i·λ² (its λ¹ and λ⁰ "
                     "coefficients vanish), whose only root λ = 0 lies outside λ > 0: the ray is region-constant")
    signs = constant_sign.tolist()
    root_d = math.sqrt(block.d)
    float_lines = {i: (float(al), float(be), float(bias[i])) for i, (al, be) in lines.items()}

    def sign_on_domain(i: int, lam: Fraction) -> int:
        if i not in lines:
            return signs[i]
        # t = √d·(α + βλ) + b'·√N(λ): every input correctly rounded, a handful of operations;
        # 32u relative to the sum of magnitudes is a safe bound, the exact sign decides the rest
        al, be, b = float_lines[i]
        lf = float(lam)
        if coef.scales:
            nf = float(coef.N(lam))
            x, y = root_d * (al + be * lf), b * math.sqrt(nf)
            t, size = x + y, root_d * (abs(al) + abs(be * lf)) + abs(y)
        else:
            t, size = al + be * lf, abs(al) + abs(be * lf)
        if abs(t) > 32 * _U * size + _TINY:
            return 1 if t > 0 else -1
        return exact_sign(coef, *lines[i], bias[i], lam)

    return assemble_analysis(block, spec, coef, zeros, sign_on_domain, lines, notes)


def _line_by_dot(block: MLPBlock, coef, i: int) -> tuple[Fraction, Fraction]:
    f = block.folded
    alpha = dot(f.weights[i], coef.u0)
    beta = dot(f.weights[i], coef.w)
    if not coef.scales:
        alpha += f.bias[i]
    return alpha, beta


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
                        chunk: int = 256) -> BatchResult:
    """Many paths through one layer with two matrix products per chunk (float64 estimate).

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
    m = X.shape[0]
    d = block.d
    hi = np.inf if end is None else float(end)
    counts = np.zeros(m, dtype=np.int64)
    first = np.full(m, np.inf)
    first_neuron = np.full(m, -1, dtype=np.int64)
    b = a.folded_b
    b2 = b * b
    Wt = np.ascontiguousarray(a.folded_w.T)
    eps = float(block.norm.eps)
    for lo_k in range(0, m, chunk):
        Xc, Vc = X[lo_k:lo_k + chunk], V[lo_k:lo_k + chunk]
        if block.norm.centers:
            Xc = Xc - Xc.mean(axis=1, keepdims=True)
            Vc = Vc - Vc.mean(axis=1, keepdims=True)
        k = Xc.shape[0]
        AB = np.concatenate([Xc, Vc]) @ Wt  # one product for α and β
        alpha, beta = AB[:k], AB[k:]
        if block.norm.scales:
            n0 = (Xc * Xc).sum(axis=1, keepdims=True) + d * eps
            n1 = (Xc * Vc).sum(axis=1, keepdims=True)
            n2 = (Vc * Vc).sum(axis=1, keepdims=True)
            qa = d * beta * beta - b2 * n2
            qb = 2 * (d * alpha * beta - b2 * n1)
            qc = d * alpha * alpha - b2 * n0
        else:
            alpha = alpha + b
            qa, qb, qc = np.zeros_like(alpha), beta, alpha
        disc = qb * qb - 4 * qa * qc
        with np.errstate(divide="ignore", invalid="ignore"):
            root = np.sqrt(np.maximum(disc, 0.0))
            # stable quadratic formula: t = −(b + sign(b)·√disc)/2, roots t/a and c/t
            t = -0.5 * (qb + np.copysign(root, qb))
            r1 = np.where(qa != 0, t / qa, np.where(qb != 0, -qc / qb, np.nan))
            r2 = np.where((qa != 0) & (t != 0), qc / t, np.nan)
        real = disc >= 0
        best = np.full(alpha.shape, np.inf)
        total = np.zeros(k, dtype=np.int64)
        for r in (r1, r2):
            ok = real & (r > start) & (r < hi)
            if block.norm.scales:
                side = np.sign(alpha + beta * r)
                ok &= (side == -np.sign(b)) | (b == 0)
            total += ok.sum(axis=1)
            best = np.where(ok & (r < best), r, best)
        counts[lo_k:lo_k + k] = total
        idx = best.argmin(axis=1)
        first[lo_k:lo_k + k] = best[np.arange(k), idx]
        first_neuron[lo_k:lo_k + k] = np.where(np.isfinite(first[lo_k:lo_k + k]), idx, -1)
    return BatchResult(counts, first, first_neuron)
