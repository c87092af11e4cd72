"""Exact signs of the few irrational expressions the geometry needs.

Everything reduces to signs of expressions built from rationals and square
roots of non-negative rationals. No square root is ever computed: a sign is
decided by comparing squares, which stays in ℚ.
"""

from __future__ import annotations

from fractions import Fraction

from geomcheck.errors import InvalidInput

__all__ = ["sign", "sign_a_plus_b_sqrt_c", "sign_sqrt_combination", "sign_three_term"]


def sign(q: Fraction | int) -> int:
    """-1, 0 or +1."""
    return (q > 0) - (q < 0)


def _require_nonnegative(c: Fraction, what: str) -> None:
    if c < 0:
        raise InvalidInput(f"{what}: square root of a negative number ({c})")


def sign_a_plus_b_sqrt_c(a: Fraction, b: Fraction, c: Fraction) -> int:
    """Sign of ``a + b·√c`` for rationals a, b and c ≥ 0.

    If a and b·√c have the same sign (or one is zero) that is the sign.
    Otherwise the larger magnitude wins; compare ``a²`` with ``b²·c``.
    """
    _require_nonnegative(c, "sign_a_plus_b_sqrt_c")
    sa = sign(a)
    sb = sign(b) if c != 0 else 0
    if sb == 0:
        return sa
    if sa == 0 or sa == sb:
        return sb
    # opposite signs: sign(a + b√c) = sa · sign(a² − b²c)
    return sa * sign(a * a - b * b * c)


def sign_sqrt_combination(p: Fraction, a: Fraction, q: Fraction, b: Fraction) -> int:
    """Sign of ``p·√a + q·√b`` for rationals p, q and a, b ≥ 0."""
    _require_nonnegative(a, "sign_sqrt_combination")
    _require_nonnegative(b, "sign_sqrt_combination")
    s1 = sign(p) if a != 0 else 0
    s2 = sign(q) if b != 0 else 0
    if s1 == 0:
        return s2
    if s2 == 0 or s1 == s2:
        return s1
    # opposite signs: the larger square wins
    return s1 * sign(p * p * a - q * q * b)


def sign_three_term(alpha: Fraction, beta: Fraction, d1: Fraction, gamma: Fraction, d2: Fraction) -> int:
    """Sign of ``α + β·√d1 + γ·√d2`` for rationals and d1, d2 ≥ 0.

    Let S = β√d1 + γ√d2 (its sign is a :func:`sign_sqrt_combination`). When α
    and S disagree in sign, compare α² with S² = β²d1 + γ²d2 + 2βγ·√(d1·d2),
    which is an ``a + b√c`` sign.
    """
    _require_nonnegative(d1, "sign_three_term")
    _require_nonnegative(d2, "sign_three_term")
    s_alpha = sign(alpha)
    s_rest = sign_sqrt_combination(beta, d1, gamma, d2)
    if s_rest == 0:
        return s_alpha
    if s_alpha == 0 or s_alpha == s_rest:
        return s_rest
    square_difference = sign_a_plus_b_sqrt_c(
        alpha * alpha - beta * beta * d1 - gamma * gamma * d2, -2 * beta * gamma, d1 * d2
    )
    return s_alpha * square_difference
