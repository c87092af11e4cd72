"""Output that scales, no internal errors, exact forms in simplest radicals, short reprs."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import warnings
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from geomcheck.cli import main
from geomcheck.exact.quadratic import QuadraticRoot, _square_part

ROOT = Path(__file__).resolve().parent.parent
WIDE = "toy:random?d=6&n=120&seed=3"  # a ray through it crosses more than a screenful of neurons at eps > 0


def _run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _sub(code: str, *argv: str):
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)


# --- radicals in simplest form ---------------------------------------------------------------

def _root(p, q, D) -> QuadraticRoot:
    return QuadraticRoot(Fraction(p), Fraction(q), Fraction(D), (Fraction(0), Fraction(0), Fraction(0)))


def test_exact_form_hand_cases():
    assert _root(0, Fraction(1, 8), 96).exact_form() == "sqrt(6)/2"
    assert _root(Fraction(-4), Fraction(3, 2), Fraction(32, 3)).exact_form() == "-4 + 2*sqrt(6)"
    assert _root(1, -1, 2).exact_form() == "1 - sqrt(2)"
    assert _root(0, -3, Fraction(1, 2)).exact_form() == "-3*sqrt(2)/2"
    assert _root(Fraction(1, 2), Fraction(3, 68), Fraction(68, 3)).exact_form() == "1/2 + sqrt(51)/34"
    assert _root(5, 0, 7).exact_form() == "5"


@given(st.integers(1, 10**40))
def test_square_part(n):
    s, r = _square_part(n)
    assert s * s * r == n
    # no square of a prime below 1000 is left in r, and r is not a perfect square unless 1
    assert all(r % (p * p) for p in (2, 3, 5, 7, 11, 13, 997))
    assert r == 1 or math.isqrt(r) ** 2 != r


@given(st.fractions(), st.fractions().filter(lambda q: q != 0),
       st.fractions(min_value=Fraction(1, 10**6)).filter(lambda q: q > 0))
def test_exact_form_is_the_same_number(p, q, D):
    import sympy as sp

    if math.isqrt(D.numerator) ** 2 == D.numerator and math.isqrt(D.denominator) ** 2 == D.denominator:
        return  # a rational root is stored with q = 0
    text = _root(p, q, D).exact_form()
    assert sp.simplify(sp.sympify(text) - (sp.Rational(p) + sp.Rational(q) * sp.sqrt(sp.Rational(D)))) == 0


# --- output that scales -----------------------------------------------------------------------

def _wide_ray(extra, capsys):
    return _run(["ray", f"{WIDE}&eps=1/1000", "--direction", "1,2,3,4,5,-6", *extra], capsys)


def test_long_ray_leads_with_the_answer_and_fits_a_screen(capsys):
    code, out, _ = _wide_ray([], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("verdict   ") and "crossing(s)" in lines[0]
    assert lines[1].startswith("checker ")
    crossings = json.loads(_wide_ray(["--json"], capsys)[1])["crossings"]
    assert len(crossings) > 10  # the JSON is complete
    assert len(lines) <= 60
    assert f"first     λ = {crossings[0]['lambda']}" in out
    assert f"last      λ = {crossings[-1]['lambda']}" in out
    assert f"… {len(crossings) - 10} more crossings" in out
    # --all: every crossing has its row; --limit 3: three
    out_all = _wide_ray(["--all"], capsys)[1]
    assert all(f"  {c['lambda']}  " in out_all for c in crossings)
    out_3 = _wide_ray(["--limit", "3"], capsys)[1]
    assert f"… {len(crossings) - 3} more crossings" in out_3


def test_json_lines_is_the_json_split(capsys):
    full = json.loads(_wide_ray(["--json"], capsys)[1])
    code, out, _ = _wide_ray(["--json-lines"], capsys)
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert records[0]["record"] == "path" and records[0]["crossings"] == len(full["crossings"])
    crossings = [r for r in records if r["record"] == "crossing"]
    segments = [r for r in records if r["record"] == "segment"]
    strip = lambda r: {k: v for k, v in r.items() if k not in ("record", "index")}  # noqa: E731
    assert [strip(r) for r in crossings] == full["crossings"]
    assert [strip(r) for r in segments] == full["segments"]
    assert _run(["ray", "toy:circle3", "--direction", "1,0,0", "--json", "--json-lines"], capsys)[0] == 2


def test_long_exact_numbers_shortened_unless_exact(capsys):
    argv = ["ray", "toy:circle3?eps=1e-400", "--direction", "1,0,-1"]
    out = _run(argv, capsys)[1]
    assert "eps = 1e-400 (exact 1/100000…, 402 digits)" in out
    assert "0" * 100 not in out
    assert "1/1" + "0" * 400 in _run(argv + ["--exact"], capsys)[1]


def test_digits_honoured_or_refused(capsys):
    out = _run(["path", "toy:circle3", "--base", "1,0,0", "--add", "0,1,0", "--digits", "4"], capsys)[1]
    assert "first     λ = 0.7100  (neurons 3)" in out  # 0.71004201… to 4 significant digits
    full = json.loads(_run(["path", "toy:circle3", "--base", "1,0,0", "--add", "0,1,0", "--digits", "4", "--json"],
                           capsys)[1])
    assert full["crossings"][0]["lambda"].startswith("0.710042012604201")  # JSON keeps ≥ 15 digits
    code, _, err = _run(["path", "toy:circle3", "--base", "1,0,0", "--add", "0,1,0", "--digits", "0"], capsys)
    assert code == 2 and "--digits" in err
    code, _, err = _run(["sphere", "toy:circle3", "--digits", "4"], capsys)  # no decimals to round: refused
    assert code == 2 and "--digits" in err


def test_wide_patterns_and_vectors_are_cut(capsys):
    model = "toy:random?d=40&n=300&seed=1&norm=none"
    code, out, _ = _run(["counterexample", model], capsys)
    assert code == 0
    assert max(map(len, out.splitlines())) < 400
    assert "300 neurons" in out and "40 entries" in out
    payload = json.loads(_run(["counterexample", model, "--json"], capsys)[1])
    assert len(payload["patterns"][0]) == 300 and len(payload["direction"]) == 40


# --- no internal errors -------------------------------------------------------------------------

def test_sign_pattern_starting_with_minus_is_a_value(capsys):
    code, out, _ = _run(["feasible", "toy:circle3", "--pattern", "-+-+"], capsys)
    assert code == 0 and out.startswith("pattern     -+-+ on the sphere: feasible")
    code, out, _ = _run(["feasible", "toy:circle3", "--pattern", "---+"], capsys)
    assert code == 0 and "---+" in out


def test_plot_into_missing_folder_keeps_the_result(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    code, out, err = _run(["sphere", "toy:circle3", "--plot", str(tmp_path / "nodir" / "c.png")], capsys)
    assert code == 2
    assert "regions     8 on the sphere" in out
    assert len(err.strip().splitlines()) == 1 and "cannot write" in err and "Traceback" not in err


def test_plot_without_matplotlib_names_the_extra():
    blocker = ("import sys\nclass B:\n def find_spec(self, name, path=None, target=None):\n"
               "  if name.split('.')[0] == 'matplotlib': raise ImportError('blocked')\n"
               "sys.meta_path.insert(0, B())\nfrom geomcheck.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    for argv in (["sphere", "toy:circle3", "--plot", "c.png"],
                 ["ray", "toy:circle3-noln", "--direction", "1,0,-1", "--plot", "r.png"]):
        proc = _sub(blocker, *argv)
        assert proc.returncode == 2, proc.stderr
        assert "geomcheck[plot]" in proc.stderr and "matplotlib" in proc.stderr
        assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
        assert proc.stdout.startswith(("sphere", "verdict"))  # the result is still printed
        assert not (ROOT / argv[-1]).exists()


def test_third_party_warnings_reported_in_our_words(capsys, monkeypatch):
    from geomcheck.cli import feasible_cmd

    real = feasible_cmd.run

    def noisy(args):
        warnings.warn_explicit("Solution may be inaccurate. Try another solver.", UserWarning,
                               "/site-packages/cvxpy/problems/problem.py", 1)
        warnings.warn_explicit("Solution may be inaccurate. Try another solver.", UserWarning,
                               "/site-packages/cvxpy/problems/problem.py", 1)
        return real(args)

    monkeypatch.setattr(feasible_cmd, "run", noisy)
    code, out, err = _run(["feasible", "toy:circle3", "--pattern", "+-+-"], capsys)
    assert code == 0 and "feasible" in out
    assert err.count("cvxpy warned: Solution may be inaccurate") == 1  # once, in our words
    assert err.startswith("geomcheck: note:")


# --- progress ------------------------------------------------------------------------------------

def test_progress_only_on_a_terminal(capsys, monkeypatch):
    from types import SimpleNamespace

    from geomcheck.cli.common import progress_enabled

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert progress_enabled(SimpleNamespace(no_progress=False, json=False))
    assert not progress_enabled(SimpleNamespace(no_progress=True, json=False))
    assert not progress_enabled(SimpleNamespace(no_progress=False, json=True))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert not progress_enabled(SimpleNamespace(no_progress=False, json=False))
    # piped: no bar on stderr at all
    proc = subprocess.run([sys.executable, "-m", "geomcheck", "ray", "toy:circle3", "--direction", "1,0,0"],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0 and proc.stderr == ""


# --- reprs -----------------------------------------------------------------------------------------

def test_reprs_are_short():
    import numpy as np

    import geomcheck as gc
    from geomcheck.model.activations import get_activation
    from geomcheck.model.norms import make_normalization

    rng = np.random.default_rng(0)
    big = gc.MLPBlock.from_float_arrays(rng.normal(size=(1536, 384)), rng.normal(size=1536), rng.normal(size=(384, 1536)),
                                        np.zeros(384), make_normalization("layernorm", Fraction(1, 10**12)),
                                        get_activation("gelu"), name="big")
    text = repr(big)
    assert len(text) < 200 and "d = 384" in text and "n = 1536" in text and "layernorm" in text and "gelu" in text
    r = gc.ray("toy:circle3-noln", [1, 0, -1])
    assert repr(r) == "<PathResult ray: refuted (path certificate checked): not-constant, 2 crossings, 3 regions>"
    html = r._repr_html_()
    assert html.startswith("<div>") and "not-constant" in html and "<table>" in html


def test_api_refuses_bad_input_in_one_line():
    import geomcheck as gc
    from geomcheck.errors import InvalidInput

    with pytest.raises(InvalidInput, match="has 2 entries"):
        gc.ray("toy:circle3", [1, 2])
    with pytest.raises(InvalidInput, match="not a finite number"):
        gc.ray("toy:circle3", [1, float("nan"), 0])
    with pytest.raises(InvalidInput, match="engine"):
        gc.ray("toy:circle3", [1, 0, 0], engine="fast")
    with pytest.raises(InvalidInput, match="model"):
        gc.ray(42, [1, 0, 0])


def test_api_matches_the_cli(capsys):
    import geomcheck as gc

    api = gc.path("toy:circle3", base="1,0,0", add=[0, 1, 0]).to_json()
    cli = json.loads(_run(["path", "toy:circle3", "--base", "1,0,0", "--add", "0,1,0", "--json"], capsys)[1])
    assert api == cli
    cap = gc.cap("toy:circle3", [1, 2, 0]).to_json()
    assert cap == json.loads(_run(["cap", "toy:circle3", "--direction", "1,2,0", "--json"], capsys)[1])
    frame = gc.path("toy:circle3", "1,0,0", "0,1,0").to_pandas()
    assert len(frame) == 4 and list(frame["neurons"]) == [c["neurons"] for c in api["crossings"]]


def test_sphere_json_lines(capsys):
    full = json.loads(_run(["sphere", "toy:circle3", "--json"], capsys)[1])
    records = [json.loads(line) for line in _run(["sphere", "toy:circle3", "--json-lines"], capsys)[1].splitlines()]
    assert records[0]["record"] == "sphere" and records[0]["neuron_list"] == 4
    assert records[0]["regions"] == full["regions"]
    assert [{k: v for k, v in r.items() if k != "record"} for r in records[1:]] == full["neuron_list"]
