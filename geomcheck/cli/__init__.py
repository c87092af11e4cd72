"""The ``geomcheck`` command.

Each subcommand lives in its own module with a ``register(subparsers)``
function; ``COMMAND_MODULES`` lists them. Every error reaches the user as one
line on stderr with exit status 2 (bad input) — never a traceback. An
unexpected internal error is also one line (exit 3); set ``GEOMCHECK_DEBUG=1``
to see its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

from geomcheck import __version__
from geomcheck.errors import GeomcheckError

__all__ = ["main", "build_parser", "COMMAND_MODULES"]

COMMAND_MODULES = (
    "geomcheck.cli.model_cmd",
    "geomcheck.cli.path_cmd",
    "geomcheck.cli.check_cmd",
    "geomcheck.cli.prove_cmd",
    "geomcheck.cli.counterexample_cmd",
    "geomcheck.cli.sphere_cmd",
    "geomcheck.cli.feasible_cmd",
    "geomcheck.cli.cap_cmd",
    "geomcheck.cli.study_cmd",
    "geomcheck.cli.rotate_cmd",
    "geomcheck.cli.scan_cmd",
)

# A value that starts with '-' followed by a digit or '.': a negative number or vector.
_NEGATIVE_VALUE = re.compile(r"^-[\d.]")


class _OneLineParser(argparse.ArgumentParser):
    """argparse prints usage + message on errors; we want one line and exit 2."""

    def error(self, message: str):  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


class _UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="geomcheck",
        description=(
            "Exact answers about where a transformer MLP block changes its affine map: "
            "rays, superposition paths and arcs through LayerNorm/RMSNorm/no-norm ReLU and GELU blocks."
        ),
    )
    parser.add_argument("--version", action="version", version=f"geomcheck {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_OneLineParser)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def _join_negative_values(argv: list[str]) -> list[str]:
    """``--base -1,2,3`` → ``--base=-1,2,3``, so vectors starting with '-' work.

    argparse would read ``-1,2,3`` as an unknown option; only values after an
    option of the form ``--name`` (without ``=``) are joined.
    """
    out: list[str] = []
    for token in argv:
        if out and _NEGATIVE_VALUE.match(token) and out[-1].startswith("--") and "=" not in out[-1]:
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        args = parser.parse_args(_join_negative_values(argv))
        if not getattr(args, "run", None):
            parser.print_help()
            return 2
        return int(args.run(args) or 0)
    except _UsageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except GeomcheckError as exc:
        print(f"geomcheck: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("geomcheck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 — the promise is: never a traceback
        if os.environ.get("GEOMCHECK_DEBUG"):
            raise
        print(
            f"geomcheck: internal error: {type(exc).__name__}: {exc} (set GEOMCHECK_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 3


def entry_point() -> None:
    sys.exit(main())
