"""The Python API (mihsec.Network) builds the same validated model as the topology files."""
from __future__ import annotations

from pathlib import Path

import pytest

import mihsec.live
from mihsec import MihsecError, Network, TopologyError
from mihsec.handover import resolve
from testbed import TOPOLOGIES_DIR, topology
from testbed.errors import SetupError

SHIPPED = sorted(p.stem for p in TOPOLOGIES_DIR.glob("*.yaml"))


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_topology_round_trips(name: str, tmp_path: Path) -> None:
    original = topology.load(name)
    net = Network.from_yaml(name)
    assert net.topology() == original
    path = tmp_path / f"{name}.yaml"
    net.to_yaml(path)
    assert topology.load(path) == original  # through the YAML loader again: the same model
    assert Network.from_yaml(path).to_yaml() == net.to_yaml()
    assert set(net.nodes) == set(original.nodes)


def two_ap_same_ds() -> Network:
    """topologies/two-ap-same-ds.yaml as a Mininet-WiFi user would write it."""
    net = Network("two-ap-same-ds", description="two APs, one DS bridge, FreeRADIUS behind it, one station")
    net.addSecurity("corp-tls", akm="WPA-EAP", eap="TLS", aaa="aaa")
    net.addSecurity("corp-peap", akm="WPA-EAP", eap="PEAP", aaa="aaa")
    ds = net.addSwitch("ds")
    aaa = net.addAAA("aaa")
    ap1 = net.addAccessPoint("ap1", ssid="mihsec", channel=1, security="corp-tls", position="0,0,0")
    ap2 = net.addAccessPoint("ap2", ssid="mihsec", channel="6", security="corp-tls", position=(40, 0, 0))
    net.addStation("sta1", security="corp-tls", identity="sta1@mihsec.test", ip="10.0.0.100/24", position="10,5,0")
    for node, ip in ((aaa, "10.0.0.10/24"), (ap1, "10.0.0.1/24"), (ap2, "10.0.0.2/24")):
        net.addLink(node, ds, intf="eth0", ip=ip)
    return net


def test_api_builds_the_same_model_as_the_file() -> None:
    built = two_ap_same_ds().topology()
    assert built.model_copy(update={"version": 1}) == topology.load("two-ap-same-ds")


def test_node_objects_and_positions() -> None:
    net = two_ap_same_ds()
    sta = net["sta1"]
    assert sta.position == (10.0, 5.0, 0.0) and net["ap2"].channel == 6 and net["ap1"].ssid == "mihsec"
    sta.setPosition("12,5")
    assert net.topology().nodes["sta1"].position == (12.0, 5.0, 0.0)
    assert [s.name for s in net.stations] == ["sta1"] and [a.name for a in net.aps] == ["ap1", "ap2"]
    with pytest.raises(KeyError, match="no node 'sta9'"):
        net["sta9"]


def test_add_link_station_to_ap_sets_the_serving_ap() -> None:
    net = two_ap_same_ds()
    net.addLink("sta1", "ap2")
    assert net.topology().nodes["sta1"].serving == "ap2"
    assert len(net.topology().links) == 3


@pytest.mark.parametrize("call, expect", [
    (lambda n: n.addStation("STA1"), r"station 'STA1': name: String should match pattern"),
    (lambda n: n.addStation("sta2", security="corp-tls", identity="x", ip="10.0.0.300/24"),
     r"station 'sta2': wireless.0.ip: Input is not a valid IPv4 interface"),
    (lambda n: n.addAccessPoint("ap3", ssid="x", channel=200, security="corp-tls"),
     r"ap 'ap3': wireless.0.channel: Value error, channel 200 is not an IEEE 802.11 20 MHz channel"),
    (lambda n: n.addLink("ap1", "ds", delay_ms=-5), r"addLink\('ap1', 'ds'\): delay_ms: .*greater than or equal"),
    (lambda n: n.addHost("ap1"), r"'ap1': the name is already used by a node"),
    (lambda n: n.addSwitch("sta1"), r"'sta1': the name is already used by a node"),
    (lambda n: n.addStation("sta2", position="1,2,x"), r"position '1,2,x': expected 'x,y,z'"),
    (lambda n: n.addSecurity("corp-tls", aaa="aaa"), r"a profile of that name exists"),
    (lambda n: n.addSecurity("wpa3", aaa="aaa", akm="SAE"), r"addSecurity\('wpa3'\): akm: Input should be"),
])
def test_bad_calls_fail_at_the_call(call, expect: str) -> None:
    with pytest.raises(TopologyError, match=expect):
        call(two_ap_same_ds())


@pytest.mark.parametrize("change, expect", [
    (lambda n: n.addStation("sta2", security="nope", identity="a"),
     "network 'two-ap-same-ds': nodes.sta2.wireless.0.security: unknown security profile 'nope'"),
    (lambda n: n.addAccessPoint("ap3", ssid="mihsec", channel=11, security="corp-tls"),
     "network 'two-ap-same-ds': nodes.ap3: ap 'ap3' has no wired link (it needs a backhaul)"),
    (lambda n: n.addLink("aaa", "ds", ip="10.0.0.1/24"), "address 10.0.0.1 is already used by link 1 (ap1)"),
    (lambda n: n.addLink("sta1", "nowhere"), "links.3.peer: unknown node 'nowhere'"),
])
def test_cross_reference_errors_are_the_loaders(change, expect: str) -> None:
    net = two_ap_same_ds()
    change(net)
    with pytest.raises(TopologyError) as e:
        net.build()
    assert expect in str(e.value)
    with pytest.raises(TopologyError):
        net.to_yaml()


def test_running_calls_need_a_started_network() -> None:
    net = two_ap_same_ds()
    for call in (lambda: net["sta1"].cmd("true"), lambda: net["sta1"].wpa("STATUS"),
                 lambda: net["ap1"].hostapd("STA-FIRST"), lambda: net.handover("sta1", "ap2")):
        with pytest.raises(MihsecError, match="not running: call net.start"):
            call()


def test_start_without_radios_says_where_to_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(mihsec.live, "hwsim_usable", lambda: (False, "no module"))
    net = Network.from_yaml("two-ap-same-ds", results=tmp_path / "r")
    with pytest.raises(SetupError, match=r"no mac80211_hwsim \(no module\): .*`mihsec run "):
        with net:
            pass
    assert not net.running and not (tmp_path / "r").exists()


def test_scheme_names() -> None:
    assert resolve("full") == "full_eap_tls" and resolve("pmksa") == "pmksa_cache" and resolve("mih_eap") == "mih_eap"
    with pytest.raises(MihsecError, match="unknown handover scheme 'fast'.*pmksa_cache"):
        resolve("fast")


def test_mihsec_run_passes_args_results_and_status(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = tmp_path / "s.py"
    script.write_text("import os, sys\nprint(os.environ['MIHSEC_RESULTS'], sys.argv[1:])\nsys.exit(3)\n")
    r = subprocess.run([sys.executable, "-m", "testbed", "run", "--runtime", "native", "--results",
                        str(tmp_path / "res"), str(script), "a", "--b"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 3 and r.stdout.strip() == f"{tmp_path / 'res'} ['a', '--b']", r
    assert (tmp_path / "res").is_dir() and "s.py exited with status 3" in r.stderr
    r = subprocess.run([sys.executable, "-m", "testbed", "run", str(tmp_path / "missing.py")], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "no such script" in r.stderr


def test_console_node_names_become_addresses() -> None:
    from mihsec.console import with_addresses

    ips = {"aaa": "10.0.0.10", "sta1": "10.0.0.100", "cn": None}
    assert with_addresses("ping -c 1 aaa", ips) == "ping -c 1 10.0.0.10"
    assert with_addresses("iw dev wlan0 link; ping sta1", ips) == "iw dev wlan0 link; ping 10.0.0.100"
    # not inside other words, paths, options or addresses; a node without an address stays a name
    assert with_addresses("cat /tmp/aaa aaa.log aaa-x --aaa ping cn", ips) == "cat /tmp/aaa aaa.log aaa-x --aaa ping cn"
