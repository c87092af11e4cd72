"""The ``path`` checker on hand-derived cases, against the test builder and dense sampling."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from hypothesis import given, strategies as st

from geomcheck.checker import check_certificate
from geomcheck.checker.arith import sign_surds as sign_three
from geomcheck.exact.quadratic import QuadraticRoot
from geomcheck.exact.signs import sign_three_term
from geomcheck.io import load_model
from certbuild import build_path_certificate


def accepted(cert):
    verdict = check_certificate(cert)
    assert verdict.accepted, verdict.message
    return verdict


def test_noln_ray_crosses_at_half_and_two():
    # h0 = 2t − 1, h1 = t − 2, h2 = t + 1 (> 0 for t > 0), h3 = −1: zeros at 1/2 and 2
    block = load_model("toy:circle3-noln")
    cert = build_path_certificate(block, (0, 0, 0), (1, 0, -1))
    assert [c["neurons"] for c in cert["crossings"]] == [[0], [1]]
    assert [c["interval"] for c in cert["crossings"]] == [["1/2", "1/2"], ["2", "2"]]
    assert [s["pattern"] for s in cert["segments"]] == ["--+-", "+-+-", "+++-"]
    assert all(c["map_changes"] for c in cert["crossings"])  # W_out columns 0 and 1 are nonzero
    assert "2 crossing(s)" in accepted(cert).message


def test_layernorm_ray_is_constant():
    # sign(√3·w̃·u + b'·√2) with u = (1, 0, −1): +, − (3 < 8), +, − (w̃·u = 0, b' = −1)
    cert = build_path_certificate(load_model("toy:circle3"), (0, 0, 0), (1, 0, -1))
    assert cert["claim"] == {"verdict": "constant", "crossings": 0}
    assert cert["segments"][0]["pattern"] == "+-+-"
    accepted(cert)


def test_eps_ray_critical_norm_by_hand():
    # neuron 0: q = 12λ² − (2λ² + 3/100) ⇒ λ*² = 3/1000, r² = 2·λ*² = 3/500 = dε·c²/(1 − c²) with c² = 1/6
    block = load_model("toy:circle3?eps=1/100")
    cert = build_path_certificate(block, (0, 0, 0), (1, 0, -1), critical_norms=True)
    assert cert["critical_norms"] == [{"neuron": 0, "squared_norm": "3/500"}]
    assert cert["constant_above"] == "3/500"
    assert [s["pattern"] for s in cert["segments"]] == ["--+-", "+-+-"]
    assert "above 3/500" in accepted(cert).message
    cert["constant_above"] = "1/100"
    assert not check_certificate(cert).accepted


def test_arc_through_the_origin_is_rejected():
    # the arc from x to −x passes through 0 at λ = 1/2, where LayerNorm (ε = 0) is undefined
    cert_ln = build_path_certificate(load_model("toy:circle3"), (0, 0, 0), (1, 0, -1))
    cert_ln["path"] = {"base": ["1", "0", "-1"], "direction": ["-2", "0", "2"], "start": "0", "end": "1",
                       "start_closed": True, "end_closed": True}
    verdict = check_certificate(cert_ln)
    assert not verdict.accepted and "normalization" in verdict.message


def _sampled_patterns(block, base, direction, lams):
    return [block.pattern_at_input(tuple(F(b) + t * F(v) for b, v in zip(base, direction))) for t in lams]


@pytest.mark.parametrize("spec,base,direction,end", [
    ("toy:circle3", (1, 0, -1), (0, 1, -1), None),          # superposition x + λ·d
    ("toy:circle3", (1, 0, -1), (-1, 2, -1), None),
    ("toy:sphere4", (1, 0, 0, -1), (0, 1, -1, 0), None),
    ("toy:sphere4", (2, -1, 0, -1), (-3, 2, 2, -1), F(1)),  # arc from x to x + d
    ("toy:circle3", (1, 0, -1), (-1, 1, 0), F(1)),          # arc from (1,0,−1) to (0,1,−1)
])
def test_paths_agree_with_dense_sampling(spec, base, direction, end):
    block = load_model(spec)
    cert = build_path_certificate(block, base, direction, end=end, start_closed=True, end_closed=end is not None)
    accepted(cert)
    # the pattern sequence seen at 4000 rational sample points is the certificate's segment sequence
    top = F(end) if end is not None else F(40)
    lams = [top * k / 4000 for k in range(1, 4000)]
    seen = []
    for p in _sampled_patterns(block, base, direction, lams):
        if "0" not in p and (not seen or seen[-1] != p):
            seen.append(p)
    stated = [s["pattern"] for s in cert["segments"]]
    assert seen == stated[: len(seen)]
    assert len(cert["crossings"]) >= 1


def test_superposition_crossing_count_by_hand():
    # toy:circle3, x = (1, 0, −1), d = (0, 1, −1): u(λ) = (1, λ, −1 − λ), N = 2λ² + 2λ + 2.
    # neuron 3: A = 3λ, q = 25λ² − 2λ − 2, root (1 + √51)/25 (A > 0 = −sign(−1) ✓)
    # neuron 1: A = 2λ + 1, q = 4λ² + 4λ − 5, root (−1 + √6)/2
    # neuron 2: A = 1 − λ, b' = 1, q = λ² − 8λ + 1, roots 4 ± √15; only 4 + √15 has A < 0
    # neuron 0: A = 2 + λ, q = λ² + 10λ + 10 has only negative roots
    cert = build_path_certificate(load_model("toy:circle3"), (1, 0, -1), (0, 1, -1), start_closed=True)
    expected = [([3], QuadraticRoot(F(1, 25), F(1, 25), F(51), (F(0),) * 3)),
                ([1], QuadraticRoot(F(-1, 2), F(1, 2), F(6), (F(0),) * 3)),
                ([2], QuadraticRoot(F(4), F(1), F(15), (F(0),) * 3))]
    assert len(cert["crossings"]) == 3
    for crossing, (neurons, root) in zip(cert["crossings"], expected):
        lo, hi = (F(t) for t in crossing["interval"])
        assert crossing["neurons"] == neurons and lo <= root <= hi
    assert "3 crossing(s)" in accepted(cert).message


@given(st.lists(st.integers(-4, 4), min_size=5, max_size=5), st.lists(st.integers(-4, 4), min_size=5, max_size=5),
       st.integers(0, 3), st.sampled_from(["layernorm", "rmsnorm", "none"]))
def test_builder_certificates_are_accepted(base, direction, seed, norm):
    block = load_model(f"toy:random?d=5&n=6&seed={seed}&norm={norm}")
    if norm != "none" and (len(set(base)) == 1 and len(set(direction)) == 1):
        return
    try:
        cert = build_path_certificate(block, base, direction, start_closed=True)
    except Exception:  # the model itself refuses (normalization undefined at a witness)
        return
    verdict = check_certificate(cert)
    # the only rejection allowed for a builder certificate: the path passes through a point where N = 0
    assert verdict.accepted or "normalization" in verdict.message, verdict.message


@given(*[st.integers(-6, 6)] * 3, *[st.integers(0, 12)] * 2)
def test_sign_three_matches_the_kernel(a, b, c, d1, d2):
    assert sign_three(F(a), F(b), F(d1), F(c), F(d2)) == sign_three_term(F(a), F(b), F(d1), F(c), F(d2))


# --- the real engine (geomcheck.geometry.paths) against the checker and the builder -------------------------
from geomcheck.certify.path import path_certificate  # noqa: E402
from geomcheck.geometry.paths import PathSpec, PathThroughUndefined, analyse_path  # noqa: E402


def _facts(cert):
    return ([c["neurons"] for c in cert["crossings"]], [c["map_changes"] for c in cert["crossings"]],
            [s["pattern"] for s in cert["segments"]], cert["claim"], cert.get("critical_norms"), cert.get("constant_above"))


@pytest.mark.parametrize("spec,path,builder_args", [
    ("toy:circle3-noln", PathSpec.ray((1, 0, -1)), ((0, 0, 0), (1, 0, -1), 0, None, False, False)),
    ("toy:circle3", PathSpec.ray((1, 0, -1)), ((0, 0, 0), (1, 0, -1), 0, None, False, False)),
    ("toy:circle3?eps=1/100", PathSpec.ray((1, 0, -1)), ((0, 0, 0), (1, 0, -1), 0, None, False, False)),
    ("toy:circle3", PathSpec.superposition((1, 0, -1), (0, 1, -1)), ((1, 0, -1), (0, 1, -1), 0, None, True, False)),
    ("toy:sphere4", PathSpec.arc((2, -1, 0, -1), (-1, 1, 2, -2)), ((2, -1, 0, -1), (-3, 2, 2, -1), 0, 1, True, True)),
])
def test_engine_and_builder_certify_the_same_facts(spec, path, builder_args):
    block = load_model(spec)
    engine = path_certificate(block, analyse_path(block, path))
    builder = build_path_certificate(block, *builder_args, critical_norms="critical_norms" in engine)
    accepted(engine)
    accepted(builder)
    assert _facts(engine) == _facts(builder)


@given(st.lists(st.integers(-4, 4), min_size=5, max_size=5), st.lists(st.integers(-4, 4), min_size=5, max_size=5),
       st.integers(0, 3), st.sampled_from(["layernorm", "rmsnorm", "none"]), st.sampled_from(["0", "1/50"]),
       st.sampled_from(["ray", "superposition", "arc"]))
def test_engine_certificates_are_accepted(base, direction, seed, norm, eps, kind):
    block = load_model(f"toy:random?d=5&n=6&seed={seed}&norm={norm}" + (f"&eps={eps}" if norm != "none" else ""))
    path = {"ray": lambda: PathSpec.ray(direction), "superposition": lambda: PathSpec.superposition(base, direction),
            "arc": lambda: PathSpec.arc(base, direction)}[kind]
    try:
        analysis = analyse_path(block, path())
    except (PathThroughUndefined, ValueError):
        return  # the path leaves the normalization's domain (or is not a path): nothing to certify
    accepted(path_certificate(block, analysis))


def test_a_flip_with_a_zero_output_column_does_not_change_the_map():
    # circle3-noln with W_out's column 1 zeroed: neuron 1 still flips at t = 2, but W_out·(D_s − D_t) = 0 there
    from certbuild import DEAD_COLUMN
    from geomcheck.io import block_from_dict

    block = block_from_dict(DEAD_COLUMN)
    cert = path_certificate(block, analyse_path(block, PathSpec.ray((1, 0, -1))))
    assert [(c["neurons"], c["map_changes"]) for c in cert["crossings"]] == [([0], True), ([1], False)]
    assert "1 affine-map change(s)" in accepted(cert).message
    cert["crossings"][1]["map_changes"] = True
    assert "crossings[1].map_changes" in check_certificate(cert).message


def test_simultaneous_irrational_crossings_are_one_crossing():
    # neuron 1 = 2 × neuron 0 (weights and bias): q_1 = 4·q_0, both vanish at (1 + √51)/25 on x + λ·d
    from certbuild import TWIN_NEURONS
    from geomcheck.io import block_from_dict

    block = block_from_dict(TWIN_NEURONS)
    cert = path_certificate(block, analyse_path(block, PathSpec.superposition((1, 0, -1), (0, 1, -1))))
    assert cert["crossings"][0]["neurons"] == [0, 1]
    lo, hi = (F(t) for t in cert["crossings"][0]["interval"])
    assert lo <= QuadraticRoot(F(1, 25), F(1, 25), F(51), (F(0),) * 3) <= hi
    accepted(cert)
    # listing the twins as two crossings needs a witness between two equal numbers: impossible
    split = dict(cert, crossings=[dict(cert["crossings"][0], neurons=[0]), dict(cert["crossings"][0], neurons=[1])]
                 + cert["crossings"][1:], segments=[cert["segments"][0]] + cert["segments"])
    split["claim"] = dict(cert["claim"], crossings=3)
    assert not check_certificate(split).accepted
