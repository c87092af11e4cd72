"""``geomcheck prove``: bundled claims, claim statuses, certificates written and re-checked."""

from __future__ import annotations

import json

import geomcheck.claims.paths as path_claims
from geomcheck.claims import bundled_claim_files, load_claims, run_claim
from geomcheck.claims.symbolic import layernorm_symbols
from geomcheck.cli import main


def write_claims(tmp_path, *claims):
    path = tmp_path / "claims.json"
    path.write_text(json.dumps({"format": "geomcheck.claims/1", "claims": list(claims)}))
    return path


NOLN = {"name": "noln", "type": "path", "model": "toy:circle3-noln", "path": {"ray": "1,0,-1"},
        "expect": {"crossings": 2, "exact_crossings": ["1/2", "2"], "pairwise_distinct_maps": True}}


def test_bundled_claims_all_hold(tmp_path, capsys):
    assert len(bundled_claim_files()) >= 6
    assert main(["prove", "--json", "--out", str(tmp_path)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["all_hold"] is True
    names = {c["name"]: c for c in payload["claims"]}
    assert names["layernorm/scale-and-sign-invariance"]["evidence"] == "sympy"
    assert names["circle3/arc-partition-of-the-circle"]["status"] in ("pending", "proved")
    for claim in payload["claims"]:
        if claim["evidence"] == "sympy":  # a symbolic derivation holds, but no checker certificate backs it
            assert claim["status"] == "estimate" and claim["holds"] and not claim["checked"]
            continue
        # skipped: claims on trained weights (conftest sets GEOMCHECK_SKIP_MODEL_CLAIMS; tests/test_trained_claims.py)
        assert claim["status"] in ("proved", "pending", "skipped") and claim["holds"] == (claim["status"] == "proved")
        assert claim["checked"] == claim["holds"]
    # every written certificate is accepted by `geomcheck check` on its own
    files = sorted(str(p) for p in tmp_path.glob("*.json"))
    assert len(files) == payload["certificates"] == 62  # 15 + 1 + 1 + 2 + 16 paths, + 2 no-norm (07), + 1 arcs (02) + 2 gap + 2 region counts (08) + 20 gated (09)
    assert main(["check", *files]) == 0


def test_a_false_expectation_is_refuted(tmp_path, capsys):
    wrong = dict(NOLN, name="wrong", expect={"crossings": 1})
    assert main(["prove", str(write_claims(tmp_path, NOLN, wrong))]) == 1
    out = capsys.readouterr().out
    assert "wrong: refuted: ray 1,0,-1: crossings is 2, expected 1" in out
    assert "1 of 2 claims hold" in out


def test_an_exact_crossing_that_is_off_is_refuted():
    claim = dict(NOLN, expect={"exact_crossings": ["1/2", "201/100"]})
    result = run_claim(claim)
    assert result.status == "refuted" and "not at λ = 201/100" in result.detail


def test_a_rejected_certificate_is_an_error_not_a_proof(monkeypatch):
    real = path_claims.certify_path

    def corrupt(block, kind, vectors):
        cert = real(block, kind, vectors)
        cert["segments"][0]["pattern"] = "++++"
        return cert

    monkeypatch.setattr(path_claims, "certify_path", corrupt)
    result = run_claim(NOLN)
    assert result.status == "error" and not result.holds and "rejected: segments[0].pattern" in result.detail


def test_unknown_types_and_pending_claims(tmp_path, capsys):
    pending = {"name": "later", "type": "not-yet-built", "pending": "a future claim type", "model": "toy:circle3"}
    unknown = {"name": "typo", "type": "pth", "model": "toy:circle3"}
    assert run_claim(pending).status == "pending"
    assert run_claim(unknown).status == "error"
    # a file with only pending claims establishes nothing: not "all hold"
    assert main(["prove", str(write_claims(tmp_path, pending))]) == 1


def test_bad_claim_files_are_one_line_errors(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["prove", str(bad)]) == 2
    assert "geomcheck.claims/1" in capsys.readouterr().err
    assert main(["prove", str(tmp_path / "missing.json")]) == 2
    claim = dict(NOLN, expect={"crosings": 2})
    assert run_claim(claim).status == "error"


def test_bundled_files_parse():
    claims = load_claims()
    names = [c["name"] for _, c in claims]
    assert len(names) == len(set(names)) >= 8


def test_sympy_does_not_simplify_false_identities_to_zero():
    """The symbolic proof's steps have teeth: the same machinery rejects the false variants."""
    s = layernorm_symbols()
    sp, t, eps = s["sp"], s["t"], s["eps"]
    assert sp.simplify(s["var"](s["scaled"]) - t * s["var"](s["plain"])) != 0
    assert sp.simplify(s["mean"](s["scaled"]) - t ** 2 * s["mean"](s["plain"])) != 0
    assert sp.simplify(s["layernorm"](s["scaled"], eps) - s["layernorm"](s["plain"], eps)) != 0


def test_a_crashing_runner_is_one_failed_claim(monkeypatch, tmp_path, capsys):
    def boom(block, kind, vectors):
        raise ZeroDivisionError("engine bug")

    monkeypatch.setattr(path_claims, "certify_path", boom)
    symbolic = {"name": "sym", "type": "symbolic", "proof": "layernorm-invariance"}
    assert main(["prove", "--json", str(write_claims(tmp_path, NOLN, symbolic))]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert [(c["name"], c["status"]) for c in payload["claims"]] == [("noln", "error"), ("sym", "estimate")]
    assert "ZeroDivisionError: engine bug" in payload["claims"][0]["detail"]


def test_out_must_be_a_folder(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["prove", "--out", str(blocker / "sub"), str(write_claims(tmp_path, NOLN))]) == 2
    assert "--out" in capsys.readouterr().err
