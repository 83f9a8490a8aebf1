"""Failures end in one clear line and leave nothing behind: a daemon that cannot start, a SIGKILLed run,
and the PEAP profile working where it should."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testbed import topology
from testbed.errors import DaemonError, SetupError
from testbed.net import Network
from testbed.plan import make_plan
from testbed.scenarios import roam
from testbed.state import STATE_ROOT

from .conftest import assert_nothing_left, leftovers, mihsec


def test_bad_hostapd_option_names_cause_and_log(tmp_path: Path) -> None:
    plan = make_plan(topology.load("two-ap-same-ds"))
    net = Network(plan, tmp_path / "bad", extra_conf={"ap2": ["bogus_option=1"]})
    with pytest.raises(DaemonError) as e:
        net.start()
    msg = str(e.value)
    assert msg.startswith("hostapd ap2: exited with status 1: ")
    assert "unknown configuration item 'bogus_option'" in msg
    assert str(tmp_path / "bad" / "logs" / "ap2.hostapd.log") in msg and "\n" not in msg
    assert_nothing_left()


def test_channel_the_regulatory_domain_forbids(tmp_path: Path) -> None:
    """Country DE is put in force from wireless-regdb; channel 52 needs radar detection there: refused with the
    channel and the cause before any daemon starts (hostapd would otherwise sit in a 60 s channel check)."""
    text = (topology.TOPOLOGIES_DIR / "two-ap-same-ds.yaml").read_text().replace("channel: 6", "channel: 52")
    path = tmp_path / "dfs.yaml"
    path.write_text("country: DE\n" + text)
    net = Network(make_plan(topology.load(path)), tmp_path / "dfs")
    with pytest.raises(SetupError, match=r"ap2: channel 52 \(5260 MHz\) is not allowed for an AP in regulatory "
                                         r"domain DE: .*radar detection"):
        net.start()
    assert not (tmp_path / "dfs" / "logs" / "ap2.hostapd.log").exists()  # refused before hostapd started
    assert_nothing_left()
    assert subprocess.run(["iw", "reg", "get"], capture_output=True, text=True).stdout.split("global", 1)[-1] \
        .lstrip().startswith("country DE:")


def test_peap_profile(tmp_path: Path) -> None:
    text = (topology.TOPOLOGIES_DIR / "two-ap-same-ds.yaml").read_text().replace("security: corp-tls",
                                                                                 "security: corp-peap")
    path = tmp_path / "peap.yaml"
    path.write_text(text)
    plan = make_plan(topology.load(path))
    with Network(plan, tmp_path / "peap") as net:
        steps = roam.run(net)
        decisions = net.aaa["aaa"].accepts()
        password = plan.station("sta1").password
        logs = list(net.logs.iterdir())
    assert [s.eap_ran for s in steps] == [True, True, False]
    assert sum(d.accepted for d in decisions) == 2
    assert not any(password in p.read_text(errors="replace") for p in logs)
    assert_nothing_left()


def _wait_for(pred, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_sigkill_midway_then_down(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "testbed", "roam", "--runtime", "native", "--results",
                             str(tmp_path / "killed")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def daemons_up() -> bool:
        for st in STATE_ROOT.glob("*/state.json"):
            if any(p["exe"] == "wpa_supplicant" for p in json.loads(st.read_text())["processes"]):
                return True
        return False

    try:
        _wait_for(daemons_up, 120)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    left = leftovers()
    assert left["namespaces"] and left["processes"] and left["state"], left  # the kill really left things
    r = mihsec("down")
    assert r.returncode == 0, r.stderr
    assert "namespace mh" in r.stdout and "removed" in r.stdout
    assert_nothing_left()
    again = mihsec("down")
    assert "nothing left to remove" in again.stdout


def test_sigterm_tears_down(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "testbed", "roam", "--runtime", "native", "--results",
                             str(tmp_path / "term")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: any(STATE_ROOT.glob("*/ctrl")), 120)
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert_nothing_left()

