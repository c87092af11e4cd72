"""Trusted geometry: the normalization sphere, regions, caps (standard library only)."""
