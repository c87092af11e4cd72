"""The study's exact engines on small blocks, against independent exact evaluations."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import assume, given, settings, strategies as st

from geomcheck.exact.quadratic import rational_between
from geomcheck.exact.bulk import fold_rows
from geomcheck.model import MLPBlock, make_normalization
from geomcheck.studies.study import ExactLayer
from tests.strategies import blocks, vectors

EPS = st.sampled_from([Fraction(0), Fraction(1, 10), Fraction(1, 1000), Fraction(3)])


def non_constant(v):
    return len(set(v)) > 1


@settings(max_examples=40)
@given(st.integers(3, 5).flatmap(lambda d: st.tuples(blocks(norm="layernorm", d=d, gamma_beta=True), vectors(d), vectors(d))), EPS)
def test_path_changes_against_exact_signs_between_them(data, eps):
    block, x, v = data
    block = MLPBlock(block.w_in, block.b_in, block.w_out, block.b_out,
                     make_normalization("layernorm", eps, block.norm.gamma, block.norm.beta), block.activation)
    assume(non_constant(x) and non_constant(v))
    res = ExactLayer(block).paths([(x, v)])[0]
    point = lambda lam: tuple(a + lam * b for a, b in zip(x, v))  # noqa: E731
    if eps == 0:
        # the path must avoid span(1): x + λv constant for some λ > 0 makes z undefined
        assume(all(block.norm.center(point(Fraction(k, 7))) != (0,) * block.d for k in range(1, 50)))
    if res.first is None:
        assert res.changes == 0
        return
    start = block.signs_at_input(point(rational_between(Fraction(0), res.first)))
    end = block.signs_at_input(point(res.last.enclosure(16)[1] + 1))
    flipped = {i for i, (a, b) in enumerate(zip(start, end)) if a != b}
    for i in range(block.n):
        assert res.neurons.count(i) % 2 == (i in flipped)


@settings(max_examples=40)
@given(st.integers(3, 5).flatmap(lambda d: st.tuples(blocks(norm="layernorm", d=d, gamma_beta=True), vectors(d))),
       st.sampled_from([Fraction(1, 10), Fraction(1, 1000), Fraction(2)]))
def test_ray_threshold_separates_scales(data, eps):
    block, v = data
    assume(non_constant(v))
    block = MLPBlock(block.w_in, block.b_in, block.w_out, block.b_out,
                     make_normalization("layernorm", eps, block.norm.gamma, block.norm.beta), block.activation)
    ray = ExactLayer(block).rays([v])[0]
    far = block.signs_at_input(tuple(Fraction(10**6) * c for c in v))
    if ray.max_r2 is None:
        near = block.signs_at_input(tuple(Fraction(1, 10**6) * c for c in v))
        assert near == far  # nothing flips along the ray
        return
    # pick rational t above/below the exact threshold: compare t²·S with max r² exactly
    s = ray.centred_norm2
    t_hi = Fraction(1)
    while t_hi * t_hi * s <= ray.max_r2:
        t_hi *= 2
    t_lo = Fraction(1)
    while t_lo * t_lo * s >= ray.max_r2:
        t_lo /= 2
    assert block.signs_at_input(tuple(t_hi * c for c in v)) == far
    assert block.signs_at_input(tuple(t_lo * c for c in v)) != far


@settings(max_examples=40)
@given(st.integers(3, 5).flatmap(lambda d: st.tuples(blocks(norm="layernorm", d=d, gamma_beta=True), vectors(d))))
def test_nonorm_rays_against_the_folded_no_norm_block(data):
    block, v = data
    assume(any(v))
    layer = ExactLayer(block)
    res = layer.nonorm_rays([v])[0]
    w, b = fold_rows(block.w_in, block.b_in, block.norm.gamma, block.norm.beta, False)
    plain = MLPBlock(w, b, block.w_out, block.b_out, make_normalization("none"), block.activation)
    crossings = sorted({-bi / sum(wi * c for wi, c in zip(row, v)) for row, bi in zip(w, b)
                        if sum(wi * c for wi, c in zip(row, v)) != 0 and -bi / sum(wi * c for wi, c in zip(row, v)) > 0})
    assert res.regions == len(crossings) + 1
    # sample one t per region: each consecutive pair of samples differs exactly by the neurons crossing in between
    samples = [crossings[0] / 2] if crossings else [Fraction(1)]
    samples += [(a + b_) / 2 for a, b_ in zip(crossings, crossings[1:])] + ([crossings[-1] + 1] if crossings else [])
    patterns = [plain.signs_at_input(tuple(t * c for c in v)) for t in samples]
    changes = sum(sum(1 for a, c in zip(p, q) if a != c) for p, q in zip(patterns, patterns[1:]))
    assert changes == res.flips


@settings(max_examples=30)
@given(st.integers(3, 5).flatmap(lambda d: st.tuples(blocks(norm="layernorm", d=d, gamma_beta=True), vectors(d), vectors(d))),
       st.sampled_from([Fraction(1, 10), Fraction(1, 1000)]))
def test_study_paths_agree_with_the_path_engine(data, eps):
    """Two independent engines: the study's batch counter and geomcheck.search.paths."""
    from geomcheck.geometry.paths import PathSpec
    from geomcheck.search.paths import analyse_path_fast

    block, x, v = data
    assume(non_constant(x) and non_constant(v))
    block = MLPBlock(block.w_in, block.b_in, block.w_out, block.b_out,
                     make_normalization("layernorm", eps, block.norm.gamma, block.norm.beta), block.activation)
    mine = ExactLayer(block).paths([(x, v)])[0]
    theirs = analyse_path_fast(block, PathSpec.superposition(x, v))
    segments = theirs.segments
    changes = sum(sum(1 for p, q in zip(s.pattern, t.pattern) if p != q) for s, t in zip(segments, segments[1:]))
    assert mine.changes == changes
    flipping = [c.at for c in theirs.crossings
                if any(s.pattern[i] != t.pattern[i] for i in c.neurons
                       for s, t in [(segments[theirs.crossings.index(c)], segments[theirs.crossings.index(c) + 1])])]
    assert (mine.first is None) == (not flipping)
    if flipping:
        assert mine.first == flipping[0]
