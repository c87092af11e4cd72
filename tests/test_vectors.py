"""Vector specs: exact parsing, named directions, .npy files, clear errors."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest

from geomcheck.errors import DegenerateInput, InvalidInput
from geomcheck.io import load_model
from geomcheck.io.vectors import parse_vector


@pytest.fixture(scope="module")
def circle():
    return load_model("toy:circle3")


def test_comma_list_exact(circle):
    assert parse_vector("1,-2,3/4", circle) == (F(1), F(-2), F(3, 4))
    assert parse_vector("0.1, 0, 0", circle)[0] == F(1, 10)


def test_named(circle):
    assert parse_vector("neuron:3", circle) == (F(-1), F(2), F(-1))
    assert parse_vector("neuron-out:2", circle) == (F(1), F(-1), F(0))
    assert parse_vector("e:1", circle) == (F(0), F(1), F(0))


def test_npy(tmp_path, circle):
    np.save(tmp_path / "v.npy", np.array([0.5, -0.25, 1.0], dtype=np.float32))
    assert parse_vector(f"@{tmp_path / 'v.npy'}", circle) == (F(1, 2), F(-1, 4), F(1))
    np.save(tmp_path / "nan.npy", np.array([0.5, np.nan, 1.0]))
    with pytest.raises(InvalidInput, match=r"\[1\]"):
        parse_vector(f"@{tmp_path / 'nan.npy'}", circle, "--direction")


@pytest.mark.parametrize("spec, message", [
    ("1,2", "has 2 entries"),
    ("1,nan,2", "not a number"),
    ("neuron:9", "out of range"),
    ("foo:1", "unknown named"),
    ("@/no/such.npy", "not found"),
    ("", "empty"),
])
def test_bad_vectors(spec, message, circle):
    with pytest.raises(InvalidInput, match=message):
        parse_vector(spec, circle, "--direction")


def test_degenerate_directions(circle):
    with pytest.raises(DegenerateInput, match="zero"):
        circle.check_direction(parse_vector("0,0,0", circle))
    with pytest.raises(DegenerateInput, match="constant"):
        circle.check_direction(parse_vector("2,2,2", circle))
    noln = load_model("toy:circle3-noln")
    assert noln.check_direction(parse_vector("2,2,2", noln)) == (F(2), F(2), F(2))
