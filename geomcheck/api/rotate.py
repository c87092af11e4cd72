"""``rotate`` as a function: the block output along the rotation of z(X) toward z(D) (or z(Y)).

The gate flips come from :func:`geomcheck.api.paths.analyse` (the one path
engine, its ``path`` certificate and the trusted checker, in this run); the
statement the verdict speaks about is "the path is region-constant (no gate
flip)". The output measures (affine-fit residual, tangent error, speed,
curvature, gate transition widths) are sampled in float64 and are always
*estimate*; for ReLU blocks the kinks' Jacobian jumps are exact
(:mod:`geomcheck.geometry.rotation`). Gated blocks (SwiGLU/GeGLU/ReGLU): the flips
are the gate's (exact, checker-backed), the output is never affine in z (bilinear
on one ReLU gate region), so ``quadratic_fit_residual`` is added beside
``affine_fit_residual``; ReLU-gate kinks carry float64 jump sizes at the exact angles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from geomcheck.results import ResultDisplay
from geomcheck.verdicts import Verdict, estimate

__all__ = ["RotationResult", "rotate", "STATEMENT"]

STATEMENT = "the path is region-constant (no gate flip)"


@dataclass(repr=False)
class RotationResult(ResultDisplay):
    """The rotation measures (``evidence``: the documented ``--json`` keys) and the gated verdict."""

    verdict: Verdict
    evidence: dict[str, Any]
    certificate: dict | None = field(default=None, repr=False)
    samples: Any = field(default=None, repr=False)   # the sampled curves, for plots
    frame: Any = field(default=None, repr=False)

    @property
    def status(self) -> str:
        return self.verdict.status

    def to_json(self) -> dict[str, Any]:
        out = dict(self.evidence)
        out["verdict"] = dict(self.verdict.to_json(), statement=STATEMENT)
        return out


def rotate(block, spec, *, samples: int = 2001, check: bool = True, keep_samples: bool = False,
           residual_stream: bool = False) -> RotationResult:
    """Measure the block output along ``spec`` (a superposition path or an arc).

    ``check=False`` skips the certificate and the checker: the flips are then the
    filtered engine's, labelled *estimate*.
    """
    from geomcheck.geometry.rotation import arc_frame
    from geomcheck.search.rotation import rotation_measures

    arc_frame(block, spec)  # one-line refusal before any work when there is no rotation
    if check:
        from geomcheck.api.paths import analyse

        result = analyse(block, spec)
        analysis, verdict, certificate = result.analysis, result.verdict, result.certificate
    else:
        from geomcheck.search.paths import analyse_path_fast

        analysis, verdict, certificate = analyse_path_fast(block, spec), estimate("checker not run (--check no)"), None
    payload = rotation_measures(block, spec, analysis, samples=samples, keep_samples=keep_samples,
                                residual_stream=residual_stream)
    curves, frame = payload.pop("_samples", None), payload.pop("_frame", None)
    return RotationResult(verdict, payload, certificate, curves, frame)
