"""``geomcheck prove [PATH…] [--out DIR] [--json]``: establish the bundled claims.

Each claim is re-run from scratch: the exact engine computes the answer and a
certificate, the trusted checker re-verifies the certificate in the same run
(:func:`geomcheck.verdicts.gate`), and the result is compared with what the
claim file says must come out. A claim whose ``expect`` is empty compares
nothing: it is refused (one line, exit 2) before anything runs. Exit status 0 only
when every claim holds (claims marked *pending*, whose runner another part of
geomcheck has not registered yet, are listed but do not count).
"""

from __future__ import annotations

from geomcheck.cli.common import add_json_flag, emit


def register(subparsers) -> None:
    parser = subparsers.add_parser("prove", help="re-run and check the claims in proofs/ (default: the bundled ones)")
    parser.add_argument("paths", metavar="PATH", nargs="*", help="claim files or folders (default: the bundled proofs)")
    parser.add_argument("--out", metavar="DIR", default=None, help="write every checked certificate to DIR")
    add_json_flag(parser)
    parser.set_defaults(run=run)


def _table(payload: dict) -> str:
    rows = [("claim", "status", "holds", "verdict")]
    for c in payload["claims"]:
        holds = "yes" if c["holds"] else ("—" if c["status"] in ("pending", "skipped") else "NO")
        rows.append((c["name"], c["status"] + (" (sympy)" if c["evidence"] == "sympy" else "")
                     + (f" ({c['certificate_kind']}, checked)" if c.get("checked") else ""), holds, c["verdict"]))
    widths = [max(len(r[k]) for r in rows) for k in range(3)]
    lines = ["  ".join(r[k].ljust(widths[k]) for k in range(3)) + "  " + r[3] for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 7)
    for c in payload["claims"]:
        if not c["holds"]:
            lines.append(f"{c['name']}: {c['status']}: {c['detail']}")
    held = sum(c["holds"] for c in payload["claims"])
    pending = sum(c["status"] == "pending" for c in payload["claims"])
    skipped = sum(c["status"] == "skipped" for c in payload["claims"])  # trained-weight claims without their package
    lines.append(f"{held} of {len(payload['claims']) - pending - skipped} claims hold"
                 + (f" ({pending} pending)" if pending else "") + (f" ({skipped} skipped)" if skipped else "")
                 + f"; {payload['certificates']} certificate(s) accepted by the checker"
                 + (f", written to {payload['out']}" if payload.get("out") else ""))
    return "\n".join(lines)


def run(args) -> int:
    from geomcheck.claims import prove

    result = prove(args.paths or None, args.out)
    payload = result.to_json()
    emit(args, payload, _table)
    return 0 if result.all_hold else 1
