"""The monosemantic cone of a block without normalization, by LP + exact re-check.

``C = {v : G·v ≥ 0}``, one row ``g_i = b_i·w_i`` per neuron with ``b_i ≠ 0``:
the directions whose rays keep one sign pattern (DESIGN §2). HiGHS finds
candidates; everything reported is rebuilt and verified in ℚ.

1. Implicit equalities. LP ``max Σ s_i`` s.t. ``g_i·v ≥ s_i``, ``0 ≤ s_i ≤ 1``,
   v free. The rows that some v ∈ C makes strictly positive form a set I*
   closed under adding directions, so a single v has ``g_i·v ≥ 1`` on all of
   I* (scale); the optimum is ``|I*|`` and every optimal solution has
   ``s_i = 1`` on I*, ``s_i = 0`` elsewhere. The float answer proposes
   ``E = {i : s_i < 1/2}``.
2. Certificate that E really are equalities: LP ``min Σ y`` s.t.
   ``G_Eᵀ·y = 0``, ``y ≥ 1``. Exact y: parametrise ``{y : G_Eᵀy = 0}`` by its
   free coordinates (exact row reduction), round those, solve for the pivot
   coordinates exactly, check ``y > 0``.
3. Relative-interior direction: small-integer directions first, then the LP's
   v rounded to integer vectors of growing size inside the exact subspace
   ``G_E·v = 0``; accepted iff ``g_i·v > 0`` off E, exactly.

The dimension ``d − rank(G_E)`` is exact. Verdict ``zero`` when it is 0 (and
then E is every row): every nonzero direction is polysemantic.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from geomcheck.errors import GeomcheckError
from geomcheck.exact.backend import dot
from geomcheck.exact.linalg import rank as _rank_fractions, rref as _rref_fractions
from geomcheck.model.block import MLPBlock
from geomcheck.search.counterexample import require_no_norm, small_integer_directions

__all__ = ["ConeResult", "cone_rows", "monosemantic_cone", "in_cone"]


def rank(rows, columns: int) -> int:
    """Exact rank; python-flint's fmpq_mat when installed (same answer, much faster)."""
    if not rows:
        return 0
    try:
        import flint
    except ImportError:
        return _rank_fractions(rows, columns)
    return flint.fmpq_mat([[flint.fmpq(c.numerator, c.denominator) for c in r] for r in rows]).rank()


def rref(rows, columns: int):
    """Exact reduced row echelon form (nonzero rows) and pivot columns; flint when installed."""
    try:
        import flint
    except ImportError:
        return _rref_fractions(rows, columns)
    if not rows:
        return [], []
    m, r = flint.fmpq_mat([[flint.fmpq(c.numerator, c.denominator) for c in row] for row in rows]).rref()
    reduced = [[Fraction(int(m[i, j].p), int(m[i, j].q)) for j in range(columns)] for i in range(r)]
    pivots = [next(j for j in range(columns) if row[j] != 0) for row in reduced]
    return reduced, pivots


class ConeSearchFailed(GeomcheckError):
    """HiGHS's answer could not be turned into an exact certificate."""


@dataclass(frozen=True)
class ConeResult:
    rows: dict[int, tuple[Fraction, ...]]   # neuron → g_i = b_i·w_i (b_i ≠ 0)
    equalities: tuple[int, ...]             # E (neuron indices)
    y: tuple[Fraction, ...]                 # y > 0 on E, Σ y_i g_i = 0
    dimension: int
    direction: tuple[Fraction, ...] | None  # relative-interior point (dimension > 0)
    lineality: int                          # dim {v : G v = 0}

    @property
    def verdict(self) -> str:
        return "zero" if self.dimension == 0 else "nonzero"


def cone_rows(block: MLPBlock) -> dict[int, tuple[Fraction, ...]]:
    require_no_norm(block)
    return {i: tuple(b * w for w in row) for i, (row, b) in enumerate(zip(block.w_in, block.b_in)) if b != 0}


def in_cone(block: MLPBlock, v: Sequence[Fraction]) -> bool:
    """Exact: ``b_i·(w_i·v) ≥ 0`` for every neuron, i.e. the ray through v keeps one pattern.

    Decided by the path engine (:func:`geomcheck.search.counterexample.ray_is_constant`): without
    normalization neuron i vanishes at some t > 0 iff ``b_i·(w_i·v) < 0``.
    """
    from geomcheck.search.counterexample import ray_is_constant

    require_no_norm(block)
    return ray_is_constant(block, v)


def _highs():
    import highspy

    from geomcheck.search.highs import new_highs

    return new_highs(), highspy


def _implicit_equalities(rows: list[tuple[Fraction, ...]], d: int):
    """Step 1: float candidates for E and for a relative-interior v."""
    import numpy as np

    m = len(rows)
    h, hs = _highs()
    inf = hs.kHighsInf
    g = np.array([[float(c) for c in r] for r in rows])
    scale = np.maximum(np.abs(g).max(axis=1), 1e-300)
    g = g / scale[:, None]   # row scaling does not change the cone
    h.addVars(d + m, np.r_[np.full(d, -inf), np.zeros(m)], np.r_[np.full(d, inf), np.ones(m)])
    h.changeColsCost(m, np.arange(d, d + m, dtype=np.int32), -np.ones(m))
    for i in range(m):
        idx = np.r_[np.arange(d), d + i].astype(np.int32)
        h.addRow(0.0, inf, d + 1, idx, np.r_[g[i], -1.0])
    h.run()
    if h.getModelStatus() != hs.HighsModelStatus.kOptimal:
        raise ConeSearchFailed(f"cone LP: HiGHS says {h.modelStatusToString(h.getModelStatus())}")
    x = np.array(h.getSolution().col_value)
    return [i for i in range(m) if x[d + i] < 0.5], x[:d]


def _positive_combination(rows: list[tuple[Fraction, ...]], d: int) -> tuple[Fraction, ...]:
    """Step 2: exact y > 0 with Σ y_i·rows_i = 0 (rows = G_E)."""
    import numpy as np

    m = len(rows)
    if m == 0:
        return ()
    h, hs = _highs()
    inf = hs.kHighsInf
    g = np.array([[float(c) for c in r] for r in rows])
    h.addVars(m, np.ones(m), np.full(m, inf))
    h.changeColsCost(m, np.arange(m, dtype=np.int32), np.ones(m))
    for k in range(d):
        h.addRow(0.0, 0.0, m, np.arange(m, dtype=np.int32), g[:, k])
    h.run()
    if h.getModelStatus() != hs.HighsModelStatus.kOptimal:
        raise ConeSearchFailed(f"certificate LP: HiGHS says {h.modelStatusToString(h.getModelStatus())}")
    y_float = list(h.getSolution().col_value)
    # {y : G_Eᵀ y = 0}: the system has d equations in m unknowns (columns = rows of G_E)
    system = [tuple(r[k] for r in rows) for k in range(d)]
    reduced, pivots = rref(system, m)
    free = [j for j in range(m) if j not in pivots]
    for denominator in (1, 2, 4, 10, 100, 10**4, 10**8, 10**12):
        y = [Fraction(0)] * m
        for j in free:
            y[j] = Fraction(round(y_float[j] * denominator), denominator)
        for row, p in zip(reduced, pivots):
            y[p] = -sum((row[j] * y[j] for j in free), Fraction(0))
        if all(c > 0 for c in y):
            return _integral(y)
    raise ConeSearchFailed("could not round the LP's y to an exact positive combination")


def _integral(vector: list[Fraction]) -> tuple[Fraction, ...]:
    """Scale a rational vector by a positive number to coprime integers."""
    import math

    lcm = 1
    for c in vector:
        lcm = lcm * c.denominator // math.gcd(lcm, c.denominator)
    ints = [int(c * lcm) for c in vector]
    g = 0
    for c in ints:
        g = math.gcd(g, c)
    g = g or 1
    return tuple(Fraction(c // g) for c in ints)


def _relative_interior(block_d: int, rows: dict[int, tuple[Fraction, ...]], equalities: set[int], v_float) -> tuple[Fraction, ...]:
    """Step 3: a simple exact v with g_i·v = 0 on E and > 0 elsewhere."""
    eq_rows = [rows[i] for i in sorted(equalities)]
    strict = [rows[i] for i in rows if i not in equalities]

    def good(v) -> bool:
        return any(v) and all(dot(g, v) == 0 for g in eq_rows) and all(dot(g, v) > 0 for g in strict)

    for v in itertools.islice(small_integer_directions(block_d), 3000):
        if good(v):
            return v
    reduced, pivots = rref(eq_rows, block_d) if eq_rows else ([], [])
    free = [j for j in range(block_d) if j not in pivots]
    top = max(abs(float(v_float[j])) for j in free) if free else 0.0
    if top > 0:
        for size in (2**k for k in range(1, 50)):
            v = [Fraction(0)] * block_d
            for j in free:
                v[j] = Fraction(round(float(v_float[j]) / top * size))
            for row, p in zip(reduced, pivots):
                v[p] = -sum((row[j] * v[j] for j in free), Fraction(0))
            if good(v):
                return tuple(v)
    raise ConeSearchFailed("could not round the LP's direction to an exact relative-interior point")


def monosemantic_cone(block: MLPBlock) -> ConeResult:
    """Decide whether ``{v : b_i·(w_i·v) ≥ 0 ∀i}`` is {0}, with exact evidence (module docstring)."""
    rows = cone_rows(block)
    d = block.d
    keys = sorted(rows)
    lineality = d - rank([rows[i] for i in keys], d)
    if not keys:
        v = next(iter(small_integer_directions(d)))
        return ConeResult(rows, (), (), d, v, d)
    position_e, v_float = _implicit_equalities([rows[i] for i in keys], d)
    equalities = tuple(keys[p] for p in position_e)
    y = _positive_combination([rows[i] for i in equalities], d)
    dimension = d - rank([rows[i] for i in equalities], d)
    direction = None if dimension == 0 else _relative_interior(d, rows, set(equalities), v_float)
    if dimension == 0 and len(equalities) != len(keys):
        # rank(G_E) = d already forces C = {0}, so every row is an implicit equality; find their y too
        equalities = tuple(keys)
        y = _positive_combination([rows[i] for i in keys], d)
    return ConeResult(rows, equalities, y, dimension, direction, lineality)
