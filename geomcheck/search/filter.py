"""Filtered sign decisions: float first with a rigorous bound, exact on doubt.

For an input x with ``u = P·x`` (exact) and ``N = ‖u‖² + dε`` (exact), neuron
i's sign is ``sign(t_i)``, ``t_i = √d·(w̃_i·u) + b'_i·√N``
(:meth:`MLPBlock.signs_at_input`). In float64 every input to the computation
is rounded once (relative error ≤ 2⁻⁵³), the dot product of length d adds
Higham's ``γ_d`` error, and the square roots and the final sum a few more
roundings, so with ``k = d + 8``

    |fl(t_i) − t_i| ≤ 2·γ_k·(√d·(|w̃_i|·|u|) + |b'_i|·√N) + η,

γ_k = k·u/(1 − k·u), u = 2⁻⁵³, plus absolute terms for the float64 limits:
relative error bounds hold only for normal results, and every conversion or
operation may in addition err by η = 2⁻¹⁰⁷⁴ in absolute value where a value
underflows (subnormals; an ε or a weight below the smallest float rounds to 0).
The bound therefore adds ``8η·(d + √d·(Σ|w̃_i| + Σ|u|))`` for the dot product and
its rounded inputs and ``|b'_i|·2⁻⁵³⁰`` for √N (the square root of an absolute
error η is √η ≈ 2⁻⁵³⁷). Overflow produces ±inf or NaN, which never pass the
test ``|fl(t_i)| > bound``. (The factor 2 absorbs the rounded √d and √N; a
looser bound only costs more exact fallbacks, never a wrong sign.) Rows with
``|fl(t_i)|`` above the bound have the float's sign; the rest are decided exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from geomcheck.exact.backend import dot
from geomcheck.exact.signs import sign_sqrt_combination
from geomcheck.model.block import MLPBlock
from geomcheck.search.floats import float_arrays, to_float

__all__ = ["FilteredSigns", "filtered_signs_at_input", "gamma_bound"]

_UNIT_ROUNDOFF = 2.0**-53
_UNDERFLOW_SLACK = 2.0**-900
_ETA = 2.0**-1074  # the smallest subnormal: the absolute part of every rounding error
_SQRT_ETA = 2.0**-530  # ≥ √(2η)·(1 + 2u): what an absolute error η in N becomes in √N


def gamma_bound(k: int) -> float:
    """Higham's γ_k = k·u/(1 − k·u)."""
    return k * _UNIT_ROUNDOFF / (1 - k * _UNIT_ROUNDOFF)


@dataclass(frozen=True)
class FilteredSigns:
    signs: tuple[int, ...]
    decided_by_float: np.ndarray  # bool per neuron
    float_values: np.ndarray
    bounds: np.ndarray

    @property
    def exact_fallbacks(self) -> int:
        return int((~self.decided_by_float).sum())


def filtered_signs_at_input(block: MLPBlock, x) -> FilteredSigns:
    """Exact signs of the pre-activations at input x, float-filtered."""
    x = block.check_vector(x, "input")
    if not block.norm.exact_signs:
        block.signs_at_input(x)  # raises: DyT signs are not exact (geomcheck.search.dyt)
    a = float_arrays(block)
    f = block.folded
    d = block.d
    if block.norm.scales:
        u = block.norm.center(x)
        block.norm.require_defined(x, u)
        radicand = block.norm.squared_radius_denominator(u)
        u_float = np.array([to_float(v) for v in u])
        root_d, root_n = np.sqrt(float(d)), np.sqrt(to_float(radicand))
    else:
        u, radicand = x, None
        u_float = np.array([to_float(v) for v in u])
        root_d, root_n = 1.0, 1.0
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        values = root_d * (a.folded_w @ u_float) + a.folded_b * root_n
        magnitude = root_d * (a.abs_folded_w @ np.abs(u_float)) + np.abs(a.folded_b) * root_n
        absolute = 8 * _ETA * (d + root_d * (a.abs_folded_w.sum(axis=1) + np.abs(u_float).sum()) + 1)
        if radicand is not None:
            absolute = absolute + np.abs(a.folded_b) * _SQRT_ETA
        # a fold done in float64 carries its own error beyond one rounding per entry
        norm_u = float(np.sqrt(np.dot(u_float, u_float) * (1 + gamma_bound(d + 2)) + 4 * d * _ETA)) * (1 + 4 * 2.0**-53)
        absolute = absolute + 2 * (root_d * a.folded_w_err * norm_u + a.folded_b_err * root_n)
        bounds = 2.0 * gamma_bound(d + 8) * magnitude + absolute + _UNDERFLOW_SLACK
    decided = np.abs(values) > bounds  # False for NaN and whenever an overflow made the bound inf
    signs = np.where(decided, np.sign(np.where(decided, values, 0.0)), 0).astype(int)
    result = [int(s) for s in signs]
    for i in np.flatnonzero(~decided):
        wu = dot(f.weights[i], u)
        if radicand is None:
            result[i] = (wu + f.bias[i] > 0) - (wu + f.bias[i] < 0)
        else:
            result[i] = sign_sqrt_combination(wu, Fraction(d), f.bias[i], radicand)
    return FilteredSigns(tuple(result), decided, values, bounds)
