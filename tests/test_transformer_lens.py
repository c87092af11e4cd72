"""TransformerLens loaders (run only where transformer_lens is installed).

A random-weight HookedTransformer from a tiny config: the exact folded block
must reproduce ``blocks.i.mlp.hook_pre`` at ``blocks.i.hook_resid_mid``, with
LayerNorm unfolded (``LN``) and after TransformerLens' own ``fold_ln`` (``LNPre``).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

torch = pytest.importorskip("torch")
tl = pytest.importorskip("transformer_lens")

from geomcheck.io.real import block_from_transformer_lens  # noqa: E402
from geomcheck.search.filter import filtered_signs_at_input  # noqa: E402
from tests.test_real_loaders import exact_folded_preactivations  # noqa: E402


def tiny(act_fn="gelu_new"):
    try:  # TransformerLens 4.x removed HookedTransformer (its attribute access raises ImportError)
        config_class, model_class = tl.HookedTransformerConfig, tl.HookedTransformer
    except (ImportError, AttributeError):
        pytest.skip("this TransformerLens has no HookedTransformer (4.x): see the TransformerBridge test")
    torch.manual_seed(3)
    cfg = config_class(n_layers=2, d_model=16, d_head=4, n_heads=4, d_mlp=48, n_ctx=12,
                                     d_vocab=30, act_fn=act_fn, normalization_type="LN", device="cpu",
                                     default_prepend_bos=False)
    model = model_class(cfg)
    with torch.no_grad():
        for blk in model.blocks:
            blk.ln2.w.normal_(1.0, 0.3)
            blk.ln2.b.normal_(0.0, 0.3)
            blk.mlp.b_in.normal_(0.0, 0.3)
    return model.eval()


def check(model, layer, block, rtol=1e-4):
    tokens = torch.tensor([[1, 4, 9, 16, 25, 3]])
    with torch.no_grad():
        _, cache = model.run_with_cache(tokens)
    xs = cache[f"blocks.{layer}.hook_resid_mid"][0].double().numpy()
    hs = cache[f"blocks.{layer}.mlp.hook_pre"][0].double().numpy()
    for x_row, h_row in zip(xs, hs):
        x = tuple(map(Fraction, x_row.tolist()))
        scale = np.abs(h_row).max()
        np.testing.assert_allclose(exact_folded_preactivations(block, x), h_row, rtol=rtol, atol=1e-5 * scale)
        far = np.abs(h_row) > 1e-3 * scale
        assert (np.array(filtered_signs_at_input(block, x).signs)[far] == np.sign(h_row[far])).all()


@pytest.mark.parametrize("layer", [0, 1])
def test_hooked_transformer_unfolded(layer):
    model = tiny()
    block = block_from_transformer_lens(model, layer)
    assert block.norm.kind == "layernorm" and block.norm.gamma is not None
    assert block.activation.name == "gelu_tanh" and (block.d, block.n) == (16, 48)
    check(model, layer, block)


def test_hooked_transformer_after_fold_ln():
    model = tiny("gelu")
    unfolded = block_from_transformer_lens(model, 1)
    model.process_weights_(fold_ln=True, center_writing_weights=False, center_unembed=False)
    assert model.cfg.normalization_type == "LNPre"
    block = block_from_transformer_lens(model, 1)
    assert block.norm.gamma is None and block.norm.beta is None and block.activation.name == "gelu"
    check(model, 1, block)
    # TransformerLens folds in float32; our exact fold of the unfolded weights agrees to float32 rounding
    np.testing.assert_allclose(np.array(block.folded.weights, dtype=float),
                               np.array(unfolded.folded.weights, dtype=float), rtol=1e-5, atol=1e-6)


def test_transformer_bridge_4x(tmp_path):
    """TransformerBridge (TransformerLens 4.x) around a tiny random GPT-2, booted offline."""
    bridge_module = pytest.importorskip("transformer_lens.model_bridge")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(5)
    hf = transformers.GPT2LMHeadModel(transformers.GPT2Config(n_embd=16, n_layer=2, n_head=2, n_positions=16,
                                                               vocab_size=40)).eval()
    with torch.no_grad():
        for h in hf.transformer.h:
            h.ln_2.weight.normal_(1.0, 0.3)
            h.ln_2.bias.normal_(0.0, 0.3)
    hf.save_pretrained(tmp_path)
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=__import__("tokenizers").Tokenizer(
        __import__("tokenizers").models.WordLevel({"a": 0, "b": 1, "[UNK]": 2}, unk_token="[UNK]")))
    bridge = bridge_module.TransformerBridge.boot_transformers(str(tmp_path), hf_model=hf, tokenizer=tokenizer,
                                                              device="cpu")
    block = block_from_transformer_lens(bridge, 1)
    from geomcheck.io.real import block_from_hf

    assert block.w_in == block_from_hf(hf, 1).w_in and block.norm.gamma == block_from_hf(hf, 1).norm.gamma
    check(bridge, 1, block)
