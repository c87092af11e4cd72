"""Blocks stored as numpy ``.npz``: arrays ``w_in`` (n×d), ``b_in``, ``w_out``
(d_out×n), ``b_out``; optional ``gamma``, ``beta``, and scalars/strings
``norm`` (layernorm|rmsnorm|none, default layernorm when gamma is present,
else none), ``eps`` (default 0), ``activation`` (default relu).
Every float is read as its exact dyadic value."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from geomcheck.errors import InvalidInput, ModelFormatError
from geomcheck.exact.rationals import parse_rational
from geomcheck.model.activations import get_activation
from geomcheck.model.block import MLPBlock
from geomcheck.model.norms import make_normalization

__all__ = ["load_npz", "save_npz", "exact_array"]


def exact_array(array, where: str):
    """A numpy array of floats/ints → nested tuples of exact Fractions.

    NaN/Inf are refused, naming the first bad entry.
    """
    import numpy as np

    arr = np.asarray(array)
    if arr.dtype.kind not in "fiu":
        raise ModelFormatError(f"{where}: expected numbers, got dtype {arr.dtype}")
    if arr.dtype.kind == "f":
        bad = np.argwhere(~np.isfinite(arr))
        if bad.size:
            index = "".join(f"[{i}]" for i in bad[0])
            raise ModelFormatError(f"{where}{index}: {arr[tuple(bad[0])]} is not a finite number")
        arr = arr.astype(np.float64)  # float16/32 → float64 is exact
        to_q = Fraction
    else:
        to_q = lambda v: Fraction(int(v))  # noqa: E731
    if arr.ndim == 1:
        return tuple(to_q(float(v)) if arr.dtype.kind == "f" else to_q(v) for v in arr.tolist())
    if arr.ndim == 2:
        return tuple(tuple(to_q(v) for v in row) for row in arr.tolist())
    raise ModelFormatError(f"{where}: expected a vector or a matrix, got {arr.ndim} dimensions")


def load_npz(path: str | Path) -> MLPBlock:
    import numpy as np

    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path}: not a readable .npz file ({exc})") from None
    with data:
        for key in ("w_in", "b_in", "w_out", "b_out"):
            if key not in data:
                raise ModelFormatError(f"{path}: array {key!r} missing (have: {', '.join(data.files)})")
        gamma = exact_array(data["gamma"], "gamma") if "gamma" in data else None
        beta = exact_array(data["beta"], "beta") if "beta" in data else None
        kind = str(data["norm"]) if "norm" in data else ("layernorm" if gamma is not None else "none")
        eps = parse_rational(data["eps"].item() if "eps" in data else 0, "eps")
        activation = str(data["activation"]) if "activation" in data else "relu"
        return MLPBlock(
            w_in=exact_array(data["w_in"], "w_in"),
            b_in=exact_array(data["b_in"], "b_in"),
            w_out=exact_array(data["w_out"], "w_out"),
            b_out=exact_array(data["b_out"], "b_out"),
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
