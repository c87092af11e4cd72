"""Runners for claim types ``cone`` and ``counterexample`` (blocks without normalization).

``cone``::

    {"type": "cone", "model": "toy:allpoly", "drop_norm": false,
     "expect": {"verdict": "zero", "dimension": 0, "every_direction_changes_map": true}}

re-decides the monosemantic cone ``{v : b_i·(w_i·v) ≥ 0}`` (LP + exact
re-check, :mod:`geomcheck.search.cone`) and hands the ``cone`` certificate to
the checker. ``counterexample``::

    {"type": "counterexample", "model": "toy:minimal", "direction": "1",
     "expect": {"direction": ["1"], "scales": ["1/2", "2"], "patterns": ["-", "+"], "neurons": [0]}}

finds the simplest counterexample (on the given direction, or searched) and
hands the ``counterexample`` certificate to the checker. ``expect`` keys are
compared exactly; any key may be left out.
"""

from __future__ import annotations

from geomcheck.claims import Outcome, runner
from geomcheck.errors import InvalidInput

CONE_KEYS = {"verdict", "dimension", "every_direction_changes_map", "lineality_dimension"}
CE_KEYS = {"direction", "scales", "patterns", "neurons"}


def _block(claim: dict):
    from geomcheck.io import load_model
    from geomcheck.search.counterexample import drop_norm

    block = load_model(claim["model"])
    return drop_norm(block) if claim.get("drop_norm") else block


def _compare(expect: dict, actual: dict, known: set, name: str) -> list[str]:
    unknown = set(expect) - known
    if unknown:
        raise InvalidInput(f"{name}: unknown expect key {sorted(unknown)[0]!r} (known: {', '.join(sorted(known))})")
    return [f"{key}: expected {expect[key]!r}, got {actual.get(key)!r}" for key in sorted(expect) if expect[key] != actual.get(key)]


@runner("cone")
def run_cone(claim: dict) -> Outcome:
    from geomcheck.certify.cone import cone_certificate
    from geomcheck.search.cone import monosemantic_cone

    block = _block(claim)
    result = monosemantic_cone(block)
    cert = cone_certificate(block, result)
    actual = {"verdict": result.verdict, "dimension": result.dimension, "lineality_dimension": result.lineality,
              "every_direction_changes_map": bool(cert["claim"].get("every_direction_changes_map"))}
    summary = ("cone = {0}: every direction polysemantic" + (" (maps too)" if actual["every_direction_changes_map"] else "")
               if result.verdict == "zero" else f"cone of dimension {result.dimension}")
    return Outcome(summary, [cert], _compare(claim.get("expect", {}), actual, CONE_KEYS, claim["name"]))


@runner("counterexample")
def run_counterexample(claim: dict) -> Outcome:
    from geomcheck.certify.cone import counterexample_certificate
    from geomcheck.io.vectors import parse_vector
    from geomcheck.search.counterexample import counterexample_on_ray, find_counterexample

    block = _block(claim)
    if claim.get("direction"):
        found = counterexample_on_ray(block, block.check_direction(parse_vector(str(claim["direction"]), block, "direction")))
    else:
        found = find_counterexample(block)
    if found is None:
        raise InvalidInput(f"{claim['name']}: no counterexample found")
    cert = counterexample_certificate(block, found)
    actual = {key: cert[key] for key in CE_KEYS}
    summary = (f"refutes monosemanticity of ({', '.join(cert['direction'])}): maps differ at t = "
               f"{cert['scales'][0]} and {cert['scales'][1]}")
    return Outcome(summary, [cert], _compare(claim.get("expect", {}), actual, CE_KEYS, claim["name"]))
