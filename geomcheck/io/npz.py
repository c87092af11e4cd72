"""Blocks stored as numpy ``.npz``: arrays ``w_in`` (n×d), ``b_in``, ``w_out``
(d_out×n), ``b_out``; optional ``gamma``, ``beta``, and scalars/strings
``norm`` (layernorm|rmsnorm|none, default layernorm when gamma is present,
else none), ``eps`` (default 0), ``activation`` (default relu).
Every float is read as its exact dyadic value."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from geomcheck.errors import ModelFormatError
from geomcheck.exact.rationals import parse_rational
from geomcheck.io.tensors import exact_values, read_npz
from geomcheck.model.activations import get_activation
from geomcheck.model.block import MLPBlock
from geomcheck.model.norms import make_normalization

__all__ = ["load_npz", "save_npz", "exact_array"]


def exact_array(array, where: str):
    """A numpy array of reals → nested tuples of exact Fractions (1-D or 2-D).

    Every float width is read exactly (long double through ``as_integer_ratio``,
    never rounded through float64), integers of any width exactly; complex,
    object and string arrays and NaN/Inf are refused, naming the entry.
    """
    return exact_values(array, where)


def _text_field(data: dict, key: str, path: Path, default: str) -> str:
    if key not in data:
        return default
    value = data[key]
    if value.dtype.kind not in "US" or value.ndim != 0:
        raise ModelFormatError(f"{path}: {key!r} must be a string scalar, got dtype {value.dtype} shape {value.shape}")
    return str(value)


def load_npz(path: str | Path) -> MLPBlock:
    path = Path(path)
    data = read_npz(path)
    for key in ("w_in", "b_in", "w_out", "b_out"):
        if key not in data:
            raise ModelFormatError(f"{path}: array {key!r} missing (have: {', '.join(sorted(data)) or 'nothing'})")
    gamma = exact_array(data["gamma"], "gamma") if "gamma" in data else None
    beta = exact_array(data["beta"], "beta") if "beta" in data else None
    kind = _text_field(data, "norm", path, "layernorm" if gamma is not None else "none")
    eps = Fraction(0)
    if "eps" in data:
        raw = data["eps"]
        if raw.size != 1:
            raise ModelFormatError(f"{path}: 'eps' must be one number, got shape {raw.shape}")
        if raw.dtype.kind in "US":  # a decimal or p/q string, read exactly
            eps = parse_rational(str(raw.reshape(())), f"{path}: eps")
        else:
            (eps,) = exact_array(raw.reshape(1), "eps")
        if eps < 0:
            raise ModelFormatError(f"{path}: eps = {eps} is negative")
    activation = _text_field(data, "activation", path, "relu")
    matrices = {}
    for key, ndim in (("w_in", 2), ("b_in", 1), ("w_out", 2), ("b_out", 1)):
        if data[key].ndim != ndim:
            raise ModelFormatError(f"{path}: {key} must be {'a matrix' if ndim == 2 else 'a vector'}, "
                                   f"got shape {data[key].shape}")
        matrices[key] = exact_array(data[key], key)
    return MLPBlock(
        **matrices,
        norm=make_normalization(kind, eps, gamma, beta),
        activation=get_activation(activation),
        name=path.stem,
    )


def save_npz(block: MLPBlock, path: str | Path) -> None:
    """Float64 arrays (exact only when every weight is a dyadic float)."""
    import numpy as np

    f = lambda m: np.array([[float(v) for v in row] for row in m])  # noqa: E731
    v = lambda m: np.array([float(x) for x in m])  # noqa: E731
    extra = {}
    if block.norm.gamma is not None:
        extra["gamma"] = v(block.norm.gamma)
    if block.norm.beta is not None:
        extra["beta"] = v(block.norm.beta)
    np.savez(
        path, w_in=f(block.w_in), b_in=v(block.b_in), w_out=f(block.w_out), b_out=v(block.b_out),
        norm=np.array(block.norm.kind), eps=np.array(float(block.norm.eps)), activation=np.array(block.activation.name), **extra,
    )
