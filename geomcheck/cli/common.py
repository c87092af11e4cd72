"""Small helpers shared by the subcommands: --json output, model loading, plots, progress."""

from __future__ import annotations

import json
import sys
from typing import Any, Callable

__all__ = ["add_json_flag", "emit", "add_model_argument", "add_output_flags", "draw_plot", "finish",
           "progress_enabled"]


def add_json_flag(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def add_output_flags(parser, *, json_lines: bool = False) -> None:
    """--limit/--all/--exact (how much of a long result the table shows) and --no-progress."""
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="show at most N rows of each long table (default: a screenful)")
    parser.add_argument("--all", action="store_true", dest="show_all", help="show every row (no --limit)")
    parser.add_argument("--exact", action="store_true",
                        help="print long exact numbers in full (default: a decimal and their size in digits)")
    add_progress_flag(parser)
    if json_lines:
        parser.add_argument("--json-lines", action="store_true",
                            help="one JSON object per line: a header, then one line per entry of the long lists")


def add_progress_flag(parser) -> None:
    if not any("--no-progress" in a.option_strings for a in parser._actions):
        parser.add_argument("--no-progress", action="store_true",
                            help="no progress bar (it is off anyway when stderr is not a terminal)")


def progress_enabled(args) -> bool:
    """Progress bars only for a person watching: stderr a terminal, no --json(-lines), no --no-progress."""
    return (not getattr(args, "no_progress", False) and sys.stderr.isatty()
            and not getattr(args, "json", False) and not getattr(args, "json_lines", False))


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


def draw_plot(payload: dict, key: str, filename: str, draw: Callable[[], Any], what: str = "--plot") -> None:
    """Draw a figure without losing the computed result when drawing fails.

    A missing matplotlib (the message names the extra), a folder that does not exist or
    a file that cannot be written becomes ``payload["plot_error"]`` (one line); the caller
    prints the result, then :func:`finish` reports the error and exits 2.
    """
    from pathlib import Path

    from geomcheck.errors import GeomcheckError

    try:
        from geomcheck.plots import pyplot

        pyplot()  # the MissingDependency naming geomcheck[plot], before any drawing
        folder = Path(filename).expanduser().parent
        if not folder.is_dir():
            raise _PlotError(f"{what}: cannot write {filename} (no folder {folder})")
        draw()
        payload[key] = filename
    except (GeomcheckError, _PlotError) as exc:
        payload.setdefault("plot_error", str(exc))
    except OSError as exc:
        payload.setdefault("plot_error", f"{what}: cannot write {filename} ({exc.strerror or exc})")


class _PlotError(Exception):
    pass


def finish(payload: dict) -> int:
    """Exit status after the result was printed: 2 with a one-line message when a plot failed."""
    if payload.get("plot_error"):
        print(f"geomcheck: error: {payload['plot_error']} (the result above was computed)", file=sys.stderr)
        return 2
    return 0


class Stages:
    """A progress bar over a command's stages (load, search + checker, output), on stderr.

    Off unless :func:`progress_enabled`: a pipe, a file, ``--json`` or ``--no-progress``
    get no bar. ``with Stages(args, "load model", "crossings + checker") as st: ...; st.next()``.
    """

    def __init__(self, args, *names: str):
        self.names = names
        self.bar = None
        if progress_enabled(args):
            from tqdm import tqdm

            import threading

            self.bar = tqdm(total=len(names), desc=names[0], unit="step", leave=False, file=sys.stderr,
                            bar_format="{desc}: {n_fmt}/{total_fmt} steps [{elapsed}]")
            # a stage is one long call: tick the elapsed time so the bar shows the command is alive
            self._stop = threading.Event()
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        self.k = 0

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            try:
                self.bar.refresh()
            except Exception:  # noqa: BLE001 — a display refresh must never break the command
                return

    def next(self) -> None:
        """The current stage is done; after the last one the bar is gone (so output can follow)."""
        self.k += 1
        if self.bar is not None:
            self.bar.update(1)
            if self.k < len(self.names):
                self.bar.set_description_str(self.names[self.k])
            else:
                self.close()

    def close(self) -> None:
        if self.bar is not None:
            self._stop.set()
            self._ticker.join()
            self.bar.close()
            self.bar = None

    def __enter__(self) -> "Stages":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
