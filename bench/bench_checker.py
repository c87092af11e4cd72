"""Benchmark of the trusted checker (run on demand, not in tests).

    python bench/bench_checker.py [--skip-minilm] [--skip-gpt2]

1. ``geomcheck ray minilm:3 --direction neuron:7 --certificate C``: the checker on C in a fresh
   process (``python -m geomcheck.checker C``: wall time and peak RSS), the certificate's size with the
   model embedded and detached (geomcheck.certify.envelope), and the detached check with ``--model``.
   Targets (issue 11): ≤ 3 s and ≤ 300 MB; ≤ 2 MB detached.
2. A superposition path x + λv on a random GPT-2-sized LayerNorm layer (d = 768, n = 3072, as in
   bench/bench_paths.py; 1342 crossings): the check with the model already read (what the verdict gate
   pays per certificate once a block is loaded; target ≤ 2 s), reading + hashing + folding the model,
   and the cold check in a fresh process.

Before this rewrite (commit 52186d1, same machine, contended): MiniLM ray 36 s / 517 MB; the
certificate 32 MB. Then (4ca1675 → branch slim2, interleaved runs on the shared 2-core machine): GPT-2 layer path
check 2.14 s → 1.07–1.22 s (integer roots, no grammar re-check of a model already read, operator.mul dot
products); MiniLM ray 1.41–1.50 s / 208 MB → 1.18 s / 207 MB. Prints a table and a final JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def fresh(*args: str) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, first output line) of ``python ARGS`` in a new process (GNU time -f %M)."""
    t = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, *args], capture_output=True, text=True, env=ENV, cwd=ROOT)
    wall = time.perf_counter() - t
    return wall, int(out.stderr.strip().splitlines()[-1]) / 1024, out.stdout.strip().splitlines()[0][:90]


def minilm(tmp: Path) -> dict:
    from geomcheck.certify.envelope import write_detached

    cert = tmp / "ray.json"
    subprocess.run([sys.executable, "-m", "geomcheck", "ray", "minilm:3", "--direction", "neuron:7",
                    "--certificate", str(cert)], check=True, capture_output=True, env=ENV, cwd=ROOT)
    wall, rss, line = fresh("-m", "geomcheck.checker", str(cert))
    data = json.loads(cert.read_text())
    write_detached({tmp / "ray_detached.json": data}, tmp / "model.json")
    d_wall, d_rss, d_line = fresh("-m", "geomcheck.checker", str(tmp / "ray_detached.json"), "--model", str(tmp / "model.json"))
    return {"minilm_check_s": round(wall, 2), "minilm_check_mb": round(rss), "minilm_accepted": line.startswith("accepted"),
            "minilm_crossings": len(data["crossings"]), "minilm_cert_mb": round(cert.stat().st_size / 2**20, 2),
            "minilm_detached_mb": round((tmp / "ray_detached.json").stat().st_size / 2**20, 2),
            "minilm_detached_check_s": round(d_wall, 2), "minilm_detached_check_mb": round(d_rss),
            "minilm_detached_accepted": d_line.startswith("accepted")}


def gpt2_layer(tmp: Path) -> dict:
    import numpy as np

    from geomcheck.certify.path import path_certificate
    from geomcheck.checker import check_certificate
    from geomcheck.checker.core import _CACHE, read_model
    from geomcheck.geometry.paths import PathSpec
    from geomcheck.model import MLPBlock, get_activation, make_normalization
    from geomcheck.search.paths import analyse_path_fast

    d, n = 768, 3072
    rng = np.random.default_rng(0)  # the layer and path of bench/bench_paths.py
    W, b, Wo = rng.normal(size=(n, d)) / np.sqrt(d), rng.normal(size=n) * 0.5, rng.normal(size=(d, n)) / np.sqrt(n)
    block = MLPBlock(tuple(map(tuple, (map(Fraction, r) for r in W.tolist()))), tuple(map(Fraction, b.tolist())),
                     tuple(map(tuple, (map(Fraction, r) for r in Wo.tolist()))), tuple(Fraction(0) for _ in range(d)),
                     make_normalization("layernorm", Fraction(1e-5)), get_activation("relu"), name="random-gpt2-layer")
    x, v = rng.normal(size=d), rng.normal(size=d)
    spec = PathSpec.superposition(tuple(map(Fraction, x)), tuple(map(Fraction, v)))
    cert = path_certificate(block, analyse_path_fast(block, spec))
    _CACHE.clear()
    t = time.perf_counter()
    read_model(cert["model"])
    read_s = time.perf_counter() - t
    t = time.perf_counter()
    verdict = check_certificate(cert)  # the model is read already: hashing only, then the path check
    check_s = time.perf_counter() - t
    path = tmp / "gpt2.json"
    path.write_text(json.dumps(cert))
    wall, rss, line = fresh("-m", "geomcheck.checker", str(path))
    return {"gpt2_crossings": len(cert["crossings"]), "gpt2_check_s": round(check_s, 2), "gpt2_read_model_s": round(read_s, 2),
            "gpt2_cold_s": round(wall, 2), "gpt2_cold_mb": round(rss), "gpt2_accepted": verdict.accepted and line.startswith("accepted")}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--skip-minilm", action="store_true")
    p.add_argument("--skip-gpt2", action="store_true")
    args = p.parse_args()
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_minilm:
            result.update(minilm(Path(tmp)))
        if not args.skip_gpt2:
            result.update(gpt2_layer(Path(tmp)))
    rows = [("MiniLM ray check (fresh process)", "minilm_check_s", "s", 3), ("  peak memory", "minilm_check_mb", "MB", 300),
            ("  certificate, model embedded", "minilm_cert_mb", "MB", None), ("  certificate, detached", "minilm_detached_mb", "MB", 2),
            ("  detached check with --model", "minilm_detached_check_s", "s", None),
            ("GPT-2 layer path check (model read)", "gpt2_check_s", "s", 2), ("  crossings", "gpt2_crossings", "", None),
            ("  read + hash + fold the model", "gpt2_read_model_s", "s", None), ("  cold check (fresh process)", "gpt2_cold_s", "s", None),
            ("  cold peak memory", "gpt2_cold_mb", "MB", None)]
    print(f"{'measure':<38} {'value':>10} {'target':>8}")
    for label, key, unit, target in rows:
        if key in result:
            print(f"{label:<38} {result[key]:>8} {unit:<2} {'' if target is None else f'≤ {target}':>7}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
