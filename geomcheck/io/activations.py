"""Directions from real models: residual-stream activations of text, SAE features.

* ``token:TEXT@POS`` — the residual-stream vector the block's normalization
  reads, at token position POS (0-based; negative counts from the end; with
  BERT tokenizers position 0 is ``[CLS]``) of TEXT, for the layer the block was
  loaded from. For BERT (post-LN) that is ``attention.output.dense(…) + hidden``,
  the input of ``encoder.layer.i.attention.output.LayerNorm``; for GPT-2 the
  input of ``h.i.ln_2``; for TransformerLens ``blocks.i.hook_resid_mid``. The
  model that runs is the one whose weights were loaded: the config of the
  block's folder with exactly the weight files the block was read from (not
  whatever ``model.safetensors`` sits beside them), every parameter read up to
  that layer present (a state dict without embeddings is refused, never filled
  with random ones), the tokenizer shipped in the folder (no tokenizer files:
  refused, never ``[UNK]``); a live module runs itself. Offline throughout
  (``HF_HUB_OFFLINE=1``, local files only); the float32 activation is read as
  its exact dyadic value.
* ``sae:PATH#K`` — feature K's decoder direction from ``PATH``: the folder
  SAE-Lens writes (``cfg.json`` + ``sae_weights.safetensors``), or a
  ``.safetensors``/``.npz`` file (a ``cfg.json`` beside it is used). bf16/fp16
  weights are read exactly; the orientation comes from the config (``d_in``,
  ``d_sae``) or the tensor's name, never from the shape alone
  (:func:`sae_matrix`).
"""

from __future__ import annotations

import os
import re
from fractions import Fraction
from pathlib import Path

from geomcheck.errors import InvalidInput
from geomcheck.io.real import BlockSource, block_source, require
from geomcheck.model.block import MLPBlock

__all__ = ["residual_activations", "token_vector", "sae_vector", "sae_matrix", "tokenize"]

# (tokenizer, model) per model that runs: a live module is its own key (two modules
# loaded from one folder are two models); a model built from files is keyed by the
# folder, the exact weight files and the key prefix it was read with.
_MODELS: dict[tuple, tuple] = {}

TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "tokenizer.model", "spiece.model",
                   "sentencepiece.bpe.model")


def _offline(transformers) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    transformers.logging.disable_progress_bar()


def _tokenizer(transformers, model_dir: str | None, vocab_size: int | None):
    """The tokenizer shipped in ``model_dir``; a folder without tokenizer files is refused (never [UNK])."""
    if model_dir is None:
        raise InvalidInput("token: this block has no model folder with a tokenizer "
                           "(load it from minilm:LAYER, a save_pretrained folder, or a file with config.json beside it)")
    folder = Path(model_dir)
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise InvalidInput(f"token: {folder} has no tokenizer files ({', '.join(TOKENIZER_FILES[:3])}, …); "
                           "save the tokenizer there too (tokenizer.save_pretrained), else every word would be [UNK]")
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(f"token: cannot load the tokenizer from {model_dir} offline "
                           f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    if vocab_size is not None and len(tokenizer) > vocab_size:
        raise InvalidInput(f"token: the tokenizer in {model_dir} has {len(tokenizer)} tokens, the model's "
                           f"embedding only {vocab_size}: they do not belong together")
    return tokenizer


_UNUSED_AFTER = re.compile(r"(?:^|\.)(?:layer|layers|h)\.(\d+)\.")


def _needed(name: str, layer: int) -> bool:
    """Whether parameter ``name`` is read before layer ``layer``'s MLP normalization."""
    if name.startswith(("pooler.", "ln_f.", "norm.", "lm_head.", "cls.")):
        return False
    match = _UNUSED_AFTER.search(name)
    return match is None or int(match.group(1)) <= layer


def _model_from_files(transformers, torch, source: BlockSource):
    """The base model of ``source.model_dir``'s config with exactly the weights of ``source.weights``.

    Every parameter the forward pass reads up to the block's layer must be in
    those files: a state dict without embeddings is refused, never run with
    randomly initialised ones.
    """
    import numpy as np

    from geomcheck.io.tensors import ShardedTensors, read_npz

    try:
        config = transformers.AutoConfig.from_pretrained(source.model_dir, local_files_only=True)
        model = transformers.AutoModel.from_config(config)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"token: cannot build the model from {source.model_dir}/config.json "
                           f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    paths = [Path(p) for p in source.weights]
    tensors = (read_npz(paths[0]) if len(paths) == 1 and paths[0].suffix.lower() == ".npz"
               else ShardedTensors(paths))
    prefix = source.prefix
    params = dict(model.named_parameters())
    wanted = set(model.state_dict())
    missing = [k for k in params if prefix + k not in tensors and _needed(k, source.layer)]
    if missing:
        shown = ", ".join(prefix + k for k in missing[:2])
        raise InvalidInput(f"token: {paths[0].name} lacks {len(missing)} tensor(s) the model needs up to layer "
                           f"{source.layer} ({shown}{', …' if len(missing) > 2 else ''}); token activations "
                           "would come from random weights")
    state = {}
    for k in wanted:
        if prefix + k in tensors:
            arr = np.ascontiguousarray(tensors[prefix + k])
            if arr.dtype.kind not in "fiu":
                raise InvalidInput(f"token: tensor {prefix + k} has dtype {arr.dtype}")
            state[k] = torch.from_numpy(arr.copy())
    try:
        model.load_state_dict(state, strict=False)
    except RuntimeError as exc:
        raise InvalidInput(f"token: the weights in {paths[0].name} do not fit config.json "
                           f"({str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else exc})") from None
    return model


def _hf_model(source: BlockSource):
    """(tokenizer, model) for a source: the live module if given, else built from its exact weight files."""
    key = ("module", id(source.module)) if source.module is not None else (
        "files", source.model_dir, source.weights, source.prefix)
    if key in _MODELS:
        return _MODELS[key]
    torch = require("torch", "token activations")
    transformers = require("transformers", "token activations")
    _offline(transformers)
    if source.module is not None:
        model = source.module
    elif source.weights:
        model = _model_from_files(transformers, torch, source)
    else:
        raise InvalidInput("token: this block has no model to run (load it from minilm:LAYER, a save_pretrained "
                           "folder, or a .safetensors file with config.json beside it)")
    config = getattr(model, "config", None)
    tokenizer = _tokenizer(transformers, source.model_dir, getattr(config, "vocab_size", None))
    model.eval()
    _MODELS[key] = (tokenizer, model)  # holds the module, so its id cannot be reused while cached
    return _MODELS[key]


def _hook_module(model, source: BlockSource):
    base = getattr(model, "base_model", model)
    if source.family == "bert":
        return base.encoder.layer[source.layer].attention.output.LayerNorm
    if source.family == "gpt2":
        return base.h[source.layer].ln_2
    if source.family == "llama":  # gated LLaMA-family blocks (geomcheck.io.real.gated_block_from_hf)
        return base.layers[source.layer].post_attention_layernorm
    raise InvalidInput(f"token: cannot run a {source.family} block's model")


def residual_activations(block: MLPBlock, texts: list[str]):
    """For each text: (tokens, float32 array seq × d) of the vectors the block's norm reads."""
    import numpy as np

    source = block_source(block)
    if source is None:
        raise InvalidInput("token: the block was not loaded from a real model (use minilm:LAYER or a loader)")
    if source.family == "smollm2":
        from geomcheck.io.gguf import smollm2_residuals

        return smollm2_residuals(source.layer, texts)
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


SAE_WEIGHT_FILES = ("sae_weights.safetensors", "sae.safetensors")  # SAE-Lens, EleutherAI sparsify
# tensor name → axis that indexes the features when the config cannot tell (square decoders):
# SAE-Lens/sparsify store W_dec as (d_sae, d_in); an nn.Linear(d_sae → d_in) decoder stores (d_in, d_sae).
_DECODERS = {"W_dec": 0, "w_dec": 0, "decoder.weight": 1}


def _sae_files(path: Path, what: str) -> tuple[Path, Path | None]:
    """(weights file, config file or None) for ``sae:PATH``: a file, or the folder SAE-Lens writes."""
    if path.is_dir():
        weights = next((path / n for n in SAE_WEIGHT_FILES if (path / n).is_file()), None)
        if weights is None:
            raise InvalidInput(f"{what}: {path} is a folder without {' or '.join(SAE_WEIGHT_FILES)} "
                               "(SAE-Lens saves cfg.json + sae_weights.safetensors)")
        config = path / "cfg.json"
        return weights, config if config.is_file() else None
    if not path.is_file():
        raise InvalidInput(f"{what}: SAE file not found: {path}")
    config = path.parent / "cfg.json"
    return path, config if config.is_file() else None


def _sae_sizes(config_path: Path, what: str) -> tuple[int, int]:
    """(d_in, d_sae) from an SAE config, validated."""
    from geomcheck.io.real import config_int, read_config

    config = read_config(config_path)
    d_in = config_int(config, "d_in", str(config_path), low=1)
    d_sae = config_int(config, "d_sae", str(config_path), low=1)
    if d_sae is None:
        d_sae = config_int(config, "num_latents", str(config_path), low=1)
    if d_in is None or d_sae is None:
        raise InvalidInput(f"{what}: {config_path} must give d_in and d_sae (SAE-Lens) or num_latents (sparsify)")
    return d_in, d_sae


def sae_matrix(path: str | Path, d: int, what: str = "vector"):
    """The decoder of an SAE as a checked numpy array, features along axis 0 (n_features × d).

    Orientation comes from the config (``cfg.json``: ``d_in``, ``d_sae``) when
    there is one, else from the tensor's name (``W_dec``: (d_sae, d_in);
    ``decoder.weight``: (d_in, d_sae)); the shape alone decides nothing, so a
    square decoder is read along the axis its format says.
    """
    from geomcheck.io.tensors import check_numeric, read_tensor_file

    weights, config = _sae_files(Path(path), what)
    try:
        tensors = read_tensor_file(weights)
    except InvalidInput as exc:
        raise InvalidInput(f"{what}: {exc}") from None
    name = next((k for k in _DECODERS if k in tensors), None)
    if name is None:
        raise InvalidInput(f"{what}: {weights} has no tensor W_dec (have: {', '.join(sorted(tensors)[:8]) or 'none'})")
    w_dec = check_numeric(tensors[name], f"{what}: {weights.name}[{name}]")
    if w_dec.ndim != 2:
        raise InvalidInput(f"{what}: {name} has shape {w_dec.shape}, expected a matrix")
    axis = _DECODERS[name]
    if config is not None:
        d_in, d_sae = _sae_sizes(config, what)
        if d_in != d:
            raise InvalidInput(f"{what}: {config} says d_in = {d_in}, the model has d = {d}")
        expected = (d_sae, d_in) if axis == 0 else (d_in, d_sae)
        if w_dec.shape != expected:
            if d_in != d_sae and w_dec.shape == expected[::-1]:
                axis = 1 - axis  # the config's sizes say which axis holds the features
            else:
                raise InvalidInput(f"{what}: {name} has shape {w_dec.shape}, {config.name} says d_sae = {d_sae}, "
                                   f"d_in = {d_in}")
    elif w_dec.shape[1 - axis] != d:
        if w_dec.shape[axis] == d and w_dec.shape[1 - axis] != d:
            axis = 1 - axis  # only one axis has the model's width d: no choice is involved
        else:
            raise InvalidInput(f"{what}: {name} has shape {w_dec.shape}, expected n_features × {d}")
    return w_dec if axis == 0 else w_dec.T


def sae_vector(block: MLPBlock, arg: str, what: str = "vector") -> tuple[Fraction, ...]:
    """``PATH#K`` → feature K's decoder direction (PATH a file or an SAE-Lens folder), exactly."""
    from geomcheck.io.tensors import exact_values

    path_text, sep, k_text = arg.rpartition("#")
    if not sep:
        raise InvalidInput(f"{what}: write sae:PATH#K (feature K of the decoder W_dec)")
    w_dec = sae_matrix(path_text, block.d, what)
    try:
        k = int(k_text)
    except ValueError:
        raise InvalidInput(f"{what}: sae feature {k_text!r} is not an integer") from None
    if not 0 <= k < w_dec.shape[0]:
        raise InvalidInput(f"{what}: sae feature {k} out of range (0 ≤ K < {w_dec.shape[0]})")
    return exact_values(w_dec[k], f"{what}: W_dec[{k}]")
