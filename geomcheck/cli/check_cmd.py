"""``geomcheck check CERT… [--model MODEL] [--json]``: run the trusted checker.

Exit status 0 only when every certificate is accepted, 1 when one is rejected.
Works where numpy, scipy, sympy, cvxpy and torch cannot be imported: this
module and the checker import only the standard library (and ``--model``
resolves toy and .json models without them).
"""

from __future__ import annotations

from geomcheck.cli.common import add_json_flag, emit


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "check", help="re-verify certificates with the standard-library checker (exit 0 only if all are accepted)")
    parser.add_argument("certificates", metavar="CERT", nargs="+", help="a certificate JSON file")
    parser.add_argument("--model", metavar="MODEL", default=None,
                        help="also require the certificate to be about this model (compared by sha256)")
    add_json_flag(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from geomcheck.checker import check_file

    expected = None
    if args.model is not None:
        from geomcheck.io import load_model, model_sha256

        expected = model_sha256(load_model(args.model))
    results = []
    for path in args.certificates:
        verdict = check_file(path, expected)
        results.append({"certificate": path, "accepted": verdict.accepted, "kind": verdict.kind,
                        "message": verdict.message})
    payload = {"accepted": all(r["accepted"] for r in results), "results": results}
    if expected is not None:
        payload["model_sha256"] = expected

    def human(p):
        if len(p["results"]) == 1:
            return p["results"][0]["message"]
        return "\n".join(f"{r['certificate']}: {r['message']}" for r in p["results"])

    emit(args, payload, human)
    return 0 if payload["accepted"] else 1
