"""The certified float order of a path (geomcheck.search.pathorder) and its lazily built exact forms.

A hand-derived RMSNorm case, property cross-checks against the exact reference engine on
random float-weight blocks, and the guards: a contradicting exact pipeline raises, an
undecided certification falls back, lazy crossings compare, print and pickle as eager ones.
"""

from __future__ import annotations

import dataclasses
import pickle
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import geomcheck.search.pathorder as pathorder
import geomcheck.search.paths as fast_paths
from geomcheck.exact.quadratic import QuadraticRoot
from geomcheck.geometry.paths import Crossing, PathSpec, analyse_path
from geomcheck.model import MLPBlock, get_activation, make_normalization
from geomcheck.search.paths import analyse_path_fast
from tests.test_paths_crosscheck import PATH_KINDS, assert_engines_agree, assert_identical, path_of_kind, summary


def _uses_certified_order(monkeypatch) -> list:
    """Record, per call of the filtered engine, whether the certified order answered."""
    outcomes = []
    original = fast_paths.certified_analysis

    def recorded(*args, **kwargs):
        result = original(*args, **kwargs)
        outcomes.append(result is not None)
        return result

    monkeypatch.setattr(fast_paths, "certified_analysis", recorded)
    return outcomes


def _hand_block():
    """d = 2, RMSNorm, ε = 0, γ = 1: h_i = √2·(w_i·u)/‖u‖ + b_i.

    On x(λ) = (0, 1) + λ·(1, 0): u = (λ, 1), ‖u‖² = λ² + 1.
    * neuron 0, w = (1, 0), b = −1/2: √2·λ = ½·√(λ² + 1) ⇔ 7λ² = 1, λ = 1/√7 (A = λ > 0: a zero of h);
    * neuron 1, w = (0, 1), b = −2: √2/√(λ² + 1) ≤ √2 < 2, always negative;
    * neuron 2, w = (1, 1), b = −9/5: 2(λ + 1)² = (81/25)(λ² + 1) ⇔ 31λ² − 100λ + 31 = 0,
      λ = (50 ∓ √1539)/31 ≈ 0.3474, 2.8784, both with A = λ + 1 > 0: it turns on, then off.
    """
    rows = ((F(1), F(0)), (F(0), F(1)), (F(1), F(1)))
    w_out = ((F(1), F(2), F(3)), (F(-1), F(1), F(0)))
    return MLPBlock(rows, (F(-1, 2), F(-2), F(-9, 5)), w_out, (F(0), F(0)),
                    make_normalization("rmsnorm", F(0)), get_activation("relu"), name="hand")


def test_hand_derived_rmsnorm_path_is_certified_and_exact(monkeypatch):
    outcomes = _uses_certified_order(monkeypatch)
    analysis = analyse_path_fast(_hand_block(), PathSpec.superposition((F(0), F(1)), (F(1), F(0))))
    assert outcomes == [True]
    # order, neurons and patterns are known before any exact form is built
    assert all(c.__dict__["_at"] is None for c in analysis.crossings)
    assert all(s.__dict__["_witness"] is None for s in analysis.segments)
    assert [c.neurons for c in analysis.crossings] == [(2,), (0,), (2,)]
    assert [s.pattern for s in analysis.segments] == ["---", "--+", "+-+", "+--"]
    assert analysis.flips == [(2,), (0,), (2,)] and all(c.map_changes for c in analysis.crossings)
    # the first read builds every exact form: the hand-derived roots
    expected = [QuadraticRoot(F(50, 31), F(-1, 31), F(1539), (F(31), F(-100), F(31))),
                QuadraticRoot(F(0), F(1, 7), F(7), (F(7), F(0), F(-1))),
                QuadraticRoot(F(50, 31), F(1, 31), F(1539), (F(31), F(-100), F(31)))]
    assert [c.at for c in analysis.crossings] == expected
    assert all(s.__dict__["_witness"] is not None for s in analysis.segments)
    for k, c in enumerate(analysis.crossings):
        lo, hi = c.interval
        assert analysis.segments[k].witness <= lo < c.at < hi <= analysis.segments[k + 1].witness
    assert_identical(analyse_path(_hand_block(), PathSpec.superposition((F(0), F(1)), (F(1), F(0)))), analysis)


def _float_block(seed: int, d: int, n: int, norm: str, eps: F) -> MLPBlock:
    rng = np.random.default_rng(seed)
    return MLPBlock.from_float_arrays(rng.normal(size=(n, d)) / np.sqrt(d), rng.normal(size=n) * 0.5,
                                      rng.normal(size=(3, n)), np.zeros(3), make_normalization(norm, eps),
                                      get_activation("relu"), name=f"float-{seed}")


@settings(deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["layernorm", "rmsnorm"]), st.sampled_from([F(0), F(1, 100000)]),
       st.sampled_from(PATH_KINDS))
def test_certified_order_equals_the_reference_on_float_blocks(seed, norm, eps, kind):
    block = _float_block(seed, 6, 40, norm, eps)
    rng = np.random.default_rng(seed + 1)
    x, v = (tuple(map(F, rng.normal(size=6).tolist())) for _ in range(2))
    assert_engines_agree(block, path_of_kind(kind, x, v))


def test_float_blocks_mostly_take_the_certified_order(monkeypatch):
    """The property above must exercise the certified order, not only the fallback."""
    outcomes = _uses_certified_order(monkeypatch)
    crossings = 0
    for seed in range(30):
        block = _float_block(seed, 6, 40, "layernorm", F(1, 100000))
        rng = np.random.default_rng(seed + 1)
        x, v = (tuple(map(F, rng.normal(size=6).tolist())) for _ in range(2))
        spec = PathSpec.superposition(x, v)
        fast = analyse_path_fast(block, spec)
        crossings += len(fast.crossings)
        assert summary(fast) == summary(analyse_path(block, spec))
    assert sum(outcomes) >= 25 and crossings > 100


def test_a_contradicting_exact_pipeline_raises():
    block = _hand_block()
    spec = PathSpec.superposition((F(0), F(1)), (F(1), F(0)))
    coef, notes = fast_paths.prepare_path(block, spec)
    candidate, constant_sign, lines = fast_paths._filter(block, spec, coef)
    other = analyse_path(block, PathSpec.superposition((F(0), F(1)), (F(1), F(0)), F(1, 2)))  # one crossing fewer
    lazy = pathorder.certified_analysis(block, spec, coef, candidate, constant_sign, lines, notes, lambda: other)
    assert [c.neurons for c in lazy.crossings] == [(2,), (0,), (2,)]
    with pytest.raises(pathorder.EngineDisagreement):
        lazy.crossings[0].at


def test_near_coincident_crossings_fall_back_to_the_exact_order(monkeypatch):
    """Two neurons whose crossings differ by 2⁻⁶⁰: no float interval separates them."""
    outcomes = _uses_certified_order(monkeypatch)
    rows = ((F(1), F(0)), (F(1), F(0)))
    block = MLPBlock(rows, (F(-1, 2), F(-1, 2) + F(1, 2**60)), ((F(1), F(1)),), (F(0),),
                     make_normalization("rmsnorm", F(0)), get_activation("relu"), name="near")
    spec = PathSpec.superposition((F(0), F(1)), (F(1), F(0)))
    fast = analyse_path_fast(block, spec)
    assert outcomes == [False]
    assert [c.neurons for c in fast.crossings] == [(1,), (0,)]  # the bias nearer 0 crosses first
    assert_identical(analyse_path(block, spec), fast)


def test_lazy_crossings_compare_print_and_pickle_as_eager_ones():
    block = _hand_block()
    spec = PathSpec.superposition((F(0), F(1)), (F(1), F(0)))
    lazy, eager = analyse_path_fast(block, spec), analyse_path(block, spec)
    assert lazy.crossings[0].__dict__["_at"] is None
    copy = pickle.loads(pickle.dumps(lazy.crossings[1]))
    assert type(copy) is Crossing and copy == eager.crossings[1] and eager.crossings[1] == lazy.crossings[1]
    assert dataclasses.asdict(lazy.segments[0]) == dataclasses.asdict(eager.segments[0])
    assert repr(lazy.crossings[2]) == repr(eager.crossings[2]) and repr(lazy.segments) == repr(eager.segments)
    assert lazy.to_json() == eager.to_json()
