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

from geomcheck.errors import InvalidInput
from geomcheck.results import checker_line
from geomcheck.cli.common import (Stages, add_json_flag, add_model_argument, add_output_flags, draw_plot, emit, finish,
                                  progress_enabled)
from geomcheck.cli.display import cut, more, number, row_limit, table


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
    add_output_flags(p, json_lines=True)
    p.set_defaults(run=run)


def _human(p: dict, args=None) -> str:
    exact, limit = getattr(args, "exact", False), row_limit(args)
    s = p["sphere"]
    lines = [f"sphere      ‖z‖² = {s['squared_radius']} in {s['space']}, dimension {s['dimension']}"]
    if "note" in p:
        lines.append(f"note        {p['note']}")
    lines.append(f"checker     {checker_line(p)}")
    lines.append("neurons     " + ", ".join(f"{k.replace('_', '-')} {v}" for k, v in p["neurons"].items()))
    shown, left = cut(p["neuron_list"], limit)
    lines += table(["neuron", "kind", "angular radius (rad)", "cos² of it", "sign"],
                   [[str(e["index"]), e["kind"], str(e.get("radius", "")),
                     number(e["cos_radius_squared"], exact) if "cos_radius_squared" in e else "",
                     f"{e['cos_radius_sign']:+d}" if "cos_radius_sign" in e else ""] for e in shown])
    if left:
        lines.append(more(left, "neurons"))
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


def _json_lines(payload: dict) -> str:
    """``--json-lines``: a header object (every key but ``neuron_list``), then one line per neuron."""
    import json

    head = {k: v for k, v in payload.items() if k != "neuron_list"}
    head.update(record="sphere", neuron_list=len(payload["neuron_list"]))
    return "\n".join([json.dumps(head)] + [json.dumps({"record": "neuron", **e}) for e in payload["neuron_list"]])


def run(args) -> int:
    if args.json and args.json_lines:
        raise InvalidInput("--json and --json-lines: choose one")
    from geomcheck.api.sphere import sphere_summary
    from geomcheck.io.resolve import load_model
    from geomcheck.results import write_certificate

    row_limit(args)
    with Stages(args, "load model", "classify neurons + count regions") as stages:
        block = load_model(args.model)
        stages.next()
        result = sphere_summary(block, args.regions, args.budget, progress=progress_enabled(args),
                                regions_certificate=bool(args.regions_certificate))
        stages.next()
    payload = result.to_json()
    if args.plot:
        from geomcheck.plots.sphere import plot_sphere

        draw_plot(payload, "plot", args.plot, lambda: plot_sphere(block, args.plot, result.count))
    if args.certificate:
        payload["certificate"] = result.write_certificate(args.certificate)
    if args.regions_certificate:
        payload["regions_certificate"] = write_certificate(args.regions_certificate, result.regions_certificate,
                                                           "--regions-certificate")
    if args.json_lines:
        print(_json_lines(payload))
    else:
        emit(args, payload, lambda q: _human(q, args))
    return finish(payload)
