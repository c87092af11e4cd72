"""``geomcheck study smollm2``: the essay's three questions on SmolLM2's gated (SwiGLU) MLPs.

The pattern is the SiLU **gate's** sign pattern (``W_gate·N(x)``); the block is bilinear in the
normalized point on each gate region, never affine. SmolLM2's gates have no bias, so (DESIGN §2,
:mod:`geomcheck.model.gated`):

* **(a) rays** ``t·v``: every ray is gate-constant at the model's ε = float32(10⁻⁵) — and at every
  ε, and without RMSNorm — because every gate hyperplane passes through the origin, not because
  RMSNorm maps onto a sphere (the essay's claim holds here for a different reason).
* **(b) superposition** ``x + λ·d``: the gate pattern changes where ``g̃_i·x + λ·g̃_i·d = 0``
  (``g̃_i = g_i ⊙ γ``): rational λ, exactly counted by the path engine.
* **(c) no normalization** (γ kept, the RMS scaling removed: ``y ↦ γ ⊙ y``): the same rays and
  paths through the norm-free block — the study checks that every path flips at exactly the same
  λ (exact comparison), and that the rays stay gate-constant.

Every count comes from the one path engine (:func:`geomcheck.search.paths.analyse_path_fast`:
exact, filtered); no row certificate is checked here, so each status is *estimate*
(``geomcheck ray/path smollm2:L ...`` checks one in the same run).
"""

from __future__ import annotations

from fractions import Fraction

from geomcheck.errors import InvalidInput

__all__ = ["run_smollm2_study", "study_gated_layer", "human"]

DEFAULT_TEXTS = ("The capital of France is Paris.", "def add(a, b): return a + b",
                 "She paid the invoice before the bank closed on Friday.")
FULL_TEXTS = DEFAULT_TEXTS + ("Quantum chromodynamics describes how quarks bind into protons.",
                              "Never gonna give you up, never gonna let you down.", "The cat sat on the mat.")


def _no_norm(block):
    """The gated block with the RMS scaling removed and γ kept (gate/up rows act on γ ⊙ y): built as the
    no-norm block on W_gate, W_up, evaluated at γ ⊙ y (the same function, no weight copied)."""
    from geomcheck.model.gated import GatedMLPBlock
    from geomcheck.model.norms import make_normalization

    def build():
        return GatedMLPBlock.from_parts(block.w_in, block.b_in, block.w_up, block.b_up, block.w_out, block.b_out,
                                        make_normalization("none"), block.activation, f"{block.name} without RMSNorm")
    return block.data.cached("study.gated_no_norm", build)


def study_gated_layer(block, tokens: list[tuple[str, tuple[Fraction, ...]]], *, seed: int, full: bool) -> dict:
    """(a) rays, (b) superposition paths, (c) the same without the RMS scaling, for one gated block."""
    import numpy as np

    from geomcheck.geometry.paths import PathSpec
    from geomcheck.search.paths import analyse_path_fast
    from geomcheck.studies.study import ROW_VERDICT, _exact_vec, _stats

    if block.norm.kind != "rmsnorm" or not hasattr(block, "w_up"):
        raise InvalidInput(f"study: {block.name} is not a gated RMSNorm block")
    rng = np.random.default_rng(seed)
    n, d = block.n, block.d
    k = n if full else min(16, n)
    ids = sorted(rng.choice(n, size=k, replace=False).tolist())
    gamma = block.norm.gamma or (Fraction(1),) * d
    scaled = lambda v: tuple(g * x for g, x in zip(gamma, v))  # noqa: E731
    directions = [("token", label, v) for label, v in tokens]
    directions += [("gate", f"neuron:{i}", tuple(block.w_in[i])) for i in ids]
    directions += [("up", f"up:{i}", tuple(block.w_up[i])) for i in ids]
    directions += [("down", f"neuron-out:{i}", block.w_out_column(i)) for i in ids]
    directions += [("random", f"gaussian #{j}", _exact_vec(rng.standard_normal(d).astype(np.float32)))
                   for j in range(256 if full else 16)]
    directions = [item for item in directions if any(item[2])]
    free = _no_norm(block)

    ray_flips = [len(analyse_path_fast(block, PathSpec.ray(v)).crossings) for *_, v in directions]
    nonorm_flips = [len(analyse_path_fast(free, PathSpec.ray(scaled(v))).crossings) for *_, v in directions]

    token_vecs = [v for _, v in tokens]
    pairs = []
    for j in range(200 if full else 12):
        xi = int(rng.integers(len(token_vecs)))
        kind = ("token", "gate", "down")[j % 3]
        if kind == "token":
            yi = int(rng.integers(len(token_vecs) - 1))
            yi += yi >= xi
            label, v = f"token #{yi} − token #{xi}", tuple(b - a for a, b in zip(token_vecs[xi], token_vecs[yi]))
        else:
            i = int(rng.integers(n))
            label, v = (f"neuron:{i}", tuple(block.w_in[i])) if kind == "gate" else (f"neuron-out:{i}", block.w_out_column(i))
        if any(v):
            pairs.append((kind, xi, label, token_vecs[xi], v))
    rows = []
    for kind, xi, label, x, v in pairs:
        spec = PathSpec(tuple(x), tuple(v), Fraction(0), Fraction(1) if kind == "token" else None, False,
                        kind == "token", "superposition")
        with_norm = analyse_path_fast(block, spec)
        without = analyse_path_fast(free, PathSpec(scaled(x), scaled(v), spec.start, spec.end, False, spec.end_closed,
                                                   "superposition"))
        flips = [(c.at, f) for c, f in zip(with_norm.crossings, with_norm.flips) if f]
        rows.append({"x": f"token #{xi}", "direction": label, "kind": kind, "domain": with_norm.spec.describe(),
                     "changes": sum(len(f) for _, f in flips),
                     "all_rational": all(c.at.is_rational for c in with_norm.crossings),
                     "first_lambda": None if not flips else float(flips[0][0]),
                     "same_flips_without_norm": [(c.at, c.neurons) for c in with_norm.crossings]
                     == [(c.at, c.neurons) for c in without.crossings]})
    changes = [r["changes"] for r in rows]
    return {
        "layer": block.name, "d": d, "n": n, "activation": block.activation.name, "eps": str(block.norm.eps),
        "gate_bias_free": block.gate_bias_free,
        "rays": {"directions": len(directions), "gate_constant": sum(1 for f in ray_flips if f == 0),
                 "by_kind": {kind: sum(1 for (kk, *_), f in zip(directions, ray_flips) if kk == kind and f == 0)
                             for kind in ("token", "gate", "up", "down", "random")},
                 "exact": True, **ROW_VERDICT.to_json()},
        "paths": {"pairs": len(rows), "changes": _stats(changes), "pairs_with_no_change": changes.count(0),
                  "all_flips_rational": all(r["all_rational"] for r in rows),
                  "same_flips_without_norm": sum(r["same_flips_without_norm"] for r in rows),
                  "per_pair": rows, "exact": True, **ROW_VERDICT.to_json()},
        "nonorm": {"directions": len(directions), "gate_constant_rays": sum(1 for f in nonorm_flips if f == 0),
                   "exact": True, **ROW_VERDICT.to_json()},
    }


def run_smollm2_study(layers=None, *, seed: int = 0, full: bool = False, texts=None, progress: bool = False) -> dict:
    """The gated study on SmolLM2-135M-Instruct: real token activations (transformers, offline)."""
    from geomcheck.io.gguf import SMOLLM2_LAYERS, load_smollm2, smollm2_residuals
    from geomcheck.model.gated import GATED_PATTERN_NOTE
    from geomcheck.studies.study import _exact_vec

    layers = [0, 15, 29] if layers is None else list(layers)
    for layer in layers:
        if not 0 <= layer < SMOLLM2_LAYERS:
            raise InvalidInput(f"--layers: layer {layer} does not exist (valid: 0 … {SMOLLM2_LAYERS - 1})")
    texts = list(texts or (FULL_TEXTS if full else DEFAULT_TEXTS))
    out = []
    for layer in layers:
        block = load_smollm2(layer)
        acts = smollm2_residuals(layer, texts)
        tokens = [(f"{tok!r} (text {ti}, pos {pi})", _exact_vec(vec))
                  for ti, (toks, arr) in enumerate(acts) for pi, (tok, vec) in enumerate(zip(toks, arr))]
        out.append(study_gated_layer(block, tokens, seed=seed + layer, full=full))
    return {"model": "SmolLM2-135M-Instruct", "seed": seed, "full": full, "texts": texts, "note": GATED_PATTERN_NOTE,
            "layers": out}


def human(p: dict) -> str:
    lines = [f"geomcheck study: {p['model']}  (seed {p['seed']}{', full' if p['full'] else ''}; {len(p['texts'])} texts)",
             f"note: {p['note']}.", "",
             "(a) rays t·v, t > 0, at the model's eps — bias-free gates: every gate hyperplane passes through 0",
             f"{'layer':<12}{'bias-free':>10}{'dirs':>6}{'gate-constant':>15}  (tokens, gate rows, up rows, W_down columns, random)"]
    for L in p["layers"]:
        r = L["rays"]
        lines.append(f"{L['layer']:<12}{'yes' if L['gate_bias_free'] else 'no':>10}{r['directions']:>6}{r['gate_constant']:>15}")
    lines += ["", "(b) superposition x + λ·d (x a token; d: another token − x with λ ∈ [0, 1], a gate row or a W_down "
                  "column with λ ≥ 0): exact gate-sign changes",
              f"{'layer':<12}{'pairs':>6}{'changes min':>13}{'median':>8}{'max':>7}{'no change':>11}{'all λ rational':>16}"]
    for L in p["layers"]:
        b, c = L["paths"], L["paths"]["changes"]
        fmt = lambda x: "-" if x is None else f"{x:.0f}"  # noqa: E731
        lines.append(f"{L['layer']:<12}{b['pairs']:>6}{fmt(c.get('min')):>13}{fmt(c.get('median')):>8}{fmt(c.get('max')):>7}"
                     f"{b['pairs_with_no_change']:>11}{'yes' if b['all_flips_rational'] else 'no':>16}")
    lines += ["", "(c) without the RMS scaling (y ↦ γ ⊙ y): rays still gate-constant; paths flip at exactly the same λ",
              f"{'layer':<12}{'rays':>6}{'gate-constant':>15}{'paths':>7}{'same flips':>12}"]
    for L in p["layers"]:
        lines.append(f"{L['layer']:<12}{L['nonorm']['directions']:>6}{L['nonorm']['gate_constant_rays']:>15}"
                     f"{L['paths']['pairs']:>7}{L['paths']['same_flips_without_norm']:>12}")
    lines += ["", "The essay's claim (rays keep one pattern) holds on these layers, but because the gates have no bias, "
                  "not because RMSNorm maps onto a sphere: (c) shows the same without it. Counts are exact (path engine); "
                  "no certificate was checked for these rows, so their status is estimate — geomcheck ray/path smollm2:L "
                  "... checks one in the same run."]
    return "\n".join(lines)
