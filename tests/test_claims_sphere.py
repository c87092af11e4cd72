"""The sphere claim runners: right expectations hold, wrong ones are refuted."""

from __future__ import annotations

from geomcheck.claims import run_claim


def test_sphere_arcs_runner():
    claim = {"name": "t/arcs", "type": "sphere-arcs", "model": "toy:circle3", "expect": {"arcs": 8, "regions": 8}}
    assert run_claim(claim).status == "proved"
    assert run_claim(dict(claim, expect={"arcs": 7})).status == "refuted"


def test_sphere_arcs_parallel_lines(tmp_path):
    import json

    model = {"format": "geomcheck.mlp/1", "norm": {"kind": "layernorm", "eps": "0"}, "activation": "relu",
             "w_in": [["1", "-1", "0"], ["1", "-1", "0"]], "b_in": ["1", "-1"],
             "w_out": [["1", "1"], ["0", "1"], ["1", "0"]], "b_out": ["0", "0", "0"]}
    path = tmp_path / "parallel.json"
    path.write_text(json.dumps(model))
    # w̃ = (1, −1, 0), ‖w̃‖² = 2, b = ±1: both lines z1 − z2 = ∓1 cut the circle (1 < 3·2)
    claim = {"name": "t/par", "type": "sphere-arcs", "model": str(path), "expect": {"arcs": 4, "regions": 3}}
    assert run_claim(claim).status == "proved"


def test_sphere_regions_and_gap_runners():
    regions = {"name": "t/reg", "type": "sphere-regions", "model": "toy:sphere4", "expect": {"regions": 22}}
    assert run_claim(regions).status == "proved"
    assert run_claim(dict(regions, expect={"regions": 21})).status == "refuted"
    gap = {"name": "t/gap", "type": "sphere-gap", "model": "toy:circle3", "pattern": "+++-",
           "expect": {"sphere": False, "space": True}}
    assert run_claim(gap).status == "proved"
    assert run_claim(dict(gap, expect={"sphere": True})).status == "refuted"
