"""The checker's one arithmetic module: exact numbers, dot products, surd signs, rank (echelon), solve; its one error.

Numbers are JSON integers (not booleans) or strings ``0 | -?[1-9][0-9]*(/[1-9][0-9]*)?`` — no floats,
decimals, spaces, ``+``, leading zeros or ``-0``. Vectors are read as integer numerators over one common
denominator: Python integers are fast, ``Fraction`` normalises on every operation (kept for O(1)-per-item work)."""

import math
import re
from fractions import Fraction
from operator import mul


class Rejected(Exception):
    """The checker's one error: a certificate failed a named step (``rejected: <step>: <why>``)."""

    def __init__(self, step: str, why: str):
        super().__init__(f"{step}: {why}")
        self.step, self.why = step, why


def require(condition: bool, step: str, why: str) -> None:
    if not condition:
        raise Rejected(step, why)

_NUMBER = r"(?:-?[1-9][0-9]*+(?:/[1-9][0-9]*+)?+|0)"  # possessive: no backtracking
_ROW = re.compile(f'{_NUMBER}(?:","{_NUMBER})*+')


def texts(values, where: str, limit: int, length: int | None = None) -> tuple[list[str], str]:
    """(the entries of a JSON list as strings, its JSON text ``["…","…"]``): ``length`` entries, each a string
    without '"' (so the text splits back into exactly these entries) or an int of ≤ 4·limit bits (in decimal).
    :func:`grammar` checks the numbers themselves."""
    require(type(values) is list, where, "expected a list of numbers")
    require(length is None or len(values) == length, where, f"expected {length} entries, got {len(values)}")
    try:
        text = '","'.join(values)
    except TypeError:  # ints become decimal text, their size bounded first (str() of a huge int is slow)
        for k, v in enumerate(values):
            require(type(v) is str or type(v) is int and v.bit_length() <= 4 * limit, f"{where}[{k}]",
                    "an integer over the size limit" if type(v) is int else
                    f"expected an exact rational \"p/q\" or an integer, got {show(repr(v))}")
        values = [str(v) for v in values]
        text = '","'.join(values)
    if values and text.count('"') != 2 * len(values) - 2:
        k = next(j for j, v in enumerate(values) if '"' in v)
        raise Rejected(f"{where}[{k}]", f"expected an exact rational \"p/q\" or an integer, got {show(repr(values[k]))}")
    return values, f'["{text}"]' if values else "[]"


def grammar(values: list[str], text: str, where: str, limit: int) -> list[str]:
    """``values`` (with ``text`` from :func:`texts`) after checking that each has ≤ ``limit`` characters and
    follows the number grammar."""
    if values and max(map(len, values)) > limit:
        k = max(range(len(values)), key=lambda j: len(values[j]))
        raise Rejected(f"{where}[{k}]", f"a number of {len(values[k])} characters exceeds the limit of {limit}")
    if values and not _ROW.fullmatch(text, 2, len(text) - 2):
        k = next(j for j, v in enumerate(values) if not _ROW.fullmatch(v))
        raise Rejected(f"{where}[{k}]", f"expected an exact rational \"p/q\" or an integer, got {show(repr(values[k]))}")
    return values


def integers(strs: list[str]) -> tuple[list[int], int]:
    """(numerators, common denominator > 0) of validated number strings."""
    parts = "/".join(strs).split("/")
    if strs and len(parts) == 2 * len(strs):  # every entry "p/q": split the row at once
        nums, dens = list(map(int, parts[0::2])), list(map(int, parts[1::2]))
    else:
        pairs = [s.partition("/") for s in strs]
        nums, dens = [int(p) for p, _, _ in pairs], [int(q) if q else 1 for _, _, q in pairs]
    den = math.lcm(*dens) if dens else 1
    if any(q != den for q in dens):
        nums = list(map(mul, nums, map(den.__floordiv__, dens)))
    return nums, den


def show(q) -> str:
    """A number for a message: exact when short, else its size and leading digits."""
    text = str(q)
    return text if len(text) <= 60 else f"{text[:24]}…({len(text)} chars)"


def dot(a, b):
    return sum(map(mul, a, b))


def centre(x: list, d: int, layernorm: bool) -> list:
    """d·P·x for LayerNorm (P = I − 11ᵀ/d; scaled by d to stay in the integers), else x."""
    total = sum(x)
    return [d * v - total for v in x] if layernorm else list(x)


def sign(q) -> int:
    return (q > 0) - (q < 0)


def sign_surd(a, b, c) -> int:
    """sign(a + b·√c) for rationals a, b and c ≥ 0, by comparing a² with b²c when the signs differ."""
    sa, sb = sign(a), sign(b) if c else 0
    return sa or sb if sa == 0 or sb == 0 or sa == sb else sa * sign(a * a - b * b * c)


def sign_surds(a, b, c, e, f) -> int:
    """sign(a + b·√c + e·√f), c, f ≥ 0: when X = a + b√c and Y = e√f differ in sign,
    the larger square wins, and X² − Y² = (a² + b²c − e²f) + 2ab·√c."""
    sx, sy = sign_surd(a, b, c), sign(e) if f else 0
    if sx == 0 or sy == 0 or sx == sy:
        return sx or sy
    bigger = sign_surd(a * a + b * b * c - e * e * f, 2 * a * b, c)
    return sx if bigger > 0 else sy if bigger < 0 else 0


def echelon(rows: list, width: int) -> tuple[int, list[int]]:
    """(rank, pivot columns) of rational rows: each row times the lcm of its denominators (keeps rank and pivots),
    then fraction-free elimination, ``r ← p·r − a·pivot_row`` divided by the gcd of its entries (stays in ℤ)."""
    m, pivots = [[Fraction(q) for q in r] for r in rows if any(r)], []
    scales = [math.lcm(*(q.denominator for q in r)) for r in m]
    m = [[q.numerator * (den // q.denominator) for q in r] for r, den in zip(m, scales)]
    for c in range(width):
        at = next((i for i in range(len(pivots), len(m)) if m[i][c]), None)
        if at is not None:
            top = len(pivots)
            m[top], m[at] = m[at], m[top]
            for i in range(top + 1, len(m)):
                if a := m[i][c]:
                    new = [m[top][c] * x - a * y for x, y in zip(m[i], m[top])]
                    g = math.gcd(*new)
                    m[i] = [x // g for x in new] if g > 1 else new
            pivots.append(c)
    return len(pivots), pivots


def solve(rows, rhs) -> list[Fraction] | None:
    """The unique solution of a square system (Gauss–Jordan over ℚ), or None when it is singular."""
    n, a = len(rows), [[Fraction(v) for v in r] + [Fraction(b)] for r, b in zip(rows, rhs)]
    for c in range(n):
        p = next((i for i in range(c, n) if a[i][c]), None)
        if p is None:
            return None
        a[p], a[c] = a[c], [v / a[p][c] for v in a[p]]
        a = [r if i == c or not r[c] else [x - r[c] * y for x, y in zip(r, a[c])] for i, r in enumerate(a)]
    return [r[n] for r in a]
