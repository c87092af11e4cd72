"""``--plot FILE.png``: the pre-activations along a path with the exact crossings marked.

Through LayerNorm/RMSNorm the picture is drawn in the natural coordinate, the rotation angle θ
from z(x) (geomcheck.plots.rotation.plot_path_angles: angle axis, crossings as a rug with a
density histogram, only the neurons that matter drawn, ``log=True`` for a log-scaled axis).
Without a normalization (no sphere, no angle) it stays a λ axis. matplotlib (Agg backend) is
imported lazily; the curves are float64 (display only), the crossing positions exact.
"""

from __future__ import annotations

import numpy as np

from geomcheck.errors import InvalidInput, MissingDependency
from geomcheck.geometry.paths import PathAnalysis
from geomcheck.model.block import MLPBlock
from geomcheck.search.floats import preactivations

__all__ = ["plot_path"]

_MAX_CURVES = 40


def plot_path(block: MLPBlock, analysis: PathAnalysis, filename: str, points: int = 800, log: bool = False) -> None:
    """Draw the crossing neurons against the rotation angle (normalized paths) or against λ."""
    spec = analysis.spec
    if block.norm.scales and block.norm.exact_signs and spec.start == 0 and spec.start_closed:
        from geomcheck.errors import DegenerateInput
        from geomcheck.geometry.rotation import arc_frame
        from geomcheck.plots.rotation import plot_path_angles

        try:
            frame = arc_frame(block, spec)
        except DegenerateInput:
            frame = None
        if frame is not None:
            plot_path_angles(block, analysis, frame, filename, log=log)
            return
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingDependency("matplotlib", "plot", "--plot") from None
    spec = analysis.spec
    crossings = [float(c.at) for c in analysis.crossings]
    start = float(spec.start)
    if spec.end is not None:
        end = float(spec.end)
    else:
        end = 1.5 * max(crossings) if crossings else float(analysis.segments[-1].witness) * 2
        end = max(end, start + 1.0)
    lam = np.linspace(start, end, points)
    if not spec.start_closed:
        lam = lam[1:]
    base = np.array([float(v) for v in spec.base])
    direction = np.array([float(v) for v in spec.direction])
    h = preactivations(block, base[None, :] + lam[:, None] * direction[None, :])
    neurons = sorted({i for c in analysis.crossings for i in c.neurons})[:_MAX_CURVES] or list(range(min(block.n, 8)))
    fig, ax = plt.subplots(figsize=(9, 5))
    for i in neurons:
        ax.plot(lam, h[:, i], lw=1.2, label=f"neuron {i}")
    for c in analysis.crossings:
        ax.axvline(float(c.at), color="k" if c.map_changes else "0.6", ls="--", lw=0.8)
    ax.axhline(0.0, color="0.3", lw=0.6)
    ax.set_xlabel("λ" if spec.kind != "arc" else "s")
    ax.set_ylabel("pre-activation h_i")
    ax.set_title(f"{block.name or 'model'}: {spec.kind}, {len(analysis.crossings)} crossing(s) "
                 f"({analysis.verdict}, {analysis.status})")
    if len(neurons) <= 12:
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    try:
        fig.savefig(filename, dpi=110)
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"--plot: cannot write {filename} ({exc})") from None
    finally:
        plt.close(fig)
