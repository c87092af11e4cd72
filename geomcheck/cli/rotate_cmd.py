"""``geomcheck rotate``: how the block's output changes while x rotates toward d.

* ``rotate MODEL --base X --toward D [--max L]``  the path X + λ·D, λ ≥ 0 (the arc from z(X) toward z(D))
* ``rotate MODEL --base X --to Y``                 the great-circle arc from z(X) to z(Y)

Options: ``--json``, ``--plot FILE.png`` (output against the angle), ``--samples N`` (grid in θ),
``--check yes|no`` (run the trusted checker on the crossings; default yes: a few seconds on
MiniLM), ``--slice W`` with ``--slice-plot FILE.png``
(the 2-sphere through z(X), z(D or Y), z(W): region picture with the arcs, see README).
"""

from __future__ import annotations

from geomcheck.cli.display import number
from geomcheck.results import short_patterns
from geomcheck.cli.common import Stages, add_json_flag, add_model_argument, add_progress_flag, draw_plot, emit, finish
from geomcheck.errors import InvalidInput

def register(subparsers) -> None:
    p = subparsers.add_parser("rotate", help="the block output along the rotation of z(X) toward z(D): "
                                             "flips, kinks, affine-fit residual, speed, curvature")
    add_model_argument(p)
    p.add_argument("--base", required=True, metavar="X", help="the starting vector X")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--toward", metavar="D", help="the added direction D: the path X + λ·D, λ ≥ 0")
    target.add_argument("--to", dest="target", metavar="Y", help="the arc from z(X) to z(Y)")
    p.add_argument("--max", metavar="L", help="with --toward: stop at λ = L (default λ → ∞)")
    p.add_argument("--samples", type=int, default=2001, help="grid points in θ for the sampled measures (default 2001)")
    p.add_argument("--check", choices=("auto", "yes", "no"), default="yes",
                   help="run the trusted checker on the crossings (default yes; auto is the same as yes)")
    p.add_argument("--plot", metavar="FILE.png", help="plot the output against the rotation angle")
    p.add_argument("--residual-stream", action="store_true",
                   help="also report the residual stream x + f along the path (finite paths)")
    p.add_argument("--slice", metavar="W", help="also map the 2-sphere through z(X), z(D|Y), z(W)")
    p.add_argument("--slice-plot", metavar="FILE.png", help="with --slice: draw the slice with the arcs")
    p.add_argument("--slice-resolution", type=int, default=181, help="with --slice: grid per axis (default 181)")
    add_json_flag(p)
    add_progress_flag(p)
    p.set_defaults(run=run)


def build_spec(args, block):
    from geomcheck.exact.rationals import parse_rational
    from geomcheck.geometry.paths import PathSpec
    from geomcheck.io.vectors import parse_vector

    x = block.check_direction(parse_vector(args.base, block, "--base"), "--base")
    if args.toward is not None:
        v = block.check_direction(parse_vector(args.toward, block, "--toward"), "--toward")
        maximum = None if args.max is None else parse_rational(args.max, "--max")
        return PathSpec.superposition(x, v, maximum), v
    if args.max is not None:
        raise InvalidInput("--max: only with --toward (an arc --to Y ends at Y)")
    y = block.check_direction(parse_vector(args.target, block, "--to"), "--to")
    return PathSpec.arc(x, y), y


def _fmt(v, unit: str = "") -> str:
    if v is None:
        return "never (within the arc)" if unit == "°" else "—"
    return f"{v:.4g}{unit}"


def _human(p: dict) -> str:
    v = p["verdict"]
    lines = [
        f"model        {p['model']}  (norm {p['norm']['kind']}, eps = {number(p['norm']['eps'])}, activation {p['activation']})",
        f"rotation     {p['kind']}: θ from 0 to {p['angle_total']:.6g}° (z(X) → {'z(D)' if p['kind'] == 'superposition' else 'z(Y)'})",
        f"flips        {p['flips']} gate flip(s) ({p['map_changes']} "
        + ("flip a neuron with a live output term; gated block: pattern = gate signs" if "gated" in p["labels"] else
           f"change the {'affine map' if p['activation'] == 'relu' else 'ReLU-surrogate map'}")
        + "), exact",
        f"verdict      {v['status']} — statement: {v['statement']}"
        + (f"; checker: {short_patterns(v['checker'])}" if v["checker"] else ""),
    ]
    if p["flip_spacing"]:
        s = p["flip_spacing"]
        lines.append(f"             spacing median {s['median']:.3g}°, min {s['min']:.3g}°, max {s['max']:.3g}°")
    lines.append("")
    lines.append(f"estimate (sampled: {p['sampling']['samples']} points, every {p['sampling']['step_degrees']:.3g}°, closed-form derivatives)")
    r = p["affine_fit_residual"]
    if "quadratic_fit_residual" in p:
        qr = p["quadratic_fit_residual"]
        lines.append(f"  affine-fit residual   {_fmt(None if r is None else 100 * r, '%')}  (gated: never affine in z, > 0 "
                     "even without a flip)")
        lines.append(f"  quadratic-fit resid.  {_fmt(None if qr is None else 100 * qr, '%')}  (+ cos², sin², cos·sin: "
                     "0 % = one ReLU gate region)")
    else:
        lines.append(f"  affine-fit residual   {_fmt(None if r is None else 100 * r, '%')}  (0 % = one affine region along the arc)")
    t, li = p["tangent_error_angles"], p["linearization_error_angles"]
    lines.append(f"  tangent line off by   1 % at {_fmt(t['1%'], '°')}, 10 % at {_fmt(t['10%'], '°')}")
    lines.append(f"  linearization in z    1 % at {_fmt(li['1%'], '°')}, 10 % at {_fmt(li['10%'], '°')}  "
                 + ("(gated: reached even in one region)" if "gated" in p["labels"] else "(one region: never)"))
    sp, cu = p["speed"], p["curvature"]
    lines.append(f"  speed ‖f′(θ)‖         median {_fmt(sp['median'])}, max {_fmt(sp['max'])}, min {_fmt(sp['min'])} ({sp['units']})")
    lines.append(f"  curvature κ           median {_fmt(cu['median'])}, max {_fmt(cu['max'])} ({cu['units']})")
    g = p.get("gate_transition")
    if g:
        lines.append(f"  gate transitions      {'|g| < 1 (gate pre-activation)' if 'gated' in p['labels'] else '|h| < 1'} spans {g['width_min']:.3g}–{g['width_max']:.3g}° (median {g['width_median']:.3g}°), "
                     f"{_fmt(g['ratio_width_to_spacing'])}× the median flip spacing; "
                     + ("some look like kinks at this sampling" if g["kink_like"] else "none looks like a kink at this sampling"))
    if "residual_stream" in p:
        rs = p["residual_stream"]
        if "note" in rs:
            lines.append(f"  residual stream       {rs['note']}")
        else:
            lines.append(f"  residual stream       block output / stream: median {rs['block_share']['median']:.3g}, "
                         f"max {rs['block_share']['max']:.3g}; share of the stream's change from the block "
                         f"{_fmt(rs['change_from_block'])}")
    if p.get("kinks") is not None:
        lines.append("")
        ks = p["kinks"]
        lines.append(f"exact angles (ReLU gate): {len(ks)} kink(s); jump of ∂f/∂z (operator norm, float64 at the exact "
                     "flip point), and of f′(θ) along the arc" if "gated" in p["labels"] else
                     f"exact (ReLU): {len(ks)} kink(s); jump of ∂f/∂z (operator norm), and of f′(θ) along the arc")
        if ks:
            lines.append(f"  {'#':>3}  {'angle °':<12} {'lambda':<22} {'‖ΔJ‖ (z)':<12} {'‖Δf′‖ (θ)':<11} neurons")
            for k, kk in enumerate(ks[:40], 1):
                lines.append(f"  {k:>3}  {kk['angle']:<12.6g} {kk['lambda']:<22} {kk['jacobian_jump']:<12.5g} "
                             f"{kk['derivative_jump']:<11.5g} {','.join(map(str, kk['neurons']))}")
            if len(ks) > 40:
                lines.append(f"  … {len(ks) - 40} more (--json)")
    lines.append("")
    lines.append(f"angles: {p['labels']['angles']}")
    lines.append(f"note: {p['labels']['eps']}")
    if "slice" in p:
        s = p["slice"]
        lines.append("")
        lines.append(f"slice        {s['summary']}")
    for key in ("plot", "slice_plot"):
        if key in p:
            lines.append(f"{key.replace('_', ' ')}: {p[key]}")
    return "\n".join(lines)


def run(args) -> int:
    from geomcheck.api.rotate import rotate
    from geomcheck.io.resolve import load_model

    if args.samples < 16 or args.samples > 200_000:
        raise InvalidInput(f"--samples: must be between 16 and 200000, got {args.samples}")
    if args.slice_plot and not args.slice:
        raise InvalidInput("--slice-plot: needs --slice W")
    with Stages(args, "load model", "crossings + checker + measures") as stages:
        block = load_model(args.model)
        spec, other = build_spec(args, block)
        stages.next()
        result = rotate(block, spec, samples=args.samples, check=args.check != "no", keep_samples=bool(args.plot),
                        residual_stream=args.residual_stream)
        stages.next()
    payload = result.to_json()
    samples, frame = result.samples, result.frame
    if args.plot:
        from geomcheck.plots.rotation import plot_rotation

        draw_plot(payload, "plot", args.plot, lambda: plot_rotation(block, payload, samples, frame, args.plot))
    if args.slice:
        from geomcheck.io.vectors import parse_vector
        from geomcheck.search.slice import slice_map

        w = block.check_direction(parse_vector(args.slice, block, "--slice"), "--slice")
        payload["slice"] = slice_map(block, spec.base, other, w, resolution=args.slice_resolution,
                                     plot=args.slice_plot)
        if args.slice_plot:
            payload["slice_plot"] = args.slice_plot
    emit(args, payload, _human)
    return finish(payload)

