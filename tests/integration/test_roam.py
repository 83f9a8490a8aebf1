"""The foundation scenario on real radios, checked by independent witnesses: tshark on the hwsim0
capture, FreeRADIUS's decision log, and the daemons' own PMKSA caches."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from testbed import capture, topology
from testbed.net import Network
from testbed.plan import make_plan
from testbed.scenarios import roam

from .conftest import assert_nothing_left, mihsec


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    import os

    root = Path(os.environ.get("MIHSEC_TEST_RESULTS") or tmp_path_factory.mktemp("r"))
    results = root / "roam-api"
    plan = make_plan(topology.load("two-ap-same-ds"))
    with Network(plan, results) as net:
        steps = roam.run(net)
        sta = net.stations["sta1"]
        out = {
            "steps": steps, "results": results, "sta": sta.mac, "identity": sta.plan.identity,
            "bssid": {n: a.bssid for n, a in net.aps.items()},
            "pmks": {e[0]: e[2] for e in sta.wpas.pmksa_get(0)},  # BSSID -> PMK, from wpa_supplicant
            "ap1_pmksa": net.aps["ap1"].hostapd.pmksa(),
            "decisions": net.aaa["aaa"].accepts(),
            "secret": plan.radius_secret,
            "logs": sorted(net.logs.iterdir()),
        }
    out["after"] = None
    assert_nothing_left()
    return out


def test_steps_use_the_expected_authentication(run: dict) -> None:
    connect, roam_, back = run["steps"]
    assert [s.target for s in run["steps"]] == ["ap1", "ap2", "ap1"]
    assert connect.eap_ran and roam_.eap_ran, "first contact with each AP must run full EAP"
    assert not back.eap_ran, "the roam back must reuse the PMKSA cached at the first connection"
    assert {s.key_mgmt for s in run["steps"]} == {"WPA2/IEEE 802.1X/EAP"}
    assert all(s.total_ms > 0 and s.key_ms is not None for s in run["steps"])


def test_air_shows_eap_tls_and_four_way_handshakes(run: dict) -> None:
    frames = capture.read_frames(run["results"] / "hwsim0.pcap")
    seen = capture.handovers(frames, run["sta"])
    assert [a.bssid for a in seen] == [run["bssid"]["ap1"], run["bssid"]["ap2"], run["bssid"]["ap1"]]
    connect, roam_, back = seen
    for a in (connect, roam_):
        assert a.eap_tls_frames >= 4, a  # EAP-TLS handshake on the air
        assert {1, 2, 3, 4} <= set(a.key_msgs), a
    assert back.eap_frames == 0, back  # PMKSA caching: no EAP at all
    assert {1, 2, 3, 4} <= set(back.key_msgs), back


def test_freeradius_accepted_both_aps(run: dict) -> None:
    accepts = [d for d in run["decisions"] if d.accepted]
    assert [(d.user, d.client) for d in accepts] == [(run["identity"], "10.0.0.1"), (run["identity"], "10.0.0.2")]
    assert all(d.station.lower().replace("-", ":") == run["sta"] for d in accepts)


def test_pmksa_caches_agree(run: dict) -> None:
    assert set(run["pmks"]) == {run["bssid"]["ap1"], run["bssid"]["ap2"]}
    assert any(run["sta"] in line for line in run["ap1_pmksa"])


def test_no_secret_in_logs(run: dict) -> None:
    secrets = list(run["pmks"].values()) + [run["secret"]]
    assert all(len(s) >= 32 for s in secrets)
    for log in run["logs"]:
        text = log.read_text(errors="replace")
        for s in secrets:
            assert s not in text, f"a secret appears in {log}"
        assert (log.stat().st_mode & 0o077) == 0, f"{log} is readable by others"


def test_cli_main_job(tmp_path: Path) -> None:
    """What `make testbed` runs: the table, summary.json, and nothing left afterwards."""
    results = tmp_path / "cli"
    r = mihsec("roam", "two-ap-same-ds", "--runtime", "native", "--results", str(results))
    assert r.returncode == 0, r.stderr
    for word in ("connect", "roam back", "Access-Accepts: 2", str(results / "hwsim0.pcap")):
        assert word in r.stdout
    summary = json.loads((results / "summary.json").read_text())
    assert [s["eap_ran"] for s in summary["steps"]] == [True, True, False]
    assert summary["steps"][2]["air"] is not None, summary
    assert summary["steps"][2]["air"]["eap_frames"] == 0
    assert_nothing_left()
