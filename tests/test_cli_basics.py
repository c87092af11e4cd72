"""The command line: help, version, model show, and one-line errors with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from geomcheck import __version__
from geomcheck.cli import _join_negative_values, main


def run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "geomcheck", *argv], capture_output=True, text=True, timeout=120)


def test_help_and_version():
    result = run("--help")
    assert result.returncode == 0 and "model" in result.stdout
    result = run("--version")
    assert result.returncode == 0 and __version__ in result.stdout


def test_model_show_json(capsys):
    assert main(["model", "show", "toy:circle3", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["d"] == 3 and payload["n"] == 4
    assert payload["norm"]["kind"] == "layernorm" and payload["activation"] == "relu"


def test_model_show_human(capsys):
    assert main(["model", "show", "toy:sphere4"]) == 0
    out = capsys.readouterr().out
    assert "d           4" in out and "5 neurons" in out


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["model", "show", "nope.json"], "not found"),
        (["model", "show", "toy:unknown"], "unknown toy"),
        (["model", "show"], "MODEL"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_errors_are_one_line_exit_2(argv, fragment):
    result = run(*argv)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_bad_json_model_file_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "geomcheck.mlp/1", "w_in": [["1", "NaN"]], "b_in": ["0"], "w_out": [["1"]], "b_out": ["0"]}')
    result = run("model", "show", str(bad))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "w_in[0][1]" in result.stderr


def test_negative_vector_values_are_joined():
    assert _join_negative_values(["path", "m", "--base", "-1,2,3", "--add", "1,-2"]) == [
        "path", "m", "--base=-1,2,3", "--add", "1,-2"]
    assert _join_negative_values(["--json", "-x"]) == ["--json", "-x"]
