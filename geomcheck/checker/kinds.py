"""Imports every certificate-kind module so each registers its check."""

# one line per kind module (keep sorted)
from geomcheck.checker import cone  # noqa: F401  (counterexample, cone)
from geomcheck.checker import path  # noqa: F401
