"""``sphere``, ``feasible`` and ``cap`` as functions returning gated result objects.

Each function finds its answer with the exact geometry and the untrusted
search, builds the certificate kind the answer has (``sphere-neurons``,
``circle-regions``/``sphere-regions``, ``sphere-feasible``/``sphere-infeasible``,
``sphere-cap``) and takes its status from :func:`geomcheck.verdicts.gate`.
Answers without a certificate kind — the whole-space region count, DyT
feasibility, region counts beyond the exhaustive certificate's reach — are
*estimate*, whatever the engine's own confidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from geomcheck.exact.rationals import format_rational
from geomcheck.results import Result, verdict_keys
from geomcheck.verdicts import PROVED, Verdict, estimate, gate

__all__ = ["feasible", "cap", "sphere_summary", "SphereResult", "enclose_arccos", "correct_digits",
           "KINDS", "EXHAUSTIVE_LIMIT"]

KINDS = ("cuts", "tangent", "always_on", "always_off", "constant_zero")
EXHAUSTIVE_LIMIT = 8   # region counts get a sphere-regions certificate (every pattern decided) up to this n

EPS_NOTE = ("eps > 0: the normalization's image is the open ball inside the sphere; "
            "this answer is for the eps = 0 sphere")


def _vec(v) -> list[str]:
    return [format_rational(x) for x in v]


# --------------------------------------------------------------------------- feasible
def feasible(block, pattern: str, on: str = "auto") -> Result:
    """Is the sign pattern realised on the sphere / in the space the MLP reads? Gated.

    For DyT the space the MLP reads is the image of ``γ ⊙ tanh(α·x) + β``: the
    open box ``tanh(α·x) ∈ (−1, 1)ᵈ`` (folded into ``W'``, ``b'``), decided by
    :func:`geomcheck.search.dyt.dyt_feasibility`; no certificate kind covers it,
    so the answer is an estimate.
    """
    from geomcheck.errors import InvalidInput
    from geomcheck.search.sphere import parse_pattern

    pattern = parse_pattern(pattern, block.n)
    if block.norm.kind == "dyt":
        if on == "sphere":
            raise InvalidInput("--on sphere: a DyT block has no normalization sphere (use --on space)")
        from geomcheck.search.dyt import dyt_feasibility

        res = dyt_feasibility(block, pattern)
        evidence = {"model": block.name, "pattern": pattern, "on": "space", "feasible": res.feasible, "how": res.how,
                    "domain": "the image of DyT: tanh(alpha·x) in the open box (-1, 1)^d, folded into W', b'"}
        if res.witness is not None:
            evidence["witness_tanh"] = _vec(res.witness)
            evidence["witness_form"] = "tanh(alpha·x) = witness_tanh, i.e. x = atanh(witness_tanh)/alpha"
        return Result("feasible", estimate("no certificate kind for DyT feasibility"), evidence)
    from geomcheck.certify.sphere import feasibility_certificate
    from geomcheck.geometry.sphere import sphere_of
    from geomcheck.search.sphere import space_feasibility, sphere_feasibility

    on = on if on != "auto" else ("sphere" if block.norm.scales else "space")
    f = block.folded
    result = sphere_feasibility(sphere_of(block), pattern) if on == "sphere" else \
        space_feasibility(f.weights, f.bias, pattern, f.centers)
    cert = feasibility_certificate(block, pattern, on, result)
    evidence: dict[str, Any] = {"model": block.name, "pattern": pattern, "on": on, "feasible": result.feasible,
                                "how": result.how}
    if result.witness is not None:
        evidence["witness"] = _vec(result.witness)
    if result.direction is not None:
        y = result.direction
        k = block.d / sum(v * v for v in y)
        evidence["witness_direction"] = _vec(y)
        # LayerNorm d = 3 has no rational point on its sphere: z_i = y_i·sqrt(K) exactly
        evidence["witness"] = [f"{format_rational(v)}*sqrt({format_rational(k)})" for v in y]
        evidence["witness_form"] = "z = y*sqrt(K), K = d/|y|^2 (no rational point exists on this sphere)"
    if result.multipliers is not None:
        evidence["multipliers"] = {str(i): format_rational(v) for i, v in sorted(result.multipliers.items())}
    if result.inside is not None:
        evidence["inside_ball"] = "bounded (multipliers for ±basis directions) with every vertex in the closed ball"
    if block.norm.eps > 0 and on == "sphere":
        evidence["note"] = EPS_NOTE
    return Result("feasible", gate(cert, PROVED), evidence, cert)


# --------------------------------------------------------------------------- cap
def _iv():
    from mpmath import iv

    return iv


def _ivq(iv, x: Fraction):
    """The rational x as an mpmath interval that contains it (directed rounding)."""
    return iv.mpf(x.numerator) / iv.mpf(x.denominator)


def _raw_fraction(raw) -> Fraction:
    sign, man, exp, _ = raw
    if not man and exp:  # ±inf / nan have a zero mantissa and a nonzero exponent code
        raise ArithmeticError("interval end is not finite")
    value = Fraction(int(man)) * (Fraction(2) ** int(exp))
    return -value if sign else value


def _ends(x) -> tuple[Fraction, Fraction]:
    """The exact rational ends of an mpmath interval."""
    a, b = x._mpi_
    return _raw_fraction(a), _raw_fraction(b)


def enclose_arccos(M: Fraction, alpha: Fraction, beta: Fraction, bits: int) -> tuple[tuple[Fraction, Fraction],
                                                                                    tuple[Fraction, Fraction],
                                                                                    tuple[Fraction, Fraction]]:
    """Rational enclosures of ``c = alpha/√M + √beta``, ``δ = arccos c`` and ``δ·180/π``.

    Interval arithmetic (mpmath ``iv``, outward rounding at ``bits`` bits); arccos is
    evaluated as ``atan2(√((1 − c)(1 + c)), c)`` at the ends of the enclosure of c, so a
    radius near 0 (c near 1) keeps its relative accuracy: ``1 − c`` is never formed in
    floating point from a rounded c.
    """
    iv = _iv()
    old = iv.prec
    try:
        iv.prec = bits
        c = _ivq(iv, alpha) / iv.sqrt(_ivq(iv, M)) + iv.sqrt(_ivq(iv, beta))
        c_lo, c_hi = _ends(c)
        c_lo, c_hi = max(c_lo, Fraction(-1)), min(c_hi, Fraction(1))

        def acos(x: Fraction):
            return iv.atan2(iv.sqrt(_ivq(iv, 1 - x) * _ivq(iv, 1 + x)), _ivq(iv, x))

        lo, hi = acos(c_hi), acos(c_lo)   # arccos decreases
        d_lo, d_hi = _ends(lo)[0], _ends(hi)[1]
        deg_lo, deg_hi = _ends(lo * 180 / iv.pi)[0], _ends(hi * 180 / iv.pi)[1]
        return (c_lo, c_hi), (max(d_lo, Fraction(0)), d_hi), (max(deg_lo, Fraction(0)), deg_hi)
    finally:
        iv.prec = old


def _round_sig(x: Fraction, k: int) -> tuple[int, int]:
    """x > 0 rounded (half-even, exactly) to k significant digits: (mantissa, exponent10)."""
    e = len(str(x.numerator // x.denominator)) - 1 if x >= 1 else -len(str(x.denominator // x.numerator))
    while Fraction(10) ** e > x:
        e -= 1
    while Fraction(10) ** (e + 1) <= x:
        e += 1
    scale = Fraction(10) ** (e - k + 1)
    m = round(x / scale)
    if m == 10 ** k:
        m, e = 10 ** (k - 1), e + 1
    return m, e - k + 1


def correct_digits(lo: Fraction, hi: Fraction, most: int = 15) -> str | None:
    """The longest decimal (≤ ``most`` significant digits) that is the correct rounding of
    every number in ``[lo, hi]``, hence of the true value; None when not even one digit is."""
    if lo <= 0 < hi or lo > hi:
        return None
    if hi <= 0:
        s = correct_digits(-hi, -lo, most)
        return None if s is None else "-" + s
    for k in range(most, 0, -1):
        a, b = _round_sig(lo, k), _round_sig(hi, k)
        if a == b:
            m, e = a
            from decimal import Decimal

            text = f"{Decimal(m).scaleb(e):.{k - 1}e}" if not -5 <= e + k - 1 < 15 else \
                format(Decimal(m).scaleb(e), "f")
            return text
    return None


def _enclosed_display(M, alpha, beta, digits: int = 15) -> dict:
    """Decimals of cos δ, δ and δ in degrees carrying only correct digits (bits raised until they do)."""
    bits = 128
    while True:
        c, rad, deg = enclose_arccos(M, alpha, beta, bits)
        shown = [correct_digits(*c, digits), correct_digits(*rad, digits), correct_digits(*deg, min(digits, 10))]
        if all(s is not None and len(s.replace("-", "").replace(".", "").split("e")[0].lstrip("0")) >= min(digits, 10)
               for s in shown) or bits >= 16384:
            return {"cos": shown[0], "radius": shown[1], "degrees": shown[2], "bits": bits,
                    "radius_interval": [_sci(rad[0]), _sci(rad[1])]}
        bits *= 2


def _sci(x: Fraction) -> str:
    if x == 0:
        return "0"
    m, e = _round_sig(abs(x), 20)
    from decimal import Decimal

    return ("-" if x < 0 else "") + f"{Decimal(m).scaleb(e):.19e}"


def cap(block, v, cos: Fraction | None = None) -> Result:
    """The largest region-constant cap around z(v) on the ε = 0 sphere, gated by a ``sphere-cap`` certificate.

    The radius δ is exact in the form ``cos δ = (alpha + √(beta·M))/√M``; its
    decimals come from an interval enclosure and carry only digits that the
    enclosure guarantees (correctly rounded).
    """
    from geomcheck.certify.sphere import envelope
    from geomcheck.errors import DegenerateInput
    from geomcheck.geometry.sphere import (cap_distances, cap_is_region_constant, classify_neurons,
                                           nearest_boundaries, sphere_of)
    from geomcheck.model.block import pattern_string

    sphere = sphere_of(block)
    u = sphere.project(v)
    neurons = classify_neurons(sphere)
    signs = sphere.signs_along(u)
    if any(s == 0 for s, nb in zip(signs, neurons) if nb.kind != "constant_zero"):
        raise DegenerateInput("--direction: z(V) lies on a neuron boundary, so no cap around it is region-constant")
    M, terms = cap_distances(sphere, u, neurons)
    best = nearest_boundaries(M, terms)
    evidence: dict[str, Any] = {"model": block.name, "direction": _vec(v), "pattern": pattern_string(signs)}
    if best:
        shown = _enclosed_display(M, best[0].alpha, best[0].beta)
        evidence.update(radius=shown["radius"], radius_degrees=shown["degrees"], neurons=[t.index for t in best],
                        cos_radius=shown["cos"], radius_interval=shown["radius_interval"],
                        digits="each decimal is the correct rounding of the exact value (interval enclosure, "
                               f"{shown['bits']} bits); fewer digits are printed when the enclosure cannot guarantee more",
                        exact={"M": format_rational(M),
                               "form": "cos(radius) = (alpha + sqrt(beta*M))/sqrt(M)",
                               "alpha": format_rational(best[0].alpha), "beta": format_rational(best[0].beta)})
    else:
        evidence.update(radius=None, neurons=[])
    claim: dict[str, Any] = {"direction": _vec(v), "nearest": evidence["neurons"]}
    if cos is not None:
        c = Fraction(cos)
        constant, hit = cap_is_region_constant(M, terms, c)
        evidence["decision"] = {"cos": format_rational(c), "constant": constant, "meets": hit}
        claim.update(cos=format_rational(c), constant=constant)
    if block.norm.eps > 0:
        evidence["note"] = EPS_NOTE
    cert = envelope(block, "sphere-cap", claim)
    return Result("cap", gate(cert, PROVED), evidence, cert)


# --------------------------------------------------------------------------- sphere
@dataclass
class SphereResult(Result):
    """``geomcheck sphere``: the classification (gated ``sphere-neurons``) and region counts.

    ``regions`` is the JSON entry of the count with its own verdict keys;
    ``count`` the exact :class:`~geomcheck.geometry.regions.RegionCount` (circles
    and 2-spheres) the plot uses; ``regions_certificate`` the certificate behind
    the region count, when there is one.
    """

    count: Any = field(default=None, repr=False)
    regions_certificate: dict | None = field(default=None, repr=False)


def _space_entry(sphere) -> dict:
    from geomcheck.geometry.regions import count_space_regions, space_regions_upper_bound

    space = count_space_regions(sphere)
    entry = {"count": space, "where": "the affine arrangement in 1⊥" if sphere.centers else "the affine arrangement in R^d",
             "method": "deletion–restriction in exact arithmetic" if space is not None else None}
    entry.update(verdict_keys(estimate("no certificate kind for whole-space region counts")))
    if space is None:
        entry["upper_bound"] = space_regions_upper_bound(sphere)
        entry["note"] = "exact count ran out of time; upper_bound is the general-position maximum"
    return entry


def _exhaustive(block, count: int | None) -> tuple[dict | None, Verdict]:
    """The ``sphere-regions`` certificate (every pattern decided) gated, when n is small enough."""
    from geomcheck.certify.sphere import regions_by_exhaustion_certificate

    if block.n > EXHAUSTIVE_LIMIT:
        return None, estimate(f"no region certificate for n > {EXHAUSTIVE_LIMIT} (sphere-regions decides all 2^n patterns)")
    try:
        cert = regions_by_exhaustion_certificate(block, limit_n=EXHAUSTIVE_LIMIT)
    except ValueError as exc:
        return None, estimate(f"no region certificate: {exc}")
    if count is not None and cert["claim"]["regions"] != count:
        return cert, estimate(f"the exhaustive certificate counts {cert['claim']['regions']} regions, the count {count}")
    return cert, gate(cert, PROVED)


def _regions(block, sphere, regions: str, budget: float, progress: bool):
    from geomcheck.geometry.regions import count_circle, count_two_sphere

    if regions == "no" or (regions == "auto" and sphere.dimension > 2 and sphere.n > 64):
        return None, None, None
    space_entry = _space_entry(sphere)
    if sphere.dimension in (1, 2):
        count = count_circle(sphere) if sphere.dimension == 1 else count_two_sphere(sphere)
        witnesses = {}
        for pattern, w in sorted(count.patterns.items()):
            if sphere.dimension == 1:  # a rational direction y: the point is √d·y/‖y‖
                witnesses[pattern] = {"direction": _vec(w)}
            else:  # the arc point c₀ + √K·y, which lies on this pattern's boundary circle: the region is beside it
                c0, y, K = w
                witnesses[pattern] = {"boundary_point": {"centre": _vec(c0), "direction": _vec(y), "K": format_rational(K)}}
        if sphere.dimension == 1:
            from geomcheck.certify.sphere import circle_regions_certificate

            cert = circle_regions_certificate(block, count)
            verdict = gate(cert, PROVED)
        else:
            cert, verdict = _exhaustive(block, count.regions)
        entry = {"count": count.regions, "pieces": count.pieces, "method": count.method,
                 "space": space_entry, "patterns": sorted(count.patterns), "witnesses": witnesses}
        entry.update(verdict_keys(verdict))
        return entry, count, cert
    from geomcheck.search.sphere import EXACT, search_regions

    found = search_regions(sphere, time_budget=budget, progress=progress)
    cert, verdict = (_exhaustive(block, len(found.patterns)) if found.status == EXACT
                     else (None, estimate("the region search did not finish")))
    entry = {"count": len(found.patterns),
             "method": "adjacency search from witness to witness (LP/QP-backed, exact witnesses and certificates)",
             "checked_patterns": found.checked, "refuted": found.refuted, "undecided": found.undecided,
             "complete": found.complete, "space": space_entry, "patterns": sorted(found.patterns),
             "witnesses": {p: ({"point": _vec(r.witness)} if r.witness is not None else {"direction": _vec(r.direction)})
                           for p, r in sorted(found.patterns.items())}}
    entry.update(verdict_keys(verdict))
    if found.status != EXACT:
        entry["note"] = ("a lower bound: " + ("the search stopped at the time budget" if not found.complete
                                              else f"{found.undecided} neighbouring patterns could not be decided exactly"))
    elif not verdict.checked:
        entry["note"] = "the search decided every neighbouring pattern, but no certificate covers the count"
    return entry, None, cert


def sphere_summary(block, regions: str = "auto", budget: float = 20.0, progress: bool = False) -> SphereResult:
    """Neuron classification (gated ``sphere-neurons`` certificate) and region counts (gated when certified)."""
    from geomcheck.certify.sphere import neurons_certificate
    from geomcheck.geometry.sphere import classify_neurons, sphere_of

    sphere = sphere_of(block)
    neurons = classify_neurons(sphere)
    counts = {k: sum(1 for nb in neurons if nb.kind == k) for k in KINDS}
    listed = []
    for nb in neurons:
        entry: dict[str, Any] = {"index": nb.index, "kind": nb.kind}
        if nb.cos2 is not None:
            entry["cos_radius_squared"] = format_rational(nb.cos2)
            entry["cos_radius_sign"] = nb.cos_sign
        if nb.kind in ("cuts", "tangent"):
            entry["radius"] = f"{nb.radius:.12g}"   # display only: the exact value is cos² and its sign
            if sphere.d <= 64:
                entry["centre"] = _vec(sphere.weights[nb.index])
        listed.append(entry)
    evidence: dict[str, Any] = {
        "model": block.name, "d": block.d, "n": block.n,
        "sphere": {"space": "1⊥ (sum z = 0)" if sphere.centers else "R^d", "squared_radius": sphere.d,
                   "dimension": sphere.dimension, "eps": format_rational(sphere.eps)},
        "neurons": counts, "neuron_list": listed,
    }
    if sphere.eps > 0:
        evidence["note"] = ("eps > 0: the normalization's image is the open ball inside this sphere; "
                            "the classification and regions are for the eps = 0 sphere")
    entry, count, regions_cert = _regions(block, sphere, regions, budget, progress)
    evidence["regions"] = entry if entry is not None else {
        "count": None, "status": "skipped",
        "note": "not counted: --regions no, or n > 64 on a sphere of dimension ≥ 3 (use --regions yes)"}
    cert = neurons_certificate(block, neurons)
    return SphereResult("sphere", gate(cert, PROVED), evidence, cert, count=count, regions_certificate=regions_cert)
