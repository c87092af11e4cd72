"""The ``dyt-counterexample`` checker kind: tanh enclosures, acceptance, mutations."""

from __future__ import annotations

import copy
import json
from fractions import Fraction as F

import mpmath
import pytest
from hypothesis import given

from geomcheck.checker import check_certificate
from geomcheck.checker.core import canonical_model_sha256
from geomcheck.checker.cone import exp_enclosure, tanh_enclosure
from geomcheck.cli import main
from geomcheck.io import load_model

from strategies import rationals


@given(rationals(400, 60))
def test_tanh_enclosure_contains_tanh(x):
    lo, hi = tanh_enclosure(x)
    with mpmath.workdps(80):
        true = mpmath.tanh(mpmath.mpf(x.numerator) / x.denominator)
        assert mpmath.mpf(lo.numerator) / lo.denominator <= true <= mpmath.mpf(hi.numerator) / hi.denominator
    assert hi - lo < F(1, 2**100)


def test_exp_enclosure_hand_values():
    lo, hi = exp_enclosure(F(0))
    assert lo <= 1 <= hi
    lo, hi = exp_enclosure(F(-3))
    assert F(4978706836, 10**11) < lo <= hi < F(4978706837, 10**11)   # e^−3 = 0.049787068367…


def _certificate(tmp_path, direction: str) -> dict:
    path = tmp_path / "dyt.json"
    assert main(["counterexample", "toy:dyt3", "--direction", direction, "--certificate", str(path), "--json"]) == 0
    return json.loads(path.read_text())


def test_engine_certificates_are_accepted(tmp_path, capsys):
    for direction in ("1,0,-1", "0,1,0"):
        cert = _certificate(tmp_path, direction)
        assert check_certificate(cert).accepted, check_certificate(cert).message
        payload = json.loads(capsys.readouterr().out)
        assert payload["status"] == "refuted" and payload["certificate"]["accepted"]


def _rehash(cert: dict) -> dict:
    cert["model_sha256"] = canonical_model_sha256(cert["model"])
    return cert


def test_mutations_are_rejected(tmp_path):
    good = _certificate(tmp_path, "1,0,-1")
    assert check_certificate(good).accepted

    def flip(p, i):
        return p[:i] + ("-" if p[i] == "+" else "+") + p[i + 1:]

    mutants = []
    for k in (0, 1):
        for i in range(4):
            m = copy.deepcopy(good)
            m["patterns"][k] = flip(m["patterns"][k], i)
            mutants.append(m)
    def mutant(change):
        m = copy.deepcopy(good)
        change(m)
        mutants.append(m)

    mutant(lambda m: m.update(scales=list(reversed(m["scales"]))))
    mutant(lambda m: m["scales"].__setitem__(0, "0"))
    mutant(lambda m: m["scales"].__setitem__(1, m["scales"][0]))
    mutant(lambda m: m.update(neurons=[1]))
    mutant(lambda m: m.update(neurons=[]))
    mutant(lambda m: m.update(direction=["0", "0", "0"]))
    mutant(lambda m: m.update(direction=["-1", "0", "1"]))
    mutant(lambda m: m.update(model_sha256="0" * 64))
    mutant(lambda m: m["model"]["norm"].update(alpha="1/3"))                       # the hash no longer matches
    mutant(lambda m: _rehash(m["model"]["norm"].update(alpha="-1/2") or m))        # rehashed: the signs change
    mutant(lambda m: _rehash(m["model"].update(w_out=[["0"] * 4] * 3) or m))       # rehashed: no map changes
    mutant(lambda m: m.update(kind="path"))                                        # the path checker refuses DyT
    for mutant in mutants:
        verdict = check_certificate(mutant)
        assert not verdict.accepted, (mutant.get("patterns"), mutant.get("scales"), verdict.message)


def test_classic_models_are_refused_by_the_dyt_kind(tmp_path):
    cert = _certificate(tmp_path, "1,0,-1")
    from geomcheck.io import block_to_dict, model_sha256

    block = load_model("toy:circle3-noln")
    cert["model"] = block_to_dict(block)
    cert["model_sha256"] = model_sha256(block)
    verdict = check_certificate(cert)
    assert not verdict.accepted and "dyt" in verdict.message


@pytest.mark.parametrize("alpha", ["1/2", "2", "-1"])
def test_dyt_model_hash_matches_io(alpha):
    from geomcheck.io import block_to_dict, model_sha256

    block = load_model(f"toy:dyt3?alpha={alpha}")
    assert canonical_model_sha256(block_to_dict(block)) == model_sha256(block)
