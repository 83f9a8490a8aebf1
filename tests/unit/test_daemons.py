"""The control-interface wrappers against a real hostapd (driver=none: no radio needed on the host)."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from node_agents.ctrl import CtrlSocket
from node_agents.hostap import HostapdCtrl
from testbed.daemons.wpa import Hostapd
from testbed.errors import DaemonError


def _conf(tmp_path: Path, extra: str = "") -> Path:
    conf = tmp_path / "hostapd.conf"
    conf.write_text(f"driver=none\ninterface=as0\nctrl_interface={tmp_path / 'ctrl'}\n{extra}")
    return conf


@pytest.fixture
def hostapd(tmp_path: Path):
    h = Hostapd("as", netns=None, conf=_conf(tmp_path), ctrl_dir=tmp_path / "ctrl", ifname="as0",
                log=tmp_path / "hostapd.log", local_dir=tmp_path)
    h.start(timeout=15)
    yield h
    h.stop()
    assert not h.running


def test_request_and_status(hostapd: Hostapd) -> None:
    assert hostapd.request("PING").strip() == "PONG"
    assert "state" in hostapd.status()
    assert hostapd.request("NO_SUCH_COMMAND").strip() == "UNKNOWN COMMAND"


def test_ok_raises_on_fail_without_echoing_arguments(hostapd: Hostapd) -> None:
    with pytest.raises(DaemonError) as e:
        hostapd.ok("PMKSA_ADD 02:00:00:00:00:01 00112233 deadbeefsecret 10 1")
    assert "PMKSA_ADD answered 'FAIL'" in str(e.value) and "deadbeefsecret" not in str(e.value)


def test_wait_event_sees_events_and_times_out(hostapd: Hostapd) -> None:
    hostapd.mark()
    # hostapd echoes a monitor event when asked to log one: "LOG_LEVEL" does not, RELOG does not; use DISABLE.
    threading.Timer(0.2, lambda: hostapd.request("DISABLE")).start()
    ev = hostapd.wait_event(["AP-DISABLED", "INTERFACE-DISABLED", "CTRL-EVENT-TERMINATING"], timeout=10)
    assert ev.mono > 0 and ev.text
    with pytest.raises(DaemonError, match="timed out after 0.3 s waiting for NEVER-EVENT"):
        hostapd.wait_event(["NEVER-EVENT"], timeout=0.3)


def test_drop_sta_of_an_unknown_station_sends_nothing(hostapd: Hostapd) -> None:
    assert not hostapd.lists("02:00:00:00:00:09")
    assert hostapd.drop_sta("02:00:00:00:00:09", wait=True)


def test_the_agents_control_client_works_on_the_same_socket(hostapd: Hostapd) -> None:
    """What an agent uses (no process wrapper): the same actions over the daemon's socket path."""
    with HostapdCtrl(hostapd.ctrl_path, "hostapd", hostapd.local_dir) as h:
        assert h.status()["state"] == hostapd.status()["state"]
        with pytest.raises(DaemonError, match="PMKSA_ADD answered 'FAIL'"):
            h.pmksa_add(sta="02:00:00:00:00:01", pmkid="00112233", pmk="deadbeef")
    with pytest.raises(DaemonError, match="not started"):
        h.request("PING")


def test_bad_option_names_cause_and_log(tmp_path: Path) -> None:
    h = Hostapd("ap9", netns=None, conf=_conf(tmp_path, "bogus_option=1\n"), ctrl_dir=tmp_path / "ctrl",
                ifname="as0", log=tmp_path / "h.log", local_dir=tmp_path)
    with pytest.raises(DaemonError) as e:
        h.start(timeout=15)
    msg = str(e.value)
    assert msg.startswith("hostapd ap9: exited with status 1: ")
    assert "unknown configuration item 'bogus_option'" in msg and str(tmp_path / "h.log") in msg
    assert "\n" not in msg and not h.running


def test_missing_executable_is_named(tmp_path: Path) -> None:
    from testbed.daemons.base import Daemon

    d = Daemon("thing", None, ["/nonexistent/mihsec-daemon"], tmp_path / "x.log")
    with pytest.raises(DaemonError, match="executable not found: /nonexistent/mihsec-daemon"):
        d.start(lambda: True)


def test_unreachable_socket(tmp_path: Path) -> None:
    with pytest.raises(DaemonError, match="control socket .* unreachable"):
        CtrlSocket(tmp_path / "nothing", "x", tmp_path)
    assert not [p for p in os.listdir(tmp_path) if p.startswith("mihsec_ctrl_")]  # local socket cleaned up
