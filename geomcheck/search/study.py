"""The real-model study: rays, superposition paths and the no-LayerNorm counterfactual.

Everything counted here is exact. Weights and activations are dyadic rationals;
dot products with the folded weights are done in integers over a common
denominator (numpy object arrays of Python ints: exact, ~30 ms for a
1536 × 384 layer), and every sign and root is decided with the exact kernel
(:mod:`geomcheck.exact`). Decimals in the output are displays of exact numbers.

With ``u = P·x``, ``N(λ) = ‖u(λ)‖² + dε`` and ``h_i = (√d·(w̃_i·u) + b'_i·√N)/√N``
(DESIGN §2):

* **ray** ``t·v``: with ``S = ‖Pv‖²`` and ``p_i = w̃_i·Pv``, the crossing polynomial
  is ``t²·(d·p_i² − b'_i²·S) − b'_i²·dε``. At ε = 0 it is ``c·t²``: no crossing at
  any t > 0 (unless c = 0 and the sign condition holds: the whole ray lies on
  the boundary, reported as a tie). At ε > 0 neuron i flips once, at centred
  norm ``r_i² = dε·c²/(1 − c²)``, ``c² = b'_i²·S/(d·p_i²)``, iff
  ``sign(p_i) = −sign(b'_i)`` and ``c² < 1``; above ``max r_i`` the ray is
  region-constant.
* **path** ``x + λ·v``, λ > 0: neuron i's sign can change only at real roots of
  ``g(λ) = d·(p + qλ)² − b'²·N(λ)``; the sign of h is evaluated exactly at a
  rational point of every interval between roots, so a count is the exact
  number of gate-sign changes (touching roots do not count).
* **no normalization** (γ, β folded, nothing divides): along ``t·v`` neuron i
  flips iff ``w'_i·v`` and ``b'_i`` have strictly opposite signs, at
  ``t_i = −b'_i/(w'_i·v)``; distinct ``t_i`` + 1 regions.

GELU honesty: for GELU blocks these are changes of the gate-sign pattern; the
block is smooth and the map between two changes is not affine.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from geomcheck.exact.bulk import common_denominator, fold_rows
from geomcheck.exact.quadratic import QuadraticRoot, real_roots
from geomcheck.errors import DegenerateInput
from geomcheck.exact.signs import sign_a_plus_b_sqrt_c
from geomcheck.model.block import MLPBlock
from geomcheck.results import GATE_PATTERNS_NOTE
from geomcheck.verdicts import estimate

__all__ = ["ExactLayer", "exact_layer", "RayResult", "PathResult", "NoNormRay", "study_layer", "run_minilm_study"]


def _int_matrix(rows) -> tuple[np.ndarray, int]:
    numerators, den = common_denominator(v for row in rows for v in row)
    d = len(rows[0])
    arr = np.empty((len(rows), d), dtype=object)
    arr[:] = [numerators[i * d:(i + 1) * d] for i in range(len(rows))]
    return arr, den


def _int_vectors(vectors) -> tuple[np.ndarray, list[int]]:
    """Columns: each vector as integers over its own denominator."""
    cols, dens = [], []
    for v in vectors:
        nums, den = common_denominator(v)
        cols.append(nums)
        dens.append(den)
    arr = np.empty((len(cols[0]), len(cols)), dtype=object)
    for k, col in enumerate(cols):
        arr[:, k] = col
    return arr, dens


def _centred_integers(v) -> tuple[list[int], int]:
    """P·v as integers over one denominator: ``(d·n_k − Σn)/(d·L)`` for ``v = n/L``."""
    nums, den = common_denominator(v)
    total = sum(nums)
    d = len(nums)
    return [d * x - total for x in nums], d * den


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
    """Integer forms of a LayerNorm block's folded weights for bulk exact dot products."""

    def __init__(self, block: MLPBlock):
        if not block.norm.centers or not block.norm.scales:
            raise ValueError("the study needs a LayerNorm block")
        self.block = block
        self.d = block.d
        self.eps = block.norm.eps
        f = block.folded
        self.bias = f.bias
        self.bias_num, self.bias_den = common_denominator(f.bias)
        self.w, self.w_den = _int_matrix(f.weights)
        uncentred, bias = fold_rows(block.w_in, block.b_in, block.norm.gamma, block.norm.beta, False)
        self.w_raw, self.w_raw_den = _int_matrix(uncentred)
        self.bias_raw = bias
        self.bias_raw_num, _ = common_denominator(bias)

    def dots(self, vectors, centred_weights: bool = True) -> list[list[Fraction]]:
        """Exact ``W̃·v`` (or ``W'·v``) for each vector: one list of n Fractions per vector."""
        w, w_den = (self.w, self.w_den) if centred_weights else (self.w_raw, self.w_raw_den)
        cols, dens = _int_vectors(vectors)
        products = w.dot(cols)  # object dtype: exact Python integer arithmetic
        return [[Fraction(int(x), w_den * dens[k]) for x in products[:, k]] for k in range(len(vectors))]

    # ------------------------------------------------------------------ rays
    def rays(self, directions) -> list[RayResult]:
        """Exact ray thresholds in integers.

        With ``Pv = an/a``, ``w̃ = Wn/W``, ``b' = β/E``: ``p_i = P_i/(W·a)``, ``S = A0/a²``,
        so ``c² = β²·A0·W² / (E²·d·P_i²)`` and ``r_i² = dε·β²A0W² / (E²dP_i² − β²A0W²)``.
        """
        vecs = [_centred_integers(v) for v in directions]
        cols = np.empty((self.d, len(vecs)), dtype=object)
        for k, (nums, _) in enumerate(vecs):
            cols[:, k] = nums
        products = self.w.dot(cols)
        d, eps = self.d, self.eps
        w2, e2d = self.w_den * self.w_den, self.bias_den * self.bias_den * d
        results = []
        for k, (nums, den) in enumerate(vecs):
            a0 = sum(x * x for x in nums)
            best_num, best_den, arg, flips, ties = 0, 1, None, 0, 0
            for i, (pi, beta) in enumerate(zip(products[:, k].tolist(), self.bias_num)):
                if pi == 0 or beta == 0 or (pi > 0) == (beta > 0):
                    continue  # the sign condition sign(p) = −sign(b') fails: no crossing
                top = beta * beta * a0 * w2          # c² = top / bottom
                bottom = e2d * pi * pi
                if top == bottom:
                    ties += 1  # at ε = 0 the neuron is 0 on the whole ray; at ε > 0 it never flips
                    continue
                if top > bottom or eps == 0:
                    continue
                flips += 1
                # r² ∝ top / (bottom − top); compare r² values by cross-multiplication
                if arg is None or top * best_den > best_num * (bottom - top):
                    best_num, best_den, arg = top, bottom - top, i
            best = None if arg is None else d * eps * Fraction(best_num, best_den)
            results.append(RayResult(flips, best, arg, ties, Fraction(a0, den * den)))
        return results

    # ------------------------------------------------------------------ paths
    def paths(self, pairs) -> list[PathResult]:
        """Exact gate-sign changes along ``x + λ·v`` for λ > 0, for each (x, v)."""
        if not pairs:
            return []
        a_list, b_list = [], []
        for x, v in pairs:
            a_list.append(_centred_integers(x))
            b_list.append(_centred_integers(v))
        cols = np.empty((self.d, 2 * len(pairs)), dtype=object)
        for k, (nums, _) in enumerate(a_list + b_list):
            cols[:, k] = nums
        products = self.w.dot(cols)  # exact integers: W̃ numerators · centred numerators
        m = len(pairs)
        return [self._path(a_list[k], b_list[k], products[:, k].tolist(), products[:, m + k].tolist())
                for k in range(m)]

    def _path(self, a, b, P, Q) -> PathResult:
        """Integer form of DESIGN §2's path quadratic, one neuron at a time.

        With ``Pa = an/a``, ``Pv = bn/b``, ``W̃ = Wn/W``, ``b' = β/E``, ``ε = e1/e2``:
        ``√d·(w̃·u) + b'·√N`` has the sign of ``√(d·e2)·E·(b·P + a·Q·λ) + β·W·√(e2·M(λ))``
        with ``M(λ) = b²·A0 + dε·a²b² + 2ab·B0·λ + a²·C0·λ²`` (A0 = an·an, B0 = an·bn,
        C0 = bn·bn), and its zeros are the roots of
        ``g(λ) = d·e2·E²·(bP + aQλ)² − β²W²·e2·M(λ)`` (integer coefficients) where
        ``sign(bP + aQλ) = −sign(β)``. At a simple such root h changes sign; at a
        double root it touches 0 and keeps its sign (the other factor of g,
        ``√d·A − b'·√N``, is nonzero there). β = 0: h has the sign of bP + aQλ.
        """
        an, da = a
        bn, db = b
        d = self.d
        e1, e2 = self.eps.numerator, self.eps.denominator
        big_w, big_e = self.w_den, self.bias_den
        a0 = sum(x * x for x in an)
        b0 = sum(x * y for x, y in zip(an, bn))
        c0 = sum(y * y for y in bn)
        if e1 == 0 and b0 * b0 == a0 * c0 and b0 < 0:
            raise DegenerateInput("path: x + λ·v passes through a constant vector, where LayerNorm with eps = 0 is undefined")
        m0 = e2 * db * db * a0 + d * e1 * da * da * db * db
        m1 = 2 * e2 * da * db * b0
        m2 = e2 * da * da * c0
        k_lin = d * e2 * big_e * big_e
        changes, neurons = 0, []
        roots: list[tuple[QuadraticRoot, int]] = []
        for i, (pi, qi, beta) in enumerate(zip(P, Q, self.bias_num)):
            alpha0, alpha1 = db * pi, da * qi  # A(λ) ∝ alpha0 + alpha1·λ
            if beta == 0:
                if alpha1 != 0 and (alpha0 > 0) != (alpha1 > 0) and alpha0 != 0:
                    changes += 1
                    neurons.append(i)
                    roots.append((QuadraticRoot.rational(Fraction(-alpha0, alpha1)), i))
                continue
            s = beta * beta * big_w * big_w
            g2 = k_lin * alpha1 * alpha1 - s * m2
            g1 = 2 * k_lin * alpha0 * alpha1 - s * m1
            g0 = k_lin * alpha0 * alpha0 - s * m0
            want = -1 if beta > 0 else 1  # sign(A) at a true zero
            if g2 == 0:
                if g1 == 0:
                    continue
                # λ = −g0/g1 > 0, and sign(alpha0·g1 − alpha1·g0)·sign(g1) = sign(A(λ))
                if g0 == 0 or (g0 > 0) == (g1 > 0):
                    continue
                side = alpha0 * g1 - alpha1 * g0
                if side != 0 and ((side > 0) == (g1 > 0)) == (want > 0):
                    changes += 1
                    neurons.append(i)
                    roots.append((QuadraticRoot.rational(Fraction(-g0, g1)), i))
                continue
            disc = g1 * g1 - 4 * g2 * g0
            if disc <= 0:
                continue  # no real root, or a double root where h only touches 0
            # quick exclusion: no positive root when product g0/g2 > 0 and sum −g1/g2 ≤ 0
            if (g0 > 0) == (g2 > 0) and g0 != 0 and (g1 == 0 or (g1 > 0) == (g2 > 0)):
                continue
            for r in real_roots(g2, g1, g0):
                if r.sign() <= 0:
                    continue
                # r = p + q·√D exactly, so A(r) = (alpha0 + alpha1·p) + alpha1·q·√D
                side_sign = sign_a_plus_b_sqrt_c(alpha0 + alpha1 * r.p, alpha1 * r.q, r.D)
                if side_sign == want:
                    changes += 1
                    neurons.append(i)
                    roots.append((r, i))
        first = min((r for r, _ in roots), default=None)
        last = max((r for r, _ in roots), default=None)
        return PathResult(changes, first, neurons, last)

    # ------------------------------------------------------------------ no norm
    def nonorm_rays(self, directions) -> list[NoNormRay]:
        """Exact flips along ``t·v`` without normalization, in integers.

        ``w'_i·v = R_i/(W·L)`` and ``b'_i = β_i/E`` with positive W, L, E: neuron i flips
        iff R_i and β_i have strictly opposite signs, at ``t_i = −(β_i/R_i)·(W·L/E)``;
        the common positive factor does not change which t_i coincide.
        """
        vecs = [common_denominator(v) for v in directions]
        cols = np.empty((self.d, len(vecs)), dtype=object)
        for k, (nums, _) in enumerate(vecs):
            cols[:, k] = nums
        products = self.w_raw.dot(cols)
        out = []
        for k in range(len(vecs)):
            crossings = set()
            flips = 0
            for wv, beta in zip(products[:, k].tolist(), self.bias_raw_num):
                if wv != 0 and beta != 0 and (wv > 0) != (beta > 0):
                    flips += 1
                    crossings.add(Fraction(-beta, wv))
            out.append(NoNormRay(flips, len(crossings) + 1))
        return out


_LAYERS: "weakref.WeakKeyDictionary[MLPBlock, ExactLayer]" = weakref.WeakKeyDictionary()


def exact_layer(block: MLPBlock) -> ExactLayer:
    """The cached :class:`ExactLayer` of a block."""
    if block not in _LAYERS:
        _LAYERS[block] = ExactLayer(block)
    return _LAYERS[block]


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
