"""The exact JSON exchange format for one block, ``geomcheck.mlp/1`` (DESIGN §4).

```
{"format": "geomcheck.mlp/1",
 "norm": {"kind": "layernorm", "eps": "0", "gamma": null, "beta": null},
 "activation": "relu",
 "w_in": [["1", "-2", "1/3"], ...],  "b_in": [...],
 "w_out": [[...], ...],              "b_out": [...]}
```

Numbers may be JSON numbers or strings (``"p/q"``, decimals); JSON number
literals are read from their text, so ``0.1`` is exactly 1/10. NaN and
Infinity literals are refused. Every error names the field (``w_in[2][0]``).
``block_to_dict`` writes exact ``"p/q"`` strings, so a round trip is exact.

A **gated** block (:mod:`geomcheck.model.gated`) adds ``"w_up"`` (n×d) and
``"b_up"`` (n): then ``w_in``/``b_in`` are the gate (W_gate, b_gate, whose
signs are the pattern), ``w_out``/``b_out`` are W_down/b_down and
``activation`` is the gate's (``silu``, ``gelu`` or ``relu``). Plain blocks
never carry these keys, so their canonical text (and hash) is unchanged.
"""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

from geomcheck.errors import InvalidInput, ModelFormatError
from geomcheck.exact.rationals import format_rational, parse_rational
from geomcheck.model.activations import get_activation
from geomcheck.model.block import MLPBlock
from geomcheck.model.lazy import DyadicRows
from geomcheck.model.norms import make_normalization

__all__ = ["FORMAT", "block_from_dict", "block_to_dict", "load_model_file", "dump_model", "model_sha256", "parse_json_exact"]

FORMAT = "geomcheck.mlp/1"
_KEYS = {"format", "norm", "activation", "w_in", "b_in", "w_out", "b_out", "name", "w_up", "b_up"}


def _refuse_constant(token: str) -> Any:
    raise ModelFormatError(f"JSON: {token} is not a number geomcheck accepts (NaN and Infinity have no exact value)")


def _exact_float(token: str) -> Fraction:
    # read from the literal's text (0.1 is 1/10); huge exponents are refused, not expanded
    try:
        return parse_rational(token, "JSON number")
    except InvalidInput as exc:
        raise ModelFormatError(str(exc)) from None


def parse_json_exact(text: str, what: str = "JSON") -> Any:
    """json.loads with float literals kept exact (as Fractions), NaN refused, bad input one line.

    Malformed text, integers of more than 4300 digits, exponents beyond ±10⁵ and
    nesting deeper than Python's recursion limit are ModelFormatErrors naming ``what``.
    """
    try:
        return json.loads(text, parse_float=_exact_float, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ModelFormatError(f"{what}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise ModelFormatError(f"{what}: JSON nested too deeply") from None
    except ModelFormatError as exc:
        raise ModelFormatError(f"{what}: {exc}") from None
    except ValueError as exc:  # e.g. an integer literal of more than 4300 digits
        raise ModelFormatError(f"{what}: {str(exc).split(';')[0]}") from None


def _number(value: Any, where: str) -> Fraction:
    try:
        return parse_rational(value, where)
    except InvalidInput as exc:
        raise ModelFormatError(str(exc)) from None


def _vector(value: Any, where: str) -> tuple[Fraction, ...]:
    if not isinstance(value, list):
        raise ModelFormatError(f"{where}: expected a list of numbers, got {type(value).__name__}")
    return tuple(_number(v, f"{where}[{i}]") for i, v in enumerate(value))


def _matrix(value: Any, where: str) -> tuple[tuple[Fraction, ...], ...]:
    if not isinstance(value, list) or not value:
        raise ModelFormatError(f"{where}: expected a non-empty list of rows")
    rows = tuple(_vector(row, f"{where}[{i}]") for i, row in enumerate(value))
    for i, row in enumerate(rows):
        if len(row) != len(rows[0]):
            raise ModelFormatError(f"{where}[{i}]: has {len(row)} entries, {where}[0] has {len(rows[0])} (ragged rows)")
    return rows


def block_from_dict(data: Any, name: str = "") -> MLPBlock:
    """Validate and read a ``geomcheck.mlp/1`` object exactly."""
    if not isinstance(data, dict):
        raise ModelFormatError("model: expected a JSON object")
    if data.get("format") != FORMAT:
        raise ModelFormatError(f"format: expected {FORMAT!r}, got {data.get('format')!r}")
    for key in ("w_in", "b_in", "w_out", "b_out"):
        if key not in data:
            raise ModelFormatError(f"{key}: missing")
    unknown = set(data) - _KEYS
    if unknown:
        raise ModelFormatError(f"{sorted(unknown)[0]}: unknown key (known: {', '.join(sorted(_KEYS))})")
    norm_data = data.get("norm", {"kind": "none"})
    if not isinstance(norm_data, dict):
        raise ModelFormatError("norm: expected an object like {\"kind\": \"layernorm\", \"eps\": \"0\"}")
    if "kind" not in norm_data:
        raise ModelFormatError("norm.kind: missing (layernorm, rmsnorm or none)")
    extra = set(norm_data) - {"kind", "eps", "gamma", "beta", "alpha"}
    if extra:
        raise ModelFormatError(f"norm.{sorted(extra)[0]}: unknown key")
    eps = _number(norm_data.get("eps", "0"), "norm.eps")
    gamma = norm_data.get("gamma")
    beta = norm_data.get("beta")
    norm = make_normalization(
        str(norm_data["kind"]),
        eps,
        None if gamma is None else _vector(gamma, "norm.gamma"),
        None if beta is None else _vector(beta, "norm.beta"),
        None if norm_data.get("alpha") is None else _number(norm_data["alpha"], "norm.alpha"),
    )
    activation = data.get("activation", "relu")
    if not isinstance(activation, str):
        raise ModelFormatError("activation: expected a string (relu, gelu or gelu_tanh)")
    if "w_up" in data or "b_up" in data:
        if "w_up" not in data or "b_up" not in data:
            raise ModelFormatError(f"{'b_up' if 'w_up' in data else 'w_up'}: missing (a gated block has both w_up and b_up)")
        from geomcheck.model.gated import GatedMLPBlock

        return GatedMLPBlock.from_parts(_matrix(data["w_in"], "w_in"), _vector(data["b_in"], "b_in"),
                                        _matrix(data["w_up"], "w_up"), _vector(data["b_up"], "b_up"),
                                        _matrix(data["w_out"], "w_out"), _vector(data["b_out"], "b_out"),
                                        norm, activation, str(data.get("name", name)))
    return MLPBlock(
        w_in=_matrix(data["w_in"], "w_in"),
        b_in=_vector(data["b_in"], "b_in"),
        w_out=_matrix(data["w_out"], "w_out"),
        b_out=_vector(data["b_out"], "b_out"),
        norm=norm,
        activation=get_activation(activation),
        name=str(data.get("name", name)),
    )


def _float_text(value: float) -> str:
    # float.as_integer_ratio() is the float's exact value in lowest terms with a positive
    # denominator, i.e. Fraction(value): the same "p/q" as format_rational, without the Fraction
    p, q = value.as_integer_ratio()
    return str(p) if q == 1 else f"{p}/{q}"


def _matrix_text(matrix) -> list[list[str]]:
    """Rows of ``"p/q"`` strings; a float-backed matrix (DyadicRows) is read from its floats directly."""
    if isinstance(matrix, DyadicRows):
        source = matrix.source
        return [list(map(_float_text, row.tolist() if hasattr(row, "tolist") else map(float, row)))
                for row in source]
    return [[format_rational(x) for x in row] for row in matrix]


def block_to_dict(block: MLPBlock) -> dict[str, Any]:
    """The exact exchange form: every number a ``"p/q"`` string.

    Float-backed weight matrices are written from the floats (``float.as_integer_ratio``),
    which is the same text as the Fraction route and ten times faster (tests compare them).
    """
    vec = lambda v: [format_rational(x) for x in v]  # noqa: E731
    norm = block.norm
    data = {
        "format": FORMAT,
        "name": block.name,
        "norm": {
            "kind": norm.kind,
            "eps": format_rational(norm.eps),
            "gamma": None if norm.gamma is None else vec(norm.gamma),
            "beta": None if norm.beta is None else vec(norm.beta),
        },
        "activation": block.activation.name,
        "w_in": _matrix_text(block.w_in),
        "b_in": vec(block.b_in),
        "w_out": _matrix_text(block.w_out),
        "b_out": vec(block.b_out),
    }
    if hasattr(block, "w_up"):  # gated (geomcheck.model.gated): plain blocks' canonical text is unchanged
        data["w_up"] = _matrix_text(block.w_up)
        data["b_up"] = vec(block.b_up)
    if norm.kind == "dyt":  # only DyT carries alpha, so every other kind's canonical text is unchanged
        data["norm"]["alpha"] = format_rational(norm.alpha)
    return data


def dump_model(block: MLPBlock) -> str:
    return json.dumps(block_to_dict(block), indent=1)


def _canonical_sha256(block: MLPBlock) -> str:
    data = block_to_dict(block)
    data.pop("name")
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _is_sha256(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def model_sha256(block: MLPBlock, *, cache: bool = True) -> str:
    """sha256 of the canonical exchange form (sorted keys, no spaces, name removed).

    A block whose weight matrices are float arrays (a real model) takes about a second to
    write out; its hash is kept in the on-disk cache (:mod:`geomcheck.io.cache`) under a key
    made of the arrays' bytes and the exact text of everything else, so a repeat costs a
    hash of the raw arrays (milliseconds). ``cache=False`` always recomputes.
    """
    sources = [m.source for m in (block.w_in, block.w_out) if isinstance(m, DyadicRows)]
    if not cache or len(sources) != 2 or not all(hasattr(s, "tobytes") for s in sources):
        return _canonical_sha256(block)
    from geomcheck.io.cache import cached_value, weights_key

    rest = block_to_dict(_without_matrices(block))
    rest.pop("name")
    key = weights_key(*sources, json.dumps(rest, sort_keys=True, separators=(",", ":")))
    return cached_value("model-sha256", key, lambda: _canonical_sha256(block), _is_sha256)


def _without_matrices(block: MLPBlock) -> MLPBlock:
    # the block's small parts (biases, norm, activation) with 1×1 stand-in matrices: only for the cache key
    from types import SimpleNamespace

    return SimpleNamespace(name=block.name, norm=block.norm, activation=block.activation, w_in=[[0]],
                           b_in=block.b_in, w_out=[[0]], b_out=block.b_out)


def load_model_file(path: str | Path) -> MLPBlock:
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"model file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"model file {path}: cannot be read ({exc})") from None
    return block_from_dict(parse_json_exact(text, str(path)), name=path.stem)
