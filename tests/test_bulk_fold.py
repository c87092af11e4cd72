"""The integer fold (geomcheck.exact.bulk) equals the Fraction definition."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, strategies as st

from geomcheck.exact import bulk
from geomcheck.exact.bulk import _fold_fractions, fold_rows
from tests.strategies import blocks, vectors


@given(blocks())
def test_block_folded_equals_fraction_definition(block):
    norm = block.norm
    assert (block.folded.weights, block.folded.bias) == _fold_fractions(
        block.w_in, block.b_in, norm.gamma, norm.beta, norm.centers
    )


@given(st.integers(2, 6), st.integers(1, 5), st.booleans(), st.data())
def test_fold_rows_dyadic_and_generic(d, n, center, data):
    rows = tuple(data.draw(vectors(d, max_num=1000, max_den=97)) for _ in range(n))
    b_in = data.draw(vectors(n))
    gamma, beta = data.draw(vectors(d)), data.draw(vectors(d))
    expected = _fold_fractions(rows, b_in, gamma, beta, center)
    assert fold_rows(rows, b_in, gamma, beta, center) == expected
    dyadic = tuple(tuple(Fraction(float(v)) for v in row) for row in rows)  # float → exact dyadic
    assert fold_rows(dyadic, b_in, None, beta, center) == _fold_fractions(dyadic, b_in, None, beta, center)


def test_huge_common_denominator_falls_back(monkeypatch):
    monkeypatch.setattr(bulk, "_MAX_DENOMINATOR_BITS", 4)
    rows = ((Fraction(1, 3), Fraction(2, 7)), (Fraction(5, 11), Fraction(-1, 13)))
    assert bulk.common_denominator(v for r in rows for v in r) is None
    got = fold_rows(rows, (Fraction(1), Fraction(0)), (Fraction(2), Fraction(3)), (Fraction(1, 2), Fraction(1)), True)
    mean0 = (Fraction(2, 3) + Fraction(6, 7)) / 2
    assert got[0][0] == (Fraction(2, 3) - mean0, Fraction(6, 7) - mean0)
    assert got[1][0] == 1 + Fraction(1, 3) * Fraction(1, 2) + Fraction(2, 7)
