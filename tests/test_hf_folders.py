"""Hugging Face ``save_pretrained`` folders and token activations that run the right model.

Random-weight models are built from tiny configs offline (transformers) with a
tiny word-piece tokenizer written here. Regressions (issue 12, items 3 and 5):
``token:`` on ``DIR/other.safetensors`` ran ``DIR/model.safetensors``; a state
dict without embeddings gave vectors from random embeddings; a folder without
tokenizer files made every word ``[UNK]``; two live modules from one folder
shared cached vectors; LLaMA-family and TransformerLens gated MLPs were read
with ``W_gate`` dropped.
"""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
safetensors_torch = pytest.importorskip("safetensors.torch")

from geomcheck.cli import main  # noqa: E402
from geomcheck.errors import InvalidInput  # noqa: E402
from geomcheck.io.real import block_from_hf, block_from_transformer_lens  # noqa: E402
from geomcheck.io.resolve import load_model  # noqa: E402
from geomcheck.io.vectors import parse_vector  # noqa: E402

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + "the cat sat on a mat dog ran far away".split()
TEXT = "the cat sat on a mat"


def bert_model(seed: int, layers: int = 2):
    torch.manual_seed(seed)
    config = transformers.BertConfig(hidden_size=16, num_hidden_layers=layers, num_attention_heads=2,
                                     intermediate_size=24, vocab_size=len(WORDS), max_position_embeddings=16)
    model = transformers.BertForMaskedLM(config).eval()
    with torch.no_grad():
        for layer in model.bert.encoder.layer:
            layer.attention.output.LayerNorm.weight.normal_(1.0, 0.3)
            layer.intermediate.dense.bias.normal_(0.0, 0.3)
    return model


def save_tokenizer(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(WORDS) + "\n")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(folder / "vocab.txt"))
    tokenizer.save_pretrained(folder)
    return tokenizer


def save_state_dict(model, path, drop=()):
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()
             if not k.startswith("cls.") and not any(k.startswith(p) for p in drop)}
    safetensors_torch.save_file(state, str(path))


def reference_activation(model, tokenizer, layer: int, pos: int):
    seen = {}
    base = model.base_model
    hook = base.encoder.layer[layer].attention.output.LayerNorm.register_forward_pre_hook(
        lambda m, a: seen.__setitem__("x", a[0].detach()))
    try:
        with torch.no_grad():
            model(**tokenizer(TEXT, return_tensors="pt"))
    finally:
        hook.remove()
    return tuple(map(Fraction, seen["x"][0, pos].double().tolist()))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """model.safetensors (model A), other.safetensors (model B) and a tokenizer in one folder."""
    path = tmp_path_factory.mktemp("bert")
    a, b = bert_model(0), bert_model(1)
    a.save_pretrained(path)
    save_state_dict(b, path / "other.safetensors")
    save_state_dict(b, path / "noembed.safetensors", drop=("bert.embeddings.",))
    tokenizer = save_tokenizer(path)
    return SimpleNamespace(path=path, a=a, b=b, tokenizer=tokenizer)


def test_folder_spec_loads_the_block(folder):
    block = load_model(f"{folder.path}?layer=1")
    reference = block_from_hf(folder.a, 1)
    assert block.w_in == reference.w_in and block.folded.bias == reference.folded.bias
    assert block.norm.eps == Fraction(1, 10**12) and block.activation.name == "gelu"


def test_token_on_another_file_runs_that_file(folder):
    """``token:`` on DIR/other.safetensors must run model B, not DIR/model.safetensors (model A)."""
    block_a = load_model(f"{folder.path}?layer=1")
    block_b = load_model(f"{folder.path / 'other.safetensors'}?layer=1")
    va = parse_vector(f"token:{TEXT}@3", block_a)
    vb = parse_vector(f"token:{TEXT}@3", block_b)
    assert va == reference_activation(folder.a, folder.tokenizer, 1, 3)
    assert vb == reference_activation(folder.b, folder.tokenizer, 1, 3)
    assert va != vb


def test_state_dict_without_embeddings_is_refused(folder, capsys):
    block = load_model(f"{folder.path / 'noembed.safetensors'}?layer=0")  # the block itself is complete
    with pytest.raises(InvalidInput, match="embeddings.*random weights"):
        parse_vector(f"token:{TEXT}@1", block)
    assert main(["ray", f"{folder.path / 'noembed.safetensors'}?layer=0", "--direction", f"token:{TEXT}@1"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_folder_without_tokenizer_is_refused(folder, tmp_path):
    folder.a.save_pretrained(tmp_path)
    block = load_model(f"{tmp_path}?layer=0")
    with pytest.raises(InvalidInput, match="no tokenizer files"):
        parse_vector(f"token:{TEXT}@1", block)


def test_two_live_modules_from_one_folder_do_not_share_vectors(folder, tmp_path):
    a, b = bert_model(0), bert_model(1)
    for model in (a, b):
        model.config._name_or_path = str(folder.path)  # both "come from" the same folder
    va = parse_vector(f"token:{TEXT}@2", block_from_hf(a, 0))
    vb = parse_vector(f"token:{TEXT}@2", block_from_hf(b, 0))
    assert va == reference_activation(a, folder.tokenizer, 0, 2)
    assert vb == reference_activation(b, folder.tokenizer, 0, 2)
    assert va != vb


def test_sharded_gpt2_folder(tmp_path):
    torch.manual_seed(4)
    config = transformers.GPT2Config(n_embd=16, n_layer=3, n_head=2, n_positions=16, vocab_size=40,
                                     layer_norm_epsilon=1e-6)
    model = transformers.GPT2LMHeadModel(config).eval()
    model.save_pretrained(tmp_path, max_shard_size="20KB")
    shards = sorted(p.name for p in tmp_path.glob("*.safetensors"))
    assert len(shards) > 1 and (tmp_path / "model.safetensors.index.json").is_file()
    for layer in range(3):
        block = load_model(f"{tmp_path}?layer={layer}")
        reference = block_from_hf(model, layer)
        assert block.w_in == reference.w_in and block.w_out == reference.w_out
        assert block.norm.eps == Fraction(1, 10**6) and block.activation.name == "gelu_tanh"
    with pytest.raises(InvalidInput, match="valid: 0 … 2"):
        load_model(f"{tmp_path}?layer=3")
    # token: runs the sharded weights with the folder's (word-level) tokenizer
    tokenizers = pytest.importorskip("tokenizers")
    vocab = {w: i for i, w in enumerate(WORDS)}
    core = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    core.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]")
    tokenizer.save_pretrained(tmp_path)
    seen = {}
    hook = model.transformer.h[2].ln_2.register_forward_pre_hook(lambda m, a: seen.__setitem__("x", a[0].detach()))
    with torch.no_grad():
        model(input_ids=torch.tensor([[vocab[w] for w in TEXT.split()]]))
    hook.remove()
    expected = tuple(map(Fraction, seen["x"][0, 4].double().tolist()))
    assert parse_vector(f"token:{TEXT}@4", load_model(f"{tmp_path}?layer=2")) == expected


def test_llama_folder_and_module_read_as_gated(tmp_path, capsys):
    config = transformers.LlamaConfig(hidden_size=16, intermediate_size=24, num_hidden_layers=1,
                                      num_attention_heads=2, num_key_value_heads=2, vocab_size=30)
    model = transformers.LlamaForCausalLM(config)
    model.save_pretrained(tmp_path)
    from geomcheck.io.modelfile import model_sha256
    from geomcheck.model.gated import GatedMLPBlock

    folder = load_model(str(tmp_path))  # the folder: W_gate, W_up, W_down read, never dropped
    assert isinstance(folder, GatedMLPBlock) and model_sha256(folder) == model_sha256(block_from_hf(model, 0))
    assert main(["sphere", f"{tmp_path}?layer=1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err

    assert isinstance(block_from_hf(model, 0), GatedMLPBlock)  # a live module: W_gate read (tests/test_gated.py)
    with pytest.raises(InvalidInput, match="gated MLP blocks are not supported yet"):
        load_model(str(tmp_path / "model.safetensors"))


def test_unsupported_folder_names_what_is_supported(tmp_path, capsys):
    (tmp_path / "config.json").write_text('{"model_type": "t5", "d_model": 8}')
    assert main(["sphere", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'t5' is not supported (supported: bert, gpt2" in err
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    (tmp_path / "pytorch_model.bin").write_bytes(b"pickle")
    with pytest.raises(InvalidInput, match="only safetensors"):
        load_model(str(tmp_path))


def test_transformer_lens_gated_mlp_is_refused():
    """A HookedTransformer with gated_mlp=True: W_gate is never dropped silently."""
    mlp = SimpleNamespace(W_in=torch.zeros(4, 6), W_gate=torch.ones(4, 6), W_out=torch.zeros(6, 4),
                          b_in=torch.zeros(6), b_out=torch.zeros(4))
    cfg = SimpleNamespace(normalization_type="RMSPre", act_fn="silu", gated_mlp=True, eps=1e-5, model_name="t")
    model = SimpleNamespace(cfg=cfg, blocks=[SimpleNamespace(mlp=mlp)])
    with pytest.raises(InvalidInput, match="gated MLP blocks are not supported yet"):
        block_from_transformer_lens(model, 0)
    cfg.act_fn, cfg.gated_mlp = "relu", False  # W_gate present though the flag says otherwise: still refused
    with pytest.raises(InvalidInput, match="gated"):
        block_from_transformer_lens(model, 0)


def test_bf16_state_dict_reads_exactly(tmp_path):
    model = bert_model(5, layers=1)
    state = {k: v.detach().to(torch.bfloat16).contiguous() for k, v in model.state_dict().items()
             if not k.startswith("cls.")}
    safetensors_torch.save_file(state, str(tmp_path / "bf16.safetensors"))
    block = load_model(str(tmp_path / "bf16.safetensors"))
    weight = state["bert.encoder.layer.0.intermediate.dense.weight"].float().numpy().astype(np.float64)
    assert block.w_in == tuple(tuple(map(Fraction, row)) for row in weight.tolist())
