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


# ---------------------------------------------------------------------------
# Import contracts for the whole package (STYLE.md "Import contracts worth a test").
# Every import counts, module-level or inside a function: a lazy import is still an arrow.

def _module_name(path: Path) -> str:
    name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def all_imports(path: Path) -> set[str]:
    """Every absolute import in a file, with ``from a import b`` also naming ``a.b``."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def internal_graph() -> dict[str, set[str]]:
    return {name: {m for m in all_imports(path) if m in MODULES and m != name} for name, path in MODULES.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative): the components with more than one module are the cycles."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_no_import_cycles():
    assert strongly_connected(internal_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]


def _package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


# (importer package, forbidden packages): loaders read files and never search; search never
# reaches back to loaders, commands or drivers; nothing below the API imports the CLI.
FORBIDDEN_ARROWS = [
    ("io", {"search", "api", "cli", "studies", "plots", "claims", "certify"}),
    ("search", {"io", "api", "cli", "studies", "claims"}),
    ("certify", {"api", "cli", "studies"}),  # builders read the exchange format (io.modelfile)
    ("api", {"cli"}),
    ("studies", {"cli"}),
    ("plots", {"cli", "api", "studies"}),
]


PENDING_MOVE: set = set()  # modules on their way out of a package whose contract they break


@pytest.mark.parametrize("importer,forbidden", FORBIDDEN_ARROWS, ids=[a for a, _ in FORBIDDEN_ARROWS])
def test_forbidden_arrows(importer, forbidden):
    bad = sorted((name, m) for name, path in MODULES.items() if _package_of(name) == importer
                 and name not in PENDING_MOVE for m in all_imports(path) if m.startswith("geomcheck.") and _package_of(m) in forbidden)
    assert bad == []


def test_flint_only_in_the_backend():
    users = sorted(name for name, path in MODULES.items()
                   if any(m.split(".")[0] == "flint" for m in all_imports(path)))
    assert users == ["geomcheck.exact.backend"]


def test_error_classes_live_in_errors_py():
    """Every exception geomcheck raises on purpose is defined in errors.py; only private
    control-flow signals (leading underscore, never leaving their module) may live elsewhere."""
    outside = []
    for name, path in MODULES.items():
        if name == "geomcheck.errors" or name.startswith("geomcheck.checker"):  # the checker shares no code
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
                if any(b.endswith(("Error", "Exception", "Failed")) or b in {"InvalidInput", "DegenerateInput",
                                                                          "GeomcheckError", "MissingDependency"}
                       for b in bases):
                    outside.append(f"{name}.{node.name}")
    assert outside == []
