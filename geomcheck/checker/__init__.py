"""The trusted checker: re-verifies certificates in exact arithmetic (:func:`check_certificate` → :class:`Verdict`).

Standard library only, sharing no code with the rest of geomcheck — not even the exact kernel — so a *proved*
verdict can be trusted after reading this package alone (tests/test_checker_isolation.py). Each kind is one
module registering its check with ``@register``; ``arith`` is their one arithmetic module."""

from geomcheck.checker.core import Rejected, Verdict, check_certificate, check_file
from geomcheck.checker import cone, dyt, path, sphere  # noqa: F401,E402  (each kind registers itself)

__all__ = ["check_certificate", "check_file", "Verdict", "Rejected"]
