"""Exact matrices read from float arrays, turned into Fractions only where read.

A float64 (or float32, float16) weight is an exact dyadic rational, so a matrix of
them *is* an exact matrix: :class:`DyadicRows` keeps the float array a loader read
and builds the ``Fraction`` row (``Fraction(float)`` is exact) the first time a
row is read. Code that works in bulk (the float filter, exact integer products in
:mod:`geomcheck.search`) reads ``source`` instead and never builds a Fraction.
:class:`LazyFoldedRows` and :class:`LazyFoldedBias` are the folded ``w̃_i = P·(w_i ⊙ γ)``
and ``b'_i = w_i·β + b_i`` of such a matrix, also row by row, with the same exact
values as :func:`geomcheck.exact.bulk.fold_rows` (the tests compare them).

Standard library only: the source is any object with ``shape`` and whose rows
``source[i]`` have ``tolist()`` (a numpy array) or are sequences of floats.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

__all__ = ["DyadicRows", "RationalRows", "LazyFoldedRows", "LazyFoldedBias", "exact_float_rows", "rational_integer_row"]


def _floats(row: Any) -> list[float]:
    return row.tolist() if hasattr(row, "tolist") else [float(v) for v in row]


def _integers(values: list[float]) -> tuple[list[int], int]:
    """Floats ``x_j`` as integers ``a_j`` over one power of two ``L = 2^k``: ``x_j = a_j / L``."""
    ratios = [v.as_integer_ratio() for v in values]
    k = max(den for _, den in ratios).bit_length() - 1
    return [num << (k - (den.bit_length() - 1)) for num, den in ratios], 1 << k


def rational_integer_row(row) -> tuple[list[int], int]:
    """Rationals ``x_j`` as integers ``a_j`` over their lcm denominator L: ``x_j = a_j / L``."""
    den = 1
    for q in row:
        if den % q.denominator:
            den = den * q.denominator // math.gcd(den, q.denominator)
    return [q.numerator * (den // q.denominator) for q in row], den


class RationalRows(Sequence):
    """A matrix given as rows of Fractions, with each row's integer form (over its lcm) built once."""

    __slots__ = ("rows", "_ints")

    def __init__(self, rows):
        self.rows = rows
        self._ints: list = [None] * len(rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i):
        return self.rows[i]

    def integer_row(self, i: int) -> tuple[list[int], int]:
        cached = self._ints[i]
        if cached is None:
            cached = self._ints[i] = rational_integer_row(self.rows[i])
        return cached


class DyadicRows(Sequence):
    """An n×m exact matrix backed by a float array: ``rows[i]`` is a tuple of Fractions, built once.

    ``source`` is the float array itself (exact); ``shape`` is ``(n, m)``. Rows
    compare equal to tuples of their Fractions (``tuple(rows) == other``).
    """

    __slots__ = ("source", "shape", "_rows", "_ints", "_zero_columns")

    def __init__(self, source: Any):
        shape = tuple(getattr(source, "shape", ()))
        if len(shape) != 2:
            rows = [list(map(float, r)) for r in source]
            shape = (len(rows), len(rows[0]) if rows else 0)
            source = rows
        self.source = source
        self.shape = (int(shape[0]), int(shape[1]))
        self._rows: list = [None] * self.shape[0]
        self._ints: list = [None] * self.shape[0]
        self._zero_columns = None  # per column, all entries exactly 0 (one array pass, on first ask)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, i):
        if isinstance(i, slice):
            return tuple(self[k] for k in range(*i.indices(len(self))))
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        row = self._rows[i]
        if row is None:
            row = self._rows[i] = tuple(map(Fraction, _floats(self.source[i])))
        return row

    def entry(self, i: int, j: int) -> Fraction:
        """One entry, without building its row."""
        if self._rows[i] is not None:
            return self._rows[i][j]
        return Fraction(float(self.source[i][j]))

    def column_floats(self, j: int) -> list[float]:
        """Column j as the floats it holds (exact values)."""
        try:
            return _floats(self.source[:, j])  # numpy-style 2-D indexing
        except (TypeError, IndexError):
            return [float(self.source[i][j]) for i in range(len(self))]

    def column(self, j: int) -> tuple[Fraction, ...]:
        """Column j, without building the rows."""
        return tuple(map(Fraction, self.column_floats(j)))

    def column_is_zero(self, j: int) -> bool:
        if self._zero_columns is None:
            try:  # an array's exact zero test of every column in one pass, without a Python loop
                self._zero_columns = [not v for v in self.source.any(axis=0).tolist()]
            except (TypeError, AttributeError, ValueError):
                self._zero_columns = False
        if self._zero_columns is False:
            return not any(self.column_floats(j))
        return bool(self._zero_columns[j])

    def integer_row(self, i: int) -> tuple[list[int], int]:
        """Row i as integers over a power of two: ``(a, L)`` with ``row_j = a_j / L`` (built once)."""
        cached = self._ints[i]
        if cached is None:
            cached = self._ints[i] = _integers(_floats(self.source[i]))
        return cached

    def __eq__(self, other) -> bool:
        if isinstance(other, Sequence) and len(other) == len(self):
            return all(tuple(a) == tuple(b) for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"DyadicRows({self.shape[0]}×{self.shape[1]})"


def exact_float_rows(matrix: Any) -> Any:
    """The float array behind a :class:`DyadicRows` (exact), or None for other matrices."""
    return matrix.source if isinstance(matrix, DyadicRows) else None


def _vector_integers(values, ) -> tuple[list[int], int] | None:
    """Fractions over one common denominator, or None (same rule as exact.bulk.common_denominator)."""
    from geomcheck.exact.bulk import common_denominator

    return common_denominator(values)


class _LazyEntries(Sequence):
    """A read-only sequence whose entry i is ``self._compute(i)``, computed once on first read;
    compares equal to any sequence with equal entries."""

    __slots__ = ("_cache",)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return tuple(self[k] for k in range(*i.indices(len(self))))
        if i < 0:
            i += len(self)
        value = self._cache[i]
        if value is None:
            value = self._cache[i] = self._compute(i)
        return value

    def __eq__(self, other) -> bool:
        if isinstance(other, Sequence) and len(other) == len(self):
            return all(tuple(a) == tuple(b) if isinstance(a, tuple) else a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class LazyFoldedRows(_LazyEntries):
    """The rows ``w̃_i = P·(w_i ⊙ γ)`` of ``W`` (:class:`DyadicRows` or :class:`RationalRows`),
    each computed on first read.

    With ``w_i = a_i/M`` and ``γ = G/L``: ``w'_ij = a_ij·G_j/(M·L)`` and, centred,
    ``w̃_ij = (d·a_ij·G_j − Σ_l a_il·G_l)/(d·M·L)``: integer arithmetic, one Fraction per entry.
    """

    __slots__ = ("matrix", "gamma", "center")

    def __init__(self, matrix, gamma, center: bool):
        self.matrix = matrix
        self.gamma = None if gamma is None else _vector_integers(gamma)
        if gamma is not None and self.gamma is None:
            raise ValueError("gamma: common denominator too large for the lazy fold")
        self.center = center
        self._cache: list = [None] * len(matrix)

    def __len__(self) -> int:
        return len(self.matrix)

    def is_zero(self, i: int) -> bool:
        """``w̃_i = 0`` exactly (centred: ``w_i ⊙ γ`` constant), without building the row's Fractions."""
        if self._cache[i] is not None:
            return not any(self._cache[i])
        a, _ = self.matrix.integer_row(i)
        if self.gamma is not None:
            a = [x * y for x, y in zip(a, self.gamma[0])]
        if not self.center:
            return not any(a)
        first = a[0]
        return all(v == first for v in a)

    def _scaled_integers(self, i: int) -> tuple[list[int], int]:
        """``(c, D)`` with ``w_i ⊙ γ = c/D``: integers."""
        a, den = self.matrix.integer_row(i)
        if self.gamma is not None:
            g, lg = self.gamma
            return [x * y for x, y in zip(a, g)], den * lg
        return list(a), den

    def _compute(self, i: int) -> tuple[Fraction, ...]:
        a, den = self._scaled_integers(i)
        if not self.center:
            return tuple(Fraction(v, den) for v in a)
        d = len(a)
        total = sum(a)
        return tuple(Fraction(d * v - total, d * den) for v in a)

    def squared_norm(self, i: int) -> Fraction:
        """``‖w̃_i‖²`` on integers, without building the row: with ``c = D·(w_i ⊙ γ)``, S = Σc², T = Σc,
        centred ``Σ((d·c_j − T)/(dD))² = (d·S − T²)/(d·D²)``, else ``S/D²``."""
        c, den = self._scaled_integers(i)
        total_sq = sum(map(int.__mul__, c, c))
        if not self.center:
            return Fraction(total_sq, den * den)
        d, total = len(c), sum(c)
        return Fraction(d * total_sq - total * total, d * den * den)

    def dot(self, i: int, v: Sequence[int], v_den: int) -> Fraction:
        """``w̃_i·(v/v_den)`` for an integer vector v, without building the row:
        centred ``(d·Σc_j v_j − T·Σv_j)/(d·D·v_den)``, else ``Σc_j v_j/(D·v_den)``."""
        c, den = self._scaled_integers(i)
        cv = sum(map(int.__mul__, c, v))
        if not self.center:
            return Fraction(cv, den * v_den)
        d = len(c)
        return Fraction(d * cv - sum(c) * sum(v), d * den * v_den)


class LazyFoldedBias(_LazyEntries):
    """``b'_i = b_i + w_i·β`` for ``W`` (:class:`DyadicRows` or :class:`RationalRows`), each entry on first read."""

    __slots__ = ("matrix", "bias", "beta")

    def __init__(self, matrix, bias, beta):
        self.matrix = matrix
        self.bias = tuple(bias)
        self.beta = _vector_integers(beta)
        if self.beta is None:
            raise ValueError("beta: common denominator too large for the lazy fold")
        self._cache: list = [None] * len(matrix)

    def __len__(self) -> int:
        return len(self.matrix)

    def _compute(self, i: int) -> Fraction:
        a, den = self.matrix.integer_row(i)
        bnum, lb = self.beta
        return self.bias[i] + Fraction(sum(map(int.__mul__, a, bnum)), lb * den)
