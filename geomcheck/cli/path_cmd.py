"""``geomcheck ray``, ``geomcheck path`` and ``geomcheck arc``: exact crossings along a path.

* ``ray MODEL --direction V``           the open ray {λ·V : λ > 0}
* ``path MODEL --base X --add D [--max L]``  X + λ·D, λ ∈ [0, ∞) or [0, L]
* ``arc MODEL --from X --to Y``          X + s·(Y − X), s ∈ [0, 1] (the great-circle arc at ε = 0)

Common options: ``--json``, ``--certificate FILE`` (geomcheck.cert/1, kind
"path"), ``--plot FILE.png`` (pre-activations along the path, crossings
marked), ``--engine exact|filtered`` (same answers; filtered is faster).
"""

from __future__ import annotations

from geomcheck.cli.common import add_json_flag, add_model_argument, emit
from geomcheck.errors import InvalidInput

_PATTERN_WIDTH = 72


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
        parser.add_argument("--digits", type=int, default=17, help="significant digits of decimal λ (default 17)")
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


def _short(pattern: str) -> str:
    if len(pattern) <= _PATTERN_WIDTH:
        return pattern
    return f"{pattern[:_PATTERN_WIDTH]}… ({pattern.count('+')} on of {len(pattern)})"


def _human(p: dict) -> str:
    name = {"ray": "ray", "superposition": "path x + λ·d", "arc": "arc (s = λ)", "path": "path"}[p["kind"]]
    lines = [
        f"model     {p['model']}  (norm {p['norm']['kind']}, eps = {p['norm']['eps']}, activation {p['activation']})",
        f"{name:<9} {p['domain']}",
        f"verdict   {p['verdict']} ({p['status']}): {len(p['crossings'])} crossing(s), {len(p['segments'])} region(s) along the path",
        f"checker   {p['checker']}" + (f" ({p['certificate_kind']} certificate, checked in this run)" if p["checked"] else ""),
    ]
    if p["activation"] != "relu":
        lines.append(f"regions   {p['regions']}")
    if p.get("gate_patterns_note"):
        lines.append(f"note      {p['gate_patterns_note']}")
    if p["crossings"]:
        lines.append("")
        lines.append(f"  {'#':>3}  {'lambda':<22} {'exact':<34} {'map changes':<12} neurons")
        for k, c in enumerate(p["crossings"], 1):
            exact = c["exact"] if len(c["exact"]) <= 34 else c["exact"][:31] + "..."
            neurons = ",".join(map(str, c["neurons"][:12])) + ("…" if len(c["neurons"]) > 12 else "")
            lines.append(f"  {k:>3}  {c['lambda']:<22} {exact:<34} {'yes' if c['map_changes'] else 'no':<12} {neurons}")
    lines.append("")
    lines.append(f"  {'segment':>7}  {'witness λ':<16} pattern")
    for k, s in enumerate(p["segments"], 1):
        lines.append(f"  {k:>7}  {s['witness']:<16} {_short(s['pattern'])}")
    if "critical_norms" in p:
        lines.append("")
        if p["critical_norms"]:
            lines.append("  critical centred norms ‖P·x‖ (eps > 0): neuron flips there")
            for c in p["critical_norms"]:
                lines.append(f"    neuron {c['neuron']:<6} r² = {c['squared_norm']:<24} r ≈ {c['norm']}")
            lines.append(f"  region-constant for ‖P·x‖² > {p['constant_above']}  (‖P·x‖ > ≈ {p['constant_above_norm']})")
        else:
            lines.append("  no critical norm: region-constant at every scale" if p["checked"]
                         else "  the engine found no critical norm (not confirmed by the checker: an estimate)")
    for lam in p.get("endpoint_zeros", []):
        lines.append(f"  note: neurons {lam['neurons']} vanish at the end λ = {lam['lambda']}")
    for note in p["notes"]:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def run(args) -> int:
    from geomcheck.api.paths import analyse
    from geomcheck.io.resolve import load_model

    block = load_model(args.model)
    result = analyse(block, build_spec(args, block), args.engine)
    payload = result.to_json(max(args.digits, 15))
    if args.certificate:
        from geomcheck.results import write_certificate

        payload["certificate"] = write_certificate(args.certificate, result.certificate)
    if args.plot:
        from geomcheck.search.path_plot import plot_path

        plot_path(block, result.analysis, args.plot)
        payload["plot"] = args.plot
    emit(args, payload, _human)
    return 0
