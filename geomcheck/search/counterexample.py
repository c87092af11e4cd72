"""Polysemantic directions without normalization: exact counterexamples on rays.

Without a normalization the pre-activation of neuron i along the ray
``{t·v : t > 0}`` is ``h_i(t) = t·(w_i·v) + b_i`` — linear in t. It changes
sign at ``t_i = −b_i/(w_i·v)`` exactly when ``w_i·v`` and ``b_i`` have
strictly opposite signs (DESIGN §2); otherwise its sign is constant on the
ray (``b_i = 0``: sign(w_i·v); ``w_i·v = 0``: sign(b_i)). So the exact
crossing list of a ray is a sorted list of rationals, the ray splits into
segments ``(0, c₁), (c₁, c₂), …, (c_k, ∞)``, and on each segment the pattern
is constant. Two segments carry different affine maps iff
``W_out·(D_s − D_t)·[W | b] ≠ 0`` (:meth:`MLPBlock.map_changes`); if all
*adjacent* segments have equal maps then all do (equality is transitive), so
it suffices to look at adjacent pairs.

A counterexample to "direction v is monosemantic" is ``(v, t₁, t₂)`` with
``0 < t₁ < t₂`` in adjacent segments whose maps differ; t₁, t₂ are the
simplest rationals (smallest denominators, :func:`simplest_between`) inside
their segments, and v is found by enumerating small-integer directions first.

``--drop-norm`` (:func:`drop_norm`): the block with its normalization removed
and the folded weights kept, ``W' = W_in·diag(γ)``, ``b' = W_in·β + b_in`` —
*not* centred (centring is part of LayerNorm, which is what is dropped).

Everything decided here is exact (Fractions); only the choice of *which*
directions to try, and the fraction of random directions, are searches.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Iterator, Sequence

from geomcheck.errors import DegenerateInput, InvalidInput
from geomcheck.exact.backend import dot
from geomcheck.exact.rationals import format_rational
from geomcheck.exact.signs import sign
from geomcheck.model.block import MLPBlock
from geomcheck.model.norms import make_normalization

__all__ = [
    "drop_norm", "require_no_norm", "RayCrossing", "Counterexample", "ray_crossings", "ray_segments",
    "counterexample_on_ray", "small_integer_directions", "find_counterexample", "most_crossings",
    "polysemantic_fraction", "random_directions", "normalized_ray_flips", "ray_is_constant", "contrast",
]


def drop_norm(block: MLPBlock) -> MLPBlock:
    """The block with its normalization removed, folded weights kept, not centred.

    ``w_in ← W_in·diag(γ)``, ``b_in ← W_in·β + b_in``; W_out, b_out and the
    activation unchanged; the result has norm kind ``none``. (A block that
    already has no normalization is returned as is.)
    """
    if block.norm.kind == "none":
        return block
    weights, bias = block.norm.fold(block.w_in, block.b_in)
    return MLPBlock(weights, bias, block.w_out, block.b_out, make_normalization("none"), block.activation,
                    name=f"{block.name or 'model'} (norm dropped)")


def require_no_norm(block: MLPBlock) -> None:
    if block.norm.kind != "none":
        raise InvalidInput(
            f"model: has a {block.norm.kind} normalization; counterexamples here are for blocks without one "
            "(add --drop-norm to remove it and keep the folded weights)"
        )


@dataclass(frozen=True)
class RayCrossing:
    """All neurons whose pre-activation vanishes at the same scale t > 0."""

    t: Fraction
    neurons: tuple[int, ...]


def exact_slopes(block: MLPBlock, directions: Sequence[Sequence[Fraction]], folded: bool = False) -> list[tuple[Fraction, ...]]:
    """Exact ``W_in·v`` (or ``w̃·v`` with ``folded``) for each direction, one python-flint product."""
    rows = block.folded.weights if folded else block.w_in
    try:
        import flint
    except ImportError:
        return [tuple(dot(w, v) for w in rows) for v in directions]
    if not directions:
        return []
    cache = block.data.cached("counterexample.fmpq_rows", dict)
    w = cache.get(folded)
    if w is None:
        w = flint.fmpq_mat([[flint.fmpq(c.numerator, c.denominator) for c in row] for row in rows])
        cache[folded] = w
    vs = flint.fmpq_mat([[flint.fmpq(Fraction(v[j]).numerator, Fraction(v[j]).denominator) for v in directions]
                         for j in range(block.d)])
    product = w * vs
    n = block.n
    return [tuple(Fraction(int(product[i, k].p), int(product[i, k].q)) for i in range(n)) for k in range(len(directions))]


def analyse_ray(block: MLPBlock, v: Sequence[Fraction]):
    """The path engine's :class:`~geomcheck.geometry.paths.PathAnalysis` of the open ray ``{t·v : t > 0}``.

    Every ray question in this module (crossings, counterexample scales, flips through a
    normalization, constancy, the contrast) is read off this one analysis
    (:func:`geomcheck.search.paths.analyse_path_fast`: float filter, exact on doubt).
    """
    from geomcheck.geometry.paths import PathSpec
    from geomcheck.search.paths import analyse_path_fast

    v = block.check_direction(v)
    return analyse_path_fast(block, PathSpec.ray(v))


def ray_crossings(block: MLPBlock, v: Sequence[Fraction], slopes: Sequence[Fraction] | None = None) -> list[RayCrossing]:
    """Exact crossings of the ray through v (no normalization), sorted by t.

    Read off :func:`analyse_ray`: without normalization ``h_i(t) = t·(w_i·v) + b_i`` is
    linear, so every crossing is a rational ``t = −b_i/(w_i·v)`` (strictly opposite signs)
    and a sign change. ``slopes`` is accepted for compatibility and not needed.
    """
    require_no_norm(block)
    analysis = analyse_ray(block, v)
    return [RayCrossing(_rational(c.at), c.neurons) for c in analysis.crossings]


def _rational(root) -> Fraction:
    if root.q != 0:  # pragma: no cover — linear crossing polynomials have rational roots
        raise AssertionError("internal: a ray without normalization has an irrational crossing")
    return root.p


def ray_segments(block: MLPBlock, v: Sequence[Fraction], crossings: list[RayCrossing] | None = None) -> list[tuple[Fraction, str]]:
    """One ``(witness scale, pattern)`` per segment of the ray, in order (:func:`analyse_ray`'s segments:
    the simplest rational inside each segment, the next integer above the last crossing)."""
    return [(s.witness, s.pattern) for s in analyse_ray(block, v).segments]


def _height(q: Fraction) -> int:
    return abs(q.numerator) + q.denominator


@dataclass(frozen=True)
class Counterexample:
    """v with 0 < t₁ < t₂ whose patterns give different affine maps (exact)."""

    direction: tuple[Fraction, ...]
    t1: Fraction
    t2: Fraction
    pattern1: str
    pattern2: str
    neurons: tuple[int, ...]          # neurons whose on/off state differs between t₁ and t₂
    crossings: tuple[RayCrossing, ...] = field(default=())

    def to_json(self) -> dict:
        return {
            "direction": [format_rational(c) for c in self.direction],
            "scales": [format_rational(self.t1), format_rational(self.t2)],
            "patterns": [self.pattern1, self.pattern2],
            "neurons": list(self.neurons),
            "crossing_between": format_rational(next(c.t for c in self.crossings if self.t1 < c.t < self.t2))
            if self.crossings else None,
            "ray_crossings": [{"t": format_rational(c.t), "neurons": list(c.neurons)} for c in self.crossings],
        }


def _flipped(p: str, q: str) -> tuple[int, ...]:
    return tuple(i for i, (a, b) in enumerate(zip(p, q)) if (a == "+") != (b == "+"))


def counterexample_on_ray(block: MLPBlock, v: Sequence[Fraction], slopes: Sequence[Fraction] | None = None,
                          verify: bool = True) -> Counterexample | None:
    """The simplest adjacent-segment pair of the ray through v whose maps differ, or None.

    None means: every segment of this ray has the same affine map (proved,
    by the exact crossing list and transitivity). Patterns are evaluated
    exactly at the two chosen scales only; which crossings change the map is
    decided from the crossing list (a crossing neuron goes from sign(b_i) to
    sign(w_i·v) = −sign(b_i)).
    """
    v = tuple(Fraction(c) for c in v)
    require_no_norm(block)
    analysis = analyse_ray(block, v)
    if not analysis.crossings:
        return None
    crossings = tuple(RayCrossing(_rational(c.at), c.neurons) for c in analysis.crossings)
    best = None
    # the engine's segment witnesses are the simplest rationals inside each segment (the last one:
    # the next integer above the last crossing), and map_changes is W_out·(D_s − D_t)·[W | b] ≠ 0
    for k, crossing in enumerate(analysis.crossings):
        if crossing.map_changes:
            t1, t2 = analysis.segments[k].witness, analysis.segments[k + 1].witness
            if best is None or _height(t1) + _height(t2) < _height(best[0]) + _height(best[1]):
                best = (t1, t2, analysis.segments[k].pattern, analysis.segments[k + 1].pattern)
    if best is None:
        return None
    t1, t2, p1, p2 = best
    if verify:
        p1, p2 = verify_patterns(block, v, t1, t2)
    return Counterexample(v, t1, t2, p1, p2, _flipped(p1, p2), crossings)


def verify_patterns(block: MLPBlock, v: Sequence[Fraction], t1: Fraction, t2: Fraction) -> tuple[str, str]:
    """The patterns at t₁·v and t₂·v, evaluated afresh (not from the crossing bookkeeping)."""
    return block.pattern_at_input([t1 * c for c in v]), block.pattern_at_input([t2 * c for c in v])


def small_integer_directions(d: int, max_entry: int = 2, max_support: int | None = None) -> Iterator[tuple[Fraction, ...]]:
    """Nonzero integer vectors, simplest first: by largest |entry|, then support size.

    Only primitive vectors (gcd of entries 1) are produced, since t·v and v
    span the same ray. ``max_support`` caps the number of nonzero entries
    (all of them when d ≤ 6).
    """
    if max_support is None:
        max_support = d if d <= 6 else 2
    for height in range(1, max_entry + 1):
        values = [s * k for k in range(1, height + 1) for s in (1, -1)]  # 1, -1, 2, -2, …
        for support in range(1, min(d, max_support) + 1):
            for positions in itertools.combinations(range(d), support):
                for entries in itertools.product(values, repeat=support):
                    if max(abs(e) for e in entries) != height:
                        continue
                    if math.gcd(*entries) != 1:
                        continue
                    v = [Fraction(0)] * d
                    for p, e in zip(positions, entries):
                        v[p] = Fraction(e)
                    yield tuple(v)


def _structured_directions(block: MLPBlock) -> Iterator[tuple[Fraction, ...]]:
    """For each neuron i with b_i ≠ 0, the direction −sign(b_i)·w_i, which crosses neuron i."""
    for w, b in zip(block.w_in, block.b_in):
        if b != 0 and any(w):
            yield tuple(-sign(b) * c for c in w)


def find_counterexample(block: MLPBlock, directions: Iterable[Sequence[Fraction]] | None = None,
                        budget: int = 5000) -> Counterexample | None:
    """A simple exact counterexample, or None if none was found among the directions tried.

    Directions: the given ones, else small-integer directions (at most
    ``budget``), then one per neuron (−sign(b_i)·w_i), simplest first. Among
    the directions of the first height that yields a counterexample, the one
    with the fewest nonzero entries and the simplest scales wins.
    """
    require_no_norm(block)
    if directions is not None:
        for v in directions:
            found = counterexample_on_ray(block, v)
            if found is not None:
                return found
        return None
    best = _best_counterexample(block, budget)
    if best is None:
        return None
    p1, p2 = verify_patterns(block, best.direction, best.t1, best.t2)
    if (p1, p2) != (best.pattern1, best.pattern2):   # the bookkeeping and the evaluation must agree
        raise AssertionError(f"internal: crossing bookkeeping gave {best.pattern1}/{best.pattern2}, evaluation {p1}/{p2}")
    return best


def _best_counterexample(block: MLPBlock, budget: int) -> Counterexample | None:
    """The search behind :func:`find_counterexample` (patterns from the crossing list, unverified)."""
    best, best_key, best_height = None, None, None
    tried_since_best = 0
    candidates = list(itertools.chain(itertools.islice(small_integer_directions(block.d), budget),
                                      _structured_directions(block)))
    b_signs = [sign(b) for b in block.b_in]
    for start in range(0, len(candidates), 256):
        batch = candidates[start:start + 256]
        for v, slopes in zip(batch, exact_slopes(block, batch)):
            height = max(abs(c) for c in v)
            if best_height is not None and (height > best_height or tried_since_best > 200):
                return best   # simplest height found; a bounded look further for fewer flips / simpler scales
            tried_since_best += best is not None
            if all(sign(s) * b >= 0 for s, b in zip(slopes, b_signs)):
                continue      # in the monosemantic cone: no crossing at all
            found = counterexample_on_ray(block, v, slopes, verify=False)
            if found is None:
                continue
            key = (sum(1 for c in v if c), len(found.neurons), _height(found.t1) + _height(found.t2))
            if best is None or key < best_key:
                best, best_key, best_height = found, key, height
            if key[:2] == (1, 1) and key[2] <= 5:
                return best   # a basis direction, one neuron, scales like 1/2 and 2: nothing is simpler
    return best


# ---------------------------------------------------------------------------
# many directions: float filter in front of exact signs

def random_directions(d: int, count: int, seed: int) -> list[tuple[Fraction, ...]]:
    """``count`` seeded Gaussian directions, each float64 read exactly as a rational."""
    rng = random.Random(seed)
    return [tuple(Fraction(rng.gauss(0.0, 1.0)) for _ in range(d)) for _ in range(count)]


def _slope_signs(block: MLPBlock, directions: Sequence[Sequence[Fraction]]):
    """Exact signs of ``w_i·v`` for every neuron and direction (numpy filter, exact fallback).

    ``fl(W_f·v)`` with ``W_f = fl(W)`` and v exactly representable differs from
    ``W·v`` by at most ``γ_{d+1}·(|W_f|·|v|)·(1 + u)``; we use twice that
    (plus an underflow term). Entries inside the bound are recomputed in ℚ.
    """
    import numpy as np

    from geomcheck.search.filter import gamma_bound
    from geomcheck.search.floats import float_arrays, to_float

    arrays = float_arrays(block)
    w = arrays.w_in
    # a column is filtered only if its direction is exactly a float vector (else the bound does not apply);
    # to_float gives ±inf beyond range, which the bound below never decides
    vf = np.array([[to_float(c) for c in v] for v in directions], dtype=np.float64).T   # d × N
    float_exact = np.array([all(math.isfinite(f) and Fraction(f) == c for f, c in zip(vf[:, k], v))
                            for k, v in enumerate(directions)], dtype=bool)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        values = w @ vf
        # Higham's bound plus absolute parts (η = 2⁻¹⁰⁷⁴): d products that may underflow, and the
        # rounding of W's entries (u·|W_ij| + η each) against |v|
        bounds = (2.0 * gamma_bound(block.d + 2) * (np.abs(w) @ np.abs(vf))
                  + 4 * 2.0**-1074 * (block.d + np.abs(vf).sum(axis=0)) + 2.0**-900)
    signs = np.sign(np.where(np.isfinite(values), values, 0.0)).astype(np.int64)
    undecided = ~(np.abs(values) > bounds) | ~float_exact[None, :]  # NaN/inf: undecided
    columns = [int(k) for k in np.flatnonzero(undecided.any(axis=0))]
    for k, slopes in zip(columns, exact_slopes(block, [directions[k] for k in columns])):
        for i in np.flatnonzero(undecided[:, k]):
            signs[i, k] = sign(slopes[i])
    return signs


def most_crossings(block: MLPBlock, samples: int = 2000, seed: int = 0) -> dict:
    """The direction, among those tried, whose ray crosses the most neuron boundaries.

    The count for the returned direction is exact; that it is the maximum is
    an *estimate* unless every cell of the central arrangement
    ``{w_i·v = 0}`` was visited, which this search does not attempt
    (maximising the number of strictly satisfied inequalities
    ``b_i·(w_i·v) < 0`` is a maximum-feasible-subsystem problem).
    Tried: small-integer directions (up to 5000), one per neuron
    (−sign(b_i)·w_i), and ``samples`` seeded Gaussian directions.
    """
    require_no_norm(block)
    import numpy as np

    candidates = list(itertools.islice(small_integer_directions(block.d), 5000))
    candidates += list(_structured_directions(block))
    candidates += random_directions(block.d, samples, seed)
    slope = _slope_signs(block, candidates)
    b = np.array([sign(q) for q in block.b_in], dtype=np.int64)
    counts = ((slope * b[:, None]) < 0).sum(axis=0)
    best = int(np.argmax(counts))
    v = candidates[best]
    # a simpler direction with as many crossings: v rounded to integers of growing size
    top = max(abs(c) for c in v)
    rounded = []
    for size in range(1, 65):
        r = tuple(Fraction(round(c / top * size)) for c in v)
        if any(r) and r not in rounded:
            rounded.append(r)
    for r, slopes in zip(rounded, exact_slopes(block, rounded)):
        if sum(1 for s, b in zip(slopes, block.b_in) if sign(s) * sign(b) < 0) >= counts[best]:
            v = r
            break
    crossings = ray_crossings(block, v)
    return {"direction": v, "crossings": crossings, "count": sum(len(c.neurons) for c in crossings),
            "distinct_scales": len(crossings), "tried": len(candidates)}


def polysemantic_fraction(block: MLPBlock, count: int, seed: int = 0) -> dict:
    """Among ``count`` seeded Gaussian directions, how many rays are not region-constant.

    Each direction is decided exactly (its ray is region-constant iff no
    neuron has ``b_i·(w_i·v) < 0``); the fraction itself is an *estimate* of
    the Gaussian measure of the complement of the monosemantic cone, reported
    with a 95% Wilson interval.
    """
    require_no_norm(block)
    import numpy as np

    if count < 1:
        raise InvalidInput("--fraction: needs at least one direction")
    directions = random_directions(block.d, count, seed)
    slope = _slope_signs(block, directions)
    b = np.array([sign(q) for q in block.b_in], dtype=np.int64)
    crossing = ((slope * b[:, None]) < 0).any(axis=0)
    k = int(crossing.sum())
    return {"directions": count, "seed": seed, "not_constant": k, "fraction": k / count,
            "wilson95": _wilson(k, count)}


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


# ---------------------------------------------------------------------------
# rays through LayerNorm / RMSNorm: the exact ray polynomial per neuron

def normalized_ray_flips(block: MLPBlock, v: Sequence[Fraction]) -> list[tuple[int, Fraction]]:
    """Neurons whose sign changes on the ray through v under LayerNorm/RMSNorm, with t².

    With ``u = P·v``, ``A = w̃_i·u``, ``N(t) = t²‖u‖² + dε``, neuron i's
    pre-activation has the sign of ``√d·A·t + b'_i·√N(t)`` and vanishes iff
    ``q_i(t) = (d·A² − b'_i²·‖u‖²)·t² − b'_i²·d·ε = 0`` with
    ``sign(A) = −sign(b'_i)``. At ε = 0, ``q_i(t) = c·t²`` has no root t > 0:
    the sign is constant on the ray (if c = 0 the pre-activation is
    identically 0 or never 0, also constant). At ε > 0 there is exactly one
    root ``t² = b'²dε / (dA² − b'²‖u‖²)`` when ``b' ≠ 0``, ``A·b' < 0`` and
    ``dA² > b'²‖u‖²``, and the sign does change there (q changes sign at a
    simple root). Returns ``[(i, t_i²)]``.
    """
    if not block.norm.scales:
        raise InvalidInput("normalized_ray_flips: the block has no LayerNorm/RMSNorm")
    analysis = analyse_ray(block, v)
    n2 = analysis.coefficients.n2  # ‖P·v‖²: λ² = r²/‖P·v‖²
    return [(i, r2 / n2) for i, r2 in analysis.critical_norms]


def ray_is_constant(block: MLPBlock, v: Sequence[Fraction]) -> bool:
    """Exact: is the ray ``{t·v : t > 0}`` region-constant (no crossing, :func:`analyse_ray`)?"""
    if block.norm.kind != "none" and not block.norm.scales:
        raise InvalidInput(f"ray_is_constant: no exact ray analysis for norm kind {block.norm.kind!r}")
    return not analyse_ray(block, v).crossings


def contrast(block: MLPBlock, directions: Sequence[Sequence[Fraction]]) -> dict:
    """How many directions stay region-constant with the block's norm, and with it dropped.

    Both counts are exact per direction (rays through LayerNorm/RMSNorm: the
    exact ray polynomial; without: the crossing list; DyT: certified interval
    arithmetic, :mod:`geomcheck.search.dyt`, with "undecided" counted apart).
    Constant vectors are skipped under LayerNorm (no direction there).
    """
    if block.norm.kind == "none":
        raise InvalidInput("--contrast: the model has no normalization to drop")
    dropped = drop_norm(block)
    with_norm = without = skipped = undecided = 0
    rows = []
    for v in directions:
        try:
            block.check_direction(v)
        except DegenerateInput:
            skipped += 1
            continue
        if block.norm.kind == "dyt":
            # certified roots are certified sign changes; "constant" needs the complete list
            from geomcheck.search.dyt import analyse_dyt_ray

            ray = analyse_dyt_ray(block, v)
            a = False if ray.roots else (True if ray.complete else None)
        else:
            a = ray_is_constant(block, v)
        b = ray_is_constant(dropped, v)
        if a is None:
            undecided += 1
        else:
            with_norm += a
        without += b
        rows.append((v, a, b))
    return {"directions": len(rows), "skipped": skipped, "constant_with_norm": with_norm,
            "constant_without_norm": without, "undecided_with_norm": undecided, "rows": rows}
