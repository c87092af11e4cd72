"""Runners for the sphere claim types (issue 5), checker-backed.

``sphere-arcs`` (LayerNorm d = 3 / RMSNorm d = 2: the circle)::

    {"type": "sphere-arcs", "model": "toy:circle3", "expect": {"arcs": 8, "regions": 8}}

counts the arcs (connected pieces) and distinct regions exactly
(:func:`geomcheck.certify.sphere.region_count`) and hands the
``circle-regions`` certificate to the checker.

``sphere-regions`` (any d, small n)::

    {"type": "sphere-regions", "model": "toy:sphere4", "expect": {"regions": 22}}

decides every sign pattern on the sphere (witness exactly on S, or a ball /
inside-ball certificate) and hands the ``sphere-regions`` certificate to the
checker; for 2-spheres the independent Euler-formula count must agree.

``sphere-gap``::

    {"type": "sphere-gap", "model": "toy:circle3", "pattern": "+++-",
     "expect": {"sphere": false, "space": true}}

decides one pattern on the sphere and in the whole normalized space, both
with certificates (the essay's point: the sphere sees fewer affine maps).
"""

from __future__ import annotations

from geomcheck.claims import Outcome, runner
from geomcheck.errors import InvalidInput


def _block(claim: dict):
    from geomcheck.io import load_model

    return load_model(claim["model"])


def _compare(expect: dict, actual: dict, name: str) -> list[str]:
    unknown = set(expect) - set(actual)
    if unknown:
        raise InvalidInput(f"{name}: unknown expect key {sorted(unknown)[0]!r} (known: {', '.join(sorted(actual))})")
    return [f"{key}: expected {expect[key]!r}, got {actual[key]!r}" for key in sorted(expect) if expect[key] != actual[key]]


@runner("sphere-arcs")
def run_sphere_arcs(claim: dict) -> Outcome:
    from geomcheck.certify.sphere import region_count

    block = _block(claim)
    result = region_count(block)
    if result["certificate"] is None:
        raise InvalidInput(f"{claim['name']}: sphere-arcs needs a circle (LayerNorm d = 3 or RMSNorm d = 2)")
    actual = {"arcs": result["pieces"], "regions": result["regions"]}
    verdict = f"{result['regions']} regions in {result['pieces']} arcs"
    return Outcome(verdict, [result["certificate"]], _compare(claim.get("expect", {}), actual, claim["name"]))


@runner("sphere-regions")
def run_sphere_regions(claim: dict) -> Outcome:
    from geomcheck.certify.sphere import region_count, regions_by_exhaustion_certificate

    block = _block(claim)
    cert = regions_by_exhaustion_certificate(block)
    regions = cert["claim"]["regions"]
    mismatches = []
    try:
        independent = region_count(block)  # Euler-formula / circle count: a second, independent route
    except ValueError:
        independent = None
    if independent is not None and independent["regions"] != regions:
        mismatches.append(f"exhaustive count {regions} ≠ arrangement count {independent['regions']}")
    actual = {"regions": regions}
    if independent is not None:
        actual["pieces"] = independent["pieces"]
    verdict = f"{regions} regions on the sphere" + (f" ({independent['pieces']} pieces)" if independent else "")
    return Outcome(verdict, [cert], mismatches + _compare(claim.get("expect", {}), actual, claim["name"]))


@runner("sphere-gap")
def run_sphere_gap(claim: dict) -> Outcome:
    from geomcheck.certify.sphere import pattern_sphere_vs_space

    block = _block(claim)
    result = pattern_sphere_vs_space(block, str(claim["pattern"]))
    certificates = [side["certificate"] for side in (result["sphere"], result["space"])]
    if any(c is None for c in certificates):
        raise InvalidInput(f"{claim['name']}: a side was not decided exactly")
    actual = {"sphere": result["sphere"]["feasible"], "space": result["space"]["feasible"]}
    verdict = (f"pattern {claim['pattern']}: {'feasible' if actual['sphere'] else 'infeasible'} on the sphere, "
               f"{'feasible' if actual['space'] else 'infeasible'} in space")
    return Outcome(verdict, certificates, _compare(claim.get("expect", {}), actual, claim["name"]))
