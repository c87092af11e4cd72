"""The canonical text written from float arrays equals the Fraction route; the hash cache is sound."""

from __future__ import annotations

import json
import os
from fractions import Fraction

import numpy as np
from hypothesis import given, strategies as st

from geomcheck.exact.rationals import format_rational
from geomcheck.io import cache as cache_mod
from geomcheck.io.modelfile import _canonical_sha256, block_to_dict, model_sha256
from geomcheck.model.activations import get_activation
from geomcheck.model.block import MLPBlock
from geomcheck.model.norms import make_normalization

# every float kind that has a distinct exact text: zeros of both signs, subnormals, huge, tiny, integers
_special = st.sampled_from([0.0, -0.0, 5e-324, -5e-324, 2.0**-1022, 1.7976931348623157e308, 1.0, -3.0, 0.1, 1 / 3])
_floats = st.one_of(st.floats(allow_nan=False, allow_infinity=False), _special)


def _fraction_route(block) -> dict:
    """block_to_dict as it was before the float route: every entry through Fraction + format_rational."""
    vec = lambda v: [format_rational(Fraction(x)) for x in v]  # noqa: E731
    data = block_to_dict(block)
    data["w_in"] = [vec(r) for r in block.w_in]  # DyadicRows rows are Fractions
    data["w_out"] = [vec(r) for r in block.w_out]
    return data


@given(st.integers(1, 4), st.integers(1, 4), st.data(), st.sampled_from([np.float64, np.float32, np.float16]))
def test_float_text_equals_fraction_text(d, n, data, dtype):
    w_in = np.array(data.draw(st.lists(st.lists(_floats, min_size=d, max_size=d), min_size=n, max_size=n)))
    w_out = np.array(data.draw(st.lists(st.lists(_floats, min_size=n, max_size=n), min_size=d, max_size=d)))
    with np.errstate(over="ignore"):
        w_in, w_out = np.nan_to_num(w_in.astype(dtype)), np.nan_to_num(w_out.astype(dtype))
    block = MLPBlock.from_float_arrays(w_in, [0.5] * n, w_out, [0] * d, make_normalization("none"),
                                       get_activation("relu"))
    fast = block_to_dict(block)
    assert fast == _fraction_route(block)
    # and each string reads back to the float's exact value
    for row, text in zip(w_in.tolist(), fast["w_in"]):
        assert [Fraction(t) for t in text] == [Fraction(v) for v in row]


def _random_block(seed=0, n=6, d=5):
    rng = np.random.default_rng(seed)
    return MLPBlock.from_float_arrays(rng.normal(size=(n, d)), rng.normal(size=n).tolist(), rng.normal(size=(d, n)),
                                      [0.0] * d, make_normalization("layernorm", Fraction(1, 10**5)),
                                      get_activation("gelu"), name="r")


def test_hash_cache_round_trip_and_corruption(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOMCHECK_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("GEOMCHECK_NO_CACHE", raising=False)
    block = _random_block()
    truth = _canonical_sha256(block)
    assert model_sha256(block) == truth
    files = list((tmp_path / "model-sha256").glob("*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["value"] == truth
    # a lie in the cache is served (the cache is keyed, not re-verified) — so a corrupt file must be refused:
    for junk in ("", "{not json", json.dumps({"format": cache_mod.FORMAT_VERSION, "key": "other", "value": "0" * 64}),
                 json.dumps({"format": cache_mod.FORMAT_VERSION, "key": files[0].stem, "value": "xyz"})):
        files[0].write_text(junk)
        assert model_sha256(block) == truth
        assert json.loads(files[0].read_text())["value"] == truth  # rebuilt
    # a different weight (one ulp) is a different key, never the stale value
    other = _random_block()
    other.w_in.source[0, 0] = np.nextafter(other.w_in.source[0, 0], 1.0)
    assert model_sha256(other) == _canonical_sha256(other) != truth
    assert len(list((tmp_path / "model-sha256").glob("*.json"))) == 2
    # different eps (not in the arrays) is a different key too
    eps_block = MLPBlock.from_float_arrays(block.w_in.source, block.b_in, block.w_out.source, block.b_out,
                                           make_normalization("layernorm", Fraction(0)), block.activation)
    assert model_sha256(eps_block) == _canonical_sha256(eps_block) != truth
    assert not [p for p in (tmp_path / "model-sha256").iterdir() if p.suffix == ".tmp"]


def test_cache_off_and_unwritable(tmp_path, monkeypatch):
    block = _random_block(1)
    monkeypatch.setenv("GEOMCHECK_NO_CACHE", "1")
    assert cache_mod.cache_dir() is None
    assert model_sha256(block) == _canonical_sha256(block)
    monkeypatch.delenv("GEOMCHECK_NO_CACHE")
    blocker = tmp_path / "file"
    blocker.write_text("x")  # a file where the cache directory should be: writes fail, answers stay right
    monkeypatch.setenv("GEOMCHECK_CACHE_DIR", str(blocker / "sub"))
    assert model_sha256(block) == _canonical_sha256(block)


def test_concurrent_writers_leave_one_whole_entry(tmp_path, monkeypatch):
    from concurrent.futures import ProcessPoolExecutor

    monkeypatch.setenv("GEOMCHECK_CACHE_DIR", str(tmp_path))
    with ProcessPoolExecutor(4) as pool:
        values = list(pool.map(_write_same_key, [str(tmp_path)] * 8))
    assert set(values) == {"v" * 64}
    files = list((tmp_path / "t").iterdir())
    assert [f.name for f in files] == ["k.json"]
    assert json.loads(files[0].read_text())["value"] == "v" * 64


def _write_same_key(directory: str) -> str:
    os.environ["GEOMCHECK_CACHE_DIR"] = directory
    for _ in range(20):
        cache_mod._write(cache_mod.cache_dir() / "t" / "k.json", "k", "v" * 64)
    return cache_mod.cached_value("t", "k", lambda: "v" * 64)


def test_model_show_summary_matches_the_exact_rows():
    from geomcheck.cli.model_cmd import summary
    from geomcheck.io.modelfile import block_from_dict
    from geomcheck.io.resolve import load_model

    # rows 1 and 3 are constant: LayerNorm centres them to zero (exactly, whatever their size)
    block = block_from_dict({"format": "geomcheck.mlp/1", "norm": {"kind": "layernorm"},
                             "w_in": [["1", "-2", "1/3"], ["5", "5", "5"], ["0", "1", "-1"], ["1e-300", "1e-300", "1e-300"]],
                             "b_in": ["1/2", "-1", "3", "-7/2"],
                             "w_out": [["1", "0", "1", "0"], ["0", "1", "1", "0"], ["1", "1", "0", "0"]],
                             "b_out": ["0", "0", "0"]})
    s = summary(block)
    assert s["folded"]["zero_rows"] == 2
    for spec in ("toy:circle3", "toy:random?d=7&n=40&seed=2", "toy:circle3?eps=1/10"):
        block = load_model(spec)
        f = block.folded
        s = summary(block)["folded"]
        assert s["zero_rows"] == sum(1 for row in f.weights if not any(row))
        assert s["weight_abs_max"] == f"{float(max(abs(w) for row in f.weights for w in row)):.6g}"
        assert s["bias_min"] == f"{float(min(f.bias)):.6g}" and s["bias_max"] == f"{float(max(f.bias)):.6g}"
