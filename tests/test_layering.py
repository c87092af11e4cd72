"""The trust boundary as a test (STYLE.md): trusted modules import nothing heavy.

Trusted = geomcheck.errors, geomcheck.exact, geomcheck.model, geomcheck.geometry
(and the checker, which has its own stricter test). They may import the
standard library and each other; python-flint only in exact/backend.py (the
one place that picks the backend). They never import geomcheck.search, io, cli.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "geomcheck"
TRUSTED = ["errors.py", "exact", "model", "geometry"]
FORBIDDEN_THIRD_PARTY = {"numpy", "scipy", "cvxpy", "torch", "sympy", "highspy", "transformers", "safetensors",
                         "matplotlib", "mpmath", "tqdm", "hypothesis", "transformer_lens", "flint"}
FORBIDDEN_INTERNAL = ("geomcheck.search", "geomcheck.io", "geomcheck.cli", "geomcheck.loaders", "geomcheck.api")
FLINT_ALLOWED = {PACKAGE / "exact" / "backend.py"}


def trusted_files() -> list[Path]:
    files = []
    for entry in TRUSTED:
        path = PACKAGE / entry
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(sorted(path.rglob("*.py")))
    return files


def imported_modules(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", trusted_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_trusted_module_imports(path):
    for name in imported_modules(path):
        top = name.split(".")[0]
        if top == "flint" and path in FLINT_ALLOWED:
            continue
        assert top not in FORBIDDEN_THIRD_PARTY, f"{path.name} imports {name}"
        assert not name.startswith(FORBIDDEN_INTERNAL), f"{path.name} imports {name}"
        if top != "geomcheck":
            assert top in sys.stdlib_module_names or top == "__future__", f"{path.name} imports non-stdlib {name}"


def test_the_walker_catches_a_bad_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy as np\nfrom scipy.optimize import linprog\n")
    assert imported_modules(bad) == ["numpy", "scipy.optimize"]
