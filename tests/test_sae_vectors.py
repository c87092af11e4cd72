"""``sae:PATH#K``: row K of W_dec, exact, in either stored orientation."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

pytest.importorskip("safetensors")

from geomcheck.errors import InvalidInput  # noqa: E402
from geomcheck.io.resolve import load_model  # noqa: E402
from geomcheck.io.vectors import parse_vector  # noqa: E402


def test_sae_rows_exact_and_transposed(tmp_path):
    from safetensors.numpy import save_file

    block = load_model("toy:sphere4")
    w_dec = np.random.default_rng(0).standard_normal((7, 4)).astype(np.float32)
    save_file({"W_dec": w_dec}, str(tmp_path / "sae.safetensors"))
    save_file({"W_dec": np.ascontiguousarray(w_dec.T)}, str(tmp_path / "sae_t.safetensors"))
    expected = tuple(Fraction(float(v)) for v in w_dec[5])
    assert parse_vector(f"sae:{tmp_path / 'sae.safetensors'}#5", block) == expected
    assert parse_vector(f"sae:{tmp_path / 'sae_t.safetensors'}#5", block) == expected
    with pytest.raises(InvalidInput, match=r"0 ≤ K < 7"):
        parse_vector(f"sae:{tmp_path / 'sae.safetensors'}#7", block)
    with pytest.raises(InvalidInput, match="not found"):
        parse_vector(f"sae:{tmp_path / 'missing.safetensors'}#0", block)
    save_file({"W_enc": w_dec}, str(tmp_path / "other.safetensors"))
    with pytest.raises(InvalidInput, match="no tensor W_dec"):
        parse_vector(f"sae:{tmp_path / 'other.safetensors'}#0", block)


def test_token_vector_needs_a_real_model():
    with pytest.raises(InvalidInput, match="not loaded from a real model"):
        parse_vector("token:hello@0", load_model("toy:circle3"))


def write_sae_lens_folder(folder, w_dec, *, d_in, d_sae, dtype="float32", extra_tensors=None):
    """The folder SAE-Lens' ``save_model`` writes: cfg.json + sae_weights.safetensors.

    W_enc is (d_in, d_sae) and W_dec (d_sae, d_in), as SAE-Lens stores them.
    """
    import json

    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    cfg = {"architecture": "standard", "d_in": d_in, "d_sae": d_sae, "dtype": dtype, "device": "cpu",
           "model_name": "toy", "hook_name": "blocks.0.hook_resid_mid", "apply_b_dec_to_input": True,
           "normalize_activations": "none"}
    (folder / "cfg.json").write_text(json.dumps(cfg))
    tensors = {"W_dec": w_dec, "W_enc": w_dec.T.contiguous(), "b_enc": torch.zeros(d_sae, dtype=w_dec.dtype),
               "b_dec": torch.zeros(d_in, dtype=w_dec.dtype), **(extra_tensors or {})}
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(folder / "sae_weights.safetensors"))


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float32"])
def test_sae_lens_folder_in_every_width(tmp_path, dtype):
    """``sae:DIR#K`` on SAE-Lens' folder; bf16/fp16 weights read exactly (bf16 has no numpy type)."""
    torch = pytest.importorskip("torch")
    block = load_model("toy:sphere4")
    torch.manual_seed(0)
    w_dec = torch.randn(9, 4).to(getattr(torch, dtype))
    write_sae_lens_folder(tmp_path / "sae", w_dec, d_in=4, d_sae=9, dtype=dtype)
    expected = tuple(Fraction(v) for v in w_dec[6].double().tolist())  # bf16/fp16 → float64 is exact
    assert parse_vector(f"sae:{tmp_path / 'sae'}#6", block) == expected
    assert parse_vector(f"sae:{tmp_path / 'sae' / 'sae_weights.safetensors'}#6", block) == expected


def test_square_decoder_orientation_from_format_and_config(tmp_path):
    """d_sae = d_in: the shape cannot tell the axes apart, the format does.

    ``decoder.weight`` of an ``nn.Linear(d_sae → d_in)`` is (d_in, d_sae): feature K
    is column K. SAE-Lens' W_dec is (d_sae, d_in): feature K is row K.
    """
    import json

    from safetensors.numpy import save_file

    block = load_model("toy:sphere4")
    m = np.arange(16, dtype=np.float32).reshape(4, 4) - 7.5
    save_file({"decoder.weight": m}, str(tmp_path / "linear.safetensors"))
    assert parse_vector(f"sae:{tmp_path / 'linear.safetensors'}#1", block) == tuple(Fraction(float(v)) for v in m[:, 1])
    (tmp_path / "lens").mkdir()
    save_file({"W_dec": m}, str(tmp_path / "lens" / "sae_weights.safetensors"))
    (tmp_path / "lens" / "cfg.json").write_text(json.dumps({"d_in": 4, "d_sae": 4}))
    assert parse_vector(f"sae:{tmp_path / 'lens'}#1", block) == tuple(Fraction(float(v)) for v in m[1])


def test_sae_config_decides_and_is_validated(tmp_path):
    import json

    from safetensors.numpy import save_file

    block = load_model("toy:sphere4")
    folder = tmp_path / "sae"
    folder.mkdir()
    w = np.arange(24, dtype=np.float32).reshape(6, 4)
    save_file({"W_dec": w}, str(folder / "sae_weights.safetensors"))
    for cfg, message in [({"d_in": 5, "d_sae": 6}, "d_in = 5"), ({"d_in": 4, "d_sae": 7}, "d_sae = 7"),
                         ({"d_in": 4}, "must give d_in and d_sae"), ({"d_in": "4", "d_sae": 6}, "not an integer")]:
        (folder / "cfg.json").write_text(json.dumps(cfg))
        with pytest.raises(InvalidInput, match=message):
            parse_vector(f"sae:{folder}#0", block)
    (folder / "cfg.json").write_text("{broken")
    with pytest.raises(InvalidInput, match="not valid JSON"):
        parse_vector(f"sae:{folder}#0", block)
    (folder / "cfg.json").write_text(json.dumps({"d_in": 4, "d_sae": 6}))
    assert parse_vector(f"sae:{folder}#5", block) == tuple(Fraction(int(v)) for v in w[5])
    with pytest.raises(InvalidInput, match="without sae_weights.safetensors"):
        parse_vector(f"sae:{tmp_path}#0", block)
