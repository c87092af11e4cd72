"""The study's HTML report in a real headless browser (Chromium from Debian's packages).

Skipped where no Chromium is installed (CI installs one: see .ci/run). Checks that
the page is not blank (the screenshot is not one colour) and that every embedded
image decodes (``naturalWidth > 0``, read back from the DOM after a small script).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from geomcheck.cli import main
from tests.test_study_driver import TOY, toy_inputs

BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no headless Chromium installed (apt-get install chromium)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--disable-dev-shm-usage", "--window-size=1200,1600"]

PROBE = """<script>window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var out = document.createElement('pre'); out.id = 'geomcheck-probe';
  out.textContent = JSON.stringify({count: imgs.length, widths: imgs.map(function (i) { return i.naturalWidth; }),
                                    text: document.body.innerText.length});
  document.body.appendChild(out);
});</script></body>"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    pytest.importorskip("matplotlib")
    tmp = tmp_path_factory.mktemp("report")
    toy_inputs(tmp / "in.npz", layers=(0, 1))
    path = tmp / "study.html"
    code = main(["study", TOY.format(act="gelu", layer="{layer}"), "--inputs", str(tmp / "in.npz"),
                 "--sizes", "2,2,6", "--rotation-samples", "64", "--report", str(path), "--json", "--no-progress"])
    assert code == 0
    return path


def _chromium(args, tmp_path):
    return subprocess.run([BROWSER, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_report_renders_and_is_not_blank(report, tmp_path):
    shot = tmp_path / "shot.png"
    _chromium([f"--screenshot={shot}", report.as_uri()], tmp_path)
    assert shot.is_file(), "chromium wrote no screenshot"
    import matplotlib.image as mpimg

    pixels = mpimg.imread(str(shot))
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1000
    rgb = pixels[..., :3].reshape(-1, 3)
    assert np.ptp(rgb, axis=0).max() > 0.5              # not one colour: text and figures are drawn
    dark = (rgb.mean(axis=1) < 0.5).mean()
    assert 0.005 < dark < 0.5                             # some ink, not a black page


def test_report_images_load_in_the_browser(report, tmp_path):
    probed = tmp_path / "probed.html"
    probed.write_text(report.read_text(encoding="utf-8").replace("</body>", PROBE, 1), encoding="utf-8")
    result = _chromium(["--virtual-time-budget=5000", "--dump-dom", probed.as_uri()], tmp_path)
    match = re.search(r"<pre id=\"geomcheck-probe\">(.*?)</pre>", result.stdout, re.S)
    assert match, f"no probe output from chromium (stderr: {result.stderr[-500:]})"
    data = json.loads(match.group(1).replace("&quot;", '"'))
    assert data["count"] == 4 and all(w > 0 for w in data["widths"])
    assert data["text"] > 2000  # the tables and the answer are on the page
