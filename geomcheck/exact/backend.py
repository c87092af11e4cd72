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

__all__ = ["BACKEND", "matvec", "dot", "available_backends"]


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
