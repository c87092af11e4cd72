"""Real roots of rational polynomials of degree ≤ 2, as exact numbers.

A root is stored as ``p + q·√D`` with p, q, D rational and D ≥ 0, together
with the polynomial ``a·λ² + b·λ + c`` it solves. Two such numbers are
compared exactly (:func:`geomcheck.exact.signs.sign_three_term`), so crossings
that coincide are *equal*, never split by rounding. Rational enclosures of any
width come from integer square roots, and :func:`simplest_between` picks the
rational with the smallest denominator strictly between two numbers, which is
how segment witnesses stay short.
"""

from __future__ import annotations

import decimal
import math
from dataclasses import dataclass
from fractions import Fraction

from geomcheck.exact.rationals import format_rational
from geomcheck.exact.signs import sign, sign_three_term

__all__ = ["QuadraticRoot", "real_roots", "simplest_between", "rational_between"]


def _rational_sqrt(x: Fraction) -> Fraction | None:
    """√x when it is rational, else None."""
    n, m = x.numerator, x.denominator
    rn, rm = math.isqrt(n), math.isqrt(m)
    if rn * rn == n and rm * rm == m:
        return Fraction(rn, rm)
    return None


@dataclass(frozen=True, eq=False)
class QuadraticRoot:
    """The real number ``p + q·√D``, a root of ``a·λ² + b·λ + c`` (a, b, c ∈ ℚ).

    Invariant: either q = 0 and D = 0 (the number is rational), or D > 0 is not
    the square of a rational and q ≠ 0.
    """

    p: Fraction
    q: Fraction
    D: Fraction
    poly: tuple[Fraction, Fraction, Fraction]  # (a, b, c): a·λ² + b·λ + c

    @staticmethod
    def rational(value: Fraction, poly: tuple[Fraction, Fraction, Fraction] | None = None) -> "QuadraticRoot":
        value = Fraction(value)
        if poly is None:
            poly = (Fraction(0), Fraction(1), -value)
        return QuadraticRoot(value, Fraction(0), Fraction(0), poly)

    @property
    def is_rational(self) -> bool:
        return self.q == 0

    # exact order -------------------------------------------------------
    def _cmp(self, other: "QuadraticRoot | Fraction | int") -> int:
        if not isinstance(other, QuadraticRoot):
            other = QuadraticRoot.rational(Fraction(other))
        return sign_three_term(self.p - other.p, self.q, self.D, -other.q, other.D)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (QuadraticRoot, Fraction, int)):
            return NotImplemented
        return self._cmp(other) == 0

    __hash__ = None  # type: ignore[assignment]  # equality is exact, not structural

    def __lt__(self, other):
        return self._cmp(other) < 0

    def __le__(self, other):
        return self._cmp(other) <= 0

    def __gt__(self, other):
        return self._cmp(other) > 0

    def __ge__(self, other):
        return self._cmp(other) >= 0

    def sign(self) -> int:
        return self._cmp(0)

    # enclosures and printing -------------------------------------------
    def enclosure(self, bits: int = 64) -> tuple[Fraction, Fraction]:
        """Rationals ``lo ≤ self ≤ hi`` with ``hi − lo ≤ |q|/(den(D)·2^bits)``."""
        if self.q == 0:
            return self.p, self.p
        n, m = self.D.numerator, self.D.denominator
        # √D = √(n·m)/m and isqrt(n·m·4^k)/2^k ≤ √(n·m) < (isqrt+1)/2^k
        s = math.isqrt(n * m << (2 * bits))
        lo_root = Fraction(s, m << bits)
        hi_root = Fraction(s + 1, m << bits)
        a, b = self.p + self.q * lo_root, self.p + self.q * hi_root
        return (a, b) if a <= b else (b, a)

    def to_decimal(self, digits: int = 17) -> str:
        """A decimal string with ``digits`` significant digits (display only)."""
        if self.q == 0:
            value = decimal.Decimal(self.p.numerator) / decimal.Decimal(self.p.denominator)
            with decimal.localcontext() as ctx:
                ctx.prec = digits
                return _format_decimal(+value, digits)
        with decimal.localcontext() as ctx:
            ctx.prec = digits + 30
            dec = lambda f: decimal.Decimal(f.numerator) / decimal.Decimal(f.denominator)
            root = dec(self.D).sqrt()
            p, q = dec(self.p), dec(self.q)
            if sign(self.p) * sign(self.q) < 0:
                # p + q√D cancels: use (p² − q²D)/(p − q√D), whose terms agree in sign
                value = dec(self.p * self.p - self.q * self.q * self.D) / (p - q * root)
            else:
                value = p + q * root
            ctx.prec = digits
            return _format_decimal(+value, digits)

    def exact_form(self) -> str:
        """``"p + c*sqrt(r)/m"`` with the radicand an integer with its small square factors taken
        out (``(1/8)*sqrt(96)`` is ``sqrt(6)/2``), or ``"p/q"`` when rational. Exact and re-readable."""
        if self.q == 0:
            return format_rational(self.p)
        # q·√(n/m) = (q·s/m)·√r  where  n·m = s²·r
        s, r = _square_part(self.D.numerator * self.D.denominator)
        c = self.q * s / self.D.denominator
        if r == 1:  # cannot happen for a reduced root with q ≠ 0 (D is not a square), kept for safety
            return format_rational(self.p + c)
        mag = abs(c)
        term = ("" if mag.numerator == 1 else f"{mag.numerator}*") + f"sqrt({r})" + \
            ("" if mag.denominator == 1 else f"/{mag.denominator}")
        if self.p == 0:
            return term if c > 0 else f"-{term}"
        return f"{format_rational(self.p)} {'+' if c > 0 else '-'} {term}"

    def __float__(self) -> float:
        return float(self.to_decimal(20))

    def __repr__(self) -> str:
        return f"QuadraticRoot({self.exact_form()} ≈ {self.to_decimal(12)})"


_SMALL_PRIMES = [p for p in range(3, 1000, 2) if all(p % k for k in range(3, int(p ** 0.5) + 1, 2))]


def _square_part(n: int) -> tuple[int, int]:
    """``(s, r)`` with ``n = s²·r`` (n > 0): powers of 2, primes below 1000 and a perfect-square
    rest taken out. r is square-free when n has no repeated prime factor above 1000."""
    s = 1
    twos = (n & -n).bit_length() - 1
    s <<= twos // 2
    n >>= twos - twos % 2
    for p in _SMALL_PRIMES:
        pp = p * p
        if pp > n:
            break
        while n % pp == 0:
            n //= pp
            s *= p
    root = math.isqrt(n)
    if root * root == n:
        return s * root, 1
    return s, n


def _format_decimal(value: decimal.Decimal, digits: int) -> str:
    text = format(value, f".{digits - 1}e") if value != 0 else "0"
    mantissa, _, exponent = text.partition("e")
    exp = int(exponent) if exponent else 0
    if -6 <= exp < digits:
        return format(value, "f") if value != 0 else "0"
    return f"{mantissa}e{exp:+d}"


def real_roots(a: Fraction, b: Fraction, c: Fraction) -> list[QuadraticRoot]:
    """Distinct real roots of ``a·λ² + b·λ + c`` in increasing order.

    The zero polynomial has no isolated roots and returns []; callers that
    care (a neuron identically zero on a path) check for it first.
    """
    a, b, c = Fraction(a), Fraction(b), Fraction(c)
    poly = (a, b, c)
    if a == 0:
        if b == 0:
            return []
        return [QuadraticRoot.rational(-c / b, poly)]
    disc = b * b - 4 * a * c
    if disc < 0:
        return []
    centre = -b / (2 * a)
    if disc == 0:
        return [QuadraticRoot.rational(centre, poly)]
    exact = _rational_sqrt(disc)
    half = Fraction(1, 2 * abs(a))
    if exact is not None:
        return [QuadraticRoot.rational(centre - exact * half, poly), QuadraticRoot.rational(centre + exact * half, poly)]
    # √disc/(2|a|) = half·√disc; keep D = disc and q = ±half
    return [QuadraticRoot(centre, -half, disc, poly), QuadraticRoot(centre, half, disc, poly)]


def simplest_between(lo: Fraction, hi: Fraction) -> Fraction:
    """The rational with the smallest denominator in the open interval (lo, hi).

    Stern–Brocot descent on continued fractions; lo < hi required.
    """
    if not lo < hi:
        raise ValueError("simplest_between needs lo < hi")
    if lo < 0 < hi:
        return Fraction(0)
    if hi <= 0:
        return -simplest_between(-hi, -lo)
    floor_lo = lo.numerator // lo.denominator
    if floor_lo + 1 < hi:
        return Fraction(floor_lo + 1)
    # both in [floor_lo, floor_lo + 1]; recurse on reciprocals of fractional parts
    frac_lo, frac_hi = lo - floor_lo, hi - floor_lo
    if frac_lo == 0:
        # (0, frac_hi): 1/k for the smallest k with 1/k < frac_hi
        k = (1 / frac_hi).__floor__() + 1
        return floor_lo + Fraction(1, k)
    inner = simplest_between(1 / frac_hi, 1 / frac_lo)
    return floor_lo + 1 / inner


def rational_between(x: "QuadraticRoot | Fraction", y: "QuadraticRoot | Fraction") -> Fraction:
    """A simple rational strictly between the exact numbers x < y."""
    rx = x if isinstance(x, QuadraticRoot) else QuadraticRoot.rational(Fraction(x))
    ry = y if isinstance(y, QuadraticRoot) else QuadraticRoot.rational(Fraction(y))
    if not rx < ry:
        raise ValueError("rational_between needs x < y")
    bits = 16
    while True:
        _, hi_x = rx.enclosure(bits)
        lo_y, _ = ry.enclosure(bits)
        if hi_x < lo_y:
            return simplest_between(hi_x, lo_y)
        bits *= 2
