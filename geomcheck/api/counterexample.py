"""Every ``geomcheck counterexample`` mode as a function returning a gated :class:`~geomcheck.results.Result`.

* :func:`counterexample` — a direction and two scales whose affine maps differ
  (``counterexample`` certificate, *refuted* when the checker accepts it); on a
  given direction without one, the ray's ``path`` certificate (*proved*: the ray
  keeps one affine map, ReLU only — a GELU/SiLU block is never affine, so there
  the statement is about the gate pattern);
* :func:`dyt_counterexample` — the same for DyT blocks (``dyt-counterexample``);
* :func:`cone` — the monosemantic cone (``cone`` certificate);
* :func:`contrast` — exact per-direction counts, no certificate kind: *estimate*;
* :func:`search_minimal` — hypothesis search for minimal blocks.

The JSON key ``certificate`` keeps its documented shape ``{"accepted",
"message", "file"}`` (``file`` is set by the caller that writes it).
"""

from __future__ import annotations

from typing import Any

from geomcheck.exact.rationals import format_rational
from geomcheck.results import Result, smooth_note
from geomcheck.verdicts import PROVED, REFUTED, Verdict, estimate, gate

__all__ = ["counterexample", "dyt_counterexample", "cone", "contrast", "search_minimal", "KEPT"]

KEPT = ("norm removed; kept the folded weights W' = W_in·diag(gamma), b' = W_in·beta + b_in "
        "(not centred); W_out, b_out and the activation unchanged")


def _fmt(values) -> list[str]:
    return [format_rational(c) for c in values]


def _check_entry(verdict: Verdict) -> dict:
    return {"accepted": verdict.checked, "message": verdict.checker_message, "file": None}


def _ray_statement(block, v) -> Result:
    """No counterexample on this ray: gate the ray's ``path`` certificate instead."""
    from geomcheck.api.paths import certify
    from geomcheck.geometry.paths import PathSpec

    analysis, certificate = certify(block, PathSpec.ray(tuple(v)), "exact")
    crossings = analysis.crossings
    rows = [{"t": c.at.to_decimal(17) if c.interval[0] != c.interval[1] else format_rational(c.interval[0]),
             "neurons": list(c.neurons)} for c in crossings]
    evidence: dict[str, Any] = {"direction": _fmt(v), "ray_crossings": rows}
    if block.activation.piecewise_linear:
        changes = sum(c.map_changes for c in crossings)
        # the path certificate lists map_changes per crossing: all false means one affine map
        holds = changes == 0
        evidence["claim"] = "this direction is monosemantic"
        text = (f"the ray through this direction keeps one affine map ({len(crossings)} crossing scale(s), "
                f"none changes the map)" if holds else
                f"{changes} of {len(crossings)} crossing(s) change the affine map")
    else:
        holds = not crossings
        evidence["claim"] = "this direction keeps one gate pattern"
        evidence["gate_patterns_note"] = smooth_note(block)
        text = ("the ray through this direction keeps one gate pattern (no crossing); the block is smooth, "
                "so this is not one affine map" if holds else
                f"the gate pattern changes at {len(crossings)} scale(s) along the ray")
    verdict = gate(certificate, PROVED if holds else REFUTED)
    evidence["message"] = f"{verdict.status}: {text}" if verdict.checked else \
        f"{verdict.status}: {text} (not confirmed: {verdict.checker_message})"
    evidence["certificate"] = _check_entry(verdict)
    return Result("counterexample", verdict, evidence, certificate)


def counterexample(block, original, *, direction=None, most_crossings: bool = False, fraction: int | None = None,
                   seed: int = 0, drop_norm: bool = False) -> Result:
    """Default mode of ``geomcheck counterexample`` (block without normalization)."""
    from geomcheck.certify.cone import counterexample_certificate
    from geomcheck.search.counterexample import (counterexample_on_ray, find_counterexample,
                                                 polysemantic_fraction, require_no_norm)
    from geomcheck.search.counterexample import most_crossings as find_most

    require_no_norm(block)
    evidence: dict[str, Any] = {"model": original.name, "d": block.d, "n": block.n,
                                "norm_dropped": drop_norm and original.norm.kind != "none",
                                "gate_patterns": not block.activation.piecewise_linear}
    if evidence["norm_dropped"]:
        evidence["kept"] = KEPT
    note = smooth_note(block)
    if note:
        evidence["gate_patterns_note"] = note
    found = None
    result: Result | None = None
    if direction is not None:
        found = counterexample_on_ray(block, direction)
        evidence["searched"] = "the given direction (its crossing list is exact)"
        if found is None:
            result = _ray_statement(block, direction)
    elif most_crossings:
        best = find_most(block, seed=seed)
        evidence["most_crossings"] = {
            "direction": _fmt(best["direction"]), "neurons_crossed": best["count"],
            "distinct_scales": best["distinct_scales"], "directions_tried": best["tried"],
            **estimate("the maximum over all directions has no certificate kind").to_json(),
            "note": "the crossing count of this direction is exact; that no direction has more is an estimate "
                    "(small-integer, per-neuron and seeded Gaussian directions were tried, not every cell)",
        }
        found = counterexample_on_ray(block, best["direction"])
        evidence["searched"] = "the direction with the most crossings found"
    else:
        found = find_counterexample(block)
        evidence["searched"] = "small-integer directions (simplest first), then -sign(b_i)·w_i per neuron"
    if found is not None:
        cert = counterexample_certificate(block, found)
        verdict = gate(cert, REFUTED)
        evidence.update(found.to_json())
        evidence["certificate"] = _check_entry(verdict)
        evidence["claim"] = "this direction is monosemantic"
        what = ("maps" if block.activation.piecewise_linear else "gate patterns (and their ReLU-gate surrogate maps)")
        evidence["message"] = (
            f"{verdict.status}: along v the {what} at t1 = {evidence['scales'][0]} and t2 = {evidence['scales'][1]} "
            f"differ (neurons {found.neurons} switch)" if verdict.checked
            else f"checker rejected the candidate: {verdict.checker_message}")
        result = Result("counterexample", verdict, evidence, cert)
    elif result is not None:
        evidence.update(result.evidence)
        result = Result("counterexample", result.verdict, evidence, result.certificate)
    else:
        evidence.update(claim="some direction is polysemantic",
                        message="no counterexample among the directions tried (run --cone for a proof either way)")
        result = Result("counterexample", estimate("no counterexample found, so no certificate"), evidence)
    if fraction is not None:
        frac = polysemantic_fraction(block, fraction, seed)
        frac.update(estimate("a sampled share has no certificate kind").to_json())
        frac["wilson95"] = list(frac["wilson95"])
        result.evidence["fraction"] = frac
    return result


def dyt_counterexample(block, direction=None) -> Result:
    """``counterexample`` on a DyT block: certified interval arithmetic, ``dyt-counterexample`` certificate."""
    from geomcheck.search.dyt import METHOD, analyse_dyt_ray, find_dyt_counterexample

    ray = analyse_dyt_ray(block, direction) if direction is not None else find_dyt_counterexample(block)
    evidence: dict[str, Any] = {"model": block.name, "d": block.d, "n": block.n, "norm": block.norm.describe(),
                                "method": METHOD}
    if ray is None:
        evidence.update(claim="some direction is polysemantic",
                        message="no certified counterexample among the small-integer directions tried")
        return Result("counterexample", estimate("no counterexample found, so no certificate"), evidence)
    evidence.update(ray.to_json())
    evidence["claim"] = "this direction is monosemantic"
    if ray.counterexample is None:
        evidence["message"] = ("no map change found on this ray" + (
            f" (crossing list complete, {METHOD})" if ray.complete else " (crossing list incomplete)"))
        return Result("counterexample", estimate("no certificate kind for a DyT ray without a map change"), evidence)
    from geomcheck.certify.dyt import dyt_counterexample_certificate

    cert = dyt_counterexample_certificate(block, ray.direction, ray.counterexample)
    # refuted only when the stdlib checker re-derives both patterns with its own tanh enclosures
    verdict = gate(cert, REFUTED)
    evidence["certificate"] = _check_entry(verdict)
    evidence["message"] = (f"{verdict.status}, {METHOD}: the certified patterns at t1 = {evidence['scales'][0]} and "
                           f"t2 = {evidence['scales'][1]} differ and give different affine maps of tanh(alpha·x); "
                           f"checker {verdict.checker_message}")
    return Result("counterexample", verdict, evidence, cert)


def cone(block, original, drop_norm: bool = False) -> Result:
    """The monosemantic cone ``{v : b_i·(w_i·v) ≥ 0}`` with its ``cone`` certificate, gated."""
    from geomcheck.certify.cone import cone_certificate
    from geomcheck.search.cone import monosemantic_cone

    result = monosemantic_cone(block)
    cert = cone_certificate(block, result)
    verdict = gate(cert, PROVED)   # the statement: "the cone is exactly what the certificate says"
    evidence: dict[str, Any] = {
        "model": original.name, "d": block.d, "n": block.n,
        "norm_dropped": drop_norm and original.norm.kind != "none",
        "constraining_neurons": sorted(result.rows),
        "verdict": result.verdict, "dimension": result.dimension, "lineality_dimension": result.lineality,
        "equalities": list(result.equalities), "y": _fmt(result.y),
        "direction": _fmt(result.direction) if result.direction is not None else None,
        "every_direction_changes_map": bool(cert["claim"].get("every_direction_changes_map")),
        "certificate": _check_entry(verdict),
    }
    if evidence["norm_dropped"]:
        evidence["kept"] = KEPT
    if result.verdict == "zero":
        evidence["claim"] = "every nonzero direction is polysemantic"
        evidence["message"] = ("the monosemantic cone is {0}: every direction's ray changes sign pattern"
                               + (" and affine map" if evidence["every_direction_changes_map"] else "")
                               + f" (certificate: y > 0 with Σ y_i b_i w_i = 0, rank {block.d})")
    else:
        evidence["claim"] = "the monosemantic cone contains a nonzero direction"
        evidence["message"] = (f"the monosemantic cone has dimension {result.dimension}; "
                               f"({', '.join(evidence['direction'])}) is in its relative interior")
    if not verdict.checked:
        evidence["message"] = f"checker rejected the candidate: {verdict.checker_message}"
    return Result("counterexample", verdict, evidence, cert)


def contrast(block, directions, source: str) -> Result:
    """Region-constant directions with the norm and with it dropped: exact per direction, no certificate kind."""
    from geomcheck.search.counterexample import contrast as count

    result = count(block, directions)
    evidence: dict[str, Any] = {
        "model": block.name, "norm": block.norm.kind, "eps": format_rational(block.norm.eps),
        "directions": result["directions"], "skipped": result["skipped"], "source": source,
        "constant_with_norm": result["constant_with_norm"],
        "constant_without_norm": result["constant_without_norm"],
        "undecided_with_norm": result["undecided_with_norm"],
        "kept": KEPT,
        "message": "each direction decided exactly (with the norm: the ray polynomial "
                   "(d·A² − b'²‖u‖²)·t² − b'²·d·ε per neuron; without: t = −b_i/(w_i·v)); "
                   "the counts are exact for these directions but no certificate kind covers them, "
                   "and as a share of all directions they are an estimate",
    }
    if block.norm.kind == "dyt":
        from geomcheck.search.dyt import METHOD

        evidence.pop("eps")
        evidence.update(alpha=format_rational(block.norm.alpha), method=METHOD,
                        message=f"with DyT: a non-constant ray has a certified sign change ({METHOD}); a constant one "
                                "has a complete certified crossing list; 'undecided' rays had neither. "
                                "Without the norm: exact. As a share of all directions: an estimate")
    return Result("counterexample", estimate("no certificate kind for contrast counts"), evidence)


def search_minimal(norm: str, max_d: int, examples: int | None) -> Result:
    """``--search``: hypothesis search and shrinking for minimal blocks (no norm / LayerNorm ε = 0)."""
    from geomcheck.io.modelfile import block_to_dict
    from geomcheck.search.minimal import layernorm_falsification, minimal_counterexample

    if norm == "none":
        r = minimal_counterexample(max_d, examples or 500)
        evidence: dict[str, Any] = {"norm": "none", "max_d": max_d, "examples": r["examples"],
                                    "seconds": round(r["seconds"], 3)}
        if not r["found"]:
            evidence.update(found=False, message=f"no counterexample found in {r['examples']} examples")
            return Result("counterexample", estimate("nothing found, so no certificate"), evidence)
        from geomcheck.certify.cone import counterexample_certificate

        cert = counterexample_certificate(r["block"], r["counterexample"])
        verdict = gate(cert, REFUTED)
        evidence.update(found=True, model=block_to_dict(r["block"]), counterexample=r["counterexample"].to_json(),
                        certificate=_check_entry(verdict),
                        message="hypothesis found and shrank a block with an exact, checker-accepted counterexample; "
                                "minimality is the shrinker's (a hand proof covers n = d = 1)")
        return Result("counterexample", verdict, evidence, cert)
    r = layernorm_falsification(max(max_d, 2), examples or 2000)
    evidence = {"norm": "layernorm", "eps": "0", "max_d": max(max_d, 2), "examples": r["examples"],
                "seconds": round(r["seconds"], 3), "found": r["found"]}
    if not r["found"]:
        evidence["message"] = (f"no counterexample found in {r['examples']} examples (a search, not a proof; "
                               "the proof is symbolic: with eps = 0 each ray polynomial is c·t²)")
        return Result("counterexample", estimate("a search finding nothing is not a proof"), evidence)
    from geomcheck.api.paths import analyse
    from geomcheck.geometry.paths import PathSpec

    block, v, t1, t2 = r["case"]
    path = analyse(block, PathSpec.ray(tuple(v)), "exact")   # a LayerNorm ray that crosses: the checker decides
    evidence.update(model=block_to_dict(block), direction=_fmt(v), scales=_fmt((t1, t2)),
                    certificate=_check_entry(path.verdict),
                    message="FOUND a LayerNorm block whose ray changes pattern — this contradicts the theory")
    return Result("counterexample", path.verdict if path.analysis.crossings else estimate(path.verdict.checker_message),
                  evidence, path.certificate)
