"""``geomcheck feasible MODEL --pattern P [--on space|sphere|auto] [--json] [--certificate FILE]``.

Is the sign pattern P (one of ``+ - *`` per neuron, ``*`` = either) realised
by some input? ``--on space``: in the whole space the MLP reads (ℝᵈ without
normalization; the normalized space 1⊥ or ℝᵈ with one); ``--on sphere``: on the
ε = 0 normalization sphere; ``auto`` (default) picks the sphere when the model
has a normalization. Feasible answers carry an exact witness, infeasible ones a
Farkas or ball certificate; the checker re-verifies either in the same run
(:func:`geomcheck.api.sphere.feasible`). For DyT the space is the image of
tanh, the open box (−1, 1)ᵈ: decided there, and labelled estimate.
"""

from __future__ import annotations

from geomcheck.results import checker_line
from geomcheck.cli.common import Stages, add_json_flag, add_model_argument, add_progress_flag, emit
from geomcheck.cli.display import number, vector_text
from geomcheck.cli.display import pattern as short_pattern


def register(subparsers) -> None:
    p = subparsers.add_parser("feasible", help="is a sign pattern realised (in space or on the sphere)?")
    add_model_argument(p)
    p.add_argument("--pattern", required=True, help="one of + - * per neuron, e.g. '+-*+'")
    p.add_argument("--on", choices=("space", "sphere", "auto"), default="auto")
    p.add_argument("--certificate", metavar="FILE", help="write the certificate (kind sphere-feasible / sphere-infeasible)")
    add_json_flag(p)
    add_progress_flag(p)
    p.set_defaults(run=run)


def _human(p: dict) -> str:
    verdict = {True: "feasible", False: "infeasible", None: "undecided"}[p["feasible"]]
    pattern = short_pattern(p["pattern"])
    lines = [f"pattern     {pattern} on the {p['on']}: {verdict} [{p['status']}]", f"how         {p['how']}",
             f"checker     {checker_line(p)}"]
    if p.get("domain"):
        lines.append(f"domain      {p['domain']}")
    if p.get("witness_tanh"):
        lines.append(f"witness     tanh(alpha·x) = {vector_text(p['witness_tanh'])}")
    if p.get("witness"):
        lines.append(f"witness     {vector_text(p['witness'])}")
    if p.get("witness_direction"):
        lines.append(f"direction   y = {vector_text(p['witness_direction'])}, the point is sqrt(d)·y/‖y‖")
    if p.get("multipliers"):
        items = list(p["multipliers"].items())
        lines.append("multipliers " + ", ".join(f"y{k} = {number(v)}" for k, v in items[:12])
                     + (f", … {len(items)} in all (--json)" if len(items) > 12 else ""))
    return "\n".join(lines)


def run(args) -> int:
    from geomcheck.api.sphere import feasible
    from geomcheck.io.resolve import load_model

    with Stages(args, "load model", "feasibility + checker") as stages:
        block = load_model(args.model)
        stages.next()
        result = feasible(block, args.pattern, args.on)
        stages.next()
    payload = result.to_json()
    if args.certificate:
        payload["certificate"] = result.write_certificate(args.certificate)
    emit(args, payload, _human)
    return 0
