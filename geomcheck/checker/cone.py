"""Kinds ``counterexample`` and ``cone`` (docs/certificates.md has the JSON shapes).

``counterexample`` refutes "the ray through v is monosemantic". Checked: v ≠ 0,
0 < t₁ < t₂, the exact patterns at t₁·v and t₂·v (through the model's own
normalization), ``neurons`` = exactly those whose on/off state ('+' on, '-'/'0'
off) differs, and ``W_out·(D₁ − D₂)·[w̃ | b'] ≠ 0``: two different affine maps on the ray.

``cone`` (no normalization): ``C = {v : G·v ≥ 0}``, one row ``g_i = b_i·w_i`` per neuron
with b_i ≠ 0 (neuron i flips on the ray through v iff ``b_i·(w_i·v) < 0``). Checked:
``y > 0`` on E with ``Σ y_i g_i = 0`` (for v ∈ C a sum of non-negative terms is 0, so
``G_E·v = 0``: C ⊆ L = ker G_E) and ``dimension = d − rank(G_E)``;
verdict ``nonzero``: the direction v ≠ 0 has ``G_E·v = 0`` and ``g_i·v > 0`` off E, a
relative-interior point, so C is full-dimensional in L; verdict ``zero``: E is every row
and rank d, so C = {0} (Stiemke); ``every_direction_changes_map`` (verdict zero): the
rows ``[w_i | b_i]`` are independent and their W_out columns nonzero, so the first group
of neurons flipping on any ray changes the map by a nonzero ``Σ ±col_i ⊗ [w_i | b_i]``.
"""

from __future__ import annotations

from fractions import Fraction

from geomcheck.checker.arith import rank as _rank, show
from geomcheck.checker.core import CheckedModel, fields, register, require


def _pattern(signs) -> str:
    return "".join("+" if s > 0 else "-" if s < 0 else "0" for s in signs)


def _indices(values, where: str, n: int) -> list[int]:
    require(type(values) is list and all(type(i) is int and 0 <= i < n for i in values) and len(set(values)) == len(values),
            where, "expected distinct neuron indices")
    return values


@register("counterexample", ("claim", "direction", "scales", "patterns", "neurons"))
def check_counterexample(cert: dict, model: CheckedModel) -> str:
    claim = fields(cert["claim"], "claim", ("verdict",), ("statement",))
    require(claim["verdict"] == "refuted" and claim.get("statement", "monosemantic-direction") == "monosemantic-direction",
            "claim", "a counterexample certificate claims verdict 'refuted' of 'monosemantic-direction'")
    v = model.vector(cert["direction"], "direction", model.d)
    require(any(v), "direction", "the zero vector has no direction")
    t1, t2 = model.vector(cert["scales"], "scales", 2)
    require(0 < t1 < t2, "scales", f"need 0 < t1 < t2, got {show(t1)}, {show(t2)}")
    patterns = cert["patterns"]
    require(type(patterns) is list and len(patterns) == 2, "patterns", "expected two patterns")
    computed = []
    for k, t in enumerate((t1, t2)):
        computed.append(_pattern(model.signs_at([t * c for c in v])))
        require(patterns[k] == computed[k], f"patterns[{k}]", f"the pattern at t = {show(t)} is {computed[k][:200]}")
    flips = {i: (1 if a == "+" else -1) for i, (a, b) in enumerate(zip(*computed)) if (a == "+") != (b == "+")}
    neurons = _indices(cert["neurons"], "neurons", model.n)
    require(sorted(neurons) == sorted(flips), "neurons", f"the neurons that switch between t1 and t2 are {sorted(flips)[:20]}")
    require(bool(flips) and model.map_changes(flips), "map_changes", "the two patterns give the same affine map")
    return (f"the ray through the direction meets patterns {computed[0][:200]} (t = {show(t1)}) and {computed[1][:200]} "
            f"(t = {show(t2)}) with different affine maps: not monosemantic")


@register("cone", ("claim", "equalities", "y", "direction?"), norms=("none",))
def check_cone(cert: dict, model: CheckedModel) -> str:
    claim = fields(cert["claim"], "claim", ("verdict", "dimension"), ("every_direction_changes_map",))
    verdict, d = claim["verdict"], model.d
    require(verdict in ("zero", "nonzero"), "claim.verdict", "expected 'zero' or 'nonzero'")
    every = claim.get("every_direction_changes_map", False)
    require(type(every) is bool, "claim.every_direction_changes_map", "expected a boolean")
    # g_i = b_i·w_i for b_i ≠ 0; model.rows[i] = den_i·[w_i | b_i], so B_i·W_i = den_i²·g_i (same rank)
    constraining = [i for i in range(model.n) if model.rows[i][-1]]
    equalities = _indices(cert["equalities"], "equalities", model.n)
    require(all(model.rows[i][-1] for i in equalities), "equalities", "every index must be a neuron with b_i ≠ 0")
    y = model.vector(cert["y"], "y", len(equalities))
    require(all(c > 0 for c in y), "y", "every weight must be > 0")
    scaled = [Fraction(c, model.dens[i] ** 2) * model.rows[i][-1] for c, i in zip(y, equalities)]
    require(not any(sum(c * model.rows[i][k] for c, i in zip(scaled, equalities)) for k in range(d)), "y", "Σ y_i·g_i ≠ 0")
    dimension = d - _rank([[model.rows[i][-1] * w for w in model.rows[i][:-1]] for i in equalities], d)
    require(claim["dimension"] == dimension and type(claim["dimension"]) is int, "claim.dimension",
            f"the cone lies in a subspace of dimension {dimension}")
    if verdict == "zero":
        require(dimension == 0 and sorted(equalities) == constraining, "claim.verdict", "'zero' needs every constraining row in E and rank d")
        require("direction" not in cert, "direction", "only verdict 'nonzero' has a direction")
        summary = f"the monosemantic cone is {{0}}: every nonzero direction's ray changes sign pattern ({len(constraining)} rows, rank {d})"
        if every:
            require(len(constraining) <= d + 1 and _rank([model.rows[i] for i in constraining], d + 1) == len(constraining),
                    "claim.every_direction_changes_map", "the augmented rows [w_i | b_i] are not linearly independent")
            require(all(model.map_changes({i: 1}) for i in constraining), "claim.every_direction_changes_map",
                    "some constraining neuron has a zero output column")
            summary += "; and every ray meets two different affine maps"
        return summary
    require(not every, "claim", "every_direction_changes_map needs verdict 'zero'")
    require(dimension > 0, "claim.verdict", "'nonzero' needs dimension > 0")
    v, _ = model.int_vector(cert["direction"], "direction", d)
    require(any(v), "direction", "must be nonzero")
    for i in constraining:  # sign(g_i·v) = sign(B_i·(W_i·v))
        value = model.rows[i][-1] * sum(w * x for w, x in zip(model.rows[i], v))
        if i in equalities:
            require(value == 0, "direction", f"g_{i}·v ≠ 0, but row {i} is an implicit equality")
        else:
            require(value > 0, "direction", f"g_{i}·v ≤ 0: not in the relative interior")
    return (f"the monosemantic cone has dimension {dimension}; the direction lies in its relative interior "
            f"(its ray keeps one sign pattern)")

