"""``geomcheck sphere MODEL [--json] [--plot FILE.png] [--certificate FILE] [--regions auto|yes|no]``.

Neuron classification on the ε = 0 normalization sphere, and region counts:
exact for circles (dim S = 1) and 2-spheres (dim S = 2), a witness-to-witness
search otherwise (proved when complete, estimate when the budget runs out).
"""

from __future__ import annotations

import json

from geomcheck.cli.common import add_json_flag, add_model_argument, emit
from geomcheck.exact.rationals import format_rational

KINDS = ("cuts", "tangent", "always_on", "always_off", "constant_zero")


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


def _regions(block, sphere, args) -> tuple[dict | None, object]:
    from geomcheck.geometry.regions import count_circle, count_space_regions, count_two_sphere, space_regions_upper_bound

    if args.regions == "no" or (args.regions == "auto" and sphere.dimension > 2 and sphere.n > 64):
        return None, None
    space = count_space_regions(sphere)
    space_entry = {"count": space, "status": "proved" if space is not None else "estimate",
                   "where": "the affine arrangement in 1⊥" if sphere.centers else "the affine arrangement in R^d"}
    if space is None:
        space_entry["upper_bound"] = space_regions_upper_bound(sphere)
        space_entry["note"] = "exact count ran out of time; upper_bound is the general-position maximum"
    if sphere.dimension in (1, 2):
        count = count_circle(sphere) if sphere.dimension == 1 else count_two_sphere(sphere)
        witnesses = {}
        for pattern, w in sorted(count.patterns.items()):
            if sphere.dimension == 1:  # a rational direction y: the point is √d·y/‖y‖
                witnesses[pattern] = {"direction": _vec(w)}
            else:  # the arc point c₀ + √K·y, which lies on this pattern's boundary circle: the region is beside it
                c0, y, K = w
                witnesses[pattern] = {"boundary_point": {"centre": _vec(c0), "direction": _vec(y), "K": format_rational(K)}}
        return {"count": count.regions, "pieces": count.pieces, "status": "proved", "method": count.method,
                "space": space_entry, "patterns": sorted(count.patterns), "witnesses": witnesses}, count
    from geomcheck.search.sphere import search_regions

    found = search_regions(sphere, time_budget=args.budget, progress=not args.json)
    entry = {"count": len(found.patterns), "status": found.status,
             "method": "adjacency search from witness to witness (LP/QP-backed, exact witnesses and certificates)",
             "checked": found.checked, "refuted": found.refuted, "undecided": found.undecided,
             "complete": found.complete, "space": space_entry, "patterns": sorted(found.patterns),
             "witnesses": {p: ({"point": _vec(r.witness)} if r.witness is not None else {"direction": _vec(r.direction)})
                           for p, r in sorted(found.patterns.items())}}
    if found.status != "proved":
        entry["note"] = ("a lower bound: " + ("the search stopped at the time budget" if not found.complete
                                              else f"{found.undecided} neighbouring patterns could not be decided exactly"))
    return entry, None


def _vec(v) -> list[str]:
    return [format_rational(x) for x in v]


def payload_for(block, args) -> tuple[dict, object, list]:
    from geomcheck.geometry.sphere import classify_neurons, sphere_of

    sphere = sphere_of(block)
    neurons = classify_neurons(sphere)
    counts = {k: sum(1 for nb in neurons if nb.kind == k) for k in KINDS}
    listed = []
    for nb in neurons:
        entry = {"index": nb.index, "kind": nb.kind}
        if nb.cos2 is not None:
            entry["cos_radius_squared"] = format_rational(nb.cos2)
            entry["cos_radius_sign"] = nb.cos_sign
        if nb.kind in ("cuts", "tangent"):
            entry["radius"] = f"{nb.radius:.12g}"
            if sphere.d <= 64:
                entry["centre"] = [format_rational(v) for v in sphere.weights[nb.index]]
        listed.append(entry)
    payload = {
        "model": block.name,
        "d": block.d, "n": block.n,
        "sphere": {"space": "1⊥ (sum z = 0)" if sphere.centers else "R^d", "squared_radius": sphere.d,
                   "dimension": sphere.dimension, "eps": format_rational(sphere.eps)},
        "neurons": counts,
        "neuron_list": listed,
        "status": "proved",
    }
    if sphere.eps > 0:
        payload["note"] = ("eps > 0: the normalization's image is the open ball inside this sphere; "
                           "the classification and regions are for the eps = 0 sphere")
    regions, count = _regions(block, sphere, args)
    if regions is not None:
        payload["regions"] = regions
    else:
        payload["regions"] = {"count": None, "status": "skipped",
                              "note": "not counted: --regions no, or n > 64 on a sphere of dimension ≥ 3 (use --regions yes)"}
    return payload, count, neurons


def _human(p: dict) -> str:
    s = p["sphere"]
    lines = [f"sphere      ‖z‖² = {s['squared_radius']} in {s['space']}, dimension {s['dimension']}"]
    if "note" in p:
        lines.append(f"note        {p['note']}")
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


def _write(path: str, cert: dict) -> None:
    from geomcheck.errors import InvalidInput

    try:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(cert, handle, indent=1)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None


def run(args) -> int:
    from geomcheck.io.resolve import load_model

    block = load_model(args.model)
    payload, count, neurons = payload_for(block, args)
    if args.plot:
        from geomcheck.search.plots import plot_sphere

        plot_sphere(block, args.plot, count)
        payload["plot"] = args.plot
    if args.certificate:
        from geomcheck.certify.sphere import neurons_certificate

        _write(args.certificate, neurons_certificate(block, neurons))
        payload["certificate"] = args.certificate
    if args.regions_certificate:
        from geomcheck.certify.sphere import circle_regions_certificate, regions_by_exhaustion_certificate
        from geomcheck.errors import InvalidInput

        if count is not None and getattr(count, "arcs", None):
            cert = circle_regions_certificate(block, count)
        else:
            try:
                cert = regions_by_exhaustion_certificate(block)
            except ValueError as exc:
                raise InvalidInput(f"--regions-certificate: {exc}") from None
        _write(args.regions_certificate, cert)
        payload["regions_certificate"] = args.regions_certificate
    emit(args, payload, _human)
    return 0
