"""Each shipped heterogeneous topology comes up with real daemons, its agents answer over MIH, the MN
reaches the correspondent host through its serving link, netem delay is what the file says, and 802.1X
on the wired port really authenticates; nothing is left afterwards."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from testbed import topology
from testbed.net import Network
from testbed.plan import make_plan

from .conftest import assert_nothing_left


def ping(ns: str, dst: str, count: int = 5) -> list[float]:
    r = subprocess.run(["ip", "netns", "exec", ns, "ping", "-n", "-c", str(count), "-i", "0.2", "-W", "3", dst],
                       capture_output=True, text=True)
    assert r.returncode == 0, f"ping {dst} from {ns} failed:\n{r.stdout}{r.stderr}"
    return [float(x) for x in re.findall(r"time=([\d.]+) ms", r.stdout)]


def all_agents_healthy(net: Network) -> None:
    assert net.agents, "no agent deployed"
    for node, agent in net.agents.items():
        h = agent.health()
        assert h["ok"] and h["node"] == node
        bad = {p: r for p, r in h["peers"].items() if not r["ok"]}
        assert not bad, f"agent {node} cannot reach {bad}"
    roles = {a.health(peers=False)["role"] for a in net.agents.values()}
    assert {"mn", "poa", "pos"} <= roles


@pytest.mark.parametrize("name", ["two-domain-wlan", "wired-to-wlan", "campus"])
def test_topology_comes_up(name: str, results_dir: Path) -> None:
    topo = topology.load(name)
    plan = make_plan(topo)
    with Network(plan, results_dir / name) as net:
        procs, mib = net.footprint()
        print(f"\n{name}: bring-up {net.timings['bring_up']:.1f} s, {procs} processes, {mib} MiB RSS")
        all_agents_healthy(net)
        mn = next(iter(net.stations), None) or "mn"
        if "cn" in topo.nodes:
            cn_ip = str(plan.node_ip("cn").ip)
            ping(net.ns(mn), cn_ip, 3)  # through the serving link (wireless or 802.1X wired)
        if name != "campus":
            # the WAN link to the home AAA server adds 2 x delay_ms to the RTT from the core router
            wan = next(l for l in topo.links if l.peer == "aaa")
            rtt = min(ping(net.ns("core"), str(wan.peer_ip.ip), 6))
            base = min(ping(net.ns("core"), str(plan.node_ip("cn").ip), 6))
            print(f"{name}: RTT core->aaa {rtt:.2f} ms (file: 2 x {wan.delay_ms:g} ms), core->cn {base:.2f} ms")
            assert 2 * wan.delay_ms <= rtt <= 2 * wan.delay_ms + max(5.0, 3 * base)
        if name == "wired-to-wlan":
            rad = net.aaa["aaa"]
            mac = subprocess.run(["ip", "netns", "exec", net.ns("mn"), "cat", "/sys/class/net/eth0/address"],
                                 capture_output=True, text=True).stdout.strip()
            d = rad.wait_decision("mn@mihsec.test")
            assert d.accepted and d.client == "10.1.0.2", d
            assert d.station.lower().replace("-", ":") == mac
            port_log = (net.logs / "nasa-eth0.hostapd.log").read_text()
            assert "CTRL-EVENT-EAP-SUCCESS" in port_log or "authorizing port" in port_log
            assert net.wired["mn"].status().get("suppPortStatus") == "Authorized"
        if name == "campus":
            for sta in net.stations.values():
                st = sta.wpas.status()
                assert st["wpa_state"] == "COMPLETED" and st["bssid"] == net.aps[sta.plan.serving].bssid
    assert_nothing_left()
