"""Built-in toy models, addressable as ``toy:NAME[?key=value&...]``.

* ``toy:circle3`` — the essay's picture. d = 3, LayerNorm (ε = 0), ReLU, four
  neurons whose weight vectors lie in the plane ``1⊥``; their lines cut the
  circle ``{z ∈ 1⊥ : ‖z‖² = 3}`` into eight arcs.
* ``toy:circle3-noln`` — the same weights with no normalization. The ray along
  ``v = (1, 0, −1)`` (the picture's diagonal) crosses neuron 0 at t = 1/2 and
  neuron 1 at t = 2: three regions, three different affine maps.
* ``toy:sphere4`` — d = 4, LayerNorm, five neurons cutting the 2-sphere in ``1⊥``.
* ``toy:allpoly`` — d = 2, no normalization, three neurons whose all-off
  region is a bounded triangle around 0: every direction is polysemantic
  (monosemantic cone = {0}, certified by ``geomcheck counterexample --cone``).
* ``toy:minimal`` — n = d = 1, ``w = 1, b = −1, w_out = 1``, no normalization:
  the smallest block with a polysemantic direction (v = 1, t = 1/2 and 2).
* ``toy:dyt3`` — the circle3 weights behind DyT, ``tanh(α·x)`` with α = 1/2
  (``alpha=p/q`` to change; any toy takes ``norm=dyt&alpha=…``).
* ``toy:swiglu`` — a gated block (:mod:`geomcheck.model.gated`): d = n = 3, RMSNorm (ε = 0),
  SiLU gate, no biases (as in LLaMA). Gate rows g₀ = (1, 0, 0), g₁ = (0, 1, 0), g₂ = (0, 1, 2);
  up rows (0, 0, 1), (1, 0, 0), 0; W_down = I. Every ray is gate-constant (the gate hyperplanes
  pass through 0); along x + λ·d with x = (2, −1, 0), d = (−1, 1, 1) gate i flips at
  λ = −g_i·x / g_i·d: 1/3 (gate 2, whose up row is 0: no live term), 1 (gate 1), 2 (gate 0), with or
  without the RMSNorm and for every ε. ``toy:swiglu-noln`` is the same without normalization;
  ``toy:swiglu-biased`` adds the gate bias (−1, 0, 1) (rays then flip without the norm or with ε > 0).
  Any ``activation=relu|gelu|silu`` gives ReGLU/GeGLU/SwiGLU.
* ``toy:random?d=8&n=32&seed=0`` — seeded random integer weights (Python's
  ``random.Random``, so identical on every platform); keys ``d``, ``n``,
  ``seed``, ``norm`` (layernorm|rmsnorm|none, default layernorm), ``eps``,
  ``activation``, ``dout`` (output width, default d).

Every toy also takes ``eps=p/q`` and ``norm=KIND`` (``toy:circle3?eps=1/100``).
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Callable
from urllib.parse import parse_qsl

from geomcheck.errors import InvalidInput
from geomcheck.exact.rationals import parse_rational
from geomcheck.model.activations import get_activation
from geomcheck.model.block import MLPBlock
from geomcheck.model.norms import make_normalization

__all__ = ["TOYS", "load_toy", "toy_names"]

F = Fraction


def _ints(rows):
    return tuple(tuple(F(v) for v in row) for row in rows)


def _circle3(norm: str) -> dict:
    return dict(
        w_in=_ints([[1, 0, -1], [0, 1, -1], [1, -1, 0], [-1, 2, -1]]),
        b_in=tuple(F(v) for v in (-1, -2, 1, -1)),
        w_out=_ints([[1, 0, 1, 0], [0, 1, -1, 0], [-1, -1, 0, 1]]),
        b_out=(F(0),) * 3,
        norm=norm,
    )


def _sphere4(norm: str) -> dict:
    return dict(
        w_in=_ints([[1, -1, 0, 0], [1, 1, -1, -1], [0, 1, -2, 1], [2, 0, -1, -1], [1, 1, 1, -3]]),
        b_in=tuple(F(v) for v in (0, -1, 1, -3, 2)),
        w_out=_ints([[1, 0, 0, 1, 0], [0, 1, 0, -1, 1], [0, 0, 1, 0, -1], [1, -1, 1, 0, 0]]),
        b_out=(F(0),) * 4,
        norm=norm,
    )


def _allpoly(norm: str) -> dict:
    """d = 2, three neurons ``w·x − 1`` with w = (−1, 0), (0, −1), (1, 1).

    All three are off exactly on the open triangle ``{x₁ > −1, x₂ > −1,
    x₁ + x₂ < 1}`` around the origin, which is bounded: every ray leaves it, so
    without normalization every direction is polysemantic. Rows
    ``g_i = b_i·w_i = (1, 0), (0, 1), (−1, −1)`` sum to 0 (y = (1, 1, 1)) and
    have rank 2, so the monosemantic cone is {0}; the augmented rows
    ``[w_i | b_i]`` have determinant −3 ≠ 0 and every output column is
    nonzero, so every ray also meets two different affine maps.
    """
    return dict(
        w_in=_ints([[-1, 0], [0, -1], [1, 1]]),
        b_in=tuple(F(v) for v in (-1, -1, -1)),
        w_out=_ints([[1, 0, 1], [0, 1, 1]]),
        b_out=(F(0),) * 2,
        norm=norm,
    )


def _minimal(norm: str) -> dict:
    """n = d = 1: h = x − 1, out = relu(h). Along v = 1 the neuron flips at t = 1 and the map
    changes (w_out ≠ 0); every smaller integer block has no counterexample (see search/minimal.py)."""
    return dict(w_in=_ints([[1]]), b_in=(F(-1),), w_out=_ints([[1]]), b_out=(F(0),), norm=norm)


def _swiglu(norm: str, gate_bias=(0, 0, 0)) -> dict:
    """The hand-checked gated toy (see the module docstring)."""
    return dict(w_in=_ints([[1, 0, 0], [0, 1, 0], [0, 1, 2]]), b_in=tuple(F(v) for v in gate_bias),
                w_up=_ints([[0, 0, 1], [1, 0, 0], [0, 0, 0]]), b_up=(F(0),) * 3,
                w_out=_ints([[1, 0, 0], [0, 1, 0], [0, 0, 1]]), b_out=(F(0),) * 3, norm=norm)


_GATED = {"swiglu", "swiglu-noln", "swiglu-biased"}

_FIXED: dict[str, Callable[[str], dict]] = {
    "swiglu": lambda norm: _swiglu(norm or "rmsnorm"),
    "swiglu-noln": lambda norm: _swiglu(norm or "none"),
    "swiglu-biased": lambda norm: _swiglu(norm or "rmsnorm", (-1, 0, 1)),
    "minimal": lambda norm: _minimal(norm or "none"),
    "allpoly": lambda norm: _allpoly(norm or "none"),
    "dyt3": lambda norm: _circle3(norm or "dyt"),
    "circle3": lambda norm: _circle3(norm or "layernorm"),
    "circle3-noln": lambda norm: _circle3(norm or "none"),
    "sphere4": lambda norm: _sphere4(norm or "layernorm"),
    "sphere4-noln": lambda norm: _sphere4(norm or "none"),
}

TOYS = tuple(sorted(_FIXED)) + ("random",)


def toy_names() -> tuple[str, ...]:
    return TOYS


def _int_param(params: dict[str, str], key: str, default: int, lo: int, hi: int, spec: str) -> int:
    raw = params.pop(key, None)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{spec}: {key}={raw!r} is not an integer") from None
    if not lo <= value <= hi:
        raise InvalidInput(f"{spec}: {key} must be between {lo} and {hi}, got {value}")
    return value


MAX_RANDOM_WEIGHTS = 4_000_000


def _random(params: dict[str, str], spec: str, norm: str) -> dict:
    d = _int_param(params, "d", 8, 1, 4096, spec)
    n = _int_param(params, "n", 32, 1, 16384, spec)
    seed = _int_param(params, "seed", 0, 0, 2**63, spec)
    d_out = _int_param(params, "dout", d, 1, 4096, spec)
    if max(n, d_out) * d > MAX_RANDOM_WEIGHTS:
        # drawing the weights in Python takes about a second per million
        raise InvalidInput(f"{spec}: n·d = {max(n, d_out) * d} weights is more than a toy "
                           f"(at most {MAX_RANDOM_WEIGHTS})")
    rng = random.Random(seed)
    # small integers are exact floats: the matrices stay float rows (read exactly and lazily by
    # the block, model/lazy.py) instead of a million Fractions; same draws, same model
    w_in = [[float(rng.randint(-9, 9)) for _ in range(d)] for _ in range(n)]
    b_in = tuple(F(rng.randint(-40, 40)) for _ in range(n))
    w_out = [[float(rng.randint(-3, 3)) for _ in range(n)] for _ in range(d_out)]
    b_out = tuple(F(rng.randint(-3, 3)) for _ in range(d_out))
    return dict(w_in=w_in, b_in=b_in, w_out=w_out, b_out=b_out, norm=norm or "layernorm", float_rows=True)


def load_toy(spec: str) -> MLPBlock:
    """``toy:NAME?k=v&...`` → MLPBlock."""
    body = spec[len("toy:"):] if spec.startswith("toy:") else spec
    name, _, query = body.partition("?")
    try:
        params = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    except ValueError:
        raise InvalidInput(f"{spec}: cannot read the options after '?' (use key=value&key=value)") from None
    norm = params.pop("norm", "")
    eps = parse_rational(params.pop("eps", "0"), f"{spec}: eps")
    alpha_text = params.pop("alpha", None)
    activation = params.pop("activation", "silu" if name in _GATED else "relu")
    if name == "random":
        parts = _random(params, spec, norm)
    elif name in _FIXED:
        parts = _FIXED[name](norm)
    else:
        raise InvalidInput(f"unknown toy model {name!r} (known: {', '.join('toy:' + t for t in TOYS)})")
    if params:
        raise InvalidInput(f"{spec}: unknown option {sorted(params)[0]!r}")
    kind = parts.pop("norm")
    if kind == "none" and eps:
        raise InvalidInput(f"{spec}: eps makes no sense without a normalization (norm=none)")
    if kind == "dyt":
        alpha = parse_rational(alpha_text or "1/2", f"{spec}: alpha")
        normalization = make_normalization(kind, eps, alpha=alpha)
    elif alpha_text is not None:
        raise InvalidInput(f"{spec}: alpha is a DyT option (add norm=dyt)")
    else:
        normalization = make_normalization(kind, eps)
    if parts.pop("float_rows", False):
        return MLPBlock.from_float_arrays(parts["w_in"], parts["b_in"], parts["w_out"], parts["b_out"],
                                          norm=normalization, activation=get_activation(activation), name=spec)
    if "w_up" in parts:
        from geomcheck.model.gated import GatedMLPBlock

        return GatedMLPBlock.from_parts(parts["w_in"], parts["b_in"], parts["w_up"], parts["b_up"], parts["w_out"],
                                        parts["b_out"], normalization, activation, spec)
    return MLPBlock(norm=normalization, activation=get_activation(activation), name=spec, **parts)
