"""The exact kernel: rationals, exact signs, roots of rational quadratics.

Trusted layer: imports only the standard library (and, optionally, the
python-flint backend chosen in :mod:`geomcheck.exact.backend`). Nothing here
decides anything with a tolerance.
"""

from geomcheck.exact.rationals import format_rational, parse_rational, parse_rational_vector
from geomcheck.exact.signs import sign, sign_a_plus_b_sqrt_c, sign_sqrt_combination
from geomcheck.exact.quadratic import QuadraticRoot, real_roots

__all__ = [
    "parse_rational",
    "parse_rational_vector",
    "format_rational",
    "sign",
    "sign_a_plus_b_sqrt_c",
    "sign_sqrt_combination",
    "QuadraticRoot",
    "real_roots",
]
