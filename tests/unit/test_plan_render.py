"""Plan and configuration rendering: pure data, checked without root or radios."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from testbed import topology
from testbed.errors import TopologyError
from testbed.plan import channel_freq, make_plan
from testbed.render import render_text, render_to
from testbed.pki import generate


def test_plan_of_shipped_topology() -> None:
    plan = make_plan(topology.load("two-ap-same-ds"))
    assert plan.nodes == {"aaa": "aaa", "ap1": "ap", "ap2": "ap", "sta1": "station"}
    assert [(a.node, a.freq, str(a.aaa_ip)) for a in plan.aps] == [("ap1", 2412, "10.0.0.10"),
                                                                  ("ap2", 2437, "10.0.0.10")]
    sta = plan.station("sta1")
    assert sta.scan_freqs == [2412, 2437] and sta.ssid == "mihsec"
    assert plan.aaa[0].clients == [("ap1", "10.0.0.1"), ("ap2", "10.0.0.2")]
    assert len({w.port for w in plan.wired}) == 3  # switch ports have distinct names
    assert all(len(w.port) <= 15 for w in plan.wired)


def test_secrets_are_fresh_per_plan() -> None:
    t = topology.load("two-ap-same-ds")
    a, b = make_plan(t), make_plan(t)
    assert a.radius_secret != b.radius_secret and len(a.radius_secret) == 32
    assert a.station("sta1").password != b.station("sta1").password


def test_aaa_on_other_subnet_is_refused(tmp_path: Path) -> None:
    text = Path(topology.TOPOLOGIES_DIR / "two-ap-same-ds.yaml").read_text().replace("10.0.0.10/24", "10.9.0.10/24")
    (tmp_path / "t.yaml").write_text(text)
    with pytest.raises(TopologyError, match="access point .ap1. cannot reach .aaa. .10.9.0.10.: no subnet or route in common"):
        make_plan(topology.load(tmp_path / "t.yaml"))


@pytest.mark.parametrize("ch,freq", [(1, 2412), (6, 2437), (11, 2462), (14, 2484), (36, 5180), (149, 5745)])
def test_channel_freq(ch: int, freq: int) -> None:
    assert channel_freq(ch) == freq


def test_hostapd_conf(tmp_path: Path) -> None:
    plan = make_plan(topology.load("two-ap-same-ds"))
    out = render_to("hostapd.conf.j2", tmp_path / "ap.conf", ap=plan.ap("ap2"), driver="nl80211", ctrl_dir="/c",
                    verbose=False, radius_port=1812, radius_secret=plan.radius_secret, extra_lines=["x=1"],
                    country=None)
    lines = out.read_text().splitlines()
    for want in ("interface=wlan0", "bridge=br0", "channel=6", "wpa_key_mgmt=WPA-EAP", "rsn_pairwise=CCMP",
                 "auth_server_addr=10.0.0.10", f"auth_server_shared_secret={plan.radius_secret}", "x=1"):
        assert want in lines
    assert "rsn_preauth=1" not in lines
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_wpa_supplicant_conf_tls_and_peap(tmp_path: Path) -> None:
    plan = make_plan(topology.load("two-ap-same-ds"))
    sta = plan.station("sta1")
    pki = generate(tmp_path / "pki", "aaa.test", [sta.identity])
    cert, key = pki.clients[sta.identity]
    tls = render_text("wpa_supplicant.conf.j2", sta=sta, ctrl_dir="/c", pki=pki, client_cert=cert, client_key=key,
                      extra_lines=[])
    assert "eap=TLS" in tls and f'private_key="{key}"' in tls and "password" not in tls
    assert "scan_freq=2412 2437" in tls and "disabled=1" in tls
    sta.networks[0].profile = plan.topology.security["corp-peap"]
    peap = render_text("wpa_supplicant.conf.j2", sta=sta, ctrl_dir="/c", pki=pki, client_cert=None,
                       client_key=None, extra_lines=[])
    assert "eap=PEAP" in peap and f'password="{sta.password}"' in peap and 'phase2="auth=MSCHAPV2"' in peap


def test_missing_template_value_is_an_error() -> None:
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        render_text("hostapd.conf.j2", driver="nl80211")
