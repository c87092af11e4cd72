"""Small helpers shared by the subcommands: --json output and model loading."""

from __future__ import annotations

import json
import sys
from typing import Any, Callable

__all__ = ["add_json_flag", "emit", "add_model_argument"]


def add_json_flag(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def add_model_argument(parser) -> None:
    parser.add_argument(
        "model",
        metavar="MODEL",
        help="toy:circle3, toy:random?d=8&n=32&seed=0, minilm:LAYER, a .json exchange file, a .npz file "
             "or a state dict PATH.safetensors?layer=N",
    )


def emit(args, payload: dict[str, Any], human: Callable[[dict[str, Any]], str]) -> None:
    """Print ``payload`` as JSON with --json, else ``human(payload)``."""
    if getattr(args, "json", False):
        json.dump(payload, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(human(payload).rstrip("\n") + "\n")
