"""Float64 copies of a block and a float forward pass, for speed and cross-checks.

``float_arrays(block)`` is cached per block. ``forward(block, x)`` evaluates
the *unfolded* block the way PyTorch does (LayerNorm with biased variance,
γ, β, activation, W_out): it is an independent route to compare against the
exact folded computation, not a source of verdicts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from geomcheck.model.block import MLPBlock
from geomcheck.model.derived import FLOAT_ARRAYS
from geomcheck.model.lazy import DyadicRows

__all__ = ["FloatArrays", "float_arrays", "forward", "activation_fn", "to_float"]


@dataclass(frozen=True)
class FloatArrays:
    w_in: np.ndarray      # n × d
    b_in: np.ndarray
    w_out: np.ndarray     # d_out × n
    b_out: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    folded_w: np.ndarray  # w̃ rows (P·W'·): each entry within u·|x| + η of the exact one, plus folded_w_err
    folded_b: np.ndarray  # b': each entry within u·|x| + η of the exact one, plus folded_b_err
    abs_folded_w: np.ndarray
    # Rigorous bounds beyond one rounding per entry: zero when the floats are the exact values rounded
    # once, positive when the fold was done in float64 from exact float weights (_fold_in_float).
    # Class attributes, not fields, so that loaders building FloatArrays(**fields) need not know them.
    folded_w_err = 0.0  # per row: ‖fl(w̃_i) − w̃_i‖₂ beyond u·|w̃_i| + η per entry
    folded_b_err = 0.0  # per neuron: |fl(b'_i) − b'_i| beyond u·|b'_i| + η


class _ProvidedArrays:
    """Compatibility shim for loaders that wrote ``floats._CACHE[block] = FloatArrays(...)``:
    the arrays go to the block's owner of derived data (``block.data.provide``)."""

    def __setitem__(self, block: MLPBlock, arrays: "FloatArrays") -> None:
        block.data.provide(FLOAT_ARRAYS, arrays)

    def get(self, block: MLPBlock, default=None):
        return block.data.get(FLOAT_ARRAYS, default)

    def __contains__(self, block: MLPBlock) -> bool:
        return FLOAT_ARRAYS in block.data


_CACHE = _ProvidedArrays()


def to_float(q) -> float:
    """``q`` rounded to nearest float64; ±inf beyond the float range (``float()`` raises there).

    The rounding error is at most ``2⁻⁵³·|q| + 2⁻¹⁰⁷⁵`` when the result is finite: relative in
    the normal range, absolute below it (subnormals, and 0 for |q| under half the smallest
    subnormal). Error bounds built on these values must carry both parts.
    """
    try:
        return float(q)
    except OverflowError:
        return math.inf if q > 0 else -math.inf


_EXACT_INT = 2**53


def _matrix(rows) -> np.ndarray:
    """Rows of rationals, each rounded to nearest (as :func:`to_float`).

    Fast route: when every numerator and denominator is below 2⁵³ they are exact
    float64s and one IEEE division per entry is correctly rounded, the same value
    as ``float(Fraction)``; otherwise entry by entry.
    """
    rows = list(rows)
    try:
        nums = np.array([[q.numerator for q in row] for row in rows], dtype=np.int64)
        dens = np.array([[q.denominator for q in row] for row in rows], dtype=np.int64)
    except (OverflowError, AttributeError, TypeError):
        nums = dens = None
    if nums is not None and nums.size and np.abs(nums).max() < _EXACT_INT and dens.max() < _EXACT_INT:
        return nums.astype(np.float64) / dens.astype(np.float64)
    return np.array([[to_float(v) for v in row] for row in rows], dtype=np.float64)


def _all_dyadic(rows) -> bool:
    """Every entry's denominator a power of two below 2^1074 and numerator within float precision? Cheap test:
    power-of-two denominators and small numerators mean the float is the exact value."""
    for row in rows:
        for q in row:
            den = q.denominator
            if den & (den - 1) or abs(q.numerator) >= 2**53 or den > 2**1022:
                return False
    return True


def _vector(values) -> np.ndarray:
    return np.array([to_float(v) for v in values], dtype=np.float64)


def provide_float_arrays(block: MLPBlock, arrays: FloatArrays) -> None:
    """Hand the block float64 copies a loader already has (the folded ones correctly rounded)."""
    block.data.provide(FLOAT_ARRAYS, arrays)


def float_arrays(block: MLPBlock) -> FloatArrays:
    """The block's float64 copies (built once, kept by ``block.data``)."""
    return block.data.cached(FLOAT_ARRAYS, lambda: _build_float_arrays(block))


_U = 2.0**-53
_ETA = 2.0**-1074


def _gamma(k: int) -> float:
    return k * _U / (1 - k * _U)


def _fold_in_float(block: MLPBlock, W: np.ndarray, w_exact: bool = True) -> FloatArrays:
    """Float copies of a block whose ``w_in`` is an exact float array, folded in float64 with bounds.

    ``w' = W ⊙ γ`` (one rounding each: error ≤ u·|w'| + η, plus |W|·(u|γ| + η) when γ itself is rounded),
    the row mean ``m`` by a float sum (Higham: ≤ γ_{d+1}·Σ|w'|/d + 2η, plus the inputs' error),
    ``w̃ = w' − m`` (one rounding). Beyond the one rounding per entry the filters assume, the rows
    carry ``folded_w_err`` ≥ ‖extra error‖₂, and ``b' = W·β + b`` (float product) carries
    ``folded_b_err`` ≥ γ_{d+2}·(|W|·|β| + |b|) + η·(Σ|W_ij| + 2d + 4). Doubled for safety.
    """
    n, d = W.shape
    norm = block.norm
    gamma = _vector(norm.gamma) if norm.gamma is not None else np.ones(d)
    beta = _vector(norm.beta) if norm.beta is not None else np.zeros(d)
    b_in = _vector(block.b_in)
    abs_w = np.abs(W)
    row_l1 = abs_w.sum(axis=1) * (1 + _gamma(d + 1)) + d * _ETA
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        wp = W * gamma if norm.gamma is not None else W
        wp_l2 = np.sqrt(np.einsum("ij,ij->i", wp, wp) * (1 + _gamma(d + 2)) + 4 * d * _ETA) * (1 + 4 * _U)
        # w' rounding beyond "u·|w̃| + η per entry": u·|w'| + η per entry, and |W|·(u|γ| + η) for a rounded γ
        err = 2 * _U * wp_l2 + (row_l1 + 2 * d) * _ETA * 2 + 2 * _U * wp_l2
        if not w_exact:  # W itself rounded from rationals: u·|W_ij| + η more per entry, times |γ_j|
            err = err + 2 * _U * wp_l2 + 2 * _ETA * (row_l1 + d) * (1 + float(np.abs(gamma).max()))
        if norm.centers:
            mean = wp.sum(axis=1) / d
            wp_l1 = np.abs(wp).sum(axis=1) * (1 + _gamma(d + 1)) + d * _ETA
            err_mean = 2 * _gamma(d + 2) * wp_l1 / d + 4 * _ETA + (2 * _U * wp_l1 + row_l1 * _ETA * 2 + 2 * d * _ETA) / d
            if not w_exact:
                err_mean = err_mean + (2 * _U * wp_l1 + 2 * _ETA * (row_l1 + d) * (1 + float(np.abs(gamma).max()))) / d
            folded_w = wp - mean[:, None]
            err = err + np.sqrt(d) * (err_mean + _U * np.abs(mean) + 2 * _ETA)
        else:
            folded_w = wp
        folded_w_err = 2 * err
        if norm.beta is not None:
            folded_b = W @ beta + b_in
            folded_b_err = 2 * (_gamma(d + 2) * (abs_w @ np.abs(beta) + np.abs(b_in))
                                + _ETA * (row_l1 + 2 * d + 4 + 2 * np.abs(beta).sum()) + _U * abs_w @ np.abs(beta))
        else:
            folded_b = b_in
            folded_b_err = 0.0
    w_out = block.w_out.source if isinstance(block.w_out, DyadicRows) else _matrix(block.w_out)
    arrays = FloatArrays(
        w_in=W,
        b_in=b_in,
        w_out=np.asarray(w_out, dtype=np.float64),
        b_out=_vector(block.b_out),
        gamma=gamma,
        beta=beta,
        folded_w=folded_w,
        folded_b=folded_b,
        abs_folded_w=np.abs(folded_w),
    )
    object.__setattr__(arrays, "folded_w_err", folded_w_err)
    object.__setattr__(arrays, "folded_b_err", folded_b_err)
    return arrays


def _build_float_arrays(block: MLPBlock) -> FloatArrays:
    if isinstance(block.w_in, DyadicRows) and block.norm.exact_signs:
        return _fold_in_float(block, np.asarray(block.w_in.source, dtype=np.float64))
    if block.norm.exact_signs:
        # rational weights: round W once (fast route in _matrix), fold in float with the bounds above
        W = _matrix(block.w_in)
        exact = bool(np.isfinite(W).all()) and _all_dyadic(block.w_in)
        return _fold_in_float(block, W, w_exact=exact)
    f = block.folded
    folded_w = _matrix(f.weights)
    cached = FloatArrays(
        w_in=_matrix(block.w_in),
        b_in=_vector(block.b_in),
        w_out=_matrix(block.w_out),
        b_out=_vector(block.b_out),
        gamma=_vector(block.norm.gamma) if block.norm.gamma is not None else np.ones(block.d),
        beta=_vector(block.norm.beta) if block.norm.beta is not None else np.zeros(block.d),
        folded_w=folded_w,
        folded_b=_vector(f.bias),
        abs_folded_w=np.abs(folded_w),
    )
    return cached


def activation_fn(name: str):
    if name == "relu":
        return lambda h: np.maximum(h, 0.0)
    if name == "gelu":
        erf = np.vectorize(math.erf, otypes=[float])
        return lambda h: 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))
    if name == "gelu_tanh":
        return lambda h: 0.5 * h * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (h + 0.044715 * h**3)))
    if name == "silu":  # gated blocks' gate (geomcheck.model.gated)
        return lambda h: h / (1.0 + np.exp(-np.clip(h, -700.0, 700.0)))
    raise ValueError(f"unknown activation {name!r}")


def normalize(block: MLPBlock, x: np.ndarray) -> np.ndarray:
    """The normalization's output ``γ ⊙ z + β`` in float64 (rows of x are inputs)."""
    a = float_arrays(block)
    x = np.asarray(x, dtype=np.float64)
    norm = block.norm
    if norm.kind == "dyt":
        return a.gamma * np.tanh(float(norm.alpha) * x) + a.beta
    if not norm.scales:
        return x
    eps = float(norm.eps)
    u = x - x.mean(axis=-1, keepdims=True) if norm.centers else x
    z = u / np.sqrt((u * u).mean(axis=-1, keepdims=True) + eps)
    return a.gamma * z + a.beta


def preactivations(block: MLPBlock, x: np.ndarray) -> np.ndarray:
    """Unfolded ``W_in·N(x) + b_in`` in float64."""
    a = float_arrays(block)
    return normalize(block, x) @ a.w_in.T + a.b_in


def forward(block: MLPBlock, x: np.ndarray) -> np.ndarray:
    """The whole block ``W_out·φ(W_in·N(x) + b_in) + b_out`` in float64."""
    a = float_arrays(block)
    if hasattr(block, "w_up"):  # gated: W_down·(act(gate) ⊙ (W_up·N(x) + b_up)) + b_down
        up = normalize(block, x) @ np.asarray(block.w_up.source if isinstance(block.w_up, DyadicRows)
                                              else _matrix(block.w_up), dtype=np.float64).T + _vector(block.b_up)
        return (activation_fn(block.activation.name)(preactivations(block, x)) * up) @ a.w_out.T + a.b_out
    return activation_fn(block.activation.name)(preactivations(block, x)) @ a.w_out.T + a.b_out
