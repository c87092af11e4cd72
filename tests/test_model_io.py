"""JSON exchange format, npz, toys: exact round trips and one-line errors."""

from __future__ import annotations

import json
from fractions import Fraction as F

import pytest
from hypothesis import given

from geomcheck.errors import InvalidInput, ModelFormatError
from geomcheck.io import block_from_dict, block_to_dict, load_model, model_sha256
from geomcheck.io.modelfile import parse_json_exact
from geomcheck.io.npz import load_npz, save_npz

from strategies import blocks

DESIGN_EXAMPLE = """{"format": "geomcheck.mlp/1",
 "norm": {"kind": "layernorm", "eps": "0", "gamma": null, "beta": null},
 "activation": "relu",
 "w_in":  [["1", "-2", "1/3"], ["0", "1", "-1"]],
 "b_in":  ["1/2", "-1"],
 "w_out": [["1", "0"], ["0", "1"], ["1", "1"]],
 "b_out": ["0", "0", "0"]}"""


def test_design_example_reads_exactly():
    block = block_from_dict(parse_json_exact(DESIGN_EXAMPLE))
    assert (block.d, block.n, block.d_out) == (3, 2, 3)
    assert block.w_in[0][2] == F(1, 3) and block.b_in[0] == F(1, 2)
    assert block.norm.kind == "layernorm" and block.norm.eps == 0


def test_json_number_literals_are_exact_decimals():
    data = parse_json_exact(DESIGN_EXAMPLE.replace('"1/2"', "0.1"))
    assert block_from_dict(data).b_in[0] == F(1, 10)


@given(blocks())
def test_json_round_trip_is_exact(block):
    text = json.dumps(block_to_dict(block))
    again = block_from_dict(parse_json_exact(text))
    assert block_to_dict(again) == block_to_dict(block)
    assert again.w_in == block.w_in and again.norm.eps == block.norm.eps
    assert model_sha256(again) == model_sha256(block)


def _mutated(**changes):
    data = json.loads(DESIGN_EXAMPLE)
    for key, value in changes.items():
        if "." in key:
            outer, inner = key.split(".")
            data[outer][inner] = value
        elif value is None:
            del data[key]
        else:
            data[key] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    "text, field",
    [
        (DESIGN_EXAMPLE.replace('"1/2"', "NaN"), "NaN"),
        (DESIGN_EXAMPLE.replace('"1/2"', "Infinity"), "Infinity"),
        (DESIGN_EXAMPLE.replace('"1/2"', '"abc"'), r"b_in\[0\]"),
        (_mutated(w_in=[["1", "2", "3"], ["1", "2"]]), r"w_in\[1\]"),
        (_mutated(b_in=["1"]), "b_in"),
        (_mutated(w_out=[["1"], ["0"], ["1"]]), r"w_out\[0\]"),
        (_mutated(b_out=["0"]), "b_out"),
        (_mutated(w_in=None), "w_in: missing"),
        (_mutated(format="other"), "format"),
        (_mutated(**{"norm.kind": "batchnorm"}), "norm.kind"),
        (_mutated(**{"norm.eps": "-1"}), "norm.eps"),
        (_mutated(**{"norm.gamma": ["1", "2"]}), "norm.gamma"),
        (_mutated(activation="tanh"), "activation"),
        (_mutated(extra=1), "extra"),
        ("{not json", "not valid JSON"),
    ],
)
def test_bad_json_names_the_problem(text, field):
    with pytest.raises(ModelFormatError, match=field):
        block_from_dict(parse_json_exact(text))


def test_npz_round_trip(tmp_path):
    block = load_model("toy:random?d=5&n=7&seed=2&eps=1/1024")
    path = tmp_path / "m.npz"
    save_npz(block, path)
    again = load_npz(path)
    assert again.w_in == block.w_in and again.b_in == block.b_in
    assert again.norm.kind == "layernorm" and again.norm.eps == F(1, 1024)


def test_npz_rejects_nan(tmp_path):
    import numpy as np

    np.savez(tmp_path / "bad.npz", w_in=np.array([[1.0, np.nan]]), b_in=np.zeros(1), w_out=np.ones((2, 1)), b_out=np.zeros(2))
    with pytest.raises(ModelFormatError, match=r"w_in\[0\]\[1\]"):
        load_npz(tmp_path / "bad.npz")


def test_toys_exist_and_have_stated_shapes():
    c = load_model("toy:circle3")
    assert (c.d, c.n, c.norm.kind) == (3, 4, "layernorm")
    # the weights lie in the plane 1⊥, as in the essay's picture
    assert all(sum(row) == 0 for row in c.w_in)
    assert load_model("toy:circle3-noln").w_in == c.w_in
    assert load_model("toy:circle3-noln").norm.kind == "none"
    s = load_model("toy:sphere4")
    assert (s.d, s.n) == (4, 5)
    r1 = load_model("toy:random?d=8&n=32&seed=0")
    r2 = load_model("toy:random?d=8&n=32&seed=0")
    assert (r1.d, r1.n) == (8, 32) and r1.w_in == r2.w_in
    assert load_model("toy:random?d=8&n=32&seed=1").w_in != r1.w_in
    assert load_model("toy:circle3?eps=1/100").norm.eps == F(1, 100)


def test_circle3_noln_ray_crosses_three_regions_by_hand():
    """The essay's claim without LayerNorm, derived by hand.

    v = (1, 0, −1): w·v = (2, 1, 1, 0) and b = (−1, −2, 1, −1), so neuron 0
    flips at t = 1/2, neuron 1 at t = 2, neurons 2, 3 never: three regions.
    """
    block = load_model("toy:circle3-noln")
    v = (F(1), F(0), F(-1))
    patterns = [block.pattern_at_input([t * c for c in v]) for t in (F(1, 4), F(1), F(3))]
    assert patterns == ["--+-", "+-+-", "+++-"]
    assert block.pattern_at_input([F(1, 2) * c for c in v]) == "0-+-"
    assert block.map_changes(patterns[0], patterns[1]) and block.map_changes(patterns[1], patterns[2])
    ln = load_model("toy:circle3")
    assert {ln.pattern_at_input([t * c for c in v]) for t in (F(1, 4), F(1), F(3), F(1000))} == {"+-+-"}


def test_map_changes_ignores_dead_output_columns():
    data = json.loads(DESIGN_EXAMPLE)
    data["w_out"] = [["0", "1"], ["0", "1"], ["0", "1"]]  # neuron 0 writes nothing
    block = block_from_dict(data)
    assert not block.map_changes("+-", "--")
    assert block.map_changes("-+", "--")


@pytest.mark.parametrize("spec, message", [
    ("toy:nope", "unknown toy"),
    ("toy:random?d=x", "not an integer"),
    ("toy:random?zz=1", "unknown option"),
    ("missing.json", "not found"),
    ("what", "unknown model"),
    ("toy:circle3-noln?eps=1/2", "eps"),
])
def test_bad_model_specs(spec, message):
    with pytest.raises(InvalidInput, match=message):
        load_model(spec)
