"""The trusted checker: re-verifies certificates in exact arithmetic.

Standard library only; it shares no code with the rest of geomcheck — not even
the exact kernel — so a reviewer can trust a *proved* verdict after reading
this package alone (``tests/test_checker_isolation.py`` enforces both rules).
Entry point: :func:`check_certificate` → :class:`Verdict`. Each certificate kind
is one module registering its check with ``@register``; ``arith`` is the one
arithmetic module they all use.
"""

from geomcheck.checker.core import Rejected, Verdict, check_certificate, check_file
from geomcheck.checker import cone, dyt, path, sphere  # noqa: F401,E402  (each kind registers itself)

__all__ = ["check_certificate", "check_file", "Verdict", "Rejected"]
