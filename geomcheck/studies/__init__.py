"""Drivers that run many analyses over a real model: the scan (Dask + Parquet).

Untrusted orchestration: every *proved* in a scan's ``status`` column comes
from :func:`geomcheck.verdicts.gate` run on the row's certificate.
"""
