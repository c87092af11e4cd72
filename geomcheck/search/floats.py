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

__all__ = ["FloatArrays", "float_arrays", "forward", "activation_fn", "to_float"]


@dataclass(frozen=True)
class FloatArrays:
    w_in: np.ndarray      # n × d
    b_in: np.ndarray
    w_out: np.ndarray     # d_out × n
    b_out: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    folded_w: np.ndarray  # w̃ rows (P·W'·)  rounded to nearest float64
    folded_b: np.ndarray  # b'
    abs_folded_w: np.ndarray


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


def _matrix(rows) -> np.ndarray:
    return np.array([[to_float(v) for v in row] for row in rows], dtype=np.float64)


def _vector(values) -> np.ndarray:
    return np.array([to_float(v) for v in values], dtype=np.float64)


def provide_float_arrays(block: MLPBlock, arrays: FloatArrays) -> None:
    """Hand the block float64 copies a loader already has (the folded ones correctly rounded)."""
    block.data.provide(FLOAT_ARRAYS, arrays)


def float_arrays(block: MLPBlock) -> FloatArrays:
    """The block's float64 copies (built once, kept by ``block.data``)."""
    return block.data.cached(FLOAT_ARRAYS, lambda: _build_float_arrays(block))


def _build_float_arrays(block: MLPBlock) -> FloatArrays:
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
    return activation_fn(block.activation.name)(preactivations(block, x)) @ a.w_out.T + a.b_out
