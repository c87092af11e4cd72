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

import json

from geomcheck.cli.common import add_json_flag, emit
from geomcheck.errors import InvalidInput
from geomcheck.exact.rationals import format_rational

KEPT = ("norm removed; kept the folded weights W' = W_in·diag(gamma), b' = W_in·beta + b_in "
        "(not centred); W_out, b_out and the activation unchanged")


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
    p.set_defaults(run=run)


def _fmt(values) -> list[str]:
    return [format_rational(c) for c in values]


def _load(args):
    from geomcheck.io.resolve import load_model
    from geomcheck.search.counterexample import drop_norm

    if args.model is None:
        raise InvalidInput("MODEL: missing (every mode except --search needs a model)")
    block = load_model(args.model)
    return (drop_norm(block) if args.drop_norm else block), block


def _certify(cert: dict, args) -> dict:
    from geomcheck.checker import check_certificate

    verdict = check_certificate(cert)
    if args.certificate:
        with open(args.certificate, "w", encoding="utf-8") as handle:
            json.dump(cert, handle, indent=1)
    return {"accepted": verdict.accepted, "message": verdict.message, "file": args.certificate}


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
    from geomcheck.certify.cone import counterexample_certificate
    from geomcheck.io.vectors import parse_vector
    from geomcheck.search.counterexample import (counterexample_on_ray, find_counterexample, most_crossings,
                                                 polysemantic_fraction, ray_crossings, require_no_norm)

    block, original = _load(args)
    if block.norm.kind == "dyt":
        return _run_dyt(args, block)
    require_no_norm(block)
    payload: dict = {"model": original.name, "d": block.d, "n": block.n,
                     "norm_dropped": args.drop_norm and original.norm.kind != "none"}
    if payload["norm_dropped"]:
        payload["kept"] = KEPT
    if args.direction and args.most_crossings:
        raise InvalidInput("--direction and --most-crossings: choose one")
    found = None
    if args.direction:
        v = block.check_direction(parse_vector(args.direction, block, "--direction"), "--direction")
        found = counterexample_on_ray(block, v)
        payload["searched"] = "the given direction (its crossing list is exact)"
        if found is None:
            crossings = ray_crossings(block, v)
            payload.update(status="proved", direction=_fmt(v), claim="this direction is monosemantic",
                           message=("proved: the ray through this direction keeps one affine map "
                                    f"({len(crossings)} crossing scale(s), none changes the map)"),
                           ray_crossings=[{"t": format_rational(c.t), "neurons": list(c.neurons)} for c in crossings])
    elif args.most_crossings:
        best = most_crossings(block, seed=args.seed)
        payload["most_crossings"] = {
            "direction": _fmt(best["direction"]), "neurons_crossed": best["count"],
            "distinct_scales": best["distinct_scales"], "directions_tried": best["tried"],
            "status": "estimate",
            "note": "the crossing count of this direction is exact; that no direction has more is an estimate "
                    "(small-integer, per-neuron and seeded Gaussian directions were tried, not every cell)",
        }
        found = counterexample_on_ray(block, best["direction"])
        payload["searched"] = "the direction with the most crossings found"
    else:
        found = find_counterexample(block)
        payload["searched"] = "small-integer directions (simplest first), then -sign(b_i)·w_i per neuron"
    if found is not None:
        cert = counterexample_certificate(block, found)
        check = _certify(cert, args)
        payload.update(found.to_json())
        payload["certificate"] = check
        payload["claim"] = "this direction is monosemantic"
        payload["status"] = "refuted" if check["accepted"] else "estimate"
        payload["message"] = (
            f"refuted: along v the maps at t1 = {payload['scales'][0]} and t2 = {payload['scales'][1]} differ "
            f"(neurons {found.neurons} switch)" if check["accepted"] else f"checker rejected the candidate: {check['message']}")
    elif "status" not in payload:
        payload.update(status="estimate", claim="some direction is polysemantic",
                       message="no counterexample among the directions tried (run --cone for a proof either way)")
    if args.fraction is not None:
        frac = polysemantic_fraction(block, args.fraction, args.seed)
        frac["status"] = "estimate"
        frac["wilson95"] = list(frac["wilson95"])
        payload["fraction"] = frac
    emit(args, payload, _human_counterexample)
    return 0


def _human_counterexample(p: dict) -> str:
    lines = [f"model       {p['model']}  (d = {p['d']}, n = {p['n']})"]
    if p.get("kept"):
        lines.append(f"drop-norm   {p['kept']}")
    if "most_crossings" in p:
        m = p["most_crossings"]
        lines.append(f"most        ({', '.join(m['direction'])}) crosses {m['neurons_crossed']} neuron(s) at "
                     f"{m['distinct_scales']} scale(s) [{m['status']}: best of {m['directions_tried']} tried]")
    if "scales" in p:
        lines += [
            f"direction   ({', '.join(p['direction'])})",
            f"t1 = {p['scales'][0]:<8} pattern {p['patterns'][0]}",
            f"t2 = {p['scales'][1]:<8} pattern {p['patterns'][1]}",
            f"flip        neurons {', '.join(map(str, p['neurons']))} (crossing at t = {p['crossing_between']})",
            f"checker     {p['certificate']['message']}",
        ]
    lines.append(f"{p['status']:<11} {p['message']}")
    if "fraction" in p:
        f = p["fraction"]
        lo, hi = f["wilson95"]
        lines.append(f"fraction    {f['not_constant']}/{f['directions']} random directions are not region-constant "
                     f"({f['fraction']:.3f}, 95% [{lo:.3f}, {hi:.3f}], seed {f['seed']}) [estimate]")
    return "\n".join(lines)


# DyT ------------------------------------------------------------------------------

def _run_dyt(args, block) -> int:
    from geomcheck.io.vectors import parse_vector
    from geomcheck.search.dyt import METHOD, analyse_dyt_ray, find_dyt_counterexample

    if args.most_crossings or args.fraction is not None:
        raise InvalidInput("--most-crossings/--fraction: not available for DyT (use --direction or --contrast)")
    if args.direction:
        ray = analyse_dyt_ray(block, block.check_direction(parse_vector(args.direction, block, "--direction"), "--direction"))
    else:
        ray = find_dyt_counterexample(block)
    payload = {"model": block.name, "d": block.d, "n": block.n, "norm": block.norm.describe(), "method": METHOD}
    if ray is None:
        payload.update(status="estimate", claim="some direction is polysemantic",
                       message="no certified counterexample among the small-integer directions tried")
    else:
        payload.update(ray.to_json())
        payload["claim"] = "this direction is monosemantic"
        if ray.counterexample is not None:
            from geomcheck.certify.dyt import dyt_counterexample_certificate

            check = _certify(dyt_counterexample_certificate(block, ray.direction, ray.counterexample), args)
            payload["certificate"] = check
            # refuted only when the stdlib checker re-derives both patterns with its own tanh enclosures
            payload["status"] = "refuted" if check["accepted"] else "estimate"
            payload["message"] = (f"{'refuted' if check['accepted'] else 'estimate'}, {METHOD}: the certified patterns at "
                                  f"t1 = {payload['scales'][0]} and t2 = {payload['scales'][1]} differ and give different "
                                  f"affine maps of tanh(alpha·x); checker {check['message']}")
        else:
            payload["status"] = "estimate"
            payload["message"] = ("no map change found on this ray" + (
                f" (crossing list complete, {METHOD})" if ray.complete else " (crossing list incomplete)"))
    emit(args, payload, _human_dyt)
    return 0


def _human_dyt(p: dict) -> str:
    lines = [f"model       {p['model']}  (d = {p['d']}, n = {p['n']}, {p['norm']})"]
    if "direction" in p:
        lines.append(f"direction   ({', '.join(p['direction'])})   crossings isolated on (0, {p['horizon']}], tail certified"
                     if not p["tail_uncertified"] else f"direction   ({', '.join(p['direction'])})   tail NOT certified for {p['tail_uncertified']}")
        for c in p["crossings"]:
            lines.append(f"crossing    neuron {c['neuron']}: exactly one zero in [{c['interval'][0]}, {c['interval'][1]}]")
        for c in p["undecided"]:
            lines.append(f"undecided   neuron {c['neuron']} on [{c['interval'][0]}, {c['interval'][1]}]")
        for s in p["segments"]:
            lines.append(f"segment     t = {s['witness']:<8} pattern {s['pattern'] or '(uncertified)'}")
    lines.append(f"{p['status']:<11} {p['message']}")
    return "\n".join(lines)


# --cone -------------------------------------------------------------------------

def _run_cone(args) -> int:
    from geomcheck.certify.cone import cone_certificate
    from geomcheck.search.cone import monosemantic_cone

    block, original = _load(args)
    result = monosemantic_cone(block)
    cert = cone_certificate(block, result)
    check = _certify(cert, args)
    status = "proved" if check["accepted"] else "estimate"
    payload = {
        "model": original.name, "d": block.d, "n": block.n,
        "norm_dropped": args.drop_norm and original.norm.kind != "none",
        "constraining_neurons": sorted(result.rows),
        "verdict": result.verdict, "dimension": result.dimension, "lineality_dimension": result.lineality,
        "equalities": list(result.equalities), "y": _fmt(result.y),
        "direction": _fmt(result.direction) if result.direction is not None else None,
        "every_direction_changes_map": bool(cert["claim"].get("every_direction_changes_map")),
        "status": status, "certificate": check,
    }
    if payload["norm_dropped"]:
        payload["kept"] = KEPT
    if result.verdict == "zero":
        payload["claim"] = "every nonzero direction is polysemantic"
        payload["message"] = ("the monosemantic cone is {0}: every direction's ray changes sign pattern"
                              + (" and affine map" if payload["every_direction_changes_map"] else "")
                              + f" (certificate: y > 0 with Σ y_i b_i w_i = 0, rank {block.d})")
    else:
        payload["claim"] = "the monosemantic cone contains a nonzero direction"
        payload["message"] = (f"the monosemantic cone has dimension {result.dimension}; "
                              f"({', '.join(payload['direction'])}) is in its relative interior")
    if not check["accepted"]:
        payload["message"] = f"checker rejected the candidate: {check['message']}"
    emit(args, payload, _human_cone)
    return 0


def _short(label: str, values) -> str:
    """Long lists are summarised in the table (--json has them in full)."""
    if isinstance(values, str):
        return f"{label:<11} {values}"
    text = ", ".join(map(str, values))
    if len(text) > 120:
        text = f"{len(values)} entries, see --json"
    return f"{label:<11} {text}"


def _human_cone(p: dict) -> str:
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
        lines.append(f"interior    ({', '.join(p['direction'])})")
    lines += [f"checker     {p['certificate']['message']}", f"{p['status']:<11} {p['message']}"]
    return "\n".join(lines)


# --contrast ------------------------------------------------------------------------

def _run_contrast(args) -> int:
    from geomcheck.io.resolve import load_model
    from geomcheck.io.vectors import parse_vector
    from geomcheck.search.counterexample import contrast, random_directions

    if args.model is None:
        raise InvalidInput("MODEL: missing")
    block = load_model(args.model)
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
    result = contrast(block, directions)
    payload = {
        "model": block.name, "norm": block.norm.kind, "eps": format_rational(block.norm.eps),
        "directions": result["directions"], "skipped": result["skipped"], "source": source,
        "constant_with_norm": result["constant_with_norm"],
        "constant_without_norm": result["constant_without_norm"],
        "undecided_with_norm": result["undecided_with_norm"],
        "kept": KEPT,
        "status": "proved",
        "message": "each direction decided exactly (with the norm: the ray polynomial "
                   "(d·A² − b'²‖u‖²)·t² − b'²·d·ε per neuron; without: t = −b_i/(w_i·v)); "
                   "the counts are exact for these directions, as a share of all directions an estimate",
    }
    if block.norm.kind == "dyt":
        from geomcheck.search.dyt import METHOD

        payload.pop("eps")
        payload.update(alpha=format_rational(block.norm.alpha), method=METHOD, status="estimate",
                       message=f"with DyT: a non-constant ray has a certified sign change ({METHOD}); a constant one "
                               "has a complete certified crossing list; 'undecided' rays had neither. "
                               "Without the norm: exact. As a share of all directions: an estimate")
    emit(args, payload, lambda p: "\n".join([
        f"model       {p['model']}  ({p['norm']}, " + (f"eps = {p['eps']})" if "eps" in p else f"alpha = {p['alpha']})"),
        f"directions  {p['directions']} ({p['source']})" + (f", {p['skipped']} skipped (constant)" if p["skipped"] else ""),
        f"with norm   {p['constant_with_norm']}/{p['directions']} rays region-constant"
        + (f" ({p['undecided_with_norm']} undecided)" if p["undecided_with_norm"] else ""),
        f"norm dropped {p['constant_without_norm']}/{p['directions']} rays region-constant",
        f"{p['status']:<11} {p['message']}",
    ]))
    return 0


# --search --------------------------------------------------------------------------

def _run_search(args) -> int:
    from geomcheck.io.modelfile import block_to_dict
    from geomcheck.search.minimal import layernorm_falsification, minimal_counterexample

    if args.model is not None:
        raise InvalidInput("--search takes no MODEL: it searches small integer blocks")
    if not 1 <= args.max_d <= 6:
        raise InvalidInput("--max-d: must be between 1 and 6")
    if args.examples is not None and args.examples < 1:
        raise InvalidInput("--examples: must be ≥ 1")
    if args.norm == "none":
        k = args.examples or 500
        r = minimal_counterexample(args.max_d, k)
        payload = {"norm": "none", "max_d": args.max_d, "examples": r["examples"], "seconds": round(r["seconds"], 3)}
        if r["found"]:
            from geomcheck.certify.cone import counterexample_certificate

            check = _certify(counterexample_certificate(r["block"], r["counterexample"]), args)
            payload.update(found=True, model=block_to_dict(r["block"]), counterexample=r["counterexample"].to_json(),
                           certificate=check, status="refuted" if check["accepted"] else "estimate",
                           message="hypothesis found and shrank a block with an exact, checker-accepted counterexample; "
                                   "minimality is the shrinker's (a hand proof covers n = d = 1)")
        else:
            payload.update(found=False, status="estimate", message=f"no counterexample found in {r['examples']} examples")
    else:
        k = args.examples or 2000
        r = layernorm_falsification(max(args.max_d, 2), k)
        payload = {"norm": "layernorm", "eps": "0", "max_d": max(args.max_d, 2), "examples": r["examples"],
                   "seconds": round(r["seconds"], 3), "found": r["found"]}
        if r["found"]:
            block, v, t1, t2 = r["case"]
            payload.update(status="refuted", model=block_to_dict(block), direction=_fmt(v), scales=_fmt((t1, t2)),
                           message="FOUND a LayerNorm block whose ray changes pattern — this contradicts the theory")
        else:
            payload.update(status="estimate",
                           message=f"no counterexample found in {r['examples']} examples (a search, not a proof; "
                                   "the proof is symbolic: with eps = 0 each ray polynomial is c·t²)")
    emit(args, payload, _human_search)
    return 0


def _human_search(p: dict) -> str:
    lines = [f"search      norm {p['norm']}, d ≤ {p['max_d']}: {p['examples']} examples in {p['seconds']} s"]
    if p.get("found") and p["norm"] == "none":
        ce = p["counterexample"]
        from geomcheck.io.modelfile import block_from_dict, dump_model

        lines += ["model (geomcheck.mlp/1):", dump_model(block_from_dict(p["model"])),
                  f"direction   ({', '.join(ce['direction'])}), t1 = {ce['scales'][0]}, t2 = {ce['scales'][1]}, "
                  f"patterns {ce['patterns'][0]} → {ce['patterns'][1]}",
                  f"checker     {p['certificate']['message']}"]
    lines.append(f"{p['status']:<11} {p['message']}")
    return "\n".join(lines)
