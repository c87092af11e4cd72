"""Counterexamples without normalization, the monosemantic cone, minimal models.

Every emitted counterexample is replayed three ways: the exact checker, the
float forward pass of the block (the output at t₂·v differs from what the
affine map read off at t₁·v predicts), and independent exact sign evaluation.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from geomcheck.certify.cone import cone_certificate, counterexample_certificate
from geomcheck.checker import check_certificate, check_file
from geomcheck.cli import main
from geomcheck.exact.linalg import rank
from geomcheck.io.resolve import load_model
from geomcheck.model import MLPBlock, get_activation, make_normalization
from geomcheck.search.cone import in_cone, monosemantic_cone
from geomcheck.search.counterexample import (contrast, counterexample_on_ray, drop_norm, find_counterexample,
                                             most_crossings, normalized_ray_flips, polysemantic_fraction,
                                             random_directions, ray_crossings)
from geomcheck.search.floats import forward

from strategies import blocks, vectors


def nonorm(w_in, b_in, w_out=None) -> MLPBlock:
    n, d = len(w_in), len(w_in[0])
    w_out = w_out if w_out is not None else [[1] * n for _ in range(d)]
    return MLPBlock(tuple(tuple(F(c) for c in r) for r in w_in), tuple(F(c) for c in b_in),
                    tuple(tuple(F(c) for c in r) for r in w_out), (F(0),) * len(w_out),
                    make_normalization("none"), get_activation("relu"), name="hand")


def replay_float(block: MLPBlock, ce) -> None:
    """The affine map of pattern 1 (read off at t₁·v), evaluated at t₂·v, misses the block's output there.

    Map of pattern s: x ↦ W_out·D_s·(W'x + b') + b_out. The exact gap is
    W_out·(D_s − D_t)·(W'x₂ + b'); it is nonzero and the float gap agrees
    with it to far better than the gap itself.
    """
    w, b = np.array([[float(c) for c in r] for r in block.folded.weights]), np.array([float(c) for c in block.folded.bias])
    wo, bo = np.array([[float(c) for c in r] for r in block.w_out]), np.array([float(c) for c in block.b_out])
    on1 = np.array([c == "+" for c in ce.pattern1], dtype=float)
    x2 = np.array([float(ce.t2 * c) for c in ce.direction])
    predicted = wo @ (on1 * (w @ x2 + b)) + bo
    actual = forward(block, x2[None, :])[0]
    gap = np.abs(actual - predicted).max()
    scale = (np.abs(wo) @ (np.abs(w) @ np.abs(x2) + np.abs(b))).max() + np.abs(bo).max() + 1.0
    assert gap > 1e-9 * scale, (gap, scale)       # float error is ~1e-16·scale
    # and the exact gap is what the float gap approximates
    x2q = [ce.t2 * c for c in ce.direction]
    h = block.folded.preactivations_at(x2q)
    on2 = [c == "+" for c in ce.pattern2]
    exact = [sum((row[i] * ((1 if on2[i] else 0) - (1 if c == "+" else 0)) * h[i]
                  for i, c in enumerate(ce.pattern1)), F(0)) for row in block.w_out]
    assert any(exact)
    assert np.allclose(actual - predicted, [float(e) for e in exact], rtol=1e-9, atol=1e-12 * scale)


def replay_all(block: MLPBlock, ce) -> None:
    assert ce is not None
    assert 0 < ce.t1 < ce.t2
    assert block.pattern_at_input([ce.t1 * c for c in ce.direction]) == ce.pattern1
    assert block.pattern_at_input([ce.t2 * c for c in ce.direction]) == ce.pattern2
    verdict = check_certificate(counterexample_certificate(block, ce))
    assert verdict.accepted, verdict.message
    replay_float(block, ce)


# --- counterexamples ---------------------------------------------------------------

def test_circle3_noln_counterexample_is_simple_and_replays():
    block = load_model("toy:circle3-noln")
    ce = find_counterexample(block)
    # e_0: neuron 0 (w = (1,0,−1), b = −1) has w·v = 1 against b = −1: flips at t = 1, alone
    assert ce.direction == (1, 0, 0) and (ce.t1, ce.t2) == (F(1, 2), F(2)) and ce.neurons == (0,)
    replay_all(block, ce)


def test_essay_diagonal_crossings_by_hand():
    """Ray (1, 0, −1): neuron 0 has w·v = 2, b = −1 → t = 1/2; neuron 1 has w·v = 1, b = −2 → t = 2;
    neuron 2: w·v = 1, b = 1 (same sign) and neuron 3: w·v = 0: no crossing."""
    block = load_model("toy:circle3-noln")
    crossings = ray_crossings(block, (F(1), F(0), F(-1)))
    assert [(c.t, c.neurons) for c in crossings] == [(F(1, 2), (0,)), (F(2), (1,))]
    replay_all(block, counterexample_on_ray(block, (F(1), F(0), F(-1))))


def test_zero_output_column_changes_pattern_not_map():
    """w = 1, b = −1 flips at t = 1 but w_out = 0: same map, so no counterexample (pattern change only)."""
    block = nonorm([[1]], [-1], [[0]])
    assert ray_crossings(block, (F(1),))
    assert counterexample_on_ray(block, (F(1),)) is None
    assert find_counterexample(block) is None


def test_drop_norm_keeps_folded_uncentred_weights():
    norm = make_normalization("layernorm", F(0), (F(2), F(1), F(1)), (F(1), F(0), F(0)))
    block = MLPBlock(((F(1), F(0), F(-1)),), (F(-3),), ((F(1),),), (F(0),), norm, get_activation("relu"))
    dropped = drop_norm(block)
    # W' = W·diag(γ) = (2, 0, −1) (not centred: centred would be (5/3, −1/3, −4/3)); b' = W·β + b = 1 − 3 = −2
    assert dropped.norm.kind == "none" and dropped.w_in == ((F(2), F(0), F(-1)),) and dropped.b_in == (F(-2),)
    ce = find_counterexample(dropped)
    replay_all(dropped, ce)
    cert = counterexample_certificate(dropped, ce)
    assert cert["model"]["norm"]["kind"] == "none"


def test_most_crossings_and_fraction():
    block = load_model("toy:circle3-noln")
    best = most_crossings(block, samples=200)
    # the count is exact for the returned direction: recount by hand from the signs
    v = best["direction"]
    count = sum(1 for w, b in zip(block.w_in, block.b_in) if b * sum(x * y for x, y in zip(w, v)) < 0)
    assert best["count"] == count == 4       # all four neurons: the maximum possible
    frac = polysemantic_fraction(block, 400, seed=1)
    directions = random_directions(3, 400, 1)
    assert frac["not_constant"] == sum(1 for v in directions if not in_cone(block, v))
    assert frac["wilson95"][0] <= frac["fraction"] <= frac["wilson95"][1]


# --- the monosemantic cone: hand cases -----------------------------------------------

def test_cone_zero_hand_case():
    """d = 2, w = (−1,0), (0,−1), (1,1), b = −1 each (toy:allpoly). g_i = b_i·w_i = (1,0), (0,1), (−1,−1):
    Gv ≥ 0 means v₁ ≥ 0, v₂ ≥ 0, v₁ + v₂ ≤ 0, so v = 0. y = (1,1,1) gives Σ y_i g_i = 0, rank G = 2."""
    block = load_model("toy:allpoly")
    result = monosemantic_cone(block)
    assert result.verdict == "zero" and result.dimension == 0 and result.direction is None
    assert result.y == (1, 1, 1) and result.equalities == (0, 1, 2)
    cert = cone_certificate(block, result)
    assert cert["claim"]["every_direction_changes_map"] is True
    assert check_certificate(cert).accepted
    for v in random_directions(2, 50, 3) + [(F(1), F(0)), (F(-1), F(1))]:
        replay_all(block, counterexample_on_ray(block, v))


def test_cone_half_line_hand_case():
    """d = 2, g = (0,1), (0,−1), (1,0) (b = −1, w = −g): v₂ ≥ 0, v₂ ≤ 0, v₁ ≥ 0, so the cone is the
    half-line {(s, 0) : s ≥ 0}: E = {0, 1} (y = (1, 1)), rank G_E = 1, dimension 1, interior (1, 0)."""
    block = nonorm([[0, -1], [0, 1], [-1, 0]], [-1, -1, -1])
    result = monosemantic_cone(block)
    assert result.verdict == "nonzero" and result.dimension == 1 and result.lineality == 0
    assert result.equalities == (0, 1) and result.y == (1, 1)
    assert result.direction == (1, 0)
    assert check_certificate(cone_certificate(block, result)).accepted
    assert counterexample_on_ray(block, (F(1), F(0))) is None
    replay_all(block, counterexample_on_ray(block, (F(1), F(1, 100))))


def test_cone_full_dimensional_hand_case():
    """d = 2, one neuron w = (1, 0), b = −1: g = (−1, 0), the cone is the half-plane v₁ ≤ 0:
    dimension 2, no equalities, lineality 1 (the v₂ axis)."""
    block = nonorm([[1, 0]], [-1])
    result = monosemantic_cone(block)
    assert result.dimension == 2 and result.equalities == () and result.lineality == 1
    assert result.direction[0] < 0
    assert check_certificate(cone_certificate(block, result)).accepted


def test_cone_without_biases_is_everything():
    block = nonorm([[1, 2], [3, -1]], [0, 0])
    result = monosemantic_cone(block)
    assert result.dimension == 2 and not result.rows
    assert check_certificate(cone_certificate(block, result)).accepted


# --- mutations: the checker rejects ----------------------------------------------------

def _rejected(cert) -> bool:
    return not check_certificate(cert).accepted


def test_cone_certificate_mutations_rejected():
    block = load_model("toy:allpoly")
    good = cone_certificate(block, monosemantic_cone(block))
    assert check_certificate(good).accepted
    for mutate in (
        lambda c: c["y"].__setitem__(0, "2"),                    # perturbed y: Σ y_i g_i ≠ 0
        lambda c: c.__setitem__("y", ["-1", "-1", "-1"]),       # sign flip
        lambda c: c["y"].__setitem__(2, "0"),                    # not strictly positive
        lambda c: c.__setitem__("equalities", [0, 1]) or c.__setitem__("y", ["1", "1"]),
        lambda c: c["claim"].__setitem__("dimension", 1),
        lambda c: c["claim"].__setitem__("verdict", "nonzero"),
        lambda c: c.__setitem__("model_sha256", "0" * 64),
        lambda c: c["model"]["b_in"].__setitem__(2, "-2"),       # different model, old hash
    ):
        bad = copy.deepcopy(good)
        mutate(bad)
        assert _rejected(bad)
    # the map claim needs independent augmented rows: make neuron 2 a copy of neuron 1
    twin = nonorm([[-1, 0], [0, -1], [1, 1], [1, 1]], [-1, -1, -1, -1], [[1, 0, 1, 1], [0, 1, 1, 1]])
    cert = cone_certificate(twin, monosemantic_cone(twin))
    assert "every_direction_changes_map" not in cert["claim"] and check_certificate(cert).accepted
    cert["claim"]["every_direction_changes_map"] = True
    assert _rejected(cert)


def test_cone_nonzero_mutations_rejected():
    block = nonorm([[0, -1], [0, 1], [-1, 0]], [-1, -1, -1])
    good = cone_certificate(block, monosemantic_cone(block))
    for mutate in (
        lambda c: c.__setitem__("direction", ["1", "1"]),        # leaves the equality v₂ = 0
        lambda c: c.__setitem__("direction", ["0", "0"]),
        lambda c: c.__setitem__("direction", ["-1", "0"]),       # outside
        lambda c: c.__setitem__("equalities", []) or c.__setitem__("y", []),  # dimension would be 2
        lambda c: c["claim"].__setitem__("verdict", "zero"),
    ):
        bad = copy.deepcopy(good)
        mutate(bad)
        assert _rejected(bad)


def test_counterexample_mutations_rejected():
    block = load_model("toy:circle3-noln")
    good = counterexample_certificate(block, find_counterexample(block))
    assert check_certificate(good).accepted
    for mutate in (
        lambda c: c.__setitem__("scales", ["2", "1/2"]),         # t1 > t2
        lambda c: c.__setitem__("scales", ["1/2", "3/4"]),       # same segment: pattern 2 wrong
        lambda c: c.__setitem__("scales", ["0", "2"]),
        lambda c: c["patterns"].__setitem__(1, "+++-"),
        lambda c: c.__setitem__("neurons", [0, 1]),
        lambda c: c.__setitem__("direction", ["-1", "0", "0"]),  # another ray: patterns differ
        lambda c: c.__setitem__("direction", ["0", "0", "0"]),
        lambda c: c["claim"].__setitem__("verdict", "proved"),
        lambda c: c.__setitem__("model_sha256", "f" * 64),
    ):
        bad = copy.deepcopy(good)
        mutate(bad)
        assert _rejected(bad)
    # pattern changes but the map does not: zero output column
    silent = nonorm([[1]], [-1], [[0]])
    cert = counterexample_certificate(silent, find_counterexample(nonorm([[1]], [-1])))
    assert _rejected(cert)


def test_layernorm_rays_never_give_a_checked_counterexample():
    block = load_model("toy:circle3")
    dropped_ce = find_counterexample(drop_norm(block))
    cert = counterexample_certificate(block, dropped_ce)   # same scales, but through LayerNorm
    assert _rejected(cert)


# --- hypothesis properties ---------------------------------------------------------------

@settings(max_examples=40)
@given(data=st.data())
def test_cone_membership_decides_region_constancy(data):
    """Inside the cone: one exact pattern at many scales. Outside: the offending neuron i changes sign
    between t_i/2 and 2·t_i (h_i(t_i/2) = b_i/2, h_i(2t_i) = −b_i), checked by exact evaluation."""
    block = data.draw(blocks(norm="none"))
    v = data.draw(vectors(block.d))
    assume(any(v))
    if in_cone(block, v):
        patterns = {block.pattern_at_input([t * c for c in v]) for t in (F(1, 1000), F(1, 3), F(1), F(7), F(10**6))}
        assert len(patterns) == 1
        assert counterexample_on_ray(block, v) is None
    else:
        i = next(i for i, (w, b) in enumerate(zip(block.w_in, block.b_in))
                 if b * sum(x * y for x, y in zip(w, v)) < 0)
        t = -block.b_in[i] / sum(x * y for x, y in zip(block.w_in[i], v))
        assert block.signs_at_input([t / 2 * c for c in v])[i] == -block.signs_at_input([2 * t * c for c in v])[i] != 0
        assert ray_crossings(block, v)


@settings(max_examples=40)
@given(data=st.data())
def test_outside_the_cone_gives_a_checked_counterexample(data):
    """With W_out of full column rank (n ≤ d) every flip changes the map (Σ ±col_i ⊗ [w_i|b_i] ≠ 0 since
    the columns are independent and [w_i|b_i] ≠ 0 for a crossing neuron), so outside the cone a
    counterexample exists on the ray itself; it replays through checker and floats."""
    d = data.draw(st.integers(2, 4))
    block = data.draw(blocks(norm="none", d=d, n=data.draw(st.integers(1, d))))
    assume(rank([tuple(row[i] for row in block.w_out) for i in range(block.n)], block.d) == block.n)
    v = data.draw(vectors(block.d))
    assume(any(v) and not in_cone(block, v))
    replay_all(block, counterexample_on_ray(block, v))


def test_cone_that_is_a_plane_gets_an_exact_direction():
    """Two neurons with one w and opposite biases: rows b_i·w_i = ±(1, 4/3, 4), so the cone is the
    plane 3v₁ + 4v₂ + 12v₃ = 0 (found by hypothesis: no entry ≤ 2 solves it, and the LP's v is 0)."""
    w = (F(1), F(4, 3), F(4))
    block = MLPBlock(w_in=((F(0),) * 3, w, w), b_in=(F(0), F(1), F(-1)), w_out=((F(0),) * 3,) * 3,
                     b_out=(F(0),) * 3, norm=make_normalization("none"), activation=get_activation("relu"))
    result = monosemantic_cone(block)
    v = result.direction
    assert v is not None and any(v) and 3 * v[0] + 4 * v[1] + 12 * v[2] == 0
    assert check_certificate(cone_certificate(block, result)).accepted
    assert in_cone(block, v) and counterexample_on_ray(block, v) is None


@settings(max_examples=25)
@given(block=blocks(norm="none", d=3))
def test_cone_certificate_always_accepted(block):
    result = monosemantic_cone(block)
    assert check_certificate(cone_certificate(block, result)).accepted
    if result.direction is not None:
        assert in_cone(block, result.direction) and counterexample_on_ray(block, result.direction) is None
    if result.dimension == 0:
        for v in random_directions(3, 10, 0):
            assert not in_cone(block, v)


# --- contrast and ε > 0 --------------------------------------------------------------------

def test_contrast_layernorm_eps0_all_constant():
    block = load_model("toy:sphere4")
    result = contrast(block, random_directions(4, 60, 2))
    assert result["constant_with_norm"] == result["directions"] == 60
    dropped = drop_norm(block)
    assert result["constant_without_norm"] == sum(1 for v in random_directions(4, 60, 2) if in_cone(dropped, v))
    assert result["constant_without_norm"] < 60


def test_normalized_ray_flip_scale_is_exact():
    """At ε > 0 the flip scale t* (t*² rational) separates two exact patterns: rationals t_lo < t* < t_hi."""
    block = load_model("toy:circle3?eps=1/10")
    flips_seen = 0
    for v in random_directions(3, 30, 5):
        for i, t_squared in normalized_ray_flips(block, v):
            lo, hi = t_squared * F(99, 100), t_squared * F(101, 100)
            t_lo, t_hi = F(int(float(lo) ** 0.5 * 1e6), 10**6), F(int(float(hi) ** 0.5 * 1e6) + 1, 10**6)
            assert t_lo * t_lo < t_squared < t_hi * t_hi
            s_lo = block.signs_at_input([t_lo * c for c in v])[i]
            s_hi = block.signs_at_input([t_hi * c for c in v])[i]
            assert s_lo == -s_hi != 0
            flips_seen += 1
    assert flips_seen > 0


# --- minimal models ------------------------------------------------------------------------

def test_minimal_n1_d1_by_exhaustion():
    """n = d = 1 with weights in {−1, 0, 1}: a counterexample exists iff w ≠ 0, b ≠ 0, w_out ≠ 0.
    With d = 1 there are only two rays (v = ±1), so trying both is exhaustive."""
    for w in (-1, 0, 1):
        for b in (-1, 0, 1):
            for wo in (-1, 0, 1):
                block = nonorm([[w]], [b], [[wo]])
                found = find_counterexample(block, directions=[(F(1),), (F(-1),)])
                assert (found is not None) == (w != 0 and b != 0 and wo != 0)
                if found is not None:
                    replay_all(block, found)


def test_minimal_search_shrinks_to_n1_d1():
    from geomcheck.search.minimal import layernorm_falsification, minimal_block_example, minimal_counterexample

    r = minimal_counterexample(max_d=3, max_examples=300)
    block = r["block"]
    assert (block.n, block.d) == (1, 1)
    assert abs(block.w_in[0][0]) == abs(block.b_in[0]) == abs(block.w_out[0][0]) == 1
    replay_all(block, r["counterexample"])
    replay_all(minimal_block_example(), find_counterexample(minimal_block_example()))
    ln = layernorm_falsification(max_d=3, max_examples=300)
    assert ln["found"] is False and ln["examples"] == 300


# --- CLI ---------------------------------------------------------------------------------------

def test_cli_counterexample_json_and_certificate(tmp_path, capsys):
    cert_path = tmp_path / "ce.json"
    assert main(["counterexample", "toy:circle3", "--drop-norm", "--json", "--certificate", str(cert_path),
                 "--fraction", "100"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["status"] == "refuted" and payload["norm_dropped"] is True
    assert payload["direction"] == ["1", "0", "0"] and payload["scales"] == ["1/2", "2"]
    assert len(payload["patterns"]) == 2 and payload["neurons"] == [0]
    assert payload["fraction"]["status"] == "estimate"
    assert check_file(str(cert_path)).accepted
    assert json.loads(cert_path.read_text())["model"]["norm"]["kind"] == "none"


def test_cli_cone_and_contrast_json(capsys):
    assert main(["counterexample", "toy:allpoly", "--cone", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["status"] == "proved" and payload["verdict"] == "zero" and payload["every_direction_changes_map"]
    assert main(["counterexample", "toy:circle3", "--contrast", "--directions", "50", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["constant_with_norm"] == 50 and payload["constant_without_norm"] < 50


@pytest.mark.parametrize("argv, fragment", [
    (["counterexample", "toy:circle3"], "--drop-norm"),
    (["counterexample"], "MODEL"),
    (["counterexample", "toy:circle3-noln", "--direction", "0,0,0"], "zero vector"),
    (["counterexample", "toy:circle3-noln", "--contrast"], "no normalization"),
    (["counterexample", "--search", "--max-d", "9"], "--max-d"),
])
def test_cli_errors_one_line(argv, fragment):
    result = subprocess.run([sys.executable, "-m", "geomcheck", *argv], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr


def test_claim_entry_points_for_proofs():
    from geomcheck.certify.cone import prove_every_direction_polysemantic, refute_minimal_model

    allpoly = prove_every_direction_polysemantic("toy:allpoly")
    assert allpoly["status"] == "proved" and allpoly["every_direction_changes_map"]
    assert prove_every_direction_polysemantic("toy:circle3-noln")["status"] == "refuted"  # a checked nonzero cone
    minimal = refute_minimal_model()
    assert minimal["status"] == "refuted"
    assert minimal["certificate"]["direction"] == ["1"] and minimal["certificate"]["scales"] == ["1/2", "2"]


@settings(max_examples=30)
@given(data=st.data())
def test_three_rank_implementations_agree(data):
    """Checker (fraction-free integers), exact kernel (Fractions) and search (python-flint) ranks agree."""
    from geomcheck.checker.arith import echelon
    from geomcheck.search.cone import rank as flint_rank, rref as flint_rref
    from geomcheck.exact.linalg import rref as fraction_rref

    rows_n, cols = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 5))
    base = [data.draw(vectors(cols, max_num=4, max_den=3)) for _ in range(data.draw(st.integers(1, rows_n)))]
    # add dependent rows so that rank deficiency actually happens
    rows = base + [tuple(a + F(2) * b for a, b in zip(base[0], base[-1])) for _ in range(rows_n - len(base))]
    r = rank(rows, cols)
    assert echelon(rows, cols)[0] == r == flint_rank(rows, cols)
    assert flint_rref(rows, cols) == fraction_rref(rows, cols)


@settings(max_examples=30)
@given(data=st.data())
def test_ray_helpers_agree_with_the_path_engine(data):
    """Independent routes: my no-norm crossing list / ε-ray flips vs geometry.paths.analyse_path on rays."""
    from geomcheck.exact.quadratic import real_roots
    from geomcheck.geometry.paths import PathSpec, analyse_path

    block = data.draw(blocks())
    v = data.draw(vectors(block.d))
    assume(any(v) and not (block.norm.centers and len(set(v)) == 1))
    analysis = analyse_path(block, PathSpec.ray(v))
    if block.norm.kind == "none":
        mine = ray_crossings(block, v)
        assert [c.neurons for c in mine] == [c.neurons for c in analysis.crossings]
        assert all(c.at == m.t for c, m in zip(analysis.crossings, mine))
        ce = counterexample_on_ray(block, v)
        assert (ce is not None) == any(c.map_changes for c in analysis.crossings)
    else:
        flips = normalized_ray_flips(block, v)
        assert sorted(i for i, _ in flips) == sorted(i for c in analysis.crossings for i in c.neurons)
        for i, t_squared in flips:
            at = next(c.at for c in analysis.crossings if i in c.neurons)
            assert at == real_roots(F(1), F(0), -t_squared)[-1]      # exact: t* = +√(t*²)
        if block.norm.eps == 0:
            assert not flips and not analysis.crossings


def test_claim_runners_detect_wrong_expectations():
    from geomcheck.claims import run_claim

    good = {"name": "t/cone", "type": "cone", "model": "toy:allpoly", "expect": {"verdict": "zero", "dimension": 0}}
    assert run_claim(good).status == "proved"
    wrong = dict(good, expect={"verdict": "nonzero"})
    assert run_claim(wrong).status == "refuted"
    dropped = {"name": "t/drop", "type": "cone", "model": "toy:circle3", "drop_norm": True,
               "expect": {"verdict": "nonzero", "dimension": 3, "lineality_dimension": 1}}
    assert run_claim(dropped).status == "proved"
    ce = {"name": "t/ce", "type": "counterexample", "model": "toy:minimal", "direction": "1",
          "expect": {"scales": ["1/2", "2"], "patterns": ["-", "+"]}}
    assert run_claim(ce).status == "proved"
    assert run_claim(dict(ce, expect={"scales": ["1/3", "2"]})).status == "refuted"
    assert run_claim(dict(ce, direction="-1")).status == "error"     # v = −1 stays off: no counterexample
