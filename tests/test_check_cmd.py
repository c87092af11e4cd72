"""``geomcheck check``: exit codes, --model, --json, and no heavy libraries needed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from import_blocker import BLOCKER

from geomcheck.cli import main
from geomcheck.io import load_model
from certbuild import build_path_certificate

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def cert_file(tmp_path):
    cert = build_path_certificate(load_model("toy:circle3-noln"), (0, 0, 0), (1, 0, -1))
    path = tmp_path / "ray.json"
    path.write_text(json.dumps(cert))
    return path


def test_accepted_exits_zero(cert_file, capsys):
    assert main(["check", str(cert_file)]) == 0
    assert capsys.readouterr().out.startswith("accepted: path not-constant: 2 crossing(s)")


def test_rejected_exits_one_and_names_the_step(cert_file, capsys):
    cert = json.loads(cert_file.read_text())
    cert["segments"][1]["pattern"] = "++++"
    cert_file.write_text(json.dumps(cert))
    assert main(["check", str(cert_file)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("rejected: segments[1].pattern: ") and "+-+-" in out


def test_model_hash_is_compared(cert_file, capsys):
    assert main(["check", str(cert_file), "--model", "toy:circle3-noln", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["accepted"] is True and payload["results"][0]["kind"] == "path"
    assert main(["check", str(cert_file), "--model", "toy:circle3"]) == 1
    assert "different model" in capsys.readouterr().out


def test_unreadable_certificate_is_rejected(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["check", str(bad), str(tmp_path / "missing.json")]) == 1
    out = capsys.readouterr().out
    assert out.count("rejected: read: ") == 2




@pytest.mark.parametrize("entry", [
    "from geomcheck.cli import main; sys.exit(main(['check', CERT, '--model', 'toy:circle3-noln']))",
    "from geomcheck.checker.__main__ import main; sys.exit(main([CERT]))",
])
def test_check_runs_with_heavy_libraries_unimportable(cert_file, entry):
    code = textwrap.dedent(BLOCKER) + f"CERT = {str(cert_file)!r}\n" + entry + "\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stdout.startswith("accepted: path not-constant")
