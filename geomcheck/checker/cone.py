"""Kinds ``counterexample``, ``cone`` and ``dyt-counterexample`` (JSON shapes: docs/certificates.md).

``counterexample`` refutes "the ray through v is monosemantic": :func:`check_ray_pair` with the exact patterns
at t·v (through the model's own normalization; '+' on, '-'/'0' off).

``cone`` (no normalization): ``C = {v : G·v ≥ 0}``, rows ``g_i = b_i·w_i`` for b_i ≠ 0 (neuron i flips on the ray
through v iff ``b_i·(w_i·v) < 0``). Checked: ``y > 0`` on E with ``Σ y_i g_i = 0`` (for v ∈ C a sum of non-negative
terms is 0: C ⊆ L = ker G_E) and ``dimension = d − rank(G_E)``. Verdict ``nonzero``: v ≠ 0 with ``G_E·v = 0`` and
``g_i·v > 0`` off E, a relative-interior point (C is full-dimensional in L). Verdict ``zero``: E is every row and
rank d, so C = {0} (Stiemke); with ``every_direction_changes_map``, the rows ``[w_i | b_i]`` are independent and
their W_out columns nonzero, so the first neurons flipping on any ray change the map by ``Σ ±col_i ⊗ [w_i | b_i]`` ≠ 0.

``dyt-counterexample``: a DyT ray that is not region-constant. DyT normalizes elementwise, ``y = γ ⊙ tanh(α·x) +
β``, so neuron i's pre-activation along ``x = t·v`` is ``h_i(t) = Σ_j w'_ij·tanh(α·t·v_j) + b'_i``. Checked: ``claim
= {"monosemantic": false}`` and :func:`check_ray_pair` with every symbol certified by rational enclosures of tanh
(an enclosure of h_i containing 0 rejects: no float, no tolerance). Enclosures: the argument of tanh (increasing) is
rounded outward to a multiple of 2^−BITS, as is every later bound. For a ≥ 0, tanh(a) = (1 − e)/(1 + e), e =
e^(−2a), decreasing in e. e^y for |y| ≤ 1/2 is its Taylor sum ± 2·|last term|·|y|; larger |y| are halved k times and
the enclosure squared k times (monotone for bounds ≥ 0)."""

from fractions import Fraction
from functools import partial

from geomcheck.checker.arith import dot, echelon, show
from geomcheck.checker.core import CheckedModel, fields, register, require
from geomcheck.checker.path import Path


def check_ray_pair(cert: dict, model: CheckedModel, pattern_at, ordered: bool = False) -> tuple:
    """Both counterexample kinds: v ≠ 0, 0 < t₁ < t₂, ``patterns`` = what ``pattern_at(v, den, t)`` gives at t₁·v
    and t₂·v (v = nums/den), ``neurons`` = exactly those whose on/off state differs (increasing if ``ordered``), and
    ``W_out·(D₁ − D₂)·[w̃ | b'] ≠ 0``: two different affine maps on the ray. Returns (t₁, t₂, patterns)."""
    v, den = model.int_vector(cert["direction"], "direction", model.d)
    require(any(v), "direction", "the zero vector has no direction")
    t1, t2 = model.vector(cert["scales"], "scales", 2)
    require(0 < t1 < t2, "scales", f"need 0 < t1 < t2, got {show(t1)}, {show(t2)}")
    patterns = cert["patterns"]
    require(type(patterns) is list and len(patterns) == 2, "patterns", "expected two patterns")
    for k, t in enumerate((t1, t2)):
        found = pattern_at(v, den, t)
        require(patterns[k] == found, f"patterns[{k}]", f"the pattern at t = {show(t)} is {found[:200]}")
    flips = {i: (1 if a == "+" else -1) for i, (a, b) in enumerate(zip(*patterns)) if (a == "+") != (b == "+")}
    neurons = model.indices(cert["neurons"], "neurons")
    require((neurons if ordered else sorted(neurons)) == sorted(flips), "neurons",
            f"the neurons that switch between t1 and t2 are {sorted(flips)[:20]}")
    require(bool(flips) and model.map_changes(flips), "map_changes", "the two patterns give the same affine map")
    return t1, t2, patterns


@register("counterexample", ("claim", "direction", "scales", "patterns", "neurons"))
def check_counterexample(cert: dict, model: CheckedModel) -> str:
    claim = fields(cert["claim"], "claim", ("verdict",), ("statement",))
    require(claim["verdict"] == "refuted" and claim.get("statement", "monosemantic-direction") == "monosemantic-direction",
            "claim", "a counterexample certificate claims verdict 'refuted' of 'monosemantic-direction'")
    ray = lambda v, den, t: "".join(Path(model, [0] * model.d, 1, v, den, 0, None, False, False).pattern(t))  # noqa: E731
    t1, t2, (p1, p2) = check_ray_pair(cert, model, ray)
    return f"the ray through the direction meets patterns {p1[:200]} (t = {show(t1)}) and {p2[:200]} (t = {show(t2)}) " \
           "with different affine maps: not monosemantic"


@register("cone", ("claim", "equalities", "y", "direction?"), norms=("none",))
def check_cone(cert: dict, model: CheckedModel) -> str:
    claim = fields(cert["claim"], "claim", ("verdict", "dimension"), ("every_direction_changes_map",))
    verdict, d, every = claim["verdict"], model.d, claim.get("every_direction_changes_map", False)
    require(verdict in ("zero", "nonzero"), "claim.verdict", "expected 'zero' or 'nonzero'")
    require(type(every) is bool, "claim.every_direction_changes_map", "expected a boolean")
    # g_i = b_i·w_i for b_i ≠ 0, kept as B_i·W_i = den_i²·g_i (model.rows[i] = den_i·[w_i | b_i]): same signs and rank
    g = {i: [r[-1] * x for x in r[:-1]] for i, r in enumerate(model.rows) if r[-1]}
    equalities = model.indices(cert["equalities"], "equalities")
    require(all(i in g for i in equalities), "equalities", "every index must be a neuron with b_i ≠ 0")
    y = model.vector(cert["y"], "y", len(equalities))
    require(all(c > 0 for c in y), "y", "every weight must be > 0")
    require(not any(sum(c * g[i][k] / model.dens[i] ** 2 for c, i in zip(y, equalities)) for k in range(d)), "y",
            "Σ y_i·g_i ≠ 0")
    dimension = d - echelon([g[i] for i in equalities], d)[0]
    require(claim["dimension"] == dimension and type(claim["dimension"]) is int, "claim.dimension",
            f"the cone lies in a subspace of dimension {dimension}")
    if verdict == "zero":
        require(dimension == 0 and sorted(equalities) == list(g), "claim.verdict",
                "'zero' needs every constraining row in E and rank d")
        require("direction" not in cert, "direction", "only verdict 'nonzero' has a direction")
        if every:
            require(len(g) <= d + 1 and echelon([model.rows[i] for i in g], d + 1)[0] == len(g),
                    "claim.every_direction_changes_map", "the augmented rows [w_i | b_i] are not linearly independent")
            require(all(model.map_changes({i: 1}) for i in g), "claim.every_direction_changes_map",
                    "some constraining neuron has a zero output column")
        return f"the monosemantic cone is {{0}}: every nonzero direction's ray changes sign pattern ({len(g)} rows, " \
               f"rank {d})" + "; and every ray meets two different affine maps" * every
    require(not every, "claim", "every_direction_changes_map needs verdict 'zero'")
    require(dimension > 0, "claim.verdict", "'nonzero' needs dimension > 0")
    v, _ = model.int_vector(cert["direction"], "direction", d)
    require(any(v), "direction", "must be nonzero")
    for i, row in g.items():  # = 0 on E (implicit equalities), > 0 off E (relative interior)
        value = dot(row, v)
        require(value == 0 if i in equalities else value > 0, "direction",
                f"g_{i}·v ≠ 0, but row {i} is an implicit equality" if i in equalities else f"g_{i}·v ≤ 0: not in the relative interior")
    return f"the monosemantic cone has dimension {dimension}; the direction lies in its relative interior (its ray keeps one sign pattern)"


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
