"""Loaders read every number exactly, or refuse in one line (issue 12, item 5).

Each test is a regression for one way a loader used to give a silently wrong
input: long doubles and int64 beyond 2⁵³ rounded through float64, complex
entries losing their imaginary part, a config.json that does not parse being
ignored, a state dict with two candidate models read as one of them, and
malformed files of every kind ending in a traceback (exit 3) or a hang.
"""

from __future__ import annotations

import json
import struct
from fractions import Fraction

import numpy as np
import pytest

from geomcheck.cli import main
from geomcheck.errors import InvalidInput, ModelFormatError
from geomcheck.io.npz import load_npz
from geomcheck.io.real import block_from_arrays, load_state_dict_block
from geomcheck.io.resolve import load_model
from geomcheck.io.tensors import SafetensorsFile, exact_values, float64_copy
from geomcheck.io.vectors import parse_vector


def one_line_exit_2(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def write_safetensors(path, tensors: dict[str, tuple[str, tuple[int, ...], bytes]], header_extra=None):
    """A safetensors file by hand: dtype names, shapes and raw little-endian bytes."""
    header, blob = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    header.update(header_extra or {})
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + blob)


# ---------------------------------------------------------------------------
# exact values


def test_long_double_is_read_exactly_not_through_float64(tmp_path):
    """1 + 2⁻⁶⁰ is a long double (64-bit significand) but rounds to 1.0 in float64.

    Rounded, the input x = (1 + 2⁻⁶⁰, 1, 1) would be constant, and LayerNorm at
    ε = 0 would call it degenerate; exactly, it is a direction.
    """
    if np.finfo(np.longdouble).nmant < 60:
        pytest.skip("this platform's long double is float64")
    tiny = np.longdouble(2) ** -60
    w = np.array([[1 + tiny, 0, -1], [0, 1, -1]], dtype=np.longdouble)
    np.savez(tmp_path / "ld.npz", w_in=w, b_in=np.zeros(2, np.longdouble), w_out=np.eye(3, 2),
             b_out=np.zeros(3), gamma=np.ones(3))
    block = load_npz(tmp_path / "ld.npz")
    assert block.w_in[0][0] == 1 + Fraction(1, 2**60)
    assert float64_copy(w) is None  # the fast search must not start from a rounded copy
    x = tuple(exact_values(np.array([1 + tiny, 1, 1], dtype=np.longdouble), "x"))
    assert x[0] != x[1] and block.check_direction(x, "x") == x


def test_int64_beyond_2_53_is_exact(tmp_path):
    big = 2**53 + 1  # float64 would round it to 2⁵³
    w = np.array([[big, -1], [3, 2**62 + 7]], dtype=np.int64)
    np.savez(tmp_path / "int.npz", w_in=w, b_in=np.array([0, -big], np.int64), w_out=np.eye(2, dtype=np.int64),
             b_out=np.zeros(2, np.int64))
    block = load_npz(tmp_path / "int.npz")
    assert block.w_in == ((big, -1), (3, 2**62 + 7)) and block.b_in == (0, -big)
    arrays_block = block_from_arrays(w, np.zeros(2), np.eye(2), np.zeros(2), norm="none")
    assert arrays_block.w_in[0][0] == big and arrays_block.w_in[1][1] == 2**62 + 7
    assert float64_copy(w) is None and float64_copy(np.array([2**53], np.int64)) is not None


def test_safetensors_int64_and_bf16_exact(tmp_path):
    big = 2**60 + 3
    bf16 = np.array([0x3F81, 0xC2F7, 0x0001], dtype="<u2")  # 1.0078125, -123.5, the smallest subnormal
    write_safetensors(tmp_path / "t.safetensors", {
        "a": ("I64", (2,), np.array([big, -big], "<i8").tobytes()),
        "b": ("BF16", (3,), bf16.tobytes()),
    })
    f = SafetensorsFile(tmp_path / "t.safetensors")
    assert exact_values(f["a"], "a") == (big, -big)
    assert exact_values(f["b"], "b") == (Fraction(129, 128), Fraction(-247, 2), Fraction(1, 2**133))


def test_own_safetensors_reader_agrees_with_the_library(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    rng = np.random.default_rng(0)
    tensors = {"w": rng.standard_normal((3, 5)).astype(np.float16), "v": rng.integers(-9, 9, 4).astype(np.int32),
               "x": rng.standard_normal(2)}
    st.save_file(tensors, str(tmp_path / "lib.safetensors"))
    mine = SafetensorsFile(tmp_path / "lib.safetensors")
    assert sorted(mine) == sorted(tensors)
    for key, value in tensors.items():
        assert mine[key].dtype == value.dtype and np.array_equal(mine[key], value)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_weights_are_refused(tmp_path, dtype):
    np.savez(tmp_path / "c.npz", w_in=np.eye(2, dtype=dtype), b_in=np.zeros(2), w_out=np.eye(2), b_out=np.zeros(2))
    with pytest.raises(ModelFormatError, match="complex"):
        load_npz(tmp_path / "c.npz")


# ---------------------------------------------------------------------------
# malformed files: one line, exit 2


def test_npz_object_array_refused(tmp_path, capsys):
    w = np.empty((2, 2), dtype=object)
    w[:] = 1
    np.savez(tmp_path / "obj.npz", w_in=w, b_in=np.zeros(2), w_out=np.eye(2), b_out=np.zeros(2))
    err = one_line_exit_2(["sphere", str(tmp_path / "obj.npz")], capsys)
    assert "w_in" in err and "pickle" in err


@pytest.mark.parametrize("arrays, message", [
    (dict(w_in=np.zeros((2, 2, 2)), b_in=np.zeros(2), w_out=np.eye(2), b_out=np.zeros(2)), "w_in must be a matrix"),
    (dict(w_in=np.eye(2), b_in=np.zeros(3), w_out=np.eye(2), b_out=np.zeros(2)), "b_in"),
    (dict(w_in=np.eye(2), b_in=np.zeros(2), w_out=np.eye(2), b_out=np.zeros(2), eps=np.array([1.0, 2.0])), "eps"),
    (dict(w_in=np.eye(2), b_in=np.zeros(2), w_out=np.eye(2), b_out=np.zeros(2), eps=np.array(-1.0)), "negative"),
    (dict(w_in=np.eye(2), b_in=np.zeros(2), w_out=np.eye(2), b_out=np.zeros(2), norm=np.array([1, 2])), "norm"),
    (dict(w_in=np.eye(2), b_in=np.zeros(2)), "w_out"),
])
def test_npz_wrong_shapes_and_fields(tmp_path, capsys, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    assert message in one_line_exit_2(["sphere", str(tmp_path / "bad.npz")], capsys)


@pytest.mark.parametrize("suffix", [".npz", ".json", ".safetensors"])
@pytest.mark.parametrize("content", [b"", b"garbage \x00\xff" * 7, b"\xff" * 8 + b"{}"])
def test_empty_and_garbage_model_files(tmp_path, capsys, suffix, content):
    path = tmp_path / f"model{suffix}"
    path.write_bytes(content)
    one_line_exit_2(["sphere", str(path)], capsys)


def test_safetensors_header_lies_are_refused(tmp_path):
    write_safetensors(tmp_path / "a.safetensors", {"w": ("F32", (3,), b"\0" * 8)})
    with pytest.raises(ModelFormatError, match="does not match"):
        SafetensorsFile(tmp_path / "a.safetensors")
    write_safetensors(tmp_path / "b.safetensors", {"w": ("F32", (1,), b"\0" * 4)},
                      header_extra={"v": {"dtype": "F32", "shape": [1], "data_offsets": [4, 400]}})
    with pytest.raises(ModelFormatError, match="outside"):
        SafetensorsFile(tmp_path / "b.safetensors")
    write_safetensors(tmp_path / "c.safetensors", {"w": ("F8_E4M3", (2,), b"\0\0")})
    with pytest.raises(ModelFormatError, match="F8_E4M3"):
        SafetensorsFile(tmp_path / "c.safetensors")["w"]


def test_deeply_nested_and_huge_json_are_one_line(tmp_path, capsys):
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    assert "nested too deeply" in one_line_exit_2(["sphere", str(tmp_path / "deep.json")], capsys)
    data = {"format": "geomcheck.mlp/1", "norm": {"kind": "none"}, "w_in": [[1]], "b_in": [1],
            "w_out": [[1]], "b_out": [0]}
    text = json.dumps(data).replace('"b_in": [1]', '"b_in": [1e999999999]')
    (tmp_path / "exp.json").write_text(text)
    assert "exponent" in one_line_exit_2(["sphere", str(tmp_path / "exp.json")], capsys)
    (tmp_path / "digits.json").write_text(json.dumps(data).replace('"b_in": [1]', '"b_in": [' + "7" * 5000 + "]"))
    assert "4300 digits" in one_line_exit_2(["sphere", str(tmp_path / "digits.json")], capsys)


def test_huge_exponent_in_a_vector_is_refused_not_expanded(capsys):
    err = one_line_exit_2(["ray", "toy:circle3", "--direction", "1e999999999,0,-1"], capsys)
    assert "exponent" in err


def test_empty_npy_vector(tmp_path, capsys):
    (tmp_path / "v.npy").write_bytes(b"")
    one_line_exit_2(["ray", "toy:circle3", "--direction", f"@{tmp_path / 'v.npy'}"], capsys)


# ---------------------------------------------------------------------------
# configs and ambiguity


def _bert_like(prefix: str, d=4, n=6, seed=0) -> dict:
    rng = np.random.default_rng(seed)
    f = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    base = f"{prefix}encoder.layer.0."
    return {base + "intermediate.dense.weight": f(n, d), base + "intermediate.dense.bias": f(n),
            base + "output.dense.weight": f(d, n), base + "output.dense.bias": f(d),
            base + "attention.output.LayerNorm.weight": f(d), base + "attention.output.LayerNorm.bias": f(d)}


def test_two_prefixes_refused_with_a_way_to_choose():
    tensors = {**_bert_like("bert.", seed=0), **_bert_like("", seed=1)}
    with pytest.raises(InvalidInput, match="2 candidate models.*prefix=bert\\."):
        load_state_dict_block(tensors, 0)
    chosen = load_state_dict_block(tensors, 0, prefix="bert.")
    assert chosen.w_in[0][0] == Fraction(float(tensors["bert.encoder.layer.0.intermediate.dense.weight"][0, 0]))
    other = load_state_dict_block(tensors, 0, prefix="")
    assert other.w_in[0][0] == Fraction(float(tensors["encoder.layer.0.intermediate.dense.weight"][0, 0]))


def test_two_layouts_refused(tmp_path, capsys):
    st = pytest.importorskip("safetensors.numpy")
    rng = np.random.default_rng(2)
    gpt2 = {"h.0.mlp.c_fc.weight": rng.standard_normal((4, 6)), "h.0.mlp.c_fc.bias": rng.standard_normal(6),
            "h.0.mlp.c_proj.weight": rng.standard_normal((6, 4)), "h.0.mlp.c_proj.bias": rng.standard_normal(4),
            "h.0.ln_2.weight": np.ones(4), "h.0.ln_2.bias": np.zeros(4)}
    st.save_file({**gpt2, **_bert_like("")}, str(tmp_path / "two.safetensors"))
    err = one_line_exit_2(["sphere", str(tmp_path / "two.safetensors")], capsys)
    assert "layout=bert" in err and "layout=gpt2" in err
    block = load_model(f"{tmp_path / 'two.safetensors'}?layout=gpt2")
    assert block.w_in[0][0] == Fraction(float(gpt2["h.0.mlp.c_fc.weight"][0, 0]))  # Conv1D: transposed


@pytest.mark.parametrize("config_text, message", [
    ("{not json", "not valid JSON"),
    ('{"layer_norm_eps": "tiny"}', "not a number"),
    ('{"layer_norm_eps": -1e-5}', "negative"),
    ('{"layer_norm_eps": 1e-99999999}', "exponent"),
    ('{"layer_norm_eps": true}', "expected a number"),
    ('{"model_type": 7}', "model_type"),
    ("[1, 2]", "expected a JSON object"),
    ('{"a": ' * 5000 + "1" + "}" * 5000, "nested too deeply"),
])
def test_bad_config_beside_a_state_dict_is_an_error(tmp_path, capsys, config_text, message):
    """A config.json that does not parse or validate is never replaced by defaults (ε would fall back)."""
    st = pytest.importorskip("safetensors.numpy")
    st.save_file(_bert_like(""), str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text(config_text)
    assert message in one_line_exit_2(["sphere", str(tmp_path / "model.safetensors")], capsys)


def test_config_eps_is_read_as_its_decimal(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    st.save_file(_bert_like(""), str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text('{"model_type": "bert", "layer_norm_eps": 1e-7, "hidden_act": "relu"}')
    block = load_model(str(tmp_path / "model.safetensors"))
    assert block.norm.eps == Fraction(1, 10**7) and block.activation.name == "relu"


def test_gated_state_dict_is_refused_never_read_without_the_gate():
    rng = np.random.default_rng(0)
    tensors = {"model.layers.0.mlp.gate_proj.weight": rng.standard_normal((6, 4)),
               "model.layers.0.mlp.up_proj.weight": rng.standard_normal((6, 4)),
               "model.layers.0.mlp.down_proj.weight": rng.standard_normal((4, 6))}
    with pytest.raises(InvalidInput, match="gated MLP blocks are not supported yet"):
        load_state_dict_block(tensors, 0)


def test_sae_vector_garbage_and_empty_files(tmp_path, capsys):
    (tmp_path / "empty.safetensors").write_bytes(b"")
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip")
    for name in ("empty.safetensors", "junk.npz"):
        one_line_exit_2(["ray", "toy:sphere4", "--direction", f"sae:{tmp_path / name}#0"], capsys)
    np.savez(tmp_path / "cplx.npz", W_dec=np.ones((3, 4), np.complex128))
    assert "complex" in one_line_exit_2(["ray", "toy:sphere4", "--direction", f"sae:{tmp_path / 'cplx.npz'}#0"],
                                        capsys)
    with pytest.raises(InvalidInput, match="write sae:PATH#K"):
        parse_vector(f"sae:{tmp_path / 'cplx.npz'}", load_model("toy:sphere4"))


def test_npz_eps_as_exact_text(tmp_path):
    np.savez(tmp_path / "e.npz", w_in=np.eye(2), b_in=np.ones(2), w_out=np.eye(2), b_out=np.zeros(2),
             gamma=np.ones(2), eps=np.array("1/3"))
    assert load_npz(tmp_path / "e.npz").norm.eps == Fraction(1, 3)


def test_oversized_random_toy_refused_before_building(capsys):
    assert "more than a toy" in one_line_exit_2(["sphere", "toy:random?d=4096&n=16384"], capsys)


def test_npy_under_an_npz_name_and_truncated_archive(tmp_path, capsys):
    np.save(tmp_path / "a.npy", np.eye(2))
    (tmp_path / "a.npy").rename(tmp_path / "a.npz")
    assert "not an .npz archive" in one_line_exit_2(["sphere", str(tmp_path / "a.npz")], capsys)
    np.savez(tmp_path / "full.npz", w_in=np.eye(3), b_in=np.zeros(3), w_out=np.eye(3), b_out=np.zeros(3))
    data = (tmp_path / "full.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    one_line_exit_2(["sphere", str(tmp_path / "cut.npz")], capsys)


@pytest.mark.parametrize("key, shape, message", [
    ("encoder.layer.0.intermediate.dense.bias", (5,), "b_in"),
    ("encoder.layer.0.output.dense.weight", (4, 6, 1), "w_out"),
    ("encoder.layer.0.attention.output.LayerNorm.weight", (4, 1), "gamma"),
    ("encoder.layer.0.attention.output.LayerNorm.bias", (3,), "beta"),
])
def test_state_dict_wrong_shapes_name_the_tensor(tmp_path, capsys, key, shape, message):
    st = pytest.importorskip("safetensors.numpy")
    tensors = _bert_like("")
    tensors[key] = np.ones(shape, np.float32)
    st.save_file(tensors, str(tmp_path / "s.safetensors"))
    assert message in one_line_exit_2(["sphere", str(tmp_path / "s.safetensors")], capsys)
