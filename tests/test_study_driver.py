"""`geomcheck study` on any model family: exact inputs written and re-read bit for bit, the
one-ulp sensitivity of the extremes, options and output paths refused before any work, and the
output along token rotations summarised per layer (issues 12.4, 12.6, 13.4, 14.4)."""

from __future__ import annotations

import json
import time
from fractions import Fraction

import numpy as np
import pytest

from geomcheck.cli import main
from geomcheck.errors import InvalidInput
from geomcheck.studies.study import (LayerInputs, _ulp_moves, inputs_sha256, model_family, read_inputs,
                                     write_inputs)

TOY = "toy:random?d=6&n=12&norm=layernorm&eps=1/100&activation={act}&seed={layer}"


def toy_inputs(path, layers=(0, 1), tokens=5, d=6, seed=5):
    rng = np.random.default_rng(seed)
    lis = [LayerInputs(L, [f"t{i}" for i in range(tokens)], rng.standard_normal((tokens, d)).astype(np.float32),
                       rng.standard_normal((3, d)).astype(np.float32)) for L in layers]
    return write_inputs(path, "toy", ["a text"], lis), lis


def run_json(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def _strip_provenance(payload):
    payload = json.loads(json.dumps(payload))
    payload.pop("inputs")
    return payload


def test_inputs_round_trip_is_exact_and_hashed(tmp_path):
    digest, lis = toy_inputs(tmp_path / "in.npz")
    model, texts, layers, digest2 = read_inputs(tmp_path / "in.npz")
    assert (model, texts, digest2) == ("toy", ["a text"], digest)
    for li in lis:
        back = layers[li.layer]
        assert back.tokens.dtype == np.float32 and back.tokens.tobytes() == li.tokens.tobytes()
        assert back.random.tobytes() == li.random.tobytes() and back.labels == li.labels
    # one flipped bit in one vector changes the hash
    moved = LayerInputs(0, lis[0].labels, lis[0].tokens.copy(), lis[0].random)
    moved.tokens.view(np.uint32)[2, 3] ^= 1
    assert inputs_sha256(["a text"], [moved, lis[1]]) != digest


def test_rerun_from_saved_inputs_reproduces_every_number(tmp_path, capsys):
    toy_inputs(tmp_path / "in.npz")
    spec = TOY.format(act="gelu", layer="{layer}")
    argv = ["study", spec, "--sizes", "4,3,6", "--rotation-samples", "64", "--json"]
    first = run_json(capsys, argv + ["--inputs", str(tmp_path / "in.npz"), "--save-inputs", str(tmp_path / "again.npz")])
    second = run_json(capsys, argv + ["--inputs", str(tmp_path / "again.npz")])
    assert first["inputs"]["sha256"] == second["inputs"]["sha256"] == first["inputs"]["written_sha256"]
    assert _strip_provenance(first) == _strip_provenance(second)  # bit for bit: JSON floats round-trip exactly
    assert [L["index"] for L in first["layers"]] == [0, 1]
    assert first["layers"][0]["rotation"]["pairs"] > 0


def test_a_broken_inputs_file_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    assert main(["study", TOY.format(act="relu", layer="{layer}"), "--inputs", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not a study inputs file" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    assert main(["study", TOY.format(act="relu", layer="{layer}"), "--inputs", str(tmp_path / "other.npz")]) == 2


def test_one_ulp_moves_are_one_ulp():
    vec = tuple(map(Fraction, [1.0, -2.0, 0.5]))
    up, down, mixed = _ulp_moves(vec, np.random.default_rng(0))
    assert up == (1 + Fraction(1, 2**23), -2 + Fraction(1, 2**23), Fraction(1, 2) + Fraction(1, 2**24))
    assert down == (1 - Fraction(1, 2**24), -2 - Fraction(1, 2**22), Fraction(1, 2) - Fraction(1, 2**25))
    assert all(m in (u, d) for m, u, d in zip(mixed, up, down))


def test_sensitivity_is_reported_for_the_extremes(tmp_path, capsys):
    toy_inputs(tmp_path / "in.npz", layers=(0,))
    out = run_json(capsys, ["study", TOY.format(act="relu", layer="{layer}"), "--inputs", str(tmp_path / "in.npz"),
                            "--sizes", "4,3,6", "--rotation-samples", "0", "--json"])
    rays = out["layers"][0]["rays"]
    sens = rays["max_r_sensitivity"]
    assert len(sens["values"]) == 3 and sens["max_abs_change"] == max(abs(v - rays["max_r"]) for v in sens["values"])
    # a one-ulp move is a relative move of about 6e-8 per component: the threshold cannot be exactly unmoved
    # and cannot move by more than the inputs' condition allows here
    assert 0 < sens["max_relative_change"] < 1e-2


@pytest.mark.parametrize("argv, message", [
    (["--layers", "0,x"], "--layers"),
    (["--sizes", "1,2"], "--sizes"),
    (["--sources", "token,banana"], "--sources"),
    (["--rotation-samples", "3"], "--rotation-samples"),
    (["--layers", "-1"], "does not exist"),
])
def test_bad_options_are_refused_before_any_work(argv, message, capsys):
    start = time.perf_counter()
    assert main(["study", TOY.format(act="relu", layer="{layer}")] + argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert time.perf_counter() - start < 5  # nothing was computed (no model loaded, no token run)


def test_bad_output_paths_are_refused_before_work_and_leave_nothing(tmp_path, capsys):
    toy_inputs(tmp_path / "in.npz")
    a_file = tmp_path / "file"
    a_file.write_text("x")
    base = ["study", TOY.format(act="relu", layer="{layer}"), "--inputs", str(tmp_path / "in.npz")]
    assert main(base + ["--plot-dir", str(a_file)]) == 2
    assert "--plot-dir" in capsys.readouterr().err
    assert main(base + ["--report", str(tmp_path / "missing" / "r.html")]) == 2
    assert "--report" in capsys.readouterr().err
    assert main(base + ["--report", str(tmp_path)]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "in.npz"]


def test_a_failed_write_after_the_work_keeps_the_result(tmp_path, capsys, monkeypatch):
    toy_inputs(tmp_path / "in.npz", layers=(0,))
    import geomcheck.plots.study as plots

    def broken(pngs, directory):
        raise InvalidInput(f"--plot-dir: cannot write {directory}/rays.png (disk full)")

    monkeypatch.setattr(plots, "write_figures", broken)
    code = main(["study", TOY.format(act="relu", layer="{layer}"), "--inputs", str(tmp_path / "in.npz"),
                 "--sizes", "2,2,3", "--rotation-samples", "32", "--plot-dir", str(tmp_path / "p"), "--json"])
    captured = capsys.readouterr()
    assert code == 2 and "disk full" in captured.err
    assert json.loads(captured.out)["layers"][0]["rays"]["directions"] > 0  # the numbers were still printed
    assert (tmp_path / "p" / "inputs.npz").is_file()  # and the inputs written beside the plots


def test_rotation_summary_and_answer_come_from_the_numbers(tmp_path, capsys):
    toy_inputs(tmp_path / "in.npz", layers=(0, 1), tokens=6)
    out = run_json(capsys, ["study", TOY.format(act="relu", layer="{layer}"), "--inputs", str(tmp_path / "in.npz"),
                            "--sizes", "2,2,9", "--rotation-samples", "201", "--json"])
    for L in out["layers"]:
        rot = L["rotation"]
        assert rot["status"] == "estimate" and rot["pairs"] == len(rot["per_pair"]) > 0
        res = [q["affine_fit_residual"] for q in rot["per_pair"]]
        s = rot["summary"]["affine_fit_residual"]
        assert (s["min"], s["max"], s["median"]) == (min(res), max(res), float(np.median(res)))
        # ReLU: the kinks are the flips (every crossing of a single neuron changes the map)
        assert [q["kinks"] for q in rot["per_pair"]] == [q["flips"] for q in rot["per_pair"]]
        # flips along the rotation are the path engine's exact crossings of the same pairs
        token_changes = [q["changes"] for q in L["paths"]["per_pair"] if q["kind"] == "token"]
        assert sorted(q["flips"] for q in rot["per_pair"]) == sorted(token_changes)
    lo = min(L["rotation"]["summary"]["affine_fit_residual"]["min"] for L in out["layers"])
    hi = max(L["rotation"]["summary"]["affine_fit_residual"]["max"] for L in out["layers"])
    assert f"{100 * lo:.0f}–{100 * hi:.0f} %" in out["answer"]


def test_model_family_specs(tmp_path):
    fam = model_family("toy:random?d=4&norm=layernorm&seed={layer}")
    assert fam.layers is None and fam.default_layers == (0,)
    assert fam.load_block(3).name != fam.load_block(4).name
    with pytest.raises(InvalidInput, match="unknown model"):
        model_family("toy:circle3")
    with pytest.raises(InvalidInput, match="not found"):
        model_family(str(tmp_path / "nope.safetensors") + "?layer=1")


def test_report_is_self_contained(tmp_path, capsys):
    toy_inputs(tmp_path / "in.npz", layers=(0,))
    report = tmp_path / "r.html"
    pytest.importorskip("matplotlib")
    run_json(capsys, ["study", TOY.format(act="gelu", layer="{layer}"), "--inputs", str(tmp_path / "in.npz"),
                      "--sizes", "2,2,6", "--rotation-samples", "64", "--report", str(report), "--json"])
    text = report.read_text()
    import base64
    import re

    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", text)
    assert len(images) == 4 and all(base64.b64decode(i).startswith(b"\x89PNG\r\n\x1a\n") for i in images)
    assert not re.search(r"(src|href)=['\"](?!data:)", text)  # nothing loaded from outside the file
    _, _, _, digest = read_inputs(tmp_path / "in.npz")
    assert digest in text and "geomcheck study" in text and "estimate" in text


def test_check_rows_gates_every_path_row_through_the_checker(tmp_path, capsys):
    toy_inputs(tmp_path / "in.npz", layers=(0,))
    out = run_json(capsys, ["study", TOY.format(act="relu", layer="{layer}"), "--inputs", str(tmp_path / "in.npz"),
                            "--sizes", "2,2,6", "--rotation-samples", "0", "--check-rows", "--json"])
    paths = out["layers"][0]["paths"]
    assert paths["rows_checked"] == paths["pairs"] == len(paths["per_pair"]) > 0
    for row in paths["per_pair"]:
        v = row["verdict"]
        assert v["checked"] and v["certificate_kind"] == "path"
        # the checked statement is "region-constant": a sign change refutes it; a proof means no change
        # (a touching zero without a change also refutes it, so "refuted" does not imply a change)
        assert v["status"] in ("proved", "refuted") and (v["status"] == "refuted") >= (row["changes"] > 0)
