"""Imports every certificate-kind module so each registers its check."""

# one line per kind module (keep sorted)
from geomcheck.checker import cone  # noqa: F401  (counterexample, cone)
from geomcheck.checker import path  # noqa: F401
from geomcheck.checker import sphere  # noqa: F401  (sphere-feasible, sphere-infeasible, sphere-neurons, circle-regions, sphere-cap, sphere-regions)
from geomcheck.checker import dyt  # noqa: F401  (dyt-counterexample)
