"""The verdict gate: the only module that says *proved* or *refuted*.

The trust rule (DESIGN §3): a verdict is *proved* or *refuted* only when a
certificate for it was accepted by the standard-library checker
(:mod:`geomcheck.checker`) **in the same run**. Everything else — a float
estimate, an engine's own opinion, a result kind that has no certificate
kind — is *estimate*. Engines and commands never write those words; they hand
a certificate (or ``None``) to :func:`gate` and report the :class:`Verdict` it
returns. ``tests/test_verdict_gate.py`` walks the source and fails when a
verdict label is produced anywhere but here and in the checker.

Which word an accepted certificate earns is fixed by the caller's
``if_accepted`` (``PROVED`` for "the statement holds", ``REFUTED`` for "a
counterexample to the statement was verified"); a rejected or missing
certificate is ``ESTIMATE`` with the reason kept in ``checker_message``.

Cost: the checker re-derives everything from the model. Callers that check
several certificates about one block pass ``model=`` (the block's exchange
object, or what the checker accepts for a certificate that names its model
by sha256) so the model is read once; see :func:`gate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["PROVED", "REFUTED", "ESTIMATE", "STATUSES", "Verdict", "gate", "estimate", "combine"]

PROVED = "proved"
REFUTED = "refuted"
ESTIMATE = "estimate"
STATUSES = (PROVED, REFUTED, ESTIMATE)


@dataclass(frozen=True)
class Verdict:
    """What backs a reported result.

    ``status`` is one of :data:`STATUSES`; ``checked`` is true only when the
    trusted checker accepted ``certificate_kind`` in this run, and then
    ``checker_message`` is the checker's own ``accepted: …`` line. For an
    estimate, ``checker_message`` says why (no certificate kind, or the
    checker's ``rejected: …`` line).
    """

    status: str
    certificate_kind: str | None = None
    checked: bool = False
    checker_message: str | None = None

    @property
    def decided(self) -> bool:
        return self.status != ESTIMATE

    def to_json(self) -> dict:
        return {"status": self.status, "certificate_kind": self.certificate_kind,
                "checked": self.checked, "checker": self.checker_message}

    def label(self) -> str:
        """Short human tag, e.g. ``proved (checker accepted a path certificate)``."""
        if self.checked:
            return f"{self.status} (checker accepted a {self.certificate_kind} certificate)"
        return f"{self.status}" + (f" ({self.checker_message})" if self.checker_message else "")


def estimate(reason: str | None = None) -> Verdict:
    """An undecided result: no accepted certificate backs it."""
    return Verdict(ESTIMATE, None, False, reason)


def gate(certificate: dict | None, if_accepted: str, *, model: Any = None) -> Verdict:
    """Run the trusted checker on ``certificate`` now; ``if_accepted`` only if it accepts.

    ``if_accepted`` is ``PROVED`` or ``REFUTED`` (what the accepted certificate
    establishes). ``None`` (no certificate kind for this result) and any
    rejection give ``ESTIMATE``. ``model``, when given, is passed to the
    checker for certificates that name their model by sha256 instead of
    embedding it.
    """
    if if_accepted not in (PROVED, REFUTED):
        raise ValueError(f"if_accepted must be {PROVED!r} or {REFUTED!r}, not {if_accepted!r}")
    if certificate is None:
        return estimate("no certificate kind backs this result")
    from geomcheck.checker import check_certificate

    verdict = check_certificate(certificate) if model is None else check_certificate(certificate, model=model)
    if not verdict.accepted:
        return Verdict(ESTIMATE, verdict.kind, False, verdict.message)
    return Verdict(if_accepted, verdict.kind, True, verdict.message)


def combine(verdicts: list[Verdict], if_all: str) -> Verdict:
    """One verdict for a statement backed by several certificates: ``if_all`` only when every one
    of ``verdicts`` was accepted by the checker (each through :func:`gate`), else the first estimate."""
    if if_all not in (PROVED, REFUTED):
        raise ValueError(f"if_all must be {PROVED!r} or {REFUTED!r}, not {if_all!r}")
    if not verdicts:
        return estimate("no certificate backs this result")
    for v in verdicts:
        if not v.checked:
            return v if v.status == ESTIMATE else estimate(v.checker_message)
    kinds = sorted({v.certificate_kind for v in verdicts if v.certificate_kind})
    return Verdict(if_all, ", ".join(kinds), True,
                   f"accepted: all {len(verdicts)} checked result(s) ({', '.join(kinds)})")
