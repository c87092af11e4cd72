"""The exact kernel: parsing, signs with square roots, quadratic roots."""

from __future__ import annotations

from decimal import Decimal, getcontext
from fractions import Fraction as F

import pytest
from hypothesis import given, strategies as st

from geomcheck.errors import InvalidInput
from geomcheck.exact import format_rational, parse_rational, real_roots, sign_a_plus_b_sqrt_c, sign_sqrt_combination
from geomcheck.exact.backend import available_backends, matvec
from geomcheck.exact.quadratic import QuadraticRoot, rational_between, simplest_between
from geomcheck.exact.signs import sign_three_term

from strategies import rationals, positive_rationals


@pytest.mark.parametrize(
    "text, value",
    [("1/3", F(1, 3)), ("-2/4", F(-1, 2)), ("0.1", F(1, 10)), ("1e-5", F(1, 100000)), ("-1.25E2", F(-125)),
     (" 7 ", F(7)), (3, F(3)), (0.5, F(1, 2)), (".5", F(1, 2))],
)
def test_parse_rational_exact(text, value):
    assert parse_rational(text) == value


def test_float_is_its_dyadic_value():
    assert parse_rational(0.1) == F(3602879701896397, 36028797018963968)
    assert parse_rational(0.1) != F(1, 10)


@pytest.mark.parametrize("bad", ["nan", "inf", "1/0", "abc", "", "1,2", float("nan"), float("inf"), True, None, [1]])
def test_parse_rational_rejects(bad):
    with pytest.raises(InvalidInput):
        parse_rational(bad, "w_in[0][1]")


def test_error_names_argument():
    with pytest.raises(InvalidInput, match=r"b_in\[3\]"):
        parse_rational("x", "b_in[3]")


@given(rationals(10**6, 10**6))
def test_format_parse_round_trip(q):
    assert parse_rational(format_rational(q)) == q


def _decimal_sign(a, b, c):
    getcontext().prec = 80
    value = Decimal(a.numerator) / a.denominator + Decimal(b.numerator) / b.denominator * (Decimal(c.numerator) / c.denominator).sqrt()
    return (value > 0) - (value < 0)


@given(rationals(), rationals(), positive_rationals())
def test_sign_a_plus_b_sqrt_c_matches_high_precision(a, b, c):
    s = sign_a_plus_b_sqrt_c(a, b, c)
    getcontext().prec = 80
    if s != 0:  # nonzero exact sign: 80 digits are far more than these sizes need
        assert s == _decimal_sign(a, b, c)


def test_sign_a_plus_b_sqrt_c_hand_cases():
    assert sign_a_plus_b_sqrt_c(F(-3), F(1), F(9)) == 0      # −3 + √9
    assert sign_a_plus_b_sqrt_c(F(-3), F(1), F(8)) == -1     # −3 + √8
    assert sign_a_plus_b_sqrt_c(F(-3), F(1), F(10)) == 1
    assert sign_a_plus_b_sqrt_c(F(2), F(-1), F(4)) == 0
    assert sign_sqrt_combination(F(1), F(2), F(-1), F(2)) == 0  # √2 − √2
    assert sign_sqrt_combination(F(2), F(3), F(-3), F(2)) == -1  # 2√3 − 3√2: 12 < 18
    assert sign_sqrt_combination(F(3), F(3), F(-2), F(2)) == 1   # 3√3 − 2√2: 27 > 8


@given(rationals(), rationals(), positive_rationals(), rationals(), positive_rationals())
def test_three_term_sign_matches_high_precision(alpha, beta, d1, gamma, d2):
    s = sign_three_term(alpha, beta, d1, gamma, d2)
    getcontext().prec = 100
    dec = lambda q: Decimal(q.numerator) / q.denominator  # noqa: E731
    value = dec(alpha) + dec(beta) * dec(d1).sqrt() + dec(gamma) * dec(d2).sqrt()
    if s == 0:
        assert abs(value) < Decimal(10) ** -60
    else:
        assert s == ((value > 0) - (value < 0))


def test_three_term_exact_zero():
    assert sign_three_term(F(0), F(1), F(2), F(1), F(8)) == 1      # √2 + √8 > 0
    assert sign_three_term(F(-3), F(1), F(2), F(1), F(8)) == 1     # 3√2 − 3 > 0
    assert sign_three_term(F(-3), F(1), F(2), F(1), F(2)) == sign_a_plus_b_sqrt_c(F(-3), F(2), F(2))
    assert sign_three_term(F(0), F(3), F(2), F(-1), F(18)) == 0   # 3√2 − √18


def test_real_roots_hand_cases():
    assert real_roots(F(1), F(-3), F(2)) == [F(1), F(2)]
    assert real_roots(F(1), F(0), F(1)) == []
    assert real_roots(F(0), F(2), F(-1)) == [F(1, 2)]
    (double,) = real_roots(F(1), F(-2), F(1))
    assert double == 1
    lo, hi = real_roots(F(1), F(0), F(-2))
    assert lo < 0 < hi and not hi.is_rational
    assert hi.to_decimal(20) == "1.4142135623730950488"
    assert lo < F(-1) and hi > F(141, 100) and hi < F(142, 100)


@given(rationals(), rationals(), rationals())
def test_roots_are_roots_and_sorted(a, b, c):
    roots = real_roots(a, b, c)
    assert all(x < y for x, y in zip(roots, roots[1:]))
    for r in roots:
        lo, hi = r.enclosure(80)
        assert lo <= hi
        # the polynomial changes sign across the enclosure unless r is a double root / rational
        if r.is_rational:
            assert a * r.p * r.p + b * r.p + c == 0
        else:
            poly = lambda t: a * t * t + b * t + c  # noqa: E731
            assert poly(lo) * poly(hi) <= 0


@given(st.lists(st.tuples(rationals(), rationals(), rationals()), min_size=1, max_size=5))
def test_root_order_matches_decimal(polys):
    roots = [r for p in polys for r in real_roots(*p)]
    roots.sort()
    values = [Decimal(r.to_decimal(40)) for r in roots]
    for x, y, vx, vy in zip(roots, roots[1:], values, values[1:]):
        assert vx <= vy + Decimal(10) ** -30
        if x == y:
            assert abs(vx - vy) < Decimal(10) ** -30


def test_equal_roots_from_different_polynomials_are_equal():
    # √2 is a root of λ² − 2 and of 2λ² − 4; also (1+√2) of λ² − 2λ − 1 vs 1 + √2
    a = real_roots(F(1), F(0), F(-2))[1]
    b = real_roots(F(2), F(0), F(-4))[1]
    assert a == b
    c = real_roots(F(1), F(-2), F(-1))[1]
    assert c == QuadraticRoot(F(1), F(1), F(2), (F(1), F(-2), F(-1)))
    assert c > a


@given(rationals(1000, 1000), positive_rationals(1000, 1000))
def test_simplest_between_is_inside(lo, width):
    hi = lo + width
    q = simplest_between(lo, hi)
    assert lo < q < hi


def test_simplest_between_hand_cases():
    assert simplest_between(F(1, 3), F(1, 2)) == F(2, 5)
    assert simplest_between(F(0), F(1)) == F(1, 2)
    assert simplest_between(F(-1, 2), F(3)) == 0
    assert simplest_between(F(3, 2), F(17, 4)) == 2


def test_rational_between_irrationals():
    r2 = real_roots(F(1), F(0), F(-2))[1]
    r3 = real_roots(F(1), F(0), F(-3))[1]
    q = rational_between(r2, r3)
    assert r2 < q < r3 and q == F(3, 2)


@given(st.lists(st.lists(rationals(), min_size=4, max_size=4), min_size=20, max_size=20), st.lists(rationals(), min_size=4, max_size=4))
def test_backends_agree(rows, x):
    results = [matvec(rows, x, backend=b) for b in available_backends()]
    assert all(r == results[0] for r in results)
    assert results[0] == [sum((a * b for a, b in zip(row, x)), F(0)) for row in rows]
