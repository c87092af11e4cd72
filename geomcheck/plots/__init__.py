"""Figures (matplotlib, Agg backend, imported lazily). Pictures are illustrations, never verdicts.

* :mod:`geomcheck.plots.rotation` — the output along a rotation, and any path in angle coordinates.
* :mod:`geomcheck.plots.slice` — the 2-sphere through three normalized points, with arcs.
"""

from __future__ import annotations

from geomcheck.errors import InvalidInput, MissingDependency

__all__ = ["pyplot", "save"]


def pyplot():
    """matplotlib.pyplot on the Agg backend, or a one-line MissingDependency."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingDependency("matplotlib", "plot", "--plot") from None
    return plt


def save(fig, filename: str, what: str = "--plot") -> None:
    plt = pyplot()
    try:
        fig.savefig(filename, dpi=110, bbox_inches="tight")
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{what}: cannot write {filename} ({exc})") from None
    finally:
        plt.close(fig)
