"""Benchmark of the path engines on a GPT-2-sized random layer (run on demand, not in tests).

    python bench/bench_paths.py [--d 768] [--n 3072] [--paths 1000] [--samples 10000] [--eager]

One superposition path x + λ·v (λ ∈ [0, ∞)) and one short arc through a random
LayerNorm layer (ε = 1e-5, float64 weights normal/√d read exactly):
exact-with-filter (analyse_path_fast) vs float-only roots vs dense sampling at
10⁴ points (batched: one (samples × d) @ (d × n) product); then ``paths``
paths batched (analyse_paths_batch) as paths/s and as a fraction of the
measured rate of one matrix product of the same shapes. Prints a table and a
final JSON line.

The block is built the way loaders build real layers, ``MLPBlock.from_float_arrays``
(the float arrays are the exact weights; Fractions only where read), or with
``--eager`` from a Fraction per weight (the first release's way). ``setup_s`` is the
block plus its float copies; ``cold_over_warm`` is the first path's time after the
block was built over the same path's best warm time.

``exact`` is the analysis as the filtered engine returns it: crossings, their order and
neurons, every segment's pattern and every map change decided exactly (by rigorous float
interval arithmetic when the order certifies, :mod:`geomcheck.search.pathorder`, else by
exact arithmetic); ``+forms`` adds reading one exact form, which builds every crossing's
exact root and rational interval and every segment's rational witness (what ``--json`` and
certificates print). ``order`` says which way the order was decided. Issue 10's target is
exact ≤ 20× the float-only roots.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from fractions import Fraction
from pathlib import Path

# BLAS threads before numpy loads: default 1 (a shared 2-core machine makes threaded BLAS
# 20× slower on matrix-vector products); --threads N or GEOMCHECK_BENCH_THREADS=N to change
_threads = os.environ.get("GEOMCHECK_BENCH_THREADS") or (sys.argv[sys.argv.index("--threads") + 1]
                                                       if "--threads" in sys.argv else "1")
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, _threads)

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geomcheck.geometry.paths import PathSpec  # noqa: E402
from geomcheck.model import MLPBlock, get_activation, make_normalization  # noqa: E402
from geomcheck.search.floats import float_arrays  # noqa: E402
from geomcheck.geometry.paths import path_coefficients  # noqa: E402
from geomcheck.search.paths import analyse_path_fast, analyse_paths_batch, candidate_neurons  # noqa: E402


def best(fn, repeat=3):
    times = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def float_only(a, x, v, d, eps, start=0.0, end=np.inf):
    """What a float-only engine does: roots of every q_i in float64, side condition, sort."""
    xc, vc = x - x.mean(), v - v.mean()
    alpha, beta = a.folded_w @ xc, a.folded_w @ vc
    b2 = a.folded_b**2
    n0, n1, n2 = xc @ xc + d * eps, xc @ vc, vc @ vc
    qa, qb, qc = d * beta**2 - b2 * n2, 2 * (d * alpha * beta - b2 * n1), d * alpha**2 - b2 * n0
    disc = qb * qb - 4 * qa * qc
    root = np.sqrt(np.maximum(disc, 0))
    t = -0.5 * (qb + np.copysign(root, qb))
    roots = []
    for r in (t / qa, qc / t):
        ok = (disc >= 0) & (r >= start) & (r <= end) & (np.sign(alpha + beta * r) == -np.sign(a.folded_b))
        roots.append(r[ok])
    return np.sort(np.concatenate(roots))


def sampling(a, x, v, d, eps, lams):
    """Dense sampling as a competent user writes it: one batched product, then sign changes."""
    pts = x[None, :] + lams[:, None] * v[None, :]
    u = pts - pts.mean(axis=1, keepdims=True)
    z = u / np.sqrt((u * u).mean(axis=1, keepdims=True) + eps)
    h = z @ a.folded_w.T + a.folded_b
    s = h > 0
    return int((s[1:] != s[:-1]).sum())


def with_exact_forms(analysis):
    """Read one exact form: builds every crossing's exact root and interval and every witness."""
    _ = analysis.segments[0].witness
    return analysis


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--d", type=int, default=768)
    p.add_argument("--n", type=int, default=3072)
    p.add_argument("--paths", type=int, default=1000)
    p.add_argument("--samples", type=int, default=10000)
    p.add_argument("--threads", default="1", help="BLAS threads (set before numpy loads)")
    p.add_argument("--eager", action="store_true", help="build the block from Fractions (the old way) for comparison")
    args = p.parse_args()
    d, n = args.d, args.n
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    W = rng.normal(size=(n, d)) / np.sqrt(d)
    b = rng.normal(size=n) * 0.5
    Wo = rng.normal(size=(d, n)) / np.sqrt(n)
    eps = Fraction(1e-5)
    if args.eager:  # every weight a Fraction, the fold exact up front (the first release's way)
        block = MLPBlock(tuple(map(tuple, (map(Fraction, r) for r in W.tolist()))),
                         tuple(map(Fraction, b.tolist())),
                         tuple(map(tuple, (map(Fraction, r) for r in Wo.tolist()))),
                         tuple(Fraction(0) for _ in range(d)), make_normalization("layernorm", eps),
                         get_activation("relu"), name="random-gpt2-layer")
    else:  # the float arrays are the exact weights; Fractions only where read
        block = MLPBlock.from_float_arrays(W, b, Wo, np.zeros(d), make_normalization("layernorm", eps),
                                           get_activation("relu"), name="random-gpt2-layer")
    setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    a = float_arrays(block)  # float64 copies (folded in float with error bounds, or rounded from the exact fold)
    float_setup = time.perf_counter() - t0

    x = rng.normal(size=d)
    v = rng.normal(size=d)
    rows = []
    results = {}
    for label, spec, end in (
        ("superposition x + λv, λ ≥ 0", PathSpec.superposition(tuple(map(Fraction, x)), tuple(map(Fraction, v))), np.inf),
        ("short arc x → x + 0.05·v", PathSpec.arc(tuple(map(Fraction, x)), tuple(map(Fraction, x + 0.05 * v))), 1.0),
        ("tiny arc x → x + 1e-4·v", PathSpec.arc(tuple(map(Fraction, x)), tuple(map(Fraction, x + 1e-4 * v))), 1.0),
    ):
        vv = np.array([float(c) for c in spec.direction])
        t_cold = time.perf_counter()
        analysis = analyse_path_fast(block, spec)
        cold = time.perf_counter() - t_cold
        t_exact, analysis = best(lambda: analyse_path_fast(block, spec))
        certified = analysis.segments[0].__dict__.get("_witness", 0) is None  # order certified, forms lazy
        t_forms, _ = best(lambda: with_exact_forms(analyse_path_fast(block, spec)))
        t_float, roots = best(lambda: float_only(a, x, vv, d, float(eps), 0.0, end), 5)
        hi = end if np.isfinite(end) else 4 * float(analysis.crossings[-1].at) if analysis.crossings else 1.0
        lams = np.linspace(0, hi, args.samples)
        t_sample, changes = best(lambda: sampling(a, x, vv, d, float(eps), lams))
        rows.append((label, len(analysis.crossings), len(roots), changes, cold, t_exact, t_float, t_sample, t_forms,
                     certified))
        coef = path_coefficients(block, spec)
        t_filter, _ = best(lambda: (path_coefficients(block, spec), candidate_neurons(block, spec, coef)), 5)
        results[label] = dict(exact_over_float=t_exact / t_float, sampling_over_exact=t_sample / t_exact,
                              forms_over_float=t_forms / t_float,
                              filter_over_float=t_filter / t_float,
                              exact_ms_per_crossing=(t_exact - t_filter) * 1e3 / max(1, len(analysis.crossings)))

    m = args.paths
    X = rng.normal(size=(m, d))
    V = rng.normal(size=(m, d))
    t_batch, batch = best(lambda: analyse_paths_batch(block, X, V), 3)
    Wt = np.ascontiguousarray(a.folded_w.T)
    XV = np.concatenate([X, V])
    t_mm, _ = best(lambda: XV @ Wt, 5)
    flops = 2 * (2 * m) * d * n
    fraction = t_mm / t_batch

    print(f"BLAS threads {os.environ.get('OPENBLAS_NUM_THREADS')}")
    print(f"layer d = {d}, n = {n}, LayerNorm eps = 1e-5; block {'eager (Fractions)' if args.eager else 'lazy (float arrays)'}: "
          f"build {setup:.2f} s, float copies {float_setup:.2f} s; first path after loading {rows[0][4]*1e3:.0f} ms "
          f"= {rows[0][4] / rows[0][5]:.1f}× a warm one")
    print(f"{'path':<30} {'crossings':>9} {'float roots':>11} {'sampled flips':>13} {'exact cold':>10} "
          f"{'exact':>9} {'+forms':>9} {'float':>9} {'sampling':>9} {'order':>9}")
    for r in rows:
        print(f"{r[0]:<30} {r[1]:>9} {r[2]:>11} {r[3]:>13} {r[4]*1e3:>8.1f}ms {r[5]*1e3:>7.1f}ms {r[8]*1e3:>7.1f}ms "
              f"{r[6]*1e3:>7.2f}ms {r[7]*1e3:>7.1f}ms {'certified' if r[9] else 'exact':>9}")
    print(f"batched: {m} paths in {t_batch*1e3:.1f} ms = {m / t_batch:.0f} paths/s; matmul of the same shapes "
          f"{t_mm*1e3:.1f} ms ({flops / t_mm / 1e9:.1f} GFLOP/s); batched/matmul rate = {fraction:.2f}")
    for label, r in results.items():
        print(f"{label:<30} exact/float {r['exact_over_float']:.1f}× (with every exact form built "
              f"{r['forms_over_float']:.1f}×), filter stage/float {r['filter_over_float']:.2f}×, "
              f"sampling/exact {r['sampling_over_exact']:.1f}×, exact work {r['exact_ms_per_crossing']:.3f} ms per crossing")
    first = results[rows[0][0]]
    arc = results[rows[1][0]]
    tiny = results[rows[2][0]]
    print(json.dumps({
        "d": d, "n": n, "exact_over_float": round(first["exact_over_float"], 3),
        "sampling_over_exact": round(first["sampling_over_exact"], 3),
        "forms_over_float": round(first["forms_over_float"], 3), "certified_order": rows[0][9],
        "arc_forms_over_float": round(arc["forms_over_float"], 3),
        "arc_exact_over_float": round(arc["exact_over_float"], 3),
        "arc_sampling_over_exact": round(arc["sampling_over_exact"], 3),
        "tiny_arc_crossings": rows[2][1], "tiny_arc_exact_over_float": round(tiny["exact_over_float"], 3),
        "filter_stage_over_float": round(first["filter_over_float"], 3),
        "exact_ms_per_crossing": round(first["exact_ms_per_crossing"], 4),
        "crossings": rows[0][1], "batched_paths_per_s": round(m / t_batch, 1),
        "batched_fraction_of_matmul": round(fraction, 3), "matmul_gflops": round(flops / t_mm / 1e9, 2),
        "setup_s": round(setup + float_setup, 2), "block_build_s": round(setup, 3),
        "float_copies_s": round(float_setup, 3), "cold_over_warm": round(rows[0][4] / rows[0][5], 3),
        "eager": bool(args.eager), "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
    }))


if __name__ == "__main__":
    main()
