"""Every error geomcheck raises on purpose is defined here.

Policy (after SymPy's ``polys/matrices/exceptions.py``):

* ``GeomcheckError`` is the root; catching it catches everything below.
* ``InvalidInput`` is bad input from the user (a value, a file, a vector, a
  model). It also subclasses ``ValueError`` so callers can catch either. Its
  message names the offending argument and, where there is one, the fix.
* ``ModelFormatError`` is an ``InvalidInput`` about a model file or spec; its
  message names the bad field (``w_in[2][0]``, ``norm.eps``...).
* ``DegenerateInput`` is an ``InvalidInput`` where the mathematics is
  undefined: a zero direction, a constant vector under LayerNorm at ε = 0.
* ``MissingDependency`` (also an ``ImportError``) names the extra to install.
* ``PathThroughUndefined`` is a ``DegenerateInput``: a path meets ``u = 0`` where the
  normalization (ε = 0) is undefined; ``lam`` is the exact λ.
* ``SearchFailed`` is an untrusted search that could not produce an exact
  object (``ConeSearchFailed``: HiGHS's answer did not round to a certificate);
  ``ProofFailed`` a symbolic derivation step that did not simplify to 0. Neither
  is a verdict: the caller reports an estimate or an error.
* ``EngineDisagreement`` is two of geomcheck's own engines contradicting each other on
  the same question (a defect, reported as an error: no answer is given).

Private control-flow exceptions that never leave their module (an argparse
usage signal, an enumeration budget) are the only exceptions defined elsewhere.

The command line turns any ``GeomcheckError`` into one line on stderr and exit
status 2; nothing else in the package prints tracebacks at users.
"""

from __future__ import annotations

__all__ = [
    "GeomcheckError",
    "InvalidInput",
    "ModelFormatError",
    "DegenerateInput",
    "MissingDependency",
    "PathThroughUndefined",
    "SearchFailed",
    "ConeSearchFailed",
    "ProofFailed",
    "EngineDisagreement",
]


class GeomcheckError(Exception):
    """Root of every error geomcheck raises on purpose."""


class InvalidInput(GeomcheckError, ValueError):
    """Bad user input: the message names the argument and the fix."""


class ModelFormatError(InvalidInput):
    """A model file or model spec is malformed: the message names the field."""


class DegenerateInput(InvalidInput):
    """The input makes the mathematics undefined (zero or constant vector...)."""


class MissingDependency(GeomcheckError, ImportError):
    """An optional dependency is needed: the message names the extra."""

    def __init__(self, package: str, extra: str, purpose: str):
        super().__init__(
            f"{purpose} needs the Python package '{package}': "
            f"install it with  pip install 'geomcheck[{extra}]'"
        )
        self.package = package
        self.extra = extra


class PathThroughUndefined(DegenerateInput):
    """The path meets ``u = 0`` where the normalization (ε = 0) is undefined; ``lam`` is where."""

    def __init__(self, message: str, lam):
        super().__init__(message)
        self.lam = lam


class SearchFailed(GeomcheckError):
    """An untrusted search could not turn its float answer into an exact object."""


class ConeSearchFailed(SearchFailed):
    """HiGHS's answer could not be turned into an exact cone certificate."""


class ProofFailed(GeomcheckError):
    """A symbolic step that should simplify to 0 did not: nothing is proved."""


class EngineDisagreement(GeomcheckError):
    """Two engines gave different answers to one question: a defect of geomcheck, never an answer."""
