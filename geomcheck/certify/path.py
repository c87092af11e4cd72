"""Build the ``geomcheck.cert/1`` certificate of kind ``path`` (docs/certificates.md).

Untrusted side: it only copies what :func:`geomcheck.geometry.paths.analyse_path`
(or the filtered engine) found into the documented JSON shape; the checker
re-derives every fact from the model itself.
"""

from __future__ import annotations

from geomcheck.exact.rationals import format_rational
from geomcheck.geometry.paths import PathAnalysis
from geomcheck.io.modelfile import block_to_dict, model_sha256
from geomcheck.model.block import MLPBlock

__all__ = ["path_certificate"]


def path_certificate(block: MLPBlock, analysis: PathAnalysis) -> dict:
    """The certificate dict for one analysed path (rays and arcs included)."""
    model = block_to_dict(block)
    model.pop("name", None)
    cert = {
        "format": "geomcheck.cert/1",
        "kind": "path",
        "model": model,
        "model_sha256": model_sha256(block),
        "path": analysis.spec.to_json(),
        "claim": {"verdict": analysis.verdict, "crossings": len(analysis.crossings)},
        "crossings": [
            {"neurons": list(c.neurons),
             "interval": [format_rational(c.interval[0]), format_rational(c.interval[1])],
             "map_changes": c.map_changes}
            for c in analysis.crossings
        ],
        "segments": [{"witness": format_rational(s.witness), "pattern": s.pattern} for s in analysis.segments],
    }
    if analysis.is_ray and analysis.coefficients.scales and block.norm.eps > 0:
        cert["critical_norms"] = [{"neuron": i, "squared_norm": format_rational(r)} for i, r in analysis.critical_norms]
        above = analysis.constant_above
        if above is not None:
            cert["constant_above"] = format_rational(above)
    return cert
