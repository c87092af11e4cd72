"""Gated MLP blocks (LLaMA-family SwiGLU, GeGLU, ReGLU), exactly.

    out = W_down·(act(W_gate·N(x) + b_gate) ⊙ (W_up·N(x) + b_up)) + b_down,   act ∈ {silu, gelu, relu}

**The pattern is the gate's sign pattern**: ``sign(W_gate·N(x) + b_gate)``. That
is exactly the pattern of the ordinary normalized linear layer ``(N, W_gate,
b_gate)``, so :class:`GatedMLPBlock` *is* an :class:`~geomcheck.model.block.MLPBlock`
whose first layer (``w_in``, ``b_in``) is the gate and whose ``w_out``/``b_out``
are ``W_down``/``b_down``; the up projection is carried beside it (``w_up``,
``b_up``). Every engine that analyses sign patterns (paths, sphere, caps,
feasibility) therefore analyses the gate pattern with no code of its own.

**Never affine.** On one gate region a ReLU-gated block is
``z ↦ W_down·D_s·((W̃_gate z + b'_gate) ⊙ (W̃_up z + b'_up)) + b_down``: a
*bilinear* (quadratic) map of the normalized point, not an affine one; with
SiLU/GELU it is smooth. The block's activation therefore reports
``piecewise_linear = False`` (so no generic code calls a gate region an affine
piece), and :meth:`GatedMLPBlock.map_changes` is not an affine-map test: it
says whether some neuron whose gate changes sign has a term in the output
that is not identically zero on the normalized space, i.e.
``W_down[:, i] ≠ 0`` and the folded up part ``(ũ_i, b'_up,i) ≠ (0, 0)``
(``ũ_i = P·(u_i ⊙ γ)``, ``b'_up,i = u_i·β + b_up,i``). The checker decides
the same predicate (docs/certificates.md, "Gated blocks").

**Bias-free gates** (LLaMA, SmolLM2: ``b_gate = 0``, no β). Then
``sign(g_i·N(t·x)) = sign(g_i·N(x))`` for every t > 0, every ε ≥ 0 and every
normalization (RMSNorm/LayerNorm only multiply the centred point ``P·x`` by a
positive number): every ray is gate-constant, not because of the sphere but
because every gate hyperplane passes through the origin. Along ``x + λ·d`` gate i
vanishes exactly where ``g̃_i·(P·x) + λ·g̃_i·(P·d) = 0`` (``g̃_i = P·(g_i ⊙ γ)``),
i.e. at ``λ = −g̃_i·x / g̃_i·d``, with or without the normalization and for every ε.
:func:`bias_free_flips` computes these points; the path engine and the checker
find the same ones from the general quadratic.

Standard library only (trusted layer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Sequence

from geomcheck.errors import InvalidInput, ModelFormatError
from geomcheck.exact.backend import matvec
from geomcheck.model.activations import ACTIVATIONS, Activation
from geomcheck.model.block import MLPBlock
from geomcheck.model.lazy import DyadicRows

__all__ = ["GatedMLPBlock", "GatedActivation", "SiLU", "GATE_ACTIVATIONS", "gate_activation", "is_gated",
           "refuse_gated", "GATED_PATTERN_NOTE", "bias_free_flips"]

GATED_PATTERN_NOTE = (
    "gated block: the pattern is the sign pattern of the GATE pre-activations W_gate·N(x) + b_gate; on one gate "
    "region the block is bilinear in the normalized point (never affine), and 'map changes' means: some neuron whose "
    "gate changes sign has a nonzero term in the output (W_down[:, i] ≠ 0 and its folded up row/bias not both 0)")


class SiLU(Activation):
    """x·σ(x) (LLaMA's gate activation). Only as a gate: plain SiLU blocks are not a kind of geomcheck's."""

    name = "silu"
    piecewise_linear = False

    def scalar(self, h: float) -> float:
        return h / (1.0 + math.exp(-h)) if h > -700 else 0.0


GATE_ACTIVATIONS = ("silu", "gelu", "relu")


class GatedActivation(Activation):
    """The gate's activation as a gated block carries it: same name, never piecewise linear.

    ``piecewise_linear`` is False for every gate activation (ReLU included):
    a gated block is bilinear on each gate region, so nothing may treat a
    region as an affine piece.
    """

    piecewise_linear = False

    def __init__(self, inner: Activation):
        self.inner = inner
        self.name = inner.name  # type: ignore[misc]

    def scalar(self, h: float) -> float:
        return self.inner.scalar(h)

    def __repr__(self) -> str:
        return f"GatedActivation({self.inner!r})"


def gate_activation(name: str) -> GatedActivation:
    """``silu``, ``gelu`` or ``relu`` as a gate (aliases: swish → silu)."""
    key = {"swish": "silu", "gelu_erf": "gelu"}.get(name, name)
    if key not in GATE_ACTIVATIONS:
        raise ModelFormatError(f"activation: a gated block's gate is one of {', '.join(GATE_ACTIVATIONS)}, got {name!r}")
    return GatedActivation(SiLU() if key == "silu" else ACTIVATIONS[key]())


def is_gated(block) -> bool:
    return isinstance(block, GatedMLPBlock)


def refuse_gated(block, what: str, why: str) -> None:
    """One-line refusal for commands whose statement does not apply to gated blocks."""
    if is_gated(block):
        raise InvalidInput(f"{what}: {block.name or 'this model'} is a gated MLP block (pattern = gate signs, "
                           f"bilinear on each gate region): {why}")


@dataclass(frozen=True, eq=False)
class GatedMLPBlock(MLPBlock):
    """A gated block: ``w_in``/``b_in`` are W_gate/b_gate (n×d), ``w_out``/``b_out`` W_down/b_down,
    ``w_up``/``b_up`` the up projection (n×d, n). Build with :meth:`from_parts` or :meth:`from_float_arrays`."""

    w_up: Sequence = field(default=())
    b_up: tuple = field(default=())

    @classmethod
    def from_parts(cls, w_gate, b_gate, w_up, b_up, w_down, b_down, norm, activation: str | Activation,
                   name: str = "") -> "GatedMLPBlock":
        act = activation if isinstance(activation, GatedActivation) else gate_activation(
            activation if isinstance(activation, str) else activation.name)
        return cls(w_in=w_gate, b_in=tuple(b_gate), w_out=w_down, b_out=tuple(b_down), norm=norm, activation=act,
                   name=name, w_up=w_up, b_up=tuple(b_up))

    @classmethod
    def from_float_arrays(cls, w_gate, b_gate, w_up, b_up, w_down, b_down, norm, activation,  # type: ignore[override]
                          name: str = "") -> "GatedMLPBlock":
        """Float weight arrays kept as exact dyadic rows (:class:`DyadicRows`), read lazily."""
        vec = lambda v: tuple(map(Fraction, v.tolist() if hasattr(v, "tolist") else list(v)))  # noqa: E731
        return cls.from_parts(DyadicRows(w_gate), vec(b_gate), DyadicRows(w_up), vec(b_up), DyadicRows(w_down),
                              vec(b_down), norm, activation, name)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.activation, GatedActivation):
            raise ModelFormatError("activation: a gated block's activation must be a gate activation")
        if self.norm.kind not in ("layernorm", "rmsnorm", "none"):
            raise ModelFormatError(f"norm.kind: gated blocks support layernorm, rmsnorm and none, not {self.norm.kind}")
        shape = self.w_up.shape if isinstance(self.w_up, DyadicRows) else (
            len(self.w_up), len(self.w_up[0]) if len(self.w_up) else 0)
        if shape != (self.n, self.d):
            raise ModelFormatError(f"w_up: has shape {shape[0]}×{shape[1]}, the gate has {self.n}×{self.d}")
        if not isinstance(self.w_up, DyadicRows):
            for i, row in enumerate(self.w_up):
                if len(row) != self.d:
                    raise ModelFormatError(f"w_up[{i}]: has {len(row)} entries, expected d = {self.d}")
        if len(self.b_up) != self.n:
            raise ModelFormatError(f"b_up: has {len(self.b_up)} entries, expected n = {self.n}")

    # the gate as the ordinary layer the engines analyse ----------------------
    @property
    def w_gate(self):
        return self.w_in

    @property
    def b_gate(self):
        return self.b_in

    @property
    def w_down(self):
        return self.w_out

    @property
    def b_down(self):
        return self.b_out

    @property
    def gate_bias_free(self) -> bool:
        """``b'_gate = 0`` exactly (b_gate = 0 and no β, or β killed by the gate rows)."""
        return all(b == 0 for b in self.folded.bias)

    def path_notes(self, is_ray: bool) -> list[str]:
        """What the bias-free statement says about a path on this block (empty unless b'_gate = 0)."""
        if not self.gate_bias_free:
            return []
        if is_ray:
            return ["bias-free gates (b'_gate = 0): every gate hyperplane passes through the origin, so this ray is "
                    "gate-constant for every eps >= 0 and without the normalization too: the essay's claim holds "
                    "here because the hyperplanes are central, not because the normalization maps to a sphere"]
        return ["bias-free gates (b'_gate = 0): along x + λ·d gate i vanishes only at λ = −g̃_i·x / g̃_i·d "
                "(g̃_i = P·(g_i ⊙ γ)), rational, the same with or without the normalization and for every eps"]

    # the up projection on the normalized space --------------------------------
    def up_live(self, i: int) -> bool:
        """``(ũ_i, b'_up,i) ≠ (0, 0)``: ũ_i = P·(u_i ⊙ γ), b'_up,i = u_i·β + b_up,i (exact)."""
        cached = self.data.cached("gated.up_live", dict)
        if i not in cached:
            row = tuple(self.w_up[i])
            g = self.norm.gamma or (Fraction(1),) * self.d
            scaled = [a * b for a, b in zip(row, g)]
            centred_zero = all(s == scaled[0] for s in scaled) if self.norm.centers else not any(scaled)
            beta = self.norm.beta
            bias = self.b_up[i] + (sum((a * b for a, b in zip(row, beta)), Fraction(0)) if beta else 0)
            cached[i] = not centred_zero or bias != 0
        return cached[i]

    def term_live(self, i: int) -> bool:
        """Neuron i's output term is not identically zero: ``W_down[:, i] ≠ 0`` and the up part ≠ 0."""
        return not self.output_is_zero(i) and self.up_live(i)

    def map_changes(self, pattern_a: str, pattern_b: str) -> bool:  # type: ignore[override]
        """Not an affine-map test (a gated block has none): whether some neuron whose gate is on in one
        pattern and not in the other has a live output term (:meth:`term_live`)."""
        if len(pattern_a) != self.n or len(pattern_b) != self.n:
            raise InvalidInput(f"pattern: expected {self.n} symbols")
        return self.gate_flips_live([i for i in range(self.n) if (pattern_a[i] == "+") != (pattern_b[i] == "+")])

    def gate_flips_live(self, neurons: Sequence[int]) -> bool:
        return any(self.term_live(i) for i in neurons)

    # exact evaluation (no normalization only: with one, N(x) involves a square root) -----
    def output_no_norm(self, x: Sequence[Fraction]) -> tuple[Fraction, ...]:
        """Exact block output for a ReLU gate without normalization (for hand-checked tests)."""
        if self.norm.scales or self.activation.name != "relu":
            raise InvalidInput("output_no_norm: exact output needs norm none and a ReLU gate")
        x = self.check_vector(x, "input")
        gate = [h + b for h, b in zip(matvec(self.w_in, x), self.b_in)]
        up = [h + b for h, b in zip(matvec(self.w_up, x), self.b_up)]
        hidden = [max(g, Fraction(0)) * u for g, u in zip(gate, up)]
        return tuple(h + b for h, b in zip(matvec(self.w_out, hidden), self.b_out))

    def describe(self) -> str:
        return (f"{self.name or 'model'}: gated, d = {self.d}, n = {self.n}, norm = {self.norm.describe()}, "
                f"gate activation = {self.activation.name} (pattern = gate signs)")


def bias_free_flips(block: GatedMLPBlock, x: Sequence[Fraction], v: Sequence[Fraction]) -> list[tuple[Fraction, tuple[int, ...]]]:
    """For ``b'_gate = 0``: ``[(λ, neurons)]`` with ``λ = −g̃_i·x / g̃_i·v > 0``, increasing.

    Gate i vanishes along ``x + λ·v`` (λ > 0) only there, whatever the normalization and ε
    (N multiplies ``P·(x + λv)`` by a positive number); ``g̃_i·v = 0`` means it never vanishes
    (or vanishes on the whole path when also ``g̃_i·x = 0``: not listed — it never changes sign).
    """
    if not block.gate_bias_free:
        raise InvalidInput("bias_free_flips: the gate has a nonzero folded bias")
    f = block.folded
    u0, u1 = block.norm.center(tuple(x)), block.norm.center(tuple(v))
    points: dict[Fraction, list[int]] = {}
    for i, (a, b) in enumerate(zip(matvec(f.weights, u0), matvec(f.weights, u1))):
        if b != 0 and -a / b > 0:
            points.setdefault(-a / b, []).append(i)
    return [(lam, tuple(ns)) for lam, ns in sorted(points.items())]
