"""Topology files: valid ones load, broken ones are refused with file:line, field and problem."""
from __future__ import annotations

from pathlib import Path

import pytest

from testbed import topology
from testbed.errors import TopologyError

GOOD = (Path(__file__).parents[2] / "topologies" / "two-ap-same-ds.yaml").read_text()


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "t.yaml"
    p.write_text(text)
    return p


def test_shipped_topology_loads() -> None:
    t = topology.load("two-ap-same-ds")
    assert set(t.nodes) == {"aaa", "ap1", "ap2", "sta1"}
    assert {n.role for n in t.nodes.values()} == {"aaa", "ap", "station"}
    assert t.nodes["ap2"].wireless[0].channel == 6


def test_unknown_name_lists_shipped(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match=r"unknown topology 'nope'.*shipped: .*two-ap-same-ds"):
        topology.load("nope")


@pytest.mark.parametrize("old,new,expect", [
    ("channel: 6", "channel: six", r":35: nodes\.ap2\.wireless\.0\.channel: .*integer"),
    ("channel: 6", "channel: 6, chanel: 5", r":35: nodes\.ap2\.wireless\.0\.chanel: Extra inputs"),
    ("role: aaa", "role: wizard", r":23: nodes\.aaa: Input tag 'wizard'.*'station', 'ap'"),
    ("{node: ap2, switch: ds", "{node: ap9, switch: ds", r":45: links\.2\.node: unknown node 'ap9'"),
    ("{node: ap2, switch: ds", "{node: ap2, switch: dz", r":45: links\.2\.switch: unknown switch 'dz'"),
    ("ip: 10.0.0.2/24", "ip: 10.0.0.1/24", r":45: links\.2\.ip: address 10\.0\.0\.1 is already used by link 1"),
    ("ssid: mihsec, channel: 6, security: corp-tls", "ssid: mihsec, channel: 6, security: corp-x",
     r"nodes\.ap2\.wireless\.0\.security: unknown security profile 'corp-x'"),
    ("    aaa: aaa\n  corp-peap", "    aaa: ap1\n  corp-peap", r"security\.corp-tls\.aaa: 'ap1' is not an AAA node"),
    ("ip: 10.0.0.2/24", "ip: 10.0.0.2/33", r"links\.2\.ip"),
    # 5495 MHz would pass a formula; no 20 MHz channel 99 exists
    ("channel: 6", "channel: 99", r":35: nodes\.ap2\.wireless\.0\.channel: .*channel 99 is not an IEEE 802\.11"),
    ("channel: 6", "channel: 0", r":35: nodes\.ap2\.wireless\.0\.channel: .*channel 0 is not"),
    ("channel: 6", "channel: 36", r":35: nodes\.ap2\.wireless\.0\.channel: channel 36 is 5 GHz: set the "
                                  r"topology's `country`"),
])
def test_broken_topologies_name_line_field_problem(tmp_path: Path, old: str, new: str, expect: str) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(TopologyError, match=expect) as e:
        topology.load(path)
    assert str(e.value).startswith(str(path))
    assert "\n" not in str(e.value)


def test_ap_without_backhaul_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace("  - {node: ap2, switch: ds, name: eth0, ip: 10.0.0.2/24}\n", "")
    with pytest.raises(TopologyError, match=r"nodes\.ap2: ap 'ap2' has no wired link"):
        topology.load(write(tmp_path, text))


def test_not_yaml(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match=r"t\.yaml:4: not valid YAML"):
        topology.load(write(tmp_path, "name: x\nnodes:\n  a: [\n"))


def test_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match="must be a YAML mapping"):
        topology.load(write(tmp_path, "- 1\n- 2\n"))


def test_link_needs_exactly_one_end(tmp_path: Path) -> None:
    text = GOOD.replace("{node: ap2, switch: ds,", "{node: ap2, switch: ds, peer: ap1,")
    with pytest.raises(TopologyError, match=r"links\.2: .*exactly one of `switch` or `peer`"):
        topology.load(write(tmp_path, text))


@pytest.mark.parametrize("node, field", [
    ("n1: {role: pos, security: corp-tls}", "security"),
    ("n1: {role: nas, security: corp-tls, positon: [0, 0, 0]}", "positon"),
])
def test_errors_under_pos_and_nas_nodes_name_the_field(tmp_path: Path, node: str, field: str) -> None:
    """The union tag of every role is dropped from the path, not only those of the first roles."""
    text = GOOD.replace("nodes:\n", f"nodes:\n  {node}\n", 1)
    with pytest.raises(TopologyError, match=rf":23: nodes\.n1\.{field}: Extra inputs") as e:
        topology.load(write(tmp_path, text))
    assert ".pos." not in str(e.value) and ".nas." not in str(e.value)
