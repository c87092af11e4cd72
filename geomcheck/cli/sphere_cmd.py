"""``geomcheck sphere MODEL [--json] [--plot FILE.png] [--certificate FILE] [--regions auto|yes|no]``.

Neuron classification on the ε = 0 normalization sphere, and region counts:
exact for circles (dim S = 1) and 2-spheres (dim S = 2), a witness-to-witness
search otherwise. Every status comes from the gate
(:func:`geomcheck.api.sphere.sphere_summary`): the classification from a checked
``sphere-neurons`` certificate, a count from a checked ``circle-regions`` or
``sphere-regions`` certificate; counts without one (the whole space, large n)
are estimates.
"""

from __future__ import annotations

from geomcheck.cli.common import add_json_flag, add_model_argument, emit


def register(subparsers) -> None:
    p = subparsers.add_parser("sphere", help="neuron classification and region counts on the LayerNorm/RMSNorm sphere")
    add_model_argument(p)
    add_json_flag(p)
    p.add_argument("--regions", choices=("auto", "yes", "no"), default="auto",
                   help="count regions (auto: exact cases always, search only for n ≤ 64)")
    p.add_argument("--budget", type=float, default=20.0, help="seconds for the region search (dim S ≥ 3)")
    p.add_argument("--plot", metavar="FILE.png", help="draw the circle (d = 3) or the 2-sphere (d = 4) coloured by region")
    p.add_argument("--certificate", metavar="FILE", help="write the neuron-classification certificate (kind sphere-neurons)")
    p.add_argument("--regions-certificate", metavar="FILE",
                   help="write the region-count certificate (circle-regions for circles, else sphere-regions for n ≤ 12)")
    p.set_defaults(run=run)


def _human(p: dict) -> str:
    s = p["sphere"]
    lines = [f"sphere      ‖z‖² = {s['squared_radius']} in {s['space']}, dimension {s['dimension']}"]
    if "note" in p:
        lines.append(f"note        {p['note']}")
    lines.append(f"checker     {p['checker']}")
    lines.append("neurons     " + ", ".join(f"{k.replace('_', '-')} {v}" for k, v in p["neurons"].items()))
    for e in p["neuron_list"][:40]:
        extra = f"  angular radius {e['radius']} rad (cos² = {e['cos_radius_squared']}, sign {e['cos_radius_sign']:+d})" \
            if "radius" in e else ""
        lines.append(f"  neuron {e['index']:<4} {e['kind']}{extra}")
    if len(p["neuron_list"]) > 40:
        lines.append(f"  … {len(p['neuron_list']) - 40} more (use --json)")
    r = p.get("regions")
    if r and r["status"] == "skipped":
        lines.append(f"regions     {r['note']}")
    elif r:
        sp = r["space"]
        pieces = f" in {r['pieces']} connected pieces" if "pieces" in r else ""
        lines.append(f"regions     {r['count']} on the sphere{pieces} [{r['status']}]")
        total = sp["count"] if sp["count"] is not None else f"? (at most {sp['upper_bound']})"
        lines.append(f"            {total} in the whole space ({sp['where']}) [{sp['status']}]")
        if "note" in r:
            lines.append(f"            {r['note']}")
    return "\n".join(lines)


def run(args) -> int:
    from geomcheck.api.sphere import sphere_summary
    from geomcheck.io.resolve import load_model
    from geomcheck.results import write_certificate

    block = load_model(args.model)
    result = sphere_summary(block, args.regions, args.budget, progress=not args.json)
    payload = result.to_json()
    if args.plot:
        from geomcheck.search.plots import plot_sphere

        plot_sphere(block, args.plot, result.count)
        payload["plot"] = args.plot
    if args.certificate:
        payload["certificate"] = result.write_certificate(args.certificate)
    if args.regions_certificate:
        cert = result.regions_certificate
        if cert is None:
            from geomcheck.certify.sphere import regions_by_exhaustion_certificate
            from geomcheck.errors import InvalidInput

            try:
                cert = regions_by_exhaustion_certificate(block)
            except ValueError as exc:
                raise InvalidInput(f"--regions-certificate: {exc}") from None
        payload["regions_certificate"] = write_certificate(args.regions_certificate, cert, "--regions-certificate")
    emit(args, payload, _human)
    return 0
