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

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from geomcheck.results import ResultDisplay, smooth_note, verdict_keys
from geomcheck.verdicts import PROVED, REFUTED, Verdict, gate

__all__ = ["PathResult", "analyse", "certify", "sqrt_digits"]


def sqrt_digits(x: Fraction, digits: int = 17) -> str:
    """√x (x ≥ 0 rational) as the correct rounding to at most ``digits`` significant digits,
    from an integer-sqrt enclosure (no float: no rounding error, no overflow)."""
    from geomcheck.api.sphere import correct_digits

    if x == 0:
        return "0"
    bits = 4 * digits + 8
    while True:
        # scale so that the integer square root has about ``bits`` bits
        k = max(0, bits - (x.numerator.bit_length() - x.denominator.bit_length()) // 2)
        scaled_lo = (x.numerator << (2 * k)) // x.denominator
        r = math.isqrt(scaled_lo)
        lo, hi = Fraction(r, 1 << k), Fraction(r + 1, 1 << k)
        text = correct_digits(lo, hi, digits)
        if text is not None and len(text.split("e")[0].replace("-", "").replace(".", "").lstrip("0")) >= min(digits, 15):
            return text
        if bits > 64 * digits:
            return text if text is not None else f"in [{lo}, {hi}]"
        bits *= 2



@dataclass(repr=False)
class PathResult(ResultDisplay):
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
        # √ of an exact r² as correct digits only (the engine's float sqrt may be off in the last
        # digits, and overflows beyond 1e308)
        for entry in out.get("critical_norms", []):
            entry["norm"] = sqrt_digits(Fraction(entry["squared_norm"]), digits)
        if out.get("constant_above") is not None:
            out["constant_above_norm"] = sqrt_digits(Fraction(out["constant_above"]), digits)
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
