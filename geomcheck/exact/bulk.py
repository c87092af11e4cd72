"""Exact bulk folding of a layer with integer arithmetic over common denominators.

Folding γ, β into ``W_in`` and centring the rows (DESIGN §2) touches every
weight a few times. Done with ``Fraction`` objects it costs seconds for a
1536 × 384 layer because every product and sum normalizes with a gcd. Real
weights are dyadic (float32 values), so a whole matrix shares a small
power-of-two denominator: write every entry as ``A_ij / L`` with one integer
``L``, do the products and row sums with plain Python integers, and build one
``Fraction`` per result entry. The result is the same exact rational as the
Fraction loop (the tests compare both); when the common denominator of a
generic rational matrix grows too large the Fraction loop is used instead.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Sequence

__all__ = ["fold_rows", "common_denominator"]

Vector = Sequence[Fraction]

# Above this many bits the common denominator is a worse deal than gcds per entry.
_MAX_DENOMINATOR_BITS = 2048


def common_denominator(values) -> tuple[list[int], int] | None:
    """``values = [a_k / L]``: the integers ``a_k`` and ``L`` (the lcm of denominators).

    None when L would exceed ``_MAX_DENOMINATOR_BITS`` bits.
    """
    values = list(values)
    denominators = {v.denominator for v in values}
    common = math.lcm(*denominators) if denominators else 1
    if common.bit_length() > _MAX_DENOMINATOR_BITS:
        return None
    scale = {q: common // q for q in denominators}
    return [v.numerator * scale[v.denominator] for v in values], common


def _fold_fractions(w_in, b_in, gamma, beta, center: bool):
    """The definition, entry by entry (reference and fallback)."""
    d = len(w_in[0])
    rows = [tuple(w * g for w, g in zip(row, gamma, strict=True)) if gamma is not None else tuple(row) for row in w_in]
    if beta is None:
        bias = tuple(b_in)
    else:
        bias = tuple(b + sum((w * c for w, c in zip(row, beta, strict=True)), Fraction(0)) for row, b in zip(w_in, b_in))
    if center:
        centred = []
        for row in rows:
            mean = sum(row, Fraction(0)) / d
            centred.append(tuple(v - mean for v in row))
        rows = centred
    return tuple(rows), bias


def fold_rows(
    w_in: Sequence[Vector],
    b_in: Vector,
    gamma: Vector | None,
    beta: Vector | None,
    center: bool,
) -> tuple[tuple[tuple[Fraction, ...], ...], tuple[Fraction, ...]]:
    """Exact ``W' = W_in·diag(γ)``, ``b' = W_in·β + b_in``, then ``w̃_i = P·w'_i`` if ``center``.

    With ``W_in = A/L_w``, ``γ = G/L_g``, ``β = B/L_β`` (integer arrays):
    ``w'_ij = A_ij·G_j / (L_w·L_g)``, ``b'_i = b_i + (Σ_j A_ij·B_j)/(L_w·L_β)``,
    and centring ``w̃_ij = (d·A_ij·G_j − Σ_k A_ik·G_k) / (d·L_w·L_g)``.
    """
    n, d = len(w_in), len(w_in[0])
    flat = common_denominator(v for row in w_in for v in row)
    g = common_denominator(gamma) if gamma is not None else ([1] * d, 1)
    bt = common_denominator(beta) if beta is not None else None
    if flat is None or g is None or (beta is not None and bt is None):
        return _fold_fractions(w_in, b_in, gamma, beta, center)
    numerators, lw = flat
    gnum, lg = g
    rows_out = []
    bias_out = []
    for i in range(n):
        a = numerators[i * d:(i + 1) * d]
        if beta is None:
            bias_out.append(b_in[i])
        else:
            bnum, lb = bt
            bias_out.append(b_in[i] + Fraction(sum(x * y for x, y in zip(a, bnum)), lw * lb))
        scaled = [x * y for x, y in zip(a, gnum)] if gamma is not None else a
        if center:
            total = sum(scaled)
            denominator = d * lw * lg
            rows_out.append(tuple(Fraction(d * v - total, denominator) for v in scaled))
        else:
            denominator = lw * lg
            rows_out.append(tuple(Fraction(v, denominator) for v in scaled))
    return tuple(rows_out), tuple(bias_out)
