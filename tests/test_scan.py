"""geomcheck scan without a cluster (``workers=0``: tasks run in this process).

The mathematics of the rows (hand-derived crossings, exact rows against the
engine called directly, estimate against exact), the exact-row rules, and the
"nothing lost" machinery: resume, interruption, corrupt and foreign
partitions, refusal to mix inputs. The Dask runs (a killed worker) are in
test_scan_dask.py.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest

pytest.importorskip("pyarrow")

from geomcheck.cli import main  # noqa: E402
from geomcheck.errors import InvalidInput  # noqa: E402
from geomcheck.geometry.paths import PathSpec  # noqa: E402
from geomcheck.io.resolve import load_model  # noqa: E402
from geomcheck.search.paths import analyse_path_fast  # noqa: E402
from geomcheck.studies import store  # noqa: E402
from geomcheck.studies.scan import ScanConfig, layer_specs, parse_exact_rule, run_scan, summarise  # noqa: E402
from geomcheck.verdicts import ESTIMATE, PROVED  # noqa: E402

RANDOM = "toy:random?d=5&n=12&seed={layer}"


def _config(out, **kw) -> ScanConfig:
    base = dict(model=RANDOM, layers="0-1", directions="random:6", bases="random:4@1",
                paths=("rays", "superposition", "arcs"), out=str(out), exact="sample:3", chunk=7, workers=0)
    base.update(kw)
    return ScanConfig(**base)


def _rows(directory) -> list[dict]:
    return store.read_scan(directory).to_pylist()


def _npy(tmp_path, name, rows) -> str:
    path = tmp_path / name
    np.save(path, np.asarray(rows, dtype=np.float64))
    return f"@{path}"


# ---------------------------------------------------------------------------
# the rows: hand-derived cases and cross-checks
# ---------------------------------------------------------------------------

def test_rays_without_norm_hand_derived(tmp_path):
    # toy:circle3-noln, v = (1, 0, −1): h0 = 2t − 1 (t = 1/2), h1 = t − 2 (t = 2), h2 = t + 1 > 0,
    # h3 = −1 (w3·v = 0); v = (−1, 0, 1): h0 = −2t − 1, h1 = −t − 2, h2 = −t + 1 (t = 1), h3 = −1
    dirs = _npy(tmp_path, "v.npy", [[1, 0, -1], [-1, 0, 1]])
    run_scan(ScanConfig(model="toy:circle3-noln", directions=dirs, paths=("rays",), out=str(tmp_path / "s"),
                        exact="all", workers=0))
    rows = _rows(tmp_path / "s")
    assert [(r["layer"], r["kind"], r["base"], r["direction"]) for r in rows] == [(0, "ray", None, 0), (0, "ray", None, 1)]
    assert [r["flips_estimate"] for r in rows] == [2, 1]
    assert [r["exact_flips"] for r in rows] == [2, 1]
    assert [r["first_flip_estimate"] for r in rows] == [0.5, 1.0]
    assert [r["first_neuron_estimate"] for r in rows] == [0, 2]
    assert [r["exact_first_flip"] for r in rows] == [0.5, 1.0]
    assert all(r["status"] == PROVED and r["checker"].startswith("accepted") for r in rows)


def test_rays_with_layernorm_eps0_never_flip(tmp_path):
    # the essay's claim: at ε = 0 every ray is region-constant; the checker proves it row by row
    run_scan(ScanConfig(model="toy:sphere4", directions="random:12@3", paths=("rays",), out=str(tmp_path / "s"),
                        exact="all", workers=0))
    rows = _rows(tmp_path / "s")
    assert len(rows) == 12
    assert all(r["flips_estimate"] == 0 and r["exact_flips"] == 0 and r["status"] == PROVED for r in rows)
    assert all(r["critical_norm_estimate"] is None for r in rows)


def test_rays_with_eps_critical_norm_matches_exact(tmp_path):
    model = "toy:sphere4?eps=1/50"
    run_scan(ScanConfig(model=model, directions="random:10@5", paths=("rays",), out=str(tmp_path / "s"),
                        exact="all", workers=0))
    block = load_model(model)
    rows = _rows(tmp_path / "s")
    vectors = np.random.default_rng(5).standard_normal((10, 4))
    seen_flip = False
    for r in rows:
        analysis = analyse_path_fast(block, PathSpec.ray(tuple(map(Fraction, vectors[r["direction"]].tolist()))))
        norms = analysis.critical_norms  # exact squared centred norms, one per flipping neuron
        assert r["exact_flips"] == len(norms) == r["flips_estimate"]
        if norms:
            seen_flip = True
            exact_max = math.sqrt(max(q for _, q in norms))
            assert r["critical_norm_estimate"] == pytest.approx(exact_max, rel=1e-9)
        else:
            assert r["critical_norm_estimate"] is None
    assert seen_flip


def test_exact_rows_equal_the_engine_called_directly(tmp_path):
    run_scan(_config(tmp_path / "s", exact="all", layers="0"))
    block = load_model("toy:random?d=5&n=12&seed=0")
    X = np.random.default_rng(1).standard_normal((4, 5))
    V = np.random.default_rng(0).standard_normal((6, 5))
    q = lambda a: tuple(map(Fraction, a.tolist()))  # noqa: E731
    rows = _rows(tmp_path / "s")
    assert len(rows) == 6 + 2 * 4 * 6
    for r in rows:
        if r["kind"] == "ray":
            spec = PathSpec.ray(q(V[r["direction"]]))
        elif r["kind"] == "superposition":
            spec = PathSpec.superposition(q(X[r["base"]]), q(V[r["direction"]]))
        else:
            spec = PathSpec.arc(q(X[r["base"]]), q(V[r["direction"]]))
        analysis = analyse_path_fast(block, spec)
        assert r["exact_crossings"] == len(analysis.crossings)
        assert r["exact_flips"] == sum(len(c.neurons) for c in analysis.crossings)
        assert r["status"] == PROVED
        # generic random paths: no simultaneous or touching zeros, so the float count is right
        assert r["flips_estimate"] == r["exact_flips"]
        if analysis.crossings:
            assert r["first_flip_estimate"] == pytest.approx(float(analysis.crossings[0].at), rel=1e-9)


def test_row_keys_cover_the_product_once(tmp_path):
    run_scan(_config(tmp_path / "s", exact="none"))
    keys = [(r["layer"], r["kind"], r["base"], r["direction"]) for r in _rows(tmp_path / "s")]
    expected = {(layer, "ray", None, v) for layer in (0, 1) for v in range(6)}
    expected |= {(layer, kind, b, v) for layer in (0, 1) for kind in ("superposition", "arc")
                 for b in range(4) for v in range(6)}
    assert len(keys) == len(expected) and set(keys) == expected
    assert all(r["status"] == ESTIMATE and r["exact_flips"] is None for r in _rows(tmp_path / "s"))


def test_neuron_directions_use_the_exact_rows(tmp_path):
    # toy:circle3-noln's neuron rays: w_i·w_i > 0, so neuron i flips iff b_i < 0 (neurons 0, 1, 3);
    # the others flip where sign(w_j·w_i) = −sign(b_j)
    run_scan(ScanConfig(model="toy:circle3-noln", directions="neurons", paths=("rays",), out=str(tmp_path / "s"),
                        exact="all", workers=0))
    block = load_model("toy:circle3-noln")
    for r in _rows(tmp_path / "s"):
        w = block.w_in[r["direction"]]
        expected = sum(1 for row, b in zip(block.w_in, block.b_in)
                       if (s := sum(a * c for a, c in zip(row, w))) != 0 and (s > 0) != (b > 0) and b != 0)
        assert r["exact_flips"] == r["flips_estimate"] == expected


def test_degenerate_rows_stay_estimates_with_a_note(tmp_path):
    # a constant direction has no direction under LayerNorm: the exact stage refuses, the row says why
    dirs = _npy(tmp_path, "v.npy", [[1, 1, 1], [1, 0, -1]])
    run_scan(ScanConfig(model="toy:circle3", directions=dirs, paths=("rays",), out=str(tmp_path / "s"),
                        exact="all", workers=0))
    bad, good = _rows(tmp_path / "s")
    assert bad["status"] == ESTIMATE and not bad["exact"] and "constant" in bad["note"]
    assert good["status"] == PROVED and good["exact_flips"] == 0


# ---------------------------------------------------------------------------
# exact rules
# ---------------------------------------------------------------------------

def test_sample_rule_picks_k_rows_per_layer_and_kind(tmp_path):
    run_scan(_config(tmp_path / "s", exact="sample:3"))
    rows = _rows(tmp_path / "s")
    for layer in (0, 1):
        for kind in ("ray", "superposition", "arc"):
            assert sum(1 for r in rows if r["layer"] == layer and r["kind"] == kind and r["exact"]) == 3


def test_top_rule_takes_the_most_flips_per_partition(tmp_path):
    run_scan(_config(tmp_path / "s", exact="top:2", paths=("superposition",), chunk=8))
    rows = [r for r in _rows(tmp_path / "s")]
    for layer in (0, 1):
        for lo in range(0, 24, 8):
            part = [r for r in rows if r["layer"] == layer and lo <= r["base"] * 6 + r["direction"] < lo + 8]
            chosen = [r for r in part if r["exact"]]
            assert len(chosen) == 2
            assert min(r["flips_estimate"] for r in chosen) >= max(r["flips_estimate"] for r in part if not r["exact"])


def test_where_rule(tmp_path):
    run_scan(_config(tmp_path / "s", exact="where:flips_estimate >= 3 and kind == 'arc'"))
    rows = _rows(tmp_path / "s")
    assert any(r["exact"] for r in rows)
    assert all(r["exact"] == (r["flips_estimate"] >= 3 and r["kind"] == "arc") for r in rows)


@pytest.mark.parametrize("text", ["where:__import__('os')", "where:flips > 2", "where:(", "top:x", "sample:-1", "every"])
def test_bad_exact_rules_are_refused(text):
    with pytest.raises(InvalidInput):
        parse_exact_rule(text)


# ---------------------------------------------------------------------------
# nothing lost
# ---------------------------------------------------------------------------

def test_rerun_skips_every_partition(tmp_path):
    first = run_scan(_config(tmp_path / "s"))
    reference = _rows(tmp_path / "s")
    again = run_scan(_config(tmp_path / "s"))
    assert first.partitions["computed"] == first.partitions["total"] > 1
    assert again.partitions["skipped"] == again.partitions["total"] and again.partitions["computed"] == 0
    assert _rows(tmp_path / "s") == reference


def test_interrupted_run_resumed_gives_the_same_dataset(tmp_path):
    run_scan(_config(tmp_path / "ref"))
    reference = _rows(tmp_path / "ref")
    done = []

    def interrupt(task, how):
        done.append(task.name)
        if len(done) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_scan(_config(tmp_path / "s"), on_partition=interrupt)
    # an interrupted write leaves at most a dot-temporary, which readers skip and the rerun removes
    (tmp_path / "s" / "layer=0" / ".ray-000000000-000000007.parquet.tmp-1").write_bytes(b"PAR1 half")
    resumed = run_scan(_config(tmp_path / "s"))
    assert resumed.partitions["skipped"] == 3
    assert resumed.partitions["computed"] == resumed.partitions["total"] - 3
    assert _rows(tmp_path / "s") == reference
    assert not list((tmp_path / "s").glob("layer=*/.*"))


@pytest.mark.parametrize("damage", ["truncate", "flip-bytes", "foreign", "delete"])
def test_damaged_partition_is_recomputed(tmp_path, damage):
    run_scan(_config(tmp_path / "s"))
    reference = _rows(tmp_path / "s")
    files = sorted((tmp_path / "s").glob("layer=1/superposition-*.parquet"))
    victim = files[1]
    data = victim.read_bytes()
    if damage == "truncate":
        victim.write_bytes(data[: len(data) // 2])
    elif damage == "flip-bytes":  # inside the first data page: only the page checksum can tell
        mid = bytearray(data)
        for i in range(40, 60):
            mid[i] ^= 0xFF
        victim.write_bytes(bytes(mid))
    elif damage == "foreign":  # a valid file, but another partition's rows
        victim.write_bytes(files[0].read_bytes())
    else:
        victim.unlink()
    seen = {}
    resumed = run_scan(_config(tmp_path / "s"), on_partition=lambda task, how: seen.__setitem__(task.name, how)
                       if task.layer == 1 else None)
    assert resumed.partitions["computed"] == 1
    assert seen[victim.name] == "computed"
    assert _rows(tmp_path / "s") == reference


def test_changed_inputs_are_refused(tmp_path, capsys):
    out = tmp_path / "s"
    args = ["scan", RANDOM, "--layers", "0-1", "--directions", "random:6", "--bases", "random:4@1", "--out", str(out),
            "--chunk", "7", "--workers", "0", "--exact", "none", "--json"]
    assert main(args) == 0
    capsys.readouterr()
    changed = [
        ["--layers", "0-2"],                                              # other layers
        ["--directions", "random:6@2"],                                   # other direction source
        ["--exact", "all"],                                               # other rule
    ]
    for change in changed:
        argv = list(args)
        for k in range(0, len(change), 2):
            argv[argv.index(change[k]) + 1] = change[k + 1]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "other inputs" in err and "never mixed" in err
    # other weights under the same model spec (a .json file rewritten): the sha256 tells
    from geomcheck.io.modelfile import dump_model

    model = tmp_path / "m.json"
    model.write_text(dump_model(load_model("toy:random?d=5&n=12&seed=0")))
    one = ["scan", str(model), "--directions", "random:3", "--out", str(tmp_path / "m"), "--workers", "0"]
    assert main(one) == 0
    model.write_text(dump_model(load_model("toy:random?d=5&n=12&seed=1")))
    capsys.readouterr()
    assert main(one) == 2
    assert "model_sha256" in capsys.readouterr().err
    assert main(one + ["--overwrite"]) == 0


def test_changed_npy_file_is_refused(tmp_path, capsys):
    dirs = _npy(tmp_path, "v.npy", [[1, 0, -1]])
    argv = ["scan", "toy:circle3", "--directions", dirs, "--out", str(tmp_path / "s"), "--workers", "0"]
    assert main(argv) == 0
    _npy(tmp_path, "v.npy", [[1, 0, -2]])
    capsys.readouterr()
    assert main(argv) == 2
    assert "fingerprint" in capsys.readouterr().err


def test_metadata_names_inputs_and_version(tmp_path):
    from geomcheck import __version__
    import pyarrow.parquet as pq

    run_scan(_config(tmp_path / "s", layers="0"))
    manifest = json.loads((tmp_path / "s" / "_scan.json").read_text())
    assert manifest["geomcheck_version"] == __version__
    assert manifest["inputs"]["layers"][0]["model_sha256"] == \
        __import__("geomcheck.io.modelfile", fromlist=["model_sha256"]).model_sha256(
            load_model("toy:random?d=5&n=12&seed=0"))
    some = next((tmp_path / "s").glob("layer=0/*.parquet"))
    info = json.loads(pq.read_schema(some).metadata[b"geomcheck.scan"])
    assert info["inputs_sha256"] == manifest["inputs_sha256"]


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------

def test_cli_json_summary(tmp_path, capsys):
    dirs = _npy(tmp_path, "v.npy", [[1, 0, -1], [-1, 0, 1]])
    assert main(["scan", "toy:circle3-noln", "--directions", dirs, "--paths", "rays", "--exact", "all",
                 "--out", str(tmp_path / "s"), "--workers", "0", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["rows"] == 2 and payload["exact_rows"] == 2
    (s,) = payload["summary"]
    assert s["flips_estimate"]["max"] == 2 and s["exact_agrees_with_estimate"] == 2 and s["status"] == {PROVED: 2}
    assert summarise(tmp_path / "s") == payload["summary"]


@pytest.mark.parametrize("argv, words", [
    (["--directions", "bogus"], "unknown source"),
    (["--directions", "random:3", "--paths", "superposition"], "--bases"),
    (["--directions", "random:3", "--paths", "spirals"], "unknown kind"),
    (["--directions", "random:3", "--layers", "2"], "one block"),
    (["--directions", "@missing.npy"], "not found"),
    (["--directions", "random:3", "--exact", "where:import"], "where"),
])
def test_cli_bad_input_is_one_line(tmp_path, capsys, argv, words):
    assert main(["scan", "toy:circle3", "--out", str(tmp_path / "s"), "--workers", "0", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err


def test_layer_specs():
    assert layer_specs("minilm", "1-2") == [(1, "minilm:1"), (2, "minilm:2")]
    assert layer_specs("toy:random?seed={layer}", "0,2") == [(0, "toy:random?seed=0"), (2, "toy:random?seed=2")]
    assert layer_specs("m.safetensors", "3") == [(3, "m.safetensors?layer=3")]
    assert layer_specs("minilm:4", None) == [(4, "minilm:4")]
    with pytest.raises(InvalidInput):
        layer_specs("minilm", "6")
