"""Mutation testing of the checker: thousands of random changes to valid certificates.

Every mutated certificate must be rejected — or, when the mutation happens to
leave the claim true (a witness moved within its segment, an interval
shrunk around its crossing, a weight change that moves no crossing across a
witness), the claim is recomputed *outside the checker* by :func:`oracle`
(geomcheck.exact roots and geomcheck.model exact signs) and only then may the
acceptance stand. The checker never accepts on a tolerance, so neither does
the oracle: every comparison below is exact.
"""

from __future__ import annotations

import copy
import json
import random
from fractions import Fraction as F

import pytest

from geomcheck.checker import check_certificate
from geomcheck.exact.quadratic import QuadraticRoot
from geomcheck.io import block_from_dict, load_model, model_sha256
from geomcheck.certify.path import path_certificate
from geomcheck.geometry.paths import PathSpec, analyse_path
from certbuild import DEAD_COLUMN, TWIN_NEURONS, build_path_certificate, path_facts


def _engine(spec, path):
    """A certificate from the real exact path engine (geomcheck.geometry.paths + geomcheck.certify.path)."""
    block = block_from_dict(spec) if isinstance(spec, dict) else load_model(spec)
    return path_certificate(block, analyse_path(block, path))


def _cases():
    """(name, certificate): the real engine's output for every path shape, plus the test builder's."""
    z3 = (0, 0, 0)
    return [
        ("engine-noln-ray", _engine("toy:circle3-noln", PathSpec.ray((1, 0, -1)))),
        ("engine-ln-ray-constant", _engine("toy:circle3", PathSpec.ray((1, 0, -1)))),
        ("engine-eps-ray-critical", _engine("toy:circle3?eps=1/100", PathSpec.ray((1, 0, -1)))),
        ("engine-superposition", _engine("toy:circle3", PathSpec.superposition((1, 0, -1), (0, 1, -1)))),
        ("engine-superposition-max", _engine("toy:sphere4", PathSpec.superposition((1, 0, 0, -1), (0, 1, -1, 0), F(3)))),
        ("engine-arc-sphere4", _engine("toy:sphere4", PathSpec.arc((2, -1, 0, -1), (-1, 1, 2, -2)))),
        ("engine-random8-eps-ray", _engine("toy:random?d=8&n=32&seed=0&eps=1/1000",
                                           PathSpec.ray((1, 2, 3, 4, 5, 6, 7, 8)))),
        ("engine-rms-superposition", _engine("toy:random?d=4&n=6&seed=2&norm=rmsnorm",
                                             PathSpec.superposition((1, 2, 0, -1), (-2, 1, 1, 1)))),
        ("engine-dead-column", _engine(DEAD_COLUMN, PathSpec.ray((1, 0, -1)))),
        ("engine-twin-neurons", _engine(TWIN_NEURONS, PathSpec.superposition((1, 0, -1), (0, 1, -1)))),
        ("builder-noln-ray", build_path_certificate(load_model("toy:circle3-noln"), z3, (1, 0, -1))),
        ("builder-eps-ray-critical", build_path_certificate(load_model("toy:circle3?eps=1/100"), z3, (1, 0, -1),
                                                            critical_norms=True)),
    ]


CASES = _cases()


# ---------------------------------------------------------------------------
# the independent recomputation
def _q(text) -> F:
    if type(text) is int:  # JSON integers are exact too
        return F(text)
    if not isinstance(text, str):
        raise TypeError("not an exact rational")
    num, _, den = text.partition("/")
    return F(int(num), int(den or 1))


def oracle(cert) -> bool:
    """Whether ``cert`` states true facts, recomputed with geomcheck.exact / geomcheck.model."""
    try:
        if cert["format"] != "geomcheck.cert/1" or cert["kind"] != "path":
            return False
        block = block_from_dict(cert["model"])
        if model_sha256(block) != cert["model_sha256"]:
            return False
        spec = cert["path"]
        base = tuple(_q(x) for x in spec["base"])
        direction = tuple(_q(x) for x in spec["direction"])
        if len(base) != block.d or len(direction) != block.d:
            return False
        start = _q(spec["start"])
        end = None if spec["end"] is None else _q(spec["end"])
        sc, ec = spec["start_closed"], spec["end_closed"]
        if not (isinstance(sc, bool) and isinstance(ec, bool)) or (end is None and ec) or (end is not None and end <= start):
            return False
        norm = block.norm
        if norm.scales and norm.eps == 0:
            # P·x(λ) = 0 somewhere in the domain?
            u0, u1 = norm.center(base), norm.center(direction)
            for k in range(block.d):
                if u1[k]:
                    lam = -u0[k] / u1[k]
                    if all(a + lam * b == 0 for a, b in zip(u0, u1)):
                        inside = (lam > start or (sc and lam == start)) and (end is None or lam < end or (ec and lam == end))
                        if inside:
                            return False
                    break
            else:
                if not any(u0):
                    return False
        points = path_facts(block, base, direction, start, end, sc, ec)
        segments, crossings = cert["segments"], cert["crossings"]
        if len(segments) != len(points) + 1 or len(crossings) != len(points):
            return False
        witnesses = []
        for k, seg in enumerate(segments):
            t = _q(seg["witness"])
            low = points[k - 1][0] if k else None
            high = points[k][0] if k < len(points) else None
            if not ((t > start or (sc and t == start)) and (end is None or t < end or (ec and t == end))):
                return False
            if (low is not None and not t > low) or (high is not None and not t < high):
                return False
            x = tuple(b + t * v for b, v in zip(base, direction))
            if seg["pattern"] != block.pattern_at_input(x):
                return False
            witnesses.append(t)
        for k, (crossing, (root, neurons)) in enumerate(zip(crossings, points)):
            lo, hi = (_q(v) for v in crossing["interval"])
            if len(crossing["interval"]) != 2 or not (witnesses[k] < lo <= hi < witnesses[k + 1]):
                return False
            if not (QuadraticRoot.rational(lo) <= root <= QuadraticRoot.rational(hi)):
                return False
            if crossing["neurons"] != sorted(neurons):
                return False
            change = block.map_changes(segments[k]["pattern"], segments[k + 1]["pattern"])
            if crossing["map_changes"] is not change:
                return False
        claim = cert["claim"]
        if claim.get("verdict") != ("constant" if not points else "not-constant"):
            return False
        if type(claim.get("crossings")) is not int or claim["crossings"] != len(points):
            return False
        if "critical_norms" in cert or "constant_above" in cert:
            if any(base) or start != 0 or end is not None or sc:
                return False
            scale = sum(c * c for c in norm.center(direction))
            # each flip point of a ray is ±√(rational): λ*² = p² + q²D when p = 0 or q = 0
            truth = {}
            for root, neurons in points:
                for i in neurons:
                    truth[i] = (root.p ** 2 + root.q ** 2 * root.D) * scale
            if "critical_norms" in cert:
                stated = {e["neuron"]: _q(e["squared_norm"]) for e in cert["critical_norms"]}
                if stated != truth or len(cert["critical_norms"]) != len(truth) or \
                        any(type(e["neuron"]) is not int for e in cert["critical_norms"]):
                    return False
            if "constant_above" in cert and _q(cert["constant_above"]) != max(truth.values(), default=F(0)):
                return False
        return True
    except Exception:  # a certificate the oracle cannot even read states nothing true
        return False


# ---------------------------------------------------------------------------
# mutations
def _rational_nudge(rng: random.Random, text: str) -> str:
    q = _q(text)
    choice = rng.randrange(6)
    if choice == 0:
        q += F(rng.choice([-1, 1]), rng.choice([1, 2, 3, 7, 1000, 10 ** 9]))
    elif choice == 1:
        q = -q
    elif choice == 2:
        q *= F(rng.choice([2, 3, 999]), rng.choice([1, 2, 1000]))
    elif choice == 3:
        q = F(rng.randint(-5, 5), rng.randint(1, 5))
    elif choice == 4:
        q = F(0)
    else:
        q += F(1, 2 ** rng.randint(20, 60))  # a change no float tolerance would notice
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def _rehash(cert):
    """Keep the hash consistent after a model mutation, so the change is judged on its mathematics."""
    try:
        cert["model_sha256"] = model_sha256(block_from_dict(cert["model"]))
    except Exception:
        pass


def _mutate(rng: random.Random, cert: dict) -> tuple[str, dict]:
    m = copy.deepcopy(cert)
    crossings, segments = m["crossings"], m["segments"]
    ops = ["witness", "pattern", "map_changes", "verdict", "count", "hash", "kind", "format", "base",
           "direction", "weight", "weight", "start", "closed"]
    if crossings:
        ops += ["drop", "duplicate", "neuron", "neuron", "interval", "interval", "swap-crossings"]
    if "critical_norms" in m:
        ops += ["critical", "critical"]
    op = rng.choice(ops)
    if op == "witness":
        seg = rng.choice(segments)
        seg["witness"] = _rational_nudge(rng, seg["witness"])
    elif op == "pattern":
        seg = rng.choice(segments)
        i = rng.randrange(len(seg["pattern"]))
        seg["pattern"] = seg["pattern"][:i] + rng.choice("+-0".replace(seg["pattern"][i], "")) + seg["pattern"][i + 1:]
    elif op == "map_changes":
        c = rng.choice(crossings) if crossings else None
        if c is None:
            m["claim"]["verdict"] = "not-constant"
        else:
            c["map_changes"] = not c["map_changes"]
    elif op == "verdict":
        m["claim"]["verdict"] = {"constant": "not-constant", "not-constant": "constant"}[m["claim"]["verdict"]]
    elif op == "count":
        m["claim"]["crossings"] += rng.choice([-1, 1, 2])
    elif op == "hash":
        m["model_sha256"] = m["model_sha256"][:-1] + ("0" if m["model_sha256"][-1] != "0" else "1")
    elif op == "kind":
        m["kind"] = rng.choice(["sphere", "Path", "paths", ""])
    elif op == "format":
        m["format"] = rng.choice(["geomcheck.cert/2", "geomcheck.cert", None])
    elif op in ("base", "direction"):
        vec = m["path"][op]
        i = rng.randrange(len(vec))
        vec[i] = _rational_nudge(rng, vec[i])
    elif op == "weight":
        model = m["model"]
        key = rng.choice(["w_in", "b_in", "w_out", "b_out", "eps"])
        if key == "eps":
            model["norm"]["eps"] = rng.choice(["1/100", "0", "1/1000000000"])
        elif key in ("w_in", "w_out"):
            row = rng.choice(model[key])
            i = rng.randrange(len(row))
            row[i] = _rational_nudge(rng, row[i])
        else:
            i = rng.randrange(len(model[key]))
            model[key][i] = _rational_nudge(rng, model[key][i])
        if rng.random() < 0.8:
            _rehash(m)
    elif op == "start":
        if rng.random() < 0.5:
            m["path"]["start"] = _rational_nudge(rng, m["path"]["start"])
        else:
            m["path"]["end"] = rng.choice([None, "1", "1/2", "100", "3"])
    elif op == "closed":
        key = rng.choice(["start_closed", "end_closed"])
        m["path"][key] = not m["path"][key]
    elif op == "drop":
        k = rng.randrange(len(crossings))
        del crossings[k]
        if rng.random() < 0.7:
            del segments[k + rng.randrange(2)]
        m["claim"]["crossings"] = len(crossings) if rng.random() < 0.7 else m["claim"]["crossings"]
    elif op == "duplicate":
        k = rng.randrange(len(crossings))
        crossings.insert(k, copy.deepcopy(crossings[k]))
        if rng.random() < 0.7:
            segments.insert(k + 1, copy.deepcopy(segments[k + rng.randrange(2)]))
    elif op == "neuron":
        c = rng.choice(crossings)
        n = len(m["segments"][0]["pattern"])
        what = rng.randrange(4)
        if what == 0:
            c["neurons"] = [(i + rng.randrange(1, n)) % n for i in c["neurons"]]
        elif what == 1:
            c["neurons"] = sorted(set(c["neurons"]) | {rng.randrange(n)})
        elif what == 2:
            c["neurons"] = c["neurons"][1:]
        else:
            c["neurons"] = c["neurons"] + [rng.choice([n, -1, c["neurons"][0]])]
    elif op == "interval":
        c = rng.choice(crossings)
        j = rng.randrange(2)
        c["interval"][j] = _rational_nudge(rng, c["interval"][j])
    elif op == "swap-crossings":
        if len(crossings) >= 2:
            a, b = rng.sample(range(len(crossings)), 2)
            crossings[a], crossings[b] = crossings[b], crossings[a]
        else:
            crossings[0]["neurons"], m["claim"]["verdict"] = [], "constant"
    elif op == "critical":
        if rng.random() < 0.5 and m["critical_norms"]:
            e = rng.choice(m["critical_norms"])
            if rng.random() < 0.5:
                e["squared_norm"] = _rational_nudge(rng, e["squared_norm"])
            else:
                e["neuron"] = (e["neuron"] + 1) % len(segments[0]["pattern"])
        else:
            m["constant_above"] = _rational_nudge(rng, m["constant_above"])
    return op, m


def _run_mutations(count_per_case: int, seed: int, big_model_count: int | None = None):
    """``big_model_count`` caps the d = 8, n = 32 case, whose checks take ~30 ms each."""
    tally = {"rejected": 0, "accepted-true": 0}
    for name, cert in CASES:
        count = count_per_case if big_model_count is None or "random8" not in name else big_model_count
        assert check_certificate(cert).accepted, name
        assert oracle(cert), name  # the oracle agrees on the unmutated certificate
        rng = random.Random(f"{seed}-{name}")
        for _ in range(count):
            op, mutated = _mutate(rng, cert)
            verdict = check_certificate(mutated)
            if verdict.accepted:
                assert oracle(mutated), f"{name}: accepted a false certificate after {op!r}: {verdict.message}"
                tally["accepted-true"] += 1
            else:
                assert verdict.message.startswith("rejected: ")
                tally["rejected"] += 1
    return tally


def test_thousands_of_mutations_are_rejected_or_recomputed_true():
    tally = _run_mutations(450, seed=0, big_model_count=100)
    assert sum(tally.values()) == 450 * (len(CASES) - 1) + 100 >= 4000
    # most mutations break the claim; the ones that do not were recomputed true above
    assert tally["rejected"] > 0.8 * sum(tally.values()), tally


@pytest.mark.slow
def test_many_more_mutations():
    _run_mutations(10000, seed=1)


def test_true_mutations_are_accepted():
    """The other direction: moving a witness inside its segment keeps a true claim, and it is accepted."""
    for name, cert in CASES:
        m = copy.deepcopy(cert)
        for k, crossing in enumerate(m["crossings"]):
            lo = _q(crossing["interval"][0])
            w = _q(m["segments"][k]["witness"])
            mid = (lo + w) / 2  # still strictly between the previous crossing and this interval
            m["segments"][k]["witness"] = f"{mid.numerator}/{mid.denominator}"
        assert oracle(m), name
        assert check_certificate(m).accepted, name


# ---------------------------------------------------------------------------
# malformed certificates: rejected, never a crash
JUNK = [None, True, 1.5, -1, 10 ** 30, "x", "1/0", "", [], {}, [None], {"a": 1}, float("nan")]


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def test_malformed_certificates_are_rejected_never_crash():
    rng = random.Random(7)
    for name, cert in CASES:
        places = [p for p in _paths(cert) if p]
        for _ in range(150):
            m = copy.deepcopy(cert)
            where = rng.choice(places)
            parent = m
            for key in where[:-1]:
                parent = parent[key]
            if rng.random() < 0.4:
                if isinstance(parent, dict):
                    del parent[where[-1]]
                else:
                    parent.pop(where[-1])
            else:
                parent[where[-1]] = copy.deepcopy(rng.choice(JUNK))
            verdict = check_certificate(m)  # must not raise
            assert not verdict.accepted or oracle(m), f"{name}: {where} → accepted {verdict.message}"


def test_non_objects_are_rejected():
    for junk in JUNK + ["{}", json.dumps(CASES[0][1])]:
        verdict = check_certificate(junk)
        assert not verdict.accepted
