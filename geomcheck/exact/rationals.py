"""Exact parsing and printing of rational numbers.

Every number geomcheck reads becomes a :class:`fractions.Fraction` with no
loss: ``"p/q"`` strings, decimal strings (``"0.1"`` is 1/10, ``"1e-5"`` is
1/100000), Python ints, and floats, where a float is its exact dyadic value
(``0.1`` is 3602879701896397/36028797018963968, which is what the stored
weight *is*). NaN and ±Inf are rejected with a message naming the argument.
"""

from __future__ import annotations

import math
import re
import sys
from fractions import Fraction
from typing import Iterable

from geomcheck.errors import InvalidInput

__all__ = ["parse_rational", "parse_rational_vector", "format_rational"]

# p/q, or a decimal with optional exponent; whitespace around is allowed.
_RATIONAL_RE = re.compile(
    r"""^\s*[+-]?(
        \d+\s*/\s*\d+                         # p/q
      | (\d+\.?\d*|\.\d+)([eE][+-]?\d+)?      # decimal, optional exponent
    )\s*$""",
    re.VERBOSE,
)


_EXPONENT_RE = re.compile(r"[eE]([+-]?\d+)\s*$")
MAX_DECIMAL_EXPONENT = 100_000


def parse_rational(value: object, what: str = "value") -> Fraction:
    """Return ``value`` as an exact Fraction, or raise InvalidInput naming ``what``.

    Accepts Fraction, int (not bool), float (exact dyadic value; NaN/Inf
    rejected), and strings ``"p/q"`` or decimal (``"-1.25e-3"``).
    Objects with ``numerator``/``denominator`` (python-flint's fmpq) are read
    through those.
    """
    if isinstance(value, bool):
        raise InvalidInput(f"{what}: expected a number, got a boolean ({value!r})")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"{what}: {value!r} is not a finite number")
        return Fraction(value)
    if isinstance(value, str):
        text = value.strip()
        if not _RATIONAL_RE.match(text):
            raise InvalidInput(
                f"{what}: {value!r} is not a number (use an integer, 'p/q' or a decimal like '0.25')"
            )
        exponent = _EXPONENT_RE.search(text)
        if exponent and (len(exponent.group(1)) > 8 or abs(int(exponent.group(1))) > MAX_DECIMAL_EXPONENT):
            # 10**exponent would take minutes to hours to expand: refuse instead of hanging
            raise InvalidInput(f"{what}: exponent {exponent.group(1)[:12]} is outside ±{MAX_DECIMAL_EXPONENT}")
        try:
            if "/" in text:
                num, den = text.split("/")
                if int(den) == 0:
                    raise InvalidInput(f"{what}: {value!r} has a zero denominator")
                return Fraction(int(num), int(den))
            return Fraction(text)
        except ValueError as exc:  # Python refuses integers of more than 4300 digits
            if isinstance(exc, InvalidInput):
                raise
            raise InvalidInput(f"{what}: {str(exc).split(':')[0]}") from None
    numerator = getattr(value, "numerator", None)
    denominator = getattr(value, "denominator", None)
    if numerator is not None and denominator is not None:  # numpy ints, flint fmpq
        return Fraction(int(numerator), int(denominator))
    if hasattr(value, "__float__"):  # numpy float32/float16: float() is exact
        return parse_rational(float(value), what)
    raise InvalidInput(f"{what}: expected a number, got {type(value).__name__}")


def parse_rational_vector(values: Iterable[object], what: str = "vector") -> tuple[Fraction, ...]:
    """Parse every entry exactly; the message names the entry, e.g. ``b_in[3]``."""
    return tuple(parse_rational(v, f"{what}[{i}]") for i, v in enumerate(values))


def _int_text(n: int) -> str:
    """``str(n)`` without Python's 4300-digit guard: exact values such as ε = 10⁻⁵⁰⁰⁰ are that long."""
    try:
        return str(n)
    except ValueError:
        limit = sys.get_int_max_str_digits()
        sys.set_int_max_str_digits(0)
        try:
            return str(n)
        finally:
            sys.set_int_max_str_digits(limit)


def format_rational(q: Fraction | int) -> str:
    """``"p/q"``, or ``"p"`` when the denominator is 1: exact and re-readable."""
    if not isinstance(q, Fraction):  # avoid re-building Fractions: models hold millions
        q = Fraction(q)
    if q.denominator == 1:
        return _int_text(q.numerator)
    return f"{_int_text(q.numerator)}/{_int_text(q.denominator)}"
