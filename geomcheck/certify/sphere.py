"""Certificate builders for the sphere kinds, and the entry points the proofs call.

Kinds (checked by :mod:`geomcheck.checker.sphere`): ``sphere-feasible``,
``sphere-infeasible``, ``sphere-neurons``, ``circle-regions``.

Proof entry points:

* :func:`pattern_sphere_vs_space` — for a pattern, the exact verdicts on the
  sphere and in the whole normalized space, each with its certificate (a
  pattern infeasible on the sphere but feasible in space is the essay's point:
  the sphere sees fewer affine maps).
* :func:`region_count` — exact regions/pieces on S (dim 1 and 2), with a
  ``circle-regions`` certificate for circles.
* :func:`regions_by_exhaustion_certificate` — a ``sphere-regions`` certificate
  (every pattern witnessed or refuted) for small n, any d: the checker-backed
  region count of ``toy:sphere4`` (22).
* :func:`find_sphere_only_gap` — some pattern feasible in space, certified
  infeasible on the sphere (by a ball certificate), if the model has one.
"""

from __future__ import annotations

from geomcheck.exact.rationals import format_rational

__all__ = ["envelope", "feasibility_certificate", "neurons_certificate", "circle_regions_certificate",
           "regions_by_exhaustion_certificate",
           "pattern_sphere_vs_space", "region_count", "find_sphere_only_gap"]


def envelope(block, kind: str, claim: dict, **evidence) -> dict:
    from geomcheck.io.modelfile import block_to_dict, model_sha256

    model = block_to_dict(block)
    model.pop("name", None)
    return {"format": "geomcheck.cert/1", "kind": kind, "model": model, "model_sha256": model_sha256(block),
            "claim": claim, **evidence}


def _vec(v):
    return [format_rational(x) for x in v]


def feasibility_certificate(block, pattern: str, on: str, result) -> dict | None:
    """The certificate for a proved :class:`~geomcheck.search.sphere.Feasibility`, else None."""
    from geomcheck.search.sphere import EXACT

    if result.status != EXACT:
        return None
    claim = {"pattern": pattern, "on": on}
    if result.feasible:
        if result.direction is not None:
            return envelope(block, "sphere-feasible", claim, direction=_vec(result.direction))
        return envelope(block, "sphere-feasible", claim, witness=_vec(result.witness))
    if result.inside is not None:
        return envelope(block, "sphere-infeasible", claim, inside_ball=[
            {"direction": _vec(c), "multipliers": {str(i): format_rational(v) for i, v in sorted(y.items())}}
            for c, y in result.inside])
    return envelope(block, "sphere-infeasible", claim,
                    multipliers={str(i): format_rational(v) for i, v in sorted(result.multipliers.items())})


def neurons_certificate(block, neurons) -> dict:
    return envelope(block, "sphere-neurons", {"kinds": [nb.kind for nb in neurons]})


def circle_regions_certificate(block, count) -> dict:
    """``circle-regions`` from a :class:`~geomcheck.geometry.regions.RegionCount` of a circle.

    The checker wants one direction per piece, in angular order; ``count.arcs``
    holds them (pattern, direction) in that order.
    """
    arcs = [{"direction": _vec(y), "pattern": p} for p, y in count.arcs]
    return envelope(block, "circle-regions", {"regions": count.regions, "pieces": count.pieces}, arcs=arcs)


def regions_by_exhaustion_certificate(block, limit_n: int = 12) -> dict:
    """A ``sphere-regions`` certificate: every pattern witnessed on S or refuted.

    A ball certificate refutes every pattern that agrees with it on its support,
    so it is generalized to a partial pattern (``*`` elsewhere) and covers many
    at once. Raises ValueError when a pattern stays undecided (estimate).
    """
    import itertools

    from geomcheck.geometry.sphere import sphere_of
    from geomcheck.search.sphere import EXACT, sphere_feasibility

    if block.n > limit_n:
        raise ValueError(f"exhaustive region certificates are for n ≤ {limit_n}")
    sphere = sphere_of(block)
    feasible, infeasible, refuted = [], [], []
    for signs in itertools.product("+-", repeat=block.n):
        pattern = "".join(signs)
        if any(all(p == "*" or p == f for p, f in zip(r, pattern)) for r in refuted):
            continue
        res = sphere_feasibility(sphere, pattern)
        if res.status != EXACT:
            raise ValueError(f"pattern {pattern}: undecided ({res.how})")
        if res.feasible:
            entry = {"pattern": pattern}
            entry.update({"direction": _vec(res.direction)} if res.direction is not None else {"witness": _vec(res.witness)})
            feasible.append(entry)
        elif res.inside is not None:
            refuted.append(pattern)
            infeasible.append({"pattern": pattern, "inside_ball": [
                {"direction": _vec(c), "multipliers": {str(i): format_rational(v) for i, v in sorted(y.items())}}
                for c, y in res.inside]})
        else:
            partial = "".join(c if i in res.multipliers else "*" for i, c in enumerate(pattern))
            refuted.append(partial)
            infeasible.append({"pattern": partial,
                               "multipliers": {str(i): format_rational(v) for i, v in sorted(res.multipliers.items())}})
    return envelope(block, "sphere-regions", {"regions": len(feasible)}, feasible=feasible, infeasible=infeasible)


def pattern_sphere_vs_space(block, pattern: str) -> dict:
    """Verdicts for ``pattern`` on S and in the whole (normalized) space, each gated with its certificate."""
    from geomcheck.geometry.sphere import sphere_of
    from geomcheck.search.sphere import space_feasibility, sphere_feasibility
    from geomcheck.verdicts import PROVED, gate

    sphere = sphere_of(block)
    on_sphere = sphere_feasibility(sphere, pattern)
    in_space = space_feasibility(sphere.weights, sphere.bias, pattern, sphere.centers)
    out = {"pattern": pattern}
    for where, res in (("sphere", on_sphere), ("space", in_space)):
        cert = feasibility_certificate(block, pattern, where, res)
        verdict = gate(cert, PROVED)
        out[where] = {"feasible": res.feasible, "certificate": cert, **verdict.to_json()}
    return out


def find_sphere_only_gap(block, limit: int = 4096) -> dict | None:
    """A pattern feasible in space but certified infeasible on S (ball certificate), or None."""
    import itertools

    from geomcheck.geometry.sphere import sphere_of
    from geomcheck.search.sphere import EXACT, space_feasibility, sphere_feasibility

    sphere = sphere_of(block)
    for k, signs in enumerate(itertools.product("+-", repeat=block.n)):
        if k >= limit:
            break
        pattern = "".join(signs)
        space = space_feasibility(sphere.weights, sphere.bias, pattern, sphere.centers)
        if not space.feasible:
            continue
        on = sphere_feasibility(sphere, pattern)
        if on.feasible is False and on.status == EXACT:
            return pattern_sphere_vs_space(block, pattern)
    return None


def region_count(block) -> dict:
    """Exact regions and pieces on S for dim S ∈ {1, 2}; ``certificate`` for circles.

    ``status`` is the gate's: a circle's ``circle-regions`` certificate checked now, or
    *estimate* on a 2-sphere (the Euler-formula count has no certificate kind; the
    ``sphere-regions`` exhaustion certificate covers small n).
    """
    from geomcheck.geometry.regions import count_circle, count_space_regions, count_two_sphere
    from geomcheck.geometry.sphere import sphere_of

    sphere = sphere_of(block)
    if sphere.dimension == 1:
        count = count_circle(sphere)
        cert = circle_regions_certificate(block, count)
    elif sphere.dimension == 2:
        count, cert = count_two_sphere(sphere), None
    else:
        raise ValueError("exact region counts need a sphere of dimension 1 or 2")
    from geomcheck.verdicts import PROVED, gate

    verdict = gate(cert, PROVED)
    return {"regions": count.regions, "pieces": count.pieces, **verdict.to_json(),
            "space_regions": count_space_regions(sphere), "patterns": sorted(count.patterns), "certificate": cert}
