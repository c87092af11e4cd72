"""The trusted checker: re-verifies certificates in exact arithmetic (:func:`check_certificate` → :class:`Verdict`).

Standard library only, sharing no code with the rest of geomcheck (tests/test_checker_isolation.py): a *proved* can
be trusted after reading this package alone. Kinds: ``path``, ``sphere``, ``cone``; ``arith`` does the arithmetic."""

from geomcheck.checker.core import Rejected, Verdict, check_certificate, check_file
from geomcheck.checker import cone, path, sphere  # noqa: F401,E402  (each kind registers itself)

__all__ = ["check_certificate", "check_file", "Verdict", "Rejected"]
