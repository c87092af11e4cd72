"""How smoothly does MiniLM's MLP output change while x rotates toward d? (issue 13)

Runs ``geomcheck.search.rotation.rotation_measures`` (the function ``geomcheck rotate`` and the
study call) on token pairs of all-MiniLM-L6-v2, layers 0 and 3, for the path x + λ·d (λ ≥ 0) and
for the same weights with ReLU in place of GELU. Prints a table, then one JSON line.

    PYTHONPATH=. python bench/rotate_minilm.py [--layers 0,3] [--samples 2001]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

from geomcheck.geometry.paths import PathSpec
from geomcheck.io.resolve import load_model
from geomcheck.io.vectors import parse_vector
from geomcheck.model.activations import get_activation
from geomcheck.search.rotation import rotation_measures

PAIRS = [
    ("The cat sat on the mat.@2", "Stock prices fell sharply today.@2"),
    ("The cat sat on the mat.@2", "The dog ran in the park.@2"),
    ("I love this movie.@3", "The weather is cold.@2"),
    ("Paris is the capital of France.@1", "She plays the violin.@3"),
    ("Quantum mechanics is strange.@2", "He bought some apples.@3"),
    ("The river flows north.@2", "We will meet tomorrow.@4"),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", default="0,3")
    ap.add_argument("--samples", type=int, default=2001)
    args = ap.parse_args()
    rows = []
    print(f"{'layer':>5} {'act':<5} {'pair':<4} {'angle°':>7} {'flips':>6} {'spacing°':>9} {'resid%':>7} "
          f"{'tan1%°':>7} {'tan10%°':>8} {'lin1%°':>7} {'speed med':>9} {'κ max':>8} {'band°':>7} {'s':>5}")
    for layer in map(int, args.layers.split(",")):
        block = load_model(f"minilm:{layer}")
        relu = dataclasses.replace(block, activation=get_activation("relu"), name=f"minilm:{layer} (ReLU)")
        for k, (a, b) in enumerate(PAIRS):
            x = parse_vector(f"token:{a}", block, "x")
            d = parse_vector(f"token:{b}", block, "d")
            for blk in (block, relu):
                t0 = time.time()
                m = rotation_measures(blk, PathSpec.superposition(x, d), samples=args.samples)
                dt = time.time() - t0
                g = m.get("gate_transition") or {}
                row = {"layer": layer, "activation": blk.activation.name, "pair": k, "angle_total": m["angle_total"],
                       "flips": m["flips"], "spacing_median": (m["flip_spacing"] or {}).get("median"),
                       "affine_fit_residual": m["affine_fit_residual"], "tangent": m["tangent_error_angles"],
                       "linearization": m["linearization_error_angles"], "speed_median": m["speed"]["median"],
                       "curvature_max": m["curvature"]["max"], "band_median": g.get("width_median"),
                       "kinks": None if m["kinks"] is None else len(m["kinks"]), "seconds": dt}
                rows.append(row)
                f = lambda v, p=".3g": "—" if v is None else format(v, p)  # noqa: E731
                print(f"{layer:>5} {blk.activation.name:<5} {k:>4} {m['angle_total']:>7.2f} {m['flips']:>6} "
                      f"{f(row['spacing_median']):>9} {100 * m['affine_fit_residual']:>7.2f} "
                      f"{f(row['tangent']['1%']):>7} {f(row['tangent']['10%']):>8} {f(row['linearization']['1%']):>7} "
                      f"{row['speed_median']:>9.3g} {row['curvature_max']:>8.3g} {f(row['band_median']):>7} {dt:>5.1f}",
                      flush=True)
    print(json.dumps({"rows": rows}))


if __name__ == "__main__":
    main()
