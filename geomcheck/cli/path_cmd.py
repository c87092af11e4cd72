"""``geomcheck ray``, ``geomcheck path`` and ``geomcheck arc``: exact crossings along a path.

* ``ray MODEL --direction V``           the open ray {λ·V : λ > 0}
* ``path MODEL --base X --add D [--max L]``  X + λ·D, λ ∈ [0, ∞) or [0, L]
* ``arc MODEL --from X --to Y``          X + s·(Y − X), s ∈ [0, 1] (the great-circle arc at ε = 0)

Common options: ``--json`` (complete), ``--json-lines`` (a header line, then one
line per crossing and per segment), ``--certificate FILE`` (geomcheck.cert/1, kind
"path"), ``--plot FILE.png`` (pre-activations along the path, crossings
marked), ``--engine exact|filtered`` (same answers; filtered is faster),
``--limit N``/``--all`` (rows of each table; default 10), ``--exact`` (long exact
numbers in full), ``--digits N`` (decimal λ in the table).
"""

from __future__ import annotations

from fractions import Fraction

from geomcheck.cli.common import Stages, add_json_flag, add_model_argument, add_output_flags, draw_plot, emit, finish
from geomcheck.cli.display import cut, more, neuron_list, number, pattern, row_limit, table
from geomcheck.errors import InvalidInput
from geomcheck.results import checker_line


def register(subparsers) -> None:
    ray = subparsers.add_parser("ray", help="exact region crossings along the ray {λ·V : λ > 0}")
    add_model_argument(ray)
    ray.add_argument("--direction", required=True, metavar="V", help="1,-2,3/4 | @file.npy | neuron:K | e:K")
    path = subparsers.add_parser("path", help="exact region crossings along X + λ·D, λ ≥ 0 (superposition)")
    add_model_argument(path)
    path.add_argument("--base", required=True, metavar="X", help="the starting vector X")
    path.add_argument("--add", required=True, metavar="D", help="the added direction D")
    path.add_argument("--max", metavar="L", help="stop at λ = L (default: λ → ∞)")
    arc = subparsers.add_parser("arc", help="exact region crossings along the great-circle arc from z(X) to z(Y)")
    add_model_argument(arc)
    arc.add_argument("--from", dest="source", required=True, metavar="X")
    arc.add_argument("--to", dest="target", required=True, metavar="Y")
    for parser, kind in ((ray, "ray"), (path, "path"), (arc, "arc")):
        add_json_flag(parser)
        parser.add_argument("--certificate", metavar="FILE", help="write a geomcheck.cert/1 certificate (kind path)")
        parser.add_argument("--plot", metavar="FILE.png", help="plot the pre-activations along the path")
        parser.add_argument("--engine", choices=("filtered", "exact"), default="filtered",
                            help="filtered (float filter + exact fallback, default) or exact (all-rational reference)")
        parser.add_argument("--digits", type=int, default=17,
                            help="significant digits of decimal λ in the table (default 17; --json keeps at least 15)")
        add_output_flags(parser, json_lines=True)
        parser.set_defaults(run=run, path_kind=kind)


def build_spec(args, block):
    from geomcheck.exact.rationals import parse_rational
    from geomcheck.geometry.paths import PathSpec
    from geomcheck.io.vectors import parse_vector

    if args.path_kind == "ray":
        v = block.check_direction(parse_vector(args.direction, block, "--direction"), "--direction")
        return PathSpec.ray(v)
    if args.path_kind == "path":
        x = parse_vector(args.base, block, "--base")
        v = block.check_direction(parse_vector(args.add, block, "--add"), "--add")
        maximum = None if args.max is None else parse_rational(args.max, "--max")
        if maximum is not None and maximum <= 0:
            raise InvalidInput(f"--max: must be > 0, got {args.max}")
        return PathSpec.superposition(x, v, maximum)
    x = parse_vector(args.source, block, "--from")
    y = parse_vector(args.target, block, "--to")
    if block.norm.scales and block.norm.eps == 0:
        block.check_direction(x, "--from")
        block.check_direction(y, "--to")
    return PathSpec.arc(x, y)


def _human(p: dict, args) -> str:
    """The answer first (verdict, what backs it, counts, first/last crossing, the neurons that flip),
    then the tables, each cut to ``--limit`` rows (default 10; ``--all`` for every row)."""
    exact, limit = getattr(args, "exact", False), row_limit(args)
    digits = getattr(args, "digits", 17)
    num = lambda text: number(text, exact)  # noqa: E731
    lam = lambda c: _round_decimal(c["lambda"], digits)  # noqa: E731
    name = {"ray": "ray", "superposition": "path x + λ·d", "arc": "arc (s = λ)", "path": "path"}[p["kind"]]
    crossings, segments = p["crossings"], p["segments"]
    lines = [
        f"verdict   {p['verdict']} [{p['status']}]: {len(crossings)} crossing(s), {len(segments)} region(s) "
        f"along the {name} {p['domain']}",
        f"checker   {checker_line(p)}",
        f"model     {p['model']}  (norm {p['norm']['kind']}, eps = {num(p['norm']['eps'])}, "
        f"activation {p['activation']}, engine {p.get('engine', 'filtered')})",
    ]
    if crossings:
        flipped = sorted({i for c in crossings for i in c["neurons"]})
        changes = sum(1 for c in crossings if c["map_changes"])
        lines.append(f"first     λ = {lam(crossings[0])}  (neurons {neuron_list(crossings[0]['neurons'])})")
        if len(crossings) > 1:
            lines.append(f"last      λ = {lam(crossings[-1])}  (neurons {neuron_list(crossings[-1]['neurons'])})")
        lines.append(f"neurons   {len(flipped)} of the block's neurons flip: {neuron_list(flipped)}; "
                     f"the map changes at {changes} of {len(crossings)} crossing(s)")
    if "critical_norms" in p:
        if p["critical_norms"]:
            last = max(p["critical_norms"], key=lambda c: Fraction(c["squared_norm"]))
            lines.append(f"constant  for ‖P·x‖ > {p['constant_above_norm']} (‖P·x‖² > {num(p['constant_above'])}), "
                         f"the last flip being neuron {last['neuron']}")
        else:
            lines.append("constant  no critical norm: region-constant at every scale" if p["checked"]
                         else "constant  the engine found no critical norm (not confirmed by the checker: an estimate)")
    if p.get("gate_patterns_note"):
        lines.append(f"note      {p['gate_patterns_note']}")
    if crossings:
        shown, left = cut(crossings, limit)
        lines += ["", f"crossings ({len(crossings)})"]
        lines += table(["#", "lambda", "exact", "map changes", "neurons"],
                       [[str(k), lam(c), num(c["exact"]), "yes" if c["map_changes"] else "no", neuron_list(c["neurons"])]
                        for k, c in enumerate(shown, 1)])
        if left:
            lines.append(more(left, "crossings"))
    shown, left = cut(segments, limit)
    lines += ["", f"segments ({len(segments)}): a rational witness λ and the exact sign pattern there"]
    lines += table(["#", "witness λ", "pattern"],
                   [[str(k), num(s["witness"]), pattern(s["pattern"], 40)] for k, s in enumerate(shown, 1)])
    if left:
        lines.append(more(left, "segments"))
    if p.get("critical_norms"):
        shown, left = cut(p["critical_norms"], limit)
        lines += ["", f"critical centred norms ({len(p['critical_norms'])}): the neuron flips where ‖P·x‖ = r"]
        lines += table(["neuron", "r", "r²"], [[str(c["neuron"]), c["norm"], num(c["squared_norm"])] for c in shown])
        if left:
            lines.append(more(left, "critical norms"))
    for z in p.get("endpoint_zeros", []):
        lines.append(f"note      neurons {neuron_list(z['neurons'])} vanish at the end λ = {num(z['lambda'])}")
    for note in p["notes"]:
        lines.append(f"note      {note}")
    return "\n".join(lines)


def _round_decimal(text: str, digits: int) -> str:
    """A JSON λ (≥ 15 correct significant digits) shown with ``--digits`` of them."""
    if digits >= 15:
        return text
    from decimal import Decimal, localcontext

    with localcontext() as ctx:
        ctx.prec = digits
        return format(+Decimal(text), f".{digits}g")


def _json_lines(payload: dict) -> str:
    """``--json-lines``: a header object (every key but the long lists), then one object per line
    for each crossing and each segment, tagged ``"record": "crossing" | "segment"``."""
    import json

    head = {k: v for k, v in payload.items() if k not in ("crossings", "segments")}
    head.update(record="path", crossings=len(payload["crossings"]), segments=len(payload["segments"]))
    out = [json.dumps(head)]
    out += [json.dumps({"record": "crossing", "index": k, **c}) for k, c in enumerate(payload["crossings"], 1)]
    out += [json.dumps({"record": "segment", "index": k, **s}) for k, s in enumerate(payload["segments"], 1)]
    return "\n".join(out)


def run(args) -> int:
    from geomcheck.api.paths import analyse
    from geomcheck.io.resolve import load_model

    if not 1 <= args.digits <= 1000:
        raise InvalidInput(f"--digits: must be between 1 and 1000, got {args.digits}")
    if args.json and args.json_lines:
        raise InvalidInput("--json and --json-lines: choose one")
    row_limit(args)
    with Stages(args, "load model", "crossings + checker") as stages:
        block = load_model(args.model)
        spec = build_spec(args, block)
        stages.next()
        result = analyse(block, spec, args.engine)
        stages.next()
    # JSON keeps ≥ 15 significant digits (the documented contract); the table shows --digits
    payload = result.to_json(max(args.digits, 15))
    if args.certificate:
        from geomcheck.results import write_certificate

        payload["certificate"] = write_certificate(args.certificate, result.certificate)
    if args.plot:
        from geomcheck.plots.path import plot_path

        draw_plot(payload, "plot", args.plot, lambda: plot_path(block, result.analysis, args.plot))
    if args.json_lines:
        print(_json_lines(payload))
    else:
        emit(args, payload, lambda p: _human(p, args))
    return finish(payload)
