"""The real-model study: rays, superposition paths and the no-LayerNorm counterfactual.

Everything counted here is exact, and comes from the one path engine
(:func:`geomcheck.search.paths.analyse_path_fast`: a float filter that only skips
exact work, exact roots and signs for the rest; :class:`ExactLayer` condenses its
:class:`~geomcheck.geometry.paths.PathAnalysis` objects). Decimals in the output
are displays of exact numbers. With ``u = P·x``, ``N(λ) = ‖u(λ)‖² + dε`` and
``h_i = (√d·(w̃_i·u) + b'_i·√N)/√N`` (DESIGN §2):

* **ray** ``t·v``: at ε = 0 no neuron changes sign at any t > 0 (the crossing
  polynomial is ``c·t²``); at ε > 0 neuron i flips once, at centred norm
  ``r_i² = dε·c²/(1 − c²)``, ``c² = b'_i²·‖Pv‖²/(d·(w̃_i·Pv)²)``, iff the sign
  condition holds and ``c² < 1``; above ``max r_i`` the ray is region-constant.
* **path** ``x + λ·v``, λ > 0: the number of gate-sign changes is the number of
  (crossing, neuron) pairs where the neuron's sign differs on the two sides
  (:attr:`PathAnalysis.flips`; a touching zero is a crossing but no change).
* **no normalization** (γ, β folded, nothing divides): along ``t·v`` neuron i
  flips iff ``w'_i·v`` and ``b'_i`` have strictly opposite signs, at
  ``t_i = −b'_i/(w'_i·v)``; distinct ``t_i`` + 1 regions.

GELU honesty: for GELU blocks these are changes of the gate-sign pattern; the
block is smooth and the map between two changes is not affine.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from geomcheck.exact.quadratic import QuadraticRoot
from geomcheck.model.block import MLPBlock
from geomcheck.results import GATE_PATTERNS_NOTE
from geomcheck.verdicts import estimate

__all__ = ["ExactLayer", "exact_layer", "RayResult", "PathResult", "NoNormRay", "study_layer", "run_minilm_study"]


def centred(v) -> tuple[Fraction, ...]:
    mean = sum(v, Fraction(0)) / len(v)
    return tuple(x - mean for x in v)


@dataclass
class RayResult:
    flips: int                  # neurons that change sign somewhere on the ray (ε > 0)
    max_r2: Fraction | None     # the largest r_i² (None: no neuron flips)
    argmax: int | None
    ties_eps0: int              # neurons identically 0 on the ray at ε = 0
    centred_norm2: Fraction     # ‖Pv‖²


@dataclass
class PathResult:
    changes: int                # exact number of gate-sign changes for λ > 0
    first: QuadraticRoot | None  # λ at the first change
    neurons: list[int]
    last: QuadraticRoot | None = None  # λ at the last change


@dataclass
class NoNormRay:
    flips: int
    regions: int


class ExactLayer:
    """The study's questions about one LayerNorm block, answered by the one path engine.

    A batch front-end of :func:`geomcheck.search.paths.analyse_path_fast` (float
    filter, exact on doubt; the same :class:`~geomcheck.geometry.paths.PathAnalysis`
    as the exact engine) that condenses each analysis to the study's summary
    objects. Counts of changes are *sign changes* (:attr:`PathAnalysis.flips`):
    a touching zero is a crossing of the path but not a gate-sign change.
    """

    def __init__(self, block: MLPBlock):
        if not block.norm.centers or not block.norm.scales:
            raise ValueError("the study needs a LayerNorm block")
        self.block = block
        self.d = block.d
        self.eps = block.norm.eps

    @property
    def dropped(self) -> MLPBlock:
        """The block with LayerNorm removed, γ and β folded (not centred), kept in the block's data."""
        from geomcheck.search.counterexample import drop_norm

        return self.block.data.cached("study.dropped_norm", lambda: drop_norm(self.block))

    # ------------------------------------------------------------------ rays
    def rays(self, directions) -> list[RayResult]:
        """Per direction v: the neurons that flip on the ray t·v (t > 0) and the largest
        critical squared centred norm ``r_i²`` (DESIGN §2), from the path engine.

        ``ties_eps0`` counts neurons whose crossing polynomial vanishes identically at ε = 0
        (``d·β_i² = b'_i²·‖Pv‖²`` with ``sign(β_i) = −sign(b'_i)``: the pre-activation is 0 on the
        whole ray there). Such a neuron always reaches the exact stage: its filtered range
        touches the threshold at λ → ∞.
        """
        from geomcheck.geometry.paths import PathSpec
        from geomcheck.search.paths import analyse_path_fast

        out = []
        bias = None
        for v in directions:
            analysis = analyse_path_fast(self.block, PathSpec.ray(v))
            coef = analysis.coefficients
            norms = analysis.critical_norms
            flips = sum(len(f) for f in analysis.flips)
            best = max(norms, key=lambda item: (item[1], -item[0]), default=None)
            if bias is None:
                from geomcheck.search.exactrows import exact_folded_bias

                bias = exact_folded_bias(self.block)
            ties = 0
            for i, (_, beta) in analysis.lines.items():
                b = bias[i]
                if b != 0 and beta != 0 and (beta > 0) != (b > 0) and self.d * beta * beta == b * b * coef.n2:
                    ties += 1
            out.append(RayResult(flips, None if best is None else best[1], None if best is None else best[0],
                                 ties, coef.n2))
        return out

    # ------------------------------------------------------------------ paths
    def paths(self, pairs) -> list[PathResult]:
        """Exact gate-sign changes along ``x + λ·v`` for λ > 0 (open), for each (x, v)."""
        from geomcheck.geometry.paths import PathSpec
        from geomcheck.search.paths import analyse_path_fast

        out = []
        for x, v in pairs:
            spec = PathSpec(tuple(x), tuple(v), Fraction(0), None, False, False, "superposition")
            analysis = analyse_path_fast(self.block, spec)
            changed = [(c.at, f) for c, f in zip(analysis.crossings, analysis.flips) if f]
            neurons = sorted(i for _, f in changed for i in f)
            out.append(PathResult(len(neurons), changed[0][0] if changed else None, neurons,
                                  changed[-1][0] if changed else None))
        return out

    # ------------------------------------------------------------------ no norm
    def nonorm_rays(self, directions) -> list[NoNormRay]:
        """Flips along ``t·v`` with LayerNorm dropped (γ, β folded, not centred): the path engine
        on :attr:`dropped`; ``regions`` = distinct crossing scales + 1."""
        from geomcheck.geometry.paths import PathSpec
        from geomcheck.search.paths import analyse_path_fast

        out = []
        for v in directions:
            analysis = analyse_path_fast(self.dropped, PathSpec.ray(v))
            out.append(NoNormRay(sum(len(f) for f in analysis.flips), len(analysis.crossings) + 1))
        return out


def exact_layer(block: MLPBlock) -> ExactLayer:
    """The block's :class:`ExactLayer` (kept in ``block.data``)."""
    return block.data.cached("study.exact_layer", lambda: ExactLayer(block))


# ---------------------------------------------------------------------------
# the study driver

DEFAULT_TEXTS = (
    "The cat sat on the mat.",
    "Quantum chromodynamics describes how quarks bind into protons.",
    "She paid the invoice before the bank closed on Friday.",
    "Paris is the capital of France.",
)
FULL_TEXTS = DEFAULT_TEXTS + (
    "A neural network learns a function from examples.",
    "The river flooded the village after three days of rain.",
    "He plays the violin in an orchestra.",
    "Interest rates rose sharply last quarter.",
    "The enzyme catalyses the hydrolysis of ATP.",
    "They watched the football match at the stadium.",
    "import numpy as np",
    "Never gonna give you up, never gonna let you down.",
)

# the same wording as `path` and `counterexample` (geomcheck.results)
GELU_NOTE = GATE_PATTERNS_NOTE

# The study computes every count exactly but builds no certificate per row, so no row has been
# through geomcheck.verdicts.gate(): every status is an estimate, with how to have a row checked.
ROW_VERDICT = estimate("exact rational computation, but no certificate was checked for these rows; to have the "
                       "checker verify one: geomcheck ray/path MODEL ... --json (it checks in the same run)")


def _stats(values) -> dict:
    if not values:
        return {"count": 0}
    arr = np.asarray(values, dtype=float)
    return {"count": int(arr.size), "min": float(arr.min()), "median": float(np.median(arr)),
            "mean": float(arr.mean()), "max": float(arr.max())}


def _exact_vec(arr) -> tuple[Fraction, ...]:
    return tuple(map(Fraction, np.asarray(arr, dtype=np.float64).tolist()))


def study_layer(block: MLPBlock, tokens: list[tuple[str, tuple[Fraction, ...]]], *, seed: int, full: bool,
                progress=None, sizes: tuple[int, int, int] | None = None) -> dict:
    """(a) rays, (b) superposition paths, (c) the no-LayerNorm counterfactual for one block.

    ``sizes = (neurons, random directions, pairs)`` overrides the default/full sample sizes.
    """
    rng = np.random.default_rng(seed)
    layer = exact_layer(block)
    n, d = block.n, block.d
    k_neurons = n if full else 16
    k_random = 256 if full else 16
    k_pairs = 200 if full else 12
    if sizes is not None:
        k_neurons, k_random, k_pairs = min(sizes[0], n), sizes[1], sizes[2]
    neuron_ids = sorted(rng.choice(n, size=k_neurons, replace=False).tolist())
    w_out_cols = [tuple(row[k] for row in block.w_out) for k in range(n)] if block.d_out == d else []
    directions: list[tuple[str, str, tuple[Fraction, ...]]] = []
    directions += [("token", f"token {label}", vec) for label, vec in tokens]
    directions += [("neuron", f"neuron:{k}", tuple(block.w_in[k])) for k in neuron_ids]
    if w_out_cols:
        directions += [("neuron-out", f"neuron-out:{k}", w_out_cols[k]) for k in neuron_ids]
    directions += [("random", f"gaussian #{j}", _exact_vec(rng.standard_normal(d).astype(np.float32)))
                   for j in range(k_random)]
    directions = [item for item in directions if len(set(item[2])) > 1]  # constant vectors have no direction

    def chunks(items, size):
        for start in range(0, len(items), size):
            yield items[start:start + size]

    # (a) rays -------------------------------------------------------------
    rays: list[RayResult] = []
    for chunk in chunks([v for *_, v in directions], 32):
        rays.extend(layer.rays(chunk))
        if progress:
            progress.update(len(chunk))
    token_norm2 = [r.centred_norm2 for (kind, _, _), r in zip(directions, rays) if kind == "token"]
    max_r2 = max((r.max_r2 for r in rays if r.max_r2 is not None), default=None)
    below = sum(1 for s in token_norm2 if max_r2 is not None and s <= max_r2)  # exact comparison in ℚ
    by_kind = {}
    for kind in ("token", "neuron", "neuron-out", "random"):
        rs = [r for (k, _, _), r in zip(directions, rays) if k == kind]
        if rs:
            by_kind[kind] = {
                "directions": len(rs),
                "flips_eps": _stats([r.flips for r in rs]),
                "max_r": _stats([float(r.max_r2) ** 0.5 for r in rs if r.max_r2 is not None]),
                "ties_eps0": sum(r.ties_eps0 for r in rs),
            }
    worst = max(((r.max_r2, label, r.argmax) for (_, label, _), r in zip(directions, rays) if r.max_r2 is not None),
                default=None, key=lambda item: item[0])
    rays_out = {
        "eps": str(block.norm.eps),
        "directions": len(directions),
        "eps0_status": ROW_VERDICT.status,
        "eps0_statement": (f"at eps = 0 all {len(directions)} tested rays are region-constant for every t > 0 "
                           f"(crossing polynomial c·t²); neurons identically 0 on a ray: "
                           f"{sum(r.ties_eps0 for r in rays)}"),
        "max_r": None if max_r2 is None else float(max_r2) ** 0.5,
        "max_r2_exact": None if max_r2 is None else f"{max_r2.numerator}/{max_r2.denominator}",
        "worst_direction": None if worst is None else {"direction": worst[1], "neuron": worst[2]},
        "token_centred_norm": _stats([float(s) ** 0.5 for s in token_norm2]),
        "tokens_at_or_below_max_r": below,
        "exact": True,
        **ROW_VERDICT.to_json(),
        "by_kind": by_kind,
        "per_direction_max_r": [None if r.max_r2 is None else float(r.max_r2) ** 0.5 for r in rays],
        "per_direction_kind": [k for k, _, _ in directions],
    }

    # (b) superposition paths ---------------------------------------------------
    token_vecs = [v for _, v in tokens]
    pairs = []
    sources = ["token", "neuron", "neuron-out"] if w_out_cols else ["token", "neuron"]
    for j in range(k_pairs):
        xi = int(rng.integers(len(token_vecs)))
        kind = sources[j % len(sources)]
        if kind == "token":
            yi = int(rng.integers(len(token_vecs) - 1))
            yi += yi >= xi
            v, label = token_vecs[yi], f"token #{yi}"
        elif kind == "neuron":
            k = int(rng.integers(n))
            v, label = tuple(block.w_in[k]), f"neuron:{k}"
        else:
            k = int(rng.integers(n))
            v, label = w_out_cols[k], f"neuron-out:{k}"
        if len(set(v)) > 1:
            pairs.append((kind, xi, label, token_vecs[xi], v))
    results: list[PathResult] = []
    for chunk in chunks(pairs, 4):
        results.extend(layer.paths([(x, v) for *_, x, v in chunk]))
        if progress:
            progress.update(len(chunk))
    rel_first = []
    per_kind = {}
    for (kind, _, _, x, v), res in zip(pairs, results):
        if res.first is not None:
            rel = float(res.first) * _norm(v) / _norm(x)
            rel_first.append(rel)
        per_kind.setdefault(kind, []).append(res.changes)
    changes = [r.changes for r in results]
    paths_out = {
        "pairs": len(pairs),
        "exact": True,
        **ROW_VERDICT.to_json(),
        "changes": _stats(changes),
        "changes_by_direction_kind": {k: _stats(v) for k, v in per_kind.items()},
        "pairs_with_no_change": sum(1 for c in changes if c == 0),
        "first_change_relative": _stats(rel_first),
        "per_pair": [{"x": f"token #{xi}", "direction": label, "kind": kind, "changes": r.changes,
                      "first_lambda": None if r.first is None else float(r.first),
                      "first_relative": None if r.first is None else float(r.first) * _norm(v) / _norm(x)}
                     for (kind, xi, label, x, v), r in zip(pairs, results)],
    }

    # (c) no normalization --------------------------------------------------------
    nonorm: list[NoNormRay] = []
    for chunk in chunks([v for *_, v in directions], 32):
        nonorm.extend(layer.nonorm_rays(chunk))
        if progress:
            progress.update(len(chunk))
    flips = [r.flips for r in nonorm]
    nonorm_out = {
        "exact": True,
        **ROW_VERDICT.to_json(),
        "directions": len(nonorm),
        "flips": _stats(flips),
        "regions": _stats([r.regions for r in nonorm]),
        "polysemantic_rays": sum(1 for f in flips if f > 0),
        "per_direction_flips": flips,
    }
    return {"layer": block.name, "d": d, "n": n, "activation": block.activation.name,
            "rays": rays_out, "paths": paths_out, "nonorm": nonorm_out}


def _norm(v) -> float:
    return float(np.linalg.norm(np.asarray([float(x) for x in v])))


def study_work_units(full: bool, n_tokens: int, n: int = 1536) -> int:
    """Progress-bar total for one layer: ray chunks + path pairs + no-norm chunks."""
    k_neurons = n if full else 16
    directions = n_tokens + 2 * k_neurons + (256 if full else 16)
    return 2 * directions + (200 if full else 12)


def run_minilm_study(layers=None, *, seed: int = 0, full: bool = False, texts=None, progress: bool = True) -> dict:
    """The study on all-MiniLM-L6-v2: one :func:`study_layer` per layer, real token activations."""
    from geomcheck.io.activations import residual_activations
    from geomcheck.io.real import MINILM_LAYERS, load_minilm

    layers = list(range(MINILM_LAYERS)) if layers is None else list(layers)
    texts = list(texts or (FULL_TEXTS if full else DEFAULT_TEXTS))
    bar = None
    out = []
    for position, layer in enumerate(layers):
        block = load_minilm(layer)
        acts = residual_activations(block, texts)
        tokens = [(f"{tok!r} (text {ti}, pos {pi})", _exact_vec(vec))
                  for ti, (toks, arr) in enumerate(acts) for pi, (tok, vec) in enumerate(zip(toks, arr))]
        if progress and bar is None:
            from tqdm import tqdm

            bar = tqdm(total=study_work_units(full, len(tokens), block.n) * len(layers), desc="study minilm",
                       unit="item", leave=False)
        out.append(study_layer(block, tokens, seed=seed + layer, full=full, progress=bar))
    if bar is not None:
        bar.close()
    return {"model": "all-MiniLM-L6-v2", "seed": seed, "full": full, "texts": texts, "note": GELU_NOTE,
            "layers": out}
