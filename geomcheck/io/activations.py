"""Directions from real models: residual-stream activations of text, SAE features.

* ``token:TEXT@POS`` — the residual-stream vector the block's normalization
  reads, at token position POS (0-based; negative counts from the end; with
  BERT tokenizers position 0 is ``[CLS]``) of TEXT, for the layer the block was
  loaded from. For BERT (post-LN) that is ``attention.output.dense(…) + hidden``,
  the input of ``encoder.layer.i.attention.output.LayerNorm``; for GPT-2 the
  input of ``h.i.ln_2``; for TransformerLens ``blocks.i.hook_resid_mid``. The
  model runs offline (``HF_HUB_OFFLINE=1``, local files only) with the tokenizer
  shipped beside it; the float32 activation is read as its exact dyadic value.
* ``sae:PATH#K`` — row K of the tensor ``W_dec`` (n_features × d) in a
  ``.safetensors`` or ``.npz`` file (SAE-Lens layout); a ``W_dec`` stored as
  d × n_features is read by columns.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

from geomcheck.errors import InvalidInput
from geomcheck.io.real import BlockSource, block_source, require
from geomcheck.model.block import MLPBlock

__all__ = ["residual_activations", "token_vector", "sae_vector", "tokenize"]

_MODELS: dict[str, tuple] = {}


def _hf_model(source: BlockSource):
    """(tokenizer, model) for a source: the live module if given, else loaded offline from its folder."""
    key = source.model_dir or str(id(source.module))
    if key in _MODELS:
        return _MODELS[key]
    require("torch", "token activations")
    transformers = require("transformers", "token activations")
    if source.model_dir is None:
        raise InvalidInput("token: this block has no model folder to run (load it from minilm:LAYER or a saved model)")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(source.model_dir, local_files_only=True)
        model = source.module if source.module is not None else transformers.AutoModel.from_pretrained(
            source.model_dir, local_files_only=True)
    except OSError as exc:
        raise InvalidInput(f"token: cannot load the model from {source.model_dir} offline ({exc})") from None
    model.eval()
    _MODELS[key] = (tokenizer, model)
    return _MODELS[key]


def _hook_module(model, source: BlockSource):
    base = getattr(model, "base_model", model)
    if source.family == "bert":
        return base.encoder.layer[source.layer].attention.output.LayerNorm
    if source.family == "gpt2":
        return base.h[source.layer].ln_2
    raise InvalidInput(f"token: cannot run a {source.family} block's model")


def residual_activations(block: MLPBlock, texts: list[str]):
    """For each text: (tokens, float32 array seq × d) of the vectors the block's norm reads."""
    import numpy as np

    source = block_source(block)
    if source is None:
        raise InvalidInput("token: the block was not loaded from a real model (use minilm:LAYER or a loader)")
    if source.family == "transformer_lens":
        model = source.module
        out = []
        for text in texts:
            _, cache = model.run_with_cache(text, names_filter=f"blocks.{source.layer}.hook_resid_mid")
            out.append((model.to_str_tokens(text), cache[f"blocks.{source.layer}.hook_resid_mid"][0].detach().cpu().numpy()))
        return out
    torch = require("torch", "token activations")
    tokenizer, model = _hf_model(source)
    captured = []
    handle = _hook_module(model, source).register_forward_pre_hook(lambda mod, args: captured.append(args[0].detach()))
    out = []
    try:
        with torch.no_grad():
            for text in texts:
                encoded = tokenizer(text, return_tensors="pt")
                captured.clear()
                model(**encoded)
                tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])
                out.append((tokens, captured[0][0].float().numpy().astype(np.float32)))
    finally:
        handle.remove()
    return out


def tokenize(block: MLPBlock, text: str) -> list[str]:
    return residual_activations(block, [text])[0][0]


def token_vector(block: MLPBlock, arg: str, what: str = "vector") -> tuple[Fraction, ...]:
    """``TEXT@POS`` → the exact residual vector at that position."""
    text, sep, pos_text = arg.rpartition("@")
    if not sep or not text:
        raise InvalidInput(f"{what}: write token:TEXT@POS, e.g. token:the cat sat@2")
    try:
        pos = int(pos_text)
    except ValueError:
        raise InvalidInput(f"{what}: token position {pos_text!r} is not an integer") from None
    tokens, acts = residual_activations(block, [text])[0]
    if not -len(tokens) <= pos < len(tokens):
        raise InvalidInput(f"{what}: position {pos} out of range for {len(tokens)} tokens {tokens}")
    return tuple(map(Fraction, acts[pos].astype("float64").tolist()))


def sae_vector(block: MLPBlock, arg: str, what: str = "vector") -> tuple[Fraction, ...]:
    """``PATH#K`` → row K of ``W_dec``."""
    import numpy as np

    path_text, sep, k_text = arg.rpartition("#")
    if not sep:
        raise InvalidInput(f"{what}: write sae:PATH#K (row K of W_dec)")
    path = Path(path_text)
    if not path.is_file():
        raise InvalidInput(f"{what}: SAE file not found: {path}")
    if path.suffix.lower() == ".safetensors":
        st = require("safetensors.numpy", "SAE directions", "safetensors")
        try:
            tensors = st.load_file(str(path))
        except Exception as exc:  # noqa: BLE001
            raise InvalidInput(f"{what}: {path} is not a readable .safetensors file ({exc})") from None
    elif path.suffix.lower() == ".npz":
        with np.load(path, allow_pickle=False) as data:
            tensors = {k: data[k] for k in data.files}
    else:
        raise InvalidInput(f"{what}: SAE file must be .safetensors or .npz")
    w_dec = next((tensors[k] for k in ("W_dec", "w_dec", "decoder.weight") if k in tensors), None)
    if w_dec is None:
        raise InvalidInput(f"{what}: {path} has no tensor W_dec (have: {', '.join(sorted(tensors)[:8])})")
    w_dec = np.asarray(w_dec, dtype=np.float64)
    if w_dec.ndim != 2 or block.d not in w_dec.shape:
        raise InvalidInput(f"{what}: W_dec has shape {w_dec.shape}, expected n_features × {block.d}")
    if w_dec.shape[1] != block.d:
        w_dec = w_dec.T
    try:
        k = int(k_text)
    except ValueError:
        raise InvalidInput(f"{what}: sae feature {k_text!r} is not an integer") from None
    if not 0 <= k < w_dec.shape[0]:
        raise InvalidInput(f"{what}: sae feature {k} out of range (0 ≤ K < {w_dec.shape[0]})")
    row = w_dec[k]
    if not np.isfinite(row).all():
        raise InvalidInput(f"{what}: W_dec[{k}] has a non-finite entry")
    return tuple(map(Fraction, row.tolist()))
