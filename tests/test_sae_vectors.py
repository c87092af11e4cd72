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
