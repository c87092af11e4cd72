"""The trusted checker: re-verifies certificates in exact arithmetic.

Standard library only (``fractions``, ``json``, ``math``, ``hashlib``); it
shares no code with the rest of geomcheck — not even the exact kernel — so a
reviewer can trust a *proved* verdict after reading this package alone.
``tests/test_checker_isolation.py`` enforces both rules.

Entry point: :func:`check_certificate` → :class:`Verdict`.
Each certificate kind is one module registering its check with ``@register``.
"""

from geomcheck.checker.core import Rejected, Verdict, check_certificate, check_file

# kind modules register themselves on import
from geomcheck.checker import kinds as _kinds  # noqa: F401,E402

__all__ = ["check_certificate", "check_file", "Verdict", "Rejected"]
