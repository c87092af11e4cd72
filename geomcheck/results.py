"""Results as objects: what every command returns before the CLI formats it.

A :class:`Result` holds the command's evidence (a JSON-ready dict whose keys
are the documented ``--json`` keys), the :class:`~geomcheck.verdicts.Verdict`
that :func:`geomcheck.verdicts.gate` gave it, and the certificate that
verdict rests on (``None`` when no certificate kind backs the result: then the
verdict is *estimate*). ``status`` is always the verdict's status: no command
sets it any other way.

``to_json()`` adds the gate's keys to the evidence: ``status``, ``checked``
(true only when the trusted checker accepted the certificate in this run),
``certificate_kind`` and ``checker`` (the checker's own message).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from geomcheck.errors import InvalidInput
from geomcheck.verdicts import Verdict

__all__ = ["Result", "write_certificate", "verdict_keys", "GATE_PATTERNS_NOTE", "smooth_note"]

# One wording for every command (path, counterexample, study) about smooth activations.
GATE_PATTERNS_NOTE = ("a GELU/SiLU block is smooth, so it is not affine on any region: its sign patterns are gate "
                      "patterns (which neurons' pre-activations are positive), and 'map changes' compares the "
                      "ReLU-gate surrogate maps W_out·D_s·[W' | b']")


def smooth_note(block) -> str | None:
    """:data:`GATE_PATTERNS_NOTE` for a block whose activation is not piecewise linear, else None."""
    if hasattr(block, "gate_flips_live"):  # a gated block (geomcheck.model.gated) has its own wording
        from geomcheck.model.gated import GATED_PATTERN_NOTE

        return GATED_PATTERN_NOTE
    return None if block.activation.piecewise_linear else GATE_PATTERNS_NOTE


def verdict_keys(verdict: Verdict) -> dict[str, Any]:
    """The keys a verdict adds to a JSON object (``status``, ``checked``, ``certificate_kind``, ``checker``)."""
    return verdict.to_json()


def write_certificate(path: str, certificate: dict | None, what: str = "--certificate") -> str:
    """Write ``certificate`` (detached: ``geomcheck check FILE`` re-verifies it) and return ``path``."""
    if certificate is None:
        raise InvalidInput(f"{what}: the result is an estimate, so there is no certificate to write")
    try:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(certificate, handle, indent=1)
            handle.write("\n")
    except OSError as exc:
        raise InvalidInput(f"{what}: cannot write {path} ({exc.strerror or exc})") from None
    return path


@dataclass
class Result:
    """One command's answer: evidence, the gated verdict, and the certificate behind it."""

    command: str
    verdict: Verdict
    evidence: dict[str, Any] = field(default_factory=dict)
    certificate: dict | None = field(default=None, repr=False)

    @property
    def status(self) -> str:
        return self.verdict.status

    def write_certificate(self, path: str, what: str = "--certificate") -> str:
        return write_certificate(path, self.certificate, what)

    def to_json(self) -> dict[str, Any]:
        out = dict(self.evidence)
        out.update(verdict_keys(self.verdict))
        return out
