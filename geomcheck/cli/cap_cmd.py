"""``geomcheck cap MODEL --direction V [--cos C] [--json]``.

The largest angle δ such that the spherical cap of radius δ around z(V) (on the
ε = 0 normalization sphere) lies in one region: ``δ = min_i |angle(û, w̃_i) − ρ_i|``
over the neurons with a boundary on the sphere, the arg-min neurons with exact
ties, and — with ``--cos C`` (rational) — the exact decision whether the closed
cap with ``cos δ = C`` is region-constant. The ``sphere-cap`` certificate is
checked in the same run (:func:`geomcheck.api.sphere.cap`); the printed
decimals are correct roundings from an interval enclosure of the exact form.
"""

from __future__ import annotations

from geomcheck.cli.common import add_json_flag, add_model_argument, emit
from geomcheck.exact.rationals import parse_rational


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
        lines.append(f"radius      pi (no neuron has a boundary on the sphere: the whole sphere is one region) [{p['status']}]")
    else:
        lines.append(f"radius      {p['radius'] or 'in [' + ', '.join(p['radius_interval']) + ']'} rad = "
                     f"{p['radius_degrees']} deg, bounded by neuron(s) {', '.join(map(str, p['neurons']))} [{p['status']}]")
        lines.append(f"            cos(radius) = {p['cos_radius']}; exact: {p['exact']['form']}")
    if "decision" in p:
        dec = p["decision"]
        verdict = "region-constant" if dec["constant"] else "not region-constant"
        lines.append(f"cos {dec['cos']}  the cap is {verdict} [{p['status']}]"
                     + ("" if dec["constant"] else f"; it meets {len(dec['meets'])} neuron boundaries: "
                        + ", ".join(map(str, dec["meets"][:20])) + (" …" if len(dec["meets"]) > 20 else "")))
    lines.append(f"checker     {p['checker']}")
    if p.get("note"):
        lines.append(f"note        {p['note']}")
    return "\n".join(lines)


def run(args) -> int:
    from geomcheck.api.sphere import cap
    from geomcheck.io.resolve import load_model
    from geomcheck.io.vectors import parse_vector

    block = load_model(args.model)
    v = block.check_direction(parse_vector(args.direction, block, "--direction"), "--direction")
    result = cap(block, v, None if args.cos is None else parse_rational(args.cos, "--cos"))
    payload = result.to_json()
    if args.certificate:
        payload["certificate"] = result.write_certificate(args.certificate)
    emit(args, payload, _human)
    return 0
