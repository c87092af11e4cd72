"""Certificate builder for kind ``dyt-counterexample`` (checked by :mod:`geomcheck.checker.cone`)."""

from __future__ import annotations

from geomcheck.exact.rationals import format_rational

__all__ = ["dyt_counterexample_certificate"]


def dyt_counterexample_certificate(block, direction, counterexample: dict) -> dict:
    """The envelope for a DyT ray whose certified patterns at t1 < t2 differ."""
    from geomcheck.io.modelfile import block_to_dict, model_sha256

    model = block_to_dict(block)
    model.pop("name", None)
    return {
        "format": "geomcheck.cert/1", "kind": "dyt-counterexample", "model": model, "model_sha256": model_sha256(block),
        "claim": {"monosemantic": False},
        "direction": [format_rational(c) for c in direction],
        "scales": list(counterexample["scales"]),
        "patterns": list(counterexample["patterns"]),
        "neurons": list(counterexample["neurons"]),
    }
