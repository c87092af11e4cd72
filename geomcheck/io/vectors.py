"""Vectors from the command line, read exactly.

A vector spec is one of
* ``1,-2,3/4,0.5`` — comma-separated numbers (exact; ``0.5`` is 1/2);
* ``@file.npy`` — a 1-D numpy array (floats read as exact dyadics);
* ``neuron:K`` — neuron K's input direction (row K of ``W_in``, 0-based);
* ``neuron-out:K`` — neuron K's output direction (column K of ``W_out``,
  when the block's output width equals d);
* ``e:K`` — the K-th standard basis vector;
* ``token:TEXT@POS`` — the residual-stream vector the block's normalization
  reads at token POS of TEXT (real models only: runs the model offline);
* ``sae:PATH#K`` — feature K of an SAE decoder (an SAE-Lens folder, or a
  .safetensors/.npz file; see :mod:`geomcheck.io.activations`).
Other ``NAME:...`` kinds can be added with :func:`register_named`.
Length, NaN/Inf and (for directions) zero/constant vectors are checked by the
caller through :meth:`MLPBlock.check_vector` / :meth:`MLPBlock.check_direction`.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Callable

from geomcheck.errors import InvalidInput
from geomcheck.exact.rationals import parse_rational
from geomcheck.model.block import MLPBlock

__all__ = ["parse_vector", "register_named"]

_NAMED: dict[str, Callable[[MLPBlock, str, str], tuple[Fraction, ...]]] = {}


def register_named(kind: str, resolver: Callable[[MLPBlock, str, str], tuple[Fraction, ...]]) -> None:
    """``resolver(block, argument, what)`` answers specs ``KIND:ARGUMENT``."""
    _NAMED[kind] = resolver


def _index(arg: str, limit: int, what: str, kind: str) -> int:
    try:
        k = int(arg)
    except ValueError:
        raise InvalidInput(f"{what}: {kind}:{arg} needs an integer index") from None
    if not 0 <= k < limit:
        raise InvalidInput(f"{what}: {kind}:{k} is out of range (0 ≤ K < {limit})")
    return k


def _neuron_in(block: MLPBlock, arg: str, what: str) -> tuple[Fraction, ...]:
    return tuple(block.w_in[_index(arg, block.n, what, "neuron")])


def _neuron_out(block: MLPBlock, arg: str, what: str) -> tuple[Fraction, ...]:
    if block.d_out != block.d:
        raise InvalidInput(f"{what}: neuron-out needs output width = d (here {block.d_out} ≠ {block.d})")
    k = _index(arg, block.n, what, "neuron-out")
    return tuple(row[k] for row in block.w_out)


def _basis(block: MLPBlock, arg: str, what: str) -> tuple[Fraction, ...]:
    k = _index(arg, block.d, what, "e")
    return tuple(Fraction(int(i == k)) for i in range(block.d))


register_named("neuron", _neuron_in)
register_named("neuron-out", _neuron_out)
register_named("e", _basis)


def _token(block: MLPBlock, arg: str, what: str) -> tuple[Fraction, ...]:
    from geomcheck.io.activations import token_vector  # runs the model: torch, transformers

    return token_vector(block, arg, what)


def _sae(block: MLPBlock, arg: str, what: str) -> tuple[Fraction, ...]:
    from geomcheck.io.activations import sae_vector

    return sae_vector(block, arg, what)


register_named("token", _token)
register_named("sae", _sae)


def _from_npy(path_text: str, what: str) -> tuple[Fraction, ...]:
    import numpy as np

    from geomcheck.io.npz import exact_array

    path = Path(path_text)
    if not path.is_file():
        raise InvalidInput(f"{what}: file not found: {path}")
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise InvalidInput(f"{what}: {path} is not a readable .npy file ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    if not isinstance(array, np.ndarray):  # an .npz archive under another name
        array.close()
        raise InvalidInput(f"{what}: {path} is an .npz archive, not one .npy array")
    if getattr(array, "ndim", None) != 1:
        raise InvalidInput(f"{what}: {path} must hold a 1-D array, got shape {getattr(array, 'shape', '?')}")
    try:
        return exact_array(array, what)
    except InvalidInput as exc:
        raise InvalidInput(str(exc)) from None


def parse_vector(spec: str, block: MLPBlock, what: str = "vector") -> tuple[Fraction, ...]:
    """Read a vector spec exactly and check its length against ``block.d``."""
    spec = spec.strip()
    if not spec:
        raise InvalidInput(f"{what}: empty vector")
    if spec.startswith("@"):
        vector = _from_npy(spec[1:], what)
    else:
        kind, sep, arg = spec.partition(":")
        if sep and kind in _NAMED:
            vector = _NAMED[kind](block, arg, what)
        elif sep:
            raise InvalidInput(f"{what}: unknown named vector {kind!r} (known: {', '.join(sorted(_NAMED))})")
        else:
            vector = tuple(parse_rational(part, f"{what}[{i}]") for i, part in enumerate(spec.split(",")))
    return block.check_vector(vector, what)
