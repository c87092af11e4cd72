"""Everything geomcheck produces is accepted, and every checker condition is needed.

* Accept-everything: the certificates of every bundled proof (``geomcheck prove``) and of random
  toy models (paths, sphere feasibility both ways, neuron kinds, counterexamples) are accepted.
* Each condition in turn: every ``require(...)`` and ``raise Rejected(...)`` in the checker is
  switched off (its condition replaced by ``True``, or the raise by ``pass``) by rewriting the
  module's source, and a corpus of valid, mutated and hostile certificates is re-checked: some
  verdict must change (a false certificate accepted, a true one rejected, or a rejection moved
  to another step). A condition whose removal changes nothing would be untested.
"""

from __future__ import annotations

import ast
import copy
import importlib
import json
import random
import sys
from fractions import Fraction as F
from pathlib import Path

import pytest

from geomcheck.checker import check_certificate
from geomcheck.claims import load_claims, run_claim
from geomcheck.io import load_model

CHECKER = Path(__file__).resolve().parents[1] / "geomcheck" / "checker"
ORDER = ["arith", "core", "path", "sphere", "cone"]  # dependency order


def _proof_certificates() -> list[dict]:
    certs = []
    for _, claim in load_claims():
        result = run_claim(claim)
        certs += [json.loads(json.dumps(c)) for c in result.certificates]
    return certs


def _random_toy_certificates(seed: int = 0) -> list[dict]:
    from geomcheck.certify.cone import counterexample_certificate
    from geomcheck.certify.path import path_certificate
    from geomcheck.certify.sphere import neurons_certificate, pattern_sphere_vs_space
    from geomcheck.geometry.paths import PathSpec, PathThroughUndefined, analyse_path
    from geomcheck.geometry.sphere import classify_neurons, sphere_of
    from geomcheck.search.counterexample import find_counterexample

    rng, certs = random.Random(seed), []
    for k in range(6):
        norm = ["layernorm", "rmsnorm", "none"][k % 3]
        block = load_model(f"toy:random?d=4&n=5&seed={k}&norm={norm}" + ("&eps=1/50" if k == 3 else ""))
        base, direction = [rng.randint(-3, 3) for _ in range(4)], [rng.randint(-3, 3) for _ in range(4)]
        for spec in (PathSpec.ray(direction), PathSpec.superposition(base, direction), PathSpec.arc(base, direction)):
            try:
                certs.append(path_certificate(block, analyse_path(block, spec)))
            except (PathThroughUndefined, ValueError):
                pass
        pattern = "".join(rng.choice("+-*") for _ in range(5))
        if norm != "none":
            for side in ("sphere", "space"):
                cert = pattern_sphere_vs_space(block, pattern)[side]["certificate"]
                certs += [cert] if cert is not None else []
            certs.append(neurons_certificate(block, classify_neurons(sphere_of(block))))
        else:
            found = find_counterexample(block)
            if found is not None:
                certs.append(counterexample_certificate(block, found))
    return [json.loads(json.dumps(c)) for c in certs]


@pytest.fixture(scope="module")
def produced() -> list[dict]:
    return _proof_certificates() + _random_toy_certificates()


def test_everything_geomcheck_produces_is_accepted(produced):
    kinds = {c["kind"] for c in produced}
    assert {"path", "sphere-feasible", "sphere-infeasible", "sphere-neurons", "circle-regions", "sphere-regions",
            "counterexample", "cone"} <= kinds, kinds
    for cert in produced:
        verdict = check_certificate(cert)
        assert verdict.accepted, (cert["kind"], verdict.message)


# --- each condition in turn ----------------------------------------------------------------------------------
def _mutants(cert: dict, rng: random.Random) -> list[dict]:
    """Small changes to every place of a valid certificate: most make it false."""
    out = []

    def places(obj, prefix=()):
        if isinstance(obj, dict):
            for key, value in obj.items():
                if prefix or key != "model":
                    yield from places(value, prefix + (key,))
        elif isinstance(obj, list):
            for i, value in enumerate(obj[:6]):
                yield from places(value, prefix + (i,))
        else:
            yield prefix

    for where in places(cert):
        parent = m = copy.deepcopy(cert)
        for key in where[:-1]:
            parent = parent[key]
        old = parent[where[-1]]
        if isinstance(old, bool):
            parent[where[-1]] = not old
        elif isinstance(old, int):
            parent[where[-1]] = old + rng.choice([-1, 1])
        elif isinstance(old, str) and set(old) <= set("+-0*") and old:
            i = rng.randrange(len(old))
            parent[where[-1]] = old[:i] + ("-" if old[i] == "+" else "+") + old[i + 1:]
        elif isinstance(old, str) and len(old) == 64:  # the model hash
            parent[where[-1]] = old[:-1] + ("0" if old[-1] != "0" else "1")
        elif isinstance(old, str) and old[:1] in "-0123456789":
            q = F(old) * rng.choice([2, -1]) + F(1, rng.choice([1, 3, 10**6]))
            parent[where[-1]] = f"{q.numerator}/{q.denominator}" if q.denominator > 1 else str(q.numerator)
        elif old is None:
            parent[where[-1]] = "1"
        else:
            continue
        out.append(m)
    return out


def _hostile() -> list:
    sys.path.insert(0, str(Path(__file__).parent))
    from test_checker_hostile import _inside_ball_bomb

    bomb = _inside_ball_bomb(60, 31)
    small = _inside_ball_bomb(6, 3)
    return [bomb, small, None, [], {"format": "geomcheck.cert/1"}, {"format": "x", "kind": "path"}]


@pytest.fixture(scope="module")
def corpus(produced) -> list:
    rng = random.Random(5)
    seen, valid = set(), []
    for cert in produced:  # one or two valid certificates of each kind and model shape
        key = (cert["kind"], cert["model"]["norm"]["kind"], len(cert["model"]["w_in"][0]), json.dumps(cert.get("claim"))[:30])
        if key not in seen:
            seen.add(key)
            valid.append(cert)
    out = list(valid)
    for cert in valid:
        out += _mutants(cert, rng)
    minimal = [c for c in produced if c["kind"] == "counterexample"][0]
    relabel = copy.deepcopy(minimal)
    relabel["model"]["activation"] = "identity"
    detached = {k: v for k, v in valid[0].items() if k != "model"}
    ray = next(c for c in valid if c["kind"] == "path")
    typed = []  # the number reader's own conditions: not a list, wrong length, huge int, float, too long, a quote
    for value in ("0", ray["path"]["base"][:-1], [7 ** 20000] + ray["path"]["base"][1:], [0.5] + ray["path"]["base"][1:],
                  ["1/" + "3" * 5000] + ray["path"]["base"][1:], ['1","2'] + ray["path"]["base"][1:]):
        typed.append(dict(ray, path=dict(ray["path"], base=value)))
    return out + _hostile() + typed + [relabel, detached, dict(valid[0], extra=1)]


def _verdicts(corpus) -> list[str]:
    core = sys.modules["geomcheck.checker.core"]
    core._CACHE.clear()
    return [core.check_certificate(c).message[:160] for c in corpus]


class _Switch(ast.NodeTransformer):
    """Disable the k-th condition (in source order) of a module."""

    def __init__(self, k: int):
        self.k, self.seen = k, -1

    def visit_FunctionDef(self, node):
        # require's own body is the mechanism every condition goes through, not a condition
        return node if node.name == "require" else self.generic_visit(node)

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "require":
            self.seen += 1
            if self.seen == self.k:
                node.args[0] = ast.Constant(True)
        return node

    def visit_Raise(self, node):
        self.generic_visit(node)
        if isinstance(node.exc, ast.Call) and getattr(node.exc.func, "id", "") == "Rejected":
            self.seen += 1
            if self.seen == self.k:
                return ast.Pass()
        return node


def _load(names: list[str], patched: dict[str, str] | None = None) -> None:
    for name in names:
        module = importlib.import_module(f"geomcheck.checker.{name}")
        source = (patched or {}).get(name) or (CHECKER / f"{name}.py").read_text()
        exec(compile(source, str(CHECKER / f"{name}.py"), "exec"), module.__dict__)


@pytest.mark.slow
def test_every_condition_is_needed(corpus):
    baseline = _verdicts(corpus)
    assert sum(m.startswith("accepted") for m in baseline) >= 10
    uncaught = []
    try:
        for pos, name in enumerate(ORDER):
            tree = ast.parse((CHECKER / f"{name}.py").read_text())
            counter = _Switch(10**9)
            counter.visit(tree)
            for k in range(counter.seen + 1):
                patched = ast.fix_missing_locations(_Switch(k).visit(ast.parse((CHECKER / f"{name}.py").read_text())))
                _load(ORDER[pos:], {name: ast.unparse(patched)})
                if _verdicts(corpus) == baseline:
                    uncaught.append(f"{name}.py condition #{k}")
    finally:
        _load(ORDER)
    assert _verdicts(corpus) == baseline
    assert not uncaught, f"{len(uncaught)} conditions change no verdict of the corpus: {uncaught}"
