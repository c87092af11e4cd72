"""Builders of certificate dicts (untrusted side)."""
