"""The checker imports only the standard library and shares no code with the rest."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

from import_blocker import BLOCKER

CHECKER = Path(__file__).resolve().parents[1] / "geomcheck" / "checker"
ALLOWED_STDLIB = {"__future__", "fractions", "json", "math", "hashlib", "dataclasses", "typing", "sys", "argparse",
                  "re", "itertools", "operator", "bisect", "functools"}


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, 0
        elif isinstance(node, ast.ImportFrom):
            yield node.module or "", node.level


def test_checker_imports_only_stdlib_and_itself():
    files = sorted(CHECKER.rglob("*.py"))
    assert files
    for path in files:
        for name, level in _imports(path):
            if level > 0:
                continue  # relative import inside the checker package
            top = name.split(".")[0]
            if top == "geomcheck":
                assert name.startswith("geomcheck.checker"), f"{path.name} imports {name}: the checker shares no code"
            else:
                assert top in ALLOWED_STDLIB, f"{path.name} imports {name}"


def test_checker_runs_with_heavy_libraries_unimportable():
    """Block numpy, scipy, sympy, cvxpy, torch, flint at import time; the checker still loads."""
    code = BLOCKER + textwrap.dedent(
        """
        from geomcheck.checker import check_certificate
        print(check_certificate({'format': 'geomcheck.cert/1', 'kind': 'nope'}).accepted)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
