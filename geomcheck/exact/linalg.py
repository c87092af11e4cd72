"""Exact linear algebra over ℚ with Fractions: row reduction, rank, null space.

Used to turn float candidates (LP solutions) into exact objects: a float
vector that should lie in a subspace is replaced by an exact vector of that
subspace, built from an exact basis of it.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

__all__ = ["rref", "rank", "nullspace"]


def rref(rows: Sequence[Sequence[Fraction]], columns: int | None = None) -> tuple[list[list[Fraction]], list[int]]:
    """Reduced row echelon form and the pivot columns (Gauss–Jordan in ℚ)."""
    m = [[Fraction(v) for v in row] for row in rows]
    width = columns if columns is not None else (len(m[0]) if m else 0)
    pivots: list[int] = []
    r = 0
    for c in range(width):
        pivot = next((i for i in range(r, len(m)) if m[i][c] != 0), None)
        if pivot is None:
            continue
        m[r], m[pivot] = m[pivot], m[r]
        inv = 1 / m[r][c]
        m[r] = [v * inv for v in m[r]]
        for i in range(len(m)):
            if i != r and m[i][c] != 0:
                factor = m[i][c]
                m[i] = [a - factor * b for a, b in zip(m[i], m[r])]
        pivots.append(c)
        r += 1
        if r == len(m):
            break
    return m[:r], pivots


def rank(rows: Sequence[Sequence[Fraction]], columns: int | None = None) -> int:
    """Exact rank (0 for no rows)."""
    if not rows:
        return 0
    return len(rref(rows, columns)[1])


def nullspace(rows: Sequence[Sequence[Fraction]], columns: int) -> list[tuple[Fraction, ...]]:
    """An exact basis of ``{x ∈ ℚ^columns : M·x = 0}`` (all of ℚ^columns when M has no rows)."""
    reduced, pivots = rref(rows, columns) if rows else ([], [])
    free = [c for c in range(columns) if c not in pivots]
    basis = []
    for f in free:
        x = [Fraction(0)] * columns
        x[f] = Fraction(1)
        for row, p in zip(reduced, pivots):
            x[p] = -row[f]
        basis.append(tuple(x))
    return basis
