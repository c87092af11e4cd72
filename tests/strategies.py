"""Hypothesis strategies shared by the tests: rationals, vectors, small blocks."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

from geomcheck.model import MLPBlock, get_activation, make_normalization


def rationals(max_num: int = 50, max_den: int = 12):
    return st.builds(
        Fraction, st.integers(-max_num, max_num), st.integers(1, max_den)
    )


def positive_rationals(max_num: int = 50, max_den: int = 12):
    return st.builds(Fraction, st.integers(1, max_num), st.integers(1, max_den))


def vectors(d: int, **kw):
    return st.lists(rationals(**kw), min_size=d, max_size=d).map(tuple)


@st.composite
def blocks(draw, norm: str | None = None, d=None, n=None, eps=None, gamma_beta: bool | None = None):
    d = draw(st.integers(2, 5)) if d is None else d
    n = draw(st.integers(1, 6)) if n is None else n
    kind = draw(st.sampled_from(["layernorm", "rmsnorm", "none"])) if norm is None else norm
    small = dict(max_num=9, max_den=4)
    w_in = tuple(draw(vectors(d, **small)) for _ in range(n))
    b_in = draw(vectors(n, **small))
    w_out = tuple(draw(vectors(n, **small)) for _ in range(d))
    b_out = draw(vectors(d, **small))
    if kind == "none":
        normalization = make_normalization("none")
    else:
        e = draw(st.sampled_from([Fraction(0), Fraction(0), Fraction(1, 10), Fraction(1, 1000)])) if eps is None else eps
        with_gb = draw(st.booleans()) if gamma_beta is None else gamma_beta
        gamma = draw(vectors(d, **small)) if with_gb else None
        beta = draw(vectors(d, **small)) if with_gb else None
        normalization = make_normalization(kind, e, gamma, beta)
    return MLPBlock(w_in, b_in, w_out, b_out, normalization, get_activation("relu"), name="hypothesis")
