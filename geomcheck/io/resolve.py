"""Turn a model spec from the command line into an :class:`MLPBlock`.

Specs: ``toy:NAME[?opts]`` (:mod:`geomcheck.io.toys`), a ``.json`` file in the
exchange format, a ``.npz`` file (:mod:`geomcheck.io.npz`), a state dict
``PATH.safetensors?layer=N``, a Hugging Face ``save_pretrained`` folder
``DIR?layer=N`` and ``minilm:LAYER`` (:mod:`geomcheck.io.real`); ``smollm2:LAYER``
(:mod:`geomcheck.io.gguf`) is recognised and refused until gated blocks exist. Other prefixes are
registered in ``_PREFIX_LOADERS`` (real models add theirs there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from geomcheck.errors import InvalidInput
from geomcheck.model.block import MLPBlock

__all__ = ["load_model", "register_prefix"]

_PREFIX_LOADERS: dict[str, Callable[[str], MLPBlock]] = {}


def register_prefix(prefix: str, loader: Callable[[str], MLPBlock]) -> None:
    """Make ``PREFIX:...`` specs load through ``loader(spec)``."""
    _PREFIX_LOADERS[prefix] = loader


def _toy(spec: str) -> MLPBlock:
    from geomcheck.io.toys import load_toy

    return load_toy(spec)


def _minilm(spec: str) -> MLPBlock:
    from geomcheck.io.real import load_minilm_spec

    return load_minilm_spec(spec)


def _smollm2(spec: str) -> MLPBlock:
    from geomcheck.io.gguf import load_smollm2_spec

    return load_smollm2_spec(spec)


register_prefix("toy", _toy)
register_prefix("minilm", _minilm)
register_prefix("smollm2", _smollm2)


def load_model(spec: str) -> MLPBlock:
    """Resolve a model spec; unknown specs and missing files raise InvalidInput."""
    spec = spec.strip()
    prefix, sep, _ = spec.partition(":")
    if sep and prefix in _PREFIX_LOADERS:
        return _PREFIX_LOADERS[prefix](spec)
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix in (".json", ".npz") and not path.is_file():
        raise InvalidInput(f"model file not found: {spec}")
    if suffix == ".json":
        from geomcheck.io.modelfile import load_model_file

        return load_model_file(path)
    if ".safetensors" in spec.lower() and Path(spec.partition("?")[0]).suffix.lower() == ".safetensors":
        from geomcheck.io.real import load_safetensors_spec

        return load_safetensors_spec(spec)
    if suffix == ".npz":
        from geomcheck.io.npz import load_npz

        return load_npz(path)
    if Path(spec.partition("?")[0]).is_dir():
        from geomcheck.io.real import load_hf_folder_spec

        return load_hf_folder_spec(spec)
    if path.is_file():
        raise InvalidInput(f"{spec}: unknown model file type (use .json, .npz or .safetensors)")
    known = ", ".join(sorted(p + ":" for p in _PREFIX_LOADERS))
    raise InvalidInput(f"unknown model {spec!r}: not a file, and not a known prefix ({known})")
