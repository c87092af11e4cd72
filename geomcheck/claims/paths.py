"""Claim type ``path``: rays, superposition paths and arcs, certified and checked.

Inputs (one of)::

    "path": {"ray": "1,0,-1"}                       the ray {t·v : t > 0}
    "path": {"rays": ["e:0", "neuron:3", "1,2,-3"]} several rays, each its own certificate
    "path": {"superposition": {"x": "…", "d": "…", "max": null}}   x + λ·d, λ ∈ [0, max]
    "path": {"arc": {"from": "…", "to": "…"}}       (1 − s)·x + s·y, s ∈ [0, 1]

Vectors use the command line's syntax (``1,-2,3/4``, ``e:K``, ``neuron:K``).
``expect`` keys (each optional, each compared exactly, for every certificate):
``verdict`` ("constant"/"not-constant"), ``crossings`` (count), ``neurons``
(list of neuron lists, one per crossing), ``map_changes`` (list of booleans),
``patterns`` (the segments' sign patterns), ``pairwise_distinct_maps`` (true:
the affine maps of all segments differ pairwise, decided exactly by
``MLPBlock.map_changes``), ``exact_crossings`` (rational crossing points: each
listed neuron vanishes exactly there and it lies in the certified interval,
so — the checker having shown the interval holds one zero — it *is* the
crossing), ``critical_norms`` / ``constant_above`` (rays at ε > 0).
"""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations

from geomcheck.claims import Outcome, runner
from geomcheck.errors import InvalidInput

EXPECT_KEYS = {"verdict", "crossings", "neurons", "map_changes", "patterns", "pairwise_distinct_maps",
               "exact_crossings", "critical_norms", "constant_above"}


def certify_path(block, kind: str, vectors: tuple) -> dict:
    """Run the exact path engine and build its certificate (untrusted; the checker re-verifies it)."""
    from geomcheck.certify.path import path_certificate
    from geomcheck.geometry.paths import PathSpec, analyse_path

    if kind == "ray":
        spec = PathSpec.ray(vectors[0])
    elif kind == "superposition":
        spec = PathSpec.superposition(vectors[0], vectors[1], maximum=vectors[2])
    else:
        spec = PathSpec.arc(vectors[0], vectors[1])
    return path_certificate(block, analyse_path(block, spec))


def _paths(claim: dict, block) -> list[tuple[str, str, tuple]]:
    """(label, kind, vectors) for every path the claim names."""
    from geomcheck.exact.rationals import parse_rational
    from geomcheck.io.vectors import parse_vector

    spec = claim.get("path")
    if not isinstance(spec, dict) or len(spec) != 1:
        raise InvalidInput(f"{claim['name']}: \"path\" must be one of ray, rays, superposition, arc")
    (kind, value), = spec.items()
    if kind == "ray":
        return [(f"ray {value}", "ray", (parse_vector(value, block, "ray"),))]
    if kind == "rays":
        return [(f"ray {v}", "ray", (parse_vector(v, block, "ray"),)) for v in value]
    if kind == "superposition":
        top = value.get("max")
        top = None if top is None else parse_rational(top, "max")
        return [(f"{value['x']} + λ·({value['d']})", "superposition",
                 (parse_vector(value["x"], block, "x"), parse_vector(value["d"], block, "d"), top))]
    if kind == "arc":
        return [(f"arc {value['from']} → {value['to']}", "arc",
                 (parse_vector(value["from"], block, "from"), parse_vector(value["to"], block, "to")))]
    raise InvalidInput(f"{claim['name']}: unknown path kind {kind!r} (ray, rays, superposition, arc)")


def compare(cert: dict, expect: dict, block, label: str) -> list[str]:
    """Every way the certificate's content differs from ``expect``."""
    bad = []
    crossings, segments = cert["crossings"], cert["segments"]
    found = {
        "verdict": cert["claim"]["verdict"],
        "crossings": len(crossings),
        "neurons": [c["neurons"] for c in crossings],
        "map_changes": [c["map_changes"] for c in crossings],
        "patterns": [s["pattern"] for s in segments],
        "critical_norms": cert.get("critical_norms"),
        "constant_above": cert.get("constant_above"),
    }
    for key, want in expect.items():
        if key in found and found[key] != want:
            bad.append(f"{label}: {key} is {found[key]!r}, expected {want!r}")
    if expect.get("pairwise_distinct_maps"):
        for a, b in combinations(range(len(segments)), 2):
            if not block.map_changes(segments[a]["pattern"], segments[b]["pattern"]):
                bad.append(f"{label}: segments {a} and {b} have the same affine map")
    if "exact_crossings" in expect:
        points = [Fraction(p) for p in expect["exact_crossings"]]
        if len(points) != len(crossings):
            bad.append(f"{label}: {len(crossings)} crossings, expected {len(points)}")
        path = cert["path"]
        base = [Fraction(v) for v in path["base"]]
        direction = [Fraction(v) for v in path["direction"]]
        for point, crossing in zip(points, crossings):
            lo, hi = (Fraction(v) for v in crossing["interval"])
            signs = block.signs_at_input(tuple(b + point * v for b, v in zip(base, direction)))
            if not (lo <= point <= hi and all(signs[i] == 0 for i in crossing["neurons"])):
                bad.append(f"{label}: the crossing in [{lo}, {hi}] is not at λ = {point}")
    return bad


@runner("path")
def run(claim: dict) -> Outcome:
    from geomcheck.io import load_model

    block = load_model(claim["model"])
    expect = claim.get("expect", {})
    unknown = set(expect) - EXPECT_KEYS
    if unknown:
        raise InvalidInput(f"{claim['name']}: unknown expect key {sorted(unknown)[0]!r} (known: {', '.join(sorted(EXPECT_KEYS))})")
    certificates, mismatches, verdicts = [], [], []
    for label, kind, vectors in _paths(claim, block):
        cert = certify_path(block, kind, vectors)
        certificates.append(cert)
        mismatches += compare(cert, expect, block, label)
        verdicts.append(cert["claim"]["verdict"])
    if len(verdicts) == 1:
        cert = certificates[0]
        summary = verdicts[0] + (f", {len(cert['crossings'])} crossing(s)" if cert["crossings"] else "")
        if "constant_above" in cert:
            summary += f", constant above ‖Px‖² = {cert['constant_above']}"
    else:
        summary = f"{verdicts.count('constant')}/{len(verdicts)} paths constant"
    return Outcome(summary, certificates, mismatches)
