"""Cross-checks of the path engines: exact vs filtered, vs dense exact sampling, and properties."""

from __future__ import annotations

import random
from fractions import Fraction as F

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from geomcheck.exact.quadratic import QuadraticRoot
from geomcheck.geometry.paths import PathSpec, PathThroughUndefined, analyse_path
from geomcheck.io import load_model
from geomcheck.search.paths import analyse_path_fast
from tests.strategies import blocks, vectors


def summary(a):
    return ([(c.at.exact_form(), c.neurons, c.interval, c.map_changes) for c in a.crossings],
            [(s.witness, s.pattern) for s in a.segments], a.spec, a.endpoint_zeros, a.notes)


def assert_identical(a, b):
    assert summary(a) == summary(b)
    assert a.polynomials == b.polynomials and a.critical_norms == b.critical_norms


def random_paths(block, rng, count):
    d = block.d
    for _ in range(count):
        x = tuple(F(rng.randint(-9, 9), rng.randint(1, 3)) for _ in range(d))
        v = tuple(F(rng.randint(-9, 9), rng.randint(1, 3)) for _ in range(d))
        yield from (PathSpec.ray(v), PathSpec.superposition(x, v), PathSpec.superposition(x, v, F(5, 2)),
                    PathSpec.arc(x, v))


CATALOGUE = ["toy:circle3", "toy:circle3-noln", "toy:circle3?eps=1/100", "toy:circle3?norm=rmsnorm",
             "toy:sphere4", "toy:sphere4-noln", "toy:sphere4?eps=1/7",
             "toy:random?d=5&n=24&seed=1", "toy:random?d=5&n=24&seed=2&norm=rmsnorm&eps=1/1000",
             "toy:random?d=5&n=24&seed=3&norm=none", "toy:random?d=7&n=40&seed=4&eps=1/10&activation=gelu"]


@pytest.mark.parametrize("spec", CATALOGUE)
def test_filtered_equals_exact_on_catalogue(spec):
    block = load_model(spec)
    rng = random.Random(spec)
    for path in random_paths(block, rng, 6):
        try:
            exact = analyse_path(block, path)
        except PathThroughUndefined as exc:
            with pytest.raises(PathThroughUndefined) as again:
                analyse_path_fast(block, path)
            assert again.value.lam == exc.lam
            continue
        assert_identical(exact, analyse_path_fast(block, path))


def _sample_and_compare(block, analysis, steps):
    """Every exactly sampled pattern (through MLPBlock.signs_at_input, not the path polynomials) equals
    the pattern of the segment it lies in; with steps finer than the gaps, every crossing that changes
    the pattern is seen between two neighbouring samples."""
    spec = analysis.spec
    last = analysis.crossings[-1].interval[1] if analysis.crossings else F(1)
    end = spec.end if spec.end is not None else 2 * last + 1
    start = spec.start
    step = (end - start) / steps
    crossings = analysis.crossings
    previous = None
    for j in range(1, steps):
        lam = start + j * step
        pattern = block.pattern_at_input(spec.point(lam))
        k = sum(1 for c in crossings if c.at < lam)
        if any(c.at == lam for c in crossings):
            continue
        assert pattern == analysis.segments[k].pattern, (lam, k)
        if previous is not None and previous[1] != pattern:
            # a sampled sign change lies within one step of an exact crossing
            assert any(previous[0] < c.at < lam for c in crossings)
        previous = (lam, pattern, k)
    return step


@pytest.mark.parametrize("norm, eps", [("none", "0"), ("layernorm", "0"), ("layernorm", "1/10"),
                                       ("layernorm", "1/1000"), ("rmsnorm", "0"), ("rmsnorm", "1/20")])
def test_dense_sampling_agrees(norm, eps):
    spec = f"toy:random?d=4&n=12&seed=7&norm={norm}" + (f"&eps={eps}" if norm != "none" else "")
    block = load_model(spec)
    rng = random.Random(spec)
    seen = 0
    for path in random_paths(block, rng, 3):
        try:
            analysis = analyse_path(block, path)
        except PathThroughUndefined:
            continue
        # fine enough: step below the smallest gap between crossings and segment ends
        points = [float(c.at) for c in analysis.crossings]
        gaps = [b - a for a, b in zip(points, points[1:])] or [1.0]
        span = float((path.end if path.end is not None else 2 * analysis.crossings[-1].interval[1] + 1
                      if analysis.crossings else F(1)) - path.start)
        steps = min(4000, max(200, int(3 * span / max(min(gaps), span / 4000)) + 1))
        _sample_and_compare(block, analysis, steps)
        # every crossing that changes the pattern is seen: count pattern changes between segments
        seen += sum(1 for a, b in zip(analysis.segments, analysis.segments[1:]) if a.pattern != b.pattern)
    assert seen > 0 or norm == "layernorm"


# --- properties -------------------------------------------------------------------------------------------

def _nonconstant(v):
    return any(c != v[0] for c in v)


@given(blocks(norm="layernorm", eps=F(0)), st.data())
def test_layernorm_eps0_every_ray_is_constant(block, data):
    v = data.draw(vectors(block.d))
    assume(_nonconstant(v))
    for engine in (analyse_path, analyse_path_fast):
        a = engine(block, PathSpec.ray(v))
        assert a.verdict == "constant"
        assert all(b == 0 and c == 0 for _, b, c in a.polynomials)


def _shift(root: QuadraticRoot, scale: F, offset: F) -> QuadraticRoot:
    """offset + scale·root, exactly."""
    return QuadraticRoot(offset + scale * root.p, scale * root.q, root.D, root.poly)


@given(blocks(), st.data())
def test_reversing_an_arc_reverses_the_crossings(block, data):
    x, y = data.draw(vectors(block.d)), data.draw(vectors(block.d))
    try:
        forward = analyse_path(block, PathSpec.arc(x, y))
        backward = analyse_path_fast(block, PathSpec.arc(y, x))
    except PathThroughUndefined:
        return
    assert [c.neurons for c in forward.crossings] == [c.neurons for c in reversed(backward.crossings)]
    assert all(c.at == _shift(r.at, F(-1), F(1)) for c, r in zip(forward.crossings, reversed(backward.crossings)))
    assert [s.pattern for s in forward.segments] == [s.pattern for s in reversed(backward.segments)]


@given(blocks(), st.data(), st.builds(F, st.integers(1, 20), st.integers(1, 7)))
def test_scaling_the_direction_divides_lambda(block, data, c):
    x, v = data.draw(vectors(block.d)), data.draw(vectors(block.d))
    assume(any(v))
    try:
        a = analyse_path(block, PathSpec.superposition(x, v))
        b = analyse_path_fast(block, PathSpec.superposition(x, tuple(c * t for t in v)))
    except PathThroughUndefined:
        return
    assert [r.neurons for r in a.crossings] == [r.neurons for r in b.crossings]
    assert all(s.at == _shift(r.at, 1 / c, F(0)) for r, s in zip(a.crossings, b.crossings))
    assert [s.pattern for s in a.segments] == [s.pattern for s in b.segments]


@given(blocks(norm="layernorm"), st.data(), st.builds(F, st.integers(-9, 9), st.integers(1, 4)),
       st.builds(F, st.integers(-9, 9), st.integers(1, 4)))
def test_layernorm_ignores_the_all_ones_vector(block, data, s, t):
    x, v = data.draw(vectors(block.d)), data.draw(vectors(block.d))
    assume(_nonconstant(v))
    try:
        a = analyse_path(block, PathSpec.superposition(x, v))
    except PathThroughUndefined:
        return
    b = analyse_path(block, PathSpec.superposition(tuple(q + s for q in x), tuple(q + t for q in v)))
    assert [(r.at.exact_form(), r.neurons, r.map_changes) for r in a.crossings] == \
        [(r.at.exact_form(), r.neurons, r.map_changes) for r in b.crossings]
    assert a.segments == b.segments


@given(blocks(), st.data())
def test_filtered_equals_exact_on_random_blocks(block, data):
    x, v = data.draw(vectors(block.d)), data.draw(vectors(block.d))
    kind = data.draw(st.sampled_from(PATH_KINDS))
    assume(any(v) or kind == "arc")
    assert_engines_agree(block, path_of_kind(kind, x, v))


PATH_KINDS = ["ray", "sup", "max", "arc"]


def path_of_kind(kind: str, x, v) -> PathSpec:
    """The ray through v, x + λv (λ ≥ 0, or λ ∈ [0, 3]), or the arc from x to v."""
    return {"ray": lambda: PathSpec.ray(v), "sup": lambda: PathSpec.superposition(x, v),
            "max": lambda: PathSpec.superposition(x, v, F(3)), "arc": lambda: PathSpec.arc(x, v)}[kind]()


def assert_engines_agree(block, spec) -> None:
    """The filtered engine returns what the exact reference returns (paths through u = 0 are refused by both)."""
    try:
        exact = analyse_path(block, spec)
    except PathThroughUndefined:
        return
    assert_identical(exact, analyse_path_fast(block, spec))


@pytest.mark.parametrize("spec", ["toy:random?d=6&n=30&seed=1", "toy:random?d=6&n=30&seed=1&norm=none",
                                  "toy:random?d=6&n=30&seed=1&eps=1/10&norm=rmsnorm"])
def test_batch_estimates_match_exact_counts(spec):
    import numpy as np

    from geomcheck.search.paths import analyse_paths_batch

    block = load_model(spec)
    rng = np.random.default_rng(0)
    X = rng.integers(-5, 6, size=(40, 6)).astype(float)
    V = rng.integers(-5, 6, size=(40, 6)).astype(float)
    batch = analyse_paths_batch(block, X, V, chunk=16)
    assert batch.status == "estimate"
    for k in range(40):
        try:
            a = analyse_path(block, PathSpec.superposition([F(int(t)) for t in X[k]], [F(int(t)) for t in V[k]]))
        except PathThroughUndefined:
            continue
        assert batch.counts[k] == sum(len(c.neurons) for c in a.crossings if c.at > 0)
        first = [c for c in a.crossings if c.at > 0]
        assert (batch.first[k] == np.inf) if not first else abs(batch.first[k] - float(first[0].at)) < 1e-9


def test_filtered_equals_exact_with_the_bulk_digit_product(monkeypatch):
    """The many-candidates route (one exact float64 digit product over the rows) gives the same answers."""
    import geomcheck.search.exactrows as rows
    import geomcheck.search.paths as fast

    monkeypatch.setattr(rows, "_BATCH_THRESHOLD", 0)
    block = load_model("toy:random?d=6&n=30&seed=9&eps=1/50")
    rng = random.Random(9)
    for path in random_paths(block, rng, 4):
        try:
            exact = analyse_path(block, path)
        except PathThroughUndefined:
            continue
        assert_identical(exact, fast.analyse_path_fast(block, path))


@pytest.mark.parametrize("norm, eps", [("layernorm", 1e-5), ("rmsnorm", 1e-6), ("layernorm", 0.0), ("none", 0.0)])
def test_filtered_equals_exact_on_float_weights(norm, eps):
    """Float64 weights read exactly (as real models are): the rigorous filter must still agree."""
    import numpy as np

    from geomcheck.model import MLPBlock, get_activation, make_normalization

    rng = np.random.default_rng(5)
    d, n = 12, 48
    W = rng.normal(size=(n, d)) / np.sqrt(d)
    block = MLPBlock(tuple(tuple(F(v) for v in row) for row in W.tolist()), tuple(F(v) for v in (rng.normal(size=n) * 0.3).tolist()),
                     tuple(tuple(F(v) for v in row) for row in rng.normal(size=(d, n)).tolist()), (F(0),) * d,
                     make_normalization(norm, F(eps)) if norm != "none" else make_normalization("none"),
                     get_activation("relu"))
    for _ in range(4):
        x = tuple(F(v) for v in rng.normal(size=d).tolist())
        v = tuple(F(v) for v in rng.normal(size=d).tolist())
        for path in (PathSpec.ray(v), PathSpec.superposition(x, v), PathSpec.arc(x, v)):
            exact = analyse_path(block, path)
            assert_identical(exact, analyse_path_fast(block, path))
            # the witnesses' patterns, recomputed through MLPBlock.signs_at_input (another route)
            for segment in exact.segments:
                assert block.pattern_at_input(path.point(segment.witness)) == segment.pattern
