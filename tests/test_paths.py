"""Hand-derived paths, the CLI, the certificate shape, and bad input (issue 3)."""

from __future__ import annotations

import json
from fractions import Fraction as F

import pytest

from geomcheck.certify.path import path_certificate
from geomcheck.cli import main
from geomcheck.errors import DegenerateInput
from geomcheck.exact.quadratic import QuadraticRoot
from geomcheck.geometry.paths import PathSpec, PathThroughUndefined, analyse_path
from geomcheck.io import load_model
from geomcheck.search.paths import analyse_path_fast

DIAGONAL = (F(1), F(0), F(-1))


@pytest.mark.parametrize("engine", [analyse_path, analyse_path_fast])
def test_circle3_noln_ray_crosses_twice(engine):
    # h = W·(t·v) + b: neuron 0: 2t − 1 = 0 at t = 1/2; neuron 1: t − 2 = 0 at t = 2;
    # neuron 2: t + 1 > 0 and neuron 3: −1 < 0 never vanish for t > 0.
    a = engine(load_model("toy:circle3-noln"), PathSpec.ray(DIAGONAL))
    assert a.verdict == "not-constant"
    assert [c.at for c in a.crossings] == [F(1, 2), F(2)]
    assert [c.neurons for c in a.crossings] == [(0,), (1,)]
    assert [s.pattern for s in a.segments] == ["--+-", "+-+-", "+++-"]
    assert all(c.map_changes for c in a.crossings)
    assert a.polynomials == [(0, 2, -1), (0, 1, -2), (0, 1, 1), (0, 0, -1)]
    for c, (lo, hi) in zip(a.crossings, [(0, 1), (1, 10)]):
        assert lo < c.interval[0] < c.at < c.interval[1] < hi or c.interval[0] < c.at < c.interval[1]


@pytest.mark.parametrize("engine", [analyse_path, analyse_path_fast])
def test_circle3_ray_is_constant_and_the_lambda_terms_cancel(engine):
    a = engine(load_model("toy:circle3"), PathSpec.ray(DIAGONAL))
    assert a.verdict == "constant" and not a.crossings
    assert len(a.segments) == 1 and a.segments[0].pattern == "+-+-"
    # q_i(λ) = a_i·λ²: the λ¹ and λ⁰ coefficients vanish for every neuron (ε = 0, x₀ = 0)
    assert all(b == 0 and c == 0 for _, b, c in a.polynomials)
    # a_i = d·β² − b'²·‖Pv‖² with β = w̃·v, ‖Pv‖² = 2, d = 3: neuron 0: 3·4 − 1·2 = 10
    assert a.polynomials[0][0] == 10
    assert any("a_i·λ²" in note for note in a.notes)


def test_eps_ray_critical_norm_by_hand():
    # neuron 0: w̃ = (1,0,−1), b' = −1, v = (1,0,−1): β = 2, n₂ = 2, d = 3, ε = 1/100.
    # q = (3·4 − 2)·λ² − 3/100 ⇒ λ*² = 3/1000, r² = λ*²·n₂ = 3/500; DESIGN: r² = dε·c²/(1 − c²),
    # c = −b'/(w̃·u) with u = √(3/2)·v: c² = 1/6 ⇒ r² = (3/100)·(1/5) = 3/500.
    block = load_model("toy:circle3?eps=1/100")
    for engine in (analyse_path, analyse_path_fast):
        a = engine(block, PathSpec.ray(DIAGONAL))
        assert [c.neurons for c in a.crossings] == [(0,)]
        assert a.crossings[0].at == QuadraticRoot(F(0), F(1, 20), F(6, 5), (F(10), F(0), F(-3, 100)))
        assert a.critical_norms == [(0, F(3, 500))] and a.constant_above == F(3, 500)
        assert [s.pattern for s in a.segments] == ["--+-", "+-+-"]


def test_superposition_crossing_count_by_hand():
    # toy:circle3, x = (−1, 2, 0), d = (1, 0, −1): the normalized point walks the great circle of
    # the plane 1⊥ from z(x) toward z(d).
    block = load_model("toy:circle3")
    x, v = (F(-1), F(2), F(0)), DIAGONAL
    a = analyse_path(block, PathSpec.superposition(x, v))
    # by hand: u0 = P·x = (−4/3, 5/3, −1/3), w = P·v = v. Neuron 0: w̃ = (1,0,−1), b' = −1:
    # A = −1 + 2λ, N = ‖u0‖² + 2λ(u0·w) + 2λ² = 14/3 − 2λ + 2λ², q = 3(2λ−1)² − N = 10λ² − 10λ − 5/3,
    # roots λ = 1/2 ± √(500/3)/20; the side condition A > 0 keeps only λ = 1/2 + √(500/3)/20 ≈ 1.1455.
    assert a.polynomials[0] == (F(10), F(-10), F(-5, 3))
    zeros0 = [c.at for c in a.crossings if 0 in c.neurons]
    assert zeros0 == [QuadraticRoot(F(1, 2), F(1, 20), F(500, 3), a.polynomials[0])]
    assert len(a.crossings) == 5 and len(a.segments) == 6
    # the whole arc from z(x) toward z(d) covers an angle < π, so each neuron's circle is met ≤ 2 times
    assert sorted(i for c in a.crossings for i in c.neurons) == [0, 1, 1, 2, 3]


def test_simultaneous_flip_is_one_crossing():
    # two identical neurons vanish at the same exact λ: one crossing listing both
    from geomcheck.model import MLPBlock, get_activation, make_normalization

    w = ((F(1), F(0)), (F(1), F(0)), (F(0), F(1)))
    block = MLPBlock(w, (F(-1), F(-1), F(5)), ((F(1), F(2), F(0)),), (F(0),), make_normalization("none"),
                     get_activation("relu"))
    for engine in (analyse_path, analyse_path_fast):
        a = engine(block, PathSpec.ray((F(1), F(1))))
        assert [c.neurons for c in a.crossings] == [(0, 1)] and a.crossings[0].at == 1
        assert a.crossings[0].map_changes  # W_out column sum 1 + 2 ≠ 0
    # LayerNorm (d = 3): neuron 1 = 2·neuron 0 (bias too), so they vanish at the same irrational λ.
    # W_out row (2, −1, 0): 2·[w̃₀ | b'₀] − [w̃₁ | b'₁] = 0, so the pattern changes but the map does not.
    w = ((F(1), F(0), F(-1)), (F(2), F(0), F(-2)), (F(0), F(1), F(-1)))
    ln = MLPBlock(w, (F(-1), F(-2), F(1)), ((F(2), F(-1), F(0)),), (F(0),), make_normalization("layernorm"),
                  get_activation("relu"))
    for engine in (analyse_path, analyse_path_fast):
        a = engine(ln, PathSpec.superposition((F(-1), F(2), F(0)), (F(1), F(0), F(-1))))
        both = [c for c in a.crossings if 0 in c.neurons]
        assert len(both) == 1 and both[0].neurons == (0, 1) and not both[0].at.is_rational
        k = a.crossings.index(both[0])
        assert a.segments[k].pattern[:2] != a.segments[k + 1].pattern[:2]
        assert not both[0].map_changes


def test_touching_zero_is_a_crossing_without_sign_change():
    from geomcheck.model import MLPBlock, get_activation, make_normalization

    # RMSNorm, d = 2, w = (1, 1), b' = −2: b'² = d·‖w‖², so the line w·z = 2 is tangent to the circle
    # ‖z‖² = 2 at z = (1, 1). Arc from (1, 0) to (0, 1): A = 1, N = (1−s)² + s²,
    # q = 2·1 − 4·N = −2·(2s − 1)²: a double root at s = 1/2 with A > 0 = −sign(b'): a touching zero.
    block = MLPBlock(((F(1), F(1)),), (F(-2),), ((F(1),), (F(0),)), (F(0),) * 2,
                     make_normalization("rmsnorm"), get_activation("relu"))
    for engine in (analyse_path, analyse_path_fast):
        a = engine(block, PathSpec.arc((F(1), F(0)), (F(0), F(1))))
        assert a.polynomials == [(F(-8), F(8), F(-2))]
        assert [(c.at, c.neurons, c.map_changes) for c in a.crossings] == [(F(1, 2), (0,), False)]
        assert [s.pattern for s in a.segments] == ["-", "-"]
        assert a.verdict == "not-constant"
    # a neuron identically zero on a path: pattern '0', no crossing
    flat = MLPBlock(((F(1), F(0)),), (F(-1),), ((F(1),),), (F(0),), make_normalization("none"), get_activation("relu"))
    b = analyse_path(flat, PathSpec.arc((F(1), F(3)), (F(1), F(-3))))
    assert not b.crossings and b.segments[0].pattern == "0"


def test_endpoint_zero_opens_the_end():
    block = load_model("toy:circle3-noln")
    # x = (1/2, 0, −1/2): neuron 0 is exactly 0 at λ = 0
    a = analyse_path(block, PathSpec.superposition((F(1, 2), F(0), F(-1, 2)), DIAGONAL))
    assert a.endpoint_zeros == [(F(0), (0,))] and not a.spec.start_closed
    assert [c.neurons for c in a.crossings] == [(1,)]


def test_degenerate_paths_name_lambda():
    block = load_model("toy:circle3")
    with pytest.raises(PathThroughUndefined) as info:
        # x(λ) = (1+λ, 2, 3−λ) is constant (2, 2, 2) at λ = 1
        analyse_path(block, PathSpec.superposition((F(1), F(2), F(3)), (F(1), F(0), F(-1))))
    assert info.value.lam == 1 and "λ = 1" in str(info.value)
    with pytest.raises(PathThroughUndefined, match="antipodal"):
        analyse_path(block, PathSpec.arc((F(1), F(0), F(-1)), (F(-2), F(0), F(2))))
    a = analyse_path(block, PathSpec.arc((F(1), F(0), F(-1)), (F(3), F(0), F(-3))))
    assert a.verdict == "constant" and any("identical directions" in n for n in a.notes)
    # with eps > 0 the antipodal chord is defined (it passes through z = 0)
    analyse_path(load_model("toy:circle3?eps=1/10"), PathSpec.arc((F(1), F(0), F(-1)), (F(-2), F(0), F(2))))


def test_gelu_says_regions_are_gate_patterns(capsys):
    assert main(["ray", "toy:circle3-noln?activation=gelu", "--direction", "1,0,-1", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert "gate-sign" in payload["regions"] and any("surrogate" in n for n in payload["notes"])


def test_cli_ray_json(capsys):
    assert main(["ray", "toy:circle3-noln", "--direction", "1,0,-1", "--json"]) == 0
    p = json.loads(capsys.readouterr().out)
    assert p["verdict"] == "not-constant" and p["status"] == "refuted"
    assert [(c["lambda"], c["exact"], c["neurons"], c["map_changes"]) for c in p["crossings"]] == [
        ("0.5", "1/2", [0], True), ("2", "2", [1], True)]
    assert [s["pattern"] for s in p["segments"]] == ["--+-", "+-+-", "+++-"]


def test_cli_decimal_has_15_digits(capsys):
    assert main(["path", "toy:circle3", "--base", "-1,2,0", "--add", "1,0,-1", "--json"]) == 0
    p = json.loads(capsys.readouterr().out)
    first = p["crossings"][0]["lambda"]
    assert len(first.replace("0.", "").lstrip("0")) >= 15
    assert abs(float(first) - (2 - (800 / 3) ** 0.5 / 10)) < 1e-14


def test_cli_eps_ray_reports_critical_norms(capsys):
    assert main(["ray", "toy:circle3?eps=1/100", "--direction", "1,0,-1", "--json"]) == 0
    p = json.loads(capsys.readouterr().out)
    assert p["critical_norms"][0]["squared_norm"] == "3/500" and p["constant_above"] == "3/500"


def test_cli_arc_and_max(capsys):
    assert main(["arc", "toy:circle3", "--from", "-1,2,0", "--to", "1,0,-1"]) == 0
    out = capsys.readouterr().out
    assert "verdict" in out and "crossing" in out
    assert main(["path", "toy:circle3", "--base", "-1,2,0", "--add", "1,0,-1", "--max", "1", "--json"]) == 0
    p = json.loads(capsys.readouterr().out)
    assert len(p["crossings"]) == 1 and p["path"]["end"] == "1"


def test_certificate_has_the_documented_keys(tmp_path, capsys):
    target = tmp_path / "cert.json"
    assert main(["ray", "toy:circle3?eps=1/100", "--direction", "1,0,-1", "--certificate", str(target)]) == 0
    cert = json.loads(target.read_text())
    assert cert["format"] == "geomcheck.cert/1" and cert["kind"] == "path"
    assert set(cert) >= {"model", "model_sha256", "path", "claim", "crossings", "segments", "critical_norms",
                         "constant_above"}
    assert set(cert["path"]) == {"base", "direction", "start", "end", "start_closed", "end_closed"}
    assert cert["claim"] == {"verdict": "not-constant", "crossings": 1}
    assert set(cert["crossings"][0]) == {"neurons", "interval", "map_changes"}
    assert set(cert["segments"][0]) == {"witness", "pattern"}
    assert len(cert["segments"]) == len(cert["crossings"]) + 1
    from geomcheck.checker.core import canonical_model_sha256

    assert canonical_model_sha256(cert["model"]) == cert["model_sha256"]


def test_certificate_from_api_matches_analysis():
    block = load_model("toy:circle3-noln")
    a = analyse_path(block, PathSpec.ray(DIAGONAL))
    cert = path_certificate(block, a)
    assert cert["crossings"][0]["interval"] == [f"{a.crossings[0].interval[0].numerator}/{a.crossings[0].interval[0].denominator}",
                                                f"{a.crossings[0].interval[1].numerator}/{a.crossings[0].interval[1].denominator}"]
    assert "critical_norms" not in cert


@pytest.mark.parametrize("argv, fragment", [
    (["ray", "toy:circle3", "--direction", "1,2"], "has 2 entries"),
    (["ray", "toy:circle3", "--direction", "1,nan,2"], "not a number"),
    (["ray", "toy:circle3", "--direction", "0,0,0"], "zero vector"),
    (["ray", "toy:circle3", "--direction", "2,2,2"], "constant"),
    (["path", "toy:circle3", "--base", "1,1,1", "--add", "1,0,-1"], "span(1)"),
    (["path", "toy:circle3", "--base", "1,0,0", "--add", "1,0,-1", "--max", "-1"], "--max"),
    (["arc", "toy:circle3", "--from", "1,0,-1", "--to", "-1,0,1"], "antipodal"),
])
def test_bad_input_is_one_line(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1


def test_negative_leading_vector(capsys):
    assert main(["path", "toy:circle3-noln", "--base", "-1,2,0", "--add", "-1,0,1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["path"]["base"] == ["-1", "2", "0"]


def test_degenerate_is_invalid_input():
    assert issubclass(PathThroughUndefined, DegenerateInput)


def test_plot_writes_a_png(tmp_path, capsys):
    target = tmp_path / "path.png"
    assert main(["path", "toy:circle3", "--base", "-1,2,0", "--add", "1,0,-1", "--plot", str(target)]) == 0
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
