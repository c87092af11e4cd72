"""Certificate builders for kinds ``counterexample`` and ``cone``
(checked by :mod:`geomcheck.checker.cone`, whose docstring states what is verified).

The embedded model is the block the statement is about: for ``--drop-norm``
that is the dropped-norm block (norm kind ``none``, folded weights
``W_in·diag(γ)``, ``W_in·β + b_in``), so the checker sees exactly that model.
"""

from __future__ import annotations

from geomcheck.exact.rationals import format_rational
from geomcheck.io.modelfile import block_to_dict, model_sha256
from geomcheck.model.block import MLPBlock

__all__ = ["envelope", "counterexample_certificate", "cone_certificate"]


def _vec(values) -> list[str]:
    return [format_rational(c) for c in values]


def envelope(block: MLPBlock, kind: str) -> dict:
    model = block_to_dict(block)
    model.pop("name", None)
    return {"format": "geomcheck.cert/1", "kind": kind, "model": model, "model_sha256": model_sha256(block)}


def counterexample_certificate(block: MLPBlock, found) -> dict:
    """``found``: a :class:`geomcheck.search.counterexample.Counterexample`."""
    cert = envelope(block, "counterexample")
    cert.update({
        "claim": {"statement": "monosemantic-direction", "verdict": "refuted"},
        "direction": _vec(found.direction),
        "scales": _vec((found.t1, found.t2)),
        "patterns": [found.pattern1, found.pattern2],
        "neurons": list(found.neurons),
    })
    return cert


def every_direction_changes_map(block: MLPBlock, result) -> bool:
    """The sufficient condition the checker verifies (checker/cone.py docstring)."""
    from geomcheck.exact.linalg import rank

    if result.dimension != 0:
        return False
    keys = sorted(result.rows)
    if len(keys) > block.d + 1:
        return False      # more than d + 1 rows in ℚ^{d+1} cannot be independent
    augmented = [tuple(block.w_in[i]) + (block.b_in[i],) for i in keys]
    return rank(augmented, block.d + 1) == len(keys) and all(any(row[i] for row in block.w_out) for i in keys)


def cone_certificate(block: MLPBlock, result) -> dict:
    """``result``: a :class:`geomcheck.search.cone.ConeResult`."""
    cert = envelope(block, "cone")
    claim = {"verdict": result.verdict, "dimension": result.dimension}
    if every_direction_changes_map(block, result):
        claim["every_direction_changes_map"] = True
    cert.update({"claim": claim, "equalities": list(result.equalities), "y": _vec(result.y)})
    if result.direction is not None:
        cert["direction"] = _vec(result.direction)
    return cert


# --- entry points for proofs/ claims ---------------------------------------------------

def prove_every_direction_polysemantic(model_spec: str = "toy:allpoly") -> dict:
    """Claim "every nonzero direction of MODEL is polysemantic" (no normalization).

    Returns ``{"status", "certificate", "checker", "every_direction_changes_map"}``;
    status comes from :func:`geomcheck.verdicts.gate`: proved only when the cone is {0} and
    the checker accepts (an accepted nonzero cone refutes the claim).
    """
    from geomcheck.io.resolve import load_model
    from geomcheck.search.cone import monosemantic_cone
    from geomcheck.verdicts import PROVED, REFUTED, gate

    block = load_model(model_spec)
    cert = cone_certificate(block, monosemantic_cone(block))
    # an accepted "nonzero" certificate refutes the claim; only an accepted "zero" one proves it
    verdict = gate(cert, PROVED if cert["claim"]["verdict"] == "zero" else REFUTED)
    return {**verdict.to_json(), "certificate": cert,
            "every_direction_changes_map": bool(cert["claim"].get("every_direction_changes_map"))}


def refute_minimal_model(search: bool = False) -> dict:
    """Claim "direction v of the minimal block is monosemantic", refuted.

    The block is n = d = 1, w = 1, b = −1, w_out = 1, no norm (the hand-proved
    minimum); with ``search=True`` it is the one hypothesis shrinks to instead
    (its mirror image w = 1, b = 1, v = −1 in practice). Returns
    ``{"status", "model", "certificate", "checker"}``.
    """
    from geomcheck.search.counterexample import find_counterexample
    from geomcheck.search.minimal import minimal_block_example, minimal_counterexample
    from geomcheck.verdicts import REFUTED, gate

    block = minimal_counterexample()["block"] if search else minimal_block_example()
    cert = counterexample_certificate(block, find_counterexample(block))
    return {**gate(cert, REFUTED).to_json(), "model": block_to_dict(block), "certificate": cert}
