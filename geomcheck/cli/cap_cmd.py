"""``geomcheck cap MODEL --direction V [--cos C] [--json]``.

The largest angle δ such that the spherical cap of radius δ around z(V) (on the
ε = 0 normalization sphere) lies in one region: ``δ = min_i |angle(û, w̃_i) − ρ_i|``
over the neurons with a boundary on the sphere, the arg-min neurons with exact
ties, and — with ``--cos C`` (rational) — the exact decision whether the closed
cap with ``cos δ = C`` is region-constant.
"""

from __future__ import annotations

from fractions import Fraction

from geomcheck.cli.common import add_json_flag, add_model_argument, emit
from geomcheck.exact.rationals import format_rational, parse_rational


def register(subparsers) -> None:
    p = subparsers.add_parser("cap", help="certified angular radius of the region-constant cap around a direction")
    add_model_argument(p)
    p.add_argument("--direction", required=True, help="the input direction V (1,-2,3/4 | @file.npy | neuron:K | e:K)")
    p.add_argument("--cos", help="decide exactly whether the cap with this cosine (rational in [-1, 1]) is region-constant")
    p.add_argument("--certificate", metavar="FILE", help="write a sphere-cap certificate (nearest neurons, and the --cos decision)")
    add_json_flag(p)
    p.set_defaults(run=run)


def _human(p: dict) -> str:
    pattern = p["pattern"] if len(p["pattern"]) <= 80 else f"{p['pattern'][:60]}… ({len(p['pattern'])} neurons, --json for all)"
    lines = [f"direction   pattern {pattern} at z(V)"]
    if p["radius"] is None:
        lines.append("radius      pi (no neuron has a boundary on the sphere: the whole sphere is one region) [proved]")
    else:
        lines.append(f"radius      {p['radius']} rad = {p['radius_degrees']} deg, bounded by neuron(s) "
                     f"{', '.join(map(str, p['neurons']))} [{p['status']}]")
    if "decision" in p:
        dec = p["decision"]
        verdict = "region-constant" if dec["constant"] else "not region-constant"
        lines.append(f"cos {dec['cos']}  the cap is {verdict} [proved]"
                     + ("" if dec["constant"] else f"; it meets {len(dec['meets'])} neuron boundaries: "
                        + ", ".join(map(str, dec["meets"][:20])) + (" …" if len(dec["meets"]) > 20 else "")))
    return "\n".join(lines)


def run(args) -> int:
    import math

    from geomcheck.errors import DegenerateInput
    from geomcheck.geometry.sphere import (cap_distances, cap_is_region_constant, classify_neurons,
                                           nearest_boundaries, sphere_of)
    from geomcheck.io.resolve import load_model
    from geomcheck.io.vectors import parse_vector
    from geomcheck.model.block import pattern_string

    block = load_model(args.model)
    sphere = sphere_of(block)
    v = block.check_direction(parse_vector(args.direction, block, "--direction"), "--direction")
    u = sphere.project(v)
    neurons = classify_neurons(sphere)
    signs = sphere.signs_along(u)
    M, terms = cap_distances(sphere, u, neurons)
    best = nearest_boundaries(M, terms)
    payload = {"model": block.name, "direction": [format_rational(x) for x in v], "pattern": pattern_string(signs),
               "status": "proved"}
    if any(s == 0 for s, nb in zip(signs, neurons) if nb.kind != "constant_zero"):
        raise DegenerateInput("--direction: z(V) lies on a neuron boundary, so no cap around it is region-constant")
    if best:
        delta = best[0].distance
        payload.update(radius=f"{delta:.15g}", radius_degrees=f"{math.degrees(delta):.10g}",
                       neurons=[t.index for t in best],
                       cos_radius=f"{math.cos(delta):.15g}",
                       exact={"M": format_rational(M),
                              "form": "cos(radius) = (alpha + sqrt(beta*M))/sqrt(M)",
                              "alpha": format_rational(best[0].alpha), "beta": format_rational(best[0].beta)})
    else:
        payload.update(radius=None, neurons=[])
    if args.cos is not None:
        c = parse_rational(args.cos, "--cos")
        constant, hit = cap_is_region_constant(M, terms, Fraction(c))
        payload["decision"] = {"cos": format_rational(c), "constant": constant, "meets": hit}
    if args.certificate:
        import json

        from geomcheck.certify.sphere import envelope
        from geomcheck.errors import InvalidInput

        claim = {"direction": [format_rational(x) for x in v], "nearest": payload["neurons"]}
        if "decision" in payload:
            claim.update(cos=payload["decision"]["cos"], constant=payload["decision"]["constant"])
        try:
            with open(args.certificate, "w", encoding="utf-8") as handle:
                json.dump(envelope(block, "sphere-cap", claim), handle, indent=1)
        except OSError as exc:
            raise InvalidInput(f"cannot write {args.certificate}: {exc.strerror}") from None
        payload["certificate"] = args.certificate
    if block.norm.eps > 0:
        payload["note"] = ("eps > 0: the normalization's image is the open ball inside the sphere; "
                           "this answer is for the eps = 0 sphere")
    emit(args, payload, _human)
    return 0
