"""Kind ``dyt-counterexample``: a DyT ray that is not region-constant.

DyT normalizes elementwise, ``y = γ ⊙ tanh(α·x) + β``, so neuron i's pre-activation along ``x = t·v`` is
``h_i(t) = Σ_j w'_ij·tanh(α·t·v_j) + b'_i``. Checked: ``claim = {"monosemantic": false}`` and
:func:`geomcheck.checker.cone.check_ray_pair` with every symbol certified by rational enclosures of tanh (an
enclosure of h_i containing 0 rejects: no float, no tolerance).

Enclosures: the argument of tanh (increasing) is rounded outward to a multiple of 2^−BITS, as is every later
bound. For a ≥ 0, tanh(a) = (1 − e)/(1 + e), e = e^(−2a), decreasing in e. e^y for |y| ≤ 1/2 is its Taylor sum
± 2·|last term|·|y|; larger |y| are halved k times and the enclosure squared k times (monotone for bounds ≥ 0)."""

from fractions import Fraction
from functools import partial

from geomcheck.checker.arith import show
from geomcheck.checker.cone import check_ray_pair
from geomcheck.checker.core import CheckedModel, fields, register, require

BITS = 160
ONE = 1 << BITS


def _round(q: Fraction, up: bool = False) -> Fraction:
    """q rounded down (or up) to a multiple of 2^−BITS."""
    s = -1 if up else 1
    return Fraction(s * ((s * q.numerator << BITS) // q.denominator), ONE)


def exp_enclosure(y: Fraction) -> tuple[Fraction, Fraction]:
    """Rationals 0 ≤ lo ≤ e^y ≤ hi."""
    halvings, term, total, j = 0, Fraction(1), Fraction(1), 0
    while abs(y) > Fraction(1, 2):
        y, halvings = y / 2, halvings + 1
    while abs(term * y) >= Fraction(1, 1 << (BITS + 8)):
        j += 1
        term = term * y / j
        total += term
    lo, hi = max(_round(total - 2 * abs(term * y)), Fraction(0)), _round(total + 2 * abs(term * y), True)
    for _ in range(halvings):
        lo, hi = _round(lo * lo), _round(hi * hi, True)
    return lo, hi


def tanh_enclosure(x: Fraction) -> tuple[Fraction, Fraction]:
    """Multiples of 2^−BITS with lo ≤ tanh(x) ≤ hi."""
    if x == 0:
        return Fraction(0), Fraction(0)
    e_lo, e_hi = exp_enclosure(-2 * _round(abs(x), True))[0], exp_enclosure(-2 * _round(abs(x)))[1]
    lo, hi = _round((1 - e_hi) / (1 + e_hi)), _round((1 - e_lo) / (1 + e_lo), True)
    return (lo, hi) if x > 0 else (-hi, -lo)


def certified_pattern(model: CheckedModel, v: list[int], den: int, t: Fraction) -> str:
    """The pattern at input t·v/den, every symbol certified; rejects when one is not."""
    bounds = [tanh_enclosure(model.alpha * t * Fraction(c, den)) for c in v]
    low, high = [int(lo * ONE) for lo, _ in bounds], [int(hi * ONE) for _, hi in bounds]
    symbols = ""
    for i, row in enumerate(model.rows):  # row = den_i·[w' | b']: integer bounds of den_i·2^BITS·h_i
        lower = row[-1] * ONE + sum(w * (lo if w >= 0 else hi) for w, lo, hi in zip(row, low, high))
        upper = row[-1] * ONE + sum(w * (hi if w >= 0 else lo) for w, lo, hi in zip(row, low, high))
        require(lower > 0 or upper < 0, "patterns", f"neuron {i}'s sign at this scale is not certified")
        symbols += "+" if lower > 0 else "-"
    return symbols


@register("dyt-counterexample", ("claim", "direction", "scales", "patterns", "neurons"), norms=("dyt",))
def check_dyt_counterexample(cert: dict, model: CheckedModel) -> str:
    require(fields(cert["claim"], "claim", ("monosemantic",))["monosemantic"] is False, "claim", "expected monosemantic: false")
    t1, t2, (p1, p2) = check_ray_pair(cert, model, partial(certified_pattern, model), ordered=True)
    return f"the DyT ray through the direction has certified patterns {p1[:200]} at t = {show(t1)} and {p2[:200]} " \
           f"at t = {show(t2)}, with different affine maps"
