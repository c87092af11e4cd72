"""The one place that picks the exact linear-algebra backend.

python-flint's ``fmpq_mat`` is ~40× faster than Fraction loops on layer-sized
products (DESIGN §3); when it is not installed, plain ``fractions`` give the
same answers more slowly. ``GEOMCHECK_EXACT_BACKEND=fractions`` forces the
fallback (the tests run both and compare).
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Sequence

__all__ = ["BACKEND", "matvec", "dot", "available_backends", "rank", "rref", "ExactMatrix", "ball_arithmetic"]


def _load_flint():
    if os.environ.get("GEOMCHECK_EXACT_BACKEND", "").lower() == "fractions":
        return None
    try:
        import flint  # noqa: PLC0415  (optional fast backend)
    except ImportError:
        return None
    return flint


_flint = _load_flint()
BACKEND = "flint" if _flint is not None else "fractions"


def available_backends() -> list[str]:
    return ["fractions"] + (["flint"] if _flint is not None else [])


def dot(a: Sequence[Fraction], b: Sequence[Fraction]) -> Fraction:
    """Exact ``Σ a_i·b_i`` (Fraction loop: for one row it beats conversion)."""
    return sum((x * y for x, y in zip(a, b, strict=True)), Fraction(0))


def _to_fmpq(x: Fraction):
    return _flint.fmpq(x.numerator, x.denominator)


def matvec(rows: Sequence[Sequence[Fraction]], x: Sequence[Fraction], backend: str | None = None) -> list[Fraction]:
    """Exact ``M·x`` for a matrix given by rows."""
    backend = backend or BACKEND
    if backend == "flint" and _flint is not None and len(rows) * len(x) >= 256:
        m = _flint.fmpq_mat(len(rows), len(x), [_to_fmpq(v) for row in rows for v in row])
        col = _flint.fmpq_mat(len(x), 1, [_to_fmpq(v) for v in x])
        product = m * col
        return [Fraction(int(product[i, 0].p), int(product[i, 0].q)) for i in range(len(rows))]
    return [dot(row, x) for row in rows]


def rank(rows: Sequence[Sequence[Fraction]], columns: int) -> int:
    """Exact rank of a rational matrix given by rows (0 for no rows)."""
    if not rows:
        return 0
    if _flint is None:
        from geomcheck.exact.linalg import rank as rank_fractions

        return rank_fractions(rows, columns)
    return _flint.fmpq_mat([[_to_fmpq(Fraction(c)) for c in r] for r in rows]).rank()


def rref(rows: Sequence[Sequence[Fraction]], columns: int) -> tuple[list[list[Fraction]], list[int]]:
    """Exact reduced row echelon form (its nonzero rows) and the pivot columns."""
    if _flint is None or not rows:
        from geomcheck.exact.linalg import rref as rref_fractions

        return rref_fractions(rows, columns) if rows else ([], [])
    m, r = _flint.fmpq_mat([[_to_fmpq(Fraction(c)) for c in row] for row in rows]).rref()
    reduced = [[Fraction(int(m[i, j].p), int(m[i, j].q)) for j in range(columns)] for i in range(r)]
    pivots = [next(j for j in range(columns) if row[j] != 0) for row in reduced]
    return reduced, pivots


class ExactMatrix:
    """A rational matrix converted once for repeated exact products ``M·[v₁ … v_k]``."""

    def __init__(self, rows: Sequence[Sequence[Fraction]]):
        self.rows = rows
        self._fmpq = None if _flint is None else _flint.fmpq_mat([[_to_fmpq(Fraction(c)) for c in row] for row in rows])

    def times_columns(self, columns: Sequence[Sequence[Fraction]]) -> list[tuple[Fraction, ...]]:
        """``(M·v for v in columns)``, each an exact tuple."""
        if not columns:
            return []
        if self._fmpq is None:
            return [tuple(dot(w, v) for w in self.rows) for v in columns]
        d = len(columns[0])
        vs = _flint.fmpq_mat([[_to_fmpq(Fraction(v[j])) for v in columns] for j in range(d)])
        product = self._fmpq * vs
        n = len(self.rows)
        return [tuple(Fraction(int(product[i, k].p), int(product[i, k].q)) for i in range(n)) for k in range(len(columns))]


def ball_arithmetic():
    """python-flint itself, for its ``arb`` ball arithmetic (certified enclosures of tanh & co.
    in the untrusted DyT search); independent of ``GEOMCHECK_EXACT_BACKEND``, which only picks
    the exact linear-algebra backend. python-flint is a core dependency."""
    import flint  # noqa: PLC0415

    return flint
