"""Checker for kind ``dyt-counterexample``: a DyT ray that is not region-constant.

DyT normalizes elementwise, ``y = γ ⊙ tanh(α·x) + β``, so along the ray
``x = t·v`` neuron i's pre-activation is

    h_i(t) = Σ_j w'_ij·tanh(α·t·v_j) + b'_i,   w' = W_in·diag(γ), b' = W_in·β + b_in,

which is transcendental in t. The certificate::

    "direction": ["..d.."], "scales": ["t1", "t2"], "patterns": ["+-..", "++.."],
    "neurons": [i, ...]                      # where the two patterns differ

is accepted when 0 < t1 < t2, every symbol of both patterns is certified by
rational enclosures of tanh (below: no float, no tolerance — an enclosure that
straddles 0 rejects), the patterns differ exactly at ``neurons``, and the
affine maps of the tanh-space point differ: ``W_out·(D_s − D_t)·[w' | b'] ≠ 0``.

Enclosures: for a ≥ 0, tanh(a) = (1 − e)/(1 + e) with e = e^(−2a), decreasing
in e. e^y for |y| ≤ 1/2 is its Taylor sum S_j plus a remainder
|R| ≤ |y|^(j+1)/(j+1)!·Σ_k (|y|/(j+2))^k ≤ 2·|last term|·|y|; larger |y| are
halved k times and the enclosure squared k times (squaring is monotone on
non-negative bounds). Every bound is rounded outward to a multiple of 2^−BITS.
"""

from __future__ import annotations

from fractions import Fraction

from geomcheck.checker.core import CheckedModel, register, rational, rational_vector, require

BITS = 160
_HALF = Fraction(1, 2)


def _down(q: Fraction) -> Fraction:
    return Fraction((q.numerator << BITS) // q.denominator, 1 << BITS)


def _up(q: Fraction) -> Fraction:
    return Fraction(-((-q.numerator << BITS) // q.denominator), 1 << BITS)


def exp_enclosure(y: Fraction) -> tuple[Fraction, Fraction]:
    """Rationals lo ≤ e^y ≤ hi, 0 ≤ lo."""
    halvings = 0
    while abs(y) > _HALF:
        y /= 2
        halvings += 1
    term, total, j = Fraction(1), Fraction(1), 0
    while True:
        j += 1
        term = term * y / j
        total += term
        if abs(term * y) < Fraction(1, 1 << (BITS + 8)):
            break
    remainder = 2 * abs(term * y)
    lo, hi = max(_down(total - remainder), Fraction(0)), _up(total + remainder)
    for _ in range(halvings):
        lo, hi = _down(lo * lo), _up(hi * hi)
    return lo, hi


def tanh_enclosure(x: Fraction) -> tuple[Fraction, Fraction]:
    """Rationals lo ≤ tanh(x) ≤ hi."""
    if x == 0:
        return Fraction(0), Fraction(0)
    e_lo, e_hi = exp_enclosure(-2 * abs(x))
    lo, hi = (1 - e_hi) / (1 + e_hi), (1 - e_lo) / (1 + e_lo)
    return (lo, hi) if x > 0 else (-hi, -lo)


def certified_pattern(model: CheckedModel, x: tuple[Fraction, ...]) -> str:
    """The sign pattern at input x, every symbol certified; rejects when one is not."""
    tanh = [tanh_enclosure(model.alpha * c) for c in x]
    symbols = []
    for i, (row, b) in enumerate(zip(model.folded_w, model.folded_b)):
        lower = b + sum((w * (lo if w >= 0 else hi) for w, (lo, hi) in zip(row, tanh)), Fraction(0))
        upper = b + sum((w * (hi if w >= 0 else lo) for w, (lo, hi) in zip(row, tanh)), Fraction(0))
        require(lower > 0 or upper < 0, "patterns", f"neuron {i}'s sign at this scale is not certified (enclosure [{float(lower):.3g}, {float(upper):.3g}])")
        symbols.append("+" if lower > 0 else "-")
    return "".join(symbols)


@register("dyt-counterexample", norms=("dyt",))
def check_dyt_counterexample(cert: dict, model: CheckedModel) -> str:
    v = rational_vector(cert["direction"], "direction", model.d)
    require(any(v), "direction", "the zero vector has no direction")
    scales = cert["scales"]
    require(isinstance(scales, list) and len(scales) == 2, "scales", "expected [t1, t2]")
    t1, t2 = rational(scales[0], "scales[0]"), rational(scales[1], "scales[1]")
    require(0 < t1 < t2, "scales", "need 0 < t1 < t2")
    patterns = cert["patterns"]
    require(isinstance(patterns, list) and len(patterns) == 2, "patterns", "expected two patterns")
    for k, t in enumerate((t1, t2)):
        found = certified_pattern(model, tuple(t * c for c in v))
        require(patterns[k] == found, f"patterns[{k}]", f"the certified pattern at t = {scales[k]} is {found}")
    flipped = [i for i in range(model.n) if patterns[0][i] != patterns[1][i]]
    require(cert["neurons"] == flipped, "neurons", f"the patterns differ at {flipped}")
    require(bool(flipped), "patterns", "the two patterns are equal: nothing changes along the ray")
    require(model.map_changes({i: 1 if patterns[0][i] == "+" else -1 for i in flipped}), "maps",
            "the two patterns give the same affine map of tanh(α·x)")
    return (f"the DyT ray through ({', '.join(cert['direction'])}) has certified patterns {patterns[0]} at t = {scales[0]} "
            f"and {patterns[1]} at t = {scales[1]}, with different affine maps")
