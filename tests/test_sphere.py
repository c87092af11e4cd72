"""Sphere geometry: classification, exact region counts, feasibility, caps, certificates.

Hand-derived cases first, then cross-checks against dense float sampling of the
sphere (sampling can only *miss* thin regions, so the exact count is never
below what it sees), then hypothesis properties.
"""

from __future__ import annotations

import copy
import json
import math
import time
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from geomcheck.certify.sphere import (feasibility_certificate, find_sphere_only_gap, neurons_certificate,
                                      pattern_sphere_vs_space, region_count)
from geomcheck.checker import check_certificate
from geomcheck.cli import main
from geomcheck.geometry.regions import count_circle, count_space_regions, count_two_sphere, space_regions_upper_bound
from geomcheck.geometry.sphere import (base_point, cap_distances, cap_is_region_constant, classify_neurons,
                                       nearest_boundaries, reflect_to, sphere_of)
from geomcheck.io.resolve import load_model
from geomcheck.model import MLPBlock, get_activation, make_normalization
from geomcheck.search.sphere import EXACT, search_regions, space_feasibility, sphere_feasibility


def block(w_in, b_in, norm="layernorm"):
    n, d = len(w_in), len(w_in[0])
    return MLPBlock(tuple(tuple(F(v) for v in r) for r in w_in), tuple(F(v) for v in b_in),
                    tuple(tuple(F(int(i == j)) for j in range(n)) for i in range(d)), (F(0),) * d,
                    make_normalization(norm), get_activation("relu"), name="test")


def sampled_patterns(sphere, count=200_000, seed=0):
    """Patterns seen at random points of S (floats; only used as a lower bound)."""
    W = np.array([[float(v) for v in r] for r in sphere.weights])
    b = np.array([float(v) for v in sphere.bias])
    Z = np.random.default_rng(seed).standard_normal((count, sphere.d))
    if sphere.centers:
        Z -= Z.mean(axis=1, keepdims=True)
    Z *= math.sqrt(sphere.d) / np.linalg.norm(Z, axis=1, keepdims=True)
    H = Z @ W.T + b
    # an exact 0.0 only comes from a neuron that is identically 0 (w̃ = 0, b' = 0): its symbol is "0"
    return {"".join("+" if v > 0 else "-" if v < 0 else "0" for v in row) for row in H}


# ----------------------------------------------------------------------------- classification
def test_circle3_classification_by_hand():
    """toy:circle3: w̃ = (1,0,−1), (0,1,−1), (1,−1,0), (−1,2,−1) (already in 1⊥), b' = −1, −2, 1, −1, d = 3.

    b'² vs d‖w̃‖²: 1 < 6, 4 < 6, 1 < 6, 1 < 18: all four cut, with
    cos²ρ = b'²/(d‖w̃‖²) = 1/6, 2/3, 1/6, 1/18 and sign(cos ρ) = sign(−b') = +, +, −, +.
    """
    neurons = classify_neurons(sphere_of(load_model("toy:circle3")))
    assert [nb.kind for nb in neurons] == ["cuts"] * 4
    assert [nb.cos2 for nb in neurons] == [F(1, 6), F(2, 3), F(1, 6), F(1, 18)]
    assert [nb.cos_sign for nb in neurons] == [1, 1, -1, 1]
    assert neurons[1].radius == pytest.approx(math.acos(math.sqrt(2 / 3)))


def test_every_kind_by_hand():
    """LayerNorm d = 4, w̃ = (1,1,−1,−1) has d‖w̃‖² = 16: b = 4 tangent, 3 cuts, 5 on, −5 off; w = 1 is constant."""
    b = block([[1, 1, -1, -1], [1, 1, -1, -1], [1, 1, -1, -1], [1, 1, -1, -1], [2, 2, 2, 2], [3, 3, -3, -3]],
              [4, 3, 5, -5, 7, -12])
    kinds = [nb.kind for nb in classify_neurons(sphere_of(b))]
    assert kinds == ["tangent", "cuts", "always_on", "always_off", "constant_zero", "tangent"]
    # RMSNorm: (1,1,1,1) is not centred away; d‖w‖² = 16 again, b = 4 tangent
    r = block([[1, 1, 1, 1]], [4], norm="rmsnorm")
    assert classify_neurons(sphere_of(r))[0].kind == "tangent"


def test_no_normalization_has_no_sphere(capsys):
    assert main(["sphere", "toy:circle3-noln"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no normalization" in err


def test_sphere_cli_json(capsys):
    assert main(["sphere", "toy:circle3", "--json"]) == 0
    p = json.loads(capsys.readouterr().out)
    assert p["neurons"] == {"cuts": 4, "tangent": 0, "always_on": 0, "always_off": 0, "constant_zero": 0}
    assert len(p["neuron_list"]) == 4 and p["neuron_list"][0]["cos_radius_squared"] == "1/6"
    assert p["regions"]["count"] == 8 and p["regions"]["pieces"] == 8 and p["regions"]["status"] == "proved"
    assert p["regions"]["space"]["count"] == 10


# ----------------------------------------------------------------------------- rational sphere points
def test_base_points():
    """Rational points of {Σz = 0, ‖z‖² = d} for every d except 3 (proof in base_point's docstring)."""
    for d in range(2, 200):
        p = base_point(d, True)
        if d == 3:
            assert p is None
        else:
            assert sum(p) == 0 and sum(x * x for x in p) == d
        q = base_point(d, False)
        assert sum(x * x for x in q) == d
    # d = 3: no rational point with small denominators either (a brute-force sanity check of the proof)
    for den in range(1, 25):
        for a in range(-2 * den, 2 * den + 1):
            for b in range(-2 * den, 2 * den + 1):
                assert F(a, den) ** 2 + F(b, den) ** 2 + F(a + b, den) ** 2 != 3


@given(st.lists(st.fractions(min_value=-5, max_value=5, max_denominator=20), min_size=4, max_size=4))
def test_reflection_lands_exactly_on_the_sphere(v):
    p0 = base_point(4, True)
    v = tuple(x - sum(v) / 4 for v_ in [v] for x in v_)
    z = reflect_to(p0, v)
    assert sum(z) == 0 and sum(x * x for x in z) == 4


# ----------------------------------------------------------------------------- regions: by hand
def test_circle3_eight_arcs_by_hand():
    """toy:circle3 on its circle, by hand.

    Parametrize S by z(θ) = √3(cos θ·f1 + sin θ·f2), f1 = (1,−1,0)/√2, f2 = (1,1,−2)/√6.
    Then w̃_0·z = √6·cos(θ − 60°), w̃_1·z = √6·cos(θ − 120°), w̃_2·z = √6·cos θ,
    w̃_3·z = √18·cos(θ − 150°), so the neurons vanish where
    cos(θ−60°) = 1/√6, cos(θ−120°) = 2/√6, cos θ = −1/√6, cos(θ−150°) = 1/√18:
    θ ≈ 354.095°, 125.905° (n0); 84.736°, 155.264° (n1); 114.095°, 245.905° (n2);
    73.633°, 226.367° (n3). Eight distinct points → 8 arcs. At θ = 0 the
    pattern is +-+- and each point flips one neuron, giving in angular order
    +-+- → +-++ → ++++ → ++-+ → -+-+ → ---+ → ---- → --+- → (+-+-): 8 arcs, 8
    distinct patterns. In the whole plane 1⊥: w̃_2 = w̃_0 − w̃_1 and b'_2 = b'_0 − b'_1,
    so lines 0, 1, 2 meet in one point; 4 lines with one triple point and 3
    other crossings cut the plane into 1 + 4 + (2 + 3) = 10 cells.
    """
    count = count_circle(sphere_of(load_model("toy:circle3")))
    assert (count.regions, count.pieces) == (8, 8)
    order = [p for p, _ in count.arcs]
    expected = ["+-+-", "+-++", "++++", "++-+", "-+-+", "---+", "----", "--+-"]
    k = order.index("+-+-")
    assert order[k:] + order[:k] == expected
    assert count_space_regions(sphere_of(load_model("toy:circle3"))) == 10


def test_two_parallel_lines_three_regions_four_pieces():
    """d = 3, neuron 0: (z1 − z2) + 1 > 0, neuron 1: −(z1 − z2) + 1 > 0 — two parallel lines.

    On S, z1 − z2 = w̃·z ranges over [−√d‖w̃‖, √d‖w̃‖] = [−√6, √6], so both lines cut.
    The band |z1 − z2| < 1 (pattern ++) meets the circle in two arcs; z1 − z2 > 1 is +-,
    z1 − z2 < −1 is -+: 4 arcs, 3 regions. The whole plane has 3 cells.
    """
    s = sphere_of(block([[1, -1, 0], [-1, 1, 0]], [1, 1]))
    c = count_circle(s)
    assert (c.regions, c.pieces) == (3, 4)
    assert set(c.patterns) == {"++", "+-", "-+"}
    assert count_space_regions(s) == 3


def test_tangent_neuron_on_the_circle():
    """RMSNorm d = 2, w = (1, 1), b = −2: d‖w‖² = 4 = b², tangent at z = (1, 1); elsewhere z1 + z2 < 2.
    One boundary point: the circle minus a point is one piece, pattern -."""
    s = sphere_of(block([[1, 1]], [-2], norm="rmsnorm"))
    assert classify_neurons(s)[0].kind == "tangent"
    c = count_circle(s)
    assert (c.regions, c.pieces) == (1, 1) and set(c.patterns) == {"-"}


def test_two_sphere_by_hand():
    """LayerNorm d = 4, S a 2-sphere of radius 2 in 1⊥. Two great circles (b' = 0) with different
    normals meet in 2 points and cut S into 4 lunes (V = 2, E = 4, F = 4 − 2 + 2 = 4), all patterns distinct;
    the whole space 1⊥ (3-dimensional) has 4 cells too. A third great circle in general position: 8
    triangles, 8 patterns (2³), 8 cells."""
    s = sphere_of(block([[1, -1, 0, 0], [0, 0, 1, -1]], [0, 0]))
    c = count_two_sphere(s)
    assert (c.regions, c.pieces) == (4, 4) and count_space_regions(s) == 4
    s = sphere_of(block([[1, -1, 0, 0], [0, 0, 1, -1], [1, 1, -1, -1]], [0, 0, 0]))
    c = count_two_sphere(s)
    assert (c.regions, c.pieces) == (8, 8) and count_space_regions(s) == 8


# ----------------------------------------------------------------------------- regions: against sampling
@pytest.mark.parametrize("spec", ["toy:circle3", "toy:random?d=3&n=12&seed=4", "toy:random?d=3&n=30&seed=3",
                                  "toy:random?d=2&n=6&seed=1&norm=rmsnorm", "toy:sphere4",
                                  "toy:random?d=4&n=12&seed=1", "toy:random?d=3&n=7&seed=2&norm=rmsnorm"])
def test_exact_counts_contain_sampling(spec):
    s = sphere_of(load_model(spec))
    c = count_circle(s) if s.dimension == 1 else count_two_sphere(s)
    seen = sampled_patterns(s)
    assert seen <= set(c.patterns)
    assert c.regions <= c.pieces
    if spec in ("toy:circle3", "toy:sphere4", "toy:random?d=4&n=12&seed=1"):
        assert len(seen) == c.regions  # fine enough here: no thin regions


def test_search_agrees_with_exact_count_on_two_spheres():
    for spec in ("toy:sphere4", "toy:random?d=4&n=10&seed=2"):
        s = sphere_of(load_model(spec))
        found = search_regions(s, time_budget=60)
        assert found.status == EXACT
        assert set(found.patterns) == set(count_two_sphere(s).patterns)


def test_search_d5_against_sampling():
    s = sphere_of(load_model("toy:random?d=5&n=8&seed=3"))
    found = search_regions(s, time_budget=60)
    seen = sampled_patterns(s)
    assert seen <= set(found.patterns)
    for pattern, res in found.patterns.items():
        assert s.on_sphere(res.witness) and "".join("+" if x > 0 else "-" for x in s.signs_at(res.witness)) == pattern


def test_circle_with_100_neurons_under_a_second():
    s = sphere_of(load_model("toy:random?d=3&n=100&seed=1"))
    start = time.perf_counter()
    c = count_circle(s)
    assert time.perf_counter() - start < 1.0
    assert sampled_patterns(s, 50_000) <= set(c.patterns)


# ----------------------------------------------------------------------------- feasibility and certificates
def test_sphere_only_gap_on_circle3():
    """+++- is feasible in the plane 1⊥ but the region lies outside the ball: a ball certificate."""
    gap = find_sphere_only_gap(load_model("toy:circle3"))
    assert gap is not None
    assert gap["sphere"]["feasible"] is False and gap["space"]["feasible"] is True
    for side in ("sphere", "space"):
        assert check_certificate(gap[side]["certificate"]).accepted
    result = pattern_sphere_vs_space(load_model("toy:circle3"), "+-+-")
    assert result["sphere"]["feasible"] and result["sphere"]["status"] == "proved"


def _mutants(cert):
    """Certificates that must be rejected."""
    out = []
    bad = copy.deepcopy(cert)
    bad["model_sha256"] = "0" * 64
    out.append(bad)
    bad = copy.deepcopy(cert)
    p = bad["claim"]["pattern"]
    used = [int(i) for i, v in cert.get("multipliers", {}).items() if F(v) != 0]
    used += [int(i) for e in cert.get("inside_ball", [])[:1] for i in e["multipliers"]]
    k = used[0] if used else next(i for i, c in enumerate(p) if c != "*")  # a symbol the evidence depends on
    bad["claim"]["pattern"] = p[:k] + ("-" if p[k] == "+" else "+") + p[k + 1:]
    out.append(bad)
    if "witness" in cert and cert["claim"]["on"] == "space":
        # push the witness across neuron k's hyperplane: z − (s_k·h_k + 1)/‖w_k‖²·s_k·w_k
        from geomcheck.checker.core import read_model
        m = read_model(cert)
        z = [F(x) for x in cert["witness"]]
        sk = 1 if p[k] == "+" else -1
        w = m.fractions[0][k]
        h = sum(a * c for a, c in zip(w, z)) + m.fractions[1][k]
        t = (sk * h + 1) / sum(a * a for a in w)
        bad = copy.deepcopy(cert)
        bad["witness"] = [str(x - t * sk * a) for x, a in zip(z, w)]
        out.append(bad)
    for key in ("witness", "direction"):
        if key in cert and cert["claim"]["on"] == "sphere":
            bad = copy.deepcopy(cert)
            x = F(bad[key][0])
            bad[key][0] = str(x + F(1, 10**6))
            out.append(bad)
    if "multipliers" in cert:
        bad = copy.deepcopy(cert)
        k = next(iter(bad["multipliers"]))
        bad["multipliers"][k] = "-" + bad["multipliers"][k]
        out.append(bad)
        bad = copy.deepcopy(cert)
        bad["multipliers"] = {k: "1" for k in bad["multipliers"]}
        bad["multipliers"].update({str(i): "1000" for i, c in enumerate(cert["claim"]["pattern"]) if c != "*"})
        out.append(bad)
    if "inside_ball" in cert:
        bad = copy.deepcopy(cert)
        entry = bad["inside_ball"][0]
        k = next(iter(entry["multipliers"]))
        entry["multipliers"][k] = str(F(entry["multipliers"][k]) * 2)
        out.append(bad)
        bad = copy.deepcopy(cert)
        del bad["inside_ball"][-1]
        out.append(bad)
    return out


@pytest.mark.parametrize("spec, pattern, on", [
    ("toy:circle3", "+++-", "sphere"), ("toy:circle3", "++-+", "sphere"), ("toy:sphere4", "+-*+-", "sphere"),
    ("toy:circle3-noln", "+++-", "space"), ("toy:circle3-noln", "+-*-", "space"), ("toy:sphere4-noln", "-----", "space"),
    ("toy:random?d=5&n=6&seed=1", "++++++", "sphere"), ("toy:circle3", "--++", "sphere"),
])
def test_certificates_accepted_and_mutants_rejected(spec, pattern, on):
    b = load_model(spec)
    s = b.folded
    res = sphere_feasibility(sphere_of(b), pattern) if on == "sphere" else space_feasibility(s.weights, s.bias, pattern, s.centers)
    cert = feasibility_certificate(b, pattern, on, res)
    if cert is None:
        pytest.skip("undecided (estimate)")
    cert = json.loads(json.dumps(cert))
    assert check_certificate(cert).accepted, check_certificate(cert).message
    for bad in _mutants(cert):
        verdict = check_certificate(bad)
        assert not verdict.accepted, (bad, verdict)


def test_farkas_in_space_by_hand():
    """No normalization, neurons x > 0 and −x − 1 > 0 (i.e. x < −1): y = (1, 1) gives
    Σ y_i s_i w_i = 1 − 1 = 0 and Σ y_i s_i b_i = 0 − 1 < 0."""
    b = block([[1], [-1]], [0, -1], norm="none")
    res = space_feasibility(b.folded.weights, b.folded.bias, "++")
    assert res.feasible is False and res.status == EXACT
    assert res.multipliers[0] == res.multipliers[1]
    res = space_feasibility(b.folded.weights, b.folded.bias, "+-")
    assert res.feasible and res.witness[0] > 0
    from geomcheck.search.sphere import _farkas_from_dual_ray, verify_farkas

    ray = _farkas_from_dual_ray(b.folded.weights, b.folded.bias, "++")  # HiGHS getDualRay, checked exactly
    assert ray is not None and ray[0] == ray[1] > 0 and verify_farkas(b.folded.weights, b.folded.bias, "++", ray)
    assert _farkas_from_dual_ray(b.folded.weights, b.folded.bias, "+-") is None  # feasible: no ray


def test_neurons_certificate_and_mutation():
    b = load_model("toy:random?d=4&n=10&seed=7")
    cert = json.loads(json.dumps(neurons_certificate(b, classify_neurons(sphere_of(b)))))
    assert check_certificate(cert).accepted
    bad = copy.deepcopy(cert)
    bad["claim"]["kinds"][0] = "tangent" if cert["claim"]["kinds"][0] != "tangent" else "cuts"
    assert not check_certificate(bad).accepted


@pytest.mark.parametrize("spec", ["toy:circle3", "toy:random?d=3&n=10&seed=2", "toy:random?d=3&n=40&seed=5",
                                  "toy:random?d=2&n=5&seed=3&norm=rmsnorm"])
def test_circle_regions_certificate(spec):
    b = load_model(spec)
    cert = json.loads(json.dumps(region_count(b)["certificate"]))
    assert check_certificate(cert).accepted, check_certificate(cert).message
    muts = []
    bad = copy.deepcopy(cert)
    bad["claim"]["regions"] += 1
    muts.append(bad)
    bad = copy.deepcopy(cert)
    bad["claim"]["pieces"] -= 1
    muts.append(bad)
    if len(cert["arcs"]) > 2:
        bad = copy.deepcopy(cert)  # drop a piece: the gap then holds two boundary points
        del bad["arcs"][1]
        bad["claim"]["pieces"] -= 1
        bad["claim"]["regions"] = len({a["pattern"] for a in bad["arcs"]})
        muts.append(bad)
        bad = copy.deepcopy(cert)  # out of angular order
        bad["arcs"][0], bad["arcs"][1] = bad["arcs"][1], bad["arcs"][0]
        muts.append(bad)
    for bad in muts:
        assert not check_certificate(bad).accepted


def test_feasible_cli(capsys, tmp_path):
    path = tmp_path / "c.json"
    assert main(["feasible", "toy:sphere4", "--pattern", "+-*+-", "--json", "--certificate", str(path)]) == 0
    p = json.loads(capsys.readouterr().out)
    assert p["feasible"] is True and p["status"] == "proved"
    z = [F(x) for x in p["witness"]]
    assert sum(z) == 0 and sum(x * x for x in z) == 4
    assert check_certificate(json.loads(path.read_text())).accepted
    assert main(["feasible", "toy:sphere4", "--pattern", "+-"]) == 2
    assert "expected 5 symbols" in capsys.readouterr().err


# ----------------------------------------------------------------------------- caps
def _angle(a, b):
    return math.acos(max(-1.0, min(1.0, a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))))


@pytest.mark.parametrize("spec, direction", [("toy:circle3", "1,0,-1"), ("toy:sphere4", "1,2,-1,-2"),
                                             ("toy:random?d=5&n=12&seed=2", "1,0,0,0,-1")])
def test_cap_radius_against_sampling(spec, direction):
    """Points at angle < δ from û keep û's pattern; the exact decision flips at cos δ."""
    from geomcheck.io.vectors import parse_vector

    b = load_model(spec)
    s = sphere_of(b)
    u = s.project(parse_vector(direction, b))
    neurons = classify_neurons(s)
    M, terms = cap_distances(s, u, neurons)
    best = nearest_boundaries(M, terms)
    delta = best[0].distance
    W = np.array([[float(v) for v in r] for r in s.weights])
    bias = np.array([float(v) for v in s.bias])
    uf = np.array([float(v) for v in u])
    uf *= math.sqrt(s.d) / np.linalg.norm(uf)
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((20000, s.d))
    if s.centers:
        Z -= Z.mean(axis=1, keepdims=True)
    Z *= math.sqrt(s.d) / np.linalg.norm(Z, axis=1, keepdims=True)
    # points pulled towards û so that many fall inside the cap
    Z = uf + rng.uniform(0, 1, (len(Z), 1)) ** 3 * (Z - uf)
    Z *= math.sqrt(s.d) / np.linalg.norm(Z, axis=1, keepdims=True)
    base = np.sign(W @ uf + bias)
    angles = np.array([_angle(z, uf) for z in Z])
    inside = angles < delta * (1 - 1e-9)
    assert inside.sum() > 100
    assert (np.sign(Z[inside] @ W.T + bias) == base).all()
    beyond = (angles > delta * 1.05) & (angles < delta * 1.5)
    if beyond.sum() > 50:  # the boundary is reached just beyond δ
        assert (np.sign(Z[beyond] @ W.T + bias) != base).any()
    # the exact decision: slightly smaller cap is constant, slightly larger is not
    c_in = F(math.cos(delta * 0.999)).limit_denominator(10**9)
    c_out = F(math.cos(delta * 1.001)).limit_denominator(10**9)
    assert cap_is_region_constant(M, terms, c_in)[0]
    constant, hit = cap_is_region_constant(M, terms, c_out)
    assert not constant and set(t.index for t in best) <= set(hit)


def test_cap_cli(capsys):
    assert main(["cap", "toy:circle3", "--direction", "1,0,-1", "--cos", "99/100", "--json"]) == 0
    p = json.loads(capsys.readouterr().out)
    assert p["neurons"] == [3] and float(p["radius"]) == pytest.approx(0.2379411248, rel=1e-8)
    assert p["decision"]["constant"] is True


# ----------------------------------------------------------------------------- properties
@st.composite
def small_spheres(draw):
    d = draw(st.sampled_from([4, 5]))
    n = draw(st.integers(1, 5))
    ints = st.integers(-4, 4)
    w = [[draw(ints) for _ in range(d)] for _ in range(n)]
    bvec = [draw(st.integers(-6, 6)) for _ in range(n)]
    if all(all(x == w[i][0] for x in w[i]) for i in range(n)):
        w[0][0] += 1
    return block(w, bvec, norm=draw(st.sampled_from(["layernorm", "rmsnorm"])))


@settings(max_examples=15, deadline=None)
@given(small_spheres(), st.integers(0, 10**6))
@example(block([[1, 0, 0, 0], [0, 0, 0, 0]], [0, 0]), 0)
def test_sampled_patterns_are_feasible_with_exact_witnesses(b, seed):
    s = sphere_of(b)
    seen = sorted(sampled_patterns(s, 2000, seed))[:3]
    for pattern in seen:
        res = sphere_feasibility(s, pattern)
        assert res.feasible is not False  # never refuted
        if res.feasible:
            assert s.on_sphere(res.witness)
            signs = s.signs_at(res.witness)
            zero = [not any(w) and bias == 0 for w, bias in zip(b.folded.weights, b.folded.bias)]
            # a constant-zero neuron (w̃ = 0, b' = 0) is 0 at every point: it is never "+", and every
            # other neuron is strictly on the side the pattern names (found by hypothesis: w = 0, b = 0)
            assert all((c == "+") == (g > 0) and (g != 0 or z) for c, g, z in zip(pattern, signs, zero))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=2, max_size=2), st.integers(1, 4), st.booleans())
def test_tangent_neuron_is_never_cutting(coeffs, k, positive):
    """LayerNorm d = 4, w = (a, a, c, c): P·w = ((a−c)/2)·(1, 1, −1, −1), d‖P·w‖² = 4(a − c)², so
    b' = ±2|a − c| is tangent: classified tangent, one sign on all of S (sampling), one region."""
    a, c = coeffs
    if a == 0 and c == 0:
        a = 1
    w = [a, a, c, c]
    n2 = F((a - c) ** 2)  # ‖P·w‖² = 4·((a − c)/2)²
    bias = 2 * abs(a - c) * (1 if positive else -1)
    if n2 == 0:
        return
    b = block([w], [bias])
    s = sphere_of(b)
    assert classify_neurons(s)[0].kind == "tangent"
    seen = sampled_patterns(s, 5000, k)
    assert len(seen) == 1  # the sign never changes on S
    assert count_two_sphere(s).regions == 1


@st.composite
def circle_or_two_sphere(draw):
    d = draw(st.sampled_from([3, 4]))
    n = draw(st.integers(1, 4))
    ints = st.integers(-3, 3)
    w = [[draw(ints) for _ in range(d)] for _ in range(n)]
    for row in w:
        if all(x == row[0] for x in row):
            row[0] += 1
    return block(w, [draw(st.integers(-4, 4)) for _ in range(n)])


@settings(max_examples=12, deadline=None)
@given(circle_or_two_sphere())
def test_feasibility_agrees_with_exact_regions(b):
    """Two independent methods: the exact arrangement count and per-pattern LP/QP feasibility."""
    import itertools

    s = sphere_of(b)
    count = count_circle(s) if s.dimension == 1 else count_two_sphere(s)
    for signs in itertools.product("+-", repeat=b.n):
        pattern = "".join(signs)
        res = sphere_feasibility(s, pattern)
        if res.status == EXACT:
            assert res.feasible == (pattern in count.patterns), pattern
            cert = json.loads(json.dumps(feasibility_certificate(b, pattern, "sphere", res)))
            assert check_certificate(cert).accepted
        else:
            assert pattern not in count.patterns or res.feasible is not False


def test_circle3_all_sixteen_patterns_decided():
    """Every pattern of toy:circle3 is decided exactly: the 8 arcs' patterns feasible, the rest certified."""
    import itertools

    b = load_model("toy:circle3")
    s = sphere_of(b)
    feasible = set()
    for signs in itertools.product("+-", repeat=4):
        res = sphere_feasibility(s, "".join(signs))
        assert res.status == EXACT
        if res.feasible:
            feasible.add("".join(signs))
    assert feasible == set(count_circle(s).patterns)


@pytest.mark.parametrize("spec", ["toy:circle3", "toy:sphere4", "toy:random?d=3&n=8&seed=9", "toy:random?d=4&n=7&seed=2",
                                  "toy:random?d=3&n=5&seed=1&norm=rmsnorm"])
def test_space_regions_between_sampling_and_general_position_bound(spec):
    """Cells seen by sampling a big box ≤ exact deletion–restriction count ≤ Σ_k C(h, k)."""
    s = sphere_of(load_model(spec))
    exact = count_space_regions(s)
    W = np.array([[float(v) for v in r] for r in s.weights])
    b = np.array([float(v) for v in s.bias])
    Z = np.random.default_rng(1).uniform(-60, 60, (200_000, s.d))
    if s.centers:
        Z -= Z.mean(axis=1, keepdims=True)
    seen = {tuple(row) for row in (Z @ W.T + b > 0)}
    assert len(seen) <= exact <= space_regions_upper_bound(s)
    if spec == "toy:sphere4":
        assert exact == 25 and space_regions_upper_bound(s) == 1 + 5 + 10 + 10


def test_sphere_cli_witnesses(capsys):
    assert main(["sphere", "toy:random?d=5&n=6&seed=4", "--json"]) == 0
    p = json.loads(capsys.readouterr().out)
    s = sphere_of(load_model("toy:random?d=5&n=6&seed=4"))
    assert p["regions"]["status"] == "proved"
    for pattern, w in p["regions"]["witnesses"].items():
        z = [F(x) for x in w["point"]]
        assert s.on_sphere(z)
        assert "".join("+" if g > 0 else "-" for g in s.signs_at(z)) == pattern
    assert sampled_patterns(s, 50_000) <= set(p["regions"]["witnesses"])


@pytest.mark.parametrize("spec", ["toy:circle3", "toy:sphere4"])
def test_plot_writes_a_png(tmp_path, spec):
    out = tmp_path / "p.png"
    assert main(["sphere", spec, "--plot", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


def test_plot_refuses_higher_spheres(tmp_path, capsys):
    assert main(["sphere", "toy:random?d=6&n=3&seed=1", "--plot", str(tmp_path / "p.png"), "--regions", "no"]) == 2
    assert "dimension 4" in capsys.readouterr().err


def test_all_star_pattern_is_feasible_everywhere():
    for spec, on in (("toy:sphere4", "sphere"), ("toy:circle3", "sphere"), ("toy:sphere4-noln", "space")):
        b = load_model(spec)
        f = b.folded
        res = sphere_feasibility(sphere_of(b), "*" * b.n) if on == "sphere" else space_feasibility(f.weights, f.bias, "*" * b.n)
        assert res.feasible and res.status == EXACT


def test_cap_exact_tie_and_certificate():
    """LayerNorm d = 4, û ∝ (1,−1,0,0); neurons w̃ = ±(0,0,1,−1) with b' = 1 are both at angle 90° from û and
    have the same ρ, so they tie exactly: δ = |90° − ρ|, cos ρ = −1/(2·√2) → δ = arcsin(1/(2√2))."""
    b = block([[0, 0, 1, -1], [0, 0, -1, 1], [1, 1, -1, -1]], [1, 1, -5])
    s = sphere_of(b)
    M, terms = cap_distances(s, (F(1), F(-1), F(0), F(0)), classify_neurons(s))
    best = nearest_boundaries(M, terms)
    assert sorted(t.index for t in best) == [0, 1]
    assert best[0].distance == pytest.approx(math.asin(1 / (2 * math.sqrt(2))))
    from geomcheck.certify.sphere import envelope

    cert = json.loads(json.dumps(envelope(b, "sphere-cap", {"direction": ["1", "-1", "0", "0"], "nearest": [0, 1],
                                                            "cos": "9/10", "constant": False})))
    assert check_certificate(cert).accepted
    for change in ({"nearest": [0]}, {"constant": True}, {"cos": "99/100"}):
        bad = copy.deepcopy(cert)
        bad["claim"].update(change)
        assert not check_certificate(bad).accepted


@pytest.mark.parametrize("spec, direction", [("toy:circle3", "2,1,-3"), ("toy:sphere4", "1,2,-1,-2"),
                                             ("toy:random?d=6&n=9&seed=3", "1,0,2,0,-1,0")])
def test_cap_cli_certificate(tmp_path, capsys, spec, direction):
    path = tmp_path / "cap.json"
    assert main(["cap", spec, "--direction", direction, "--json"]) == 0
    radius = float(json.loads(capsys.readouterr().out)["radius"])
    for factor, expected in ((0.999, True), (1.001, False)):
        c = F(math.cos(radius * factor)).limit_denominator(10**9)
        assert main(["cap", spec, "--direction", direction, "--cos", f"{c.numerator}/{c.denominator}",
                     "--certificate", str(path), "--json"]) == 0
        p = json.loads(capsys.readouterr().out)
        assert p["decision"]["constant"] is expected
        assert check_certificate(json.loads(path.read_text())).accepted


@pytest.mark.parametrize("spec, regions", [("toy:sphere4", 22), ("toy:circle3", 8), ("toy:random?d=5&n=7&seed=3", None)])
def test_regions_by_exhaustion_certificate(tmp_path, capsys, spec, regions):
    path = tmp_path / "r.json"
    assert main(["sphere", spec, "--json", "--regions-certificate", str(path)]) == 0
    p = json.loads(capsys.readouterr().out)
    cert = json.loads(path.read_text())
    assert check_certificate(cert).accepted
    assert cert["claim"]["regions"] == p["regions"]["count"] == (regions or p["regions"]["count"])
    if cert["kind"] != "sphere-regions":
        from geomcheck.certify.sphere import regions_by_exhaustion_certificate

        cert = json.loads(json.dumps(regions_by_exhaustion_certificate(load_model(spec))))
        assert check_certificate(cert).accepted and cert["claim"]["regions"] == regions
    muts = []
    bad = copy.deepcopy(cert)
    bad["claim"]["regions"] += 1
    muts.append(bad)
    bad = copy.deepcopy(cert)
    del bad["feasible"][0]
    bad["claim"]["regions"] -= 1
    muts.append(bad)
    bad = copy.deepcopy(cert)
    del bad["infeasible"][-1]
    muts.append(bad)
    bad = copy.deepcopy(cert)  # claim a refuted pattern as witnessed by another's witness
    bad["feasible"][0]["pattern"] = bad["feasible"][1]["pattern"]
    muts.append(bad)
    for bad in muts:
        assert not check_certificate(bad).accepted


@st.composite
def degenerate_arrangements(draw):
    """Duplicated, negated and dependent neurons (triple points), tangent ones: the hard cases for exact counting."""
    d = draw(st.sampled_from([3, 4]))
    base = [draw(st.lists(st.integers(-2, 2), min_size=d, max_size=d)) for _ in range(2)]
    for row in base:
        if all(x == row[0] for x in row):
            row[0] += 1
    w, bs = [], []
    for _ in range(draw(st.integers(2, 5))):
        kind = draw(st.sampled_from(["dup", "combo", "tangent", "base"]))
        if kind == "dup" and w:
            j, lam = draw(st.integers(0, len(w) - 1)), draw(st.sampled_from([1, 2, -1, -3]))
            w.append([lam * x for x in w[j]])
            bs.append(lam * bs[j])
        elif kind == "combo" and len(w) >= 2:
            w.append([a - c for a, c in zip(w[0], w[1])])
            bs.append(bs[0] - bs[1])
        elif kind == "tangent" and d == 4:
            a, c = draw(st.integers(-2, 2)), draw(st.integers(-2, 2))
            a += a == c
            w.append([a, a, c, c])
            bs.append(draw(st.sampled_from([1, -1])) * 2 * abs(a - c))
        else:
            w.append(draw(st.sampled_from(base)))
            bs.append(draw(st.integers(-3, 3)))
    return block(w, bs)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(degenerate_arrangements())
def test_degenerate_arrangements_exact_count_vs_feasibility(b):
    import itertools

    s = sphere_of(b)
    count = count_circle(s) if s.dimension == 1 else count_two_sphere(s)
    assert {p for p in sampled_patterns(s, 20_000)} <= set(count.patterns)
    if s.dimension == 1:
        assert check_certificate(json.loads(json.dumps(region_count(b)["certificate"]))).accepted
    for signs in itertools.product("+-", repeat=b.n):
        res = sphere_feasibility(s, "".join(signs))
        if res.status == EXACT:
            assert res.feasible == ("".join(signs) in count.patterns)
