"""Float64 copies of a block and a float forward pass, for speed and cross-checks.

``float_arrays(block)`` is cached per block. ``forward(block, x)`` evaluates
the *unfolded* block the way PyTorch does (LayerNorm with biased variance,
γ, β, activation, W_out): it is an independent route to compare against the
exact folded computation, not a source of verdicts.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import numpy as np

from geomcheck.model.block import MLPBlock

__all__ = ["FloatArrays", "float_arrays", "forward", "activation_fn"]


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


_CACHE: "weakref.WeakKeyDictionary[MLPBlock, FloatArrays]" = weakref.WeakKeyDictionary()


def _matrix(rows) -> np.ndarray:
    return np.array([[float(v) for v in row] for row in rows], dtype=np.float64)


def _vector(values) -> np.ndarray:
    return np.array([float(v) for v in values], dtype=np.float64)


def float_arrays(block: MLPBlock) -> FloatArrays:
    cached = _CACHE.get(block)
    if cached is None:
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
        _CACHE[block] = cached
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
