"""``geomcheck counterexample`` — polysemantic directions without normalization.

Modes (one at a time):

* default: a direction v and scales 0 < t₁ < t₂ with different affine maps
  (exact, checker-verified); ``--direction V`` to test a given direction,
  ``--most-crossings`` for the direction with the most crossings found,
  ``--fraction N`` adds an estimate of the share of N random directions whose
  rays are not region-constant.
* ``--cone``: the monosemantic cone {v : b_i·(w_i·v) ≥ 0 ∀i}, proved.
* ``--contrast``: region-constant directions with the norm and without it.
* ``--search``: minimal integer blocks by hypothesis search and shrinking.

``--drop-norm`` removes the normalization and keeps the folded weights
``W' = W_in·diag(γ)``, ``b' = W_in·β + b_in`` (not centred).
"""

from __future__ import annotations

from geomcheck.cli.common import Stages, add_json_flag, add_output_flags, emit
from geomcheck.cli.display import neuron_list, pattern, vector_text
from geomcheck.errors import InvalidInput
from geomcheck.results import checker_line, status_line


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "counterexample",
        help="exact polysemantic directions without normalization; the monosemantic cone; minimal models",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("model", metavar="MODEL", nargs="?",
                   help="toy:circle3-noln, a .json exchange file or a .npz file (not needed with --search)")
    p.add_argument("--drop-norm", action="store_true", help="remove the normalization, keep the folded weights (not centred)")
    p.add_argument("--direction", metavar="V", help="test this direction (1,-2,3/4, e:K, neuron:K, @file.npy)")
    p.add_argument("--most-crossings", action="store_true", help="use the direction with the most crossings found (estimate)")
    p.add_argument("--fraction", type=int, metavar="N", help="estimate the share of N random directions that are not region-constant")
    p.add_argument("--seed", type=int, default=0, help="seed for random directions (default 0)")
    p.add_argument("--cone", action="store_true", help="decide the monosemantic cone, with a certificate")
    p.add_argument("--contrast", action="store_true", help="region-constant directions with and without the norm")
    p.add_argument("--directions", type=int, default=200, metavar="N", help="random directions for --contrast (default 200)")
    p.add_argument("--search", action="store_true", help="hypothesis search + shrinking for a minimal counterexample block")
    p.add_argument("--norm", choices=("none", "layernorm"), default="none", help="normalization for --search")
    p.add_argument("--max-d", type=int, default=3, metavar="D", help="largest d for --search (default 3)")
    p.add_argument("--examples", type=int, default=None, metavar="K", help="examples for --search (default 500 / 2000)")
    p.add_argument("--certificate", metavar="FILE", help="write the certificate (JSON) to FILE")
    add_json_flag(p)
    add_output_flags(p)
    p.set_defaults(run=run)


def _load(args):
    from geomcheck.io.resolve import load_model
    from geomcheck.search.counterexample import drop_norm

    if args.model is None:
        raise InvalidInput("MODEL: missing (every mode except --search needs a model)")
    block = load_model(args.model)
    from geomcheck.model.gated import refuse_gated

    refuse_gated(block, "counterexample", "its searches and certificates are about affine maps, which a gated "
                 "block does not have; use `geomcheck ray` (checker-backed gate pattern along a ray)")
    return (drop_norm(block) if args.drop_norm else block), block


def _emit(args, result, human) -> int:
    """Write the certificate behind ``result`` when asked, then print it."""
    payload = result.to_json()
    if args.certificate:
        written = result.write_certificate(args.certificate)
        if isinstance(payload.get("certificate"), dict):
            payload["certificate"]["file"] = written
        else:
            payload["certificate_file"] = written
    emit(args, payload, lambda p: human(p, getattr(args, "exact", False)))
    return 0


def run(args) -> int:
    modes = [m for m in ("cone", "contrast", "search") if getattr(args, m)]
    if len(modes) > 1:
        raise InvalidInput(f"--{modes[0]} and --{modes[1]}: choose one mode")
    if args.search:
        return _run_search(args)
    if args.contrast:
        return _run_contrast(args)
    if args.cone:
        return _run_cone(args)
    return _run_counterexample(args)


# default mode ----------------------------------------------------------------

def _run_counterexample(args) -> int:
    with Stages(args, "load model", "search + checker") as stages:
        block, original = _load(args)
        stages.next()
        if block.norm.kind == "dyt":
            return _run_dyt(args, block)
        return _counterexample_on(args, block, original, stages)


def _counterexample_on(args, block, original, stages) -> int:
    from geomcheck.api.counterexample import counterexample
    from geomcheck.io.vectors import parse_vector

    if args.direction and args.most_crossings:
        raise InvalidInput("--direction and --most-crossings: choose one")
    direction = None
    if args.direction:
        direction = block.check_direction(parse_vector(args.direction, block, "--direction"), "--direction")
    result = counterexample(block, original, direction=direction, most_crossings=args.most_crossings,
                            fraction=args.fraction, seed=args.seed, drop_norm=args.drop_norm)
    stages.next()
    return _emit(args, result, _human_counterexample)


def _human_counterexample(p: dict, exact: bool = False) -> str:
    lines = [f"model       {p['model']}  (d = {p['d']}, n = {p['n']})"]
    if p.get("kept"):
        lines.append(f"drop-norm   {p['kept']}")
    if p.get("gate_patterns_note"):
        lines.append(f"note        {p['gate_patterns_note']}")
    if "most_crossings" in p:
        m = p["most_crossings"]
        lines.append(f"most        {vector_text(m['direction'], exact)} crosses {m['neurons_crossed']} neuron(s) at "
                     f"{m['distinct_scales']} scale(s) [{m['status']}: best of {m['directions_tried']} tried]")
    if "scales" in p:
        lines += [
            f"direction   {vector_text(p['direction'], exact)}",
            f"t1 = {p['scales'][0]:<8} pattern {pattern(p['patterns'][0])}",
            f"t2 = {p['scales'][1]:<8} pattern {pattern(p['patterns'][1])}",
            f"flip        neurons {neuron_list(p['neurons'])} (crossing at t = {p['crossing_between']})",
            f"checker     {checker_line(p)}",
        ]
    if "scales" not in p:
        lines.append(f"checker     {checker_line(p)}")
    lines.append(status_line(p))
    if "fraction" in p:
        f = p["fraction"]
        lo, hi = f["wilson95"]
        lines.append(f"fraction    {f['not_constant']}/{f['directions']} random directions are not region-constant "
                     f"({f['fraction']:.3f}, 95% [{lo:.3f}, {hi:.3f}], seed {f['seed']}) [estimate]")
    return "\n".join(lines)


# DyT ------------------------------------------------------------------------------

def _run_dyt(args, block) -> int:
    from geomcheck.api.counterexample import dyt_counterexample
    from geomcheck.io.vectors import parse_vector

    if args.most_crossings or args.fraction is not None:
        raise InvalidInput("--most-crossings/--fraction: not available for DyT (use --direction or --contrast)")
    direction = None
    if args.direction:
        direction = block.check_direction(parse_vector(args.direction, block, "--direction"), "--direction")
    return _emit(args, dyt_counterexample(block, direction), _human_dyt)


def _human_dyt(p: dict, exact: bool = False) -> str:
    lines = [f"model       {p['model']}  (d = {p['d']}, n = {p['n']}, {p['norm']})"]
    if "direction" in p:
        lines.append(f"direction   {vector_text(p['direction'], exact)}   crossings isolated on (0, {p['horizon']}], tail certified"
                     if not p["tail_uncertified"] else f"direction   {vector_text(p['direction'], exact)}   tail NOT certified for {p['tail_uncertified']}")
        for c in p["crossings"]:
            lines.append(f"crossing    neuron {c['neuron']}: exactly one zero in [{c['interval'][0]}, {c['interval'][1]}]")
        for c in p["undecided"]:
            lines.append(f"undecided   neuron {c['neuron']} on [{c['interval'][0]}, {c['interval'][1]}]")
        for s in p["segments"]:
            lines.append(f"segment     t = {s['witness']:<8} pattern {s['pattern'] or '(uncertified)'}")
    lines.append(f"checker     {checker_line(p)}")
    lines.append(status_line(p))
    return "\n".join(lines)


# --cone -------------------------------------------------------------------------

def _run_cone(args) -> int:
    from geomcheck.api.counterexample import cone

    block, original = _load(args)
    return _emit(args, cone(block, original, args.drop_norm), _human_cone)


def _short(label: str, values) -> str:
    """Long lists are summarised in the table (--json has them in full)."""
    if isinstance(values, str):
        return f"{label:<11} {values}"
    text = ", ".join(map(str, values))
    if len(text) > 120:
        text = f"{len(values)} entries, see --json"
    return f"{label:<11} {text}"


def _human_cone(p: dict, exact: bool = False) -> str:
    lines = [f"model       {p['model']}  (d = {p['d']}, n = {p['n']}, {len(p['constraining_neurons'])} neurons with b ≠ 0)"]
    if p.get("kept"):
        lines.append(f"drop-norm   {p['kept']}")
    lines += [
        f"cone        {{v : b_i·(w_i·v) ≥ 0}}: dimension {p['dimension']} (lineality {p['lineality_dimension']})",
        _short("equalities", p["equalities"] or "none"),
    ]
    if p["y"]:
        lines.append(_short("y", p["y"]))
    if p["direction"]:
        lines.append(f"interior    {vector_text(p['direction'], exact)}")
    lines += [f"checker     {checker_line(p)}", status_line(p)]
    return "\n".join(lines)


# --contrast ------------------------------------------------------------------------

def _run_contrast(args) -> int:
    from geomcheck.api.counterexample import contrast
    from geomcheck.io.resolve import load_model
    from geomcheck.io.vectors import parse_vector
    from geomcheck.search.counterexample import random_directions

    if args.model is None:
        raise InvalidInput("MODEL: missing")
    block = load_model(args.model)
    from geomcheck.model.gated import refuse_gated

    refuse_gated(block, "counterexample", "its searches and certificates are about affine maps, which a gated "
                 "block does not have; use `geomcheck ray` (checker-backed gate pattern along a ray)")
    if args.directions < 1:
        raise InvalidInput("--directions: must be ≥ 1")
    if block.norm.kind == "dyt" and args.directions > 50 and not args.direction:
        args.directions = 50   # each DyT ray costs a certified root isolation
    if args.direction:
        directions = [parse_vector(args.direction, block, "--direction")]
        source = "the given direction"
    else:
        directions = random_directions(block.d, args.directions, args.seed)
        source = f"{args.directions} seeded Gaussian directions (seed {args.seed}), each read exactly"
    payload = contrast(block, directions, source).to_json()
    emit(args, payload, lambda p: "\n".join([
        f"model       {p['model']}  ({p['norm']}, " + (f"eps = {p['eps']})" if "eps" in p else f"alpha = {p['alpha']})"),
        f"directions  {p['directions']} ({p['source']})" + (f", {p['skipped']} skipped (constant)" if p["skipped"] else ""),
        f"with norm   {p['constant_with_norm']}/{p['directions']} rays region-constant"
        + (f" ({p['undecided_with_norm']} undecided)" if p["undecided_with_norm"] else ""),
        f"norm dropped {p['constant_without_norm']}/{p['directions']} rays region-constant",
        f"checker     {checker_line(p)}",
        status_line(p),
    ]))
    return 0


# --search --------------------------------------------------------------------------

def _run_search(args) -> int:
    from geomcheck.api.counterexample import search_minimal

    if args.model is not None:
        raise InvalidInput("--search takes no MODEL: it searches small integer blocks")
    if not 1 <= args.max_d <= 6:
        raise InvalidInput("--max-d: must be between 1 and 6")
    if args.examples is not None and args.examples < 1:
        raise InvalidInput("--examples: must be ≥ 1")
    return _emit(args, search_minimal(args.norm, args.max_d, args.examples), _human_search)


def _human_search(p: dict, exact: bool = False) -> str:
    lines = [f"search      norm {p['norm']}, d ≤ {p['max_d']}: {p['examples']} examples in {p['seconds']} s"]
    if p.get("found") and p["norm"] == "none":
        ce = p["counterexample"]
        from geomcheck.io.modelfile import block_from_dict, dump_model

        lines += ["model (geomcheck.mlp/1):", dump_model(block_from_dict(p["model"])),
                  f"direction   ({', '.join(ce['direction'])}), t1 = {ce['scales'][0]}, t2 = {ce['scales'][1]}, "
                  f"patterns {ce['patterns'][0]} → {ce['patterns'][1]}",
                  f"checker     {checker_line(p)}"]
    lines.append(status_line(p))
    return "\n".join(lines)
