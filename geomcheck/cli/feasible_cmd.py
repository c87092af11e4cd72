"""``geomcheck feasible MODEL --pattern P [--on space|sphere|auto] [--json] [--certificate FILE]``.

Is the sign pattern P (one of ``+ - *`` per neuron, ``*`` = either) realised
by some input? ``--on space``: in the whole space the MLP reads (ℝᵈ without
normalization; the normalized space 1⊥ or ℝᵈ with one); ``--on sphere``: on the
ε = 0 normalization sphere; ``auto`` (default) picks the sphere when the model
has a normalization. Feasible answers carry an exact witness, infeasible ones a
Farkas or ball certificate; both are re-checked exactly.
"""

from __future__ import annotations

import json

from geomcheck.cli.common import add_json_flag, add_model_argument, emit
from geomcheck.exact.rationals import format_rational


def register(subparsers) -> None:
    p = subparsers.add_parser("feasible", help="is a sign pattern realised (in space or on the sphere)?")
    add_model_argument(p)
    p.add_argument("--pattern", required=True, help="one of + - * per neuron, e.g. '+-*+'")
    p.add_argument("--on", choices=("space", "sphere", "auto"), default="auto")
    p.add_argument("--certificate", metavar="FILE", help="write the certificate (kind sphere-feasible / sphere-infeasible)")
    add_json_flag(p)
    p.set_defaults(run=run)


def _human(p: dict) -> str:
    verdict = {True: "feasible", False: "infeasible", None: "undecided"}[p["feasible"]]
    pattern = p["pattern"] if len(p["pattern"]) <= 80 else f"{p['pattern'][:60]}… ({len(p['pattern'])} neurons)"
    lines = [f"pattern     {pattern} on the {p['on']}: {verdict} [{p['status']}]", f"how         {p['how']}"]
    if p.get("witness"):
        lines.append(f"witness     ({', '.join(p['witness'])})")
    if p.get("witness_direction"):
        lines.append(f"direction   y = ({', '.join(p['witness_direction'])}), the point is sqrt(d)·y/‖y‖")
    if p.get("multipliers"):
        lines.append("multipliers " + ", ".join(f"y{k} = {v}" for k, v in p["multipliers"].items()))
    return "\n".join(lines)


def run(args) -> int:
    from geomcheck.errors import InvalidInput
    from geomcheck.geometry.sphere import sphere_of
    from geomcheck.io.resolve import load_model
    from geomcheck.search.sphere import parse_pattern, space_feasibility, sphere_feasibility

    block = load_model(args.model)
    pattern = parse_pattern(args.pattern, block.n)
    on = args.on if args.on != "auto" else ("sphere" if block.norm.scales else "space")
    f = block.folded
    if on == "sphere":
        result = sphere_feasibility(sphere_of(block), pattern)
    else:
        result = space_feasibility(f.weights, f.bias, pattern, f.centers)
    payload = {"model": block.name, "pattern": pattern, "on": on, "feasible": result.feasible,
               "status": result.status, "how": result.how}
    if result.witness is not None:
        payload["witness"] = [format_rational(v) for v in result.witness]
    if result.direction is not None:
        y = result.direction
        k = block.d / sum(v * v for v in y)
        payload["witness_direction"] = [format_rational(v) for v in y]
        # LayerNorm d = 3 has no rational point on its sphere: z_i = y_i·sqrt(K) exactly
        payload["witness"] = [f"{format_rational(v)}*sqrt({format_rational(k)})" for v in y]
        payload["witness_form"] = "z = y*sqrt(K), K = d/|y|^2 (no rational point exists on this sphere)"
    if result.multipliers is not None:
        payload["multipliers"] = {str(i): format_rational(v) for i, v in sorted(result.multipliers.items())}
    if result.inside is not None:
        payload["inside_ball"] = "bounded (multipliers for ±basis directions) with every vertex in the closed ball"
    if args.certificate:
        from geomcheck.certify.sphere import feasibility_certificate

        cert = feasibility_certificate(block, pattern, on, result)
        if cert is None:
            raise InvalidInput("--certificate: the verdict is an estimate, so there is no certificate to write")
        try:
            with open(args.certificate, "w", encoding="utf-8") as handle:
                json.dump(cert, handle, indent=1)
        except OSError as exc:
            raise InvalidInput(f"cannot write {args.certificate}: {exc.strerror}") from None
        payload["certificate"] = args.certificate
    if block.norm.eps > 0 and on == "sphere":
        payload["note"] = ("eps > 0: the normalization's image is the open ball inside the sphere; "
                           "this answer is for the eps = 0 sphere")
    emit(args, payload, _human)
    return 0
