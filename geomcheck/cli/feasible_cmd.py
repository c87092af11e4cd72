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

from geomcheck.cli.common import add_json_flag, add_model_argument, emit


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
    lines = [f"pattern     {pattern} on the {p['on']}: {verdict} [{p['status']}]", f"how         {p['how']}",
             f"checker     {p['checker']}"]
    if p.get("domain"):
        lines.append(f"domain      {p['domain']}")
    if p.get("witness_tanh"):
        lines.append(f"witness     tanh(alpha·x) = ({', '.join(p['witness_tanh'])})")
    if p.get("witness"):
        lines.append(f"witness     ({', '.join(p['witness'])})")
    if p.get("witness_direction"):
        lines.append(f"direction   y = ({', '.join(p['witness_direction'])}), the point is sqrt(d)·y/‖y‖")
    if p.get("multipliers"):
        lines.append("multipliers " + ", ".join(f"y{k} = {v}" for k, v in p["multipliers"].items()))
    return "\n".join(lines)


def run(args) -> int:
    from geomcheck.api.sphere import feasible
    from geomcheck.io.resolve import load_model

    result = feasible(load_model(args.model), args.pattern, args.on)
    payload = result.to_json()
    if args.certificate:
        payload["certificate"] = result.write_certificate(args.certificate)
    emit(args, payload, _human)
    return 0
