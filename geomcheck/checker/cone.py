"""Certificate kinds ``counterexample`` and ``cone`` (no-normalization rays).

kind ``counterexample`` — refutes "the ray through v is monosemantic" (one
affine map on all of ``{t·v : t > 0}``)::

    "claim": {"statement": "monosemantic-direction", "verdict": "refuted"},
    "direction": ["..d.."], "scales": ["t1", "t2"],
    "patterns": ["+-0…", "…"], "neurons": [i, …]

Verified: ``v ≠ 0``; ``0 < t₁ < t₂``; the exact pre-activation signs at
``t₁·v`` and ``t₂·v`` (through the model's own normalization, whatever it
is) are the two patterns; ``neurons`` is exactly the set whose on/off state
('+' on, '-'/'0' off) differs; and ``W_out·(D₁ − D₂)·[w̃ | b'] ≠ 0``, i.e. the
two affine maps of z differ. Then the block applies two different affine maps
on the ray: the claim is refuted.

kind ``cone`` — the monosemantic cone of a block *without* normalization
(``model.norm.kind == "none"``), ``C = {v : G·v ≥ 0}`` with one row
``g_i = b_i·w_i`` per neuron with ``b_i ≠ 0`` (neurons with ``b_i = 0`` never
flip along a ray). Neuron i flips on the ray through v iff ``b_i·(w_i·v) < 0``,
so C is exactly the set of directions whose rays keep one sign pattern::

    "claim": {"verdict": "zero" | "nonzero", "dimension": k,
              "every_direction_changes_map": true},        # optional, verdict zero only
    "equalities": [i, …],      # E: the implicit equalities of C (neuron indices)
    "y": ["..|E|.."],          # y_i > 0 on E with Σ_{i∈E} y_i·g_i = 0
    "direction": ["..d.."]     # verdict nonzero: g_i·v = 0 on E, g_i·v > 0 off E

Verified, and why it suffices:

* ``y > 0`` on E and ``Σ y_i g_i = 0``: for v ∈ C, ``Σ y_i (g_i·v) = 0`` is a
  sum of non-negative terms, so ``g_i·v = 0`` for every i ∈ E (every row of E
  is an implicit equality of C). Hence ``C ⊆ L = {v : G_E·v = 0}``.
* verdict ``nonzero``: the direction satisfies ``G_E·v = 0`` and
  ``g_i·v > 0`` off E, so it lies in C and in the relative interior of
  ``C = L ∩ {G_I·v ≥ 0}`` (all other inequalities strict); C is then
  full-dimensional in L, and ``dimension = d − rank(G_E)`` (rank computed
  here exactly). ``v ≠ 0`` is required.
* verdict ``zero``: E is every constraining row and ``rank(G_E) = d``, so
  ``C ⊆ L = {0}``. This is the theorem of the alternative (Stiemke/Gordan):
  ``{v : Gv ≥ 0} = {0}`` iff G has full column rank and some ``y > 0`` has
  ``Gᵀy = 0``. (⇐ is the argument above. ⇒: if rank G < d the null space
  lies in C; otherwise Stiemke's lemma gives either ``y > 0, Gᵀy = 0`` or a v
  with ``Gv ≥ 0, Gv ≠ 0``, which is a nonzero point of C.) Then every nonzero
  direction's ray changes sign pattern.
* ``every_direction_changes_map`` (optional, verdict zero): additionally the
  augmented rows ``[w_i | b_i]`` of the constraining neurons are linearly
  independent and each of their ``W_out`` columns is nonzero. Along any ray
  the first group S of neurons that flip together changes the map by
  ``Σ_{i∈S} ±col_i ⊗ [w_i | b_i]``, which is nonzero because the rows are
  independent and the columns nonzero: every ray meets two affine maps.
"""

from __future__ import annotations

import math
from fractions import Fraction

from geomcheck.checker.core import CheckedModel, rational_vector, register, require


def _dot(a, b) -> Fraction:
    return sum((x * y for x, y in zip(a, b)), Fraction(0))


def _integer_row(row) -> list[int]:
    """The row times the lcm of its denominators (scaling a row keeps the rank)."""
    lcm = 1
    for q in row:
        lcm = lcm * q.denominator // math.gcd(lcm, q.denominator)
    return [int(q * lcm) for q in row]


def _rank(rows, width: int) -> int:
    """Exact rank: fraction-free Gaussian elimination on integer rows.

    Row operations ``r ← p·r − a·pivot_row`` (p the pivot entry, a ≠ 0 the
    entry below it) keep the row space, and dividing a row by the gcd of its
    entries keeps it too; both stay in ℤ, so no rounding can occur.
    """
    m = [_integer_row(r) for r in rows]
    rank = 0
    for c in range(width):
        pivot = next((i for i in range(rank, len(m)) if m[i][c] != 0), None)
        if pivot is None:
            continue
        m[rank], m[pivot] = m[pivot], m[rank]
        p = m[rank][c]
        for i in range(rank + 1, len(m)):
            a = m[i][c]
            if a:
                new = [p * x - a * y for x, y in zip(m[i], m[rank])]
                g = 0
                for x in new:
                    g = math.gcd(g, x)
                m[i] = [x // g for x in new] if g > 1 else new
        rank += 1
        if rank == len(m):
            break
    return rank


def _pattern(signs) -> str:
    return "".join("+" if s > 0 else "-" if s < 0 else "0" for s in signs)


@register("counterexample")
def check_counterexample(cert: dict, model: CheckedModel) -> str:
    claim = cert.get("claim")
    require(isinstance(claim, dict) and claim.get("verdict") == "refuted", "claim",
            "a counterexample certificate claims verdict 'refuted'")
    v = rational_vector(cert["direction"], "direction", model.d)
    require(any(v), "direction", "the zero vector has no direction")
    scales = rational_vector(cert["scales"], "scales", 2)
    t1, t2 = scales
    require(0 < t1 < t2, "scales", f"need 0 < t1 < t2, got {t1}, {t2}")
    patterns = cert["patterns"]
    require(isinstance(patterns, list) and len(patterns) == 2, "patterns", "expected two patterns")
    computed = []
    for k, t in enumerate(scales):
        actual = _pattern(model.signs_at_input([t * c for c in v]))
        require(patterns[k] == actual, f"patterns[{k}]", f"the pattern at t = {t} is {actual}, not {patterns[k]!r}")
        computed.append(actual)
    flips = {i: (1 if a == "+" else -1) for i, (a, b) in enumerate(zip(*computed)) if (a == "+") != (b == "+")}
    neurons = cert["neurons"]
    require(isinstance(neurons, list) and sorted(neurons) == sorted(flips), "neurons",
            f"the neurons that switch between t1 and t2 are {sorted(flips)}, not {neurons!r}")
    require(model.map_changes(flips), "map_changes", "the two patterns give the same affine map")
    return (f"the ray through the direction meets patterns {computed[0]} (t = {t1}) and {computed[1]} (t = {t2}) "
            f"with different affine maps: not monosemantic")


@register("cone")
def check_cone(cert: dict, model: CheckedModel) -> str:
    require(model.kind == "none", "model.norm.kind", "the cone certificate is about a block without normalization")
    claim = cert.get("claim")
    require(isinstance(claim, dict), "claim", "expected an object")
    verdict = claim.get("verdict")
    require(verdict in ("zero", "nonzero"), "claim.verdict", "expected 'zero' or 'nonzero'")
    d = model.d
    rows = {i: tuple(model.b_in[i] * w for w in model.w_in[i]) for i in range(model.n) if model.b_in[i] != 0}
    equalities = cert["equalities"]
    require(isinstance(equalities, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in equalities),
            "equalities", "expected a list of neuron indices")
    require(len(set(equalities)) == len(equalities), "equalities", "repeated index")
    require(all(i in rows for i in equalities), "equalities", "every index must be a neuron with b_i ≠ 0")
    y = rational_vector(cert["y"], "y", len(equalities))
    require(all(c > 0 for c in y), "y", "every weight must be > 0")
    combination = [sum((c * rows[i][k] for c, i in zip(y, equalities)), Fraction(0)) for k in range(d)]
    require(not any(combination), "y", f"Σ y_i·g_i = {[str(c) for c in combination]} ≠ 0")
    rank = _rank([rows[i] for i in equalities], d)
    dimension = d - rank
    require(claim.get("dimension") == dimension, "claim.dimension",
            f"the cone lies in a subspace of dimension {dimension}, the claim says {claim.get('dimension')!r}")
    if verdict == "zero":
        require(dimension == 0 and sorted(equalities) == sorted(rows), "claim.verdict",
                "'zero' needs every constraining row in E and rank d")
        summary = f"the monosemantic cone is {{0}}: every nonzero direction's ray changes sign pattern ({len(rows)} rows, rank {d})"
        if claim.get("every_direction_changes_map"):
            keys = sorted(rows)
            augmented = [tuple(model.w_in[i]) + (model.b_in[i],) for i in keys]
            require(len(keys) <= d + 1 and _rank(augmented, d + 1) == len(keys), "claim.every_direction_changes_map",
                    "the augmented rows [w_i | b_i] are not linearly independent")
            require(all(any(row[i] for row in model.w_out) for i in keys), "claim.every_direction_changes_map",
                    "some constraining neuron has a zero output column")
            summary += "; and every ray meets two different affine maps"
        return summary
    require(not claim.get("every_direction_changes_map"), "claim", "every_direction_changes_map needs verdict 'zero'")
    require(dimension > 0, "claim.verdict", "'nonzero' needs dimension > 0")
    v = rational_vector(cert["direction"], "direction", d)
    require(any(v), "direction", "must be nonzero")
    for i, g in rows.items():
        value = _dot(g, v)
        if i in equalities:
            require(value == 0, "direction", f"g_{i}·v = {value}, must be 0 (row {i} is an implicit equality)")
        else:
            require(value > 0, "direction", f"g_{i}·v = {value}, must be > 0 (relative interior)")
    return (f"the monosemantic cone has dimension {dimension}; the direction lies in its relative interior "
            f"(its ray keeps one sign pattern)")
