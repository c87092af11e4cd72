"""The study's figures (matplotlib, Agg, imported lazily): rays, superposition paths, the
no-normalization counterfactual, and the output along token rotations.

Every figure is titled with the model, the layers and what it shows; histograms have
both axis labels. :func:`study_figures` returns the figures (name, caption, figure) so
the CLI can write PNG files and the HTML report can embed the same pictures.
"""

from __future__ import annotations

import io

import numpy as np

from geomcheck.plots import pyplot

__all__ = ["study_figures", "figure_png", "write_figures"]


def _label(L: dict) -> str:
    return L.get("label") or L["layer"]


def _where(payload: dict) -> str:
    model = payload["model"] if len(payload["model"]) <= 40 else payload["model"][:38] + "…"
    idx = [str(L.get("index", _label(L))) for L in payload["layers"]]
    return f"{model}, layer{'s' if len(idx) > 1 else ''} {', '.join(idx)}"


def _integer_ticks():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _title(fig_or_ax, text: str, suptitle: bool = False) -> None:
    import textwrap

    wrapped = "\n".join(textwrap.wrap(text, 90))
    (fig_or_ax.suptitle if suptitle else fig_or_ax.set_title)(wrapped, fontsize=10)


def study_figures(payload: dict) -> list[tuple[str, str, object]]:
    plt = pyplot()
    layers = payload["layers"]
    where = _where(payload)
    figs = []

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for j, L in enumerate(layers):
        rs = [r for r in L["rays"]["per_direction_max_r"] if r]
        ax.scatter([j - 0.15] * len(rs), rs, s=8, color="C0",
                   label=f"largest critical norm r per direction (ε = {L['rays']['eps']})" if j == 0 else None)
        norms = L["rays"]["token_centred_norm"]
        if norms.get("count"):
            ax.scatter([j + 0.15], [norms["min"]], marker="v", color="C3", label="smallest token ‖Px‖" if j == 0 else None)
            ax.scatter([j + 0.15], [norms["median"]], marker="o", color="C3", label="median token ‖Px‖" if j == 0 else None)
    ax.set_yscale("log")
    ax.set_xticks(range(len(layers)), [_label(L) for L in layers])
    ax.set_xlabel("layer")
    ax.set_ylabel("centred norm ‖Px‖ (log)")
    _title(ax, f"{where}: rays t·v — below r the ray changes gate pattern")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    fig.tight_layout()
    figs.append(("rays.png", "Rays: the exact critical norms against the norms of real tokens", fig))

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    all_changes = [q["changes"] for L in layers for q in L["paths"]["per_pair"]]
    all_rel = [q["first_relative"] for L in layers for q in L["paths"]["per_pair"] if q["first_relative"]]
    change_bins = np.linspace(0, max(all_changes + [1]), 25)
    rel_bins = np.logspace(np.log10(min(all_rel)), np.log10(max(all_rel)) + 1e-9, 25) if all_rel else 10
    for L in layers:
        pp = L["paths"]["per_pair"]
        axes[0].hist([q["changes"] for q in pp], bins=change_bins, histtype="step", linewidth=1.5, label=_label(L))
        rel = [q["first_relative"] for q in pp if q["first_relative"]]
        if rel:
            axes[1].hist(rel, bins=rel_bins, histtype="step", linewidth=1.5, label=_label(L))
    axes[0].set_xlabel("exact gate-sign changes along x + λ·d")
    axes[0].set_ylabel("pairs (x, d)")
    for a in axes:
        a.yaxis.set_major_locator(_integer_ticks())
    axes[1].set_xlabel("first change at λ·‖d‖/‖x‖ (log)")
    axes[1].set_ylabel("pairs (x, d)")
    axes[1].set_xscale("log")
    for a in axes:
        if a.get_legend_handles_labels()[0]:
            a.legend(fontsize=7)
    _title(fig, f"{where}: superposition paths x + λ·d (gate-sign patterns)", True)
    fig.tight_layout()
    figs.append(("paths.png", "Superposition paths: exact gate-sign changes and where the first one happens", fig))

    fig, ax = plt.subplots(figsize=(8, 4))
    flip_bins = np.linspace(0, max([f for L in layers for f in L["nonorm"]["per_direction_flips"]] + [1]), 31)
    for L in layers:
        ax.hist(L["nonorm"]["per_direction_flips"], bins=flip_bins, histtype="step", linewidth=1.5, label=_label(L))
    ax.set_xlabel("neurons a ray t·v crosses without the normalization")
    ax.set_ylabel("directions v")
    ax.yaxis.set_major_locator(_integer_ticks())
    _title(ax, f"{where}: the same weights without the normalization (counterfactual)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    fig.tight_layout()
    figs.append(("nonorm.png", "No-normalization counterfactual: how many neurons each ray crosses", fig))

    rot = [(L["layer"], q) for L in layers for q in L["rotation"]["per_pair"]]
    if rot:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for j, L in enumerate(layers):
            pp = L["rotation"]["per_pair"]
            if not pp:
                continue
            axes[0].scatter([q["flips"] for q in pp], [100 * q["affine_fit_residual"] for q in pp], s=18,
                            color=f"C{j % 10}", label=_label(L))
            t10 = [q["tangent_error_angles"]["10%"] for q in pp if q["tangent_error_angles"]["10%"] is not None]
            if t10:
                axes[1].scatter([j] * len(t10), t10, s=18, color=f"C{j % 10}")
        axes[0].set_xlabel("exact gate flips along the rotation")
        axes[0].set_ylabel("single-region fit residual (% of variation)")
        axes[0].set_ylim(bottom=0)
        axes[1].set_xticks(range(len(layers)), [_label(L) for L in layers])
        axes[1].set_xlabel("layer")
        axes[1].set_ylabel("angle where the tangent line is 10 % off (°)")
        axes[0].legend(fontsize=7)
        _title(fig, f"{where}: the MLP output while z(x) rotates toward z(d) (token pairs; sampled, estimate)", True)
        fig.tight_layout()
        figs.append(("rotation.png", "Output along token rotations: flips against the single-region residual; "
                                     "how far the tangent line holds", fig))
    return figs


def figure_png(fig, dpi: int = 110) -> bytes:
    plt = pyplot()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buf.getvalue()


def write_figures(pngs: list[tuple[str, str, bytes]], directory) -> list[str]:
    """Write (name, caption, png bytes) into ``directory`` (which must exist); the paths written."""
    from pathlib import Path

    from geomcheck.errors import InvalidInput

    written = []
    for name, _, data in pngs:
        path = Path(directory) / name
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise InvalidInput(f"--plot-dir: cannot write {path} ({exc.strerror or exc})") from None
        written.append(str(path))
    return written
