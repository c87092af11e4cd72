"""Blocks read lazily from float arrays (MLPBlock.from_float_arrays) equal blocks of Fractions.

The lazy form keeps the float arrays and builds Fractions only where read; the
filtered engine reads the arrays directly (float fold with error bounds, exact
digit products from the mantissas). Every answer must be the one the eager
Fraction block gives.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction as F

import numpy as np
import pytest

from geomcheck.geometry.paths import PathSpec, PathThroughUndefined, analyse_path
from geomcheck.model import MLPBlock, get_activation, make_normalization
from geomcheck.search.exactrows import exact_folded_bias
from geomcheck.search.filter import filtered_signs_at_input
from geomcheck.search.paths import analyse_path_fast
from tests.test_paths_crosscheck import assert_identical


def _pair(norm: str, eps, d: int, n: int, seed: int, dtype=np.float32, spread: float = 0.0, gamma_beta=True):
    rng = np.random.default_rng(seed)
    W = (rng.normal(size=(n, d)) * np.exp2(rng.integers(-int(spread), int(spread) + 1, size=(n, d)))).astype(dtype)
    W = W.astype(np.float64)
    Wo = rng.normal(size=(d, n)).astype(dtype).astype(np.float64)
    Wo[:, 0] = 0.0  # a neuron that does not reach the output
    b = rng.normal(size=n).astype(dtype).astype(np.float64) * 0.3
    gamma = beta = None
    if gamma_beta and norm != "none":
        gamma = [F(v) for v in (1 + 0.1 * rng.normal(size=d)).astype(dtype).tolist()]
        beta = [F(v) for v in (0.1 * rng.normal(size=d)).astype(dtype).tolist()]

    def normalization():
        return make_normalization(norm, F(eps), gamma, beta) if norm != "none" else make_normalization("none")

    lazy = MLPBlock.from_float_arrays(W, b, Wo, np.zeros(d), normalization(), get_activation("relu"), "lazy")
    eager = MLPBlock(tuple(tuple(map(F, r)) for r in W.tolist()), tuple(map(F, b.tolist())),
                     tuple(tuple(map(F, r)) for r in Wo.tolist()), (F(0),) * d, normalization(),
                     get_activation("relu"), "eager")
    return lazy, eager, rng


@pytest.mark.parametrize("norm, eps", [("layernorm", 1e-5), ("rmsnorm", 1e-6), ("layernorm", 0.0), ("none", 0.0)])
@pytest.mark.parametrize("dtype, spread", [(np.float32, 0), (np.float64, 0), (np.float32, 40)])
def test_lazy_block_equals_eager_block(norm, eps, dtype, spread, monkeypatch):
    lazy, eager, rng = _pair(norm, eps, 10, 40, 3, dtype, spread)
    assert lazy.folded.weights == eager.folded.weights
    assert tuple(lazy.folded.bias) == tuple(eager.folded.bias)
    assert tuple(exact_folded_bias(lazy)) == tuple(eager.folded.bias)
    d = lazy.d
    probe = [F(v) for v in rng.normal(size=d).tolist()]
    probe_den = 1
    for v in probe:
        probe_den = probe_den * v.denominator // math.gcd(probe_den, v.denominator)
    probe_ints = [v.numerator * (probe_den // v.denominator) for v in probe]
    for i in range(lazy.n):
        assert lazy.folded.row_is_zero(i) == (not any(eager.folded.weights[i]))
        assert lazy.output_is_zero(i) == (not any(row[i] for row in eager.w_out))
        row = eager.folded.weights[i]
        if hasattr(lazy.folded.weights, "squared_norm"):  # the integer shortcuts equal the Fraction sums
            assert lazy.folded.weights.squared_norm(i) == sum((w * w for w in row), F(0))
            assert lazy.folded.weights.dot(i, probe_ints, probe_den) == sum((w * p for w, p in zip(row, probe)), F(0))
    for _ in range(3):
        x = tuple(F(v) for v in rng.normal(size=d).tolist())
        v = tuple(F(v) for v in rng.normal(size=d).tolist())
        assert filtered_signs_at_input(lazy, x).signs == eager.signs_at_input(x)
        for path in (PathSpec.ray(v), PathSpec.superposition(x, v), PathSpec.arc(x, v)):
            reference = analyse_path(eager, path)
            assert_identical(reference, analyse_path_fast(lazy, path))
            assert_identical(reference, analyse_path(lazy, path))


def test_bulk_and_per_row_integer_products_agree(monkeypatch):
    import geomcheck.search.exactrows as rows

    lazy, eager, _ = _pair("layernorm", 1e-5, 9, 30, 7, np.float64, 30)
    rng = random.Random(7)
    u = [rng.randint(-10**30, 10**30) for _ in range(9)]
    per_row = rows._make_row_form(lazy).dots([(u, 7)], range(30))
    monkeypatch.setattr(rows, "_BATCH_THRESHOLD", 0)
    bulk = rows._make_row_form(lazy).dots([(u, 7)], range(30))
    g = lazy.norm.gamma
    direct = {i: [sum((w * gg * F(a, 7) for w, gg, a in zip(eager.w_in[i], g, u)), F(0))] for i in range(30)}
    assert per_row == bulk == direct
    # on a centred vector the unfolded rows (with γ on the vector) and the folded rows agree
    centred = [9 * a - sum(u) for a in u]
    folded = rows._FoldedRows(eager).dots([(centred, 63)], range(30))
    assert rows._make_row_form(lazy).dots([(centred, 63)], range(30)) == folded
    monkeypatch.setattr(rows, "_BATCH_THRESHOLD", 10**9)
    assert rows._FoldedRows(eager).dots([(centred, 63)], range(30)) == folded


def test_extreme_exponents_in_one_row_fall_back_to_exact_rows():
    """A row holding 1e-300 and 1e300 spans 2000 binary orders: no digit matrix, per-row integers."""
    W = np.array([[1e-300, 1e300, -3.0], [1.0, 2.0, 3.5]])
    block = MLPBlock.from_float_arrays(W, np.array([0.5, -1.0]), np.ones((3, 2)), np.zeros(3),
                                       make_normalization("layernorm", F(1, 10**5)), get_activation("relu"))
    eager = MLPBlock(tuple(tuple(map(F, r)) for r in W.tolist()), (F(0.5), F(-1)), ((F(1),) * 2,) * 3, (F(0),) * 3,
                     make_normalization("layernorm", F(1, 10**5)), get_activation("relu"))
    rng = random.Random(1)
    for _ in range(10):
        x = tuple(F(rng.randint(-9, 9), rng.randint(1, 4)) for _ in range(3))
        v = tuple(F(rng.randint(-9, 9), rng.randint(1, 4)) for _ in range(3))
        for path in (PathSpec.ray(v), PathSpec.superposition(x, v), PathSpec.arc(x, v)):
            try:
                reference = analyse_path(eager, path)
            except PathThroughUndefined:
                continue
            assert_identical(reference, analyse_path_fast(block, path))


def test_blocks_pickle_without_their_derived_data():
    """A block sent to another process (Dask scans) travels with its weights; derived data is rebuilt."""
    import pickle

    lazy, eager, rng = _pair("layernorm", 1e-5, 6, 20, 11)
    x = tuple(F(v) for v in rng.normal(size=6).tolist())
    v = tuple(F(v) for v in rng.normal(size=6).tolist())
    path = PathSpec.superposition(x, v)
    for block in (lazy, eager):
        before = analyse_path_fast(block, path)  # fills block.data
        copy = pickle.loads(pickle.dumps(block))
        assert "float_arrays" not in copy.data
        assert_identical(before, analyse_path_fast(copy, path))
