"""geomcheck: exact answers about where a transformer MLP changes its affine map.

In a notebook::

    import geomcheck as gc
    m = gc.load("toy:circle3")            # any model spec the CLI takes, e.g. "minilm:3"
    r = gc.ray(m, [1, 0, 0])              # one function per command: ray, path, arc, sphere,
    r.status, r.to_json(), r.to_pandas()  # feasible, cap, counterexample, check, rotate

The layers, from trusted to untrusted (STYLE.md):

* :mod:`geomcheck.exact` — rationals and exact signs (standard library only);
* :mod:`geomcheck.model` — the MLP block, normalizations, activations, folding;
* :mod:`geomcheck.search` — numpy/HiGHS/cvxpy search, fast and untrusted;
* :mod:`geomcheck.io` — model files, toy models, vectors, real-model loaders;
* :mod:`geomcheck.api` — the Python API (:mod:`geomcheck.api.notebook` is the surface above);
* :mod:`geomcheck.cli` — the ``geomcheck`` command.

The API functions are imported on first use, so ``import geomcheck`` stays fast
(no numpy, no torch).
"""

__version__ = "0.1.0"

from geomcheck.errors import DegenerateInput, GeomcheckError, InvalidInput, ModelFormatError  # noqa: E402
from geomcheck.model import MLPBlock  # noqa: E402

_API = ("load", "vector", "ray", "path", "arc", "sphere", "feasible", "cap", "counterexample", "check", "rotate")

__all__ = ["__version__", "MLPBlock", "GeomcheckError", "InvalidInput", "ModelFormatError", "DegenerateInput", *_API]


def __getattr__(name: str):
    if name in _API:
        from geomcheck.api import notebook

        value = getattr(notebook, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'geomcheck' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_API))
