"""Candidate directions for the searches: small integer vectors, simplest first.

Shared by the counterexample, cone and DyT searches (one home, and no import
cycle between them).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Iterator

__all__ = ["small_integer_directions"]


def small_integer_directions(d: int, max_entry: int = 2, max_support: int | None = None) -> Iterator[tuple[Fraction, ...]]:
    """Nonzero integer vectors, simplest first: by largest |entry|, then support size.

    Only primitive vectors (gcd of entries 1) are produced, since t·v and v
    span the same ray. ``max_support`` caps the number of nonzero entries
    (all of them when d ≤ 6).
    """
    if max_support is None:
        max_support = d if d <= 6 else 2
    for height in range(1, max_entry + 1):
        values = [s * k for k in range(1, height + 1) for s in (1, -1)]  # 1, -1, 2, -2, …
        for support in range(1, min(d, max_support) + 1):
            for positions in itertools.combinations(range(d), support):
                for entries in itertools.product(values, repeat=support):
                    if max(abs(e) for e in entries) != height:
                        continue
                    if math.gcd(*entries) != 1:
                        continue
                    v = [Fraction(0)] * d
                    for p, e in zip(positions, entries):
                        v[p] = Fraction(e)
                    yield tuple(v)
