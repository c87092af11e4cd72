"""geomcheck: exact answers about where a transformer MLP changes its affine map.

The layers, from trusted to untrusted (STYLE.md):

* :mod:`geomcheck.exact` — rationals and exact signs (standard library only);
* :mod:`geomcheck.model` — the MLP block, normalizations, activations, folding;
* :mod:`geomcheck.search` — numpy/HiGHS/cvxpy search, fast and untrusted;
* :mod:`geomcheck.io` — model files, toy models, vectors, real-model loaders;
* :mod:`geomcheck.cli` — the ``geomcheck`` command.
"""

__version__ = "0.1.0"

from geomcheck.errors import DegenerateInput, GeomcheckError, InvalidInput, ModelFormatError  # noqa: E402
from geomcheck.model import MLPBlock  # noqa: E402

__all__ = ["__version__", "MLPBlock", "GeomcheckError", "InvalidInput", "ModelFormatError", "DegenerateInput"]
