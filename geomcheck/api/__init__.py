"""The Python API: one function per command, each returning a result object.

The surface for notebooks is :mod:`geomcheck.api.notebook`, re-exported at the top
level (``geomcheck.load``, ``geomcheck.vector``, ``geomcheck.ray``, ``path``, ``arc``,
``sphere``, ``feasible``, ``cap``, ``counterexample``, ``check``, ``rotate``): models as
specs or blocks, vectors as specs, lists or numpy arrays.

Underneath, every function computes (untrusted search, exact engines), builds the
certificate its result kind has, and asks :func:`geomcheck.verdicts.gate` for
the verdict; the CLI modules only parse arguments and format these objects.
Modules: :mod:`~geomcheck.api.paths` (ray, path, arc), :mod:`~geomcheck.api.sphere`
(sphere, feasible, cap), :mod:`~geomcheck.api.counterexample` (every
``counterexample`` mode), :mod:`~geomcheck.api.rotate`. The notebook functions are
not re-exported here: ``geomcheck.api.rotate`` etc. are the modules.
"""
