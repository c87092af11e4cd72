"""Human output that scales: long exact numbers shortened, long tables cut to a screenful.

``--json`` is always complete; these helpers only shape the tables a person reads.
A long rational is shown as a 6-digit decimal and its size (``1.00000e-400 (exact
1/1000…, 401 digits)``) unless ``--exact``; a long table shows its first rows and
says how many it left out (``--limit N``, ``--all``).
"""

from __future__ import annotations

import decimal
import math
import re
from fractions import Fraction

__all__ = ["DEFAULT_ROWS", "vector_text", "number", "approx", "row_limit", "cut", "pattern", "neuron_list", "table"]

DEFAULT_ROWS = 10
_WIDTH = 24
_RATIONAL = re.compile(r"^-?\d+(/\d+)?$")


def _digits(n: int) -> int:
    """Decimal digits of |n| without str() (which refuses beyond 4300 digits)."""
    n = abs(n)
    if n < 10:
        return 1
    k = int(n.bit_length() * math.log10(2))
    return k + 1 if n >= 10 ** k else k


def approx(q: Fraction, sig: int = 6) -> str:
    """``q`` rounded to ``sig`` significant digits (display only; any size, no float overflow)."""
    if q == 0:
        return "0"
    with decimal.localcontext() as ctx:
        ctx.prec = sig
        value = decimal.Decimal(q.numerator) / decimal.Decimal(q.denominator)
    return format(value, f".{sig}g")


def number(text: str, exact: bool = False, width: int = _WIDTH) -> str:
    """A number from a JSON payload for a person: as is when short or with ``exact``, else
    a decimal and the size of the exact value (rationals), or the head of an exact form."""
    text = str(text)
    if exact or len(text) <= width:
        return text
    if _RATIONAL.match(text):
        q = Fraction(text)
        size = _digits(q.numerator) + (_digits(q.denominator) if q.denominator != 1 else 0)
        return f"{approx(q)} (exact {text[:8]}…, {size} digits)"
    return f"{text[:width - 1]}… ({len(text)} chars)"


def row_limit(args) -> int | None:
    """How many rows of a long table to show: None for all."""
    if getattr(args, "show_all", False):
        return None
    limit = getattr(args, "limit", None)
    if limit is None:
        return DEFAULT_ROWS
    if limit < 0:
        from geomcheck.errors import InvalidInput

        raise InvalidInput(f"--limit: must be ≥ 0, got {limit}")
    return limit


def cut(items: list, limit: int | None) -> tuple[list, int]:
    """The rows to show and how many are left out."""
    if limit is None or len(items) <= limit:
        return list(items), 0
    return list(items[:limit]), len(items) - limit


def more(left: int, what: str) -> str:
    return f"  … {left} more {what} (--limit N or --all to show them; --json has every one)"


def pattern(p: str, width: int = 60) -> str:
    """A sign pattern: as is when short, else its head and the counts of each sign."""
    if len(p) <= width:
        return p
    counts = ", ".join(f"{p.count(s)} {s}" for s in "+-0*" if p.count(s))
    return f"{p[:width]}… ({len(p)} neurons: {counts})"


def neuron_list(neurons, shown: int = 12) -> str:
    neurons = list(neurons)
    text = ",".join(map(str, neurons[:shown]))
    return text + (f",… ({len(neurons)})" if len(neurons) > shown else "")


def table(headers: list[str], rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Columns aligned to their widest cell (the last column is left ragged)."""
    if not rows:
        return []
    widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(headers)]
    out = []
    for row in [headers, *rows]:
        cells = [c.ljust(widths[k]) if k < len(row) - 1 else c for k, c in enumerate(row)]
        out.append((indent + "  ".join(cells)).rstrip())
    return out


def vector_text(values, exact: bool = False, shown: int = 6) -> str:
    """``(a, b, c)``; a long vector as its first entries and its length."""
    values = [number(v, exact) for v in values]
    if exact or len(values) <= shown + 2:
        return f"({', '.join(values)})"
    return f"({', '.join(values[:shown])}, … {len(values)} entries; --json has them all)"
