"""The filtered engine's fast ordering: integer roots, certified float order, coincident roots.

Duplicated neurons and positive multiples of a neuron (row and bias scaled by c > 0
give q_i scaled by c², hence the same roots with different exact forms) make
exactly coincident crossings; nearby but distinct biases make near-coincident ones.
The filtered engine must return what the reference returns, field by field.
"""

from __future__ import annotations

import random
from fractions import Fraction as F

import geomcheck.search.exactrows as exactrows
import geomcheck.search.paths as fast_paths

from geomcheck.geometry.paths import PathSpec, analyse_path, neuron_zeros, path_coefficients
from geomcheck.model import MLPBlock, get_activation, make_normalization
from geomcheck.search.paths import _enclosed, _scaled_zeros, _ScaledPath, analyse_path_fast, exact_lines
from tests.test_paths_crosscheck import assert_identical


def _block(rows, biases, eps=F(1, 100), norm="layernorm"):
    d, n = len(rows[0]), len(rows)
    w_out = tuple(tuple(F((3 * j + k) % 5 - 2) for k in range(n)) for j in range(d))
    return MLPBlock(tuple(map(tuple, rows)), tuple(biases), w_out, tuple(F(0) for _ in range(d)),
                    make_normalization(norm, eps), get_activation("relu"), name="fastorder")


def _coincident_block(seed, d=5, base=6, scaled=True):
    rng = random.Random(seed)
    rows, biases = [], []
    for _ in range(base):
        rows.append([F(rng.randint(-9, 9), rng.randint(1, 4)) for _ in range(d)])
        biases.append(F(rng.randint(-6, 6), rng.randint(1, 3)) or F(1, 2))
    for k in range(base):
        c = F(rng.randint(1, 7), rng.randint(1, 5))
        if scaled:
            rows.append([c * w for w in rows[k]])  # scaled copy: same roots, other exact form
            biases.append(c * biases[k])
        rows.append(list(rows[k]))  # exact duplicate
        biases.append(biases[k])
        rows.append(list(rows[k]))  # near-duplicate: bias moved by 2^-60, below float resolution
        biases.append(biases[k] + F(1, 2**60))
    return _block(rows, biases)


def _paths(d, rng, count):
    for _ in range(count):
        x = tuple(F(rng.randint(-9, 9), rng.randint(1, 3)) for _ in range(d))
        v = tuple(F(rng.randint(-9, 9), rng.randint(1, 3)) for _ in range(d))
        yield from (PathSpec.superposition(x, v), PathSpec.arc(x, v), PathSpec.superposition(x, v, F(7, 3)))


def _count_fallbacks(monkeypatch) -> list:
    """Record each time the filtered engine falls back to the reference grouping."""
    calls = []
    reference = fast_paths.assemble_analysis

    def counted(*args, **kwargs):
        calls.append(1)
        return reference(*args, **kwargs)

    monkeypatch.setattr(fast_paths, "assemble_analysis", counted)
    return calls


def test_coincident_and_near_coincident_roots_match_reference(monkeypatch):
    fallbacks = _count_fallbacks(monkeypatch)
    grouped = 0
    for seed in range(4):
        block = _coincident_block(seed)
        rng = random.Random(seed)
        for spec in _paths(block.d, rng, 4):
            exact = analyse_path(block, spec)
            assert_identical(exact, analyse_path_fast(block, spec))
            grouped += sum(len(c.neurons) > 1 for c in exact.crossings)
    assert grouped > 0  # the data really has simultaneous crossings
    assert fallbacks  # and coincident roots are sent to the exact grouping


def test_duplicated_neurons_are_grouped_without_fallback(monkeypatch):
    fallbacks = _count_fallbacks(monkeypatch)
    grouped = 0
    for seed in range(4):
        block = _coincident_block(seed, scaled=False)
        rng = random.Random(seed)
        for spec in _paths(block.d, rng, 4):
            exact = analyse_path(block, spec)
            fast = analyse_path_fast(block, spec)
            assert_identical(exact, fast)
            grouped += sum(len(c.neurons) > 1 for c in fast.crossings)
    assert grouped > 0
    assert not fallbacks  # equal roots written alike are grouped by the certified clusters


def test_distinct_roots_take_the_certified_order_and_match_reference(monkeypatch):
    fallbacks = _count_fallbacks(monkeypatch)
    rng = random.Random(11)
    d, n = 6, 40
    rows = [[F(rng.randint(-20, 20), rng.randint(1, 7)) for _ in range(d)] for _ in range(n)]
    biases = [F(rng.randint(-9, 9) or 1, rng.randint(1, 5)) for _ in range(n)]
    block = _block(rows, biases, eps=F(1, 10**5))
    crossings = 0
    for spec in _paths(d, rng, 6):
        exact = analyse_path(block, spec)
        assert_identical(exact, analyse_path_fast(block, spec))
        crossings += len(exact.crossings)
    assert crossings > 20
    assert not fallbacks  # every path went through the certified float order


def test_integer_roots_and_enclosures_equal_the_reference_forms():
    rng = random.Random(5)
    d, n = 4, 30
    rows = [[F(rng.randint(-20, 20), rng.randint(1, 7)) for _ in range(d)] for _ in range(n)]
    biases = [F(rng.randint(-9, 9) or 1, rng.randint(1, 5)) for _ in range(n)]
    block = _block(rows, biases, eps=F(1, 3))
    checked = 0
    for spec in _paths(d, rng, 5):
        coef = path_coefficients(block, spec)
        lines = exact_lines(block, coef, range(n))
        scaled = _ScaledPath(coef)
        for i in range(n):
            fast = _scaled_zeros(spec, scaled, *lines[i], block.folded.bias[i])
            reference = neuron_zeros(spec, coef, *lines[i], block.folded.bias[i])
            if fast is None:
                continue
            assert [(r.p, r.q, r.D, r.poly) for r, _, _ in fast] == [(r.p, r.q, r.D, r.poly) for r in reference]
            for root, value, err in fast:
                lo, hi = root.enclosure(64)
                item = _enclosed(root)
                assert (item.lo, item.hi) == (lo, hi)
                assert F(value - err) <= lo and hi <= F(value + err)  # the float bound is rigorous here
                checked += 1
    assert checked > 20


def test_batched_digit_products_equal_integer_dots():
    """The float64 digit products give exactly the integer dot products (float weights, long integers)."""
    rng = random.Random(8)
    d, n = 24, 130
    rows = [[F(rng.gauss(0, 1)) for _ in range(d)] for _ in range(n)]
    biases = [F(rng.gauss(0, 1)) for _ in range(n)]
    block = _block(rows, biases, eps=F(1e-5))
    x = tuple(F(rng.gauss(0, 1)) for _ in range(d))
    v = tuple(F(rng.gauss(0, 1)) * 2**40 for _ in range(d))  # long integers on the vector side too
    coef = path_coefficients(block, PathSpec.superposition(x, v))
    form = exactrows._FoldedRows(block)
    neurons = list(range(0, n, 2)) + [n - 1]
    batched = form._bulk([list(coef.u0_int), list(coef.w_int)], neurons)
    for i in neurons:
        row, _ = form.integer_row(i)
        assert batched[i] == [sum(a * b for a, b in zip(row, coef.u0_int)), sum(a * b for a, b in zip(row, coef.w_int))]
    assert max(abs(a).bit_length() for a, _ in batched.values()) > 60  # beyond one float's exact range


def test_certified_groups_with_wide_and_unknown_bounds():
    """Intervals of any width (even unknown: err = ∞) give the exact order and grouping."""
    from geomcheck.exact.quadratic import QuadraticRoot, real_roots

    rng = random.Random(3)
    for _ in range(50):
        items = []
        for i in range(12):
            a, b, c = F(rng.randint(1, 5)), F(rng.randint(-20, 20)), F(rng.randint(-30, 0))
            roots = real_roots(a, b, c) if rng.random() < 0.7 else [QuadraticRoot.rational(F(rng.randint(-9, 9), 4))]
            root = rng.choice(roots)
            lo, hi = root.enclosure(64)
            value = float((lo + hi) / 2)
            err = rng.choice([1e-12 * (1 + abs(value)), 0.5, 3.0, float("inf")])
            items.append((value if err != float("inf") else 0.0, err, root, i))
        groups = fast_paths._certified_groups(list(items))
        expected = sorted(items, key=lambda item: (F(item[2].enclosure(200)[0]), item[3]))
        if groups is None:  # equal roots with different exact forms: left to the reference
            continue
        flat = [i for _, neurons in groups for i in sorted(neurons)]
        assert flat == [item[3] for item in expected]
        for (where, neurons), (later, _) in zip(groups, groups[1:]):
            assert where.root < later.root
        for where, neurons in groups:
            assert all(items[i][2] == where.root for i in neurons)
