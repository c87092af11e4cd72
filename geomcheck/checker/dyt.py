"""Checker for kind ``dyt-counterexample``: a DyT ray that is not region-constant.

DyT normalizes elementwise, ``y = γ ⊙ tanh(α·x) + β``, so along ``x = t·v`` neuron i's
pre-activation ``h_i(t) = Σ_j w'_ij·tanh(α·t·v_j) + b'_i`` is transcendental in t. Checked: v ≠ 0,
0 < t1 < t2; every symbol of both patterns is certified by rational enclosures of tanh (an
enclosure of h_i containing 0 rejects: no float, no tolerance); the patterns differ exactly at
``neurons``; ``W_out·(D_s − D_t)·[w' | b'] ≠ 0``; ``claim = {"monosemantic": false}``.

Enclosures: tanh is increasing, so its argument is first rounded outward to a multiple of
2^−BITS (bounding every later number's size). For a ≥ 0, tanh(a) = (1 − e)/(1 + e), e = e^(−2a),
decreasing in e. e^y for |y| ≤ 1/2 is its Taylor sum plus a remainder |R| ≤ 2·|last term|·|y|;
larger |y| are halved k times and the enclosure squared k times (monotone on non-negative
bounds). Every bound is rounded outward to a multiple of 2^−BITS.
"""

from __future__ import annotations

from fractions import Fraction

from geomcheck.checker.arith import show
from geomcheck.checker.core import CheckedModel, fields, register, require

BITS = 160
ONE = 1 << BITS


def _down(q: Fraction) -> Fraction:
    return Fraction((q.numerator << BITS) // q.denominator, ONE)


def _up(q: Fraction) -> Fraction:
    return -_down(-q)


def exp_enclosure(y: Fraction) -> tuple[Fraction, Fraction]:
    """Rationals 0 ≤ lo ≤ e^y ≤ hi."""
    halvings = 0
    while abs(y) > Fraction(1, 2):
        y /= 2
        halvings += 1
    term, total, j = Fraction(1), Fraction(1), 0
    while abs(term * y) >= Fraction(1, 1 << (BITS + 8)):
        j += 1
        term = term * y / j
        total += term
    remainder = 2 * abs(term * y)
    lo, hi = max(_down(total - remainder), Fraction(0)), _up(total + remainder)
    for _ in range(halvings):
        lo, hi = _down(lo * lo), _up(hi * hi)
    return lo, hi


def tanh_enclosure(x: Fraction) -> tuple[Fraction, Fraction]:
    """Multiples of 2^−BITS with lo ≤ tanh(x) ≤ hi."""
    if x == 0:
        return Fraction(0), Fraction(0)
    a = _down(abs(x))
    e_lo, _ = exp_enclosure(-2 * _up(abs(x)))
    _, e_hi = exp_enclosure(-2 * a)
    lo, hi = _down((1 - e_hi) / (1 + e_hi)), _up((1 - e_lo) / (1 + e_lo))
    return (lo, hi) if x > 0 else (-hi, -lo)


def certified_pattern(model: CheckedModel, x) -> str:
    """The pattern at input x, every symbol certified; rejects when one is not."""
    bounds = [tanh_enclosure(model.alpha * c) for c in x]
    low = [int(lo * ONE) for lo, _ in bounds]
    high = [int(hi * ONE) for _, hi in bounds]
    symbols = []
    for i, row in enumerate(model.rows):  # row = den_i·[w' | b']: integer bounds of den_i·2^BITS·h_i
        lower = row[-1] * ONE + sum(w * (lo if w >= 0 else hi) for w, lo, hi in zip(row, low, high))
        upper = row[-1] * ONE + sum(w * (hi if w >= 0 else lo) for w, lo, hi in zip(row, low, high))
        require(lower > 0 or upper < 0, "patterns", f"neuron {i}'s sign at this scale is not certified")
        symbols.append("+" if lower > 0 else "-")
    return "".join(symbols)


@register("dyt-counterexample", ("claim", "direction", "scales", "patterns", "neurons"), norms=("dyt",))
def check_dyt_counterexample(cert: dict, model: CheckedModel) -> str:
    require(fields(cert["claim"], "claim", ("monosemantic",))["monosemantic"] is False, "claim", "expected monosemantic: false")
    v = model.vector(cert["direction"], "direction", model.d)
    require(any(v), "direction", "the zero vector has no direction")
    t1, t2 = model.vector(cert["scales"], "scales", 2)
    require(0 < t1 < t2, "scales", "need 0 < t1 < t2")
    patterns = cert["patterns"]
    require(type(patterns) is list and len(patterns) == 2, "patterns", "expected two patterns")
    for k, t in enumerate((t1, t2)):
        found = certified_pattern(model, [t * c for c in v])
        require(patterns[k] == found, f"patterns[{k}]", f"the certified pattern at t = {show(t)} is {found[:200]}")
    flipped = [i for i in range(model.n) if patterns[0][i] != patterns[1][i]]
    require(cert["neurons"] == flipped, "neurons", f"the patterns differ at {flipped[:20]}")
    require(bool(flipped), "patterns", "the two patterns are equal: nothing changes along the ray")
    require(model.map_changes({i: 1 if patterns[0][i] == "+" else -1 for i in flipped}), "maps",
            "the two patterns give the same affine map of tanh(α·x)")
    return (f"the DyT ray through the direction has certified patterns {patterns[0][:200]} at t = {show(t1)} "
            f"and {patterns[1][:200]} at t = {show(t2)}, with different affine maps")
