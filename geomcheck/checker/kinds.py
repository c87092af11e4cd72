"""Imports every certificate-kind module so each registers its check."""

from geomcheck.checker import cone, dyt, path, sphere  # noqa: F401
