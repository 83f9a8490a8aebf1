"""The topology file's `medium:` and `mobility:`: what the plan carries, and bad input refused with file:line."""
from __future__ import annotations

from pathlib import Path

import pytest

from testbed import topology
from testbed.errors import TopologyError
from testbed.plan import make_plan

GOOD = (Path(__file__).parents[2] / "topologies" / "medium-two-ap.yaml").read_text()


def load(tmp_path: Path, text: str) -> topology.Topology:
    p = tmp_path / "t.yaml"
    p.write_text(text)
    return topology.load(p)


def test_plan_carries_the_medium() -> None:
    m = make_plan(topology.load("medium-two-ap")).medium
    assert m is not None and m.propagation == {"model": "logDistance", "exp": 3} and m.noise_th == -91
    assert [(r.node, r.position, r.txpower, r.antennaGain) for r in m.radios] == [
        ("ap1", (0, 0, 0), 14, 5), ("ap2", (400, 0, 0), 14, 5), ("sta1", (10, 0, 0), 14, 5)]
    cfg = m.config({"ap1": "02:00:00:00:00:00", "ap2": "02:00:00:00:01:00", "sta1": "02:00:00:00:02:00"})
    assert cfg["radios"][2]["mac"] == "02:00:00:00:02:00" and cfg["area"]["max_x"] == 500


def test_no_medium_section_no_medium() -> None:
    assert make_plan(topology.load("two-ap-same-ds")).medium is None


def test_per_radio_values_and_mobility(tmp_path: Path) -> None:
    text = GOOD.replace("  area: {min_x: 0", "  radios:\n    sta1: {txpower: 10, antennaHeight: 2}\n  area: {min_x: 0")
    text = text.replace("    serving: ap1\n", "    serving: ap1\n    mobility: {model: RandomWalk, max_v: 2, seed: 4}\n")
    m = make_plan(load(tmp_path, text)).medium
    sta = m.radios[2]
    assert (sta.txpower, sta.antennaGain, sta.antennaHeight) == (10, 5, 2)
    assert sta.mobility == {"model": "RandomWalk", "max_v": 2, "seed": 4}


@pytest.mark.parametrize("old,new,expect", [
    ("{model: logDistance, exp: 3}", "{model: cost231}", r":16: medium\.propagation: .*unknown propagation model 'cost231'"),
    ("{model: logDistance, exp: 3}", "{model: logDistance, exp: 30}",
     r":16: medium\.propagation: .*logDistance\.exp = 30 is out of range \[1, 8\]"),
    ("noise_th: -91", "noise_th: -20", r":17: medium\.noise_th: .*less than or equal to -40"),
    ("txpower: 14", "txpower: 99", r":18: medium\.txpower: .*less than or equal to 40"),
    ("position: [10, 0, 0]", "position: [10, 600, 0]",
     r":37: nodes\.sta1\.position: station 'sta1' at \[10\.0, 600\.0, 0\.0\] is outside the declared area"),
    ("    serving: ap1\n", "    serving: ap1\n    mobility: {model: Levy}\n",
     r":39: nodes\.sta1\.mobility: .*unknown mobility model 'Levy'"),
    ("    serving: ap1\n", "    serving: ap1\n    mobility: {model: GaussMarkov, alpha: 3}\n",
     r":39: nodes\.sta1\.mobility: .*GaussMarkov\.alpha = 3 is out of range"),
    ("    serving: ap1\n", "    serving: ap1\n    mobility:\n      model: waypoints\n      points:\n"
     "        - {position: [20, 0, 0], time: 5}\n        - {position: [900, 0, 0], speed: 2}\n",
     r":43: nodes\.sta1\.mobility\.points\.1: waypoint \[900\.0, 0\.0, 0\.0\] is outside the declared area"),
    ("  area: {min_x: 0, min_y: 0, max_x: 500, max_y: 500}\n", "  radios: {aaa: {txpower: 3}}\n",
     r":20: medium\.radios\.aaa: 'aaa' is not a node with a radio"),
    ("    position: [400, 0, 0]\n", "", r":30: nodes\.ap2: ap 'ap2' needs a `position`"),
])
def test_bad_medium_input(tmp_path: Path, old: str, new: str, expect: str) -> None:
    assert old in GOOD
    with pytest.raises(TopologyError, match=expect):
        load(tmp_path, GOOD.replace(old, new))


def test_mobility_needs_medium_and_area(tmp_path: Path) -> None:
    no_medium = GOOD.split("medium:\n")[0] + "nodes:" + GOOD.split("\nnodes:", 1)[1]
    with pytest.raises(TopologyError, match=r"nodes\.sta1\.mobility: mobility needs a `medium:` section"):
        load(tmp_path, no_medium.replace("    serving: ap1\n", "    serving: ap1\n    mobility: {model: RandomWalk}\n"))
    no_area = GOOD.replace("  area: {min_x: 0, min_y: 0, max_x: 500, max_y: 500}\n", "")
    with pytest.raises(TopologyError, match=r"nodes\.sta1\.mobility: RandomWalk needs `medium.area`"):
        load(tmp_path, no_area.replace("    serving: ap1\n", "    serving: ap1\n    mobility: {model: RandomWalk}\n"))
