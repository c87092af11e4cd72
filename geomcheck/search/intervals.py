"""Midpoint-radius arithmetic on float64 arrays (Rump), the rigorous float layer of the path filters.

A quantity is a pair ``(m, r)``: the exact value lies in ``[m − r, m + r]``. Every
operation charges its own rounding, ``u·|result|`` with ``u = 2⁻⁵³``, plus ``η = 2⁻¹⁰⁷⁴``
(the absolute error of a result that underflows). Overflow gives ±inf or NaN, which the
callers' tests (``|m| > r``, written so that NaN compares False) never take for a decision.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from geomcheck.search.floats import to_float

U = 2.0**-53  # unit roundoff
ETA = 2.0**-1074  # smallest subnormal: every rounding errs by at most u·|result| + η/2
TINY = 2.0**-1000  # a floor added to bounds so that a bound is never exactly 0
SAFETY = 2.0  # radii are doubled before a decision: covers the rounding of the radius computations


def mr_add(x, rx, y, ry):
    """``x + y``."""
    m = x + y
    return m, rx + ry + U * np.abs(m) + ETA


def mr_mul(x, rx, y, ry):
    """``x · y``."""
    m = x * y
    return m, np.abs(x) * ry + np.abs(y) * rx + rx * ry + U * np.abs(m) + ETA


def mr_scalar(q: Fraction) -> tuple[float, float]:
    """A rational as a float midpoint and a radius covering its rounding (±inf beyond range)."""
    f = to_float(q)
    return f, U * abs(f) + ETA
