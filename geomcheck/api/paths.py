"""``ray``, ``path`` and ``arc`` as functions: the exact crossing list, certified and gated.

:func:`analyse` runs a path engine (exact or filtered; both return a
:class:`~geomcheck.geometry.paths.PathAnalysis`), builds the ``path``
certificate and runs the trusted checker on it through
:func:`geomcheck.verdicts.gate`. A region-constant path whose certificate the
checker accepts is *proved* constant; a path with crossings whose certificate
it accepts *refutes* region-constancy; a rejected certificate (an engine bug)
leaves the engine's answer an *estimate*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from geomcheck.results import smooth_note, verdict_keys
from geomcheck.verdicts import PROVED, REFUTED, Verdict, gate

__all__ = ["PathResult", "analyse", "certify"]



@dataclass
class PathResult:
    """A path analysis with its gated verdict.

    ``analysis`` is the engine's :class:`PathAnalysis`; ``certificate`` the
    ``path`` certificate built from it; ``verdict`` what the checker made of it.
    """

    analysis: Any
    verdict: Verdict
    certificate: dict = field(repr=False)
    engine: str = "filtered"

    @property
    def status(self) -> str:
        return self.verdict.status

    @property
    def evidence(self) -> dict:
        return self.to_json()

    def to_json(self, digits: int = 17) -> dict:
        out = self.analysis.to_json(digits)
        out.update(verdict_keys(self.verdict))
        out["engine"] = self.engine
        out["gate_patterns"] = not self.analysis.piecewise_linear
        note = smooth_note(self.analysis.block)
        if note is not None:
            out["gate_patterns_note"] = note
        return out


def analyse(block, spec, engine: str = "filtered", *, model: Any = None) -> PathResult:
    """Analyse ``spec`` on ``block`` with ``engine`` (``"filtered"`` or ``"exact"``) and gate the answer."""
    analysis, certificate = certify(block, spec, engine)
    verdict = gate(certificate, REFUTED if analysis.crossings else PROVED, model=model)
    return PathResult(analysis, verdict, certificate, engine)


def certify(block, spec, engine: str = "filtered"):
    """``(analysis, path certificate)`` without a verdict: for callers whose statement is not
    "the path is region-constant" (they gate the certificate themselves)."""
    from geomcheck.certify.path import path_certificate

    if engine == "exact":
        from geomcheck.geometry.paths import analyse_path

        analysis = analyse_path(block, spec)
    else:
        from geomcheck.search.paths import analyse_path_fast

        analysis = analyse_path_fast(block, spec)
    return analysis, path_certificate(block, analysis)
