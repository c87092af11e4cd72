"""The notebook surface: ``geomcheck.load``, ``geomcheck.vector`` and one function per command.

Each function takes a model (a spec string such as ``"minilm:3"`` or a loaded
block) and vectors given as specs (``"neuron:7"``, ``"1,-2,3/4"``,
``"token:The cat sat.@2"``), lists or numpy arrays (floats read as their exact
values), and returns the same result object the command line prints: a short
``repr``, ``_repr_html_`` in notebooks, ``.to_json()`` (the documented
``--json`` keys) and ``.to_pandas()`` (its main table). ``status`` is always
the gate's (:func:`geomcheck.verdicts.gate`): *proved* or *refuted* only when
the trusted checker accepted a certificate in this call.

>>> import geomcheck as gc
>>> m = gc.load("toy:circle3")
>>> gc.ray(m, [1, 0, 0]).status
'proved'
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

from geomcheck.errors import InvalidInput

__all__ = ["load", "vector", "ray", "path", "arc", "sphere", "feasible", "cap", "counterexample", "check", "rotate", "exchange_model"]


def load(spec: Any):
    """The block a model spec names (any spec the CLI takes), or ``spec`` itself when it is a block."""
    from geomcheck.model.block import MLPBlock

    if isinstance(spec, MLPBlock):
        return spec
    if isinstance(spec, Path):
        spec = str(spec)
    if not isinstance(spec, str):
        raise InvalidInput(f"model: expected a spec such as 'toy:circle3' or 'minilm:3', got {type(spec).__name__}")
    from geomcheck.io.resolve import load_model

    return load_model(spec)


def vector(model: Any, spec: Any, what: str = "vector") -> tuple[Fraction, ...]:
    """An exact vector of length ``model.d``: from a spec string, a list or a numpy array.

    Floats are read as their exact binary values; strings ``"p/q"`` and decimals exactly.
    """
    from geomcheck.exact.rationals import parse_rational

    block = load(model)
    if isinstance(spec, str):
        from geomcheck.io.vectors import parse_vector

        return parse_vector(spec, block, what)
    if hasattr(spec, "tolist"):  # numpy arrays (and scalars' containers): Python floats, exact
        spec = spec.tolist()
    if not isinstance(spec, (list, tuple)) or any(isinstance(v, (list, tuple)) for v in spec):
        raise InvalidInput(f"{what}: expected a spec string, a flat list or a 1-D array, got {type(spec).__name__}")
    return block.check_vector(tuple(parse_rational(v, f"{what}[{i}]") for i, v in enumerate(spec)), what)


def _direction(block, spec, what: str):
    return block.check_direction(vector(block, spec, what), what)


def ray(model: Any, direction: Any, *, engine: str = "filtered"):
    """Exact crossings along the ray ``{λ·v : λ > 0}`` (``geomcheck ray``): a PathResult."""
    from geomcheck.api.paths import analyse
    from geomcheck.geometry.paths import PathSpec

    block = load(model)
    return analyse(block, PathSpec.ray(_direction(block, direction, "direction")), _engine(engine))


def path(model: Any, base: Any, add: Any, *, max: Any = None, engine: str = "filtered"):  # noqa: A002 — the CLI's --max
    """Exact crossings along ``base + λ·add``, λ ∈ [0, ∞) or [0, max] (``geomcheck path``)."""
    from geomcheck.api.paths import analyse
    from geomcheck.exact.rationals import parse_rational
    from geomcheck.geometry.paths import PathSpec

    block = load(model)
    x = vector(block, base, "base")
    v = _direction(block, add, "add")
    limit = None if max is None else parse_rational(max, "max")
    if limit is not None and limit <= 0:
        raise InvalidInput(f"max: must be > 0, got {max}")
    return analyse(block, PathSpec.superposition(x, v, limit), _engine(engine))


def arc(model: Any, start: Any, end: Any, *, engine: str = "filtered"):
    """Exact crossings along ``start + s·(end − start)``, s ∈ [0, 1] (``geomcheck arc --from --to``)."""
    from geomcheck.api.paths import analyse
    from geomcheck.geometry.paths import PathSpec

    block = load(model)
    x, y = vector(block, start, "start"), vector(block, end, "end")
    if block.norm.scales and block.norm.eps == 0:
        block.check_direction(x, "start")
        block.check_direction(y, "end")
    return analyse(block, PathSpec.arc(x, y), _engine(engine))


def sphere(model: Any, *, regions: str = "auto", budget: float = 20.0, progress: bool = False):
    """Neuron classification and region counts on the normalization sphere (``geomcheck sphere``)."""
    from geomcheck.api.sphere import sphere_summary

    if regions not in ("auto", "yes", "no"):
        raise InvalidInput(f"regions: expected 'auto', 'yes' or 'no', got {regions!r}")
    return sphere_summary(load(model), regions, budget, progress=progress)


def feasible(model: Any, pattern: str, *, on: str = "auto"):
    """Is the sign pattern (one of ``+ - *`` per neuron) realised, in space or on the sphere (``geomcheck feasible``)?"""
    from geomcheck.api.sphere import feasible as feasible_

    if on not in ("space", "sphere", "auto"):
        raise InvalidInput(f"on: expected 'space', 'sphere' or 'auto', got {on!r}")
    return feasible_(load(model), pattern, on)


def cap(model: Any, direction: Any, *, cos: Any = None):
    """Certified angular radius of the region-constant cap around ``direction`` (``geomcheck cap``)."""
    from geomcheck.api.sphere import cap as cap_
    from geomcheck.exact.rationals import parse_rational

    block = load(model)
    return cap_(block, _direction(block, direction, "direction"), None if cos is None else parse_rational(cos, "cos"))


def counterexample(model: Any, *, direction: Any = None, most_crossings: bool = False, fraction: int | None = None,
                   seed: int = 0, drop_norm: bool = False, cone: bool = False):
    """``geomcheck counterexample``: for a block without normalization (or with ``drop_norm=True``), a
    direction and two scales whose maps differ, exactly; ``cone=True``: the cone of region-constant rays."""
    from geomcheck.api import counterexample as ce
    from geomcheck.search.counterexample import drop_norm as drop

    original = load(model)
    block = drop(original) if drop_norm else original
    if cone:
        return ce.cone(block, original, drop_norm)
    if block.norm.kind == "dyt":
        return ce.dyt_counterexample(block, None if direction is None else _direction(block, direction, "direction"))
    if direction is not None and most_crossings:
        raise InvalidInput("direction and most_crossings: choose one")
    v = None if direction is None else _direction(block, direction, "direction")
    return ce.counterexample(block, original, direction=v, most_crossings=most_crossings, fraction=fraction,
                             seed=seed, drop_norm=drop_norm)


def check(certificate: Any, model: Any = None):
    """The trusted checker on a certificate (a file path or a dict); ``model`` for certificates that
    name their model by sha256. Returns the checker's verdict (``.accepted``, ``.message``)."""
    from geomcheck.checker import check_certificate, check_file

    exchange = None
    if model is not None:
        from geomcheck.io.modelfile import block_to_dict

        if isinstance(model, str):
            exchange = exchange_model(model)[0]
        else:
            exchange = block_to_dict(load(model))
            exchange.pop("name", None)
    if isinstance(certificate, (str, Path)):
        return check_file(str(certificate), model=exchange)
    if isinstance(certificate, dict):
        return check_certificate(certificate, model=exchange)
    raise InvalidInput(f"certificate: expected a file path or a dict, got {type(certificate).__name__}")


def exchange_model(spec: str) -> tuple[dict, str]:
    """(exchange object, its canonical sha256) for MODEL: the file as written when the checker reads it,
    else the block read by geomcheck.io."""
    from geomcheck.checker.core import Rejected, canonical_model_sha256, load_json

    path = Path(spec)
    if path.suffix == ".json" and path.is_file():
        try:
            data = load_json(path.read_text(encoding="utf-8"))
            return data, canonical_model_sha256(data)
        except (OSError, ValueError, RecursionError, Rejected):
            pass  # decimals, JSON numbers, ...: geomcheck.io reads them exactly
    from geomcheck.io import block_to_dict, load_model

    data = block_to_dict(load_model(spec))
    data.pop("name", None)
    return data, canonical_model_sha256(data)


def rotate(model: Any, base: Any, add: Any, *, samples: int = 2001, check: bool = True):  # noqa: A002
    """The block output along the rotation from ``z(base)`` toward ``z(add)`` (``geomcheck rotate``)."""
    from geomcheck.api.rotate import rotate as rotate_
    from geomcheck.geometry.paths import PathSpec

    block = load(model)
    if not 16 <= samples <= 200_000:
        raise InvalidInput(f"samples: must be between 16 and 200000, got {samples}")
    spec = PathSpec.superposition(vector(block, base, "base"), _direction(block, add, "add"), None)
    return rotate_(block, spec, samples=samples, check=check)


def _engine(engine: str) -> str:
    if engine not in ("filtered", "exact"):
        raise InvalidInput(f"engine: expected 'filtered' or 'exact', got {engine!r}")
    return engine
