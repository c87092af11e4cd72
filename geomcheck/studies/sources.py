"""Vector sources of a scan: where bases and directions come from, by index.

A source spec names a *list* of vectors of one layer, so that a Dask task can
be sent an index range instead of the vectors themselves:

* ``@FILE.npy`` — the rows of a 2-D array (a 1-D array is one vector);
* ``neurons`` — the neurons' input directions (rows of ``W_in``), exact;
* ``random:K`` or ``random:K@SEED`` — K standard-normal vectors from
  ``numpy.random.default_rng(SEED)`` (SEED 0 by default), the same K × d
  array in every layer and on every machine;
* ``tokens:FILE`` — the residual-stream activations the layer's normalization
  reads, at every token of every non-empty line of a text file (real models
  only: :func:`geomcheck.io.activations.residual_activations`);
* ``sae:PATH`` — every row of ``W_dec`` in a ``.safetensors``/``.npz`` SAE file.

Vectors are float64 arrays for the batch estimate; :meth:`Source.exact` gives
the exact rationals the exact analysis uses, which are the float64 values
read exactly (so both stages see the same vector) — except ``neurons``, whose
rows come straight from the exact weights. :meth:`Source.fingerprint` hashes
what the vectors depend on (file bytes, K and seed), so a resumed scan can
refuse to mix results of different inputs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from geomcheck.errors import InvalidInput
from geomcheck.model.block import MLPBlock

__all__ = ["Source", "parse_source", "KINDS"]

KINDS = ("npy", "neurons", "random", "tokens", "sae")


def _file_sha256(path: Path, what: str) -> str:
    if not path.is_file():
        raise InvalidInput(f"{what}: file not found: {path}")
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Source:
    """A parsed source spec; ``arg`` is a path, a count or empty."""

    kind: str
    arg: str
    seed: int = 0
    spec: str = ""

    # -- identity -----------------------------------------------------------
    def fingerprint(self) -> str:
        """What the vectors depend on besides the model: a file hash, or the spec itself."""
        if self.kind in ("npy", "tokens", "sae"):
            return f"{self.kind}:sha256={_file_sha256(Path(self.arg), self.spec)}"
        if self.kind == "random":
            return f"random:{self.arg}@{self.seed}"
        return self.kind

    @property
    def per_layer(self) -> bool:
        """True when the vectors depend on the layer (neurons, token activations)."""
        return self.kind in ("neurons", "tokens")

    # -- vectors ------------------------------------------------------------
    def count(self, block: MLPBlock) -> int:
        return len(self.floats(block))

    def floats(self, block: MLPBlock, fingerprint: str | None = None) -> np.ndarray:
        """All vectors of this source for ``block``'s layer, as a float64 m × d array.

        Cached per process (a Dask worker reads a file once). ``fingerprint``, when
        given, is what the driver hashed: a worker that reads different bytes
        (another file behind the same path) refuses instead of mixing inputs.
        """
        key = (self.spec, fingerprint, id(block))
        cached = _VECTORS.get(key)
        if cached is not None and cached[0] is block:
            return cached[1]
        if fingerprint is not None and self.fingerprint() != fingerprint:
            raise InvalidInput(f"{self.spec}: the file changed since the scan was planned (its sha256 differs)")
        array = self._load(block)
        _VECTORS[key] = (block, array)
        return array

    def exact(self, block: MLPBlock, index: int, fingerprint: str | None = None) -> tuple[Fraction, ...]:
        """Vector ``index`` as exact rationals (the float64 value, or the exact neuron row)."""
        if self.kind == "neurons":
            return tuple(block.w_in[index])
        return tuple(map(Fraction, self.floats(block, fingerprint)[index].tolist()))

    def _load(self, block: MLPBlock) -> np.ndarray:
        d = block.d
        if self.kind == "neurons":
            from geomcheck.search.floats import float_arrays

            return float_arrays(block).w_in
        if self.kind == "random":
            return np.random.default_rng(self.seed).standard_normal((int(self.arg), d))
        if self.kind == "npy":
            try:
                array = np.load(self.arg, allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise InvalidInput(f"{self.spec}: not a readable .npy file ({exc})") from None
            if array.ndim == 1:
                array = array[None, :]
            return _checked(array, d, self.spec)
        if self.kind == "sae":
            return _checked(_sae_rows(Path(self.arg), d, self.spec), d, self.spec)
        if self.kind == "tokens":
            from geomcheck.io.activations import residual_activations

            texts = [line.strip() for line in Path(self.arg).read_text(encoding="utf-8").splitlines() if line.strip()]
            if not texts:
                raise InvalidInput(f"{self.spec}: the text file has no non-empty line")
            acts = residual_activations(block, texts)
            return _checked(np.concatenate([a for _, a in acts]).astype(np.float64), d, self.spec)
        raise AssertionError(self.kind)


_VECTORS: dict = {}


def _checked(array, d: int, what: str) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype.kind not in "fiu":
        raise InvalidInput(f"{what}: expected numbers, got dtype {array.dtype}")
    if array.ndim != 2 or array.shape[1] != d:
        raise InvalidInput(f"{what}: expected an m × {d} array (one vector a row), got shape {array.shape}")
    if array.shape[0] == 0:
        raise InvalidInput(f"{what}: holds no vector")
    array = array.astype(np.float64)  # float16/32 and small ints → float64 is exact
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        raise InvalidInput(f"{what}: row {bad[0][0]} has a non-finite entry")
    return array


def _sae_rows(path: Path, d: int, what: str) -> np.ndarray:
    if not path.is_file():
        raise InvalidInput(f"{what}: SAE file not found: {path}")
    if path.suffix.lower() == ".safetensors":
        try:
            from safetensors.numpy import load_file
        except ImportError:
            from geomcheck.errors import MissingDependency

            raise MissingDependency("safetensors", "models", "SAE directions") from None
        try:
            tensors = load_file(str(path))
        except Exception as exc:  # noqa: BLE001 - any reader failure is bad input
            raise InvalidInput(f"{what}: {path} is not a readable .safetensors file ({exc})") from None
    elif path.suffix.lower() == ".npz":
        with np.load(path, allow_pickle=False) as data:
            tensors = {k: data[k] for k in data.files}
    else:
        raise InvalidInput(f"{what}: SAE file must be .safetensors or .npz")
    w_dec = next((tensors[k] for k in ("W_dec", "w_dec", "decoder.weight") if k in tensors), None)
    if w_dec is None:
        raise InvalidInput(f"{what}: {path} has no tensor W_dec")
    w_dec = np.asarray(w_dec)
    if w_dec.ndim == 2 and w_dec.shape[1] != d and w_dec.shape[0] == d:
        w_dec = w_dec.T  # stored d × n_features
    return w_dec


def parse_source(spec: str, what: str) -> Source:
    """Read a source spec (module docstring); bad specs raise :class:`InvalidInput` naming ``what``."""
    text = spec.strip()
    if text.startswith("@"):
        if not Path(text[1:]).is_file():
            raise InvalidInput(f"{what}: file not found: {text[1:]}")
        return Source("npy", text[1:], spec=text)
    if text == "neurons":
        return Source("neurons", "", spec=text)
    kind, sep, arg = text.partition(":")
    if sep and kind == "random":
        count, _, seed = arg.partition("@")
        try:
            k, s = int(count), int(seed or 0)
        except ValueError:
            raise InvalidInput(f"{what}: write random:K or random:K@SEED with integers, got {text!r}") from None
        if k < 1 or s < 0:
            raise InvalidInput(f"{what}: random:K needs K ≥ 1 and SEED ≥ 0, got {text!r}")
        return Source("random", str(k), s, spec=text)
    if sep and kind in ("tokens", "sae"):
        if not Path(arg).is_file():
            raise InvalidInput(f"{what}: file not found: {arg}")
        return Source(kind, arg, spec=text)
    raise InvalidInput(f"{what}: unknown source {text!r} (use @FILE.npy, neurons, random:K[@SEED], tokens:FILE or sae:PATH)")
