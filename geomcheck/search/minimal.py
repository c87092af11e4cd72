"""Smallest integer-weight blocks with a polysemantic direction, by hypothesis.

``hypothesis.find(strategy, condition)`` searches blocks drawn from
:func:`integer_blocks` and *shrinks* the first one satisfying the condition
to a minimal choice sequence: fewer neurons first, then smaller d, then
weights closer to 0 (the draws are ordered n, d, weights so that the
shrinker's lexicographic order is exactly that priority).

* ``norm="none"``: condition = an exact counterexample exists
  (:func:`~geomcheck.search.counterexample.find_counterexample`, verified in
  ℚ). Expected minimum: n = 1, d = 1, |w| = |b| = |w_out| = 1 with
  ``b·w < 0`` along the chosen direction — e.g. ``w = 1, b = −1``: along
  v = 1 the pre-activation ``t − 1`` flips at t = 1. It is minimal
  (hand proof, tested): with n = d = 1 a counterexample needs ``w ≠ 0``
  (else h = b is constant), ``b ≠ 0`` (else h = t·w·v has one sign for t > 0)
  and ``w_out ≠ 0`` (else the map is the constant b_out whatever the
  pattern); integer weights then have |·| ≥ 1.
* ``norm="layernorm"`` (ε = 0): a *falsification attempt*. The condition
  draws a block, a direction and two scales and asks for different exact
  sign patterns at ``t₁·v`` and ``t₂·v`` (generic exact evaluation through
  LayerNorm, independent of the ray analysis). Finding nothing is reported as
  "no counterexample found in K examples" — a search, not a proof (the proof
  is the symbolic one: the ray polynomial is c·t²).
"""

from __future__ import annotations

import time
from fractions import Fraction

from geomcheck.errors import InvalidInput
from geomcheck.model.activations import get_activation
from geomcheck.model.block import MLPBlock
from geomcheck.model.norms import make_normalization
from geomcheck.search.counterexample import find_counterexample

__all__ = ["integer_blocks", "minimal_counterexample", "layernorm_falsification", "minimal_block_example"]


def integer_blocks(norm: str = "none", max_d: int = 3, max_n: int = 3, max_weight: int = 3):
    """Hypothesis strategy: small integer-weight ReLU blocks (output width d)."""
    from hypothesis import strategies as st

    min_d = 2 if norm == "layernorm" else 1
    if max_d < min_d:
        raise InvalidInput(f"--max-d: must be ≥ {min_d} for norm {norm}")
    ints = st.integers(-max_weight, max_weight)

    @st.composite
    def build(draw):
        n = draw(st.integers(1, max_n))
        d = draw(st.integers(min_d, max_d))
        w_in = tuple(tuple(Fraction(draw(ints)) for _ in range(d)) for _ in range(n))
        b_in = tuple(Fraction(draw(ints)) for _ in range(n))
        w_out = tuple(tuple(Fraction(draw(ints)) for _ in range(n)) for _ in range(d))
        b_out = (Fraction(0),) * d
        return MLPBlock(w_in, b_in, w_out, b_out, make_normalization(norm), get_activation("relu"),
                        name=f"minimal-{norm}")

    return build()


def _settings(max_examples: int):
    from hypothesis import HealthCheck, Phase, settings

    return settings(max_examples=max_examples, database=None, deadline=None, derandomize=True,
                    phases=[Phase.generate, Phase.shrink],
                    suppress_health_check=list(HealthCheck))


def minimal_counterexample(max_d: int = 3, max_examples: int = 500) -> dict:
    """Shrunk minimal no-norm block with an exact counterexample (module docstring)."""
    from hypothesis import find
    from hypothesis.errors import NoSuchExample

    start = time.perf_counter()
    calls = 0

    def has_counterexample(block: MLPBlock) -> bool:
        nonlocal calls
        calls += 1
        return find_counterexample(block, budget=300) is not None

    try:
        block = find(integer_blocks("none", max_d), has_counterexample, settings=_settings(max_examples))
    except NoSuchExample:
        return {"found": False, "examples": calls, "seconds": time.perf_counter() - start}
    return {"found": True, "block": block, "counterexample": find_counterexample(block),
            "examples": calls, "seconds": time.perf_counter() - start}


def layernorm_falsification(max_d: int = 3, max_examples: int = 2000) -> dict:
    """Try to find an LN (ε = 0) block, direction v and 0 < t₁ < t₂ with different patterns."""
    from hypothesis import find, strategies as st
    from hypothesis.errors import NoSuchExample

    start = time.perf_counter()
    calls = 0

    @st.composite
    def instance(draw):
        block = draw(integer_blocks("layernorm", max_d))
        v = tuple(Fraction(draw(st.integers(-5, 5))) for _ in range(block.d))
        t1 = Fraction(draw(st.integers(1, 1000)), draw(st.integers(1, 1000)))
        t2 = t1 + Fraction(draw(st.integers(1, 10**6)), draw(st.integers(1, 1000)))
        return block, v, t1, t2

    def patterns_differ(case) -> bool:
        nonlocal calls
        calls += 1
        block, v, t1, t2 = case
        if len(set(v)) == 1:   # constant (or zero) vectors have no LayerNorm direction
            return False
        return block.signs_at_input([t1 * c for c in v]) != block.signs_at_input([t2 * c for c in v])

    try:
        case = find(instance(), patterns_differ, settings=_settings(max_examples))
    except NoSuchExample:
        return {"found": False, "examples": calls, "seconds": time.perf_counter() - start}
    return {"found": True, "case": case, "examples": calls, "seconds": time.perf_counter() - start}


def minimal_block_example() -> MLPBlock:
    """The minimal counterexample block by hand: n = d = 1, w = 1, b = −1, w_out = 1 (no norm)."""
    one = Fraction(1)
    return MLPBlock(((one,),), (-one,), ((one,),), (Fraction(0),), make_normalization("none"),
                    get_activation("relu"), name="minimal-none")
