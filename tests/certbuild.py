"""Test-only builder of ``path`` certificates, from the exact kernel and the model.

This is the untrusted side in miniature (it may use geomcheck.exact and
geomcheck.model freely); the checker must agree with it on every hand case,
and must reject what the mutation tests do to its output. It also serves as
the *independent* recomputation: :func:`path_facts` gives the exact crossing
points and patterns of a path, which the mutation tests use to decide whether
a mutated certificate still states a true claim.
"""

from __future__ import annotations

from fractions import Fraction

from geomcheck.exact.quadratic import QuadraticRoot, rational_between, real_roots
from geomcheck.exact.rationals import format_rational
from geomcheck.exact.signs import sign, sign_a_plus_b_sqrt_c
from geomcheck.io import block_to_dict, model_sha256
from geomcheck.model import MLPBlock

F = Fraction


def _dot(a, b):
    return sum((x * y for x, y in zip(a, b)), F(0))


def _inside(r: QuadraticRoot, start, end, start_closed, end_closed) -> bool:
    if r < start or (r == start and not start_closed):
        return False
    return end is None or r < end or (r == end and end_closed)


def neuron_zeros(block: MLPBlock, base, direction, start, end, start_closed, end_closed) -> dict[int, list[QuadraticRoot]]:
    """Exact zeros of every pre-activation on the path (DESIGN §2), by neuron."""
    f, norm = block.folded, block.norm
    out: dict[int, list[QuadraticRoot]] = {}
    for i, (w, b) in enumerate(zip(f.weights, f.bias)):
        if not norm.scales:
            cands = real_roots(F(0), _dot(w, direction), _dot(w, base) + b)
            keep = cands
        else:
            u0, u1 = norm.center(base), norm.center(direction)
            a0, a1 = _dot(w, u0), _dot(w, u1)
            d = block.d
            n2, n1, n0 = _dot(u1, u1), 2 * _dot(u0, u1), _dot(u0, u0) + d * norm.eps
            q = (d * a1 * a1 - b * b * n2, 2 * d * a0 * a1 - b * b * n1, d * a0 * a0 - b * b * n0)
            keep = [r for r in real_roots(*q)
                    if b == 0 or sign_a_plus_b_sqrt_c(a0 + a1 * r.p, a1 * r.q, r.D) == -sign(b)]
        keep = [r for r in keep if _inside(r, start, end, start_closed, end_closed)]
        if keep:
            out[i] = keep
    return out


def path_facts(block, base, direction, start=F(0), end=None, start_closed=False, end_closed=False):
    """Crossing points (distinct, increasing) with their neuron sets."""
    zeros = neuron_zeros(block, base, direction, start, end, start_closed, end_closed)
    points: list[tuple[QuadraticRoot, set[int]]] = []
    for i, rs in zeros.items():
        for r in rs:
            for p, ns in points:
                if p == r:
                    ns.add(i)
                    break
            else:
                points.append((r, {i}))
    points.sort(key=lambda t: t[0].enclosure(200)[0])
    return points


def build_path_certificate(block: MLPBlock, base, direction, start=F(0), end=None, start_closed=False,
                           end_closed=False, critical_norms: bool = False) -> dict:
    base = tuple(F(x) for x in base)
    direction = tuple(F(x) for x in direction)
    start = F(start)
    end = None if end is None else F(end)
    points = path_facts(block, base, direction, start, end, start_closed, end_closed)
    # witnesses: one rational strictly inside each gap between crossing points
    marks = [start] + [p for p, _ in points] + ([end] if end is not None else [])
    witnesses = []
    for k in range(len(points) + 1):
        lo = marks[k]
        if k + 1 < len(marks):
            witnesses.append(rational_between(lo, marks[k + 1]))
        else:  # after the last crossing, to +∞
            top = lo.enclosure(8)[1] if isinstance(lo, QuadraticRoot) else lo
            witnesses.append(F(int(top) + 1))
    point = lambda t: tuple(x + t * v for x, v in zip(base, direction))  # noqa: E731
    segments = [{"witness": format_rational(t), "pattern": block.pattern_at_input(point(t))} for t in witnesses]
    crossings = []
    for k, (r, ns) in enumerate(points):
        if r.is_rational:
            lo = hi = r.p
        else:
            lo, hi = rational_between(witnesses[k], r), rational_between(r, witnesses[k + 1])
        crossings.append({"neurons": sorted(ns), "interval": [format_rational(lo), format_rational(hi)],
                          "map_changes": block.map_changes(segments[k]["pattern"], segments[k + 1]["pattern"])})
    model = block_to_dict(block)
    model.pop("name")
    cert = {
        "format": "geomcheck.cert/1",
        "kind": "path",
        "model": model,
        "model_sha256": model_sha256(block),
        "path": {"base": [format_rational(x) for x in base], "direction": [format_rational(x) for x in direction],
                 "start": format_rational(start), "end": None if end is None else format_rational(end),
                 "start_closed": start_closed, "end_closed": end_closed},
        "claim": {"verdict": "constant" if not points else "not-constant", "crossings": len(points)},
        "crossings": crossings,
        "segments": segments,
    }
    if critical_norms:
        scale = _dot(block.norm.center(direction), block.norm.center(direction))
        norms = []
        for r, ns in points:
            sq = (r.p * r.p + r.q * r.q * r.D) if r.p == 0 or r.q == 0 else None
            norms += [{"neuron": i, "squared_norm": format_rational(sq * scale)} for i in sorted(ns)]
        cert["critical_norms"] = norms
        cert["constant_above"] = format_rational(max((F(e["squared_norm"]) for e in norms), default=F(0)))
    return cert


# custom models for the corner cases: a neuron whose output column is zero (its flip changes the
# pattern but not the map), and a neuron duplicated at twice the scale (two neurons flip at one irrational λ)
DEAD_COLUMN = {"format": "geomcheck.mlp/1", "norm": {"kind": "none"},
               "w_in": [["1", "0", "-1"], ["0", "1", "-1"], ["1", "-1", "0"], ["-1", "2", "-1"]],
               "b_in": ["-1", "-2", "1", "-1"],
               "w_out": [["1", "0", "1", "0"], ["0", "0", "-1", "0"], ["-1", "0", "0", "1"]], "b_out": ["0", "0", "0"]}
TWIN_NEURONS = {"format": "geomcheck.mlp/1", "norm": {"kind": "layernorm", "eps": "0"},
                "w_in": [["-1", "2", "-1"], ["-2", "4", "-2"], ["0", "1", "-1"]], "b_in": ["-1", "-2", "-2"],
                "w_out": [["1", "1", "0"], ["0", "1", "1"]], "b_out": ["0", "0"]}
