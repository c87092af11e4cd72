"""The exact row form the filtered engines use: integer rows, bulk exact products, no Fractions.

The path engine needs, for the few neurons the float filter cannot settle, the exact
``w̃_i·u`` for path vectors ``u`` (and the exact folded bias). Two forms give them:

* **folded rational rows** (any block): ``w̃_i = R_i/den_i`` with integer ``R_i`` over the
  lcm of its denominators, built row by row from ``block.folded``;
* **dyadic rows** (a block whose ``w_in`` is an exact float array,
  :class:`geomcheck.model.lazy.DyadicRows`): ``W_ij = R_ij·2^{E_i}`` with ``R_ij`` the
  float's integer mantissa shifted to a shared exponent ``E_i`` per row — computed from the
  array with ``numpy.frexp`` at array speed. Since ``u`` is centred when the norm centres
  (``P·u = u``), ``w̃_i·u = (w_i ⊙ γ)·u = w_i·(γ ⊙ u)``: the vector carries γ and no row
  is ever folded. The folded bias ``b'_i = b_i + w_i·β`` comes from the same product.

Bulk products: rows and vectors are split into signed base-2^k digits held exactly in
float64, ``k = ⌊(52 − bitlength(d))/2⌋``, so that every digit product is below ``2^{2k}``
and every sum of d of them below ``2^52``: one BLAS product gives exact integers, which are
reassembled as ``Σ P_{jl}·2^{k(j+l)}``. Both forms give the same rationals (the tests
compare them with ``block.folded``).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Sequence

import numpy as np

from geomcheck.exact.bulk import common_denominator
from geomcheck.model.block import MLPBlock
from geomcheck.model.lazy import DyadicRows

__all__ = ["RowForm", "row_form", "exact_folded_bias"]

_BATCH_THRESHOLD = 4096  # rows × d above which the float64 digit product beats per-row integer dots
_MAX_DIGITS = 16  # beyond this many digits per entry (rows spanning > ~300 binary orders) use per-row ints


def _digit_split(values: np.ndarray, k: int, count: int) -> np.ndarray:
    """Signed digits of an integer object array: ``x = Σ_j out[j]·2^(k·j)``, ``|out[j]| < 2^k``."""
    magnitude = np.abs(values)
    negative = values < 0
    mask = (1 << k) - 1
    out = np.empty((count,) + values.shape, dtype=np.float64)
    for j in range(count):
        digit = ((magnitude >> (k * j)) & mask).astype(np.float64)
        out[j] = np.where(negative, -digit, digit)
    return out


def _digit_width(d: int) -> int:
    return (52 - d.bit_length()) // 2


def _integer_vector(values: Sequence[Fraction]) -> tuple[list[int], int]:
    den = math.lcm(*(v.denominator for v in values)) if values else 1
    return [v.numerator * (den // v.denominator) for v in values], den


class RowForm:
    """Exact ``row_i·(V/V_den)`` for integer vectors V, in bulk or row by row."""

    def __init__(self, block: MLPBlock):
        self.block = block
        self.n, self.d = block.n, block.d
        self.k = _digit_width(self.d)
        self._digits: tuple[int, np.ndarray] | None = None

    # the two forms differ only here ----------------------------------------------------------
    def transform(self, ints: Sequence[int], den: int) -> tuple[list[int], int]:
        """The vector the rows are dotted with, for the path vector ``ints/den``."""
        return list(ints), den

    def integer_row(self, i: int) -> tuple[list[int], Fraction]:
        """``(R_i, s_i)`` with ``row_i = R_i·s_i``."""
        raise NotImplementedError

    def row_digits(self, idx: np.ndarray) -> tuple[int, np.ndarray] | None:
        """``(count, matrix)``: digit j of row ``idx[r]`` in row ``j·len(idx) + r`` of a float64 matrix."""
        built = self.digits()
        if built is None:
            return None
        count, matrix = built
        rows = (np.arange(count)[:, None] * self.n + idx[None, :]).ravel()
        return count, matrix[rows]

    def build_digits(self) -> tuple[int, np.ndarray] | None:
        """``(count, matrix)``: digit j of every row in block j of a (count·n) × d float64 matrix."""
        raise NotImplementedError

    def row_scales(self) -> list[Fraction]:
        raise NotImplementedError

    # shared ----------------------------------------------------------------------------------
    def digits(self) -> tuple[int, np.ndarray] | None:
        if self._digits is None:
            self._digits = self.build_digits() or (0, None)
        return None if self._digits[1] is None else self._digits

    def dots(self, vectors: Sequence[tuple[Sequence[int], int]], neurons: Sequence[int]) -> dict[int, list[Fraction]]:
        """Exact ``row_i · transform(V)`` for every neuron and every ``(V_int, V_den)``."""
        moved = [self.transform(ints, den) for ints, den in vectors]
        numerators = None
        if len(neurons) * self.d > _BATCH_THRESHOLD:
            numerators = self._bulk([v for v, _ in moved], neurons)
        out = {}
        if numerators is not None:
            scales = self.row_scales()
            for i, nums in numerators.items():
                out[i] = [Fraction(num, 1) * scales[i] / den for num, (_, den) in zip(nums, moved)]
            return out
        for i in neurons:
            row, scale = self.integer_row(int(i))
            out[int(i)] = [Fraction(sum(map(int.__mul__, row, v)), 1) * scale / den for v, den in moved]
        return out

    def _bulk(self, vectors: list[list[int]], neurons: Sequence[int]) -> dict[int, list[int]] | None:
        idx = np.asarray(neurons, dtype=np.intp)
        built = self.row_digits(idx)
        if built is None:
            return None
        count, lhs = built
        k, d = self.k, self.d
        m = len(vectors)
        values = np.array(vectors, dtype=object).reshape(m, d)
        vbits = max(1, int(np.abs(values).max()).bit_length())
        vcount = -(-vbits // k)
        rhs = _digit_split(values, k, vcount).reshape(vcount * m, d).T  # d × (vcount·m)
        product = lhs @ rhs  # exact integers below 2^52
        product = product.astype(np.int64).reshape(count, len(idx), vcount, m)
        total = np.zeros((len(idx), m), dtype=object)
        for j in range(count):
            for l in range(vcount):
                total += product[j, :, l, :].astype(object) * (1 << (k * (j + l)))
        return {int(i): [int(t) for t in row] for i, row in zip(idx, total.tolist())}


class _FoldedRows(RowForm):
    """Rows of ``block.folded`` (any rationals) over per-row common denominators."""

    def __init__(self, block: MLPBlock):
        super().__init__(block)
        self._rows: list = [None] * self.n

    def integer_row(self, i: int) -> tuple[list[int], Fraction]:
        if self._rows[i] is None:
            ints, den = _integer_vector(self.block.folded.weights[i])
            self._rows[i] = (ints, Fraction(1, den))
        return self._rows[i]

    def row_scales(self) -> list[Fraction]:
        return [self.integer_row(i)[1] for i in range(self.n)]

    def build_digits(self):
        rows = np.array([self.integer_row(i)[0] for i in range(self.n)], dtype=object).reshape(self.n, self.d)
        bits = max(1, int(np.abs(rows).max()).bit_length()) if rows.size else 1
        count = -(-bits // self.k)
        return count, _digit_split(rows, self.k, count).reshape(count * self.n, self.d)


class _DyadicRows(RowForm):
    """Rows of the exact float array ``W`` (unfolded); vectors carry γ (module docstring)."""

    def __init__(self, block: MLPBlock, gamma: tuple[list[int], int] | None):
        super().__init__(block)
        self.W = np.asarray(block.w_in.source, dtype=np.float64)
        self.gamma = gamma
        self._exponents: np.ndarray | None = None
        self._scales: list | None = None

    def transform(self, ints, den):
        if self.gamma is None:
            return list(ints), den
        g, lg = self.gamma
        return [a * b for a, b in zip(ints, g)], den * lg

    def integer_row(self, i: int) -> tuple[list[int], Fraction]:
        a, k = self.block.w_in.integer_row(i)  # row = a / 2^k (stdlib, exact)
        return a, Fraction(1, 1 << k)

    def _exponents_of_rows(self) -> np.ndarray:
        """``E_i``: the exponent of the unit in the last place of row i's smallest nonzero entry.

        Every entry of the row is an integer multiple of ``2^{E_i}`` (a float's unit in the last
        place grows with its magnitude), so ``R_ij = W_ij·2^{−E_i}`` is an integer.
        """
        if self._exponents is None:
            with np.errstate(invalid="ignore"):
                smallest = np.where(self.W != 0, np.abs(self.W), np.inf).min(axis=1)
            smallest = np.where(np.isfinite(smallest), smallest, 1.0)  # all-zero rows
            _, e = np.frexp(smallest)  # smallest = m·2^e, 1/2 ≤ m < 1: its ulp is 2^(e − 53)
            self._exponents = e.astype(np.int64) - 53
        return self._exponents

    def row_scales(self) -> list[Fraction]:
        if self._scales is None:
            self._scales = [Fraction(2) ** int(e) for e in self._exponents_of_rows().tolist()]
        return self._scales

    def row_digits(self, idx: np.ndarray):
        """Digits of the requested rows only, from the floats (no cached digit matrix: building the
        digits of a few thousand rows costs a few array passes, less than keeping count·n·d floats)."""
        E = self._exponents_of_rows()[idx]
        W = self.W[idx]
        m = len(idx)
        if m == 0:
            return 1, np.zeros((0, self.d))
        with np.errstate(invalid="ignore"):
            largest = np.abs(W).max(axis=1)
        _, top = np.frexp(largest)  # |W_ij| < 2^top
        bits = int((top.astype(np.int64) - E).max())
        count = max(1, -(-bits // self.k))
        if count > _MAX_DIGITS:
            return None
        # R = |W|·2^{−E}: an integer below 2^bits, held exactly in float64 (bits ≤ 16·26 < 1023);
        # its base-2^k digits by exact float operations: q = ⌊R·2^{−k}⌋ (scaling by a power of two and
        # floor are exact), digit = R − q·2^k (an integer below 2^k: exact), then R = q
        rest = np.ldexp(np.abs(W), (-E)[:, None].astype(np.int32))
        sign = np.sign(W)
        radix = float(1 << self.k)
        out = np.empty((count, m, self.d), dtype=np.float64)
        quotient = np.empty_like(rest)
        for j in range(count):
            np.multiply(rest, 1.0 / radix, out=quotient)
            np.floor(quotient, out=quotient)
            digit = out[j]
            np.multiply(quotient, radix, out=digit)
            np.subtract(rest, digit, out=digit)
            digit *= sign
            rest, quotient = quotient, rest
        return count, out.reshape(count * m, self.d)


def row_form(block: MLPBlock) -> RowForm:
    """The block's exact row form (kept in ``block.data``)."""
    return block.data.cached("search.row_form", lambda: _make_row_form(block))


def _make_row_form(block: MLPBlock) -> RowForm:
    if isinstance(block.w_in, DyadicRows) and block.norm.exact_signs:
        gamma = None
        if block.norm.gamma is not None:
            gamma = common_denominator(block.norm.gamma)
        if block.norm.gamma is None or gamma is not None:
            return _DyadicRows(block, gamma)
    return _FoldedRows(block)


def exact_folded_bias(block: MLPBlock) -> Sequence[Fraction]:
    """The exact folded bias ``b'`` (the same rationals as ``block.folded.bias``), in bulk for dyadic rows."""
    return block.data.cached("search.folded_bias", lambda: _folded_bias(block))


def _folded_bias(block: MLPBlock) -> Sequence[Fraction]:
    form = row_form(block)
    beta = block.norm.beta
    if not isinstance(form, _DyadicRows) or beta is None:
        return block.folded.bias
    ints, den = _integer_vector(beta)
    # w_i·β: the rows are unfolded, so the vector must not carry γ here
    saved, form.gamma = form.gamma, None
    try:
        products = form.dots([(ints, den)], range(block.n))
    finally:
        form.gamma = saved
    return tuple(b + p[0] for b, p in zip(block.b_in, (products[i] for i in range(block.n))))
