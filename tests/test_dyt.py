"""DyT (γ·tanh(α·x) + β): the normalization kind, and certified ray crossings.

Hand cases with closed forms: for toy:dyt3 (circle3 weights, α = 1/2)
* ray (1, 0, −1): neuron 0 (w = (1, 0, −1), b = −1) has h = 2·tanh(t/2) − 1,
  zero at tanh(t/2) = 1/2, t = 2·atanh(1/2) = ln 3; neuron 1 (w = (0, 1, −1),
  b = −2) has h = tanh(t/2) − 2 < 0; neuron 2 (w = (1, −1, 0), b = 1) has
  h = tanh(t/2) + 1 > 0; neuron 3 (w = (−1, 2, −1), b = −1) has h = −1.
* ray (−1, 1, 0): neuron 3 has h = 3·tanh(t/2) − 1 (zero at 2·atanh(1/3) = ln 2),
  neuron 2 has h = 1 − 2·tanh(t/2) (zero at ln 3).
"""

from __future__ import annotations

import json
import math
from fractions import Fraction as F

import numpy as np
import pytest

from geomcheck.cli import main
from geomcheck.errors import InvalidInput, ModelFormatError
from geomcheck.io.modelfile import block_from_dict, block_to_dict, model_sha256
from geomcheck.io.resolve import load_model
from geomcheck.search.counterexample import contrast, random_directions
from geomcheck.search.dyt import analyse_dyt_ray, certified_pattern, find_dyt_counterexample, neuron_ray_terms
from geomcheck.search.floats import forward, preactivations


def _contains(interval, x: float) -> bool:
    lo, hi = interval
    return float(lo) < x < float(hi) and (hi - lo) > 0


def test_hand_ray_ln3():
    block = load_model("toy:dyt3")
    ray = analyse_dyt_ray(block, (F(1), F(0), F(-1)))
    assert ray.complete
    assert [r[0] for r in ray.roots] == [0]
    assert _contains(ray.roots[0][1:], math.log(3))
    assert [p for _, p in ray.segments] == ["--+-", "+-+-"]
    assert ray.counterexample["neurons"] == [0]


def test_hand_ray_ln2_ln3():
    block = load_model("toy:dyt3")
    ray = analyse_dyt_ray(block, (F(-1), F(1), F(0)))
    assert ray.complete and [r[0] for r in ray.roots] == [3, 2]
    assert _contains(ray.roots[0][1:], math.log(2)) and _contains(ray.roots[1][1:], math.log(3))
    assert [p for _, p in ray.segments] == ["--+-", "--++", "---+"]


def test_grouping_is_exact():
    """w = (1, −1) along v = (1, 1): tanh terms cancel exactly, h ≡ b' (constant, no root)."""
    block = block_from_dict({"format": "geomcheck.mlp/1", "norm": {"kind": "dyt", "alpha": "1"},
                             "w_in": [["1", "-1"], ["2", "1"]], "b_in": ["-1", "0"],
                             "w_out": [["1", "1"], ["0", "1"]], "b_out": ["0", "0"]})
    terms = neuron_ray_terms(block, (F(1), F(1)))
    assert terms[0] == ([], F(-1)) and terms[1] == ([(F(1), F(3))], F(0))
    ray = analyse_dyt_ray(block, (F(1), F(1)))
    assert ray.complete and not ray.roots


def _replay_float(block, ray):
    """The affine map of z = tanh(αx) read off at t₁·v misses the float output at t₂·v."""
    ce = ray.counterexample
    a = float(block.norm.alpha)
    w = np.array([[float(c) for c in r] for r in block.folded.weights])
    b = np.array([float(c) for c in block.folded.bias])
    wo = np.array([[float(c) for c in r] for r in block.w_out])
    bo = np.array([float(c) for c in block.b_out])
    on1 = np.array([c == "+" for c in ce["patterns"][0]], dtype=float)
    x2 = np.array([float(ce["t2"] * c) for c in ray.direction])
    predicted = wo @ (on1 * (w @ np.tanh(a * x2) + b)) + bo
    actual = forward(block, x2[None, :])[0]
    scale = (np.abs(wo) @ (np.abs(w).sum(axis=1) + np.abs(b))).max() + np.abs(bo).max() + 1
    assert np.abs(actual - predicted).max() > 1e-9 * scale


@pytest.mark.parametrize("spec", ["toy:dyt3", "toy:sphere4?norm=dyt&alpha=2", "toy:random?d=5&n=12&seed=3&norm=dyt&alpha=1/8"])
def test_certified_results_agree_with_dense_float_sampling(spec):
    """Every certified root interval shows a float sign change of that neuron; on complete rays,
    float samples away from the root intervals have the certified segment pattern."""
    block = load_model(spec)
    for v in random_directions(block.d, 15, 7):
        ray = analyse_dyt_ray(block, v)
        vf = np.array([float(c) for c in v])
        for i, lo, hi in ray.roots:
            h = preactivations(block, np.array([float(lo) * vf, float(hi) * vf]))[:, i]
            assert h[0] * h[1] < 0 or min(abs(h)) < 1e-12
        if ray.complete:
            grid = np.geomspace(1e-3, float(ray.horizon) * 4, 400)
            h = preactivations(block, grid[:, None] * vf[None, :])
            bounds = [(float(lo), float(hi)) for _, lo, hi in ray.roots]
            for t, row in zip(grid, h):
                if any(lo <= t <= hi for lo, hi in bounds) or np.abs(row).min() < 1e-9:
                    continue
                k = sum(1 for lo, _ in bounds if lo < t)   # segment index (clusters are disjoint here)
                expected = [p for _, p in ray.segments][k] if len(ray.segments) == len(bounds) + 1 else None
                if expected is not None:
                    assert "".join("+" if x > 0 else "-" for x in row) == expected.replace("0", "-")
        if ray.counterexample is not None:
            _replay_float(block, ray)


def test_dyt_rays_are_not_region_constant():
    block = load_model("toy:dyt3")
    ray = find_dyt_counterexample(block)
    assert ray is not None and ray.counterexample is not None
    p1, p2 = ray.counterexample["patterns"]
    assert certified_pattern(block, ray.direction, ray.counterexample["t1"]) == p1
    assert certified_pattern(block, ray.direction, ray.counterexample["t2"]) == p2 != p1
    assert block.map_changes(p1, p2)
    _replay_float(block, ray)
    result = contrast(block, random_directions(3, 20, 1))
    assert result["constant_with_norm"] + result["undecided_with_norm"] < 20


def test_dyt_model_format():
    block = load_model("toy:dyt3?alpha=3/2")
    data = block_to_dict(block)
    assert data["norm"]["kind"] == "dyt" and data["norm"]["alpha"] == "3/2"
    again = block_from_dict(json.loads(json.dumps(data)))
    assert again.norm.alpha == F(3, 2) and model_sha256(again) == model_sha256(block)
    assert "alpha" not in block_to_dict(load_model("toy:circle3"))["norm"]
    with pytest.raises(ModelFormatError, match="alpha"):
        block_from_dict({**data, "norm": {"kind": "dyt"}})
    with pytest.raises(ModelFormatError, match="alpha"):
        block_from_dict({**data, "norm": {"kind": "layernorm", "alpha": "1"}})
    with pytest.raises(InvalidInput, match="interval arithmetic"):
        block.signs_at_input((F(1), F(2), F(3)))


def test_cli_dyt_json(capsys):
    assert main(["counterexample", "toy:dyt3", "--direction", "1,0,-1", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["status"] == "refuted" and payload["method"] == "certified (interval arithmetic)"
    assert payload["scales"] == ["1/2", "3"] and payload["neurons"] == [0]


def test_exact_engines_refuse_dyt():
    """The exact path engine would otherwise read DyT as 'no normalization'."""
    from geomcheck.geometry.paths import PathSpec, analyse_path

    block = load_model("toy:dyt3")
    with pytest.raises(InvalidInput, match="dyt"):
        analyse_path(block, PathSpec.ray((F(1), F(0), F(-1))))
    assert main(["counterexample", "toy:dyt3", "--cone"]) == 2       # the cone is a no-norm notion
    assert main(["ray", "toy:dyt3", "--direction", "1,0,-1"]) == 2
