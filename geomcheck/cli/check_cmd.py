"""``geomcheck check CERT… [--model MODEL] [--json]``: run the trusted checker.

Exit status 0 only when every certificate is accepted, 1 when one is rejected.
``--model`` supplies the block for certificates that name it only by
``model_sha256`` (the checker hashes what it is given and refuses a
mismatch), and requires certificates that embed a model to be about this one.
MODEL is an exchange ``.json`` file (read by the checker's own strict reader
when it is written with exact ``"p/q"`` strings) or any model spec
(``toy:circle3``, ``minilm:3``, a file), converted to the exchange form.
Works where numpy, scipy, sympy, cvxpy and torch cannot be imported, for toy
and ``.json`` models.
"""

from __future__ import annotations

from geomcheck.cli.common import add_json_flag, emit


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "check", help="re-verify certificates with the standard-library checker (exit 0 only if all are accepted)")
    parser.add_argument("certificates", metavar="CERT", nargs="+", help="a certificate JSON file")
    parser.add_argument("--model", metavar="MODEL", default=None,
                        help="the model of certificates that name it by sha256; for the others, require this model")
    add_json_flag(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from geomcheck.api.notebook import exchange_model
    from geomcheck.checker import check_file

    model, digest = exchange_model(args.model) if args.model is not None else (None, None)
    results = []
    for path in args.certificates:
        verdict = check_file(path, model=model)
        results.append({"certificate": path, "accepted": verdict.accepted, "kind": verdict.kind,
                        "message": verdict.message})
    payload = {"accepted": all(r["accepted"] for r in results), "results": results}
    if model is not None:
        payload["model_sha256"] = digest

    def human(p):
        from geomcheck.results import short_patterns  # whole sign patterns: --json has them

        if len(p["results"]) == 1:
            return short_patterns(p["results"][0]["message"])
        return "\n".join(f"{r['certificate']}: {short_patterns(r['message'])}" for r in p["results"])

    emit(args, payload, human)
    return 0 if payload["accepted"] else 1
