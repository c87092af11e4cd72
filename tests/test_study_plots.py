"""Figures people can read (issue 14, item 6): the 2-sphere is a shaded picture in which every
region has its own colour, a label and a legend entry; study figures are titled and labelled."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from geomcheck.api.sphere import sphere_summary  # noqa: E402
from geomcheck.io.resolve import load_model  # noqa: E402
from geomcheck.plots.sphere import distinct_colours, plot_sphere  # noqa: E402


def test_distinct_colours_are_distinct():
    cols = np.array(distinct_colours(40))
    gaps = [np.abs(a - b).max() for a, b in itertools.combinations(cols, 2)]
    assert min(gaps) > 0.08  # no two regions share (or nearly share) a colour


def test_two_sphere_picture_has_one_colour_per_region(tmp_path, monkeypatch):
    import matplotlib.figure

    block = load_model("toy:sphere4")
    count = sphere_summary(block, "yes", 20.0, progress=False).count
    captured = {}
    real_savefig = matplotlib.figure.Figure.savefig

    def keep(fig, *args, **kwargs):
        captured["fig"] = fig
        return real_savefig(fig, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", keep)
    plot_sphere(block, str(tmp_path / "s.png"), count)
    fig = captured["fig"]
    legend = fig.axes[1].get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert len(labels) == count.regions == 22
    assert sorted(label.split(": ")[1] for label in labels) == sorted(count.patterns)
    assert "toy:sphere4" in fig._suptitle.get_text() and "22 regions" in fig._suptitle.get_text()
    # the hemisphere images are shaded (many tones), not a few flat dot colours
    images = [ax.get_images()[0].get_array() for ax in fig.axes[:2]]
    tones = {tuple(np.round(px[:3], 3)) for img in images for px in img.reshape(-1, 4)[::37] if px[3] > 0}
    assert len(tones) > 200
    assert (tmp_path / "s.png").stat().st_size > 20_000
