"""The Python API: one function per command, each returning a result object.

Every function computes (untrusted search, exact engines), builds the
certificate its result kind has, and asks :func:`geomcheck.verdicts.gate` for
the verdict; the CLI modules only parse arguments and format these objects.
Modules: :mod:`~geomcheck.api.paths` (ray, path, arc), :mod:`~geomcheck.api.sphere`
(sphere, feasible, cap), :mod:`~geomcheck.api.counterexample` (every
``counterexample`` mode).
"""
