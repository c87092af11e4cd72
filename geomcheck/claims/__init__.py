"""Claims a researcher can read, and the runners that establish them.

A claim file (``geomcheck/proofs/*.json``, bundled with the package; the
repository's top-level ``proofs/`` points there) is::

    {"format": "geomcheck.claims/1",
     "title": "…", "about": "…",
     "claims": [{"name": "group/what", "type": "path", "statement": "in words",
                 "model": "toy:circle3", …type-specific inputs…,
                 "expect": {…what must come out…},
                 "derivation": "the hand derivation, when there is one"}]}

``type`` selects a *runner*: a function registered with ``@runner("TYPE")``
in one of the modules listed in :data:`RUNNER_MODULES`. A runner re-runs the
search for its claim and returns an :class:`Outcome`: the certificates it
produced and every way the result differs from ``expect``. This module then
checks each certificate with the trusted checker (:mod:`geomcheck.checker`);
a claim **holds** only when every certificate is accepted and nothing differs.

To add a claim type (sphere region counts, feasibility, cone certificates,
counterexamples): write ``@runner("sphere-arcs") def run(claim) -> Outcome``
in your module and add the module's name to ``RUNNER_MODULES``. A claim may
carry ``"pending": "why"``; while no runner exists for its type it is listed as
*pending* and does not count as failing (once the runner is registered the
claim runs like any other).

Statuses come from :mod:`geomcheck.verdicts`: *proved* when every
certificate was accepted by the checker in this run (:func:`~geomcheck.verdicts.gate`)
and nothing differs from ``expect``; *refuted* when accepted certificates
show something other than ``expect``; ``error`` when the search failed or a
certificate was rejected (nothing is established); ``pending``. A symbolic
claim (``evidence`` "sympy") holds when every step simplified, but no
checker certificate backs it, so its status is *estimate*. A claim whose
``expect`` is missing or empty compares nothing and is refused when the file
is loaded (every type but ``symbolic``, whose ``proof`` names the derivation).
"""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from geomcheck.errors import GeomcheckError, InvalidInput, MissingDependency
from geomcheck.verdicts import ESTIMATE, PROVED, REFUTED, Verdict, combine, estimate, gate

__all__ = ["Outcome", "ClaimResult", "ProveResult", "prove", "runner", "load_claims", "run_claim", "bundled_claim_files", "RUNNER_MODULES"]

FORMAT = "geomcheck.claims/1"

# one line per module that registers runners
RUNNER_MODULES = (
    "geomcheck.claims.paths",
    "geomcheck.claims.symbolic",
    "geomcheck.claims.counterexample",
    "geomcheck.claims.sphere",
)

PROOFS_DIR = Path(__file__).resolve().parent.parent / "proofs"


@dataclass
class Outcome:
    """What a runner found: a one-line verdict, certificates to check, differences from ``expect``."""

    verdict: str
    certificates: list[dict] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    evidence: str = "checker"   # "checker": certificates; "sympy": a symbolic derivation
    steps: list[str] = field(default_factory=list)  # for symbolic proofs: the verified steps


@dataclass
class ClaimResult:
    name: str
    type: str
    statement: str
    status: str          # a verdicts status (proved | refuted | estimate), or error | pending
    holds: bool
    verdict: str
    evidence: str
    detail: str = ""
    certificates: list[dict] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    source: str = ""
    gate: Verdict | None = None   # what the checker made of the certificates (None: not run)

    def as_dict(self) -> dict[str, Any]:
        g = self.gate
        return {"name": self.name, "type": self.type, "statement": self.statement, "holds": self.holds,
                "status": self.status, "verdict": self.verdict, "evidence": self.evidence, "detail": self.detail,
                "certificates": len(self.certificates), "steps": self.steps, "source": self.source,
                "checked": bool(g and g.checked), "certificate_kind": g.certificate_kind if g else None,
                "checker": g.checker_message if g else None}


_RUNNERS: dict[str, Callable[[dict], Outcome]] = {}


def runner(claim_type: str) -> Callable:
    """Decorator: ``@runner("path")`` on ``run(claim: dict) -> Outcome``."""

    def decorate(fn):
        _RUNNERS[claim_type] = fn
        return fn

    return decorate


def _load_runners() -> None:
    for name in RUNNER_MODULES:
        importlib.import_module(name)


def bundled_claim_files() -> list[Path]:
    return sorted(PROOFS_DIR.glob("*.json"))


def load_claims(paths: list[str | Path] | None = None) -> list[tuple[Path, dict]]:
    """Every claim in the given files/directories (default: the bundled proofs), in file order."""
    files: list[Path] = []
    for entry in paths or [PROOFS_DIR]:
        entry = Path(entry)
        if entry.is_dir():
            files.extend(sorted(entry.glob("*.json")))
        elif entry.is_file():
            files.append(entry)
        else:
            raise InvalidInput(f"claim file not found: {entry}")
    if not files:
        raise InvalidInput(f"no claim files (*.json) in {', '.join(str(p) for p in paths or [PROOFS_DIR])}")
    claims = []
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"{path}: not a readable JSON claim file ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("claims"), list):
            raise InvalidInput(f"{path}: expected {{\"format\": \"{FORMAT}\", \"claims\": [...]}}")
        for k, claim in enumerate(data["claims"]):
            if not isinstance(claim, dict) or not isinstance(claim.get("name"), str) or not isinstance(claim.get("type"), str):
                raise InvalidInput(f"{path}: claims[{k}] needs a string \"name\" and \"type\"")
            require_expectation(claim, path)
            claims.append((path, claim))
    return claims


def require_expectation(claim: dict, source: Any = "") -> None:
    """A claim must say what must come out: an empty ``expect`` would hold whatever its statement says."""
    _load_runners()
    if claim["type"] == "symbolic" or claim["type"] not in _RUNNERS:
        return   # symbolic: "proof" names the derivation; no runner: the claim is pending or an error anyway
    expect = claim.get("expect")
    if not isinstance(expect, dict) or not expect:
        where = f"{source}: " if source else ""
        raise InvalidInput(f"{where}claim {claim['name']!r}: \"expect\" is missing or empty, so there is nothing to "
                           "compare (state what must come out, e.g. {\"verdict\": \"constant\"})")


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "claim"


def run_claim(claim: dict, source: str = "") -> ClaimResult:
    """Run one claim, check its certificates with the trusted checker, decide whether it holds.

    Raises :class:`~geomcheck.errors.InvalidInput` for a claim with nothing to compare.
    """
    require_expectation(claim, source)
    _load_runners()
    name, ctype = claim["name"], claim["type"]
    statement = str(claim.get("statement", ""))
    base = dict(name=name, type=ctype, statement=statement, source=source)
    from geomcheck.claims.requirements import skip_reason  # claims on trained weights: skipped without the package

    reason = skip_reason(claim)
    if reason is not None:
        return ClaimResult(**base, status="skipped", holds=False, verdict="not run", evidence="", detail=reason)
    fn = _RUNNERS.get(ctype)
    if fn is None:
        if "pending" in claim:
            return ClaimResult(**base, status="pending", holds=False, verdict="not run", evidence="",
                               detail=f"no runner for claim type {ctype!r} yet: {claim['pending']}")
        return ClaimResult(**base, status="error", holds=False, verdict="not run", evidence="",
                           detail=f"no runner for claim type {ctype!r} (known: {', '.join(sorted(_RUNNERS))})")
    try:
        outcome = fn(claim)
    except MissingDependency as exc:  # a library the claim's model needs is absent: not failed, not proved
        return ClaimResult(**base, status="skipped", holds=False, verdict="not run", evidence="", detail=str(exc))
    except GeomcheckError as exc:
        return ClaimResult(**base, status="error", holds=False, verdict="not run", evidence="", detail=str(exc))
    except Exception as exc:  # noqa: BLE001 — one broken runner must not hide the other claims' results
        return ClaimResult(**base, status="error", holds=False, verdict="not run", evidence="",
                           detail=f"internal error in the {ctype!r} runner: {type(exc).__name__}: {exc}")
    verdicts = [gate(cert, PROVED) for cert in outcome.certificates]   # the checker, in this run
    rejected = [f"certificate {k}: {v.checker_message}" for k, v in enumerate(verdicts) if not v.checked]
    if rejected:
        return ClaimResult(**base, status="error", holds=False, verdict=outcome.verdict, evidence=outcome.evidence,
                           detail="; ".join(rejected), certificates=outcome.certificates, steps=outcome.steps,
                           gate=estimate("; ".join(rejected)))
    if outcome.evidence == "checker" and not outcome.certificates:
        return ClaimResult(**base, status="error", holds=False, verdict=outcome.verdict, evidence=outcome.evidence,
                           detail="the runner produced no certificate", steps=outcome.steps)
    if outcome.evidence != "checker":
        detail = (f"symbolic derivation ({outcome.evidence}), {len(outcome.steps)} verified step(s); "
                  "not a checker certificate, so its status is an estimate")
        return ClaimResult(**base, status=ESTIMATE, holds=not outcome.mismatches, verdict=outcome.verdict,
                           evidence=outcome.evidence, detail=detail + "".join(f"; {m}" for m in outcome.mismatches),
                           certificates=outcome.certificates, steps=outcome.steps,
                           gate=estimate("no certificate kind for a symbolic derivation"))
    if outcome.mismatches:
        # the certificates are sound (accepted), and they show something other than the claim
        verdict = combine(verdicts, REFUTED)
        return ClaimResult(**base, status=verdict.status, holds=False, verdict=outcome.verdict,
                           evidence=outcome.evidence, detail="; ".join(outcome.mismatches),
                           certificates=outcome.certificates, steps=outcome.steps, gate=verdict)
    verdict = combine(verdicts, PROVED)
    return ClaimResult(**base, status=verdict.status, holds=verdict.checked, verdict=outcome.verdict,
                       evidence=outcome.evidence,
                       detail=f"{len(outcome.certificates)} certificate(s) accepted by the checker",
                       certificates=outcome.certificates, steps=outcome.steps, gate=verdict)


@dataclass
class ProveResult:
    """``geomcheck prove``: every claim's result, and one verdict for the run.

    ``verdict`` is *proved* only when every counted claim is *proved* by checked
    certificates (:func:`geomcheck.verdicts.combine`); ``all_hold`` also counts
    symbolic derivations that hold (their status is *estimate*).
    """

    claims: list[ClaimResult]
    verdict: Verdict
    written: dict[str, list[str]] = field(default_factory=dict)
    out: str | None = None

    @property
    def status(self) -> str:
        return self.verdict.status

    @property
    def counted(self) -> list[ClaimResult]:
        return [c for c in self.claims if c.status not in ("pending", "skipped")]

    @property
    def all_hold(self) -> bool:
        return bool(self.counted) and all(c.holds for c in self.counted)

    @property
    def evidence(self) -> dict[str, Any]:
        return self.to_json()

    def to_json(self) -> dict[str, Any]:
        rows = []
        for c in self.claims:
            row = c.as_dict()
            if c.name in self.written:
                row["certificate_files"] = self.written[c.name]
            rows.append(row)
        return {"claims": rows, "all_hold": self.all_hold,
                "certificates": sum(len(c.certificates) for c in self.claims if c.holds),
                "out": self.out, **self.verdict.to_json()}


def prove(paths: list[str | Path] | None = None, out: str | Path | None = None) -> ProveResult:
    """Run every claim in ``paths`` (default: the bundled proofs); write checked certificates to ``out``."""
    claims = load_claims(paths or None)
    folder = Path(out) if out is not None else None
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidInput(f"--out: cannot create the folder {folder} ({exc.strerror})") from None
    results, written = [], {}
    for source, claim in claims:
        result = run_claim(claim, source=source.name)
        if folder is not None and result.certificates:
            files = []
            for k, cert in enumerate(result.certificates):
                suffix = f"-{k}" if len(result.certificates) > 1 else ""
                target = folder / f"{slug(result.name)}{suffix}.json"
                target.write_text(json.dumps(cert, indent=1) + "\n", encoding="utf-8")
                files.append(str(target))
            written[result.name] = files
        results.append(result)
    counted = [c for c in results if c.status not in ("pending", "skipped")]
    gated = [c.gate for c in counted if c.evidence == "checker" and c.gate is not None]
    verdict = combine(gated, PROVED) if gated and all(c.holds for c in counted) \
        else estimate("not every claim holds with checked certificates")
    return ProveResult(results, verdict, written, str(folder) if folder is not None else None)
